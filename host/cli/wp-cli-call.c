/* wp-cli-call.c: `workpool call`, one job from the command line.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   workpool call [--plugin-dir DIR] [--timeout MS] PLUGIN FUNCTION [ARGS]
 *
 *   $ workpool call demo add '(2, 3)'
 *   (5,)
 *   $ workpool call demo greet "'Ada'"
 *   ('Hello, Ada!',)
 *
 * Steps: describe PLUGIN to learn FUNCTION's args_type; parse ARGS (GVariant
 * text format, "()" when absent) against that type, so that no type
 * annotations are needed, and for a function of one argument accept that
 * argument alone as well as the 1-tuple; run the job; print the result with
 * g_variant_print() on stdout.  ARGS that do not parse are a usage error
 * (exit status 2) showing the expected type and where the text went wrong;
 * a failed describe or job is exit status 1.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "wp-cli-private.h"

typedef struct {
  const char *plugin_dir;   /* NULL: the pool's default */
  const char *plugin;
  const char *function;
  const char *args_text;    /* NULL: no ARGS */
  guint       timeout_ms;   /* 0: none */
} CallRequest;

static GVariant *
describe_plugin (WpPool      *pool,
                 const char  *plugin,
                 GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  wp_pool_describe_async (pool, plugin, NULL, wp_cli_store_result, &result);
  return wp_pool_describe_finish (pool, wp_cli_wait (&result), error);
}

/* The args_type of @function in @description ("(sssa(ssss))"). */
static char *
lookup_args_type (GVariant    *description,
                  const char  *plugin,
                  const char  *function,
                  GError     **error)
{
  g_autoptr(GVariant) functions = g_variant_get_child_value (description, 3);
  const char *name, *args_type;
  GVariantIter iter;

  g_variant_iter_init (&iter, functions);
  while (g_variant_iter_next (&iter, "(&s&s&s&s)",
                              &name, &args_type, NULL, NULL))
    if (strcmp (name, function) == 0)
      return g_strdup (args_type);

  g_set_error (error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_FUNCTION,
               "plugin “%s” has no function “%s”", plugin, function);
  return NULL;
}

/* The type of the one item of @type when it is a 1-tuple, or NULL. */
static const GVariantType *
single_item_type (const GVariantType *type)
{
  if (!g_variant_type_is_tuple (type) || g_variant_type_n_items (type) != 1)
    return NULL;
  return g_variant_type_first (type);
}

/* Parses @request's ARGS as @args_type, or prints a usage error and
 * returns NULL.  For a function of one argument, ARGS may also be that
 * argument alone ("'Ada'" for "(s)"): it is tried as the whole tuple
 * first, so a 1-tuple of a tuple still reads "((1, 2),)" as it always
 * did, and "(1, 2)" as its item. */
static GVariant *
parse_args (const CallRequest *request,
            const char        *args_type)
{
  g_autoptr(GVariantType) type = g_variant_type_new (args_type);
  const GVariantType *item_type = single_item_type (type);
  const char *text = request->args_text ? request->args_text : "()";
  g_autoptr(GError) error = NULL;
  g_autofree char *context = NULL;
  g_autofree char *item_type_text = NULL;
  GVariant *args;

  if (request->args_text == NULL && strcmp (args_type, "()") != 0)
    {
      wp_cli_usage_error ("missing ARGS: %s %s takes a value of type %s",
                          request->plugin, request->function, args_type);
      return NULL;
    }

  args = g_variant_parse (type, text, NULL, NULL, &error);
  if (args != NULL)
    return args;

  if (item_type != NULL)
    {
      g_autoptr(GVariant) item = g_variant_parse (item_type, text, NULL, NULL, NULL);

      /* Not floating, as g_variant_parse() returns it. */
      if (item != NULL)
        return g_variant_ref_sink (g_variant_new_tuple (&item, 1));
    }

  context = g_variant_parse_error_print_context (error, text);
  if (item_type == NULL)
    {
      wp_cli_usage_error ("ARGS is not a value of type %s\n%s",
                          args_type, g_strchomp (context));
      return NULL;
    }
  item_type_text = g_variant_type_dup_string (item_type);
  wp_cli_usage_error ("ARGS is not a value of type %s, nor of type %s alone\n%s",
                      args_type, item_type_text, g_strchomp (context));
  return NULL;
}

