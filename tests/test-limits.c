/* test-limits.c: the workers' memory limit and the frame size limit.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Memory (wp_pool_set_worker_memory_limit()): the worker runs under
 * RLIMIT_AS, soft and hard, as its plugins see it; none by default and
 * with 0; a job that allocates more than the limit fails as crashed with
 * a message naming the limit, and the next job runs on a fresh worker; a
 * small allocation succeeds on the same worker; a limit too small to
 * start in fails jobs with WP_POOL_ERROR_FAILED instead of a crash loop;
 * a change retires idle workers at once and busy ones after their job.
 * In an AddressSanitizer build the worker cannot apply RLIMIT_AS: the
 * tests that need it skip, saying so, and one checks that the worker
 * says so and that crash reports do not claim the limit.
 *
 * Frames (wp_pool_set_max_frame_size()): a job over the limit is refused
 * at submit with WP_POOL_ERROR_INVALID_ARGS, called back later and never
 * sent; a result over it is WP_POOL_ERROR_PROTOCOL from the worker,
 * which lives on; a worker that sends an oversized frame anyway is
 * refused by the pool itself (PROTOCOL) and replaced; lowering the limit
 * fails the queued jobs over it.
 */

#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "wp-sanitizer-private.h"
#include "wp-test-util.h"

#define MiB (G_GUINT64_CONSTANT (1) << 20)
/* Well above what a worker needs to start (its libraries and thread
 * stacks, some tens of MiB of address space), well below what the large
 * allocation asks for. */
#define LIMIT       (256 * MiB)
#define LARGE_ALLOC (512 * MiB)
#define SMALL_ALLOC (16 * MiB)
#define SMALL_FRAME (64 * 1024)

static gboolean
skip_without_rlimit_as (void)
{
  if (!WP_ASAN_BUILD)
    return FALSE;

  g_test_skip ("AddressSanitizer reserves terabytes of address space, so a worker cannot "
               "apply RLIMIT_AS in this build");
  return TRUE;
}

/* This process's RLIMIT_AS, which a worker without a limit inherits;
 * G_MAXUINT64 for none. */
static guint64
own_address_space_limit (void)
{
  struct rlimit limit;

  g_assert_cmpint (getrlimit (RLIMIT_AS, &limit), ==, 0);
  return limit.rlim_cur == RLIM_INFINITY ? G_MAXUINT64 : (guint64) limit.rlim_cur;
}

/* The worker's RLIMIT_AS, soft and hard, and its pid. */
static void
get_worker_limit (WpPool  *pool,
                  guint64 *soft,
                  guint64 *hard,
                  gint32  *pid)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  result = wp_test_call (pool, "memory", "get_address_space_limit", NULL, &error);
  g_assert_no_error (error);
  g_variant_get (result, "(tti)", soft, hard, pid);
}

static void
assert_allocation_succeeds (WpPool  *pool,
                            guint64  size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  result = wp_test_call (pool, "memory", "allocate_and_touch", g_variant_new ("(t)", size), &error);
  g_assert_no_error (error);
  wp_test_assert_variant (result, g_variant_new ("(t)", size / (guint64) sysconf (_SC_PAGESIZE)));
}

/* ---- Memory ---- */

static void
test_memory_limit_applied (WpTestFixture *fixture,
                           gconstpointer  data)
{
  guint64 soft, hard;
  gint32 pid;

  g_test_summary ("The worker runs under RLIMIT_AS = the limit, soft and hard, as its plugins see it");
  if (skip_without_rlimit_as ())
    return;

  wp_pool_set_worker_memory_limit (fixture->pool, LIMIT);
  get_worker_limit (fixture->pool, &soft, &hard, &pid);
  g_assert_cmpuint (soft, ==, LIMIT);
  g_assert_cmpuint (hard, ==, LIMIT);

  /* The program using the pool is not limited. */
  g_assert_cmpuint (own_address_space_limit (), !=, LIMIT);
}

