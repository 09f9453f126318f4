#!/usr/bin/env bash
# Starts the master on this machine, in the background: sbin/start-master.sh [master options...]
#   FLINT_MASTER_HOST        host to bind and advertise (default: `hostname -f`, else `hostname`)
#   FLINT_MASTER_PORT        RPC port (default 7077)
#   FLINT_MASTER_WEBUI_PORT  web UI port (default 8080)
# Options given here are passed on to `bin/flint master` after those three, so they win.
set -euo pipefail

sbin="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
# shellcheck source=SCRIPTDIR/flint-config.sh
. "$sbin/flint-config.sh"

for arg in "$@"; do
  if [[ "$arg" == "--help" ]]; then
    printf 'Usage: sbin/start-master.sh [options]\n\nOptions are those of bin/flint master:\n\n'
    "$FLINT_HOME/bin/flint" master --help
    exit 0
  fi
done

flint_load_env

host="${FLINT_MASTER_HOST:-}"
if [[ -z "$host" ]]; then
  host="$(flint_hostname_f)"
fi
port="${FLINT_MASTER_PORT:-7077}"
webui_port="${FLINT_MASTER_WEBUI_PORT:-8080}"
flint_require_uint FLINT_MASTER_PORT "$port" 1 65535
flint_require_uint FLINT_MASTER_WEBUI_PORT "$webui_port" 0 65535

exec "$FLINT_SBIN/flint-daemon.sh" start master 1 \
  --host "$host" --port "$((10#$port))" --webui-port "$((10#$webui_port))" "$@"
