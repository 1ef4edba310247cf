/* wp-error-private.h: setting errors of the WP_POOL_ERROR domain.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <workpool/wp-error.h>

G_BEGIN_DECLS

gboolean wp_pool_error_fail (GError      **error,
                             WpPoolError   code,
                             const char   *format,
                             ...) G_GNUC_PRINTF (3, 4);

G_END_DECLS
