/* wp-atomic-file.c: replacing a file's contents all at once.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * wp_atomic_file_replace() makes a file appear with its complete contents
 * or not at all: readers of the destination see either the old file (or
 * no file) or the new one, never a part of it.
 *
 * Two strategies, the first when the file system supports it:
 *
 * 1. O_TMPFILE.  The data goes into an unnamed file in the destination's
 *    directory, which is then given a name with linkat() through
 *    /proc/self/fd.  Until then the file has no name, so a process killed
 *    at any point while writing (even by SIGKILL) leaves nothing behind:
 *    the kernel frees the inode.  When the destination does not exist yet
 *    the unnamed file is linked straight to it.  When it does, linkat()
 *    cannot replace it, so the file is linked to a hidden temporary name
 *    and renamed over the destination; only a kill between those two
 *    system calls can leave the temporary name behind.
 *
 * 2. A named temporary file ".NAME.XXXXXX" made with g_mkstemp_full() in
 *    the destination's directory, written, closed and renamed over the
 *    destination, and unlinked on every error path.
 *
 * Invariants: on failure no temporary file remains and the destination is
 * untouched; every error is a G_FILE_ERROR whose message names the
 * destination (or the directory that could not be created).  New files
 * get mode 0666 minus the umask, like any file a program creates.  No
 * fsync(): the callers write regenerable files (thumbnails), for which
 * atomicity against crashes of the process matters and durability
 * against power loss does not.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "wp-atomic-file.h"

/* Temporary names keep this much of the destination's name, so that they
 * stay under NAME_MAX. */
#define TEMP_NAME_PREFIX_MAX 200
#define TEMP_NAME_ATTEMPTS 100

static gboolean
set_error_from_errno (GError     **error,
                      int          saved_errno,
                      const char  *path)
{
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
               "Failed to write “%s”: %s", path, g_strerror (saved_errno));
  return FALSE;
}

/* Returns FALSE with errno set. */
static gboolean
write_all (int           fd,
           const guint8 *data,
           gsize         length)
{
  while (length > 0)
    {
      gssize n = write (fd, data, MIN (length, (gsize) G_MAXSSIZE));

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return FALSE;
        }

      data += n;
      length -= (gsize) n;
    }

  return TRUE;
}

static char *
temp_name (const char *directory,
           const char *basename)
{
  return g_strdup_printf ("%s/.%.*s.%08x", directory, TEMP_NAME_PREFIX_MAX,
                          basename, g_random_int ());
}

/* Strategy 1.  Sets *unsupported and returns FALSE without an error when
 * this file system or kernel cannot do it. */
static gboolean
replace_with_o_tmpfile (const char  *path,
                        const char  *directory,
                        const char  *basename,
                        GBytes      *contents,
                        gboolean    *unsupported,
                        GError     **error)
{
  char proc_path[64];
  gsize length;
  const guint8 *data = g_bytes_get_data (contents, &length);
  int fd, saved_errno, attempt;

  *unsupported = FALSE;

  fd = open (directory, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    {
      /* EISDIR or EINVAL: a kernel older than 3.11; EOPNOTSUPP: a file
       * system without O_TMPFILE. */
      if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)
        {
          *unsupported = TRUE;
          return FALSE;
        }
      return set_error_from_errno (error, errno, path);
    }

  if (!write_all (fd, data, length))
    {
      saved_errno = errno;
      close (fd);
      return set_error_from_errno (error, saved_errno, path);
    }

  g_snprintf (proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);

  if (linkat (AT_FDCWD, proc_path, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0)
    {
      close (fd);
      return TRUE;
    }

  saved_errno = errno;
  if (saved_errno != EEXIST)
    {
      close (fd);
      if (saved_errno == ENOENT && !g_file_test ("/proc/self/fd", G_FILE_TEST_IS_DIR))
        {
          *unsupported = TRUE;  /* no /proc */
          return FALSE;
        }
      return set_error_from_errno (error, saved_errno, path);
    }

  /* The destination exists: link to a temporary name, rename over it. */
  for (attempt = 0; attempt < TEMP_NAME_ATTEMPTS; attempt++)
    {
      g_autofree char *temp_path = temp_name (directory, basename);

      if (linkat (AT_FDCWD, proc_path, AT_FDCWD, temp_path, AT_SYMLINK_FOLLOW) < 0)
        {
          if (errno == EEXIST)
            continue;
          saved_errno = errno;
          close (fd);
          return set_error_from_errno (error, saved_errno, path);
        }

      close (fd);

      if (rename (temp_path, path) < 0)
        {
          saved_errno = errno;
          g_unlink (temp_path);
          return set_error_from_errno (error, saved_errno, path);
        }

      return TRUE;
    }

  close (fd);
  return set_error_from_errno (error, EEXIST, path);
}

/* Strategy 2. */
static gboolean
replace_with_named_temp (const char  *path,
                         const char  *directory,
                         const char  *basename,
                         GBytes      *contents,
                         GError     **error)
{
  g_autofree char *temp_path = NULL;
  gsize length;
  const guint8 *data = g_bytes_get_data (contents, &length);
  int fd, saved_errno;

  temp_path = g_strdup_printf ("%s/.%.*s.XXXXXX", directory,
                               TEMP_NAME_PREFIX_MAX, basename);
  fd = g_mkstemp_full (temp_path, O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0)
    return set_error_from_errno (error, errno, path);

  if (!write_all (fd, data, length))
    {
      saved_errno = errno;
      close (fd);
      g_unlink (temp_path);
      return set_error_from_errno (error, saved_errno, path);
    }

  if (close (fd) < 0)
    {
      saved_errno = errno;
      g_unlink (temp_path);
      return set_error_from_errno (error, saved_errno, path);
    }

  if (rename (temp_path, path) < 0)
    {
      saved_errno = errno;
      g_unlink (temp_path);
      return set_error_from_errno (error, saved_errno, path);
    }

  return TRUE;
}

/**
 * wp_atomic_file_replace:
 * @path: the destination
 * @contents: the new contents
 * @flags: #WpAtomicFileFlags
 * @error: return location for an error
 *
 * Creates or replaces @path with @contents, atomically: see the top of
 * this file.
 *
 * Returns: %TRUE on success, %FALSE with @error set (a G_FILE_ERROR)
 */
gboolean
wp_atomic_file_replace (const char         *path,
                        GBytes             *contents,
                        WpAtomicFileFlags   flags,
                        GError            **error)
{
  g_autofree char *directory = NULL;
  g_autofree char *basename = NULL;

  g_return_val_if_fail (path != NULL && *path != '\0', FALSE);
  g_return_val_if_fail (contents != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  directory = g_path_get_dirname (path);
  basename = g_path_get_basename (path);

  if ((flags & WP_ATOMIC_FILE_CREATE_PARENTS) &&
      g_mkdir_with_parents (directory, 0777) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Failed to create directory “%s” for “%s”: %s",
                   directory, path, g_strerror (saved_errno));
      return FALSE;
    }

  if (!(flags & WP_ATOMIC_FILE_NO_O_TMPFILE))
    {
      gboolean unsupported;

      if (replace_with_o_tmpfile (path, directory, basename, contents,
                                  &unsupported, error))
        return TRUE;
      if (!unsupported)
        return FALSE;
    }

  return replace_with_named_temp (path, directory, basename, contents, error);
}
