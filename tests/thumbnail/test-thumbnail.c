/* test-thumbnail.c: the thumbnail plugin, called directly, without a pool.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The plugin under test is the built thumbnail.so, named by the
 * WP_THUMBNAIL_PLUGIN environment variable; the tests dlopen it, look its
 * functions up through wp_plugin_query() and call them as a worker would.
 * The size formula, the resampler, the atomic writer and the JPEG
 * decoder's cancellation are also unit-tested directly, from the
 * plugin's static library.
 *
 * Every test works in its own temporary directory (the fixture) and draws
 * its input images there (thumbnail-test-images.c); only the bad-input
 * corpus and an ICC profile with a PNG carrying it come from tests/data
 * (G_TEST_SRCDIR is tests/thumbnail).  Tests that expect a failure list
 * the directory afterwards: a failed job must leave neither a thumbnail
 * nor a temporary file.  The memory-limit tests run the plugin in a
 * subprocess (g_test_trap_subprocess()) that lowers its own RLIMIT_AS,
 * as a worker does.
 */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gmodule.h>

#ifdef HAVE_VALGRIND_H
#include <valgrind/valgrind.h>
#endif

#include "workpool/wp-plugin.h"
#include "host/protocol/wp-sanitizer-private.h"

#include "wp-atomic-file.h"
#include "wp-jpeg.h"
#include "wp-memory-limit.h"
#include "wp-resample.h"
#include "wp-thumbnail.h"
#include "wp-thumbnail-stamp.h"

#include "thumbnail-test-images.h"

static const WpPlugin *plugin;

/* The reference program's six boxes, largest first. */
static const int six_boxes[] = { 1024, 512, 256, 128, 64, 32 };

/* ---- fixture and helpers ---------------------------------------------- */

typedef struct {
  char *dir;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("wp-thumbnail-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
remove_recursively (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      /* A test may have made it read-only. */
      g_chmod (path, 0700);
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_recursively (child);
        }
      g_rmdir (path);
    }
  else
    {
      g_unlink (path);
    }
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  remove_recursively (fixture->dir);
  g_free (fixture->dir);
}

static char *
fixture_path (Fixture    *fixture,
              const char *name)
{
  return g_build_filename (fixture->dir, name, NULL);
}

/* All paths under @dir, relative, sorted, separated by spaces: "" when
 * @dir is empty or missing. */
static void
list_into (GPtrArray  *names,
           const char *dir,
           const char *prefix)
{
  g_autoptr(GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      char *relative = prefix != NULL ? g_build_filename (prefix, name, NULL)
                                      : g_strdup (name);

      g_ptr_array_add (names, relative);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        list_into (names, path, relative);
    }
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static char *
list_tree (const char *dir)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  list_into (names, dir, NULL);
  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);

  return g_strjoinv (" ", (char **) names->pdata);
}

static const WpFunction *
find_function (const char *name)
{
  const WpFunction *function;

  for (function = plugin->functions; function->name != NULL; function++)
    if (g_str_equal (function->name, name))
      return function;

  g_assert_not_reached ();
}

/* Calls a plugin function as a worker does.  Returns the result or NULL
 * with @error set, and checks the types on both sides. */
static GVariant *
call (const char    *name,
      GVariant      *args,
      GCancellable  *cancellable,
      GError       **error)
{
  const WpFunction *function = find_function (name);
  g_autoptr(GVariant) owned_args = g_variant_ref_sink (args);
  GError *local_error = NULL;
  GVariant *result;

  g_assert_cmpstr (g_variant_get_type_string (owned_args), ==, function->args_type);

  result = function->func (owned_args, cancellable, &local_error);
  if (result == NULL)
    {
      g_assert_nonnull (local_error);
      g_propagate_error (error, local_error);
      return NULL;
    }

  g_assert_null (local_error);
  result = g_variant_ref_sink (result);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, function->result_type);

  return result;
}

/* Calls "thumbnail" and checks the result against the file written. */
static gboolean
make_thumbnail (const char  *source,
                const char  *destination,
                int          box_width,
                int          box_height,
                int         *width,
                int         *height,
                GError     **error)
{
  g_autoptr(GVariant) result = NULL;
  int file_width, file_height;

  result = call ("thumbnail",
                 g_variant_new ("(ss(ii))", source, destination, box_width, box_height),
                 NULL, error);
  if (result == NULL)
    return FALSE;

  g_variant_get (result, "(ii)", width, height);
  g_assert_nonnull (gdk_pixbuf_get_file_info (destination, &file_width, &file_height));
  g_assert_cmpint (file_width, ==, *width);
  g_assert_cmpint (file_height, ==, *height);

  return TRUE;
}

static GdkPixbuf *
load (const char *path)
{
  g_autoptr(GError) error = NULL;
  GdkPixbuf *pixbuf = gdk_pixbuf_new_from_file (path, &error);

  g_assert_no_error (error);
  return pixbuf;
}

/* The specified formula, s = min (bw/W, bh/H), in floating point. */
static void
formula_size (int  width,
              int  height,
              int  box_width,
              int  box_height,
              int *fit_width,
              int *fit_height)
{
  double s;

  if (width <= box_width && height <= box_height)
    {
      *fit_width = width;
      *fit_height = height;
      return;
    }

  s = MIN ((double) box_width / width, (double) box_height / height);
  *fit_width = MAX (1, (int) round (width * s));
  *fit_height = MAX (1, (int) round (height * s));
}

static void
assert_colour (GdkPixbuf *pixbuf,
               int        x,
               int        y,
               guint32    expected,
               int        tolerance)
{
  guint32 colour = test_pixel (pixbuf, x, y);

  if (!test_colour_near (colour, expected, tolerance))
    g_error ("pixel (%d, %d) of %dx%d is %06X, expected %06X ± %d",
             x, y, gdk_pixbuf_get_width (pixbuf), gdk_pixbuf_get_height (pixbuf),
             colour, expected, tolerance);
}

/* The mean difference of the channels of @a and @b, and in @largest
 * (optional) the largest. */
static double
pixel_differences (GdkPixbuf *a,
                   GdkPixbuf *b,
                   int       *largest)
{
  int width = gdk_pixbuf_get_width (a), height = gdk_pixbuf_get_height (a);
  double total = 0;
  int x, y, shift, most = 0;

  g_assert_cmpint (gdk_pixbuf_get_width (b), ==, width);
  g_assert_cmpint (gdk_pixbuf_get_height (b), ==, height);

  for (y = 0; y < height; y++)
    for (x = 0; x < width; x++)
      {
        guint32 pa = test_pixel (a, x, y), pb = test_pixel (b, x, y);
        for (shift = 0; shift <= 16; shift += 8)
          {
            int difference = ABS ((int) ((pa >> shift) & 0xFF) - (int) ((pb >> shift) & 0xFF));

            total += difference;
            most = MAX (most, difference);
          }
      }

  if (largest != NULL)
    *largest = most;
  return total / (3.0 * width * height);
}

static double
mean_difference (GdkPixbuf *a,
                 GdkPixbuf *b)
{
  return pixel_differences (a, b, NULL);
}

static int
max_difference (GdkPixbuf *a,
                GdkPixbuf *b)
{
  int largest;

  pixel_differences (a, b, &largest);
  return largest;
}

static GBytes *
srgb_profile (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "data", "srgb.icc", NULL);
  char *data;
  gsize length;

  g_file_get_contents (path, &data, &length, &error);
  g_assert_no_error (error);

  return g_bytes_new_take (data, length);
}

/* ---- the plugin table -------------------------------------------------- */

static void
test_plugin_query (void)
{
  static const struct {
    const char *name, *args_type, *result_type;
  } expected[] = {
    { "thumbnail", "(ss(ii))", "(ii)" },
    { "thumbnails", "(sa(sii))", "a(ii)" },
    { "thumbnails_q", "(sa(sii)i)", "a(ii)" },
    { "write", "(sa(sii)a{sv})", "(a(ii)a{sv})" },
    { "write_fds", "(ha(hii)a{sv})", "(a(ii)a{sv})" },
    { "info", "(s)", "(iis)" },
  };
  gsize i;

  g_test_summary ("The plugin describes itself and its six functions with their "
                  "specified types");

  g_assert_cmpuint (plugin->abi_version, ==, WP_PLUGIN_ABI_VERSION);
  g_assert_cmpuint (plugin->struct_size, ==, sizeof (WpPlugin));
  g_assert_cmpstr (plugin->name, ==, "thumbnail");
  g_assert_nonnull (plugin->summary);

  for (i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      const WpFunction *function = find_function (expected[i].name);

      g_assert_cmpstr (function->args_type, ==, expected[i].args_type);
      g_assert_cmpstr (function->result_type, ==, expected[i].result_type);
      g_assert_nonnull (function->summary);
    }
  g_assert_null (plugin->functions[G_N_ELEMENTS (expected)].name);
}

/* ---- the size formula, unit-tested ----------------------------------- */

static void
assert_fit (int width,
            int height,
            int box_width,
            int box_height,
            int expected_width,
            int expected_height)
{
  int fit_width = -1, fit_height = -1;

  wp_thumbnail_fit_size (width, height, box_width, box_height, &fit_width, &fit_height);
  if (fit_width != expected_width || fit_height != expected_height)
    g_error ("%dx%d in %dx%d: got %dx%d, expected %dx%d", width, height,
             box_width, box_height, fit_width, fit_height,
             expected_width, expected_height);
}

static void
test_fit_examples (void)
{
  g_test_summary ("wp_thumbnail_fit_size() on hand-computed cases: landscape, "
                  "portrait, square, tiny, fitting, non-square boxes");

  assert_fit (4000, 3000, 1024, 1024, 1024, 768);
  assert_fit (3000, 4000, 1024, 1024, 768, 1024);
  assert_fit (4000, 4000, 32, 32, 32, 32);
  assert_fit (1, 1, 32, 32, 1, 1);
  assert_fit (3, 2000, 32, 32, 1, 32);        /* 3 * 0.016 rounds to 0: at least 1 */
  assert_fit (2000, 3, 1024, 1024, 1024, 2);  /* 1.536 rounds to 2 */
  assert_fit (20, 12, 32, 32, 20, 12);        /* fits: never upscaled */
  assert_fit (1024, 1024, 1024, 1024, 1024, 1024);
  assert_fit (1025, 10, 1024, 1024, 1024, 10);
  assert_fit (100, 50, 30, 100, 30, 15);      /* the width touches a tall box */
  assert_fit (100, 50, 100, 10, 20, 10);      /* the height touches a wide box */
  assert_fit (1000, 500, 333, 333, 333, 167); /* 166.5: halves round up */
  assert_fit (4032, 3024, 256, 256, 256, 192);
  assert_fit (6000, 4000, 64, 64, 64, 43);    /* 42.67 */
}

static void
test_fit_formula (void)
{
  int width, height, box, ties = 0, checked = 0;

  g_test_summary ("wp_thumbnail_fit_size() agrees with the specified formula, "
                  "s = min (bw/W, bh/H), on a sweep of sizes and boxes; sizes "
                  "come from the original size, not from each other");

  for (width = 1; width <= 2100; width += 37)
    for (height = 1; height <= 2100; height += 41)
      for (box = 0; box < (int) G_N_ELEMENTS (six_boxes); box++)
        {
          int bw = six_boxes[box], bh = six_boxes[box] * 3 / 4 + 1;
          int got_width, got_height, want_width, want_height;
          double s = MIN ((double) bw / width, (double) bh / height);

          /* Exact halves are rounded up exactly; in floating point they
           * can land on either side, so skip them here. */
          if (fabs (fmod (width * s, 1.0) - 0.5) < 1e-9 ||
              fabs (fmod (height * s, 1.0) - 0.5) < 1e-9)
            {
              ties++;
              continue;
            }

          wp_thumbnail_fit_size (width, height, bw, bh, &got_width, &got_height);
          formula_size (width, height, bw, bh, &want_width, &want_height);
          g_assert_cmpint (got_width, ==, want_width);
          g_assert_cmpint (got_height, ==, want_height);
          g_assert_cmpint (got_width, <=, MAX (bw, 1));
          g_assert_cmpint (got_height, <=, MAX (bh, 1));
          checked++;
        }

  g_assert_cmpint (checked, >, 10000);
  g_test_message ("%d cases checked, %d exact halves skipped", checked, ties);
}

/* ---- the resampler, unit-tested ------------------------------------- */

static void
test_resample_flat (void)
{
  static const int sizes[][4] = {
    { 1500, 1125, 1024, 768 }, { 7, 5, 3, 2 }, { 1000, 1, 1, 1 },
    { 3, 2000, 1, 32 }, { 640, 480, 640, 480 }, { 999, 333, 998, 1 },
  };
  gsize i;

  g_test_summary ("The reduction keeps a flat colour exactly, whatever the ratio");

  for (i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(GdkPixbuf) source = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8,
                                                    sizes[i][0], sizes[i][1]);
      g_autoptr(GdkPixbuf) reduced = NULL;
      int x, y;

      gdk_pixbuf_fill (source, 0xFE7F01FF);
      reduced = wp_resample_reduce (source, sizes[i][2], sizes[i][3]);
      g_assert_cmpint (gdk_pixbuf_get_width (reduced), ==, sizes[i][2]);
      g_assert_cmpint (gdk_pixbuf_get_height (reduced), ==, sizes[i][3]);

      for (y = 0; y < sizes[i][3]; y++)
        for (x = 0; x < sizes[i][2]; x++)
          g_assert_cmphex (test_pixel (reduced, x, y), ==, 0xFE7F01);
    }
}

/* Lanczos-3 in double precision, straight from its definition: the
 * weights of output pixel i along an axis of @source pixels reduced to
 * @target, the kernel stretched by the ratio, cut at the edges and scaled
 * back to a sum of 1.  Returns the first source pixel and fills
 * @weights (@n of them). */
static double
reference_lanczos (double x)
{
  if (x == 0.0)
    return 1.0;
  if (fabs (x) >= 3.0)
    return 0.0;
  return 3.0 * sin (G_PI * x) * sin (G_PI * x / 3.0) / (G_PI * G_PI * x * x);
}

static int
reference_weights (int     source,
                   int     target,
                   int     i,
                   double *weights,
                   int    *n)
{
  double ratio = (double) source / target;
  double centre = (i + 0.5) * ratio;
  int first = MAX ((int) floor (centre - 3.0 * ratio), 0);
  int last = MIN ((int) ceil (centre + 3.0 * ratio), source - 1);
  double total = 0.0;
  int k;

  for (k = first; k <= last; k++)
    total += weights[k - first] = reference_lanczos ((k + 0.5 - centre) / ratio);
  for (k = first; k <= last; k++)
    weights[k - first] /= total;
  *n = last - first + 1;

  return first;
}

/* @source reduced with reference_weights(), vertically then horizontally,
 * in double precision, each channel rounded and clamped at the end. */
