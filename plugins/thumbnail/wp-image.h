/* wp-image.h: a source image of any format, decoded once, rendered at any size.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internal to the thumbnail plugin (and its tests); what the code owns
 * and guarantees is described at the top of wp-image.c.
 */

#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>

G_BEGIN_DECLS

typedef struct _WpImage WpImage;

/* Larger source files are refused unread: 512 MiB holds any image within
 * the 100-megapixel bound stored uncompressed at 8 bits per channel with
 * alpha (400 MB), and bounds what a hopeless file costs to read. */
#define WP_IMAGE_MAX_FILE_SIZE (G_GUINT64_CONSTANT (512) << 20)

WpImage    *wp_image_open            (const char    *path,
                                      guint64        max_pixels,
                                      GCancellable  *cancellable,
                                      GError       **error) G_GNUC_WARN_UNUSED_RESULT;
WpImage    *wp_image_open_fd         (int            fd,
                                      const char    *name,
                                      guint64        max_pixels,
                                      GCancellable  *cancellable,
                                      GError       **error) G_GNUC_WARN_UNUSED_RESULT;
const char *wp_image_get_format_name (WpImage       *image);
void        wp_image_get_size        (WpImage       *image,
                                      int           *width,
                                      int           *height);
void        wp_image_get_file_stat   (WpImage       *image,
                                      gint64        *mtime_ns,
                                      guint64       *size);
GBytes     *wp_image_get_icc_profile (WpImage       *image);
void        wp_image_set_fast        (WpImage       *image,
                                      gboolean       fast);
gboolean    wp_image_decode          (WpImage       *image,
                                      int            min_width,
                                      int            min_height,
                                      GCancellable  *cancellable,
                                      GError       **error) G_GNUC_WARN_UNUSED_RESULT;
const char *wp_image_get_damage      (WpImage       *image);
GdkPixbuf  *wp_image_render          (WpImage       *image,
                                      int            width,
                                      int            height,
                                      GError       **error) G_GNUC_WARN_UNUSED_RESULT;
void        wp_image_free            (WpImage       *image);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WpImage, wp_image_free)

G_END_DECLS
