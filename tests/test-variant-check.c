/* test-variant-check.c: wp_variant_is_normal_form() gives GLib's verdict.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every frame that crosses a pipe is checked for normal form with
 * wp_variant_is_normal_form(), a fast version of g_variant_is_normal_form().
 * This holds it to GLib's answer: random values of random types (seeded,
 * so a failure can be replayed with --seed), serialised, then corrupted
 * in every way a broken peer could: a byte changed, set to zero or to
 * 0xff, the data cut short or made longer.  Both must agree every time,
 * and both must accept what the serialiser made.
 */

#include "config.h"

#include <string.h>

#include <workpool/wp-error.h>

#include "wp-variant-check-private.h"
#include "wp-wire-private.h"

#define MAX_TYPE_DEPTH 4

static const char basic_types[] = "bynqiuxthdsog";

static char *random_type_string (GRand *rand, guint depth);

static void
append_random_type (GRand   *rand,
                    GString *type,
                    guint    depth)
{
  guint kind = depth >= MAX_TYPE_DEPTH ? 0 : g_rand_int_range (rand, 0, 8);

  switch (kind)
    {
    case 0: case 1: case 2:
      g_string_append_c (type, basic_types[g_rand_int_range (rand, 0, sizeof basic_types - 1)]);
      break;
    case 3:
      g_string_append_c (type, 'v');
      break;
    case 4:
      g_string_append_c (type, 'a');
      append_random_type (rand, type, depth + 1);
      break;
    case 5:
      g_string_append_c (type, 'm');
      append_random_type (rand, type, depth + 1);
      break;
    case 6:
      {
        guint n = g_rand_int_range (rand, 0, 5);

        g_string_append_c (type, '(');
        for (guint i = 0; i < n; i++)
          append_random_type (rand, type, depth + 1);
        g_string_append_c (type, ')');
      }
      break;
    default:
      g_string_append (type, "a{");
      g_string_append_c (type, basic_types[g_rand_int_range (rand, 0, sizeof basic_types - 1)]);
      append_random_type (rand, type, depth + 1);
      g_string_append_c (type, '}');
      break;
    }
}

static char *
random_type_string (GRand *rand,
                    guint  depth)
{
  GString *type = g_string_new (NULL);

  append_random_type (rand, type, depth);
  return g_string_free (type, FALSE);
}

static char *
random_text (GRand *rand)
{
  static const char *const words[] = { "", "a", "héllo", "wörk", "pool", "∑", "x y" };

  return g_strdup (words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);
}

static GVariant *random_value (GRand *rand, const GVariantType *type, guint depth);

static GVariant *
random_basic (GRand              *rand,
              const GVariantType *type)
{
  static const char *const paths[] = { "/", "/a", "/org/workpool/x_1" };
  static const char *const signatures[] = { "", "i", "a{sv}", "(iis)" };
  g_autofree char *text = NULL;

  switch (g_variant_type_peek_string (type)[0])
    {
    case 'b': return g_variant_new_boolean (g_rand_boolean (rand));
    case 'y': return g_variant_new_byte (g_rand_int (rand));
    case 'n': return g_variant_new_int16 (g_rand_int (rand));
    case 'q': return g_variant_new_uint16 (g_rand_int (rand));
    case 'i': return g_variant_new_int32 (g_rand_int (rand));
    case 'u': return g_variant_new_uint32 (g_rand_int (rand));
    case 'x': return g_variant_new_int64 ((gint64) (((guint64) g_rand_int (rand) << 32) | g_rand_int (rand)));
    case 't': return g_variant_new_uint64 (((guint64) g_rand_int (rand) << 32) | g_rand_int (rand));
    case 'h': return g_variant_new_handle (g_rand_int (rand));
    case 'd': return g_variant_new_double (g_rand_double (rand));
    case 'o': return g_variant_new_object_path (paths[g_rand_int_range (rand, 0, G_N_ELEMENTS (paths))]);
    case 'g': return g_variant_new_signature (signatures[g_rand_int_range (rand, 0, G_N_ELEMENTS (signatures))]);
    default:
      text = random_text (rand);
      return g_variant_new_string (text);
    }
}

