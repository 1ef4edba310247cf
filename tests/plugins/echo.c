/* echo.c: a test plugin that gives back what it is given.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers the plain round trip: any value ("(v)"), large byte arrays that do
 * not fit in one pipe buffer ("(ay)"), the empty tuple, and the worker's
 * pid, so that a test can tell workers apart (and, later, kill one).
 * echo_repeat gives back a byte array N times over: a result larger
 * than its job, for the frame size limit.
 */

#include <string.h>
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
echo_repeat (GVariant      *args,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GVariant) bytes = g_variant_get_child_value (args, 0);
  gsize size;
  const guint8 *data = g_variant_get_fixed_array (bytes, &size, 1);
  guint32 times;
  guint8 *repeated;

  g_variant_get_child (args, 1, "u", &times);
  if (size > 0 && times > G_MAXSIZE / size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "Too many times");
      return NULL;
    }

  repeated = g_malloc (size * times);
  for (guint32 i = 0; i < times; i++)
    memcpy (repeated + i * size, data, size);

  return g_variant_new ("(@ay)", g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, repeated,
                                                          size * times, TRUE, g_free, repeated));
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
  { "echo_repeat", "(ayu)", "(ay)", echo_repeat, "Returns its byte array repeated N times" },
  { "getpid", "()", "(i)", get_pid, "Returns the worker's process id" },
  { "noop", "()", "()", noop, "Does nothing" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "echo", "1.0", "Gives back what it is given", functions,
};

WP_PLUGIN_DEFINE (plugin)
