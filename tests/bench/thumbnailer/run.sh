#!/usr/bin/env bash
# run.sh: the desktop thumbnailer benchmark, beside Tumbler.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   meson test -C build --benchmark thumbnailer -v
#   (or by hand: WORKPOOL_THUMBNAILER=build/host/thumbnailer/workpool-thumbnailer \
#      WORKPOOL_WORKER=build/host/worker/workpool-worker \
#      WORKPOOL_PLUGIN_DIR=build/plugins tests/bench/thumbnailer/run.sh)
#
# The thumbnail benchmark's photos (../thumbnail/photos.sh: at least 40
# real photographs from Debian packages) are split into folders of
# $FOLDER_SIZE; each thumbnailer gets, as Thunar sends them when folders
# open, one Queue per folder, all at once ("foreground"), for the `normal`
# and then the `large` flavor, on its own private session bus
# (../../desktop/private-bus.sh) with its own empty thumbnail cache.  The
# time is from the first Queue to the last Finished (client.py); every
# URI must get Ready.  The thumbnailers are started (by activation)
# before the runs, and the cache is emptied between runs, untimed.  Side
# by side, round robin, median of $WORKPOOL_BENCH_RUNS (5) runs each:
#
#   floor         djpeg -scale M/8 of each photo to /dev/null, two at once
#                 (xargs -P2), M the smallest scale covering the flavor's
#                 box: the decode alone, at the scale needed
#   tumbler       Debian's tumblerd (tumbler 4.18)
#   workpool      workpool-thumbnailer
#
# then how many thumbnails of each are not the size the photo fits the
# box with (an embedded EXIF preview of another aspect), and `NAME VALUE
# UNIT` lines.  Targets: tumbler/workpool >= 1.5 on normal and >= 2 on
# large; a missed target makes the exit status 1.  Skipped (77) with what
# to install when tumbler, dbus, djpeg/jpegtran, python3-gi or
# python3-pil is missing or the photos cannot be had.

set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=/usr/bin/python3
# shellcheck source=../thumbnail/photos.sh
. "$HERE/../thumbnail/photos.sh"
# shellcheck source=../../desktop/private-bus.sh
. "$HERE/../../desktop/private-bus.sh"

