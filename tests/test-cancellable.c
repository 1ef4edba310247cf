/* test-cancellable.c: cancellables that scale.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A job's GCancellable costs nothing per main-loop iteration: the pool
 * attaches no GSource per job to its context.  Cancelling completes a
 * queued job with G_IO_ERROR_CANCELLED in a later main-loop iteration,
 * never from inside g_cancellable_cancel(), exactly once, and it never
 * runs; a running job's worker is asked to stop it.
 *
 *   /pool/cancellable/shared          one cancellable shared by 1000 queued jobs
 *   /pool/cancellable/queued          a job's own, cancelled while it waits in
 *                                     the queue, or handed ahead (prefetched)
 *   /pool/cancellable/running         … while it runs
 *   /pool/cancellable/pre-cancelled   … already cancelled at submission
 *   /pool/cancellable/after-done      … cancelled after the job completed
 *   /pool/cancellable/released        the pool keeps neither a reference to a
 *                                     cancellable nor a handler on it once
 *                                     its jobs are done
 *   /pool/cancellable/sources         the number of GSources on the pool's
 *                                     context does not grow with queued jobs
 *
 * Workers are kept busy by order.wait (see wp-test-gate.h) for as long as a
 * test needs; the record file says which jobs ran.  No sleep anywhere.
 */

#include "wp-test-gate.h"

typedef WpTestGateFixture Fixture;
typedef WpTestGateJob Job;
typedef WpTestGate Gate;

/* ---- Helpers ---- */

