/* wp-wire-private.h: the frames that travel between the pool and its
 * workers.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "wp-error-private.h"
#include "wp-plugin-dir-private.h"

G_BEGIN_DECLS

/* 2: the page of claims (wp-claim-private.h), which a worker must honour
 * before it runs a job: one of version 1 would run jobs taken back.
 * 3: file descriptors in jobs (wp-wire-fds-private.h).
 * 5: workers behind a launcher (--remote): CANCEL on the request stream.
 * A worker installed on another machine may be of another version; HELLO
 * says so. */
#define WP_WIRE_PROTOCOL_VERSION  5
#define WP_WIRE_HEADER_SIZE       8
#define WP_WIRE_MAGIC             0x31305057u  /* "WP01", little-endian */
#define WP_WIRE_DEFAULT_MAX_FRAME (256u * 1024 * 1024)
#define WP_WIRE_MAX_FRAME_LIMIT   (G_MAXUINT32 - 64u)
/* The smallest limit a pool accepts: room for every frame of the
 * protocol itself, and for an ERROR frame naming two sizes. */
#define WP_WIRE_MIN_MAX_FRAME     4096u

/* A worker's descriptors besides 0 (requests), 1 (replies) and 2
 * (stderr): CANCEL frames from the host, and the page of claims
 * (wp-claim-private.h). */
#define WP_WIRE_CONTROL_FD        3
#define WP_WIRE_CLAIMS_FD         4

/* What a frame carries, and the type of its body.  The job id is 0 where
 * a kind concerns no job. */
typedef enum {
  /* host → worker, on the request pipe */
  WP_WIRE_CALL     = 1,   /* (ssv): plugin, function, arguments */
  WP_WIRE_DESCRIBE = 2,   /* (s): plugin */
  WP_WIRE_CALL_FDS = 4,   /* (ssv), as CALL, with descriptors (wp-wire-fds.c) */
  /* host → worker, on the control pipe (on the request stream for a
   * worker behind a launcher) */
  WP_WIRE_CANCEL   = 3,   /* (): cancel the job with this id */
  /* worker → host, on the reply pipe */
  WP_WIRE_HELLO    = 16,  /* (uis): protocol version, pid, the sandbox's
                           * mechanisms ("" for none); the worker is ready */
  WP_WIRE_LOADED   = 17,  /* (sttx): plugin, device, inode, mtime in ns */
  WP_WIRE_RESULT   = 18,  /* the job's result, any type */
  WP_WIRE_ERROR    = 19,  /* (sis): the job's error: domain, code, message */
  WP_WIRE_RESULT_FDS = 20, /* as RESULT, with descriptors (wp-wire-fds.c) */
} WpWireKind;

typedef struct {
  WpWireKind  kind;
  guint64     job_id;
  GVariant   *body;     /* owned; never floating */
} WpWireMessage;

void          wp_wire_message_clear      (WpWireMessage  *message);

/* Encoding.  A frame is an 8-byte header (body length and magic, both
 * 32-bit little-endian) and a body, the GVariant "(ytv)" = (kind, job id,
 * body) in normal form.  That tuple has no framing offsets: the kind, 7
 * zero bytes, the id, then the variant (the body's data, a zero byte, the
 * body's type string), so it is written from its parts without copying
 * the body into a container. */
#define WP_WIRE_ENVELOPE_PREFIX 16

/* Where the parts of a CALL body go (wp_wire_call_layout_init()): the
 * ends of the two strings (their zeros included), the zeros before the
 * arguments, the length of their type string, the end of their variant,
 * and the width of each of the tuple's two offsets. */
typedef struct {
  gsize plugin_end;
  gsize function_end;
  gsize padding;
  gsize type_size;
  gsize body_end;
  gsize width;
} WpWireCallLayout;

void          wp_wire_call_layout_init   (WpWireCallLayout *layout,
                                          const char       *plugin,
                                          const char       *function,
                                          GVariant         *args);
gsize         wp_wire_call_layout_envelope_size (const WpWireCallLayout *layout);

