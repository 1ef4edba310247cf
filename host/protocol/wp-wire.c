/* wp-wire.c: framing and decoding of the messages between pool and worker.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both ends use this file, and each treats the other as untrusted: a
 * plugin may scribble on its worker's memory, and a worker executable
 * may be anything $WORKPOOL_WORKER points at.  So a reader
 *
 *  - refuses a frame whose header is not ours or whose length is over the
 *    reader's maximum, before allocating anything for it;
 *  - builds the GVariant with trusted=FALSE and refuses it unless it is in
 *    normal form (wp-variant-check.c: GLib's verdict, without visiting
 *    every byte of a numeric array), so a value handed on is exactly what
 *    a serialiser makes;
 *  - checks each kind's body against the type that kind must have.
 *
 * Reading.  A WpWireReader owns one buffer.  Small frames are copied out
 * of it; a large frame is read straight into a buffer of its own size at
 * offset 0, which then becomes the body's GBytes without another copy
 * (the body sits 8 bytes in, so it keeps malloc's alignment).  One call of
 * wp_wire_reader_next() makes at most one read(2), so a non-blocking
 * reader returns to its main loop as soon as the pipe is drained, and a
 * blocking one simply calls again on WP_WIRE_READ_AGAIN.
 *
 * The envelope "(ytv)" has no framing offsets (see wp-wire-private.h),
 * so both directions take it apart by hand: the decoder reads the kind
 * and id where they stand and checks only the variant's child, at the
 * depth GLib would, and the encoder writes the parts of the envelope
 * around the body's own data.  A CALL body "(ssv)" is serialised by hand
 * the same way, so the arguments are never copied into a container, and
 * the worker reads it back by its offsets rather than through GLib's
 * children, each of which would check the framing again.
 * tests/test-variant-check.c holds both to GLib's verdict and bytes.
 *
 * Descriptors.  CALL_FDS and RESULT_FDS are CALL and RESULT whose
 * descriptors come as a datagram on a socket beside the pipe, sent just
 * before the frame: wp-wire-fds.c.  Framing and limits are the same.
 *
 * Writing.  A WpWireFrame is a fixed head, the bytes of the body before
 * the payload's data, that data, and the bytes after it, written with one
 * writev(2); a frame that a non-blocking pipe takes only in part keeps its
 * position and is continued when the pipe is writable again.
 */

#include "config.h"

#include "wp-wire-private.h"
#include "wp-wire-fds-private.h"
#include "wp-variant-check-private.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <workpool/wp-error.h>

#define READ_CHUNK       (64 * 1024)
#define STEAL_THRESHOLD  (16 * 1024)
#define MAX_DOMAIN_LEN   128
/* Error domains a process had never seen that workers may add to its
 * quark table, which never shrinks (see wp_wire_error_from_variant()). */
#define MAX_NEW_DOMAINS  256

struct _WpWireReader {
  guint8 *buffer;
  gsize   capacity;
  gsize   start;     /* first byte not yet consumed */
  gsize   end;       /* one past the last byte read */
  gsize   max_frame;
  char   *type_cache; /* the last body type found valid */
};

void
wp_wire_message_clear (WpWireMessage *message)
{
  g_clear_pointer (&message->body, g_variant_unref);
  message->kind = 0;
  message->job_id = 0;
}

/* Encoding */

static void
put_le32 (guint8  *p,
          guint32  value)
{
  value = GUINT32_TO_LE (value);
  memcpy (p, &value, sizeof value);
}

static guint32
get_le32 (const guint8 *p)
{
  guint32 value;

  memcpy (&value, p, sizeof value);
  return GUINT32_FROM_LE (value);
}

static void
put_le64 (guint8  *p,
          guint64  value)
{
  value = GUINT64_TO_LE (value);
  memcpy (p, &value, sizeof value);
}

/* One block: the frame, then @before_size and @after_size bytes for the
 * parts around the payload, which the caller fills in. */
