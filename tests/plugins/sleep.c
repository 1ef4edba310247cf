/* sleep.c: a test plugin with jobs that take time.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * "sleep" waits up to N ms and honours its GCancellable: it polls the
 * cancellable's file descriptor, so a cancel from another thread wakes it
 * at once, and it then fails with G_IO_ERROR_CANCELLED.  "spin" burns the
 * CPU for N ms and ignores the cancellable, like a job stuck in C code,
 * which only killing its worker can stop.  "getpid" tells which worker
 * runs the jobs.
 */

#include <unistd.h>

#include <workpool/wp-plugin.h>

static GVariant *
sleep_ms (GVariant      *args,
          GCancellable  *cancellable,
          GError       **error)
{
  guint32 ms;
  gint64 deadline;
  GPollFD pollfd;
  gboolean have_fd;
  gboolean cancelled = FALSE;

  g_variant_get (args, "(u)", &ms);
  deadline = g_get_monotonic_time () + (gint64) ms * G_TIME_SPAN_MILLISECOND;
  have_fd = g_cancellable_make_pollfd (cancellable, &pollfd);

  for (;;)
    {
      gint64 now;

      if (g_cancellable_is_cancelled (cancellable))
        {
          cancelled = TRUE;
          break;
        }

      now = g_get_monotonic_time ();
      if (now >= deadline)
        break;

      /* Returns early when the cancellable is cancelled, or on EINTR. */
      g_poll (have_fd ? &pollfd : NULL, have_fd ? 1 : 0,
              (int) ((deadline - now + G_TIME_SPAN_MILLISECOND - 1)
                     / G_TIME_SPAN_MILLISECOND));
    }

  if (have_fd)
    g_cancellable_release_fd (cancellable);

  if (cancelled)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           "sleep was cancelled");
      return NULL;
    }

  return g_variant_new ("()");
}

static GVariant *
spin (GVariant      *args,
      GCancellable  *cancellable,
      GError       **error)
{
  volatile guint64 counter = 0;
  guint32 ms;
  gint64 deadline;

  g_variant_get (args, "(u)", &ms);
  deadline = g_get_monotonic_time () + (gint64) ms * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < deadline)
    counter++;

  return g_variant_new ("()");
}

static GVariant *
get_pid (GVariant      *args,
         GCancellable  *cancellable,
         GError       **error)
{
  return g_variant_new ("(i)", (gint32) getpid ());
}

static const WpFunction functions[] = {
  { "sleep", "(u)", "()", sleep_ms, "Sleeps N ms unless cancelled" },
  { "spin", "(u)", "()", spin, "Busy-loops N ms, ignoring cancellation" },
  { "getpid", "()", "(i)", get_pid, "Returns the worker's process id" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "sleep", "1.0", "Jobs that take time", functions,
};

WP_PLUGIN_DEFINE (plugin)
