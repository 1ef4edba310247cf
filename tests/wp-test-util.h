/* wp-test-util.h: what the workpool tests share.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A pool fixture, calls whose callbacks are counted (each must run exactly
 * once, and never before wp_pool_call_async() has returned), waiting for a
 * condition by iterating a main context with a deadline that fails the
 * test, temporary plugin directories, and the process checks: open file
 * descriptors, child processes and zombies.
 *
 * Everything here runs in the thread that runs the pool context (the main
 * thread), except where a comment says otherwise.
 */

#pragma once

#include <workpool/workpool.h>

G_BEGIN_DECLS

/* Set-up */

void         wp_test_init                 (int            *argc,
                                           char         ***argv);
const char  *wp_test_plugin_dir           (void);
char        *wp_test_plugin_path          (const char     *plugin);

/* Waiting.  Each wait iterates @context (NULL: the thread-default one)
 * until the condition holds, checking it at least every 10 ms, and fails
 * the test after the safety timeout (scaled by the environment variable
 * WORKPOOL_TEST_TIMEOUT_SCALE). */

#define WP_TEST_TIMEOUT_MS 30000

typedef gboolean (*WpTestCondition) (gpointer data);

void         wp_test_wait_until_full      (GMainContext   *context,
                                           WpTestCondition condition,
                                           gpointer        data,
                                           guint           timeout_ms,
                                           const char     *what);
void         wp_test_wait_for_flag        (gboolean       *flag,
                                           const char     *what);
#define wp_test_wait_until(flag) wp_test_wait_for_flag ((flag), #flag)

/* Calls.  A WpTestCall records one wp_pool_call_async(): whether it had
 * returned when the callback ran (it must have), how many times the
 * callback ran, in which order among all callbacks, and the outcome.
 * Records live until wp_test_calls_check(), which asserts that each
 * callback ran exactly once and frees them; the fixture's teardown calls
 * it once the pool is closed and finalized, after which no callback can
 * come, so a late second callback is caught too. */

typedef struct {
  WpPool       *pool;        /* not owned */
  char         *plugin;
  char         *function;
  gboolean      returned;    /* wp_pool_call_async() has returned */
  guint         n_callbacks;
  guint         seq;         /* 1 for the first callback of the test, … */
  GMainContext *context;     /* where the callback ran */
  GVariant     *result;
  GError       *error;
} WpTestCall;

WpTestCall  *wp_test_call_start           (WpPool         *pool,
                                           const char     *plugin,
                                           const char     *function,
                                           GVariant       *args,
                                           GCancellable   *cancellable);
void         wp_test_call_wait            (WpTestCall     *call);
void         wp_test_call_wait_in         (GMainContext   *context,
                                           WpTestCall     *call);
void         wp_test_calls_wait           (WpTestCall    **calls,
                                           guint           n_calls);
GVariant    *wp_test_call                 (WpPool         *pool,
                                           const char     *plugin,
                                           const char     *function,
                                           GVariant       *args,
                                           GError        **error);
guint        wp_test_calls_started        (void);
void         wp_test_calls_check          (void);

GVariant    *wp_test_describe             (WpPool         *pool,
                                           const char     *plugin,
                                           GError        **error);
void         wp_test_close                (WpPool         *pool);
/* Sets *@flag to FALSE now and to TRUE when @pool is finalized.  Every
 * call's GTask holds its pool, so once the pool is finalized no callback
 * of it can come any more. */
void         wp_test_watch_finalize       (WpPool         *pool,
                                           gboolean       *flag);

/* Asserts that @actual equals @expected, which may be floating and is
 * consumed either way. */
void         wp_test_assert_variant       (GVariant       *actual,
                                           GVariant       *expected);

/* Stats */

guint64      wp_test_get_stat             (WpPool         *pool,
                                           const char     *key);
void         wp_test_wait_stat            (WpPool         *pool,
                                           const char     *key,
                                           guint64         value);
void         wp_test_assert_stats_balance (WpPool         *pool);

/* The fixture: a pool on the test plugin directory with 2 workers, or as
 * many as the test data says (GUINT_TO_POINTER (n)); or, with
 * wp_test_fixture_setup_tmp(), no pool yet and an empty temporary folder
 * for the test to fill and make its pool on.  Teardown closes the pool,
 * drops it and waits for it to be finalized, checks every call and that
 * no child process is left, and removes the folder. */

typedef struct {
  WpPool *pool;
  char   *tmp_dir;
} WpTestFixture;

void         wp_test_fixture_setup        (WpTestFixture  *fixture,
                                           gconstpointer   data);
void         wp_test_fixture_setup_tmp    (WpTestFixture  *fixture,
                                           gconstpointer   data);
void         wp_test_fixture_teardown     (WpTestFixture  *fixture,
                                           gconstpointer   data);

/* Plugin directories */

char        *wp_test_make_tmp_dir         (void);
void         wp_test_copy_plugin          (const char     *plugin,
                                           const char     *dir,
                                           const char     *file_name);
void         wp_test_write_file           (const char     *dir,
                                           const char     *file_name,
                                           const char     *contents);
void         wp_test_remove_tree          (const char     *path);

/* Processes and file descriptors */

guint        wp_test_count_fds            (void);
void         wp_test_assert_fds           (guint           expected);
void         wp_test_wait_fds             (guint           expected);
guint        wp_test_count_children       (void);
/* The pids (int) of the children that have exited and are not reaped
 * yet, for a test that watches them over time. */
GArray      *wp_test_list_zombies         (void);
void         wp_test_assert_no_zombies    (void);
void         wp_test_assert_no_children   (void);
void         wp_test_wait_no_children     (void);
void         wp_test_warm_up              (void);

G_END_DECLS
