/* wp-cli-thumbnail.c: `workpool thumbnail`, JPEG thumbnails of folders of photos.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   workpool thumbnail [--sizes WxH,…] [--workers N] [--quality Q] [--force]
 *                      [--one-job-per-size] [--ext EXT,…|all] [--quiet]
 *                      [--progress=auto|always|never] [--memory-limit SIZE]
 *                      [--max-pixels N] [--strict] [--timeout SECONDS]
 *                      [--output OUT] [--sandbox strict|none] [--launcher COMMAND]
 *                      [--plugin-dir DIR] DIR…
 *
 *   $ workpool thumbnail ~/Photos
 *   1234 images, 7404 thumbnails written, 0 skipped, 0 failed, 0 passed over,
 *   41.20 s, 29.95 images/s
 *
 * For every image found under each DIR (wp-cli-walk.c: recursively,
 * links followed, each folder once, `thumbnails` folders skipped, .jpg
 * and .jpeg in any case by default; --ext all: every extension of the
 * installed gdk-pixbuf loaders, wp-cli-formats.c),
 * writes one thumbnail per size box, with the thumbnail plugin, to
 *
 *   FOLDER/thumbnails/WxH/NAME.jpg
 *
 * where FOLDER is the image's folder (with --output OUT, its mirror
 * OUT/ROOT/SUBDIR: ROOT the name of the DIR it was found under, SUBDIR
 * its folder's path below that DIR; two DIRs of the same name are a
 * usage error), WxH the box (1024x1024, …) and NAME the image's file name
 * without its extension, or its whole file name when that could be
 * another image's thumbnail (a.jpg and a.png in one folder: a.jpg.jpg and
 * a.png.jpg; wp-cli-names.c has the rule).  So distinct images never
 * share a thumbnail.  An image is skipped (unless --force) when each of
 * its thumbnails records, in a JPEG comment the plugin writes, the
 * image's current mtime (in nanoseconds) and size (wp-thumbnail-stamp.c):
 * a second run costs a walk, a stat() per image and a read of the first
 * few KiB of each thumbnail.  A file name that is not UTF-8 fails its
 * image (the plugin names the image in its messages with a GVariant
 * string).
 *
 * Job shape.  One `write_fds` job per image (decode once, write every
 * size; MAX_BOXES_PER_JOB sizes at most, more take several) by default;
 * with --one-job-per-size, the reference program's shape, one per
 * (image, size).  The workers read no path: the command opens the image
 * (refusing what is not a regular file: a FIFO does not block it) and
 * creates each thumbnail as an unnamed file in its destination's folder,
 * following no symbolic link below the image's folder, or OUT with
 * --output, and passes their descriptors (wp-thumbnail-files.c); when
 * the job succeeds it names them, each replacing the old thumbnail
 * atomically, and when it fails or is cancelled it discards them.  A
 * thumbnail whose file cannot be created (a link in the way, a file
 * where its folder should be) fails the image, and the others are still
 * written.  The options give the quality, the pixel limit, `strict` with
 * --strict and the image's path, for the plugin's messages.
 *
 * Damaged images.  An image that decodes in part (a truncated or corrupt
 * JPEG, a GIF whose later frame is damaged) gets thumbnails of what
 * decodes; the `write_fds` report's `damage` says what is wrong.  Such
 * an image counts as done and, apart, as damaged, with a warning line on
 * stderr (not with --quiet); it does not change the exit status.  With
 * --strict the plugin refuses it instead, writing nothing (the command
 * discards its files), and it fails like any other image.
 *
 * Flow.  An idle source (feed_pool) takes images from the walk and
 * submits their jobs while fewer than the window's jobs are in flight,
 * and stops when the window is full; every returning job
 * makes room and schedules it again.  So the first job starts as soon as
 * the first image is found, and however large the tree, the host holds
 * at most a window of jobs, one walk stack and the counters.  An
 * ImageTask lives from an image's submission to its last job's return
 * and is then folded into the counters and freed.
 *
 * Descriptors.  A job's files are opened right before it is submitted
 * and closed when it returns: WP_THUMBNAIL_FILES_FDS (boxes), 19 for the
 * six default sizes.  The window is WINDOW_PER_WORKER (4) jobs per worker,
 * fewer when their descriptors, with an image's other jobs submitted
 * together, would pass half of RLIMIT_NOFILE, whose soft limit is first
 * raised towards the hard one (up to MAX_NOFILE): so however large the
 * tree, the command holds at most window x 19 descriptors for jobs
 * (152 with two workers), never near the limit.
 *
 * Sandbox.  The workers run under WP_SANDBOX_STRICT unless --sandbox=none
 * says otherwise (wp_pool_set_sandbox()): they read no path, so a decoder
 * exploit in an image reads no secret, writes nothing and reaches no one;
 * where the kernel cannot confine them, every image fails saying why.
 *
 * Launcher.  With --launcher (wp_pool_set_launcher()), descriptors cannot
 * reach the workers: each job is a `write` naming the image and its
 * thumbnails by absolute path, with the same folder as `base`, and the
 * plugin writes each atomically itself, following no link below it.  So
 * the tree must be at the same path where the workers run (a shared
 * filesystem); the sandbox is off by default, strict is refused (it
 * forbids paths), and so is --xdg-cache (written through descriptors).
 *
 * Memory.  Each worker runs under a memory limit (RLIMIT_AS, see
 * wp_pool_set_worker_memory_limit()), 1 GiB unless --memory-limit says
 * otherwise: enough for the plugin's largest decode (100 megapixels
 * unless --max-pixels says otherwise; a non-JPEG image decodes fully,
 * 400 MB as RGBA and 300 MB more as RGB: an RGBA PNG of that size needs
 * between 720 and 768 MiB, a TIFF peaks at 813 MB resident; a baseline
 * JPEG is decoded at a reduced scale and needs little, a 200-megapixel
 * phone photo included; a progressive one needs its coefficients, 3
 * bytes per pixel at 4:2:0, which the plugin checks before decoding),
 * while an image that needs more fails alone (an out-of-memory error in
 * which the plugin names the limit, or a crash in which the pool does;
 * either gets how to raise it) instead of making the machine swap.  An
 * image over the pixel limit fails with a message naming its decoded
 * size and the limit, and how to raise it.
 *
 * Time.  Each job runs under the pool's per-job timeout, 60 s per image
 * unless --timeout says otherwise (0: none), so that no file, however
 * hopeless, holds a worker for long; a job past it fails its image with
 * WP_POOL_ERROR_TIMED_OUT and its worker is replaced.
 *
 * Workers that cannot start.  When the pool gives up starting workers
 * (WP_POOL_ERROR_FAILED, "Cannot start workers": a missing worker
 * program, a memory limit too small for one to start), no image can be
 * done: the run stops as if interrupted, prints that error once and
 * exits with status 1.
 *
 * Leftovers.  The command killed while replacing a thumbnail can leave
 * the complete new file under its temporary name, and where the file
 * system has no O_TMPFILE, a partial one (wp-atomic-file.c).  Before
 * the first job that writes in a thumbnail folder is submitted, the run
 * removes the files there that have exactly such a name, opening the
 * folder as it creates thumbnails there, following no link below the
 * image's folder (or OUT).
 *
 * Interruption.  SIGINT and SIGTERM stop the feeding and cancel `stop`,
 * the cancellable shared by every job: queued jobs fail at once and
 * running ones are cancelled in their workers (killed after the pool's
 * grace period), and their files are discarded, so no partial thumbnail
 * or temporary file is left.  Once every job has come back the pool is
 * closed and waited for, and the exit status is 128
 * plus the signal's number (130, 143).  A signal that comes once every
 * job is back, interrupted or not, is caught and ignored until the
 * command exits: the exit status is then the one the work earned, and a
 * second Ctrl-C does not kill the command before its workers are gone.
 *
 * Counting.  Every image the walk gives is, at the end, exactly one of
 * done, skipped, failed or (when interrupted) not done; "damaged" counts
 * the done ones whose thumbnails show only what decodes.  "Thumbnails
 * written" counts files: those the command named after their job
 * succeeded (a failed or cancelled job writes none).
 * "Passed over" counts the walk's entries that could not be taken.
 *
 * Output.  Progress bar on stderr (wp-cli-progress.c) when stderr is a
 * terminal or with --progress=always; a line on stderr per failed image
 * or entry passed over, `workpool: PATH: message`, the message without
 * the mentions of PATH that the plugin's messages make (wp_cli_fail();
 * the error's domain and code are a debug message); a line on stderr per
 * damaged image, `workpool: PATH: warning: damaged, thumbnails show what
 * decodes: DAMAGE` (not with --quiet, which prints only errors); one summary line on
 * stdout (not with --quiet), whose failed write is an error, and when no
 * image was found, a line on stderr saying which extensions were looked
 * for among how many other files, and which other extensions there were.
 * Exit status 0 (damaged images included), 1 when an image failed, an
 * entry was passed over or the summary could not be written (all the other images are still done), 2
 * on a usage error (a DIR that is not a folder is one), 128 + N when
 * interrupted by signal N.
 *
 * Threads: the main thread only, on the global default main context (see
 * wp-cli-private.h), but for on_signal().  Workers share the command's
 * process group, so a Ctrl-C typed in a terminal reaches them too and
 * kills them; the jobs they ran then fail as crashed, which, once a
 * signal has come, count as not done like the others (see Interruption,
 * below).
 */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "wp-cli-private.h"
