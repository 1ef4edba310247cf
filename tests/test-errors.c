/* test-errors.c: every error a call can end with, short of a crash.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers WP_POOL_ERROR_NO_SUCH_PLUGIN (a missing plugin, and invalid
 * names, refused even where a file of that name exists),
 * WP_POOL_ERROR_PLUGIN_INVALID (init failed, another ABI version, no
 * wp_plugin_query, an invalid type string, a duplicate function name, a
 * file that is not a shared object), WP_POOL_ERROR_NO_SUCH_FUNCTION,
 * WP_POOL_ERROR_INVALID_ARGS (with both type strings in the message),
 * WP_POOL_ERROR_BAD_RESULT, and plugin errors, which keep their domain,
 * code and message.  After each error the pool still works and no worker
 * has crashed.  (WP_POOL_ERROR_CLOSED is in test-close.c.)
 */

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "wp-test-util.h"

/* Runs one call and returns its error, which must be set. */
static GError *
call_error (WpPool     *pool,
            const char *plugin,
            const char *function,
            GVariant   *args)
{
  g_autoptr(GVariant) result = NULL;
  GError *error = NULL;

  result = wp_test_call (pool, plugin, function, args, &error);
  g_assert_null (result);
  g_assert_nonnull (error);
  g_test_message ("%s.%s: %s:%d: %s", plugin, function,
                  g_quark_to_string (error->domain), error->code, error->message);

  return error;
}

/* The pool still runs jobs, and no worker died on the way. */
static void
assert_pool_works (WpPool *pool)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  result = wp_test_call (pool, "arith", "add", g_variant_new ("(ii)", 1, 2), &error);
  g_assert_no_error (error);
  wp_test_assert_variant (result, g_variant_new ("(i)", 3));
  g_assert_cmpuint (wp_test_get_stat (pool, "crashed"), ==, 0);
}

/* ---- One call, one error ---- */

/* A call that fails with @code of WP_POOL_ERROR, @n_calls times in a row
 * on the same pool, with @substring in the message; the pool still works
 * afterwards. */
typedef struct {
  const char *path;
  const char *summary;
  guint       n_workers;
  const char *plugin;
  const char *function;
  gint        code;
  const char *substring;   /* or NULL */
  guint       n_calls;
} ErrorCase;

static const ErrorCase error_cases[] = {
  { "/pool/errors/no-such-plugin/missing",
    "A valid name without a NAME.so is WP_POOL_ERROR_NO_SUCH_PLUGIN",
    2, "missing", "noop", WP_POOL_ERROR_NO_SUCH_PLUGIN, NULL, 1 },
  /* One worker: the second and third jobs meet the plugin already loaded. */
  { "/pool/errors/plugin-invalid/init-failed",
    "A failed init is WP_POOL_ERROR_PLUGIN_INVALID with the init's message, for every job",
    1, "initfail", "noop", WP_POOL_ERROR_PLUGIN_INVALID, "the frobnicator is missing", 3 },
  { "/pool/errors/plugin-invalid/abi-version",
    "A plugin built for ABI version 2 is WP_POOL_ERROR_PLUGIN_INVALID",
    1, "abi2", "noop", WP_POOL_ERROR_PLUGIN_INVALID, NULL, 1 },
  { "/pool/errors/plugin-invalid/no-query",
    "A shared object without wp_plugin_query is WP_POOL_ERROR_PLUGIN_INVALID",
    1, "noquery", "noop", WP_POOL_ERROR_PLUGIN_INVALID, "wp_plugin_query", 1 },
  { "/pool/errors/plugin-invalid/duplicate-functions",
    "Two functions of the same name make the plugin WP_POOL_ERROR_PLUGIN_INVALID",
    1, "duplicates", "twice", WP_POOL_ERROR_PLUGIN_INVALID, "twice", 1 },
  { "/pool/errors/bad-result/wrong-type",
    "A result of the wrong type is WP_POOL_ERROR_BAD_RESULT",
    1, "badresult", "wrong_type", WP_POOL_ERROR_BAD_RESULT, NULL, 1 },
  { "/pool/errors/bad-result/null-without-error",
    "NULL without an error is WP_POOL_ERROR_BAD_RESULT",
    1, "badresult", "null_no_error", WP_POOL_ERROR_BAD_RESULT, NULL, 1 },
};

