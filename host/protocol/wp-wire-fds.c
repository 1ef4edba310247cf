/* wp-wire-fds.c: file descriptors that travel with a job.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Frames travel on pipes (wp-wire.c), which cannot carry descriptors, so
 * each worker has a second channel beside them: a SOCK_SEQPACKET Unix
 * socket pair (WP_WIRE_FDS_FD in the worker).  It carries datagrams only,
 * each the 12 bytes of WP_WIRE_FDS_HEADER_SIZE (job id, count) with the
 * job's descriptors as SCM_RIGHTS.  A frame says that a datagram belongs
 * to it by its kind (WP_WIRE_CALL_FDS, WP_WIRE_RESULT_FDS), and the
 * datagram is always sent before its frame's first byte, so the reader
 * of the frame finds it already queued: the host reads it without
 * waiting, and the worker's blocking read returns at once.  Datagrams
 * come in the order of their frames, one per such frame, even for a job
 * the worker skips (it reads and closes them), so the two channels never
 * drift apart; a datagram for another job is a protocol error.  Plain
 * CALL and RESULT frames never touch the socket.
 *
 * In a message's body each `h` is an index into its datagram's
 * descriptors, as in D-Bus.  The worker maps them to its own descriptor
 * numbers before the plugin sees the arguments (wp_wire_handles_map()),
 * and maps the descriptors of a result back to indices
 * (wp_wire_handles_collect()).  A datagram may carry descriptors that no
 * `h` names, as D-Bus allows; they are closed with the rest.
 *
 * Everything received is untrusted: the count must match the
 * descriptors, at most WP_WIRE_MAX_FDS, nothing truncated, no ancillary
 * data but SCM_RIGHTS; each index must be in range.  Whatever fails, every
 * descriptor received is closed before the error is returned, and each
 * arrives with O_CLOEXEC (MSG_CMSG_CLOEXEC), so none leaks into a child.
 */

#include "config.h"

#include "wp-wire-fds-private.h"
#include "wp-wire-private.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <workpool/wp-error.h>

static void
put_header (guint8  *data,
            guint64  job_id,
            guint32  n_fds)
{
  job_id = GUINT64_TO_LE (job_id);
  n_fds = GUINT32_TO_LE (n_fds);
  memcpy (data, &job_id, 8);
  memcpy (data + 8, &n_fds, 4);
}

