/* test-reentry.c: re-entrancy and lifetime of the pool.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   /reentry/nested-loop/OUTER/INNER
 *       a callback runs a nested GMainLoop until the callback of a job it
 *       submitted, which the pool itself fails (INNER: cancelled before
 *       submission, refused at submission, or submitted to a closing
 *       pool); OUTER is where the first callback runs from: the pool's
 *       return source (a refused job) or a worker's (a job that ran)
 *   /reentry/close-concurrent/...
 *       two wp_pool_close_async() calls: each one's cancellable affects
 *       that call alone
 *   /reentry/call-sync-last-unref/...
 *       wp_pool_call_sync() from another thread holds the last reference:
 *       dispose and finalize must still run in the pool's thread
 *   /reentry/grace-reply-in-pipe
 *       at the end of a cancel grace period, a reply already in the pipe
 *       is read before the worker is killed: the job prefetched behind
 *       the stopped one, which the worker had claimed, does not fail
 *   /reentry/last-unref/...
 *       what dropping the last reference does to pending jobs, and
 *       g_object_run_dispose() for comparison
 *
 * Each test runs in a subprocess of its own (g_test_trap_subprocess()),
 * so that one that hangs or crashes on a broken pool fails alone: a hang
 * fails by a safety timeout (WAIT_MS, scaled by
 * WORKPOOL_TEST_TIMEOUT_SCALE) with a message saying what never came,
 * and the subprocess's own timeout backs that up.  No test sleeps to
 * synchronise: each waits for an event (a callback, a stat, a line in a
 * FIFO the test reads, a toggle reference).
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wp-test-util.h"

#define WAIT_MS 10000  /* for something that takes microseconds when it works */

static guint
scale (void)
{
  const char *value = g_getenv ("WORKPOOL_TEST_TIMEOUT_SCALE");
  guint64 n = 1;

  if (value == NULL || !g_ascii_string_to_unsigned (value, 10, 1, 1000, &n, NULL))
    n = 1;
  return (guint) n;
}

static guint
wait_ms (void)
{
  return WAIT_MS * scale ();
}

/* Runs @body in a subprocess; the test passes if it did. */
typedef void (*BodyFunc) (gconstpointer data);

typedef struct {
  BodyFunc      body;
  gconstpointer data;
} Isolated;

static void
run_isolated (gconstpointer user_data)
{
  const Isolated *isolated = user_data;

  if (g_test_subprocess ())
    {
      isolated->body (isolated->data);
      return;
    }

  /* A failed test is reported, and the next one runs. */
  g_test_set_nonfatal_assertions ();
  /* The body fails by its own safety timeouts well before this one. */
  g_test_trap_subprocess (NULL, (guint64) 4 * wait_ms () * G_TIME_SPAN_MILLISECOND,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
add_isolated (const char    *path,
              BodyFunc       body,
              gconstpointer  data)
{
  Isolated *isolated = g_new0 (Isolated, 1);

  isolated->body = body;
  isolated->data = data;
  g_test_add_data_func_full (path, isolated, run_isolated, g_free);
}

static WpPool *
new_pool (guint n_workers)
{
  g_autoptr(GError) error = NULL;
  WpPool *pool = wp_pool_new (wp_test_plugin_dir (), n_workers, &error);

  g_assert_no_error (error);
  return pool;
}

/* Iterates the thread-default context until *@flag (read atomically), or
 * fails the test after wait_ms() saying @what never happened. */
static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the thread-default context until @condition holds (checked at
 * least every 10 ms); FALSE if it did not within wait_ms(). */
static gboolean
wait_for (WpTestCondition condition,
          gpointer        data)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) wait_ms () * G_TIME_SPAN_MILLISECOND;
  g_autoptr(GSource) ticker = g_timeout_source_new (10);
  gboolean reached;

  g_source_set_callback (ticker, tick, NULL, NULL);
  g_source_attach (ticker, NULL);
  while (!(reached = condition (data)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_destroy (ticker);

  return reached;
}

static gboolean
atomic_flag_set (gpointer data)
{
  return g_atomic_int_get ((gint *) data) != 0;
}

/* An async call whose outcome is kept. */
typedef struct {
  gboolean  done;
  guint     n_callbacks;
  GVariant *result;
  GError   *error;
} Outcome;

static void
outcome_clear (Outcome *outcome)
{
  g_clear_pointer (&outcome->result, g_variant_unref);
  g_clear_error (&outcome->error);
}

static void
on_call_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Outcome *outcome = user_data;

  outcome->n_callbacks++;
  outcome->result = wp_pool_call_finish (WP_POOL (source), result, &outcome->error);
  outcome->done = TRUE;
}

static void
on_close_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Outcome *outcome = user_data;

  outcome->n_callbacks++;
  if (wp_pool_close_finish (WP_POOL (source), result, &outcome->error))
    outcome->result = g_variant_ref_sink (g_variant_new_boolean (TRUE));
  outcome->done = TRUE;
}

