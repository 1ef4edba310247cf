/* test-supervision.c: what happens when things go wrong.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One test per numbered behaviour of supervision:
 *
 *   1. /supervision/crash/…: a worker that dies during a job (SIGSEGV,
 *      abort(), SIGKILL from outside, exit(0), _exit(0), exit(3)) fails
 *      that job with WP_POOL_ERROR_WORKER_CRASHED naming the signal or
 *      status and carrying its last stderr line; it is replaced; the job
 *      on the other worker and the job queued behind it succeed.
 *   2. /supervision/idle-death…: an idle worker killed from outside is
 *      noticed at once (no send needed), replaced, and no job fails.
 *   3. /supervision/cancel/…: a queued job never runs and is called back
 *      in a later iteration, never from inside g_cancellable_cancel(); a
 *      cooperative running job ends early and keeps its worker; one that
 *      ignores its cancellable is killed after the grace period, and the
 *      callback comes within the grace period plus a margin; a late
 *      result is dropped.
 *   4. /supervision/timeout/…: pool and per-call timeouts, measured from
 *      the start on a worker, WP_POOL_ERROR_TIMED_OUT naming the limit,
 *      forced for a spinning job and cooperative for a sleeping one.
 *   5. /supervision/recycle…: max jobs per worker.
 *   6. /supervision/hot-reload: a replaced .so runs its new code, and
 *      the worker that loaded the old one is recycled after its job.
 *   7. /supervision/start-failure/…: a missing worker executable, or one
 *      that dies at once, fails jobs with WP_POOL_ERROR_FAILED in bounded
 *      time, and the restarts back off instead of spinning.
 *   8. /supervision/host-death: this program, run as
 *      `test-supervision --host-death-child PLUGIN_DIR`, makes a pool with
 *      two busy workers and prints their pids; the test kills it with
 *      SIGKILL and checks that both workers are gone within a second.
 *   9. /supervision/sigpipe: a worker killed while the host writes a
 *      64 MiB request to it; in a subprocess whose SIGPIPE disposition is
 *      the default, which must survive.
 *  10. /supervision/close/…, /supervision/dispose/…: close and dispose
 *      under faults; exactly-once callbacks, no zombies, no leaked fds.
 *  11. /supervision/exactly-once/stats: a mix of every outcome, with the
 *      stats checked against the callbacks.  Every test also ends with
 *      that check (wp_fault_fixture_teardown()).
 *
 * Timing bounds are generous for a loaded 2-core machine, yet far below
 * what a hang would take; they scale with WORKPOOL_TEST_TIMEOUT_SCALE.
 * Nothing sleeps to synchronise: waits iterate the main context until a
 * condition holds, and fail the test at their deadline.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "wp-test-faults.h"

#define LONG_MS         60000  /* a job that would outlive the test */
#define DEFAULT_GRACE   200    /* the documented default cancel grace */
#define MARGIN_MS       900    /* what a loaded machine may add to a bound */

/* For limits on measured times; the waits scale their deadlines themselves. */
static guint
bound (guint ms)
{
  return ms * wp_fault_scale ();
}

/* ---- Fixtures ---- */

static void
setup_one (WpTestFixture *fixture,
           gconstpointer  data)
{
  wp_test_fixture_setup (fixture, GUINT_TO_POINTER (1));
}

static void
setup_two (WpTestFixture *fixture,
           gconstpointer  data)
{
  wp_test_fixture_setup (fixture, GUINT_TO_POINTER (2));
}

static void
setup_tmp (WpTestFixture *fixture,
           gconstpointer  data)
{
  wp_test_fixture_setup_tmp (fixture, data);
}

/* ---- Helpers ---- */

typedef struct {
  WpPool     *pool;
  const char *key;
  guint64     value;
} StatWait;

static gboolean
stat_is (gpointer data)
{
  StatWait *wait = data;

  return wp_test_get_stat (wait->pool, wait->key) == wait->value;
}

/* Like wp_test_wait_stat(), with a bound of its own. */
static void
wait_stat_within (WpPool     *pool,
                  const char *key,
                  guint64     value,
                  guint       timeout_ms)
{
  StatWait wait = { pool, key, value };
  g_autofree char *what = g_strdup_printf ("stats \"%s\" to be %" G_GUINT64_FORMAT, key, value);

  wp_test_wait_until_full (NULL, stat_is, &wait, timeout_ms, what);
}

static WpPool *
new_pool (const char *plugin_dir,
          guint       n_workers)
{
  g_autoptr(GError) error = NULL;
  WpPool *pool = wp_pool_new (plugin_dir, n_workers, &error);

  g_assert_no_error (error);
  return pool;
}

/* A pool whose workers are @worker_path: the pool reads $WORKPOOL_WORKER
 * when it is made. */
static WpPool *
new_pool_with_worker (const char *worker_path,
                      guint       n_workers)
{
  g_autofree char *saved = g_strdup (g_getenv ("WORKPOOL_WORKER"));
  WpPool *pool;

  g_setenv ("WORKPOOL_WORKER", worker_path, TRUE);
  pool = new_pool (wp_test_plugin_dir (), n_workers);
  if (saved != NULL)
    g_setenv ("WORKPOOL_WORKER", saved, TRUE);
  else
    g_unsetenv ("WORKPOOL_WORKER");

  return pool;
}

typedef struct {
  gboolean  returned;
  guint     n_callbacks;
  gint64    done_time;
  gboolean  ok;
  GError   *error;
} CloseOp;

static void
close_op_free (CloseOp *op)
{
  g_clear_error (&op->error);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CloseOp, close_op_free)

static void
close_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  CloseOp *op = user_data;

  g_assert_true (op->returned);
  g_assert_false (wp_fault_in_cancel ());
  g_assert_cmpuint (op->n_callbacks, ==, 0);
  op->n_callbacks++;
  op->done_time = g_get_monotonic_time ();
  op->ok = wp_pool_close_finish ((WpPool *) source, result, &op->error);
}

static CloseOp *
close_start (WpPool       *pool,
             GCancellable *cancellable)
{
  CloseOp *op = g_new0 (CloseOp, 1);

  wp_pool_close_async (pool, cancellable, close_done, op);
  op->returned = TRUE;
  return op;
}

static gboolean
close_is_done (gpointer data)
{
  return ((CloseOp *) data)->n_callbacks > 0;
}

static void
close_wait (CloseOp *op,
            guint    timeout_ms)
{
  wp_test_wait_until_full (NULL, close_is_done, op, timeout_ms, "the close to complete");
}

/* ---- 1. Crash during a job ---- */

typedef struct {
  const char *function;     /* of the crash plugin; NULL: SIGKILL from the test */
  int         signum;       /* the signal the message must name, or 0 */
  int         status;       /* else the exit status it must name */
  const char *stderr_line;  /* a line the message must carry, or NULL */
} CrashCase;

static const CrashCase crash_segv = { "segv", SIGSEGV, 0, NULL };
static const CrashCase crash_abort = { "abort", SIGABRT, 0, NULL };
static const CrashCase crash_sigkill = { NULL, SIGKILL, 0, NULL };
static const CrashCase crash_exit0 = { "exit0", 0, 0, NULL };
static const CrashCase crash_quick_exit0 = { "quick_exit0", 0, 0, NULL };
static const CrashCase crash_exit3 = { "exit3", 0, 3, NULL };
static const CrashCase crash_stderr = { "stderr_then_abort", SIGABRT, 0, "crash: last words" };

/* gate.pass waits in open() for a writer of the FIFO at @path, then for
 * EOF.  Opening it for writing without blocking succeeds once the job is
 * there; closing it at once lets the job through. */
