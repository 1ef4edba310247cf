/* wp-image.c: a source image of any format, decoded once, rendered at any size.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A WpImage is one source file on its way to thumbnails:
 *
 *   wp_image_open()    sniffs the format and reads the header: size,
 *                      EXIF orientation, ICC profile
 *   wp_image_decode()  decodes the pixels once, for JPEG preferably twice
 *                      as large as the largest rendering (or in full)
 *   wp_image_render()  returns the image at a given displayed size,
 *                      as many times as needed
 *
 * JPEG files (first bytes FF D8) go through wp-jpeg.c, which decodes at a
 * reduced DCT scale: preferably the smallest one at least twice as large
 * as the largest rendering, so that the Lanczos filter of wp-resample.c,
 * not the scaled inverse DCT, does most of the antialiasing (its
 * choose_scale() has the rule); every other format goes through a
 * GdkPixbufLoader fed
 * from the same descriptor, which decodes fully in wp_image_open() (its
 * "size-prepared" signal gives the size before any pixel is allocated, so
 * the pixel limit holds there too; its "area-updated" signals tell whether
 * every row was decoded, which some loaders do not check).  Around the
 * loaders: the EXIF orientation of PNG, WebP, HEIF and AVIF files, which
 * their loaders do not report, comes from wp-exif.c; an ICO file is loaded from
 * the largest of its entries that loads whole (wp-ico.c); a file no loader
 * recognises gets an error naming its format and the missing loader's
 * package when wp-format.c knows them from its content.
 *
 * Damaged files show what decodes, and wp_image_get_damage() says what
 * is wrong: a truncated or corrupt JPEG decodes in part, the rest
 * mid-grey (wp-jpeg.c); a GIF that the loader refuses for a damaged
 * later frame is loaded from its first frame alone when that one is
 * whole (wp-gif.c); a BMP or non-interlaced PNG whose loader filled
 * whole rows before failing, or stopped short, keeps those rows, the
 * rows it never filled set to mid-grey here (an interlaced PNG's rows
 * are filled in part by its first passes, so it fails, as other
 * formats do).  A file of which nothing decodes fails.
 *
 * The pixel limit applies to the pixels actually decoded: for JPEG the
 * output at the DCT scale the decode chooses (wp-jpeg.c checks it, with
 * the memory the decode needs, before allocating), so that a 20000x20000
 * JPEG decoded at 1/8 for thumbnails is a 2500x2500 decode; for other
 * formats the full size, which is what their loaders allocate (gdk-pixbuf
 * decodes at full size and would only scale afterwards).
 *
 * Invariants:
 *
 * - Sizes given to and returned by the public functions are *displayed*
 *   sizes, after EXIF orientation.  Inside, pixels stay in the stored
 *   orientation; wp_image_render() scales first and rotates the small
 *   result last, which costs next to nothing.
 * - Once decoded, image->pixbuf is 8-bit RGB without alpha: transparent
 *   pixels are composited on white when loading, before any scaling.
 * - Every rendered size is scaled directly from the decoded pixels, or
 *   from an earlier, larger rendering at least CASCADE_FACTOR times as big
 *   in both directions (never from a rendering that is about the same
 *   size, which would blur).  Renderings keep the stored orientation in
 *   image->scaled for that purpose.
 * - The descriptor is open from wp_image_open() to wp_image_free(); it
 *   is only ever read with pread(), so that a descriptor given by
 *   wp_image_open_fd() is read from the start whatever its offset (which
 *   it shares with the caller's) and is left where it was.
 * - Opening never blocks and reading is bounded: the file is opened with
 *   O_NONBLOCK (a FIFO put in a regular file's place would otherwise
 *   block open() until a writer comes) and must then be a regular file
 *   on that descriptor, of at most WP_IMAGE_MAX_FILE_SIZE bytes, so that
 *   a hopeless file (a 10 GB sparse one starting with FF D8, which the
 *   JPEG decoder would scan to its end) is refused before any read.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wp-exif.h"
#include "wp-format.h"
#include "wp-gif.h"
#include "wp-ico.h"
#include "wp-image.h"
#include "wp-file-type.h"
#include "wp-jpeg.h"
#include "wp-memory-limit.h"
#include "wp-resample.h"

#define READ_BUFFER_SIZE 65536
#define CASCADE_FACTOR 2

struct _WpImage {
  char          *path;
  int            fd;
  char          *format_name;
  int            orientation;   /* EXIF, 1 to 8 */
  int            width;         /* displayed size of the original */
  int            height;
  gint64         mtime_ns;      /* the source's, when opened */
  guint64        file_size;
  GBytes        *icc_profile;   /* nullable */
  WpJpegReader  *jpeg;          /* JPEG sources, until decoded */
  GdkPixbuf     *pixbuf;        /* stored orientation, RGB; NULL until decoded */
  char          *damage;        /* what is wrong with a damaged file; nullable */
  GPtrArray     *scaled;        /* of GdkPixbuf, stored orientation */
};

