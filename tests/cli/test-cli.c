/* test-cli.c: the `workpool` command, run as a user would run it.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test spawns the built `workpool` binary ($WORKPOOL_CLI) with the
 * demo plugin of the build tree ($WORKPOOL_PLUGIN_DIR, the worker from
 * $WORKPOOL_WORKER; tests/cli/meson.build sets all three) and checks its
 * exit status, stdout and stderr.  Exit statuses: 0 success, 1 a job
 * failed, 2 a usage error.
 */

#include "config.h"

#include <string.h>
#include <sys/wait.h>

#include <glib/gstdio.h>
#include <workpool/workpool.h>

#include "wp-test-cli.h"

#define run_cli(...) wp_cli_run_argv (NULL, (const char * const[]) { __VA_ARGS__, NULL })

/* "workpool: DOMAIN:CODE: " as the command prints an error. */
static char *
error_prefix (GQuark domain,
              int    code)
{
  return g_strdup_printf ("workpool: %s:%d: ", g_quark_to_string (domain), code);
}

/* A temporary plugin directory holding a copy of demo.so, mode 0755
 * whatever the umask (the worker refuses a group-writable plugin). */
static char *
make_plugin_dir_with_demo (void)
{
  g_autofree char *dir = g_dir_make_tmp ("workpool-cli-XXXXXX", NULL);
  g_autofree char *source = g_build_filename (g_getenv ("WORKPOOL_PLUGIN_DIR"),
                                              "demo.so", NULL);
  g_autofree char *target = g_build_filename (dir, "demo.so", NULL);
  g_autofree char *contents = NULL;
  gsize length;

  g_assert_nonnull (dir);
  g_assert_true (g_file_get_contents (source, &contents, &length, NULL));
  g_assert_true (g_file_set_contents_full (target, contents, length,
                                           G_FILE_SET_CONTENTS_CONSISTENT, 0755, NULL));
  return g_steal_pointer (&dir);
}

static void
remove_plugin_dir (const char *dir,
                   const char *files[])
{
  for (gsize i = 0; files[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i], NULL);
      g_unlink (path);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* Runs `workpool ARG…` like wp_cli_run_argv(), with WORKPOOL_WORKER set
 * to @worker (NULL: unset) and WORKPOOL_PLUGIN_DIR unset. */
static WpCliRun *
run_cli_with_worker (const char         *worker,
                     const char * const *args)
{
  g_autoptr(GPtrArray) argv = wp_cli_command_line_new (NULL, args);
  g_auto(GStrv) envp = g_get_environ ();
  g_autoptr(GError) error = NULL;
  WpCliRun *run = g_new0 (WpCliRun, 1);
  int wait_status;

  envp = g_environ_unsetenv (envp, "WORKPOOL_PLUGIN_DIR");
  envp = worker != NULL ? g_environ_setenv (envp, "WORKPOOL_WORKER", worker, TRUE)
                        : g_environ_unsetenv (envp, "WORKPOOL_WORKER");
  g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_DEFAULT,
                NULL, NULL, &run->out, &run->err, &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  run->status = WEXITSTATUS (wait_status);
  g_test_message ("exit %d\nstdout:\n%s\nstderr:\n%s", run->status, run->out, run->err);
  return run;
}

/* The build tree's folder of the command, as the command names it. */
static char *
build_tree (void)
{
  g_autofree char *cli = g_canonicalize_filename (g_getenv ("WORKPOOL_CLI"), NULL);
  g_autofree char *cli_dir = g_path_get_dirname (cli);
  g_autofree char *host_dir = g_path_get_dirname (cli_dir);

  return g_path_get_dirname (host_dir);
}

/* Top level */

static void
test_version (void)
{
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("--version prints “workpool VERSION”");
  run = run_cli ("--version");
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->out, ==, "workpool " WP_VERSION "\n");
}

static void
test_help (void)
{
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("--help lists the commands and exits 0");
  run = run_cli ("--help");
  g_assert_cmpint (run->status, ==, 0);
  g_assert_nonnull (strstr (run->out, "list"));
  g_assert_nonnull (strstr (run->out, "call"));
}

static void
test_command_help (void)
{
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("COMMAND --help shows the command's own options");
  run = run_cli ("call", "--help");
  g_assert_cmpint (run->status, ==, 0);
  g_assert_nonnull (strstr (run->out, "workpool call"));
  g_assert_nonnull (strstr (run->out, "--timeout"));
}

