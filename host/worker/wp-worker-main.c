/* wp-worker-main.c: the workpool-worker executable.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One worker process runs one job at a time for one pool.  The pool
 * starts it with these descriptors:
 *
 *   0  requests  (host → worker): CALL and DESCRIBE frames
 *   1  replies   (worker → host): HELLO, LOADED, RESULT and ERROR frames
 *   2  stderr    kept by the host: its tail goes into crash reports
 *   3  control   (host → worker): CANCEL frames
 *   4  claims    a page shared with the host (wp-claim-private.h): the
 *                id of the last job taken, written before the job is
 *                loaded or run, so the host can tell a job that crashed
 *                its worker from one the worker never took; and the claim
 *                on a job the host sent ahead of time, while the previous
 *                one ran, which the host may have taken back: such a
 *                frame is skipped without a reply
 *   5  fds       a Unix socket (both ways): the descriptors of CALL_FDS
 *                and RESULT_FDS frames, as wp-wire-fds.c describes; each
 *                `h` of such a job's arguments becomes a descriptor of
 *                this process, closed once the reply is sent, and each
 *                `h` of its result a descriptor sent and then closed
 *
 * Behind a launcher (--remote: srun, ssh), on another machine perhaps,
 * the worker has only 0, 1 and 2, whatever they are (pipes, sockets, a
 * pty): CANCEL frames come on the request stream, read by the request
 * thread (below); there is no page of claims, and no job is sent ahead
 * of time; and descriptors cannot come at all.
 *
 * Start-up moves the request and reply pipes to private descriptors and
 * points fd 0 at /dev/null and fd 1 at stderr, so a plugin that reads
 * stdin or prints to stdout cannot touch the protocol.  The worker dies
 * with its host: PR_SET_PDEATHSIG, a check that the host did not die
 * before that, and an exit when the control pipe (behind a launcher, the
 * request stream) reaches EOF.  SIGPIPE is ignored, so writing to a dead
 * host is an error that ends the worker, never a signal or a spin.
 *
 * Threads.  The main thread reads requests and runs each job
 * synchronously.  Behind a launcher, the request thread reads them
 * instead and hands them to the main thread through `incoming`, except
 * CANCEL frames, which it acts on as the control thread does.  EOF on
 * the request stream is a launcher's only way to say that the pool is
 * gone (ssh forwards no signal): with a job running or waiting, the
 * worker exits at once (EXIT_HOST_GONE), leaving nothing running; with
 * none, it exits as for a retire.  `busy` (under the queue's lock) is
 * set from the moment a request is taken until its reply is sent.
 *
 * The control thread only reads CANCEL frames; under
 * `lock` it cancels the running job's GCancellable if the id matches, so
 * a cancel that arrives late (the job already ended) cancels nothing, and
 * it remembers the id, so a cancel that overtook its job (the two travel
 * on different pipes) cancels the job as it starts.
 *
 * Memory.  With --memory-limit, the worker sets RLIMIT_AS (soft and hard)
 * before it starts its control thread or loads any plugin, so everything
 * a plugin allocates counts against it: an allocation over it fails
 * (g_malloc() aborts, malloc() returns NULL), and the job fails, as
 * crashed when the worker dies of it.  Not in an AddressSanitizer build
 * (see wp-sanitizer-private.h), which says so on stderr instead.
 *
 * Priority.  With --priority=idle (a pool's "background" property) the
 * worker runs under SCHED_IDLE and in the idle I/O class, set before the
 * sandbox and any plugin.
 *
 * Frames.  --max-frame bounds both directions: the requests this worker
 * reads, and the replies it sends.  A reply over it is replaced by an
 * ERROR frame (WP_POOL_ERROR_PROTOCOL) naming both sizes, so the job
 * fails clearly and the worker lives on; the host enforces the same
 * limit on its own all the same.
 *
 * The worker sends HELLO before it reads anything, and once its control
 * thread runs: a worker that dies before its HELLO was never given a
 * job, which is how the host tells a start-up failure (a memory limit
 * too small to start in, say) from a crash.  EOF on the request pipe
 * means "exit": every plugin's shutdown() runs, then the process exits
 * with status 0.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <workpool/wp-error.h>

#include "wp-claim-private.h"
#include "wp-plugin-loader.h"
#include "wp-sandbox.h"
#include "wp-sanitizer-private.h"
#include "wp-wire-private.h"
#include "wp-wire-fds-private.h"

#ifdef WP_SANITIZER_BUILD
#include <sanitizer/common_interface_defs.h>
#endif


/* Exit statuses; the host reports them in crash messages. */
enum {
  EXIT_USAGE    = 2,
  EXIT_PROTOCOL = 3,
  EXIT_HOST_GONE = 4,
};

