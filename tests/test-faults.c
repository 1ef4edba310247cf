/* test-faults.c: fault injection — thousands of jobs, many of them going
 * wrong, each called back exactly once with the outcome its kind allows.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers issue 3's fault-injection test: 5 000 jobs on 3 workers, about
 * 32 in flight at any time, drawn from a seeded random mix (the seed is
 * printed; set WORKPOOL_TEST_SEED to replay one):
 *
 *   kind            share  what                                  acceptable outcome
 *   echo             40 %  echo.echo of a random value           that value
 *   add              25 %  arith.add                             the sum
 *   plugin-error     10 %  arith.fail / arith.div by zero        the plugin's domain, code, message
 *   crash             1 %  crash.segv / crash.abort              WP_POOL_ERROR_WORKER_CRASHED naming the signal
 *   cancel-queued     8 %  echo.echo, cancelled at once          G_IO_ERROR_CANCELLED
 *   cancel-running    5 %  sleep.sleep 60 s, cancelled 1-30 ms   G_IO_ERROR_CANCELLED
 *   cancel-spin       2 %  sleep.spin 60 s, cancelled 1-30 ms    G_IO_ERROR_CANCELLED (worker killed)
 *   timeout-spin      2 %  sleep.spin 60 s, timeout 10-40 ms     WP_POOL_ERROR_TIMED_OUT naming the limit
 *   timeout-sleep     2 %  sleep.sleep 60 s, timeout 10-40 ms    WP_POOL_ERROR_TIMED_OUT naming the limit
 *   cancel-late       5 %  echo.echo, cancelled after 0-5 ms     the value, or G_IO_ERROR_CANCELLED
 *
 * "Cancelled at once" means in the same main-loop iteration as the
 * submission, so the job cannot have completed: it must report
 * CANCELLED.  A cancelled job's callback must come within the cancel
 * grace (50 ms here) plus a margin after the cancel.  No job may see an
 * outcome of another kind: a crash, a kill or a timeout must never leak
 * onto an innocent job.  At the end the stats must agree with the
 * callbacks, and after the close no child process and no extra file
 * descriptor may be left.
 */

#include <signal.h>
#include <string.h>

#include "wp-test-faults.h"

#define N_JOBS      5000
#define N_WORKERS   3
#define IN_FLIGHT   32
#define GRACE_MS    50
#define LONG_MS     60000
#define MARGIN_MS   1000
#define DEFAULT_SEED 20260315

typedef enum {
  KIND_ECHO,
  KIND_ADD,
  KIND_PLUGIN_ERROR,
  KIND_CRASH,
  KIND_CANCEL_QUEUED,
  KIND_CANCEL_RUNNING,
  KIND_CANCEL_SPIN,
  KIND_TIMEOUT_SPIN,
  KIND_TIMEOUT_SLEEP,
  KIND_CANCEL_LATE,
  N_KINDS
} Kind;

static const struct {
  const char *name;
  guint       per_mille;
} kinds[N_KINDS] = {
  [KIND_ECHO]           = { "echo", 400 },
  [KIND_ADD]            = { "add", 250 },
  [KIND_PLUGIN_ERROR]   = { "plugin-error", 100 },
  [KIND_CRASH]          = { "crash", 10 },
  [KIND_CANCEL_QUEUED]  = { "cancel-queued", 80 },
  [KIND_CANCEL_RUNNING] = { "cancel-running", 50 },
  [KIND_CANCEL_SPIN]    = { "cancel-spin", 20 },
  [KIND_TIMEOUT_SPIN]   = { "timeout-spin", 20 },
  [KIND_TIMEOUT_SLEEP]  = { "timeout-sleep", 20 },
  [KIND_CANCEL_LATE]    = { "cancel-late", 50 },
};

typedef struct {
  Kind          kind;
  guint         index;
  GVariant     *expected;      /* the result a success must have */
  GQuark        error_domain;  /* for plugin-error */
  gint          error_code;
  char         *error_message;
  int           signum;        /* for crash */
  guint         timeout_ms;    /* for timeouts */
  GCancellable *cancellable;
  GSource      *cancel_timer;
  gint64        cancel_time;   /* monotonic µs, 0 until cancelled */
} FaultJob;

