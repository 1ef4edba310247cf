/* wp-sandbox.c: the strict sandbox of a worker process.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * wp_sandbox_enter() confines the calling process for the rest of its
 * life, with the kernel's own mechanisms and no helper process:
 *
 *   descriptors  every descriptor above 2 but those the worker keeps
 *                (its protocol pipes and sockets) is pointed at /dev/null:
 *                nothing the process held reaches a file, socket or pipe
 *   rlimits      RLIMIT_CORE 0 (no core dumps), RLIMIT_NOFILE
 *                WP_SANDBOX_MAX_FILES, soft and hard
 *   prctl        PR_SET_NO_NEW_PRIVS; PR_SET_DUMPABLE 0, so no other
 *                process of the user can ptrace it or read its memory
 *   Landlock     at the best ABI the kernel offers (or
 *                $WORKPOOL_TEST_LANDLOCK_ABI, lower, for tests): every
 *                file-system right that ABI knows is handled, and only
 *                reading and executing are allowed, beneath the system's
 *                read-only locations (/usr, /lib*, /etc/ld.so.cache,
 *                /etc/localtime, the font configuration and cache), the
 *                plugin directory, this executable's directory,
 *                $GDK_PIXBUF_MODULE_FILE and the loader modules it
 *                names, /dev/null, /dev/zero,
 *                /dev/urandom and this process's
 *                own /proc/self; nothing may be written, created,
 *                renamed, linked, truncated or removed anywhere.  ABI 4
 *                and later: no TCP bind or connect; ABI 6 and later: no
 *                abstract Unix socket outside the domain, no signal to a
 *                process outside it
 *   seccomp      a filter (libseccomp) on the native architecture only
 *                (other architectures' calls kill the process): no socket
 *                of any family, no connect, bind, listen or accept; no
 *                new process (fork, vfork, clone without CLONE_THREAD;
 *                clone3, whose flags a filter cannot read, is ENOSYS so
 *                that the C library falls back to clone, and threads
 *                work); ptrace, process_vm_*, pidfd_*, kcmp refused; kill,
 *                tgkill, rt_sigqueueinfo and rt_tgsigqueueinfo only to
 *                this process, tkill never; the namespace, mount, module,
 *                kexec, BPF, perf, io_uring, userfaultfd, key-ring,
 *                handle-open and TIOCSTI escape hatches refused; truncate()
 *                by path refused, which Landlock before ABI 3 allows.  These
 *                fail with EPERM (ENOSYS for clone3); execve and
 *                execveat, which no plugin has a reason to call, kill the
 *                process (SIGSYS), which the pool reports as a crash
 *                caused by the sandbox
 *
 * Landlock applies to the calling thread and the threads it starts later,
 * and the seccomp filter likewise: call it before the process starts any
 * thread.  Without Landlock or seccomp in the kernel it fails and changes
 * nothing a plugin could tell; the worker then refuses every job rather
 * than run one unconfined.
 *
 * $WORKPOOL_TEST_SANDBOX_FOLDER, for test suites only, names a folder
 * that stays readable and writable; the description then says so.
 *
 * In a -Db_sanitize build the sanitizer's report folder
 * ($WORKPOOL_WORKER_SANITIZER_LOG's) stays writable, so that reports
 * still reach the test suite.
 */

#include "config.h"

#include "wp-sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gio/gio.h>

/* Room for a job's descriptors (WP_WIRE_MAX_FDS) and what decoders open. */
#define WP_SANDBOX_MAX_FILES 256

/* Landlock, spelled out here: Debian 12's headers stop at ABI 2. */
#define LL_FS_EXECUTE      (1ULL << 0)
#define LL_FS_READ_FILE    (1ULL << 2)
#define LL_FS_READ_DIR     (1ULL << 3)
#define LL_FS_WRITE_FILE   (1ULL << 1)
#define LL_FS_MAKE_REG     (1ULL << 8)
#define LL_FS_ABI1_ALL     ((1ULL << 13) - 1)
#define LL_FS_REFER        (1ULL << 13)
#define LL_FS_TRUNCATE     (1ULL << 14)
#define LL_FS_IOCTL_DEV    (1ULL << 15)
#define LL_NET_BIND_TCP    (1ULL << 0)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LL_SCOPE_SIGNAL    (1ULL << 1)
#define LL_CREATE_RULESET_VERSION (1U << 0)
#define LL_RULE_PATH_BENEATH 1