gboolean
wp_wire_fds_send (int         socket,
                  guint64     job_id,
                  const int  *fds,
                  guint       n_fds,
                  GError    **error)
{
  guint8 data[WP_WIRE_FDS_HEADER_SIZE];
  union {
    struct cmsghdr header;
    char           space[CMSG_SPACE (WP_WIRE_MAX_FDS * sizeof (int))];
  } control;
  struct iovec iov = { data, sizeof data };
  struct msghdr msg = { 0, };
  ssize_t n;

  g_assert (n_fds <= WP_WIRE_MAX_FDS);

  put_header (data, job_id, n_fds);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (n_fds > 0)
    {
      struct cmsghdr *cmsg;

      memset (&control, 0, sizeof control);
      msg.msg_control = control.space;
      msg.msg_controllen = CMSG_SPACE (n_fds * sizeof (int));
      cmsg = CMSG_FIRSTHDR (&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN (n_fds * sizeof (int));
      memcpy (CMSG_DATA (cmsg), fds, n_fds * sizeof (int));
    }

  do
    n = sendmsg (socket, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);

  if (n != (ssize_t) sizeof data)
    {
      int saved = n < 0 ? errno : EIO;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot send %u file descriptors: %s", n_fds, g_strerror (saved));
      return FALSE;
    }

  return TRUE;
}

/* Sends the descriptors of @frame (see wp_wire_frame_set_fds()), once,
 * before any byte of it. */
gboolean
wp_wire_frame_send_fds (WpWireFrame  *frame,
                        int           socket,
                        GError      **error)
{
  guint64 job_id;

  g_assert (frame->fds_due && frame->written == 0);

  memcpy (&job_id, frame->head + WP_WIRE_HEADER_SIZE + 8, sizeof job_id);
  if (!wp_wire_fds_send (socket, GUINT64_FROM_LE (job_id), frame->fds, frame->n_fds, error))
    return FALSE;
  frame->fds_due = FALSE;
  return TRUE;
}

void
wp_wire_fds_close (int   *fds,
                   guint  n_fds)
{
  for (guint i = 0; i < n_fds; i++)
    if (fds[i] >= 0)
      close (fds[i]);
}

/* What a datagram must be, with what recvmsg() said of it: the oracle of
 * the fuzz harness too. */
gboolean
wp_wire_fds_check (const guint8  *data,
                   gsize          size,
                   gboolean       truncated,
                   guint          n_received,
                   guint64        job_id,
                   GError       **error)
{
  guint64 id;
  guint32 count;

  if (truncated || size != WP_WIRE_FDS_HEADER_SIZE)
    return wp_wire_protocol_error (error, "Malformed file descriptor message (%" G_GSIZE_FORMAT
                                   " bytes%s)", size, truncated ? ", truncated" : "");

  memcpy (&id, data, 8);
  memcpy (&count, data + 8, 4);
  id = GUINT64_FROM_LE (id);
  count = GUINT32_FROM_LE (count);

  if (id != job_id)
    return wp_wire_protocol_error (error, "File descriptors for job %" G_GUINT64_FORMAT
                                   " came where those of job %" G_GUINT64_FORMAT " were due",
                                   id, job_id);
  if (count > WP_WIRE_MAX_FDS)
    return wp_wire_protocol_error (error, "%u file descriptors announced for one job, over the "
                                   "limit of %u", count, WP_WIRE_MAX_FDS);
  if (count != n_received)
    return wp_wire_protocol_error (error, "%u file descriptors announced for job %"
                                   G_GUINT64_FORMAT ", %u received", count, job_id, n_received);
  return TRUE;
}

/* The datagram of @job_id, which must be queued already unless @wait.
 * Gives its descriptors (O_CLOEXEC, owned by the caller, in an array to
 * g_free(); NULL and 0 if none), or FALSE with @error set and every
 * descriptor received closed. */
gboolean
wp_wire_fds_receive (int        socket,
                     guint64    job_id,
                     gboolean   wait,
                     int      **out_fds,
                     guint     *n_fds,
                     GError   **error)
{
  /* One byte and one descriptor more than allowed, to see them. */
  guint8 data[WP_WIRE_FDS_HEADER_SIZE + 1];
  union {
    struct cmsghdr header;
    char           space[CMSG_SPACE ((WP_WIRE_MAX_FDS + 1) * sizeof (int))];
  } control;
  struct iovec iov = { data, sizeof data };
  struct msghdr msg = { 0, };
  g_autofree int *fds = NULL;
  guint n_received = 0;
  gboolean bad_control = FALSE;
  ssize_t n;

  *out_fds = NULL;
  *n_fds = 0;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.space;
  msg.msg_controllen = sizeof control.space;

  do
    n = recvmsg (socket, &msg, MSG_CMSG_CLOEXEC | (wait ? 0 : MSG_DONTWAIT));
  while (n < 0 && errno == EINTR);

  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    {
      wp_wire_protocol_error (error, "The file descriptors of job %" G_GUINT64_FORMAT
                              " did not come before its message", job_id);
      return FALSE;
    }
  if (n < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot receive file descriptors: %s", g_strerror (saved));
      return FALSE;
    }
  fds = g_new (int, WP_WIRE_MAX_FDS + 1);
  for (struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg); cmsg != NULL; cmsg = CMSG_NXTHDR (&msg, cmsg))
    {
      if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS
          && cmsg->cmsg_len >= CMSG_LEN (0))
        {
          gsize count = (cmsg->cmsg_len - CMSG_LEN (0)) / sizeof (int);

          for (gsize i = 0; i < count; i++)
            {
              int fd;

              memcpy (&fd, CMSG_DATA (cmsg) + i * sizeof (int), sizeof fd);
              if (n_received < WP_WIRE_MAX_FDS + 1)
                fds[n_received++] = fd;
              else
                {
                  close (fd);
                  bad_control = TRUE;
                }
            }
        }
      else
        bad_control = TRUE;
    }

  /* An empty datagram reads as the end of the stream, and may carry
   * descriptors all the same. */
  if (n == 0)
    {
      wp_wire_fds_close (fds, n_received);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                   "The file descriptor socket is closed");
      return FALSE;
    }

  if (bad_control || (msg.msg_flags & MSG_CTRUNC) != 0)
    {
      wp_wire_fds_close (fds, n_received);
      wp_wire_protocol_error (error, "Malformed file descriptor message (more descriptors "
                              "than allowed, or data other than descriptors)");
      return FALSE;
    }

  if (!wp_wire_fds_check (data, (gsize) n, (msg.msg_flags & MSG_TRUNC) != 0, n_received,
                          job_id, error))
    {
      wp_wire_fds_close (fds, n_received);
      return FALSE;
    }

  *n_fds = n_received;
  if (n_received > 0)
    *out_fds = g_steal_pointer (&fds);
  return TRUE;
}