static gboolean
orientation_swaps_axes (int orientation)
{
  return orientation >= 5 && orientation <= 8;
}

G_GNUC_PRINTF (3, 4)
static gboolean
set_file_error (GError     **error,
                int          saved_errno,
                const char  *format,
                ...)
{
  g_autofree char *message = NULL;
  va_list args;

  g_assert (saved_errno != 0);

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
               "%s: %s", message, g_strerror (saved_errno));
  return FALSE;
}

static gboolean
check_pixel_limit (const char  *path,
                   int          width,
                   int          height,
                   guint64      max_pixels,
                   GError     **error)
{
  guint64 pixels = (guint64) width * (guint64) height;

  if (pixels <= max_pixels)
    return TRUE;

  /* The words of wp-jpeg.c's check_decode_limits(). */
  g_set_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY,
               "Image “%s” is %dx%d = %" G_GUINT64_FORMAT " pixels, "
               "over the pixel limit of %" G_GUINT64_FORMAT,
               path, width, height, pixels, max_pixels);
  return FALSE;
}

/* ---- JPEG ------------------------------------------------------------- */

static gboolean
open_jpeg (WpImage       *image,
           guint64        max_pixels,
           GCancellable  *cancellable,
           GError       **error)
{
  int width, height;

  image->jpeg = wp_jpeg_reader_new (image->fd, image->path, cancellable, error);
  if (image->jpeg == NULL)
    return FALSE;

  /* Checked by the decode, against the scale it chooses. */
  wp_jpeg_reader_set_max_pixels (image->jpeg, max_pixels);

  image->format_name = g_strdup ("jpeg");
  image->orientation = wp_jpeg_reader_get_orientation (image->jpeg);
  image->icc_profile = wp_jpeg_reader_get_icc_profile (image->jpeg);
  wp_jpeg_reader_get_size (image->jpeg, &width, &height);

  image->width = orientation_swaps_axes (image->orientation) ? height : width;
  image->height = orientation_swaps_axes (image->orientation) ? width : height;

  return TRUE;
}

/* ---- other formats ---------------------------------------------------- */

/* A run of rows [start, end) that the loader has filled. */
typedef struct {
  int start;
  int end;
} RowSpan;

typedef struct {
  guint64   max_pixels;
  int       width;
  int       height;
  gboolean  over_limit;
  GArray   *filled;      /* of RowSpan: disjoint, sorted, not adjacent */
} LoadState;

static void
on_size_prepared (GdkPixbufLoader *loader,
                  int              width,
                  int              height,
                  gpointer         user_data)
{
  LoadState *state = user_data;

  state->width = width;
  state->height = height;

  if (width > 0 && height > 0 &&
      (guint64) width * (guint64) height > state->max_pixels)
    {
      /* A size of 0x0 makes the loader stop before allocating anything,
       * as gdk_pixbuf_get_file_info() does. */
      state->over_limit = TRUE;
      gdk_pixbuf_loader_set_size (loader, 0, 0);
    }
}

static void
on_area_updated (GdkPixbufLoader *loader,
                 int              x,
                 int              y,
                 int              width,
                 int              height,
                 gpointer         user_data)
{
  LoadState *state = user_data;
  RowSpan span = { y, y + height };
  guint i = 0;

  if (height <= 0)
    return;

  /* Merge [y, y + height) into the sorted list of filled spans. */
  while (i < state->filled->len &&
         g_array_index (state->filled, RowSpan, i).end < span.start)
    i++;

  while (i < state->filled->len &&
         g_array_index (state->filled, RowSpan, i).start <= span.end)
    {
      RowSpan *other = &g_array_index (state->filled, RowSpan, i);

      span.start = MIN (span.start, other->start);
      span.end = MAX (span.end, other->end);
      g_array_remove_index (state->filled, i);
    }

  g_array_insert_val (state->filled, i, span);
}

/* Whether the loader filled every row of an image @height rows high.  The
 * PNG, BMP and PNM loaders of gdk-pixbuf 2.42 return a truncated file as
 * an image whose missing rows are whatever memory held: this is how such
 * files are caught. */
static gboolean
all_rows_filled (LoadState *state,
                 int        height)
{
  RowSpan *span;

  if (state->filled->len != 1)
    return FALSE;

  span = &g_array_index (state->filled, RowSpan, 0);
  return span->start <= 0 && span->end >= height;
}

/* The number of rows the loader filled. */
static int
count_filled_rows (LoadState *state)
{
  int rows = 0;
  guint i;

  for (i = 0; i < state->filled->len; i++)
    rows += g_array_index (state->filled, RowSpan, i).end
            - g_array_index (state->filled, RowSpan, i).start;
  return rows;
}