static gboolean
gate_opened (gpointer data)
{
  int fd = open (data, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

  if (fd < 0)
    {
      g_assert_cmpint (errno, ==, ENXIO);
      return FALSE;
    }

  close (fd);
  return TRUE;
}

static void
open_gate (const char *path)
{
  wp_test_wait_until_full (NULL, gate_opened, (gpointer) path, 5000, "a job at the gate");
}

static void
test_crash (WpTestFixture *fixture,
            gconstpointer  data)
{
  const CrashCase *cc = data;
  WpPool *pool = fixture->pool;
  g_autofree char *tmp = wp_test_make_tmp_dir ();
  g_autofree char *gate = g_build_filename (tmp, "gate", NULL);
  WpFaultCall *other, *crash, *queued, *after;
  g_autofree char *expected = NULL;
  gint32 pid_a, pid_b, pid_q;

  g_test_summary ("A worker dying during a job fails that job with WP_POOL_ERROR_WORKER_CRASHED "
                  "naming the signal or exit status (and its last stderr line); it is replaced, "
                  "and the job on the other worker and the one queued behind succeed");

  /* Worker A runs a job that waits for the test; worker B the one that
   * dies. */
  g_assert_cmpint (mkfifo (gate, 0600), ==, 0);
  pid_a = wp_fault_get_pid (pool, "echo");
  other = wp_fault_call_start (pool, "gate", "pass", g_variant_new ("(s)", gate), 0, NULL);
  g_assert_cmpuint (wp_test_get_stat (pool, "running"), ==, 1);
  pid_b = wp_fault_get_pid (pool, "echo");
  g_assert_cmpint (pid_b, !=, pid_a);

  if (cc->function != NULL)
    {
      crash = wp_fault_call_start (pool, "crash", cc->function, NULL, 0, NULL);
    }
  else
    {
      crash = wp_fault_call_start (pool, "sleep", "sleep", wp_fault_ms_args (LONG_MS), 0, NULL);
      wp_fault_wait_pid_in_poll (pid_b, 5000);
      g_assert_cmpint (kill (pid_b, SIGKILL), ==, 0);
    }
  g_assert_cmpuint (wp_test_get_stat (pool, "running"), ==, 2);

  queued = wp_fault_call_start (pool, "echo", "getpid", NULL, 0, NULL);
  g_assert_cmpuint (wp_test_get_stat (pool, "queued"), ==, 1);

  wp_fault_call_wait (crash, 2000);
  if (cc->signum != 0)
    expected = g_strdup (g_strsignal (cc->signum));
  else
    expected = g_strdup_printf ("status %d", cc->status);
  wp_fault_assert_error (crash, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED, expected);
  g_assert_nonnull (strstr (crash->error->message, crash->name));
  if (cc->stderr_line != NULL)
    g_assert_nonnull (strstr (crash->error->message, cc->stderr_line));
  g_test_message ("crash message: %s", crash->error->message);

  /* Reaped before the job failed; the other job is still running. */
  g_assert_true (wp_fault_pid_is_gone (pid_b));
  g_assert_false (wp_fault_call_is_done (other));

  /* The queued job ran on B's replacement, while A was still busy. */
  wp_fault_call_wait (queued, 2000);
  g_test_message ("crash reported after %" G_GINT64_FORMAT " ms; the job queued behind it "
                  "done on a new worker %" G_GINT64_FORMAT " ms after that",
                  wp_fault_call_elapsed_ms (crash, crash->start_time),
                  (queued->done_time - crash->done_time) / G_TIME_SPAN_MILLISECOND);
  pid_q = wp_fault_result_pid (queued);
  g_assert_cmpint (pid_q, !=, pid_b);
  g_assert_cmpint (pid_q, !=, pid_a);
  g_assert_false (wp_fault_call_is_done (other));

  /* The job on A ran on, undisturbed. */
  open_gate (gate);
  wp_fault_call_wait (other, 5000);
  g_assert_no_error (other->error);
  g_assert_cmpint (wp_fault_result_pid (other), ==, pid_a);
  wp_test_remove_tree (tmp);

  /* Nothing retried the crashed job; the pool works on. */
  after = wp_fault_call_start (pool, "echo", "echo", g_variant_new ("(v)", g_variant_new_string ("after")), 0, NULL);
  wp_fault_call_wait (after, 5000);
  g_assert_no_error (after->error);

  g_assert_cmpuint (wp_test_get_stat (pool, "crashed"), ==, 1);
  g_assert_cmpuint (wp_test_get_stat (pool, "failed"), ==, 1);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 3);
  g_assert_cmpuint (wp_test_get_stat (pool, "workers"), ==, 2);
}

/* A worker killed while traced: the host's pidfd says it is dead, but the
 * tracer is told first and the host cannot reap it until the tracer lets
 * go.  GLib 2.74 reports such a child as "exited with status 0" and never
 * reaps it, so the pool must reap it itself and report the real status.
 * LeakSanitizer traces every process as it exits; a debugger or a crash
 * handler may too. */

typedef struct {
  WpFaultCall *call;
  int          pid;
} TracedDeath;

static gboolean
traced_death_seen (gpointer data)
{
  TracedDeath *death = data;

  return wp_fault_call_is_done (death->call) || wp_fault_pid_is_gone (death->pid);
}

/* How many of this process's descriptors are pidfds of @pid. */
static guint
count_pidfds (int pid)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  g_autofree char *pid_line = g_strdup_printf ("\nPid:\t%d\n", pid);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *link = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *fdinfo = g_build_filename ("/proc/self/fdinfo", name, NULL);
      g_autofree char *target = g_file_read_link (link, NULL);
      g_autofree char *info = NULL;

      if (g_strcmp0 (target, "anon_inode:[pidfd]") == 0
          && g_file_get_contents (fdinfo, &info, NULL, NULL)
          && strstr (info, pid_line) != NULL)
        n++;
    }

  return n;
}

typedef struct {
  int   pid;
  guint n_pidfds;
} PidfdWait;

static gboolean
pidfd_closed (gpointer data)
{
  PidfdWait *wait = data;

  return count_pidfds (wait->pid) < wait->n_pidfds;
}

