/* wp-thumbnail.h: the thumbnail rules: sizes, decode once, write every size.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internal to the thumbnail plugin (and its tests); what the code owns
 * and guarantees is described at the top of wp-thumbnail.c.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The reference program's JPEG quality. */
#define WP_THUMBNAIL_DEFAULT_QUALITY 65

/* Images that would decode to more pixels than this are refused, by
 * default: JPEG images at the DCT scale the thumbnails need, other
 * formats at their full size. */
#define WP_THUMBNAIL_MAX_PIXELS G_GUINT64_CONSTANT (100000000)

/**
 * WpThumbnailFormat:
 * @WP_THUMBNAIL_FORMAT_JPEG: JPEG on white, with the source's stamp in
 *   a comment and its ICC profile
 * @WP_THUMBNAIL_FORMAT_PNG: 8-bit RGBA PNG with text chunks, as the
 *   freedesktop thumbnail cache wants (wp-png.c)
 *
 * What a job's thumbnails are written as.
 */
typedef enum {
  WP_THUMBNAIL_FORMAT_JPEG,
  WP_THUMBNAIL_FORMAT_PNG,
} WpThumbnailFormat;

/**
 * WpThumbnailOptions:
 * @quality: JPEG quality, 1-100
 * @max_pixels: the decode's pixel limit
 * @strict: a damaged image is an error
 * @format: JPEG or PNG
 * @fast: decode for speed rather than for the last bit of quality
 *   (wp_image_set_fast())
 * @text: (nullable): with PNG, the keywords and values of its text
 *   chunks, in turn, %NULL-terminated; Thumb::Image::Width and
 *   Thumb::Image::Height are added, the source's displayed size
 *
 * How a job's thumbnails are made; WP_THUMBNAIL_OPTIONS_INIT has the
 * defaults.
 */
typedef struct {
  int      quality;      /* JPEG quality, 1-100 */
  guint64  max_pixels;   /* the decode's pixel limit */
  gboolean strict;       /* a damaged image is an error */
  WpThumbnailFormat format;
  gboolean fast;         /* decode for speed */
  const char * const *text;  /* PNG: keyword, value, ..., NULL */
} WpThumbnailOptions;

#define WP_THUMBNAIL_OPTIONS_INIT \
  { WP_THUMBNAIL_DEFAULT_QUALITY, WP_THUMBNAIL_MAX_PIXELS, FALSE, WP_THUMBNAIL_FORMAT_JPEG, \
    FALSE, NULL }

/**
 * WpThumbnailRequest:
 * @path: the destination file; its missing parent directories are
 *   created.  With wp_thumbnail_write_fds(), only a name for messages,
 *   and may be %NULL
 * @box_width: the width of the box the thumbnail must fit in, > 0
 * @box_height: the height of the box, > 0
 * @width: (out): the width of the written thumbnail
 * @height: (out): the height of the written thumbnail
 *
 * One thumbnail to write.
 */
typedef struct {
  const char *path;
  int         box_width;
  int         box_height;
  int         width;
  int         height;
} WpThumbnailRequest;

void     wp_thumbnail_fit_size (int                  width,
                                int                  height,
                                int                  box_width,
                                int                  box_height,
                                int                 *fit_width,
                                int                 *fit_height);

gboolean wp_thumbnail_write    (const char                *source,
                                WpThumbnailRequest        *requests,
                                gsize                      n_requests,
                                const WpThumbnailOptions  *options,
                                char                     **damage,
                                GCancellable              *cancellable,
                                GError                   **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean wp_thumbnail_write_below (const char                *source,
                                   const char                *base,
                                   WpThumbnailRequest        *requests,
                                   gsize                      n_requests,
                                   const WpThumbnailOptions  *options,
                                   char                     **damage,
                                   GCancellable              *cancellable,
                                   GError                   **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean wp_thumbnail_write_fds (int                        source_fd,
                                 const char                *source_name,
                                 const int                 *output_fds,
                                 WpThumbnailRequest        *requests,
                                 gsize                      n_requests,
                                 const WpThumbnailOptions  *options,
                                 char                     **damage,
                                 GCancellable              *cancellable,
                                 GError                   **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
