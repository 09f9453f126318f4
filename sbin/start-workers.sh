#!/usr/bin/env bash
# Starts a worker on every host in conf/workers (or $FLINT_WORKERS; localhost when neither exists), pointed
# at flint://$FLINT_MASTER_HOST:$FLINT_MASTER_PORT. This machine's own entries run start-worker.sh directly;
# the others run it over ssh, in parallel, each output line prefixed with "host: ". Extra arguments are
# passed on to every start-worker.sh.
set -euo pipefail

sbin="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
# shellcheck source=SCRIPTDIR/flint-config.sh
. "$sbin/flint-config.sh"

flint_load_env
url="$(flint_master_url)"
flint_on_worker_hosts start-worker.sh "$url" "$@"
