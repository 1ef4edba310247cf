/* wp-test-gate.h: workers kept busy until the test lets them go, and the
 * order in which jobs really ran.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by test-priority.c and test-cancellable.c.  A gate is a FIFO in
 * the fixture's temporary folder that the test holds open; an order.wait job
 * (tests/plugins/order.c) runs until the test writes a byte to it (each
 * byte lets one job go) or the FIFO is closed (at teardown).  order.record
 * jobs append their token to the fixture's record file: its lines are the
 * order in which the jobs ran in the workers.
 *
 * Every job goes through wp_pool_call_full_async() (or, asked for,
 * wp_pool_call_async()) with a callback that checks that it runs exactly
 * once, never before the call returned, never inside
 * wp_test_gate_cancel(), and with the job's priority on its GTask.
 * Nothing here sleeps: waits iterate the main context until their
 * condition holds (see wp-test-util.h).
 */

#pragma once

#include "wp-test-util.h"

G_BEGIN_DECLS

typedef struct {
  guint n_workers;
  guint prefetch;
} WpTestGateParams;

typedef struct {
  char     *path;
  int       fd;          /* O_RDWR: the FIFO never ends while the test holds it */
} WpTestGate;

typedef struct {
  char     *token;
  int       priority;
  guint     index;       /* in submission order, among the fixture's jobs */
  gboolean  returned;    /* the _async function has returned */
  guint     n_callbacks;
  guint     callback_order; /* how many callbacks of the fixture ran before */
  GVariant *result;
  GError   *error;
} WpTestGateJob;

typedef struct {
  WpTestFixture           base;
  const WpTestGateParams *params;
  char                   *record_path;
  char                   *started_path;
  GPtrArray              *gates;     /* of WpTestGate */
  GPtrArray              *jobs;      /* of WpTestGateJob */
  guint                   n_done;    /* callbacks run */
} WpTestGateFixture;

/* A pool on the test plugins with params->n_workers workers (data: a
 * WpTestGateParams) and params->prefetch, and a temporary folder.
 * Teardown closes the gates (ending every wait), closes the pool, and
 * checks that every job called back exactly once. */
void            wp_test_gate_fixture_setup    (WpTestGateFixture *fixture,
                                               gconstpointer      data);
void            wp_test_gate_fixture_teardown (WpTestGateFixture *fixture,
                                               gconstpointer      data);

WpTestGate     *wp_test_gate_new              (WpTestGateFixture *fixture,
                                               const char        *name);
/* Lets exactly one order.wait on @gate go. */
void            wp_test_gate_open_once        (WpTestGate        *gate);

/* @plain: through wp_pool_call_async(), whose priority must be
 * G_PRIORITY_DEFAULT; else wp_pool_call_full_async() with @priority and
 * no timeout. */
WpTestGateJob  *wp_test_gate_submit           (WpTestGateFixture *fixture,
                                               const char        *token,
                                               const char        *plugin,
                                               const char        *function,
                                               GVariant          *args,
                                               int                priority,
                                               gboolean           plain,
                                               GCancellable      *cancellable);
/* order.record of @token. */
WpTestGateJob  *wp_test_gate_submit_record    (WpTestGateFixture *fixture,
                                               const char        *token,
                                               int                priority,
                                               gboolean           plain,
                                               GCancellable      *cancellable);
WpTestGateJob  *wp_test_gate_submit_wait      (WpTestGateFixture *fixture,
                                               WpTestGate        *gate,
                                               GCancellable      *cancellable);
/* Keeps @n workers busy, each in an order.wait on a new gate of its own
 * (returned in @gates, the jobs in @waits), and waits until each of those
 * functions runs in its worker. */
void            wp_test_gate_block_workers    (WpTestGateFixture *fixture,
                                               guint              n,
                                               WpTestGate       **gates,
                                               WpTestGateJob    **waits);

gboolean        wp_test_gate_job_is_done      (WpTestGateJob     *job);
void            wp_test_gate_job_wait         (WpTestGateJob     *job);
void            wp_test_gate_wait_all         (WpTestGateFixture *fixture);
void            wp_test_gate_wait_lines       (const char        *path,
                                               guint              n_lines);

/* The lines of @path, in order; none if it does not exist. */
GStrv           wp_test_gate_read_lines       (const char        *path);

/* Runs what is pending in the main context without blocking. */
void            wp_test_gate_drain            (void);

/* g_cancellable_cancel() with a flag set meanwhile: a job's callback that
 * runs while it is set fails the test. */
void            wp_test_gate_cancel           (GCancellable      *cancellable);

G_END_DECLS
