/* wp-thumbnailer.c: the Thumbnailer1 and Cache1 D-Bus objects of workpool-thumbnailer.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * org.freedesktop.thumbnails.Thumbnailer1 at
 * /org/freedesktop/thumbnails/Thumbnailer1, Tumbler's interface exactly,
 * and org.freedesktop.thumbnails.Cache1 at
 * /org/freedesktop/thumbnails/Cache1, filled and kept by wp-xdg-cache.c
 * with the jobs of one pool.
 *
 * Requests.  Queue() answers a handle (one counter from 1), then, to the
 * caller alone (unicast, as Tumbler): Started, Ready and Error as the
 * URIs are done, Finished once every URI of the request has been
 * answered exactly once.  A URI is answered at once, without a job, when
 * it is not a local file (error 0), lies in the cache (3), cannot be
 * stat()ed (8), or the cache holds a valid thumbnail (Ready) or failure
 * entry (2) of it in that flavor; an unknown flavor fails every URI
 * (5).  The others wait on works.
 *
 * Works.  One per (file, flavor) in flight, whoever asked: identical
 * requests (Thunar sends the same folder up to seven times) wait on the
 * same work, which is done once and answers each of them.  A work is
 * queued, then running (a write_fds job through
 * wp_xdg_cache_thumbnail_async()), then freed once it answered its
 * waiters.  Each scheduler has its pool, and at most two works per
 * worker of it run at once (one running, one waiting in the pool), so
 * that the order is decided here:
 *
 *   foreground  newest request first (what is on screen now): a new
 *               request's works go to the head of the queue, in the
 *               request's order, and so do the queued works it shares;
 *   background  only while no foreground work is queued, in a pool whose
 *               workers run at idle CPU and I/O priority
 *               (wp_pool_set_background()), so that they take only
 *               what the foreground leaves; a foreground request for a
 *               queued background work moves it to the foreground (one
 *               already running finishes where it is).
 *
 * Dequeue() (and Queue()'s handle_to_unqueue), for the caller's own
 * requests: the request stops waiting, is answered Finished, and every
 * work nobody waits on any more is dropped from the queue or, running,
 * cancelled (its worker stops, the pool's cancel grace then kills it).
 *
 * A client that leaves the bus (its unique name gone) stops every request
 * of its as Dequeue() would, without signals: nobody would get them.
 *
 * Failures.  An image that cannot be thumbnailed, crashes or hangs its
 * worker (the pool's per-job timeout) fails that URI alone: the pool
 * replaces the worker, the cache records a failure entry, every other
 * work goes on.  wp_thumbnailer_shut_down() answers every URI still
 * waiting with error 7 and Finished, and cancels every work.
 *
 * Threads: the main context of the thread that made the thumbnailer.
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <gdk-pixbuf/gdk-pixbuf.h>

#include "wp-thumbnailer.h"

#define THUMBNAILER_PATH  "/org/freedesktop/thumbnails/Thumbnailer1"
#define THUMBNAILER_IFACE "org.freedesktop.thumbnails.Thumbnailer1"
#define CACHE_PATH        "/org/freedesktop/thumbnails/Cache1"
#define CACHE_IFACE       "org.freedesktop.thumbnails.Cache1"
#define WORKS_PER_WORKER  2

static const char introspection_xml[] =
  "<node>"
  "  <interface name='" THUMBNAILER_IFACE "'>"
  "    <method name='Queue'>"
  "      <arg type='as' name='uris' direction='in'/>"
  "      <arg type='as' name='mime_types' direction='in'/>"
  "      <arg type='s' name='flavor' direction='in'/>"
  "      <arg type='s' name='scheduler' direction='in'/>"
  "      <arg type='u' name='handle_to_unqueue' direction='in'/>"
  "      <arg type='u' name='handle' direction='out'/>"
  "    </method>"
  "    <method name='Dequeue'>"
  "      <arg type='u' name='handle' direction='in'/>"
  "    </method>"
  "    <method name='GetSupported'>"
  "      <arg type='as' name='uri_schemes' direction='out'/>"
  "      <arg type='as' name='mime_types' direction='out'/>"
  "    </method>"
  "    <method name='GetSchedulers'>"
  "      <arg type='as' name='schedulers' direction='out'/>"
  "    </method>"
  "    <method name='GetFlavors'>"
  "      <arg type='as' name='flavors' direction='out'/>"
  "    </method>"
  "    <signal name='Started'><arg type='u' name='handle'/></signal>"
  "    <signal name='Finished'><arg type='u' name='handle'/></signal>"
  "    <signal name='Ready'>"
  "      <arg type='u' name='handle'/><arg type='as' name='uris'/>"
  "    </signal>"
  "    <signal name='Error'>"
  "      <arg type='u' name='handle'/><arg type='as' name='failed_uris'/>"
  "      <arg type='i' name='error_code'/><arg type='s' name='message'/>"
  "    </signal>"
  "  </interface>"
  "  <interface name='" CACHE_IFACE "'>"
  "    <method name='Move'>"
  "      <arg type='as' name='from_uris' direction='in'/>"
  "      <arg type='as' name='to_uris' direction='in'/>"
  "    </method>"
  "    <method name='Copy'>"
  "      <arg type='as' name='from_uris' direction='in'/>"
  "      <arg type='as' name='to_uris' direction='in'/>"
  "    </method>"
  "    <method name='Delete'>"
  "      <arg type='as' name='uris' direction='in'/>"
  "    </method>"
  "    <method name='Cleanup'>"
  "      <arg type='as' name='base_uris' direction='in'/>"
  "      <arg type='u' name='since' direction='in'/>"
  "    </method>"
  "  </interface>"
  "</node>";

typedef struct _Request Request;
typedef struct _Work Work;

/* The two schedulers. */
enum { FOREGROUND, BACKGROUND, N_SCHEDULERS };

