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
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
bench_setup ab

read -r redis_port mongo_port a_port b_port <<<"$(free_ports 4)"
bench_stores "$redis_port" "$mongo_port" "$work"
bench_env "$redis_port" "$mongo_port"
common=("${bench_backend_env[@]}" THREADS="${THREADS:-2}")
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
