/* fds.c: a test plugin that reads, writes and gives away file descriptors.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * For jobs of wp_pool_call_with_unix_fd_list_async(): each `h` it is
 * given is a descriptor of its worker, open until it returns; each `h` it
 * returns is one it gives away.  read reads a descriptor to its end,
 * write writes bytes to one, copy does both, memfd and pipe return new
 * ones holding bytes, label takes an a(sh) and returns one labelled
 * memfd per entry, same returns the descriptor it was given twice (its
 * worker must close it once), bad_handle returns a handle that is no
 * descriptor, too_many returns more than a job may carry, crash aborts
 * with descriptors in flight, wait blocks until cancelled, count_open
 * counts the worker's own open descriptors, and rogue writes on its
 * worker's descriptor socket as an exploit could, then returns a memfd.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <workpool/wp-plugin.h>

/* The worker's descriptor socket (WP_WIRE_FDS_FD), for rogue. */
#define FDS_SOCKET 5

static gboolean
read_to_end (int          fd,
             GByteArray  *bytes,
             GError     **error)
{
  guint8 buffer[4096];

  for (;;)
    {
      ssize_t n = read (fd, buffer, sizeof buffer);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "read(%d): %s", fd, g_strerror (saved));
          return FALSE;
        }
      if (n == 0)
        return TRUE;
      g_byte_array_append (bytes, buffer, (guint) n);
    }
}

static gboolean
write_all (int           fd,
           const guint8 *data,
           gsize         size,
           GError      **error)
{
  while (size > 0)
    {
      ssize_t n = write (fd, data, size);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "write(%d): %s", fd, g_strerror (saved));
          return FALSE;
        }
      data += n;
      size -= (gsize) n;
    }
  return TRUE;
}

static GVariant *
bytes_variant (GByteArray *bytes)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, bytes->data, bytes->len, 1);
}

/* A new memfd holding @data, at offset 0; -1 with @error set. */
static int
new_memfd (const guint8  *data,
           gsize          size,
           GError       **error)
{
  int fd = memfd_create ("fds-plugin", MFD_CLOEXEC);

  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "memfd_create: %s", g_strerror (saved));
      return -1;
    }
  if (!write_all (fd, data, size, error) || lseek (fd, 0, SEEK_SET) != 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static GVariant *
fds_read (GVariant      *args,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  gint32 fd;

  g_variant_get (args, "(h)", &fd);
  if (!read_to_end (fd, bytes, error))
    return NULL;
  return g_variant_new ("(@ay)", bytes_variant (bytes));
}

static GVariant *
fds_write (GVariant      *args,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autoptr(GVariant) data = g_variant_get_child_value (args, 1);
  gsize size;
  const guint8 *bytes = g_variant_get_fixed_array (data, &size, 1);
  gint32 fd;

  g_variant_get_child (args, 0, "h", &fd);
  if (!write_all (fd, bytes, size, error))
    return NULL;
  return g_variant_new ("()");
}

static GVariant *
fds_copy (GVariant      *args,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  gint32 from, to;

  g_variant_get (args, "(hh)", &from, &to);
  if (!read_to_end (from, bytes, error) || !write_all (to, bytes->data, bytes->len, error))
    return NULL;
  return g_variant_new ("(t)", (guint64) bytes->len);
}

static GVariant *
fds_memfd (GVariant      *args,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autoptr(GVariant) data = g_variant_get_child_value (args, 0);
  gsize size;
  const guint8 *bytes = g_variant_get_fixed_array (data, &size, 1);
  int fd = new_memfd (bytes, size, error);

  return fd >= 0 ? g_variant_new ("(h)", fd) : NULL;
}

/* A pipe's read end, its write end written and closed: what a pipe holds
 * fits in its buffer. */
static GVariant *
fds_pipe (GVariant      *args,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autoptr(GVariant) data = g_variant_get_child_value (args, 0);
  gsize size;
  const guint8 *bytes = g_variant_get_fixed_array (data, &size, 1);
  int fds[2];
  gboolean written;

  if (pipe2 (fds, O_CLOEXEC) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "pipe: %s", g_strerror (errno));
      return NULL;
    }
  written = write_all (fds[1], bytes, size, error);
  close (fds[1]);
  if (!written)
    {
      close (fds[0]);
      return NULL;
    }
  return g_variant_new ("(h)", fds[0]);
}

/* a(sh) → a(sh): for each (name, fd), a memfd holding "name:" and what
 * fd holds. */
static GVariant *
fds_label (GVariant      *args,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autoptr(GVariant) entries = g_variant_get_child_value (args, 0);
  g_autoptr(GPtrArray) fds = g_ptr_array_new ();
  GVariantBuilder builder;
  GVariantIter iter;
  const char *name;
  gint32 fd;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sh)"));
  g_variant_iter_init (&iter, entries);
  while (g_variant_iter_next (&iter, "(&sh)", &name, &fd))
    {
      g_autoptr(GByteArray) bytes = g_byte_array_new ();
      int labelled;

      g_byte_array_append (bytes, (const guint8 *) name, (guint) strlen (name));
      g_byte_array_append (bytes, (const guint8 *) ":", 1);
      if (!read_to_end (fd, bytes, error)
          || (labelled = new_memfd (bytes->data, bytes->len, error)) < 0)
        {
          for (guint i = 0; i < fds->len; i++)
            close (GPOINTER_TO_INT (fds->pdata[i]));
          g_variant_builder_clear (&builder);
          return NULL;
        }
      g_ptr_array_add (fds, GINT_TO_POINTER (labelled));
      g_variant_builder_add (&builder, "(sh)", name, labelled);
    }
  return g_variant_new ("(a(sh))", &builder);
}

