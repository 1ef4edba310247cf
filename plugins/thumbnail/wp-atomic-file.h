/* wp-atomic-file.h: replacing a file's contents all at once.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internal to the thumbnail plugin (and its tests); what the code owns
 * and guarantees is described at the top of wp-atomic-file.c.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * WpAtomicFileFlags:
 * @WP_ATOMIC_FILE_NONE: no flags
 * @WP_ATOMIC_FILE_CREATE_PARENTS: create the missing parent directories
 *   of the destination first (mode 0777 minus the umask)
 * @WP_ATOMIC_FILE_NO_O_TMPFILE: skip the O_TMPFILE strategy and use a
 *   named temporary file, as on file systems without O_TMPFILE; for tests
 * @WP_ATOMIC_FILE_PRIVATE: the new file gets mode 0600, whatever the
 *   umask (the freedesktop thumbnail cache's files)
 */
typedef enum {
  WP_ATOMIC_FILE_NONE           = 0,
  WP_ATOMIC_FILE_CREATE_PARENTS = 1 << 0,
  WP_ATOMIC_FILE_NO_O_TMPFILE   = 1 << 1,
  WP_ATOMIC_FILE_PRIVATE        = 1 << 2,
} WpAtomicFileFlags;

typedef struct _WpAtomicFile WpAtomicFile;

gboolean wp_atomic_file_replace            (const char         *path,
                                            GBytes             *contents,
                                            WpAtomicFileFlags   flags,
                                            GError            **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean wp_atomic_file_replace_below      (const char         *base,
                                            const char         *path,
                                            GBytes             *contents,
                                            WpAtomicFileFlags   flags,
                                            GError            **error) G_GNUC_WARN_UNUSED_RESULT;
WpAtomicFile *wp_atomic_file_create_below (const char         *base,
                                           const char         *path,
                                           WpAtomicFileFlags   flags,
                                           GError            **error) G_GNUC_WARN_UNUSED_RESULT;
int      wp_atomic_file_get_fd             (WpAtomicFile       *file);
gboolean wp_atomic_file_is_unnamed         (WpAtomicFile       *file);
gboolean wp_atomic_file_commit             (WpAtomicFile       *file,
                                            GError            **error) G_GNUC_WARN_UNUSED_RESULT;
void     wp_atomic_file_free               (WpAtomicFile       *file);
gboolean wp_atomic_file_is_temp_name       (const char         *name);
gboolean wp_atomic_file_path_is_below      (const char         *path,
                                            const char         *folder);
guint    wp_atomic_file_remove_temps_at    (int                 dirfd);
guint    wp_atomic_file_remove_temps_below (const char         *base,
                                            const char         *directory);
gboolean wp_atomic_file_write_all          (int                 fd,
                                            const guint8       *data,
                                            gsize               length);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WpAtomicFile, wp_atomic_file_free)

G_END_DECLS
