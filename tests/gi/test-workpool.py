#!/usr/bin/python3
# test-workpool.py: the pool from Python, through GObject Introspection.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Uses Workpool-1.typelib of the build tree with Debian's python3-gi, as a
# Python program would: jobs of the demo and thumbnail plugins under a
# GLib.MainLoop, errors as GLib.Error (a plugin's own domain, and
# Workpool.PoolError for the pool's), cancelling a running job with a
# Gio.Cancellable, closing the pool.  Speaks TAP; skipped only when
# python3-gi is missing.
#
# Environment (tests/gi/meson.build): GI_TYPELIB_PATH and LD_LIBRARY_PATH
# point at the build, WORKPOOL_WORKER at the worker, WORKPOOL_PLUGIN_DIR
# at the shipped plugins, WORKPOOL_TEST_PLUGIN_DIR at the test plugins
# (sleep.so), WORKPOOL_PHOTOS at data/photos.

import errno
import fractions
import os
import random
import shutil
import sys
import tempfile
import time
import traceback

try:
    import gi
except ImportError:
    print('1..0 # SKIP python3-gi is not installed (import gi failed)')
    sys.exit(0)

gi.require_version('GLib', '2.0')
gi.require_version('Gio', '2.0')
gi.require_version('Workpool', '1')
from gi.repository import GLib, Gio, Workpool  # noqa: E402

# Longest wait for any one job, generous for a loaded machine.
TIMEOUT_S = 60


class TimedOut(Exception):
    pass


def run_async(start):
    """Calls start(callback) and iterates a GLib.MainLoop until the
    callback runs; returns the GAsyncResult it got."""
    loop = GLib.MainLoop()
    results = []

    def on_done(source, result, *user_data):
        results.append(result)
        loop.quit()

    def on_timeout():
        loop.quit()
        return GLib.SOURCE_REMOVE

    start(on_done)
    timeout_id = GLib.timeout_add_seconds(TIMEOUT_S, on_timeout)
    loop.run()
    if not results:
        raise TimedOut('no callback within %d s' % TIMEOUT_S)
    GLib.source_remove(timeout_id)
    return results[0]


def call(pool, plugin, function, args, cancellable=None):
    """A job through call_async()/call_finish(), as a result or a raised
    GLib.Error."""
    result = run_async(lambda cb: pool.call_async(plugin, function, args,
                                                  cancellable, cb))
    return pool.call_finish(result)


def expect_error(func, domain, code):
    """Runs func, which must raise GLib.Error of domain and code."""
    try:
        value = func()
    except GLib.Error as e:
        assert e.domain == domain, 'domain %r, expected %r' % (e.domain, domain)
        assert e.code == code, 'code %d, expected %d (%s)' % (e.code, code, e.message)
        return e
    raise AssertionError('expected an error %s:%d, got %r' % (domain, code, value))


def jpeg_size(path):
    """(width, height) from a JPEG's SOF header, or an AssertionError if
    the file is not a JPEG."""
    with open(path, 'rb') as f:
        data = f.read()
    assert data[:2] == b'\xff\xd8', '%s does not start with a JPEG SOI marker' % path
    i = 2
    while i + 4 <= len(data):
        assert data[i] == 0xff, 'bad marker at %d in %s' % (i, path)
        marker = data[i + 1]
        length = int.from_bytes(data[i + 2:i + 4], 'big')
        # SOF0..SOF15 except DHT (c4), JPG (c8) and DAC (cc).
        if 0xc0 <= marker <= 0xcf and marker not in (0xc4, 0xc8, 0xcc):
            height = int.from_bytes(data[i + 5:i + 7], 'big')
            width = int.from_bytes(data[i + 7:i + 9], 'big')
            return width, height
        i += 2 + length
    raise AssertionError('no SOF marker in %s' % path)


def fit(width, height, box_width, box_height):
    """The size the thumbnail plugin documents: the image's own if it
    fits the box, else scaled by s = min (bw / w, bh / h) with
    max (1, round (side * s)), rounding halves up."""
    if width <= box_width and height <= box_height:
        return width, height
    s = min(fractions.Fraction(box_width, width), fractions.Fraction(box_height, height))
    return tuple(max(1, int(side * s + fractions.Fraction(1, 2))) for side in (width, height))