/* Whether the rows the loader filled of a @format_name file are whole
 * rows of the final image, so that a damaged file's can be kept: BMP
 * rows come whole; PNG rows only when not interlaced (an interlaced
 * file's first passes fill rows in part, the rest undefined). */
static gboolean
filled_rows_are_whole (const char *format_name,
                       int         fd)
{
  guint8 interlace;

  if (format_name == NULL)
    return FALSE;

  if (g_str_equal (format_name, "bmp"))
    return TRUE;

  /* IHDR's interlace method: signature (8), length and type (8),
   * width, height, depth, colour type, compression, filter (12). */
  if (g_str_equal (format_name, "png"))
    return wp_format_read_at (fd, &interlace, 1, 28) && interlace == 0;

  return FALSE;
}

/* Sets the rows of @pixbuf that the loader never filled to opaque
 * mid-grey, as a damaged JPEG's missing part is. */
static void
fill_unfilled_rows (GdkPixbuf *pixbuf,
                    LoadState *state)
{
  int n_channels = gdk_pixbuf_get_n_channels (pixbuf);
  int width = gdk_pixbuf_get_width (pixbuf);
  int height = gdk_pixbuf_get_height (pixbuf);
  gsize rowstride = (gsize) gdk_pixbuf_get_rowstride (pixbuf);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  guint span = 0;
  int y;

  g_assert (gdk_pixbuf_get_bits_per_sample (pixbuf) == 8);

  for (y = 0; y < height; y++)
    {
      guint8 *row = pixels + y * rowstride;
      int x;

      while (span < state->filled->len &&
             g_array_index (state->filled, RowSpan, span).end <= y)
        span++;
      if (span < state->filled->len &&
          g_array_index (state->filled, RowSpan, span).start <= y)
        continue;

      for (x = 0; x < width; x++, row += n_channels)
        {
          row[0] = row[1] = row[2] = 0x80;
          if (n_channels == 4)
            row[3] = 0xFF;
        }
    }
}

/* Composites @pixbuf on white when it has alpha. */
static GdkPixbuf *
flatten_on_white (GdkPixbuf   *pixbuf,
                  const char  *path,
                  GError     **error)
{
  int width = gdk_pixbuf_get_width (pixbuf);
  int height = gdk_pixbuf_get_height (pixbuf);
  const guint8 *src_pixels;
  guint8 *dst_pixels;
  gsize src_stride, dst_stride;
  GdkPixbuf *flat;
  int x, y;

  if (!gdk_pixbuf_get_has_alpha (pixbuf))
    return g_object_ref (pixbuf);

  g_assert (gdk_pixbuf_get_n_channels (pixbuf) == 4 &&
            gdk_pixbuf_get_bits_per_sample (pixbuf) == 8);

  flat = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  if (flat == NULL)
    {
      GError *local_error = g_error_new (GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY,
                                         "Not enough memory to load “%s” (%dx%d)",
                                         path, width, height);

      wp_memory_limit_note (local_error);
      g_propagate_error (error, local_error);
      return NULL;
    }

  src_pixels = gdk_pixbuf_read_pixels (pixbuf);
  src_stride = (gsize) gdk_pixbuf_get_rowstride (pixbuf);
  dst_pixels = gdk_pixbuf_get_pixels (flat);
  dst_stride = (gsize) gdk_pixbuf_get_rowstride (flat);

  for (y = 0; y < height; y++)
    {
      const guint8 *src = src_pixels + y * src_stride;
      guint8 *dst = dst_pixels + y * dst_stride;

      for (x = 0; x < width; x++, src += 4, dst += 3)
        {
          guint alpha = src[3];
          int c;

          for (c = 0; c < 3; c++)
            dst[c] = (guint8) ((src[c] * alpha + 255 * (255 - alpha) + 127) / 255);
        }
    }

  return flat;
}

static gboolean open_with_gdk_pixbuf (WpImage       *image,
                                      int            fd,
                                      guint64        max_pixels,
                                      GCancellable  *cancellable,
                                      GError       **error);

/* A GIF that gdk-pixbuf refused with @load_error: from its first frame
 * alone when that is whole (wp-gif.c), the damage naming the frame. */
