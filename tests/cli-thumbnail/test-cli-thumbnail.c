/* test-cli-thumbnail.c: `workpool thumbnail`, end to end.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test makes a fresh temporary folder of images drawn at run time
 * with gdk-pixbuf, spawns the built `workpool` binary ($WORKPOOL_CLI) on
 * it with the thumbnail plugin of the build tree ($WORKPOOL_PLUGIN_DIR,
 * the worker from $WORKPOOL_WORKER; meson.build sets all three), and
 * checks the exit status, the summary line, stderr, and the files left
 * on disk, reading thumbnails back with gdk-pixbuf.  The folder is
 * removed afterwards.
 *
 * Exit statuses: 0 all done, 1 an image failed, 2 usage error, 130
 * interrupted.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <glib/gstdio.h>

#include "host/protocol/wp-sanitizer-private.h"
#include "thumbnail-test-images.h"
#include "wp-test-cli.h"

#define N_DEFAULT_SIZES 6
static const int default_boxes[N_DEFAULT_SIZES] = { 1024, 512, 256, 128, 64, 32 };

#define INTERRUPT_IMAGES   40
#define POLL_INTERVAL_MS   5
#define INTERRUPT_DEADLINE (60 * G_USEC_PER_SEC)
#define ERASE_LINE         "\r\033[K"   /* wp-cli-progress.c's */

/* Running the command */

#define run_thumbnail(...) \
  wp_cli_run_argv ("thumbnail", (const char * const[]) { __VA_ARGS__, NULL })

/* The numbers of the summary line; not_done is -1 when it has none. */
typedef struct {
  guint images;
  guint written;
  guint skipped;
  guint failed;
  guint damaged;       /* 0 when the line has none */
  guint passed_over;
  int   not_done;
} Summary;

static Summary
parse_summary (const char *out)
{
  Summary summary = { 0, };
  int n, end = 0, damaged_end = 0, passed_end = 0;

  n = sscanf (out, "%u images, %u thumbnails written, %u skipped, %u failed%n",
              &summary.images, &summary.written, &summary.skipped, &summary.failed, &end);
  g_assert_cmpint (n, ==, 4);
  /* ", N damaged" only when some were. */
  sscanf (out + end, ", %u damaged%n", &summary.damaged, &damaged_end);
  if (damaged_end > 0)
    {
      g_assert_cmpuint (summary.damaged, >, 0);
      end += damaged_end;
    }
  else
    summary.damaged = 0;
  n = sscanf (out + end, ", %u passed over%n", &summary.passed_over, &passed_end);
  g_assert_cmpint (n, ==, 1);
  end += passed_end;
  summary.not_done = -1;
  if (sscanf (out + end, ", %d not done, ", &summary.not_done) != 1)
    summary.not_done = -1;
  g_assert_nonnull (strstr (out, " s, "));
  g_assert_true (g_str_has_suffix (out, " images/s\n"));
  g_assert_true (strchr (out, '\n') == out + strlen (out) - 1);
  return summary;
}

static void
assert_summary (const char *out,
                guint       images,
                guint       written,
                guint       skipped,
                guint       failed)
{
  Summary summary = parse_summary (out);

  g_assert_cmpuint (summary.images, ==, images);
  g_assert_cmpuint (summary.written, ==, written);
  g_assert_cmpuint (summary.skipped, ==, skipped);
  g_assert_cmpuint (summary.failed, ==, failed);
}

/* An error line names no GError domain or code (a debug message does). */
static void
assert_no_error_codes (const char *err)
{
  g_assert_null (strstr (err, "-quark"));
}

/* Lines of @err, each "workpool: PATH: …" for one of @paths, in any
 * order, and nothing else. */
static void
assert_passed_over (const char         *err,
                    const char * const *paths)
{
  g_auto(GStrv) lines = g_strsplit (err, "\n", -1);
  guint n_paths = g_strv_length ((GStrv) paths);

  g_assert_cmpuint (g_strv_length (lines), ==, n_paths + 1);
  g_assert_cmpstr (lines[n_paths], ==, "");
  assert_no_error_codes (err);
  for (guint i = 0; i < n_paths; i++)
    {
      g_autofree char *prefix = g_strconcat ("workpool: ", paths[i], ": ", NULL);
      gboolean found = FALSE;

      for (guint j = 0; j < n_paths && !found; j++)
        found = g_str_has_prefix (lines[j], prefix);
      if (!found)
        g_error ("no line for %s in:\n%s", paths[i], err);
    }
}

/* Test images */

/* A smooth gradient with some deterministic noise, so that JPEG
 * decoding has real work to do. */
static GdkPixbuf *
draw_image (int width,
            int height,
            int noise)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  guint32 seed = 12345;

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = pixels + (gsize) y * stride + x * 3;

        seed = seed * 1103515245 + 12345;
        p[0] = (guint8) CLAMP (255 * x / width + (int) (seed >> 24) % (noise + 1), 0, 255);
        p[1] = (guint8) CLAMP (255 * y / height + (int) (seed >> 16 & 0xff) % (noise + 1), 0, 255);
        p[2] = (guint8) ((x + y) & 0xff);
      }
  return pixbuf;
}

static void
save_image (const char *path,
            const char *format,
            int         width,
            int         height,
            int         noise)
{
  g_autoptr(GdkPixbuf) pixbuf = draw_image (width, height, noise);
  g_autoptr(GError) error = NULL;
  g_autofree char *folder = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  if (g_strcmp0 (format, "jpeg") == 0)
    gdk_pixbuf_save (pixbuf, path, "jpeg", &error, "quality", "90", NULL);
  else
    gdk_pixbuf_save (pixbuf, path, format, &error, NULL);
  g_assert_no_error (error);
}

/* A 300x200 JPEG at @dir/@name. */
static char *
add_jpeg (const char *dir,
          const char *name)
{
  char *path = g_build_filename (dir, name, NULL);

  save_image (path, "jpeg", 300, 200, 0);
  return path;
}

static void
copy_file (const char *source,
           const char *destination)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;

  g_file_get_contents (source, &contents, &length, &error);
  g_assert_no_error (error);
  g_file_set_contents (destination, contents, length, &error);
  g_assert_no_error (error);
}

/* Temporary folders */

typedef struct {
  char *dir;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("workpool-cli-thumbnail-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR)
              && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  remove_tree (fixture->dir);
  g_free (fixture->dir);
}

/* Thumbnails */

/* The size rule of the plugin: fit the box, keep the aspect, never
 * upscale, round each side. */
static void
fit_size (int  width,
          int  height,
          int  box_width,
          int  box_height,
          int *fit_width,
          int *fit_height)
{
  double scale;

  if (width <= box_width && height <= box_height)
    {
      *fit_width = width;
      *fit_height = height;
      return;
    }
  scale = MIN ((double) box_width / width, (double) box_height / height);
  *fit_width = MAX (1, (int) round (width * scale));
  *fit_height = MAX (1, (int) round (height * scale));
}

/* FOLDER/thumbnails/NxN/STEM.jpg */
static char *
thumbnail_path (const char *folder,
                const char *stem,
                int         box)
{
  g_autofree char *size = g_strdup_printf ("%dx%d", box, box);
  g_autofree char *file = g_strconcat (stem, ".jpg", NULL);

  return g_build_filename (folder, "thumbnails", size, file, NULL);
}

/* Decodes the thumbnail fully and checks its size. */
static void
assert_thumbnail (const char *path,
                  int         width,
                  int         height)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *format = NULL;

  pixbuf = gdk_pixbuf_new_from_file (path, &error);
  g_assert_no_error (error);
  format = gdk_pixbuf_format_get_name (gdk_pixbuf_get_file_info (path, NULL, NULL));
  g_assert_cmpstr (format, ==, "jpeg");
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, width);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, height);
}

/* The six default thumbnails of a @width x @height image. */
static void
assert_default_thumbnails (const char *folder,
                           const char *stem,
                           int         width,
                           int         height)
{
  for (int i = 0; i < N_DEFAULT_SIZES; i++)
    {
      g_autofree char *path = thumbnail_path (folder, stem, default_boxes[i]);
      int fit_width, fit_height;

      fit_size (width, height, default_boxes[i], default_boxes[i],
                &fit_width, &fit_height);
      assert_thumbnail (path, fit_width, fit_height);
    }
}

static void
assert_no_thumbnails (const char *folder)
{
  g_autofree char *path = g_build_filename (folder, "thumbnails", NULL);

  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static gint64
mtime_ns (const char *path)
{
  struct stat info;

  g_assert_cmpint (stat (path, &info), ==, 0);
  return (gint64) info.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) + info.st_mtim.tv_nsec;
}

/* Sets the mtime of every default thumbnail of @stem to @seconds. */
static void
set_thumbnail_mtimes (const char *folder,
                      const char *stem,
                      gint64      seconds)
{
  for (int i = 0; i < N_DEFAULT_SIZES; i++)
    {
      g_autofree char *path = thumbnail_path (folder, stem, default_boxes[i]);
      struct timespec times[2] = { { seconds, 0 }, { seconds, 0 } };

      g_assert_cmpint (utimensat (AT_FDCWD, path, times, 0), ==, 0);
    }
}

static void
assert_thumbnail_mtimes (const char *folder,
                         const char *stem,
                         gint64      seconds,
                         gboolean    equal)
{
  for (int i = 0; i < N_DEFAULT_SIZES; i++)
    {
      g_autofree char *path = thumbnail_path (folder, stem, default_boxes[i]);

      if (equal)
        g_assert_cmpint (mtime_ns (path), ==, seconds * G_GINT64_CONSTANT (1000000000));
      else
        g_assert_cmpint (mtime_ns (path), !=, seconds * G_GINT64_CONSTANT (1000000000));
    }
}

/* Layout */

static void
test_layout (Fixture       *fixture,
             gconstpointer  data)
{
  g_autofree char *path = g_build_filename (fixture->dir, "photo.jpg", NULL);
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("a landscape image gets six thumbnails in "
                  "thumbnails/WxH/NAME.jpg, each fitting its box");
  save_image (path, "jpeg", 1500, 1000, 8);

  run = run_thumbnail (fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->err, ==, "");
  assert_summary (run->out, 1, 6, 0, 0);
  assert_default_thumbnails (fixture->dir, "photo", 1500, 1000);
}

