/* workpool-thumbnailer.c: the desktop's thumbnailer on the session bus.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   workpool-thumbnailer [--workers N] [--timeout SECONDS]
 *                        [--idle-timeout SECONDS] [--cache-dir DIR]
 *                        [--plugin-dir DIR] [--version]
 *
 * Owns org.freedesktop.thumbnails.Thumbnailer1 and Cache1 on the session
 * bus (wp-thumbnailer.c serves them) and fills the freedesktop thumbnail
 * cache with the thumbnail plugin's jobs, in two pools of --workers
 * STRICT-sandboxed workers that open no path, the background scheduler's
 * at idle CPU and I/O priority: a decoder that crashes or hangs on one
 * file (past --timeout, 30 s) fails that file alone.
 *
 * Life: started by D-Bus activation (or systemd, Type=dbus); exits 0
 * once it has been idle (no request, no job) for --idle-timeout seconds
 * (60; 0: never), releasing its names first so that the next call starts
 * it again; on SIGTERM or SIGINT answers every waiting URI with error 7
 * and Finished, waits for its workers and exits 0.  Losing a name (another
 * thumbnailer replacing it) or the bus exits 1, as does a name it cannot
 * own at start.  Usage errors exit 2.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <glib-unix.h>

#include "wp-thumbnailer.h"

#define THUMBNAILER_NAME      "org.freedesktop.thumbnails.Thumbnailer1"
#define CACHE_NAME            "org.freedesktop.thumbnails.Cache1"
#define DEFAULT_TIMEOUT_S     30
#define DEFAULT_IDLE_S        60
#define MEMORY_LIMIT          (G_GUINT64_CONSTANT (1) << 30)

typedef struct {
  GMainLoop     *loop;
  WpThumbnailer *thumbnailer;
  WpPool        *pool;
  WpPool        *background_pool;
  guint          idle_s;
  guint          idle_source;
  guint          owner_ids[2];
  guint          n_owned;
  int            status;
  gboolean       stopping;
} Service;

static void
service_quit (Service *service,
              int      status)
{
  if (service->status == 0)
    service->status = status;
  g_main_loop_quit (service->loop);
}

static void
unown_names (Service *service)
{
  for (guint i = 0; i < G_N_ELEMENTS (service->owner_ids); i++)
    if (service->owner_ids[i] != 0)
      {
        g_bus_unown_name (service->owner_ids[i]);
        service->owner_ids[i] = 0;
      }
}

static gboolean
on_idle_timeout (gpointer user_data)
{
  Service *service = user_data;

  service->idle_source = 0;
  if (!wp_thumbnailer_is_idle (service->thumbnailer))
    return G_SOURCE_REMOVE;
  g_debug ("Idle for %u s: exiting", service->idle_s);
  unown_names (service);
  service_quit (service, EXIT_SUCCESS);
  return G_SOURCE_REMOVE;
}

/* Called each time the thumbnailer becomes idle. */
static void
on_idle (gpointer user_data)
{
  Service *service = user_data;

  if (service->stopping)
    {
      service_quit (service, EXIT_SUCCESS);
      return;
    }
  if (service->idle_s == 0)
    return;
  if (service->idle_source != 0)
    g_source_remove (service->idle_source);
  service->idle_source = g_timeout_add_seconds (service->idle_s, on_idle_timeout, service);
}

static gboolean
on_stop_signal (gpointer user_data)
{
  Service *service = user_data;

  if (service->stopping)
    return G_SOURCE_CONTINUE;
  service->stopping = TRUE;
  unown_names (service);
  wp_thumbnailer_shut_down (service->thumbnailer);
  return G_SOURCE_CONTINUE;
}

static void
on_bus_acquired (GDBusConnection *connection,
                 const char      *name,
                 gpointer         user_data)
{
  Service *service = user_data;
  g_autoptr(GError) error = NULL;

  /* Both names share one connection: register the objects once. */
  if (g_str_equal (name, CACHE_NAME))
    return;
  if (!wp_thumbnailer_register (service->thumbnailer, connection, &error))
    {
      g_printerr ("workpool-thumbnailer: cannot export its objects: %s\n", error->message);
      service_quit (service, EXIT_FAILURE);
    }
}

static void
on_name_acquired (GDBusConnection *connection,
                  const char      *name,
                  gpointer         user_data)
{
  Service *service = user_data;

  g_debug ("Owns %s", name);
  if (++service->n_owned == G_N_ELEMENTS (service->owner_ids))
    on_idle (service);
}

static void
on_name_lost (GDBusConnection *connection,
              const char      *name,
              gpointer         user_data)
{
  Service *service = user_data;

  if (connection == NULL)
    g_printerr ("workpool-thumbnailer: no session bus to own %s on\n", name);
  else
    g_printerr ("workpool-thumbnailer: %s is owned by another program\n", name);
  service_quit (service, EXIT_FAILURE);
}

static void
on_pool_closed (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  guint *n_closed = user_data;

  wp_pool_close_finish (WP_POOL (object), result, NULL);
  (*n_closed)++;
}

