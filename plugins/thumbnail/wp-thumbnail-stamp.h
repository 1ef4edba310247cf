/* wp-thumbnail-stamp.h: the source's mtime and size, recorded in a thumbnail.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by the thumbnail plugin, which writes the record, and
 * `workpool thumbnail`, which reads it; the format and its guarantees are
 * described at the top of wp-thumbnail-stamp.c.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* At most this many bytes of a thumbnail are read to find the record. */
#define WP_THUMBNAIL_STAMP_READ_SIZE 4096

/**
 * WpThumbnailStamp:
 * @mtime_ns: the source's modification time, in nanoseconds since the epoch
 * @size: the source's size in bytes
 *
 * What a thumbnail records of the source file it was made from.
 */
typedef struct {
  gint64  mtime_ns;
  guint64 size;
} WpThumbnailStamp;

char     *wp_thumbnail_stamp_to_comment (const WpThumbnailStamp  *stamp);
gboolean  wp_thumbnail_stamp_from_jpeg  (const guint8            *data,
                                         gsize                    length,
                                         WpThumbnailStamp        *stamp);
gboolean  wp_thumbnail_stamp_read       (const char              *path,
                                         WpThumbnailStamp        *stamp);

G_END_DECLS
