/* wp-thumbnail.c: the thumbnail rules: sizes, decode once, write every size.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * wp_thumbnail_write() is the whole job of the plugin's functions:
 *
 *   1. validate every request (boxes > 0, a destination, quality 1-100);
 *   2. open the source: header only for JPEG (wp-image.c), refusing
 *      other formats over the pixel limit;
 *   3. compute every thumbnail's size from the displayed size with
 *      wp_thumbnail_fit_size();
 *   4. decode once, at the smallest scale that covers the largest size,
 *      refusing a JPEG whose decode at that scale is over the pixel
 *      limit or does not fit in the worker's memory limit; a damaged
 *      image that decodes in part (wp_image_get_damage()) is reported
 *      to the caller and its thumbnails show what decodes, or with the
 *      strict option it is an error before anything is written;
 *   5. for each size, largest first: scale, orient, encode as JPEG with
 *      the source's mtime and size in a comment (wp-thumbnail-stamp.c)
 *      and its ICC profile (wp-jpeg.c), and replace the destination
 *      atomically, creating its missing parent directories
 *      (wp-atomic-file.c).  Destinations are written following no
 *      symbolic link below a base folder, so that a `thumbnails` link (or
 *      any other link put in the way) cannot send the thumbnails
 *      elsewhere: the base given to wp_thumbnail_write_below(), which
 *      every destination must lie under, or else the source's folder for
 *      the destinations under it (as FOLDER/thumbnails/WxH/NAME.jpg is).
 *
 * The cancellable is checked between the stages: after the header, after
 * the decode and before each size (and, inside the JPEG decoder, every
 * few rows).
 *
 * Invariants: every destination is either left as it was or replaced by
 * a complete thumbnail, never partly written, and no temporary file
 * survives a failure or a cancellation.  A failure stops the job: the
 * thumbnails already written stay (they are complete), the rest are not
 * written.  Sizes never depend on the decode scale or on each other.
 */

#include <stdlib.h>
#include <string.h>

#include "wp-atomic-file.h"
#include "wp-image.h"
#include "wp-jpeg.h"
#include "wp-thumbnail.h"
#include "wp-thumbnail-stamp.h"

/**
 * wp_thumbnail_fit_size:
 * @width: the image's displayed width, > 0
 * @height: the image's displayed height, > 0
 * @box_width: the box's width, > 0
 * @box_height: the box's height, > 0
 * @fit_width: (out): the thumbnail's width
 * @fit_height: (out): the thumbnail's height
 *
 * The size of the thumbnail of a @width x @height image for a box: the
 * image's own size when it fits (never upscale); otherwise, with
 * s = min (box_width / width, box_height / height),
 * (max (1, round (width * s)), max (1, round (height * s))), rounding
 * halves up.  Computed exactly in integers, so that the side that
 * touches the box is exactly the box's.
 */
void
wp_thumbnail_fit_size (int  width,
                       int  height,
                       int  box_width,
                       int  box_height,
                       int *fit_width,
                       int *fit_height)
{
  gint64 w = width, h = height, bw = box_width, bh = box_height;

  g_return_if_fail (width > 0 && height > 0);
  g_return_if_fail (box_width > 0 && box_height > 0);

  if (w <= bw && h <= bh)
    {
      *fit_width = width;
      *fit_height = height;
    }
  else if (bw * h <= bh * w)
    {
      /* s = bw / w: the width touches the box. */
      *fit_width = box_width;
      *fit_height = (int) MAX (1, (2 * h * bw + w) / (2 * w));
    }
  else
    {
      /* s = bh / h: the height touches the box. */
      *fit_width = (int) MAX (1, (2 * w * bh + h) / (2 * h));
      *fit_height = box_height;
    }
}

/* The folder below which @path is written following no link: @base
 * when given, else @source_folder for the paths below it. */
static const char *
base_for (const char *base,
          const char *source_folder,
          const char *path)
{
  if (base == NULL && wp_atomic_file_path_is_below (path, source_folder))
    return source_folder;
  return base;
}

static gboolean
validate (const char          *base,
          WpThumbnailRequest  *requests,
          gsize                n_requests,
          int                  quality,
          GError             **error)
{
  gsize i;

  g_assert (requests != NULL || n_requests == 0);

  if (quality < 1 || quality > 100)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "JPEG quality must be between 1 and 100, not %d", quality);
      return FALSE;
    }

  for (i = 0; i < n_requests; i++)
    {
      if (requests[i].path == NULL || requests[i].path[0] == '\0')
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "Empty thumbnail destination path");
          return FALSE;
        }

      if (requests[i].box_width <= 0 || requests[i].box_height <= 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Invalid box %dx%d for “%s”: both sides must be positive",
                       requests[i].box_width, requests[i].box_height,
                       requests[i].path);
          return FALSE;
        }

      if (base != NULL && !wp_atomic_file_path_is_below (requests[i].path, base))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Thumbnail destination “%s” is not below its base folder “%s”",
                       requests[i].path, base);
          return FALSE;
        }
    }

  return TRUE;
}

/* Largest thumbnail first, so that smaller ones can be scaled from it. */
static int
compare_by_area_descending (const void *a,
                            const void *b)
{
  const WpThumbnailRequest *ra = *(WpThumbnailRequest * const *) a;
  const WpThumbnailRequest *rb = *(WpThumbnailRequest * const *) b;
  gint64 area_a = (gint64) ra->width * ra->height;
  gint64 area_b = (gint64) rb->width * rb->height;

  return area_a < area_b ? 1 : area_a > area_b ? -1 : 0;
}

