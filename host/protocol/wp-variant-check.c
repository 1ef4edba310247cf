/* wp-variant-check.c: a fast normal-form check for untrusted GVariant data.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * g_variant_is_normal_form() gives the verdict we want for every frame
 * that crosses a pipe, but it checks a fixed-size array one element at a
 * time through its generic dispatcher: 15 ms for a 1 MiB "ay" here, thirty
 * times what the pipe takes to carry it.  This file gives the same
 * verdict, following GLib's serialiser rule for rule (gvariant-serialiser.c,
 * "is_normal"), with one shortcut: an array of a fixed-size numeric type
 * (y n q i u x t h d), whose every bit pattern is a valid element, is
 * normal when its size is a multiple of the element size.
 *
 * The type is compiled once per call into a tree of Layout nodes (the
 * alignment, fixed size and depth GLib's GVariantTypeInfo would give);
 * a variant's child type comes from the data, so its subtree is compiled
 * when it is met.  tests/test-variant-check.c holds this file to GLib's
 * verdict on random values and on random corruptions of them.
 */

#include "config.h"

#include "wp-variant-check-private.h"

#include <string.h>

#define MAX_DEPTH 128   /* G_VARIANT_MAX_RECURSION_DEPTH */

typedef struct _Layout Layout;

struct _Layout {
  char     type_char;
  guint    alignment;   /* a mask: 0, 1, 3 or 7 */
  gsize    fixed_size;  /* 0 for variable-sized types */
  gsize    depth;       /* of the type, as GVariantTypeInfo counts it */
  Layout  *element;     /* arrays and maybes */
  Layout **members;     /* tuples and dict entries */
  gsize    n_members;
};

static void
layout_free (Layout *layout)
{
  if (layout == NULL)
    return;

  layout_free (layout->element);
  for (gsize i = 0; i < layout->n_members; i++)
    layout_free (layout->members[i]);
  g_free (layout->members);
  g_free (layout);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Layout, layout_free)

static gsize
align_up (gsize offset,
          guint alignment)
{
  return (offset + alignment) & ~(gsize) alignment;
}

/* The layout GVariantTypeInfo gives @type: tuples are aligned to their
 * most aligned member, fixed-size when every member is (rounded up to
 * their alignment), and "()" is one byte. */
static Layout *
layout_new (const GVariantType *type)
{
  Layout *layout = g_new0 (Layout, 1);

  layout->type_char = g_variant_type_peek_string (type)[0];
  layout->depth = 1;

  switch (layout->type_char)
    {
    case 'b': case 'y':           layout->fixed_size = 1; break;
    case 'n': case 'q':           layout->alignment = 1; layout->fixed_size = 2; break;
    case 'i': case 'u': case 'h': layout->alignment = 3; layout->fixed_size = 4; break;
    case 'x': case 't': case 'd': layout->alignment = 7; layout->fixed_size = 8; break;
    case 's': case 'o': case 'g': break;
    case 'v':                     layout->alignment = 7; break;

    case 'a':
    case 'm':
      layout->element = layout_new (g_variant_type_element (type));
      layout->alignment = layout->element->alignment;
      layout->depth = 1 + layout->element->depth;
      break;

    case '(':
    case '{':
      {
        const GVariantType *member;
        gsize i = 0, end = 0, max_depth = 0;
        gboolean fixed = TRUE;

        layout->n_members = g_variant_type_n_items (type);
        layout->members = g_new0 (Layout *, layout->n_members);
        for (member = g_variant_type_first (type); member != NULL;
             member = g_variant_type_next (member), i++)
          {
            Layout *child = layout->members[i] = layout_new (member);

            layout->alignment |= child->alignment;
            max_depth = MAX (max_depth, child->depth);
            fixed = fixed && child->fixed_size != 0;
            if (fixed)
              end = align_up (end, child->alignment) + child->fixed_size;
          }

        layout->depth = 1 + max_depth;
        if (layout->n_members == 0)
          layout->fixed_size = 1;
        else if (fixed)
          layout->fixed_size = align_up (end, layout->alignment);
      }
      break;

    default:
      g_assert_not_reached ();
    }

  return layout;
}

