#!/usr/bin/env bash
# thunar-check.sh: a real file manager asks a thumbnailer for thumbnails.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   tests/desktop/thunar-check.sh THUMBNAILER [ARG...]
#   (meson test -C build --suite desktop runs it on workpool-thumbnailer;
#    tests/desktop/thunar-check.sh /usr/lib/x86_64-linux-gnu/tumbler-1/tumblerd
#    runs the same check on Tumbler)
#
# Debian's Thunar runs under Xvfb on a private session bus whose only
# service files are the thumbnailer's (org.freedesktop.thumbnails.
# Thumbnailer1 and Cache1, Exec= THUMBNAILER ARG...) and xfconfd's
# (private-bus.sh), with
# HOME and XDG_CACHE_HOME in a temporary folder.  Thunar opens a folder
# of the bundled photos (data/photos); the check passes when, for every
# photo, the thumbnail Thunar asked for is in the cache under the name the
# Thumbnail Managing Standard gives it (the MD5 of the file's URI), is a
# PNG whose Thumb::URI is that URI and whose Thumb::MTime is the file's,
# and the bus name was owned by THUMBNAILER's process.  It waits up to
# $THUNAR_CHECK_TIMEOUT seconds (60) for the thumbnails; what Thunar sent
# the thumbnailer (method calls, seen by a bus monitor) is printed.
#
# Needs thunar, xvfb, xfconf, dbus (dbus-daemon, dbus-monitor) and
# python3-gi; exits 77 (skipped) with the package to install when one is
# missing.  The environment (WORKPOOL_WORKER, WORKPOOL_PLUGIN_DIR, ...)
# reaches THUMBNAILER through the bus's activation.

set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PHOTOS_SRC=$HERE/../../data/photos
PYTHON=/usr/bin/python3
# shellcheck source=private-bus.sh
. "$HERE/private-bus.sh"
TIMEOUT=${THUNAR_CHECK_TIMEOUT:-60}

skip () {
  echo "thunar check skipped: $*"
  exit 77
}

fail () {
  echo "thunar check FAILED: $*" >&2
  exit 1
}

