// Faults, black-box: Redis and the MongoDB-wire server are stopped, hung
// (SIGSTOP) and killed for real under a running backend. Redis never causes
// a 5xx; MongoDB trouble is a 503 + Retry-After within MONGO_TIMEOUT_MS for
// what is not cached; nothing hangs; everything comes back on its own.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { assertProblem, getFresh, mintToken, root, send, sleep, startStack, until } from './lib/stack.mjs';

// Makes Redis sleep (DEBUG SLEEP) from a connection opened beforehand, so
// the stall starts as this resolves; returns { done }, a promise of its end.
async function redisSleep(port, seconds) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  const done = new Promise((resolve) => sock.once('data', () => { sock.destroy(); resolve(); }));
  sock.write(`DEBUG SLEEP ${seconds}\r\n`);
  await sleep(10);
  return { done };
}
const SEED_IDS = JSON.parse(fs.readFileSync(path.join(root, 'mongo-init/products.json'), 'utf8')).map((p) => p._id);
let nextId = 0;
let nextOffset = 0;
// keys nobody has read yet in this file (so not cached anywhere)
const freshProduct = () => {
  assert.ok(nextId < SEED_IDS.length, 'out of unread seed products');
  return `/api/products/${SEED_IDS[nextId++]}`;
};
const freshList = () => `/api/products?limit=3&offset=${nextOffset++}`;

// every wait below is bounded; this catches anything that is not
const T = { timeout: 60000 };

// /api/stats, bounded
const stats = async (b) => (await getFresh(`${b.url}/api/stats`, { timeoutMs: 5000 })).body;

let s;
before(async () => { s = await startStack(); });
after(async () => s && s.stop());


// Reads path until it is a cache HIT (Redis connections may still be coming
// up right after a start); returns the HIT.
async function warmUp(b, p) {
  return until(`${p} cached on :${b.port}`, 5000, async () => {
    const r = await getFresh(b.url + p, { timeoutMs: 5000 });
    assert.equal(r.status, 200, `${p}: ${r.text}`);
    return r.headers.get('x-cache') === 'HIT' && r;
  });
}

// Until n reads in a row of fresh keys on new connections (so over every
// loop thread) are served with Redis (MISS) again.
async function redisBack(b, ms, n = 6) {
  const t0 = Date.now();
  let streak = 0;
  await until(`Redis used again by :${b.port}`, ms, async () => {
    const r = await getFresh(b.url + freshProduct(), { timeoutMs: 5000 });
    assert.equal(r.status, 200);
    streak = r.headers.get('x-cache') === 'MISS' ? streak + 1 : 0;
    return streak >= n;
  }, 20);
  return Date.now() - t0;
}

function assertReady(r, httpStatus, status, redis, mongodb) {
  assert.equal(r.status, httpStatus, r.text);
  assert.equal(r.headers.get('content-type'), 'application/health+json');
  assert.equal(r.body.status, status, r.text);
  const [rc] = r.body.checks['redis:responseTime'];
  const [mc] = r.body.checks['mongodb:responseTime'];
  assert.equal(rc.status, redis, r.text);
  assert.equal(mc.status, mongodb, r.text);
  for (const c of [rc, mc]) {
    assert.equal(typeof c.observedValue, 'number');
    if (c.status !== 'pass') assert.equal(typeof c.output, 'string', 'a failing check says why');
  }
}

function assertUnavailable(r, what) {
  assertProblem(assert, r, 503, { type: '/problems/service-unavailable' });
  assert.match(r.headers.get('retry-after') || '', /^[1-9]\d*$/, `${what}: Retry-After`);
}