/* Compiled layouts, by type.  A layout never changes once made, so one
 * made by either thread of a worker serves both.  The types come from
 * untrusted peers, so the cache is bounded: past LAYOUT_CACHE_MAX types,
 * layouts are made for the call and freed after. */
#define LAYOUT_CACHE_MAX 256

static GMutex layout_cache_lock;
static GHashTable *layout_cache;  /* GVariantType → Layout */

/* The layout of @type; sets *@owned to a layout the caller must free when
 * it is not a cached one. */
static const Layout *
layout_get (const GVariantType  *type,
            Layout             **owned)
{
  /* The last type this thread asked for: replies of one function come
   * with one type, and the lookup below hashes the type string under a
   * lock.  Cached layouts are never freed, so the pointer stays good. */
  static __thread char last_type[64];
  static __thread const Layout *last_layout;
  gsize type_length = g_variant_type_get_string_length (type);
  Layout *layout;

  *owned = NULL;

  if (last_layout != NULL && type_length < sizeof last_type
      && memcmp (last_type, type, type_length) == 0 && last_type[type_length] == '\0')
    return last_layout;

  g_mutex_lock (&layout_cache_lock);
  if (layout_cache == NULL)
    layout_cache = g_hash_table_new_full (g_variant_type_hash, g_variant_type_equal,
                                          (GDestroyNotify) g_variant_type_free,
                                          (GDestroyNotify) layout_free);
  layout = g_hash_table_lookup (layout_cache, type);
  if (layout == NULL)
    {
      layout = layout_new (type);
      if (g_hash_table_size (layout_cache) < LAYOUT_CACHE_MAX)
        g_hash_table_insert (layout_cache, g_variant_type_copy (type), layout);
      else
        *owned = layout;
    }
  g_mutex_unlock (&layout_cache_lock);

  if (*owned == NULL && type_length < sizeof last_type)
    {
      memcpy (last_type, type, type_length);
      last_type[type_length] = '\0';
      last_layout = layout;
    }

  return layout;
}

/* Offsets: little-endian, as wide as the container's size needs.  Also
 * used to serialise a CALL frame by hand (wp-wire.c). */
guint
wp_variant_offset_size (gsize size)
{
  if (size > G_MAXUINT32)
    return 8;
  if (size > G_MAXUINT16)
    return 4;
  if (size > G_MAXUINT8)
    return 2;
  return size > 0 ? 1 : 0;
}

/* The size of a container of @body_size bytes with @n_offsets offsets of
 * the smallest width that can hold them: the only normal one. */
gsize
wp_variant_framed_size (gsize body_size,
                        gsize n_offsets)
{
  if (body_size + 1 * n_offsets <= G_MAXUINT8)
    return body_size + 1 * n_offsets;
  if (body_size + 2 * n_offsets <= G_MAXUINT16)
    return body_size + 2 * n_offsets;
  if (body_size + 4 * n_offsets <= G_MAXUINT32)
    return body_size + 4 * n_offsets;
  return body_size + 8 * n_offsets;
}

static gsize
read_offset (const guchar *bytes,
             guint         size)
{
  guint64 value = 0;

  for (guint i = 0; i < size; i++)
    value |= (guint64) bytes[i] << (8 * i);

  return (gsize) value;
}

static gboolean check (const Layout *layout, const guchar *data, gsize size, gsize depth);

static gboolean
is_string (const guchar *data,
           gsize         size)
{
  const char *end;

  if (size == 0 || data[size - 1] != '\0')
    return FALSE;

  g_utf8_validate_len ((const char *) data, size, &end);
  return end == (const char *) data + size - 1;
}

