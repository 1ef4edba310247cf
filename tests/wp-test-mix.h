/* wp-test-mix.h: a seeded mix of jobs, many of them going wrong, each
 * checked to call back exactly once with the outcome its kind allows.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The fault-injection test (test-faults.c) and the soak (test-soak.c)
 * run it with their own sizes and shares.  The kinds:
 *
 *   kind            what                                   acceptable outcome
 *   echo            echo.echo of a random value            that value
 *   add             arith.add                              the sum
 *   plugin-error    arith.fail / arith.div by zero         the plugin's domain, code, message
 *   crash           crash.segv / crash.abort               WP_POOL_ERROR_WORKER_CRASHED naming the signal
 *   cancel-queued   echo.echo, cancelled at once           G_IO_ERROR_CANCELLED
 *   cancel-running  sleep.sleep 60 s, cancelled later      G_IO_ERROR_CANCELLED
 *   cancel-spin     sleep.spin 60 s, cancelled later       G_IO_ERROR_CANCELLED (worker killed)
 *   timeout-spin    sleep.spin 60 s, with a timeout        WP_POOL_ERROR_TIMED_OUT naming the limit
 *   timeout-sleep   sleep.sleep 60 s, with a timeout       WP_POOL_ERROR_TIMED_OUT naming the limit
 *   cancel-late     echo.echo, cancelled a moment later    the value, or G_IO_ERROR_CANCELLED
 *   large           echo.echo_bytes of random bytes        the same bytes
 *   large-late      the same, cancelled a moment later     the same bytes, or G_IO_ERROR_CANCELLED
 *
 * "Cancelled at once" means in the same main-loop iteration as the
 * submission, so the job cannot have completed: it must report
 * CANCELLED.  A cancelled job's callback must come within the cancel
 * grace plus a margin after the cancel.  No job may see an outcome of
 * another kind: a crash, a kill or a timeout must never leak onto an
 * innocent job.  A callback must not run before the call returned, nor
 * from inside g_cancellable_cancel(), nor twice.
 *
 * Memory: what a job needs lives in one of `in_flight` slots and is freed
 * when it calls back; per job, only one byte (its callback count) is kept,
 * allocated and touched before the first job.  So a long run holds the
 * same memory throughout, and a soak can measure the pool's.
 *
 * The mix makes its pool and sees it through its life: before the pool,
 * GLib's one-time set-up is done and the descriptors are counted; at the
 * close, the stats must agree with the callbacks, and then no child, no
 * late callback and no extra descriptor may be left.
 *
 * Runs in the main thread, which runs the pool's context.
 */

#pragma once

#include "wp-test-faults.h"

G_BEGIN_DECLS

typedef enum {
  WP_MIX_ECHO,
  WP_MIX_ADD,
  WP_MIX_PLUGIN_ERROR,
  WP_MIX_CRASH,
  WP_MIX_CANCEL_QUEUED,
  WP_MIX_CANCEL_RUNNING,
  WP_MIX_CANCEL_SPIN,
  WP_MIX_TIMEOUT_SPIN,
  WP_MIX_TIMEOUT_SLEEP,
  WP_MIX_CANCEL_LATE,
  WP_MIX_LARGE,
  WP_MIX_LARGE_LATE,
  WP_MIX_N_KINDS
} WpMixKind;

typedef struct _WpMix WpMix;

/* Called between rounds, with nothing queued or running. */
typedef void (*WpMixRoundFunc) (WpMix    *mix,
                                gpointer  data);

typedef struct {
  guint          n_workers;
  guint          n_jobs;
  guint          in_flight;        /* jobs submitted and not called back */
  guint          grace_ms;         /* the pool's cancel grace */
  guint          cancel_max_ms;    /* cancel-running/-spin: 1 to this after the call */
  guint          late_max_ms;      /* cancel-late, large-late: 0 to this after the call */
  guint          timeout_min_ms;   /* timeout-spin/-sleep: the limit's range */
  guint          timeout_max_ms;
  gsize          large_min;        /* large, large-late: the payload's size range, bytes */
  gsize          large_max;
  guint          per_mille[WP_MIX_N_KINDS];  /* shares, adding up to 1000 */

  /* Jobs per round (0: all in one).  A round ends when its last job has
   * called back; the next starts after @round_done has run. */
  guint          round_jobs;
  WpMixRoundFunc round_done;
  gpointer       round_data;
} WpMixConfig;

/* Warms GLib up (wp_test_warm_up()), counts the descriptors and makes
 * the pool on the test plugins.  The seed is $WORKPOOL_TEST_SEED, or
 * @default_seed; it is logged. */
WpMix         *wp_mix_new                    (const WpMixConfig *config,
                                              guint32            default_seed);
WpPool        *wp_mix_get_pool               (WpMix             *mix);
/* The descriptors open before the pool was made. */
guint          wp_mix_get_fds_before         (WpMix             *mix);
/* Runs every job; fails the test if a round takes over 5 minutes
 * (scaled). */
void           wp_mix_run                    (WpMix             *mix);
guint32        wp_mix_get_seed               (WpMix             *mix);
const char    *wp_mix_kind_name              (WpMixKind          kind);
guint          wp_mix_n_done                 (WpMix             *mix);
/* How many jobs of @kind succeeded (@failed FALSE) or failed. */
guint          wp_mix_count                  (WpMix             *mix,
                                              WpMixKind          kind,
                                              gboolean           failed);
/* Logs the outcomes of each kind. */
void           wp_mix_log_outcomes           (WpMix             *mix);
/* Asserts that every kind with a share came up and that the stats agree
 * with the callbacks; closes the pool, asserts that no child is left,
 * drops the pool, and once no late callback has come and every job has
 * called back exactly once, that the descriptors are back to their
 * count before the pool.  After wp_mix_run(). */
void           wp_mix_close                  (WpMix             *mix);
void           wp_mix_free                   (WpMix             *mix);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WpMix, wp_mix_free)

G_END_DECLS
