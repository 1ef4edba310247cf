/* bench-supervision.c: how fast the pool recovers from a crash and stops a
 * cancelled job.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   meson test -C build --benchmark supervision -v
 *
 * On a pool of one worker, with the test plugins: 20 times, a job that
 * segfaults its worker (time from submission to its callback) and the job
 * after it (the replacement worker's start-up plus the job), with the
 * workers unconfined and then under WP_SANDBOX_STRICT (whose start-up
 * adds the sandbox's set-up); 20 times, a
 * sleep job cancelled 20 ms after submission (it honours its cancellable:
 * time from g_cancellable_cancel() to the callback); 10 times, a busy
 * loop cancelled the same way (it ignores the cancellable, so the worker
 * is killed after the default 200 ms grace).  Prints medians, minima and
 * maxima, then `name value unit` lines.
 */

#include <workpool/workpool.h>

typedef struct {
  gboolean done;
  gint64   done_at;
} Call;

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Call *call = user_data;
  g_autoptr(GVariant) value = wp_pool_call_finish (WP_POOL (source), result, NULL);

  call->done_at = g_get_monotonic_time ();
  call->done = TRUE;
}

/* Runs one job; cancels it @cancel_after_ms after submission when
 * @cancellable is given.  Returns µs from submission (or from the cancel)
 * to the callback. */
static gint64
time_job (WpPool       *pool,
          const char   *plugin,
          const char   *function,
          GVariant     *args,
          GCancellable *cancellable,
          guint         cancel_after_ms)
{
  gint64 start = g_get_monotonic_time ();
  gint64 cancelled_at = 0;
  Call call = { 0, };

  wp_pool_call_async (pool, plugin, function, args, cancellable, on_done, &call);
  while (!call.done)
    {
      gboolean waiting_to_cancel = cancellable != NULL && cancelled_at == 0;

      if (waiting_to_cancel && g_get_monotonic_time () - start >= (gint64) cancel_after_ms * 1000)
        {
          cancelled_at = g_get_monotonic_time ();
          g_cancellable_cancel (cancellable);
          continue;
        }
      g_main_context_iteration (NULL, !waiting_to_cancel);
    }

  return call.done_at - (cancelled_at != 0 ? cancelled_at : start);
}

static int
compare_times (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static void
report (const char *name,
        const char *what,
        gint64     *times,
        guint       n)
{
  qsort (times, n, sizeof *times, compare_times);
  g_print ("%-44s median %8.3f ms  (min %.3f, max %.3f, %u runs)\n", what,
           times[n / 2] / 1e3, times[0] / 1e3, times[n - 1] / 1e3, n);
  g_print ("%s %.3f ms\n", name, times[n / 2] / 1e3);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = wp_pool_new (BENCH_PLUGIN_DIR, 1, &error);
  gint64 crash[20], respawn[20], respawn_sandboxed[20], cooperative[20], forced[10];

  if (pool == NULL)
    g_error ("%s", error->message);

  time_job (pool, "echo", "noop", NULL, NULL, 0);

  for (guint i = 0; i < G_N_ELEMENTS (crash); i++)
    {
      crash[i] = time_job (pool, "crash", "segv", NULL, NULL, 0);
      respawn[i] = time_job (pool, "echo", "noop", NULL, NULL, 0);
    }

  wp_pool_set_sandbox (pool, WP_SANDBOX_STRICT);
  time_job (pool, "echo", "noop", NULL, NULL, 0);
  for (guint i = 0; i < G_N_ELEMENTS (respawn_sandboxed); i++)
    {
      time_job (pool, "crash", "segv", NULL, NULL, 0);
      respawn_sandboxed[i] = time_job (pool, "echo", "noop", NULL, NULL, 0);
    }
  wp_pool_set_sandbox (pool, WP_SANDBOX_NONE);

  for (guint i = 0; i < G_N_ELEMENTS (cooperative); i++)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();

      time_job (pool, "echo", "noop", NULL, NULL, 0);
      cooperative[i] = time_job (pool, "sleep", "sleep", g_variant_new ("(u)", 60000), cancellable, 20);
    }

  for (guint i = 0; i < G_N_ELEMENTS (forced); i++)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();

      time_job (pool, "echo", "noop", NULL, NULL, 0);
      forced[i] = time_job (pool, "sleep", "spin", g_variant_new ("(u)", 60000), cancellable, 20);
    }

  report ("crash_reported", "crash: submission to callback", crash, G_N_ELEMENTS (crash));
  report ("crash_next_job", "next job (new worker started, job run)", respawn, G_N_ELEMENTS (respawn));
  report ("crash_next_job_sandboxed", "… the worker under WP_SANDBOX_STRICT", respawn_sandboxed,
          G_N_ELEMENTS (respawn_sandboxed));
  report ("cancel_cooperative", "cooperative cancel to callback", cooperative, G_N_ELEMENTS (cooperative));
  report ("cancel_forced", "forced cancel (200 ms grace) to callback", forced, G_N_ELEMENTS (forced));

  return 0;
}
