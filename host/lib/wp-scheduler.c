/* wp-scheduler.c: WpScheduler, which job runs where and when.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The scheduler owns the jobs from submission until they are returned,
 * the queue, the worker handles (a WpWorkerSet), starting workers and
 * backing off, and what each worker event means for a job.  The pool
 * (wp-pool.c) owns the settings' public face, closing and disposal; the
 * handle (wp-worker-handle.c) owns the process and the protocol; the job
 * (wp-job.c) owns its state machine; prefetch is wp-prefetch.c.
 *
 * Threads.  Everything runs in the thread of the pool's context, except
 * the handler a job's GCancellable calls, in whatever thread cancels it:
 * it only puts the job on `cancelled`, under `cancel_lock`, and wakes
 * the scheduler's source, which acts on it in the pool's context.
 *
 * Invariants:
 *  - Every job reaches DONE exactly once, through wp_scheduler_finish(),
 *    which counts its outcome.  So submitted = completed + failed +
 *    cancelled + queued + running at any moment.
 *  - No caller's callback runs inside a worker's event, inside a public
 *    function or inside g_cancellable_cancel(): finished jobs wait in
 *    `finished`, and are returned at the end of a worker's dispatch (the
 *    `settled` event) or by the scheduler's own source.  Both return one
 *    job at a time and may recurse, so a callback may run a nested main
 *    loop that waits for another job, whatever ends it.  A blocked
 *    wp_pool_call_sync() caller is woken at once (no user code runs).
 *  - A job's cancellable costs one signal handler, nothing per main-loop
 *    iteration.
 *  - The queue is in the order jobs run: wp_job_is_before().  No job
 *    waits while a worker could run it, and a more urgent job never waits
 *    behind a less urgent one that has not started (wp-prefetch.c takes
 *    back such offers).
 *  - A job is never failed because of something that happened to a worker
 *    before the job reached it: an idle worker's death, a recycle, a stale
 *    plugin, or a start-up failure leave queued jobs queued.  A job the
 *    worker never received is queued again in its place.
 *  - A worker that loaded a plugin file that has since changed (another
 *    inode or mtime) never gets another job for that plugin: it is retired
 *    when idle, and a fresh worker loads the new file.
 *  - Dispatch happens after every event that can free a worker or add
 *    work; workers start lazily, at most n_workers live at once (exiting
 *    ones do not count), and after a start-up failure only once the
 *    back-off has passed.
 *  - Limits: every job runs on a worker started with the current limits
 *    (frame size, memory, sandbox, priority, launcher).  Changing one
 *    retires the workers started with the old ones, idle ones at once and
 *    busy ones after their job, and fails queued jobs over a new, smaller
 *    frame limit, or with descriptors once there is a launcher.
 *  - Draining (a close): no new jobs; queued and running jobs finish; then
 *    idle workers get EOF; the drain ends when the last one is reaped.
 *
 * Stopping a running job (cancel, timeout, an aborted drain): the worker
 * is told to cancel the job's GCancellable and given the grace period; a
 * reply in time keeps the worker, otherwise it is killed.  The job
 * completes at that moment with its stop reason, never with a late
 * result.  The jobs offered behind it are taken back as the stop begins,
 * so that none is taken by a worker about to be killed.
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <workpool/wp-error.h>

#include "wp-claim-private.h"
#include "wp-scheduler-private.h"
#include "wp-source-private.h"
#include "wp-wire-private.h"

#define START_BACKOFF_FIRST_MS    10
#define START_BACKOFF_MAX_MS      2000
#define START_FAILURES_TO_GIVE_UP 3
#define MAX_REQUEUES              3   /* a job whose workers keep dying before taking it */

static void dispatch (WpScheduler *self);

/* Errors */

static GError *
closed_error (void)
{
  return g_error_new_literal (WP_POOL_ERROR, WP_POOL_ERROR_CLOSED, "The pool is closed");
}

static GError *
cancelled_error (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "Operation was cancelled");
}

static GError *
oversized_job_error (WpScheduler *self,
                     WpJob       *job,
                     gsize        size)
{
  g_autofree char *name = wp_job_dup_name (job);

  return g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS,
                      "%s: the job is %" G_GSIZE_FORMAT " bytes, over the pool's limit of %"
                      G_GSIZE_FORMAT " bytes for a frame", name, size, self->max_frame);
}

/* Descriptors cannot cross to another machine, nor through a launcher's
 * byte stream. */
