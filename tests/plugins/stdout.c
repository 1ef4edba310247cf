/* stdout.c: a test plugin that writes to its standard output.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers "a plugin that writes to stdout must not corrupt the protocol":
 * "chatty" writes well over a pipe buffer's worth of text, through stdio
 * and straight to file descriptor 1, mixed with bytes that look like a
 * frame (a length prefix, NULs, a serialized GVariant) and binary garbage,
 * and then returns its argument.  If fd 1 were the worker's protocol pipe,
 * the host would read this as replies.
 */

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <workpool/wp-plugin.h>

#define CHATTY_LINES 2000  /* about 130 KiB */

static void
write_fd1 (const void *data,
           gsize       size)
{
  const char *p = data;

  while (size > 0)
    {
      gssize n = write (STDOUT_FILENO, p, size);

      if (n < 0)
        return;  /* nothing to report: the output is noise anyway */
      p += n;
      size -= (gsize) n;
    }
}

static GVariant *
chatty (GVariant      *args,
        GCancellable  *cancellable,
        GError       **error)
{
  static const guint8 fake_frame[] = {
    0x00, 0x00, 0x00, 0x10,                          /* a length prefix */
    '(', 's', ')', 0x00, 'h', 'i', 0x00, 0x03,       /* GVariant-ish */
    0xff, 0xfe, 0x00, 0x01, 0x7f, 0x80, 0xde, 0xad,  /* garbage */
    0x10, 0x00, 0x00, 0x00,                          /* a little-endian length */
    0xff, 0xff, 0xff, 0xff,                          /* a huge length */
  };
  g_autoptr(GVariant) frame_like = g_variant_ref_sink (g_variant_new ("(s)", "not a reply"));

  for (guint i = 0; i < CHATTY_LINES; i++)
    {
      printf ("chatty line %u: the quick brown fox jumps over the lazy dog\n", i);
      if (i % 100 == 0)
        {
          fwrite (fake_frame, 1, sizeof fake_frame, stdout);
          fwrite (g_variant_get_data (frame_like), 1,
                  g_variant_get_size (frame_like), stdout);
        }
    }
  fflush (stdout);

  for (guint i = 0; i < 64; i++)
    write_fd1 (fake_frame, sizeof fake_frame);

  printf ("chatty: done\n");
  fflush (stdout);

  return g_variant_ref (args);
}

static const WpFunction functions[] = {
  { "chatty", "(s)", "(s)", chatty, "Writes a lot to stdout, then returns its argument" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "stdout", "1.0", "Writes to stdout", functions,
};

WP_PLUGIN_DEFINE (plugin)
