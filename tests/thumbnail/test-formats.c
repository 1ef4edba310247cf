/* test-formats.c: formats other than JPEG: orientation, icons, formats without a loader.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Calls the thumbnail rules (wp_thumbnail_write(), from the plugin's
 * static library) on images drawn here, in a temporary directory:
 *
 *  - TIFF (Orientation tag), PNG (`eXIf` chunk) and WebP (EXIF chunk)
 *    files in each of the 8 EXIF orientations, whose thumbnails are
 *    pixel-checked quadrant by quadrant;
 *  - HEIC and AVIF files made by heif-enc and avifenc (libheif-examples,
 *    libavif-bin) from a JPEG with EXIF orientation 6: turned once, by
 *    the container's `irot`/`imir` when it has them, else by the EXIF
 *    tag; with libheif's loader and with libavif's alone;
 *  - ICO files with 16, 48 (BMP) and 256 px (PNG) entries of different
 *    colours: the 256 px one is taken, or the 48 px one when the 256 px
 *    entry is damaged;
 *  - wp_format_sniff() on the heads of real WebP, AVIF and HEIC files and
 *    of other formats.
 *
 * The WebP, HEIF and AVIF gdk-pixbuf loaders and the two encoders must be
 * installed (CI installs them: .ci/run); a missing one fails the test,
 * saying what to install, rather than skipping it.
 */

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "wp-exif.h"
#include "wp-format.h"
#include "wp-image.h"
#include "wp-thumbnail.h"

#include "thumbnail-test-images.h"

#define STORED_WIDTH  320
#define STORED_HEIGHT 160

/* ---- helpers ---------------------------------------------------------- */

static char *
make_temp_dir (void)
{
  return test_make_temp_dir ("wp-formats-XXXXXX");
}

static void
put16 (GByteArray *bytes,
       guint       value)
{
  guint8 p[2] = { value & 0xFF, (value >> 8) & 0xFF };
  g_byte_array_append (bytes, p, 2);
}

static void
put32 (GByteArray *bytes,
       guint32     value)
{
  guint8 p[4] = { value & 0xFF, (value >> 8) & 0xFF, (value >> 16) & 0xFF, value >> 24 };
  g_byte_array_append (bytes, p, 4);
}

static void
put32_be (GByteArray *bytes,
          guint32     value)
{
  guint8 p[4] = { value >> 24, (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF };
  g_byte_array_append (bytes, p, 4);
}

static void
write_bytes (const char *path,
             GByteArray *bytes)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, (const char *) bytes->data, bytes->len, &error);
  g_assert_no_error (error);
}

static GByteArray *
save_to_bytes (GdkPixbuf  *pixbuf,
               const char *type)
{
  g_autoptr(GError) error = NULL;
  char *buffer = NULL;
  gsize length = 0;

  if (!gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &length, type, &error, NULL))
    g_error ("cannot write a %s file (is its gdk-pixbuf loader installed? "
             "Debian: webp-pixbuf-loader for WebP): %s", type, error->message);

  return g_byte_array_new_take ((guint8 *) buffer, length);
}

/* An EXIF block with one tag, Orientation: a little-endian TIFF header and
 * IFD, after "Exif\0\0" when @jpeg_prefix (as some WebP writers do). */
static GByteArray *
exif_block (int      orientation,
            gboolean jpeg_prefix)
{
  GByteArray *exif = g_byte_array_new ();

  if (jpeg_prefix)
    g_byte_array_append (exif, (const guint8 *) "Exif\0\0", 6);
  g_byte_array_append (exif, (const guint8 *) "II*\0", 4);
  put32 (exif, 8);
  put16 (exif, 1);
  put16 (exif, 0x0112);
  put16 (exif, 3);   /* SHORT */
  put32 (exif, 1);
  put16 (exif, (guint) orientation);
  put16 (exif, 0);
  put32 (exif, 0);   /* no next IFD */

  return exif;
}

/* ---- test images ------------------------------------------------------ */

