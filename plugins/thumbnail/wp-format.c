/* wp-format.c: what an image file is, from its first bytes, and which loader reads it.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gdk-pixbuf picks a loader by matching each installed loader's
 * signatures against a file's first bytes; when none matches it says
 * only "Unrecognized image file format", which is also what a WebP, AVIF
 * or HEIC photo gets on a machine without that format's loader.
 * wp_format_explain_missing_loader() turns that error into one that names
 * the format, recognised here from the content (never from the file
 * name), and the Debian package that has its loader.
 *
 * wp_format_sniff() knows the formats that have a gdk-pixbuf loader in
 * Debian 12, gdk-pixbuf's own included (a broken install can miss those
 * too), and a few common ones that have none (JPEG XL, JPEG 2000), for
 * which it says so.  ISO base media files (HEIF, AVIF) are told apart by
 * the brands of their `ftyp` box: AVIF files also list the generic HEIF
 * brands `mif1`/`msf1`, so the AVIF brands are looked for first.
 *
 * Invariants: only the first WP_FORMAT_SNIFF_LENGTH bytes are read, with
 * pread() (the descriptor's offset is left alone); every guess is a
 * static table entry.  wp_format_read_at() is the plugin's pread() of
 * exact lengths, for the container parsers (wp-exif.c, wp-ico.c).
 */

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "wp-format.h"

#define PACKAGE_GDK_PIXBUF "libgdk-pixbuf-2.0-0"

static const WpFormatGuess webp = { "WebP", "webp-pixbuf-loader" };
static const WpFormatGuess avif = { "AVIF", "libavif-gdk-pixbuf" };
static const WpFormatGuess heif = { "HEIF/HEIC", "heif-gdk-pixbuf" };
static const WpFormatGuess jpeg_xl = { "JPEG XL", NULL };
static const WpFormatGuess jpeg_2000 = { "JPEG 2000", NULL };
static const WpFormatGuess svg = { "SVG", "librsvg2-common" };
static const WpFormatGuess wmf = { "WMF", "libwmf-0.2-7-gtk" };

/* Formats whose loader comes with gdk-pixbuf itself. */
static const struct {
  const char    *magic;
  gsize          length;
  WpFormatGuess  guess;
} own_formats[] = {
  { "\x89PNG\r\n\x1a\n", 8, { "PNG", PACKAGE_GDK_PIXBUF } },
  { "\xff\xd8\xff", 3, { "JPEG", PACKAGE_GDK_PIXBUF } },
  { "GIF8", 4, { "GIF", PACKAGE_GDK_PIXBUF } },
  { "II*\0", 4, { "TIFF", PACKAGE_GDK_PIXBUF } },
  { "MM\0*", 4, { "TIFF", PACKAGE_GDK_PIXBUF } },
  { "BM", 2, { "BMP", PACKAGE_GDK_PIXBUF } },
  { "\0\0\1\0", 4, { "ICO", PACKAGE_GDK_PIXBUF } },
  { "\0\0\2\0", 4, { "CUR", PACKAGE_GDK_PIXBUF } },
  { "icns", 4, { "ICNS", PACKAGE_GDK_PIXBUF } },
};

static gboolean
starts_with (const guint8 *data,
             gsize         length,
             const char   *magic,
             gsize         magic_length)
{
  return length >= magic_length && memcmp (data, magic, magic_length) == 0;
}

/* Whether an ISO base media `ftyp` box at @data lists one of @brands
 * (four characters each) as its major or a compatible brand. */
static gboolean
ftyp_has_brand (const guint8 *data,
                gsize         length,
                const char   *brands)
{
  guint32 box_size = (guint32) data[0] << 24 | (guint32) data[1] << 16 |
                     (guint32) data[2] << 8 | data[3];
  gsize end = MIN ((gsize) box_size, length);
  gsize offset;

  for (offset = 8; offset + 4 <= end; offset += 4)
    {
      const char *brand;

      /* Bytes 12 to 15 are the minor version, not a brand. */
      if (offset == 12)
        continue;

      for (brand = brands; *brand != '\0'; brand += 4)
        if (memcmp (data + offset, brand, 4) == 0)
          return TRUE;
    }

  return FALSE;
}