static gboolean
open_gif_first_frame (WpImage       *image,
                      guint64        max_pixels,
                      GError        *load_error,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autoptr(GError) frame_error = NULL;
  guint damaged_frame;
  gboolean loaded;
  int frame_fd;

  frame_fd = wp_gif_open_first_frame (image->fd, image->file_size, &damaged_frame);
  if (frame_fd < 0)
    return FALSE;

  loaded = open_with_gdk_pixbuf (image, frame_fd, max_pixels, cancellable, &frame_error);
  close (frame_fd);

  if (g_error_matches (frame_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&frame_error));
      return FALSE;
    }

  if (!loaded)
    {
      g_debug ("%s: the first frame alone does not load either: %s",
               image->path, frame_error->message);
      return FALSE;
    }

  g_clear_pointer (&image->damage, g_free);
  if (damaged_frame >= 2)
    image->damage = g_strdup_printf ("frame %u of the GIF is damaged: %s",
                                     damaged_frame, load_error->message);
  else
    image->damage = g_strdup_printf ("a frame after the first of the GIF is damaged: %s",
                                     load_error->message);
  return TRUE;
}

/* Loads the image file @fd with gdk-pixbuf: @image's own, or one made
 * from it (an ICO entry, a GIF's first frame). */
static gboolean
open_with_gdk_pixbuf (WpImage       *image,
                      int            fd,
                      guint64        max_pixels,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autoptr(GdkPixbufLoader) loader = gdk_pixbuf_loader_new ();
  g_autoptr(GArray) filled = g_array_new (FALSE, FALSE, sizeof (RowSpan));
  g_autofree guint8 *buffer = g_malloc (READ_BUFFER_SIZE);
  g_autoptr(GError) local_error = NULL;
  LoadState state = { max_pixels, 0, 0, FALSE, filled };
  g_autofree char *format_name = NULL;
  GdkPixbufFormat *format;
  GdkPixbuf *pixbuf;
  const char *option;

  g_signal_connect (loader, "size-prepared", G_CALLBACK (on_size_prepared), &state);
  g_signal_connect (loader, "area-updated", G_CALLBACK (on_area_updated), &state);

  for (off_t offset = 0;;)
    {
      gssize n;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          gdk_pixbuf_loader_close (loader, NULL);
          return FALSE;
        }

      n = pread (fd, buffer, READ_BUFFER_SIZE, offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          gdk_pixbuf_loader_close (loader, NULL);
          return set_file_error (error, saved_errno, "Failed to read “%s”", image->path);
        }
      if (n == 0)
        break;
      offset += n;

      /* A failed write closes the loader. */
      if (!gdk_pixbuf_loader_write (loader, buffer, (gsize) n, &local_error) ||
          state.over_limit)
        break;
    }

  if (local_error == NULL && !state.over_limit)
    gdk_pixbuf_loader_close (loader, &local_error);
  else
    gdk_pixbuf_loader_close (loader, NULL);

  if (state.over_limit)
    return check_pixel_limit (image->path, state.width, state.height,
                              max_pixels, error);

  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  format = gdk_pixbuf_loader_get_format (loader);
  if (format != NULL)
    format_name = gdk_pixbuf_format_get_name (format);

  /* A damaged GIF: its first frame, when whole (not from a frame file
   * this made, which would loop). */
  if (local_error != NULL && format_name != NULL && g_str_equal (format_name, "gif") &&
      fd == image->fd &&
      (g_error_matches (local_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INCOMPLETE_ANIMATION) ||
       g_error_matches (local_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE)))
    {
      GError *frame_error = NULL;

      if (open_gif_first_frame (image, max_pixels, local_error, cancellable, &frame_error))
        return TRUE;
      if (frame_error != NULL)
        {
          g_propagate_error (error, frame_error);
          return FALSE;
        }
    }

  /* A damaged file whose loader filled whole rows before it failed:
   * those rows, the rest mid-grey (below). */
  if (local_error != NULL &&
      !(pixbuf != NULL && state.filled->len > 0 &&
        g_error_matches (local_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE) &&
        filled_rows_are_whole (format_name, fd)))
    {
      /* The pixel limit is checked above: this one is an allocation. */
      if (g_error_matches (local_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY))
        wp_memory_limit_note (local_error);
      /* A loader's own domain (librsvg's rsvg-error-quark, say) means
       * nothing to callers: the file is corrupt, as far as they can act. */
      if (local_error->domain != GDK_PIXBUF_ERROR && local_error->domain != G_FILE_ERROR
          && !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          local_error->domain = GDK_PIXBUF_ERROR;
          local_error->code = GDK_PIXBUF_ERROR_CORRUPT_IMAGE;
        }
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "Failed to load image “%s”: ", image->path);
      return FALSE;
    }

  if (pixbuf == NULL || format == NULL)
    {
      g_set_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE,
                   "Failed to load image “%s”: no image data", image->path);
      return FALSE;
    }

  image->format_name = g_steal_pointer (&format_name);

  /* The GIF loader reports truncated files itself, and its updates cover
   * the frame, which may be smaller than the image.  libavif's loader
   * ("avif") decodes whole files only, failing on a truncated one, and
   * emits no update at all. */
  if (g_str_equal (image->format_name, "gif") || g_str_equal (image->format_name, "avif"))
    g_assert (local_error == NULL);
  else if (local_error != NULL || !all_rows_filled (&state, gdk_pixbuf_get_height (pixbuf)))
    {
      int height = gdk_pixbuf_get_height (pixbuf);

      if (state.filled->len == 0 || !filled_rows_are_whole (image->format_name, fd))
        {
          g_set_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE,
                       "Failed to load image “%s”: %s", image->path,
                       local_error != NULL ? local_error->message : "the file is truncated");
          return FALSE;
        }

      fill_unfilled_rows (pixbuf, &state);
      g_clear_pointer (&image->damage, g_free);
      image->damage = g_strdup_printf ("%s: %d of %d rows decoded",
                                       local_error != NULL ? local_error->message
                                                           : "the file is truncated",
                                       count_filled_rows (&state), height);
    }

  option = gdk_pixbuf_get_option (pixbuf, "orientation");
  image->orientation = option != NULL ? atoi (option)
                                      : wp_exif_find_orientation (fd, image->format_name);
  if (image->orientation < 1 || image->orientation > 8)
    image->orientation = 1;

  option = gdk_pixbuf_get_option (pixbuf, "icc-profile");
  if (option != NULL)
    {
      gsize length;
      guchar *data = g_base64_decode (option, &length);

      image->icc_profile = g_bytes_new_take (data, length);
    }

  image->pixbuf = flatten_on_white (pixbuf, image->path, error);
  if (image->pixbuf == NULL)
    return FALSE;

  if (orientation_swaps_axes (image->orientation))
    {
      image->width = gdk_pixbuf_get_height (image->pixbuf);
      image->height = gdk_pixbuf_get_width (image->pixbuf);
    }
  else
    {
      image->width = gdk_pixbuf_get_width (image->pixbuf);
      image->height = gdk_pixbuf_get_height (image->pixbuf);
    }

  /* In case a loader did not emit "size-prepared". */
  return check_pixel_limit (image->path, image->width, image->height,
                            max_pixels, error);
}

