/* duplicates.c: a test plugin with two functions of the same name.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers WP_POOL_ERROR_PLUGIN_INVALID for function names that are not
 * unique: "twice" is declared twice (with different types, so the worker
 * could not pick one).
 */

#include <workpool/wp-plugin.h>

static GVariant *
twice_a (GVariant      *args,
         GCancellable  *cancellable,
         GError       **error)
{
  return g_variant_new ("()");
}

static GVariant *
twice_b (GVariant      *args,
         GCancellable  *cancellable,
         GError       **error)
{
  return g_variant_new ("(i)", 2);
}

static const WpFunction functions[] = {
  { "twice", "()", "()", twice_a, "The first of two" },
  { "twice", "()", "(i)", twice_b, "The second of two" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "duplicates", "1.0", "Declares one function name twice", functions,
};

WP_PLUGIN_DEFINE (plugin)
