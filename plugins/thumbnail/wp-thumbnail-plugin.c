/* wp-thumbnail-plugin.c: the thumbnail plugin's functions, as workers see them.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Functions (argument and result types are GVariant type strings):
 *
 *   thumbnail     (ss(ii))    -> (ii)   source, destination, (box w, box h);
 *                                       the size written
 *   thumbnails    (sa(sii))   -> a(ii)  source, [(destination, box w, box h)];
 *                                       decodes once, writes every size
 *   thumbnails_q  (sa(sii)i)  -> a(ii)  the same with a JPEG quality, 1-100
 *   write     (sa(sii)a{sv}) -> (a(ii)a{sv})
 *                                       the same with options, and a
 *                                       report of the job (callers
 *                                       ignore keys they do not know):
 *                                         damage (s)   present only for
 *                                           a damaged image whose
 *                                           thumbnails show what
 *                                           decodes: what is wrong
 *                                       Options, each optional:
 *                                         quality (i)  JPEG quality, 1-100
 *                                         max-pixels (t) the pixel limit
 *                                           of the decode (default
 *                                           WP_THUMBNAIL_MAX_PIXELS)
 *                                         base (s)     an existing folder
 *                                           every destination lies
 *                                           under; no symbolic link
 *                                           below it is followed
 *                                         strict (b)   a damaged image
 *                                           is an error (default false)
 *                                         format (s)   "jpeg" (default)
 *                                           or "png": 8-bit RGBA, for
 *                                           the freedesktop thumbnail
 *                                           cache (wp-png.c)
 *                                         fast (b)     decode a JPEG at
 *                                           the smallest DCT scale that
 *                                           covers the box, not twice
 *                                           it, and a progressive one at
 *                                           1/8 from its DC scans alone
 *                                           (default false)
 *                                         text (a{ss}) with "png", text
 *                                           chunks to write (keyword:
 *                                           value); Thumb::Image::Width
 *                                           and Height are added
 *                                       An unknown option or one of the
 *                                       wrong type is an error.
 *   write_fds (ha(hii)a{sv}) -> (a(ii)a{sv})
 *                                       write on descriptors, opening no
 *                                       path: the image (a regular file
 *                                       open for reading, read with
 *                                       pread() whatever its offset, its
 *                                       stamp from fstat()), and for each
 *                                       box an empty regular file open for
 *                                       writing, into which the plugin
 *                                       writes a complete JPEG; whoever
 *                                       gave them names them when the job
 *                                       succeeds and discards them when
 *                                       it fails (the plugin may then
 *                                       have written some).  The same
 *                                       options and report as write, but
 *                                       base (an error: nothing here is a
 *                                       path), and:
 *                                         name (s)     what to call the
 *                                           image in messages (default
 *                                           “source”)
 *   info          (s)         -> (iis)  width and height as displayed (after
 *                                       EXIF orientation) and format name
 *
 * For example, from a pool:
 *
 *   wp_pool_call_async (pool, "thumbnail", "thumbnails",
 *                       g_variant_new_parsed ("('a.jpg', [('t/a-256.jpg', 256, 256),"
 *                                             " ('t/a-64.jpg', 64, 64)])"),
 *                       ...);
 *
 * A damaged image that decodes in part (a truncated or corrupt JPEG, a
 * GIF whose later frame is damaged) gets thumbnails of what decodes, the
 * rest mid-grey; thumbnail, thumbnails and thumbnails_q say nothing of
 * it, write and write_fds report it (or fail with strict).
 *
 * Thumbnails are JPEG files (PNG with the "format" option of write and
 * write_fds; quality WP_THUMBNAIL_DEFAULT_QUALITY unless
 * given) that fit their box with the source's aspect ratio, never larger
 * than the source, oriented per EXIF, composited on white, with the
 * source's ICC profile and, in a comment, the source file's mtime and
 * size (wp-thumbnail-stamp.c), and no other metadata, written atomically; missing
 * parent directories of a destination are created (write_fds: its
 * caller's business, as the folders and atomicity are).  Any format gdk-pixbuf
 * loads is accepted as a source.  The rules live in wp-thumbnail.c; this
 * file only converts GVariants.
 *
 * Errors keep their domain: G_FILE_ERROR for a missing or unreadable
 * source and for an unwritable destination, naming the path;
 * GDK_PIXBUF_ERROR_CORRUPT_IMAGE for an empty or corrupt image with
 * nothing to show (or a damaged one with strict),
 * GDK_PIXBUF_ERROR_UNKNOWN_TYPE for a format nothing can read,
 * GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY for an image that would decode to
 * more than the pixel limit (100 megapixels unless "max-pixels" says
 * otherwise; a JPEG counts at the DCT scale its thumbnails need, so a
 * 20000x20000 one decoded at 1/8 counts 2500x2500), for a JPEG decode
 * that cannot fit in the worker's RLIMIT_AS (refused before it starts)
 * and for an allocation that failed (the message of both then names the
 * worker's RLIMIT_AS, wp-memory-limit.c); G_IO_ERROR_INVALID_ARGUMENT
 * for a box side <= 0, a quality outside 1-100 or an unknown option;
 * G_IO_ERROR_CANCELLED.  A failed job of the path functions leaves no
 * partial thumbnail and no temporary file.
 *
 * Every function runs in a worker's main thread, one job at a time; the
 * plugin keeps no state between jobs.  Its init opens /proc/self/statm
 * for the memory checks (wp-memory-limit.c), which write_fds jobs then
 * read without opening a path.
 */

