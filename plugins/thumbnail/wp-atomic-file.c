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
 * The two halves are also separate, for a writer in another process:
 * wp_atomic_file_create_below() makes the new file (unnamed, or under
 * its temporary name) and keeps it and its folder open; its descriptor
 * can be handed to whoever writes the contents; wp_atomic_file_commit()
 * then names it as above, and wp_atomic_file_free() without a commit
 * discards it.  wp_atomic_file_replace_below() is those three steps with
 * the contents written in between.  With a base folder and
 * WP_ATOMIC_FILE_CREATE_PARENTS, an unnamed file is created in the
 * deepest of the destination's folders that exists, and the missing
 * ones are created by the commit (linkat() names the file in any folder
 * of its file system): a file discarded leaves no empty folder.  A named
 * one is created in its own folder, created first.
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
 * files get mode 0666 minus the umask, like any file a program creates,
 * or 0600 with WP_ATOMIC_FILE_PRIVATE (set before a byte is written).
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
                                    GStrv              *missing,
                                    GError            **error);
static int open_folders_at         (int                 fd,
                                    char              **names,
                                    GString            *display,
                                    const char         *base,
                                    const char         *path,
                                    gboolean            create,
                                    GStrv              *missing,
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

  dirfd = open_destination_folder (base, directory, directory, WP_ATOMIC_FILE_NONE, NULL, NULL);
  if (dirfd < 0)
    return 0;
  removed = wp_atomic_file_remove_temps_at (dirfd);
  close (dirfd);
  return removed;
}

/* A file on its way to its destination: unnamed (strategy 1) or under
 * a temporary name (strategy 2) in the destination's folder, which
 * stays open so that the name it gets is in that folder whatever
 * happens to the path meanwhile. */
struct _WpAtomicFile {
  char     *path;       /* the destination, for messages */
  char     *basename;   /* its name in dirfd */
  char     *temp;       /* strategy 2: the temporary name; NULL once renamed */
  char     *base;       /* nullable */
  GStrv     missing;    /* strategy 1: folders to create below dirfd at the commit */
  int       dirfd;
  int       fd;         /* open for writing */
  gboolean  committed;
};

/* Whether linkat() can name an unnamed file: through /proc/self/fd. */
static gboolean
proc_fd_available (void)
{
  static gsize available = 0;

  if (g_once_init_enter (&available))
    g_once_init_leave (&available, g_file_test ("/proc/self/fd", G_FILE_TEST_IS_DIR) ? 2 : 1);
  return available == 2;
}

/* Strategy 1: an unnamed file in @dirfd.  -1 without an error when this
 * file system or kernel cannot do it. */
