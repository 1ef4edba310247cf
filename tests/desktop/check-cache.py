#!/usr/bin/python3
# check-cache.py: are the photos of a folder in the freedesktop thumbnail cache?
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   check-cache.py [--strays] [--quiet] CACHE_ROOT FOLDER
#
# For every file of FOLDER, looks for its thumbnail in each flavor of
# CACHE_ROOT (normal, large, x-large, xx-large) under the name the Thumbnail
# Managing Standard gives it: the MD5 of the file's URI as
# g_filename_to_uri() escapes it, plus .png.  A thumbnail found must be a
# PNG whose box fits the flavor, whose tEXt Thumb::URI is that URI and
# whose Thumb::MTime (integer, or Tumbler's fractional form) is the file's
# mtime; its mode 0600, its folder's 0700.  With --strays, no other file
# may lie in a flavor folder (a temporary file left behind).
#
# Exit status: 0 when every file has a valid thumbnail, 3 when some have
# none yet (and nothing found is wrong), 4 when all have one but a stray
# file lies in a flavor folder, 1 when something found is wrong.

import hashlib
import os
import stat
import struct
import sys
import zlib

from gi.repository import GLib

FLAVORS = {"normal": 128, "large": 256, "x-large": 512, "xx-large": 1024}


def png_info(path):
    """(width, height, {key: value}) of the PNG at path; raises ValueError."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, text, size = 8, {}, None
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc, = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(kind + body) != crc:
            raise ValueError("bad CRC in chunk %r" % kind)
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            text[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"IEND":
            break
        pos += 12 + length
    if size is None:
        raise ValueError("no IHDR")
    return size[0], size[1], text


def check(root, folder, quiet, strays):
    missing, wrong, stray = [], [], []
    for flavor in FLAVORS:
        d = os.path.join(root, flavor)
        if not os.path.isdir(d):
            continue
        if stat.S_IMODE(os.stat(d).st_mode) != 0o700:
            wrong.append("%s has mode %o, not 700" % (d, stat.S_IMODE(os.stat(d).st_mode)))
        for name in os.listdir(d):
            if len(name) != 36 or not name.endswith(".png"):
                stray.append("%s/%s" % (d, name))
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        uri = GLib.filename_to_uri(path, None)
        digest = hashlib.md5(uri.encode()).hexdigest()
        st = os.stat(path)
        found = []
        for flavor, box in FLAVORS.items():
            thumb = os.path.join(root, flavor, digest + ".png")
            if not os.path.exists(thumb):
                continue
            try:
                width, height, text = png_info(thumb)
            except (OSError, ValueError) as e:
                wrong.append("%s: %s" % (thumb, e))
                continue
            mode = stat.S_IMODE(os.stat(thumb).st_mode)
            problems = []
            if mode != 0o600:
                problems.append("mode %o" % mode)
            if max(width, height) > box:
                problems.append("%dx%d exceeds %d" % (width, height, box))
            if text.get("Thumb::URI") != uri:
                problems.append("Thumb::URI %r" % text.get("Thumb::URI"))
            try:
                if int(float(text.get("Thumb::MTime", ""))) != int(st.st_mtime):
                    problems.append("Thumb::MTime %s, file %d" % (text["Thumb::MTime"], st.st_mtime))
            except ValueError:
                problems.append("Thumb::MTime %r" % text.get("Thumb::MTime"))
            if problems:
                wrong.append("%s (%s): %s" % (thumb, name, ", ".join(problems)))
            else:
                found.append("%s %dx%d" % (flavor, width, height))
        if not found:
            missing.append(name)
        elif not quiet:
            print("  %-16s %s" % (name, ", ".join(found)))
    for w in wrong:
        print("wrong: " + w, file=sys.stderr)
    if not quiet and missing:
        print("no thumbnail: " + ", ".join(missing))
    if strays and not quiet:
        for name in stray:
            print("stray file: " + name, file=sys.stderr)
    return 1 if wrong else 3 if missing else 4 if strays and stray else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    flags = {a for a in args if a.startswith("--")}
    args = [a for a in args if not a.startswith("--")]
    sys.exit(check(args[0], args[1], "--quiet" in flags, "--strays" in flags))
