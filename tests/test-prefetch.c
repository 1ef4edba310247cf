/* test-prefetch.c: a job handed to a busy worker ahead of time.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * When every worker is busy and jobs wait, the pool sends each busy
 * worker its next jobs (up to 4) while the current one runs (the
 * "prefetched" stat counts them).  Each test here checks that one guarantee of the README's
 * "What happens when things go wrong" still holds for such a job:
 *
 *   /prefetch/crash-ahead       the job ahead of it crashes its worker: it
 *                               runs elsewhere, in order, exactly once
 *   /prefetch/cancel            cancelled, it completes at once and never
 *                               runs; its worker skips it and works on
 *   /prefetch/stopped-ahead     the job ahead is being stopped (cancel or
 *                               timeout): it is taken back at once, so it
 *                               cannot die with a worker killed after the
 *                               grace period
 *   /prefetch/moves-to-idle     it does not wait behind a long job while
 *                               another worker is idle
 *   /prefetch/timeout           its timeout counts from when it starts,
 *                               not from when it was handed over
 *   /prefetch/limits-change     a change of the workers' limits takes it
 *                               back from a worker with the old ones
 *   /prefetch/many              many short jobs, some cancelled in flight:
 *                               each outcome is the job's own
 *
 * "Exactly once" and "never runs" are counted by the mark plugin, which
 * appends a line per run to a file in the fixture's temporary folder.
 * Every test ends with the checks of wp-test-faults.c: each callback ran
 * once, and the stats agree with them.
 */

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "wp-test-faults.h"

#define LONG_MS   60000  /* a job that would outlive the test */
#define MARGIN_MS 900    /* what a loaded machine may add to a bound */

static guint
bound (guint ms)
{
  return ms * wp_fault_scale ();
}

static GVariant *
ms_args (guint32 ms)
{
  return g_variant_new ("(u)", ms);
}

/* ---- Fixtures ---- */

static void
setup (WpTestFixture *fixture,
       gconstpointer  data)
{
  wp_test_fixture_setup (fixture, data);
  /* Whatever $WORKPOOL_PREFETCH says: these tests are of prefetch. */
  wp_pool_set_prefetch (fixture->pool, 4);
  fixture->tmp_dir = wp_test_make_tmp_dir ();
}

static void
teardown (WpTestFixture *fixture,
          gconstpointer  data)
{
  wp_fault_assert_stats_agree (fixture->pool);
  wp_test_fixture_teardown (fixture, data);
  wp_fault_calls_check ();
}

/* ---- Helpers ---- */

static char *
marks_path (WpTestFixture *fixture)
{
  return g_build_filename (fixture->tmp_dir, "marks", NULL);
}

/* The pids the mark plugin wrote, one per run, in order. */
static GStrv
read_marks (const char *path)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_file_get_contents (path, &contents, NULL, &error))
    {
      g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
      return g_new0 (char *, 1);
    }

  g_strchomp (contents);
  return *contents == '\0' ? g_new0 (char *, 1) : g_strsplit (contents, "\n", -1);
}

static WpFaultCall *
start_mark (WpPool       *pool,
            const char   *path,
            GCancellable *cancellable)
{
  return wp_fault_call_start (pool, "mark", "append", g_variant_new ("(s)", path), 0, cancellable);
}

/* Makes both workers of @pool ready and idle: a pool starts them lazily,
 * and a job is prefetched only when no worker is starting.  A sleep
 * holds the first worker while a job waiting for a worker starts the
 * second one and runs there; the sleep honours its cancel, so cancelling
 * it leaves the first worker idle. */