static void
test_help_command (void)
{
  g_autoptr(WpCliRun) run = NULL;
  g_autoptr(WpCliRun) expected = NULL;

  g_test_summary ("`help` prints what --help prints, and exits 0");
  run = run_cli ("help");
  expected = run_cli ("--help");
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->out, ==, expected->out);
  g_assert_nonnull (strstr (run->out, "  help "));
}

static void
test_help_command_of (void)
{
  g_autoptr(WpCliRun) run = NULL;
  g_autoptr(WpCliRun) expected = NULL;

  g_test_summary ("`help COMMAND` prints what `COMMAND --help` prints, and exits 0");
  run = run_cli ("help", "call");
  expected = run_cli ("call", "--help");
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->out, ==, expected->out);
  g_assert_nonnull (strstr (run->out, "workpool call"));
}

static void
test_usage_no_command (void)
{
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("no command is a usage error");
  run = run_cli (NULL);
  g_assert_cmpint (run->status, ==, 2);
  g_assert_true (g_str_has_prefix (run->err, "workpool: "));
}

/* `workpool ARGS…` that is a usage error: exit status 2, and stderr
 * says @err_substring where there is one. */
typedef struct {
  const char *path;
  const char *summary;
  const char *args[6];
  const char *err_substring;
} UsageCase;

static const UsageCase usage_cases[] = {
  { "/cli/usage/unknown-command", "an unknown command is a usage error naming it",
    { "frobnicate" }, "frobnicate" },
  { "/cli/usage/unknown-option", "an unknown option is a usage error",
    { "list", "--frobnicate" }, "frobnicate" },
  { "/cli/call/usage/missing-args", "no ARGS for a function that takes some is a usage error",
    { "call", "demo", "add" }, "(ii)" },
  { "/cli/help/usage/unknown-command", "`help` of an unknown command is a usage error "
    "pointing at the list", { "help", "frobnicate" }, "“workpool help” lists the commands" },
  { "/cli/help/usage/too-many-args", "`help` takes one command at most",
    { "help", "call", "list" }, "list" },
  { "/cli/call/usage/missing-function", "PLUGIN without FUNCTION is a usage error",
    { "call", "demo" }, NULL },
  { "/cli/call/usage/too-many-args", "ARGS split over several words is a usage error",
    { "call", "demo", "add", "(2,", "3)" }, NULL },
  { "/cli/usage/bad-sandbox", "a --sandbox other than none or strict is a usage error naming it",
    { "list", "--sandbox", "loose" }, "--sandbox: “loose” is not none or strict" },
  { "/cli/thumbnail/usage/bad-sandbox", "so it is for thumbnail",
    { "thumbnail", "--sandbox=off", "." }, "--sandbox: “off” is not none or strict" },
  { "/cli/thumbnail/usage/missing-dir", "a DIR that does not exist is a usage error that "
    "says so", { "thumbnail", "/nonexistent/nope" },
    "workpool: /nonexistent/nope: no such folder\n" },
};

static void
test_usage (gconstpointer data)
{
  const UsageCase *uc = data;
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary (uc->summary);
  run = wp_cli_run_argv (NULL, uc->args);
  g_assert_cmpint (run->status, ==, 2);
  if (uc->err_substring != NULL)
    g_assert_nonnull (strstr (run->err, uc->err_substring));
}

/* list */

static void
test_list_demo (void)
{
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("list shows the demo plugin, its functions and their types");
  run = run_cli ("list");
  g_assert_cmpint (run->status, ==, 0);
  g_assert_true (g_str_has_prefix (run->out, "demo 1.0: "));
  g_assert_nonnull (strstr (run->out, "  add "));
  g_assert_nonnull (strstr (run->out, "(ii) -> (i)"));
  g_assert_nonnull (strstr (run->out, "  greet "));
  g_assert_nonnull (strstr (run->out, "  divide "));
  g_assert_nonnull (strstr (run->out, "(dd) -> (d)"));
  g_assert_nonnull (strstr (run->out, "  wordcount "));
  g_assert_cmpstr (run->err, ==, "");
}