static gboolean
check_basic (const Layout *layout,
             const guchar *data,
             gsize         size,
             gsize         depth)
{
  if (size == 0 || depth >= MAX_DEPTH)
    return FALSE;

  switch (layout->type_char)
    {
    case 'b':
      return data[0] < 2;
    case 's':
      return is_string (data, size);
    case 'o':
      return is_string (data, size) && g_variant_is_object_path ((const char *) data);
    case 'g':
      return is_string (data, size) && g_variant_is_signature ((const char *) data);
    default:
      return TRUE;   /* every bit pattern of a number is valid */
    }
}

static gboolean
check_fixed_array (const Layout *layout,
                   const guchar *data,
                   gsize         size,
                   gsize         depth)
{
  const Layout *element = layout->element;

  if (size % element->fixed_size != 0)
    return FALSE;
  if (size == 0)
    return TRUE;

  /* The shortcut: elements that cannot be wrong need no visit. */
  if (strchr ("ynqiuxthd", element->type_char) != NULL)
    return depth + 1 < MAX_DEPTH;

  for (gsize offset = 0; offset < size; offset += element->fixed_size)
    if (!check (element, data + offset, element->fixed_size, depth + 1))
      return FALSE;

  return TRUE;
}

static gboolean
check_variable_array (const Layout *layout,
                      const guchar *data,
                      gsize         size,
                      gsize         depth)
{
  guint offset_size = wp_variant_offset_size (size);
  gsize last_end, n_elements, offset = 0;

  if (size == 0)
    return TRUE;

  last_end = read_offset (data + size - offset_size, offset_size);
  if (last_end > size || (size - last_end) % offset_size != 0)
    return FALSE;

  n_elements = (size - last_end) / offset_size;
  if (n_elements == 0 || wp_variant_framed_size (last_end, n_elements) != size)
    return FALSE;

  for (gsize i = 0; i < n_elements; i++)
    {
      gsize end = read_offset (data + last_end + i * offset_size, offset_size);

      if (end < offset || end > last_end)
        return FALSE;

      for (; offset & layout->element->alignment; offset++)
        if (offset >= end || data[offset] != '\0')
          return FALSE;

      if (!check (layout->element, data + offset, end - offset, depth + 1))
        return FALSE;

      offset = end;
    }

  return TRUE;
}

static gboolean
check_maybe (const Layout *layout,
             const guchar *data,
             gsize         size,
             gsize         depth)
{
  const Layout *element = layout->element;

  if (size == 0)
    return TRUE;   /* Nothing */

  if (element->fixed_size != 0)
    return size == element->fixed_size && check (element, data, size, depth + 1);

  return data[size - 1] == '\0' && check (element, data, size - 1, depth + 1);
}

/* Members one after the other, each aligned, with the ends of the
 * variable-sized ones but the last stored backwards at the end. */
static gboolean
check_tuple (const Layout *layout,
             const guchar *data,
             gsize         size,
             gsize         depth)
{
  guint offset_size = wp_variant_offset_size (size);
  gsize offset_ptr = size, offset = 0;

  for (gsize i = 0; i < layout->n_members; i++)
    {
      const Layout *member = layout->members[i];
      gsize end;

      for (; offset & member->alignment; offset++)
        if (offset >= size || data[offset] != '\0')
          return FALSE;

      if (member->fixed_size != 0)
        end = offset + member->fixed_size;
      else if (i == layout->n_members - 1)
        end = offset_ptr;
      else
        {
          if (offset_ptr < offset_size)
            return FALSE;
          offset_ptr -= offset_size;
          if (offset_ptr < offset)
            return FALSE;
          end = read_offset (data + offset_ptr, offset_size);
        }

      if (end < offset || end > offset_ptr)
        return FALSE;
      if (!check (member, data + offset, end - offset, depth + 1))
        return FALSE;

      offset = end;
    }

  /* A fixed-size tuple (whose size the caller checked) ends in zeros. */
  if (layout->fixed_size != 0)
    {
      if (layout->n_members == 0)
        return data[0] == '\0';

      for (; offset & layout->alignment; offset++)
        if (data[offset] != '\0')
          return FALSE;
    }

  return offset_ptr == offset;
}

