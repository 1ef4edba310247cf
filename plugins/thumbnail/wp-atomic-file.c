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
 *    cannot replace it, so the complete file is linked to a temporary
 *    name and renamed over the destination; a kill between those two
 *    system calls leaves that complete file under its temporary name.
 *
 * 2. A named temporary file, written, closed and renamed over the
 *    destination, and unlinked on every error path; a kill while it is
 *    written leaves it, partly written, under its temporary name.
 *
 * Temporary names are ".NAME.wptmp-XXXXXX" (NAME cut to
 * TEMP_NAME_PREFIX_MAX bytes, X from [A-Za-z0-9]) and nothing else has
 * such a name, so wp_atomic_file_is_temp_name() recognises exactly the
 * files a killed writer left, and wp_atomic_file_remove_temps_at()
 * removes them.  A writer whose temporary file is removed that way under
 * it (another process cleaning the folder) starts over.
 *
 * Folders.  wp_atomic_file_replace_below() follows no symbolic link
 * below a base folder: each folder from the base down to the
 * destination's is opened with openat (O_NOFOLLOW | O_DIRECTORY)
 * relative to the one above, created with mkdirat() when missing (with
 * WP_ATOMIC_FILE_CREATE_PARENTS), and every later call works relative to
 * the last descriptor, so a link put in the way writes nowhere else.
 *
 * Invariants: on failure no temporary file remains and the destination is
 * untouched; every error is a G_FILE_ERROR whose message names the
 * destination (or the folder that could not be created or opened).  New
 * files get mode 0666 minus the umask, like any file a program creates.
 * No fsync(): the callers write regenerable files (thumbnails), for which
 * atomicity against crashes of the process matters and durability
 * against power loss does not.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "wp-atomic-file.h"

/* Temporary names keep this much of the destination's name, so that they
 * stay under NAME_MAX. */
#define TEMP_NAME_PREFIX_MAX 200
#define TEMP_NAME_TAG        ".wptmp-"
#define TEMP_NAME_RANDOM     6
#define TEMP_NAME_ATTEMPTS   100

static int open_destination_folder (const char         *base,
                                    const char         *directory,
                                    const char         *path,
                                    WpAtomicFileFlags   flags,
                                    GError            **error);

static const char temp_letters[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static gboolean
set_error_from_errno (GError     **error,
                      int          saved_errno,
                      const char  *path)
{
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
               "Failed to write “%s”: %s", path, g_strerror (saved_errno));
  return FALSE;
}

/**
 * wp_atomic_file_write_all:
 * @fd: a file open for writing
 * @data: bytes to write
 * @length: how many
 *
 * write() until all @length bytes are written, retried when interrupted;
 * also what wp-ico.c writes its in-memory files with.
 *
 * Returns: %TRUE, or %FALSE with errno set
 */
