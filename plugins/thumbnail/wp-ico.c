/* wp-ico.c: the entries of an ICO file, largest first, each as an image file of its own.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An ICO file holds several images of one icon (16, 32, 48, 256 px...):
 * a 6-byte header, a directory of 16-byte entries (width and height, 0
 * meaning 256; bits per pixel; the data's length and offset), then each
 * entry's data, a BMP without its file header (a DIB) or, since Windows
 * Vista and for the 256 px entry mostly, a whole PNG file.
 *
 * gdk-pixbuf 2.42's ICO loader reads one entry: the one with the most
 * bytes among the DIBs, passing over every PNG entry ("compressed").
 * So an icon whose 256 px entry is a PNG (most of today's) comes out from
 * its 48 px DIB, and one made only of PNG entries (as Pillow writes them)
 * cannot be read at all.  Instead, wp-image.c asks for the directory here
 * (wp_ico_read_directory(), the largest entry first) and hands each entry
 * in turn to gdk-pixbuf as a file of its own (wp_ico_open_entry(): a PNG
 * entry as it is, for the PNG loader; a DIB as a one-entry ICO file, for
 * the ICO loader) until one loads: the largest entry the loaders can read.
 *
 * Invariants: every offset and length of the directory is checked
 * against the file's size before anything is read; at most the
 * MAX_ENTRIES largest entries are tried; an entry file lives
 * in memory (memfd_create()), never on disk; the descriptor of the ICO
 * file keeps its offset.
 */

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "wp-atomic-file.h"
#include "wp-format.h"
#include "wp-ico.h"

#define ICO_HEADER_SIZE    6
#define ICO_ENTRY_SIZE     16
#define ICO_TYPE_ICON      1
/* Entries tried at most: every try may read and decode the whole file
 * (an entry's data can be anything up to the file's size), and icons
 * rarely hold more sizes than this. */
#define MAX_ENTRIES        8

static const guint8 png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

static guint16
le16 (const guint8 *p)
{
  return (guint16) (p[1] << 8 | p[0]);
}

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[3] << 24 | (guint32) p[2] << 16 | (guint32) p[1] << 8 | p[0];
}

/**
 * wp_ico_is_ico:
 * @data: the first bytes of a file
 * @length: how many, at least 4 to say yes
 *
 * Returns: whether the file starts as an icon (not a cursor) does
 */
gboolean
wp_ico_is_ico (const guint8 *data,
               gsize         length)
{
  return length >= 4 && le16 (data) == 0 && le16 (data + 2) == ICO_TYPE_ICON;
}

/* Largest first; among entries of one size, the deepest first. */
static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const WpIcoEntry *entry_a = a, *entry_b = b;
  gint64 area_a = (gint64) entry_a->width * entry_a->height;
  gint64 area_b = (gint64) entry_b->width * entry_b->height;

  if (area_a != area_b)
    return area_a > area_b ? -1 : 1;
  if (entry_a->bit_count != entry_b->bit_count)
    return entry_a->bit_count > entry_b->bit_count ? -1 : 1;
  /* Stable: the directory's order. */
  return entry_a->offset < entry_b->offset ? -1 : entry_a->offset > entry_b->offset;
}

/**
 * wp_ico_read_directory:
 * @fd: an ICO file, open for reading
 * @file_size: its size in bytes
 *
 * Reads the directory of an ICO file.  Entries whose data lies outside
 * the file are left out.
 *
 * Returns: (transfer full) (nullable): the entries (#WpIcoEntry), the
 *   largest first, at most MAX_ENTRIES of them; %NULL when the file is not
 *   an icon or its directory cannot be read
 */
