/* test-plugin-trust.c: plugins that anyone else could have changed are
 * refused.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The rule (host/worker/wp-plugin-trust.c): the plugin file and its
 * directory must be owned by root or the user running the pool, and
 * writable by their owner only; a link is judged by its target, the
 * target's directory, and the plugin directory it sits in.  Each case
 * builds its own layout in a private temporary folder (mode 0700):
 *
 *   plugins/        0755, the pool's plugin directory
 *   plugins/echo.so 0644, a copy of the echo test plugin
 *
 * or, for the link cases,
 *
 *   plugins/echo.so -> ../lib/echo-real.so
 *   lib/            0755
 *   lib/echo-real.so 0644
 *
 * then breaks one thing with chmod or chown, and checks that a call and
 * wp_pool_describe_async() both fail with WP_POOL_ERROR_PLUGIN_INVALID
 * naming the file or directory and the mode or owner at fault.  Every
 * mode is set with chmod, so the umask of whoever runs the tests cannot
 * change a case.  Changing the owner needs root: not running as root,
 * those cases skip and say so.
 *
 * The /plugin-trust/rule cases apply the rule itself
 * (wp_plugin_trust_check_stat(), compiled into this test) to made-up
 * owners and modes, for what no file can show in one run: a file owned
 * by root is trusted by any user, one owned by the user too.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "wp-plugin-trust-private.h"
#include "wp-test-util.h"

#define OTHER_UID 65534   /* "nobody": any uid but root's and ours */

typedef struct {
  WpTestFixture base;
  char *plugins;       /* the plugin directory */
  char *lib;           /* where the link cases' target lives */
  char *file;          /* the plugin file itself: the link's target, if any */
  char *link;          /* plugins/echo.so, when it is a link */
} TrustFixture;

typedef enum {
  LAYOUT_FILE,
  LAYOUT_LINK,
} Layout;

static void
set_mode (const char *path,
          int         mode)
{
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
}

static char *
make_dir (const char *parent,
          const char *name)
{
  char *dir = g_build_filename (parent, name, NULL);

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  set_mode (dir, 0755);
  return dir;
}

/* The path the worker names in its messages: links resolved, as a
 * $TMPDIR given through a link would be. */
static char *
real_path (const char *path)
{
  char *resolved = realpath (path, NULL);

  g_assert_nonnull (resolved);
  return resolved;
}

static void
trust_setup (TrustFixture  *fixture,
             gconstpointer  data)
{
  Layout layout = GPOINTER_TO_INT (data);
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = NULL;

  wp_test_fixture_setup_tmp (&fixture->base, NULL);
  tmp = real_path (fixture->base.tmp_dir);
  fixture->plugins = make_dir (tmp, "plugins");
  fixture->lib = make_dir (tmp, "lib");

  if (layout == LAYOUT_LINK)
    {
      wp_test_copy_plugin ("echo", fixture->lib, "echo-real.so");
      fixture->file = g_build_filename (fixture->lib, "echo-real.so", NULL);
      fixture->link = g_build_filename (fixture->plugins, "echo.so", NULL);
      g_assert_cmpint (symlink ("../lib/echo-real.so", fixture->link), ==, 0);
    }
  else
    {
      wp_test_copy_plugin ("echo", fixture->plugins, "echo.so");
      fixture->file = g_build_filename (fixture->plugins, "echo.so", NULL);
    }
  set_mode (fixture->file, 0644);

  fixture->base.pool = wp_pool_new (fixture->plugins, 1, &error);
  g_assert_no_error (error);
}

static void
trust_teardown (TrustFixture  *fixture,
                gconstpointer  data)
{
  wp_test_fixture_teardown (&fixture->base, NULL);
  g_free (fixture->plugins);
  g_free (fixture->lib);
  g_free (fixture->file);
  g_free (fixture->link);
}

/* Gives @path (not followed) to OTHER_UID; FALSE, skipping the test and
 * saying why, where that cannot be done: not root, or root in a user
 * namespace that maps no such uid. */
