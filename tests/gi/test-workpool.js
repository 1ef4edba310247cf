// test-workpool.js: the pool from JavaScript (GJS), through GObject
// Introspection.
//
// Copyright 2026 The workpool authors
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The same checks as test-workpool.py, as a GJS program would make them:
// jobs of the demo and thumbnail plugins under a GLib.MainLoop, errors as
// GLib.Error (a plugin's own domain, and Workpool.PoolError for the
// pool's), cancelling a running job, closing the pool.  Speaks TAP; the
// environment is set by tests/gi/meson.build.

imports.gi.versions.GLib = '2.0';
imports.gi.versions.Gio = '2.0';
imports.gi.versions.Workpool = '1';
const {GLib, Gio, Workpool} = imports.gi;
const System = imports.system;

// Longest wait for any one job, generous for a loaded machine.
const TIMEOUT_S = 60;

// Iterates a main loop until condition() holds, checking every 5 ms.
function waitFor(condition, what) {
    const loop = new GLib.MainLoop(null, false);
    const deadline = GLib.get_monotonic_time() + TIMEOUT_S * 1000000;
    GLib.timeout_add(GLib.PRIORITY_DEFAULT, 5, () => {
        if (condition() || GLib.get_monotonic_time() > deadline) {
            loop.quit();
            return GLib.SOURCE_REMOVE;
        }
        return GLib.SOURCE_CONTINUE;
    });
    loop.run();
    if (!condition())
        throw new Error(`${what}: not within ${TIMEOUT_S} s`);
}

// Calls start(callback) and waits for the callback; returns its result.
function runAsync(start) {
    const results = [];
    start((source, result) => results.push(result));
    waitFor(() => results.length > 0, 'the callback');
    return results[0];
}

function call(pool, plugin, func, args, cancellable = null) {
    const result = runAsync(cb => pool.call_async(plugin, func, args, cancellable, cb));
    return pool.call_finish(result);
}

function assert(condition, message) {
    if (!condition)
        throw new Error(`assertion failed: ${message}`);
}

// Runs func, which must throw a GLib.Error of domain (an error enum
// class) and code; returns the error.
function expectError(func, domain, code) {
    let value;
    try {
        value = func();
    } catch (e) {
        assert(e instanceof GLib.Error, `not a GLib.Error: ${e}`);
        assert(e.matches(domain, code),
            `got ${GLib.quark_to_string(e.domain)}:${e.code} ${e.message}`);
        return e;
    }
    throw new Error(`expected an error, got ${value}`);
}

// [width, height] from a JPEG's SOF header.
function jpegSize(path) {
    const [, data] = GLib.file_get_contents(path);
    assert(data[0] === 0xff && data[1] === 0xd8, `${path} is not a JPEG`);
    for (let i = 2; i + 9 <= data.length;) {
        assert(data[i] === 0xff, `bad marker at ${i} in ${path}`);
        const marker = data[i + 1];
        if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker))
            return [data[i + 7] << 8 | data[i + 8], data[i + 5] << 8 | data[i + 6]];
        i += 2 + (data[i + 2] << 8 | data[i + 3]);
    }
    throw new Error(`no SOF marker in ${path}`);
}

function stats(pool) {
    return pool.get_stats().recursiveUnpack();
}

function close(pool) {
    const result = runAsync(cb => pool.close_async(null, cb));
    assert(pool.close_finish(result) === true, 'close_finish');
}

const photos = GLib.getenv('WORKPOOL_PHOTOS');
const testPluginDir = GLib.getenv('WORKPOOL_TEST_PLUGIN_DIR');
const tmp = GLib.dir_make_tmp('workpool-gjs-XXXXXX');
// null: $WORKPOOL_PLUGIN_DIR, the shipped plugins; 2 workers.
const pool = Workpool.Pool.new(null, 2);