/* A pool of @n_workers sandboxed workers, or NULL with the error said. */
static WpPool *
pool_new (const char *plugin_dir,
          guint       n_workers,
          gboolean    background)
{
  g_autoptr(GError) error = NULL;
  WpPool *pool = wp_pool_new (plugin_dir, n_workers, &error);

  if (pool == NULL)
    {
      g_printerr ("workpool-thumbnailer: %s\n", error->message);
      return NULL;
    }
  wp_pool_set_sandbox (pool, WP_SANDBOX_STRICT);
  wp_pool_set_worker_memory_limit (pool, MEMORY_LIMIT);
  wp_pool_set_background (pool, background);
  return pool;
}

static int
usage_error (GOptionContext *context,
             const char     *message)
{
  g_printerr ("workpool-thumbnailer: %s\nTry “workpool-thumbnailer --help”.\n", message);
  return 2;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *cache_dir = NULL;
  g_autofree char *plugin_dir = NULL;
  int n_workers = 0, timeout_s = DEFAULT_TIMEOUT_S, idle_s = DEFAULT_IDLE_S;
  gboolean version = FALSE;
  guint n_closed = 0;
  Service service = { 0 };
  GOptionEntry entries[] = {
    { "workers", 0, 0, G_OPTION_ARG_INT, &n_workers,
      "Worker processes (default: one per processor)", "N" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s,
      "Seconds an image may take before it fails; 0 for no limit (default: 30)", "SECONDS" },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_s,
      "Exit after this many seconds without work; 0 never (default: 60)", "SECONDS" },
    { "cache-dir", 0, 0, G_OPTION_ARG_FILENAME, &cache_dir,
      "The thumbnail cache (default: $XDG_CACHE_HOME/thumbnails)", "DIR" },
    { "plugin-dir", 0, 0, G_OPTION_ARG_FILENAME, &plugin_dir,
      "The plugin directory of the thumbnail plugin (default: the installed one)", "DIR" },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    G_OPTION_ENTRY_NULL
  };

  /* Messages, debug ones included, on stderr: stdout may be a pipe
   * nobody reads (dbus-daemon's, under activation). */
  g_log_writer_default_set_use_stderr (TRUE);
  g_option_context_set_summary (context,
                                "Serves org.freedesktop.thumbnails.Thumbnailer1 and Cache1 on "
                                "the session bus,\nthumbnailing in sandboxed worker processes.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc > 1)
    return usage_error (context, "no arguments are taken besides the options");
  if (version)
    {
      printf ("workpool-thumbnailer %s\n", WP_VERSION);
      return 0;
    }
  if (n_workers < 0 || timeout_s < 0 || timeout_s > G_MAXINT / 1000 || idle_s < 0)
    return usage_error (context, "--workers, --timeout and --idle-timeout take numbers from 0");

  service.pool = pool_new (plugin_dir, n_workers, FALSE);
  service.background_pool = pool_new (plugin_dir, n_workers, TRUE);
  if (service.pool == NULL || service.background_pool == NULL)
    return 1;
  service.loop = g_main_loop_new (NULL, FALSE);
  service.idle_s = idle_s;
  service.thumbnailer = wp_thumbnailer_new (service.pool, service.background_pool,
                                            wp_xdg_cache_new (cache_dir),
                                            (guint) timeout_s * 1000);
  wp_thumbnailer_set_idle_func (service.thumbnailer, G_CALLBACK (on_idle), &service);

  g_unix_signal_add (SIGTERM, on_stop_signal, &service);
  g_unix_signal_add (SIGINT, on_stop_signal, &service);
  service.owner_ids[0] = g_bus_own_name (G_BUS_TYPE_SESSION, THUMBNAILER_NAME,
                                         G_BUS_NAME_OWNER_FLAGS_NONE, on_bus_acquired,
                                         on_name_acquired, on_name_lost, &service, NULL);
  service.owner_ids[1] = g_bus_own_name (G_BUS_TYPE_SESSION, CACHE_NAME,
                                         G_BUS_NAME_OWNER_FLAGS_NONE, on_bus_acquired,
                                         on_name_acquired, on_name_lost, &service, NULL);

  g_main_loop_run (service.loop);

  unown_names (&service);
  if (service.idle_source != 0)
    g_source_remove (service.idle_source);
  if (!wp_thumbnailer_is_idle (service.thumbnailer))
    wp_thumbnailer_shut_down (service.thumbnailer);
  wp_pool_close_async (service.pool, NULL, on_pool_closed, &n_closed);
  wp_pool_close_async (service.background_pool, NULL, on_pool_closed, &n_closed);
  while (n_closed < 2 || !wp_thumbnailer_is_idle (service.thumbnailer))
    g_main_context_iteration (NULL, TRUE);
  wp_thumbnailer_unregister (service.thumbnailer);
  g_clear_pointer (&service.thumbnailer, wp_thumbnailer_free);
  g_clear_object (&service.pool);
  g_clear_object (&service.background_pool);
  g_main_loop_unref (service.loop);
  return service.status;
}