typedef struct {
  guint64 handled_access_fs;
  guint64 handled_access_net;
  guint64 scoped;
} LandlockRulesetAttr;

typedef struct __attribute__((packed)) {
  guint64 allowed_access;
  gint32  parent_fd;
} LandlockPathBeneathAttr;

#define READ_ONLY_FILE (LL_FS_EXECUTE | LL_FS_READ_FILE)
#define READ_ONLY_DIR  (READ_ONLY_FILE | LL_FS_READ_DIR)

static const char * const system_read_only[] = {
  "/usr", "/lib", "/lib64", "/lib32", "/libx32",
  "/etc/ld.so.cache", "/etc/localtime", "/etc/fonts", "/var/cache/fontconfig",
  "/dev/null", "/dev/zero", "/dev/urandom", "/proc/self",
};

static gboolean
fail_errno (GError     **error,
            int          saved_errno,
            const char  *format,
            ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail_errno (GError     **error,
            int          saved_errno,
            const char  *format,
            ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               "The sandbox cannot be set up: %s: %s", what, g_strerror (saved_errno));
  return FALSE;
}

static gboolean
is_kept (int        fd,
         const int *keep_fds,
         guint      n_keep_fds)
{
  for (guint i = 0; i < n_keep_fds; i++)
    if (keep_fds[i] == fd)
      return TRUE;
  return FALSE;
}

/* Points every descriptor above 2 but @keep_fds at /dev/null.  Not
 * closed: the C library may still write to a number it opened itself
 * (ld.so's LD_DEBUG_OUTPUT), which a job's file could otherwise take. */
static gboolean
neutralize_other_fds (const int  *keep_fds,
                      guint       n_keep_fds,
                      GError    **error)
{
  g_autoptr(GArray) unwanted = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *name;
  int devnull;

  devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0)
    return fail_errno (error, errno, "opening /dev/null");

  dir = g_dir_open ("/proc/self/fd", 0, &local_error);
  if (dir == NULL)
    {
      close (devnull);
      return fail_errno (error, EACCES, "listing its descriptors: %s", local_error->message);
    }

  /* GDir's own descriptor is in the listing: closed first, by GDir, and
   * so skipped below. */
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      int fd = (int) g_ascii_strtoll (name, NULL, 10);

      if (fd > 2 && fd != devnull && !is_kept (fd, keep_fds, n_keep_fds))
        g_array_append_val (unwanted, fd);
    }
  g_clear_pointer (&dir, g_dir_close);

  for (guint i = 0; i < unwanted->len; i++)
    {
      int fd = g_array_index (unwanted, int, i);

      if (fcntl (fd, F_GETFD) >= 0 && dup3 (devnull, fd, O_CLOEXEC) < 0)
        {
          int saved_errno = errno;

          close (devnull);
          return fail_errno (error, saved_errno, "replacing descriptor %d", fd);
        }
    }
  close (devnull);
  return TRUE;
}

static gboolean
set_rlimit (int          resource,
            rlim_t       value,
            const char  *name,
            GError     **error)
{
  struct rlimit limit;

  if (getrlimit (resource, &limit) != 0)
    return fail_errno (error, errno, "getrlimit(%s)", name);
  if (limit.rlim_max == RLIM_INFINITY || limit.rlim_max > value)
    limit.rlim_max = value;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit (resource, &limit) != 0)
    return fail_errno (error, errno, "setrlimit(%s)", name);
  return TRUE;
}

/* The Landlock ABI to use: the kernel's, or less for tests; 0 for none,
 * with @error saying why. */