#include "wp-cli-formats.h"
#include "wp-cli-names.h"
#include "wp-cli-progress.h"
#include "wp-cli-walk.h"
#include "wp-thumbnail-files.h"
#include "wp-thumbnail-stamp.h"
#include "wp-atomic-file.h"
#include "wp-xdg-cache.h"

#define PLUGIN               "thumbnail"
#define DEFAULT_SIZES        "1024x1024,512x512,256x256,128x128,64x64,32x32"
#define DEFAULT_EXTENSIONS   "jpg,jpeg"
#define DEFAULT_XDG_FLAVORS  "normal,large"  /* what file managers ask for */
#define DEFAULT_QUALITY      65    /* the plugin's own default */
#define MAX_BOX_SIDE         65500 /* the largest JPEG side */
#define WINDOW_PER_WORKER    4     /* jobs in flight per worker */
#define MAX_BOXES_PER_JOB    32    /* the pool takes 64 descriptors per job */
#define MAX_NOFILE           65536 /* the soft RLIMIT_NOFILE raised to at most */
#define FEED_BATCH           64    /* walk entries per feed_pool() call */
#define PROGRESS_TICK_MS     100
#define EXIT_SIGNAL_BASE     128   /* + the signal's number, as shells report it */
#define DEFAULT_MEMORY_LIMIT (G_GUINT64_CONSTANT (1) << 30)
#define DEFAULT_MAX_PIXELS   G_GUINT64_CONSTANT (100000000) /* the plugin's own default */
#define DEFAULT_TIMEOUT_S    60
#define MAX_TIMEOUT_S        ((int) (G_MAXUINT / 1000))  /* the pool's timeout is in ms */
#define MAX_SUGGESTED_EXTENSIONS 4

typedef struct {
  int width;
  int height;
} BoxSize;

typedef enum {
  PROGRESS_AUTO,
  PROGRESS_ALWAYS,
  PROGRESS_NEVER,
} ProgressMode;

/* A DIR under --output: its images' folders are mirrored under
 * OUT/name. */
typedef struct {
  char *prefix;  /* the DIR as given, without trailing separators */
  char *name;    /* the DIR's own name */
} OutputRoot;

typedef struct {
  char         *plugin_dir;
  char         *sandbox;      /* --sandbox; NULL: strict, or none with a launcher */
  char         *launcher;     /* --launcher; NULL: workers here */
  char         *output;       /* --output; NULL: beside the images */
  GPtrArray    *output_roots; /* OutputRoot *, with --output */
  GArray       *sizes;        /* BoxSize */
  GStrv         extensions;
  gboolean      all_extensions; /* --ext all: those of the loaders */
  guint         n_workers;    /* 0: one per processor */
  int           quality;
  guint64       memory_limit; /* bytes per worker; 0: none */
  guint64       max_pixels;   /* of an image's decode */
  guint         timeout_s;    /* per job; 0: none */
  gboolean      force;
  gboolean      one_job_per_size;
  gboolean      quiet;
  gboolean      strict;       /* a damaged image fails */
  ProgressMode  progress;
  guint         xdg_flavors;  /* --xdg-cache; 0: not into the cache */
  WpXdgCache   *xdg_cache;    /* with --xdg-cache */
} ThumbOptions;

typedef struct {
  guint64 found;      /* images the walk gave */
  guint64 skipped;    /* up to date */
  guint64 done;       /* every thumbnail written */
  guint64 damaged;    /* of done: from what decodes, warned on stderr */
  guint64 failed;     /* reported on stderr */
  guint64 cancelled;  /* stopped by an interruption */
  guint64 written;    /* thumbnails */
  guint64 passed_over; /* walk entries reported on stderr (wp-cli-walk.c) */
} ThumbCounts;

typedef struct {
  const ThumbOptions *options;
  WpPool             *pool;
  WpCliWalk          *walk;
  WpCliNames         *names;
  GCancellable       *stop;         /* every job's */
  WpCliProgress      *progress;     /* NULL: no bar */
  guint               window;       /* jobs in flight at most */
  guint               in_flight;    /* jobs submitted and not returned */
  guint               feed_source;  /* feed_pool() is scheduled */
  gboolean            walk_done;
  gboolean            stopping;     /* interrupted, or aborted */
  int                 stop_signal;  /* the signal that interrupted, if one did */
  gboolean            aborted;      /* workers cannot start */
  GHashTable         *cleaned;      /* thumbnail folders rid of leftovers */
  gint64              start_time;
  gint64              end_time;
  ThumbCounts         counts;
} ThumbRun;

/* One image, from its submission to the return of its last job. */
typedef struct {
  ThumbRun  *run;
  char      *source;
  GPtrArray *destinations;  /* char *, one per box */
  guint      pending;       /* jobs not returned yet */
  guint      written;       /* thumbnails */
  GError    *error;         /* the first failure */
  char      *damage;        /* the first job's report of damage */
} ImageTask;

/* One job of an image: the boxes from @first to @last - 1, whose files
 * are open from its submission to its return (NULL with a launcher: the
 * job names them by path). */
typedef struct {
  ImageTask        *task;
  WpThumbnailFiles *files;
  guint             first;
  guint             last;
} ImageJob;

/* Options */

static void
thumb_options_clear (ThumbOptions *options)
{
  g_clear_pointer (&options->plugin_dir, g_free);
  g_clear_pointer (&options->sandbox, g_free);
  g_clear_pointer (&options->launcher, g_free);
  g_clear_pointer (&options->output, g_free);
  g_clear_pointer (&options->output_roots, g_ptr_array_unref);
  g_clear_pointer (&options->sizes, g_array_unref);
  g_clear_pointer (&options->extensions, g_strfreev);
  g_clear_pointer (&options->xdg_cache, wp_xdg_cache_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ThumbOptions, thumb_options_clear)

static gboolean
parse_side (const char *text,
            int        *side)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 1, MAX_BOX_SIDE, &value, NULL))
    return FALSE;
  *side = (int) value;
  return TRUE;
}

/* "1024x1024,512x384": boxes, each given once. */
static GArray *
parse_sizes (const char *text)
{
  g_auto(GStrv) items = g_strsplit (text, ",", -1);
  g_autoptr(GArray) sizes = g_array_new (FALSE, FALSE, sizeof (BoxSize));

  for (gsize i = 0; items[i] != NULL; i++)
    {
      g_auto(GStrv) sides = g_strsplit (items[i], "x", -1);
      BoxSize size;

      if (g_strv_length (sides) != 2
          || !parse_side (sides[0], &size.width)
          || !parse_side (sides[1], &size.height))
        {
          wp_cli_usage_error ("--sizes: “%s” is not WIDTHxHEIGHT (1 to %d "
                              "pixels each)", items[i], MAX_BOX_SIDE);
          return NULL;
        }
      for (guint j = 0; j < sizes->len; j++)
        if (g_array_index (sizes, BoxSize, j).width == size.width
            && g_array_index (sizes, BoxSize, j).height == size.height)
          {
            wp_cli_usage_error ("--sizes: %s is given twice", items[i]);
            return NULL;
          }
      g_array_append_val (sizes, size);
    }
  return g_steal_pointer (&sizes);
}

/* "jpg,.JPEG": extensions without their dot, at least one; "all" stands
 * for every extension of the installed gdk-pixbuf loaders
 * (wp-cli-formats.c), and sets @all. */
