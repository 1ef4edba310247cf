/* test-damaged.c: thumbnails of damaged images, from what decodes.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Calls the thumbnail rules (from the plugin's static library) on damaged
 * files made here from intact ones, every case twice: through
 * wp_thumbnail_write() (/thumbnail/damaged/...) and through
 * wp_thumbnail_write_fds(), the source a descriptor at its end and the
 * thumbnail an empty file (/thumbnail/damaged/fds/...): JPEGs
 * truncated at several points of their scan data, missing their last
 * bytes, with corrupt entropy-coded data, a progressive one cut in a
 * scan or in a scan's header, and GIFs (written by the small encoder below, one LZW code per
 * pixel) whose later frame is cut or whose first frame is.  A damaged
 * file's thumbnail must match the intact file's where the data was
 * there, be mid-grey where it was not, and come with the damage named;
 * with strict it must fail and leave nothing; a file with nothing to
 * show must fail.  The plugin's `write` report and the bad-input corpus
 * are tested in test-thumbnail.c.
 */

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "wp-thumbnail.h"

#include "thumbnail-test-images.h"

#define WIDTH  640
#define HEIGHT 480
#define BOX    160   /* thumbnails 160x120: one pixel per 4x4 */
#define GREY   0x808080

/* The function the running test calls: set by run_case() before it. */
static gboolean via_fds;

/* ---- helpers ------------------------------------------------------------ */

static char *
make_temp_dir (void)
{
  return test_make_temp_dir ("wp-damaged-XXXXXX");
}

/* The gradient of thumbnail-test-images.c with deterministic noise, so
 * that every row costs about as many bytes of scan data. */
static GdkPixbuf *
noisy_gradient (void)
{
  g_autoptr(GdkPixbuf) pixbuf = test_pattern_gradient (WIDTH, HEIGHT);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int rowstride = gdk_pixbuf_get_rowstride (pixbuf);

  for (int y = 0; y < HEIGHT; y++)
    for (int x = 0; x < WIDTH * 3; x++)
      {
        int value = pixels[y * rowstride + x] + g_rand_int_range (rand, -24, 25);
        pixels[y * rowstride + x] = (guint8) CLAMP (value, 0, 255);
      }

  return g_steal_pointer (&pixbuf);
}

static void
write_bytes (const char   *path,
             const guint8 *data,
             gsize         length)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, (const char *) data, (gssize) length, &error);
  g_assert_no_error (error);
}

/* The offset of the @nth (from 1) SOS marker of a JPEG file. */
static gsize
scan_marker_offset (GBytes *jpeg,
                    guint   nth)
{
  gsize length;
  const guint8 *data = g_bytes_get_data (jpeg, &length);
  guint seen = 0;

  for (gsize i = 2; i + 3 < length; i++)
    if (data[i] == 0xFF && data[i + 1] == 0xDA && ++seen == nth)
      return i;

  g_assert_not_reached ();
}

/* The offset of the first byte after the @nth (from 1) SOS header of a
 * JPEG file: where that scan's entropy-coded data starts. */
static gsize
scan_data_start (GBytes *jpeg,
                 guint   nth)
{
  const guint8 *data = g_bytes_get_data (jpeg, NULL);
  gsize marker = scan_marker_offset (jpeg, nth);

  return marker + 2 + (gsize) (data[marker + 2] << 8 | data[marker + 3]);
}

/* Writes @source's thumbnail for a BOX x BOX box to @dir/@name; returns
 * it loaded, or NULL with @error set; @damage gets the damage. */