/* A baseline uncompressed RGB TIFF with an Orientation tag. */
static void
write_tiff (const char *path,
            GdkPixbuf  *pixbuf,
            int         orientation)
{
  const int n_entries = 10;
  int width = gdk_pixbuf_get_width (pixbuf), height = gdk_pixbuf_get_height (pixbuf);
  guint32 bits_offset = 8 + 2 + n_entries * 12 + 4;
  guint32 data_offset = bits_offset + 6;
  g_autoptr(GByteArray) tiff = g_byte_array_new ();
  int y;

  g_assert_cmpint (gdk_pixbuf_get_n_channels (pixbuf), ==, 3);

  g_byte_array_append (tiff, (const guint8 *) "II*\0", 4);
  put32 (tiff, 8);
  put16 (tiff, n_entries);
#define ENTRY(tag, type, count, value) \
  G_STMT_START { put16 (tiff, tag); put16 (tiff, type); put32 (tiff, count); \
                 if (type == 3 && count == 1) { put16 (tiff, value); put16 (tiff, 0); } \
                 else put32 (tiff, value); } G_STMT_END
  ENTRY (256, 4, 1, (guint32) width);           /* ImageWidth */
  ENTRY (257, 4, 1, (guint32) height);          /* ImageLength */
  ENTRY (258, 3, 3, bits_offset);               /* BitsPerSample: 8,8,8 */
  ENTRY (259, 3, 1, 1);                         /* Compression: none */
  ENTRY (262, 3, 1, 2);                         /* PhotometricInterpretation: RGB */
  ENTRY (273, 4, 1, data_offset);               /* StripOffsets */
  ENTRY (274, 3, 1, (guint32) orientation);     /* Orientation */
  ENTRY (277, 3, 1, 3);                         /* SamplesPerPixel */
  ENTRY (278, 4, 1, (guint32) height);          /* RowsPerStrip */
  ENTRY (279, 4, 1, (guint32) (width * height * 3)); /* StripByteCounts */
#undef ENTRY
  put32 (tiff, 0);
  g_assert_cmpuint (tiff->len, ==, bits_offset);
  put16 (tiff, 8);
  put16 (tiff, 8);
  put16 (tiff, 8);

  for (y = 0; y < height; y++)
    g_byte_array_append (tiff, gdk_pixbuf_read_pixels (pixbuf) + y * gdk_pixbuf_get_rowstride (pixbuf),
                         (guint) width * 3);

  write_bytes (path, tiff);
}

/* A PNG (gdk-pixbuf's) with an `eXIf` chunk, before the image data when
 * @early, else between the image data and IEND. */
static void
write_png_exif (const char *path,
                GdkPixbuf  *pixbuf,
                int         orientation,
                gboolean    early)
{
  g_autoptr(GByteArray) png = save_to_bytes (pixbuf, "png");
  g_autoptr(GByteArray) exif = exif_block (orientation, FALSE);
  g_autoptr(GByteArray) chunk = g_byte_array_new ();
  guint insert_at = early ? 8 + 25 : png->len - 12;  /* after IHDR; before IEND */

  g_assert_cmpmem (png->data + 12, 4, "IHDR", 4);
  g_assert_cmpmem (png->data + png->len - 8, 4, "IEND", 4);

  put32_be (chunk, exif->len);
  g_byte_array_append (chunk, (const guint8 *) "eXIf", 4);
  g_byte_array_append (chunk, exif->data, exif->len);
  put32_be (chunk, test_png_crc (chunk->data + 4, chunk->len - 4));

  g_byte_array_prepend (chunk, png->data, insert_at);
  g_byte_array_append (chunk, png->data + insert_at, png->len - insert_at);
  write_bytes (path, chunk);
}

/* A WebP (the loader's writer) turned into the extended format: a VP8X
 * chunk flagging EXIF, the image's chunk, then an EXIF chunk. */
