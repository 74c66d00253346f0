# shellcheck shell=bash
# Shell helpers shared by scripts/stack.sh (make run) and bench/run.sh:
# ports, and starting the local Redis and FerretDB and loading the seed.
# Source it; each start_* runs its server in the background (the caller
# takes $! for its list of children).

lib_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# port_free PORT: true when nothing listens on 127.0.0.1:PORT
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_ports N: prints N distinct ports nothing listens on, on one line (all
# held open together while chosen: two separate bind(0) calls can return the
# same port)
free_ports() {
  node -e '
    const net = require("net");
    const n = Number(process.argv[1]);
    const srvs = Array.from({ length: n }, () => net.createServer());
    let bound = 0;
    for (const s of srvs) s.listen(0, "127.0.0.1", () => {
      if (++bound < n) return;
      console.log(srvs.map((x) => x.address().port).join(" "));
      for (const x of srvs) x.close();
    });' "$1"
}
free_port() { free_ports 1; }

# wait_port PORT WHAT: waits up to 30 s for the port to open, else exits 1
wait_port() {
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "$2 did not come up on port $1" >&2
  exit 1
}

# start_redis PORT DIR LOG
start_redis() {
  mkdir -p "$2"
  redis-server "$lib_root/scripts/redis-local.conf" --port "$1" --dir "$2" >"$3" 2>&1 &
}

# start_ferretdb PORT DIR LOG (the binary scripts/deps.sh builds)
start_ferretdb() {
  "${STATE_DIR:-$lib_root/state}/bin/ferretdb-local" -listen "127.0.0.1:$1" -dir "$2" >"$3" 2>&1 &
}

# mongo_init URI DB: mongo-init/init.js through mongosh (idempotent)
mongo_init() {
  MONGO_DB=$2 "$lib_root/node_modules/.bin/mongosh" "$1" --quiet --file "$lib_root/mongo-init/init.js"
}

# The benchmarks' shared set-up (bench/*.sh).

# bench_setup NAME: a scratch folder in $work and an empty list of children
# in $pids; on exit every child is stopped and the folder removed
bench_setup() {
  work=$(mktemp -d "/tmp/catalog-$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

# bench_stores REDIS_PORT MONGO_PORT DIR: Redis and FerretDB in DIR, up and
# seeded by mongo-init (SEED_PRODUCTS from the environment); both in $pids
bench_stores() {
  mkdir -p "$3"
  start_redis "$1" "$3/redis" "$3/redis.log"
  pids+=($!)
  start_ferretdb "$2" "$3/ferretdb" "$3/ferretdb.log"
  pids+=($!)
  wait_port "$1" redis
  wait_port "$2" ferretdb
  mongo_init "mongodb://127.0.0.1:$2/" catalog >/dev/null
}

# bench_env REDIS_PORT MONGO_PORT: sets bench_backend_env, what every bench
# backend is started with (bench-only secrets; add PORT, THREADS, ...)
bench_password=bench-only-admin-password
bench_env() {
  # shellcheck disable=SC2034 # read by the bench scripts that source this
  bench_backend_env=(HOST=127.0.0.1 MONGO_URI="mongodb://127.0.0.1:$2/" REDIS_URL="redis://127.0.0.1:$1/0"
    JWT_SECRET=bench-only-jwt-secret-0123456789abcdef ADMIN_USERNAME=admin ADMIN_PASSWORD="$bench_password")
}
