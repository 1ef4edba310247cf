/* test-priority.c: jobs run in the order of their io_priority.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * wp_pool_call_full_async() takes an io_priority: a lower value is more
 * urgent, wp_pool_call_async() means G_PRIORITY_DEFAULT, jobs of equal
 * priority run in the order they were submitted, and a more urgent job
 * never waits behind a less urgent one that has not started, even one
 * already handed ahead of time (prefetched) to a busy worker that has not
 * claimed it yet.  The GTask of each call carries the priority too.
 *
 * Every test keeps its workers busy with order.wait, which returns only
 * when the test writes a byte to its FIFO, submits jobs of order.record
 * while they are busy, then lets the workers go: the record file is the
 * order in which the jobs really ran in the workers.  Nothing here sleeps
 * or depends on timing.
 *
 *   /pool/priority/fifo/…                 equal priorities: submission order
 *   /pool/priority/urgent-first/…         one urgent job after many low ones
 *   /pool/priority/mixed/…                random priorities: a stable sort
 *   /pool/priority/prefetched-overtaken/… urgent jobs submitted once low
 *                                         ones were handed to the busy worker
 *   /pool/priority/two-workers            the same with two busy workers,
 *                                         one let go
 *   /pool/priority/task                   the GTask's priority, failures too
 *
 * The …/prefetch-N variants set wp_pool_set_prefetch() to N (0: off).
 */

#include "wp-test-gate.h"

typedef WpTestGateFixture Fixture;
typedef WpTestGateJob Job;
typedef WpTestGate Gate;

static Job *
submit_record (Fixture    *fixture,
               const char *token,
               int         priority,
               gboolean    plain)
{
  return wp_test_gate_submit_record (fixture, token, priority, plain, NULL);
}

#define block_workers      wp_test_gate_block_workers
#define drain              wp_test_gate_drain
#define gate_open_once     wp_test_gate_open_once
#define job_is_done        wp_test_gate_job_is_done
#define job_wait           wp_test_gate_job_wait
#define jobs_wait_all      wp_test_gate_wait_all
#define read_lines         wp_test_gate_read_lines

static int
compare_run_order (gconstpointer a,
                   gconstpointer b)
{
  const Job *x = *(Job * const *) a;
  const Job *y = *(Job * const *) b;

  /* No subtraction: priorities span the whole of int. */
  if (x->priority != y->priority)
    return x->priority < y->priority ? -1 : 1;
  return x->index < y->index ? -1 : (x->index > y->index ? 1 : 0);
}

/* Asserts that the record file holds the tokens of @jobs, each once, in
 * the order of their priority, then of their submission, and that each
 * succeeded. */
static void
assert_run_in_priority_order (Fixture   *fixture,
                              GPtrArray *jobs)
{
  g_autoptr(GPtrArray) expected = g_ptr_array_copy (jobs, NULL, NULL);
  g_auto(GStrv) lines = read_lines (fixture->record_path);
  g_autoptr(GString) want = g_string_new (NULL);
  g_autoptr(GString) got = g_string_new (NULL);

  g_ptr_array_sort (expected, compare_run_order);

  for (guint i = 0; i < jobs->len; i++)
    g_assert_no_error (((Job *) g_ptr_array_index (jobs, i))->error);

  for (guint i = 0; i < expected->len; i++)
    g_string_append_printf (want, "%s ", ((Job *) g_ptr_array_index (expected, i))->token);
  for (guint i = 0; lines[i] != NULL; i++)
    g_string_append_printf (got, "%s ", lines[i]);

  /* One string, so that a failure shows the whole order. */
  g_assert_cmpstr (got->str, ==, want->str);
}

/* ---- Tests ---- */

#define N_FIFO 24