static WpWireFrame *
frame_new (WpWireKind  kind,
           guint64     job_id,
           gsize       before_size,
           GVariant   *payload,
           gsize       after_size)
{
  WpWireFrame *frame = g_malloc (sizeof (WpWireFrame) + before_size + after_size);
  guint8 *storage = (guint8 *) (frame + 1);
  gsize envelope_size;

  memset (frame->head, 0, sizeof frame->head);
  frame->before = storage;
  frame->before_size = before_size;
  frame->payload = g_variant_ref_sink (payload);
  frame->after = storage + before_size;
  frame->after_size = after_size;
  frame->written = 0;
  frame->link.data = frame;
  frame->link.prev = frame->link.next = NULL;
  frame->fd_owner = NULL;
  frame->fds = NULL;
  frame->n_fds = 0;
  frame->fds_due = FALSE;

  envelope_size = WP_WIRE_ENVELOPE_PREFIX + before_size + g_variant_get_size (payload) + after_size;
  g_assert (envelope_size <= WP_WIRE_MAX_FRAME_LIMIT);
  frame->size = WP_WIRE_HEADER_SIZE + envelope_size;

  put_le32 (frame->head, (guint32) envelope_size);
  put_le32 (frame->head + 4, WP_WIRE_MAGIC);
  frame->head[WP_WIRE_HEADER_SIZE] = (guint8) kind;
  put_le64 (frame->head + WP_WIRE_HEADER_SIZE + 8, job_id);

  return frame;
}

/* A frame whose envelope holds @body (sunk if floating): after the body's
 * data, "\0" and its type. */
WpWireFrame *
wp_wire_frame_new (WpWireKind  kind,
                   guint64     job_id,
                   GVariant   *body)
{
  const char *type = g_variant_get_type_string (body);
  gsize type_size = strlen (type);
  WpWireFrame *frame = frame_new (kind, job_id, 0, body, 1 + type_size);
  guint8 *end = (guint8 *) frame->after;

  end[0] = '\0';
  memcpy (end + 1, type, type_size);
  return frame;
}

static guint8 *
put_le (guint8  *p,
        guint64  value,
        gsize    width)
{
  for (gsize i = 0; i < width; i++)
    *p++ = (guint8) (value >> (8 * i));

  return p;
}

gsize
wp_wire_envelope_size (GVariant *body)
{
  return WP_WIRE_ENVELOPE_PREFIX + g_variant_get_size (body) + 1
         + strlen (g_variant_get_type_string (body));
}

/* Where the parts of a CALL body go, as wp_wire_frame_new_call() writes
 * them: for a pool to size a job when it is submitted, and to build its
 * frame later without measuring anything again. */
void
wp_wire_call_layout_init (WpWireCallLayout *layout,
                          const char       *plugin,
                          const char       *function,
                          GVariant         *args)
{
  layout->plugin_end = strlen (plugin) + 1;
  layout->function_end = layout->plugin_end + strlen (function) + 1;
  layout->padding = (8 - layout->function_end % 8) % 8;
  layout->type_size = strlen (g_variant_get_type_string (args));
  layout->body_end = layout->function_end + layout->padding + g_variant_get_size (args) + 1
                     + layout->type_size;
  /* Two offsets; their width depends on the size they make. */
  layout->width = wp_variant_offset_size (wp_variant_framed_size (layout->body_end, 2));
}

/* The size of the frame's envelope: what a worker compares with its
 * limit. */
gsize
wp_wire_call_layout_envelope_size (const WpWireCallLayout *layout)
{
  return WP_WIRE_ENVELOPE_PREFIX + layout->body_end + 2 * layout->width + 1 + strlen ("(ssv)");
}

/* What the envelope of wp_wire_frame_new_call()'s frame will be. */
gsize
wp_wire_call_envelope_size (const char *plugin,
                            const char *function,
                            GVariant   *args)
{
  WpWireCallLayout layout;

  wp_wire_call_layout_init (&layout, plugin, function, args);
  return wp_wire_call_layout_envelope_size (&layout);
}

/* A CALL frame, its body (ssv) = (plugin, function, args) serialised here
 * in normal form around the arguments' own data, so that building the
 * request copies none of it: the two strings, zeros up to 8-byte
 * alignment, the variant (args, "\0", args' type), then the ends of the
 * two strings, last one first, each as wide as the tuple's size needs.
 * This runs once per job: each part is written into a buffer of its
 * exact size. */
