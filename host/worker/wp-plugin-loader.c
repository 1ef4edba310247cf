/* wp-plugin-loader.c: loading and checking plugins, in the worker.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The loader owns every plugin its worker has loaded, by name.  A plugin
 * is loaded the first time a job names it and stays loaded for the life
 * of the worker; the host recycles a worker whose plugin file changed on
 * disk, so the loader never has to unload one that was initialised.
 *
 * Loading opens the file, takes its identity (device, inode, mtime) with
 * fstat(2), and applies the trust rule (wp-plugin-trust.c: the file and
 * its directory, or a link's target and its directory, owned by root or
 * the pool's user and writable by their owner only) to that descriptor's
 * status before dlopen() maps the file; the identity is what the host is
 * told.  If the file is replaced in between, the worker runs code at
 * least as new as the identity says, so the host can only recycle it
 * needlessly, never keep it running stale code.  (dlopen() of
 * "/proc/self/fd/N" would pin the file exactly, but glibc matches loaded
 * objects by name, and fd numbers are reused.)
 *
 * What the trust check leaves open (time of check to time of use):
 * dlopen() opens the file again by the path that was checked (for a
 * link, the target's real path), so that path is resolved twice.  Inside
 * the checked directories only their owners (root or the pool's user)
 * can change a name in between.  The directories above them are not
 * checked: someone who can write one of those (a shared folder without
 * the sticky bit, above the plugin directory) could, in the microseconds
 * between the check and dlopen(), rename a checked directory away and put
 * his own in its place, and dlopen() would map a file nobody checked.  A
 * plugin directory whose ancestors are writable only by root or you (an
 * installed one always is) has no such window.  Once loaded, a plugin is not checked again: its code came from
 * a trusted file, and a file that changes afterwards has a new identity,
 * so the host recycles the worker and a fresh one checks the new file.
 *
 * A plugin that fails its checks (not trusted, no wp_plugin_query,
 * another ABI, a bad function table) is closed again and not remembered:
 * the next job tries again, and finds a fixed file if one was dropped in
 * or its modes were fixed.  A plugin whose
 * init() failed is kept, with its error, because init may have left state
 * behind; every job for it fails with that error.
 */

#include "config.h"

#include "wp-plugin-loader.h"
#include "wp-plugin-trust-private.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <gmodule.h>
#include <workpool/wp-error.h>

#define MAX_FUNCTIONS 4096

struct _WpPluginLoader {
  char       *plugin_dir;
  GHashTable *plugins;   /* name → WpLoadedPlugin */
};

struct _WpLoadedPlugin {
  char           *name;
  char           *path;
  GModule        *module;
  const WpPlugin *plugin;
  GHashTable     *functions;   /* name → const WpFunction * */
  GError         *init_error;
  WpPluginFileId  file_id;
};

static void
loaded_plugin_free (WpLoadedPlugin *loaded)
{
  g_clear_pointer (&loaded->functions, g_hash_table_unref);
  g_clear_error (&loaded->init_error);
  if (loaded->module != NULL)
    g_module_close (loaded->module);
  g_free (loaded->name);
  g_free (loaded->path);
  g_free (loaded);
}

WpPluginLoader *
wp_plugin_loader_new (const char *plugin_dir)
{
  WpPluginLoader *loader = g_new0 (WpPluginLoader, 1);

  loader->plugin_dir = g_strdup (plugin_dir);
  loader->plugins = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                           (GDestroyNotify) loaded_plugin_free);
  return loader;
}

/* Calls shutdown() of every plugin whose init() succeeded. */
void
wp_plugin_loader_shutdown (WpPluginLoader *loader)
{
  GHashTableIter iter;
  WpLoadedPlugin *loaded;

  g_hash_table_iter_init (&iter, loader->plugins);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &loaded))
    if (loaded->init_error == NULL && loaded->plugin->shutdown != NULL)
      loaded->plugin->shutdown ();
}

static gboolean
invalid (GError         **error,
         WpLoadedPlugin  *loaded,
         const char      *format,
         ...) G_GNUC_PRINTF (3, 4);

static gboolean
invalid (GError         **error,
         WpLoadedPlugin  *loaded,
         const char      *format,
         ...)
{
  GError *reason;
  va_list args;

  va_start (args, format);
  reason = g_error_new_valist (WP_POOL_ERROR, WP_POOL_ERROR_PLUGIN_INVALID, format, args);
  va_end (args);

  g_propagate_prefixed_error (error, reason, "Plugin '%s' (%s) is invalid: ",
                              loaded->name, loaded->path);
  return FALSE;
}

