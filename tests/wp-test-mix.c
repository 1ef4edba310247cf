/* wp-test-mix.c: a seeded mix of jobs, many of them going wrong.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See wp-test-mix.h.  The kinds are drawn in submission order from one
 * GRand, so a seed gives the same jobs whatever the timing.  A job's
 * callback gets its index, not its slot: a second callback for a job
 * whose slot is already someone else's is still caught, by the count
 * byte of that index.
 */

#include "wp-test-mix.h"

#include <signal.h>
#include <string.h>

#define LONG_MS   60000
#define MARGIN_MS 1000
#define ROUND_MS  (5 * 60 * 1000)

static const char *const kind_names[WP_MIX_N_KINDS] = {
  [WP_MIX_ECHO]           = "echo",
  [WP_MIX_ADD]            = "add",
  [WP_MIX_PLUGIN_ERROR]   = "plugin-error",
  [WP_MIX_CRASH]          = "crash",
  [WP_MIX_CANCEL_QUEUED]  = "cancel-queued",
  [WP_MIX_CANCEL_RUNNING] = "cancel-running",
  [WP_MIX_CANCEL_SPIN]    = "cancel-spin",
  [WP_MIX_TIMEOUT_SPIN]   = "timeout-spin",
  [WP_MIX_TIMEOUT_SLEEP]  = "timeout-sleep",
  [WP_MIX_CANCEL_LATE]    = "cancel-late",
  [WP_MIX_LARGE]          = "large",
  [WP_MIX_LARGE_LATE]     = "large-late",
};

/* One job in flight; in_use FALSE when the slot is free. */
typedef struct {
  gboolean      in_use;
  gboolean      returned;      /* wp_pool_call_full_async() has returned */
  WpMix        *mix;
  WpMixKind     kind;
  guint         index;
  const char   *plugin;
  const char   *function;
  GVariant     *expected;      /* the result a success must have */
  GQuark        error_domain;  /* for plugin-error */
  gint          error_code;
  char         *error_message;
  int           signum;        /* for crash */
  guint         timeout_ms;    /* for timeouts */
  GCancellable *cancellable;
  GSource      *cancel_timer;
  gint64        cancel_time;   /* monotonic µs, 0 until cancelled */
} MixJob;

struct _WpMix {
  WpPool      *pool;           /* owned; NULL once closed */
  guint        fds_before;
  WpMixConfig  config;
  GRand       *rand;
  guint8      *callbacks;      /* [n_jobs]: how many times each called back */
  MixJob      *slots;          /* [in_flight] */
  guint        n_started;
  guint        n_done;
  guint        round_end;      /* jobs of index >= this wait for the next round */
  guint        outcomes[WP_MIX_N_KINDS][2];  /* [kind][0: success, 1: error] */
  WpFaultTally tally;
  guint32      seed;
};

static guint
bound (guint ms)
{
  return ms * wp_fault_scale ();
}

const char *
wp_mix_kind_name (WpMixKind kind)
{
  g_assert (kind < WP_MIX_N_KINDS);
  return kind_names[kind];
}

WpMix *
wp_mix_new (const WpMixConfig *config,
            guint32            default_seed)
{
  g_autoptr(GError) error = NULL;
  const char *seed_text = g_getenv ("WORKPOOL_TEST_SEED");
  guint64 seed = default_seed;
  guint total = 0;
  WpMix *mix;

  for (guint k = 0; k < WP_MIX_N_KINDS; k++)
    total += config->per_mille[k];
  g_assert_cmpuint (total, ==, 1000);
  g_assert_cmpuint (config->in_flight, >, 0);
  g_assert_cmpuint (config->timeout_min_ms, <=, config->timeout_max_ms);
  g_assert_cmpuint (config->large_min, <=, config->large_max);

  if (seed_text != NULL)
    g_assert_true (g_ascii_string_to_unsigned (seed_text, 10, 0, G_MAXUINT32, &seed, NULL));
  g_test_message ("seed %" G_GUINT64_FORMAT " (set WORKPOOL_TEST_SEED to replay)", seed);

  mix = g_new0 (WpMix, 1);
  mix->config = *config;
  mix->seed = (guint32) seed;
  mix->rand = g_rand_new_with_seed (mix->seed);
  /* g_malloc and memset, not g_malloc0: calloc may hand out untouched
   * pages, which would join the process's RSS one by one during the run. */
  mix->callbacks = g_malloc (MAX (config->n_jobs, 1));
  memset (mix->callbacks, 0, MAX (config->n_jobs, 1));
  mix->slots = g_new0 (MixJob, config->in_flight);

  wp_test_warm_up ();
  mix->fds_before = wp_test_count_fds ();
  g_assert_cmpuint (wp_test_count_children (), ==, 0);
  mix->pool = wp_pool_new (wp_test_plugin_dir (), config->n_workers, &error);
  g_assert_no_error (error);
  wp_pool_set_cancel_grace (mix->pool, config->grace_ms);

  return mix;
}