static GStrv
parse_extensions (const char *text,
                  gboolean   *all)
{
  g_auto(GStrv) items = g_strsplit (text, ",", -1);
  g_autoptr(GStrvBuilder) extensions = g_strv_builder_new ();

  if (items[0] == NULL)
    {
      wp_cli_usage_error ("--ext: no extension given");
      return NULL;
    }
  for (gsize i = 0; items[i] != NULL; i++)
    {
      const char *extension = items[i][0] == '.' ? items[i] + 1 : items[i];

      if (*extension == '\0' || strchr (extension, '/') != NULL)
        {
          wp_cli_usage_error ("--ext: “%s” is not a file name extension", items[i]);
          return NULL;
        }
      if (g_ascii_strcasecmp (items[i], "all") == 0)
        {
          g_auto(GStrv) loaders = wp_cli_formats_dup_extensions ();

          if (loaders[0] == NULL)
            {
              wp_cli_usage_error ("--ext all: no gdk-pixbuf loader is installed");
              return NULL;
            }
          g_strv_builder_addv (extensions, (const char **) loaders);
          *all = TRUE;
          continue;
        }
      g_strv_builder_add (extensions, extension);
    }
  return g_strv_builder_end (extensions);
}

static gboolean
parse_progress (const char   *text,
                ProgressMode *mode)
{
  if (g_strcmp0 (text, "auto") == 0)
    *mode = PROGRESS_AUTO;
  else if (g_strcmp0 (text, "always") == 0)
    *mode = PROGRESS_ALWAYS;
  else if (g_strcmp0 (text, "never") == 0)
    *mode = PROGRESS_NEVER;
  else
    {
      wp_cli_usage_error ("--progress: “%s” is not auto, always or never", text);
      return FALSE;
    }
  return TRUE;
}

/* TEXT: digits, then optionally one of @units, the first worth @base,
 * each next one @base times more, then one of @suffixes ("iB" after
 * "M"...), in any case.  FALSE when TEXT is anything else or too large. */
static gboolean
parse_scaled_number (const char          *text,
                     const char          *units,
                     guint64              base,
                     const char * const  *suffixes,
                     guint64             *value)
{
  const char *unit = NULL;
  guint64 number = 0, multiplier = 1;
  char *end = NULL;

  errno = 0;
  if (g_ascii_isdigit (*text))
    number = g_ascii_strtoull (text, &end, 10);
  if (end != NULL && *end != '\0')
    unit = strchr (units, g_ascii_toupper (*end));
  if (unit != NULL && *unit != '\0')
    {
      for (const char *u = units; u <= unit; u++)
        multiplier *= base;
      end++;
      for (gsize i = 0; suffixes != NULL && suffixes[i] != NULL; i++)
        if (g_ascii_strcasecmp (end, suffixes[i]) == 0)
          end += strlen (end);
    }

  if (end == NULL || *end != '\0' || errno == ERANGE || number > G_MAXUINT64 / multiplier)
    return FALSE;

  *value = number * multiplier;
  return TRUE;
}

/* SIZE: bytes, or a number with K, M, G or T (powers of 1024, with an
 * optional "iB" or "B"); 0 or "none" for no limit. */
static gboolean
parse_memory_limit (const char *text,
                    guint64    *bytes)
{
  static const char * const suffixes[] = { "iB", "B", NULL };

  if (g_ascii_strcasecmp (text, "none") == 0)
    {
      *bytes = 0;
      return TRUE;
    }

  if (!parse_scaled_number (text, "KMGT", 1024, suffixes, bytes))
    {
      wp_cli_usage_error ("--memory-limit: “%s” is not a size (bytes, or a number with K, M, G "
                          "or T, such as 512M or 2G; 0 or none for no limit)", text);
      return FALSE;
    }

  return TRUE;
}

/* N: pixels, or a number with K, M or G (powers of 1000), such as 250M;
 * 0 or "none" for no limit. */
static gboolean
parse_max_pixels (const char *text,
                  guint64    *pixels)
{
  if (g_ascii_strcasecmp (text, "none") == 0)
    {
      *pixels = G_MAXUINT64;
      return TRUE;
    }

  if (!parse_scaled_number (text, "KMG", 1000, NULL, pixels))
    {
      wp_cli_usage_error ("--max-pixels: “%s” is not a number of pixels (such as 250000000 "
                          "or 250M; 0 or none for no limit)", text);
      return FALSE;
    }

  if (*pixels == 0)
    *pixels = G_MAXUINT64;
  return TRUE;
}

/* --xdg-cache[=FLAVOR,…], into the group's ThumbOptions. */
static gboolean
parse_xdg_cache (const char  *option_name,
                 const char  *value,
                 gpointer     data,
                 GError     **error)
{
  ThumbOptions *options = data;
  g_autoptr(GError) local_error = NULL;

  options->xdg_flavors = wp_xdg_flavors_parse (value != NULL ? value : DEFAULT_XDG_FLAVORS,
                                               &local_error);
  if (options->xdg_flavors != 0)
    return TRUE;
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s: %s", option_name,
               local_error->message);
  return FALSE;
}

static GOptionContext *
thumbnail_option_context_new (GOptionEntry *entries,
                              ThumbOptions *options)
{
  static const GOptionEntry xdg_entries[] = {
    { "xdg-cache", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, parse_xdg_cache,
      "Fill the freedesktop thumbnail cache ($XDG_CACHE_HOME/thumbnails) instead, "
      "with PNG thumbnails of these flavors: normal, large, x-large, xx-large "
      "(default: " DEFAULT_XDG_FLAVORS ")", "FLAVOR,…" },
    G_OPTION_ENTRY_NULL
  };
  /* The main group carries @options, for parse_xdg_cache(). */
  GOptionGroup *main_group = g_option_group_new (NULL, NULL, NULL, options, NULL);
  GOptionContext *context = g_option_context_new ("DIR…");

  g_option_context_set_summary (context,
                                "Writes JPEG thumbnails of the images under each "
                                "DIR, in worker processes.");
  g_option_context_set_description (context,
                                    "Thumbnails go to FOLDER/thumbnails/WxH/NAME.jpg "
                                    "beside each image, fitting the box\nWxH with the "
                                    "image's aspect ratio; NAME is the file name without "
                                    "its extension,\nor the whole file name when "
                                    "another image of the folder has the same NAME.\n"
                                    "With --output OUT, FOLDER is OUT/NAME/SUBDIR for "
                                    "DIR/SUBDIR, NAME being DIR's name.\n"
                                    "Folders named “thumbnails” "
                                    "are not walked.\nExit status: 0 all done (damaged "
                                    "images too, unless --strict), 1 an image failed\nor "
                                    "an entry was passed over, 2 usage error, 130 or 143 "
                                    "interrupted by SIGINT\nor SIGTERM.\n"
                                    "With --xdg-cache, thumbnails go to the shared "
                                    "cache of the desktop instead\n(the Thumbnail "
                                    "Managing Standard), as file managers read them.\n"
                                    "Example: workpool thumbnail --sizes 256x256,64x64 "
                                    "~/Photos");
  g_option_group_add_entries (main_group, entries);
  g_option_group_add_entries (main_group, xdg_entries);
  g_option_context_set_main_group (context, main_group);
  return context;
}

/* Parses the command line into @options and leaves the DIRs in @argv;
 * FALSE after a usage error. */
