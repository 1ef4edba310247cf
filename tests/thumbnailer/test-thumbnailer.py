#!/usr/bin/python3
# test-thumbnailer.py: workpool-thumbnailer on a private session bus, as clients use it.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   test-thumbnailer.py THUMBNAILER CRASH_LOADER CHECK_CACHE PHOTOS
#
# Each group of cases starts dbus-daemon on a configuration of its own,
# whose only service files are the thumbnailer's (Thumbnailer1 and
# Cache1), so that the service is started by D-Bus activation as on a
# desktop, with HOME and XDG_CACHE_HOME in a temporary folder.  The
# service's stderr is the daemon's, kept in a log: with
# G_MESSAGES_DEBUG=workpool it says "Thumbnailing PATH (FLAVOR, SCHEDULER)"
# for each job it starts, which the cases count.  Its workers get
# GDK_PIXBUF_MODULE_FILE naming the installed loaders and CRASH_LOADER
# (crash-loader.c), which crashes on XCF files marked WPCRASH and hangs
# on those marked WPHANG.  CHECK_CACHE is tests/desktop/
# check-cache.py, the standard's checks; PHOTOS the bundled photos.
# Prints TAP.

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

import gi

gi.require_version("GdkPixbuf", "2.0")
from gi.repository import GdkPixbuf, Gio, GLib  # noqa: E402

THUMBNAILER, CRASH_LOADER, CHECK_CACHE, PHOTOS = sys.argv[1:5]
NAME = "org.freedesktop.thumbnails.Thumbnailer1"
PATH = "/org/freedesktop/thumbnails/Thumbnailer1"
CACHE_NAME = "org.freedesktop.thumbnails.Cache1"
CACHE_PATH = "/org/freedesktop/thumbnails/Cache1"
WAIT_S = 60 * float(os.environ.get("WORKPOOL_TEST_TIMEOUT_SCALE", "1"))
# Two workers, two works each: what may run while newer work waits.
WINDOW = 4


class Bus:
    """A private session bus whose thumbnailer runs with ARGS."""

    def __init__(self, tmp, args=()):
        self.tmp = tmp
        self.home = os.path.join(tmp, "home")
        self.cache = os.path.join(self.home, ".cache", "thumbnails")
        os.makedirs(os.path.join(tmp, "services"))
        os.makedirs(self.home)
        exec_line = " ".join([THUMBNAILER, "--workers=2"] + list(args))
        for name in ("Thumbnailer1", "Cache1"):
            with open(os.path.join(tmp, "services", f"org.freedesktop.thumbnails.{name}.service"), "w") as f:
                f.write(f"[D-BUS Service]\nName=org.freedesktop.thumbnails.{name}\nExec={exec_line}\n")
        conf = os.path.join(tmp, "bus.conf")
        with open(conf, "w") as f:
            f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={tmp}</listen>
  <servicedir>{tmp}/services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
