/* test-soak.c: the soak under faults — the fault mix for 200 000 jobs on
 * 2 workers, watching the host's memory, descriptors and children.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * In the test suite `slow`.  The mix of test-faults.c
 * (see wp-test-mix.h for the kinds and the checks on every callback),
 * with large payloads added and the slow kinds made rarer and shorter so
 * that 200 000 jobs take a minute or two on 2 cores:
 *
 *   kind            share    timing or size
 *   echo            46   %
 *   add             25   %
 *   plugin-error    10   %
 *   crash            1   %
 *   cancel-queued    8   %
 *   cancel-running   1   %   cancelled after 1-10 ms
 *   cancel-spin      0.5 %   cancelled after 1-10 ms, killed after the 20 ms grace
 *   timeout-spin     0.5 %   timeout 5-20 ms, killed after the grace
 *   timeout-sleep    0.5 %   timeout 5-20 ms
 *   cancel-late      7   %   cancelled after 0-5 ms
 *   large            0.3 %   "ay" of 1-4 MiB, echoed
 *   large-late       0.2 %   the same, cancelled after 0-5 ms
 *
 * $WORKPOOL_SOAK_JOBS sets the number of jobs (200 000 by default); the
 * seed is printed and $WORKPOOL_TEST_SEED replays it.
 *
 * The jobs run in 40 rounds; between two rounds nothing is queued or
 * running, and the test samples the host: its RSS (VmRSS), its open
 * descriptors, its children and which of them are zombies.  Sampling an
 * idle pool makes the samples comparable: none holds a job's arguments
 * or a payload in flight.
 *
 * Warm-up: the first 4 rounds (10 % of the jobs).  A process's RSS grows
 * at first for reasons that are not leaks: what GLib sets up once (type
 * classes, quarks, error domains, its worker thread), the allocator's
 * arenas growing to the working set of 32 jobs in flight and the largest
 * payloads, the pool's queue and buffers reaching their sizes.  By the
 * end of the warm-up every kind has run (asserted) many times; from there
 * the RSS of the last sample must exceed the warm-up's by less than 5 %.  A
 * leak of one small allocation per job (tens of bytes, times 180 000),
 * or of a few hundred bytes per worker started, shows up as several
 * hundred kB.
 *
 * The allocator: meson runs this test with GLIBC_TUNABLES set so that
 * glibc's RSS says what is in use, not where freed memory is parked:
 * tcache_count=0, since the per-thread caches of freed chunks (7 per size
 * class up to 1 kB, in the main thread and in GLib's worker thread, which
 * reaps the workers) fill up slowly over a run and add 2 to 3 % by
 * themselves; and mmap_threshold=256 KiB, since glibc's dynamic threshold
 * would otherwise move MiB payloads into the heap after the first one is
 * freed, and the RSS would then depend on how many large jobs happened
 * to be in flight together.  Both are bounded, so neither can hide a
 * leak, and a leaked payload still counts in the RSS.  (valgrind, which
 * brings its own allocator, finds no more memory in use at the end of a
 * round than at the start.)
 *
 * Zombies: GLib reaps a worker in its own thread as soon as it dies, so a
 * zombie may be seen at a sample; the same zombie seen again at a later
 * sample at least 2 s (scaled) afterwards, with thousands of jobs run
 * in between, is one nobody reaps, and fails the test.  (Pids are handed
 * out in a cycle of pid_max, so the same pid at two samples is the same
 * process.)  After the close: no child at all, the descriptor count of
 * before the pool, and the stats agree with the callbacks.
 */

#include <stdlib.h>
#include <string.h>

#include "wp-test-mix.h"

#define DEFAULT_SEED     20261202
#define DEFAULT_JOBS     200000
#define N_ROUNDS         40
#define WARM_UP_ROUNDS   4
#define MAX_GROWTH       5.0   /* % */
#define ZOMBIE_MAX_MS    2000

/* GCC says so with __SANITIZE_ADDRESS__, clang with __has_feature. */
#if defined (__SANITIZE_ADDRESS__)
# define UNDER_ASAN 1
#elif defined (__has_feature)
# if __has_feature (address_sanitizer)
#  define UNDER_ASAN 1
# endif
#endif

typedef struct {
  guint64 rss_kb;
  guint   fds;
  guint   children;
} Sample;

typedef struct {
  GArray     *samples;   /* of Sample, one per round */
  GHashTable *zombies;   /* pid → monotonic µs when first seen, as gint64 * */
  guint       zombie_sightings;
  gint64      start;
} Soak;