static void
setup_error_case (WpTestFixture *fixture,
                  gconstpointer  data)
{
  const ErrorCase *ec = data;

  wp_test_fixture_setup (fixture, GUINT_TO_POINTER (ec->n_workers));
}

static void
test_error_case (WpTestFixture *fixture,
                 gconstpointer  data)
{
  const ErrorCase *ec = data;

  g_test_summary (ec->summary);

  for (guint i = 0; i < ec->n_calls; i++)
    {
      g_autoptr(GError) error = call_error (fixture->pool, ec->plugin, ec->function, NULL);

      g_assert_error (error, WP_POOL_ERROR, ec->code);
      if (ec->substring != NULL)
        g_assert_nonnull (strstr (error->message, ec->substring));
    }

  assert_pool_works (fixture->pool);
}

/* ---- NO_SUCH_PLUGIN ---- */

static const char * const invalid_names[] = {
  "", ".", "..", "../echo", "a/b", "/echo", "echo/", "echo.so", "a.b", "echo ",
  " echo", "with space", "tab\tname", "new\nline", "caf\xc3\xa9", "*", "ech?",
};

static void
test_invalid_plugin_names (WpTestFixture *fixture,
                           gconstpointer  data)
{
  g_test_summary ("Names that are not [A-Za-z0-9_-]+ are WP_POOL_ERROR_NO_SUCH_PLUGIN");

  for (gsize i = 0; i < G_N_ELEMENTS (invalid_names); i++)
    {
      g_autoptr(GError) error = call_error (fixture->pool, invalid_names[i], "noop", NULL);
      g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN);
    }

  assert_pool_works (fixture->pool);
}

static void
test_invalid_plugin_names_with_files (WpTestFixture *fixture,
                                      gconstpointer  data)
{
  static const char * const names[] = {
    "a.b", "bad name", "../outside", "sub/echo", "sub/../echo", "./echo", "echo.so",
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *plugins = NULL;
  g_autofree char *sub = NULL;
  g_autoptr(GVariant) result = NULL;

  g_test_summary ("An invalid name is refused even where a file by that name is a working plugin");

  plugins = g_build_filename (fixture->tmp_dir, "plugins", NULL);
  sub = g_build_filename (plugins, "sub", NULL);
  g_assert_cmpint (g_mkdir_with_parents (sub, 0700), ==, 0);

  wp_test_copy_plugin ("echo", plugins, "echo.so");
  wp_test_copy_plugin ("echo", plugins, "a.b.so");
  wp_test_copy_plugin ("echo", plugins, "bad name.so");
  wp_test_copy_plugin ("echo", plugins, "echo.so.so");
  wp_test_copy_plugin ("echo", fixture->tmp_dir, "outside.so");
  wp_test_copy_plugin ("echo", sub, "echo.so");

  fixture->pool = wp_pool_new (plugins, 1, &error);
  g_assert_no_error (error);

  result = wp_test_call (fixture->pool, "echo", "noop", NULL, &error);
  g_assert_no_error (error);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GError) call = call_error (fixture->pool, names[i], "noop", NULL);
      g_assert_error (call, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN);
    }
}

/* ---- PLUGIN_INVALID ---- */

static void
test_bad_type_string (WpTestFixture *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_test_summary ("An invalid type string makes the whole plugin WP_POOL_ERROR_PLUGIN_INVALID");

  /* "noop" is well formed; "broken" is the one with "(q". */
  error = call_error (fixture->pool, "badtypes", "noop", NULL);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_PLUGIN_INVALID);
  g_assert_true (strstr (error->message, "(q") != NULL || strstr (error->message, "broken") != NULL);
  g_clear_error (&error);

  error = call_error (fixture->pool, "badtypes", "broken", NULL);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_PLUGIN_INVALID);

  assert_pool_works (fixture->pool);
}