test('Redis stopped: reads are served from MongoDB (BYPASS), ready is warn, Redis is used again after a restart', T, async (t) => {
  const b = s.backend;
  const keys = [freshProduct(), freshList(), '/api/categories'];
  const warm = {};
  for (const p of keys) warm[p] = await warmUp(b, p);

  await s.redis.stop();
  for (const p of [...keys, freshProduct(), freshList(), '/api/products?category=books&limit=5']) {
    const r = await getFresh(b.url + p, { timeoutMs: 5000 });
    assert.equal(r.status, 200, `${p}: ${r.text}`);
    assert.equal(r.headers.get('x-cache'), 'BYPASS', p);
    if (warm[p]) {
      assert.equal(r.text, warm[p].text, `${p}: the same bytes from MongoDB as from the cache`);
      assert.equal(r.headers.get('etag'), warm[p].headers.get('etag'));
    }
  }
  const rd = await getFresh(`${b.url}/health/ready`, { timeoutMs: 5000 });
  assertReady(rd, 200, 'warn', 'warn', 'pass');
  assert.equal((await stats(b)).cache.redis_connected, false);

  await s.startRedis(); // same port, empty
  const took = await redisBack(b, 5000);
  const p = freshProduct();
  assert.equal((await getFresh(b.url + p)).headers.get('x-cache'), 'MISS');
  assert.equal((await getFresh(b.url + p)).headers.get('x-cache'), 'HIT');
  assert.equal((await stats(b)).cache.redis_connected, true);
  // lists and categories are cached again too (the restarted Redis lost the generation)
  await warmUp(b, freshList());
  await warmUp(b, '/api/categories');
  assertReady(await getFresh(`${b.url}/health/ready`), 200, 'pass', 'pass', 'pass');
  t.diagnostic(`Redis used again ${took} ms after the restart`);
});

test('Redis hung (SIGSTOP), REDIS_TIMEOUT_MS=100: reads BYPASS fast, ready warn within its time box, recovers on SIGCONT', T, async (t) => {
  // the Redis path on its own (L1_BYTES=0): tests/l1.test.mjs has the
  // in-process cache with a hung Redis (off within REDIS_DEAD_MS / 2)
  const b = await s.startBackend({ REDIS_TIMEOUT_MS: '100', L1_BYTES: '0' });
  const cached = freshProduct();
  const list = freshList();
  await warmUp(b, cached);
  await warmUp(b, list);

  s.redis.signal('SIGSTOP');
  try {
    // the first read still finds the connection up: its GET times out after 100 ms
    const first = await getFresh(b.url + cached, { timeoutMs: 5000 });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-cache'), 'BYPASS');
    assert.ok(first.ms < 1000, `answered in ${first.ms.toFixed(0)} ms: bounded by REDIS_TIMEOUT_MS=100, not more`);
    t.diagnostic(`first read with Redis hung: ${first.ms.toFixed(0)} ms`);
    // the rest: cached and uncached, sequential and concurrent
    for (const p of [list, freshProduct(), '/api/categories']) {
      const r = await getFresh(b.url + p, { timeoutMs: 5000 });
      assert.equal(r.status, 200, p);
      assert.equal(r.headers.get('x-cache'), 'BYPASS', p);
      assert.ok(r.ms < 1500, `${p}: ${r.ms.toFixed(0)} ms`);
    }
    const many = await Promise.all([cached, list, freshProduct(), freshProduct(), freshList(), freshList()]
      .map((p) => getFresh(b.url + p, { timeoutMs: 5000 })));
    for (const r of many) {
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-cache'), 'BYPASS');
      assert.ok(r.ms < 1500, `${r.ms.toFixed(0)} ms`);
    }
    const rd = await getFresh(`${b.url}/health/ready`, { timeoutMs: 5000 });
    assertReady(rd, 200, 'warn', 'warn', 'pass');
    assert.ok(rd.ms < 1000 + 1500, `ready answered in ${rd.ms.toFixed(0)} ms (HEALTH_TIMEOUT_MS=1000)`);
  } finally {
    s.redis.signal('SIGCONT');
  }
  // backoff tops out at 2 s, plus a connect time box of 1 s
  const took = await redisBack(b, 6000);
  t.diagnostic(`Redis used again ${took} ms after SIGCONT`);
  const r = await b.proc.stop();
  assert.equal(r.code, 0);
});

