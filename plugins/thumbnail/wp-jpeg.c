/* wp-jpeg.c: JPEG decoding and encoding with libjpeg-turbo, EXIF orientation.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * This file owns every call into libjpeg-turbo.  A WpJpegReader reads a
 * JPEG file's header (size, EXIF orientation, ICC profile) without
 * decoding anything, then decodes it once, at the smallest DCT scale M/8
 * that covers twice the size the caller needs, or failing that within
 * the pixel limit, the size itself (choose_scale()).  wp_jpeg_encode() turns an RGB pixbuf
 * into JPEG bytes with an optional comment and an optional ICC profile,
 * and nothing else (no EXIF).
 *
 * Invariants:
 *
 * - libjpeg never prints and never exits.  Every error longjmps back to
 *   the function of this file that called libjpeg, which turns it into a
 *   GError (GDK_PIXBUF_ERROR, or G_FILE_ERROR for a failed read(), or
 *   G_IO_ERROR_CANCELLED).  Warnings that lose no pixels (stray bytes
 *   between markers, an unknown JFIF revision or Adobe transform, a
 *   malformed ICC marker) are ignored, as every viewer does.
 * - A damaged file decodes to what its data holds, as libvips and every
 *   viewer show it: a warning that means lost image data (premature end
 *   of file, corrupt entropy data, ...) lets libjpeg go on, which fills
 *   what is missing with zero coefficients (mid-grey), and a libjpeg
 *   error after some rows were output keeps those rows, the rest filled
 *   with mid-grey here; a single-scan decode whose data ended stops two
 *   iMCU rows later and fills the rest itself (note_data_end()).  The
 *   first such message is the reader's damage
 *   (wp_jpeg_reader_get_damage()).  A decode whose data ends or breaks
 *   before a single byte of the first scan's data, or before any row
 *   is output, has nothing to show and fails.
 * - The three functions that call libjpeg (reader_read_header(),
 *   reader_decode(), writer_encode()) set their setjmp point before the
 *   first call and keep everything they allocate in a heap structure (the
 *   reader, or a WpJpegWriter) made by their caller, so no local variable
 *   changes between setjmp and longjmp and the error path frees exactly
 *   what was allocated.
 * - A reader reads the header once and decodes at most once.  The decode
 *   runs the whole image through jpeg_start_decompress() and
 *   jpeg_read_scanlines(), progressive files included: never
 *   buffered-image mode for several outputs, which would redo the inverse
 *   DCT for every scan.  The one exception outputs once: a fast decode
 *   (wp_jpeg_reader_set_fast()) of a progressive file at 1/8 reads only
 *   its DC scans, in buffered-image mode, and outputs them.
 * - The decoded pixbuf is 8-bit RGB without alpha, in the stored
 *   orientation: the EXIF orientation is reported, not applied, so that
 *   the caller rotates small thumbnails rather than the full image.
 *   Grayscale is expanded to RGB by libjpeg; CMYK and YCCK are converted
 *   here, reading Adobe files as inverted CMYK.
 * - The reader reads the descriptor it is given from its start with
 *   pread(2), whatever its offset (a pipe with read(2)), and neither
 *   seeks nor closes it.  Only a multi-scan file cut inside the header
 *   of a later scan (or a table between scans), which libjpeg cannot get
 *   past, is read a second time, from the same descriptor, up to its
 *   last marker, so that its earlier scans show (reader_retry()).
 * - A decode is refused before libjpeg allocates anything for it when its
 *   output (at the chosen DCT scale, not the image's nominal size) has
 *   more pixels than the reader's limit, or when what it needs does not
 *   fit in what the worker's memory limit leaves (check_decode_limits()).
 *   A baseline JPEG streams through a few rows of buffers, so it needs
 *   little more than its output; a progressive (or otherwise multi-scan)
 *   one needs its whole coefficient array, 128 bytes per 8x8 block of
 *   every component at full resolution (3 bytes per pixel at 4:2:0, 6 at
 *   4:4:4), whatever the scale.
 * - The cancellable is polled by libjpeg's progress monitor, i.e. every
 *   few rows while decoding, so cancelling a large decode stops it early.
 *   The same monitor refuses files with more than WP_JPEG_MAX_SCANS scans.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <jerror.h>

#include "wp-jpeg.h"
#include "wp-memory-limit.h"

#define SOURCE_BUFFER_SIZE 65536
#define DESTINATION_BUFFER_SIZE 16384
#define ROWS_PER_READ 16
/* What a decode needs besides its coefficient array and its output: the
 * headers, libjpeg's row buffers and the allocator's slack. */
#define DECODE_OVERHEAD (G_GUINT64_CONSTANT (16) << 20)
/* How much larger than needed a decode preferably is (choose_scale()). */
#define DECODE_GAP 2

#define EXIF_TAG_ORIENTATION 0x0112
#define TIFF_TYPE_SHORT 3

/* ---- errors ---------------------------------------------------------- */

typedef struct {
  struct jpeg_error_mgr  pub;
  jmp_buf                jump;
  const char            *path;   /* the file being read, NULL when encoding */
  GError                *error;  /* set just before the longjmp */
  char                  *damage; /* decoding: the first message of lost data */
  gboolean               libjpeg_error;  /* error was libjpeg's own */
} WpJpegErrorMgr;

static gboolean
warning_is_benign (int msg_code)
{
  switch (msg_code)
    {
    case JWRN_EXTRANEOUS_DATA:
    case JWRN_JFIF_MAJOR:
    case JWRN_ADOBE_XFORM:
    case JWRN_BOGUS_ICC:
      return TRUE;
    default:
      return FALSE;
    }
}

