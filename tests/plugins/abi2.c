/* abi2.c: a test plugin built for another plugin ABI version.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers WP_POOL_ERROR_PLUGIN_INVALID for an ABI mismatch: abi_version is
 * 2, everything else is well formed.
 */

#include <workpool/wp-plugin.h>

static GVariant *
noop (GVariant      *args,
      GCancellable  *cancellable,
      GError       **error)
{
  return g_variant_new ("()");
}

static const WpFunction functions[] = {
  { "noop", "()", "()", noop, "Does nothing" },
  { NULL }
};

static const WpPlugin plugin = {
  2, sizeof (WpPlugin),
  "abi2", "1.0", "Built for plugin ABI version 2", functions,
};

WP_PLUGIN_DEFINE (plugin)