/* Whether "<svg" is among the first @length bytes of an XML file. */
static gboolean
looks_like_svg (const guint8 *data,
                gsize         length)
{
  gsize i;

  if (!starts_with (data, length, "<?xml", 5) &&
      !starts_with (data, length, "<svg", 4) &&
      !starts_with (data, length, "\xef\xbb\xbf<", 4))
    return FALSE;

  for (i = 0; i + 4 <= length; i++)
    if (memcmp (data + i, "<svg", 4) == 0)
      return TRUE;

  return FALSE;
}

/**
 * wp_format_sniff:
 * @data: the first bytes of a file
 * @length: how many; WP_FORMAT_SNIFF_LENGTH is enough
 *
 * Recognises an image format from a file's content.
 *
 * Returns: (nullable): the format and its loader's package, or %NULL
 *   when the content is none of the formats known here
 */
const WpFormatGuess *
wp_format_sniff (const guint8 *data,
                 gsize         length)
{
  gsize i;

  if (length >= 12 && memcmp (data, "RIFF", 4) == 0 && memcmp (data + 8, "WEBP", 4) == 0)
    return &webp;

  if (length >= 16 && memcmp (data + 4, "ftyp", 4) == 0)
    {
      if (ftyp_has_brand (data, length, "avifavis"))
        return &avif;
      if (ftyp_has_brand (data, length, "heicheixhevchevxheimheishevmhevsmif1msf1"))
        return &heif;
      return NULL;
    }

  if (starts_with (data, length, "\xff\x0a", 2) ||
      starts_with (data, length, "\0\0\0\x0cJXL \r\n\x87\n", 12))
    return &jpeg_xl;

  if (starts_with (data, length, "\0\0\0\x0cjP  \r\n\x87\n", 12) ||
      starts_with (data, length, "\xff\x4f\xff\x51", 4))
    return &jpeg_2000;

  if (starts_with (data, length, "\xd7\xcd\xc6\x9a", 4))
    return &wmf;

  if (looks_like_svg (data, length))
    return &svg;

  for (i = 0; i < G_N_ELEMENTS (own_formats); i++)
    if (starts_with (data, length, own_formats[i].magic, own_formats[i].length))
      return &own_formats[i].guess;

  return NULL;
}

/**
 * wp_format_read_at:
 * @fd: a file, open for reading
 * @buffer: where to read
 * @length: how many bytes
 * @offset: from where in the file
 *
 * pread() of exactly @length bytes, retried when interrupted or short;
 * the descriptor's offset is left alone.
 *
 * Returns: %TRUE when all @length bytes were read, %FALSE on an error or
 *   at the end of the file
 */
gboolean
wp_format_read_at (int      fd,
                   guint8  *buffer,
                   gsize    length,
                   guint64  offset)
{
  gsize done = 0;

  while (done < length)
    {
      gssize n = pread (fd, buffer + done, length - done, (off_t) (offset + done));

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      done += (gsize) n;
    }

  return TRUE;
}

/**
 * wp_format_explain_missing_loader:
 * @fd: the image file, open for reading
 * @path: its path, for the message
 * @error: (inout): an error from loading the file
 *
 * When @error is gdk-pixbuf's GDK_PIXBUF_ERROR_UNKNOWN_TYPE and the
 * file's content is a format recognised here, replaces its message with
 * one that names the format and the package of its loader, keeping the
 * domain and code.  Leaves any other error as it is.
 */
void
wp_format_explain_missing_loader (int          fd,
                                  const char  *path,
                                  GError     **error)
{
  guint8 data[WP_FORMAT_SNIFF_LENGTH];
  const WpFormatGuess *guess;
  char *message;
  gssize n;

  if (error == NULL || *error == NULL ||
      !g_error_matches (*error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_UNKNOWN_TYPE))
    return;

  do
    n = pread (fd, data, sizeof data, 0);
  while (n < 0 && errno == EINTR);

  if (n <= 0)
    return;

  guess = wp_format_sniff (data, (gsize) n);
  if (guess == NULL)
    return;

  if (guess->package != NULL)
    message = g_strdup_printf ("Failed to load image “%s”: no gdk-pixbuf loader "
                               "for %s, the format of its content, is installed "
                               "(Debian package: %s)", path, guess->name,
                               guess->package);
  else
    message = g_strdup_printf ("Failed to load image “%s”: no gdk-pixbuf loader "
                               "for %s, the format of its content, is installed "
                               "(Debian 12 has none)", path, guess->name);

  g_free ((*error)->message);
  (*error)->message = message;
}