WORKERS=2
FOLDER_SIZE=12
RUNS=${WORKPOOL_BENCH_RUNS:-5}
FLAVORS="normal large"
declare -A BOX=([normal]=128 [large]=256) TARGET=([normal]=1.5 [large]=2)
TUMBLERD=${TUMBLERD:-$(ls /usr/lib/*/tumbler-1/tumblerd 2>/dev/null | head -n 1)}
THUMBNAILER=${WORKPOOL_THUMBNAILER:-}

skip () {
  echo "thumbnailer benchmark skipped: $*"
  exit 77
}

check_tools () {
  [[ -n $TUMBLERD && -x $TUMBLERD ]] || skip "no tumblerd (apt-get install tumbler)"
  [[ -n $THUMBNAILER && -x $THUMBNAILER ]] \
    || skip "no workpool-thumbnailer (set WORKPOOL_THUMBNAILER, or run through meson)"
  command -v dbus-daemon >/dev/null || skip "no dbus-daemon (apt-get install dbus)"
  command -v djpeg >/dev/null && command -v jpegtran >/dev/null \
    || skip "djpeg and jpegtran are missing (apt-get install libjpeg-turbo-progs)"
  "$PYTHON" -c 'import PIL; from gi.repository import Gio' 2>/dev/null \
    || skip "Pillow or the GLib bindings are missing for $PYTHON" \
            "(apt-get install python3-pil python3-gi)"
}

# The photos, FOLDER_SIZE to a folder under $FOLDERS.
make_folders () {
  local i=0 path

  for path in "$PHOTOS"/*; do
    mkdir -p "$FOLDERS/$((i / FOLDER_SIZE))"
    mv "$path" "$FOLDERS/$((i / FOLDER_SIZE))/"
    i=$((i + 1))
  done
  N_FOLDERS=$(find "$FOLDERS" -mindepth 1 -maxdepth 1 -type d | wc -l)
}

median () {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

ratio () {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}

# seconds COMMAND...: the wall time of COMMAND.
seconds () {
  local start=$EPOCHREALTIME
  "$@" >/dev/null
  awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}

run_floor () {
  xargs -P "$WORKERS" -L 1 djpeg -outfile /dev/null -scale < "$WORK/scales-$1.txt"
}

# run_thumbnailer NAME FLAVOR: one timed run on NAME's bus and cache.
run_thumbnailer () {
  local name=$1 flavor=$2

  rm -rf "$WORK/$name/cache/thumbnails"
  DBUS_SESSION_BUS_ADDRESS=${BUS[$name]} \
    "$PYTHON" "$HERE/client.py" queue "$flavor" "$FOLDERS"/*
}

# start NAME EXECUTABLE: NAME's private bus and cache; the thumbnailer is
# activated there once, untimed.
declare -A BUS
start () {
  local name=$1 exe=$2

  mkdir -p "$WORK/$name/cache"
  XDG_CACHE_HOME=$WORK/$name/cache start_private_bus "$WORK/$name/bus" "$exe" \
    || skip "dbus-daemon did not start: $(cat "$WORK/$name/bus/bus.log")"
  BUS[$name]=$DBUS_SESSION_BUS_ADDRESS
  echo "  $name: $exe, $("$PYTHON" "$HERE/client.py" ping)"
}

main () {
  local i flavor folder name t
  local -A times

  check_tools
  mkdir -p "$CACHE"
  fetch_missing

  WORK=$(mktemp -d "${TMPDIR:-/tmp}/workpool-bench-thumbnailer-XXXXXX")
  PIDS=()
  trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
  PHOTOS=$WORK/photos FOLDERS=$WORK/folders
  mkdir -p "$PHOTOS" "$FOLDERS"
  make_corpus
  make_folders
  for flavor in $FLAVORS; do
    for folder in "$FOLDERS"/*; do
      "$PYTHON" "$PHOTOS_HERE/corpus.py" scales "$folder" "${BOX[$flavor]}"
    done > "$WORK/scales-$flavor.txt"
  done
  cat "$FOLDERS"/*/* > /dev/null   # into the page cache for everyone

  echo "thumbnailer benchmark: $N_PHOTOS photos ($N_REAL from Debian packages," \
       "$N_COPIES progressive copies) in $N_FOLDERS folders, one Queue per folder," \
       "median of $RUNS runs, $(nproc) processors"
  start tumbler "$TUMBLERD"
  start workpool "$THUMBNAILER"

  # Round robin, so that every one sees the machine in the same moods.
  for ((i = 0; i < RUNS; i++)); do
    for flavor in $FLAVORS; do
      times[floor-$flavor]+="$(seconds run_floor "$flavor") "
      for name in tumbler workpool; do
        t=$(run_thumbnailer "$name" "$flavor") \
          || { echo "$name failed on $flavor" >&2; exit 1; }
        times[$name-$flavor]+="$t "
      done
    done
  done

  local met=1 m_floor m_tumbler m_workpool sizes_t sizes_w
  echo
  printf '%-8s %10s %10s %10s %16s %16s %12s\n' flavor "floor s" "tumbler s" "workpool s" \
    "tumbler/workpool" "workpool/floor" "wrong sizes"
  for flavor in $FLAVORS; do
    # shellcheck disable=SC2086 # the times are words
    m_floor=$(median ${times[floor-$flavor]})
    # shellcheck disable=SC2086
    m_tumbler=$(median ${times[tumbler-$flavor]})
    # shellcheck disable=SC2086
    m_workpool=$(median ${times[workpool-$flavor]})
    # The last run's thumbnails are the large ones; the sizes of each
    # flavor come from a run of it, untimed.
    for name in tumbler workpool; do
      run_thumbnailer "$name" "$flavor" >/dev/null
    done
    sizes_t=$("$PYTHON" "$HERE/client.py" sizes "$WORK/tumbler/cache/thumbnails" "$flavor" "$FOLDERS"/*)
    sizes_w=$("$PYTHON" "$HERE/client.py" sizes "$WORK/workpool/cache/thumbnails" "$flavor" "$FOLDERS"/*)
    if [[ ${sizes_t#* } != 0 || ${sizes_w#* } != 0 ]]; then
      echo "thumbnails missing from the caches on $flavor (tumbler, workpool): ${sizes_t#* }, ${sizes_w#* }" >&2
      exit 1
    fi
    printf '%-8s %10s %10s %10s %16s %16s %12s\n' "$flavor" "$m_floor" "$m_tumbler" "$m_workpool" \
      "$(ratio "$m_tumbler" "$m_workpool")" "$(ratio "$m_workpool" "$m_floor")" \
      "${sizes_t%% *} / ${sizes_w%% *}"
    echo "  runs: floor ${times[floor-$flavor]}| tumbler ${times[tumbler-$flavor]}| workpool ${times[workpool-$flavor]}"
    echo "thumbnailer_${flavor}_floor_seconds $m_floor s" >> "$WORK/lines"
    echo "thumbnailer_${flavor}_tumbler_seconds $m_tumbler s" >> "$WORK/lines"
    echo "thumbnailer_${flavor}_workpool_seconds $m_workpool s" >> "$WORK/lines"
    echo "thumbnailer_${flavor}_tumbler_vs_workpool $(ratio "$m_tumbler" "$m_workpool") x" >> "$WORK/lines"
    if awk -v t="$m_tumbler" -v w="$m_workpool" -v g="${TARGET[$flavor]}" 'BEGIN { exit !(t < g * w) }'; then
      echo "target MISSED on $flavor: tumbler/workpool $(ratio "$m_tumbler" "$m_workpool") < ${TARGET[$flavor]}"
      met=0
    fi
  done
  echo "(wrong sizes: tumbler / workpool thumbnails not the size the photo fits the box with)"
  echo
  cat "$WORK/lines"
  ((met))
}

main "$@"