static GdkPixbuf *
reference_reduce (GdkPixbuf *source,
                  int        width,
                  int        height)
{
  int source_width = gdk_pixbuf_get_width (source);
  int source_height = gdk_pixbuf_get_height (source);
  GdkPixbuf *target = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  g_autofree double *column = g_new (double, (gsize) source_width * 3);
  g_autofree double *weights = g_new (double, MAX (source_width, source_height) + 1);
  int x, y, k, c, n;

  for (y = 0; y < height; y++)
    {
      int first = reference_weights (source_height, height, y, weights, &n);

      memset (column, 0, sizeof (double) * source_width * 3);
      for (k = 0; k < n; k++)
        for (x = 0; x < source_width; x++)
          {
            guint32 pixel = test_pixel (source, x, first + k);

            for (c = 0; c < 3; c++)
              column[x * 3 + c] += weights[k] * ((pixel >> (16 - 8 * c)) & 0xFF);
          }

      for (x = 0; x < width; x++)
        {
          guint8 *out = gdk_pixbuf_get_pixels (target) + y * gdk_pixbuf_get_rowstride (target) + x * 3;
          int first_x = reference_weights (source_width, width, x, weights, &n);

          for (c = 0; c < 3; c++)
            {
              double sum = 0.0;

              for (k = 0; k < n; k++)
                sum += weights[k] * column[(first_x + k) * 3 + c];
              out[c] = (guint8) CLAMP (floor (sum + 0.5), 0.0, 255.0);
            }
        }
    }

  return target;
}

static void
test_resample_like_lanczos (void)
{
  g_autoptr(GdkPixbuf) gradient = test_pattern_gradient (300, 225);
  g_autoptr(GdkPixbuf) quadrants = test_pattern_quadrants (300, 225);
  g_autoptr(GdkPixbuf) rings = test_pattern_rings (256, 3.5);
  static const int sizes[][2] = { { 300, 225 }, { 299, 224 }, { 200, 150 },
                                  { 150, 112 }, { 77, 31 }, { 8, 6 }, { 1, 1 } };
  gsize i;

  g_test_summary ("The fixed-point Lanczos-3 reduction gives the pixels of a "
                  "double-precision one, within 1, at many ratios, on smooth "
                  "gradients, sharp edges (negative lobes clamped) and fine rings");

  for (i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      GdkPixbuf *sources[] = { gradient, quadrants, rings };
      gsize j;

      for (j = 0; j < G_N_ELEMENTS (sources); j++)
        {
          int width = MIN (sizes[i][0], gdk_pixbuf_get_width (sources[j]));
          int height = MIN (sizes[i][1], gdk_pixbuf_get_height (sources[j]));
          g_autoptr(GdkPixbuf) ours = wp_resample_reduce (sources[j], width, height);
          g_autoptr(GdkPixbuf) exact = reference_reduce (sources[j], width, height);

          g_assert_cmpint (gdk_pixbuf_get_width (ours), ==, width);
          g_assert_cmpint (gdk_pixbuf_get_height (ours), ==, height);
          g_assert_cmpint (max_difference (ours, exact), <=, 1);
        }
    }
}

static void
test_resample_identity (void)
{
  g_autoptr(GdkPixbuf) source = test_pattern_rings (97, 5.0);
  g_autoptr(GdkPixbuf) same = wp_resample_reduce (source, 97, 97);

  g_test_summary ("Reducing to the same size changes no pixel");

  g_assert_cmpint (max_difference (source, same), ==, 0);
}

static void
test_resample_clamped (void)
{
  /* Black on the left, white on the right: Lanczos-3's negative lobes
   * undershoot below 0 left of the edge and overshoot above 255 right of
   * it; both must be clamped, not wrapped round. */
  g_autoptr(GdkPixbuf) source = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 300, 40);
  g_autoptr(GdkPixbuf) reduced = NULL;
  int x, y;

  g_test_summary ("Next to a sharp edge, the values the negative lobes take "
                  "below 0 and above 255 are clamped");

  for (y = 0; y < 40; y++)
    for (x = 0; x < 300; x++)
      memset (gdk_pixbuf_get_pixels (source) + y * gdk_pixbuf_get_rowstride (source) + x * 3,
              x < 150 ? 0 : 255, 3);

  /* The edge falls between output pixels 49 and 50; the kernel reaches
   * 3 output pixels either side of its centre. */
  reduced = wp_resample_reduce (source, 100, 10);
  for (y = 0; y < 10; y++)
    for (x = 0; x < 100; x++)
      {
        guint32 pixel = test_pixel (reduced, x, y);
        guint value = pixel & 0xFF;

        g_assert_cmphex (pixel, ==, value * 0x010101);
        if (x < 47)
          g_assert_cmpuint (value, ==, 0);
        else if (x < 50)
          g_assert_cmpuint (value, <=, 16);
        else if (x < 53)
          g_assert_cmpuint (value, >=, 239);
        else
          g_assert_cmpuint (value, ==, 255);
      }
}

/* ---- aliasing, through the plugin ------------------------------------ */

/* The standard deviation of the luma of @pixbuf's pixels between
 * @inner and @outer pixels from its centre. */
static double
ring_luma_deviation (GdkPixbuf *pixbuf,
                     double     inner,
                     double     outer,
                     double    *mean)
{
  double cx = gdk_pixbuf_get_width (pixbuf) / 2.0;
  double cy = gdk_pixbuf_get_height (pixbuf) / 2.0;
  double sum = 0.0, sum2 = 0.0;
  int x, y, n = 0;

  for (y = 0; y < gdk_pixbuf_get_height (pixbuf); y++)
    for (x = 0; x < gdk_pixbuf_get_width (pixbuf); x++)
      {
        double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
        double r = sqrt (dx * dx + dy * dy);
        guint32 pixel = test_pixel (pixbuf, x, y);
        double luma;

        if (r < inner || r > outer)
          continue;
        luma = 0.299 * (pixel >> 16) + 0.587 * ((pixel >> 8) & 0xFF) + 0.114 * (pixel & 0xFF);
        sum += luma;
        sum2 += luma * luma;
        n++;
      }

  g_assert_cmpint (n, >, 200);
  *mean = sum / n;
  return sqrt (MAX (sum2 / n - *mean * *mean, 0.0));
}

static void
test_aliasing_rings (Fixture       *fixture,
                     gconstpointer  data)
{
  const char *format = data;
  g_autofree char *name = g_strdup_printf ("rings.%s", format);
  g_autofree char *source = fixture_path (fixture, name);
  g_autoptr(GdkPixbuf) rings = test_pattern_rings (2048, 10.0);
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  GVariantBuilder list;
  gsize i;

  g_test_summary ("Fine concentric rings (a period of 10 pixels in 2048) come "
                  "out flat grey, without moiré, in the thumbnails at 128 and "
                  "below, made with the larger sizes or alone (PNG: the filter "
                  "alone; JPEG: after the DCT-scaled decode)");

  if (g_str_equal (format, "png"))
    test_write_png (source, rings);
  else
    test_write_jpeg (source, rings, NULL);

  g_variant_builder_init (&list, G_VARIANT_TYPE ("a(sii)"));
  for (i = 0; i < G_N_ELEMENTS (six_boxes); i++)
    {
      g_autofree char *thumbnail = g_strdup_printf ("%d.jpg", six_boxes[i]);
      g_autofree char *destination = fixture_path (fixture, thumbnail);

      g_variant_builder_add (&list, "(sii)", destination, six_boxes[i], six_boxes[i]);
    }
  result = call ("thumbnails", g_variant_new ("(sa(sii))", source, &list), NULL, &error);
  g_assert_no_error (error);

  /* The same at 128 alone, reduced in one step instead of from the
   * larger sizes. */
  {
    g_autofree char *destination = fixture_path (fixture, "alone-128.jpg");
    int width, height;

    g_assert_true (make_thumbnail (source, destination, 128, 128, &width, &height, &error));
    g_assert_no_error (error);
  }

  for (i = 0; i <= G_N_ELEMENTS (six_boxes); i++)
    {
      g_autofree char *thumbnail = i < G_N_ELEMENTS (six_boxes)
                                   ? g_strdup_printf ("%d.jpg", six_boxes[i])
                                   : g_strdup ("alone-128.jpg");
      g_autofree char *destination = fixture_path (fixture, thumbnail);
      g_autoptr(GdkPixbuf) pixbuf = NULL;
      int box = i < G_N_ELEMENTS (six_boxes) ? six_boxes[i] : 128;
      double deviation, mean;

      if (box > 128)
        continue;

      /* The rings have 2048 / box / 10 cycles per thumbnail pixel, at
       * least 1.6 where the pixels can show 0.5: nothing of them may
       * remain but their mean.  The ring measured leaves out the centre,
       * where the rings start, and the corners, where the kernel is cut. */
      pixbuf = load (destination);
      g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, box);
      deviation = ring_luma_deviation (pixbuf, box / 16.0, box * 7.0 / 16.0, &mean);
      g_test_message ("%s, %s: luma %.1f, standard deviation %.2f",
                      format, thumbnail, mean, deviation);
      g_assert_cmpfloat (fabs (mean - 128.0), <, 3.0);
      g_assert_cmpfloat (deviation, <, 1.5);
    }
}

/* ---- sizes through the plugin ---------------------------------------- */

typedef struct {
  const char *name;
  int width, height;
} SizeCase;

static const SizeCase size_cases[] = {
  { "landscape", 1500, 1000 },
  { "portrait", 800, 1200 },
  { "square", 1100, 1100 },
  { "1x1", 1, 1 },
  { "3x2000", 3, 2000 },
  { "smaller-than-every-box", 20, 12 },
};

static void
test_size (Fixture       *fixture,
           gconstpointer  data)
{
  const SizeCase *size_case = data;
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autoptr(GdkPixbuf) pixbuf = test_pattern_gradient (size_case->width, size_case->height);
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  GVariantBuilder list;
  gsize i;

  g_test_summary ("thumbnails writes the six default sizes of the formula, "
                  "computed from the displayed size, and the files have them");

  test_write_jpeg (source, pixbuf, NULL);

  g_variant_builder_init (&list, G_VARIANT_TYPE ("a(sii)"));
  for (i = 0; i < G_N_ELEMENTS (six_boxes); i++)
    {
      g_autofree char *name = g_strdup_printf ("thumbnails/%dx%d/source.jpg",
                                               six_boxes[i], six_boxes[i]);
      g_autofree char *destination = fixture_path (fixture, name);

      g_variant_builder_add (&list, "(sii)", destination, six_boxes[i], six_boxes[i]);
    }

  result = call ("thumbnails", g_variant_new ("(sa(sii))", source, &list), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (result), ==, G_N_ELEMENTS (six_boxes));

  for (i = 0; i < G_N_ELEMENTS (six_boxes); i++)
    {
      g_autofree char *name = g_strdup_printf ("thumbnails/%dx%d/source.jpg",
                                               six_boxes[i], six_boxes[i]);
      g_autofree char *destination = fixture_path (fixture, name);
      int width, height, want_width, want_height, file_width, file_height;

      g_variant_get_child (result, i, "(ii)", &width, &height);
      formula_size (size_case->width, size_case->height, six_boxes[i], six_boxes[i],
                    &want_width, &want_height);
      g_assert_cmpint (width, ==, want_width);
      g_assert_cmpint (height, ==, want_height);

      g_assert_nonnull (gdk_pixbuf_get_file_info (destination, &file_width, &file_height));
      g_assert_cmpint (file_width, ==, want_width);
      g_assert_cmpint (file_height, ==, want_height);
    }
}

static void
test_size_thumbnail (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autofree char *destination = fixture_path (fixture, "a/b/c/thumb.jpg");
  g_autoptr(GdkPixbuf) pixbuf = test_pattern_gradient (640, 480);
  g_autoptr(GError) error = NULL;
  int width, height;

  g_test_summary ("thumbnail writes one size, creating the missing parent "
                  "directories of its destination");

  test_write_jpeg (source, pixbuf, NULL);
  g_assert_true (make_thumbnail (source, destination, 200, 100, &width, &height, &error));
  g_assert_no_error (error);
  g_assert_cmpint (width, ==, 133);
  g_assert_cmpint (height, ==, 100);
}

static void
test_size_order (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autoptr(GdkPixbuf) pixbuf = test_pattern_gradient (1600, 1200);
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  GVariantBuilder list;
  int i;

  g_test_summary ("thumbnails made in one go, smallest box first, look like "
                  "the ones thumbnail makes one at a time");

  test_write_jpeg (source, pixbuf, NULL);

  g_variant_builder_init (&list, G_VARIANT_TYPE ("a(sii)"));
  for (i = G_N_ELEMENTS (six_boxes) - 1; i >= 0; i--)
    {
      g_autofree char *name = g_strdup_printf ("many-%d.jpg", six_boxes[i]);
      g_autofree char *destination = fixture_path (fixture, name);

      g_variant_builder_add (&list, "(sii)", destination, six_boxes[i], six_boxes[i]);
    }
  result = call ("thumbnails", g_variant_new ("(sa(sii))", source, &list), NULL, &error);
  g_assert_no_error (error);

  for (i = 0; i < (int) G_N_ELEMENTS (six_boxes); i++)
    {
      g_autofree char *many_name = g_strdup_printf ("many-%d.jpg", six_boxes[i]);
      g_autofree char *one_name = g_strdup_printf ("one-%d.jpg", six_boxes[i]);
      g_autofree char *many = fixture_path (fixture, many_name);
      g_autofree char *one = fixture_path (fixture, one_name);
      g_autoptr(GdkPixbuf) many_pixbuf = NULL;
      g_autoptr(GdkPixbuf) one_pixbuf = NULL;
      int width, height, result_width, result_height;
      double difference;

      g_assert_true (make_thumbnail (source, one, six_boxes[i], six_boxes[i],
                                     &width, &height, &error));
      g_assert_no_error (error);

      /* Results come in the order of the requests. */
      g_variant_get_child (result, G_N_ELEMENTS (six_boxes) - 1 - i, "(ii)",
                           &result_width, &result_height);
      g_assert_cmpint (result_width, ==, width);
      g_assert_cmpint (result_height, ==, height);

      many_pixbuf = load (many);
      one_pixbuf = load (one);
      difference = mean_difference (many_pixbuf, one_pixbuf);
      g_test_message ("box %d: mean difference %.2f", six_boxes[i], difference);
      g_assert_cmpfloat (difference, <, 3.0);
    }
}

static void
test_size_empty_list (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("thumbnails with no box writes nothing and returns []");

  result = call ("thumbnails",
                 g_variant_new_parsed ("(%s, @a(sii) [])", "/nonexistent/source.jpg"),
                 NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (result), ==, 0);
}

/* ---- orientation ----------------------------------------------------- */

