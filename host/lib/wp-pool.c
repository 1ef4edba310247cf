/* wp-pool.c: WpPool, an asynchronous pool of worker processes.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The pool owns the job queue, the worker handles and the policy: which
 * job runs where, when a worker is started, recycled, stopped or
 * replaced, and what each event means for a job.  The protocol and the
 * process belong to WpWorkerHandle (wp-worker-handle.c); the life of one request and
 * its return to the caller belong to WpJob (wp-job.c).
 *
 * Threads.  Everything here runs in the thread that runs the pool's
 * context (the thread-default context when the pool was created): the
 * public functions are called there, and the workers' sources are
 * attached there.  The one exception is wp_pool_call_sync() from another
 * thread, which hands its job over with g_main_context_invoke() and waits
 * on a condition variable; nothing else crosses threads.
 *
 * Invariants:
 *  - Every job reaches DONE exactly once, through finish_job(), which
 *    updates the counters.  So submitted = completed + failed + cancelled
 *    + queued + running at any moment, and crashed and timed-out are parts
 *    of failed.
 *  - No caller's callback runs inside a worker's event or inside a public
 *    function: finished jobs wait in `finished` until the pool's state is
 *    settled, and are returned at the end of the worker's dispatch (the
 *    `settled` event) or, for jobs finished elsewhere, by return_source,
 *    a source of their own.  A blocked wp_pool_call_sync() caller is
 *    woken at once (no user code runs).
 *  - A job is never failed because of something that happened to a worker
 *    before the job reached it: an idle worker's death, a recycle, a stale
 *    plugin, or a start-up failure leave queued jobs queued.  A job
 *    the worker never received is queued again at the head.
 *  - A worker that loaded a plugin file that has since changed (another
 *    inode or mtime) never gets another job for that plugin: dispatch
 *    retires it when it is idle, and a fresh worker loads the new file.
 *  - Dispatch happens after every event that can free a worker or add
 *    work; workers are started lazily, at most n_workers live at once
 *    (exiting ones do not count), and after a start-up failure only once
 *    the back-off has passed.
 *  - Closing: no new jobs; queued and running jobs finish; then idle
 *    workers get EOF; the close completes when the last one is reaped.
 *  - Limits: no job over the frame limit is queued, and every job runs on
 *    a worker started with the pool's current limits (frame size,
 *    memory).  Changing one retires the workers started with the old
 *    ones, idle ones at once and busy ones after their job, as for a
 *    stale plugin, and fails queued jobs over a new, smaller frame limit.
 *  - Prefetch (a job OFFERED to a busy worker, see wp-job.c and
 *    wp-worker-handle.c) only when no worker is idle or starting and no more can
 *    be started: a job never waits behind another while a worker could
 *    run it.  When a worker is idle and the queue is empty, offers are
 *    taken back from busy workers and run on the idle one.  An offer goes
 *    only to a worker that loaded the job's plugin file or none, that has
 *    the current limits, and that max_jobs_per_worker lets run it after
 *    the jobs it holds; a change of limits takes back the offers made to
 *    workers with the old ones.  An offered
 *    job the worker did not take when it died is queued again at the
 *    head, not counted against MAX_REQUEUES: it was behind the job that
 *    died.  Its timeout counts from when the pool reads the reply of the
 *    job ahead, which is after the worker started it by the time the pool
 *    takes to read that reply.
 *
 * Stopping a running job (cancel, timeout, or an aborted close): the
 * worker is told to cancel the job's GCancellable and given the grace
 * period; a reply in time keeps the worker, otherwise it is killed.  The
 * job completes at that moment with its stop reason, never with the late
 * result.  The jobs offered behind it go back to the queue as the stop
 * begins, so that none can be taken by a worker that is about to be
 * killed.
 */

/**
 * WpPool:
 *
 * An asynchronous pool of worker processes.
 *
 * A program hands the pool jobs: a plugin name, a function name and a
 * [struct@GLib.Variant] of arguments.  A worker process loads the plugin
 * (`NAME.so` in the pool's plugin directory) and runs the function
 * synchronously, one job at a time; the result comes back through the usual
 * GIO pattern, a [callback@Gio.AsyncReadyCallback] and a `_finish()`
 * function.  A job that crashes or hangs its worker fails alone: the worker
 * is replaced, other jobs are untouched.
 *
 * ```c
 * g_autoptr(WpPool) pool = wp_pool_new (NULL, 0, &error);
 *
 * wp_pool_call_async (pool, "demo", "add", g_variant_new ("(ii)", 2, 3),
 *                     NULL, on_added, NULL);
 * ```
 *
 * ## Threads
 *
 * A pool belongs to the [struct@GLib.MainContext] that is the thread-default
 * context of the thread calling [ctor@Workpool.Pool.new] (the pool's
 * context), and to that thread (the pool's thread).  Its pipes, timers and
 * supervision run when that context is iterated, so the context must be
 * running ([method@GLib.MainLoop.run] or the like) for jobs to progress.  A
 * [class@Workpool.Pool] is not thread-safe: every function must be called
 * from the pool's thread, with one exception,
 * [method@Workpool.Pool.call_sync], which may be called from any thread.  The
 * callback of an `_async` function runs in the thread-default main context
 * of its caller, as with any [class@Gio.Task], and never before the `_async`
 * function has returned.
 *
 * Workers are started from the pool's thread and die with it (they use
 * `PR_SET_PDEATHSIG`, which Linux ties to the thread that forked), so that
 * thread must outlive the pool.  The pool ignores `SIGPIPE` process-wide
 * unless the program has its own handler, as [class@Gio.Socket] does: a
 * worker that dies while the pool writes to it must not kill the program.
 *
 * ## Errors
 *
 * A job fails with the error its plugin function raised, in the function's
 * own domain; with an error of the %WP_POOL_ERROR domain (see
 * [error@Workpool.PoolError]) when the pool itself could not run it; or with
 * %G_IO_ERROR_CANCELLED when it was cancelled.
 */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include <workpool/workpool.h>

#include "wp-job-private.h"
#include "wp-plugin-dir-private.h"
#include "wp-wire-private.h"
#include "wp-worker-handle-private.h"

#define DEFAULT_CANCEL_GRACE_MS  200
#define START_BACKOFF_FIRST_MS   10
#define START_BACKOFF_MAX_MS     2000
#define START_FAILURES_TO_GIVE_UP 3
#define MAX_REQUEUES             3   /* a job whose workers keep dying before taking it */

typedef struct {
  guint64 submitted;
  guint64 completed;
  guint64 failed;
  guint64 cancelled;
  guint64 crashed;
  guint64 timed_out;
  guint64 spawned;
} WpPoolStats;

struct _WpPool {
  GObject       parent_instance;

  GMainContext *context;
  GThread      *thread;          /* the creator's */
  char         *plugin_dir;
  char         *worker_path;
  guint         n_workers;
  guint         job_timeout_ms;
  guint         max_jobs_per_worker;
  guint         cancel_grace_ms;
  gsize         max_frame;
  guint64       memory_limit;    /* 0: none */

  GQueue        queue;           /* WpJob, QUEUED, in submission order */
  GPtrArray    *workers;         /* WpWorkerHandle, until reaped */
  guint64       last_job_id;
  guint         n_running;       /* jobs RUNNING or STOPPING */
  guint         n_offered;       /* jobs OFFERED */
  WpPoolStats   stats;

  GQueue        finished;        /* WpJob, DONE, to be returned */
  GSource      *return_source;

  guint         start_failures;  /* in a row */
  char         *start_failure;   /* the last reason */
  gint64        next_spawn_time;
  GSource      *spawn_source;

