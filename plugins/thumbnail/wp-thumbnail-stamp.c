/* wp-thumbnail-stamp.c: the source's mtime and size, recorded in a thumbnail.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every thumbnail the plugin writes carries, in a JPEG comment (COM)
 * segment placed right after the JFIF header and before any ICC profile,
 * the modification time (in nanoseconds) and the size of the source file
 * it was decoded from, as fstat() saw them on the descriptor it read:
 *
 *   workpool-source mtime-ns=1764687600123456789 size=2512044
 *
 * `workpool thumbnail` skips an image only when each of its thumbnails
 * records exactly the image's current mtime and size.  So any change of
 * the source is noticed, including a replacement by a file with an older
 * mtime (cp -p, mv, rsync -a), and a thumbnail without the record (made
 * by another program, or damaged) counts as stale.  The thumbnail folders
 * hold nothing but the thumbnails.
 *
 * The record is at a fixed place near the start of the file (about 20
 * bytes in), so reading it costs one open and one read of at most
 * WP_THUMBNAIL_STAMP_READ_SIZE bytes.  Reading never decodes pixels and
 * never fails loudly: anything unexpected means "no record".
 *
 * Compiled into both the plugin and the command; no state.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wp-thumbnail-stamp.h"

#define STAMP_PREFIX "workpool-source "

#define JPEG_SOI 0xD8
#define JPEG_EOI 0xD9
#define JPEG_SOS 0xDA
#define JPEG_COM 0xFE

/**
 * wp_thumbnail_stamp_to_comment:
 * @stamp: what to record
 *
 * Returns: (transfer full): the text of the COM segment
 */
char *
wp_thumbnail_stamp_to_comment (const WpThumbnailStamp *stamp)
{
  return g_strdup_printf (STAMP_PREFIX "mtime-ns=%" G_GINT64_FORMAT
                          " size=%" G_GUINT64_FORMAT, stamp->mtime_ns, stamp->size);
}

/* "mtime-ns=N size=N", exactly. */
static gboolean
parse_comment (const guint8     *data,
               gsize             length,
               WpThumbnailStamp *stamp)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  gint64 mtime_ns;
  guint64 size;

  if (length < strlen (STAMP_PREFIX)
      || memcmp (data, STAMP_PREFIX, strlen (STAMP_PREFIX)) != 0
      || memchr (data, '\0', length) != NULL)
    return FALSE;

  text = g_strndup ((const char *) data + strlen (STAMP_PREFIX),
                    length - strlen (STAMP_PREFIX));
  fields = g_strsplit (text, " ", -1);
  if (g_strv_length (fields) != 2
      || !g_str_has_prefix (fields[0], "mtime-ns=")
      || !g_str_has_prefix (fields[1], "size=")
      || !g_ascii_string_to_signed (fields[0] + strlen ("mtime-ns="), 10,
                                    G_MININT64, G_MAXINT64, &mtime_ns, NULL)
      || !g_ascii_string_to_unsigned (fields[1] + strlen ("size="), 10,
                                      0, G_MAXUINT64, &size, NULL))
    return FALSE;

  stamp->mtime_ns = mtime_ns;
  stamp->size = size;
  return TRUE;
}

/**
 * wp_thumbnail_stamp_from_jpeg:
 * @data: (array length=length): the first bytes of a JPEG file
 * @length: how many
 * @stamp: (out): the record, when found
 *
 * Looks for the record among the segments before the image data that lie
 * wholly within @data.
 *
 * Returns: %TRUE when a record was found
 */
gboolean
wp_thumbnail_stamp_from_jpeg (const guint8     *data,
                              gsize             length,
                              WpThumbnailStamp *stamp)
{
  gsize pos = 2;

  if (length < 2 || data[0] != 0xFF || data[1] != JPEG_SOI)
    return FALSE;

  while (pos + 4 <= length)
    {
      guint marker;
      gsize segment;

      if (data[pos] != 0xFF)
        return FALSE;
      marker = data[pos + 1];
      if (marker == 0xFF)
        {
          pos++;  /* fill byte */
          continue;
        }
      if (marker == JPEG_SOS || marker == JPEG_EOI)
        return FALSE;
      segment = (gsize) data[pos + 2] << 8 | data[pos + 3];
      if (segment < 2 || pos + 2 + segment > length)
        return FALSE;
      if (marker == JPEG_COM && parse_comment (data + pos + 4, segment - 2, stamp))
        return TRUE;
      pos += 2 + segment;
    }
  return FALSE;
}

/**
 * wp_thumbnail_stamp_read:
 * @path: a thumbnail
 * @stamp: (out): its record, when found
 *
 * Reads at most WP_THUMBNAIL_STAMP_READ_SIZE bytes of @path, which must
 * be a regular file (opened without blocking, so that a FIFO put in its
 * place cannot stall the caller).
 *
 * Returns: %TRUE when @path exists and holds a record
 */
gboolean
wp_thumbnail_stamp_read (const char       *path,
                         WpThumbnailStamp *stamp)
{
  guint8 buffer[WP_THUMBNAIL_STAMP_READ_SIZE];
  struct stat info;
  gssize n;
  int fd;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    return FALSE;
  if (fstat (fd, &info) != 0 || !S_ISREG (info.st_mode))
    {
      close (fd);
      return FALSE;
    }
  do
    n = pread (fd, buffer, sizeof buffer, 0);
  while (n < 0 && errno == EINTR);
  close (fd);

  return n > 0 && wp_thumbnail_stamp_from_jpeg (buffer, (gsize) n, stamp);
}
