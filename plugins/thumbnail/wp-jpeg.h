/* wp-jpeg.h: JPEG decoding and encoding with libjpeg-turbo, EXIF orientation.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internal to the thumbnail plugin (and its tests); what the code owns
 * and guarantees is described at the top of wp-jpeg.c.
 */

#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>

G_BEGIN_DECLS

/* At most this many progressive scans are accepted: a crafted file with
 * thousands of tiny scans would otherwise take minutes to decode (the
 * limit libjpeg-turbo's own tools recommend). */
#define WP_JPEG_MAX_SCANS 500

typedef struct _WpJpegReader WpJpegReader;

/* Reading: header first, then at most one decode. */
WpJpegReader *wp_jpeg_reader_new             (int            fd,
                                              const char    *path,
                                              GCancellable  *cancellable,
                                              GError       **error) G_GNUC_WARN_UNUSED_RESULT;
void          wp_jpeg_reader_get_size        (WpJpegReader  *reader,
                                              int           *width,
                                              int           *height);
void          wp_jpeg_reader_set_max_pixels  (WpJpegReader  *reader,
                                              guint64        max_pixels);
void          wp_jpeg_reader_set_fast        (WpJpegReader  *reader,
                                              gboolean       fast);
int           wp_jpeg_reader_get_orientation (WpJpegReader  *reader);
GBytes       *wp_jpeg_reader_get_icc_profile (WpJpegReader  *reader);
GdkPixbuf    *wp_jpeg_reader_decode          (WpJpegReader  *reader,
                                              int            min_width,
                                              int            min_height,
                                              GCancellable  *cancellable,
                                              GError       **error) G_GNUC_WARN_UNUSED_RESULT;
const char   *wp_jpeg_reader_get_damage      (WpJpegReader  *reader);
void          wp_jpeg_reader_free            (WpJpegReader  *reader);

/* Writing. */
GBytes       *wp_jpeg_encode                 (GdkPixbuf     *pixbuf,
                                              int            quality,
                                              const char    *comment,
                                              GBytes        *icc_profile,
                                              GError       **error) G_GNUC_WARN_UNUSED_RESULT;

/* EXIF. */
int           wp_exif_get_orientation        (const guint8  *app1,
                                              gsize          length);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WpJpegReader, wp_jpeg_reader_free)

G_END_DECLS
