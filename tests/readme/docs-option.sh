#!/bin/sh
# docs-option.sh: -Ddocs=true on a machine without gi-docgen stops with a
# message saying what to install or how to turn the option off, and a
# build folder whose option was turned on that way works again once it
# is turned off, as the message says.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Usage: docs-option.sh SOURCE_ROOT
#
# gi-docgen is hidden rather than uninstalled: PATH is a folder of links
# to every program of /usr/bin but gi-docgen.  Output is TAP.

set -u

source_root=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir "$work/bin"
for program in /usr/bin/*; do
  [ "${program##*/}" = gi-docgen ] || ln -s "$program" "$work/bin/${program##*/}"
done
PATH=$work/bin
export PATH

echo "1..5"
n=0
check () {
  n=$((n + 1))
  if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
says_what_to_do () {
  grep -q -- '-Ddocs=true needs gi-docgen, which is not installed: apt-get install gi-docgen, or turn the API reference off with meson configure BUILDDIR -Ddocs=false' "$1"
}

! command -v gi-docgen >/dev/null 2>&1
check $? "gi-docgen is out of reach"

meson setup "$work/fresh" "$source_root" -Ddocs=true -Dintrospection=disabled >"$work/fresh.log" 2>&1
status=$?
[ $status != 0 ] && says_what_to_do "$work/fresh.log"
check $? "meson setup -Ddocs=true fails, saying what to install or turn off"

meson setup "$work/build" "$source_root" -Dintrospection=disabled >"$work/setup.log" 2>&1
check $? "meson setup without -Ddocs works"

meson configure "$work/build" -Ddocs=true >"$work/on.log" 2>&1 \
  && ! ninja -C "$work/build" build.ninja >"$work/regenerate.log" 2>&1 \
  && says_what_to_do "$work/regenerate.log"
check $? "meson configure -Ddocs=true: the next build fails with the same message"

meson configure "$work/build" -Ddocs=false >"$work/off.log" 2>&1 \
  && ninja -C "$work/build" build.ninja >"$work/again.log" 2>&1
check $? "meson configure -Ddocs=false, as the message says, makes the folder work again"

for log in "$work"/*.log; do
  sed "s|^|# ${log##*/}: |" "$log"
done
