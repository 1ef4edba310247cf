/* workpool.c: main() of the `workpool` command, and its shared helpers.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   workpool [--help | --version]
 *   workpool help [COMMAND]
 *   workpool COMMAND [OPTION…] [ARG…]
 *
 * main() parses the options that come before the subcommand (parsing stops
 * at the first word that is not an option), finds the subcommand in the
 * table below, renames the program "workpool COMMAND" so that the
 * subcommand's --help and error hints name it, and hands it the rest of the
 * command line.  The helpers after main() are declared and described in
 * wp-cli-private.h.
 */

#include "config.h"

#include <locale.h>
#include <string.h>

#include "wp-cli-private.h"

typedef struct {
  const char *name;
  const char *summary;
  int       (*run) (int argc, char **argv);
  gboolean    error_codes;  /* its error lines give DOMAIN:CODE */
} WpCliCommand;

static int run_help (int argc, char **argv);

/* `list` and `call` give DOMAIN:CODE, by which a script tells a plugin's
 * errors apart; `thumbnail` reports files to a person, in sentences. */
static const WpCliCommand commands[] = {
  { "list", "List the plugins and their functions", wp_cli_list, TRUE },
  { "call", "Call a plugin function and print its result", wp_cli_call, TRUE },
  { "thumbnail", "Write JPEG thumbnails of the images in folders", wp_cli_thumbnail, FALSE },
  { "help", "Show the help of workpool or of a command", run_help, TRUE },
};

/* The running command's error_codes. */
static gboolean error_codes = TRUE;

static const WpCliCommand *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

/* The list of subcommands, for `workpool --help`. */
static char *
describe_commands (void)
{
  GString *text = g_string_new ("Commands:\n");

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (text, "  %-10s %s\n",
                            commands[i].name, commands[i].summary);
  g_string_append (text, "\nRun “workpool help COMMAND” or “workpool COMMAND "
                         "--help” for the options of a command.");
  return g_string_free (text, FALSE);
}

static GOptionContext *
main_option_context_new (gboolean *version)
{
  const GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, version,
      "Print the version and exit", NULL },
    G_OPTION_ENTRY_NULL
  };
  GOptionContext *context = g_option_context_new ("COMMAND [ARG…]");
  g_autofree char *description = describe_commands ();

  g_option_context_set_summary (context,
                                "Runs functions of workpool plugins in a "
                                "pool of worker processes.");
  g_option_context_set_description (context, description);
  g_option_context_set_strict_posix (context, TRUE);
  g_option_context_add_main_entries (context, entries, NULL);
  return context;
}

/* `workpool COMMAND …` under the name "workpool COMMAND", so that its
 * --help and error hints name it. */
static int
run_command (const WpCliCommand  *command,
             int                  argc,
             char               **argv)
{
  g_autofree char *prgname = g_strconcat ("workpool ", command->name, NULL);

  g_set_prgname (prgname);
  error_codes = command->error_codes;
  return command->run (argc, argv);
}

/* `workpool help [COMMAND]`: the same as `workpool --help` or
 * `workpool COMMAND --help`. */
static int
run_help (int    argc,
          char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("[COMMAND]");
  const WpCliCommand *command;
  char *help_argv[] = { NULL, (char *) "--help", NULL };

  g_option_context_set_summary (context, "Shows the help of workpool, or of "
                                         "COMMAND (the same as “workpool "
                                         "COMMAND --help”).");
  if (!wp_cli_parse_options (context, &argc, &argv))
    return WP_CLI_EXIT_USAGE;
  if (argc > 2)
    return wp_cli_usage_error ("unexpected argument “%s”", argv[2]);

  if (argc < 2)
    {
      gboolean version = FALSE;
      g_autoptr(GOptionContext) main_context = main_option_context_new (&version);
      g_autofree char *text = NULL;

      g_set_prgname ("workpool");
      text = g_option_context_get_help (main_context, TRUE, NULL);
      g_print ("%s", text);
      return WP_CLI_EXIT_OK;
    }

  command = find_command (argv[1]);
  if (command == NULL)
    return wp_cli_usage_error ("unknown command “%s” (“workpool help” lists "
                               "the commands)", argv[1]);
  help_argv[0] = argv[1];
  /* Each command's option parser prints its help and exits. */
  return run_command (command, 2, help_argv);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  const WpCliCommand *command;
  gboolean version = FALSE;

  setlocale (LC_ALL, "");
  g_set_prgname ("workpool");
  /* Debug messages (G_MESSAGES_DEBUG) are diagnostics: stdout has the
   * results only. */
  g_log_writer_default_set_use_stderr (TRUE);

  context = main_option_context_new (&version);
  if (!wp_cli_parse_options (context, &argc, &argv))
    return WP_CLI_EXIT_USAGE;
  if (version)
    {
      g_print ("workpool %s\n", WP_VERSION);
      return WP_CLI_EXIT_OK;
    }
  if (argc < 2)
    return wp_cli_usage_error ("no command given");

  command = find_command (argv[1]);
  if (command == NULL)
    return wp_cli_usage_error ("unknown command “%s”", argv[1]);
  return run_command (command, argc - 1, argv + 1);
}

