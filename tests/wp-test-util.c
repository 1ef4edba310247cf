/* wp-test-util.c: what the workpool tests share.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See wp-test-util.h.  Nothing here sleeps to synchronise: a wait iterates
 * a main context until its condition holds.  Some conditions change
 * without waking the context (a child reaped by GLib's worker thread, an
 * fd closed there), so each wait also wakes itself every 10 ms to check;
 * the deadline only exists to turn a hang into a failure.
 */

#include "wp-test-util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* ---- Set-up ---- */

static char *plugin_dir;

void
wp_test_init (int    *argc,
              char ***argv)
{
  g_test_init (argc, argv, NULL);

  /* `meson test` sets these; running a test binary by hand from the build
   * tree works too. */
  if (g_getenv ("WORKPOOL_WORKER") == NULL)
    {
      g_autofree char *worker = g_test_build_filename (G_TEST_BUILT, "..", "host", "worker",
                                                       "workpool-worker", NULL);
      g_setenv ("WORKPOOL_WORKER", worker, TRUE);
    }

  if (g_getenv ("WORKPOOL_TEST_PLUGIN_DIR") != NULL)
    plugin_dir = g_strdup (g_getenv ("WORKPOOL_TEST_PLUGIN_DIR"));
  else
    plugin_dir = g_test_build_filename (G_TEST_BUILT, "plugins", NULL);

  if (g_getenv ("WORKPOOL_PLUGIN_DIR") == NULL)
    g_setenv ("WORKPOOL_PLUGIN_DIR", plugin_dir, TRUE);
}

const char *
wp_test_plugin_dir (void)
{
  g_assert_nonnull (plugin_dir);
  return plugin_dir;
}

char *
wp_test_plugin_path (const char *plugin)
{
  g_autofree char *file_name = g_strconcat (plugin, ".so", NULL);

  return g_build_filename (wp_test_plugin_dir (), file_name, NULL);
}

/* ---- Waiting ---- */