WpPool *
wp_mix_get_pool (WpMix *mix)
{
  g_assert_nonnull (mix->pool);
  return mix->pool;
}

guint
wp_mix_get_fds_before (WpMix *mix)
{
  return mix->fds_before;
}

guint32
wp_mix_get_seed (WpMix *mix)
{
  return mix->seed;
}

guint
wp_mix_n_done (WpMix *mix)
{
  return mix->n_done;
}

guint
wp_mix_count (WpMix     *mix,
              WpMixKind  kind,
              gboolean   failed)
{
  g_assert (kind < WP_MIX_N_KINDS);
  return mix->outcomes[kind][failed ? 1 : 0];
}

static WpMixKind
draw_kind (WpMix *mix)
{
  guint32 x = g_rand_int_range (mix->rand, 0, 1000);

  for (guint k = 0; k < WP_MIX_N_KINDS; k++)
    {
      if (x < mix->config.per_mille[k])
        return k;
      x -= mix->config.per_mille[k];
    }

  g_assert_not_reached ();
}

static GVariant *
random_value (GRand *rand)
{
  switch (g_rand_int_range (rand, 0, 3))
    {
    case 0:
      return g_variant_new_int32 ((gint32) g_rand_int (rand));
    case 1:
      {
        g_autofree char *text = g_strdup_printf ("value %u", g_rand_int (rand));
        return g_variant_new_string (text);
      }
    default:
      return g_variant_new ("(sd)", "pair", g_rand_double (rand));
    }
}

/* "(ay)" of @size bytes from a xorshift generator seeded by @rand: as
 * random as needed to tell one payload from another, and cheap at MiBs.
 * A tuple whose one member is an array of bytes is serialised as just
 * the bytes, so the buffer becomes the value without a copy. */
static GVariant *
random_bytes (GRand *rand,
              gsize  size)
{
  guint8 *data = g_malloc (MAX (size, 1));
  guint64 x = ((guint64) g_rand_int (rand) << 32) | g_rand_int (rand) | 1;

  for (gsize i = 0; i < size; i++)
    {
      if (i % 8 == 0)
        {
          x ^= x << 13;
          x ^= x >> 7;
          x ^= x << 17;
        }
      data[i] = (guint8) (x >> (8 * (i % 8)));
    }

  return g_variant_new_from_data (G_VARIANT_TYPE ("(ay)"), data, size, TRUE, g_free, data);
}

/* ---- Cancelling ---- */

static void
cancel_job (MixJob *job)
{
  if (job->cancel_time == 0)
    job->cancel_time = g_get_monotonic_time ();
  wp_fault_cancel (job->cancellable);
}

static gboolean
on_cancel_timer (gpointer data)
{
  MixJob *job = data;

  g_clear_pointer (&job->cancel_timer, g_source_unref);
  cancel_job (job);
  return G_SOURCE_REMOVE;
}

static void
cancel_later (MixJob *job,
              guint   ms)
{
  job->cancel_timer = g_timeout_source_new (ms);
  g_source_set_callback (job->cancel_timer, on_cancel_timer, job, NULL);
  g_source_attach (job->cancel_timer, NULL);
}

/* ---- Checking one outcome ---- */

static void
fail_job (MixJob       *job,
          GVariant     *result,
          const GError *error,
          const char   *expected)
{
  g_autofree char *got = NULL;

  if (error != NULL)
    got = g_strdup_printf ("error %s:%d \"%s\"", g_quark_to_string (error->domain),
                           error->code, error->message);
  else
    {
      got = g_variant_print (result, TRUE);
      if (strlen (got) > 200)
        strcpy (got + 190, " …");
    }

  g_error ("job %u (%s, %s.%s): expected %s, got %s", job->index, kind_names[job->kind],
           job->plugin, job->function, expected, got);
}