static GVariant *
random_array (GRand              *rand,
              const GVariantType *type,
              guint               depth)
{
  const GVariantType *element = g_variant_type_element (type);
  /* Long arrays (wide offsets) only near the top, so values stay small. */
  guint n = g_rand_int_range (rand, 0, depth == 0 && g_rand_boolean (rand) ? 300 : 4);
  g_autoptr(GPtrArray) children = g_ptr_array_new ();

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (children, random_value (rand, element, depth + 1));

  return g_variant_new_array (element, (GVariant **) children->pdata, children->len);
}

static GVariant *
random_value (GRand              *rand,
              const GVariantType *type,
              guint               depth)
{
  switch (g_variant_type_peek_string (type)[0])
    {
    case 'v':
      {
        g_autofree char *inner = random_type_string (rand, depth + 1);

        return g_variant_new_variant (random_value (rand, G_VARIANT_TYPE (inner), depth + 1));
      }
    case 'a':
      return random_array (rand, type, depth);
    case 'm':
      return g_variant_new_maybe (g_variant_type_element (type),
                                  g_rand_boolean (rand)
                                  ? random_value (rand, g_variant_type_element (type), depth + 1)
                                  : NULL);
    case '{':
      {
        const GVariantType *key = g_variant_type_key (type);

        return g_variant_new_dict_entry (random_value (rand, key, depth + 1),
                                         random_value (rand, g_variant_type_value (type), depth + 1));
      }
    case '(':
      {
        g_autoptr(GPtrArray) children = g_ptr_array_new ();

        for (const GVariantType *member = g_variant_type_first (type); member != NULL;
             member = g_variant_type_next (member))
          g_ptr_array_add (children, random_value (rand, member, depth + 1));
        return g_variant_new_tuple ((GVariant **) children->pdata, children->len);
      }
    default:
      return random_basic (rand, type);
    }
}

/* A copy of @data for g_variant_is_normal_form().  GLib 2.74 reads one
 * byte past the end of some corrupted tuples (its padding loop checks
 * offset > size, not >=): a zero byte there, outside the value, keeps
 * valgrind's eyes on our code.  wp_variant_is_normal_form() and the wire
 * decoder never read it. */
static GBytes *
bytes_for_glib (const guchar *data,
                gsize         size)
{
  guchar *copy = g_malloc0 (size + 1);

  /* An empty value's data is NULL, and memcpy (…, NULL, 0) is undefined. */
  if (size > 0)
    memcpy (copy, data, size);
  return g_bytes_new_take (copy, size);
}

/* The first 256 bytes of @data in hex, for a failure message. */
static char *
hex_dump (const guchar *data,
          gsize         size)
{
  GString *dump = g_string_new (NULL);

  for (gsize i = 0; i < size && i < 256; i++)
    g_string_append_printf (dump, "%02x", data[i]);
  return g_string_free (dump, FALSE);
}

/* Both checks on @data read as @type; fails the test if they disagree. */
static gboolean
assert_same_verdict (const GVariantType *type,
                     const guchar       *data,
                     gsize               size)
{
  g_autoptr(GBytes) bytes = bytes_for_glib (data, size);
  g_autoptr(GVariant) value = g_variant_ref_sink (g_variant_new_from_bytes (type, bytes, FALSE));
  gboolean glib = g_variant_is_normal_form (value);
  gboolean ours = wp_variant_is_normal_form (value);

  if (glib != ours)
    {
      g_autofree char *hex = hex_dump (data, size);

      g_error ("verdicts differ for type %s, %" G_GSIZE_FORMAT " bytes %s: GLib says %d, "
               "wp_variant_is_normal_form says %d", g_variant_type_peek_string (type), size,
               hex, glib, ours);
    }

  return glib;
}