static GError *
error_from_libjpeg (j_common_ptr cinfo)
{
  WpJpegErrorMgr *err = (WpJpegErrorMgr *) cinfo->err;
  char message[JMSG_LENGTH_MAX];
  GError *error;
  int code;

  cinfo->err->format_message (cinfo, message);

  switch (cinfo->err->msg_code)
    {
    case JERR_OUT_OF_MEMORY:
    case JERR_IMAGE_TOO_BIG:
      code = GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY;
      break;
    case JERR_ARITH_NOTIMPL:
    case JERR_BAD_PRECISION:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_NOT_COMPILED:
    case JERR_NOTIMPL:
    case JERR_SOF_UNSUPPORTED:
      code = GDK_PIXBUF_ERROR_UNKNOWN_TYPE;
      break;
    default:
      code = cinfo->is_decompressor ? GDK_PIXBUF_ERROR_CORRUPT_IMAGE
                                    : GDK_PIXBUF_ERROR_FAILED;
      break;
    }

  /* The first damage, such as a premature end, is what led to it. */
  if (cinfo->is_decompressor && err->damage != NULL && !g_str_equal (err->damage, message))
    error = g_error_new (GDK_PIXBUF_ERROR, code,
                         "Failed to decode JPEG image “%s”: %s (%s)",
                         err->path, err->damage, message);
  else if (cinfo->is_decompressor)
    error = g_error_new (GDK_PIXBUF_ERROR, code,
                         "Failed to decode JPEG image “%s”: %s",
                         err->path, message);
  else
    error = g_error_new (GDK_PIXBUF_ERROR, code,
                         "Failed to encode JPEG image: %s", message);

  /* JERR_IMAGE_TOO_BIG is about the dimensions, not about memory. */
  if (cinfo->err->msg_code == JERR_OUT_OF_MEMORY)
    wp_memory_limit_note (error);

  return error;
}

/* Leaves libjpeg with @error (transfer full), or with an error made from
 * libjpeg's current message when @error is NULL. */
G_NORETURN static void
fail (j_common_ptr  cinfo,
      GError       *error)
{
  WpJpegErrorMgr *err = (WpJpegErrorMgr *) cinfo->err;

  if (err->error == NULL)
    err->error = error != NULL ? error : error_from_libjpeg (cinfo);
  else if (error != NULL)
    g_error_free (error);

  longjmp (err->jump, 1);
}

/* Keeps libjpeg's current message as the damage, unless there is one. */
static void
note_damage (j_common_ptr cinfo)
{
  WpJpegErrorMgr *err = (WpJpegErrorMgr *) cinfo->err;
  char message[JMSG_LENGTH_MAX];

  if (!cinfo->is_decompressor || err->damage != NULL)
    return;

  cinfo->err->format_message (cinfo, message);
  err->damage = g_strdup (message);
}

static void
error_exit (j_common_ptr cinfo)
{
  WpJpegErrorMgr *err = (WpJpegErrorMgr *) cinfo->err;

  if (err->error == NULL)
    {
      err->libjpeg_error = TRUE;
      note_damage (cinfo);
    }
  fail (cinfo, NULL);
}

static void note_data_end (j_decompress_ptr cinfo);

static void
emit_message (j_common_ptr cinfo,
              int          msg_level)
{
  if (msg_level >= 0)
    return;  /* trace messages */

  cinfo->err->num_warnings++;
  if (!warning_is_benign (cinfo->err->msg_code))
    note_damage (cinfo);

  /* The end of the file, or a marker in the scan's data with no restart
   * markers to resume at: this scan has no more data. */
  if (cinfo->is_decompressor &&
      (cinfo->err->msg_code == JWRN_JPEG_EOF ||
       (cinfo->err->msg_code == JWRN_HIT_MARKER &&
        ((j_decompress_ptr) cinfo)->restart_interval == 0)))
    note_data_end ((j_decompress_ptr) cinfo);
}

static void
output_message (j_common_ptr cinfo)
{
  /* Never print: errors reach the caller as a GError. */
}

static void
error_mgr_init (WpJpegErrorMgr *err,
                const char     *path)
{
  jpeg_std_error (&err->pub);
  err->pub.error_exit = error_exit;
  err->pub.emit_message = emit_message;
  err->pub.output_message = output_message;
  err->path = path;
  err->error = NULL;
  err->damage = NULL;
  err->libjpeg_error = FALSE;
}

/* ---- reading ---------------------------------------------------------- */

typedef struct {
  struct jpeg_source_mgr  pub;
  int                     fd;
  guint64                 bytes_read;   /* from the file, not the fake EOI: the
                                         * offset of the next pread() (the
                                         * descriptor's own is left alone) */
  gboolean                hit_eof;
  guint64                 limit;        /* > 0: read up to here (a retry) */
  JOCTET                  buffer[SOURCE_BUFFER_SIZE];
} WpJpegSource;

struct _WpJpegReader {
  struct jpeg_decompress_struct  cinfo;
  WpJpegErrorMgr                 err;
  struct jpeg_progress_mgr       progress;
  WpJpegSource                   source;
  char                          *path;
  GCancellable                  *cancellable;  /* of the current call */
  int                            orientation;
  GBytes                        *icc_profile;
  gboolean                       decoded;
  guint64                        max_pixels;   /* of the decoded output */
  gboolean                       fast;         /* wp_jpeg_reader_set_fast() */
  guint64                        scan_data_offset;  /* after the first SOS */

  /* Only during wp_jpeg_reader_decode(): */
  JDIMENSION                     rows_done;    /* rows of pixbuf complete */
  JDIMENSION                     data_rows;    /* > 0: rows past which a
                                                * single-scan file that
                                                * ended has no data */
  GdkPixbuf                     *pixbuf;
  guint8                        *cmyk_rows;
};

static void
source_init (j_decompress_ptr cinfo)
{
}

/* At the end of a single-scan file's data while rows are output: the
 * rows of the iMCU row being decoded hold the last data, the rows of the
 * next one may blend with it (fancy upsampling); all later ones would
 * be decoded from nothing, so the decode stops after those two and fills
 * the rest (reader_decode()).  The rows per iMCU row are estimated from
 * below, so the stop never comes early. */
static void
note_data_end (j_decompress_ptr cinfo)
{
  WpJpegReader *reader = cinfo->client_data;
  JDIMENSION rows_per_imcu_row;

  if (reader->pixbuf == NULL || reader->data_rows > 0 ||
      jpeg_has_multiple_scans (cinfo) || cinfo->total_iMCU_rows == 0)
    return;

  rows_per_imcu_row = MAX (1, cinfo->output_height / cinfo->total_iMCU_rows);
  reader->data_rows = MAX (1, (cinfo->input_iMCU_row + 3) * rows_per_imcu_row);
}

