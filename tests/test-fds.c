/* test-fds.c: file descriptors in jobs.
 *
 * Copyright 2026 The workpool authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Jobs of wp_pool_call_with_unix_fd_list_async() on the fds test plugin
 * (tests/plugins/fds.c), one worker per pool.  Every test ends with the
 * pool closed and the process holding exactly the descriptors it held
 * before the pool started a worker: whatever a job passed, received, or
 * failed with, nothing leaks in the host; where a worker lives on, its
 * own count of open descriptors shows nothing leaked there either.
 *
 *   /fds/round-trip/read        the worker reads a pipe the test wrote
 *   /fds/round-trip/write       … writes to a pipe the test reads
 *   /fds/round-trip/several     descriptors both ways in one job: copy from
 *                               one to another, then memfds and pipes back
 *   /fds/round-trip/nested      `h` inside a(sh), both ways
 *   /fds/round-trip/same        a result that gives back the descriptor
 *                               the job was given, twice
 *   /fds/unused                 descriptors no `h` names are allowed, and
 *                               closed in the worker all the same
 *   /fds/prefetch               jobs handed ahead to a busy worker keep
 *                               their own descriptors, in order
 *   /fds/plain-call             wp_pool_call_async() passes `h` as a number
 *   /fds/errors/args-index      an index out of range in the arguments
 *   /fds/errors/args-too-many   more descriptors than a job may carry
 *   /fds/errors/bad-handle      a result's `h` that is no descriptor
 *   /fds/errors/result-too-many a result with more than a job may carry
 *   /fds/errors/rogue           a worker that sends descriptors it did not
 *                               announce, or more than it announced
 *   /fds/crash                  a worker dies with descriptors in flight
 *   /fds/crash-ahead            a job that waits (queued, or handed ahead)
 *                               behind one that kills the worker runs on
 *                               the next worker with its descriptors, which
 *                               the pool alone keeps
 *   /fds/cancel                 a running job with descriptors is cancelled
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>
#include <glib-unix.h>

#include "wp-test-util.h"

typedef struct {
  WpTestFixture base;
  guint         fds_before;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  wp_test_fixture_setup (&fixture->base, GUINT_TO_POINTER (1));
  fixture->fds_before = wp_test_count_fds ();
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  wp_test_fixture_teardown (&fixture->base, data);
  wp_test_wait_fds (fixture->fds_before);
}

/* ---- Helpers ---- */

typedef struct {
  gboolean     done;
  GVariant    *result;
  GUnixFDList *fd_list;
  GError      *error;
} Call;

static void
call_done (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Call *call = user_data;

  call->result = wp_pool_call_with_unix_fd_list_finish (WP_POOL (source), &call->fd_list,
                                                        result, &call->error);
  g_assert_true ((call->result != NULL) == (call->fd_list != NULL));
  g_assert_true ((call->result != NULL) != (call->error != NULL));
  call->done = TRUE;
}

static void
call_clear (Call *call)
{
  g_clear_pointer (&call->result, g_variant_unref);
  g_clear_object (&call->fd_list);
  g_clear_error (&call->error);
  call->done = FALSE;
}

static void
call_start (Fixture      *fixture,
            Call         *call,
            const char   *function,
            GVariant     *args,
            GUnixFDList  *fd_list,
            GCancellable *cancellable)
{
  call_clear (call);
  wp_pool_call_with_unix_fd_list_async (fixture->base.pool, "fds", function, args, fd_list,
                                        cancellable, call_done, call);
}

static void
call (Fixture     *fixture,
      Call        *c,
      const char  *function,
      GVariant    *args,
      GUnixFDList *fd_list)
{
  call_start (fixture, c, function, args, fd_list, NULL);
  wp_test_wait_until (&c->done);
}

/* A list holding both ends of a new pipe: 0 the read end, 1 the write end. */
static GUnixFDList *
new_pipe_list (void)
{
  g_autoptr(GError) error = NULL;
  int fds[2];
  GUnixFDList *list;

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, &error));
  g_assert_no_error (error);
  list = g_unix_fd_list_new_from_array (fds, 2);
  return list;
}

/* A list of one descriptor: the read end of a pipe holding @text, whose
 * write end is closed. */
static GUnixFDList *
new_reader_list (const char *text)
{
  g_autoptr(GError) error = NULL;
  int fds[2];

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, &error));
  g_assert_cmpint (write (fds[1], text, strlen (text)), ==, (gssize) strlen (text));
  close (fds[1]);
  return g_unix_fd_list_new_from_array (fds, 1);
}

