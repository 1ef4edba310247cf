/* fuzz-main.c: runs a fuzz harness once on each file of a seed corpus.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The main() of a harness in a build without -Dfuzzing=true (gcc), so
 * that every build compiles the harnesses and checks that the corpora
 * still run cleanly: `fuzz-NAME DIR_OR_FILE...`.  Files of a directory
 * run in name order; a run that finds no input fails, so a moved corpus
 * cannot pass unnoticed.
 */

#include "config.h"

#include "fuzz-harness.h"

#include <stdlib.h>

/* Optional, as in libFuzzer: only harnesses with set-up define it. */
#pragma weak LLVMFuzzerInitialize

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

static void
run_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, &error))
    g_error ("%s", error->message);

  g_print ("%s (%" G_GSIZE_FORMAT " bytes)\n", path, length);
  LLVMFuzzerTestOneInput ((const uint8_t *) contents, length);
}

/* Runs every input under @path; returns how many. */
static guint
run_path (const char *path)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      run_file (path);
      return 1;
    }

  dir = g_dir_open (path, 0, &error);
  if (dir == NULL)
    g_error ("%s", error->message);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    run_file (g_ptr_array_index (names, i));

  return names->len;
}

int
main (int    argc,
      char **argv)
{
  guint n_inputs = 0;

  if (LLVMFuzzerInitialize != NULL)
    LLVMFuzzerInitialize (&argc, &argv);

  for (int i = 1; i < argc; i++)
    n_inputs += run_path (argv[i]);

  if (n_inputs == 0)
    {
      g_printerr ("%s: no input to run (usage: %s DIR_OR_FILE...)\n", argv[0], argv[0]);
      return EXIT_FAILURE;
    }

  g_print ("%u inputs ran cleanly\n", n_inputs);
  return EXIT_SUCCESS;
}
