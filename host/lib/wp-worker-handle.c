/* wp-worker-handle.c: WpWorkerHandle, the pool's handle on one worker process.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A worker handle owns one workpool-worker process (a GSubprocess), the
 * host's ends of its four pipes and of its descriptor socket (see
 * wp-worker-main.c), or, for a worker started through a launcher
 * (is_remote(): srun, ssh), the launcher's process and its three standard
 * streams alone, one GSource in the pool's context that watches the
 * pipes (the socket is only read when a RESULT_FDS frame says its
 * datagram is queued; see wp-wire-fds.c) and carries the worker's
 * deadline, and the job the process is running.  It knows the protocol;
 * the scheduler (wp-scheduler.c) decides what to run, when to stop, and
 * what a death means.  Every change of state goes through set_state(),
 * which keeps the handle's place in its WpWorkerSet (the counts by state
 * and the list of idle handles the scheduler asks instead of scanning).
 *
 *  STARTING ──hello──▶ IDLE ──run──▶ BUSY ──reply──▶ IDLE
 *                        ▲             │ cancel
 *                        │             ▼
 *                        ╰──reply── CANCELLING
 *
 *  BUSY ──offer──▶ BUSY with offered jobs ──reply──▶ BUSY with the first
 *                        │ revoke (won)              of them, running
 *                        ▼
 *                      BUSY with one offer fewer
 *
 *  any live state ──retire (EOF on requests), kill, protocol error, the
 *                   reply pipe closing──▶ EXITING
 *  any state ──process reaped──▶ DEAD
 *
 * Invariants:
 *  - job != NULL exactly in BUSY and CANCELLING, and possibly in EXITING
 *    after a kill or a protocol error (the exit event then reports it),
 *    and in DEAD until the pool takes it from the exited event.  Offers
 *    exist only behind a job, except once the pool took the job of a
 *    process it killed: then until it takes them back.
 *  - A message that is not what the state allows (a second hello, a
 *    reply for another job, a reply while idle) is a protocol error: the
 *    process is killed and the error kept for the exit report.
 *  - Events are emitted only from this handle's own source or its exit
 *    callback, in the pool's context, never from inside a call the pool
 *    made; a detached handle emits nothing.  The source may recurse, so a
 *    callback run from `settled` may iterate the context.
 *  - The process is reaped by GSubprocess (in GLib's worker thread); the
 *    exit callback first drains what the process wrote before it died,
 *    so a reply that raced with the death is still delivered.  Where
 *    GLib reports an exit without reaping (see reap_if_left), the handle
 *    reaps the process itself through a pidfd of its own.
 *  - A job the process never took was not run, and the pool may queue it
 *    again instead of calling it crashed.  Taken means: the process wrote
 *    the job's id into the page it shares with this handle (it does so
 *    before it loads or runs anything), or read part of a frame too large
 *    for the pipe.  Bytes written prove nothing: a process killed while
 *    idle may have had a whole frame handed to its read() on its way out.
 *    The shared page costs no system call per job, unlike a message.  A
 *    process behind a launcher (is_remote(): srun, ssh) shares no page: a
 *    job of which any byte was written to it counts as taken.  A message
 *    would cost more than a system call there: Slurm forwards a task's
 *    output in TCP segments with Nagle's algorithm on, so a small message
 *    before the reply holds the reply back until the first is
 *    acknowledged, up to 40 ms.
 *  - The limits a process was started with (frame size, memory) are its
 *    own for life: a pool that changes them retires it and starts
 *    another, so the handle remembers them.
 *  - Prefetch (the policy is wp-prefetch.c's; this is the mechanism).  A
 *    BUSY worker may be offered its next jobs, whose frames are written
 *    at once, so the process goes from one job to the next
 *    without sleeping in read() and without a wake-up from the pool
 *    (which costs more than the job itself on a machine whose idle CPUs
 *    halt), and the pool reads several replies per wake-up.  An offered
 *    job is not running: the reply of the job ahead makes the first offer
 *    the running job (`replied` reports the old one; the pool then finds
 *    the new one in wp_worker_handle_get_job()).  Until then, the pool may
 *    revoke it; its slot in the page of claims (wp-claim-private.h)
 *    decides whether the pool or the process got it first.  At most
 *    WP_CLAIM_SLOTS offers at a time, in the order they were made, each
 *    of a frame small enough that the request pipe takes them all whole
 *    behind the running job's: an offer never waits behind a partly
 *    written frame, and never blocks the pool.
 *  - A job with descriptors keeps them (its GUnixFDList) until it is
 *    done, and each frame made for it sends them again, just before its
 *    first byte: a job run again on another worker, after its first
 *    died before taking it, has them still; a frame dropped unwritten
 *    never sent them.
 *  - Requests are written in the order they were made, from `requests`;
 *    a revoked offer whose frame was partly written stays there (the
 *    process skips it), one not written at all is dropped.
 */

#include "config.h"

#include "wp-worker-handle-private.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <workpool/wp-error.h>

#include "wp-claim-private.h"
#include "wp-sanitizer-private.h"
#include "wp-source-private.h"
#include "wp-wire-private.h"
#include "wp-wire-fds-private.h"

#define STDERR_TAIL_BYTES 4096
#define STDERR_READ_CHUNK 4096
#define HUGETLB_TUNABLE   "glibc.malloc.hugetlb=1"
#define STDERR_DRAIN_MAX  64
#define REAP_RETRY_MS     10
#define OFFER_MAX_FRAME   (16 * 1024)
#define PIPE_PAGE_SLACK   (2 * 4096)  /* pages a pipe may hold part-filled */

typedef struct {
  WpJob       *job;
  WpWireFrame *frame;  /* in `requests` while not all written */
  gsize        size;
  int          slot;   /* in the page of claims */
} Offer;

struct _WpWorkerHandle {
  gint                        ref_count;
  WpWorkerHandleState         state;
  const WpWorkerHandleEvents *events;            /* NULL once detached */
  gpointer                    user_data;
  WpWorkerSet                *set;               /* NULL once removed from it */
  GList                       set_link;          /* in set->all */
  GList                       idle_link;         /* in set->idle while IDLE */

  GSubprocess                *process;
  char                       *pid;
  GCancellable               *wait_cancellable;

  int                         request_fd;        /* host ends; -1 once closed */
  int                         reply_fd;
  int                         stderr_fd;
  int                         control_fd;        /* -1 behind a launcher */
  int                         fds_fd;            /* descriptor socket (wp-wire-fds.c); likewise */
  GSource                    *source;
  gpointer                    request_tag;       /* only while a frame is pending */
  gpointer                    reply_tag;
  gpointer                    stderr_tag;
  WpWireReader               *reader;
  GQueue                      requests;          /* WpWireFrame not yet written, in order */
  gsize                       request_capacity;  /* of the request pipe, in bytes */

