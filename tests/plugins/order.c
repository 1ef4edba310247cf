/* order.c: a test plugin whose jobs wait until the test lets them go, and
 * whose jobs record the order they run in.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * "wait" (FIFO, STARTED) appends the worker's pid to the file STARTED
 * (unless it is "") to say that it runs, then waits for one byte on the
 * FIFO, or for its end (every writer gone), or for its GCancellable; it
 * returns the worker's pid, or fails with G_IO_ERROR_CANCELLED.  The test
 * makes the FIFO and holds it open (O_RDWR, so opening never blocks) and
 * writes one byte to let exactly one waiting job go: a worker stays busy
 * for exactly as long as the test says, with no sleep anywhere.
 *
 * "record" (FILE, TOKEN) appends "TOKEN\n" to FILE (O_APPEND, one write,
 * so that lines of two workers never mix) and returns the token, how many
 * "record" jobs this worker process has run (1 for its first) and its
 * pid.  The file is the order in which jobs ran, across all workers.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <workpool/wp-plugin.h>

static guint32 n_recorded;

static gboolean
append_line (const char  *path,
             const char  *line,
             GError     **error)
{
  gsize length = strlen (line);
  ssize_t written;
  int fd;

  fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot open %s: %s", path, g_strerror (saved_errno));
      return FALSE;
    }

  written = write (fd, line, length);
  close (fd);
  if (written != (ssize_t) length)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot append to %s", path);
      return FALSE;
    }

  return TRUE;
}

static GVariant *
wait_gate (GVariant      *args,
           GCancellable  *cancellable,
           GError       **error)
{
  const char *fifo, *started;
  GPollFD fds[2];
  guint n_fds = 1;
  gboolean cancelled = FALSE;
  gboolean failed = FALSE;
  int fd;

  g_variant_get (args, "(&s&s)", &fifo, &started);

  if (*started != '\0')
    {
      g_autofree char *line = g_strdup_printf ("%d\n", (int) getpid ());

      if (!append_line (started, line, error))
        return NULL;
    }

  /* Non-blocking: the test holds the FIFO open, so this never waits for a
   * writer, and a read finds either the byte, nothing yet, or the end. */
  fd = open (fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot open %s: %s", fifo, g_strerror (saved_errno));
      return NULL;
    }

  fds[0].fd = fd;
  fds[0].events = G_IO_IN | G_IO_HUP;
  if (g_cancellable_make_pollfd (cancellable, &fds[1]))
    n_fds = 2;

  for (;;)
    {
      char byte;
      ssize_t n;

      if (g_cancellable_is_cancelled (cancellable))
        {
          cancelled = TRUE;
          break;
        }

      n = read (fd, &byte, 1);
      if (n >= 0)
        break;  /* the byte, or the end of the FIFO */
      if (errno != EAGAIN && errno != EINTR)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Cannot read %s: %s", fifo, g_strerror (saved_errno));
          failed = TRUE;
          break;
        }

      fds[0].revents = 0;
      if (n_fds == 2)
        fds[1].revents = 0;
      g_poll (fds, n_fds, -1);
    }

  if (n_fds == 2)
    g_cancellable_release_fd (cancellable);
  close (fd);

  if (cancelled)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "wait was cancelled");
      return NULL;
    }
  if (failed)
    return NULL;

  return g_variant_new ("(i)", (gint32) getpid ());
}

static GVariant *
record (GVariant      *args,
        GCancellable  *cancellable,
        GError       **error)
{
  const char *path, *token;
  g_autofree char *line = NULL;

  g_variant_get (args, "(&s&s)", &path, &token);
  line = g_strconcat (token, "\n", NULL);
  if (!append_line (path, line, error))
    return NULL;

  return g_variant_new ("(sui)", token, ++n_recorded, (gint32) getpid ());
}

static const WpFunction functions[] = {
  { "wait", "(ss)", "(i)", wait_gate,
    "Notes its start in a file, then waits for a byte on a FIFO; returns the pid" },
  { "record", "(ss)", "(sui)", record,
    "Appends a token to a file; returns it, the worker's count of records and pid" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "order", "1.0", "Jobs that wait for the test, and a record of the order jobs run in",
  functions,
};

WP_PLUGIN_DEFINE (plugin)