static GError *
fds_through_launcher_error (WpScheduler *self,
                            WpJob       *job)
{
  g_autofree char *name = wp_job_dup_name (job);

  return g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS,
                      "%s: file descriptors cannot reach workers started through a launcher "
                      "(%s); pass paths on a filesystem both machines share instead",
                      name, self->launcher[0]);
}

static GError *
timed_out_error (WpScheduler *self,
                 WpJob       *job)
{
  g_autofree char *name = wp_job_dup_name (job);
  guint timeout_ms = job->timeout_ms != 0 ? job->timeout_ms : self->job_timeout_ms;

  return g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_TIMED_OUT,
                      "%s timed out after %u ms", name, timeout_ms);
}

/* Cancellables */

/* In the thread that cancelled: hand the job to the pool's context. */
static void
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  WpJob *job = user_data;
  WpScheduler *self = job->scheduler;

  g_mutex_lock (&self->cancel_lock);
  if (!job->cancel_pending)
    {
      job->cancel_pending = TRUE;
      g_queue_push_tail_link (&self->cancelled, &job->cancel_link);
    }
  g_mutex_unlock (&self->cancel_lock);

  g_source_set_ready_time (self->source, 0);
}

static void
watch_cancellable (WpScheduler *self,
                   WpJob       *job)
{
  if (job->cancellable != NULL)
    job->cancel_handler = g_cancellable_connect (job->cancellable, G_CALLBACK (on_cancelled),
                                                 job, NULL);
}

static void
unwatch_cancellable (WpScheduler *self,
                     WpJob       *job)
{
  if (job->cancel_handler == 0)
    return;

  /* Waits for a handler running in another thread, so that the job is
   * off `cancelled` for good below. */
  g_cancellable_disconnect (job->cancellable, job->cancel_handler);
  job->cancel_handler = 0;

  g_mutex_lock (&self->cancel_lock);
  if (job->cancel_pending)
    {
      g_queue_unlink (&self->cancelled, &job->cancel_link);
      job->cancel_pending = FALSE;
    }
  g_mutex_unlock (&self->cancel_lock);
}

/* Finishing and returning jobs */

static void
count_outcome (WpScheduler  *self,
               const GError *error)
{
  if (error == NULL)
    self->stats.completed++;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    self->stats.cancelled++;
  else
    {
      self->stats.failed++;
      if (g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED))
        self->stats.crashed++;
      else if (g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_TIMED_OUT))
        self->stats.timed_out++;
    }
}

/* The one way into DONE.  Takes @result or @error. */
void
wp_scheduler_finish (WpScheduler *self,
                     WpJob       *job,
                     GVariant    *result,
                     GError      *error)
{
  g_assert (job->worker == NULL);

  if (job->state == WP_JOB_QUEUED)
    wp_job_queue_remove (&self->queue, job);
  unwatch_cancellable (self, job);

  /* A job cancelled by its caller reports that, whatever else happened:
   * its result may have crossed the cancel. */
  if (job->cancellable != NULL && g_cancellable_is_cancelled (job->cancellable)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_pointer (&result, g_variant_unref);
      g_clear_error (&error);
      error = cancelled_error ();
    }

  wp_job_set_state (job, WP_JOB_DONE, &self->counts);
  count_outcome (self, error);
  wp_job_set_outcome (job, result, error);

  if (job->sync != NULL)
    wp_job_return (job);
  else
    g_queue_push_tail_link (&self->finished, &job->link);
}

/* One at a time: a callback may iterate the context, and the jobs that
 * finish meanwhile are returned from inside it.  The caller holds the
 * owner: a job's GTask may hold its last reference. */
static void
end_stat_batch (WpScheduler *self)
{
  self->stat_batch = FALSE;
  self->stat_valid = FALSE;
}

static void
return_finished_jobs (WpScheduler *self)
{
  GList *link;

  /* Callers' code may run from here on: a plugin file it replaces must be
   * seen by the jobs it submits next. */
  end_stat_batch (self);

  while ((link = g_queue_pop_head_link (&self->finished)) != NULL)
    wp_job_return (link->data);
}

static void
fail_queued_jobs (WpScheduler  *self,
                  const GError *error)
{
  WpJob *job;

  while ((job = wp_job_queue_peek (&self->queue)) != NULL)
    wp_scheduler_finish (self, job, NULL, g_error_copy (error));
}

/* Back in the queue, in its place, from a worker that never took it. */
void
wp_scheduler_requeue (WpScheduler *self,
                      WpJob       *job)
{
  g_assert (job->worker == NULL);

  wp_job_set_state (job, WP_JOB_QUEUED, &self->counts);
  wp_job_queue_push (&self->queue, job);
}