static void
test_serialised_values_are_normal (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_test_rand_int ());

  g_test_summary ("What GLib's serialiser makes is normal to both checks");

  for (guint i = 0; i < 3000; i++)
    {
      g_autofree char *type_string = random_type_string (rand, 0);
      g_autoptr(GVariant) value = g_variant_ref_sink (random_value (rand, G_VARIANT_TYPE (type_string), 0));

      g_assert_true (assert_same_verdict (g_variant_get_type (value), g_variant_get_data (value),
                                          g_variant_get_size (value)));
    }
}

static void
corrupt_and_compare (GRand              *rand,
                     const GVariantType *type,
                     const guchar       *data,
                     gsize               size)
{
  g_autofree guchar *copy = g_malloc (size + 8);
  gsize at = size > 0 ? g_rand_int_range (rand, 0, size) : 0;

  if (size > 0)
    memcpy (copy, data, size);
  switch (g_rand_int_range (rand, 0, 6))
    {
    case 0: if (size > 0) copy[at] ^= 1u << g_rand_int_range (rand, 0, 8); break;
    case 1: if (size > 0) copy[at] = 0; break;
    case 2: if (size > 0) copy[at] = 0xff; break;
    case 3: size = at; break;
    case 4: copy[size++] = 0; break;
    default: copy[size++] = g_rand_int (rand); copy[size++] = g_rand_int (rand); break;
    }

  assert_same_verdict (type, copy, size);
}

static void
test_corrupted_values_agree (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_test_rand_int ());
  guint n_normal = 0, n_checked = 0;

  g_test_summary ("On corrupted data, wp_variant_is_normal_form() and GLib agree");

  for (guint i = 0; i < 3000; i++)
    {
      g_autofree char *type_string = random_type_string (rand, 0);
      g_autoptr(GVariant) value = g_variant_ref_sink (random_value (rand, G_VARIANT_TYPE (type_string), 0));

      for (guint j = 0; j < 20; j++)
        {
          g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes (value);
          gsize size;
          const guchar *data = g_bytes_get_data (bytes, &size);
          corrupt_and_compare (rand, g_variant_get_type (value), data, size);
          n_checked++;
        }
    }

  /* Also the frame envelope itself, with payloads of every kind. */
  for (guint i = 0; i < 2000; i++)
    {
      g_autofree char *type_string = random_type_string (rand, 0);
      g_autoptr(GVariant) envelope = g_variant_ref_sink (
        g_variant_new ("(ytv)", 18, (guint64) i,
                       random_value (rand, G_VARIANT_TYPE (type_string), 1)));

      corrupt_and_compare (rand, G_VARIANT_TYPE ("(ytv)"), g_variant_get_data (envelope),
                           g_variant_get_size (envelope));
      n_normal += wp_variant_is_normal_form (envelope);
    }

  g_assert_cmpuint (n_normal, ==, 2000);
  g_assert_cmpuint (n_checked, ==, 60000);
}

/* The envelope of @frame, as it goes on the wire after the header. */
static void
append_frame_envelope (GByteArray        *bytes,
                       const WpWireFrame *frame)
{
  g_byte_array_append (bytes, frame->head + WP_WIRE_HEADER_SIZE, WP_WIRE_ENVELOPE_PREFIX);
  g_byte_array_append (bytes, frame->before, frame->before_size);
  g_byte_array_append (bytes, g_variant_get_data (frame->payload), g_variant_get_size (frame->payload));
  g_byte_array_append (bytes, frame->after, frame->after_size);
}

/* A CALL frame is serialised by hand around the arguments' data; it must
 * be byte for byte what GLib makes of the same (ytv), across the widths
 * of the offsets (1, 2 and 4 bytes). */