  WpJob                      *job;
  WpWireFrame                *job_frame;         /* in `requests` while not all written */
  gsize                       job_frame_size;
  gboolean                    job_sent;          /* part of a frame reached it */
  Offer                       offers[WP_CLAIM_SLOTS]; /* sent ahead, in order; not running yet */
  guint                       n_offers;
  WpClaimPage                *claims;            /* shared with the process; NULL if remote */
  char                      **launcher;          /* its argv; NULL for none (see is_remote()) */
  gboolean                    ready;             /* it said hello */
  gboolean                    exit_requested;    /* the pool retired or killed it */
  guint                       jobs_done;
  gsize                       max_frame;         /* the limits it was started with */
  guint64                     memory_limit;
  WpSandbox                   sandbox;
  gboolean                    background;
  char                       *sandbox_in_force;  /* from HELLO; "" for none */
  gboolean                    reaped;
  int                         pidfd;             /* -1 if none; see reap_if_left */
  GSource                    *reap_source;       /* retries reap_if_left */
  gboolean                    reaped_here;       /* GLib left it: own_status is the truth */
  siginfo_t                   own_status;
  GHashTable                 *plugin_files;      /* plugin name → WpPluginFileId */
  const char                 *last_plugin;       /* the last key found there, and its */
  const WpPluginFileId       *last_plugin_file;  /* value: a pool runs one plugin mostly */
  GString                    *stderr_tail;
  GError                     *protocol_error;
};

typedef struct {
  GSource   source;
  WpWorkerHandle *worker;
} WorkerSource;

static void emit_replied      (WpWorkerHandle *worker, GVariant *result, GError *error);

/* Started through a launcher, on this machine or another. */
static inline gboolean
is_remote (const WpWorkerHandle *worker)
{
  return worker->launcher != NULL;
}

static void protocol_failure  (WpWorkerHandle *worker, GError *error);
static void kill_process      (WpWorkerHandle *worker);

/* States */

static guint *
set_count_of (WpWorkerSet         *set,
              WpWorkerHandleState  state)
{
  switch (state)
    {
    case WP_WORKER_HANDLE_STARTING:
      return &set->n_starting;
    case WP_WORKER_HANDLE_IDLE:
      return &set->n_idle;
    case WP_WORKER_HANDLE_BUSY:
    case WP_WORKER_HANDLE_CANCELLING:
      return &set->n_busy;
    case WP_WORKER_HANDLE_EXITING:
    case WP_WORKER_HANDLE_DEAD:
    default:
      return NULL;
    }
}

/* The one place a handle changes state; keeps its set's counts and idle
 * list. */
static void
set_state (WpWorkerHandle      *worker,
           WpWorkerHandleState  state)
{
  WpWorkerSet *set = worker->set;

  if (worker->state == state)
    return;

  if (set != NULL)
    {
      guint *from = set_count_of (set, worker->state);
      guint *to = set_count_of (set, state);

      if (from != NULL)
        (*from)--;
      if (to != NULL)
        (*to)++;
      if (worker->state == WP_WORKER_HANDLE_IDLE)
        g_queue_unlink (&set->idle, &worker->idle_link);
      else if (state == WP_WORKER_HANDLE_IDLE)
        g_queue_push_tail_link (&set->idle, &worker->idle_link);
    }

  worker->state = state;
}

/* Descriptors */

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

static void
stop_watching (WpWorkerHandle *worker,
               gpointer       *tag)
{
  if (*tag != NULL && worker->source != NULL)
    g_source_remove_unix_fd (worker->source, *tag);
  *tag = NULL;
}

static void
drop_requests (WpWorkerHandle *worker)
{
  GList *link;

  while ((link = g_queue_pop_head_link (&worker->requests)) != NULL)
    wp_wire_frame_free (link->data);
  worker->job_frame = NULL;
  for (guint i = 0; i < worker->n_offers; i++)
    worker->offers[i].frame = NULL;
}

static void
close_everything (WpWorkerHandle *worker)
{
  stop_watching (worker, &worker->request_tag);
  stop_watching (worker, &worker->reply_tag);
  stop_watching (worker, &worker->stderr_tag);
  wp_clear_source (&worker->source);
  wp_clear_source (&worker->reap_source);
  close_fd (&worker->request_fd);
  close_fd (&worker->reply_fd);
  close_fd (&worker->stderr_fd);
  close_fd (&worker->control_fd);
  close_fd (&worker->fds_fd);
  drop_requests (worker);
}

/* stderr */

