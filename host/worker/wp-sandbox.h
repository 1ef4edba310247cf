/* wp-sandbox.h: confining a worker process (see wp-sandbox.c).
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean wp_sandbox_enter (const char  *plugin_dir,
                           const int   *keep_fds,
                           guint        n_keep_fds,
                           char       **description,
                           GError     **error);

G_END_DECLS
