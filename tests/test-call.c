/* test-call.c: creating a pool, and calling functions in it.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers wp_pool_new() (lazy workers, n_workers 0, a missing plugin
 * directory, NULL for $WORKPOOL_PLUGIN_DIR), results of
 * wp_pool_call_async() (any value, large byte arrays, NULL args as the
 * empty tuple, floating args sunk), many more concurrent jobs than
 * workers, FIFO order, at most n_workers processes, where and when
 * callbacks run, and wp_pool_call_sync() from the pool's thread and from
 * other threads.
 */

#include <unistd.h>

#include "wp-test-util.h"

/* ---- Creating ---- */

static void
test_new_lazy_workers (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = NULL;

  g_test_summary ("wp_pool_new() starts no worker: workers start when jobs come");

  pool = wp_pool_new (wp_test_plugin_dir (), 3, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (wp_pool_get_n_workers (pool), ==, 3);
  g_assert_cmpuint (wp_test_get_stat (pool, "spawned"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (pool, "workers"), ==, 0);
  g_assert_cmpuint (wp_test_count_children (), ==, 0);

  wp_test_close (pool);
  wp_test_assert_no_children ();
}

static void
test_new_default_n_workers (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = NULL;

  g_test_summary ("n_workers 0 means the number of processors");

  pool = wp_pool_new (wp_test_plugin_dir (), 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (wp_pool_get_n_workers (pool), ==, g_get_num_processors ());

  wp_test_close (pool);
}

static void
test_new_missing_dir (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = wp_test_make_tmp_dir ();
  g_autofree char *missing = g_build_filename (tmp, "missing", NULL);
  WpPool *pool;

  g_test_summary ("A plugin directory that does not exist is G_IO_ERROR_NOT_FOUND");

  pool = wp_pool_new (missing, 2, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_null (pool);

  wp_test_remove_tree (tmp);
}

static void
test_new_plugin_dir_from_env (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = NULL;
  g_autoptr(GVariant) result = NULL;
  g_auto(GStrv) plugins = NULL;

  g_test_summary ("plugin_dir NULL means $WORKPOOL_PLUGIN_DIR");

  /* The test environment points $WORKPOOL_PLUGIN_DIR at the test plugins. */
  g_assert_cmpstr (g_getenv ("WORKPOOL_PLUGIN_DIR"), ==, wp_test_plugin_dir ());

  pool = wp_pool_new (NULL, 1, &error);
  g_assert_no_error (error);

  plugins = wp_pool_list_plugins (pool);
  g_assert_true (g_strv_contains ((const char * const *) plugins, "badresult"));

  result = wp_test_call (pool, "arith", "add", g_variant_new ("(ii)", 40, 2), &error);
  g_assert_no_error (error);
  wp_test_assert_variant (result, g_variant_new ("(i)", 42));

  wp_test_close (pool);
  wp_test_calls_check ();
}

/* ---- Results ---- */

static void
test_call_echo (WpTestFixture *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) args = NULL;
  g_autoptr(GVariant) result = NULL;

  g_test_summary ("A value of any type goes to the worker and comes back unchanged");

  args = g_variant_ref_sink (g_variant_new_parsed (
      "(<{'text': <'h\u00e9llo, w\u00f6rld'>, 'tuple': <(int16 -1, uint64 18446744073709551615, 2.5)>,"
      "   'maybe': <@ms nothing>, 'bytes': <[byte 0x61, 0x00, 0x62]>, 'nested': <<<[1, 2, 3]>>>}>,)"));

  result = wp_test_call (fixture->pool, "echo", "echo", args, &error);
  g_assert_no_error (error);
  g_assert_cmpvariant (result, args);
}

static void
test_call_echo_bytes (WpTestFixture *fixture,
                      gconstpointer  data)
{
  g_test_summary ("Byte arrays much larger than a pipe buffer, and empty ones, come back unchanged");

  for (gsize size = 0; size <= 4 * 1024 * 1024; size = size == 0 ? 1 : size * 16)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) result = NULL;
      g_autoptr(GVariant) args = NULL;
      g_autofree guint8 *bytes = g_malloc (size + 3);

      for (gsize i = 0; i < size + 3; i++)
        bytes[i] = (guint8) (i * 7 + size);

      args = g_variant_ref_sink (g_variant_new ("(@ay)",
          g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, bytes, size + 3, 1)));
      result = wp_test_call (fixture->pool, "echo", "echo_bytes", args, &error);
      g_assert_no_error (error);
      g_assert_cmpvariant (result, args);
    }
}

