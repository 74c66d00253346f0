#!/usr/bin/env bash
# The miss path as the catalogue grows. For each size (BENCH_SIZES, default
# "230 2000 20000", seeded by mongo-init's SEED_PRODUCTS): one stack, two
# backends — A with the defaults (list and categories misses answered by the
# in-memory catalogue), B with MIRROR_MAX_PRODUCTS=0 (the store answers: a
# count and a sorted find per list miss, as before issue 12). For each list
# shape and the categories, BENCH_SAMPLES (5) sequential cold reads (the
# cached entries deleted before each, the generation kept), default
# timeouts: p50 / max in ms and how many were not 200, for B, for A, and for
# A right after a write (one PATCH, so the read also catches the catalogue
# up); beside them the store's own single find of the same filter and sort
# (mongosh), the store passes per cold page (/api/stats), the catalogue's
# scan time and memory, and cached hits (wrk). Prints figures; never fails
# on a number.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/backend/build/release/catalog-backend
samples=${BENCH_SAMPLES:-5}
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
bench_setup scale
mongosh=$root/node_modules/.bin/mongosh
password=$bench_password

shapes=("" "order=price" "category=books" "min_price=10&max_price=50" "q=mug" "CATEGORIES")
# the mongosh find of each shape: the backend's filter and sort
filters=("{}" "{}" "{category: {\$in: ['books']}}" "{price_cents: {\$gte: 1000, \$lte: 5000}}"
  "{\$or: [{name_lc: /mug/i}, {description: /mug/i}]}" "")
sorts=("{created_at: -1, _id: -1}" "{price_cents: 1, _id: 1}" "{created_at: -1, _id: -1}" "{created_at: -1, _id: -1}"
  "{created_at: -1, _id: -1}" "")

# cold REDIS_PORT: deletes every cached list, categories and product entry
cold() { redis-cli -p "$1" EVAL "for _, k in ipairs(redis.call('KEYS', '{products}:[lpc][ira]*')) do redis.call('DEL', k) end" 0 >/dev/null; }

# stat PORT EXPR: one figure of /api/stats (a python expression on d)
stat() { curl -s "http://127.0.0.1:$1/api/stats" | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"; }

# reads URL REDIS_PORT [WRITE_URL TOKEN]: BENCH_SAMPLES cold reads; prints "p50 max bad"
reads() {
  local times=() bad=0 code t
  for k in $(seq 1 "$samples"); do
    cold "$2"
    if [ -n "${3:-}" ]; then
      curl -s -o /dev/null -X PATCH -H "authorization: Bearer $4" -H 'content-type: application/json' \
        -d "{\"stock\": $((100 + k))}" "$3"
    fi
    read -r code t <<<"$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$1")"
    times+=("$(awk -v t="$t" 'BEGIN { printf "%.0f", t * 1000 }')")
    [ "$code" = 200 ] || bad=$((bad + 1))
  done
  printf '%s %s %s\n' "$(printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')" \
    "$(printf '%s\n' "${times[@]}" | sort -n | tail -1)" "$bad"
}

start_backend() { # PORT REDIS_PORT MONGO_PORT [VAR=VALUE...]
  local p=$1
  bench_env "$2" "$3"
  shift 3
  env "${bench_backend_env[@]}" PORT="$p" THREADS=2 "$@" "$bin" >"$d/backend-$p.log" 2>&1 &
  pids+=($!)
  wait_port "$p"
}

for n in ${BENCH_SIZES:-230 2000 20000}; do
  d=$work/$n
  mkdir -p "$d"
  read -r rp mp ap bp <<<"$(free_ports 4)"
  SEED_PRODUCTS=$n bench_stores "$rp" "$mp" "$d"
  start_backend "$ap" "$rp" "$mp"
  start_backend "$bp" "$rp" "$mp" MIRROR_MAX_PRODUCTS=0
  for _ in $(seq 1 600); do [ "$(stat "$ap" "d['catalogue']['scans']")" -ge 1 ] && break; sleep 0.1; done
  token=$(curl -s -X POST -H 'content-type: application/json' -d "{\"username\":\"admin\",\"password\":\"$password\"}" \
    "http://127.0.0.1:$ap/api/auth/login" | python3 -c "import json,sys; print(json.load(sys.stdin)['token'])")
  write_url="http://127.0.0.1:$ap/api/products/$("$mongosh" "mongodb://127.0.0.1:$mp/catalog" --quiet --eval \
    "print(db.products.findOne({}, {_id: 1})._id.toHexString())")"
  echo "catalogue of $n products (FerretDB + SQLite): in memory $(stat "$ap" "d['catalogue']['bytes'] // 1024") KiB, built by one scan of $(stat "$ap" "d['catalogue']['last_scan_ms']") ms"
  printf '  %-26s %-24s %-24s %-24s %s\n' shape "store answers (before)" "in memory (after)" "after a write" "store's own find"
  for i in "${!shapes[@]}"; do
    s=${shapes[$i]}
    path="/api/products?$s"
    [ "$s" = CATEGORIES ] && path=/api/categories
    passes0=$(stat "$bp" "d['store']['passes']")
    read -r b50 bmax bbad <<<"$(reads "http://127.0.0.1:$bp$path" "$rp")"
    bpasses=$(( ($(stat "$bp" "d['store']['passes']") - passes0) / samples ))
    passes0=$(stat "$ap" "d['store']['passes']")
    read -r a50 amax abad <<<"$(reads "http://127.0.0.1:$ap$path" "$rp")"
    apasses=$(( ($(stat "$ap" "d['store']['passes']") - passes0) / samples ))
    read -r w50 wmax wbad <<<"$(reads "http://127.0.0.1:$ap$path" "$rp" "$write_url" "$token")"
    store=""
    if [ -n "${filters[$i]}" ]; then
      store=$("$mongosh" "mongodb://127.0.0.1:$mp/catalog" --quiet --eval "
        const ms = []; for (let k = 0; k < 3; k++) { const t = Date.now(); db.products.find(${filters[$i]}).sort(${sorts[$i]}).limit(20).toArray(); ms.push(Date.now() - t); }
        ms.sort((a, b) => a - b); print(ms[1])")
      store="$store ms"
    fi
    printf '  %-26s %-24s %-24s %-24s %s\n' "${s:-(default)}" \
      "$b50/$bmax ms ${bbad}x503 ${bpasses}p" "$a50/$amax ms ${abad}x503 ${apasses}p" "$w50/$wmax ms ${wbad}x503" "$store"
  done
  if command -v wrk >/dev/null; then
    curl -s -o /dev/null "http://127.0.0.1:$ap/api/products"
    echo "  cached default list (wrk 3 s, 32 connections): $(wrk -t1 -c32 -d3s "http://127.0.0.1:$ap/api/products" | awk '/Requests\/sec/ { print $2 }') req/s"
  fi
  echo "  (p50/max of $samples; Nx503: answers that were not 200; Np: whole-collection store queries per cold read)"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
done
