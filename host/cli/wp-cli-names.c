/* wp-cli-names.c: the file name of an image's thumbnails, for `workpool thumbnail`.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   g_autoptr(WpCliNames) names = wp_cli_names_new ((const char *[]) { "jpg", "png", NULL });
 *   g_autofree char *name = wp_cli_names_get (names, "Photos/a.png", &error);
 *   // "a.jpg", or "a.png.jpg" when Photos also holds a.jpg
 *
 * The rule.  The images of a folder are the files there that the walk
 * takes (wp-cli-walk.c: a name ending in one of the extensions, in any
 * ASCII case, and a regular file or a symbolic link to one).  An image's
 * thumbnails are named STEM.jpg, STEM being its name without its last
 * extension (photo.jpeg: photo.jpg), except that an image takes its full
 * name, NAME.jpg (a.png: a.png.jpg), when
 *
 *   1. another image of the folder has the same stem (a.jpg, a.JPG,
 *      a.jpeg and a.png: a.jpg.jpg, a.JPG.jpg, a.jpeg.jpg, a.png.jpg), or
 *   2. its stem is the name of another image of the folder (a.jpg.png
 *      beside a.jpg: a.jpg.png.jpg).
 *
 * So distinct images never share a name: two stems differ or the first
 * rule applies; two full names differ; and a stem name equals a full name
 * only when the stem is an image's name, which the second rule excludes.
 * Stems and names are compared ignoring case (g_utf8_casefold()), so
 * that this holds on case-insensitive file systems too (A.jpg beside
 * a.png: A.jpg.jpg and a.png.jpg, not A.jpg and a.jpg, which are one file
 * there).  A folder with one image per stem keeps the STEM.jpg names.  The rule depends on the folder's listing
 * only, never on the order the images are found in, so every run names
 * an image the same way as long as the folder's images stay the same.
 *
 * The cache.  Each folder is listed once when its first image is named,
 * and only the names that take the full form are kept.  The walk is depth
 * first, so the folders it may come back to are the ancestors of the one
 * it is in: listing a new folder drops every cached folder that is not
 * one of its ancestors, and the cache never holds more than one path of
 * the tree.
 *
 * Everything runs in the caller's thread, with blocking file-system
 * calls.
 */

#include "config.h"

#include <string.h>

#include "wp-cli-names.h"

#define LIST_ATTRIBUTES G_FILE_ATTRIBUTE_STANDARD_NAME "," \
                        G_FILE_ATTRIBUTE_STANDARD_TYPE

struct _WpCliNames {
  GStrv       extensions;  /* without the dot */
  GHashTable *folders;     /* folder path -> GHashTable set of full-named images */
};

WpCliNames *
wp_cli_names_new (const char * const *extensions)
{
  WpCliNames *names = g_new0 (WpCliNames, 1);

  names->extensions = g_strdupv ((GStrv) extensions);
  names->folders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) g_hash_table_unref);
  return names;
}

void
wp_cli_names_free (WpCliNames *names)
{
  g_strfreev (names->extensions);
  g_hash_table_unref (names->folders);
  g_free (names);
}

