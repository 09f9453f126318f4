# shellcheck shell=bash
# Shared by the scripts in sbin/ (sourced, never run): where Flint lives, loading conf/flint-env.sh, host names,
# validation helpers and the per-host runner used by start-workers.sh / stop-workers.sh.
# Nothing here evaluates input: values are checked against patterns and always passed as separate words.

# FLINT_HOME is the checkout this file belongs to, whatever the environment says (as bin/flint does).
FLINT_HOME="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
export FLINT_HOME
FLINT_SBIN="$FLINT_HOME/sbin"

# The script's name, for messages.
FLINT_SCRIPT_NAME="$(basename "$0")"

flint_error() {
  printf '%s: %s\n' "$FLINT_SCRIPT_NAME" "$*" >&2
}

flint_die() {
  flint_error "$@"
  exit 1
}

# Sources $FLINT_CONF_DIR/flint-env.sh (once per conf dir), exporting every variable it sets, as Spark's
# load-spark-env.sh does. FLINT_CONF_DIR defaults to $FLINT_HOME/conf and is exported: the daemons read
# flint-defaults.conf from it.
flint_load_env() {
  FLINT_CONF_DIR="${FLINT_CONF_DIR:-$FLINT_HOME/conf}"
  export FLINT_CONF_DIR
  if [[ "${FLINT_ENV_LOADED:-}" == "$FLINT_CONF_DIR" ]]; then
    return 0
  fi
  local env_file="$FLINT_CONF_DIR/flint-env.sh"
  if [[ -f "$env_file" ]]; then
    # flint-env.sh is written like Spark's spark-env.sh: plain assignments, read without -e/-u.
    local restore_u=0 restore_e=0
    [[ $- == *u* ]] && restore_u=1
    [[ $- == *e* ]] && restore_e=1
    set +eu -a
    # shellcheck source=/dev/null
    . "$env_file"
    set +a
    if ((restore_u)); then set -u; fi
    if ((restore_e)); then set -e; fi
  fi
  FLINT_ENV_LOADED="$FLINT_CONF_DIR"
  export FLINT_ENV_LOADED
}

# This machine's fully qualified name: `hostname -f`, else `hostname`, else bash's $HOSTNAME.
flint_hostname_f() {
  local name=""
  name="$(hostname -f 2>/dev/null)" || name=""
  if [[ -z "$name" ]]; then
    name="$(hostname 2>/dev/null)" || name=""
  fi
  if [[ -z "$name" ]]; then
    name="${HOSTNAME:-localhost}"
  fi
  printf '%s\n' "$name"
}

# The short host name: `hostname`, else bash's $HOSTNAME.
flint_hostname_short() {
  local name=""
  name="$(hostname 2>/dev/null)" || name=""
  if [[ -z "$name" ]]; then
    name="${HOSTNAME:-localhost}"
  fi
  printf '%s\n' "$name"
}