/* An icon, from the largest of its entries that loads (wp-ico.c). */
static gboolean
open_ico (WpImage       *image,
          guint64        max_pixels,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autoptr(GArray) entries = wp_ico_read_directory (image->fd, image->file_size);
  g_autoptr(GError) first_error = NULL;
  guint i;

  /* gdk-pixbuf says what is wrong with a directory it cannot read. */
  if (entries == NULL)
    return open_with_gdk_pixbuf (image, image->fd, max_pixels, cancellable, error);

  for (i = 0; i < entries->len; i++)
    {
      const WpIcoEntry *entry = &g_array_index (entries, WpIcoEntry, i);
      g_autoptr(GError) local_error = NULL;
      gboolean loaded = FALSE;
      int entry_fd;

      /* Whatever a failed entry left. */
      g_clear_pointer (&image->format_name, g_free);
      g_clear_pointer (&image->icc_profile, g_bytes_unref);
      g_clear_pointer (&image->damage, g_free);
      g_clear_object (&image->pixbuf);
      image->orientation = 1;

      entry_fd = wp_ico_open_entry (image->fd, entry, &local_error);
      if (entry_fd >= 0)
        {
          loaded = open_with_gdk_pixbuf (image, entry_fd, max_pixels, cancellable, &local_error);
          close (entry_fd);
        }

      /* A damaged entry that decodes in part comes after intact ones. */
      if (loaded && image->damage != NULL)
        {
          local_error = g_error_new (GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE,
                                     "Failed to load image “%s”: its %dx%d entry is "
                                     "damaged: %s", image->path, entry->width,
                                     entry->height, image->damage);
          loaded = FALSE;
        }

      if (loaded)
        {
          /* The format of the file, not of the entry (a PNG one). */
          g_free (image->format_name);
          image->format_name = g_strdup ("ico");
          return TRUE;
        }

      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }

      g_debug ("%s: the %dx%d entry of %d bits per pixel cannot be loaded: %s",
               image->path, entry->width, entry->height, entry->bit_count,
               local_error->message);
      if (first_error == NULL)
        first_error = g_steal_pointer (&local_error);
    }

  /* What is wrong with the largest entry. */
  g_propagate_error (error, g_steal_pointer (&first_error));
  return FALSE;
}

/* Any format but JPEG: with gdk-pixbuf's loaders. */
static gboolean
open_with_loaders (WpImage       *image,
                   const guint8  *magic,
                   gsize          magic_length,
                   guint64        max_pixels,
                   GCancellable  *cancellable,
                   GError       **error)
{
  GError *local_error = NULL;

  if (wp_ico_is_ico (magic, magic_length))
    return open_ico (image, max_pixels, cancellable, error);

  if (open_with_gdk_pixbuf (image, image->fd, max_pixels, cancellable, &local_error))
    return TRUE;

  /* "Unrecognized image file format": say which format, if known. */
  wp_format_explain_missing_loader (image->fd, image->path, &local_error);
  g_propagate_error (error, local_error);
  return FALSE;
}