/* Stopping running jobs */

/* RUNNING → STOPPING: asks the worker to cancel, and gives it the grace
 * period before on_worker_deadline() kills it.  The jobs offered behind
 * it are taken back now: a job the worker took in the grace period would
 * die with it.  The caller dispatches them. */
static void
stop_job (WpScheduler *self,
          WpJob       *job,
          GError      *reason)
{
  wp_job_set_state (job, WP_JOB_STOPPING, &self->counts);
  job->stop_reason = reason;
  wp_worker_handle_cancel (job->worker);
  wp_worker_handle_set_deadline (job->worker,
                                 g_get_monotonic_time () + (gint64) self->cancel_grace_ms * 1000);
  wp_prefetch_take_back_from (self, job->worker, 0);
}

/* In the pool's context: the job's cancellable fired. */
static void
cancel_job (WpScheduler *self,
            WpJob       *job)
{
  switch (job->state)
    {
    case WP_JOB_QUEUED:
      wp_scheduler_finish (self, job, NULL, cancelled_error ());
      break;

    case WP_JOB_OFFERED:
      /* Unless the worker claimed it first: then it stops as it starts. */
      if (wp_worker_handle_revoke_offer (job->worker, job))
        wp_scheduler_finish (self, job, NULL, cancelled_error ());
      break;

    case WP_JOB_RUNNING:
      stop_job (self, job, cancelled_error ());
      dispatch (self);
      break;

    case WP_JOB_NEW:
    case WP_JOB_STOPPING:
    case WP_JOB_DONE:
    default:
      break;
    }
}

static void
handle_cancelled_jobs (WpScheduler *self)
{
  for (;;)
    {
      GList *link;

      g_mutex_lock (&self->cancel_lock);
      link = g_queue_pop_head_link (&self->cancelled);
      if (link != NULL)
        ((WpJob *) link->data)->cancel_pending = FALSE;
      g_mutex_unlock (&self->cancel_lock);

      if (link == NULL)
        return;
      cancel_job (self, link->data);
    }
}

/* The scheduler's source: ready when jobs wait in `finished` or a drain
 * has ended (both change only in the pool's thread, so prepare() and
 * check() see them), or when a cancellable fired in any thread (its
 * handler sets the ready time, which wakes the context). */
typedef struct {
  GSource      source;
  WpScheduler *scheduler;
} SchedulerSource;

static gboolean
scheduler_source_ready (WpScheduler *self)
{
  return !g_queue_is_empty (&self->finished) || (self->drained && !self->drain_reported);
}

static gboolean
scheduler_source_prepare (GSource *source,
                          gint    *timeout)
{
  *timeout = -1;
  return scheduler_source_ready (((SchedulerSource *) source)->scheduler);
}

static gboolean
scheduler_source_check (GSource *source)
{
  return scheduler_source_ready (((SchedulerSource *) source)->scheduler);
}

static gboolean
scheduler_source_dispatch (GSource     *source,
                           GSourceFunc  callback,
                           gpointer     user_data)
{
  WpScheduler *self = ((SchedulerSource *) source)->scheduler;
  g_autoptr(GObject) hold = g_object_ref (self->owner);

  if (g_source_get_ready_time (source) >= 0)
    {
      g_source_set_ready_time (source, -1);
      handle_cancelled_jobs (self);
    }

  return_finished_jobs (self);

  if (self->drained && !self->drain_reported)
    {
      self->drain_reported = TRUE;
      self->drained_func (self, self->drained_data);
    }

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs scheduler_source_funcs = {
  .prepare = scheduler_source_prepare,
  .check = scheduler_source_check,
  .dispatch = scheduler_source_dispatch,
};

/* Starting workers */

static void
worker_failed_to_start (WpScheduler *self,
                        const char  *reason)
{
  guint shift = MIN (self->start_failures, 10);
  gint64 backoff_ms = MIN ((gint64) START_BACKOFF_FIRST_MS << shift, START_BACKOFF_MAX_MS);

  self->start_failures++;
  self->next_spawn_time = g_get_monotonic_time () + backoff_ms * 1000;

  /* With a worker still running, the queue will drain; without, fail it
   * rather than let callers wait for workers that never come. */
  if (self->start_failures >= START_FAILURES_TO_GIVE_UP
      && self->workers.n_idle + self->workers.n_busy == 0)
    {
      g_autoptr(GError) error = g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_FAILED,
                                             "Cannot start workers (%u attempts in a row "
                                             "failed): %s", self->start_failures, reason);
      fail_queued_jobs (self, error);
    }
}