static void
check_orientation (Fixture  *fixture,
                   int       orientation,
                   gboolean  big_endian)
{
  const int stored_width = 320, stored_height = 160;
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autofree char *full = fixture_path (fixture, "full.jpg");
  g_autofree char *small = fixture_path (fixture, "small.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_quadrants (stored_width, stored_height);
  g_autoptr(GdkPixbuf) full_pixbuf = NULL;
  g_autoptr(GdkPixbuf) small_pixbuf = NULL;
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *markers = NULL;
  TestJpegOptions options = { 0, };
  int width, height, info_width, info_height;
  gboolean swapped = orientation >= 5;
  const char *format;

  options.orientation = orientation;
  options.exif_big_endian = big_endian;
  test_write_jpeg (source, pattern, &options);

  info = call ("info", g_variant_new ("(s)", source), NULL, &error);
  g_assert_no_error (error);
  g_variant_get (info, "(ii&s)", &info_width, &info_height, &format);
  g_assert_cmpint (info_width, ==, swapped ? stored_height : stored_width);
  g_assert_cmpint (info_height, ==, swapped ? stored_width : stored_height);
  g_assert_cmpstr (format, ==, "jpeg");

  /* Full size: no scaling at all. */
  g_assert_true (make_thumbnail (source, full, 1000, 1000, &width, &height, &error));
  g_assert_no_error (error);
  g_assert_cmpint (width, ==, info_width);
  g_assert_cmpint (height, ==, info_height);
  full_pixbuf = load (full);
  test_assert_oriented_quadrants (full_pixbuf, orientation, stored_width, stored_height);

  /* Reduced: DCT scaling, then resampling, then orientation. */
  g_assert_true (make_thumbnail (source, small, 60, 60, &width, &height, &error));
  g_assert_no_error (error);
  g_assert_cmpint (width, ==, swapped ? 30 : 60);
  g_assert_cmpint (height, ==, swapped ? 60 : 30);
  small_pixbuf = load (small);
  test_assert_oriented_quadrants (small_pixbuf, orientation, stored_width, stored_height);

  /* The orientation is applied, so the tag must not be copied. */
  markers = test_jpeg_markers (small);
  g_assert_null (strstr (markers, "APP1"));
}

static void
test_orientation (Fixture       *fixture,
                  gconstpointer  data)
{
  int orientation = GPOINTER_TO_INT (data);

  g_test_summary ("Every EXIF orientation, 1 to 8, is applied: the displayed "
                  "size is swapped for 5-8 and each corner of an asymmetric "
                  "pattern lands where a viewer shows it");

  check_orientation (fixture, orientation, FALSE);
}

static void
test_orientation_big_endian (Fixture       *fixture,
                             gconstpointer  data)
{
  g_test_summary ("EXIF in Motorola byte order (MM) is read as well as Intel's (II)");

  check_orientation (fixture, 6, TRUE);
  check_orientation (fixture, 3, TRUE);
}

/* ---- JPEG variants ---------------------------------------------------- */

static void
test_jpeg_progressive (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *baseline = fixture_path (fixture, "baseline.jpg");
  g_autofree char *progressive = fixture_path (fixture, "progressive.jpg");
  g_autofree char *baseline_thumb = fixture_path (fixture, "baseline-thumb.jpg");
  g_autofree char *progressive_thumb = fixture_path (fixture, "progressive-thumb.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_gradient (600, 400);
  g_autoptr(GdkPixbuf) a = NULL;
  g_autoptr(GdkPixbuf) b = NULL;
  g_autoptr(GError) error = NULL;
  TestJpegOptions options = { 0, };
  int width, height;

  g_test_summary ("A progressive JPEG gives the same thumbnail as the baseline "
                  "one with the same pixels");

  test_write_jpeg (baseline, pattern, NULL);
  options.progressive = TRUE;
  test_write_jpeg (progressive, pattern, &options);

  g_assert_true (make_thumbnail (baseline, baseline_thumb, 150, 150, &width, &height, &error));
  g_assert_no_error (error);
  g_assert_true (make_thumbnail (progressive, progressive_thumb, 150, 150,
                                 &width, &height, &error));
  g_assert_no_error (error);
  g_assert_cmpint (width, ==, 150);
  g_assert_cmpint (height, ==, 100);

  a = load (baseline_thumb);
  b = load (progressive_thumb);
  g_assert_cmpfloat (mean_difference (a, b), <, 1.0);

  /* The gradient survived: red grows to the right, green downwards. */
  assert_colour (a, 2, 2, 0x000060, 24);
  assert_colour (a, 147, 97, 0xFFFF60, 24);
  assert_colour (b, 147, 2, 0xFF0060, 24);
}

static void
test_jpeg_grayscale (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "gray.jpg");
  g_autofree char *destination = fixture_path (fixture, "thumb.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_quadrants (200, 100);
  g_autoptr(GdkPixbuf) thumb = NULL;
  g_autoptr(GError) error = NULL;
  TestJpegOptions options = { 0, };
  int width, height;
  guint32 pixel;

  g_test_summary ("A grayscale JPEG gives a gray thumbnail (stored as RGB)");

  options.grayscale = TRUE;
  test_write_jpeg (source, pattern, &options);

  g_assert_true (make_thumbnail (source, destination, 100, 100, &width, &height, &error));
  g_assert_no_error (error);
  g_assert_cmpint (width, ==, 100);
  g_assert_cmpint (height, ==, 50);

  thumb = load (destination);
  pixel = test_pixel (thumb, 25, 12);
  /* Luma of TEST_RED (0xDC1414): 0.299 * 220 + 0.587 * 20 + 0.114 * 20 = 80 */
  assert_colour (thumb, 25, 12, 0x505050, 12);
  g_assert_cmpint (ABS ((int) (pixel >> 16) - (int) (pixel & 0xFF)), <=, 2);
  /* Luma of TEST_YELLOW (0xF0F014): 215 */
  assert_colour (thumb, 75, 37, 0xD7D7D7, 12);
}

typedef struct {
  const char *path;
  const char *summary;
  gboolean    ycck;       /* else CMYK */
} CmykCase;

static const CmykCase cmyk_cases[] = {
  { "/thumbnail/jpeg/cmyk", "An Adobe (inverted) CMYK JPEG is converted to the right RGB colours",
    FALSE },
  { "/thumbnail/jpeg/ycck", "A YCCK JPEG is converted to the right RGB colours", TRUE },
};

static void
test_jpeg_cmyk (Fixture       *fixture,
                gconstpointer  data)
{
  const CmykCase *cc = data;
  g_autofree char *source = fixture_path (fixture, "cmyk.jpg");
  g_autofree char *destination = fixture_path (fixture, "thumb.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_quadrants (200, 100);
  g_autoptr(GdkPixbuf) thumb = NULL;
  g_autoptr(GError) error = NULL;
  TestJpegOptions options = { 0, };
  int width, height;

  g_test_summary (cc->summary);

  options.cmyk = !cc->ycck;
  options.ycck = cc->ycck;
  test_write_jpeg (source, pattern, &options);

  g_assert_true (make_thumbnail (source, destination, 100, 100, &width, &height, &error));
  g_assert_no_error (error);

  thumb = load (destination);
  test_assert_oriented_quadrants (thumb, 1, 200, 100);
}

static void
test_jpeg_too_many_scans (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "scans.jpg");
  g_autofree char *destination = fixture_path (fixture, "thumb.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_gradient (16, 16);
  g_autoptr(GError) error = NULL;
  g_autofree char *tree = NULL;
  TestJpegOptions options = { 0, };
  int width, height;

  g_test_summary ("A progressive JPEG with more than 500 scans (a way to make "
                  "a tiny file take minutes to decode) is refused as corrupt");

  options.grayscale = TRUE;
  options.many_scans = TRUE;
  test_write_jpeg (source, pattern, &options);

  g_assert_false (make_thumbnail (source, destination, 64, 64, &width, &height, &error));
  g_assert_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE);
  g_assert_nonnull (strstr (error->message, "more than 500 scans"));

  tree = list_tree (fixture->dir);
  g_assert_cmpstr (tree, ==, "scans.jpg");
}

/* ---- other formats ---------------------------------------------------- */

static void
test_png_alpha (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "alpha.png");
  g_autofree char *destination = fixture_path (fixture, "thumb.jpg");
  g_autoptr(GdkPixbuf) pattern = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, 80, 40);
  g_autoptr(GdkPixbuf) thumb = NULL;
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GError) error = NULL;
  const char *format;
  int width, height, x, y;

  g_test_summary ("A PNG with alpha is composited on white: transparent black "
                  "becomes white, half-transparent red becomes pink");

  for (y = 0; y < 40; y++)
    for (x = 0; x < 80; x++)
      {
        guint8 *p = gdk_pixbuf_get_pixels (pattern)
                    + y * gdk_pixbuf_get_rowstride (pattern) + x * 4;
        gboolean left = x < 40;

        p[0] = left ? 0 : 255;
        p[1] = 0;
        p[2] = 0;
        p[3] = left ? 0 : 128;
      }
  test_write_png (source, pattern);

  info = call ("info", g_variant_new ("(s)", source), NULL, &error);
  g_assert_no_error (error);
  g_variant_get (info, "(ii&s)", &width, &height, &format);
  g_assert_cmpint (width, ==, 80);
  g_assert_cmpint (height, ==, 40);
  g_assert_cmpstr (format, ==, "png");

  g_assert_true (make_thumbnail (source, destination, 1000, 1000, &width, &height, &error));
  g_assert_no_error (error);
  g_assert_cmpint (width, ==, 80);
  g_assert_cmpint (height, ==, 40);

  thumb = load (destination);
  g_assert_false (gdk_pixbuf_get_has_alpha (thumb));
  assert_colour (thumb, 10, 20, 0xFFFFFF, 6);
  assert_colour (thumb, 70, 20, 0xFF7F7F, 10);
}

static void
test_bmp (Fixture       *fixture,
          gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "source.bmp");
  g_autofree char *destination = fixture_path (fixture, "thumb.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_quadrants (120, 90);
  g_autoptr(GdkPixbuf) thumb = NULL;
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GError) error = NULL;
  const char *format;
  int width, height;

  g_test_summary ("Formats other than JPEG and PNG go through gdk-pixbuf: a "
                  "BMP, stored bottom-up, comes out the right way up");

  gdk_pixbuf_save (pattern, source, "bmp", &error, NULL);
  g_assert_no_error (error);

  info = call ("info", g_variant_new ("(s)", source), NULL, &error);
  g_assert_no_error (error);
  g_variant_get (info, "(ii&s)", &width, &height, &format);
  g_assert_cmpstr (format, ==, "bmp");

  g_assert_true (make_thumbnail (source, destination, 60, 60, &width, &height, &error));
  g_assert_no_error (error);
  g_assert_cmpint (width, ==, 60);
  g_assert_cmpint (height, ==, 45);
  thumb = load (destination);
  test_assert_oriented_quadrants (thumb, 1, 120, 90);
}

/* ---- ICC profile and metadata ---------------------------------------- */

static void
assert_same_bytes (GBytes *a,
                   GBytes *b)
{
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpmem (g_bytes_get_data (a, NULL), g_bytes_get_size (a),
                   g_bytes_get_data (b, NULL), g_bytes_get_size (b));
}

static void
test_icc_jpeg (Fixture       *fixture,
               gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "icc.jpg");
  g_autofree char *big_source = fixture_path (fixture, "big-icc.jpg");
  g_autofree char *destination = fixture_path (fixture, "thumb.jpg");
  g_autofree char *big_destination = fixture_path (fixture, "big-thumb.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_gradient (300, 200);
  g_autoptr(GBytes) profile = srgb_profile ();
  g_autoptr(GBytes) big_profile = NULL;
  g_autoptr(GBytes) copied = NULL;
  g_autoptr(GBytes) big_copied = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *big_data = g_malloc (150000);
  TestJpegOptions options = { 0, };
  int width, height;
  gsize i;

  g_test_summary ("A JPEG's ICC profile is carried over, including one too "
                  "big for a single APP2 marker");

  options.icc_profile = profile;
  test_write_jpeg (source, pattern, &options);
  g_assert_true (make_thumbnail (source, destination, 64, 64, &width, &height, &error));
  g_assert_no_error (error);
  copied = test_jpeg_icc_profile (destination);
  assert_same_bytes (copied, profile);

  for (i = 0; i < 150000; i++)
    big_data[i] = (guint8) (i * 7 + i / 251);
  big_profile = g_bytes_new (big_data, 150000);
  options.icc_profile = big_profile;
  test_write_jpeg (big_source, pattern, &options);
  g_assert_true (make_thumbnail (big_source, big_destination, 64, 64, &width, &height, &error));
  g_assert_no_error (error);
  big_copied = test_jpeg_icc_profile (big_destination);
  assert_same_bytes (big_copied, big_profile);
}

static void
test_icc_png (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *source = g_test_build_filename (G_TEST_DIST, "..", "data", "srgb.png", NULL);
  g_autofree char *destination = fixture_path (fixture, "thumb.jpg");
  g_autoptr(GBytes) profile = srgb_profile ();
  g_autoptr(GBytes) copied = NULL;
  g_autoptr(GError) error = NULL;
  int width, height;

  g_test_summary ("A PNG's ICC profile (iCCP) is carried over to the JPEG thumbnail");

  g_assert_true (make_thumbnail (source, destination, 32, 32, &width, &height, &error));
  g_assert_no_error (error);
  g_assert_cmpint (width, ==, 32);
  g_assert_cmpint (height, ==, 24);
  copied = test_jpeg_icc_profile (destination);
  assert_same_bytes (copied, profile);
}

/* @path decoded at 1/8 by a reader, fast or not. */
static GdkPixbuf *
decode_eighth (const char *path,
               gboolean    fast,
               gboolean    damaged)
{
  g_autoptr(GError) error = NULL;
  WpJpegReader *reader;
  GdkPixbuf *decoded;
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  reader = wp_jpeg_reader_new (fd, path, NULL, &error);
  g_assert_no_error (error);
  /* Not fast, only the pixel limit brings the scale down to 1/8. */
  wp_jpeg_reader_set_max_pixels (reader, 200 * 200);
  wp_jpeg_reader_set_fast (reader, fast);
  decoded = wp_jpeg_reader_decode (reader, 100, 75, NULL, &error);
  g_assert_no_error (error);
  g_assert_true ((wp_jpeg_reader_get_damage (reader) != NULL) == damaged);
  wp_jpeg_reader_free (reader);
  close (fd);
  return decoded;
}

static void
test_jpeg_fast_dc_only (Fixture       *fixture,
                        gconstpointer  data)
{
  static const gboolean grayscale[] = { FALSE, TRUE };

  g_test_summary ("A fast decode of a progressive JPEG at 1/8, from its DC scans "
                  "alone, gives exactly the pixels of the whole file's decode at 1/8, "
                  "and does not read the last scan, an AC one");

  for (gsize i = 0; i < G_N_ELEMENTS (grayscale); i++)
    {
      g_autofree char *path = fixture_path (fixture, "progressive.jpg");
      g_autoptr(GdkPixbuf) pattern = test_pattern_rings (1600, 7.0);
      g_autoptr(GdkPixbuf) whole = NULL;
      g_autoptr(GdkPixbuf) dc_only = NULL;
      g_autoptr(GdkPixbuf) cut = NULL;
      g_autofree char *contents = NULL;
      TestJpegOptions options = { 0, };
      gsize length, size, last_sos = 0;

      options.progressive = TRUE;
      options.grayscale = grayscale[i];
      test_write_jpeg (path, pattern, &options);

      whole = decode_eighth (path, FALSE, FALSE);
      dc_only = decode_eighth (path, TRUE, FALSE);
      g_assert_cmpint (gdk_pixbuf_get_width (whole), ==, 200);
      g_assert_cmpint (gdk_pixbuf_get_width (dc_only), ==, 200);
      g_assert_cmpint (gdk_pixbuf_get_height (dc_only), ==, gdk_pixbuf_get_height (whole));
      length = gdk_pixbuf_get_byte_length (whole);
      g_assert_cmpuint (gdk_pixbuf_get_byte_length (dc_only), ==, length);
      g_assert_cmpmem (gdk_pixbuf_read_pixels (dc_only), length,
                       gdk_pixbuf_read_pixels (whole), length);

      /* Cut at the last scan, which refines luma AC coefficients: damage
       * to a whole decode, nothing to a fast one. */
      g_assert_true (g_file_get_contents (path, &contents, &size, NULL));
      for (gsize j = 2; j + 1 < size; j++)
        if ((guint8) contents[j] == 0xFF && (guint8) contents[j + 1] == 0xDA)
          last_sos = j;
      g_assert_cmpuint (last_sos, >, 0);
      g_assert_true (g_file_set_contents (path, contents, last_sos, NULL));
      g_clear_object (&whole);
      whole = decode_eighth (path, FALSE, TRUE);
      cut = decode_eighth (path, TRUE, FALSE);
      g_assert_cmpmem (gdk_pixbuf_read_pixels (cut), length,
                       gdk_pixbuf_read_pixels (dc_only), length);
    }
}