static void
test_call_add (WpTestFixture *fixture,
               gconstpointer  data)
{
  static const gint32 cases[][3] = {
    { 2, 3, 5 },
    { -7, 7, 0 },
    { G_MININT32, G_MAXINT32, -1 },
    { 0, 0, 0 },
  };

  g_test_summary ("A function's result is computed from its arguments");

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) result = NULL;

      result = wp_test_call (fixture->pool, "arith", "add",
                             g_variant_new ("(ii)", cases[i][0], cases[i][1]), &error);
      g_assert_no_error (error);
      wp_test_assert_variant (result, g_variant_new ("(i)", cases[i][2]));
    }
}

static void
test_call_null_args (WpTestFixture *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  gint32 pid;

  g_test_summary ("args NULL means the empty tuple");

  result = wp_test_call (fixture->pool, "echo", "noop", NULL, &error);
  g_assert_no_error (error);
  wp_test_assert_variant (result, g_variant_new ("()"));
  g_clear_pointer (&result, g_variant_unref);

  result = wp_test_call (fixture->pool, "echo", "getpid", NULL, &error);
  g_assert_no_error (error);
  g_variant_get (result, "(i)", &pid);
  g_assert_cmpint (pid, >, 0);
  g_assert_cmpint (pid, !=, getpid ());
}

static void
test_call_floating_args (WpTestFixture *fixture,
                         gconstpointer  data)
{
  GVariant *args;
  WpTestCall *ok;
  WpTestCall *refused;

  g_test_summary ("A floating args is sunk by wp_pool_call_async(), also when the call fails at once");

  /* Our extra reference keeps the value alive to look at; if the pool
   * sinks the floating one, the value is no longer floating. */
  args = g_variant_ref (g_variant_new ("(v)", g_variant_new_string ("floating")));
  g_assert_true (g_variant_is_floating (args));
  ok = wp_test_call_start (fixture->pool, "echo", "echo", args, NULL);
  g_assert_false (g_variant_is_floating (args));
  wp_test_call_wait (ok);
  g_assert_no_error (ok->error);
  g_assert_cmpvariant (ok->result, args);
  g_variant_unref (args);

  args = g_variant_ref (g_variant_new ("(v)", g_variant_new_string ("refused")));
  refused = wp_test_call_start (fixture->pool, "no/such", "echo", args, NULL);
  g_assert_false (g_variant_is_floating (args));
  wp_test_call_wait (refused);
  g_assert_error (refused->error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN);
  g_variant_unref (args);

  /* Floating, with no reference of ours: valgrind tells whether it leaks. */
  wp_test_call_wait (wp_test_call_start (fixture->pool, "echo", "echo",
                                         g_variant_new ("(v)", g_variant_new_int32 (1)), NULL));
  wp_test_call_wait (wp_test_call_start (fixture->pool, "", "echo",
                                         g_variant_new ("(v)", g_variant_new_int32 (1)), NULL));
}

static void
test_call_args_kept (WpTestFixture *fixture,
                     gconstpointer  data)
{
  GVariant *args;
  WpTestCall *call;

  g_test_summary ("A non-floating args is not taken over: the caller's reference stays valid");

  args = g_variant_ref_sink (g_variant_new ("(v)", g_variant_new_string ("mine")));
  call = wp_test_call_start (fixture->pool, "echo", "echo", args, NULL);
  g_assert_false (g_variant_is_floating (args));
  wp_test_call_wait (call);
  g_assert_no_error (call->error);

  /* Still ours to use and to unref (valgrind checks the count). */
  g_assert_cmpvariant (call->result, args);
  g_variant_unref (args);
}

/* ---- Many jobs ---- */

#define N_MANY_JOBS 1000

static void
test_call_many_concurrent (WpTestFixture *fixture,
                           gconstpointer  data)
{
  g_autofree WpTestCall **calls = g_new0 (WpTestCall *, N_MANY_JOBS);

  g_test_summary ("1000 concurrent jobs on 2 workers each get their own result");

  for (guint i = 0; i < N_MANY_JOBS; i++)
    {
      g_autofree char *text = g_strdup_printf ("job %u", i);

      calls[i] = wp_test_call_start (fixture->pool, "echo", "echo",
                                     g_variant_new ("(v)", g_variant_new ("(us)", i, text)),
                                     NULL);
    }

  /* The host has not waited for any job: they are all still pending. */
  for (guint i = 0; i < N_MANY_JOBS; i++)
    g_assert_cmpuint (calls[i]->n_callbacks, ==, 0);

  wp_test_calls_wait (calls, N_MANY_JOBS);

  for (guint i = 0; i < N_MANY_JOBS; i++)
    {
      g_autoptr(GVariant) inner = NULL;
      g_autofree char *expected = g_strdup_printf ("job %u", i);
      const char *text;
      guint32 n;

      g_assert_no_error (calls[i]->error);
      g_variant_get (calls[i]->result, "(v)", &inner);
      g_variant_get (inner, "(u&s)", &n, &text);
      g_assert_cmpuint (n, ==, i);
      g_assert_cmpstr (text, ==, expected);
    }

  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "spawned"), <=, 2);
}

