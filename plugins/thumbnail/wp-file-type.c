/* wp-file-type.c: what a file that is not a regular one is, for the
 * "not a regular file but …" errors of the plugin (a descriptor it was
 * given) and of `workpool thumbnail` (a path it opened).
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "wp-file-type.h"

#include <sys/stat.h>

/* @mode's type as a noun phrase: "a folder", "a socket", … */
const char *
wp_file_type_describe (mode_t mode)
{
  if (S_ISDIR (mode))
    return "a folder";
  /* fstat() cannot tell a named pipe from an anonymous one. */
  if (S_ISFIFO (mode))
    return "a FIFO (named pipe) or pipe";
  if (S_ISSOCK (mode))
    return "a socket";
  if (S_ISCHR (mode))
    return "a character device";
  if (S_ISBLK (mode))
    return "a block device";
  if (S_ISLNK (mode))
    return "a symbolic link";
  return "of an unknown type";
}
