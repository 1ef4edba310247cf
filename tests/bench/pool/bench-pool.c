/* bench-pool.c: the pool benchmarks, each beside its floor.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a pool costs per job, measured against what the same traffic costs
 * without it.  The floor is a raw pipe ping-pong between this process and
 * forked children (the loop of shared/bench/pingpong.c, which this file
 * carries so that the repository stands alone): no serialisation, no main
 * loop, no allocation per message.  Its messages have the sizes of the
 * pool's own frames for the same job: the request an 8-byte header and the
 * GVariant "(ytv)" envelope of a CALL, (ssv) = (plugin, function,
 * arguments); the reply the envelope of the result.  Every floor runs in
 * the same process and the same run as its figure.
 *
 *   1. no-op throughput: 2 workers, 200 000 `bench.noop` jobs submitted at
 *      once; jobs/s.  Floor: 2 children, one message in flight each.
 *   2. sequential latency: 5 000 `bench.add` jobs ((ii) in, (i) out),
 *      each submitted from the callback of the one before; p50 and p99 in
 *      µs, targets p50 ≤ 1.5x and p99 ≤ 4x the floor.  Floor: 1 child, each
 *      round trip timed, with the frame sizes of an add.
 *   3. cancellables: the no-op throughput run (2 workers, every job
 *      submitted at once) without cancellables, with a GCancellable for
 *      each job, and with one shared by all, on one pool; jobs/s of each
 *      and time(with) / time(without), target ≤ 1.5x.  100 000 jobs, or
 *      $WORKPOOL_BENCH_CANCELLABLE_JOBS; by default the size is reached by
 *      doubling from 5 000 and stops early where a run would take more
 *      than 10 s (the note says so).
 *   4. payload: 500 `bench.echo_bytes` jobs of 1 MiB, 2 workers; MiB/s of
 *      arguments.  Floor: 2 children, 1 MiB frames.
 *   5. start-up: wp_pool_new() + one job + wp_pool_close_async() completed,
 *      median of 50, in ms.  Floor: spawning the worker executable with
 *      --help and reaping it (a process that loads GLib, started the way
 *      the pool starts its workers).
 *   6. scale: 100 000 and 1 000 000 no-op jobs queued at once, each size
 *      in a fresh process (this program, --scale-child N), so that memory
 *      freed by an earlier figure does not hide what queuing costs: VmRSS
 *      after queuing minus before, per job; peak VmHWM during the run; time
 *      per job at both sizes and their ratio.
 *   7. Python's multiprocessing.Pool(2), apply_async of no-op jobs, run by
 *      /usr/bin/python3 when it exists.
 *   8. instructions per job, counted by callgrind when valgrind is
 *      installed: this program with --inflight-noop N (2 workers, 64 jobs
 *      in flight, a new one submitted as each result comes back) for 5 000
 *      and for 25 000 jobs; (Ir(long) - Ir(short)) / 20 000, so that
 *      neither start-up nor closing counts.  The host process alone
 *      (--trace-children=no), target ≤ 10 000; then the workers alone,
 *      started under callgrind by a wrapper script given to the pool as
 *      $WORKPOOL_WORKER, their counts summed.  One run of each: the counts
 *      hardly depend on the machine's load.
 *
 * Figures 1, 2, 4 and 7 are run --repeat times (3 by default), alternating
 * floor and pool, and figure 3 as many times as its time budget allows; the
 * table shows medians.  Start-up runs first, because
 * spawning a worker forks this process, which costs more the more memory
 * earlier figures left mapped.  The output is a table, the PASS/MISS of
 * each target, the load average before and after, then one
 * line per figure of the form `name value unit`, with `name_floor` and
 * `name_ratio` lines where the figure has a floor.  The exit status is 0
 * whatever the verdicts.  A ratio is only as good as its floor: on a
 * machine shared with other work, a floor far above its usual value (the
 * 1-child round trip is about 5 µs on an idle 2-core machine) makes every
 * ratio look better than it is.
 *
 *   meson test -C build --benchmark pool -v
 *   build/tests/bench/pool/bench-pool [--figure throughput] [--repeat 5]
 *
 * Profiling.  --profile-noop N runs N no-op jobs on 2 workers, nothing
 * else (--profile-echo N the same with 1 MiB echo jobs), and closes the
 * pool cleanly so that profiled workers exit normally and write their
 * profiles.  The host side:
 *
 *   valgrind --tool=callgrind --trace-children=no \
 *     --callgrind-out-file=callgrind.host build/tests/bench/pool/bench-pool \
 *     --profile-noop 20000
 *
 * The worker side: point $WORKPOOL_WORKER at a wrapper that runs the real
 * worker under valgrind (descriptors 0–3 pass through exec unchanged):
 *
 *   #!/bin/sh
 *   exec valgrind --tool=callgrind --callgrind-out-file=callgrind.worker.%p \
 *     build/host/worker/workpool-worker "$@"
 *
 *   WORKPOOL_WORKER=$PWD/wrapper.sh build/tests/bench/pool/bench-pool \
 *     --profile-noop 20000
 *
 * or profile everything at once with `valgrind --tool=callgrind
 * --trace-children=yes --callgrind-out-file=callgrind.%p bench-pool
 * --profile-noop 20000`, one file per process.  Then
 * `callgrind_annotate --inclusive=yes callgrind.host | head -40`.
 *
 * Threads and processes.  Everything runs in the main thread, in the
 * global default main context, which the pool is bound to.  A floor's
 * children are forked with no pool alive, so they hold no worker pipe
 * (which would keep a worker from seeing EOF), and they call only read(),
 * write(), close() and _exit(), which are safe after a fork of a threaded
 * process.  They exit when their request pipe reaches EOF.
 */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <workpool/workpool.h>

#define N_WORKERS          2
#define NOOP_ARG_BYTES     16
#define THROUGHPUT_JOBS    200000
#define LATENCY_JOBS       5000
#define PAYLOAD_BYTES      (1024 * 1024)
#define PAYLOAD_JOBS       500
#define PAYLOAD_WARMUP     4
#define STARTUP_RUNS       50
#define SCALE_SMALL        100000
#define SCALE_LARGE        1000000
#define WARMUP_JOBS        200
#define INFLIGHT_WINDOW    64
#define INSTR_SHORT_JOBS   5000
#define INSTR_LONG_JOBS    25000
#define CANCELLABLE_JOBS   100000   /* $WORKPOOL_BENCH_CANCELLABLE_JOBS */
#define CANCELLABLE_FIRST_JOBS 5000
#define CANCELLABLE_BUDGET_S   10.0 /* seconds, for the slowest run of a size */
#define FRAME_HEADER_SIZE  8        /* see host/protocol/wp-wire.c */
#define MAX_FLOOR_CHILDREN 8
#define PYTHON             "/usr/bin/python3"

static char *opt_plugin_dir;
static int opt_repeat = 3;

/* Small helpers */

static void die (const char *format,
                 ...) G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN;

static void
die (const char *format,
     ...)
{
  va_list args;

  va_start (args, format);
  fputs ("bench-pool: ", stderr);
  vfprintf (stderr, format, args);
  fputc ('\n', stderr);
  va_end (args);
  exit (1);
}

static gint64
now_ns (void)
{
  struct timespec t;

  clock_gettime (CLOCK_MONOTONIC, &t);
  return (gint64) t.tv_sec * G_GINT64_CONSTANT (1000000000) + t.tv_nsec;
}

