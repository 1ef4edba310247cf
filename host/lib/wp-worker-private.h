/* wp-worker-private.h: WpWorker, the pool's handle on one worker process.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "wp-job-private.h"
#include "wp-plugin-dir-private.h"

G_BEGIN_DECLS

/* The state machine of a worker; see wp-worker.c. */
typedef enum {
  WP_WORKER_STARTING,
  WP_WORKER_IDLE,
  WP_WORKER_BUSY,
  WP_WORKER_CANCELLING,
  WP_WORKER_EXITING,
  WP_WORKER_DEAD,
} WpWorkerState;

typedef struct {
  const char *worker_path;
  const char *plugin_dir;
  gsize       max_frame;     /* bytes, both directions */
  guint64     memory_limit;  /* RLIMIT_AS in bytes; 0 for none */
} WpWorkerConfig;

/* What a worker tells its pool.  Each is called from the worker's
 * sources in the pool's context, never from a call the pool made. */
typedef struct {
  /* STARTING → IDLE: the worker said hello. */
  void (*ready)    (WpWorker *worker,
                    gpointer  user_data);
  /* BUSY or CANCELLING → IDLE: the job's reply.  Takes @result or @error. */
  void (*replied)  (WpWorker *worker,
                    WpJob    *job,
                    GVariant *result,
                    GError   *error,
                    gpointer  user_data);
  /* The deadline set with wp_worker_set_deadline() has come. */
  void (*deadline) (WpWorker *worker,
                    gpointer  user_data);
  /* → DEAD: the process is gone and reaped.  wp_worker_get_job() is the
   * job it was running, if any, and wp_worker_dup_death_error() says how
   * it died. */
  void (*exited)   (WpWorker *worker,
                    gpointer  user_data);
  /* At the end of each dispatch of the worker's source, after the events
   * above: the pool returns finished jobs to their callers here, without
   * waiting for another main-loop iteration. */
  void (*settled)  (WpWorker *worker,
                    gpointer  user_data);
} WpWorkerEvents;

WpWorker             *wp_worker_spawn              (const WpWorkerConfig  *config,
                                                    const WpWorkerEvents  *events,
                                                    gpointer               user_data,
                                                    GError               **error);
WpWorker             *wp_worker_ref                (WpWorker              *worker);
void                  wp_worker_unref              (WpWorker              *worker);
void                  wp_worker_detach             (WpWorker              *worker);

WpWorkerState         wp_worker_get_state          (WpWorker              *worker);
gboolean              wp_worker_is_live            (WpWorker              *worker);
const char           *wp_worker_get_pid            (WpWorker              *worker);
WpJob                *wp_worker_get_job            (WpWorker              *worker);
gboolean              wp_worker_took_job           (WpWorker              *worker,
                                                    WpJob                 *job);
gboolean              wp_worker_failed_to_start    (WpWorker              *worker);
guint                 wp_worker_get_jobs_done      (WpWorker              *worker);
gboolean              wp_worker_has_limits         (WpWorker              *worker,
                                                    const WpWorkerConfig  *config);
const WpPluginFileId *wp_worker_get_plugin_file_id (WpWorker              *worker,
                                                    const char            *plugin);
GError               *wp_worker_dup_death_error    (WpWorker              *worker);

void                  wp_worker_run                (WpWorker              *worker,
                                                    WpJob                 *job);
void                  wp_worker_cancel             (WpWorker              *worker);
WpJob                *wp_worker_take_job           (WpWorker              *worker);
void                  wp_worker_set_deadline       (WpWorker              *worker,
                                                    gint64                 deadline);
void                  wp_worker_retire             (WpWorker              *worker);
void                  wp_worker_kill               (WpWorker              *worker);
void                  wp_worker_wait               (WpWorker              *worker);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WpWorker, wp_worker_unref)

G_END_DECLS
