/* wp-plugin-loader.h: loading and checking plugins, in the worker.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <workpool/wp-plugin.h>

#include "wp-plugin-dir-private.h"

G_BEGIN_DECLS

typedef struct _WpPluginLoader WpPluginLoader;
typedef struct _WpLoadedPlugin WpLoadedPlugin;

WpPluginLoader       *wp_plugin_loader_new         (const char            *plugin_dir);
void                  wp_plugin_loader_shutdown    (WpPluginLoader        *loader);
WpLoadedPlugin       *wp_plugin_loader_get         (WpPluginLoader        *loader,
                                                    const char            *name,
                                                    gboolean              *newly_loaded,
                                                    GError               **error);

const WpFunction     *wp_loaded_plugin_lookup      (WpLoadedPlugin        *plugin,
                                                    const char            *function,
                                                    GError               **error);
const WpPluginFileId *wp_loaded_plugin_get_file_id (WpLoadedPlugin        *plugin);
GVariant             *wp_loaded_plugin_describe    (WpLoadedPlugin        *plugin,
                                                    GError               **error);

G_END_DECLS
