/* thumbnail-test-images.c: test images made at test time, with libjpeg and gdk-pixbuf.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The tests draw their input images here instead of committing them, so
 * that every property under test (EXIF orientation, CMYK, progressive,
 * ICC profile...) is visible in the code that makes it.  JPEG files are
 * written with libjpeg directly, not with the plugin's encoder, so that a
 * bug in one cannot hide a bug in the other.  Any failure here aborts the
 * test: these are fixtures, not code under test.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <jpeglib.h>

#include "thumbnail-test-images.h"

static void
put_pixel (GdkPixbuf *pixbuf,
           int        x,
           int        y,
           guint32    rgb)
{
  guint8 *p = gdk_pixbuf_get_pixels (pixbuf)
              + y * gdk_pixbuf_get_rowstride (pixbuf)
              + x * gdk_pixbuf_get_n_channels (pixbuf);

  p[0] = (rgb >> 16) & 0xFF;
  p[1] = (rgb >> 8) & 0xFF;
  p[2] = rgb & 0xFF;
}

/**
 * test_pattern_quadrants:
 *
 * An RGB image in four quadrants: TEST_RED at the top left, TEST_GREEN at
 * the top right, TEST_YELLOW at the bottom right, TEST_BLUE at the bottom
 * left.  No two corners are alike and no flip or rotation maps the
 * pattern onto itself, so a test can tell every orientation apart.
 */
GdkPixbuf *
test_pattern_quadrants (int width,
                        int height)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  int x, y;

  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++)
      {
        gboolean right = x >= width / 2, bottom = y >= height / 2;
        guint32 colour = bottom ? (right ? TEST_YELLOW : TEST_BLUE)
                                : (right ? TEST_GREEN : TEST_RED);
        put_pixel (pixbuf, x, y, colour);
      }

  return pixbuf;
}

/**
 * test_pattern_gradient:
 *
 * A smooth RGB image: red grows left to right, green top to bottom.
 */
GdkPixbuf *
test_pattern_gradient (int width,
                       int height)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  int x, y;

  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++)
      {
        guint r = width > 1 ? 255u * x / (width - 1) : 128;
        guint g = height > 1 ? 255u * y / (height - 1) : 128;
        put_pixel (pixbuf, x, y, r << 16 | g << 8 | 0x60);
      }

  return pixbuf;
}

/* Grey concentric rings around the centre, 128 + 127 cos (2 pi r / period)
 * at a distance r from it: fine repeating detail, which a reduction to a
 * size where one pixel spans more than half a period must smooth to a
 * flat grey, and which a poor filter shows as coarse rings (moiré). */
GdkPixbuf *
test_pattern_rings (int    size,
                    double period)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, size, size);
  double centre = size / 2.0;
  int x, y;

  for (y = 0; y < size; y++)
    for (x = 0; x < size; x++)
      {
        double r = hypot (x + 0.5 - centre, y + 0.5 - centre);
        guint v = (guint) floor (128.0 + 127.0 * cos (2 * G_PI * r / period) + 0.5);

        put_pixel (pixbuf, x, y, v << 16 | v << 8 | v);
      }

  return pixbuf;
}

static void
test_jpeg_error_exit (j_common_ptr cinfo)
{
  char message[JMSG_LENGTH_MAX];

  cinfo->err->format_message (cinfo, message);
  g_error ("libjpeg failed writing a test image: %s", message);
}

/* Starts writing @path with @cinfo, failing the test on any error. */
static FILE *
compress_begin (struct jpeg_compress_struct *cinfo,
                struct jpeg_error_mgr       *jerr,
                const char                  *path)
{
  FILE *file = fopen (path, "wb");

  g_assert_nonnull (file);
  cinfo->err = jpeg_std_error (jerr);
  jerr->error_exit = test_jpeg_error_exit;
  jpeg_create_compress (cinfo);
  jpeg_stdio_dest (cinfo, file);
  return file;
}

static void
compress_end (struct jpeg_compress_struct *cinfo,
              FILE                        *file)
{
  jpeg_finish_compress (cinfo);
  jpeg_destroy_compress (cinfo);
  g_assert_cmpint (fclose (file), ==, 0);
}

