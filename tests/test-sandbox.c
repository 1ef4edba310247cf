/* test-sandbox.c: WP_SANDBOX_STRICT holds against a plugin that really
 * tries to escape (tests/plugins/hostile.c).
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each attempt runs in an unconfined pool, where it must work (so the
 * attempt is real), and in a sandboxed one, where it must fail as
 * wp_pool_set_sandbox() promises:
 *
 *   /sandbox/read-secrets     $HOME/.ssh and /tmp files, the test's own
 *                             /proc/PID/environ and /proc/PID/mem:
 *                             EACCES; /usr readable
 *   /sandbox/write            create, write, rename, unlink, truncate:
 *                             refused, and
 *                             every file as it was
 *   /sandbox/sockets          AF_UNIX, AF_INET, AF_INET6, AF_NETLINK: EPERM
 *   /sandbox/connect          a TCP port and a Unix socket the test listens
 *                             on: EPERM
 *   /sandbox/session-bus      a real dbus-daemon: unreachable
 *   /sandbox/processes        fork, vfork, clone: EPERM; threads work
 *   /sandbox/exec             kills the worker: WORKER_CRASHED naming the
 *                             sandbox, and the next job runs
 *   /sandbox/other-arch       so does a call through the x32 ABI
 *   /sandbox/other-processes  ptrace and signals to the test process and
 *                             to another process: EPERM; to itself: fine
 *   /sandbox/descriptors      writes to a descriptor it was given; holds
 *                             no stray descriptor of the test's; no core
 *                             dumps, a bounded RLIMIT_NOFILE, no-new-privs
 *   /sandbox/ld-debug         ld.so's LD_DEBUG_OUTPUT never lands in a
 *                             job's file
 *   /sandbox/stats            the stats name the mechanisms
 *   /sandbox/change           setting the property retires the workers
 *   /sandbox/landlock-abi/N   with the Landlock ABI capped at 1 and 2
 *                             ($WORKPOOL_TEST_LANDLOCK_ABI), still no
 *                             secret read and no file written
 *   /sandbox/no-landlock      without Landlock: every job fails with
 *                             WP_POOL_ERROR_SANDBOX naming it, and no
 *                             plugin code runs
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>
#include <gio/gunixsocketaddress.h>
#include <workpool/workpool.h>

#include "wp-test-util.h"

typedef struct {
  WpPool *open;      /* WP_SANDBOX_NONE */
  WpPool *strict;    /* WP_SANDBOX_STRICT */
  char   *tmp_dir;
} Fixture;

static WpPool *
new_pool (WpSandbox sandbox)
{
  g_autoptr(GError) error = NULL;
  WpPool *pool = wp_pool_new (wp_test_plugin_dir (), 1, &error);

  g_assert_no_error (error);
  wp_pool_set_sandbox (pool, sandbox);
  g_assert_cmpint (wp_pool_get_sandbox (pool), ==, sandbox);
  return pool;
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  fixture->open = new_pool (WP_SANDBOX_NONE);
  fixture->strict = new_pool (WP_SANDBOX_STRICT);
  fixture->tmp_dir = wp_test_make_tmp_dir ();
}

static void
drop_pool (WpPool **pool)
{
  gboolean finalized;

  if (*pool == NULL)
    return;
  wp_test_close (*pool);
  wp_test_watch_finalize (*pool, &finalized);
  g_clear_object (pool);
  wp_test_wait_until (&finalized);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  drop_pool (&fixture->open);
  drop_pool (&fixture->strict);
  wp_test_calls_check ();
  wp_test_assert_no_children ();
  wp_test_remove_tree (fixture->tmp_dir);
  g_free (fixture->tmp_dir);
}

/* The errno a hostile function got. */
static int
attempt (WpPool     *pool,
         const char *function,
         GVariant   *args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = wp_test_call (pool, "hostile", function, args, &error);
  gint32 err;

  g_assert_no_error (error);
  g_variant_get (result, "(i)", &err);
  return err;
}

/* @function with @args works unconfined and fails with @expected
 * confined; @args is used twice. */
