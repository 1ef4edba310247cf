/* wp-async-result.c: WpAsyncResult, the GAsyncResult of a job.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a GTask does for an `_async` call that returns a GVariant, and no
 * more: it holds the source object (the pool), the callback and the
 * caller's thread-default context, and calls the callback there once,
 * with a value or an error.  A job costs one of these; a GTask costs
 * about twice as many instructions to make, return and free (its mutex,
 * condition, name, "completed" notification and thread-default push),
 * which a pool of no-op jobs spends a third of its time on.
 *
 * The callback runs as GTask would run it:
 *  - at once, when wp_async_result_return() is called from a source of
 *    the caller's context in an iteration after the one that made the
 *    result (so never before the `_async` function has returned);
 *  - otherwise from an idle source of the job's priority attached to the
 *    caller's context;
 *  - with that context as the thread-default one.
 * The result holds the source object until it is freed, so the pool
 * outlives every job whose callback has not run.
 */

#include "config.h"

#include "wp-async-result-private.h"

struct _WpAsyncResult {
  GObject              parent_instance;

  GObject             *source_object;
  gpointer             source_tag;
  int                  priority;
  GAsyncReadyCallback  callback;
  gpointer             user_data;
  GMainContext        *context;        /* the caller's thread-default */
  gint64               creation_time;

  GVariant            *value;
  GUnixFDList         *fd_list;        /* the value's descriptors, if any */
  GError              *error;
  gboolean             returned;
};

static void wp_async_result_iface_init (GAsyncResultIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (WpAsyncResult, wp_async_result, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_RESULT,
                                                      wp_async_result_iface_init))

/* GAsyncResult and GObject give these their own type: no cast is
 * checked on the way to the callback and back, which runs once a job. */

static gpointer
wp_async_result_get_user_data (GAsyncResult *result)
{
  return ((WpAsyncResult *) result)->user_data;
}

static GObject *
wp_async_result_get_source_object (GAsyncResult *result)
{
  WpAsyncResult *self = (WpAsyncResult *) result;

  return self->source_object != NULL ? g_object_ref (self->source_object) : NULL;
}

static gboolean
wp_async_result_is_tagged (GAsyncResult *result,
                           gpointer      source_tag)
{
  return ((WpAsyncResult *) result)->source_tag == source_tag;
}

static void
wp_async_result_iface_init (GAsyncResultIface *iface)
{
  iface->get_user_data = wp_async_result_get_user_data;
  iface->get_source_object = wp_async_result_get_source_object;
  iface->is_tagged = wp_async_result_is_tagged;
}

static void
wp_async_result_finalize (GObject *object)
{
  WpAsyncResult *self = (WpAsyncResult *) object;

  g_clear_object (&self->source_object);
  g_main_context_unref (self->context);
  g_clear_pointer (&self->value, g_variant_unref);
  g_clear_object (&self->fd_list);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (wp_async_result_parent_class)->finalize (object);
}

static void
wp_async_result_class_init (WpAsyncResultClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = wp_async_result_finalize;
}

static void
wp_async_result_init (WpAsyncResult *self)
{
}

WpAsyncResult *
wp_async_result_new (gpointer            source_object,
                     gpointer            source_tag,
                     int                 priority,
                     GAsyncReadyCallback callback,
                     gpointer            user_data)
{
  WpAsyncResult *self = g_object_new (WP_TYPE_ASYNC_RESULT, NULL);

  self->source_object = source_object != NULL ? g_object_ref (source_object) : NULL;
  self->source_tag = source_tag;
  self->priority = priority;
  self->callback = callback;
  self->user_data = user_data;
  self->context = g_main_context_ref_thread_default ();
  self->creation_time = g_get_monotonic_time ();

  return self;
}

int
wp_async_result_get_priority (WpAsyncResult *self)
{
  return self->priority;
}

static void
complete (WpAsyncResult *self)
{
  GMainContext *current = g_main_context_get_thread_default ();
  gboolean push = (current != NULL ? current : g_main_context_default ()) != self->context;

  if (self->callback == NULL)
    return;

  if (push)
    g_main_context_push_thread_default (self->context);
  self->callback (self->source_object, (GAsyncResult *) self, self->user_data);
  if (push)
    g_main_context_pop_thread_default (self->context);
}

static gboolean
complete_in_idle (gpointer user_data)
{
  complete (user_data);
  return G_SOURCE_REMOVE;
}

/* Takes @value (a reference, not floating) or @error, and the caller's
 * reference on @self: the callback runs now or from an idle, then that
 * reference is dropped. */
void
wp_async_result_return (WpAsyncResult *self,
                        GVariant      *value,
                        GError        *error)
{
  GSource *current = g_main_current_source ();
  g_autoptr(GSource) idle = NULL;

  g_assert (!self->returned);
  g_assert ((value == NULL) != (error == NULL));

  self->returned = TRUE;
  g_assert (value == NULL || !g_variant_is_floating (value));

  self->value = value;
  self->error = error;

  if (current != NULL && g_source_get_context (current) == self->context
      && g_source_get_time (current) > self->creation_time)
    {
      complete (self);
      g_object_unref (self);
      return;
    }

  idle = g_idle_source_new ();
  g_source_set_priority (idle, self->priority);
  g_source_set_static_name (idle, "WpPool job return");
  g_source_set_callback (idle, complete_in_idle, self, g_object_unref);
  g_source_attach (idle, self->context);
}

/* Takes @fd_list, the descriptors of the value about to be returned. */
void
wp_async_result_set_fd_list (WpAsyncResult *self,
                             GUnixFDList   *fd_list)
{
  g_assert (!self->returned && self->fd_list == NULL);
  self->fd_list = fd_list;
}

/* The value's descriptors (a reference), or NULL; once, after the value
 * was propagated. */
GUnixFDList *
wp_async_result_steal_fd_list (GAsyncResult *result)
{
  return g_steal_pointer (&((WpAsyncResult *) result)->fd_list);
}

/* Whether @result is a job's of @source_object, from the `_async`
 * function @source_tag. */
gboolean
wp_async_result_is_valid (GAsyncResult *result,
                          gpointer      source_object,
                          gpointer      source_tag)
{
  WpAsyncResult *self;

  if (!WP_IS_ASYNC_RESULT (result))
    return FALSE;

  self = (WpAsyncResult *) result;
  return self->source_object == source_object && self->source_tag == source_tag;
}

/* The job's value (a new reference), or NULL with @error set.  Once;
 * @result has passed wp_async_result_is_valid(). */
GVariant *
wp_async_result_propagate (GAsyncResult  *result,
                           GError       **error)
{
  WpAsyncResult *self = (WpAsyncResult *) result;

  g_return_val_if_fail (self->returned, NULL);

  if (self->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->error));
      return NULL;
    }

  return g_steal_pointer (&self->value);
}
