/* crash.c: a test plugin whose functions end the worker process.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers the ways a worker dies during a job: a real invalid
 * memory write (SIGSEGV), abort() (SIGABRT), exit(0) and exit(3) (atexit
 * handlers run), _exit(0) (they do not), and abort() after a line on
 * stderr, which the job's WP_POOL_ERROR_WORKER_CRASHED message must carry.
 * Each function is declared "()" -> "()" and never returns, but
 * traced_sigkill, "(s)" -> "()": a SIGKILL while a child of the worker
 * traces it (see there), which returns an error only if it cannot trace.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <workpool/wp-plugin.h>

/* Read through a volatile object, so the compiler cannot see that the
 * pointer is NULL and cannot replace the write with a trap instruction
 * (which would be SIGILL, not SIGSEGV). */
static int *volatile null_pointer = NULL;

/* No UBSan null check: under -fsanitize=undefined the write must still
 * be the SIGSEGV this function exists for, not a sanitizer report. */
__attribute__ ((no_sanitize ("null")))
static GVariant *
segv (GVariant      *args,
      GCancellable  *cancellable,
      GError       **error)
{
  *null_pointer = 42;
  raise (SIGSEGV);  /* not reached unless page 0 is mapped */
  return NULL;
}

static GVariant *
do_abort (GVariant      *args,
          GCancellable  *cancellable,
          GError       **error)
{
  abort ();
}

static GVariant *
exit0 (GVariant      *args,
       GCancellable  *cancellable,
       GError       **error)
{
  exit (0);
}

static GVariant *
exit3 (GVariant      *args,
       GCancellable  *cancellable,
       GError       **error)
{
  exit (3);
}

static GVariant *
quick_exit0 (GVariant      *args,
             GCancellable  *cancellable,
             GError       **error)
{
  _exit (0);
}

static GVariant *
stderr_then_abort (GVariant      *args,
                   GCancellable  *cancellable,
                   GError       **error)
{
  fprintf (stderr, "crash: last words\n");
  fflush (stderr);
  abort ();
}

/* The tracer, in a child of the worker: attaches to the worker, writes
 * its own pid to @pid_file, says so on @ready, and holds the worker (dead
 * or alive) until it is killed, or for a minute.  No GLib here: the
 * worker has threads, and this is a forked copy of one. */
static void G_GNUC_NORETURN
trace_worker (pid_t       worker,
              const char *pid_file,
              int         ready)
{
  char text[32];
  int fd, length;

  alarm (60);
  if (ptrace (PTRACE_ATTACH, worker, NULL, NULL) != 0
      || waitpid (worker, NULL, __WALL) != worker
      || ptrace (PTRACE_CONT, worker, NULL, NULL) != 0)
    _exit (1);

  length = snprintf (text, sizeof text, "%d", (int) getpid ());
  fd = open (pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || write (fd, text, length) != length || close (fd) != 0
      || write (ready, "x", 1) != 1)
    _exit (1);

  for (;;)
    pause ();
}

/* Dies by SIGKILL while traced by a child of its own, as LeakSanitizer
 * traces a process at its exit: until the tracer lets go, the host is
 * told the worker is dead (its pidfd) but cannot reap it. */
static GVariant *
traced_sigkill (GVariant      *args,
                GCancellable  *cancellable,
                GError       **error)
{
  const char *pid_file;
  pid_t worker = getpid ();
  pid_t tracer;
  int ready[2];
  char byte;
  ssize_t n;

  g_variant_get (args, "(&s)", &pid_file);
  if (pipe (ready) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "pipe: %s", g_strerror (errno));
      return NULL;
    }

  /* Yama lets a process trace only its descendants, unless told. */
  prctl (PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
  tracer = fork ();
  if (tracer == 0)
    trace_worker (worker, pid_file, ready[1]);

  close (ready[1]);
  do
    n = read (ready[0], &byte, 1);
  while (n < 0 && errno == EINTR);
  close (ready[0]);

  if (tracer < 0 || n != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "The worker cannot be traced here (ptrace refused)");
      return NULL;
    }

  kill (worker, SIGKILL);
  for (;;)
    pause ();
}

static const WpFunction functions[] = {
  { "segv", "()", "()", segv, "Writes through a NULL pointer (SIGSEGV)" },
  { "abort", "()", "()", do_abort, "Calls abort() (SIGABRT)" },
  { "exit0", "()", "()", exit0, "Calls exit(0)" },
  { "exit3", "()", "()", exit3, "Calls exit(3)" },
  { "quick_exit0", "()", "()", quick_exit0, "Calls _exit(0)" },
  { "stderr_then_abort", "()", "()", stderr_then_abort,
    "Writes \"crash: last words\" to stderr, then calls abort()" },
  { "traced_sigkill", "(s)", "()", traced_sigkill,
    "Is killed by SIGKILL while a child traces it; the child's pid goes to the file named" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "crash", "1.0", "Ends its worker in many ways", functions,
};

WP_PLUGIN_DEFINE (plugin)