struct _WpThumbnailer {
  WpPool          *pools[N_SCHEDULERS];
  guint            windows[N_SCHEDULERS];
  guint            running[N_SCHEDULERS];
  WpXdgCache      *cache;
  guint            timeout_ms;
  GDBusConnection *connection;
  GDBusNodeInfo   *node;
  guint            thumbnailer_id;
  guint            cache_id;
  guint            owner_changed_id;  /* NameOwnerChanged */
  guint            last_handle;
  GHashTable      *requests;    /* handle -> Request (owned) */
  GHashTable      *works;       /* key -> Work (owned) */
  GQueue           foreground;  /* Work *, queued, head first */
  GQueue           background;  /* Work *, queued */
  gboolean         shutting_down;
  GStrv            mime_types;  /* GetSupported's */
  GCallback        idle_func;
  gpointer         idle_data;
};

struct _Request {
  WpThumbnailer *thumbnailer;
  guint          handle;
  char          *sender;
  gboolean       background;
  guint          n_waiting;   /* URIs waiting on works */
};

/* A request waiting on a work, for the URI it gave. */
typedef struct {
  Request *request;
  char    *uri;
} Waiter;

struct _Work {
  WpThumbnailer *thumbnailer;
  char          *key;
  char          *path;
  WpXdgFlavor    flavor;
  GArray        *waiters;      /* Waiter */
  GQueue        *queue;        /* the queue it is in; NULL when running */
  GList         *link;         /* in it */
  GCancellable  *cancellable;  /* running */
  int            scheduler;    /* running: whose pool runs it */
};

/* ---- signals ------------------------------------------------------------ */

static void
emit (Request    *request,
      const char *name,
      GVariant   *parameters)
{
  WpThumbnailer *thumbnailer = request->thumbnailer;
  g_autoptr(GError) error = NULL;

  if (thumbnailer->connection == NULL)
    {
      g_variant_unref (g_variant_ref_sink (parameters));
      return;
    }
  if (!g_dbus_connection_emit_signal (thumbnailer->connection, request->sender,
                                      THUMBNAILER_PATH, THUMBNAILER_IFACE, name,
                                      parameters, &error))
    g_debug ("Cannot send %s to %s: %s", name, request->sender, error->message);
}

static void
emit_ready (Request            *request,
            const char * const *uris)
{
  emit (request, "Ready", g_variant_new ("(u^as)", request->handle, uris));
}

static void
emit_error (Request            *request,
            const char * const *uris,
            WpThumbnailerError  code,
            const char         *message)
{
  emit (request, "Error", g_variant_new ("(u^asis)", request->handle, uris, (gint32) code,
                                         message));
}

static void
emit_error_one (Request            *request,
                const char         *uri,
                WpThumbnailerError  code,
                const char         *message)
{
  const char *uris[] = { uri, NULL };

  emit_error (request, uris, code, message);
}

/* ---- requests and works ------------------------------------------------- */

static void dispatch (WpThumbnailer *thumbnailer);

static void
request_free (Request *request)
{
  g_free (request->sender);
  g_free (request);
}