static void
assert_refused (Fixture    *fixture,
                const char *function,
                GVariant   *args,
                int         expected)
{
  g_variant_ref_sink (args);
  g_assert_cmpint (attempt (fixture->open, function, args), ==, 0);
  g_assert_cmpint (attempt (fixture->strict, function, args), ==, expected);
  g_variant_unref (args);
}

static char *
write_secret (const char *dir,
              const char *name)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (parent, 0700), ==, 0);
  g_file_set_contents (path, "secret\n", -1, &error);
  g_assert_no_error (error);
  return path;
}

static void
test_read_secrets (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *key = write_secret (fixture->tmp_dir, "home/.ssh/id_ed25519");
  g_autofree char *tmp_file = write_secret (fixture->tmp_dir, "notes.txt");
  g_autofree char *environ_path = g_strdup_printf ("/proc/%d/environ", (int) getpid ());
  g_autofree char *mem_path = g_strdup_printf ("/proc/%d/mem", (int) getpid ());

  g_test_summary ("A sandboxed plugin reads no secret: not in $HOME/.ssh, not in /tmp, not the "
                  "environment of the program that started it; /usr stays readable");

  assert_refused (fixture, "read", g_variant_new ("(s)", key), EACCES);
  assert_refused (fixture, "read", g_variant_new ("(s)", tmp_file), EACCES);
  assert_refused (fixture, "read", g_variant_new ("(s)", environ_path), EACCES);
  assert_refused (fixture, "open", g_variant_new ("(s)", mem_path), EACCES);
  g_assert_cmpint (attempt (fixture->strict, "read", g_variant_new ("(s)", "/usr/lib/os-release")),
                   ==, 0);
  g_assert_cmpint (attempt (fixture->strict, "read", g_variant_new ("(s)", "/etc/ld.so.cache")),
                   ==, 0);
}

static void
assert_contents (const char *path,
                 const char *expected)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, expected);
}

static void
test_write (Fixture       *fixture,
            gconstpointer  data)
{
  g_autofree char *victim = write_secret (fixture->tmp_dir, "victim");
  g_autofree char *created = g_build_filename (fixture->tmp_dir, "created", NULL);
  g_autofree char *renamed = g_build_filename (fixture->tmp_dir, "renamed", NULL);

  g_test_summary ("A sandboxed plugin creates, writes, renames and removes no file");

  g_assert_cmpint (attempt (fixture->strict, "write", g_variant_new ("(s)", created)), ==, EACCES);
  g_assert_false (g_file_test (created, G_FILE_TEST_EXISTS));
  g_assert_cmpint (attempt (fixture->strict, "write", g_variant_new ("(s)", victim)), ==, EACCES);
  assert_contents (victim, "secret\n");
  g_assert_cmpint (attempt (fixture->strict, "rename", g_variant_new ("(ss)", victim, renamed)),
                   ==, EACCES);
  g_assert_cmpint (attempt (fixture->strict, "unlink", g_variant_new ("(s)", victim)), ==, EACCES);
  g_assert_cmpint (attempt (fixture->strict, "truncate", g_variant_new ("(s)", victim)), !=, 0);
  assert_contents (victim, "secret\n");
  g_assert_false (g_file_test (renamed, G_FILE_TEST_EXISTS));

  /* Each of them is real: unconfined, they work. */
  g_assert_cmpint (attempt (fixture->open, "write", g_variant_new ("(s)", created)), ==, 0);
  assert_contents (created, "pwned\n");
  g_assert_cmpint (attempt (fixture->open, "rename", g_variant_new ("(ss)", created, renamed)),
                   ==, 0);
  g_assert_cmpint (attempt (fixture->open, "unlink", g_variant_new ("(s)", renamed)), ==, 0);
  g_assert_false (g_file_test (renamed, G_FILE_TEST_EXISTS));
}

static void
test_sockets (Fixture       *fixture,
              gconstpointer  data)
{
  static const int families[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };

  g_test_summary ("A sandboxed plugin makes no socket of any family");

  for (gsize i = 0; i < G_N_ELEMENTS (families); i++)
    assert_refused (fixture, "socket", g_variant_new ("(i)", families[i]), EPERM);
}