static double
seconds_since (gint64 start_ns)
{
  return (double) (now_ns () - start_ns) / 1e9;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static int
compare_int64 (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* Sorts @values. */
static double
median (double *values,
        guint   n)
{
  g_assert (n > 0);

  qsort (values, n, sizeof *values, compare_doubles);
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/* The nearest-rank @percent percentile of @n sorted durations, in µs. */
static double
percentile_us (const gint64 *sorted_ns,
               guint         n,
               guint         percent)
{
  guint rank = (guint) (((guint64) n * percent + 99) / 100);

  return (double) sorted_ns[MAX (rank, 1) - 1] / 1e3;
}

/* A value of /proc/self/status, such as "VmRSS", in bytes. */
static gint64
proc_status_bytes (const char *field)
{
  g_autofree char *status = NULL;
  g_autofree char *key = g_strconcat ("\n", field, ":", NULL);
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    die ("cannot read /proc/self/status");

  line = strstr (status, key);
  if (line == NULL)
    die ("no %s in /proc/self/status", field);

  return g_ascii_strtoll (line + strlen (key), NULL, 10) * 1024;
}

/* Resets VmHWM to the current RSS (Linux ≥ 4.0). */
static gboolean
reset_peak_rss (void)
{
  int fd = open ("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  gboolean done;

  if (fd < 0)
    return FALSE;

  done = write (fd, "5", 1) == 1;
  close (fd);
  return done;
}

/* Jobs and frames */

/* The arguments "(ay)" of @n zero bytes. */
static GVariant *
bytes_args (gsize n)
{
  g_autoptr(GBytes) bytes = g_bytes_new_take (g_malloc0 (n), n);
  GVariant *array = g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, bytes, TRUE);

  return g_variant_ref_sink (g_variant_new_tuple (&array, 1));
}

/* What a frame carrying @body takes on a pipe: the header, then the
 * envelope (kind, job id, body) in normal form. */
static gsize
frame_size (GVariant *body)
{
  g_autoptr(GVariant) envelope = NULL;

  envelope = g_variant_ref_sink (g_variant_new ("(ytv)", (guint8) 0, G_GUINT64_CONSTANT (1), body));
  return FRAME_HEADER_SIZE + g_variant_get_size (envelope);
}

static gsize
request_frame_size (const char *function,
                    GVariant   *args)
{
  return frame_size (g_variant_new ("(ssv)", "bench", function, args));
}

/* The bench functions return their argument. */
static gsize
reply_frame_size (GVariant *args)
{
  return frame_size (args);
}

/* The floor: raw ping-pong over pipes */

typedef struct {
  guint   n_children;
  pid_t   pids[MAX_FLOOR_CHILDREN];
  int     to_child[MAX_FLOOR_CHILDREN];
  int     from_child[MAX_FLOOR_CHILDREN];
  gsize   request_size;
  gsize   reply_size;
  guint8 *buffer;
} PipeFloor;

static gboolean
read_all (int     fd,
          guint8 *buffer,
          gsize   length)
{
  while (length > 0)
    {
      ssize_t n = read (fd, buffer, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      buffer += n;
      length -= (gsize) n;
    }

  return TRUE;
}

static gboolean
write_all (int           fd,
           const guint8 *buffer,
           gsize         length)
{
  while (length > 0)
    {
      ssize_t n = write (fd, buffer, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      buffer += n;
      length -= (gsize) n;
    }

  return TRUE;
}

/* In a child: answers each request with a reply until EOF. */
static G_GNUC_NORETURN void
floor_child_loop (PipeFloor *pf,
                  int        in,
                  int        out)
{
  for (;;)
    {
      if (!read_all (in, pf->buffer, pf->request_size))
        _exit (0);
      if (!write_all (out, pf->buffer, pf->reply_size))
        _exit (1);
    }
}

static PipeFloor *
floor_start (guint n_children,
             gsize request_size,
             gsize reply_size)
{
  PipeFloor *pf = g_new0 (PipeFloor, 1);

  g_assert (n_children <= MAX_FLOOR_CHILDREN);

  pf->n_children = n_children;
  pf->request_size = request_size;
  pf->reply_size = reply_size;
  pf->buffer = g_malloc0 (MAX (request_size, reply_size));

  fflush (stdout);
  fflush (stderr);

  for (guint i = 0; i < n_children; i++)
    {
      int down[2], up[2];
      pid_t pid;

      if (pipe (down) != 0 || pipe (up) != 0)
        die ("pipe: %s", g_strerror (errno));

      pid = fork ();
      if (pid < 0)
        die ("fork: %s", g_strerror (errno));
      if (pid == 0)
        {
          /* Drop the other children's ends, so that each sees EOF. */
          for (guint j = 0; j < i; j++)
            {
              close (pf->to_child[j]);
              close (pf->from_child[j]);
            }
          close (down[1]);
          close (up[0]);
          floor_child_loop (pf, down[0], up[1]);
        }

      close (down[0]);
      close (up[1]);
      pf->pids[i] = pid;
      pf->to_child[i] = down[1];
      pf->from_child[i] = up[0];
    }

  return pf;
}

static void
floor_stop (PipeFloor *pf)
{
  for (guint i = 0; i < pf->n_children; i++)
    {
      close (pf->to_child[i]);
      close (pf->from_child[i]);
    }
  for (guint i = 0; i < pf->n_children; i++)
    while (waitpid (pf->pids[i], NULL, 0) < 0 && errno == EINTR)
      ;

  g_free (pf->buffer);
  g_free (pf);
}

static void
floor_send (PipeFloor *pf,
            guint      child)
{
  if (!write_all (pf->to_child[child], pf->buffer, pf->request_size))
    die ("floor: a child is gone");
}

static void
floor_receive (PipeFloor *pf,
               guint      child)
{
  if (!read_all (pf->from_child[child], pf->buffer, pf->reply_size))
    die ("floor: a child is gone");
}

/* @total round trips, one in flight per child; returns the seconds. */
static double
floor_run_batch (PipeFloor *pf,
                 guint      total)
{
  struct pollfd fds[MAX_FLOOR_CHILDREN];
  guint sent = 0, done = 0;
  gint64 start = now_ns ();

  for (guint i = 0; i < pf->n_children && sent < total; i++, sent++)
    floor_send (pf, i);

  while (done < total)
    {
      for (guint i = 0; i < pf->n_children; i++)
        fds[i] = (struct pollfd) { .fd = pf->from_child[i], .events = POLLIN };
      if (poll (fds, pf->n_children, -1) < 0 && errno != EINTR)
        die ("poll: %s", g_strerror (errno));

      for (guint i = 0; i < pf->n_children; i++)
        {
          if (!(fds[i].revents & (POLLIN | POLLHUP)))
            continue;
          floor_receive (pf, i);
          done++;
          if (sent < total)
            {
              floor_send (pf, i);
              sent++;
            }
        }
    }

  return seconds_since (start);
}

/* @total round trips with the first child, one after the other; the
 * duration of each goes into @samples_ns. */
static void
floor_run_sequential (PipeFloor *pf,
                      guint      total,
                      gint64    *samples_ns)
{
  for (guint i = 0; i < total; i++)
    {
      gint64 start = now_ns ();

      floor_send (pf, 0);
      floor_receive (pf, 0);
      samples_ns[i] = now_ns () - start;
    }
}

/* The pool */

static WpPool *
bench_pool_new (void)
{
  g_autoptr(GError) error = NULL;
  WpPool *pool = wp_pool_new (opt_plugin_dir, N_WORKERS, &error);

  if (pool == NULL)
    die ("wp_pool_new: %s", error->message);

  return pool;
}

static void
on_pool_closed (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  gboolean *closed = user_data;
  g_autoptr(GError) error = NULL;

  if (!wp_pool_close_finish (WP_POOL (source), result, &error))
    die ("wp_pool_close: %s", error->message);
  *closed = TRUE;
}

/* Closes @pool, waits until its workers are reaped, and drops it. */
static void
bench_pool_close (WpPool *pool)
{
  gboolean closed = FALSE;

  wp_pool_close_async (pool, NULL, on_pool_closed, &closed);
  while (!closed)
    g_main_context_iteration (NULL, TRUE);
  g_object_unref (pool);
}

/* What a run gives each job as its cancellable. */
typedef enum {
  CANCELLABLE_NONE,     /* NULL */
  CANCELLABLE_EACH,     /* a GCancellable of its own, made as it is submitted */
  CANCELLABLE_SHARED,   /* one GCancellable for the whole run */
  N_CANCELLABLE_MODES
} CancellableMode;

/* A run of jobs on a pool: all at once (window 0), or @window at a time,
 * each result making room for the next job; one after the other (window
 * 1) when it records the duration of each in @samples_ns. */
typedef struct {
  WpPool         *pool;
  const char     *function;
  GVariant       *args;
  guint           total;
  guint           window;       /* jobs in flight at most; 0: no limit */
  CancellableMode cancellables;
  GCancellable   *shared;       /* CANCELLABLE_SHARED: set by pool_run() */
  guint           submitted;
  guint           completed;
  gint64          sent_at;      /* window 1: when the job in flight was sent */
  gint64         *samples_ns;   /* window 1 only */
} Run;

static void submit_one (Run *run);

static void
on_job_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;

  value = wp_pool_call_finish (WP_POOL (source), result, &error);
  if (value == NULL)
    die ("bench.%s: %s", run->function, error->message);

  if (run->samples_ns != NULL)
    run->samples_ns[run->completed] = now_ns () - run->sent_at;
  run->completed++;

  if (run->window > 0 && run->submitted < run->total)
    submit_one (run);
}

static void
submit_one (Run *run)
{
  g_autoptr(GCancellable) own = NULL;
  GCancellable *cancellable = NULL;

  switch (run->cancellables)
    {
    case CANCELLABLE_EACH:
      cancellable = own = g_cancellable_new ();
      break;
    case CANCELLABLE_SHARED:
      g_assert (run->shared != NULL);
      cancellable = run->shared;
      break;
    case CANCELLABLE_NONE:
    case N_CANCELLABLE_MODES:
    default:
      break;
    }

  run->submitted++;
  run->sent_at = now_ns ();
  wp_pool_call_async (run->pool, "bench", run->function, run->args, cancellable, on_job_done, run);
}

/* Submits every job, or the first @window of them. */
static void
run_start (Run *run)
{
  guint first = run->window == 0 ? run->total : MIN (run->window, run->total);

  while (run->submitted < first)
    submit_one (run);
}

static void
run_wait (Run *run)
{
  while (run->completed < run->total)
    g_main_context_iteration (NULL, TRUE);
}

/* Runs @run to its last callback; returns the seconds it took. */
static double
pool_run (Run *run)
{
  g_autoptr(GCancellable) shared = NULL;
  gint64 start;

  if (run->cancellables == CANCELLABLE_SHARED)
    run->shared = shared = g_cancellable_new ();

  start = now_ns ();
  run_start (run);
  run_wait (run);
  run->shared = NULL;
  return seconds_since (start);
}

/* @total jobs submitted at once; returns the seconds until the last
 * callback. */
static double
pool_run_batch (WpPool     *pool,
                const char *function,
                GVariant   *args,
                guint       total)
{
  Run run = { .pool = pool, .function = function, .args = args, .total = total };

  return pool_run (&run);
}

static void
pool_run_sequential (WpPool     *pool,
                     const char *function,
                     GVariant   *args,
                     guint       total,
                     gint64     *samples_ns)
{
  Run run = { .pool = pool, .function = function, .args = args, .total = total,
              .window = 1, .samples_ns = samples_ns };

  pool_run (&run);
}

/* The report */

typedef enum {
  GOAL_NONE,
  GOAL_RATIO_AT_LEAST,   /* value / floor ≥ limit */
  GOAL_RATIO_AT_MOST,    /* value / floor ≤ limit */
  GOAL_AT_MOST,          /* value ≤ limit */
} GoalKind;

typedef struct {
  const char *name;      /* machine-readable */
  const char *label;
  const char *unit;
  double      value;
  double      floor;     /* NAN: none */
  GoalKind    goal;
  double      limit;
} Figure;

typedef struct {
  char      *load_before; /* /proc/loadavg when the run started */
  GArray    *figures;     /* Figure */
  GPtrArray *notes;       /* char* */
  double     noop_floor;  /* jobs/s of the no-op floor, NAN until measured */
  double     noop_rate;   /* jobs/s of the pool, NAN until measured */
} Report;

static void
add_figure (Report     *report,
            const char *name,
            const char *label,
            const char *unit,
            double      value,
            double      floor_value,
            GoalKind    goal,
            double      limit)
{
  Figure figure = { name, label, unit, value, floor_value, goal, limit };

  g_array_append_val (report->figures, figure);
}

static void add_note (Report     *report,
                      const char *format,
                      ...) G_GNUC_PRINTF (2, 3);

static void
add_note (Report     *report,
          const char *format,
          ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (report->notes, g_strdup_vprintf (format, args));
  va_end (args);
}

static void
progress (const char *format,
          ...) G_GNUC_PRINTF (1, 2);

static void
progress (const char *format,
          ...)
{
  va_list args;

  va_start (args, format);
  fputs ("bench-pool: ", stderr);
  vfprintf (stderr, format, args);
  fputc ('\n', stderr);
  va_end (args);
}

/* Enough digits to read, not so many as to pretend. */
static int
digits_for (double value)
{
  value = fabs (value);
  return value >= 1000 ? 0 : value >= 10 ? 1 : value >= 1 ? 2 : 3;
}

static double
figure_ratio (const Figure *figure)
{
  return isnan (figure->floor) ? NAN : figure->value / figure->floor;
}

/* The target as text, and whether it is met; NULL when there is none. */
static const char *
figure_verdict (const Figure  *figure,
                char         **target)
{
  double ratio = figure_ratio (figure);

  switch (figure->goal)
    {
    case GOAL_RATIO_AT_LEAST:
      *target = g_strdup_printf (">= %gx floor", figure->limit);
      return isnan (ratio) ? "n/a" : ratio >= figure->limit ? "PASS" : "MISS";
    case GOAL_RATIO_AT_MOST:
      *target = g_strdup_printf ("<= %gx floor", figure->limit);
      return isnan (ratio) ? "n/a" : ratio <= figure->limit ? "PASS" : "MISS";
    case GOAL_AT_MOST:
      *target = g_strdup_printf ("<= %g %s", figure->limit, figure->unit);
      return figure->value <= figure->limit ? "PASS" : "MISS";
    case GOAL_NONE:
    default:
      *target = g_strdup ("");
      return "";
    }
}

/* The first three fields of /proc/loadavg. */
static char *
load_average (void)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &contents, NULL, NULL))
    return g_strdup ("unknown");

  fields = g_strsplit (contents, " ", 4);
  if (g_strv_length (fields) < 3)
    return g_strdup ("unknown");

  return g_strjoinv (" ", (char *[]) { fields[0], fields[1], fields[2], NULL });
}

static void
print_report (Report *report)
{
  g_autofree char *load_after = load_average ();
  guint passed = 0, targets = 0;

  printf ("\nworkpool pool benchmarks: %d workers, %u processors, medians of %d runs\n\n",
          N_WORKERS, g_get_num_processors (), opt_repeat);
  printf ("%-32s %12s %-8s %12s %8s  %-16s %s\n",
          "figure", "value", "unit", "floor", "ratio", "target", "verdict");

  for (guint i = 0; i < report->figures->len; i++)
    {
      const Figure *figure = &g_array_index (report->figures, Figure, i);
      g_autofree char *target = NULL;
      g_autofree char *floor_text = NULL;
      g_autofree char *ratio_text = NULL;
      const char *verdict = figure_verdict (figure, &target);
      double ratio = figure_ratio (figure);

      floor_text = isnan (figure->floor) ? g_strdup ("-")
                   : g_strdup_printf ("%.*f", digits_for (figure->floor), figure->floor);
      ratio_text = isnan (ratio) ? g_strdup ("-") : g_strdup_printf ("%.2fx", ratio);
      printf ("%-32s %12.*f %-8s %12s %8s  %-16s %s\n",
              figure->label, digits_for (figure->value), figure->value, figure->unit,
              floor_text, ratio_text, target, verdict);

      targets += g_str_equal (verdict, "PASS") || g_str_equal (verdict, "MISS");
      passed += g_str_equal (verdict, "PASS");
    }

  printf ("\ntargets met: %u of %u\n", passed, targets);
  printf ("load average: %s before, %s after, on %u processors; a floor far from its usual "
          "value means that other processes shared the machine\n",
          report->load_before, load_after, g_get_num_processors ());
  for (guint i = 0; i < report->notes->len; i++)
    printf ("note: %s\n", (const char *) g_ptr_array_index (report->notes, i));

  printf ("\n");
  for (guint i = 0; i < report->figures->len; i++)
    {
      const Figure *figure = &g_array_index (report->figures, Figure, i);

      printf ("%s %.*f %s\n", figure->name, digits_for (figure->value) + 1, figure->value,
              figure->unit);
      if (!isnan (figure->floor))
        {
          printf ("%s_floor %.*f %s\n", figure->name, digits_for (figure->floor) + 1,
                  figure->floor, figure->unit);
          printf ("%s_ratio %.3f x\n", figure->name, figure_ratio (figure));
        }
    }
  fflush (stdout);
}

/* The figures */

static void
figure_throughput (Report *report)
{
  g_autoptr(GVariant) args = bytes_args (NOOP_ARG_BYTES);
  gsize request = request_frame_size ("noop", args);
  gsize reply = reply_frame_size (args);
  g_autofree double *pool_rates = g_new (double, opt_repeat);
  g_autofree double *floor_rates = g_new (double, opt_repeat);

  for (int r = 0; r < opt_repeat; r++)
    {
      PipeFloor *pf = floor_start (N_WORKERS, request, reply);
      WpPool *pool;

      progress ("no-op throughput, run %d of %d", r + 1, opt_repeat);
      floor_rates[r] = THROUGHPUT_JOBS / floor_run_batch (pf, THROUGHPUT_JOBS);
      floor_stop (pf);

      pool = bench_pool_new ();
      pool_run_batch (pool, "noop", args, WARMUP_JOBS);
      pool_run_batch (pool, "noop", args, WARMUP_JOBS);
      pool_rates[r] = THROUGHPUT_JOBS / pool_run_batch (pool, "noop", args, THROUGHPUT_JOBS);
      bench_pool_close (pool);
    }

  report->noop_rate = median (pool_rates, opt_repeat);
  report->noop_floor = median (floor_rates, opt_repeat);
  add_figure (report, "noop_throughput", "no-op throughput", "jobs/s",
              report->noop_rate, report->noop_floor, GOAL_RATIO_AT_LEAST, 0.5);
  add_note (report, "no-op job: an ay of %d bytes; frames of %" G_GSIZE_FORMAT
            " bytes out, %" G_GSIZE_FORMAT " back (the floor's messages too)",
            NOOP_ARG_BYTES, request, reply);
}

static void
figure_latency (Report *report)
{
  g_autoptr(GVariant) args = g_variant_ref_sink (g_variant_new ("(ii)", 1, 2));
  gsize request = request_frame_size ("add", args);
  gsize reply = frame_size (g_variant_new ("(i)", 3));
  g_autofree gint64 *samples = g_new (gint64, LATENCY_JOBS);
  g_autofree double *p50 = g_new (double, opt_repeat);
  g_autofree double *p99 = g_new (double, opt_repeat);
  g_autofree double *floor_p50 = g_new (double, opt_repeat);
  g_autofree double *floor_p99 = g_new (double, opt_repeat);

  for (int r = 0; r < opt_repeat; r++)
    {
      PipeFloor *pf = floor_start (1, request, reply);
      WpPool *pool;

      progress ("sequential latency, run %d of %d", r + 1, opt_repeat);
      floor_run_sequential (pf, WARMUP_JOBS, samples);
      floor_run_sequential (pf, LATENCY_JOBS, samples);
      floor_stop (pf);
      qsort (samples, LATENCY_JOBS, sizeof *samples, compare_int64);
      floor_p50[r] = percentile_us (samples, LATENCY_JOBS, 50);
      floor_p99[r] = percentile_us (samples, LATENCY_JOBS, 99);

      pool = bench_pool_new ();
      pool_run_batch (pool, "add", args, WARMUP_JOBS);
      pool_run_sequential (pool, "add", args, WARMUP_JOBS, samples);
      pool_run_sequential (pool, "add", args, LATENCY_JOBS, samples);
      bench_pool_close (pool);
      qsort (samples, LATENCY_JOBS, sizeof *samples, compare_int64);
      p50[r] = percentile_us (samples, LATENCY_JOBS, 50);
      p99[r] = percentile_us (samples, LATENCY_JOBS, 99);
    }

  add_figure (report, "latency_p50", "sequential latency p50", "us",
              median (p50, opt_repeat), median (floor_p50, opt_repeat), GOAL_RATIO_AT_MOST, 1.5);
  add_figure (report, "latency_p99", "sequential latency p99", "us",
              median (p99, opt_repeat), median (floor_p99, opt_repeat), GOAL_RATIO_AT_MOST, 4);
  add_note (report, "latency: %d bench.add jobs, each submitted when the one before has "
            "returned, on a pool of %d workers; frames of %" G_GSIZE_FORMAT " bytes out, %"
            G_GSIZE_FORMAT " back; floor: 1 child", LATENCY_JOBS, N_WORKERS, request, reply);
}

/* The jobs of the cancellable figure: $WORKPOOL_BENCH_CANCELLABLE_JOBS, or
 * 0 when unset. */
static guint
cancellable_jobs_from_env (void)
{
  const char *text = g_getenv ("WORKPOOL_BENCH_CANCELLABLE_JOBS");
  guint64 n;

  if (text == NULL)
    return 0;
  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT, &n, NULL))
    die ("WORKPOOL_BENCH_CANCELLABLE_JOBS=%s is not a positive number", text);
  return (guint) n;
}

