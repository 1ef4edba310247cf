/* wp-thumbnailer.h: the Thumbnailer1 and Cache1 D-Bus objects of workpool-thumbnailer.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the code owns and guarantees is described at the top of
 * wp-thumbnailer.c.
 */

#pragma once

#include <gio/gio.h>

#include "wp-xdg-cache.h"

G_BEGIN_DECLS

typedef struct _WpThumbnailer WpThumbnailer;

/* Tumbler's error codes (tumbler/tumbler-error.h), which clients know. */
typedef enum {
  WP_THUMBNAILER_ERROR_UNSUPPORTED = 0,
  WP_THUMBNAILER_ERROR_CONNECTION = 1,
  WP_THUMBNAILER_ERROR_INVALID_FORMAT = 2,
  WP_THUMBNAILER_ERROR_IS_THUMBNAIL = 3,
  WP_THUMBNAILER_ERROR_SAVE_FAILED = 4,
  WP_THUMBNAILER_ERROR_UNSUPPORTED_FLAVOR = 5,
  WP_THUMBNAILER_ERROR_NO_CONTENT = 6,
  WP_THUMBNAILER_ERROR_SHUTTING_DOWN = 7,
  WP_THUMBNAILER_ERROR_OTHER = 8,
} WpThumbnailerError;

WpThumbnailer *wp_thumbnailer_new           (WpPool           *pool,
                                             WpPool           *background_pool,
                                             WpXdgCache       *cache,
                                             guint             timeout_ms);
void           wp_thumbnailer_free          (WpThumbnailer    *thumbnailer);
gboolean       wp_thumbnailer_register      (WpThumbnailer    *thumbnailer,
                                             GDBusConnection  *connection,
                                             GError          **error);
void           wp_thumbnailer_unregister    (WpThumbnailer    *thumbnailer);
gboolean       wp_thumbnailer_is_idle       (WpThumbnailer    *thumbnailer);
void           wp_thumbnailer_set_idle_func (WpThumbnailer    *thumbnailer,
                                             GCallback         func,
                                             gpointer          user_data);
void           wp_thumbnailer_shut_down     (WpThumbnailer    *thumbnailer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WpThumbnailer, wp_thumbnailer_free)

G_END_DECLS
