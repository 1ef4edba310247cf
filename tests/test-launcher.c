/* test-launcher.c: workers started through a launcher.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every pool here starts its workers through the launcher that
 * $WORKPOOL_TEST_LAUNCHER names (shell words): `srun …` and `ssh …` from
 * tests/remote/with-engine.sh, which starts a real Slurm cluster or sshd
 * for it, or else `env`, which runs the worker in the launcher's place,
 * so that the plain test run checks the worker's side of the protocol
 * (standard input and output alone) on every machine.  The engines run
 * on this machine, so the pids the getpid functions return are real
 * processes here, which the tests watch and signal.
 *
 *   /launcher/property: the property, its notification, and a change
 *      retiring the workers started the other way.
 *   /launcher/calls: results through the launcher, large ones included;
 *      no job taken ahead of time.
 *   /launcher/crash: a crash fails its job naming the launcher and the
 *      worker's last stderr line, and the next job runs.
 *   /launcher/idle-death: a worker that dies idle fails no job.
 *   /launcher/lost-in-transit: a job sent to a worker that dies before
 *      reading it fails as crashed, and is not run again (no page of
 *      claims tells whether it started).
 *   /launcher/cancel/…, /launcher/timeout: cancellation on the request
 *      stream; a forced stop leaves no worker process behind.
 *   /launcher/recycle, /launcher/close, /launcher/dispose: recycling, a
 *      close that lets a running job finish, and a pool disposed of with
 *      a job running: the old workers are gone.
 *   /launcher/host-killed: this program run as `test-launcher
 *      --host-child PLUGIN_DIR`, killed with SIGKILL: its workers, busy
 *      and idle, are gone.
 *   /launcher/interrupt: this program run as `test-launcher
 *      --interrupt-child PLUGIN_DIR` in a process group of its own, which
 *      gets SIGINT as a terminal's Ctrl-C would: the program handles it,
 *      and its worker, behind a launcher in a session of its own, runs on.
 *   /launcher/limits: the memory limit applied by the worker, the frame
 *      limit, and the sandbox.
 *   /launcher/plugin-trust: a plugin its group may write is refused
 *      where it would be loaded.
 *   /launcher/fds: calls with descriptors fail clearly, queued or new.
 *   /launcher/failure/…: a launcher that fails, or is not there, or prints
 *      ahead of the worker: the jobs fail with a message that says so.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>
#include <glib-unix.h>

#include "wp-sanitizer-private.h"
#include "wp-test-faults.h"

#define LONG_MS 60000

static char **launcher;       /* from $WORKPOOL_TEST_LAUNCHER, or `env` */
static const char *self_path; /* argv[0]: under valgrind, /proc/self/exe is valgrind */

static void
load_launcher (void)
{
  const char *words = g_getenv ("WORKPOOL_TEST_LAUNCHER");
  g_autoptr(GError) error = NULL;

  if (words == NULL || *words == '\0')
    {
      launcher = g_new0 (char *, 2);
      launcher[0] = g_strdup ("env");
      return;
    }

  if (!g_shell_parse_argv (words, NULL, &launcher, &error))
    g_error ("WORKPOOL_TEST_LAUNCHER: %s", error->message);
}

static WpPool *
new_launched_pool (guint n_workers)
{
  g_autoptr(GError) error = NULL;
  WpPool *pool = wp_pool_new (wp_test_plugin_dir (), n_workers, &error);

  g_assert_no_error (error);
  wp_pool_set_launcher (pool, (const char * const *) launcher);
  return pool;
}

static void
setup (WpTestFixture *fixture,
       gconstpointer  data)
{
  wp_test_fixture_setup (fixture, data);
  wp_pool_set_launcher (fixture->pool, (const char * const *) launcher);
}


/* A job of @function that runs until stopped, on the pool's only worker,
 * whose pid this returns once the job is running there. */
static WpFaultCall *
start_long_job (WpPool       *pool,
                const char   *function,
                guint         timeout_ms,
                GCancellable *cancellable,
                gint32       *pid)
{
  WpFaultCall *call;

  *pid = wp_fault_get_pid (pool, "sleep");
  call = wp_fault_call_start (pool, "sleep", function, wp_fault_ms_args (LONG_MS), timeout_ms,
                              cancellable);
  if (strcmp (function, "sleep") == 0)
    wp_fault_wait_pid_in_poll (*pid, 10000);
  else
    wp_test_wait_stat (pool, "running", 1);
  return call;
}

