/* wp-cli-walk.c: a streaming walk over folder trees, for `workpool thumbnail`.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   g_autoptr(WpCliWalk) walk = wp_cli_walk_new ((const char *[]) { "jpg", NULL });
 *   g_autofree char *path = NULL;
 *
 *   wp_cli_walk_add_root (walk, "Photos");
 *   while (TRUE)
 *     {
 *       if (!wp_cli_walk_next (walk, &path, &error))
 *         { report (path, error); g_clear_error (&error); ... continue; }
 *       if (path == NULL)
 *         break;
 *       use (path); g_clear_pointer (&path, g_free);
 *     }
 *
 * The walk hands out, one at a time, the files under each root whose
 * name ends in one of the extensions (".jpg", compared without regard to
 * ASCII case), depth first, in the order the file system lists each
 * folder.  It never collects a tree or a folder: it holds one open
 * GFileEnumerator per level of the folder it is in (so its file
 * descriptors grow with the depth of the tree, its memory with the depth
 * and the number of folders, never with the number of files), and each
 * call to wp_cli_walk_next() reads only as far as the next match.  A
 * caller that asks for files as it needs them therefore starts working
 * at once and walks a million-file tree in little memory.
 *
 * Rules:
 *  - Folders named exactly `thumbnails` below a root are not entered:
 *    they hold what `workpool thumbnail` writes.  A root is walked
 *    whatever its name.
 *  - Each folder is walked once, however it is reached: the walk keeps
 *    the device and inode of every folder it has entered, and passes
 *    over, without a word, a folder it has walked already (a root given
 *    twice, a root inside another, a second link to one folder).  So
 *    the walk's memory grows with the number of folders, by one entry
 *    each, though never with the number of files.
 *  - Symbolic links are followed, to files and to folders.  A link to a
 *    folder on the current path (one of its own ancestors) would loop:
 *    it is passed over and reported.
 *  - An entry a user would expect to be taken but that cannot be is
 *    passed over and reported: wp_cli_walk_next() returns FALSE once for
 *    it, with its path in place of a file's, and the walk goes on with
 *    the rest of the tree.  These are: a folder that cannot be listed, a
 *    symbolic link that leads nowhere (dangling, or in a loop of links;
 *    whatever its name, as it may have led to a folder), a link to an
 *    ancestor folder, and an entry with one of the extensions that is
 *    neither a regular file nor a folder (a FIFO, a socket, a device).
 *  - A regular file without one of the extensions is counted, with its
 *    extension, so that a walk that finds no image can say what it found
 *    instead (wp_cli_walk_get_n_others()).  The walk keeps a count for at
 *    most MAX_OTHER_EXTENSIONS distinct extensions: its memory still does
 *    not grow with the number of files.
 *
 * Everything runs in the caller's thread, with blocking file-system
 * calls: a walk serves one thread.
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "wp-cli-walk.h"

#define THUMBNAILS_FOLDER     "thumbnails"
#define MAX_OTHER_EXTENSIONS  64
#define MAX_EXTENSION_LENGTH  10  /* longer is not a format's extension */
#define WALK_ATTRIBUTES G_FILE_ATTRIBUTE_STANDARD_NAME "," \
                        G_FILE_ATTRIBUTE_STANDARD_TYPE

/* A folder, whatever path leads to it. */
typedef struct {
  dev_t device;
  ino_t inode;
} FolderId;

/* A folder being listed: one per level, from a root down. */
typedef struct {
  char            *path;
  FolderId         id;
  GFileEnumerator *children;
} WalkFolder;

struct _WpCliWalk {
  GStrv       extensions;  /* without the dot */
  GQueue      roots;       /* char *, not yet entered */
  GPtrArray  *folders;     /* WalkFolder *, the deepest last */
  GHashTable *walked;      /* FolderId * set: every folder entered */
  guint64     n_others;    /* regular files without one of the extensions */
  GHashTable *others;      /* lower-case extension -> number of those files */
};

static guint
folder_id_hash (gconstpointer key)
{
  const FolderId *id = key;

  return (guint) id->inode ^ (guint) ((guint64) id->inode >> 32) ^ (guint) id->device;
}

static gboolean
folder_id_equal (gconstpointer a,
                 gconstpointer b)
{
  const FolderId *id_a = a, *id_b = b;

  return id_a->device == id_b->device && id_a->inode == id_b->inode;
}

static void
walk_folder_free (WalkFolder *folder)
{
  g_free (folder->path);
  g_clear_object (&folder->children);
  g_free (folder);
}

/**
 * wp_cli_walk_new:
 * @extensions: file name extensions to take, without the dot
 *
 * Returns: (transfer full): a walk with no roots yet
 */
WpCliWalk *
wp_cli_walk_new (const char * const *extensions)
{
  WpCliWalk *walk = g_new0 (WpCliWalk, 1);

  walk->extensions = g_strdupv ((GStrv) extensions);
  g_queue_init (&walk->roots);
  walk->folders = g_ptr_array_new_with_free_func ((GDestroyNotify) walk_folder_free);
  walk->walked = g_hash_table_new_full (folder_id_hash, folder_id_equal, g_free, NULL);
  walk->others = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return walk;
}