static gboolean
give_to_other_uid (const char *path)
{
  g_autofree char *why = NULL;

  if (geteuid () != 0)
    {
      g_test_skip ("giving a file to another uid needs root, and this test does not run as root");
      return FALSE;
    }

  if (lchown (path, OTHER_UID, (gid_t) -1) == 0)
    return TRUE;

  g_assert_true (errno == EINVAL || errno == EPERM);
  why = g_strdup_printf ("cannot give %s to uid %d: %s (a user namespace without that uid?)",
                         path, OTHER_UID, g_strerror (errno));
  g_test_skip (why);
  return FALSE;
}

/* The echo plugin loads and runs. */
static void
assert_loads (TrustFixture *fixture)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GVariant) description = NULL;

  result = wp_test_call (fixture->base.pool, "echo", "echo",
                         g_variant_new ("(v)", g_variant_new_string ("trusted")), &error);
  g_assert_no_error (error);
  wp_test_assert_variant (result, g_variant_new ("(v)", g_variant_new_string ("trusted")));

  description = wp_test_describe (fixture->base.pool, "echo", &error);
  g_assert_no_error (error);
  g_assert_nonnull (description);
}

static void
assert_not_trusted (const GError *error,
                    const char   *reason)
{
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_PLUGIN_INVALID);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "Plugin 'echo' ("));
  g_assert_nonnull (strstr (error->message, ") is not trusted: "));
  g_assert_nonnull (strstr (error->message, reason));
}

/* A call and a describe of the echo plugin both fail, saying @reason. */
static void
assert_refused (TrustFixture *fixture,
                const char   *reason)
{
  g_autoptr(GError) call_error = NULL;
  g_autoptr(GError) describe_error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GVariant) description = NULL;

  result = wp_test_call (fixture->base.pool, "echo", "noop", NULL, &call_error);
  g_assert_null (result);
  assert_not_trusted (call_error, reason);

  description = wp_test_describe (fixture->base.pool, "echo", &describe_error);
  g_assert_null (description);
  assert_not_trusted (describe_error, reason);

  /* Refusing is not a crash: the one worker goes on. */
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "crashed"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "spawned"), ==, 1);
}

static void
assert_refused_for_mode (TrustFixture *fixture,
                         const char   *kind,
                         const char   *path,
                         const char   *writers,
                         int           mode)
{
  g_autofree char *reason = g_strdup_printf ("%s %s is writable by %s (mode %04o)",
                                             kind, path, writers, mode);

  set_mode (path, mode);
  assert_refused (fixture, reason);
}

static void
assert_refused_for_owner (TrustFixture *fixture,
                          const char   *kind,
                          const char   *path)
{
  g_autofree char *reason = g_strdup_printf ("%s %s is owned by uid %u, but must be owned by root",
                                             kind, path, (guint) OTHER_UID);

  if (give_to_other_uid (path))
    assert_refused (fixture, reason);
}

/* ---- Every problem at once ---- */

static void
test_every_problem (TrustFixture  *fixture,
                    gconstpointer  data)
{
  g_autofree char *dir_reason = NULL;
  g_autofree char *file_reason = NULL;
  g_autofree char *fix = NULL;
  g_autofree char *quoted_dir = g_shell_quote (fixture->plugins);
  g_autofree char *quoted_file = g_shell_quote (fixture->file);

  g_test_summary ("A plugin whose file and directory both break the rule is refused with "
                  "both problems named, and the chmod that fixes them");

  set_mode (fixture->file, 0664);
  set_mode (fixture->plugins, 0775);
  dir_reason = g_strdup_printf ("directory %s is writable by its group (mode 0775)",
                                fixture->plugins);
  file_reason = g_strdup_printf ("file %s is writable by its group (mode 0664)", fixture->file);
  fix = g_strdup_printf ("(fix the modes with: chmod go-w %s %s)", quoted_dir, quoted_file);

  assert_refused (fixture, dir_reason);
  assert_refused (fixture, file_reason);
  assert_refused (fixture, fix);
  set_mode (fixture->plugins, 0755);
}

/* ---- A plain file ---- */