static void
test_layout_portrait_small (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autofree char *tall = g_build_filename (fixture->dir, "tall.jpeg", NULL);
  g_autofree char *small = g_build_filename (fixture->dir, "small.jpg", NULL);
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("a portrait image fits by its height; an image smaller "
                  "than a box keeps its size; .jpeg becomes .jpg");
  save_image (tall, "jpeg", 600, 1300, 0);
  save_image (small, "jpeg", 100, 40, 0);

  run = run_thumbnail (fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  assert_summary (run->out, 2, 12, 0, 0);
  assert_default_thumbnails (fixture->dir, "tall", 600, 1300);
  assert_default_thumbnails (fixture->dir, "small", 100, 40);
}

static void
test_layout_sizes_option (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autofree char *path = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *wide = g_build_filename (fixture->dir, "thumbnails", "200x50", "a.jpg", NULL);
  g_autofree char *square = thumbnail_path (fixture->dir, "a", 64);
  g_autofree char *absent = thumbnail_path (fixture->dir, "a", 1024);
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("--sizes gives the boxes, not necessarily square");
  run = run_thumbnail ("--sizes", "200x50,64x64", fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  assert_summary (run->out, 1, 2, 0, 0);
  assert_thumbnail (wide, 75, 50);
  assert_thumbnail (square, 64, 43);
  g_assert_false (g_file_test (absent, G_FILE_TEST_EXISTS));
}

/* The walk */

static void
test_walk_subfolders (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *sub = g_build_filename (fixture->dir, "sub", NULL);
  g_autofree char *deeper = g_build_filename (sub, "deeper", NULL);
  g_autofree char *top_thumbs = g_build_filename (fixture->dir, "thumbnails", NULL);
  g_autofree char *sub_thumbs = g_build_filename (sub, "thumbnails", NULL);
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *b = add_jpeg (sub, "b.jpg");
  g_autofree char *c = add_jpeg (deeper, "c.jpg");
  g_autofree char *x = add_jpeg (top_thumbs, "x.jpg");
  g_autofree char *y = add_jpeg (sub_thumbs, "y.jpg");
  g_autofree char *nested = g_build_filename (top_thumbs, "thumbnails", NULL);
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("subfolders are walked, each image's thumbnails go beside "
                  "it, and folders named thumbnails are not walked");
  run = run_thumbnail (fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  assert_summary (run->out, 3, 18, 0, 0);
  assert_default_thumbnails (fixture->dir, "a", 300, 200);
  assert_default_thumbnails (sub, "b", 300, 200);
  assert_default_thumbnails (deeper, "c", 300, 200);
  g_assert_false (g_file_test (nested, G_FILE_TEST_EXISTS));
  assert_no_thumbnails (sub_thumbs);
}

static void
test_walk_several_dirs (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autofree char *one = g_build_filename (fixture->dir, "one", NULL);
  g_autofree char *two = g_build_filename (fixture->dir, "two", NULL);
  g_autofree char *a = add_jpeg (one, "a.jpg");
  g_autofree char *b = add_jpeg (two, "b.jpg");
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("every DIR given is walked");
  run = run_thumbnail ("--sizes", "32x32", one, two);
  g_assert_cmpint (run->status, ==, 0);
  assert_summary (run->out, 2, 2, 0, 0);
}

static void
test_walk_extension_case (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.JPG");
  g_autofree char *b = add_jpeg (fixture->dir, "b.Jpeg");
  g_autofree char *c = add_jpeg (fixture->dir, "c.jpeg");
  g_autofree char *d = g_build_filename (fixture->dir, "d.png", NULL);
  g_autofree char *e = add_jpeg (fixture->dir, "e.jpg.txt");
  g_autofree char *d_thumb = thumbnail_path (fixture->dir, "d", 32);
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary (".jpg and .jpeg are taken in any letter case, nothing "
                  "else by default");
  save_image (d, "png", 50, 50, 0);
  run = run_thumbnail (fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  assert_summary (run->out, 3, 18, 0, 0);
  assert_default_thumbnails (fixture->dir, "a", 300, 200);
  assert_default_thumbnails (fixture->dir, "b", 300, 200);
  assert_default_thumbnails (fixture->dir, "c", 300, 200);
  g_assert_false (g_file_test (d_thumb, G_FILE_TEST_EXISTS));
}

static void
test_walk_ext_option (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *d = g_build_filename (fixture->dir, "d.PNG", NULL);
  g_autofree char *a_thumb = thumbnail_path (fixture->dir, "a", 32);
  g_autofree char *d_thumb = thumbnail_path (fixture->dir, "d", 32);
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("--ext picks the extensions; a PNG gives JPEG thumbnails");
  save_image (d, "png", 50, 40, 0);
  run = run_thumbnail ("--ext", "png", "--sizes", "32x32", fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  assert_summary (run->out, 1, 1, 0, 0);
  assert_thumbnail (d_thumb, 32, 26);
  g_assert_false (g_file_test (a_thumb, G_FILE_TEST_EXISTS));
}

/* Names */

/* One image per name, each of its own size so that a thumbnail tells
 * which image it came from. */
typedef struct {
  const char *name;
  const char *format;
  int         width;
  int         height;
} NamedImage;

static const NamedImage same_stem[] = {
  { "a.jpg",  "jpeg", 300, 200 },
  { "a.JPG",  "jpeg", 200, 300 },
  { "a.jpeg", "jpeg", 240, 240 },
  { "a.png",  "png",  100,  50 },
};

/* @folder/thumbnails/64x64/@file, fitting @image. */
static void
assert_named_thumbnail (const char       *folder,
                        const char       *file,
                        const NamedImage *image)
{
  g_autofree char *path = g_build_filename (folder, "thumbnails", "64x64", file, NULL);
  int width, height;

  fit_size (image->width, image->height, 64, 64, &width, &height);
  assert_thumbnail (path, width, height);
}

static guint
count_files (const char *folder)
{
  g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static void
test_names_same_stem (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GPtrArray) folders = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(WpCliRun) run = NULL;
  g_autoptr(WpCliRun) again = NULL;
  guint n_images = 0;

  g_test_summary ("images of one folder that share a stem (a.jpg, a.JPG, "
                  "a.jpeg, a.png: every pair, and all four) each get "
                  "thumbnails named after their full name, from their own pixels");

  /* Every pair (i, j), then all four (i == j == 0), each in a folder of
   * its own. */
  for (guint i = 0; i < G_N_ELEMENTS (same_stem); i++)
    for (guint j = i + 1; j <= G_N_ELEMENTS (same_stem); j++)
      {
        gboolean all = j == G_N_ELEMENTS (same_stem);
        char *folder = NULL;

        if (all && i > 0)
          continue;
        folder = g_strdup_printf ("%s/%s%u-%u", fixture->dir, all ? "all" : "pair", i, j);
        for (guint k = 0; k < G_N_ELEMENTS (same_stem); k++)
          if (all || k == i || k == j)
            {
              g_autofree char *path = g_build_filename (folder, same_stem[k].name, NULL);

              save_image (path, same_stem[k].format, same_stem[k].width,
                          same_stem[k].height, 0);
              n_images++;
            }
        g_ptr_array_add (folders, folder);
      }

  run = run_thumbnail ("--ext", "jpg,jpeg,png", "--sizes", "64x64", "--force",
                       fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->err, ==, "");
  assert_summary (run->out, n_images, n_images, 0, 0);

  for (guint f = 0; f < folders->len; f++)
    {
      const char *folder = g_ptr_array_index (folders, f);
      g_autofree char *sizes = g_build_filename (folder, "thumbnails", "64x64", NULL);
      guint n_here = 0;

      for (guint k = 0; k < G_N_ELEMENTS (same_stem); k++)
        {
          g_autofree char *path = g_build_filename (folder, same_stem[k].name, NULL);
          g_autofree char *file = g_strconcat (same_stem[k].name, ".jpg", NULL);

          if (!g_file_test (path, G_FILE_TEST_EXISTS))
            continue;
          assert_named_thumbnail (folder, file, &same_stem[k]);
          n_here++;
        }
      g_assert_cmpuint (count_files (sizes), ==, n_here);
    }

  again = run_thumbnail ("--ext", "jpg,jpeg,png", "--sizes", "64x64", fixture->dir);
  g_assert_cmpint (again->status, ==, 0);
  assert_summary (again->out, n_images, 0, n_images, 0);
}

static void
test_names_stem_is_a_name (Fixture       *fixture,
                           gconstpointer  data)
{
  static const NamedImage jpg = { "a.jpg", "jpeg", 300, 200 };
  static const NamedImage jpg_png = { "a.jpg.png", "png", 100, 50 };
  static const NamedImage b = { "b.png", "png", 40, 80 };
  g_autofree char *sizes = g_build_filename (fixture->dir, "thumbnails", "64x64", NULL);
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("an image whose stem is another image's name (a.jpg.png "
                  "beside a.jpg) takes its full name; lone stems keep STEM.jpg");
  for (const NamedImage *image = &jpg; image != NULL;
       image = image == &jpg ? &jpg_png : image == &jpg_png ? &b : NULL)
    {
      g_autofree char *path = g_build_filename (fixture->dir, image->name, NULL);

      save_image (path, image->format, image->width, image->height, 0);
    }

  run = run_thumbnail ("--ext", "jpg,png", "--sizes", "64x64", fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  assert_summary (run->out, 3, 3, 0, 0);
  assert_named_thumbnail (fixture->dir, "a.jpg", &jpg);
  assert_named_thumbnail (fixture->dir, "a.jpg.png.jpg", &jpg_png);
  assert_named_thumbnail (fixture->dir, "b.jpg", &b);
  g_assert_cmpuint (count_files (sizes), ==, 3);
}

static void
test_names_case (Fixture       *fixture,
                 gconstpointer  data)
{
  static const NamedImage upper = { "A.jpg", "jpeg", 300, 200 };
  static const NamedImage lower = { "a.png", "png", 100, 50 };
  static const NamedImage stem = { "Photo.JPG.png", "png", 40, 80 };
  static const NamedImage named = { "photo.jpg", "jpeg", 80, 40 };
  static const NamedImage *const images[] = { &upper, &lower, &stem, &named };
  g_autofree char *sizes = g_build_filename (fixture->dir, "thumbnails", "64x64", NULL);
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("stems and names are compared ignoring case, so that no two "
                  "thumbnails would be one file on a case-insensitive file system: "
                  "A.jpg beside a.png, Photo.JPG.png beside photo.jpg");
  for (gsize i = 0; i < G_N_ELEMENTS (images); i++)
    {
      g_autofree char *path = g_build_filename (fixture->dir, images[i]->name, NULL);

      save_image (path, images[i]->format, images[i]->width, images[i]->height, 0);
    }

  run = run_thumbnail ("--ext", "jpg,png", "--sizes", "64x64", fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  assert_summary (run->out, 4, 4, 0, 0);
  assert_named_thumbnail (fixture->dir, "A.jpg.jpg", &upper);
  assert_named_thumbnail (fixture->dir, "a.png.jpg", &lower);
  assert_named_thumbnail (fixture->dir, "Photo.JPG.png.jpg", &stem);
  assert_named_thumbnail (fixture->dir, "photo.jpg", &named);
  g_assert_cmpuint (count_files (sizes), ==, 4);
}

static void
test_names_heic (Fixture       *fixture,
                 gconstpointer  data)
{
  static const NamedImage jpeg = { "IMG_0001.JPG", "jpeg", 300, 200 };
  static const NamedImage heic = { "IMG_0001.HEIC", "heic", 120, 160 };
  g_autofree char *jpeg_path = g_build_filename (fixture->dir, jpeg.name, NULL);
  g_autofree char *heic_path = g_build_filename (fixture->dir, heic.name, NULL);
  g_autofree char *heic_input = g_build_filename (fixture->dir, "input", "heic.jpg", NULL);
  const char *argv[] = { "heif-enc", "-q", "90", heic_input, "-o", heic_path, NULL };
  g_autofree char *input_folder = g_path_get_dirname (heic_input);
  g_autoptr(GError) error = NULL;
  g_autoptr(WpCliRun) run = NULL;
  int status;

  g_test_summary ("a phone's IMG_0001.HEIC beside IMG_0001.JPG: each keeps its whole "
                  "name, IMG_0001.HEIC.jpg and IMG_0001.JPG.jpg, from its own pixels");
  save_image (jpeg_path, jpeg.format, jpeg.width, jpeg.height, 0);
  save_image (heic_input, "jpeg", heic.width, heic.height, 0);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_cmpint (g_unlink (heic_input), ==, 0);
  g_assert_cmpint (g_rmdir (input_folder), ==, 0);

  run = run_thumbnail ("--ext", "jpg,heic", "--sizes", "64x64", fixture->dir);
  g_test_message ("%s", run->err);
  g_assert_cmpint (run->status, ==, 0);
  assert_summary (run->out, 2, 2, 0, 0);
  assert_named_thumbnail (fixture->dir, "IMG_0001.JPG.jpg", &jpeg);
  assert_named_thumbnail (fixture->dir, "IMG_0001.HEIC.jpg", &heic);
}

static void
test_names_other_extensions (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *png = g_build_filename (fixture->dir, "a.png", NULL);
  g_autofree char *xmp = g_build_filename (fixture->dir, "a.xmp", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("only images the command takes share stems: a.jpg beside "
                  "a.png (not in --ext) and a.xmp keeps a.jpg");
  save_image (png, "png", 100, 50, 0);
  g_file_set_contents (xmp, "<x:xmpmeta/>", -1, &error);
  g_assert_no_error (error);

  run = run_thumbnail (fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  assert_summary (run->out, 1, 6, 0, 0);
  assert_default_thumbnails (fixture->dir, "a", 300, 200);
}

/* --output */

static void
test_output_mirror (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *photos = g_build_filename (fixture->dir, "photos", NULL);
  g_autofree char *sub = g_build_filename (photos, "sub", NULL);
  g_autofree char *out = g_build_filename (fixture->dir, "cache", "deeper", NULL);
  g_autofree char *out_photos = g_build_filename (out, "photos", NULL);
  g_autofree char *out_sub = g_build_filename (out_photos, "sub", NULL);
  g_autofree char *a = add_jpeg (photos, "a.jpg");
  g_autofree char *b = g_build_filename (sub, "b.jpg", NULL);
  g_autofree char *photos_slash = g_strconcat (photos, "/", NULL);
  g_autoptr(WpCliRun) run = NULL;
  g_autoptr(WpCliRun) again = NULL;

  g_test_summary ("--output OUT writes the thumbnails of DIR/SUBDIR to "
                  "OUT/NAME/SUBDIR/thumbnails, NAME being DIR's name, creating "
                  "OUT, and nothing under DIR");
  save_image (b, "jpeg", 200, 300, 0);

  run = run_thumbnail ("--output", out, photos_slash);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->err, ==, "");
  assert_summary (run->out, 2, 12, 0, 0);
  assert_default_thumbnails (out_photos, "a", 300, 200);
  assert_default_thumbnails (out_sub, "b", 200, 300);
  assert_no_thumbnails (photos);
  assert_no_thumbnails (sub);

  again = run_thumbnail ("--output", out, photos);
  g_assert_cmpint (again->status, ==, 0);
  assert_summary (again->out, 2, 0, 2, 0);
}

static void
test_output_several_dirs (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autofree char *one = g_build_filename (fixture->dir, "one", NULL);
  g_autofree char *two = g_build_filename (fixture->dir, "x", "two", NULL);
  g_autofree char *out = g_build_filename (fixture->dir, "out", NULL);
  g_autofree char *out_one = g_build_filename (out, "one", NULL);
  g_autofree char *out_two = g_build_filename (out, "two", NULL);
  g_autofree char *a1 = add_jpeg (one, "a.jpg");
  g_autofree char *a2 = g_build_filename (two, "a.jpg", NULL);
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("with --output, images of the same name under two DIRs go "
                  "to OUT/NAME of their own DIR");
  save_image (a2, "jpeg", 200, 300, 0);

  run = run_thumbnail ("--output", out, one, two);
  g_assert_cmpint (run->status, ==, 0);
  assert_summary (run->out, 2, 12, 0, 0);
  assert_default_thumbnails (out_one, "a", 300, 200);
  assert_default_thumbnails (out_two, "a", 200, 300);
}

static void
test_output_nested_dirs (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autofree char *a = g_build_filename (fixture->dir, "a", NULL);
  g_autofree char *b = g_build_filename (a, "b", NULL);
  g_autofree char *out = g_build_filename (fixture->dir, "out", NULL);
  g_autofree char *out_a = g_build_filename (out, "a", NULL);
  g_autofree char *out_b = g_build_filename (out, "b", NULL);
  g_autofree char *out_a_b = g_build_filename (out_a, "b", NULL);
  g_autofree char *x = add_jpeg (a, "x.jpg");
  g_autofree char *y = add_jpeg (b, "y.jpg");
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("with --output and a DIR inside another, the images under "
                  "both go under the deeper DIR's name");
  run = run_thumbnail ("--output", out, a, b);
  g_assert_cmpint (run->status, ==, 0);
  assert_default_thumbnails (out_a, "x", 300, 200);
  assert_default_thumbnails (out_b, "y", 300, 200);
  g_assert_false (g_file_test (out_a_b, G_FILE_TEST_EXISTS));
}

static void
test_output_same_name (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *first = g_build_filename (fixture->dir, "x", "photos", NULL);
  g_autofree char *second = g_build_filename (fixture->dir, "y", "photos", NULL);
  g_autofree char *out = g_build_filename (fixture->dir, "out", NULL);
  g_autofree char *a1 = add_jpeg (first, "a.jpg");
  g_autofree char *a2 = add_jpeg (second, "a.jpg");
  g_autoptr(WpCliRun) run = NULL;
  g_autoptr(WpCliRun) root = NULL;
  g_autoptr(WpCliRun) empty = NULL;

  g_test_summary ("with --output, two DIRs of the same name, the root "
                  "folder, or an empty OUT are usage errors, before any work");
  run = run_thumbnail ("--output", out, first, second);
  g_assert_cmpint (run->status, ==, 2);
  g_assert_nonnull (strstr (run->err, "“photos”"));
  g_assert_cmpstr (run->out, ==, "");
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));

  root = run_thumbnail ("--output", out, "/");
  g_assert_cmpint (root->status, ==, 2);
  empty = run_thumbnail ("--output", "", first);
  g_assert_cmpint (empty->status, ==, 2);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

static void
test_walk_folder_link (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *photos = g_build_filename (fixture->dir, "photos", NULL);
  g_autofree char *root = g_build_filename (fixture->dir, "root", NULL);
  g_autofree char *album = g_build_filename (root, "album", NULL);
  g_autofree char *a = add_jpeg (photos, "a.jpg");
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("a symbolic link to a folder is followed, and the thumbnails "
                  "go beside the images it leads to");
  g_assert_cmpint (g_mkdir (root, 0755), ==, 0);
  g_assert_cmpint (symlink ("../photos", album), ==, 0);

  run = run_thumbnail (root);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->err, ==, "");
  assert_summary (run->out, 1, 6, 0, 0);
  g_assert_cmpuint (parse_summary (run->out).passed_over, ==, 0);
  assert_default_thumbnails (photos, "a", 300, 200);
}

static void
test_walk_link_loop (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *sub = g_build_filename (fixture->dir, "sub", NULL);
  g_autofree char *up = g_build_filename (sub, "up", NULL);
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *b = add_jpeg (sub, "b.jpg");
  const char *passed_over[] = { up, NULL };
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("a symbolic link to an ancestor folder is not followed but "
                  "reported and counted; the rest of the tree is done once");
  g_assert_cmpint (symlink ("..", up), ==, 0);

  run = run_thumbnail ("--sizes", "32x32", fixture->dir);
  g_assert_cmpint (run->status, ==, 1);
  assert_summary (run->out, 2, 2, 0, 0);
  g_assert_cmpuint (parse_summary (run->out).passed_over, ==, 1);
  assert_passed_over (run->err, passed_over);
}

static void
test_walk_bad_entries (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *dangling = g_build_filename (fixture->dir, "gone.jpg", NULL);
  g_autofree char *dangling_folder = g_build_filename (fixture->dir, "Holidays", NULL);
  g_autofree char *looping = g_build_filename (fixture->dir, "self.jpg", NULL);
  g_autofree char *fifo = g_build_filename (fixture->dir, "pipe.JPG", NULL);
  g_autofree char *other_fifo = g_build_filename (fixture->dir, "pipe.txt", NULL);
  const char *passed_over[] = { dangling, dangling_folder, looping, fifo, NULL };
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("dangling and looping symbolic links and a FIFO named like "
                  "an image are each reported on one line and counted as "
                  "passed over; the images are still done; exit status 1");
  g_assert_cmpint (symlink ("missing.jpg", dangling), ==, 0);
  g_assert_cmpint (symlink ("/nonexistent/Holidays", dangling_folder), ==, 0);
  g_assert_cmpint (symlink ("self.jpg", looping), ==, 0);
  g_assert_cmpint (mkfifo (fifo, 0644), ==, 0);
  g_assert_cmpint (mkfifo (other_fifo, 0644), ==, 0);

  run = run_thumbnail (fixture->dir);
  g_assert_cmpint (run->status, ==, 1);
  assert_summary (run->out, 1, 6, 0, 0);
  g_assert_cmpuint (parse_summary (run->out).passed_over, ==, 4);
  assert_passed_over (run->err, passed_over);
  assert_default_thumbnails (fixture->dir, "a", 300, 200);
}

static void
test_walk_unreadable_folder (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autofree char *locked = g_build_filename (fixture->dir, "locked", NULL);
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *b = add_jpeg (locked, "b.jpg");
  const char *passed_over[] = { locked, NULL };
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("a folder that cannot be listed is reported and counted as "
                  "passed over; the rest is done; exit status 1");
  g_assert_cmpint (g_chmod (locked, 0), ==, 0);
  if (g_access (locked, R_OK) == 0)
    {
      g_assert_cmpint (g_chmod (locked, 0755), ==, 0);
      g_test_skip ("this user can list a folder of mode 000");
      return;
    }

  run = run_thumbnail (fixture->dir);
  g_assert_cmpint (g_chmod (locked, 0755), ==, 0);
  g_assert_cmpint (run->status, ==, 1);
  assert_summary (run->out, 1, 6, 0, 0);
  g_assert_cmpuint (parse_summary (run->out).passed_over, ==, 1);
  assert_passed_over (run->err, passed_over);
}

static void
test_walk_roots_once (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *sub = g_build_filename (fixture->dir, "sub", NULL);
  g_autofree char *alias = g_build_filename (fixture->dir, "alias", NULL);
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *b = add_jpeg (sub, "b.jpg");
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("a root given twice, a root inside another and a link to a "
                  "folder already walked: each folder is walked once");
  g_assert_cmpint (symlink ("sub", alias), ==, 0);

  run = run_thumbnail ("--sizes", "32x32", sub, fixture->dir, fixture->dir, alias);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->err, ==, "");
  assert_summary (run->out, 2, 2, 0, 0);
}

static void
test_walk_no_images (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *sub = g_build_filename (fixture->dir, "sub", NULL);
  const char *files[] = { "a.png", "b.PNG", "sub/c.png", "d.txt", "README", NULL };
  g_autoptr(WpCliRun) run = NULL;
  g_autoptr(WpCliRun) quiet = NULL;

  g_test_summary ("a run that finds no image says which extensions it looked for, "
                  "among how many files, and which --ext takes the others; exit "
                  "status 0");
  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  for (gsize i = 0; files[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (fixture->dir, files[i], NULL);

      g_assert_true (g_file_set_contents (path, "", 0, NULL));
    }

  run = run_thumbnail (fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  assert_summary (run->out, 0, 0, 0, 0);
  g_assert_cmpstr (run->err, ==, "workpool: 0 images: no file ending in .jpg or .jpeg "
                                 "among 5 files; --ext png,txt takes others; --ext all "
                                 "takes every format the installed gdk-pixbuf loaders "
                                 "read\n");

  quiet = run_thumbnail ("--quiet", "--ext", "gif,tif,webp", fixture->dir);
  g_assert_cmpint (quiet->status, ==, 0);
  g_assert_cmpstr (quiet->err, ==, "");
}

/* Formats */

static void
test_formats_ext_all (Fixture       *fixture,
                      gconstpointer  data)
{
  const char *images[][2] = {
    { "a.webp", "webp" }, { "b.TIF", "tiff" }, { "c.ico", "ico" },
    { "d.avif", "avif" }, { "e.jpg", "jpeg" }, { "f.bmp", "bmp" },
  };
  g_autofree char *text = g_build_filename (fixture->dir, "notes.txt", NULL);
  g_autofree char *empty = g_build_filename (fixture->dir, "empty", NULL);
  g_autoptr(WpCliRun) run = NULL;
  g_autoptr(WpCliRun) none = NULL;

  g_test_summary ("--ext all takes every file whose extension an installed "
                  "gdk-pixbuf loader declares (WebP, TIFF, ICO, AVIF...), not the "
                  "others; with none found, it says so");

  for (gsize i = 0; i < G_N_ELEMENTS (images); i++)
    {
      g_autofree char *path = g_build_filename (fixture->dir, images[i][0], NULL);

      save_image (path, images[i][1], 64, 48, 0);
    }
  g_assert_true (g_file_set_contents (text, "", 0, NULL));

  run = run_thumbnail ("--ext", "all", "--sizes", "32x32", fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->err, ==, "");
  assert_summary (run->out, G_N_ELEMENTS (images), G_N_ELEMENTS (images), 0, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (images); i++)
    {
      g_autofree char *stem = g_strndup (images[i][0], strcspn (images[i][0], "."));
      g_autofree char *thumb = thumbnail_path (fixture->dir, stem, 32);

      assert_thumbnail (thumb, 32, 24);
    }

  g_assert_cmpint (g_mkdir (empty, 0755), ==, 0);
  g_assert_true (g_file_set_contents (text, "", 0, NULL));
  none = run_thumbnail ("--ext", "all", empty);
  g_assert_cmpint (none->status, ==, 0);
  g_assert_true (g_str_has_prefix (none->err, "workpool: 0 images: no file ending in "
                                              "one of the "));
  g_assert_true (g_str_has_suffix (none->err, " extensions of the installed gdk-pixbuf "
                                              "loaders (--ext all) among 0 files\n"));
}

/* Sets GDK_PIXBUF_MODULE_FILE, for the commands run next, to a copy of
 * the installed loaders.cache without the WebP, AVIF and HEIF loaders. */
static void
hide_loaders (const char *dir)
{
  g_autoptr(GError) error = NULL;
  const char *installed = g_getenv ("WP_TEST_PIXBUF_CACHE");
  g_autofree char *cache = g_build_filename (dir, "loaders.cache", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GString) kept = g_string_new (NULL);
  g_auto(GStrv) stanzas = NULL;

  g_assert_nonnull (installed);
  g_file_get_contents (installed, &contents, NULL, &error);
  g_assert_no_error (error);

  /* One stanza per loader, separated by blank lines, the module first. */
  stanzas = g_strsplit (contents, "\n\n", -1);
  for (guint i = 0; stanzas[i] != NULL; i++)
    {
      if (strstr (stanzas[i], "pixbufloader-webp") != NULL ||
          strstr (stanzas[i], "pixbufloader-avif") != NULL ||
          strstr (stanzas[i], "pixbufloader-heif") != NULL)
        continue;
      g_string_append_printf (kept, "%s\n\n", stanzas[i]);
    }
  g_assert_cmpuint (kept->len, <, strlen (contents));

  g_file_set_contents (cache, kept->str, kept->len, &error);
  g_assert_no_error (error);
  g_setenv ("GDK_PIXBUF_MODULE_FILE", cache, TRUE);
}

static void
test_formats_missing_loader (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autofree char *images = g_build_filename (fixture->dir, "images", NULL);
  g_autofree char *webp = g_build_filename (images, "a.webp", NULL);
  g_autofree char *avif = g_build_filename (images, "b.avif", NULL);
  g_autofree char *png = g_build_filename (fixture->dir, "c.png", NULL);
  g_autofree char *heic = g_build_filename (images, "c.heic", NULL);
  const char *heif_enc[] = { "heif-enc", png, "-o", heic, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(WpCliRun) run = NULL;
  g_autoptr(WpCliRun) all = NULL;
  int status;

  g_test_summary ("Without their loader, WebP, AVIF and HEIC files fail with "
                  "their format and the Debian package of the missing loader; "
                  "--ext all, which follows the same loaders, does not take them");

  g_assert_cmpint (g_mkdir (images, 0755), ==, 0);
  save_image (webp, "webp", 64, 48, 0);
  save_image (avif, "avif", 64, 48, 0);
  save_image (png, "png", 64, 48, 0);
  if (!g_spawn_sync (NULL, (char **) heif_enc, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, &status, &error))
    g_error ("heif-enc (Debian package libheif-examples) is needed: %s", error->message);
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  hide_loaders (fixture->dir);
  run = run_thumbnail ("--ext", "webp,avif,heic", "--sizes", "32x32", images);
  all = run_thumbnail ("--ext", "all", "--sizes", "32x32", images);
  g_unsetenv ("GDK_PIXBUF_MODULE_FILE");

  g_assert_cmpint (run->status, ==, 1);
  assert_summary (run->out, 3, 0, 0, 3);
  g_assert_nonnull (strstr (run->err, "a.webp: Failed to load image: no gdk-pixbuf loader "
                                      "for WebP, the format of its content, is "
                                      "installed (Debian package: webp-pixbuf-loader)\n"));
  g_assert_nonnull (strstr (run->err, "b.avif: Failed to load image: no gdk-pixbuf loader "
                                      "for AVIF, the format of its content, is "
                                      "installed (Debian package: libavif-gdk-pixbuf)\n"));
  g_assert_nonnull (strstr (run->err, "c.heic: Failed to load image: no gdk-pixbuf loader "
                                      "for HEIF/HEIC, the format of its content, is "
                                      "installed (Debian package: heif-gdk-pixbuf)\n"));

  g_assert_cmpint (all->status, ==, 0);
  assert_summary (all->out, 0, 0, 0, 0);
  g_assert_nonnull (strstr (all->err, "among 3 files; --ext avif,heic,webp takes others\n"));
}

/* Skipping up-to-date images */

static void
test_skip_second_run (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *b = add_jpeg (fixture->dir, "b.jpg");
  gint64 later = g_get_real_time () / G_USEC_PER_SEC + 1000;
  g_autoptr(WpCliRun) first = NULL;
  g_autoptr(WpCliRun) second = NULL;

  g_test_summary ("a second run skips images whose thumbnails all record "
                  "their mtime and size, and touches no file");
  first = run_thumbnail (fixture->dir);
  g_assert_cmpint (first->status, ==, 0);
  assert_summary (first->out, 2, 12, 0, 0);

  /* Marked mtimes: any rewrite would change them. */
  set_thumbnail_mtimes (fixture->dir, "a", later);
  set_thumbnail_mtimes (fixture->dir, "b", later);

  second = run_thumbnail (fixture->dir);
  g_assert_cmpint (second->status, ==, 0);
  assert_summary (second->out, 2, 0, 2, 0);
  assert_thumbnail_mtimes (fixture->dir, "a", later, TRUE);
  assert_thumbnail_mtimes (fixture->dir, "b", later, TRUE);
}

static void
test_skip_stale (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *b = add_jpeg (fixture->dir, "b.jpg");
  g_autofree char *b_64 = thumbnail_path (fixture->dir, "b", 64);
  gint64 later = g_get_real_time () / G_USEC_PER_SEC + 1000;
  struct timespec times[2] = { { later + 10, 0 }, { later + 10, 0 } };
  g_autoptr(WpCliRun) first = NULL;
  g_autoptr(WpCliRun) second = NULL;

  g_test_summary ("an image newer than its thumbnails, or missing one, is "
                  "done again");
  first = run_thumbnail (fixture->dir);
  g_assert_cmpint (first->status, ==, 0);
  set_thumbnail_mtimes (fixture->dir, "a", later);
  set_thumbnail_mtimes (fixture->dir, "b", later);
  g_assert_cmpint (utimensat (AT_FDCWD, a, times, 0), ==, 0);
  g_assert_cmpint (g_unlink (b_64), ==, 0);

  second = run_thumbnail (fixture->dir);
  g_assert_cmpint (second->status, ==, 0);
  assert_summary (second->out, 2, 12, 0, 0);
  assert_thumbnail_mtimes (fixture->dir, "a", later, FALSE);
  assert_default_thumbnails (fixture->dir, "b", 300, 200);
}

static void
test_skip_replaced_older (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *other = g_build_filename (fixture->dir, "other", "a.jpg", NULL);
  g_autofree char *other_folder = g_path_get_dirname (other);
  gint64 earlier = g_get_real_time () / G_USEC_PER_SEC - 100000;
  struct timespec times[2] = { { earlier, 0 }, { earlier, 0 } };
  g_autoptr(WpCliRun) first = NULL;
  g_autoptr(WpCliRun) second = NULL;

  g_test_summary ("an image replaced by another with an older mtime (cp -p, "
                  "mv, rsync -a) is done again");
  first = run_thumbnail (fixture->dir);
  g_assert_cmpint (first->status, ==, 0);
  assert_default_thumbnails (fixture->dir, "a", 300, 200);

  /* Another photo, older than the thumbnails, moved over a.jpg. */
  save_image (other, "jpeg", 200, 300, 4);
  g_assert_cmpint (utimensat (AT_FDCWD, other, times, 0), ==, 0);
  g_assert_cmpint (g_rename (other, a), ==, 0);
  g_assert_cmpint (g_rmdir (other_folder), ==, 0);

  second = run_thumbnail (fixture->dir);
  g_assert_cmpint (second->status, ==, 0);
  assert_summary (second->out, 1, 6, 0, 0);
  assert_default_thumbnails (fixture->dir, "a", 200, 300);
}

static void
test_skip_same_mtime (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  gint64 when = g_get_real_time () / G_USEC_PER_SEC - 100000;
  struct timespec times[2] = { { when, 0 }, { when, 0 } };
  g_autoptr(WpCliRun) first = NULL;
  g_autoptr(WpCliRun) second = NULL;

  g_test_summary ("an image rewritten with other contents and given back "
                  "its old mtime is done again: the size differs");
  g_assert_cmpint (utimensat (AT_FDCWD, a, times, 0), ==, 0);
  first = run_thumbnail (fixture->dir);
  g_assert_cmpint (first->status, ==, 0);

  save_image (a, "jpeg", 200, 300, 4);
  g_assert_cmpint (utimensat (AT_FDCWD, a, times, 0), ==, 0);

  second = run_thumbnail (fixture->dir);
  g_assert_cmpint (second->status, ==, 0);
  assert_summary (second->out, 1, 6, 0, 0);
  assert_default_thumbnails (fixture->dir, "a", 200, 300);
}

static void
test_skip_no_record (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  gint64 later = g_get_real_time () / G_USEC_PER_SEC + 1000;
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("thumbnails that do not record their image's mtime and "
                  "size (written by another program) are stale, however new");
  for (int i = 0; i < N_DEFAULT_SIZES; i++)
    {
      g_autofree char *path = thumbnail_path (fixture->dir, "a", default_boxes[i]);

      save_image (path, "jpeg", 10, 10, 0);
    }
  set_thumbnail_mtimes (fixture->dir, "a", later);

  run = run_thumbnail (fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  assert_summary (run->out, 1, 6, 0, 0);
  assert_default_thumbnails (fixture->dir, "a", 300, 200);
}

static void
test_force (Fixture       *fixture,
            gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  gint64 later = g_get_real_time () / G_USEC_PER_SEC + 1000;
  g_autoptr(WpCliRun) first = NULL;
  g_autoptr(WpCliRun) second = NULL;

  g_test_summary ("--force rewrites thumbnails that are up to date");
  first = run_thumbnail (fixture->dir);
  g_assert_cmpint (first->status, ==, 0);
  set_thumbnail_mtimes (fixture->dir, "a", later);

  second = run_thumbnail ("--force", fixture->dir);
  g_assert_cmpint (second->status, ==, 0);
  assert_summary (second->out, 1, 6, 0, 0);
  assert_thumbnail_mtimes (fixture->dir, "a", later, FALSE);
  assert_default_thumbnails (fixture->dir, "a", 300, 200);
}

/* Failures */

static void
test_failure_one_bad_file (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *b = add_jpeg (fixture->dir, "b.jpg");
  g_autofree char *c = add_jpeg (fixture->dir, "c.jpg");
  g_autofree char *bad = g_build_filename (fixture->dir, "bad.jpg", NULL);
  g_autofree char *prefix = g_strconcat ("workpool: ", bad, ": ", NULL);
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("one bad file among good ones: the good ones are done, the "
                  "bad one gets a line on stderr, “workpool: PATH: message”, "
                  "naming the path once and no error code; the exit status is 1");
  g_assert_true (g_file_set_contents (bad, "this is not a JPEG\n", -1, NULL));

  run = run_thumbnail (fixture->dir);
  g_assert_cmpint (run->status, ==, 1);
  assert_summary (run->out, 4, 18, 0, 1);
  assert_default_thumbnails (fixture->dir, "a", 300, 200);
  assert_default_thumbnails (fixture->dir, "b", 300, 200);
  assert_default_thumbnails (fixture->dir, "c", 300, 200);
  g_assert_true (g_str_has_prefix (run->err, prefix));
  g_assert_cmpint (strchr (run->err, '\n') - run->err + 1, ==, strlen (run->err));
  g_assert_null (strstr (run->err + strlen (prefix), bad));
  assert_no_error_codes (run->err);
}

static void
test_failure_codes_in_debug (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autofree char *bad = g_build_filename (fixture->dir, "bad.jpg", NULL);
  g_autofree char *code = g_strdup_printf ("%s: %s:%d", bad, g_quark_to_string (GDK_PIXBUF_ERROR),
                                           GDK_PIXBUF_ERROR_UNKNOWN_TYPE);
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("with G_MESSAGES_DEBUG=workpool, a failed image's error domain and "
                  "code are a debug message on stderr; stdout has only the summary");
  g_assert_true (g_file_set_contents (bad, "this is not a JPEG\n", -1, NULL));

  g_setenv ("G_MESSAGES_DEBUG", "workpool", TRUE);
  run = run_thumbnail (fixture->dir);
  g_unsetenv ("G_MESSAGES_DEBUG");
  g_assert_cmpint (run->status, ==, 1);
  assert_summary (run->out, 1, 0, 0, 1);
  g_assert_nonnull (strstr (run->err, code));
}

static void
test_failure_non_utf8_name (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autofree char *good = add_jpeg (fixture->dir, "good.jpg");
  g_autofree char *latin1 = add_jpeg (fixture->dir, "caf\xe9.jpg");
  const char *expected = ": The file name is not UTF-8\n";
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("a file name that is not UTF-8 (the plugin takes UTF-8 "
                  "paths) fails that image only, with a readable line");
  run = run_thumbnail (fixture->dir);
  g_assert_cmpint (run->status, ==, 1);
  assert_summary (run->out, 2, 6, 0, 1);
  assert_default_thumbnails (fixture->dir, "good", 300, 200);
  g_assert_true (g_str_has_prefix (run->err, "workpool: "));
  g_assert_nonnull (strstr (run->err, expected));
  g_assert_true (g_utf8_validate (run->err, -1, NULL));
}

static void
test_failure_written_count (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *blocked = g_build_filename (fixture->dir, "thumbnails", "32x32", NULL);
  g_autofree char *top = g_build_filename (fixture->dir, "thumbnails", NULL);
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("an image whose last thumbnail cannot be written fails, and "
                  "the summary counts the five thumbnails written before");
  g_assert_cmpint (g_mkdir (top, 0755), ==, 0);
  g_assert_true (g_file_set_contents (blocked, "not a folder\n", -1, NULL));

  run = run_thumbnail (fixture->dir);
  g_assert_cmpint (run->status, ==, 1);
  assert_summary (run->out, 1, 5, 0, 1);
  for (int i = 0; i < N_DEFAULT_SIZES - 1; i++)
    {
      g_autofree char *path = thumbnail_path (fixture->dir, "a", default_boxes[i]);

      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
    }
}

/* Damaged images */

/* A 300x200 JPEG at @dir/@name, cut after 60% of its bytes. */
static char *
add_truncated_jpeg (const char *dir,
                    const char *name)
{
  char *path = add_jpeg (dir, name);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  g_file_set_contents (path, contents, (gssize) (length * 6 / 10), &error);
  g_assert_no_error (error);
  return path;
}

static void
test_damaged_warning (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *cut = add_truncated_jpeg (fixture->dir, "cut.jpg");
  g_autofree char *expected = g_strconcat ("workpool: ", cut, ": warning: damaged, "
                                           "thumbnails show what decodes: Premature end "
                                           "of JPEG file\n", NULL);
  g_autoptr(WpCliRun) run = NULL;
  Summary summary;

  g_test_summary ("a damaged image (a truncated JPEG) gets thumbnails of what "
                  "decodes and a warning line naming the damage; the summary counts "
                  "it done and damaged; the exit status is 0");

  run = run_thumbnail (fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  assert_summary (run->out, 2, 12, 0, 0);
  summary = parse_summary (run->out);
  g_assert_cmpuint (summary.damaged, ==, 1);
  g_assert_nonnull (strstr (run->out, " 0 failed, 1 damaged, 0 passed over, "));
  g_assert_cmpstr (run->err, ==, expected);
  assert_default_thumbnails (fixture->dir, "a", 300, 200);
  assert_default_thumbnails (fixture->dir, "cut", 300, 200);
}

static void
test_damaged_quiet (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *cut = add_truncated_jpeg (fixture->dir, "cut.jpg");
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("--quiet prints no warning for a damaged image, which is no "
                  "error; the exit status is 0");

  run = run_thumbnail ("--quiet", fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->out, ==, "");
  g_assert_cmpstr (run->err, ==, "");
  assert_default_thumbnails (fixture->dir, "cut", 300, 200);
}

static void
test_damaged_strict (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *cut = add_truncated_jpeg (fixture->dir, "cut.jpg");
  g_autofree char *expected = g_strconcat ("workpool: ", cut, ": Image is damaged: "
                                           "Premature end of JPEG file\n", NULL);
  g_autoptr(WpCliRun) run = NULL;
  Summary summary;

  g_test_summary ("with --strict a damaged image fails like any other: an error "
                  "line naming the damage, no thumbnail and no temporary file, exit "
                  "status 1");

  run = run_thumbnail ("--strict", fixture->dir);
  g_assert_cmpint (run->status, ==, 1);
  assert_summary (run->out, 2, 6, 0, 1);
  summary = parse_summary (run->out);
  g_assert_cmpuint (summary.damaged, ==, 0);
  g_assert_cmpstr (run->err, ==, expected);
  assert_default_thumbnails (fixture->dir, "a", 300, 200);
  for (int i = 0; i < N_DEFAULT_SIZES; i++)
    {
      g_autofree char *path = thumbnail_path (fixture->dir, "a", default_boxes[i]);
      g_autofree char *folder = g_path_get_dirname (path);
      g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
      const char *name;

      /* a.jpg's thumbnail alone: nothing of cut.jpg, not even a temporary file. */
      g_assert_nonnull (dir);
      while ((name = g_dir_read_name (dir)) != NULL)
        g_assert_cmpstr (name, ==, "a.jpg");
    }
}

static void
test_damaged_one_job_per_size (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autofree char *cut = add_truncated_jpeg (fixture->dir, "cut.jpg");
  g_autofree char *expected = g_strconcat ("workpool: ", cut, ": warning: damaged, "
                                           "thumbnails show what decodes: Premature end "
                                           "of JPEG file\n", NULL);
  g_autoptr(WpCliRun) run = NULL;
  Summary summary;

  g_test_summary ("with --one-job-per-size, a damaged image, whose every job reports "
                  "the damage, gets one warning line and counts once as damaged");

  run = run_thumbnail ("--one-job-per-size", fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  assert_summary (run->out, 1, 6, 0, 0);
  summary = parse_summary (run->out);
  g_assert_cmpuint (summary.damaged, ==, 1);
  g_assert_cmpstr (run->err, ==, expected);
  assert_default_thumbnails (fixture->dir, "cut", 300, 200);
}

/* Usage errors */

static void
assert_usage_error (WpCliRun     *run,
                    const char *mention)
{
  g_assert_cmpint (run->status, ==, 2);
  g_assert_true (g_str_has_prefix (run->err, "workpool: "));
  g_assert_nonnull (strstr (run->err, mention));
  g_assert_cmpstr (run->out, ==, "");
}

static void
test_usage_missing_dir (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autofree char *nope = g_build_filename (fixture->dir, "nope", NULL);
  g_autofree char *file = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *missing = g_strconcat ("workpool: ", nope, ": no such folder\n", NULL);
  g_autofree char *not_folder = g_strconcat ("workpool: ", file, ": not a folder\n", NULL);
  g_autoptr(WpCliRun) run = NULL;
  g_autoptr(WpCliRun) file_run = NULL;

  g_test_summary ("a DIR that does not exist, or is not a folder, is a usage error "
                  "that says so, before any work");
  run = run_thumbnail (fixture->dir, nope);
  assert_usage_error (run, missing);
  g_assert_true (g_str_has_prefix (run->err, missing));
  file_run = run_thumbnail (file);
  assert_usage_error (file_run, not_folder);
  g_assert_true (g_str_has_prefix (file_run->err, not_folder));
  assert_no_thumbnails (fixture->dir);
}

static void
test_usage_sizes (Fixture       *fixture,
                  gconstpointer  data)
{
  const char *bad[] = { "12x", "x12", "0x5", "axb", "12", "1024x1024,", "5x5x5",
                        "-3x4", "64x64,64x64", "70000x10" };

  g_test_summary ("a bad --sizes is a usage error naming it");
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(WpCliRun) run = run_thumbnail ("--sizes", bad[i], fixture->dir);

      assert_usage_error (run, "--sizes");
    }
  assert_no_thumbnails (fixture->dir);
}

static void
test_usage_dirs (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autofree char *file = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *missing = g_build_filename (fixture->dir, "missing", NULL);
  g_autoptr(WpCliRun) none = NULL;
  g_autoptr(WpCliRun) not_dir = NULL;
  g_autoptr(WpCliRun) absent = NULL;

  g_test_summary ("no DIR, a DIR that is a file or does not exist: usage "
                  "errors, and nothing is written");
  none = run_thumbnail ("--force");
  assert_usage_error (none, "DIR");
  not_dir = run_thumbnail (fixture->dir, file);
  assert_usage_error (not_dir, file);
  absent = run_thumbnail (missing);
  assert_usage_error (absent, missing);
  assert_no_thumbnails (fixture->dir);
}

static void
test_usage_numbers (Fixture       *fixture,
                    gconstpointer  data)
{
  const char *bad[][2] = {
    { "--quality", "0" }, { "--quality", "101" }, { "--quality", "high" },
    { "--workers", "-1" }, { "--progress", "sometimes" }, { "--ext", "" },
  };

  g_test_summary ("a bad --quality, --workers, --progress or --ext is a "
                  "usage error");
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(WpCliRun) run = run_thumbnail (bad[i][0], bad[i][1], fixture->dir);

      assert_usage_error (run, bad[i][0] + 2);
    }
}

/* Each of @bad (NULL-terminated) given to @option is a usage error
 * naming it, and nothing is written. */
static void
assert_bad_values (Fixture            *fixture,
                   const char         *option,
                   const char * const *bad)
{
  for (gsize i = 0; bad[i] != NULL; i++)
    {
      g_autofree char *quoted = g_strdup_printf ("“%s”", bad[i]);
      g_autoptr(WpCliRun) run = run_thumbnail (option, bad[i], fixture->dir);

      assert_usage_error (run, option);
      g_assert_nonnull (strstr (run->err, quoted));
    }
  assert_no_thumbnails (fixture->dir);
}

static void
test_usage_memory_limit (Fixture       *fixture,
                         gconstpointer  data)
{
  const char *bad[] = { "", "x", "12X", "-1", "1.5G", "G", "12 M", "512Mx", "20000000T",
                        "99999999999999999999", NULL };

  g_test_summary ("a bad --memory-limit is a usage error naming the bad value");
  assert_bad_values (fixture, "--memory-limit", bad);
}

/* Memory limit */

/* Every thumbnail folder under @dir holds @name.jpg and nothing else. */
static void
assert_only_thumbnails_of (const char *dir,
                           const char *name)
{
  g_autofree char *file = g_strconcat (name, ".jpg", NULL);

  for (int i = 0; i < N_DEFAULT_SIZES; i++)
    {
      g_autofree char *box = g_strdup_printf ("%dx%d", default_boxes[i], default_boxes[i]);
      g_autofree char *folder = g_build_filename (dir, "thumbnails", box, NULL);
      g_autoptr(GDir) thumbnails = g_dir_open (folder, 0, NULL);
      const char *entry;
      guint n = 0;

      g_assert_nonnull (thumbnails);
      while ((entry = g_dir_read_name (thumbnails)) != NULL)
        {
          g_test_message ("%s: %s", box, entry);
          g_assert_cmpstr (entry, ==, file);
          n++;
        }
      g_assert_cmpuint (n, ==, 1);
    }
}

static void
test_memory_limit_big_image (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autofree char *big = g_build_filename (fixture->dir, "big.png", NULL);
  g_autofree char *small = g_build_filename (fixture->dir, "small.png", NULL);
  g_autofree char *prefix = g_strconcat ("workpool: ", big, ": ", NULL);
  g_autoptr(WpCliRun) limited = NULL;
  g_autoptr(WpCliRun) by_default = NULL;

  g_test_summary ("under a tight --memory-limit, an image too big for it fails alone and "
                  "leaves no file; under the default limit it is done");
  if (WP_ASAN_BUILD)
    {
      g_test_skip ("AddressSanitizer reserves terabytes of address space, so a worker cannot "
                   "apply a memory limit in this build");
      return;
    }

  /* 6000x6000 decodes to 108 MB of pixels; a worker starts in less
   * than 48 MiB of address space. */
  save_image (big, "png", 6000, 6000, 0);
  save_image (small, "png", 300, 200, 0);

  limited = run_thumbnail ("--ext", "png", "--workers", "1", "--memory-limit", "64M",
                           fixture->dir);
  g_test_message ("%s", limited->err);
  g_assert_cmpint (limited->status, ==, 1);
  assert_summary (limited->out, 2, 6, 0, 1);
  g_assert_true (g_str_has_prefix (limited->err, prefix));
  g_assert_cmpint (strchr (limited->err, '\n') - limited->err + 1, ==, strlen (limited->err));
  /* An error, or a crash if the allocation that failed was not one the
   * plugin checks: either names the limit and how to raise it. */
  g_assert_nonnull (strstr (limited->err, "memory limit of 67108864 bytes"));
  g_assert_nonnull (strstr (limited->err, "; raise it with --memory-limit SIZE"));
  assert_default_thumbnails (fixture->dir, "small", 300, 200);
  assert_only_thumbnails_of (fixture->dir, "small");

  by_default = run_thumbnail ("--ext", "png", "--workers", "1", fixture->dir);
  g_assert_cmpint (by_default->status, ==, 0);
  g_assert_cmpstr (by_default->err, ==, "");
  assert_summary (by_default->out, 2, 6, 1, 0);
  assert_default_thumbnails (fixture->dir, "big", 6000, 6000);
}

/* PNG's CRC-32 (ISO 3309), bit by bit. */
static guint32
png_crc (const guint8 *data,
         gsize         length)
{
  guint32 crc = 0xFFFFFFFF;

  for (gsize i = 0; i < length; i++)
    {
      crc ^= data[i];
      for (int bit = 0; bit < 8; bit++)
        crc = (crc >> 1) ^ (0xEDB88320 & -(crc & 1));
    }
  return crc ^ 0xFFFFFFFF;
}

static void
put_be32 (guint8  *p,
          guint32  value)
{
  p[0] = (guint8) (value >> 24);
  p[1] = (guint8) (value >> 16);
  p[2] = (guint8) (value >> 8);
  p[3] = (guint8) value;
}

static void
test_memory_limit_named (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autofree char *huge = g_build_filename (fixture->dir, "huge.png", NULL);
  g_autofree char *small = g_build_filename (fixture->dir, "small.png", NULL);
  g_autofree char *expected = NULL;
  g_autofree guint8 *bytes = NULL;
  g_autoptr(WpCliRun) run = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;

  g_test_summary ("an image that needs more memory than --memory-limit fails with a "
                  "message that names the limit in bytes and says how to raise it");
  if (WP_ASAN_BUILD)
    {
      g_test_skip ("AddressSanitizer reserves terabytes of address space, so a worker cannot "
                   "apply a memory limit in this build");
      return;
    }

  /* A small PNG whose header says 10000x10000: 100 megapixels, within the
   * plugin's pixel limit, for which gdk-pixbuf allocates 300 MB as soon
   * as it reaches the pixel data. */
  save_image (huge, "png", 64, 64, 0);
  save_image (small, "png", 300, 200, 0);
  g_assert_true (g_file_get_contents (huge, (char **) &bytes, &length, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (bytes + 12, 4, "IHDR", 4);
  put_be32 (bytes + 16, 10000);
  put_be32 (bytes + 20, 10000);
  put_be32 (bytes + 29, png_crc (bytes + 12, 4 + 13));
  g_assert_true (g_file_set_contents (huge, (char *) bytes, (gssize) length, &error));
  g_assert_no_error (error);

  run = run_thumbnail ("--ext", "png", "--workers", "1", "--memory-limit", "256M",
                       fixture->dir);
  g_test_message ("%s", run->err);
  g_assert_cmpint (run->status, ==, 1);
  assert_summary (run->out, 2, 6, 0, 1);
  expected = g_strconcat ("workpool: ", huge, ": Failed to load image: ", NULL);
  g_assert_true (g_str_has_prefix (run->err, expected));
  g_assert_true (g_str_has_suffix (run->err, " (the worker ran under a memory limit of "
                                             "268435456 bytes); raise it with "
                                             "--memory-limit SIZE\n"));
  g_assert_cmpint (strchr (run->err, '\n') - run->err + 1, ==, strlen (run->err));
  assert_default_thumbnails (fixture->dir, "small", 300, 200);
  assert_only_thumbnails_of (fixture->dir, "small");
}

/* Big images */

/* The four quadrants of test_pattern_quadrants() in the thumbnail of
 * @stem in box @box. */
static void
assert_quadrants (const char *folder,
                  const char *stem,
                  int         box)
{
  static const guint32 colours[4] = { TEST_RED, TEST_GREEN, TEST_BLUE, TEST_YELLOW };
  g_autofree char *path = thumbnail_path (folder, stem, box);
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;

  pixbuf = gdk_pixbuf_new_from_file (path, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 4; i++)
    {
      int x = gdk_pixbuf_get_width (pixbuf) * (i % 2 == 0 ? 1 : 3) / 4;
      int y = gdk_pixbuf_get_height (pixbuf) * (i < 2 ? 1 : 3) / 4;

      g_assert_true (test_colour_near (test_pixel (pixbuf, x, y), colours[i], 40));
    }
}

static void
test_big_phone_photos (Fixture       *fixture,
                       gconstpointer  data)
{
  static const struct {
    const char *stem;
    int         width, height;
    gboolean    progressive;
  } photos[] = {
    { "108mp", 12000, 9000, FALSE },
    { "200mp", 16320, 12240, FALSE },
    { "108mp-progressive", 12000, 9000, TRUE },
    { "200mp-progressive", 16320, 12240, TRUE },
  };
  g_autoptr(WpCliRun) by_default = NULL;
  g_autoptr(WpCliRun) limited = NULL;

  g_test_summary ("108 and 200 megapixel phone photos (4:2:0), baseline and progressive, "
                  "are thumbnailed under the default memory limit; under a limit too small "
                  "for a progressive one's coefficients, it fails alone, naming them");

  for (gsize i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      g_autofree char *file = g_strconcat (photos[i].stem, ".jpg", NULL);
      g_autofree char *path = g_build_filename (fixture->dir, file, NULL);

      test_write_big_jpeg_apart (path, photos[i].width, photos[i].height, photos[i].progressive);
    }

  /* The default limit is 1 GiB (AddressSanitizer builds apply none). */
  by_default = run_thumbnail ("--workers", "1", fixture->dir);
  g_test_message ("%s", by_default->err);
  g_assert_cmpint (by_default->status, ==, 0);
  g_assert_cmpstr (by_default->err, ==, "");
  assert_summary (by_default->out, 4, 4 * N_DEFAULT_SIZES, 0, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      assert_default_thumbnails (fixture->dir, photos[i].stem,
                                 photos[i].width, photos[i].height);
      assert_quadrants (fixture->dir, photos[i].stem, 1024);
      assert_quadrants (fixture->dir, photos[i].stem, 32);
    }

  if (WP_ASAN_BUILD)
    {
      g_test_skip ("AddressSanitizer reserves terabytes of address space, so a worker cannot "
                   "apply a memory limit in this build");
      return;
    }

  /* 12000x9000 at 4:2:0: 1500x1125 blocks of luma, 750x563 of each
   * chroma, 128 bytes each, whatever the scale. */
  limited = run_thumbnail ("--workers", "1", "--force", "--memory-limit", "256M",
                           fixture->dir);
  g_test_message ("%s", limited->err);
  g_assert_cmpint (limited->status, ==, 1);
  assert_summary (limited->out, 4, 2 * N_DEFAULT_SIZES, 0, 2);
  for (gsize i = 2; i < G_N_ELEMENTS (photos); i++)
    {
      g_autofree char *file = g_strconcat (photos[i].stem, ".jpg", NULL);
      g_autofree char *path = g_build_filename (fixture->dir, file, NULL);
      g_autofree char *prefix = g_strdup_printf ("workpool: %s: Not enough memory to decode: "
                                                 "this progressive %dx%d JPEG needs about ",
                                                 path, photos[i].width, photos[i].height);
      const char *line = strstr (limited->err, prefix);
      const char *end = line != NULL ? strchr (line, '\n') : NULL;
      g_autofree char *text = end != NULL ? g_strndup (line, (gsize) (end - line)) : NULL;

      g_assert_nonnull (text);
      g_assert_nonnull (strstr (text, " MiB for its DCT coefficients, which its decode holds "
                                      "whole at any scale, "));
      g_assert_true (g_str_has_suffix (text, " MiB left (the worker ran under a memory limit "
                                             "of 268435456 bytes); raise it with "
                                             "--memory-limit SIZE"));
    }
  {
    g_autofree char *p108 = g_build_filename (fixture->dir, "108mp-progressive.jpg", NULL);
    g_autofree char *coefficients =
      g_strdup_printf ("(%d MiB for its DCT coefficients",
                       (int) ((((guint64) 1500 * 1125 + 2 * 750 * 563) * 128 + (1 << 20) - 1)
                              >> 20));

    g_assert_nonnull (strstr (strstr (limited->err, p108), coefficients));
  }
}

static void
test_max_pixels (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autofree char *path = g_build_filename (fixture->dir, "a.jpg", NULL);
  g_autofree char *refused = NULL;
  g_autoptr(WpCliRun) over = NULL;
  g_autoptr(WpCliRun) at = NULL;
  g_autoptr(WpCliRun) small = NULL;

  g_test_summary ("--max-pixels limits what an image decodes to: a 4000x3000 JPEG "
                  "decodes at 3/8 for 1024x768, 1500x1125 pixels; below that it fails "
                  "naming both numbers and the option, at it it is done, and small "
                  "thumbnails decode it at 1/8 under a smaller limit");

  test_write_big_jpeg_apart (path, 4000, 3000, FALSE);

  over = run_thumbnail ("--max-pixels", "1687499", fixture->dir);
  g_assert_cmpint (over->status, ==, 1);
  assert_summary (over->out, 1, 0, 0, 1);
  refused = g_strconcat ("workpool: ", path, ": Image is 4000x3000, which decodes at scale "
                         "3/8 to 1500x1125 = 1687500 pixels, over the pixel limit of 1687499; "
                         "raise it with --max-pixels N\n", NULL);
  g_assert_cmpstr (over->err, ==, refused);
  assert_no_thumbnails (fixture->dir);

  at = run_thumbnail ("--max-pixels", "1687500", fixture->dir);
  g_assert_cmpint (at->status, ==, 0);
  g_assert_cmpstr (at->err, ==, "");
  assert_default_thumbnails (fixture->dir, "a", 4000, 3000);
  assert_quadrants (fixture->dir, "a", 1024);

  /* 256x192 needs 1/8: 500x375 pixels. */
  small = run_thumbnail ("--max-pixels", "1M", "--sizes", "256x256", "--force",
                         "--one-job-per-size", fixture->dir);
  g_assert_cmpint (small->status, ==, 0);
  g_assert_cmpstr (small->err, ==, "");
  assert_summary (small->out, 1, 1, 0, 0);
  assert_quadrants (fixture->dir, "a", 256);
}

static void
test_usage_max_pixels (Fixture       *fixture,
                       gconstpointer  data)
{
  const char *bad[] = { "", "x", "12X", "-1", "1.5M", "M", "12 M", "100Mx", "100MiB",
                        "20000000000G", "99999999999999999999", NULL };

  g_test_summary ("a bad --max-pixels is a usage error naming the bad value");
  assert_bad_values (fixture, "--max-pixels", bad);
}

/* Interruption */

typedef struct {
  GSubprocess *process;
  int          signum;       /* what to send */
  gboolean     group;        /* to the process group that process leads */
  char        *watched;      /* a folder whose first file triggers the signal */
  gboolean     signalled;
  gboolean     exited;
  gint64       deadline;
} Interrupt;

static gboolean
folder_has_file (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);

  return dir != NULL && g_dir_read_name (dir) != NULL;
}

/* A GMainContext timeout: sends the signal once the first thumbnail is
 * there. */
static gboolean
poll_first_thumbnail (gpointer user_data)
{
  Interrupt *interrupt = user_data;

  g_assert_cmpint (g_get_monotonic_time (), <, interrupt->deadline);
  if (!folder_has_file (interrupt->watched))
    return G_SOURCE_CONTINUE;

  if (interrupt->group)
    g_assert_cmpint (kill (-atoi (g_subprocess_get_identifier (interrupt->process)),
                           interrupt->signum), ==, 0);
  else
    g_subprocess_send_signal (interrupt->process, interrupt->signum);
  interrupt->signalled = TRUE;
  return G_SOURCE_REMOVE;
}

static void
on_interrupted_exit (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Interrupt *interrupt = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, &error);
  g_assert_no_error (error);
  interrupt->exited = TRUE;
}

/* INTERRUPT_IMAGES copies of a 2400x1600 noisy JPEG, img-NN.jpg. */
static void
add_interrupt_images (const char *dir)
{
  g_autofree char *first = g_build_filename (dir, "img-00.jpg", NULL);

  save_image (first, "jpeg", 2400, 1600, 64);
  for (int i = 1; i < INTERRUPT_IMAGES; i++)
    {
      g_autofree char *name = g_strdup_printf ("img-%02d.jpg", i);
      g_autofree char *path = g_build_filename (dir, name, NULL);

      copy_file (first, path);
    }
}

/* Every file under @dir is a source image or a complete thumbnail of
 * one: no temporary files, no partial JPEG.  Returns how many 1024
 * thumbnails there are. */
static guint
assert_only_complete_files (const char *dir)
{
  g_autoptr(GDir) sources = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n_complete = 0;

  g_autofree char *top = g_build_filename (dir, "thumbnails", NULL);
  g_autoptr(GDir) boxes = g_dir_open (top, 0, NULL);

  while ((name = g_dir_read_name (sources)) != NULL)
    g_assert_true (g_str_has_prefix (name, "img-") || strcmp (name, "thumbnails") == 0);
  g_assert_nonnull (boxes);
  while ((name = g_dir_read_name (boxes)) != NULL)
    g_assert_true (g_str_has_suffix (name, "x32") || g_str_has_suffix (name, "x64")
                   || g_str_has_suffix (name, "x128") || g_str_has_suffix (name, "x256")
                   || g_str_has_suffix (name, "x512") || g_str_has_suffix (name, "x1024"));

  for (int i = 0; i < N_DEFAULT_SIZES; i++)
    {
      g_autofree char *box = g_strdup_printf ("%dx%d", default_boxes[i], default_boxes[i]);
      g_autofree char *folder = g_build_filename (dir, "thumbnails", box, NULL);
      g_autoptr(GDir) thumbnails = g_dir_open (folder, 0, NULL);
      int fit_width, fit_height;

      if (thumbnails == NULL)
        continue;
      fit_size (2400, 1600, default_boxes[i], default_boxes[i], &fit_width, &fit_height);
      while ((name = g_dir_read_name (thumbnails)) != NULL)
        {
          g_autofree char *path = g_build_filename (folder, name, NULL);

          g_test_message ("found %s", path);
          g_assert_true (g_str_has_prefix (name, "img-"));
          g_assert_true (g_str_has_suffix (name, ".jpg"));
          g_assert_cmpuint (strlen (name), ==, strlen ("img-00.jpg"));
          assert_thumbnail (path, fit_width, fit_height);
          if (i == 0)
            n_complete++;
        }
    }
  return n_complete;
}

static void
test_interrupt (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *watched = g_build_filename (fixture->dir, "thumbnails", "32x32", NULL);
  const char *args[] = { "--workers", "1", fixture->dir, NULL };
  g_autoptr(GPtrArray) argv = wp_cli_command_line_new ("thumbnail", args);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  Interrupt interrupt = { NULL, };
  guint n_complete;

  g_test_summary ("SIGINT once the first thumbnail exists: exit status 130, "
                  "and only complete thumbnails are left, no temporary file");
  add_interrupt_images (fixture->dir);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error);
  g_assert_no_error (error);
  interrupt.process = process;
  interrupt.signum = SIGINT;
  interrupt.watched = watched;
  interrupt.deadline = g_get_monotonic_time () + INTERRUPT_DEADLINE;

  g_timeout_add (POLL_INTERVAL_MS, poll_first_thumbnail, &interrupt);
  g_subprocess_wait_async (process, NULL, on_interrupted_exit, &interrupt);
  while (!interrupt.exited)
    g_main_context_iteration (NULL, TRUE);

  g_assert_true (interrupt.signalled);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 130);

  n_complete = assert_only_complete_files (fixture->dir);
  g_test_message ("%u of %d images done before the interruption",
                  n_complete, INTERRUPT_IMAGES);
  g_assert_cmpuint (n_complete, <, INTERRUPT_IMAGES);
}

static void
leave_process_group (gpointer user_data)
{
  setpgid (0, 0);
}

static void
test_interrupt_group_sigterm (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autofree char *watched = g_build_filename (fixture->dir, "thumbnails", "32x32", NULL);
  const char *args[] = { "--workers", "2", fixture->dir, NULL };
  g_autoptr(GPtrArray) argv = wp_cli_command_line_new ("thumbnail", args);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  Interrupt interrupt = { NULL, };
  Summary summary;

  g_test_summary ("SIGTERM to the whole process group, workers included: exit "
                  "status 143, no worker reported as failed, and the summary "
                  "says how many images were not done");
  add_interrupt_images (fixture->dir);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, leave_process_group, NULL, NULL);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                          &error);
  g_assert_no_error (error);
  interrupt.process = process;
  interrupt.signum = SIGTERM;
  interrupt.group = TRUE;
  interrupt.watched = watched;
  interrupt.deadline = g_get_monotonic_time () + INTERRUPT_DEADLINE;

  g_timeout_add (POLL_INTERVAL_MS, poll_first_thumbnail, &interrupt);
  while (!interrupt.signalled)
    g_main_context_iteration (NULL, TRUE);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("stdout:\n%s\nstderr:\n%s", out, err);

  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 143);
  g_assert_true (g_str_has_prefix (err, "workpool: interrupted"));
  g_assert_true (strchr (err, '\n') == err + strlen (err) - 1);
  summary = parse_summary (out);
  g_assert_cmpuint (summary.failed, ==, 0);
  g_assert_cmpint (summary.not_done, >, 0);
  g_assert_cmpuint (summary.not_done, <=, summary.images);
  assert_only_complete_files (fixture->dir);
}

/* A pipe whose buffer is full: a write to it blocks until the test
 * reads.  Returns the number of bytes it holds; @fds are blocking. */
static gsize
full_pipe_new (int fds[2])
{
  char chunk[4096];
  gsize filled = 0;
  gssize n;

  memset (chunk, 'x', sizeof chunk);
  g_assert_cmpint (pipe2 (fds, O_CLOEXEC | O_NONBLOCK), ==, 0);
  while ((n = write (fds[1], chunk, sizeof chunk)) > 0)
    filled += n;
  g_assert_cmpint (errno, ==, EAGAIN);
  g_assert_cmpuint (filled, >, 0);
  g_assert_cmpint (fcntl (fds[0], F_SETFL, 0), ==, 0);
  g_assert_cmpint (fcntl (fds[1], F_SETFL, 0), ==, 0);
  return filled;
}

/* Appends what @stream gives to @text until @text ends with @suffix, or
 * with @suffix NULL until the end of the stream.  Blocks. */
static void
read_until (GInputStream *stream,
            GString      *text,
            const char   *suffix)
{
  while (suffix == NULL || !g_str_has_suffix (text->str, suffix))
    {
      g_autoptr(GError) error = NULL;
      char buffer[4096];
      gssize n = g_input_stream_read (stream, buffer, sizeof buffer, NULL, &error);

      g_assert_no_error (error);
      if (n == 0 && suffix == NULL)
        return;
      if (n == 0)
        g_error ("end of file before \"%s\"; so far: \"%s\"", g_strescape (suffix, NULL),
                 g_strescape (text->str, NULL));
      g_string_append_len (text, buffer, n);
    }
}

static void
test_interrupt_after_work (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *b = add_jpeg (fixture->dir, "b.jpg");
  const char *args[] = { "--workers", "1", "--progress=always", fixture->dir, NULL };
  g_autoptr(GPtrArray) argv = wp_cli_command_line_new ("thumbnail", args);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GInputStream) out_pipe = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) err = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  int out_fds[2];
  gsize filled, bar_end;

  g_test_summary ("SIGINT once every image is done and the progress bar is "
                  "cleared: the run keeps the exit status it earned, 0, "
                  "and prints its summary");

  /* The summary cannot be written, so the command cannot exit, until
   * the test reads stdout: the signal always finds it running. */
  filled = full_pipe_new (out_fds);
  out_pipe = g_unix_input_stream_new (out_fds[0], TRUE);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_take_stdout_fd (launcher, out_fds[1]);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                          &error);
  g_assert_no_error (error);
  g_clear_object (&launcher);   /* closes our copy of stdout's write end */

  /* The bar is cleared (a bare erase-line: every redraw writes text
   * after it) once every job is back. */
  read_until (g_subprocess_get_stderr_pipe (process), err, ERASE_LINE);
  bar_end = err->len;
  g_subprocess_send_signal (process, SIGINT);

  read_until (out_pipe, out, NULL);
  read_until (g_subprocess_get_stderr_pipe (process), err, NULL);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("stdout after the filler:\n%s\nstderr after the bar:\n%s",
                  out->str + MIN (filled, out->len), err->str + bar_end);

  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  g_assert_cmpuint (out->len, >, filled);
  assert_summary (out->str + filled, 2, 12, 0, 0);
  g_assert_cmpstr (err->str + bar_end, ==, "");
  assert_default_thumbnails (fixture->dir, "a", 300, 200);
  assert_default_thumbnails (fixture->dir, "b", 300, 200);
}

/* Descriptors */

#define LOW_NOFILE     64
#define LOW_NOFILE_IMAGES 40

/* A child setup: RLIMIT_NOFILE of LOW_NOFILE, soft and hard, so that the
 * command cannot raise it. */
static void
limit_open_files (gpointer user_data)
{
  struct rlimit limit = { LOW_NOFILE, LOW_NOFILE };

  setrlimit (RLIMIT_NOFILE, &limit);
}

static void
test_descriptors_low_limit (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(GPtrArray) argv = wp_cli_command_line_new ("thumbnail",
    (const char * const[]) { "--workers", "2", fixture->dir, NULL });
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int wait_status;

  g_test_summary ("Under an open-file limit of 64, which two workers' jobs of six "
                  "sizes, four each, would pass (19 descriptors a job), the command "
                  "bounds its jobs in flight and does every image");
  for (guint i = 0; i < LOW_NOFILE_IMAGES; i++)
    {
      g_autofree char *name = g_strdup_printf ("%02u.jpg", i);
      g_autofree char *path = add_jpeg (fixture->dir, name);
    }

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, limit_open_files, NULL,
                &out, &err, &wait_status, &error);
  g_assert_no_error (error);
  g_test_message ("stdout: %s\nstderr: %s", out, err);
  g_assert_true (WIFEXITED (wait_status));
  g_assert_cmpint (WEXITSTATUS (wait_status), ==, 0);
  g_assert_cmpstr (err, ==, "");
  assert_summary (out, LOW_NOFILE_IMAGES, LOW_NOFILE_IMAGES * N_DEFAULT_SIZES, 0, 0);
}