#include "workpool/wp-plugin.h"

#include "wp-image.h"
#include "wp-memory-limit.h"
#include "wp-thumbnail.h"

#ifndef WP_THUMBNAIL_VERSION
#define WP_THUMBNAIL_VERSION "0"
#endif

/* Workers check argument types, but a wrong one must never crash. */
static gboolean
check_args (GVariant    *args,
            const char  *type,
            GError     **error)
{
  if (args != NULL && g_variant_is_of_type (args, G_VARIANT_TYPE (type)))
    return TRUE;

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "Expected arguments of type %s, got %s", type,
               args != NULL ? g_variant_get_type_string (args) : "nothing");
  return FALSE;
}

static GVariant *
thumbnail (GVariant      *args,
           GCancellable  *cancellable,
           GError       **error)
{
  WpThumbnailRequest request = { NULL, 0, 0, 0, 0 };
  WpThumbnailOptions options = WP_THUMBNAIL_OPTIONS_INIT;
  const char *source;

  if (!check_args (args, "(ss(ii))", error))
    return NULL;

  g_variant_get (args, "(&s&s(ii))", &source, &request.path,
                 &request.box_width, &request.box_height);

  if (!wp_thumbnail_write (source, &request, 1, &options, NULL, cancellable, error))
    return NULL;

  return g_variant_new ("(ii)", request.width, request.height);
}

/* The thumbnails' sizes, a(ii), in the order of @requests. */
static GVariant *
sizes_new (const WpThumbnailRequest *requests,
           gsize                     n)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ii)"));
  for (gsize i = 0; i < n; i++)
    g_variant_builder_add (&builder, "(ii)", requests[i].width, requests[i].height);

  return g_variant_builder_end (&builder);
}

/* (sa(sii)...) with @options -> a(ii), and the damage when asked */
static GVariant *
write_thumbnails (GVariant                  *args,
                  const char                *base,
                  const WpThumbnailOptions  *options,
                  char                     **damage,
                  GCancellable              *cancellable,
                  GError                   **error)
{
  g_autoptr(GVariant) list = g_variant_get_child_value (args, 1);
  g_autofree WpThumbnailRequest *requests = NULL;
  const char *source;
  gsize n, i;

  g_variant_get_child (args, 0, "&s", &source);

  n = g_variant_n_children (list);
  requests = g_new0 (WpThumbnailRequest, MAX (n, 1));
  for (i = 0; i < n; i++)
    g_variant_get_child (list, i, "(&sii)", &requests[i].path,
                         &requests[i].box_width, &requests[i].box_height);

  if (!wp_thumbnail_write_below (source, base, requests, n, options, damage,
                                 cancellable, error))
    return NULL;

  return sizes_new (requests, n);
}