  gboolean      closing;
  gboolean      closed;
  gboolean      close_aborted;
  GPtrArray    *close_tasks;     /* GTask */
  GSource      *close_cancel_source;
};

G_DEFINE_FINAL_TYPE (WpPool, wp_pool, G_TYPE_OBJECT)

static void dispatch           (WpPool *self);
static void return_close_tasks (WpPool *self);
static void start_job  (WpPool *self, WpWorkerHandle *worker, WpJob *job);

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

/* Finishing and returning jobs */

static void
count_outcome (WpPool       *self,
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
static void
finish_job (WpPool   *self,
            WpJob    *job,
            GVariant *result,
            GError   *error)
{
  g_assert (job->state != WP_JOB_DONE);
  g_assert (job->worker == NULL);

  if (job->in_queue)
    {
      g_queue_unlink (&self->queue, &job->link);
      job->in_queue = FALSE;
    }
  if (job->state == WP_JOB_RUNNING || job->state == WP_JOB_STOPPING)
    self->n_running--;
  else if (job->state == WP_JOB_OFFERED)
    self->n_offered--;

  if (job->cancel_source != NULL)
    {
      g_source_destroy (job->cancel_source);
      g_clear_pointer (&job->cancel_source, g_source_unref);
    }

  /* A job cancelled by its caller reports that, whatever else happened:
   * its result may have crossed the cancel. */
  if (job->cancellable != NULL && g_cancellable_is_cancelled (job->cancellable)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_pointer (&result, g_variant_unref);
      g_clear_error (&error);
      error = cancelled_error ();
    }

  job->state = WP_JOB_DONE;
  count_outcome (self, error);
  wp_job_set_outcome (job, result, error);

  if (job->sync != NULL)
    {
      wp_job_return (job);
      return;
    }

  g_queue_push_tail_link (&self->finished, &job->link);
}

static void
return_finished_jobs (WpPool *self)
{
  GQueue batch = self->finished;
  GList *link;

  g_queue_init (&self->finished);
  while ((link = g_queue_pop_head_link (&batch)) != NULL)
    wp_job_return (link->data);
}

/* The return source is ready whenever jobs wait in `finished`, or close
 * tasks wait for them to be returned first.  Both change only in the
 * pool's thread, so checking in prepare() and check() is enough: no
 * wake-up is needed, nothing to signal per job. */
typedef struct {
  GSource  source;
  WpPool  *pool;
} ReturnSource;

static gboolean
return_source_ready (WpPool *pool)
{
  return !g_queue_is_empty (&pool->finished)
         || (pool->closed && pool->close_tasks->len > 0);
}

static gboolean
return_source_prepare (GSource *source,
                       gint    *timeout)
{
  *timeout = -1;
  return return_source_ready (((ReturnSource *) source)->pool);
}

static gboolean
return_source_check (GSource *source)
{
  return return_source_ready (((ReturnSource *) source)->pool);
}

static gboolean
return_source_dispatch (GSource     *source,
                        GSourceFunc  callback,
                        gpointer     user_data)
{
  g_autoptr(WpPool) self = g_object_ref (((ReturnSource *) source)->pool);

  return_finished_jobs (self);
  return_close_tasks (self);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs return_source_funcs = {
  .prepare = return_source_prepare,
  .check = return_source_check,
  .dispatch = return_source_dispatch,
};

static void
fail_queued_jobs (WpPool       *self,
                  const GError *error)
{
  while (!g_queue_is_empty (&self->queue))
    finish_job (self, g_queue_peek_head (&self->queue), NULL, g_error_copy (error));
}

/* Stopping running jobs */

/* Back to the head of the queue, from a worker that never took it. */
static void
requeue_job (WpPool *self,
             WpJob  *job)
{
  g_assert (job->worker == NULL && !job->in_queue);

  if (job->state == WP_JOB_OFFERED)
    self->n_offered--;
  else
    self->n_running--;
  job->state = WP_JOB_QUEUED;
  job->in_queue = TRUE;
  g_queue_push_head_link (&self->queue, &job->link);
}

/* The jobs offered to @worker that it has not taken go back to the head
 * of the queue, last first, so that they keep their order. */
static void
requeue_offers (WpPool   *self,
                WpWorkerHandle *worker)
{
  WpJob *job;

  while ((job = wp_worker_handle_revoke_last_offer (worker)) != NULL)
    requeue_job (self, job);
}

/* RUNNING → STOPPING: asks the worker to cancel, and gives it the grace
 * period before on_worker_deadline() kills it.  The jobs offered behind
 * the stopped one are taken back now: the worker may be killed at the end
 * of the grace period, and a job it took in the meantime would die with
 * it.  The caller dispatches them. */
static void
stop_job (WpPool *self,
          WpJob  *job,
          GError *reason)
{
  g_assert (job->state == WP_JOB_RUNNING);

  job->state = WP_JOB_STOPPING;
  job->stop_reason = reason;
  wp_worker_handle_cancel (job->worker);
  wp_worker_handle_set_deadline (job->worker,
                          g_get_monotonic_time () + (gint64) self->cancel_grace_ms * 1000);
  requeue_offers (self, job->worker);
}

/* An OFFERED job ends with @reason unless its worker claimed it first;
 * then it stops with @reason as soon as it runs (job_started()). */
static void
revoke_and_finish (WpPool *self,
                   WpJob  *job,
                   GError *reason)
{
  if (wp_worker_handle_revoke_offer (job->worker, job))
    finish_job (self, job, NULL, reason);
  else
    g_error_free (reason);
}

static gboolean
on_job_cancelled (GCancellable *cancellable,
                  gpointer      user_data)
{
  WpJob *job = user_data;
  WpPool *self = job->pool;

  g_clear_pointer (&job->cancel_source, g_source_unref);

  if (job->state == WP_JOB_QUEUED)
    finish_job (self, job, NULL, cancelled_error ());
  else if (job->state == WP_JOB_OFFERED)
    revoke_and_finish (self, job, cancelled_error ());
  else if (job->state == WP_JOB_RUNNING)
    {
      stop_job (self, job, cancelled_error ());
      dispatch (self);
    }

  return G_SOURCE_REMOVE;
}

static void
watch_cancellable (WpPool *self,
                   WpJob  *job)
{
  if (job->cancellable == NULL)
    return;

  job->cancel_source = g_cancellable_source_new (job->cancellable);
  g_source_set_static_name (job->cancel_source, "WpPool job cancel");
  g_source_set_callback (job->cancel_source, G_SOURCE_FUNC (on_job_cancelled), job, NULL);
  g_source_attach (job->cancel_source, self->context);
}

/* Starting workers */

static void spawn_later (WpPool *self);

static void
worker_failed_to_start (WpPool     *self,
                        const char *reason)
{
  guint shift = MIN (self->start_failures, 10);
  gint64 backoff_ms = MIN ((gint64) START_BACKOFF_FIRST_MS << shift, START_BACKOFF_MAX_MS);
  gboolean any_ready = FALSE;

  self->start_failures++;
  g_free (self->start_failure);
  self->start_failure = g_strdup (reason);
  self->next_spawn_time = g_get_monotonic_time () + backoff_ms * 1000;

  for (guint i = 0; i < self->workers->len; i++)
    {
      WpWorkerHandleState state = wp_worker_handle_get_state (g_ptr_array_index (self->workers, i));

      any_ready = any_ready || (state > WP_WORKER_HANDLE_STARTING && state < WP_WORKER_HANDLE_EXITING);
    }

  /* With a worker still running, the queue will drain; without, fail it
   * rather than let callers wait for workers that never come. */
  if (self->start_failures >= START_FAILURES_TO_GIVE_UP && !any_ready)
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
worker_config (WpPool *self)
{
  WpWorkerHandleConfig config = {
    .worker_path = self->worker_path,
    .plugin_dir = self->plugin_dir,
    .max_frame = self->max_frame,
    .memory_limit = self->memory_limit,
  };

  return config;
}

static gboolean
worker_has_current_limits (WpPool   *self,
                           WpWorkerHandle *worker)
{
  WpWorkerHandleConfig config = worker_config (self);

  return wp_worker_handle_has_limits (worker, &config);
}

static gboolean
spawn_worker (WpPool *self)
{
  WpWorkerHandleConfig config = worker_config (self);
  g_autoptr(GError) error = NULL;
  WpWorkerHandle *worker;

  g_main_context_push_thread_default (self->context);
  worker = wp_worker_handle_spawn (&config, &worker_events, self, &error);
  g_main_context_pop_thread_default (self->context);

  if (worker == NULL)
    {
      worker_failed_to_start (self, error->message);
      return FALSE;
    }

  self->stats.spawned++;
  g_ptr_array_add (self->workers, worker);
  return TRUE;
}

static gboolean
on_spawn_time (gpointer user_data)
{
  WpPool *self = user_data;

  g_clear_pointer (&self->spawn_source, g_source_unref);
  dispatch (self);

  return G_SOURCE_REMOVE;
}

static void
spawn_later (WpPool *self)
{
  gint64 delay_us = self->next_spawn_time - g_get_monotonic_time ();

  if (self->spawn_source != NULL)
    return;

  self->spawn_source = g_timeout_source_new ((guint) MAX (1, (delay_us + 999) / 1000));
  g_source_set_static_name (self->spawn_source, "WpPool spawn");
  g_source_set_callback (self->spawn_source, on_spawn_time, self, NULL);
  g_source_attach (self->spawn_source, self->context);
}

/* Starts as many workers as the queue needs and the limit allows. */
static void
ensure_workers (WpPool *self)
{
  guint live = 0, starting = 0, waiting, wanted;

  for (guint i = 0; i < self->workers->len; i++)
    {
      WpWorkerHandle *worker = g_ptr_array_index (self->workers, i);

      live += wp_worker_handle_is_live (worker);
      starting += wp_worker_handle_get_state (worker) == WP_WORKER_HANDLE_STARTING;
    }

  /* Offered jobs wait too: a new worker takes them over when it is ready. */
  waiting = self->queue.length + self->n_offered;
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
        if (waiting > 0)
          spawn_later (self);
        break;
      }
}

/* Dispatching */

static WpWorkerHandle *
find_idle_worker (WpPool *self)
{
  for (guint i = 0; i < self->workers->len; i++)
    {
      WpWorkerHandle *worker = g_ptr_array_index (self->workers, i);

      if (wp_worker_handle_get_state (worker) == WP_WORKER_HANDLE_IDLE)
        return worker;
    }

  return NULL;
}

/* An idle worker that can run a job of @plugin, whose file is @file_id:
 * one that loaded that very file if there is one, else one that has not
 * loaded the plugin.  Idle workers that loaded an older file are retired. */
static WpWorkerHandle *
pick_worker_for (WpPool               *self,
                 const char           *plugin,
                 const WpPluginFileId *file_id)
{
  WpWorkerHandle *fresh = NULL;

  for (guint i = 0; i < self->workers->len; i++)
    {
      WpWorkerHandle *worker = g_ptr_array_index (self->workers, i);
      const WpPluginFileId *loaded;

      if (wp_worker_handle_get_state (worker) != WP_WORKER_HANDLE_IDLE)
        continue;

      loaded = wp_worker_handle_get_plugin_file_id (worker, plugin);
      if (loaded == NULL)
        fresh = fresh != NULL ? fresh : worker;
      else if (wp_plugin_file_id_equal (loaded, file_id))
        return worker;
      else
        wp_worker_handle_retire (worker);
    }

  return fresh;
}

/* The identity of @plugin's file now, or an error for a job that cannot
 * run.  Only a missing file is an error here; anything else, an
 * untrusted plugin included (wp-plugin-trust.c), is for the worker to
 * report precisely. */
static gboolean
stat_plugin (WpPool          *self,
             const char      *plugin,
             WpPluginFileId  *file_id,
             GError         **error)
{
  g_autofree char *path = wp_plugin_dir_file_path (self->plugin_dir, plugin);
  struct stat st;

  if (stat (path, &st) == 0)
    {
      wp_plugin_file_id_from_stat (file_id, &st);
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

static void
maybe_finish_close (WpPool *self)
{
  if (!self->closing || self->closed)
    return;

  if (g_queue_is_empty (&self->queue) && self->n_running == 0 && self->n_offered == 0)
    for (guint i = 0; i < self->workers->len; i++)
      {
        WpWorkerHandle *worker = g_ptr_array_index (self->workers, i);
        WpWorkerHandleState state = wp_worker_handle_get_state (worker);

        if (state == WP_WORKER_HANDLE_IDLE || state == WP_WORKER_HANDLE_STARTING)
          wp_worker_handle_retire (worker);
      }

  if (self->workers->len > 0)
    return;

  self->closed = TRUE;
  if (self->close_cancel_source != NULL)
    {
      g_source_destroy (self->close_cancel_source);
      g_clear_pointer (&self->close_cancel_source, g_source_unref);
    }

  /* The return source returns the close tasks, after the jobs that
   * finished before. */
}

static void
return_close_tasks (WpPool *self)
{
  g_autoptr(GPtrArray) tasks = NULL;

  if (!self->closed || self->close_tasks->len == 0)
    return;

  tasks = g_steal_pointer (&self->close_tasks);
  self->close_tasks = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < tasks->len; i++)
    {
      GTask *task = g_ptr_array_index (tasks, i);

      if (self->close_aborted)
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                 "Closing was cancelled; running jobs were stopped");
      else
        g_task_return_boolean (task, TRUE);
    }
}

/* The head of the queue, with its plugin file's identity in @file_id;
 * jobs whose plugin does not exist fail on the way.  NULL if none. */
static WpJob *
peek_runnable_job (WpPool         *self,
                   WpPluginFileId *file_id)
{
  WpJob *job;

  while ((job = g_queue_peek_head (&self->queue)) != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (stat_plugin (self, job->plugin, file_id, &error))
        return job;
      finish_job (self, job, NULL, g_steal_pointer (&error));
    }

  return NULL;
}

/* Starts queued jobs on idle workers. */
static void
run_queued_jobs (WpPool *self)
{
  while (find_idle_worker (self) != NULL)
    {
      WpPluginFileId file_id;
      WpJob *job = peek_runnable_job (self, &file_id);
      WpWorkerHandle *worker;

      if (job == NULL)
        return;

      worker = pick_worker_for (self, job->plugin, &file_id);
      if (worker != NULL)
        start_job (self, worker, job);
    }
}

/* For an idle worker and an empty queue: takes an offered job back from
 * a busy worker, to the head of the queue.  FALSE if there was none its
 * worker had not claimed. */
static gboolean
take_back_offer (WpPool *self)
{
  for (guint i = 0; i < self->workers->len; i++)
    {
      WpJob *job = wp_worker_handle_revoke_last_offer (g_ptr_array_index (self->workers, i));

      if (job != NULL)
        {
          requeue_job (self, job);
          return TRUE;
        }
    }

  return FALSE;
}

/* Whether every worker that can exist is busy: the only case in which a
 * job is offered ahead of time. */
static gboolean
all_workers_busy (WpPool *self)
{
  guint live = 0;

  for (guint i = 0; i < self->workers->len; i++)
    {
      WpWorkerHandle *worker = g_ptr_array_index (self->workers, i);
      WpWorkerHandleState state = wp_worker_handle_get_state (worker);

      if (state == WP_WORKER_HANDLE_IDLE || state == WP_WORKER_HANDLE_STARTING)
        return FALSE;
      live += wp_worker_handle_is_live (worker);
    }

  return live >= self->n_workers;
}

/* Whether @worker may run a job of @plugin, whose file is @file_id, after
 * the ones it holds: it has the pool's current limits, loaded that file
 * or none, and max_jobs_per_worker lets it. */
static gboolean
can_run_next (WpPool               *self,
              WpWorkerHandle             *worker,
              const char           *plugin,
              const WpPluginFileId *file_id)
{
  const WpPluginFileId *loaded = wp_worker_handle_get_plugin_file_id (worker, plugin);
  /* The jobs it runs before this one: done, running, offered. */
  guint before = wp_worker_handle_get_jobs_done (worker) + 1 + wp_worker_handle_get_n_offers (worker);

  return (self->max_jobs_per_worker == 0 || before < self->max_jobs_per_worker)
         && (loaded == NULL || wp_plugin_file_id_equal (loaded, file_id))
         && worker_has_current_limits (self, worker);
}

/* Offers the head of the queue to the busy workers that can take it,
 * one job each per round, so that they share the queue. */
static void
offer_jobs (WpPool *self)
{
  gboolean offered = TRUE;

  if (g_queue_is_empty (&self->queue) || !all_workers_busy (self))
    return;

  while (offered)
    {
      offered = FALSE;
      for (guint i = 0; i < self->workers->len; i++)
        {
          WpWorkerHandle *worker = g_ptr_array_index (self->workers, i);
          WpPluginFileId file_id;
          WpJob *job;

          if (!wp_worker_handle_can_take_offer (worker))
            continue;

          job = peek_runnable_job (self, &file_id);
          if (job == NULL)
            return;
          if (!can_run_next (self, worker, job->plugin, &file_id) || !wp_worker_handle_offer (worker, job))
            continue;

          g_queue_unlink (&self->queue, &job->link);
          job->in_queue = FALSE;
          job->state = WP_JOB_OFFERED;
          self->n_offered++;
          offered = TRUE;
        }
    }
}

static void
dispatch (WpPool *self)
{
  run_queued_jobs (self);
  /* A worker left idle takes over the jobs offered to busy ones. */
  while (g_queue_is_empty (&self->queue) && find_idle_worker (self) != NULL
         && take_back_offer (self))
    run_queued_jobs (self);

  offer_jobs (self);
  ensure_workers (self);
  maybe_finish_close (self);
}

/* The job now runs on its worker: its timeout starts.  One whose caller
 * cancelled it, or whose close was aborted, while it was offered and
 * claimed by the worker, is stopped at once. */
static void
job_started (WpPool   *self,
             WpWorkerHandle *worker,
             WpJob    *job)
{
  guint timeout_ms = job->timeout_ms != 0 ? job->timeout_ms : self->job_timeout_ms;

  job->state = WP_JOB_RUNNING;
  self->n_running++;

  if (job->cancellable != NULL && g_cancellable_is_cancelled (job->cancellable))
    stop_job (self, job, cancelled_error ());
  else if (self->close_aborted)
    stop_job (self, job, closed_error ());
  else if (timeout_ms > 0)
    wp_worker_handle_set_deadline (worker, g_get_monotonic_time () + (gint64) timeout_ms * 1000);
}

static void
start_job (WpPool   *self,
           WpWorkerHandle *worker,
           WpJob    *job)
{
  g_queue_unlink (&self->queue, &job->link);
  job->in_queue = FALSE;

  wp_worker_handle_run (worker, job);
  job_started (self, worker, job);
}

/* Worker events */

static void
on_worker_ready (WpWorkerHandle *worker,
                 gpointer  user_data)
{
  WpPool *self = user_data;

  self->start_failures = 0;
  g_clear_pointer (&self->start_failure, g_free);
  dispatch (self);
}

static void
on_worker_replied (WpWorkerHandle *worker,
                   WpJob    *job,
                   GVariant *result,
                   GError   *error,
                   gpointer  user_data)
{
  WpPool *self = user_data;
  WpJob *next = wp_worker_handle_get_job (worker);

  if (job->state == WP_JOB_STOPPING)
    {
      g_clear_pointer (&result, g_variant_unref);
      g_clear_error (&error);
      finish_job (self, job, NULL, g_steal_pointer (&job->stop_reason));
    }
  else
    {
      finish_job (self, job, result, error);
    }

  /* The offered job, if any, took its place. */
  if (next != NULL)
    {
      self->n_offered--;
      job_started (self, worker, next);
    }

  if (self->max_jobs_per_worker > 0
      && wp_worker_handle_get_jobs_done (worker) >= self->max_jobs_per_worker
      && wp_worker_handle_get_state (worker) == WP_WORKER_HANDLE_IDLE)
    wp_worker_handle_retire (worker);
  if (wp_worker_handle_get_state (worker) == WP_WORKER_HANDLE_IDLE && !worker_has_current_limits (self, worker))
    wp_worker_handle_retire (worker);

  dispatch (self);
}

static GError *
timed_out_error (WpPool *self,
                 WpJob  *job)
{
  g_autofree char *name = wp_job_dup_name (job);
  guint timeout_ms = job->timeout_ms != 0 ? job->timeout_ms : self->job_timeout_ms;

  return g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_TIMED_OUT,
                      "%s timed out after %u ms", name, timeout_ms);
}

static void
on_worker_deadline (WpWorkerHandle *worker,
                    gpointer  user_data)
{
  WpPool *self = user_data;
  WpJob *job = wp_worker_handle_get_job (worker);

  if (job == NULL)
    return;

  if (job->state == WP_JOB_RUNNING)
    {
      stop_job (self, job, timed_out_error (self, job));
      dispatch (self);
      return;
    }

  /* The grace period is over: the job stops now, with its worker, and
   * the jobs offered behind it, unless the worker took them, run
   * elsewhere (last first, so that they keep their order). */
  wp_worker_handle_kill (worker);
  job = wp_worker_handle_take_job (worker);
  finish_job (self, job, NULL, g_steal_pointer (&job->stop_reason));
  requeue_offers (self, worker);
  dispatch (self);
}

static void
on_worker_exited (WpWorkerHandle *worker,
                  gpointer  user_data)
{
  WpPool *self = user_data;
  WpJob *job = wp_worker_handle_take_job (worker);
  g_autoptr(GError) death = wp_worker_handle_dup_death_error (worker);
  gboolean offer_taken;
  WpJob *offered;

  /* The offered jobs first, last first, so that they keep their order
   * and a job queued again goes before them. */
  while ((offered = wp_worker_handle_take_last_offer (worker, &offer_taken)) != NULL)
    if (!offer_taken)
      {
        requeue_job (self, offered);
      }
    else
      {
        /* Only a worker that broke the protocol, or one killed as it
         * replied to the job ahead, takes an offer that is not running. */
        g_autofree char *name = wp_job_dup_name (offered);

        finish_job (self, offered, NULL, g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED,
                                                      "%s: %s", name, death->message));
      }

  if (job != NULL && job->state == WP_JOB_STOPPING)
    {
      finish_job (self, job, NULL, g_steal_pointer (&job->stop_reason));
    }
  else if (job != NULL && !wp_worker_handle_took_job (worker, job) && job->n_requeued < MAX_REQUEUES)
    {
      /* It died before it took the job: run it elsewhere. */
      job->n_requeued++;
      requeue_job (self, job);
    }
  else if (job != NULL)
    {
      g_autofree char *name = wp_job_dup_name (job);

      g_prefix_error (&death, "%s: ", name);
      finish_job (self, job, NULL, g_steal_pointer (&death));
    }
  else if (wp_worker_handle_failed_to_start (worker))
    {
      worker_failed_to_start (self, death->message);
    }

  g_ptr_array_remove_fast (self->workers, worker);
  dispatch (self);
}

