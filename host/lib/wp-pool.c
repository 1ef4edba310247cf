/* wp-pool.c: WpPool, an asynchronous pool of worker processes.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The pool is the public face: the GObject, its properties, the calls,
 * closing and disposal.  What runs where and when is the scheduler's
 * (wp-scheduler.c), which the pool embeds; a job is a WpJob (wp-job.c).
 *
 * Threads.  Everything here runs in the pool's thread, the one whose
 * thread-default context was current when the pool was made, except
 * wp_pool_call_sync() from another thread, which hands its job to the
 * pool's context in a source that holds a reference on the pool: the
 * pool is never disposed in the calling thread.
 *
 * Initialisation.  The pool is a GInitable: wp_pool_new() and
 * g_initable_new() resolve the plugin directory and the worker
 * executable and report a failure.  A pool made by g_object_new() alone
 * (as bindings do) does it on first use instead; if that fails, every
 * job fails with the error wp_pool_new() would have given.
 *
 * Closing.  Each wp_pool_close_async() call is a CloseCall, answered when
 * the scheduler's drain ends.  Cancelling a call's cancellable aborts the
 * drain (queued jobs fail with WP_POOL_ERROR_CLOSED, running ones are
 * stopped) and that call, only that one, finishes with
 * G_IO_ERROR_CANCELLED.
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
 * of its caller, as a [class@Gio.Task]'s would, and never before the `_async`
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

#include <signal.h>

#include <workpool/workpool.h>

#include "wp-async-result-private.h"
#include "wp-claim-private.h"
#include "wp-job-private.h"
#include "wp-plugin-dir-private.h"
#include "wp-scheduler-private.h"
#include "wp-source-private.h"
#include "wp-wire-private.h"
#include "wp-wire-fds-private.h"

typedef struct {
  GTask    *task;
  GSource  *cancel_source;
  gboolean  cancelled;
} CloseCall;

struct _WpPool {
  GObject       parent_instance;

  GThread      *thread;          /* the creator's */
  WpScheduler   scheduler;

  char         *plugin_dir_arg;  /* as constructed; NULL for the default */
  gboolean      initialized;
  GError       *init_error;      /* why it failed, once initialized */

  GPtrArray    *close_calls;     /* CloseCall */
  gboolean      closed;
};

static void wp_pool_initable_iface_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (WpPool, wp_pool, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      wp_pool_initable_iface_init))

enum {
  PROP_0,
  PROP_PLUGIN_DIR,
  PROP_N_WORKERS,
  PROP_JOB_TIMEOUT,
  PROP_MAX_JOBS_PER_WORKER,
  PROP_CANCEL_GRACE,
  PROP_WORKER_MEMORY_LIMIT,
  PROP_MAX_FRAME_SIZE,
  PROP_PREFETCH,
  PROP_SANDBOX,
  PROP_BACKGROUND,
  PROP_LAUNCHER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Initialisation */

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

static gboolean
ensure_initialized (WpPool *self)
{
  const char *worker_path;

  if (self->initialized)
    return self->init_error == NULL;

  self->initialized = TRUE;
  self->scheduler.plugin_dir = resolve_plugin_dir (self->plugin_dir_arg, &self->init_error);
  if (self->scheduler.plugin_dir == NULL)
    return FALSE;

  worker_path = g_getenv ("WORKPOOL_WORKER");
  if (worker_path == NULL || *worker_path == '\0')
    worker_path = WP_WORKER_PATH;
  /* A relative path made absolute now, as the plugin directory is: a
   * launcher starts the worker elsewhere, and the program may chdir().  A
   * bare name stays one, for the search of $PATH. */
  if (strchr (worker_path, '/') != NULL)
    self->scheduler.worker_path = g_canonicalize_filename (worker_path, NULL);
  else
    self->scheduler.worker_path = g_strdup (worker_path);

  return TRUE;
}

static gboolean
wp_pool_initable_init (GInitable     *initable,
                       GCancellable  *cancellable,
                       GError       **error)
{
  WpPool *self = WP_POOL (initable);

  if (ensure_initialized (self))
    return TRUE;

  g_propagate_error (error, g_error_copy (self->init_error));
  return FALSE;
}

static void
wp_pool_initable_iface_init (GInitableIface *iface)
{
  iface->init = wp_pool_initable_init;
}

/* Closing */

static void
close_call_free (CloseCall *call)
{
  wp_clear_source (&call->cancel_source);
  g_clear_object (&call->task);
  g_free (call);
}

/* Answers every close call: the drain is over, or the pool is going. */
static void
return_close_calls (WpPool *self)
{
  g_autoptr(GPtrArray) calls = g_steal_pointer (&self->close_calls);

  self->close_calls = g_ptr_array_new_with_free_func ((GDestroyNotify) close_call_free);
  for (guint i = 0; i < calls->len; i++)
    {
      CloseCall *call = g_ptr_array_index (calls, i);

      if (call->cancelled)
        g_task_return_new_error (call->task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                 "Closing was cancelled; running jobs were stopped");
      else
        g_task_return_boolean (call->task, TRUE);
    }
}

static void
on_drained (WpScheduler *scheduler,
            gpointer     user_data)
{
  g_autoptr(WpPool) self = g_object_ref (user_data);

  self->closed = TRUE;
  return_close_calls (self);
}

static gboolean
on_close_cancelled (GCancellable *cancellable,
                    gpointer      user_data)
{
  CloseCall *call = user_data;
  WpPool *self = g_task_get_source_object (call->task);

  g_clear_pointer (&call->cancel_source, g_source_unref);
  call->cancelled = TRUE;
  wp_scheduler_abort (&self->scheduler);

  return G_SOURCE_REMOVE;
}

/* GObject */

static void
wp_pool_dispose (GObject *object)
{
  WpPool *self = WP_POOL (object);

  if (self->scheduler.source != NULL)
    wp_scheduler_shutdown (&self->scheduler);
  self->closed = TRUE;
  return_close_calls (self);

  G_OBJECT_CLASS (wp_pool_parent_class)->dispose (object);
}

static void
wp_pool_finalize (GObject *object)
{
  WpPool *self = WP_POOL (object);

  wp_scheduler_clear (&self->scheduler);
  g_ptr_array_unref (self->close_calls);
  g_clear_error (&self->init_error);
  g_free (self->plugin_dir_arg);

  G_OBJECT_CLASS (wp_pool_parent_class)->finalize (object);
}

static void
wp_pool_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  WpPool *self = WP_POOL (object);