/* ---- public ----------------------------------------------------------- */

/* wp_image_open() and wp_image_open_fd() once the file is open: @fd,
 * owned, named @name in messages. */
static WpImage *
open_image (int            fd,
            const char    *name,
            guint64        max_pixels,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autoptr(WpImage) image = NULL;
  struct stat st;
  guint8 magic[4];
  gssize n;

  image = g_new0 (WpImage, 1);
  image->fd = fd;
  image->path = g_strdup (name);
  image->orientation = 1;
  image->scaled = g_ptr_array_new_with_free_func (g_object_unref);

  if (fstat (fd, &st) < 0)
    {
      set_file_error (error, errno, "Failed to open “%s”", name);
      return NULL;
    }

  if (S_ISDIR (st.st_mode))
    {
      set_file_error (error, EISDIR, "Failed to open “%s”", name);
      return NULL;
    }

  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                   "Failed to open “%s”: not a regular file but %s", name,
                   wp_file_type_describe (st.st_mode));
      return NULL;
    }

  if ((guint64) st.st_size > WP_IMAGE_MAX_FILE_SIZE)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                   "Failed to open “%s”: %" G_GUINT64_FORMAT " bytes, over the "
                   "%" G_GUINT64_FORMAT " MiB limit of an image file",
                   name, (guint64) st.st_size, WP_IMAGE_MAX_FILE_SIZE >> 20);
      return NULL;
    }

  image->mtime_ns = (gint64) st.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000)
                    + st.st_mtim.tv_nsec;
  image->file_size = (guint64) st.st_size;

  if (st.st_size == 0)
    {
      g_set_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE,
                   "Image file “%s” contains no data", name);
      return NULL;
    }

  do
    n = pread (fd, magic, sizeof magic, 0);
  while (n < 0 && errno == EINTR);

  if (n < 0)
    {
      set_file_error (error, errno, "Failed to read “%s”", name);
      return NULL;
    }

  if (n >= 2 && magic[0] == 0xFF && magic[1] == 0xD8)
    {
      if (!open_jpeg (image, max_pixels, cancellable, error))
        return NULL;
    }
  else
    {
      if (!open_with_loaders (image, magic, (gsize) n, max_pixels, cancellable, error))
        return NULL;
    }

  return g_steal_pointer (&image);
}

/**
 * wp_image_open:
 * @path: an image file
 * @max_pixels: the largest number of pixels the image may decode to
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Opens an image and reads what the thumbnails need to know about it.
 * JPEG files are only parsed up to their first scan; other formats are
 * decoded.  A non-JPEG image larger than @max_pixels is refused from its
 * header; a JPEG image by wp_image_decode(), whose DCT scale sets how
 * many pixels are decoded.
 *
 * Errors: G_FILE_ERROR when the file cannot be read, is not a regular
 * file (the message says what it is) or is over WP_IMAGE_MAX_FILE_SIZE
 * (the message names it), GDK_PIXBUF_ERROR_UNKNOWN_TYPE for an unknown
 * format, GDK_PIXBUF_ERROR_CORRUPT_IMAGE for an empty or corrupt file,
 * GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY over the pixel limit,
 * G_IO_ERROR_CANCELLED.
 *
 * Returns: (transfer full): the image, or %NULL with @error set
 */
WpImage *
wp_image_open (const char    *path,
               guint64        max_pixels,
               GCancellable  *cancellable,
               GError       **error)
{
  int fd;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0)
    {
      set_file_error (error, errno, "Failed to open “%s”", path);
      return NULL;
    }

  return open_image (fd, path, max_pixels, cancellable, error);
}

/**
 * wp_image_open_fd:
 * @fd: a descriptor open for reading an image file; borrowed: the image
 *   reads a duplicate of it, with pread() only, so that neither its
 *   offset matters nor is it moved
 * @name: what to call the file in messages
 * @max_pixels: the largest number of pixels the image may decode to
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * wp_image_open() of a file already open, which opens no path: the
 * same checks (a regular file, of at most WP_IMAGE_MAX_FILE_SIZE bytes)
 * and the same errors, naming @name.
 *
 * Returns: (transfer full): the image, or %NULL with @error set
 */