static void
test_connect (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GSocketAddress) unix_address = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *socket_path = g_build_filename (fixture->tmp_dir, "socket", NULL);
  g_autofree char *tcp = NULL;
  g_autofree char *unix_target = g_strconcat ("unix:", socket_path, NULL);
  guint16 port;

  g_test_summary ("A sandboxed plugin connects neither to a TCP port nor to a Unix socket "
                  "its program listens on");

  /* The kernel completes the connections into the listen queues: nothing
   * needs to accept them. */
  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  tcp = g_strdup_printf ("tcp:%u", port);
  unix_address = g_unix_socket_address_new (socket_path);
  g_socket_listener_add_address (listener, unix_address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL, &error);
  g_assert_no_error (error);

  assert_refused (fixture, "connect", g_variant_new ("(s)", tcp), EPERM);
  assert_refused (fixture, "connect", g_variant_new ("(s)", unix_target), EPERM);
  g_socket_listener_close (listener);
}

static char *
bus_attempt (WpPool     *pool,
             const char *address)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = wp_test_call (pool, "hostile", "bus",
                                             g_variant_new ("(s)", address), &error);
  char *message;

  g_assert_no_error (error);
  g_variant_get (result, "(s)", &message);
  return message;
}

/* A private session bus: a real dbus-daemon, its address read from its
 * --print-address line. */
static GSubprocess *
start_bus (char **address)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  GSubprocess *daemon;

  daemon = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, "dbus-daemon", "--session",
                             "--nofork", "--nosyslog", "--print-address=1", NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (daemon));
  *address = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (*address);
  return daemon;
}

static void
test_session_bus (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GSubprocess) daemon = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autofree char *open_message = NULL;
  g_autofree char *strict_message = NULL;
  g_autofree char *dbus_daemon = g_find_program_in_path ("dbus-daemon");

  g_test_summary ("A sandboxed plugin cannot reach a real session bus its program can");

  if (dbus_daemon == NULL)
    {
      g_test_skip ("dbus-daemon is not installed (apt-get install dbus)");
      return;
    }

  daemon = start_bus (&address);

  open_message = bus_attempt (fixture->open, address);
  g_assert_cmpstr (open_message, ==, "");
  strict_message = bus_attempt (fixture->strict, address);
  g_assert_cmpstr (strict_message, !=, "");
  g_test_message ("sandboxed: %s", strict_message);

  g_subprocess_force_exit (daemon);
  g_subprocess_wait (daemon, NULL, &error);
  g_assert_no_error (error);
}

static void
test_processes (Fixture       *fixture,
                gconstpointer  data)
{
  g_test_summary ("A sandboxed plugin starts no process (fork, vfork, clone), but threads work");

  assert_refused (fixture, "spawn", g_variant_new ("(s)", "fork"), EPERM);
  assert_refused (fixture, "spawn", g_variant_new ("(s)", "vfork"), EPERM);
  assert_refused (fixture, "spawn", g_variant_new ("(s)", "clone"), EPERM);
  g_assert_cmpint (attempt (fixture->strict, "spawn", g_variant_new ("(s)", "thread")), ==, 0);
}

static void
test_exec (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  g_test_summary ("execve() kills a sandboxed worker: the job fails as crashed, saying that "
                  "the sandbox killed it, and the pool goes on");

  result = wp_test_call (fixture->strict, "hostile", "exec", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED);
  g_assert_nonnull (strstr (error->message, "killed by the sandbox"));

  g_assert_cmpint (attempt (fixture->strict, "spawn", g_variant_new ("(s)", "thread")), ==, 0);
}

static void
test_other_arch (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  g_test_summary ("A system call through another ABI (x32 on x86_64) kills a sandboxed worker");

#ifndef __x86_64__
  g_test_skip ("x32 exists on x86_64 only");
  return;
#endif
  result = wp_test_call (fixture->strict, "hostile", "x32", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED);
  g_assert_nonnull (strstr (error->message, "killed by the sandbox"));
  g_assert_cmpint (attempt (fixture->strict, "spawn", g_variant_new ("(s)", "thread")), ==, 0);
}