static void
test_list_sandbox (void)
{
  g_autoptr(WpCliRun) strict = NULL;
  g_autoptr(WpCliRun) none = NULL;
  const char *line;

  g_test_summary ("list --sandbox=strict ends with the mechanisms confining the workers; "
                  "--sandbox=none lists none");
  strict = run_cli ("list", "--sandbox=strict");
  g_assert_cmpint (strict->status, ==, 0);
  g_assert_true (g_str_has_prefix (strict->out, "demo 1.0: "));
  line = strstr (strict->out, "\nsandbox: landlock (ABI ");
  g_assert_nonnull (line);
  g_assert_nonnull (strstr (line, ", seccomp, no-new-privs, rlimits"));
  g_assert_cmpstr (strchr (line + 1, '\n'), ==, "\n");

  none = run_cli ("list", "--sandbox=none");
  g_assert_cmpint (none->status, ==, 0);
  g_assert_null (strstr (none->out, "sandbox:"));
}

static void
test_list_plugin_dir (void)
{
  g_autofree char *dir = make_plugin_dir_with_demo ();
  const char *files[] = { "demo.so", NULL };
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("list --plugin-dir DIR lists the plugins of DIR");
  run = run_cli ("list", "--plugin-dir", dir);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_true (g_str_has_prefix (run->out, "demo 1.0: "));
  remove_plugin_dir (dir, files);
}

static void
test_list_broken_plugin (void)
{
  g_autofree char *dir = make_plugin_dir_with_demo ();
  g_autofree char *broken = g_build_filename (dir, "broken.so", NULL);
  const char *files[] = { "demo.so", "broken.so", NULL };
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("a plugin that cannot describe itself is listed with its "
                  "error, the others still show, and the exit status is 1");
  g_assert_true (g_file_set_contents_full (broken, "not an ELF file", -1,
                                           G_FILE_SET_CONTENTS_CONSISTENT, 0644, NULL));
  run = run_cli ("list", "--plugin-dir", dir);
  g_assert_cmpint (run->status, ==, 1);
  g_assert_true (g_str_has_prefix (run->out, "broken (unavailable)\n"));
  g_assert_nonnull (strstr (run->out, "demo 1.0: "));
  g_assert_nonnull (strstr (run->out, "  add "));
  g_assert_true (g_str_has_prefix (run->err, "workpool: broken: "));
  remove_plugin_dir (dir, files);
}

static void
test_list_untrusted_plugin (void)
{
  g_autofree char *dir = make_plugin_dir_with_demo ();
  g_autofree char *demo = g_build_filename (dir, "demo.so", NULL);
  const char *files[] = { "demo.so", NULL };
  g_autoptr(WpCliRun) run = NULL;
  g_autofree char *reason = NULL;

  g_test_summary ("a plugin the worker does not trust (group-writable) is listed "
                  "as unavailable, with the reason, and the exit status is 1");
  g_assert_cmpint (g_chmod (demo, 0664), ==, 0);
  run = run_cli ("list", "--plugin-dir", dir);
  g_assert_cmpint (run->status, ==, 1);
  g_assert_cmpstr (run->out, ==, "demo (unavailable)\n");
  reason = g_strdup_printf ("is not trusted: file %s is writable by its group (mode 0664)", demo);
  g_assert_true (g_str_has_prefix (run->err, "workpool: demo: "));
  g_assert_nonnull (strstr (run->err, reason));
  remove_plugin_dir (dir, files);
}

static void
test_list_missing_plugin_dir (void)
{
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("a --plugin-dir that does not exist is a usage error");
  run = run_cli ("list", "--plugin-dir", "/nonexistent/workpool-plugins");
  g_assert_cmpint (run->status, ==, 2);
  g_assert_nonnull (strstr (run->err, "/nonexistent/workpool-plugins"));
}

/* call */

static void
test_call_add (void)
{
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("ARGS are parsed against args_type, the result printed");
  run = run_cli ("call", "demo", "add", "(2, 3)");
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->out, ==, "(5,)\n");
  g_assert_cmpstr (run->err, ==, "");
}