/* Job shapes and options */

static void
test_one_job_per_size (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *one = g_build_filename (fixture->dir, "one", NULL);
  g_autofree char *per_size = g_build_filename (fixture->dir, "per-size", NULL);
  g_autofree char *a = g_build_filename (one, "a.jpg", NULL);
  g_autofree char *a_copy = g_build_filename (per_size, "a.jpg", NULL);
  g_autofree char *b = add_jpeg (one, "b.jpg");
  g_autofree char *b_copy = g_build_filename (per_size, "b.jpg", NULL);
  g_autoptr(WpCliRun) run_one = NULL;
  g_autoptr(WpCliRun) run_per_size = NULL;

  g_test_summary ("--one-job-per-size writes the same files as one job per "
                  "image");
  save_image (a, "jpeg", 1500, 1000, 8);
  g_assert_cmpint (g_mkdir (per_size, 0755), ==, 0);
  copy_file (a, a_copy);
  copy_file (b, b_copy);

  run_one = run_thumbnail (one);
  run_per_size = run_thumbnail ("--one-job-per-size", per_size);
  g_assert_cmpint (run_one->status, ==, 0);
  g_assert_cmpint (run_per_size->status, ==, 0);
  assert_summary (run_per_size->out, 2, 12, 0, 0);
  assert_default_thumbnails (one, "a", 1500, 1000);
  assert_default_thumbnails (per_size, "a", 1500, 1000);
  assert_default_thumbnails (one, "b", 300, 200);
  assert_default_thumbnails (per_size, "b", 300, 200);
}