/* ---- The property ---- */

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_property (WpTestFixture *fixture,
               gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  const char *other[] = { "env", "WORKPOOL_TEST_OTHER_LAUNCHER=1", NULL };
  g_auto(GStrv) from_property = NULL;
  guint notified = 0;
  gint32 local_pid, launched_pid;

  g_test_summary ("The launcher property: get, set, notify, NULL for local workers; a "
                  "change retires the workers started the other way");

  /* The fixture set it. */
  g_assert_true (g_strv_equal (wp_pool_get_launcher (pool), (const char * const *) launcher));
  g_object_get (pool, "launcher", &from_property, NULL);
  g_assert_true (g_strv_equal ((const char * const *) from_property,
                               (const char * const *) launcher));

  g_signal_connect (pool, "notify::launcher", G_CALLBACK (count_notify), &notified);
  wp_pool_set_launcher (pool, (const char * const *) launcher);
  g_assert_cmpuint (notified, ==, 0);

  wp_pool_set_launcher (pool, NULL);
  g_assert_null (wp_pool_get_launcher (pool));
  g_assert_cmpuint (notified, ==, 1);
  local_pid = wp_fault_get_pid (pool, "sleep");

  g_object_set (pool, "launcher", other, NULL);
  g_assert_cmpuint (notified, ==, 2);
  g_assert_true (g_strv_equal (wp_pool_get_launcher (pool), other));
  /* The idle local worker is retired at once. */
  wp_fault_wait_pid_gone (local_pid, 5000);
  launched_pid = wp_fault_get_pid (pool, "sleep");
  g_assert_cmpint (launched_pid, !=, local_pid);

  wp_pool_set_launcher (pool, (const char * const *) launcher);
  g_assert_cmpuint (notified, ==, 3);
  wp_fault_wait_pid_gone (launched_pid, 10000);
}

/* ---- Calls ---- */

#define BIG_BYTES (1024 * 1024)

static void
test_calls (WpTestFixture *fixture,
            gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  g_autofree guint8 *bytes = g_malloc (BIG_BYTES);
  WpFaultCall *calls[24];

  g_test_summary ("Jobs through the launcher: results byte for byte, a 1 MiB one included, "
                  "and no job handed to a busy worker ahead of time");

  for (guint i = 0; i < BIG_BYTES; i++)
    bytes[i] = (guint8) (i * 7 + (i >> 12));

  /* Prefetch on for the pool (whatever $WORKPOOL_PREFETCH says); its
   * launched workers take none. */
  wp_pool_set_prefetch (pool, 4);

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      gsize size = i == 0 ? BIG_BYTES : i * 1000;

      calls[i] = wp_fault_call_start (pool, "echo", "echo_bytes",
                                      g_variant_new ("(@ay)", g_variant_new_fixed_array (
                                                       G_VARIANT_TYPE_BYTE, bytes, size, 1)),
                                      0, NULL);
    }

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      g_autoptr(GVariant) echoed = NULL;
      gsize size = i == 0 ? BIG_BYTES : i * 1000, n;
      const guint8 *data_back;

      wp_fault_call_wait (calls[i], 30000);
      g_assert_no_error (calls[i]->error);
      g_variant_get (calls[i]->result, "(@ay)", &echoed);
      data_back = g_variant_get_fixed_array (echoed, &n, 1);
      g_assert_cmpmem (data_back, n, bytes, size);
    }

  g_assert_cmpuint (wp_test_get_stat (pool, "prefetched"), ==, 0);
}

/* ---- Crashes and deaths ---- */

static void
test_crash (WpTestFixture *fixture,
            gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  g_autofree char *through = g_strdup_printf ("started through %s", launcher[0]);
  WpFaultCall *crash, *after;

  g_test_summary ("A worker that crashes fails its job as crashed, naming the launcher and "
                  "carrying the worker's stderr; the next job runs");

  crash = wp_fault_call_start (pool, "crash", "stderr_then_abort", NULL, 0, NULL);
  wp_fault_call_wait (crash, 30000);
  wp_fault_assert_error (crash, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED, through);
  wp_fault_assert_error (crash, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED,
                         "crash: last words");
  g_test_message ("message: %s", crash->error->message);

  crash = wp_fault_call_start (pool, "crash", "segv", NULL, 0, NULL);
  wp_fault_call_wait (crash, 30000);
  wp_fault_assert_error (crash, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED, through);

  after = wp_fault_call_start (pool, "echo", "getpid", NULL, 0, NULL);
  wp_fault_call_wait (after, 30000);
  g_assert_no_error (after->error);
  g_assert_cmpuint (wp_test_get_stat (pool, "crashed"), ==, 2);
}

