/* wp-xdg-cache.c: the freedesktop thumbnail cache, read and filled through a pool.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Thumbnail Managing Standard (0.9), as `workpool thumbnail
 * --xdg-cache` and workpool-thumbnailer share it:
 *
 *   ROOT/{normal,large,x-large,xx-large}/MD5.png   boxes of 128 to 1024
 *   ROOT/fail/workpool-VERSION/MD5.png             failure entries
 *
 * ROOT is $XDG_CACHE_HOME/thumbnails unless given; MD5 the 32 hex digits
 * of the MD5 of the file's URI as g_filename_to_uri() escapes it.
 * Folders are created 0700 and files 0600, whatever the umask.
 *
 * Validity.  An entry is valid when its Thumb::URI is the file's URI and
 * its Thumb::MTime the file's mtime in whole seconds; the fractional
 * form Tumbler writes ("1700000000.296950") is read by its integer part.
 * Only the PNG's chunks up to the image data are read
 * (wp_xdg_png_read_text()).
 *
 * Filling.  wp_xdg_cache_thumbnail_async() opens the file itself
 * (wp-thumbnail-files.c: a regular file only, a FIFO never blocks),
 * takes its mtime and size from fstat() of that descriptor and its MIME
 * type from its first bytes (never from its name), creates each
 * flavor's new file in its folder and runs the thumbnail plugin's
 * write_fds job on the descriptors: the worker opens no path, so it can
 * run under WP_SANDBOX_STRICT.  When the job succeeds every file is
 * named at once, each replacing the old thumbnail atomically; when it
 * fails nothing of it remains.  Then:
 *
 *   - a file that is not readable (G_FILE_ERROR, before any job), a
 *     cancelled job, a pool that is closed or cannot start workers:
 *     nothing is written;
 *   - an image the plugin refuses (GDK_PIXBUF_ERROR: unknown, corrupt,
 *     too large) or that crashes or hangs its worker (the pool's
 *     WORKER_CRASHED, TIMED_OUT): a failure entry, honoured until the
 *     file changes;
 *   - an existing thumbnail is never deleted for an error.
 *
 * A file inside ROOT is never thumbnailed (G_IO_ERROR_INVALID_ARGUMENT).
 *
 * Cache1 operations (wp_xdg_cache_move(), _delete(), _cleanup()) keep
 * entries consistent when files move or go: a moved entry is rewritten
 * with its new Thumb::URI, since its old one would make it invalid.
 *
 * Not thread-safe: use a cache from one thread (its main context).
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gunixfdlist.h>

#include "wp-atomic-file.h"
#include "wp-format.h"
#include "wp-png.h"
#include "wp-thumbnail-files.h"
#include "wp-xdg-cache.h"

/* The bytes of a file the MIME type is guessed from. */
#define SNIFF_LENGTH 4096
/* Text chunks longer than this are not read (ours are under 4 KiB). */
#define MAX_TEXT_CHUNK 65536
/* Entries larger than this are not rewritten by a move. */
#define MAX_ENTRY_SIZE (64 * 1024 * 1024)

static const struct {
  const char *name;
  int         size;
} flavors[WP_XDG_N_FLAVORS] = {
  { "normal", 128 },
  { "large", 256 },
  { "x-large", 512 },
  { "xx-large", 1024 },
};

struct _WpXdgCache {
  char *root;
  char *fail_folder;
};

/* ---- flavors ------------------------------------------------------------ */

const char *
wp_xdg_flavor_get_name (WpXdgFlavor flavor)
{
  g_return_val_if_fail (flavor < WP_XDG_N_FLAVORS, NULL);

  return flavors[flavor].name;
}

int
wp_xdg_flavor_get_size (WpXdgFlavor flavor)
{
  g_return_val_if_fail (flavor < WP_XDG_N_FLAVORS, 0);

  return flavors[flavor].size;
}