static void
test_png_format (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autofree char *destination = fixture_path (fixture, "cache/thumb.png");
  g_autoptr(GdkPixbuf) pixbuf = test_pattern_gradient (900, 600);
  g_autoptr(GdkPixbuf) thumbnail = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *header = NULL;
  gsize length;

  g_test_summary ("write with format png writes an 8-bit RGBA, non-interlaced PNG "
                  "with the given text chunks and the source's displayed size");

  test_write_jpeg (source, pixbuf, NULL);
  result = call ("write",
                 g_variant_new_parsed ("(%s, [(%s, 256, 256)], "
                                       "{'format': <'png'>, 'text': <{'Thumb::URI': %s,"
                                       " 'Thumb::MTime': '1700000000', 'Software': 'é workpool'}>})",
                                       source, destination, "file:///a%20b.jpg"),
                 NULL, &error);
  g_assert_no_error (error);

  g_assert_true (g_file_get_contents (destination, &header, &length, NULL));
  g_assert_cmpuint (length, >, 33);
  /* IHDR: width, height, bit depth 8, colour type 6 (RGBA), interlace 0. */
  g_assert_cmpmem (header, 8, "\x89PNG\r\n\x1a\n", 8);
  g_assert_cmpmem (header + 12, 4, "IHDR", 4);
  g_assert_cmpuint (GUINT32_FROM_BE (*(guint32 *) (header + 16)), ==, 256);
  g_assert_cmpuint (GUINT32_FROM_BE (*(guint32 *) (header + 20)), ==, 171);
  g_assert_cmpint (header[24], ==, 8);
  g_assert_cmpint (header[25], ==, 6);
  g_assert_cmpint (header[28], ==, 0);

  thumbnail = gdk_pixbuf_new_from_file (destination, &error);
  g_assert_no_error (error);
  g_assert_true (gdk_pixbuf_get_has_alpha (thumbnail));
  g_assert_cmpstr (gdk_pixbuf_get_option (thumbnail, "tEXt::Thumb::URI"), ==, "file:///a%20b.jpg");
  g_assert_cmpstr (gdk_pixbuf_get_option (thumbnail, "tEXt::Thumb::MTime"), ==, "1700000000");
  g_assert_cmpstr (gdk_pixbuf_get_option (thumbnail, "tEXt::Software"), ==, "é workpool");
  g_assert_cmpstr (gdk_pixbuf_get_option (thumbnail, "tEXt::Thumb::Image::Width"), ==, "900");
  g_assert_cmpstr (gdk_pixbuf_get_option (thumbnail, "tEXt::Thumb::Image::Height"), ==, "600");
}

static void
test_png_format_refused (Fixture       *fixture,
                         gconstpointer  data)
{
  static const char * const cases[][2] = {
    { "{'format': <'gif'>}", "Unknown thumbnail format “gif”" },
    { "{'text': <{'Thumb::URI': 'x'}>}", "needs format “png”" },
    { "{'format': <'png'>, 'text': <{'Thumb::URI ': 'x'}>}", "Invalid PNG text keyword “Thumb::URI ”" },
    { "{'format': <'png'>, 'text': <{'': 'x'}>}", "Invalid PNG text keyword “”" },
    { "{'format': <'png'>, 'text': <{'Thumb\\u00e9': 'x'}>}", "only printable ASCII" },
  };
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autofree char *destination = fixture_path (fixture, "thumb.png");
  g_autoptr(GdkPixbuf) pixbuf = test_pattern_gradient (90, 60);

  g_test_summary ("write refuses an unknown format, text chunks on a JPEG and bad "
                  "keywords, naming them, and writes nothing");

  test_write_jpeg (source, pixbuf, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strdup_printf ("('%s', [('%s', 64, 64)], %s)", source,
                                               destination, cases[i][0]);
      g_autoptr(GVariant) args = g_variant_parse (NULL, text, NULL, NULL, NULL);
      g_autoptr(GVariant) result = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_nonnull (args);
      result = call ("write", args, NULL, &error);
      g_assert_null (result);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, cases[i][1]));
      g_assert_false (g_file_test (destination, G_FILE_TEST_EXISTS));
    }
}

static void
test_metadata (Fixture       *fixture,
               gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autofree char *plain_source = fixture_path (fixture, "plain.jpg");
  g_autofree char *destination = fixture_path (fixture, "thumb.jpg");
  g_autofree char *plain_destination = fixture_path (fixture, "plain-thumb.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_gradient (300, 200);
  g_autoptr(GBytes) profile = srgb_profile ();
  g_autoptr(GError) error = NULL;
  g_autofree char *markers = NULL;
  g_autofree char *plain_markers = NULL;
  TestJpegOptions options = { 0, };
  int width, height;

  g_test_summary ("A thumbnail has a JFIF header, the source's record in a "
                  "comment right after it, the ICC profile when the source has "
                  "one, and no other metadata (no EXIF)");

  options.orientation = 1;
  options.icc_profile = profile;
  test_write_jpeg (source, pattern, &options);
  g_assert_true (make_thumbnail (source, destination, 64, 64, &width, &height, &error));
  g_assert_no_error (error);
  markers = test_jpeg_markers (destination);
  g_assert_cmpstr (markers, ==, "APP0 COM APP2 DQT DQT SOF0 DHT DHT DHT DHT SOS");

  test_write_jpeg (plain_source, pattern, NULL);
  g_assert_true (make_thumbnail (plain_source, plain_destination, 64, 64, &width, &height, &error));
  g_assert_no_error (error);
  plain_markers = test_jpeg_markers (plain_destination);
  g_assert_cmpstr (plain_markers, ==, "APP0 COM DQT DQT SOF0 DHT DHT DHT DHT SOS");
}

static void
test_stamp_records_source (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autofree char *destination = fixture_path (fixture, "thumb.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_gradient (300, 200);
  g_autoptr(GError) error = NULL;
  struct timespec times[2] = { { 1234567890, 123456789 }, { 1234567890, 123456789 } };
  WpThumbnailStamp stamp = { 0, 0 };
  struct stat info;
  int width, height;

  g_test_summary ("A thumbnail records its source's mtime in nanoseconds and "
                  "its size, and reading the record takes only its first bytes");

  test_write_jpeg (source, pattern, NULL);
  g_assert_cmpint (utimensat (AT_FDCWD, source, times, 0), ==, 0);
  g_assert_cmpint (stat (source, &info), ==, 0);
  g_assert_true (make_thumbnail (source, destination, 64, 64, &width, &height, &error));
  g_assert_no_error (error);

  g_assert_true (wp_thumbnail_stamp_read (destination, &stamp));
  g_assert_cmpint (stamp.mtime_ns, ==, G_GINT64_CONSTANT (1234567890123456789));
  g_assert_cmpuint (stamp.size, ==, (guint64) info.st_size);
}

static void
test_stamp_parse (void)
{
  static const guint8 plain[] = { 0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x02, 0xFF, 0xDA };
  static const char good[] = "workpool-source mtime-ns=-5 size=42";
  static const char *const bad[] = {
    "workpool-source mtime-ns=5",
    "workpool-source mtime-ns=5 size=42 more=1",
    "workpool-source mtime-ns=x size=42",
    "workpool-source size=42 mtime-ns=5",
    "other mtime-ns=5 size=42",
  };
  WpThumbnailStamp stamp = { 0, 0 };
  WpThumbnailStamp written = { G_GINT64_CONSTANT (1764687600123456789), 2512044 };
  g_autofree char *comment = wp_thumbnail_stamp_to_comment (&written);

  g_test_summary ("The record is a COM segment before the image data, in an "
                  "exact format; anything else is no record");

  g_assert_false (wp_thumbnail_stamp_from_jpeg (plain, sizeof plain, &stamp));
  g_assert_false (wp_thumbnail_stamp_from_jpeg ((const guint8 *) "GIF89a", 6, &stamp));

  for (gsize i = 0; i <= G_N_ELEMENTS (bad); i++)
    {
      const char *text = i < G_N_ELEMENTS (bad) ? bad[i] : good;
      gsize length = strlen (text);
      g_autofree guint8 *jpeg = g_malloc (length + 8);

      jpeg[0] = 0xFF; jpeg[1] = 0xD8; jpeg[2] = 0xFF; jpeg[3] = 0xFE;
      jpeg[4] = (guint8) ((length + 2) >> 8); jpeg[5] = (guint8) (length + 2);
      memcpy (jpeg + 6, text, length);
      jpeg[length + 6] = 0xFF; jpeg[length + 7] = 0xDA;

      g_assert_cmpint (wp_thumbnail_stamp_from_jpeg (jpeg, length + 8, &stamp), ==,
                       i == G_N_ELEMENTS (bad));
      /* Cut inside the segment: not found. */
      g_assert_false (wp_thumbnail_stamp_from_jpeg (jpeg, length + 5, &stamp));
    }
  g_assert_cmpint (stamp.mtime_ns, ==, -5);
  g_assert_cmpuint (stamp.size, ==, 42);
  g_assert_cmpstr (comment, ==, "workpool-source mtime-ns=1764687600123456789 size=2512044");
}

/* ---- quality ---------------------------------------------------------- */

static GBytes *
thumbnail_bytes (Fixture    *fixture,
                 const char *source,
                 const char *name,
                 int         quality)
{
  g_autofree char *destination = fixture_path (fixture, name);
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  char *contents;
  gsize length;

  if (quality == 0)
    result = call ("thumbnails",
                   g_variant_new_parsed ("(%s, [(%s, 256, 256)])", source, destination),
                   NULL, &error);
  else
    result = call ("thumbnails_q",
                   g_variant_new_parsed ("(%s, [(%s, 256, 256)], %i)",
                                         source, destination, quality),
                   NULL, &error);
  g_assert_no_error (error);

  g_file_get_contents (destination, &contents, &length, &error);
  g_assert_no_error (error);

  return g_bytes_new_take (contents, length);
}

static void
test_quality (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_quadrants (800, 600);
  g_autoptr(GBytes) by_default = NULL;
  g_autoptr(GBytes) q65 = NULL;
  g_autoptr(GBytes) q95 = NULL;
  g_autoptr(GBytes) q10 = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  int bad[] = { 0, -1, 101 };
  gsize i;

  g_test_summary ("The default quality is 65; thumbnails_q takes 1 to 100 and "
                  "rejects anything else as an invalid argument");

  test_write_jpeg (source, pattern, NULL);

  by_default = thumbnail_bytes (fixture, source, "default.jpg", 0);
  q65 = thumbnail_bytes (fixture, source, "q65.jpg", 65);
  q95 = thumbnail_bytes (fixture, source, "q95.jpg", 95);
  q10 = thumbnail_bytes (fixture, source, "q10.jpg", 10);

  g_assert_true (g_bytes_equal (by_default, q65));
  g_assert_cmpuint (g_bytes_get_size (q95), >, g_bytes_get_size (q65));
  g_assert_cmpuint (g_bytes_get_size (q65), >, g_bytes_get_size (q10));

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *destination = fixture_path (fixture, "bad-quality.jpg");

      result = call ("thumbnails_q",
                     g_variant_new_parsed ("(%s, [(%s, 256, 256)], %i)",
                                           source, destination, bad[i]),
                     NULL, &error);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_null (result);
      g_assert_false (g_file_test (destination, G_FILE_TEST_EXISTS));
      g_clear_error (&error);
    }
}

/* ---- write: options and a report ------------------------------------ */

static void
test_write_options (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autofree char *out = fixture_path (fixture, "out");
  g_autofree char *destination = g_build_filename (out, "deep", "q95.jpg", NULL);
  g_autoptr(GdkPixbuf) pattern = test_pattern_quadrants (800, 600);
  g_autoptr(GBytes) q95 = NULL;
  g_autoptr(GBytes) written = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GVariant) sizes = NULL;
  g_autoptr(GVariant) report = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length;
  int width, height;

  g_test_summary ("write takes the quality and a base folder as options, writes "
                  "what thumbnails_q writes, and returns the sizes and a report");
  test_write_jpeg (source, pattern, NULL);
  g_assert_cmpint (g_mkdir (out, 0755), ==, 0);
  q95 = thumbnail_bytes (fixture, source, "thumbnails-q95.jpg", 95);

  result = call ("write",
                 g_variant_new_parsed ("(%s, [(%s, 256, 256)], {'quality': <95>, 'base': <%s>})",
                                       source, destination, out),
                 NULL, &error);
  g_assert_no_error (error);
  g_variant_get (result, "(@a(ii)@a{sv})", &sizes, &report);
  g_assert_cmpuint (g_variant_n_children (report), ==, 0);
  g_assert_cmpuint (g_variant_n_children (sizes), ==, 1);
  g_variant_get_child (sizes, 0, "(ii)", &width, &height);
  g_assert_cmpint (width, ==, 256);
  g_assert_cmpint (height, ==, 192);

  g_file_get_contents (destination, &contents, &length, &error);
  g_assert_no_error (error);
  written = g_bytes_new_take (g_steal_pointer (&contents), length);
  g_assert_true (g_bytes_equal (written, q95));
}

static void
test_write_bad_options (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autofree char *out = fixture_path (fixture, "out");
  g_autofree char *destination = g_build_filename (out, "t.jpg", NULL);
  g_autofree char *elsewhere = fixture_path (fixture, "elsewhere");
  g_autoptr(GdkPixbuf) pattern = test_pattern_gradient (400, 300);
  g_autofree char *tree = NULL;
  struct {
    const char *options;
    const char *message;
  } cases[] = {
    { "{'colour': <true>}",
      "Unknown option “colour” (known: quality, max-pixels, base, strict, format, text, fast)" },
    { "{'quality': <'high'>}", "Option “quality” must be of type i, not s" },
    { "{'strict': <1>}", "Option “strict” must be of type b, not i" },
    { "{'base': <42>}", "Option “base” must be of type s, not i" },
    { "{'quality': <0>}", "JPEG quality must be between 1 and 100, not 0" },
  };

  g_test_summary ("write refuses an unknown option, an option of the wrong type, "
                  "and a destination outside its base, naming each, writing nothing");
  test_write_jpeg (source, pattern, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GVariant) options = g_variant_parse (G_VARIANT_TYPE_VARDICT,
                                                     cases[i].options, NULL, NULL, NULL);
      g_autoptr(GVariant) result = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_nonnull (options);
      result = call ("write",
                     g_variant_new_parsed ("(%s, [(%s, 64, 64)], %@a{sv})",
                                           source, destination, options),
                     NULL, &error);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, cases[i].message);
      g_assert_null (result);
    }

  {
    g_autoptr(GVariant) result = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *expected = g_strdup_printf ("Thumbnail destination “%s” is not "
                                                 "below its base folder “%s”",
                                                 destination, elsewhere);

    result = call ("write",
                   g_variant_new_parsed ("(%s, [(%s, 64, 64)], {'base': <%s>})",
                                         source, destination, elsewhere),
                   NULL, &error);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_assert_cmpstr (error->message, ==, expected);
    g_assert_null (result);
  }

  tree = list_tree (fixture->dir);
  g_assert_cmpstr (tree, ==, "source.jpg");
}

