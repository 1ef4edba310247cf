#!/usr/bin/python3
# reference.py: the reference approach the thumbnail benchmark compares
# workpool with.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   /usr/bin/python3 reference.py [--workers N] [--sizes 1024x1024,...] DIR
#
# The reference the thumbnail benchmark compares with, using Debian's python3-pil:
# every .jpg/.jpeg under DIR (folders named "thumbnails" skipped) gets one
# thumbnail per box in DIR/<subdir>/thumbnails/WxH/NAME.jpg, aspect kept,
# JPEG quality 65, with one task per (image, size) in a
# multiprocessing.Pool of N workers (2 by default).  Each task opens and
# decodes the image on its own, as the reference's pool jobs do.
#
# Pillow's Image.thumbnail() already lets libjpeg decode at a reduced DCT
# scale (Image.draft) when the box is small enough, and the EXIF
# orientation is applied to the thumbnail, not to the full image, so this
# is the reference at its fastest, not a strawman.

import argparse
import multiprocessing
import os
import sys
import time

from PIL import Image, ImageOps

QUALITY = 65
DEFAULT_SIZES = "1024x1024,512x512,256x256,128x128,64x64,32x32"
EXTENSIONS = (".jpg", ".jpeg")


def find_images(root):
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if name != "thumbnails"]
        for name in files:
            if name.lower().endswith(EXTENSIONS):
                yield os.path.join(folder, name)


def destination(source, box):
    folder, name = os.path.split(source)
    stem = os.path.splitext(name)[0]
    return os.path.join(folder, "thumbnails", "%dx%d" % box, stem + ".jpg")


def thumbnail(task):
    source, box, path = task
    with Image.open(source) as image:
        icc_profile = image.info.get("icc_profile")
        image.thumbnail(box)
        image = ImageOps.exif_transpose(image)
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(path, "JPEG", quality=QUALITY, icc_profile=icc_profile)
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sizes", default=DEFAULT_SIZES)
    parser.add_argument("dir")
    args = parser.parse_args()

    boxes = [tuple(int(side) for side in size.split("x"))
             for size in args.sizes.split(",")]
    tasks = []
    for source in find_images(args.dir):
        for box in boxes:
            path = destination(source, box)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tasks.append((source, box, path))

    start = time.monotonic()
    with multiprocessing.Pool(args.workers) as pool:
        for _ in pool.imap_unordered(thumbnail, tasks, chunksize=1):
            pass
    seconds = time.monotonic() - start
    print("%d thumbnails, %.2f s" % (len(tasks), seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