typedef struct {
  int             requests;
  int             replies;
  int             control;       /* -1 behind a launcher */
  int             fds;           /* the descriptor socket (wp-wire-fds.c); -1 likewise */
  WpClaimPage    *claims;        /* NULL likewise */
  gboolean        remote;        /* behind a launcher: 0, 1 and 2 only */
  GAsyncQueue    *incoming;      /* WpWireMessage *, from the request thread */
  gboolean        busy;          /* a request taken, not replied to; under incoming's lock */
  gsize           max_frame;
  WpPluginLoader *loader;

  GMutex          lock;
  guint64         running_job;   /* 0 when no job runs; guarded by lock */
  guint64         cancelled_job; /* the last CANCEL's job; guarded by lock */
  GCancellable   *cancellable;   /* the running job's; guarded by lock */

  char           *sandbox;       /* the mechanisms in force; "" for none */
  GError         *sandbox_error; /* a sandbox was asked for and cannot be */
} Worker;

static void G_GNUC_NORETURN
die (int         status,
     const char *format,
     ...) G_GNUC_PRINTF (2, 3);

static void G_GNUC_NORETURN
die (int         status,
     const char *format,
     ...)
{
  g_autofree char *message = NULL;
  va_list args;


  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("workpool-worker[%d]: %s\n", (int) getpid (), message);
  _exit (status);
}

/* Stands for the end of the request stream in `incoming`. */
static WpWireMessage end_of_requests;

static void
send_message (Worker     *worker,
              WpWireKind  kind,
              guint64     job_id,
              GVariant   *body)
{
  g_autoptr(WpWireFrame) frame = wp_wire_frame_new (kind, job_id, body);
  g_autoptr(GError) error = NULL;

  /* The job is over: from here, the pool's going away leaves nothing
   * running (see the request thread). */
  if (worker->remote
      && (kind == WP_WIRE_RESULT || kind == WP_WIRE_ERROR || kind == WP_WIRE_RESULT_FDS))
    {
      g_async_queue_lock (worker->incoming);
      worker->busy = FALSE;
      g_async_queue_unlock (worker->incoming);
    }

  if (!wp_wire_frame_write_all (frame, worker->replies, &error))
    die (EXIT_HOST_GONE, "cannot reply to the pool: %s", error->message);
}

/* Why the descriptors a function returned cannot go, or NULL. */
static GError *
check_result_fds (const char *plugin,
                  const char *function,
                  GArray     *fds)
{
  if (fds->len > WP_WIRE_MAX_FDS)
    return g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_BAD_RESULT,
                        "%s.%s returned %u file descriptors, over the limit of %u",
                        plugin, function, fds->len, WP_WIRE_MAX_FDS);

  for (guint i = 0; i < fds->len; i++)
    if (fcntl (g_array_index (fds, int, i), F_GETFD) < 0)
      return g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_BAD_RESULT,
                          "%s.%s returned a handle (%d) that is not an open file descriptor",
                          plugin, function, g_array_index (fds, int, i));

  return NULL;
}

/* Sends a job's reply: @result (sunk if floating), or else @error.  A
 * reply whose frame would be over the pool's limit becomes an ERROR
 * saying so, since the host would refuse the frame and kill this worker.
 * @function is NULL for a description.  @fds non-NULL: the job came with
 * descriptors, and @result's handles index @fds, which go first (a
 * RESULT_FDS); NULL: a plain RESULT. */