/* One pool, warmed up, runs @n_jobs no-op jobs at once in each
 * cancellable mode, in turn; their seconds go into @seconds. */
static void
cancellable_runs (GVariant *args,
                  guint     n_jobs,
                  double    seconds[N_CANCELLABLE_MODES])
{
  WpPool *pool = bench_pool_new ();

  pool_run_batch (pool, "noop", args, WARMUP_JOBS);
  pool_run_batch (pool, "noop", args, WARMUP_JOBS);
  for (guint mode = 0; mode < N_CANCELLABLE_MODES; mode++)
    {
      Run run = { .pool = pool, .function = "noop", .args = args, .total = n_jobs,
                  .cancellables = mode };

      seconds[mode] = pool_run (&run);
    }
  bench_pool_close (pool);
}

/* What a GCancellable costs a job: the no-op throughput run (2 workers,
 * every job submitted at once) without cancellables, with one each, and
 * with one shared by all, on one pool.  Today's pool watches each job's
 * cancellable with a GSource of its own, which makes the runs with
 * cancellables grow faster than linearly; so that the figure stays
 * bounded, the default size is reached by doubling from
 * CANCELLABLE_FIRST_JOBS and the doubling stops where the slowest run,
 * extrapolated quadratically, would take more than CANCELLABLE_BUDGET_S.
 * $WORKPOOL_BENCH_CANCELLABLE_JOBS asks for a size, run as it is. */