static void
test_memory_limit_none (WpTestFixture *fixture,
                        gconstpointer  data)
{
  guint64 inherited = own_address_space_limit ();
  guint64 soft, hard;
  gint32 pid;

  g_test_summary ("No memory limit by default, nor after setting 0: the worker keeps what it inherits");

  get_worker_limit (fixture->pool, &soft, &hard, &pid);
  g_assert_cmpuint (soft, ==, inherited);

  if (skip_without_rlimit_as ())
    return;

  wp_pool_set_worker_memory_limit (fixture->pool, LIMIT);
  get_worker_limit (fixture->pool, &soft, &hard, &pid);
  g_assert_cmpuint (soft, ==, LIMIT);

  wp_pool_set_worker_memory_limit (fixture->pool, 0);
  get_worker_limit (fixture->pool, &soft, &hard, &pid);
  g_assert_cmpuint (soft, ==, inherited);

  /* What failed under the limit (see below) now succeeds. */
  if (inherited == G_MAXUINT64)
    assert_allocation_succeeds (fixture->pool, LARGE_ALLOC);
}

static void
test_memory_large_allocation (WpTestFixture *fixture,
                              gconstpointer  data)
{
  g_autofree char *limit_text = g_strdup_printf ("it ran under a memory limit of %" G_GUINT64_FORMAT
                                                 " bytes", LIMIT);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  guint64 soft, hard;
  gint32 before, after;

  g_test_summary ("A job that allocates more than the limit fails as crashed, saying it ran under "
                  "the limit; the next job runs on a fresh worker");
  if (skip_without_rlimit_as ())
    return;

  wp_pool_set_worker_memory_limit (fixture->pool, LIMIT);
  get_worker_limit (fixture->pool, &soft, &hard, &before);

  result = wp_test_call (fixture->pool, "memory", "allocate_and_touch",
                         g_variant_new ("(t)", LARGE_ALLOC), &error);
  g_assert_null (result);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "memory.allocate_and_touch"));
  g_assert_nonnull (strstr (error->message, limit_text));
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "crashed"), ==, 1);

  get_worker_limit (fixture->pool, &soft, &hard, &after);
  g_assert_cmpint (after, !=, before);
  g_assert_cmpuint (soft, ==, LIMIT);
  assert_allocation_succeeds (fixture->pool, SMALL_ALLOC);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "crashed"), ==, 1);
  wp_test_assert_stats_balance (fixture->pool);
}

static void
test_memory_small_allocation (WpTestFixture *fixture,
                              gconstpointer  data)
{
  guint64 soft, hard;
  gint32 before, after;

  g_test_summary ("Allocations within the limit succeed, on the same worker");
  if (skip_without_rlimit_as ())
    return;

  wp_pool_set_worker_memory_limit (fixture->pool, LIMIT);
  get_worker_limit (fixture->pool, &soft, &hard, &before);
  for (guint i = 0; i < 3; i++)
    assert_allocation_succeeds (fixture->pool, SMALL_ALLOC);
  get_worker_limit (fixture->pool, &soft, &hard, &after);

  g_assert_cmpint (after, ==, before);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "crashed"), ==, 0);
}

static void
test_memory_too_small_to_start (WpTestFixture *fixture,
                                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  g_test_summary ("A limit too small for a worker to start in fails jobs with "
                  "WP_POOL_ERROR_FAILED naming the limit, after the start-up retries");
  if (skip_without_rlimit_as ())
    return;

  wp_pool_set_worker_memory_limit (fixture->pool, MiB);
  result = wp_test_call (fixture->pool, "echo", "noop", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_FAILED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "Cannot start workers"));
  g_assert_nonnull (strstr (error->message, "memory limit of 1048576 bytes"));
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "crashed"), ==, 0);
}