static guint
timeout_scale (void)
{
  const char *value = g_getenv ("WORKPOOL_TEST_TIMEOUT_SCALE");
  guint64 scale = 1;

  if (value != NULL && !g_ascii_string_to_unsigned (value, 10, 1, 1000, &scale, NULL))
    scale = 1;

  return (guint) scale;
}

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Returns whether @condition came true before the deadline. */
static gboolean
wait_until (GMainContext    *context,
            WpTestCondition  condition,
            gpointer         data,
            guint            timeout_ms)
{
  g_autoptr(GMainContext) ctx = NULL;
  g_autoptr(GSource) ticker = NULL;
  gint64 deadline;
  gboolean reached;

  ctx = context != NULL ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  deadline = g_get_monotonic_time ()
             + (gint64) timeout_ms * timeout_scale () * G_TIME_SPAN_MILLISECOND;

  ticker = g_timeout_source_new (10);
  g_source_set_callback (ticker, tick, NULL, NULL);
  g_source_attach (ticker, ctx);

  while (!(reached = condition (data)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (ctx, TRUE);

  g_source_destroy (ticker);
  return reached;
}

void
wp_test_wait_until_full (GMainContext    *context,
                         WpTestCondition  condition,
                         gpointer         data,
                         guint            timeout_ms,
                         const char      *what)
{
  if (!wait_until (context, condition, data, timeout_ms))
    g_error ("timed out after %u ms waiting for %s", timeout_ms * timeout_scale (), what);
}

static gboolean
flag_is_set (gpointer data)
{
  return *(gboolean *) data;
}

void
wp_test_wait_for_flag (gboolean   *flag,
                       const char *what)
{
  wp_test_wait_until_full (NULL, flag_is_set, flag, WP_TEST_TIMEOUT_MS, what);
}

/* ---- Calls ---- */

static GPtrArray *calls;   /* of WpTestCall, owned */
static guint callback_seq;

static void
call_free (gpointer data)
{
  WpTestCall *call = data;

  g_free (call->plugin);
  g_free (call->function);
  g_clear_pointer (&call->result, g_variant_unref);
  g_clear_error (&call->error);
  g_free (call);
}

static void
call_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  WpTestCall *call = user_data;
  GSource *current = g_main_current_source ();

  if (!call->returned)
    g_error ("callback of %s.%s ran before wp_pool_call_async() returned",
             call->plugin, call->function);
  if (call->n_callbacks != 0)
    g_error ("callback of %s.%s ran more than once", call->plugin, call->function);

  call->n_callbacks++;
  call->seq = ++callback_seq;
  call->context = current != NULL ? g_source_get_context (current) : NULL;

  /* GIO convention: finish with the source object the callback got. */
  call->result = wp_pool_call_finish ((WpPool *) source, result, &call->error);
  g_assert_true ((call->result == NULL) != (call->error == NULL));
  if (call->result != NULL)
    g_assert_false (g_variant_is_floating (call->result));
}

WpTestCall *
wp_test_call_start (WpPool       *pool,
                    const char   *plugin,
                    const char   *function,
                    GVariant     *args,
                    GCancellable *cancellable)
{
  WpTestCall *call = g_new0 (WpTestCall, 1);

  call->pool = pool;
  call->plugin = g_strdup (plugin);
  call->function = g_strdup (function);

  if (calls == NULL)
    calls = g_ptr_array_new_with_free_func (call_free);
  g_ptr_array_add (calls, call);

  wp_pool_call_async (pool, plugin, function, args, cancellable, call_done, call);
  call->returned = TRUE;

  return call;
}

static gboolean
call_is_done (gpointer data)
{
  return ((WpTestCall *) data)->n_callbacks > 0;
}

void
wp_test_call_wait_in (GMainContext *context,
                      WpTestCall   *call)
{
  g_autofree char *what = g_strdup_printf ("the callback of %s.%s", call->plugin, call->function);

  wp_test_wait_until_full (context, call_is_done, call, WP_TEST_TIMEOUT_MS, what);
}

void
wp_test_call_wait (WpTestCall *call)
{
  wp_test_call_wait_in (NULL, call);
}

typedef struct {
  WpTestCall **calls;
  guint        n_calls;
  guint        next;      /* every call before it is done */
} CallsWait;

static gboolean
calls_are_done (gpointer data)
{
  CallsWait *wait = data;

  while (wait->next < wait->n_calls && wait->calls[wait->next]->n_callbacks > 0)
    wait->next++;

  return wait->next == wait->n_calls;
}

void
wp_test_calls_wait (WpTestCall **calls_,
                    guint        n_calls)
{
  CallsWait wait = { calls_, n_calls, 0 };
  g_autofree char *what = g_strdup_printf ("the callbacks of %u calls", n_calls);

  wp_test_wait_until_full (NULL, calls_are_done, &wait, WP_TEST_TIMEOUT_MS, what);
}

GVariant *
wp_test_call (WpPool      *pool,
              const char  *plugin,
              const char  *function,
              GVariant    *args,
              GError     **error)
{
  WpTestCall *call = wp_test_call_start (pool, plugin, function, args, NULL);

  wp_test_call_wait (call);

  if (call->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&call->error));
      return NULL;
    }

  return g_variant_ref (call->result);
}

guint
wp_test_calls_started (void)
{
  return calls != NULL ? calls->len : 0;
}

void
wp_test_calls_check (void)
{
  if (calls == NULL)
    return;

  for (guint i = 0; i < calls->len; i++)
    {
      WpTestCall *call = g_ptr_array_index (calls, i);

      if (call->n_callbacks != 1)
        g_error ("call %u (%s.%s): its callback ran %u times, not once",
                 i, call->plugin, call->function, call->n_callbacks);
    }

  g_clear_pointer (&calls, g_ptr_array_unref);
  callback_seq = 0;
}

typedef struct {
  gboolean  returned;
  guint     n_callbacks;
  gboolean  done;
  gboolean  ok;
  GVariant *result;
  GError   *error;
} AsyncOp;

static void
describe_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  AsyncOp *op = user_data;

  g_assert_true (op->returned);
  g_assert_cmpuint (op->n_callbacks, ==, 0);
  op->n_callbacks++;
  op->done = TRUE;

  op->result = wp_pool_describe_finish ((WpPool *) source, result, &op->error);
  g_assert_true ((op->result == NULL) != (op->error == NULL));
}

