/* wp-resample.h: reducing an RGB image with a Lanczos-3 filter.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internal to the thumbnail plugin (and its tests); what the code owns
 * and guarantees is described at the top of wp-resample.c.
 */

#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>

G_BEGIN_DECLS

GdkPixbuf *wp_resample_reduce (GdkPixbuf *source,
                               int        width,
                               int        height) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
