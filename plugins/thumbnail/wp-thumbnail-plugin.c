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
 *                                       An unknown option or one of the
 *                                       wrong type is an error.
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
 * it, write reports it (or fails with strict).
 *
 * Thumbnails are JPEG files (quality WP_THUMBNAIL_DEFAULT_QUALITY unless
 * given) that fit their box with the source's aspect ratio, never larger
 * than the source, oriented per EXIF, composited on white, with the
 * source's ICC profile and, in a comment, the source file's mtime and
 * size (wp-thumbnail-stamp.c), and no other metadata, written atomically; missing
 * parent directories of a destination are created.  Any format gdk-pixbuf
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
 * G_IO_ERROR_CANCELLED.  A failed job
 * leaves no partial thumbnail and no temporary file.
 *
 * Every function runs in a worker's main thread, one job at a time; the
 * plugin keeps no state between jobs.
 */

#include "workpool/wp-plugin.h"

#include "wp-image.h"
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
  GVariantBuilder builder;
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

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ii)"));
  for (i = 0; i < n; i++)
    g_variant_builder_add (&builder, "(ii)", requests[i].width, requests[i].height);

  return g_variant_builder_end (&builder);
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

/* An option of write: a known key with a value of its type. */
static gboolean
check_option (const char  *key,
              GVariant    *value,
              GError     **error)
{
  static const char * const options[][2] = {
    { "quality", "i" },
    { "max-pixels", "t" },
    { "base", "s" },
    { "strict", "b" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (options); i++)
    {
      if (!g_str_equal (key, options[i][0]))
        continue;
      if (g_variant_is_of_type (value, G_VARIANT_TYPE (options[i][1])))
        return TRUE;

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Option “%s” must be of type %s, not %s", key, options[i][1],
                   g_variant_get_type_string (value));
      return FALSE;
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "Unknown option “%s” (known: quality, max-pixels, base, strict)", key);
  return FALSE;
}

static GVariant *
write_with_options (GVariant      *args,
                    GCancellable  *cancellable,
                    GError       **error)
{
  g_autoptr(GVariant) options = NULL;
  WpThumbnailOptions thumbnail_options = WP_THUMBNAIL_OPTIONS_INIT;
  gint32 quality = WP_THUMBNAIL_DEFAULT_QUALITY;
  gboolean strict = FALSE;
  g_autofree char *damage = NULL;
  GVariantDict report;
  const char *base = NULL;
  GVariantIter iter;
  const char *key;
  GVariant *value;
  GVariant *sizes;

  if (!check_args (args, "(sa(sii)a{sv})", error))
    return NULL;

  options = g_variant_get_child_value (args, 2);
  g_variant_iter_init (&iter, options);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    {
      if (!check_option (key, value, error))
        {
          g_variant_unref (value);
          return NULL;
        }
    }

  g_variant_lookup (options, "quality", "i", &quality);
  g_variant_lookup (options, "max-pixels", "t", &thumbnail_options.max_pixels);
  g_variant_lookup (options, "base", "&s", &base);
  g_variant_lookup (options, "strict", "b", &strict);
  thumbnail_options.quality = quality;
  thumbnail_options.strict = strict;

  sizes = write_thumbnails (args, base, &thumbnail_options, &damage, cancellable, error);
  if (sizes == NULL)
    return NULL;

  g_variant_dict_init (&report, NULL);
  if (damage != NULL)
    g_variant_dict_insert (&report, "damage", "s", damage);

  return g_variant_new ("(@a(ii)@a{sv})", sizes, g_variant_dict_end (&report));
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
    "Like thumbnails, with options (quality, max-pixels, base, strict) and a report" },
  { "info", "(s)", "(iis)", info,
    "Displayed width and height, and format name, of an image" },
  { NULL }
};

static const WpPlugin plugin = {
  WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
  "thumbnail", WP_THUMBNAIL_VERSION,
  "JPEG thumbnails of images: decode once, write every size",
  functions,
};

WP_PLUGIN_DEFINE (plugin)
