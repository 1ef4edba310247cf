/* fuzz-harness.h: what every fuzz harness defines, and the helper the
 * two wire harnesses share.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A harness is libFuzzer's entry point, LLVMFuzzerTestOneInput().  In a
 * -Dfuzzing=true build it is linked with -fsanitize=fuzzer; otherwise with
 * fuzz-main.c, which runs it once on each file of its seed corpus.
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

#include "wp-wire-private.h"

G_BEGIN_DECLS

int  LLVMFuzzerTestOneInput (const uint8_t *data,
                             size_t         size);
int  LLVMFuzzerInitialize   (int           *argc,
                             char        ***argv);

/* Handles one decoded message as one end of the pipe would.  Returns
 * FALSE with @error set where that end would stop reading (a protocol
 * error). */
typedef gboolean (*WpFuzzHandler) (const WpWireMessage  *message,
                                   GError              **error);

void wp_fuzz_feed_reader (const guint8  *data,
                          gsize          size,
                          gsize          max_frame,
                          WpFuzzHandler  handle);

G_END_DECLS
