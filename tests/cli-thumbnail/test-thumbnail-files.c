/* test-thumbnail-files.c: the host's side of write_fds jobs, on real files.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * wp-thumbnail-files.c opens an image, creates the thumbnails' files and
 * names or discards them; the tests play the worker by writing into the
 * descriptors of the job's fd list, as the plugin's write_fds does, and
 * look at the folders with plain system calls.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "wp-thumbnail-files.h"

typedef struct {
  char *dir;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("wp-thumbnail-files-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR)
              && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  remove_tree (fixture->dir);
  g_free (fixture->dir);
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
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  GDir *dir = g_dir_open (folder, 0, &error);
  const char *name;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_dir_close (dir);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static char *
add_file (const char *folder,
          const char *name,
          const char *contents)
{
  char *path = g_build_filename (folder, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  return path;
}

static void
assert_contents (const char *path,
                 const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, expected);
}

/* Plays the worker: writes @contents into output @i of a job's args. */
static void
write_output (GVariant    *args,
              GUnixFDList *fd_list,
              guint        i,
              const char  *contents)
{
  g_autoptr(GVariant) outputs = g_variant_get_child_value (args, 1);
  gint32 handle, width, height;
  gsize length = strlen (contents);

  g_variant_get_child (outputs, i, "(hii)", &handle, &width, &height);
  g_assert_cmpint (pwrite (g_unix_fd_list_peek_fds (fd_list, NULL)[handle], contents,
                           length, 0), ==, (gssize) length);
}

/* The files of a job of @source with one output, @destination under
 * @base, and their args and fd list. */