static GBytes *
exif_orientation_block (int      orientation,
                        gboolean big_endian)
{
  /* "Exif\0\0", a TIFF header, IFD0 with one entry (Orientation, SHORT,
   * count 1), no next IFD. */
  guint8 block[6 + 8 + 2 + 12 + 4] = { 'E', 'x', 'i', 'f', 0, 0 };
  guint8 *tiff = block + 6;

#define PUT16(p, v) G_STMT_START {                                 \
    (p)[big_endian ? 0 : 1] = ((v) >> 8) & 0xFF;                   \
    (p)[big_endian ? 1 : 0] = (v) & 0xFF; } G_STMT_END
#define PUT32(p, v) G_STMT_START {                                 \
    PUT16 ((p) + (big_endian ? 0 : 2), ((v) >> 16) & 0xFFFF);      \
    PUT16 ((p) + (big_endian ? 2 : 0), (v) & 0xFFFF); } G_STMT_END

  tiff[0] = tiff[1] = big_endian ? 'M' : 'I';
  PUT16 (tiff + 2, 42);
  PUT32 (tiff + 4, 8);
  PUT16 (tiff + 8, 1);
  PUT16 (tiff + 10, 0x0112);
  PUT16 (tiff + 12, 3);
  PUT32 (tiff + 14, 1);
  PUT16 (tiff + 18, orientation);
  PUT16 (tiff + 20, 0);
  PUT32 (tiff + 22, 0);

#undef PUT16
#undef PUT32

  return g_bytes_new (block, sizeof block);
}

/**
 * test_write_jpeg:
 * @path: where to write
 * @pixbuf: an RGB image
 * @options: (nullable): how to encode it
 *
 * Writes @pixbuf as a JPEG file with libjpeg.
 */
void
test_write_jpeg (const char            *path,
                 GdkPixbuf             *pixbuf,
                 const TestJpegOptions *options)
{
  static const TestJpegOptions defaults = { 0, };
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr jerr;
  int width = gdk_pixbuf_get_width (pixbuf);
  int height = gdk_pixbuf_get_height (pixbuf);
  int n_channels = gdk_pixbuf_get_n_channels (pixbuf);
  g_autofree guint8 *row = NULL;
  g_autofree jpeg_scan_info *scans = NULL;
  FILE *file;
  int components;

  if (options == NULL)
    options = &defaults;

  file = compress_begin (&cinfo, &jerr, path);

  if (options->grayscale)
    {
      components = 1;
      cinfo.in_color_space = JCS_GRAYSCALE;
    }
  else if (options->cmyk || options->ycck)
    {
      components = 4;
      cinfo.in_color_space = JCS_CMYK;
    }
  else
    {
      components = 3;
      cinfo.in_color_space = JCS_RGB;
    }

  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = components;
  jpeg_set_defaults (&cinfo);
  if (options->ycck)
    jpeg_set_colorspace (&cinfo, JCS_YCCK);
  jpeg_set_quality (&cinfo, options->quality > 0 ? options->quality : 95, TRUE);
  if (options->progressive)
    jpeg_simple_progression (&cinfo);

  if (options->many_scans)
    {
      /* Every bit of every coefficient in its own scan: DC, then each AC
       * coefficient alone, each first with its 10 low bits dropped (the
       * most libjpeg allows), then refined one bit per scan. */
      gsize n = 0;
      int k, bit;

      g_assert (options->grayscale);
      scans = g_new0 (jpeg_scan_info, 64 * 11);
      for (k = 0; k < 64; k++)
        for (bit = 10; bit >= 0; bit--)
          {
            jpeg_scan_info *scan = &scans[n++];

            scan->comps_in_scan = 1;
            scan->component_index[0] = 0;
            scan->Ss = k;
            scan->Se = k;
            scan->Ah = bit == 10 ? 0 : bit + 1;
            scan->Al = bit;
          }
      cinfo.scan_info = scans;
      cinfo.num_scans = (int) n;
    }

  jpeg_start_compress (&cinfo, TRUE);

  if (options->orientation != 0)
    {
      g_autoptr(GBytes) exif = exif_orientation_block (options->orientation,
                                                       options->exif_big_endian);
      gsize length;
      const guint8 *data = g_bytes_get_data (exif, &length);

      jpeg_write_marker (&cinfo, JPEG_APP0 + 1, data, (unsigned int) length);
    }

  if (options->icc_profile != NULL)
    {
      gsize length;
      const guint8 *data = g_bytes_get_data (options->icc_profile, &length);

      jpeg_write_icc_profile (&cinfo, data, (unsigned int) length);
    }

  row = g_malloc ((gsize) width * components);
  while (cinfo.next_scanline < cinfo.image_height)
    {
      const guint8 *src = gdk_pixbuf_read_pixels (pixbuf)
                          + cinfo.next_scanline * gdk_pixbuf_get_rowstride (pixbuf);
      JSAMPROW rows[1] = { row };
      int x;

      for (x = 0; x < width; x++, src += n_channels)
        {
          guint r = src[0], g = src[1], b = src[2];

          if (components == 1)
            {
              row[x] = (guint8) ((299 * r + 587 * g + 114 * b + 500) / 1000);
            }
          else if (components == 4)
            {
              /* Naive CMYK, stored inverted as Adobe applications do:
               * 255 means no ink. */
              guint max = MAX (r, MAX (g, b));
              guint8 *cmyk = row + x * 4;

              cmyk[0] = max > 0 ? (guint8) (255 * r / max) : 255;
              cmyk[1] = max > 0 ? (guint8) (255 * g / max) : 255;
              cmyk[2] = max > 0 ? (guint8) (255 * b / max) : 255;
              cmyk[3] = (guint8) max;
            }
          else
            {
              row[x * 3] = r;
              row[x * 3 + 1] = g;
              row[x * 3 + 2] = b;
            }
        }

      jpeg_write_scanlines (&cinfo, rows, 1);
    }

  compress_end (&cinfo, file);
}