static gboolean
parse_options (int            *argc,
               char         ***argv,
               ThumbOptions   *options)
{
  g_autofree char *sizes = NULL, *extensions = NULL, *progress = NULL, *memory_limit = NULL;
  g_autofree char *max_pixels = NULL;
  int n_workers = 0, quality = DEFAULT_QUALITY, timeout_s = DEFAULT_TIMEOUT_S;
  GOptionEntry entries[] = {
    { "sizes", 0, 0, G_OPTION_ARG_STRING, &sizes,
      "Boxes to fit the thumbnails in (default: " DEFAULT_SIZES ")", "WxH,…" },
    { "workers", 0, 0, G_OPTION_ARG_INT, &n_workers,
      "Worker processes (default: one per processor)", "N" },
    { "quality", 0, 0, G_OPTION_ARG_INT, &quality,
      "JPEG quality, 1 to 100 (default: 65)", "Q" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &options->force,
      "Rewrite thumbnails that are up to date (that record the image's "
      "mtime and size)", NULL },
    { "one-job-per-size", 0, 0, G_OPTION_ARG_NONE, &options->one_job_per_size,
      "One job per image and size, decoding each image once per size "
      "(for comparison)", NULL },
    { "ext", 0, 0, G_OPTION_ARG_STRING, &extensions,
      "File name extensions of the images, in any case, or all: every one "
      "the installed gdk-pixbuf loaders read (default: " DEFAULT_EXTENSIONS ")",
      "EXT,…|all" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &options->quiet,
      "Print only errors: no summary, no warnings about damaged images, no "
      "progress bar unless --progress=always", NULL },
    { "progress", 0, 0, G_OPTION_ARG_STRING, &progress,
      "Show a progress bar on stderr: auto (when it is a terminal), "
      "always or never", "WHEN" },
    { "memory-limit", 0, 0, G_OPTION_ARG_STRING, &memory_limit,
      "Memory limit of each worker, as bytes or with K, M, G or T, such as 512M; "
      "0 or none for no limit (default: 1G)", "SIZE" },
    { "max-pixels", 0, 0, G_OPTION_ARG_STRING, &max_pixels,
      "Largest number of pixels an image may decode to (a JPEG at the scale its "
      "thumbnails need), such as 250M; 0 or none for no limit (default: 100M)", "N" },
    { "strict", 0, 0, G_OPTION_ARG_NONE, &options->strict,
      "Fail damaged images (truncated or corrupt files that decode in part) "
      "instead of writing thumbnails of what decodes", NULL },
    { "output", 0, 0, G_OPTION_ARG_FILENAME, &options->output,
      "Write the thumbnails under OUT, in OUT/NAME/SUBDIR/thumbnails, NAME being "
      "each DIR's own name (default: beside the images)", "OUT" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s,
      "Seconds an image may take in a worker before it fails; 0 for no limit "
      "(default: 60)", "SECONDS" },
    WP_CLI_OPTION_PLUGIN_DIR (&options->plugin_dir),
    WP_CLI_OPTION_SANDBOX (&options->sandbox, "strict, or none with --launcher"),
    WP_CLI_OPTION_LAUNCHER (&options->launcher),
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = thumbnail_option_context_new (entries, options);

  if (!wp_cli_parse_options (context, argc, argv))
    return FALSE;

  options->sizes = parse_sizes (sizes != NULL ? sizes : DEFAULT_SIZES);
  if (options->sizes == NULL)
    return FALSE;
  options->extensions = parse_extensions (extensions != NULL ? extensions
                                                             : DEFAULT_EXTENSIONS,
                                          &options->all_extensions);
  if (options->extensions == NULL)
    return FALSE;
  options->progress = PROGRESS_AUTO;
  if (progress != NULL && !parse_progress (progress, &options->progress))
    return FALSE;
  if (n_workers < 0)
    {
      wp_cli_usage_error ("--workers: %d is negative", n_workers);
      return FALSE;
    }
  options->n_workers = (guint) n_workers;
  if (quality < 1 || quality > 100)
    {
      wp_cli_usage_error ("--quality: %d is not from 1 to 100", quality);
      return FALSE;
    }
  options->quality = quality;
  if (timeout_s < 0 || timeout_s > MAX_TIMEOUT_S)
    {
      wp_cli_usage_error ("--timeout: %d is not from 0 to %d", timeout_s, MAX_TIMEOUT_S);
      return FALSE;
    }
  options->timeout_s = (guint) timeout_s;
  options->memory_limit = DEFAULT_MEMORY_LIMIT;
  if (memory_limit != NULL && !parse_memory_limit (memory_limit, &options->memory_limit))
    return FALSE;
  options->max_pixels = DEFAULT_MAX_PIXELS;
  if (max_pixels != NULL && !parse_max_pixels (max_pixels, &options->max_pixels))
    return FALSE;
  if (options->xdg_flavors != 0)
    {
      const char *conflict = sizes != NULL ? "--sizes"
                             : options->output != NULL ? "--output"
                             : options->one_job_per_size ? "--one-job-per-size"
                             : quality != DEFAULT_QUALITY ? "--quality" : NULL;

      if (conflict != NULL)
        {
          wp_cli_usage_error ("--xdg-cache and %s: the cache's flavors and PNG files are "
                              "the standard's", conflict);
          return FALSE;
        }
      options->xdg_cache = wp_xdg_cache_new (NULL);
    }
  /* Descriptors cannot reach workers through a launcher: they read and
   * write by path, which the strict sandbox forbids, and the cache is
   * written through descriptors only. */
  if (options->launcher != NULL && options->xdg_flavors != 0)
    {
      wp_cli_usage_error ("--launcher and --xdg-cache: the cache is written through file "
                          "descriptors, which cannot reach workers through a launcher");
      return FALSE;
    }
  if (options->launcher != NULL && g_strcmp0 (options->sandbox, "strict") == 0)
    {
      wp_cli_usage_error ("--launcher and --sandbox=strict: workers started through a "
                          "launcher read and write by path, which the sandbox forbids");
      return FALSE;
    }
  return TRUE;
}

/* Every DIR must be a folder: checked before any work starts, and the
 * first that is not is a usage error, "workpool: DIR: no such folder". */
static gboolean
check_dirs (int    argc,
            char **argv)
{
  if (argc < 2)
    {
      wp_cli_usage_error ("no DIR given");
      return FALSE;
    }
  for (int i = 1; i < argc; i++)
    {
      g_autofree char *display = g_filename_display_name (argv[i]);
      GStatBuf info;

      if (g_stat (argv[i], &info) != 0)
        {
          int saved_errno = errno;

          wp_cli_usage_error ("%s: %s", display, saved_errno == ENOENT ? "no such folder"
                                                                        : g_strerror (saved_errno));
          return FALSE;
        }
      if (!S_ISDIR (info.st_mode))
        {
          wp_cli_usage_error ("%s: not a folder", display);
          return FALSE;
        }
    }
  return TRUE;
}

/* --output */

static void
output_root_free (OutputRoot *root)
{
  g_free (root->prefix);
  g_free (root->name);
  g_free (root);
}

/* "out/" and "out" name the same folder; the plugin's `base` must be a
 * prefix of the destinations as built from it. */
static void
strip_trailing_separators (char *path)
{
  gsize length = strlen (path);

  while (length > 1 && path[length - 1] == G_DIR_SEPARATOR)
    path[--length] = '\0';
}

/* Each DIR's name under --output: distinct, and not empty (the root
 * folder has none); the output folder is created.  Returns an exit
 * status, WP_CLI_EXIT_OK to go on. */
static int
check_output (ThumbOptions  *options,
              int            argc,
              char         **argv)
{
  g_autoptr(GPtrArray) roots = NULL;
  g_autoptr(GFile) output = NULL;
  g_autoptr(GError) error = NULL;

  if (options->output == NULL)
    return WP_CLI_EXIT_OK;
  if (*options->output == '\0')
    return wp_cli_usage_error ("--output: no folder given");
  strip_trailing_separators (options->output);

  roots = g_ptr_array_new_with_free_func ((GDestroyNotify) output_root_free);
  for (int i = 1; i < argc; i++)
    {
      g_autofree char *absolute = g_canonicalize_filename (argv[i], NULL);
      g_autofree char *name = g_path_get_basename (absolute);
      OutputRoot *root;

      if (strcmp (name, G_DIR_SEPARATOR_S) == 0)
        return wp_cli_usage_error ("--output: “%s” has no name to mirror it under", argv[i]);
      for (guint j = 0; j < roots->len; j++)
        {
          OutputRoot *other = g_ptr_array_index (roots, j);

          if (strcmp (other->name, name) == 0)
            return wp_cli_usage_error ("--output: “%s” and “%s” would both go to "
                                       "“%s”: each DIR goes to OUT/NAME, so their "
                                       "names must differ", other->prefix, argv[i],
                                       name);
        }
      root = g_new0 (OutputRoot, 1);
      root->prefix = g_strdup (argv[i]);
      strip_trailing_separators (root->prefix);
      root->name = g_steal_pointer (&name);
      g_ptr_array_add (roots, root);
    }

  output = g_file_new_for_path (options->output);
  if (!g_file_make_directory_with_parents (output, NULL, &error)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS))
    {
      wp_cli_fail (options->output, error);
      return WP_CLI_EXIT_FAILED;
    }
  if (!g_file_test (options->output, G_FILE_TEST_IS_DIR))
    return wp_cli_usage_error ("--output: “%s” is not a folder", options->output);

  options->output_roots = g_steal_pointer (&roots);
  return WP_CLI_EXIT_OK;
}