[[ $# -ge 1 ]] || { echo "usage: $0 THUMBNAILER [ARG...]" >&2; exit 2; }
[[ -x $1 ]] || fail "$1 is not an executable"

command -v thunar >/dev/null || skip "no thunar (apt-get install thunar)"
command -v Xvfb >/dev/null || skip "no Xvfb (apt-get install xvfb)"
command -v dbus-daemon >/dev/null && command -v dbus-monitor >/dev/null \
  || skip "no dbus-daemon or dbus-monitor (apt-get install dbus)"
XFCONFD=$(sed -n 's/^Exec=//p' /usr/share/dbus-1/services/org.xfce.Xfconf.service 2>/dev/null || true)
[[ -n $XFCONFD && -x ${XFCONFD%% *} ]] || skip "no xfconfd (apt-get install xfconf)"
"$PYTHON" -c 'from gi.repository import GLib' 2>/dev/null \
  || skip "no GLib bindings for $PYTHON (apt-get install python3-gi)"

TMP=$(mktemp -d)
PIDS=()
cleanup () {
  local pid
  if [[ -n ${DBUS_SESSION_BUS_ADDRESS:-} ]]; then
    timeout 10 thunar -q >/dev/null 2>&1 || true
  fi
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

export HOME=$TMP/home XDG_CACHE_HOME=$TMP/home/.cache \
  XDG_CONFIG_HOME=$TMP/home/.config XDG_DATA_HOME=$TMP/home/.local/share \
  XDG_RUNTIME_DIR=$TMP/run
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
chmod 0700 "$XDG_RUNTIME_DIR"

# The folder Thunar opens: the bundled photos, flat.
PHOTOS=$TMP/photos
mkdir -p "$PHOTOS"
find "$PHOTOS_SRC" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) \
  -exec cp {} "$PHOTOS/" \;
N_PHOTOS=$(find "$PHOTOS" -type f | wc -l)
[[ $N_PHOTOS -gt 0 ]] || fail "no photos in $PHOTOS_SRC"

# The bus: only the thumbnailer's and xfconfd's service files.
start_private_bus "$TMP/bus" "$@" || fail "dbus-daemon did not start: $(cat "$TMP/bus/bus.log")"

# The display: Xvfb picks a free one and writes its number.
Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3>"$TMP/display" 2>"$TMP/xvfb.log" &
PIDS+=("$!")
deadline=$((SECONDS + 20))
until [[ -s $TMP/display ]] && grep -q '^[0-9][0-9]*$' "$TMP/display"; do
  ((SECONDS < deadline)) && kill -0 "${PIDS[-1]}" 2>/dev/null \
    || fail "Xvfb did not start: $(cat "$TMP/xvfb.log")"
  sleep 0.1
done
export DISPLAY=:$(cat "$TMP/display")

dbus-monitor --session "type='method_call',interface='org.freedesktop.thumbnails.Thumbnailer1'" \
  > "$TMP/monitor.log" 2>&1 &
PIDS+=("$!")

started=$EPOCHREALTIME
thunar "$PHOTOS" > "$TMP/thunar.log" 2>&1 &
PIDS+=("$!")

# Waits for the thumbnails, then checks them (check-cache.py prints
# what it found; status 0 when complete and valid, 3 while incomplete).
status=3
deadline=$((SECONDS + TIMEOUT))
while ((SECONDS < deadline)); do
  status=0
  "$PYTHON" "$HERE/check-cache.py" --quiet "$XDG_CACHE_HOME/thumbnails" "$PHOTOS" || status=$?
  [[ $status -eq 3 ]] || break
  sleep 0.2
done
elapsed=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')

# What Thunar asked for: each call with its number of URIs, its flavor
# and scheduler.
echo "what Thunar asked the thumbnailer for:"
awk '/^method call/ { if (m != "") print "  " m; m = $0; sub(/.*member=/, "", m); n = 0; s = 0 }
     /^ *string "file:/ { n++ }
     /^ *string "/ && !/file:/ && !/\// { s++; if (s == 1 || s == 2) m = m " " $2 }
     /^ *uint32/ { if (n > 0) m = m " (" n " URIs)" }
     END { if (m != "") print "  " m }' "$TMP/monitor.log" \
  | grep -E "^  (Queue|Dequeue|Get)" | uniq -c || true

# No temporary file may stay behind: a few seconds after the last
# thumbnail appeared, the flavor folders hold thumbnails only.
status=0
"$PYTHON" "$HERE/check-cache.py" --strays "$XDG_CACHE_HOME/thumbnails" "$PHOTOS" || status=$?
deadline=$((SECONDS + 5))
while ((status == 4 && SECONDS < deadline)); do
  sleep 0.2
  status=0
  "$PYTHON" "$HERE/check-cache.py" --strays --quiet "$XDG_CACHE_HOME/thumbnails" "$PHOTOS" || status=$?
done
case $status in
  0) ;;
  3) fail "not every photo had its thumbnail after ${TIMEOUT}s (thunar log: $(tail -5 "$TMP/thunar.log"))" ;;
  4) fail "temporary files stayed behind in the cache" ;;
  *) fail "the cache is wrong" ;;
esac

# Who answered: the owner of the name must be THUMBNAILER's process.
owner_pid=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
              org.freedesktop.DBus.GetConnectionUnixProcessID \
              string:org.freedesktop.thumbnails.Thumbnailer1 2>/dev/null \
            | awk '/uint32/ { print $2 }')
[[ -n $owner_pid ]] || fail "nobody owns org.freedesktop.thumbnails.Thumbnailer1"
owner_exe=$(readlink -f "/proc/$owner_pid/exe")
[[ $owner_exe == "$(readlink -f "$1")" ]] \
  || fail "org.freedesktop.thumbnails.Thumbnailer1 is owned by $owner_exe, not $1"

echo "thunar check passed: $N_PHOTOS photos thumbnailed by $owner_exe (pid $owner_pid) within ${elapsed}s of Thunar's start"