WpWireFrame *
wp_wire_frame_new_call (guint64                 job_id,
                        const char             *plugin,
                        const char             *function,
                        GVariant               *args,
                        const WpWireCallLayout *layout)
{
  static const char tuple_end[] = "\0(ssv)";
  const char *args_type = g_variant_get_type_string (args);
  gsize before_size, after_size;
  guint8 *before, *p;
  WpWireFrame *frame;
  WpWireCallLayout own;

  if (layout == NULL)
    {
      wp_wire_call_layout_init (&own, plugin, function, args);
      layout = &own;
    }
  before_size = layout->function_end + layout->padding;
  after_size = 1 + layout->type_size + 2 * layout->width + sizeof tuple_end - 1;

  frame = frame_new (WP_WIRE_CALL, job_id, before_size, args, after_size);
  before = (guint8 *) frame->before;
  memcpy (before, plugin, layout->plugin_end);
  memcpy (before + layout->plugin_end, function, layout->function_end - layout->plugin_end);
  memset (before + layout->function_end, 0, layout->padding);

  p = (guint8 *) frame->after;
  *p++ = '\0';
  memcpy (p, args_type, layout->type_size);
  p = put_le (p + layout->type_size, layout->function_end, layout->width);
  p = put_le (p, layout->plugin_end, layout->width);
  memcpy (p, tuple_end, sizeof tuple_end - 1);

  return frame;
}

/* Makes @frame (a CALL's, not yet written) a CALL_FDS, whose @fds, kept
 * alive by a reference to @fd_owner, its writer sends first. */
void
wp_wire_frame_set_fds (WpWireFrame *frame,
                       GObject     *fd_owner,
                       const int   *fds,
                       guint        n_fds)
{
  g_assert (frame->head[WP_WIRE_HEADER_SIZE] == WP_WIRE_CALL && frame->written == 0);
  g_assert (n_fds <= WP_WIRE_MAX_FDS);

  frame->head[WP_WIRE_HEADER_SIZE] = WP_WIRE_CALL_FDS;
  frame->fd_owner = fd_owner != NULL ? g_object_ref (fd_owner) : NULL;
  frame->fds = fds;
  frame->n_fds = n_fds;
  frame->fds_due = TRUE;
}

void
wp_wire_frame_free (WpWireFrame *frame)
{
  if (frame == NULL)
    return;

  g_clear_object (&frame->fd_owner);
  g_variant_unref (frame->payload);
  g_free (frame);
}

gsize
wp_wire_frame_size (const WpWireFrame *frame)
{
  return frame->size;
}

/* Fills @iov with what remains to be written from @frame's parts, and
 * returns how many entries it used. */
static int
frame_remaining (WpWireFrame  *frame,
                 struct iovec  iov[4])
{
  struct { const guint8 *data; gsize size; } parts[4] = {
    { frame->head, sizeof frame->head },
    { frame->before, frame->before_size },
    { g_variant_get_data (frame->payload), g_variant_get_size (frame->payload) },
    { frame->after, frame->after_size },
  };
  gsize skip = frame->written;
  int n_iov = 0;

  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      if (skip >= parts[i].size)
        {
          skip -= parts[i].size;
          continue;
        }
      iov[n_iov].iov_base = (guint8 *) parts[i].data + skip;
      iov[n_iov].iov_len = parts[i].size - skip;
      n_iov++;
      skip = 0;
    }

  return n_iov;
}

/* Writes what @fd takes of the rest of @frame.  Sets *complete when the
 * whole frame is out.  A full non-blocking pipe is not an error. */
gboolean
wp_wire_frame_write (WpWireFrame  *frame,
                     int           fd,
                     gboolean     *complete,
                     GError      **error)
{
  *complete = FALSE;

  while (frame->written < frame->size)
    {
      struct iovec iov[4];
      ssize_t n = writev (fd, iov, frame_remaining (frame, iov));

      if (n < 0)
        {
          int saved_errno = errno;

          if (saved_errno == EINTR)
            continue;
          if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)
            return TRUE;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Cannot write to the pipe: %s", g_strerror (saved_errno));
          return FALSE;
        }

      frame->written += (gsize) n;
    }

  *complete = TRUE;
  return TRUE;
}