/* The walk's rule (wp-cli-walk.c). */
static gboolean
has_extension (WpCliNames *names,
               const char *name)
{
  const char *dot = strrchr (name, '.');

  if (dot == NULL || dot == name)
    return FALSE;
  for (gsize i = 0; names->extensions[i] != NULL; i++)
    if (g_ascii_strcasecmp (dot + 1, names->extensions[i]) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
is_image (WpCliNames *names,
          const char *folder,
          GFileInfo  *info)
{
  const char *name = g_file_info_get_name (info);
  g_autofree char *path = NULL;

  if (!has_extension (names, name))
    return FALSE;
  switch (g_file_info_get_file_type (info))
    {
    case G_FILE_TYPE_REGULAR:
      return TRUE;
    case G_FILE_TYPE_SYMBOLIC_LINK:
      path = g_build_filename (folder, name, NULL);
      return g_file_test (path, G_FILE_TEST_IS_REGULAR);
    default:
      return FALSE;
    }
}

static char *
stem_of (const char *name)
{
  const char *dot = strrchr (name, '.');

  return dot != NULL && dot != name ? g_strndup (name, (gsize) (dot - name))
                                    : g_strdup (name);
}

/* What names are compared by: @name without case, or as it is when it
 * is not UTF-8 (such an image fails anyway: the plugin's paths are
 * GVariant strings). */
static char *
comparison_key (const char *name)
{
  if (g_utf8_validate (name, -1, NULL))
    return g_utf8_casefold (name, -1);
  return g_strdup (name);
}

/* The set of the images of @folder that take their full name. */
static GHashTable *
list_full_names (WpCliNames  *names,
                 const char  *folder,
                 GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (folder);
  g_autoptr(GFileEnumerator) children = NULL;
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) stems = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) image_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTable *full = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  children = g_file_enumerate_children (file, LIST_ATTRIBUTES,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                        NULL, error);
  if (children == NULL)
    {
      g_hash_table_unref (full);
      return NULL;
    }
  while (TRUE)
    {
      g_autoptr(GFileInfo) info = NULL;
      GError *local_error = NULL;

      info = g_file_enumerator_next_file (children, NULL, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          g_hash_table_unref (full);
          return NULL;
        }
      if (info == NULL)
        break;
      if (is_image (names, folder, info))
        g_ptr_array_add (images, g_strdup (g_file_info_get_name (info)));
    }

  for (guint i = 0; i < images->len; i++)
    {
      g_autofree char *stem = stem_of (g_ptr_array_index (images, i));
      char *key = comparison_key (stem);
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (stems, key));

      g_hash_table_insert (stems, key, GUINT_TO_POINTER (count + 1));
      g_hash_table_add (image_keys, comparison_key (g_ptr_array_index (images, i)));
    }
  for (guint i = 0; i < images->len; i++)
    {
      const char *image = g_ptr_array_index (images, i);
      g_autofree char *stem = stem_of (image);
      g_autofree char *key = comparison_key (stem);

      if (GPOINTER_TO_UINT (g_hash_table_lookup (stems, key)) > 1
          || g_hash_table_contains (image_keys, key))
        g_hash_table_add (full, g_strdup (image));
    }
  return full;
}

/* TRUE when @ancestor is @folder or one of its ancestors. */
static gboolean
is_ancestor (const char *ancestor,
             const char *folder)
{
  gsize length = strlen (ancestor);

  if (strncmp (ancestor, folder, length) != 0)
    return FALSE;
  return folder[length] == '\0' || folder[length] == G_DIR_SEPARATOR
         || (length > 0 && ancestor[length - 1] == G_DIR_SEPARATOR);
}

static gboolean
is_not_ancestor (gpointer key,
                 gpointer value,
                 gpointer user_data)
{
  return !is_ancestor (key, user_data);
}

/**
 * wp_cli_names_get:
 * @names: a #WpCliNames
 * @source: an image's path, as the walk gave it
 * @error: why its folder could not be listed
 *
 * Returns: (transfer full): the file name of @source's thumbnails,
 *   STEM.jpg or NAME.jpg (see the top of this file), or %NULL with @error
 *   set when its folder could not be listed
 */
char *
wp_cli_names_get (WpCliNames  *names,
                  const char  *source,
                  GError     **error)
{
  g_autofree char *folder = g_path_get_dirname (source);
  g_autofree char *name = g_path_get_basename (source);
  g_autofree char *stem = NULL;
  GHashTable *full = g_hash_table_lookup (names->folders, folder);

  if (full == NULL)
    {
      g_hash_table_foreach_remove (names->folders, is_not_ancestor, folder);
      full = list_full_names (names, folder, error);
      if (full == NULL)
        return NULL;
      g_hash_table_insert (names->folders, g_strdup (folder), full);
    }

  if (g_hash_table_contains (full, name))
    return g_strconcat (name, ".jpg", NULL);
  stem = stem_of (name);
  return g_strconcat (stem, ".jpg", NULL);
}
