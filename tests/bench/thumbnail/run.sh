#!/usr/bin/env bash
# run.sh: the thumbnail benchmark.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   meson test -C build --benchmark thumbnail -v
#   (or by hand: WORKPOOL_CLI=build/host/cli/workpool \
#      WORKPOOL_WORKER=build/host/worker/workpool-worker \
#      WORKPOOL_PLUGIN_DIR=build/plugins tests/bench/thumbnail/run.sh)
#
# On at least 40 real photographs (photos.txt: Debian packages' wallpapers
# that are photographs; when fewer than 40, progressive copies of
# baseline ones made with `jpegtran -progressive` fill up the count), six
# default sizes, 2 workers, reports side by side, each the median wall
# time of $WORKPOOL_BENCH_RUNS (3) runs that write every thumbnail (the
# runs go round robin over the four, so that a busy moment of the machine
# hits them all alike):
#
#   floor        djpeg -scale M/8 of each photo to /dev/null, two at once
#                (xargs -P2), M the smallest scale covering the 1024 box:
#                one decode, no resize, no encode, no file written
#   workpool     workpool thumbnail --workers 2 --force (one job per image),
#                its workers sandboxed (the default)
#   unsandboxed  the same with --sandbox=none
#   per-size     the same with --one-job-per-size (one job per image and
#                size, the reference's shape)
#   reference    reference.py: Pillow, multiprocessing.Pool(2), one task per
#                (image, size)
#
# then `NAME VALUE UNIT` lines for machines and the three ratios that have
# targets: workpool/floor (<= 1.25), reference/workpool (>= 4) and
# workpool/unsandboxed (<= 1.05).
#
# Then the quality, untimed: workpool's thumbnails and vipsthumbnail's
# (libvips, `-s WxH> -o %s.jpg[Q=65]`, one run per size, the same six
# boxes and JPEG quality) are compared by quality.py with a lossless
# Pillow reference (LANCZOS): per size, the median and minimum SSIM of
# each over the distinct photos (the progressive copies, which decode to
# the same pixels, left out), beside those of the reference saved as
# JPEG quality 65 (the floor: what the JPEG quality alone costs).
# Targets: workpool's median at every size at least vips's and at least
# the floor's minus 0.005.
# A missed target, of speed or quality, makes the exit status 1.
#
# The photos are not in the repository: they are taken from the installed
# packages, or else from $WORKPOOL_BENCH_PHOTOS (the build tree), where
# the packages are fetched with `apt-get download` and only the listed
# files kept.  When they cannot be had, or djpeg, jpegtran, vipsthumbnail,
# python3-pil or python3-numpy is missing, the benchmark is skipped (exit
# status 77) with a message saying what to install.  Each run works on a
# fresh copy of the photos in a temporary folder, removed at the end;
# thumbnails are deleted between runs (not timed), so every run writes
# into empty folders.

set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=/usr/bin/python3
# shellcheck source=photos.sh
. "$HERE/photos.sh"
WORKERS=2
SIZES=6
BOXES="1024 512 256 128 64 32"   # the default sizes of workpool thumbnail
RUNS=${WORKPOOL_BENCH_RUNS:-3}
WORKPOOL=${WORKPOOL_CLI:-workpool}

skip () {
  echo "thumbnail benchmark skipped: $*"
  exit 77
}

check_tools () {
  if ! command -v djpeg >/dev/null || ! command -v jpegtran >/dev/null; then
    skip "djpeg and jpegtran are missing (apt-get install libjpeg-turbo-progs)"
  fi
  command -v vipsthumbnail >/dev/null \
    || skip "vipsthumbnail is missing (apt-get install libvips-tools)"
  "$PYTHON" -c 'import PIL' 2>/dev/null \
    || skip "Pillow is missing for $PYTHON (apt-get install python3-pil)"
  "$PYTHON" -c 'import numpy' 2>/dev/null \
    || skip "numpy is missing for $PYTHON (apt-get install python3-numpy)"
  command -v "$WORKPOOL" >/dev/null \
    || skip "no workpool command (set WORKPOOL_CLI, or run through meson)"
}

remove_thumbnails () {
  rm -rf "$PHOTOS/thumbnails"
}

count_thumbnails () {
  find "$PHOTOS/thumbnails" -type f -name '*.jpg' | wc -l
}