static const WpWorkerHandleEvents worker_events;

/* What a worker started now gets. */
static WpWorkerHandleConfig
worker_config (WpScheduler *self)
{
  WpWorkerHandleConfig config = {
    .worker_path = self->worker_path,
    .plugin_dir = self->plugin_dir,
    .max_frame = self->max_frame,
    .memory_limit = self->memory_limit,
    .sandbox = self->sandbox,
    .background = self->background,
    .launcher = (const char * const *) self->launcher,
  };

  return config;
}

gboolean
wp_scheduler_has_current_limits (WpScheduler    *self,
                                 WpWorkerHandle *worker)
{
  WpWorkerHandleConfig config = worker_config (self);

  return wp_worker_handle_has_limits (worker, &config);
}

static gboolean
spawn_worker (WpScheduler *self)
{
  WpWorkerHandleConfig config = worker_config (self);
  g_autoptr(GError) error = NULL;
  WpWorkerHandle *worker;

  g_main_context_push_thread_default (self->context);
  worker = wp_worker_handle_spawn (&self->workers, &config, &worker_events, self, &error);
  g_main_context_pop_thread_default (self->context);

  if (worker == NULL)
    {
      worker_failed_to_start (self, error->message);
      return FALSE;
    }

  self->stats.spawned++;
  return TRUE;
}

static gboolean
on_spawn_time (gpointer user_data)
{
  WpScheduler *self = user_data;

  g_clear_pointer (&self->spawn_source, g_source_unref);
  dispatch (self);

  return G_SOURCE_REMOVE;
}

static void
spawn_later (WpScheduler *self)
{
  gint64 delay_us = self->next_spawn_time - g_get_monotonic_time ();

  if (self->spawn_source != NULL)
    return;

  self->spawn_source = g_timeout_source_new ((guint) MAX (1, (delay_us + 999) / 1000));
  g_source_set_static_name (self->spawn_source, "WpPool spawn");
  g_source_set_callback (self->spawn_source, on_spawn_time, self, NULL);
  g_source_attach (self->spawn_source, self->context);
}

/* Starts as many workers as the waiting jobs need and the limit allows. */
static void
ensure_workers (WpScheduler *self)
{
  guint live = wp_worker_set_n_live (&self->workers);
  guint starting = self->workers.n_starting;
  /* Offered jobs wait too: a new worker takes them over when it is ready. */
  guint waiting = self->counts.n_queued + self->counts.n_offered;
  guint wanted;

  if (waiting <= starting || live >= self->n_workers)
    return;

  wanted = MIN (waiting - starting, self->n_workers - live);

  if (g_get_monotonic_time () < self->next_spawn_time)
    {
      spawn_later (self);
      return;
    }

  for (guint i = 0; i < wanted; i++)
    if (!spawn_worker (self))
      {
        /* No process, so no event will come to retry: a timer must. */
        spawn_later (self);
        break;
      }
}

/* Dispatching */

/* The identity of @plugin's file now, or an error for a job that cannot
 * run.  Only a missing file is an error here; anything else, an
 * untrusted plugin included, is for the worker to report precisely. */
static gboolean
stat_plugin (WpScheduler     *self,
             const char      *plugin,
             WpPluginFileId  *file_id,
             GError         **error)
{
  struct stat st;

  /* Within one batch of a worker's events no code of the caller runs, so
   * a file replaced before a job was submitted is seen by that job's
   * stat all the same (the batch began after the submission). */
  if (self->stat_valid && self->stat_batch && strcmp (plugin, self->stat_plugin) == 0)
    {
      *file_id = self->stat_id;
      return TRUE;
    }

  if (self->stat_plugin == NULL || strcmp (plugin, self->stat_plugin) != 0)
    {
      g_free (self->stat_plugin);
      g_free (self->stat_path);
      self->stat_plugin = g_strdup (plugin);
      self->stat_path = wp_plugin_dir_file_path (self->plugin_dir, plugin);
    }
  self->stat_valid = FALSE;

  if (stat (self->stat_path, &st) == 0)
    {
      wp_plugin_file_id_from_stat (file_id, &st);
      self->stat_id = *file_id;
      self->stat_valid = self->stat_batch;
      return TRUE;
    }

  if (errno == ENOENT || errno == ENOTDIR)
    {
      g_set_error (error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN,
                   "No plugin '%s' in %s", plugin, self->plugin_dir);
      return FALSE;
    }

  memset (file_id, 0, sizeof *file_id);
  return TRUE;
}

