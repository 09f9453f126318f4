#!/usr/bin/env bash
# Decommissions the worker(s) of this machine (Spark's sbin/decommission-worker.sh): instances
# 1..FLINT_WORKER_INSTANCES each get SIGPWR through flint-daemon.sh, by their pid file. A decommissioned worker
# tells its master, which places nothing more there; its executors finish their running tasks and exit, and the
# worker stays up (stop it with stop-worker.sh once drained). Needs flint.decommission.enabled on the workers.
# See docs/operations.md, "Decommissioning a worker".
set -euo pipefail

sbin="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
# shellcheck source=SCRIPTDIR/flint-config.sh
. "$sbin/flint-config.sh"

if [[ $# -gt 0 ]]; then
  printf 'Usage: decommission-worker.sh (no arguments; FLINT_WORKER_INSTANCES says how many workers run here)\n' >&2
  exit 1
fi

flint_load_env

instances="${FLINT_WORKER_INSTANCES:-1}"
flint_require_uint FLINT_WORKER_INSTANCES "$instances" 1 1000
instances=$((10#$instances))

failed=0
for ((i = 1; i <= instances; i++)); do
  "$FLINT_SBIN/flint-daemon.sh" decommission worker "$i" || failed=1
done
exit "$failed"
