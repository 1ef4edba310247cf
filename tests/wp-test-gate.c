/* wp-test-gate.c: workers kept busy until the test lets them go.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See wp-test-gate.h.
 */

#include "wp-test-gate.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static WpTestGateFixture *current;  /* for the callbacks' count */
static gboolean in_cancel;

static void
gate_free (gpointer data)
{
  WpTestGate *gate = data;

  if (gate->fd >= 0)
    g_assert_cmpint (close (gate->fd), ==, 0);
  g_free (gate->path);
  g_free (gate);
}

static void
job_free (gpointer data)
{
  WpTestGateJob *job = data;

  g_free (job->token);
  g_clear_pointer (&job->result, g_variant_unref);
  g_clear_error (&job->error);
  g_free (job);
}

void
wp_test_gate_fixture_setup (WpTestGateFixture *fixture,
                            gconstpointer      data)
{
  g_autoptr(GError) error = NULL;

  fixture->params = data;
  fixture->base.tmp_dir = wp_test_make_tmp_dir ();
  fixture->base.pool = wp_pool_new (wp_test_plugin_dir (), fixture->params->n_workers, &error);
  g_assert_no_error (error);
  wp_pool_set_prefetch (fixture->base.pool, fixture->params->prefetch);
  g_assert_cmpuint (wp_pool_get_prefetch (fixture->base.pool), ==, fixture->params->prefetch);

  fixture->record_path = g_build_filename (fixture->base.tmp_dir, "record", NULL);
  fixture->started_path = g_build_filename (fixture->base.tmp_dir, "started", NULL);
  fixture->gates = g_ptr_array_new_with_free_func (gate_free);
  fixture->jobs = g_ptr_array_new_with_free_func (job_free);
  fixture->n_done = 0;
  current = fixture;
}

void
wp_test_gate_fixture_teardown (WpTestGateFixture *fixture,
                               gconstpointer      data)
{
  /* Closing the FIFOs ends every wait still going, so the close ends. */
  g_clear_pointer (&fixture->gates, g_ptr_array_unref);
  wp_test_fixture_teardown (&fixture->base, data);

  for (guint i = 0; i < fixture->jobs->len; i++)
    {
      WpTestGateJob *job = g_ptr_array_index (fixture->jobs, i);

      if (job->n_callbacks != 1)
        g_error ("job %s: its callback ran %u times, not once", job->token, job->n_callbacks);
    }
  g_clear_pointer (&fixture->jobs, g_ptr_array_unref);
  g_clear_pointer (&fixture->record_path, g_free);
  g_clear_pointer (&fixture->started_path, g_free);
  current = NULL;
}

/* ---- Gates ---- */