static void
test_wire_call_frame_is_glib_serialisation (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_test_rand_int ());
  static const gsize lengths[] = { 0, 1, 7, 8, 200, 230, 250, 260, 65000, 65600, 70000 };

  g_test_summary ("A hand-made CALL frame is byte for byte GLib's serialisation of its envelope");

  for (guint i = 0; i < 3000; i++)
    {
      g_autofree char *plugin = g_strnfill (g_rand_int_range (rand, 1, 20), 'p');
      g_autofree char *function = g_strnfill (g_rand_int_range (rand, 1, 20), 'f');
      g_autofree char *type_string = random_type_string (rand, 1);
      g_autofree guint8 *filler = NULL;
      g_autoptr(GVariant) args = NULL;
      g_autoptr(GVariant) expected = NULL;
      g_autoptr(WpWireFrame) frame = NULL;
      g_autoptr(GByteArray) bytes = g_byte_array_new ();

      if (i % 3 == 0)
        {
          gsize length = lengths[g_rand_int_range (rand, 0, G_N_ELEMENTS (lengths))];

          filler = g_malloc0 (length + 1);
          args = g_variant_ref_sink (g_variant_new ("(@ay)", g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                                     filler, length, 1)));
        }
      else
        args = g_variant_ref_sink (random_value (rand, G_VARIANT_TYPE (type_string), 1));

      frame = wp_wire_frame_new_call (i, plugin, function, args, NULL);
      append_frame_envelope (bytes, frame);
      expected = g_variant_ref_sink (g_variant_new ("(ytv)", WP_WIRE_CALL, (guint64) i,
                                                    g_variant_new ("(ssv)", plugin, function, args)));

      g_assert_cmpuint (bytes->len, ==, g_variant_get_size (expected));
      g_assert_true (memcmp (bytes->data, g_variant_get_data (expected), bytes->len) == 0);
      g_assert_cmpuint (wp_wire_frame_size (frame), ==, WP_WIRE_HEADER_SIZE + bytes->len);
      /* What a pool compares with its frame limit before building it. */
      g_assert_cmpuint (wp_wire_call_envelope_size (plugin, function, args), ==, bytes->len);
    }
}

/* The wire decoder takes the envelope apart by hand; it must accept
 * exactly the frames GLib calls normal (for a kind whose body may be of
 * any type). */
/* Whether a frame of @kind may carry @envelope's body (both normal).  The
 * frames made here are RESULTs, which may carry anything, but a corrupted
 * kind byte can make one of them a valid frame of another kind: a RESULT
 * of "(s)" with bit 4 of its kind (18) flipped is a DESCRIBE (2). */
static gboolean
kind_takes_body (guint8    kind,
                 GVariant *envelope)
{
  static const struct { guint8 kind; const char *type; } kinds[] = {
    { WP_WIRE_CALL, "(ssv)" }, { WP_WIRE_DESCRIBE, "(s)" }, { WP_WIRE_CANCEL, "()" },
    { WP_WIRE_HELLO, "(uis)" }, { WP_WIRE_LOADED, "(sttx)" }, { WP_WIRE_ERROR, "(sis)" },
  };
  g_autoptr(GVariant) body = NULL;

  if (kind == WP_WIRE_RESULT)
    return TRUE;

  g_variant_get_child (envelope, 2, "v", &body);
  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    if (kinds[i].kind == kind)
      return g_variant_is_of_type (body, G_VARIANT_TYPE (kinds[i].type));

  return FALSE;
}

