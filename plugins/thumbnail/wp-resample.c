/* wp-resample.c: reducing an RGB image with a Lanczos-3 filter.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * wp_resample_reduce() makes each output pixel a weighted sum of the
 * source pixels around it, the weights those of a Lanczos-3 kernel
 * (sinc (x) sinc (x / 3) for |x| < 3) stretched by the reduction ratio,
 * as Pillow's LANCZOS and libvips' reduce do.  Stretching the kernel is
 * what removes the detail finer than the output can show: a plain box
 * (area averaging) lets much of it through as moiré, rings and stripes
 * on fine repeating detail.  Near the image's edges the kernel is cut
 * at the edge and the remaining weights are scaled back to a sum of 1,
 * as Pillow does.
 *
 * The cost is that of a separable filter: about 6 multiply-adds per
 * source sample vertically (the kernel spans 6 output pixels) and
 * 6 / ratio horizontally, whatever the ratio, so linear in the number of
 * source pixels and, per output pixel, in the ratio.
 *
 * Invariants:
 *
 * - Reduction only: the output is never larger than the source on either
 *   axis (the caller decodes at least as large as its largest thumbnail).
 * - Weights are 14-bit fixed point and sum to exactly 1 for every output
 *   pixel, so flat areas keep their exact colour: the vertical pass
 *   keeps 6 fraction bits (a flat value v becomes exactly v * 64) and the
 *   horizontal pass rounds that back to v.
 * - The absolute values of each pixel's weights sum to less than 2
 *   (WEIGHT_ABS_MAX, checked when the weights are made; Lanczos-3 comes
 *   to 1.55 at most), so, the weights summing to 1, the positive ones sum
 *   to less than 1.5 and the negative ones to more than -0.5: the
 *   vertical pass's values lie within -255 * 0.5 * 64 and 255 * 1.5 * 64
 *   = 24480, which fits 16 bits, and no sum of either pass overflows
 *   32 bits (24480 * 2 * 2^14 < 2^31).
 * - The negative lobes can take a sum below 0 or above 255 next to a
 *   sharp edge: the vertical pass keeps such values as they are, and only
 *   the final value of each output channel is clamped to 0..255.
 * - The filter is separable: each output row is first filtered
 *   vertically from its source rows into a row of the source's width,
 *   which is then filtered horizontally.  Rows stream through two row
 *   buffers; there is no intermediate image.
 * - 8-bit RGB without alpha in and out (the only format the thumbnail
 *   pipeline carries).
 */

#include <math.h>
#include <string.h>

#include "wp-resample.h"

#define LOBES 3
#define WEIGHT_BITS 14
#define WEIGHT_ONE (1 << WEIGHT_BITS)
#define WEIGHT_ABS_MAX (2 * WEIGHT_ONE)
#define MIDDLE_BITS 6   /* fraction bits kept between the two passes */
#define TAP_BLOCK 8     /* taps per vector multiply-add of the horizontal pass */

/* The source pixels and weights of each output pixel along one axis. */
typedef struct {
  int    *first;     /* first source pixel of each output pixel */
  int    *count;     /* how many source pixels it weighs */
  gint16 *weights;   /* max_taps weights per output pixel, 0 after count */
  int     max_taps;  /* a multiple of TAP_BLOCK */
} Axis;

static double
sinc (double x)
{
  if (x == 0.0)
    return 1.0;
  x *= G_PI;
  return sin (x) / x;
}