static goffset
file_size (const char *path)
{
  struct stat info;

  g_assert_cmpint (stat (path, &info), ==, 0);
  return info.st_size;
}

static void
test_quality (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *low = g_build_filename (fixture->dir, "low", NULL);
  g_autofree char *high = g_build_filename (fixture->dir, "high", NULL);
  g_autofree char *a_low = g_build_filename (low, "a.jpg", NULL);
  g_autofree char *a_high = g_build_filename (high, "a.jpg", NULL);
  g_autofree char *thumb_low = thumbnail_path (low, "a", 512);
  g_autofree char *thumb_high = thumbnail_path (high, "a", 512);
  g_autoptr(WpCliRun) run_low = NULL;
  g_autoptr(WpCliRun) run_high = NULL;

  g_test_summary ("--quality sets the JPEG quality, in both job shapes");
  save_image (a_low, "jpeg", 1500, 1000, 32);
  g_assert_cmpint (g_mkdir (high, 0755), ==, 0);
  copy_file (a_low, a_high);

  run_low = run_thumbnail ("--quality", "10", "--sizes", "512x512", low);
  run_high = run_thumbnail ("--quality", "95", "--sizes", "512x512",
                            "--one-job-per-size", high);
  g_assert_cmpint (run_low->status, ==, 0);
  g_assert_cmpint (run_high->status, ==, 0);
  assert_thumbnail (thumb_low, 512, 341);
  assert_thumbnail (thumb_high, 512, 341);
  g_assert_cmpint (file_size (thumb_low) * 2, <, file_size (thumb_high));
}