static void
close_and_wait (WpPool *pool)
{
  Outcome closed = { 0 };

  wp_pool_close_async (pool, NULL, on_close_done, &closed);
  wp_test_wait_until_full (NULL, (WpTestCondition) atomic_flag_set, &closed.done, WAIT_MS,
                           "the final close");
  g_assert_no_error (closed.error);
  outcome_clear (&closed);
}

/* ---- (a) A nested main loop in a callback ---- */

typedef enum {
  OUTER_RETURN_SOURCE,  /* a job refused at submission: returned by the return source */
  OUTER_WORKER,         /* a job that ran: returned from its worker's source */
} OuterKind;

typedef enum {
  INNER_CANCELLED,      /* its cancellable was cancelled before submission */
  INNER_REFUSED,        /* an invalid plugin name */
  INNER_CLOSED,         /* submitted to a pool being closed */
} InnerKind;

typedef struct {
  const char *path;
  OuterKind   outer;
  InnerKind   inner;
} NestedCase;

static const NestedCase nested_cases[] = {
  { "/reentry/nested-loop/return-source/cancelled", OUTER_RETURN_SOURCE, INNER_CANCELLED },
  { "/reentry/nested-loop/return-source/refused", OUTER_RETURN_SOURCE, INNER_REFUSED },
  { "/reentry/nested-loop/return-source/closed", OUTER_RETURN_SOURCE, INNER_CLOSED },
  { "/reentry/nested-loop/worker/cancelled", OUTER_WORKER, INNER_CANCELLED },
  { "/reentry/nested-loop/worker/refused", OUTER_WORKER, INNER_REFUSED },
  { "/reentry/nested-loop/worker/closed", OUTER_WORKER, INNER_CLOSED },
};

typedef struct {
  const NestedCase *test;
  WpPool           *pool;
  GMainLoop        *nested;
  gboolean          outer_done;
  gboolean          inner_done;
  gboolean          timed_out;
  GError           *outer_error;
  GError           *inner_error;
  Outcome           close;
} Nested;

static void
on_inner_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Nested *nested = user_data;
  g_autoptr(GVariant) value = wp_pool_call_finish (WP_POOL (source), result, &nested->inner_error);

  g_assert_null (value);
  g_assert_false (nested->inner_done);
  nested->inner_done = TRUE;
  g_main_loop_quit (nested->nested);
}

static gboolean
on_nested_timeout (gpointer user_data)
{
  Nested *nested = user_data;

  nested->timed_out = TRUE;
  g_main_loop_quit (nested->nested);
  return G_SOURCE_REMOVE;
}