static void
figure_cancellable (Report *report)
{
  static const char *const mode_names[N_CANCELLABLE_MODES] = {
    "cancellable_none_throughput", "cancellable_each_throughput", "cancellable_shared_throughput",
  };
  static const char *const mode_labels[N_CANCELLABLE_MODES] = {
    "no-op, no cancellable", "no-op, a cancellable each", "no-op, one shared cancellable",
  };
  g_autoptr(GVariant) args = bytes_args (NOOP_ARG_BYTES);
  guint asked = cancellable_jobs_from_env ();
  guint wanted = asked > 0 ? asked : CANCELLABLE_JOBS;
  guint n = asked > 0 ? asked : MIN (CANCELLABLE_FIRST_JOBS, wanted);
  g_autofree double *seconds = g_new (double, (gsize) opt_repeat * N_CANCELLABLE_MODES);
  g_autofree double *rates = g_new (double, opt_repeat);
  g_autofree double *ratios = g_new (double, opt_repeat);
  int runs;
  double slowest;

  /* Up to the size: one run per size; the first run of the last size
   * counts among its repeats. */
  for (;;)
    {
      progress ("cancellables, %u jobs, run 1 of %d", n, opt_repeat);
      cancellable_runs (args, n, seconds);
      slowest = MAX (seconds[CANCELLABLE_EACH], seconds[CANCELLABLE_SHARED]);
      progress ("  %.3f s none, %.3f s each, %.3f s shared", seconds[CANCELLABLE_NONE],
                seconds[CANCELLABLE_EACH], seconds[CANCELLABLE_SHARED]);
      if (n >= wanted)
        break;
      {
        guint next = n >= wanted / 2 ? wanted : n * 2;
        double scale = (double) next / n;

        if (slowest * scale * scale > CANCELLABLE_BUDGET_S)
          break;
        n = next;
      }
    }
  runs = 1;

  /* The other repeats, if they fit in the budget. */
  while (runs < opt_repeat
         && seconds[CANCELLABLE_NONE] + seconds[CANCELLABLE_EACH] + seconds[CANCELLABLE_SHARED]
            <= CANCELLABLE_BUDGET_S)
    {
      progress ("cancellables, %u jobs, run %d of %d", n, runs + 1, opt_repeat);
      cancellable_runs (args, n, seconds + (gsize) runs * N_CANCELLABLE_MODES);
      runs++;
    }

  for (guint mode = 0; mode < N_CANCELLABLE_MODES; mode++)
    {
      for (int r = 0; r < runs; r++)
        rates[r] = n / seconds[(gsize) r * N_CANCELLABLE_MODES + mode];
      add_figure (report, mode_names[mode], mode_labels[mode], "jobs/s",
                  median (rates, runs), NAN, GOAL_NONE, 0);
    }
  /* Each run's time ratio, paired with the run without on the same pool. */
  for (guint mode = CANCELLABLE_EACH; mode < N_CANCELLABLE_MODES; mode++)
    {
      for (int r = 0; r < runs; r++)
        ratios[r] = seconds[(gsize) r * N_CANCELLABLE_MODES + mode]
                    / seconds[(gsize) r * N_CANCELLABLE_MODES + CANCELLABLE_NONE];
      add_figure (report,
                  mode == CANCELLABLE_EACH ? "cancellable_each_time_ratio"
                                           : "cancellable_shared_time_ratio",
                  mode == CANCELLABLE_EACH ? "time, a cancellable each / none"
                                           : "time, one shared / none",
                  "x", median (ratios, runs), NAN, GOAL_AT_MOST, 1.5);
    }
  add_note (report, "cancellables: %u no-op jobs at once on %d workers, one pool, each way "
            "in turn; %d run%s (ratios: median of each run's)%s", n, N_WORKERS, runs,
            runs == 1 ? "" : "s", runs < opt_repeat ? ", no more within the time budget" : "");
  if (n < wanted)
    add_note (report, "cancellables: measured with %u jobs, not %u: the slowest run (%.1f s) "
              "would have taken more than %.0f s at the next size (quadratic extrapolation); "
              "WORKPOOL_BENCH_CANCELLABLE_JOBS=%u runs that size as it is",
              n, wanted, slowest, CANCELLABLE_BUDGET_S, wanted);
}