void
wp_cli_walk_free (WpCliWalk *walk)
{
  g_strfreev (walk->extensions);
  g_queue_clear_full (&walk->roots, g_free);
  g_ptr_array_unref (walk->folders);
  g_hash_table_unref (walk->walked);
  g_hash_table_unref (walk->others);
  g_free (walk);
}

/* Adds @dir to the folders to walk, after those added before. */
void
wp_cli_walk_add_root (WpCliWalk  *walk,
                      const char *dir)
{
  g_queue_push_tail (&walk->roots, g_strdup (dir));
}

/* TRUE once wp_cli_walk_next() has nothing more to give. */
gboolean
wp_cli_walk_is_done (WpCliWalk *walk)
{
  return walk->folders->len == 0 && g_queue_is_empty (&walk->roots);
}

static gboolean
has_extension (WpCliWalk  *walk,
               const char *name)
{
  const char *dot = strrchr (name, '.');

  if (dot == NULL || dot == name)
    return FALSE;
  for (gsize i = 0; walk->extensions[i] != NULL; i++)
    if (g_ascii_strcasecmp (dot + 1, walk->extensions[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Counts @name, a regular file that has none of the extensions. */
static void
note_other (WpCliWalk  *walk,
            const char *name)
{
  const char *dot = strrchr (name, '.');
  g_autofree char *extension = NULL;
  gpointer count;

  walk->n_others++;
  if (dot == NULL || dot == name || dot[1] == '\0' || strlen (dot + 1) > MAX_EXTENSION_LENGTH)
    return;
  for (const char *c = dot + 1; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c))
      return;
  extension = g_ascii_strdown (dot + 1, -1);
  count = g_hash_table_lookup (walk->others, extension);
  if (count == NULL && g_hash_table_size (walk->others) >= MAX_OTHER_EXTENSIONS)
    return;
  g_hash_table_insert (walk->others, g_steal_pointer (&extension),
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (count) + 1));
}

static gboolean
set_error_from_errno (GError     **error,
                      int          saved_errno,
                      const char  *what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               "%s: %s", what, g_strerror (saved_errno));
  return FALSE;
}

/* The folder on the current path that @id is, or NULL. */
static WalkFolder *
find_ancestor (WpCliWalk      *walk,
               const FolderId *id)
{
  for (guint i = 0; i < walk->folders->len; i++)
    {
      WalkFolder *folder = g_ptr_array_index (walk->folders, i);

      if (folder_id_equal (&folder->id, id))
        return folder;
    }
  return NULL;
}

/* Starts listing the folder @path (taken), whose status is @info, one
 * level below the current one, unless it has been walked already.  On
 * failure, *@failed is @path. */
static gboolean
enter_folder (WpCliWalk          *walk,
              char               *path,
              const struct stat  *info,
              char              **failed,
              GError            **error)
{
  g_autofree char *owned_path = path;
  g_autoptr(GFile) file = NULL;
  FolderId id = { info->st_dev, info->st_ino };
  WalkFolder *ancestor, *folder;
  GFileEnumerator *children;

  ancestor = find_ancestor (walk, &id);
  if (ancestor != NULL)
    {
      g_autofree char *display = g_filename_display_name (ancestor->path);

      *failed = g_steal_pointer (&owned_path);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_LINKS,
                   "Not followed: a symbolic link to its own ancestor “%s”", display);
      return FALSE;
    }
  if (g_hash_table_contains (walk->walked, &id))
    return TRUE;

  file = g_file_new_for_path (path);
  children = g_file_enumerate_children (file, WALK_ATTRIBUTES,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                        NULL, error);
  if (children == NULL)
    {
      *failed = g_steal_pointer (&owned_path);
      return FALSE;
    }

  g_hash_table_add (walk->walked, g_memdup2 (&id, sizeof id));
  folder = g_new0 (WalkFolder, 1);
  folder->path = g_steal_pointer (&owned_path);
  folder->id = id;
  folder->children = children;
  g_ptr_array_add (walk->folders, folder);
  return TRUE;
}

/* Enters the folder @path (taken), following symbolic links. */
static gboolean
enter_path (WpCliWalk   *walk,
            char        *path,
            char       **failed,
            GError     **error)
{
  struct stat info;

  if (g_stat (path, &info) != 0)
    {
      int saved_errno = errno;

      *failed = path;
      return set_error_from_errno (error, saved_errno, "Cannot open the folder");
    }
  return enter_folder (walk, path, &info, failed, error);
}

static void
leave_folder (WpCliWalk *walk)
{
  g_assert (walk->folders->len > 0);
  g_ptr_array_remove_index (walk->folders, walk->folders->len - 1);
}