/* The head of the queue, with its plugin file's identity in @file_id;
 * jobs whose plugin does not exist fail on the way.  NULL if none. */
WpJob *
wp_scheduler_peek_runnable (WpScheduler    *self,
                            WpPluginFileId *file_id)
{
  WpJob *job;

  while ((job = wp_job_queue_peek (&self->queue)) != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (stat_plugin (self, job->plugin, file_id, &error))
        return job;
      wp_scheduler_finish (self, job, NULL, g_steal_pointer (&error));
    }

  return NULL;
}

/* An idle worker that can run a job of @plugin, whose file is @file_id:
 * one that loaded that very file if there is one, else one that has not
 * loaded the plugin.  Idle workers that loaded an older file are retired. */
static WpWorkerHandle *
pick_worker_for (WpScheduler          *self,
                 const char           *plugin,
                 const WpPluginFileId *file_id)
{
  WpWorkerHandle *fresh = NULL;
  GList *link = self->workers.idle.head;

  while (link != NULL)
    {
      WpWorkerHandle *worker = link->data;
      const WpPluginFileId *loaded = wp_worker_handle_get_plugin_file_id (worker, plugin);

      link = link->next;
      if (loaded == NULL)
        fresh = fresh != NULL ? fresh : worker;
      else if (wp_plugin_file_id_equal (loaded, file_id))
        return worker;
      else
        wp_worker_handle_retire (worker);
    }

  return fresh;
}

/* The job now runs on its worker: its timeout starts.  One whose caller
 * cancelled it, or whose drain was aborted, while it was offered and
 * claimed by the worker, is stopped at once. */
static void
job_started (WpScheduler    *self,
             WpWorkerHandle *worker,
             WpJob          *job)
{
  guint timeout_ms = job->timeout_ms != 0 ? job->timeout_ms : self->job_timeout_ms;

  wp_job_set_state (job, WP_JOB_RUNNING, &self->counts);

  if (job->cancellable != NULL && g_cancellable_is_cancelled (job->cancellable))
    stop_job (self, job, cancelled_error ());
  else if (self->aborted)
    stop_job (self, job, closed_error ());
  else if (timeout_ms > 0)
    wp_worker_handle_set_deadline (worker, g_get_monotonic_time () + (gint64) timeout_ms * 1000);
}

/* Starts queued jobs on idle workers. */
static void
run_queued_jobs (WpScheduler *self)
{
  while (self->workers.n_idle > 0)
    {
      WpPluginFileId file_id;
      WpJob *job = wp_scheduler_peek_runnable (self, &file_id);
      WpWorkerHandle *worker;

      if (job == NULL)
        return;

      worker = pick_worker_for (self, job->plugin, &file_id);
      if (worker == NULL)
        continue;

      wp_job_queue_remove (&self->queue, job);
      wp_worker_handle_run (worker, job);
      job_started (self, worker, job);
    }
}

static void
finish_drain (WpScheduler *self)
{
  GList *link;

  if (!self->draining || self->drained)
    return;

  if (self->counts.n_queued + self->counts.n_offered + self->counts.n_running == 0)
    for (link = self->workers.all.head; link != NULL; link = link->next)
      {
        WpWorkerHandleState state = wp_worker_handle_get_state (link->data);

        if (state == WP_WORKER_HANDLE_IDLE || state == WP_WORKER_HANDLE_STARTING)
          wp_worker_handle_retire (link->data);
      }

  if (self->workers.all.length > 0)
    return;

  /* The source reports it, after the jobs that finished before. */
  self->drained = TRUE;
  wp_clear_source (&self->spawn_source);
}

static void
dispatch (WpScheduler *self)
{
  run_queued_jobs (self);
  /* A worker left idle takes over the jobs offered to busy ones. */
  while (wp_job_queue_is_empty (&self->queue) && self->workers.n_idle > 0
         && wp_prefetch_take_back_one (self))
    run_queued_jobs (self);

  wp_prefetch_offer_jobs (self);
  ensure_workers (self);
  finish_drain (self);
}

/* Worker events */

static void
on_worker_ready (WpWorkerHandle *worker,
                 gpointer        user_data)
{
  WpScheduler *self = user_data;

  self->start_failures = 0;
  g_free (self->sandbox_in_force);
  self->sandbox_in_force = g_strdup (wp_worker_handle_get_sandbox_in_force (worker));
  dispatch (self);
}

