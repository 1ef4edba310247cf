/* wp-plugin.h: the ABI between workpool and the plugins its workers load.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A plugin is a shared object NAME.so in the plugin directory.  It needs
 * this header and GLib (glib, gobject, gio) only, and exports one symbol,
 * wp_plugin_query(), through WP_PLUGIN_DEFINE():
 *
 *   static GVariant *
 *   add (GVariant *args, GCancellable *cancellable, GError **error)
 *   {
 *     gint32 a, b;
 *     g_variant_get (args, "(ii)", &a, &b);
 *     return g_variant_new ("(i)", a + b);
 *   }
 *
 *   static const WpFunction functions[] = {
 *     { "add", "(ii)", "(i)", add, "Adds two integers" },
 *     { NULL }
 *   };
 *
 *   static const WpPlugin plugin = {
 *     WP_PLUGIN_ABI_VERSION, sizeof (WpPlugin),
 *     "demo", "1.0", "Small examples", functions,
 *   };
 *
 *   WP_PLUGIN_DEFINE (plugin)
 *
 * Functions run synchronously in a worker process, one job at a time, in
 * the worker's main thread.  The worker cancels @cancellable from another
 * thread when the caller cancels the job or its timeout expires; a
 * function that checks it can stop early and keep its worker alive.
 * Writing to stdout is harmless: it goes to the worker's stderr.
 */

#ifndef WP_PLUGIN_H
#define WP_PLUGIN_H

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * WP_PLUGIN_ABI_VERSION:
 *
 * The version of the plugin ABI described by this header.  A worker
 * refuses a plugin whose #WpPlugin.abi_version differs.
 */
#define WP_PLUGIN_ABI_VERSION 1

/**
 * WpPluginFunc:
 * @args: the job's arguments, of the function's args_type
 * @cancellable: (nullable): cancelled when the job is cancelled or timed out
 * @error: return location for an error
 *
 * A plugin function.  It runs synchronously in a worker process.
 *
 * Returns: (transfer full): a new or floating #GVariant of the function's
 *   result_type, or %NULL with @error set.  The error's domain, code and
 *   message reach the caller unchanged.
 */
typedef GVariant *(*WpPluginFunc) (GVariant      *args,
                                   GCancellable  *cancellable,
                                   GError       **error);

/**
 * WpFunction:
 * @name: the function's name, unique within the plugin
 * @args_type: GVariant type string of the argument tuple, e.g. "(ss(ii))"
 * @result_type: GVariant type string of the result, e.g. "(ii)"
 * @func: the implementation
 * @summary: one line, shown by `workpool list`
 *
 * One function of a plugin.  The array of functions of a #WpPlugin ends
 * with an entry whose @name is %NULL.
 */
typedef struct {
  const char   *name;
  const char   *args_type;
  const char   *result_type;
  WpPluginFunc  func;
  const char   *summary;
} WpFunction;

/**
 * WpPlugin:
 * @abi_version: %WP_PLUGIN_ABI_VERSION
 * @struct_size: sizeof (WpPlugin)
 * @name: the plugin's name, the same as its file name without ".so"
 *   (for a symbolic link, the link's name); a worker refuses a plugin
 *   whose name differs
 * @version: the plugin's version, free form
 * @summary: one line, shown by `workpool list`
 * @functions: the functions, ending with an entry whose name is %NULL
 * @init: (nullable): called once per worker, after loading; an error
 *   makes every job of this plugin in that worker fail with
 *   %WP_POOL_ERROR_PLUGIN_INVALID carrying the message
 * @shutdown: (nullable): called before a worker exits normally
 * @reserved: zero
 *
 * What a plugin tells the worker about itself.  Must stay valid for as
 * long as the plugin is loaded (a static constant is the usual choice).
 */
typedef struct {
  guint32           abi_version;
  guint32           struct_size;
  const char       *name;
  const char       *version;
  const char       *summary;
  const WpFunction *functions;
  gboolean        (*init)     (GError **error);
  void            (*shutdown) (void);
  gpointer          reserved[8];
} WpPlugin;

#if defined(__GNUC__) || defined(__clang__)
# define WP_PLUGIN_EXPORT __attribute__((visibility ("default")))
#else
# define WP_PLUGIN_EXPORT
#endif

/**
 * WP_PLUGIN_DEFINE:
 * @plugin_struct: a #WpPlugin with static storage
 *
 * Defines and exports `const WpPlugin *wp_plugin_query (void)`, the one
 * symbol a worker looks up in a plugin, returning &@plugin_struct.
 */
#define WP_PLUGIN_DEFINE(plugin_struct)                         \
  WP_PLUGIN_EXPORT const WpPlugin *wp_plugin_query (void)       \
  {                                                             \
    return &(plugin_struct);                                    \
  }

/* Declared here, inside G_BEGIN_DECLS, so that a plugin written in C++
 * exports the unmangled name the worker looks up. */
WP_PLUGIN_EXPORT const WpPlugin *wp_plugin_query (void);

G_END_DECLS

#endif /* WP_PLUGIN_H */
