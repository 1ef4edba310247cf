/* test-xdg-cache.c: the freedesktop thumbnail cache, filled by real workers.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * host/thumbnails/wp-xdg-cache.c against the Thumbnail Managing Standard:
 * names, modes, the PNG and its keys, validity, failure entries, the
 * Cache1 operations, and `workpool thumbnail --xdg-cache`.  The jobs run
 * in the built worker with the built thumbnail plugin
 * ($WORKPOOL_WORKER, $WORKPOOL_PLUGIN_DIR), sandboxed as the service's.
 */

#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>

#include "wp-test-util.h"
#include "wp-xdg-cache.h"

typedef struct {
  char       *dir;     /* the images */
  char       *root;    /* the cache's thumbnails folder */
  WpXdgCache *cache;
  WpPool     *pool;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("wp-xdg-cache-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->root = g_build_filename (fixture->dir, "cache", "thumbnails", NULL);
  fixture->cache = wp_xdg_cache_new (fixture->root);
  fixture->pool = wp_pool_new (NULL, 2, &error);
  g_assert_no_error (error);
  wp_pool_set_sandbox (fixture->pool, WP_SANDBOX_STRICT);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->pool);
  wp_xdg_cache_free (fixture->cache);
  wp_test_remove_tree (fixture->dir);
  g_free (fixture->root);
  g_free (fixture->dir);
}

/* An RGB JPEG of @width x @height at @name in the fixture's folder. */
static char *
write_image (Fixture    *fixture,
             const char *name,
             int         width,
             int         height)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (fixture->dir, name, NULL);

  gdk_pixbuf_fill (pixbuf, 0x3080c0ff);
  gdk_pixbuf_save (pixbuf, path, "jpeg", &error, NULL);
  g_assert_no_error (error);
  return path;
}

static void
on_done (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
  g_main_context_wakeup (NULL);
}

/* Runs a cache job and waits for it. */
static gboolean
thumbnail (Fixture     *fixture,
           const char  *path,
           guint        flavors,
           GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  wp_xdg_cache_thumbnail_async (fixture->cache, fixture->pool, path, flavors, 0,
                                G_PRIORITY_DEFAULT, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return wp_xdg_cache_thumbnail_finish (fixture->cache, result, error);
}

static char *
md5_name (const char *uri)
{
  g_autofree char *md5 = g_compute_checksum_for_string (G_CHECKSUM_MD5, uri, -1);

  return g_strconcat (md5, ".png", NULL);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* The names in @folder, sorted, joined by spaces. */
static char *
list_folder (const char *folder)
{
  g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static void
assert_mode (const char *path,
             guint       mode)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 07777, ==, mode);
}

static void
test_names (void)
{
  g_autoptr(WpXdgCache) cache = wp_xdg_cache_new ("/c/thumbnails");
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = g_filename_to_uri ("/home/me/Photos/été 1.jpg", NULL, NULL);
  g_autofree char *path = wp_xdg_cache_get_path (cache, uri, WP_XDG_FLAVOR_X_LARGE);
  g_autofree char *fail_path = wp_xdg_cache_get_fail_path (cache, uri);
  g_autofree char *name = md5_name (uri);
  g_autofree char *want_path = g_build_filename ("/c/thumbnails/x-large", name, NULL);
  g_autofree char *want_fail = g_build_filename ("/c/thumbnails/fail/workpool-" WP_VERSION,
                                                 name, NULL);
  WpXdgFlavor flavor;

  g_test_summary ("entries are named by the MD5 of the URI as g_filename_to_uri() "
                  "escapes it, in the flavor's folder or fail/workpool-VERSION");

  g_assert_cmpstr (uri, ==, "file:///home/me/Photos/%C3%A9t%C3%A9%201.jpg");
  g_assert_cmpstr (path, ==, want_path);
  g_assert_cmpstr (fail_path, ==, want_fail);

  g_assert_cmpint (wp_xdg_flavor_get_size (WP_XDG_FLAVOR_NORMAL), ==, 128);
  g_assert_cmpint (wp_xdg_flavor_get_size (WP_XDG_FLAVOR_LARGE), ==, 256);
  g_assert_cmpint (wp_xdg_flavor_get_size (WP_XDG_FLAVOR_X_LARGE), ==, 512);
  g_assert_cmpint (wp_xdg_flavor_get_size (WP_XDG_FLAVOR_XX_LARGE), ==, 1024);
  g_assert_true (wp_xdg_flavor_from_name ("xx-large", &flavor));
  g_assert_cmpint (flavor, ==, WP_XDG_FLAVOR_XX_LARGE);
  g_assert_false (wp_xdg_flavor_from_name ("huge", &flavor));
  g_assert_cmpuint (wp_xdg_flavors_parse ("normal,large", &error), ==,
                    WP_XDG_FLAVOR_BIT (WP_XDG_FLAVOR_NORMAL) | WP_XDG_FLAVOR_BIT (WP_XDG_FLAVOR_LARGE));
  g_assert_no_error (error);
  g_assert_cmpuint (wp_xdg_flavors_parse ("normal,huge", &error), ==, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "“huge”"));

  g_assert_true (wp_xdg_cache_contains (cache, "/c/thumbnails/normal/a.png"));
  g_assert_true (wp_xdg_cache_contains (cache, "/c/thumbnails/../thumbnails/a.png"));
  g_assert_false (wp_xdg_cache_contains (cache, "/c/thumbnailsx/a.png"));
}

