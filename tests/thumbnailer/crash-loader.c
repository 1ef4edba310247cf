/* crash-loader.c: a gdk-pixbuf loader that crashes or hangs, for the thumbnailer's tests.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A decoder with the bug every real one may have.  It claims GIMP's XCF
 * files (image/x-xcf, which shared-mime-info recognises from their first
 * bytes, "gimp xcf file\0", and no Debian loader reads), because
 * gdk-pixbuf picks a loader by the MIME type GIO guesses from the
 * content: "gimp xcf file\0WPCRASH" makes it dereference a null pointer,
 * "gimp xcf file\0WPHANG" makes it sleep forever, anything else is a
 * corrupt image.  test-thumbnailer.py lists it in a
 * loaders.cache of its own, given to the service in
 * GDK_PIXBUF_MODULE_FILE, so that only the service's workers load it.
 */

#define GDK_PIXBUF_ENABLE_BACKEND
#include <gdk-pixbuf/gdk-pixbuf-io.h>
#include <string.h>
#include <unistd.h>

#define MAGIC "gimp xcf file"
#define MAGIC_LENGTH (sizeof MAGIC)  /* its NUL too */

typedef struct {
  GByteArray *data;
} Context;

static gpointer
begin_load (GdkPixbufModuleSizeFunc      size_func,
            GdkPixbufModulePreparedFunc  prepared_func,
            GdkPixbufModuleUpdatedFunc   updated_func,
            gpointer                     user_data,
            GError                     **error)
{
  Context *context = g_new0 (Context, 1);

  context->data = g_byte_array_new ();
  return context;
}

static gboolean
has_marker (GByteArray *data,
            const char *marker)
{
  gsize length = strlen (marker);

  return data->len >= MAGIC_LENGTH + length
         && memcmp (data->data, MAGIC, MAGIC_LENGTH) == 0
         && memcmp (data->data + MAGIC_LENGTH, marker, length) == 0;
}

static gboolean
load_increment (gpointer       data,
                const guchar  *buf,
                guint          size,
                GError       **error)
{
  Context *context = data;

  g_byte_array_append (context->data, buf, size);
  if (has_marker (context->data, "WPCRASH"))
    {
      volatile int *nowhere = NULL;

      *nowhere = 1;
    }
  if (has_marker (context->data, "WPHANG"))
    for (;;)
      sleep (1);
  return TRUE;
}

static gboolean
stop_load (gpointer   data,
           GError   **error)
{
  Context *context = data;

  g_byte_array_unref (context->data);
  g_free (context);
  g_set_error_literal (error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_CORRUPT_IMAGE,
                       "Not a crash-test image");
  return FALSE;
}

G_MODULE_EXPORT void fill_vtable (GdkPixbufModule *module);
G_MODULE_EXPORT void fill_info (GdkPixbufFormat *info);

void
fill_vtable (GdkPixbufModule *module)
{
  module->begin_load = begin_load;
  module->load_increment = load_increment;
  module->stop_load = stop_load;
}

void
fill_info (GdkPixbufFormat *info)
{
  static GdkPixbufModulePattern signature[] = {
    { (char *) "gimp xcf", NULL, 100 },
    { NULL, NULL, 0 }
  };
  static gchar *mime_types[] = { (char *) "image/x-xcf", NULL };
  static gchar *extensions[] = { (char *) "xcf", NULL };

  info->name = (char *) "wpcrash";
  info->signature = signature;
  info->description = (char *) "workpool crash test";
  info->mime_types = mime_types;
  info->extensions = extensions;
  info->flags = 0;
  info->license = (char *) "LGPL";
}