/* For blocking descriptors: writes the whole frame or fails. */
gboolean
wp_wire_frame_write_all (WpWireFrame  *frame,
                         int           fd,
                         GError      **error)
{
  gboolean complete = FALSE;

  while (!complete)
    if (!wp_wire_frame_write (frame, fd, &complete, error))
      return FALSE;

  return TRUE;
}

/* Decoding */

/* The body type of each kind; NULL for "any type". */
static gboolean
body_type_for_kind (WpWireKind   kind,
                    const char **type)
{
  switch (kind)
    {
    case WP_WIRE_CALL:     *type = "(ssv)";  return TRUE;
    case WP_WIRE_DESCRIBE: *type = "(s)";    return TRUE;
    case WP_WIRE_CALL_FDS: *type = "(ssv)";  return TRUE;
    case WP_WIRE_CANCEL:   *type = "()";     return TRUE;
    case WP_WIRE_HELLO:    *type = "(uis)";  return TRUE;
    case WP_WIRE_LOADED:   *type = "(sttx)"; return TRUE;
    case WP_WIRE_RESULT:   *type = NULL;     return TRUE;
    case WP_WIRE_ERROR:    *type = "(sis)";  return TRUE;
    case WP_WIRE_RESULT_FDS: *type = NULL;   return TRUE;
    default:               *type = NULL;     return FALSE;
    }
}

static guint64
get_le64 (const guint8 *p)
{
  guint64 value;

  memcpy (&value, p, sizeof value);
  return GUINT64_FROM_LE (value);
}

/* @owner: NULL to copy the child's bytes out of @data (a small frame in
 * the reader's buffer), else the GBytes @data lies in.  @type_cache: NULL,
 * or the last type string found valid, reused when the same comes again
 * (byte for byte: the same verdict). */
static gboolean
decode_data (const guint8   *data,
             gsize           size,
             GBytes         *owner,
             char          **type_cache,
             WpWireMessage  *message,
             GError        **error)
{
  g_autoptr(GBytes) child_bytes = NULL;
  g_autoptr(GVariant) child = NULL;
  g_autofree char *type_string = NULL;
  const GVariantType *type;
  const char *expected_type;
  const char *type_data;
  const char *end;
  const guint8 *variant;
  gsize variant_size, child_size, type_size;

  if (size < WP_WIRE_ENVELOPE_PREFIX + 2)
    return wp_wire_protocol_error (error, "Malformed message (%" G_GSIZE_FORMAT " bytes)", size);

  for (guint i = 1; i < 8; i++)
    if (data[i] != 0)
      return wp_wire_protocol_error (error, "Malformed message (padding is not zero)");

  if (!body_type_for_kind (data[0], &expected_type))
    return wp_wire_protocol_error (error, "Unknown message kind %u", data[0]);

  /* The variant: the child's data, a zero byte, the child's type. */
  variant = data + WP_WIRE_ENVELOPE_PREFIX;
  variant_size = size - WP_WIRE_ENVELOPE_PREFIX;
  for (child_size = variant_size - 1; child_size > 0; child_size--)
    if (variant[child_size] == '\0')
      break;
  type_data = (const char *) variant + child_size + 1;
  type_size = variant_size - child_size - 1;

  if (type_cache != NULL && *type_cache != NULL && variant[child_size] == '\0'
      && strlen (*type_cache) == type_size && memcmp (*type_cache, type_data, type_size) == 0)
    {
      type = (const GVariantType *) *type_cache;
    }
  else
    {
      /* Checked once here; the casts below need no G_VARIANT_TYPE(), which
       * would validate the string again at every use. */
      type_string = g_strndup (type_data, type_size);
      if (variant[child_size] != '\0'
          || strlen (type_string) != type_size
          || !g_variant_type_string_scan (type_string, NULL, &end) || *end != '\0'
          || !g_variant_type_is_definite ((const GVariantType *) type_string))
        return wp_wire_protocol_error (error, "Malformed message (no valid type for its body)");
      if (type_cache != NULL)
        {
          g_free (*type_cache);
          *type_cache = g_strdup (type_string);
        }
      type = (const GVariantType *) type_string;
    }

  if (expected_type != NULL && strcmp ((const char *) type, expected_type) != 0)
    return wp_wire_protocol_error (error, "Message of kind %u has a body of type %s, not %s",
                                   data[0], (const char *) type, expected_type);

  if (owner != NULL)
    child_bytes = g_bytes_new_from_bytes (owner, (gsize) (variant - (const guint8 *) g_bytes_get_data (owner, NULL)), child_size);
  else
    child_bytes = g_bytes_new (variant, child_size);
  child = g_variant_ref_sink (g_variant_new_from_bytes (type, child_bytes, FALSE));
  if (!wp_variant_is_normal_form_in_variant (child, 1))
    return wp_wire_protocol_error (error, "Malformed message (%" G_GSIZE_FORMAT " bytes, its %s body "
                                   "is not in normal form)", size, (const char *) type);

  /* Not re-made with trusted = TRUE, though it would spare GLib some
   * checks per child taken out: GLib then trusts strings to be terminated,
   * and a flaw in our check must not become an over-read. */

  message->kind = data[0];
  message->job_id = get_le64 (data + 8);
  message->body = g_steal_pointer (&child);

  return TRUE;
}