/* The folder whose thumbnails/ holds @source's thumbnails: its own, or
 * with --output its mirror OUT/NAME/SUBDIR.  The walk builds paths from
 * each DIR as given, so @source starts with its DIR's prefix; when DIRs
 * nest, the longest prefix wins, which keeps the mapping a function of
 * the path. */
static char *
thumbnail_folder (const ThumbOptions *options,
                  const char         *source)
{
  g_autofree char *folder = g_path_get_dirname (source);
  const OutputRoot *best = NULL;
  gsize best_length = 0;

  if (options->output_roots == NULL)
    return g_steal_pointer (&folder);

  for (guint i = 0; i < options->output_roots->len; i++)
    {
      const OutputRoot *root = g_ptr_array_index (options->output_roots, i);
      gsize length = strlen (root->prefix);

      if (strncmp (folder, root->prefix, length) == 0
          && (folder[length] == '\0' || folder[length] == G_DIR_SEPARATOR
              || root->prefix[length - 1] == G_DIR_SEPARATOR)
          && (best == NULL || length > best_length))
        {
          best = root;
          best_length = length;
        }
    }
  g_assert (best != NULL);
  return g_build_filename (options->output, best->name, folder + best_length, NULL);
}

/* Destinations */

/* FOLDER/thumbnails/WxH/@file for each box. */
static GPtrArray *
destinations_new (const ThumbOptions *options,
                  const char         *folder,
                  const char         *file)
{
  GPtrArray *paths = g_ptr_array_new_full (options->sizes->len, g_free);

  for (guint i = 0; i < options->sizes->len; i++)
    {
      const BoxSize *size = &g_array_index (options->sizes, BoxSize, i);
      g_autofree char *box = g_strdup_printf ("%dx%d", size->width, size->height);

      g_ptr_array_add (paths, g_build_filename (folder, "thumbnails", box, file, NULL));
    }
  return paths;
}

/* TRUE when every destination records @source's current mtime and size
 * (wp-thumbnail-stamp.c): any change of the source, even to an older
 * mtime, makes its thumbnails stale, and so does a missing record. */
static gboolean
thumbnails_are_fresh (const char *source,
                      GPtrArray  *destinations)
{
  struct stat source_stat;
  WpThumbnailStamp current, recorded;

  if (stat (source, &source_stat) != 0)
    return FALSE;
  current.mtime_ns = (gint64) source_stat.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000)
                     + source_stat.st_mtim.tv_nsec;
  current.size = (guint64) source_stat.st_size;
  for (guint i = 0; i < destinations->len; i++)
    if (!wp_thumbnail_stamp_read (g_ptr_array_index (destinations, i), &recorded)
        || recorded.mtime_ns != current.mtime_ns
        || recorded.size != current.size)
      return FALSE;
  return TRUE;
}

/* Jobs */

static void     feed_schedule    (ThumbRun *run);
static void     check_signal     (ThumbRun *run);
static void     on_job_done      (GObject *object, GAsyncResult *result, gpointer user_data);
static gboolean on_progress_tick (gpointer user_data);

static void
image_task_free (ImageTask *task)
{
  g_free (task->source);
  g_ptr_array_unref (task->destinations);
  g_clear_error (&task->error);
  g_free (task->damage);
  g_free (task);
}

/* The folder below which @source's thumbnails are written following no
 * symbolic link (the plugin's `base`): OUT with --output, else the
 * image's own folder. */
static char *
write_base (const ThumbOptions *options,
            const char         *source)
{
  if (options->output != NULL)
    return g_strdup (options->output);
  return g_path_get_dirname (source);
}

/* The options of every job for @source: the quality, the pixel limit,
 * and the image's name in the plugin's messages for write_fds, or the
 * folder no link below which is followed (@base) for write. */
static GVariant *
job_options_new (const ThumbOptions *options,
                 const char         *source,
                 const char         *base)
{
  GVariantBuilder write_options;

  g_variant_builder_init (&write_options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&write_options, "{sv}", "quality",
                         g_variant_new_int32 (options->quality));
  g_variant_builder_add (&write_options, "{sv}", "max-pixels",
                         g_variant_new_uint64 (options->max_pixels));
  if (base != NULL)
    g_variant_builder_add (&write_options, "{sv}", "base", g_variant_new_string (base));
  else
    g_variant_builder_add (&write_options, "{sv}", "name", g_variant_new_string (source));
  if (options->strict)
    g_variant_builder_add (&write_options, "{sv}", "strict", g_variant_new_boolean (TRUE));
  return g_variant_builder_end (&write_options);
}

/* How many boxes a job has: every one, or one with --one-job-per-size;
 * at most MAX_BOXES_PER_JOB. */
static guint
boxes_per_job (const ThumbOptions *options)
{
  if (options->one_job_per_size)
    return 1;
  return MIN (options->sizes->len, MAX_BOXES_PER_JOB);
}