static int
landlock_abi (GError **error)
{
  const char *cap = g_getenv ("WORKPOOL_TEST_LANDLOCK_ABI");
  long abi = syscall (SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);

  if (abi < 0)
    {
      int saved_errno = errno;

      fail_errno (error, saved_errno, "the kernel has no Landlock (landlock_create_ruleset)");
      return 0;
    }
  if (cap != NULL && *cap != '\0')
    {
      long capped = MIN (abi, g_ascii_strtoll (cap, NULL, 10));

      if (capped < 1)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       "The sandbox cannot be set up: the kernel has no Landlock "
                       "($WORKPOOL_TEST_LANDLOCK_ABI=%s)", cap);
          return 0;
        }
      abi = capped;
    }
  return (int) abi;
}

static gboolean
allow_path (int          ruleset,
            const char  *path,
            guint64      dir_access,
            guint64      handled,
            GError     **error)
{
  LandlockPathBeneathAttr rule = { 0, };
  struct stat st;
  int fd = open (path, O_PATH | O_CLOEXEC);

  /* A location this system lacks needs no rule. */
  if (fd < 0)
    return errno == ENOENT || errno == ENOTDIR || errno == EACCES
           || fail_errno (error, errno, "opening %s", path);

  if (fstat (fd, &st) != 0)
    {
      int saved_errno = errno;

      close (fd);
      return fail_errno (error, saved_errno, "fstat(%s)", path);
    }

  /* A file takes only the rights of files. */
  rule.allowed_access = S_ISDIR (st.st_mode) ? dir_access
                        : dir_access & (LL_FS_EXECUTE | LL_FS_READ_FILE | LL_FS_WRITE_FILE
                                        | LL_FS_TRUNCATE);
  rule.allowed_access &= handled;
  rule.parent_fd = fd;
  if (syscall (SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &rule, 0) != 0)
    {
      int saved_errno = errno;

      close (fd);
      return fail_errno (error, saved_errno, "landlock_add_rule(%s)", path);
    }
  close (fd);
  return TRUE;
}

/* $WORKPOOL_TEST_SANDBOX_FOLDER: for test suites only, a folder that
 * stays readable and writable, so that tests whose plugins coordinate
 * through files can run sandboxed (`meson test --setup strict`). */
static const char *
get_test_folder (void)
{
  const char *folder = g_getenv ("WORKPOOL_TEST_SANDBOX_FOLDER");

  return folder != NULL && g_path_is_absolute (folder) ? folder : NULL;
}

static char *
dup_executable_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  return exe != NULL ? g_path_get_dirname (exe) : NULL;
}

/* The gdk-pixbuf loader modules that $GDK_PIXBUF_MODULE_FILE names
 * (its lines "/path/to/module.so"), so that a loader added for one
 * program, outside the system's folders, still loads in its workers. */
