#!/usr/bin/env bash
# Stops the worker(s) of this machine: instances 1..FLINT_WORKER_INSTANCES, and any other instance that still
# has a pid file (say, after FLINT_WORKER_INSTANCES was lowered).
set -euo pipefail

sbin="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
# shellcheck source=SCRIPTDIR/flint-config.sh
. "$sbin/flint-config.sh"

flint_load_env

instances="${FLINT_WORKER_INSTANCES:-1}"
flint_require_uint FLINT_WORKER_INSTANCES "$instances" 1 1000
instances=$((10#$instances))

declare -A todo=()
for ((i = 1; i <= instances; i++)); do
  todo[$i]=1
done
ident="${FLINT_IDENT_STRING:-${USER:-}}"
if [[ -z "$ident" ]]; then
  ident="$(id -un)"
fi
prefix="${FLINT_PID_DIR:-/tmp}/flint-$ident-worker-"
for pid_file in "$prefix"*.pid; do
  n="${pid_file#"$prefix"}"
  n="${n%.pid}"
  if [[ "$n" =~ ^[1-9][0-9]{0,5}$ ]]; then
    todo[$n]=1
  fi
done

failed=0
while IFS= read -r i; do
  "$FLINT_SBIN/flint-daemon.sh" stop worker "$i" || failed=1
done < <(printf '%s\n' "${!todo[@]}" | sort -n)
exit "$failed"
