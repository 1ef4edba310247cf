/* wp-error.h: the error domain of workpool.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef WP_ERROR_H
#define WP_ERROR_H

#if !defined(__WORKPOOL_H_INSIDE__) && !defined(WORKPOOL_COMPILATION)
# error "Only <workpool/workpool.h> can be included directly."
#endif

#include <glib.h>
#include <workpool/wp-version.h>

G_BEGIN_DECLS

/**
 * WP_POOL_ERROR:
 *
 * Error domain of workpool, named "wp-pool-error-quark".  Errors in this
 * domain are from [error@Workpool.PoolError].  An error raised by a plugin
 * function keeps its own domain instead, and cancellation is
 * %G_IO_ERROR_CANCELLED.
 */
#define WP_POOL_ERROR (wp_pool_error_quark ())

/**
 * WpPoolError:
 * @WP_POOL_ERROR_FAILED: workers cannot be started (the message says
 *   why: after three start-up failures in a row the waiting jobs fail
 *   with this code), or another failure with no code of its own
 * @WP_POOL_ERROR_NO_SUCH_PLUGIN: there is no `NAME.so` in the plugin
 *   directory, or NAME is not a valid plugin name (`[A-Za-z0-9_-]+`)
 * @WP_POOL_ERROR_PLUGIN_INVALID: the plugin cannot be loaded, is not
 *   trusted (it, its directory, or a link's target or the target's
 *   directory is writable by its group or others, or owned by neither
 *   root nor the user running the pool), has no
 *   `wp_plugin_query()`, has another ABI version, describes itself
 *   wrongly (a bad function table or type string, or a name other than
 *   its file name), or its init function failed; the message says which
 * @WP_POOL_ERROR_NO_SUCH_FUNCTION: the plugin has no function of that name
 * @WP_POOL_ERROR_INVALID_ARGS: the arguments are not of the function's
 *   args_type; the message names both types.  Or the job is larger than
 *   the pool's frame size limit ([method@Workpool.Pool.set_max_frame_size]);
 *   the message names both sizes
 * @WP_POOL_ERROR_BAD_RESULT: the function returned a value of the wrong
 *   type, or %NULL without setting an error
 * @WP_POOL_ERROR_WORKER_CRASHED: the worker process died while it ran the
 *   job; the message names the signal or exit status, the memory limit
 *   the worker ran under if it had one
 *   ([method@Workpool.Pool.set_worker_memory_limit]), and ends with what
 *   the worker last wrote to stderr.  The pool never retries such a job.
 * @WP_POOL_ERROR_TIMED_OUT: the job ran longer than its timeout
 *   ([method@Workpool.Pool.set_job_timeout] or
 *   [method@Workpool.Pool.call_full_async]); the message names the limit
 * @WP_POOL_ERROR_CLOSED: the job was submitted to a pool that is closed
 *   or closing; or it was queued when a close was cancelled; or it was a
 *   [method@Workpool.Pool.call_sync] from another thread whose pool lost
 *   its last reference meanwhile, or any job of a pool disposed with
 *   g_object_run_dispose().  (An `_async` call's task holds a reference
 *   on the pool until its callback, so the pool's last reference is never
 *   dropped with such a job pending.)
 * @WP_POOL_ERROR_PROTOCOL: a worker sent something malformed, or a
 *   result or error larger than the pool's frame size limit (the message
 *   names both sizes)
 * @WP_POOL_ERROR_SANDBOX: the pool's sandbox
 *   ([method@Workpool.Pool.set_sandbox]) cannot be set up on this system:
 *   the message names what is missing (no job runs unconfined instead)
 *
 * Error codes in the %WP_POOL_ERROR domain, the failures of the pool
 * itself.  The errors a plugin function raises keep their own domain.
 */
typedef enum {
  WP_POOL_ERROR_FAILED,
  WP_POOL_ERROR_NO_SUCH_PLUGIN,
  WP_POOL_ERROR_PLUGIN_INVALID,
  WP_POOL_ERROR_NO_SUCH_FUNCTION,
  WP_POOL_ERROR_INVALID_ARGS,
  WP_POOL_ERROR_BAD_RESULT,
  WP_POOL_ERROR_WORKER_CRASHED,
  WP_POOL_ERROR_TIMED_OUT,
  WP_POOL_ERROR_CLOSED,
  WP_POOL_ERROR_PROTOCOL,
  WP_POOL_ERROR_SANDBOX,
} WpPoolError;

WP_AVAILABLE_IN_ALL
GQuark wp_pool_error_quark (void);

G_END_DECLS

#endif /* WP_ERROR_H */