static void
send_reply_with_fds (Worker       *worker,
                     guint64       job_id,
                     const char   *plugin,
                     const char   *function,
                     GVariant     *result,
                     const GError *error,
                     GArray       *fds)
{
  g_autoptr(GVariant) body = NULL;
  g_autoptr(GError) fds_error = NULL;
  WpWireKind kind;
  gsize size;

  if (result != NULL && fds != NULL && (fds_error = check_result_fds (plugin, function, fds)))
    {
      error = fds_error;
      g_variant_unref (g_variant_ref_sink (result));
      result = NULL;
    }

  if (result != NULL)
    {
      kind = fds != NULL ? WP_WIRE_RESULT_FDS : WP_WIRE_RESULT;
      body = g_variant_ref_sink (result);
    }
  else
    {
      kind = WP_WIRE_ERROR;
      body = g_variant_ref_sink (wp_wire_error_to_variant (error));
    }

  size = wp_wire_envelope_size (body);
  if (G_UNLIKELY (size > worker->max_frame))
    {
      g_autoptr(GError) oversized = NULL;

      oversized = g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_PROTOCOL,
                               "%s%s%s's %s is %" G_GSIZE_FORMAT " bytes, over the pool's limit "
                               "of %" G_GSIZE_FORMAT " bytes for a frame",
                               plugin, function != NULL ? "." : "", function != NULL ? function : "",
                               function == NULL ? "description" : result != NULL ? "result" : "error",
                               size, worker->max_frame);
      g_variant_unref (body);
      body = g_variant_ref_sink (wp_wire_error_to_variant (oversized));
      kind = WP_WIRE_ERROR;
    }

  if (kind == WP_WIRE_RESULT_FDS)
    {
      g_autoptr(GError) send_error = NULL;

      if (!wp_wire_fds_send (worker->fds, job_id, (const int *) (gpointer) fds->data, fds->len,
                             &send_error))
        die (EXIT_HOST_GONE, "cannot send file descriptors to the pool: %s",
             send_error->message);
    }

  send_message (worker, kind, job_id, body);
}

static void
send_reply (Worker       *worker,
            guint64       job_id,
            const char   *plugin,
            const char   *function,
            GVariant     *result,
            const GError *error)
{
  send_reply_with_fds (worker, job_id, plugin, function, result, error, NULL);
}

/* Jobs */

static void
begin_job (Worker  *worker,
           guint64  job_id)
{
  g_mutex_lock (&worker->lock);
  worker->running_job = job_id;
  /* The cancel may have overtaken the job on its way here. */
  if (worker->cancelled_job == job_id)
    g_cancellable_cancel (worker->cancellable);
  g_mutex_unlock (&worker->lock);
}

static void
end_job (Worker *worker)
{
  g_mutex_lock (&worker->lock);
  worker->running_job = 0;
  /* A cancellable stays cancelled; the next job gets a fresh one. */
  if (g_cancellable_is_cancelled (worker->cancellable))
    {
      g_object_unref (worker->cancellable);
      worker->cancellable = g_cancellable_new ();
    }
  g_mutex_unlock (&worker->lock);
}

static WpLoadedPlugin *
get_plugin (Worker      *worker,
            guint64      job_id,
            const char  *name,
            GError     **error)
{
  gboolean newly_loaded;
  WpLoadedPlugin *plugin = wp_plugin_loader_get (worker->loader, name, &newly_loaded, error);

  if (plugin != NULL && newly_loaded)
    {
      const WpPluginFileId *id = wp_loaded_plugin_get_file_id (plugin);

      send_message (worker, WP_WIRE_LOADED, job_id,
                    g_variant_new ("(sttx)", name, id->dev, id->ino, id->mtime_ns));
    }

  return plugin;
}

