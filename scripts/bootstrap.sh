#!/usr/bin/env bash
# Installs Flint's npm dependencies, Node 24 among them (package `node`), when they are missing or stale.
# Safe to run concurrently: the first caller installs, the others wait for it. Quiet when nothing to do.
set -euo pipefail
here="${BASH_SOURCE[0]%/*}"
[[ "$here" == "${BASH_SOURCE[0]}" ]] && here=.
root="$(cd "$here/.." && pwd)"
stamp="$root/node_modules/.flint-installed"
lock="$root/package-lock.json"
# bin/flint runs this before every command: when the stamp is newer than the lockfile, nothing else is started.
[[ -x "$root/node_modules/node/bin/node" && -f "$stamp" && "$stamp" -nt "$lock" ]] && exit 0
want="$(sha256sum "$lock")"
want="${want%% *}"
ready() { [[ -x "$root/node_modules/node/bin/node" && -f "$stamp" && "$(<"$stamp")" == "$want" ]]; }
# A lockfile touched but not changed (a checkout, say): the stamp is made newer, for the quick test above.
ready && touch "$stamp" && exit 0
if ! command -v npm >/dev/null 2>&1; then
  echo "flint: npm is needed once, to install Flint's dependencies (it brings its own Node 24)" >&2
  exit 1
fi
exec 9>"$root/.flint-setup.lock"
flock 9
ready && exit 0
echo "flint: installing dependencies into $root/node_modules (first run only)..." >&2
(cd "$root" && npm ci --no-audit --no-fund --loglevel=error --engine-strict=false) >&2
echo "$want" >"$stamp"
