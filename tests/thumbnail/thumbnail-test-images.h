/* thumbnail-test-images.h: test images made at test time, with libjpeg and gdk-pixbuf.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>

G_BEGIN_DECLS

/* How test_write_jpeg() encodes. */
typedef struct {
  gboolean  progressive;
  gboolean  many_scans;         /* grayscale only: 704 progressive scans */
  gboolean  grayscale;          /* one component */
  gboolean  cmyk;               /* inverted CMYK with an Adobe marker, as Photoshop */
  gboolean  ycck;               /* the same, stored as YCCK */
  int       orientation;        /* EXIF orientation tag to write, 0 for no EXIF */
  gboolean  exif_big_endian;    /* "MM" instead of "II" */
  GBytes   *icc_profile;        /* nullable */
  int       quality;            /* 0 for 95 */
} TestJpegOptions;

/* Colours of the quadrant pattern, clockwise from the top left. */
#define TEST_RED    0xDC1414
#define TEST_GREEN  0x14C814
#define TEST_BLUE   0x1414DC
#define TEST_YELLOW 0xF0F014

GdkPixbuf *test_pattern_quadrants (int                    width,
                                   int                    height);
GdkPixbuf *test_pattern_gradient  (int                    width,
                                   int                    height);
GdkPixbuf *test_pattern_rings     (int                    size,
                                   double                 period);

void       test_write_jpeg        (const char            *path,
                                   GdkPixbuf             *pixbuf,
                                   const TestJpegOptions *options);
void       test_write_png         (const char            *path,
                                   GdkPixbuf             *pixbuf);
void       test_write_big_jpeg    (const char            *path,
                                   int                    width,
                                   int                    height,
                                   gboolean               progressive);
void       test_write_big_jpeg_apart (const char         *path,
                                      int                 width,
                                      int                 height,
                                      gboolean            progressive);

char      *test_make_temp_dir     (const char            *template);
void       test_remove_dir        (const char            *dir);
GBytes    *test_read_bytes        (const char            *path);

guint32    test_pixel             (GdkPixbuf             *pixbuf,
                                   int                    x,
                                   int                    y);
gboolean   test_colour_near       (guint32                colour,
                                   guint32                expected,
                                   int                    tolerance);
void       test_assert_oriented_quadrants (GdkPixbuf     *pixbuf,
                                           int            orientation,
                                           int            stored_width,
                                           int            stored_height);
char      *test_jpeg_markers      (const char            *path);
GBytes    *test_jpeg_icc_profile  (const char            *path);
guint32    test_png_crc           (const guint8          *data,
                                   gsize                  length);

G_END_DECLS
