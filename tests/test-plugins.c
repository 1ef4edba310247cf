/* test-plugins.c: the plugin directory and what plugins may do.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers wp_pool_list_plugins() (sorted, NULL-terminated, valid names
 * only, new files seen at once), dropping a new plugin into the directory
 * of a running pool, wp_pool_describe_async() ("(sssa(ssss))" and its
 * errors), a plugin whose name is not its file name, and a plugin that
 * writes to stdout, which must not corrupt the protocol.
 */

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "wp-test-util.h"

static void
assert_strv (char              **actual,
             const char * const *expected)
{
  g_autofree char *actual_text = NULL;
  g_autofree char *expected_text = NULL;

  g_assert_nonnull (actual);
  actual_text = g_strjoinv (", ", actual);
  expected_text = g_strjoinv (", ", (char **) expected);
  g_assert_cmpstr (actual_text, ==, expected_text);
  g_assert_cmpuint (g_strv_length (actual), ==, g_strv_length ((char **) expected));
}

/* ---- Listing ---- */

static void
test_list_sorted_valid (WpTestFixture *fixture,
                        gconstpointer  data)
{
  static const char * const expected[] = {
    "Z9", "arith", "echo", "my-plugin", "my_plugin", NULL
  };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) plugins = NULL;

  g_test_summary ("wp_pool_list_plugins() lists the valid NAME.so files, sorted, NULL-terminated");

  wp_test_copy_plugin ("echo", fixture->tmp_dir, "my_plugin.so");
  wp_test_copy_plugin ("echo", fixture->tmp_dir, "echo.so");
  wp_test_copy_plugin ("echo", fixture->tmp_dir, "Z9.so");
  wp_test_copy_plugin ("arith", fixture->tmp_dir, "arith.so");
  wp_test_copy_plugin ("echo", fixture->tmp_dir, "my-plugin.so");
  /* Not plugins, or not valid names. */
  wp_test_copy_plugin ("echo", fixture->tmp_dir, "bad name.so");
  wp_test_copy_plugin ("echo", fixture->tmp_dir, "a.b.so");
  wp_test_copy_plugin ("echo", fixture->tmp_dir, ".so");
  wp_test_copy_plugin ("echo", fixture->tmp_dir, "echo.so.1");
  wp_test_copy_plugin ("echo", fixture->tmp_dir, "echo");
  wp_test_write_file (fixture->tmp_dir, "README", "not a plugin\n");

  fixture->pool = wp_pool_new (fixture->tmp_dir, 1, &error);
  g_assert_no_error (error);

  plugins = wp_pool_list_plugins (fixture->pool);
  assert_strv (plugins, expected);
}

static void
test_list_only_files (WpTestFixture *fixture,
                      gconstpointer  data)
{
  static const char * const expected[] = { "echo", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *folder = g_build_filename (fixture->tmp_dir, "folder.so", NULL);
  g_auto(GStrv) plugins = NULL;

  g_test_summary ("A folder called NAME.so is not a plugin: the plugin is the file NAME.so");

  wp_test_copy_plugin ("echo", fixture->tmp_dir, "echo.so");
  g_assert_cmpint (g_mkdir (folder, 0700), ==, 0);

  fixture->pool = wp_pool_new (fixture->tmp_dir, 1, &error);
  g_assert_no_error (error);

  plugins = wp_pool_list_plugins (fixture->pool);
  assert_strv (plugins, expected);
}

static void
test_list_empty (WpTestFixture *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) plugins = NULL;

  g_test_summary ("An empty plugin directory lists no plugin: an empty, NULL-terminated array");

  fixture->pool = wp_pool_new (fixture->tmp_dir, 1, &error);
  g_assert_no_error (error);

  plugins = wp_pool_list_plugins (fixture->pool);
  g_assert_nonnull (plugins);
  g_assert_null (plugins[0]);
}

static void
test_list_test_plugins (WpTestFixture *fixture,
                        gconstpointer  data)
{
  static const char * const expected[] = {
    "abi2", "arith", "badresult", "badtypes", "crash", "duplicates", "echo",
    "initfail", "misnamed", "noquery", "sleep", "stdout",
  };
  g_auto(GStrv) plugins = wp_pool_list_plugins (fixture->pool);

  g_test_summary ("wp_pool_list_plugins() lists every file, also the plugins that would fail to load");

  /* The build may add other plugins to this folder; ours must be there,
   * in order. */
  for (guint i = 0; plugins[i] != NULL; i++)
    if (plugins[i + 1] != NULL)
      g_assert_cmpint (strcmp (plugins[i], plugins[i + 1]), <, 0);

  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_true (g_strv_contains ((const char * const *) plugins, expected[i]));

  /* Listing loads nothing: no worker was started. */
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "spawned"), ==, 0);
}