gboolean
wp_xdg_flavor_from_name (const char  *name,
                         WpXdgFlavor *flavor)
{
  for (guint i = 0; i < WP_XDG_N_FLAVORS; i++)
    if (g_strcmp0 (name, flavors[i].name) == 0)
      {
        *flavor = i;
        return TRUE;
      }
  return FALSE;
}

/**
 * wp_xdg_flavors_parse:
 * @list: flavor names separated by commas: "normal,large"
 * @error: return location for an error
 *
 * Returns: the set of flavors (WP_XDG_FLAVOR_BIT), or 0 with @error set
 *   (G_IO_ERROR_INVALID_ARGUMENT naming the unknown flavor)
 */
guint
wp_xdg_flavors_parse (const char  *list,
                      GError     **error)
{
  g_auto(GStrv) names = g_strsplit (list, ",", -1);
  guint set = 0;

  for (gsize i = 0; names[i] != NULL; i++)
    {
      WpXdgFlavor flavor;

      if (!wp_xdg_flavor_from_name (g_strstrip (names[i]), &flavor))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Unknown thumbnail flavor “%s” (known: normal, large, x-large, xx-large)",
                       names[i]);
          return 0;
        }
      set |= WP_XDG_FLAVOR_BIT (flavor);
    }
  if (set == 0)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         "No thumbnail flavor given");
  return set;
}

/* ---- the cache's files -------------------------------------------------- */

/**
 * wp_xdg_cache_new:
 * @root: (nullable): the cache's folder, or %NULL for
 *   $XDG_CACHE_HOME/thumbnails
 *
 * Returns: (transfer full): a cache; nothing is created yet
 */
WpXdgCache *
wp_xdg_cache_new (const char *root)
{
  WpXdgCache *cache = g_new0 (WpXdgCache, 1);
  g_autofree char *fail_name = g_strdup_printf ("workpool-%s", WP_VERSION);

  if (root != NULL)
    cache->root = g_canonicalize_filename (root, NULL);
  else
    cache->root = g_build_filename (g_get_user_cache_dir (), "thumbnails", NULL);
  cache->fail_folder = g_build_filename (cache->root, "fail", fail_name, NULL);
  return cache;
}

void
wp_xdg_cache_free (WpXdgCache *cache)
{
  if (cache == NULL)
    return;
  g_free (cache->root);
  g_free (cache->fail_folder);
  g_free (cache);
}

const char *
wp_xdg_cache_get_root (WpXdgCache *cache)
{
  return cache->root;
}

static char *
entry_name (const char *uri)
{
  g_autofree char *md5 = g_compute_checksum_for_string (G_CHECKSUM_MD5, uri, -1);

  return g_strconcat (md5, ".png", NULL);
}

/**
 * wp_xdg_cache_get_path:
 * @cache: a cache
 * @uri: a file's URI
 * @flavor: a flavor
 *
 * Returns: (transfer full): where @uri's thumbnail of @flavor lies
 */
char *
wp_xdg_cache_get_path (WpXdgCache  *cache,
                       const char  *uri,
                       WpXdgFlavor  flavor)
{
  g_autofree char *name = entry_name (uri);

  g_return_val_if_fail (flavor < WP_XDG_N_FLAVORS, NULL);

  return g_build_filename (cache->root, flavors[flavor].name, name, NULL);
}

/**
 * wp_xdg_cache_get_fail_path:
 * @cache: a cache
 * @uri: a file's URI
 *
 * Returns: (transfer full): where @uri's failure entry lies
 */
char *
wp_xdg_cache_get_fail_path (WpXdgCache *cache,
                            const char *uri)
{
  g_autofree char *name = entry_name (uri);

  return g_build_filename (cache->fail_folder, name, NULL);
}

/**
 * wp_xdg_cache_contains:
 * @cache: a cache
 * @path: an absolute path
 *
 * Returns: whether @path lies in the cache's folder, as written or once
 *   its symbolic links (and the cache folder's) are resolved
 */