gboolean
wp_atomic_file_write_all (int           fd,
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
temp_name (const char *basename)
{
  char random[TEMP_NAME_RANDOM + 1];

  for (int i = 0; i < TEMP_NAME_RANDOM; i++)
    random[i] = temp_letters[g_random_int_range (0, sizeof temp_letters - 1)];
  random[TEMP_NAME_RANDOM] = '\0';

  return g_strdup_printf (".%.*s" TEMP_NAME_TAG "%s", TEMP_NAME_PREFIX_MAX,
                          basename, random);
}

/**
 * wp_atomic_file_is_temp_name:
 * @name: a file name, without folder
 *
 * Returns: %TRUE when @name has the form of the temporary files this
 *   writer makes, ".NAME.wptmp-XXXXXX"
 */
gboolean
wp_atomic_file_is_temp_name (const char *name)
{
  gsize length, tag = strlen (TEMP_NAME_TAG);
  const char *random;

  g_return_val_if_fail (name != NULL, FALSE);

  length = strlen (name);
  if (name[0] != '.' || length < 2 + tag + TEMP_NAME_RANDOM)
    return FALSE;

  random = name + length - TEMP_NAME_RANDOM;
  if (memcmp (random - tag, TEMP_NAME_TAG, tag) != 0)
    return FALSE;
  for (int i = 0; i < TEMP_NAME_RANDOM; i++)
    if (!g_ascii_isalnum (random[i]))
      return FALSE;
  return TRUE;
}

/**
 * wp_atomic_file_remove_temps_at:
 * @dirfd: a folder open for reading
 *
 * Removes the regular files of @dirfd whose names are temporary names
 * (see wp_atomic_file_is_temp_name()), which killed writers left, and
 * nothing else.  Errors are ignored: a file that cannot be removed stays.
 *
 * Returns: the number of files removed
 */
guint
wp_atomic_file_remove_temps_at (int dirfd)
{
  struct dirent *entry;
  guint removed = 0;
  DIR *dir;
  int fd;

  fd = openat (dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  dir = fdopendir (fd);
  if (dir == NULL)
    {
      close (fd);
      return 0;
    }

  while ((entry = readdir (dir)) != NULL)
    {
      struct stat st;

      if (!wp_atomic_file_is_temp_name (entry->d_name))
        continue;
      if (fstatat (fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG (st.st_mode))
        continue;
      if (unlinkat (fd, entry->d_name, 0) == 0)
        removed++;
    }

  closedir (dir);
  return removed;
}

/**
 * wp_atomic_file_remove_temps_below:
 * @base: a folder
 * @directory: a folder under @base
 *
 * wp_atomic_file_remove_temps_at() on @directory, opened following no
 * symbolic link below @base; nothing when it does not exist or cannot
 * be opened that way.
 *
 * Returns: the number of files removed
 */
guint
wp_atomic_file_remove_temps_below (const char *base,
                                   const char *directory)
{
  guint removed;
  int dirfd;

  g_return_val_if_fail (base != NULL && directory != NULL, 0);
  g_return_val_if_fail (wp_atomic_file_path_is_below (directory, base), 0);

  dirfd = open_destination_folder (base, directory, directory, WP_ATOMIC_FILE_NONE, NULL);
  if (dirfd < 0)
    return 0;
  removed = wp_atomic_file_remove_temps_at (dirfd);
  close (dirfd);
  return removed;
}

/* Strategy 1.  Sets *unsupported and returns FALSE without an error when
 * this file system or kernel cannot do it. */
static gboolean
replace_with_o_tmpfile (int          dirfd,
                        const char  *basename,
                        const char  *path,
                        GBytes      *contents,
                        gboolean    *unsupported,
                        GError     **error)
{
  char proc_path[64];
  gsize length;
  const guint8 *data = g_bytes_get_data (contents, &length);
  int fd, saved_errno, attempt;

  *unsupported = FALSE;

  fd = openat (dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
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

  if (!wp_atomic_file_write_all (fd, data, length))
    {
      saved_errno = errno;
      close (fd);
      return set_error_from_errno (error, saved_errno, path);
    }

  g_snprintf (proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);

  if (linkat (AT_FDCWD, proc_path, dirfd, basename, AT_SYMLINK_FOLLOW) == 0)
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

  /* The destination exists: link to a temporary name, rename over it.
   * The unnamed file stays open until then, so that a temporary name
   * removed in between by a cleaner is simply linked again. */
  for (attempt = 0; attempt < TEMP_NAME_ATTEMPTS; attempt++)
    {
      g_autofree char *temp = temp_name (basename);

      if (linkat (AT_FDCWD, proc_path, dirfd, temp, AT_SYMLINK_FOLLOW) < 0)
        {
          if (errno == EEXIST)
            continue;
          saved_errno = errno;
          close (fd);
          return set_error_from_errno (error, saved_errno, path);
        }

      if (renameat (dirfd, temp, dirfd, basename) < 0)
        {
          saved_errno = errno;
          if (saved_errno == ENOENT)
            continue;
          unlinkat (dirfd, temp, 0);
          close (fd);
          return set_error_from_errno (error, saved_errno, path);
        }

      close (fd);
      return TRUE;
    }

  close (fd);
  return set_error_from_errno (error, EEXIST, path);
}

/* Strategy 2. */
static gboolean
replace_with_named_temp (int          dirfd,
                         const char  *basename,
                         const char  *path,
                         GBytes      *contents,
                         GError     **error)
{
  gsize length;
  const guint8 *data = g_bytes_get_data (contents, &length);
  int attempt;

  for (attempt = 0; attempt < TEMP_NAME_ATTEMPTS; attempt++)
    {
      g_autofree char *temp = temp_name (basename);
      int fd, saved_errno;

      fd = openat (dirfd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
      if (fd < 0 && errno == EEXIST)
        continue;
      if (fd < 0)
        return set_error_from_errno (error, errno, path);

      if (!wp_atomic_file_write_all (fd, data, length))
        {
          saved_errno = errno;
          close (fd);
          unlinkat (dirfd, temp, 0);
          return set_error_from_errno (error, saved_errno, path);
        }

      if (close (fd) < 0)
        {
          saved_errno = errno;
          unlinkat (dirfd, temp, 0);
          return set_error_from_errno (error, saved_errno, path);
        }

      if (renameat (dirfd, temp, dirfd, basename) < 0)
        {
          saved_errno = errno;
          if (saved_errno == ENOENT)
            continue;  /* removed by a cleaner: write it again */
          unlinkat (dirfd, temp, 0);
          return set_error_from_errno (error, saved_errno, path);
        }

      return TRUE;
    }

  return set_error_from_errno (error, EEXIST, path);
}

/* Opens @name, a folder in @parent_fd, following no link; creates it
 * first when missing and @create.  @display is its path, for errors. */
static int
open_folder_at (int          parent_fd,
                const char  *name,
                const char  *display,
                const char  *path,
                gboolean     create,
                GError     **error)
{
  struct stat st;
  int fd, saved_errno;

  fd = openat (parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create)
    {
      if (mkdirat (parent_fd, name, 0777) < 0 && errno != EEXIST)
        {
          saved_errno = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                       "Failed to create directory “%s” for “%s”: %s",
                       display, path, g_strerror (saved_errno));
          return -1;
        }
      fd = openat (parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
  if (fd >= 0)
    return fd;

  saved_errno = errno;
  if ((saved_errno == ELOOP || saved_errno == ENOTDIR)
      && fstatat (parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
      && S_ISLNK (st.st_mode))
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_LOOP,
                 "Failed to write “%s”: “%s” is a symbolic link, which is "
                 "never followed when writing", path, display);
  else
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                 "Failed to write “%s”: cannot open directory “%s”: %s",
                 path, display, g_strerror (saved_errno));
  return -1;
}

/**
 * wp_atomic_file_path_is_below:
 * @path: a path
 * @folder: a folder's path, spelt as @path begins with it
 *
 * Whether @path names something below @folder, by their spelling alone
 * (no link is resolved): "a/b/c" is below "a/b" and "/x" below "/", but
 * "a/bc" is not below "a/b", nor "a/b" below itself.
 *
 * Returns: %TRUE when @path lies below @folder
 */
gboolean
wp_atomic_file_path_is_below (const char *path,
                              const char *folder)
{
  gsize length = strlen (folder);

  g_return_val_if_fail (path != NULL && folder != NULL, FALSE);

  if (length == 0 || strncmp (path, folder, length) != 0)
    return FALSE;
  if (folder[length - 1] == G_DIR_SEPARATOR)
    return path[length] != '\0';
  return path[length] == G_DIR_SEPARATOR && path[length + 1] != '\0';
}

/* Opens @directory, the folder of @path: @base following links, then
 * each folder below it without; or, with no @base, the folder itself,
 * created with its parents when asked. */
static int
open_destination_folder (const char         *base,
                         const char         *directory,
                         const char         *path,
                         WpAtomicFileFlags   flags,
                         GError            **error)
{
  gboolean create = (flags & WP_ATOMIC_FILE_CREATE_PARENTS) != 0;
  g_auto(GStrv) names = NULL;
  g_autoptr(GString) display = NULL;
  int fd, saved_errno;

  if (base == NULL)
    {
      if (create && g_mkdir_with_parents (directory, 0777) < 0)
        {
          saved_errno = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                       "Failed to create directory “%s” for “%s”: %s",
                       directory, path, g_strerror (saved_errno));
          return -1;
        }
      fd = open (directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0)
        set_error_from_errno (error, errno, path);
      return fd;
    }

  fd = open (base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Failed to open folder “%s” for “%s”: %s",
                   base, path, g_strerror (saved_errno));
      return -1;
    }

  names = g_strsplit (directory + strlen (base), G_DIR_SEPARATOR_S, -1);
  display = g_string_new (base);
  for (gsize i = 0; names[i] != NULL; i++)
    {
      int child;

      if (names[i][0] == '\0' || g_str_equal (names[i], "."))
        continue;
      g_string_append_printf (display, G_DIR_SEPARATOR_S "%s", names[i]);
      if (g_str_equal (names[i], ".."))
        {
          close (fd);
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                       "Failed to write “%s”: “..” below “%s”", path, base);
          return -1;
        }
      child = open_folder_at (fd, names[i], display->str, path, create, error);
      close (fd);
      if (child < 0)
        return -1;
      fd = child;
    }
  return fd;
}

/**
 * wp_atomic_file_replace_below:
 * @base: (nullable): a folder that @path lies under, or %NULL
 * @path: the destination
 * @contents: the new contents
 * @flags: #WpAtomicFileFlags
 * @error: return location for an error
 *
 * Creates or replaces @path with @contents, atomically, following no
 * symbolic link in the folders between @base and @path (a link there is
 * a G_FILE_ERROR_LOOP naming it): see the top of this file.  With no
 * @base, the destination's folder is taken as it is.
 *
 * Returns: %TRUE on success, %FALSE with @error set (a G_FILE_ERROR)
 */
gboolean
wp_atomic_file_replace_below (const char         *base,
                              const char         *path,
                              GBytes             *contents,
                              WpAtomicFileFlags   flags,
                              GError            **error)
{
  g_autofree char *basename = NULL;
  g_autofree char *directory = NULL;
  gboolean ok;
  int dirfd;

  g_return_val_if_fail (path != NULL && *path != '\0', FALSE);
  g_return_val_if_fail (base == NULL || wp_atomic_file_path_is_below (path, base), FALSE);
  g_return_val_if_fail (contents != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  basename = g_path_get_basename (path);
  directory = g_path_get_dirname (path);
  dirfd = open_destination_folder (base, directory, path, flags, error);
  if (dirfd < 0)
    return FALSE;

  ok = FALSE;
  if (!(flags & WP_ATOMIC_FILE_NO_O_TMPFILE))
    {
      gboolean unsupported;

      ok = replace_with_o_tmpfile (dirfd, basename, path, contents, &unsupported, error);
      if (ok || !unsupported)
        {
          close (dirfd);
          return ok;
        }
    }

  ok = replace_with_named_temp (dirfd, basename, path, contents, error);
  close (dirfd);
  return ok;
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
  return wp_atomic_file_replace_below (NULL, path, contents, flags, error);
}
