/* wp-test-faults.c: what the supervision and fault-injection tests share.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See wp-test-faults.h.  As in wp-test-util.c, nothing sleeps to
 * synchronise: a wait iterates the main context until its condition
 * holds, waking itself every 10 ms, and fails the test at its deadline.
 */

#include "wp-test-faults.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/* ---- Timing ---- */

guint
wp_fault_scale (void)
{
  const char *value = g_getenv ("WORKPOOL_TEST_TIMEOUT_SCALE");
  guint64 scale = 1;

  if (value != NULL && !g_ascii_string_to_unsigned (value, 10, 1, 1000, &scale, NULL))
    scale = 1;

  return (guint) scale;
}

gint64
wp_fault_ms_since (gint64 start_us)
{
  return (g_get_monotonic_time () - start_us) / G_TIME_SPAN_MILLISECOND;
}

/* ---- Cancelling ---- */

static gboolean in_cancel;

void
wp_fault_cancel (GCancellable *cancellable)
{
  g_assert_false (in_cancel);
  in_cancel = TRUE;
  g_cancellable_cancel (cancellable);
  in_cancel = FALSE;
}

gboolean
wp_fault_in_cancel (void)
{
  return in_cancel;
}

/* ---- Calls ---- */

static GPtrArray *fault_calls;  /* of WpFaultCall, owned */

static void
fault_call_free (gpointer data)
{
  WpFaultCall *call = data;

  g_free (call->name);
  g_clear_pointer (&call->result, g_variant_unref);
  g_clear_error (&call->error);
  g_free (call);
}

static void
fault_call_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  WpFaultCall *call = user_data;

  if (!call->returned)
    g_error ("callback of %s ran before wp_pool_call_full_async() returned", call->name);
  if (in_cancel)
    g_error ("callback of %s ran from inside g_cancellable_cancel()", call->name);
  if (call->n_callbacks != 0)
    g_error ("callback of %s ran more than once", call->name);

  call->n_callbacks++;
  call->done_time = g_get_monotonic_time ();
  g_assert_true ((WpPool *) source == call->pool);
  if (call->with_fds)
    {
      g_autoptr(GUnixFDList) out_fds = NULL;

      call->result = wp_pool_call_with_unix_fd_list_finish ((WpPool *) source, &out_fds, result,
                                                            &call->error);
    }
  else
    call->result = wp_pool_call_finish ((WpPool *) source, result, &call->error);
  g_assert_true ((call->result == NULL) != (call->error == NULL));

  if (call->hook != NULL)
    call->hook (call, call->hook_data);
}

static WpFaultCall *
fault_call_new (WpPool     *pool,
                const char *plugin,
                const char *function,
                guint       timeout_ms)
{
  WpFaultCall *call = g_new0 (WpFaultCall, 1);

  call->pool = pool;
  call->name = g_strconcat (plugin, ".", function, NULL);
  call->timeout_ms = timeout_ms;

  if (fault_calls == NULL)
    fault_calls = g_ptr_array_new_with_free_func (fault_call_free);
  g_ptr_array_add (fault_calls, call);

  call->start_time = g_get_monotonic_time ();
  return call;
}

WpFaultCall *
wp_fault_call_start (WpPool       *pool,
                     const char   *plugin,
                     const char   *function,
                     GVariant     *args,
                     guint         timeout_ms,
                     GCancellable *cancellable)
{
  WpFaultCall *call = fault_call_new (pool, plugin, function, timeout_ms);

  wp_pool_call_full_async (pool, plugin, function, args, timeout_ms, G_PRIORITY_DEFAULT,
                           cancellable, fault_call_done, call);
  call->returned = TRUE;

  return call;
}

WpFaultCall *
wp_fault_call_start_with_fds (WpPool      *pool,
                              const char  *plugin,
                              const char  *function,
                              GVariant    *args,
                              GUnixFDList *fd_list)
{
  WpFaultCall *call = fault_call_new (pool, plugin, function, 0);

  call->with_fds = TRUE;
  wp_pool_call_with_unix_fd_list_async (pool, plugin, function, args, fd_list, NULL,
                                        fault_call_done, call);
  call->returned = TRUE;

  return call;
}

gboolean
wp_fault_call_is_done (WpFaultCall *call)
{
  return call->n_callbacks > 0;
}

static gboolean
call_is_done (gpointer data)
{
  return wp_fault_call_is_done (data);
}

/* Fails the test unless the callback runs within @timeout_ms (scaled). */
void
wp_fault_call_wait (WpFaultCall *call,
                    guint        timeout_ms)
{
  g_autofree char *what = g_strdup_printf ("the callback of %s", call->name);

  wp_test_wait_until_full (NULL, call_is_done, call, timeout_ms, what);
}

