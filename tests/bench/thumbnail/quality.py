#!/usr/bin/python3
# quality.py: how close thumbnails come to a Pillow reference, by SSIM.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   quality.py PHOTOS NAME=DIR...
#
# For each photo PHOTOS/STEM.jpg and each DIR/WxH/STEM.jpg a method wrote
# (workpool, vipsthumbnail, ...), the SSIM of that thumbnail against the
# reference at the same size, plus the same for "q65": the reference
# itself saved as JPEG quality 65 (4:2:0, as the others) and read back,
# i.e. what the JPEG quality alone costs.  Prints, per box, the median and
# the minimum over the photos for each method (a photo whose pixels are
# those of an earlier one, such as run.sh's lossless progressive copies,
# counts once), then `NAME VALUE UNIT`
# lines for machines, then the targets: the median of "workpool" at every
# box at least that of "vips" and at least the q65 floor's minus 0.005,
# compared at the 4 decimals the figures are given in (a difference below
# 0.00005 is a tie).  Exit status 1 when a target is missed (or a
# thumbnail is missing).
#
# The reference: Pillow, the photo decoded at full size, EXIF orientation
# applied (ImageOps.exif_transpose), transparency composited on white,
# then Image.resize(size, LANCZOS, reducing_gap=2.0), which is what
# Image.thumbnail(box, LANCZOS) does, at exactly the size of the thumbnail
# compared (a method that rounds a side the other way is compared with a
# reference of its own size), kept lossless.
#
# SSIM (Wang et al. 2004) on luma only (Y = 0.299 R + 0.587 G + 0.114 B,
# as JPEG's YCbCr), 8-bit range, K1 = 0.01, K2 = 0.03, Gaussian window
# 11x11 with sigma 1.5, image borders reflected and the 5 pixels next to
# them left out of the mean: what skimage.metrics.structural_similarity
# (gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
# data_range=255) computes, done here with numpy alone.

import hashlib
import io
import os
import statistics
import sys

import numpy
from PIL import Image, ImageOps

QUALITY = 65
FLOOR = "q65"
TOLERANCE = 0.005
RADIUS = 5
SIGMA = 1.5


def gaussian_window():
    offsets = numpy.arange(-RADIUS, RADIUS + 1, dtype=numpy.float64)
    window = numpy.exp(-offsets ** 2 / (2 * SIGMA ** 2))
    return window / window.sum()


WINDOW = gaussian_window()


def blur(plane):
    # Separable, borders reflected as scipy.ndimage's mode="reflect".
    padded = numpy.pad(plane, RADIUS, mode="symmetric")
    height, width = plane.shape
    rows = sum(WINDOW[k] * padded[k:k + height, :] for k in range(2 * RADIUS + 1))
    return sum(WINDOW[k] * rows[:, k:k + width] for k in range(2 * RADIUS + 1))


def luma(image):
    rgb = numpy.asarray(image.convert("RGB"), dtype=numpy.float64)
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def ssim(a, b):
    c1 = (0.01 * 255) ** 2
    c2 = (0.03 * 255) ** 2
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a * mu_a
    var_b = blur(b * b) - mu_b * mu_b
    cov = blur(a * b) - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)
             / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)))
    height, width = index.shape
    if height > 2 * RADIUS and width > 2 * RADIUS:
        index = index[RADIUS:height - RADIUS, RADIUS:width - RADIUS]
    return float(index.mean())


def full_image(path):
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(white, rgba)
        return image.convert("RGB")


def q65(image):
    data = io.BytesIO()
    image.save(data, "JPEG", quality=QUALITY)
    data.seek(0)
    with Image.open(data) as saved:
        return saved.convert("RGB")


def box_names(dirs):
    names = set()
    for folder in dirs:
        names.update(name for name in os.listdir(folder)
                     if os.path.isdir(os.path.join(folder, name)))
    return sorted(names, key=lambda name: -int(name.split("x")[0]))


def main():
    photos = sys.argv[1]
    methods = dict(argument.split("=", 1) for argument in sys.argv[2:])
    boxes = box_names(methods.values())
    names = list(methods) + [FLOOR]
    scores = {(name, box): [] for name in names for box in boxes}
    missing = 0
    seen = set()

    for photo in sorted(os.listdir(photos)):
        if not photo.lower().endswith((".jpg", ".jpeg")):
            continue
        stem = os.path.splitext(photo)[0]
        full = full_image(os.path.join(photos, photo))
        digest = hashlib.sha256(full.tobytes()).digest()
        if digest in seen:
            continue
        seen.add(digest)
        for box in boxes:
            references = {}

            def reference(size):
                if size not in references:
                    references[size] = full.resize(size, Image.LANCZOS, reducing_gap=2.0)
                return references[size]

            for name, folder in methods.items():
                path = os.path.join(folder, box, stem + ".jpg")
                if not os.path.exists(path):
                    print("%s: no %s" % (name, path), file=sys.stderr)
                    missing += 1
                    continue
                with Image.open(path) as thumbnail:
                    ours = luma(thumbnail)
                    size = thumbnail.size
                scores[name, box].append(ssim(ours, luma(reference(size))))
            # The floor at the size the first method wrote.
            size = next(iter(references), None)
            if size is not None:
                scores[FLOOR, box].append(ssim(luma(q65(reference(size))),
                                               luma(reference(size))))

    print()
    print("SSIM (luma) against Pillow LANCZOS, median / minimum over %d distinct photos:"
          % len(scores[FLOOR, boxes[0]]))
    print("%-10s" % "box" + "".join("%20s" % name for name in names))
    for box in boxes:
        print("%-10s" % box + "".join(
            "%20s" % ("%.4f / %.4f" % (statistics.median(scores[name, box]),
                                      min(scores[name, box])))
            for name in names))
    print()
    for box in boxes:
        for name in names:
            print("thumbnail_ssim_%s_%s_median %.4f" % (name, box, statistics.median(scores[name, box])))
            print("thumbnail_ssim_%s_%s_min %.4f" % (name, box, min(scores[name, box])))

    failed = missing > 0
    if "workpool" in methods:
        print()
        for box in boxes:
            ours = round(statistics.median(scores["workpool", box]), 4)
            floor = round(statistics.median(scores[FLOOR, box]), 4)
            checks = ["q65 floor - %.3f: %.4f >= %.4f" % (TOLERANCE, ours, floor - TOLERANCE)]
            met = ours >= floor - TOLERANCE
            if "vips" in methods:
                vips = round(statistics.median(scores["vips", box]), 4)
                checks.insert(0, "vips: %.4f >= %.4f" % (ours, vips))
                met = met and ours >= vips
            print("target %s median SSIM >= %s %s"
                  % (box, ", ".join(checks), "met" if met else "MISSED"))
            failed = failed or not met
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