gboolean
wp_xdg_cache_contains (WpXdgCache *cache,
                       const char *path)
{
  g_autofree char *absolute = g_canonicalize_filename (path, NULL);
  g_autofree char *real_path = NULL;
  g_autofree char *real_root = NULL;

  if (wp_atomic_file_path_is_below (absolute, cache->root))
    return TRUE;
  real_path = realpath (absolute, NULL);
  real_root = realpath (cache->root, NULL);
  return real_path != NULL && real_root != NULL
         && wp_atomic_file_path_is_below (real_path, real_root);
}

/* Creates @folder and its parents, each new one 0700. */
static gboolean
ensure_folder (const char  *folder,
               GError     **error)
{
  int saved_errno;

  if (g_mkdir_with_parents (folder, 0700) == 0)
    return TRUE;

  saved_errno = errno;
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
               "Failed to create the thumbnail folder “%s”: %s", folder,
               g_strerror (saved_errno));
  return FALSE;
}

/* ---- reading entries ---------------------------------------------------- */

/**
 * wp_xdg_png_read_text:
 * @path: a PNG file
 * @error: return location for an error
 *
 * Reads the tEXt chunks of @path that come before its image data (where
 * the standard's keys are), checking nothing else of the image.
 *
 * Returns: (transfer full): keyword to value, or %NULL with @error set
 *   (G_FILE_ERROR for a file that cannot be read, G_IO_ERROR_INVALID_DATA
 *   for one that is not a PNG file)
 */
GHashTable *
wp_xdg_png_read_text (const char  *path,
                      GError     **error)
{
  static const guint8 signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_autoptr(GHashTable) text = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  guint8 head[8];
  off_t offset = 8;
  int fd, saved_errno;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Failed to open “%s”: %s", path, g_strerror (saved_errno));
      return NULL;
    }

  if (!wp_format_read_at (fd, head, 8, 0) || memcmp (head, signature, 8) != 0)
    goto invalid;

  for (;;)
    {
      guint32 length;

      if (!wp_format_read_at (fd, head, 8, (guint64) offset))
        goto invalid;
      length = (guint32) head[0] << 24 | head[1] << 16 | head[2] << 8 | head[3];
      if (length > G_MAXINT32)
        goto invalid;
      if (memcmp (head + 4, "IDAT", 4) == 0 || memcmp (head + 4, "IEND", 4) == 0)
        break;
      if (memcmp (head + 4, "tEXt", 4) == 0 && length <= MAX_TEXT_CHUNK)
        {
          g_autofree char *data = g_malloc (length + 1);
          gsize keyword_length;

          if (!wp_format_read_at (fd, (guint8 *) data, length, (guint64) offset + 8))
            goto invalid;
          data[length] = '\0';
          keyword_length = strnlen (data, length);
          /* tEXt is Latin-1; the standard's values are ASCII. */
          if (keyword_length < length)
            g_hash_table_replace (text, g_strdup (data),
                                  g_convert (data + keyword_length + 1,
                                             length - keyword_length - 1,
                                             "UTF-8", "ISO-8859-1", NULL, NULL, NULL));
        }
      offset += 12 + (off_t) length;
    }

  close (fd);
  return g_steal_pointer (&text);

invalid:
  close (fd);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "“%s” is not a PNG file with text chunks", path);
  return NULL;
}

/**
 * wp_xdg_mtime_matches:
 * @recorded: (nullable): a Thumb::MTime value
 * @mtime: a file's mtime, in seconds
 *
 * Returns: whether @recorded is @mtime, as an integer or in the
 *   fractional form Tumbler writes
 */
gboolean
wp_xdg_mtime_matches (const char *recorded,
                      gint64      mtime)
{
  const char *end = NULL;
  gint64 seconds;

  if (recorded == NULL || !g_ascii_isdigit (recorded[0]))
    return FALSE;
  errno = 0;
  seconds = g_ascii_strtoll (recorded, (char **) &end, 10);
  if (errno != 0)
    return FALSE;
  if (*end == '.')
    {
      end++;
      while (g_ascii_isdigit (*end))
        end++;
    }
  return *end == '\0' && seconds == mtime;
}

