#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD_DIR [SECONDS]: a bounded libFuzzer run of each
# harness of tests/fuzz, as .ci/run does it.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Sets up BUILD_DIR (from scratch) as a clang build with -Dfuzzing=true,
# AddressSanitizer and UBSan, builds the three harnesses, and fuzzes each
# for SECONDS (default 60), one after the other, with one process.  Each
# run starts from a copy of the seed corpus in a temporary folder, so
# nothing is written into the tree.  Exits non-zero at the first harness
# that finds a crash, a leak, an over-read, undefined behaviour, a failed
# assertion or critical (SIGTRAP), a timeout (30 s for one input), more
# than 2 GiB of memory, or one allocation over the harness's limit (1 GiB
# for the wire, whose frames are limited to 1 MiB there; for the
# thumbnail decoder see fuzz-thumbnail.c); the input that did it is kept
# in the temporary folder's artifacts/, whose path is printed.
set -euo pipefail

cd "$(dirname "$0")/../.."
build="${1:?usage: tests/fuzz/run.sh BUILD_DIR [SECONDS]}"
seconds="${2:-60}"

rm -rf "$build"
CC=clang meson setup "$build" -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false \
  -Dintrospection=disabled
meson compile -C "$build" tests/fuzz/fuzz-wire-host tests/fuzz/fuzz-wire-worker tests/fuzz/fuzz-thumbnail

work="$(mktemp -d)"
mkdir "$work/artifacts" "$work/tmp"
echo "fuzz: working in $work"
for harness in wire-host wire-worker thumbnail; do
  cp -r "tests/fuzz/corpus/$harness" "$work/$harness"
  case "$harness" in
    wire-*) options=(-dict=tests/fuzz/wire.dict -malloc_limit_mb=1024) debug=fatal-criticals ;;
    thumbnail) options=(-malloc_limit_mb=4160) debug= ;;
  esac
  # G_SLICE: every GVariant a plain malloc that ASan watches.  A fatal
  # critical is a SIGTRAP, which ASan reports only when asked.
  G_SLICE=always-malloc G_DEBUG="$debug" ASAN_OPTIONS=handle_sigtrap=1 TMPDIR="$work/tmp" \
    "$build/tests/fuzz/fuzz-$harness" "${options[@]}" \
      -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 \
      -print_final_stats=1 -artifact_prefix="$work/artifacts/$harness-" "$work/$harness"
done
rm -rf "$work"
