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
 *   HEIF, AVIF  no.  The HEIF standard (ISO/IEC 23008-12, Annex A) makes
 *          EXIF metadata descriptive; the rotation and mirroring to
 *          display are the container's `irot` and `imir` properties,
 *          which libheif (heif_decode_image() with its default options, in
 *          heif-gdk-pixbuf) and libavif's loader apply before the pixels
 *          reach us.  Phones write both (an iPhone photo: `irot` and EXIF
 *          orientation 6), so the EXIF tag must not be applied as well;
 *          but converters such as libheif 1.15's heif-enc copy a JPEG's
 *          EXIF orientation and write no `irot`, and the image is then
 *          meant to be shown turned.  So the EXIF orientation is applied
 *          when, and only when, the primary image has neither `irot` (of
 *          a non-zero angle) nor `imir`.
 *
 * wp_exif_find_orientation() fills the gap: for PNG and WebP it walks
 * the file's chunks (PNG chunks, RIFF chunks) with pread() to the EXIF
 * payload (`eXIf`, `EXIF`); for HEIF and AVIF it reads the top-level
 * `meta` box whole and finds there the primary item (`pitm`), whether
 * its properties (`iprp`: `ipco`, `ipma`) rotate or mirror it, and the
 * `Exif` item (`iinf`) and its data (`iloc`, in the file or in `idat`),
 * whose first 4 bytes give the offset of its TIFF header.  The
 * Orientation tag is parsed with the JPEG code's parser
 * (wp_exif_get_orientation(), wp-jpeg.c).  The EXIF payload is a TIFF
 * structure; some writers prefix it with the "Exif\0\0" of JPEG's APP1,
 * which is accepted too.
 *
 * Invariants: any input is safe (every length is checked against the
 * file's size or the buffer's, at most MAX_EXIF_LENGTH bytes of EXIF and
 * MAX_META_LENGTH of `meta` are read, the walks stop at MAX_CHUNKS
 * chunks or boxes); the descriptor's offset is left alone; a file
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

/* The orientation in an EXIF payload: a TIFF structure, with or without
 * JPEG's "Exif\0\0" before it. */
static int
exif_orientation_of (const guint8 *data,
                     gsize         length)
{
  g_autofree guint8 *block = NULL;

  if (length >= sizeof exif_prefix && memcmp (data, exif_prefix, sizeof exif_prefix) == 0)
    return wp_exif_get_orientation (data, length);

  /* wp_exif_get_orientation() wants JPEG's APP1 payload. */
  block = g_malloc (sizeof exif_prefix + length);
  memcpy (block, exif_prefix, sizeof exif_prefix);
  memcpy (block + sizeof exif_prefix, data, length);
  return wp_exif_get_orientation (block, sizeof exif_prefix + length);
}