static void
test_idle_death (WpTestFixture *fixture,
                 gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  gint32 pid = wp_fault_get_pid (pool, "echo");
  guint64 spawned = wp_test_get_stat (pool, "spawned");

  g_test_summary ("An idle worker killed from outside fails no job, and is replaced");

  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  wp_test_wait_stat (pool, "workers", 0);
  g_assert_cmpint (wp_fault_get_pid (pool, "echo"), !=, pid);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, spawned + 1);
  g_assert_cmpuint (wp_test_get_stat (pool, "failed"), ==, 0);
}

static void
test_lost_in_transit (WpTestFixture *fixture,
                      gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  g_autofree char *through = g_strdup_printf ("started through %s", launcher[0]);
  gint32 pid = wp_fault_get_pid (pool, "echo");
  WpFaultCall *call, *after;

  g_test_summary ("A job sent to a worker that dies before reading it fails as crashed, "
                  "naming the launcher, and is not run again; the next job runs");

  /* Stopped, it cannot read the job; killed, it never did. */
  g_assert_cmpint (kill (pid, SIGSTOP), ==, 0);
  call = wp_fault_call_start (pool, "echo", "getpid", NULL, 0, NULL);
  wp_test_wait_stat (pool, "running", 1);
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);

  wp_fault_call_wait (call, 30000);
  wp_fault_assert_error (call, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED, through);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 1);

  after = wp_fault_call_start (pool, "echo", "getpid", NULL, 0, NULL);
  wp_fault_call_wait (after, 30000);
  g_assert_no_error (after->error);
  g_assert_cmpuint (wp_test_get_stat (pool, "crashed"), ==, 1);
}

/* ---- Stopping jobs ---- */