/* Not g_variant_equal(), which compares untrusted values by printing
 * them: MiBs of text for a large payload.  Both are in normal form (the
 * pool checks a reply's), where equal values have equal bytes. */
static gboolean
same_value (GVariant *a,
            GVariant *b)
{
  gsize size = g_variant_get_size (a);

  return g_variant_is_of_type (a, g_variant_get_type (b))
         && g_variant_get_size (b) == size
         && memcmp (g_variant_get_data (a), g_variant_get_data (b), size) == 0;
}

static void
check_success (MixJob       *job,
               GVariant     *result,
               const GError *error)
{
  if (error != NULL || !same_value (result, job->expected))
    fail_job (job, result, error, "success with the value sent");
}

static void
check_cancelled (MixJob       *job,
                 GVariant     *result,
                 const GError *error,
                 gint64        done_time)
{
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    fail_job (job, result, error, "G_IO_ERROR_CANCELLED");

  g_assert_cmpint (job->cancel_time, >, 0);
  if ((done_time - job->cancel_time) / 1000 > bound (job->mix->config.grace_ms + MARGIN_MS))
    g_error ("job %u (%s): called back %" G_GINT64_FORMAT " ms after the cancel",
             job->index, kind_names[job->kind], (done_time - job->cancel_time) / 1000);
}

static void
check_outcome (MixJob       *job,
               GVariant     *result,
               const GError *error,
               gint64        done_time)
{
  switch (job->kind)
    {
    case WP_MIX_ECHO:
    case WP_MIX_ADD:
    case WP_MIX_LARGE:
      check_success (job, result, error);
      break;

    case WP_MIX_PLUGIN_ERROR:
      if (!g_error_matches (error, job->error_domain, job->error_code)
          || g_strcmp0 (error->message, job->error_message) != 0)
        fail_job (job, result, error, "the plugin's own error");
      break;

    case WP_MIX_CRASH:
      if (!g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED)
          || strstr (error->message, g_strsignal (job->signum)) == NULL)
        fail_job (job, result, error, "WP_POOL_ERROR_WORKER_CRASHED naming the signal");
      break;

    case WP_MIX_CANCEL_QUEUED:
    case WP_MIX_CANCEL_RUNNING:
    case WP_MIX_CANCEL_SPIN:
      check_cancelled (job, result, error, done_time);
      break;

    case WP_MIX_TIMEOUT_SPIN:
    case WP_MIX_TIMEOUT_SLEEP:
      {
        g_autofree char *limit = g_strdup_printf (" %u ms", job->timeout_ms);

        if (!g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_TIMED_OUT)
            || strstr (error->message, limit) == NULL)
          fail_job (job, result, error, "WP_POOL_ERROR_TIMED_OUT naming the limit");
      }
      break;

    case WP_MIX_CANCEL_LATE:
    case WP_MIX_LARGE_LATE:
      if (error != NULL)
        check_cancelled (job, result, error, done_time);
      else
        check_success (job, result, error);
      break;

    case WP_MIX_N_KINDS:
    default:
      g_assert_not_reached ();
    }
}

/* ---- Submitting ---- */

static void start_next (WpMix *mix);

static MixJob *
find_slot (WpMix *mix,
           guint  index)
{
  for (guint i = 0; i < mix->config.in_flight; i++)
    if (mix->slots[i].in_use && mix->slots[i].index == index)
      return &mix->slots[i];

  g_assert_not_reached ();
}

static void
release_slot (MixJob *job)
{
  g_clear_pointer (&job->expected, g_variant_unref);
  g_clear_pointer (&job->error_message, g_free);
  g_clear_object (&job->cancellable);
  if (job->cancel_timer != NULL)
    g_source_destroy (job->cancel_timer);
  g_clear_pointer (&job->cancel_timer, g_source_unref);
  memset (job, 0, sizeof *job);
}

