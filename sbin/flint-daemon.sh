#!/usr/bin/env bash
# Runs a Flint daemon (master or worker) in the background, stops it, or reports on it. See docs/operations.md.
#
#   flint-daemon.sh [--config <conf-dir>] (start|stop|status|decommission) (master|worker) <instance> [args...]
#
# Variables (conf/flint-env.sh.template documents them all):
#   FLINT_CONF_DIR       conf directory; flint-env.sh there is sourced (default $FLINT_HOME/conf)
#   FLINT_LOG_DIR        where the .out logs go (default $FLINT_HOME/logs)
#   FLINT_PID_DIR        where the pid files go (default /tmp)
#   FLINT_IDENT_STRING   names this set of daemons in file names (default $USER)
#   FLINT_NICENESS       scheduling priority of the daemon (default 0)
#   FLINT_LOG_MAX_FILES  rotated logs kept per daemon (default 5)
#   FLINT_STOP_TIMEOUT   seconds stop waits after SIGTERM before SIGKILL (default 15)
#   FLINT_NO_DAEMONIZE   if set, start runs the daemon in the foreground (no pid file, no log file)
#
# Exit codes: 0 success; 1 failure (bad usage or variable, already running, failed to launch, would not die).
# status: 0 running, 1 pid file present but not running, 2 not running.
# decommission (workers only, Spark's spark-daemon.sh decommission): sends the running worker SIGPWR
# (flint.worker.decommission.signal); 0 when sent or nothing runs ("no worker to decommission").

set -euo pipefail
set +m # no job control: the daemon must not lead its own process group, so setsid keeps its pid

sbin="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
# shellcheck source=SCRIPTDIR/flint-config.sh
. "$sbin/flint-config.sh"

usage() {
  printf 'Usage: flint-daemon.sh [--config <conf-dir>] (start|stop|status|decommission) (master|worker) <instance> [args...]\n' >&2
  exit 1
}