/* Robustness */

static void
test_worker_missing (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *saved = g_strdup (g_getenv ("WORKPOOL_WORKER"));
  g_autofree char *missing = g_build_filename (fixture->dir, "no-such-worker", NULL);
  g_autoptr(WpCliRun) run = NULL;
  const char *line;

  g_test_summary ("when the worker program does not exist, the command stops at the "
                  "first \"Cannot start workers\", prints it once, naming the program, "
                  "and exits with status 1");

  for (int i = 0; i < 20; i++)
    {
      g_autofree char *name = g_strdup_printf ("%02d.jpg", i);
      g_autofree char *path = add_jpeg (fixture->dir, name);
    }

  g_assert_nonnull (saved);
  g_setenv ("WORKPOOL_WORKER", missing, TRUE);
  run = run_thumbnail ("--workers", "1", fixture->dir);
  g_setenv ("WORKPOOL_WORKER", saved, TRUE);

  g_test_message ("%s", run->err);
  g_assert_cmpint (run->status, ==, 1);
  line = strstr (run->err, "Cannot start workers");
  g_assert_nonnull (line);
  g_assert_null (strstr (line + 1, "Cannot start workers"));
  g_assert_nonnull (strstr (run->err, missing));
  g_assert_null (strstr (run->err, ".jpg"));
  assert_no_error_codes (run->err);
  assert_no_thumbnails (fixture->dir);
}

