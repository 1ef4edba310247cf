#!/usr/bin/python3
# make-image-corpus.py: writes the seed corpus of the thumbnail harness.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run from the top of the tree with a Python that has GdkPixbuf through
# PyGObject (Debian: python3-gi, gir1.2-gdkpixbuf-2.0):
#
#   /usr/bin/python3 tests/fuzz/make-image-corpus.py
#
# It rewrites corpus/thumbnail/gen-*: tiny images (a few pixels, so each
# run is quick and mutations reach the pixel data) of every format the
# plugin may meet: what gdk-pixbuf can save (JPEG, PNG with and without
# alpha, BMP, ICO, TIFF), a JPEG with an EXIF orientation and one with an
# ICC profile (the two markers wp-jpeg.c parses), a PNG with an eXIf
# chunk and an extended WebP with an EXIF chunk (wp-exif.c), an icon of a
# BMP and a PNG entry (wp-ico.c), and hand-written GIF, PNM, XPM, XBM and
# TGA files.  The WebP needs the WebP loader (webp-pixbuf-loader).  The bad inputs of tests/data/bad are
# copied next to them as bad-*.  Deterministic: no timestamps are written.

import os
import shutil
import struct
import zlib

import gi
gi.require_version('GdkPixbuf', '2.0')
from gi.repository import GdkPixbuf, GLib  # noqa: E402

TOP = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(TOP, 'corpus', 'thumbnail')
BAD = os.path.join(TOP, '..', 'data', 'bad')


def pixbuf(width, height, alpha):
    channels = 4 if alpha else 3
    data = bytearray()
    for y in range(height):
        for x in range(width):
            data += bytes([(x * 60) % 256, (y * 80) % 256, ((x + y) * 40) % 256])
            if alpha:
                data += bytes([255 if (x + y) % 2 else 96])
    return GdkPixbuf.Pixbuf.new_from_bytes(GLib.Bytes.new(bytes(data)),
                                           GdkPixbuf.Colorspace.RGB, alpha, 8,
                                           width, height, width * channels)


def saved(pb, kind, **options):
    ok, data = pb.save_to_bufferv(kind, list(options), [str(v) for v in options.values()])
    assert ok
    return bytes(data)


def segment(marker, payload):
    return bytes([0xFF, marker]) + struct.pack('>H', len(payload) + 2) + payload


def exif_orientation(value):
    # Big-endian TIFF with one IFD entry: Orientation (0x0112), SHORT, 1.
    tiff = b'MM\x00\x2a' + struct.pack('>I', 8) + struct.pack('>H', 1)
    tiff += struct.pack('>HHIHH', 0x0112, 3, 1, value, 0) + struct.pack('>I', 0)
    return segment(0xE1, b'Exif\x00\x00' + tiff)


def tiff_orientation(value):
    # Little-endian TIFF header and one IFD entry: Orientation, SHORT, 1.
    return (b'II\x2a\x00' + struct.pack('<IH', 8, 1)
            + struct.pack('<HHIHH', 0x0112, 3, 1, value, 0) + struct.pack('<I', 0))


def png_with_exif(png, value):
    payload = tiff_orientation(value)
    chunk = b'eXIf' + payload
    chunk = struct.pack('>I', len(payload)) + chunk + struct.pack('>I', zlib.crc32(chunk))
    return png[:33] + chunk + png[33:]  # after the signature and IHDR


def webp_with_exif(webp, width, height, value):
    # The simple format made extended: VP8X (EXIF flag), the image, EXIF.
    payload = tiff_orientation(value)
    vp8x = bytes([0x08, 0, 0, 0]) + (width - 1).to_bytes(3, 'little') \
        + (height - 1).to_bytes(3, 'little')
    body = b'WEBP' + b'VP8X' + struct.pack('<I', len(vp8x)) + vp8x + webp[12:]
    body += b'EXIF' + struct.pack('<I', len(payload)) + payload + b'\x00' * (len(payload) % 2)
    return b'RIFF' + struct.pack('<I', len(body)) + body


def icon(entries):
    # ICONDIR, then one ICONDIRENTRY per (side, bits, data), then the data.
    head = struct.pack('<HHH', 0, 1, len(entries))
    offset = len(head) + 16 * len(entries)
    table = b''
    for side, bits, data in entries:
        table += struct.pack('<BBBBHHII', side % 256, side % 256, 0, 0, 1, bits,
                             len(data), offset)
        offset += len(data)
    return head + table + b''.join(data for _, _, data in entries)


def icc_marker(profile):
    return segment(0xE2, b'ICC_PROFILE\x00' + bytes([1, 1]) + profile)


def after_soi(jpeg, extra):
    assert jpeg[:2] == b'\xff\xd8'
    return jpeg[:2] + extra + jpeg[2:]


def write(name, data):
    with open(os.path.join(OUT, 'gen-' + name), 'wb') as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    rgb = pixbuf(5, 3, False)
    rgba = pixbuf(4, 4, True)
    jpeg = saved(rgb, 'jpeg', quality=50)

    write('rgb.jpg', jpeg)
    write('rotated.jpg', after_soi(jpeg, exif_orientation(6)))
    write('icc.jpg', after_soi(jpeg, icc_marker(b'\x00' * 128)))
    write('rgb.png', saved(rgb, 'png'))
    write('rgba.png', saved(rgba, 'png'))
    write('rgb.bmp', saved(rgb, 'bmp'))
    write('rgba.ico', saved(rgba, 'ico'))
    write('rgb.tiff', saved(rgb, 'tiff'))
    write('exif.png', png_with_exif(saved(rgb, 'png'), 6))
    write('exif.webp', webp_with_exif(saved(rgb, 'webp', quality=50), 5, 3, 5))
    # gdk-pixbuf writes a one-entry BMP icon: its entry, beside a PNG one.
    bmp_icon = saved(rgba, 'ico')
    bmp_entry = bmp_icon[struct.unpack('<I', bmp_icon[18:22])[0]:]
    write('two-entries.ico', icon([(4, 32, bmp_entry), (5, 32, saved(rgb, 'png'))]))

    # GIF89a, 2x2, a 2-colour table, LZW minimum code size 2.
    write('tiny.gif', b'GIF89a\x02\x00\x02\x00\x80\x00\x00\xff\x00\x00\x00\x00\xff'
          b',\x00\x00\x00\x00\x02\x00\x02\x00\x00\x02\x03\x84\x1d\x05\x00;')
    write('tiny.ppm', b'P6\n2 2\n255\n' + bytes(range(12)))
    write('tiny.pgm', b'P2\n2 2\n15\n0 5\n10 15\n')
    write('tiny.xpm', b'/* XPM */\nstatic char *x[] = {\n"2 2 2 1",\n"a c #FF0000",\n'
          b'"b c None",\n"ab",\n"ba"};\n')
    write('tiny.xbm', b'#define x_width 8\n#define x_height 2\n'
          b'static unsigned char x_bits[] = { 0x55, 0xaa };\n')
    # Uncompressed true-colour TGA, 2x2, 24 bits, origin top-left.
    write('tiny.tga', struct.pack('<BBBHHBHHHHBB', 0, 0, 2, 0, 0, 0, 0, 0, 2, 2, 24, 0x20)
          + bytes(range(12)))

    for name in sorted(os.listdir(BAD)):
        shutil.copyfile(os.path.join(BAD, name), os.path.join(OUT, 'bad-' + name))


if __name__ == '__main__':
    main()