static boolean
source_fill (j_decompress_ptr cinfo)
{
  WpJpegReader *reader = cinfo->client_data;
  WpJpegSource *source = &reader->source;
  gssize n;

  do
    {
      size_t length = sizeof source->buffer;

      if (source->limit > 0)
        length = (size_t) MIN ((guint64) length, source->limit - source->bytes_read);
      n = pread (source->fd, source->buffer, length, (off_t) source->bytes_read);
      /* A pipe has no offset to read at (the tests feed one); it is never
       * retried (find_last_marker() cannot pread() it). */
      if (n < 0 && errno == ESPIPE)
        n = read (source->fd, source->buffer, length);
    }
  while (n < 0 && errno == EINTR);

  if (n < 0)
    {
      int saved_errno = errno;

      fail ((j_common_ptr) cinfo,
            g_error_new (G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                         "Failed to read “%s”: %s",
                         reader->path, g_strerror (saved_errno)));
    }

  if (n == 0)
    {
      /* libjpeg's convention: a warning and a fake EOI marker, after
       * which the decode fills what is missing. */
      source->hit_eof = TRUE;
      WARNMS (cinfo, JWRN_JPEG_EOF);
      source->buffer[0] = 0xFF;
      source->buffer[1] = JPEG_EOI;
      n = 2;
    }
  else
    source->bytes_read += (guint64) n;

  source->pub.next_input_byte = source->buffer;
  source->pub.bytes_in_buffer = n;

  return TRUE;
}

static void
source_skip (j_decompress_ptr cinfo,
             long             num_bytes)
{
  struct jpeg_source_mgr *source = cinfo->src;

  if (num_bytes <= 0)
    return;

  while ((size_t) num_bytes > source->bytes_in_buffer)
    {
      num_bytes -= (long) source->bytes_in_buffer;
      source->fill_input_buffer (cinfo);
    }

  source->next_input_byte += num_bytes;
  source->bytes_in_buffer -= num_bytes;
}

static void
source_term (j_decompress_ptr cinfo)
{
}

static void
progress_monitor (j_common_ptr cinfo)
{
  WpJpegReader *reader = cinfo->client_data;
  GError *error = NULL;

  if (g_cancellable_set_error_if_cancelled (reader->cancellable, &error))
    fail (cinfo, error);

  if (reader->cinfo.input_scan_number > WP_JPEG_MAX_SCANS)
    fail (cinfo,
          g_error_new (GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE,
                       "Failed to decode JPEG image “%s”: more than %d scans",
                       reader->path, WP_JPEG_MAX_SCANS));
}

/* Steals the pending error of the last longjmp into @error. */
static void
reader_propagate_error (WpJpegReader  *reader,
                        GError       **error)
{
  g_assert (reader->err.error != NULL);
  g_propagate_error (error, g_steal_pointer (&reader->err.error));
}