if [[ $# -ge 1 && "$1" == "--config" ]]; then
  [[ $# -ge 2 ]] || usage
  [[ -d "$2" ]] || flint_die "--config: '$2' is not a directory"
  FLINT_CONF_DIR="$(cd "$2" && pwd)"
  export FLINT_CONF_DIR
  shift 2
fi
[[ $# -ge 3 ]] || usage

action=$1
command=$2
instance=$3
shift 3

case "$action" in
  start | stop | status | decommission) ;;
  *) flint_error "unknown action '$action'" && usage ;;
esac
case "$command" in
  master | worker) ;;
  *) flint_error "unknown command '$command'; expected master or worker" && usage ;;
esac
[[ "$instance" =~ ^[1-9][0-9]{0,5}$ ]] || flint_die "the instance must be a positive whole number, but got '$instance'"

flint_load_env

ident="${FLINT_IDENT_STRING:-${USER:-}}"
if [[ -z "$ident" ]]; then
  ident="$(id -un)"
fi
if [[ ! "$ident" =~ ^[A-Za-z0-9_][A-Za-z0-9._@+-]*$ ]]; then
  flint_die "FLINT_IDENT_STRING must be letters, digits and . _ @ + - (it is part of file names), but got '$ident'"
fi
log_dir="${FLINT_LOG_DIR:-$FLINT_HOME/logs}"
pid_dir="${FLINT_PID_DIR:-/tmp}"
host_tag="${HOSTNAME:-$(flint_hostname_short)}"
host_tag="${host_tag//\//_}"

log="$log_dir/flint-$ident-$command-$instance-$host_tag.out"
pid_file="$pid_dir/flint-$ident-$command-$instance.pid"
lock_file="$pid_dir/flint-$ident-$command-$instance.lock"

# --- processes -----------------------------------------------------------------------------------------

# The command line of process PID, arguments separated by spaces (with a trailing space); nothing when the
# process is gone or a zombie.
cmdline_of() {
  local pid=$1 line
  if [[ -r /proc/self/cmdline ]]; then
    tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true
  else
    line="$(ps -ww -p "$pid" -o stat= -o args= 2>/dev/null)" || return 0
    [[ -n "$line" && "$line" != Z* && "$line" != [[:space:]]Z* ]] || return 0
    read -r _ line <<<"$line"
    printf '%s \n' "$line"
  fi
}

# True while PID is a Flint node process running COMMAND: `bin/flint <command>` while it sets itself up,
# then `node .../dist/current/cli.mjs <command>` (or `node .../src/cli/main.ts <command>` with
# FLINT_FROM_SOURCES, or `node .../lib/cli.mjs <command>` in the npm package). A recycled pid that now names another
# program is not.
is_flint_process() {
  local pid=$1 args
  [[ "$pid" =~ ^[1-9][0-9]{0,9}$ ]] || return 1
  args="$(cmdline_of "$pid")"
  [[ "$args" == *"/bin/flint $command "* ]] || is_node_cmdline "$args"
}

# True once PID has become the node process (past bin/flint's setup).
is_node_process() {
  is_node_cmdline "$(cmdline_of "$1")"
}

is_node_cmdline() {
  [[ "$1" == *"/dist/current/cli.mjs $command "* || "$1" == *"/src/cli/main.ts $command "* || "$1" == *"/lib/cli.mjs $command "* ]]
}

# True while PID exists and is not a zombie. Not from its cmdline: that reads empty for a moment while the
# process execs (bin/flint becoming node), and the process is alive then.
is_alive() {
  local pid=$1 stat line
  [[ "$pid" =~ ^[1-9][0-9]{0,9}$ ]] || return 1
  if [[ -r /proc/self/stat ]]; then
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
    # Field 3, the state, follows the last ')' (the command name in parentheses may hold spaces).
    stat="${stat##*) }"
    [[ -n "$stat" && "${stat:0:1}" != Z ]]
  else
    line="$(ps -p "$pid" -o stat= 2>/dev/null)" || return 1
    line="${line//[[:space:]]/}"
    [[ -n "$line" && "$line" != Z* ]]
  fi
}

# The pid recorded in the pid file, or nothing if it does not hold one.
read_pid_file() {
  local pid=""
  if [[ -f "$pid_file" ]]; then
    IFS= read -r pid <"$pid_file" 2>/dev/null || true
    pid="${pid//[[:space:]]/}"
  fi
  if [[ "$pid" =~ ^[1-9][0-9]{0,9}$ ]]; then
    printf '%s\n' "$pid"
  fi
}

write_pid_file() {
  local tmp
  tmp="$(mktemp "$pid_dir/.flint-pid.XXXXXX")" || flint_die "cannot write a pid file in $pid_dir"
  printf '%s\n' "$1" >"$tmp"
  chmod 644 "$tmp"
  mv -f -- "$tmp" "$pid_file" # replaces, never follows, whatever is at $pid_file
}

# The argv as a quoted line, with the values of secret-looking key=value arguments hidden.
display_command() {
  local out="" arg lower quoted
  for arg in "$@"; do
    lower="${arg,,}"
    if [[ "$lower" == *=* && ("$lower" == *secret* || "$lower" == *password* || "$lower" == *token* || "$lower" == *credential*) ]]; then
      printf -v quoted ' %q=*********(redacted)' "${arg%%=*}"
    else
      printf -v quoted ' %q' "$arg"
    fi
    out+="$quoted"
  done
  printf '%s\n' "${out# }"
}

# Waits up to TENTHS tenths of a second for PID to stop being the Flint process; true if it did.
wait_for_exit() {
  local pid=$1 tenths=$2 i
  for ((i = 0; i < tenths; i += 2)); do
    is_flint_process "$pid" || return 0
    sleep 0.2
  done
  ! is_flint_process "$pid"
}

# Holds an exclusive lock on this daemon's lock file until the script exits, so two start/stop runs for the
# same daemon do not interleave. The daemon itself never inherits the lock.
lock_fd=""
take_lock() {
  mkdir -p -- "$pid_dir" 2>/dev/null || flint_die "cannot create the pid directory $pid_dir"
  exec {lock_fd}>>"$lock_file" || flint_die "cannot open $lock_file"
  if command -v flock >/dev/null 2>&1; then
    flock -w 15 "$lock_fd" || flint_die "another flint-daemon.sh has been starting or stopping $command $instance for 15 s; try again"
  fi
}

# --- log rotation ----------------------------------------------------------------------------------------

# Shifts LOG.(n-1) to LOG.n ... LOG to LOG.1, keeping at most MAX rotated files (as Spark's spark_rotate_log).
rotate_log() {
  local log=$1 max=$2 top=0 num prev f n
  [[ -f "$log" ]] || return 0
  for f in "$log".*; do
    n="${f##*.}"
    if [[ "$n" =~ ^[0-9]{1,9}$ ]] && ((10#$n > top)); then
      top=$((10#$n))
    fi
  done
  num=$((top + 1 < max ? top + 1 : max))
  while ((num > 1)); do
    prev=$((num - 1))
    if [[ -f "$log.$prev" ]]; then
      mv -f -- "$log.$prev" "$log.$num"
    fi
    num=$prev
  done
  mv -f -- "$log" "$log.1"
}

# --- actions ---------------------------------------------------------------------------------------------

do_start() {
  local max_files="${FLINT_LOG_MAX_FILES:-5}"
  if [[ ! "$max_files" =~ ^[0-9]{1,9}$ ]] || ((10#$max_files < 1)); then
    flint_die "FLINT_LOG_MAX_FILES must be a positive integer, but got '$max_files'"
  fi
  max_files=$((10#$max_files))
  local niceness="${FLINT_NICENESS:-0}"
  [[ "$niceness" =~ ^-?[0-9]{1,2}$ ]] || flint_die "FLINT_NICENESS must be a whole number from -20 to 19, but got '$niceness'"

  take_lock
  local old_pid
  old_pid="$(read_pid_file)"
  if [[ -n "$old_pid" ]] && is_flint_process "$old_pid"; then
    printf '%s running as process %s.  Stop it first.\n' "$command" "$old_pid" >&2
    exit 1
  fi

  local -a argv=(nice -n "$niceness" "$FLINT_HOME/bin/flint" "$command" "$@")
  if [[ -n "${FLINT_NO_DAEMONIZE+set}" ]]; then
    # In the foreground, for a supervisor (systemd, a container): no pid file, output stays on the terminal.
    exec {lock_fd}>&-
    exec "${argv[@]}"
  fi

  mkdir -p -- "$log_dir" 2>/dev/null || flint_die "cannot create the log directory $log_dir"
  [[ -w "$log_dir" ]] || flint_die "cannot write to the log directory $log_dir"
  rotate_log "$log" "$max_files"
  echo "starting $command, logging to $log"
  local shown
  shown="$(display_command "${argv[@]}")"
  printf '%s flint-daemon.sh: starting %s\n' "$(date '+%Y-%m-%dT%H:%M:%S%z')" "$shown" >>"$log"

  # nohup and nice as Spark does; setsid as well, because node resets every signal to its default at start
  # (undoing nohup): in its own session the daemon gets no SIGHUP or Ctrl-C from the terminal it came from.
  local -a detach=()
  if command -v setsid >/dev/null 2>&1; then
    detach=(setsid)
  fi
  nohup "${argv[@]:0:3}" "${detach[@]}" "${argv[@]:3}" >>"$log" 2>&1 </dev/null {lock_fd}>&- &
  local new_pid=$!
  write_pid_file "$new_pid"

  # Up to 15 s for bin/flint to become the node process (a loaded machine can be slow), then 2 s more to see
  # it keep running.
  local i became_node=0
  for ((i = 0; i < 75; i++)); do
    is_alive "$new_pid" || break
    if is_node_process "$new_pid"; then
      became_node=1
      break
    fi
    sleep 0.2
  done
  if ((became_node)); then
    for ((i = 0; i < 10; i++)); do
      is_flint_process "$new_pid" || break
      sleep 0.2
    done
  fi

  if ! is_flint_process "$new_pid"; then
    printf 'failed to launch: %s\n' "$shown" >&2
    tail -n 10 -- "$log" | while IFS= read -r line || [[ -n "$line" ]]; do printf '  %s\n' "$line"; done >&2
    printf 'full log in %s\n' "$log" >&2
    if [[ "$(read_pid_file)" == "$new_pid" ]]; then
      rm -f -- "$pid_file"
    fi
    exit 1
  fi
  if ((!became_node)); then
    echo "$command (process $new_pid) is still setting up; see $log"
  fi
}

do_stop() {
  local timeout="${FLINT_STOP_TIMEOUT:-15}"
  flint_require_uint FLINT_STOP_TIMEOUT "$timeout" 0 86400
  timeout=$((10#$timeout))
  if [[ ! -f "$pid_file" ]]; then
    echo "no $command to stop"
    return 0
  fi
  take_lock
  local pid
  pid="$(read_pid_file)"
  if [[ -z "$pid" ]] || ! is_flint_process "$pid"; then
    echo "no $command to stop"
    rm -f -- "$pid_file" # stale: its process is gone (or is no longer Flint's)
    return 0
  fi
  echo "stopping $command"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for_exit "$pid" $((timeout * 10)); then
    printf '%s (process %s) did not stop within %s s of SIGTERM; sending SIGKILL\n' "$command" "$pid" "$timeout" >&2
    kill -KILL "$pid" 2>/dev/null || true
    if ! wait_for_exit "$pid" 50; then
      flint_die "$command (process $pid) is still running after SIGKILL; leaving $pid_file in place"
    fi
  fi
  rm -f -- "$pid_file"
}

# Spark's spark-daemon.sh decommission: the worker drains (docs/operations.md, "Decommissioning a worker").
do_decommission() {
  [[ "$command" == "worker" ]] || flint_die "only a worker can be decommissioned, not a $command"
  local pid=""
  [[ -f "$pid_file" ]] && pid="$(read_pid_file)"
  if [[ -z "$pid" ]] || ! is_flint_process "$pid"; then
    echo "no $command to decommission"
    return 0
  fi
  local signal="${FLINT_WORKER_DECOMMISSION_SIGNAL:-PWR}"
  [[ "$signal" =~ ^(SIG)?[A-Z0-9]{2,8}$ ]] || flint_die "FLINT_WORKER_DECOMMISSION_SIGNAL must be a signal name such as PWR, but got '$signal'"
  echo "decommissioning $command (process $pid)"
  kill -s "${signal#SIG}" "$pid"
}

do_status() {
  if [[ ! -f "$pid_file" ]]; then
    echo "$command is not running."
    exit 2
  fi
  local pid
  pid="$(read_pid_file)"
  if [[ -n "$pid" ]] && is_flint_process "$pid"; then
    echo "$command is running (process $pid)."
    exit 0
  fi
  echo "$pid_file is present but $command is not running."
  exit 1
}

case "$action" in
  start) do_start "$@" ;;
  stop) do_stop ;;
  status) do_status ;;
  decommission) do_decommission ;;
esac
