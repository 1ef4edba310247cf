#!/usr/bin/env bash
# run.sh BENCH-REMOTE: bench-remote.c with a private Slurm cluster and sshd
# both running (tests/remote/with-engine.sh, one inside the other), so
# that local, srun and ssh workers are measured in one process and one
# run.  An engine that cannot run here is left out, and bench-remote says
# so.
set -euo pipefail

bench=$1
here=$(cd "$(dirname "$0")" && pwd)
with_engine=$here/../../remote/with-engine.sh

exec bash "$with_engine" --optional slurm \
  bash "$with_engine" --optional ssh "$bench"
