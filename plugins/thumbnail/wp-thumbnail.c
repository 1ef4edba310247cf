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
 *      and its ICC profile (wp-jpeg.c), or with the PNG format as an
 *      RGBA PNG with the caller's text chunks and the source's displayed
 *      size in Thumb::Image::Width and Height (wp-png.c), and replace the destination
 *      atomically, creating its missing parent directories
 *      (wp-atomic-file.c).  Destinations are written following no
 *      symbolic link below a base folder, so that a `thumbnails` link (or
 *      any other link put in the way) cannot send the thumbnails
 *      elsewhere: the base given to wp_thumbnail_write_below(), which
 *      every destination must lie under, or else the source's folder for
 *      the destinations under it (as FOLDER/thumbnails/WxH/NAME.jpg is).
 *
 * wp_thumbnail_write_fds() is the same job on descriptors, opening no
 * path: the source is read with pread() (wp_image_open_fd()), its stamp
 * comes from fstat() of the descriptor, and each thumbnail is written
 * into an empty regular file that whoever gave it names or discards
 * (atomicity and folders are theirs then).  The two share every step
 * but the opening of the source and the writing of a thumbnail
 * (JobFiles says which).
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

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wp-atomic-file.h"
#include "wp-image.h"
#include "wp-jpeg.h"
#include "wp-png.h"
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

/* Where a job reads and writes: files by path, or descriptors.  The
 * only difference between wp_thumbnail_write_below() and
 * wp_thumbnail_write_fds(). */
typedef struct {
  const char *source_path;  /* NULL: source_fd */
  int         source_fd;
  const char *source_name;  /* in messages */
  const char *base;         /* with paths; nullable */
  const int  *output_fds;   /* NULL: each request's path; else one per request */
} JobFiles;

/* The name of @request's thumbnail in messages. */
static char *
request_name (const JobFiles           *files,
              const WpThumbnailRequest *request)
{
  if (request->path != NULL)
    return g_strdup (request->path);
  return g_strdup_printf ("%dx%d thumbnail of %s", request->box_width,
                          request->box_height, files->source_name);
}

static gboolean
validate (const JobFiles      *files,
          WpThumbnailRequest  *requests,
          gsize                n_requests,
          int                  quality,
          GError             **error)
{
  const char *base = files->base;
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
      if (files->output_fds == NULL
          && (requests[i].path == NULL || requests[i].path[0] == '\0'))
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "Empty thumbnail destination path");
          return FALSE;
        }

      if (requests[i].box_width <= 0 || requests[i].box_height <= 0)
        {
          g_autofree char *name = request_name (files, &requests[i]);

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Invalid box %dx%d for “%s”: both sides must be positive",
                       requests[i].box_width, requests[i].box_height, name);
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

/* Largest thumbnail first, so that smaller ones can be scaled from it:
 * indices into the requests. */
static int
compare_by_area_descending (gconstpointer a,
                            gconstpointer b,
                            gpointer      user_data)
{
  const WpThumbnailRequest *requests = user_data;
  const WpThumbnailRequest *ra = &requests[*(const gsize *) a];
  const WpThumbnailRequest *rb = &requests[*(const gsize *) b];
  gint64 area_a = (gint64) ra->width * ra->height;
  gint64 area_b = (gint64) rb->width * rb->height;

  return area_a < area_b ? 1 : area_a > area_b ? -1 : 0;
}

/* Writes @data into @fd, an empty regular file, from its start whatever
 * its offset. */
static gboolean
write_to_fd (int           fd,
             GBytes       *contents,
             const char   *name,
             GError      **error)
{
  gsize length;
  const guint8 *data = g_bytes_get_data (contents, &length);
  struct stat st;
  off_t offset = 0;

  if (fstat (fd, &st) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "Failed to write the %s: %s", name, g_strerror (saved_errno));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode) || st.st_size != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                   "Failed to write the %s: its descriptor is not an empty regular file",
                   name);
      return FALSE;
    }

  while ((gsize) offset < length)
    {
      gssize n = pwrite (fd, data + offset, MIN (length - (gsize) offset, (gsize) G_MAXSSIZE),
                         offset);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                       "Failed to write the %s: %s", name, g_strerror (saved_errno));
          return FALSE;
        }
      offset += n;
    }

  return TRUE;
}