/* Decodes the envelope "(ytv)" by hand (see wp-wire-private.h): its
 * normal form is the kind, seven zero bytes, the id, and a variant whose
 * child is in normal form at depth 2, which is what
 * g_variant_is_normal_form() would check of the whole. */
gboolean
wp_wire_decode (GBytes         *body,
                WpWireMessage  *message,
                GError        **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (body, &size);

  return decode_data (data, size, body, NULL, message, error);
}

WpWireReader *
wp_wire_reader_new (gsize max_frame)
{
  WpWireReader *reader = g_new0 (WpWireReader, 1);

  reader->max_frame = MIN (max_frame, WP_WIRE_MAX_FRAME_LIMIT);
  return reader;
}

void
wp_wire_reader_free (WpWireReader *reader)
{
  if (reader == NULL)
    return;

  g_free (reader->buffer);
  g_free (reader->type_cache);
  g_free (reader);
}

/* Makes room for @needed bytes from reader->start on. */
static void
reader_reserve (WpWireReader *reader,
                gsize         needed)
{
  if (reader->start > 0 && reader->capacity - reader->start < needed)
    {
      memmove (reader->buffer, reader->buffer + reader->start, reader->end - reader->start);
      reader->end -= reader->start;
      reader->start = 0;
    }

  if (reader->capacity - reader->start < needed)
    {
      reader->capacity = reader->start + needed;
      reader->buffer = g_realloc (reader->buffer, reader->capacity);
    }
}

/* Hands the frame at reader->start, of @frame_size bytes (header included),
 * out as a GBytes of its body. */
static GBytes *
reader_take_body (WpWireReader *reader,
                  gsize         frame_size)
{
  gsize body_size = frame_size - WP_WIRE_HEADER_SIZE;
  GBytes *body;

  if (body_size >= STEAL_THRESHOLD && reader->start == 0)
    {
      gsize rest = reader->end - frame_size;
      guint8 *old = g_steal_pointer (&reader->buffer);
      g_autoptr(GBytes) whole = g_bytes_new_take (old, frame_size);

      body = g_bytes_new_from_bytes (whole, WP_WIRE_HEADER_SIZE, body_size);
      reader->capacity = MAX (READ_CHUNK, rest);
      reader->buffer = g_malloc (reader->capacity);
      memcpy (reader->buffer, old + frame_size, rest);
      reader->start = 0;
      reader->end = rest;
      return body;
    }

  body = g_bytes_new (reader->buffer + reader->start + WP_WIRE_HEADER_SIZE, body_size);
  reader->start += frame_size;
  if (reader->start == reader->end)
    reader->start = reader->end = 0;

  return body;
}

/* If a whole frame is buffered, sets *frame_size to its size (header
 * included) and returns TRUE.  Otherwise sets *frame_size to the number
 * of bytes needed to know more, and returns FALSE. */