static GVariant *
run_call (Worker      *worker,
          guint64      job_id,
          const char  *plugin_name,
          const char  *function_name,
          GVariant    *args,
          GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  const WpFunction *function;
  WpLoadedPlugin *plugin;
  GVariant *result;

  plugin = get_plugin (worker, job_id, plugin_name, error);
  if (plugin == NULL)
    return NULL;

  function = wp_loaded_plugin_lookup (plugin, function_name, error);
  if (function == NULL)
    return NULL;

  if (!wp_wire_args_check (args, plugin_name, function_name, function->args_type, error))
    return NULL;

  begin_job (worker, job_id);
  result = function->func (args, worker->cancellable, &local_error);
  end_job (worker);

  if (result == NULL)
    {
      if (local_error == NULL)
        g_set_error (error, WP_POOL_ERROR, WP_POOL_ERROR_BAD_RESULT,
                     "%s.%s returned NULL without setting an error", plugin_name, function_name);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  g_variant_ref_sink (result);
  if (!g_variant_is_of_type (result, G_VARIANT_TYPE (function->result_type)))
    {
      g_set_error (error, WP_POOL_ERROR, WP_POOL_ERROR_BAD_RESULT,
                   "%s.%s returned a value of type %s, not %s", plugin_name, function_name,
                   g_variant_get_type_string (result), function->result_type);
      g_variant_unref (result);
      return NULL;
    }

  return result;
}

static void
handle_call (Worker   *worker,
             guint64   job_id,
             GVariant *body)
{
  const char *plugin, *function;
  g_autoptr(GVariant) args = wp_wire_call_get (body, &plugin, &function);
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;

  result = run_call (worker, job_id, plugin, function, args, &error);
  send_reply (worker, job_id, plugin, function, result, error);
}

static gboolean
array_has_fd (GArray *array,
              guint   end,
              int     fd)
{
  for (guint i = 0; i < end; i++)
    if (g_array_index (array, int, i) == fd)
      return TRUE;
  return FALSE;
}

/* A CALL_FDS: @fds (received, owned here) are the job's descriptors.
 * They, and those the result gives away, are closed once the reply is
 * sent, each once even where the plugin returned one it was given. */
static void
handle_call_with_fds (Worker   *worker,
                      guint64   job_id,
                      GVariant *body,
                      int      *fds,
                      guint     n_fds)
{
  const char *plugin, *function;
  g_autoptr(GVariant) args = wp_wire_call_get (body, &plugin, &function);
  g_autoptr(GVariant) mapped = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) result_fds = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GArray) to_close = g_array_new (FALSE, FALSE, sizeof (int));

  mapped = wp_wire_handles_map (args, fds, n_fds, &error);
  if (mapped != NULL)
    {
      g_autoptr(GVariant) returned = run_call (worker, job_id, plugin, function, mapped, &error);

      if (returned != NULL)
        result = wp_wire_handles_collect (returned, result_fds);
    }

  send_reply_with_fds (worker, job_id, plugin, function, g_steal_pointer (&result), error,
                       result_fds);

  g_array_append_vals (to_close, result_fds->data, result_fds->len);
  g_array_append_vals (to_close, fds, n_fds);
  for (guint i = 0; i < to_close->len; i++)
    {
      int fd = g_array_index (to_close, int, i);

      if (fd >= 0 && !array_has_fd (to_close, i, fd))
        close (fd);
    }
}

static void
handle_describe (Worker   *worker,
                 guint64   job_id,
                 GVariant *body)
{
  g_autoptr(GError) error = NULL;
  GVariant *description = NULL;
  WpLoadedPlugin *plugin;
  const char *plugin_name = wp_wire_describe_get (body);

  plugin = get_plugin (worker, job_id, plugin_name, &error);
  if (plugin != NULL)
    description = wp_loaded_plugin_describe (plugin, &error);

  send_reply (worker, job_id, plugin_name, NULL, description, error);
}

/* The control thread */

/* A CANCEL for @job_id. */
static void
note_cancel (Worker  *worker,
             guint64  job_id)
{
  g_mutex_lock (&worker->lock);
  worker->cancelled_job = job_id;
  if (job_id != 0 && job_id == worker->running_job)
    g_cancellable_cancel (worker->cancellable);
  g_mutex_unlock (&worker->lock);
}

/* The next message on @fd, for a thread that reads nothing else: FALSE
 * at EOF.  A malformed one (@what) ends the worker. */
static gboolean
read_message (WpWireReader  *reader,
              int            fd,
              const char    *what,
              WpWireMessage *message)
{
  for (;;)
    {
      g_autoptr(GError) error = NULL;

      switch (wp_wire_reader_next (reader, fd, message, &error))
        {
        case WP_WIRE_READ_AGAIN:
          continue;
        case WP_WIRE_READ_EOF:
          return FALSE;
        case WP_WIRE_READ_ERROR:
          die (EXIT_PROTOCOL, "bad %s: %s", what, error->message);
        case WP_WIRE_READ_MESSAGE:
        default:
          return TRUE;
        }
    }
}

static gpointer
control_thread (gpointer data)
{
  Worker *worker = data;
  g_autoptr(WpWireReader) reader = wp_wire_reader_new (worker->max_frame);
  WpWireMessage message = { 0, };

  while (read_message (reader, worker->control, "control message", &message))
    {
      if (message.kind != WP_WIRE_CANCEL)
        die (EXIT_PROTOCOL, "unexpected message of kind %u on the control pipe", message.kind);

      note_cancel (worker, message.job_id);
      wp_wire_message_clear (&message);
    }

  /* The pool keeps the control pipe open for as long as this process
   * lives, so EOF means the pool is gone. */
  _exit (EXIT_HOST_GONE);
}