static void
ready_two_workers (WpPool *pool)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  WpFaultCall *hold, *second;
  gint32 first;

  first = wp_fault_get_pid (pool, "sleep");
  hold = wp_fault_call_start (pool, "sleep", "sleep", ms_args (LONG_MS), 0, cancellable);
  second = wp_fault_call_start (pool, "sleep", "getpid", NULL, 0, NULL);
  wp_fault_call_wait (second, 5000);
  g_assert_cmpint (wp_fault_result_pid (second), !=, first);

  wp_fault_cancel (cancellable);
  wp_fault_call_wait (hold, 5000);
  wp_fault_assert_error (hold, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  g_assert_cmpuint (wp_test_get_stat (pool, "running"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (pool, "workers"), ==, 2);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 2);
}

/* ---- Tests ---- */

#define N_BEHIND 3

static void
test_crash_ahead (WpTestFixture *fixture,
                  gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  g_autofree char *path = marks_path (fixture);
  g_auto(GStrv) marks = NULL;
  WpFaultCall *crash, *behind[N_BEHIND];
  gint32 pid;

  g_test_summary ("Jobs prefetched behind a job that crashes its worker are not failed with "
                  "it: they run on the replacement worker, in order, each exactly once");

  /* 1 worker, ready: the job ahead is sent at once, the next jobs ahead
   * of time; the worker dies (SIGKILL, so that it cannot die before the
   * jobs are handed over) while it runs the job ahead. */
  pid = wp_fault_get_pid (pool, "sleep");
  crash = wp_fault_call_start (pool, "sleep", "sleep", ms_args (LONG_MS), 0, NULL);
  for (guint i = 0; i < N_BEHIND; i++)
    behind[i] = start_mark (pool, path, NULL);
  g_assert_cmpuint (wp_test_get_stat (pool, "running"), ==, 1);
  g_assert_cmpuint (wp_test_get_stat (pool, "prefetched"), ==, N_BEHIND);
  wp_fault_wait_pid_in_poll (pid, 5000);
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);

  wp_fault_call_wait (crash, 5000);
  wp_fault_assert_error (crash, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED,
                         g_strsignal (SIGKILL));

  for (guint i = 0; i < N_BEHIND; i++)
    {
      wp_fault_call_wait (behind[i], 5000);
      g_assert_cmpint (wp_fault_result_pid (behind[i]), !=, pid);
      if (i > 0)
        g_assert_cmpint (behind[i]->done_time, >=, behind[i - 1]->done_time);
    }

  /* One run each, all on the replacement. */
  marks = read_marks (path);
  g_assert_cmpuint (g_strv_length (marks), ==, N_BEHIND);
  for (guint i = 0; i < N_BEHIND; i++)
    g_assert_cmpint (atoi (marks[i]), ==, wp_fault_result_pid (behind[0]));

  g_assert_cmpuint (wp_test_get_stat (pool, "crashed"), ==, 1);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 2);
}