static gboolean
allow_pixbuf_modules (int          ruleset,
                      const char  *module_file,
                      guint64      handled,
                      GError     **error)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (module_file, &contents, NULL, NULL))
    return TRUE;
  lines = g_strsplit (contents, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      char *path = lines[i] + 1;
      char *end;

      if (!g_str_has_prefix (lines[i], "\"/") || (end = strchr (path, '"')) == NULL)
        continue;
      *end = '\0';
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR)
          && !allow_path (ruleset, path, READ_ONLY_FILE, handled, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
add_landlock_rules (int          ruleset,
                    guint64      handled,
                    const char  *plugin_dir,
                    GError     **error)
{
  g_autofree char *exe_dir = dup_executable_dir ();
  const char *module_file = g_getenv ("GDK_PIXBUF_MODULE_FILE");
  const char *test_folder = get_test_folder ();

  for (gsize i = 0; i < G_N_ELEMENTS (system_read_only); i++)
    if (!allow_path (ruleset, system_read_only[i], READ_ONLY_DIR, handled, error))
      return FALSE;

  if (!allow_path (ruleset, plugin_dir, READ_ONLY_DIR, handled, error)
      || (exe_dir != NULL && !allow_path (ruleset, exe_dir, READ_ONLY_DIR, handled, error))
      || (module_file != NULL && *module_file == '/'
          && (!allow_path (ruleset, module_file, READ_ONLY_FILE, handled, error)
              || !allow_pixbuf_modules (ruleset, module_file, handled, error))))
    return FALSE;

  if (test_folder != NULL
      && !allow_path (ruleset, test_folder, handled & ~LL_FS_IOCTL_DEV, handled, error))
    return FALSE;

#ifdef WP_SANITIZER_BUILD
  {
    const char *log = g_getenv ("WORKPOOL_WORKER_SANITIZER_LOG");

    if (log != NULL)
      {
        g_autofree char *log_dir = g_path_get_dirname (log);

        if (!allow_path (ruleset, log_dir,
                         READ_ONLY_DIR | LL_FS_WRITE_FILE | LL_FS_MAKE_REG | LL_FS_TRUNCATE,
                         handled, error))
          return FALSE;
      }
  }
#endif

  return TRUE;
}

static gboolean
enter_landlock (const char  *plugin_dir,
                int         *abi_out,
                GError     **error)
{
  LandlockRulesetAttr attr = { 0, };
  gsize attr_size;
  int abi = landlock_abi (error);
  int ruleset;

  if (abi == 0)
    return FALSE;

  attr.handled_access_fs = LL_FS_ABI1_ALL;
  attr_size = sizeof (attr.handled_access_fs);
  if (abi >= 2)
    attr.handled_access_fs |= LL_FS_REFER;
  if (abi >= 3)
    attr.handled_access_fs |= LL_FS_TRUNCATE;
  if (abi >= 4)
    {
      attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
      attr_size = G_STRUCT_OFFSET (LandlockRulesetAttr, scoped);
    }
  if (abi >= 5)
    attr.handled_access_fs |= LL_FS_IOCTL_DEV;
  if (abi >= 6)
    {
      attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
      attr_size = sizeof (attr);
    }

  ruleset = (int) syscall (SYS_landlock_create_ruleset, &attr, attr_size, 0);
  if (ruleset < 0)
    return fail_errno (error, errno, "landlock_create_ruleset (ABI %d)", abi);

  if (!add_landlock_rules (ruleset, attr.handled_access_fs, plugin_dir, error))
    {
      close (ruleset);
      return FALSE;
    }

  if (syscall (SYS_landlock_restrict_self, ruleset, 0) != 0)
    {
      int saved_errno = errno;

      close (ruleset);
      return fail_errno (error, saved_errno, "landlock_restrict_self");
    }
  close (ruleset);
  *abi_out = abi;
  return TRUE;
}

/* Adds a rule for @name, a call this architecture may not have. */
static gboolean
add_seccomp_rule (scmp_filter_ctx               ctx,
                  guint32                       action,
                  const char                   *name,
                  guint                         n_args,
                  const struct scmp_arg_cmp    *arg,
                  GError                      **error)
{
  int nr = seccomp_syscall_resolve_name (name);
  int res;

  if (nr == __NR_SCMP_ERROR)
    return TRUE;

  res = n_args == 0 ? seccomp_rule_add (ctx, action, nr, 0)
                    : seccomp_rule_add_array (ctx, action, nr, n_args, arg);
  if (res != 0)
    return fail_errno (error, -res, "seccomp_rule_add(%s)", name);
  return TRUE;
}

static const char * const refused_calls[] = {
  /* sockets: none may be made or used to reach anyone */
  "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
  /* by path, which Landlock handles only from ABI 3 (ftruncate() of a
   * descriptor the plugin was given stays allowed) */
  "truncate",
  /* processes */
  "fork", "vfork", "tkill", "ptrace", "process_vm_readv", "process_vm_writev",
  "pidfd_open", "pidfd_send_signal", "pidfd_getfd", "kcmp",
  /* escape hatches */
  "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount",
  "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
  "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
  "io_uring_register", "keyctl", "add_key", "request_key", "init_module",
  "finit_module", "delete_module", "kexec_load", "kexec_file_load",
  "open_by_handle_at", "name_to_handle_at", "quotactl", "acct", "swapon",
  "swapoff", "reboot", "syslog", "uselib", "fanotify_init", "process_madvise",
};

/* Signals: only to this process. */
static const char * const self_signal_calls[] = {
  "kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
};

static gboolean
add_seccomp_rules (scmp_filter_ctx   ctx,
                   GError          **error)
{
  const guint32 eperm = SCMP_ACT_ERRNO (EPERM);
  struct scmp_arg_cmp no_thread = SCMP_A0 (SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0);
  struct scmp_arg_cmp other_process = SCMP_A0 (SCMP_CMP_NE, (scmp_datum_t) getpid ());
  struct scmp_arg_cmp tiocsti = SCMP_A1 (SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI);

  for (gsize i = 0; i < G_N_ELEMENTS (refused_calls); i++)
    if (!add_seccomp_rule (ctx, eperm, refused_calls[i], 0, NULL, error))
      return FALSE;

  for (gsize i = 0; i < G_N_ELEMENTS (self_signal_calls); i++)
    if (!add_seccomp_rule (ctx, eperm, self_signal_calls[i], 1, &other_process, error))
      return FALSE;

  return add_seccomp_rule (ctx, eperm, "clone", 1, &no_thread, error)
         && add_seccomp_rule (ctx, SCMP_ACT_ERRNO (ENOSYS), "clone3", 0, NULL, error)
         && add_seccomp_rule (ctx, eperm, "ioctl", 1, &tiocsti, error)
         && add_seccomp_rule (ctx, SCMP_ACT_KILL_PROCESS, "execve", 0, NULL, error)
         && add_seccomp_rule (ctx, SCMP_ACT_KILL_PROCESS, "execveat", 0, NULL, error);
}

static gboolean
enter_seccomp (GError **error)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  int res;

  if (ctx == NULL)
    return fail_errno (error, ENOMEM, "seccomp_init");

  if (!add_seccomp_rules (ctx, error))
    {
      seccomp_release (ctx);
      return FALSE;
    }

  /* The native architecture only: a call made through another ABI
   * (int 0x80, x32) kills the process. */
  res = seccomp_attr_set (ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  /* A binary tree of the rules, rather than a list: fewer BPF
   * instructions for every system call the plugin makes. */
  if (res == 0)
    res = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (res == 0)
    res = seccomp_load (ctx);
  seccomp_release (ctx);
  if (res != 0)
    return fail_errno (error, -res, "the kernel refused the seccomp filter (seccomp_load)");
  return TRUE;
}

/**
 * wp_sandbox_enter:
 * @plugin_dir: the plugin directory, which stays readable
 * @keep_fds: the descriptors above 2 to keep open
 * @n_keep_fds: the length of @keep_fds
 * @description: (out): on success, the mechanisms in force, such as
 *   "landlock (ABI 7), seccomp, no-new-privs, rlimits"
 * @error: return location for an error naming what is missing
 *
 * Confines this process for good, as the top of this file says.  Call
 * before the process starts any thread.  A failure may leave the
 * descriptors closed and the limits set, but never a partial filter
 * presented as a sandbox: the caller must then run no plugin code.
 */
gboolean
wp_sandbox_enter (const char  *plugin_dir,
                  const int   *keep_fds,
                  guint        n_keep_fds,
                  char       **description,
                  GError     **error)
{
  int abi = 0;

  g_assert (plugin_dir != NULL);

  if (!neutralize_other_fds (keep_fds, n_keep_fds, error)
      || !set_rlimit (RLIMIT_CORE, 0, "RLIMIT_CORE", error)
      || !set_rlimit (RLIMIT_NOFILE, WP_SANDBOX_MAX_FILES, "RLIMIT_NOFILE", error))
    return FALSE;

  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return fail_errno (error, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
  if (prctl (PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    return fail_errno (error, errno, "prctl(PR_SET_DUMPABLE)");

  if (!enter_landlock (plugin_dir, &abi, error) || !enter_seccomp (error))
    return FALSE;

  if (get_test_folder () != NULL)
    *description = g_strdup_printf ("landlock (ABI %d), seccomp, no-new-privs, rlimits; "
                                    "writable for tests: %s", abi, get_test_folder ());
  else
    *description = g_strdup_printf ("landlock (ABI %d), seccomp, no-new-privs, rlimits", abi);
  return TRUE;
}
