/* echo.c: a test plugin that gives back what it is given.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers the plain round trip: any value ("(v)"), large byte arrays that do
 * not fit in one pipe buffer ("(ay)"), the empty tuple, and the worker's
 * pid, so that a test can tell workers apart (and, later, kill one).
 */

#include <unistd.h>

#include <workpool/wp-plugin.h>

static GVariant *
echo (GVariant      *args,
      GCancellable  *cancellable,
      GError       **error)
{
  return g_variant_ref (args);
}

static GVariant *
echo_bytes (GVariant      *args,
            GCancellable  *cancellable,
            GError       **error)
{
  return g_variant_ref (args);
}

static GVariant *
get_pid (GVariant      *args,
         GCancellable  *cancellable,
         GError       **error)
{
  return g_variant_new ("(i)", (gint32) getpid ());
}

static GVariant *
noop (GVariant      *args,
      GCancellable  *cancellable,
      GError       **error)
{
  return g_variant_new ("()");
}

static const WpFunction functions[] = {
  { "echo", "(v)", "(v)", echo, "Returns its argument" },
  { "echo_bytes", "(ay)", "(ay)", echo_bytes, "Returns its byte array" },
  { "getpid", "()", "(i)", get_pid, "Returns the worker's process id" },
  { "noop", "()", "()", noop, "Does nothing" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "echo", "1.0", "Gives back what it is given", functions,
};

WP_PLUGIN_DEFINE (plugin)