/* The libjpeg part of wp_jpeg_reader_new(). */
static gboolean
reader_read_header (WpJpegReader  *reader,
                    int            fd,
                    GError       **error)
{
  jpeg_saved_marker_ptr marker;
  JOCTET *icc_data = NULL;
  unsigned int icc_length = 0;

  if (setjmp (reader->err.jump))
    {
      reader_propagate_error (reader, error);
      return FALSE;
    }

  jpeg_create_decompress (&reader->cinfo);
  reader->cinfo.client_data = reader;

  reader->progress.progress_monitor = progress_monitor;
  reader->cinfo.progress = &reader->progress;

  reader->source.fd = fd;
  reader->source.pub.init_source = source_init;
  reader->source.pub.fill_input_buffer = source_fill;
  reader->source.pub.skip_input_data = source_skip;
  reader->source.pub.resync_to_restart = jpeg_resync_to_restart;
  reader->source.pub.term_source = source_term;
  reader->source.pub.next_input_byte = NULL;
  reader->source.pub.bytes_in_buffer = 0;
  reader->cinfo.src = &reader->source.pub;

  jpeg_save_markers (&reader->cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_save_markers (&reader->cinfo, JPEG_APP0 + 2, 0xFFFF);
  jpeg_read_header (&reader->cinfo, TRUE);
  reader->scan_data_offset = reader->source.bytes_read
                             - reader->source.pub.bytes_in_buffer;

  for (marker = reader->cinfo.marker_list; marker != NULL; marker = marker->next)
    {
      if (marker->marker == JPEG_APP0 + 1)
        {
          int orientation = wp_exif_get_orientation (marker->data,
                                                     marker->data_length);
          if (orientation != 0)
            {
              reader->orientation = orientation;
              break;
            }
        }
    }

  if (jpeg_read_icc_profile (&reader->cinfo, &icc_data, &icc_length))
    reader->icc_profile = g_bytes_new_with_free_func (icc_data, icc_length,
                                                      free, icc_data);

  return TRUE;
}

/**
 * wp_jpeg_reader_new:
 * @fd: a descriptor open for reading a JPEG file, read from its start
 *   with pread() whatever its offset (which is left alone), or a pipe,
 *   read with read(); the reader
 *   borrows it and must be freed before it is closed
 * @path: the file's name, for error messages
 * @cancellable: (nullable): polled while reading the header
 * @error: return location for an error
 *
 * Reads a JPEG file's header and the markers it needs (EXIF APP1 for the
 * orientation, APP2 for the ICC profile); no pixels are decoded.
 *
 * Returns: (transfer full): a reader, or %NULL with @error set
 */
WpJpegReader *
wp_jpeg_reader_new (int            fd,
                    const char    *path,
                    GCancellable  *cancellable,
                    GError       **error)
{
  g_autoptr(WpJpegReader) reader = NULL;

  g_return_val_if_fail (fd >= 0, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* g_new0() also makes jpeg_destroy_decompress() safe should
   * jpeg_create_decompress() itself fail. */
  reader = g_new0 (WpJpegReader, 1);
  reader->path = g_strdup (path);
  reader->orientation = 1;
  reader->max_pixels = G_MAXUINT64;
  error_mgr_init (&reader->err, reader->path);
  reader->cinfo.err = &reader->err.pub;

  reader->cancellable = cancellable;
  if (!reader_read_header (reader, fd, error))
    return NULL;
  reader->cancellable = NULL;

  return g_steal_pointer (&reader);
}

/**
 * wp_jpeg_reader_get_size:
 * @reader: a reader
 * @width: (out): the stored width, before any orientation
 * @height: (out): the stored height
 */
void
wp_jpeg_reader_get_size (WpJpegReader *reader,
                         int          *width,
                         int          *height)
{
  g_return_if_fail (reader != NULL);

  *width = (int) reader->cinfo.image_width;
  *height = (int) reader->cinfo.image_height;
}

/**
 * wp_jpeg_reader_set_max_pixels:
 * @reader: a reader whose image was not decoded yet
 * @max_pixels: the largest number of pixels the decode may output
 *
 * Sets the pixel limit of wp_jpeg_reader_decode(), which applies to the
 * size decoded at the chosen DCT scale; there is none by default.
 */
void
wp_jpeg_reader_set_max_pixels (WpJpegReader *reader,
                               guint64       max_pixels)
{
  g_return_if_fail (reader != NULL);

  reader->max_pixels = max_pixels;
}

/**
 * wp_jpeg_reader_set_fast:
 * @reader: a reader whose image was not decoded yet
 * @fast: whether to decode for speed
 *
 * With @fast, wp_jpeg_reader_decode() picks the smallest DCT scale
 * covering the size asked for, 1/8 included, not one twice as large; and
 * a progressive file decoded at 1/8, which needs only each block's DC
 * coefficient, is read only up to the end of its DC scans (the pixels
 * are those of the whole file's decode at 1/8: decode_dc_only()).  The
 * freedesktop cache's small thumbnails are made this way, as Tumbler and
 * GNOME make theirs; damage in the AC scans it skips is then not seen.
 */
void
wp_jpeg_reader_set_fast (WpJpegReader *reader,
                         gboolean      fast)
{
  g_return_if_fail (reader != NULL);

  reader->fast = fast;
}

/**
 * wp_jpeg_reader_get_orientation:
 * @reader: a reader
 *
 * Returns: the EXIF orientation, 1 to 8; 1 when the file has none
 */
int
wp_jpeg_reader_get_orientation (WpJpegReader *reader)
{
  g_return_val_if_fail (reader != NULL, 1);

  return reader->orientation;
}

/**
 * wp_jpeg_reader_get_icc_profile:
 * @reader: a reader
 *
 * Returns: (transfer full) (nullable): the embedded ICC profile
 */
GBytes *
wp_jpeg_reader_get_icc_profile (WpJpegReader *reader)
{
  g_return_val_if_fail (reader != NULL, NULL);

  return reader->icc_profile != NULL ? g_bytes_ref (reader->icc_profile) : NULL;
}

/* Sets the output dimensions for the smallest scale M/8, M from
 * @first_m to 8, whose output is at least @min_width x @min_height (in
 * stored orientation), or for 8/8 when none is. */
static void
set_smallest_scale (j_decompress_ptr cinfo,
                    unsigned int     first_m,
                    int              min_width,
                    int              min_height)
{
  for (unsigned int m = first_m; m <= 8; m++)
    {
      cinfo->scale_num = m;
      cinfo->scale_denom = 8;
      jpeg_calc_output_dimensions (cinfo);

      if (cinfo->output_width >= (JDIMENSION) min_width
          && cinfo->output_height >= (JDIMENSION) min_height)
        return;
    }
}

/* Picks the scale of the decode and sets the output dimensions for it:
 * the first of these whose output is within @max_pixels,
 *
 *   1. the smallest M/8, M from 2, at least DECODE_GAP times
 *      @min_width x @min_height (or the whole image when that is less),
 *      so that the Lanczos filter of wp-resample.c, not the scaled inverse
 *      DCT (a crude filter of each 8x8 block), does most of the
 *      antialiasing (libvips' shrink-on-load and Pillow's reducing_gap
 *      leave the same factor);
 *   2. the smallest M/8, M from 2, at least @min_width x @min_height;
 *   3. the smallest M/8, M from 1, at least @min_width x @min_height,
 *
 * or else the last, which the pixel limit then refuses; with @fast, the
 * last alone (wp_jpeg_reader_set_fast()).  1/8 comes last
 * because it keeps only each block's average, a plain 8x8 box filter,
 * whose aliasing (moiré on fine repeating detail) no later filter can
 * remove; but a huge image is better decoded at 1/8 than refused.  M = 8
 * always qualifies when the caller asks for no more than the image. */
static void
choose_scale (j_decompress_ptr cinfo,
              int              min_width,
              int              min_height,
              guint64          max_pixels,
              gboolean         fast)
{
  const struct {
    unsigned int first_m;
    guint64      factor;
  } choices[] = { { 2, DECODE_GAP }, { 2, 1 }, { 1, 1 } };

  /* Fast: only the last. */
  for (gsize i = fast ? G_N_ELEMENTS (choices) - 1 : 0; i < G_N_ELEMENTS (choices); i++)
    {
      int width = (int) MIN ((guint64) MAX (min_width, 1) * choices[i].factor,
                             (guint64) cinfo->image_width);
      int height = (int) MIN ((guint64) MAX (min_height, 1) * choices[i].factor,
                              (guint64) cinfo->image_height);

      set_smallest_scale (cinfo, choices[i].first_m, width, height);
      if ((guint64) cinfo->output_width * cinfo->output_height <= max_pixels)
        return;
    }
}

/* The bytes of the coefficient array libjpeg keeps for the whole image
 * (jdcoefct.c: one JBLOCK per block, the blocks of each component
 * rounded up to whole MCUs), or 0 when the first scan holds every
 * component of a sequential file, which then streams row by row. */
static guint64
coefficient_array_size (j_decompress_ptr cinfo)
{
  guint64 size = 0;
  int i;

  if (!cinfo->progressive_mode && cinfo->comps_in_scan >= cinfo->num_components)
    return 0;

  for (i = 0; i < cinfo->num_components; i++)
    {
      const jpeg_component_info *component = &cinfo->comp_info[i];
      guint64 columns = component->width_in_blocks;
      guint64 rows = component->height_in_blocks;
      guint64 h = (guint64) MAX (component->h_samp_factor, 1);
      guint64 v = (guint64) MAX (component->v_samp_factor, 1);

      columns = (columns + h - 1) / h * h;
      rows = (rows + v - 1) / v * v;
      size += columns * rows * sizeof (JBLOCK);
    }

  return size;
}

/* Refuses the decode set up by choose_scale() when its output is over the
 * pixel limit or when it cannot fit in what the memory limit leaves.
 * Every figure is in 64 bits: a 65500x65500 header must not wrap. */
static void
check_decode_limits (WpJpegReader *reader)
{
  j_decompress_ptr cinfo = &reader->cinfo;
  guint64 pixels = (guint64) cinfo->output_width * cinfo->output_height;
  guint64 output, coefficients, need, limit, headroom;
  GError *error;

  if (pixels > reader->max_pixels)
    fail ((j_common_ptr) cinfo,
          g_error_new (GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY,
                       "Image “%s” is %ux%u, which decodes at scale %u/8 to %ux%u "
                       "= %" G_GUINT64_FORMAT " pixels, over the pixel limit of %"
                       G_GUINT64_FORMAT, reader->path,
                       cinfo->image_width, cinfo->image_height, cinfo->scale_num,
                       cinfo->output_width, cinfo->output_height,
                       pixels, reader->max_pixels));

  if (!wp_memory_limit_get_headroom (&limit, &headroom))
    return;

  /* The RGB pixbuf, rows padded to 4 bytes. */
  output = ((guint64) cinfo->output_width * 3 + 3) / 4 * 4 * cinfo->output_height;
  coefficients = coefficient_array_size (cinfo);
  need = output + coefficients + DECODE_OVERHEAD;
  if (need <= headroom)
    return;

  if (coefficients > 0)
    error = g_error_new (GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY,
                         "Not enough memory to decode “%s”: this %s %ux%u JPEG needs "
                         "about %" G_GUINT64_FORMAT " MiB (%" G_GUINT64_FORMAT " MiB for "
                         "its DCT coefficients, which its decode holds whole at any scale, "
                         "%" G_GUINT64_FORMAT " MiB for %ux%u pixels), more than the %"
                         G_GUINT64_FORMAT " MiB left",
                         reader->path, cinfo->progressive_mode ? "progressive" : "multi-scan",
                         cinfo->image_width, cinfo->image_height,
                         (need + (1 << 20) - 1) >> 20,
                         (coefficients + (1 << 20) - 1) >> 20,
                         (output + (1 << 20) - 1) >> 20,
                         cinfo->output_width, cinfo->output_height, headroom >> 20);
  else
    error = g_error_new (GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY,
                         "Not enough memory to decode “%s” at %ux%u: it needs about %"
                         G_GUINT64_FORMAT " MiB, more than the %" G_GUINT64_FORMAT
                         " MiB left",
                         reader->path, cinfo->output_width, cinfo->output_height,
                         (need + (1 << 20) - 1) >> 20, headroom >> 20);

  wp_memory_limit_note (error);
  fail ((j_common_ptr) cinfo, error);
}

static inline guint8
multiply_255 (guint a,
              guint b)
{
  return (guint8) ((a * b + 127) / 255);
}

/* CMYK to RGB.  Adobe applications write inverted CMYK (0 means full ink),
 * and every CMYK JPEG in practice comes from them; a file without the
 * Adobe marker is read as plain CMYK. */
static void
convert_cmyk_row (const guint8 *cmyk,
                  guint8       *rgb,
                  guint         width,
                  gboolean      inverted)
{
  guint x;

  for (x = 0; x < width; x++, cmyk += 4, rgb += 3)
    {
      guint c = cmyk[0], m = cmyk[1], y = cmyk[2], k = cmyk[3];

      if (!inverted)
        {
          c = 255 - c;
          m = 255 - m;
          y = 255 - y;
          k = 255 - k;
        }

      rgb[0] = multiply_255 (c, k);
      rgb[1] = multiply_255 (m, k);
      rgb[2] = multiply_255 (y, k);
    }
}

/* Fills the rows of reader->pixbuf from reader->rows_done down with
 * mid-grey, what libjpeg shows for data it does not have. */
static void
fill_missing_rows (WpJpegReader *reader)
{
  guint8 *pixels = gdk_pixbuf_get_pixels (reader->pixbuf);
  gsize rowstride = (gsize) gdk_pixbuf_get_rowstride (reader->pixbuf);
  gsize row_bytes = (gsize) gdk_pixbuf_get_width (reader->pixbuf) * 3;
  int y;

  for (y = (int) reader->rows_done; y < gdk_pixbuf_get_height (reader->pixbuf); y++)
    memset (pixels + y * rowstride, 0x80, row_bytes);
}

/* Whether the decode that just ended, damaged, had nothing to show: its
 * data ended before a single byte of the first scan's entropy-coded
 * data (libjpeg then outputs a grey image of its own). */
static gboolean
reader_decoded_nothing (WpJpegReader *reader)
{
  return reader->err.damage != NULL &&
         reader->source.bytes_read <= reader->scan_data_offset;
}

/* Fails a decode that reader_decoded_nothing(); returns FALSE. */
static gboolean
reader_fail_nothing (WpJpegReader  *reader,
                     GError       **error)
{
  g_clear_object (&reader->pixbuf);
  g_set_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE,
               "Failed to decode JPEG image “%s”: %s before any image data",
               reader->path, reader->err.damage);
  return FALSE;
}

/* Whether every component's DC coefficients are complete: scanned, and
 * refined to their last bit. */
static gboolean
dc_is_complete (j_decompress_ptr cinfo)
{
  for (int c = 0; c < cinfo->num_components; c++)
    if (cinfo->coef_bits[c][0] != 0)
      return FALSE;
  return TRUE;
}

/* In buffered-image mode, at scale 1/8: reads the scans up to the end of
 * the last one the DC coefficients need (each scan's header sets the
 * precision it leaves, so the scan that completes them is the one that
 * ends with dc_is_complete()), or to the end of the file, and starts the
 * output of what was read.  The 1x1 inverse DCT reads only the DC
 * coefficient, and block smoothing is off, so the pixels are those of a
 * decode of the whole file at 1/8.  The data ending early is reported as
 * damage by the source, as in a full decode. */
static void
read_dc_scans (WpJpegReader *reader)
{
  j_decompress_ptr cinfo = &reader->cinfo;
  GError *cancelled = NULL;

  for (;;)
    {
      int status = jpeg_consume_input (cinfo);

      if (status == JPEG_REACHED_EOI || status == JPEG_SUSPENDED)
        break;
      if (status == JPEG_SCAN_COMPLETED && dc_is_complete (cinfo))
        break;
      if (g_cancellable_set_error_if_cancelled (reader->cancellable, &cancelled))
        fail ((j_common_ptr) cinfo, cancelled);
    }
  jpeg_start_output (cinfo, cinfo->input_scan_number);
}

/* The libjpeg part of wp_jpeg_reader_decode(): fills reader->pixbuf. */
static gboolean
reader_decode (WpJpegReader  *reader,
               int            min_width,
               int            min_height,
               GError       **error)
{
  j_decompress_ptr cinfo = &reader->cinfo;

  if (setjmp (reader->err.jump))
    {
      g_clear_pointer (&reader->cmyk_rows, g_free);
      jpeg_abort_decompress (&reader->cinfo);

      /* libjpeg's own error on corrupt data, after some rows: keep them. */
      if (reader->pixbuf != NULL && reader->rows_done > 0 &&
          reader->err.libjpeg_error &&
          g_error_matches (reader->err.error, GDK_PIXBUF_ERROR,
                           GDK_PIXBUF_ERROR_CORRUPT_IMAGE) &&
          !reader_decoded_nothing (reader))
        {
          g_assert (reader->err.damage != NULL);
          g_clear_error (&reader->err.error);
          fill_missing_rows (reader);
          return TRUE;
        }

      g_clear_object (&reader->pixbuf);
      reader_propagate_error (reader, error);
      return FALSE;
    }

  if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK)
    cinfo->out_color_space = JCS_CMYK;
  else
    cinfo->out_color_space = JCS_RGB;

  choose_scale (cinfo, min_width, min_height, reader->max_pixels, reader->fast);
  check_decode_limits (reader);
  if (reader->fast && cinfo->progressive_mode && cinfo->scale_num == 1)
    {
      cinfo->buffered_image = TRUE;
      /* Estimated AC coefficients would change the pixels. */
      cinfo->do_block_smoothing = FALSE;
    }
  jpeg_start_decompress (cinfo);
  if (cinfo->buffered_image)
    read_dc_scans (reader);

  reader->pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8,
                                   (int) cinfo->output_width,
                                   (int) cinfo->output_height);
  if (reader->pixbuf == NULL)
    {
      GError *oom = g_error_new (GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY,
                                 "Not enough memory to decode “%s” at %ux%u",
                                 reader->path, cinfo->output_width, cinfo->output_height);

      wp_memory_limit_note (oom);
      fail ((j_common_ptr) cinfo, oom);
    }

  if (cinfo->out_color_space == JCS_CMYK)
    reader->cmyk_rows = g_malloc_n ((gsize) cinfo->output_width * 4, ROWS_PER_READ);

  while (cinfo->output_scanline < cinfo->output_height)
    {
      guint8 *pixels = gdk_pixbuf_get_pixels (reader->pixbuf);
      gsize rowstride = (gsize) gdk_pixbuf_get_rowstride (reader->pixbuf);
      JDIMENSION first = cinfo->output_scanline;
      JDIMENSION n = MIN (ROWS_PER_READ, cinfo->output_height - first);
      JSAMPROW rows[ROWS_PER_READ];
      JDIMENSION i, got;

      for (i = 0; i < n; i++)
        {
          if (reader->cmyk_rows != NULL)
            rows[i] = reader->cmyk_rows + (gsize) i * cinfo->output_width * 4;
          else
            rows[i] = pixels + (first + i) * rowstride;
        }

      got = jpeg_read_scanlines (cinfo, rows, n);
      if (got == 0)
        fail ((j_common_ptr) cinfo, NULL);

      if (reader->cmyk_rows != NULL)
        for (i = 0; i < got; i++)
          convert_cmyk_row (rows[i], pixels + (first + i) * rowstride,
                            cinfo->output_width, cinfo->saw_Adobe_marker);

      reader->rows_done = first + got;

      /* Past the data of a file that ended: the rest is mid-grey. */
      if (reader->data_rows > 0 && reader->rows_done >= reader->data_rows &&
          reader->rows_done < cinfo->output_height)
        {
          g_assert (reader->err.damage != NULL);
          jpeg_abort_decompress (cinfo);
          g_clear_pointer (&reader->cmyk_rows, g_free);
          fill_missing_rows (reader);
          return !reader_decoded_nothing (reader) ||
                 reader_fail_nothing (reader, error);
        }
    }

  if (cinfo->buffered_image)
    {
      /* The AC scans are not needed: skipped.  Not jpeg_finish_output(),
       * which would read on to the next scan's header. */
      jpeg_abort_decompress (cinfo);
    }
  else
    {
      /* Reads up to EOI, so that a file truncated after the last row is
       * reported damaged. */
      jpeg_finish_decompress (cinfo);
    }

  g_clear_pointer (&reader->cmyk_rows, g_free);

  if (reader_decoded_nothing (reader))
    return reader_fail_nothing (reader, error);

  return TRUE;
}