static void
test_call_at_most_n_workers (WpTestFixture *fixture,
                             gconstpointer  data)
{
  g_autoptr(GHashTable) pids = g_hash_table_new (NULL, NULL);
  WpTestCall *calls[200];

  g_test_summary ("A pool of 2 runs its jobs in at most 2 worker processes, none of them the host");

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    calls[i] = wp_test_call_start (fixture->pool, "echo", "getpid", NULL, NULL);
  wp_test_calls_wait (calls, G_N_ELEMENTS (calls));

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      gint32 pid;

      g_assert_no_error (calls[i]->error);
      g_variant_get (calls[i]->result, "(i)", &pid);
      g_assert_cmpint (pid, !=, getpid ());
      g_hash_table_add (pids, GINT_TO_POINTER (pid));
    }

  /* A worker may have started and found no job left, so the number of
   * workers can exceed the pids seen, but never 2. */
  g_assert_cmpuint (g_hash_table_size (pids), >=, 1);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "spawned"), >=, g_hash_table_size (pids));
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "spawned"), <=, 2);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "workers"), <=, 2);
  g_assert_cmpuint (wp_test_count_children (), ==, wp_test_get_stat (fixture->pool, "workers"));
}

static void
test_call_fifo (WpTestFixture *fixture,
                gconstpointer  data)
{
  WpTestCall *calls[100];

  g_test_summary ("With one worker, jobs run and complete in the order they were submitted");

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    calls[i] = wp_test_call_start (fixture->pool, "arith", "add",
                                   g_variant_new ("(ii)", (gint32) i, 1000), NULL);
  wp_test_calls_wait (calls, G_N_ELEMENTS (calls));

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      g_assert_no_error (calls[i]->error);
      wp_test_assert_variant (calls[i]->result, g_variant_new ("(i)", (gint32) i + 1000));
      g_assert_cmpuint (calls[i]->seq, ==, i + 1);
    }
}

/* ---- Callbacks ---- */

static void
test_call_callback_after_return (WpTestFixture *fixture,
                                 gconstpointer  data)
{
  WpTestCall *ok, *no_plugin, *bad_args;

  g_test_summary ("The callback never runs before wp_pool_call_async() returns, even for errors found at once");

  /* WpTestCall's callback fails the test if it runs before the call has
   * returned; here nothing iterates the context between the calls. */
  ok = wp_test_call_start (fixture->pool, "echo", "noop", NULL, NULL);
  no_plugin = wp_test_call_start (fixture->pool, "../echo", "noop", NULL, NULL);
  bad_args = wp_test_call_start (fixture->pool, "arith", "add", g_variant_new ("(s)", "x"), NULL);
  g_assert_cmpuint (ok->n_callbacks, ==, 0);
  g_assert_cmpuint (no_plugin->n_callbacks, ==, 0);
  g_assert_cmpuint (bad_args->n_callbacks, ==, 0);

  wp_test_call_wait (ok);
  wp_test_call_wait (no_plugin);
  wp_test_call_wait (bad_args);
  g_assert_no_error (ok->error);
  g_assert_error (no_plugin->error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN);
  g_assert_error (bad_args->error, WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS);
}

static gboolean
stat_completed_is_1 (gpointer data)
{
  return wp_test_get_stat (data, "completed") == 1;
}

static void
test_call_callback_context (WpTestFixture *fixture,
                            gconstpointer  data)
{
  g_autoptr(GMainContext) other = g_main_context_new ();
  WpTestCall *call;

  g_test_summary ("The callback runs in the thread-default main context of the caller, not the pool's");

  g_main_context_push_thread_default (other);
  call = wp_test_call_start (fixture->pool, "echo", "noop", NULL, NULL);
  g_main_context_pop_thread_default (other);

  /* The pool's context does the work... */
  wp_test_wait_until_full (NULL, stat_completed_is_1, fixture->pool, WP_TEST_TIMEOUT_MS,
                           "the job to complete");
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (call->n_callbacks, ==, 0);

  /* ...and the caller's context runs the callback. */
  wp_test_call_wait_in (other, call);
  g_assert_no_error (call->error);
  g_assert_true (call->context == other);
}

/* ---- wp_pool_call_sync() ---- */

static void
test_sync_pool_thread (WpTestFixture *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  g_test_summary ("wp_pool_call_sync() works from the thread that runs the pool");

  result = wp_pool_call_sync (fixture->pool, "arith", "add", g_variant_new ("(ii)", 20, 22),
                              NULL, &error);
  g_assert_no_error (error);
  g_assert_false (g_variant_is_floating (result));
  wp_test_assert_variant (result, g_variant_new ("(i)", 42));
  g_clear_pointer (&result, g_variant_unref);

  result = wp_pool_call_sync (fixture->pool, "arith", "fail", g_variant_new ("(s)", "sync"),
                              NULL, &error);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_cmpstr (error->message, ==, "sync");
  g_assert_null (result);
  g_clear_error (&error);

  result = wp_pool_call_sync (fixture->pool, "echo", "nope", NULL, NULL, &error);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_FUNCTION);
  g_assert_null (result);
}

