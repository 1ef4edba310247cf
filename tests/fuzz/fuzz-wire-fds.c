/* fuzz-wire-fds.c: any bytes as a datagram on a worker's descriptor socket.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The datagram goes through a real SOCK_SEQPACKET socket pair, with as
 * many descriptors attached as the input says (dups of /dev/null, up to
 * 100: over the limit of 64 a job may carry), and is read back with
 * wp_wire_fds_receive() as job 1, as either end reads it (wp-wire-fds.c).
 * The oracle: it is accepted exactly when wp_wire_fds_check() says so of
 * the bytes and the count sent; every descriptor accepted is close-on-exec;
 * and once they are closed, the process has exactly the descriptors it had
 * before, whether the datagram was accepted or not.
 *
 * Input: one byte of descriptor count, then the datagram's bytes (up to
 * 64).
 */

#include "config.h"

#include "fuzz-harness.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <workpool/wp-error.h>

#include "wp-wire-fds-private.h"

#define MAX_SENT  100
#define MAX_BYTES 64

static guint
count_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert (dir != NULL);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n - 1;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) expected_error = NULL;
  g_autofree int *received = NULL;
  int sent[MAX_SENT];
  char control[CMSG_SPACE (sizeof sent)];
  struct iovec iov;
  struct msghdr msg = { 0, };
  int pair[2];
  guint n_sent, n_received, before;
  gboolean ok, expected;

  if (size < 1 || size - 1 > MAX_BYTES)
    return 0;
  n_sent = MIN (data[0], MAX_SENT);
  data++;
  size--;

  before = count_fds ();
  g_assert (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) == 0);

  for (guint i = 0; i < n_sent; i++)
    g_assert ((sent[i] = open ("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
  iov.iov_base = (void *) data;
  iov.iov_len = size;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (n_sent > 0)
    {
      struct cmsghdr *cmsg;

      memset (control, 0, sizeof control);
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE (n_sent * sizeof (int));
      cmsg = CMSG_FIRSTHDR (&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN (n_sent * sizeof (int));
      memcpy (CMSG_DATA (cmsg), sent, n_sent * sizeof (int));
    }
  g_assert (sendmsg (pair[1], &msg, MSG_NOSIGNAL) == (ssize_t) size);
  for (guint i = 0; i < n_sent; i++)
    close (sent[i]);

  ok = wp_wire_fds_receive (pair[0], 1, FALSE, &received, &n_received, &error);

  if (size == 0)
    {
      /* An empty datagram reads as the end of the stream. */
      g_assert (!ok);
    }
  else
    {
      expected = n_sent <= WP_WIRE_MAX_FDS + 1
                 && wp_wire_fds_check (data, size, FALSE, n_sent, 1, &expected_error);
      g_assert (ok == expected);
    }

  if (ok)
    {
      g_assert_no_error (error);
      g_assert (n_received == n_sent);
      for (guint i = 0; i < n_received; i++)
        {
          g_assert (fcntl (received[i], F_GETFD) & FD_CLOEXEC);
          close (received[i]);
        }
    }
  else
    {
      g_assert (error != NULL);
      g_assert (received == NULL && n_received == 0);
    }

  close (pair[0]);
  close (pair[1]);
  g_assert (count_fds () == before);
  return 0;
}