static void
test_crash_traced (WpTestFixture *fixture,
                   gconstpointer  data)
{
  g_autofree char *tmp = wp_test_make_tmp_dir ();
  g_autofree char *pid_file = g_build_filename (tmp, "tracer-pid", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  TracedDeath death;
  PidfdWait glib_watch;
  int tracer;

  g_test_summary ("A worker killed by SIGKILL while a process traces it is reported killed "
                  "by SIGKILL, once the tracer lets go, and reaped");

  death.pid = wp_fault_get_pid (fixture->pool, "echo");
  /* GLib's child watch and the pool's own, where the kernel has pidfds
   * (not under valgrind). */
  glib_watch.pid = death.pid;
  glib_watch.n_pidfds = count_pidfds (death.pid);
  death.call = wp_fault_call_start (fixture->pool, "crash", "traced_sigkill",
                                    g_variant_new ("(s)", pid_file), 0, NULL);
  wp_test_wait_until_full (NULL, traced_death_seen, &death, bound (5000),
                           "the traced worker to die");
  if (wp_fault_call_is_done (death.call)
      && g_error_matches (death.call->error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
    {
      g_test_skip (death.call->error->message);
      wp_test_remove_tree (tmp);
      return;
    }

  /* A zombie its tracer holds: the job is not over until it is reaped. */
  g_assert_true (g_file_get_contents (pid_file, &text, NULL, &error));
  g_assert_no_error (error);
  tracer = atoi (text);
  g_assert_cmpint (tracer, >, 0);

  /* GLib's child watch reports the death from GLib's worker thread: it
   * queues the report to this context, then its source goes and closes
   * its pidfd.  Once that is closed and every ready source dispatched,
   * the pool has been told, and the job must still be running.  Without
   * pidfds GLib is told only once the process can be reaped. */
  if (glib_watch.n_pidfds > 0)
    wp_test_wait_until_full (NULL, pidfd_closed, &glib_watch, 5000,
                             "GLib's child watch to report the death");
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_false (wp_fault_call_is_done (death.call));

  g_assert_cmpint (kill (tracer, SIGKILL), ==, 0);
  wp_fault_call_wait (death.call, 5000);
  wp_fault_assert_error (death.call, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED,
                         g_strsignal (SIGKILL));
  g_test_message ("crash message: %s", death.call->error->message);
  wp_test_remove_tree (tmp);
}

/* ---- 2. Death while idle ---- */

static void
test_idle_death (WpTestFixture *fixture,
                 gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  WpFaultCall *calls[20];
  gint64 killed;
  gint32 pid, pid_after;

  g_test_summary ("An idle worker killed from outside is noticed without a send, replaced, "
                  "and no job fails because of it");

  pid = wp_fault_get_pid (pool, "echo");
  g_assert_cmpuint (wp_test_get_stat (pool, "workers"), ==, 1);

  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  killed = g_get_monotonic_time ();

  /* Noticed through the child watch or EOF: no job is involved. */
  wait_stat_within (pool, "workers", 0, 2000);
  g_test_message ("idle death noticed after %" G_GINT64_FORMAT " ms", wp_fault_ms_since (killed));
  g_assert_true (wp_fault_pid_is_gone (pid));
  g_assert_cmpuint (wp_test_get_stat (pool, "submitted"), ==, 1);

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    calls[i] = wp_fault_call_start (pool, "arith", "add", g_variant_new ("(ii)", (gint32) i, 1), 0, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      wp_fault_call_wait (calls[i], 5000);
      g_assert_no_error (calls[i]->error);
      wp_test_assert_variant (calls[i]->result, g_variant_new ("(i)", (gint32) i + 1));
    }

  pid_after = wp_fault_get_pid (pool, "echo");
  g_assert_cmpint (pid_after, !=, pid);
  g_assert_cmpuint (wp_test_get_stat (pool, "failed"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 2);
}

static void
test_idle_death_then_submit (WpTestFixture *fixture,
                             gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  WpFaultCall *call;
  gint32 pid;

  g_test_summary ("A job submitted right after its idle worker was killed, before the pool "
                  "could notice, does not fail: the worker never read it");

  /* Idle: waiting for its next request. */
  pid = wp_fault_get_pid (pool, "echo");
  wp_fault_wait_pid_in_read (pid, 5000);
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);

  /* No main-loop iteration in between: the pool still thinks the worker
   * is idle, and may hand it the job. */
  call = wp_fault_call_start (pool, "echo", "getpid", NULL, 0, NULL);
  wp_fault_call_wait (call, 5000);
  if (call->error != NULL)
    g_test_message ("the job failed: %s", call->error->message);
  g_assert_no_error (call->error);
  g_assert_cmpint (wp_fault_result_pid (call), !=, pid);
  g_assert_cmpuint (wp_test_get_stat (pool, "failed"), ==, 0);
}

/* ---- 3. Cancellation ---- */

static void
test_cancel_queued (WpTestFixture *fixture,
                    gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  g_autoptr(GCancellable) busy_cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  WpFaultCall *busy, *victim;
  gint64 cancelled;
  gint32 pid;

  g_test_summary ("Cancelling a queued job: it never runs, and its callback gets "
                  "G_IO_ERROR_CANCELLED promptly, in a later main-loop iteration");

  pid = wp_fault_get_pid (pool, "sleep");
  busy = wp_fault_call_start (pool, "sleep", "sleep", wp_fault_ms_args (LONG_MS), 0, busy_cancellable);

  /* Queued behind it: a job that would crash the worker if it ran. */
  victim = wp_fault_call_start (pool, "crash", "segv", NULL, 0, cancellable);
  g_assert_cmpuint (wp_test_get_stat (pool, "queued"), ==, 1);
  g_assert_cmpuint (wp_test_get_stat (pool, "running"), ==, 1);

  /* wp_fault_cancel() fails the test if a callback runs inside it. */
  wp_fault_cancel (cancellable);
  cancelled = g_get_monotonic_time ();
  g_assert_false (wp_fault_call_is_done (victim));

  wp_fault_call_wait (victim, 1000);
  wp_fault_assert_error (victim, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  g_test_message ("queued cancel called back after %" G_GINT64_FORMAT " ms",
                  wp_fault_call_elapsed_ms (victim, cancelled));
  g_assert_cmpuint (wp_test_get_stat (pool, "queued"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (pool, "running"), ==, 1);
  g_assert_false (wp_fault_call_is_done (busy));

  /* End the blocker; the queued job never reached the worker. */
  wp_fault_wait_pid_in_poll (pid, 5000);
  wp_fault_cancel (busy_cancellable);
  wp_fault_call_wait (busy, 2000);
  wp_fault_assert_error (busy, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);

  g_assert_cmpint (wp_fault_get_pid (pool, "sleep"), ==, pid);
  g_assert_cmpuint (wp_test_get_stat (pool, "crashed"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 1);
}

static void
test_cancel_before_submit (WpTestFixture *fixture,
                           gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  WpFaultCall *call;

  g_test_summary ("A job whose cancellable is already cancelled fails with "
                  "G_IO_ERROR_CANCELLED, after the call returned, without starting a worker");

  g_cancellable_cancel (cancellable);
  call = wp_fault_call_start (fixture->pool, "crash", "segv", NULL, 0, cancellable);
  g_assert_false (wp_fault_call_is_done (call));
  wp_fault_call_wait (call, 1000);
  wp_fault_assert_error (call, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "spawned"), ==, 0);
}

static void
test_cancel_running_cooperative (WpTestFixture *fixture,
                                 gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  WpFaultCall *call;
  gint64 cancelled, elapsed;
  gint32 pid;

  g_test_summary ("Cancelling a running job that honours its cancellable: "
                  "G_IO_ERROR_CANCELLED quickly, and the worker is kept");

  pid = wp_fault_get_pid (pool, "sleep");
  call = wp_fault_call_start (pool, "sleep", "sleep", wp_fault_ms_args (LONG_MS), 0, cancellable);
  g_assert_cmpuint (wp_test_get_stat (pool, "running"), ==, 1);

  /* The function itself is running: the worker waits in its poll(). */
  wp_fault_wait_pid_in_poll (pid, 5000);

  wp_fault_cancel (cancellable);
  cancelled = g_get_monotonic_time ();
  g_assert_false (wp_fault_call_is_done (call));
  wp_fault_call_wait (call, DEFAULT_GRACE + MARGIN_MS);
  wp_fault_assert_error (call, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  elapsed = wp_fault_call_elapsed_ms (call, cancelled);
  g_test_message ("cooperative cancel took %" G_GINT64_FORMAT " ms", elapsed);

  /* Same worker: it was not killed. */
  g_assert_cmpint (wp_fault_get_pid (pool, "sleep"), ==, pid);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 1);
  g_assert_cmpuint (wp_test_get_stat (pool, "cancelled"), ==, 1);
}

static void
test_cancel_running_at_once (WpTestFixture *fixture,
                             gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  guint n_rounds = 20;
  gint32 pid, pid_after;

  g_test_summary ("Cancelling a cooperative job right after it was handed to its worker, "
                  "before the function may have started, still keeps the worker");

  pid = wp_fault_get_pid (pool, "sleep");

  for (guint i = 0; i < n_rounds; i++)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      WpFaultCall *call;

      call = wp_fault_call_start (pool, "sleep", "sleep", wp_fault_ms_args (LONG_MS), 0, cancellable);
      g_assert_cmpuint (wp_test_get_stat (pool, "running"), ==, 1);
      wp_fault_cancel (cancellable);
      wp_fault_call_wait (call, DEFAULT_GRACE + MARGIN_MS);
      wp_fault_assert_error (call, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);

      pid_after = wp_fault_get_pid (pool, "sleep");
      if (pid_after != pid)
        g_test_message ("round %u: the worker was killed at the end of the grace period "
                        "instead of cancelling the job", i);
      g_assert_cmpint (pid_after, ==, pid);
    }

  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 1);
}

static void
check_forced_cancel (WpPool *pool,
                     guint   grace_ms)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  WpFaultCall *call;
  gint64 cancelled, elapsed;
  gint32 pid, pid_after;
  guint64 spawned;

  pid = wp_fault_get_pid (pool, "echo");
  spawned = wp_test_get_stat (pool, "spawned");

  call = wp_fault_call_start (pool, "sleep", "spin", wp_fault_ms_args (LONG_MS), 0, cancellable);
  g_assert_cmpuint (wp_test_get_stat (pool, "running"), ==, 1);

  wp_fault_cancel (cancellable);
  cancelled = g_get_monotonic_time ();
  g_assert_false (wp_fault_call_is_done (call));

  wp_fault_call_wait (call, grace_ms + MARGIN_MS);
  wp_fault_assert_error (call, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  elapsed = wp_fault_call_elapsed_ms (call, cancelled);
  g_test_message ("forced cancel with a %u ms grace took %" G_GINT64_FORMAT " ms", grace_ms, elapsed);
  g_assert_cmpint (elapsed, >=, grace_ms);
  g_assert_cmpint (elapsed, <=, bound (grace_ms + MARGIN_MS));

  /* The worker was killed: gone, and replaced. */
  wp_fault_wait_pid_gone (pid, 2000);
  pid_after = wp_fault_get_pid (pool, "echo");
  g_assert_cmpint (pid_after, !=, pid);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, spawned + 1);
}

static void
test_cancel_running_forced (WpTestFixture *fixture,
                            gconstpointer  data)
{
  g_test_summary ("Cancelling a running job that ignores its cancellable kills its worker "
                  "after the grace period: G_IO_ERROR_CANCELLED within the grace plus a "
                  "margin (default 200 ms, then 100 ms), and a new worker afterwards");

  check_forced_cancel (fixture->pool, DEFAULT_GRACE);

  wp_pool_set_cancel_grace (fixture->pool, 100);
  check_forced_cancel (fixture->pool, 100);

  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "cancelled"), ==, 2);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "crashed"), ==, 0);
}