static char *
read_fd_to_end (int fd)
{
  GString *text = g_string_new (NULL);
  char buffer[256];
  ssize_t n;

  while ((n = read (fd, buffer, sizeof buffer)) > 0)
    g_string_append_len (text, buffer, n);
  g_assert_cmpint (n, ==, 0);
  return g_string_free (text, FALSE);
}

/* What index @handle of the result's list holds. */
static char *
read_result_fd (Call *c,
                gint32 handle)
{
  g_autoptr(GError) error = NULL;
  int fd;
  char *text;

  g_assert_cmpint (handle, >=, 0);
  g_assert_cmpint (handle, <, g_unix_fd_list_get_length (c->fd_list));
  fd = g_unix_fd_list_get (c->fd_list, handle, &error);
  g_assert_no_error (error);
  g_assert_true (fcntl (fd, F_GETFD) & FD_CLOEXEC);
  text = read_fd_to_end (fd);
  close (fd);
  return text;
}

static guint32
worker_open_fds (Fixture *fixture)
{
  Call c = { 0 };
  guint32 n;

  call (fixture, &c, "count_open", g_variant_new ("()"), NULL);
  g_assert_no_error (c.error);
  g_variant_get (c.result, "(u)", &n);
  call_clear (&c);
  return n;
}

static GVariant *
bytes_of (const char *text)
{
  return g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, text, strlen (text), 1);
}

/* ---- Round trips ---- */

static void
test_read (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GUnixFDList) list = new_reader_list ("from the host");
  g_autoptr(GVariant) bytes = NULL;
  Call c = { 0 };
  gsize size;
  const char *read_bytes;

  g_test_summary ("A worker reads to its end a pipe the job gives it");

  call (fixture, &c, "read", g_variant_new ("(h)", 0), list);
  g_assert_no_error (c.error);
  g_assert_cmpint (g_unix_fd_list_get_length (c.fd_list), ==, 0);
  bytes = g_variant_get_child_value (c.result, 0);
  read_bytes = g_variant_get_fixed_array (bytes, &size, 1);
  g_assert_cmpmem (read_bytes, size, "from the host", 13);
  call_clear (&c);
}

static void
test_write (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(GUnixFDList) list = new_pipe_list ();
  g_autofree char *text = NULL;
  Call c = { 0 };
  int read_end = g_unix_fd_list_get (list, 0, NULL);

  g_test_summary ("A worker writes to a pipe the job gives it; the host reads it");

  call (fixture, &c, "write", g_variant_new ("(h@ay)", 1, bytes_of ("to the host")), list);
  g_assert_no_error (c.error);
  call_clear (&c);
  /* The pool holds no reference now: the list's write end is the last. */
  g_clear_object (&list);
  text = read_fd_to_end (read_end);
  close (read_end);
  g_assert_cmpstr (text, ==, "to the host");
}

static void
test_several (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GUnixFDList) list = new_reader_list ("copied");
  g_autoptr(GUnixFDList) out = new_pipe_list ();
  g_autofree char *copied = NULL;
  g_autofree char *from_memfd = NULL;
  g_autofree char *from_pipe = NULL;
  g_autoptr(GError) error = NULL;
  Call c = { 0 };
  guint64 n;
  gint32 handle;
  int out_read;

  g_test_summary ("Two descriptors into one job, and descriptors of both kinds back");

  /* The source is index 2 of three, the destination index 1. */
  g_assert_cmpint (g_unix_fd_list_append (out, g_unix_fd_list_peek_fds (list, NULL)[0], &error),
                   ==, 2);
  g_assert_no_error (error);
  call (fixture, &c, "copy", g_variant_new ("(hh)", 2, 1), out);
  g_assert_no_error (c.error);
  g_variant_get (c.result, "(t)", &n);
  g_assert_cmpuint (n, ==, 6);
  call_clear (&c);
  out_read = g_unix_fd_list_get (out, 0, NULL);
  g_clear_object (&out);
  copied = read_fd_to_end (out_read);
  close (out_read);
  g_assert_cmpstr (copied, ==, "copied");

  call (fixture, &c, "memfd", g_variant_new ("(@ay)", bytes_of ("in a memfd")), NULL);
  g_assert_no_error (c.error);
  g_variant_get (c.result, "(h)", &handle);
  g_assert_cmpint (handle, ==, 0);
  from_memfd = read_result_fd (&c, handle);
  g_assert_cmpstr (from_memfd, ==, "in a memfd");
  call_clear (&c);

  call (fixture, &c, "pipe", g_variant_new ("(@ay)", bytes_of ("in a pipe")), NULL);
  g_assert_no_error (c.error);
  g_variant_get (c.result, "(h)", &handle);
  from_pipe = read_result_fd (&c, handle);
  g_assert_cmpstr (from_pipe, ==, "in a pipe");
  call_clear (&c);
}