/* The request thread, behind a launcher */

/* EOF on the request stream: see "Threads" above. */
static void
end_requests (Worker *worker)
{
  g_async_queue_lock (worker->incoming);
  if (worker->busy || g_async_queue_length_unlocked (worker->incoming) > 0)
    _exit (EXIT_HOST_GONE);
  g_async_queue_push_unlocked (worker->incoming, &end_of_requests);
  g_async_queue_unlock (worker->incoming);
}

static gpointer
request_thread (gpointer data)
{
  Worker *worker = data;
  g_autoptr(WpWireReader) reader = wp_wire_reader_new (worker->max_frame);
  WpWireMessage message = { 0, };

  while (read_message (reader, worker->requests, "request", &message))
    {
      if (message.kind == WP_WIRE_CANCEL)
        {
          note_cancel (worker, message.job_id);
          wp_wire_message_clear (&message);
          continue;
        }

      if (message.kind != WP_WIRE_CALL && message.kind != WP_WIRE_DESCRIBE)
        die (EXIT_PROTOCOL, "unexpected message of kind %u from a pool behind a launcher",
             message.kind);

      g_async_queue_push (worker->incoming, g_memdup2 (&message, sizeof message));
      message = (WpWireMessage) { 0, };
    }

  end_requests (worker);
  return NULL;
}

/* Start-up */

static int
move_fd_away (int fd)
{
  int moved = fcntl (fd, F_DUPFD_CLOEXEC, WP_WIRE_FDS_FD + 1);

  if (moved < 0)
    die (EXIT_USAGE, "cannot move descriptor %d: %s", fd, g_strerror (errno));
  return moved;
}

static gboolean
is_pipe (int fd)
{
  struct stat st;

  return fstat (fd, &st) == 0 && S_ISFIFO (st.st_mode);
}

/* A launcher may hand its task a pty (srun --unbuffered does, for its
 * output): frames are bytes, which a terminal's output processing
 * would change. */
static void
make_raw (int fd)
{
  struct termios mode;

  if (!isatty (fd))
    return;
  if (tcgetattr (fd, &mode) != 0)
    die (EXIT_USAGE, "tcgetattr: %s", g_strerror (errno));
  cfmakeraw (&mode);
  if (tcsetattr (fd, TCSANOW, &mode) != 0)
    die (EXIT_USAGE, "cannot make the terminal raw: %s", g_strerror (errno));
}

static void
setup_local_descriptors (Worker *worker)
{
  if (!is_pipe (0) || !is_pipe (1) || !is_pipe (WP_WIRE_CONTROL_FD))
    die (EXIT_USAGE, "this program is started by libworkpool, which talks to it over pipes; "
         "it is not meant to be run by hand");

  worker->control = WP_WIRE_CONTROL_FD;
  if (fcntl (WP_WIRE_CONTROL_FD, F_SETFD, FD_CLOEXEC) != 0)
    die (EXIT_USAGE, "cannot set up the control pipe: %s", g_strerror (errno));
  worker->fds = WP_WIRE_FDS_FD;
  if (fcntl (WP_WIRE_FDS_FD, F_SETFD, FD_CLOEXEC) != 0)
    die (EXIT_USAGE, "cannot set up the descriptor socket: %s", g_strerror (errno));

  worker->claims = mmap (NULL, sizeof (WpClaimPage), PROT_READ | PROT_WRITE, MAP_SHARED,
                         WP_WIRE_CLAIMS_FD, 0);
  if (worker->claims == MAP_FAILED)
    die (EXIT_USAGE, "cannot map the shared page: %s", g_strerror (errno));
  close (WP_WIRE_CLAIMS_FD);
}

static void
setup_descriptors (Worker *worker)
{
  int devnull;

  if (!worker->remote)
    setup_local_descriptors (worker);
  else if (isatty (0))
    die (EXIT_USAGE, "this program is started by libworkpool, which talks to it over its "
         "standard input and output; it is not meant to be run by hand");
  else
    {
      worker->control = -1;
      worker->fds = -1;
      worker->claims = NULL;
    }

  worker->requests = move_fd_away (0);
  worker->replies = move_fd_away (1);
  make_raw (worker->replies);

  devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0 || dup2 (devnull, 0) < 0 || dup2 (2, 1) < 0)
    die (EXIT_USAGE, "cannot redirect stdin and stdout: %s", g_strerror (errno));
  close (devnull);
}

