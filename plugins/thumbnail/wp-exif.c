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

/* How a format lays out its chunks: a header of a 4-byte type and a
 * 4-byte length (in one order or the other), the data, then padding or a
 * checksum. */
typedef struct {
  guint64     first;         /* offset of the first chunk */
  gboolean    png;           /* length (big-endian), then type; else RIFF:
                              * type, then length (little-endian) */
  const char *exif_type;
  const char *end_type;      /* nullable: the last chunk */
} ChunkLayout;

/* PNG: signature, then chunks of length, type, data and CRC (4 bytes);
 * `eXIf` may come before or after the image data. */
static const ChunkLayout png_layout = { 8, TRUE, "eXIf", "IEND" };
/* WebP: "RIFF", size, "WEBP", then chunks of FourCC, size and data
 * padded to an even length; the EXIF chunk of the extended format comes
 * after the image data. */
static const ChunkLayout webp_layout = { 12, FALSE, "EXIF", NULL };

/* Walks the chunks of a file laid out as @layout to its EXIF chunk. */
static int
chunk_orientation (int                fd,
                   guint64            file_size,
                   const ChunkLayout *layout)
{
  guint64 offset = layout->first;
  guint n_chunks;

  for (n_chunks = 0; n_chunks < MAX_CHUNKS && offset + 8 <= file_size; n_chunks++)
    {
      guint8 header[8];
      const guint8 *type, *p;
      guint32 length;

      if (!wp_format_read_at (fd, header, sizeof header, offset))
        return 0;

      type = layout->png ? header + 4 : header;
      p = layout->png ? header : header + 4;
      length = layout->png
               ? (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3]
               : (guint32) p[3] << 24 | (guint32) p[2] << 16 | (guint32) p[1] << 8 | p[0];

      if (memcmp (type, layout->exif_type, 4) == 0)
        return offset + 8 + length <= file_size ? parse_exif_at (fd, offset + 8, length) : 0;
      if (layout->end_type != NULL && memcmp (type, layout->end_type, 4) == 0)
        return 0;

      /* PNG's CRC; RIFF's padding byte after odd lengths. */
      offset += 8 + (guint64) length + (layout->png ? 4 : (length & 1));
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
    orientation = chunk_orientation (fd, (guint64) st.st_size, &png_layout);
  else if (g_strcmp0 (format_name, "webp") == 0)
    orientation = chunk_orientation (fd, (guint64) st.st_size, &webp_layout);

  return orientation != 0 ? orientation : 1;
}