static void
write_webp_exif (const char *path,
                 GdkPixbuf  *pixbuf,
                 int         orientation,
                 gboolean    jpeg_prefix)
{
  g_autoptr(GByteArray) simple = save_to_bytes (pixbuf, "webp");
  g_autoptr(GByteArray) exif = exif_block (orientation, jpeg_prefix);
  g_autoptr(GByteArray) webp = g_byte_array_new ();
  guint32 canvas_width = (guint32) gdk_pixbuf_get_width (pixbuf) - 1;
  guint32 canvas_height = (guint32) gdk_pixbuf_get_height (pixbuf) - 1;
  guint8 vp8x[10] = { 0x08, 0, 0, 0,
                      canvas_width & 0xFF, (canvas_width >> 8) & 0xFF, canvas_width >> 16,
                      canvas_height & 0xFF, (canvas_height >> 8) & 0xFF, canvas_height >> 16 };

  g_assert_cmpmem (simple->data, 4, "RIFF", 4);
  g_assert_cmpmem (simple->data + 8, 4, "WEBP", 4);
  g_assert_true (memcmp (simple->data + 12, "VP8", 3) == 0);

  g_byte_array_append (webp, (const guint8 *) "RIFF\0\0\0\0WEBPVP8X", 16);
  put32 (webp, sizeof vp8x);
  g_byte_array_append (webp, vp8x, sizeof vp8x);
  g_byte_array_append (webp, simple->data + 12, simple->len - 12);
  g_byte_array_append (webp, (const guint8 *) "EXIF", 4);
  put32 (webp, exif->len);
  g_byte_array_append (webp, exif->data, exif->len);
  if (exif->len & 1)
    g_byte_array_append (webp, (const guint8 *) "", 1);

  webp->data[4] = (webp->len - 8) & 0xFF;
  webp->data[5] = ((webp->len - 8) >> 8) & 0xFF;
  webp->data[6] = ((webp->len - 8) >> 16) & 0xFF;
  webp->data[7] = (webp->len - 8) >> 24;
  write_bytes (path, webp);
}

/* A 32-bit BMP entry of an ICO file: BITMAPINFOHEADER (height doubled
 * for the AND mask), BGRA rows bottom up, an all-opaque AND mask. */
static GByteArray *
ico_dib (int     side,
         guint32 colour)
{
  GByteArray *dib = g_byte_array_new ();
  guint mask_row = (guint) ((side + 31) / 32 * 4);
  int i;

  put32 (dib, 40);
  put32 (dib, (guint32) side);
  put32 (dib, (guint32) side * 2);
  put16 (dib, 1);
  put16 (dib, 32);
  put32 (dib, 0);
  put32 (dib, (guint32) (side * side * 4 + mask_row * side));
  put32 (dib, 0);
  put32 (dib, 0);
  put32 (dib, 0);
  put32 (dib, 0);
  for (i = 0; i < side * side; i++)
    {
      guint8 bgra[4] = { colour & 0xFF, (colour >> 8) & 0xFF, colour >> 16, 0xFF };
      g_byte_array_append (dib, bgra, 4);
    }
  for (i = 0; i < (int) mask_row * side; i++)
    g_byte_array_append (dib, (const guint8 *) "", 1);

  return dib;
}

/* An icon of three entries, in this order in the file: 16 px red (BMP),
 * 256 px quadrants (PNG; cut short when @damage_256), 48 px green (BMP). */
static void
write_ico (const char *path,
           gboolean    damage_256)
{
  g_autoptr(GdkPixbuf) quadrants = test_pattern_quadrants (256, 256);
  g_autoptr(GByteArray) png = save_to_bytes (quadrants, "png");
  g_autoptr(GByteArray) red = ico_dib (16, 0xFF0000);
  g_autoptr(GByteArray) green = ico_dib (48, 0x00FF00);
  g_autoptr(GByteArray) ico = g_byte_array_new ();
  GByteArray *entries[3] = { red, png, green };
  const int sides[3] = { 16, 256, 48 };
  guint32 offset = 6 + 3 * 16;
  int i;

  if (damage_256)
    g_byte_array_set_size (png, png->len / 2);

  put16 (ico, 0);
  put16 (ico, 1);
  put16 (ico, 3);
  for (i = 0; i < 3; i++)
    {
      guint8 size = (guint8) (sides[i] == 256 ? 0 : sides[i]);
      guint8 head[4] = { size, size, 0, 0 };

      g_byte_array_append (ico, head, 4);
      put16 (ico, 1);
      put16 (ico, 32);
      put32 (ico, entries[i]->len);
      put32 (ico, offset);
      offset += entries[i]->len;
    }
  for (i = 0; i < 3; i++)
    g_byte_array_append (ico, entries[i]->data, entries[i]->len);

  write_bytes (path, ico);
}

