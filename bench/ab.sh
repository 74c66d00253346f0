#!/usr/bin/env bash
# Interleaved A/B of the hit path: two backend binaries on one stack
# (same Redis, same FerretDB, same data), wrk rounds alternating A and B
# on the cached default list and a cached product. Usage:
#   bench/ab.sh OLD_BINARY [NEW_BINARY]   (NEW defaults to this checkout's build)
# Prints each round and the median per side; never fails on a number.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
a_bin=${1:?usage: bench/ab.sh OLD_BINARY [NEW_BINARY]}
b_bin=${2:-$root/backend/build/release/catalog-backend}
dur=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-4}
work=$(mktemp -d /tmp/catalog-ab.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"

read -r redis_port mongo_port a_port b_port <<<"$(free_ports 4)"
start_redis "$redis_port" "$work/redis" "$work/redis.log"
pids+=($!)
start_ferretdb "$mongo_port" "$work/ferretdb" "$work/ferretdb.log"
pids+=($!)
wait_port "$redis_port" redis
wait_port "$mongo_port" ferretdb
mongo_init "mongodb://127.0.0.1:$mongo_port/" catalog >/dev/null
common=(HOST=127.0.0.1 THREADS="${THREADS:-2}" MONGO_URI="mongodb://127.0.0.1:$mongo_port/" REDIS_URL="redis://127.0.0.1:$redis_port/0"
  JWT_SECRET=bench-only-jwt-secret-0123456789abcdef ADMIN_USERNAME=admin ADMIN_PASSWORD=bench-only-admin-password)
env "${common[@]}" PORT="$a_port" "$a_bin" >"$work/a.log" 2>&1 &
pids+=($!)
env "${common[@]}" PORT="$b_port" "$b_bin" >"$work/b.log" 2>&1 &
pids+=($!)
wait_port "$a_port"
wait_port "$b_port"
id=$(curl -sf "http://127.0.0.1:$a_port/api/products" | sed -n 's/.*"products":\[{"id":"\([0-9a-f]\{24\}\)".*/\1/p')
for p in "$a_port" "$b_port"; do
  for u in /api/products "/api/products/$id"; do curl -sf "http://127.0.0.1:$p$u" -o /dev/null; curl -sf "http://127.0.0.1:$p$u" -o /dev/null; done
done

# wrk URL -> "rps p99_ms"
measure() {
  wrk -t1 -c64 -d"${dur}s" --latency "$1" 2>&1 | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "99%" { p99 = ms($2) } $1 == "Requests/sec:" { rps = $2 }
    END { printf "%.0f %.2f\n", rps, p99 }'
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
echo "A/B hit path: A=$a_bin B=$b_bin, $rounds interleaved rounds of ${dur}s, wrk -t1 -c64"
for what in list product; do
  path=/api/products
  [ "$what" = product ] && path=/api/products/$id
  a_all=(); b_all=()
  for r in $(seq 1 "$rounds"); do
    read -r ar ap <<<"$(measure "http://127.0.0.1:$a_port$path")"
    read -r br bp <<<"$(measure "http://127.0.0.1:$b_port$path")"
    a_all+=("$ar"); b_all+=("$br")
    printf '  %-7s round %d   A %7s req/s p99 %6s ms   B %7s req/s p99 %6s ms\n' "$what" "$r" "$ar" "$ap" "$br" "$bp"
  done
  am=$(printf '%s\n' "${a_all[@]}" | median); bm=$(printf '%s\n' "${b_all[@]}" | median)
  printf '  %-7s median   A %7s   B %7s   B/A = %s\n' "$what" "$am" "$bm" "$(awk -v a="$am" -v b="$bm" 'BEGIN { printf "%.3f", (a > 0 ? b / a : 0) }')"
done