/* Reads @length bytes of EXIF at @offset and parses the orientation. */
static int
parse_exif_at (int     fd,
               guint64 offset,
               guint64 length)
{
  gsize read_length = (gsize) MIN (length, MAX_EXIF_LENGTH);
  g_autofree guint8 *block = g_malloc (MAX (read_length, 1));

  if (read_length < 8 || !wp_format_read_at (fd, block, read_length, offset))
    return 0;

  return exif_orientation_of (block, read_length);
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

/* ---- HEIF and AVIF ---------------------------------------------------- */

/* The `meta` box of a HEIF file lists the items (`iinf`), where their data
 * is (`iloc`), which is the primary one (`pitm`) and the properties of
 * each (`iprp`: `ipco` holds them, `ipma` says which item has which).
 * It is read whole, up to MAX_META_LENGTH (a few KiB in practice). */
#define MAX_META_LENGTH (1 << 20)

/* Big-endian fields of a buffer, with every read checked. */
typedef struct {
  const guint8 *data;
  gsize         end;
  gsize         offset;
  gboolean      ok;
} Reader;

static guint64
take (Reader *r,
      guint   n_bytes)
{
  guint64 value = 0;
  guint i;

  if (!r->ok || n_bytes > r->end - r->offset)
    {
      r->ok = FALSE;
      return 0;
    }

  for (i = 0; i < n_bytes; i++)
    value = value << 8 | r->data[r->offset + i];
  r->offset += n_bytes;
  return value;
}

/* The box at @r's offset: its type and its payload's range; @r moves
 * past it.  FALSE at the end or on a malformed box. */
static gboolean
next_box (Reader *r,
          guint8  type[4],
          gsize  *payload,
          gsize  *payload_end)
{
  gsize start = r->offset;
  guint64 size;

  if (r->end - r->offset < 8)
    return FALSE;

  size = take (r, 4);
  memcpy (type, r->data + r->offset, 4);
  r->offset += 4;
  if (size == 1)
    size = take (r, 8);
  else if (size == 0)
    size = r->end - start;

  if (!r->ok || size < r->offset - start || size > r->end - start)
    return FALSE;

  *payload = r->offset;
  *payload_end = start + (gsize) size;
  r->offset = *payload_end;
  return TRUE;
}

/* What the orientation needs of a `meta` box. */
typedef struct {
  guint32  primary;        /* pitm */
  guint32  exif;           /* the first item of type Exif; 0: none */
  gboolean rotates;        /* the primary item has irot (not 0°) or imir */
  guint64  exif_offset;    /* in the file, or in idat */
  guint64  exif_length;
  gboolean exif_in_idat;
  gsize    idat;           /* idat's payload in the meta buffer; 0: none */
  gsize    idat_end;
} HeifMeta;

static void
parse_iinf (Reader   *r,
            HeifMeta *meta)
{
  guint version = (guint) take (r, 4) >> 24;
  guint8 type[4];
  gsize payload, payload_end;

  take (r, version == 0 ? 2 : 4);  /* entry count: the boxes tell */
  while (r->ok && meta->exif == 0 && next_box (r, type, &payload, &payload_end))
    {
      Reader infe = { r->data, payload_end, payload, TRUE };
      guint infe_version = (guint) take (&infe, 4) >> 24;
      guint32 id;

      if (memcmp (type, "infe", 4) != 0 || infe_version < 2)
        continue;
      id = (guint32) take (&infe, infe_version == 2 ? 2 : 4);
      take (&infe, 2);  /* protection index */
      if (infe.ok && infe.end - infe.offset >= 4 &&
          memcmp (infe.data + infe.offset, "Exif", 4) == 0)
        meta->exif = id;
    }
}

/* Finds the Exif item's only extent. */
static void
parse_iloc (Reader   *r,
            HeifMeta *meta)
{
  guint version = (guint) take (r, 4) >> 24;
  guint sizes = (guint) take (r, 2);
  guint offset_size = sizes >> 12, length_size = (sizes >> 8) & 0xF;
  guint base_offset_size = (sizes >> 4) & 0xF;
  guint index_size = version >= 1 ? sizes & 0xF : 0;
  guint64 n_items = take (r, version < 2 ? 2 : 4);
  guint64 i, j;

  for (i = 0; i < n_items && r->ok; i++)
    {
      guint64 id = take (r, version < 2 ? 2 : 4);
      guint method = version >= 1 ? (guint) take (r, 2) & 0xF : 0;
      guint64 base, n_extents;

      take (r, 2);  /* data reference index */
      base = take (r, base_offset_size);
      n_extents = take (r, 2);
      for (j = 0; j < n_extents && r->ok; j++)
        {
          guint64 offset, length;

          take (r, index_size);
          offset = take (r, offset_size);
          length = take (r, length_size);
          if (r->ok && id == meta->exif && n_extents == 1 && method <= 1)
            {
              meta->exif_offset = base + offset;
              meta->exif_length = length;
              meta->exif_in_idat = method == 1;
            }
        }
    }
}

/* Whether the primary item has a rotation or a mirroring. */
static void
parse_iprp (Reader   *r,
            HeifMeta *meta)
{
  guint8 type[4];
  gsize payload, payload_end;
  gsize ipco = 0, ipco_end = 0;

  while (next_box (r, type, &payload, &payload_end))
    {
      Reader ipma;
      guint flags;
      guint64 n_entries, i;

      if (memcmp (type, "ipco", 4) == 0)
        {
          ipco = payload;
          ipco_end = payload_end;
        }
      if (memcmp (type, "ipma", 4) != 0 || ipco == 0)
        continue;

      ipma = (Reader) { r->data, payload_end, payload, TRUE };
      flags = (guint) take (&ipma, 4);
      n_entries = take (&ipma, 4);
      for (i = 0; i < n_entries && ipma.ok; i++)
        {
          guint64 id = take (&ipma, (flags >> 24) < 1 ? 2 : 4);
          guint n_associations = (guint) take (&ipma, 1), k;

          for (k = 0; k < n_associations && ipma.ok; k++)
            {
              guint index = (flags & 1) ? (guint) take (&ipma, 2) & 0x7FFF
                                        : (guint) take (&ipma, 1) & 0x7F;
              Reader properties = { r->data, ipco_end, ipco, TRUE };
              guint8 property[4];
              gsize start = 0, end = 0;
              gboolean found = FALSE;
              guint n;

              if (id != meta->primary || index == 0)
                continue;
              /* Properties are numbered from 1, in ipco's order. */
              for (n = 1; !found && next_box (&properties, property, &start, &end); n++)
                found = n == index;
              if (!found)
                continue;
              if (memcmp (property, "imir", 4) == 0 ||
                  (memcmp (property, "irot", 4) == 0 && end > start && (r->data[start] & 3) != 0))
                meta->rotates = TRUE;
            }
        }
    }
}

/* HEIF (and AVIF, a HEIF): the Exif item's orientation, unless the
 * container rotates or mirrors the primary image itself. */
static int
heif_orientation (int     fd,
                  guint64 file_size)
{
  g_autofree guint8 *buffer = NULL;
  g_autofree guint8 *exif = NULL;
  HeifMeta meta = { 0, };
  guint64 offset = 0;
  guint n_boxes;
  Reader r;
  guint8 type[4];
  gsize payload, payload_end, exif_length;
  guint64 tiff_offset;

  /* The top-level boxes, to `meta`. */
  for (n_boxes = 0; n_boxes < MAX_CHUNKS && buffer == NULL; n_boxes++)
    {
      guint8 header[16];
      gsize header_length = 8, available;
      guint64 size;

      if (offset > file_size || file_size - offset < 8)
        return 0;
      available = (gsize) MIN (sizeof header, file_size - offset);
      if (!wp_format_read_at (fd, header, available, offset))
        return 0;

      r = (Reader) { header, available, 0, TRUE };
      size = take (&r, 4);
      if (size == 1)
        {
          r.offset = 8;
          size = take (&r, 8);
          header_length = 16;
        }
      else if (size == 0)
        {
          size = file_size - offset;
        }
      if (!r.ok || size < header_length || size > file_size - offset)
        return 0;

      if (memcmp (header + 4, "meta", 4) == 0)
        {
          if (size - header_length > MAX_META_LENGTH)
            return 0;
          buffer = g_malloc ((gsize) (size - header_length));
          if (!wp_format_read_at (fd, buffer, (gsize) (size - header_length),
                                  offset + header_length))
            return 0;
          r = (Reader) { buffer, (gsize) (size - header_length), 0, TRUE };
        }
      offset += size;
    }
  if (buffer == NULL)
    return 0;

  take (&r, 4);  /* meta is a full box: version and flags */
  while (next_box (&r, type, &payload, &payload_end))
    {
      Reader box = { buffer, payload_end, payload, TRUE };

      if (memcmp (type, "pitm", 4) == 0)
        {
          guint version = (guint) take (&box, 4) >> 24;
          meta.primary = (guint32) take (&box, version == 0 ? 2 : 4);
        }
      else if (memcmp (type, "iinf", 4) == 0)
        parse_iinf (&box, &meta);
      else if (memcmp (type, "idat", 4) == 0)
        {
          meta.idat = payload;
          meta.idat_end = payload_end;
        }
    }

  /* iloc and iprp need the primary and Exif items' ids. */
  r.offset = 4;
  while (next_box (&r, type, &payload, &payload_end))
    {
      Reader box = { buffer, payload_end, payload, TRUE };

      if (memcmp (type, "iloc", 4) == 0 && meta.exif != 0)
        parse_iloc (&box, &meta);
      else if (memcmp (type, "iprp", 4) == 0)
        parse_iprp (&box, &meta);
    }

  if (meta.rotates || meta.exif_length < 4 + 8)
    return 0;

  /* The Exif item: the offset of the TIFF header (4 bytes), then EXIF. */
  exif_length = (gsize) MIN (meta.exif_length, MAX_EXIF_LENGTH);
  if (meta.exif_in_idat)
    {
      if (meta.idat == 0 || meta.exif_offset > meta.idat_end - meta.idat ||
          meta.exif_length > meta.idat_end - meta.idat - meta.exif_offset)
        return 0;
      exif = g_memdup2 (buffer + meta.idat + meta.exif_offset, exif_length);
    }
  else
    {
      if (meta.exif_offset > file_size || meta.exif_length > file_size - meta.exif_offset)
        return 0;
      exif = g_malloc (exif_length);
      if (!wp_format_read_at (fd, exif, exif_length, meta.exif_offset))
        return 0;
    }

  r = (Reader) { exif, exif_length, 0, TRUE };
  tiff_offset = take (&r, 4);
  if (tiff_offset > r.end - 4)
    return 0;
  return exif_orientation_of (exif + 4 + tiff_offset, r.end - 4 - (gsize) tiff_offset);
}

/**
 * wp_exif_find_orientation:
 * @fd: the image file, open for reading
 * @format_name: gdk-pixbuf's name of the format its loader found
 *
 * The EXIF orientation of a PNG or WebP file, read from its EXIF chunk,
 * or of a HEIF or AVIF file whose container does not turn the image
 * itself.  Other formats' loaders report theirs (see above).
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
  else if (g_strcmp0 (format_name, "heif/avif") == 0 ||  /* libheif's loader */
           g_strcmp0 (format_name, "heif") == 0 ||
           g_strcmp0 (format_name, "avif") == 0)       /* libavif's */
    orientation = heif_orientation (fd, (guint64) st.st_size);

  return orientation != 0 ? orientation : 1;
}
