/* wp-cli-formats.c: the file name extensions of the installed gdk-pixbuf loaders.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `workpool thumbnail --ext all` takes every file whose extension one of
 * the installed gdk-pixbuf loaders declares (gdk_pixbuf_get_formats(),
 * from gdk-pixbuf's loaders.cache: no loader is loaded to list them).
 * The command's own process decides which files are taken; the workers
 * decode them.  Both use the same gdk-pixbuf install, and the same
 * GDK_PIXBUF_MODULE_FILE when it is set, since workers inherit the
 * command's environment: a file taken by extension is one a worker has
 * a loader for, though its content may still be another format.  JPEG
 * is in the list too (its extensions are the JPEG loader's), although
 * the plugin decodes JPEG itself.
 *
 * Invariants: the list is lower-case, sorted, without repeats or
 * disabled formats, and without extensions that hold a dot ("svg.gz"):
 * the walk compares what follows a name's last dot.
 */

#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>

#include "wp-cli-formats.h"

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/**
 * wp_cli_formats_dup_extensions:
 *
 * Returns: (transfer full): the extensions, without their dot, of every
 *   format the installed gdk-pixbuf loaders read; possibly empty
 */
GStrv
wp_cli_formats_dup_extensions (void)
{
  g_autoptr(GSList) formats = gdk_pixbuf_get_formats ();
  g_autoptr(GPtrArray) extensions = g_ptr_array_new_with_free_func (g_free);

  for (GSList *l = formats; l != NULL; l = l->next)
    {
      GdkPixbufFormat *format = l->data;
      g_auto(GStrv) names = NULL;

      if (gdk_pixbuf_format_is_disabled (format))
        continue;

      names = gdk_pixbuf_format_get_extensions (format);
      for (guint i = 0; names[i] != NULL; i++)
        {
          char *extension = g_ascii_strdown (names[i], -1);
          guint index;

          if (*extension == '\0' || strchr (extension, '.') != NULL ||
              g_ptr_array_find_with_equal_func (extensions, extension, g_str_equal, &index))
            g_free (extension);
          else
            g_ptr_array_add (extensions, extension);
        }
    }

  g_ptr_array_sort (extensions, compare_strings);
  g_ptr_array_add (extensions, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&extensions), FALSE);
}

/**
 * wp_cli_formats_has_extension:
 * @extension: a file name extension without its dot, lower-case
 *
 * Returns: whether an installed gdk-pixbuf loader declares @extension
 */
gboolean
wp_cli_formats_has_extension (const char *extension)
{
  g_auto(GStrv) extensions = wp_cli_formats_dup_extensions ();

  return g_strv_contains ((const char * const *) extensions, extension);
}
