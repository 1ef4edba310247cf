/* wp-thumbnail-files.c: the files of a write_fds job, opened and named by the host.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The thumbnail plugin's write_fds reads its image from a descriptor and
 * writes each thumbnail into another, opening no path; everything a path
 * can do wrong is then the host's to get right, here:
 *
 *   wp_thumbnail_files_new()         opens the image for reading with
 *                                    O_NONBLOCK (a FIFO put in its place
 *                                    never blocks the open) and refuses
 *                                    anything but a regular file, naming
 *                                    the path and what it is;
 *   wp_thumbnail_files_add_output()  creates a thumbnail's new file in its
 *                                    destination's folder
 *                                    (wp_atomic_file_create_below():
 *                                    unnamed with O_TMPFILE, else under a
 *                                    hidden temporary name; mode 0666
 *                                    minus the umask; missing folders
 *                                    created, no symbolic link followed
 *                                    below the base folder);
 *   wp_thumbnail_files_build_args()  the job's (ha(hii)a{sv}) and the
 *                                    descriptors it indexes;
 *   wp_thumbnail_files_commit()      once the job succeeded, names each
 *                                    file, replacing the thumbnail there
 *                                    atomically (wp_atomic_file_commit());
 *   wp_thumbnail_files_free()        closes everything and discards the
 *                                    files not named: after a failed or
 *                                    cancelled job nothing of it remains,
 *                                    neither a partial thumbnail nor a
 *                                    temporary file.
 *
 * Descriptors: the image's until wp_thumbnail_files_build_args() hands
 * it over to the list, then per output its folder's and its own, and
 * the list's duplicates while the list lives: at most
 * WP_THUMBNAIL_FILES_FDS (n_outputs) = 1 + 3 per output.  No fsync(), as wp-atomic-file.c: the
 * files are regenerable.
 *
 * Not thread-safe: one job's files are used from one thread.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wp-thumbnail-files.h"
#include "wp-file-type.h"

typedef struct {
  WpAtomicFile *file;
  int           box_width;
  int           box_height;
} Output;

struct _WpThumbnailFiles {
  char   *source;
  int     source_fd;  /* -1 once handed to a list */
  GArray *outputs;    /* Output; NULL file once committed and freed */
};

/**
 * wp_thumbnail_files_open_source:
 * @path: an image file
 * @error: return location for an error
 *
 * Opens @path for reading (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
 * so that a FIFO does not block) and checks that it is a regular file.
 *
 * Returns: the descriptor, or -1 with @error set: a G_FILE_ERROR naming
 *   @path, saying what it is when it is not a regular file
 */
int
wp_thumbnail_files_open_source (const char  *path,
                                GError     **error)
{
  struct stat st;
  int fd, saved_errno;

  g_return_val_if_fail (path != NULL, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0 || fstat (fd, &st) < 0)
    {
      saved_errno = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Failed to open “%s”: %s", path, g_strerror (saved_errno));
      return -1;
    }

  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, G_FILE_ERROR,
                   S_ISDIR (st.st_mode) ? G_FILE_ERROR_ISDIR : G_FILE_ERROR_FAILED,
                   "Failed to open “%s”: not a regular file but %s", path,
                   wp_file_type_describe (st.st_mode));
      return -1;
    }

  return fd;
}

/**
 * wp_thumbnail_files_new:
 * @source: the image file
 * @error: return location for an error
 *
 * Opens @source with wp_thumbnail_files_open_source(), for a job that
 * has no output yet.
 *
 * Returns: (transfer full): the job's files, or %NULL with @error set
 */
WpThumbnailFiles *
wp_thumbnail_files_new (const char  *source,
                        GError     **error)
{
  WpThumbnailFiles *files;
  int fd;

  g_return_val_if_fail (source != NULL, NULL);

  fd = wp_thumbnail_files_open_source (source, error);
  if (fd < 0)
    return NULL;

  files = g_new0 (WpThumbnailFiles, 1);
  files->source = g_strdup (source);
  files->source_fd = fd;
  files->outputs = g_array_new (FALSE, FALSE, sizeof (Output));
  return files;
}

/**
 * wp_thumbnail_files_add_output:
 * @files: a job's files
 * @base: (nullable): a folder that @destination lies under, below which
 *   no symbolic link is followed
 * @destination: where the thumbnail goes
 * @box_width: the box it fits in
 * @box_height: the box it fits in
 * @flags: #WpAtomicFileFlags (WP_ATOMIC_FILE_CREATE_PARENTS to create
 *   the missing folders)
 * @error: return location for an error
 *
 * Creates the new, empty file of a thumbnail in @destination's folder
 * (wp_atomic_file_create_below()).  On failure @files is as it was.
 *
 * Returns: %TRUE, or %FALSE with @error set (a G_FILE_ERROR naming
 *   @destination or the folder that failed)
 */
