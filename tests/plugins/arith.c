/* arith.c: a test plugin with integer arithmetic and plugin errors.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Covers a typed function with arguments ("add"), a function that fails on
 * some input with a GIO error ("div" by zero: G_IO_ERROR_INVALID_ARGUMENT),
 * and functions that fail with an error whose domain, code and message the
 * caller chooses ("fail": G_FILE_ERROR_NOENT; "fail_with": any domain,
 * even one the host process has never heard of), to check that plugin
 * errors reach the caller unchanged.
 */

#include <workpool/wp-plugin.h>

static GVariant *
add (GVariant      *args,
     GCancellable  *cancellable,
     GError       **error)
{
  gint32 a, b;

  g_variant_get (args, "(ii)", &a, &b);
  return g_variant_new ("(i)", a + b);
}

static GVariant *
divide (GVariant      *args,
        GCancellable  *cancellable,
        GError       **error)
{
  gint32 a, b;

  g_variant_get (args, "(ii)", &a, &b);
  if (b == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "division by zero");
      return NULL;
    }

  return g_variant_new ("(i)", a / b);
}

static GVariant *
fail (GVariant      *args,
      GCancellable  *cancellable,
      GError       **error)
{
  const char *message;

  g_variant_get (args, "(&s)", &message);
  g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, message);
  return NULL;
}

static GVariant *
fail_with (GVariant      *args,
           GCancellable  *cancellable,
           GError       **error)
{
  const char *domain, *message;
  gint32 code;

  g_variant_get (args, "(&si&s)", &domain, &code, &message);
  g_set_error_literal (error, g_quark_from_string (domain), code, message);
  return NULL;
}

static const WpFunction functions[] = {
  { "add", "(ii)", "(i)", add, "Adds two integers" },
  { "div", "(ii)", "(i)", divide, "Divides two integers; fails on zero" },
  { "fail", "(s)", "()", fail, "Fails with G_FILE_ERROR_NOENT and the given message" },
  { "fail_with", "(sis)", "()", fail_with, "Fails with the given domain, code and message" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "arith", "1.0", "Integer arithmetic and plugin errors", functions,
};

WP_PLUGIN_DEFINE (plugin)