WpImage *
wp_image_open_fd (int            fd,
                  const char    *name,
                  guint64        max_pixels,
                  GCancellable  *cancellable,
                  GError       **error)
{
  int own_fd;

  g_return_val_if_fail (fd >= 0, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  own_fd = fcntl (fd, F_DUPFD_CLOEXEC, 3);
  if (own_fd < 0)
    {
      set_file_error (error, errno, "Failed to open “%s”", name);
      return NULL;
    }

  return open_image (own_fd, name, max_pixels, cancellable, error);
}

/**
 * wp_image_get_format_name:
 * @image: an image
 *
 * Returns: gdk-pixbuf's name for the image's format: "jpeg", "png", ...
 */
const char *
wp_image_get_format_name (WpImage *image)
{
  g_return_val_if_fail (image != NULL, NULL);

  return image->format_name;
}

/**
 * wp_image_get_size:
 * @image: an image
 * @width: (out): the width as displayed, after EXIF orientation
 * @height: (out): the height as displayed
 */
void
wp_image_get_size (WpImage *image,
                   int     *width,
                   int     *height)
{
  g_return_if_fail (image != NULL);

  *width = image->width;
  *height = image->height;
}

/**
 * wp_image_get_file_stat:
 * @image: an image
 * @mtime_ns: (out): the source file's modification time, in nanoseconds
 *   since the epoch
 * @size: (out): the source file's size in bytes
 *
 * What fstat() said of the descriptor the image is read from, when it
 * was opened: the file whose bytes are decoded, whatever happens to its
 * path afterwards.
 */
void
wp_image_get_file_stat (WpImage *image,
                        gint64  *mtime_ns,
                        guint64 *size)
{
  g_return_if_fail (image != NULL);

  *mtime_ns = image->mtime_ns;
  *size = image->file_size;
}

/**
 * wp_image_get_icc_profile:
 * @image: an image
 *
 * Returns: (transfer none) (nullable): the image's ICC profile
 */
GBytes *
wp_image_get_icc_profile (WpImage *image)
{
  g_return_val_if_fail (image != NULL, NULL);

  return image->icc_profile;
}

/**
 * wp_image_get_damage:
 * @image: an image, decoded
 *
 * Says what is wrong with a damaged file whose pixels were decoded in
 * part: a truncated or corrupt JPEG, whose missing part is mid-grey, a
 * GIF whose later frame is damaged, which shows its first frame, or a
 * file another loader returned rows of before failing.
 *
 * Returns: (nullable): the damage, in a few words, or %NULL when the
 *   image is intact
 */
const char *
wp_image_get_damage (WpImage *image)
{
  g_return_val_if_fail (image != NULL, NULL);

  return image->damage;
}

/**
 * wp_image_set_fast:
 * @image: an image not decoded yet
 * @fast: whether to decode for speed
 *
 * A JPEG image is then decoded at the smallest DCT scale covering the
 * size wp_image_decode() is asked for, and a progressive one at 1/8 from
 * its DC scans alone (wp_jpeg_reader_set_fast()); other formats decode
 * as they always do.
 */
void
wp_image_set_fast (WpImage  *image,
                   gboolean  fast)
{
  g_return_if_fail (image != NULL);

  if (image->jpeg != NULL)
    wp_jpeg_reader_set_fast (image->jpeg, fast);
}

/**
 * wp_image_decode:
 * @image: an image
 * @min_width: the largest width that will be rendered (displayed)
 * @min_height: the largest height that will be rendered (displayed)
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * Decodes the pixels, for JPEG at a DCT scale from which a @min_width x
 * @min_height rendering is a reduction, preferably one twice as large
 * (wp_jpeg_reader_decode()).  Does nothing when the pixels are already decoded.  A JPEG
 * decode fails with GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY, before it
 * allocates, when it would output more pixels than wp_image_open()'s
 * limit or need more memory than the worker's memory limit leaves.
 *
 * Returns: %TRUE on success, %FALSE with @error set (GDK_PIXBUF_ERROR,
 *   G_FILE_ERROR or G_IO_ERROR_CANCELLED)
 */
gboolean
wp_image_decode (WpImage       *image,
                 int            min_width,
                 int            min_height,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_return_val_if_fail (image != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (image->pixbuf != NULL)
    return TRUE;

  g_assert (image->jpeg != NULL);

  if (orientation_swaps_axes (image->orientation))
    image->pixbuf = wp_jpeg_reader_decode (image->jpeg, min_height, min_width,
                                           cancellable, error);
  else
    image->pixbuf = wp_jpeg_reader_decode (image->jpeg, min_width, min_height,
                                           cancellable, error);

  if (image->pixbuf != NULL)
    image->damage = g_strdup (wp_jpeg_reader_get_damage (image->jpeg));

  g_clear_pointer (&image->jpeg, wp_jpeg_reader_free);

  return image->pixbuf != NULL;
}

/* Rotates or flips @pixbuf from the stored to the displayed orientation. */
static GdkPixbuf *
apply_orientation (GdkPixbuf *pixbuf,
                   int        orientation)
{
  g_autoptr(GdkPixbuf) rotated = NULL;

  switch (orientation)
    {
    case 2:  /* mirrored horizontally */
      return gdk_pixbuf_flip (pixbuf, TRUE);
    case 3:  /* rotated 180° */
      return gdk_pixbuf_rotate_simple (pixbuf, GDK_PIXBUF_ROTATE_UPSIDEDOWN);
    case 4:  /* mirrored vertically */
      return gdk_pixbuf_flip (pixbuf, FALSE);
    case 5:  /* transposed */
      rotated = gdk_pixbuf_rotate_simple (pixbuf, GDK_PIXBUF_ROTATE_CLOCKWISE);
      return rotated != NULL ? gdk_pixbuf_flip (rotated, TRUE) : NULL;
    case 6:  /* needs a quarter turn clockwise */
      return gdk_pixbuf_rotate_simple (pixbuf, GDK_PIXBUF_ROTATE_CLOCKWISE);
    case 7:  /* transversed */
      rotated = gdk_pixbuf_rotate_simple (pixbuf, GDK_PIXBUF_ROTATE_CLOCKWISE);
      return rotated != NULL ? gdk_pixbuf_flip (rotated, FALSE) : NULL;
    case 8:  /* needs a quarter turn counter-clockwise */
      return gdk_pixbuf_rotate_simple (pixbuf, GDK_PIXBUF_ROTATE_COUNTERCLOCKWISE);
    default:
      return g_object_ref (pixbuf);
    }
}

/* The smallest of the decoded pixels and the earlier renderings that can
 * be reduced to @width x @height (stored orientation) without loss. */
static GdkPixbuf *
choose_scaling_source (WpImage *image,
                       int      width,
                       int      height)
{
  GdkPixbuf *best = image->pixbuf;
  guint i;

  for (i = 0; i < image->scaled->len; i++)
    {
      GdkPixbuf *candidate = g_ptr_array_index (image->scaled, i);
      int candidate_width = gdk_pixbuf_get_width (candidate);
      int candidate_height = gdk_pixbuf_get_height (candidate);

      if (candidate_width == width && candidate_height == height)
        return candidate;

      if (candidate_width >= CASCADE_FACTOR * width &&
          candidate_height >= CASCADE_FACTOR * height &&
          candidate_width < gdk_pixbuf_get_width (best))
        best = candidate;
    }

  return best;
}

/**
 * wp_image_render:
 * @image: a decoded image
 * @width: displayed width, at most the decoded width
 * @height: displayed height, at most the decoded height
 * @error: return location for an error
 *
 * Scales the image down to @width x @height with a Lanczos-3 filter
 * (wp-resample.c) and orients it for display.
 *
 * Returns: (transfer full): an 8-bit RGB pixbuf without alpha, or %NULL
 *   with @error set when out of memory
 */
GdkPixbuf *
wp_image_render (WpImage  *image,
                 int       width,
                 int       height,
                 GError  **error)
{
  g_autoptr(GdkPixbuf) scaled = NULL;
  GdkPixbuf *source, *oriented;
  GError *local_error;
  int stored_width, stored_height;

  g_return_val_if_fail (image != NULL && image->pixbuf != NULL, NULL);
  g_return_val_if_fail (width > 0 && height > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  stored_width = orientation_swaps_axes (image->orientation) ? height : width;
  stored_height = orientation_swaps_axes (image->orientation) ? width : height;

  source = choose_scaling_source (image, stored_width, stored_height);

  if (gdk_pixbuf_get_width (source) == stored_width &&
      gdk_pixbuf_get_height (source) == stored_height)
    {
      scaled = g_object_ref (source);
    }
  else
    {
      scaled = wp_resample_reduce (source, stored_width, stored_height);
      if (scaled == NULL)
        goto out_of_memory;
      g_ptr_array_add (image->scaled, g_object_ref (scaled));
    }

  oriented = apply_orientation (scaled, image->orientation);
  if (oriented == NULL)
    goto out_of_memory;

  return oriented;

out_of_memory:
  local_error = g_error_new (GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY,
                             "Not enough memory to scale “%s” to %dx%d",
                             image->path, width, height);
  wp_memory_limit_note (local_error);
  g_propagate_error (error, local_error);
  return NULL;
}

/**
 * wp_image_free:
 * @image: (nullable): an image
 *
 * Frees @image and closes its file.
 */
void
wp_image_free (WpImage *image)
{
  if (image == NULL)
    return;

  g_clear_pointer (&image->jpeg, wp_jpeg_reader_free);
  if (image->fd >= 0)
    close (image->fd);
  g_clear_object (&image->pixbuf);
  g_clear_pointer (&image->scaled, g_ptr_array_unref);
  g_clear_pointer (&image->icc_profile, g_bytes_unref);
  g_free (image->damage);
  g_free (image->format_name);
  g_free (image->path);
  g_free (image);
}