static double
lanczos (double x)
{
  if (x <= -LOBES || x >= LOBES)
    return 0.0;
  return sinc (x) * sinc (x / LOBES);
}

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
  double support = LOBES * ratio;   /* in source pixels, each side */
  g_autofree double *exact = NULL;
  int i;

  g_assert (target > 0 && target <= source);

  /* An interval of length 2 * support meets at most that many pixels
   * plus one; one more for rounding. */
  axis->max_taps = (int) ceil (2 * support) + 2;
  axis->max_taps = (axis->max_taps + TAP_BLOCK - 1) / TAP_BLOCK * TAP_BLOCK;
  axis->first = g_try_new (int, target);
  axis->count = g_try_new (int, target);
  axis->weights = g_try_new0 (gint16, (gsize) target * axis->max_taps);
  exact = g_try_new (double, axis->max_taps);
  if (axis->first == NULL || axis->count == NULL || axis->weights == NULL ||
      exact == NULL)
    {
      axis_clear (axis);
      return FALSE;
    }

  for (i = 0; i < target; i++)
    {
      /* Pixel centres: output pixel i is at (i + 0.5) * ratio in source
       * coordinates, where source pixel k is at k + 0.5. */
      double centre = (i + 0.5) * ratio;
      int first = MAX ((int) floor (centre - support + 0.5), 0);
      int last = MIN ((int) ceil (centre + support + 0.5), source);  /* exclusive */
      gint16 *weights = axis->weights + (gsize) i * axis->max_taps;
      double total = 0.0;
      gint32 fixed_total = 0, abs_total = 0;
      int k, largest = 0;

      g_assert (last - first >= 1 && last - first <= axis->max_taps);

      for (k = 0; k < last - first; k++)
        {
          exact[k] = lanczos ((first + k + 0.5 - centre) / ratio);
          total += exact[k];
        }

      /* Scaled to a sum of 1, which also makes up for the part of the
       * kernel an edge cuts off. */
      for (k = 0; k < last - first; k++)
        {
          weights[k] = (gint16) floor (exact[k] / total * WEIGHT_ONE + 0.5);
          fixed_total += weights[k];
          if (weights[k] > weights[largest])
            largest = k;
        }

      /* Rounding leaves the sum a little off 1: give the difference to
       * the largest weight. */
      weights[largest] += WEIGHT_ONE - fixed_total;

      for (k = 0; k < last - first; k++)
        abs_total += ABS (weights[k]);
      g_assert (abs_total < WEIGHT_ABS_MAX);

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
 * Reduces @source to @width x @height with a Lanczos-3 filter.
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
  g_autofree gint32 *sums = NULL;
  g_autofree gint16 *planes = NULL;
  Axis horizontal = { NULL, }, vertical = { NULL, };
  const guint8 *source_pixels;
  guint8 *target_pixels;
  gsize source_stride, target_stride, row_bytes, plane_length;
  int source_width, source_height, x, y, k, c;

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
  sums = g_try_new (gint32, row_bytes);
  if (target == NULL || sums == NULL ||
      !axis_init (&horizontal, source_width, width))
    return NULL;
  if (!axis_init (&vertical, source_height, height))
    {
      axis_clear (&horizontal);
      return NULL;
    }

  /* The vertical pass's row, one plane per channel, each followed by
   * max_taps zeros that the horizontal pass may read (with a weight of
   * 0) past the last pixel. */
  plane_length = (gsize) source_width + (gsize) horizontal.max_taps;
  planes = g_try_new0 (gint16, 3 * plane_length);
  if (planes == NULL)
    {
      axis_clear (&horizontal);
      axis_clear (&vertical);
      return NULL;
    }

  source_pixels = gdk_pixbuf_read_pixels (source);
  source_stride = (gsize) gdk_pixbuf_get_rowstride (source);
  target_pixels = gdk_pixbuf_get_pixels (target);
  target_stride = (gsize) gdk_pixbuf_get_rowstride (target);

  for (y = 0; y < height; y++)
    {
      const gint16 *row_weights = vertical.weights + (gsize) y * vertical.max_taps;
      guint8 *out = target_pixels + (gsize) y * target_stride;
      gsize i;

      /* Vertically: the source rows of this output row, into the planes,
       * with MIDDLE_BITS fraction bits.  The 16-bit operands let the
       * compiler use 16-bit vector multiplies. */
      for (i = 0; i < row_bytes; i++)
        sums[i] = 1 << (WEIGHT_BITS - MIDDLE_BITS - 1);
      for (k = 0; k < vertical.count[y]; k++)
        {
          const guint8 *in = source_pixels + (gsize) (vertical.first[y] + k) * source_stride;
          gint16 weight = row_weights[k];

          for (i = 0; i < row_bytes; i++)
            sums[i] += (gint16) in[i] * weight;
        }
      for (x = 0; x < source_width; x++)
        for (c = 0; c < 3; c++)
          planes[c * plane_length + x] = (gint16) (sums[x * 3 + c] >> (WEIGHT_BITS - MIDDLE_BITS));

      /* Horizontally: each plane into the output row, clamped.  Whole
       * blocks of taps, the weights past count being 0: a dot product of
       * 16-bit vectors the compiler does with vector multiply-adds. */
      for (x = 0; x < width; x++)
        {
          const gint16 *weights = horizontal.weights + (gsize) x * horizontal.max_taps;

          for (c = 0; c < 3; c++)
            {
              const gint16 *in = planes + c * plane_length + horizontal.first[x];
              gint32 sum = 1 << (WEIGHT_BITS + MIDDLE_BITS - 1);

              for (k = 0; k < horizontal.max_taps; k += TAP_BLOCK)
                {
                  int j;

                  for (j = 0; j < TAP_BLOCK; j++)
                    sum += in[k + j] * weights[k + j];
                }

              out[x * 3 + c] = (guint8) CLAMP (sum >> (WEIGHT_BITS + MIDDLE_BITS), 0, 255);
            }
        }
    }

  axis_clear (&horizontal);
  axis_clear (&vertical);

  return g_steal_pointer (&target);
}
