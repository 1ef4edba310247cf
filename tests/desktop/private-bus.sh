# private-bus.sh: a private session bus whose only services are a
# thumbnailer's, for thunar-check.sh and the thumbnailer benchmark to
# source.
#
# Copyright 2026 The workpool authors
# SPDX-License-Identifier: LGPL-2.1-or-later
#
#   start_private_bus DIR THUMBNAILER [ARG...]
#
# writes into DIR (which must exist) the service files of
# org.freedesktop.thumbnails.Thumbnailer1 and Cache1 (Exec= THUMBNAILER
# ARG...), a copy of xfconfd's, and a bus configuration that lists DIR/
# services alone and lets monitors eavesdrop; starts dbus-daemon on it,
# sets and exports DBUS_SESSION_BUS_ADDRESS and appends its pid to the
# array PIDS.  The thumbnailer, started by activation, inherits the
# caller's environment as it is now.  Returns 1 when the daemon gives no
# address within 10 s.

start_private_bus () {
  local dir=$1 exec_line name bus_fd bus_pid
  shift

  mkdir -p "$dir/services" "$dir/socket"
  exec_line=$(printf '%q ' "$@")
  exec_line=${exec_line% }
  for name in Thumbnailer1 Cache1; do
    printf '[D-BUS Service]\nName=org.freedesktop.thumbnails.%s\nExec=%s\n' \
      "$name" "$exec_line" > "$dir/services/org.freedesktop.thumbnails.$name.service"
  done
  if [[ -f /usr/share/dbus-1/services/org.xfce.Xfconf.service ]]; then
    cp /usr/share/dbus-1/services/org.xfce.Xfconf.service "$dir/services/"
  fi
  cat > "$dir/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$dir/socket</listen>
  <servicedir>$dir/services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
  exec {bus_fd}< <(exec dbus-daemon --config-file="$dir/bus.conf" --nofork \
                     --print-address=1 --print-pid=1 2>>"$dir/bus.log")
  read -r -t 10 -u "$bus_fd" DBUS_SESSION_BUS_ADDRESS || return 1
  read -r -t 10 -u "$bus_fd" bus_pid || return 1
  PIDS+=("$bus_pid")
  export DBUS_SESSION_BUS_ADDRESS
}
