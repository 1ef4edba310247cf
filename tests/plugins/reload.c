/* reload.c: a test plugin built twice, to be replaced on disk.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers hot reload.  meson builds this file into
 * reload-a/reload.so and reload-b/reload.so with different
 * RELOAD_VERSION strings; both call themselves "reload".  A test copies
 * one, then the other, into a temporary plugin directory as reload.so and
 * checks which code "version" runs.
 */

#include <unistd.h>

#include <workpool/wp-plugin.h>

#ifndef RELOAD_VERSION
# error "build with -DRELOAD_VERSION=\"...\""
#endif

static GVariant *
version (GVariant      *args,
         GCancellable  *cancellable,
         GError       **error)
{
  return g_variant_new ("(s)", RELOAD_VERSION);
}

static GVariant *
get_pid (GVariant      *args,
         GCancellable  *cancellable,
         GError       **error)
{
  return g_variant_new ("(i)", (gint32) getpid ());
}

static const WpFunction functions[] = {
  { "version", "()", "(s)", version, "Returns the version it was built as" },
  { "getpid", "()", "(i)", get_pid, "Returns the worker's process id" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "reload", RELOAD_VERSION, "Built twice, to be replaced on disk", functions,
};

WP_PLUGIN_DEFINE (plugin)
