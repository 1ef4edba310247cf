#!/usr/bin/env bash
# run.sh [BUILDDIR]: install workpool and use it from where it was installed.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# .ci/run calls this after the normal build and test (BUILDDIR: build).
# Nothing may come from the source or the build tree once installed:
#
#  1. `meson install --destdir STAGE`, and every file a user needs is there:
#     library, headers, pkg-config file, worker, command, plugins, manual
#     pages, plugin guide and example plugin, workpool-thumbnailer with its
#     D-Bus activation files and systemd user unit (which start it from
#     where it was installed).
#  2. The installed workpool-1.pc names the plugin directory the plugins
#     were installed to.
#  3. ldd: the installed programs and plugins resolve every library, and
#     none from the build tree.
#  4. The installed `workpool list` lists demo and thumbnail, and the
#     installed `workpool thumbnail` writes every thumbnail of a copy of
#     data/photos.
#  5. The example plugin, from its installed copy, builds with nothing but
#     `pkg-config --cflags workpool-1` (with make, into the staged plugin
#     directory, and with meson), and the installed `workpool call` runs
#     it: digests match sha256sum and md5sum, its own error domain and a
#     timeout come back as they should.
#  6. The dynamic linker's trace of every process in 4 and 5 (the command
#     and its workers, which dlopen the plugins) loaded nothing from the
#     build tree, and no output named it.
#  7. Compiled-in paths: a second build, configured for a real prefix in
#     a temporary folder and installed there without DESTDIR, runs `list`
#     and `call` with no WORKPOOL_* variable at all, so the command finds
#     its worker and plugins by itself.
#
# Why the staged run (4, 5) needs environment variables.  The binaries
# under STAGE were built for PREFIX: the library is looked up by the
# dynamic linker in the system's folders, not in STAGE$libdir, and the
# compiled-in worker and plugin paths name PREFIX/..., which do not exist
# (or belong to another installation) until STAGE is copied to /.  So the
# staged commands run under `env -i` with exactly LD_LIBRARY_PATH,
# WORKPOOL_WORKER and WORKPOOL_PLUGIN_DIR pointing into STAGE (and the
# LD_DEBUG variables of check 6, which only observe).  Check 7 covers the
# compiled-in paths that these variables bypass.
#
# Each step prints what it does; a failure prints what went wrong, the
# output of the command that failed, and exits 1.

set -euo pipefail

srcdir=$(cd "$(dirname "$0")/../.." && pwd -P)
builddir=$(cd "${1:-$srcdir/build}" && pwd -P)
python=/usr/bin/python3
default_sizes="1024x1024 512x512 256x256 128x128 64x64 32x32"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/workpool-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage
log=$tmp/log
mkdir -p "$log"

step () {
  echo "install test: $*"
}

# fail MESSAGE [FILE…]: says what went wrong, shows FILEs, exits.
fail () {
  local file

  echo "install test: FAILED: $1" >&2
  shift
  for file in "$@"; do
    if [ -s "$file" ]; then
      echo "--- $(basename "$file"):" >&2
      sed 's/^/    /' "$file" >&2
    fi
  done
  exit 1
}

require_file () {
  [ -f "$1" ] || fail "$2: $1 is missing"
}

# The value of a meson option of the build, joined to the prefix.
option_path () {
  meson introspect "$builddir" --buildoptions \
    | "$python" -c '
import json, os, sys
options = {o["name"]: o["value"] for o in json.load(sys.stdin)}
print(os.path.join(options["prefix"], options[sys.argv[1]]))' "$1"
}

prefix=$(option_path prefix)
bindir=$(option_path bindir)
libdir=$(option_path libdir)
libexecdir=$(option_path libexecdir)
includedir=$(option_path includedir)
datadir=$(option_path datadir)
mandir=$(option_path mandir)
# As in the top meson.build.
plugindir=$libdir/workpool-1/plugins
worker=$libexecdir/workpool-worker
docdir=$datadir/doc/workpool-1

