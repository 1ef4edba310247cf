/* test-close.c: closing a pool, and disposing of one that was not closed.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers wp_pool_close_async(): queued and running jobs finish and
 * succeed, and their callbacks run before the close completes; calls made
 * after it fail at once with WP_POOL_ERROR_CLOSED (the callback still not
 * before the call returns); the close completes after every worker has
 * exited and been reaped; no zombie and no leaked file descriptor.  And
 * disposing an unclosed pool: its workers are killed and reaped, each
 * pending callback gets WP_POOL_ERROR_CLOSED exactly once, and no
 * descriptor leaks.  Pending jobs hold a reference on the pool (their
 * GTask's source object), so a plain unref lets them finish first.
 *
 * Descriptors are counted after a warm-up pool has lived once, so that
 * what GLib sets up once per process is not taken for a leak.
 */

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "wp-test-util.h"

typedef struct {
  gboolean     returned;
  gboolean     done;
  guint        n_callbacks;
  WpTestCall **jobs;                /* optional: jobs to look at when done */
  guint        n_jobs;
  guint        n_jobs_done_before;  /* of those, how many had called back */
  gboolean     ok;
  GError      *error;
} CloseOp;

static void
close_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  CloseOp *op = user_data;

  g_assert_true (op->returned);
  g_assert_cmpuint (op->n_callbacks, ==, 0);
  op->n_callbacks++;
  op->done = TRUE;
  op->ok = wp_pool_close_finish ((WpPool *) source, result, &op->error);

  for (guint i = 0; i < op->n_jobs; i++)
    if (op->jobs[i]->n_callbacks > 0)
      op->n_jobs_done_before++;
}

static CloseOp *
close_start_watching (WpPool      *pool,
                      WpTestCall **jobs,
                      guint        n_jobs)
{
  CloseOp *op = g_new0 (CloseOp, 1);

  op->jobs = jobs;
  op->n_jobs = n_jobs;

  wp_pool_close_async (pool, NULL, close_done, op);
  op->returned = TRUE;
  return op;
}

static CloseOp *
close_start (WpPool *pool)
{
  return close_start_watching (pool, NULL, 0);
}

static void
close_op_free (CloseOp *op)
{
  g_clear_error (&op->error);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CloseOp, close_op_free)

static gint32
get_worker_pid (WpPool *pool)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = wp_test_call (pool, "echo", "getpid", NULL, &error);
  gint32 pid;

  g_assert_no_error (error);
  g_variant_get (result, "(i)", &pid);
  return pid;
}

/* ---- Closing ---- */

static void
test_close_unused (WpTestFixture *fixture,
                   gconstpointer  data)
{
  g_autoptr(CloseOp) op = NULL;

  g_test_summary ("A pool that never ran a job closes");

  op = close_start (fixture->pool);
  g_assert_cmpuint (op->n_callbacks, ==, 0);
  wp_test_wait_until (&op->done);
  g_assert_no_error (op->error);
  g_assert_true (op->ok);

  g_clear_object (&fixture->pool);
  wp_test_assert_no_children ();
}

static void
test_close_finishes_jobs (WpTestFixture *fixture,
                          gconstpointer  data)
{
  g_autoptr(CloseOp) op = NULL;
  WpTestCall *calls[6];

  g_test_summary ("Running and queued jobs finish and succeed before the close completes");

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    calls[i] = wp_test_call_start (fixture->pool, "sleep", "sleep",
                                   g_variant_new ("(u)", 300), NULL);

  /* Two jobs run, the others wait. */
  wp_test_wait_stat (fixture->pool, "running", 2);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "queued"), >=, 1);

  op = close_start_watching (fixture->pool, calls, G_N_ELEMENTS (calls));
  wp_test_wait_until (&op->done);
  g_assert_no_error (op->error);
  g_assert_true (op->ok);

  /* Every job succeeded, and had called back before the close did. */
  g_assert_cmpuint (op->n_jobs_done_before, ==, G_N_ELEMENTS (calls));
  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      g_assert_cmpuint (calls[i]->n_callbacks, ==, 1);
      g_assert_no_error (calls[i]->error);
      wp_test_assert_variant (calls[i]->result, g_variant_new ("()"));
    }

  wp_test_assert_no_children ();
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "completed"), ==, G_N_ELEMENTS (calls));
  g_clear_object (&fixture->pool);
}