static void
test_workers_cannot_start (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(WpCliRun) run = NULL;
  const char *line;

  g_test_summary ("when no worker can start (a 16M memory limit), the command stops "
                  "at the first such error, prints it once and exits with status 1");
  if (WP_ASAN_BUILD)
    {
      g_test_skip ("a worker cannot apply a memory limit in an AddressSanitizer build");
      return;
    }

  for (int i = 0; i < 20; i++)
    {
      g_autofree char *name = g_strdup_printf ("%02d.jpg", i);
      g_autofree char *path = add_jpeg (fixture->dir, name);
    }

  run = run_thumbnail ("--workers", "1", "--memory-limit", "16M", fixture->dir);
  g_test_message ("%s", run->err);
  g_assert_cmpint (run->status, ==, 1);
  /* Once, naming no image (the message carries the worker's stderr). */
  line = strstr (run->err, "Cannot start workers");
  g_assert_nonnull (line);
  g_assert_null (strstr (line + 1, "Cannot start workers"));
  g_assert_null (strstr (run->err, ".jpg"));
  g_assert_true (g_str_has_prefix (run->err, "workpool: "));
  assert_no_error_codes (run->err);
  g_assert_null (strstr (run->err, "interrupted"));
  assert_no_thumbnails (fixture->dir);
}