static void
die_with_host (gint64 host_pid)
{
  if (prctl (PR_SET_PDEATHSIG, SIGKILL) != 0)
    die (EXIT_USAGE, "prctl(PR_SET_PDEATHSIG): %s", g_strerror (errno));

  /* The host may have died before prctl() took effect. */
  if (host_pid > 0 && getppid () != (pid_t) host_pid)
    _exit (EXIT_HOST_GONE);
}

/* RLIMIT_AS, soft and hard, so that a plugin cannot raise it again.  A
 * hard limit already lower (a ulimit of the user's) stays as it is. */
static void
limit_memory (guint64 bytes)
{
  struct rlimit limit;

  if (bytes == 0)
    return;

  if (WP_ASAN_BUILD)
    {
      g_printerr ("workpool-worker[%d]: built with AddressSanitizer, which reserves terabytes of "
                  "address space: the memory limit of %" G_GUINT64_FORMAT " bytes is not applied\n",
                  (int) getpid (), bytes);
      return;
    }

  if (getrlimit (RLIMIT_AS, &limit) != 0)
    die (EXIT_USAGE, "getrlimit(RLIMIT_AS): %s", g_strerror (errno));

  if (limit.rlim_max == RLIM_INFINITY || limit.rlim_max > bytes)
    limit.rlim_max = bytes;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit (RLIMIT_AS, &limit) != 0)
    die (EXIT_USAGE, "cannot limit memory to %" G_GUINT64_FORMAT " bytes: setrlimit(RLIMIT_AS): %s",
         bytes, g_strerror (errno));
}

/* The next request: read here, or, behind a launcher, from the request
 * thread.  Taking one makes the worker busy. */
static WpWireReadStatus
next_request (Worker         *worker,
              WpWireReader   *reader,
              WpWireMessage  *message,
              GError        **error)
{
  WpWireMessage *taken;

  if (!worker->remote)
    return wp_wire_reader_next (reader, worker->requests, message, error);

  g_async_queue_lock (worker->incoming);
  taken = g_async_queue_pop_unlocked (worker->incoming);
  worker->busy = taken != &end_of_requests;
  g_async_queue_unlock (worker->incoming);

  if (taken == &end_of_requests)
    return WP_WIRE_READ_EOF;

  *message = *taken;
  g_free (taken);
  return WP_WIRE_READ_MESSAGE;
}

/* Whether the job is this worker's to run: see WP_WIRE_CLAIMS_FD.
 * Behind a launcher every job is. */
static gboolean
take_job (Worker  *worker,
          guint64  job_id)
{
  return worker->remote || wp_claim_take (worker->claims, job_id);
}

static void
serve (Worker *worker)
{
  g_autoptr(WpWireReader) reader = wp_wire_reader_new (worker->max_frame);

  for (;;)
    {
      WpWireMessage message = { 0, };
      g_autoptr(GError) error = NULL;
      int *fds = NULL;
      guint n_fds = 0;

      switch (next_request (worker, reader, &message, &error))
        {
        case WP_WIRE_READ_AGAIN:
          continue;
        case WP_WIRE_READ_EOF:
          return;
        case WP_WIRE_READ_ERROR:
          die (EXIT_PROTOCOL, "bad request: %s", error->message);
        case WP_WIRE_READ_MESSAGE:
          break;
        }

      /* A CALL_FDS's descriptors are queued already; they are read even
       * for a job skipped below, so the next datagram is the next job's. */
      if (message.kind == WP_WIRE_CALL_FDS
          && !wp_wire_fds_receive (worker->fds, message.job_id, TRUE, &fds, &n_fds, &error))
        die (EXIT_PROTOCOL, "bad file descriptors: %s", error->message);

      /* Before anything that could crash.  A job the host took back is
       * skipped. */
      if ((message.kind == WP_WIRE_CALL || message.kind == WP_WIRE_DESCRIBE
           || message.kind == WP_WIRE_CALL_FDS)
          && !take_job (worker, message.job_id))
        {
          wp_wire_fds_close (fds, n_fds);
          g_clear_pointer (&fds, g_free);
          wp_wire_message_clear (&message);
          continue;
        }

      /* No plugin code runs where the sandbox asked for is missing. */
      if (worker->sandbox_error != NULL && message.kind != WP_WIRE_CANCEL)
        {
          wp_wire_fds_close (fds, n_fds);
          g_clear_pointer (&fds, g_free);
          send_message (worker, WP_WIRE_ERROR, message.job_id,
                        wp_wire_error_to_variant (worker->sandbox_error));
        }
      else if (message.kind == WP_WIRE_CALL)
        handle_call (worker, message.job_id, message.body);
      else if (message.kind == WP_WIRE_CALL_FDS)
        {
          handle_call_with_fds (worker, message.job_id, message.body, fds, n_fds);
          g_clear_pointer (&fds, g_free);
        }
      else if (message.kind == WP_WIRE_DESCRIBE)
        handle_describe (worker, message.job_id, message.body);
      else
        die (EXIT_PROTOCOL, "unexpected message of kind %u on the request pipe", message.kind);

      wp_wire_message_clear (&message);
    }
}