static void
test_cancel_late_result (WpTestFixture *fixture,
                         gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  WpFaultCall *call;
  gint64 cancelled, elapsed;
  gint32 pid;

  g_test_summary ("A cancelled job whose worker still sends its result within the grace "
                  "period: the result is dropped, the callback gets G_IO_ERROR_CANCELLED, "
                  "and the worker is kept");

  wp_pool_set_cancel_grace (pool, 5000);
  pid = wp_fault_get_pid (pool, "sleep");

  /* spin ignores the cancel and succeeds after 300 ms. */
  call = wp_fault_call_start (pool, "sleep", "spin", wp_fault_ms_args (300), 0, cancellable);
  wp_fault_cancel (cancellable);
  cancelled = g_get_monotonic_time ();

  wp_fault_call_wait (call, 5000);
  wp_fault_assert_error (call, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  elapsed = wp_fault_call_elapsed_ms (call, cancelled);
  g_test_message ("the late result came after %" G_GINT64_FORMAT " ms", elapsed);
  /* It ended with the reply, not with a kill at the end of the grace. */
  g_assert_cmpint (elapsed, <, bound (5000));
  g_assert_cmpint (wp_fault_get_pid (pool, "sleep"), ==, pid);
  g_assert_cmpuint (wp_test_get_stat (pool, "completed"), ==, 2);
  g_assert_cmpuint (wp_test_get_stat (pool, "cancelled"), ==, 1);
}

/* ---- 4. Timeouts ---- */

static void
test_timeout_pool (WpTestFixture *fixture,
                   gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  WpFaultCall *spin, *sleep, *quick;
  gint64 elapsed;
  gint32 pid, pid_after;

  g_test_summary ("wp_pool_set_job_timeout(): WP_POOL_ERROR_TIMED_OUT naming the limit; a "
                  "spinning job is stopped by killing its worker, a sleeping one cooperatively");

  wp_pool_set_job_timeout (pool, 300);
  pid = wp_fault_get_pid (pool, "sleep");

  /* Forced: the timeout, then the grace period, then a kill. */
  spin = wp_fault_call_start (pool, "sleep", "spin", wp_fault_ms_args (LONG_MS), 0, NULL);
  wp_fault_call_wait (spin, 300 + DEFAULT_GRACE + MARGIN_MS);
  wp_fault_assert_error (spin, WP_POOL_ERROR, WP_POOL_ERROR_TIMED_OUT, "300 ms");
  g_assert_nonnull (strstr (spin->error->message, "sleep.spin"));
  elapsed = wp_fault_call_elapsed_ms (spin, spin->start_time);
  g_test_message ("spin timed out after %" G_GINT64_FORMAT " ms: %s", elapsed, spin->error->message);
  g_assert_cmpint (elapsed, >=, 300 + DEFAULT_GRACE);
  wp_fault_wait_pid_gone (pid, 2000);

  /* Cooperative: the worker's cancellable ends the sleep; same worker. */
  pid_after = wp_fault_get_pid (pool, "sleep");
  g_assert_cmpint (pid_after, !=, pid);
  sleep = wp_fault_call_start (pool, "sleep", "sleep", wp_fault_ms_args (LONG_MS), 0, NULL);
  wp_fault_call_wait (sleep, 300 + DEFAULT_GRACE + MARGIN_MS);
  wp_fault_assert_error (sleep, WP_POOL_ERROR, WP_POOL_ERROR_TIMED_OUT, "300 ms");
  elapsed = wp_fault_call_elapsed_ms (sleep, sleep->start_time);
  g_test_message ("sleep timed out after %" G_GINT64_FORMAT " ms", elapsed);
  g_assert_cmpint (elapsed, >=, 300);
  g_assert_cmpint (wp_fault_get_pid (pool, "sleep"), ==, pid_after);

  /* Jobs within the limit are not affected. */
  quick = wp_fault_call_start (pool, "sleep", "sleep", wp_fault_ms_args (20), 0, NULL);
  wp_fault_call_wait (quick, 5000);
  g_assert_no_error (quick->error);

  g_assert_cmpuint (wp_test_get_stat (pool, "timed-out"), ==, 2);
  g_assert_cmpuint (wp_test_get_stat (pool, "failed"), ==, 2);
  g_assert_cmpuint (wp_test_get_stat (pool, "crashed"), ==, 0);
}

static void
test_timeout_per_call (WpTestFixture *fixture,
                       gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  WpFaultCall *spin, *over, *first, *second;
  gint64 elapsed;

  g_test_summary ("wp_pool_call_full_async() with a timeout: WP_POOL_ERROR_TIMED_OUT naming "
                  "it, overriding the pool's, and measured from when the job starts on a "
                  "worker, not from when it was queued");

  spin = wp_fault_call_start (pool, "sleep", "spin", wp_fault_ms_args (LONG_MS), 200, NULL);
  wp_fault_call_wait (spin, 200 + DEFAULT_GRACE + MARGIN_MS);
  wp_fault_assert_error (spin, WP_POOL_ERROR, WP_POOL_ERROR_TIMED_OUT, "200 ms");
  elapsed = wp_fault_call_elapsed_ms (spin, spin->start_time);
  g_test_message ("spin timed out after %" G_GINT64_FORMAT " ms: %s", elapsed, spin->error->message);
  g_assert_cmpint (elapsed, >=, 200 + DEFAULT_GRACE);

  /* The call's timeout wins over the pool's. */
  wp_pool_set_job_timeout (pool, 20000);
  over = wp_fault_call_start (pool, "sleep", "sleep", wp_fault_ms_args (LONG_MS), 150, NULL);
  wp_fault_call_wait (over, 150 + MARGIN_MS);
  wp_fault_assert_error (over, WP_POOL_ERROR, WP_POOL_ERROR_TIMED_OUT, "150 ms");
  wp_pool_set_job_timeout (pool, 0);

  /* 1 worker: the second job waits 600 ms in the queue, then runs for
   * 100 ms of its 400. */
  first = wp_fault_call_start (pool, "sleep", "sleep", wp_fault_ms_args (600), 0, NULL);
  second = wp_fault_call_start (pool, "sleep", "sleep", wp_fault_ms_args (100), 400, NULL);
  g_assert_cmpuint (wp_test_get_stat (pool, "queued"), ==, 1);
  wp_fault_call_wait (second, 5000);
  g_assert_true (wp_fault_call_is_done (first));
  g_assert_no_error (first->error);
  g_assert_no_error (second->error);
  g_assert_cmpint (wp_fault_call_elapsed_ms (second, second->start_time), >=, 600);

  g_assert_cmpuint (wp_test_get_stat (pool, "timed-out"), ==, 2);
}

/* ---- 5. Recycling ---- */

static void
test_recycle (WpTestFixture *fixture,
              gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  gint32 pids[10];

  g_test_summary ("With wp_pool_set_max_jobs_per_worker (pool, 3), a worker is replaced "
                  "after every 3 jobs, and no job fails");

  wp_pool_set_max_jobs_per_worker (pool, 3);

  for (guint i = 0; i < G_N_ELEMENTS (pids); i++)
    pids[i] = wp_fault_get_pid (pool, "echo");

  for (guint i = 1; i < G_N_ELEMENTS (pids); i++)
    {
      if (i % 3 == 0)
        {
          g_assert_cmpint (pids[i], !=, pids[i - 1]);
          /* The retired worker exited cleanly. */
          wp_fault_wait_pid_gone (pids[i - 1], 2000);
        }
      else
        {
          g_assert_cmpint (pids[i], ==, pids[i - 1]);
        }
    }

  g_assert_cmpuint (wp_test_get_stat (pool, "failed"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (pool, "crashed"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 4);
}

static void
test_recycle_concurrent (WpTestFixture *fixture,
                         gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  WpFaultCall *calls[200];

  g_test_summary ("Recycling every 2 jobs on 2 busy workers: every job succeeds");

  wp_pool_set_max_jobs_per_worker (pool, 2);

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    calls[i] = wp_fault_call_start (pool, "arith", "add", g_variant_new ("(ii)", (gint32) i, 2), 0, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      wp_fault_call_wait (calls[i], 20000);
      g_assert_no_error (calls[i]->error);
      wp_test_assert_variant (calls[i]->result, g_variant_new ("(i)", (gint32) i + 2));
    }

  g_assert_cmpuint (wp_test_get_stat (pool, "failed"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), >=, G_N_ELEMENTS (calls) / 2);
}

/* ---- 6. Hot reload ---- */

static char *
reload_version (WpPool *pool)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = wp_fault_call_sync (pool, "reload", "version", NULL, &error);
  char *version;

  g_assert_no_error (error);
  g_variant_get (result, "(s)", &version);
  return version;
}

static void
test_hot_reload (WpTestFixture *fixture,
                 gconstpointer  data)
{
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  WpFaultCall *busy, *version;
  gint32 pid, pid_after;
  WpPool *pool;

  g_test_summary ("A plugin .so replaced on disk (a new inode) runs its new code for jobs "
                  "submitted after that; the worker that loaded the old file is recycled "
                  "after its current job, which succeeds");

  wp_test_copy_plugin ("reload-a/reload", fixture->tmp_dir, "reload.so");
  wp_test_copy_plugin ("sleep", fixture->tmp_dir, "sleep.so");
  pool = fixture->pool = new_pool (fixture->tmp_dir, 1);

  before = reload_version (pool);
  g_assert_cmpstr (before, ==, "a");
  pid = wp_fault_get_pid (pool, "reload");

  /* The worker is busy with another plugin when the file changes. */
  busy = wp_fault_call_start (pool, "sleep", "sleep", wp_fault_ms_args (300), 0, NULL);
  g_assert_cmpuint (wp_test_get_stat (pool, "running"), ==, 1);

  /* wp_test_copy_plugin() writes a temporary file and renames it over. */
  wp_test_copy_plugin ("reload-b/reload", fixture->tmp_dir, "reload.so");

  version = wp_fault_call_start (pool, "reload", "version", NULL, 0, NULL);
  wp_fault_call_wait (version, 5000);
  g_assert_no_error (version->error);
  g_variant_get (version->result, "(s)", &after);
  g_assert_cmpstr (after, ==, "b");

  /* The busy job finished first, on the old worker, unharmed. */
  g_assert_true (wp_fault_call_is_done (busy));
  g_assert_no_error (busy->error);
  g_assert_cmpint (busy->done_time, <=, version->done_time);

  pid_after = wp_fault_get_pid (pool, "reload");
  g_assert_cmpint (pid_after, !=, pid);
  wp_fault_wait_pid_gone (pid, 2000);
  g_assert_cmpuint (wp_test_get_stat (pool, "failed"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 2);
}

/* ---- 7. Start-up failures ---- */

static void
test_start_failure_missing (WpTestFixture *fixture,
                            gconstpointer  data)
{
  g_autofree char *worker = g_build_filename (fixture->tmp_dir, "missing", "workpool-worker", NULL);
  WpFaultCall *calls[3], *later;
  WpPool *pool;

  g_test_summary ("With a worker executable that does not exist, jobs fail with "
                  "WP_POOL_ERROR_FAILED saying why, within 5 s, and no process is started");

  pool = fixture->pool = new_pool_with_worker (worker, 2);

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    calls[i] = wp_fault_call_start (pool, "echo", "noop", NULL, 0, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      wp_fault_call_wait (calls[i], 5000);
      wp_fault_assert_error (calls[i], WP_POOL_ERROR, WP_POOL_ERROR_FAILED, worker);
      g_assert_nonnull (strstr (calls[i]->error->message, g_strerror (ENOENT)));
    }
  g_test_message ("message: %s", calls[0]->error->message);

  /* A later job does not hang either. */
  later = wp_fault_call_start (pool, "echo", "noop", NULL, 0, NULL);
  wp_fault_call_wait (later, 5000);
  wp_fault_assert_error (later, WP_POOL_ERROR, WP_POOL_ERROR_FAILED, worker);

  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (pool, "workers"), ==, 0);
  wp_test_assert_no_children ();
}

/* How long the thread-default main context would wait for its next timer
 * in ms, 0 if a source is ready, or -1 if it has no timer: the
 * prepare and query steps of an iteration, then check and dispatch with
 * nothing polled. */
static gint
context_timeout (void)
{
  GMainContext *context = g_main_context_get_thread_default ();
  GPollFD fds[64];
  gint max_priority, timeout, n_fds;

  if (context == NULL)
    context = g_main_context_default ();
  g_assert_true (g_main_context_acquire (context));
  g_main_context_prepare (context, &max_priority);
  n_fds = g_main_context_query (context, max_priority, &timeout, fds, G_N_ELEMENTS (fds));
  for (gint i = 0; i < MIN (n_fds, (gint) G_N_ELEMENTS (fds)); i++)
    fds[i].revents = 0;
  if (g_main_context_check (context, max_priority, fds, MIN (n_fds, (gint) G_N_ELEMENTS (fds))))
    g_main_context_dispatch (context);
  g_main_context_release (context);

  return timeout;
}

static void
test_start_failure_dies (WpTestFixture *fixture,
                         gconstpointer  data)
{
  g_autofree char *false_path = g_find_program_in_path ("false");
  WpFaultCall *first;
  guint64 spawned_before, attempts;
  guint n_jobs = 0;
  gint64 start;
  WpPool *pool;

  g_test_summary ("With workers that die at once on every start, jobs fail with "
                  "WP_POOL_ERROR_FAILED within 5 s, and the restarts back off: fewer than "
                  "10 attempts in a second of steady demand, none without demand");

  g_assert_nonnull (false_path);
  pool = fixture->pool = new_pool_with_worker (false_path, 1);

  first = wp_fault_call_start (pool, "echo", "noop", NULL, 0, NULL);
  wp_fault_call_wait (first, 5000);
  wp_fault_assert_error (first, WP_POOL_ERROR, WP_POOL_ERROR_FAILED, "status 1");
  g_test_message ("message: %s", first->error->message);
  g_test_message ("%" G_GUINT64_FORMAT " attempts before the first job failed",
                  wp_test_get_stat (pool, "spawned"));

  /* Steady demand for a second: a job always waiting. */
  spawned_before = wp_test_get_stat (pool, "spawned");
  start = g_get_monotonic_time ();
  while (wp_fault_ms_since (start) < 1000)
    {
      WpFaultCall *call = wp_fault_call_start (pool, "echo", "noop", NULL, 0, NULL);

      wp_fault_call_wait (call, 5000);
      wp_fault_assert_error (call, WP_POOL_ERROR, WP_POOL_ERROR_FAILED, NULL);
      n_jobs++;
    }
  attempts = wp_test_get_stat (pool, "spawned") - spawned_before;
  g_test_message ("%" G_GUINT64_FORMAT " attempts for %u jobs in %" G_GINT64_FORMAT " ms",
                  attempts, n_jobs, wp_fault_ms_since (start));
  g_assert_cmpuint (attempts, >=, 1);
  g_assert_cmpuint (attempts, <, 10);

  /* Without demand, nothing is started.  The pool acts only from sources
   * in its context: once every ready one is dispatched, with no worker
   * left (so no descriptor to wake it) and no timer pending (a restart
   * would wait for one), nothing can start a worker before the next
   * call. */
  spawned_before = wp_test_get_stat (pool, "spawned");
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, spawned_before);
  g_assert_cmpuint (wp_test_get_stat (pool, "workers"), ==, 0);
  wp_test_assert_no_children ();
  g_assert_cmpint (context_timeout (), ==, -1);
}

/* ---- 8. Host death ---- */

/* The child's side: a pool with two workers each running a long job;
 * prints "PID1 PID2" and runs until it is killed. */
static int
host_death_child (const char *plugin_dir)
{
  g_autoptr(WpPool) pool = new_pool (plugin_dir, 2);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  gint32 pids[2];

  for (guint i = 0; i < G_N_ELEMENTS (pids); i++)
    {
      pids[i] = wp_fault_get_pid (pool, "sleep");
      wp_fault_call_start (pool, "sleep", "sleep", wp_fault_ms_args (LONG_MS), 0, NULL);
    }
  g_assert_cmpint (pids[0], !=, pids[1]);
  g_assert_cmpuint (wp_test_get_stat (pool, "running"), ==, 2);

  printf ("%d %d\n", (int) pids[0], (int) pids[1]);
  fflush (stdout);

  g_main_loop_run (loop);  /* until SIGKILL */
  return 0;
}

typedef struct {
  gboolean  done;
  char     *line;
  GError   *error;
} LineRead;

static void
line_read (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  LineRead *op = user_data;

  op->line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source), result,
                                                   NULL, &op->error);
  op->done = TRUE;
}