GArray *
wp_ico_read_directory (int     fd,
                       guint64 file_size)
{
  g_autoptr(GArray) entries = NULL;
  g_autofree guint8 *directory = NULL;
  guint8 header[ICO_HEADER_SIZE];
  guint n_entries, i;

  if (!wp_format_read_at (fd, header, sizeof header, 0) ||
      !wp_ico_is_ico (header, sizeof header))
    return NULL;

  n_entries = le16 (header + 4);
  if (n_entries == 0 || ICO_HEADER_SIZE + (guint64) n_entries * ICO_ENTRY_SIZE > file_size)
    return NULL;

  directory = g_malloc ((gsize) n_entries * ICO_ENTRY_SIZE);
  if (!wp_format_read_at (fd, directory, (gsize) n_entries * ICO_ENTRY_SIZE, ICO_HEADER_SIZE))
    return NULL;

  entries = g_array_sized_new (FALSE, FALSE, sizeof (WpIcoEntry), n_entries);
  for (i = 0; i < n_entries; i++)
    {
      const guint8 *p = directory + (gsize) i * ICO_ENTRY_SIZE;
      WpIcoEntry entry;

      entry.width = p[0] != 0 ? p[0] : 256;
      entry.height = p[1] != 0 ? p[1] : 256;
      entry.bit_count = le16 (p + 6);
      entry.length = le32 (p + 8);
      entry.offset = le32 (p + 12);

      if (entry.length == 0 || (guint64) entry.offset + entry.length > file_size ||
          entry.offset < ICO_HEADER_SIZE + (guint64) n_entries * ICO_ENTRY_SIZE)
        continue;

      g_array_append_val (entries, entry);
    }

  if (entries->len == 0)
    return NULL;

  g_array_sort (entries, compare_entries);
  if (entries->len > MAX_ENTRIES)
    g_array_set_size (entries, MAX_ENTRIES);
  return g_steal_pointer (&entries);
}

static int
set_errno_error (GError     **error,
                 int          saved_errno,
                 const char  *what)
{
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
               "%s: %s", what, g_strerror (saved_errno));
  return -1;
}

/**
 * wp_ico_open_entry:
 * @fd: the ICO file, open for reading
 * @entry: one of its entries, from wp_ico_read_directory()
 * @error: return location for an error
 *
 * Makes an image file in memory of one entry of an ICO file: its PNG
 * file when it is one, else an ICO file with this entry alone.
 *
 * Returns: a descriptor of that file, at its start, to close; -1 with
 *   @error set (G_FILE_ERROR) when it cannot be made
 */
int
wp_ico_open_entry (int                fd,
                   const WpIcoEntry  *entry,
                   GError           **error)
{
  g_autofree guint8 *data = g_try_malloc (entry->length);
  guint8 header[ICO_HEADER_SIZE + ICO_ENTRY_SIZE] = { 0, };
  int entry_fd;

  if (data == NULL)
    return set_errno_error (error, ENOMEM, "Failed to read an icon's entry");

  if (!wp_format_read_at (fd, data, entry->length, entry->offset))
    return set_errno_error (error, errno != 0 ? errno : EIO, "Failed to read an icon's entry");

  entry_fd = memfd_create ("wp-ico-entry", MFD_CLOEXEC);
  if (entry_fd < 0)
    return set_errno_error (error, errno, "Failed to make an icon's entry file");

  if (entry->length < sizeof png_signature ||
      memcmp (data, png_signature, sizeof png_signature) != 0)
    {
      /* ICONDIR (reserved, type, count), then the entry with its data
       * right after the directory. */
      header[2] = ICO_TYPE_ICON;
      header[4] = 1;
      header[6] = (guint8) (entry->width < 256 ? entry->width : 0);
      header[7] = (guint8) (entry->height < 256 ? entry->height : 0);
      header[10] = 1;
      header[12] = (guint8) entry->bit_count;
      header[13] = (guint8) (entry->bit_count >> 8);
      header[14] = (guint8) entry->length;
      header[15] = (guint8) (entry->length >> 8);
      header[16] = (guint8) (entry->length >> 16);
      header[17] = (guint8) (entry->length >> 24);
      header[18] = sizeof header;

      if (!wp_atomic_file_write_all (entry_fd, header, sizeof header))
        goto write_failed;
    }

  if (!wp_atomic_file_write_all (entry_fd, data, entry->length) || lseek (entry_fd, 0, SEEK_SET) != 0)
    goto write_failed;

  return entry_fd;

write_failed:
  {
    int saved_errno = errno != 0 ? errno : EIO;

    close (entry_fd);
    return set_errno_error (error, saved_errno, "Failed to make an icon's entry file");
  }
}