#define N_SYNC_THREADS 4
#define N_SYNC_CALLS   25

typedef struct {
  WpPool *pool;
  guint   index;
  gint   *n_finished;
} SyncThread;

static gpointer
sync_thread (gpointer user_data)
{
  SyncThread *self = user_data;

  for (guint i = 0; i < N_SYNC_CALLS; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) result = NULL;
      g_autoptr(GVariant) expected = NULL;

      expected = g_variant_ref_sink (g_variant_new ("(v)", g_variant_new ("(uu)", self->index, i)));
      result = wp_pool_call_sync (self->pool, "echo", "echo", expected, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpvariant (result, expected);
    }

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) result = NULL;

    result = wp_pool_call_sync (self->pool, "arith", "fail",
                                g_variant_new ("(s)", "from a thread"), NULL, &error);
    g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
    g_assert_cmpstr (error->message, ==, "from a thread");
    g_assert_null (result);
  }

  g_atomic_int_inc (self->n_finished);
  g_main_context_wakeup (NULL);
  return NULL;
}

static gboolean
all_threads_finished (gpointer data)
{
  return g_atomic_int_get ((gint *) data) == N_SYNC_THREADS;
}

static void
test_sync_other_threads (WpTestFixture *fixture,
                         gconstpointer  data)
{
  SyncThread threads[N_SYNC_THREADS];
  GThread *handles[N_SYNC_THREADS];
  WpTestCall *calls[50];
  gint n_finished = 0;

  g_test_summary ("wp_pool_call_sync() works from other threads while the pool's thread runs its loop");

  for (guint t = 0; t < N_SYNC_THREADS; t++)
    {
      threads[t] = (SyncThread) { fixture->pool, t, &n_finished };
      handles[t] = g_thread_new ("sync-caller", sync_thread, &threads[t]);
    }

  /* Asynchronous calls from the pool's thread at the same time. */
  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    calls[i] = wp_test_call_start (fixture->pool, "arith", "add",
                                   g_variant_new ("(ii)", (gint32) i, (gint32) i), NULL);

  wp_test_wait_until_full (NULL, all_threads_finished, &n_finished, WP_TEST_TIMEOUT_MS,
                           "the threads calling wp_pool_call_sync()");
  for (guint t = 0; t < N_SYNC_THREADS; t++)
    g_thread_join (handles[t]);

  wp_test_calls_wait (calls, G_N_ELEMENTS (calls));
  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    {
      g_assert_no_error (calls[i]->error);
      wp_test_assert_variant (calls[i]->result, g_variant_new ("(i)", 2 * (gint32) i));
    }
}

int
main (int    argc,
      char **argv)
{
  wp_test_init (&argc, &argv);

  g_test_add_func ("/pool/new/lazy-workers", test_new_lazy_workers);
  g_test_add_func ("/pool/new/default-n-workers", test_new_default_n_workers);
  g_test_add_func ("/pool/new/missing-dir", test_new_missing_dir);
  g_test_add_func ("/pool/new/plugin-dir-from-env", test_new_plugin_dir_from_env);

#define ADD(path, func, n_workers)                                       \
  g_test_add (path, WpTestFixture, GUINT_TO_POINTER (n_workers),         \
              wp_test_fixture_setup, func, wp_test_fixture_teardown)

  ADD ("/pool/call/echo", test_call_echo, 2);
  ADD ("/pool/call/echo-bytes", test_call_echo_bytes, 2);
  ADD ("/pool/call/add", test_call_add, 2);
  ADD ("/pool/call/null-args", test_call_null_args, 2);
  ADD ("/pool/call/floating-args", test_call_floating_args, 2);
  ADD ("/pool/call/args-kept", test_call_args_kept, 2);
  ADD ("/pool/call/many-concurrent", test_call_many_concurrent, 2);
  ADD ("/pool/call/at-most-n-workers", test_call_at_most_n_workers, 2);
  ADD ("/pool/call/fifo", test_call_fifo, 1);
  ADD ("/pool/call/callback/after-return", test_call_callback_after_return, 2);
  ADD ("/pool/call/callback/caller-context", test_call_callback_context, 2);
  ADD ("/pool/call/sync/pool-thread", test_sync_pool_thread, 2);
  ADD ("/pool/call/sync/other-threads", test_sync_other_threads, 2);

#undef ADD

  return g_test_run ();
}
