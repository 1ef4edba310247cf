/* wp-job-private.h: WpJob, one request to the pool, and its state machine.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

#include "wp-wire-private.h"

G_BEGIN_DECLS

typedef enum {
  WP_JOB_CALL,
  WP_JOB_DESCRIBE,
} WpJobKind;

/* The state machine of a job; see wp-job.c. */
typedef enum {
  WP_JOB_NEW,
  WP_JOB_QUEUED,
  WP_JOB_OFFERED,
  WP_JOB_RUNNING,
  WP_JOB_STOPPING,
  WP_JOB_DONE,
} WpJobState;

/* How many jobs are in each live state; kept by wp_job_set_state(). */
typedef struct {
  guint n_queued;
  guint n_offered;
  guint n_running;    /* RUNNING or STOPPING */
} WpJobCounts;

/* A caller blocked in wp_pool_call_sync(). */
typedef struct {
  GMutex    lock;
  GCond     cond;
  gboolean  done;
  GVariant *result;
  GError   *error;
} WpSyncCall;

typedef struct _WpWorkerHandle WpWorkerHandle;
typedef struct _WpAsyncResult WpAsyncResult;
typedef struct _WpJob WpJob;

struct _WpJob {
  GList           link;          /* in the job queue while QUEUED, else in
                                    the scheduler's list of finished jobs */
  GList           cancel_link;   /* in the scheduler's cancelled jobs */
  WpJobKind       kind;
  WpJobState      state;
  guint64         id;            /* submission order, from 1 */
  gpointer        scheduler;     /* the WpScheduler, from submission */
  int             priority;      /* lower is more urgent */
  const char     *plugin;        /* in the job's own block */
  const char     *function;      /* likewise; NULL for DESCRIBE */
  GVariant       *args;          /* NULL for DESCRIBE */
  WpWireCallLayout call_layout;  /* of its frame; CALL only */
  guint           timeout_ms;    /* 0: the pool's timeout */
  guint           n_requeued;    /* times its worker died before taking it */
  /* A job of wp_pool_call_with_unix_fd_list_async(): its `h` are indices
   * into fd_list (kept until the job is done, so a job run again still
   * has them), and its result's into out_fd_list. */
  gboolean        with_fds;
  GUnixFDList    *fd_list;       /* NULL for none */
  GUnixFDList    *out_fd_list;   /* once it replied, if with_fds */

  GCancellable   *cancellable;
  gulong          cancel_handler; /* of cancellable, while the job is live */
  gboolean        cancel_pending; /* in the cancelled list */
  WpWorkerHandle *worker;        /* while OFFERED, RUNNING or STOPPING */
  GError         *stop_reason;   /* while STOPPING: cancelled or timed out */

  /* The caller: one of the two. */
  WpAsyncResult  *async_result;
  WpSyncCall     *sync;

  /* The outcome, once DONE: one of the two. */
  GVariant       *result;
  GError         *error;
};

WpJob      *wp_job_new_call      (const char    *plugin,
                                  const char    *function,
                                  GVariant      *args,
                                  guint          timeout_ms,
                                  int            priority,
                                  GCancellable  *cancellable);
WpJob      *wp_job_new_describe  (const char    *plugin,
                                  GCancellable  *cancellable);
void        wp_job_free          (WpJob         *job);
char       *wp_job_dup_name      (WpJob         *job);
gsize       wp_job_request_size  (WpJob         *job);
gboolean    wp_job_is_before     (const WpJob   *job,
                                  const WpJob   *other);
void        wp_job_set_state     (WpJob         *job,
                                  WpJobState     state,
                                  WpJobCounts   *counts);
void        wp_job_set_outcome   (WpJob         *job,
                                  GVariant      *result,
                                  GError        *error);
void        wp_job_return        (WpJob         *job);

void        wp_sync_call_init    (WpSyncCall    *sync);
void        wp_sync_call_clear   (WpSyncCall    *sync);
gboolean    wp_sync_call_is_done (WpSyncCall    *sync);
void        wp_sync_call_wait    (WpSyncCall    *sync);

G_END_DECLS