static void
test_cancel_cooperative (WpTestFixture *fixture,
                         gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  WpFaultCall *call;
  gint32 pid;

  g_test_summary ("A running job's cancel reaches its worker on the request stream: the "
                  "job ends early, cancelled, and the worker stays");

  /* A grace period no engine's round trip comes near. */
  wp_pool_set_cancel_grace (pool, 10000);
  call = start_long_job (pool, "sleep", 0, cancellable, &pid);
  wp_fault_cancel (cancellable);
  wp_fault_call_wait (call, 10000);
  wp_fault_assert_error (call, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  g_assert_cmpint (wp_fault_get_pid (pool, "sleep"), ==, pid);
}

static void
test_cancel_forced (WpTestFixture *fixture,
                    gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  WpFaultCall *call;
  gint32 pid;

  g_test_summary ("A running job that ignores its cancel is stopped by killing the "
                  "launcher, and its worker process is gone soon after");

  wp_pool_set_cancel_grace (pool, 100);
  call = start_long_job (pool, "spin", 0, cancellable, &pid);
  wp_fault_cancel (cancellable);
  wp_fault_call_wait (call, 10000);
  wp_fault_assert_error (call, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  wp_fault_wait_pid_gone (pid, 10000);
  g_assert_cmpint (wp_fault_get_pid (pool, "sleep"), !=, pid);
}

static void
test_timeout (WpTestFixture *fixture,
              gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  WpFaultCall *call;
  gint32 pid;

  g_test_summary ("A job over its timeout fails as timed out, counted from its start on "
                  "the worker, and its spinning worker is gone");

  wp_pool_set_cancel_grace (pool, 100);
  call = start_long_job (pool, "spin", 300, NULL, &pid);
  wp_fault_call_wait (call, 10000);
  wp_fault_assert_error (call, WP_POOL_ERROR, WP_POOL_ERROR_TIMED_OUT, "300 ms");
  wp_fault_wait_pid_gone (pid, 10000);
}

/* ---- Recycling and a pool going away ---- */

static void
test_recycle (WpTestFixture *fixture,
              gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  gint32 pids[4];

  g_test_summary ("With two jobs per worker, four jobs take two workers in turn, and the "
                  "first is gone");

  wp_pool_set_max_jobs_per_worker (pool, 2);
  for (guint i = 0; i < G_N_ELEMENTS (pids); i++)
    pids[i] = wp_fault_get_pid (pool, "echo");

  g_assert_cmpint (pids[0], ==, pids[1]);
  g_assert_cmpint (pids[2], ==, pids[3]);
  g_assert_cmpint (pids[1], !=, pids[2]);
  wp_fault_wait_pid_gone (pids[0], 10000);
}

static void
test_close (void)
{
  WpPool *pool = new_launched_pool (1);
  gboolean finalized;
  WpFaultCall *sleeping;
  gint32 pid;

  g_test_summary ("Closing a pool whose launched worker runs a job: the job completes, the "
                  "close completes, and the worker process is gone");

  pid = wp_fault_get_pid (pool, "sleep");
  sleeping = wp_fault_call_start (pool, "sleep", "sleep", wp_fault_ms_args (300), 0, NULL);
  wp_fault_wait_pid_in_poll (pid, 10000);

  wp_test_watch_finalize (pool, &finalized);
  wp_test_close (pool);
  wp_fault_call_wait (sleeping, 10000);
  g_assert_no_error (sleeping->error);
  g_object_unref (pool);
  wp_test_wait_until (&finalized);
  wp_fault_wait_pid_gone (pid, 10000);
  wp_fault_calls_check ();
  wp_test_wait_no_children ();
}

static void
test_dispose (void)
{
  WpPool *pool = new_launched_pool (2);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) description = NULL;
  gboolean finalized;
  WpFaultCall *spin;
  gint32 busy, idle;

  g_test_summary ("A pool dropped with a running job and an idle worker: the job fails as "
                  "closed, and both worker processes are gone");

  /* A description takes the same way as a call. */
  description = wp_test_describe (pool, "sleep", &error);
  g_assert_no_error (error);
  g_assert_nonnull (description);

  busy = wp_fault_get_pid (pool, "sleep");
  spin = wp_fault_call_start (pool, "sleep", "spin", wp_fault_ms_args (LONG_MS), 0, NULL);
  wp_test_wait_stat (pool, "running", 1);
  idle = wp_fault_get_pid (pool, "sleep");
  g_assert_cmpint (idle, !=, busy);

  /* GTasks hold the pool: dispose it as a last unref would. */
  wp_test_watch_finalize (pool, &finalized);
  g_object_run_dispose (G_OBJECT (pool));
  g_object_unref (pool);
  wp_fault_call_wait (spin, 10000);
  wp_fault_assert_error (spin, WP_POOL_ERROR, WP_POOL_ERROR_CLOSED, NULL);
  wp_test_wait_until (&finalized);

  wp_fault_wait_pid_gone (busy, 10000);
  wp_fault_wait_pid_gone (idle, 10000);
  wp_fault_calls_check ();
  wp_test_wait_no_children ();
}

/* ---- The program using the pool, killed ---- */

/* The child's side: one worker busy for good, one idle; prints their
 * pids and runs until it is killed. */
static int
host_child (const char *plugin_dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = wp_pool_new (plugin_dir, 2, &error);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  gint32 busy, idle;

  g_assert_no_error (error);
  wp_pool_set_launcher (pool, (const char * const *) launcher);
  busy = wp_fault_get_pid (pool, "sleep");
  wp_fault_call_start (pool, "sleep", "spin", wp_fault_ms_args (LONG_MS), 0, NULL);
  wp_test_wait_stat (pool, "running", 1);
  idle = wp_fault_get_pid (pool, "sleep");
  g_assert_cmpint (busy, !=, idle);

  printf ("%d %d\n", (int) busy, (int) idle);
  fflush (stdout);

  g_main_loop_run (loop);  /* until SIGKILL */
  return 0;
}

static void
test_host_killed (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *self = strchr (self_path, '/') != NULL
                          ? g_strdup (self_path)
                          : g_file_read_link ("/proc/self/exe", &error);
  g_autoptr(GSubprocess) child = NULL;
  g_autofree char *line = NULL;
  g_auto(GStrv) fields = NULL;
  g_autoptr(GDataInputStream) input = NULL;

  g_test_summary ("When the program using the pool is killed with SIGKILL, its workers "
                  "behind the launcher, busy or idle, are gone");

  g_assert_no_error (error);
  child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                            self, "--host-child", wp_test_plugin_dir (), NULL);
  g_assert_no_error (error);

  /* The child prints its line once both workers run, or dies trying. */
  input = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));
  line = g_data_input_stream_read_line (input, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_test_message ("the child's workers (busy, idle): %s", line);
  fields = g_strsplit (line, " ", -1);
  g_assert_cmpuint (g_strv_length (fields), ==, 2);

  g_subprocess_force_exit (child);
  g_assert_true (g_subprocess_wait (child, NULL, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < 2; i++)
    wp_fault_wait_pid_gone (atoi (fields[i]), 10000);
}

/* ---- Ctrl-C in the program's terminal ---- */

static gboolean
count_signal (gpointer user_data)
{
  (*(guint *) user_data)++;
  return G_SOURCE_CONTINUE;
}

/* The child's side: a program that handles SIGINT itself, with a job
 * running on a launched worker; prints the worker's pid, waits for the
 * signal, then cancels the job.  Exit status 0 when the job ends
 * cancelled, not crashed, and the same worker takes the next job. */
static int
interrupt_child (const char *plugin_dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = wp_pool_new (plugin_dir, 1, &error);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  guint n_signals = 0;
  WpFaultCall *call;
  gint32 pid;

  g_assert_no_error (error);
  g_unix_signal_add (SIGINT, count_signal, &n_signals);
  wp_pool_set_launcher (pool, (const char * const *) launcher);
  wp_pool_set_cancel_grace (pool, 10000);
  call = start_long_job (pool, "sleep", 0, cancellable, &pid);

  printf ("%d\n", (int) pid);
  fflush (stdout);
  while (n_signals == 0)
    g_main_context_iteration (NULL, TRUE);

  wp_fault_cancel (cancellable);
  wp_fault_call_wait (call, 10000);
  wp_fault_assert_error (call, G_IO_ERROR, G_IO_ERROR_CANCELLED, NULL);
  g_assert_cmpint (wp_fault_get_pid (pool, "sleep"), ==, pid);
  return 0;
}

static void
start_own_group (gpointer user_data)
{
  setpgid (0, 0);
}

static void
test_interrupt (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *self = strchr (self_path, '/') != NULL
                          ? g_strdup (self_path)
                          : g_file_read_link ("/proc/self/exe", &error);
  g_autoptr(GSubprocessLauncher) spawner = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GDataInputStream) input = NULL;
  g_autofree char *line = NULL;
  int child_pid;

  g_test_summary ("SIGINT to the process group of a program that handles it (Ctrl-C in its "
                  "terminal) stops neither the launcher nor the worker behind it: the "
                  "running job is cancelled as the program asks, and the worker stays");

  g_assert_no_error (error);
  /* Its own group, as a shell gives a job, so that this test's is spared. */
  g_subprocess_launcher_set_child_setup (spawner, start_own_group, NULL, NULL);
  child = g_subprocess_launcher_spawn (spawner, &error, self, "--interrupt-child",
                                       wp_test_plugin_dir (), NULL);
  g_assert_no_error (error);
  child_pid = atoi (g_subprocess_get_identifier (child));

  input = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));
  line = g_data_input_stream_read_line (input, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_test_message ("the child's worker: %s", line);

  g_assert_cmpint (kill (-child_pid, SIGINT), ==, 0);
  g_assert_true (g_subprocess_wait (child, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (child));
  g_assert_cmpint (g_subprocess_get_exit_status (child), ==, 0);
}

/* ---- Limits ---- */

static void
test_limits (WpTestFixture *fixture,
             gconstpointer  data)
{
  WpPool *pool = fixture->pool;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) limit = NULL;
  g_autoptr(GVariant) echoed = NULL;
  g_autofree guint8 *bytes = g_malloc0 (8192);
  g_autoptr(GVariant) stats = NULL;
  const char *sandbox;
  guint64 soft, hard;
  gint32 status;

  g_test_summary ("The memory limit is applied by the worker, the frame limit holds both "
                  "ways, and a sandboxed worker behind a launcher works");

  wp_pool_set_worker_memory_limit (pool, 1024 * 1024 * 1024);
  limit = wp_fault_call_sync (pool, "memory", "get_address_space_limit", NULL, &error);
  g_assert_no_error (error);
  g_variant_get (limit, "(tti)", &soft, &hard, &status);
  if (!WP_ASAN_BUILD)
    {
      g_assert_cmpuint (soft, ==, 1024 * 1024 * 1024);
      g_assert_cmpuint (hard, ==, 1024 * 1024 * 1024);
    }

  /* The worker refuses to send a result over the limit, and lives. */
  wp_pool_set_max_frame_size (pool, 4096);
  echoed = wp_fault_call_sync (pool, "echo", "echo_repeat",
                               g_variant_new ("(@ayu)",
                                              g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                         bytes, 1000, 1),
                                              8u),
                               &error);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_PROTOCOL);
  g_assert_null (echoed);
  g_clear_error (&error);
  g_assert_cmpuint (wp_test_get_stat (pool, "crashed"), ==, 0);

  wp_pool_set_max_frame_size (pool, 1024 * 1024);
  wp_pool_set_sandbox (pool, WP_SANDBOX_STRICT);
  wp_fault_get_pid (pool, "echo");
  stats = wp_pool_get_stats (pool);
  g_assert_true (g_variant_lookup (stats, "sandbox", "&s", &sandbox));
  g_assert_cmpstr (sandbox, !=, "");
}