static void
figure_payload (Report *report)
{
  g_autoptr(GVariant) args = bytes_args (PAYLOAD_BYTES);
  gsize request = request_frame_size ("echo_bytes", args);
  gsize reply = reply_frame_size (args);
  double mib = (double) PAYLOAD_BYTES / (1024 * 1024);
  g_autofree double *pool_rates = g_new (double, opt_repeat);
  g_autofree double *floor_rates = g_new (double, opt_repeat);

  for (int r = 0; r < opt_repeat; r++)
    {
      PipeFloor *pf = floor_start (N_WORKERS, request, reply);
      WpPool *pool;

      progress ("1 MiB echo, run %d of %d", r + 1, opt_repeat);
      floor_rates[r] = PAYLOAD_JOBS * mib / floor_run_batch (pf, PAYLOAD_JOBS);
      floor_stop (pf);

      pool = bench_pool_new ();
      pool_run_batch (pool, "echo_bytes", args, PAYLOAD_WARMUP);
      pool_rates[r] = PAYLOAD_JOBS * mib / pool_run_batch (pool, "echo_bytes", args, PAYLOAD_JOBS);
      bench_pool_close (pool);
    }

  add_figure (report, "echo_1mib", "1 MiB echo", "MiB/s",
              median (pool_rates, opt_repeat), median (floor_rates, opt_repeat),
              GOAL_RATIO_AT_LEAST, 0.5);
  add_note (report, "1 MiB echo: %d jobs on %d workers, frames of %" G_GSIZE_FORMAT
            " bytes out, %" G_GSIZE_FORMAT " back; MiB/s of arguments",
            PAYLOAD_JOBS, N_WORKERS, request, reply);
}

/* Spawning and reaping the worker executable, as the pool does. */
static double
spawn_worker_ms (void)
{
  const char *worker = g_getenv ("WORKPOOL_WORKER");
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = now_ns ();

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                              &error, worker, "--help", NULL);
  if (process == NULL || !g_subprocess_wait (process, NULL, &error))
    die ("%s --help: %s", worker, error->message);

  return seconds_since (start) * 1e3;
}

static double
pool_startup_ms (GVariant *args)
{
  gint64 start = now_ns ();
  WpPool *pool = bench_pool_new ();

  pool_run_batch (pool, "noop", args, 1);
  bench_pool_close (pool);
  return seconds_since (start) * 1e3;
}

