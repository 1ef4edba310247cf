/* bench.c: the plugin the pool benchmarks run.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Functions that do (next to) no work, so that what a benchmark measures is
 * the pool: `noop` gives back its (small) byte array, the job of the no-op
 * throughput, cancellable, instructions, start-up and scale figures;
 * `echo_bytes` gives back a large one, the job of the payload figure.  They
 * share one implementation: the result is the argument itself, a new
 * reference and no copy, so the worker serialises it straight from the
 * request's buffer.  `add` adds two integers, the job of the sequential
 * latency figure.
 */

#include <workpool/wp-plugin.h>

static GVariant *
return_argument (GVariant      *args,
                 GCancellable  *cancellable G_GNUC_UNUSED,
                 GError       **error G_GNUC_UNUSED)
{
  return g_variant_ref (args);
}

/* The job of the sequential latency figure: two integers in, one out, the
 * "add" of the latency target (the demo plugin has the same). */
static GVariant *
add (GVariant      *args,
     GCancellable  *cancellable G_GNUC_UNUSED,
     GError       **error G_GNUC_UNUSED)
{
  gint32 a, b;

  g_variant_get (args, "(ii)", &a, &b);
  return g_variant_new ("(i)", (gint32) ((guint32) a + (guint32) b));
}

static const WpFunction functions[] = {
  { "noop", "(ay)", "(ay)", return_argument, "Returns its argument (no-op jobs)" },
  { "echo_bytes", "(ay)", "(ay)", return_argument, "Returns its byte array (payload jobs)" },
  { "add", "(ii)", "(i)", add, "Adds two integers (sequential latency jobs)" },
  { NULL }
};

static const WpPlugin plugin = {
  .abi_version = WP_PLUGIN_ABI_VERSION,
  .struct_size = sizeof (WpPlugin),
  .name = "bench",
  .version = "1.0",
  .summary = "Jobs that do nothing, for the pool benchmarks",
  .functions = functions,
};

WP_PLUGIN_DEFINE (plugin)
