#!/usr/bin/env bash
# Starts the worker(s) of this machine, in the background: sbin/start-worker.sh <master-url> [worker options...]
#   FLINT_WORKER_INSTANCES   workers to run on this machine (default 1), instances 1..N
#   FLINT_WORKER_WEBUI_PORT  web UI port of instance 1; instance i gets base + i - 1 (default 8081; 0: any free port)
#   FLINT_WORKER_PORT        RPC port of instance 1, likewise (default: any free port)
# Options given here are passed on to every `bin/flint worker` after the ports, so they win.
set -euo pipefail

sbin="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
# shellcheck source=SCRIPTDIR/flint-config.sh
. "$sbin/flint-config.sh"

usage() {
  printf 'Usage: sbin/start-worker.sh <master-url> [options]\n'
  printf '  <master-url>  flint://host:port, or flint://host1:port1,host2:port2 with standby masters\n'
}

if [[ $# -lt 1 ]]; then
  usage >&2
  exit 1
fi
for arg in "$@"; do
  if [[ "$arg" == "--help" ]]; then
    usage
    printf '\nOptions are those of bin/flint worker:\n\n'
    "$FLINT_HOME/bin/flint" worker --help
    exit 0
  fi
done

flint_load_env

master=$1
shift
instances="${FLINT_WORKER_INSTANCES:-1}"
webui_base="${FLINT_WORKER_WEBUI_PORT:-8081}"
port_base="${FLINT_WORKER_PORT:-}"
flint_require_uint FLINT_WORKER_INSTANCES "$instances" 1 1000
instances=$((10#$instances))
flint_require_uint FLINT_WORKER_WEBUI_PORT "$webui_base" 0 65535
webui_base=$((10#$webui_base))
if [[ -n "$port_base" ]]; then
  flint_require_uint FLINT_WORKER_PORT "$port_base" 0 65535
  port_base=$((10#$port_base))
fi

if [[ -n "${FLINT_NO_DAEMONIZE+set}" ]] && ((instances > 1)); then
  flint_die "FLINT_NO_DAEMONIZE runs one worker in the foreground; set FLINT_WORKER_INSTANCES=1 (it is $instances)"
fi

failed=0
for ((i = 1; i <= instances; i++)); do
  # Port 0 means "any free port" for every instance; otherwise instance i gets base + i - 1.
  webui_port=$((webui_base == 0 ? 0 : webui_base + i - 1))
  port_args=()
  if [[ -n "$port_base" ]]; then
    port_args=(--port "$((port_base == 0 ? 0 : port_base + i - 1))")
  fi
  if ((webui_port > 65535 || (${#port_args[@]} > 0 && port_args[1] > 65535))); then
    flint_error "worker $i: its ports would pass 65535; lower FLINT_WORKER_WEBUI_PORT, FLINT_WORKER_PORT or FLINT_WORKER_INSTANCES"
    failed=1
    continue
  fi
  daemon=("$FLINT_SBIN/flint-daemon.sh" start worker "$i" --webui-port "$webui_port" "${port_args[@]}" "$master" "$@")
  if ((instances == 1)); then
    exec "${daemon[@]}" # one worker: its exit code is ours, and in the foreground signals reach it
  fi
  "${daemon[@]}" || failed=1
done
exit "$failed"