static void
test_close_then_call (WpTestFixture *fixture,
                      gconstpointer  data)
{
  g_autoptr(CloseOp) op = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  WpTestCall *during, *after;
  gint32 pid;

  g_test_summary ("Calls after wp_pool_close_async() fail at once with WP_POOL_ERROR_CLOSED, called back later");

  pid = get_worker_pid (fixture->pool);
  g_assert_cmpint (pid, >, 0);

  op = close_start (fixture->pool);

  /* While closing: WpTestCall fails the test if the callback runs before
   * the call returns. */
  during = wp_test_call_start (fixture->pool, "echo", "noop", NULL, NULL);
  g_assert_cmpuint (during->n_callbacks, ==, 0);
  wp_test_call_wait (during);
  g_assert_error (during->error, WP_POOL_ERROR, WP_POOL_ERROR_CLOSED);

  wp_test_wait_until (&op->done);
  g_assert_true (op->ok);

  /* After closing. */
  after = wp_test_call_start (fixture->pool, "echo", "noop", NULL, NULL);
  g_assert_cmpuint (after->n_callbacks, ==, 0);
  wp_test_call_wait (after);
  g_assert_error (after->error, WP_POOL_ERROR, WP_POOL_ERROR_CLOSED);

  result = wp_pool_call_sync (fixture->pool, "echo", "noop", NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_CLOSED);
  g_clear_error (&error);

  result = wp_test_describe (fixture->pool, "echo", &error);
  g_assert_null (result);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_CLOSED);

  /* No worker was started for them. */
  wp_test_assert_no_children ();
  g_clear_object (&fixture->pool);
}

static void
test_close_reaps_workers (WpTestFixture *fixture,
                          gconstpointer  data)
{
  g_autoptr(CloseOp) op = NULL;
  g_autoptr(GArray) pids = g_array_new (FALSE, FALSE, sizeof (gint32));
  WpTestCall *calls[20];

  g_test_summary ("The close completes after every worker process has exited and been reaped");

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    calls[i] = wp_test_call_start (fixture->pool, "echo", "getpid", NULL, NULL);
  wp_test_calls_wait (calls, G_N_ELEMENTS (calls));
  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      gint32 pid;

      g_assert_no_error (calls[i]->error);
      g_variant_get (calls[i]->result, "(i)", &pid);
      g_array_append_val (pids, pid);
    }
  g_assert_cmpuint (wp_test_count_children (), >=, 1);

  op = close_start (fixture->pool);
  wp_test_wait_until (&op->done);
  g_assert_true (op->ok);

  /* Nothing to wait for: gone, reaped, no zombie. */
  wp_test_assert_no_children ();
  for (guint i = 0; i < pids->len; i++)
    {
      int r = kill (g_array_index (pids, gint32, i), 0);
      int saved_errno = errno;

      g_assert_cmpint (r, ==, -1);
      g_assert_cmpint (saved_errno, ==, ESRCH);
    }

  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "workers"), ==, 0);
  g_clear_object (&fixture->pool);
}

