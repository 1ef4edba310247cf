/* wp-plugin-dir-private.h: plugin names and plugin files, for the host and
 * the worker alike.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <sys/stat.h>
#include <glib.h>

G_BEGIN_DECLS

/* Which file a plugin was loaded from.  A plugin replaced on disk (a new
 * inode, or the same inode rewritten) has another identity, which is how
 * the pool notices that workers run stale code. */
typedef struct {
  guint64 dev;
  guint64 ino;
  gint64  mtime_ns;
} WpPluginFileId;

gboolean  wp_plugin_name_is_valid     (const char            *name);
char     *wp_plugin_dir_file_path     (const char            *plugin_dir,
                                       const char            *name);
void      wp_plugin_file_id_from_stat (WpPluginFileId        *id,
                                       const struct stat     *st);
gboolean  wp_plugin_file_id_equal     (const WpPluginFileId  *a,
                                       const WpPluginFileId  *b);
char    **wp_plugin_dir_list          (const char            *plugin_dir);

G_END_DECLS
