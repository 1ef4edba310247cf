/* fuzz-thumbnail.c: any bytes as an image file given to the thumbnail plugin.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bytes become the source file of wp_thumbnail_write(), the whole job
 * of the plugin's functions: JPEG through wp-jpeg.c (libjpeg-turbo),
 * anything else through gdk-pixbuf (wp-image.c), then scaling, JPEG
 * encoding and the atomic writes of two thumbnails, one in a folder that
 * does not exist yet.  Everything happens in one temporary folder, made
 * once and removed at exit.
 *
 * Asserted: the job succeeds with both thumbnails fitting their boxes, or
 * fails with a GError of a domain the plugin documents; either way no
 * other file is left in the folder (no temporary file survives a
 * failure).  Any warning or critical is fatal (run without
 * G_DEBUG=fatal-criticals, which this harness refines), except those of
 * gdk-pixbuf's own domain: its loaders emit them on some corrupt files
 * (the GIF loader's "gdk_pixbuf_calculate_rowstride: assertion 'height >
 * 0' failed" on a frame of height 0, the TGA loader's "didn't set an
 * error on failure"), which is theirs to fix; the plugin must still fail
 * cleanly, and does.
 *
 * Memory: the plugin's pixel limit bounds what one input makes, so run
 * libFuzzer with -rss_limit_mb=2048.  gdk-pixbuf's BMP loader reserves as
 * many bytes as the header's size field says (up to 4 GiB) before it
 * reads the header (the RSS does not grow: it fills only what the file
 * holds), so -malloc_limit_mb must be over 4096 (tests/fuzz/run.sh: 4160).
 */

#include "config.h"

#include "fuzz-harness.h"

#include <stdlib.h>

#include <glib/gstdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "wp-thumbnail.h"

static char *folder;
static char *source;
static char *subfolder;
static char *large_path;
static char *small_path;

/* See the top comment: warnings and criticals are bugs, but gdk-pixbuf's
 * own are gdk-pixbuf's. */
static GLogWriterOutput
write_log (GLogLevelFlags   log_level,
           const GLogField *fields,
           gsize            n_fields,
           gpointer         user_data)
{
  const char *domain = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0 && fields[i].length < 0)
      domain = fields[i].value;

  if ((log_level & (G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL)) == 0)
    return g_log_writer_default (log_level, fields, n_fields, user_data);
  if (g_strcmp0 (domain, "GdkPixbuf") == 0)
    return G_LOG_WRITER_HANDLED;

  g_log_writer_default (log_level, fields, n_fields, user_data);
  abort ();
}

static void
remove_folder (void)
{
  g_unlink (source);
  g_unlink (large_path);
  g_unlink (small_path);
  g_rmdir (subfolder);
  g_rmdir (folder);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(GError) error = NULL;

  folder = g_dir_make_tmp ("wp-fuzz-thumbnail-XXXXXX", &error);
  if (folder == NULL)
    g_error ("%s", error->message);

  source = g_build_filename (folder, "source", NULL);
  subfolder = g_build_filename (folder, "sub", NULL);
  large_path = g_build_filename (folder, "large.jpg", NULL);
  small_path = g_build_filename (subfolder, "small.jpg", NULL);
  atexit (remove_folder);
  g_log_set_writer_func (write_log, NULL, NULL);
  return 0;
}

/* How many entries @path has; 0 if it does not exist. */
static guint
count_entries (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  if (dir != NULL)
    while (g_dir_read_name (dir) != NULL)
      n++;
  return n;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  WpThumbnailRequest requests[] = {
    { large_path, 160, 120, 0, 0 },
    { small_path, 24, 24, 0, 0 },
  };
  const WpThumbnailOptions options = WP_THUMBNAIL_OPTIONS_INIT;
  g_autoptr(GError) error = NULL;
  gboolean written;

  /* No fsync(), which g_file_set_contents() makes for a file that exists. */
  if (!g_file_set_contents_full (source, (const char *) data, (gssize) size,
                                 G_FILE_SET_CONTENTS_NONE, 0644, &error))
    g_error ("%s", error->message);

  written = wp_thumbnail_write (source, requests, G_N_ELEMENTS (requests),
                                &options, NULL, NULL, &error);

  if (written)
    {
      g_assert_no_error (error);
      for (gsize i = 0; i < G_N_ELEMENTS (requests); i++)
        {
          g_assert_cmpint (requests[i].width, >=, 1);
          g_assert_cmpint (requests[i].width, <=, requests[i].box_width);
          g_assert_cmpint (requests[i].height, >=, 1);
          g_assert_cmpint (requests[i].height, <=, requests[i].box_height);
          g_assert (g_file_test (requests[i].path, G_FILE_TEST_IS_REGULAR));
        }
      /* source, large.jpg, sub/ */
      g_assert_cmpuint (count_entries (folder), ==, 3);
      g_assert_cmpuint (count_entries (subfolder), ==, 1);
    }
  else
    {
      g_assert (error != NULL);
      g_assert (error->domain == GDK_PIXBUF_ERROR || error->domain == G_FILE_ERROR);
      g_assert (error->message[0] != '\0');
      /* A failure stops the job, but what it wrote before stays; nothing
       * else does. */
      g_assert_cmpuint (count_entries (folder),
                        ==, 1 + g_file_test (large_path, G_FILE_TEST_EXISTS)
                            + g_file_test (subfolder, G_FILE_TEST_EXISTS));
      g_assert_cmpuint (count_entries (subfolder), ==, g_file_test (small_path, G_FILE_TEST_EXISTS));
    }

  g_unlink (large_path);
  g_unlink (small_path);
  return 0;
}
