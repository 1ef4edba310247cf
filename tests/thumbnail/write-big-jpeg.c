/* write-big-jpeg.c: writes one test_write_big_jpeg() file, in a process of its own.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   write-big-jpeg PATH WIDTH HEIGHT baseline|progressive
 *
 * The tests run it (test_write_big_jpeg_apart()) rather than writing
 * hundreds of megapixels themselves: under `meson test --setup valgrind`,
 * valgrind does not follow child processes, so the fixture is written at
 * full speed and only the code under test runs under valgrind.
 */

#include <stdlib.h>
#include <string.h>

#include "thumbnail-test-images.h"

int
main (int    argc,
      char **argv)
{
  if (argc != 5 || (strcmp (argv[4], "baseline") != 0 && strcmp (argv[4], "progressive") != 0))
    {
      g_printerr ("usage: write-big-jpeg PATH WIDTH HEIGHT baseline|progressive\n");
      return 2;
    }

  test_write_big_jpeg (argv[1], atoi (argv[2]), atoi (argv[3]),
                       strcmp (argv[4], "progressive") == 0);
  return 0;
}
