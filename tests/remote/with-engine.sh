#!/usr/bin/env bash
# with-engine.sh [--optional] ENGINE PROGRAM [ARGS…]: runs a TAP test
# program with its workers started through a real engine on this machine.
#
#   slurm  a private one-node Slurm cluster (slurm-cluster.sh): srun
#   ssh    a private sshd on 127.0.0.1 (sshd.sh): ssh
#
# The engine is started in a fresh folder, PROGRAM runs with
# $WORKPOOL_TEST_LAUNCHER set to the engine's launcher command, and the
# engine is stopped afterwards, whatever happened.  The launcher is also
# in $WORKPOOL_TEST_LAUNCHER_SLURM or _SSH, so that a program run inside
# two nested with-engine.sh has both (bench/remote/run.sh).  Before that, this
# checks that nothing of the run is left: no process of the worker
# program ($WORKPOOL_WORKER) started with --remote, and for Slurm no job
# in squeue.  Where the engine cannot run (not root, packages missing),
# the whole program is skipped with the engine's reason, as TAP says;
# with --optional, it runs without the engine instead.
set -euo pipefail

optional=false
if [ "$1" = --optional ]; then
  optional=true
  shift
fi
engine=$1
shift
here=$(cd "$(dirname "$0")" && pwd)

case $engine in
  slurm) control=$here/slurm-cluster.sh ;;
  ssh) control=$here/sshd.sh ;;
  *) echo "with-engine.sh: unknown engine $engine" >&2; exit 2 ;;
esac

state=$(mktemp -d "${TMPDIR:-/tmp}/workpool-$engine.XXXXXX")
stop_engine() {
  bash "$control" stop "$state/engine" >&2 || true
  rm -rf "$state"
}
trap stop_engine EXIT

status=0
bash "$control" start "$state/engine" >"$state/start.log" 2>&1 || status=$?
reason=$(grep -m1 'skipped' "$state/start.log" || tail -n1 "$state/start.log")
if [ "$status" -eq 77 ] && $optional; then
  echo "# without $engine: $reason" >&2
  "$@"
  exit
elif [ "$status" -eq 77 ]; then
  # One line of reason, as TAP's plan says it.
  echo "1..0 # SKIP $reason"
  exit 0
elif [ "$status" -ne 0 ]; then
  cat "$state/start.log" >&2
  echo "with-engine.sh: $engine did not start" >&2
  exit 1
fi

if [ -f "$state/engine/env" ]; then
  # shellcheck disable=SC1091
  . "$state/engine/env"
fi
WORKPOOL_TEST_LAUNCHER=$(cat "$state/engine/launcher")
export WORKPOOL_TEST_LAUNCHER
export WORKPOOL_TEST_ENGINE_DIR=$state/engine
export "WORKPOOL_TEST_LAUNCHER_${engine^^}=$WORKPOOL_TEST_LAUNCHER"
echo "# $engine: launcher $WORKPOOL_TEST_LAUNCHER" >&2

status=0
"$@" || status=$?

# Nothing of the run may be left running: a worker ends when its
# launcher's connection does, which may take the engine a few seconds.
# This run's workers are those of its worker program, which PROGRAM's
# environment names.
: "${WORKPOOL_WORKER:?with-engine.sh needs WORKPOOL_WORKER, the worker program of the run}"
leftovers() {
  pgrep -a -f -- "--remote" | grep -F -- "$WORKPOOL_WORKER" || true
  if [ "$engine" = slurm ]; then
    squeue --noheader 2>/dev/null || true
  fi
}
deadline=$((SECONDS + 30))
while [ -n "$(leftovers)" ] && [ "$SECONDS" -lt "$deadline" ]; do
  sleep 0.2
done
left=$(leftovers)
if [ -n "$left" ]; then
  echo "with-engine.sh: left running 30 s after the tests through $engine:" >&2
  echo "$left" >&2
  status=1
fi

exit "$status"