static GdkPixbuf *
thumbnail_full (const char  *source,
                const char  *dir,
                const char  *name,
                gboolean     strict,
                char       **damage,
                GError     **error)
{
  g_autofree char *destination = g_build_filename (dir, name, NULL);
  WpThumbnailRequest request = { destination, BOX, BOX, 0, 0 };
  WpThumbnailOptions options = WP_THUMBNAIL_OPTIONS_INIT;
  g_autoptr(GError) load_error = NULL;
  GdkPixbuf *pixbuf;

  options.quality = 95;
  options.strict = strict;
  if (via_fds)
    {
      int source_fd = open (source, O_RDONLY | O_CLOEXEC);
      int output_fd = open (destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      gboolean written;
      struct stat st;

      g_assert_cmpint (source_fd, >=, 0);
      g_assert_cmpint (output_fd, >=, 0);
      /* Read with pread(), from the start, whatever the offset. */
      g_assert_cmpint (lseek (source_fd, 0, SEEK_END), >, 0);
      written = wp_thumbnail_write_fds (source_fd, source, &output_fd, &request, 1,
                                        &options, damage, NULL, error);
      g_assert_cmpint (fstat (output_fd, &st), ==, 0);
      close (output_fd);
      close (source_fd);
      if (!written)
        {
          /* Written into only when the job succeeds; its caller discards it. */
          g_assert_cmpint (st.st_size, ==, 0);
          g_assert_cmpint (g_unlink (destination), ==, 0);
          return NULL;
        }
    }
  else if (!wp_thumbnail_write (source, &request, 1, &options, damage, NULL, error))
    {
      g_assert_false (g_file_test (destination, G_FILE_TEST_EXISTS));
      return NULL;
    }

  pixbuf = gdk_pixbuf_new_from_file (destination, &load_error);
  g_assert_no_error (load_error);
  return pixbuf;
}

/* The thumbnail of an intact file: no damage. */
static GdkPixbuf *
thumbnail_intact (const char *source,
                  const char *dir,
                  const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *damage = NULL;
  GdkPixbuf *pixbuf = thumbnail_full (source, dir, name, FALSE, &damage, &error);

  g_assert_no_error (error);
  g_assert_null (damage);
  return pixbuf;
}

/* The thumbnail of a damaged file, whose damage must start with
 * @expected. */
static GdkPixbuf *
thumbnail_damaged (const char *source,
                   const char *dir,
                   const char *name,
                   const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *damage = NULL;
  GdkPixbuf *pixbuf = thumbnail_full (source, dir, name, FALSE, &damage, &error);

  g_assert_no_error (error);
  g_assert_nonnull (damage);
  g_test_message ("%s: %s", name, damage);
  if (!g_str_has_prefix (damage, expected))
    g_error ("damage “%s” does not start with “%s”", damage, expected);
  return pixbuf;
}

/* The mean absolute difference of the channels of row @y of @a and @b. */
static double
row_difference (GdkPixbuf *a,
                GdkPixbuf *b,
                int        y)
{
  const guint8 *pa = gdk_pixbuf_read_pixels (a) + y * gdk_pixbuf_get_rowstride (a);
  const guint8 *pb = gdk_pixbuf_read_pixels (b) + y * gdk_pixbuf_get_rowstride (b);
  int n = gdk_pixbuf_get_width (a) * 3;
  double sum = 0;

  g_assert_cmpint (gdk_pixbuf_get_width (a), ==, gdk_pixbuf_get_width (b));
  for (int i = 0; i < n; i++)
    sum += ABS (pa[i] - pb[i]);
  return sum / n;
}

/* Whether every pixel of row @y is within @tolerance of mid-grey. */
static gboolean
row_is_grey (GdkPixbuf *pixbuf,
             int        y,
             int        tolerance)
{
  for (int x = 0; x < gdk_pixbuf_get_width (pixbuf); x++)
    if (!test_colour_near (test_pixel (pixbuf, x, y), GREY, tolerance))
      return FALSE;
  return TRUE;
}

/* The intact noisy gradient as a JPEG in @dir, and its bytes. */
static GBytes *
write_intact_jpeg (const char *path,
                   gboolean    progressive)
{
  g_autoptr(GdkPixbuf) pattern = noisy_gradient ();
  TestJpegOptions options = { 0, };

  options.progressive = progressive;
  test_write_jpeg (path, pattern, &options);
  return test_read_bytes (path);
}

/* ---- JPEG --------------------------------------------------------------- */

/* A JPEG test's folder, with the intact noisy gradient, its bytes and
 * its thumbnail, and where to write the damaged file. */
typedef struct {
  char      *dir;
  char      *intact;
  char      *cut;
  GBytes    *bytes;
  GdkPixbuf *expected;
} JpegCase;

static JpegCase
jpeg_case_make (gboolean progressive)
{
  JpegCase c;

  c.dir = make_temp_dir ();
  c.intact = g_build_filename (c.dir, "intact.jpg", NULL);
  c.cut = g_build_filename (c.dir, "cut.jpg", NULL);
  c.bytes = write_intact_jpeg (c.intact, progressive);
  c.expected = thumbnail_intact (c.intact, c.dir, "intact-thumb.jpg");
  return c;
}

static void
jpeg_case_clear (JpegCase *c)
{
  test_remove_dir (c->dir);
  g_free (c->dir);
  g_free (c->intact);
  g_free (c->cut);
  g_bytes_unref (c->bytes);
  g_object_unref (c->expected);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (JpegCase, jpeg_case_clear)

typedef struct {
  const char *name;
  double      kept;   /* of the scan data */
} Truncation;

static const Truncation truncations[] = {
  { "jpeg/truncated/25", 0.25 },
  { "jpeg/truncated/50", 0.50 },
  { "jpeg/truncated/90", 0.90 },
};

static void
test_jpeg_truncated (gconstpointer data)
{
  const Truncation *truncation = data;
  g_auto(JpegCase) c = jpeg_case_make (FALSE);
  g_autoptr(GdkPixbuf) thumb = NULL;
  gsize length, start = scan_data_start (c.bytes, 1), end;
  const guint8 *jpeg = g_bytes_get_data (c.bytes, &length);
  int height, top, bottom, y;

  g_test_summary ("A baseline JPEG cut in its scan data gets a thumbnail that "
                  "matches the intact file's above the cut and is mid-grey below, "
                  "damaged: “Premature end of JPEG file”");

  end = start + (gsize) ((double) (length - 2 - start) * truncation->kept);
  write_bytes (c.cut, jpeg, end);
  thumb = thumbnail_damaged (c.cut, c.dir, "cut-thumb.jpg", "Premature end of JPEG file");

  height = gdk_pixbuf_get_height (thumb);
  g_assert_cmpint (gdk_pixbuf_get_width (thumb), ==, BOX);
  g_assert_cmpint (height, ==, BOX * HEIGHT / WIDTH);

  /* The rows cost about the same: the cut is near kept * height, give or
   * take a 16-row MCU row (4 thumbnail rows) and the filter's reach. */
  top = (int) (truncation->kept * height) - 8;
  bottom = (int) (truncation->kept * height) + 8;
  for (y = 0; y < top; y++)
    if (row_difference (thumb, c.expected, y) > 2.0)
      g_error ("row %d differs from the intact thumbnail's by %.1f", y,
               row_difference (thumb, c.expected, y));
  for (y = bottom; y < height; y++)
    if (!row_is_grey (thumb, y, 6))
      g_error ("row %d is not mid-grey", y);
  g_assert_cmpint (top, >, 0);
}

static void
test_jpeg_header_only (gconstpointer data)
{
  g_auto(JpegCase) c = jpeg_case_make (FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) thumb = NULL;
  g_autofree char *damage = NULL;

  g_test_summary ("A JPEG cut right after its headers has nothing to show: it "
                  "fails, writing nothing");

  write_bytes (c.cut, g_bytes_get_data (c.bytes, NULL), scan_data_start (c.bytes, 1));
  thumb = thumbnail_full (c.cut, c.dir, "cut-thumb.jpg", FALSE, &damage, &error);
  g_assert_null (thumb);
  g_assert_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE);
  g_assert_nonnull (strstr (error->message, "Premature end of JPEG file before any image data"));
  g_assert_nonnull (strstr (error->message, c.cut));
  g_assert_null (damage);
}

static void
test_jpeg_missing_end (gconstpointer data)
{
  g_auto(JpegCase) c = jpeg_case_make (FALSE);
  g_autoptr(GdkPixbuf) thumb = NULL;
  gsize length;
  const guint8 *jpeg = g_bytes_get_data (c.bytes, &length);

  g_test_summary ("A JPEG missing its last 14 bytes gets the intact file's "
                  "thumbnail but for its last MCU row, damaged");

  write_bytes (c.cut, jpeg, length - 14);
  thumb = thumbnail_damaged (c.cut, c.dir, "cut-thumb.jpg", "Premature end of JPEG file");
  for (int y = 0; y < gdk_pixbuf_get_height (thumb) - 6; y++)
    g_assert_cmpfloat (row_difference (thumb, c.expected, y), <=, 2.0);
}

static void
test_jpeg_corrupt_data (gconstpointer data)
{
  g_auto(JpegCase) c = jpeg_case_make (FALSE);
  g_autofree char *corrupt = g_build_filename (c.dir, "corrupt.jpg", NULL);
  g_autoptr(GdkPixbuf) thumb = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  gsize length = g_bytes_get_size (c.bytes), start = scan_data_start (c.bytes, 1), middle;
  g_autofree guint8 *jpeg = g_memdup2 (g_bytes_get_data (c.bytes, NULL), length);

  g_test_summary ("A JPEG with corrupt entropy-coded data in its middle gets "
                  "a thumbnail whose top is the intact file's, damaged: "
                  "“Corrupt JPEG data: …”");

  /* A stray marker, then random bytes, from the middle of the scan. */
  middle = start + (length - start) / 2;
  jpeg[middle] = 0xFF;
  jpeg[middle + 1] = 0xD4;
  for (gsize i = middle + 2; i < middle + 64; i++)
    jpeg[i] = (guint8) g_rand_int_range (rand, 0, 0xFF);
  write_bytes (corrupt, jpeg, length);

  thumb = thumbnail_damaged (corrupt, c.dir, "corrupt-thumb.jpg", "Corrupt JPEG data: ");
  for (int y = 0; y < gdk_pixbuf_get_height (thumb) / 2 - 8; y++)
    g_assert_cmpfloat (row_difference (thumb, c.expected, y), <=, 2.0);
}

static void
test_jpeg_progressive_truncated (gconstpointer data)
{
  g_auto(JpegCase) c = jpeg_case_make (TRUE);
  g_autoptr(GdkPixbuf) thumb = NULL;
  gsize length, start = scan_data_start (c.bytes, 2), next = scan_data_start (c.bytes, 3);
  const guint8 *jpeg = g_bytes_get_data (c.bytes, &length);
  double total = 0;
  int height;

  g_test_summary ("A progressive JPEG cut in its second scan gets a thumbnail "
                  "from the scans present: the whole picture, coarser, damaged");

  write_bytes (c.cut, jpeg, start + (next - start) / 2);
  thumb = thumbnail_damaged (c.cut, c.dir, "cut-thumb.jpg", "Premature end of JPEG file");

  /* The first scan has every block's average: every row is about right,
   * the bottom one too, nothing is grey. */
  height = gdk_pixbuf_get_height (thumb);
  for (int y = 0; y < height; y++)
    {
      double difference = row_difference (thumb, c.expected, y);

      g_assert_cmpfloat (difference, <, 24.0);
      total += difference;
    }
  g_assert_cmpfloat (total / height, <, 12.0);
  g_assert_false (row_is_grey (thumb, height - 1, 16));
}

static void
test_jpeg_progressive_cut_in_header (gconstpointer data)
{
  g_auto(JpegCase) c = jpeg_case_make (TRUE);
  g_autoptr(GdkPixbuf) thumb = NULL;
  const guint8 *jpeg = g_bytes_get_data (c.bytes, NULL);
  int height;

  g_test_summary ("A progressive JPEG cut inside the header of its third scan, "
                  "which libjpeg cannot get past, gets a thumbnail from its first "
                  "two scans, damaged");

  /* FF DA and half of its length field. */
  write_bytes (c.cut, jpeg, scan_marker_offset (c.bytes, 3) + 3);
  thumb = thumbnail_damaged (c.cut, c.dir, "cut-thumb.jpg", "Premature end of JPEG file");

  height = gdk_pixbuf_get_height (thumb);
  for (int y = 0; y < height; y++)
    g_assert_cmpfloat (row_difference (thumb, c.expected, y), <, 24.0);
  g_assert_false (row_is_grey (thumb, height - 1, 16));
}

static void
test_jpeg_strict (gconstpointer data)
{
  g_auto(JpegCase) c = jpeg_case_make (FALSE);
  g_autofree char *message = g_strdup_printf ("Image “%s” is damaged: Premature end "
                                              "of JPEG file", c.cut);
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) thumb = NULL;
  g_autofree char *damage = NULL;

  g_test_summary ("With strict, a damaged JPEG is GDK_PIXBUF_ERROR_CORRUPT_IMAGE "
                  "naming the file and the damage, and nothing is written");

  write_bytes (c.cut, g_bytes_get_data (c.bytes, NULL), g_bytes_get_size (c.bytes) / 2);
  thumb = thumbnail_full (c.cut, c.dir, "cut-thumb.jpg", TRUE, &damage, &error);
  g_assert_null (thumb);
  g_assert_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE);
  g_assert_cmpstr (error->message, ==, message);
  g_assert_null (damage);
}