static void
test_call_launcher (void)
{
  g_autoptr(WpCliRun) run = NULL;
  g_autoptr(WpCliRun) failing = NULL;
  g_autoptr(WpCliRun) unbalanced = NULL;

  g_test_summary ("--launcher starts the worker through a command; one that fails gives "
                  "its own message and status 1; one that does not split is a usage error");
  run = run_cli ("call", "--launcher", wp_cli_test_launcher (), "demo", "add", "(2, 3)");
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->out, ==, "(5,)\n");

  failing = run_cli ("call", "--launcher",
                     "sh -c 'echo \"srun: error: Unable to allocate resources\" >&2; exit 1' sh",
                     "demo", "add", "(2, 3)");
  g_assert_cmpint (failing->status, ==, 1);
  g_assert_cmpstr (failing->out, ==, "");
  g_assert_nonnull (strstr (failing->err, "Cannot start workers"));
  g_assert_nonnull (strstr (failing->err, "srun: error: Unable to allocate resources"));

  unbalanced = run_cli ("call", "--launcher", "ssh 'host", "demo", "add", "(2, 3)");
  g_assert_cmpint (unbalanced->status, ==, 2);
  g_assert_nonnull (strstr (unbalanced->err, "--launcher"));
}

static void
test_call_greet (void)
{
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("strings go in and come out in GVariant text format");
  run = run_cli ("call", "demo", "greet", "('World',)");
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->out, ==, "('Hello, World!',)\n");
}

static void
test_call_single_argument (void)
{
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("a function of one argument takes that argument alone");
  run = run_cli ("call", "demo", "greet", "'Ada'");
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->out, ==, "('Hello, Ada!',)\n");
  g_assert_cmpstr (run->err, ==, "");
}

static void
test_call_single_argument_bad (void)
{
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("ARGS that are neither the 1-tuple nor its item are a usage "
                  "error naming both types");
  run = run_cli ("call", "demo", "greet", "3");
  g_assert_cmpint (run->status, ==, 2);
  g_assert_cmpstr (run->out, ==, "");
  g_assert_nonnull (strstr (run->err, "not a value of type (s), nor of type s alone"));
}

static void
test_call_annotated_result (void)
{
  g_autoptr(WpCliRun) run = NULL;
  g_autoptr(GVariant) args = NULL;
  g_autofree char *args_text = NULL;
  g_autofree char *path = NULL;
  int fd;

  g_test_summary ("a result whose type the text cannot show is annotated");
  fd = g_file_open_tmp ("workpool-cli-XXXXXX.txt", &path, NULL);
  g_assert_cmpint (fd, >=, 0);
  g_close (fd, NULL);
  g_assert_true (g_file_set_contents (path, "one two  three\nfour\n", -1, NULL));

  args = g_variant_ref_sink (g_variant_new ("(s)", path));
  args_text = g_variant_print (args, FALSE);
  run = run_cli ("call", "demo", "wordcount", args_text);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->out, ==, "(uint32 4,)\n");
  g_unlink (path);
}

static void
test_call_timeout (void)
{
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("--timeout MS runs the job with a time limit");
  run = run_cli ("call", "--timeout", "60000", "demo", "add", "(-2, 3)");
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->out, ==, "(1,)\n");
}

static void
test_call_add_overflow (void)
{
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("demo add refuses a sum that does not fit 32 bits, with a "
                  "plugin error, instead of wrapping");
  run = run_cli ("call", "demo", "add", "(2147483647, 1)");
  g_assert_cmpint (run->status, ==, 1);
  g_assert_cmpstr (run->out, ==, "");
  g_assert_cmpstr (run->err, ==, "workpool: g-io-error-quark:13: "
                   "2147483647 + 1 overflows a 32-bit integer\n");
  g_clear_pointer (&run, wp_cli_run_free);

  run = run_cli ("call", "demo", "add", "(-2147483648, -1)");
  g_assert_cmpint (run->status, ==, 1);
  g_assert_nonnull (strstr (run->err, "-2147483648 + -1 overflows"));
  g_clear_pointer (&run, wp_cli_run_free);

  run = run_cli ("call", "demo", "add", "(2147483647, -2147483648)");
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->out, ==, "(-1,)\n");
}

static void
test_call_plugin_error (void)
{
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("a plugin error is printed as DOMAIN:CODE: message, "
                  "exit status 1");
  run = run_cli ("call", "demo", "divide", "(1.0, 0.0)");
  g_assert_cmpint (run->status, ==, 1);
  g_assert_cmpstr (run->out, ==, "");
  g_assert_cmpstr (run->err, ==,
                   "workpool: g-io-error-quark:13: cannot divide by zero\n");
}