/* The stand-in plugin's jobs try to read a secret beside the images. */
static WpCliRun *
run_snooping (const char *dir,
              const char *secret,
              const char *sandbox_option)
{
  g_autofree char *test_folder = g_strdup (g_getenv ("WORKPOOL_TEST_SANDBOX_FOLDER"));
  WpCliRun *run;

  /* Under `meson test --setup strict`, which opens /tmp to the workers:
   * the sandbox tested here is the one users get. */
  g_unsetenv ("WORKPOOL_TEST_SANDBOX_FOLDER");
  g_setenv ("WP_TEST_SNOOP", secret, TRUE);
  if (sandbox_option != NULL)
    run = run_thumbnail ("--plugin-dir", g_getenv ("WORKPOOL_STALL_PLUGIN_DIR"),
                         "--workers", "1", sandbox_option, dir);
  else
    run = run_thumbnail ("--plugin-dir", g_getenv ("WORKPOOL_STALL_PLUGIN_DIR"),
                         "--workers", "1", dir);
  g_unsetenv ("WP_TEST_SNOOP");
  if (test_folder != NULL)
    g_setenv ("WORKPOOL_TEST_SANDBOX_FOLDER", test_folder, TRUE);
  g_test_message ("%s", run->err);
  g_assert_cmpint (run->status, ==, 1);
  return run;
}

static void
test_sandbox (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *secret = g_build_filename (fixture->dir, "secret.txt", NULL);
  g_autoptr(WpCliRun) strict = NULL;
  g_autoptr(WpCliRun) explicit_strict = NULL;
  g_autoptr(WpCliRun) none = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("The workers are sandboxed unless --sandbox=none: a plugin that tries "
                  "to read a file beside the images cannot");

  g_file_set_contents (secret, "secret\n", -1, &error);
  g_assert_no_error (error);

  strict = run_snooping (fixture->dir, secret, NULL);
  g_assert_nonnull (strstr (strict->err, "could not snoop on"));
  g_assert_nonnull (strstr (strict->err, g_strerror (EACCES)));
  explicit_strict = run_snooping (fixture->dir, secret, "--sandbox=strict");
  g_assert_nonnull (strstr (explicit_strict->err, "could not snoop on"));
  none = run_snooping (fixture->dir, secret, "--sandbox=none");
  g_assert_nonnull (strstr (none->err, "snooped on"));
  g_assert_null (strstr (none->err, "could not"));
}

static void
test_launcher_paths (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *sub = g_build_filename (fixture->dir, "sub", NULL);
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *b = NULL;
  g_autofree char *saved = g_get_current_dir ();
  g_autoptr(WpCliRun) first = NULL;
  g_autoptr(WpCliRun) second = NULL;
  g_autoptr(WpCliRun) strict = NULL;
  g_autoptr(WpCliRun) xdg = NULL;

  g_test_summary ("--launcher: the workers write by path, a relative DIR made absolute for "
                  "them; a second run skips; --sandbox=strict and --xdg-cache are refused");

  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  b = add_jpeg (sub, "b.jpg");

  /* A relative DIR: the launcher's workers start in another folder. */
  g_assert_cmpint (chdir (fixture->dir), ==, 0);
  first = run_thumbnail ("--launcher", wp_cli_test_launcher (), "--workers", "2", ".");
  g_assert_cmpint (chdir (saved), ==, 0);
  g_test_message ("%s%s", first->out, first->err);
  g_assert_cmpint (first->status, ==, 0);
  assert_summary (first->out, 2, 12, 0, 0);
  assert_default_thumbnails (fixture->dir, "a", 300, 200);
  assert_default_thumbnails (sub, "b", 300, 200);

  second = run_thumbnail ("--launcher", wp_cli_test_launcher (), fixture->dir);
  g_assert_cmpint (second->status, ==, 0);
  assert_summary (second->out, 2, 0, 2, 0);

  strict = run_thumbnail ("--launcher", wp_cli_test_launcher (), "--sandbox=strict", fixture->dir);
  assert_usage_error (strict, "--launcher and --sandbox=strict");
  xdg = run_thumbnail ("--launcher", wp_cli_test_launcher (), "--xdg-cache=normal", fixture->dir);
  assert_usage_error (xdg, "--launcher and --xdg-cache");
}

static void
test_timeout (Fixture       *fixture,
              gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *prefix = g_strconcat ("workpool: ", a, ": ", NULL);
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("--timeout: an image whose job never ends fails after that many "
                  "seconds, its worker killed, and the command ends");
  run = run_thumbnail ("--plugin-dir", g_getenv ("WORKPOOL_STALL_PLUGIN_DIR"),
                       "--timeout", "1", "--workers", "1", fixture->dir);
  g_test_message ("%s", run->err);
  g_assert_cmpint (run->status, ==, 1);
  assert_summary (run->out, 1, 0, 0, 1);
  g_assert_true (g_str_has_prefix (run->err, prefix));
  g_assert_nonnull (strstr (run->err, "timed out"));
  assert_no_error_codes (run->err);
}

static void
test_usage_timeout (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(WpCliRun) negative = NULL;
  g_autoptr(WpCliRun) word = NULL;

  g_test_summary ("--timeout takes whole seconds from 0");
  negative = run_thumbnail ("--timeout", "-1", fixture->dir);
  assert_usage_error (negative, "--timeout");
  word = run_thumbnail ("--timeout", "soon", fixture->dir);
  g_assert_cmpint (word->status, ==, 2);
}

/* @image failed on the symbolic link @link, an error without codes that
 * names both, and nothing was written in @outside, where it points. */
static void
assert_link_refused (WpCliRun   *run,
                     const char *image,
                     const char *link,
                     const char *outside)
{
  g_autofree char *prefix = g_strconcat ("workpool: ", image, ": ", NULL);
  g_autoptr(GDir) dir = NULL;

  g_assert_true (g_str_has_prefix (run->err, prefix));
  g_assert_nonnull (strstr (run->err, "symbolic link"));
  g_assert_nonnull (strstr (run->err, link));
  assert_no_error_codes (run->err);
  dir = g_dir_open (outside, 0, NULL);
  g_assert_nonnull (dir);
  g_assert_null (g_dir_read_name (dir));
}