# Median of the numbers given.
median () {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# time_once NAME COMMAND...: runs COMMAND once on fresh folders and adds
# its wall time to TIMES[NAME].
declare -A TIMES MEDIAN
time_once () {
  local name=$1 start end
  shift

  remove_thumbnails
  start=$EPOCHREALTIME
  "$@" >/dev/null
  end=$EPOCHREALTIME
  TIMES[$name]+="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }') "
}

# Each timed thing must have done its work: N_PHOTOS x SIZES thumbnails.
check_thumbnails () {
  local name=$1 count

  count=$(count_thumbnails)
  ((count == N_PHOTOS * SIZES)) \
    || { echo "$name wrote $count thumbnails, not $((N_PHOTOS * SIZES))" >&2; exit 1; }
}

run_floor () {
  xargs -P "$WORKERS" -L 1 djpeg -outfile /dev/null -scale < "$WORK/scales.txt"
}

run_workpool () {
  "$WORKPOOL" thumbnail --workers "$WORKERS" --force --quiet --progress=never "$@" "$PHOTOS"
}

run_reference () {
  "$PYTHON" "$HERE/reference.py" --workers "$WORKERS" "$PHOTOS"
}

ratio () {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

rate () {
  awk -v n="$N_PHOTOS" -v s="$1" 'BEGIN { printf "%.1f", n / s }'
}

print_row () {
  printf '%-44s %8s %10s %9s\n' "$1" "$2" "$3" "$4"
}

report () {
  local floor=${MEDIAN[floor]} name
  local -A label=(
    [floor]="floor: djpeg -scale M/8, 2 at once"
    [workpool]="workpool thumbnail"
    [workpool_unsandboxed]="workpool thumbnail --sandbox=none"
    [workpool_one_job_per_size]="workpool thumbnail --one-job-per-size"
    [reference]="reference: Pillow, Pool(2), task per size"
  )

  echo
  print_row "" "median s" "images/s" "x floor"
  for name in floor workpool workpool_unsandboxed workpool_one_job_per_size reference; do
    print_row "${label[$name]}" "${MEDIAN[$name]}" "$(rate "${MEDIAN[$name]}")" \
              "$(ratio "${MEDIAN[$name]}" "$floor")"
  done
  echo
  for name in floor workpool workpool_unsandboxed workpool_one_job_per_size reference; do
    echo "thumbnail_${name}_seconds ${MEDIAN[$name]} s"
  done
  echo "thumbnail_workpool_images_per_second $(rate "${MEDIAN[workpool]}") images/s"
  echo "thumbnail_workpool_vs_floor $(ratio "${MEDIAN[workpool]}" "$floor") x"
  echo "thumbnail_reference_vs_workpool $(ratio "${MEDIAN[reference]}" "${MEDIAN[workpool]}") x"
  echo "thumbnail_sandboxed_vs_unsandboxed $(ratio "${MEDIAN[workpool]}" "${MEDIAN[workpool_unsandboxed]}") x"
  echo "thumbnail_one_job_per_size_vs_workpool $(ratio "${MEDIAN[workpool_one_job_per_size]}" "${MEDIAN[workpool]}") x"
  echo
  echo "targets: workpool/floor <= 1.25: $(ratio "${MEDIAN[workpool]}" "$floor");" \
       "reference/workpool >= 4: $(ratio "${MEDIAN[reference]}" "${MEDIAN[workpool]}");" \
       "sandboxed/unsandboxed <= 1.05:" \
       "$(ratio "${MEDIAN[workpool]}" "${MEDIAN[workpool_unsandboxed]}")"
  SPEED_MET=$(awk -v w="${MEDIAN[workpool]}" -v f="$floor" -v r="${MEDIAN[reference]}" \
                -v u="${MEDIAN[workpool_unsandboxed]}" \
                'BEGIN { print (w <= 1.25 * f && r >= 4 * w && w <= 1.05 * u) ? 1 : 0 }')
  ((SPEED_MET)) || echo "speed target MISSED"
}

# The thumbnails of workpool and of vipsthumbnail, in $WORK/workpool and
# $WORK/vips (WxH/NAME.jpg both), compared with quality.py's reference.
# Sets QUALITY_MET.
measure_quality () {
  local box

  remove_thumbnails
  run_workpool
  check_thumbnails workpool
  mv "$PHOTOS/thumbnails" "$WORK/workpool"

  for box in $BOXES; do
    mkdir -p "$WORK/vips/${box}x$box"
    VIPS_WARNING=0 vipsthumbnail -s "${box}x$box>" -o "$WORK/vips/${box}x$box/%s.jpg[Q=65]" \
      "$PHOTOS"/*.jpg
  done

  QUALITY_MET=1
  "$PYTHON" "$HERE/quality.py" "$PHOTOS" workpool="$WORK/workpool" vips="$WORK/vips" \
    || QUALITY_MET=0
}

main () {
  local i name

  check_tools
  mkdir -p "$CACHE"
  fetch_missing

  WORK=$(mktemp -d "${TMPDIR:-/tmp}/workpool-bench-thumbnail-XXXXXX")
  trap 'rm -rf "$WORK"' EXIT
  PHOTOS=$WORK/photos
  mkdir "$PHOTOS"
  make_corpus
  "$PYTHON" "$HERE/corpus.py" scales "$PHOTOS" > "$WORK/scales.txt"
  cat "$PHOTOS"/*.jpg > /dev/null   # into the page cache for everyone

  echo "thumbnail benchmark: $("$PYTHON" "$HERE/corpus.py" describe "$PHOTOS")"
  echo "  $N_REAL photographs from Debian packages (photos.txt), $N_COPIES" \
       "progressive copies made with jpegtran -progressive"
  echo "  $SIZES sizes (1024x1024 to 32x32), $WORKERS workers, median of $RUNS runs," \
       "$(nproc) processors; wall times:"

  # Round robin, so that every method sees the machine in the same moods.
  for ((i = 0; i < RUNS; i++)); do
    time_once floor run_floor
    time_once workpool run_workpool
    check_thumbnails workpool
    time_once workpool_unsandboxed run_workpool --sandbox=none
    check_thumbnails workpool_unsandboxed
    time_once workpool_one_job_per_size run_workpool --one-job-per-size
    check_thumbnails workpool_one_job_per_size
    time_once reference run_reference
    check_thumbnails reference
  done
  for name in floor workpool workpool_unsandboxed workpool_one_job_per_size reference; do
    # shellcheck disable=SC2086 # the times are words
    MEDIAN[$name]=$(median ${TIMES[$name]})
    echo "  $name: ${TIMES[$name]}s"
  done

  report
  measure_quality
  ((SPEED_MET && QUALITY_MET)) || exit 1
}

main "$@"