static void
image_job_free (ImageJob *job)
{
  wp_thumbnail_files_free (job->files);
  g_free (job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImageJob, image_job_free)

/* Records @error (owned) as @task's failure unless it has one. */
static void
image_task_fail (ImageTask *task,
                 GError    *error)
{
  if (task->error == NULL)
    task->error = error;
  else
    g_error_free (error);
}

/* With a launcher: the write job of the boxes from @first to @last - 1
 * of @task, naming the image and its thumbnails by absolute path (the
 * worker's working folder is another), which writes each thumbnail
 * atomically, following no link below @base, as the command would. */
static void
submit_path_job (ImageTask *task,
                 guint      first,
                 guint      last)
{
  ThumbRun *run = task->run;
  const ThumbOptions *options = run->options;
  g_autofree char *base = write_base (options, task->source);
  g_autofree char *absolute_base = g_canonicalize_filename (base, NULL);
  g_autofree char *source = g_canonicalize_filename (task->source, NULL);
  ImageJob *job = g_new0 (ImageJob, 1);
  GVariantBuilder boxes;

  g_variant_builder_init (&boxes, G_VARIANT_TYPE ("a(sii)"));
  for (guint i = first; i < last; i++)
    {
      const BoxSize *size = &g_array_index (options->sizes, BoxSize, i);
      g_autofree char *destination =
        g_canonicalize_filename (g_ptr_array_index (task->destinations, i), NULL);

      g_variant_builder_add (&boxes, "(sii)", destination, size->width, size->height);
    }

  job->task = task;
  job->first = first;
  job->last = last;
  task->pending++;
  run->in_flight++;
  wp_pool_call_full_async (run->pool, PLUGIN, "write",
                           g_variant_new ("(s@a(sii)@a{sv})", source,
                                          g_variant_builder_end (&boxes),
                                          job_options_new (options, source, absolute_base)),
                           options->timeout_s * 1000, G_PRIORITY_DEFAULT, run->stop,
                           on_job_done, job);
}

/* Opens the files of the boxes from @first to @last - 1 of @task and
 * submits their write_fds job.  A box whose file cannot be created fails
 * the image, and the others still get their thumbnails. */
static void
submit_job (ImageTask *task,
            guint      first,
            guint      last)
{
  ThumbRun *run = task->run;
  const ThumbOptions *options = run->options;
  g_autofree char *base = NULL;
  g_autoptr(ImageJob) job = NULL;
  g_autoptr(GUnixFDList) fd_list = NULL;
  GError *error = NULL;
  GVariant *args;

  if (options->launcher != NULL)
    {
      submit_path_job (task, first, last);
      return;
    }

  base = write_base (options, task->source);
  job = g_new0 (ImageJob, 1);

  job->task = task;
  job->first = first;
  job->last = last;
  job->files = wp_thumbnail_files_new (task->source, &error);
  if (job->files == NULL)
    {
      image_task_fail (task, error);
      return;
    }
  for (guint i = first; i < last; i++)
    {
      const BoxSize *size = &g_array_index (options->sizes, BoxSize, i);

      if (!wp_thumbnail_files_add_output (job->files, base,
                                          g_ptr_array_index (task->destinations, i),
                                          size->width, size->height,
                                          WP_ATOMIC_FILE_CREATE_PARENTS, &error))
        image_task_fail (task, g_steal_pointer (&error));
    }
  if (wp_thumbnail_files_get_n_outputs (job->files) == 0)
    return;

  args = wp_thumbnail_files_build_args (job->files,
                                        job_options_new (options, task->source, NULL),
                                        &fd_list, &error);
  if (args == NULL)
    {
      image_task_fail (task, error);
      return;
    }

  task->pending++;
  run->in_flight++;
  wp_pool_call_with_unix_fd_list_full_async (run->pool, PLUGIN, "write_fds", args, fd_list,
                                             options->timeout_s * 1000, G_PRIORITY_DEFAULT,
                                             run->stop, on_job_done, g_steal_pointer (&job));
}

/* Removes leftover temporary files from the thumbnail folders of
 * @source, once per folder and run, before any job writes there. */
static void
remove_leftovers (ThumbRun   *run,
                  const char *source,
                  GPtrArray  *destinations)
{
  g_autofree char *base = write_base (run->options, source);

  for (guint i = 0; i < destinations->len; i++)
    {
      char *directory = g_path_get_dirname (g_ptr_array_index (destinations, i));

      if (g_hash_table_contains (run->cleaned, directory)
          || !wp_atomic_file_path_is_below (directory, base))
        {
          g_free (directory);
          continue;
        }
      wp_atomic_file_remove_temps_below (base, directory);
      g_hash_table_add (run->cleaned, directory);
    }
}

static void finish_image (ImageTask *task);

/* Submits the jobs of one image: one, or one per box. */
static void
submit_image (ThumbRun  *run,
              char      *source,
              GPtrArray *destinations)
{
  const ThumbOptions *options = run->options;
  ImageTask *task = g_new0 (ImageTask, 1);
  guint n = destinations->len;

  task->run = run;
  task->source = source;
  remove_leftovers (run, source, destinations);
  task->destinations = g_ptr_array_ref (destinations);
  for (guint first = 0, per_job = boxes_per_job (options); first < n; first += per_job)
    submit_job (task, first, MIN (first + per_job, n));
  /* No job could be submitted: the image failed already. */
  if (task->pending == 0)
    finish_image (task);
}

/* "workpool: PATH: message" on stderr, under the bar. */
static void
report_failure (ThumbRun     *run,
                const char   *path,
                const GError *error)
{
  g_autofree char *display = g_filename_display_name (path);

  if (run->progress != NULL)
    wp_cli_progress_clear (run->progress);
  wp_cli_fail (display, error);
}

/* "workpool: PATH: warning: damaged, thumbnails show what decodes:
 * DAMAGE" on stderr, under the bar; nothing with --quiet. */
static void
report_damage (ThumbRun   *run,
               const char *path,
               const char *damage)
{
  g_autofree char *display = NULL;

  if (run->options->quiet)
    return;
  display = g_filename_display_name (path);
  if (run->progress != NULL)
    wp_cli_progress_clear (run->progress);
  g_printerr ("workpool: %s: warning: damaged, thumbnails show what decodes: %s\n",
              display, damage);
}

/* The plugin's paths are GVariant strings, which are UTF-8. */
static void
fail_non_utf8 (ThumbRun *run,
               char     *source)
{
  g_autoptr(GError) error = g_error_new_literal (G_CONVERT_ERROR,
                                                 G_CONVERT_ERROR_ILLEGAL_SEQUENCE,
                                                 "The file name is not UTF-8");

  run->counts.failed++;
  report_failure (run, source, error);
  g_free (source);
}

static void abort_run (ThumbRun *run, const GError *error);

static void
on_xdg_job_done (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  ImageTask *task = user_data;
  ThumbRun *run = task->run;
  GError *error = NULL;

  if (wp_xdg_cache_thumbnail_finish (run->options->xdg_cache, result, &error))
    task->written += task->destinations->len;
  else
    {
      if (g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_FAILED))
        abort_run (run, error);
      image_task_fail (task, error);
    }

  run->in_flight--;
  task->pending--;
  finish_image (task);
  feed_schedule (run);
  if (run->progress != NULL)
    on_progress_tick (run);
}

/* Takes @source (owned) with --xdg-cache: skips it when the cache holds
 * a valid entry of every flavor (or a valid failure entry), else submits
 * one job for the missing flavors.  The cache's own files are skipped. */
static void
take_image_into_cache (ThumbRun *run,
                       char     *source)
{
  const ThumbOptions *options = run->options;
  g_autofree char *absolute = g_canonicalize_filename (source, NULL);
  ImageTask *task;
  guint missing;

  if (wp_xdg_cache_contains (options->xdg_cache, absolute))
    {
      run->counts.skipped++;
      g_free (source);
      return;
    }
  missing = options->force ? options->xdg_flavors
                           : wp_xdg_cache_get_missing (options->xdg_cache, absolute,
                                                       options->xdg_flavors);
  if (missing == 0)
    {
      run->counts.skipped++;
      g_free (source);
      return;
    }

  task = g_new0 (ImageTask, 1);
  task->run = run;
  task->source = source;
  /* One entry per flavor written, for the count. */
  task->destinations = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < WP_XDG_N_FLAVORS; i++)
    if (missing & WP_XDG_FLAVOR_BIT (i))
      g_ptr_array_add (task->destinations,
                       g_strdup (wp_xdg_flavor_get_name (i)));
  task->pending = 1;
  run->in_flight++;
  wp_xdg_cache_thumbnail_async (options->xdg_cache, run->pool, absolute, missing,
                                options->timeout_s * 1000, G_PRIORITY_DEFAULT, run->stop,
                                on_xdg_job_done, task);
}

/* Takes @source (owned): skips it, fails it, or submits its jobs. */
static void
take_image (ThumbRun *run,
            char     *source)
{
  g_autoptr(GPtrArray) destinations = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *file = NULL;

  run->counts.found++;
  if (!g_utf8_validate (source, -1, NULL))
    {
      fail_non_utf8 (run, source);
      return;
    }
  if (run->options->xdg_cache != NULL)
    {
      take_image_into_cache (run, source);
      return;
    }

  file = wp_cli_names_get (run->names, source, &error);
  if (file == NULL)
    {
      run->counts.failed++;
      report_failure (run, source, error);
      g_free (source);
      return;
    }
  folder = thumbnail_folder (run->options, source);
  destinations = destinations_new (run->options, folder, file);
  if (!run->options->force && thumbnails_are_fresh (source, destinations))
    {
      run->counts.skipped++;
      g_free (source);
      return;
    }
  submit_image (run, source, destinations);
}

/* Adds how to raise the limit to a job's error that names the memory
 * limit its worker ran under: the pool's for a worker that crashed, the
 * plugin's for an allocation that failed (wp-memory-limit.c), both
 * "a memory limit of N bytes". */
static void
hint_memory_limit (ThumbRun *run,
                   GError   *error)
{
  char *message;

  if (run->options->memory_limit == 0 || strstr (error->message, "memory limit of ") == NULL)
    return;

  message = g_strconcat (error->message, "; raise it with --memory-limit SIZE", NULL);
  g_free (error->message);
  error->message = message;
}

/* Adds how to raise the pixel limit to a job's error that the plugin
 * gave for an image over it ("over the pixel limit of N"). */
static void
hint_max_pixels (GError *error)
{
  char *message;

  if (strstr (error->message, "over the pixel limit of ") == NULL)
    return;

  message = g_strconcat (error->message, "; raise it with --max-pixels N", NULL);
  g_free (error->message);
  error->message = message;
}