GVariant *
wp_test_describe (WpPool      *pool,
                  const char  *plugin,
                  GError     **error)
{
  AsyncOp op = { 0 };

  wp_pool_describe_async (pool, plugin, NULL, describe_done, &op);
  op.returned = TRUE;

  wp_test_wait_until (&op.done);

  if (op.error != NULL)
    {
      g_propagate_error (error, op.error);
      return NULL;
    }

  return op.result;
}

static void
close_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  AsyncOp *op = user_data;

  g_assert_true (op->returned);
  g_assert_cmpuint (op->n_callbacks, ==, 0);
  op->n_callbacks++;
  op->done = TRUE;

  op->ok = wp_pool_close_finish ((WpPool *) source, result, &op->error);
}

void
wp_test_close (WpPool *pool)
{
  AsyncOp op = { 0 };

  wp_pool_close_async (pool, NULL, close_done, &op);
  op.returned = TRUE;

  wp_test_wait_until (&op.done);
  g_assert_no_error (op.error);
  g_assert_true (op.ok);
}

static void
set_flag (gpointer data)
{
  *(gboolean *) data = TRUE;
}

/* Object data, not a weak pointer: weak pointers are cleared at dispose,
 * object data only at finalize. */
void
wp_test_watch_finalize (WpPool   *pool,
                        gboolean *flag)
{
  *flag = FALSE;
  g_object_set_data_full (G_OBJECT (pool), "wp-test-finalized", flag, set_flag);
}

void
wp_test_assert_variant (GVariant *actual,
                        GVariant *expected)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (expected);

  g_assert_nonnull (actual);
  g_assert_cmpvariant (actual, owned);
}

/* ---- Stats ---- */

guint64
wp_test_get_stat (WpPool     *pool,
                  const char *key)
{
  g_autoptr(GVariant) stats = g_variant_take_ref (wp_pool_get_stats (pool));
  g_autoptr(GVariant) value = NULL;

  g_assert_true (g_variant_is_of_type (stats, G_VARIANT_TYPE_VARDICT));
  value = g_variant_lookup_value (stats, key, NULL);
  if (value == NULL)
    g_error ("stats have no \"%s\"", key);
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    g_error ("stats \"%s\" is of type %s, not t", key, g_variant_get_type_string (value));

  return g_variant_get_uint64 (value);
}

typedef struct {
  WpPool     *pool;
  const char *key;
  guint64     value;
} StatWait;

static gboolean
stat_reached (gpointer data)
{
  StatWait *wait = data;

  return wp_test_get_stat (wait->pool, wait->key) == wait->value;
}

void
wp_test_wait_stat (WpPool     *pool,
                   const char *key,
                   guint64     value)
{
  StatWait wait = { pool, key, value };
  g_autofree char *what = g_strdup_printf ("stats \"%s\" to be %" G_GUINT64_FORMAT, key, value);

  wp_test_wait_until_full (NULL, stat_reached, &wait, WP_TEST_TIMEOUT_MS, what);
}

void
wp_test_assert_stats_balance (WpPool *pool)
{
  g_assert_cmpuint (wp_test_get_stat (pool, "submitted"), ==,
                    wp_test_get_stat (pool, "completed")
                    + wp_test_get_stat (pool, "failed")
                    + wp_test_get_stat (pool, "cancelled")
                    + wp_test_get_stat (pool, "queued")
                    + wp_test_get_stat (pool, "running"));
}

/* ---- The fixture ---- */

void
wp_test_fixture_setup (WpTestFixture *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint n_workers = data != NULL ? GPOINTER_TO_UINT (data) : 2;

  fixture->tmp_dir = NULL;
  fixture->pool = wp_pool_new (wp_test_plugin_dir (), n_workers, &error);
  g_assert_no_error (error);
  g_assert_true (WP_IS_POOL (fixture->pool));
}

void
wp_test_fixture_setup_tmp (WpTestFixture *fixture,
                           gconstpointer  data)
{
  fixture->pool = NULL;
  fixture->tmp_dir = wp_test_make_tmp_dir ();
}