static void
on_job_done (GObject      *source,
             GAsyncResult *res,
             gpointer      user_data)
{
  WpMix *mix;
  MixJob *job;
  guint index = GPOINTER_TO_UINT (user_data);
  gint64 done_time = g_get_monotonic_time ();
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;

  job = NULL;
  mix = g_object_get_data (source, "wp-mix");
  g_assert_nonnull (mix);
  g_assert_cmpuint (index, <, mix->n_started);
  if (mix->callbacks[index]++ != 0)
    g_error ("the callback of job %u ran more than once", index);

  job = find_slot (mix, index);
  if (!job->returned)
    g_error ("the callback of job %u (%s) ran before wp_pool_call_full_async() returned",
             index, kind_names[job->kind]);
  if (wp_fault_in_cancel ())
    g_error ("the callback of job %u (%s) ran from inside g_cancellable_cancel()",
             index, kind_names[job->kind]);
  g_assert_true ((WpPool *) source == mix->pool);

  result = wp_pool_call_finish (mix->pool, res, &error);
  g_assert_true ((result == NULL) != (error == NULL));

  check_outcome (job, result, error, done_time);
  mix->outcomes[job->kind][error != NULL]++;
  wp_fault_tally_add (&mix->tally, error);
  mix->n_done++;
  release_slot (job);

  start_next (mix);
}

static MixJob *
free_slot (WpMix *mix)
{
  for (guint i = 0; i < mix->config.in_flight; i++)
    if (!mix->slots[i].in_use)
      return &mix->slots[i];

  g_assert_not_reached ();
}

static void
start_next (WpMix *mix)
{
  const WpMixConfig *config = &mix->config;
  MixJob *job;
  GVariant *args = NULL;
  guint timeout_ms = 0;

  if (mix->n_started == mix->round_end)
    return;

  job = free_slot (mix);
  job->in_use = TRUE;
  job->mix = mix;
  job->index = mix->n_started++;
  job->kind = draw_kind (mix);

  switch (job->kind)
    {
    case WP_MIX_ECHO:
    case WP_MIX_CANCEL_QUEUED:
    case WP_MIX_CANCEL_LATE:
      job->plugin = "echo", job->function = "echo";
      job->expected = g_variant_ref_sink (g_variant_new ("(v)", random_value (mix->rand)));
      args = job->expected;
      break;

    case WP_MIX_LARGE:
    case WP_MIX_LARGE_LATE:
      {
        gsize size = config->large_min
                     + (gsize) (g_rand_double (mix->rand) * (config->large_max - config->large_min));

        job->plugin = "echo", job->function = "echo_bytes";
        job->expected = g_variant_ref_sink (random_bytes (mix->rand, size));
        args = job->expected;
      }
      break;

    case WP_MIX_ADD:
      {
        gint32 a = g_rand_int_range (mix->rand, -100000, 100000);
        gint32 b = g_rand_int_range (mix->rand, -100000, 100000);

        job->plugin = "arith", job->function = "add";
        args = g_variant_new ("(ii)", a, b);
        job->expected = g_variant_ref_sink (g_variant_new ("(i)", a + b));
      }
      break;

    case WP_MIX_PLUGIN_ERROR:
      job->plugin = "arith";
      if (g_rand_boolean (mix->rand))
        {
          job->function = "fail";
          job->error_message = g_strdup_printf ("failure %u", job->index);
          job->error_domain = G_FILE_ERROR;
          job->error_code = G_FILE_ERROR_NOENT;
          args = g_variant_new ("(s)", job->error_message);
        }
      else
        {
          job->function = "div";
          job->error_message = g_strdup ("division by zero");
          job->error_domain = G_IO_ERROR;
          job->error_code = G_IO_ERROR_INVALID_ARGUMENT;
          args = g_variant_new ("(ii)", (gint32) job->index, 0);
        }
      break;

    case WP_MIX_CRASH:
      job->plugin = "crash";
      if (g_rand_boolean (mix->rand))
        job->function = "segv", job->signum = SIGSEGV;
      else
        job->function = "abort", job->signum = SIGABRT;
      break;

    case WP_MIX_CANCEL_RUNNING:
    case WP_MIX_CANCEL_SPIN:
    case WP_MIX_TIMEOUT_SPIN:
    case WP_MIX_TIMEOUT_SLEEP:
      job->plugin = "sleep";
      job->function = job->kind == WP_MIX_CANCEL_SPIN || job->kind == WP_MIX_TIMEOUT_SPIN
                      ? "spin" : "sleep";
      args = g_variant_new ("(u)", LONG_MS);
      if (job->kind == WP_MIX_TIMEOUT_SPIN || job->kind == WP_MIX_TIMEOUT_SLEEP)
        timeout_ms = job->timeout_ms = g_rand_int_range (mix->rand, config->timeout_min_ms,
                                                         config->timeout_max_ms + 1);
      break;

    case WP_MIX_N_KINDS:
    default:
      g_assert_not_reached ();
    }

  job->cancellable = g_cancellable_new ();
  wp_pool_call_full_async (mix->pool, job->plugin, job->function, args, timeout_ms, G_PRIORITY_DEFAULT,
                           job->cancellable, on_job_done, GUINT_TO_POINTER (job->index));
  job->returned = TRUE;

  switch (job->kind)
    {
    case WP_MIX_CANCEL_QUEUED:
      cancel_job (job);
      break;
    case WP_MIX_CANCEL_RUNNING:
    case WP_MIX_CANCEL_SPIN:
      cancel_later (job, g_rand_int_range (mix->rand, 1, config->cancel_max_ms + 1));
      break;
    case WP_MIX_CANCEL_LATE:
    case WP_MIX_LARGE_LATE:
      cancel_later (job, g_rand_int_range (mix->rand, 0, config->late_max_ms + 1));
      break;
    default:
      break;
    }
}

