/* wp-gif.c: the first frame of a GIF file whose later frames are damaged.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * gdk-pixbuf's GIF loader refuses a whole file when any frame is damaged
 * or missing ("Not all frames of the GIF image were loaded"), even when
 * the first frame, all a thumbnail shows, is intact.  This file walks the
 * GIF's blocks (header, logical screen, colour table, then extensions
 * and images, each a run of length-prefixed sub-blocks) to where the
 * first image's data ends, and makes an in-memory file (memfd_create())
 * of everything up to there and a trailer: a one-frame GIF the loader
 * reads.  It reads the file with pread() only, so the descriptor keeps
 * its offset, and checks every length against the file's size: any
 * input is safe.
 */

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wp-atomic-file.h"
#include "wp-format.h"
#include "wp-gif.h"

#define GIF_HEADER_SIZE 13          /* signature, version, logical screen */
#define GIF_IMAGE_DESCRIPTOR_SIZE 10
#define GIF_EXTENSION 0x21
#define GIF_IMAGE 0x2C
#define GIF_TRAILER 0x3B

/* The offset after the sub-blocks starting at @offset, or 0 when they
 * run past the end of @data. */
static gsize
skip_sub_blocks (const guint8 *data,
                 gsize         length,
                 gsize         offset)
{
  while (offset < length)
    {
      guint size = data[offset];

      offset += 1 + size;
      if (size == 0)
        return offset <= length ? offset : 0;
    }

  return 0;
}

/* The offset after the colour table a packed field announces. */
static gsize
skip_colour_table (guint8 flags,
                   gsize  offset)
{
  if (flags & 0x80)
    offset += (gsize) 3 << ((flags & 0x07) + 1);
  return offset;
}

/* The offset after the image whose descriptor starts at @offset, or 0. */
static gsize
skip_image (const guint8 *data,
            gsize         length,
            gsize         offset)
{
  if (offset + GIF_IMAGE_DESCRIPTOR_SIZE > length)
    return 0;

  offset = skip_colour_table (data[offset + 9], offset + GIF_IMAGE_DESCRIPTOR_SIZE);
  /* The LZW minimum code size, then the data. */
  if (offset + 1 >= length)
    return 0;

  return skip_sub_blocks (data, length, offset + 1);
}

/* Walks @data: returns the offset after the first image, 0 when it is not
 * complete, and sets @damaged_frame to the number of the first frame
 * whose blocks are incomplete or broken (the next one when the break is
 * between frames), 0 when the walk reaches the trailer. */
static gsize
find_first_frame_end (const guint8 *data,
                      gsize         length,
                      guint        *damaged_frame)
{
  gsize offset, first_end = 0;
  guint frame = 0;

  if (length < GIF_HEADER_SIZE || memcmp (data, "GIF", 3) != 0)
    return 0;

  offset = skip_colour_table (data[10], GIF_HEADER_SIZE);

  while (offset < length && data[offset] != GIF_TRAILER)
    {
      if (data[offset] == GIF_IMAGE)
        {
          frame++;
          offset = skip_image (data, length, offset);
          if (offset == 0)
            {
              *damaged_frame = frame;
              return first_end;
            }
          if (frame == 1)
            first_end = offset;
        }
      else if (data[offset] == GIF_EXTENSION && offset + 2 <= length &&
               (offset = skip_sub_blocks (data, length, offset + 2)) != 0)
        continue;
      else
        {
          *damaged_frame = frame + 1;
          return first_end;
        }
    }

  *damaged_frame = offset < length ? 0 : frame + 1;
  return first_end;
}

/**
 * wp_gif_open_first_frame:
 * @fd: a GIF file, open for reading
 * @file_size: its size in bytes
 * @damaged_frame: (out): the number (2, 3, ...) of the first frame that is
 *   cut short or whose blocks are broken, or 0 when every frame's blocks
 *   are whole (the damage is then inside a frame's data)
 *
 * Makes an in-memory GIF file of @fd's header and first frame alone.
 *
 * Returns: a descriptor of that file, at its start, to close; or -1 when
 *   the first frame itself is not complete, or when the file cannot be
 *   read or made
 */
int
wp_gif_open_first_frame (int      fd,
                         guint64  file_size,
                         guint   *damaged_frame)
{
  g_autofree guint8 *data = NULL;
  static const guint8 trailer = GIF_TRAILER;
  gsize end;
  int frame_fd;

  *damaged_frame = 0;

  if (file_size < GIF_HEADER_SIZE || file_size > G_MAXSIZE)
    return -1;

  data = g_try_malloc ((gsize) file_size);
  if (data == NULL || !wp_format_read_at (fd, data, (gsize) file_size, 0))
    return -1;

  end = find_first_frame_end (data, (gsize) file_size, damaged_frame);
  if (end == 0)
    return -1;

  frame_fd = memfd_create ("wp-gif-first-frame", MFD_CLOEXEC);
  if (frame_fd < 0)
    return -1;

  if (!wp_atomic_file_write_all (frame_fd, data, end) ||
      !wp_atomic_file_write_all (frame_fd, &trailer, 1) ||
      lseek (frame_fd, 0, SEEK_SET) != 0)
    {
      close (frame_fd);
      return -1;
    }

  return frame_fd;
}
