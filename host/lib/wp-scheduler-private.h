/* wp-scheduler-private.h: WpScheduler, which job runs where and when.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "wp-job-private.h"
#include "wp-job-queue-private.h"
#include "wp-worker-handle-private.h"

G_BEGIN_DECLS

typedef struct {
  guint64 submitted;
  guint64 completed;
  guint64 failed;
  guint64 cancelled;
  guint64 crashed;
  guint64 timed_out;
  guint64 spawned;
} WpSchedulerStats;

#define WP_SCHEDULER_DEFAULT_CANCEL_GRACE_MS 200

typedef struct _WpScheduler WpScheduler;

/* Called from the scheduler's source once a drain has ended: every job
 * returned, every worker reaped. */
typedef void (*WpSchedulerDrainedFunc) (WpScheduler *scheduler,
                                        gpointer     user_data);

struct _WpScheduler {
  /* Settings, the pool's properties.  The limits (max_frame,
   * memory_limit) and prefetch are changed through wp_scheduler_set_*(),
   * which apply them to the workers; the others hold for what starts
   * next. */
  char                   *worker_path;
  char                   *plugin_dir;
  guint                   n_workers;
  guint                   job_timeout_ms;
  guint                   max_jobs_per_worker;
  guint                   cancel_grace_ms;
  guint                   prefetch;       /* offers per busy worker, at most WP_CLAIM_SLOTS */
  gsize                   max_frame;
  guint64                 memory_limit;   /* 0: none */
  WpSandbox               sandbox;
  gboolean                background;     /* workers at idle CPU and I/O priority */
  char                  **launcher;       /* workers started through it; NULL: here */
  char                   *sandbox_in_force; /* the last started worker's; NULL before */

  GMainContext           *context;
  GObject                *owner;          /* the pool; held while user code runs */
  WpJobQueue              queue;          /* QUEUED jobs, in the order they run */
  WpWorkerSet             workers;
  WpJobCounts             counts;
  WpSchedulerStats        stats;
  guint64                 last_job_id;

  GQueue                  finished;       /* DONE jobs, to be returned */
  GMutex                  cancel_lock;
  GQueue                  cancelled;      /* jobs whose cancellable fired; under cancel_lock */
  GSource                *source;         /* returns jobs, handles cancels */

  /* The last plugin stat()ed, reused only within one worker event batch
   * (no caller's code runs in between; see stat_plugin()). */
  gboolean                stat_batch;
  char                   *stat_plugin;
  char                   *stat_path;
  WpPluginFileId          stat_id;
  gboolean                stat_valid;

  guint                   start_failures; /* in a row */
  gint64                  next_spawn_time;
  GSource                *spawn_source;

  gboolean                draining;       /* no new jobs; workers exit once idle */
  gboolean                aborted;        /* a drain that stopped its jobs */
  gboolean                drained;        /* and every worker is reaped */
  gboolean                drain_reported;
  WpSchedulerDrainedFunc  drained_func;
  gpointer                drained_data;
};

void      wp_scheduler_init              (WpScheduler            *self,
                                          GObject                *owner,
                                          GMainContext           *context,
                                          WpSchedulerDrainedFunc  drained_func,
                                          gpointer                drained_data);
void      wp_scheduler_shutdown          (WpScheduler            *self);
void      wp_scheduler_clear             (WpScheduler            *self);

void      wp_scheduler_submit            (WpScheduler            *self,
                                          WpJob                  *job);
void      wp_scheduler_refuse            (WpScheduler            *self,
                                          WpJob                  *job,
                                          GError                 *error);
void      wp_scheduler_drain             (WpScheduler            *self);
void      wp_scheduler_abort             (WpScheduler            *self);

void      wp_scheduler_set_limits        (WpScheduler            *self,
                                          gsize                   max_frame,
                                          guint64                 memory_limit,
                                          WpSandbox               sandbox);
void      wp_scheduler_set_background    (WpScheduler            *self,
                                          gboolean                background);
void      wp_scheduler_set_launcher      (WpScheduler            *self,
                                          const char * const     *launcher);
void      wp_scheduler_set_prefetch      (WpScheduler            *self,
                                          guint                   prefetch);

/* Internal to the scheduler and its prefetch unit (wp-prefetch.c). */
void      wp_scheduler_requeue           (WpScheduler            *self,
                                          WpJob                  *job);
void      wp_scheduler_finish            (WpScheduler            *self,
                                          WpJob                  *job,
                                          GVariant               *result,
                                          GError                 *error);
WpJob    *wp_scheduler_peek_runnable     (WpScheduler            *self,
                                          WpPluginFileId         *file_id);
gboolean  wp_scheduler_has_current_limits (WpScheduler           *self,
                                          WpWorkerHandle         *worker);

/* Prefetch: wp-prefetch.c. */
void      wp_prefetch_offer_jobs         (WpScheduler            *self);
gboolean  wp_prefetch_take_back_one      (WpScheduler            *self);
void      wp_prefetch_take_back_from     (WpScheduler            *self,
                                          WpWorkerHandle         *worker,
                                          guint                   keep);
void      wp_prefetch_yield_to           (WpScheduler            *self,
                                          WpJob                  *job);

G_END_DECLS