static gboolean
reader_frame_ready (WpWireReader  *reader,
                    gsize         *frame_size,
                    GError       **error)
{
  gsize available = reader->end - reader->start;
  const guint8 *header;
  guint32 body_size;

  *frame_size = WP_WIRE_HEADER_SIZE;
  if (available < WP_WIRE_HEADER_SIZE)
    return FALSE;

  /* Not before: a reader that has read nothing has no buffer, and
   * NULL + 0 is undefined behaviour. */
  header = reader->buffer + reader->start;

  if (get_le32 (header + 4) != WP_WIRE_MAGIC)
    return wp_wire_protocol_error (error, "Not a workpool frame (bad magic %08x)", get_le32 (header + 4));

  body_size = get_le32 (header);
  if (body_size > reader->max_frame)
    return wp_wire_protocol_error (error, "Frame of %u bytes is over the limit of %" G_GSIZE_FORMAT " bytes",
                           body_size, reader->max_frame);

  *frame_size = WP_WIRE_HEADER_SIZE + (gsize) body_size;
  return available >= *frame_size;
}

/* Whether bytes read are waiting in the buffer: then the next call may
 * return a message without the descriptor becoming readable again. */
gboolean
wp_wire_reader_has_data (WpWireReader *reader)
{
  return reader->end > reader->start;
}

WpWireReadStatus
wp_wire_reader_next (WpWireReader   *reader,
                     int             fd,
                     WpWireMessage  *message,
                     GError        **error)
{
  GError *local_error = NULL;
  gsize frame_size;
  ssize_t n;

  if (!reader_frame_ready (reader, &frame_size, &local_error))
    {
      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return WP_WIRE_READ_ERROR;
        }

      reader_reserve (reader, MAX (frame_size, READ_CHUNK));
      do
        n = read (fd, reader->buffer + reader->end, reader->capacity - reader->end);
      while (n < 0 && errno == EINTR);

      if (n < 0)
        {
          int saved_errno = errno;

          if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)
            return WP_WIRE_READ_AGAIN;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Cannot read from the pipe: %s", g_strerror (saved_errno));
          return WP_WIRE_READ_ERROR;
        }

      if (n == 0)
        {
          if (reader->end == reader->start)
            return WP_WIRE_READ_EOF;

          wp_wire_protocol_error (error, "The pipe closed in the middle of a frame");
          return WP_WIRE_READ_ERROR;
        }

      reader->end += (gsize) n;
      if (!reader_frame_ready (reader, &frame_size, &local_error))
        {
          if (local_error != NULL)
            {
              g_propagate_error (error, local_error);
              return WP_WIRE_READ_ERROR;
            }
          return WP_WIRE_READ_AGAIN;
        }
    }

  if (frame_size - WP_WIRE_HEADER_SIZE < STEAL_THRESHOLD || reader->start != 0)
    {
      /* In place: only the child's bytes are copied out. */
      const guint8 *data = reader->buffer + reader->start + WP_WIRE_HEADER_SIZE;
      gboolean ok;

      ok = decode_data (data, frame_size - WP_WIRE_HEADER_SIZE, NULL, &reader->type_cache,
                        message, error);
      reader->start += frame_size;
      if (reader->start == reader->end)
        reader->start = reader->end = 0;
      if (!ok)
        return WP_WIRE_READ_ERROR;
    }
  else
    {
      g_autoptr(GBytes) body = reader_take_body (reader, frame_size);
      gsize size;
      const guint8 *data = g_bytes_get_data (body, &size);

      if (!decode_data (data, size, body, &reader->type_cache, message, error))
        return WP_WIRE_READ_ERROR;
    }

  return WP_WIRE_READ_MESSAGE;
}

/* Bodies */

/* The longest description of a sandbox a worker may send. */
#define MAX_SANDBOX_DESCRIPTION 256

/* A HELLO body "(uis)": the worker must speak our protocol version.
 * @sandbox: the mechanisms of the worker's sandbox, "" for none. */
gboolean
wp_wire_hello_check (GVariant    *body,
                     const char **sandbox,
                     GError     **error)
{
  guint32 version;
  gint32 pid;
  gsize length;

  g_variant_get (body, "(ui&s)", &version, &pid, sandbox);
  if (version != WP_WIRE_PROTOCOL_VERSION)
    return wp_wire_protocol_error (error, "Worker speaks protocol version %u, not %u",
                                   version, WP_WIRE_PROTOCOL_VERSION);
  length = strlen (*sandbox);
  if (length > MAX_SANDBOX_DESCRIPTION)
    return wp_wire_protocol_error (error, "Worker describes its sandbox in %" G_GSIZE_FORMAT
                                   " bytes, more than %d", length, MAX_SANDBOX_DESCRIPTION);
  return TRUE;
}