/* Whether @b, after an FF byte, makes a marker that starts a segment or
 * a frame, rather than stuffing (00), fill (FF) or a restart (D0-D7). */
static gboolean
is_segment_marker (guint8 b)
{
  return b >= 0xC0 && b != 0xFF && !(b >= JPEG_RST0 && b <= JPEG_RST0 + 7);
}

/* The offset of the last marker in the first @size bytes of @fd, or 0. */
static guint64
find_last_marker (int     fd,
                  guint64 size)
{
  guint8 tail[SOURCE_BUFFER_SIZE + 2];
  gsize length = (gsize) MIN (size, (guint64) sizeof tail);
  guint64 start = size - length;
  gssize n;
  gsize i;

  do
    n = pread (fd, tail, length, (off_t) start);
  while (n < 0 && errno == EINTR);
  if (n != (gssize) length || length < 2)
    return 0;

  for (i = length - 2; i > 0; i--)
    if (tail[i] == 0xFF && is_segment_marker (tail[i + 1]))
      {
        while (i > 0 && tail[i - 1] == 0xFF)
          i--;
        return start + i;
      }

  return 0;
}

/* Whether a decode that failed with @error may be retried up to the last
 * marker of the file: a multi-scan file cut inside a marker segment
 * between scans (libjpeg, fed a fake EOI in a scan or table header,
 * fails before any row), whose scans before it hold the image. */
