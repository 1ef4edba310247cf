# photos.sh: the benchmarks' photographs, for run.sh and
# ../thumbnailer/run.sh to source.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# fetch_missing, then make_corpus into $PHOTOS: the photos of photos.txt,
# taken from the installed packages or from $CACHE
# ($WORKPOOL_BENCH_PHOTOS), where missing packages are fetched with
# `apt-get download` and only the listed files kept; then progressive
# copies of baseline ones (jpegtran -progressive) until there are
# MIN_PHOTOS.  Sets N_REAL, N_COPIES, N_PHOTOS.  Calls skip (the sourcing
# script's) when the photos cannot be had.

PHOTOS_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
MIN_PHOTOS=40
CACHE=${WORKPOOL_BENCH_PHOTOS:-${TMPDIR:-/tmp}/workpool-bench-photos}

# The photos.txt lines, without comments.
photo_list () {
  grep -v '^#' "$PHOTOS_HERE/photos.txt"
}

# Where PATH of PACKAGE is on this machine, if anywhere.
locate_photo () {
  local package=$1 path=$2

  if [[ -f $path ]]; then
    echo "$path"
  elif [[ -f $CACHE/$package$path ]]; then
    echo "$CACHE/$package$path"
  fi
}

# Fetches PACKAGE into the cache, keeping only its listed photos.
fetch_package () {
  local package=$1 tmp

  tmp=$(mktemp -d)
  echo "fetching $package with apt-get download ..."
  if ! (cd "$tmp" && apt-get download -q "$package" >/dev/null 2>&1); then
    rm -rf "$tmp"
    return 1
  fi
  dpkg-deb -x "$tmp"/*.deb "$tmp/root"
  photo_list | while read -r listed path _; do
    if [[ $listed == "$package" && -f $tmp/root$path ]]; then
      mkdir -p "$(dirname "$CACHE/$package$path")"
      cp "$tmp/root$path" "$CACHE/$package$path"
    fi
  done
  rm -rf "$tmp"
}

# Fetches every package that has a listed photo not found.
fetch_missing () {
  local missing package

  missing=$(photo_list | while read -r package path _; do
              [[ -n $(locate_photo "$package" "$path") ]] || echo "$package"
            done | sort -u | paste -sd ' ')
  for package in $missing; do
    fetch_package "$package" \
      || skip "cannot get the photos of $package (apt-get install $missing," \
              "or run apt-get update so that apt-get download works)"
  done
}

# A file name for the photo at PATH: the wallpaper's name for KDE's
# NAME/contents/images/WxH.jpg, the file's name otherwise.
photo_name () {
  local path=$1

  if [[ $path == */contents/images/* ]]; then
    echo "$(basename "${path%/contents/images/*}").jpg"
  else
    basename "$path"
  fi
}

# Copies the photos into $PHOTOS, then progressive copies of baseline
# ones until there are MIN_PHOTOS.
make_corpus () {
  local i=0 package path found name missing

  while read -r package path _; do
    found=$(locate_photo "$package" "$path")
    [[ -n $found ]] || skip "photo $path of $package not found"
    i=$((i + 1))
    cp "$found" "$PHOTOS/$(printf %02d "$i")-$(photo_name "$path")"
  done < <(photo_list)
  N_REAL=$i

  missing=$((MIN_PHOTOS - N_REAL))
  N_COPIES=0
  while read -r path && ((N_COPIES < missing)); do
    name=$(basename "$path" .jpg)
    jpegtran -copy all -progressive -outfile "$PHOTOS/$name-progressive.jpg" "$path"
    N_COPIES=$((N_COPIES + 1))
  done < <("$PYTHON" "$PHOTOS_HERE/corpus.py" baseline "$PHOTOS")
  N_PHOTOS=$((N_REAL + N_COPIES))
}
