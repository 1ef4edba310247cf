/* test-stats.c: wp_pool_get_stats() agrees with what callers saw.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers the keys and types of the stats (a{sv} of uint64: submitted,
 * completed, failed, cancelled, crashed, timed-out, queued, prefetched,
 * running, workers, spawned; and sandbox, a string), their values on a fresh pool, while jobs run, after
 * a seeded mix of successes and failures (each counter against the
 * callbacks), for calls refused at once, and after close; and that
 * submitted = completed + failed + cancelled + queued + running holds
 * throughout.
 */

#include "wp-test-util.h"

static const char * const stat_keys[] = {
  "submitted", "completed", "failed", "cancelled", "crashed", "timed-out",
  "queued", "prefetched", "running", "workers", "spawned",
};

static void
test_stats_keys (WpTestFixture *fixture,
                 gconstpointer  data)
{
  g_autoptr(GVariant) stats = NULL;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_test_summary ("The stats are an a{sv} with the eleven documented counters, each a uint64, "
                  "and the sandbox, a string, empty before a worker started");

  stats = g_variant_take_ref (wp_pool_get_stats (fixture->pool));
  g_assert_cmpstr (g_variant_get_type_string (stats), ==, "a{sv}");

  for (gsize i = 0; i < G_N_ELEMENTS (stat_keys); i++)
    {
      g_autoptr(GVariant) v = g_variant_lookup_value (stats, stat_keys[i], NULL);

      if (v == NULL)
        g_error ("no \"%s\" in the stats", stat_keys[i]);
      g_assert_cmpstr (g_variant_get_type_string (v), ==, "t");
    }

  g_variant_iter_init (&iter, stats);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    if (g_str_equal (key, "sandbox"))
      g_assert_cmpstr (g_variant_get_string (value, NULL), ==, "");
    else if (!g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
      g_error ("stats \"%s\" is of type %s", key, g_variant_get_type_string (value));
  g_assert_cmpuint (g_variant_n_children (stats), ==, G_N_ELEMENTS (stat_keys) + 1);
}

static void
test_stats_fresh (WpTestFixture *fixture,
                  gconstpointer  data)
{
  g_test_summary ("A new pool's counters are all zero");

  for (gsize i = 0; i < G_N_ELEMENTS (stat_keys); i++)
    g_assert_cmpuint (wp_test_get_stat (fixture->pool, stat_keys[i]), ==, 0);
}

static void
test_stats_while_running (WpTestFixture *fixture,
                          gconstpointer  data)
{
  WpTestCall *calls[5];

  g_test_summary ("While jobs run, running, queued, workers and spawned say so and the counts balance");

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    calls[i] = wp_test_call_start (fixture->pool, "sleep", "sleep", g_variant_new ("(u)", 300), NULL);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "submitted"), ==, G_N_ELEMENTS (calls));
  wp_test_assert_stats_balance (fixture->pool);

  wp_test_wait_stat (fixture->pool, "running", 2);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "workers"), ==, 2);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "spawned"), ==, 2);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "submitted"), ==, G_N_ELEMENTS (calls));
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "queued")
                    + wp_test_get_stat (fixture->pool, "completed"), ==, G_N_ELEMENTS (calls) - 2);
  wp_test_assert_stats_balance (fixture->pool);

  wp_test_calls_wait (calls, G_N_ELEMENTS (calls));
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "completed"), ==, G_N_ELEMENTS (calls));
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "running"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "queued"), ==, 0);
  wp_test_assert_stats_balance (fixture->pool);
}

typedef enum {
  KIND_OK,
  KIND_PLUGIN_ERROR,
  KIND_BAD_RESULT,
  KIND_NO_SUCH_FUNCTION,
  KIND_INIT_FAILED,
  N_KINDS
} Kind;

#define N_MIXED_JOBS 400