static int
create_unnamed (int          dirfd,
                const char  *path,
                GError     **error)
{
  int fd;

  if (!proc_fd_available ())
    return -1;

  fd = openat (dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
  if (fd >= 0)
    return fd;

  /* EISDIR or EINVAL: a kernel older than 3.11; EOPNOTSUPP: a file
   * system without O_TMPFILE. */
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
    set_error_from_errno (error, errno, path);
  return -1;
}

/* Strategy 2: a new file under a temporary name in @dirfd, set in
 * *@temp. */
static int
create_named (int          dirfd,
              const char  *basename,
              const char  *path,
              char       **temp,
              GError     **error)
{
  for (int attempt = 0; attempt < TEMP_NAME_ATTEMPTS; attempt++)
    {
      g_autofree char *name = temp_name (basename);
      int fd;

      fd = openat (dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
      if (fd < 0 && errno == EEXIST)
        continue;
      if (fd < 0)
        {
          set_error_from_errno (error, errno, path);
          return -1;
        }
      *temp = g_steal_pointer (&name);
      return fd;
    }

  set_error_from_errno (error, EEXIST, path);
  return -1;
}

/* The path of @file's dirfd, for messages: the destination's folder
 * without the folders still missing. */
static GString *
folder_display (WpAtomicFile *file)
{
  g_autofree char *directory = g_path_get_dirname (file->path);
  GString *display = g_string_new (directory);

  g_assert (file->missing != NULL);
  for (gsize i = g_strv_length (file->missing); i > 0; i--)
    {
      const char *slash = strrchr (display->str, G_DIR_SEPARATOR);

      if (file->missing[i - 1][0] == '\0' || g_str_equal (file->missing[i - 1], "."))
        continue;
      if (slash != NULL)
        g_string_truncate (display, (gsize) (slash - display->str));
    }
  return display;
}

/* Names the unnamed file: straight to the destination when there is
 * none, else to a temporary name renamed over it (linkat() cannot
 * replace).  The file stays open until then, so that a temporary name
 * removed in between by a cleaner is simply linked again. */
static gboolean
commit_unnamed (WpAtomicFile  *file,
                GError       **error)
{
  char proc_path[64];
  int saved_errno;

  if (file->missing != NULL)
    {
      g_autoptr(GString) display = folder_display (file);

      file->dirfd = open_folders_at (file->dirfd, file->missing, display, file->base,
                                     file->path, TRUE, NULL, error);
      g_clear_pointer (&file->missing, g_strfreev);
      if (file->dirfd < 0)
        return FALSE;
    }

  g_snprintf (proc_path, sizeof proc_path, "/proc/self/fd/%d", file->fd);

  if (linkat (AT_FDCWD, proc_path, file->dirfd, file->basename, AT_SYMLINK_FOLLOW) == 0)
    return TRUE;
  if (errno != EEXIST)
    return set_error_from_errno (error, errno, file->path);

  for (int attempt = 0; attempt < TEMP_NAME_ATTEMPTS; attempt++)
    {
      g_autofree char *temp = temp_name (file->basename);

      if (linkat (AT_FDCWD, proc_path, file->dirfd, temp, AT_SYMLINK_FOLLOW) < 0)
        {
          if (errno == EEXIST)
            continue;
          return set_error_from_errno (error, errno, file->path);
        }

      if (renameat (file->dirfd, temp, file->dirfd, file->basename) < 0)
        {
          saved_errno = errno;
          if (saved_errno == ENOENT)
            continue;
          unlinkat (file->dirfd, temp, 0);
          return set_error_from_errno (error, saved_errno, file->path);
        }

      return TRUE;
    }

  return set_error_from_errno (error, EEXIST, file->path);
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

/* Opens, from @fd (consumed), each of @names in turn following no link
 * (skipping empty ones and "."; ".." is an error), creating the missing
 * ones when @create.  @display is the path of @fd, extended as it goes.
 * With @missing, a missing folder is not created: the folder above it
 * is returned and *@missing set to the names from it on (else NULL). */
static int
open_folders_at (int          fd,
                 char       **names,
                 GString     *display,
                 const char  *base,
                 const char  *path,
                 gboolean     create,
                 GStrv       *missing,
                 GError     **error)
{
  if (missing != NULL)
    *missing = NULL;

  for (gsize i = 0; names[i] != NULL; i++)
    {
      g_autoptr(GError) local_error = NULL;
      gsize display_length = display->len;
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
      child = open_folder_at (fd, names[i], display->str, path,
                              create && missing == NULL, &local_error);
      if (child < 0 && create && missing != NULL
          && g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          /* ".." further down is an error now, not at the commit. */
          for (gsize j = i + 1; names[j] != NULL; j++)
            if (g_str_equal (names[j], ".."))
              {
                close (fd);
                g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                             "Failed to write “%s”: “..” below “%s”", path, base);
                return -1;
              }
          g_string_truncate (display, display_length);
          *missing = g_strdupv (names + i);
          return fd;
        }
      close (fd);
      if (child < 0)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return -1;
        }
      fd = child;
    }
  return fd;
}

/* Opens @directory, the folder of @path: @base following links, then
 * each folder below it without; or, with no @base, the folder itself,
 * created with its parents when asked.  With @missing and a @base, the
 * missing folders are left for later: see open_folders_at(). */
static int
open_destination_folder (const char         *base,
                         const char         *directory,
                         const char         *path,
                         WpAtomicFileFlags   flags,
                         GStrv              *missing,
                         GError            **error)
{
  gboolean create = (flags & WP_ATOMIC_FILE_CREATE_PARENTS) != 0;
  g_auto(GStrv) names = NULL;
  g_autoptr(GString) display = NULL;
  int fd, saved_errno;

  if (missing != NULL)
    *missing = NULL;

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
  return open_folders_at (fd, names, display, base, path, create, missing, error);
}

/**
 * wp_atomic_file_create_below:
 * @base: (nullable): a folder that @path lies under, or %NULL
 * @path: the destination
 * @flags: #WpAtomicFileFlags
 * @error: return location for an error
 *
 * Opens the folder of @path as wp_atomic_file_replace_below() does
 * (following no symbolic link below @base, creating the missing ones
 * with WP_ATOMIC_FILE_CREATE_PARENTS: for an unnamed file with a @base,
 * at the commit, see the top of this file) and creates in it a new, empty
 * file open for writing, unnamed where the file system allows, else
 * under a temporary name: see the top of this file.  Its contents
 * appear at @path with wp_atomic_file_commit(); wp_atomic_file_free()
 * without a commit leaves no trace of it.
 *
 * Returns: (transfer full): the file, or %NULL with @error set (a
 *   G_FILE_ERROR naming @path or the folder that failed)
 */
WpAtomicFile *
wp_atomic_file_create_below (const char         *base,
                             const char         *path,
                             WpAtomicFileFlags   flags,
                             GError            **error)
{
  g_autoptr(WpAtomicFile) file = NULL;
  g_autofree char *directory = NULL;

  g_return_val_if_fail (path != NULL && *path != '\0', NULL);
  g_return_val_if_fail (base == NULL || wp_atomic_file_path_is_below (path, base), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  file = g_new0 (WpAtomicFile, 1);
  file->fd = -1;
  file->path = g_strdup (path);
  file->base = g_strdup (base);
  file->basename = g_path_get_basename (path);
  directory = g_path_get_dirname (path);
  file->dirfd = open_destination_folder (base, directory, path, flags,
                                         (flags & WP_ATOMIC_FILE_NO_O_TMPFILE) ? NULL
                                                                               : &file->missing,
                                         error);
  if (file->dirfd < 0)
    return NULL;

  if (!(flags & WP_ATOMIC_FILE_NO_O_TMPFILE))
    {
      GError *local_error = NULL;

      /* In the deepest folder there is: the same file system as the
       * folders to create in it, where linkat() can name it. */
      file->fd = create_unnamed (file->dirfd, path, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return NULL;
        }
    }
  if (file->missing != NULL)
    {
      g_autoptr(GString) display = folder_display (file);

      if (file->fd < 0)
        {
          /* A named file goes in its own folder: create it now. */
          file->dirfd = open_folders_at (file->dirfd, file->missing, display, base, path,
                                         TRUE, NULL, error);
          g_clear_pointer (&file->missing, g_strfreev);
          if (file->dirfd < 0)
            return NULL;
        }
    }
  if (file->fd < 0)
    file->fd = create_named (file->dirfd, file->basename, path, &file->temp, error);
  if (file->fd < 0)
    return NULL;

  if ((flags & WP_ATOMIC_FILE_PRIVATE) && fchmod (file->fd, 0600) < 0)
    {
      set_error_from_errno (error, errno, path);
      return NULL;
    }

  return g_steal_pointer (&file);
}

/**
 * wp_atomic_file_get_fd:
 * @file: a file from wp_atomic_file_create_below()
 *
 * Returns: (transfer none): its descriptor, open for writing (and given
 *   away by dup() only: @file keeps it until freed)
 */
int
wp_atomic_file_get_fd (WpAtomicFile *file)
{
  g_return_val_if_fail (file != NULL, -1);

  return file->fd;
}

/**
 * wp_atomic_file_is_unnamed:
 * @file: a file from wp_atomic_file_create_below()
 *
 * Returns: %TRUE when @file is an O_TMPFILE one, %FALSE when it has a
 *   temporary name
 */
gboolean
wp_atomic_file_is_unnamed (WpAtomicFile *file)
{
  g_return_val_if_fail (file != NULL, FALSE);

  return file->temp == NULL && !file->committed;
}

/* Commits @file; *@gone when its temporary name was removed under it
 * (by a cleaner), which a writer that still has the contents can
 * overcome by writing them again. */
static gboolean
commit_file (WpAtomicFile  *file,
             gboolean      *gone,
             GError       **error)
{
  int saved_errno;

  *gone = FALSE;
  if (file->temp == NULL)
    {
      if (!commit_unnamed (file, error))
        return FALSE;
      file->committed = TRUE;
      return TRUE;
    }

  /* Closed first: a write-back error shows on close(). */
  saved_errno = close (file->fd) < 0 ? errno : 0;
  file->fd = -1;
  if (saved_errno == 0 && renameat (file->dirfd, file->temp, file->dirfd, file->basename) < 0)
    saved_errno = errno;
  if (saved_errno != 0)
    {
      *gone = saved_errno == ENOENT;
      if (!*gone)
        unlinkat (file->dirfd, file->temp, 0);
      g_clear_pointer (&file->temp, g_free);
      return set_error_from_errno (error, saved_errno, file->path);
    }

  g_clear_pointer (&file->temp, g_free);
  file->committed = TRUE;
  return TRUE;
}

/**
 * wp_atomic_file_commit:
 * @file: a file from wp_atomic_file_create_below(), whose contents are
 *   complete
 * @error: return location for an error
 *
 * Gives @file its destination's name, replacing whatever file had it,
 * atomically: readers see the old file (or none) or the new one.  On
 * failure nothing of @file remains (once freed) and the destination is
 * untouched.  At most once.
 *
 * Returns: %TRUE on success, %FALSE with @error set (a G_FILE_ERROR
 *   naming the destination)
 */
gboolean
wp_atomic_file_commit (WpAtomicFile  *file,
                       GError       **error)
{
  gboolean gone;

  g_return_val_if_fail (file != NULL, FALSE);
  g_return_val_if_fail (!file->committed && file->fd >= 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return commit_file (file, &gone, error);
}

/**
 * wp_atomic_file_free:
 * @file: (nullable): a file from wp_atomic_file_create_below()
 *
 * Closes @file; one that was not committed is discarded: an unnamed
 * one vanishes with its descriptor, a named one is unlinked.
 */
void
wp_atomic_file_free (WpAtomicFile *file)
{
  if (file == NULL)
    return;

  if (file->fd >= 0)
    close (file->fd);
  if (file->temp != NULL)
    unlinkat (file->dirfd, file->temp, 0);
  if (file->dirfd >= 0)
    close (file->dirfd);
  g_free (file->temp);
  g_strfreev (file->missing);
  g_free (file->base);
  g_free (file->basename);
  g_free (file->path);
  g_free (file);
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
 * a G_FILE_ERROR_LOOP naming it): wp_atomic_file_create_below(), the
 * contents written, wp_atomic_file_commit().  With no @base, the
 * destination's folder is taken as it is.
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
  gsize length;
  const guint8 *data;

  g_return_val_if_fail (path != NULL && *path != '\0', FALSE);
  g_return_val_if_fail (base == NULL || wp_atomic_file_path_is_below (path, base), FALSE);
  g_return_val_if_fail (contents != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  data = g_bytes_get_data (contents, &length);
  for (int attempt = 0; attempt < TEMP_NAME_ATTEMPTS; attempt++)
    {
      g_autoptr(WpAtomicFile) file = wp_atomic_file_create_below (base, path, flags, error);
      g_autoptr(GError) local_error = NULL;
      gboolean gone;

      if (file == NULL)
        return FALSE;
      if (!wp_atomic_file_write_all (file->fd, data, length))
        return set_error_from_errno (error, errno, path);
      if (commit_file (file, &gone, &local_error))
        return TRUE;
      if (!gone)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      /* Removed by a cleaner: write it again. */
    }

  return set_error_from_errno (error, EEXIST, path);
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