static gboolean
write_one (WpImage             *image,
           const char          *base,
           WpThumbnailRequest  *request,
           int                  quality,
           const char          *stamp,
           GError             **error)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GBytes) jpeg = NULL;

  pixbuf = wp_image_render (image, request->width, request->height, error);
  if (pixbuf == NULL)
    return FALSE;

  jpeg = wp_jpeg_encode (pixbuf, quality, stamp, wp_image_get_icc_profile (image), error);
  if (jpeg == NULL)
    return FALSE;

  return wp_atomic_file_replace_below (base, request->path, jpeg,
                                       WP_ATOMIC_FILE_CREATE_PARENTS, error);
}

/**
 * wp_thumbnail_write:
 * @source: the image file
 * @requests: (array length=n_requests): the thumbnails to write; their
 *   width and height are set on success
 * @n_requests: the number of @requests
 * @options: the quality, pixel limit and strictness
 * @damage: (out) (optional) (nullable): what is wrong with a damaged
 *   source whose thumbnails show what decodes, %NULL when it is intact
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * wp_thumbnail_write_below() with no base: the destinations under the
 * source's folder are written following no link below that folder.
 *
 * Returns: %TRUE when every thumbnail was written
 */
gboolean
wp_thumbnail_write (const char                *source,
                    WpThumbnailRequest        *requests,
                    gsize                      n_requests,
                    const WpThumbnailOptions  *options,
                    char                     **damage,
                    GCancellable              *cancellable,
                    GError                   **error)
{
  return wp_thumbnail_write_below (source, NULL, requests, n_requests, options,
                                   damage, cancellable, error);
}

/**
 * wp_thumbnail_write_below:
 * @source: the image file
 * @base: (nullable): a folder that every destination lies under; the
 *   folders below it are created and opened following no symbolic link
 * @requests: (array length=n_requests): the thumbnails to write; their
 *   width and height are set on success
 * @n_requests: the number of @requests
 * @options: the quality (1 to 100), the largest number of pixels @source
 *   may decode to, and whether a damaged image is an error
 * @damage: (out) (optional) (nullable): what is wrong with a damaged
 *   source whose thumbnails show what decodes (such as "Premature end of
 *   JPEG file"), %NULL when it is intact; set only on success
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Decodes @source once and writes every requested thumbnail as a JPEG
 * file.  See the top of this file for the steps and guarantees.
 *
 * Errors: G_IO_ERROR_INVALID_ARGUMENT for a bad request (a destination
 * not below @base among them), G_FILE_ERROR
 * for an unreadable source or an unwritable destination (naming it),
 * GDK_PIXBUF_ERROR for a corrupt, unknown or too large image (and
 * GDK_PIXBUF_ERROR_CORRUPT_IMAGE, naming the damage, for a damaged one
 * when @options is strict), G_IO_ERROR_CANCELLED.
 *
 * Returns: %TRUE when every thumbnail was written
 */
gboolean
wp_thumbnail_write_below (const char                *source,
                          const char                *base,
                          WpThumbnailRequest        *requests,
                          gsize                      n_requests,
                          const WpThumbnailOptions  *options,
                          char                     **damage,
                          GCancellable              *cancellable,
                          GError                   **error)
{
  g_autoptr(WpImage) image = NULL;
  g_autofree WpThumbnailRequest **order = NULL;
  g_autofree char *stamp_comment = NULL;
  WpThumbnailStamp stamp;
  g_autofree char *source_folder = NULL;
  int width, height, max_width = 1, max_height = 1;
  gsize i;

  g_return_val_if_fail (source != NULL, FALSE);
  g_return_val_if_fail (requests != NULL || n_requests == 0, FALSE);
  g_return_val_if_fail (options != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (damage != NULL)
    *damage = NULL;

  if (!validate (base, requests, n_requests, options->quality, error))
    return FALSE;

  if (n_requests == 0)
    return TRUE;

  image = wp_image_open (source, options->max_pixels, cancellable, error);
  if (image == NULL)
    return FALSE;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  wp_image_get_size (image, &width, &height);
  wp_image_get_file_stat (image, &stamp.mtime_ns, &stamp.size);
  stamp_comment = wp_thumbnail_stamp_to_comment (&stamp);

  order = g_new (WpThumbnailRequest *, n_requests);
  for (i = 0; i < n_requests; i++)
    {
      WpThumbnailRequest *request = &requests[i];

      wp_thumbnail_fit_size (width, height,
                             request->box_width, request->box_height,
                             &request->width, &request->height);
      max_width = MAX (max_width, request->width);
      max_height = MAX (max_height, request->height);
      order[i] = request;
    }

  qsort (order, n_requests, sizeof *order, compare_by_area_descending);
  source_folder = g_path_get_dirname (source);

  if (!wp_image_decode (image, max_width, max_height, cancellable, error))
    return FALSE;

  if (wp_image_get_damage (image) != NULL && options->strict)
    {
      g_set_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE,
                   "Image “%s” is damaged: %s", source, wp_image_get_damage (image));
      return FALSE;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  for (i = 0; i < n_requests; i++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      if (!write_one (image, base_for (base, source_folder, order[i]->path),
                      order[i], options->quality, stamp_comment, error))
        return FALSE;
    }

  if (damage != NULL)
    *damage = g_strdup (wp_image_get_damage (image));

  return TRUE;
}