static void
test_wire_decode_agrees (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_test_rand_int ());
  guint n_decoded = 0;

  g_test_summary ("wp_wire_decode() accepts a frame exactly when GLib calls its envelope normal "
                  "and its kind takes its body");

  for (guint i = 0; i < 20000; i++)
    {
      g_autofree char *type_string = random_type_string (rand, 1);
      g_autoptr(GVariant) value = g_variant_ref_sink (random_value (rand, G_VARIANT_TYPE (type_string), 1));
      g_autoptr(WpWireFrame) frame = wp_wire_frame_new (WP_WIRE_RESULT, i, value);
      g_autoptr(GByteArray) bytes = g_byte_array_new ();
      g_autoptr(GBytes) body = NULL;
      g_autoptr(GVariant) envelope = NULL;
      g_autoptr(GError) error = NULL;
      WpWireMessage message = { 0, };
      gboolean decoded, normal;

      append_frame_envelope (bytes, frame);
      g_assert_cmpuint (wp_wire_envelope_size (value), ==, bytes->len);
      if (i % 2 == 1 && bytes->len > 0)
        {
          guint at = g_rand_int_range (rand, 0, bytes->len);

          if (g_rand_boolean (rand))
            bytes->data[at] ^= 1u << g_rand_int_range (rand, 0, 8);
          else
            g_byte_array_set_size (bytes, at);
        }

      body = bytes_for_glib (bytes->data, bytes->len);
      envelope = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("(ytv)"), body, FALSE));
      normal = bytes->len > 0 && g_variant_is_normal_form (envelope)
               && kind_takes_body (bytes->data[0], envelope);
      decoded = wp_wire_decode (body, &message, &error);

      if (decoded != normal)
        {
          g_autofree char *hex = hex_dump (bytes->data, bytes->len);

          g_error ("frame %u (%u bytes %s, body type %s): decoded %d, GLib normal %d (%s)", i,
                   bytes->len, hex, type_string, decoded, normal, error ? error->message : "no error");
        }
      if (decoded && i % 2 == 0)
        g_assert_cmpuint (message.job_id, ==, i);
      n_decoded += decoded;
      wp_wire_message_clear (&message);
    }

  g_assert_cmpuint (n_decoded, >=, 10000);
}

/* What wp_wire_call_get() gave for @body, against GLib's own children
 * of it ("&s" points into the body, as wp_wire_call_get() promises). */
static void
assert_call_get_agrees (GVariant   *body,
                        const char *what)
{
  const char *plugin, *function, *glib_plugin, *glib_function;
  g_autoptr(GVariant) args = wp_wire_call_get (body, &plugin, &function);
  g_autoptr(GVariant) glib_args = NULL;
  gsize size = g_variant_get_size (args);

  g_variant_get (body, "(&s&sv)", &glib_plugin, &glib_function, &glib_args);

  if (plugin != glib_plugin || function != glib_function
      || strcmp (g_variant_get_type_string (args), g_variant_get_type_string (glib_args)) != 0
      || size != g_variant_get_size (glib_args)
      || (size > 0 && memcmp (g_variant_get_data (args), g_variant_get_data (glib_args), size) != 0)
      || g_variant_is_normal_form (args) != g_variant_is_normal_form (glib_args))
    {
      g_autofree char *hex = hex_dump (g_variant_get_data (body), g_variant_get_size (body));

      g_error ("%s (ssv) body of %" G_GSIZE_FORMAT " bytes %s: wp_wire_call_get gave %s.%s(%s %s), "
               "GLib %s.%s(%s %s)", what, g_variant_get_size (body), hex, plugin, function,
               g_variant_get_type_string (args), g_variant_print (args, FALSE), glib_plugin,
               glib_function, g_variant_get_type_string (glib_args), g_variant_print (glib_args, FALSE));
    }
}

/* Whether @string is GLib's "" for a broken string, or ends in @body. */
static gboolean
string_within (const char *string,
               GVariant   *body)
{
  const char *data = g_variant_get_data (body);
  gsize size = g_variant_get_size (body);

  if (*string == '\0')
    return TRUE;
  return data != NULL && string >= data && string < data + size
         && memchr (string, '\0', (gsize) (data + size - string)) != NULL;
}

/* A CALL of random names and arguments, offsets 1, 2 or 4 bytes wide;
 * its plugin or function empty now and then. */
static WpWireFrame *
random_call_frame (GRand *rand,
                   guint  i)
{
  static const gsize lengths[] = { 0, 1, 7, 8, 200, 250, 260, 65000, 65600, 70000 };
  g_autofree char *plugin = g_rand_int_range (rand, 0, 8) == 0 ? g_strdup ("") : random_text (rand);
  g_autofree char *function = g_strnfill (g_rand_int_range (rand, 0, 20), 'f');
  g_autoptr(GVariant) args = NULL;

  if (i % 5 == 0)
    {
      gsize length = lengths[g_rand_int_range (rand, 0, G_N_ELEMENTS (lengths))];
      g_autofree guint8 *filler = g_malloc0 (length + 1);

      args = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, filler, length, 1));
    }
  else
    {
      g_autofree char *type_string = random_type_string (rand, 1);

      args = g_variant_ref_sink (random_value (rand, G_VARIANT_TYPE (type_string), 1));
    }

  return wp_wire_frame_new_call (i, plugin, function, args, NULL);
}