static void
test_write_base_link (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autofree char *out = fixture_path (fixture, "out");
  g_autofree char *outside = fixture_path (fixture, "outside");
  g_autofree char *link = g_build_filename (out, "mirror", NULL);
  g_autofree char *destination = g_build_filename (link, "thumbnails", "t.jpg", NULL);
  g_autoptr(GdkPixbuf) pattern = test_pattern_gradient (400, 300);
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *tree = NULL;

  g_test_summary ("write follows no symbolic link below its base, even far from "
                  "the source's folder: the link is a G_FILE_ERROR_LOOP naming it");
  test_write_jpeg (source, pattern, NULL);
  g_assert_cmpint (g_mkdir (out, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (outside, 0755), ==, 0);
  g_assert_cmpint (symlink ("../outside", link), ==, 0);

  result = call ("write",
                 g_variant_new_parsed ("(%s, [(%s, 64, 64)], {'base': <%s>})",
                                       source, destination, out),
                 NULL, &error);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_LOOP);
  g_assert_nonnull (strstr (error->message, link));
  g_assert_null (result);
  tree = list_tree (outside);
  g_assert_cmpstr (tree, ==, "");
}

/* ---- errors ----------------------------------------------------------- */

/* ---- write_fds: the same job on descriptors ------------------------- */

/* An empty file of the fixture, open for reading and writing. */
static int
open_empty_output (Fixture    *fixture,
                   const char *name)
{
  g_autofree char *path = fixture_path (fixture, name);
  int fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

  g_assert_cmpint (fd, >=, 0);
  return fd;
}

/* write_fds and write of @source to 256x256 and 64x64 give the same
 * files, byte for byte (the same stamp: the same source file). */
static void
check_fds_like_paths (Fixture    *fixture,
                      const char *source,
                      const char *stem)
{
  g_autofree char *by_path_256 = g_strdup_printf ("%s/%s-path-256.jpg", fixture->dir, stem);
  g_autofree char *by_path_64 = g_strdup_printf ("%s/%s-path-64.jpg", fixture->dir, stem);
  g_autofree char *fd_name_256 = g_strdup_printf ("%s-fd-256.jpg", stem);
  g_autofree char *fd_name_64 = g_strdup_printf ("%s-fd-64.jpg", stem);
  g_autofree char *by_fd_256 = fixture_path (fixture, fd_name_256);
  g_autofree char *by_fd_64 = fixture_path (fixture, fd_name_64);
  g_autoptr(GVariant) path_result = NULL;
  g_autoptr(GVariant) fd_result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) a = NULL, b = NULL, c = NULL, d = NULL;
  int source_fd, out_256, out_64;

  path_result = call ("write",
                      g_variant_new_parsed ("(%s, [(%s, 256, 256), (%s, 64, 64)], "
                                            "@a{sv} {})", source, by_path_256, by_path_64),
                      NULL, &error);
  g_assert_no_error (error);

  /* At its end: the plugin must read from the start whatever the offset. */
  source_fd = open (source, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (source_fd, >=, 0);
  g_assert_cmpint (lseek (source_fd, 0, SEEK_END), >, 0);
  out_256 = open_empty_output (fixture, fd_name_256);
  out_64 = open_empty_output (fixture, fd_name_64);

  fd_result = call ("write_fds",
                    g_variant_new ("(h@a(hii)@a{sv})", source_fd,
                                   g_variant_new_parsed ("[(%h, 256, 256), (%h, 64, 64)]",
                                                         out_256, out_64),
                                   g_variant_new_parsed ("{'name': <%s>}", source)),
                    NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_equal (fd_result, path_result));
  /* The source's offset is left where it was. */
  g_assert_cmpint (lseek (source_fd, 0, SEEK_CUR), ==, lseek (source_fd, 0, SEEK_END));
  close (source_fd);
  close (out_256);
  close (out_64);

  a = test_read_bytes (by_path_256);
  b = test_read_bytes (by_fd_256);
  c = test_read_bytes (by_path_64);
  d = test_read_bytes (by_fd_64);
  g_assert_cmpuint (g_bytes_get_size (a), >, 0);
  g_assert_true (g_bytes_equal (a, b));
  g_assert_true (g_bytes_equal (c, d));
}

static void
test_write_fds_like_paths (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autofree char *jpeg = fixture_path (fixture, "rotated.jpg");
  g_autofree char *png = fixture_path (fixture, "source.png");
  g_autoptr(GdkPixbuf) pattern = test_pattern_quadrants (800, 600);
  g_autoptr(GBytes) profile = srgb_profile ();
  TestJpegOptions options = { .orientation = 6, .icc_profile = profile };

  g_test_summary ("write_fds of a JPEG (EXIF-rotated, with an ICC profile) and of a PNG, "
                  "given as descriptors whatever their offset, writes into the output "
                  "descriptors the very files write writes to paths, and the same sizes");
  test_write_jpeg (jpeg, pattern, &options);
  test_write_png (png, pattern);
  check_fds_like_paths (fixture, jpeg, "jpeg");
  check_fds_like_paths (fixture, png, "png");
}

static void
test_write_fds_pipe_source (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  struct stat st;
  int fds[2], out;

  g_test_summary ("write_fds refuses a source descriptor that is not a regular file "
                  "(a pipe), saying what it is, at once and without reading it, and "
                  "writes nothing");
  g_assert_cmpint (pipe2 (fds, O_CLOEXEC), ==, 0);
  out = open_empty_output (fixture, "out.jpg");

  result = call ("write_fds",
                 g_variant_new_parsed ("(%h, [(%h, 64, 64)], {'name': <'a.jpg'>})",
                                       fds[0], out),
                 NULL, &error);
  g_assert_null (result);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
  g_assert_cmpstr (error->message, ==, "Failed to open “a.jpg”: not a regular file but "
                   "a FIFO (named pipe) or pipe");
  g_assert_cmpint (fstat (out, &st), ==, 0);
  g_assert_cmpint (st.st_size, ==, 0);
  close (fds[0]);
  close (fds[1]);
  close (out);
}

static void
test_write_fds_bad_options (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_gradient (400, 300);
  struct {
    const char *options;
    const char *message;
  } cases[] = {
    { "{'base': <'/tmp'>}", "Option “base” is not one of write_fds's: its thumbnails "
      "are descriptors, not paths (known: quality, max-pixels, name, strict, format, text, fast)" },
    { "{'colour': <true>}",
      "Unknown option “colour” (known: quality, max-pixels, name, strict, format, text, fast)" },
    { "{'name': <42>}", "Option “name” must be of type s, not i" },
    { "{'strict': <1>}", "Option “strict” must be of type b, not i" },
    { "{'quality': <101>}", "JPEG quality must be between 1 and 100, not 101" },
  };
  int source_fd, out;

  g_test_summary ("write_fds takes write's options but base, which names a path, "
                  "and refuses it and the others write refuses, naming each, writing "
                  "nothing");
  test_write_jpeg (source, pattern, NULL);
  source_fd = open (source, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (source_fd, >=, 0);
  out = open_empty_output (fixture, "out.jpg");

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GVariant) options = g_variant_parse (G_VARIANT_TYPE_VARDICT,
                                                     cases[i].options, NULL, NULL, NULL);
      g_autoptr(GVariant) result = NULL;
      g_autoptr(GError) error = NULL;
      struct stat st;

      g_assert_nonnull (options);
      result = call ("write_fds",
                     g_variant_new_parsed ("(%h, [(%h, 64, 64)], %@a{sv})",
                                           source_fd, out, options),
                     NULL, &error);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_cmpstr (error->message, ==, cases[i].message);
      g_assert_null (result);
      g_assert_cmpint (fstat (out, &st), ==, 0);
      g_assert_cmpint (st.st_size, ==, 0);
    }

  close (source_fd);
  close (out);
}

static void
test_write_fds_output_not_empty (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_gradient (400, 300);
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  int source_fd, out;

  g_test_summary ("write_fds writes only into an empty regular file: an output "
                  "with contents is an error naming the thumbnail");
  test_write_jpeg (source, pattern, NULL);
  source_fd = open (source, O_RDONLY | O_CLOEXEC);
  out = open_empty_output (fixture, "out.jpg");
  g_assert_cmpint (write (out, "old", 3), ==, 3);

  result = call ("write_fds",
                 g_variant_new_parsed ("(%h, [(%h, 64, 48)], {'name': <'s.jpg'>})",
                                       source_fd, out),
                 NULL, &error);
  g_assert_null (result);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_assert_cmpstr (error->message, ==, "Failed to write the 64x48 thumbnail of s.jpg: "
                   "its descriptor is not an empty regular file");
  close (source_fd);
  close (out);
}

static void
test_error_missing_source (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "no-such-photo.jpg");
  g_autofree char *destination = fixture_path (fixture, "out/thumb.jpg");
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *tree = NULL;
  int width, height;

  g_test_summary ("A missing source is G_FILE_ERROR_NOENT, naming the file, "
                  "for every function");

  g_assert_false (make_thumbnail (source, destination, 64, 64, &width, &height, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, source));
  g_clear_error (&error);

  result = call ("info", g_variant_new ("(s)", source), NULL, &error);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, source));

  tree = list_tree (fixture->dir);
  g_assert_cmpstr (tree, ==, "");
}

static void
test_error_directory_source (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autofree char *destination = fixture_path (fixture, "thumb.jpg");
  g_autoptr(GError) error = NULL;
  int width, height;

  g_test_summary ("A directory as source is G_FILE_ERROR_ISDIR");

  g_assert_false (make_thumbnail (fixture->dir, destination, 64, 64, &width, &height, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR);
}

static void
test_error_fifo_source (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "fifo.jpg");
  g_autofree char *destination = fixture_path (fixture, "thumb.jpg");
  g_autoptr(GError) error = NULL;
  int width, height;

  g_test_summary ("A FIFO as source (put in a photo's place after the walk) is refused "
                  "at once, without waiting for a writer");

  g_assert_cmpint (mkfifo (source, 0600), ==, 0);
  g_assert_false (make_thumbnail (source, destination, 64, 64, &width, &height, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "not a regular file"));
}

static void
test_error_huge_source (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "huge.jpg");
  g_autofree char *destination = fixture_path (fixture, "thumb.jpg");
  g_autoptr(GError) error = NULL;
  g_autofree char *tree = NULL;
  int width, height, fd;

  g_test_summary ("A 10 GB sparse file starting with FF D8 is refused from its size, "
                  "unread, as is anything over WP_IMAGE_MAX_FILE_SIZE");

  fd = open (source, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, "\xff\xd8", 2), ==, 2);
  if (ftruncate (fd, (off_t) 10 << 30) < 0)
    {
      close (fd);
      g_test_skip ("this file system cannot hold a 10 GB sparse file");
      return;
    }
  close (fd);

  g_assert_false (make_thumbnail (source, destination, 64, 64, &width, &height, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "512 MiB limit"));
  g_assert_nonnull (strstr (error->message, source));

  tree = list_tree (fixture->dir);
  g_assert_cmpstr (tree, ==, "huge.jpg");
}