static void
keep_stderr (WpWorkerHandle *worker,
             const char     *data,
             gsize           length)
{
  g_string_append_len (worker->stderr_tail, data, length);
  if (worker->stderr_tail->len > 2 * STDERR_TAIL_BYTES)
    g_string_erase (worker->stderr_tail, 0, worker->stderr_tail->len - STDERR_TAIL_BYTES);

  if (!g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
    {
      g_autofree char *text = g_utf8_make_valid (data, (gssize) length);

      g_debug ("worker %s: %s", worker->pid, text);
    }
}

/* Reads one chunk; FALSE when there is nothing more to read now. */
static gboolean
read_stderr_chunk (WpWorkerHandle *worker)
{
  char buffer[STDERR_READ_CHUNK];
  ssize_t n;

  if (worker->stderr_fd < 0)
    return FALSE;

  do
    n = read (worker->stderr_fd, buffer, sizeof buffer);
  while (n < 0 && errno == EINTR);

  if (n > 0)
    {
      keep_stderr (worker, buffer, (gsize) n);
      return TRUE;
    }

  if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
    {
      stop_watching (worker, &worker->stderr_tag);
      close_fd (&worker->stderr_fd);
    }

  return FALSE;
}

/* The last lines of the tail, whole lines where possible, valid UTF-8. */
static char *
dup_stderr_tail (WpWorkerHandle *worker)
{
  const char *text = worker->stderr_tail->str;
  gsize length = worker->stderr_tail->len;

  if (length > STDERR_TAIL_BYTES)
    {
      const char *cut = text + length - STDERR_TAIL_BYTES;
      const char *newline = memchr (cut, '\n', STDERR_TAIL_BYTES);

      if (newline != NULL && newline + 1 < text + length)
        cut = newline + 1;
      length -= (gsize) (cut - text);
      text = cut;
    }

  while (length > 0 && (text[length - 1] == '\n' || text[length - 1] == '\r'))
    length--;

  return g_utf8_make_valid (text, (gssize) length);
}

/* Requests */

static void
forget_written_frame (WpWorkerHandle *worker)
{
  WpWireFrame *frame = g_queue_pop_head_link (&worker->requests)->data;

  if (frame == worker->job_frame)
    worker->job_frame = NULL;
  for (guint i = 0; i < worker->n_offers; i++)
    if (frame == worker->offers[i].frame)
      worker->offers[i].frame = NULL;
  wp_wire_frame_free (frame);
}

static void
flush_requests (WpWorkerHandle *worker)
{
  WpWireFrame *frame;

  while ((frame = g_queue_peek_head (&worker->requests)) != NULL)
    {
      g_autoptr(GError) error = NULL;
      gboolean complete;

      /* A frame's descriptors go first, so the process finds them queued
       * when it reads the frame.  A socket that refuses them (the
       * kernel's limit on descriptors in flight) fails as a closed pipe
       * would: the frame is not written, and the process never saw it. */
      if (G_UNLIKELY (frame->fds_due))
        {
          if (!wp_wire_frame_send_fds (frame, worker->fds_fd, &error))
            {
              g_debug ("worker %s: %s", worker->pid, error->message);
              if (frame == worker->job_frame)
                worker->job_sent = FALSE;
              drop_requests (worker);
              stop_watching (worker, &worker->request_tag);
              kill_process (worker);
              return;
            }
        }

      if (!wp_wire_frame_write (frame, worker->request_fd, &complete, &error))
        {
          /* The process closed its end: it is dying, and its exit will be
           * reported.  Nothing written means it never saw the job. */
          if (frame == worker->job_frame)
            worker->job_sent = frame->written > 0;
          drop_requests (worker);
          stop_watching (worker, &worker->request_tag);
          kill_process (worker);
          return;
        }

      /* A frame cut short reached the process in part; a whole one may
       * sit unread in the pipe.  Behind a launcher, any byte may have
       * reached the worker and its job started: no page tells. */
      if (frame == worker->job_frame)
        worker->job_sent = (!complete || is_remote (worker)) && frame->written > 0;

      if (!complete)
        {
          if (worker->request_tag == NULL)
            worker->request_tag = g_source_add_unix_fd (worker->source, worker->request_fd,
                                                        G_IO_OUT);
          return;
        }

      forget_written_frame (worker);
    }

  stop_watching (worker, &worker->request_tag);
}

/* Replies */

static gboolean
handle_hello (WpWorkerHandle  *worker,
              WpWireMessage   *message,
              GError         **error)
{
  const char *sandbox;

  if (worker->state != WP_WORKER_HANDLE_STARTING)
    return wp_wire_protocol_error (error, "Worker %s said hello twice", worker->pid);

  if (!wp_wire_hello_check (message->body, &sandbox, error))
    {
      g_prefix_error (error, "Worker %s: ", worker->pid);
      return FALSE;
    }
  worker->sandbox_in_force = g_strdup (sandbox);

  set_state (worker, WP_WORKER_HANDLE_IDLE);
  worker->ready = TRUE;
  if (worker->events != NULL)
    worker->events->ready (worker, worker->user_data);

  return TRUE;
}

static gboolean
check_job_message (WpWorkerHandle  *worker,
                   WpWireMessage   *message,
                   GError         **error)
{
  if (worker->job == NULL || message->job_id != worker->job->id)
    return wp_wire_protocol_error (error, "Worker %s sent a message (kind %u) for job %"
                                   G_GUINT64_FORMAT ", which it is not running",
                                   worker->pid, message->kind, message->job_id);
  return TRUE;
}

static gboolean
handle_loaded (WpWorkerHandle  *worker,
               WpWireMessage   *message,
               GError         **error)
{
  g_autofree WpPluginFileId *id = g_new0 (WpPluginFileId, 1);
  const char *plugin;

  plugin = wp_wire_loaded_get (message->body, id);
  if (g_strcmp0 (plugin, worker->job->plugin) != 0)
    return wp_wire_protocol_error (error, "Worker %s loaded plugin '%s' for a job of plugin '%s'",
                               worker->pid, plugin, worker->job->plugin);

  worker->last_plugin = NULL;
  worker->last_plugin_file = NULL;
  g_hash_table_replace (worker->plugin_files, g_strdup (plugin), g_steal_pointer (&id));
  return TRUE;
}

static gboolean
handle_reply (WpWorkerHandle  *worker,
              WpWireMessage   *message,
              GError         **error)
{
  if (message->kind == WP_WIRE_ERROR)
    {
      emit_replied (worker, NULL, wp_wire_error_from_variant (message->body));
      return TRUE;
    }

  if (worker->job->kind == WP_JOB_DESCRIBE
      && !wp_wire_description_check (message->body, error))
    {
      g_prefix_error (error, "Worker %s, plugin '%s': ", worker->pid, worker->job->plugin);
      return FALSE;
    }

  emit_replied (worker, g_variant_ref (message->body), NULL);
  return TRUE;
}

/* The descriptors of a RESULT_FDS (none for a RESULT), into the job's
 * out_fd_list, once each `h` of the result is checked to be an index of
 * one; RESULT_FDS only for a job that was sent with descriptors. */
static G_GNUC_NO_INLINE gboolean
take_result_fds (WpWorkerHandle  *worker,
                 WpWireMessage   *message,
                 GError         **error)
{
  g_autofree int *fds = NULL;
  g_autoptr(GVariant) checked = NULL;
  guint n_fds = 0;

  if (!worker->job->with_fds)
    return wp_wire_protocol_error (error, "Worker %s sent file descriptors for job %"
                                   G_GUINT64_FORMAT ", which was sent none", worker->pid,
                                   message->job_id);

  if (message->kind == WP_WIRE_RESULT_FDS)
    {
      if (!wp_wire_fds_receive (worker->fds_fd, message->job_id, FALSE, &fds, &n_fds, error))
        goto failed;
    }

  if (wp_wire_has_handles (message->body))
    {
      checked = wp_wire_handles_map (message->body, NULL, n_fds, error);
      if (checked == NULL)
        {
          wp_wire_fds_close (fds, n_fds);
          goto failed;
        }
    }

  g_clear_object (&worker->job->out_fd_list);
  worker->job->out_fd_list = g_unix_fd_list_new_from_array (fds, (int) n_fds);
  return TRUE;

failed:
  g_prefix_error (error, "Worker %s: ", worker->pid);
  return FALSE;
}

static gboolean
handle_message (WpWorkerHandle  *worker,
                WpWireMessage   *message,
                GError         **error)
{
  switch (message->kind)
    {
    case WP_WIRE_HELLO:
      return handle_hello (worker, message, error);

    case WP_WIRE_LOADED:
      return check_job_message (worker, message, error)
             && handle_loaded (worker, message, error);

    case WP_WIRE_RESULT:
    case WP_WIRE_ERROR:
    case WP_WIRE_RESULT_FDS:
      if (!check_job_message (worker, message, error))
        return FALSE;
      if (G_UNLIKELY (message->kind == WP_WIRE_RESULT_FDS
                      || (worker->job->with_fds && message->kind == WP_WIRE_RESULT))
          && !take_result_fds (worker, message, error))
        return FALSE;
      return handle_reply (worker, message, error);

    case WP_WIRE_CALL:
    case WP_WIRE_CALL_FDS:
    case WP_WIRE_DESCRIBE:
    case WP_WIRE_CANCEL:
    default:
      return wp_wire_protocol_error (error, "Worker %s sent a message of kind %u, which only a "
                                 "pool may send", worker->pid, message->kind);
    }
}

static void
read_replies (WpWorkerHandle *worker)
{
  g_autoptr(WpWorkerHandle) hold = wp_worker_handle_ref (worker);

  while (worker->reply_fd >= 0)
    {
      WpWireMessage message = { 0, };
      g_autoptr(GError) error = NULL;

      switch (wp_wire_reader_next (worker->reader, worker->reply_fd, &message, &error))
        {
        case WP_WIRE_READ_AGAIN:
          return;

        case WP_WIRE_READ_EOF:
          /* A worker that closed its reply pipe can do nothing more;
           * killing it leaves the exit status of one already dying as
           * it was. */
          stop_watching (worker, &worker->reply_tag);
          close_fd (&worker->reply_fd);
          kill_process (worker);
          return;

        case WP_WIRE_READ_ERROR:
          /* Likely a remote shell's start-up file, or the launcher,
           * printing ahead of the worker. */
          if (worker->state == WP_WORKER_HANDLE_STARTING && is_remote (worker))
            g_prefix_error (&error, "Worker %s, started through %s, had something else on its "
                            "standard output before its first message (does a shell start-up "
                            "file or the launcher print there?): ", worker->pid,
                            worker->launcher[0]);
          else
            g_prefix_error (&error, "Worker %s: ", worker->pid);
          protocol_failure (worker, g_steal_pointer (&error));
          return;

        case WP_WIRE_READ_MESSAGE:
          {
            gboolean reply = message.kind == WP_WIRE_RESULT || message.kind == WP_WIRE_ERROR;

            if (!handle_message (worker, &message, &error))
              protocol_failure (worker, g_steal_pointer (&error));
            wp_wire_message_clear (&message);

            /* Nothing more comes before the next job, unless the reply
             * of an offered job came with this one: spare the read(2)
             * that would only say EAGAIN. */
            if (reply && !worker->reaped && !wp_wire_reader_has_data (worker->reader))
              return;
          }
          break;
        }
    }
}

static void
protocol_failure (WpWorkerHandle *worker,
                  GError         *error)
{
  if (worker->protocol_error == NULL)
    worker->protocol_error = error;
  else
    g_error_free (error);

  stop_watching (worker, &worker->reply_tag);
  close_fd (&worker->reply_fd);
  kill_process (worker);
}

static Offer
remove_offer (WpWorkerHandle *worker,
              guint           index)
{
  Offer offer = worker->offers[index];

  g_assert (index < worker->n_offers);
  worker->n_offers--;
  memmove (&worker->offers[index], &worker->offers[index + 1],
           (worker->n_offers - index) * sizeof (Offer));
  offer.job->worker = NULL;
  return offer;
}

/* The first offered job becomes the running one: the process runs it
 * next.  Its slot stays its own until the process takes it. */
static void
promote_offer (WpWorkerHandle *worker)
{
  Offer offer = remove_offer (worker, 0);

  worker->job = offer.job;
  offer.job->worker = worker;
  worker->job_frame = offer.frame;
  worker->job_frame_size = offer.size;
  worker->job_sent = offer.frame != NULL && offer.frame->written > 0;
}

static void
emit_replied (WpWorkerHandle *worker,
              GVariant       *result,
              GError         *error)
{
  WpJob *job = wp_worker_handle_take_job (worker);

  worker->jobs_done++;
  if (worker->n_offers > 0)
    promote_offer (worker);
  if (worker->reaped)
    set_state (worker, WP_WORKER_HANDLE_EXITING);
  else
    set_state (worker, worker->job != NULL ? WP_WORKER_HANDLE_BUSY : WP_WORKER_HANDLE_IDLE);
  if (g_source_get_ready_time (worker->source) != -1)
    g_source_set_ready_time (worker->source, -1);

  if (worker->events != NULL)
    worker->events->replied (worker, job, result, error, worker->user_data);
  else
    {
      g_clear_pointer (&result, g_variant_unref);
      g_clear_error (&error);
    }
}

/* The source */

static gboolean
worker_source_dispatch (GSource     *source,
                        GSourceFunc  callback,
                        gpointer     user_data)
{
  WpWorkerHandle *worker = ((WorkerSource *) source)->worker;
  g_autoptr(WpWorkerHandle) hold = wp_worker_handle_ref (worker);
  gint64 deadline = g_source_get_ready_time (source);

  if (worker->request_tag != NULL
      && g_source_query_unix_fd (source, worker->request_tag) != 0)
    flush_requests (worker);

  if (worker->reply_tag != NULL
      && g_source_query_unix_fd (source, worker->reply_tag) != 0)
    read_replies (worker);

  if (worker->stderr_tag != NULL
      && g_source_query_unix_fd (source, worker->stderr_tag) != 0)
    read_stderr_chunk (worker);

  /* A reply already in the pipe comes before the deadline: it may end
   * the job (and clear the deadline), or start a prefetched one. */
  if (deadline >= 0 && g_source_get_time (source) >= deadline
      && g_source_get_ready_time (source) == deadline && worker->source != NULL)
    read_replies (worker);

  if (deadline >= 0 && g_source_get_time (source) >= deadline
      && g_source_get_ready_time (source) == deadline && worker->source != NULL)
    {
      g_source_set_ready_time (source, -1);
      if (worker->events != NULL)
        worker->events->deadline (worker, worker->user_data);
    }

  if (worker->events != NULL)
    worker->events->settled (worker, worker->user_data);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs worker_source_funcs = {
  .dispatch = worker_source_dispatch,
};

/* The process */

/* A pidfd of the process, taken as soon as it started: a pid is reused
 * only once reaped and after the pid space wrapped around.  -1 if the
 * process is already reaped, or the kernel (or valgrind) has no pidfds. */
static int
open_pidfd (WpWorkerHandle *worker)
{
  if (worker->pid == NULL)
    return -1;

  return (int) syscall (SYS_pidfd_open, (pid_t) atoi (worker->pid), 0);
}

/* GLib 2.74 watches a child through a pidfd, and when the pidfd polls
 * readable it reports the child's exit even if waitid() finds the child
 * not yet waitable: with status 0, and it never reaps the child.  That
 * happens when the process dies while traced: its tracer is told first,
 * and until it lets go the parent cannot reap.  LeakSanitizer traces a
 * process at its exit; a debugger or a crash handler may too.  Left to
 * GLib, such a worker would stay a zombie and its death be misreported
 * (a SIGKILL as "exited with status 0").  So once GSubprocess has
 * reported the exit, the handle waits on its own pidfd: ECHILD if GLib
 * reaped the process, else the real status.  FALSE, with WNOHANG in
 * @options, while the process is not waitable yet.  A pidfd names one
 * process, never one that reused its pid. */
static gboolean
reap_if_left (WpWorkerHandle *worker,
              int             options)
{
  siginfo_t info;
  int r;

  if (worker->pidfd < 0)
    return TRUE;

  memset (&info, 0, sizeof info);
  do
    r = waitid ((idtype_t) P_PIDFD, (id_t) worker->pidfd, &info, WEXITED | options);
  while (r < 0 && errno == EINTR);

  if (r == 0 && info.si_pid == 0)
    return FALSE;

  worker->reaped_here = r == 0;
  worker->own_status = info;
  close_fd (&worker->pidfd);
  return TRUE;
}

static void
finish_exit (WpWorkerHandle *worker)
{
  /* Whatever it wrote before it died still counts. */
  worker->reaped = TRUE;
  read_replies (worker);
  for (guint i = 0; i < STDERR_DRAIN_MAX && read_stderr_chunk (worker); i++)
    ;

  set_state (worker, WP_WORKER_HANDLE_DEAD);
  close_everything (worker);

  if (worker->events != NULL)
    worker->events->exited (worker, worker->user_data);
}

static gboolean
on_reap_retry (gpointer user_data)
{
  WpWorkerHandle *worker = user_data;

  if (!reap_if_left (worker, WNOHANG))
    return G_SOURCE_CONTINUE;

  g_clear_pointer (&worker->reap_source, g_source_unref);
  finish_exit (worker);
  return G_SOURCE_REMOVE;
}

static void
on_process_exited (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(WpWorkerHandle) worker = user_data;

  if (!g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL))
    return;  /* detached */

  if (reap_if_left (worker, WNOHANG))
    {
      finish_exit (worker);
      return;
    }

  /* Still traced: the exit is reported when the process is reaped.  No
   * event tells when that is (the pidfd is readable already). */
  worker->reap_source = g_timeout_source_new (REAP_RETRY_MS);
  g_source_set_static_name (worker->reap_source, "WpWorkerHandle reap");
  g_source_set_callback (worker->reap_source, on_reap_retry, wp_worker_handle_ref (worker),
                         (GDestroyNotify) wp_worker_handle_unref);
  g_source_attach (worker->reap_source, g_source_get_context (worker->source));
}

#define BULK_PIPE_SIZE (1024 * 1024)

static gboolean
open_pipes (int       pipes[4][2],
            guint     n_pipes,
            GError  **error)
{
  for (guint i = 0; i < n_pipes; i++)
    if (!g_unix_open_pipe (pipes[i], FD_CLOEXEC, error))
      return FALSE;

  /* A larger pipe carries a large job or result in one write instead of
   * sixteen 64 KiB round trips between the two processes.  The kernel
   * allocates its pages only as they fill, and may refuse (pipe-max-size,
   * or the user's pipe quota): then the default stays. */
  fcntl (pipes[0][1], F_SETPIPE_SZ, BULK_PIPE_SIZE);
  fcntl (pipes[1][1], F_SETPIPE_SZ, BULK_PIPE_SIZE);

  return TRUE;
}

static void
close_pipes (int pipes[4][2])
{
  for (guint i = 0; i < 4; i++)
    {
      close_fd (&pipes[i][0]);
      close_fd (&pipes[i][1]);
    }
}

enum { REQUEST, REPLY, STDERR, CONTROL };

/* The descriptor socket (wp-wire-fds.c): the host's end, the worker's. */
static gboolean
open_fds_socket (int      fds_socket[2],
                 GError **error)
{
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds_socket) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot make a socket for a worker: %s", g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/* The GLIBC_TUNABLES of a worker: the program's, with
 * glibc.malloc.hugetlb=1 unless it sets that tunable itself.  malloc then
 * asks for transparent huge pages (madvise) for its heap and large
 * blocks, where the kernel offers them: a decoder's whole-image buffers,
 * allocated and freed job after job, then cost a fault per 2 MiB instead
 * of one per 4 KiB (half the time of a progressive JPEG's thumbnail). */
static char *
worker_tunables (void)
{
  const char *tunables = g_getenv ("GLIBC_TUNABLES");

  if (tunables == NULL || *tunables == '\0')
    return g_strdup (HUGETLB_TUNABLE);
  if (strstr (tunables, "glibc.malloc.hugetlb=") != NULL)
    return g_strdup (tunables);
  return g_strconcat (tunables, ":" HUGETLB_TUNABLE, NULL);
}

/* `[LAUNCHER…] WORKER ARGS…`.  A worker behind a launcher gets --remote
 * and no --host-pid, which names no process of its machine. */
static GPtrArray *
worker_argv (const WpWorkerHandleConfig *config)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  const char *const *word;

  if (config->launcher != NULL)
    for (word = config->launcher; *word != NULL; word++)
      g_ptr_array_add (argv, g_strdup (*word));

  g_ptr_array_add (argv, g_strdup (config->worker_path));
  g_ptr_array_add (argv, g_strdup ("--plugin-dir"));
  g_ptr_array_add (argv, g_strdup (config->plugin_dir));
  if (config->launcher == NULL)
    g_ptr_array_add (argv, g_strdup_printf ("--host-pid=%d", (int) getpid ()));
  else
    g_ptr_array_add (argv, g_strdup ("--remote"));
  g_ptr_array_add (argv, g_strdup_printf ("--max-frame=%" G_GSIZE_FORMAT, config->max_frame));
  g_ptr_array_add (argv, g_strdup_printf ("--memory-limit=%" G_GUINT64_FORMAT,
                                          config->memory_limit));
  g_ptr_array_add (argv, g_strdup_printf ("--sandbox=%s", config->sandbox == WP_SANDBOX_STRICT
                                                          ? "strict" : "none"));
  g_ptr_array_add (argv, g_strdup_printf ("--priority=%s", config->background ? "idle"
                                                                              : "normal"));
  g_ptr_array_add (argv, NULL);

  return argv;
}

/* Between fork and exec, in a launcher's process: a session of its own.
 * Signals of the program's terminal (Ctrl-C, a hang-up) are the
 * program's to act on, as they are for a local worker, which ignores
 * SIGINT; ssh would die of them, and its worker with it.  With no
 * terminal either, a launcher that would prompt (ssh without BatchMode)
 * fails at once instead of waiting for an answer no one sees. */
static void
start_own_session (gpointer user_data)
{
  setsid ();
}

static GSubprocess *
launch (const WpWorkerHandleConfig  *config,
        int pipes[4][2],
        int                         *claims_fd,
        int                         *fds_socket,
        GError                     **error)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GPtrArray) argv = worker_argv (config);
  g_autofree char *tunables = worker_tunables ();
  GSubprocess *process;

  g_subprocess_launcher_setenv (launcher, "GLIBC_TUNABLES", tunables, TRUE);
  /* The launcher owns the child's ends from here on, and closes them in
   * this process when it goes. */
  g_subprocess_launcher_take_stdin_fd (launcher, g_steal_fd (&pipes[REQUEST][0]));
  g_subprocess_launcher_take_stdout_fd (launcher, g_steal_fd (&pipes[REPLY][1]));
  g_subprocess_launcher_take_stderr_fd (launcher, g_steal_fd (&pipes[STDERR][1]));
  if (config->launcher == NULL)
    {
      g_subprocess_launcher_take_fd (launcher, g_steal_fd (&pipes[CONTROL][0]),
                                     WP_WIRE_CONTROL_FD);
      g_subprocess_launcher_take_fd (launcher, g_steal_fd (claims_fd), WP_WIRE_CLAIMS_FD);
      g_subprocess_launcher_take_fd (launcher, g_steal_fd (fds_socket), WP_WIRE_FDS_FD);
    }
  else
    g_subprocess_launcher_set_child_setup (launcher, start_own_session, NULL, NULL);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, error);
  if (process == NULL && config->launcher != NULL)
    g_prefix_error (error, "Cannot start the launcher %s for a worker: ", config->launcher[0]);
  else if (process == NULL)
    g_prefix_error (error, "Cannot start the worker %s: ", config->worker_path);

  return process;
}