static void
test_mtime_forms (void)
{
  g_test_summary ("Thumb::MTime matches as an integer and in Tumbler's fractional form");

  g_assert_true (wp_xdg_mtime_matches ("1700000000", 1700000000));
  g_assert_true (wp_xdg_mtime_matches ("1700000000.296950", 1700000000));
  g_assert_false (wp_xdg_mtime_matches ("1700000001", 1700000000));
  g_assert_false (wp_xdg_mtime_matches ("1700000000x", 1700000000));
  g_assert_false (wp_xdg_mtime_matches ("-1700000000", -1700000000));
  g_assert_false (wp_xdg_mtime_matches ("", 0));
  g_assert_false (wp_xdg_mtime_matches (NULL, 0));
}

static void
test_write (Fixture       *fixture,
            gconstpointer  data)
{
  /* Named .txt: the MIME type comes from the content. */
  g_autofree char *image = write_image (fixture, "a photo.txt", 600, 400);
  g_autofree char *uri = g_filename_to_uri (image, NULL, NULL);
  g_autofree char *name = md5_name (uri);
  g_autofree char *normal = g_build_filename (fixture->root, "normal", name, NULL);
  g_autofree char *large = g_build_filename (fixture->root, "large", name, NULL);
  g_autofree char *normal_folder = g_build_filename (fixture->root, "normal", NULL);
  g_autofree char *listing = NULL;
  g_autofree char *mtime = NULL;
  g_autofree char *size = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GHashTable) text = NULL;
  g_autoptr(GError) error = NULL;
  GStatBuf st;

  g_test_summary ("a job writes each flavor as the standard says: 0600 RGBA PNG files "
                  "in 0700 folders, with URI, MTime, Size, MIME type and Software");

  g_assert_true (thumbnail (fixture, image, WP_XDG_FLAVOR_BIT (WP_XDG_FLAVOR_NORMAL)
                                            | WP_XDG_FLAVOR_BIT (WP_XDG_FLAVOR_LARGE), &error));
  g_assert_no_error (error);

  assert_mode (fixture->root, 0700);
  assert_mode (normal_folder, 0700);
  assert_mode (normal, 0600);
  assert_mode (large, 0600);
  listing = list_folder (normal_folder);
  g_assert_cmpstr (listing, ==, name);
  g_clear_pointer (&listing, g_free);
  listing = list_folder (fixture->root);
  g_assert_cmpstr (listing, ==, "large normal");

  pixbuf = gdk_pixbuf_new_from_file (large, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, 256);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, 171);
  g_assert_true (gdk_pixbuf_get_has_alpha (pixbuf));
  g_clear_object (&pixbuf);
  pixbuf = gdk_pixbuf_new_from_file (normal, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, 128);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, 85);

  g_assert_cmpint (g_stat (image, &st), ==, 0);
  mtime = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) st.st_mtime);
  size = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) st.st_size);
  text = wp_xdg_png_read_text (normal, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (text, "Thumb::URI"), ==, uri);
  g_assert_cmpstr (g_hash_table_lookup (text, "Thumb::MTime"), ==, mtime);
  g_assert_cmpstr (g_hash_table_lookup (text, "Thumb::Size"), ==, size);
  g_assert_cmpstr (g_hash_table_lookup (text, "Thumb::Mimetype"), ==, "image/jpeg");
  g_assert_cmpstr (g_hash_table_lookup (text, "Thumb::Image::Width"), ==, "600");
  g_assert_cmpstr (g_hash_table_lookup (text, "Thumb::Image::Height"), ==, "400");
  g_assert_cmpstr (g_hash_table_lookup (text, "Software"), ==, "workpool " WP_VERSION);

  g_assert_cmpint (wp_xdg_cache_lookup (fixture->cache, uri, st.st_mtime, WP_XDG_FLAVOR_NORMAL),
                   ==, WP_XDG_ENTRY_VALID);
  g_assert_cmpint (wp_xdg_cache_lookup (fixture->cache, uri, st.st_mtime, WP_XDG_FLAVOR_X_LARGE),
                   ==, WP_XDG_ENTRY_MISSING);
  g_assert_cmpint (wp_xdg_cache_lookup (fixture->cache, uri, st.st_mtime + 1, WP_XDG_FLAVOR_NORMAL),
                   ==, WP_XDG_ENTRY_MISSING);
  g_assert_cmpuint (wp_xdg_cache_get_missing (fixture->cache, image, WP_XDG_ALL_FLAVORS), ==,
                    WP_XDG_FLAVOR_BIT (WP_XDG_FLAVOR_X_LARGE)
                    | WP_XDG_FLAVOR_BIT (WP_XDG_FLAVOR_XX_LARGE));
}

