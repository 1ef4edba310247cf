/* make-wire-corpus.c: writes the seed corpora of the two wire harnesses.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every seed is made by the real encoder (wp_wire_frame_new(),
 * wp_wire_frame_new_call()), so the seeds follow the wire format when it
 * changes.  Regenerate them from the top of the tree with
 *
 *   build/tests/fuzz/make-wire-corpus tests/fuzz/corpus
 *
 * which rewrites the gen-*.bin files of corpus/wire-host and
 * corpus/wire-worker (the other seeds there are kept).
 * Each seed starts with the chunk-size byte of fuzz-feed.c: a stream is
 * written once whole (0) and once a byte at a time (1) or in 7-byte
 * chunks, so the reader's buffering is covered from the start.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "wp-wire-private.h"
#include "wp-wire-fds-private.h"

typedef struct {
  WpWireKind  kind;
  guint64     job_id;
  const char *body;      /* GVariant text format; NULL: "(ay)" of large bytes */
  const char *plugin;    /* CALL only: plugin, function, and body as args */
  const char *function;
  gsize       large;
} Frame;

typedef struct {
  const char  *name;
  guint8       chunk;
  const Frame *frames;   /* ends with kind 0 */
} Stream;

#define END { 0, 0, NULL, NULL, NULL, 0 }

static const Frame hello[] = {
  { WP_WIRE_HELLO, 0, "(uint32 4, 4242, 'landlock (ABI 7), seccomp, no-new-privs, rlimits')", NULL, NULL, 0 }, END };
static const Frame hello_version_2[] = {
  { WP_WIRE_HELLO, 0, "(uint32 2, 4242, '')", NULL, NULL, 0 }, END };
static const Frame job_result[] = {
  { WP_WIRE_HELLO, 0, "(uint32 4, 4242, '')", NULL, NULL, 0 },
  { WP_WIRE_LOADED, 1, "('demo', uint64 2049, uint64 131, int64 1700000000000000000)", NULL, NULL, 0 },
  { WP_WIRE_RESULT, 1, "(5,)", NULL, NULL, 0 },
  END };
static const Frame job_error[] = {
  { WP_WIRE_HELLO, 0, "(uint32 4, 4242, '')", NULL, NULL, 0 },
  { WP_WIRE_ERROR, 7, "('g-io-error-quark', 13, 'Division by zero')", NULL, NULL, 0 },
  { WP_WIRE_ERROR, 8, "('not a domain!', 1, 'bad')", NULL, NULL, 0 },
  END };
static const Frame description[] = {
  { WP_WIRE_RESULT, 3, "('demo', '1.0', 'Demo functions', "
                       "[('add', '(ii)', '(i)', 'Adds two integers')])", NULL, NULL },
  END };
static const Frame results[] = {
  { WP_WIRE_RESULT, 4, "(<(1, 'two', [3.0, 4.5])>, {'a': <byte 1>}, [@ms 'x', nothing])", NULL, NULL, 0 },
  { WP_WIRE_RESULT, 5, "(b'bytes', [(uint16 1, int64 -2)], objectpath '/a', signature 'a{sv}')", NULL, NULL, 0 },
  END };
/* Over the reader's 16 KiB threshold: a body that keeps the reader's
 * buffer, after a frame that makes the reader move what it holds. */
static const Frame large_results[] = {
  { WP_WIRE_HELLO, 0, "(uint32 4, 4242, '')", NULL, NULL, 0 },
  { WP_WIRE_RESULT, 1, NULL, NULL, NULL, 17000 },
  { WP_WIRE_RESULT, 2, "(2,)", NULL, NULL, 0 },
  { WP_WIRE_RESULT, 3, NULL, NULL, NULL, 17000 },
  END };
static const Frame results_with_fds[] = {
  { WP_WIRE_RESULT_FDS, 1, "(handle 0, [('a', handle 2), ('b', handle 1)])", NULL, NULL, 0 },
  { WP_WIRE_RESULT_FDS, 2, "(handle 5,)", NULL, NULL, 0 },
  END };
static const Frame host_sends[] = {
  { WP_WIRE_CANCEL, 1, "()", NULL, NULL, 0 }, END };

static const Frame call_add[] = {
  { WP_WIRE_CALL, 1, "(2, 3)", "demo", "add" }, END };
static const Frame call_thumbnails[] = {
  { WP_WIRE_CALL, 2, "('a.jpg', [('t/a-256.jpg', 256, 256), ('t/a-64.jpg', 64, 64)], 80)",
    "thumbnail", "thumbnails_q" },
  END };
static const Frame call_echo[] = {
  { WP_WIRE_CALL, 3, "(<{'k': <[1, 2]>}>,)", "echo", "echo" },
  { WP_WIRE_CALL, 4, "(b'\\x00\\x01\\x02',)", "echo", "echo_bytes" },
  END };
static const Frame call_wrong_args[] = {
  { WP_WIRE_CALL, 5, "('two', 3)", "demo", "add" },
  { WP_WIRE_CALL, 6, "()", "../etc", "x" },
  END };