/* A LOADED body "(sttx)": fills @id, returns the plugin's name. */
const char *
wp_wire_loaded_get (GVariant       *body,
                    WpPluginFileId *id)
{
  const char *plugin;

  g_variant_get (body, "(&sttx)", &plugin, &id->dev, &id->ino, &id->mtime_ns);
  return plugin;
}

/* The RESULT of a DESCRIBE job must be what wp_pool_describe_finish()
 * promises. */
gboolean
wp_wire_description_check (GVariant  *result,
                           GError   **error)
{
  if (!g_variant_is_of_type (result, G_VARIANT_TYPE ("(sssa(ssss))")))
    return wp_wire_protocol_error (error, "Worker described a plugin with a value of type %s",
                                   g_variant_get_type_string (result));
  return TRUE;
}

static gsize
get_le (const guint8 *p,
        gsize         width)
{
  guint64 value = 0;

  for (gsize i = 0; i < width; i++)
    value |= (guint64) p[i] << (8 * i);

  return (gsize) value;
}

/* Reads back what wp_wire_frame_new_call() wrote: fills @layout from the
 * @size bytes of a CALL body, and sets *type_start to where the
 * arguments' type string begins (after the zero byte that ends their
 * data).  A body in normal form always passes; for any other, FALSE
 * unless every offset lies inside the body, each string ends in a zero
 * byte within it and the variant ends in a definite type, so nothing is
 * read outside the body whatever its bytes. */
static gboolean
call_layout_read (WpWireCallLayout *layout,
                  gsize            *type_start,
                  const guint8     *data,
                  gsize             size)
{
  const char *type;
  const char *end;
  gsize args_start, zero;

  if (size == 0)
    return FALSE;

  /* The ends of the two strings, the first one last. */
  layout->width = wp_variant_offset_size (size);
  if (size < 2 * layout->width)
    return FALSE;
  layout->body_end = size - 2 * layout->width;
  layout->plugin_end = get_le (data + size - layout->width, layout->width);
  layout->function_end = get_le (data + layout->body_end, layout->width);
  if (layout->plugin_end == 0 || layout->plugin_end >= layout->function_end
      || layout->function_end > layout->body_end
      || data[layout->plugin_end - 1] != '\0' || data[layout->function_end - 1] != '\0')
    return FALSE;

  /* The variant: at 8-byte alignment, and at least its zero byte long. */
  layout->padding = (8 - layout->function_end % 8) % 8;
  args_start = layout->function_end + layout->padding;
  if (args_start >= layout->body_end)
    return FALSE;

  /* Its last zero byte ends the arguments' data, as GLib finds it. */
  for (zero = layout->body_end - 1; zero > args_start; zero--)
    if (data[zero] == '\0')
      break;
  if (data[zero] != '\0')
    return FALSE;

  type = (const char *) data + zero + 1;
  layout->type_size = layout->body_end - zero - 1;
  if (!g_variant_type_string_scan (type, (const char *) data + layout->body_end, &end)
      || end != (const char *) data + layout->body_end
      || !g_variant_type_is_definite ((const GVariantType *) type))
    return FALSE;

  *type_start = zero + 1;
  return TRUE;
}

/* GLib's children of @body; see wp_wire_call_get(). */
static GVariant *
call_get_children (GVariant    *body,
                   const char **plugin,
                   const char **function)
{
  g_autoptr(GVariant) plugin_child = g_variant_get_child_value (body, 0);
  g_autoptr(GVariant) function_child = g_variant_get_child_value (body, 1);
  g_autoptr(GVariant) boxed_args = g_variant_get_child_value (body, 2);

  /* A serialised child shares its container's bytes, so the strings stay
   * valid as long as @body (as g_variant_get_child() "&s" promises). */
  *plugin = g_variant_get_string (plugin_child, NULL);
  *function = g_variant_get_string (function_child, NULL);
  return g_variant_get_variant (boxed_args);
}