/* ---- A plugin dropped in ---- */

static void
test_drop_in (WpTestFixture *fixture,
              gconstpointer  data)
{
  static const char * const before[] = { "echo", NULL };
  static const char * const after[] = { "echo", "sleep", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  g_auto(GStrv) plugins = NULL;
  gint32 pid_before, pid_after;

  g_test_summary ("A NAME.so dropped into the directory of a running pool is callable at once");

  wp_test_copy_plugin ("echo", fixture->tmp_dir, "echo.so");
  fixture->pool = wp_pool_new (fixture->tmp_dir, 1, &error);
  g_assert_no_error (error);

  result = wp_test_call (fixture->pool, "echo", "getpid", NULL, &error);
  g_assert_no_error (error);
  g_variant_get (result, "(i)", &pid_before);
  g_clear_pointer (&result, g_variant_unref);

  result = wp_test_call (fixture->pool, "sleep", "getpid", NULL, &error);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN);
  g_clear_error (&error);
  plugins = wp_pool_list_plugins (fixture->pool);
  assert_strv (plugins, before);
  g_clear_pointer (&plugins, g_strfreev);

  wp_test_copy_plugin ("sleep", fixture->tmp_dir, "sleep.so");

  plugins = wp_pool_list_plugins (fixture->pool);
  assert_strv (plugins, after);

  result = wp_test_call (fixture->pool, "sleep", "getpid", NULL, &error);
  g_assert_no_error (error);
  g_variant_get (result, "(i)", &pid_after);

  /* The same worker loaded it: nothing was restarted. */
  g_assert_cmpint (pid_after, ==, pid_before);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "spawned"), ==, 1);
}

/* ---- Describing ---- */

typedef struct {
  const char *name;
  const char *args_type;
  const char *result_type;
} ExpectedFunction;

static void
test_describe (WpTestFixture *fixture,
               gconstpointer  data)
{
  static const ExpectedFunction expected[] = {
    { "add", "(ii)", "(i)" },
    { "div", "(ii)", "(i)" },
    { "fail", "(s)", "()" },
    { "fail_with", "(sis)", "()" },
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) description = NULL;
  g_autoptr(GVariantIter) iter = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  const char *name, *version, *summary;
  const char *function, *args_type, *result_type, *function_summary;

  g_test_summary ("wp_pool_describe_async() gives \"(sssa(ssss))\": the plugin and each function");

  description = wp_test_describe (fixture->pool, "arith", &error);
  g_assert_no_error (error);
  g_assert_false (g_variant_is_floating (description));
  g_assert_cmpstr (g_variant_get_type_string (description), ==, "(sssa(ssss))");

  g_variant_get (description, "(&s&s&sa(ssss))", &name, &version, &summary, &iter);
  g_assert_cmpstr (name, ==, "arith");
  g_assert_cmpstr (version, ==, "1.0");
  g_assert_cmpstr (summary, ==, "Integer arithmetic and plugin errors");

  g_assert_cmpuint (g_variant_iter_n_children (iter), ==, G_N_ELEMENTS (expected));
  while (g_variant_iter_next (iter, "(&s&s&s&s)", &function, &args_type, &result_type,
                              &function_summary))
    {
      gsize i;

      for (i = 0; i < G_N_ELEMENTS (expected); i++)
        if (strcmp (expected[i].name, function) == 0)
          break;
      g_assert_cmpuint (i, <, G_N_ELEMENTS (expected));
      g_assert_true (g_hash_table_add (seen, (gpointer) expected[i].name));

      g_assert_cmpstr (args_type, ==, expected[i].args_type);
      g_assert_cmpstr (result_type, ==, expected[i].result_type);
      if (strcmp (function, "add") == 0)
        g_assert_cmpstr (function_summary, ==, "Adds two integers");
    }
}

static void
test_describe_errors (WpTestFixture *fixture,
                      gconstpointer  data)
{
  static const struct {
    const char *plugin;
    int         code;
  } cases[] = {
    { "missing", WP_POOL_ERROR_NO_SUCH_PLUGIN },
    { "../arith", WP_POOL_ERROR_NO_SUCH_PLUGIN },
    { "", WP_POOL_ERROR_NO_SUCH_PLUGIN },
    { "abi2", WP_POOL_ERROR_PLUGIN_INVALID },
    { "noquery", WP_POOL_ERROR_PLUGIN_INVALID },
    { "badtypes", WP_POOL_ERROR_PLUGIN_INVALID },
    { "duplicates", WP_POOL_ERROR_PLUGIN_INVALID },
    { "misnamed", WP_POOL_ERROR_PLUGIN_INVALID },
  };

  g_test_summary ("wp_pool_describe_async() fails as a call would for missing or invalid plugins");

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) description = wp_test_describe (fixture->pool, cases[i].plugin, &error);

      g_assert_null (description);
      g_assert_error (error, WP_POOL_ERROR, cases[i].code);
    }
}