/* Runs @program with @argv, which must succeed. */
static void
run_tool (const char  *package,
          const char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *program = g_find_program_in_path (argv[0]);
  g_autofree char *err = NULL;
  int status;

  if (program == NULL)
    g_error ("%s is not installed: this test needs it (Debian package %s)", argv[0], package);

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("%s failed: %s\n%s", argv[0], error->message, err);
}

/* ---- checks ----------------------------------------------------------- */

/* The displayed size and format name the image opens with. */
static void
assert_info (const char *source,
             int         width,
             int         height,
             const char *format)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(WpImage) image = wp_image_open (source, WP_THUMBNAIL_MAX_PIXELS, NULL, &error);
  int info_width, info_height;

  g_assert_no_error (error);
  wp_image_get_size (image, &info_width, &info_height);
  g_assert_cmpint (info_width, ==, width);
  g_assert_cmpint (info_height, ==, height);
  if (format != NULL)
    g_assert_cmpstr (wp_image_get_format_name (image), ==, format);
}

/* Writes @source's thumbnail for a @box x @box box and loads it. */
static GdkPixbuf *
thumbnail (const char *source,
           const char *dir,
           int         box)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strdup_printf ("thumb-%d.jpg", box);
  g_autofree char *destination = g_build_filename (dir, name, NULL);
  WpThumbnailRequest request = { destination, box, box, 0, 0 };
  WpThumbnailOptions options = WP_THUMBNAIL_OPTIONS_INIT;
  GdkPixbuf *pixbuf;

  options.quality = 95;
  g_assert_true (wp_thumbnail_write (source, &request, 1, &options, NULL, NULL, &error));
  g_assert_no_error (error);

  pixbuf = gdk_pixbuf_new_from_file (destination, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, request.width);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, request.height);
  return pixbuf;
}

/* Full size and reduced: the right size and every quadrant in place. */
static void
assert_oriented (const char *source,
                 const char *dir,
                 int         orientation,
                 const char *format)
{
  gboolean swapped = orientation >= 5;
  g_autoptr(GdkPixbuf) full = NULL;
  g_autoptr(GdkPixbuf) small = NULL;

  assert_info (source, swapped ? STORED_HEIGHT : STORED_WIDTH,
               swapped ? STORED_WIDTH : STORED_HEIGHT, format);

  full = thumbnail (source, dir, 1000);
  g_assert_cmpint (gdk_pixbuf_get_width (full), ==, swapped ? STORED_HEIGHT : STORED_WIDTH);
  test_assert_oriented_quadrants (full, orientation, STORED_WIDTH, STORED_HEIGHT);

  small = thumbnail (source, dir, 60);
  g_assert_cmpint (gdk_pixbuf_get_width (small), ==, swapped ? 30 : 60);
  g_assert_cmpint (gdk_pixbuf_get_height (small), ==, swapped ? 60 : 30);
  test_assert_oriented_quadrants (small, orientation, STORED_WIDTH, STORED_HEIGHT);
}

/* ---- orientation ------------------------------------------------------ */

typedef enum {
  CONTAINER_TIFF,
  CONTAINER_PNG,
  CONTAINER_PNG_LATE,
  CONTAINER_WEBP,
  CONTAINER_WEBP_PREFIXED,
} Container;

static void
check_container_orientation (Container container)
{
  g_autofree char *dir = make_temp_dir ();
  g_autoptr(GdkPixbuf) pattern = test_pattern_quadrants (STORED_WIDTH, STORED_HEIGHT);
  int orientation;

  for (orientation = 1; orientation <= 8; orientation++)
    {
      g_autofree char *source = NULL;
      const char *format = NULL;

      switch (container)
        {
        case CONTAINER_TIFF:
          source = g_build_filename (dir, "source.tiff", NULL);
          write_tiff (source, pattern, orientation);
          format = "tiff";
          break;
        case CONTAINER_PNG:
        case CONTAINER_PNG_LATE:
          source = g_build_filename (dir, "source.png", NULL);
          write_png_exif (source, pattern, orientation, container == CONTAINER_PNG);
          format = "png";
          break;
        case CONTAINER_WEBP:
        case CONTAINER_WEBP_PREFIXED:
          source = g_build_filename (dir, "source.webp", NULL);
          write_webp_exif (source, pattern, orientation, container == CONTAINER_WEBP_PREFIXED);
          format = "webp";
          break;
        }

      g_test_message ("orientation %d", orientation);
      assert_oriented (source, dir, orientation, format);
    }

  test_remove_dir (dir);
}

