#!/bin/sh
# check-render.sh PAGE: the manual page renders cleanly, as TAP.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# With groff (what man-db uses): no warning at all (-ww, every warning
# category on; groff still exits 0 on warnings, so its stderr must be
# empty), and no line wider than the 78 columns of a terminal page (the
# no-fill examples are not wrapped by groff).  With mandoc: its linter
# at the warning level.  With neither, the test is skipped, saying so.

page=$1
width=78
n=0

if [ ! -r "$page" ]; then
  echo "Bail out! cannot read $page"
  exit 1
fi

have () {
  command -v "$1" >/dev/null 2>&1
}

result () {
  n=$((n + 1))
  if [ "$1" = 0 ]; then
    echo "ok $n - $2"
  else
    echo "not ok $n - $2"
    sed 's/^/# /' "$3"
  fi
}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

if have groff; then
  groff -man -Tutf8 -ww -b -z "$page" >"$tmp/out" 2>&1
  status=$?
  [ $status = 0 ] && [ ! -s "$tmp/out" ]
  result $? "groff -man -Tutf8 -ww: no warning" "$tmp/out"

  groff -man -Tascii -P-cbou -rLL=${width}n "$page" 2>&1 \
    | awk -v width=$width 'length > width { print "line " NR " is " length " columns: " $0 }' \
    >"$tmp/out"
  [ ! -s "$tmp/out" ]
  result $? "no rendered line is wider than $width columns" "$tmp/out"
fi

if have mandoc; then
  mandoc -Tlint -W warning "$page" >"$tmp/out" 2>&1
  result $? "mandoc -Tlint -W warning: no warning" "$tmp/out"
fi

if [ $n = 0 ]; then
  echo "1..0 # SKIP neither groff nor mandoc is installed (Debian: groff-base)"
else
  echo "1..$n"
fi