""")
        system_cache = subprocess.run(["pkg-config", "--variable=gdk_pixbuf_cache_file", "gdk-pixbuf-2.0"],
                                      capture_output=True, text=True).stdout.strip()
        module_file = os.path.join(tmp, "loaders.cache")
        with open(module_file, "w") as f:
            if os.path.exists(system_cache):
                with open(system_cache) as system:
                    f.write(system.read())
            f.write(f'\n"{CRASH_LOADER}"\n"wpcrash" 4 "gdk-pixbuf" "workpool crash test" "LGPL"\n'
                    '"image/x-xcf" ""\n"xcf" ""\n"gimp xcf" "" 100\n\n')
        env = dict(os.environ, HOME=self.home, XDG_CACHE_HOME=os.path.join(self.home, ".cache"),
                   GDK_PIXBUF_MODULE_FILE=module_file, G_MESSAGES_DEBUG="workpool")
        self.log_path = os.path.join(tmp, "bus.log")
        self.log = open(self.log_path, "w")
        self.daemon = subprocess.Popen(["dbus-daemon", f"--config-file={conf}", "--nofork", "--print-address=1"],
                                       stdout=subprocess.PIPE, stderr=self.log, env=env, text=True)
        address = self.daemon.stdout.readline().strip()
        assert address, "dbus-daemon gave no address"
        self.conn = self.connect(address)
        self.address = address
        self.events = []
        self.conn.signal_subscribe(None, NAME, None, PATH, None, Gio.DBusSignalFlags.NONE, self.on_signal)
        self.owner_changes = []
        self.conn.signal_subscribe("org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
                                   "/org/freedesktop/DBus", NAME, Gio.DBusSignalFlags.NONE,
                                   lambda *a: self.owner_changes.append(a[5].unpack()))

    @staticmethod
    def connect(address):
        return Gio.DBusConnection.new_for_address_sync(
            address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
            | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)

    def on_signal(self, conn, sender, path, iface, name, params):
        self.events.append((name, params.unpack()))

    def call(self, method, params=None, reply="()", name=NAME, path=PATH, iface=NAME, conn=None):
        return (conn or self.conn).call_sync(name, path, iface, method, params, GLib.VariantType(reply),
                                             Gio.DBusCallFlags.NONE, int(WAIT_S * 1000), None).unpack()

    def queue(self, uris, flavor="normal", scheduler="foreground", unqueue=0):
        mimes = ["image/jpeg"] * len(uris)
        return self.call("Queue", GLib.Variant("(asasssu)", (uris, mimes, flavor, scheduler, unqueue)),
                         "(u)")[0]

    def wait_until(self, condition, what):
        deadline = time.monotonic() + WAIT_S
        context = GLib.MainContext.default()
        while not condition():
            assert time.monotonic() < deadline, f"no {what} within {WAIT_S} s"
            # Wakes the loop to look at the deadline; fires once.
            GLib.timeout_add(100, lambda: False)
            context.iteration(True)

    def finished(self, handle):
        return any(n == "Finished" and a[0] == handle for n, a in self.events)

    def wait_finished(self, *handles):
        self.wait_until(lambda: all(self.finished(h) for h in handles), f"Finished for {handles}")

    def result(self, handle):
        """(started, ready URIs in order, [(uris, code, message)], number of Finished)."""
        started = sum(1 for n, a in self.events if n == "Started" and a[0] == handle)
        ready = [u for n, a in self.events if n == "Ready" and a[0] == handle for u in a[1]]
        errors = [(a[1], a[2], a[3]) for n, a in self.events if n == "Error" and a[0] == handle]
        finished = sum(1 for n, a in self.events if n == "Finished" and a[0] == handle)
        return started, ready, errors, finished

    def jobs(self, path=None):
        with open(self.log_path) as f:
            return [line for line in f if "Thumbnailing " in line and (path is None or f"Thumbnailing {path} (" in line)]

    def owner_pid(self):
        """The service's pid, starting it when it is not running."""
        self.call("GetFlavors", reply="(as)")
        return self.call("GetConnectionUnixProcessID", GLib.Variant("(s)", (NAME,)), "(u)",
                         name="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                         iface="org.freedesktop.DBus")[0]

    def close(self):
        self.conn.close_sync(None)
        self.daemon.terminate()
        self.daemon.wait()
        self.log.close()


def uri(path):
    return GLib.filename_to_uri(path, None)


def entry(bus, path, flavor="normal"):
    return os.path.join(bus.cache, flavor, hashlib.md5(uri(path).encode()).hexdigest() + ".png")


def photos(tmp, name, count=None):
    """A folder of copies of the bundled photos; COUNT copies of one if given."""
    folder = os.path.join(tmp, name)
    os.makedirs(folder)
    sources = sorted(os.path.join(d, f) for d, _, fs in os.walk(PHOTOS) for f in fs
                     if f.lower().endswith((".jpg", ".jpeg", ".png")))
    if count is None:
        for s in sources:
            shutil.copy(s, folder)
    else:
        for i in range(count):
            shutil.copy(sources[0], os.path.join(folder, f"copy-{i:03d}.jpg"))
    return sorted(os.path.join(folder, f) for f in os.listdir(folder))


def children(pid):
    """The processes whose parent is PID."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def check_cache(bus, folder, *flags):
    status = subprocess.run([sys.executable, CHECK_CACHE, "--quiet", *flags, bus.cache, folder]).returncode
    assert status == 0, f"check-cache.py {folder}: status {status}"


# ---- the cases ----------------------------------------------------------

def case_introspection(bus, tmp):
    """GetSchedulers, GetFlavors and GetSupported answer as Tumbler's do"""
    assert bus.call("GetSchedulers", reply="(as)")[0] == ["default", "foreground", "background"]
    assert sorted(bus.call("GetFlavors", reply="(as)")[0]) == ["large", "normal", "x-large", "xx-large"]
    schemes, types = bus.call("GetSupported", reply="(asas)")
    assert len(schemes) == len(types) and set(schemes) == {"file"}
    for t in ("image/jpeg", "image/png", "image/gif", "image/x-xcf"):
        assert t in types, f"{t} not supported: {types}"


def case_queue_and_format(bus, tmp):
    """Queue thumbnails every file once: Started, Ready for each, Finished; the cache follows the standard"""
    files = photos(tmp, "queue")
    handle = bus.queue([uri(p) for p in files])
    assert handle > 0
    bus.wait_finished(handle)
    started, ready, errors, finished = bus.result(handle)
    assert (started, errors, finished) == (1, [], 1), (started, errors, finished)
    assert sorted(ready) == sorted(uri(p) for p in files)
    check_cache(bus, os.path.dirname(files[0]), "--strays")
    for p in files:
        assert len(bus.jobs(p)) == 1
        assert os.stat(entry(bus, p)).st_mode & 0o777 == 0o600
    assert os.stat(os.path.join(bus.cache, "normal")).st_mode & 0o777 == 0o700
    # Answered again without a job, the same files.
    before = {p: os.stat(entry(bus, p)).st_ino for p in files}
    handle = bus.queue([uri(p) for p in files])
    bus.wait_finished(handle)
    assert sorted(bus.result(handle)[1]) == sorted(uri(p) for p in files)
    assert all(len(bus.jobs(p)) == 1 for p in files)
    assert before == {p: os.stat(entry(bus, p)).st_ino for p in files}


def case_flavors(bus, tmp):
    """Each flavor fits its box; an unknown flavor fails every URI with code 5"""
    files = photos(tmp, "flavors")[:2]
    for flavor, box in (("large", 256), ("x-large", 512), ("xx-large", 1024)):
        handle = bus.queue([uri(p) for p in files], flavor, "default")
        bus.wait_finished(handle)
        assert sorted(bus.result(handle)[1]) == sorted(uri(p) for p in files), flavor
        for p in files:
            thumb = GdkPixbuf.Pixbuf.new_from_file(entry(bus, p, flavor))
            image = GdkPixbuf.Pixbuf.get_file_info(p)
            assert max(thumb.get_width(), thumb.get_height()) == min(box, max(image[1], image[2]))
    handle = bus.queue([uri(p) for p in files], "huge")
    bus.wait_finished(handle)
    started, ready, errors, finished = bus.result(handle)
    assert ready == [] and len(errors) == 1 and errors[0][1] == 5 and sorted(errors[0][0]) == sorted(uri(p) for p in files)


def case_errors(bus, tmp):
    """Unsupported, missing, corrupt and cached files get Tumbler's codes; a failure entry is kept"""
    folder = os.path.join(tmp, "errors")
    os.makedirs(folder)
    text = os.path.join(folder, "notes.jpg")
    with open(text, "w") as f:
        f.write("just words, not an image\n")
    corrupt = os.path.join(folder, "corrupt.jpg")
    with open(corrupt, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 broken")
    missing = os.path.join(folder, "missing.jpg")
    os.makedirs(os.path.join(bus.cache, "normal"), exist_ok=True)
    inside = os.path.join(bus.cache, "normal", "x.png")
    shutil.copy(os.path.join(PHOTOS, "garden", "sticker.png"), inside)
    uris = ["http://example.org/a.jpg", uri(text), uri(corrupt), uri(missing), uri(inside)]
    handle = bus.queue(uris)
    bus.wait_finished(handle)
    started, ready, errors, finished = bus.result(handle)
    codes = {e[0][0]: e[1] for e in errors}
    assert ready == [] and finished == 1 and all(len(e[0]) == 1 for e in errors)
    assert codes == {uris[0]: 0, uris[1]: 0, uris[2]: 2, uris[3]: 8, uris[4]: 3}, codes
    fail_folder = [d for d in os.listdir(os.path.join(bus.cache, "fail")) if d.startswith("workpool-")]
    fail = os.path.join(bus.cache, "fail", fail_folder[0], hashlib.md5(uris[2].encode()).hexdigest() + ".png")
    assert os.path.isfile(fail)
    assert not os.path.exists(entry(bus, missing))
    # The failure is honoured: no second job.
    handle = bus.queue([uri(corrupt)])
    bus.wait_finished(handle)
    assert bus.result(handle)[2][0][1] == 2 and len(bus.jobs(corrupt)) == 1


def case_identical_requests(bus, tmp):
    """Seven identical requests at once are each answered, and each file is thumbnailed once"""
    files = photos(tmp, "identical")
    uris = [uri(p) for p in files]
    replies = []
    for _ in range(7):
        bus.conn.call(NAME, PATH, NAME, "Queue",
                      GLib.Variant("(asasssu)", (uris, ["image/jpeg"] * len(uris), "normal", "foreground", 0)),
                      GLib.VariantType("(u)"), Gio.DBusCallFlags.NONE, -1, None,
                      lambda c, r: replies.append(c.call_finish(r).unpack()[0]))
    bus.wait_until(lambda: len(replies) == 7, "7 replies")
    bus.wait_finished(*replies)
    for h in replies:
        started, ready, errors, finished = bus.result(h)
        assert sorted(ready) == sorted(uris) and errors == [] and finished == 1
    for p in files:
        assert len(bus.jobs(p)) == 1, bus.jobs(p)


def case_foreground_first(bus, tmp):
    """A foreground request overtakes the queued background work, which idle-priority workers run"""
    back = photos(tmp, "background", 60)
    front = photos(tmp, "foreground")
    bh = bus.queue([uri(p) for p in back], "normal", "background")
    fh = bus.queue([uri(p) for p in front], "normal", "foreground")
    bus.wait_finished(bh, fh)
    # In the order the jobs started: once the first foreground job has
    # started, no background job starts before the last foreground one.
    jobs = bus.jobs()
    front_jobs = [i for i, j in enumerate(jobs) if "/foreground/" in j]
    back_jobs = [i for i, j in enumerate(jobs) if "/background/" in j]
    assert len(front_jobs) == len(front) and len(back_jobs) == len(back)
    between = [i for i in back_jobs if front_jobs[0] < i < front_jobs[-1]]
    assert between == [], f"background jobs started among the foreground ones: {between}"
    assert back_jobs[-1] > front_jobs[-1], "the background request ended before the foreground one began"
    assert all("background)" in jobs[i] for i in back_jobs)
    # The background work ran in workers at idle priority, the foreground
    # work in others.
    policies = {os.sched_getscheduler(pid) for pid in children(bus.owner_pid())}
    assert policies == {os.SCHED_IDLE, os.SCHED_OTHER}, policies
    assert sorted(bus.result(bh)[1]) == sorted(uri(p) for p in back)
    assert sorted(bus.result(fh)[1]) == sorted(uri(p) for p in front)


def case_dequeue(bus, tmp):
    """Dequeue mid-run drops the queued work and answers Finished; handle_to_unqueue does the same"""
    files = photos(tmp, "dequeue", 60)
    handle = bus.queue([uri(p) for p in files], "normal", "background")
    bus.wait_until(lambda: len(bus.result(handle)[1]) > 0, "a first Ready")
    bus.call("Dequeue", GLib.Variant("(u)", (handle,)))
    bus.wait_finished(handle)
    done_at_finish = len(bus.result(handle)[1])
    # The service goes on: a later request is answered, after which no
    # job of the dequeued request starts.
    other = photos(tmp, "after-dequeue")[:1]
    h2 = bus.queue([uri(p) for p in other])
    bus.wait_finished(h2)
    started_jobs = sum(len(bus.jobs(p)) for p in files)
    assert started_jobs < len(files), f"{started_jobs} of {len(files)} started after Dequeue"
    assert started_jobs <= done_at_finish + WINDOW, (started_jobs, done_at_finish)
    assert len(bus.result(handle)[1]) == done_at_finish, "Ready after Finished"
    assert bus.result(handle)[3] == 1
    # handle_to_unqueue
    files = photos(tmp, "unqueue", 30)
    h3 = bus.queue([uri(p) for p in files], "normal", "background")
    h4 = bus.queue([uri(other[0])], "large", "foreground", h3)
    bus.wait_finished(h3, h4)
    assert sum(len(bus.jobs(p)) for p in files) < len(files)


def case_client_leaves(bus, tmp):
    """A client that leaves the bus has its requests stopped"""
    files = photos(tmp, "leaving", 60)
    other = Bus.connect(bus.address)
    mimes = ["image/jpeg"] * len(files)
    other.call_sync(NAME, PATH, NAME, "Queue",
                    GLib.Variant("(asasssu)", ([uri(p) for p in files], mimes, "normal", "background", 0)),
                    GLib.VariantType("(u)"), Gio.DBusCallFlags.NONE, -1, None)
    gone = []
    name = other.get_unique_name()
    bus.conn.signal_subscribe("org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
                              "/org/freedesktop/DBus", name, Gio.DBusSignalFlags.NONE,
                              lambda *a: gone.append(a[5].unpack()[2] == ""))
    other.close_sync(None)
    # The bus sent the service the departure before it forwards anything
    # sent after this client saw it too.
    bus.wait_until(lambda: any(gone), "the departure of the other client")
    later = photos(tmp, "after-leaving")[:1]
    handle = bus.queue([uri(p) for p in later])
    bus.wait_finished(handle)
    # In the service's log: no job of the departed client after it said so.
    with open(bus.log_path) as f:
        log = f.read().splitlines()
    stopped = [i for i, line in enumerate(log) if f"{name} left the bus" in line]
    assert stopped, "the service did not notice the departure"
    leaving = [i for i, line in enumerate(log) if "Thumbnailing " in line and "/leaving/" in line]
    assert leaving and len(leaving) < len(files), len(leaving)
    assert all(i < stopped[0] for i in leaving), "a job of the departed client started after it left"


def case_unicast(bus, tmp):
    """Signals go to the client that queued, not to others"""
    other = Bus.connect(bus.address)
    seen = []
    other.signal_subscribe(None, NAME, None, PATH, None, Gio.DBusSignalFlags.NONE,
                           lambda *a: seen.append(a[4]))
    files = photos(tmp, "unicast")[:2]
    handle = bus.queue([uri(p) for p in files])
    bus.wait_finished(handle)
    # The service sent its signals before it answers this call of the other client.
    bus.call("GetFlavors", reply="(as)", conn=other)
    GLib.MainContext.default().iteration(False)
    other.close_sync(None)
    assert seen == [], seen


def case_crash_and_hang(bus, tmp):
    """A decoder that crashes or hangs fails its URI alone; the rest are Ready and the service lives"""
    files = photos(tmp, "crash")[:3]
    crash = os.path.join(tmp, "crash", "boom.jpg")
    with open(crash, "wb") as f:
        f.write(b"gimp xcf file\0WPCRASH" + b"\0" * 64)
    hang = os.path.join(tmp, "crash", "stuck.jpg")
    with open(hang, "wb") as f:
        f.write(b"gimp xcf file\0WPHANG" + b"\0" * 64)
    pid = bus.owner_pid()
    uris = [uri(files[0]), uri(crash), uri(files[1]), uri(hang), uri(files[2])]
    handle = bus.queue(uris)
    bus.wait_finished(handle)
    started, ready, errors, finished = bus.result(handle)
    assert sorted(ready) == sorted(uri(p) for p in files), ready
    codes = {e[0][0]: (e[1], e[2]) for e in errors}
    assert set(codes) == {uri(crash), uri(hang)}, codes
    assert codes[uri(crash)][0] == 2 and "decoder crashed" in codes[uri(crash)][1], codes
    assert codes[uri(hang)][0] == 2 and "took too long" in codes[uri(hang)][1], codes
    assert bus.owner_pid() == pid


def case_cache1(bus, tmp):
    """Cache1: Move and Copy carry entries over, Delete and Cleanup remove them"""
    files = photos(tmp, "cache1")[:2]
    handle = bus.queue([uri(p) for p in files])
    bus.wait_finished(handle)
    a, b = files
    moved = a + ".moved.jpg"
    os.rename(a, moved)
    call = lambda m, v, t: bus.call(m, GLib.Variant(t, v), name=CACHE_NAME, path=CACHE_PATH, iface=CACHE_NAME)  # noqa: E731
    call("Move", ([uri(a)], [uri(moved)]), "(asas)")
    assert not os.path.exists(entry(bus, a)) and os.path.exists(entry(bus, moved))
    assert GdkPixbuf.Pixbuf.new_from_file(entry(bus, moved)).get_option("tEXt::Thumb::URI") == uri(moved)
    copied = b + ".copy.jpg"
    shutil.copy2(b, copied)
    call("Copy", ([uri(b)], [uri(copied)]), "(asas)")
    assert os.path.exists(entry(bus, b)) and os.path.exists(entry(bus, copied))
    assert GdkPixbuf.Pixbuf.new_from_file(entry(bus, copied)).get_option("tEXt::Thumb::URI") == uri(copied)
    assert GdkPixbuf.Pixbuf.new_from_file(entry(bus, b)).get_option("tEXt::Thumb::URI") == uri(b)
    call("Delete", ([uri(copied)],), "(as)")
    assert not os.path.exists(entry(bus, copied))
    os.unlink(b)
    call("Cleanup", ([uri(os.path.dirname(b))], 0), "(asu)")
    assert not os.path.exists(entry(bus, b)) and os.path.exists(entry(bus, moved))


def case_sigterm(bus, tmp):
    """SIGTERM answers the waiting URIs with code 7 and Finished, and the service exits"""
    files = photos(tmp, "sigterm", 60)
    handle = bus.queue([uri(p) for p in files], "normal", "background")
    bus.wait_until(lambda: len(bus.result(handle)[1]) > 0, "a first Ready")
    os.kill(bus.owner_pid(), signal.SIGTERM)
    bus.wait_finished(handle)
    started, ready, errors, finished = bus.result(handle)
    assert errors and all(e[1] == 7 for e in errors)
    answered = ready + [u for e in errors for u in e[0]]
    assert sorted(answered) == sorted(uri(p) for p in files), "every URI answered exactly once"
    bus.wait_until(lambda: any(c[0] == NAME and c[2] == "" for c in bus.owner_changes), "the service's exit")


def case_idle_exit(bus, tmp):
    """After its idle timeout the service exits, and the next call starts it again"""
    pid = bus.owner_pid()
    bus.wait_until(lambda: any(c[0] == NAME and c[2] == "" for c in bus.owner_changes), "an idle exit")
    assert bus.call("GetFlavors", reply="(as)")[0]
    assert bus.owner_pid() != pid


CASES = [
    ((), [case_introspection, case_queue_and_format, case_flavors, case_errors, case_identical_requests,
          case_foreground_first, case_dequeue, case_client_leaves, case_unicast, case_cache1]),
    (("--timeout=3",), [case_crash_and_hang]),
    ((), [case_sigterm]),
    (("--idle-timeout=1",), [case_idle_exit]),
]


def main():
    n = sum(len(cases) for _, cases in CASES)
    print(f"1..{n}", flush=True)
    number = 0
    failed = False
    for args, cases in CASES:
        tmp = tempfile.mkdtemp(prefix="wp-thumbnailer-")
        bus = Bus(tmp, args)
        try:
            for case in cases:
                number += 1
                name = case.__name__[5:].replace("_", "-")
                try:
                    case(bus, os.path.join(tmp, "files"))
                    print(f"ok {number} - {name}: {case.__doc__}", flush=True)
                except Exception:
                    failed = True
                    print(f"not ok {number} - {name}: {case.__doc__}")
                    for line in traceback.format_exc().splitlines():
                        print(f"# {line}")
                    with open(bus.log_path) as log:
                        for line in log.read().splitlines()[-15:]:
                            print(f"# log: {line}")
                    sys.stdout.flush()
        finally:
            bus.close()
            shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