static guint64
read_rss_kb (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *status = NULL;
  const char *line;

  g_file_get_contents ("/proc/self/status", &status, NULL, &error);
  g_assert_no_error (error);

  line = strstr (status, "\nVmRSS:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("\nVmRSS:"), NULL, 10);
}

/* Fails the test for a zombie that outlived ZOMBIE_MAX_MS; forgets the
 * ones that were reaped. */
static void
check_zombies (Soak *soak)
{
  g_autoptr(GArray) zombies = wp_test_list_zombies ();
  g_autoptr(GHashTable) now_seen = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < zombies->len; i++)
    {
      int pid = g_array_index (zombies, int, i);
      gint64 *first_seen = g_hash_table_lookup (soak->zombies, GINT_TO_POINTER (pid));

      if (first_seen == NULL)
        soak->zombie_sightings++;
      else
        {
          gint64 ms = (now - *first_seen) / G_TIME_SPAN_MILLISECOND;

          if (ms >= ZOMBIE_MAX_MS * wp_fault_scale ())
            g_error ("child %d has been a zombie for %" G_GINT64_FORMAT " ms, over %u "
                     "samples: nobody reaps it", pid, ms, soak->samples->len);
        }
      g_hash_table_insert (now_seen, GINT_TO_POINTER (pid),
                           g_memdup2 (first_seen != NULL ? first_seen : &now, sizeof now));
    }

  g_hash_table_unref (soak->zombies);
  soak->zombies = g_steal_pointer (&now_seen);
}