/**
 * test_write_png:
 * @path: where to write
 * @pixbuf: an RGB or RGBA image
 */
void
test_write_png (const char *path,
                GdkPixbuf  *pixbuf)
{
  g_autoptr(GError) error = NULL;

  gdk_pixbuf_save (pixbuf, path, "png", &error, NULL);
  g_assert_no_error (error);
}

/* Where the displayed pixel (x, y) of a @dw x @dh displayed image comes
 * from in the stored image, for each EXIF orientation (TIFF 6.0 / EXIF
 * 2.3: the tag says where the stored 0th row and 0th column are shown). */
static void
stored_coordinates (int  orientation,
                    int  dw,
                    int  dh,
                    int  x,
                    int  y,
                    int *sx,
                    int *sy)
{
  switch (orientation)
    {
    case 1: *sx = x;          *sy = y;          break; /* row 0 top, column 0 left */
    case 2: *sx = dw - 1 - x; *sy = y;          break; /* row 0 top, column 0 right */
    case 3: *sx = dw - 1 - x; *sy = dh - 1 - y; break; /* row 0 bottom, column 0 right */
    case 4: *sx = x;          *sy = dh - 1 - y; break; /* row 0 bottom, column 0 left */
    case 5: *sx = y;          *sy = x;          break; /* row 0 left, column 0 top */
    case 6: *sx = y;          *sy = dw - 1 - x; break; /* row 0 right, column 0 top */
    case 7: *sx = dh - 1 - y; *sy = dw - 1 - x; break; /* row 0 right, column 0 bottom */
    case 8: *sx = dh - 1 - y; *sy = x;          break; /* row 0 left, column 0 bottom */
    default: g_assert_not_reached ();
    }
}

/**
 * test_assert_oriented_quadrants:
 *
 * Checks that @pixbuf shows test_pattern_quadrants() of a @stored_width x
 * @stored_height image stored with EXIF @orientation, as a viewer shows
 * it: the centre of each quadrant of @pixbuf has the colour that lands
 * there.
 */