static gboolean
round_is_done (gpointer data)
{
  WpMix *mix = data;

  return mix->n_done == mix->round_end;
}

void
wp_mix_run (WpMix *mix)
{
  const WpMixConfig *config = &mix->config;
  guint round_jobs = config->round_jobs > 0 ? config->round_jobs : config->n_jobs;

  /* How a callback, which gets the job's index, finds the mix. */
  g_object_set_data (G_OBJECT (mix->pool), "wp-mix", mix);

  while (mix->n_done < config->n_jobs)
    {
      mix->round_end = MIN (mix->n_done + round_jobs, config->n_jobs);
      for (guint i = 0; i < config->in_flight; i++)
        start_next (mix);
      wp_test_wait_until_full (NULL, round_is_done, mix, ROUND_MS,
                               "every job of the round to call back");
      if (config->round_done != NULL)
        config->round_done (mix, config->round_data);
    }
}

void
wp_mix_log_outcomes (WpMix *mix)
{
  for (guint k = 0; k < WP_MIX_N_KINDS; k++)
    if (mix->config.per_mille[k] > 0)
      g_test_message ("%-15s %6u succeeded, %6u failed", kind_names[k],
                      mix->outcomes[k][0], mix->outcomes[k][1]);
}

void
wp_mix_close (WpMix *mix)
{
  g_assert_cmpuint (mix->n_done, ==, mix->config.n_jobs);

  for (guint k = 0; k < WP_MIX_N_KINDS; k++)
    if (mix->config.per_mille[k] > 0 && mix->outcomes[k][0] + mix->outcomes[k][1] == 0)
      g_error ("no job of kind %s came up: too few jobs for the shares", kind_names[k]);

  /* Each kind's outcomes were checked: so only crashes crashed, and only
   * timeouts timed out. */
  g_assert_cmpuint (mix->tally.crashed, ==, mix->outcomes[WP_MIX_CRASH][1]);
  g_assert_cmpuint (mix->tally.timed_out, ==,
                    mix->outcomes[WP_MIX_TIMEOUT_SPIN][1] + mix->outcomes[WP_MIX_TIMEOUT_SLEEP][1]);
  wp_fault_tally_assert_stats (&mix->tally, mix->pool);

  wp_test_close (mix->pool);
  wp_test_assert_no_children ();
  g_clear_object (&mix->pool);

  /* Nothing comes twice, even late; then every callback ran once. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  for (guint i = 0; i < mix->config.n_jobs; i++)
    if (mix->callbacks[i] != 1)
      g_error ("job %u: its callback ran %u times, not once", i, mix->callbacks[i]);

  wp_test_wait_fds (mix->fds_before);
}

void
wp_mix_free (WpMix *mix)
{
  for (guint i = 0; i < mix->config.in_flight; i++)
    release_slot (&mix->slots[i]);
  g_free (mix->slots);
  g_clear_object (&mix->pool);
  g_free (mix->callbacks);
  g_rand_free (mix->rand);
  g_free (mix);
}
