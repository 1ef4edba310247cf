/* gate.c: a test plugin whose jobs the test lets through, through FIFOs.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * For tests that must know where a job is without sleeping:
 *
 *   pass (s)    opens the FIFO at PATH for reading and blocks until its
 *               writer closes it, ignoring its GCancellable all along;
 *               returns the worker's pid.  The test holds the job by
 *               keeping the FIFO unopened, and lets it go by opening and
 *               closing it for writing.
 *   signal (s)  writes one line to the FIFO at PATH, which the test holds
 *               open for reading (it blocks until the test opens it):
 *               proof that the job started in the worker; returns the
 *               worker's pid.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <workpool/wp-plugin.h>

static gboolean
set_errno_error (GError     **error,
                 const char  *what,
                 const char  *path)
{
  int saved_errno = errno;

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               "Cannot %s %s: %s", what, path, g_strerror (saved_errno));
  return FALSE;
}

static GVariant *
pass (GVariant      *args,
      GCancellable  *cancellable,
      GError       **error)
{
  const char *path;
  char buffer[64];
  ssize_t n;
  int fd;

  g_variant_get (args, "(&s)", &path);
  do
    fd = open (path, O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    {
      set_errno_error (error, "open", path);
      return NULL;
    }

  do
    n = read (fd, buffer, sizeof buffer);
  while (n > 0 || (n < 0 && errno == EINTR));
  close (fd);

  return g_variant_new ("(i)", (gint32) getpid ());
}

static GVariant *
signal_started (GVariant      *args,
                GCancellable  *cancellable,
                GError       **error)
{
  const char *path;
  const char line[] = "started\n";
  ssize_t written;
  int fd;

  g_variant_get (args, "(&s)", &path);
  do
    fd = open (path, O_WRONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    {
      set_errno_error (error, "open", path);
      return NULL;
    }

  do
    written = write (fd, line, strlen (line));
  while (written < 0 && errno == EINTR);
  close (fd);
  if (written != (ssize_t) strlen (line))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot write to %s", path);
      return NULL;
    }

  return g_variant_new ("(i)", (gint32) getpid ());
}

static const WpFunction functions[] = {
  { "pass", "(s)", "(i)", pass, "Blocks until the FIFO's writer closes it; returns the pid" },
  { "signal", "(s)", "(i)", signal_started, "Writes a line to a FIFO; returns the pid" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "gate", "1.0", "Jobs the test lets through", functions,
};

WP_PLUGIN_DEFINE (plugin)
