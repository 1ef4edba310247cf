/* wp-async-result-private.h: WpAsyncResult, the GAsyncResult of a job.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gio/gunixfdlist.h>

G_BEGIN_DECLS

#define WP_TYPE_ASYNC_RESULT (wp_async_result_get_type ())

G_DECLARE_FINAL_TYPE (WpAsyncResult, wp_async_result, WP, ASYNC_RESULT, GObject)

WpAsyncResult *wp_async_result_new       (gpointer              source_object,
                                          gpointer              source_tag,
                                          int                   priority,
                                          GAsyncReadyCallback   callback,
                                          gpointer              user_data);
int            wp_async_result_get_priority (WpAsyncResult     *self);
void           wp_async_result_return    (WpAsyncResult        *self,
                                          GVariant             *value,
                                          GError               *error);
void           wp_async_result_set_fd_list (WpAsyncResult     *self,
                                          GUnixFDList          *fd_list);
GUnixFDList   *wp_async_result_steal_fd_list (GAsyncResult     *result);
gboolean       wp_async_result_is_valid  (GAsyncResult         *result,
                                          gpointer              source_object,
                                          gpointer              source_tag);
GVariant      *wp_async_result_propagate (GAsyncResult         *result,
                                          GError              **error);

G_END_DECLS
