/* noquery.c: a shared object that is not a plugin.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers WP_POOL_ERROR_PLUGIN_INVALID for a missing wp_plugin_query(): the
 * object loads fine and exports a symbol, just not that one.
 */

#include <workpool/wp-plugin.h>

WP_PLUGIN_EXPORT int wp_plugin_quarry (void);

WP_PLUGIN_EXPORT int
wp_plugin_quarry (void)
{
  return 42;
}
