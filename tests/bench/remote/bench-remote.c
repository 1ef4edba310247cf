/* bench-remote.c: workers through srun and ssh, beside local workers.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Run by run.sh, which starts a private Slurm cluster and sshd on this
 * machine (tests/remote/with-engine.sh, nested) and sets
 * $WORKPOOL_TEST_LAUNCHER_SLURM and $WORKPOOL_TEST_LAUNCHER_SSH; an engine
 * that cannot run is left out.  Local workers, the floor, run in the same
 * process and the same rounds, so each ratio compares like with like on
 * this noisy machine.  Each round measures, for each way of starting
 * workers in turn:
 *
 *   1. start-up: a pool of one worker, one `bench.noop` job: from the
 *      call to its result, which is the worker's start (the launcher's
 *      included) and one round trip; ms.
 *   2. no-op throughput: 2 workers (both started first), NOOP_JOBS
 *      `bench.noop` jobs submitted at once; jobs/s.
 *   3. payload: 2 workers, ECHO_JOBS `bench.echo_bytes` jobs of 1 MiB
 *      submitted at once; MiB/s of arguments (as much comes back).
 *
 * ROUNDS rounds ($WORKPOOL_BENCH_RUNS, 3 by default); the table gives
 * medians, and each figure's ratio to local workers.  Both engines run on
 * this machine: what they add is their own cost (srun's step set-up and
 * I/O forwarding through slurmstepd; ssh's encryption and sshd's
 * relaying), not a network's.  The output ends with one `name value
 * unit` line per figure.  Exit status 0 whatever the figures.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <workpool/workpool.h>

#define NOOP_JOBS  20000
#define ECHO_JOBS  200
#define ECHO_BYTES (1024 * 1024)
#define MAX_MODES  3

typedef struct {
  const char *name;
  char      **launcher;   /* NULL: local */
  GArray     *startup_ms;
  GArray     *noop_rate;
  GArray     *echo_rate;
} Mode;

typedef struct {
  guint   pending;
  guint   failed;
  GError *first_error;
} Batch;

static void
job_done (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Batch *batch = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = wp_pool_call_finish (WP_POOL (source), result, &error);

  if (reply == NULL)
    {
      batch->failed++;
      if (batch->first_error == NULL)
        batch->first_error = g_steal_pointer (&error);
    }
  batch->pending--;
}

/* Submits @n jobs of @function with @args, waits for all; seconds. */
static double
run_batch (WpPool     *pool,
           const char *function,
           GVariant   *args,
           guint       n)
{
  Batch batch = { n, 0, NULL };
  gint64 start = g_get_monotonic_time ();

  g_variant_ref_sink (args);
  for (guint i = 0; i < n; i++)
    wp_pool_call_async (pool, "bench", function, args, NULL, job_done, &batch);
  while (batch.pending > 0)
    g_main_context_iteration (NULL, TRUE);
  g_variant_unref (args);

  if (batch.failed > 0)
    g_error ("%u of %u %s jobs failed; the first: %s", batch.failed, n, function,
             batch.first_error->message);
  return (g_get_monotonic_time () - start) / 1e6;
}

static GVariant *
bytes_args (gsize size)
{
  g_autofree guint8 *bytes = g_malloc0 (size);

  return g_variant_new ("(@ay)", g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, bytes,
                                                            size, 1));
}

static WpPool *
new_pool (const Mode *mode,
          guint       n_workers)
{
  g_autoptr(GError) error = NULL;
  WpPool *pool = wp_pool_new (BENCH_PLUGIN_DIR, n_workers, &error);

  if (pool == NULL)
    g_error ("%s", error->message);
  wp_pool_set_launcher (pool, (const char * const *) mode->launcher);
  return pool;
}

