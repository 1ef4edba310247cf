/* wp-memory-limit.h: naming the worker's memory limit in out-of-memory errors.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internal to the thumbnail plugin (and its tests); see wp-memory-limit.c.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

void     wp_memory_limit_open         (void);
void     wp_memory_limit_close        (void);
void     wp_memory_limit_note         (GError  *error);
gboolean wp_memory_limit_get_headroom (guint64 *limit,
                                       guint64 *headroom);

G_END_DECLS
