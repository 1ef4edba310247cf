/* wp-variant-check-private.h: a fast normal-form check for untrusted
 * GVariant data.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean wp_variant_is_normal_form            (GVariant *value);
guint    wp_variant_offset_size               (gsize     size);
gsize    wp_variant_framed_size               (gsize     body_size,
                                               gsize     n_offsets);
gboolean wp_variant_is_normal_form_in_variant (GVariant *child,
                                               gsize     variant_depth);

G_END_DECLS