static void
assert_cancelled (Job *job)
{
  g_assert_true (wp_test_gate_job_is_done (job));
  g_assert_error (job->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* Asserts that the record file holds exactly @tokens (NULL-terminated),
 * in that order: the jobs that ran. */
static void
assert_ran (Fixture            *fixture,
            const char * const *tokens)
{
  g_auto(GStrv) lines = wp_test_gate_read_lines (fixture->record_path);
  g_autofree char *got = g_strjoinv (" ", lines);
  g_autofree char *want = g_strjoinv (" ", (char **) tokens);

  g_assert_cmpstr (got, ==, want);
}

typedef struct {
  guint n;
  Job **jobs;
} JobsWait;

static gboolean
jobs_are_done (gpointer data)
{
  JobsWait *wait = data;

  for (guint i = 0; i < wait->n; i++)
    if (!wp_test_gate_job_is_done (wait->jobs[i]))
      return FALSE;
  return TRUE;
}

static void
jobs_wait (Job  **jobs,
           guint  n)
{
  JobsWait wait = { n, jobs };

  wp_test_wait_until_full (NULL, jobs_are_done, &wait, WP_TEST_TIMEOUT_MS, "the callbacks");
}

/* The GSources attached to @context, and not destroyed.  GLib 2.74 has no
 * API to list them, but it numbers the sources of each context from 1 up
 * (gmain.c: context->next_id), and g_main_context_find_source_by_id()
 * finds any attached source that is not destroyed: so attach a probe to
 * learn the last id given, and look up every id below it. */
static guint
count_sources (GMainContext *context)
{
  GSource *probe = g_idle_source_new ();
  guint last = g_source_attach (probe, context);
  guint n = 0;

  g_source_destroy (probe);
  g_source_unref (probe);

  for (guint id = 1; id < last; id++)
    if (g_main_context_find_source_by_id (context, id) != NULL)
      n++;

  return n;
}

static gboolean
never (gpointer data)
{
  g_assert_not_reached ();
  return G_SOURCE_REMOVE;
}

/* ---- Tests ---- */

#define N_SHARED 1000
#define KEEP_EVERY 100

static void
test_shared (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) shared = g_ptr_array_new ();
  g_autoptr(GPtrArray) kept = g_ptr_array_new ();
  g_autoptr(GStrvBuilder) kept_tokens = g_strv_builder_new ();
  g_auto(GStrv) want = NULL;
  Gate *gate;
  Job *wait;

  g_test_summary ("Cancelling a GCancellable shared by 1000 queued jobs (some handed ahead "
                  "to the busy worker) completes every one of them with G_IO_ERROR_CANCELLED, "
                  "each callback exactly once and none inside g_cancellable_cancel(); none of "
                  "them runs, and the jobs without that cancellable queued among them run "
                  "afterwards, in order");

  wp_test_gate_block_workers (fixture, 1, &gate, &wait);
  for (guint i = 0; i < N_SHARED; i++)
    {
      g_autofree char *token = g_strdup_printf ("shared%03u", i);

      /* Some through each entry point, at a few priorities. */
      g_ptr_array_add (shared,
                       wp_test_gate_submit_record (fixture, token, (int) (i % 3) - 1,
                                                   i % 7 == 0, cancellable));
      if (i % KEEP_EVERY == KEEP_EVERY / 2)
        {
          g_autofree char *kept_token = g_strdup_printf ("kept%03u", i);

          g_ptr_array_add (kept, wp_test_gate_submit_record (fixture, kept_token,
                                                             G_PRIORITY_DEFAULT, TRUE, NULL));
          g_strv_builder_add (kept_tokens, kept_token);
        }
    }
  wp_test_gate_drain ();
  g_assert_cmpuint (fixture->n_done, ==, 0);
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "queued"), ==, N_SHARED + kept->len);

  /* Fails the test if a callback runs inside. */
  wp_test_gate_cancel (cancellable);
  g_assert_cmpuint (fixture->n_done, ==, 0);

  jobs_wait ((Job **) shared->pdata, shared->len);
  for (guint i = 0; i < shared->len; i++)
    assert_cancelled (g_ptr_array_index (shared, i));
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "cancelled"), ==, N_SHARED);
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "queued"), ==, kept->len);
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "running"), ==, 1);
  for (guint i = 0; i < kept->len; i++)
    g_assert_false (wp_test_gate_job_is_done (g_ptr_array_index (kept, i)));
  g_assert_false (wp_test_gate_job_is_done (wait));

  /* Nothing ran yet; then only the kept jobs run. */
  assert_ran (fixture, (const char * const[]) { NULL });
  wp_test_gate_open_once (gate);
  wp_test_gate_wait_all (fixture);
  g_assert_no_error (wait->error);
  for (guint i = 0; i < kept->len; i++)
    g_assert_no_error (((Job *) g_ptr_array_index (kept, i))->error);
  want = g_strv_builder_end (kept_tokens);
  assert_ran (fixture, (const char * const *) want);
  wp_test_assert_stats_balance (fixture->base.pool);
  /* The teardown checks again that each callback ran once, after the
   * pool is closed. */
}

static void
test_queued (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GCancellable) ahead_cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) queued_cancellable = g_cancellable_new ();
  guint prefetch = fixture->params->prefetch;
  Job *before[4], *ahead, *queued, *after;
  Gate *gate;
  Job *wait;

  g_test_summary ("A job's own cancellable cancelled while the job waits, whether in the "
                  "pool's queue or handed ahead (prefetched) to the busy worker, completes it "
                  "with G_IO_ERROR_CANCELLED in a later main-loop iteration, not inside "
                  "g_cancellable_cancel(), while the worker stays busy; it never runs, and "
                  "the jobs around it do, in order");

  g_assert_cmpuint (prefetch, ==, 4);
  wp_test_gate_block_workers (fixture, 1, &gate, &wait);

  /* Handed ahead: the second of the first four. */
  before[0] = wp_test_gate_submit_record (fixture, "before0", 0, FALSE, NULL);
  ahead = wp_test_gate_submit_record (fixture, "ahead", 0, FALSE, ahead_cancellable);
  before[1] = wp_test_gate_submit_record (fixture, "before1", 0, FALSE, NULL);
  before[2] = wp_test_gate_submit_record (fixture, "before2", 0, FALSE, NULL);
  /* In the pool's queue: past the four handed ahead. */
  before[3] = wp_test_gate_submit_record (fixture, "before3", 0, FALSE, NULL);
  queued = wp_test_gate_submit_record (fixture, "queued", 0, FALSE, queued_cancellable);
  after = wp_test_gate_submit_record (fixture, "after", 0, FALSE, NULL);
  wp_test_gate_wait_lines (fixture->started_path, 1);
  wp_test_wait_stat (fixture->base.pool, "prefetched", prefetch);
  wp_test_gate_drain ();

  wp_test_gate_cancel (ahead_cancellable);
  g_assert_false (wp_test_gate_job_is_done (ahead));
  wp_test_gate_job_wait (ahead);
  assert_cancelled (ahead);

  wp_test_gate_cancel (queued_cancellable);
  g_assert_false (wp_test_gate_job_is_done (queued));
  wp_test_gate_job_wait (queued);
  assert_cancelled (queued);

  g_assert_false (wp_test_gate_job_is_done (wait));
  for (guint i = 0; i < G_N_ELEMENTS (before); i++)
    g_assert_false (wp_test_gate_job_is_done (before[i]));
  g_assert_false (wp_test_gate_job_is_done (after));
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "cancelled"), ==, 2);

  wp_test_gate_open_once (gate);
  wp_test_gate_wait_all (fixture);
  g_assert_no_error (wait->error);
  g_assert_no_error (after->error);
  assert_ran (fixture, (const char * const[]) {
                "before0", "before1", "before2", "before3", "after", NULL });
}

