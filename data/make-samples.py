#!/usr/bin/python3
# make-samples.py: draws the sample photos of data/photos.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: CC0-1.0
#
# Run with Debian's Python, which has PIL (python3-pil):
#
#   /usr/bin/python3 data/make-samples.py [OUTPUT-DIR]
#
# The images are drawn from nothing but a fixed random seed (sky and
# ground gradients, hills, a sun, trees or flowers, film grain), so the
# output is the same on every run and free of anyone's rights: CC0.
# They exist for the README's quick start (`workpool thumbnail
# data/photos`) and cover what the thumbnail plugin must handle:
#
#   2024-summer/beach.jpg        1600x1067 baseline JPEG
#   2024-summer/dunes.jpg        1067x1600 baseline, stored landscape with
#                                EXIF orientation 6 (shown portrait)
#   2024-summer/sunset.jpg       1600x900 progressive JPEG
#   garden/meadow.jpg            1400x1050 baseline JPEG
#   garden/tulips.jpeg           1200x1200 baseline, .jpeg extension
#   garden/LEAVES.JPG            1280x960 baseline, upper-case name
#   garden/sticker.png           800x600 PNG with transparency
#
# (workpool thumbnail takes .jpg and .jpeg in any letter case by default;
# the PNG is for --ext.)

import math
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFilter

QUALITY = 85


def lerp(a, b, t):
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))


def vertical_gradient(draw, box, top, bottom):
    x0, y0, x1, y1 = box
    for y in range(y0, y1):
        draw.line([(x0, y), (x1, y)], fill=lerp(top, bottom, (y - y0) / max(1, y1 - y0 - 1)))


def hills(draw, rng, width, height, base, colour, amplitude):
    points = [(0, height)]
    phase = rng.uniform(0, math.tau)
    for x in range(0, width + 8, 8):
        y = base + amplitude * math.sin(x / width * math.tau * rng.uniform(0.8, 1.6) + phase)
        y += amplitude * 0.3 * math.sin(x / width * math.tau * 5 + phase * 2)
        points.append((x, int(y)))
    points.append((width, height))
    draw.polygon(points, fill=colour)


def grain(image, rng, strength):
    noise = Image.effect_noise(image.size, strength).convert("RGB")
    return Image.blend(image, noise, 0.08)


