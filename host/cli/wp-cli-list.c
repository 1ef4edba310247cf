/* wp-cli-list.c: `workpool list`, the plugins and their functions.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   workpool list [--plugin-dir DIR] [--sandbox none|strict]
 *
 * Prints every plugin of the plugin directory, in name order, with its
 * version and summary, then one aligned line per function:
 *
 *   demo 1.0: Small example functions for plugin authors
 *     add        (ii) -> (i)  Adds two integers
 *     greet      (s) -> (s)   Says hello to NAME
 *
 * All plugins are described at once (the pool spreads the describe jobs
 * over its workers) and printed in order as their answers come in.  A
 * plugin that cannot describe itself is listed as "(unavailable)" and its
 * error goes to stderr; the others are still listed, and the exit status
 * is 1.  With --sandbox=strict (or $WORKPOOL_SANDBOX=strict) a last line
 * says which mechanisms confine the workers:
 *
 *   sandbox: landlock (ABI 7), seccomp, no-new-privs, rlimits
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "wp-cli-private.h"

#define SIGNATURE_ARROW " -> "

static char *
format_signature (const char *args_type,
                  const char *result_type)
{
  return g_strconcat (args_type, SIGNATURE_ARROW, result_type, NULL);
}

/* @functions is the "a(ssss)" of a description: (name, args_type,
 * result_type, summary).  Two passes: column widths, then lines. */
static void
print_functions (GVariant *functions)
{
  const char *name, *args_type, *result_type, *summary;
  int name_width = 0, signature_width = 0;
  GVariantIter iter;

  g_variant_iter_init (&iter, functions);
  while (g_variant_iter_next (&iter, "(&s&s&s&s)",
                              &name, &args_type, &result_type, &summary))
    {
      name_width = MAX (name_width, (int) strlen (name));
      signature_width = MAX (signature_width,
                             (int) (strlen (args_type) + strlen (SIGNATURE_ARROW)
                                    + strlen (result_type)));
    }

  g_variant_iter_init (&iter, functions);
  while (g_variant_iter_next (&iter, "(&s&s&s&s)",
                              &name, &args_type, &result_type, &summary))
    {
      g_autofree char *signature = format_signature (args_type, result_type);
      g_autofree char *line = g_strdup_printf ("  %-*s  %-*s  %s",
                                               name_width, name,
                                               signature_width, signature,
                                               summary);

      g_print ("%s\n", g_strchomp (line));
    }
}

/* @description is "(sssa(ssss))": name, version, summary, functions.  The
 * plugin is shown under @name, its file name, which `workpool call` takes. */
static void
print_plugin (const char *name,
              GVariant   *description)
{
  const char *version, *summary;
  g_autoptr(GVariant) functions = NULL;

  g_variant_get (description, "(&s&s&s@a(ssss))",
                 NULL, &version, &summary, &functions);
  g_print ("%s %s: %s\n", name, version, summary);
  print_functions (functions);
}

/* Waits for the describe job of @name and prints it; FALSE if it failed. */
static gboolean
finish_plugin (WpPool        *pool,
               const char    *name,
               GAsyncResult **pending)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GVariant) description = NULL;
  g_autoptr(GError) error = NULL;

  wp_cli_wait (pending);
  result = g_steal_pointer (pending);
  description = wp_pool_describe_finish (pool, result, &error);
  if (description == NULL)
    {
      g_print ("%s (unavailable)\n", name);
      fflush (stdout);
      wp_cli_fail (name, error);
      return FALSE;
    }
  print_plugin (name, description);
  return TRUE;
}

static int
list_plugins (WpPool *pool)
{
  g_auto(GStrv) names = wp_pool_list_plugins (pool);
  guint n_names = g_strv_length (names);
  g_autofree GAsyncResult **pending = g_new0 (GAsyncResult *, n_names);
  int status = WP_CLI_EXIT_OK;

  if (n_names == 0)
    {
      g_printerr ("workpool: no plugins in “%s”\n",
                  wp_pool_get_plugin_dir (pool));
      return WP_CLI_EXIT_OK;
    }

  for (guint i = 0; i < n_names; i++)
    wp_pool_describe_async (pool, names[i], NULL,
                            wp_cli_store_result, &pending[i]);

  for (guint i = 0; i < n_names; i++)
    {
      if (i > 0)
        g_print ("\n");
      if (!finish_plugin (pool, names[i], &pending[i]))
        status = WP_CLI_EXIT_FAILED;
    }
  /* Once, after the plugins that failed for want of a worker. */
  if (status != WP_CLI_EXIT_OK)
    wp_cli_hint_worker ();
  return status;
}

int
wp_cli_list (int    argc,
             char **argv)
{
  g_autofree char *plugin_dir = NULL;
  g_autofree char *sandbox = NULL;
  const GOptionEntry entries[] = {
    WP_CLI_OPTION_PLUGIN_DIR (&plugin_dir),
    WP_CLI_OPTION_SANDBOX (&sandbox, "$WORKPOOL_SANDBOX, else none"),
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(WpPool) pool = NULL;
  int status = WP_CLI_EXIT_OK;

  g_option_context_set_summary (context, "Lists the plugins, their versions "
                                         "and their functions.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!wp_cli_parse_options (context, &argc, &argv))
    return WP_CLI_EXIT_USAGE;
  if (argc > 1)
    return wp_cli_usage_error ("unexpected argument “%s”", argv[1]);

  pool = wp_cli_pool_new (plugin_dir, 0, sandbox, NULL, &status);
  if (pool == NULL)
    return status;
  status = list_plugins (pool);
  if (status == WP_CLI_EXIT_OK)
    wp_cli_print_sandbox (pool);
  if (!wp_cli_pool_close (pool))
    status = WP_CLI_EXIT_FAILED;
  return status;
}
