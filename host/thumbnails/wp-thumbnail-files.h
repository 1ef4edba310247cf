/* wp-thumbnail-files.h: the files of a write_fds job, opened and named by the host.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * For whoever runs the thumbnail plugin's write_fds jobs (`workpool
 * thumbnail`, the freedesktop cache of wp-xdg-cache.c); what the code owns and guarantees is described at the top
 * of wp-thumbnail-files.c.
 */

#pragma once

#include <gio/gunixfdlist.h>

#include "wp-atomic-file.h"

G_BEGIN_DECLS

/* The most descriptors the files of a job with @n_outputs thumbnails
 * hold open at once, its fd list's included. */
#define WP_THUMBNAIL_FILES_FDS(n_outputs) (1 + 3 * (n_outputs))

typedef struct _WpThumbnailFiles WpThumbnailFiles;

int               wp_thumbnail_files_open_source   (const char         *path,
                                                    GError            **error) G_GNUC_WARN_UNUSED_RESULT;
WpThumbnailFiles *wp_thumbnail_files_new           (const char         *source,
                                                    GError            **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean          wp_thumbnail_files_add_output    (WpThumbnailFiles   *files,
                                                    const char         *base,
                                                    const char         *destination,
                                                    int                 box_width,
                                                    int                 box_height,
                                                    WpAtomicFileFlags   flags,
                                                    GError            **error) G_GNUC_WARN_UNUSED_RESULT;
guint             wp_thumbnail_files_get_n_outputs (WpThumbnailFiles   *files);
int               wp_thumbnail_files_get_source_fd (WpThumbnailFiles   *files);
GVariant         *wp_thumbnail_files_build_args    (WpThumbnailFiles   *files,
                                                    GVariant           *options,
                                                    GUnixFDList       **fd_list,
                                                    GError            **error);
gboolean          wp_thumbnail_files_commit        (WpThumbnailFiles   *files,
                                                    guint              *n_committed,
                                                    GError            **error) G_GNUC_WARN_UNUSED_RESULT;
void              wp_thumbnail_files_free          (WpThumbnailFiles   *files);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WpThumbnailFiles, wp_thumbnail_files_free)

G_END_DECLS