static void
test_orientation_tiff (void)
{
  g_test_summary ("A TIFF's Orientation tag, each of 1 to 8, is applied once: "
                  "libtiff applies 2-4 itself and the loader reports the rest");
  check_container_orientation (CONTAINER_TIFF);
}

static void
test_orientation_png (void)
{
  g_test_summary ("A PNG's eXIf orientation, each of 1 to 8, is applied, the "
                  "chunk before or after the image data");
  check_container_orientation (CONTAINER_PNG);
  check_container_orientation (CONTAINER_PNG_LATE);
}

static void
test_orientation_webp (void)
{
  g_test_summary ("A WebP's EXIF chunk orientation, each of 1 to 8, is applied, "
                  "with or without a leading Exif\\0\\0");
  check_container_orientation (CONTAINER_WEBP);
  check_container_orientation (CONTAINER_WEBP_PREFIXED);
}

/* A JPEG with EXIF orientation 6, for the HEIF and AVIF encoders. */
static char *
write_rotated_jpeg (const char *dir)
{
  g_autoptr(GdkPixbuf) pattern = test_pattern_quadrants (STORED_WIDTH, STORED_HEIGHT);
  char *path = g_build_filename (dir, "rotated.jpg", NULL);
  TestJpegOptions options = { 0, };

  options.orientation = 6;
  test_write_jpeg (path, pattern, &options);
  return path;
}

/* Whether the file holds a little-endian EXIF Orientation entry of
 * @orientation. */
static gboolean
file_has_exif_orientation (const char *path,
                           int         orientation)
{
  const guint8 entry[] = { 0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, orientation, 0x00 };
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize length, i;

  g_file_get_contents (path, &data, &length, &error);
  g_assert_no_error (error);
  for (i = 0; i + sizeof entry <= length; i++)
    if (memcmp (data + i, entry, sizeof entry) == 0)
      return TRUE;
  return FALSE;
}

static void
test_orientation_heif (void)
{
  g_autoptr(GdkPixbuf) pattern = test_pattern_quadrants (STORED_WIDTH, STORED_HEIGHT);
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *jpeg = g_build_filename (dir, "source.jpg", NULL);
  g_autofree char *source = g_build_filename (dir, "source.heic", NULL);
  const char *argv[] = { "heif-enc", "-q", "90", jpeg, "-o", source, NULL };
  int orientation;

  g_test_summary ("A HEIC's EXIF orientation, each of 1 to 8, is applied when "
                  "its container neither rotates nor mirrors the image "
                  "(heif-enc 1.15 keeps a JPEG's EXIF and writes no irot)");

  for (orientation = 1; orientation <= 8; orientation++)
    {
      TestJpegOptions options = { 0, };

      options.orientation = orientation;
      test_write_jpeg (jpeg, pattern, &options);
      run_tool ("libheif-examples", argv);
      g_assert_true (file_has_exif_orientation (source, orientation));

      g_test_message ("orientation %d", orientation);
      assert_oriented (source, dir, orientation, NULL);
    }
  test_remove_dir (dir);
}

