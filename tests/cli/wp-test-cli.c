/* wp-test-cli.c: running the built `workpool` command from a test.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "wp-test-cli.h"

#include <sys/wait.h>

void
wp_cli_run_free (WpCliRun *run)
{
  g_free (run->out);
  g_free (run->err);
  g_free (run);
}

/* `workpool [SUBCOMMAND] ARG…` as a NULL-terminated argv; @subcommand may
 * be NULL. */
GPtrArray *
wp_cli_command_line_new (const char         *subcommand,
                         const char * const *args)
{
  GPtrArray *argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (char *) g_getenv ("WORKPOOL_CLI"));
  if (subcommand != NULL)
    g_ptr_array_add (argv, (char *) subcommand);
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  return argv;
}

/* Runs `workpool [SUBCOMMAND] ARG…` and waits for it to exit; its output
 * goes to the test log. */
WpCliRun *
wp_cli_run_argv (const char         *subcommand,
                 const char * const *args)
{
  g_autoptr(GPtrArray) argv = wp_cli_command_line_new (subcommand, args);
  g_autoptr(GError) error = NULL;
  WpCliRun *run = g_new0 (WpCliRun, 1);
  int wait_status;

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT,
                NULL, NULL, &run->out, &run->err, &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  run->status = WEXITSTATUS (wait_status);
  g_test_message ("exit %d\nstdout:\n%s\nstderr:\n%s", run->status, run->out, run->err);

  return run;
}

const char *
wp_cli_test_launcher (void)
{
  const char *launcher = g_getenv ("WORKPOOL_TEST_LAUNCHER");

  return launcher != NULL && *launcher != '\0' ? launcher : "env";
}