static void
test_plugin_trust (void)
{
  g_autofree char *dir = wp_test_make_tmp_dir ();
  g_autofree char *plugin = g_build_filename (dir, "echo.so", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = NULL;
  g_autoptr(GVariant) result = NULL;
  gboolean finalized;

  g_test_summary ("A worker behind a launcher checks who may change the plugin it loads: "
                  "one its group may write is refused, naming the file and its mode");

  wp_test_copy_plugin ("echo", dir, "echo.so");
  g_assert_cmpint (chmod (plugin, 0775), ==, 0);
  pool = wp_pool_new (dir, 1, &error);
  g_assert_no_error (error);
  wp_pool_set_launcher (pool, (const char * const *) launcher);

  result = wp_fault_call_sync (pool, "echo", "getpid", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_PLUGIN_INVALID);
  g_test_message ("message: %s", error->message);
  g_assert_nonnull (strstr (error->message, plugin));

  wp_test_watch_finalize (pool, &finalized);
  g_clear_object (&pool);
  wp_test_wait_until (&finalized);
  wp_test_remove_tree (dir);
  wp_test_wait_no_children ();
}

/* ---- Descriptors ---- */

static void
test_fds (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = wp_pool_new (wp_test_plugin_dir (), 1, &error);
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  WpFaultCall *spin;
  WpFaultCall *queued_fds, *new_fds;
  gboolean finalized;
  int fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);

  g_test_summary ("Calls with descriptors fail with INVALID_ARGS naming the launcher: one "
                  "queued when the launcher is set, and one submitted after");

  g_assert_no_error (error);
  g_assert_cmpint (g_unix_fd_list_append (fds, fd, &error), ==, 0);
  g_assert_no_error (error);
  close (fd);

  /* A local worker busy, a call with a descriptor waiting behind it. */
  spin = wp_fault_call_start (pool, "sleep", "spin", wp_fault_ms_args (LONG_MS), 0, NULL);
  wp_test_wait_stat (pool, "running", 1);
  queued_fds = wp_fault_call_start_with_fds (pool, "fds", "read", g_variant_new ("(h)", 0), fds);
  g_assert_cmpuint (wp_test_get_stat (pool, "queued"), ==, 1);

  wp_pool_set_launcher (pool, (const char * const *) launcher);
  wp_fault_call_wait (queued_fds, 5000);
  wp_fault_assert_error (queued_fds, WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS, launcher[0]);
  g_test_message ("message: %s", queued_fds->error->message);

  new_fds = wp_fault_call_start_with_fds (pool, "fds", "read", g_variant_new ("(h)", 0), fds);
  wp_fault_call_wait (new_fds, 5000);
  wp_fault_assert_error (new_fds, WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS,
                         "file descriptors cannot reach workers started through a launcher");

  wp_test_watch_finalize (pool, &finalized);
  g_object_run_dispose (G_OBJECT (pool));
  g_clear_object (&pool);
  wp_fault_call_wait (spin, 10000);
  wp_test_wait_until (&finalized);
  wp_fault_calls_check ();
  wp_test_wait_no_children ();
}