static void
waiter_clear (Waiter *waiter)
{
  g_free (waiter->uri);
}

static void
work_free (Work *work)
{
  g_clear_pointer (&work->waiters, g_array_unref);
  g_clear_object (&work->cancellable);
  g_free (work->key);
  g_free (work->path);
  g_free (work);
}

static void
notify_if_idle (WpThumbnailer *thumbnailer)
{
  if (thumbnailer->idle_func != NULL && wp_thumbnailer_is_idle (thumbnailer))
    ((void (*) (gpointer)) thumbnailer->idle_func) (thumbnailer->idle_data);
}

/* Answers Finished and forgets @request, once nothing waits. */
static void
request_finish (Request *request)
{
  WpThumbnailer *thumbnailer = request->thumbnailer;

  g_assert (request->n_waiting == 0);
  emit (request, "Finished", g_variant_new ("(u)", request->handle));
  g_hash_table_remove (thumbnailer->requests, GUINT_TO_POINTER (request->handle));
}

/* Takes @work out of its queue. */
static void
work_unqueue (Work *work)
{
  if (work->queue == NULL)
    return;
  g_queue_delete_link (work->queue, work->link);
  work->queue = NULL;
  work->link = NULL;
}

/* Puts @work at the head of the queue its waiters call for: foreground
 * as soon as one of them is. */
static void
work_queue_at_head (Work *work)
{
  WpThumbnailer *thumbnailer = work->thumbnailer;
  gboolean background = TRUE;

  for (guint i = 0; i < work->waiters->len; i++)
    background &= g_array_index (work->waiters, Waiter, i).request->background;
  work_unqueue (work);
  work->queue = background ? &thumbnailer->background : &thumbnailer->foreground;
  g_queue_push_head (work->queue, work);
  work->link = work->queue->head;
}

static char *
work_key (const char  *path,
          WpXdgFlavor  flavor)
{
  return g_strdup_printf ("%d:%s", flavor, path);
}

/* @request waits on the work of (@path, @flavor) for @uri: a new one, or
 * the one in flight; queued works go to the head of their queue. */
static void
request_wait (Request     *request,
              const char  *uri,
              const char  *path,
              WpXdgFlavor  flavor)
{
  WpThumbnailer *thumbnailer = request->thumbnailer;
  g_autofree char *key = work_key (path, flavor);
  Work *work = g_hash_table_lookup (thumbnailer->works, key);
  Waiter waiter = { request, g_strdup (uri) };

  /* Abandoned and cancelled, its job not back yet: it will answer nobody. */
  if (work != NULL && work->cancellable != NULL && g_cancellable_is_cancelled (work->cancellable))
    {
      g_hash_table_steal (thumbnailer->works, key);
      work = NULL;
    }
  if (work == NULL)
    {
      work = g_new0 (Work, 1);
      work->thumbnailer = thumbnailer;
      work->key = g_steal_pointer (&key);
      work->path = g_strdup (path);
      work->flavor = flavor;
      work->waiters = g_array_new (FALSE, FALSE, sizeof (Waiter));
      g_array_set_clear_func (work->waiters, (GDestroyNotify) waiter_clear);
      g_hash_table_insert (thumbnailer->works, work->key, work);
    }
  g_array_append_val (work->waiters, waiter);
  request->n_waiting++;
  if (work->cancellable == NULL)
    work_queue_at_head (work);
}

/* Drops @work, nobody waiting on it: out of its queue, or cancelled
 * (freed when its job returns). */
static void
work_abandon (Work *work)
{
  g_assert (work->waiters->len == 0);
  if (work->cancellable != NULL)
    {
      g_cancellable_cancel (work->cancellable);
      return;
    }
  work_unqueue (work);
  g_hash_table_remove (work->thumbnailer->works, work->key);
}

/* Tumbler's code for a job's error. */
static WpThumbnailerError
error_code (const GError *error)
{
  if (g_error_matches (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_UNKNOWN_TYPE))
    return WP_THUMBNAILER_ERROR_UNSUPPORTED;
  if (g_error_matches (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE)
      || g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED)
      || g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_TIMED_OUT))
    return WP_THUMBNAILER_ERROR_INVALID_FORMAT;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT))
    return WP_THUMBNAILER_ERROR_IS_THUMBNAIL;
  return WP_THUMBNAILER_ERROR_OTHER;
}