/* How long after @since_us (monotonic µs) the callback ran. */
gint64
wp_fault_call_elapsed_ms (WpFaultCall *call,
                          gint64       since_us)
{
  g_assert_cmpuint (call->n_callbacks, ==, 1);
  return (call->done_time - since_us) / G_TIME_SPAN_MILLISECOND;
}

GVariant *
wp_fault_call_sync (WpPool      *pool,
                    const char  *plugin,
                    const char  *function,
                    GVariant    *args,
                    GError     **error)
{
  WpFaultCall *call = wp_fault_call_start (pool, plugin, function, args, 0, NULL);

  wp_fault_call_wait (call, WP_TEST_TIMEOUT_MS);
  if (call->error != NULL)
    {
      g_propagate_error (error, g_error_copy (call->error));
      return NULL;
    }

  return g_variant_ref (call->result);
}

/* The pid of the worker that runs the next job, through @plugin's
 * "getpid" (echo, sleep and reload have one). */
gint32
wp_fault_get_pid (WpPool     *pool,
                  const char *plugin)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = wp_fault_call_sync (pool, plugin, "getpid", NULL, &error);
  gint32 pid;

  g_assert_no_error (error);
  g_variant_get (result, "(i)", &pid);
  g_assert_cmpint (pid, >, 0);
  return pid;
}

/* The pid a "getpid" call (or mark.append) returned; asserts it did. */
gint32
wp_fault_result_pid (WpFaultCall *call)
{
  gint32 pid;

  g_assert_no_error (call->error);
  g_variant_get (call->result, "(i)", &pid);
  return pid;
}

void
wp_fault_assert_error (WpFaultCall *call,
                       GQuark       domain,
                       gint         code,
                       const char  *substring)
{
  g_assert_cmpuint (call->n_callbacks, ==, 1);
  if (call->error == NULL)
    {
      g_autofree char *text = g_variant_print (call->result, TRUE);

      if (strlen (text) > 200)
        strcpy (text + 190, " …");
      g_error ("%s succeeded with %s; expected an error %s:%d", call->name, text,
               g_quark_to_string (domain), code);
    }
  if (!g_error_matches (call->error, domain, code))
    g_error ("%s failed with %s:%d \"%s\"; expected %s:%d", call->name,
             g_quark_to_string (call->error->domain), call->error->code,
             call->error->message, g_quark_to_string (domain), code);
  if (substring != NULL && strstr (call->error->message, substring) == NULL)
    g_error ("the error of %s, \"%s\", does not contain \"%s\"", call->name,
             call->error->message, substring);
}

void
wp_fault_calls_check (void)
{
  if (fault_calls == NULL)
    return;

  for (guint i = 0; i < fault_calls->len; i++)
    {
      WpFaultCall *call = g_ptr_array_index (fault_calls, i);

      if (call->n_callbacks != 1)
        g_error ("call %u (%s): its callback ran %u times, not once",
                 i, call->name, call->n_callbacks);
    }

  g_clear_pointer (&fault_calls, g_ptr_array_unref);
}

typedef struct {
  WpPool *pool;
} PoolCalls;

static gboolean
pool_calls_done (gpointer data)
{
  PoolCalls *wait = data;

  for (guint i = 0; fault_calls != NULL && i < fault_calls->len; i++)
    {
      WpFaultCall *call = g_ptr_array_index (fault_calls, i);

      if (call->pool == wait->pool && call->n_callbacks == 0)
        return FALSE;
    }

  return TRUE;
}

void
wp_fault_tally_add (WpFaultTally *tally,
                    const GError *error)
{
  tally->submitted++;
  if (error == NULL)
    tally->completed++;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    tally->cancelled++;
  else
    {
      tally->failed++;
      tally->crashed += g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED);
      tally->timed_out += g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_TIMED_OUT);
    }
}