/* The child's data, a zero byte, then the child's type string. */
static gboolean
check_variant (const guchar *data,
               gsize         size,
               gsize         depth)
{
  g_autoptr(Layout) owned = NULL;
  const Layout *child;
  const char *type_string;
  const char *limit;
  const char *end;
  gsize child_size;

  if (size == 0)
    return FALSE;

  for (child_size = size - 1; child_size > 0; child_size--)
    if (data[child_size] == '\0')
      break;
  if (data[child_size] != '\0')
    return FALSE;

  type_string = (const char *) data + child_size + 1;
  limit = (const char *) data + size;
  if (!g_variant_type_string_scan (type_string, limit, &end) || end != limit
      || !g_variant_type_is_definite ((const GVariantType *) type_string))
    return FALSE;

  child = layout_get ((const GVariantType *) type_string, &owned);
  if (child->fixed_size != 0 && child->fixed_size != child_size)
    return FALSE;
  if (depth >= MAX_DEPTH - child->depth)
    return FALSE;

  return check (child, data, child_size, depth + 1);
}

static gboolean
check (const Layout *layout,
       const guchar *data,
       gsize         size,
       gsize         depth)
{
  switch (layout->type_char)
    {
    case 'a':
      if (layout->element->fixed_size != 0)
        return check_fixed_array (layout, data, size, depth);
      return check_variable_array (layout, data, size, depth);
    case 'm':
      return check_maybe (layout, data, size, depth);
    case '(':
    case '{':
      return check_tuple (layout, data, size, depth);
    case 'v':
      return check_variant (data, size, depth);
    default:
      return check_basic (layout, data, size, depth);
    }
}

/* @value at @depth, of a type whose own depth is no more than
 * @max_type_depth allows. */
static gboolean
check_value (GVariant *value,
             gsize     depth,
             gsize     max_type_depth)
{
  /* An empty value's data may be NULL, to which no offset, not even
   * zero, may be applied: every check reads it from here instead. */
  static const guchar no_data[1];
  g_autoptr(Layout) owned = NULL;
  const Layout *layout = layout_get (g_variant_get_type (value), &owned);
  const guchar *data = g_variant_get_data (value);
  gsize size = g_variant_get_size (value);

  /* A fixed-size value of the wrong size has no data at all. */
  if (size > 0 && data == NULL)
    return FALSE;
  if (data == NULL)
    data = no_data;
  if (layout->fixed_size != 0 && size != layout->fixed_size)
    return FALSE;
  if (layout->depth > max_type_depth)
    return FALSE;

  return check (layout, data, size, depth);
}

/* Whether @child, the value inside a variant at depth @variant_depth of a
 * larger value (made from untrusted bytes), is in normal form: what GLib
 * would decide for that part of the larger value. */
gboolean
wp_variant_is_normal_form_in_variant (GVariant *child,
                                      gsize     variant_depth)
{
  /* GLib: variant_depth < MAX_DEPTH - the child type's depth. */
  if (variant_depth >= MAX_DEPTH)
    return FALSE;

  return check_value (child, variant_depth + 1, MAX_DEPTH - variant_depth - 1);
}

/* Whether @value, made from untrusted bytes with g_variant_new_from_bytes()
 * (trusted = FALSE), is in normal form: the same verdict as
 * g_variant_is_normal_form(), in time proportional to the number of
 * values that can be wrong rather than to the number of bytes. */
gboolean
wp_variant_is_normal_form (GVariant *value)
{
  return check_value (value, 0, G_MAXSIZE);
}
