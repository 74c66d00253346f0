#!/usr/bin/env bash
# `make run`: the whole system on 127.0.0.1 without Docker — Redis, the
# MongoDB-wire server (FerretDB + SQLite, unless MONGO_URI names a real
# MongoDB), mongo-init, the C backend (BACKENDS processes) and nginx in
# front. Ctrl-C stops everything it started.
#
# Environment (defaults): NGINX_PORT=8080 BACKEND_PORT=3000 BACKENDS=1
#   REDIS_PORT=6380 MONGO_PORT=27018 STATE_DIR=./state MONGO_URI (unset:
#   local FerretDB) MONGO_DB=catalog; any backend variable (see
#   `backend/build/catalog-backend --help`) is passed through.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export STATE_DIR=${STATE_DIR:-$root/state}
NGINX_PORT=${NGINX_PORT:-8080}
BACKEND_PORT=${BACKEND_PORT:-3000}
BACKENDS=${BACKENDS:-1}
REDIS_PORT=${REDIS_PORT:-6380}
MONGO_PORT=${MONGO_PORT:-27018}
export MONGO_DB=${MONGO_DB:-catalog}
run=$STATE_DIR/run
mkdir -p "$run" "$STATE_DIR/redis" "$STATE_DIR/ferretdb" "$STATE_DIR/log"

"$root/scripts/deps.sh" runtime
"$root/scripts/build.sh" release >/dev/null

pids=()
stopping=0
stop_all() {
  stopping=1
  trap - INT TERM EXIT
  echo
  echo "stack: stopping"
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stack: stopped"
}
trap stop_all INT TERM EXIT

# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
for p in $NGINX_PORT $REDIS_PORT; do
  port_free "$p" || { echo "stack: port $p is in use; set NGINX_PORT/REDIS_PORT/BACKEND_PORT/MONGO_PORT" >&2; exit 1; }
done

start_redis "$REDIS_PORT" "$STATE_DIR/redis" "$STATE_DIR/log/redis.log"
pids+=($!)
wait_port "$REDIS_PORT" redis

if [ -z "${MONGO_URI:-}" ]; then
  port_free "$MONGO_PORT" || { echo "stack: port $MONGO_PORT is in use; set MONGO_PORT" >&2; exit 1; }
  start_ferretdb "$MONGO_PORT" "$STATE_DIR/ferretdb" "$STATE_DIR/log/ferretdb.log"
  pids+=($!)
  wait_port "$MONGO_PORT" ferretdb
  export MONGO_URI="mongodb://127.0.0.1:$MONGO_PORT/"
fi

mongo_init "$MONGO_URI" "$MONGO_DB"

export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}
export HOST=127.0.0.1

# secrets of the admin API: generated once into the state folder (0600)
# unless given in the environment; the admin password is printed below
secret_file() { # name → the file's content, created with random hex if missing
  local f=$STATE_DIR/secrets/$1
  if [ ! -s "$f" ]; then
    mkdir -p "$STATE_DIR/secrets" && chmod 700 "$STATE_DIR/secrets"
    (umask 077 && openssl rand -hex "$2" >"$f")
  fi
  cat "$f"
}
export JWT_SECRET=${JWT_SECRET:-$(secret_file jwt-secret 32)}
export ADMIN_USERNAME=${ADMIN_USERNAME:-admin}
if [ -z "${ADMIN_PASSWORD:-}" ]; then
  ADMIN_PASSWORD=$(secret_file admin-password 12)
  admin_note="$ADMIN_PASSWORD   (from $STATE_DIR/secrets/admin-password)"
else
  admin_note="(ADMIN_PASSWORD from the environment)"
fi
export ADMIN_PASSWORD
ports=""
for ((i = 0; i < BACKENDS; i++)); do
  p=$((BACKEND_PORT + i))
  port_free "$p" || { echo "stack: port $p is in use; set BACKEND_PORT" >&2; exit 1; }
  PORT=$p "$root/backend/build/release/catalog-backend" >"$STATE_DIR/log/backend-$p.log" 2>&1 &
  pids+=($!)
  ports+="$p "
done
for p in $ports; do wait_port "$p" backend; done

NGINX_STATE=$STATE_DIR/nginx NGINX_PORT=$NGINX_PORT BACKEND_PORTS=$ports FRONTEND_ROOT=$root/frontend \
  "$root/scripts/render-nginx.sh"
nginx -p "$STATE_DIR/nginx" -c "$STATE_DIR/nginx/nginx.conf" -e "$STATE_DIR/nginx/error.log" &
pids+=($!)
wait_port "$NGINX_PORT" nginx

cat <<MSG

  Catalog is up:  http://127.0.0.1:$NGINX_PORT/
  API:            curl http://127.0.0.1:$NGINX_PORT/api/products
  Health:         curl http://127.0.0.1:$NGINX_PORT/health
  Admin sign-in:  $ADMIN_USERNAME / $admin_note
  Backends:       ${ports}(direct, 127.0.0.1)   Redis: $REDIS_PORT   MongoDB: $MONGO_URI
  Logs:           $STATE_DIR/log/

  Ctrl-C stops everything.
MSG
# wait for Ctrl-C, or for any component to die
wait -n "${pids[@]}" || true
if [ "$stopping" = 0 ]; then
  echo "stack: a component exited; see $STATE_DIR/log/" >&2
  exit 1 # the EXIT trap stops the rest
fi