void
wp_fault_tally_assert_stats (const WpFaultTally *tally,
                             WpPool             *pool)
{
  g_assert_cmpuint (wp_test_get_stat (pool, "submitted"), ==, tally->submitted);
  g_assert_cmpuint (wp_test_get_stat (pool, "completed"), ==, tally->completed);
  g_assert_cmpuint (wp_test_get_stat (pool, "failed"), ==, tally->failed);
  g_assert_cmpuint (wp_test_get_stat (pool, "cancelled"), ==, tally->cancelled);
  g_assert_cmpuint (wp_test_get_stat (pool, "crashed"), ==, tally->crashed);
  g_assert_cmpuint (wp_test_get_stat (pool, "timed-out"), ==, tally->timed_out);
  g_assert_cmpuint (wp_test_get_stat (pool, "queued"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (pool, "running"), ==, 0);
  wp_test_assert_stats_balance (pool);
}

void
wp_fault_assert_stats_agree (WpPool *pool)
{
  PoolCalls wait = { pool };
  WpFaultTally tally = { 0 };

  wp_test_wait_until_full (NULL, pool_calls_done, &wait, WP_TEST_TIMEOUT_MS,
                           "every recorded call of the pool to call back");

  for (guint i = 0; fault_calls != NULL && i < fault_calls->len; i++)
    {
      WpFaultCall *call = g_ptr_array_index (fault_calls, i);

      if (call->pool == pool)
        wp_fault_tally_add (&tally, call->error);
    }

  wp_fault_tally_assert_stats (&tally, pool);
}

/* ---- Processes ---- */

/* The state letter of /proc/PID/stat, or 0 if there is no such process. */
static char
process_state (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *contents = NULL;
  const char *paren;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;

  /* "PID (COMM) S …"; COMM may itself contain ')' */
  paren = strrchr (contents, ')');
  if (paren == NULL || paren[1] != ' ' || paren[2] == '\0')
    return '?';
  return paren[2];
}

gboolean
wp_fault_pid_is_gone (int pid)
{
  char state;

  if (kill (pid, 0) != 0 && errno == ESRCH)
    return TRUE;

  state = process_state (pid);
  return state == 0 || state == 'Z' || state == 'X';
}

static gboolean
pid_is_gone (gpointer data)
{
  return wp_fault_pid_is_gone (GPOINTER_TO_INT (data));
}

void
wp_fault_wait_pid_gone (int   pid,
                        guint timeout_ms)
{
  g_autofree char *what = g_strdup_printf ("process %d to be gone", pid);

  wp_test_wait_until_full (NULL, pid_is_gone, GINT_TO_POINTER (pid), timeout_ms, what);
}

/* The number of the system call the main thread of @pid is blocked in,
 * or -1 if it is running or gone. */
static long
blocked_syscall (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/task/%d/syscall", pid, pid);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  char *end;
  long nr;

  if (!g_file_get_contents (path, &contents, NULL, &error))
    {
      /* Gone is an answer; not being allowed to look is not. */
      if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_ACCES)
          || g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_PERM))
        g_error ("cannot read %s (%s): these tests need to see which system call a "
                 "worker (a child process) waits in; is kernel.yama.ptrace_scope above 1?",
                 path, error->message);
      return -1;
    }

  /* "NR arg1 … sp pc" while in a system call, "running" or "-1 …"
   * otherwise. */
  nr = strtol (contents, &end, 10);
  return end == contents ? -1 : nr;
}

gboolean
wp_fault_pid_in_poll (int pid)
{
  long nr = blocked_syscall (pid);

#ifdef SYS_poll
  if (nr == SYS_poll)
    return TRUE;
#endif
  return nr == SYS_ppoll;
}

gboolean
wp_fault_pid_in_read (int pid)
{
  long nr = blocked_syscall (pid);

  return nr == SYS_read || nr == SYS_readv;
}

static gboolean
pid_in_poll (gpointer data)
{
  return wp_fault_pid_in_poll (GPOINTER_TO_INT (data));
}

void
wp_fault_wait_pid_in_poll (int   pid,
                           guint timeout_ms)
{
  g_autofree char *what = g_strdup_printf ("worker %d to block in poll()", pid);

  wp_test_wait_until_full (NULL, pid_in_poll, GINT_TO_POINTER (pid), timeout_ms, what);
}

static gboolean
pid_in_read (gpointer data)
{
  return wp_fault_pid_in_read (GPOINTER_TO_INT (data));
}

void
wp_fault_wait_pid_in_read (int   pid,
                           guint timeout_ms)
{
  g_autofree char *what = g_strdup_printf ("worker %d to block in read()", pid);

  wp_test_wait_until_full (NULL, pid_in_read, GINT_TO_POINTER (pid), timeout_ms, what);
}

/* ---- Fixtures and arguments ---- */

void
wp_fault_fixture_teardown (WpTestFixture *fixture,
                           gconstpointer  data)
{
  if (fixture->pool != NULL)
    wp_fault_assert_stats_agree (fixture->pool);

  wp_test_fixture_teardown (fixture, data);
  wp_fault_calls_check ();
}

GVariant *
wp_fault_ms_args (guint32 ms)
{
  return g_variant_new ("(u)", ms);
}