typedef struct {
  WpPool   *pool;
  GRand    *rand;
  FaultJob  jobs[N_JOBS];
  guint     n_started;
  guint     n_done;
  guint     outcomes[N_KINDS][2];  /* [kind][0: success, 1: error] */
} Run;

static guint
bound (guint ms)
{
  return ms * wp_fault_scale ();
}

static Kind
draw_kind (GRand *rand)
{
  guint32 x = g_rand_int_range (rand, 0, 1000);

  for (guint k = 0; k < N_KINDS; k++)
    {
      if (x < kinds[k].per_mille)
        return k;
      x -= kinds[k].per_mille;
    }

  g_assert_not_reached ();
}

static GVariant *
random_value (GRand *rand)
{
  switch (g_rand_int_range (rand, 0, 3))
    {
    case 0:
      return g_variant_new_int32 ((gint32) g_rand_int (rand));
    case 1:
      {
        g_autofree char *text = g_strdup_printf ("value %u", g_rand_int (rand));
        return g_variant_new_string (text);
      }
    default:
      return g_variant_new ("(sd)", "pair", g_rand_double (rand));
    }
}

/* ---- Cancelling ---- */

static void
cancel_job (FaultJob *job)
{
  if (job->cancel_time == 0)
    job->cancel_time = g_get_monotonic_time ();
  wp_fault_cancel (job->cancellable);
}

static gboolean
on_cancel_timer (gpointer data)
{
  cancel_job (data);
  return G_SOURCE_REMOVE;
}

static void
cancel_later (FaultJob *job,
              guint     ms)
{
  job->cancel_timer = g_timeout_source_new (ms);
  g_source_set_callback (job->cancel_timer, on_cancel_timer, job, NULL);
  g_source_attach (job->cancel_timer, NULL);
}

/* ---- Checking one outcome ---- */

static gboolean
is_error (WpFaultCall *call,
          GQuark       domain,
          gint         code)
{
  return g_error_matches (call->error, domain, code);
}

static void
fail_job (FaultJob    *job,
          WpFaultCall *call,
          const char  *expected)
{
  g_autofree char *got = NULL;

  if (call->error != NULL)
    got = g_strdup_printf ("error %s:%d \"%s\"", g_quark_to_string (call->error->domain),
                           call->error->code, call->error->message);
  else
    got = g_variant_print (call->result, TRUE);

  g_error ("job %u (%s, %s): expected %s, got %s", job->index, kinds[job->kind].name,
           call->name, expected, got);
}

static void
check_success (FaultJob    *job,
               WpFaultCall *call)
{
  if (call->error != NULL || !g_variant_equal (call->result, job->expected))
    fail_job (job, call, "success with the value sent");
}

