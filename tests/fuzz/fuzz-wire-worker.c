/* fuzz-wire-worker.c: any bytes as requests a worker reads from its pool.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bytes go through a real WpWireReader (fuzz-feed.c), and each
 * message is taken apart as wp-worker-main.c does, with the same
 * functions of wp-wire.c: a CALL's plugin, function and arguments (held
 * to GLib's children of the body), the plugin name's check (the loader's first step), and the arguments'
 * check against the args_type of every function the shipped plugins
 * have; arguments of the right type are then read whole, as a plugin
 * would.  A CALL_FDS's handles are mapped to three descriptors and back,
 * as the worker does (wp-wire-fds.c).  DESCRIBE gives a plugin name, CANCEL (the control pipe's) only
 * an id; other kinds end the worker.  Not modelled: loading and running
 * plugins.
 *
 * Input: one byte of chunk size (see fuzz-feed.c), then the request stream.
 */

#include "config.h"

#include "fuzz-harness.h"

#include <workpool/wp-error.h>

#include <string.h>

#include "wp-plugin-dir-private.h"
#include "wp-wire-fds-private.h"

#define MAX_FRAME (1024 * 1024)
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

/* What the loader checks first; the rule restated as the oracle. */
static void
check_plugin_name (const char *name)
{
  if (wp_plugin_name_is_valid (name))
    g_assert (name[0] != '\0' && strspn (name, NAME_CHARS) == strlen (name));
}

/* The args_type of every function of plugins/demo and plugins/thumbnail,
 * of the echo test plugin, which takes any value, and of the fds test
 * plugin's descriptors. */
static const char * const args_types[] = {
  "(ii)", "(s)", "(dd)",
  "(ss(ii))", "(sa(sii))", "(sa(sii)i)",
  "(v)", "(ay)", "()",
  "(h)", "(hh)", "(hay)", "(a(sh))",
};

static gboolean
handle_request (const WpWireMessage  *message,
                GError              **error)
{
  switch (message->kind)
    {
    case WP_WIRE_CALL_FDS:
      {
        /* Three descriptors came with it, 10, 11 and 12 here: each `h`
         * must index one, and becomes it; taken back, each is one. */
        static const int fds[] = { 10, 11, 12 };
        const char *plugin, *function;
        g_autoptr(GVariant) args = wp_wire_call_get (message->body, &plugin, &function);
        g_autoptr(GError) index_error = NULL;
        g_autoptr(GVariant) mapped = wp_wire_handles_map (args, fds, 3, &index_error);

        if (mapped != NULL)
          {
            g_autoptr(GArray) collected = g_array_new (FALSE, FALSE, sizeof (int));
            g_autoptr(GVariant) back = wp_wire_handles_collect (mapped, collected);

            g_assert (g_variant_is_of_type (mapped, g_variant_get_type (args)));
            g_assert (g_variant_is_of_type (back, g_variant_get_type (args)));
            for (guint i = 0; i < collected->len; i++)
              {
                int fd = g_array_index (collected, int, i);

                g_assert (fd >= 10 && fd <= 12);
              }
          }
        else
          g_assert_error (index_error, WP_POOL_ERROR, WP_POOL_ERROR_PROTOCOL);
      }
      G_GNUC_FALLTHROUGH;
    case WP_WIRE_CALL:
      {
        const char *plugin, *function, *glib_plugin, *glib_function;
        g_autoptr(GVariant) args = wp_wire_call_get (message->body, &plugin, &function);
        g_autoptr(GVariant) glib_args = NULL;

        g_assert (g_utf8_validate (plugin, -1, NULL) && g_utf8_validate (function, -1, NULL));

        /* Read in place, it must be what GLib's children give. */
        g_variant_get (message->body, "(&s&sv)", &glib_plugin, &glib_function, &glib_args);
        g_assert (plugin == glib_plugin && function == glib_function);
        g_assert (g_variant_equal (args, glib_args));
        g_assert (g_variant_get_size (args) == g_variant_get_size (glib_args));
        check_plugin_name (plugin);

        for (gsize i = 0; i < G_N_ELEMENTS (args_types); i++)
          {
            g_autoptr(GError) args_error = NULL;

            if (wp_wire_args_check (args, plugin, function, args_types[i], &args_error))
              {
                g_autofree char *text = g_variant_print (args, TRUE);

                g_assert_no_error (args_error);
                g_assert (text != NULL);
              }
            else
              g_assert_error (args_error, WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS);
          }
        return TRUE;
      }

    case WP_WIRE_DESCRIBE:
      check_plugin_name (wp_wire_describe_get (message->body));
      return TRUE;

    case WP_WIRE_CANCEL:
      return TRUE;

    default:
      return wp_wire_protocol_error (error, "unexpected message of kind %u", message->kind);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  wp_fuzz_feed_reader (data, size, MAX_FRAME, handle_request);
  return 0;
}