/* The page of claims this handle shares with the process. */
static WpClaimPage *
map_claims_page (int     *fd,
                 GError **error)
{
  void *page;

  *fd = memfd_create ("workpool-claims", MFD_CLOEXEC);
  if (*fd < 0 || ftruncate (*fd, sizeof (WpClaimPage)) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot make a shared page for a worker: %s", g_strerror (saved_errno));
      return NULL;
    }

  page = mmap (NULL, sizeof (WpClaimPage), PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
  if (page == MAP_FAILED)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot map a shared page for a worker: %s", g_strerror (saved_errno));
      return NULL;
    }

  return page;
}

/* Starts a worker process.  Its events are emitted in the thread-default
 * main context of the caller. */
WpWorkerHandle *
wp_worker_handle_spawn (WpWorkerSet                 *set,
                        const WpWorkerHandleConfig  *config,
                        const WpWorkerHandleEvents  *events,
                        gpointer                     user_data,
                        GError                     **error)
{
  int pipes[4][2] = { { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 } };
  int fds_socket[2] = { -1, -1 };
  g_autoptr(GSubprocess) process = NULL;
  WpClaimPage *claims = NULL;
  int claims_fd = -1;
  int capacity;
  gboolean remote = config->launcher != NULL;
  WpWorkerHandle *worker;

  /* Behind a launcher: the three standard streams alone. */
  if (!open_pipes (pipes, remote ? 3 : 4, error)
      || (!remote && !open_fds_socket (fds_socket, error))
      || (!remote && (claims = map_claims_page (&claims_fd, error)) == NULL)
      || (process = launch (config, pipes, &claims_fd, &fds_socket[1], error)) == NULL)
    {
      close_pipes (pipes);
      close_fd (&fds_socket[0]);
      close_fd (&fds_socket[1]);
      close_fd (&claims_fd);
      if (claims != NULL)
        munmap (claims, sizeof (WpClaimPage));
      return NULL;
    }

  worker = g_new0 (WpWorkerHandle, 1);
  worker->ref_count = 1;
  worker->state = WP_WORKER_HANDLE_STARTING;
  worker->events = events;
  worker->user_data = user_data;
  worker->process = g_steal_pointer (&process);
  worker->claims = claims;
  worker->launcher = g_strdupv ((char **) config->launcher);
  worker->pid = g_strdup (g_subprocess_get_identifier (worker->process));
  worker->pidfd = open_pidfd (worker);
  worker->wait_cancellable = g_cancellable_new ();
  worker->request_fd = g_steal_fd (&pipes[REQUEST][1]);
  worker->reply_fd = g_steal_fd (&pipes[REPLY][0]);
  worker->stderr_fd = g_steal_fd (&pipes[STDERR][0]);
  worker->control_fd = g_steal_fd (&pipes[CONTROL][1]);
  worker->fds_fd = g_steal_fd (&fds_socket[0]);
  worker->max_frame = config->max_frame;
  worker->memory_limit = config->memory_limit;
  worker->sandbox = config->sandbox;
  worker->background = config->background;
  capacity = fcntl (worker->request_fd, F_GETPIPE_SZ);
  worker->request_capacity = capacity > 0 ? (gsize) capacity : 0;
  g_queue_init (&worker->requests);
  worker->reader = wp_wire_reader_new (config->max_frame);
  worker->plugin_files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  worker->stderr_tail = g_string_new (NULL);

  g_unix_set_fd_nonblocking (worker->request_fd, TRUE, NULL);
  g_unix_set_fd_nonblocking (worker->reply_fd, TRUE, NULL);
  g_unix_set_fd_nonblocking (worker->stderr_fd, TRUE, NULL);
  if (worker->control_fd >= 0)
    g_unix_set_fd_nonblocking (worker->control_fd, TRUE, NULL);

  worker->source = g_source_new (&worker_source_funcs, sizeof (WorkerSource));
  ((WorkerSource *) worker->source)->worker = worker;
  g_source_set_static_name (worker->source, "WpWorkerHandle");
  /* Nothing in its dispatch iterates the context (callbacks are returned
   * from the pool's own source), and a source that may not recurse has its
   * descriptors taken out of the poll set and put back, with a wake-up
   * each, at every dispatch: four eventfd writes per job. */
  g_source_set_can_recurse (worker->source, TRUE);
  worker->reply_tag = g_source_add_unix_fd (worker->source, worker->reply_fd,
                                            G_IO_IN | G_IO_HUP | G_IO_ERR);
  worker->stderr_tag = g_source_add_unix_fd (worker->source, worker->stderr_fd,
                                             G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_attach (worker->source, g_main_context_get_thread_default ());

  g_subprocess_wait_async (worker->process, worker->wait_cancellable,
                           on_process_exited, wp_worker_handle_ref (worker));

  /* The set holds the first reference. */
  worker->set = set;
  worker->set_link.data = worker;
  worker->idle_link.data = worker;
  g_queue_push_tail_link (&set->all, &worker->set_link);
  set->n_starting++;

  return worker;
}

WpWorkerHandle *
wp_worker_handle_ref (WpWorkerHandle *worker)
{
  g_atomic_int_inc (&worker->ref_count);
  return worker;
}

void
wp_worker_handle_unref (WpWorkerHandle *worker)
{
  if (!g_atomic_int_dec_and_test (&worker->ref_count))
    return;

  g_assert (worker->job == NULL && worker->n_offers == 0);

  close_everything (worker);
  close_fd (&worker->pidfd);
  g_clear_object (&worker->process);
  g_clear_object (&worker->wait_cancellable);
  g_clear_pointer (&worker->reader, wp_wire_reader_free);
  g_clear_pointer (&worker->plugin_files, g_hash_table_unref);
  g_string_free (worker->stderr_tail, TRUE);
  g_clear_error (&worker->protocol_error);
  if (worker->claims != NULL)
    munmap (worker->claims, sizeof (WpClaimPage));
  g_strfreev (worker->launcher);
  g_free (worker->pid);
  g_free (worker->sandbox_in_force);
  g_free (worker);
}

/* Stops emitting events and stops watching the process.  For a pool that
 * is going away; kill (and wait for) the process first. */
void
wp_worker_handle_detach (WpWorkerHandle *worker)
{
  worker->events = NULL;
  g_cancellable_cancel (worker->wait_cancellable);
  close_everything (worker);
}

/* State */

WpWorkerHandleState
wp_worker_handle_get_state (WpWorkerHandle *worker)
{
  return worker->state;
}

WpJob *
wp_worker_handle_get_job (WpWorkerHandle *worker)
{
  return worker->job;
}

/* Whether the process took @job, its last (see the invariants above): a
 * job it did not take never ran, and may run elsewhere.  For a dead
 * worker. */
gboolean
wp_worker_handle_took_job (WpWorkerHandle *worker,
                           WpJob          *job)
{
  if (is_remote (worker))
    return worker->job_sent;
  return worker->job_sent || wp_claim_was_started (worker->claims, job->id);
}

/* Whether the process died before it was ready, without being asked to:
 * a failure to start, not a crash. */
gboolean
wp_worker_handle_failed_to_start (WpWorkerHandle *worker)
{
  return !worker->ready && !worker->exit_requested;
}

guint
wp_worker_handle_get_jobs_done (WpWorkerHandle *worker)
{
  return worker->jobs_done;
}

static gboolean
strv_equal (const char * const *a,
            const char * const *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return g_strv_equal (a, b);
}

/* Whether the process runs under @config's limits, so that the jobs
 * the pool gives it now are held to what the pool promises them. */
gboolean
wp_worker_handle_has_limits (WpWorkerHandle             *worker,
                             const WpWorkerHandleConfig *config)
{
  return worker->max_frame == config->max_frame && worker->memory_limit == config->memory_limit
         && worker->sandbox == config->sandbox && worker->background == config->background
         && strv_equal ((const char * const *) worker->launcher, config->launcher);
}

/* The mechanisms of the worker's sandbox, as its HELLO said; "" for none,
 * NULL before its HELLO. */
const char *
wp_worker_handle_get_sandbox_in_force (WpWorkerHandle *worker)
{
  return worker->sandbox_in_force;
}

/* The file the worker loaded @plugin from; NULL if it has not. */
const WpPluginFileId *
wp_worker_handle_get_plugin_file_id (WpWorkerHandle *worker,
                                     const char     *plugin)
{
  gpointer key, value;

  if (worker->last_plugin != NULL && strcmp (worker->last_plugin, plugin) == 0)
    return worker->last_plugin_file;

  if (!g_hash_table_lookup_extended (worker->plugin_files, plugin, &key, &value))
    return NULL;

  worker->last_plugin = key;
  worker->last_plugin_file = value;
  return value;
}

static char *
describe_signal (WpWorkerHandle *worker,
                 int             signum)
{
  /* The seccomp filter kills with SIGSYS (wp-sandbox.c). */
  if (signum == SIGSYS && worker->sandbox == WP_SANDBOX_STRICT)
    return g_strdup_printf ("was killed by the sandbox (signal %d, %s): it made a system call "
                            "the sandbox forbids, such as execve", signum, g_strsignal (signum));

  return g_strdup_printf ("was killed by signal %d (%s)", signum, g_strsignal (signum));
}

static char *
describe_exit (WpWorkerHandle *worker)
{
  GSubprocess *process = worker->process;

  if (worker->reaped_here && worker->own_status.si_code == CLD_EXITED)
    return g_strdup_printf ("exited with status %d", worker->own_status.si_status);
  if (worker->reaped_here)
    return describe_signal (worker, worker->own_status.si_status);

  if (g_subprocess_get_if_signaled (process))
    return describe_signal (worker, g_subprocess_get_term_sig (process));

  return g_strdup_printf ("exited with status %d", g_subprocess_get_exit_status (process));
}

/* How the process died: a protocol error if it was killed for one,
 * otherwise WP_POOL_ERROR_WORKER_CRASHED naming the signal or exit status
 * and the memory limit it ran under (an allocation over it is a likely
 * cause), followed by the end of what it wrote to stderr. */
GError *
wp_worker_handle_dup_death_error (WpWorkerHandle *worker)
{
  g_autofree char *how = NULL;
  g_autofree char *tail = NULL;
  g_autofree char *through = NULL;

  g_return_val_if_fail (worker->state == WP_WORKER_HANDLE_DEAD, NULL);

  if (worker->protocol_error != NULL)
    return g_error_copy (worker->protocol_error);

  how = describe_exit (worker);
  if (worker->memory_limit > 0 && !WP_ASAN_BUILD)
    {
      char *limited = g_strdup_printf ("%s; it ran under a memory limit of %" G_GUINT64_FORMAT
                                       " bytes", how, worker->memory_limit);

      g_free (how);
      how = limited;
    }
  tail = dup_stderr_tail (worker);
  /* Behind a launcher, the process is the launcher's: its status and
   * stderr are those of the launcher, which passes on the worker's. */
  through = is_remote (worker) ? g_strdup_printf (", started through %s,", worker->launcher[0])
                               : g_strdup ("");

  if (*tail == '\0')
    return g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED,
                        "worker process %s%s %s", worker->pid, through, how);

  return g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED,
                      "worker process %s%s %s; the end of its stderr:\n%s", worker->pid, through,
                      how, tail);
}