void
wp_test_fixture_teardown (WpTestFixture *fixture,
                          gconstpointer  data)
{
  if (fixture->pool != NULL)
    {
      gboolean finalized;

      wp_test_close (fixture->pool);
      wp_test_watch_finalize (fixture->pool, &finalized);
      g_clear_object (&fixture->pool);
      wp_test_wait_until (&finalized);
    }

  wp_test_calls_check ();
  wp_test_assert_no_children ();

  if (fixture->tmp_dir != NULL)
    {
      wp_test_remove_tree (fixture->tmp_dir);
      g_clear_pointer (&fixture->tmp_dir, g_free);
    }
}

/* ---- Plugin directories ---- */

char *
wp_test_make_tmp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("workpool-test-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

void
wp_test_copy_plugin (const char *plugin,
                     const char *dir,
                     const char *file_name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *from = wp_test_plugin_path (plugin);
  g_autofree char *to = g_build_filename (dir, file_name, NULL);
  g_autofree char *contents = NULL;
  gsize size;

  g_file_get_contents (from, &contents, &size, &error);
  g_assert_no_error (error);
  /* Written to a temporary file and renamed: the plugin appears whole.
   * Mode 0755 whatever the umask: the worker refuses a plugin that its
   * group or others may write (wp-plugin-trust.c), and 0666 minus a
   * umask of 002 would be one. */
  g_file_set_contents_full (to, contents, (gssize) size, G_FILE_SET_CONTENTS_CONSISTENT,
                            0755, &error);
  g_assert_no_error (error);
}

void
wp_test_write_file (const char *dir,
                    const char *file_name,
                    const char *contents)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, file_name, NULL);

  /* 0644 whatever the umask, like wp_test_copy_plugin(). */
  g_file_set_contents_full (path, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error);
  g_assert_no_error (error);
}

void
wp_test_remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          wp_test_remove_tree (child);
        }

      g_assert_cmpint (g_rmdir (path), ==, 0);
    }
  else
    {
      g_assert_cmpint (g_unlink (path), ==, 0);
    }
}

/* ---- Processes and file descriptors ---- */

guint
wp_test_count_fds (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, &error);
  guint n = 0;

  g_assert_no_error (error);
  while (g_dir_read_name (dir) != NULL)
    n++;

  /* The directory listing's own descriptor is in the list. */
  g_assert_cmpuint (n, >, 0);
  return n - 1;
}

static char *
describe_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  GString *out = g_string_new ("open fds:");
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      g_string_append_printf (out, " %s->%s", name, target != NULL ? target : "?");
    }

  return g_string_free (out, FALSE);
}

void
wp_test_assert_fds (guint expected)
{
  guint n = wp_test_count_fds ();

  if (n != expected)
    {
      g_autofree char *fds = describe_fds ();
      g_test_message ("%s", fds);
    }
  g_assert_cmpuint (n, ==, expected);
}

static gboolean
fds_are (gpointer data)
{
  return wp_test_count_fds () == GPOINTER_TO_UINT (data);
}

/* For when the last descriptors are closed in GLib's worker thread (a
 * GSubprocess finalized after its child watch ran): bounded by 5 s. */
void
wp_test_wait_fds (guint expected)
{
  wait_until (NULL, fds_are, GUINT_TO_POINTER (expected), 5000);
  wp_test_assert_fds (expected);
}

typedef struct {
  int  pid;
  char state;
} ChildInfo;

/* Our children, from /proc: every process whose PPid is ours. */
static GArray *
list_children (void)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  GArray *children = g_array_new (FALSE, FALSE, sizeof (ChildInfo));
  int self = getpid ();
  const char *name;

  g_assert_nonnull (proc);
  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *status = NULL;
      g_auto(GStrv) lines = NULL;
      ChildInfo info = { 0, '?' };
      int ppid = -1;

      if (!g_ascii_isdigit (name[0]))
        continue;

      path = g_build_filename ("/proc", name, "status", NULL);
      if (!g_file_get_contents (path, &status, NULL, NULL))
        continue;  /* it went away meanwhile */

      lines = g_strsplit (status, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          if (g_str_has_prefix (lines[i], "PPid:"))
            ppid = atoi (lines[i] + strlen ("PPid:"));
          else if (g_str_has_prefix (lines[i], "State:"))
            info.state = *g_strchug (lines[i] + strlen ("State:"));
        }

      if (ppid == self)
        {
          info.pid = atoi (name);
          g_array_append_val (children, info);
        }
    }

  return children;
}

