/* wp-ico.h: the entries of an ICO file, largest first, each as an image file of its own.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Internal to the thumbnail plugin (and its tests); what the code owns
 * and guarantees is described at the top of wp-ico.c.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * WpIcoEntry:
 * @width: the entry's width in pixels, as the directory says
 * @height: its height
 * @bit_count: its bits per pixel, as the directory says (0 when unsaid)
 * @offset: where its data starts in the file
 * @length: its data's length
 *
 * One image of an ICO file, from the file's directory.
 */
typedef struct {
  int     width;
  int     height;
  int     bit_count;
  guint32 offset;
  guint32 length;
} WpIcoEntry;

gboolean  wp_ico_is_ico           (const guint8      *data,
                                   gsize              length);
GArray   *wp_ico_read_directory   (int                fd,
                                   guint64            file_size);
int       wp_ico_open_entry       (int                fd,
                                   const WpIcoEntry  *entry,
                                   GError           **error);

G_END_DECLS