const tests = [
    ['/gi/gjs/call/demo', () => {
        const a = GLib.random_int_range(-1000, 1000);
        const b = GLib.random_int_range(-1000, 1000);
        const result = call(pool, 'demo', 'add', new GLib.Variant('(ii)', [a, b]));
        assert(result.get_type_string() === '(i)', result.get_type_string());
        assert(result.deepUnpack()[0] === a + b, `${a} + ${b} gave ${result.print(true)}`);
    }],
    ['/gi/gjs/call/thumbnail', () => {
        // beach.jpg has no EXIF orientation; a 128x96 box: the thumbnail's
        // width is 128, its height rounds h * 128 / w.
        const source = GLib.build_filenamev([photos, '2024-summer', 'beach.jpg']);
        const dest = GLib.build_filenamev([tmp, 'beach-128.jpg']);
        const [w, h] = jpegSize(source);
        assert(w * 96 >= h * 128 && w > 128, `beach.jpg is ${w}x${h}`);
        const expected = [128, Math.max(1, Math.floor((2 * h * 128 + w) / (2 * w)))];
        const result = call(pool, 'thumbnail', 'thumbnail',
            new GLib.Variant('(ss(ii))', [source, dest, [128, 96]])).deepUnpack();
        assert(result[0] === expected[0] && result[1] === expected[1],
            `wrote ${result}, expected ${expected}`);
        const written = jpegSize(dest);
        assert(written[0] === expected[0] && written[1] === expected[1],
            `file is ${written}, expected ${expected}`);
    }],
    ['/gi/gjs/error/plugin', () => {
        const e = expectError(() => call(pool, 'demo', 'divide', new GLib.Variant('(dd)', [1, 0])),
            Gio.IOErrorEnum, Gio.IOErrorEnum.INVALID_ARGUMENT);
        assert(e.message === 'cannot divide by zero', e.message);
    }],
    ['/gi/gjs/error/pool', () => {
        expectError(() => call(pool, 'demo', 'nosuch', null),
            Workpool.PoolError, Workpool.PoolError.NO_SUCH_FUNCTION);
        const e = expectError(() => call(pool, 'demo', 'add', new GLib.Variant('(s)', ['2'])),
            Workpool.PoolError, Workpool.PoolError.INVALID_ARGS);
        assert(GLib.quark_to_string(e.domain) === 'wp-pool-error-quark',
            GLib.quark_to_string(e.domain));
    }],
    ['/gi/gjs/cancel/running', () => {
        const sleepPool = Workpool.Pool.new(testPluginDir, 1);
        // The job must end because the function saw the cancel.
        sleepPool.set_cancel_grace(TIMEOUT_S * 1000);
        const cancellable = new Gio.Cancellable();
        const results = [];
        // Ten minutes unless cancelled.
        sleepPool.call_async('sleep', 'sleep', new GLib.Variant('(u)', [600000]), cancellable,
            (source, result) => results.push(result));
        waitFor(() => stats(sleepPool)['running'] === 1, 'the sleep job running');
        assert(results.length === 0, 'the sleep job ended before it was cancelled');
        cancellable.cancel();
        waitFor(() => results.length > 0, 'the callback after the cancel');
        expectError(() => sleepPool.call_finish(results[0]),
            Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED);
        assert(stats(sleepPool)['cancelled'] === 1, 'cancelled counter');
        close(sleepPool);
    }],
    ['/gi/gjs/properties', () => {
        // No init(): the pool initialises on first use.
        const p = new Workpool.Pool({plugin_dir: testPluginDir, n_workers: 2});
        const result = call(p, 'arith', 'add', new GLib.Variant('(ii)', [2, 3]));
        assert(result.deepUnpack()[0] === 5, result.print(true));
        assert(p.plugin_dir === GLib.canonicalize_filename(testPluginDir, null), p.plugin_dir);
        assert(p.n_workers === 2 && p.get_n_workers() === 2, `n_workers ${p.n_workers}`);
        assert(p.prefetch === 4 && p.cancel_grace === 200 && p.job_timeout === 0,
            `prefetch ${p.prefetch}, cancel_grace ${p.cancel_grace}, job_timeout ${p.job_timeout}`);
        assert(p.max_frame_size === 256 * 1024 * 1024, `max_frame_size ${p.max_frame_size}`);

        const notified = [];
        p.connect('notify', (obj, pspec) => notified.push(pspec.name));
        p.job_timeout = 5000;
        p.job_timeout = 5000;
        p.set_job_timeout(5000);
        assert(notified.join() === 'job-timeout', notified.join());
        assert(p.get_job_timeout() === 5000, `${p.get_job_timeout()}`);
        p.set_max_jobs_per_worker(3);
        assert(notified.join() === 'job-timeout,max-jobs-per-worker', notified.join());
        close(p);
    }],
    ['/gi/gjs/properties/lazy-init-failure', () => {
        const missing = GLib.build_filenamev([tmp, 'missing']);
        const newError = expectError(() => Workpool.Pool.new(missing, 1),
            Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND);
        assert(newError.message.includes(missing), newError.message);
        const p = new Workpool.Pool({plugin_dir: missing, n_workers: 1});
        for (let i = 0; i < 2; i++) {
            const e = expectError(() => call(p, 'echo', 'noop', null),
                Gio.IOErrorEnum, Gio.IOErrorEnum.NOT_FOUND);
            assert(e.message === newError.message, `${e.message} vs ${newError.message}`);
        }
    }],
    ['/gi/gjs/priority', () => {
        const p = new Workpool.Pool({plugin_dir: testPluginDir, n_workers: 1});
        for (const priority of [GLib.PRIORITY_HIGH, GLib.PRIORITY_LOW, 7]) {
            const result = runAsync(cb => p.call_full_async('arith', 'add',
                new GLib.Variant('(ii)', [priority, 1]), 0, priority, null, cb));
            assert(result instanceof Gio.AsyncResult, `${result}`);
            assert(result.get_source_object() === p, 'the source object is the pool');
            assert(p.call_finish(result).deepUnpack()[0] === priority + 1, 'the sum');
        }
        const plain = runAsync(cb => p.call_async('echo', 'noop', null, null, cb));
        p.call_finish(plain);
        close(p);
    }],
    ['/gi/gjs/close', () => {
        close(pool);
        assert(stats(pool)['workers'] === 0, 'workers left after close');
        expectError(() => call(pool, 'demo', 'add', new GLib.Variant('(ii)', [1, 2])),
            Workpool.PoolError, Workpool.PoolError.CLOSED);
    }],
];

print(`1..${tests.length}`);
let failed = 0;
tests.forEach(([name, test], i) => {
    try {
        test();
        print(`ok ${i + 1} ${name}`);
    } catch (e) {
        failed++;
        print(`not ok ${i + 1} ${name}`);
        for (const line of `${e}\n${e.stack ?? ''}`.split('\n'))
            print(`# ${line}`);
    }
});
GLib.unlink(GLib.build_filenamev([tmp, 'beach-128.jpg']));
GLib.rmdir(tmp);
System.exit(failed ? 1 : 0);
