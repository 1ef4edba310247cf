/* wp-cli-walk.h: a streaming walk over folder trees, for `workpool thumbnail`.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the walk owns and guarantees is described at the top of
 * wp-cli-walk.c.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _WpCliWalk WpCliWalk;

WpCliWalk *wp_cli_walk_new                  (const char * const  *extensions);
void       wp_cli_walk_free                 (WpCliWalk           *walk);
void       wp_cli_walk_add_root             (WpCliWalk           *walk,
                                             const char          *dir);
gboolean   wp_cli_walk_next                 (WpCliWalk           *walk,
                                             char               **path,
                                             GError             **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean   wp_cli_walk_is_done              (WpCliWalk           *walk);
guint64    wp_cli_walk_get_n_others         (WpCliWalk           *walk);
GStrv      wp_cli_walk_dup_other_extensions (WpCliWalk           *walk);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WpCliWalk, wp_cli_walk_free)

G_END_DECLS