static void
test_other_processes (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GSubprocess) other = NULL;
  g_autoptr(GError) error = NULL;
  gint32 other_pid;

  g_test_summary ("A sandboxed plugin can neither ptrace nor signal the program that started "
                  "it nor another process, but may signal itself");

  other = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE, &error, "cat", NULL);
  g_assert_no_error (error);
  other_pid = (gint32) g_ascii_strtoll (g_subprocess_get_identifier (other), NULL, 10);

  /* Signal 0: the kernel checks the right to signal, and sends nothing. */
  assert_refused (fixture, "signal", g_variant_new ("(ii)", (gint32) getpid (), 0), EPERM);
  assert_refused (fixture, "signal", g_variant_new ("(ii)", other_pid, 0), EPERM);
  g_assert_cmpint (attempt (fixture->strict, "signal", g_variant_new ("(ii)", 0, 0)), ==, EPERM);
  g_assert_cmpint (attempt (fixture->strict, "signal", g_variant_new ("(ii)", -1, 0)), ==, EPERM);
  g_assert_cmpint (attempt (fixture->strict, "ptrace", g_variant_new ("(i)", (gint32) getpid ())),
                   ==, EPERM);
  g_assert_cmpint (attempt (fixture->strict, "ptrace", g_variant_new ("(i)", other_pid)),
                   ==, EPERM);

  g_subprocess_force_exit (other);
  g_subprocess_wait (other, NULL, &error);
  g_assert_no_error (error);
}

typedef struct {
  GVariant *result;
  GError   *error;
  gboolean  done;
} FdCall;

static void
fd_call_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  FdCall *call = user_data;
  g_autoptr(GUnixFDList) fd_list = NULL;

  call->result = wp_pool_call_with_unix_fd_list_finish (WP_POOL (source), &fd_list, result,
                                                        &call->error);
  call->done = TRUE;
}

static void
test_descriptors (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GUnixFDList) fd_list = g_unix_fd_list_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) status = NULL;
  g_autoptr(GVariant) fds = NULL;
  g_autofree char *output = g_build_filename (fixture->tmp_dir, "output", NULL);
  FdCall call = { 0, };
  guint64 core, files;
  gboolean no_new_privs;
  int stray, out_fd;
  gint32 err;

  g_test_summary ("A sandboxed plugin writes to a descriptor it was given, holds no stray "
                  "descriptor of its program's, dumps no core, has a bounded number of "
                  "open files and no new privileges");

  /* A descriptor the program leaves inheritable, as careless ones do:
   * the sandboxed worker, started after it, must not hold it. */
  stray = open ("/dev/null", O_RDONLY);
  g_assert_cmpint (stray, >=, 0);
  /* A number no worker descriptor has otherwise. */
  g_assert_cmpint (dup2 (stray, 100), ==, 100);
  close (stray);
  stray = 100;

  out_fd = open (output, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  g_assert_cmpint (out_fd, >=, 0);
  g_unix_fd_list_append (fd_list, out_fd, &error);
  g_assert_no_error (error);
  close (out_fd);

  wp_pool_call_with_unix_fd_list_async (fixture->strict, "hostile", "write_fd",
                                        g_variant_new ("(h)", 0), fd_list, NULL,
                                        fd_call_done, &call);
  wp_test_wait_until (&call.done);
  g_assert_no_error (call.error);
  g_variant_get (call.result, "(i)", &err);
  g_assert_cmpint (err, ==, 0);
  g_variant_unref (call.result);
  assert_contents (output, "written\n");

  status = wp_test_call (fixture->strict, "hostile", "status", NULL, &error);
  g_assert_no_error (error);
  g_variant_get (status, "(ttb@ai)", &core, &files, &no_new_privs, &fds);
  g_assert_cmpuint (core, ==, 0);
  g_assert_cmpuint (files, <=, 256);
  g_assert_true (no_new_privs);
  for (gsize i = 0; i < g_variant_n_children (fds); i++)
    {
      gint32 fd;

      g_variant_get_child (fds, i, "i", &fd);
      g_assert_cmpint (fd, !=, stray);
    }
  /* stdin, stdout, stderr, control, descriptor socket, requests,
   * replies, and the listing's own. */
  g_assert_cmpuint (g_variant_n_children (fds), <=, 8);

  close (stray);
}

