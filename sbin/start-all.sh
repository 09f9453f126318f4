#!/usr/bin/env bash
# Starts the master on this machine, then the workers on every host (start-master.sh, then start-workers.sh).
set -euo pipefail

sbin="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
# shellcheck source=SCRIPTDIR/flint-config.sh
. "$sbin/flint-config.sh"

flint_load_env
failed=0
"$FLINT_SBIN/start-master.sh" || failed=1
"$FLINT_SBIN/start-workers.sh" || failed=1
exit "$failed"
