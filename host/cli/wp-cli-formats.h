/* wp-cli-formats.h: the file name extensions of the installed gdk-pixbuf loaders.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the code owns and guarantees is described at the top of
 * wp-cli-formats.c.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

GStrv    wp_cli_formats_dup_extensions (void);
gboolean wp_cli_formats_has_extension  (const char *extension);

G_END_DECLS