static void
test_thumbnails_link (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *photos = g_build_filename (fixture->dir, "photos", NULL);
  g_autofree char *outside = g_build_filename (fixture->dir, "outside", NULL);
  g_autofree char *link = g_build_filename (photos, "thumbnails", NULL);
  g_autofree char *a = NULL;
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("a `thumbnails` folder that is a symbolic link fails its image with "
                  "an error naming the link, and nothing is written where it points");
  g_assert_cmpint (g_mkdir_with_parents (photos, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (outside, 0755), ==, 0);
  a = add_jpeg (photos, "a.jpg");
  g_assert_cmpint (symlink ("../outside", link), ==, 0);

  run = run_thumbnail (photos);
  g_test_message ("%s", run->err);
  g_assert_cmpint (run->status, ==, 1);
  assert_summary (run->out, 1, 0, 0, 1);
  assert_link_refused (run, a, link, outside);
}

static void
test_output_links (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *photos = g_build_filename (fixture->dir, "photos", NULL);
  g_autofree char *sub = g_build_filename (photos, "sub", NULL);
  g_autofree char *outside = g_build_filename (fixture->dir, "outside", NULL);
  g_autofree char *out = g_build_filename (fixture->dir, "out", NULL);
  g_autofree char *out_photos = g_build_filename (out, "photos", NULL);
  g_autofree char *out_sub = g_build_filename (out_photos, "sub", NULL);
  g_autofree char *a = add_jpeg (photos, "a.jpg");
  g_autofree char *b = add_jpeg (sub, "b.jpg");
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("with --output OUT, a symbolic link among the folders under OUT "
                  "fails its image with an error naming the link, nothing is "
                  "written where it points, and the other images are written");
  g_assert_cmpint (g_mkdir_with_parents (out_photos, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (outside, 0755), ==, 0);
  g_assert_cmpint (symlink ("../../outside", out_sub), ==, 0);

  run = run_thumbnail ("--output", out, photos);
  g_test_message ("%s", run->err);
  g_assert_cmpint (run->status, ==, 1);
  assert_summary (run->out, 2, 6, 0, 1);
  assert_default_thumbnails (out_photos, "a", 300, 200);
  assert_link_refused (run, b, out_sub, outside);
}

static void
test_output_leftovers (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *photos = g_build_filename (fixture->dir, "photos", NULL);
  g_autofree char *out = g_build_filename (fixture->dir, "out", NULL);
  g_autofree char *out_photos = g_build_filename (out, "photos", NULL);
  g_autofree char *folder = g_build_filename (out_photos, "thumbnails", "64x64", NULL);
  g_autofree char *leftover = g_build_filename (folder, ".a.jpg.wptmp-AbCd12", NULL);
  g_autofree char *kept = g_build_filename (folder, "notes.txt", NULL);
  g_autofree char *a = add_jpeg (photos, "a.jpg");
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("with --output OUT, a run removes the temporary files a killed "
                  "writer left in the thumbnail folders it writes under OUT");
  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  g_assert_true (g_file_set_contents (leftover, "left", -1, NULL));
  g_assert_true (g_file_set_contents (kept, "kept", -1, NULL));

  run = run_thumbnail ("--output", out, photos);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_false (g_file_test (leftover, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (kept, G_FILE_TEST_IS_REGULAR));
  assert_default_thumbnails (out_photos, "a", 300, 200);
}

/* Every file under each thumbnail folder of @folder is a complete JPEG
 * (ending with EOI, decoding without error) under a thumbnail's name or,
 * when @temps_allowed, a temporary name (a worker killed between naming
 * its complete file and renaming it leaves one).  Returns the number of
 * thumbnails. */
static guint
assert_thumbnails_whole (const char *folder,
                         gboolean    temps_allowed)
{
  g_autofree char *thumbnails = g_build_filename (folder, "thumbnails", NULL);
  g_autoptr(GDir) boxes = g_dir_open (thumbnails, 0, NULL);
  const char *box;
  guint n = 0;

  if (boxes == NULL)
    return 0;
  while ((box = g_dir_read_name (boxes)) != NULL)
    {
      g_autofree char *box_folder = g_build_filename (thumbnails, box, NULL);
      g_autoptr(GDir) files = g_dir_open (box_folder, 0, NULL);
      const char *name;

      g_assert_nonnull (files);
      while ((name = g_dir_read_name (files)) != NULL)
        {
          g_autofree char *path = g_build_filename (box_folder, name, NULL);
          g_autofree char *contents = NULL;
          g_autoptr(GdkPixbuf) pixbuf = NULL;
          g_autoptr(GError) error = NULL;
          gsize length;

          if (strstr (name, ".wptmp-") != NULL)
            g_assert_true (temps_allowed);
          else
            g_assert_true (g_str_has_suffix (name, ".jpg") && name[0] != '.');
          g_file_get_contents (path, &contents, &length, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (length, >, 4);
          g_assert_cmpint ((guint8) contents[length - 2], ==, 0xFF);
          g_assert_cmpint ((guint8) contents[length - 1], ==, 0xD9);
          pixbuf = gdk_pixbuf_new_from_file (path, &error);
          g_assert_no_error (error);
          if (name[0] != '.')
            n++;
        }
    }
  return n;
}

static void
test_leftovers_removed (Fixture       *fixture,
                        gconstpointer  data)
{
  static const char *const kept[] = { ".keep", "notes.txt", ".a.jpg.12345678",
                                      ".a.jpg.wptmp-AbCd" };
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autofree char *folder = g_build_filename (fixture->dir, "thumbnails", "64x64", NULL);
  g_autofree char *leftover = g_build_filename (folder, ".a.jpg.wptmp-AbCd12", NULL);
  g_autofree char *thumbnail = thumbnail_path (fixture->dir, "a", 64);
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("a run removes the temporary files a killed writer left in the "
                  "thumbnail folders it writes, recognised by their exact name, "
                  "and nothing else");
  g_assert_cmpint (g_mkdir_with_parents (folder, 0755), ==, 0);
  g_assert_true (g_file_set_contents (leftover, "left", -1, NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (kept); i++)
    {
      g_autofree char *path = g_build_filename (folder, kept[i], NULL);

      g_assert_true (g_file_set_contents (path, "kept", -1, NULL));
    }

  run = run_thumbnail (fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_false (g_file_test (leftover, G_FILE_TEST_EXISTS));
  for (gsize i = 0; i < G_N_ELEMENTS (kept); i++)
    {
      g_autofree char *path = g_build_filename (folder, kept[i], NULL);

      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
    }
  assert_thumbnail (thumbnail, 64, 43);
}

/* The worker processes of @pid, its children. */
static GArray *
children_of (GPid pid)
{
  GArray *children = g_array_new (FALSE, FALSE, sizeof (GPid));
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *stat_path = g_build_filename ("/proc", name, "stat", NULL);
      g_autofree char *stat = NULL;
      const char *end;
      int ppid;
      GPid child;

      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (stat_path, &stat, NULL, NULL))
        continue;
      end = strrchr (stat, ')');
      if (end == NULL || sscanf (end + 2, "%*c %d", &ppid) != 1 || ppid != pid)
        continue;
      child = atoi (name);
      g_array_append_val (children, child);
    }
  return children;
}

/* The newest modification time of the 32x32 thumbnails of @folder. */
static gint64
newest_thumbnail (const char *folder,
                  guint       n_images)
{
  gint64 newest = 0;

  for (guint i = 0; i < n_images; i++)
    {
      g_autofree char *stem = g_strdup_printf ("%02u", i);
      g_autofree char *path = thumbnail_path (folder, stem, 32);

      newest = MAX (newest, mtime_ns (path));
    }
  return newest;
}

#define STORM_IMAGES 24
#define STORM_ROUNDS 12

static void
test_kill_storm (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(WpCliRun) first = NULL;
  g_autoptr(WpCliRun) last = NULL;

  g_test_summary ("SIGKILL of the workers or of the command during --force runs "
                  "never leaves a partial thumbnail, and the next run leaves no "
                  "temporary file: every thumbnail decodes fully");

  for (guint i = 0; i < STORM_IMAGES; i++)
    {
      g_autofree char *name = g_strdup_printf ("%02u.jpg", i);
      g_autofree char *path = g_build_filename (fixture->dir, name, NULL);

      save_image (path, "jpeg", 1600, 1200, 8);
    }
  first = run_thumbnail ("--workers", "2", fixture->dir);
  g_assert_cmpint (first->status, ==, 0);

  for (guint round = 0; round < STORM_ROUNDS; round++)
    {
      g_autoptr(GPtrArray) argv = wp_cli_command_line_new ("thumbnail",
        (const char * const[]) { "--force", "--quiet", "--workers", "2", fixture->dir, NULL });
      g_autoptr(GSubprocess) process = NULL;
      g_autoptr(GError) error = NULL;
      gint64 before = newest_thumbnail (fixture->dir, STORM_IMAGES);
      gint64 deadline = g_get_monotonic_time () + INTERRUPT_DEADLINE;
      GPid pid;

      process = g_subprocess_newv ((const char * const *) argv->pdata,
                                   G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                   | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
      g_assert_no_error (error);
      pid = atoi (g_subprocess_get_identifier (process));

      /* Until a thumbnail has been replaced: writing is under way. */
      while (newest_thumbnail (fixture->dir, STORM_IMAGES) == before
             && g_get_monotonic_time () < deadline)
        g_usleep (POLL_INTERVAL_MS * 1000);

      if (round % 2 == 0)
        {
          g_autoptr(GArray) workers = children_of (pid);

          for (guint i = 0; i < workers->len; i++)
            kill (g_array_index (workers, GPid, i), SIGKILL);
          g_subprocess_wait (process, NULL, &error);
        }
      else
        {
          g_subprocess_force_exit (process);
          g_subprocess_wait (process, NULL, &error);
        }
      g_assert_no_error (error);
      g_test_message ("round %u: %s, %u thumbnails whole", round,
                      round % 2 == 0 ? "workers killed" : "command killed",
                      assert_thumbnails_whole (fixture->dir, TRUE));
    }

  last = run_thumbnail ("--workers", "2", fixture->dir);
  g_assert_cmpint (last->status, ==, 0);
  g_assert_cmpuint (assert_thumbnails_whole (fixture->dir, FALSE), ==,
                    STORM_IMAGES * N_DEFAULT_SIZES);
}

/* Output */

static void
test_output_quiet (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autoptr(WpCliRun) run = NULL;

  g_test_summary ("--quiet prints nothing when all goes well");
  run = run_thumbnail ("--quiet", fixture->dir);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_cmpstr (run->out, ==, "");
  g_assert_cmpstr (run->err, ==, "");
  assert_default_thumbnails (fixture->dir, "a", 300, 200);
}

static void
test_output_progress (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  g_autoptr(WpCliRun) automatic = NULL;
  g_autoptr(WpCliRun) always = NULL;

  g_test_summary ("no progress bar when stderr is not a terminal, unless "
                  "--progress=always; it never reaches stdout");
  automatic = run_thumbnail (fixture->dir);
  g_assert_cmpint (automatic->status, ==, 0);
  g_assert_cmpstr (automatic->err, ==, "");

  always = run_thumbnail ("--progress=always", "--force", fixture->dir);
  g_assert_cmpint (always->status, ==, 0);
  g_assert_nonnull (strstr (always->err, "\r\033[K"));
  g_assert_nonnull (strstr (always->err, "images"));
  assert_summary (always->out, 1, 6, 0, 0);
}

static void
test_output_summary_write_error (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autofree char *a = add_jpeg (fixture->dir, "a.jpg");
  const char *args[] = { "--sizes", "32x32", fixture->dir, NULL };
  g_autoptr(GPtrArray) argv = wp_cli_command_line_new ("thumbnail", args);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;

  g_test_summary ("a summary that cannot be written (stdout is /dev/full) is "
                  "reported on stderr, with exit status 1");
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_stdout_file_path (launcher, "/dev/full");
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                          &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  g_test_message ("stderr:\n%s", err);

  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 1);
  g_assert_true (g_str_has_prefix (err, "workpool: cannot write the summary: "));
  g_assert_nonnull (strstr (err, "No space left on device"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_nonnull (g_getenv ("WORKPOOL_CLI"));

#define ADD(path, func) \
  g_test_add ("/cli-thumbnail/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("layout", test_layout);
  ADD ("layout/portrait-and-small", test_layout_portrait_small);
  ADD ("layout/sizes-option", test_layout_sizes_option);
  ADD ("walk/subfolders", test_walk_subfolders);
  ADD ("walk/several-dirs", test_walk_several_dirs);
  ADD ("walk/extension-case", test_walk_extension_case);
  ADD ("walk/ext-option", test_walk_ext_option);
  ADD ("names/same-stem", test_names_same_stem);
  ADD ("names/stem-is-a-name", test_names_stem_is_a_name);
  ADD ("names/case", test_names_case);
  ADD ("names/heic-beside-jpeg", test_names_heic);
  ADD ("names/other-extensions", test_names_other_extensions);
  ADD ("output-dir/mirror", test_output_mirror);
  ADD ("output-dir/several-dirs", test_output_several_dirs);
  ADD ("output-dir/nested-dirs", test_output_nested_dirs);
  ADD ("output-dir/same-name", test_output_same_name);
  ADD ("output-dir/links", test_output_links);
  ADD ("output-dir/leftovers-removed", test_output_leftovers);
  ADD ("walk/folder-link", test_walk_folder_link);
  ADD ("walk/link-loop", test_walk_link_loop);
  ADD ("walk/bad-entries", test_walk_bad_entries);
  ADD ("walk/unreadable-folder", test_walk_unreadable_folder);
  ADD ("walk/roots-once", test_walk_roots_once);
  ADD ("skip/second-run", test_skip_second_run);
  ADD ("skip/stale", test_skip_stale);
  ADD ("skip/replaced-older", test_skip_replaced_older);
  ADD ("skip/same-mtime", test_skip_same_mtime);
  ADD ("skip/no-record", test_skip_no_record);
  ADD ("force", test_force);
  ADD ("failure/one-bad-file", test_failure_one_bad_file);
  ADD ("failure/non-utf8-name", test_failure_non_utf8_name);
  ADD ("failure/codes-in-debug", test_failure_codes_in_debug);
  ADD ("walk/no-images", test_walk_no_images);
  ADD ("formats/ext-all", test_formats_ext_all);
  ADD ("formats/missing-loader", test_formats_missing_loader);
  ADD ("usage/missing-dir", test_usage_missing_dir);
  ADD ("failure/written-count", test_failure_written_count);
  ADD ("damaged/warning", test_damaged_warning);
  ADD ("damaged/quiet", test_damaged_quiet);
  ADD ("damaged/strict", test_damaged_strict);
  ADD ("damaged/one-job-per-size", test_damaged_one_job_per_size);
  ADD ("usage/sizes", test_usage_sizes);
  ADD ("usage/dirs", test_usage_dirs);
  ADD ("usage/numbers", test_usage_numbers);
  ADD ("usage/memory-limit", test_usage_memory_limit);
  ADD ("memory-limit/big-image", test_memory_limit_big_image);
  ADD ("memory-limit/named", test_memory_limit_named);
  ADD ("usage/max-pixels", test_usage_max_pixels);
  ADD ("big/phone-photos", test_big_phone_photos);
  ADD ("big/max-pixels", test_max_pixels);
  ADD ("interrupt", test_interrupt);
  ADD ("interrupt/after-work", test_interrupt_after_work);
  ADD ("interrupt/group-sigterm", test_interrupt_group_sigterm);
  ADD ("one-job-per-size", test_one_job_per_size);
  ADD ("descriptors/low-limit", test_descriptors_low_limit);
  ADD ("quality", test_quality);
  ADD ("robustness/workers-cannot-start", test_workers_cannot_start);
  ADD ("robustness/worker-missing", test_worker_missing);
  ADD ("robustness/timeout", test_timeout);
  ADD ("robustness/sandbox", test_sandbox);
  ADD ("launcher/paths", test_launcher_paths);
  ADD ("usage/timeout", test_usage_timeout);
  ADD ("robustness/thumbnails-link", test_thumbnails_link);
  ADD ("robustness/leftovers-removed", test_leftovers_removed);
  ADD ("robustness/kill-storm", test_kill_storm);
  ADD ("output/quiet", test_output_quiet);
  ADD ("output/progress", test_output_progress);
  ADD ("output/summary-write-error", test_output_summary_write_error);

#undef ADD

  return g_test_run ();
}
