/* initfail.c: a test plugin whose init function fails.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers WP_POOL_ERROR_PLUGIN_INVALID for a failed init: every job of this
 * plugin must fail with that code, carrying the init message "the
 * frobnicator is missing".  "noop" itself would work; it must never run.
 */

#include <workpool/wp-plugin.h>

static gboolean
initfail_init (GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "the frobnicator is missing");
  return FALSE;
}

static GVariant *
noop (GVariant      *args,
      GCancellable  *cancellable,
      GError       **error)
{
  return g_variant_new ("()");
}

static const WpFunction functions[] = {
  { "noop", "()", "()", noop, "Would do nothing, if init had worked" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "initfail", "1.0", "Its init function fails", functions,
  initfail_init,
};

WP_PLUGIN_DEFINE (plugin)