static void
test_good (TrustFixture  *fixture,
           gconstpointer  data)
{
  g_test_summary ("A plugin (0644) in a directory (0755), both ours, loads and runs");
  assert_loads (fixture);
}

static void
test_file_group_writable (TrustFixture  *fixture,
                          gconstpointer  data)
{
  g_test_summary ("A group-writable plugin file is refused");
  assert_refused_for_mode (fixture, "file", fixture->file, "its group", 0664);
}

static void
test_file_other_writable (TrustFixture  *fixture,
                          gconstpointer  data)
{
  g_test_summary ("A plugin file writable by others is refused");
  assert_refused_for_mode (fixture, "file", fixture->file, "others", 0646);
}

static void
test_file_other_owner (TrustFixture  *fixture,
                       gconstpointer  data)
{
  g_test_summary ("A plugin file owned by another user (neither root nor ours) is refused");
  assert_refused_for_owner (fixture, "file", fixture->file);
}

static void
test_dir_group_writable (TrustFixture  *fixture,
                         gconstpointer  data)
{
  g_test_summary ("A group-writable plugin directory is refused");
  assert_refused_for_mode (fixture, "directory", fixture->plugins, "its group", 0775);
}

static void
test_dir_other_writable (TrustFixture  *fixture,
                         gconstpointer  data)
{
  g_test_summary ("A plugin directory writable by others is refused");
  assert_refused_for_mode (fixture, "directory", fixture->plugins, "others", 0757);
}

static void
test_dir_sticky (TrustFixture  *fixture,
                 gconstpointer  data)
{
  g_test_summary ("A sticky world-writable plugin directory (like /tmp) is refused too: "
                  "anyone may add names to it");
  assert_refused_for_mode (fixture, "directory", fixture->plugins, "its group and others", 01777);
}

static void
test_dir_other_owner (TrustFixture  *fixture,
                      gconstpointer  data)
{
  g_test_summary ("A plugin directory owned by another user is refused");
  assert_refused_for_owner (fixture, "directory", fixture->plugins);
}

static void
test_fixed_loads (TrustFixture  *fixture,
                  gconstpointer  data)
{
  g_test_summary ("A refused plugin is not remembered: once its mode is fixed, the next "
                  "job loads it, in the same worker");
  assert_refused_for_mode (fixture, "file", fixture->file, "its group", 0664);
  set_mode (fixture->file, 0644);
  assert_loads (fixture);
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "spawned"), ==, 1);
}

/* ---- A symbolic link ---- */

static void
test_link_good (TrustFixture  *fixture,
                gconstpointer  data)
{
  g_test_summary ("A link to a trusted plugin in a trusted directory loads and runs");
  assert_loads (fixture);
}

static void
test_link_target_writable (TrustFixture  *fixture,
                           gconstpointer  data)
{
  g_test_summary ("A link whose target is writable by others is refused, naming the target");
  assert_refused_for_mode (fixture, "file", fixture->file, "its group and others", 0666);
}

static void
test_link_target_dir_writable (TrustFixture  *fixture,
                               gconstpointer  data)
{
  g_test_summary ("A link whose target is in a group-writable directory is refused, "
                  "naming that directory");
  assert_refused_for_mode (fixture, "directory", fixture->lib, "its group", 0775);
}

static void
test_link_target_other_owner (TrustFixture  *fixture,
                              gconstpointer  data)
{
  g_test_summary ("A link whose target is owned by another user is refused");
  assert_refused_for_owner (fixture, "file", fixture->file);
}

static void
test_link_plugin_dir_writable (TrustFixture  *fixture,
                               gconstpointer  data)
{
  g_test_summary ("A link to a trusted plugin is refused when the plugin directory it "
                  "sits in is writable by others (anyone could swap the link)");
  assert_refused_for_mode (fixture, "directory", fixture->plugins, "others", 0757);
}

static void
test_link_owned_by_other (TrustFixture  *fixture,
                          gconstpointer  data)
{
  g_test_summary ("A link is judged by its target: the link's own owner does not matter");
  if (give_to_other_uid (fixture->link))
    assert_loads (fixture);
}

/* ---- The rule itself ---- */