static void
test_running (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_auto(GStrv) started = NULL;
  Gate *gate;
  Job *running, *next;
  gint32 pid;

  g_test_summary ("A job's own cancellable cancelled while the job runs completes it with "
                  "G_IO_ERROR_CANCELLED, not inside g_cancellable_cancel(); the function saw "
                  "the cancel and returned, so its worker is kept and runs the next job");

  /* Room for a loaded machine: the job must end because the function saw
   * the cancel, not because its worker was killed after the grace. */
  wp_pool_set_cancel_grace (fixture->base.pool, 10 * WP_TEST_TIMEOUT_MS);

  gate = wp_test_gate_new (fixture, "gate");
  running = wp_test_gate_submit_wait (fixture, gate, cancellable);
  next = wp_test_gate_submit_record (fixture, "next", 0, FALSE, NULL);
  wp_test_gate_wait_lines (fixture->started_path, 1);
  wp_test_gate_drain ();
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "running"), ==, 1);

  wp_test_gate_cancel (cancellable);
  g_assert_false (wp_test_gate_job_is_done (running));
  wp_test_gate_job_wait (running);
  assert_cancelled (running);
  wp_test_gate_job_wait (next);
  g_assert_no_error (next->error);

  /* The same process ran both. */
  started = wp_test_gate_read_lines (fixture->started_path);
  g_assert_cmpuint (g_strv_length (started), ==, 1);
  g_variant_get (next->result, "(&sui)", NULL, NULL, &pid);
  g_assert_cmpint (pid, ==, (gint32) g_ascii_strtoll (started[0], NULL, 10));
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "spawned"), ==, 1);
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "cancelled"), ==, 1);
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "crashed"), ==, 0);
}

static void
test_pre_cancelled (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Job *warm, *job, *busy_job, *after;
  Gate *gate;
  Job *wait;
  guint iterations = 0;

  g_test_summary ("A job whose cancellable is already cancelled when it is submitted fails "
                  "with G_IO_ERROR_CANCELLED in a later main-loop iteration, never from "
                  "inside the _async function, and never runs: with an idle worker ready for "
                  "it, and behind a busy one");

  /* An idle, ready worker. */
  warm = wp_test_gate_submit_record (fixture, "warm", 0, FALSE, NULL);
  wp_test_gate_job_wait (warm);
  g_assert_no_error (warm->error);

  g_cancellable_cancel (cancellable);
  job = wp_test_gate_submit_record (fixture, "idle", G_PRIORITY_HIGH, FALSE, cancellable);
  g_assert_false (wp_test_gate_job_is_done (job));
  while (!wp_test_gate_job_is_done (job))
    {
      g_main_context_iteration (NULL, TRUE);
      g_assert_cmpuint (++iterations, <, 1000);
    }
  assert_cancelled (job);

  /* The same behind a busy worker, and through wp_pool_call_async(). */
  wp_test_gate_block_workers (fixture, 1, &gate, &wait);
  busy_job = wp_test_gate_submit_record (fixture, "busy", 0, TRUE, cancellable);
  after = wp_test_gate_submit_record (fixture, "after", 0, TRUE, NULL);
  g_assert_false (wp_test_gate_job_is_done (busy_job));
  wp_test_gate_job_wait (busy_job);
  assert_cancelled (busy_job);
  g_assert_false (wp_test_gate_job_is_done (after));

  wp_test_gate_open_once (gate);
  wp_test_gate_wait_all (fixture);
  g_assert_no_error (after->error);
  assert_ran (fixture, (const char * const[]) { "warm", "after", NULL });
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "cancelled"), ==, 2);
}