/* The text chunks of a PNG thumbnail: the caller's, then the source's
 * displayed size. */
static GStrv
png_text_new (const char * const *text,
              int                 image_width,
              int                 image_height)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  char width[16], height[16];

  g_snprintf (width, sizeof width, "%d", image_width);
  g_snprintf (height, sizeof height, "%d", image_height);
  if (text != NULL)
    g_strv_builder_addv (builder, (const char **) text);
  g_strv_builder_add_many (builder, "Thumb::Image::Width", width,
                           "Thumb::Image::Height", height, NULL);
  return g_strv_builder_end (builder);
}

/* Encodes @pixbuf as @options say. */
static GBytes *
encode (WpImage                   *image,
        GdkPixbuf                 *pixbuf,
        const WpThumbnailOptions  *options,
        const char                *stamp,
        GError                   **error)
{
  g_auto(GStrv) text = NULL;
  int width, height;

  if (options->format == WP_THUMBNAIL_FORMAT_JPEG)
    return wp_jpeg_encode (pixbuf, options->quality, stamp,
                           wp_image_get_icc_profile (image), error);

  wp_image_get_size (image, &width, &height);
  text = png_text_new (options->text, width, height);
  return wp_png_encode (pixbuf, (const char * const *) text, error);
}

/* Renders, encodes and writes @requests[@index]: to its path, replaced
 * atomically, or to its descriptor. */