/* Folds a finished image into the counters. */
static void
finish_image (ImageTask *task)
{
  ThumbRun *run = task->run;

  check_signal (run);
  run->counts.written += task->written;
  if (task->error == NULL)
    {
      run->counts.done++;
      if (task->damage != NULL)
        {
          run->counts.damaged++;
          report_damage (run, task->source, task->damage);
        }
    }
  else if (run->stopping
           || g_error_matches (task->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    run->counts.cancelled++;
  else
    {
      run->counts.failed++;
      hint_memory_limit (run, task->error);
      hint_max_pixels (task->error);
      report_failure (run, task->source, task->error);
    }
  image_task_free (task);
}

static void stop_run (ThumbRun *run);

/* The pool gave up starting workers: every other job would fail the same
 * way, so say it once and stop. */
static void
abort_run (ThumbRun     *run,
           const GError *error)
{
  if (run->aborted)
    return;
  run->aborted = TRUE;
  if (run->progress != NULL)
    wp_cli_progress_clear (run->progress);
  wp_cli_fail (NULL, error);
  stop_run (run);
}

static void
on_job_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(ImageJob) job = user_data;
  ImageTask *task = job->task;
  ThumbRun *run = task->run;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  guint committed = 0;

  if (job->files != NULL)
    reply = wp_pool_call_with_unix_fd_list_finish (WP_POOL (object), NULL, result, &error);
  else
    reply = wp_pool_call_finish (WP_POOL (object), result, &error);
  if (g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_FAILED))
    abort_run (run, error);
  /* A failed or cancelled job's files are discarded with the job; a
   * write job named its own. */
  if (reply != NULL && job->files == NULL)
    committed = job->last - job->first;
  else if (reply != NULL && !wp_thumbnail_files_commit (job->files, &committed, &error))
    g_clear_pointer (&reply, g_variant_unref);
  task->written += committed;
  if (reply == NULL)
    image_task_fail (task, g_steal_pointer (&error));
  else if (g_variant_is_of_type (reply, G_VARIANT_TYPE ("(a(ii)a{sv})")))
    {
      g_autoptr(GVariant) report = g_variant_get_child_value (reply, 1);
      const char *damage;

      if (task->damage == NULL && g_variant_lookup (report, "damage", "&s", &damage))
        task->damage = g_strdup (damage);
    }

  run->in_flight--;
  if (--task->pending == 0)
    finish_image (task);
  feed_schedule (run);
  if (run->progress != NULL)
    on_progress_tick (run);
}

/* Feeding the pool from the walk */

static gboolean
can_feed (ThumbRun *run)
{
  return !run->stopping && !run->walk_done && run->in_flight < run->window;
}

/* Takes the next entry of the walk: an image, the end, or an entry
 * passed over. */
static void
feed_one (ThumbRun *run)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;

  if (!wp_cli_walk_next (run->walk, &path, &error))
    {
      run->counts.passed_over++;
      report_failure (run, path, error);
      g_free (path);
    }
  else if (path == NULL)
    run->walk_done = TRUE;
  else
    take_image (run, path);
}

/* An idle callback: fills the window, a batch of walk entries at a time
 * so that a long run of skipped images lets the main loop breathe. */
static gboolean
feed_pool (gpointer user_data)
{
  ThumbRun *run = user_data;

  for (guint n = 0; n < FEED_BATCH && can_feed (run); n++)
    feed_one (run);
  if (can_feed (run))
    return G_SOURCE_CONTINUE;
  run->feed_source = 0;
  return G_SOURCE_REMOVE;
}

static void
feed_schedule (ThumbRun *run)
{
  if (run->feed_source == 0 && can_feed (run))
    run->feed_source = g_idle_add (feed_pool, run);
}

static gboolean
run_is_over (ThumbRun *run)
{
  return run->in_flight == 0 && (run->walk_done || run->stopping);
}

/* Interruption
 *
 * SIGINT and SIGTERM are caught by on_signal(), a sigaction() handler
 * installed when the run starts and kept until the process exits: it
 * records the first signal in received_signal and wakes the main loop
 * through signal_pipe, where on_signal_pipe() stops the run.  Recording
 * the signal in the handler itself matters for the workers: a signal sent
 * to the whole process group (a Ctrl-C, `kill -TERM -PGID`) is pending
 * here before any worker can die of it, and is handled on the next return
 * from the kernel, so by the time a job comes back crashed from a worker
 * killed that way, received_signal is set and the crash counts as the
 * interruption's, not as a failure.  A signal that comes once every job
 * is back is recorded and ignored. */

static volatile sig_atomic_t received_signal;
static int                   signal_pipe[2] = { -1, -1 };

static void
on_signal (int signum)
{
  int saved_errno = errno;
  ssize_t n;

  if (received_signal == 0)
    received_signal = signum;
  n = write (signal_pipe[1], "", 1);   /* a full pipe wakes the loop already */
  (void) n;
  errno = saved_errno;
}

static void
stop_run (ThumbRun *run)
{
  if (run->stopping)
    return;
  run->stopping = TRUE;
  run->stop_signal = received_signal;
  g_clear_handle_id (&run->feed_source, g_source_remove);
  g_cancellable_cancel (run->stop);
}

/* Stops the run if a signal came. */
static void
check_signal (ThumbRun *run)
{
  if (received_signal != 0)
    stop_run (run);
}

static gboolean
on_signal_pipe (int          fd,
                GIOCondition condition,
                gpointer     user_data)
{
  char buffer[64];

  while (read (fd, buffer, sizeof buffer) > 0)
    ;
  check_signal (user_data);
  return G_SOURCE_CONTINUE;
}

/* Catches SIGINT and SIGTERM from now until the process exits. */
static gboolean
catch_stop_signals (GError **error)
{
  struct sigaction action = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

  if (!g_unix_open_pipe (signal_pipe, FD_CLOEXEC, error)
      || !g_unix_set_fd_nonblocking (signal_pipe[0], TRUE, error)
      || !g_unix_set_fd_nonblocking (signal_pipe[1], TRUE, error))
    return FALSE;
  sigemptyset (&action.sa_mask);
  sigaction (SIGINT, &action, NULL);
  sigaction (SIGTERM, &action, NULL);
  return TRUE;
}

/* Progress: drawn on every event and on a timer, at most 10 times a
 * second (wp-cli-progress.c throttles). */

static gboolean
wants_progress (const ThumbOptions *options)
{
  switch (options->progress)
    {
    case PROGRESS_ALWAYS:
      return TRUE;
    case PROGRESS_NEVER:
      return FALSE;
    case PROGRESS_AUTO:
    default:
      return !options->quiet && isatty (STDERR_FILENO);
    }
}

static gboolean
on_progress_tick (gpointer user_data)
{
  ThumbRun *run = user_data;
  const ThumbCounts *counts = &run->counts;
  WpCliProgressState state = {
    .done = counts->skipped + counts->done + counts->failed + counts->cancelled,
    .total = counts->found,
    .total_known = run->walk_done,
    .worked = counts->done + counts->failed,
    .elapsed_us = g_get_monotonic_time () - run->start_time,
  };

  wp_cli_progress_draw (run->progress, &state);
  return G_SOURCE_CONTINUE;
}

/* The run */

/* "40 images, 240 thumbnails written, 0 skipped, 0 failed, 0 passed
 * over, 1.23 s, 32.52 images/s", with "N damaged" after "failed" when
 * images were done from what decodes, "N not done" after "passed over"
 * when interrupted (images the walk had not reached are not in it), in
 * the C locale's number format; the rate counts the images that took
 * work, not skipped ones.  FALSE, with a message on stderr, when stdout
 * cannot take it. */
static gboolean
print_summary (ThumbRun *run)
{
  const ThumbCounts *counts = &run->counts;
  double seconds = (double) (run->end_time - run->start_time) / G_USEC_PER_SEC;
  double rate = seconds > 0 ? (counts->done + counts->failed) / seconds : 0;
  char seconds_text[G_ASCII_DTOSTR_BUF_SIZE], rate_text[G_ASCII_DTOSTR_BUF_SIZE];
  g_autofree char *not_done = NULL;
  g_autofree char *damaged = NULL;
  g_autofree char *line = NULL;
  g_autoptr(GError) error = NULL;
  int saved_errno;

  g_ascii_formatd (seconds_text, sizeof seconds_text, "%.2f", seconds);
  g_ascii_formatd (rate_text, sizeof rate_text, "%.2f", rate);
  if (run->stopping)
    not_done = g_strdup_printf (", %" G_GUINT64_FORMAT " not done", counts->cancelled);
  if (counts->damaged > 0)
    damaged = g_strdup_printf (", %" G_GUINT64_FORMAT " damaged", counts->damaged);
  line = g_strdup_printf ("%" G_GUINT64_FORMAT " images, %" G_GUINT64_FORMAT " thumbnails "
                          "written, %" G_GUINT64_FORMAT " skipped, %" G_GUINT64_FORMAT
                          " failed%s, %" G_GUINT64_FORMAT " passed over%s, %s s, "
                          "%s images/s\n", counts->found, counts->written, counts->skipped,
                          counts->failed, damaged != NULL ? damaged : "", counts->passed_over,
                          not_done != NULL ? not_done : "", seconds_text, rate_text);

  if (fputs (line, stdout) != EOF && fflush (stdout) == 0)
    return TRUE;
  saved_errno = errno;
  g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               "%s", g_strerror (saved_errno));
  wp_cli_fail ("cannot write the summary", error);
  return FALSE;
}

