/* wp-job.c: WpJob, one request to the pool, and how it reaches its caller.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A job is a one-shot request (a call, or a plugin description); a worker
 * handle is the long-lived thing that runs it.  The scheduler owns every
 * job from submission until it is returned to its caller.  Its states:
 *
 *   NEW ──refused at submit (closed, bad name, too large, cancelled)──▶ DONE
 *    │ submit
 *    ▼
 *   QUEUED ──dispatch──▶ RUNNING ──reply, or the worker died with it──▶ DONE
 *    │ ▲ ▲                ▲ │ ╰──the worker died before taking it──▶ QUEUED
 *    │ │ │    the reply   │ │ cancelled, timed out, close aborted
 *    │ │ │  of the job    │ ▼
 *    │ │ │     ahead      │ STOPPING ──reply, death, or grace over──▶ DONE
 *    │ │ │                │
 *    │ │ ╰──revoked─── OFFERED ──revoked to cancel or close it──▶ DONE
 *    │ │                  ▲
 *    │ ╰──offer──────────╯ (every worker busy; see wp-prefetch.c)
 *    ╰──cancelled, closed, no such plugin, workers cannot start──▶ DONE
 *
 * OFFERED: the job's frame was sent to a busy worker, to run after the
 * job it runs.  It has not started: it counts as queued, its timeout has
 * not begun, and the scheduler may take it back as long as the worker has
 * not claimed it.
 *
 * Every change of state goes through wp_job_set_state(), which asserts
 * that the change is one drawn above and keeps the counts of live jobs.
 * A job enters DONE exactly once, after which wp_job_set_outcome() gives
 * it a result or an error (never both), and wp_job_return() hands that to
 * the caller: a WpAsyncResult returns it in the caller's context, a blocked
 * wp_pool_call_sync() caller is woken.  A STOPPING job's outcome is its
 * stop reason whatever the worker says afterwards, so a late result of a
 * cancelled job is dropped.
 *
 * Descriptors.  A job of wp_pool_call_with_unix_fd_list_async() holds
 * its GUnixFDList until it is freed, whatever happens to its workers; the
 * descriptors of its result go to the caller with the result, and are
 * closed with the job if the result is dropped (a job stopped meanwhile).
 *
 * Order.  A job runs before another when it is more urgent (a lower
 * priority value), or as urgent and submitted earlier: wp_job_is_before().
 */

#include "config.h"

#include <string.h>

#include "wp-async-result-private.h"
#include "wp-job-private.h"
#include "wp-wire-private.h"

/* One block: the job, then its plugin's and function's names. */
static WpJob *
job_new (WpJobKind     kind,
         const char   *plugin,
         const char   *function,
         GCancellable *cancellable)
{
  gsize plugin_size = strlen (plugin) + 1;
  gsize function_size = function != NULL ? strlen (function) + 1 : 0;
  WpJob *job = g_malloc0 (sizeof (WpJob) + plugin_size + function_size);
  char *names = (char *) (job + 1);

  job->link.data = job;
  job->cancel_link.data = job;
  job->kind = kind;
  job->state = WP_JOB_NEW;
  job->priority = G_PRIORITY_DEFAULT;
  job->plugin = memcpy (names, plugin, plugin_size);
  if (function != NULL)
    job->function = memcpy (names + plugin_size, function, function_size);
  job->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;

  return job;
}

/* @args: (nullable): sunk if floating; NULL is the empty tuple. */
WpJob *
wp_job_new_call (const char   *plugin,
                 const char   *function,
                 GVariant     *args,
                 guint         timeout_ms,
                 int           priority,
                 GCancellable *cancellable)
{
  WpJob *job = job_new (WP_JOB_CALL, plugin, function, cancellable);

  job->priority = priority;
  job->args = g_variant_ref_sink (args != NULL ? args : g_variant_new_tuple (NULL, 0));
  job->timeout_ms = timeout_ms;
  wp_wire_call_layout_init (&job->call_layout, job->plugin, job->function, job->args);

  return job;
}

WpJob *
wp_job_new_describe (const char   *plugin,
                     GCancellable *cancellable)
{
  return job_new (WP_JOB_DESCRIBE, plugin, NULL, cancellable);
}

void
wp_job_free (WpJob *job)
{
  g_assert (job->cancel_handler == 0 && !job->cancel_pending);
  g_assert (job->worker == NULL);

  g_clear_pointer (&job->args, g_variant_unref);
  g_clear_object (&job->fd_list);
  g_clear_object (&job->out_fd_list);
  g_clear_object (&job->cancellable);
  g_clear_error (&job->stop_reason);
  g_clear_object (&job->async_result);
  g_clear_pointer (&job->result, g_variant_unref);
  g_clear_error (&job->error);
  g_free (job);
}

/* "plugin.function" (or "plugin" for a description), for messages. */
char *
wp_job_dup_name (WpJob *job)
{
  if (job->kind == WP_JOB_DESCRIBE)
    return g_strdup (job->plugin);

  return g_strconcat (job->plugin, ".", job->function, NULL);
}