static void
on_worker_replied (WpWorkerHandle *worker,
                   WpJob          *job,
                   GVariant       *result,
                   GError         *error,
                   gpointer        user_data)
{
  WpScheduler *self = user_data;
  WpJob *next = wp_worker_handle_get_job (worker);

  self->stat_batch = TRUE;

  if (job->state == WP_JOB_STOPPING)
    {
      g_clear_pointer (&result, g_variant_unref);
      g_clear_error (&error);
      wp_scheduler_finish (self, job, NULL, g_steal_pointer (&job->stop_reason));
    }
  else
    {
      wp_scheduler_finish (self, job, result, error);
    }

  /* The first offered job, if any, took its place. */
  if (next != NULL)
    job_started (self, worker, next);

  if (wp_worker_handle_get_state (worker) == WP_WORKER_HANDLE_IDLE
      && ((self->max_jobs_per_worker > 0
           && wp_worker_handle_get_jobs_done (worker) >= self->max_jobs_per_worker)
          || !wp_scheduler_has_current_limits (self, worker)))
    wp_worker_handle_retire (worker);

  dispatch (self);
}

static void
on_worker_deadline (WpWorkerHandle *worker,
                    gpointer        user_data)
{
  WpScheduler *self = user_data;
  WpJob *job = wp_worker_handle_get_job (worker);

  if (job == NULL)
    return;

  if (job->state == WP_JOB_RUNNING)
    {
      stop_job (self, job, timed_out_error (self, job));
      dispatch (self);
      return;
    }

  /* The grace period is over: the job stops now, with its worker; the
   * jobs offered behind it were taken back when the stop began. */
  wp_worker_handle_kill (worker);
  job = wp_worker_handle_take_job (worker);
  wp_scheduler_finish (self, job, NULL, g_steal_pointer (&job->stop_reason));
  wp_prefetch_take_back_from (self, worker, 0);
  dispatch (self);
}

static void
on_worker_exited (WpWorkerHandle *worker,
                  gpointer        user_data)
{
  WpScheduler *self = user_data;
  WpJob *job = wp_worker_handle_take_job (worker);
  g_autoptr(GError) death = wp_worker_handle_dup_death_error (worker);
  gboolean offer_taken;
  WpJob *offered;

  /* The offered jobs first, last first, as they go back in the queue in
   * their place anyway. */
  while ((offered = wp_worker_handle_take_last_offer (worker, &offer_taken)) != NULL)
    if (!offer_taken)
      {
        wp_scheduler_requeue (self, offered);
      }
    else
      {
        /* Only a worker that broke the protocol, or one killed as it
         * replied to the job ahead, takes an offer that is not running. */
        g_autofree char *name = wp_job_dup_name (offered);

        wp_scheduler_finish (self, offered, NULL,
                             g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED,
                                          "%s: %s", name, death->message));
      }

  if (job != NULL && job->state == WP_JOB_STOPPING)
    {
      wp_scheduler_finish (self, job, NULL, g_steal_pointer (&job->stop_reason));
    }
  else if (job != NULL && !wp_worker_handle_took_job (worker, job)
           && job->n_requeued < MAX_REQUEUES)
    {
      /* It died before it took the job: run it elsewhere. */
      job->n_requeued++;
      wp_scheduler_requeue (self, job);
    }
  else if (job != NULL)
    {
      g_autofree char *name = wp_job_dup_name (job);

      g_prefix_error (&death, "%s: ", name);
      wp_scheduler_finish (self, job, NULL, g_steal_pointer (&death));
    }
  else if (wp_worker_handle_failed_to_start (worker))
    {
      worker_failed_to_start (self, death->message);
    }

  wp_worker_set_remove (&self->workers, worker);
  dispatch (self);
  end_stat_batch (self);
}

static void
on_worker_settled (WpWorkerHandle *worker,
                   gpointer        user_data)
{
  WpScheduler *self = user_data;
  g_autoptr(GObject) hold = g_object_ref (self->owner);

  return_finished_jobs (self);
}

static const WpWorkerHandleEvents worker_events = {
  .ready = on_worker_ready,
  .replied = on_worker_replied,
  .deadline = on_worker_deadline,
  .exited = on_worker_exited,
  .settled = on_worker_settled,
};

/* Public to the pool */

