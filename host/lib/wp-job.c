/* wp-job.c: WpJob, one request to the pool, and how it reaches its caller.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A job is a one-shot request (a call, or a plugin description); a worker
 * is the long-lived handle that runs it.  The pool owns every job from
 * submission until it is returned to its caller.  Its states:
 *
 *   QUEUED ──dispatch──▶ RUNNING ──reply──────────────────────────▶ DONE
 *     │ ▲                  ▲  │  ╰──worker died (crashed) ─────────────▶ DONE
 *     │ │                  │  │ cancelled / timed out
 *     │ │   the reply of   │  ▼
 *     │ │  the job ahead   │ STOPPING ──reply, death, or grace over: kill──▶ DONE
 *     │ │                  │
 *     │ ╰──revoked── OFFERED ──revoked: cancelled, closed─────────────▶ DONE
 *     │    (a worker ▲
 *     │  went idle;  │ offer: every worker is busy
 *     │  its worker  ╰──────────────────────── QUEUED
 *     │  died first)
 *     ╰──cancelled, closed, no such plugin, workers cannot start───────▶ DONE
 *
 * OFFERED: the job's frame was sent to a busy worker, to run after the
 * job it runs (prefetch, see wp-worker-handle.c).  It has not started: it
 * counts as queued, its timeout has not begun, and the pool may take it
 * back as long as the worker has not claimed it.  When the reply of the
 * job ahead arrives, it is RUNNING, from that moment.
 *
 * A job enters DONE exactly once, in the pool's finish_job(), which sets
 * its outcome (a result or an error, never both) with
 * wp_job_set_outcome().  wp_job_return() then hands the outcome to the
 * caller: a GTask returns it in the caller's context, a blocked
 * wp_pool_call_sync() caller is woken.  A STOPPING job's outcome is its
 * stop reason whatever the worker says afterwards, so a late result of a
 * cancelled job is dropped.
 */

#include "config.h"

#include "wp-job-private.h"
#include "wp-wire-private.h"

static WpJob *
job_new (WpJobKind     kind,
         const char   *plugin,
         GCancellable *cancellable)
{
  WpJob *job = g_new0 (WpJob, 1);

  job->link.data = job;
  job->kind = kind;
  job->state = WP_JOB_QUEUED;
  job->plugin = g_strdup (plugin);
  job->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;

  return job;
}

/* @args: (nullable): sunk if floating; NULL is the empty tuple. */
WpJob *
wp_job_new_call (const char   *plugin,
                 const char   *function,
                 GVariant     *args,
                 guint         timeout_ms,
                 GCancellable *cancellable)
{
  WpJob *job = job_new (WP_JOB_CALL, plugin, cancellable);

  job->function = g_strdup (function);
  job->args = g_variant_ref_sink (args != NULL ? args : g_variant_new_tuple (NULL, 0));
  job->timeout_ms = timeout_ms;

  return job;
}

WpJob *
wp_job_new_describe (const char   *plugin,
                     GCancellable *cancellable)
{
  return job_new (WP_JOB_DESCRIBE, plugin, cancellable);
}

void
wp_job_free (WpJob *job)
{
  g_assert (job->cancel_source == NULL);
  g_assert (job->worker == NULL);

  g_free (job->plugin);
  g_free (job->function);
  g_clear_pointer (&job->args, g_variant_unref);
  g_clear_object (&job->cancellable);
  g_clear_error (&job->stop_reason);
  g_clear_object (&job->task);
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
 * is computed without building anything (this runs once per job). */
gsize
wp_job_request_size (WpJob *job)
{
  g_autoptr(GVariant) body = NULL;

  if (job->kind == WP_JOB_CALL)
    return wp_wire_call_envelope_size (job->plugin, job->function, job->args);

  body = g_variant_ref_sink (g_variant_new ("(s)", job->plugin));
  return wp_wire_envelope_size (body);
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
  else if (job->result != NULL)
    {
      g_task_return_pointer (job->task, g_steal_pointer (&job->result),
                             (GDestroyNotify) g_variant_unref);
    }
  else
    {
      g_task_return_error (job->task, g_steal_pointer (&job->error));
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