/* What a client is told of a job's error. */
static char *
error_message (const GError *error)
{
  if (g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED))
    return g_strdup_printf ("The image decoder crashed on this file (%s)", error->message);
  if (g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_TIMED_OUT))
    return g_strdup_printf ("The image decoder took too long on this file (%s)", error->message);
  return g_strdup (error->message);
}

static void
on_work_done (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Work *work = user_data;
  WpThumbnailer *thumbnailer = work->thumbnailer;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) waiters = g_steal_pointer (&work->waiters);
  g_autofree char *message = NULL;

  if (!wp_xdg_cache_thumbnail_finish (thumbnailer->cache, result, &error))
    message = error_message (error);
  thumbnailer->running[work->scheduler]--;
  if (g_hash_table_lookup (thumbnailer->works, work->key) == work)
    g_hash_table_remove (thumbnailer->works, work->key);
  else
    work_free (work);  /* abandoned, and replaced in the table */

  for (guint i = 0; i < waiters->len; i++)
    {
      Waiter *waiter = &g_array_index (waiters, Waiter, i);
      Request *request = waiter->request;
      const char *uris[] = { waiter->uri, NULL };

      if (error == NULL)
        emit_ready (request, uris);
      else
        emit_error (request, uris, error_code (error), message);
      if (--request->n_waiting == 0)
        request_finish (request);
    }

  dispatch (thumbnailer);
  notify_if_idle (thumbnailer);
}

static void
work_start (Work *work)
{
  WpThumbnailer *thumbnailer = work->thumbnailer;
  gboolean background = work->queue == &thumbnailer->background;

  work_unqueue (work);
  work->cancellable = g_cancellable_new ();
  work->scheduler = background ? BACKGROUND : FOREGROUND;
  thumbnailer->running[work->scheduler]++;
  g_debug ("Thumbnailing %s (%s, %s)", work->path, wp_xdg_flavor_get_name (work->flavor),
           background ? "background" : "foreground");
  wp_xdg_cache_thumbnail_async (thumbnailer->cache, thumbnailer->pools[work->scheduler],
                                work->path,
                                WP_XDG_FLAVOR_BIT (work->flavor), thumbnailer->timeout_ms,
                                background ? G_PRIORITY_LOW : G_PRIORITY_DEFAULT,
                                work->cancellable, on_work_done, work);
}

/* Starts queued works while their pools have room: foreground ones,
 * then background ones when no foreground one waits. */
static void
dispatch (WpThumbnailer *thumbnailer)
{
  if (thumbnailer->shutting_down)
    return;
  while (thumbnailer->running[FOREGROUND] < thumbnailer->windows[FOREGROUND]
         && !g_queue_is_empty (&thumbnailer->foreground))
    work_start (g_queue_peek_head (&thumbnailer->foreground));
  while (thumbnailer->running[BACKGROUND] < thumbnailer->windows[BACKGROUND]
         && g_queue_is_empty (&thumbnailer->foreground)
         && !g_queue_is_empty (&thumbnailer->background))
    work_start (g_queue_peek_head (&thumbnailer->background));
}

/* Stops @request waiting on every work, abandoning those nobody else
 * waits on; returns the URIs it waited for. */
static GStrv
request_stop_waiting (Request *request)
{
  WpThumbnailer *thumbnailer = request->thumbnailer;
  g_autoptr(GStrvBuilder) uris = g_strv_builder_new ();
  g_autoptr(GPtrArray) abandoned = g_ptr_array_new ();
  GHashTableIter iter;
  Work *work;

  g_hash_table_iter_init (&iter, thumbnailer->works);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &work))
    {
      for (guint i = work->waiters->len; i-- > 0;)
        {
          Waiter *waiter = &g_array_index (work->waiters, Waiter, i);

          if (waiter->request != request)
            continue;
          g_strv_builder_add (uris, waiter->uri);
          g_array_remove_index (work->waiters, i);
          request->n_waiting--;
        }
      if (work->waiters->len == 0)
        g_ptr_array_add (abandoned, work);
    }
  g_assert (request->n_waiting == 0);
  for (guint i = 0; i < abandoned->len; i++)
    work_abandon (g_ptr_array_index (abandoned, i));
  return g_strv_builder_end (uris);
}

/* Dequeue: @sender's request @handle, if it is one. */
static void
dequeue (WpThumbnailer *thumbnailer,
         const char    *sender,
         guint          handle)
{
  Request *request = g_hash_table_lookup (thumbnailer->requests, GUINT_TO_POINTER (handle));
  g_auto(GStrv) uris = NULL;

  if (request == NULL || g_strcmp0 (request->sender, sender) != 0)
    return;
  uris = request_stop_waiting (request);
  request_finish (request);
  dispatch (thumbnailer);
  notify_if_idle (thumbnailer);
}