static void
test_nested (Fixture       *fixture,
             gconstpointer  data)
{
  const char *names[] = { "a", "b", "c" };
  const char *contents[] = { "first", "second", "third" };
  g_autoptr(GUnixFDList) list = g_unix_fd_list_new ();
  g_autoptr(GVariant) entries = NULL;
  GVariantBuilder builder;
  Call c = { 0 };

  g_test_summary ("Handles inside a(sh) are indices both ways");

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sh)"));
  /* Listed in reverse, so each index differs from its position. */
  for (int i = 2; i >= 0; i--)
    {
      g_autoptr(GUnixFDList) one = new_reader_list (contents[i]);
      int fd = g_unix_fd_list_get (one, 0, NULL);
      int index = g_unix_fd_list_append (list, fd, NULL);

      close (fd);
      g_assert_cmpint (index, ==, 2 - i);
    }
  for (int i = 0; i < 3; i++)
    g_variant_builder_add (&builder, "(sh)", names[i], 2 - i);

  call (fixture, &c, "label", g_variant_new ("(a(sh))", &builder), list);
  g_assert_no_error (c.error);
  g_assert_cmpint (g_unix_fd_list_get_length (c.fd_list), ==, 3);
  entries = g_variant_get_child_value (c.result, 0);
  g_assert_cmpuint (g_variant_n_children (entries), ==, 3);
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *text = NULL;
      g_autofree char *expected = g_strdup_printf ("%s:%s", names[i], contents[i]);
      const char *name;
      gint32 handle;

      g_variant_get_child (entries, i, "(&sh)", &name, &handle);
      g_assert_cmpstr (name, ==, names[i]);
      text = read_result_fd (&c, handle);
      g_assert_cmpstr (text, ==, expected);
    }
  call_clear (&c);
}

static void
test_same (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GUnixFDList) list = new_reader_list ("twice");
  g_autofree char *text = NULL;
  Call c = { 0 };
  gint32 first, second;
  guint32 before;

  g_test_summary ("A result may give back the descriptor it was given, even twice; "
                  "the worker closes it once");

  before = worker_open_fds (fixture);
  call (fixture, &c, "same", g_variant_new ("(h)", 0), list);
  g_assert_no_error (c.error);
  g_variant_get (c.result, "(hh)", &first, &second);
  g_assert_cmpint (first, !=, second);
  g_assert_cmpint (g_unix_fd_list_get_length (c.fd_list), ==, 2);
  text = read_result_fd (&c, first);
  g_assert_cmpstr (text, ==, "twice");
  call_clear (&c);
  g_assert_cmpuint (worker_open_fds (fixture), ==, before);
}

static void
test_unused (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GUnixFDList) list = new_pipe_list ();
  g_autoptr(GUnixFDList) reader = new_reader_list ("used");
  g_autoptr(GVariant) bytes = NULL;
  Call c = { 0 };
  guint32 before;

  g_test_summary ("An fd list may hold descriptors no `h` names (as D-Bus allows); "
                  "the worker closes them too");

  g_unix_fd_list_append (list, g_unix_fd_list_peek_fds (reader, NULL)[0], NULL);
  before = worker_open_fds (fixture);
  call (fixture, &c, "read", g_variant_new ("(h)", 2), list);
  g_assert_no_error (c.error);
  bytes = g_variant_get_child_value (c.result, 0);
  g_assert_cmpuint (g_variant_get_size (bytes), ==, 4);
  call_clear (&c);
  g_assert_cmpuint (worker_open_fds (fixture), ==, before);
}

#define N_PREFETCH 16