void
test_assert_oriented_quadrants (GdkPixbuf *pixbuf,
                                int        orientation,
                                int        stored_width,
                                int        stored_height)
{
  int dw = gdk_pixbuf_get_width (pixbuf), dh = gdk_pixbuf_get_height (pixbuf);
  int qx, qy;

  for (qy = 1; qy <= 3; qy += 2)
    for (qx = 1; qx <= 3; qx += 2)
      {
        int x = dw * qx / 4, y = dh * qy / 4, sx, sy;
        gboolean right, bottom;
        guint32 colour, expected;

        /* Map through the displayed size, then scale to the stored one. */
        stored_coordinates (orientation, dw, dh, x, y, &sx, &sy);
        if (orientation >= 5)
          {
            sx = sx * stored_width / dh;
            sy = sy * stored_height / dw;
          }
        else
          {
            sx = sx * stored_width / dw;
            sy = sy * stored_height / dh;
          }
        right = sx >= stored_width / 2;
        bottom = sy >= stored_height / 2;

        expected = bottom ? (right ? TEST_YELLOW : TEST_BLUE)
                          : (right ? TEST_GREEN : TEST_RED);
        colour = test_pixel (pixbuf, x, y);
        if (!test_colour_near (colour, expected, 40))
          g_error ("orientation %d: pixel (%d, %d) of %dx%d is %06X, expected %06X",
                   orientation, x, y, dw, dh, colour, expected);
      }
}

/**
 * test_png_crc:
 *
 * Returns: PNG's CRC-32 (ISO 3309) of @data, computed bit by bit: the
 *   tests need a handful
 */
guint32
test_png_crc (const guint8 *data,
              gsize         length)
{
  guint32 crc = 0xFFFFFFFF;
  gsize i;
  int bit;

  for (i = 0; i < length; i++)
    {
      crc ^= data[i];
      for (bit = 0; bit < 8; bit++)
        crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1));
    }
  return crc ^ 0xFFFFFFFF;
}

/**
 * test_pixel:
 *
 * Returns: the pixel at (@x, @y) as 0xRRGGBB
 */
guint32
test_pixel (GdkPixbuf *pixbuf,
            int        x,
            int        y)
{
  const guint8 *p;

  g_assert_cmpint (x, >=, 0);
  g_assert_cmpint (y, >=, 0);
  g_assert_cmpint (x, <, gdk_pixbuf_get_width (pixbuf));
  g_assert_cmpint (y, <, gdk_pixbuf_get_height (pixbuf));

  p = gdk_pixbuf_read_pixels (pixbuf)
      + y * gdk_pixbuf_get_rowstride (pixbuf)
      + x * gdk_pixbuf_get_n_channels (pixbuf);

  return (guint32) p[0] << 16 | (guint32) p[1] << 8 | p[2];
}

/**
 * test_colour_near:
 *
 * Returns: whether each channel of @colour is within @tolerance of
 *   @expected's
 */
gboolean
test_colour_near (guint32 colour,
                  guint32 expected,
                  int     tolerance)
{
  int shift;

  for (shift = 0; shift <= 16; shift += 8)
    {
      int a = (colour >> shift) & 0xFF, b = (expected >> shift) & 0xFF;

      if (ABS (a - b) > tolerance)
        return FALSE;
    }

  return TRUE;
}

/**
 * test_jpeg_markers:
 * @path: a JPEG file
 *
 * Lists the markers of a JPEG file before its first scan, e.g.
 * "APP0 APP2 DQT SOF0 DHT SOS".
 *
 * Returns: (transfer full): the list, space-separated
 */