static GVariant *
thumbnails (GVariant      *args,
            GCancellable  *cancellable,
            GError       **error)
{
  WpThumbnailOptions options = WP_THUMBNAIL_OPTIONS_INIT;

  if (!check_args (args, "(sa(sii))", error))
    return NULL;

  return write_thumbnails (args, NULL, &options, NULL, cancellable, error);
}

static GVariant *
thumbnails_q (GVariant      *args,
              GCancellable  *cancellable,
              GError       **error)
{
  WpThumbnailOptions options = WP_THUMBNAIL_OPTIONS_INIT;
  gint32 quality;

  if (!check_args (args, "(sa(sii)i)", error))
    return NULL;

  g_variant_get_child (args, 2, "i", &quality);
  options.quality = quality;

  return write_thumbnails (args, NULL, &options, NULL, cancellable, error);
}

/* ---- write and write_fds: options and report ------------------------- */

/* Which of write and write_fds an option is for. */
typedef enum {
  FOR_WRITE     = 1 << 0,
  FOR_WRITE_FDS = 1 << 1,
  FOR_BOTH      = FOR_WRITE | FOR_WRITE_FDS,
} OptionUse;

static const struct {
  const char *key;
  const char *type;
  OptionUse   use;
} write_options[] = {
  { "quality",    "i", FOR_BOTH },
  { "max-pixels", "t", FOR_BOTH },
  { "base",       "s", FOR_WRITE },
  { "name",       "s", FOR_WRITE_FDS },
  { "strict",     "b", FOR_BOTH },
  { "format",     "s", FOR_BOTH },
  { "text",       "a{ss}", FOR_BOTH },
  { "fast",       "b", FOR_BOTH },
};

/* The options of write and write_fds, parsed; strings point into the
 * options' GVariant. */
typedef struct {
  WpThumbnailOptions thumbnail;   /* quality, max-pixels, strict, format, text */
  const char        *base;        /* write */
  const char        *name;        /* write_fds */
  const char       **text;        /* owned array; its strings are the options' */
} WriteOptions;

static void
write_options_clear (WriteOptions *parsed)
{
  g_clear_pointer (&parsed->text, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (WriteOptions, write_options_clear)

/* "format" and "text" into @parsed. */
static gboolean
parse_format (GVariant      *options,
              WriteOptions  *parsed,
              GError       **error)
{
  g_autoptr(GVariant) text = g_variant_lookup_value (options, "text", G_VARIANT_TYPE ("a{ss}"));
  const char *format = "jpeg";
  gsize n, i;

  g_variant_lookup (options, "format", "&s", &format);
  if (g_str_equal (format, "png"))
    parsed->thumbnail.format = WP_THUMBNAIL_FORMAT_PNG;
  else if (g_str_equal (format, "jpeg"))
    parsed->thumbnail.format = WP_THUMBNAIL_FORMAT_JPEG;
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Unknown thumbnail format “%s” (known: jpeg, png)", format);
      return FALSE;
    }

  if (text == NULL)
    return TRUE;
  if (parsed->thumbnail.format != WP_THUMBNAIL_FORMAT_PNG)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Option “text” needs format “png”: JPEG thumbnails have no text chunks");
      return FALSE;
    }

  n = g_variant_n_children (text);
  parsed->text = g_new0 (const char *, 2 * n + 1);
  for (i = 0; i < n; i++)
    g_variant_get_child (text, i, "{&s&s}", &parsed->text[2 * i], &parsed->text[2 * i + 1]);
  parsed->thumbnail.text = parsed->text;
  return TRUE;
}

