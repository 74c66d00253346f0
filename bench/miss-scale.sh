#!/usr/bin/env bash
# The miss path as the catalogue grows: for each size (BENCH_SIZES, default
# "230 2000 20000", seeded by mongo-init's SEED_PRODUCTS), one backend with
# every read a miss (BENCH_BYPASS_CACHE=1) and the default timeouts; each
# list shape and the categories read BENCH_SAMPLES (5) times in a row:
# p50 / max in ms and how many answered 503. Beside it, the store's own
# cost: the same find (filter, sort, skip, limit) timed in mongosh.
# Prints figures; never fails on a number.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/backend/build/release/catalog-backend
samples=${BENCH_SAMPLES:-5}
work=$(mktemp -d /tmp/catalog-scale.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
mongosh=$root/node_modules/.bin/mongosh

shapes=("" "order=price" "category=books" "min_price=10&max_price=50" "q=mug" "CATEGORIES")
# the mongosh find of each shape: the backend's filter and sort
filters=("{}" "{}" "{category: {\$in: ['books']}}" "{price_cents: {\$gte: 1000, \$lte: 5000}}"
  "{\$or: [{name_lc: /mug/i}, {description: /mug/i}]}" "")
sorts=("{created_at: -1, _id: -1}" "{price_cents: 1, _id: 1}" "{created_at: -1, _id: -1}" "{created_at: -1, _id: -1}"
  "{created_at: -1, _id: -1}" "")

for n in ${BENCH_SIZES:-230 2000 20000}; do
  d=$work/$n
  mkdir -p "$d"
  rp=$(free_port); mp=$(free_port); ap=$(free_port)
  start_redis "$rp" "$d/redis" "$d/redis.log"; pids+=($!)
  start_ferretdb "$mp" "$d/fdb" "$d/fdb.log"; pids+=($!)
  wait_port "$rp" redis; wait_port "$mp" ferretdb
  SEED_PRODUCTS=$n mongo_init "mongodb://127.0.0.1:$mp/" catalog >/dev/null
  env HOST=127.0.0.1 PORT="$ap" THREADS=2 MONGO_URI="mongodb://127.0.0.1:$mp/" REDIS_URL="redis://127.0.0.1:$rp/0" BENCH_BYPASS_CACHE=1 \
    JWT_SECRET=bench-only-jwt-secret-0123456789abcdef "$bin" >"$d/backend.log" 2>&1 &
  pids+=($!)
  wait_port "$ap"
  echo "catalogue of $n products (FerretDB + SQLite), $samples sequential cold reads per shape"
  for i in "${!shapes[@]}"; do
    s=${shapes[$i]}
    url="http://127.0.0.1:$ap/api/products?$s"
    [ "$s" = CATEGORIES ] && url="http://127.0.0.1:$ap/api/categories"
    times=(); bad=0
    for _ in $(seq 1 "$samples"); do
      read -r code t <<<"$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$url")"
      times+=("$(awk -v t="$t" 'BEGIN { printf "%.0f", t * 1000 }')")
      [ "$code" = 200 ] || bad=$((bad + 1))
    done
    p50=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    mx=$(printf '%s\n' "${times[@]}" | sort -n | tail -1)
    store=""
    if [ -n "${filters[$i]}" ]; then
      store=$("$mongosh" "mongodb://127.0.0.1:$mp/catalog" --quiet --eval "
        const ms = []; for (let k = 0; k < 3; k++) { const t = Date.now(); db.products.find(${filters[$i]}).sort(${sorts[$i]}).limit(20).toArray(); ms.push(Date.now() - t); }
        ms.sort((a, b) => a - b); print(ms[1])")
      store="   store find (mongosh) ${store} ms"
    fi
    printf '  %-28s p50 %6s ms   max %6s ms   non-200 %s%s\n' "${s:-(default)}" "$p50" "$mx" "$bad" "$store"
  done
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
done