static void
test_rule (void)
{
  static const struct {
    uid_t       owner;
    uid_t       user;
    int         mode;
    const char *reason;   /* NULL: trusted */
  } cases[] = {
    { 0, 0, S_IFREG | 0644, NULL },
    { 0, 1000, S_IFREG | 0755, NULL },
    { 1000, 1000, S_IFREG | 0600, NULL },
    { 1000, 1000, S_IFDIR | 0755, NULL },
    { 0, 1000, S_IFDIR | 01755, NULL },
    { 1001, 1000, S_IFREG | 0644,
      "file /p is owned by uid 1001, but must be owned by root or by uid 1000, "
      "the user running the pool" },
    { 1000, 0, S_IFDIR | 0755,
      "directory /p is owned by uid 1000, but must be owned by root, the user running the pool" },
    { 1000, 1000, S_IFREG | 0620, "file /p is writable by its group (mode 0620)" },
    { 0, 1000, S_IFDIR | 0757, "directory /p is writable by others (mode 0757)" },
    { 1000, 1000, S_IFDIR | 01777, "directory /p is writable by its group and others (mode 1777)" },
    { 1000, 1000, S_IFREG | 02775, "file /p is writable by its group (mode 2775)" },
  };

  g_test_summary ("The rule: owned by root or the user, writable by the owner only, "
                  "a sticky bit changes nothing");

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      struct stat st = { 0 };
      gboolean trusted;

      st.st_uid = cases[i].owner;
      st.st_mode = cases[i].mode;
      trusted = wp_plugin_trust_check_stat (&st, "/p", cases[i].user, &error);

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, trusted ? "trusted" : error->message);
      if (cases[i].reason == NULL)
        {
          g_assert_no_error (error);
          g_assert_true (trusted);
        }
      else
        {
          g_assert_false (trusted);
          g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_PLUGIN_INVALID);
          g_assert_true (g_str_has_prefix (error->message, cases[i].reason));
        }
    }
}

int
main (int    argc,
      char **argv)
{
  wp_test_init (&argc, &argv);

#define ADD(path, func, layout)                                              \
  g_test_add (path, TrustFixture, GINT_TO_POINTER (layout),                  \
              trust_setup, func, trust_teardown)

  g_test_add_func ("/plugin-trust/rule", test_rule);
  ADD ("/plugin-trust/good", test_good, LAYOUT_FILE);
  ADD ("/plugin-trust/file/group-writable", test_file_group_writable, LAYOUT_FILE);
  ADD ("/plugin-trust/file/other-writable", test_file_other_writable, LAYOUT_FILE);
  ADD ("/plugin-trust/file/other-owner", test_file_other_owner, LAYOUT_FILE);
  ADD ("/plugin-trust/dir/group-writable", test_dir_group_writable, LAYOUT_FILE);
  ADD ("/plugin-trust/dir/other-writable", test_dir_other_writable, LAYOUT_FILE);
  ADD ("/plugin-trust/dir/sticky-world-writable", test_dir_sticky, LAYOUT_FILE);
  ADD ("/plugin-trust/dir/other-owner", test_dir_other_owner, LAYOUT_FILE);
  ADD ("/plugin-trust/fixed-then-loads", test_fixed_loads, LAYOUT_FILE);
  ADD ("/plugin-trust/every-problem", test_every_problem, LAYOUT_FILE);
  ADD ("/plugin-trust/link/good", test_link_good, LAYOUT_LINK);
  ADD ("/plugin-trust/link/target-writable", test_link_target_writable, LAYOUT_LINK);
  ADD ("/plugin-trust/link/target-dir-writable", test_link_target_dir_writable, LAYOUT_LINK);
  ADD ("/plugin-trust/link/target-other-owner", test_link_target_other_owner, LAYOUT_LINK);
  ADD ("/plugin-trust/link/plugin-dir-writable", test_link_plugin_dir_writable, LAYOUT_LINK);
  ADD ("/plugin-trust/link/link-owned-by-other", test_link_owned_by_other, LAYOUT_LINK);

#undef ADD

  return g_test_run ();
}