/* An option of @function: a known key of its, with a value of its type. */
static gboolean
check_option (const char  *function,
              OptionUse    use,
              const char  *key,
              GVariant    *value,
              GError     **error)
{
  g_autoptr(GString) known = g_string_new (NULL);
  gboolean elsewhere = FALSE;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (write_options); i++)
    {
      if (write_options[i].use & use)
        g_string_append_printf (known, "%s%s", known->len > 0 ? ", " : "",
                                write_options[i].key);
      if (!g_str_equal (key, write_options[i].key))
        continue;
      if (!(write_options[i].use & use))
        {
          elsewhere = TRUE;
          continue;
        }
      if (g_variant_is_of_type (value, G_VARIANT_TYPE (write_options[i].type)))
        return TRUE;

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Option “%s” must be of type %s, not %s", key, write_options[i].type,
                   g_variant_get_type_string (value));
      return FALSE;
    }

  if (elsewhere && g_str_equal (key, "base"))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "Option “base” is not one of %s's: its thumbnails are descriptors, "
                 "not paths (known: %s)", function, known->str);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                 "Unknown option “%s” (known: %s)", key, known->str);
  return FALSE;
}

/* Checks and reads the a{sv} of @function into @parsed, with the
 * defaults for what it does not give. */
static gboolean
parse_write_options (GVariant      *options,
                     const char    *function,
                     OptionUse      use,
                     WriteOptions  *parsed,
                     GError       **error)
{
  const WpThumbnailOptions defaults = WP_THUMBNAIL_OPTIONS_INIT;
  GVariantIter iter;
  const char *key;
  GVariant *value;
  gint32 quality = defaults.quality;
  gboolean strict = defaults.strict;

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      if (!check_option (function, use, key, value, error))
        {
          g_variant_unref (value);
          return FALSE;
        }
    }

  parsed->thumbnail = defaults;
  parsed->text = NULL;
  parsed->base = NULL;
  parsed->name = "source";
  g_variant_lookup (options, "quality", "i", &quality);
  g_variant_lookup (options, "max-pixels", "t", &parsed->thumbnail.max_pixels);
  g_variant_lookup (options, "strict", "b", &strict);
  g_variant_lookup (options, "fast", "b", &parsed->thumbnail.fast);
  g_variant_lookup (options, "base", "&s", &parsed->base);
  g_variant_lookup (options, "name", "&s", &parsed->name);
  parsed->thumbnail.quality = quality;
  parsed->thumbnail.strict = strict;
  return parse_format (options, parsed, error);
}

/* The result of write and write_fds: the sizes, a(ii), and the report of
 * the job: "damage" when @damage is not %NULL. */
static GVariant *
write_result_new (GVariant   *sizes,
                  const char *damage)
{
  GVariantDict report;

  g_variant_dict_init (&report, NULL);
  if (damage != NULL)
    g_variant_dict_insert (&report, "damage", "s", damage);

  return g_variant_new ("(@a(ii)@a{sv})", sizes, g_variant_dict_end (&report));
}

static GVariant *
write_with_options (GVariant      *args,
                    GCancellable  *cancellable,
                    GError       **error)
{
  g_autoptr(GVariant) options = NULL;
  g_autofree char *damage = NULL;
  g_auto(WriteOptions) parsed = { { 0 } };
  GVariant *sizes;

  if (!check_args (args, "(sa(sii)a{sv})", error))
    return NULL;

  options = g_variant_get_child_value (args, 2);
  if (!parse_write_options (options, "write", FOR_WRITE, &parsed, error))
    return NULL;

  sizes = write_thumbnails (args, parsed.base, &parsed.thumbnail, &damage,
                            cancellable, error);
  if (sizes == NULL)
    return NULL;

  return write_result_new (sizes, damage);
}

/* (ha(hii)a{sv}): each h, in a job's args, is a descriptor of this
 * worker, open until the function returns. */