/* Corrupts @bytes (an envelope, or a body with @from 0) past @from: a bit
 * flipped, a byte set to 0 or 0xff, most often among the last 24 bytes,
 * where the offsets and the arguments' type are; or cuts it short. */
static void
corrupt_call (GRand      *rand,
              GByteArray *bytes,
              guint       from)
{
  guint at;

  if (bytes->len <= from)
    return;

  if (g_rand_boolean (rand))
    at = g_rand_int_range (rand, MAX (from, bytes->len - MIN (bytes->len, 24)), bytes->len);
  else
    at = g_rand_int_range (rand, from, bytes->len);

  switch (g_rand_int_range (rand, 0, 4))
    {
    case 0: bytes->data[at] ^= 1u << g_rand_int_range (rand, 0, 8); break;
    case 1: bytes->data[at] = 0; break;
    case 2: bytes->data[at] = 0xff; break;
    default: g_byte_array_set_size (bytes, at); break;
    }
}

static void
test_wire_call_get_agrees (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_test_rand_int ());
  guint n_decoded = 0, n_corrupt_decoded = 0, n_not_normal = 0;

  g_test_summary ("wp_wire_call_get() gives GLib's plugin, function and arguments for every CALL "
                  "body wp_wire_decode() accepts, and stays inside any (ssv) body it is given");

  for (guint i = 0; i < 6000; i++)
    {
      g_autoptr(WpWireFrame) frame = random_call_frame (rand, i);
      g_autoptr(GByteArray) envelope = g_byte_array_new ();
      g_autoptr(GByteArray) corrupt = NULL;
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GBytes) body_bytes = NULL;
      g_autoptr(GVariant) body = NULL;
      g_autoptr(GError) error = NULL;
      WpWireMessage message = { 0, };
      gsize body_size;

      /* Through the decoder, whole or corrupted, as a worker reads it. */
      append_frame_envelope (envelope, frame);
      body_size = envelope->len - WP_WIRE_ENVELOPE_PREFIX - strlen ("\0(ssv)");
      corrupt = g_byte_array_sized_new (envelope->len);
      g_byte_array_append (corrupt, envelope->data, envelope->len);
      if (i % 2 == 1)
        corrupt_call (rand, corrupt, WP_WIRE_ENVELOPE_PREFIX);

      bytes = bytes_for_glib (corrupt->data, corrupt->len);
      if (wp_wire_decode (bytes, &message, &error) && message.kind == WP_WIRE_CALL)
        {
          assert_call_get_agrees (message.body, "decoded");
          n_decoded++;
          n_corrupt_decoded += i % 2;
        }
      wp_wire_message_clear (&message);

      /* The body alone, corrupted, never checked: what a flaw in the
       * decoder would let through.  Nothing outside it may be read (the
       * fuzzer's ASan and valgrind watch), and where it is still normal
       * the answer is GLib's. */
      g_byte_array_set_size (corrupt, 0);
      g_byte_array_append (corrupt, envelope->data + WP_WIRE_ENVELOPE_PREFIX, body_size);
      corrupt_call (rand, corrupt, 0);
      body_bytes = g_bytes_new (corrupt->data, corrupt->len);
      body = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("(ssv)"), body_bytes, FALSE));
      if (g_variant_is_normal_form (body))
        assert_call_get_agrees (body, "corrupted but normal");
      else
        {
          const char *plugin, *function;
          g_autoptr(GVariant) args = wp_wire_call_get (body, &plugin, &function);

          g_assert_nonnull (args);
          g_assert_true (string_within (plugin, body));
          g_assert_true (string_within (function, body));
          n_not_normal++;
        }
    }

  g_test_message ("%u CALL frames decoded (%u of them corrupted), %u bodies not normal",
                  n_decoded, n_corrupt_decoded, n_not_normal);
  g_assert_cmpuint (n_decoded, >=, 3000);
  g_assert_cmpuint (n_corrupt_decoded, >=, 50);
  g_assert_cmpuint (n_not_normal, >=, 1000);
}