/* Messages */

int
wp_cli_usage_error (const char *format,
                    ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("workpool: %s\nTry “%s --help” for more information.\n",
              message, g_get_prgname ());
  return WP_CLI_EXIT_USAGE;
}

/* @message without the mentions “@what” of what the line names first
 * (an image's path in the thumbnail plugin's messages), each with the
 * space before it. */
static char *
strip_mentions (const char *message,
                const char *what)
{
  g_autofree char *mention = NULL;
  g_auto(GStrv) parts = NULL;

  if (what == NULL)
    return g_strdup (message);
  mention = g_strconcat (" “", what, "”", NULL);
  parts = g_strsplit (message, mention, -1);
  return g_strjoinv ("", parts);
}

/* Prints "workpool: [WHAT: ][DOMAIN:CODE: ]message": DOMAIN:CODE for a
 * command whose row asks for them, else as a debug message. */
int
wp_cli_fail (const char   *what,
             const GError *error)
{
  g_autofree char *message = strip_mentions (error->message, what);
  const char *domain = g_quark_to_string (error->domain);
  const char *separator = what != NULL ? ": " : "";

  if (what == NULL)
    what = "";
  if (error_codes)
    g_printerr ("workpool: %s%s%s:%d: %s\n", what, separator, domain, error->code, message);
  else
    {
      g_debug ("%s%s%s:%d", what, separator, domain, error->code);
      g_printerr ("workpool: %s%s%s\n", what, separator, message);
    }
  return WP_CLI_EXIT_FAILED;
}

/* The worker the pool starts: $WORKPOOL_WORKER, or the installed one. */
static const char *
worker_path (void)
{
  const char *path = g_getenv ("WORKPOOL_WORKER");

  return path != NULL && *path != '\0' ? path : WP_WORKER_PATH;
}

/* The build tree this `workpool` was built in, if it is run from one:
 * BUILD/host/cli/workpool beside BUILD/host/worker/workpool-worker. */
static char *
find_build_tree (void)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *cli_dir = NULL;
  g_autofree char *host_dir = NULL;
  g_autofree char *build = NULL;
  g_autofree char *worker = NULL;

  if (self == NULL)
    return NULL;
  cli_dir = g_path_get_dirname (self);
  host_dir = g_path_get_dirname (cli_dir);
  build = g_path_get_dirname (host_dir);
  worker = g_build_filename (build, "host", "worker", "workpool-worker", NULL);
  if (!g_file_test (worker, G_FILE_TEST_IS_EXECUTABLE))
    return NULL;
  return g_steal_pointer (&build);
}

/* When the worker cannot be run, says how to point `workpool` at one,
 * and returns TRUE.  Run from a build tree, the compiled-in paths name
 * an installation that is usually not there. */
gboolean
wp_cli_hint_worker (void)
{
  const char *worker = worker_path ();
  g_autofree char *build = NULL;

  if (g_file_test (worker, G_FILE_TEST_IS_EXECUTABLE))
    return FALSE;

  build = find_build_tree ();
  if (build != NULL)
    g_printerr ("workpool: there is no worker at %s.  This workpool is in the "
                "build tree %s: run it as “meson devenv -C %s workpool …”, or "
                "set WORKPOOL_WORKER=%s/host/worker/workpool-worker and "
                "WORKPOOL_PLUGIN_DIR=%s/plugins\n",
                worker, build, build, build, build);
  else
    g_printerr ("workpool: there is no worker at %s: install workpool "
                "(meson install), or set WORKPOOL_WORKER to the worker and "
                "WORKPOOL_PLUGIN_DIR to the plugin directory (from a build "
                "tree, “meson devenv -C BUILDDIR” sets both)\n", worker);
  return TRUE;
}

