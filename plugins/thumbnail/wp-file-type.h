/* wp-file-type.h: what a file that is not a regular one is, for errors.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

const char *wp_file_type_describe (mode_t mode);

G_END_DECLS