static void
test_memory_limit_change (WpTestFixture *fixture,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  WpTestCall *busy, *after_change;
  guint64 soft, hard;
  gint32 first, second, third;

  g_test_summary ("A new limit holds for every job submitted afterwards: a busy worker retires "
                  "after its job, an idle one at once");
  if (skip_without_rlimit_as ())
    return;

  get_worker_limit (fixture->pool, &soft, &hard, &first);
  g_assert_cmpuint (soft, ==, own_address_space_limit ());

  /* One worker: the sleep runs on it while the limit changes (no reply
   * can arrive before the context is iterated again). */
  busy = wp_test_call_start (fixture->pool, "sleep", "sleep", g_variant_new ("(u)", 100), NULL);
  wp_pool_set_worker_memory_limit (fixture->pool, LIMIT);
  after_change = wp_test_call_start (fixture->pool, "memory", "get_address_space_limit", NULL, NULL);
  wp_test_call_wait (busy);
  wp_test_call_wait (after_change);

  g_assert_no_error (busy->error);
  g_assert_no_error (after_change->error);
  g_variant_get (after_change->result, "(tti)", &soft, &hard, &second);
  g_assert_cmpuint (soft, ==, LIMIT);
  g_assert_cmpint (second, !=, first);

  /* Idle now: retired at once. */
  wp_pool_set_worker_memory_limit (fixture->pool, 2 * LIMIT);
  get_worker_limit (fixture->pool, &soft, &hard, &third);
  g_assert_cmpuint (soft, ==, 2 * LIMIT);
  g_assert_cmpint (third, !=, second);

  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "failed"), ==, 0);
}

static void
test_memory_limit_asan (WpTestFixture *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  guint64 soft, hard;
  gint32 pid;

  g_test_summary ("In an AddressSanitizer build the worker does not apply the limit and says so "
                  "on stderr, and a crash report does not claim the limit");
  if (!WP_ASAN_BUILD)
    {
      g_test_skip ("Only in an AddressSanitizer build");
      return;
    }

  wp_pool_set_worker_memory_limit (fixture->pool, LIMIT);
  get_worker_limit (fixture->pool, &soft, &hard, &pid);
  g_assert_cmpuint (soft, ==, own_address_space_limit ());

  /* The crash report quotes the worker's stderr. */
  result = wp_test_call (fixture->pool, "crash", "stderr_then_abort", NULL, &error);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "built with AddressSanitizer"));
  g_assert_nonnull (strstr (error->message, "the memory limit of 268435456 bytes is not applied"));
  g_assert_null (strstr (error->message, "ran under a memory limit"));
}

/* ---- Frames ---- */

static GVariant *
byte_array (gsize size)
{
  g_autofree guint8 *data = g_malloc0 (size);

  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, size, 1);
}

static gint32
get_echo_pid (WpPool *pool)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  gint32 pid;

  result = wp_test_call (pool, "echo", "getpid", NULL, &error);
  g_assert_no_error (error);
  g_variant_get (result, "(i)", &pid);
  return pid;
}

/* echo.echo_repeat of @size bytes, @times over: a result of
 * @size × @times bytes and 21 of envelope, from a much smaller job. */
static GError *
echo_repeat_error (WpPool *pool,
                   gsize   size,
                   guint   times)
{
  g_autoptr(GVariant) result = NULL;
  GError *error = NULL;

  result = wp_test_call (pool, "echo", "echo_repeat",
                         g_variant_new ("(@ayu)", byte_array (size), times), &error);
  g_assert_true ((result == NULL) != (error == NULL));
  if (error != NULL)
    g_test_message ("%s", error->message);
  return error;
}

