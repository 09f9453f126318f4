#!/usr/bin/env bash
# Stops the workers on every host, then the master on this machine (stop-workers.sh, then stop-master.sh).
set -euo pipefail

sbin="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
# shellcheck source=SCRIPTDIR/flint-config.sh
. "$sbin/flint-config.sh"

flint_load_env
failed=0
"$FLINT_SBIN/stop-workers.sh" || failed=1
"$FLINT_SBIN/stop-master.sh" || failed=1
exit "$failed"
