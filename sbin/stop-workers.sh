#!/usr/bin/env bash
# Stops the workers on every host in conf/workers (or $FLINT_WORKERS; localhost when neither exists), as
# start-workers.sh started them.
set -euo pipefail

sbin="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
# shellcheck source=SCRIPTDIR/flint-config.sh
. "$sbin/flint-config.sh"

flint_load_env
flint_on_worker_hosts stop-worker.sh