static void
test_after_done (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Job *job;

  g_test_summary ("Cancelling a job's cancellable after the job completed changes nothing: "
                  "no second callback, and the pool counts it completed, not cancelled");

  job = wp_test_gate_submit_record (fixture, "done", 0, FALSE, cancellable);
  wp_test_gate_job_wait (job);
  g_assert_no_error (job->error);

  /* A second callback would fail the test in the gate fixture's callback. */
  wp_test_gate_cancel (cancellable);
  wp_test_gate_drain ();
  g_assert_cmpuint (job->n_callbacks, ==, 1);
  g_assert_no_error (job->error);
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "completed"), ==, 1);
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "cancelled"), ==, 0);
}

#define N_RELEASED 100

static void
test_released (Fixture       *fixture,
               gconstpointer  data)
{
  GCancellable *shared = g_cancellable_new ();
  GCancellable *own = g_cancellable_new ();
  GCancellable *cancelled = g_cancellable_new ();
  guint cancelled_signal = g_signal_lookup ("cancelled", G_TYPE_CANCELLABLE);
  Gate *gate;
  Job *wait;

  g_test_summary ("Once the jobs that used a cancellable are done (run, cancelled while "
                  "queued, or cancelled while running), the pool has no handler connected to "
                  "it and no reference to it left");

  g_object_add_weak_pointer (G_OBJECT (shared), (gpointer *) &shared);
  g_object_add_weak_pointer (G_OBJECT (own), (gpointer *) &own);
  g_object_add_weak_pointer (G_OBJECT (cancelled), (gpointer *) &cancelled);

  /* Run to completion. */
  for (guint i = 0; i < N_RELEASED; i++)
    wp_test_gate_submit_record (fixture, "shared", 0, FALSE, shared);
  wp_test_gate_submit_record (fixture, "own", 0, FALSE, own);
  wp_test_gate_wait_all (fixture);

  /* Cancelled, while queued behind a busy worker and while running. */
  wp_test_gate_block_workers (fixture, 1, &gate, &wait);
  for (guint i = 0; i < N_RELEASED; i++)
    wp_test_gate_submit_record (fixture, "cancelled", 0, FALSE, cancelled);
  wp_test_gate_drain ();
  wp_test_gate_cancel (cancelled);
  {
    g_autoptr(GCancellable) running_cancellable = g_cancellable_new ();
    Gate *gate2 = wp_test_gate_new (fixture, "gate-running");
    Job *running;

    wp_test_gate_open_once (gate);
    wp_test_gate_job_wait (wait);
    running = wp_test_gate_submit_wait (fixture, gate2, running_cancellable);
    wp_test_gate_wait_lines (fixture->started_path, 2);
    wp_test_gate_cancel (running_cancellable);
    wp_test_gate_job_wait (running);
    assert_cancelled (running);
    g_assert_false (g_signal_has_handler_pending (running_cancellable, cancelled_signal, 0, TRUE));
  }
  wp_test_gate_wait_all (fixture);
  wp_test_gate_drain ();

  g_assert_false (g_signal_has_handler_pending (shared, cancelled_signal, 0, TRUE));
  g_assert_false (g_signal_has_handler_pending (own, cancelled_signal, 0, TRUE));
  g_assert_false (g_signal_has_handler_pending (cancelled, cancelled_signal, 0, TRUE));

  g_object_unref (shared);
  g_object_unref (own);
  g_object_unref (cancelled);
  g_assert_null (shared);
  g_assert_null (own);
  g_assert_null (cancelled);
}