/* `workpool call ARGS…` whose job fails: exit status 1, and stderr
 * starts with the error's domain and code. */
typedef struct {
  const char *path;
  const char *summary;
  const char *args[4];
  GQuark    (*domain) (void);
  int         code;
} CallErrorCase;

static const CallErrorCase call_error_cases[] = {
  { "/cli/call/error/file", "a GFileError from a plugin keeps its domain and code",
    { "demo", "wordcount", "('/nonexistent/words.txt',)" },
    g_file_error_quark, G_FILE_ERROR_NOENT },
  { "/cli/call/error/unknown-plugin", "an unknown plugin fails with NO_SUCH_PLUGIN, exit 1",
    { "nosuchplugin", "add", "(2, 3)" },
    wp_pool_error_quark, WP_POOL_ERROR_NO_SUCH_PLUGIN },
  { "/cli/call/error/unknown-function", "an unknown function fails with NO_SUCH_FUNCTION, exit 1",
    { "demo", "subtract", "(2, 3)" },
    wp_pool_error_quark, WP_POOL_ERROR_NO_SUCH_FUNCTION },
};

static void
test_call_error (gconstpointer data)
{
  const CallErrorCase *ec = data;
  g_autoptr(WpCliRun) run = NULL;
  g_autofree char *expected = error_prefix (ec->domain (), ec->code);

  g_test_summary (ec->summary);
  run = wp_cli_run_argv ("call", ec->args);
  g_assert_cmpint (run->status, ==, 1);
  g_assert_true (g_str_has_prefix (run->err, expected));
}

static void
test_call_unknown_plugin_hint (void)
{
  g_autoptr(WpCliRun) run = NULL;
  g_autofree char *dir = make_plugin_dir_with_demo ();
  g_autofree char *quoted = g_shell_quote (dir);
  g_autofree char *hint = g_strdup_printf ("“workpool list --plugin-dir %s” shows "
                                           "the plugins", quoted);
  const char *files[] = { "demo.so", NULL };

  g_test_summary ("an unknown plugin or function points at `workpool list`, "
                  "with the --plugin-dir given");
  run = run_cli ("call", "nosuchplugin", "add", "(2, 3)");
  g_assert_cmpint (run->status, ==, 1);
  g_assert_nonnull (strstr (run->err, "\nworkpool: “workpool list” shows the plugins"));
  g_clear_pointer (&run, wp_cli_run_free);

  run = run_cli ("call", "--plugin-dir", dir, "demo", "subtract", "(2, 3)");
  g_assert_cmpint (run->status, ==, 1);
  g_assert_nonnull (strstr (run->err, hint));
  remove_plugin_dir (dir, files);
}

static void
test_call_no_worker_hint (void)
{
  g_autoptr(WpCliRun) run = NULL;
  g_autofree char *build = build_tree ();
  g_autofree char *devenv = g_strdup_printf ("“meson devenv -C %s workpool …”", build);
  g_autofree char *variables = g_strdup_printf ("WORKPOOL_WORKER=%s/host/worker/workpool-worker "
                                                "and WORKPOOL_PLUGIN_DIR=%s/plugins",
                                                build, build);
  const char *dir = g_getenv ("WORKPOOL_PLUGIN_DIR");

  g_test_summary ("the built command run outside `meson devenv`, where it finds "
                  "no worker, says how to point it at the build tree");
  run = run_cli_with_worker ("/nonexistent/workpool-worker",
                             (const char * const[]) { "call", "--plugin-dir", dir,
                                                      "demo", "add", "(2, 3)", NULL });
  g_assert_cmpint (run->status, ==, 1);
  g_assert_nonnull (strstr (run->err, "there is no worker at /nonexistent/workpool-worker"));
  g_assert_nonnull (strstr (run->err, devenv));
  g_assert_nonnull (strstr (run->err, variables));
  g_clear_pointer (&run, wp_cli_run_free);

  run = run_cli_with_worker ("/nonexistent/workpool-worker",
                             (const char * const[]) { "list", "--plugin-dir", dir, NULL });
  g_assert_cmpint (run->status, ==, 1);
  g_assert_nonnull (strstr (run->err, devenv));
  g_clear_pointer (&run, wp_cli_run_free);

  /* No variable at all: the compiled-in paths, unless installed there. */
  if (g_file_test (WP_WORKER_PATH, G_FILE_TEST_EXISTS))
    {
      g_test_message ("%s is installed: the run without variables is not checked",
                      WP_WORKER_PATH);
      return;
    }
  run = run_cli_with_worker (NULL, (const char * const[]) { "call", "demo", "add",
                                                            "(2, 3)", NULL });
  g_assert_cmpint (run->status, ==, 1);
  g_assert_nonnull (strstr (run->err, "there is no worker at " WP_WORKER_PATH));
  g_assert_nonnull (strstr (run->err, devenv));
}