static void
figure_startup (Report *report)
{
  g_autoptr(GVariant) args = bytes_args (NOOP_ARG_BYTES);
  double pool_ms[STARTUP_RUNS];
  double floor_ms[STARTUP_RUNS];

  progress ("start-up, %d runs", STARTUP_RUNS);
  for (guint i = 0; i < STARTUP_RUNS; i++)
    {
      floor_ms[i] = spawn_worker_ms ();
      pool_ms[i] = pool_startup_ms (args);
    }

  add_figure (report, "startup", "start-up (new, 1 job, close)", "ms",
              median (pool_ms, STARTUP_RUNS), median (floor_ms, STARTUP_RUNS), GOAL_AT_MOST, 5);
  add_note (report, "start-up: median of %d; floor: spawn and reap `workpool-worker --help`",
            STARTUP_RUNS);
}

/* --scale-child N: in a fresh process, queues N no-op jobs at once and
 * prints "scale N RSS_DELTA PEAK_DELTA QUEUING_SECONDS SECONDS": the bytes
 * of VmRSS after queuing and of VmHWM over the run, beyond VmRSS before (-1
 * for the peak when it cannot be reset), the time to submit the jobs, and
 * the time until the last callback. */
static int
scale_child (guint n_jobs)
{
  g_autoptr(GVariant) args = bytes_args (NOOP_ARG_BYTES);
  WpPool *pool = bench_pool_new ();
  Run run = { .pool = pool, .function = "noop", .args = args, .total = n_jobs };
  gint64 before, queued, peak, start;
  gboolean have_peak;
  double queuing, elapsed;

  pool_run_batch (pool, "noop", args, WARMUP_JOBS);

  before = proc_status_bytes ("VmRSS");
  have_peak = reset_peak_rss ();
  start = now_ns ();
  run_start (&run);
  queuing = seconds_since (start);
  queued = proc_status_bytes ("VmRSS");
  run_wait (&run);
  elapsed = seconds_since (start);
  peak = have_peak ? proc_status_bytes ("VmHWM") - before : -1;

  bench_pool_close (pool);
  printf ("scale %u %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %.6f %.6f\n",
          n_jobs, queued - before, peak, queuing, elapsed);
  return 0;
}

typedef struct {
  double rss_per_job;
  double peak_per_job;   /* NAN when unknown */
  double us_per_job;
  double queuing_us_per_job;
} ScaleResult;

static ScaleResult
run_scale_child (guint n_jobs)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *count = g_strdup_printf ("%u", n_jobs);
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;
  guint n;
  gint64 rss, peak;
  double queuing, seconds;
  ScaleResult result;

  if (self == NULL)
    die ("cannot find this program in /proc/self/exe");

  g_ptr_array_add (args, self);
  g_ptr_array_add (args, (char *) "--scale-child");
  g_ptr_array_add (args, count);
  if (opt_plugin_dir != NULL)
    {
      g_ptr_array_add (args, (char *) "--plugin-dir");
      g_ptr_array_add (args, opt_plugin_dir);
    }
  g_ptr_array_add (args, NULL);

  process = g_subprocess_newv ((const char * const *) args->pdata, G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                               &error);
  if (process == NULL || !g_subprocess_communicate_utf8 (process, NULL, NULL, &output, NULL, &error))
    die ("--scale-child %u: %s", n_jobs, error->message);
  if (!g_subprocess_get_successful (process)
      || sscanf (output, "scale %u %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %lf %lf",
                 &n, &rss, &peak, &queuing, &seconds) != 5)
    die ("--scale-child %u failed: %s", n_jobs, output);

  result.rss_per_job = (double) rss / n_jobs;
  result.peak_per_job = peak >= 0 ? (double) peak / n_jobs : NAN;
  result.us_per_job = seconds * 1e6 / n_jobs;
  result.queuing_us_per_job = queuing * 1e6 / n_jobs;
  return result;
}

static void
figure_scale (Report *report)
{
  double floor_us = isnan (report->noop_floor) ? NAN : 1e6 / report->noop_floor;
  ScaleResult small, large;

  progress ("scale, %d jobs", SCALE_SMALL);
  small = run_scale_child (SCALE_SMALL);
  progress ("scale, %d jobs", SCALE_LARGE);
  large = run_scale_child (SCALE_LARGE);

  add_figure (report, "scale_rss_per_job_100k", "RSS per queued job, 100k", "B",
              small.rss_per_job, NAN, GOAL_AT_MOST, 512);
  add_figure (report, "scale_rss_per_job_1m", "RSS per queued job, 1M", "B",
              large.rss_per_job, NAN, GOAL_AT_MOST, 512);
  if (!isnan (small.peak_per_job) && !isnan (large.peak_per_job))
    {
      add_figure (report, "scale_peak_rss_per_job_100k", "peak RSS per job, 100k", "B",
                  small.peak_per_job, NAN, GOAL_NONE, 0);
      add_figure (report, "scale_peak_rss_per_job_1m", "peak RSS per job, 1M", "B",
                  large.peak_per_job, NAN, GOAL_NONE, 0);
    }
  add_figure (report, "scale_time_per_job_100k", "time per job, 100k queued", "us",
              small.us_per_job, floor_us, GOAL_NONE, 0);
  add_figure (report, "scale_time_per_job_1m", "time per job, 1M queued", "us",
              large.us_per_job, floor_us, GOAL_NONE, 0);
  add_figure (report, "scale_time_ratio", "time per job, 1M / 100k", "x",
              large.us_per_job / small.us_per_job, NAN, GOAL_AT_MOST, 1.2);
  add_figure (report, "scale_queuing_per_job_100k", "of which queuing, 100k", "us",
              small.queuing_us_per_job, NAN, GOAL_NONE, 0);
  add_figure (report, "scale_queuing_per_job_1m", "of which queuing, 1M", "us",
              large.queuing_us_per_job, NAN, GOAL_NONE, 0);
  add_note (report, "scale: one run per size, each in a fresh process; RSS after queuing "
            "minus before, arguments shared; peak = VmHWM during the run; "
            "time floor = the no-op floor's time per round trip");
}

/* Run by PYTHON -c SCRIPT N: prints the jobs/s of N no-op jobs. */
static const char python_script[] =
  "import multiprocessing, sys, time\n"
  "def noop(x):\n"
  "    return x\n"
  "if __name__ == '__main__':\n"
  "    n = int(sys.argv[1])\n"
  "    arg = bytes(16)\n"
  "    with multiprocessing.Pool(2) as pool:\n"
  "        for r in [pool.apply_async(noop, (arg,)) for _ in range(200)]:\n"
  "            r.get()\n"
  "        start = time.perf_counter()\n"
  "        results = [pool.apply_async(noop, (arg,)) for _ in range(n)]\n"
  "        for r in results:\n"
  "            r.get()\n"
  "        print(n / (time.perf_counter() - start))\n";

/* Returns the jobs/s, or NAN with *why set. */
static double
python_rate (char **why)
{
  g_autofree char *count = g_strdup_printf ("%d", THROUGHPUT_JOBS);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;
  g_autofree char *errors = NULL;
  double rate;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                              &error, PYTHON, "-c", python_script, count, NULL);
  if (process == NULL
      || !g_subprocess_communicate_utf8 (process, NULL, NULL, &output, &errors, &error))
    {
      *why = g_strdup (error->message);
      return NAN;
    }
  if (!g_subprocess_get_successful (process) || sscanf (output, "%lf", &rate) != 1)
    {
      *why = g_strdup_printf ("it failed: %s", g_strstrip (errors));
      return NAN;
    }

  return rate;
}

