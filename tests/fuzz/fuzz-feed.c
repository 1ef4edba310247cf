/* fuzz-feed.c: feeds fuzz input to a real WpWireReader through a pipe.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The input is one byte of chunk size, then the bytes a peer would write:
 * they go into a non-blocking pipe that many at a time (0: 4096), and
 * after each chunk the reader reads until the pipe is empty, as the main
 * loop of either end would; then the write end closes, so the reader
 * sees EOF, possibly in the middle of a frame.  Chunks never exceed the
 * pipe's capacity, because the pipe is drained after each.
 *
 * Every outcome is asserted: a message has a body of its kind's type,
 * in normal form by GLib's own check (wp-variant-check.c is a fast path
 * that must agree with it); an error is a GError that says what was
 * wrong; reading stops at the first error, as both ends do.  A crash, an
 * over-read (ASan), undefined behaviour (UBSan) or a leak is the bug
 * being hunted.
 */

#include "config.h"

#include "fuzz-harness.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <glib-unix.h>
#include <workpool/wp-error.h>

#define WHOLE_CHUNK 4096

static gsize
pipe_pending (int fd)
{
  int pending = 0;

  g_assert (ioctl (fd, FIONREAD, &pending) == 0);
  return (gsize) pending;
}

/* Reads what is in the pipe.  Returns TRUE when reading is over: EOF,
 * an error of the reader, or one of @handle. */
static gboolean
drain (WpWireReader  *reader,
       int            fd,
       WpFuzzHandler  handle)
{
  for (;;)
    {
      WpWireMessage message = { 0, };
      g_autoptr(GError) error = NULL;
      gboolean handled;

      switch (wp_wire_reader_next (reader, fd, &message, &error))
        {
        case WP_WIRE_READ_AGAIN:
          g_assert_no_error (error);
          /* AGAIN may follow a read that emptied the pipe or one that left
           * bytes in it; only an empty pipe needs the next chunk. */
          if (pipe_pending (fd) == 0)
            return FALSE;
          break;

        case WP_WIRE_READ_EOF:
          g_assert_no_error (error);
          return TRUE;

        case WP_WIRE_READ_ERROR:
          /* Nothing but the bytes is wrong here, so every error is one of
           * the protocol, never an I/O error. */
          g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_PROTOCOL);
          g_assert (error->message[0] != '\0');
          return TRUE;

        case WP_WIRE_READ_MESSAGE:
          g_assert_no_error (error);
          g_assert (message.body != NULL && !g_variant_is_floating (message.body));
          /* wp-variant-check.c must never accept what GLib would not. */
          g_assert (g_variant_is_normal_form (message.body));
          handled = handle (&message, &error);
          wp_wire_message_clear (&message);
          if (!handled)
            {
              g_assert (error != NULL && error->message[0] != '\0');
              return TRUE;
            }
          g_assert_no_error (error);
          break;

        default:
          g_assert_not_reached ();
        }
    }
}

void
wp_fuzz_feed_reader (const guint8  *data,
                     gsize          size,
                     gsize          max_frame,
                     WpFuzzHandler  handle)
{
  g_autoptr(WpWireReader) reader = wp_wire_reader_new (max_frame);
  g_autoptr(GError) error = NULL;
  gboolean over = FALSE;
  gsize chunk;
  int fds[2];

  if (size == 0)
    return;
  chunk = data[0] != 0 ? data[0] : WHOLE_CHUNK;
  data++;
  size--;

  if (!g_unix_open_pipe (fds, FD_CLOEXEC, &error)
      || !g_unix_set_fd_nonblocking (fds[0], TRUE, &error))
    g_error ("Cannot make a pipe: %s", error->message);

  for (gsize offset = 0; offset < size && !over; offset += chunk)
    {
      gsize length = MIN (chunk, size - offset);
      ssize_t written;

      do
        written = write (fds[1], data + offset, length);
      while (written < 0 && errno == EINTR);
      g_assert_cmpint (written, ==, (ssize_t) length);

      over = drain (reader, fds[0], handle);
    }

  close (fds[1]);
  if (!over)
    g_assert (drain (reader, fds[0], handle));
  close (fds[0]);
}
