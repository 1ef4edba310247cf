#!/usr/bin/python3
# corpus.py: facts about the benchmark's photos, for run.sh.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   corpus.py scales DIR [BOX]
#                           "M/8 PATH" per JPEG: the smallest DCT scale
#                           whose output still covers the image's
#                           thumbnail in a BOXxBOX box (1024), i.e. what
#                           the thumbnail plugin decodes at (the floor's
#                           djpeg -scale)
#   corpus.py baseline DIR  the baseline (not progressive) JPEGs, one a
#                           line
#   corpus.py describe DIR  one line: count, megapixel range and median,
#                           how many progressive
#
# Reads headers only (Pillow opens lazily).

import os
import statistics
import sys

from PIL import Image



def jpegs(root):
    for name in sorted(os.listdir(root)):
        if name.lower().endswith((".jpg", ".jpeg")):
            yield os.path.join(root, name)


def fit(width, height, box):
    if width <= box and height <= box:
        return width, height
    scale = min(box / width, box / height)
    return max(1, int(width * scale + 0.5)), max(1, int(height * scale + 0.5))


def covering_scale(width, height, box):
    fit_width, fit_height = fit(width, height, box)
    for m in range(1, 9):
        # libjpeg: output size = ceil(size * M / 8)
        if -(-width * m // 8) >= fit_width and -(-height * m // 8) >= fit_height:
            return m
    return 8


def scales(root, box="1024"):
    for path in jpegs(root):
        with Image.open(path) as image:
            print("%d/8 %s" % (covering_scale(*image.size, int(box)), path))


def is_progressive(image):
    return bool(image.info.get("progressive") or image.info.get("progression"))


def baseline(root):
    for path in jpegs(root):
        with Image.open(path) as image:
            if not is_progressive(image):
                print(path)


def describe(root):
    megapixels = []
    progressive = 0
    for path in jpegs(root):
        with Image.open(path) as image:
            megapixels.append(image.size[0] * image.size[1] / 1e6)
            progressive += is_progressive(image)
    print("%d photos, %.1f to %.1f megapixels (median %.1f), %d progressive"
          % (len(megapixels), min(megapixels), max(megapixels),
             statistics.median(megapixels), progressive))


if __name__ == "__main__":
    {"scales": scales, "baseline": baseline, "describe": describe}[sys.argv[1]](*sys.argv[2:])
