/* demo.c: the example plugin shipped with workpool.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Four small functions that show what a plugin is made of.  Each one gets
 * its arguments as a GVariant tuple of its args_type and returns a new
 * GVariant of its result_type, or NULL with a GError, which reaches the
 * caller with its own domain, code and message:
 *
 *   $ workpool call demo add '(2, 3)'
 *   (5,)
 *   $ workpool call demo divide '(1.0, 0.0)'
 *   workpool: g-io-error-quark:13: cannot divide by zero
 *   $ workpool call demo add '(2147483647, 1)'
 *   workpool: g-io-error-quark:13: 2147483647 + 1 overflows a 32-bit integer
 *
 * The pool checks the arguments against args_type before a function runs,
 * so g_variant_get() with the same format cannot fail here.
 */

#include <workpool/wp-plugin.h>

static GVariant *
demo_add (GVariant      *args,
          GCancellable  *cancellable,
          GError       **error)
{
  gint32 a, b;
  gint64 sum;

  g_variant_get (args, "(ii)", &a, &b);
  /* The sum of two int32 may not fit one (and signed overflow is
   * undefined in C): add in 64 bits and refuse what does not fit. */
  sum = (gint64) a + b;
  if (sum < G_MININT32 || sum > G_MAXINT32)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%" G_GINT32_FORMAT " + %" G_GINT32_FORMAT " overflows a 32-bit integer",
                   a, b);
      return NULL;
    }
  return g_variant_new ("(i)", (gint32) sum);
}

static GVariant *
demo_greet (GVariant      *args,
            GCancellable  *cancellable,
            GError       **error)
{
  const char *name;
  g_autofree char *greeting = NULL;

  g_variant_get (args, "(&s)", &name);
  greeting = g_strdup_printf ("Hello, %s!", name);
  return g_variant_new ("(s)", greeting);
}

static GVariant *
demo_divide (GVariant      *args,
             GCancellable  *cancellable,
             GError       **error)
{
  double a, b;

  g_variant_get (args, "(dd)", &a, &b);
  if (b == 0.0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "cannot divide by zero");
      return NULL;
    }
  return g_variant_new ("(d)", a / b);
}

static guint32
count_words (const char *text,
             gsize       length)
{
  gboolean in_word = FALSE;
  guint32 n_words = 0;

  for (gsize i = 0; i < length; i++)
    {
      gboolean space = g_ascii_isspace (text[i]);

      if (!space && !in_word)
        n_words++;
      in_word = !space;
    }
  return n_words;
}

static GVariant *
demo_wordcount (GVariant      *args,
                GCancellable  *cancellable,
                GError       **error)
{
  const char *path;
  g_autofree char *contents = NULL;
  gsize length;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  g_variant_get (args, "(&s)", &path);
  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  return g_variant_new ("(u)", count_words (contents, length));
}

static const WpFunction demo_functions[] = {
  { "add",       "(ii)", "(i)", demo_add,       "Adds two integers" },
  { "greet",     "(s)",  "(s)", demo_greet,     "Says hello to NAME" },
  { "divide",    "(dd)", "(d)", demo_divide,    "Divides A by B; fails when B is zero" },
  { "wordcount", "(s)",  "(u)", demo_wordcount, "Counts the words in the file at PATH" },
  { NULL }
};

static const WpPlugin demo_plugin = {
  .abi_version = WP_PLUGIN_ABI_VERSION,
  .struct_size = sizeof (WpPlugin),
  .name        = "demo",
  .version     = "1.0",
  .summary     = "Small example functions for plugin authors",
  .functions   = demo_functions,
};

WP_PLUGIN_DEFINE (demo_plugin)