# --- 1. Install into a temporary root --------------------------------------

step "meson install -C $builddir --destdir $stage"
meson install -C "$builddir" --destdir "$stage" >"$log/install" 2>&1 \
  || fail "meson install failed" "$log/install"

for file in \
    "$bindir/workpool" \
    "$worker" \
    "$libdir/libworkpool-1.so.0" \
    "$libdir/pkgconfig/workpool-1.pc" \
    "$plugindir/demo.so" \
    "$plugindir/thumbnail.so" \
    "$mandir/man1/workpool.1" \
    "$docdir/plugin-guide.md" \
    "$docdir/example-plugin/checksum.c" \
    "$docdir/example-plugin/Makefile" \
    "$docdir/example-plugin/meson.build" \
    "$libexecdir/workpool-thumbnailer" \
    "$datadir/dbus-1/services/org.freedesktop.thumbnails.Thumbnailer1.service" \
    "$datadir/dbus-1/services/org.freedesktop.thumbnails.Cache1.service" \
    "$prefix/lib/systemd/user/workpool-thumbnailer.service" \
    "$mandir/man8/workpool-thumbnailer.8"; do
  require_file "$stage$file" "meson install"
done
# The activation files and the unit start the installed service.
for file in "$datadir/dbus-1/services/org.freedesktop.thumbnails.Thumbnailer1.service" \
            "$datadir/dbus-1/services/org.freedesktop.thumbnails.Cache1.service"; do
  grep -qx "Exec=$libexecdir/workpool-thumbnailer" "$stage$file" \
    || fail "$file does not start $libexecdir/workpool-thumbnailer" "$stage$file"
done
grep -qx "ExecStart=$libexecdir/workpool-thumbnailer" \
  "$stage$prefix/lib/systemd/user/workpool-thumbnailer.service" \
  || fail "the systemd unit does not start $libexecdir/workpool-thumbnailer" \
          "$stage$prefix/lib/systemd/user/workpool-thumbnailer.service"
for header in workpool.h wp-error.h wp-plugin.h wp-pool.h wp-version.h; do
  require_file "$stage$includedir/workpool-1/workpool/$header" "meson install"
done
[ -x "$stage$bindir/workpool" ] && [ -x "$stage$worker" ] \
  || fail "the installed workpool or workpool-worker is not executable"

# --- 2. pkg-config names the real plugin directory -------------------------

step "pkg-config --variable=plugindir workpool-1 is $plugindir"
got=$(PKG_CONFIG_PATH=$stage$libdir/pkgconfig pkg-config --variable=plugindir workpool-1 2>"$log/pkg-config") \
  || fail "pkg-config cannot read the installed workpool-1.pc" "$log/pkg-config"
[ "$got" = "$plugindir" ] \
  || fail "pkg-config --variable=plugindir workpool-1 is \"$got\", but the plugins are installed in $plugindir"

# --- 3. ldd: everything resolves, nothing from the build tree --------------

# forbid_tree FILE WHAT: FILE must not name the source or build tree.
forbid_tree () {
  if grep -n -F -e "$srcdir" -e "$builddir" "$1" >"$log/forbidden"; then
    fail "$2 names the source or build tree ($srcdir, $builddir)" "$log/forbidden" "$1"
  fi
}

for file in "$bindir/workpool" "$worker" "$libdir/libworkpool-1.so.0" \
            "$plugindir/demo.so" "$plugindir/thumbnail.so"; do
  ldd_log=$log/ldd-$(basename "$file")
  step "ldd $file"
  env -i LD_LIBRARY_PATH="$stage$libdir" ldd "$stage$file" >"$ldd_log" 2>&1 \
    || fail "ldd $stage$file failed" "$ldd_log"
  if grep -F "not found" "$ldd_log" >/dev/null; then
    fail "$file has unresolved libraries" "$ldd_log"
  fi
  forbid_tree "$ldd_log" "ldd $file"