/* A client left the bus: its requests stop, without a word. */
static void
on_name_owner_changed (GDBusConnection *connection,
                       const char      *sender_name,
                       const char      *object_path,
                       const char      *interface_name,
                       const char      *signal_name,
                       GVariant        *parameters,
                       gpointer         user_data)
{
  WpThumbnailer *thumbnailer = user_data;
  g_autoptr(GList) requests = NULL;
  const char *name, *old_owner, *new_owner;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sss)")))
    return;
  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (name[0] != ':' || new_owner[0] != '\0')
    return;

  requests = g_hash_table_get_values (thumbnailer->requests);
  for (GList *l = requests; l != NULL; l = l->next)
    {
      Request *request = l->data;
      g_auto(GStrv) uris = NULL;

      if (!g_str_equal (request->sender, name))
        continue;
      g_debug ("%s left the bus: its request %u stops", name, request->handle);
      uris = request_stop_waiting (request);
      g_hash_table_remove (thumbnailer->requests, GUINT_TO_POINTER (request->handle));
    }
  dispatch (thumbnailer);
  notify_if_idle (thumbnailer);
}

/* ---- Queue -------------------------------------------------------------- */

/* Answers @uri at once when no job is needed; TRUE when it did. */
static gboolean
answer_at_once (Request     *request,
                const char  *uri,
                WpXdgFlavor  flavor,
                char       **path_out)
{
  WpXdgCache *cache = request->thumbnailer->cache;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  const char *uris[] = { uri, NULL };
  struct stat st;

  path = g_filename_from_uri (uri, NULL, &error);
  if (path == NULL)
    {
      emit_error_one (request, uri, WP_THUMBNAILER_ERROR_UNSUPPORTED, error->message);
      return TRUE;
    }
  if (wp_xdg_cache_contains (cache, path))
    {
      emit_error_one (request, uri, WP_THUMBNAILER_ERROR_IS_THUMBNAIL,
                      "The file is a thumbnail in the cache");
      return TRUE;
    }
  if (stat (path, &st) != 0)
    {
      int saved_errno = errno;
      g_autofree char *message = g_strdup_printf ("Cannot read “%s”: %s", path,
                                                  g_strerror (saved_errno));

      emit_error_one (request, uri, WP_THUMBNAILER_ERROR_OTHER, message);
      return TRUE;
    }

  switch (wp_xdg_cache_lookup (cache, uri, st.st_mtime, flavor))
    {
    case WP_XDG_ENTRY_VALID:
      emit_ready (request, uris);
      return TRUE;
    case WP_XDG_ENTRY_FAILED:
      emit_error_one (request, uri, WP_THUMBNAILER_ERROR_INVALID_FORMAT,
                      "No thumbnail can be made of this file (a failure is recorded "
                      "until it changes)");
      return TRUE;
    case WP_XDG_ENTRY_MISSING:
      break;
    }
  *path_out = g_steal_pointer (&path);
  return FALSE;
}

static guint
queue (WpThumbnailer         *thumbnailer,
       GDBusMethodInvocation *invocation,
       GVariant              *parameters)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  g_autofree const char **uris = NULL;
  g_autofree const char **mime_types = NULL;
  const char *flavor_name, *scheduler;
  guint unqueue;
  WpXdgFlavor flavor;
  Request *request;
  gsize n;

  g_variant_get (parameters, "(^a&s^a&s&s&su)", &uris, &mime_types, &flavor_name,
                 &scheduler, &unqueue);
  if (g_strv_length ((char **) uris) != g_strv_length ((char **) mime_types))
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                             "Queue: %u URIs but %u MIME types",
                                             g_strv_length ((char **) uris),
                                             g_strv_length ((char **) mime_types));
      return 0;
    }
  if (unqueue != 0)
    dequeue (thumbnailer, sender, unqueue);

  request = g_new0 (Request, 1);
  request->thumbnailer = thumbnailer;
  request->handle = ++thumbnailer->last_handle;
  if (request->handle == 0)
    request->handle = ++thumbnailer->last_handle;
  request->sender = g_strdup (sender);
  request->background = g_str_equal (scheduler, "background");
  g_hash_table_insert (thumbnailer->requests, GUINT_TO_POINTER (request->handle), request);
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", request->handle));

  emit (request, "Started", g_variant_new ("(u)", request->handle));
  if (thumbnailer->shutting_down)
    emit_error (request, uris, WP_THUMBNAILER_ERROR_SHUTTING_DOWN,
                "The thumbnailer is shutting down");
  else if (!wp_xdg_flavor_from_name (flavor_name, &flavor))
    {
      g_autofree char *message = g_strdup_printf ("Unsupported flavor “%s”", flavor_name);

      emit_error (request, uris, WP_THUMBNAILER_ERROR_UNSUPPORTED_FLAVOR, message);
    }
  else
    {
      n = g_strv_length ((char **) uris);
      /* Last first: each goes to the head, so the first URI runs first. */
      for (gsize i = n; i-- > 0;)
        {
          g_autofree char *path = NULL;

          if (!answer_at_once (request, uris[i], flavor, &path))
            request_wait (request, uris[i], path, flavor);
        }
    }

  if (request->n_waiting == 0)
    request_finish (request);
  dispatch (thumbnailer);
  notify_if_idle (thumbnailer);
  return 0;
}