/* Whether the entry at @path records @uri as it was at @mtime. */
static gboolean
entry_is_valid (const char *path,
                const char *uri,
                gint64      mtime)
{
  g_autoptr(GHashTable) text = wp_xdg_png_read_text (path, NULL);

  return text != NULL
         && g_strcmp0 (g_hash_table_lookup (text, "Thumb::URI"), uri) == 0
         && wp_xdg_mtime_matches (g_hash_table_lookup (text, "Thumb::MTime"), mtime);
}

/**
 * wp_xdg_cache_lookup:
 * @cache: a cache
 * @uri: a file's URI
 * @mtime: the file's mtime, in seconds
 * @flavor: a flavor
 *
 * Returns: whether the cache holds a valid thumbnail of @flavor, or a
 *   valid failure entry, for @uri as it is
 */
WpXdgEntry
wp_xdg_cache_lookup (WpXdgCache  *cache,
                     const char  *uri,
                     gint64       mtime,
                     WpXdgFlavor  flavor)
{
  g_autofree char *path = wp_xdg_cache_get_path (cache, uri, flavor);
  g_autofree char *fail_path = NULL;

  if (entry_is_valid (path, uri, mtime))
    return WP_XDG_ENTRY_VALID;
  fail_path = wp_xdg_cache_get_fail_path (cache, uri);
  if (entry_is_valid (fail_path, uri, mtime))
    return WP_XDG_ENTRY_FAILED;
  return WP_XDG_ENTRY_MISSING;
}

/**
 * wp_xdg_cache_get_missing:
 * @cache: a cache
 * @path: a file
 * @flavors: a set of flavors
 *
 * Returns: the flavors of @flavors whose thumbnail of @path must be made:
 *   none when the file cannot be stat()ed (its job says why) or has a
 *   valid failure entry, else those without a valid thumbnail
 */
guint
wp_xdg_cache_get_missing (WpXdgCache *cache,
                          const char *path,
                          guint       flavors_wanted)
{
  g_autofree char *uri = g_filename_to_uri (path, NULL, NULL);
  struct stat st;
  guint missing = 0;

  if (uri == NULL || stat (path, &st) != 0)
    return flavors_wanted;

  for (guint i = 0; i < WP_XDG_N_FLAVORS; i++)
    {
      if (!(flavors_wanted & WP_XDG_FLAVOR_BIT (i)))
        continue;
      switch (wp_xdg_cache_lookup (cache, uri, st.st_mtime, i))
        {
        case WP_XDG_ENTRY_FAILED:
          return 0;
        case WP_XDG_ENTRY_MISSING:
          missing |= WP_XDG_FLAVOR_BIT (i);
          break;
        case WP_XDG_ENTRY_VALID:
          break;
        }
    }
  return missing;
}

/* ---- filling ------------------------------------------------------------ */

typedef struct {
  WpXdgCache       *cache;
  char             *path;
  char             *uri;
  gint64            mtime;
  WpThumbnailFiles *files;
} ThumbnailJob;

static void
thumbnail_job_free (ThumbnailJob *job)
{
  g_free (job->path);
  g_free (job->uri);
  g_clear_pointer (&job->files, wp_thumbnail_files_free);
  g_free (job);
}

/* The MIME type of the file open at @fd, from its first bytes. */
static char *
sniff_mime_type (int fd)
{
  guint8 data[SNIFF_LENGTH];
  gssize n;
  g_autofree char *content_type = NULL;
  char *mime_type;

  do
    n = pread (fd, data, sizeof data, 0);
  while (n < 0 && errno == EINTR);

  content_type = g_content_type_guess (NULL, data, MAX (n, 0), NULL);
  mime_type = g_content_type_get_mime_type (content_type);
  return mime_type != NULL ? mime_type : g_strdup ("application/octet-stream");
}

