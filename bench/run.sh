#!/usr/bin/env bash
# The benchmark: one script, one run. Starts its own stack on free loopback
# ports, measures with wrk (64 connections, --latency) and prints req/s,
# p50 and p99 for:
#   - the cached default list, through nginx and direct, interleaved with a
#     ceiling (bench-ceiling: h2o answering the same bytes) measured the
#     same two ways; our/ceiling ratios
#   - a cached product by id, direct, interleaved with a ceiling serving its
#     bytes
#   - an Express + node-redis backend in the seed's code shape serving the
#     same list bytes from one Redis key (bench/express-seed), beside them
#   - what the in-process cache answered (hits per layer, lock waits)
#   - the miss path (BENCH_BYPASS_CACHE=1, every request a different page)
#     beside bench-mongo-bare running the same queries with the same worker
#     count
#   - the same hits with the load generator on a core of its own (wrk on
#     CPU 0; one-thread backend, ceilings and Express on CPU 1), where p99
#     is the server's and not wrk's scheduling (2+ cores)
#   - the backend's RSS idle and under 512 connections
# Prints figures; never fails on a number.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/backend/build/release
dur=${BENCH_SECONDS:-5}
rounds=${BENCH_ROUNDS:-2}
threads=${THREADS:-2}
workers=${MONGO_WORKERS:-4}
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
bench_setup bench
mkdir -p "$work/log"

read -r redis_port mongo_port api_port miss_port ceil_port nginx_port nginx_ceil_port nginx_nokeep_port \
  ceil_product_port express_port pin_api_port pin_ceil_port pin_ceil_product_port pin_express_port <<<"$(free_ports 14)"

bench_stores "$redis_port" "$mongo_port" "$work/store"
bench_env "$redis_port" "$mongo_port"
admin_pw=$bench_password
common=("${bench_backend_env[@]}" THREADS="$threads" MONGO_WORKERS="$workers")
env "${common[@]}" PORT="$api_port" "$bin/catalog-backend" >"$work/log/api.log" 2>&1 &
api_pid=$!
pids+=($api_pid)
env "${common[@]}" PORT="$miss_port" BENCH_BYPASS_CACHE=1 MONGO_TIMEOUT_MS=60000 "$bin/catalog-backend" >"$work/log/miss.log" 2>&1 &
pids+=($!)
wait_port "$api_port"
wait_port "$miss_port"

# the exact bytes of the cached default list
curl -sf "http://127.0.0.1:$api_port/api/products" -o "$work/list.json"
curl -sf "http://127.0.0.1:$api_port/api/products" -o /dev/null
"$bin/bench-ceiling" "$ceil_port" "$threads" "$work/list.json" >"$work/log/ceiling.log" 2>&1 &
pids+=($!)
wait_port "$ceil_port"

id=$(sed -n 's/.*"products":\[{"id":"\([0-9a-f]\{24\}\)".*/\1/p' "$work/list.json")
curl -sf "http://127.0.0.1:$api_port/api/products/$id" -o "$work/product.json"
"$bin/bench-ceiling" "$ceil_product_port" "$threads" "$work/product.json" >"$work/log/ceiling-product.log" 2>&1 &
pids+=($!)
node "$root/bench/express-seed/server.mjs" "$express_port" "$redis_port" "$work/list.json" >"$work/log/express.log" 2>&1 &
pids+=($!)
wait_port "$ceil_product_port"
wait_port "$express_port"

# the pinned set: every server on CPU 1 with one thread, wrk on CPU 0
pinned=$([ "$(nproc)" -ge 2 ] && echo 1 || echo 0)
if [ "$pinned" = 1 ]; then
  env "${common[@]}" THREADS=1 PORT="$pin_api_port" taskset -c 1 "$bin/catalog-backend" >"$work/log/api-pinned.log" 2>&1 &
  pids+=($!)
  taskset -c 1 "$bin/bench-ceiling" "$pin_ceil_port" 1 "$work/list.json" >"$work/log/ceiling-pinned.log" 2>&1 &
  pids+=($!)
  taskset -c 1 "$bin/bench-ceiling" "$pin_ceil_product_port" 1 "$work/product.json" >"$work/log/ceiling-product-pinned.log" 2>&1 &
  pids+=($!)
  taskset -c 1 node "$root/bench/express-seed/server.mjs" "$pin_express_port" "$redis_port" "$work/list.json" >"$work/log/express-pinned.log" 2>&1 &
  pids+=($!)
  for p in "$pin_api_port" "$pin_ceil_port" "$pin_ceil_product_port" "$pin_express_port"; do wait_port "$p"; done
fi