static void
test_stats_agree_with_callbacks (WpTestFixture *fixture,
                                 gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20260101);
  WpTestCall *calls[N_MIXED_JOBS];
  Kind kinds[N_MIXED_JOBS];
  guint64 n_ok = 0, n_failed = 0;

  g_test_summary ("After a seeded mix of jobs, completed and failed equal what the callbacks got");

  for (guint i = 0; i < N_MIXED_JOBS; i++)
    {
      kinds[i] = (Kind) g_rand_int_range (rand, 0, N_KINDS);
      switch (kinds[i])
        {
        case KIND_OK:
          calls[i] = wp_test_call_start (fixture->pool, "arith", "add",
                                         g_variant_new ("(ii)", (gint32) i, 1), NULL);
          break;
        case KIND_PLUGIN_ERROR:
          calls[i] = wp_test_call_start (fixture->pool, "arith", "fail",
                                         g_variant_new ("(s)", "mixed"), NULL);
          break;
        case KIND_BAD_RESULT:
          calls[i] = wp_test_call_start (fixture->pool, "badresult", "wrong_type", NULL, NULL);
          break;
        case KIND_NO_SUCH_FUNCTION:
          calls[i] = wp_test_call_start (fixture->pool, "echo", "nope", NULL, NULL);
          break;
        case KIND_INIT_FAILED:
          calls[i] = wp_test_call_start (fixture->pool, "initfail", "noop", NULL, NULL);
          break;
        case N_KINDS:
        default:
          g_assert_not_reached ();
        }
    }

  wp_test_calls_wait (calls, N_MIXED_JOBS);

  for (guint i = 0; i < N_MIXED_JOBS; i++)
    {
      switch (kinds[i])
        {
        case KIND_OK:
          g_assert_no_error (calls[i]->error);
          wp_test_assert_variant (calls[i]->result, g_variant_new ("(i)", (gint32) i + 1));
          break;
        case KIND_PLUGIN_ERROR:
          g_assert_error (calls[i]->error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
          break;
        case KIND_BAD_RESULT:
          g_assert_error (calls[i]->error, WP_POOL_ERROR, WP_POOL_ERROR_BAD_RESULT);
          break;
        case KIND_NO_SUCH_FUNCTION:
          g_assert_error (calls[i]->error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_FUNCTION);
          break;
        case KIND_INIT_FAILED:
          g_assert_error (calls[i]->error, WP_POOL_ERROR, WP_POOL_ERROR_PLUGIN_INVALID);
          break;
        case N_KINDS:
        default:
          g_assert_not_reached ();
        }

      if (calls[i]->error == NULL)
        n_ok++;
      else
        n_failed++;
    }

  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "submitted"), ==, N_MIXED_JOBS);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "completed"), ==, n_ok);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "failed"), ==, n_failed);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "cancelled"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "crashed"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "timed-out"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "queued"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "running"), ==, 0);
  wp_test_assert_stats_balance (fixture->pool);

  /* No worker died, so every worker started is still there. */
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "workers"), >=, 1);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "workers"), <=, 2);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "spawned"), ==,
                    wp_test_get_stat (fixture->pool, "workers"));
}

static void
test_stats_immediate_errors (WpTestFixture *fixture,
                             gconstpointer  data)
{
  WpTestCall *calls[3];

  g_test_summary ("Calls refused at once (invalid name or arguments, closed pool) keep the counts balanced");

  calls[0] = wp_test_call_start (fixture->pool, "../echo", "noop", NULL, NULL);
  calls[1] = wp_test_call_start (fixture->pool, "arith", "add", g_variant_new ("(s)", "x"), NULL);
  wp_test_assert_stats_balance (fixture->pool);
  wp_test_calls_wait (calls, 2);
  wp_test_assert_stats_balance (fixture->pool);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "completed"), ==, 0);

  wp_test_close (fixture->pool);
  calls[2] = wp_test_call_start (fixture->pool, "echo", "noop", NULL, NULL);
  wp_test_assert_stats_balance (fixture->pool);
  wp_test_call_wait (calls[2]);
  g_assert_error (calls[2]->error, WP_POOL_ERROR, WP_POOL_ERROR_CLOSED);
  wp_test_assert_stats_balance (fixture->pool);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "completed"), ==, 0);

  g_clear_object (&fixture->pool);
}

static void
test_stats_after_close (WpTestFixture *fixture,
                        gconstpointer  data)
{
  WpTestCall *calls[20];

  g_test_summary ("After close, no worker is left and the job counters stay as they were");

  for (guint i = 0; i < G_N_ELEMENTS (calls); i++)
    calls[i] = wp_test_call_start (fixture->pool, "echo", "noop", NULL, NULL);
  wp_test_calls_wait (calls, G_N_ELEMENTS (calls));
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "completed"), ==, G_N_ELEMENTS (calls));

  wp_test_close (fixture->pool);

  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "workers"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "queued"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "running"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "submitted"), ==, G_N_ELEMENTS (calls));
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "completed"), ==, G_N_ELEMENTS (calls));
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "spawned"), >=, 1);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "spawned"), <=, 2);

  g_clear_object (&fixture->pool);
}

int
main (int    argc,
      char **argv)
{
  wp_test_init (&argc, &argv);

#define ADD(path, func, n_workers)                                       \
  g_test_add (path, WpTestFixture, GUINT_TO_POINTER (n_workers),         \
              wp_test_fixture_setup, func, wp_test_fixture_teardown)

  ADD ("/pool/stats/keys", test_stats_keys, 2);
  ADD ("/pool/stats/fresh", test_stats_fresh, 2);
  ADD ("/pool/stats/while-running", test_stats_while_running, 2);
  ADD ("/pool/stats/agree-with-callbacks", test_stats_agree_with_callbacks, 2);
  ADD ("/pool/stats/immediate-errors", test_stats_immediate_errors, 2);
  ADD ("/pool/stats/after-close", test_stats_after_close, 2);

#undef ADD

  return g_test_run ();
}