/* The write_fds options of @job: PNG with the standard's keys. */
static GVariant *
job_options_new (ThumbnailJob      *job,
                 const struct stat *st,
                 const char        *mime_type)
{
  GVariantBuilder text, options;
  char mtime[32], size[32];

  g_snprintf (mtime, sizeof mtime, "%" G_GINT64_FORMAT, (gint64) st->st_mtime);
  g_snprintf (size, sizeof size, "%" G_GINT64_FORMAT, (gint64) st->st_size);
  g_variant_builder_init (&text, G_VARIANT_TYPE ("a{ss}"));
  g_variant_builder_add (&text, "{ss}", "Thumb::URI", job->uri);
  g_variant_builder_add (&text, "{ss}", "Thumb::MTime", mtime);
  g_variant_builder_add (&text, "{ss}", "Thumb::Size", size);
  g_variant_builder_add (&text, "{ss}", "Thumb::Mimetype", mime_type);
  g_variant_builder_add (&text, "{ss}", "Software", "workpool " WP_VERSION);

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "format", g_variant_new_string ("png"));
  g_variant_builder_add (&options, "{sv}", "text", g_variant_builder_end (&text));
  g_variant_builder_add (&options, "{sv}", "name", g_variant_new_string (job->path));
  /* Small thumbnails made on demand: speed first, as Tumbler's. */
  g_variant_builder_add (&options, "{sv}", "fast", g_variant_new_boolean (TRUE));
  return g_variant_builder_end (&options);
}

/* Whether @error says the image itself cannot be thumbnailed, which a
 * failure entry then records. */
static gboolean
is_failure_of_image (const GError *error)
{
  return error->domain == GDK_PIXBUF_ERROR
         || g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED)
         || g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_TIMED_OUT);
}

/* A failure entry for @uri at @mtime: a 1x1 transparent PNG with the
 * standard's keys. */
static gboolean
write_fail_entry (WpXdgCache  *cache,
                  const char  *uri,
                  gint64       mtime,
                  GError     **error)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, 1, 1);
  g_autofree char *path = wp_xdg_cache_get_fail_path (cache, uri);
  g_autofree char *mtime_text = g_strdup_printf ("%" G_GINT64_FORMAT, mtime);
  const char *text[] = {
    "Thumb::URI", uri,
    "Thumb::MTime", mtime_text,
    "Software", "workpool " WP_VERSION,
    NULL
  };
  g_autoptr(GBytes) contents = NULL;

  gdk_pixbuf_fill (pixbuf, 0);
  contents = wp_png_encode (pixbuf, text, error);
  if (contents == NULL || !ensure_folder (cache->fail_folder, error))
    return FALSE;
  return wp_atomic_file_replace_below (cache->root, path, contents, WP_ATOMIC_FILE_PRIVATE,
                                       error);
}