gboolean
wp_thumbnail_files_add_output (WpThumbnailFiles   *files,
                               const char         *base,
                               const char         *destination,
                               int                 box_width,
                               int                 box_height,
                               WpAtomicFileFlags   flags,
                               GError            **error)
{
  Output output = { NULL, box_width, box_height };

  g_return_val_if_fail (files != NULL && files->source_fd >= 0, FALSE);
  g_return_val_if_fail (destination != NULL, FALSE);

  output.file = wp_atomic_file_create_below (base, destination, flags, error);
  if (output.file == NULL)
    return FALSE;
  g_array_append_val (files->outputs, output);
  return TRUE;
}

/**
 * wp_thumbnail_files_get_n_outputs:
 * @files: a job's files
 *
 * Returns: the number of outputs added
 */
guint
wp_thumbnail_files_get_n_outputs (WpThumbnailFiles *files)
{
  g_return_val_if_fail (files != NULL, 0);

  return files->outputs->len;
}

/**
 * wp_thumbnail_files_get_source_fd:
 * @files: a job's files, with their source still
 *
 * The image's descriptor, to fstat() or to read with pread() before the
 * job is built; @files keeps it.
 *
 * Returns: (transfer none): the descriptor
 */
int
wp_thumbnail_files_get_source_fd (WpThumbnailFiles *files)
{
  g_return_val_if_fail (files != NULL && files->source_fd >= 0, -1);

  return files->source_fd;
}

/**
 * wp_thumbnail_files_build_args:
 * @files: a job's files, with their source still
 * @options: (nullable): the job's options, a{sv} (no `base`: there is
 *   no path in write_fds), consumed if floating
 * @fd_list: (out) (transfer full): the descriptors the args index
 * @error: return location for an error
 *
 * The arguments of write_fds, (ha(hii)a{sv}): the source, then each
 * output with its box, in the order they were added; the source's
 * descriptor moves into *@fd_list (the outputs' are duplicated), so this
 * is done once.
 *
 * Returns: (transfer floating): the arguments, or %NULL with @error set
 *   when a descriptor cannot be duplicated (too many open files)
 */
GVariant *
wp_thumbnail_files_build_args (WpThumbnailFiles  *files,
                               GVariant          *options,
                               GUnixFDList      **fd_list,
                               GError           **error)
{
  g_autoptr(GUnixFDList) list = NULL;
  GVariantBuilder outputs;
  int source_fd;

  g_return_val_if_fail (files != NULL && files->source_fd >= 0, NULL);
  g_return_val_if_fail (options == NULL
                        || g_variant_is_of_type (options, G_VARIANT_TYPE_VARDICT), NULL);
  g_return_val_if_fail (fd_list != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  source_fd = files->source_fd;
  files->source_fd = -1;
  list = g_unix_fd_list_new_from_array (&source_fd, 1);

  g_variant_builder_init (&outputs, G_VARIANT_TYPE ("a(hii)"));
  for (guint i = 0; i < files->outputs->len; i++)
    {
      const Output *output = &g_array_index (files->outputs, Output, i);
      int index = g_unix_fd_list_append (list, wp_atomic_file_get_fd (output->file), error);

      if (index < 0)
        {
          g_variant_builder_clear (&outputs);
          if (options != NULL)
            g_variant_unref (g_variant_ref_sink (options));
          return NULL;
        }
      g_variant_builder_add (&outputs, "(hii)", index, output->box_width, output->box_height);
    }

  *fd_list = g_steal_pointer (&list);
  if (options == NULL)
    options = g_variant_new ("a{sv}", NULL);
  return g_variant_new ("(h@a(hii)@a{sv})", 0, g_variant_builder_end (&outputs), options);
}

/**
 * wp_thumbnail_files_commit:
 * @files: a job's files, whose job succeeded
 * @n_committed: (out) (optional): how many thumbnails were named
 * @error: return location for an error
 *
 * Names each output, in order, replacing the file at its destination
 * atomically (wp_atomic_file_commit()).  Stops at the first that fails:
 * those before are in place, the rest are discarded by
 * wp_thumbnail_files_free().
 *
 * Returns: %TRUE when every output was named, else %FALSE with @error
 *   set (a G_FILE_ERROR naming the destination)
 */
gboolean
wp_thumbnail_files_commit (WpThumbnailFiles  *files,
                           guint             *n_committed,
                           GError           **error)
{
  guint n = 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (files != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; i < files->outputs->len && ok; i++)
    {
      Output *output = &g_array_index (files->outputs, Output, i);

      if (output->file == NULL)
        continue;
      ok = wp_atomic_file_commit (output->file, error);
      if (ok)
        n++;
      g_clear_pointer (&output->file, wp_atomic_file_free);
    }

  if (n_committed != NULL)
    *n_committed = n;
  return ok;
}

/**
 * wp_thumbnail_files_free:
 * @files: (nullable): a job's files
 *
 * Closes the source if it is still here, and every output, discarding
 * those not committed.
 */
void
wp_thumbnail_files_free (WpThumbnailFiles *files)
{
  if (files == NULL)
    return;

  if (files->source_fd >= 0)
    close (files->source_fd);
  for (guint i = 0; i < files->outputs->len; i++)
    g_clear_pointer (&g_array_index (files->outputs, Output, i).file, wp_atomic_file_free);
  g_array_unref (files->outputs);
  g_free (files->source);
  g_free (files);
}
