/* hostile.c: a test plugin that tries to escape its worker, as an exploit
 * inside a decoder would.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each attempt really makes the system calls and returns the errno it
 * got (0: it worked), so a test can hold the same job to succeeding in
 * an unconfined worker and failing in a sandboxed one: read reads a
 * file, open only opens one, write creates and writes one, rename and
 * unlink do that, socket makes a socket of a family, connect connects to
 * "tcp:PORT" on 127.0.0.1 or "unix:PATH", bus connects to a D-Bus address, spawn
 * starts a process (fork, vfork, clone) or a thread, exec runs /bin/sh
 * (the sandbox kills the worker for it), x32 makes a call through the x32
 * ABI (likewise), truncate truncates a file by path, ptrace attaches to a process,
 * signal sends one to a process, write_fd writes to a descriptor it was
 * given, and status reports the worker's RLIMIT_CORE, RLIMIT_NOFILE,
 * no-new-privs flag and open descriptors.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <workpool/wp-plugin.h>

static int
errno_of (int result)
{
  return result < 0 ? errno : 0;
}

static GVariant *
hostile_read (GVariant      *args,
              GCancellable  *cancellable,
              GError       **error)
{
  const char *path;
  char byte;
  int fd;

  g_variant_get (args, "(&s)", &path);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return g_variant_new ("(i)", errno);
  if (read (fd, &byte, 1) < 0)
    {
      int saved = errno;

      close (fd);
      return g_variant_new ("(i)", saved);
    }
  close (fd);
  return g_variant_new ("(i)", 0);
}

static GVariant *
hostile_open (GVariant      *args,
              GCancellable  *cancellable,
              GError       **error)
{
  const char *path;
  int fd;

  g_variant_get (args, "(&s)", &path);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return g_variant_new ("(i)", errno);
  close (fd);
  return g_variant_new ("(i)", 0);
}

static GVariant *
hostile_write (GVariant      *args,
               GCancellable  *cancellable,
               GError       **error)
{
  const char *path;
  int fd;

  g_variant_get (args, "(&s)", &path);
  fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return g_variant_new ("(i)", errno);
  if (write (fd, "pwned\n", 6) != 6)
    {
      int saved = errno;

      close (fd);
      return g_variant_new ("(i)", saved);
    }
  close (fd);
  return g_variant_new ("(i)", 0);
}

static GVariant *
hostile_rename (GVariant      *args,
                GCancellable  *cancellable,
                GError       **error)
{
  const char *from, *to;

  g_variant_get (args, "(&s&s)", &from, &to);
  return g_variant_new ("(i)", errno_of (rename (from, to)));
}

static GVariant *
hostile_unlink (GVariant      *args,
                GCancellable  *cancellable,
                GError       **error)
{
  const char *path;

  g_variant_get (args, "(&s)", &path);
  return g_variant_new ("(i)", errno_of (unlink (path)));
}

static GVariant *
hostile_socket (GVariant      *args,
                GCancellable  *cancellable,
                GError       **error)
{
  gint32 family;
  int fd;

  g_variant_get (args, "(i)", &family);
  fd = socket (family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return g_variant_new ("(i)", errno);
  close (fd);
  return g_variant_new ("(i)", 0);
}

static int
connect_to (const char *where)
{
  struct sockaddr_storage address = { 0, };
  socklen_t length;
  int fd, res, saved;

  if (g_str_has_prefix (where, "tcp:"))
    {
      struct sockaddr_in *in = (struct sockaddr_in *) &address;

      in->sin_family = AF_INET;
      in->sin_port = htons ((guint16) g_ascii_strtoull (where + 4, NULL, 10));
      in->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
      length = sizeof *in;
    }
  else
    {
      struct sockaddr_un *un = (struct sockaddr_un *) &address;

      un->sun_family = AF_UNIX;
      g_strlcpy (un->sun_path, where + strlen ("unix:"), sizeof un->sun_path);
      length = sizeof *un;
    }

  fd = socket (address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return errno;
  res = connect (fd, (struct sockaddr *) &address, length);
  saved = errno;
  close (fd);
  return res < 0 ? saved : 0;
}

static GVariant *
hostile_connect (GVariant      *args,
                 GCancellable  *cancellable,
                 GError       **error)
{
  const char *where;

  g_variant_get (args, "(&s)", &where);
  return g_variant_new ("(i)", connect_to (where));
}

/* "" when it connected to the bus at the address, else the error. */
static GVariant *
hostile_bus (GVariant      *args,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *address;

  g_variant_get (args, "(&s)", &address);
  connection = g_dbus_connection_new_for_address_sync (
      address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
      | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, cancellable, &local_error);
  if (connection == NULL)
    return g_variant_new ("(s)", local_error->message);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  return g_variant_new ("(s)", "");
}

static gpointer
thread_main (gpointer data)
{
  return data;
}

/* A child that exits at once, reaped here; the errno of its start. */
static int
reap (pid_t pid)
{
  int status;

  if (pid < 0)
    return errno;
  if (pid == 0)
    _exit (0);
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  return 0;
}