static void
child_exited (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

static int
parent_pid_of (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *contents = NULL;
  const char *paren;
  char state;
  int ppid = -1;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return -1;
  paren = strrchr (contents, ')');
  if (paren == NULL || sscanf (paren + 1, " %c %d", &state, &ppid) != 2)
    return -1;
  return ppid;
}

static const char *self_path;  /* argv[0]: under valgrind, /proc/self/exe is valgrind */

static void
test_host_death (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *self = strchr (self_path, '/') != NULL
                          ? g_strdup (self_path)
                          : g_file_read_link ("/proc/self/exe", &error);
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GDataInputStream) input = NULL;
  g_auto(GStrv) fields = NULL;
  LineRead op = { 0 };
  gboolean exited = FALSE;
  int pids[2], child_pid;
  gint64 killed, elapsed;

  g_test_summary ("When the host process is killed with SIGKILL, its workers are gone "
                  "within a second");

  g_assert_no_error (error);
  child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                            self, "--host-death-child", wp_test_plugin_dir (), NULL);
  g_assert_no_error (error);
  child_pid = atoi (g_subprocess_get_identifier (child));

  input = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));
  g_data_input_stream_read_line_async (input, G_PRIORITY_DEFAULT, NULL, line_read, &op);
  wp_test_wait_until (&op.done);
  g_assert_no_error (op.error);
  g_assert_nonnull (op.line);
  g_test_message ("the child's workers: %s", op.line);

  fields = g_strsplit (op.line, " ", -1);
  g_assert_cmpuint (g_strv_length (fields), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      pids[i] = atoi (fields[i]);
      g_assert_cmpint (pids[i], >, 0);
      g_assert_false (wp_fault_pid_is_gone (pids[i]));
      g_assert_cmpint (parent_pid_of (pids[i]), ==, child_pid);
    }

  g_subprocess_force_exit (child);
  g_subprocess_wait_async (child, NULL, child_exited, &exited);
  wp_test_wait_until (&exited);
  killed = g_get_monotonic_time ();
  g_assert_true (g_subprocess_get_if_signaled (child));
  g_assert_cmpint (g_subprocess_get_term_sig (child), ==, SIGKILL);

  for (guint i = 0; i < 2; i++)
    wp_fault_wait_pid_gone (pids[i], 1000);
  elapsed = wp_fault_ms_since (killed);
  g_test_message ("the workers were gone %" G_GINT64_FORMAT " ms after the host", elapsed);
  g_assert_cmpint (elapsed, <=, bound (1000));

  g_free (op.line);
  wp_test_assert_no_children ();
}