# The tests, in order; each gets the shared state.

def test_call_demo(t):
    a, b = random.randint(-1000, 1000), random.randint(-1000, 1000)
    result = call(t.pool, 'demo', 'add', GLib.Variant('(ii)', (a, b)))
    assert result.get_type_string() == '(i)', result.get_type_string()
    assert result.unpack() == (a + b,), '%r + %r gave %r' % (a, b, result.unpack())

    result = t.pool.call_sync('demo', 'greet', GLib.Variant('(s)', ('Python',)), None)
    assert result.unpack() == ('Hello, Python!',), result.unpack()


def test_call_thumbnail(t):
    # beach.jpg has no EXIF orientation: its stored size is its shown size.
    source = os.path.join(t.photos, '2024-summer', 'beach.jpg')
    dest = os.path.join(t.tmp, 'thumbnails', 'beach-128.jpg')
    box = (128, 96)
    expected = fit(*jpeg_size(source), *box)

    result = call(t.pool, 'thumbnail', 'thumbnail', GLib.Variant('(ss(ii))', (source, dest, box)))
    assert result.unpack() == expected, 'wrote %r, expected %r' % (result.unpack(), expected)
    assert os.path.isfile(dest), dest + ' was not written'
    assert jpeg_size(dest) == expected, 'file is %r, expected %r' % (jpeg_size(dest), expected)


def test_error_plugin(t):
    e = expect_error(lambda: call(t.pool, 'demo', 'divide', GLib.Variant('(dd)', (1.0, 0.0))),
                     'g-io-error-quark', Gio.IOErrorEnum.INVALID_ARGUMENT)
    assert e.matches(Gio.io_error_quark(), Gio.IOErrorEnum.INVALID_ARGUMENT)
    assert e.message == 'cannot divide by zero', e.message

    # A missing file in the thumbnail plugin: G_FILE_ERROR_NOENT.
    missing = os.path.join(t.tmp, 'missing.jpg')
    e = expect_error(lambda: call(t.pool, 'thumbnail', 'info', GLib.Variant('(s)', (missing,))),
                     'g-file-error-quark', GLib.FileError.NOENT)
    assert missing in e.message, e.message


def test_error_pool(t):
    for function, args, code in (
            ('nosuch', None, Workpool.PoolError.NO_SUCH_FUNCTION),
            ('add', GLib.Variant('(s)', ('2',)), Workpool.PoolError.INVALID_ARGS)):
        e = expect_error(lambda: call(t.pool, 'demo', function, args),
                         'wp-pool-error-quark', code)
        assert Workpool.PoolError(e.code) == code
        assert e.matches(Workpool.PoolError.quark(), code)
        assert e.matches(Workpool.pool_error_quark(), code)

    expect_error(lambda: call(t.pool, 'nosuch', 'f', None),
                 'wp-pool-error-quark', Workpool.PoolError.NO_SUCH_PLUGIN)

    # The enum has its GType (wp-enum-types.c), which bindings map.
    assert Workpool.PoolError.__gtype__.name == 'WpPoolError', Workpool.PoolError.__gtype__
    assert Workpool.PoolError.TIMED_OUT.value_nick == 'timed-out'


def stats(pool):
    return pool.get_stats().unpack()


def wait_for(condition, what):
    """Iterates the default main context until condition() holds, checking
    it every 5 ms: the pool changes its state only while it runs."""
    loop = GLib.MainLoop()
    deadline = time.monotonic() + TIMEOUT_S

    def check():
        if condition() or time.monotonic() > deadline:
            loop.quit()
            return GLib.SOURCE_REMOVE
        return GLib.SOURCE_CONTINUE

    GLib.timeout_add(5, check)
    loop.run()
    if not condition():
        raise TimedOut('%s: not within %d s' % (what, TIMEOUT_S))