/* ---- GIF ---------------------------------------------------------------- */

/* Bits, least significant first, as LZW codes go in a GIF. */
typedef struct {
  GByteArray *bytes;
  guint32     accumulator;
  guint       n_bits;
} BitWriter;

static void
put_code (BitWriter *writer,
          guint      code,
          guint      width)
{
  writer->accumulator |= code << writer->n_bits;
  writer->n_bits += width;
  while (writer->n_bits >= 8)
    {
      guint8 byte = writer->accumulator & 0xFF;

      g_byte_array_append (writer->bytes, &byte, 1);
      writer->accumulator >>= 8;
      writer->n_bits -= 8;
    }
}

/* One frame of @width x @height of a 4-colour GIF: its image descriptor
 * and its data, one clear code before each pixel's code, so that every
 * code is 3 bits wide and no table is ever built. */
static void
append_frame (GByteArray   *gif,
              int           width,
              int           height,
              const guint8 *indices)
{
  enum { MIN_CODE_SIZE = 2, CLEAR = 4, END = 5, CODE_WIDTH = 3 };
  g_autoptr(GByteArray) codes = g_byte_array_new ();
  BitWriter writer = { codes, 0, 0 };
  const guint8 descriptor[] = {
    0x2C, 0, 0, 0, 0, width & 0xFF, width >> 8, height & 0xFF, height >> 8, 0,
    MIN_CODE_SIZE,
  };
  const guint8 terminator = 0;

  for (int i = 0; i < width * height; i++)
    {
      put_code (&writer, CLEAR, CODE_WIDTH);
      put_code (&writer, indices[i], CODE_WIDTH);
    }
  put_code (&writer, END, CODE_WIDTH);
  put_code (&writer, 0, 7);  /* flush */

  g_byte_array_append (gif, descriptor, sizeof descriptor);
  for (guint offset = 0; offset < codes->len; offset += 255)
    {
      guint8 size = (guint8) MIN (255, codes->len - offset);

      g_byte_array_append (gif, &size, 1);
      g_byte_array_append (gif, codes->data + offset, size);
    }
  g_byte_array_append (gif, &terminator, 1);
}