static void
test_frame_oversized_job (WpTestFixture *fixture,
                          gconstpointer  data)
{
  g_autofree char *limit_text = g_strdup_printf ("limit of %u bytes", SMALL_FRAME);
  g_autoptr(GVariant) args = g_variant_ref_sink (g_variant_new ("(@ay)", byte_array (SMALL_FRAME)));
  WpTestCall *call;

  g_test_summary ("A job over the frame limit is refused at submit with INVALID_ARGS naming its "
                  "size and the limit, called back later, and never reaches a worker");

  wp_pool_set_max_frame_size (fixture->pool, SMALL_FRAME);
  call = wp_test_call_start (fixture->pool, "echo", "echo_bytes", args, NULL);
  g_assert_cmpuint (call->n_callbacks, ==, 0);
  wp_test_call_wait (call);

  g_assert_error (call->error, WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS);
  g_test_message ("%s", call->error->message);
  g_assert_nonnull (strstr (call->error->message, "echo.echo_bytes"));
  g_assert_nonnull (strstr (call->error->message, limit_text));
  g_assert_nonnull (strstr (call->error->message, "is 65587 bytes"));
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "spawned"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "failed"), ==, 1);
  wp_test_assert_stats_balance (fixture->pool);

  /* A job within the limit runs. */
  {
    g_autoptr(GVariant) small = g_variant_ref_sink (g_variant_new ("(@ay)", byte_array (1000)));
    g_autoptr(GVariant) result = NULL;
    g_autoptr(GError) error = NULL;

    result = wp_test_call (fixture->pool, "echo", "echo_bytes", small, &error);
    g_assert_no_error (error);
    wp_test_assert_variant (result, small);
  }
}

static void
test_frame_oversized_reply (WpTestFixture *fixture,
                            gconstpointer  data)
{
  g_autofree char *limit_text = g_strdup_printf ("limit of %u bytes", SMALL_FRAME);
  g_autoptr(GError) error = NULL;
  gint32 before;

  g_test_summary ("A result over the frame limit is PROTOCOL from the worker, naming both sizes; "
                  "the worker lives on");

  wp_pool_set_max_frame_size (fixture->pool, SMALL_FRAME);
  before = get_echo_pid (fixture->pool);

  error = echo_repeat_error (fixture->pool, SMALL_FRAME / 4, 4);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "echo.echo_repeat's result is 65557 bytes"));
  g_assert_nonnull (strstr (error->message, limit_text));
  g_clear_error (&error);

  /* Exactly at the limit (5 × 13103 bytes, and 21 of envelope), it arrives. */
  error = echo_repeat_error (fixture->pool, 13103, 5);
  g_assert_no_error (error);

  g_assert_cmpint (get_echo_pid (fixture->pool), ==, before);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "crashed"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "spawned"), ==, 1);
}

/* A worker that ignores the pool's limit: the real one, told a larger
 * one (the last --max-frame given wins). */
static char *
write_limit_ignoring_worker (const char *dir)
{
  g_autofree char *script = g_strdup_printf ("#!/bin/sh\nexec '%s' \"$@\" --max-frame=%u\n",
                                             g_getenv ("WORKPOOL_WORKER"), 256u << 20);
  char *path = g_build_filename (dir, "worker", NULL);

  g_assert_null (strchr (g_getenv ("WORKPOOL_WORKER"), '\''));
  wp_test_write_file (dir, "worker", script);
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);

  return path;
}

static void
test_frame_worker_ignores_limit (WpTestFixture *fixture,
                                 gconstpointer  data)
{
  g_autofree char *worker = write_limit_ignoring_worker (fixture->tmp_dir);
  g_autofree char *saved = g_strdup (g_getenv ("WORKPOOL_WORKER"));
  g_autofree char *limit_text = g_strdup_printf ("over the limit of %u bytes", SMALL_FRAME);
  g_autoptr(GError) error = NULL;
  gint32 before;

  g_test_summary ("A worker that sends a frame over the limit anyway is refused by the pool "
                  "(PROTOCOL) and replaced");

  /* The pool reads $WORKPOOL_WORKER when it is made. */
  g_setenv ("WORKPOOL_WORKER", worker, TRUE);
  fixture->pool = wp_pool_new (wp_test_plugin_dir (), 1, &error);
  g_setenv ("WORKPOOL_WORKER", saved, TRUE);
  g_assert_no_error (error);
  wp_pool_set_max_frame_size (fixture->pool, SMALL_FRAME);
  before = get_echo_pid (fixture->pool);

  error = echo_repeat_error (fixture->pool, SMALL_FRAME / 4, 4);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "Frame of 65557 bytes"));
  g_assert_nonnull (strstr (error->message, limit_text));

  g_assert_cmpint (get_echo_pid (fixture->pool), !=, before);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "spawned"), ==, 2);
  wp_test_assert_stats_balance (fixture->pool);
}