static void
test_ld_debug (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GUnixFDList) fd_list = g_unix_fd_list_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *output = g_build_filename (fixture->tmp_dir, "output", NULL);
  g_autofree char *trace = g_build_filename (fixture->tmp_dir, "trace", NULL);
  WpPool *pool;
  FdCall call = { 0, };
  int out_fd;

  g_test_summary ("A descriptor the dynamic linker writes to (LD_DEBUG_OUTPUT) never lands "
                  "in a job's file: the sandbox points it at /dev/null instead of freeing "
                  "its number");

  /* For the workers the pool starts from now: ld.so opens the trace
   * before main() and keeps writing to it as plugins load. */
  g_setenv ("LD_DEBUG", "libs", TRUE);
  g_setenv ("LD_DEBUG_OUTPUT", trace, TRUE);
  pool = new_pool (WP_SANDBOX_STRICT);

  /* Two descriptors, as a thumbnail job's source and output: the first
   * takes the worker's lowest free number, the second the next, which
   * was the trace's before the sandbox when it freed it. */
  for (int i = 0; i < 2; i++)
    {
      out_fd = open (output, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      g_assert_cmpint (out_fd, >=, 0);
      g_unix_fd_list_append (fd_list, out_fd, &error);
      g_assert_no_error (error);
      close (out_fd);
    }

  /* The hostile plugin loads in this job, after the sandbox: ld.so
   * traces it. */
  wp_pool_call_with_unix_fd_list_async (pool, "hostile", "write_fd", g_variant_new ("(h)", 1),
                                        fd_list, NULL, fd_call_done, &call);
  wp_test_wait_until (&call.done);
  g_unsetenv ("LD_DEBUG");
  g_unsetenv ("LD_DEBUG_OUTPUT");
  g_assert_no_error (call.error);
  g_variant_unref (call.result);
  assert_contents (output, "written\n");
  drop_pool (&pool);
}

static void
test_stats (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(GVariant) open_stats = NULL;
  g_autoptr(GVariant) strict_stats = NULL;
  const char *mechanisms;

  g_test_summary ("The stats say which mechanisms confine the workers");

  attempt (fixture->open, "spawn", g_variant_new ("(s)", "thread"));
  attempt (fixture->strict, "spawn", g_variant_new ("(s)", "thread"));

  open_stats = wp_pool_get_stats (fixture->open);
  g_assert_true (g_variant_lookup (open_stats, "sandbox", "&s", &mechanisms));
  g_assert_cmpstr (mechanisms, ==, "");

  strict_stats = wp_pool_get_stats (fixture->strict);
  g_assert_true (g_variant_lookup (strict_stats, "sandbox", "&s", &mechanisms));
  g_test_message ("sandbox: %s", mechanisms);
  g_assert_true (g_str_has_prefix (mechanisms, "landlock (ABI "));
  g_assert_nonnull (strstr (mechanisms, "seccomp"));
  g_assert_nonnull (strstr (mechanisms, "no-new-privs"));
}