for pair in "nginx:$nginx_port:$api_port" "nginx-ceiling:$nginx_ceil_port:$ceil_port" "nginx-nokeep:$nginx_nokeep_port:$api_port"; do
  IFS=: read -r name port upstream <<<"$pair"
  NGINX_STATE=$work/$name NGINX_PORT=$port BACKEND_PORTS=$upstream FRONTEND_ROOT=$root/frontend NGINX_WORKERS=${NGINX_WORKERS:-2} \
    "$root/scripts/render-nginx.sh"
  # the same config without upstream keep-alive, to measure what it buys
  [ "$name" = nginx-nokeep ] && sed -i '/^ *keepalive/d' "$work/$name/conf.d/00-catalog-http.conf"
  nginx -p "$work/$name" -c "$work/$name/nginx.conf" -e "$work/$name/error.log" &
  pids+=($!)
  wait_port "$port"
done

curl -sf "http://127.0.0.1:$api_port/api/products/$id" -o /dev/null

# measure_c CONNECTIONS URL [extra args...]: like measure with another connection count
measure_c() {
  local c=$1
  shift
  WRK_CONNECTIONS=$c measure "$@"
}

# wrk URL [extra args...] -> "rps p50_ms p99_ms"
measure() {
  local url=$1
  shift
  ${WRK_PIN:+taskset -c "$WRK_PIN"} wrk -t1 -c"${WRK_CONNECTIONS:-64}" -d"${dur}s" --latency "$@" "$url" 2>&1 | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) }
    $1 == "Requests/sec:" { rps = $2 }
    $1 == "Non-2xx" { bad = $NF }
    END { printf "%.0f %.2f %.2f %s\n", rps, p50, p99, (bad ? bad : 0) }'
}
best() { sort -n -r | head -1; }
# row LABEL "rps p50 p99 non-2xx": one line of figures
row() {
  local rps p50 p99 bad
  read -r rps p50 p99 bad <<<"$2"
  bad=${bad#0}
  printf '  %-44s %9s req/s   p50 %6s ms   p99 %6s ms%s\n' "$1" "$rps" "$p50" "$p99" "${bad:+   non-2xx $bad}"
}
# ratio A B: A's req/s over B's (two measurements, or two numbers)
ratio() { awk -v a="${1%% *}" -v b="${2%% *}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
p99() { local _a _b p _c; read -r _a _b p _c <<<"$1"; echo "$p"; }

echo "catalog bench: $(nproc) cores, backend THREADS=$threads MONGO_WORKERS=$workers, wrk -t1 -c64 -d${dur}s," \
  "list body $(wc -c <"$work/list.json") bytes, $rounds interleaved rounds (best shown)"
echo
# interleaved NAME KEY=URL...: $rounds rounds, each measuring every URL in
# turn (so a busy moment hits all alike); NAME[KEY] = the best round's
# "rps p50 p99 non-2xx"
interleaved() {
  local -n out=$1
  shift
  local pair
  for _ in $(seq 1 "$rounds"); do
    for pair in "$@"; do out[${pair%%=*}]+="$(measure "${pair#*=}")"$'\n'; done
  done
  for pair in "$@"; do out[${pair%%=*}]=$(printf '%s' "${out[${pair%%=*}]}" | grep . | best); done
}

here=http://127.0.0.1
declare -A res
interleaved res "ceil_direct=$here:$ceil_port/api/products" "api_direct=$here:$api_port/api/products" \
  "ceil_nginx=$here:$nginx_ceil_port/api/products" "api_nginx=$here:$nginx_port/api/products" \
  "ceil_product=$here:$ceil_product_port/api/products" "api_product=$here:$api_port/api/products/$id" \
  "express=$here:$express_port/api/products"
echo "cached default list (X-Cache: HIT)"
row "ceiling direct (h2o, same bytes)" "${res[ceil_direct]}"
row "backend direct" "${res[api_direct]}"
row "ceiling through nginx" "${res[ceil_nginx]}"
row "backend through nginx" "${res[api_nginx]}"
row "Express + node-redis (seed's shape, same bytes)" "${res[express]}"
echo "  ratio direct   backend/ceiling = $(ratio "${res[api_direct]}" "${res[ceil_direct]}")   (target >= 0.80)"
echo "  ratio nginx    backend/ceiling = $(ratio "${res[api_nginx]}" "${res[ceil_nginx]}")   (target >= 0.85)"
echo "  ratio direct   backend/Express = $(ratio "${res[api_direct]}" "${res[express]}")   (expected >= 20)"
nokeep=$(measure "http://127.0.0.1:$nginx_nokeep_port/api/products")
row "backend through nginx, no upstream keepalive" "$nokeep"
echo "  upstream keepalive gain          = $(ratio "${res[api_nginx]}" "$nokeep")x"
echo

echo "cached product by id ($(wc -c <"$work/product.json") bytes)"
row "ceiling direct (h2o, same bytes)" "${res[ceil_product]}"
row "backend direct" "${res[api_product]}"
echo "  ratio direct   backend/ceiling = $(ratio "${res[api_product]}" "${res[ceil_product]}")   (target >= 0.80)"
echo

if [ "$pinned" = 1 ]; then
  # warm the pinned backend's two entries (the L1 fills from Redis hits)
  for u in /api/products /api/products/$id /api/products /api/products/$id; do curl -sf "http://127.0.0.1:$pin_api_port$u" -o /dev/null; done
  declare -A pin
  WRK_PIN=0 interleaved pin "ceil=$here:$pin_ceil_port/api/products" "api=$here:$pin_api_port/api/products" \
    "ceil_product=$here:$pin_ceil_product_port/api/products" "api_product=$here:$pin_api_port/api/products/$id" \
    "express=$here:$pin_express_port/api/products"
  echo "the load generator on a core of its own (wrk on CPU 0; each server one thread on CPU 1)"
  row "ceiling, list bytes" "${pin[ceil]}"
  row "backend, cached list" "${pin[api]}"
  row "ceiling, product bytes" "${pin[ceil_product]}"
  row "backend, cached product" "${pin[api_product]}"
  row "Express + node-redis, list bytes" "${pin[express]}"
  echo "  ratio list     backend/ceiling = $(ratio "${pin[api]}" "${pin[ceil]}")   product $(ratio "${pin[api_product]}" "${pin[ceil_product]}")"
  echo "  ratio list     backend/Express = $(ratio "${pin[api]}" "${pin[express]}")   (expected >= 20)"
  echo "  p99 at 64 connections: list $(p99 "${pin[api]}") ms, product $(p99 "${pin[api_product]}") ms" \
    "(target <= 2 ms; the ceiling's own $(p99 "${pin[ceil]}") ms)"
  echo
fi

# what answered the hits: the in-process cache or Redis, and how often a
# loop thread found the L1's lock taken by the other
hstats=$(curl -sf "http://127.0.0.1:$api_port/api/stats" | sed -n 's/.*\("hits":.*"local":{[^}]*}\).*/\1/p')
num() { printf '%s' "$hstats" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
echo "hits by layer: $(num hits_local) from the in-process cache, $(num hits_redis) from Redis;" \
  "L1 $(num entries) entries, $(num bytes) bytes, lock waits $(num lock_waits), tracking lost $(num tracking_losses) times," \
  "emptied $(num flushes) times"
echo

miss=$(measure "http://127.0.0.1:$miss_port" -s "$root/bench/wrk-rotate.lua")
read -r _ b_rps _ b_50 _ b_99 _ _ <<<"$("$bin/bench-mongo-bare" "mongodb://127.0.0.1:$mongo_port/" catalog "$workers" "$dur")"
bare="$b_rps $b_50 $b_99 0"
echo "miss path (BENCH_BYPASS_CACHE=1, 200 different pages, FerretDB+SQLite)"
row "bare libmongoc client, $workers threads" "$bare"
row "backend direct, $workers workers" "$miss"
echo "  ratio          backend/bare    = $(ratio "$miss" "$bare")   (target >= 0.80)"
echo

rss() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
idle=$(rss "$api_pid")
wrk -t1 -c512 -d"${dur}s" "http://127.0.0.1:$api_port/api/products" >/dev/null 2>&1 &
wp=$!
sleep "$(awk -v d="$dur" 'BEGIN { print d * 0.7 }')"
loaded=$(rss "$api_pid")
wait $wp || true
echo "backend RSS"
echo "  idle (after warm-up)                          ${idle} MB   (target < 20 MB + L1_BYTES)"
echo "  under 512 connections                         ${loaded} MB   (target < 64 MB)"
echo "  p99 target at 64 connections: <= 2 ms direct (list $(p99 "${res[api_direct]}") ms, product $(p99 "${res[api_product]}") ms;" \
  "nginx $(p99 "${res[api_nginx]}") ms)"
echo

# admin writes (last: they churn the cache): PATCH over 50 products, 8 connections
token=$(curl -sf "http://127.0.0.1:$api_port/api/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$admin_pw\"}" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
ids=$(curl -sf "http://127.0.0.1:$api_port/api/products?limit=50" | grep -o '"id":"[0-9a-f]\{24\}"' | cut -d'"' -f4 | paste -sd,)
writes=$(BENCH_TOKEN=$token BENCH_IDS=$ids measure_c 8 "http://127.0.0.1:$api_port" -s "$root/bench/wrk-write.lua")
echo "admin writes (PATCH, findAndModify + invalidation before the answer, 8 connections)"
row "backend direct" "$writes"

# Redis replies later than REDIS_TIMEOUT_MS over the whole run (each such
# read was served from MongoDB), and connections given up for silence
# (each raises the floor: every cached entry is read again once)
stats=$(curl -sf "http://127.0.0.1:$api_port/api/stats")
late=$(printf '%s' "$stats" | sed -n 's/.*"redis_late_replies":\([0-9]*\).*/\1/p')
drops=$(printf '%s' "$stats" | sed -n 's/.*"redis_reconnects_for_silence":\([0-9]*\).*/\1/p')
reqs=$(printf '%s' "$stats" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p')
echo "Redis under the bench's load (REDIS_TIMEOUT_MS=${REDIS_TIMEOUT_MS:-100}): ${late:-?} late replies, ${drops:-?} reconnections for silence, over ${reqs:-?} requests"
