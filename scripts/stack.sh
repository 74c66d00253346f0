#!/usr/bin/env bash
# `make run`: the whole system on 127.0.0.1 without Docker — Redis, the
# MongoDB-wire server (FerretDB + SQLite, unless MONGO_URI names a real
# MongoDB), mongo-init, the C backend (BACKENDS processes) and nginx in
# front. Redis and FerretDB are supervised: when one exits it is restarted
# with a backoff (1 s doubling to 16 s), logged in log/stack.log; the
# backend rides out the gap. A backend or nginx that exits stops the stack.
# Ctrl-C (or SIGTERM) stops everything it started, prints "stack: stopped"
# and exits 0.
#
# One stack per state folder: it holds an flock on STATE_DIR/stack.lock
# (the file says who holds it); a second stack needs its own STATE_DIR.
#
# Environment (defaults): NGINX_PORT=8080 BACKEND_PORT=3000 BACKENDS=1
#   (ports BACKEND_PORT..BACKEND_PORT+BACKENDS-1) REDIS_PORT=6380
#   MONGO_PORT=27018 STATE_DIR=./state MONGO_URI (unset: local FerretDB)
#   MONGO_DB=catalog SEED_DEMO / SEED_PRODUCTS (mongo-init); any backend
#   variable (see `backend/build/release/catalog-backend --help`) is
#   passed through.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export STATE_DIR=${STATE_DIR:-$root/state}
NGINX_PORT=${NGINX_PORT:-8080}
BACKEND_PORT=${BACKEND_PORT:-3000}
BACKENDS=${BACKENDS:-1}
REDIS_PORT=${REDIS_PORT:-6380}
MONGO_PORT=${MONGO_PORT:-27018}
export MONGO_DB=${MONGO_DB:-catalog}
bin=$root/backend/build/release/catalog-backend
for v in NGINX_PORT BACKEND_PORT REDIS_PORT MONGO_PORT BACKENDS; do
  if ! [[ ${!v} =~ ^[1-9][0-9]{0,4}$ ]] || ((${!v} > 65535)); then
    echo "stack: $v must be a number from 1 to 65535, not '${!v}'" >&2
    exit 2
  fi
done
((BACKEND_PORT + BACKENDS - 1 <= 65535)) || { echo "stack: BACKEND_PORT + BACKENDS - 1 is past 65535" >&2; exit 2; }

mkdir -p "$STATE_DIR"
lock=$STATE_DIR/stack.lock
exec 9>>"$lock"
if ! flock -n 9; then
  echo "stack: $STATE_DIR is in use by another stack: $(cat "$lock" 2>/dev/null || echo '?')" >&2
  echo "stack: stop it, or give this one its own folder: STATE_DIR=/some/other/dir make run" >&2
  exit 1
fi
printf 'pid %s, nginx port %s, started %s\n' "$$" "$NGINX_PORT" "$(date -u +%FT%TZ)" >"$lock"

# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
check_port() { # PORT VARIABLE
  port_free "$1" || { echo "stack: port $1 is in use; set $2 to a free port" >&2; exit 1; }
}
check_port "$NGINX_PORT" NGINX_PORT
check_port "$REDIS_PORT" REDIS_PORT
for ((i = 0; i < BACKENDS; i++)); do check_port $((BACKEND_PORT + i)) BACKEND_PORT; done
[ -n "${MONGO_URI:-}" ] || check_port "$MONGO_PORT" MONGO_PORT

"$root/scripts/deps.sh" runtime
"$root/scripts/build.sh" release >/dev/null

run=$STATE_DIR/run
logs=$STATE_DIR/log
mkdir -p "$run" "$STATE_DIR/redis" "$STATE_DIR/ferretdb" "$logs"

say() { echo "stack: $*" | tee -a "$logs/stack.log" >&2; }

# every child's pid, started in order; stopped in reverse
pids=()
stopping=0
cleanup() {
  local rc=$?
  trap - INT TERM EXIT
  [ "$stopping" = 1 ] && echo && say "stopping"
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$stopping" = 1 ]; then
    say "stopped"
    exit 0
  fi
  exit "$rc"
}
# before the banner a signal stops at once; after it, the wait loop ends
up=0
trap 'stopping=1; [ "$up" = 1 ] || exit 130' INT TERM
trap cleanup EXIT

# supervise NAME LOG CMD...: runs CMD (in its own session, so a Ctrl-C
# reaches only this script) and restarts it when it exits, with a backoff;
# SIGTERM stops it and the loop.
supervise() {
  local name=$1 log=$2
  shift 2
  (
    child="" nap="" stop=0 delay=1
    # shellcheck disable=SC2086 # either may be empty
    trap 'stop=1; kill -TERM $child $nap 2>/dev/null || true' TERM
    while :; do
      setsid "$@" >>"$log" 2>&1 9>&- &
      child=$!
      started=$SECONDS
      st=0
      wait "$child" || st=$?
      while kill -0 "$child" 2>/dev/null; do wait "$child" || st=$?; done
      child=""
      [ "$stop" = 1 ] && exit 0
      ((SECONDS - started < 30)) || delay=1
      say "$name exited (status $st); restarting it in ${delay}s (log: $log)"
      sleep "$delay" 9>&- &
      nap=$!
      wait "$nap" || true
      nap=""
      [ "$stop" = 1 ] && exit 0
      ((delay >= 16)) || delay=$((delay * 2))
      say "$name restarted"
    done
  ) 9>&- &
  pids+=($!)
}