void
wp_scheduler_init (WpScheduler            *self,
                   GObject                *owner,
                   GMainContext           *context,
                   WpSchedulerDrainedFunc  drained_func,
                   gpointer                drained_data)
{
  memset (self, 0, sizeof *self);
  self->owner = owner;
  self->context = g_main_context_ref (context);
  self->cancel_grace_ms = WP_SCHEDULER_DEFAULT_CANCEL_GRACE_MS;
  self->prefetch = WP_CLAIM_SLOTS;
  self->max_frame = WP_WIRE_DEFAULT_MAX_FRAME;
  self->drained_func = drained_func;
  self->drained_data = drained_data;
  wp_job_queue_init (&self->queue);
  wp_worker_set_init (&self->workers);
  g_queue_init (&self->finished);
  g_queue_init (&self->cancelled);
  g_mutex_init (&self->cancel_lock);

  self->source = g_source_new (&scheduler_source_funcs, sizeof (SchedulerSource));
  ((SchedulerSource *) self->source)->scheduler = self;
  g_source_set_static_name (self->source, "WpPool scheduler");
  g_source_set_can_recurse (self->source, TRUE);
  g_source_attach (self->source, self->context);
}

/* Takes @job: it is queued, or refused at once (in a later iteration). */
void
wp_scheduler_submit (WpScheduler *self,
                     WpJob       *job)
{
  gsize size;

  job->scheduler = self;
  job->id = ++self->last_job_id;
  self->stats.submitted++;

  if (self->draining)
    wp_scheduler_finish (self, job, NULL, closed_error ());
  else if (!wp_plugin_name_is_valid (job->plugin))
    wp_scheduler_finish (self, job, NULL,
                         g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN,
                                      "'%s' is not a valid plugin name (a name is made of "
                                      "letters, digits, '_' and '-')", job->plugin));
  else if (job->function != NULL && !g_utf8_validate (job->function, -1, NULL))
    wp_scheduler_finish (self, job, NULL,
                         g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_FUNCTION,
                                      "Function names are UTF-8"));
  else if ((size = wp_job_request_size (job)) > self->max_frame)
    wp_scheduler_finish (self, job, NULL, oversized_job_error (self, job, size));
  else if (job->with_fds && self->launcher != NULL)
    wp_scheduler_finish (self, job, NULL, fds_through_launcher_error (self, job));
  else if (job->cancellable != NULL && g_cancellable_is_cancelled (job->cancellable))
    wp_scheduler_finish (self, job, NULL, cancelled_error ());
  else
    {
      wp_job_set_state (job, WP_JOB_QUEUED, &self->counts);
      wp_job_queue_push (&self->queue, job);
      watch_cancellable (self, job);
      wp_prefetch_yield_to (self, job);
      dispatch (self);
    }
}

/* Takes @job and @error: the job fails without being queued, in a later
 * iteration. */
void
wp_scheduler_refuse (WpScheduler *self,
                     WpJob       *job,
                     GError      *error)
{
  job->scheduler = self;
  job->id = ++self->last_job_id;
  self->stats.submitted++;
  wp_scheduler_finish (self, job, NULL, error);
}

/* No new jobs; the drained function is called once the queued and
 * running ones are returned and every worker has exited. */
void
wp_scheduler_drain (WpScheduler *self)
{
  self->draining = TRUE;
  dispatch (self);
}

/* Stops draining politely: queued jobs fail, running ones are stopped. */
void
wp_scheduler_abort (WpScheduler *self)
{
  g_autoptr(GError) closed = closed_error ();

  g_assert (self->draining);

  if (self->aborted)
    return;

  self->aborted = TRUE;
  fail_queued_jobs (self, closed);

  for (GList *link = self->workers.all.head; link != NULL; link = link->next)
    {
      WpWorkerHandle *worker = link->data;
      WpJob *job = wp_worker_handle_get_job (worker);

      if (job != NULL && job->state == WP_JOB_RUNNING)
        stop_job (self, job, g_error_copy (closed));
      /* Offers the worker took stop as they start (job_started()). */
      while ((job = wp_worker_handle_revoke_last_offer (worker)) != NULL)
        wp_scheduler_finish (self, job, NULL, g_error_copy (closed));
    }

  dispatch (self);
}

/* The workers' priority is one of their limits: workers started with the
 * other one are retired as for any limit. */
void
wp_scheduler_set_background (WpScheduler *self,
                             gboolean     background)
{
  self->background = background;
  wp_scheduler_set_limits (self, self->max_frame, self->memory_limit, self->sandbox);
}

/* The launcher is one of the limits too.  Jobs with descriptors that
 * wait fail, as they would have at submission. */