/* Commands from the pool */

static WpWireFrame *
new_job_frame (WpJob *job)
{
  if (job->kind == WP_JOB_CALL)
    {
      WpWireFrame *frame = wp_wire_frame_new_call (job->id, job->plugin, job->function,
                                                   job->args, &job->call_layout);

      if (G_UNLIKELY (job->with_fds))
        {
          int n_fds = job->fd_list != NULL ? g_unix_fd_list_get_length (job->fd_list) : 0;

          wp_wire_frame_set_fds (frame, (GObject *) job->fd_list,
                                 n_fds > 0 ? g_unix_fd_list_peek_fds (job->fd_list, NULL) : NULL,
                                 (guint) n_fds);
        }
      return frame;
    }

  return wp_wire_frame_new (WP_WIRE_DESCRIBE, job->id, g_variant_new ("(s)", job->plugin));
}

/* IDLE → BUSY: sends @job, which the worker holds until it replies. */
void
wp_worker_handle_run (WpWorkerHandle *worker,
                      WpJob          *job)
{
  g_assert (worker->state == WP_WORKER_HANDLE_IDLE);
  g_assert (worker->job == NULL && worker->n_offers == 0);
  g_assert (!(is_remote (worker) && job->with_fds));

  set_state (worker, WP_WORKER_HANDLE_BUSY);
  worker->job = job;
  worker->job_sent = FALSE;
  job->worker = worker;
  worker->job_frame = new_job_frame (job);
  worker->job_frame_size = wp_wire_frame_size (worker->job_frame);
  g_queue_push_tail_link (&worker->requests, &worker->job_frame->link);
  flush_requests (worker);
}