# start_once NAME LOG CMD...: one process in its own session; its pid in $last
start_once() {
  local log=$2
  shift 2
  setsid "$@" >"$log" 2>&1 9>&- &
  last=$!
  pids+=("$last")
}

# wait_up PORT NAME PID LOG: the port opens within 30 s, or the process
# exits (its status and log are shown at once), or give up
wait_up() {
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    if ! kill -0 "$3" 2>/dev/null; then
      local st=0
      wait "$3" || st=$?
      echo "stack: $2 exited with status $st before listening on port $1; its output ($4):" >&2
      tail -n 20 "$4" | sed 's/^/  | /' >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "stack: $2 did not come up on port $1 within 30 s; see $4" >&2
  exit 1
}

: >"$logs/stack.log"
supervise redis "$logs/redis.log" redis-server "$root/scripts/redis-local.conf" --port "$REDIS_PORT" --dir "$STATE_DIR/redis"
wait_port "$REDIS_PORT" redis

if [ -z "${MONGO_URI:-}" ]; then
  supervise ferretdb "$logs/ferretdb.log" "$STATE_DIR/bin/ferretdb-local" -listen "127.0.0.1:$MONGO_PORT" -dir "$STATE_DIR/ferretdb"
  wait_port "$MONGO_PORT" ferretdb
  export MONGO_URI="mongodb://127.0.0.1:$MONGO_PORT/"
fi

mongo_init "$MONGO_URI" "$MONGO_DB"

export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}
export HOST=127.0.0.1

# secrets of the admin API: generated once into the state folder (0600)
# unless given in the environment
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
  pw_from="$STATE_DIR/secrets/admin-password"
else
  pw_from="ADMIN_PASSWORD from the environment"
fi
export ADMIN_PASSWORD
ports=""
for ((i = 0; i < BACKENDS; i++)); do
  p=$((BACKEND_PORT + i))
  start_once "backend-$p" "$logs/backend-$p.log" env PORT=$p "$bin"
  wait_up "$p" "backend (port $p)" "$last" "$logs/backend-$p.log"
  ports+="$p "
done

NGINX_STATE=$STATE_DIR/nginx NGINX_PORT=$NGINX_PORT BACKEND_PORTS=$ports FRONTEND_ROOT=$root/frontend \
  "$root/scripts/render-nginx.sh"
start_once nginx "$logs/nginx.log" nginx -p "$STATE_DIR/nginx" -c "$STATE_DIR/nginx/nginx.conf" -e "$STATE_DIR/nginx/error.log"
wait_up "$NGINX_PORT" nginx "$last" "$logs/nginx.log"

# The banner prints only a password that works: the backend keeps a stored
# hash (an admin that existed before), so compare locally — not by signing
# in, which would count a failure toward the lockout on every start.
reset="echo 'NEW-PASSWORD' | MONGO_URI=$MONGO_URI MONGO_DB=$MONGO_DB $bin --add-user $ADMIN_USERNAME admin"
# (3, no such user: the backend may still be creating it when MongoDB was slow)
for _ in 1 2 3 4 5 6 7 8 9 10; do
  check=0
  printf '%s\n' "$ADMIN_PASSWORD" | "$bin" --check-password "$ADMIN_USERNAME" 2>"$logs/check-password.log" || check=$?
  [ "$check" = 3 ] || break
  sleep 0.5
done
case $check in
  0) admin_note="$ADMIN_USERNAME / $ADMIN_PASSWORD   (from $pw_from)" ;;
  1) admin_note="$ADMIN_USERNAME: the stored password differs from $pw_from
                  (the account existed before; its password was not changed).
                  Sign in with the password it was created with, or reset it:
                  $reset" ;;
  3) admin_note="no user '$ADMIN_USERNAME' (create one: $reset)" ;;
  *) admin_note="could not check the admin password: $(cat "$logs/check-password.log")" ;;
esac

cat <<MSG

  Catalog is up:  http://127.0.0.1:$NGINX_PORT/   (the catalogue, and the admin dashboard: "Sign in")
  API:            curl http://127.0.0.1:$NGINX_PORT/api/products
  Health:         curl http://127.0.0.1:$NGINX_PORT/health
  Admin sign-in:  $admin_note
  Backends:       ${ports}(direct, 127.0.0.1)   Redis: $REDIS_PORT   MongoDB: $MONGO_URI
  Logs:           $logs/  (nginx: $STATE_DIR/nginx/error.log, access.log)

  Ctrl-C stops everything.
MSG
up=1
# until Ctrl-C/SIGTERM, or a backend or nginx exits (Redis and FerretDB are
# restarted by their supervisors)
watched=("${pids[@]}")
while [ "$stopping" = 0 ]; do
  for p in "${watched[@]}"; do
    if ! kill -0 "$p" 2>/dev/null; then
      say "a component exited (pid $p); stopping. See $logs/ and $STATE_DIR/nginx/error.log"
      exit 1
    fi
  done
  sleep 1 9>&- &
  wait $! 2>/dev/null || true
done