/* ---- the other methods -------------------------------------------------- */

static GStrv
supported_mime_types (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GSList) formats = gdk_pixbuf_get_formats ();

  /* libjpeg-turbo, whatever the loaders. */
  g_hash_table_add (seen, g_strdup ("image/jpeg"));
  g_strv_builder_add (builder, "image/jpeg");
  for (GSList *l = formats; l != NULL; l = l->next)
    {
      g_auto(GStrv) types = gdk_pixbuf_format_get_mime_types (l->data);

      if (gdk_pixbuf_format_is_disabled (l->data))
        continue;
      for (gsize i = 0; types != NULL && types[i] != NULL; i++)
        if (!g_hash_table_contains (seen, types[i]))
          {
            g_strv_builder_add (builder, types[i]);
            g_hash_table_add (seen, g_strdup (types[i]));
          }
    }
  return g_strv_builder_end (builder);
}

static void
get_supported (WpThumbnailer         *thumbnailer,
               GDBusMethodInvocation *invocation)
{
  GVariantBuilder schemes, types;

  g_variant_builder_init (&schemes, G_VARIANT_TYPE_STRING_ARRAY);
  g_variant_builder_init (&types, G_VARIANT_TYPE_STRING_ARRAY);
  /* Parallel arrays: (scheme, type) pairs. */
  for (gsize i = 0; thumbnailer->mime_types[i] != NULL; i++)
    {
      g_variant_builder_add (&schemes, "s", "file");
      g_variant_builder_add (&types, "s", thumbnailer->mime_types[i]);
    }
  g_dbus_method_invocation_return_value (invocation,
                                         g_variant_new ("(asas)", &schemes, &types));
}

static void
return_strings (GDBusMethodInvocation *invocation,
                const char * const    *strings)
{
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(^as)", strings));
}

static void
thumbnailer_method_call (GDBusConnection       *connection,
                         const char            *sender,
                         const char            *object_path,
                         const char            *interface_name,
                         const char            *method_name,
                         GVariant              *parameters,
                         GDBusMethodInvocation *invocation,
                         gpointer               user_data)
{
  static const char * const schedulers[] = { "default", "foreground", "background", NULL };
  static const char * const flavor_names[] = { "normal", "large", "x-large", "xx-large", NULL };
  WpThumbnailer *thumbnailer = user_data;

  if (g_str_equal (method_name, "Queue"))
    queue (thumbnailer, invocation, parameters);
  else if (g_str_equal (method_name, "Dequeue"))
    {
      guint handle;

      g_variant_get (parameters, "(u)", &handle);
      dequeue (thumbnailer, sender, handle);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method_name, "GetSupported"))
    get_supported (thumbnailer, invocation);
  else if (g_str_equal (method_name, "GetSchedulers"))
    return_strings (invocation, schedulers);
  else if (g_str_equal (method_name, "GetFlavors"))
    return_strings (invocation, flavor_names);
  else
    g_assert_not_reached ();
}

