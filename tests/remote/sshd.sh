#!/usr/bin/env bash
# sshd.sh start|stop DIR: a private OpenSSH server on 127.0.0.1 for the
# tests of workers started through ssh (with-engine.sh).
#
# start: everything in DIR (created, 0700): a host key and a client key
# generated for the run, authorized_keys, an sshd_config on a free port
# of 127.0.0.1 that takes root's key and nothing else (StrictModes off:
# DIR may be under /tmp, whose mode it would refuse), and accepts the
# environment the tests forward (WORKPOOL_*, G_*, the sanitizers',
# GLIBC_TUNABLES); then an ssh_config whose host `workpool-test` reaches
# it, and DIR/launcher, the workers' launcher command.  Waits until a
# login works.  Exit 77 (skip) when not root or OpenSSH is missing.
# The system's ssh configuration is not touched.
#
# stop: ends that sshd and every session it forked; idempotent.
set -euo pipefail

action=$1
dir=$2
forwarded='WORKPOOL_* G_* ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS GLIBC_TUNABLES'

# The pids of the sshd started in DIR and of all its descendants.
tree_of() {
  local pid=$1 child
  echo "$pid"
  for child in $(pgrep -P "$pid" || true); do
    tree_of "$child"
  done
}

stop() {
  local pid pids deadline
  [ -f "$dir/sshd.pid" ] || return 0
  pid=$(cat "$dir/sshd.pid")
  # Only if it is still the sshd of this folder.
  if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/sshd_config"; then
    rm -f "$dir/sshd.pid"
    return 0
  fi
  pids=$(tree_of "$pid")
  kill $pids 2>/dev/null || true
  deadline=$((SECONDS + 10))
  while kill -0 $pids 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.05
  done
  kill -9 $pids 2>/dev/null || true
  rm -f "$dir/sshd.pid"
}

free_port() {
  /usr/bin/env python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

fail() {
  echo "sshd.sh: $*" >&2
  [ -f "$dir/sshd.log" ] && tail -n 20 "$dir/sshd.log" >&2
  stop
  exit 1
}

start() {
  local port
  if [ "$(id -u)" -ne 0 ]; then
    echo "skipped: sshd for the tests runs as root (it logs in as root with a key of its own)" >&2
    exit 77
  fi
  for program in /usr/sbin/sshd ssh ssh-keygen; do
    if ! command -v "$program" >/dev/null; then
      echo "skipped: $program is missing (apt-get install openssh-server openssh-client)" >&2
      exit 77
    fi
  done

  mkdir -p -m 0700 "$dir"
  mkdir -p /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key"
  cp "$dir/client_key.pub" "$dir/authorized_keys"
  port=$(free_port)

  cat >"$dir/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
X11Forwarding no
AllowAgentForwarding no
AllowTcpForwarding no
PermitTTY no
AcceptEnv $forwarded
MaxStartups 64:30:128
MaxSessions 64
LogLevel INFO
EOF

  cat >"$dir/ssh_config" <<EOF
Host workpool-test
  HostName 127.0.0.1
  Port $port
  User root
  IdentityFile $dir/client_key
  IdentitiesOnly yes
  UserKnownHostsFile $dir/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
  SendEnv $forwarded
EOF
  echo "[127.0.0.1]:$port $(cat "$dir/host_key.pub")" >"$dir/known_hosts"
  printf 'ssh -F %q -T workpool-test\n' "$dir/ssh_config" >"$dir/launcher"

  /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log" || fail "sshd did not start"

  local deadline=$((SECONDS + 20))
  until ssh -F "$dir/ssh_config" -T workpool-test true 2>"$dir/ssh-check.log"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      cat "$dir/ssh-check.log" >&2
      fail "no login through sshd on port $port after 20 s"
    fi
    sleep 0.1
  done
}

case $action in
  start) start ;;
  stop) stop ;;
  *) echo "usage: sshd.sh start|stop DIR" >&2; exit 2 ;;
esac