static void
test_frame_limit_lowered (WpTestFixture *fixture,
                          gconstpointer  data)
{
  g_autoptr(GVariant) args = g_variant_ref_sink (g_variant_new ("(@ay)", byte_array (2 * SMALL_FRAME)));
  WpTestCall *busy, *queued[3];
  gint32 before;

  g_test_summary ("Lowering the frame limit fails the queued jobs over it with INVALID_ARGS; the "
                  "running one finishes, and its worker is replaced");

  before = get_echo_pid (fixture->pool);

  /* One worker, busy while the jobs queue and the limit changes. */
  busy = wp_test_call_start (fixture->pool, "echo", "echo_bytes", args, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    queued[i] = wp_test_call_start (fixture->pool, "echo", "echo_bytes", args, NULL);
  wp_pool_set_max_frame_size (fixture->pool, SMALL_FRAME);
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    g_assert_cmpuint (queued[i]->n_callbacks, ==, 0);

  wp_test_calls_wait (queued, G_N_ELEMENTS (queued));
  wp_test_call_wait (busy);
  g_assert_no_error (busy->error);
  wp_test_assert_variant (busy->result, args);
  for (guint i = 0; i < G_N_ELEMENTS (queued); i++)
    g_assert_error (queued[i]->error, WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS);

  g_assert_cmpint (get_echo_pid (fixture->pool), !=, before);
  wp_test_assert_stats_balance (fixture->pool);
}

static void
test_frame_limit_bounds (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpPool) pool = wp_pool_new (wp_test_plugin_dir (), 1, &error);

  g_test_summary ("A frame limit under 4096 bytes is a programmer error, and is not applied");
  g_assert_no_error (error);

  g_test_expect_message ("workpool", G_LOG_LEVEL_CRITICAL, "*bytes >= WP_WIRE_MIN_MAX_FRAME*");
  wp_pool_set_max_frame_size (pool, 100);
  g_test_assert_expected_messages ();

  /* Still the default: a 100 KiB job is accepted. */
  {
    g_autoptr(GVariant) args = g_variant_ref_sink (g_variant_new ("(@ay)", byte_array (100 * 1024)));
    g_autoptr(GVariant) result = wp_test_call (pool, "echo", "echo_bytes", args, &error);

    g_assert_no_error (error);
  }
  wp_test_close (pool);
}

int
main (int    argc,
      char **argv)
{
  wp_test_init (&argc, &argv);

#define ADD(path, n_workers, func) \
  g_test_add ("/limits/" path, WpTestFixture, GUINT_TO_POINTER (n_workers), \
              wp_test_fixture_setup, func, wp_test_fixture_teardown)

  ADD ("memory/applied", 1, test_memory_limit_applied);
  ADD ("memory/none", 1, test_memory_limit_none);
  ADD ("memory/large-allocation", 1, test_memory_large_allocation);
  ADD ("memory/small-allocation", 1, test_memory_small_allocation);
  ADD ("memory/too-small-to-start", 1, test_memory_too_small_to_start);
  ADD ("memory/change", 1, test_memory_limit_change);
  ADD ("memory/asan", 1, test_memory_limit_asan);
  ADD ("frame/oversized-job", 1, test_frame_oversized_job);
  ADD ("frame/oversized-reply", 1, test_frame_oversized_reply);
  g_test_add ("/limits/frame/worker-ignores-limit", WpTestFixture, NULL,
              wp_test_fixture_setup_tmp, test_frame_worker_ignores_limit, wp_test_fixture_teardown);
  ADD ("frame/lowered", 1, test_frame_limit_lowered);
  g_test_add_func ("/limits/frame/bounds", test_frame_limit_bounds);

#undef ADD

  return g_test_run ();
}
