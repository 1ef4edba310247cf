/* wp-memory-limit.c: naming the worker's memory limit in out-of-memory errors.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A worker runs under the address-space limit (RLIMIT_AS) its pool sets,
 * so an allocation that fails there usually means the limit, not the
 * machine, is too small.  Every out-of-memory error of the plugin (libjpeg's
 * JERR_OUT_OF_MEMORY, gdk-pixbuf's GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY, a
 * failed g_try_malloc() or gdk_pixbuf_new()) goes through
 * wp_memory_limit_note(), which says so, with the limit in bytes, in the
 * words the pool uses for a crashed worker ("a memory limit of N bytes"),
 * which is what `workpool thumbnail` looks for to add how to raise it.
 * The limit is read when the error happens: it is the one in force.
 */

#include <sys/resource.h>

#include "wp-memory-limit.h"

/**
 * wp_memory_limit_note:
 * @error: an out-of-memory error
 *
 * When this process runs under a finite RLIMIT_AS, appends
 * " (the worker ran under a memory limit of N bytes)" to @error's
 * message, N being the soft limit; otherwise leaves @error as it is.
 */
void
wp_memory_limit_note (GError *error)
{
  struct rlimit limit;
  char *message;

  g_return_if_fail (error != NULL);

  if (getrlimit (RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return;

  message = g_strdup_printf ("%s (the worker ran under a memory limit of %" G_GUINT64_FORMAT
                             " bytes)", error->message, (guint64) limit.rlim_cur);
  g_free (error->message);
  error->message = message;
}
