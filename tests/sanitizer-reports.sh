#!/bin/sh
# sanitizer-reports.sh clear|check DIR: the workers' sanitizer reports, as TAP.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# In a -Db_sanitize build the workers write their AddressSanitizer,
# LeakSanitizer and UBSan reports to DIR/worker.PID (see
# tests/meson.build): a report at a worker's clean exit fails no job, so
# no other test would see it.  "clear" runs first and empties DIR;
# "check" runs last and fails, quoting them, if any report holds an
# error.  A file without one is LeakSanitizer saying it could not stop a
# thread of a worker that was being killed as it exited: quoted, not
# failed.

mode=$1
dir=$2

echo "1..1"
case $mode in
  clear)
    rm -rf "$dir" && mkdir -p "$dir"
    status=$?
    [ $status = 0 ] && echo "ok 1 - emptied $dir" || echo "not ok 1 - cannot empty $dir"
    exit $status
    ;;
  check)
    failed=0
    for report in "$dir"/*; do
      [ -f "$report" ] || continue
      if grep -q -e 'ERROR: ' -e 'runtime error: ' "$report"; then
        failed=1
        sed 's/^/# /' "$report"
      else
        sed 's/^/# (not an error) /' "$report"
      fi
    done
    if [ $failed = 0 ]; then
      echo "ok 1 - no worker wrote a sanitizer error in $dir"
    else
      echo "not ok 1 - workers wrote sanitizer errors in $dir (quoted above)"
    fi
    exit $failed
    ;;
  *)
    echo "Bail out! usage: $0 clear|check DIR"
    exit 2
    ;;
esac