/* A CALL body "(ssv)", as wp_wire_decode() accepted it, so in normal
 * form: returns the arguments (a new reference) and points @plugin and
 * @function into @body.
 *
 * This runs once per job, and every child GLib takes out of an untrusted
 * value checks its framing again, which cost more than the rest of the
 * job's decoding.  Normal form leaves one layout, the one
 * wp_wire_frame_new_call() writes, so the strings are taken where they
 * stand and the arguments made from the bytes between their alignment
 * and their type: the same pointers, type and bytes as GLib's children,
 * and untrusted as those would be.  A body whose layout does not read back
 * (never one in normal form) goes to GLib's children.  Any other body
 * that is not normal is read only inside, but GLib might have given ""
 * or () where this gives its bytes as they are: hence the precondition. */
GVariant *
wp_wire_call_get (GVariant    *body,
                  const char **plugin,
                  const char **function)
{
  g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes (body);
  g_autoptr(GBytes) args_bytes = NULL;
  gsize size, args_start, type_start;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  WpWireCallLayout layout;

  if (!call_layout_read (&layout, &type_start, data, size))
    return call_get_children (body, plugin, function);

  args_start = layout.function_end + layout.padding;
  args_bytes = g_bytes_new_from_bytes (bytes, args_start, type_start - 1 - args_start);
  *plugin = (const char *) data;
  *function = (const char *) data + layout.plugin_end;
  return g_variant_ref_sink (g_variant_new_from_bytes ((const GVariantType *) (data + type_start),
                                                       args_bytes, FALSE));
}

/* A DESCRIBE body "(s)": the plugin's name. */
const char *
wp_wire_describe_get (GVariant *body)
{
  const char *plugin;

  g_variant_get (body, "(&s)", &plugin);
  return plugin;
}

/* The arguments of a CALL, already in normal form, must be of the
 * function's @args_type (a valid type string). */
gboolean
wp_wire_args_check (GVariant    *args,
                    const char  *plugin,
                    const char  *function,
                    const char  *args_type,
                    GError     **error)
{
  if (g_variant_is_of_type (args, G_VARIANT_TYPE (args_type)))
    return TRUE;

  g_set_error (error, WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS,
               "%s.%s takes arguments of type %s, not %s", plugin, function,
               args_type, g_variant_get_type_string (args));
  return FALSE;
}

/* Errors */

GVariant *
wp_wire_error_to_variant (const GError *error)
{
  return g_variant_new ("(sis)", g_quark_to_string (error->domain), error->code,
                        error->message != NULL ? error->message : "");
}

static gboolean
domain_is_plausible (const char *domain)
{
  gsize length = strlen (domain);

  if (length == 0 || length > MAX_DOMAIN_LEN)
    return FALSE;

  for (const char *p = domain; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;

  return TRUE;
}

/* The quark of @domain: the existing one, or a new one while fewer than
 * MAX_NEW_DOMAINS were added this way (in any thread); 0 past that. */
static GQuark
domain_quark (const char *domain)
{
  static gint n_new_domains = 0;
  GQuark quark = g_quark_try_string (domain);

  if (quark != 0)
    return quark;
  if (g_atomic_int_add (&n_new_domains, 1) >= MAX_NEW_DOMAINS)
    return 0;

  return g_quark_from_string (domain);
}

/* Rebuilds an error from a WP_WIRE_ERROR body.  The domain comes back as
 * the same quark.  Quarks are never freed, so a worker must not be able to
 * grow the host without bound: a domain that no GLib program could have
 * made, or a new domain once MAX_NEW_DOMAINS were added (a plugin has one
 * or two, the host's own program knows its own already), is reported as
 * a protocol error instead. */
GError *
wp_wire_error_from_variant (GVariant *body)
{
  const char *domain;
  const char *message;
  gint32 code;
  GQuark quark;

  g_variant_get (body, "(&si&s)", &domain, &code, &message);

  if (!domain_is_plausible (domain))
    return g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_PROTOCOL,
                        "Worker sent an error with an invalid domain (message: %s)", message);

  quark = domain_quark (domain);
  if (quark == 0)
    return g_error_new (WP_POOL_ERROR, WP_POOL_ERROR_PROTOCOL,
                        "Worker sent an error in domain %s, over the %u new error domains "
                        "a process accepts from workers (message: %s)",
                        domain, MAX_NEW_DOMAINS, message);

  return g_error_new_literal (quark, code, message);
}
