/* wp-png.h: thumbnails as PNG files with text chunks, for the freedesktop cache.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internal to the thumbnail plugin (and its tests); what the code owns
 * and guarantees is described at the top of wp-png.c.
 */

#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>

G_BEGIN_DECLS

/* The longest keyword a PNG text chunk may have (PNG 1.2, 11.3.4.3). */
#define WP_PNG_MAX_KEYWORD 79

gboolean      wp_png_check_keyword (const char    *keyword,
                                    GError       **error);
GBytes       *wp_png_encode        (GdkPixbuf     *pixbuf,
                                    const char * const *text,
                                    GError       **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