def test_cancel_running(t):
    pool = Workpool.Pool.new(t.test_plugin_dir, 1)
    # Room for the worker to answer under load: the job must end because
    # the sleep function saw the cancel, not because its worker was killed.
    pool.set_cancel_grace(TIMEOUT_S * 1000)
    pid_before = call(pool, 'sleep', 'getpid', None).unpack()[0]

    cancellable = Gio.Cancellable()
    results = []
    # Ten minutes unless cancelled.
    pool.call_async('sleep', 'sleep', GLib.Variant('(u)', (600000,)), cancellable,
                    lambda source, result: results.append(result))
    wait_for(lambda: stats(pool)['running'] == 1, 'the sleep job running')
    assert not results, 'the sleep job ended before it was cancelled'
    started = time.monotonic()
    cancellable.cancel()
    wait_for(lambda: results, 'the callback after the cancel')
    elapsed = time.monotonic() - started

    expect_error(lambda: pool.call_finish(results[0]),
                 'g-io-error-quark', Gio.IOErrorEnum.CANCELLED)
    assert elapsed < TIMEOUT_S, elapsed
    counters = stats(pool)
    assert counters['cancelled'] == 1 and counters['running'] == 0, counters
    # The function returned: its worker was kept.
    assert call(pool, 'sleep', 'getpid', None).unpack()[0] == pid_before
    assert stats(pool)['spawned'] == 1, stats(pool)
    close(pool)


def test_properties(t):
    """Workpool.Pool(plugin_dir=..., n_workers=...) with no init() runs jobs;
    properties read back resolved, and notify once per change."""
    pool = Workpool.Pool(plugin_dir=t.test_plugin_dir, n_workers=2)
    result = call(pool, 'echo', 'echo', GLib.Variant('(v)', (GLib.Variant('s', 'hi'),)))
    assert result.unpack() == ('hi',), result.unpack()
    assert pool.props.plugin_dir == os.path.normpath(os.path.abspath(t.test_plugin_dir)), \
        pool.props.plugin_dir
    assert pool.props.n_workers == 2 and pool.get_n_workers() == 2
    assert pool.props.prefetch == 4 and pool.get_prefetch() == 4
    assert pool.props.cancel_grace == 200
    assert pool.props.max_frame_size == 256 << 20
    assert pool.props.job_timeout == 0 and pool.props.worker_memory_limit == 0

    notified = []
    pool.connect('notify', lambda obj, pspec: notified.append(pspec.name))
    pool.props.job_timeout = 5000
    pool.props.job_timeout = 5000
    pool.set_job_timeout(5000)
    assert notified == ['job-timeout'], notified
    assert pool.get_job_timeout() == 5000
    pool.set_prefetch(0)
    assert notified == ['job-timeout', 'prefetch'], notified
    assert pool.props.prefetch == 0
    assert call(pool, 'arith', 'add', GLib.Variant('(ii)', (2, 3))).unpack() == (5,)

    # The sandbox: an enum property; a sandboxed worker makes no socket.
    assert pool.props.sandbox == Workpool.Sandbox.NONE
    assert Workpool.Sandbox.__gtype__.name == 'WpSandbox', Workpool.Sandbox.__gtype__
    pool.props.sandbox = Workpool.Sandbox.STRICT
    assert pool.get_sandbox() == Workpool.Sandbox.STRICT
    assert notified == ['job-timeout', 'prefetch', 'sandbox'], notified
    assert call(pool, 'hostile', 'socket', GLib.Variant('(i)', (2,))).unpack() == (errno.EPERM,)

    # The launcher: a GStrv property; NULL for workers started here, which
    # PyGObject gives as [].
    assert not pool.props.launcher and not pool.get_launcher()
    pool.props.launcher = ['env', 'WORKPOOL_FROM_PYTHON=1']
    assert notified[-1] == 'launcher', notified
    assert pool.get_launcher() == ['env', 'WORKPOOL_FROM_PYTHON=1'], pool.get_launcher()
    assert call(pool, 'arith', 'add', GLib.Variant('(ii)', (2, 3))).unpack() == (5,)
    pool.set_launcher(None)
    assert not pool.props.launcher and notified.count('launcher') == 2, notified
    close(pool)

    # No properties: $WORKPOOL_PLUGIN_DIR (the shipped plugins).
    pool = Workpool.Pool()
    assert call(pool, 'demo', 'add', GLib.Variant('(ii)', (2, 3))).unpack() == (5,)
    assert pool.props.plugin_dir == \
        os.path.normpath(os.path.abspath(os.environ['WORKPOOL_PLUGIN_DIR']))
    # g_get_num_processors() counts the CPUs this process may run on.
    assert pool.props.n_workers == len(os.sched_getaffinity(0)), pool.props.n_workers
    close(pool)