# flint_require_uint NAME VALUE MIN MAX: VALUE must be a whole number in [MIN, MAX] (at most 9 digits).
flint_require_uint() {
  local name=$1 value=$2 min=$3 max=$4
  if [[ ! "$value" =~ ^[0-9]{1,9}$ ]] || ((10#$value < min || 10#$value > max)); then
    flint_die "$name must be a whole number from $min to $max, but got '$value'"
  fi
}

# A host name or address as it may appear in a master URL: brackets around an IPv6 address.
flint_url_host() {
  local host=$1
  if [[ "$host" == *:* && "$host" != \[* ]]; then
    printf '[%s]\n' "$host"
  else
    printf '%s\n' "$host"
  fi
}

# The master's URL from FLINT_MASTER_HOST (default: this host's name) and FLINT_MASTER_PORT (default 7077).
flint_master_url() {
  local host="${FLINT_MASTER_HOST:-}"
  if [[ -z "$host" ]]; then
    host="$(flint_hostname_f)"
  fi
  local port="${FLINT_MASTER_PORT:-7077}"
  flint_require_uint FLINT_MASTER_PORT "$port" 1 65535
  printf 'flint://%s:%s\n' "$(flint_url_host "$host")" "$((10#$port))"
}

# --- worker hosts --------------------------------------------------------------------------------------

# Sets FLINT_HOSTS_FILE and the array FLINT_HOSTS: the worker hosts from the file $FLINT_WORKERS, else
# $FLINT_CONF_DIR/workers, else just "localhost" (FLINT_HOSTS_FILE empty). '#' starts a comment; blank lines
# are skipped; a line may hold several hosts separated by blanks.
flint_read_worker_hosts() {
  FLINT_HOSTS=()
  FLINT_HOSTS_FILE=""
  if [[ -n "${FLINT_WORKERS:-}" ]]; then
    FLINT_HOSTS_FILE="$FLINT_WORKERS"
    [[ -f "$FLINT_HOSTS_FILE" && -r "$FLINT_HOSTS_FILE" ]] || flint_die "FLINT_WORKERS names '$FLINT_HOSTS_FILE', which is not a readable file"
  elif [[ -f "$FLINT_CONF_DIR/workers" ]]; then
    FLINT_HOSTS_FILE="$FLINT_CONF_DIR/workers"
    [[ -r "$FLINT_HOSTS_FILE" ]] || flint_die "cannot read $FLINT_HOSTS_FILE"
  else
    FLINT_HOSTS=(localhost)
    return 0
  fi
  local line
  local -a words
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line%%#*}"
    read -r -a words <<<"$line"
    FLINT_HOSTS+=("${words[@]}")
  done <"$FLINT_HOSTS_FILE"
}

# True when HOST names this machine: localhost, 127.*, ::1, or this host's short or full name.
flint_is_local_host() {
  local host="${1,,}"
  case "$host" in
    localhost | localhost.localdomain | ::1 | \[::1\] | 127.*) return 0 ;;
  esac
  # Looked up once per script: `hostname -f` can be slow where DNS is.
  if [[ -z "${FLINT_LOCAL_NAMES_SHORT:-}" ]]; then
    FLINT_LOCAL_NAMES_SHORT="$(flint_hostname_short)"
    FLINT_LOCAL_NAMES_FULL="$(flint_hostname_f)"
  fi
  [[ "$host" == "${FLINT_LOCAL_NAMES_SHORT,,}" || "$host" == "${FLINT_LOCAL_NAMES_FULL,,}" ]]
}

# Prefixes every line read from stdin with "HOST: ".
flint_prefix_lines() {
  local host=$1 line
  while IFS= read -r line || [[ -n "$line" ]]; do
    printf '%s: %s\n' "$host" "$line"
  done
}

# flint_on_worker_hosts SCRIPT [ARGS...]: runs $FLINT_HOME/sbin/SCRIPT ARGS on every worker host: directly
# for this machine (once, however many of its names are listed), over ssh for the others (assuming Flint is
# at the same path there). In parallel unless FLINT_SSH_FOREGROUND is set; output is prefixed "host: ".
# Returns 1 if any host failed.
FLINT_DEFAULT_SSH_OPTS='-o StrictHostKeyChecking=accept-new'

flint_on_worker_hosts() {
  local script=$1
  shift
  local -a local_cmd=("$FLINT_SBIN/$script" "$@")
  local -a ssh_opts=()
  local host
  flint_read_worker_hosts
  if [[ ${#FLINT_HOSTS[@]} -eq 0 ]]; then
    echo "no worker hosts are listed in $FLINT_HOSTS_FILE"
    return 0
  fi
  # Split on blanks into separate ssh arguments; never evaluated. Set but empty means no options.
  # The default accepts a new host's key on first contact but refuses a changed one (Spark's is "no").
  read -r -a ssh_opts <<<"${FLINT_SSH_OPTS-$FLINT_DEFAULT_SSH_OPTS}"

  # The command line the remote login shell runs: every word quoted.
  local remote_cmd quoted arg
  printf -v remote_cmd 'cd %q && env FLINT_CONF_DIR=%q %q' "$FLINT_HOME" "$FLINT_CONF_DIR" "$FLINT_SBIN/$script"
  for arg in "$@"; do
    printf -v quoted ' %q' "$arg"
    remote_cmd+="$quoted"
  done

  local -A seen=()
  local -a pids=() cmd
  local failed=0 local_done=0 key pid
  for host in "${FLINT_HOSTS[@]}"; do
    # A host that could be read as an ssh option, or holds shell or path characters, is refused.
    if [[ ! "$host" =~ ^[A-Za-z0-9_:][A-Za-z0-9._%:@-]*$ ]]; then
      flint_error "skipping '$host': not a host name or address"
      failed=1
      continue
    fi
    key="${host,,}"
    if [[ -n "${seen[$key]:-}" ]]; then
      continue
    fi
    seen[$key]=1
    if flint_is_local_host "$host"; then
      if ((local_done)); then
        continue
      fi
      local_done=1
      cmd=("${local_cmd[@]}")
    else
      cmd=(ssh "${ssh_opts[@]}" -- "$host" "$remote_cmd")
    fi
    if [[ -n "${FLINT_SSH_FOREGROUND:-}" ]]; then
      ("${cmd[@]}" 2>&1 </dev/null | flint_prefix_lines "$host") || failed=1
    else
      ("${cmd[@]}" 2>&1 </dev/null | flint_prefix_lines "$host") &
      pids+=("$!")
    fi
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
  done
  return "$failed"
}