/* In a -Db_sanitize build: a worker's stderr reaches nobody unless a job
 * crashes, and a sanitizer report at a clean exit fails no job, so the
 * test suite has the workers write their reports to files
 * ($WORKPOOL_WORKER_SANITIZER_LOG.PID), where it looks for them. */
static void
report_sanitizer_errors (void)
{
#ifdef WP_SANITIZER_BUILD
  const char *path = g_getenv ("WORKPOOL_WORKER_SANITIZER_LOG");
  g_autofree char *dir = NULL;

  if (path == NULL)
    return;

  /* The sanitizer cannot report to a folder that does not exist. */
  dir = g_path_get_dirname (path);
  g_mkdir_with_parents (dir, 0755);
  __sanitizer_set_report_path (path);
#endif
}

/* The command line.  Its own function: main() ends in exit(), which
 * skips main's g_autoptr cleanups, so nothing parsed may stay owned there
 * (LeakSanitizer would report it at every exit). */
static void
parse_options (int      *argc,
               char   ***argv,
               char    **plugin_dir,
               gint64   *host_pid,
               gsize    *max_frame,
               guint64  *memory_limit,
               gboolean *strict,
               gboolean *idle,
               gboolean *remote)
{
  g_autofree char *sandbox = NULL;
  g_autofree char *priority = NULL;
  gint64 frame = WP_WIRE_DEFAULT_MAX_FRAME;
  gint64 limit = 0;
  GOptionEntry entries[] = {
    { "plugin-dir", 0, 0, G_OPTION_ARG_FILENAME, plugin_dir, "Plugin directory", "DIR" },
    { "host-pid", 0, 0, G_OPTION_ARG_INT64, host_pid, "Process id of the pool's process", "PID" },
    { "max-frame", 0, 0, G_OPTION_ARG_INT64, &frame,
      "Largest frame read or sent, in bytes, header not counted", "BYTES" },
    { "memory-limit", 0, 0, G_OPTION_ARG_INT64, &limit,
      "Address space limit (RLIMIT_AS) in bytes, 0 for none", "BYTES" },
    { "sandbox", 0, 0, G_OPTION_ARG_STRING, &sandbox,
      "none (the default) or strict (wp-sandbox.c)", "SANDBOX" },
    { "priority", 0, 0, G_OPTION_ARG_STRING, &priority,
      "normal (the default) or idle: SCHED_IDLE and the idle I/O class", "PRIORITY" },
    { "remote", 0, 0, G_OPTION_ARG_NONE, remote,
      "Started through a launcher: the protocol on stdin and stdout alone", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- runs jobs for a workpool pool");
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, &error))
    die (EXIT_USAGE, "%s", error->message);
  if (*plugin_dir == NULL || frame <= 0 || frame > WP_WIRE_MAX_FRAME_LIMIT || limit < 0)
    die (EXIT_USAGE, "--plugin-dir is required, --max-frame must be from 1 to %u, and "
         "--memory-limit may not be negative", WP_WIRE_MAX_FRAME_LIMIT);
  if (sandbox != NULL && !g_str_equal (sandbox, "none") && !g_str_equal (sandbox, "strict"))
    die (EXIT_USAGE, "--sandbox must be none or strict, not %s", sandbox);
  if (priority != NULL && !g_str_equal (priority, "normal") && !g_str_equal (priority, "idle"))
    die (EXIT_USAGE, "--priority must be normal or idle, not %s", priority);
  *idle = priority != NULL && g_str_equal (priority, "idle");
  *max_frame = (gsize) frame;
  *memory_limit = (guint64) limit;
  *strict = sandbox != NULL && g_str_equal (sandbox, "strict");
}

