/* thumbnail.c (stall): a stand-in for the thumbnail plugin whose jobs never end.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Named "thumbnail" with the real plugin's `write` and `write_fds`
 * signatures, so that
 * `workpool thumbnail --plugin-dir` this folder submits jobs that hang in
 * C code and ignore their cancellable, as a decoder stuck on a hopeless
 * file would: only the job's timeout, which kills the worker, ends them.
 *
 * With $WP_TEST_SNOOP set, a job instead tries to read that path, as an
 * exploit in a decoder would, and fails saying whether it could: the
 * sandbox test of the command.
 */

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <workpool/wp-plugin.h>

static GVariant *
write_never (GVariant      *args,
            GCancellable  *cancellable,
            GError       **error)
{
  const char *snoop = g_getenv ("WP_TEST_SNOOP");

  if (snoop != NULL)
    {
      int fd = open (snoop, O_RDONLY | O_CLOEXEC);
      int saved = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, fd >= 0 ? "snooped on %s"
                   : "could not snoop on %s: %s", snoop, g_strerror (saved));
      return NULL;
    }

  for (;;)
    pause ();
  return NULL;
}

static const WpFunction functions[] = {
  { "write", "(sa(sii)a{sv})", "(a(ii)a{sv})", write_never, "Never returns" },
  { "write_fds", "(ha(hii)a{sv})", "(a(ii)a{sv})", write_never, "Never returns" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "thumbnail", "0",
  "Jobs that never end",
  functions,
};

WP_PLUGIN_DEFINE (plugin)
