/* wp-cli-names.h: the file name of an image's thumbnails, for `workpool thumbnail`.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The naming rule and what the cache holds are described at the top of
 * wp-cli-names.c.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _WpCliNames WpCliNames;

WpCliNames *wp_cli_names_new  (const char * const  *extensions);
void        wp_cli_names_free (WpCliNames          *names);
char       *wp_cli_names_get  (WpCliNames          *names,
                               const char          *source,
                               GError             **error) G_GNUC_WARN_UNUSED_RESULT;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WpCliNames, wp_cli_names_free)

G_END_DECLS