/* The child @child (taken) is a symbolic link named @name: follows it. */
static gboolean
visit_link (WpCliWalk   *walk,
            const char  *name,
            char        *child,
            char       **path,
            GError     **error)
{
  struct stat info;

  if (g_stat (child, &info) != 0)
    {
      int saved_errno = errno;

      *path = child;
      return set_error_from_errno (error, saved_errno,
                                   "The symbolic link leads nowhere");
    }
  if (S_ISDIR (info.st_mode))
    {
      if (strcmp (name, THUMBNAILS_FOLDER) == 0)
        {
          g_free (child);
          return TRUE;
        }
      return enter_folder (walk, child, &info, path, error);
    }
  if (!has_extension (walk, name))
    {
      if (S_ISREG (info.st_mode))
        note_other (walk, name);
      g_free (child);
    }
  else if (S_ISREG (info.st_mode))
    *path = child;
  else
    {
      *path = child;
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                           "The symbolic link leads to something that is not a file");
      return FALSE;
    }
  return TRUE;
}

/* What to do with the child @info of @folder: returns its path when it
 * is a file to hand out, enters it when it is a folder to walk. */
static gboolean
visit_child (WpCliWalk   *walk,
             WalkFolder  *folder,
             GFileInfo   *info,
             char       **path,
             GError     **error)
{
  const char *name = g_file_info_get_name (info);

  switch (g_file_info_get_file_type (info))
    {
    case G_FILE_TYPE_DIRECTORY:
      if (strcmp (name, THUMBNAILS_FOLDER) == 0)
        return TRUE;
      return enter_path (walk, g_build_filename (folder->path, name, NULL), path, error);

    case G_FILE_TYPE_REGULAR:
      if (has_extension (walk, name))
        *path = g_build_filename (folder->path, name, NULL);
      else
        note_other (walk, name);
      return TRUE;

    case G_FILE_TYPE_SYMBOLIC_LINK:
      return visit_link (walk, name, g_build_filename (folder->path, name, NULL),
                         path, error);

    default:
      if (!has_extension (walk, name))
        return TRUE;
      *path = g_build_filename (folder->path, name, NULL);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                           "Not a regular file");
      return FALSE;
    }
}

/**
 * wp_cli_walk_next:
 * @walk: a #WpCliWalk
 * @path: (out) (transfer full): the next matching file, or %NULL once
 *   the walk is done; on failure, the entry passed over
 * @error: why that entry was passed over
 *
 * Returns: %FALSE with @error and *@path set when an entry a user would
 *   expect to be taken was passed over (see the rules above); the next
 *   call goes on after it
 */
gboolean
wp_cli_walk_next (WpCliWalk  *walk,
                  char      **path,
                  GError    **error)
{
  *path = NULL;

  while (*path == NULL)
    {
      g_autoptr(GFileInfo) info = NULL;
      g_autoptr(GError) local_error = NULL;
      WalkFolder *folder;

      if (walk->folders->len == 0)
        {
          if (g_queue_is_empty (&walk->roots))
            return TRUE;
          if (!enter_path (walk, g_queue_pop_head (&walk->roots), path, error))
            return FALSE;
          continue;
        }

      folder = g_ptr_array_index (walk->folders, walk->folders->len - 1);
      info = g_file_enumerator_next_file (folder->children, NULL, &local_error);
      if (local_error != NULL)
        {
          *path = g_strdup (folder->path);
          g_propagate_error (error, g_steal_pointer (&local_error));
          leave_folder (walk);
          return FALSE;
        }
      if (info == NULL)
        {
          leave_folder (walk);
          continue;
        }
      if (!visit_child (walk, folder, info, path, error))
        return FALSE;
    }

  return TRUE;
}

/* The regular files walked so far that have none of the extensions. */
guint64
wp_cli_walk_get_n_others (WpCliWalk *walk)
{
  return walk->n_others;
}

static int
compare_by_count (gconstpointer a,
                  gconstpointer b,
                  gpointer      user_data)
{
  GHashTable *others = user_data;
  const char *extension_a = *(const char * const *) a;
  const char *extension_b = *(const char * const *) b;
  guint count_a = GPOINTER_TO_UINT (g_hash_table_lookup (others, extension_a));
  guint count_b = GPOINTER_TO_UINT (g_hash_table_lookup (others, extension_b));

  if (count_a != count_b)
    return count_a > count_b ? -1 : 1;
  return strcmp (extension_a, extension_b);
}

/**
 * wp_cli_walk_dup_other_extensions:
 * @walk: a #WpCliWalk
 *
 * Returns: (transfer full): the extensions, in lower case and without
 *   the dot, of the files counted by wp_cli_walk_get_n_others(), the
 *   most common first (a name with no extension, or one that is not a
 *   short run of letters and digits, has none)
 */
GStrv
wp_cli_walk_dup_other_extensions (WpCliWalk *walk)
{
  g_autoptr(GPtrArray) extensions = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer extension;

  g_hash_table_iter_init (&iter, walk->others);
  while (g_hash_table_iter_next (&iter, &extension, NULL))
    g_ptr_array_add (extensions, g_strdup (extension));
  g_ptr_array_sort_with_data (extensions, compare_by_count, walk->others);
  g_ptr_array_add (extensions, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&extensions), FALSE);
}