static void
on_outer_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Nested *nested = user_data;
  g_autoptr(GVariant) value = wp_pool_call_finish (WP_POOL (source), result, &nested->outer_error);
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GSource) timeout = NULL;
  const char *plugin = "echo";

  switch (nested->test->inner)
    {
    case INNER_CANCELLED:
      cancellable = g_cancellable_new ();
      g_cancellable_cancel (cancellable);
      break;
    case INNER_REFUSED:
      plugin = "not a plugin name!";
      break;
    case INNER_CLOSED:
      wp_pool_close_async (nested->pool, NULL, on_close_done, &nested->close);
      break;
    }

  /* What a program does when it needs a result before it goes on: waits
   * for it in a nested loop.  The pool fails this job itself, at once. */
  nested->nested = g_main_loop_new (NULL, FALSE);
  wp_pool_call_async (nested->pool, plugin, "noop", NULL, cancellable, on_inner_done, nested);

  timeout = g_timeout_source_new (wait_ms ());
  g_source_set_callback (timeout, on_nested_timeout, nested, NULL);
  g_source_attach (timeout, NULL);
  g_main_loop_run (nested->nested);
  g_source_destroy (timeout);
  g_clear_pointer (&nested->nested, g_main_loop_unref);

  if (nested->timed_out)
    g_error ("%s: the callback of a job the pool failed itself never came to a nested main "
             "loop run from a callback (waited %u ms): the source that returns it cannot "
             "recurse", nested->test->path, wait_ms ());

  nested->outer_done = TRUE;
}