/* The AVIF checks; @format: the loader's format name, or NULL for any. */
static void
check_avif_orientation (const char *format)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *jpeg = write_rotated_jpeg (dir);
  g_autofree char *both = g_build_filename (dir, "both.avif", NULL);
  g_autofree char *exif_only = g_build_filename (dir, "exif-only.avif", NULL);
  g_autofree char *irot_only = g_build_filename (dir, "irot-only.avif", NULL);
  /* avifenc turns the JPEG's EXIF orientation into irot and imir, and
   * keeps the EXIF block as it is, tag included: as a phone does. */
  const char *both_argv[] = { "avifenc", "-s", "10", "--min", "0", "--max", "10",
                              jpeg, both, NULL };
  /* libheif's AVIF encoder keeps the EXIF block and writes no irot. */
  const char *exif_only_argv[] = { "heif-enc", "-A", "-q", "90", jpeg, "-o", exif_only, NULL };
  /* irot 1: a quarter turn anticlockwise, what EXIF orientation 8 says. */
  const char *irot_only_argv[] = { "avifenc", "-s", "10", "--min", "0", "--max", "10",
                                   "--ignore-exif", "--irot", "1", jpeg, irot_only, NULL };

  run_tool ("libavif-bin", both_argv);
  run_tool ("libheif-examples", exif_only_argv);
  run_tool ("libavif-bin", irot_only_argv);
  g_assert_true (file_has_exif_orientation (both, 6));
  g_assert_true (file_has_exif_orientation (exif_only, 6));
  g_assert_false (file_has_exif_orientation (irot_only, 6));

  /* Turned once: by irot and imir, not by the EXIF tag again. */
  assert_oriented (both, dir, 6, format);
  assert_oriented (exif_only, dir, 6, format);
  assert_oriented (irot_only, dir, 8, format);
  test_remove_dir (dir);
}

static void
test_orientation_avif (void)
{
  g_test_summary ("An AVIF is turned once: by its irot and imir when it has "
                  "them, else by its EXIF orientation");

  /* With both loaders installed, gdk-pixbuf gives AVIF to libheif's. */
  check_avif_orientation (NULL);
}

/* A loaders.cache of the installed one's AVIF loader (libavif's) alone. */
static char *
write_avif_only_cache (const char *dir)
{
  g_autoptr(GError) error = NULL;
  const char *installed = g_getenv ("WP_TEST_PIXBUF_CACHE");
  char *cache = g_build_filename (dir, "loaders.cache", NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) stanzas = NULL;
  g_autofree char *stanza = NULL;
  guint i;

  g_assert_nonnull (installed);
  g_file_get_contents (installed, &contents, NULL, &error);
  g_assert_no_error (error);

  /* A stanza per loader, after a blank line; its module's path first. */
  stanzas = g_strsplit (contents, "\n\n", -1);
  for (i = 0; stanzas[i] != NULL && strstr (stanzas[i], "pixbufloader-avif.so") == NULL; i++)
    ;
  if (stanzas[i] == NULL)
    g_error ("no AVIF loader in %s (Debian package libavif-gdk-pixbuf)", installed);

  /* A loader counts once the blank line after its stanza is read. */
  stanza = g_strconcat (stanzas[i], "\n\n", NULL);
  g_file_set_contents (cache, stanza, -1, &error);
  g_assert_no_error (error);
  return cache;
}

