#!/usr/bin/env bash
# Debian packages the tests need, installed with apt-get when missing (npm test runs this first).
#   ss (iproute2): test/integration/rpc/listen-backlog.test.ts reads a listening socket's backlog.
#   ip (iproute2): test/integration/hosts/ builds separate network hosts with `ip netns` (test/helpers/netns.ts).
#   zookeeper (its jars and a JRE): test/integration/zookeeper/ runs a real standalone server
#     (test/helpers/zookeeper.ts starts it with `java` on the package's jars).
#   openssl: the TLS tests (test/helpers/certs.ts) make their certificates with it at run time.
#   strace: test/integration/security/secret-never-travels.test.ts records every byte the cluster writes.
#   chromium: test/ui/ drives the web UIs in a real browser (playwright-core with its executablePath).
set -euo pipefail
missing=()
{ command -v ss >/dev/null 2>&1 && command -v ip >/dev/null 2>&1; } || missing+=(iproute2)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v strace >/dev/null 2>&1 || missing+=(strace)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
{ [[ -f /usr/share/zookeeper/bin/zkServer.sh && -f /usr/share/java/zookeeper.jar ]] && command -v java >/dev/null 2>&1; } \
  || missing+=(zookeeper)
((${#missing[@]} == 0)) && exit 0
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
  echo "flint: the tests need these Debian packages: ${missing[*]} (install them, or run npm test as root on Debian)" >&2
  exit 1
fi
echo "flint: installing ${missing[*]} for the tests..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