static void
test_failure_entry (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *image = write_image (fixture, "b.jpg", 300, 200);
  g_autofree char *uri = g_filename_to_uri (image, NULL, NULL);
  g_autofree char *normal = wp_xdg_cache_get_path (fixture->cache, uri, WP_XDG_FLAVOR_NORMAL);
  g_autofree char *fail_path = wp_xdg_cache_get_fail_path (fixture->cache, uri);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GHashTable) text = NULL;
  g_autoptr(GError) error = NULL;
  struct utimbuf times = { 1600000000, 1600000000 };
  GStatBuf st;

  g_test_summary ("an image that cannot be thumbnailed gets a failure entry, honoured "
                  "until it changes, and its existing thumbnail is not deleted");

  g_assert_true (thumbnail (fixture, image, WP_XDG_FLAVOR_BIT (WP_XDG_FLAVOR_NORMAL), &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (normal, &before, NULL, NULL));

  g_assert_true (g_file_set_contents (image, "not an image at all", -1, NULL));
  g_assert_cmpint (utime (image, &times), ==, 0);
  g_assert_false (thumbnail (fixture, image, WP_XDG_FLAVOR_BIT (WP_XDG_FLAVOR_NORMAL), &error));
  g_assert_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_UNKNOWN_TYPE);
  g_clear_error (&error);

  g_assert_true (g_file_get_contents (normal, &after, NULL, NULL));
  g_assert_cmpstr (before, ==, after);
  assert_mode (fail_path, 0600);
  text = wp_xdg_png_read_text (fail_path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (text, "Thumb::URI"), ==, uri);
  g_assert_cmpstr (g_hash_table_lookup (text, "Thumb::MTime"), ==, "1600000000");
  g_assert_cmpint (wp_xdg_cache_lookup (fixture->cache, uri, 1600000000, WP_XDG_FLAVOR_NORMAL),
                   ==, WP_XDG_ENTRY_FAILED);
  g_assert_cmpuint (wp_xdg_cache_get_missing (fixture->cache, image, WP_XDG_ALL_FLAVORS), ==, 0);

  /* Changed: tried again. */
  times.modtime = 1600000001;
  g_assert_cmpint (utime (image, &times), ==, 0);
  g_assert_cmpint (g_stat (image, &st), ==, 0);
  g_assert_cmpuint (wp_xdg_cache_get_missing (fixture->cache, image,
                                              WP_XDG_FLAVOR_BIT (WP_XDG_FLAVOR_NORMAL)), ==,
                    WP_XDG_FLAVOR_BIT (WP_XDG_FLAVOR_NORMAL));
}