void
wp_scheduler_set_launcher (WpScheduler        *self,
                           const char * const *launcher)
{
  g_strfreev (self->launcher);
  self->launcher = g_strdupv ((char **) launcher);

  /* Offers to workers started the other way come back first. */
  for (GList *link = self->workers.all.head; link != NULL; link = link->next)
    if (!wp_scheduler_has_current_limits (self, link->data))
      wp_prefetch_take_back_from (self, link->data, 0);

  if (self->launcher != NULL)
    {
      g_autoptr(GPtrArray) queued = wp_job_queue_dup_jobs (&self->queue);

      for (guint i = 0; i < queued->len; i++)
        {
          WpJob *job = g_ptr_array_index (queued, i);

          if (job->with_fds)
            wp_scheduler_finish (self, job, NULL, fds_through_launcher_error (self, job));
        }
    }

  wp_scheduler_set_limits (self, self->max_frame, self->memory_limit, self->sandbox);
}

/* After a change of the workers' limits: see the invariants at the top. */
void
wp_scheduler_set_limits (WpScheduler *self,
                         gsize        max_frame,
                         guint64      memory_limit,
                         WpSandbox    sandbox)
{
  g_autoptr(GPtrArray) queued = NULL;
  GList *link;

  self->max_frame = max_frame;
  self->memory_limit = memory_limit;
  self->sandbox = sandbox;

  /* A job offered to a worker with the old limits has not started: it
   * waits for a worker with the new ones, unless that worker took it. */
  for (link = self->workers.all.head; link != NULL; link = link->next)
    if (!wp_scheduler_has_current_limits (self, link->data))
      wp_prefetch_take_back_from (self, link->data, 0);

  queued = wp_job_queue_dup_jobs (&self->queue);
  for (guint i = 0; i < queued->len; i++)
    {
      WpJob *job = g_ptr_array_index (queued, i);
      gsize size = wp_job_request_size (job);

      if (size > self->max_frame)
        wp_scheduler_finish (self, job, NULL, oversized_job_error (self, job, size));
    }

  link = self->workers.all.head;
  while (link != NULL)
    {
      WpWorkerHandle *worker = link->data;
      WpWorkerHandleState state = wp_worker_handle_get_state (worker);

      link = link->next;
      if ((state == WP_WORKER_HANDLE_IDLE || state == WP_WORKER_HANDLE_STARTING)
          && !wp_scheduler_has_current_limits (self, worker))
        wp_worker_handle_retire (worker);
    }

  dispatch (self);
}

void
wp_scheduler_set_prefetch (WpScheduler *self,
                           guint        prefetch)
{
  self->prefetch = MIN (prefetch, WP_CLAIM_SLOTS);

  for (GList *link = self->workers.all.head; link != NULL; link = link->next)
    wp_prefetch_take_back_from (self, link->data, self->prefetch);

  dispatch (self);
}

/* For a pool going away: kills and reaps every worker, and fails every
 * job not done with WP_POOL_ERROR_CLOSED, returning them now. */
void
wp_scheduler_shutdown (WpScheduler *self)
{
  g_autoptr(GError) closed = closed_error ();
  WpWorkerHandle *worker;

  self->draining = TRUE;

  /* Kill first, then reap: the processes die in parallel. */
  for (GList *link = self->workers.all.head; link != NULL; link = link->next)
    wp_worker_handle_kill (link->data);

  while ((worker = g_queue_peek_tail (&self->workers.all)) != NULL)
    {
      gboolean taken;
      WpJob *job;

      wp_worker_handle_detach (worker);
      wp_worker_handle_wait (worker);
      job = wp_worker_handle_take_job (worker);
      if (job != NULL)
        wp_scheduler_finish (self, job, NULL, g_error_copy (closed));
      while ((job = wp_worker_handle_take_last_offer (worker, &taken)) != NULL)
        wp_scheduler_finish (self, job, NULL, g_error_copy (closed));
      wp_worker_set_remove (&self->workers, worker);
    }

  fail_queued_jobs (self, closed);
  return_finished_jobs (self);

  wp_clear_source (&self->spawn_source);
  wp_clear_source (&self->source);
}

void
wp_scheduler_clear (WpScheduler *self)
{
  g_assert (self->source == NULL);
  g_assert (g_queue_is_empty (&self->cancelled));

  wp_job_queue_clear (&self->queue);
  g_mutex_clear (&self->cancel_lock);
  g_clear_pointer (&self->plugin_dir, g_free);
  g_clear_pointer (&self->sandbox_in_force, g_free);
  g_clear_pointer (&self->stat_plugin, g_free);
  g_clear_pointer (&self->stat_path, g_free);
  g_clear_pointer (&self->worker_path, g_free);
  g_clear_pointer (&self->launcher, g_strfreev);
  g_clear_pointer (&self->context, g_main_context_unref);
}