static gboolean
write_one (WpImage                   *image,
           const JobFiles            *files,
           const char                *source_folder,
           WpThumbnailRequest        *requests,
           gsize                      index,
           const WpThumbnailOptions  *options,
           const char                *stamp,
           GError                   **error)
{
  WpThumbnailRequest *request = &requests[index];
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GBytes) contents = NULL;

  pixbuf = wp_image_render (image, request->width, request->height, error);
  if (pixbuf == NULL)
    return FALSE;

  contents = encode (image, pixbuf, options, stamp, error);
  if (contents == NULL)
    return FALSE;

  if (files->output_fds != NULL)
    {
      g_autofree char *name = request_name (files, request);

      return write_to_fd (files->output_fds[index], contents, name, error);
    }

  return wp_atomic_file_replace_below (base_for (files->base, source_folder, request->path),
                                       request->path, contents,
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

/* The whole job, whichever the files: see the top of this file. */
static gboolean
write_thumbnails (const JobFiles            *files,
                  WpThumbnailRequest        *requests,
                  gsize                      n_requests,
                  const WpThumbnailOptions  *options,
                  char                     **damage,
                  GCancellable              *cancellable,
                  GError                   **error)
{
  g_autoptr(WpImage) image = NULL;
  g_autofree gsize *order = NULL;
  g_autofree char *stamp_comment = NULL;
  WpThumbnailStamp stamp;
  g_autofree char *source_folder = NULL;
  int width, height, max_width = 1, max_height = 1;
  gsize i;

  if (damage != NULL)
    *damage = NULL;

  if (!validate (files, requests, n_requests, options->quality, error))
    return FALSE;

  for (gsize k = 0; options->text != NULL && options->text[k] != NULL; k += 2)
    if (!wp_png_check_keyword (options->text[k], error))
      return FALSE;

  if (n_requests == 0)
    return TRUE;

  if (files->source_path != NULL)
    image = wp_image_open (files->source_path, options->max_pixels, cancellable,
                           error);
  else
    image = wp_image_open_fd (files->source_fd, files->source_name,
                              options->max_pixels, cancellable, error);
  if (image == NULL)
    return FALSE;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  wp_image_get_size (image, &width, &height);
  wp_image_get_file_stat (image, &stamp.mtime_ns, &stamp.size);
  stamp_comment = wp_thumbnail_stamp_to_comment (&stamp);

  order = g_new (gsize, n_requests);
  for (i = 0; i < n_requests; i++)
    {
      WpThumbnailRequest *request = &requests[i];

      wp_thumbnail_fit_size (width, height,
                             request->box_width, request->box_height,
                             &request->width, &request->height);
      max_width = MAX (max_width, request->width);
      max_height = MAX (max_height, request->height);
      order[i] = i;
    }

  g_qsort_with_data (order, (gint) n_requests, sizeof *order, compare_by_area_descending,
                     requests);
  if (files->source_path != NULL)
    source_folder = g_path_get_dirname (files->source_path);

  wp_image_set_fast (image, options->fast);
  if (!wp_image_decode (image, max_width, max_height, cancellable, error))
    return FALSE;

  if (wp_image_get_damage (image) != NULL && options->strict)
    {
      g_set_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE,
                   "Image “%s” is damaged: %s", files->source_name,
                   wp_image_get_damage (image));
      return FALSE;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  for (i = 0; i < n_requests; i++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      if (!write_one (image, files, source_folder, requests, order[i],
                      options, stamp_comment, error))
        return FALSE;
    }

  if (damage != NULL)
    *damage = g_strdup (wp_image_get_damage (image));

  return TRUE;
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
  const JobFiles files = { source, -1, source, base, NULL };

  g_return_val_if_fail (source != NULL, FALSE);
  g_return_val_if_fail (requests != NULL || n_requests == 0, FALSE);
  g_return_val_if_fail (options != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return write_thumbnails (&files, requests, n_requests, options, damage,
                           cancellable, error);
}

/**
 * wp_thumbnail_write_fds:
 * @source_fd: the image file, open for reading; read with pread() only,
 *   whatever its offset
 * @source_name: what to call the image in messages
 * @output_fds: (array length=n_requests): for each request, an empty
 *   regular file open for writing, into which its thumbnail is written
 * @requests: (array length=n_requests): the thumbnails to write; their
 *   paths may be %NULL (else they name the thumbnails in messages); their
 *   width and height are set on success
 * @n_requests: the number of @requests
 * @options: the quality (1 to 100), the largest number of pixels the
 *   image may decode to, and whether a damaged image is an error
 * @damage: (out) (optional) (nullable): what is wrong with a damaged
 *   image whose thumbnails show what decodes, %NULL when it is intact;
 *   set only on success
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * wp_thumbnail_write_below() with descriptors: the same decode, the same
 * thumbnails, the stamp from fstat() of @source_fd, and no path opened.
 * Whoever gave the outputs names them on success and discards them on
 * failure (a failure may leave some of them written, others empty).
 *
 * Errors: as wp_thumbnail_write_below()'s; a source that is not a
 * regular file and an output that is not an empty regular file are
 * G_FILE_ERROR.
 *
 * Returns: %TRUE when every thumbnail was written
 */
gboolean
wp_thumbnail_write_fds (int                        source_fd,
                        const char                *source_name,
                        const int                 *output_fds,
                        WpThumbnailRequest        *requests,
                        gsize                      n_requests,
                        const WpThumbnailOptions  *options,
                        char                     **damage,
                        GCancellable              *cancellable,
                        GError                   **error)
{
  const JobFiles files = { NULL, source_fd, source_name, NULL, output_fds };

  g_return_val_if_fail (source_fd >= 0, FALSE);
  g_return_val_if_fail (source_name != NULL, FALSE);
  g_return_val_if_fail (output_fds != NULL || n_requests == 0, FALSE);
  g_return_val_if_fail (requests != NULL || n_requests == 0, FALSE);
  g_return_val_if_fail (options != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return write_thumbnails (&files, requests, n_requests, options, damage,
                           cancellable, error);
}