char *
test_jpeg_markers (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *data = NULL;
  GString *markers = g_string_new (NULL);
  gsize length, offset = 2;

  g_file_get_contents (path, (char **) &data, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, >=, 4);
  g_assert_cmpuint (data[0], ==, 0xFF);
  g_assert_cmpuint (data[1], ==, 0xD8);

  while (offset + 4 <= length)
    {
      guint code;

      g_assert_cmpuint (data[offset], ==, 0xFF);
      code = data[offset + 1];

      if (markers->len > 0)
        g_string_append_c (markers, ' ');

      if (code >= 0xE0 && code <= 0xEF)
        g_string_append_printf (markers, "APP%u", code - 0xE0);
      else if (code == 0xDB)
        g_string_append (markers, "DQT");
      else if (code == 0xC4)
        g_string_append (markers, "DHT");
      else if (code >= 0xC0 && code <= 0xC2)
        g_string_append_printf (markers, "SOF%u", code - 0xC0);
      else if (code == 0xFE)
        g_string_append (markers, "COM");
      else if (code == 0xDA)
        g_string_append (markers, "SOS");
      else
        g_string_append_printf (markers, "%02X", code);

      if (code == 0xDA)
        break;

      offset += 2 + ((gsize) data[offset + 2] << 8 | data[offset + 3]);
    }

  return g_string_free (markers, FALSE);
}

/**
 * test_jpeg_icc_profile:
 * @path: a JPEG file
 *
 * Reads a JPEG file's ICC profile with libjpeg.
 *
 * Returns: (transfer full) (nullable): the profile
 */
GBytes *
test_jpeg_icc_profile (const char *path)
{
  struct jpeg_decompress_struct cinfo;
  struct jpeg_error_mgr jerr;
  JOCTET *data = NULL;
  unsigned int length = 0;
  GBytes *profile = NULL;
  FILE *file;

  file = fopen (path, "rb");
  g_assert_nonnull (file);

  cinfo.err = jpeg_std_error (&jerr);
  jerr.error_exit = test_jpeg_error_exit;
  jpeg_create_decompress (&cinfo);
  jpeg_stdio_src (&cinfo, file);
  jpeg_save_markers (&cinfo, JPEG_APP0 + 2, 0xFFFF);
  jpeg_read_header (&cinfo, TRUE);

  if (jpeg_read_icc_profile (&cinfo, &data, &length))
    {
      profile = g_bytes_new (data, length);
      free (data);
    }

  jpeg_destroy_decompress (&cinfo);
  fclose (file);

  return profile;
}

/* The JPEG (JFIF) YCbCr of an sRGB colour. */
static void
rgb_to_ycbcr (guint32  rgb,
              guint8  *ycbcr)
{
  double r = (rgb >> 16) & 0xFF, g = (rgb >> 8) & 0xFF, b = rgb & 0xFF;

  ycbcr[0] = (guint8) CLAMP (0.299 * r + 0.587 * g + 0.114 * b + 0.5, 0, 255);
  ycbcr[1] = (guint8) CLAMP (128 - 0.168736 * r - 0.331264 * g + 0.5 * b + 0.5, 0, 255);
  ycbcr[2] = (guint8) CLAMP (128 + 0.5 * r - 0.418688 * g - 0.081312 * b + 0.5, 0, 255);
}

/**
 * test_write_big_jpeg:
 * @path: the file to write
 * @width: up to 65500
 * @height: up to 65500
 * @progressive: progressive (four scans) or baseline
 *
 * Writes test_pattern_quadrants() at @width x @height as phones write
 * their photos, YCbCr 4:2:0 at quality 90, without ever holding the
 * image: the planes are made 16 rows at a time and given to libjpeg as
 * raw data, so a 200-megapixel baseline file takes a second or two.  (A
 * progressive file makes libjpeg hold every coefficient, 3 bytes per
 * pixel, while it writes.)
 */