/* ---- A plugin's name ---- */

static void
test_name_mismatch (WpTestFixture *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  g_test_summary ("A plugin whose WpPlugin.name is not its file name is refused with "
                  "WP_POOL_ERROR_PLUGIN_INVALID naming both, and its worker lives on");

  result = wp_test_call (fixture->pool, "misnamed", "noop", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_PLUGIN_INVALID);
  g_assert_nonnull (strstr (error->message, "'misnamed'"));
  g_assert_nonnull (strstr (error->message, "\"othername\""));
  g_clear_error (&error);

  result = wp_test_call (fixture->pool, "echo", "noop", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "crashed"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "spawned"), ==, 1);
}

static void
test_name_of_copy (WpTestFixture *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  g_test_summary ("A plugin copied under another file name is refused under that name, "
                  "and works under its own");

  wp_test_copy_plugin ("echo", fixture->tmp_dir, "echo.so");
  wp_test_copy_plugin ("echo", fixture->tmp_dir, "alias.so");
  fixture->pool = wp_pool_new (fixture->tmp_dir, 1, &error);
  g_assert_no_error (error);

  result = wp_test_call (fixture->pool, "alias", "noop", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_PLUGIN_INVALID);
  g_assert_nonnull (strstr (error->message, "\"echo\""));
  g_clear_error (&error);

  result = wp_test_call (fixture->pool, "echo", "noop", NULL, &error);
  g_assert_no_error (error);
}

/* ---- A plugin writing to stdout ---- */

static void
test_stdout_harmless (WpTestFixture *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  gint32 pid_before, pid_after;

  g_test_summary ("A plugin printing a lot to stdout, frame-like bytes included, does not corrupt the protocol");

  result = wp_test_call (fixture->pool, "echo", "getpid", NULL, &error);
  g_assert_no_error (error);
  g_variant_get (result, "(i)", &pid_before);
  g_clear_pointer (&result, g_variant_unref);

  for (guint i = 0; i < 3; i++)
    {
      result = wp_test_call (fixture->pool, "stdout", "chatty", g_variant_new ("(s)", "still me"),
                             &error);
      g_assert_no_error (error);
      wp_test_assert_variant (result, g_variant_new ("(s)", "still me"));
      g_clear_pointer (&result, g_variant_unref);
    }

  /* The same worker goes on serving jobs. */
  result = wp_test_call (fixture->pool, "echo", "getpid", NULL, &error);
  g_assert_no_error (error);
  g_variant_get (result, "(i)", &pid_after);
  g_assert_cmpint (pid_after, ==, pid_before);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "crashed"), ==, 0);
  g_assert_cmpuint (wp_test_get_stat (fixture->pool, "spawned"), ==, 1);
}

int
main (int    argc,
      char **argv)
{
  wp_test_init (&argc, &argv);

#define ADD(path, func, n_workers)                                       \
  g_test_add (path, WpTestFixture, GUINT_TO_POINTER (n_workers),         \
              wp_test_fixture_setup, func, wp_test_fixture_teardown)
#define ADD_TMP(path, func)                                              \
  g_test_add (path, WpTestFixture, NULL,                                 \
              wp_test_fixture_setup_tmp, func, wp_test_fixture_teardown)

  ADD_TMP ("/pool/plugins/list/sorted-valid-names", test_list_sorted_valid);
  ADD_TMP ("/pool/plugins/list/only-files", test_list_only_files);
  ADD_TMP ("/pool/plugins/list/empty", test_list_empty);
  ADD ("/pool/plugins/list/test-plugins", test_list_test_plugins, 2);
  ADD_TMP ("/pool/plugins/drop-in", test_drop_in);
  ADD ("/pool/plugins/describe/arith", test_describe, 2);
  ADD ("/pool/plugins/describe/errors", test_describe_errors, 2);
  ADD ("/pool/plugins/name/mismatch", test_name_mismatch, 1);
  ADD_TMP ("/pool/plugins/name/copy", test_name_of_copy);
  ADD ("/pool/plugins/stdout-harmless", test_stdout_harmless, 1);

#undef ADD
#undef ADD_TMP

  return g_test_run ();
}