static void
test_call_bad_args (void)
{
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("ARGS that do not parse as args_type are a usage error "
                  "showing the type and the place");
  run = run_cli ("call", "demo", "add", "(2, 'x')");
  g_assert_cmpint (run->status, ==, 2);
  g_assert_cmpstr (run->out, ==, "");
  g_assert_nonnull (strstr (run->err, "(ii)"));
  g_assert_nonnull (strstr (run->err, "(2, 'x')"));
  g_assert_nonnull (strstr (run->err, "^"));
}


static void
test_call_bad_timeout (void)
{
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("a negative or non-numeric --timeout is a usage error");
  run = run_cli ("call", "--timeout", "soon", "demo", "add", "(2, 3)");
  g_assert_cmpint (run->status, ==, 2);
  g_clear_pointer (&run, wp_cli_run_free);
  run = run_cli ("call", "--timeout=-1", "demo", "add", "(2, 3)");
  g_assert_cmpint (run->status, ==, 2);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("WORKPOOL_CLI") == NULL || g_getenv ("WORKPOOL_PLUGIN_DIR") == NULL)
    {
      g_test_skip ("WORKPOOL_CLI and WORKPOOL_PLUGIN_DIR must be set");
      return g_test_run ();
    }

  g_test_add_func ("/cli/version", test_version);
  g_test_add_func ("/cli/help", test_help);
  g_test_add_func ("/cli/help/command", test_command_help);
  g_test_add_func ("/cli/help/help-command", test_help_command);
  g_test_add_func ("/cli/help/help-command-of", test_help_command_of);
  g_test_add_func ("/cli/usage/no-command", test_usage_no_command);
  g_test_add_func ("/cli/list/demo", test_list_demo);
  g_test_add_func ("/cli/list/plugin-dir", test_list_plugin_dir);
  g_test_add_func ("/cli/list/sandbox", test_list_sandbox);
  g_test_add_func ("/cli/list/broken-plugin", test_list_broken_plugin);
  g_test_add_func ("/cli/list/untrusted-plugin", test_list_untrusted_plugin);
  g_test_add_func ("/cli/list/missing-plugin-dir", test_list_missing_plugin_dir);
  g_test_add_func ("/cli/call/add", test_call_add);
  g_test_add_func ("/cli/call/greet", test_call_greet);
  g_test_add_func ("/cli/call/single-argument", test_call_single_argument);
  g_test_add_func ("/cli/call/usage/single-argument-bad", test_call_single_argument_bad);
  g_test_add_func ("/cli/call/annotated-result", test_call_annotated_result);
  g_test_add_func ("/cli/call/timeout", test_call_timeout);
  g_test_add_func ("/cli/call/launcher", test_call_launcher);
  g_test_add_func ("/cli/call/add-overflow", test_call_add_overflow);
  g_test_add_func ("/cli/call/error/plugin", test_call_plugin_error);
  for (gsize i = 0; i < G_N_ELEMENTS (call_error_cases); i++)
    g_test_add_data_func (call_error_cases[i].path, &call_error_cases[i], test_call_error);
  g_test_add_func ("/cli/call/error/unknown-plugin-hint", test_call_unknown_plugin_hint);
  g_test_add_func ("/cli/call/error/no-worker-hint", test_call_no_worker_hint);
  g_test_add_func ("/cli/call/usage/bad-args", test_call_bad_args);
  g_test_add_func ("/cli/call/usage/bad-timeout", test_call_bad_timeout);
  for (gsize i = 0; i < G_N_ELEMENTS (usage_cases); i++)
    g_test_add_data_func (usage_cases[i].path, &usage_cases[i], test_usage);

  return g_test_run ();
}
