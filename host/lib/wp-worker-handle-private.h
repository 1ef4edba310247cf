/* wp-worker-handle-private.h: WpWorkerHandle, the pool's handle on one
 * worker process, and WpWorkerSet, the handles of one pool by state.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "wp-job-private.h"
#include "wp-plugin-dir-private.h"
#include "workpool/wp-pool.h"

G_BEGIN_DECLS

/* The state machine of a worker; see wp-worker-handle.c. */
typedef enum {
  WP_WORKER_HANDLE_STARTING,
  WP_WORKER_HANDLE_IDLE,
  WP_WORKER_HANDLE_BUSY,
  WP_WORKER_HANDLE_CANCELLING,
  WP_WORKER_HANDLE_EXITING,
  WP_WORKER_HANDLE_DEAD,
} WpWorkerHandleState;

typedef struct {
  const char *worker_path;
  const char *plugin_dir;
  gsize       max_frame;     /* bytes, both directions */
  guint64     memory_limit;  /* RLIMIT_AS in bytes; 0 for none */
  WpSandbox   sandbox;
  gboolean    background;    /* idle CPU and I/O priority */
  const char * const *launcher; /* argv before the worker's; NULL to start it here */
} WpWorkerHandleConfig;

/* The handles of one pool.  Each handle keeps its place here as it
 * changes state, so the scheduler asks instead of scanning. */
typedef struct {
  GQueue all;         /* WpWorkerHandle, each with a reference, until removed */
  GQueue idle;        /* the IDLE ones, longest idle first */
  guint  n_starting;
  guint  n_idle;
  guint  n_busy;      /* BUSY or CANCELLING */
} WpWorkerSet;

/* Live: counts against the pool's number of workers. */
static inline guint
wp_worker_set_n_live (const WpWorkerSet *set)
{
  return set->n_starting + set->n_idle + set->n_busy;
}

/* What a worker tells its pool.  Each is called from the worker's
 * sources in the pool's context, never from a call the pool made. */
typedef struct {
  /* STARTING → IDLE: the worker said hello. */
  void (*ready)    (WpWorkerHandle *worker,
                    gpointer        user_data);
  /* BUSY or CANCELLING → IDLE: the job's reply.  Takes @result or @error.
   * If the worker held offered jobs, it is now BUSY with the first. */
  void (*replied)  (WpWorkerHandle *worker,
                    WpJob          *job,
                    GVariant       *result,
                    GError         *error,
                    gpointer        user_data);
  /* The deadline set with wp_worker_handle_set_deadline() has come. */
  void (*deadline) (WpWorkerHandle *worker,
                    gpointer        user_data);
  /* → DEAD: the process is gone and reaped.  wp_worker_handle_get_job() is the
   * job it was running, if any, and wp_worker_handle_dup_death_error() says how
   * it died. */
  void (*exited)   (WpWorkerHandle *worker,
                    gpointer        user_data);
  /* At the end of each dispatch of the worker's source, after the events
   * above: the pool returns finished jobs to their callers here, without
   * waiting for another main-loop iteration. */
  void (*settled)  (WpWorkerHandle *worker,
                    gpointer        user_data);
} WpWorkerHandleEvents;

void                   wp_worker_set_init                  (WpWorkerSet                 *set);
void                   wp_worker_set_remove                (WpWorkerSet                 *set,
                                                            WpWorkerHandle              *worker);

WpWorkerHandle        *wp_worker_handle_spawn              (WpWorkerSet                 *set,
                                                            const WpWorkerHandleConfig  *config,
                                                            const WpWorkerHandleEvents  *events,
                                                            gpointer                     user_data,
                                                            GError                     **error);
WpWorkerHandle        *wp_worker_handle_ref                (WpWorkerHandle              *worker);
void                   wp_worker_handle_unref              (WpWorkerHandle              *worker);
void                   wp_worker_handle_detach             (WpWorkerHandle              *worker);

WpWorkerHandleState    wp_worker_handle_get_state          (WpWorkerHandle              *worker);
WpJob                 *wp_worker_handle_get_job            (WpWorkerHandle              *worker);
gboolean               wp_worker_handle_took_job           (WpWorkerHandle              *worker,
                                                            WpJob                       *job);
gboolean               wp_worker_handle_failed_to_start    (WpWorkerHandle              *worker);
guint                  wp_worker_handle_get_jobs_done      (WpWorkerHandle              *worker);
gboolean               wp_worker_handle_has_limits         (WpWorkerHandle              *worker,
                                                            const WpWorkerHandleConfig  *config);
const char          *wp_worker_handle_get_sandbox_in_force (WpWorkerHandle *worker);
const WpPluginFileId  *wp_worker_handle_get_plugin_file_id (WpWorkerHandle              *worker,
                                                            const char                  *plugin);
GError                *wp_worker_handle_dup_death_error    (WpWorkerHandle              *worker);

void                   wp_worker_handle_run                (WpWorkerHandle              *worker,
                                                            WpJob                       *job);
gboolean               wp_worker_handle_offer              (WpWorkerHandle              *worker,
                                                            WpJob                       *job);
gboolean               wp_worker_handle_can_take_offer     (WpWorkerHandle              *worker);
guint                  wp_worker_handle_get_n_offers       (WpWorkerHandle              *worker);
gboolean               wp_worker_handle_revoke_offer       (WpWorkerHandle              *worker,
                                                            WpJob                       *job);
WpJob                 *wp_worker_handle_peek_last_offer    (WpWorkerHandle              *worker);
WpJob                 *wp_worker_handle_revoke_last_offer  (WpWorkerHandle              *worker);
WpJob                 *wp_worker_handle_take_last_offer    (WpWorkerHandle              *worker,
                                                            gboolean                    *taken);
void                   wp_worker_handle_cancel             (WpWorkerHandle              *worker);
WpJob                 *wp_worker_handle_take_job           (WpWorkerHandle              *worker);
void                   wp_worker_handle_set_deadline       (WpWorkerHandle              *worker,
                                                            gint64                       deadline);
void                   wp_worker_handle_retire             (WpWorkerHandle              *worker);
void                   wp_worker_handle_kill               (WpWorkerHandle              *worker);
void                   wp_worker_handle_wait               (WpWorkerHandle              *worker);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WpWorkerHandle, wp_worker_handle_unref)

G_END_DECLS
