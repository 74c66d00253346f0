#!/usr/bin/env bash
# Upgrades the production stack one backend at a time, so the site keeps
# answering: `up -d --build` would restart every backend at once, and the
# recreated ones get new addresses nginx does not know until a reload.
#
#   git pull && scripts/rolling-upgrade.sh
#
# 1. build the new images (nothing restarts yet);
# 2. for each running backend: start one more from the new image, wait
#    until nginx's container gets 200 from its /health/ready, reload nginx
#    (it resolves `backend` at load time), stop the old one (SIGTERM: it
#    drains in-flight requests within Docker's 10 s), remove it, reload
#    nginx again;
# 3. `up -d --no-deps nginx` (recreated only if its image or settings
#    changed).
# A new backend that is not ready within READY_TIMEOUT (60 s) is removed
# and the upgrade stops with its log; the old backends keep serving.
# MongoDB and Redis are not touched.
#
# Docker through DOCKER / COMPOSE (scripts/ops-lib.sh); only commands that
# compose v1 and v2 both know.
set -euo pipefail
# shellcheck source=scripts/ops-lib.sh
. "$(dirname "$0")/ops-lib.sh"
timeout=${READY_TIMEOUT:-60}
say() { echo "upgrade: $*" >&2; }
die() { say "$*"; exit 1; }

# ids SERVICE: its running containers (compose v1's ps also lists stopped ones)
ids() {
  local id
  for id in $(compose ps -q "$1"); do
    [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$id")" = true ] && echo "$id"
  done
  return 0
}
contains() { # WORD LIST...
  local w=$1
  shift
  for x in "$@"; do [ "$x" = "$w" ] && return 0; done
  return 1
}
reload() { compose exec -T nginx nginx -s reload >/dev/null || die "nginx reload failed"; }
# ready ID: nginx's container reaches the backend's /health/ready (200)
ready() {
  local ip
  ip=$("$DOCKER" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}' "$1" | awk '{print $1}')
  [ -n "$ip" ] && "$DOCKER" exec "$nginx" wget -q -T 2 -O /dev/null "http://$ip:3000/health/ready" 2>/dev/null
}

mapfile -t old < <(ids backend)
[ ${#old[@]} -gt 0 ] || die "no backend is running: start the stack first (see README.md, Deployment)"
nginx=$(ids nginx | head -n 1)
[ -n "$nginx" ] || die "nginx is not running: start the stack first"
n=${#old[@]}
# exited leftovers would count toward --scale and be started again (with
# their old image) instead of a new container
compose rm -f backend >/dev/null
say "building new images"
compose build backend nginx
known=("${old[@]}")
i=0
for o in "${old[@]}"; do
  i=$((i + 1))
  say "backend $i of $n: starting its replacement"
  compose up -d --no-deps --no-recreate --scale "backend=$((n + 1))" backend
  new=""
  while read -r id; do contains "$id" "${known[@]}" || new=$id; done < <(ids backend)
  [ -n "$new" ] || die "compose started no new backend"
  known+=("$new")
  waited=0
  until ready "$new"; do
    if ((waited >= timeout)); then
      say "the new backend ${new:0:12} is not ready after ${timeout}s; its log:"
      "$DOCKER" logs --tail 30 "$new" >&2 || true
      "$DOCKER" stop "$new" >/dev/null || true
      "$DOCKER" rm "$new" >/dev/null || true
      die "stopped; the old backends are untouched and still serving"
    fi
    sleep 1
    waited=$((waited + 1))
  done
  reload
  say "backend $i of $n: ${new:0:12} ready; draining and removing ${o:0:12}"
  "$DOCKER" stop -t 10 "$o" >/dev/null
  "$DOCKER" rm "$o" >/dev/null
  reload
done
say "nginx: recreated if its image or settings changed"
compose up -d --no-deps nginx
say "done: $n backend(s) replaced one at a time"