static WpThumbnailFiles *
job_new (const char          *source,
         const char          *base,
         const char          *destination,
         WpAtomicFileFlags    flags,
         GVariant           **args,
         GUnixFDList        **fd_list)
{
  g_autoptr(WpThumbnailFiles) files = NULL;
  g_autoptr(GError) error = NULL;

  files = wp_thumbnail_files_new (source, &error);
  g_assert_no_error (error);
  g_assert_true (wp_thumbnail_files_add_output (files, base, destination, 64, 48,
                                                flags | WP_ATOMIC_FILE_CREATE_PARENTS,
                                                &error));
  g_assert_no_error (error);
  *args = g_variant_ref_sink (wp_thumbnail_files_build_args (files, NULL, fd_list, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&files);
}

static void
test_args (Fixture       *fixture,
           gconstpointer  data)
{
  g_autofree char *source = add_file (fixture->dir, "a.jpg", "image");
  g_autofree char *first = g_build_filename (fixture->dir, "t", "256", "a.jpg", NULL);
  g_autofree char *second = g_build_filename (fixture->dir, "t", "64", "a.jpg", NULL);
  g_autoptr(WpThumbnailFiles) files = NULL;
  g_autoptr(GUnixFDList) fd_list = NULL;
  g_autoptr(GVariant) args = NULL;
  g_autoptr(GError) error = NULL;
  const int *fds;
  char buffer[16];
  struct stat st;

  g_test_summary ("The args of a job are (ha(hii)a{sv}): the image, readable, then "
                  "each output, empty and writable, with its box, and the options");
  files = wp_thumbnail_files_new (source, &error);
  g_assert_no_error (error);
  g_assert_true (wp_thumbnail_files_add_output (files, fixture->dir, first, 256, 256,
                                                WP_ATOMIC_FILE_CREATE_PARENTS, &error));
  g_assert_true (wp_thumbnail_files_add_output (files, fixture->dir, second, 64, 32,
                                                WP_ATOMIC_FILE_CREATE_PARENTS, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (wp_thumbnail_files_get_n_outputs (files), ==, 2);
  args = g_variant_ref_sink (wp_thumbnail_files_build_args (files,
                                                            g_variant_new_parsed ("{'quality': <80>}"),
                                                            &fd_list, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (args), ==, "(ha(hii)a{sv})");
  g_assert_cmpint (g_unix_fd_list_get_length (fd_list), ==, 3);

  {
    g_autofree char *text = g_variant_print (args, FALSE);

    g_assert_cmpstr (text, ==, "(0, [(1, 256, 256), (2, 64, 32)], {'quality': <80>})");
  }
  fds = g_unix_fd_list_peek_fds (fd_list, NULL);
  g_assert_cmpint (pread (fds[0], buffer, sizeof buffer, 0), ==, 5);
  g_assert_cmpint (fstat (fds[1], &st), ==, 0);
  g_assert_true (S_ISREG (st.st_mode));
  g_assert_cmpint (st.st_size, ==, 0);
  g_assert_cmpint (write (fds[2], "x", 1), ==, 1);
}

static void
test_replace_atomically (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autofree char *source = add_file (fixture->dir, "a.jpg", "image");
  g_autofree char *folder = g_build_filename (fixture->dir, "thumbnails", NULL);
  g_autofree char *destination = g_build_filename (folder, "a.jpg", NULL);
  g_autofree char *old = NULL;
  g_autofree char *listing = NULL;
  g_autoptr(WpThumbnailFiles) files = NULL;
  g_autoptr(GUnixFDList) fd_list = NULL;
  g_autoptr(GVariant) args = NULL;
  g_autoptr(GError) error = NULL;
  struct stat before, after;
  guint committed = 0;
  mode_t mask;

  g_test_summary ("An output is an unnamed file in its folder until the job succeeds, "
                  "then replaces the old thumbnail atomically (a new inode at the name, "
                  "mode 0666 minus the umask), leaving no other file");
  g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
  old = add_file (folder, "a.jpg", "old thumbnail");
  g_assert_cmpint (stat (destination, &before), ==, 0);

  files = job_new (source, fixture->dir, destination, WP_ATOMIC_FILE_NONE, &args, &fd_list);
  listing = list_folder (folder);
  g_assert_cmpstr (listing, ==, "a.jpg");
  write_output (args, fd_list, 0, "new thumbnail");
  assert_contents (destination, "old thumbnail");

  g_assert_true (wp_thumbnail_files_commit (files, &committed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (committed, ==, 1);
  assert_contents (destination, "new thumbnail");
  g_assert_cmpint (stat (destination, &after), ==, 0);
  g_assert_true (after.st_ino != before.st_ino);
  mask = umask (0);
  umask (mask);
  g_assert_cmpint (after.st_mode & 0777, ==, 0666 & ~mask);
  g_clear_pointer (&listing, g_free);
  listing = list_folder (folder);
  g_assert_cmpstr (listing, ==, "a.jpg");
}

static void
test_failed_job (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autofree char *source = add_file (fixture->dir, "a.jpg", "image");
  g_autofree char *folder = g_build_filename (fixture->dir, "thumbnails", NULL);
  g_autofree char *destination = g_build_filename (folder, "a.jpg", NULL);
  g_autofree char *deep = g_build_filename (fixture->dir, "thumbnails", "64x64", "x", "a.jpg",
                                            NULL);
  g_autofree char *deep_folder = g_build_filename (fixture->dir, "thumbnails", "64x64", NULL);
  g_autofree char *old = NULL;
  g_autofree char *listing = NULL;
  GUnixFDList *fd_list = NULL;
  GVariant *args = NULL;
  WpThumbnailFiles *files;

  g_test_summary ("A job that fails leaves the old thumbnail as it was, no temporary "
                  "file and none of the folders its outputs would have needed");
  g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
  old = add_file (folder, "a.jpg", "old thumbnail");

  files = job_new (source, fixture->dir, destination, WP_ATOMIC_FILE_NONE, &args, &fd_list);
  write_output (args, fd_list, 0, "half a thu");
  g_clear_pointer (&args, g_variant_unref);
  g_clear_object (&fd_list);
  wp_thumbnail_files_free (files);

  files = job_new (source, fixture->dir, deep, WP_ATOMIC_FILE_NONE, &args, &fd_list);
  g_assert_false (g_file_test (deep_folder, G_FILE_TEST_EXISTS));
  write_output (args, fd_list, 0, "half a thu");
  g_clear_pointer (&args, g_variant_unref);
  g_clear_object (&fd_list);
  wp_thumbnail_files_free (files);

  assert_contents (destination, "old thumbnail");
  listing = list_folder (folder);
  g_assert_cmpstr (listing, ==, "a.jpg");
}

static void
test_missing_folders_at_commit (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autofree char *source = add_file (fixture->dir, "a.jpg", "image");
  g_autofree char *destination = g_build_filename (fixture->dir, "thumbnails", "64x64",
                                                   "a.jpg", NULL);
  g_autofree char *top = g_build_filename (fixture->dir, "thumbnails", NULL);
  g_autoptr(WpThumbnailFiles) files = NULL;
  g_autoptr(GUnixFDList) fd_list = NULL;
  g_autoptr(GVariant) args = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("The missing folders of an unnamed output are created when it is "
                  "named, not before");
  files = job_new (source, fixture->dir, destination, WP_ATOMIC_FILE_NONE, &args, &fd_list);
  g_assert_false (g_file_test (top, G_FILE_TEST_EXISTS));
  write_output (args, fd_list, 0, "thumbnail");
  g_assert_true (wp_thumbnail_files_commit (files, NULL, &error));
  g_assert_no_error (error);
  assert_contents (destination, "thumbnail");
}

static void
test_named_fallback (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *source = add_file (fixture->dir, "a.jpg", "image");
  g_autofree char *folder = g_build_filename (fixture->dir, "thumbnails", NULL);
  g_autofree char *destination = g_build_filename (folder, "a.jpg", NULL);
  g_autofree char *old = NULL;
  g_autofree char *listing = NULL;
  g_auto(GStrv) names = NULL;
  WpThumbnailFiles *files;
  GUnixFDList *fd_list = NULL;
  GVariant *args = NULL;
  GError *error = NULL;

  g_test_summary ("Where there is no O_TMPFILE (WP_ATOMIC_FILE_NO_O_TMPFILE stands "
                  "for such a file system), an output is a hidden temporary file, "
                  "renamed over the thumbnail on success and unlinked on failure");
  g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
  old = add_file (folder, "a.jpg", "old thumbnail");

  /* Failure: the temporary file is there while the job runs, then gone. */
  files = job_new (source, fixture->dir, destination, WP_ATOMIC_FILE_NO_O_TMPFILE,
                   &args, &fd_list);
  listing = list_folder (folder);
  names = g_strsplit (listing, " ", -1);
  g_test_message ("while the job runs: %s", listing);
  g_assert_cmpuint (g_strv_length (names), ==, 2);
  g_assert_true (wp_atomic_file_is_temp_name (names[0]));
  g_assert_cmpstr (names[1], ==, "a.jpg");
  write_output (args, fd_list, 0, "half");
  g_clear_pointer (&args, g_variant_unref);
  g_clear_object (&fd_list);
  wp_thumbnail_files_free (files);
  g_clear_pointer (&listing, g_free);
  listing = list_folder (folder);
  g_assert_cmpstr (listing, ==, "a.jpg");
  assert_contents (destination, "old thumbnail");

  /* Success: renamed over it. */
  files = job_new (source, fixture->dir, destination, WP_ATOMIC_FILE_NO_O_TMPFILE,
                   &args, &fd_list);
  write_output (args, fd_list, 0, "new thumbnail");
  g_assert_true (wp_thumbnail_files_commit (files, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&args, g_variant_unref);
  g_clear_object (&fd_list);
  wp_thumbnail_files_free (files);
  assert_contents (destination, "new thumbnail");
  g_clear_pointer (&listing, g_free);
  listing = list_folder (folder);
  g_assert_cmpstr (listing, ==, "a.jpg");
}

static void
test_fifo_source (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autofree char *fifo = g_build_filename (fixture->dir, "a.jpg", NULL);
  g_autofree char *expected = g_strdup_printf ("Failed to open “%s”: not a regular file "
                                               "but a FIFO (named pipe) or pipe", fifo);
  g_autofree char *folder_expected = g_strdup_printf ("Failed to open “%s”: not a regular "
                                                      "file but a folder", fixture->dir);
  g_autoptr(WpThumbnailFiles) files = NULL;
  g_autoptr(WpThumbnailFiles) folder = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) folder_error = NULL;

  g_test_summary ("An image that is a FIFO is refused at once, without waiting for a "
                  "writer, with an error naming it and what it is; so is a folder");
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  files = wp_thumbnail_files_new (fifo, &error);
  g_assert_null (files);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, expected);

  folder = wp_thumbnail_files_new (fixture->dir, &folder_error);
  g_assert_null (folder);
  g_assert_error (folder_error, G_FILE_ERROR, G_FILE_ERROR_ISDIR);
  g_assert_cmpstr (folder_error->message, ==, folder_expected);
}

static void
test_link_below_base (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *source = add_file (fixture->dir, "a.jpg", "image");
  g_autofree char *out = g_build_filename (fixture->dir, "out", NULL);
  g_autofree char *outside = g_build_filename (fixture->dir, "outside", NULL);
  g_autofree char *link = g_build_filename (out, "photos", NULL);
  g_autofree char *destination = g_build_filename (link, "thumbnails", "64x64", "a.jpg",
                                                   NULL);
  g_autofree char *expected = g_strdup_printf ("Failed to write “%s”: “%s” is a symbolic "
                                               "link, which is never followed when writing",
                                               destination, link);
  g_autofree char *listing = NULL;
  g_autoptr(WpThumbnailFiles) files = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("A symbolic link among the folders below the base (--output OUT) is "
                  "refused, naming it, and nothing is created where it points");
  g_assert_cmpint (g_mkdir (out, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (outside, 0755), ==, 0);
  g_assert_cmpint (symlink ("../outside", link), ==, 0);

  files = wp_thumbnail_files_new (source, &error);
  g_assert_no_error (error);
  g_assert_false (wp_thumbnail_files_add_output (files, out, destination, 64, 64,
                                                 WP_ATOMIC_FILE_CREATE_PARENTS, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_LOOP);
  g_assert_cmpstr (error->message, ==, expected);
  g_assert_cmpuint (wp_thumbnail_files_get_n_outputs (files), ==, 0);
  listing = list_folder (outside);
  g_assert_cmpstr (listing, ==, "");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/thumbnail-files/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("args", test_args);
  ADD ("replace-atomically", test_replace_atomically);
  ADD ("failed-job", test_failed_job);
  ADD ("missing-folders-at-commit", test_missing_folders_at_commit);
  ADD ("named-fallback", test_named_fallback);
  ADD ("fifo-source", test_fifo_source);
  ADD ("link-below-base", test_link_below_base);

#undef ADD

  return g_test_run ();
}
