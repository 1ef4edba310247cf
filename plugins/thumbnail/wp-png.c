/* wp-png.c: thumbnails as PNG files with text chunks, for the freedesktop cache.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The Thumbnail Managing Standard wants 8-bit RGBA, non-interlaced PNG
 * files carrying what the thumbnail was made from in tEXt chunks
 * (Thumb::URI, Thumb::MTime, ...).  wp_png_encode() gives exactly that:
 * gdk-pixbuf's built-in PNG saver (no loader module, so it works in a
 * sandboxed worker), an opaque alpha channel added to an RGB pixbuf,
 * and each key and value pair as a text chunk (tEXt when the value is
 * Latin-1, as every value the standard defines is; gdk-pixbuf writes
 * an iTXt chunk for any other).
 *
 * Keywords are checked here, so that a bad one is an error naming it and
 * never a chunk a reader would reject: 1 to 79 printable Latin-1
 * characters, no leading, trailing or double space (PNG 1.2, 11.3.4.3);
 * a keyword also travels as a UTF-8 GVariant string, so only ASCII is
 * accepted.
 */

#include <string.h>

#include "wp-png.h"

/* Fast enough for 256-pixel thumbnails, and within a few percent of
 * the size level 6 gives on photos. */
#define PNG_COMPRESSION "3"

/**
 * wp_png_check_keyword:
 * @keyword: a text chunk's keyword
 * @error: return location for an error
 *
 * Returns: %TRUE when @keyword can be a PNG text chunk's keyword, else
 *   %FALSE with a G_IO_ERROR_INVALID_ARGUMENT naming it
 */
gboolean
wp_png_check_keyword (const char  *keyword,
                      GError     **error)
{
  gsize length = strlen (keyword);
  const char *problem = NULL;

  if (length == 0 || length > WP_PNG_MAX_KEYWORD)
    problem = "it must have 1 to 79 characters";
  else if (keyword[0] == ' ' || keyword[length - 1] == ' ' || strstr (keyword, "  ") != NULL)
    problem = "no leading, trailing or double space is allowed";
  else
    for (const char *p = keyword; *p != '\0'; p++)
      if (*p < 0x20 || *p > 0x7e)
        {
          problem = "only printable ASCII characters are allowed";
          break;
        }

  if (problem == NULL)
    return TRUE;

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "Invalid PNG text keyword “%s”: %s", keyword, problem);
  return FALSE;
}

/**
 * wp_png_encode:
 * @pixbuf: an 8-bit RGB or RGBA pixbuf
 * @text: (nullable) (array zero-terminated=1): keywords and values, in
 *   turn: { "Thumb::URI", "file:///a.jpg", ..., NULL }
 * @error: return location for an error
 *
 * Encodes @pixbuf as an 8-bit RGBA, non-interlaced PNG file with a text
 * chunk per pair of @text.
 *
 * Returns: (transfer full): the file's bytes, or %NULL with @error set
 *   (G_IO_ERROR_INVALID_ARGUMENT for a bad keyword)
 */
GBytes *
wp_png_encode (GdkPixbuf           *pixbuf,
               const char * const  *text,
               GError             **error)
{
  g_autoptr(GdkPixbuf) rgba = NULL;
  g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) values = g_ptr_array_new ();
  gchar *buffer = NULL;
  gsize length = 0;

  g_return_val_if_fail (GDK_IS_PIXBUF (pixbuf), NULL);
  g_return_val_if_fail (gdk_pixbuf_get_bits_per_sample (pixbuf) == 8, NULL);

  for (gsize i = 0; text != NULL && text[i] != NULL; i += 2)
    {
      g_return_val_if_fail (text[i + 1] != NULL, NULL);
      if (!wp_png_check_keyword (text[i], error))
        return NULL;
      g_ptr_array_add (keys, g_strconcat ("tEXt::", text[i], NULL));
      g_ptr_array_add (values, (gpointer) text[i + 1]);
    }
  g_ptr_array_add (keys, g_strdup ("compression"));
  g_ptr_array_add (values, (gpointer) PNG_COMPRESSION);
  g_ptr_array_add (keys, NULL);
  g_ptr_array_add (values, NULL);

  if (gdk_pixbuf_get_has_alpha (pixbuf))
    rgba = g_object_ref (pixbuf);
  else
    rgba = gdk_pixbuf_add_alpha (pixbuf, FALSE, 0, 0, 0);
  if (rgba == NULL)
    {
      g_set_error_literal (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY,
                           "Not enough memory for the thumbnail's alpha channel");
      return NULL;
    }

  if (!gdk_pixbuf_save_to_bufferv (rgba, &buffer, &length, "png",
                                   (char **) keys->pdata, (char **) values->pdata, error))
    return NULL;

  return g_bytes_new_take (buffer, length);
}