static void
keep_result (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
close_pool (WpPool *pool)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  wp_pool_close_async (pool, NULL, keep_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (!wp_pool_close_finish (pool, result, &error))
    g_error ("close: %s", error->message);
  g_object_unref (pool);
}

static void
measure_round (Mode *mode)
{
  WpPool *pool;
  double ms, seconds, rate;

  pool = new_pool (mode, 1);
  ms = run_batch (pool, "noop", bytes_args (0), 1) * 1000;
  g_array_append_val (mode->startup_ms, ms);
  close_pool (pool);

  pool = new_pool (mode, 2);
  /* Both workers running before the clock starts. */
  run_batch (pool, "noop", bytes_args (0), 200);
  seconds = run_batch (pool, "noop", bytes_args (0), NOOP_JOBS);
  rate = NOOP_JOBS / seconds;
  g_array_append_val (mode->noop_rate, rate);
  seconds = run_batch (pool, "echo_bytes", bytes_args (ECHO_BYTES), ECHO_JOBS);
  rate = ECHO_JOBS * (ECHO_BYTES / 1048576.0) / seconds;
  g_array_append_val (mode->echo_rate, rate);
  close_pool (pool);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
median (GArray *values)
{
  g_array_sort (values, compare_doubles);
  if (values->len % 2 == 1)
    return g_array_index (values, double, values->len / 2);
  return (g_array_index (values, double, values->len / 2 - 1)
          + g_array_index (values, double, values->len / 2)) / 2;
}

static void
add_mode (Mode       *modes,
          guint      *n_modes,
          const char *name,
          const char *variable)
{
  const char *words = variable != NULL ? g_getenv (variable) : NULL;
  g_autoptr(GError) error = NULL;
  Mode *mode = &modes[(*n_modes)++];

  mode->name = name;
  if (words != NULL && !g_shell_parse_argv (words, NULL, &mode->launcher, &error))
    g_error ("%s: %s", variable, error->message);
  mode->startup_ms = g_array_new (FALSE, FALSE, sizeof (double));
  mode->noop_rate = g_array_new (FALSE, FALSE, sizeof (double));
  mode->echo_rate = g_array_new (FALSE, FALSE, sizeof (double));
}

static void
print_figure (const Mode *modes,
              guint       n_modes,
              const char *figure,
              const char *unit,
              gsize       offset)
{
  double floor_value = median (G_STRUCT_MEMBER (GArray *, &modes[0], offset));

  for (guint i = 0; i < n_modes; i++)
    {
      double value = median (G_STRUCT_MEMBER (GArray *, &modes[i], offset));

      printf ("%-11s %-6s %12.1f %-7s %6.2fx local\n", figure, modes[i].name, value, unit,
              value / floor_value);
    }
}

int
main (int    argc,
      char **argv)
{
  Mode modes[MAX_MODES] = { { 0 } };
  guint n_modes = 0;
  const char *runs = g_getenv ("WORKPOOL_BENCH_RUNS");
  guint rounds = runs != NULL && atoi (runs) > 0 ? (guint) atoi (runs) : 3;

  add_mode (modes, &n_modes, "local", NULL);
  if (g_getenv ("WORKPOOL_TEST_LAUNCHER_SLURM") != NULL)
    add_mode (modes, &n_modes, "srun", "WORKPOOL_TEST_LAUNCHER_SLURM");
  if (g_getenv ("WORKPOOL_TEST_LAUNCHER_SSH") != NULL)
    add_mode (modes, &n_modes, "ssh", "WORKPOOL_TEST_LAUNCHER_SSH");

  for (guint i = 1; i < n_modes; i++)
    {
      g_autofree char *words = g_strjoinv (" ", modes[i].launcher);

      printf ("# %s: %s\n", modes[i].name, words);
    }
  if (n_modes == 1)
    printf ("# no engine could run here: local workers only\n");
  printf ("# %u rounds; medians; %u no-op jobs, %u echo jobs of 1 MiB, 2 workers\n",
          rounds, NOOP_JOBS, ECHO_JOBS);
  fflush (stdout);

  for (guint round = 0; round < rounds; round++)
    for (guint i = 0; i < n_modes; i++)
      measure_round (&modes[i]);

  print_figure (modes, n_modes, "start-up", "ms", G_STRUCT_OFFSET (Mode, startup_ms));
  print_figure (modes, n_modes, "noop", "jobs/s", G_STRUCT_OFFSET (Mode, noop_rate));
  print_figure (modes, n_modes, "echo-1MiB", "MiB/s", G_STRUCT_OFFSET (Mode, echo_rate));

  for (guint i = 0; i < n_modes; i++)
    {
      printf ("startup_%s %.1f ms\n", modes[i].name, median (modes[i].startup_ms));
      printf ("noop_%s %.0f jobs/s\n", modes[i].name, median (modes[i].noop_rate));
      printf ("echo_%s %.1f MiB/s\n", modes[i].name, median (modes[i].echo_rate));
      g_strfreev (modes[i].launcher);
      g_array_unref (modes[i].startup_ms);
      g_array_unref (modes[i].noop_rate);
      g_array_unref (modes[i].echo_rate);
    }

  return 0;
}
