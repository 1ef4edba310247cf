#!/usr/bin/env bash
# slurm-cluster.sh start|stop DIR: a private one-node Slurm cluster on this
# machine, for the tests of workers started through srun (with-engine.sh).
#
# start: everything in DIR (created): a munge key and munged on a socket
# of its own, a slurm.conf (this host the one node and the controller, one
# default partition, proctrack/linuxproc, free ports picked now, state,
# spool, pid and log files in DIR), slurmctld and slurmd; waits until the
# node is idle and a one-task step runs.  Writes DIR/env (SLURM_CONF, for
# srun and squeue) and DIR/launcher, the workers' launcher command.  Exit
# 77 (skip) when not root or Slurm or munge is missing.  Nothing outside
# DIR is used but /run/munge's absence: the system's munged and Slurm,
# if any, are left alone.
#
# stop: cancels the jobs, ends the three daemons this DIR started and
# waits for them; idempotent.
set -euo pipefail

action=$1
dir=$2

daemons=(slurmd slurmctld munged)

pid_of() {
  local file=$dir/$1.pid pid
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  # Only if it is still that daemon (a pid may have been reused).
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] || return 1
  echo "$pid"
}

stop() {
  local pids=() pid deadline name
  if [ -f "$dir/slurm.conf" ] && pid_of slurmctld >/dev/null; then
    SLURM_CONF=$dir/slurm.conf scancel --full --quiet --user=root 2>/dev/null || true
  fi
  for name in "${daemons[@]}"; do
    if pid=$(pid_of "$name"); then
      kill "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  [ "${#pids[@]}" -gt 0 ] || return 0
  deadline=$((SECONDS + 15))
  while kill -0 "${pids[@]}" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.05
  done
  kill -9 "${pids[@]}" 2>/dev/null || true
  for name in "${daemons[@]}"; do
    rm -f "$dir/$name.pid"
  done
}

free_port() {
  /usr/bin/env python3 -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'
}

fail() {
  echo "slurm-cluster.sh: $*" >&2
  for log in munged slurmctld slurmd; do
    if [ -f "$dir/$log.log" ]; then
      echo "--- $log.log" >&2
      tail -n 15 "$dir/$log.log" >&2
    fi
  done
  stop
  exit 1
}

# Polls @command (a bounded wait for a condition, not a delay).
wait_for() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$what after $seconds s"
    sleep 0.1
  done
}

node_idle() {
  [ "$(sinfo --noheader --format=%t 2>/dev/null)" = idle ]
}

start() {
  local node cpus memory
  if [ "$(id -u)" -ne 0 ]; then
    echo "skipped: the Slurm cluster for the tests runs as root (slurmd must)" >&2
    exit 77
  fi
  for program in munged slurmctld slurmd srun sinfo squeue scancel; do
    if ! command -v "$program" >/dev/null && [ ! -x "/usr/sbin/$program" ]; then
      echo "skipped: $program is missing (apt-get install slurm-wlm munge)" >&2
      exit 77
    fi
  done

  # munged wants every folder above its socket searchable by all.
  mkdir -p "$dir"
  chmod 0711 "$dir"
  mkdir -p -m 0700 "$dir/state" "$dir/spool"
  head -c 1024 /dev/urandom >"$dir/munge.key"
  chmod 0600 "$dir/munge.key"
  /usr/sbin/munged --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" \
    --seed-file="$dir/munged.seed" || fail "munged did not start"

  node=$(hostname -s)
  cpus=$(nproc)
  memory=$(($(awk '/MemTotal/ { print $2 }' /proc/meminfo) / 1024 / 2))
  cat >"$dir/slurm.conf" <<EOF
ClusterName=workpool-test
SlurmctldHost=$node
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
KillWait=2
InactiveLimit=0
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
NodeName=$node CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=workpool Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$dir/slurm.conf
  printf 'export SLURM_CONF=%q\n' "$SLURM_CONF" >"$dir/env"
  printf 'srun --unbuffered --ntasks=1 --input=0 --quiet --job-name=workpool-worker\n' \
    >"$dir/launcher"

  /usr/sbin/slurmctld -f "$SLURM_CONF" -i || fail "slurmctld did not start"
  /usr/sbin/slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
  wait_for "the node is not idle" 60 node_idle
  wait_for "no step runs" 60 timeout 20 srun --ntasks=1 --quiet true
}

case $action in
  start) start ;;
  stop) stop ;;
  *) echo "usage: slurm-cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