static void
on_worker_settled (WpWorkerHandle *worker,
                   gpointer  user_data)
{
  g_autoptr(WpPool) self = g_object_ref (user_data);

  return_finished_jobs (self);
}

static const WpWorkerHandleEvents worker_events = {
  .ready = on_worker_ready,
  .replied = on_worker_replied,
  .deadline = on_worker_deadline,
  .exited = on_worker_exited,
  .settled = on_worker_settled,
};

/* GObject */

static void
wp_pool_dispose (GObject *object)
{
  WpPool *self = WP_POOL (object);
  g_autoptr(GError) closed = closed_error ();

  self->closing = TRUE;

  /* Kill first, then reap: the processes die in parallel. */
  for (guint i = 0; i < self->workers->len; i++)
    wp_worker_handle_kill (g_ptr_array_index (self->workers, i));

  while (self->workers->len > 0)
    {
      WpWorkerHandle *worker = g_ptr_array_steal_index_fast (self->workers, self->workers->len - 1);
      WpJob *job;

      gboolean taken;

      wp_worker_handle_detach (worker);
      wp_worker_handle_wait (worker);
      job = wp_worker_handle_take_job (worker);
      if (job != NULL)
        finish_job (self, job, NULL, g_error_copy (closed));
      while ((job = wp_worker_handle_take_last_offer (worker, &taken)) != NULL)
        finish_job (self, job, NULL, g_error_copy (closed));
      wp_worker_handle_unref (worker);
    }

  fail_queued_jobs (self, closed);
  return_finished_jobs (self);

  self->closed = TRUE;
  return_close_tasks (self);

  if (self->close_cancel_source != NULL)
    {
      g_source_destroy (self->close_cancel_source);
      g_clear_pointer (&self->close_cancel_source, g_source_unref);
    }
  if (self->spawn_source != NULL)
    {
      g_source_destroy (self->spawn_source);
      g_clear_pointer (&self->spawn_source, g_source_unref);
    }
  if (self->return_source != NULL)
    {
      g_source_destroy (self->return_source);
      g_clear_pointer (&self->return_source, g_source_unref);
    }

  G_OBJECT_CLASS (wp_pool_parent_class)->dispose (object);
}

