/* memory.c: a test plugin that uses memory, for the worker memory limit.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * allocate_and_touch gets N bytes with g_malloc() and writes to every
 * page, so the memory is really used, not merely reserved: under a limit
 * smaller than N, g_malloc() aborts the worker, which is what a job over
 * its pool's wp_pool_set_worker_memory_limit() must look like.
 * get_address_space_limit reports the worker's RLIMIT_AS, soft and hard,
 * as the plugin sees it (G_MAXUINT64 for none).
 */

#include <sys/resource.h>
#include <unistd.h>

#include <workpool/wp-plugin.h>

static GVariant *
allocate_and_touch (GVariant      *args,
                    GCancellable  *cancellable,
                    GError       **error)
{
  gsize page = (gsize) sysconf (_SC_PAGESIZE);
  g_autofree volatile guint8 *bytes = NULL;
  guint64 size, sum = 0;

  g_variant_get (args, "(t)", &size);
  if (size == 0 || size > G_MAXSIZE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot allocate %" G_GUINT64_FORMAT " bytes", size);
      return NULL;
    }

  bytes = g_malloc ((gsize) size);
  for (gsize i = 0; i < size; i += page)
    bytes[i] = 1;
  for (gsize i = 0; i < size; i += page)
    sum += bytes[i];

  /* The number of pages touched, read back so none is optimised out. */
  return g_variant_new ("(t)", sum);
}

static guint64
limit_value (rlim_t value)
{
  return value == RLIM_INFINITY ? G_MAXUINT64 : (guint64) value;
}

static GVariant *
get_address_space_limit (GVariant      *args,
                         GCancellable  *cancellable,
                         GError       **error)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_AS, &limit) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "getrlimit failed");
      return NULL;
    }

  return g_variant_new ("(tti)", limit_value (limit.rlim_cur), limit_value (limit.rlim_max),
                        (gint32) getpid ());
}

static const WpFunction functions[] = {
  { "allocate_and_touch", "(t)", "(t)", allocate_and_touch,
    "Allocates N bytes with g_malloc() and writes to each page; returns the number of pages" },
  { "get_address_space_limit", "()", "(tti)", get_address_space_limit,
    "Returns the worker's RLIMIT_AS, soft and hard (G_MAXUINT64 for none), and its pid" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "memory", "1.0", "Uses memory, for the worker memory limit", functions,
};

WP_PLUGIN_DEFINE (plugin)