static void
test_prefetch (Fixture       *fixture,
               gconstpointer  data)
{
  Call calls[N_PREFETCH] = { { 0 } };
  char *texts[N_PREFETCH];

  g_test_summary ("Jobs handed ahead to a busy worker each get their own descriptors");

  for (guint i = 0; i < N_PREFETCH; i++)
    {
      g_autoptr(GUnixFDList) list = NULL;

      texts[i] = g_strdup_printf ("job %u", i);
      list = new_reader_list (texts[i]);
      call_start (fixture, &calls[i], "read", g_variant_new ("(h)", 0), list, NULL);
    }
  for (guint i = 0; i < N_PREFETCH; i++)
    {
      g_autoptr(GVariant) bytes = NULL;
      const char *got;
      gsize size;

      wp_test_wait_until (&calls[i].done);
      g_assert_no_error (calls[i].error);
      bytes = g_variant_get_child_value (calls[i].result, 0);
      got = g_variant_get_fixed_array (bytes, &size, 1);
      g_assert_cmpmem (got, size, texts[i], strlen (texts[i]));
      call_clear (&calls[i]);
      g_free (texts[i]);
    }
}

static void
test_plain_call (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("wp_pool_call_async() passes a handle as a plain number, both ways");

  result = wp_test_call (fixture->base.pool, "echo", "echo",
                         g_variant_new ("(v)", g_variant_new_handle (7)), &error);
  g_assert_no_error (error);
  wp_test_assert_variant (result, g_variant_new ("(v)", g_variant_new_handle (7)));
}

/* ---- Errors ---- */

static void
test_args_index (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GUnixFDList) list = new_reader_list ("x");
  Call c = { 0 };

  g_test_summary ("An index out of range in the arguments fails the job with INVALID_ARGS");

  call (fixture, &c, "read", g_variant_new ("(h)", 1), list);
  g_assert_error (c.error, WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (c.error->message, "index 1"));
  call (fixture, &c, "read", g_variant_new ("(h)", -1), list);
  g_assert_error (c.error, WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS);
  call (fixture, &c, "read", g_variant_new ("(h)", 0), NULL);
  g_assert_error (c.error, WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS);
  call_clear (&c);
}

static void
test_args_too_many (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GUnixFDList) list = g_unix_fd_list_new ();
  Call c = { 0 };

  g_test_summary ("More than 64 descriptors for one job fail it with INVALID_ARGS");

  for (guint i = 0; i < 64; i++)
    g_assert_cmpint (g_unix_fd_list_append (list, 0, NULL), ==, (int) i);
  call (fixture, &c, "count_open", g_variant_new ("()"), list);
  g_assert_no_error (c.error);
  g_unix_fd_list_append (list, 0, NULL);
  call (fixture, &c, "count_open", g_variant_new ("()"), list);
  g_assert_error (c.error, WP_POOL_ERROR, WP_POOL_ERROR_INVALID_ARGS);
  g_assert_nonnull (strstr (c.error->message, "65 file descriptors"));
  call_clear (&c);
}

static void
test_bad_handle (Fixture       *fixture,
                 gconstpointer  data)
{
  Call c = { 0 };
  guint32 before;

  g_test_summary ("A result's `h` that is no descriptor fails the job with BAD_RESULT; "
                  "the worker lives on");

  before = worker_open_fds (fixture);
  call (fixture, &c, "bad_handle", g_variant_new ("()"), NULL);
  g_assert_error (c.error, WP_POOL_ERROR, WP_POOL_ERROR_BAD_RESULT);
  call_clear (&c);
  g_assert_cmpuint (worker_open_fds (fixture), ==, before);
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "crashed"), ==, 0);
}

static void
test_result_too_many (Fixture       *fixture,
                      gconstpointer  data)
{
  Call c = { 0 };
  guint32 before;

  g_test_summary ("A result may carry 64 descriptors; more fail the job with BAD_RESULT, "
                  "and the worker closes them");

  before = worker_open_fds (fixture);
  call (fixture, &c, "too_many", g_variant_new ("(u)", 64), NULL);
  g_assert_no_error (c.error);
  g_assert_cmpint (g_unix_fd_list_get_length (c.fd_list), ==, 64);
  call (fixture, &c, "too_many", g_variant_new ("(u)", 65), NULL);
  g_assert_error (c.error, WP_POOL_ERROR, WP_POOL_ERROR_BAD_RESULT);
  call_clear (&c);
  g_assert_cmpuint (worker_open_fds (fixture), ==, before);
}