static char *
describe_children (GArray *children)
{
  GString *out = g_string_new ("children:");

  for (guint i = 0; i < children->len; i++)
    {
      ChildInfo *info = &g_array_index (children, ChildInfo, i);
      g_string_append_printf (out, " %d (%c)", info->pid, info->state);
    }

  return g_string_free (out, FALSE);
}

guint
wp_test_count_children (void)
{
  g_autoptr(GArray) children = list_children ();

  return children->len;
}

GArray *
wp_test_list_zombies (void)
{
  g_autoptr(GArray) children = list_children ();
  GArray *zombies = g_array_new (FALSE, FALSE, sizeof (int));

  for (guint i = 0; i < children->len; i++)
    {
      ChildInfo *info = &g_array_index (children, ChildInfo, i);

      if (info->state == 'Z')
        g_array_append_val (zombies, info->pid);
    }

  return zombies;
}

void
wp_test_assert_no_zombies (void)
{
  g_autoptr(GArray) children = list_children ();
  siginfo_t info;

  /* A child that has exited and not been reaped; WNOWAIT leaves it be. */
  memset (&info, 0, sizeof info);
  if (waitid (P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0)
    {
      if (info.si_pid != 0)
        {
          g_autofree char *path = g_strdup_printf ("/proc/%d/comm", (int) info.si_pid);
          g_autofree char *comm = NULL;

          g_file_get_contents (path, &comm, NULL, NULL);
          g_error ("child %d (%s) has exited (code %d, status %d) and was not reaped",
                   (int) info.si_pid, comm != NULL ? g_strstrip (comm) : "?", info.si_code,
                   info.si_status);
        }
    }
  else
    {
      g_assert_cmpint (errno, ==, ECHILD);
    }

  for (guint i = 0; i < children->len; i++)
    if (g_array_index (children, ChildInfo, i).state == 'Z')
      {
        g_autofree char *text = describe_children (children);
        g_error ("zombie child process: %s", text);
      }
}

void
wp_test_assert_no_children (void)
{
  g_autoptr(GArray) children = list_children ();
  siginfo_t info;
  int saved_errno;
  int r;

  wp_test_assert_no_zombies ();

  if (children->len > 0)
    {
      g_autofree char *text = describe_children (children);
      g_error ("child processes left: %s", text);
    }

  memset (&info, 0, sizeof info);
  r = waitid (P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT);
  saved_errno = errno;
  g_assert_cmpint (r, ==, -1);
  g_assert_cmpint (saved_errno, ==, ECHILD);
}

static gboolean
no_children (gpointer data)
{
  siginfo_t info;

  memset (&info, 0, sizeof info);
  return waitid (P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == -1 && errno == ECHILD;
}

/* For a pool disposed without closing: its workers are killed at once
 * but reaped by GLib's worker thread a little later. */
void
wp_test_wait_no_children (void)
{
  wp_test_wait_until_full (NULL, no_children, NULL, 5000, "every child process to be reaped");
  wp_test_assert_no_children ();
}

static gboolean
no_pidfds (gpointer data)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      if (target != NULL && strcmp (target, "anon_inode:[pidfd]") == 0)
        return FALSE;
    }

  return TRUE;
}

/* Runs a pool through its whole life once, so that what GLib sets up once
 * per process (its worker thread and wake-up descriptors, the SIGCHLD
 * handler) exists before a test counts file descriptors.  GLib watches a
 * child through a pidfd, which its worker thread closes a moment after the
 * child is reaped: with no child left, wait for those to go too, so that
 * the count taken next is not inflated by them. */
void
wp_test_warm_up (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = wp_pool_new (wp_test_plugin_dir (), 1, &error);
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GVariant) description = NULL;

  g_assert_no_error (error);

  result = wp_test_call (pool, "echo", "noop", NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, g_variant_unref);

  result = wp_test_call (pool, "arith", "fail", g_variant_new ("(s)", "warm-up"), &error);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);

  description = wp_test_describe (pool, "echo", &error);
  g_assert_no_error (error);

  wp_test_close (pool);
  g_clear_object (&pool);
  wp_test_calls_check ();
  wp_test_wait_no_children ();
  wp_test_wait_until_full (NULL, no_pidfds, NULL, 5000, "GLib to close its pidfds");
}