static void
wp_pool_finalize (GObject *object)
{
  WpPool *self = WP_POOL (object);

  g_ptr_array_unref (self->workers);
  g_ptr_array_unref (self->close_tasks);
  g_free (self->start_failure);
  g_free (self->plugin_dir);
  g_free (self->worker_path);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (wp_pool_parent_class)->finalize (object);
}

static void
wp_pool_class_init (WpPoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  struct sigaction action;

  object_class->dispose = wp_pool_dispose;
  object_class->finalize = wp_pool_finalize;

  /* A worker can die while the pool writes to it.  As GSocket does, ignore
   * SIGPIPE process-wide unless the program installed a handler. */
  if (sigaction (SIGPIPE, NULL, &action) == 0 && action.sa_handler == SIG_DFL)
    signal (SIGPIPE, SIG_IGN);
}

static void
wp_pool_init (WpPool *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->thread = g_thread_self ();
  self->workers = g_ptr_array_new_with_free_func ((GDestroyNotify) wp_worker_handle_unref);
  self->close_tasks = g_ptr_array_new_with_free_func (g_object_unref);
  self->cancel_grace_ms = DEFAULT_CANCEL_GRACE_MS;
  self->max_frame = WP_WIRE_DEFAULT_MAX_FRAME;
  g_queue_init (&self->queue);
  g_queue_init (&self->finished);

  self->return_source = g_source_new (&return_source_funcs, sizeof (ReturnSource));
  ((ReturnSource *) self->return_source)->pool = self;
  g_source_set_static_name (self->return_source, "WpPool return");
  g_source_attach (self->return_source, self->context);
}

