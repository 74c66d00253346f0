#!/usr/bin/env bash
# Instructions per cached request, counted by callgrind (repeatable where
# req/s on a shared machine is not): one loop thread, one keep-alive
# connection (h2load --h1 -c1), the difference between a run of 2,000 and
# one of 6,000 requests to a cached URL, divided by 4,000 — start-up,
# warm-up and shutdown cancel out. glibc's "rep movsb" copy path is switched
# off (GLIBC_TUNABLES) because callgrind counts it per byte, and which path
# a copy takes depends on address layout.
#   bench/callgrind.sh [BINARY...]   (default: this checkout's build)
# Extra environment for the backends: BENCH_ENV="L1_BYTES=0 ..."
# Prints figures; never fails on a number. Needs valgrind and h2load.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- "$root/backend/build/release/catalog-backend"
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
bench_setup callgrind

read -r redis_port mongo_port port <<<"$(free_ports 3)"
bench_stores "$redis_port" "$mongo_port" "$work"
bench_env "$redis_port" "$mongo_port"
read -ra extra <<<"${BENCH_ENV:-}"
common=("${bench_backend_env[@]}" PORT="$port" THREADS=1 REDIS_TIMEOUT_MS=2000 REDIS_DEAD_MS=4000
  GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=2147483647 "${extra[@]}")

# instructions BINARY PATH N: total instructions of a backend run answering N requests to PATH
instructions() {
  local out=$work/cg.out
  env "${common[@]}" valgrind --tool=callgrind --callgrind-out-file="$out" "$1" >"$work/backend.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/health" -o /dev/null && break; sleep 0.1; done
  for _ in 1 2 3 4; do curl -sf "http://127.0.0.1:$port$2" -o /dev/null; sleep 0.05; done
  h2load --h1 -n "$3" -c 1 "http://127.0.0.1:$port$2" >"$work/h2load.log" 2>&1
  kill -TERM "$pid"
  wait "$pid" || true
  awk '/^(summary|totals):/ { print $2; exit }' "$out"
}

echo "instructions per cached request (callgrind, THREADS=1, slope 2,000 -> 6,000 requests${BENCH_ENV:+, $BENCH_ENV})"
for binary in "$@"; do
  env "${common[@]}" "$binary" >"$work/plain.log" 2>&1 &
  plain=$!
  wait_port "$port" backend
  id=$(curl -sf "http://127.0.0.1:$port/api/products" | sed -n 's/.*"products":\[{"id":"\([0-9a-f]\{24\}\)".*/\1/p')
  kill -TERM "$plain"
  wait "$plain" || true
  for path in /api/products "/api/products/$id"; do
    a=$(instructions "$binary" "$path" 2000)
    b=$(instructions "$binary" "$path" 6000)
    printf '  %-60s %-36s %9s\n' "$binary" "$path" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.0f", (b - a) / 4000 }')"
  done
done
