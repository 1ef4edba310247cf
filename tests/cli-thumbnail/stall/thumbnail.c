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
 */

#include <unistd.h>

#include <workpool/wp-plugin.h>

static GVariant *
write_never (GVariant      *args,
            GCancellable  *cancellable,
            GError       **error)
{
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