static gboolean
reader_may_retry (WpJpegReader *reader,
                  const GError *error)
{
  return g_error_matches (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE) &&
         reader->err.libjpeg_error && reader->source.hit_eof &&
         reader->source.limit == 0 && reader->rows_done == 0 &&
         reader->cinfo.input_scan_number > 1;
}

/* Decodes the file again, from its start with pread(), as if it ended at
 * its last marker. */
static gboolean
reader_retry (WpJpegReader  *reader,
              int            min_width,
              int            min_height,
              GError       **error)
{
  guint64 limit = find_last_marker (reader->source.fd, reader->source.bytes_read);

  if (limit <= reader->scan_data_offset)
    return FALSE;

  jpeg_destroy_decompress (&reader->cinfo);
  memset (&reader->cinfo, 0, sizeof reader->cinfo);
  reader->cinfo.err = &reader->err.pub;
  g_clear_pointer (&reader->icc_profile, g_bytes_unref);
  g_clear_pointer (&reader->err.damage, g_free);
  reader->err.libjpeg_error = FALSE;
  reader->source.bytes_read = 0;
  reader->source.hit_eof = FALSE;
  reader->source.limit = limit;
  reader->rows_done = 0;
  reader->data_rows = 0;

  return reader_read_header (reader, reader->source.fd, error) &&
         reader_decode (reader, min_width, min_height, error);
}