static void
test_error_bad_box (Fixture       *fixture,
                    gconstpointer  data)
{
  static const int boxes[][2] = { { 0, 64 }, { 64, 0 }, { -1, 64 }, { 64, -5 } };
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autofree char *good = fixture_path (fixture, "out/good.jpg");
  g_autofree char *bad = fixture_path (fixture, "out/bad.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_gradient (100, 100);
  g_autofree char *tree = NULL;
  gsize i;

  g_test_summary ("A box side <= 0 is G_IO_ERROR_INVALID_ARGUMENT, and a list "
                  "with one bad box writes nothing at all");

  test_write_jpeg (source, pattern, NULL);

  for (i = 0; i < G_N_ELEMENTS (boxes); i++)
    {
      g_autoptr(GVariant) result = NULL;
      g_autoptr(GError) error = NULL;
      int width, height;

      g_assert_false (make_thumbnail (source, bad, boxes[i][0], boxes[i][1],
                                      &width, &height, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);

      result = call ("thumbnails",
                     g_variant_new_parsed ("(%s, [(%s, 64, 64), (%s, %i, %i)])",
                                           source, good, bad, boxes[i][0], boxes[i][1]),
                     NULL, &error);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    }

  tree = list_tree (fixture->dir);
  g_assert_cmpstr (tree, ==, "source.jpg");
}

static void
test_error_bad_arguments (Fixture       *fixture,
                          gconstpointer  data)
{
  const WpFunction *function = find_function ("thumbnail");
  g_autoptr(GVariant) args = g_variant_ref_sink (g_variant_new ("(s)", "x.jpg"));
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("Arguments of the wrong type are G_IO_ERROR_INVALID_ARGUMENT, "
                  "not a crash");

  result = function->func (args, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_error_unwritable (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autofree char *file = fixture_path (fixture, "file");
  g_autofree char *under_file = fixture_path (fixture, "file/sub/thumb.jpg");
  g_autofree char *directory = fixture_path (fixture, "directory");
  g_autofree char *tree = NULL;
  g_autoptr(GdkPixbuf) pattern = test_pattern_gradient (100, 100);
  g_autoptr(GError) error = NULL;
  int width, height;

  g_test_summary ("An unwritable destination is a G_FILE_ERROR naming it, and "
                  "leaves no temporary file");

  test_write_jpeg (source, pattern, NULL);
  g_file_set_contents (file, "not a directory", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir (directory, 0700), ==, 0);

  /* A parent that is a file. */
  g_assert_false (make_thumbnail (source, under_file, 64, 64, &width, &height, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR);
  g_assert_nonnull (strstr (error->message, under_file));
  g_clear_error (&error);

  /* A destination that is a directory. */
  g_assert_false (make_thumbnail (source, directory, 64, 64, &width, &height, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR);
  g_assert_nonnull (strstr (error->message, directory));
  g_clear_error (&error);

  tree = list_tree (fixture->dir);
  g_assert_cmpstr (tree, ==, "directory file source.jpg");

  /* A read-only directory, which root can write anyway. */
  if (geteuid () != 0)
    {
      g_autofree char *read_only = fixture_path (fixture, "read-only");
      g_autofree char *inside = fixture_path (fixture, "read-only/thumb.jpg");
      g_autofree char *inside_tree = NULL;

      g_assert_cmpint (g_mkdir (read_only, 0500), ==, 0);
      g_assert_false (make_thumbnail (source, inside, 64, 64, &width, &height, &error));
      g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ACCES);
      g_assert_nonnull (strstr (error->message, inside));
      inside_tree = list_tree (read_only);
      g_assert_cmpstr (inside_tree, ==, "");
    }
}

static void
test_cancel_before (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autofree char *destination = fixture_path (fixture, "out/thumb.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_gradient (400, 300);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *tree = NULL;
  const char *functions[] = { "thumbnail", "thumbnails", "thumbnails_q", "write", "info" };
  gsize i;

  g_test_summary ("A job cancelled before it starts is G_IO_ERROR_CANCELLED and "
                  "writes nothing");

  test_write_jpeg (source, pattern, NULL);
  g_cancellable_cancel (cancellable);

  for (i = 0; i < G_N_ELEMENTS (functions); i++)
    {
      g_autoptr(GVariant) result = NULL;
      g_autoptr(GError) error = NULL;
      GVariant *args;

      if (g_str_equal (functions[i], "thumbnail"))
        args = g_variant_new ("(ss(ii))", source, destination, 64, 64);
      else if (g_str_equal (functions[i], "thumbnails"))
        args = g_variant_new_parsed ("(%s, [(%s, 64, 64)])", source, destination);
      else if (g_str_equal (functions[i], "thumbnails_q"))
        args = g_variant_new_parsed ("(%s, [(%s, 64, 64)], 80)", source, destination);
      else if (g_str_equal (functions[i], "write"))
        args = g_variant_new_parsed ("(%s, [(%s, 64, 64)], @a{sv} {})", source, destination);
      else
        args = g_variant_new ("(s)", source);

      result = call (functions[i], args, cancellable, &error);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_null (result);
    }

  tree = list_tree (fixture->dir);
  g_assert_cmpstr (tree, ==, "source.jpg");
}

/* The JPEG decoder reads its descriptor with read(2) as it needs data,
 * so a pipe fed by another thread decides how far a decode can get
 * before the cancel: FEED_BEFORE_CANCEL bytes can be written only once
 * the decoder has consumed all but a pipe's worth of them, which is more
 * than the header and its first read buffer (DECODER_BUFFER, the
 * decoder's SOURCE_BUFFER_SIZE), so it is decoding rows.  The rest of the
 * file is written after the cancel; it spans several read buffers, so
 * rows are decoded after the cancel is visible, and each batch of rows
 * polls the cancellable. */
#define DECODER_BUFFER 65536

typedef struct {
  int           fd;           /* the pipe's write end, closed at the end */
  const guint8 *data;
  gsize         size;
  gsize         before;       /* bytes written before the cancel */
  GCancellable *cancellable;
} Feeder;

static void
write_all (int           fd,
           const guint8 *data,
           gsize         size)
{
  while (size > 0)
    {
      gssize n = write (fd, data, size);

      if (n < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (n, >, 0);
      data += n;
      size -= n;
    }
}

static gpointer
feed_then_cancel (gpointer user_data)
{
  Feeder *feeder = user_data;

  write_all (feeder->fd, feeder->data, feeder->before);
  g_cancellable_cancel (feeder->cancellable);
  write_all (feeder->fd, feeder->data + feeder->before, feeder->size - feeder->before);
  close (feeder->fd);

  return NULL;
}

static void
test_cancel_during (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_gradient (4000, 3000);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GdkPixbuf) decoded = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  WpJpegReader *reader;
  Feeder feeder = { 0, };
  GThread *thread;
  int fds[2];
  int pipe_size;
  char sink[4096];
  gsize length;
  gssize n;

  g_test_summary ("A decode cancelled from another thread while it decodes rows "
                  "stops with G_IO_ERROR_CANCELLED");

  test_write_jpeg (source, pattern, NULL);
  g_assert_true (g_file_get_contents (source, &contents, &length, NULL));

  g_assert_cmpint (pipe2 (fds, O_CLOEXEC), ==, 0);
  pipe_size = fcntl (fds[1], F_GETPIPE_SZ);
  g_assert_cmpint (pipe_size, >, 0);

  feeder.fd = fds[1];
  feeder.data = (const guint8 *) contents;
  feeder.size = length;
  feeder.before = (gsize) pipe_size + 2 * DECODER_BUFFER;
  feeder.cancellable = cancellable;
  g_test_message ("%" G_GSIZE_FORMAT " bytes before the cancel, %" G_GSIZE_FORMAT " after",
                  feeder.before, length - feeder.before);
  g_assert_cmpuint (length, >=, feeder.before + 4 * DECODER_BUFFER);

  thread = g_thread_new ("feed", feed_then_cancel, &feeder);

  reader = wp_jpeg_reader_new (fds[0], source, NULL, &error);
  g_assert_no_error (error);
  decoded = wp_jpeg_reader_decode (reader, 4000, 3000, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (decoded);
  wp_jpeg_reader_free (reader);

  /* The feeder writes the whole file whatever the decoder read. */
  do
    n = read (fds[0], sink, sizeof sink);
  while (n > 0 || (n < 0 && errno == EINTR));
  g_assert_cmpint (n, ==, 0);
  g_thread_join (thread);
  close (fds[0]);
}

/* ---- the bad-input corpus -------------------------------------------- */

typedef struct {
  const char *name;
  int         code;     /* in GDK_PIXBUF_ERROR */
  const char *message;  /* expected in the message, or NULL */
  const char *damage;   /* a damaged file that decodes in part: the
                         * write report's damage; NULL: the file fails */
} BadInput;

static const BadInput bad_inputs[] = {
  { "empty.jpg", GDK_PIXBUF_ERROR_CORRUPT_IMAGE, "contains no data", NULL },
  { "truncated-after-soi.jpg", GDK_PIXBUF_ERROR_CORRUPT_IMAGE,
    "Premature end of JPEG file (JPEG datastream contains no image)", NULL },
  { "truncated-header.jpg", GDK_PIXBUF_ERROR_CORRUPT_IMAGE, "Premature end", NULL },
  { "truncated-at-scan.jpg", GDK_PIXBUF_ERROR_CORRUPT_IMAGE,
    "Premature end of JPEG file before any image data", NULL },
  { "truncated-half.jpg", GDK_PIXBUF_ERROR_CORRUPT_IMAGE, NULL,
    "Premature end of JPEG file" },
  { "truncated-no-eoi.jpg", GDK_PIXBUF_ERROR_CORRUPT_IMAGE, NULL,
    "Premature end of JPEG file" },
  /* Cut inside the header of a later scan: decoded again up to it. */
  { "truncated-progressive.jpg", GDK_PIXBUF_ERROR_CORRUPT_IMAGE, NULL,
    "Premature end of JPEG file" },
  { "truncated-half.png", GDK_PIXBUF_ERROR_CORRUPT_IMAGE, NULL,
    "the file is truncated: 16 of 48 rows decoded" },
  { "truncated-half.bmp", GDK_PIXBUF_ERROR_CORRUPT_IMAGE, NULL,
    "the file is truncated: 23 of 48 rows decoded" },
  { "garbage-after-soi.jpg", GDK_PIXBUF_ERROR_CORRUPT_IMAGE, NULL, NULL },
  /* Decoded at 1/8, 7500x7500, within the pixel limit: its first rows
   * decode, the rest is missing. */
  { "huge-60000x60000.jpg", GDK_PIXBUF_ERROR_CORRUPT_IMAGE, NULL,
    "Corrupt JPEG data: premature end of data segment" },
  { "huge-60000x60000.png", GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY,
    "is 60000x60000 = 3600000000 pixels, over the pixel limit of 100000000", NULL },
  { "not-an-image.jpg", GDK_PIXBUF_ERROR_UNKNOWN_TYPE, NULL, NULL },
};

static char *
bad_input_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "..", "data", "bad", name, NULL);
}

/* @bad, damaged, through write_fds (the source's offset at its end):
 * the very result of write, @path_result (NULL: its @path_error), and,
 * when that succeeded, the very files write wrote in @path_out; with
 * strict, nothing written in any output. */
static void
check_damaged_fds (const char     *source,
                   gboolean        strict,
                   GVariant       *path_result,
                   const GError   *path_error,
                   const char     *path_out)
{
  g_autofree char *out = g_strconcat (path_out, "-fds", NULL);
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  int outputs[G_N_ELEMENTS (six_boxes)];
  GVariantBuilder list;
  int source_fd;

  source_fd = open (source, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint (source_fd, >=, 0);
  g_assert_cmpint (lseek (source_fd, 0, SEEK_END), >, 0);
  g_assert_cmpint (g_mkdir (out, 0755), ==, 0);
  g_variant_builder_init (&list, G_VARIANT_TYPE ("a(hii)"));
  for (gsize i = 0; i < G_N_ELEMENTS (six_boxes); i++)
    {
      g_autofree char *name = g_strdup_printf ("%d.jpg", six_boxes[i]);
      g_autofree char *path = g_build_filename (out, name, NULL);

      outputs[i] = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      g_assert_cmpint (outputs[i], >=, 0);
      g_variant_builder_add (&list, "(hii)", outputs[i], six_boxes[i], six_boxes[i]);
    }

  result = call ("write_fds",
                 g_variant_new_parsed ("(%h, %@a(hii), {'strict': <%b>, 'name': <%s>})",
                                       source_fd, g_variant_builder_end (&list), strict,
                                       source),
                 NULL, &error);

  if (path_result == NULL)
    {
      g_assert_nonnull (path_error);
      g_assert_error (error, path_error->domain, path_error->code);
      g_assert_cmpstr (error->message, ==, path_error->message);
      g_assert_null (result);
    }
  else
    {
      g_assert_no_error (error);
      g_assert_true (g_variant_equal (result, path_result));
    }

  for (gsize i = 0; i < G_N_ELEMENTS (six_boxes); i++)
    {
      g_autofree char *name = g_strdup_printf ("%d.jpg", six_boxes[i]);
      g_autofree char *path = g_build_filename (out, name, NULL);
      g_autoptr(GBytes) written = test_read_bytes (path);

      if (path_result == NULL)
        g_assert_cmpuint (g_bytes_get_size (written), ==, 0);
      else
        {
          g_autofree char *by_path = g_build_filename (path_out, name, NULL);
          g_autoptr(GBytes) expected = test_read_bytes (by_path);

          g_assert_cmpuint (g_bytes_get_size (written), >, 0);
          g_assert_true (g_bytes_equal (written, expected));
        }
      close (outputs[i]);
    }
  close (source_fd);
}

/* @bad, damaged, through write and write_fds: its thumbnails and the
 * damage in the report; with strict, CORRUPT_IMAGE naming the file and
 * the damage, and nothing written. */
static void
test_damaged_input (Fixture        *fixture,
                    const char     *source,
                    const BadInput *bad)
{
  const char *modes[] = { "shown", "strict" };

  for (gsize m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      gboolean strict = m == 1;
      g_autofree char *out = fixture_path (fixture, modes[m]);
      g_autoptr(GVariant) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *tree = NULL;
      GVariantBuilder list;

      g_assert_cmpint (g_mkdir (out, 0755), ==, 0);
      g_variant_builder_init (&list, G_VARIANT_TYPE ("a(sii)"));
      for (gsize i = 0; i < G_N_ELEMENTS (six_boxes); i++)
        {
          g_autofree char *name = g_strdup_printf ("%d.jpg", six_boxes[i]);
          g_autofree char *destination = g_build_filename (out, name, NULL);

          g_variant_builder_add (&list, "(sii)", destination, six_boxes[i], six_boxes[i]);
        }

      result = call ("write",
                     g_variant_new_parsed ("(%s, %@a(sii), {'strict': <%b>, 'base': <%s>})",
                                           source, g_variant_builder_end (&list), strict, out),
                     NULL, &error);
      tree = list_tree (out);

      if (strict)
        {
          g_autofree char *expected = g_strdup_printf ("Image “%s” is damaged: %s",
                                                       source, bad->damage);

          g_assert_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE);
          g_assert_true (g_str_has_prefix (error->message, expected));
          g_assert_null (result);
          g_assert_cmpstr (tree, ==, "");
        }
      else
        {
          g_autoptr(GVariant) report = NULL;
          const char *damage = NULL;

          g_assert_no_error (error);
          report = g_variant_get_child_value (result, 1);
          g_assert_true (g_variant_lookup (report, "damage", "&s", &damage));
          g_assert_true (g_str_has_prefix (damage, bad->damage));
          g_assert_cmpstr (tree, ==, "1024.jpg 128.jpg 256.jpg 32.jpg 512.jpg 64.jpg");
          g_test_message ("%s", damage);
        }

      check_damaged_fds (source, strict, result, error, out);
    }
}

static void
test_bad_input (Fixture       *fixture,
                gconstpointer  data)
{
  const BadInput *bad = data;
  g_autofree char *source = bad_input_path (bad->name);
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *tree = NULL;
  GVariantBuilder list;
  gsize i;

  g_test_summary ("Each file of tests/data/bad fails with its GDK_PIXBUF_ERROR "
                  "and leaves nothing in the destination directory, or, damaged but "
                  "decodable in part, gets its thumbnails and a report of the damage, "
                  "and fails with strict, through write and write_fds alike");

  g_assert_true (g_file_test (source, G_FILE_TEST_IS_REGULAR));

  if (bad->damage != NULL)
    {
      test_damaged_input (fixture, source, bad);
      return;
    }

  g_variant_builder_init (&list, G_VARIANT_TYPE ("a(sii)"));
  for (i = 0; i < G_N_ELEMENTS (six_boxes); i++)
    {
      g_autofree char *name = g_strdup_printf ("thumbnails/%d/%s", six_boxes[i], bad->name);
      g_autofree char *destination = fixture_path (fixture, name);

      g_variant_builder_add (&list, "(sii)", destination, six_boxes[i], six_boxes[i]);
    }

  result = call ("thumbnails", g_variant_new ("(sa(sii))", source, &list), NULL, &error);
  g_assert_error (error, GDK_PIXBUF_ERROR, bad->code);
  g_assert_null (result);
  g_assert_nonnull (strstr (error->message, source));
  if (bad->message != NULL)
    g_assert_nonnull (strstr (error->message, bad->message));
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  tree = list_tree (fixture->dir);
  g_assert_cmpstr (tree, ==, "");

  /* info reads only the header of a JPEG: it may succeed, but never crash,
   * and fails with an image error when it fails. */
  info = call ("info", g_variant_new ("(s)", source), NULL, &error);
  if (info == NULL)
    g_assert_true (error->domain == GDK_PIXBUF_ERROR);
}

static void
test_bad_corpus_complete (void)
{
  g_autofree char *dir = bad_input_path (NULL);
  g_autoptr(GDir) handle = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;
  guint n = 0;

  g_test_summary ("Every file of tests/data/bad has an expected error here");

  handle = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);

  while ((name = g_dir_read_name (handle)) != NULL)
    {
      gboolean known = FALSE;
      gsize i;

      for (i = 0; i < G_N_ELEMENTS (bad_inputs); i++)
        known = known || g_str_equal (bad_inputs[i].name, name);
      if (!known)
        g_error ("tests/data/bad/%s has no expectation in bad_inputs[]", name);
      n++;
    }

  g_assert_cmpuint (n, ==, G_N_ELEMENTS (bad_inputs));
}

/* ---- the atomic writer, unit-tested ---------------------------------- */

static mode_t
current_umask (void)
{
  mode_t mask = umask (0);

  umask (mask);
  return mask;
}

typedef struct {
  const char        *path;
  const char        *summary;
  WpAtomicFileFlags  flags;
} AtomicCase;

static const AtomicCase atomic_cases[] = {
  { "/thumbnail/atomic/o-tmpfile",
    "The atomic writer creates and replaces files and leaves no temporary file on "
    "failure (O_TMPFILE where supported)",
    WP_ATOMIC_FILE_NONE },
  { "/thumbnail/atomic/named-temp",
    "The same with a named temporary file, the fallback for file systems without O_TMPFILE",
    WP_ATOMIC_FILE_NO_O_TMPFILE },
};

static void
test_atomic_replace (Fixture       *fixture,
                     gconstpointer  data)
{
  const AtomicCase *ac = data;
  WpAtomicFileFlags flags = ac->flags;
  g_autofree char *path = fixture_path (fixture, "deep/er/file.bin");
  g_autofree char *directory = fixture_path (fixture, "as-directory");
  g_autoptr(GBytes) first = g_bytes_new_static ("first", 5);
  g_autoptr(GBytes) second = g_bytes_new_static ("second version", 14);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *tree = NULL;
  struct stat st;

  g_test_summary (ac->summary);

  /* Create, with the parents. */
  g_assert_true (wp_atomic_file_replace (path, first, flags | WP_ATOMIC_FILE_CREATE_PARENTS,
                                         &error));
  g_assert_no_error (error);
  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "first");
  g_clear_pointer (&contents, g_free);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0666 & ~current_umask ());

  /* Replace. */
  g_assert_true (wp_atomic_file_replace (path, second, flags, &error));
  g_assert_no_error (error);
  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "second version");

  /* Fail: the destination is a directory. */
  g_assert_cmpint (g_mkdir (directory, 0700), ==, 0);
  g_assert_false (wp_atomic_file_replace (directory, first, flags, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR);
  g_clear_error (&error);

  /* Fail: no parent, not asked to create it. */
  g_assert_false (wp_atomic_file_replace ("/nonexistent-wp/x", first, flags, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);

  tree = list_tree (fixture->dir);
  g_assert_cmpstr (tree, ==, "as-directory deep deep/er deep/er/file.bin");
}

static void
test_atomic_temp_names (void)
{
  static const char *const temps[] = {
    ".a.jpg.wptmp-Ab12Cd", ".x.wptmp-000000", "..jpg.wptmp-zzzzzz",
  };
  static const char *const others[] = {
    "a.jpg", ".a.jpg", ".wptmp-Ab12Cd", "a.jpg.wptmp-Ab12Cd", ".a.jpg.wptmp-Ab12C",
    ".a.jpg.wptmp-Ab12C!", ".a.jpg.wptmp-Ab12Cde", ".a.jpg.12345678", ".a.jpg.XXXXXX",
  };

  g_test_summary ("Temporary names are recognised exactly: .NAME.wptmp- and six "
                  "letters or digits");
  for (gsize i = 0; i < G_N_ELEMENTS (temps); i++)
    g_assert_true (wp_atomic_file_is_temp_name (temps[i]));
  for (gsize i = 0; i < G_N_ELEMENTS (others); i++)
    g_assert_false (wp_atomic_file_is_temp_name (others[i]));
}

static void
test_atomic_remove_temps (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autofree char *folder = fixture_path (fixture, "thumbnails/64x64");
  g_autofree char *outside = fixture_path (fixture, "outside");
  g_autofree char *tree = NULL;
  static const char *const files[] = {
    ".a.jpg.wptmp-Ab12Cd", ".b.jpg.wptmp-000000", "a.jpg", ".a.jpg", ".a.jpg.12345678",
    ".a.jpg.wptmp-Ab12C",
  };
  g_autoptr(GError) error = NULL;

  g_test_summary ("Removing leftovers removes the regular files with temporary names "
                  "and nothing else, and follows no link below the base");

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (outside, 0700), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (folder, files[i], NULL);

      g_file_set_contents (path, "x", -1, &error);
      g_assert_no_error (error);
    }
  {
    g_autofree char *dir = g_build_filename (folder, ".d.jpg.wptmp-dirdir", NULL);
    g_autofree char *link = g_build_filename (folder, ".l.jpg.wptmp-linkln", NULL);
    g_autofree char *victim = g_build_filename (outside, ".v.jpg.wptmp-victim", NULL);
    g_autofree char *linked = fixture_path (fixture, "linked");

    g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
    g_assert_cmpint (symlink ("a.jpg", link), ==, 0);
    g_file_set_contents (victim, "x", -1, &error);
    g_assert_no_error (error);
    g_assert_cmpint (symlink ("outside", linked), ==, 0);
  }

  g_assert_cmpuint (wp_atomic_file_remove_temps_below (fixture->dir, folder), ==, 2);
  {
    g_autofree char *through_link = fixture_path (fixture, "linked");

    g_assert_cmpuint (wp_atomic_file_remove_temps_below (fixture->dir, through_link), ==, 0);
  }

  tree = list_tree (fixture->dir);
  g_assert_cmpstr (tree, ==, "linked linked/.v.jpg.wptmp-victim outside "
                   "outside/.v.jpg.wptmp-victim thumbnails "
                   "thumbnails/64x64 thumbnails/64x64/.a.jpg thumbnails/64x64/.a.jpg.12345678 "
                   "thumbnails/64x64/.a.jpg.wptmp-Ab12C thumbnails/64x64/.d.jpg.wptmp-dirdir "
                   "thumbnails/64x64/.l.jpg.wptmp-linkln thumbnails/64x64/a.jpg");
}

static void
test_atomic_no_follow (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "photos/source.jpg");
  g_autofree char *photos = fixture_path (fixture, "photos");
  g_autofree char *link = fixture_path (fixture, "photos/thumbnails");
  g_autofree char *outside = fixture_path (fixture, "outside");
  g_autofree char *destination = fixture_path (fixture, "photos/thumbnails/64x64/source.jpg");
  g_autofree char *box_link = fixture_path (fixture, "photos/other/32x32");
  g_autofree char *box_destination = fixture_path (fixture, "photos/other/32x32/source.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_gradient (300, 200);
  g_autoptr(GBytes) bytes = g_bytes_new_static ("x", 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *tree = NULL;
  int width, height;

  g_test_summary ("A symbolic link among the folders below the source's folder is "
                  "refused (G_FILE_ERROR_LOOP, naming it), and nothing is written "
                  "where it points");

  g_assert_cmpint (g_mkdir_with_parents (photos, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (outside, 0700), ==, 0);
  test_write_jpeg (source, pattern, NULL);
  g_assert_cmpint (symlink ("../outside", link), ==, 0);

  g_assert_false (make_thumbnail (source, destination, 64, 64, &width, &height, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_LOOP);
  g_assert_nonnull (strstr (error->message, link));
  g_assert_nonnull (strstr (error->message, "symbolic link"));
  g_clear_error (&error);

  /* A link one level further down, in the writer itself. */
  {
    g_autofree char *other = fixture_path (fixture, "photos/other");

    g_assert_cmpint (g_mkdir (other, 0700), ==, 0);
    g_assert_cmpint (symlink ("../../outside", box_link), ==, 0);
  }
  g_assert_false (wp_atomic_file_replace_below (photos, box_destination, bytes,
                                                WP_ATOMIC_FILE_CREATE_PARENTS, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_LOOP);
  g_assert_nonnull (strstr (error->message, box_link));

  tree = list_tree (fixture->dir);
  g_assert_cmpstr (tree, ==, "outside photos photos/other photos/other/32x32 "
                   "photos/source.jpg photos/thumbnails");
}

static void
test_atomic_replace_thumbnail (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autofree char *source = fixture_path (fixture, "source.jpg");
  g_autofree char *destination = fixture_path (fixture, "thumb.jpg");
  g_autoptr(GdkPixbuf) pattern = test_pattern_gradient (300, 200);
  g_autoptr(GError) error = NULL;
  g_autofree char *tree = NULL;
  int width, height;

  g_test_summary ("Making a thumbnail again replaces the old one in place");

  test_write_jpeg (source, pattern, NULL);
  g_file_set_contents (destination, "old", -1, &error);
  g_assert_no_error (error);

  g_assert_true (make_thumbnail (source, destination, 30, 30, &width, &height, &error));
  g_assert_no_error (error);
  g_assert_true (make_thumbnail (source, destination, 60, 60, &width, &height, &error));
  g_assert_no_error (error);
  g_assert_cmpint (width, ==, 60);

  tree = list_tree (fixture->dir);
  g_assert_cmpstr (tree, ==, "source.jpg thumb.jpg");
}

/* ---- main -------------------------------------------------------------- */

static void
load_plugin (void)
{
  const char *path = g_getenv ("WP_THUMBNAIL_PLUGIN");
  const WpPlugin *(*query) (void) = NULL;
  GModule *module;

  if (path == NULL)
    g_error ("Set WP_THUMBNAIL_PLUGIN to the built thumbnail.so");

  /* Never closed: the plugin stays loaded, as in a worker. */
  module = g_module_open (path, G_MODULE_BIND_LOCAL);
  if (module == NULL)
    g_error ("Cannot load %s: %s", path, g_module_error ());
  if (!g_module_symbol (module, "wp_plugin_query", (gpointer *) &query))
    g_error ("%s has no wp_plugin_query: %s", path, g_module_error ());

  plugin = query ();
  g_assert_nonnull (plugin);
}

/* ---- out of memory under a memory limit ------------------------------ */

#define MEMORY_LIMIT (G_GUINT64_CONSTANT (256) << 20)
#define HUGE_SIDE 10000

/* The first offset of @marker (two bytes) in @data, or -1. */
static gssize
find_bytes (const guint8 *data,
            gsize         length,
            guint8        first,
            guint8        second)
{
  gsize i;

  for (i = 0; i + 1 < length; i++)
    if (data[i] == first && data[i + 1] == second)
      return (gssize) i;
  return -1;
}

static void
put_be16 (guint8 *p,
          guint   value)
{
  p[0] = (guint8) (value >> 8);
  p[1] = (guint8) value;
}

static void
put_be32 (guint8  *p,
          guint32  value)
{
  put_be16 (p, value >> 16);
  put_be16 (p + 2, value & 0xFFFF);
}

/* A small image whose header says HUGE_SIDE x HUGE_SIDE: 100 megapixels,
 * within the plugin's pixel limit.  A progressive JPEG needs its whole
 * coefficient buffer (300 MB at 4:2:0) before the first scan is read, and
 * gdk-pixbuf's PNG loader allocates the whole pixbuf (300 MB) when it
 * reaches the first IDAT, so either fails under MEMORY_LIMIT before the
 * missing data matters. */
static char *
write_huge_image (Fixture    *fixture,
                  const char *name)
{
  g_autoptr(GdkPixbuf) pattern = test_pattern_quadrants (64, 64);
  g_autofree char *path = fixture_path (fixture, name);
  g_autofree guint8 *data = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;
  gssize at;

  if (g_str_has_suffix (name, ".jpg"))
    {
      TestJpegOptions options = { .progressive = TRUE };

      test_write_jpeg (path, pattern, &options);
      g_assert_true (g_file_get_contents (path, (char **) &data, &length, &error));
      g_assert_no_error (error);
      /* SOF2: marker, length, precision, height, width. */
      at = find_bytes (data, length, 0xFF, 0xC2);
      g_assert_cmpint (at, >, 0);
      put_be16 (data + at + 5, HUGE_SIDE);
      put_be16 (data + at + 7, HUGE_SIDE);
    }
  else
    {
      test_write_png (path, pattern);
      g_assert_true (g_file_get_contents (path, (char **) &data, &length, &error));
      g_assert_no_error (error);
      /* The signature, then IHDR: length, type, width, height, ..., CRC. */
      g_assert_cmpmem (data + 12, 4, "IHDR", 4);
      put_be32 (data + 16, HUGE_SIDE);
      put_be32 (data + 20, HUGE_SIDE);
      put_be32 (data + 29, test_png_crc (data + 12, 4 + 13));
    }

  g_assert_true (g_file_set_contents (path, (char *) data, (gssize) length, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

/* Memory-limit tests run in a subprocess, which they may limit: TRUE
 * there; FALSE in the parent, once the subprocess passed, and in an
 * AddressSanitizer build (skipped). */
static gboolean
in_memory_limit_subprocess (void)
{
  if (WP_ASAN_BUILD)
    {
      g_test_skip ("AddressSanitizer reserves terabytes of address space, so a process "
                   "cannot run under a memory limit in this build");
      return FALSE;
    }
  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return FALSE;
    }
  return TRUE;
}

static void
test_memory_limit_named (Fixture       *fixture,
                         gconstpointer  data)
{
  const char *name = data;
  g_autofree char *limit_text = g_strdup_printf ("(the worker ran under a memory limit of %"
                                                 G_GUINT64_FORMAT " bytes)", MEMORY_LIMIT);
  g_autofree char *source = NULL;
  g_autofree char *destination = NULL;
  g_autofree char *tree = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  struct rlimit limit;

  g_test_summary ("an image that needs more memory than the process's RLIMIT_AS fails "
                  "with GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY, whose message names the "
                  "limit in bytes, and leaves nothing");
  if (!in_memory_limit_subprocess ())
    return;

  source = write_huge_image (fixture, name);
  destination = fixture_path (fixture, "thumbnails/a.jpg");

  g_assert_cmpint (getrlimit (RLIMIT_AS, &limit), ==, 0);
  g_assert_true (limit.rlim_max == RLIM_INFINITY || limit.rlim_max >= MEMORY_LIMIT);
  limit.rlim_cur = MEMORY_LIMIT;
  g_assert_cmpint (setrlimit (RLIMIT_AS, &limit), ==, 0);

  result = call ("thumbnails",
                 g_variant_new_parsed ("(%s, [(%s, 256, 256)])", source, destination),
                 NULL, &error);
  g_assert_null (result);
  g_assert_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, source));
  g_assert_true (g_str_has_suffix (error->message, limit_text));

  if (g_str_has_suffix (name, ".jpg"))
    {
      /* Refused before decoding, for its coefficients: 128 bytes per
       * block, 1250x1250 blocks of luma and 625x625 of each chroma. */
      guint64 blocks = 1250 * 1250 + 2 * 625 * 625;
      g_autofree char *expected = g_strdup_printf ("this progressive %dx%d JPEG needs about ",
                                                   HUGE_SIDE, HUGE_SIDE);
      g_autofree char *coefficients = g_strdup_printf ("(%" G_GUINT64_FORMAT " MiB for its DCT "
                                                       "coefficients, which its decode holds "
                                                       "whole at any scale, ",
                                                       (blocks * 128 + (1 << 20) - 1) >> 20);

      g_assert_nonnull (strstr (error->message, expected));
      g_assert_nonnull (strstr (error->message, coefficients));
    }

  tree = list_tree (fixture->dir);
  g_assert_cmpstr (tree, ==, name);
}

/* How many of this process's descriptors are open on a statm file. */
static guint
count_statm_descriptors (void)
{
  GDir *dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *link = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (link, NULL);

      if (target != NULL && g_str_has_suffix (target, "/statm"))
        n++;
    }
  g_dir_close (dir);
  return n;
}

static void
test_memory_limit_kept_descriptor (void)
{
  const gsize grown = 64 << 20;
  g_autoptr(GError) error = NULL;
  guint64 limit_seen, before, after;
  struct rlimit limit;
  guint8 *block;

  g_test_summary ("after the plugin's init, the memory checks read the address space "
                  "in use through the descriptor it keeps, afresh at each check");
  if (!in_memory_limit_subprocess ())
    return;

  g_assert_cmpint (getrlimit (RLIMIT_AS, &limit), ==, 0);
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? G_GUINT64_CONSTANT (1) << 40
                                                   : limit.rlim_max;
  g_assert_cmpint (setrlimit (RLIMIT_AS, &limit), ==, 0);
  g_assert_cmpuint (count_statm_descriptors (), ==, 0);
  g_assert_nonnull (plugin->init);
  g_assert_true (plugin->init (&error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_statm_descriptors (), ==, 1);

  g_assert_true (wp_memory_limit_get_headroom (&limit_seen, &before));
  g_assert_cmpuint (limit_seen, ==, limit.rlim_cur);
  block = g_malloc (grown);   /* a mapping of its own */
  g_assert_true (wp_memory_limit_get_headroom (&limit_seen, &after));
  g_assert_cmpuint (after + grown, <=, before + (4 << 20));
  g_assert_cmpuint (after + grown, >=, before - (4 << 20));
  g_free (block);
  plugin->shutdown ();
  g_assert_cmpuint (count_statm_descriptors (), ==, 0);
}

static void
test_memory_limit_note (void)
{
  g_autoptr(GError) error = NULL;
  struct rlimit limit;

  g_test_summary ("without an RLIMIT_AS, an out-of-memory message is left as it is");

  g_assert_cmpint (getrlimit (RLIMIT_AS, &limit), ==, 0);
  if (limit.rlim_cur != RLIM_INFINITY)
    {
      g_test_skip ("this test runs under an RLIMIT_AS (ulimit -v)");
      return;
    }

  error = g_error_new_literal (GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY,
                               "Insufficient memory");
  wp_memory_limit_note (error);
  g_assert_cmpstr (error->message, ==, "Insufficient memory");
}

/* ---- big images: the limit applies to what is decoded ------------------ */

/* Calls write for one @box x @box thumbnail of @source under a
 * pixel limit of @max_pixels. */
static GVariant *
call_with_max_pixels (const char  *source,
                      const char  *destination,
                      int          box,
                      guint64      max_pixels,
                      GError     **error)
{
  GVariantBuilder list, options;

  g_variant_builder_init (&list, G_VARIANT_TYPE ("a(sii)"));
  g_variant_builder_add (&list, "(sii)", destination, box, box);
  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "max-pixels", g_variant_new_uint64 (max_pixels));

  return call ("write",
               g_variant_new ("(sa(sii)a{sv})", source, &list, &options), NULL, error);
}

static void
assert_info_size (const char *source,
                  int         width,
                  int         height)
{
  g_autoptr(GVariant) info = NULL;
  g_autoptr(GError) error = NULL;
  int info_width, info_height;

  info = call ("info", g_variant_new ("(s)", source), NULL, &error);
  g_assert_no_error (error);
  g_variant_get (info, "(ii&s)", &info_width, &info_height, NULL);
  g_assert_cmpint (info_width, ==, width);
  g_assert_cmpint (info_height, ==, height);
}

static void
test_big_jpeg (Fixture       *fixture,
               gconstpointer  data)
{
  const int side = 20000;
  g_autofree char *source = fixture_path (fixture, "big.jpg");
  g_autofree char *large = fixture_path (fixture, "thumbnails/1024.jpg");
  g_autofree char *small = fixture_path (fixture, "thumbnails/256.jpg");
  g_autofree char *limited = fixture_path (fixture, "thumbnails/limited.jpg");
  g_autoptr(GdkPixbuf) large_pixbuf = NULL;
  g_autoptr(GdkPixbuf) small_pixbuf = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) limited_pixbuf = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *printed = NULL;

  g_test_summary ("A 20000x20000 JPEG (400 megapixels) is thumbnailed from its 1/8 "
                  "decode, 2500x2500, within the default pixel limit; the limit counts "
                  "the decoded pixels, at the scale the thumbnails need");

  test_write_big_jpeg_apart (source, side, side, FALSE);
  assert_info_size (source, side, side);

  result = call ("thumbnails",
                 g_variant_new_parsed ("(%s, [(%s, 1024, 1024), (%s, 256, 256)])",
                                       source, large, small), NULL, &error);
  g_assert_no_error (error);
  printed = g_variant_print (result, FALSE);
  g_assert_cmpstr (printed, ==, "[(1024, 1024), (256, 256)]");
  g_clear_pointer (&result, g_variant_unref);
  large_pixbuf = load (large);
  small_pixbuf = load (small);
  g_assert_cmpint (gdk_pixbuf_get_width (large_pixbuf), ==, 1024);
  g_assert_cmpint (gdk_pixbuf_get_width (small_pixbuf), ==, 256);
  test_assert_oriented_quadrants (large_pixbuf, 1, side, side);
  test_assert_oriented_quadrants (small_pixbuf, 1, side, side);

  /* 1024 needs 1/8: 2500x2500 pixels, exactly at this limit. */
  result = call_with_max_pixels (source, limited, 1024, 2500 * 2500, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, g_variant_unref);
  limited_pixbuf = load (limited);
  g_assert_cmpint (gdk_pixbuf_get_width (limited_pixbuf), ==, 1024);
  test_assert_oriented_quadrants (limited_pixbuf, 1, side, side);
  g_assert_cmpint (g_unlink (limited), ==, 0);

  /* One pixel less refuses it, naming both numbers. */
  result = call_with_max_pixels (source, limited, 1024, 2500 * 2500 - 1, &error);
  g_assert_null (result);
  g_assert_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY);
  g_test_message ("%s", error->message);
  expected = g_strdup_printf ("Image “%s” is 20000x20000, which decodes at scale 1/8 to "
                              "2500x2500 = 6250000 pixels, over the pixel limit of 6249999",
                              source);
  g_assert_cmpstr (error->message, ==, expected);
  g_clear_error (&error);
  g_clear_pointer (&expected, g_free);
  g_assert_false (g_file_test (limited, G_FILE_TEST_EXISTS));

  /* Under the default limit, a box of 10001 needs 5/8, 12500x12500. */
  result = call ("thumbnails", g_variant_new_parsed ("(%s, [(%s, 10001, 10001)])",
                                                     source, limited), NULL, &error);
  g_assert_null (result);
  g_assert_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY);
  expected = g_strdup_printf ("decodes at scale 5/8 to 12500x12500 = 156250000 pixels, over "
                              "the pixel limit of %" G_GUINT64_FORMAT, WP_THUMBNAIL_MAX_PIXELS);
  g_assert_nonnull (strstr (error->message, expected));
  g_assert_false (g_file_test (limited, G_FILE_TEST_EXISTS));
}

static void
test_big_jpeg_largest_header (Fixture       *fixture,
                              gconstpointer  data)
{
  const guint side = 65500;  /* libjpeg's largest */
  const guint64 decoded = (guint64) 8188 * 8188;  /* 65500 / 8, rounded up */
  g_autoptr(GdkPixbuf) pattern = test_pattern_quadrants (64, 64);
  g_autofree char *source = fixture_path (fixture, "largest.jpg");
  g_autofree char *destination = fixture_path (fixture, "thumbnails/a.jpg");
  g_autofree guint8 *bytes = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;
  gssize at;

  g_test_summary ("A JPEG header claiming 65500x65500 (4.3 gigapixels) counts as its "
                  "8188x8188 decode, computed without overflow");

  test_write_jpeg (source, pattern, NULL);
  g_assert_true (g_file_get_contents (source, (char **) &bytes, &length, &error));
  g_assert_no_error (error);
  /* SOF0: marker, length, precision, height, width. */
  at = find_bytes (bytes, length, 0xFF, 0xC0);
  g_assert_cmpint (at, >, 0);
  put_be16 (bytes + at + 5, side);
  put_be16 (bytes + at + 7, side);
  g_assert_true (g_file_set_contents (source, (char *) bytes, (gssize) length, &error));
  g_assert_no_error (error);

  assert_info_size (source, side, side);

  result = call_with_max_pixels (source, destination, 256, decoded - 1, &error);
  g_assert_null (result);
  g_assert_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY);
  expected = g_strdup_printf ("is 65500x65500, which decodes at scale 1/8 to 8188x8188 = %"
                              G_GUINT64_FORMAT " pixels, over the pixel limit of %"
                              G_GUINT64_FORMAT, decoded, decoded - 1);
  g_assert_nonnull (strstr (error->message, expected));
  g_clear_error (&error);

  /* At the limit it is decoded: only its missing data may fail it. */
  result = call_with_max_pixels (source, destination, 256, decoded, &error);
  if (result == NULL)
    g_assert_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE);
}

