#!/usr/bin/python3
# make-test-images.py: regenerates the committed test images of tests/data.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run with Debian's Python, which has PIL (python3-pil):
#
#   /usr/bin/python3 tests/data/make-test-images.py
#
# It writes, deterministically:
#
#   srgb.icc   a real sRGB ICC profile (littleCMS via PIL.ImageCms), for the
#              tests that check a profile is carried over (libpng only
#              embeds well-formed profiles)
#   srgb.png   a 64x48 RGB PNG with that profile in an iCCP chunk
#              (gdk-pixbuf's PNG writer cannot embed a profile in RGB files)
#   bad/       the corpus of bad inputs: the thumbnail plugin must reject
#              each with a clean error and no file left behind, or, for a
#              damaged file that decodes in part (truncated-half.*,
#              truncated-no-eoi.jpg, huge-60000x60000.jpg), write
#              thumbnails of what decodes and report the damage;
#              tests/thumbnail knows what to expect of each file:
#
#     empty.jpg                 zero bytes
#     truncated-after-soi.jpg   a JPEG cut after its first 2 bytes
#     truncated-header.jpg      cut inside the quantization tables
#     truncated-at-scan.jpg     cut right after the start-of-scan header
#     truncated-half.jpg        cut in the middle of the entropy-coded data
#     truncated-no-eoi.jpg      everything but the final EOI marker
#     truncated-progressive.jpg a progressive JPEG cut after 60% of its bytes
#     garbage-after-soi.jpg     FF D8 followed by random bytes
#     truncated-half.png        a PNG cut in the middle of its image data
#     truncated-half.bmp        a BMP cut in the middle of its pixels
#     huge-60000x60000.jpg      a valid small JPEG whose SOF0 claims 60000x60000
#     huge-60000x60000.png      a PNG header (IHDR) claiming 60000x60000
#     not-an-image.jpg          a text file named .jpg
#
# Every image is drawn here; nothing is copied from elsewhere (CC0).

import io
import os
import random
import struct
import zlib

from PIL import Image, ImageCms, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = os.path.join(HERE, "bad")


def small_photo(width=64, height=48):
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        draw.line([(0, y), (width, y)], fill=(4 * y % 256, 128, 255 - 4 * y % 256))
    draw.ellipse([8, 8, 40, 40], fill=(250, 200, 30))
    return image


def jpeg_bytes(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, **options)
    return buffer.getvalue()


def marker_offset(data, marker):
    """Offset of the first FF <marker> outside entropy-coded data."""
    offset = 2
    while offset < len(data):
        assert data[offset] == 0xFF, "not at a marker"
        code = data[offset + 1]
        if code == marker:
            return offset
        length = struct.unpack(">H", data[offset + 2:offset + 4])[0]
        offset += 2 + length
    raise ValueError("marker %02X not found" % marker)


def write(name, data):
    with open(os.path.join(BAD, name), "wb") as f:
        f.write(data)


def png_chunk(kind, payload):
    return (struct.pack(">I", len(payload)) + kind + payload +
            struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def main():
    os.makedirs(BAD, exist_ok=True)

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    with open(os.path.join(HERE, "srgb.icc"), "wb") as f:
        f.write(profile.tobytes())
    small_photo().save(os.path.join(HERE, "srgb.png"), "PNG",
                       icc_profile=profile.tobytes())

    baseline = jpeg_bytes(small_photo())
    progressive = jpeg_bytes(small_photo(), progressive=True)

    dqt = marker_offset(baseline, 0xDB)
    sos = marker_offset(baseline, 0xDA)
    sos_length = struct.unpack(">H", baseline[sos + 2:sos + 4])[0]
    scan_start = sos + 2 + sos_length
    assert baseline[-2:] == b"\xff\xd9"

    write("empty.jpg", b"")
    write("truncated-after-soi.jpg", baseline[:2])
    write("truncated-header.jpg", baseline[:dqt + 20])
    write("truncated-at-scan.jpg", baseline[:scan_start])
    write("truncated-half.jpg", baseline[:(scan_start + len(baseline)) // 2])
    write("truncated-no-eoi.jpg", baseline[:-2])
    write("truncated-progressive.jpg", progressive[:len(progressive) * 6 // 10])

    # gdk-pixbuf's PNG and BMP loaders return such files as images with
    # undefined rows; the plugin must notice.
    for kind in ("png", "bmp"):
        buffer = io.BytesIO()
        small_photo().save(buffer, kind.upper())
        data = buffer.getvalue()
        write("truncated-half." + kind, data[:len(data) // 2])

    rng = random.Random(4)
    write("garbage-after-soi.jpg",
          b"\xff\xd8" + bytes(rng.randrange(256) for _ in range(4096)))

    # SOF0: FF C0, length (2), precision (1), height (2), width (2).
    sof = marker_offset(baseline, 0xC0)
    huge = bytearray(baseline)
    huge[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)
    write("huge-60000x60000.jpg", bytes(huge))

    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    write("huge-60000x60000.png",
          b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
          png_chunk(b"IDAT", zlib.compress(b"\0" * 1024)) +
          png_chunk(b"IEND", b""))

    write("not-an-image.jpg",
          b"This is a text file with a .jpg name, not an image.\n" * 4)


if __name__ == "__main__":
    main()
