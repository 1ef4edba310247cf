/* crash.c: a test plugin whose functions end the worker process.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers the ways a worker dies during a job (issue 3): a real invalid
 * memory write (SIGSEGV), abort() (SIGABRT), exit(0) and exit(3) (atexit
 * handlers run), _exit(0) (they do not), and abort() after a line on
 * stderr, which the job's WP_POOL_ERROR_WORKER_CRASHED message must carry.
 * Each function is declared "()" -> "()" and never returns.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

static const WpFunction functions[] = {
  { "segv", "()", "()", segv, "Writes through a NULL pointer (SIGSEGV)" },
  { "abort", "()", "()", do_abort, "Calls abort() (SIGABRT)" },
  { "exit0", "()", "()", exit0, "Calls exit(0)" },
  { "exit3", "()", "()", exit3, "Calls exit(3)" },
  { "quick_exit0", "()", "()", quick_exit0, "Calls _exit(0)" },
  { "stderr_then_abort", "()", "()", stderr_then_abort,
    "Writes \"crash: last words\" to stderr, then calls abort()" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "crash", "1.0", "Ends its worker in many ways", functions,
};

WP_PLUGIN_DEFINE (plugin)
