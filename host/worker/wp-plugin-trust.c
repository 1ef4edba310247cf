/* wp-plugin-trust.c: which plugin files may be loaded.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Loading a plugin runs its code (its constructors run inside dlopen()),
 * so a plugin is only as trustworthy as the people who can change it.
 * The rule is OpenSSH's for its own files (StrictModes):
 *
 *   The plugin file and the directory it is in must each be owned by
 *   root or by the user running the pool (the effective uid), and be
 *   writable by nobody but that owner: no group-write, no other-write.
 *
 * A symbolic link is judged by its target: the target file, and the
 * directory the target is in.  The plugin directory, where the link is,
 * is checked too, since whoever can write it can add or swap names.  A
 * plugin that breaks the rule is refused with WP_POOL_ERROR_PLUGIN_INVALID
 * naming the file or directory and the owner or mode at fault.
 *
 * Decisions:
 *  - A sticky world-writable directory (like /tmp) is refused like any
 *    other writable one: the sticky bit stops others from removing or
 *    renaming your files, but not from adding names, and a name added
 *    there can be a link to any library owned by root, which the rule
 *    would then accept.
 *  - The group is not trusted even when it is the owner's private group
 *    (Debian and Ubuntu give users a group of their own and often a
 *    umask of 002): telling a private group from a shared one needs the
 *    whole group database, and OpenSSH does not try either.  A user with
 *    umask 002 must chmod go-w their plugins and plugin directory.
 *  - Ancestors of the directories are not checked (OpenSSH walks up to
 *    the home directory; the rule here is the documented one, and
 *    it lets a private folder under /tmp hold plugins).  Anything a
 *    stranger could put in place of a checked directory through a
 *    writable ancestor is owned by that stranger and refused; what stays
 *    possible is swapping in a directory that root or you own, and the
 *    race described in wp-plugin-loader.c.
 *
 * The checks are made on what was opened, not on names looked up again:
 * the caller passes the fstat() of its open plugin descriptor, each
 * directory is opened (O_PATH) and fstat()ed, and the directory entry
 * found in it (without following links) must be that very file (device
 * and inode).  So the directory checked is the one that holds the file
 * checked, or the plugin is refused as having changed while it was
 * checked.
 *
 * The worker applies the rule before every dlopen().  The host does not:
 * it would be a second, earlier check of the same files on the path of
 * every job, and the worker's check would still be needed.
 */

#include "config.h"

#include "wp-plugin-trust-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <workpool/wp-error.h>

#include "wp-error-private.h"

/* A plugin this rule refuses. */
#define fail(error, ...) wp_pool_error_fail ((error), WP_POOL_ERROR_PLUGIN_INVALID, __VA_ARGS__)

static const char *
writers (mode_t mode)
{
  switch (mode & (S_IWGRP | S_IWOTH))
    {
    case S_IWGRP:
      return "its group";
    case S_IWOTH:
      return "others";
    default:
      return "its group and others";
    }
}

/* What breaks the rule, gathered over every file and directory checked,
 * so that one refusal names every problem and the command that fixes the
 * modes. */
typedef struct {
  GString   *problems;   /* "; " between them */
  GPtrArray *writable;   /* paths to chmod go-w */
} Verdict;

static void
verdict_init (Verdict *verdict)
{
  verdict->problems = g_string_new (NULL);
  verdict->writable = g_ptr_array_new_with_free_func (g_free);
}

static void
verdict_clear (Verdict *verdict)
{
  g_string_free (verdict->problems, TRUE);
  g_ptr_array_unref (verdict->writable);
}

static void
verdict_add (Verdict    *verdict,
             const char *format,
             ...) G_GNUC_PRINTF (2, 3);

static void
verdict_add (Verdict    *verdict,
             const char *format,
             ...)
{
  va_list args;

  if (verdict->problems->len > 0)
    g_string_append (verdict->problems, "; ");
  va_start (args, format);
  g_string_append_vprintf (verdict->problems, format, args);
  va_end (args);
}

/* The rule on one file or directory: owned by root or @user, and
 * writable by its owner only. */
static void
verdict_check_stat (Verdict           *verdict,
                    const struct stat *st,
                    const char        *path,
                    uid_t              user)
{
  const char *what = S_ISDIR (st->st_mode) ? "directory" : "file";

  if (st->st_uid != 0 && st->st_uid != user)
    {
      if (user == 0)
        verdict_add (verdict, "%s %s is owned by uid %u, but must be owned by root, "
                     "the user running the pool", what, path, (guint) st->st_uid);
      else
        verdict_add (verdict, "%s %s is owned by uid %u, but must be owned by root "
                     "or by uid %u, the user running the pool",
                     what, path, (guint) st->st_uid, (guint) user);
    }

  if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
    {
      verdict_add (verdict, "%s %s is writable by %s (mode %04o), but only its owner "
                   "may write to a plugin or to its directory",
                   what, path, writers (st->st_mode), (guint) (st->st_mode & 07777));
      g_ptr_array_add (verdict->writable, g_strdup (path));
    }
}

/* FALSE with @error naming every problem, and the chmod that fixes the
 * modes, if there is any; TRUE if there is none. */
static gboolean
verdict_finish (Verdict  *verdict,
                GError  **error)
{
  g_autoptr(GString) fix = NULL;

  if (verdict->problems->len == 0)
    return TRUE;

  if (verdict->writable->len == 0)
    return fail (error, "%s", verdict->problems->str);

  fix = g_string_new ("chmod go-w");
  for (guint i = 0; i < verdict->writable->len; i++)
    {
      g_autofree char *quoted = g_shell_quote (g_ptr_array_index (verdict->writable, i));

      g_string_append_printf (fix, " %s", quoted);
    }
  return fail (error, "%s (fix the modes with: %s)", verdict->problems->str, fix->str);
}

