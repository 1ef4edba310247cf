#!/usr/bin/env bash
# slurm-cluster.sh start|stop DIR: a private one-node Slurm cluster on this
# machine, for the tests of workers started through srun (with-engine.sh).
#
# start DIR: DIR must be empty or absent; it is created 0700 and holds
# everything: a munge key and a munged of its own (socket, pid, log and
# seed files), a slurm.conf (this host the controller and the one node,
# one default partition, free TCP ports picked now, state, spool, pid and
# log files in DIR), slurmctld and slurmd.  Returns once the node is idle
# and a one-task step has run (60 s at most).  Writes DIR/env (sources to
# `export SLURM_CONF=…`, for srun, squeue and scancel) and DIR/launcher
# (one line: the workers' srun command).  Exit 77 with "skipped: reason"
# on stderr when not root or Slurm or munge is missing; exit 1 with the
# daemons' logs on stderr, and all of it stopped, when it does not come up.
# The system's munged and Slurm, if any, are neither used nor touched.
#
# stop DIR: cancels this cluster's jobs, then ends its step daemons (and
# their tasks, if still there), slurmd, slurmctld and munged, waits for
# them and kills what is left after a few seconds.  Only processes that
# this DIR's start started are touched.  Idempotent.
set -euo pipefail

if [ $# -ne 2 ] || { [ "$1" != start ] && [ "$1" != stop ]; }; then
  echo "usage: slurm-cluster.sh start|stop DIR" >&2
  exit 2
fi
action=$1
# Absolute: DIR goes into slurm.conf and into the daemons' command lines,
# which is how stop recognises them.
case $2 in
  /*) dir=$2 ;;
  *) dir=$PWD/$2 ;;
esac
dir=${dir%/}
conf=$dir/slurm.conf
# The daemons are in /usr/sbin, which a non-login root shell may lack.
PATH=$PATH:/usr/sbin:/sbin

# The pid of DIR's daemon NAME (slurmd, slurmctld or munged) if it runs:
# its pid file names it and its command line names DIR (a pid may have
# been reused since).
pid_of() {
  local name=$1 pid
  pid=$(cat "$dir/$name.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] || return 1
  { tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF -- "$dir/" || return 1
  echo "$pid"
}

# The slurmstepd processes of this cluster: slurmd passes its environment,
# with SLURM_CONF naming DIR, to the step daemons it forks (which then
# leave it: they are no children of slurmd and outlive it).
stepds() {
  local pid
  for pid in $(pgrep -x slurmstepd || true); do
    if { tr '\0' '\n' <"/proc/$pid/environ"; } 2>/dev/null | grep -qxF -- "SLURM_CONF=$conf"; then
      echo "$pid"
    fi
  done
}

# PID and all its descendants.
tree_of() {
  local child
  echo "$1"
  for child in $(pgrep -P "$1" || true); do
    tree_of "$child"
  done
}

# Whether any of the pids runs (kill -0 with several fails if one is gone).
any_alive() {
  local pid
  for pid in "$@"; do
    kill -0 "$pid" 2>/dev/null && return 0
  done
  return 1
}

# Waits until none of the pids runs, at most SECONDS (fractions allowed).
wait_gone() {
  local seconds=$1 tries
  shift
  tries=$(awk -v s="$seconds" 'BEGIN { print int(s * 20) }')
  while [ "$tries" -gt 0 ] && any_alive "$@"; do
    sleep 0.05
    tries=$((tries - 1))
  done
  ! any_alive "$@"
}

stop() {
  local pids=() steps=() pid name
  if pid_of munged >/dev/null && pid_of slurmctld >/dev/null && pid_of slurmd >/dev/null; then
    # Cancelling through slurmctld and slurmd is what ends the steps and
    # their tasks cleanly; killing slurmd first would orphan the steps.
    # (Without all three, scancel would hang retrying for seconds.)
    SLURM_CONF=$conf timeout 3 scancel --quiet --user=root 2>/dev/null || true
    mapfile -t steps < <(stepds)
    if [ "${#steps[@]}" -gt 0 ]; then
      wait_gone 4 "${steps[@]}" || true
    fi
  fi
  # Whatever steps are left (slurmd gone, or unkillable), with their tasks.
  mapfile -t steps < <(for pid in $(stepds); do tree_of "$pid"; done)
  if [ "${#steps[@]}" -gt 0 ]; then
    kill -9 "${steps[@]}" 2>/dev/null || true
  fi
  for name in slurmd slurmctld munged; do
    if pid=$(pid_of "$name"); then
      kill "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  if [ "${#pids[@]}" -gt 0 ] && ! wait_gone 5 "${pids[@]}"; then
    kill -9 "${pids[@]}" 2>/dev/null || true
    wait_gone 2 "${pids[@]}" || true
  fi
  for name in slurmd slurmctld munged; do
    rm -f "$dir/$name.pid"
  done
}

skip() {
  echo "skipped: $*" >&2
  exit 77
}

# A TCP port nothing uses and other than ARGS, below the kernel's
# ephemeral range so that no connection made in the meantime takes it
# (/proc/net/tcp* lists ports in hex, local and remote; a match in either
# is taken as used).
free_port() {
  local low port
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  [ "$low" -gt 12000 ] || low=32768
  for _ in $(seq 1 200); do
    port=$((10000 + RANDOM % (low - 10000)))
    case " $* " in *" $port "*) continue ;; esac
    if ! cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -qi -- "$(printf ':%04X ' "$port")"; then
      echo "$port"
      return 0
    fi
  done
  echo "slurm-cluster.sh: no free TCP port found" >&2
  return 1
}

# On a failed start: the logs, then stop what was started.
started=false
on_exit() {
  local status=$?
  if [ "$status" -ne 0 ] && [ "$status" -ne 77 ] && ! $started; then
    set +e
    for log in munged slurmctld slurmd; do
      if [ -s "$dir/$log.log" ]; then
        echo "--- $dir/$log.log (end)" >&2
        tail -n 20 "$dir/$log.log" >&2
      fi
    done
    stop
  fi
}

fail() {
  echo "slurm-cluster.sh: $*" >&2
  exit 1
}

# Polls until COMMAND succeeds, at most SECONDS; fails early if a daemon
# died meanwhile.
wait_for() {
  local what=$1 seconds=$2 deadline name
  shift 2
  deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    for name in munged slurmctld slurmd; do
      pid_of "$name" >/dev/null || fail "$name is gone while waiting until $what"
    done
    [ "$SECONDS" -lt "$deadline" ] || fail "$what: not after $seconds s"
    sleep 0.1
  done
}

node_idle() {
  [ "$(sinfo --noheader --format=%t 2>/dev/null)" = idle ]
}

start() {
  local program node cpus memory ctld_port slurmd_port
  [ "$(id -u)" -eq 0 ] || skip "the private Slurm cluster runs as root (slurmd must)"
  for program in munged slurmctld slurmd srun sinfo squeue scancel; do
    command -v "$program" >/dev/null ||
      skip "$program is not installed (apt-get install slurm-wlm munge)"
  done
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    echo "slurm-cluster.sh: $dir is not empty" >&2
    exit 1
  fi

  trap on_exit EXIT
  trap 'exit 1' INT TERM HUP
  mkdir -p "$dir"
  chmod 0700 "$dir"
  mkdir -m 0700 "$dir/state" "$dir/spool"

  # munged checks the key's mode and owner, and wants the folders above its
  # socket searchable by all, which a 0700 DIR is not: --force makes that
  # a warning.  Only root uses the socket here (srun, slurmd, slurmstepd).
  (umask 077 && head -c 1024 /dev/urandom >"$dir/munge.key")
  munged --force --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
    --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" \
    --seed-file="$dir/munged.seed" 2>>"$dir/munged.log" ||
    fail "munged did not start"

  node=$(hostname -s)
  ctld_port=$(free_port)
  slurmd_port=$(free_port "$ctld_port")
  cpus=$(nproc)
  # A node with less memory than its RealMemory is drained: half of it,
  # at most 2 GB.
  memory=$(awk '/^MemTotal:/ { m = int($2 / 2048); print (m > 2048 ? 2048 : m) }' /proc/meminfo)
  # InactiveLimit: when srun and its helper process are both killed at
  # once (SIGKILL to the process group), the step and its task would run
  # for ever, the task blocked reading a stdin that never ends; this has
  # slurmctld cancel such jobs (within InactiveLimit + its 30 s check).
  # KillWait: stop and scancel are quicker.  MailProg: one error less in
  # the log (there is no mail here).
  # OverSubscribe=FORCE: every worker is a job of its own, and a pool has
  # more workers than this machine has cores (without it, the third srun
  # on two cores waits for resources).
  cat >"$conf" <<EOF
ClusterName=workpool
SlurmctldHost=$node
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
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
InactiveLimit=10
MailProg=/bin/true
KillWait=2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
NodeName=$node CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=workpool Nodes=ALL Default=YES MaxTime=INFINITE OverSubscribe=FORCE:64 State=UP
EOF
  printf 'export SLURM_CONF=%q\n' "$conf" >"$dir/env"
  printf '%s\n' 'srun --unbuffered --ntasks=1 --input=0 --quiet --kill-on-bad-exit=1 --job-name=workpool-test' \
    >"$dir/launcher"

  # SLURM_CONF in the environment too: slurmd hands it on to the step
  # daemons, which is how stop finds them.
  export SLURM_CONF=$conf
  slurmctld -f "$conf" 2>>"$dir/slurmctld.log" || fail "slurmctld did not start"
  slurmd -f "$conf" 2>>"$dir/slurmd.log" || fail "slurmd did not start"
  wait_for "the node is idle" 60 node_idle
  wait_for "a step runs" 60 timeout 20 srun --ntasks=1 --nodes=1 --quiet true
  started=true
}

case $action in
  start) start ;;
  stop) stop ;;
esac
