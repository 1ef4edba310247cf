/* wp-gif.h: the first frame of a GIF file whose later frames are damaged.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internal to the thumbnail plugin (and its tests); what the code owns
 * and guarantees is described at the top of wp-gif.c.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

int wp_gif_open_first_frame (int       fd,
                             guint64   file_size,
                             guint    *damaged_frame);

G_END_DECLS