#define ADD(path, func) \
  g_test_add ((path), Fixture, NULL, fixture_set_up, (func), fixture_tear_down)
#define ADD_DATA(path, data, func) \
  g_test_add ((path), Fixture, (data), fixture_set_up, (func), fixture_tear_down)

int
main (int   argc,
      char *argv[])
{
  gsize i;
  int orientation;

  /* libjpeg-turbo 2.1's SIMD code computes with the uninitialized padding
   * of its own row buffers for some scaled decodes; the visible pixels are
   * the same as with its C code, but valgrind reports every byte derived
   * from them, up to the write() of the thumbnail (`valgrind djpeg -scale
   * 1/8` on a 300x200 file shows the same).  Under valgrind, use the C
   * code, so that what valgrind reports is ours. */
#ifdef RUNNING_ON_VALGRIND
  if (RUNNING_ON_VALGRIND)
    g_setenv ("JSIMD_FORCENONE", "1", TRUE);
#endif

  g_test_init (&argc, &argv, NULL);
  load_plugin ();

  g_test_add_func ("/thumbnail/plugin/query", test_plugin_query);

  g_test_add_func ("/thumbnail/fit/examples", test_fit_examples);
  g_test_add_func ("/thumbnail/fit/formula", test_fit_formula);

  g_test_add_func ("/thumbnail/resample/flat", test_resample_flat);
  g_test_add_func ("/thumbnail/resample/like-lanczos", test_resample_like_lanczos);
  g_test_add_func ("/thumbnail/resample/identity", test_resample_identity);
  g_test_add_func ("/thumbnail/resample/clamped", test_resample_clamped);

  for (i = 0; i < G_N_ELEMENTS (size_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/thumbnail/size/%s", size_cases[i].name);
      ADD_DATA (path, &size_cases[i], test_size);
    }
  ADD_DATA ("/thumbnail/aliasing/rings/png", "png", test_aliasing_rings);
  ADD_DATA ("/thumbnail/aliasing/rings/jpeg", "jpeg", test_aliasing_rings);
  ADD ("/thumbnail/size/one-box", test_size_thumbnail);
  ADD ("/thumbnail/size/smallest-first", test_size_order);
  ADD ("/thumbnail/size/no-box", test_size_empty_list);

  for (orientation = 1; orientation <= 8; orientation++)
    {
      g_autofree char *path = g_strdup_printf ("/thumbnail/orientation/%d", orientation);
      ADD_DATA (path, GINT_TO_POINTER (orientation), test_orientation);
    }
  ADD ("/thumbnail/orientation/big-endian", test_orientation_big_endian);

  ADD ("/thumbnail/jpeg/progressive", test_jpeg_progressive);
  ADD ("/thumbnail/jpeg/grayscale", test_jpeg_grayscale);
  for (i = 0; i < G_N_ELEMENTS (cmyk_cases); i++)
    ADD_DATA (cmyk_cases[i].path, &cmyk_cases[i], test_jpeg_cmyk);
  ADD ("/thumbnail/jpeg/too-many-scans", test_jpeg_too_many_scans);
  ADD ("/thumbnail/png/alpha", test_png_alpha);
  ADD ("/thumbnail/bmp/bottom-up", test_bmp);

  ADD ("/thumbnail/icc/jpeg", test_icc_jpeg);
  ADD ("/thumbnail/icc/png", test_icc_png);
  ADD ("/thumbnail/metadata", test_metadata);
  ADD ("/thumbnail/png-format", test_png_format);
  ADD ("/thumbnail/jpeg-fast-dc-only", test_jpeg_fast_dc_only);
  ADD ("/thumbnail/png-format-refused", test_png_format_refused);
  ADD ("/thumbnail/stamp/records-source", test_stamp_records_source);
  g_test_add_func ("/thumbnail/stamp/parse", test_stamp_parse);
  ADD ("/thumbnail/quality", test_quality);
  ADD ("/thumbnail/write/options", test_write_options);
  ADD ("/thumbnail/write/bad-options", test_write_bad_options);
  ADD ("/thumbnail/write/base-link", test_write_base_link);
  ADD ("/thumbnail/write-fds/like-paths", test_write_fds_like_paths);
  ADD ("/thumbnail/write-fds/pipe-source", test_write_fds_pipe_source);
  ADD ("/thumbnail/write-fds/bad-options", test_write_fds_bad_options);
  ADD ("/thumbnail/write-fds/output-not-empty", test_write_fds_output_not_empty);

  ADD ("/thumbnail/error/missing-source", test_error_missing_source);
  ADD ("/thumbnail/error/directory-source", test_error_directory_source);
  ADD ("/thumbnail/error/fifo-source", test_error_fifo_source);
  ADD ("/thumbnail/error/huge-source", test_error_huge_source);
  ADD ("/thumbnail/error/bad-box", test_error_bad_box);
  ADD ("/thumbnail/error/bad-arguments", test_error_bad_arguments);
  ADD ("/thumbnail/error/unwritable", test_error_unwritable);
  ADD ("/thumbnail/cancel/before", test_cancel_before);
  ADD ("/thumbnail/cancel/during-decode", test_cancel_during);

  ADD_DATA ("/thumbnail/memory-limit/progressive-jpeg", "huge.jpg", test_memory_limit_named);
  ADD_DATA ("/thumbnail/memory-limit/png", "huge.png", test_memory_limit_named);
  g_test_add_func ("/thumbnail/memory-limit/no-limit", test_memory_limit_note);
  g_test_add_func ("/thumbnail/memory-limit/kept-descriptor", test_memory_limit_kept_descriptor);

  ADD ("/thumbnail/big/20000x20000", test_big_jpeg);
  ADD ("/thumbnail/big/largest-header", test_big_jpeg_largest_header);

  g_test_add_func ("/thumbnail/bad/corpus-complete", test_bad_corpus_complete);
  for (i = 0; i < G_N_ELEMENTS (bad_inputs); i++)
    {
      g_autofree char *path = g_strdup_printf ("/thumbnail/bad/%s", bad_inputs[i].name);
      ADD_DATA (path, &bad_inputs[i], test_bad_input);
    }

  for (i = 0; i < G_N_ELEMENTS (atomic_cases); i++)
    ADD_DATA (atomic_cases[i].path, &atomic_cases[i], test_atomic_replace);
  ADD ("/thumbnail/atomic/replace-thumbnail", test_atomic_replace_thumbnail);
  g_test_add_func ("/thumbnail/atomic/temp-names", test_atomic_temp_names);
  ADD ("/thumbnail/atomic/remove-temps", test_atomic_remove_temps);
  ADD ("/thumbnail/atomic/no-follow", test_atomic_no_follow);

  return g_test_run ();
}