static void
on_round_done (WpMix    *mix,
               gpointer  data)
{
  Soak *soak = data;
  Sample sample;

  /* Between rounds the pool is idle. */
  g_assert_cmpuint (wp_test_get_stat (wp_mix_get_pool (mix), "queued"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (wp_mix_get_pool (mix), "running"), ==, 0);

  check_zombies (soak);
  sample.rss_kb = read_rss_kb ();
  sample.fds = wp_test_count_fds ();
  sample.children = wp_test_count_children ();
  g_array_append_val (soak->samples, sample);

  g_test_message ("round %2u: %6u jobs, %6.1f s, RSS %6" G_GUINT64_FORMAT " kB, %2u fds, "
                  "%u children, %u zombies so far", soak->samples->len, wp_mix_n_done (mix),
                  wp_fault_ms_since (soak->start) / 1000.0, sample.rss_kb, sample.fds,
                  sample.children, soak->zombie_sightings);

  if (soak->samples->len == WARM_UP_ROUNDS)
    for (guint k = 0; k < WP_MIX_N_KINDS; k++)
      if (wp_mix_count (mix, k, FALSE) + wp_mix_count (mix, k, TRUE) == 0)
        g_error ("no job of kind %s in the warm-up", wp_mix_kind_name (k));
}

static guint
soak_jobs (void)
{
  g_autoptr(GError) error = NULL;
  const char *text = g_getenv ("WORKPOOL_SOAK_JOBS");
  guint64 n = DEFAULT_JOBS;

  if (text != NULL && !g_ascii_string_to_unsigned (text, 10, 10 * N_ROUNDS, G_MAXUINT32, &n, &error))
    g_error ("WORKPOOL_SOAK_JOBS: %s", error->message);

  return (guint) n;
}

static char *
describe_outcomes (WpMix *mix)
{
  GString *out = g_string_new (NULL);

  for (guint k = 0; k < WP_MIX_N_KINDS; k++)
    g_string_append_printf (out, "%s%s %u/%u", k > 0 ? ", " : "", wp_mix_kind_name (k),
                            wp_mix_count (mix, k, FALSE), wp_mix_count (mix, k, TRUE));

  return g_string_free (out, FALSE);
}

static void
test_soak_faults (void)
{
  WpMixConfig config = {
    .n_workers = 2,
    .n_jobs = soak_jobs (),
    .in_flight = 32,
    .grace_ms = 20,
    .cancel_max_ms = 10,
    .late_max_ms = 5,
    .timeout_min_ms = 5,
    .timeout_max_ms = 20,
    .large_min = 1024 * 1024,
    .large_max = 4 * 1024 * 1024,
    .per_mille = {
      [WP_MIX_ECHO]           = 460,
      [WP_MIX_ADD]            = 250,
      [WP_MIX_PLUGIN_ERROR]   = 100,
      [WP_MIX_CRASH]          = 10,
      [WP_MIX_CANCEL_QUEUED]  = 80,
      [WP_MIX_CANCEL_RUNNING] = 10,
      [WP_MIX_CANCEL_SPIN]    = 5,
      [WP_MIX_TIMEOUT_SPIN]   = 5,
      [WP_MIX_TIMEOUT_SLEEP]  = 5,
      [WP_MIX_CANCEL_LATE]    = 70,
      [WP_MIX_LARGE]          = 3,
      [WP_MIX_LARGE_LATE]     = 2,
    },
    .round_done = on_round_done,
  };
  g_autoptr(WpMix) mix = NULL;
  g_autofree char *outcomes = NULL;
  Soak soak = { NULL };
  const Sample *warm, *last;
  guint64 max_rss_kb = 0;
  guint max_children = 0;
  guint64 spawned;
  gint64 duration_ms;
  double growth;

  g_test_summary ("200 000 jobs of the fault mix on 2 workers: each calls back once with "
                  "the outcome its kind allows; after the warm-up the host's RSS grows by "
                  "less than 5 %; no zombie outlives two samples; after the close the "
                  "descriptors and children are as before");

  if (strstr (g_getenv ("GLIBC_TUNABLES") ?: "", "tcache_count=0") == NULL)
    g_test_message ("GLIBC_TUNABLES is not as meson sets it: the RSS includes glibc's "
                    "caches, and may grow by a few %% more (see test-soak.c)");
  config.round_jobs = (config.n_jobs + N_ROUNDS - 1) / N_ROUNDS;
  config.round_data = &soak;

  /* Sized up front: the test's own memory must not grow either. */
  soak.samples = g_array_sized_new (FALSE, FALSE, sizeof (Sample), N_ROUNDS);
  soak.zombies = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  mix = wp_mix_new (&config, DEFAULT_SEED);

  soak.start = g_get_monotonic_time ();
  wp_mix_run (mix);
  duration_ms = wp_fault_ms_since (soak.start);
  spawned = wp_test_get_stat (wp_mix_get_pool (mix), "spawned");
  wp_mix_log_outcomes (mix);
  wp_mix_close (mix);

  g_assert_cmpuint (soak.samples->len, >, WARM_UP_ROUNDS);
  warm = &g_array_index (soak.samples, Sample, WARM_UP_ROUNDS - 1);
  last = &g_array_index (soak.samples, Sample, soak.samples->len - 1);
  for (guint i = 0; i < soak.samples->len; i++)
    {
      const Sample *sample = &g_array_index (soak.samples, Sample, i);

      if (i >= WARM_UP_ROUNDS)
        max_rss_kb = MAX (max_rss_kb, sample->rss_kb);
      max_children = MAX (max_children, sample->children);
    }
  growth = 100.0 * ((double) last->rss_kb - (double) warm->rss_kb) / (double) warm->rss_kb;

  outcomes = describe_outcomes (mix);
  g_test_message ("soak: %u jobs on %u workers, seed %u, in %.1f s, %.0f jobs/s; "
                  "succeeded/failed per kind: %s; %" G_GUINT64_FORMAT " workers spawned; "
                  "host RSS %" G_GUINT64_FORMAT " kB after the warm-up (%u jobs), %"
                  G_GUINT64_FORMAT " kB at the end (%+.2f %%), at most %" G_GUINT64_FORMAT
                  " kB after the warm-up; fds %u before, %u after; children at most %u at a "
                  "sample, 0 after; %u zombies seen at a sample, none at the next",
                  config.n_jobs, config.n_workers, wp_mix_get_seed (mix), duration_ms / 1000.0,
                  config.n_jobs / (MAX (duration_ms, 1) / 1000.0), outcomes, spawned,
                  warm->rss_kb, WARM_UP_ROUNDS * config.round_jobs, last->rss_kb, growth,
                  max_rss_kb, wp_mix_get_fds_before (mix), wp_test_count_fds (), max_children, soak.zombie_sightings);

#ifdef UNDER_ASAN
  /* AddressSanitizer keeps freed memory in quarantine (up to 256 MiB) and
   * its own shadow: the RSS says nothing about the program's.  Everything
   * else holds, and LeakSanitizer checks the heap at exit. */
  g_test_message ("built with AddressSanitizer: the RSS growth is not asserted");
#else
  if (growth >= MAX_GROWTH)
    g_error ("the host's RSS grew by %.2f %% after the warm-up (%" G_GUINT64_FORMAT
             " kB to %" G_GUINT64_FORMAT " kB)", growth, warm->rss_kb, last->rss_kb);
#endif

  g_array_unref (soak.samples);
  g_hash_table_unref (soak.zombies);
}

int
main (int    argc,
      char **argv)
{
  wp_test_init (&argc, &argv);

  g_test_add_func ("/soak/faults", test_soak_faults);

  return g_test_run ();
}