test('Redis slow for 300 ms (DEBUG SLEEP): reads BYPASS, the connection stays, nothing cached is thrown away; a write waits and is not deferred', T, async (t) => {
  const b = await s.startBackend({ THREADS: '1', REDIS_TIMEOUT_MS: '100', REDIS_DEAD_MS: '1000', L1_BYTES: '0' }); // the Redis path
  const cached = freshProduct();
  await warmUp(b, cached);
  const floor = s.redisCli('GET', '{products}:floor');
  const gen = s.redisCli('GET', '{products}:gen');
  const before = (await stats(b)).cache;
  const { done: sleeping } = await redisSleep(s.redisPort, 0.3);
  const during = await getFresh(b.url + cached, { timeoutMs: 5000 });
  assert.equal(during.status, 200);
  assert.equal(during.headers.get('x-cache'), 'BYPASS');
  assert.ok(during.ms < 250, `answered in ${during.ms.toFixed(0)} ms (REDIS_TIMEOUT_MS=100)`);
  // while the reply is late, reads do not queue behind it
  const next = await getFresh(b.url + cached, { timeoutMs: 5000 });
  assert.ok(next.ms < 150, `the next read: ${next.ms.toFixed(0)} ms`);
  // a write's invalidation waits for Redis (up to REDIS_DEAD_MS) instead of being deferred
  const w = await send('PATCH', b.url + cached, { stock: 77 }, mintToken());
  assert.equal(w.status, 200, w.text);
  assert.equal(w.headers.get('x-cache-invalidation'), null, 'applied, not deferred');
  await sleeping;
  await until('the late reply arrived: cached reads are HITs again', 3000,
    async () => (await getFresh(b.url + cached)).headers.get('x-cache') === 'HIT');
  const after = (await stats(b)).cache;
  assert.ok(after.redis_late_replies > before.redis_late_replies, JSON.stringify(after));
  assert.equal(after.redis_reconnects_for_silence, before.redis_reconnects_for_silence, 'no reconnection');
  assert.equal(s.redisCli('GET', '{products}:floor'), floor, 'the floor was not raised');
  assert.equal(Number(s.redisCli('GET', '{products}:gen')), Number(gen) + 1, 'bumped once: by the write');
  assert.equal((await getFresh(b.url + cached)).body.stock, 77);
  assert.equal((await b.proc.stop()).code, 0);
  t.diagnostic(`read during the stall: ${during.ms.toFixed(0)} ms`);
});

test('Redis silent past REDIS_DEAD_MS (DEBUG SLEEP 1.5 s): the connection is dropped and the floor raised on reconnection', T, async () => {
  const b = await s.startBackend({ THREADS: '1', REDIS_TIMEOUT_MS: '100', REDIS_DEAD_MS: '600', L1_BYTES: '0' }); // the Redis path
  const cached = freshProduct();
  await warmUp(b, cached);
  const floor = Number(s.redisCli('GET', '{products}:floor') || 0);
  const { done: sleeping } = await redisSleep(s.redisPort, 1.5);
  assert.equal((await getFresh(b.url + cached, { timeoutMs: 5000 })).headers.get('x-cache'), 'BYPASS');
  await sleeping;
  await until('reconnected, the floor raised', 6000, async () => Number(s.redisCli('GET', '{products}:floor') || 0) > floor);
  const st = (await stats(b)).cache;
  assert.ok(st.redis_reconnects_for_silence >= 1, JSON.stringify(st));
  // the entry from before the silence is retired: a MISS, then a HIT
  await until('served from Redis again', 6000, async () => (await getFresh(b.url + cached)).headers.get('x-cache') === 'HIT');
  assert.equal((await b.proc.stop()).code, 0);
});

