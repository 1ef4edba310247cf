/* wp-plugin-trust-private.h: which plugin files may be loaded, for the
 * host and the worker alike.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <sys/stat.h>
#include <glib.h>

G_BEGIN_DECLS

gboolean wp_plugin_trust_check_stat (const struct stat  *st,
                                     const char         *path,
                                     uid_t               user,
                                     GError            **error);
gboolean wp_plugin_trust_check      (const char         *plugin_dir,
                                     const char         *file_name,
                                     const struct stat  *file_st,
                                     char              **real_path,
                                     GError            **error);

G_END_DECLS
