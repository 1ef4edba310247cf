/* misnamed.c: a test plugin whose WpPlugin.name is not its file name.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers WP_POOL_ERROR_PLUGIN_INVALID for a name that differs from the
 * file's: it is built as misnamed.so and calls itself "othername";
 * everything else is well formed.
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
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "othername", "1.0", "Calls itself by another name than its file's", functions,
};

WP_PLUGIN_DEFINE (plugin)