static void
test_nested_loop (gconstpointer data)
{
  Nested nested = { .test = data };

  g_test_summary ("A callback may run a nested main loop until the callback of a job it "
                  "submitted comes, even when the pool fails that job itself (cancelled "
                  "before submission, refused, submitted to a closing pool), whichever source "
                  "the first callback ran from");

  nested.pool = new_pool (1);

  if (nested.test->outer == OUTER_RETURN_SOURCE)
    wp_pool_call_async (nested.pool, "not a plugin name!", "noop", NULL, NULL, on_outer_done, &nested);
  else
    wp_pool_call_async (nested.pool, "echo", "noop", NULL, NULL, on_outer_done, &nested);

  wp_test_wait_until (&nested.outer_done);

  if (nested.test->outer == OUTER_RETURN_SOURCE)
    g_assert_error (nested.outer_error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN);
  else
    g_assert_no_error (nested.outer_error);

  switch (nested.test->inner)
    {
    case INNER_CANCELLED:
      g_assert_error (nested.inner_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      break;
    case INNER_REFUSED:
      g_assert_error (nested.inner_error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN);
      break;
    case INNER_CLOSED:
      g_assert_error (nested.inner_error, WP_POOL_ERROR, WP_POOL_ERROR_CLOSED);
      wp_test_wait_until (&nested.close.done);
      g_assert_no_error (nested.close.error);
      outcome_clear (&nested.close);
      break;
    }

  close_and_wait (nested.pool);
  g_clear_object (&nested.pool);
  g_clear_error (&nested.outer_error);
  g_clear_error (&nested.inner_error);
  wp_test_assert_no_children ();
}

/* ---- (b) Two concurrent closes ---- */

typedef enum {
  CANCEL_FIRST,
  CANCEL_SECOND,
} WhichCancelled;

typedef struct {
  const char     *path;
  gboolean        first_has_cancellable;
  gboolean        second_has_cancellable;
  WhichCancelled  cancelled;
} CloseCase;

static const CloseCase close_cases[] = {
  { "/reentry/close-concurrent/both-cancellable/cancel-second", TRUE, TRUE, CANCEL_SECOND },
  { "/reentry/close-concurrent/both-cancellable/cancel-first", TRUE, TRUE, CANCEL_FIRST },
  { "/reentry/close-concurrent/second-cancellable/cancel-second", FALSE, TRUE, CANCEL_SECOND },
  { "/reentry/close-concurrent/first-cancellable/cancel-first", TRUE, FALSE, CANCEL_FIRST },
};

static gboolean
both_done (gpointer data)
{
  Outcome *closes = data;

  return closes[0].done && closes[1].done;
}

static void
test_close_concurrent (gconstpointer data)
{
  const CloseCase *test = data;
  GCancellable *cancellables[2] = { NULL, NULL };
  Outcome closes[2] = { { 0 }, { 0 } };
  Outcome job = { 0 };
  WpPool *pool;
  guint cancelled = test->cancelled == CANCEL_FIRST ? 0 : 1;
  guint other = 1 - cancelled;

  g_test_summary ("Two wp_pool_close_async() calls at once: cancelling one call's cancellable "
                  "makes THAT call finish with G_IO_ERROR_CANCELLED and, as documented for a "
                  "single close, stops waiting for jobs (queued ones fail with "
                  "WP_POOL_ERROR_CLOSED, running ones are stopped); the other call is not "
                  "cancelled and completes with TRUE once the workers are gone, as GIO "
                  "operations sharing a resource do.  Whichever call has the cancellable, and "
                  "whether the other has one too");

  if (test->first_has_cancellable)
    cancellables[0] = g_cancellable_new ();
  if (test->second_has_cancellable)
    cancellables[1] = g_cancellable_new ();

  pool = new_pool (1);
  /* A job that runs until it is stopped (it honours its cancellable). */
  wp_pool_call_async (pool, "sleep", "sleep", g_variant_new ("(u)", 600000), NULL,
                      on_call_done, &job);
  wp_test_wait_stat (pool, "running", 1);

  wp_pool_close_async (pool, cancellables[0], on_close_done, &closes[0]);
  wp_pool_close_async (pool, cancellables[1], on_close_done, &closes[1]);
  g_assert_false (closes[0].done || closes[1].done);

  g_cancellable_cancel (cancellables[cancelled]);

  if (!wait_for (both_done, closes))
    g_error ("%s: after cancelling the %s close's cancellable, the closes had not both "
             "completed after %u ms (first %s, second %s, the running job %s): a cancellable "
             "was ignored", test->path, cancelled == 0 ? "first" : "second", wait_ms (),
             closes[0].done ? "done" : "pending", closes[1].done ? "done" : "pending",
             job.done ? "done" : "still running");

  g_assert_cmpuint (closes[0].n_callbacks, ==, 1);
  g_assert_cmpuint (closes[1].n_callbacks, ==, 1);
  if (closes[other].error != NULL)
    g_error ("%s: the %s close, whose cancellable was %s, failed: %s", test->path,
             other == 0 ? "first" : "second",
             cancellables[other] != NULL ? "not cancelled" : "NULL",
             closes[other].error->message);
  g_assert_nonnull (closes[other].result);
  g_assert_error (closes[cancelled].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* The running job was stopped, not waited for. */
  wp_test_wait_until (&job.done);
  g_assert_null (job.result);
  g_assert_nonnull (job.error);
  g_assert_true (g_error_matches (job.error, WP_POOL_ERROR, WP_POOL_ERROR_CLOSED)
                 || g_error_matches (job.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));

  outcome_clear (&closes[0]);
  outcome_clear (&closes[1]);
  outcome_clear (&job);
  g_clear_object (&cancellables[0]);
  g_clear_object (&cancellables[1]);
  g_object_unref (pool);
  wp_test_assert_no_children ();
}

/* ---- (c) wp_pool_call_sync() from another thread and the last unref ---- */

typedef enum {
  SYNC_REFUSED,  /* a job the pool refuses at submission: no worker */
  SYNC_RAN,      /* a job that runs on a worker */
} SyncKind;

typedef struct {
  const char *path;
  SyncKind    kind;
} SyncCase;

static const SyncCase sync_cases[] = {
  { "/reentry/call-sync-last-unref/refused", SYNC_REFUSED },
  { "/reentry/call-sync-last-unref/ran", SYNC_RAN },
};

typedef struct {
  const SyncCase *test;
  WpPool         *pool;
  GMainContext   *context;

  GMutex          lock;
  GCond           cond;
  gboolean        caller_holds_ref;  /* the toggle reference saw a second one */

  gint            call_returned;
  gint            disposed;
  gint            finalized;
  GThread        *dispose_thread;
  GThread        *finalize_thread;
  GVariant       *result;
  GError         *error;
} SyncUnref;

/* Called where the reference count goes from 1 to 2 (@is_last_ref FALSE),
 * in the thread that took the second reference: the caller's, in
 * wp_pool_call_sync(), before it hands its job over. */
static void
on_toggle (gpointer  data,
           GObject  *object,
           gboolean  is_last_ref)
{
  SyncUnref *state = data;

  if (is_last_ref)
    return;

  g_mutex_lock (&state->lock);
  state->caller_holds_ref = TRUE;
  g_cond_broadcast (&state->cond);
  g_mutex_unlock (&state->lock);
}

static void
on_pool_disposed (gpointer  data,
                  GObject  *where_the_object_was)
{
  SyncUnref *state = data;

  state->dispose_thread = g_thread_self ();
  g_atomic_int_set (&state->disposed, 1);
  g_main_context_wakeup (state->context);
}

static void
on_pool_finalized (gpointer data)
{
  SyncUnref *state = data;

  state->finalize_thread = g_thread_self ();
  g_atomic_int_set (&state->finalized, 1);
  g_main_context_wakeup (state->context);
}

static gpointer
sync_caller (gpointer data)
{
  SyncUnref *state = data;
  const char *plugin = state->test->kind == SYNC_REFUSED ? "not a plugin name!" : "echo";

  state->result = wp_pool_call_sync (state->pool, plugin, "noop", NULL, NULL, &state->error);
  g_atomic_int_set (&state->call_returned, 1);
  g_main_context_wakeup (state->context);
  return NULL;
}

static gboolean
sync_unref_over (gpointer data)
{
  SyncUnref *state = data;

  return g_atomic_int_get (&state->call_returned) && g_atomic_int_get (&state->finalized);
}

static void
test_call_sync_last_unref (gconstpointer data)
{
  SyncUnref state = { .test = data };
  g_autoptr(GThread) thread = NULL;
  gint64 deadline;
  gboolean holds;

  g_test_summary ("A wp_pool_call_sync() from another thread may hold the last reference to "
                  "the pool (the pool's thread dropped its own while the call was in flight): "
                  "dispose and finalize still run in the pool's thread, never in the caller's, "
                  "where they would race with the pool's sources");

  g_mutex_init (&state.lock);
  g_cond_init (&state.cond);
  state.context = g_main_context_ref_thread_default ();
  state.pool = new_pool (1);
  g_object_weak_ref (G_OBJECT (state.pool), on_pool_disposed, &state);
  g_object_set_data_full (G_OBJECT (state.pool), "test-reentry-finalize", &state,
                          on_pool_finalized);

  /* The test's reference becomes a toggle reference, which tells when the
   * caller's thread took its own. */
  g_object_add_toggle_ref (G_OBJECT (state.pool), on_toggle, &state);
  g_object_unref (state.pool);

  thread = g_thread_new ("sync-caller", sync_caller, &state);

  /* Not iterating the pool's context meanwhile: the call cannot progress
   * (nor end) before the test has dropped its reference. */
  deadline = g_get_monotonic_time () + (gint64) wait_ms () * G_TIME_SPAN_MILLISECOND;
  g_mutex_lock (&state.lock);
  while (!state.caller_holds_ref && g_cond_wait_until (&state.cond, &state.lock, deadline))
    ;
  holds = state.caller_holds_ref;
  g_mutex_unlock (&state.lock);
  if (!holds)
    g_error ("wp_pool_call_sync() never took a reference to the pool");

  /* The pool's thread drops its reference while the call is in flight:
   * the caller's is the last. */
  g_object_remove_toggle_ref (G_OBJECT (state.pool), on_toggle, &state);

  if (!wait_for (sync_unref_over, &state))
    g_error ("%s: after %u ms, the call had %sreturned and the pool was %sfinalized",
             state.test->path, wait_ms (),
             g_atomic_int_get (&state.call_returned) ? "" : "not ",
             g_atomic_int_get (&state.finalized) ? "" : "not ");
  g_thread_join (g_steal_pointer (&thread));

  /* A job that ran may have its result, or fail as the pending jobs of a
   * disposed pool do: the caller's reference was the last.  Either is
   * fine here; where dispose runs is what this test is about. */
  if (state.test->kind == SYNC_REFUSED)
    g_assert_error (state.error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN);
  else if (state.error != NULL)
    g_assert_error (state.error, WP_POOL_ERROR, WP_POOL_ERROR_CLOSED);

  g_assert_true (g_atomic_int_get (&state.disposed));
  if (state.dispose_thread != g_thread_self ())
    g_error ("%s: the pool was disposed in the thread of wp_pool_call_sync()'s caller, "
             "not in the pool's thread", state.test->path);
  g_assert_true (state.finalize_thread == g_thread_self ());

  wp_test_wait_no_children ();
  g_clear_pointer (&state.result, g_variant_unref);
  g_clear_error (&state.error);
  g_main_context_unref (state.context);
  g_mutex_clear (&state.lock);
  g_cond_clear (&state.cond);
}

/* ---- (d) A reply in the pipe when the grace period ends ---- */

/* Reads a line from the FIFO @fd (opened O_RDONLY | O_NONBLOCK), waiting
 * for it with poll(), never iterating the pool's context; fails the test
 * after wait_ms(). */
static void
read_fifo_line (int         fd,
                const char *what)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) wait_ms () * G_TIME_SPAN_MILLISECOND;
  char buffer[64];

  for (;;)
    {
      GPollFD pollfd = { fd, G_IO_IN, 0 };
      gint64 left = deadline - g_get_monotonic_time ();
      ssize_t n;

      if (left <= 0)
        g_error ("timed out after %u ms waiting for %s", wait_ms (), what);
      g_poll (&pollfd, 1, (int) (left / 1000 + 1));

      n = read (fd, buffer, sizeof buffer);
      if (n > 0)
        return;
      /* 0: no writer yet (or it left): poll() says POLLHUP at once after
       * a writer closed, so wait for the line by polling again. */
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        g_error ("reading the FIFO for %s: %s", what, g_strerror (errno));
    }
}