static void
figure_python (Report *report)
{
  g_autofree double *rates = g_new (double, opt_repeat);

  if (!g_file_test (PYTHON, G_FILE_TEST_IS_EXECUTABLE))
    {
      printf ("python: skipped, there is no %s\n", PYTHON);
      add_note (report, "Python multiprocessing.Pool: skipped, there is no %s", PYTHON);
      return;
    }

  for (int r = 0; r < opt_repeat; r++)
    {
      g_autofree char *why = NULL;

      progress ("Python multiprocessing.Pool(2), run %d of %d", r + 1, opt_repeat);
      rates[r] = python_rate (&why);
      if (isnan (rates[r]))
        {
          printf ("python: skipped, %s\n", why);
          add_note (report, "Python multiprocessing.Pool: skipped, %s", why);
          return;
        }
    }

  add_figure (report, "python_mp_pool_throughput", "Python mp.Pool(2) no-op", "jobs/s",
              median (rates, opt_repeat), report->noop_floor, GOAL_NONE, 0);
  if (!isnan (report->noop_rate))
    add_note (report, "workpool runs no-op jobs %.1fx as fast as Python's multiprocessing.Pool(2) "
              "(%d apply_async jobs, %s)", report->noop_rate / median (rates, opt_repeat),
              THROUGHPUT_JOBS, PYTHON);
}

/* --profile-noop N, --profile-echo N: N jobs at once and nothing else. */
static int
profile_jobs (const char *function,
              gsize       arg_bytes,
              guint       n_jobs)
{
  g_autoptr(GVariant) args = bytes_args (arg_bytes);
  WpPool *pool = bench_pool_new ();
  double seconds = pool_run_batch (pool, function, args, n_jobs);

  bench_pool_close (pool);
  printf ("profile %s: %u jobs in %.3f s, %.0f jobs/s\n", function, n_jobs, seconds,
          n_jobs / seconds);
  return 0;
}

/* --inflight-noop N: N no-op jobs, INFLIGHT_WINDOW in flight, a new one
 * submitted as each result comes back, and nothing else; the program the
 * instructions figure counts. */
static int
inflight_jobs (guint n_jobs)
{
  g_autoptr(GVariant) args = bytes_args (NOOP_ARG_BYTES);
  WpPool *pool = bench_pool_new ();
  Run run = { .pool = pool, .function = "noop", .args = args, .total = n_jobs,
              .window = INFLIGHT_WINDOW };
  double seconds = pool_run (&run);

  bench_pool_close (pool);
  printf ("inflight noop: %u jobs, %d in flight, in %.3f s\n", n_jobs, INFLIGHT_WINDOW, seconds);
  return 0;
}

/* The total of the Ir event in a callgrind output file, or 0 when there is
 * none. */
static guint64
callgrind_file_ir (const char *path)
{
  g_autofree char *contents = NULL;
  const char *line;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;

  /* "events: Ir" is the default, so the first number is Ir. */
  line = strstr (contents, "\nsummary:");
  if (line == NULL)
    line = strstr (contents, "\ntotals:");
  if (line == NULL)
    return 0;

  return g_ascii_strtoull (strchr (line, ':') + 1, NULL, 10);
}

/* The sum of Ir over the callgrind files in @dir whose names start with
 * @prefix. */
static guint64
callgrind_dir_ir (const char *dir,
                  const char *prefix,
                  guint      *n_files)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;
  guint64 total = 0;

  *n_files = 0;
  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    if (g_str_has_prefix (name, prefix))
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);

        total += callgrind_file_ir (path);
        (*n_files)++;
      }

  return total;
}

/* Runs this program with --inflight-noop @n_jobs: the host under callgrind
 * (host.N in @dir) when @worker_wrapper is NULL, else natively with its
 * workers under callgrind through @worker_wrapper (worker.N.PID).  FALSE
 * with *why set when it fails. */
static gboolean
run_counted (const char  *valgrind,
             const char  *dir,
             const char  *worker_wrapper,
             guint        n_jobs,
             char       **why)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *count = g_strdup_printf ("%u", n_jobs);
  g_autofree char *out_option = g_strdup_printf ("--callgrind-out-file=%s/host.%u", dir, n_jobs);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *errors = NULL;

  if (self == NULL)
    die ("cannot find this program in /proc/self/exe");

  if (worker_wrapper == NULL)
    {
      g_ptr_array_add (argv, (char *) valgrind);
      g_ptr_array_add (argv, (char *) "--tool=callgrind");
      g_ptr_array_add (argv, (char *) "--trace-children=no");
      g_ptr_array_add (argv, out_option);
    }
  g_ptr_array_add (argv, self);
  g_ptr_array_add (argv, (char *) "--inflight-noop");
  g_ptr_array_add (argv, count);
  if (opt_plugin_dir != NULL)
    {
      g_ptr_array_add (argv, (char *) "--plugin-dir");
      g_ptr_array_add (argv, opt_plugin_dir);
    }
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  if (worker_wrapper != NULL)
    {
      g_subprocess_launcher_setenv (launcher, "WORKPOOL_WORKER", worker_wrapper, TRUE);
      g_subprocess_launcher_setenv (launcher, "WORKPOOL_BENCH_JOBS", count, TRUE);
    }

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  if (process == NULL
      || !g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, &errors, &error))
    {
      *why = g_strdup (error->message);
      return FALSE;
    }
  if (!g_subprocess_get_successful (process))
    {
      *why = g_strdup_printf ("--inflight-noop %u failed: %s", n_jobs, g_strstrip (errors));
      return FALSE;
    }

  return TRUE;
}

/* A script that runs the worker under callgrind, for $WORKPOOL_WORKER;
 * descriptors 0–3 pass through exec unchanged. */
static char *
write_worker_wrapper (const char *valgrind,
                      const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "worker-under-callgrind.sh", NULL);
  g_autofree char *out = g_strdup_printf ("--callgrind-out-file=%s/worker.%%q{WORKPOOL_BENCH_JOBS}.%%p",
                                          dir);
  g_autofree char *q_valgrind = g_shell_quote (valgrind);
  g_autofree char *q_out = g_shell_quote (out);
  g_autofree char *q_worker = g_shell_quote (g_getenv ("WORKPOOL_WORKER"));
  g_autofree char *script = g_strdup_printf ("#!/bin/sh\nexec %s --tool=callgrind %s %s \"$@\"\n",
                                             q_valgrind, q_out, q_worker);
  g_autoptr(GError) error = NULL;

  if (!g_file_set_contents (path, script, -1, &error) || g_chmod (path, 0700) != 0)
    die ("cannot write %s: %s", path, error != NULL ? error->message : g_strerror (errno));

  return g_steal_pointer (&path);
}

/* Removes @dir and the files in it. */
static void
remove_scratch_dir (const char *dir)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}

/* Instructions per no-op job, counted by callgrind: the host alone
 * (--trace-children=no; the workers are other processes and run
 * natively), then the workers alone (run under callgrind by a wrapper the
 * pool starts as its worker, the host native).  Each is the difference of
 * two runs of --inflight-noop, INSTR_SHORT_JOBS and INSTR_LONG_JOBS jobs,
 * divided by the difference of their jobs, so that neither start-up nor
 * closing counts.  Callgrind's counts do not depend on the machine's load,
 * so one run of each is enough. */