typedef struct {
  guint8    head[WP_WIRE_HEADER_SIZE + WP_WIRE_ENVELOPE_PREFIX];
  const guint8 *before;  /* bytes of the body before @payload's data */
  gsize     before_size;
  GVariant *payload;     /* serialised; its data is written as it is */
  const guint8 *after;   /* bytes after it, to the end of the envelope */
  gsize     after_size;  /* before and after live in the frame's own block */
  gsize     size;        /* of the whole frame */
  gsize     written;
  GList     link;        /* for the writer's queue of frames; data is the frame */
  /* A CALL_FDS frame's descriptors, sent on the descriptor socket before
   * its first byte (wp-wire-fds.c); they belong to fd_owner, a reference. */
  GObject  *fd_owner;
  const int *fds;
  guint     n_fds;
  gboolean  fds_due;
} WpWireFrame;

WpWireFrame  *wp_wire_frame_new          (WpWireKind      kind,
                                          guint64         job_id,
                                          GVariant       *body);
WpWireFrame  *wp_wire_frame_new_call     (guint64         job_id,
                                          const char     *plugin,
                                          const char     *function,
                                          GVariant       *args,
                                          const WpWireCallLayout *layout);
void          wp_wire_frame_set_fds      (WpWireFrame    *frame,
                                          GObject        *fd_owner,
                                          const int      *fds,
                                          guint           n_fds);
void          wp_wire_frame_free         (WpWireFrame    *frame);

/* The size of a frame's envelope (the frame without its header, what a
 * reader compares with its maximum), computed without serialising
 * anything but @body or @args themselves. */
gsize         wp_wire_envelope_size      (GVariant       *body);
gsize         wp_wire_call_envelope_size (const char     *plugin,
                                          const char     *function,
                                          GVariant       *args);
gsize         wp_wire_frame_size         (const WpWireFrame *frame);
gboolean      wp_wire_frame_write        (WpWireFrame    *frame,
                                          int             fd,
                                          gboolean       *complete,
                                          GError        **error);
gboolean      wp_wire_frame_write_all    (WpWireFrame    *frame,
                                          int             fd,
                                          GError        **error);

/* Decoding.  Every byte that arrives is untrusted: lengths are bounded,
 * the body must be in normal form, each kind's body of its type. */
typedef enum {
  WP_WIRE_READ_MESSAGE,
  WP_WIRE_READ_AGAIN,
  WP_WIRE_READ_EOF,
  WP_WIRE_READ_ERROR,
} WpWireReadStatus;

typedef struct _WpWireReader WpWireReader;

WpWireReader *wp_wire_reader_new         (gsize           max_frame);
void          wp_wire_reader_free        (WpWireReader   *reader);
WpWireReadStatus
              wp_wire_reader_next        (WpWireReader   *reader,
                                          int             fd,
                                          WpWireMessage  *message,
                                          GError        **error);
gboolean      wp_wire_reader_has_data    (WpWireReader   *reader);
gboolean      wp_wire_decode             (GBytes         *body,
                                          WpWireMessage  *message,
                                          GError        **error);

/* Bodies.  What each end takes out of a message that wp_wire_decode()
 * accepted, so its body is of its kind's type and in normal form (which
 * wp_wire_call_get() relies on to read it by its offsets); the checks
 * that need no state of either end.  Strings point into @body. */
gboolean      wp_wire_hello_check        (GVariant       *body,
                                          const char    **sandbox,
                                          GError        **error);
const char   *wp_wire_loaded_get         (GVariant       *body,
                                          WpPluginFileId *id);
gboolean      wp_wire_description_check  (GVariant       *result,
                                          GError        **error);
GVariant     *wp_wire_call_get           (GVariant       *body,
                                          const char    **plugin,
                                          const char    **function);
const char   *wp_wire_describe_get       (GVariant       *body);
gboolean      wp_wire_args_check         (GVariant       *args,
                                          const char     *plugin,
                                          const char     *function,
                                          const char     *args_type,
                                          GError        **error);

/* Errors as bodies of WP_WIRE_ERROR, and WP_POOL_ERROR_PROTOCOL. */
#define wp_wire_protocol_error(error, ...) \
  wp_pool_error_fail ((error), WP_POOL_ERROR_PROTOCOL, __VA_ARGS__)
GVariant     *wp_wire_error_to_variant   (const GError   *error);
GError       *wp_wire_error_from_variant (GVariant       *body);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WpWireReader, wp_wire_reader_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WpWireFrame, wp_wire_frame_free)

G_END_DECLS