static GVariant *
fds_same (GVariant      *args,
          GCancellable  *cancellable,
          GError       **error)
{
  gint32 fd;

  g_variant_get (args, "(h)", &fd);
  return g_variant_new ("(hh)", fd, fd);
}

static GVariant *
fds_bad_handle (GVariant      *args,
                GCancellable  *cancellable,
                GError       **error)
{
  return g_variant_new ("(h)", 1000000);
}

static GVariant *
fds_too_many (GVariant      *args,
              GCancellable  *cancellable,
              GError       **error)
{
  GVariantBuilder builder;
  guint32 n;

  g_variant_get (args, "(u)", &n);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("ah"));
  for (guint32 i = 0; i < n; i++)
    {
      int fd = new_memfd ((const guint8 *) "x", 1, error);

      if (fd < 0)
        {
          g_variant_builder_clear (&builder);
          return NULL;
        }
      g_variant_builder_add (&builder, "h", fd);
    }
  return g_variant_new ("(ah)", &builder);
}

static GVariant *
fds_crash (GVariant      *args,
           GCancellable  *cancellable,
           GError       **error)
{
  abort ();
}

/* Blocks until the job is cancelled. */
static GVariant *
fds_wait (GVariant      *args,
          GCancellable  *cancellable,
          GError       **error)
{
  GPollFD pollfd;

  if (!g_cancellable_make_pollfd (cancellable, &pollfd))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no pollable cancellable");
      return NULL;
    }
  while (!g_cancellable_is_cancelled (cancellable))
    g_poll (&pollfd, 1, -1);
  g_cancellable_release_fd (cancellable);
  g_cancellable_set_error_if_cancelled (cancellable, error);
  return NULL;
}

static GVariant *
fds_count_open (GVariant      *args,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, error);
  guint32 n = 0;

  if (dir == NULL)
    return NULL;
  while (g_dir_read_name (dir) != NULL)
    n++;
  /* Not the one GDir holds open. */
  return g_variant_new ("(u)", n - 1);
}

/* Sends a datagram on the worker's descriptor socket announcing
 * @announced descriptors for job @job_id, with @actual memfds; then
 * returns one more, so its worker sends a datagram of its own after. */
static GVariant *
fds_rogue (GVariant      *args,
           GCancellable  *cancellable,
           GError       **error)
{
  guint64 job_id;
  guint32 announced, actual;
  guint8 data[12];
  int fds[100];
  char control[CMSG_SPACE (sizeof fds)];
  struct iovec iov = { data, sizeof data };
  struct msghdr msg = { 0, };
  struct cmsghdr *cmsg;
  guint64 id_le;
  guint32 count_le;
  int fd;

  g_variant_get (args, "(tuu)", &job_id, &announced, &actual);
  actual = MIN (actual, G_N_ELEMENTS (fds));
  id_le = GUINT64_TO_LE (job_id);
  count_le = GUINT32_TO_LE (announced);
  memcpy (data, &id_le, 8);
  memcpy (data + 8, &count_le, 4);
  for (guint32 i = 0; i < actual; i++)
    fds[i] = memfd_create ("rogue", MFD_CLOEXEC);

  memset (control, 0, sizeof control);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (actual > 0)
    {
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE (actual * sizeof (int));
      cmsg = CMSG_FIRSTHDR (&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN (actual * sizeof (int));
      memcpy (CMSG_DATA (cmsg), fds, actual * sizeof (int));
    }
  sendmsg (FDS_SOCKET, &msg, MSG_NOSIGNAL);
  for (guint32 i = 0; i < actual; i++)
    close (fds[i]);

  fd = new_memfd ((const guint8 *) "rogue", 5, error);
  return fd >= 0 ? g_variant_new ("(h)", fd) : NULL;
}

static const WpFunction functions[] = {
  { "read", "(h)", "(ay)", fds_read, "Reads a descriptor to its end" },
  { "write", "(hay)", "()", fds_write, "Writes bytes to a descriptor" },
  { "copy", "(hh)", "(t)", fds_copy, "Copies one descriptor's bytes to another" },
  { "memfd", "(ay)", "(h)", fds_memfd, "Returns a memfd holding the bytes" },
  { "pipe", "(ay)", "(h)", fds_pipe, "Returns a pipe's read end holding the bytes" },
  { "label", "(a(sh))", "(a(sh))", fds_label, "Returns a labelled memfd per entry" },
  { "same", "(h)", "(hh)", fds_same, "Returns its descriptor twice" },
  { "bad_handle", "()", "(h)", fds_bad_handle, "Returns a handle that is no descriptor" },
  { "too_many", "(u)", "(ah)", fds_too_many, "Returns N memfds" },
  { "crash", "(h)", "()", fds_crash, "Aborts" },
  { "wait", "(h)", "()", fds_wait, "Waits until cancelled" },
  { "count_open", "()", "(u)", fds_count_open, "Counts the worker's open descriptors" },
  { "rogue", "(tuu)", "(h)", fds_rogue, "Sends a datagram of its own on the descriptor socket" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "fds", "1.0", "Reads, writes and returns file descriptors", functions,
};

WP_PLUGIN_DEFINE (plugin)
