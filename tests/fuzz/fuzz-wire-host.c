/* fuzz-wire-host.c: any bytes as what a worker wrote on its reply pipe.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bytes go through a real WpWireReader (fuzz-feed.c), and each
 * message is taken apart as wp-worker-handle.c does, with the same functions of
 * wp-wire.c: HELLO's version, LOADED's file id, an ERROR rebuilt as a
 * GError, a RESULT checked as a description (what a DESCRIBE job needs)
 * and printed, as `workpool call` prints a result; a RESULT_FDS's
 * handles checked against three descriptors (wp-wire-fds.c); a kind only
 * a pool sends is a protocol error.  Not modelled: which message the worker's
 * state allows, which is a comparison and not decoding.
 *
 * Input: one byte of chunk size (see fuzz-feed.c), then the reply stream.
 */

#include "config.h"

#include "fuzz-harness.h"

#include <string.h>

#include <workpool/wp-error.h>

#include "wp-wire-fds-private.h"

/* Small, so that a header's length cannot make the reader allocate much
 * for a frame that never comes. */
#define MAX_FRAME (1024 * 1024)

static gboolean
handle_reply (const WpWireMessage  *message,
              GError              **error)
{
  switch (message->kind)
    {
    case WP_WIRE_HELLO:
      {
        const char *sandbox;

        if (!wp_wire_hello_check (message->body, &sandbox, error))
          return FALSE;
        g_assert (g_utf8_validate (sandbox, -1, NULL));
        return TRUE;
      }

    case WP_WIRE_LOADED:
      {
        WpPluginFileId id;
        const char *plugin = wp_wire_loaded_get (message->body, &id);

        /* The pool compares it with the job's plugin and keeps it. */
        g_assert (g_utf8_validate (plugin, -1, NULL));
        return TRUE;
      }

    case WP_WIRE_RESULT_FDS:
      {
        /* Three descriptors came with it: each `h` must index one. */
        g_autoptr(GError) index_error = NULL;
        g_autoptr(GVariant) checked = wp_wire_handles_map (message->body, NULL, 3, &index_error);

        if (checked != NULL)
          g_assert (g_variant_equal (checked, message->body));
        else
          g_assert_error (index_error, WP_POOL_ERROR, WP_POOL_ERROR_PROTOCOL);
      }
      G_GNUC_FALLTHROUGH;
    case WP_WIRE_RESULT:
      {
        g_autoptr(GError) not_a_description = NULL;
        g_autofree char *text = g_variant_print (message->body, TRUE);

        if (!wp_wire_description_check (message->body, &not_a_description))
          g_assert_error (not_a_description, WP_POOL_ERROR, WP_POOL_ERROR_PROTOCOL);
        g_assert (text != NULL);
        return TRUE;
      }

    case WP_WIRE_ERROR:
      {
        g_autoptr(GError) job_error = wp_wire_error_from_variant (message->body);

        g_assert (job_error != NULL && job_error->message != NULL);
        g_assert (g_utf8_validate (job_error->message, -1, NULL));
        return TRUE;
      }

    case WP_WIRE_CALL:
    case WP_WIRE_CALL_FDS:
    case WP_WIRE_DESCRIBE:
    case WP_WIRE_CANCEL:
    default:
      return wp_wire_protocol_error (error, "Worker sent a message of kind %u, which only a "
                                     "pool may send", message->kind);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  wp_fuzz_feed_reader (data, size, MAX_FRAME, handle_reply);
  return 0;
}
