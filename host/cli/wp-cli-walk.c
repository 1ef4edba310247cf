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
 * GFileEnumerator per level of the folder it is in (so its memory and
 * its file descriptors grow with the depth of the tree, never with its
 * size), and each call to wp_cli_walk_next() reads only as far as the
 * next match.  A caller that asks for files as it needs them therefore
 * starts working at once and walks a million-file tree in bounded memory.
 *
 * Rules:
 *  - Folders named exactly `thumbnails` below a root are not entered:
 *    they hold what `workpool thumbnail` writes.  A root is walked
 *    whatever its name.
 *  - Symbolic links to files are followed; symbolic links to folders are
 *    not, so that a link loop cannot make the walk endless.
 *  - A folder that cannot be listed is skipped with an error:
 *    wp_cli_walk_next() returns FALSE once for it, with the folder's path
 *    in place of a file's, and the walk goes on with the rest of the tree.
 *
 * Everything runs in the caller's thread, with blocking file-system
 * calls: a walk serves one thread.
 */

#include "config.h"

#include <string.h>

#include "wp-cli-walk.h"

#define THUMBNAILS_FOLDER "thumbnails"
#define WALK_ATTRIBUTES G_FILE_ATTRIBUTE_STANDARD_NAME "," \
                        G_FILE_ATTRIBUTE_STANDARD_TYPE

/* A folder being listed: one per level, from a root down. */
typedef struct {
  char            *path;
  GFileEnumerator *children;
} WalkFolder;

struct _WpCliWalk {
  GStrv      extensions;  /* without the dot */
  GQueue     roots;       /* char *, not yet entered */
  GPtrArray *folders;     /* WalkFolder *, the deepest last */
};

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
  return walk;
}

void
wp_cli_walk_free (WpCliWalk *walk)
{
  g_strfreev (walk->extensions);
  g_queue_clear_full (&walk->roots, g_free);
  g_ptr_array_unref (walk->folders);
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

/* Starts listing the folder @path (taken), one level below the current
 * one.  On failure, *@failed is @path. */
static gboolean
enter_folder (WpCliWalk   *walk,
              char        *path,
              char       **failed,
              GError     **error)
{
  g_autofree char *owned_path = path;
  g_autoptr(GFile) file = g_file_new_for_path (path);
  WalkFolder *folder;
  GFileEnumerator *children;

  children = g_file_enumerate_children (file, WALK_ATTRIBUTES,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                        NULL, error);
  if (children == NULL)
    {
      *failed = g_steal_pointer (&owned_path);
      return FALSE;
    }

  folder = g_new0 (WalkFolder, 1);
  folder->path = g_steal_pointer (&owned_path);
  folder->children = children;
  g_ptr_array_add (walk->folders, folder);
  return TRUE;
}

static void
leave_folder (WpCliWalk *walk)
{
  g_assert (walk->folders->len > 0);
  g_ptr_array_remove_index (walk->folders, walk->folders->len - 1);
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
  g_autofree char *child = NULL;

  switch (g_file_info_get_file_type (info))
    {
    case G_FILE_TYPE_DIRECTORY:
      if (strcmp (name, THUMBNAILS_FOLDER) == 0)
        return TRUE;
      return enter_folder (walk, g_build_filename (folder->path, name, NULL),
                           path, error);

    case G_FILE_TYPE_REGULAR:
      if (has_extension (walk, name))
        *path = g_build_filename (folder->path, name, NULL);
      return TRUE;

    case G_FILE_TYPE_SYMBOLIC_LINK:
      if (!has_extension (walk, name))
        return TRUE;
      child = g_build_filename (folder->path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_REGULAR))
        *path = g_steal_pointer (&child);
      return TRUE;

    default:
      return TRUE;
    }
}

/**
 * wp_cli_walk_next:
 * @walk: a #WpCliWalk
 * @path: (out) (transfer full): the next matching file, or %NULL once
 *   the walk is done; on failure, the folder that could not be listed
 * @error: why that folder could not be listed
 *
 * Returns: %FALSE with @error and *@path set when a folder could not be
 *   listed; that folder is skipped and the next call goes on after it
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
          if (!enter_folder (walk, g_queue_pop_head (&walk->roots), path, error))
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