static GVariant *
call_function (WpPool             *pool,
               const CallRequest  *request,
               GVariant           *args,
               GError            **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  wp_pool_call_full_async (pool, request->plugin, request->function, args,
                           request->timeout_ms, G_PRIORITY_DEFAULT, NULL,
                           wp_cli_store_result, &result);
  return wp_pool_call_finish (pool, wp_cli_wait (&result), error);
}

/* Prints @error, and what to do about it where the command knows. */
static int
fail (const CallRequest *request,
      const GError      *error)
{
  int status = wp_cli_fail (NULL, error);

  wp_cli_hint_list (error, request->plugin_dir);
  if (g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_FAILED))
    wp_cli_hint_worker ();
  return status;
}

static int
run_call (WpPool            *pool,
          const CallRequest *request)
{
  g_autoptr(GVariant) description = NULL;
  g_autoptr(GVariant) args = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *args_type = NULL;
  g_autofree char *text = NULL;

  description = describe_plugin (pool, request->plugin, &error);
  if (description == NULL)
    return fail (request, error);
  args_type = lookup_args_type (description, request->plugin,
                                request->function, &error);
  if (args_type == NULL)
    return fail (request, error);
  args = parse_args (request, args_type);
  if (args == NULL)
    return WP_CLI_EXIT_USAGE;

  result = call_function (pool, request, args, &error);
  if (result == NULL)
    return fail (request, error);

  /* GVariant text is UTF-8: print it as is, not in the locale's charset. */
  text = g_variant_print (result, TRUE);
  printf ("%s\n", text);
  return WP_CLI_EXIT_OK;
}

static GOptionContext *
call_option_context_new (char **plugin_dir,
                         char **sandbox,
                         char **launcher,
                         int   *timeout_ms)
{
  const GOptionEntry entries[] = {
    WP_CLI_OPTION_PLUGIN_DIR (plugin_dir),
    WP_CLI_OPTION_SANDBOX (sandbox, "$WORKPOOL_SANDBOX, else none"),
    WP_CLI_OPTION_LAUNCHER (launcher),
    { "timeout", 0, 0, G_OPTION_ARG_INT, timeout_ms,
      "Fail the job when it runs longer than MS milliseconds "
      "(default: 0, no limit)", "MS" },
    G_OPTION_ENTRY_NULL
  };
  GOptionContext *context = g_option_context_new ("PLUGIN FUNCTION [ARGS]");

  g_option_context_set_summary (context,
                                "Calls FUNCTION of PLUGIN in a worker process "
                                "and prints its result.");
  g_option_context_set_description (context,
                                    "ARGS is the argument tuple in GVariant "
                                    "text format, read as the function's\n"
                                    "argument type (see “workpool list”); "
                                    "without ARGS, the empty tuple ().  A "
                                    "function of one argument\n"
                                    "also takes that argument alone.\n"
                                    "Examples: workpool call demo add '(2, 3)'\n"
                                    "          workpool call demo greet \"'Ada'\"");
  g_option_context_add_main_entries (context, entries, NULL);
  return context;
}

int
wp_cli_call (int    argc,
             char **argv)
{
  g_autofree char *plugin_dir = NULL;
  g_autofree char *sandbox = NULL;
  g_autofree char *launcher = NULL;
  int timeout_ms = 0;
  g_autoptr(GOptionContext) context = call_option_context_new (&plugin_dir, &sandbox,
                                                               &launcher, &timeout_ms);
  g_autoptr(WpPool) pool = NULL;
  CallRequest request = { NULL, };
  int status = WP_CLI_EXIT_OK;

  if (!wp_cli_parse_options (context, &argc, &argv))
    return WP_CLI_EXIT_USAGE;
  if (argc < 3)
    return wp_cli_usage_error ("PLUGIN and FUNCTION are required");
  if (argc > 4)
    return wp_cli_usage_error ("unexpected argument “%s” (quote ARGS as "
                               "one word)", argv[4]);
  if (timeout_ms < 0)
    return wp_cli_usage_error ("--timeout: %d is negative", timeout_ms);

  request.plugin_dir = plugin_dir;
  request.plugin = argv[1];
  request.function = argv[2];
  request.args_text = argc > 3 ? argv[3] : NULL;
  request.timeout_ms = timeout_ms;

  pool = wp_cli_pool_new (plugin_dir, 1, sandbox, launcher, &status);
  if (pool == NULL)
    return status;
  status = run_call (pool, &request);
  if (!wp_cli_pool_close (pool))
    status = WP_CLI_EXIT_FAILED;
  return status;
}