done
grep -F "libworkpool-1.so.0 => $stage$libdir/libworkpool-1.so.0" "$log/ldd-workpool" >/dev/null \
  || fail "the installed workpool does not use the installed libworkpool-1.so.0" "$log/ldd-workpool"

# --- 4. The installed command, from the stage ------------------------------

mkdir -p "$tmp/trace"

# staged NAME COMMAND…: runs an installed program with only the variables
# the staged layout needs (see the top of this file), stdout and stderr to
# $log/NAME.out and $log/NAME.err; returns its exit status.
staged () {
  local name=$1 status=0
  shift
  timeout 300 env -i \
    LD_LIBRARY_PATH="$stage$libdir" \
    WORKPOOL_WORKER="$stage$worker" \
    WORKPOOL_PLUGIN_DIR="$stage$plugindir" \
    LD_DEBUG=libs LD_DEBUG_OUTPUT="$tmp/trace/$name" \
    "$@" >"$log/$name.out" 2>"$log/$name.err" || status=$?
  forbid_tree "$log/$name.out" "the output of $name"
  forbid_tree "$log/$name.err" "the errors of $name"
  return $status
}

workpool=$stage$bindir/workpool

step "workpool list"
staged list "$workpool" list || fail "workpool list exited with $?" "$log/list.out" "$log/list.err"
for plugin in demo thumbnail; do
  grep -E "^$plugin [^ ]+: " "$log/list.out" >/dev/null \
    || fail "workpool list does not list $plugin" "$log/list.out" "$log/list.err"
done

step "workpool thumbnail on a copy of data/photos"
cp -R "$srcdir/data/photos" "$tmp/photos"
rm -rf "$tmp"/photos/*/thumbnails
staged thumbnail "$workpool" thumbnail --ext jpg,jpeg,png --workers 2 --progress=never "$tmp/photos" \
  || fail "workpool thumbnail exited with $?" "$log/thumbnail.out" "$log/thumbnail.err"

n_images=0
while IFS= read -r -d '' image; do
  n_images=$((n_images + 1))
  name=$(basename "$image")
  for size in $default_sizes; do
    thumbnail=$(dirname "$image")/thumbnails/$size/${name%.*}.jpg
    [ -s "$thumbnail" ] || fail "no thumbnail $thumbnail" "$log/thumbnail.out" "$log/thumbnail.err"
    [ "$(head -c 3 "$thumbnail" | od -An -tx1 | tr -d ' \n')" = ffd8ff ] \
      || fail "$thumbnail is not a JPEG file"
  done
done < <(find "$tmp/photos" -path '*/thumbnails' -prune -o -type f \
              \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) -print0)
[ "$n_images" -gt 0 ] || fail "no photos in $srcdir/data/photos"
n_sizes=$(echo $default_sizes | wc -w)
grep -E "^$n_images images, $((n_images * n_sizes)) thumbnails written, 0 skipped, 0 failed, " \
     "$log/thumbnail.out" >/dev/null \
  || fail "workpool thumbnail did not report $n_images images and $((n_images * n_sizes)) thumbnails" \
          "$log/thumbnail.out" "$log/thumbnail.err"
step "  $n_images images, $((n_images * n_sizes)) JPEG thumbnails where they belong"

# --- 5. An out-of-tree plugin, with pkg-config --cflags only ---------------

# workpool-1.pc says prefix=$prefix, true once STAGE is copied to /.  The
# build below must find the staged headers, so it gets a copy of the .pc
# with the staged prefix.  (PKG_CONFIG_SYSROOT_DIR=STAGE would prefix
# GLib's -I paths too, and GLib is installed in /, not in STAGE.)
mkdir -p "$tmp/pkgconfig"
sed "s|^prefix=.*|prefix=$stage$prefix|" "$stage$libdir/pkgconfig/workpool-1.pc" \
  >"$tmp/pkgconfig/workpool-1.pc"