/* ---- 9. SIGPIPE ---- */

#define BIG_REQUEST (64u * 1024 * 1024)

static void
sigpipe_scenario (void)
{
  g_autoptr(WpPool) pool = NULL;
  g_autofree guint8 *bytes = g_malloc0 (BIG_REQUEST);
  WpFaultCall *big, *after;
  gint32 pid;

  /* As a program that never touched SIGPIPE. */
  signal (SIGPIPE, SIG_DFL);

  pool = new_pool (wp_test_plugin_dir (), 1);
  pid = wp_fault_get_pid (pool, "echo");

  /* The pipe takes a little of it now; the rest waits for the worker,
   * which dies first. */
  big = wp_fault_call_start (pool, "echo", "echo_bytes",
                             g_variant_new ("(@ay)",
                                            g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, bytes,
                                                                       BIG_REQUEST, 1)),
                             0, NULL);
  g_assert_cmpuint (wp_test_get_stat (pool, "running"), ==, 1);
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);

  wp_fault_call_wait (big, 10000);
  wp_fault_assert_error (big, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED, g_strsignal (SIGKILL));
  g_test_message ("message: %s", big->error->message);

  after = wp_fault_call_start (pool, "echo", "getpid", NULL, 0, NULL);
  wp_fault_call_wait (after, 5000);
  g_assert_cmpint (wp_fault_result_pid (after), !=, pid);

  wp_fault_assert_stats_agree (pool);
  wp_test_close (pool);
  g_clear_object (&pool);
  wp_fault_calls_check ();
  wp_test_assert_no_children ();
}