static void
test_fifo (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new ();
  Gate *gate;
  Job *wait;

  g_test_summary ("Jobs of equal priority run in submission order, whether submitted with "
                  "wp_pool_call_async() (G_PRIORITY_DEFAULT) or wp_pool_call_full_async() "
                  "with G_PRIORITY_DEFAULT, interleaved; all on the one worker, one after "
                  "the other");

  block_workers (fixture, 1, &gate, &wait);
  for (guint i = 0; i < N_FIFO; i++)
    {
      g_autofree char *token = g_strdup_printf ("j%02u", i);

      g_ptr_array_add (records, submit_record (fixture, token, G_PRIORITY_DEFAULT, i % 2 == 0));
    }
  drain ();
  g_assert_cmpuint (fixture->n_done, ==, 0);

  gate_open_once (gate);
  jobs_wait_all (fixture);
  g_assert_no_error (wait->error);
  assert_run_in_priority_order (fixture, records);

  /* The worker's own count: the jobs ran there 1st, 2nd, … in order. */
  for (guint i = 0; i < records->len; i++)
    {
      Job *job = g_ptr_array_index (records, i);
      const char *token;
      guint32 n;
      gint32 pid;

      g_variant_get (job->result, "(&sui)", &token, &n, &pid);
      g_assert_cmpstr (token, ==, job->token);
      g_assert_cmpuint (n, ==, i + 1);
    }
}

#define N_LOW 50

static void
test_urgent_first (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new ();
  Gate *gate;
  Job *wait, *urgent;

  g_test_summary ("One urgent job (G_PRIORITY_HIGH) submitted after many low ones "
                  "(G_PRIORITY_LOW) while the only worker is busy runs before all of them; "
                  "the low ones then run in submission order");

  block_workers (fixture, 1, &gate, &wait);
  for (guint i = 0; i < N_LOW; i++)
    {
      g_autofree char *token = g_strdup_printf ("low%02u", i);

      g_ptr_array_add (records, submit_record (fixture, token, G_PRIORITY_LOW, FALSE));
    }
  urgent = submit_record (fixture, "urgent", G_PRIORITY_HIGH, FALSE);
  g_ptr_array_add (records, urgent);
  drain ();

  gate_open_once (gate);
  jobs_wait_all (fixture);
  g_assert_no_error (wait->error);
  assert_run_in_priority_order (fixture, records);
}

#define N_MIXED 64

static void
test_mixed (Fixture       *fixture,
            gconstpointer  data)
{
  static const int priorities[] = {
    G_MININT, G_PRIORITY_HIGH, -1, G_PRIORITY_DEFAULT, 1, G_PRIORITY_HIGH_IDLE,
    G_PRIORITY_DEFAULT_IDLE, G_PRIORITY_LOW, G_MAXINT,
  };
  g_autoptr(GPtrArray) records = g_ptr_array_new ();
  Gate *gate;
  Job *wait;

  g_test_summary ("Jobs of random priorities (from G_MININT to G_MAXINT, repeated), submitted "
                  "while the only worker is busy, run sorted by priority, and in submission "
                  "order within a priority (the seed is g_test's: --seed replays it)");

  block_workers (fixture, 1, &gate, &wait);
  for (guint i = 0; i < N_MIXED; i++)
    {
      int priority = priorities[g_test_rand_int_range (0, G_N_ELEMENTS (priorities))];
      g_autofree char *token = g_strdup_printf ("j%02u@%d", i, priority);

      /* Every fifth through the plain call, where it is G_PRIORITY_DEFAULT. */
      g_ptr_array_add (records, submit_record (fixture, token, priority, i % 5 == 4));
      /* Half of the time, let the pool act on each submission at once. */
      if (i % 2 == 0)
        drain ();
    }

  gate_open_once (gate);
  jobs_wait_all (fixture);
  g_assert_no_error (wait->error);
  assert_run_in_priority_order (fixture, records);
}

#define N_AHEAD 8

