#!/usr/bin/env bash
# Stops the master started on this machine by start-master.sh.
set -euo pipefail

sbin="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
# shellcheck source=SCRIPTDIR/flint-config.sh
. "$sbin/flint-config.sh"

flint_load_env
exec "$FLINT_SBIN/flint-daemon.sh" stop master 1