/* The size of the frame that will carry @job to a worker, header not
 * counted: what the worker's reader compares with its limit.  A call's
 * comes from its layout, measured once when the job was made. */
gsize
wp_job_request_size (WpJob *job)
{
  g_autoptr(GVariant) body = NULL;

  if (job->kind == WP_JOB_CALL)
    return wp_wire_call_layout_envelope_size (&job->call_layout);

  body = g_variant_ref_sink (g_variant_new ("(s)", job->plugin));
  return wp_wire_envelope_size (body);
}

/* Whether @job runs before @other: more urgent, or as urgent and older. */
gboolean
wp_job_is_before (const WpJob *job,
                  const WpJob *other)
{
  if (job->priority != other->priority)
    return job->priority < other->priority;

  return job->id < other->id;
}

static gboolean
state_change_allowed (WpJobState from,
                      WpJobState to)
{
  switch (from)
    {
    case WP_JOB_NEW:
      return to == WP_JOB_QUEUED || to == WP_JOB_DONE;
    case WP_JOB_QUEUED:
      return to == WP_JOB_OFFERED || to == WP_JOB_RUNNING || to == WP_JOB_DONE;
    case WP_JOB_OFFERED:
      return to == WP_JOB_QUEUED || to == WP_JOB_RUNNING || to == WP_JOB_DONE;
    case WP_JOB_RUNNING:
      return to == WP_JOB_STOPPING || to == WP_JOB_QUEUED || to == WP_JOB_DONE;
    case WP_JOB_STOPPING:
      return to == WP_JOB_DONE;
    case WP_JOB_DONE:
    default:
      return FALSE;
    }
}

static guint *
count_of (WpJobCounts *counts,
          WpJobState   state)
{
  switch (state)
    {
    case WP_JOB_QUEUED:
      return &counts->n_queued;
    case WP_JOB_OFFERED:
      return &counts->n_offered;
    case WP_JOB_RUNNING:
    case WP_JOB_STOPPING:
      return &counts->n_running;
    case WP_JOB_NEW:
    case WP_JOB_DONE:
    default:
      return NULL;
    }
}

/* The one place a job changes state. */
void
wp_job_set_state (WpJob       *job,
                  WpJobState   state,
                  WpJobCounts *counts)
{
  guint *from = count_of (counts, job->state);
  guint *to = count_of (counts, state);

  g_assert (state_change_allowed (job->state, state));

  if (from != NULL)
    {
      g_assert (*from > 0);
      (*from)--;
    }
  if (to != NULL)
    (*to)++;
  job->state = state;
}

/* Takes @result (a reference) or @error. */
void
wp_job_set_outcome (WpJob    *job,
                    GVariant *result,
                    GError   *error)
{
  g_assert (job->state == WP_JOB_DONE);
  g_assert ((result == NULL) != (error == NULL));
  g_assert (job->result == NULL && job->error == NULL);

  job->result = result;
  job->error = error;
}

/* Hands the outcome to the caller and frees the job. */
void
wp_job_return (WpJob *job)
{
  g_assert (job->state == WP_JOB_DONE);

  if (job->sync != NULL)
    {
      WpSyncCall *sync = job->sync;

      g_mutex_lock (&sync->lock);
      sync->result = g_steal_pointer (&job->result);
      sync->error = g_steal_pointer (&job->error);
      sync->done = TRUE;
      g_cond_broadcast (&sync->cond);
      g_mutex_unlock (&sync->lock);
    }
  else
    {
      if (job->out_fd_list != NULL && job->result != NULL)
        wp_async_result_set_fd_list (job->async_result, g_steal_pointer (&job->out_fd_list));
      wp_async_result_return (g_steal_pointer (&job->async_result),
                              g_steal_pointer (&job->result), g_steal_pointer (&job->error));
    }

  wp_job_free (job);
}

void
wp_sync_call_init (WpSyncCall *sync)
{
  g_mutex_init (&sync->lock);
  g_cond_init (&sync->cond);
  sync->done = FALSE;
  sync->result = NULL;
  sync->error = NULL;
}

void
wp_sync_call_clear (WpSyncCall *sync)
{
  g_mutex_clear (&sync->lock);
  g_cond_clear (&sync->cond);
  g_clear_pointer (&sync->result, g_variant_unref);
  g_clear_error (&sync->error);
}

gboolean
wp_sync_call_is_done (WpSyncCall *sync)
{
  gboolean done;

  g_mutex_lock (&sync->lock);
  done = sync->done;
  g_mutex_unlock (&sync->lock);

  return done;
}

void
wp_sync_call_wait (WpSyncCall *sync)
{
  g_mutex_lock (&sync->lock);
  while (!sync->done)
    g_cond_wait (&sync->cond, &sync->lock);
  g_mutex_unlock (&sync->lock);
}