static void
test_prefetched_overtaken (Fixture       *fixture,
                           gconstpointer  data)
{
  guint prefetch = fixture->params->prefetch;
  g_autoptr(GPtrArray) records = g_ptr_array_new ();
  Gate *gate;
  Job *wait;

  g_test_summary ("Low-priority jobs already handed ahead (prefetched) to the busy worker, "
                  "and written to its pipe, do not run before more urgent jobs submitted "
                  "afterwards: once the worker is free the urgent ones run first");

  g_assert_cmpuint (prefetch, >, 0);
  block_workers (fixture, 1, &gate, &wait);
  for (guint i = 0; i < N_AHEAD; i++)
    {
      g_autofree char *token = g_strdup_printf ("low%u", i);

      g_ptr_array_add (records, submit_record (fixture, token, G_PRIORITY_LOW, FALSE));
    }

  /* The first ones are with the worker now, not in the pool's queue. */
  wp_test_wait_stat (fixture->base.pool, "prefetched", MIN (prefetch, N_AHEAD));
  drain ();
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "queued"), ==, N_AHEAD);

  g_ptr_array_add (records, submit_record (fixture, "default", G_PRIORITY_DEFAULT, TRUE));
  g_ptr_array_add (records, submit_record (fixture, "urgent", G_PRIORITY_HIGH, FALSE));
  drain ();
  g_assert_cmpuint (fixture->n_done, ==, 0);

  gate_open_once (gate);
  jobs_wait_all (fixture);
  g_assert_no_error (wait->error);
  assert_run_in_priority_order (fixture, records);
}

static void
test_two_workers (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new ();
  g_auto(GStrv) lines = NULL;
  Gate *gates[2];
  Job *waits[2], *urgent;
  gint32 pid_a;

  g_test_summary ("With two busy workers, each handed low-priority jobs ahead of time, an "
                  "urgent job submitted afterwards is the first job to run once one worker "
                  "is let go, on that worker; every job then runs exactly once");

  g_assert_cmpuint (fixture->params->n_workers, ==, 2);
  block_workers (fixture, 2, gates, waits);
  for (guint i = 0; i < 3 * N_AHEAD; i++)
    {
      g_autofree char *token = g_strdup_printf ("low%02u", i);

      g_ptr_array_add (records, submit_record (fixture, token, G_PRIORITY_LOW, FALSE));
    }
  wp_test_wait_stat (fixture->base.pool, "prefetched", 2 * fixture->params->prefetch);
  drain ();

  urgent = submit_record (fixture, "urgent", G_PRIORITY_HIGH, FALSE);
  g_ptr_array_add (records, urgent);
  drain ();

  /* Only the worker of the first gate is free; the other one stays busy
   * until the urgent job has run. */
  gate_open_once (gates[0]);
  job_wait (waits[0]);
  g_assert_no_error (waits[0]->error);
  g_variant_get (waits[0]->result, "(i)", &pid_a);
  job_wait (urgent);
  g_assert_no_error (urgent->error);
  g_assert_false (job_is_done (waits[1]));

  lines = read_lines (fixture->record_path);
  g_assert_nonnull (lines[0]);
  g_assert_cmpstr (lines[0], ==, "urgent");
  {
    gint32 pid;

    g_variant_get (urgent->result, "(&sui)", NULL, NULL, &pid);
    g_assert_cmpint (pid, ==, pid_a);
  }

  gate_open_once (gates[1]);
  jobs_wait_all (fixture);
  g_assert_no_error (waits[1]->error);

  /* Each exactly once. */
  g_clear_pointer (&lines, g_strfreev);
  lines = read_lines (fixture->record_path);
  g_assert_cmpuint (g_strv_length (lines), ==, records->len);
  for (guint i = 0; i < records->len; i++)
    {
      Job *job = g_ptr_array_index (records, i);

      g_assert_no_error (job->error);
      g_assert_true (g_strv_contains ((const char * const *) lines, job->token));
    }
}

typedef struct {
  Fixture  *fixture;
  int       priorities[4];
  Job      *jobs[4];
} ReturnOrder;

/* A job the pool refuses at once, on the way in. */
static Job *
submit_refused (Fixture    *fixture,
                const char *token,
                int         priority)
{
  return wp_test_gate_submit (fixture, token, "no/such", "f", NULL, priority, FALSE, NULL);
}