static void
test_close_no_fd_leak (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = NULL;
  WpTestCall *calls[50];
  guint fds_before;

  g_test_summary ("After close and unref, the process has the file descriptors it had before wp_pool_new()");

  wp_test_warm_up ();
  fds_before = wp_test_count_fds ();

  pool = wp_pool_new (wp_test_plugin_dir (), 2, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    calls[i] = i % 5 == 4
               ? wp_test_call_start (pool, "arith", "fail", g_variant_new ("(s)", "x"), NULL)
               : wp_test_call_start (pool, "arith", "add", g_variant_new ("(ii)", 1, 1), NULL);
  wp_test_calls_wait (calls, G_N_ELEMENTS (calls));
  g_assert_cmpuint (wp_test_count_fds (), >, fds_before);  /* the pipes */

  wp_test_close (pool);
  g_clear_object (&pool);

  wp_test_calls_check ();
  wp_test_assert_no_children ();
  wp_test_wait_fds (fds_before);
}

/* ---- Disposing without closing ---- */

static void
test_dispose_pending_jobs (void)
{
  g_autoptr(GError) error = NULL;
  WpPool *pool;
  WpTestCall *calls[7];
  guint fds_before;
  gboolean finalized;

  g_test_summary ("Disposing an unclosed pool fails each pending job with WP_POOL_ERROR_CLOSED, once");

  wp_test_warm_up ();
  fds_before = wp_test_count_fds ();

  pool = wp_pool_new (wp_test_plugin_dir (), 2, &error);
  g_assert_no_error (error);
  wp_test_watch_finalize (pool, &finalized);

  /* Two jobs that would run for a minute, five queued behind them. */
  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    calls[i] = i < 2
               ? wp_test_call_start (pool, "sleep", "sleep", g_variant_new ("(u)", 60000), NULL)
               : wp_test_call_start (pool, "echo", "noop", NULL, NULL);
  wp_test_wait_stat (pool, "running", 2);
  g_assert_cmpuint (wp_test_get_stat (pool, "queued"), ==, 5);

  /* The jobs' GTasks hold the pool (the GIO convention for a source
   * object), so dispose it as a last unref would, then drop our ref. */
  g_object_run_dispose (G_OBJECT (pool));
  g_object_unref (pool);

  wp_test_calls_wait (calls, G_N_ELEMENTS (calls));
  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    g_assert_error (calls[i]->error, WP_POOL_ERROR, WP_POOL_ERROR_CLOSED);

  wp_test_wait_no_children ();
  wp_test_wait_until (&finalized);
  wp_test_wait_fds (fds_before);

  /* Exactly once, also for anything that might come late. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  wp_test_calls_check ();
}

static void
test_dispose_unref_with_pending_jobs (void)
{
  g_autoptr(GError) error = NULL;
  WpPool *pool;
  WpTestCall *calls[5];
  guint fds_before;
  gboolean finalized;

  g_test_summary ("Unref with jobs pending: the jobs hold the pool, finish, and then it goes with its workers");

  wp_test_warm_up ();
  fds_before = wp_test_count_fds ();

  pool = wp_pool_new (wp_test_plugin_dir (), 2, &error);
  g_assert_no_error (error);
  wp_test_watch_finalize (pool, &finalized);

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    calls[i] = wp_test_call_start (pool, "arith", "add", g_variant_new ("(ii)", (gint32) i, 1), NULL);
  g_object_unref (pool);
  g_assert_false (finalized);

  wp_test_calls_wait (calls, G_N_ELEMENTS (calls));
  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      g_assert_no_error (calls[i]->error);
      wp_test_assert_variant (calls[i]->result, g_variant_new ("(i)", (gint32) i + 1));
    }

  wp_test_wait_until (&finalized);
  wp_test_wait_no_children ();
  wp_test_wait_fds (fds_before);
  wp_test_calls_check ();
}

static void
test_dispose_idle_workers (void)
{
  g_autoptr(GError) error = NULL;
  WpPool *pool;
  guint fds_before;
  gboolean finalized;
  gint32 pid;

  g_test_summary ("Disposing an unclosed pool with idle workers kills and reaps them");

  wp_test_warm_up ();
  fds_before = wp_test_count_fds ();

  pool = wp_pool_new (wp_test_plugin_dir (), 2, &error);
  g_assert_no_error (error);
  wp_test_watch_finalize (pool, &finalized);
  pid = get_worker_pid (pool);
  g_assert_cmpuint (wp_test_count_children (), >=, 1);

  /* No job holds it: this unref is the last. */
  g_object_unref (pool);
  g_assert_true (finalized);

  wp_test_wait_no_children ();
  g_assert_cmpint (kill (pid, 0), ==, -1);
  wp_test_wait_fds (fds_before);
  wp_test_calls_check ();
}

int
main (int    argc,
      char **argv)
{
  wp_test_init (&argc, &argv);

#define ADD(path, func, n_workers)                                       \
  g_test_add (path, WpTestFixture, GUINT_TO_POINTER (n_workers),         \
              wp_test_fixture_setup, func, wp_test_fixture_teardown)

  ADD ("/pool/close/unused", test_close_unused, 2);
  ADD ("/pool/close/pending-jobs", test_close_finishes_jobs, 2);
  ADD ("/pool/close/then-call", test_close_then_call, 2);
  ADD ("/pool/close/reaps-workers", test_close_reaps_workers, 2);
  g_test_add_func ("/pool/close/no-fd-leak", test_close_no_fd_leak);
  g_test_add_func ("/pool/dispose/pending-jobs", test_dispose_pending_jobs);
  g_test_add_func ("/pool/dispose/unref-with-pending-jobs", test_dispose_unref_with_pending_jobs);
  g_test_add_func ("/pool/dispose/idle-workers", test_dispose_idle_workers);

#undef ADD

  return g_test_run ();
}