static gboolean
check_function (WpLoadedPlugin    *loaded,
                const WpFunction  *function,
                GError           **error)
{
  if (!g_utf8_validate (function->name, -1, NULL) || *function->name == '\0')
    return invalid (error, loaded, "a function has an empty or non-UTF-8 name");
  if (function->func == NULL)
    return invalid (error, loaded, "function '%s' has no implementation", function->name);
  if (function->args_type == NULL || !g_variant_type_string_is_valid (function->args_type))
    return invalid (error, loaded, "function '%s' has an invalid args_type \"%s\"",
                    function->name, function->args_type ? function->args_type : "(null)");
  if (function->result_type == NULL || !g_variant_type_string_is_valid (function->result_type))
    return invalid (error, loaded, "function '%s' has an invalid result_type \"%s\"",
                    function->name, function->result_type ? function->result_type : "(null)");
  if (function->summary != NULL && !g_utf8_validate (function->summary, -1, NULL))
    return invalid (error, loaded, "function '%s' has a non-UTF-8 summary", function->name);
  if (g_hash_table_contains (loaded->functions, function->name))
    return invalid (error, loaded, "function '%s' is defined twice", function->name);

  return TRUE;
}

static gboolean
check_plugin (WpLoadedPlugin  *loaded,
              GError         **error)
{
  const WpPlugin *(*query) (void) = NULL;
  const WpPlugin *plugin;
  guint i;

  if (!g_module_symbol (loaded->module, "wp_plugin_query", (gpointer *) &query) || query == NULL)
    return invalid (error, loaded, "it has no wp_plugin_query() (is it a workpool plugin?)");

  plugin = query ();
  if (plugin == NULL)
    return invalid (error, loaded, "wp_plugin_query() returned NULL");
  if (plugin->abi_version != WP_PLUGIN_ABI_VERSION)
    return invalid (error, loaded, "it is built for plugin ABI version %u, this worker supports %u",
                    plugin->abi_version, WP_PLUGIN_ABI_VERSION);
  if (plugin->struct_size != sizeof (WpPlugin))
    return invalid (error, loaded, "its WpPlugin is %u bytes, expected %" G_GSIZE_FORMAT,
                    plugin->struct_size, sizeof (WpPlugin));
  if (plugin->name == NULL || plugin->functions == NULL)
    return invalid (error, loaded, "its WpPlugin has no name or no function table");
  /* Callers, `workpool list` and the host's reload check know a plugin
   * by its file name only: a plugin that calls itself something else
   * (a copy renamed on disk, a wrong constant) would be listed and
   * described under one name and run under another. */
  if (strcmp (plugin->name, loaded->name) != 0)
    {
      g_autofree char *declared = g_utf8_make_valid (plugin->name, -1);

      return invalid (error, loaded, "it calls itself \"%s\", but its file name makes it \"%s\"",
                      declared, loaded->name);
    }
  if ((plugin->version != NULL && !g_utf8_validate (plugin->version, -1, NULL))
      || (plugin->summary != NULL && !g_utf8_validate (plugin->summary, -1, NULL)))
    return invalid (error, loaded, "its version or summary is not UTF-8");

  for (i = 0; i < MAX_FUNCTIONS && plugin->functions[i].name != NULL; i++)
    {
      if (!check_function (loaded, &plugin->functions[i], error))
        return FALSE;
      g_hash_table_insert (loaded->functions, (gpointer) plugin->functions[i].name,
                           (gpointer) &plugin->functions[i]);
    }
  if (i == MAX_FUNCTIONS)
    return invalid (error, loaded, "its function table has no end (more than %d entries)", MAX_FUNCTIONS);

  loaded->plugin = plugin;
  return TRUE;
}