/* <linux/ioprio.h>, which not every libc's kernel headers have. */
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_IDLE  3
#define IOPRIO_CLASS_SHIFT 13

/* --priority=idle: the CPU only when nothing else wants it (SCHED_IDLE),
 * the disk likewise (IOPRIO_CLASS_IDLE), set before the sandbox, whose
 * seccomp filter then keeps a plugin from raising them again only as far
 * as the kernel does (raising needs CAP_SYS_NICE).  A kernel that refuses
 * either is said on stderr, and the worker runs on. */
static void
lower_priority (void)
{
  struct sched_param param = { 0 };

  if (sched_setscheduler (0, SCHED_IDLE, &param) != 0)
    g_printerr ("workpool-worker: cannot set SCHED_IDLE: %s\n", g_strerror (errno));
  if (syscall (SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
               IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT) != 0)
    g_printerr ("workpool-worker: cannot set the idle I/O class: %s\n", g_strerror (errno));
}

/* Under --sandbox=strict, before any thread starts and any plugin loads:
 * see wp-sandbox.c.  A sandbox that cannot be had leaves the worker
 * answering every job with the reason. */
static void
enter_sandbox (Worker     *worker,
               const char *plugin_dir)
{
  const int keep[] = { worker->requests, worker->replies, WP_WIRE_CONTROL_FD, WP_WIRE_FDS_FD };
  g_autoptr(GError) error = NULL;

  if (wp_sandbox_enter (plugin_dir, keep, worker->remote ? 2 : G_N_ELEMENTS (keep),
                        &worker->sandbox, &error))
    return;

  worker->sandbox = g_strdup ("");
  worker->sandbox_error = g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_SANDBOX, "%s",
                                       error->message);
}

#ifdef WP_SANITIZER_BUILD
static gboolean sandboxed;

/* LeakSanitizer's check at exit needs ptrace and a new process, which the
 * sandbox refuses: a sandboxed worker skips it. */
int __lsan_is_turned_off (void);

int
__lsan_is_turned_off (void)
{
  return sandboxed;
}
#endif

int
main (int    argc,
      char **argv)
{
  char *plugin_dir = NULL;
  gint64 host_pid = 0;
  guint64 memory_limit = 0;
  gboolean strict = FALSE, idle = FALSE;
  Worker worker = { 0, };

  report_sanitizer_errors ();
  parse_options (&argc, &argv, &plugin_dir, &host_pid, &worker.max_frame, &memory_limit,
                 &strict, &idle, &worker.remote);

  signal (SIGPIPE, SIG_IGN);
  /* Ctrl-C in a terminal reaches the whole process group: it is for the
   * program using the pool to act on (by cancelling jobs), not for its
   * workers to die of. */
  signal (SIGINT, SIG_IGN);
  die_with_host (host_pid);
  /* Before anything this process does for a plugin. */
  limit_memory (memory_limit);

  /* A worker handles large frames over and over: keep freed memory for
   * the next one instead of unmapping it and faulting fresh zeroed pages
   * in each time (a third of the time of a 1 MiB echo otherwise). */
  mallopt (M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt (M_TRIM_THRESHOLD, 64 * 1024 * 1024);
  setup_descriptors (&worker);
  if (idle)
    lower_priority ();
  if (strict)
    enter_sandbox (&worker, plugin_dir);
  else
    worker.sandbox = g_strdup ("");
#ifdef WP_SANITIZER_BUILD
  sandboxed = strict;
#endif

  worker.loader = wp_plugin_loader_new (plugin_dir);
  g_free (plugin_dir);
  worker.cancellable = g_cancellable_new ();
  g_mutex_init (&worker.lock);

  /* Before HELLO: a memory limit too small for its stack is a failure
   * to start, not a crash of the first job. */
  if (worker.remote)
    {
      worker.incoming = g_async_queue_new ();
      g_thread_unref (g_thread_new ("wp-requests", request_thread, &worker));
    }
  else
    g_thread_unref (g_thread_new ("wp-control", control_thread, &worker));

  send_message (&worker, WP_WIRE_HELLO, 0,
                g_variant_new ("(uis)", WP_WIRE_PROTOCOL_VERSION, (gint32) getpid (),
                               worker.sandbox));

  serve (&worker);

  wp_plugin_loader_shutdown (worker.loader);
  /* The control or request thread is blocked in read(); exiting ends it. */
  exit (0);
}