grep -q "^prefix=$stage$prefix\$" "$tmp/pkgconfig/workpool-1.pc" \
  || fail "workpool-1.pc has no prefix= line to relocate" "$stage$libdir/pkgconfig/workpool-1.pc"

# plugin_build LOGNAME COMMAND…: a build step with a clean environment.
plugin_build () {
  local name=$1
  shift
  env -i PATH=/usr/bin:/bin HOME="$tmp" PKG_CONFIG_PATH="$tmp/pkgconfig" "$@" \
    >"$log/$name" 2>&1 || fail "building the example plugin: $* failed" "$log/$name"
  forbid_tree "$log/$name" "building the example plugin ($*)"
}

step "the example plugin with make, installed into the staged plugin directory"
cp -R "$stage$docdir/example-plugin" "$tmp/example-make"
# Warnings are errors: the example is meant to be copied.
plugin_build make-build make -C "$tmp/example-make" \
  CFLAGS="-O2 -g -Wall -Wextra -Wno-unused-parameter -Werror"
grep -F -e "-I$stage$includedir/workpool-1" "$log/make-build" >/dev/null \
  || fail "the plugin was not compiled against the staged headers" "$log/make-build"
plugin_build make-install make -C "$tmp/example-make" install
require_file "$stage$plugindir/checksum.so" "make install of the example plugin"
if readelf -d "$stage$plugindir/checksum.so" | grep -F workpool >"$log/needed"; then
  fail "the example plugin links workpool" "$log/needed"
fi

step "the example plugin with meson"
cp -R "$stage$docdir/example-plugin" "$tmp/example-meson"
plugin_build meson-setup meson setup -Dwerror=true "$tmp/example-meson/build" "$tmp/example-meson"
plugin_build meson-compile meson compile -C "$tmp/example-meson/build"
require_file "$tmp/example-meson/build/checksum.so" "meson compile of the example plugin"
# Used in place as a plugin directory, the build folder must pass the
# plugin trust rule: under a umask of 002 (as in .ci/run) meson leaves it
# and the module group-writable, which the worker rightly refuses.
chmod go-w "$tmp/example-meson/build" "$tmp/example-meson/build/checksum.so"

photo=$(find "$tmp/photos" -path '*/thumbnails' -prune -o -name '*.jpg' -print | head -n 1)

step "workpool list shows the installed checksum plugin"
staged list-checksum "$workpool" list || fail "workpool list exited with $?" "$log/list-checksum.err"
grep -E "^checksum 1.0: " "$log/list-checksum.out" >/dev/null \
  || fail "workpool list does not list the installed checksum plugin" "$log/list-checksum.out"

step "workpool call checksum digest (make build, installed)"
staged call-sha256 "$workpool" call checksum digest "('sha256', '$photo')" \
  || fail "workpool call exited with $?" "$log/call-sha256.out" "$log/call-sha256.err"
expected="('$(sha256sum "$photo" | cut -d ' ' -f 1)',)"
[ "$(cat "$log/call-sha256.out")" = "$expected" ] \
  || fail "checksum digest sha256 printed $(cat "$log/call-sha256.out"), sha256sum says $expected"

step "workpool call --plugin-dir checksum digest (meson build)"
staged call-md5 "$workpool" call --plugin-dir "$tmp/example-meson/build" \
       checksum digest "('md5', '$photo')" \
  || fail "workpool call exited with $?" "$log/call-md5.out" "$log/call-md5.err"
expected="('$(md5sum "$photo" | cut -d ' ' -f 1)',)"
[ "$(cat "$log/call-md5.out")" = "$expected" ] \
  || fail "checksum digest md5 printed $(cat "$log/call-md5.out"), md5sum says $expected"