static void
test_large_byte_array (void)
{
  g_autofree guchar *data = g_malloc0 (1 << 20);
  g_autoptr(GVariant) value = NULL;

  g_test_summary ("A 1 MiB byte array inside a variant is normal, and one byte too many is not");

  value = g_variant_ref_sink (g_variant_new ("(ytv)", 18, (guint64) 1,
                                             g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data,
                                                                        1 << 20, 1)));
  g_assert_true (assert_same_verdict (G_VARIANT_TYPE ("(ytv)"), g_variant_get_data (value),
                                      g_variant_get_size (value)));

  g_clear_pointer (&value, g_variant_unref);
  value = g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_INT32, data, 1000, 4));
  g_assert_false (assert_same_verdict (G_VARIANT_TYPE ("ai"), g_variant_get_data (value), 3999));
}

/* A worker may name any error domain, but the quark table never shrinks:
 * past a bound, new domains are refused; known ones keep working. */
static void
test_wire_error_domains_bounded (void)
{
  guint n_accepted = 0;
  gboolean refused = FALSE;

  g_test_summary ("Errors from workers keep their domain, but workers cannot add new error "
                  "domains to the host's quark table without bound");

  /* Known to the process before the flood, as it is to any GIO program. */
  g_assert_cmpuint (G_IO_ERROR, !=, 0);

  for (guint i = 0; i < 100000 && !refused; i++)
    {
      g_autofree char *domain = g_strdup_printf ("wp-test-new-domain-%u-quark", i);
      g_autoptr(GVariant) body = g_variant_ref_sink (g_variant_new ("(sis)", domain, 7, "boom"));
      g_autoptr(GError) error = wp_wire_error_from_variant (body);

      if (g_error_matches (error, WP_POOL_ERROR, WP_POOL_ERROR_PROTOCOL))
        {
          g_assert_nonnull (strstr (error->message, domain));
          refused = TRUE;
        }
      else
        {
          g_assert_cmpstr (g_quark_to_string (error->domain), ==, domain);
          g_assert_cmpint (error->code, ==, 7);
          g_assert_cmpstr (error->message, ==, "boom");
          n_accepted++;
        }
    }
  g_test_message ("%u new domains accepted", n_accepted);
  g_assert_true (refused);
  g_assert_cmpuint (n_accepted, >=, 16);
  g_assert_cmpuint (n_accepted, <=, 1024);

  /* A domain the process knows, and one accepted earlier, still come back. */
  {
    g_autoptr(GVariant) io = g_variant_ref_sink (g_variant_new ("(sis)", "g-io-error-quark", 1, "x"));
    g_autoptr(GVariant) old = g_variant_ref_sink (g_variant_new ("(sis)", "wp-test-new-domain-0-quark", 2, "y"));
    g_autoptr(GError) io_error = wp_wire_error_from_variant (io);
    g_autoptr(GError) old_error = wp_wire_error_from_variant (old);

    g_assert_error (io_error, G_IO_ERROR, 1);
    g_assert_cmpstr (g_quark_to_string (old_error->domain), ==, "wp-test-new-domain-0-quark");
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/variant-check/serialised-values-are-normal", test_serialised_values_are_normal);
  g_test_add_func ("/variant-check/corrupted-values-agree", test_corrupted_values_agree);
  g_test_add_func ("/variant-check/large-byte-array", test_large_byte_array);
  g_test_add_func ("/wire/decode-agrees-with-glib", test_wire_decode_agrees);
  g_test_add_func ("/wire/error-domains-bounded", test_wire_error_domains_bounded);
  g_test_add_func ("/wire/call-frame-is-glib-serialisation", test_wire_call_frame_is_glib_serialisation);
  g_test_add_func ("/wire/call-get-agrees-with-glib", test_wire_call_get_agrees);

  return g_test_run ();
}