def landscape(width, height, seed, sky, ground, sun=None, features=None):
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    horizon = int(height * rng.uniform(0.45, 0.6))
    vertical_gradient(draw, (0, 0, width, horizon + height // 5), sky[0], sky[1])
    if sun is not None:
        r = width // 14
        cx, cy = int(width * rng.uniform(0.2, 0.8)), int(horizon * rng.uniform(0.3, 0.8))
        for i in range(6, 0, -1):
            glow = lerp(sky[1], sun, 1 - i / 7)
            draw.ellipse([cx - r * i // 2, cy - r * i // 2, cx + r * i // 2, cy + r * i // 2], fill=glow)
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=sun)
    hills(draw, rng, width, height, horizon - height // 12, lerp(ground[0], sky[1], 0.5), height // 20)
    hills(draw, rng, width, height, horizon, ground[0], height // 30)
    vertical_gradient(draw, (0, horizon + height // 8, width, height), ground[0], ground[1])
    if features:
        features(draw, rng, width, height, horizon)
    image = image.filter(ImageFilter.GaussianBlur(1.2))
    return grain(image, rng, 40)


def trees(draw, rng, width, height, horizon):
    for _ in range(14):
        x = rng.randrange(width)
        y = horizon + rng.randrange(height // 10, height // 3)
        h = rng.randrange(height // 8, height // 4)
        draw.rectangle([x - h // 30, y - h // 3, x + h // 30, y], fill=(80, 55, 35))
        green = (rng.randrange(20, 60), rng.randrange(90, 150), rng.randrange(20, 60))
        draw.ellipse([x - h // 4, y - h, x + h // 4, y - h // 4], fill=green)


def flowers(draw, rng, width, height, horizon):
    for _ in range(400):
        x = rng.randrange(width)
        y = rng.randrange(horizon, height)
        r = 2 + (y - horizon) * 14 // (height - horizon)
        colour = rng.choice([(230, 40, 60), (250, 200, 40), (240, 240, 250), (200, 60, 200)])
        draw.line([(x, y), (x, y + 3 * r)], fill=(40, 110, 40), width=max(1, r // 3))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=colour)


def leaves(draw, rng, width, height, horizon):
    for _ in range(250):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(10, 60)
        angle = rng.uniform(0, math.pi)
        dx, dy = r * math.cos(angle), r * math.sin(angle)
        colour = (rng.randrange(150, 230), rng.randrange(60, 160), rng.randrange(10, 40))
        draw.polygon([(x - dx, y - dy), (x + dy / 3, y - dx / 3), (x + dx, y + dy), (x - dy / 3, y + dx / 3)],
                     fill=colour)


def sticker(width, height):
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse([40, 40, width - 40, height - 40], fill=(250, 190, 30, 255), outline=(120, 70, 0, 255), width=12)
    draw.ellipse([width // 3 - 30, height // 3 - 30, width // 3 + 30, height // 3 + 30], fill=(40, 30, 20, 255))
    draw.ellipse([2 * width // 3 - 30, height // 3 - 30, 2 * width // 3 + 30, height // 3 + 30], fill=(40, 30, 20, 255))
    draw.arc([width // 4, height // 3, 3 * width // 4, 3 * height // 4], 20, 160, fill=(40, 30, 20, 255), width=18)
    shadow = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    ImageDraw.Draw(shadow).ellipse([60, 70, width - 20, height - 10], fill=(0, 0, 0, 90))
    return Image.alpha_composite(shadow.filter(ImageFilter.GaussianBlur(12)), image)


def exif_orientation(value):
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "photos")
    summer = os.path.join(out, "2024-summer")
    garden = os.path.join(out, "garden")
    os.makedirs(summer, exist_ok=True)
    os.makedirs(garden, exist_ok=True)

    beach = landscape(1600, 1067, 1, ((70, 140, 220), (190, 220, 245)), ((230, 210, 160), (200, 170, 120)),
                      sun=(255, 250, 220))
    beach.save(os.path.join(summer, "beach.jpg"), quality=QUALITY)

    # Stored 1600x1067 lying on its side; EXIF 6 asks viewers to turn it a
    # quarter clockwise, so it shows 1067x1600 with the sky on top.
    dunes = landscape(1067, 1600, 2, ((90, 150, 230), (230, 200, 170)), ((220, 170, 100), (170, 110, 60)),
                      sun=(255, 240, 200))
    dunes.transpose(Image.Transpose.ROTATE_90).save(os.path.join(summer, "dunes.jpg"), quality=QUALITY,
                                                    exif=exif_orientation(6))

    sunset = landscape(1600, 900, 3, ((60, 40, 110), (250, 130, 60)), ((40, 30, 50), (20, 15, 25)),
                       sun=(255, 200, 90))
    sunset.save(os.path.join(summer, "sunset.jpg"), quality=QUALITY, progressive=True)

    meadow = landscape(1400, 1050, 4, ((110, 170, 230), (210, 230, 250)), ((90, 160, 60), (50, 110, 30)),
                       features=trees)
    meadow.save(os.path.join(garden, "meadow.jpg"), quality=QUALITY)

    tulips = landscape(1200, 1200, 5, ((150, 190, 240), (230, 240, 250)), ((70, 140, 50), (40, 90, 30)),
                       features=flowers)
    tulips.save(os.path.join(garden, "tulips.jpeg"), quality=QUALITY)

    autumn = landscape(1280, 960, 6, ((200, 180, 140), (240, 220, 190)), ((120, 80, 40), (80, 50, 25)),
                       features=leaves)
    autumn.save(os.path.join(garden, "LEAVES.JPG"), quality=QUALITY)

    sticker(800, 600).save(os.path.join(garden, "sticker.png"), optimize=True)


if __name__ == "__main__":
    main()