void
test_write_big_jpeg (const char *path,
                     int         width,
                     int         height,
                     gboolean    progressive)
{
  static const guint32 colours[4] = { TEST_RED, TEST_GREEN, TEST_BLUE, TEST_YELLOW };
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr jerr;
  jpeg_scan_info scans[4];
  guint8 ycbcr[4][3];
  int plane_width[3], c, i;
  guint8 *planes[3][16];
  g_autofree guint8 *storage = NULL;
  FILE *file;

  for (i = 0; i < 4; i++)
    rgb_to_ycbcr (colours[i], ycbcr[i]);

  file = compress_begin (&cinfo, &jerr, path);

  cinfo.image_width = (JDIMENSION) width;
  cinfo.image_height = (JDIMENSION) height;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_YCbCr;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, 90, TRUE);
  if (progressive)
    {
      /* The fewest scans a progressive file can have, which writes three
       * times faster than jpeg_simple_progression()'s ten: the DC of
       * every component, then each component's AC. */
      for (i = 0; i < 4; i++)
        {
          scans[i].comps_in_scan = i == 0 ? 3 : 1;
          for (c = 0; c < 3; c++)
            scans[i].component_index[c] = i == 0 ? c : i - 1;
          scans[i].Ss = i == 0 ? 0 : 1;
          scans[i].Se = i == 0 ? 0 : 63;
          scans[i].Ah = scans[i].Al = 0;
        }
      cinfo.scan_info = scans;
      cinfo.num_scans = 4;
    }
  cinfo.raw_data_in = TRUE;
  cinfo.comp_info[0].h_samp_factor = cinfo.comp_info[0].v_samp_factor = 2;
  for (c = 1; c < 3; c++)
    cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;

  jpeg_start_compress (&cinfo, TRUE);

  /* Each plane padded to whole blocks: 16 rows of luma and 8 of chroma
   * per call, as jpeg_write_raw_data() takes them. */
  plane_width[0] = (width + 15) / 16 * 16;
  plane_width[1] = plane_width[2] = plane_width[0] / 2;
  storage = g_malloc ((gsize) plane_width[0] * 16 * 2);
  for (i = 0; i < 16; i++)
    {
      planes[0][i] = storage + (gsize) i * plane_width[0];
      planes[1][i] = storage + (gsize) 16 * plane_width[0] + (gsize) i * plane_width[1];
      planes[2][i] = planes[1][i] + (gsize) 8 * plane_width[1];
    }

  while (cinfo.next_scanline < cinfo.image_height)
    {
      JSAMPARRAY arrays[3] = { planes[0], planes[1], planes[2] };

      for (c = 0; c < 3; c++)
        {
          int rows = c == 0 ? 16 : 8, scale = c == 0 ? 1 : 2;

          for (i = 0; i < rows; i++)
            {
              int y = (int) cinfo.next_scanline + i * scale;
              int bottom = y >= height / 2 ? 2 : 0;
              int middle = width / 2 / scale;

              memset (planes[c][i], ycbcr[bottom][c], (gsize) middle);
              memset (planes[c][i] + middle, ycbcr[bottom + 1][c],
                      (gsize) (plane_width[c] - middle));
            }
        }

      jpeg_write_raw_data (&cinfo, arrays, 16);
    }

  compress_end (&cinfo, file);
}

/**
 * test_write_big_jpeg_apart:
 *
 * Runs test_write_big_jpeg() in the program $WP_TEST_WRITE_BIG_JPEG
 * (write-big-jpeg.c), which valgrind does not follow.
 */
void
test_write_big_jpeg_apart (const char *path,
                           int         width,
                           int         height,
                           gboolean    progressive)
{
  const char *program = g_getenv ("WP_TEST_WRITE_BIG_JPEG");
  g_autofree char *width_text = g_strdup_printf ("%d", width);
  g_autofree char *height_text = g_strdup_printf ("%d", height);
  const char *argv[] = { program, path, width_text, height_text,
                         progressive ? "progressive" : "baseline", NULL };
  g_autoptr(GError) error = NULL;
  int status;

  g_assert_nonnull (program);
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT,
                               NULL, NULL, NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, &error));
  g_assert_no_error (error);
}

/**
 * test_make_temp_dir:
 * @template: a g_dir_make_tmp() template, such as "wp-formats-XXXXXX"
 *
 * Returns: (transfer full): a new empty folder, for test_remove_dir()
 */
char *
test_make_temp_dir (const char *template)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp (template, &error);

  g_assert_no_error (error);
  return dir;
}

/**
 * test_read_bytes:
 * @path: a file
 *
 * Returns: (transfer full): the contents of @path
 */
GBytes *
test_read_bytes (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents;
  gsize length;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, length);
}

/**
 * test_remove_dir:
 * @dir: a folder of files, no subfolders
 *
 * Removes @dir and the files in it.
 */
void
test_remove_dir (const char *dir)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}