static void
test_rogue (Fixture       *fixture,
            gconstpointer  data)
{
  /* announced, sent, and whether the datagram is for the right job */
  const struct { guint32 announced, actual; gboolean right_job; } cases[] = {
    { 1, 3, FALSE },    /* for another job */
    { 1, 3, TRUE },     /* more than announced */
    { 3, 1, TRUE },     /* fewer */
    { 1, 100, TRUE },   /* more than a job may carry */
    { 100, 2, TRUE },   /* announced over the limit */
  };

  g_test_summary ("A worker that sends descriptors it did not announce, or more or fewer "
                  "than it announced, fails its job with PROTOCOL; the host closes them all");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      Call c = { 0 };
      guint64 job_id = 0;

      /* Job ids count submissions from 1: this job's is the next. */
      if (cases[i].right_job)
        job_id = wp_test_get_stat (fixture->base.pool, "submitted") + 1;
      call (fixture, &c, "rogue",
            g_variant_new ("(tuu)", job_id, cases[i].announced, cases[i].actual), NULL);
      g_assert_error (c.error, WP_POOL_ERROR, WP_POOL_ERROR_PROTOCOL);
      g_test_message ("%s", c.error->message);
      call_clear (&c);
    }
}

static void
test_crash (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(GUnixFDList) list = new_pipe_list ();
  Call c = { 0 };

  g_test_summary ("A worker that dies with descriptors in flight fails its job as crashed; "
                  "the next job runs on a new worker");

  call (fixture, &c, "crash", g_variant_new ("(h)", 0), list);
  g_assert_error (c.error, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED);
  call (fixture, &c, "memfd", g_variant_new ("(@ay)", bytes_of ("after")), NULL);
  g_assert_no_error (c.error);
  call_clear (&c);
}

static void
test_crash_ahead (Fixture       *fixture,
                  gconstpointer  data)
{
  Call crash = { 0 };
  Call after = { 0 };
  g_autoptr(GVariant) bytes = NULL;
  const char *got;
  gsize size;

  g_test_summary ("A job with descriptors that waits behind a job that crashes its worker "
                  "runs on the next worker with the same descriptors");

  {
    g_autoptr(GUnixFDList) pipe_list = new_pipe_list ();
    g_autoptr(GUnixFDList) reader = new_reader_list ("still here");

    call_start (fixture, &crash, "crash", g_variant_new ("(h)", 0), pipe_list, NULL);
    call_start (fixture, &after, "read", g_variant_new ("(h)", 0), reader, NULL);
    /* The pool holds the only references to the lists from here on. */
  }
  wp_test_wait_until (&crash.done);
  g_assert_error (crash.error, WP_POOL_ERROR, WP_POOL_ERROR_WORKER_CRASHED);
  wp_test_wait_until (&after.done);
  g_assert_no_error (after.error);
  bytes = g_variant_get_child_value (after.result, 0);
  got = g_variant_get_fixed_array (bytes, &size, 1);
  g_assert_cmpmem (got, size, "still here", 10);
  g_assert_cmpuint (wp_test_get_stat (fixture->base.pool, "spawned"), ==, 2);
  call_clear (&crash);
  call_clear (&after);
}

static void
test_cancel (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GUnixFDList) list = new_pipe_list ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Call c = { 0 };
  guint32 before;

  g_test_summary ("A running job with descriptors can be cancelled; the worker closes them");

  before = worker_open_fds (fixture);
  call_start (fixture, &c, "wait", g_variant_new ("(h)", 1), list, cancellable);
  wp_test_wait_stat (fixture->base.pool, "running", 1);
  g_cancellable_cancel (cancellable);
  wp_test_wait_until (&c.done);
  g_assert_error (c.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  call_clear (&c);
  g_assert_cmpuint (worker_open_fds (fixture), ==, before);
}

int
main (int    argc,
      char **argv)
{
  wp_test_init (&argc, &argv);
  wp_test_warm_up ();

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/fds/round-trip/read", test_read);
  ADD ("/fds/round-trip/write", test_write);
  ADD ("/fds/round-trip/several", test_several);
  ADD ("/fds/round-trip/nested", test_nested);
  ADD ("/fds/round-trip/same", test_same);
  ADD ("/fds/unused", test_unused);
  ADD ("/fds/prefetch", test_prefetch);
  ADD ("/fds/plain-call", test_plain_call);
  ADD ("/fds/errors/args-index", test_args_index);
  ADD ("/fds/errors/args-too-many", test_args_too_many);
  ADD ("/fds/errors/bad-handle", test_bad_handle);
  ADD ("/fds/errors/result-too-many", test_result_too_many);
  ADD ("/fds/errors/rogue", test_rogue);
  ADD ("/fds/crash", test_crash);
  ADD ("/fds/crash-ahead", test_crash_ahead);
  ADD ("/fds/cancel", test_cancel);
#undef ADD

  return g_test_run ();
}
