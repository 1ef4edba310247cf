#!/usr/bin/python3
# client.py: a Thumbnailer1 client for the thumbnailer benchmark.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   client.py ping
#   client.py queue FLAVOR FOLDER...
#   client.py sizes CACHE_ROOT FLAVOR FOLDER...
#
# ping calls GetSupported (which starts the thumbnailer by activation)
# and prints how many MIME types it supports.  queue sends, as Thunar
# does when folders open, one Queue (the folder's files, their MIME types,
# FLAVOR, "foreground", 0) per FOLDER, all at once, waits for every
# request's Finished, and prints the seconds from the first Queue to the
# last Finished; exit status 1 when any URI got Error or no Ready.
# On $DBUS_SESSION_BUS_ADDRESS.  sizes prints how many of the files'
# FLAVOR thumbnails in CACHE_ROOT are not the size the image fits its box
# with (off by more than a pixel: an embedded preview of another aspect),
# or are missing.

import hashlib
import os
import struct
import sys
import time

from gi.repository import Gio, GLib

NAME = "org.freedesktop.thumbnails.Thumbnailer1"
PATH = "/org/freedesktop/thumbnails/Thumbnailer1"
TIMEOUT_MS = 600_000


def call(bus, method, args, reply):
    return bus.call_sync(NAME, PATH, NAME, method, args, GLib.VariantType(reply),
                         Gio.DBusCallFlags.NONE, TIMEOUT_MS, None)


def ping(bus):
    schemes, mime_types = call(bus, "GetSupported", None, "(asas)").unpack()
    print("%d MIME types" % len(set(mime_types)))
    return 0


def queue(bus, flavor, folders):
    loop = GLib.MainLoop()
    pending, ready, errors = set(), set(), []

    def on_signal(_bus, _sender, _path, _iface, signal, params):
        handle = params[0]
        if signal == "Ready":
            ready.update(params[1])
        elif signal == "Error":
            errors.append((params[1], params[2], params[3]))
        elif signal == "Finished":
            pending.discard(handle)
            if not pending:
                loop.quit()

    bus.signal_subscribe(None, NAME, None, PATH, None, Gio.DBusSignalFlags.NONE, on_signal)
    requests = []
    for folder in folders:
        names = sorted(os.listdir(folder))
        uris = [GLib.filename_to_uri(os.path.join(folder, n), None) for n in names]
        types = [Gio.content_type_get_mime_type(Gio.content_type_guess(n, None)[0]) for n in names]
        requests.append((uris, types))
    wanted = {uri for uris, _ in requests for uri in uris}

    start = time.monotonic()
    for uris, types in requests:
        handle, = call(bus, "Queue", GLib.Variant("(asasssu)", (uris, types, flavor, "foreground", 0)),
                       "(u)").unpack()
        pending.add(handle)
    GLib.timeout_add(TIMEOUT_MS, loop.quit)
    loop.run()
    elapsed = time.monotonic() - start

    for uris, code, message in errors:
        print("error %d for %d URIs: %s" % (code, len(uris), message), file=sys.stderr)
    if pending:
        print("%d requests never finished" % len(pending), file=sys.stderr)
        return 1
    if ready != wanted:
        print("%d of %d URIs got no Ready" % (len(wanted - ready), len(wanted)), file=sys.stderr)
        return 1
    print("%.3f" % elapsed)
    return 0


BOXES = {"normal": 128, "large": 256, "x-large": 512, "xx-large": 1024}


def expected_size(path, box):
    from PIL import Image

    with Image.open(path) as image:
        width, height = image.size
        if image.getexif().get(0x0112, 1) in (5, 6, 7, 8):
            width, height = height, width
    scale = min(box / width, box / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def sizes(root, flavor, folders):
    wrong = missing = 0
    for folder in folders:
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            uri = GLib.filename_to_uri(path, None)
            thumb = os.path.join(root, flavor, hashlib.md5(uri.encode()).hexdigest() + ".png")
            try:
                with open(thumb, "rb") as f:
                    header = f.read(24)
            except FileNotFoundError:
                missing += 1
                continue
            width, height = struct.unpack(">II", header[16:24])
            ew, eh = expected_size(path, BOXES[flavor])
            if abs(width - ew) > 1 or abs(height - eh) > 1:
                wrong += 1
    print("%d %d" % (wrong, missing))
    return 0


def main(argv):
    if argv[1] == "sizes":
        return sizes(argv[2], argv[3], argv[4:])
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    if argv[1] == "ping":
        return ping(bus)
    return queue(bus, argv[2], argv[3:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