#define N_SOURCES_FEW  10
#define N_SOURCES_MANY 1000
/* What the pool may attach besides, whatever the number of jobs (a timer,
 * a source returning results). */
#define SOURCES_SLACK  2

static void
test_sources (Fixture       *fixture,
              gconstpointer  data)
{
  GMainContext *context = g_main_context_default ();
  g_autoptr(GPtrArray) cancellables = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GCancellable) shared = g_cancellable_new ();
  GSource *checks[100];
  guint n_idle, n_few = 0, n_many, n_after;
  Gate *gate;
  Job *wait;

  g_test_summary ("A queued job with a cancellable attaches no GSource to the pool's context: "
                  "with 1000 queued jobs, each with a cancellable of its own or one shared, "
                  "there are no more sources than with 10 (counted by looking up every "
                  "source id of the context, which GLib 2.74 numbers from 1)");

  /* The count is right: 100 sources more are 100 more. */
  n_idle = count_sources (context);
  for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
    {
      checks[i] = g_idle_source_new ();
      g_source_set_callback (checks[i], never, NULL, NULL);
      g_source_attach (checks[i], context);
    }
  g_assert_cmpuint (count_sources (context), ==, n_idle + G_N_ELEMENTS (checks));
  for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
    {
      g_source_destroy (checks[i]);
      g_source_unref (checks[i]);
    }
  g_assert_cmpuint (count_sources (context), ==, n_idle);

  wp_test_gate_block_workers (fixture, 1, &gate, &wait);
  for (guint i = 0; i < N_SOURCES_MANY; i++)
    {
      GCancellable *cancellable = i % 2 == 0 ? g_cancellable_new () : g_object_ref (shared);

      g_ptr_array_add (cancellables, cancellable);
      wp_test_gate_submit_record (fixture, "job", (int) (i % 5), FALSE, cancellable);
      if (i + 1 == N_SOURCES_FEW)
        {
          wp_test_gate_drain ();
          n_few = count_sources (context);
        }
    }
  wp_test_gate_drain ();
  n_many = count_sources (context);
  g_test_message ("sources: %u with the worker busy and %u jobs queued, %u with %u",
                  n_few, N_SOURCES_FEW, n_many, N_SOURCES_MANY);
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "queued"), ==, N_SOURCES_MANY);
  g_assert_cmpuint (n_many, <=, n_few + SOURCES_SLACK);

  /* Cancel them all (the shared one and each of its own), then let the
   * worker go: nothing is left attached for them either. */
  for (guint i = 0; i < cancellables->len; i++)
    g_cancellable_cancel (g_ptr_array_index (cancellables, i));
  wp_test_gate_open_once (gate);
  wp_test_gate_wait_all (fixture);
  wp_test_gate_drain ();
  n_after = count_sources (context);
  g_test_message ("sources: %u once every job is done", n_after);
  g_assert_cmpuint (n_after, <=, n_few);
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "cancelled"), ==, N_SOURCES_MANY);
}

/* ---- Main ---- */

static const WpTestGateParams one_worker = { 1, 4 };

int
main (int    argc,
      char **argv)
{
  wp_test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add (path, Fixture, &one_worker, wp_test_gate_fixture_setup, func, \
              wp_test_gate_fixture_teardown)

  ADD ("/pool/cancellable/shared", test_shared);
  ADD ("/pool/cancellable/queued", test_queued);
  ADD ("/pool/cancellable/running", test_running);
  ADD ("/pool/cancellable/pre-cancelled", test_pre_cancelled);
  ADD ("/pool/cancellable/after-done", test_after_done);
  ADD ("/pool/cancellable/released", test_released);
  ADD ("/pool/cancellable/sources", test_sources);

#undef ADD

  return g_test_run ();
}