#define GIF_SIDE 32

/* A 2-frame GIF: red left, blue right; then all green.  @frame_ends gets
 * the offsets after the first and the second frame. */
static GBytes *
two_frame_gif (gsize frame_ends[2])
{
  static const guint8 header[] = {
    'G', 'I', 'F', '8', '9', 'a', GIF_SIDE, 0, GIF_SIDE, 0,
    0x81, 0, 0,                                    /* a 4-colour table */
    0xDC, 0x14, 0x14,  0x14, 0x14, 0xDC,  0x14, 0xC8, 0x14,  0, 0, 0,
  };
  static const guint8 graphic_control[] = { 0x21, 0xF9, 4, 0, 10, 0, 0, 0 };
  guint8 first[GIF_SIDE * GIF_SIDE], second[GIF_SIDE * GIF_SIDE];
  GByteArray *gif = g_byte_array_new ();
  const guint8 trailer = 0x3B;

  for (int y = 0; y < GIF_SIDE; y++)
    for (int x = 0; x < GIF_SIDE; x++)
      {
        first[y * GIF_SIDE + x] = x < GIF_SIDE / 2 ? 0 : 1;
        second[y * GIF_SIDE + x] = 2;
      }

  g_byte_array_append (gif, header, sizeof header);
  g_byte_array_append (gif, graphic_control, sizeof graphic_control);
  append_frame (gif, GIF_SIDE, GIF_SIDE, first);
  frame_ends[0] = gif->len;
  g_byte_array_append (gif, graphic_control, sizeof graphic_control);
  append_frame (gif, GIF_SIDE, GIF_SIDE, second);
  frame_ends[1] = gif->len;
  g_byte_array_append (gif, &trailer, 1);

  return g_byte_array_free_to_bytes (gif);
}