static void
test_sigpipe (void)
{
  g_test_summary ("A worker dying while the host writes a large job to it never kills the "
                  "host with SIGPIPE; the job fails as crashed and the pool works on");

  if (g_test_subprocess ())
    {
      sigpipe_scenario ();
      return;
    }

  g_test_trap_subprocess (NULL, (guint64) bound (60000) * 1000, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* ---- 10. Close and dispose under faults ---- */

static void
test_close_hanging_job (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(CloseOp) op = NULL;
  g_autoptr(WpPool) pool = NULL;
  WpFaultCall *hanging, *quick;
  gint64 cancelled;
  guint fds_before;

  g_test_summary ("Closing while a job hangs: the close waits for it; once the job is "
                  "cancelled, its worker is killed after the grace period and the close "
                  "completes; no zombie, no leaked descriptor");

  wp_test_warm_up ();
  fds_before = wp_test_count_fds ();
  pool = new_pool (wp_test_plugin_dir (), 2);

  hanging = wp_fault_call_start (pool, "sleep", "spin", wp_fault_ms_args (LONG_MS), 0, cancellable);
  quick = wp_fault_call_start (pool, "echo", "noop", NULL, 0, NULL);
  wp_fault_call_wait (quick, 5000);
  g_assert_no_error (quick->error);

  /* Everything the close set off has been dispatched, the return of
   * the close task included had it completed: it waits for the job. */
  op = close_start (pool, NULL);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (op->n_callbacks, ==, 0);
  g_assert_false (wp_fault_call_is_done (hanging));
  g_assert_cmpuint (wp_test_get_stat (pool, "running"), ==, 1);

  wp_fault_cancel (cancellable);
  cancelled = g_get_monotonic_time ();
  close_wait (op, DEFAULT_GRACE + MARGIN_MS);
  g_assert_no_error (op->error);
  g_assert_true (op->ok);
  g_test_message ("closed %" G_GINT64_FORMAT " ms after the cancel", wp_fault_ms_since (cancelled));

  /* The job was called back first, cancelled. */
  g_assert_true (wp_fault_call_is_done (hanging));
  wp_fault_assert_error (hanging, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  g_assert_cmpint (hanging->done_time, <=, op->done_time);
  g_assert_cmpint (wp_fault_call_elapsed_ms (hanging, cancelled), >=, DEFAULT_GRACE);

  wp_test_assert_no_children ();
  wp_fault_assert_stats_agree (pool);
  g_clear_object (&pool);
  wp_fault_calls_check ();
  wp_test_wait_fds (fds_before);
}

static void
test_close_crashing_job (WpTestFixture *fixture,
                         gconstpointer  data)
{
  g_autoptr(CloseOp) op = NULL;
  WpFaultCall *crash, *queued;

  g_test_summary ("Closing while a job crashes its worker: a job queued behind it still "
                  "runs, on a new worker; and every job has called back before the close does, "
                  "also when the crashed one was the last");

  /* With a job queued behind the crash. */
  crash = wp_fault_call_start (fixture->pool, "crash", "abort", NULL, 0, NULL);
  wait_stat_within (fixture->pool, "running", 1, 5000);
  queued = wp_fault_call_start (fixture->pool, "echo", "noop", NULL, 0, NULL);

  op = close_start (fixture->pool, NULL);
  close_wait (op, 5000);
  g_assert_no_error (op->error);
  g_assert_true (op->ok);

  g_assert_true (wp_fault_call_is_done (crash));
  g_assert_true (wp_fault_call_is_done (queued));
  wp_fault_assert_error (crash, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED, g_strsignal (SIGABRT));
  g_assert_no_error (queued->error);
  wp_test_assert_no_children ();
  wp_fault_assert_stats_agree (fixture->pool);
  g_clear_object (&fixture->pool);
  wp_fault_calls_check ();  /* forget them: the next pool may get the same address */

  /* The crashed job is the last one. */
  fixture->pool = new_pool (wp_test_plugin_dir (), 1);
  g_clear_pointer (&op, close_op_free);
  crash = wp_fault_call_start (fixture->pool, "crash", "segv", NULL, 0, NULL);
  wait_stat_within (fixture->pool, "running", 1, 5000);
  op = close_start (fixture->pool, NULL);
  close_wait (op, 5000);
  g_assert_true (op->ok);
  g_assert_true (wp_fault_call_is_done (crash));
  wp_fault_assert_error (crash, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED, g_strsignal (SIGSEGV));
  wp_test_assert_no_children ();
}

static void
test_close_cancelled (WpTestFixture *fixture,
                      gconstpointer  data)
{
  g_autoptr(GCancellable) close_cancellable = g_cancellable_new ();
  g_autoptr(CloseOp) op = NULL;
  WpFaultCall *hanging, *queued;
  gint64 cancelled;

  g_test_summary ("Cancelling a close stops the hanging job (WP_POOL_ERROR_CLOSED, its worker "
                  "killed after the grace period) and fails the queued one; the close "
                  "completes with G_IO_ERROR_CANCELLED");

  hanging = wp_fault_call_start (fixture->pool, "sleep", "spin", wp_fault_ms_args (LONG_MS), 0, NULL);
  wait_stat_within (fixture->pool, "running", 1, 5000);
  queued = wp_fault_call_start (fixture->pool, "echo", "noop", NULL, 0, NULL);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "queued"), ==, 1);

  op = close_start (fixture->pool, close_cancellable);
  wp_fault_cancel (close_cancellable);
  cancelled = g_get_monotonic_time ();
  close_wait (op, DEFAULT_GRACE + MARGIN_MS);
  g_assert_error (op->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (op->ok);
  g_test_message ("closed %" G_GINT64_FORMAT " ms after the cancel", wp_fault_ms_since (cancelled));

  g_assert_true (wp_fault_call_is_done (hanging));
  g_assert_true (wp_fault_call_is_done (queued));
  wp_fault_assert_error (hanging, WP_POOL_ERROR, WP_POOL_ERROR_CLOSED, NULL);
  wp_fault_assert_error (queued, WP_POOL_ERROR, WP_POOL_ERROR_CLOSED, NULL);
  wp_test_assert_no_children ();
}

static void
test_dispose_queued (void)
{
  g_autoptr(GCancellable) stopping = g_cancellable_new ();
  WpFaultCall *running[2], *queued[5];
  gboolean finalized;
  guint fds_before;
  WpPool *pool;

  g_test_summary ("Disposing an unclosed pool with hanging, stopping and queued jobs: each "
                  "fails exactly once (WP_POOL_ERROR_CLOSED, or G_IO_ERROR_CANCELLED for the "
                  "one its caller cancelled), the workers are killed and reaped, no "
                  "descriptor leaks");

  wp_test_warm_up ();
  fds_before = wp_test_count_fds ();
  pool = new_pool (wp_test_plugin_dir (), 2);
  wp_test_watch_finalize (pool, &finalized);
  wp_pool_set_cancel_grace (pool, 20000);

  running[0] = wp_fault_call_start (pool, "sleep", "spin", wp_fault_ms_args (LONG_MS), 0, stopping);
  running[1] = wp_fault_call_start (pool, "sleep", "spin", wp_fault_ms_args (LONG_MS), 0, NULL);
  queued[0] = wp_fault_call_start (pool, "echo", "noop", NULL, 0, NULL);
  queued[1] = wp_fault_call_start (pool, "crash", "segv", NULL, 0, NULL);
  queued[2] = wp_fault_call_start (pool, "sleep", "sleep", wp_fault_ms_args (LONG_MS), 0, NULL);
  queued[3] = wp_fault_call_start (pool, "arith", "fail", g_variant_new ("(s)", "x"), 0, NULL);
  queued[4] = wp_fault_call_start (pool, "echo", "getpid", NULL, 100, NULL);
  wait_stat_within (pool, "running", 2, 5000);
  g_assert_cmpuint (wp_test_get_stat (pool, "queued"), ==, 5);

  /* The first one is STOPPING: cancelled, in a 20 s grace period. */
  wp_fault_cancel (stopping);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_false (wp_fault_call_is_done (running[0]));

  /* GTasks hold the pool: dispose it as a last unref would. */
  g_object_run_dispose (G_OBJECT (pool));
  g_object_unref (pool);

  for (guint i = 0; i < G_N_ELEMENTS (running); i++)
    wp_fault_call_wait (running[i], 2000);
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    {
      wp_fault_call_wait (queued[i], 2000);
      wp_fault_assert_error (queued[i], WP_POOL_ERROR, WP_POOL_ERROR_CLOSED, NULL);
    }
  g_assert_nonnull (running[0]->error);
  if (!g_error_matches (running[0]->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    wp_fault_assert_error (running[0], WP_POOL_ERROR, WP_POOL_ERROR_CLOSED, NULL);
  wp_fault_assert_error (running[1], WP_POOL_ERROR, WP_POOL_ERROR_CLOSED, NULL);

  wp_test_wait_no_children ();
  wp_test_wait_until (&finalized);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  wp_fault_calls_check ();
  wp_test_wait_fds (fds_before);
}

/* ---- 11. Exactly once, and the stats ---- */

static void
test_exactly_once_stats (WpTestFixture *fixture,
                         gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  g_autoptr(GPtrArray) calls = g_ptr_array_new ();
  g_autoptr(GCancellable) running1 = g_cancellable_new ();
  g_autoptr(GCancellable) running2 = g_cancellable_new ();
  g_autoptr(GCancellable) queued1 = g_cancellable_new ();
  g_autoptr(GCancellable) queued2 = g_cancellable_new ();
  g_autoptr(GCancellable) early = g_cancellable_new ();

  g_test_summary ("Every outcome at once (success, plugin error, crash, timeout, cancel "
                  "queued and running, refused): each callback runs once, and the stats "
                  "count completed, failed, cancelled, crashed and timed-out as callers saw");

#define START(plugin, function, args, timeout, cancellable) \
  g_ptr_array_add (calls, wp_fault_call_start (pool, plugin, function, args, timeout, cancellable))

  /* Long enough to be cancelled while they run. */
  START ("sleep", "sleep", wp_fault_ms_args (LONG_MS), 0, running1);
  START ("sleep", "spin", wp_fault_ms_args (LONG_MS), 0, running2);
  START ("crash", "segv", NULL, 0, queued1);
  START ("crash", "abort", NULL, 0, queued2);
  for (guint i = 0; i < 5; i++)
    START ("arith", "add", g_variant_new ("(ii)", (gint32) i, 1), 0, NULL);
  START ("arith", "fail", g_variant_new ("(s)", "one"), 0, NULL);
  START ("arith", "div", g_variant_new ("(ii)", 1, 0), 0, NULL);
  START ("crash", "segv", NULL, 0, NULL);
  START ("crash", "exit3", NULL, 0, NULL);
  START ("sleep", "spin", wp_fault_ms_args (LONG_MS), 100, NULL);
  START ("sleep", "sleep", wp_fault_ms_args (LONG_MS), 100, NULL);
  g_cancellable_cancel (early);
  START ("echo", "noop", NULL, 0, early);
  START ("nosuch", "noop", NULL, 0, NULL);
  START ("../echo", "noop", NULL, 0, NULL);

  /* No worker has started yet: these two are queued. */
  g_assert_cmpuint (wp_test_get_stat (pool, "running"), ==, 0);
  wp_fault_cancel (queued1);
  wp_fault_cancel (queued2);

  /* The first two jobs run on the two workers, then are cancelled. */
  wp_test_wait_stat (pool, "running", 2);
  wp_fault_cancel (running1);
  wp_fault_cancel (running2);

#undef START

  for (guint i = 0; i < calls->len; i++)
    wp_fault_call_wait (calls->pdata[i], 10000);

  g_assert_cmpuint (wp_test_get_stat (pool, "submitted"), ==, 18);
  g_assert_cmpuint (wp_test_get_stat (pool, "completed"), ==, 5);
  g_assert_cmpuint (wp_test_get_stat (pool, "cancelled"), ==, 5);
  g_assert_cmpuint (wp_test_get_stat (pool, "failed"), ==, 8);
  g_assert_cmpuint (wp_test_get_stat (pool, "crashed"), ==, 2);
  g_assert_cmpuint (wp_test_get_stat (pool, "timed-out"), ==, 2);
  wp_fault_assert_stats_agree (pool);

  /* Nothing comes twice, later: teardown checks every callback again
   * once the pool is finalized, when none can come any more. */
}

int
main (int    argc,
      char **argv)
{
  if (argc == 3 && strcmp (argv[1], "--host-death-child") == 0)
    return host_death_child (argv[2]);
  self_path = argv[0];

  wp_test_init (&argc, &argv);

#define ADD(path, setup, func, data) \
  g_test_add (path, WpTestFixture, data, setup, func, wp_fault_fixture_teardown)

  ADD ("/supervision/crash/segv", setup_two, test_crash, &crash_segv);
  ADD ("/supervision/crash/abort", setup_two, test_crash, &crash_abort);
  ADD ("/supervision/crash/sigkill", setup_two, test_crash, &crash_sigkill);
  ADD ("/supervision/crash/exit0", setup_two, test_crash, &crash_exit0);
  ADD ("/supervision/crash/quick-exit0", setup_two, test_crash, &crash_quick_exit0);
  ADD ("/supervision/crash/exit3", setup_two, test_crash, &crash_exit3);
  ADD ("/supervision/crash/stderr", setup_two, test_crash, &crash_stderr);
  ADD ("/supervision/crash/traced", setup_one, test_crash_traced, NULL);
  ADD ("/supervision/idle-death", setup_one, test_idle_death, NULL);
  ADD ("/supervision/idle-death/then-submit", setup_one, test_idle_death_then_submit, NULL);
  ADD ("/supervision/cancel/queued", setup_one, test_cancel_queued, NULL);
  ADD ("/supervision/cancel/before-submit", setup_one, test_cancel_before_submit, NULL);
  ADD ("/supervision/cancel/running-cooperative", setup_one, test_cancel_running_cooperative, NULL);
  ADD ("/supervision/cancel/running-cooperative-at-once", setup_one, test_cancel_running_at_once, NULL);
  ADD ("/supervision/cancel/running-forced", setup_one, test_cancel_running_forced, NULL);
  ADD ("/supervision/cancel/late-result", setup_one, test_cancel_late_result, NULL);
  ADD ("/supervision/timeout/pool", setup_one, test_timeout_pool, NULL);
  ADD ("/supervision/timeout/per-call", setup_one, test_timeout_per_call, NULL);
  ADD ("/supervision/recycle", setup_one, test_recycle, NULL);
  ADD ("/supervision/recycle/concurrent", setup_two, test_recycle_concurrent, NULL);
  ADD ("/supervision/hot-reload", setup_tmp, test_hot_reload, NULL);
  ADD ("/supervision/start-failure/missing-executable", setup_tmp, test_start_failure_missing, NULL);
  ADD ("/supervision/start-failure/dies-at-start", setup_tmp, test_start_failure_dies, NULL);
  g_test_add_func ("/supervision/host-death", test_host_death);
  g_test_add_func ("/supervision/sigpipe", test_sigpipe);
  g_test_add_func ("/supervision/close/with-hanging-job", test_close_hanging_job);
  ADD ("/supervision/close/with-crashing-job", setup_one, test_close_crashing_job, NULL);
  ADD ("/supervision/close/cancelled", setup_one, test_close_cancelled, NULL);
  g_test_add_func ("/supervision/dispose/queued", test_dispose_queued);
  ADD ("/supervision/exactly-once/stats", setup_two, test_exactly_once_stats, NULL);

#undef ADD

  return g_test_run ();
}