/**
 * wp_jpeg_reader_decode:
 * @reader: a reader whose image was not decoded yet
 * @min_width: the smallest width the caller can use, in stored orientation
 * @min_height: the smallest height, in stored orientation
 * @cancellable: (nullable): polled every few rows
 * @error: return location for an error
 *
 * Decodes the image once, at a DCT scale M/8 whose output is at least
 * @min_width x @min_height: preferably DECODE_GAP times that, and 1/8 only
 * when nothing larger is within the pixel limit (choose_scale()).  A
 * damaged file (truncated, corrupt data) decodes to what its data holds,
 * the rest mid-grey, and wp_jpeg_reader_get_damage() then says what was
 * wrong; one with no image data at all is an error.  Before
 * anything is allocated, fails with GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY
 * when that output is over wp_jpeg_reader_set_max_pixels()'s limit, or
 * when the decode needs more memory than the process's RLIMIT_AS leaves.
 *
 * Returns: (transfer full): an 8-bit RGB pixbuf without alpha, in stored
 *   orientation, or %NULL with @error set
 */
GdkPixbuf *
wp_jpeg_reader_decode (WpJpegReader  *reader,
                       int            min_width,
                       int            min_height,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean decoded;

  g_return_val_if_fail (reader != NULL, NULL);
  g_return_val_if_fail (!reader->decoded, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  reader->decoded = TRUE;
  reader->cancellable = cancellable;
  decoded = reader_decode (reader, min_width, min_height, &local_error);
  if (!decoded && reader_may_retry (reader, local_error))
    {
      g_autoptr(GError) retry_error = NULL;

      decoded = reader_retry (reader, min_width, min_height, &retry_error);
      if (decoded)
        g_clear_error (&local_error);
      else if (retry_error != NULL)
        g_debug ("%s: decoding up to the last marker failed too: %s",
                 reader->path, retry_error->message);
    }
  reader->cancellable = NULL;

  if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));

  return decoded ? g_steal_pointer (&reader->pixbuf) : NULL;
}

/**
 * wp_jpeg_reader_get_damage:
 * @reader: a reader
 *
 * What is wrong with a damaged file that decoded in part: libjpeg's first
 * message of lost data, such as "Premature end of JPEG file".
 *
 * Returns: (nullable): the damage, or %NULL when the file was intact so
 *   far (valid until @reader is freed)
 */
const char *
wp_jpeg_reader_get_damage (WpJpegReader *reader)
{
  g_return_val_if_fail (reader != NULL, NULL);

  return reader->err.damage;
}

/**
 * wp_jpeg_reader_free:
 * @reader: (nullable): a reader
 *
 * Frees @reader; the descriptor it was given stays open.
 */
void
wp_jpeg_reader_free (WpJpegReader *reader)
{
  if (reader == NULL)
    return;

  jpeg_destroy_decompress (&reader->cinfo);
  g_clear_object (&reader->pixbuf);
  g_free (reader->cmyk_rows);
  g_clear_pointer (&reader->icc_profile, g_bytes_unref);
  g_free (reader->err.damage);
  g_free (reader->path);
  g_free (reader);
}

/* ---- writing ---------------------------------------------------------- */

typedef struct {
  struct jpeg_destination_mgr  pub;
  GByteArray                  *bytes;
  JOCTET                       buffer[DESTINATION_BUFFER_SIZE];
} WpJpegDestination;

typedef struct {
  struct jpeg_compress_struct  cinfo;
  WpJpegErrorMgr               err;
  WpJpegDestination            destination;
} WpJpegWriter;

static void
destination_init (j_compress_ptr cinfo)
{
  WpJpegDestination *destination = (WpJpegDestination *) cinfo->dest;

  destination->pub.next_output_byte = destination->buffer;
  destination->pub.free_in_buffer = sizeof destination->buffer;
}

static boolean
destination_empty (j_compress_ptr cinfo)
{
  WpJpegDestination *destination = (WpJpegDestination *) cinfo->dest;

  /* libjpeg calls this with the buffer full, whatever free_in_buffer says. */
  g_byte_array_append (destination->bytes, destination->buffer,
                       sizeof destination->buffer);
  destination_init (cinfo);

  return TRUE;
}

static void
destination_term (j_compress_ptr cinfo)
{
  WpJpegDestination *destination = (WpJpegDestination *) cinfo->dest;

  g_byte_array_append (destination->bytes, destination->buffer,
                       sizeof destination->buffer - destination->pub.free_in_buffer);
}

static void
writer_free (WpJpegWriter *writer)
{
  jpeg_destroy_compress (&writer->cinfo);
  g_assert (writer->err.damage == NULL);
  g_clear_pointer (&writer->destination.bytes, g_byte_array_unref);
  g_free (writer);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WpJpegWriter, writer_free)