static void
assert_first_frame (GdkPixbuf *thumb)
{
  g_assert_cmpint (gdk_pixbuf_get_width (thumb), ==, GIF_SIDE);
  g_assert_true (test_colour_near (test_pixel (thumb, 4, 16), TEST_RED, 16));
  g_assert_true (test_colour_near (test_pixel (thumb, 27, 16), TEST_BLUE, 16));
}

static void
test_gif_intact (gconstpointer data)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "intact.gif", NULL);
  gsize frame_ends[2];
  g_autoptr(GBytes) gif = two_frame_gif (frame_ends);
  g_autoptr(GdkPixbuf) thumb = NULL;

  g_test_summary ("The test's 2-frame GIF is intact: its thumbnail is its first "
                  "frame, with no damage");

  write_bytes (path, g_bytes_get_data (gif, NULL), g_bytes_get_size (gif));
  thumb = thumbnail_intact (path, dir, "thumb.jpg");
  assert_first_frame (thumb);
  test_remove_dir (dir);
}

static void
test_gif_later_frame_cut (gconstpointer data)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "cut.gif", NULL);
  gsize frame_ends[2];
  g_autoptr(GBytes) gif = two_frame_gif (frame_ends);
  g_autoptr(GdkPixbuf) thumb = NULL;

  g_test_summary ("A GIF cut in its second frame gets a thumbnail of its "
                  "intact first frame, damaged: “frame 2 of the GIF is damaged: …”");

  write_bytes (path, g_bytes_get_data (gif, NULL),
               frame_ends[0] + (frame_ends[1] - frame_ends[0]) / 2);
  thumb = thumbnail_damaged (path, dir, "thumb.jpg", "frame 2 of the GIF is damaged: ");
  assert_first_frame (thumb);
  test_remove_dir (dir);
}