static void
open_and_close_for_writing (const char *path)
{
  int fd;

  do
    fd = open (path, O_WRONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  g_assert_cmpint (fd, >=, 0);
  close (fd);
}

static gboolean
prefetched_behind_running (gpointer data)
{
  WpPool *pool = data;

  return wp_test_get_stat (pool, "running") == 1 && wp_test_get_stat (pool, "prefetched") == 1;
}

static gboolean
outcomes_done (gpointer data)
{
  Outcome *outcomes = data;

  return outcomes[0].done && outcomes[1].done;
}

static void
test_grace_reply_in_pipe (gconstpointer data)
{
  g_autofree char *dir = wp_test_make_tmp_dir ();
  g_autofree char *pass_fifo = g_build_filename (dir, "pass", NULL);
  g_autofree char *started_fifo = g_build_filename (dir, "started", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Outcome jobs[2] = { { 0 }, { 0 } };
  WpPool *pool;
  gint32 pid_ahead, pid_behind;
  int started_fd;

  g_test_summary ("When a stopped job's grace period ends with its reply already in the pipe "
                  "(the worker finished it, then claimed the job prefetched behind it), the "
                  "pool reads that reply before it kills anything: the stopped job completes "
                  "as cancelled, the prefetched job runs on the same worker and succeeds, "
                  "nothing is counted as crashed, and no worker is killed or replaced");

  g_assert_cmpint (mkfifo (pass_fifo, 0600), ==, 0);
  g_assert_cmpint (mkfifo (started_fifo, 0600), ==, 0);
  started_fd = open (started_fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  g_assert_cmpint (started_fd, >=, 0);

  pool = new_pool (1);
  /* Over at once: the deadline is due by the time the pool looks. */
  wp_pool_set_cancel_grace (pool, 0);
  wp_pool_set_prefetch (pool, 4);

  /* The job ahead ignores its cancellable and waits for the test; the
   * one behind it is prefetched to the same (only) worker. */
  wp_pool_call_async (pool, "gate", "pass", g_variant_new ("(s)", pass_fifo), cancellable,
                      on_call_done, &jobs[0]);
  wp_pool_call_async (pool, "gate", "signal", g_variant_new ("(s)", started_fifo), NULL,
                      on_call_done, &jobs[1]);
  wp_test_wait_until_full (NULL, prefetched_behind_running, pool, WAIT_MS,
                           "one job running, one prefetched behind it");

  /* Without the pool looking (its context is not iterated from here until
   * the cancel): the worker finishes the job ahead, replies, claims the
   * job behind it and starts it, which says so on the FIFO. */
  open_and_close_for_writing (pass_fifo);
  read_fifo_line (started_fd, "the prefetched job to start on the worker");

  /* The reply of the job ahead is in the pipe; stop it with no grace. */
  g_cancellable_cancel (cancellable);

  if (!wait_for (outcomes_done, jobs))
    g_error ("the jobs did not complete within %u ms", wait_ms ());

  g_assert_cmpuint (jobs[0].n_callbacks, ==, 1);
  g_assert_cmpuint (jobs[1].n_callbacks, ==, 1);
  g_assert_error (jobs[0].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  if (jobs[1].error != NULL)
    g_error ("the prefetched job the worker had claimed failed: %s (%s, %d)",
             jobs[1].error->message, g_quark_to_string (jobs[1].error->domain),
             jobs[1].error->code);
  g_variant_get (jobs[1].result, "(i)", &pid_behind);

  /* Same worker, still alive: it was not killed. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) result = wp_test_call (pool, "gate", "signal",
                                               g_variant_new ("(s)", started_fifo), &error);

    g_assert_no_error (error);
    g_variant_get (result, "(i)", &pid_ahead);
    read_fifo_line (started_fd, "the third job");
  }
  g_assert_cmpint (pid_ahead, ==, pid_behind);
  g_assert_cmpuint (wp_test_get_stat (pool, "crashed"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 1);
  wp_test_assert_stats_balance (pool);

  close_and_wait (pool);
  g_object_unref (pool);
  close (started_fd);
  outcome_clear (&jobs[0]);
  outcome_clear (&jobs[1]);
  wp_test_remove_tree (dir);
  wp_test_assert_no_children ();
}

/* ---- (e) The last reference dropped with jobs pending ---- */

typedef struct {
  gint     disposed;
  GThread *thread;
  guint    n_done_before;  /* jobs that had called back when it was disposed */
  Outcome *jobs;
  guint    n_jobs;
} DisposeWatch;

static void
on_watched_disposed (gpointer  data,
                     GObject  *where_the_object_was)
{
  DisposeWatch *watch = data;

  watch->thread = g_thread_self ();
  for (guint i = 0; i < watch->n_jobs; i++)
    watch->n_done_before += watch->jobs[i].done;
  g_atomic_int_set (&watch->disposed, 1);
}

static gboolean
all_done (gpointer data)
{
  DisposeWatch *watch = data;

  for (guint i = 0; i < watch->n_jobs; i++)
    if (!watch->jobs[i].done)
      return FALSE;
  return TRUE;
}

#define N_PENDING 3

static void
test_last_unref_pending (gconstpointer data)
{
  Outcome jobs[N_PENDING] = { { 0 } };
  DisposeWatch watch = { .jobs = jobs, .n_jobs = N_PENDING };
  WpPool *pool;

  g_test_summary ("Dropping the last reference the program holds while jobs are pending "
                  "(running and queued) neither disposes the pool nor fails them: each "
                  "pending job's GTask holds a reference to its source object, the pool; "
                  "every job completes with its own result, and the pool is disposed in its "
                  "own thread once the last callback has returned.  So "
                  "WP_POOL_ERROR_CLOSED for a job 'pending when the pool is disposed' is "
                  "reached only through g_object_run_dispose()");

  pool = new_pool (1);
  g_object_weak_ref (G_OBJECT (pool), on_watched_disposed, &watch);
  wp_pool_call_async (pool, "sleep", "sleep", g_variant_new ("(u)", 100), NULL,
                      on_call_done, &jobs[0]);
  for (guint i = 1; i < N_PENDING; i++)
    wp_pool_call_async (pool, "echo", "getpid", NULL, NULL, on_call_done, &jobs[i]);
  wp_test_wait_stat (pool, "running", 1);

  g_object_unref (pool);  /* the program's last reference */
  g_assert_false (g_atomic_int_get (&watch.disposed));

  if (!wait_for (all_done, &watch))
    g_error ("the pending jobs did not complete within %u ms", wait_ms ());
  for (guint i = 0; i < N_PENDING; i++)
    {
      g_assert_cmpuint (jobs[i].n_callbacks, ==, 1);
      g_assert_no_error (jobs[i].error);
      g_assert_nonnull (jobs[i].result);
    }

  wp_test_wait_until_full (NULL, atomic_flag_set, &watch.disposed, WAIT_MS,
                           "the pool to be disposed after its last job");
  g_assert_cmpuint (watch.n_done_before, ==, N_PENDING);
  g_assert_true (watch.thread == g_thread_self ());
  wp_test_wait_no_children ();

  for (guint i = 0; i < N_PENDING; i++)
    outcome_clear (&jobs[i]);
}

static void
test_run_dispose_pending (gconstpointer data)
{
  Outcome jobs[N_PENDING] = { { 0 } };
  DisposeWatch watch = { .jobs = jobs, .n_jobs = N_PENDING };
  WpPool *pool;

  g_test_summary ("g_object_run_dispose() with jobs pending (running and queued) kills the "
                  "workers and fails each job with WP_POOL_ERROR_CLOSED, its callback coming "
                  "in a later main-loop iteration, never from inside the dispose");

  pool = new_pool (1);
  g_object_weak_ref (G_OBJECT (pool), on_watched_disposed, &watch);
  wp_pool_call_async (pool, "sleep", "sleep", g_variant_new ("(u)", 600000), NULL,
                      on_call_done, &jobs[0]);
  for (guint i = 1; i < N_PENDING; i++)
    wp_pool_call_async (pool, "echo", "getpid", NULL, NULL, on_call_done, &jobs[i]);
  wp_test_wait_stat (pool, "running", 1);

  g_object_run_dispose (G_OBJECT (pool));
  g_assert_true (g_atomic_int_get (&watch.disposed));
  g_assert_cmpuint (watch.n_done_before, ==, 0);
  wp_test_assert_no_children ();

  if (!wait_for (all_done, &watch))
    g_error ("the pending jobs did not call back within %u ms of the dispose", wait_ms ());
  for (guint i = 0; i < N_PENDING; i++)
    {
      g_assert_cmpuint (jobs[i].n_callbacks, ==, 1);
      g_assert_error (jobs[i].error, WP_POOL_ERROR, WP_POOL_ERROR_CLOSED);
      outcome_clear (&jobs[i]);
    }

  g_object_unref (pool);
}

int
main (int    argc,
      char **argv)
{
  wp_test_init (&argc, &argv);

  for (gsize i = 0; i < G_N_ELEMENTS (nested_cases); i++)
    add_isolated (nested_cases[i].path, test_nested_loop, &nested_cases[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (close_cases); i++)
    add_isolated (close_cases[i].path, test_close_concurrent, &close_cases[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (sync_cases); i++)
    add_isolated (sync_cases[i].path, test_call_sync_last_unref, &sync_cases[i]);
  add_isolated ("/reentry/grace-reply-in-pipe", test_grace_reply_in_pipe, NULL);
  add_isolated ("/reentry/last-unref/jobs-pending", test_last_unref_pending, NULL);
  add_isolated ("/reentry/last-unref/run-dispose", test_run_dispose_pending, NULL);

  return g_test_run ();
}
