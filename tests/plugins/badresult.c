/* badresult.c: a test plugin whose functions break the result contract.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers WP_POOL_ERROR_BAD_RESULT: "wrong_type" is declared to return
 * "(i)" but returns "(s)", and "null_no_error" returns NULL without
 * setting an error.
 */

#include <workpool/wp-plugin.h>

static GVariant *
wrong_type (GVariant      *args,
            GCancellable  *cancellable,
            GError       **error)
{
  return g_variant_new ("(s)", "not an integer");
}

static GVariant *
null_no_error (GVariant      *args,
               GCancellable  *cancellable,
               GError       **error)
{
  return NULL;
}

static const WpFunction functions[] = {
  { "wrong_type", "()", "(i)", wrong_type, "Returns (s) although it says (i)" },
  { "null_no_error", "()", "()", null_no_error, "Returns NULL without an error" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "badresult", "1.0", "Functions that return the wrong thing", functions,
};

WP_PLUGIN_DEFINE (plugin)