static void
test_gif_first_frame_cut (gconstpointer data)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "cut.gif", NULL);
  gsize frame_ends[2];
  g_autoptr(GBytes) gif = two_frame_gif (frame_ends);
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) thumb = NULL;
  g_autofree char *damage = NULL;

  g_test_summary ("A GIF cut in its first frame fails, writing nothing");

  write_bytes (path, g_bytes_get_data (gif, NULL), frame_ends[0] / 2);
  thumb = thumbnail_full (path, dir, "thumb.jpg", FALSE, &damage, &error);
  g_assert_null (thumb);
  /* The loader's own error. */
  g_assert_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INCOMPLETE_ANIMATION);
  g_assert_nonnull (strstr (error->message, path));
  test_remove_dir (dir);
}

static void
test_gif_strict (gconstpointer data)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "cut.gif", NULL);
  gsize frame_ends[2];
  g_autoptr(GBytes) gif = two_frame_gif (frame_ends);
  g_autofree char *expected = g_strdup_printf ("Image “%s” is damaged: frame 2 of the "
                                               "GIF is damaged: ", path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) thumb = NULL;

  g_test_summary ("With strict, a GIF whose second frame is cut fails, writing "
                  "nothing");

  write_bytes (path, g_bytes_get_data (gif, NULL), frame_ends[1] - 8);
  thumb = thumbnail_full (path, dir, "thumb.jpg", TRUE, NULL, &error);
  g_assert_null (thumb);
  g_assert_error (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE);
  g_assert_true (g_str_has_prefix (error->message, expected));
  test_remove_dir (dir);
}

/* A test and its data, run through one of the two functions. */
typedef struct {
  char          *path;
  GTestDataFunc  func;
  gconstpointer  data;
  gboolean       via_fds;
} Case;

static void
run_case (gconstpointer data)
{
  const Case *c = data;

  via_fds = c->via_fds;
  c->func (c->data);
}

/* Adds /thumbnail/damaged/@name and /thumbnail/damaged/fds/@name. */
static void
add_case (GPtrArray     *cases,
          const char    *name,
          GTestDataFunc  func,
          gconstpointer  data)
{
  for (int fds = 0; fds <= 1; fds++)
    {
      Case *c = g_new0 (Case, 1);

      c->path = g_strconcat ("/thumbnail/damaged/", fds ? "fds/" : "", name, NULL);
      c->func = func;
      c->data = data;
      c->via_fds = fds;
      g_ptr_array_add (cases, c);
      g_test_add_data_func (c->path, c, run_case);
    }
}

static void
case_free (gpointer data)
{
  Case *c = data;

  g_free (c->path);
  g_free (c);
}

#define ADD(name, func) add_case (cases, name, func, NULL)

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (case_free);

  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (truncations); i++)
    add_case (cases, truncations[i].name, test_jpeg_truncated, &truncations[i]);
  ADD ("jpeg/header-only", test_jpeg_header_only);
  ADD ("jpeg/missing-end", test_jpeg_missing_end);
  ADD ("jpeg/corrupt-data", test_jpeg_corrupt_data);
  ADD ("jpeg/progressive", test_jpeg_progressive_truncated);
  ADD ("jpeg/progressive-cut-in-header", test_jpeg_progressive_cut_in_header);
  ADD ("jpeg/strict", test_jpeg_strict);
  ADD ("gif/intact", test_gif_intact);
  ADD ("gif/later-frame-cut", test_gif_later_frame_cut);
  ADD ("gif/first-frame-cut", test_gif_first_frame_cut);
  ADD ("gif/strict", test_gif_strict);

  return g_test_run ();
}
