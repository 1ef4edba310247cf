/* wp-exif.c: the EXIF orientation of images whose gdk-pixbuf loader does not report it.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * wp-image.c takes a non-JPEG image's orientation from the "orientation"
 * option its gdk-pixbuf loader sets.  Which loaders set it, on Debian 12:
 *
 *   JPEG   yes, but JPEG files go through wp-jpeg.c, which reads it itself.
 *   TIFF   yes (gdk-pixbuf 2.42's io-tiff): libtiff's RGBA reader already
 *          applies orientations 2 to 4 and gives 5 to 8 as their mirror
 *          images, and the loader sets the option to what remains to do
 *          (5 or 7), so the option is right as it is.
 *   PNG    no: an `eXIf` chunk is ignored.
 *   WebP   no (webp-pixbuf-loader 0.2.1 ignores the EXIF chunk).
 *   HEIF, AVIF  no, and rightly: the HEIF standard (ISO/IEC 23008-12,
 *          Annex A) makes EXIF metadata descriptive; the rotation and
 *          mirroring to display are the container's `irot` and `imir`
 *          properties, which libheif (heif_decode_image(), in
 *          heif-gdk-pixbuf) and libavif's loader apply before the pixels
 *          reach us.  Phones write both (an iPhone photo: `irot` and
 *          EXIF orientation 6), so applying the EXIF tag as well would
 *          turn such a photo twice; it is never applied for these formats.
 *
 * wp_exif_find_orientation() fills the gap for PNG and WebP: it walks
 * the file's chunks (PNG chunks, RIFF chunks) with pread(), reads the
 * EXIF payload (`eXIf`, `EXIF`) and parses its Orientation tag with the
 * JPEG code's parser (wp_exif_get_orientation(), wp-jpeg.c).  The EXIF
 * payload is a TIFF structure; some writers prefix it with the
 * "Exif\0\0" of JPEG's APP1, which is accepted too.
 *
 * Invariants: any input is safe (every length is checked against the
 * file's size, at most MAX_EXIF_LENGTH bytes are read, the walk stops at
 * MAX_CHUNKS chunks); the descriptor's offset is left alone; a file
 * without a readable orientation is orientation 1.
 */

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wp-exif.h"
#include "wp-format.h"
#include "wp-jpeg.h"

/* The Orientation tag is in the first IFD, in the first few hundred
 * bytes of any EXIF block; a longer one is read that far only. */
#define MAX_EXIF_LENGTH 65536
/* A PNG of large images has one IDAT chunk per 8 KiB or so. */
#define MAX_CHUNKS      (1 << 20)

static const guint8 exif_prefix[6] = { 'E', 'x', 'i', 'f', 0, 0 };

/* Reads @length bytes of EXIF at @offset and parses the orientation. */
static int
parse_exif_at (int     fd,
               guint64 offset,
               guint64 length)
{
  g_autofree guint8 *block = NULL;
  gsize read_length = (gsize) MIN (length, MAX_EXIF_LENGTH);

  if (read_length < 8)
    return 0;

  /* wp_exif_get_orientation() wants JPEG's APP1 payload: "Exif\0\0",
   * then the TIFF structure. */
  block = g_malloc (sizeof exif_prefix + read_length);
  memcpy (block, exif_prefix, sizeof exif_prefix);
  if (!wp_format_read_at (fd, block + sizeof exif_prefix, read_length, offset))
    return 0;

  if (memcmp (block + sizeof exif_prefix, exif_prefix, sizeof exif_prefix) == 0)
    return wp_exif_get_orientation (block + sizeof exif_prefix, read_length);

  return wp_exif_get_orientation (block, sizeof exif_prefix + read_length);
}

static guint32
be32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[3] << 24 | (guint32) p[2] << 16 | (guint32) p[1] << 8 | p[0];
}

/* PNG: signature, then chunks of length (4, big-endian), type (4), data,
 * CRC (4).  `eXIf` may come before or after the image data. */
static int
png_orientation (int     fd,
                 guint64 file_size)
{
  guint64 offset = 8;
  guint n_chunks;

  for (n_chunks = 0; n_chunks < MAX_CHUNKS && offset + 8 <= file_size; n_chunks++)
    {
      guint8 header[8];
      guint32 length;

      if (!wp_format_read_at (fd, header, sizeof header, offset))
        return 0;

      length = be32 (header);
      if (memcmp (header + 4, "eXIf", 4) == 0)
        return offset + 8 + length <= file_size ? parse_exif_at (fd, offset + 8, length) : 0;
      if (memcmp (header + 4, "IEND", 4) == 0)
        return 0;

      offset += 12 + (guint64) length;
    }

  return 0;
}

/* WebP: "RIFF", size, "WEBP", then chunks of FourCC, size (4,
 * little-endian) and data padded to an even length.  The EXIF chunk of
 * the extended format comes after the image data. */
static int
webp_orientation (int     fd,
                  guint64 file_size)
{
  guint64 offset = 12;
  guint n_chunks;

  for (n_chunks = 0; n_chunks < MAX_CHUNKS && offset + 8 <= file_size; n_chunks++)
    {
      guint8 header[8];
      guint32 length;

      if (!wp_format_read_at (fd, header, sizeof header, offset))
        return 0;

      length = le32 (header + 4);
      if (memcmp (header, "EXIF", 4) == 0)
        return offset + 8 + length <= file_size ? parse_exif_at (fd, offset + 8, length) : 0;

      offset += 8 + (guint64) length + (length & 1);
    }

  return 0;
}

/**
 * wp_exif_find_orientation:
 * @fd: the image file, open for reading
 * @format_name: gdk-pixbuf's name of the format its loader found
 *
 * The EXIF orientation of a PNG or WebP file, read from its EXIF chunk.
 * Other formats' loaders report theirs, or must not have it applied
 * (see above).
 *
 * Returns: the orientation, 1 to 8; 1 when there is none or for another
 *   format
 */
int
wp_exif_find_orientation (int         fd,
                          const char *format_name)
{
  struct stat st;
  int orientation = 0;

  if (fstat (fd, &st) < 0)
    return 1;

  if (g_strcmp0 (format_name, "png") == 0)
    orientation = png_orientation (fd, (guint64) st.st_size);
  else if (g_strcmp0 (format_name, "webp") == 0)
    orientation = webp_orientation (fd, (guint64) st.st_size);

  return orientation != 0 ? orientation : 1;
}