/* Handles */

gboolean
wp_wire_has_handles (GVariant *value)
{
  return strchr (g_variant_get_type_string (value), 'h') != NULL;
}

/* @map NULL: checks each handle against @n_map and keeps it; else each
 * handle i becomes map[i].  @collect non-NULL instead: each handle is a
 * descriptor, appended to @collect, and becomes its index there. */
static GVariant *
rebuild (GVariant   *value,
         const int  *map,
         guint       n_map,
         GArray     *collect,
         GError    **error)
{
  const GVariantType *type = g_variant_get_type (value);
  g_autofree GVariant **children = NULL;
  gsize n_children;
  GVariant *result = NULL;

  if (strchr (g_variant_get_type_string (value), 'h') == NULL)
    return g_variant_ref (value);

  if (g_variant_type_equal (type, G_VARIANT_TYPE_HANDLE))
    {
      gint32 handle = g_variant_get_handle (value);

      if (collect != NULL)
        {
          g_array_append_val (collect, handle);
          return g_variant_ref_sink (g_variant_new_handle ((gint32) collect->len - 1));
        }
      if (handle < 0 || (guint) handle >= n_map)
        {
          wp_wire_protocol_error (error, "File descriptor index %d is out of range (%u "
                                  "descriptors came with the message)", handle, n_map);
          return NULL;
        }
      return g_variant_ref_sink (g_variant_new_handle (map != NULL ? map[handle] : handle));
    }

  n_children = g_variant_n_children (value);
  children = g_new0 (GVariant *, n_children + 1);
  for (gsize i = 0; i < n_children; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (value, i);

      children[i] = rebuild (child, map, n_map, collect, error);
      if (children[i] == NULL)
        goto out;
    }

  if (g_variant_type_is_variant (type))
    result = g_variant_new_variant (children[0]);
  else if (g_variant_type_is_maybe (type))
    result = g_variant_new_maybe (g_variant_type_element (type), children[0]);
  else if (g_variant_type_is_array (type))
    result = g_variant_new_array (g_variant_type_element (type), children, n_children);
  else if (g_variant_type_is_dict_entry (type))
    result = g_variant_new_dict_entry (children[0], children[1]);
  else
    result = g_variant_new_tuple (children, n_children);
  g_variant_ref_sink (result);

out:
  for (gsize i = 0; i < n_children; i++)
    g_clear_pointer (&children[i], g_variant_unref);
  return result;
}

/* A copy of @value (not floating) whose handles are indices below @n_map
 * mapped through @map (or only checked, if @map is NULL), or NULL with
 * @error set if one is out of range. */
GVariant *
wp_wire_handles_map (GVariant   *value,
                     const int  *map,
                     guint       n_map,
                     GError    **error)
{
  return rebuild (value, map, n_map, NULL, error);
}

/* A copy of @value (not floating) whose handles, taken as descriptors,
 * are appended to @fds (of int) and replaced by their index there. */
GVariant *
wp_wire_handles_collect (GVariant *value,
                         GArray   *fds)
{
  return rebuild (value, NULL, 0, fds, NULL);
}