/* After a job failed with @error: an unknown plugin or function points
 * at `workpool list` (with the --plugin-dir @plugin_dir, if any). */
void
wp_cli_hint_list (const GError *error,
                  const char   *plugin_dir)
{
  g_autofree char *list = NULL;

  if (!g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN)
      && !g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_FUNCTION))
    return;

  if (plugin_dir != NULL)
    {
      g_autofree char *quoted = g_shell_quote (plugin_dir);

      list = g_strconcat ("workpool list --plugin-dir ", quoted, NULL);
    }
  else
    list = g_strdup ("workpool list");
  g_printerr ("workpool: “%s” shows the plugins and their functions\n", list);
}

/* Options */

gboolean
wp_cli_parse_options (GOptionContext   *context,
                      int              *argc,
                      char           ***argv)
{
  g_autoptr(GError) error = NULL;

  if (g_option_context_parse (context, argc, argv, &error))
    return TRUE;
  wp_cli_usage_error ("%s", error->message);
  return FALSE;
}

/* Pools */

/* A --plugin-dir that does not exist, or a --sandbox (@sandbox; NULL for
 * the pool's default) other than none or strict, is a usage error; any
 * other failure (including a missing default directory) is a failure. */
WpPool *
wp_cli_pool_new (const char *plugin_dir,
                 guint       n_workers,
                 const char *sandbox,
                 const char *launcher,
                 int        *exit_status)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) launcher_argv = NULL;
  WpPool *pool;

  if (plugin_dir != NULL && !g_file_test (plugin_dir, G_FILE_TEST_IS_DIR))
    {
      *exit_status = wp_cli_usage_error ("--plugin-dir: no such directory "
                                         "“%s”", plugin_dir);
      return NULL;
    }
  if (sandbox != NULL && !g_str_equal (sandbox, "none") && !g_str_equal (sandbox, "strict"))
    {
      *exit_status = wp_cli_usage_error ("--sandbox: “%s” is not none or strict", sandbox);
      return NULL;
    }
  if (launcher != NULL && !g_shell_parse_argv (launcher, NULL, &launcher_argv, &error))
    {
      *exit_status = wp_cli_usage_error ("--launcher: %s", error->message);
      return NULL;
    }

  pool = wp_pool_new (plugin_dir, n_workers, &error);
  if (pool == NULL)
    {
      *exit_status = wp_cli_fail (NULL, error);
      wp_cli_hint_worker ();
      return NULL;
    }
  if (sandbox != NULL)
    wp_pool_set_sandbox (pool, g_str_equal (sandbox, "strict") ? WP_SANDBOX_STRICT
                                                               : WP_SANDBOX_NONE);
  if (launcher_argv != NULL)
    wp_pool_set_launcher (pool, (const char * const *) launcher_argv);
  return pool;
}

/* "sandbox: MECHANISMS" on stdout when @pool's workers are confined. */
void
wp_cli_print_sandbox (WpPool *pool)
{
  g_autoptr(GVariant) stats = NULL;
  const char *mechanisms;

  if (wp_pool_get_sandbox (pool) == WP_SANDBOX_NONE)
    return;

  stats = wp_pool_get_stats (pool);
  if (g_variant_lookup (stats, "sandbox", "&s", &mechanisms) && *mechanisms != '\0')
    g_print ("sandbox: %s\n", mechanisms);
}

/* Closes @pool and waits until its workers have exited. */
gboolean
wp_cli_pool_close (WpPool *pool)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  wp_pool_close_async (pool, NULL, wp_cli_store_result, &result);
  if (wp_pool_close_finish (pool, wp_cli_wait (&result), &error))
    return TRUE;
  wp_cli_fail ("closing the pool", error);
  return FALSE;
}

/* Waiting for async operations */

/* A GAsyncReadyCallback: stores a reference to @result in the
 * `GAsyncResult *` that @user_data points to, for wp_cli_wait(). */
void
wp_cli_store_result (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GAsyncResult **result_out = user_data;

  g_assert (*result_out == NULL);
  *result_out = g_object_ref (result);
}

/* Iterates the default main context until wp_cli_store_result() has
 * filled in *@result, and returns it (still owned by *@result). */
GAsyncResult *
wp_cli_wait (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *result;
}