WpTestGate *
wp_test_gate_new (WpTestGateFixture *fixture,
                  const char        *name)
{
  WpTestGate *gate = g_new0 (WpTestGate, 1);

  gate->path = g_build_filename (fixture->base.tmp_dir, name, NULL);
  g_assert_cmpint (mkfifo (gate->path, 0600), ==, 0);
  /* O_RDWR: opening does not wait for a reader, and the FIFO has a writer
   * as long as the test holds it. */
  gate->fd = open (gate->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  g_assert_cmpint (gate->fd, >=, 0);
  g_ptr_array_add (fixture->gates, gate);

  return gate;
}

void
wp_test_gate_open_once (WpTestGate *gate)
{
  g_assert_cmpint (write (gate->fd, "x", 1), ==, 1);
}

/* ---- Jobs ---- */

static void
job_done (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  WpTestGateJob *job = user_data;

  if (!job->returned)
    g_error ("the callback of %s ran before the _async function returned", job->token);
  if (in_cancel)
    g_error ("the callback of %s ran inside g_cancellable_cancel()", job->token);
  if (job->n_callbacks != 0)
    g_error ("the callback of %s ran more than once", job->token);
  job->n_callbacks++;

  job->result = wp_pool_call_finish (WP_POOL (source), result, &job->error);
  g_assert_true ((job->result == NULL) != (job->error == NULL));
  if (current != NULL)
    job->callback_order = current->n_done++;
}

static WpTestGateJob *
job_add (WpTestGateFixture *fixture,
         const char        *token,
         int                priority)
{
  WpTestGateJob *job = g_new0 (WpTestGateJob, 1);

  job->token = g_strdup (token);
  job->priority = priority;
  job->index = fixture->jobs->len;
  g_ptr_array_add (fixture->jobs, job);
  return job;
}

WpTestGateJob *
wp_test_gate_submit (WpTestGateFixture *fixture,
                     const char        *token,
                     const char        *plugin,
                     const char        *function,
                     GVariant          *args,
                     int                priority,
                     gboolean           plain,
                     GCancellable      *cancellable)
{
  WpTestGateJob *job = job_add (fixture, token, plain ? G_PRIORITY_DEFAULT : priority);

  if (plain)
    wp_pool_call_async (fixture->base.pool, plugin, function, args, cancellable, job_done, job);
  else
    wp_pool_call_full_async (fixture->base.pool, plugin, function, args, 0, priority,
                             cancellable, job_done, job);
  job->returned = TRUE;
  return job;
}

WpTestGateJob *
wp_test_gate_submit_record (WpTestGateFixture *fixture,
                            const char        *token,
                            int                priority,
                            gboolean           plain,
                            GCancellable      *cancellable)
{
  return wp_test_gate_submit (fixture, token, "order", "record",
                              g_variant_new ("(ss)", fixture->record_path, token),
                              priority, plain, cancellable);
}

WpTestGateJob *
wp_test_gate_submit_wait (WpTestGateFixture *fixture,
                          WpTestGate        *gate,
                          GCancellable      *cancellable)
{
  g_autofree char *name = g_path_get_basename (gate->path);
  g_autofree char *token = g_strdup_printf ("wait:%s", name);

  return wp_test_gate_submit (fixture, token, "order", "wait",
                              g_variant_new ("(ss)", gate->path, fixture->started_path),
                              G_PRIORITY_DEFAULT, FALSE, cancellable);
}

gboolean
wp_test_gate_job_is_done (WpTestGateJob *job)
{
  return job->n_callbacks > 0;
}

static gboolean
job_is_done (gpointer data)
{
  return wp_test_gate_job_is_done (data);
}

void
wp_test_gate_job_wait (WpTestGateJob *job)
{
  g_autofree char *what = g_strdup_printf ("the callback of %s", job->token);

  wp_test_wait_until_full (NULL, job_is_done, job, WP_TEST_TIMEOUT_MS, what);
}

static gboolean
all_done (gpointer data)
{
  WpTestGateFixture *fixture = data;

  return fixture->n_done == fixture->jobs->len;
}

void
wp_test_gate_wait_all (WpTestGateFixture *fixture)
{
  wp_test_wait_until_full (NULL, all_done, fixture, WP_TEST_TIMEOUT_MS, "every callback");
}

GStrv
wp_test_gate_read_lines (const char *path)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_file_get_contents (path, &contents, NULL, &error))
    {
      g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
      return g_new0 (char *, 1);
    }

  g_strchomp (contents);
  return *contents == '\0' ? g_new0 (char *, 1) : g_strsplit (contents, "\n", -1);
}

typedef struct {
  const char *path;
  guint       n_lines;
} LinesWait;

static gboolean
has_lines (gpointer data)
{
  LinesWait *wait = data;
  g_auto(GStrv) lines = wp_test_gate_read_lines (wait->path);

  return g_strv_length (lines) >= wait->n_lines;
}

void
wp_test_gate_wait_lines (const char *path,
                         guint       n_lines)
{
  LinesWait wait = { path, n_lines };
  g_autofree char *what = g_strdup_printf ("%u lines in %s", n_lines, path);

  wp_test_wait_until_full (NULL, has_lines, &wait, WP_TEST_TIMEOUT_MS, what);
}

void
wp_test_gate_block_workers (WpTestGateFixture  *fixture,
                            guint               n,
                            WpTestGate        **gates,
                            WpTestGateJob     **waits)
{
  g_auto(GStrv) before = wp_test_gate_read_lines (fixture->started_path);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("gate-%u", fixture->gates->len);

      gates[i] = wp_test_gate_new (fixture, name);
      waits[i] = wp_test_gate_submit_wait (fixture, gates[i], NULL);
    }

  wp_test_gate_wait_lines (fixture->started_path, g_strv_length (before) + n);
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "running"), >=, n);
}

void
wp_test_gate_drain (void)
{
  for (guint i = 0; i < 10000 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

void
wp_test_gate_cancel (GCancellable *cancellable)
{
  g_assert_false (in_cancel);
  in_cancel = TRUE;
  g_cancellable_cancel (cancellable);
  in_cancel = FALSE;
}
