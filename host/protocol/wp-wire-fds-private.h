/* wp-wire-fds-private.h: file descriptors that travel with a job.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "wp-wire-private.h"

G_BEGIN_DECLS

/* The worker's end of the descriptor socket (see wp-wire-fds.c), beside
 * WP_WIRE_CONTROL_FD and WP_WIRE_CLAIMS_FD. */
#define WP_WIRE_FDS_FD           5
/* The most descriptors one job carries each way, in its arguments or in
 * its result: well under the kernel's SCM_MAX_FD (253). */
#define WP_WIRE_MAX_FDS          64
/* A datagram's bytes: the job id and the number of descriptors, both
 * little-endian. */
#define WP_WIRE_FDS_HEADER_SIZE  12

gboolean   wp_wire_fds_send          (int            socket,
                                      guint64        job_id,
                                      const int     *fds,
                                      guint          n_fds,
                                      GError       **error);
gboolean   wp_wire_fds_receive       (int            socket,
                                      guint64        job_id,
                                      gboolean       wait,
                                      int          **fds,
                                      guint         *n_fds,
                                      GError       **error);
gboolean   wp_wire_fds_check         (const guint8  *data,
                                      gsize          size,
                                      gboolean       truncated,
                                      guint          n_received,
                                      guint64        job_id,
                                      GError       **error);
gboolean   wp_wire_frame_send_fds    (WpWireFrame   *frame,
                                      int            socket,
                                      GError       **error);
void       wp_wire_fds_close         (int           *fds,
                                      guint          n_fds);

gboolean   wp_wire_has_handles       (GVariant      *value);
GVariant  *wp_wire_handles_map       (GVariant      *value,
                                      const int     *map,
                                      guint          n_map,
                                      GError       **error);
GVariant  *wp_wire_handles_collect   (GVariant      *value,
                                      GArray        *fds);

G_END_DECLS