static void
test_cancel (WpTestFixture *fixture,
             gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  g_autoptr(GCancellable) busy_cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *path = marks_path (fixture);
  g_auto(GStrv) marks = NULL;
  WpFaultCall *busy, *before, *victim, *after;
  gint64 cancelled;
  gint32 pid;

  g_test_summary ("Cancelling a prefetched job completes it with G_IO_ERROR_CANCELLED at once, "
                  "in a later main-loop iteration, while the job ahead runs on; it never runs, "
                  "and its worker skips it and runs the jobs around it");

  pid = wp_fault_get_pid (pool, "sleep");
  busy = wp_fault_call_start (pool, "sleep", "sleep", ms_args (LONG_MS), 0, busy_cancellable);
  before = start_mark (pool, path, NULL);
  victim = start_mark (pool, path, cancellable);
  after = start_mark (pool, path, NULL);
  g_assert_cmpuint (wp_test_get_stat (pool, "prefetched"), ==, 3);
  wp_fault_wait_pid_in_poll (pid, 5000);

  /* wp_fault_cancel() fails the test if a callback runs inside it. */
  wp_fault_cancel (cancellable);
  cancelled = g_get_monotonic_time ();
  g_assert_false (wp_fault_call_is_done (victim));
  wp_fault_call_wait (victim, 1000);
  wp_fault_assert_error (victim, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  g_test_message ("prefetched cancel called back after %" G_GINT64_FORMAT " ms",
                  wp_fault_call_elapsed_ms (victim, cancelled));
  g_assert_cmpuint (wp_test_get_stat (pool, "prefetched"), ==, 2);
  g_assert_false (wp_fault_call_is_done (busy));
  g_assert_false (wp_fault_call_is_done (before));

  /* The worker runs the job before, skips the cancelled one's frame, runs
   * the job after: the same process, two marks. */
  wp_fault_cancel (busy_cancellable);
  wp_fault_call_wait (busy, 2000);
  wp_fault_assert_error (busy, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  wp_fault_call_wait (after, 5000);
  g_assert_cmpint (wp_fault_result_pid (before), ==, pid);
  g_assert_cmpint (wp_fault_result_pid (after), ==, pid);

  marks = read_marks (path);
  g_assert_cmpuint (g_strv_length (marks), ==, 2);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 1);
}

static void
test_stopped_ahead (WpTestFixture *fixture,
                    gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *path = marks_path (fixture);
  g_auto(GStrv) marks = NULL;
  WpFaultCall *spin, *behind[N_BEHIND];
  gint32 pid;

  g_test_summary ("Jobs prefetched behind a job being stopped are taken back as the stop "
                  "begins, not when the grace period ends: a worker killed then cannot take "
                  "one with it; they run on the replacement worker, each exactly once");

  wp_pool_set_cancel_grace (pool, bound (2000));
  pid = wp_fault_get_pid (pool, "sleep");
  spin = wp_fault_call_start (pool, "sleep", "spin", ms_args (LONG_MS), 0, cancellable);
  for (guint i = 0; i < N_BEHIND; i++)
    behind[i] = start_mark (pool, path, NULL);
  g_assert_cmpuint (wp_test_get_stat (pool, "prefetched"), ==, N_BEHIND);

  /* The spinning job ignores its cancellable: the worker is killed when
   * the grace period ends.  The offers must be back in the queue before. */
  wp_fault_cancel (cancellable);
  while (!wp_fault_call_is_done (spin) && wp_test_get_stat (pool, "prefetched") != 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (wp_fault_call_is_done (spin));
  g_assert_cmpuint (wp_test_get_stat (pool, "queued"), ==, N_BEHIND);

  wp_fault_call_wait (spin, bound (2000) + MARGIN_MS);
  wp_fault_assert_error (spin, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  for (guint i = 0; i < N_BEHIND; i++)
    {
      wp_fault_call_wait (behind[i], 5000);
      g_assert_cmpint (wp_fault_result_pid (behind[i]), !=, pid);
    }

  marks = read_marks (path);
  g_assert_cmpuint (g_strv_length (marks), ==, N_BEHIND);
  g_assert_cmpuint (wp_test_get_stat (pool, "crashed"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 2);
}

static void
test_moves_to_idle (WpTestFixture *fixture,
                    gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  g_autoptr(GCancellable) long_cancellable = g_cancellable_new ();
  WpFaultCall *slow, *quick, *first, *second;
  gint32 pid_quick;

  g_test_summary ("A job prefetched behind a long job runs on another worker as soon as that "
                  "one is idle, instead of waiting for the long job to end");

  /* Both workers ready; one gets a long job, the other a short one, and
   * each is handed one of the two jobs behind them. */
  ready_two_workers (pool);
  slow = wp_fault_call_start (pool, "sleep", "sleep", ms_args (LONG_MS), 0, long_cancellable);
  quick = wp_fault_call_start (pool, "sleep", "sleep", ms_args (bound (200)), 0, NULL);
  first = wp_fault_call_start (pool, "sleep", "getpid", NULL, 0, NULL);
  second = wp_fault_call_start (pool, "sleep", "getpid", NULL, 0, NULL);
  g_assert_cmpuint (wp_test_get_stat (pool, "running"), ==, 2);
  g_assert_cmpuint (wp_test_get_stat (pool, "prefetched"), ==, 2);

  wp_fault_call_wait (quick, bound (200) + MARGIN_MS);
  g_assert_no_error (quick->error);
  wp_fault_call_wait (first, MARGIN_MS);
  wp_fault_call_wait (second, MARGIN_MS);
  g_test_message ("both prefetched jobs done %" G_GINT64_FORMAT " ms after the short job",
                  (MAX (first->done_time, second->done_time) - quick->done_time)
                  / G_TIME_SPAN_MILLISECOND);

  /* Both on the worker that ran the short job; the long one runs on. */
  pid_quick = wp_fault_result_pid (first);
  g_assert_cmpint (wp_fault_result_pid (second), ==, pid_quick);
  g_assert_false (wp_fault_call_is_done (slow));
  g_assert_cmpuint (wp_test_get_stat (pool, "prefetched"), ==, 0);

  wp_fault_cancel (long_cancellable);
  wp_fault_call_wait (slow, 2000);
  wp_fault_assert_error (slow, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 2);
}

static void
test_timeout (WpTestFixture *fixture,
              gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  WpFaultCall *ahead, *fits, *over;
  gint64 ran_ms;

  g_test_summary ("The timeout of a prefetched job counts from when it starts, when the job "
                  "ahead of it ends, not from when it was handed to the worker");

  /* 1 worker: `fits` and `over` are handed over at once; `fits` waits
   * 600 ms behind `ahead`, then runs 100 ms of its 400; `over` then runs
   * past its 300. */
  wp_fault_get_pid (pool, "sleep");
  ahead = wp_fault_call_start (pool, "sleep", "sleep", ms_args (bound (600)), 0, NULL);
  fits = wp_fault_call_start (pool, "sleep", "sleep", ms_args (bound (100)), bound (400), NULL);
  over = wp_fault_call_start (pool, "sleep", "sleep", ms_args (LONG_MS), bound (300), NULL);
  g_assert_cmpuint (wp_test_get_stat (pool, "prefetched"), ==, 2);

  wp_fault_call_wait (over, bound (1000) + 3 * MARGIN_MS);
  g_assert_no_error (ahead->error);
  g_assert_no_error (fits->error);
  g_assert_cmpint (wp_fault_call_elapsed_ms (fits, fits->start_time), >=, bound (600));
  wp_fault_assert_error (over, WP_POOL_ERROR, WP_POOL_ERROR_TIMED_OUT, NULL);

  /* From the end of the job ahead, not from its submission.  That job's
   * callback runs just after the pool started the clock: 1 ms of slack. */
  ran_ms = (over->done_time - fits->done_time) / G_TIME_SPAN_MILLISECOND;
  g_test_message ("timed out %" G_GINT64_FORMAT " ms after the job ahead ended", ran_ms);
  g_assert_cmpint (ran_ms, >=, bound (300) - 1);
  g_assert_cmpint (ran_ms, <=, bound (300) + MARGIN_MS);

  g_assert_cmpuint (wp_test_get_stat (pool, "timed-out"), ==, 1);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 1);
}

static void
test_limits_change (WpTestFixture *fixture,
                    gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  g_autoptr(GCancellable) busy_cancellable = g_cancellable_new ();
  WpFaultCall *busy, *first, *second;
  gint32 pid;

  g_test_summary ("A change of the workers' limits takes back the jobs prefetched by a worker "
                  "with the old ones: they run on a worker started with the new limits");

  pid = wp_fault_get_pid (pool, "sleep");
  busy = wp_fault_call_start (pool, "sleep", "sleep", ms_args (LONG_MS), 0, busy_cancellable);
  first = wp_fault_call_start (pool, "sleep", "getpid", NULL, 0, NULL);
  second = wp_fault_call_start (pool, "sleep", "getpid", NULL, 0, NULL);
  g_assert_cmpuint (wp_test_get_stat (pool, "prefetched"), ==, 2);

  wp_pool_set_max_frame_size (pool, 1024 * 1024);
  g_assert_cmpuint (wp_test_get_stat (pool, "prefetched"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (pool, "queued"), ==, 2);

  /* The old worker ends its job and is replaced; the jobs run on the new one. */
  wp_fault_cancel (busy_cancellable);
  wp_fault_call_wait (busy, 2000);
  wp_fault_assert_error (busy, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  wp_fault_call_wait (first, 5000);
  wp_fault_call_wait (second, 5000);
  g_assert_cmpint (wp_fault_result_pid (first), !=, pid);
  g_assert_cmpint (wp_fault_result_pid (second), ==, wp_fault_result_pid (first));
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 2);
}

#define N_MANY       20000
#define CANCEL_AHEAD 5     /* a callback cancels the job this far behind it */
#define CANCEL_EVERY 7

/* The hook of every CANCEL_EVERY-th call: cancels a job submitted a few
 * after it, which is then offered, taken, or running. */
static void
cancel_later_job (WpFaultCall *call,
                  gpointer     data)
{
  wp_fault_cancel (data);
}

static void
test_many (WpTestFixture *fixture,
           gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  g_autoptr(GPtrArray) calls = g_ptr_array_new ();
  g_autoptr(GPtrArray) cancellables = g_ptr_array_new_with_free_func (g_object_unref);
  guint n_cancelled = 0;

  g_test_summary ("Many short jobs at once, some cancelled while they are offered or running: "
                  "each job's outcome is its own result, or CANCELLED for a cancelled one; no "
                  "worker breaks the protocol (the offer, take, revoke and settle races)");

  for (guint i = 0; i < N_MANY; i++)
    {
      GCancellable *cancellable = g_cancellable_new ();

      g_ptr_array_add (cancellables, cancellable);
      g_ptr_array_add (calls, wp_fault_call_start (pool, "echo", "echo",
                                                   g_variant_new ("(v)", g_variant_new_uint32 (i)),
                                                   0, cancellable));
      if (i >= CANCEL_AHEAD && (i - CANCEL_AHEAD) % CANCEL_EVERY == 0)
        {
          WpFaultCall *earlier = g_ptr_array_index (calls, i - CANCEL_AHEAD);

          earlier->hook = cancel_later_job;
          earlier->hook_data = cancellable;
        }
    }

  for (guint i = 0; i < N_MANY; i++)
    {
      WpFaultCall *call = g_ptr_array_index (calls, i);
      gboolean may_be_cancelled = i >= CANCEL_AHEAD && (i - CANCEL_AHEAD) % CANCEL_EVERY == 0;
      g_autoptr(GVariant) value = NULL;

      wp_fault_call_wait (call, 30000);
      if (may_be_cancelled && call->error != NULL)
        {
          wp_fault_assert_error (call, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
          n_cancelled++;
          continue;
        }

      g_assert_no_error (call->error);
      g_variant_get (call->result, "(v)", &value);
      g_assert_cmpuint (g_variant_get_uint32 (value), ==, i);
    }

  g_test_message ("%u of %u jobs cancelled in flight", n_cancelled, N_MANY);
  g_assert_cmpuint (wp_test_get_stat (pool, "crashed"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 2);
}

int
main (int    argc,
      char **argv)
{
  wp_test_init (&argc, &argv);

#define ADD(path, n_workers, func) \
  g_test_add (path, WpTestFixture, GUINT_TO_POINTER (n_workers), setup, func, teardown)

  ADD ("/prefetch/crash-ahead", 1, test_crash_ahead);
  ADD ("/prefetch/cancel", 1, test_cancel);
  ADD ("/prefetch/stopped-ahead", 1, test_stopped_ahead);
  ADD ("/prefetch/moves-to-idle", 2, test_moves_to_idle);
  ADD ("/prefetch/timeout", 1, test_timeout);
  ADD ("/prefetch/limits-change", 1, test_limits_change);
  ADD ("/prefetch/many", 2, test_many);

#undef ADD

  return g_test_run ();
}