static GVariant *
hostile_spawn (GVariant      *args,
               GCancellable  *cancellable,
               GError       **error)
{
  const char *how;
  pthread_t thread;
  int res;

  g_variant_get (args, "(&s)", &how);
  if (g_str_equal (how, "fork"))
    return g_variant_new ("(i)", reap (fork ()));
  if (g_str_equal (how, "vfork"))
    {
      /* The child borrows this stack: it may only _exit(). */
      pid_t pid = vfork ();

      if (pid == 0)
        _exit (0);
      return g_variant_new ("(i)", reap (pid));
    }
  if (g_str_equal (how, "clone"))
    return g_variant_new ("(i)", reap ((pid_t) syscall (SYS_clone, SIGCHLD, NULL, NULL, NULL,
                                                        NULL)));
  if (g_str_equal (how, "thread"))
    {
      res = pthread_create (&thread, NULL, thread_main, NULL);
      if (res == 0)
        pthread_join (thread, NULL);
      return g_variant_new ("(i)", res);
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no way to spawn called %s", how);
  return NULL;
}

static GVariant *
hostile_exec (GVariant      *args,
              GCancellable  *cancellable,
              GError       **error)
{
  execl ("/bin/sh", "sh", "-c", "exit 0", (char *) NULL);
  return g_variant_new ("(i)", errno);
}

/* getpid() through x32's system call numbers, an ABI the sandbox does
 * not admit. */
static GVariant *
hostile_x32 (GVariant      *args,
             GCancellable  *cancellable,
             GError       **error)
{
#ifdef __x86_64__
  return g_variant_new ("(i)", errno_of ((int) syscall (0x40000000 | SYS_getpid)));
#else
  return g_variant_new ("(i)", ENOSYS);
#endif
}

static GVariant *
hostile_truncate (GVariant      *args,
                  GCancellable  *cancellable,
                  GError       **error)
{
  const char *path;

  g_variant_get (args, "(&s)", &path);
  return g_variant_new ("(i)", errno_of (truncate (path, 0)));
}

static GVariant *
hostile_ptrace (GVariant      *args,
                GCancellable  *cancellable,
                GError       **error)
{
  gint32 pid;

  g_variant_get (args, "(i)", &pid);
  if (ptrace (PTRACE_ATTACH, (pid_t) pid, NULL, NULL) < 0)
    return g_variant_new ("(i)", errno);
  ptrace (PTRACE_DETACH, (pid_t) pid, NULL, NULL);
  return g_variant_new ("(i)", 0);
}

static GVariant *
hostile_signal (GVariant      *args,
                GCancellable  *cancellable,
                GError       **error)
{
  gint32 pid, signum;

  g_variant_get (args, "(ii)", &pid, &signum);
  return g_variant_new ("(i)", errno_of (kill ((pid_t) pid, signum)));
}

static GVariant *
hostile_write_fd (GVariant      *args,
                  GCancellable  *cancellable,
                  GError       **error)
{
  gint32 fd;

  g_variant_get (args, "(h)", &fd);
  return g_variant_new ("(i)", write (fd, "written\n", 8) == 8 ? 0 : errno);
}

static GVariant *
hostile_status (GVariant      *args,
                GCancellable  *cancellable,
                GError       **error)
{
  GVariantBuilder fds;
  struct rlimit core, files;
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (getrlimit (RLIMIT_CORE, &core) != 0 || getrlimit (RLIMIT_NOFILE, &files) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "getrlimit: %s", g_strerror (errno));
      return NULL;
    }

  g_variant_builder_init (&fds, G_VARIANT_TYPE ("ai"));
  dir = g_dir_open ("/proc/self/fd", 0, error);
  if (dir == NULL)
    return NULL;
  while ((name = g_dir_read_name (dir)) != NULL)
    g_variant_builder_add (&fds, "i", (gint32) g_ascii_strtoll (name, NULL, 10));

  return g_variant_new ("(ttbai)", (guint64) core.rlim_cur, (guint64) files.rlim_max,
                        prctl (PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1, &fds);
}

static const WpFunction functions[] = {
  { "read", "(s)", "(i)", hostile_read, "Reads a byte of a file" },
  { "open", "(s)", "(i)", hostile_open, "Opens a file for reading" },
  { "write", "(s)", "(i)", hostile_write, "Creates and writes a file" },
  { "rename", "(ss)", "(i)", hostile_rename, "Renames a file" },
  { "unlink", "(s)", "(i)", hostile_unlink, "Removes a file" },
  { "socket", "(i)", "(i)", hostile_socket, "Makes a socket of an address family" },
  { "connect", "(s)", "(i)", hostile_connect, "Connects to tcp:PORT on 127.0.0.1 or unix:PATH" },
  { "bus", "(s)", "(s)", hostile_bus, "Connects to a D-Bus address" },
  { "spawn", "(s)", "(i)", hostile_spawn, "Starts a process (fork, vfork, clone) or a thread" },
  { "exec", "()", "(i)", hostile_exec, "Runs /bin/sh" },
  { "x32", "()", "(i)", hostile_x32, "Calls getpid() through the x32 ABI" },
  { "truncate", "(s)", "(i)", hostile_truncate, "Truncates a file by its path" },
  { "ptrace", "(i)", "(i)", hostile_ptrace, "Attaches to a process" },
  { "signal", "(ii)", "(i)", hostile_signal, "Sends a signal to a process" },
  { "write_fd", "(h)", "(i)", hostile_write_fd, "Writes to a descriptor it was given" },
  { "status", "()", "(ttbai)", hostile_status,
    "RLIMIT_CORE, RLIMIT_NOFILE's hard limit, no-new-privs and the open descriptors" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "hostile", "1.0", "Tries to escape its worker", functions,
};

WP_PLUGIN_DEFINE (plugin)