static GVariant *
write_fds (GVariant      *args,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autoptr(GVariant) list = NULL;
  g_autoptr(GVariant) options = NULL;
  g_autofree WpThumbnailRequest *requests = NULL;
  g_autofree int *output_fds = NULL;
  g_autofree char *damage = NULL;
  g_auto(WriteOptions) parsed = { { 0 } };
  gint32 source_fd;
  gsize n, i;

  if (!check_args (args, "(ha(hii)a{sv})", error))
    return NULL;

  options = g_variant_get_child_value (args, 2);
  if (!parse_write_options (options, "write_fds", FOR_WRITE_FDS, &parsed, error))
    return NULL;

  g_variant_get_child (args, 0, "h", &source_fd);
  list = g_variant_get_child_value (args, 1);
  n = g_variant_n_children (list);
  requests = g_new0 (WpThumbnailRequest, MAX (n, 1));
  output_fds = g_new (int, MAX (n, 1));
  for (i = 0; i < n; i++)
    g_variant_get_child (list, i, "(hii)", &output_fds[i],
                         &requests[i].box_width, &requests[i].box_height);

  if (source_fd < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "The source of “%s” is not a descriptor (%d)", parsed.name, source_fd);
      return NULL;
    }
  for (i = 0; i < n; i++)
    if (output_fds[i] < 0)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "Thumbnail %" G_GSIZE_FORMAT " of “%s” is not a descriptor (%d)",
                     i, parsed.name, output_fds[i]);
        return NULL;
      }

  if (!wp_thumbnail_write_fds (source_fd, parsed.name, output_fds, requests, n,
                               &parsed.thumbnail, &damage, cancellable, error))
    return NULL;

  return write_result_new (sizes_new (requests, n), damage);
}

static GVariant *
info (GVariant      *args,
      GCancellable  *cancellable,
      GError       **error)
{
  g_autoptr(WpImage) image = NULL;
  const char *source;
  int width, height;

  if (!check_args (args, "(s)", error))
    return NULL;

  g_variant_get (args, "(&s)", &source);

  image = wp_image_open (source, WP_THUMBNAIL_MAX_PIXELS, cancellable, error);
  if (image == NULL)
    return NULL;

  wp_image_get_size (image, &width, &height);

  return g_variant_new ("(iis)", width, height, wp_image_get_format_name (image));
}

static const WpFunction functions[] = {
  { "thumbnail", "(ss(ii))", "(ii)", thumbnail,
    "Writes a JPEG thumbnail of an image that fits a box" },
  { "thumbnails", "(sa(sii))", "a(ii)", thumbnails,
    "Decodes an image once and writes a JPEG thumbnail for each box" },
  { "thumbnails_q", "(sa(sii)i)", "a(ii)", thumbnails_q,
    "Like thumbnails, with a JPEG quality from 1 to 100" },
  { "write", "(sa(sii)a{sv})", "(a(ii)a{sv})", write_with_options,
    "Like thumbnails, with options (quality, max-pixels, base, strict, format, text, fast) and a report" },
  { "write_fds", "(ha(hii)a{sv})", "(a(ii)a{sv})", write_fds,
    "Like write, on descriptors: the image, and an empty file for each box" },
  { "info", "(s)", "(iis)", info,
    "Displayed width and height, and format name, of an image" },
  { NULL }
};

/* What jobs read without opening a path: the address space in use
 * (wp-memory-limit.c). */
static gboolean
thumbnail_init (GError **error)
{
  wp_memory_limit_open ();
  return TRUE;
}

static void
thumbnail_shutdown (void)
{
  wp_memory_limit_close ();
}

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "thumbnail", WP_THUMBNAIL_VERSION,
  "JPEG thumbnails of images: decode once, write every size",
  functions,
  thumbnail_init,
  thumbnail_shutdown,
};

WP_PLUGIN_DEFINE (plugin)