static void
figure_instructions (Report *report)
{
  g_autofree char *valgrind = g_find_program_in_path ("valgrind");
  g_autofree char *dir = NULL;
  g_autofree char *wrapper = NULL;
  g_autoptr(GError) error = NULL;
  const guint sizes[2] = { INSTR_SHORT_JOBS, INSTR_LONG_JOBS };
  guint64 host_ir[2], worker_ir[2];
  guint worker_files[2];
  char *why = NULL;

  if (valgrind == NULL)
    {
      printf ("instructions: skipped, valgrind is not installed\n");
      add_note (report, "instructions per job: skipped, valgrind is not installed "
                "(apt-get install valgrind)");
      return;
    }

  dir = g_dir_make_tmp ("bench-pool-callgrind-XXXXXX", &error);
  if (dir == NULL)
    die ("%s", error->message);

  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *host_file = g_strdup_printf ("%s/host.%u", dir, sizes[i]);

      progress ("host instructions: callgrind, %u jobs", sizes[i]);
      if (!run_counted (valgrind, dir, NULL, sizes[i], &why))
        goto failed;
      host_ir[i] = callgrind_file_ir (host_file);
      if (host_ir[i] == 0)
        {
          why = g_strdup_printf ("no Ir total in %s", host_file);
          goto failed;
        }
    }

  add_figure (report, "host_instructions_per_job", "host instructions per no-op job", "Ir",
              (double) (host_ir[1] - host_ir[0]) / (sizes[1] - sizes[0]), NAN,
              GOAL_AT_MOST, 10000);
  add_note (report, "instructions: callgrind, %d workers, %d jobs in flight, a new one per "
            "result; (Ir(%u jobs) - Ir(%u jobs)) / %u; host: %" G_GUINT64_FORMAT " and %"
            G_GUINT64_FORMAT " Ir, the host process only",
            N_WORKERS, INFLIGHT_WINDOW, sizes[1], sizes[0], sizes[1] - sizes[0],
            host_ir[0], host_ir[1]);

  wrapper = write_worker_wrapper (valgrind, dir);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *prefix = g_strdup_printf ("worker.%u.", sizes[i]);

      progress ("worker instructions: callgrind, %u jobs", sizes[i]);
      if (!run_counted (valgrind, dir, wrapper, sizes[i], &why))
        goto failed;
      worker_ir[i] = callgrind_dir_ir (dir, prefix, &worker_files[i]);
      if (worker_files[i] == 0)
        {
          why = g_strdup_printf ("no callgrind files %s* in %s", prefix, dir);
          goto failed;
        }
    }

  add_figure (report, "worker_instructions_per_job", "worker instructions per no-op job", "Ir",
              (double) (worker_ir[1] - worker_ir[0]) / (sizes[1] - sizes[0]), NAN,
              GOAL_NONE, 0);
  add_note (report, "instructions: workers: %" G_GUINT64_FORMAT " Ir in %u processes and %"
            G_GUINT64_FORMAT " Ir in %u, all of them together",
            worker_ir[0], worker_files[0], worker_ir[1], worker_files[1]);
  remove_scratch_dir (dir);
  return;

failed:
  printf ("instructions: not measured, %s\n", why);
  add_note (report, "instructions per job: not measured, %s", why);
  g_free (why);
  remove_scratch_dir (dir);
}

typedef struct {
  const char *name;
  void      (*run) (Report *report);
} FigureEntry;

/* Start-up goes first: spawning a worker forks this process, which costs
 * more the more memory the figures before it have left mapped. */
static const FigureEntry all_figures[] = {
  { "startup", figure_startup },
  { "throughput", figure_throughput },
  { "latency", figure_latency },
  { "cancellable", figure_cancellable },
  { "instructions", figure_instructions },
  { "payload", figure_payload },
  { "scale", figure_scale },
  { "python", figure_python },
};

/* Points the pool at this build tree's worker and plugin, unless the
 * environment or the command line says otherwise. */
static void
set_up_paths (void)
{
#ifdef BENCH_WORKER_PATH
  g_setenv ("WORKPOOL_WORKER", BENCH_WORKER_PATH, FALSE);
#endif
#ifdef BENCH_PLUGIN_DIR
  if (opt_plugin_dir == NULL)
    opt_plugin_dir = g_strdup (BENCH_PLUGIN_DIR);
#endif

  if (g_getenv ("WORKPOOL_WORKER") == NULL)
    die ("set WORKPOOL_WORKER to the workpool-worker executable");
}

int
main (int    argc,
      char **argv)
{
  g_auto(GStrv) only = NULL;
  int profile_noop = 0;
  int profile_echo = 0;
  int inflight_noop = 0;
  int scale_jobs = 0;
  const GOptionEntry entries[] = {
    { "figure", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &only,
      "Run only this figure: startup, throughput, latency, cancellable, instructions, payload, "
      "scale, python "
      "(repeatable)", "NAME" },
    { "repeat", 'r', 0, G_OPTION_ARG_INT, &opt_repeat,
      "Runs of each figure and floor, of which the median is shown (3)", "N" },
    { "plugin-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_plugin_dir,
      "The directory of bench.so", "DIR" },
    { "profile-noop", 0, 0, G_OPTION_ARG_INT, &profile_noop,
      "Only run N no-op jobs, for a profiler", "N" },
    { "profile-echo", 0, 0, G_OPTION_ARG_INT, &profile_echo,
      "Only run N 1 MiB echo jobs, for a profiler", "N" },
    { "inflight-noop", 0, 0, G_OPTION_ARG_INT, &inflight_noop,
      "Only run N no-op jobs, 64 in flight, for callgrind (the instructions figure runs this)",
      "N" },
    { "scale-child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &scale_jobs,
      "Queue N jobs and report memory and time (the scale figure runs this)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  Report report = { 0 };

  context = g_option_context_new ("- benchmarks of the worker pool against the raw pipe floor");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    die ("%s", error->message);
  if (opt_repeat < 1 || profile_noop < 0 || profile_echo < 0 || scale_jobs < 0 || inflight_noop < 0)
    die ("--repeat, --profile-noop, --profile-echo, --inflight-noop and --scale-child take a "
         "positive number");

  set_up_paths ();

  if (scale_jobs > 0)
    return scale_child (scale_jobs);
  if (profile_noop > 0)
    return profile_jobs ("noop", NOOP_ARG_BYTES, profile_noop);
  if (profile_echo > 0)
    return profile_jobs ("echo_bytes", PAYLOAD_BYTES, profile_echo);
  if (inflight_noop > 0)
    return inflight_jobs (inflight_noop);

  for (guint i = 0; only != NULL && only[i] != NULL; i++)
    {
      gboolean known = FALSE;

      for (guint j = 0; j < G_N_ELEMENTS (all_figures); j++)
        known |= g_str_equal (only[i], all_figures[j].name);
      if (!known)
        die ("no figure called %s", only[i]);
    }

  report.load_before = load_average ();
  report.figures = g_array_new (FALSE, FALSE, sizeof (Figure));
  report.notes = g_ptr_array_new_with_free_func (g_free);
  report.noop_floor = NAN;
  report.noop_rate = NAN;

  for (guint i = 0; i < G_N_ELEMENTS (all_figures); i++)
    if (only == NULL || g_strv_contains ((const char * const *) only, all_figures[i].name))
      all_figures[i].run (&report);

  print_report (&report);

  g_free (report.load_before);
  g_array_unref (report.figures);
  g_ptr_array_unref (report.notes);
  g_free (opt_plugin_dir);
  return 0;
}