/* Public API */

static char *
resolve_plugin_dir (const char  *plugin_dir,
                    GError     **error)
{
  const char *dir = plugin_dir;

  if (dir == NULL)
    dir = g_getenv ("WORKPOOL_PLUGIN_DIR");
  if (dir == NULL || *dir == '\0')
    dir = WP_PLUGIN_DIR;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "Plugin directory %s does not exist or is not a directory", dir);
      return NULL;
    }

  return g_canonicalize_filename (dir, NULL);
}

/**
 * wp_pool_new:
 * @plugin_dir: (nullable) (type filename): where plugins are, or %NULL for
 *   `$WORKPOOL_PLUGIN_DIR` if set, else the installed plugin directory
 * @n_workers: the most worker processes to run at once, or 0 for the
 *   number of processors
 * @error: return location for a %G_IO_ERROR_NOT_FOUND when @plugin_dir
 *   is not a directory
 *
 * Creates a pool bound to the calling thread's thread-default main
 * context.  No process starts until the first job: workers are started as
 * jobs need them, up to @n_workers.  The worker executable is
 * `$WORKPOOL_WORKER` if set, else the installed one.
 *
 * The calling thread becomes the pool's thread: every other function must be
 * called from it (except [method@Workpool.Pool.call_sync]), and it must
 * outlive the pool.
 *
 * Returns: (transfer full): a new pool, or %NULL with @error set
 */
WpPool *
wp_pool_new (const char  *plugin_dir,
             guint        n_workers,
             GError     **error)
{
  g_autofree char *dir = NULL;
  const char *worker_path;
  WpPool *self;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  dir = resolve_plugin_dir (plugin_dir, error);
  if (dir == NULL)
    return NULL;

  worker_path = g_getenv ("WORKPOOL_WORKER");
  if (worker_path == NULL || *worker_path == '\0')
    worker_path = WP_WORKER_PATH;

  self = g_object_new (WP_TYPE_POOL, NULL);
  self->plugin_dir = g_steal_pointer (&dir);
  self->worker_path = g_strdup (worker_path);
  self->n_workers = n_workers > 0 ? n_workers : g_get_num_processors ();

  return self;
}

static GError *
oversized_job_error (WpPool *self,
                     WpJob  *job,
                     gsize   size)
{
  g_autofree char *name = wp_job_dup_name (job);

  return g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS,
                      "%s: the job is %" G_GSIZE_FORMAT " bytes, over the pool's limit of %"
                      G_GSIZE_FORMAT " bytes for a frame", name, size, self->max_frame);
}

static void
submit (WpPool *self,
        WpJob  *job)
{
  gsize size;

  job->pool = self;
  job->id = ++self->last_job_id;
  self->stats.submitted++;

  if (self->closing)
    finish_job (self, job, NULL, closed_error ());
  else if (!wp_plugin_name_is_valid (job->plugin))
    finish_job (self, job, NULL,
                g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN,
                             "'%s' is not a valid plugin name (a name is made of letters, "
                             "digits, '_' and '-')", job->plugin));
  else if (job->function != NULL && !g_utf8_validate (job->function, -1, NULL))
    finish_job (self, job, NULL,
                g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_FUNCTION,
                             "Function names are UTF-8"));
  else if ((size = wp_job_request_size (job)) > self->max_frame)
    finish_job (self, job, NULL, oversized_job_error (self, job, size));
  else if (job->cancellable != NULL && g_cancellable_is_cancelled (job->cancellable))
    finish_job (self, job, NULL, cancelled_error ());
  else
    {
      job->in_queue = TRUE;
      g_queue_push_tail_link (&self->queue, &job->link);
      watch_cancellable (self, job);
      dispatch (self);
    }
}

