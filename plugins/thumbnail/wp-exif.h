/* wp-exif.h: the EXIF orientation of images whose gdk-pixbuf loader does not report it.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internal to the thumbnail plugin (and its tests); what the code owns
 * and guarantees is described at the top of wp-exif.c.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

int wp_exif_find_orientation (int         fd,
                              const char *format_name);

G_END_DECLS