/* Move or Copy: pairs of URIs. */
static void
cache_move (WpThumbnailer         *thumbnailer,
            GDBusMethodInvocation *invocation,
            GVariant              *parameters,
            gboolean               keep_source)
{
  g_autofree const char **from = NULL;
  g_autofree const char **to = NULL;
  g_autoptr(GError) error = NULL;

  g_variant_get (parameters, "(^a&s^a&s)", &from, &to);
  if (g_strv_length ((char **) from) != g_strv_length ((char **) to))
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS,
                                             "%u source URIs but %u destination URIs",
                                             g_strv_length ((char **) from),
                                             g_strv_length ((char **) to));
      return;
    }
  for (gsize i = 0; from[i] != NULL; i++)
    if (!wp_xdg_cache_move (thumbnailer->cache, from[i], to[i], keep_source, &error))
      {
        g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_FAILED,
                                               "%s", error->message);
        return;
      }
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
cache_method_call (GDBusConnection       *connection,
                   const char            *sender,
                   const char            *object_path,
                   const char            *interface_name,
                   const char            *method_name,
                   GVariant              *parameters,
                   GDBusMethodInvocation *invocation,
                   gpointer               user_data)
{
  WpThumbnailer *thumbnailer = user_data;

  if (g_str_equal (method_name, "Move") || g_str_equal (method_name, "Copy"))
    cache_move (thumbnailer, invocation, parameters, g_str_equal (method_name, "Copy"));
  else if (g_str_equal (method_name, "Delete"))
    {
      g_autofree const char **uris = NULL;

      g_variant_get (parameters, "(^a&s)", &uris);
      for (gsize i = 0; uris[i] != NULL; i++)
        wp_xdg_cache_delete (thumbnailer->cache, uris[i]);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method_name, "Cleanup"))
    {
      g_autofree const char **base_uris = NULL;
      guint32 since;

      g_variant_get (parameters, "(^a&su)", &base_uris, &since);
      wp_xdg_cache_cleanup (thumbnailer->cache, base_uris, since);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else
    g_assert_not_reached ();
}

static const GDBusInterfaceVTable thumbnailer_vtable = { thumbnailer_method_call, NULL, NULL, { 0 } };
static const GDBusInterfaceVTable cache_vtable = { cache_method_call, NULL, NULL, { 0 } };

/* ---- the object --------------------------------------------------------- */

/**
 * wp_thumbnailer_new:
 * @pool: the pool foreground jobs run in (its workers' number sets how
 *   many works run at once)
 * @background_pool: the pool of background jobs, its workers at idle
 *   priority (wp_pool_set_background())
 * @cache: the thumbnail cache, which the thumbnailer then owns
 * @timeout_ms: each image's timeout, 0 for the pool's
 *
 * Returns: (transfer full): a thumbnailer, not yet on a bus
 */
WpThumbnailer *
wp_thumbnailer_new (WpPool     *pool,
                    WpPool     *background_pool,
                    WpXdgCache *cache,
                    guint       timeout_ms)
{
  WpThumbnailer *thumbnailer = g_new0 (WpThumbnailer, 1);

  thumbnailer->pools[FOREGROUND] = g_object_ref (pool);
  thumbnailer->pools[BACKGROUND] = g_object_ref (background_pool);
  for (int i = 0; i < N_SCHEDULERS; i++)
    thumbnailer->windows[i] = MAX (1, wp_pool_get_n_workers (thumbnailer->pools[i]))
                              * WORKS_PER_WORKER;
  thumbnailer->cache = cache;
  thumbnailer->timeout_ms = timeout_ms;
  thumbnailer->node = g_dbus_node_info_new_for_xml (introspection_xml, NULL);
  g_assert (thumbnailer->node != NULL);
  thumbnailer->requests = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) request_free);
  thumbnailer->works = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                              (GDestroyNotify) work_free);
  g_queue_init (&thumbnailer->foreground);
  g_queue_init (&thumbnailer->background);
  thumbnailer->mime_types = supported_mime_types ();
  return thumbnailer;
}

/**
 * wp_thumbnailer_free:
 * @thumbnailer: a thumbnailer, shut down (wp_thumbnailer_shut_down()) and
 *   with no work running
 */
void
wp_thumbnailer_free (WpThumbnailer *thumbnailer)
{
  if (thumbnailer == NULL)
    return;
  g_assert (thumbnailer->running[FOREGROUND] == 0 && thumbnailer->running[BACKGROUND] == 0);
  wp_thumbnailer_unregister (thumbnailer);
  g_hash_table_unref (thumbnailer->requests);
  g_hash_table_unref (thumbnailer->works);
  g_queue_clear (&thumbnailer->foreground);
  g_queue_clear (&thumbnailer->background);
  g_dbus_node_info_unref (thumbnailer->node);
  g_strfreev (thumbnailer->mime_types);
  wp_xdg_cache_free (thumbnailer->cache);
  g_object_unref (thumbnailer->pools[FOREGROUND]);
  g_object_unref (thumbnailer->pools[BACKGROUND]);
  g_free (thumbnailer);
}