test('Redis hangs between the lookup (MISS) and the fill: the read from MongoDB is still answered 200, not 503', T, async (t) => {
  // REDIS_TIMEOUT_MS as long as MONGO_TIMEOUT_MS: waiting on the fill must not cost the answer
  const b = await s.startBackend({ THREADS: '1', REDIS_TIMEOUT_MS: '1000', MONGO_TIMEOUT_MS: '1000', DEBUG_STORE_DELAY_MS: '400' });
  await redisBack(b, 5000, 1);
  const p = freshProduct();
  const pending = getFresh(b.url + p, { timeoutMs: 8000 });
  await sleep(150); // looked up (MISS); its MongoDB job is running
  s.redis.signal('SIGSTOP');
  let r;
  try {
    r = await pending;
  } finally {
    s.redis.signal('SIGCONT');
  }
  t.diagnostic(`answered ${r.status} after ${r.ms.toFixed(0)} ms`);
  assert.equal(r.status, 200, `Redis hung during the fill turned a MongoDB answer (after ~400 ms) into: ${r.text}`);
  assert.equal(r.body.id, p.split('/').pop());
  await redisBack(b, 6000, 1);
  assert.equal((await b.proc.stop()).code, 0);
});

test('Redis drops every connection (CLIENT KILL): reads stay 200, the backend reconnects quickly', T, async (t) => {
  const b = s.backend;
  const p = freshProduct();
  await warmUp(b, p);
  assert.ok(Number(s.redisCli('CLIENT', 'KILL', 'TYPE', 'normal')) >= 2, 'one connection per loop thread');
  const r = await getFresh(b.url + p, { timeoutMs: 5000 });
  assert.equal(r.status, 200);
  // a reconnection retires what is cached (a write may have been missed
  // meanwhile), so the first read after it is a MISS (or BYPASS, or a HIT
  // on a connection not yet dropped), then the cache serves again
  assert.ok(['HIT', 'MISS', 'BYPASS'].includes(r.headers.get('x-cache')));
  const took = await redisBack(b, 3000);
  t.diagnostic(`Redis used again ${took} ms after CLIENT KILL`);
  await until('cached again', 3000, async () => (await getFresh(b.url + p)).headers.get('x-cache') === 'HIT');
});

test('Redis refusing writes (OOM): reads are 200 (MISS, not stored), never a 5xx; cached again once it has room', T, async () => {
  const b = s.backend;
  const cached = freshProduct();
  await warmUp(b, cached);
  await warmUp(b, '/api/categories');
  s.redisCli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
  s.redisCli('CONFIG', 'SET', 'maxmemory', '1');
  const p = freshProduct();
  const l = freshList();
  try {
    for (const path of [p, p, l, l, cached, '/api/categories']) {
      const r = await getFresh(b.url + path, { timeoutMs: 5000 });
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      const want = path === cached || path === '/api/categories' ? 'HIT' : 'MISS';
      assert.equal(r.headers.get('x-cache'), want, `${path}: reads still work, fills fail`);
    }
    assert.equal((await stats(b)).responses_5xx, 0);
  } finally {
    s.redisCli('CONFIG', 'SET', 'maxmemory', '64mb');
    s.redisCli('CONFIG', 'SET', 'maxmemory-policy', 'volatile-lru');
  }
  await warmUp(b, p);
  await warmUp(b, l);
});

