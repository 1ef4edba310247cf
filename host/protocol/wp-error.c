/* wp-error.c: the WP_POOL_ERROR domain.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <workpool/wp-error.h>

#include "wp-error-private.h"

/**
 * wp_pool_error_quark:
 *
 * Gets the error domain of workpool, %WP_POOL_ERROR, whose codes are
 * [error@Workpool.PoolError].  Its name is "wp-pool-error-quark": bindings
 * see pool errors in that domain (in Python, a `GLib.Error` whose `domain`
 * is "wp-pool-error-quark" and whose `code` is a `Workpool.PoolError`).  May
 * be called from any thread.
 *
 * Returns: the error domain's quark
 */
G_DEFINE_QUARK (wp-pool-error-quark, wp_pool_error)

/* Sets @error to @code with the message @format; returns FALSE, for
 * `return wp_pool_error_fail (...)` where an operation fails. */
gboolean
wp_pool_error_fail (GError      **error,
                    WpPoolError   code,
                    const char   *format,
                    ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (WP_POOL_ERROR, code, format, args));
  va_end (args);
  return FALSE;
}
