/* wp-pool.h: WpPool, an asynchronous pool of worker processes.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Threads.  A pool belongs to the GMainContext that is the thread-default
 * context of the thread calling wp_pool_new() (the "pool context").  Its
 * pipes, timers and supervision run when that context is iterated, so the
 * context must be running (g_main_loop_run() or the like) for jobs to
 * progress.  A WpPool is not thread-safe: every function here must be
 * called from the thread that runs the pool context, with one exception,
 * wp_pool_call_sync(), which may be called from any thread.  The callback
 * of an _async function runs in the thread-default main context of its
 * caller, as a GTask's would, and never before the _async function has
 * returned.
 *
 * Workers are started from the pool's thread and die with it (they use
 * PR_SET_PDEATHSIG, which Linux ties to the thread that forked), so that
 * thread must outlive the pool.  The pool ignores SIGPIPE process-wide
 * unless the program has its own handler, as GSocket does: a worker that
 * dies while the pool writes to it must not kill the program.
 */

#ifndef WP_POOL_H
#define WP_POOL_H

#if !defined(__WORKPOOL_H_INSIDE__) && !defined(WORKPOOL_COMPILATION)
# error "Only <workpool/workpool.h> can be included directly."
#endif

#include <gio/gio.h>
#include <workpool/wp-version.h>

G_BEGIN_DECLS

/**
 * WpSandbox:
 * @WP_SANDBOX_NONE: workers run with every right of the program's user
 *   (the default)
 * @WP_SANDBOX_STRICT: each worker confines itself before any plugin
 *   code runs, for the rest of its life: it reads only the system's
 *   read-only locations and the plugin directory, writes, creates and
 *   removes no file, makes no socket, starts no process, and can neither
 *   trace nor signal any other process.  See
 *   [method@Workpool.Pool.set_sandbox].
 *
 * How the pool's workers are confined.
 */
typedef enum {
  WP_SANDBOX_NONE,
  WP_SANDBOX_STRICT,
} WpSandbox;

#define WP_TYPE_POOL (wp_pool_get_type ())

WP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (WpPool, wp_pool, WP, POOL, GObject)

/* Creating */

WP_AVAILABLE_IN_ALL
WpPool     *wp_pool_new                     (const char           *plugin_dir,
                                             guint                 n_workers,
                                             GError              **error);

/* Calling */

WP_AVAILABLE_IN_ALL
void        wp_pool_call_async              (WpPool               *pool,
                                             const char           *plugin,
                                             const char           *function,
                                             GVariant             *args,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
WP_AVAILABLE_IN_ALL
void        wp_pool_call_full_async         (WpPool               *pool,
                                             const char           *plugin,
                                             const char           *function,
                                             GVariant             *args,
                                             guint                 timeout_ms,
                                             int                   io_priority,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
WP_AVAILABLE_IN_ALL
GVariant   *wp_pool_call_finish             (WpPool               *pool,
                                             GAsyncResult         *result,
                                             GError              **error);
WP_AVAILABLE_IN_ALL
void        wp_pool_call_with_unix_fd_list_async (WpPool          *pool,
                                             const char           *plugin,
                                             const char           *function,
                                             GVariant             *args,
                                             GUnixFDList          *fd_list,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
WP_AVAILABLE_IN_ALL
void        wp_pool_call_with_unix_fd_list_full_async (WpPool     *pool,
                                             const char           *plugin,
                                             const char           *function,
                                             GVariant             *args,
                                             GUnixFDList          *fd_list,
                                             guint                 timeout_ms,
                                             int                   io_priority,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
WP_AVAILABLE_IN_ALL
GVariant   *wp_pool_call_with_unix_fd_list_finish (WpPool         *pool,
                                             GUnixFDList         **out_fd_list,
                                             GAsyncResult         *result,
                                             GError              **error);
WP_AVAILABLE_IN_ALL
GVariant   *wp_pool_call_sync               (WpPool               *pool,
                                             const char           *plugin,
                                             const char           *function,
                                             GVariant             *args,
                                             GCancellable         *cancellable,
                                             GError              **error);

/* Closing */

WP_AVAILABLE_IN_ALL
void        wp_pool_close_async             (WpPool               *pool,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
WP_AVAILABLE_IN_ALL
gboolean    wp_pool_close_finish            (WpPool               *pool,
                                             GAsyncResult         *result,
                                             GError              **error);

/* Plugins */

WP_AVAILABLE_IN_ALL
char      **wp_pool_list_plugins            (WpPool               *pool);
WP_AVAILABLE_IN_ALL
void        wp_pool_describe_async          (WpPool               *pool,
                                             const char           *plugin,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
WP_AVAILABLE_IN_ALL
GVariant   *wp_pool_describe_finish         (WpPool               *pool,
                                             GAsyncResult         *result,
                                             GError              **error);

/* State and settings */

WP_AVAILABLE_IN_ALL
GVariant   *wp_pool_get_stats               (WpPool               *pool);
WP_AVAILABLE_IN_ALL
guint       wp_pool_get_n_workers           (WpPool               *pool);
WP_AVAILABLE_IN_ALL
const char *wp_pool_get_plugin_dir          (WpPool               *pool);
WP_AVAILABLE_IN_ALL
void        wp_pool_set_job_timeout         (WpPool               *pool,
                                             guint                 timeout_ms);
WP_AVAILABLE_IN_ALL
guint       wp_pool_get_job_timeout         (WpPool               *pool);
WP_AVAILABLE_IN_ALL
void        wp_pool_set_max_jobs_per_worker (WpPool               *pool,
                                             guint                 max_jobs);
WP_AVAILABLE_IN_ALL
guint       wp_pool_get_max_jobs_per_worker (WpPool               *pool);
WP_AVAILABLE_IN_ALL
void        wp_pool_set_cancel_grace        (WpPool               *pool,
                                             guint                 grace_ms);
WP_AVAILABLE_IN_ALL
guint       wp_pool_get_cancel_grace        (WpPool               *pool);
WP_AVAILABLE_IN_ALL
void        wp_pool_set_worker_memory_limit (WpPool               *pool,
                                             guint64               bytes);
WP_AVAILABLE_IN_ALL
guint64     wp_pool_get_worker_memory_limit (WpPool               *pool);
WP_AVAILABLE_IN_ALL
void        wp_pool_set_max_frame_size      (WpPool               *pool,
                                             gsize                 bytes);
WP_AVAILABLE_IN_ALL
gsize       wp_pool_get_max_frame_size      (WpPool               *pool);
WP_AVAILABLE_IN_ALL
void        wp_pool_set_prefetch            (WpPool               *pool,
                                             guint                 n_jobs);
WP_AVAILABLE_IN_ALL
guint       wp_pool_get_prefetch            (WpPool               *pool);
WP_AVAILABLE_IN_ALL
void        wp_pool_set_sandbox             (WpPool               *pool,
                                             WpSandbox             sandbox);
WP_AVAILABLE_IN_ALL
WpSandbox   wp_pool_get_sandbox             (WpPool               *pool);
WP_AVAILABLE_IN_ALL
void        wp_pool_set_background          (WpPool               *pool,
                                             gboolean              background);
WP_AVAILABLE_IN_ALL
gboolean    wp_pool_get_background          (WpPool               *pool);
WP_AVAILABLE_IN_ALL
void        wp_pool_set_launcher            (WpPool               *pool,
                                             const char * const   *argv);
WP_AVAILABLE_IN_ALL
const char * const *
            wp_pool_get_launcher            (WpPool               *pool);

G_END_DECLS

#endif /* WP_POOL_H */
