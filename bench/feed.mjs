// The change feed (issue 14): fan-out, and what the stream append costs the
// write path. Starts its own stack (tests/lib/stack.mjs: Redis, FerretDB,
// one backend). Prints figures; never fails on a number. Not part of
// `make bench`.
//   node bench/feed.mjs
//
// 1. Fan-out: BENCH_SUBSCRIBERS (100) streams on one process; entries are
//    appended to the change stream as the invalidation script appends them,
//    BENCH_BATCH (500) at a time, each batch once every stream has the last
//    one (so no stream passes SSE_BUFFER_MAX), BENCH_EVENTS (20,000) in all:
//    events delivered per second (summed over the streams), the reader's
//    rate, and the time one event takes to reach every stream (p50/p99 of
//    BENCH_PINGS single appends). The clients run on the same cores.
// 2. Write path: the invalidation script as Redis runs it — without the
//    stream (before issue 12), with the entry {gen, id} (issue 12), and with
//    the feed's event (this release) — redis-benchmark rounds interleaved
//    (BENCH_ROUNDS, 5), EVAL as the backend sends it, pipelined (-P 16, as
//    the backend batches a loop iteration's commands): calls per second and
//    the cost per call.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { root, startStack } from '../tests/lib/stack.mjs';

const subscribers = Number(process.env.BENCH_SUBSCRIBERS || 100);
const total = Number(process.env.BENCH_EVENTS || 20000);
const batch = Number(process.env.BENCH_BATCH || 500);
const pings = Number(process.env.BENCH_PINGS || 50);
const rounds = Number(process.env.BENCH_ROUNDS || 5);

const pct = (xs, p) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length ? a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))] : NaN;
};
const median = (xs) => pct(xs, 50);

// A stream that counts its "id:" lines (each event has one, and so has the
// preamble of a stream opened without an id) and parses nothing else.
const ID = Buffer.from('\nid: ');
function count(buf, from = 0, below = Infinity) {
  let n = 0;
  for (let i = buf.indexOf(ID, from); i >= 0 && i < below; i = buf.indexOf(ID, i + 1)) n++;
  return n;
}
function subscribe(port) {
  const sub = { blocks: 0, tail: Buffer.alloc(0) };
  const s = net.connect(port, '127.0.0.1');
  s.on('data', (d) => {
    // an id: line cut between two reads
    sub.blocks += count(Buffer.concat([sub.tail, d.subarray(0, ID.length - 1)]), 0, sub.tail.length) + count(d);
    sub.tail = Buffer.from(d.subarray(Math.max(0, d.length - (ID.length - 1))));
  });
  s.on('error', () => {});
  s.write('GET /api/changes HTTP/1.1\r\nHost: bench\r\n\r\n');
  sub.close = () => s.destroy();
  return sub;
}

// One Redis connection for the appends (no process spawned per call).
function redisConn(port) {
  const s = net.connect(port, '127.0.0.1');
  let pending = null;
  let buf = '';
  s.setEncoding('utf8');
  s.on('data', (d) => {
    buf += d;
    if (pending && buf.includes('\r\n')) {
      const done = pending;
      pending = null;
      const line = buf.slice(0, buf.indexOf('\r\n'));
      buf = '';
      if (line.startsWith('-')) done.reject(new Error(line));
      else done.resolve(line);
    }
  });
  return {
    call(...args) {
      const enc = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
      return new Promise((resolve, reject) => { pending = { resolve, reject }; s.write(enc); });
    },
    close: () => s.destroy(),
  };
}

// Appends n entries, each as the invalidation script makes one.
const APPEND = `local ep = redis.call('GET', KEYS[3])
for i = 1, tonumber(ARGV[2]) do
  local g = redis.call('INCR', KEYS[1])
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', '10000', '*', 'gen', g, 'id', ARGV[1], 'ev', 'updated', 'v', i, 'f', 'stock', 'ep', ep, 'at', ARGV[3])
end
return 1`;
const append = (r, id, n) => r.call('EVAL', APPEND, '3', '{products}:gen', '{products}:changes', '{products}:epoch', id, String(n), String(Date.now()));

async function waitAll(subs, want) {
  while (subs.some((x) => x.blocks < want)) await new Promise((r) => setImmediate(r));
}

async function fanOut(s, b) {
  const id = '650000000000000000000001';
  const r = redisConn(s.redisPort);
  const subs = Array.from({ length: subscribers }, () => subscribe(b.port));
  await waitAll(subs, 1); // the preamble
  const rss0 = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${b.proc.pid}/status`, 'utf8'))[1]);
  let sent = 0;
  const t0 = performance.now();
  while (sent < total) {
    const n = Math.min(batch, total - sent);
    await append(r, id, n);
    sent += n;
    await waitAll(subs, 1 + sent);
  }
  const secs = (performance.now() - t0) / 1000;
  const lat = [];
  for (let i = 0; i < pings; i++) {
    const t = performance.now();
    await append(r, id, 1);
    sent++;
    await waitAll(subs, 1 + sent);
    lat.push(performance.now() - t);
  }
  const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${b.proc.pid}/status`, 'utf8'))[1]);
  const st = (await s.stats(b)).feed;
  for (const x of subs) x.close();
  r.close();
  console.log(`fan-out: ${subscribers} streams on one process (THREADS=${b.env.THREADS}), ${total} events in batches of ${batch}`);
  console.log(`  delivered  ${Math.round((subscribers * total) / secs).toLocaleString('en-US')} events/s (${Math.round(total / secs).toLocaleString('en-US')} events/s read from the stream, each to every stream)`);
  console.log(`  one event to all ${subscribers}: p50 ${median(lat).toFixed(2)} ms, p99 ${pct(lat, 99).toFixed(2)} ms (from the append's reply)`);
  console.log(`  RSS ${(rss0 / 1024).toFixed(1)} MB with the streams open, ${(rss / 1024).toFixed(1)} MB after; closed for being slow: ${st.closed_slow}`);
}