/* libavif's loader reports no rows: a truncated file must fail anyway. */
static void
check_avif_truncated (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *jpeg = write_rotated_jpeg (dir);
  g_autofree char *source = g_build_filename (dir, "cut.avif", NULL);
  const char *argv[] = { "avifenc", "-s", "10", jpeg, source, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(WpImage) image = NULL;
  g_autofree char *data = NULL;
  gsize length;

  run_tool ("libavif-bin", argv);
  g_file_get_contents (source, &data, &length, &error);
  g_assert_no_error (error);
  g_file_set_contents (source, data, (gssize) (length * 3 / 4), &error);
  g_assert_no_error (error);

  image = wp_image_open (source, WP_THUMBNAIL_MAX_PIXELS, NULL, &error);
  g_assert_null (image);
  g_assert_nonnull (error);
  g_assert_true (error->domain == GDK_PIXBUF_ERROR);
  g_assert_nonnull (strstr (error->message, "Truncated data"));
  test_remove_dir (dir);
}

static void
test_orientation_avif_libavif (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *cache = NULL;

  if (g_test_subprocess ())
    {
      check_avif_orientation ("avif");
      check_avif_truncated ();
      return;
    }

  g_test_summary ("libavif's own AVIF loader, alone, applies irot and imir too; "
                  "a truncated AVIF fails");

  /* The subprocess inherits the variable; this process's gdk-pixbuf
   * has read its loaders already. */
  dir = make_temp_dir ();
  cache = write_avif_only_cache (dir);
  g_setenv ("GDK_PIXBUF_MODULE_FILE", cache, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("GDK_PIXBUF_MODULE_FILE");
  test_remove_dir (dir);
  g_test_trap_assert_passed ();
}

/* Every cut and many single-byte changes of @path, given to the EXIF
 * reader as @format: each gives an orientation, never a crash or a read
 * out of bounds (the sanitizer build checks that). */
static void
assert_exif_reader_robust (const char *path,
                           const char *format)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  g_autofree char *copy = g_strconcat (path, ".mutated", NULL);
  static const guint8 values[] = { 0x00, 0x01, 0x7F, 0x80, 0xFF };
  gsize length, i, v;
  int fd;

  g_file_get_contents (path, &data, &length, &error);
  g_assert_no_error (error);
  fd = open (copy, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);

  for (i = 0; i <= length; i++)
    {
      int orientation;

      g_assert_cmpint (ftruncate (fd, 0), ==, 0);
      g_assert_cmpint (pwrite (fd, data, i, 0), ==, (gssize) i);
      orientation = wp_exif_find_orientation (fd, format);
      g_assert_cmpint (orientation, >=, 1);
      g_assert_cmpint (orientation, <=, 8);
    }

  for (i = 0; i < MIN (length, 2048); i++)
    for (v = 0; v < G_N_ELEMENTS (values); v++)
      {
        guint8 saved = (guint8) data[i];
        int orientation;

        data[i] = (char) values[v];
        g_assert_cmpint (pwrite (fd, data, length, 0), ==, (gssize) length);
        orientation = wp_exif_find_orientation (fd, format);
        g_assert_cmpint (orientation, >=, 1);
        g_assert_cmpint (orientation, <=, 8);
        data[i] = (char) saved;
      }

  close (fd);
  g_unlink (copy);
}

static void
test_exif_reader_robust (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *jpeg = write_rotated_jpeg (dir);
  g_autoptr(GdkPixbuf) pattern = test_pattern_quadrants (16, 8);
  g_autofree char *avif = g_build_filename (dir, "a.avif", NULL);
  g_autofree char *heic = g_build_filename (dir, "a.heic", NULL);
  g_autofree char *png = g_build_filename (dir, "a.png", NULL);
  g_autofree char *webp = g_build_filename (dir, "a.webp", NULL);
  const char *avif_argv[] = { "avifenc", "-s", "10", jpeg, avif, NULL };
  const char *heif_argv[] = { "heif-enc", jpeg, "-o", heic, NULL };

  g_test_summary ("The EXIF readers of PNG, WebP, HEIF and AVIF files take any "
                  "cut or damaged file");

  run_tool ("libavif-bin", avif_argv);
  run_tool ("libheif-examples", heif_argv);
  write_png_exif (png, pattern, 6, FALSE);
  write_webp_exif (webp, pattern, 6, FALSE);

  assert_exif_reader_robust (avif, "avif");
  assert_exif_reader_robust (heic, "heif/avif");
  assert_exif_reader_robust (png, "png");
  assert_exif_reader_robust (webp, "webp");
  test_remove_dir (dir);
}

/* ---- ICO -------------------------------------------------------------- */

static void
test_ico_largest (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *source = g_build_filename (dir, "icon.ico", NULL);
  g_autoptr(GdkPixbuf) thumb = NULL;

  g_test_summary ("An icon comes out from its largest entry, a 256 px PNG one, "
                  "not the 48 px BMP one gdk-pixbuf's ICO loader would take");

  write_ico (source, FALSE);
  assert_info (source, 256, 256, "ico");

  thumb = thumbnail (source, dir, 1000);
  g_assert_cmpint (gdk_pixbuf_get_width (thumb), ==, 256);
  test_assert_oriented_quadrants (thumb, 1, 256, 256);
  test_remove_dir (dir);
}

static void
test_ico_damaged_entry (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *source = g_build_filename (dir, "icon.ico", NULL);
  g_autoptr(GdkPixbuf) thumb = NULL;
  guint32 colour;

  g_test_summary ("An icon whose largest entry cannot be read comes out from "
                  "the next largest (48 px) that can");

  write_ico (source, TRUE);
  assert_info (source, 48, 48, "ico");

  thumb = thumbnail (source, dir, 1000);
  g_assert_cmpint (gdk_pixbuf_get_width (thumb), ==, 48);
  colour = test_pixel (thumb, 24, 24);
  g_assert_true (test_colour_near (colour, 0x00FF00, 12));
  test_remove_dir (dir);
}

/* ---- sniffing --------------------------------------------------------- */

static const WpFormatGuess *
sniff_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gsize length;

  g_file_get_contents (path, &data, &length, &error);
  g_assert_no_error (error);
  return wp_format_sniff ((const guint8 *) data, MIN (length, WP_FORMAT_SNIFF_LENGTH));
}

