/* wp-xdg-cache.h: the freedesktop thumbnail cache, read and filled through a pool.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by `workpool thumbnail --xdg-cache` and workpool-thumbnailer;
 * what the code owns and guarantees is described at the top of
 * wp-xdg-cache.c.
 */

#pragma once

#include <workpool/workpool.h>

G_BEGIN_DECLS

/**
 * WpXdgFlavor:
 * @WP_XDG_FLAVOR_NORMAL: thumbnails/normal, 128x128
 * @WP_XDG_FLAVOR_LARGE: thumbnails/large, 256x256
 * @WP_XDG_FLAVOR_X_LARGE: thumbnails/x-large, 512x512
 * @WP_XDG_FLAVOR_XX_LARGE: thumbnails/xx-large, 1024x1024
 *
 * The sizes of the Thumbnail Managing Standard.
 */
typedef enum {
  WP_XDG_FLAVOR_NORMAL,
  WP_XDG_FLAVOR_LARGE,
  WP_XDG_FLAVOR_X_LARGE,
  WP_XDG_FLAVOR_XX_LARGE,
} WpXdgFlavor;

#define WP_XDG_N_FLAVORS 4
/* A set of flavors, as a mask of 1 << flavor. */
#define WP_XDG_FLAVOR_BIT(flavor) (1u << (flavor))
#define WP_XDG_ALL_FLAVORS ((1u << WP_XDG_N_FLAVORS) - 1)

/**
 * WpXdgEntry:
 * @WP_XDG_ENTRY_MISSING: no valid thumbnail and no valid failure entry
 * @WP_XDG_ENTRY_VALID: a thumbnail of the file as it is now
 * @WP_XDG_ENTRY_FAILED: a failure entry of the file as it is now
 *
 * What the cache holds for a file.
 */
typedef enum {
  WP_XDG_ENTRY_MISSING,
  WP_XDG_ENTRY_VALID,
  WP_XDG_ENTRY_FAILED,
} WpXdgEntry;

const char *wp_xdg_flavor_get_name   (WpXdgFlavor   flavor);
int         wp_xdg_flavor_get_size   (WpXdgFlavor   flavor);
gboolean    wp_xdg_flavor_from_name  (const char   *name,
                                      WpXdgFlavor  *flavor);
guint       wp_xdg_flavors_parse     (const char   *list,
                                      GError      **error);

typedef struct _WpXdgCache WpXdgCache;

WpXdgCache *wp_xdg_cache_new              (const char          *root);
void        wp_xdg_cache_free             (WpXdgCache          *cache);
const char *wp_xdg_cache_get_root         (WpXdgCache          *cache);
char       *wp_xdg_cache_get_path         (WpXdgCache          *cache,
                                           const char          *uri,
                                           WpXdgFlavor          flavor);
char       *wp_xdg_cache_get_fail_path    (WpXdgCache          *cache,
                                           const char          *uri);
gboolean    wp_xdg_cache_contains         (WpXdgCache          *cache,
                                           const char          *path);
WpXdgEntry  wp_xdg_cache_lookup           (WpXdgCache          *cache,
                                           const char          *uri,
                                           gint64               mtime,
                                           WpXdgFlavor          flavor);
guint       wp_xdg_cache_get_missing      (WpXdgCache          *cache,
                                           const char          *path,
                                           guint                flavors);

void        wp_xdg_cache_thumbnail_async  (WpXdgCache          *cache,
                                           WpPool              *pool,
                                           const char          *path,
                                           guint                flavors,
                                           guint                timeout_ms,
                                           int                  io_priority,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean    wp_xdg_cache_thumbnail_finish (WpXdgCache          *cache,
                                           GAsyncResult        *result,
                                           GError             **error);

gboolean    wp_xdg_cache_move             (WpXdgCache          *cache,
                                           const char          *from_uri,
                                           const char          *to_uri,
                                           gboolean             keep_source,
                                           GError             **error);
void        wp_xdg_cache_delete           (WpXdgCache          *cache,
                                           const char          *uri);
guint       wp_xdg_cache_cleanup          (WpXdgCache          *cache,
                                           const char * const  *base_uris,
                                           gint64               since);

GHashTable *wp_xdg_png_read_text          (const char          *path,
                                           GError             **error);
gboolean    wp_xdg_mtime_matches          (const char          *recorded,
                                           gint64               mtime);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WpXdgCache, wp_xdg_cache_free)

G_END_DECLS