/* ---- Launchers that fail ---- */

static void
check_launcher_failure (const char * const *failing,
                        const char         *message)
{
  g_autoptr(GError) error = NULL;
  WpPool *pool = wp_pool_new (wp_test_plugin_dir (), 1, &error);
  gboolean finalized;
  WpFaultCall *call;

  g_assert_no_error (error);
  wp_pool_set_launcher (pool, failing);
  call = wp_fault_call_start (pool, "echo", "getpid", NULL, 0, NULL);
  wp_fault_call_wait (call, 20000);
  wp_fault_assert_error (call, WP_POOL_ERROR, WP_POOL_ERROR_FAILED, message);
  g_test_message ("message: %s", call->error->message);

  wp_test_watch_finalize (pool, &finalized);
  g_object_unref (pool);
  wp_test_wait_until (&finalized);
  wp_fault_calls_check ();
  wp_test_wait_no_children ();
}

static void
test_failure_message (void)
{
  const char *failing[] = {
    "sh", "-c", "echo 'ssh: Could not resolve hostname nosuch.invalid' >&2; exit 255", "sh",
    NULL
  };

  g_test_summary ("A launcher that fails at once: the jobs fail after three attempts, with "
                  "its stderr in the message");

  check_launcher_failure (failing, "ssh: Could not resolve hostname nosuch.invalid");
}

