/* wp-test-faults.h: what the supervision and fault-injection tests share.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Calls made with a per-call timeout and recorded with the time their
 * callback ran; a cancel that records that it is in progress, so that a
 * callback run from inside g_cancellable_cancel() is caught; the check
 * that the pool's stats agree with what the recorded callers saw; and
 * looking at worker processes from the outside (their pid, whether they
 * are gone, whether the plugin function is running).
 *
 * Builds on wp-test-util.h; everything here runs in the main thread,
 * which runs the pools' context.
 */

#pragma once

#include <gio/gunixfdlist.h>

#include "wp-test-util.h"

G_BEGIN_DECLS

/* Timing bounds in tests are multiplied by this
 * ($WORKPOOL_TEST_TIMEOUT_SCALE, 1 by default). */
guint          wp_fault_scale                (void);
gint64         wp_fault_ms_since             (gint64          start_us);

/* Calls */

typedef struct _WpFaultCall WpFaultCall;
typedef void (*WpFaultCallHook) (WpFaultCall *call,
                                 gpointer     data);

struct _WpFaultCall {
  WpPool          *pool;         /* not owned */
  char            *name;         /* "plugin.function" */
  guint            timeout_ms;
  gboolean         returned;     /* wp_pool_call_full_async() has returned */
  gboolean         with_fds;     /* made with a descriptor list */
  guint            n_callbacks;
  gint64           start_time;   /* monotonic µs, at the call */
  gint64           done_time;    /* monotonic µs, in the callback */
  GVariant        *result;
  GError          *error;

  /* Optional, run at the end of the (first) callback; may be set after
   * wp_fault_call_start() returned, since no callback runs before. */
  WpFaultCallHook  hook;
  gpointer         hook_data;
  gpointer         tag;          /* free for the test's use */
};

WpFaultCall   *wp_fault_call_start           (WpPool         *pool,
                                              const char     *plugin,
                                              const char     *function,
                                              GVariant       *args,
                                              guint           timeout_ms,
                                              GCancellable   *cancellable);
/* As wp_fault_call_start(), through
 * wp_pool_call_with_unix_fd_list_async(); the result's descriptors are
 * dropped. */
WpFaultCall   *wp_fault_call_start_with_fds  (WpPool         *pool,
                                              const char     *plugin,
                                              const char     *function,
                                              GVariant       *args,
                                              GUnixFDList    *fd_list);
gboolean       wp_fault_call_is_done         (WpFaultCall    *call);
void           wp_fault_call_wait            (WpFaultCall    *call,
                                              guint           timeout_ms);
gint64         wp_fault_call_elapsed_ms      (WpFaultCall    *call,
                                              gint64          since_us);
GVariant      *wp_fault_call_sync            (WpPool         *pool,
                                              const char     *plugin,
                                              const char     *function,
                                              GVariant       *args,
                                              GError        **error);
gint32         wp_fault_result_pid           (WpFaultCall    *call);
gint32         wp_fault_get_pid              (WpPool         *pool,
                                              const char     *plugin);
void           wp_fault_assert_error         (WpFaultCall    *call,
                                              GQuark          domain,
                                              gint            code,
                                              const char     *substring);

/* Asserts that every recorded call's callback ran exactly once, and
 * forgets them.  Run after the pools are closed or disposed. */
void           wp_fault_calls_check          (void);

/* A teardown for wp_test_fixture_setup()'s fixture: the stats agree with
 * the recorded calls (when there is a pool), the fixture's own teardown,
 * then wp_fault_calls_check(). */
void           wp_fault_fixture_teardown     (WpTestFixture  *fixture,
                                              gconstpointer   data);

/* The arguments of sleep.sleep and sleep.spin: "(u)" milliseconds. */
GVariant      *wp_fault_ms_args              (guint32         ms);

/* Waits (30 s at most) for every recorded call of @pool to have called
 * back, then asserts that the stats agree with what the callbacks saw
 * (see wp_fault_tally_assert_stats()).  Every call made on @pool must
 * have gone through wp_fault_call_start() for the counts to match. */
void           wp_fault_assert_stats_agree   (WpPool         *pool);

/* What callers saw, counted the way the pool's stats count it: for a
 * test that does not record its calls as WpFaultCall. */
typedef struct {
  guint64 submitted;
  guint64 completed;
  guint64 failed;
  guint64 cancelled;
  guint64 crashed;     /* part of failed */
  guint64 timed_out;   /* part of failed */
} WpFaultTally;

/* Counts one outcome: @error NULL for a success. */
void           wp_fault_tally_add            (WpFaultTally       *tally,
                                              const GError       *error);
/* Asserts that the stats of @pool, with nothing queued or running, are
 * @tally (completed, failed, cancelled, crashed, timed-out and
 * submitted), and balance. */
void           wp_fault_tally_assert_stats   (const WpFaultTally *tally,
                                              WpPool             *pool);

/* Cancelling */

/* g_cancellable_cancel() with wp_fault_in_cancel set meanwhile: every
 * recorded callback fails the test if it runs while it is set. */
void           wp_fault_cancel               (GCancellable   *cancellable);
gboolean       wp_fault_in_cancel            (void);

/* Processes */

/* Gone: no such process, or a zombie (it runs no code any more; whoever
 * its parent now is may reap it later). */
gboolean       wp_fault_pid_is_gone          (int             pid);
void           wp_fault_wait_pid_gone        (int             pid,
                                              guint           timeout_ms);
/* Whether the main thread of process @pid is blocked in poll(), which is
 * where sleep.sleep waits: the plugin function is running. */
gboolean       wp_fault_pid_in_poll          (int             pid);
void           wp_fault_wait_pid_in_poll     (int             pid,
                                              guint           timeout_ms);
/* Whether the main thread of process @pid is blocked in read(), which is
 * where an idle worker waits for its next request. */
gboolean       wp_fault_pid_in_read          (int             pid);
void           wp_fault_wait_pid_in_read     (int             pid,
                                              guint           timeout_ms);

G_END_DECLS
