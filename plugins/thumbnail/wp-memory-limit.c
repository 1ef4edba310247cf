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
 *
 * wp_memory_limit_get_headroom() tells a decoder, before it allocates,
 * how much address space the limit still leaves, so that a decode known
 * not to fit is refused with the figures instead of failing part way.
 * It reads the address space in use from /proc/self/statm, through a
 * descriptor wp_memory_limit_open() keeps from the plugin's init on (so
 * that a job opens no path: workers may be denied /proc), or else
 * through the path.
 */

#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

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

#define STATM_PATH "/proc/self/statm"

/* /proc/self/statm, kept open by wp_memory_limit_open(); -1 when not. */
static int statm_fd = -1;

/**
 * wp_memory_limit_open:
 *
 * Opens /proc/self/statm and keeps it open until wp_memory_limit_close(),
 * for wp_memory_limit_get_headroom() to read without opening a path;
 * nothing when it is open already or cannot be opened.  Called from the
 * plugin's init, in the worker's main thread.
 */
void
wp_memory_limit_open (void)
{
  if (statm_fd < 0)
    statm_fd = open (STATM_PATH, O_RDONLY | O_CLOEXEC);
}

/**
 * wp_memory_limit_close:
 *
 * Closes what wp_memory_limit_open() opened.
 */
void
wp_memory_limit_close (void)
{
  if (statm_fd >= 0)
    close (statm_fd);
  statm_fd = -1;
}

/* The process's address space in bytes (VmSize), from /proc: with the
 * descriptor kept open (pread() at 0 makes the kernel write the figures
 * afresh), or else opening the path; 0 when it cannot be read. */
static guint64
address_space_size (void)
{
  char text[128];
  long page_size = sysconf (_SC_PAGESIZE);
  gssize n = -1;
  int fd = statm_fd;

  if (fd < 0)
    fd = open (STATM_PATH, O_RDONLY | O_CLOEXEC);
  if (fd >= 0)
    {
      do
        n = pread (fd, text, sizeof text - 1, 0);
      while (n < 0 && errno == EINTR);
      if (fd != statm_fd)
        close (fd);
    }
  if (n <= 0 || page_size <= 0)
    return 0;

  text[n] = '\0';
  return (guint64) g_ascii_strtoull (text, NULL, 10) * (guint64) page_size;
}

/**
 * wp_memory_limit_get_headroom:
 * @limit: (out): the soft RLIMIT_AS in bytes
 * @headroom: (out): what the limit leaves above the address space in use
 *   now, 0 when none is left
 *
 * Returns: %FALSE when this process runs under no RLIMIT_AS (the outputs
 *   are then left alone)
 */
gboolean
wp_memory_limit_get_headroom (guint64 *limit,
                              guint64 *headroom)
{
  struct rlimit rlimit;
  guint64 in_use;

  if (getrlimit (RLIMIT_AS, &rlimit) != 0 || rlimit.rlim_cur == RLIM_INFINITY)
    return FALSE;

  in_use = address_space_size ();
  *limit = (guint64) rlimit.rlim_cur;
  *headroom = *limit > in_use ? *limit - in_use : 0;
  return TRUE;
}