static void
test_failure_chatty (void)
{
  const char *chatty[] = { "sh", "-c", "echo 'Welcome to the cluster'; exec \"$@\"", "sh", NULL };

  g_test_summary ("A launcher whose remote shell prints before the worker: the jobs fail "
                  "saying so, not as a bare protocol error");

  check_launcher_failure (chatty, "had something else on its standard output before its "
                          "first message");
}

static void
test_failure_missing (void)
{
  const char *missing[] = { "/nonexistent/launcher", "--flag", NULL };

  g_test_summary ("A launcher that is not there: the jobs fail naming it");

  check_launcher_failure (missing, "Cannot start the launcher /nonexistent/launcher");
}

int
main (int    argc,
      char **argv)
{
  load_launcher ();
  if (argc == 3 && strcmp (argv[1], "--host-child") == 0)
    return host_child (argv[2]);
  if (argc == 3 && strcmp (argv[1], "--interrupt-child") == 0)
    return interrupt_child (argv[2]);
  self_path = argv[0];

  wp_test_init (&argc, &argv);
  g_test_message ("launcher: %s", g_getenv ("WORKPOOL_TEST_LAUNCHER") ?: "env");

#define ADD(path, n, func) \
  g_test_add (path, WpTestFixture, GUINT_TO_POINTER (n), setup, func, wp_fault_fixture_teardown)

  ADD ("/launcher/property", 1, test_property);
  ADD ("/launcher/calls", 2, test_calls);
  ADD ("/launcher/crash", 2, test_crash);
  ADD ("/launcher/idle-death", 1, test_idle_death);
  ADD ("/launcher/lost-in-transit", 1, test_lost_in_transit);
  ADD ("/launcher/cancel/cooperative", 1, test_cancel_cooperative);
  ADD ("/launcher/cancel/forced", 1, test_cancel_forced);
  ADD ("/launcher/timeout", 1, test_timeout);
  ADD ("/launcher/recycle", 1, test_recycle);
  ADD ("/launcher/limits", 1, test_limits);
  g_test_add_func ("/launcher/close", test_close);
  g_test_add_func ("/launcher/dispose", test_dispose);
  g_test_add_func ("/launcher/host-killed", test_host_killed);
  g_test_add_func ("/launcher/interrupt", test_interrupt);
  g_test_add_func ("/launcher/plugin-trust", test_plugin_trust);
  g_test_add_func ("/launcher/fds", test_fds);
  g_test_add_func ("/launcher/failure/message", test_failure_message);
  g_test_add_func ("/launcher/failure/missing", test_failure_missing);
  g_test_add_func ("/launcher/failure/chatty", test_failure_chatty);

#undef ADD

  return g_test_run ();
}