/* Whether wp_worker_handle_offer() may succeed now, for a small enough frame. */
gboolean
wp_worker_handle_can_take_offer (WpWorkerHandle *worker)
{
  /* Unread in the pipe: at most the running job's frame, and one frame
   * per slot (see wp-claim-private.h). */
  return !is_remote (worker) && worker->state == WP_WORKER_HANDLE_BUSY
         && worker->n_offers < WP_CLAIM_SLOTS
         && g_queue_is_empty (&worker->requests)
         && worker->job_frame_size + WP_CLAIM_SLOTS * OFFER_MAX_FRAME + PIPE_PAGE_SLACK
            <= worker->request_capacity
         && wp_claim_has_free_slot (worker->claims);
}

/* Offers @job to a BUSY worker, to run after the one it runs now and
 * those offered before.  FALSE (and nothing changed) when the worker
 * cannot take an offer now: it is not BUSY, has no free slot, has a
 * request not yet written, or the frame is too large to be sure the pipe
 * takes it whole. */
gboolean
wp_worker_handle_offer (WpWorkerHandle *worker,
                        WpJob          *job)
{
  g_autoptr(WpWireFrame) frame = NULL;
  Offer *offer;
  gsize size;
  int slot;

  if (!wp_worker_handle_can_take_offer (worker))
    return FALSE;

  frame = new_job_frame (job);
  size = wp_wire_frame_size (frame);
  if (size > OFFER_MAX_FRAME || (slot = wp_claim_offer (worker->claims, job->id)) < 0)
    return FALSE;

  offer = &worker->offers[worker->n_offers++];
  offer->job = job;
  offer->frame = g_steal_pointer (&frame);
  offer->size = size;
  offer->slot = slot;
  job->worker = worker;
  g_queue_push_tail_link (&worker->requests, &offer->frame->link);
  flush_requests (worker);

  return TRUE;
}

