#!/usr/bin/env bash
# Installs what the project needs, idempotently: Debian packages (only the
# missing ones), the pinned npm packages (npm ci, when package-lock.json
# changed), and the local MongoDB-wire server (FerretDB, built from the
# project's own Go program, when its go.sum changed).
#
#   scripts/deps.sh [runtime|test|bench]   (default: runtime)
#
# Not installed here (Debian 12's own packages are too old): Node.js >= 20
# and Go >= 1.24 (README.md says where to get them); checked, with a clear
# message. Go is needed only to build FerretDB: not for `runtime` when
# MONGO_URI names a real MongoDB server.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state=${STATE_DIR:-$root/state}
what=${1:-runtime}

pkgs=(ca-certificates build-essential cmake ninja-build pkg-config git curl
  libh2o-evloop-dev libhiredis-dev libmongoc-dev libbson-dev libcjson-dev libssl-dev
  libjwt-dev libsodium-dev libunistring-dev libyaml-dev libjansson-dev libpcre2-dev
  redis-server nginx gettext-base procps iproute2 openssl util-linux)
case $what in
  # docker-compose (v1.29): tests/deploy.test.mjs validates the compose files
  # with `docker-compose config`, which needs no Docker engine
  # prometheus (with promtool), the nginx and Redis exporters and alertmanager
  # (amtool): tests/metrics.test.mjs and tests/alerts.test.mjs run them
  test) pkgs+=(clang clang-format valgrind docker-compose nghttp2-client chromium shellcheck
    prometheus=2.42.* prometheus-nginx-exporter=0.11.* prometheus-redis-exporter=1.45.* prometheus-alertmanager=0.25.*) ;;
  bench) pkgs+=(wrk nghttp2-client) ;;
esac

# NAME, or NAME=VERSION-GLOB for a package pinned to a release (apt-get
# takes the glob; an installed version outside it is replaced)
missing=()
for p in "${pkgs[@]}"; do
  name=${p%%=*}
  have=$(dpkg-query -W -f='${Status} ${Version}' "$name" 2>/dev/null || true)
  case $have in
    "install ok installed "*) ;;
    *) missing+=("$p"); continue ;;
  esac
  # shellcheck disable=SC2254 # the pin is a glob on purpose
  [ "$p" = "$name" ] || case ${have##* } in ${p#*=}) ;; *) missing+=("$p") ;; esac
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -q >/dev/null
  # policy-rc.d keeps Debian from starting the packaged redis/nginx services
  # on their default ports: the stack runs its own instances
  if [ -n "$sudo_cmd" ] || [ -w /usr/sbin ]; then
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' | $sudo_cmd tee /usr/sbin/policy-rc.d >/dev/null
      $sudo_cmd chmod +x /usr/sbin/policy-rc.d
      trap '$sudo_cmd rm -f /usr/sbin/policy-rc.d' EXIT
    fi
  fi
  $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# version_at_least HAVE WANT: true when dotted version HAVE >= WANT
version_at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }
need_go=1
[ "$what" = runtime ] && [ -n "${MONGO_URI:-}" ] && need_go=0
node_hint="Node.js >= 20 and npm: Debian 12's nodejs is 18; use NodeSource's deb packages (deb.nodesource.com, node_20.x or newer) or the tarball from nodejs.org (see README.md)"
go_hint="Go >= 1.24 (only to build the local FerretDB; not needed when MONGO_URI names a real MongoDB): Debian 12's golang is 1.19; install Go's own release from go.dev/dl into /usr/local/go and put /usr/local/go/bin on PATH (see README.md)"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "deps: node and npm are required: $node_hint" >&2
  exit 1
fi
have=$(node -p 'process.versions.node')
version_at_least "$have" 20 || { echo "deps: node $have is too old: $node_hint" >&2; exit 1; }
if [ "$need_go" = 1 ]; then
  command -v go >/dev/null || { echo "deps: go is required: $go_hint" >&2; exit 1; }
  have=$(GOTOOLCHAIN=local go env GOVERSION | sed 's/^go//')
  version_at_least "$have" 1.24 || { echo "deps: go $have is too old: $go_hint" >&2; exit 1; }
fi

# npm_ci_locked DIR: npm ci in DIR, pinned by its package-lock.json; again
# only when the lock file changed (a stamp beside node_modules)
npm_ci_locked() {
  local stamp=$1/node_modules/.lock-stamp want
  want=$(sha256sum "$1/package-lock.json" | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "deps: npm ci in $1"
    (cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}
npm_ci_locked "$root"
# bench/run.sh's Express + node-redis comparison has its own lock
[ "$what" != bench ] || npm_ci_locked "$root/bench/express-seed"

[ "$need_go" = 1 ] || exit 0
# FerretDB, pinned by tools/ferretdb/go.sum; cached in the state folder
mkdir -p "$state/bin"
fstamp=$state/bin/ferretdb-local.stamp
fwant=$(cat "$root/tools/ferretdb/go.mod" "$root/tools/ferretdb/go.sum" "$root/tools/ferretdb/main.go" | sha256sum | cut -d' ' -f1)
if [ ! -x "$state/bin/ferretdb-local" ] || [ ! -f "$fstamp" ] || [ "$(cat "$fstamp")" != "$fwant" ]; then
  echo "deps: building FerretDB (first time takes about a minute)"
  (cd "$root/tools/ferretdb" && GOTOOLCHAIN=local go build -buildvcs=false -trimpath -o "$state/bin/ferretdb-local" .)
  echo "$fwant" >"$fstamp"
fi
