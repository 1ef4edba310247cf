/* wp-prefetch.c: handing jobs to busy workers ahead of time.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * When jobs wait and every worker that can exist is busy, each busy
 * worker is offered up to `prefetch` of the next jobs (the scheduler's
 * setting, the pool's property; 0 turns this off).  Their frames are
 * written at once, so the worker goes from one job to the next without
 * waiting for the pool, and the pool reads several replies per wake-up.
 * An offered job has not started: the handle (wp-worker-handle.c) keeps
 * the offers in order, and the page of claims (wp-claim-private.h)
 * decides whether the worker took a job or the pool took it back first,
 * so it runs exactly once, or never.
 *
 * The policy, all of it here:
 *  - Offers are made only when no worker is idle or starting and no more
 *    can be started: a job never waits behind another while a worker
 *    could run it.  They go round the busy workers one job each, from the
 *    head of the queue, so the workers share it.
 *  - A worker is offered a job only if it loaded the job's plugin file or
 *    none, has the pool's current limits, and max_jobs_per_worker lets it
 *    run the job after those it holds.
 *  - Taken back: to run on a worker left idle with the queue empty; to
 *    make way for a more urgent job submitted later; when the job ahead
 *    is being stopped (the worker may be killed); when the limits or the
 *    prefetch setting change.  A job taken back returns to its place in
 *    the queue.  An offer the worker claimed first stays and runs in turn.
 */

#include "config.h"

#include "wp-scheduler-private.h"

/* Whether every worker that can exist is busy. */
static gboolean
all_workers_busy (WpScheduler *self)
{
  const WpWorkerSet *set = &self->workers;

  return set->n_idle == 0 && set->n_starting == 0 && set->n_busy >= self->n_workers;
}

/* Whether @worker may run a job of @plugin, whose file is @file_id,
 * after the ones it holds. */
static gboolean
can_run_next (WpScheduler          *self,
              WpWorkerHandle       *worker,
              const char           *plugin,
              const WpPluginFileId *file_id)
{
  const WpPluginFileId *loaded = wp_worker_handle_get_plugin_file_id (worker, plugin);
  guint n_offers = wp_worker_handle_get_n_offers (worker);
  /* The jobs it runs before this one: done, running, offered. */
  guint before = wp_worker_handle_get_jobs_done (worker) + 1 + n_offers;

  return n_offers < self->prefetch
         && (self->max_jobs_per_worker == 0 || before < self->max_jobs_per_worker)
         && (loaded == NULL || wp_plugin_file_id_equal (loaded, file_id))
         && wp_scheduler_has_current_limits (self, worker);
}

void
wp_prefetch_offer_jobs (WpScheduler *self)
{
  gboolean offered = TRUE;

  if (self->prefetch == 0 || wp_job_queue_is_empty (&self->queue) || !all_workers_busy (self))
    return;

  while (offered)
    {
      offered = FALSE;
      for (GList *link = self->workers.all.head; link != NULL; link = link->next)
        {
          WpWorkerHandle *worker = link->data;
          WpPluginFileId file_id;
          WpJob *job;

          if (!wp_worker_handle_can_take_offer (worker))
            continue;

          job = wp_scheduler_peek_runnable (self, &file_id);
          if (job == NULL)
            return;
          if (!can_run_next (self, worker, job->plugin, &file_id)
              || !wp_worker_handle_offer (worker, job))
            continue;

          wp_job_queue_remove (&self->queue, job);
          wp_job_set_state (job, WP_JOB_OFFERED, &self->counts);
          offered = TRUE;
        }
    }
}

/* For an idle worker and an empty queue: takes one offered job back from
 * a busy worker.  FALSE if there was none its worker had not claimed. */
gboolean
wp_prefetch_take_back_one (WpScheduler *self)
{
  if (self->counts.n_offered == 0)
    return FALSE;

  for (GList *link = self->workers.all.head; link != NULL; link = link->next)
    {
      WpJob *job = wp_worker_handle_revoke_last_offer (link->data);

      if (job != NULL)
        {
          wp_scheduler_requeue (self, job);
          return TRUE;
        }
    }

  return FALSE;
}

/* Takes back the offers of @worker beyond the first @keep, last first,
 * those it has not claimed. */
void
wp_prefetch_take_back_from (WpScheduler    *self,
                            WpWorkerHandle *worker,
                            guint           keep)
{
  WpJob *job;

  while (wp_worker_handle_get_n_offers (worker) > keep
         && (job = wp_worker_handle_revoke_last_offer (worker)) != NULL)
    wp_scheduler_requeue (self, job);
}

/* @job was just queued: offers of less urgent jobs go back behind it, so
 * that it is offered, or run, first. */
void
wp_prefetch_yield_to (WpScheduler *self,
                      WpJob       *job)
{
  if (self->counts.n_offered == 0)
    return;

  for (GList *link = self->workers.all.head; link != NULL; link = link->next)
    {
      WpWorkerHandle *worker = link->data;
      WpJob *last;

      while ((last = wp_worker_handle_peek_last_offer (worker)) != NULL
             && wp_job_is_before (job, last))
        {
          WpJob *taken = wp_worker_handle_revoke_last_offer (worker);

          if (taken == NULL)
            break;  /* claimed: it runs next anyway */
          wp_scheduler_requeue (self, taken);
        }
    }
}