/*
 * wp_plugin_trust_check_stat:
 * @st: the status of a plugin file or directory
 * @path: its path, for the message
 * @user: the uid running the pool
 *
 * The rule itself, on one file or directory: owned by root or @user, and
 * writable by its owner only.
 */
gboolean
wp_plugin_trust_check_stat (const struct stat  *st,
                            const char         *path,
                            uid_t               user,
                            GError            **error)
{
  Verdict verdict;
  gboolean trusted;

  verdict_init (&verdict);
  verdict_check_stat (&verdict, st, path, user);
  trusted = verdict_finish (&verdict, error);
  verdict_clear (&verdict);

  return trusted;
}

/* Opens the directory @path without reading it, and applies the rule to
 * it.  Returns the descriptor, or -1 when it cannot be opened. */
static int
open_checked_dir (Verdict     *verdict,
                  const char  *path,
                  uid_t        user,
                  GError     **error)
{
  struct stat st;
  int fd = open (path, O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    {
      int saved_errno = errno;

      fail (error, "cannot open directory %s: %s", path, g_strerror (saved_errno));
      return -1;
    }

  if (fstat (fd, &st) != 0)
    {
      int saved_errno = errno;

      close (fd);
      fail (error, "cannot stat directory %s: %s", path, g_strerror (saved_errno));
      return -1;
    }

  verdict_check_stat (verdict, &st, path, user);
  return fd;
}

/* The entry @name of the directory @path, checked, not followed if it is
 * a link. */
static gboolean
stat_entry (Verdict      *verdict,
            const char   *path,
            const char   *name,
            uid_t         user,
            struct stat  *entry,
            GError      **error)
{
  int dir_fd = open_checked_dir (verdict, path, user, error);
  int saved_errno;
  int status;

  if (dir_fd < 0)
    return FALSE;

  status = fstatat (dir_fd, name, entry, AT_SYMLINK_NOFOLLOW);
  saved_errno = errno;
  close (dir_fd);

  if (status != 0)
    return fail (error, "cannot stat %s in %s: %s", name, path, g_strerror (saved_errno));

  return TRUE;
}

static gboolean
same_file (const struct stat *a,
           const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Checks @file_st as the file at @path, whose directory entry is @entry. */
static gboolean
check_file (Verdict            *verdict,
            const struct stat  *file_st,
            const struct stat  *entry,
            const char         *path,
            uid_t               user,
            GError            **error)
{
  if (!same_file (entry, file_st))
    return fail (error, "%s changed while it was being checked", path);

  verdict_check_stat (verdict, file_st, path, user);
  return TRUE;
}

/* @link, in a plugin directory, is a symbolic link to the file of
 * @file_st: checks that file and its directory, and returns its path. */
static gboolean
check_link_target (Verdict            *verdict,
                   const char         *link,
                   const struct stat  *file_st,
                   uid_t               user,
                   char              **real_path,
                   GError            **error)
{
  g_autofree char *target = realpath (link, NULL);
  g_autofree char *target_dir = NULL;
  g_autofree char *target_name = NULL;
  struct stat entry;

  if (target == NULL)
    {
      int saved_errno = errno;

      return fail (error, "cannot resolve the link %s: %s", link, g_strerror (saved_errno));
    }

  target_dir = g_path_get_dirname (target);
  target_name = g_path_get_basename (target);
  if (!stat_entry (verdict, target_dir, target_name, user, &entry, error)
      || !check_file (verdict, file_st, &entry, target, user, error))
    return FALSE;

  *real_path = g_steal_pointer (&target);
  return TRUE;
}

/*
 * wp_plugin_trust_check:
 * @plugin_dir: the plugin directory
 * @file_name: the plugin's file name in it ("NAME.so")
 * @file_st: the fstat() of the plugin file, opened by its path in
 *   @plugin_dir (following links)
 * @real_path: (out): the path of the file checked, the link's target
 *   if @file_name is a link; the path to load
 * @error: a WP_POOL_ERROR_PLUGIN_INVALID that names everything that breaks
 *   the rule, and the chmod that fixes the modes
 *
 * Applies the rule to the plugin directory, to the plugin file and, if
 * @file_name is a link, to the directory of its target.
 */
gboolean
wp_plugin_trust_check (const char         *plugin_dir,
                       const char         *file_name,
                       const struct stat  *file_st,
                       char              **real_path,
                       GError            **error)
{
  g_autofree char *path = g_build_filename (plugin_dir, file_name, NULL);
  g_autofree char *checked = NULL;
  uid_t user = geteuid ();
  struct stat entry;
  Verdict verdict;
  gboolean trusted;

  g_assert (real_path != NULL && *real_path == NULL);

  verdict_init (&verdict);
  if (!stat_entry (&verdict, plugin_dir, file_name, user, &entry, error))
    trusted = FALSE;
  else if (S_ISLNK (entry.st_mode))
    trusted = check_link_target (&verdict, path, file_st, user, &checked, error)
              && verdict_finish (&verdict, error);
  else
    trusted = check_file (&verdict, file_st, &entry, path, user, error)
              && verdict_finish (&verdict, error);
  verdict_clear (&verdict);

  if (trusted)
    *real_path = checked != NULL ? g_steal_pointer (&checked) : g_steal_pointer (&path);
  return trusted;
}
