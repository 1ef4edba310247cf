/* wp-cli-progress.h: a one-line progress bar on stderr, for `workpool thumbnail`.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the bar shows and when it is drawn is described at the top of
 * wp-cli-progress.c.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _WpCliProgress WpCliProgress;

/* Where a run stands, as the bar shows it. */
typedef struct {
  guint64  done;         /* items finished, whatever the outcome */
  guint64  total;        /* items found so far */
  gboolean total_known;  /* the search for items is over */
  guint64  worked;       /* items among @done that took work (not skipped) */
  gint64   elapsed_us;   /* since the run started */
} WpCliProgressState;

WpCliProgress *wp_cli_progress_new   (void);
void           wp_cli_progress_free  (WpCliProgress            *progress);
void           wp_cli_progress_draw  (WpCliProgress            *progress,
                                      const WpCliProgressState *state);
void           wp_cli_progress_clear (WpCliProgress            *progress);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WpCliProgress, wp_cli_progress_free)

G_END_DECLS
