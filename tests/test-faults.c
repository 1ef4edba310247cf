/* test-faults.c: fault injection — thousands of jobs, many of them going
 * wrong, each called back exactly once with the outcome its kind allows.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * 5 000 jobs on 3 workers, 32 in flight at any time, drawn from a seeded
 * random mix (the seed is printed; set WORKPOOL_TEST_SEED to replay one).  The kinds, their
 * acceptable outcomes and the checks on every callback are in
 * wp-test-mix.h; here are the shares and timings:
 *
 *   kind            share  timing
 *   echo             40 %
 *   add              25 %
 *   plugin-error     10 %
 *   crash             1 %
 *   cancel-queued     8 %
 *   cancel-running    5 %  cancelled after 1-30 ms
 *   cancel-spin       2 %  cancelled after 1-30 ms
 *   timeout-spin      2 %  timeout 10-40 ms
 *   timeout-sleep     2 %  timeout 10-40 ms
 *   cancel-late       5 %  cancelled after 0-5 ms
 *
 * The cancel grace is 50 ms.  At the end the stats must agree with the
 * callbacks, and after the close no child process and no extra file
 * descriptor may be left.  test-soak.c runs the same mix longer.
 */

#include "wp-test-mix.h"

#define DEFAULT_SEED 20260315

static const WpMixConfig faults_mix = {
  .n_workers = 3,
  .n_jobs = 5000,
  .in_flight = 32,
  .grace_ms = 50,
  .cancel_max_ms = 30,
  .late_max_ms = 5,
  .timeout_min_ms = 10,
  .timeout_max_ms = 40,
  .per_mille = {
    [WP_MIX_ECHO]           = 400,
    [WP_MIX_ADD]            = 250,
    [WP_MIX_PLUGIN_ERROR]   = 100,
    [WP_MIX_CRASH]          = 10,
    [WP_MIX_CANCEL_QUEUED]  = 80,
    [WP_MIX_CANCEL_RUNNING] = 50,
    [WP_MIX_CANCEL_SPIN]    = 20,
    [WP_MIX_TIMEOUT_SPIN]   = 20,
    [WP_MIX_TIMEOUT_SLEEP]  = 20,
    [WP_MIX_CANCEL_LATE]    = 50,
  },
};

static void
test_faults_mix (void)
{
  g_autoptr(WpMix) mix = NULL;
  gint64 start;

  g_test_summary ("5000 jobs on 3 workers, a seeded mix of successes, plugin errors, crashes, "
                  "cancels (queued, running, late) and timeouts: each callback runs exactly "
                  "once with an outcome its kind allows, the stats agree, and after the close "
                  "no child and no extra descriptor is left");

  mix = wp_mix_new (&faults_mix, DEFAULT_SEED);
  start = g_get_monotonic_time ();
  wp_mix_run (mix);
  g_test_message ("%u jobs in %" G_GINT64_FORMAT " ms; %" G_GUINT64_FORMAT " workers spawned",
                  wp_mix_n_done (mix), wp_fault_ms_since (start),
                  wp_test_get_stat (wp_mix_get_pool (mix), "spawned"));
  wp_mix_log_outcomes (mix);
  wp_mix_close (mix);
}

int
main (int    argc,
      char **argv)
{
  wp_test_init (&argc, &argv);

  g_test_add_func ("/faults/mix", test_faults_mix);

  return g_test_run ();
}