/* Submits @job for a caller waiting on a GTask. */
static void
submit_with_task (WpPool              *pool,
                  WpJob               *job,
                  gpointer             source_tag,
                  const char          *name,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  /* The pool watches the job's cancellable itself.  Given to the GTask,
   * it would delay the callback of a cancelled job by an iteration, past
   * the completion of a close. */
  job->task = g_task_new (pool, NULL, callback, user_data);
  g_task_set_source_tag (job->task, source_tag);
  g_task_set_name (job->task, name);
  g_task_set_check_cancellable (job->task, FALSE);

  submit (pool, job);
}

/**
 * wp_pool_call_async:
 * @pool: a #WpPool
 * @plugin: the plugin's name
 * @function: the function's name
 * @args: (nullable) (transfer none): the arguments, a tuple of the
 *   function's args_type, or %NULL for the empty tuple; if it is floating,
 *   the pool takes that reference (as [method@GLib.Variant.ref_sink] does),
 *   so the result of [ctor@GLib.Variant.new] can be passed directly
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called with the result
 * @user_data: (closure): data for @callback
 *
 * Runs @function of @plugin in a worker process, with the pool's job
 * timeout.  See [method@Workpool.Pool.call_full_async].
 *
 * Call from the pool's thread; @callback runs in the caller's thread-default
 * main context.  Finish with [method@Workpool.Pool.call_finish].
 */
void
wp_pool_call_async (WpPool              *pool,
                    const char          *plugin,
                    const char          *function,
                    GVariant            *args,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  wp_pool_call_full_async (pool, plugin, function, args, 0, cancellable, callback, user_data);
}

/**
 * wp_pool_call_full_async:
 * @pool: a #WpPool
 * @plugin: the plugin's name
 * @function: the function's name
 * @args: (nullable) (transfer none): the arguments, a tuple of the
 *   function's args_type, or %NULL for the empty tuple; if it is floating,
 *   the pool takes that reference (as [method@GLib.Variant.ref_sink] does),
 *   so the result of [ctor@GLib.Variant.new] can be passed directly
 * @timeout_ms: the job's timeout from when it starts on a worker, or 0
 *   for the pool's (see [method@Workpool.Pool.set_job_timeout])
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called with the result
 * @user_data: (closure): data for @callback
 *
 * Queues a job; it runs when a worker is free, jobs being taken in the
 * order they were submitted.  @callback runs in the thread-default main
 * context of the caller, never before this function has returned.
 *
 * Cancelling @cancellable fails a queued job at once; a running job's
 * worker is asked to cancel the function's own [class@Gio.Cancellable] and is
 * killed if the job has not ended after the cancel grace period.  Either
 * way the result is %G_IO_ERROR_CANCELLED.
 *
 * Call from the pool's thread.  Finish with
 * [method@Workpool.Pool.call_finish].
 */