static void
on_notify (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
test_change (Fixture       *fixture,
             gconstpointer  data)
{
  g_autofree char *secret = write_secret (fixture->tmp_dir, "secret");
  guint notified = 0;
  WpSandbox sandbox;

  g_test_summary ("Setting the sandbox property retires workers started under the old setting");

  g_assert_cmpint (attempt (fixture->open, "read", g_variant_new ("(s)", secret)), ==, 0);
  g_signal_connect (fixture->open, "notify::sandbox", G_CALLBACK (on_notify), &notified);
  g_object_set (fixture->open, "sandbox", WP_SANDBOX_STRICT, NULL);
  g_object_get (fixture->open, "sandbox", &sandbox, NULL);
  g_assert_cmpint (sandbox, ==, WP_SANDBOX_STRICT);
  g_assert_cmpuint (notified, ==, 1);
  g_assert_cmpint (attempt (fixture->open, "read", g_variant_new ("(s)", secret)), ==, EACCES);

  wp_pool_set_sandbox (fixture->open, WP_SANDBOX_NONE);
  g_assert_cmpuint (notified, ==, 2);
  g_assert_cmpint (attempt (fixture->open, "read", g_variant_new ("(s)", secret)), ==, 0);
}

/* A strict pool whose workers see the Landlock ABI capped at @abi. */
static WpPool *
new_capped_pool (const char *abi)
{
  WpPool *pool;

  /* Workers take the variable from this process when they start, and
   * the pool starts them when the first job comes. */
  g_setenv ("WORKPOOL_TEST_LANDLOCK_ABI", abi, TRUE);
  pool = new_pool (WP_SANDBOX_STRICT);
  return pool;
}

static void
test_landlock_abi (Fixture       *fixture,
                   gconstpointer  data)
{
  const char *abi = data;
  g_autofree char *secret = write_secret (fixture->tmp_dir, "secret");
  g_autofree char *created = g_build_filename (fixture->tmp_dir, "created", NULL);
  g_autofree char *expected = g_strdup_printf ("landlock (ABI %s), ", abi);
  g_autoptr(GVariant) stats = NULL;
  WpPool *pool = new_capped_pool (abi);
  const char *mechanisms;

  g_test_summary ("With an older kernel's Landlock ABI, secrets stay unread and files "
                  "unwritten");

  g_assert_cmpint (attempt (pool, "read", g_variant_new ("(s)", secret)), ==, EACCES);
  g_assert_cmpint (attempt (pool, "write", g_variant_new ("(s)", created)), ==, EACCES);
  g_assert_false (g_file_test (created, G_FILE_TEST_EXISTS));
  g_assert_cmpint (attempt (pool, "socket", g_variant_new ("(i)", AF_INET)), ==, EPERM);
  /* Before ABI 3 Landlock lets truncate() by path through: seccomp not. */
  g_assert_cmpint (attempt (pool, "truncate", g_variant_new ("(s)", secret)), ==, EPERM);
  assert_contents (secret, "secret\n");
  g_unsetenv ("WORKPOOL_TEST_LANDLOCK_ABI");

  stats = wp_pool_get_stats (pool);
  g_assert_true (g_variant_lookup (stats, "sandbox", "&s", &mechanisms));
  g_assert_true (g_str_has_prefix (mechanisms, expected));
  drop_pool (&pool);
}

static void
test_no_landlock (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autofree char *created = g_build_filename (fixture->tmp_dir, "created", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) describe_error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GVariant) description = NULL;
  WpPool *pool = new_capped_pool ("0");

  g_test_summary ("Without Landlock a strict pool's jobs fail with WP_POOL_ERROR_SANDBOX "
                  "naming it, and no plugin code runs unconfined");

  result = wp_test_call (pool, "hostile", "write", g_variant_new ("(s)", created), &error);
  g_assert_null (result);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_SANDBOX);
  g_assert_nonnull (strstr (error->message, "Landlock"));
  g_assert_false (g_file_test (created, G_FILE_TEST_EXISTS));

  description = wp_test_describe (pool, "hostile", &describe_error);
  g_assert_null (description);
  g_assert_error (describe_error, WP_POOL_ERROR, WP_POOL_ERROR_SANDBOX);
  g_unsetenv ("WORKPOOL_TEST_LANDLOCK_ABI");
  drop_pool (&pool);
}

int
main (int    argc,
      char **argv)
{
  /* Under `meson test --setup strict`: the sandbox tested here is the
   * one users get. */
  g_unsetenv ("WORKPOOL_TEST_SANDBOX_FOLDER");
  wp_test_init (&argc, &argv);

#define ADD(path, func, data) \
  g_test_add ("/sandbox/" path, Fixture, data, fixture_setup, func, fixture_teardown)

  ADD ("read-secrets", test_read_secrets, NULL);
  ADD ("write", test_write, NULL);
  ADD ("sockets", test_sockets, NULL);
  ADD ("connect", test_connect, NULL);
  ADD ("session-bus", test_session_bus, NULL);
  ADD ("processes", test_processes, NULL);
  ADD ("exec", test_exec, NULL);
  ADD ("other-arch", test_other_arch, NULL);
  ADD ("other-processes", test_other_processes, NULL);
  ADD ("descriptors", test_descriptors, NULL);
  ADD ("ld-debug", test_ld_debug, NULL);
  ADD ("stats", test_stats, NULL);
  ADD ("change", test_change, NULL);
  ADD ("landlock-abi/1", test_landlock_abi, "1");
  ADD ("landlock-abi/2", test_landlock_abi, "2");
  ADD ("no-landlock", test_no_landlock, NULL);

#undef ADD

  return g_test_run ();
}