static gboolean
open_plugin (WpLoadedPlugin  *loaded,
             const char      *plugin_dir,
             GError         **error)
{
  g_autofree char *file_name = g_path_get_basename (loaded->path);
  g_autofree char *real_path = NULL;
  struct stat st;
  int fd;

  /* O_NONBLOCK: a FIFO called NAME.so must be refused below, not block
   * the worker in open() until a writer comes. */
  fd = open (loaded->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    {
      int saved_errno = errno;

      if (saved_errno == ENOENT)
        g_set_error (error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN,
                     "No plugin '%s' in %s", loaded->name, plugin_dir);
      else
        g_set_error (error, WP_POOL_ERROR, WP_POOL_ERROR_PLUGIN_INVALID,
                     "Cannot open plugin '%s' (%s): %s", loaded->name, loaded->path,
                     g_strerror (saved_errno));
      return FALSE;
    }

  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      return invalid (error, loaded, "it is not a regular file");
    }
  close (fd);

  if (!wp_plugin_trust_check (plugin_dir, file_name, &st, &real_path, error))
    {
      g_prefix_error (error, "Plugin '%s' (%s) is not trusted: ", loaded->name, loaded->path);
      return FALSE;
    }
  wp_plugin_file_id_from_stat (&loaded->file_id, &st);

  loaded->module = g_module_open (real_path, G_MODULE_BIND_LOCAL);
  if (loaded->module == NULL)
    return invalid (error, loaded, "%s", g_module_error ());

  return TRUE;
}

static void
init_plugin (WpLoadedPlugin *loaded)
{
  g_autoptr(GError) error = NULL;

  if (loaded->plugin->init == NULL || loaded->plugin->init (&error))
    return;

  g_set_error (&loaded->init_error, WP_POOL_ERROR, WP_POOL_ERROR_PLUGIN_INVALID,
               "Plugin '%s' failed to initialise: %s", loaded->name,
               error != NULL ? error->message : "init() returned FALSE without an error");
}

/* Returns @name's plugin, loading and initialising it the first time.
 * Sets *newly_loaded when this call loaded it. */
WpLoadedPlugin *
wp_plugin_loader_get (WpPluginLoader  *loader,
                      const char      *name,
                      gboolean        *newly_loaded,
                      GError         **error)
{
  WpLoadedPlugin *loaded;

  *newly_loaded = FALSE;

  if (!wp_plugin_name_is_valid (name))
    {
      g_set_error (error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_PLUGIN,
                   "'%s' is not a valid plugin name", name);
      return NULL;
    }

  loaded = g_hash_table_lookup (loader->plugins, name);
  if (loaded != NULL)
    return loaded;

  loaded = g_new0 (WpLoadedPlugin, 1);
  loaded->name = g_strdup (name);
  loaded->path = wp_plugin_dir_file_path (loader->plugin_dir, name);
  loaded->functions = g_hash_table_new (g_str_hash, g_str_equal);

  if (!open_plugin (loaded, loader->plugin_dir, error) || !check_plugin (loaded, error))
    {
      loaded_plugin_free (loaded);
      return NULL;
    }

  init_plugin (loaded);
  g_hash_table_insert (loader->plugins, loaded->name, loaded);
  *newly_loaded = TRUE;

  return loaded;
}

const WpFunction *
wp_loaded_plugin_lookup (WpLoadedPlugin  *loaded,
                         const char      *function,
                         GError         **error)
{
  const WpFunction *found;

  if (loaded->init_error != NULL)
    {
      g_propagate_error (error, g_error_copy (loaded->init_error));
      return NULL;
    }

  found = g_hash_table_lookup (loaded->functions, function);
  if (found == NULL)
    g_set_error (error, WP_POOL_ERROR, WP_POOL_ERROR_NO_SUCH_FUNCTION,
                 "Plugin '%s' has no function '%s'", loaded->name, function);

  return found;
}

const WpPluginFileId *
wp_loaded_plugin_get_file_id (WpLoadedPlugin *loaded)
{
  return &loaded->file_id;
}

static const char *
or_empty (const char *text)
{
  return text != NULL ? text : "";
}

/* "(sssa(ssss))": name, version, summary, [(function, args, result,
 * summary)], in the order of the plugin's table. */
GVariant *
wp_loaded_plugin_describe (WpLoadedPlugin  *loaded,
                           GError         **error)
{
  const WpPlugin *plugin = loaded->plugin;
  GVariantBuilder functions;

  if (loaded->init_error != NULL)
    {
      g_propagate_error (error, g_error_copy (loaded->init_error));
      return NULL;
    }

  g_variant_builder_init (&functions, G_VARIANT_TYPE ("a(ssss)"));
  for (guint i = 0; plugin->functions[i].name != NULL; i++)
    {
      const WpFunction *function = &plugin->functions[i];

      g_variant_builder_add (&functions, "(ssss)", function->name, function->args_type,
                             function->result_type, or_empty (function->summary));
    }

  return g_variant_new ("(sssa(ssss))", loaded->name, or_empty (plugin->version),
                        or_empty (plugin->summary), &functions);
}