/* "workpool: 0 images: no file ending in .jpg or .jpeg among 12 files;
 * --ext png,txt takes others" on stderr: the extensions looked for, the
 * files walked that have none of them, and their commonest extensions;
 * "--ext all takes..." too when one of those is an image format's.  With
 * --ext all, the extensions looked for are only counted. */
static void
explain_no_images (ThumbRun *run)
{
  const GStrv extensions = run->options->extensions;
  guint n_extensions = g_strv_length (extensions);
  guint64 n_others = wp_cli_walk_get_n_others (run->walk);
  g_auto(GStrv) others = wp_cli_walk_dup_other_extensions (run->walk);
  g_autoptr(GString) text = g_string_new ("0 images: no file ending in ");
  gboolean loaders_read_others = FALSE;

  if (run->options->all_extensions)
    g_string_append_printf (text, "one of the %u extensions of the installed "
                            "gdk-pixbuf loaders (--ext all)", n_extensions);
  else
    for (guint i = 0; i < n_extensions; i++)
      g_string_append_printf (text, "%s.%s",
                              i == 0 ? "" : i + 1 < n_extensions ? ", " : " or ",
                              extensions[i]);
  g_string_append_printf (text, " among %" G_GUINT64_FORMAT " file%s", n_others,
                          n_others == 1 ? "" : "s");
  if (others[0] != NULL)
    {
      g_string_append (text, "; --ext ");
      for (guint i = 0; others[i] != NULL && i < MAX_SUGGESTED_EXTENSIONS; i++)
        g_string_append_printf (text, "%s%s", i == 0 ? "" : ",", others[i]);
      if (g_strv_length (others) > MAX_SUGGESTED_EXTENSIONS)
        g_string_append (text, ",…");
      g_string_append (text, " takes others");
    }
  for (guint i = 0; others[i] != NULL && !run->options->all_extensions; i++)
    loaders_read_others |= wp_cli_formats_has_extension (others[i]);
  if (loaders_read_others)
    g_string_append (text, "; --ext all takes every format the installed "
                     "gdk-pixbuf loaders read");
  g_printerr ("workpool: %s\n", text->str);
}

/* Iterates the main context until every job is back. */
static void
run_jobs (ThumbRun *run)
{
  guint tick = 0;

  run->start_time = g_get_monotonic_time ();
  if (run->progress != NULL)
    {
      tick = g_timeout_add (PROGRESS_TICK_MS, on_progress_tick, run);
      on_progress_tick (run);
    }
  feed_schedule (run);
  while (!run_is_over (run))
    g_main_context_iteration (NULL, TRUE);
  run->end_time = g_get_monotonic_time ();

  g_clear_handle_id (&tick, g_source_remove);
  g_clear_handle_id (&run->feed_source, g_source_remove);
  if (run->progress != NULL)
    wp_cli_progress_clear (run->progress);
}

static int
exit_status (ThumbRun *run,
             gboolean  closed)
{
  if (run->aborted)
    return WP_CLI_EXIT_FAILED;
  if (run->stopping)
    return EXIT_SIGNAL_BASE + run->stop_signal;
  if (run->counts.failed > 0 || run->counts.passed_over > 0 || !closed)
    return WP_CLI_EXIT_FAILED;
  return WP_CLI_EXIT_OK;
}

/* The soft RLIMIT_NOFILE, first raised towards the hard one (up to
 * MAX_NOFILE): the default soft limit, 1024, is for select(), which
 * nothing here uses. */
static guint64
raise_nofile_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return 1024;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < MAX_NOFILE
      && (limit.rlim_max == RLIM_INFINITY || limit.rlim_max > limit.rlim_cur))
    {
      struct rlimit raised = limit;

      raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? MAX_NOFILE
                                                        : MIN (limit.rlim_max, MAX_NOFILE);
      if (setrlimit (RLIMIT_NOFILE, &raised) == 0)
        limit = raised;
    }
  return limit.rlim_cur == RLIM_INFINITY ? MAX_NOFILE : (guint64) limit.rlim_cur;
}

/* Jobs in flight at most: WINDOW_PER_WORKER per worker, fewer when
 * their descriptors would take more than half of RLIMIT_NOFILE (see
 * Descriptors at the top of this file); at least one. */
static guint
job_window (const ThumbOptions *options,
            guint               n_workers)
{
  guint per_job = boxes_per_job (options);
  guint jobs_per_image = (options->sizes->len + per_job - 1) / per_job;
  guint64 fds_per_job = WP_THUMBNAIL_FILES_FDS (per_job);
  guint64 budget = raise_nofile_limit () / 2 / fds_per_job;
  guint64 window = (guint64) WINDOW_PER_WORKER * n_workers;

  /* An image's jobs are submitted together, past the window. */
  budget = budget > jobs_per_image ? budget - (jobs_per_image - 1) : 1;
  return (guint) MAX (1, MIN (window, budget));
}

static int
run_thumbnail (const ThumbOptions *options,
               WpPool             *pool,
               int                 n_dirs,
               char              **dirs)
{
  g_autoptr(WpCliWalk) walk = wp_cli_walk_new ((const char * const *) options->extensions);
  g_autoptr(WpCliNames) names = wp_cli_names_new ((const char * const *) options->extensions);
  g_autoptr(GCancellable) stop = g_cancellable_new ();
  g_autoptr(WpCliProgress) progress = wants_progress (options) ? wp_cli_progress_new ()
                                                               : NULL;
  ThumbRun run = {
    .options = options,
    .pool = pool,
    .walk = walk,
    .names = names,
    .stop = stop,
    .progress = progress,
    .window = job_window (options, wp_pool_get_n_workers (pool)),
  };
  g_autoptr(GHashTable) cleaned = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) error = NULL;
  guint signal_source;
  gboolean closed, printed = TRUE;

  run.cleaned = cleaned;
  for (int i = 0; i < n_dirs; i++)
    wp_cli_walk_add_root (walk, dirs[i]);

  if (!catch_stop_signals (&error))
    return wp_cli_fail (NULL, error);
  signal_source = g_unix_fd_add (signal_pipe[0], G_IO_IN, on_signal_pipe, &run);

  run_jobs (&run);

  /* The outcome is decided: a signal from now on changes nothing. */
  g_source_remove (signal_source);

  closed = wp_cli_pool_close (pool);
  if (run.stopping && !run.aborted)
    g_printerr ("workpool: interrupted%s\n",
                run.walk_done ? "" : " before the walk ended");
  if (!options->quiet)
    {
      printed = print_summary (&run);
      if (run.counts.found == 0 && !run.stopping)
        explain_no_images (&run);
    }
  if (!printed && !run.stopping)
    return WP_CLI_EXIT_FAILED;
  return exit_status (&run, closed);
}

/* One error up front rather than one per image. */
static gboolean
has_thumbnail_plugin (WpPool *pool)
{
  g_auto(GStrv) plugins = wp_pool_list_plugins (pool);
  g_autoptr(GError) error = NULL;

  if (g_strv_contains ((const char * const *) plugins, PLUGIN))
    return TRUE;
  error = g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN,
                       "no %s plugin in “%s”", PLUGIN, wp_pool_get_plugin_dir (pool));
  wp_cli_fail (NULL, error);
  return FALSE;
}

int
wp_cli_thumbnail (int    argc,
                  char **argv)
{
  g_auto(ThumbOptions) options = { NULL, };
  g_autoptr(WpPool) pool = NULL;
  int status = WP_CLI_EXIT_OK;

  if (!parse_options (&argc, &argv, &options))
    return WP_CLI_EXIT_USAGE;
  if (!check_dirs (argc, argv))
    return WP_CLI_EXIT_USAGE;
  status = check_output (&options, argc, argv);
  if (status != WP_CLI_EXIT_OK)
    return status;

  pool = wp_cli_pool_new (options.plugin_dir, options.n_workers,
                          options.sandbox != NULL ? options.sandbox
                          : options.launcher != NULL ? "none" : "strict",
                          options.launcher, &status);
  if (pool == NULL)
    return status;
  wp_pool_set_worker_memory_limit (pool, options.memory_limit);
  if (!has_thumbnail_plugin (pool))
    return WP_CLI_EXIT_FAILED;
  return run_thumbnail (&options, pool, argc - 1, argv + 1);
}