def test_lazy_init_failure(t):
    """A pool on a missing plugin_dir fails each job with the NOT_FOUND error
    that Workpool.Pool.new() raises for it."""
    missing = os.path.join(t.tmp, 'missing')
    new_error = expect_error(lambda: Workpool.Pool.new(missing, 1),
                             'g-io-error-quark', Gio.IOErrorEnum.NOT_FOUND)
    assert missing in new_error.message, new_error.message

    pool = Workpool.Pool(plugin_dir=missing, n_workers=1)
    for _ in range(2):
        e = expect_error(lambda: call(pool, 'echo', 'noop', None),
                         'g-io-error-quark', Gio.IOErrorEnum.NOT_FOUND)
        assert e.message == new_error.message, (e.message, new_error.message)


def test_priority(t):
    """call_full_async() takes an io_priority; the callback gets a
    Gio.AsyncResult whose source object is the pool."""
    pool = Workpool.Pool(plugin_dir=t.test_plugin_dir, n_workers=1)
    for priority in (GLib.PRIORITY_HIGH, GLib.PRIORITY_LOW, 7):
        result = run_async(lambda cb: pool.call_full_async(
            'arith', 'add', GLib.Variant('(ii)', (priority, 1)), 0, priority, None, cb))
        assert isinstance(result, Gio.AsyncResult), type(result)
        assert result.get_source_object() == pool
        assert pool.call_finish(result).unpack() == (priority + 1,)
    result = run_async(lambda cb: pool.call_async('echo', 'noop', None, None, cb))
    pool.call_finish(result)
    close(pool)


def close(pool):
    result = run_async(lambda cb: pool.close_async(None, cb))
    assert pool.close_finish(result) is True


def test_close(t):
    close(t.pool)
    counters = stats(t.pool)
    assert counters['workers'] == 0, counters
    assert counters['submitted'] == counters['completed'] + counters['failed'], counters
    expect_error(lambda: call(t.pool, 'demo', 'add', GLib.Variant('(ii)', (1, 2))),
                 'wp-pool-error-quark', Workpool.PoolError.CLOSED)


TESTS = [
    ('/gi/python/call/demo', test_call_demo),
    ('/gi/python/call/thumbnail', test_call_thumbnail),
    ('/gi/python/error/plugin', test_error_plugin),
    ('/gi/python/error/pool', test_error_pool),
    ('/gi/python/cancel/running', test_cancel_running),
    ('/gi/python/properties', test_properties),
    ('/gi/python/properties/lazy-init-failure', test_lazy_init_failure),
    ('/gi/python/priority', test_priority),
    ('/gi/python/close', test_close),
]


class State:
    def __init__(self):
        self.photos = os.environ['WORKPOOL_PHOTOS']
        self.test_plugin_dir = os.environ['WORKPOOL_TEST_PLUGIN_DIR']
        self.tmp = tempfile.mkdtemp(prefix='workpool-gi-')
        # None: $WORKPOOL_PLUGIN_DIR, the shipped plugins; 2 workers.
        self.pool = Workpool.Pool.new(None, 2)


def main():
    state = State()
    failed = 0
    print('1..%d' % len(TESTS))
    try:
        for number, (name, test) in enumerate(TESTS, 1):
            try:
                test(state)
                print('ok %d %s' % (number, name))
            except Exception:
                failed += 1
                print('not ok %d %s' % (number, name))
                for line in traceback.format_exc().splitlines():
                    print('# ' + line)
            sys.stdout.flush()
    finally:
        shutil.rmtree(state.tmp)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