static void
test_nothing_written (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *missing = g_build_filename (fixture->dir, "missing.jpg", NULL);
  g_autofree char *unreadable = write_image (fixture, "secret.jpg", 40, 30);
  g_autofree char *inside = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("a missing or unreadable file gets nothing written, not even a failure "
                  "entry, and a file inside the cache is refused");

  g_assert_false (thumbnail (fixture, missing, WP_XDG_ALL_FLAVORS, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);

  /* Not a permission test as root: a FIFO cannot be thumbnailed either. */
  g_unlink (unreadable);
  g_assert_cmpint (mkfifo (unreadable, 0600), ==, 0);
  g_assert_false (thumbnail (fixture, unreadable, WP_XDG_ALL_FLAVORS, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (g_file_test (fixture->root, G_FILE_TEST_EXISTS));

  g_assert_cmpint (g_mkdir_with_parents (fixture->root, 0700), ==, 0);
  inside = g_build_filename (fixture->root, "normal", "x.png", NULL);
  g_assert_false (thumbnail (fixture, inside, WP_XDG_ALL_FLAVORS, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "thumbnail cache"));
  g_clear_error (&error);

  /* Through a link from outside, too. */
  {
    g_autofree char *image = write_image (fixture, "real.jpg", 40, 30);
    g_autofree char *normal = g_build_filename (fixture->root, "normal", NULL);
    g_autofree char *cached = g_build_filename (normal, "y.png", NULL);
    g_autofree char *link = g_build_filename (fixture->dir, "link.jpg", NULL);

    g_assert_cmpint (g_mkdir_with_parents (normal, 0700), ==, 0);
    g_assert_cmpint (g_rename (image, cached), ==, 0);
    g_assert_cmpint (symlink (cached, link), ==, 0);
    g_assert_true (wp_xdg_cache_contains (fixture->cache, link));
    g_assert_false (thumbnail (fixture, link, WP_XDG_ALL_FLAVORS, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_move_copy_delete (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *image = write_image (fixture, "c.jpg", 300, 200);
  g_autofree char *moved = g_build_filename (fixture->dir, "d.jpg", NULL);
  g_autofree char *copied = g_build_filename (fixture->dir, "e.jpg", NULL);
  g_autofree char *uri = g_filename_to_uri (image, NULL, NULL);
  g_autofree char *moved_uri = g_filename_to_uri (moved, NULL, NULL);
  g_autofree char *copied_uri = g_filename_to_uri (copied, NULL, NULL);
  g_autofree char *old_path = wp_xdg_cache_get_path (fixture->cache, uri, WP_XDG_FLAVOR_LARGE);
  g_autofree char *dir_uri = g_filename_to_uri (fixture->dir, NULL, NULL);
  const char *base_uris[] = { dir_uri, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  GStatBuf st;

  g_test_summary ("Move carries the entries over with the new Thumb::URI, Copy keeps "
                  "the old ones, Delete removes them, Cleanup removes those of files gone");

  g_assert_true (thumbnail (fixture, image, WP_XDG_FLAVOR_BIT (WP_XDG_FLAVOR_LARGE), &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (image, &st), ==, 0);

  g_assert_cmpint (g_rename (image, moved), ==, 0);
  g_assert_true (wp_xdg_cache_move (fixture->cache, uri, moved_uri, FALSE, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (old_path, G_FILE_TEST_EXISTS));
  g_assert_cmpint (wp_xdg_cache_lookup (fixture->cache, moved_uri, st.st_mtime,
                                        WP_XDG_FLAVOR_LARGE), ==, WP_XDG_ENTRY_VALID);
  {
    g_autofree char *path = wp_xdg_cache_get_path (fixture->cache, moved_uri,
                                                   WP_XDG_FLAVOR_LARGE);

    /* Still a PNG every reader takes: the chunk's CRC is right. */
    pixbuf = gdk_pixbuf_new_from_file (path, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (gdk_pixbuf_get_option (pixbuf, "tEXt::Thumb::URI"), ==, moved_uri);
    assert_mode (path, 0600);
  }

  g_assert_true (wp_xdg_cache_move (fixture->cache, moved_uri, copied_uri, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (wp_xdg_cache_lookup (fixture->cache, moved_uri, st.st_mtime,
                                        WP_XDG_FLAVOR_LARGE), ==, WP_XDG_ENTRY_VALID);
  g_assert_cmpint (wp_xdg_cache_lookup (fixture->cache, copied_uri, st.st_mtime,
                                        WP_XDG_FLAVOR_LARGE), ==, WP_XDG_ENTRY_VALID);

  /* e.jpg does not exist: Cleanup removes its entry, not d.jpg's. */
  g_assert_cmpuint (wp_xdg_cache_cleanup (fixture->cache, base_uris, 0), ==, 1);
  g_assert_cmpint (wp_xdg_cache_lookup (fixture->cache, copied_uri, st.st_mtime,
                                        WP_XDG_FLAVOR_LARGE), ==, WP_XDG_ENTRY_MISSING);
  g_assert_cmpint (wp_xdg_cache_lookup (fixture->cache, moved_uri, st.st_mtime,
                                        WP_XDG_FLAVOR_LARGE), ==, WP_XDG_ENTRY_VALID);

  wp_xdg_cache_delete (fixture->cache, moved_uri);
  g_assert_cmpint (wp_xdg_cache_lookup (fixture->cache, moved_uri, st.st_mtime,
                                        WP_XDG_FLAVOR_LARGE), ==, WP_XDG_ENTRY_MISSING);
}

/* Runs `workpool thumbnail ARGS` with the cache under @fixture; returns
 * its stdout, checks its exit status. */
static char *
run_cli (Fixture     *fixture,
         int          want_status,
         const char  *first_arg,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *cache_home = g_build_filename (fixture->dir, "cache", NULL);
  g_auto(GStrv) envp = g_environ_setenv (g_get_environ (), "XDG_CACHE_HOME", cache_home, TRUE);
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  g_autofree char *err = NULL;
  int status;
  va_list args;

  g_ptr_array_add (argv, (gpointer) g_getenv ("WORKPOOL_CLI"));
  g_ptr_array_add (argv, "thumbnail");
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  g_test_message ("stderr: %s", err);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, want_status);
  return out;
}

static void
test_cli (Fixture       *fixture,
          gconstpointer  data)
{
  g_autofree char *photos = g_build_filename (fixture->dir, "photos", NULL);
  g_autofree char *a = NULL, *b = NULL, *bad = NULL;
  g_autofree char *out = NULL;
  g_autofree char *bad_uri = NULL;
  g_autofree char *fail_path = NULL;

  g_test_summary ("workpool thumbnail --xdg-cache fills the cache for a tree, skips what "
                  "is valid or failed on a second run, and refuses --sizes");

  g_assert_cmpint (g_mkdir (photos, 0755), ==, 0);
  a = write_image (fixture, "photos/a.jpg", 800, 600);
  b = write_image (fixture, "photos/b.jpg", 100, 300);
  bad = g_build_filename (photos, "bad.jpg", NULL);
  g_assert_true (g_file_set_contents (bad, "\xff\xd8 nothing more", -1, NULL));

  out = run_cli (fixture, 1, "--quiet", "--xdg-cache=normal,x-large", photos, NULL);
  g_assert_cmpstr (out, ==, "");
  g_clear_pointer (&out, g_free);
  {
    g_autofree char *normal = g_build_filename (fixture->root, "normal", NULL);
    g_autofree char *x_large = g_build_filename (fixture->root, "x-large", NULL);
    g_autofree char *a_uri = g_filename_to_uri (a, NULL, NULL);
    g_autofree char *b_uri = g_filename_to_uri (b, NULL, NULL);
    g_autofree char *a_name = md5_name (a_uri);
    g_autofree char *b_name = md5_name (b_uri);
    g_autofree char *want = g_strcmp0 (a_name, b_name) < 0
                              ? g_strjoin (" ", a_name, b_name, NULL)
                              : g_strjoin (" ", b_name, a_name, NULL);
    g_autofree char *normal_list = list_folder (normal);
    g_autofree char *x_large_list = list_folder (x_large);

    g_assert_cmpstr (normal_list, ==, want);
    g_assert_cmpstr (x_large_list, ==, want);
  }
  bad_uri = g_filename_to_uri (bad, NULL, NULL);
  fail_path = wp_xdg_cache_get_fail_path (fixture->cache, bad_uri);
  g_assert_true (g_file_test (fail_path, G_FILE_TEST_IS_REGULAR));

  out = run_cli (fixture, 0, "--xdg-cache=normal,x-large", photos, NULL);
  g_assert_true (g_str_has_prefix (out, "3 images, 0 thumbnails written, 3 skipped, 0 failed"));
  g_clear_pointer (&out, g_free);

  out = run_cli (fixture, 0, "--xdg-cache=large", photos, NULL);
  g_assert_true (g_str_has_prefix (out, "3 images, 2 thumbnails written, 1 skipped, 0 failed"));
  g_clear_pointer (&out, g_free);

  out = run_cli (fixture, 2, "--xdg-cache", "--sizes", "64x64", photos, NULL);
  g_clear_pointer (&out, g_free);
}

#define ADD(path, func) \
  g_test_add ((path), Fixture, NULL, fixture_set_up, (func), fixture_tear_down)

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/xdg-cache/names", test_names);
  g_test_add_func ("/xdg-cache/mtime-forms", test_mtime_forms);
  ADD ("/xdg-cache/write", test_write);
  ADD ("/xdg-cache/failure-entry", test_failure_entry);
  ADD ("/xdg-cache/nothing-written", test_nothing_written);
  ADD ("/xdg-cache/move-copy-delete", test_move_copy_delete);
  ADD ("/xdg-cache/cli", test_cli);

  return g_test_run ();
}