// The invalidation script of three releases (KEYS: gen, product key,
// stream, epoch; ARGV as cache.c's send_bump passes them).
const VALID = "g and #g <= 19 and string.match(g, '^[1-9][0-9]*$')";
const SCRIPTS = {
  'no stream (before issue 12)': `local g = redis.call('GET', KEYS[1])
if ${VALID} then g = redis.call('INCR', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[1]) g = ARGV[1] end
if ARGV[2] == 'all' then redis.call('SET', KEYS[2], g) elseif KEYS[2] then redis.call('DEL', KEYS[2]) end
return g`,
  'entry {gen, id} (issue 12)': `local g = redis.call('GET', KEYS[1])
if ${VALID} then g = redis.call('INCR', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[1]) g = ARGV[1] end
if ARGV[2] == 'all' then
  redis.call('SET', KEYS[2], g)
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'gen', g, 'reset', '1')
else
  redis.call('DEL', KEYS[2])
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'gen', g, 'id', ARGV[4])
end
return g`,
  'entry with the feed event (this release)': currentScript(),
};

// BUMP_LUA as compiled into this checkout: its string literals and the two
// macros it uses, concatenated as the C compiler does.
function currentScript() {
  const h = fs.readFileSync(path.join(root, 'backend/src/cache/cache.h'), 'utf8');
  const c = fs.readFileSync(path.join(root, 'backend/src/cache/cache.c'), 'utf8');
  const lits = (src) => [...src.matchAll(/"((?:[^"\\]|\\.)*)"|(CACHE_GEN_IS_VALID_LUA|CACHE_EPOCH_LUA\((\d+), (\d+)\)|#k|#a)/g)];
  const unescape = (t) => t.replace(/\\n/g, '\n').replace(/\\'/g, "'").replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  const expand = (src, k, a) => lits(src).map((m) => {
    if (m[1] !== undefined) return unescape(m[1]);
    if (m[2] === '#k') return k;
    if (m[2] === '#a') return a;
    if (m[2] === 'CACHE_GEN_IS_VALID_LUA') return VALID;
    const macro = /#define CACHE_EPOCH_LUA\(k, a\)([\s\S]*?)\n\n/.exec(h)[1];
    return expand(macro, m[3], m[4]);
  }).join('');
  return expand(/static const char BUMP_LUA\[\] =([\s\S]*?);\n/.exec(c)[1]);
}

function writePath(s) {
  const id = '650000000000000000000002';
  const argv = (name) => ['EVAL', SCRIPTS[name], '4', '{products}:gen', `{products}:product:${id}`, '{products}:changes', '{products}:epoch',
    String(Date.now() * 1000), 'one', '10000', id, 'updated', '5', 'price,stock', String(Date.now())];
  // the extracted script does what the backend's does: one entry with the event
  spawnSync('redis-cli', ['-p', String(s.redisPort), ...argv('entry with the feed event (this release)')]);
  const last = s.redisCli('XREVRANGE', '{products}:changes', '+', '-', 'COUNT', '1');
  if (!/\nev\nupdated\n/.test(last) || !/\nep\n\d+\n/.test(last)) throw new Error(`the extracted script did not append the event:\n${last}`);
  const res = Object.fromEntries(Object.keys(SCRIPTS).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const name of Object.keys(SCRIPTS)) {
      const out = spawnSync('redis-benchmark', ['-p', String(s.redisPort), '-n', '100000', '-c', '8', '-P', '16', '-q', ...argv(name)], { encoding: 'utf8' }).stdout;
      const m = /([\d.]+) requests per second/.exec(out);
      res[name].push(m ? Number(m[1]) : NaN);
    }
  }
  console.log(`write path: the invalidation script in Redis, redis-benchmark -c 8 -P 16, ${rounds} interleaved rounds of 100,000 (median)`);
  const base = median(res['no stream (before issue 12)']);
  for (const [name, xs] of Object.entries(res)) {
    const m = median(xs);
    console.log(`  ${name.padEnd(42)} ${Math.round(m).toLocaleString('en-US').padStart(8)} calls/s  ${(1e6 / m).toFixed(1)} µs each  (${(m / base).toFixed(2)} of the first; rounds: ${xs.map((x) => Math.round(x)).join(', ')})`);
  }
}

const s = await startStack({ backends: 1, backendEnv: { SSE_PING_S: '3600' } });
try {
  await fanOut(s, s.backend);
  writePath(s);
} finally {
  await s.stop();
}