static void
on_write_fds_done (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ThumbnailJob *job = g_task_get_task_data (task);
  g_autoptr(GVariant) reply = NULL;
  GError *error = NULL;
  guint committed;

  reply = wp_pool_call_with_unix_fd_list_finish (WP_POOL (object), NULL, result, &error);
  if (reply == NULL)
    {
      g_autoptr(GError) fail_error = NULL;

      if (is_failure_of_image (error)
          && !write_fail_entry (job->cache, job->uri, job->mtime, &fail_error))
        g_warning ("Cannot record the failure of “%s”: %s", job->path, fail_error->message);
      g_task_return_error (task, error);
      return;
    }

  if (!wp_thumbnail_files_commit (job->files, &committed, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

/**
 * wp_xdg_cache_thumbnail_async:
 * @cache: a cache
 * @pool: a pool whose plugin directory has the thumbnail plugin
 * @path: an image file, absolute
 * @flavors: the flavors to write (WP_XDG_FLAVOR_BIT), not 0
 * @timeout_ms: the job's timeout, 0 for the pool's
 * @io_priority: the job's priority in @pool
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: for @callback
 *
 * Writes the thumbnails of @path in @flavors, replacing any there, as the
 * top of this file says.
 */
void
wp_xdg_cache_thumbnail_async (WpXdgCache          *cache,
                              WpPool              *pool,
                              const char          *path,
                              guint                flavors_wanted,
                              guint                timeout_ms,
                              int                  io_priority,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GUnixFDList) fd_list = NULL;
  g_autofree char *mime_type = NULL;
  ThumbnailJob *job;
  GVariant *args;
  GError *error = NULL;
  struct stat st;

  g_return_if_fail (cache != NULL);
  g_return_if_fail (WP_IS_POOL (pool));
  g_return_if_fail (path != NULL && g_path_is_absolute (path));
  g_return_if_fail (flavors_wanted != 0 && (flavors_wanted & ~WP_XDG_ALL_FLAVORS) == 0);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, wp_xdg_cache_thumbnail_async);
  job = g_new0 (ThumbnailJob, 1);
  job->cache = cache;
  job->path = g_strdup (path);
  g_task_set_task_data (task, job, (GDestroyNotify) thumbnail_job_free);

  if (wp_xdg_cache_contains (cache, path))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "“%s” is in the thumbnail cache “%s”: thumbnails are not thumbnailed",
                               path, cache->root);
      return;
    }
  job->uri = g_filename_to_uri (path, NULL, &error);
  if (job->uri == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  job->files = wp_thumbnail_files_new (path, &error);
  if (job->files == NULL || fstat (wp_thumbnail_files_get_source_fd (job->files), &st) != 0)
    {
      if (error == NULL)
        g_set_error (&error, G_FILE_ERROR, g_file_error_from_errno (errno),
                     "Failed to read “%s”: %s", path, g_strerror (errno));
      g_task_return_error (task, error);
      return;
    }
  job->mtime = st.st_mtime;
  mime_type = sniff_mime_type (wp_thumbnail_files_get_source_fd (job->files));

  for (guint i = 0; i < WP_XDG_N_FLAVORS; i++)
    {
      g_autofree char *folder = NULL;
      g_autofree char *destination = NULL;

      if (!(flavors_wanted & WP_XDG_FLAVOR_BIT (i)))
        continue;
      folder = g_build_filename (cache->root, flavors[i].name, NULL);
      destination = wp_xdg_cache_get_path (cache, job->uri, i);
      if (!ensure_folder (folder, &error)
          || !wp_thumbnail_files_add_output (job->files, cache->root, destination,
                                             flavors[i].size, flavors[i].size,
                                             WP_ATOMIC_FILE_PRIVATE, &error))
        {
          g_task_return_error (task, error);
          return;
        }
    }

  args = wp_thumbnail_files_build_args (job->files, job_options_new (job, &st, mime_type),
                                        &fd_list, &error);
  if (args == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  wp_pool_call_with_unix_fd_list_full_async (pool, "thumbnail", "write_fds", args, fd_list,
                                             timeout_ms, io_priority, cancellable,
                                             on_write_fds_done, g_steal_pointer (&task));
}

/**
 * wp_xdg_cache_thumbnail_finish:
 * @cache: a cache
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Returns: %TRUE when every thumbnail was written, else %FALSE with
 *   @error set: the job's error (see the top of this file)
 */
gboolean
wp_xdg_cache_thumbnail_finish (WpXdgCache    *cache,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- moving, copying, deleting ------------------------------------------ */

static guint32 crc_table[256];

static void
crc_table_init (void)
{
  for (guint32 n = 0; n < 256; n++)
    {
      guint32 c = n;

      for (int k = 0; k < 8; k++)
        c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      crc_table[n] = c;
    }
}

/* The CRC-32 of PNG chunks (ISO 3309), over @a then @b. */
static guint32
png_crc (const guint8 *a,
         gsize         a_length,
         const guint8 *b,
         gsize         b_length)
{
  static gsize initialised = 0;
  guint32 c = 0xffffffffu;

  if (g_once_init_enter (&initialised))
    {
      crc_table_init ();
      g_once_init_leave (&initialised, 1);
    }
  for (gsize i = 0; i < a_length; i++)
    c = crc_table[(c ^ a[i]) & 0xff] ^ (c >> 8);
  for (gsize i = 0; i < b_length; i++)
    c = crc_table[(c ^ b[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

static void
append_be32 (GByteArray *array,
             guint32     value)
{
  guint8 bytes[4] = { value >> 24, value >> 16, value >> 8, value };

  g_byte_array_append (array, bytes, 4);
}

/* @contents, a PNG file, with its Thumb::URI text chunk saying @uri; or
 * %NULL when it is not a PNG file or has no such chunk. */
static GBytes *
png_with_uri (const guint8 *contents,
              gsize         length,
              const char   *uri)
{
  static const char keyword[] = "Thumb::URI";
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gsize offset = 8;
  gboolean replaced = FALSE;

  if (length < 8 || memcmp (contents, "\x89PNG\r\n\x1a\n", 8) != 0)
    return NULL;
  g_byte_array_append (out, contents, 8);

  while (offset + 12 <= length)
    {
      const guint8 *chunk = contents + offset;
      guint32 data_length = (guint32) chunk[0] << 24 | chunk[1] << 16 | chunk[2] << 8 | chunk[3];

      if (data_length > length - offset - 12)
        return NULL;
      if (!replaced && memcmp (chunk + 4, "tEXt", 4) == 0
          && data_length > sizeof keyword && memcmp (chunk + 8, keyword, sizeof keyword) == 0)
        {
          g_autoptr(GByteArray) data = g_byte_array_new ();

          g_byte_array_append (data, (const guint8 *) "tEXt", 4);
          g_byte_array_append (data, (const guint8 *) keyword, sizeof keyword);
          g_byte_array_append (data, (const guint8 *) uri, strlen (uri));
          append_be32 (out, data->len - 4);
          g_byte_array_append (out, data->data, data->len);
          append_be32 (out, png_crc (data->data, data->len, NULL, 0));
          replaced = TRUE;
        }
      else
        g_byte_array_append (out, chunk, 12 + data_length);
      offset += 12 + data_length;
    }

  if (!replaced || offset != length)
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* Writes the entry at @from_path, rewritten for @to_uri, at @to_path;
 * removes @from_path unless @keep_source.  A missing entry is no error. */
static gboolean
move_entry (WpXdgCache  *cache,
            const char  *from_path,
            const char  *to_path,
            const char  *to_uri,
            gboolean     keep_source,
            GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GBytes) rewritten = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize length;

  if (!g_file_get_contents (from_path, &contents, &length, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  rewritten = length <= MAX_ENTRY_SIZE ? png_with_uri ((const guint8 *) contents, length, to_uri)
                                       : NULL;
  /* Not an entry of ours to carry over: it would be invalid there. */
  if (rewritten != NULL
      && !wp_atomic_file_replace_below (cache->root, to_path, rewritten,
                                        WP_ATOMIC_FILE_PRIVATE, error))
    return FALSE;
  if (!keep_source)
    g_unlink (from_path);
  return TRUE;
}

/**
 * wp_xdg_cache_move:
 * @cache: a cache
 * @from_uri: a file's old URI
 * @to_uri: its new URI
 * @keep_source: %TRUE for a copy: the old entries stay
 * @error: return location for an error
 *
 * Carries the entries (every flavor, and the failure entry) of @from_uri
 * over to @to_uri, as a file manager that moved or copied the file asks
 * (Cache1.Move and Copy): their Thumb::URI is rewritten, their
 * Thumb::MTime kept, since a move or a copy that keeps the mtime keeps
 * them valid (and a copy that does not makes them stale, as it should).
 *
 * Returns: %TRUE, or %FALSE with @error set when an entry could not be
 *   written (a G_FILE_ERROR naming it)
 */
gboolean
wp_xdg_cache_move (WpXdgCache  *cache,
                   const char  *from_uri,
                   const char  *to_uri,
                   gboolean     keep_source,
                   GError     **error)
{
  g_autofree char *from_fail = wp_xdg_cache_get_fail_path (cache, from_uri);
  g_autofree char *to_fail = wp_xdg_cache_get_fail_path (cache, to_uri);

  if (g_str_equal (from_uri, to_uri))
    return TRUE;

  for (guint i = 0; i < WP_XDG_N_FLAVORS; i++)
    {
      g_autofree char *from_path = wp_xdg_cache_get_path (cache, from_uri, i);
      g_autofree char *to_path = wp_xdg_cache_get_path (cache, to_uri, i);

      if (!move_entry (cache, from_path, to_path, to_uri, keep_source, error))
        return FALSE;
    }
  return move_entry (cache, from_fail, to_fail, to_uri, keep_source, error);
}

/**
 * wp_xdg_cache_delete:
 * @cache: a cache
 * @uri: a file's URI
 *
 * Removes every entry of @uri: each flavor's thumbnail and the failure
 * entry (Cache1.Delete).
 */
void
wp_xdg_cache_delete (WpXdgCache *cache,
                     const char *uri)
{
  g_autofree char *fail_path = wp_xdg_cache_get_fail_path (cache, uri);

  for (guint i = 0; i < WP_XDG_N_FLAVORS; i++)
    {
      g_autofree char *path = wp_xdg_cache_get_path (cache, uri, i);

      g_unlink (path);
    }
  g_unlink (fail_path);
}

/* Whether @uri is one of @base_uris or below one ("file:///a" covers
 * "file:///a/b", not "file:///ab"); every URI when there is none. */
static gboolean
is_below_any (const char         *uri,
              const char * const *base_uris)
{
  if (base_uris == NULL || base_uris[0] == NULL)
    return TRUE;
  for (gsize i = 0; base_uris[i] != NULL; i++)
    {
      gsize length = strlen (base_uris[i]);

      if (length > 0 && strncmp (uri, base_uris[i], length) == 0
          && (uri[length] == '\0' || uri[length] == '/' || base_uris[i][length - 1] == '/'))
        return TRUE;
    }
  return FALSE;
}

/* Removes the entries in @folder whose file is at or below @base_uris,
 * recorded with an mtime at or before @since (any when 0), and no longer
 * exists.  Returns how many. */
static guint
cleanup_folder (const char         *folder,
                const char * const *base_uris,
                gint64              since)
{
  g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
  const char *name;
  guint removed = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (folder, name, NULL);
      g_autoptr(GHashTable) text = NULL;
      g_autofree char *file = NULL;
      const char *uri, *mtime;

      if (!g_str_has_suffix (name, ".png"))
        continue;
      text = wp_xdg_png_read_text (path, NULL);
      if (text == NULL)
        continue;
      uri = g_hash_table_lookup (text, "Thumb::URI");
      mtime = g_hash_table_lookup (text, "Thumb::MTime");
      if (uri == NULL || !is_below_any (uri, base_uris))
        continue;
      if (since > 0 && (mtime == NULL || g_ascii_strtoll (mtime, NULL, 10) > since))
        continue;
      file = g_filename_from_uri (uri, NULL, NULL);
      if (file != NULL && g_file_test (file, G_FILE_TEST_EXISTS))
        continue;
      if (g_unlink (path) == 0)
        removed++;
    }
  return removed;
}

/**
 * wp_xdg_cache_cleanup:
 * @cache: a cache
 * @base_uris: (nullable) (array zero-terminated=1): folders' URIs, or
 *   none for every file
 * @since: an mtime in seconds, or 0
 *
 * Removes the entries (every flavor's and this version's failure
 * entries) of local files at or below @base_uris that no longer exist,
 * recorded with an mtime at or before @since when it is not 0
 * (Cache1.Cleanup).
 *
 * Returns: the number of entries removed
 */
guint
wp_xdg_cache_cleanup (WpXdgCache         *cache,
                      const char * const *base_uris,
                      gint64              since)
{
  guint removed = 0;

  for (guint i = 0; i < WP_XDG_N_FLAVORS; i++)
    {
      g_autofree char *folder = g_build_filename (cache->root, flavors[i].name, NULL);

      removed += cleanup_folder (folder, base_uris, since);
    }
  return removed + cleanup_folder (cache->fail_folder, base_uris, since);
}