void
wp_pool_call_full_async (WpPool              *pool,
                         const char          *plugin,
                         const char          *function,
                         GVariant            *args,
                         guint                timeout_ms,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  WpJob *job;

  g_return_if_fail (WP_IS_POOL (pool));
  g_return_if_fail (plugin != NULL);
  g_return_if_fail (function != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  job = wp_job_new_call (plugin, function, args, timeout_ms, cancellable);
  submit_with_task (pool, job, wp_pool_call_full_async, "wp_pool_call_async", callback, user_data);
}

/**
 * wp_pool_call_finish:
 * @pool: a #WpPool
 * @result: the [iface@Gio.AsyncResult] given to the callback
 * @error: return location for an error
 *
 * Gets the result of a job started with [method@Workpool.Pool.call_async] or
 * [method@Workpool.Pool.call_full_async].  An error raised by the plugin
 * function keeps its domain, code and message; the pool's own are in
 * %WP_POOL_ERROR; cancellation is %G_IO_ERROR_CANCELLED.
 *
 * Call from the callback given to the `_async` function, or later in the
 * same thread.
 *
 * Returns: (transfer full): the function's result, or %NULL with @error set
 */
GVariant *
wp_pool_call_finish (WpPool        *pool,
                     GAsyncResult  *result,
                     GError       **error)
{
  g_return_val_if_fail (WP_IS_POOL (pool), NULL);
  g_return_val_if_fail (g_task_is_valid (result, pool), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == wp_pool_call_full_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
submit_in_pool_context (gpointer user_data)
{
  WpJob *job = user_data;

  submit (job->pool, job);
  return G_SOURCE_REMOVE;
}

/**
 * wp_pool_call_sync:
 * @pool: a #WpPool
 * @plugin: the plugin's name
 * @function: the function's name
 * @args: (nullable) (transfer none): the arguments, a tuple of the
 *   function's args_type, or %NULL for the empty tuple; if it is floating,
 *   the pool takes that reference (as [method@GLib.Variant.ref_sink] does)
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @error: return location for an error
 *
 * Runs a job and waits for its result.  May be called from any thread.
 * From the pool's own thread (the one that created it, or one inside an
 * iteration of its context), this iterates the pool's context until the
 * job is done, so other sources of that context (other jobs' callbacks
 * among them) may run during the call.  From any other thread, the job
 * is handed to the pool's context, which must be running meanwhile, and
 * the caller blocks.
 *
 * Returns: (transfer full): the function's result, or %NULL with @error set
 */
GVariant *
wp_pool_call_sync (WpPool        *pool,
                   const char    *plugin,
                   const char    *function,
                   GVariant      *args,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_autoptr(WpPool) hold = NULL;
  WpSyncCall sync;
  GVariant *result;
  WpJob *job;

  g_return_val_if_fail (WP_IS_POOL (pool), NULL);
  g_return_val_if_fail (plugin != NULL, NULL);
  g_return_val_if_fail (function != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  hold = g_object_ref (pool);
  wp_sync_call_init (&sync);
  job = wp_job_new_call (plugin, function, args, 0, cancellable);
  job->sync = &sync;
  job->pool = pool;

  if (g_main_context_is_owner (pool->context) || g_thread_self () == pool->thread)
    {
      submit (pool, job);
      while (!wp_sync_call_is_done (&sync))
        g_main_context_iteration (pool->context, TRUE);
    }
  else
    {
      /* Not g_main_context_invoke(): it would run the submission right
       * here whenever this thread can acquire the context. */
      g_autoptr(GSource) source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_static_name (source, "WpPool sync submit");
      g_source_set_callback (source, submit_in_pool_context, job, NULL);
      g_source_attach (source, pool->context);
      wp_sync_call_wait (&sync);
    }

  result = g_steal_pointer (&sync.result);
  if (sync.error != NULL)
    g_propagate_error (error, g_steal_pointer (&sync.error));
  wp_sync_call_clear (&sync);

  return result;
}

static gboolean
on_close_cancelled (GCancellable *cancellable,
                    gpointer      user_data)
{
  WpPool *self = user_data;
  g_autoptr(GError) closed = closed_error ();

  g_clear_pointer (&self->close_cancel_source, g_source_unref);
  self->close_aborted = TRUE;
  fail_queued_jobs (self, closed);

  for (guint i = 0; i < self->workers->len; i++)
    {
      WpJob *job = wp_worker_handle_get_job (g_ptr_array_index (self->workers, i));

      if (job != NULL && job->state == WP_JOB_RUNNING)
        stop_job (self, job, g_error_copy (closed));
      /* Offers the worker took stop when they start (job_started()). */
      while ((job = wp_worker_handle_revoke_last_offer (g_ptr_array_index (self->workers, i))) != NULL)
        finish_job (self, job, NULL, g_error_copy (closed));
    }
  /* What stop_job() took back from the workers. */
  fail_queued_jobs (self, closed);

  dispatch (self);
  return G_SOURCE_REMOVE;
}

/**
 * wp_pool_close_async:
 * @pool: a #WpPool
 * @cancellable: (nullable): cancelling it stops waiting for jobs: queued
 *   jobs fail with %WP_POOL_ERROR_CLOSED, running ones are stopped as if
 *   cancelled, and the close finishes with %G_IO_ERROR_CANCELLED once the
 *   workers are gone
 * @callback: (scope async): called when every worker has exited
 * @user_data: (closure): data for @callback
 *
 * Closes the pool.  Later calls fail at once with %WP_POOL_ERROR_CLOSED.
 * Queued and running jobs finish first; then each worker is told to exit
 * (its plugins' shutdown functions run), and the close completes once
 * every worker process has exited and been reaped.  Closing a closed pool
 * completes at once.
 *
 * Call from the pool's thread.  Finish with
 * [method@Workpool.Pool.close_finish].
 */
void
wp_pool_close_async (WpPool              *pool,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (WP_IS_POOL (pool));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (pool, cancellable, callback, user_data);
  g_task_set_source_tag (task, wp_pool_close_async);
  g_task_set_name (task, "wp_pool_close_async");
  g_task_set_check_cancellable (task, FALSE);

  if (pool->closed)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }

  pool->closing = TRUE;
  g_ptr_array_add (pool->close_tasks, task);

  if (cancellable != NULL && pool->close_cancel_source == NULL && !pool->close_aborted)
    {
      pool->close_cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_static_name (pool->close_cancel_source, "WpPool close cancel");
      g_source_set_callback (pool->close_cancel_source, G_SOURCE_FUNC (on_close_cancelled),
                             pool, NULL);
      g_source_attach (pool->close_cancel_source, pool->context);
    }

  dispatch (pool);
}

/**
 * wp_pool_close_finish:
 * @pool: a #WpPool
 * @result: the [iface@Gio.AsyncResult] given to the callback
 * @error: return location for an error
 *
 * Finishes closing the pool, in the callback given to
 * [method@Workpool.Pool.close_async] or later in the same thread.
 *
 * Returns: %TRUE once the pool is closed; %FALSE with
 *   %G_IO_ERROR_CANCELLED if closing was cancelled (the pool is closed
 *   all the same)
 */
gboolean
wp_pool_close_finish (WpPool        *pool,
                      GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (WP_IS_POOL (pool), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, pool), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == wp_pool_close_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * wp_pool_list_plugins:
 * @pool: a #WpPool
 *
 * Lists the plugins in the pool's plugin directory, without loading them:
 * the regular files (or links to one) called `NAME.so` where NAME is a
 * valid plugin name.  A directory that cannot be read lists no plugin.
 * A plugin listed may still fail to load, for instance when a worker
 * does not trust it (its file or directory is writable by others than
 * its owner, or owned by neither root nor you); wp_pool_describe_async()
 * then fails with %WP_POOL_ERROR_PLUGIN_INVALID saying why.
 *
 * Call from the pool's thread.
 *
 * Returns: (transfer full) (array zero-terminated=1) (element-type utf8):
 *   the names, sorted, without `.so`; empty if there is none
 */
char **
wp_pool_list_plugins (WpPool *pool)
{
  g_return_val_if_fail (WP_IS_POOL (pool), NULL);

  return wp_plugin_dir_list (pool->plugin_dir);
}

/**
 * wp_pool_describe_async:
 * @pool: a #WpPool
 * @plugin: the plugin's name
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called with the description
 * @user_data: (closure): data for @callback
 *
 * Asks a worker to load @plugin and describe it.  This is a job like a
 * call: it waits for a free worker, and fails with the same
 * %WP_POOL_ERROR codes when the plugin is missing or invalid.
 *
 * Call from the pool's thread.  Finish with
 * [method@Workpool.Pool.describe_finish].
 */
void
wp_pool_describe_async (WpPool              *pool,
                        const char          *plugin,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  WpJob *job;

  g_return_if_fail (WP_IS_POOL (pool));
  g_return_if_fail (plugin != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  job = wp_job_new_describe (plugin, cancellable);
  submit_with_task (pool, job, wp_pool_describe_async, "wp_pool_describe_async",
                    callback, user_data);
}

/**
 * wp_pool_describe_finish:
 * @pool: a #WpPool
 * @result: the [iface@Gio.AsyncResult] given to the callback
 * @error: return location for an error
 *
 * Gets the description of a plugin asked for with
 * [method@Workpool.Pool.describe_async], in its callback or later in the
 * same thread.
 *
 * Returns: (transfer full): "(sssa(ssss))": the plugin's name, version and
 *   summary, and for each function its name, args_type, result_type and
 *   summary; or %NULL with @error set
 */
GVariant *
wp_pool_describe_finish (WpPool        *pool,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (WP_IS_POOL (pool), NULL);
  g_return_val_if_fail (g_task_is_valid (result, pool), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == wp_pool_describe_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * wp_pool_get_stats:
 * @pool: a #WpPool
 *
 * Counters of the pool's life so far, as an `a{sv}` of `t` (uint64):
 * submitted, completed, failed, cancelled, crashed, timed-out, queued,
 * prefetched, running, workers, spawned.  submitted = completed + failed
 * + cancelled + queued + running; crashed and timed-out count jobs also
 * counted in failed; prefetched counts the queued jobs already handed to
 * a busy worker, to run when its current job ends (the pool still takes
 * them back to cancel them or to run them on a worker that goes idle);
 * workers is the number of worker processes now, spawned the number ever
 * started.
 *
 * Call from the pool's thread.
 *
 * Returns: (transfer full): the counters
 */
GVariant *
wp_pool_get_stats (WpPool *pool)
{
  GVariantBuilder builder;

  g_return_val_if_fail (WP_IS_POOL (pool), NULL);

#define ADD(key, value) \
  g_variant_builder_add (&builder, "{sv}", key, g_variant_new_uint64 (value))

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  ADD ("submitted", pool->stats.submitted);
  ADD ("completed", pool->stats.completed);
  ADD ("failed", pool->stats.failed);
  ADD ("cancelled", pool->stats.cancelled);
  ADD ("crashed", pool->stats.crashed);
  ADD ("timed-out", pool->stats.timed_out);
  ADD ("queued", pool->queue.length + pool->n_offered);
  ADD ("prefetched", pool->n_offered);
  ADD ("running", pool->n_running);
  ADD ("workers", pool->workers->len);
  ADD ("spawned", pool->stats.spawned);

#undef ADD

  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/**
 * wp_pool_get_n_workers:
 * @pool: a #WpPool
 *
 * Gets the size of the pool, as given to [ctor@Workpool.Pool.new] (the
 * number of processors if that was 0).  Call from the pool's thread.
 *
 * Returns: the most worker processes the pool runs at once
 */
guint
wp_pool_get_n_workers (WpPool *pool)
{
  g_return_val_if_fail (WP_IS_POOL (pool), 0);

  return pool->n_workers;
}

/**
 * wp_pool_get_plugin_dir:
 * @pool: a #WpPool
 *
 * Gets the directory the pool loads plugins from, resolved by
 * [ctor@Workpool.Pool.new].  Call from the pool's thread.
 *
 * Returns: (type filename) (transfer none): the absolute path of the
 *   plugin directory, owned by the pool
 */
const char *
wp_pool_get_plugin_dir (WpPool *pool)
{
  g_return_val_if_fail (WP_IS_POOL (pool), NULL);

  return pool->plugin_dir;
}

/**
 * wp_pool_set_job_timeout:
 * @pool: a #WpPool
 * @timeout_ms: the longest a job may run, from when it starts on a
 *   worker (for a job handed to a busy worker ahead of time, from when
 *   the pool reads the reply of the job before it), in milliseconds; 0
 *   for no limit (the default)
 *
 * A job that runs longer is stopped like a cancelled one and fails with
 * %WP_POOL_ERROR_TIMED_OUT.  Applies to jobs started from now on.
 * [method@Workpool.Pool.call_full_async] sets a timeout per job instead.
 *
 * Call from the pool's thread.
 */
void
wp_pool_set_job_timeout (WpPool *pool,
                         guint   timeout_ms)
{
  g_return_if_fail (WP_IS_POOL (pool));

  pool->job_timeout_ms = timeout_ms;
}

/**
 * wp_pool_set_max_jobs_per_worker:
 * @pool: a #WpPool
 * @max_jobs: how many jobs a worker runs before it is replaced; 0 for no
 *   limit (the default)
 *
 * Recycling workers bounds what a leaking plugin can leak.  A recycled
 * worker exits cleanly after its last job; no job fails because of it.
 *
 * Call from the pool's thread.
 */
void
wp_pool_set_max_jobs_per_worker (WpPool *pool,
                                 guint   max_jobs)
{
  g_return_if_fail (WP_IS_POOL (pool));

  pool->max_jobs_per_worker = max_jobs;
}

/**
 * wp_pool_set_cancel_grace:
 * @pool: a #WpPool
 * @grace_ms: how long a worker may take to end a cancelled or timed-out
 *   job before it is killed, in milliseconds (default 200)
 *
 * Sets how long a worker may take to return from a job it was asked to
 * stop.  A function that honours its [class@Gio.Cancellable] keeps its worker;
 * one that does not is killed when the grace period ends, and the job
 * completes then.  Call from the pool's thread.
 */
void
wp_pool_set_cancel_grace (WpPool *pool,
                          guint   grace_ms)
{
  g_return_if_fail (WP_IS_POOL (pool));

  pool->cancel_grace_ms = grace_ms;
}

/* After a change of the workers' limits: see the invariants at the top. */
static void
limits_changed (WpPool *self)
{
  GList *link;

  /* A job offered to a worker with the old limits has not started: it
   * waits for a worker with the new ones, unless that worker took it. */
  for (guint i = 0; i < self->workers->len; i++)
    {
      WpWorkerHandle *worker = g_ptr_array_index (self->workers, i);
      WpJob *job;

      if (!worker_has_current_limits (self, worker))
        while ((job = wp_worker_handle_revoke_last_offer (worker)) != NULL)
          requeue_job (self, job);
    }

  link = self->queue.head;
  while (link != NULL)
    {
      WpJob *job = link->data;
      gsize size = wp_job_request_size (job);

      link = link->next;
      if (size > self->max_frame)
        finish_job (self, job, NULL, oversized_job_error (self, job, size));
    }

  for (guint i = 0; i < self->workers->len; i++)
    {
      WpWorkerHandle *worker = g_ptr_array_index (self->workers, i);
      WpWorkerHandleState state = wp_worker_handle_get_state (worker);

      if ((state == WP_WORKER_HANDLE_IDLE || state == WP_WORKER_HANDLE_STARTING)
          && !worker_has_current_limits (self, worker))
        wp_worker_handle_retire (worker);
    }

  dispatch (self);
}

/**
 * wp_pool_set_worker_memory_limit:
 * @pool: a #WpPool
 * @bytes: the most address space each worker process may use, in bytes;
 *   0 for no limit (the default)
 *
 * Limits the memory of each worker: a worker applies @bytes as its
 * `RLIMIT_AS` (soft and hard, so a plugin cannot raise it) as it starts,
 * before it loads any plugin.  A job that needs more fails cleanly: its
 * allocation fails, and when that ends the worker (g_malloc() aborts it,
 * a plugin that does not check what malloc() returns crashes), the job
 * fails with %WP_POOL_ERROR_WORKER_CRASHED, whose message says that the
 * worker ran under a memory limit of @bytes bytes; the worker is
 * replaced, and the program using the pool and the other jobs are
 * untouched.  A plugin that checks (g_try_malloc(), malloc()) may fail
 * the job with an error of its own instead, and keep its worker.
 *
 * The limit counts address space, not resident memory: the worker's own
 * libraries and thread stacks are in it (some tens of MiB), as is memory
 * a plugin maps without touching.  A limit too small for a worker to
 * start in makes jobs fail with %WP_POOL_ERROR_FAILED saying why, after
 * three attempts.  A hard limit already lower (a `ulimit -v` of the
 * user's) stays as it is.
 *
 * Workers start as jobs need them, so a limit set right after
 * [ctor@Workpool.Pool.new] holds for every worker.  Changed later, it holds
 * for every job submitted or still queued from then on: idle workers are
 * retired at once and busy ones after their job, and new workers start
 * with the new limit; running jobs finish under the old one.
 *
 * In a build with AddressSanitizer, which reserves terabytes of address
 * space when a process starts, the worker cannot apply the limit: it says
 * so once on its stderr and runs without it.
 *
 * Call from the pool's thread.
 */
void
wp_pool_set_worker_memory_limit (WpPool  *pool,
                                 guint64  bytes)
{
  g_return_if_fail (WP_IS_POOL (pool));

  if (pool->memory_limit == bytes)
    return;

  pool->memory_limit = bytes;
  limits_changed (pool);
}

/**
 * wp_pool_set_max_frame_size:
 * @pool: a #WpPool
 * @bytes: the largest message between the pool and a worker, in each
 *   direction, in bytes; at least 4096 (default 256 MiB); values over
 *   the protocol's own maximum (4 GiB less 64 bytes) mean that maximum
 *
 * Bounds the serialised size of a job (its plugin and function names and
 * its arguments) and of its result or error, and so the memory a worker
 * or a misbehaving plugin can make the program using the pool allocate.
 *
 * A job over the limit is refused when it is submitted: it fails with
 * %WP_POOL_ERROR_INVALID_ARGS naming its size and the limit, without
 * reaching a worker (the callback still runs in a later main-loop
 * iteration, never from inside the `_async` function).  A result or error
 * over the limit fails the job with %WP_POOL_ERROR_PROTOCOL naming both
 * sizes: the worker, which knows the limit, sends that error instead and
 * keeps running.  The pool enforces the limit on its own as well, since a
 * worker is not trusted: a worker that sends a larger message anyway is
 * killed and replaced, and its job fails with %WP_POOL_ERROR_PROTOCOL.
 *
 * A change holds for jobs submitted from then on, and for queued jobs:
 * those over a new, smaller limit fail at once as above.  Workers started
 * with the old limit are retired as for
 * [method@Workpool.Pool.set_worker_memory_limit].
 *
 * Call from the pool's thread.
 */
void
wp_pool_set_max_frame_size (WpPool *pool,
                            gsize   bytes)
{
  g_return_if_fail (WP_IS_POOL (pool));
  g_return_if_fail (bytes >= WP_WIRE_MIN_MAX_FRAME);

  bytes = MIN (bytes, WP_WIRE_MAX_FRAME_LIMIT);
  if (pool->max_frame == bytes)
    return;

  pool->max_frame = bytes;
  limits_changed (pool);
}