  switch (prop_id)
    {
    case PROP_PLUGIN_DIR:
      g_value_set_string (value, wp_pool_get_plugin_dir (self));
      break;
    case PROP_N_WORKERS:
      g_value_set_uint (value, wp_pool_get_n_workers (self));
      break;
    case PROP_JOB_TIMEOUT:
      g_value_set_uint (value, wp_pool_get_job_timeout (self));
      break;
    case PROP_MAX_JOBS_PER_WORKER:
      g_value_set_uint (value, wp_pool_get_max_jobs_per_worker (self));
      break;
    case PROP_CANCEL_GRACE:
      g_value_set_uint (value, wp_pool_get_cancel_grace (self));
      break;
    case PROP_WORKER_MEMORY_LIMIT:
      g_value_set_uint64 (value, wp_pool_get_worker_memory_limit (self));
      break;
    case PROP_MAX_FRAME_SIZE:
      g_value_set_uint64 (value, wp_pool_get_max_frame_size (self));
      break;
    case PROP_PREFETCH:
      g_value_set_uint (value, wp_pool_get_prefetch (self));
      break;
    case PROP_SANDBOX:
      g_value_set_enum (value, wp_pool_get_sandbox (self));
      break;
    case PROP_BACKGROUND:
      g_value_set_boolean (value, wp_pool_get_background (self));
      break;
    case PROP_LAUNCHER:
      g_value_set_boxed (value, wp_pool_get_launcher (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wp_pool_set_property (GObject      *object,
                      guint         prop_id,
                      const GValue *value,
                      GParamSpec   *pspec)
{
  WpPool *self = WP_POOL (object);
  guint n;

  switch (prop_id)
    {
    case PROP_PLUGIN_DIR:
      self->plugin_dir_arg = g_value_dup_string (value);
      break;
    case PROP_N_WORKERS:
      n = g_value_get_uint (value);
      self->scheduler.n_workers = n > 0 ? n : g_get_num_processors ();
      break;
    case PROP_JOB_TIMEOUT:
      wp_pool_set_job_timeout (self, g_value_get_uint (value));
      break;
    case PROP_MAX_JOBS_PER_WORKER:
      wp_pool_set_max_jobs_per_worker (self, g_value_get_uint (value));
      break;
    case PROP_CANCEL_GRACE:
      wp_pool_set_cancel_grace (self, g_value_get_uint (value));
      break;
    case PROP_WORKER_MEMORY_LIMIT:
      wp_pool_set_worker_memory_limit (self, g_value_get_uint64 (value));
      break;
    case PROP_MAX_FRAME_SIZE:
      wp_pool_set_max_frame_size (self, (gsize) MIN (g_value_get_uint64 (value), G_MAXSIZE));
      break;
    case PROP_PREFETCH:
      wp_pool_set_prefetch (self, g_value_get_uint (value));
      break;
    case PROP_SANDBOX:
      wp_pool_set_sandbox (self, g_value_get_enum (value));
      break;
    case PROP_BACKGROUND:
      wp_pool_set_background (self, g_value_get_boolean (value));
      break;
    case PROP_LAUNCHER:
      wp_pool_set_launcher (self, g_value_get_boxed (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
wp_pool_class_init (WpPoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  struct sigaction action;

  object_class->dispose = wp_pool_dispose;
  object_class->finalize = wp_pool_finalize;
  object_class->get_property = wp_pool_get_property;
  object_class->set_property = wp_pool_set_property;

  /**
   * WpPool:plugin-dir: (type filename)
   *
   * The directory plugins are loaded from.  Given at construction: %NULL
   * (the default) means `$WORKPOOL_PLUGIN_DIR` if set, else the installed
   * plugin directory.  Read, it is the absolute path the pool resolved,
   * or %NULL if that failed (its jobs then fail saying why).
   */
  properties[PROP_PLUGIN_DIR] =
    g_param_spec_string ("plugin-dir", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * WpPool:n-workers:
   *
   * The most worker processes the pool runs at once.  Given at
   * construction; 0 (the default) means the number of processors, which
   * is what reading it then gives.
   */
  properties[PROP_N_WORKERS] =
    g_param_spec_uint ("n-workers", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * WpPool:job-timeout:
   *
   * The longest a job may run, in milliseconds; 0 for no limit.  See
   * [method@Workpool.Pool.set_job_timeout].
   */
  properties[PROP_JOB_TIMEOUT] =
    g_param_spec_uint ("job-timeout", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * WpPool:max-jobs-per-worker:
   *
   * How many jobs a worker runs before it is replaced; 0 for no limit.
   * See [method@Workpool.Pool.set_max_jobs_per_worker].
   */
  properties[PROP_MAX_JOBS_PER_WORKER] =
    g_param_spec_uint ("max-jobs-per-worker", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * WpPool:cancel-grace:
   *
   * How long a worker may take to end a stopped job before it is killed,
   * in milliseconds.  See [method@Workpool.Pool.set_cancel_grace].
   */
  properties[PROP_CANCEL_GRACE] =
    g_param_spec_uint ("cancel-grace", NULL, NULL,
                       0, G_MAXUINT, WP_SCHEDULER_DEFAULT_CANCEL_GRACE_MS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * WpPool:worker-memory-limit:
   *
   * The most address space each worker may use, in bytes; 0 for no
   * limit.  See [method@Workpool.Pool.set_worker_memory_limit].
   */
  properties[PROP_WORKER_MEMORY_LIMIT] =
    g_param_spec_uint64 ("worker-memory-limit", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * WpPool:max-frame-size:
   *
   * The largest message between the pool and a worker, in each direction,
   * in bytes.  See [method@Workpool.Pool.set_max_frame_size].
   */
  properties[PROP_MAX_FRAME_SIZE] =
    g_param_spec_uint64 ("max-frame-size", NULL, NULL,
                         WP_WIRE_MIN_MAX_FRAME, G_MAXUINT64, WP_WIRE_DEFAULT_MAX_FRAME,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * WpPool:prefetch:
   *
   * How many jobs each busy worker is handed ahead of time when jobs wait.
   * See [method@Workpool.Pool.set_prefetch].
   */
  properties[PROP_PREFETCH] =
    g_param_spec_uint ("prefetch", NULL, NULL, 0, WP_CLAIM_SLOTS, WP_CLAIM_SLOTS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * WpPool:sandbox:
   *
   * How the workers are confined.  See [method@Workpool.Pool.set_sandbox].
   */
  properties[PROP_SANDBOX] =
    g_param_spec_enum ("sandbox", NULL, NULL, WP_TYPE_SANDBOX, WP_SANDBOX_NONE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * WpPool:background:
   *
   * Whether the workers run at idle CPU and I/O priority.  See
   * [method@Workpool.Pool.set_background].
   */
  properties[PROP_BACKGROUND] =
    g_param_spec_boolean ("background", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * WpPool:launcher: (type GStrv)
   *
   * The command each worker is started through, %NULL to start workers on
   * this machine.  See [method@Workpool.Pool.set_launcher].
   */
  properties[PROP_LAUNCHER] =
    g_param_spec_boxed ("launcher", NULL, NULL, G_TYPE_STRV,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* A worker can die while the pool writes to it.  As GSocket does, ignore
   * SIGPIPE process-wide unless the program installed a handler. */
  if (sigaction (SIGPIPE, NULL, &action) == 0 && action.sa_handler == SIG_DFL)
    signal (SIGPIPE, SIG_IGN);
}

/* $WORKPOOL_PREFETCH, if set to a number from 0 to the most, else the
 * most: how an administrator or a test suite turns prefetch off for
 * programs that do not set it. */
static guint
default_prefetch (void)
{
  const char *value = g_getenv ("WORKPOOL_PREFETCH");
  guint64 n;

  if (value != NULL && g_ascii_string_to_unsigned (value, 10, 0, WP_CLAIM_SLOTS, &n, NULL))
    return (guint) n;

  return WP_CLAIM_SLOTS;
}

/* $WORKPOOL_SANDBOX, "strict" or "none", else none: how an administrator
 * or a test suite confines the workers of programs that do not say. */
static WpSandbox
default_sandbox (void)
{
  const char *value = g_getenv ("WORKPOOL_SANDBOX");

  return g_strcmp0 (value, "strict") == 0 ? WP_SANDBOX_STRICT : WP_SANDBOX_NONE;
}

static void
wp_pool_init (WpPool *self)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();

  self->thread = g_thread_self ();
  self->close_calls = g_ptr_array_new_with_free_func ((GDestroyNotify) close_call_free);
  wp_scheduler_init (&self->scheduler, G_OBJECT (self), context, on_drained, self);
  self->scheduler.n_workers = g_get_num_processors ();
  self->scheduler.prefetch = default_prefetch ();
  self->scheduler.sandbox = default_sandbox ();
}

/* Creating */

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
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (WP_TYPE_POOL, NULL, error,
                         "plugin-dir", plugin_dir,
                         "n-workers", n_workers,
                         NULL);
}

/* Calling */

/* Takes @job. */
static void
submit (WpPool *self,
        WpJob  *job)
{
  if (ensure_initialized (self))
    wp_scheduler_submit (&self->scheduler, job);
  else
    wp_scheduler_refuse (&self->scheduler, job, g_error_copy (self->init_error));
}

/* Submits @job for a caller waiting on a callback. */
static void
submit_with_callback (WpPool              *pool,
                      WpJob               *job,
                      gpointer             source_tag,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  /* The scheduler watches the job's cancellable itself, and returns a
   * cancelled job at once. */
  job->async_result = wp_async_result_new (pool, source_tag, job->priority, callback, user_data);

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
  wp_pool_call_full_async (pool, plugin, function, args, 0, G_PRIORITY_DEFAULT, cancellable,
                           callback, user_data);
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
 * @io_priority: the job's priority, lower values first (%G_PRIORITY_DEFAULT
 *   is what [method@Workpool.Pool.call_async] uses)
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called with the result
 * @user_data: (closure): data for @callback
 *
 * Queues a job; it runs when a worker is free.  Jobs are taken by
 * priority, then in the order they were submitted: a more urgent job
 * never waits behind a less urgent one that has not started, even one
 * already handed ahead to a busy worker (see
 * [method@Workpool.Pool.set_prefetch]), and less urgent jobs wait as long
 * as more urgent ones keep coming.  @callback runs in the thread-default
 * main context of the caller, never before this function has returned;
 * when it cannot run at once (the job ended in the iteration it was
 * submitted in), it runs from an idle source of @io_priority, as a
 * [class@Gio.Task] of that priority would.
 *
 * Cancelling @cancellable fails a queued job at once; a running job's
 * worker is asked to cancel the function's own [class@Gio.Cancellable] and is
 * killed if the job has not ended after the cancel grace period.  Either
 * way the result is %G_IO_ERROR_CANCELLED, and @callback never runs inside
 * g_cancellable_cancel().  A cancellable costs the pool nothing per
 * main-loop iteration, however many jobs share it.
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
                         int                  io_priority,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  WpJob *job;

  g_return_if_fail (WP_IS_POOL (pool));
  g_return_if_fail (plugin != NULL);
  g_return_if_fail (function != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  job = wp_job_new_call (plugin, function, args, timeout_ms, io_priority, cancellable);
  submit_with_callback (pool, job, wp_pool_call_full_async, callback, user_data);
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
  g_return_val_if_fail (wp_async_result_is_valid (result, pool, wp_pool_call_full_async), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return wp_async_result_propagate (result, error);
}

/**
 * wp_pool_call_with_unix_fd_list_async:
 * @pool: a #WpPool
 * @plugin: the plugin's name
 * @function: the function's name
 * @args: (nullable) (transfer none): the arguments, as for
 *   [method@Workpool.Pool.call_async]; each `h` in them is an index into
 *   @fd_list
 * @fd_list: (nullable): the descriptors the job is given, or %NULL for none
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called with the result
 * @user_data: (closure): data for @callback
 *
 * Runs @function of @plugin in a worker process, as
 * [method@Workpool.Pool.call_async] does, and passes it file descriptors,
 * as [method@Gio.DBusConnection.call_with_unix_fd_list] does.  See
 * [method@Workpool.Pool.call_with_unix_fd_list_full_async].
 *
 * Call from the pool's thread.  Finish with
 * [method@Workpool.Pool.call_with_unix_fd_list_finish].
 */
void
wp_pool_call_with_unix_fd_list_async (WpPool              *pool,
                                      const char          *plugin,
                                      const char          *function,
                                      GVariant            *args,
                                      GUnixFDList         *fd_list,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  wp_pool_call_with_unix_fd_list_full_async (pool, plugin, function, args, fd_list, 0,
                                             G_PRIORITY_DEFAULT, cancellable, callback,
                                             user_data);
}

/* Why a job's descriptors cannot go, or NULL. */
static GError *
check_fds (GVariant    *args,
           GUnixFDList *fd_list)
{
  guint n_fds = fd_list != NULL ? (guint) g_unix_fd_list_get_length (fd_list) : 0;
  g_autoptr(GVariant) checked = NULL;
  g_autoptr(GError) error = NULL;

  if (n_fds > WP_WIRE_MAX_FDS)
    return g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS,
                        "%u file descriptors for one job, over the limit of %u",
                        n_fds, WP_WIRE_MAX_FDS);

  if (args != NULL && wp_wire_has_handles (args)
      && (checked = wp_wire_handles_map (args, NULL, n_fds, &error)) == NULL)
    return g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS, "%s", error->message);

  return NULL;
}

/**
 * wp_pool_call_with_unix_fd_list_full_async:
 * @pool: a #WpPool
 * @plugin: the plugin's name
 * @function: the function's name
 * @args: (nullable) (transfer none): the arguments, as for
 *   [method@Workpool.Pool.call_full_async]; each `h` in them is an index
 *   into @fd_list
 * @fd_list: (nullable): the descriptors the job is given, or %NULL for none
 * @timeout_ms: the job's timeout, as for [method@Workpool.Pool.call_full_async]
 * @io_priority: the job's priority, as for [method@Workpool.Pool.call_full_async]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called with the result
 * @user_data: (closure): data for @callback
 *
 * Queues a job as [method@Workpool.Pool.call_full_async] does, with file
 * descriptors.  As in D-Bus, each `h` in @args is an index into @fd_list;
 * the function receives, in place of each, a descriptor of its worker
 * process that stays open until it returns (it may `dup()` one to keep
 * it).  Each `h` in the function's result is a descriptor the function
 * gives away: its worker sends it and closes it, and the result that
 * [method@Workpool.Pool.call_with_unix_fd_list_finish] returns has, in
 * its place, an index into the list it returns.  @fd_list may hold
 * descriptors that no `h` names; they are passed and closed all the same.
 *
 * At most 64 descriptors go each way per job; more, or an index out of
 * range, fails the job with %WP_POOL_ERROR_INVALID_ARGS (in @args) or
 * %WP_POOL_ERROR_PROTOCOL (in the result, whose descriptors are then
 * closed).  The pool keeps a reference on @fd_list until the job is done,
 * so a job run again after its worker died before taking it has its
 * descriptors still; it never closes them itself.
 *
 * Jobs of [method@Workpool.Pool.call_async] and the other functions
 * without an fd list pass `h` values through as plain integers, as they
 * always did.
 *
 * Descriptors cannot reach workers started through a launcher
 * ([method@Workpool.Pool.set_launcher]), which may run on another
 * machine: on such a pool the job fails with
 * %WP_POOL_ERROR_INVALID_ARGS naming the launcher, in a later main-loop
 * iteration.
 *
 * Call from the pool's thread.  Finish with
 * [method@Workpool.Pool.call_with_unix_fd_list_finish].
 */
void
wp_pool_call_with_unix_fd_list_full_async (WpPool              *pool,
                                           const char          *plugin,
                                           const char          *function,
                                           GVariant            *args,
                                           GUnixFDList         *fd_list,
                                           guint                timeout_ms,
                                           int                  io_priority,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data)
{
  GError *error;
  WpJob *job;

  g_return_if_fail (WP_IS_POOL (pool));
  g_return_if_fail (plugin != NULL);
  g_return_if_fail (function != NULL);
  g_return_if_fail (fd_list == NULL || G_IS_UNIX_FD_LIST (fd_list));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  job = wp_job_new_call (plugin, function, args, timeout_ms, io_priority, cancellable);
  job->with_fds = TRUE;
  job->fd_list = fd_list != NULL ? g_object_ref (fd_list) : NULL;
  job->async_result = wp_async_result_new (pool, wp_pool_call_with_unix_fd_list_full_async,
                                           job->priority, callback, user_data);

  error = check_fds (job->args, fd_list);
  if (error != NULL)
    wp_scheduler_refuse (&pool->scheduler, job, error);
  else
    submit (pool, job);
}

/**
 * wp_pool_call_with_unix_fd_list_finish:
 * @pool: a #WpPool
 * @out_fd_list: (out) (optional) (transfer full): where to put the
 *   descriptors of the result, or %NULL to close them
 * @result: the [iface@Gio.AsyncResult] given to the callback
 * @error: return location for an error
 *
 * Gets the result of a job started with
 * [method@Workpool.Pool.call_with_unix_fd_list_async] or
 * [method@Workpool.Pool.call_with_unix_fd_list_full_async], as
 * [method@Workpool.Pool.call_finish] does.  Each `h` in the result is an
 * index into *@out_fd_list, which is set (possibly to an empty list)
 * whenever a result is returned, and to %NULL on error.
 *
 * Returns: (transfer full): the function's result, or %NULL with @error set
 */
GVariant *
wp_pool_call_with_unix_fd_list_finish (WpPool        *pool,
                                       GUnixFDList  **out_fd_list,
                                       GAsyncResult  *result,
                                       GError       **error)
{
  g_autoptr(GUnixFDList) fd_list = NULL;
  GVariant *value;

  if (out_fd_list != NULL)
    *out_fd_list = NULL;
  g_return_val_if_fail (WP_IS_POOL (pool), NULL);
  g_return_val_if_fail (wp_async_result_is_valid (result, pool,
                                                  wp_pool_call_with_unix_fd_list_full_async),
                        NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  value = wp_async_result_propagate (result, error);
  fd_list = wp_async_result_steal_fd_list (result);
  if (value != NULL && fd_list == NULL)
    fd_list = g_unix_fd_list_new ();
  if (value != NULL && out_fd_list != NULL)
    *out_fd_list = g_steal_pointer (&fd_list);

  return value;
}

typedef struct {
  WpPool *pool;   /* a reference, dropped in the pool's thread */
  WpJob  *job;
} SyncSubmission;

static gboolean
submit_in_pool_context (gpointer user_data)
{
  SyncSubmission *submission = user_data;

  submit (submission->pool, g_steal_pointer (&submission->job));
  return G_SOURCE_REMOVE;
}

static void
sync_submission_free (gpointer user_data)
{
  SyncSubmission *submission = user_data;

  g_assert (submission->job == NULL);
  g_object_unref (submission->pool);
  g_free (submission);
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
 * the caller blocks; the pool's thread may drop the last reference on the
 * pool meanwhile (the pool is then disposed there, and the job fails with
 * %WP_POOL_ERROR_CLOSED), and this function never drops it in the calling
 * thread.
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
  WpSyncCall sync;
  GVariant *result;
  WpJob *job;

  g_return_val_if_fail (WP_IS_POOL (pool), NULL);
  g_return_val_if_fail (plugin != NULL, NULL);
  g_return_val_if_fail (function != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  wp_sync_call_init (&sync);
  job = wp_job_new_call (plugin, function, args, 0, G_PRIORITY_DEFAULT, cancellable);
  job->sync = &sync;

  if (g_main_context_is_owner (pool->scheduler.context) || g_thread_self () == pool->thread)
    {
      g_autoptr(WpPool) hold = g_object_ref (pool);

      submit (pool, job);
      while (!wp_sync_call_is_done (&sync))
        g_main_context_iteration (pool->scheduler.context, TRUE);
    }
  else
    {
      /* Not g_main_context_invoke(): it would run the submission right
       * here whenever this thread can acquire the context.  The source
       * holds the pool, so that its last reference, if this is it, is
       * dropped in the pool's thread; once submitted, the job is the
       * pool's, and a pool disposed meanwhile fails it. */
      g_autoptr(GSource) source = g_idle_source_new ();
      SyncSubmission *submission = g_new0 (SyncSubmission, 1);

      submission->pool = g_object_ref (pool);
      submission->job = job;
      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_static_name (source, "WpPool sync submit");
      g_source_set_callback (source, submit_in_pool_context, submission, sync_submission_free);
      g_source_attach (source, pool->scheduler.context);
      wp_sync_call_wait (&sync);
    }

  result = g_steal_pointer (&sync.result);
  if (sync.error != NULL)
    g_propagate_error (error, g_steal_pointer (&sync.error));
  wp_sync_call_clear (&sync);

  return result;
}

/* Closing */

/**
 * wp_pool_close_async:
 * @pool: a #WpPool
 * @cancellable: (nullable): cancelling it stops waiting for jobs: queued
 *   jobs fail with %WP_POOL_ERROR_CLOSED, running ones are stopped as if
 *   cancelled, and this close finishes with %G_IO_ERROR_CANCELLED once the
 *   workers are gone (other close calls still finish with %TRUE)
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
  CloseCall *call;
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

  call = g_new0 (CloseCall, 1);
  call->task = task;
  g_ptr_array_add (pool->close_calls, call);

  if (cancellable != NULL)
    {
      call->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_static_name (call->cancel_source, "WpPool close cancel");
      g_source_set_callback (call->cancel_source, G_SOURCE_FUNC (on_close_cancelled), call, NULL);
      g_source_attach (call->cancel_source, pool->scheduler.context);
    }

  wp_scheduler_drain (&pool->scheduler);
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

/* Plugins */

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

  if (!ensure_initialized (pool))
    return g_new0 (char *, 1);

  return wp_plugin_dir_list (pool->scheduler.plugin_dir);
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
  submit_with_callback (pool, job, wp_pool_describe_async, callback, user_data);
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
  g_return_val_if_fail (wp_async_result_is_valid (result, pool, wp_pool_describe_async), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return wp_async_result_propagate (result, error);
}

/* State and settings */

/* A setting that holds for what starts next: no worker needs to know. */
static void
set_uint (WpPool *pool,
          guint  *setting,
          guint   value,
          guint   prop_id)
{
  if (*setting == value)
    return;

  *setting = value;
  g_object_notify_by_pspec (G_OBJECT (pool), properties[prop_id]);
}

/**
 * wp_pool_get_stats:
 * @pool: a #WpPool
 *
 * Counters of the pool's life so far, as an `a{sv}` of `t` (uint64)
 * but one:
 * submitted, completed, failed, cancelled, crashed, timed-out, queued,
 * prefetched, running, workers, spawned.  submitted = completed + failed
 * + cancelled + queued + running; crashed and timed-out count jobs also
 * counted in failed; prefetched counts the queued jobs already handed to
 * a busy worker, to run when its current job ends (the pool still takes
 * them back to cancel them or to run them on a worker that goes idle);
 * workers is the number of worker processes now, spawned the number ever
 * started.  One more entry is a string, `s`: sandbox, the mechanisms
 * confining the last worker started (such as "landlock (ABI 7), seccomp,
 * no-new-privs, rlimits"; see [method@Workpool.Pool.set_sandbox]), "" for
 * none.
 *
 * Call from the pool's thread.
 *
 * Returns: (transfer full): the counters
 */
GVariant *
wp_pool_get_stats (WpPool *pool)
{
  const WpScheduler *scheduler;
  GVariantBuilder builder;

  g_return_val_if_fail (WP_IS_POOL (pool), NULL);

  scheduler = &pool->scheduler;

#define ADD(key, value) \
  g_variant_builder_add (&builder, "{sv}", key, g_variant_new_uint64 (value))

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  ADD ("submitted", scheduler->stats.submitted);
  ADD ("completed", scheduler->stats.completed);
  ADD ("failed", scheduler->stats.failed);
  ADD ("cancelled", scheduler->stats.cancelled);
  ADD ("crashed", scheduler->stats.crashed);
  ADD ("timed-out", scheduler->stats.timed_out);
  ADD ("queued", scheduler->counts.n_queued + scheduler->counts.n_offered);
  ADD ("prefetched", scheduler->counts.n_offered);
  ADD ("running", scheduler->counts.n_running);
  ADD ("workers", scheduler->workers.all.length);
  ADD ("spawned", scheduler->stats.spawned);
  g_variant_builder_add (&builder, "{sv}", "sandbox",
                         g_variant_new_string (scheduler->sandbox_in_force != NULL
                                               ? scheduler->sandbox_in_force : ""));

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

  return pool->scheduler.n_workers;
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

  ensure_initialized (pool);
  return pool->scheduler.plugin_dir;
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

  set_uint (pool, &pool->scheduler.job_timeout_ms, timeout_ms, PROP_JOB_TIMEOUT);
}

/**
 * wp_pool_get_job_timeout:
 * @pool: a #WpPool
 *
 * Gets the pool's job timeout.  Call from the pool's thread.
 *
 * Returns: the longest a job may run, in milliseconds; 0 for no limit
 */
guint
wp_pool_get_job_timeout (WpPool *pool)
{
  g_return_val_if_fail (WP_IS_POOL (pool), 0);

  return pool->scheduler.job_timeout_ms;
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

  set_uint (pool, &pool->scheduler.max_jobs_per_worker, max_jobs, PROP_MAX_JOBS_PER_WORKER);
}

/**
 * wp_pool_get_max_jobs_per_worker:
 * @pool: a #WpPool
 *
 * Gets how many jobs a worker runs before it is replaced.  Call from the
 * pool's thread.
 *
 * Returns: the number of jobs; 0 for no limit
 */
guint
wp_pool_get_max_jobs_per_worker (WpPool *pool)
{
  g_return_val_if_fail (WP_IS_POOL (pool), 0);

  return pool->scheduler.max_jobs_per_worker;
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

  set_uint (pool, &pool->scheduler.cancel_grace_ms, grace_ms, PROP_CANCEL_GRACE);
}

/**
 * wp_pool_get_cancel_grace:
 * @pool: a #WpPool
 *
 * Gets how long a worker may take to end a stopped job before it is
 * killed.  Call from the pool's thread.
 *
 * Returns: the grace period, in milliseconds
 */
guint
wp_pool_get_cancel_grace (WpPool *pool)
{
  g_return_val_if_fail (WP_IS_POOL (pool), 0);

  return pool->scheduler.cancel_grace_ms;
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

  if (pool->scheduler.memory_limit == bytes)
    return;

  wp_scheduler_set_limits (&pool->scheduler, pool->scheduler.max_frame, bytes,
                           pool->scheduler.sandbox);
  g_object_notify_by_pspec (G_OBJECT (pool), properties[PROP_WORKER_MEMORY_LIMIT]);
}

/**
 * wp_pool_get_worker_memory_limit:
 * @pool: a #WpPool
 *
 * Gets the memory limit of each worker.  Call from the pool's thread.
 *
 * Returns: the most address space a worker may use, in bytes; 0 for no
 *   limit
 */
guint64
wp_pool_get_worker_memory_limit (WpPool *pool)
{
  g_return_val_if_fail (WP_IS_POOL (pool), 0);

  return pool->scheduler.memory_limit;
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
  if (pool->scheduler.max_frame == bytes)
    return;

  wp_scheduler_set_limits (&pool->scheduler, bytes, pool->scheduler.memory_limit,
                           pool->scheduler.sandbox);
  g_object_notify_by_pspec (G_OBJECT (pool), properties[PROP_MAX_FRAME_SIZE]);
}

/**
 * wp_pool_get_max_frame_size:
 * @pool: a #WpPool
 *
 * Gets the largest message between the pool and a worker.  Call from the
 * pool's thread.
 *
 * Returns: the limit, in bytes
 */
gsize
wp_pool_get_max_frame_size (WpPool *pool)
{
  g_return_val_if_fail (WP_IS_POOL (pool), 0);

  return pool->scheduler.max_frame;
}

/**
 * wp_pool_set_prefetch:
 * @pool: a #WpPool
 * @n_jobs: how many jobs each busy worker is handed ahead of time, at
 *   most 4 (the default, unless `$WORKPOOL_PREFETCH` says otherwise); 0
 *   turns prefetch off
 *
 * When jobs wait and every worker is busy, the pool hands each busy
 * worker up to @n_jobs of the next jobs, so that it goes from one job to
 * the next without waiting for the pool.  Such a job has not started:
 * the pool takes it back to cancel it, to run it on a worker that goes
 * idle, or to run a more urgent job first, unless the worker already
 * took it (an atomic claim decides), so it runs exactly once.  The
 * `prefetched` stat counts them.  Lowering the value takes back the
 * extra jobs.
 *
 * Call from the pool's thread.
 */
void
wp_pool_set_prefetch (WpPool *pool,
                      guint   n_jobs)
{
  g_return_if_fail (WP_IS_POOL (pool));

  n_jobs = MIN (n_jobs, WP_CLAIM_SLOTS);
  if (pool->scheduler.prefetch == n_jobs)
    return;

  wp_scheduler_set_prefetch (&pool->scheduler, n_jobs);
  g_object_notify_by_pspec (G_OBJECT (pool), properties[PROP_PREFETCH]);
}

/**
 * wp_pool_get_prefetch:
 * @pool: a #WpPool
 *
 * Gets how many jobs each busy worker may be handed ahead of time.  Call
 * from the pool's thread.
 *
 * Returns: the number of jobs; 0 if prefetch is off
 */
guint
wp_pool_get_prefetch (WpPool *pool)
{
  g_return_val_if_fail (WP_IS_POOL (pool), 0);

  return pool->scheduler.prefetch;
}

/**
 * wp_pool_set_sandbox:
 * @pool: a #WpPool
 * @sandbox: how to confine the workers
 *
 * Confines the workers.  Under %WP_SANDBOX_STRICT each worker, as it
 * starts and before it loads any plugin, points every descriptor it was
 * not meant to have at `/dev/null`, sets `RLIMIT_CORE` to 0 and bounds `RLIMIT_NOFILE`,
 * sets `PR_SET_NO_NEW_PRIVS` and makes itself undumpable, and then, for
 * the rest of its life:
 *
 * - reads, through Landlock at the best ABI the kernel offers, no file
 *   outside `/usr`, `/lib*`, `/etc/ld.so.cache`, `/etc/localtime`, the font
 *   configuration and cache, `/dev/urandom`, its own `/proc/self`, the
 *   plugin directory, the worker executable's directory and
 *   `$GDK_PIXBUF_MODULE_FILE`, and writes, creates, renames, links,
 *   truncates or removes no file anywhere: it works on the descriptors it
 *   is given ([method@Workpool.Pool.call_with_unix_fd_list_async]);
 * - makes no socket of any family and connects to nothing, starts no
 *   process (threads still work), can neither ptrace nor signal any
 *   process but itself, and is refused the kernel's other escape hatches
 *   (namespaces, mounts, BPF, io_uring and the like), through a seccomp
 *   filter.
 *
 * A forbidden call fails with `EPERM` or `EACCES`, so a plugin sees an
 * ordinary error, except execve() and execveat(), which kill the worker:
 * the job then fails with %WP_POOL_ERROR_WORKER_CRASHED, whose message
 * says that the sandbox killed it.  Where the kernel lacks Landlock or
 * seccomp, every job fails with %WP_POOL_ERROR_SANDBOX naming what is
 * missing: no job runs unconfined instead.  The mechanisms in force are
 * the "sandbox" entry of [method@Workpool.Pool.get_stats].
 *
 * The default is %WP_SANDBOX_NONE, unless `$WORKPOOL_SANDBOX` is
 * `strict`.  A change retires the workers started under the old setting,
 * as for [method@Workpool.Pool.set_worker_memory_limit].
 *
 * Call from the pool's thread.
 */
void
wp_pool_set_sandbox (WpPool    *pool,
                     WpSandbox  sandbox)
{
  g_return_if_fail (WP_IS_POOL (pool));
  g_return_if_fail (sandbox == WP_SANDBOX_NONE || sandbox == WP_SANDBOX_STRICT);

  if (pool->scheduler.sandbox == sandbox)
    return;

  wp_scheduler_set_limits (&pool->scheduler, pool->scheduler.max_frame,
                           pool->scheduler.memory_limit, sandbox);
  g_object_notify_by_pspec (G_OBJECT (pool), properties[PROP_SANDBOX]);
}

/**
 * wp_pool_set_background:
 * @pool: a #WpPool
 * @background: whether the workers run at idle priority
 *
 * With @background, each worker, as it starts and before it loads any
 * plugin, puts itself under the `SCHED_IDLE` scheduling policy (it gets
 * the CPU only when nothing else of the machine wants it) and in the idle
 * I/O class (likewise for the disk): for work nobody waits for, such as
 * thumbnails of files not on screen.  A kernel that refuses either is
 * said on the worker's stderr, and the worker runs on.
 *
 * The default is %FALSE.  A change retires the workers started under the
 * old setting, as for [method@Workpool.Pool.set_worker_memory_limit].
 *
 * Call from the pool's thread.
 */
void
wp_pool_set_background (WpPool   *pool,
                        gboolean  background)
{
  g_return_if_fail (WP_IS_POOL (pool));

  background = !!background;
  if (pool->scheduler.background == background)
    return;

  wp_scheduler_set_background (&pool->scheduler, background);
  g_object_notify_by_pspec (G_OBJECT (pool), properties[PROP_BACKGROUND]);
}

/**
 * wp_pool_get_background:
 * @pool: a #WpPool
 *
 * Gets whether the workers run at idle CPU and I/O priority.  Call from
 * the pool's thread.
 *
 * Returns: the pool's background setting
 */
gboolean
wp_pool_get_background (WpPool *pool)
{
  g_return_val_if_fail (WP_IS_POOL (pool), FALSE);

  return pool->scheduler.background;
}

/**
 * wp_pool_get_sandbox:
 * @pool: a #WpPool
 *
 * Gets how the workers are confined.  Call from the pool's thread.
 *
 * Returns: the pool's sandbox
 */
WpSandbox
wp_pool_get_sandbox (WpPool *pool)
{
  g_return_val_if_fail (WP_IS_POOL (pool), WP_SANDBOX_NONE);

  return pool->scheduler.sandbox;
}

/**
 * wp_pool_set_launcher:
 * @pool: a #WpPool
 * @argv: (array zero-terminated=1) (nullable): the command that starts each
 *   worker and its arguments, which go before the worker's own; %NULL to
 *   start workers on this machine (the default)
 *
 * Starts each worker through a launcher: a command that runs another one,
 * here or on another machine, with its standard input and output
 * connected to the launcher's, such as Slurm's
 * `{"srun", "--unbuffered", "--ntasks=1", "--input=0", NULL}` or
 * `{"ssh", "-T", "-o", "BatchMode=yes", "HOST", NULL}`.  Each worker is
 * started as `ARGV… WORKER ARGS…`, where WORKER is the pool's worker
 * executable and ARGS name the pool's plugin directory: both paths must
 * exist, the same, where the worker runs (one install on a filesystem the
 * machines share, or the same install on each).  ssh hands the command to
 * the remote user's shell as one line, so through ssh those paths must not
 * hold what that shell interprets, such as spaces or quotes.
 *
 * Such a worker talks to the pool over its standard input and output
 * alone, through the launcher, and everything else holds as for a worker
 * of this machine: each job completes exactly once; crashes, cancellation,
 * timeouts, recycling and the frame limit work the same; the memory limit
 * and the sandbox are applied by the worker on its machine, and plugins
 * are checked ([ctor@Workpool.Pool.new]) where they are loaded.  A crash
 * report gives the launcher's exit status and the end of its stderr,
 * which carries the worker's.  Besides:
 *
 * - Such a worker takes no job ahead of time: prefetch
 *   ([method@Workpool.Pool.set_prefetch]) needs memory shared with the
 *   pool, so it is off for it.  For the same reason a job sent to it
 *   counts as taken: if the worker or its connection is lost while the
 *   job is on its way, the job fails with %WP_POOL_ERROR_WORKER_CRASHED
 *   instead of running on another worker, as a job a local worker never
 *   took would; it never runs twice.
 * - File descriptors cannot reach it: a call with a descriptor list
 *   ([method@Workpool.Pool.call_with_unix_fd_list_async]) fails with
 *   %WP_POOL_ERROR_INVALID_ARGS, as do such calls still queued when a
 *   launcher is set.  Pass paths on a shared filesystem instead.
 * - A worker exits when its standard input ends, which is how it learns
 *   that the pool, or the connection, is gone (ssh forwards no signal):
 *   a job it runs then is abandoned.  A job stopped by force (once the
 *   cancel grace period is over) and a pool disposed of kill the launcher
 *   with `SIGKILL`, which ends the connection and so the worker behind
 *   it: nothing is left running on the other machine.  Each launcher
 *   runs in a session of its own (setsid()), so the signals of the
 *   program's terminal, Ctrl-C among them, are the program's to handle,
 *   as with local workers, and a launcher that would prompt (ssh
 *   without `BatchMode`) fails instead of waiting on a terminal.
 * - Starting takes as long as the launcher needs (about a tenth of a
 *   second for `srun` on an idle cluster, up to a second for `ssh`), and
 *   no timeout counts it: a job's timeout starts when a worker has the
 *   job.  A launcher that fails (an unknown host, no allocation) is a
 *   worker that failed to start: after three in a row, with no worker
 *   running, the queued jobs fail with %WP_POOL_ERROR_FAILED, whose
 *   message ends with what the launcher wrote on its stderr.  One that
 *   waits (srun for resources) keeps the jobs queued as long as it
 *   waits; the engine's own options bound that (`srun --immediate=30`,
 *   `ssh -o ConnectTimeout=10`).
 *
 * A change retires the workers started the other way, as for
 * [method@Workpool.Pool.set_worker_memory_limit].
 *
 * Call from the pool's thread.
 */
void
wp_pool_set_launcher (WpPool             *pool,
                      const char * const *argv)
{
  g_return_if_fail (WP_IS_POOL (pool));
  g_return_if_fail (argv == NULL || argv[0] != NULL);

  if (argv == NULL ? pool->scheduler.launcher == NULL
                   : pool->scheduler.launcher != NULL
                     && g_strv_equal (argv, (const char * const *) pool->scheduler.launcher))
    return;

  wp_scheduler_set_launcher (&pool->scheduler, argv);
  g_object_notify_by_pspec (G_OBJECT (pool), properties[PROP_LAUNCHER]);
}

/**
 * wp_pool_get_launcher:
 * @pool: a #WpPool
 *
 * Gets the command each worker is started through.  Call from the pool's
 * thread.
 *
 * Returns: (array zero-terminated=1) (nullable) (transfer none): the
 *   launcher and its arguments, %NULL when workers start on this machine
 */
const char * const *
wp_pool_get_launcher (WpPool *pool)
{
  g_return_val_if_fail (WP_IS_POOL (pool), NULL);

  return (const char * const *) pool->scheduler.launcher;
}
