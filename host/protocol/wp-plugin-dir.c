/* wp-plugin-dir.c: plugin names and plugin files.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The plugin called NAME is the file NAME.so in the plugin directory.  A
 * name is one or more of [A-Za-z0-9_-]: it can never name another folder
 * ("/", ".."), a hidden file or an empty path, so a name that passes
 * wp_plugin_name_is_valid() is safe to join to the directory, and one that
 * does not is refused before the file system is touched.
 */

#include "config.h"

#include "wp-plugin-dir-private.h"

#include <string.h>

#define PLUGIN_SUFFIX ".so"

gboolean
wp_plugin_name_is_valid (const char *name)
{
  if (name == NULL || *name == '\0')
    return FALSE;

  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
      return FALSE;

  return TRUE;
}

char *
wp_plugin_dir_file_path (const char *plugin_dir,
                         const char *name)
{
  gsize dir_length = strlen (plugin_dir);

  g_assert (wp_plugin_name_is_valid (name));

  /* Not g_build_filename(), which costs more than the rest of a no-op
   * job's dispatch: the pool's directory is canonical, and a name has no
   * separator. */
  if (dir_length > 0 && plugin_dir[dir_length - 1] == G_DIR_SEPARATOR)
    return g_strconcat (plugin_dir, name, PLUGIN_SUFFIX, NULL);
  return g_strconcat (plugin_dir, G_DIR_SEPARATOR_S, name, PLUGIN_SUFFIX, NULL);
}

void
wp_plugin_file_id_from_stat (WpPluginFileId    *id,
                             const struct stat *st)
{
  id->dev = st->st_dev;
  id->ino = st->st_ino;
  id->mtime_ns = (gint64) st->st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000)
                 + st->st_mtim.tv_nsec;
}

gboolean
wp_plugin_file_id_equal (const WpPluginFileId *a,
                         const WpPluginFileId *b)
{
  return a->dev == b->dev && a->ino == b->ino && a->mtime_ns == b->mtime_ns;
}

static gboolean
is_regular_file (const char *dir,
                 const char *entry)
{
  g_autofree char *path = g_build_filename (dir, entry, NULL);
  struct stat st;

  return stat (path, &st) == 0 && S_ISREG (st.st_mode);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* The names of the plugins in @plugin_dir, sorted: the regular files (or
 * links to one) called NAME.so with a valid NAME.  A directory that cannot
 * be read lists no plugin. */
char **
wp_plugin_dir_list (const char *plugin_dir)
{
  g_autoptr(GDir) dir = g_dir_open (plugin_dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *entry;

  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *name = NULL;

      if (!g_str_has_suffix (entry, PLUGIN_SUFFIX))
        continue;

      name = g_strndup (entry, strlen (entry) - strlen (PLUGIN_SUFFIX));
      if (wp_plugin_name_is_valid (name) && is_regular_file (plugin_dir, entry))
        g_ptr_array_add (names, g_steal_pointer (&name));
    }

  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);

  return (char **) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}