test('Redis reachable but refusing the invalidation (OOM): the write is 2xx deferred at once, its process reads around Redis, another serves the old entry at most CACHE_TTL + L1_MAX_AGE_MS', T, async () => {
  // two processes with short bounds, so the test measures them
  const env = { CACHE_TTL: '3', L1_MAX_AGE_MS: '1000', REDIS_DEAD_MS: '5000' };
  const w = await s.startBackend(env);
  const r = await s.startBackend(env);
  const path = freshProduct();
  try {
    const before = (await warmUp(r, path)).body.stock;
    await warmUp(w, path);
    s.redisCli('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    s.redisCli('CONFIG', 'SET', 'maxmemory', '1');
    let stale = 0;
    try {
      const t0 = Date.now();
      const p = await send('PATCH', w.url + path, { stock: before + 1 }, mintToken());
      assert.equal(p.status, 200, p.text);
      assert.equal(p.headers.get('x-cache-invalidation'), 'deferred');
      assert.ok(Date.now() - t0 < 4000, 'an error reply is not waited out (REDIS_DEAD_MS, 5 s) like a silent Redis');
      const own = await getFresh(w.url + path);
      assert.deepEqual([own.body.stock, own.headers.get('x-cache')], [before + 1, 'BYPASS']);
      await until('the other process serves the write', 10000, async () => {
        const g = await getFresh(r.url + path);
        stale = Date.now() - t0;
        return g.body.stock === before + 1;
      }, 50);
      console.log(`# Redis refusing the invalidation: the other process served the old entry for ${stale} ms (CACHE_TTL 3 s + L1_MAX_AGE_MS 1 s)`);
      assert.ok(stale <= 3000 + 1000 + 1000, `served old for ${stale} ms`);
    } finally {
      s.redisCli('CONFIG', 'SET', 'maxmemory', '64mb');
      s.redisCli('CONFIG', 'SET', 'maxmemory-policy', 'volatile-lru');
    }
    // the writer's retries land once Redis takes writes again: cached again
    await warmUp(w, path);
  } finally {
    for (const b of [w, r]) {
      await b.proc.stop();
      s.backends.splice(s.backends.indexOf(b), 1);
    }
  }
});

// The store path (MIRROR_MAX_PRODUCTS=0): with the catalogue in memory,
// uncached lists do not need MongoDB (the test after these).
test('MongoDB hung (SIGSTOP): cached keys HIT, others 503 + Retry-After within MONGO_TIMEOUT_MS, ready fail; recovers on SIGCONT', T, async (t) => {
  const b = await s.startBackend({ MONGO_TIMEOUT_MS: '1000', MIRROR_MAX_PRODUCTS: '0' });
  const keys = [freshProduct(), freshList(), '/api/categories'];
  const warm = {};
  for (const p of keys) warm[p] = await warmUp(b, p);

  s.mongo.signal('SIGSTOP');
  try {
    for (const p of keys) {
      const r = await getFresh(b.url + p, { timeoutMs: 5000 });
      assert.equal(r.status, 200, `${p}: ${r.text}`);
      assert.equal(r.headers.get('x-cache'), 'HIT', p);
      assert.equal(r.text, warm[p].text);
      assert.ok(r.ms < 1000, `${p}: a HIT never waits on MongoDB (${r.ms.toFixed(0)} ms)`);
    }
    const u = await getFresh(b.url + freshProduct(), { timeoutMs: 8000 });
    assertUnavailable(u, 'uncached product');
    assert.equal(u.headers.get('x-cache'), 'MISS');
    assert.ok(u.ms >= 900 && u.ms < 3000, `503 after ${u.ms.toFixed(0)} ms, MONGO_TIMEOUT_MS=1000`);
    t.diagnostic(`uncached read with MongoDB hung: 503 after ${u.ms.toFixed(0)} ms`);

    // several at once (more than the 4 workers): each within the bound
    const many = await Promise.all([freshProduct(), freshProduct(), freshList(), freshList(), freshProduct(), freshList()]
      .map((p) => getFresh(b.url + p, { timeoutMs: 8000 })));
    for (const r of many) {
      assertUnavailable(r, 'concurrent uncached');
      assert.ok(r.ms < 3000, `503 after ${r.ms.toFixed(0)} ms`);
    }
    // many waiting on one uncached key (one flight): each bounded the same way
    const same = freshProduct();
    const joined = await Promise.all(Array.from({ length: 5 }, () => getFresh(b.url + same, { timeoutMs: 8000 })));
    for (const r of joined) {
      assertUnavailable(r, 'same uncached key');
      assert.ok(r.ms < 3000, `503 after ${r.ms.toFixed(0)} ms`);
    }
    // cached keys are still served while the workers are stuck
    const hit = await getFresh(b.url + keys[0], { timeoutMs: 5000 });
    assert.equal(hit.headers.get('x-cache'), 'HIT');

    const rd = await getFresh(`${b.url}/health/ready`, { timeoutMs: 8000 });
    assertReady(rd, 503, 'fail', 'pass', 'fail');
    assert.ok(rd.ms < 1000 + 1500, `ready answered in ${rd.ms.toFixed(0)} ms (HEALTH_TIMEOUT_MS=1000)`);
    t.diagnostic(`ready with MongoDB hung: ${rd.ms.toFixed(0)} ms`);
    const live = await getFresh(`${b.url}/health`, { timeoutMs: 5000 });
    assert.equal(live.status, 200, 'liveness touches no dependency');
  } finally {
    s.mongo.signal('SIGCONT');
  }
  const t0 = Date.now();
  await until('uncached product 200 after SIGCONT', 10000, async () => {
    const r = await getFresh(b.url + freshProduct(), { timeoutMs: 8000 });
    return r.status === 200;
  }, 100);
  t.diagnostic(`MongoDB served again ${Date.now() - t0} ms after SIGCONT`);
  assertReady(await getFresh(`${b.url}/health/ready`), 200, 'pass', 'pass', 'pass');
  assert.equal((await b.proc.stop()).code, 0);
});

test('MongoDB killed: cached keys HIT, others 503 within the timeout; restarted on the same data, served again', T, async (t) => {
  const b = await s.startBackend({ MONGO_TIMEOUT_MS: '1000', MIRROR_MAX_PRODUCTS: '0' });
  const keys = [freshProduct(), freshList(), '/api/categories'];
  for (const p of keys) await warmUp(b, p);
  const count = (await getFresh(`${b.url}/api/products?limit=1&in_stock=true`)).body.count;

  await s.mongo.stop();
  try {
    for (const p of keys) {
      const r = await getFresh(b.url + p, { timeoutMs: 5000 });
      assert.equal(r.status, 200, p);
      assert.equal(r.headers.get('x-cache'), 'HIT', p);
    }
    for (const p of [freshProduct(), freshList()]) {
      const r = await getFresh(b.url + p, { timeoutMs: 8000 });
      assertUnavailable(r, p);
      assert.ok(r.ms < 3000, `${p}: 503 after ${r.ms.toFixed(0)} ms, MONGO_TIMEOUT_MS=1000`);
      t.diagnostic(`${p} with MongoDB killed: 503 after ${r.ms.toFixed(0)} ms`);
    }
    const rd = await getFresh(`${b.url}/health/ready`, { timeoutMs: 8000 });
    assertReady(rd, 503, 'fail', 'pass', 'fail');
    assert.ok(rd.ms < 2500, `ready answered in ${rd.ms.toFixed(0)} ms`);
  } finally {
    await s.startMongo();
  }
  const t0 = Date.now();
  await until('uncached product 200 after the restart', 10000, async () => {
    const r = await getFresh(b.url + freshProduct(), { timeoutMs: 8000 });
    return r.status === 200;
  }, 100);
  t.diagnostic(`MongoDB served again ${Date.now() - t0} ms after the restart`);
  const again = await getFresh(`${b.url}/api/products?limit=1&in_stock=true&order=price`);
  assert.equal(again.status, 200);
  assert.equal(again.body.count, count, 'same data after the restart');
  assert.equal((await b.proc.stop()).code, 0);
});

test('MongoDB hung: uncached lists and the categories are still answered from the catalogue in memory (no write can land meanwhile); an uncached product is 503', T, async () => {
  const b = await s.startBackend({ MONGO_TIMEOUT_MS: '1000' });
  await until('catalogue built', 10000, async () => (await stats(b)).catalogue.scans >= 1, 50);
  s.redisCli('DEL', '{products}:categories');
  s.mongo.signal('SIGSTOP');
  try {
    for (const p of [freshList(), '/api/categories']) {
      const r = await getFresh(b.url + p, { timeoutMs: 5000 });
      assert.equal(r.status, 200, `${p}: ${r.text}`);
      assert.equal(r.headers.get('x-cache'), 'MISS', p);
      assert.ok(r.ms < 1000, `${p}: ${r.ms.toFixed(0)} ms`);
    }
    assertUnavailable(await getFresh(b.url + freshProduct(), { timeoutMs: 8000 }), 'uncached product');
  } finally {
    s.mongo.signal('SIGCONT');
  }
  assert.equal((await b.proc.stop()).code, 0);
});

test('queue full (MONGO_WORKERS=1, MONGO_QUEUE_MAX=1): the overflow gets 503 + Retry-After at once, nothing hangs', T, async (t) => {
  const b = await s.startBackend({
    MONGO_WORKERS: '1', MONGO_QUEUE_MAX: '1', DEBUG_STORE_DELAY_MS: '1000', MONGO_TIMEOUT_MS: '4000',
  });
  await until('Redis up on the new backend', 5000, async () => (await stats(b)).cache.redis_connected);
  const before = (await stats(b)).store;

  const first = getFresh(b.url + freshProduct(), { timeoutMs: 10000 });
  await sleep(300); // the one worker has taken it and sleeps
  const rest = await Promise.all([freshProduct(), freshProduct(), freshList(), freshProduct(), freshList()]
    .map((p) => getFresh(b.url + p, { timeoutMs: 10000 })));
  const f = await first;
  assert.equal(f.status, 200, f.text);
  assert.equal(f.headers.get('x-cache'), 'MISS');

  const ok = rest.filter((r) => r.status === 200);
  const rejected = rest.filter((r) => r.status !== 200);
  assert.equal(ok.length, 1, 'one more fits in the queue and waits its turn');
  assert.equal(rejected.length, 4, 'the others are turned away');
  for (const r of rejected) {
    assertUnavailable(r, 'queue full');
    assert.equal(r.headers.get('retry-after'), '1');
    assert.ok(r.ms < 900, `a full queue answers at once, not after a wait (${r.ms.toFixed(0)} ms)`);
  }
  assert.ok(ok[0].ms > 1000 && ok[0].ms < 6000, `the queued one waited for the worker (${ok[0].ms.toFixed(0)} ms)`);
  const after = (await stats(b)).store;
  assert.equal(after.rejected - before.rejected, 4);
  assert.equal(after.queue_depth, 0);
  assert.equal((await b.proc.stop()).code, 0);
});

test('MongoDB and Redis both down: every read answers 503 within MONGO_TIMEOUT_MS; both come back', T, async (t) => {
  const short = await s.startBackend({ MONGO_TIMEOUT_MS: '1000' });
  const backends = [[short, 1000], [s.backend, 2000]];
  const cached = [freshProduct(), freshList(), '/api/categories'];
  for (const [b] of backends) for (const p of cached) await warmUp(b, p);

  await Promise.all([s.mongo.stop(), s.redis.stop()]);
  try {
    const runs = [];
    const slowest = {};
    for (const [b, timeout] of backends) {
      for (const p of [...cached, freshProduct(), freshList(), '/api/products?q=lamp']) {
        runs.push(getFresh(b.url + p, { timeoutMs: 10000 }).then((r) => {
          assertUnavailable(r, p);
          assert.equal(r.headers.get('x-cache'), 'BYPASS');
          assert.ok(r.ms < timeout + 1500, `${p}: 503 after ${r.ms.toFixed(0)} ms, MONGO_TIMEOUT_MS=${timeout}`);
          slowest[timeout] = Math.max(slowest[timeout] || 0, r.ms);
        }));
      }
      runs.push(getFresh(`${b.url}/health`, { timeoutMs: 5000 }).then((r) => {
        assert.equal(r.status, 200);
        assert.ok(r.ms < 1000);
      }));
      runs.push(getFresh(`${b.url}/health/ready`, { timeoutMs: 8000 }).then((r) => {
        assertReady(r, 503, 'fail', 'warn', 'fail');
        assert.ok(r.ms < 2500, `ready answered in ${r.ms.toFixed(0)} ms`);
      }));
    }
    await Promise.all(runs);
    t.diagnostic(`slowest 503: ${Object.entries(slowest).map(([k, v]) => `${v.toFixed(0)} ms (MONGO_TIMEOUT_MS=${k})`).join(', ')}`);
  } finally {
    await Promise.all([s.startMongo(), s.startRedis()]);
  }
  for (const [b] of backends) {
    await until(`:${b.port} serves from MongoDB again`, 10000, async () => {
      const r = await getFresh(b.url + freshProduct(), { timeoutMs: 8000 });
      return r.status === 200;
    }, 100);
    await redisBack(b, 6000);
  }
});