static void
test_not_a_shared_object (WpTestFixture *fixture,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  g_test_summary ("A NAME.so that cannot be loaded is WP_POOL_ERROR_PLUGIN_INVALID");

  wp_test_write_file (fixture->tmp_dir, "garbage.so", "this is not an ELF file\n");
  wp_test_write_file (fixture->tmp_dir, "empty.so", "");
  wp_test_copy_plugin ("arith", fixture->tmp_dir, "arith.so");

  fixture->pool = wp_pool_new (fixture->tmp_dir, 1, &error);
  g_assert_no_error (error);

  error = call_error (fixture->pool, "garbage", "noop", NULL);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_PLUGIN_INVALID);
  g_clear_error (&error);

  error = call_error (fixture->pool, "empty", "noop", NULL);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_PLUGIN_INVALID);

  assert_pool_works (fixture->pool);
}

static void
test_not_a_regular_file (WpTestFixture *fixture,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *fifo = g_build_filename (fixture->tmp_dir, "fifo.so", NULL);
  g_autofree char *folder = g_build_filename (fixture->tmp_dir, "folder.so", NULL);

  g_test_summary ("A FIFO or a folder called NAME.so is WP_POOL_ERROR_PLUGIN_INVALID, "
                  "at once: opening the FIFO does not wait for a writer");

  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
  wp_test_copy_plugin ("arith", fixture->tmp_dir, "arith.so");

  fixture->pool = wp_pool_new (fixture->tmp_dir, 1, &error);
  g_assert_no_error (error);

  error = call_error (fixture->pool, "fifo", "noop", NULL);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_PLUGIN_INVALID);
  g_assert_nonnull (strstr (error->message, "not a regular file"));
  g_clear_error (&error);

  error = call_error (fixture->pool, "folder", "noop", NULL);
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_PLUGIN_INVALID);
  g_assert_nonnull (strstr (error->message, "not a regular file"));

  assert_pool_works (fixture->pool);
}

/* ---- NO_SUCH_FUNCTION, INVALID_ARGS ---- */

static void
test_no_such_function (WpTestFixture *fixture,
                       gconstpointer  data)
{
  static const char * const functions[] = { "nope", "", "ECHO", "echo ", "wp_plugin_query" };

  g_test_summary ("A function the plugin does not have is WP_POOL_ERROR_NO_SUCH_FUNCTION");

  for (gsize i = 0; i < G_N_ELEMENTS (functions); i++)
    {
      g_autoptr(GError) error = call_error (fixture->pool, "echo", functions[i], NULL);
      g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_FUNCTION);
    }

  assert_pool_works (fixture->pool);
}

static void
assert_invalid_args (WpPool     *pool,
                     const char *function,
                     GVariant   *args,
                     const char *args_type,
                     const char *given_type)
{
  g_autoptr(GError) error = call_error (pool, "arith", function, args);

  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS);
  if (strstr (error->message, args_type) == NULL || strstr (error->message, given_type) == NULL)
    g_error ("\"%s\" does not name both %s and %s", error->message, args_type, given_type);
}

static void
test_invalid_args (WpTestFixture *fixture,
                   gconstpointer  data)
{
  g_test_summary ("Arguments of the wrong type are WP_POOL_ERROR_INVALID_ARGS naming both types");

  assert_invalid_args (fixture->pool, "add", g_variant_new ("(s)", "two"), "(ii)", "(s)");
  assert_invalid_args (fixture->pool, "add", g_variant_new ("(iii)", 1, 2, 3), "(ii)", "(iii)");
  assert_invalid_args (fixture->pool, "add", g_variant_new ("(ix)", 1, G_GINT64_CONSTANT (2)),
                       "(ii)", "(ix)");
  assert_invalid_args (fixture->pool, "add", g_variant_new_int32 (1), "(ii)", "i");
  assert_invalid_args (fixture->pool, "add", NULL, "(ii)", "()");
  assert_invalid_args (fixture->pool, "fail", g_variant_new ("(v)", g_variant_new_string ("x")),
                       "(s)", "(v)");

  assert_pool_works (fixture->pool);
}

