/* wp-format.h: what an image file is, from its first bytes, and which loader reads it.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internal to the thumbnail plugin (and its tests); what the code owns
 * and guarantees is described at the top of wp-format.c.
 */

#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>

G_BEGIN_DECLS

/* Bytes of a file's start that wp_format_sniff() looks at. */
#define WP_FORMAT_SNIFF_LENGTH 256

/**
 * WpFormatGuess:
 * @name: the format's common name: "WebP", "AVIF", ...
 * @package: the Debian package of its gdk-pixbuf loader, or %NULL when
 *   Debian 12 has none
 *
 * A format recognised from a file's content.
 */
typedef struct {
  const char *name;
  const char *package;
} WpFormatGuess;

const WpFormatGuess *wp_format_sniff                (const guint8  *data,
                                                     gsize          length);
void                 wp_format_explain_missing_loader (int            fd,
                                                     const char    *path,
                                                     GError       **error);
gboolean             wp_format_read_at              (int            fd,
                                                     guint8        *buffer,
                                                     gsize          length,
                                                     guint64        offset);

G_END_DECLS
