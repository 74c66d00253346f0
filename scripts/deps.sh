#!/usr/bin/env bash
# Installs what the project needs, idempotently: Debian packages (only the
# missing ones), the pinned npm packages (npm ci, when package-lock.json
# changed), and the local MongoDB-wire server (FerretDB, built from the
# project's own Go program, when its go.sum changed).
#
#   scripts/deps.sh [runtime|test|bench]   (default: runtime)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state=${STATE_DIR:-$root/state}
what=${1:-runtime}

pkgs=(ca-certificates build-essential cmake ninja-build pkg-config git curl
  libh2o-evloop-dev libhiredis-dev libmongoc-dev libbson-dev libcjson-dev libssl-dev
  libjwt-dev libsodium-dev libunistring-dev libyaml-dev libjansson-dev
  redis-server nginx gettext-base procps iproute2 openssl util-linux)
case $what in
  # docker-compose (v1.29): tests/deploy.test.mjs validates the compose files
  # with `docker-compose config`, which needs no Docker engine
  test) pkgs+=(clang clang-format valgrind docker-compose nghttp2-client chromium) ;;
  bench) pkgs+=(wrk nghttp2-client) ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
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

for tool in go node npm; do
  command -v $tool >/dev/null || { echo "deps: '$tool' is required (see README.md)" >&2; exit 1; }
done

# npm packages, pinned by package-lock.json
stamp=$root/node_modules/.lock-stamp
want=$(sha256sum "$root/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "deps: npm ci"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
fi

# FerretDB, pinned by tools/ferretdb/go.sum; cached in the state folder
mkdir -p "$state/bin"
fstamp=$state/bin/ferretdb-local.stamp
fwant=$(cat "$root/tools/ferretdb/go.mod" "$root/tools/ferretdb/go.sum" "$root/tools/ferretdb/main.go" | sha256sum | cut -d' ' -f1)
if [ ! -x "$state/bin/ferretdb-local" ] || [ ! -f "$fstamp" ] || [ "$(cat "$fstamp")" != "$fwant" ]; then
  echo "deps: building FerretDB (first time takes about a minute)"
  (cd "$root/tools/ferretdb" && GOTOOLCHAIN=local go build -buildvcs=false -trimpath -o "$state/bin/ferretdb-local" .)
  echo "$fwant" >"$fstamp"
fi
