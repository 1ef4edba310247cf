/* mark.c: a test plugin that leaves a trace of every run.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * "append" adds a line with the worker's pid to the file it is given
 * (O_APPEND, one write per run, so lines from two workers never mix) and
 * returns that pid: a test counts the lines to tell how many times a job
 * ran, which its single callback cannot say.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <workpool/wp-plugin.h>

static GVariant *
append (GVariant      *args,
        GCancellable  *cancellable,
        GError       **error)
{
  g_autofree char *line = g_strdup_printf ("%d\n", (int) getpid ());
  gsize length = strlen (line);
  const char *path;
  ssize_t written;
  int fd;

  g_variant_get (args, "(&s)", &path);
  fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot open %s: %s", path, g_strerror (saved_errno));
      return NULL;
    }

  written = write (fd, line, length);
  close (fd);
  if (written != (ssize_t) length)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot append to %s", path);
      return NULL;
    }

  return g_variant_new ("(i)", (gint32) getpid ());
}

static const WpFunction functions[] = {
  { "append", "(s)", "(i)", append, "Appends the worker's pid to a file; returns it" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "mark", "1.0", "Leaves a trace of every run", functions,
};

WP_PLUGIN_DEFINE (plugin)
