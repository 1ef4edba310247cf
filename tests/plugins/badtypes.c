/* badtypes.c: a test plugin that declares an invalid GVariant type.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers WP_POOL_ERROR_PLUGIN_INVALID for a plugin that describes itself
 * wrongly: "broken" has args_type "(q", which is not a type string.  The
 * worker must refuse the whole plugin, also for its well-formed "noop".
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
  { "broken", "(q", "()", noop, "Has an invalid args_type" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "badtypes", "1.0", "Declares an invalid type string", functions,
};

WP_PLUGIN_DEFINE (plugin)