step "the plugin's own error domain reaches the caller"
status=0
staged call-crc32 "$workpool" call checksum digest "('crc32', '$photo')" || status=$?
[ $status = 1 ] && grep -F "workpool: checksum-error-quark:0: Unknown algorithm" "$log/call-crc32.err" >/dev/null \
  || fail "an unknown algorithm gave exit status $status, not 1 with checksum-error-quark:0" \
          "$log/call-crc32.out" "$log/call-crc32.err"

step "a timeout stops a job that never ends"
status=0
staged call-timeout "$workpool" call --timeout 300 checksum digest "('md5', '/dev/zero')" || status=$?
[ $status = 1 ] && grep -F "workpool: wp-pool-error-quark:7: " "$log/call-timeout.err" >/dev/null \
  || fail "digesting /dev/zero with --timeout 300 gave exit status $status, not 1 with wp-pool-error-quark:7" \
          "$log/call-timeout.out" "$log/call-timeout.err"

# --- 6. What the staged processes loaded -----------------------------------

step "the dynamic linker loaded nothing from the build tree"
cat "$tmp"/trace/* >"$log/trace"
# "initialize program: PATH" for every program (workpool, the workers),
# "calling init: PATH" for every library and plugin they loaded.
sed -n -e 's/.*initialize program: //p' -e 's/.*calling init: //p' "$log/trace" \
  | sort -u >"$log/loaded"
forbid_tree "$log/loaded" "what the staged commands and their workers ran or loaded"
for object in "$stage$bindir/workpool" "$stage$worker" \
              "$stage$libdir/libworkpool-1.so.0" "$stage$plugindir/demo.so" \
              "$stage$plugindir/thumbnail.so" "$stage$plugindir/checksum.so"; do
  grep -F -x "$object" "$log/loaded" >/dev/null \
    || fail "no staged process ran or loaded $object" "$log/loaded"
done

# --- 7. Compiled-in paths, at a real prefix --------------------------------

root=$tmp/root
step "compiled-in paths: a build for --prefix=$root, installed there"
meson setup "$tmp/build-root" "$srcdir" --prefix="$root" -Dtests=false \
  >"$log/root-setup" 2>&1 || fail "meson setup --prefix=$root failed" "$log/root-setup"
meson install -C "$tmp/build-root" >"$log/root-install" 2>&1 \
  || fail "meson install (prefix $root) failed" "$log/root-install"
root_libdir=$(meson introspect "$tmp/build-root" --buildoptions \
  | "$python" -c '
import json, os, sys
options = {o["name"]: o["value"] for o in json.load(sys.stdin)}
print(os.path.join(options["prefix"], options["libdir"]))')

# No WORKPOOL_* variable: only the library's folder, which the dynamic
# linker does not search by itself in a temporary prefix.
in_root () {
  local name=$1 status=0
  shift
  timeout 300 env -i LD_LIBRARY_PATH="$root_libdir" "$@" \
    >"$log/$name.out" 2>"$log/$name.err" || status=$?
  return $status
}

step "workpool list at $root, with no WORKPOOL_* variable"
in_root root-list "$root/bin/workpool" list \
  || fail "workpool list at $root exited with $?" "$log/root-list.out" "$log/root-list.err"
for plugin in demo thumbnail; do
  grep -E "^$plugin [^ ]+: " "$log/root-list.out" >/dev/null \
    || fail "workpool list at $root does not list $plugin" "$log/root-list.out" "$log/root-list.err"
done

step "workpool call demo add at $root, with no WORKPOOL_* variable"
in_root root-call "$root/bin/workpool" call demo add '(2, 3)' \
  || fail "workpool call at $root exited with $?" "$log/root-call.out" "$log/root-call.err"
[ "$(cat "$log/root-call.out")" = "(5,)" ] \
  || fail "workpool call demo add '(2, 3)' printed $(cat "$log/root-call.out")" "$log/root-call.err"

step "all passed"