static const Frame call_large[] = {
  { WP_WIRE_DESCRIBE, 1, "('echo',)", NULL, NULL, 0 },
  { WP_WIRE_CALL, 2, NULL, "echo", "echo_bytes", 17000 },
  { WP_WIRE_CALL, 3, NULL, "echo", "echo_bytes", 17000 },
  END };
static const Frame describe_cancel[] = {
  { WP_WIRE_DESCRIBE, 9, "('thumbnail',)", NULL, NULL, 0 },
  { WP_WIRE_CANCEL, 9, "()", NULL, NULL, 0 },
  END };
static const Frame call_with_fds[] = {
  { WP_WIRE_CALL_FDS, 1, "(handle 2, handle 1)", "fds", "copy" },
  { WP_WIRE_CALL_FDS, 2, "([('a', handle 0), ('b', handle 7)],)", "fds", "label" },
  { WP_WIRE_CALL_FDS, 3, "(<handle 1>,)", "echo", "echo" },
  END };
static const Frame worker_sends[] = {
  { WP_WIRE_RESULT, 1, "(1,)", NULL, NULL, 0 }, END };

static const Stream host_streams[] = {
  { "hello", 0, hello }, { "hello-bytewise", 1, hello },
  { "hello-version-2", 0, hello_version_2 },
  { "job-result", 0, job_result }, { "job-result-7", 7, job_result },
  { "job-error", 0, job_error },
  { "description", 0, description },
  { "results", 0, results }, { "results-bytewise", 1, results },
  { "large-results", 0, large_results },
  { "host-sends", 0, host_sends },
  { "results-with-fds", 0, results_with_fds },
};

static const Stream worker_streams[] = {
  { "call-add", 0, call_add }, { "call-add-bytewise", 1, call_add },
  { "call-thumbnails", 0, call_thumbnails }, { "call-thumbnails-7", 7, call_thumbnails },
  { "call-echo", 0, call_echo },
  { "call-wrong-args", 0, call_wrong_args },
  { "call-large", 0, call_large },
  { "describe-cancel", 0, describe_cancel }, { "describe-cancel-bytewise", 1, describe_cancel },
  { "worker-sends", 0, worker_sends },
  { "call-with-fds", 0, call_with_fds }, { "call-with-fds-7", 7, call_with_fds },
};

static GVariant *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *value = g_variant_parse (NULL, text, NULL, NULL, &error);

  if (value == NULL)
    g_error ("Cannot parse %s: %s", text, error->message);
  return value;
}

static GVariant *
large_bytes (gsize size)
{
  g_autofree guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 7);
  return g_variant_ref_sink (g_variant_new ("(@ay)", g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                              data, size, 1)));
}

static void
write_stream (const char   *folder,
              const Stream *stream)
{
  g_autofree char *basename = g_strdup_printf ("gen-%s.bin", stream->name);
  g_autofree char *path = g_build_filename (folder, basename, NULL);
  g_autoptr(GError) error = NULL;
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  if (fd < 0 || write (fd, &stream->chunk, 1) != 1)
    g_error ("Cannot write %s: %s", path, g_strerror (errno));

  for (const Frame *f = stream->frames; f->kind != 0; f++)
    {
      g_autoptr(WpWireFrame) frame = NULL;
      GVariant *body = f->body != NULL ? parse (f->body) : large_bytes (f->large);

      if (f->kind == WP_WIRE_CALL || f->kind == WP_WIRE_CALL_FDS)
        {
          frame = wp_wire_frame_new_call (f->job_id, f->plugin, f->function, body, NULL);
          /* Only the frame: the harness stands for its descriptors. */
          if (f->kind == WP_WIRE_CALL_FDS)
            wp_wire_frame_set_fds (frame, NULL, NULL, 0);
        }
      else
        frame = wp_wire_frame_new (f->kind, f->job_id, body);
      g_variant_unref (body);

      if (!wp_wire_frame_write_all (frame, fd, &error))
        g_error ("Cannot write %s: %s", path, error->message);
    }

  close (fd);
  g_print ("%s\n", path);
}

static void
write_corpus (const char   *top,
              const char   *harness,
              const Stream *streams,
              gsize         n_streams)
{
  g_autofree char *folder = g_build_filename (top, harness, NULL);

  if (g_mkdir_with_parents (folder, 0755) != 0)
    g_error ("Cannot make %s: %s", folder, g_strerror (errno));
  for (gsize i = 0; i < n_streams; i++)
    write_stream (folder, &streams[i]);
}

int
main (int    argc,
      char **argv)
{
  if (argc != 2)
    {
      g_printerr ("usage: %s CORPUS_FOLDER (tests/fuzz/corpus)\n", argv[0]);
      return EXIT_FAILURE;
    }

  write_corpus (argv[1], "wire-host", host_streams, G_N_ELEMENTS (host_streams));
  write_corpus (argv[1], "wire-worker", worker_streams, G_N_ELEMENTS (worker_streams));
  return EXIT_SUCCESS;
}