guint
wp_worker_handle_get_n_offers (WpWorkerHandle *worker)
{
  return worker->n_offers;
}

/* Tries to take offer @index back from a live process: see
 * wp_worker_handle_revoke_offer(). */
static WpJob *
revoke_offer (WpWorkerHandle *worker,
              guint           index)
{
  Offer *offer = &worker->offers[index];

  if (!wp_claim_revoke (worker->claims, offer->slot, offer->job->id))
    return NULL;

  /* A frame not begun is dropped, and the process will never free the
   * slot: free it here.  One partly written must be finished, for the
   * process to skip it. */
  if (offer->frame != NULL && offer->frame->written == 0)
    {
      g_queue_unlink (&worker->requests, &offer->frame->link);
      wp_wire_frame_free (offer->frame);
      wp_claim_withdraw (worker->claims, offer->slot, offer->job->id);
      if (g_queue_is_empty (&worker->requests))
        stop_watching (worker, &worker->request_tag);
    }

  return remove_offer (worker, index).job;
}

/* Takes offered @job back from a live process, unless the process took
 * it first (then it stays offered, and runs in its turn). */
gboolean
wp_worker_handle_revoke_offer (WpWorkerHandle *worker,
                               WpJob          *job)
{
  for (guint i = 0; i < worker->n_offers; i++)
    if (worker->offers[i].job == job)
      return revoke_offer (worker, i) != NULL;

  g_assert_not_reached ();
  return FALSE;
}