static void
on_first_returned (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  ReturnOrder *order = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = wp_pool_call_finish (WP_POOL (source), result, &error);

  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN);
  /* Refused now, from inside the pool's return of another job: each is
   * called back in a later iteration, the most urgent first. */
  for (guint i = 0; i < G_N_ELEMENTS (order->priorities); i++)
    {
      g_autofree char *token = g_strdup_printf ("refused-%d", order->priorities[i]);

      order->jobs[i] = submit_refused (order->fixture, token, order->priorities[i]);
    }
}

static gboolean
all_returned (gpointer data)
{
  ReturnOrder *order = data;

  /* The first, "plain", and the four refused from inside the first. */
  return order->jobs[G_N_ELEMENTS (order->jobs) - 1] != NULL
         && order->fixture->n_done == 1 + G_N_ELEMENTS (order->jobs);
}

static void
test_return_order (Fixture       *fixture,
                   gconstpointer  data)
{
  ReturnOrder order = {
    fixture,
    { G_PRIORITY_LOW, G_PRIORITY_HIGH, G_PRIORITY_DEFAULT_IDLE, G_PRIORITY_DEFAULT },
    { NULL, },
  };
  static const int sorted[] = {
    G_PRIORITY_HIGH, G_PRIORITY_DEFAULT, G_PRIORITY_DEFAULT_IDLE, G_PRIORITY_LOW
  };
  Job *plain;

  g_test_summary ("A job that ends in the main-loop iteration it was submitted in (refused "
                  "at once, from inside a callback) is called back from an idle of its "
                  "io_priority, as a GTask of that priority would be: the most urgent "
                  "first; wp_pool_call_async() gives G_PRIORITY_DEFAULT");

  wp_pool_call_full_async (fixture->base.pool, "no/such", "f", NULL, 0, G_PRIORITY_DEFAULT,
                           NULL, on_first_returned, &order);
  plain = wp_test_gate_submit (fixture, "plain", "no/such", "f", NULL, G_PRIORITY_LOW, TRUE, NULL);
  g_assert_cmpint (plain->priority, ==, G_PRIORITY_DEFAULT);

  wp_test_wait_until_full (NULL, all_returned, &order, WP_TEST_TIMEOUT_MS,
                           "every refused job called back");

  for (guint i = 0; i < G_N_ELEMENTS (sorted); i++)
    for (guint j = 0; j < G_N_ELEMENTS (order.jobs); j++)
      if (order.jobs[j]->priority == sorted[i])
        {
          g_assert_error (order.jobs[j]->error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN);
          /* After "plain", which the pool returned before. */
          g_assert_cmpuint (order.jobs[j]->callback_order, ==, i + 1);
        }
}

/* ---- Main ---- */

typedef WpTestGateParams Params;

static const Params one_p0 = { 1, 0 };
static const Params one_p1 = { 1, 1 };
static const Params one_p4 = { 1, 4 };
static const Params two_p4 = { 2, 4 };

int
main (int    argc,
      char **argv)
{
  wp_test_init (&argc, &argv);

#define ADD(path, params, func) \
  g_test_add (path, Fixture, params, wp_test_gate_fixture_setup, func, \
              wp_test_gate_fixture_teardown)

  ADD ("/pool/priority/fifo/prefetch-0", &one_p0, test_fifo);
  ADD ("/pool/priority/fifo/prefetch-4", &one_p4, test_fifo);
  ADD ("/pool/priority/urgent-first/prefetch-0", &one_p0, test_urgent_first);
  ADD ("/pool/priority/urgent-first/prefetch-1", &one_p1, test_urgent_first);
  ADD ("/pool/priority/urgent-first/prefetch-4", &one_p4, test_urgent_first);
  ADD ("/pool/priority/mixed/prefetch-0", &one_p0, test_mixed);
  ADD ("/pool/priority/mixed/prefetch-4", &one_p4, test_mixed);
  ADD ("/pool/priority/prefetched-overtaken/prefetch-1", &one_p1, test_prefetched_overtaken);
  ADD ("/pool/priority/prefetched-overtaken/prefetch-4", &one_p4, test_prefetched_overtaken);
  ADD ("/pool/priority/two-workers", &two_p4, test_two_workers);
  ADD ("/pool/priority/return-order", &one_p4, test_return_order);

#undef ADD

  return g_test_run ();
}