/* The libjpeg part of wp_jpeg_encode(): fills writer->destination.bytes. */
static gboolean
writer_encode (WpJpegWriter  *writer,
               GdkPixbuf     *pixbuf,
               int            quality,
               const char    *comment,
               GBytes        *icc_profile,
               GError       **error)
{
  j_compress_ptr cinfo = &writer->cinfo;

  if (setjmp (writer->err.jump))
    {
      g_propagate_error (error, g_steal_pointer (&writer->err.error));
      return FALSE;
    }

  jpeg_create_compress (cinfo);

  writer->destination.pub.init_destination = destination_init;
  writer->destination.pub.empty_output_buffer = destination_empty;
  writer->destination.pub.term_destination = destination_term;
  cinfo->dest = &writer->destination.pub;

  cinfo->image_width = (JDIMENSION) gdk_pixbuf_get_width (pixbuf);
  cinfo->image_height = (JDIMENSION) gdk_pixbuf_get_height (pixbuf);
  cinfo->input_components = 3;
  cinfo->in_color_space = JCS_RGB;
  jpeg_set_defaults (cinfo);
  jpeg_set_quality (cinfo, quality, TRUE);

  jpeg_start_compress (cinfo, TRUE);

  /* First after the JFIF header: readers find it in the first bytes,
   * whatever the size of the ICC profile. */
  if (comment != NULL)
    jpeg_write_marker (cinfo, JPEG_COM, (const JOCTET *) comment,
                       (unsigned int) strlen (comment));

  if (icc_profile != NULL && g_bytes_get_size (icc_profile) > 0)
    {
      gsize length;
      const JOCTET *data = g_bytes_get_data (icc_profile, &length);

      jpeg_write_icc_profile (cinfo, data, (unsigned int) length);
    }

  while (cinfo->next_scanline < cinfo->image_height)
    {
      const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);
      gsize rowstride = (gsize) gdk_pixbuf_get_rowstride (pixbuf);
      JSAMPROW row = (JSAMPROW) (pixels + cinfo->next_scanline * rowstride);

      jpeg_write_scanlines (cinfo, &row, 1);
    }

  jpeg_finish_compress (cinfo);

  return TRUE;
}

/**
 * wp_jpeg_encode:
 * @pixbuf: an 8-bit RGB pixbuf without alpha
 * @quality: JPEG quality, 1 to 100
 * @comment: (nullable): text for a COM segment, under 65534 bytes
 * @icc_profile: (nullable): an ICC profile to embed
 * @error: return location for an error
 *
 * Encodes @pixbuf as a baseline JFIF file with libjpeg's defaults (4:2:0
 * chroma subsampling), plus @comment in a COM segment right after the
 * JFIF header and @icc_profile in APP2 markers.
 *
 * Returns: (transfer full): the file's bytes, or %NULL with @error set
 */
GBytes *
wp_jpeg_encode (GdkPixbuf     *pixbuf,
                int            quality,
                const char    *comment,
                GBytes        *icc_profile,
                GError       **error)
{
  g_autoptr(WpJpegWriter) writer = NULL;

  g_return_val_if_fail (GDK_IS_PIXBUF (pixbuf), NULL);
  g_return_val_if_fail (gdk_pixbuf_get_colorspace (pixbuf) == GDK_COLORSPACE_RGB &&
                        gdk_pixbuf_get_bits_per_sample (pixbuf) == 8 &&
                        gdk_pixbuf_get_n_channels (pixbuf) == 3 &&
                        !gdk_pixbuf_get_has_alpha (pixbuf), NULL);
  g_return_val_if_fail (quality >= 1 && quality <= 100, NULL);
  g_return_val_if_fail (comment == NULL || strlen (comment) < 65534, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* g_new0(): jpeg_destroy_compress() is safe on a zeroed structure. */
  writer = g_new0 (WpJpegWriter, 1);
  writer->destination.bytes = g_byte_array_new ();
  error_mgr_init (&writer->err, NULL);
  writer->cinfo.err = &writer->err.pub;

  if (!writer_encode (writer, pixbuf, quality, comment, icc_profile, error))
    return NULL;

  return g_byte_array_free_to_bytes (g_steal_pointer (&writer->destination.bytes));
}

/* ---- EXIF ------------------------------------------------------------- */

static guint16
read_u16 (const guint8 *p,
          gboolean      big_endian)
{
  return big_endian ? (guint16) (p[0] << 8 | p[1])
                    : (guint16) (p[1] << 8 | p[0]);
}

static guint32
read_u32 (const guint8 *p,
          gboolean      big_endian)
{
  return big_endian ? (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3]
                    : (guint32) p[3] << 24 | (guint32) p[2] << 16 | (guint32) p[1] << 8 | p[0];
}

/**
 * wp_exif_get_orientation:
 * @app1: the payload of an APP1 marker (after its length)
 * @length: its length in bytes
 *
 * Finds the Orientation tag in the first IFD of an EXIF block.  Every
 * offset is checked against @length: any input is safe.
 *
 * Returns: the orientation, 1 to 8, or 0 when @app1 is not EXIF or has
 *   no valid orientation
 */
int
wp_exif_get_orientation (const guint8 *app1,
                         gsize         length)
{
  static const guint8 exif_header[6] = { 'E', 'x', 'i', 'f', 0, 0 };
  const guint8 *tiff;
  gsize tiff_length;
  gboolean big_endian;
  guint32 ifd;
  guint n_entries, i;

  if (app1 == NULL || length < sizeof exif_header + 8 ||
      memcmp (app1, exif_header, sizeof exif_header) != 0)
    return 0;

  tiff = app1 + sizeof exif_header;
  tiff_length = length - sizeof exif_header;

  if (tiff[0] == 'I' && tiff[1] == 'I')
    big_endian = FALSE;
  else if (tiff[0] == 'M' && tiff[1] == 'M')
    big_endian = TRUE;
  else
    return 0;

  if (read_u16 (tiff + 2, big_endian) != 42)
    return 0;

  ifd = read_u32 (tiff + 4, big_endian);
  if (ifd < 8 || ifd > tiff_length - 2)
    return 0;

  n_entries = read_u16 (tiff + ifd, big_endian);
  for (i = 0; i < n_entries; i++)
    {
      gsize entry = ifd + 2 + (gsize) i * 12;
      guint16 type, value;

      if (entry + 12 > tiff_length)
        return 0;

      if (read_u16 (tiff + entry, big_endian) != EXIF_TAG_ORIENTATION)
        continue;

      type = read_u16 (tiff + entry + 2, big_endian);
      if (type != TIFF_TYPE_SHORT || read_u32 (tiff + entry + 4, big_endian) < 1)
        return 0;

      value = read_u16 (tiff + entry + 8, big_endian);
      return value >= 1 && value <= 8 ? value : 0;
    }

  return 0;
}