static void
check_cancelled (FaultJob    *job,
                 WpFaultCall *call)
{
  if (!is_error (call, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    fail_job (job, call, "G_IO_ERROR_CANCELLED");

  g_assert_cmpint (job->cancel_time, >, 0);
  if ((call->done_time - job->cancel_time) / 1000 > bound (GRACE_MS + MARGIN_MS))
    g_error ("job %u (%s): called back %" G_GINT64_FORMAT " ms after the cancel",
             job->index, kinds[job->kind].name, (call->done_time - job->cancel_time) / 1000);
}

static void
check_outcome (FaultJob    *job,
               WpFaultCall *call)
{
  switch (job->kind)
    {
    case KIND_ECHO:
    case KIND_ADD:
      check_success (job, call);
      break;

    case KIND_PLUGIN_ERROR:
      if (!is_error (call, job->error_domain, job->error_code)
          || g_strcmp0 (call->error->message, job->error_message) != 0)
        fail_job (job, call, "the plugin's own error");
      break;

    case KIND_CRASH:
      if (!is_error (call, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED)
          || strstr (call->error->message, g_strsignal (job->signum)) == NULL)
        fail_job (job, call, "WP_POOL_ERROR_WORKER_CRASHED naming the signal");
      break;

    case KIND_CANCEL_QUEUED:
    case KIND_CANCEL_RUNNING:
    case KIND_CANCEL_SPIN:
      check_cancelled (job, call);
      break;

    case KIND_TIMEOUT_SPIN:
    case KIND_TIMEOUT_SLEEP:
      {
        g_autofree char *limit = g_strdup_printf (" %u ms", job->timeout_ms);

        if (!is_error (call, WP_POOL_ERROR, WP_POOL_ERROR_TIMED_OUT)
            || strstr (call->error->message, limit) == NULL)
          fail_job (job, call, "WP_POOL_ERROR_TIMED_OUT naming the limit");
      }
      break;

    case KIND_CANCEL_LATE:
      if (call->error != NULL)
        check_cancelled (job, call);
      else
        check_success (job, call);
      break;

    case N_KINDS:
    default:
      g_assert_not_reached ();
    }
}

/* ---- Submitting ---- */

static void start_next (Run *run);

static void
on_job_done (WpFaultCall *call,
             gpointer     data)
{
  Run *run = data;
  FaultJob *job = call->tag;

  check_outcome (job, call);
  run->outcomes[job->kind][call->error != NULL]++;
  run->n_done++;

  start_next (run);
}

static void
start_next (Run *run)
{
  FaultJob *job;
  WpFaultCall *call;
  const char *plugin = NULL, *function = NULL;
  GVariant *args = NULL;
  guint timeout_ms = 0;

  if (run->n_started == N_JOBS)
    return;

  job = &run->jobs[run->n_started];
  job->index = run->n_started++;
  job->kind = draw_kind (run->rand);

  switch (job->kind)
    {
    case KIND_ECHO:
    case KIND_CANCEL_QUEUED:
    case KIND_CANCEL_LATE:
      {
        GVariant *value = random_value (run->rand);

        plugin = "echo", function = "echo";
        job->expected = g_variant_ref_sink (g_variant_new ("(v)", value));
        args = job->expected;
      }
      break;

    case KIND_ADD:
      {
        gint32 a = g_rand_int_range (run->rand, -100000, 100000);
        gint32 b = g_rand_int_range (run->rand, -100000, 100000);

        plugin = "arith", function = "add";
        args = g_variant_new ("(ii)", a, b);
        job->expected = g_variant_ref_sink (g_variant_new ("(i)", a + b));
      }
      break;

    case KIND_PLUGIN_ERROR:
      plugin = "arith";
      if (g_rand_boolean (run->rand))
        {
          function = "fail";
          job->error_message = g_strdup_printf ("failure %u", job->index);
          job->error_domain = G_FILE_ERROR;
          job->error_code = G_FILE_ERROR_NOENT;
          args = g_variant_new ("(s)", job->error_message);
        }
      else
        {
          function = "div";
          job->error_message = g_strdup ("division by zero");
          job->error_domain = G_IO_ERROR;
          job->error_code = G_IO_ERROR_INVALID_ARGUMENT;
          args = g_variant_new ("(ii)", (gint32) job->index, 0);
        }
      break;

    case KIND_CRASH:
      plugin = "crash";
      if (g_rand_boolean (run->rand))
        function = "segv", job->signum = SIGSEGV;
      else
        function = "abort", job->signum = SIGABRT;
      break;

    case KIND_CANCEL_RUNNING:
      plugin = "sleep", function = "sleep";
      args = g_variant_new ("(u)", LONG_MS);
      break;

    case KIND_CANCEL_SPIN:
      plugin = "sleep", function = "spin";
      args = g_variant_new ("(u)", LONG_MS);
      break;

    case KIND_TIMEOUT_SPIN:
    case KIND_TIMEOUT_SLEEP:
      plugin = "sleep";
      function = job->kind == KIND_TIMEOUT_SPIN ? "spin" : "sleep";
      args = g_variant_new ("(u)", LONG_MS);
      timeout_ms = job->timeout_ms = g_rand_int_range (run->rand, 10, 41);
      break;

    case N_KINDS:
    default:
      g_assert_not_reached ();
    }

  job->cancellable = g_cancellable_new ();
  call = wp_fault_call_start (run->pool, plugin, function, args, timeout_ms, job->cancellable);
  call->tag = job;
  call->hook = on_job_done;
  call->hook_data = run;

  switch (job->kind)
    {
    case KIND_CANCEL_QUEUED:
      cancel_job (job);
      break;
    case KIND_CANCEL_RUNNING:
    case KIND_CANCEL_SPIN:
      cancel_later (job, g_rand_int_range (run->rand, 1, 31));
      break;
    case KIND_CANCEL_LATE:
      cancel_later (job, g_rand_int_range (run->rand, 0, 6));
      break;
    default:
      break;
    }
}

static gboolean
all_done (gpointer data)
{
  Run *run = data;

  return run->n_done == N_JOBS;
}

/* ---- The test ---- */

static void
test_faults_mix (void)
{
  g_autoptr(GError) error = NULL;
  const char *seed_text = g_getenv ("WORKPOOL_TEST_SEED");
  guint64 seed = DEFAULT_SEED;
  g_autofree Run *run = g_new0 (Run, 1);
  guint fds_before;
  gint64 start;

  g_test_summary ("5000 jobs on 3 workers, a seeded mix of successes, plugin errors, crashes, "
                  "cancels (queued, running, late) and timeouts: each callback runs exactly "
                  "once with an outcome its kind allows, the stats agree, and after the close "
                  "no child and no extra descriptor is left");

  if (seed_text != NULL)
    g_assert_true (g_ascii_string_to_unsigned (seed_text, 10, 0, G_MAXUINT32, &seed, NULL));
  g_test_message ("seed %" G_GUINT64_FORMAT " (set WORKPOOL_TEST_SEED to replay)", seed);
  run->rand = g_rand_new_with_seed ((guint32) seed);

  wp_test_warm_up ();
  fds_before = wp_test_count_fds ();

  run->pool = wp_pool_new (wp_test_plugin_dir (), N_WORKERS, &error);
  g_assert_no_error (error);
  wp_pool_set_cancel_grace (run->pool, GRACE_MS);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < IN_FLIGHT; i++)
    start_next (run);
  wp_test_wait_until_full (NULL, all_done, run, 5 * 60 * 1000, "every job to call back");
  g_test_message ("%u jobs in %" G_GINT64_FORMAT " ms; %" G_GUINT64_FORMAT " workers spawned",
                  N_JOBS, wp_fault_ms_since (start), wp_test_get_stat (run->pool, "spawned"));

  for (guint k = 0; k < N_KINDS; k++)
    g_test_message ("%-15s %4u succeeded, %4u failed", kinds[k].name,
                    run->outcomes[k][0], run->outcomes[k][1]);

  /* Every kind came up, and the stats say what the callers saw. */
  for (guint k = 0; k < N_KINDS; k++)
    g_assert_cmpuint (run->outcomes[k][0] + run->outcomes[k][1], >, 0);
  g_assert_cmpuint (wp_test_get_stat (run->pool, "crashed"), ==, run->outcomes[KIND_CRASH][1]);
  g_assert_cmpuint (wp_test_get_stat (run->pool, "timed-out"), ==,
                    run->outcomes[KIND_TIMEOUT_SPIN][1] + run->outcomes[KIND_TIMEOUT_SLEEP][1]);
  wp_fault_assert_stats_agree (run->pool);

  wp_test_close (run->pool);
  wp_test_assert_no_children ();
  g_clear_object (&run->pool);

  /* Nothing comes twice, even late; then every callback ran once. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  wp_fault_calls_check ();
  wp_test_wait_fds (fds_before);

  for (guint i = 0; i < N_JOBS; i++)
    {
      g_clear_pointer (&run->jobs[i].expected, g_variant_unref);
      g_clear_pointer (&run->jobs[i].error_message, g_free);
      g_clear_object (&run->jobs[i].cancellable);
      if (run->jobs[i].cancel_timer != NULL)
        g_source_destroy (run->jobs[i].cancel_timer);
      g_clear_pointer (&run->jobs[i].cancel_timer, g_source_unref);
    }
  g_rand_free (run->rand);
}

int
main (int    argc,
      char **argv)
{
  wp_test_init (&argc, &argv);

  g_test_add_func ("/faults/mix", test_faults_mix);

  return g_test_run ();
}