static void
test_args_for_empty_tuple (WpTestFixture *fixture,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_test_summary ("Arguments for a function that takes none are WP_POOL_ERROR_INVALID_ARGS");

  error = call_error (fixture->pool, "echo", "noop", g_variant_new ("(i)", 1));
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (error->message, "()"));
  g_assert_nonnull (strstr (error->message, "(i)"));
}

/* ---- Plugin errors ---- */

static void
test_plugin_error_file (WpTestFixture *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_test_summary ("A plugin's G_FILE_ERROR_NOENT reaches the caller with its message unchanged");

  error = call_error (fixture->pool, "arith", "fail",
                      g_variant_new ("(s)", "no frobnicator in \xe2\x80\x9c/dev/null\xe2\x80\x9d"));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_cmpstr (error->message, ==, "no frobnicator in \xe2\x80\x9c/dev/null\xe2\x80\x9d");

  assert_pool_works (fixture->pool);
}

static void
test_plugin_error_io (WpTestFixture *fixture,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  g_test_summary ("A plugin's G_IO_ERROR_INVALID_ARGUMENT on some input, and a result on another");

  error = call_error (fixture->pool, "arith", "div", g_variant_new ("(ii)", 1, 0));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "division by zero");
  g_clear_error (&error);

  result = wp_test_call (fixture->pool, "arith", "div", g_variant_new ("(ii)", 7, 2), &error);
  g_assert_no_error (error);
  wp_test_assert_variant (result, g_variant_new ("(i)", 3));
}

static void
test_plugin_error_unknown_domain (WpTestFixture *fixture,
                                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_test_summary ("A plugin error in a domain the host never registered keeps its domain and code");

  error = call_error (fixture->pool, "arith", "fail_with",
                      g_variant_new ("(sis)", "workpool-test-made-up-error-quark", 42, "made up"));
  g_assert_error (error, g_quark_from_string ("workpool-test-made-up-error-quark"), 42);
  g_assert_cmpstr (error->message, ==, "made up");
  g_clear_error (&error);

  /* A plugin may even use the pool's own domain. */
  error = call_error (fixture->pool, "arith", "fail_with",
                      g_variant_new ("(sis)", g_quark_to_string (WP_POOL_ERROR),
                                     WP_POOL_ERROR_FAILED, "the plugin says so"));
  g_assert_error (error, WP_POOL_ERROR, WP_POOL_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "the plugin says so");

  assert_pool_works (fixture->pool);
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

  ADD ("/pool/errors/no-such-plugin/invalid-names", test_invalid_plugin_names, 2);
  ADD_TMP ("/pool/errors/no-such-plugin/invalid-names-with-files", test_invalid_plugin_names_with_files);
  ADD ("/pool/errors/plugin-invalid/bad-type-string", test_bad_type_string, 1);
  ADD_TMP ("/pool/errors/plugin-invalid/not-a-shared-object", test_not_a_shared_object);
  ADD_TMP ("/pool/errors/plugin-invalid/not-a-regular-file", test_not_a_regular_file);
  ADD ("/pool/errors/no-such-function", test_no_such_function, 1);
  ADD ("/pool/errors/invalid-args/wrong-types", test_invalid_args, 2);
  ADD ("/pool/errors/invalid-args/empty-tuple", test_args_for_empty_tuple, 1);
  ADD ("/pool/errors/plugin-error/file-error", test_plugin_error_file, 1);
  ADD ("/pool/errors/plugin-error/io-error", test_plugin_error_io, 1);
  ADD ("/pool/errors/plugin-error/unknown-domain", test_plugin_error_unknown_domain, 1);

  for (gsize i = 0; i < G_N_ELEMENTS (error_cases); i++)
    g_test_add (error_cases[i].path, WpTestFixture, &error_cases[i],
                setup_error_case, test_error_case, wp_test_fixture_teardown);

#undef ADD
#undef ADD_TMP

  return g_test_run ();
}