/* The job of the last offer, the one that would wait longest; NULL if
 * there is none. */
WpJob *
wp_worker_handle_peek_last_offer (WpWorkerHandle *worker)
{
  if (worker->n_offers == 0)
    return NULL;

  return worker->offers[worker->n_offers - 1].job;
}

/* Takes the last offered job back, if the process has not taken it: the
 * one that would wait longest.  NULL if there is none to take. */
WpJob *
wp_worker_handle_revoke_last_offer (WpWorkerHandle *worker)
{
  if (worker->n_offers == 0)
    return NULL;

  return revoke_offer (worker, worker->n_offers - 1);
}

/* Hands the last offered job of a dead (or killed) process back to the
 * pool, NULL when there is none; *@taken says whether the process had
 * taken it. */
WpJob *
wp_worker_handle_take_last_offer (WpWorkerHandle *worker,
                                  gboolean       *taken)
{
  Offer *offer;

  if (worker->n_offers == 0)
    return NULL;

  offer = &worker->offers[worker->n_offers - 1];
  *taken = !wp_claim_revoke (worker->claims, offer->slot, offer->job->id);
  return remove_offer (worker, worker->n_offers - 1).job;
}

/* BUSY → CANCELLING: asks the process to cancel the job's GCancellable. */
void
wp_worker_handle_cancel (WpWorkerHandle *worker)
{
  g_autoptr(WpWireFrame) frame = NULL;
  gboolean complete;

  g_assert (worker->job != NULL);

  if (worker->state == WP_WORKER_HANDLE_BUSY)
    set_state (worker, WP_WORKER_HANDLE_CANCELLING);

  frame = wp_wire_frame_new (WP_WIRE_CANCEL, worker->job->id, g_variant_new ("()"));

  /* Behind a launcher, in turn behind what is still unwritten. */
  if (is_remote (worker))
    {
      if (worker->request_fd >= 0)
        {
          g_queue_push_tail_link (&worker->requests, &g_steal_pointer (&frame)->link);
          flush_requests (worker);
        }
      return;
    }

  /* A control pipe too full to take 30 bytes belongs to a worker that
   * stopped reading; the grace period's kill deals with it. */
  if (worker->control_fd >= 0)
    wp_wire_frame_write (frame, worker->control_fd, &complete, NULL);
}

/* Hands the job over to the pool; the worker no longer answers for it. */
WpJob *
wp_worker_handle_take_job (WpWorkerHandle *worker)
{
  WpJob *job = g_steal_pointer (&worker->job);

  if (job != NULL)
    job->worker = NULL;

  return job;
}

/* @deadline: monotonic time in µs, or -1 for none. */
void
wp_worker_handle_set_deadline (WpWorkerHandle *worker,
                               gint64          deadline)
{
  if (worker->source != NULL)
    g_source_set_ready_time (worker->source, deadline);
}

/* IDLE or STARTING → EXITING: EOF on its requests asks it to exit. */
void
wp_worker_handle_retire (WpWorkerHandle *worker)
{
  g_assert (worker->job == NULL && worker->n_offers == 0);

  if (worker->state == WP_WORKER_HANDLE_DEAD)
    return;

  set_state (worker, WP_WORKER_HANDLE_EXITING);
  worker->exit_requested = TRUE;
  drop_requests (worker);
  stop_watching (worker, &worker->request_tag);
  close_fd (&worker->request_fd);
}

/* SIGKILL.  Race-free: GSubprocess does not signal a reaped process. */
static void
kill_process (WpWorkerHandle *worker)
{
  if (worker->state != WP_WORKER_HANDLE_DEAD)
    set_state (worker, WP_WORKER_HANDLE_EXITING);

  g_subprocess_force_exit (worker->process);
}

/* → EXITING, at once. */
void
wp_worker_handle_kill (WpWorkerHandle *worker)
{
  worker->exit_requested = TRUE;
  kill_process (worker);
}

/* Blocks until the process is reaped; for a pool going away. */
void
wp_worker_handle_wait (WpWorkerHandle *worker)
{
  g_subprocess_wait (worker->process, NULL, NULL);
  reap_if_left (worker, 0);
}

/* The set of handles */

void
wp_worker_set_init (WpWorkerSet *set)
{
  memset (set, 0, sizeof *set);
  g_queue_init (&set->all);
  g_queue_init (&set->idle);
}

/* Forgets @worker, which must be DEAD or detached, and drops the set's
 * reference. */
void
wp_worker_set_remove (WpWorkerSet    *set,
                      WpWorkerHandle *worker)
{
  guint *count = set_count_of (set, worker->state);

  g_assert (worker->set == set);

  if (count != NULL)
    (*count)--;
  if (worker->state == WP_WORKER_HANDLE_IDLE)
    g_queue_unlink (&set->idle, &worker->idle_link);
  g_queue_unlink (&set->all, &worker->set_link);
  worker->set = NULL;
  wp_worker_handle_unref (worker);
}