/**
 * wp_thumbnailer_register:
 * @thumbnailer: a thumbnailer
 * @connection: the session bus
 * @error: return location for an error
 *
 * Exports Thumbnailer1 and Cache1 on @connection (owning their names is
 * the caller's).
 *
 * Returns: %TRUE, or %FALSE with @error set
 */
gboolean
wp_thumbnailer_register (WpThumbnailer    *thumbnailer,
                         GDBusConnection  *connection,
                         GError          **error)
{
  thumbnailer->connection = g_object_ref (connection);
  thumbnailer->thumbnailer_id =
    g_dbus_connection_register_object (connection, THUMBNAILER_PATH,
                                       g_dbus_node_info_lookup_interface (thumbnailer->node,
                                                                          THUMBNAILER_IFACE),
                                       &thumbnailer_vtable, thumbnailer, NULL, error);
  if (thumbnailer->thumbnailer_id == 0)
    return FALSE;
  thumbnailer->owner_changed_id =
    g_dbus_connection_signal_subscribe (connection, "org.freedesktop.DBus",
                                        "org.freedesktop.DBus", "NameOwnerChanged",
                                        "/org/freedesktop/DBus", NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE, on_name_owner_changed,
                                        thumbnailer, NULL);
  thumbnailer->cache_id =
    g_dbus_connection_register_object (connection, CACHE_PATH,
                                       g_dbus_node_info_lookup_interface (thumbnailer->node,
                                                                          CACHE_IFACE),
                                       &cache_vtable, thumbnailer, NULL, error);
  return thumbnailer->cache_id != 0;
}

void
wp_thumbnailer_unregister (WpThumbnailer *thumbnailer)
{
  if (thumbnailer->connection == NULL)
    return;
  if (thumbnailer->thumbnailer_id != 0)
    g_dbus_connection_unregister_object (thumbnailer->connection, thumbnailer->thumbnailer_id);
  if (thumbnailer->cache_id != 0)
    g_dbus_connection_unregister_object (thumbnailer->connection, thumbnailer->cache_id);
  if (thumbnailer->owner_changed_id != 0)
    g_dbus_connection_signal_unsubscribe (thumbnailer->connection,
                                          thumbnailer->owner_changed_id);
  thumbnailer->owner_changed_id = 0;
  thumbnailer->thumbnailer_id = thumbnailer->cache_id = 0;
  g_clear_object (&thumbnailer->connection);
}

/**
 * wp_thumbnailer_is_idle:
 * @thumbnailer: a thumbnailer
 *
 * Returns: whether no request waits and no work runs
 */
gboolean
wp_thumbnailer_is_idle (WpThumbnailer *thumbnailer)
{
  return g_hash_table_size (thumbnailer->requests) == 0
         && thumbnailer->running[FOREGROUND] == 0 && thumbnailer->running[BACKGROUND] == 0;
}

/**
 * wp_thumbnailer_set_idle_func:
 * @thumbnailer: a thumbnailer
 * @func: (nullable): a void (*) (gpointer user_data), called each time
 *   the thumbnailer becomes idle
 * @user_data: for @func
 */
void
wp_thumbnailer_set_idle_func (WpThumbnailer *thumbnailer,
                              GCallback      func,
                              gpointer       user_data)
{
  thumbnailer->idle_func = func;
  thumbnailer->idle_data = user_data;
}

/**
 * wp_thumbnailer_shut_down:
 * @thumbnailer: a thumbnailer
 *
 * Answers every URI still waiting with error 7 (shutting down) and
 * Finished, and cancels every work; the running ones return later, and
 * the thumbnailer is idle once they have.  Queue() then fails every URI
 * with error 7.
 */
void
wp_thumbnailer_shut_down (WpThumbnailer *thumbnailer)
{
  g_autoptr(GList) requests = NULL;

  thumbnailer->shutting_down = TRUE;
  requests = g_hash_table_get_values (thumbnailer->requests);
  for (GList *l = requests; l != NULL; l = l->next)
    {
      Request *request = l->data;
      g_auto(GStrv) uris = request_stop_waiting (request);

      emit_error (request, (const char * const *) uris, WP_THUMBNAILER_ERROR_SHUTTING_DOWN,
                  "The thumbnailer is shutting down");
      request_finish (request);
    }
  notify_if_idle (thumbnailer);
}