static void
assert_guess (const WpFormatGuess *guess,
              const char          *name,
              const char          *package)
{
  g_assert_nonnull (guess);
  g_assert_cmpstr (guess->name, ==, name);
  g_assert_cmpstr (guess->package, ==, package);
}

static void
test_sniff (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *jpeg = write_rotated_jpeg (dir);
  g_autofree char *webp = g_build_filename (dir, "a.webp", NULL);
  g_autofree char *heic = g_build_filename (dir, "a.heic", NULL);
  g_autofree char *avif = g_build_filename (dir, "a.avif", NULL);
  g_autoptr(GdkPixbuf) pattern = test_pattern_quadrants (32, 16);
  const char *heif_argv[] = { "heif-enc", jpeg, "-o", heic, NULL };
  const char *avif_argv[] = { "avifenc", "-s", "10", jpeg, avif, NULL };
  static const guint8 jxl_codestream[] = { 0xFF, 0x0A, 0xFA, 0x1F };
  static const guint8 jxl_container[] = { 0, 0, 0, 0x0C, 'J', 'X', 'L', ' ', 0x0D, 0x0A, 0x87, 0x0A };
  static const guint8 text[] = "not an image at all";
  static const char svg[] = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>";

  g_test_summary ("Formats are recognised from their content, with the Debian "
                  "package of their loader");

  write_webp_exif (webp, pattern, 1, FALSE);
  run_tool ("libheif-examples", heif_argv);
  run_tool ("libavif-bin", avif_argv);

  assert_guess (sniff_file (webp), "WebP", "webp-pixbuf-loader");
  assert_guess (sniff_file (heic), "HEIF/HEIC", "heif-gdk-pixbuf");
  assert_guess (sniff_file (avif), "AVIF", "libavif-gdk-pixbuf");
  assert_guess (sniff_file (jpeg), "JPEG", "libgdk-pixbuf-2.0-0");
  assert_guess (wp_format_sniff (jxl_codestream, sizeof jxl_codestream), "JPEG XL", NULL);
  assert_guess (wp_format_sniff (jxl_container, sizeof jxl_container), "JPEG XL", NULL);
  assert_guess (wp_format_sniff ((const guint8 *) svg, sizeof svg - 1), "SVG", "librsvg2-common");
  g_assert_null (wp_format_sniff (text, sizeof text));
  g_assert_null (wp_format_sniff (text, 0));

  test_remove_dir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/thumbnail/formats/orientation/tiff", test_orientation_tiff);
  g_test_add_func ("/thumbnail/formats/orientation/png", test_orientation_png);
  g_test_add_func ("/thumbnail/formats/orientation/webp", test_orientation_webp);
  g_test_add_func ("/thumbnail/formats/orientation/heif", test_orientation_heif);
  g_test_add_func ("/thumbnail/formats/orientation/avif", test_orientation_avif);
  g_test_add_func ("/thumbnail/formats/orientation/avif-libavif", test_orientation_avif_libavif);
  g_test_add_func ("/thumbnail/formats/orientation/robust", test_exif_reader_robust);
  g_test_add_func ("/thumbnail/formats/ico/largest", test_ico_largest);
  g_test_add_func ("/thumbnail/formats/ico/damaged-entry", test_ico_damaged_entry);
  g_test_add_func ("/thumbnail/formats/sniff", test_sniff);

  return g_test_run ();
}
