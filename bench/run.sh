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
row() { printf '  %-44s %9s req/s   p50 %6s ms   p99 %6s ms%s\n' "$1" "$2" "$3" "$4" "${5:+   non-2xx $5}"; }

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
read -r cd_rps cd_50 cd_99 _ <<<"${res[ceil_direct]}"
read -r ad_rps ad_50 ad_99 ad_bad <<<"${res[api_direct]}"
read -r cn_rps cn_50 cn_99 _ <<<"${res[ceil_nginx]}"
read -r an_rps an_50 an_99 an_bad <<<"${res[api_nginx]}"
echo "cached default list (X-Cache: HIT)"
row "ceiling direct (h2o, same bytes)" "$cd_rps" "$cd_50" "$cd_99"
row "backend direct" "$ad_rps" "$ad_50" "$ad_99" "${ad_bad#0}"
row "ceiling through nginx" "$cn_rps" "$cn_50" "$cn_99"
row "backend through nginx" "$an_rps" "$an_50" "$an_99" "${an_bad#0}"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
read -r ex_rps ex_50 ex_99 ex_bad <<<"${res[express]}"
row "Express + node-redis (seed's shape, same bytes)" "$ex_rps" "$ex_50" "$ex_99" "${ex_bad#0}"
echo "  ratio direct   backend/ceiling = $(ratio "$ad_rps" "$cd_rps")   (target >= 0.80)"
echo "  ratio nginx    backend/ceiling = $(ratio "$an_rps" "$cn_rps")   (target >= 0.85)"
echo "  ratio direct   backend/Express = $(ratio "$ad_rps" "$ex_rps")   (expected >= 20)"
read -r nk_rps nk_50 nk_99 nk_bad <<<"$(measure "http://127.0.0.1:$nginx_nokeep_port/api/products")"
row "backend through nginx, no upstream keepalive" "$nk_rps" "$nk_50" "$nk_99" "${nk_bad#0}"
echo "  upstream keepalive gain          = $(ratio "$an_rps" "$nk_rps")x"
echo

read -r cp_rps cp_50 cp_99 _ <<<"${res[ceil_product]}"
read -r p_rps p_50 p_99 p_bad <<<"${res[api_product]}"
echo "cached product by id ($(wc -c <"$work/product.json") bytes)"
row "ceiling direct (h2o, same bytes)" "$cp_rps" "$cp_50" "$cp_99"
row "backend direct" "$p_rps" "$p_50" "$p_99" "${p_bad#0}"
echo "  ratio direct   backend/ceiling = $(ratio "$p_rps" "$cp_rps")   (target >= 0.80)"
echo

if [ "$pinned" = 1 ]; then
  # warm the pinned backend's two entries (the L1 fills from Redis hits)
  for u in /api/products /api/products/$id /api/products /api/products/$id; do curl -sf "http://127.0.0.1:$pin_api_port$u" -o /dev/null; done
  declare -A pin
  WRK_PIN=0 interleaved pin "ceil=$here:$pin_ceil_port/api/products" "api=$here:$pin_api_port/api/products" \
    "ceil_product=$here:$pin_ceil_product_port/api/products" "api_product=$here:$pin_api_port/api/products/$id" \
    "express=$here:$pin_express_port/api/products"
  read -r qc_rps qc_50 qc_99 _ <<<"${pin[ceil]}"
  read -r qa_rps qa_50 qa_99 qa_bad <<<"${pin[api]}"
  read -r qcp_rps qcp_50 qcp_99 _ <<<"${pin[ceil_product]}"
  read -r qp_rps qp_50 qp_99 qp_bad <<<"${pin[api_product]}"
  read -r qe_rps qe_50 qe_99 qe_bad <<<"${pin[express]}"
  echo "the load generator on a core of its own (wrk on CPU 0; each server one thread on CPU 1)"
  row "ceiling, list bytes" "$qc_rps" "$qc_50" "$qc_99"
  row "backend, cached list" "$qa_rps" "$qa_50" "$qa_99" "${qa_bad#0}"
  row "ceiling, product bytes" "$qcp_rps" "$qcp_50" "$qcp_99"
  row "backend, cached product" "$qp_rps" "$qp_50" "$qp_99" "${qp_bad#0}"
  row "Express + node-redis, list bytes" "$qe_rps" "$qe_50" "$qe_99" "${qe_bad#0}"
  echo "  ratio list     backend/ceiling = $(ratio "$qa_rps" "$qc_rps")   product $(ratio "$qp_rps" "$qcp_rps")"
  echo "  ratio list     backend/Express = $(ratio "$qa_rps" "$qe_rps")   (expected >= 20)"
  echo "  p99 at 64 connections: list ${qa_99} ms, product ${qp_99} ms (target <= 2 ms; the ceiling's own ${qc_99} ms)"
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

read -r m_rps m_50 m_99 m_bad <<<"$(measure "http://127.0.0.1:$miss_port" -s "$root/bench/wrk-rotate.lua")"
read -r _ b_rps _ b_50 _ b_99 _ _ <<<"$("$bin/bench-mongo-bare" "mongodb://127.0.0.1:$mongo_port/" catalog "$workers" "$dur")"
echo "miss path (BENCH_BYPASS_CACHE=1, 200 different pages, FerretDB+SQLite)"
row "bare libmongoc client, $workers threads" "$b_rps" "$b_50" "$b_99"
row "backend direct, $workers workers" "$m_rps" "$m_50" "$m_99" "${m_bad#0}"
echo "  ratio          backend/bare    = $(ratio "$m_rps" "$b_rps")   (target >= 0.80)"
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
echo "  p99 target at 64 connections: <= 2 ms direct (list ${ad_99} ms, product ${p_99} ms; nginx ${an_99} ms)"
echo

# admin writes (last: they churn the cache): PATCH over 50 products, 8 connections
token=$(curl -sf "http://127.0.0.1:$api_port/api/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$admin_pw\"}" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
ids=$(curl -sf "http://127.0.0.1:$api_port/api/products?limit=50" | grep -o '"id":"[0-9a-f]\{24\}"' | cut -d'"' -f4 | paste -sd,)
read -r w_rps w_50 w_99 w_bad <<<"$(BENCH_TOKEN=$token BENCH_IDS=$ids measure_c 8 "http://127.0.0.1:$api_port" -s "$root/bench/wrk-write.lua")"
echo "admin writes (PATCH, findAndModify + invalidation before the answer, 8 connections)"
row "backend direct" "$w_rps" "$w_50" "$w_99" "${w_bad#0}"

# Redis replies later than REDIS_TIMEOUT_MS over the whole run (each such
# read was served from MongoDB), and connections given up for silence
# (each raises the floor: every cached entry is read again once)
stats=$(curl -sf "http://127.0.0.1:$api_port/api/stats")
late=$(printf '%s' "$stats" | sed -n 's/.*"redis_late_replies":\([0-9]*\).*/\1/p')
drops=$(printf '%s' "$stats" | sed -n 's/.*"redis_reconnects_for_silence":\([0-9]*\).*/\1/p')
reqs=$(printf '%s' "$stats" | sed -n 's/.*"requests":\([0-9]*\).*/\1/p')
echo "Redis under the bench's load (REDIS_TIMEOUT_MS=${REDIS_TIMEOUT_MS:-100}): ${late:-?} late replies, ${drops:-?} reconnections for silence, over ${reqs:-?} requests"
