// The Redis cache, black-box: keys, stored bytes, TTLs, the generation,
// round trips per hit (seen with MONITOR), negative caching, corrupted
// values, and single-flight (one MongoDB job per key, also with Redis down),
// against Redis + FerretDB + the real backend.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { sanitized, sleep, startStack } from './lib/stack.mjs';

let s;
let B; // the default backend (CACHE_TTL 300)
const ids = []; // product ids from the seed, each test takes its own
before(async () => {
  s = await startStack();
  B = s.backend.url;
  const r = await hget(`${B}/api/products?limit=100&order=name`);
  assert.equal(r.status, 200);
  ids.push(...JSON.parse(r.body).products.map((p) => p.id));
});
after(async () => {
  if (conn) conn.close();
  if (s) await s.stop();
});

const GEN_KEY = '{products}:gen';
const productKey = (id) => `product:${id}`;
const listKey = (gen, canon) => `{products}:list:${gen}:${canon}`;
const categoriesKey = (gen) => `{products}:categories:${gen}`;
const ABSENT_ID = 'fffffffffffffffffffff0f0';
const takeId = () => {
  assert.ok(ids.length > 0, 'ran out of seed product ids');
  return ids.shift();
};

// ---------------------------------------------------------------- helpers --

// A GET on its own TCP connection (no pool): status, lower-case headers, raw body bytes.
function hget(url, ms = 15000) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(ms, () => req.destroy(new Error(`GET ${url}: no answer within ${ms} ms`)));
    req.on('error', reject);
    req.end();
  });
}

// Polls fn until it returns a truthy value; throws after ms.
async function until(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(25);
  }
}

// A minimal, binary-safe RESP2 client, so that the test can read stored
// bytes exactly and ask many things quickly.
function parseResp(buf, pos) {
  if (pos >= buf.length) return null;
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('latin1', pos + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+': return { value: line, pos: next };
    case '-': return { value: new RespError(line), pos: next };
    case ':': return { value: Number(line), pos: next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, pos: next };
      if (buf.length < next + n + 2) return null;
      return { value: buf.subarray(next, next + n), pos: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, pos: next };
      const out = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parseResp(buf, p);
        if (!r) return null;
        out.push(r.value);
        p = r.pos;
      }
      return { value: out, pos: p };
    }
    default: throw new Error(`bad RESP type byte ${type}`);
  }
}

class RespError extends Error {}

class RedisConn {
  constructor(port) {
    this.port = port;
    this.buf = Buffer.alloc(0);
    this.pending = [];
    this.closed = false;
  }

  open() {
    return new Promise((resolve, reject) => {
      this.sock = net.connect(this.port, '127.0.0.1', () => resolve(this));
      this.sock.once('error', reject);
      this.sock.on('data', (d) => this.onData(d));
      const fail = (e) => {
        this.closed = true;
        for (const p of this.pending.splice(0)) p.reject(e || new Error('redis connection closed'));
      };
      this.sock.on('error', fail);
      this.sock.on('close', () => fail());
    });
  }

  onData(d) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.pending.length) {
      const r = parseResp(this.buf, 0);
      if (!r) break;
      this.buf = this.buf.subarray(r.pos);
      const p = this.pending.shift();
      if (r.value instanceof RespError) p.reject(r.value);
      else p.resolve(r.value);
    }
  }

  // Sends commands pipelined; resolves with their replies.
  pipeline(cmds, ms = 5000) {
    const parts = [];
    const replies = cmds.map((args) => {
      parts.push(Buffer.from(`*${args.length}\r\n`));
      for (const a of args) {
        const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
        parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
      }
      return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
    });
    this.sock.write(Buffer.concat(parts));
    let t;
    const timeout = new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`redis: no reply within ${ms} ms`)), ms);
    });
    return Promise.race([Promise.all(replies), timeout]).finally(() => clearTimeout(t));
  }

  close() {
    this.closed = true;
    if (this.sock) this.sock.destroy();
  }
}

let conn;
async function redisConn() {
  if (!conn || conn.closed) conn = await new RedisConn(s.redisPort).open();
  return conn;
}
// One command; bulk strings come back as Buffers.
async function R(...args) {
  return (await (await redisConn()).pipeline([args]))[0];
}
// One command; bulk strings as text.
async function RS(...args) {
  const v = await R(...args);
  return Buffer.isBuffer(v) ? v.toString('utf8') : v;
}
async function pipelineS(cmds) {
  const out = await (await redisConn()).pipeline(cmds);
  return out.map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v));
}

async function scanKeys(pattern) {
  const keys = [];
  let cursor = '0';
  for (let i = 0; i < 10000; i++) {
    const [c, batch] = await R('SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000);
    keys.push(...batch.map((k) => k.toString('utf8')));
    cursor = c.toString();
    if (cursor === '0') return keys.sort();
  }
  throw new Error('SCAN did not finish');
}

const gen = () => RS('GET', GEN_KEY);

// Splits a stored value "CE1 <status> <etag len> <link len> <body len>\n<etag><link><body>".
function decodeEntry(buf) {
  assert.ok(Buffer.isBuffer(buf), 'the key holds a value');
  const nl = buf.indexOf('\n');
  assert.ok(nl > 0, 'stored value has a header line');
  const m = /^CE1 (\d+) (\d+) (\d+) (\d+)$/.exec(buf.toString('latin1', 0, nl));
  assert.ok(m, `stored value header: ${JSON.stringify(buf.toString('latin1', 0, Math.min(nl, 80)))}`);
  const [status, el, ll, bl] = m.slice(1).map(Number);
  const p = nl + 1;
  assert.equal(buf.length, p + el + ll + bl, 'stored lengths add up');
  return {
    status,
    etag: buf.toString('latin1', p, p + el),
    link: buf.toString('latin1', p + el, p + el + ll),
    body: buf.subarray(p + el + ll),
  };
}

async function stats(url) {
  const r = await hget(`${url}/api/stats`);
  assert.equal(r.status, 200);
  return JSON.parse(r.body);
}

// Fires all urls at once, each on its own TCP connection (so that both loop threads take some).
async function burst(urls) {
  return Promise.all(urls.map((u) => hget(u, 30000)));
}

// --------------------------------------------------------------- 1. miss then hit --

describe('miss then hit, for every read', () => {
  // Checks MISS → HIT with the same bytes, the TTL of the exact key right after
  // the miss, and that the hit sends the stored bytes as they are.
  async function missThenHit(url, keyOf) {
    const miss = await hget(url);
    assert.equal(miss.status, 200, miss.body.toString());
    assert.equal(miss.headers['x-cache'], 'MISS');
    assert.equal(miss.headers['content-type'], 'application/json');
    const key = await keyOf();
    const ttl = await R('TTL', key);
    assert.ok(ttl >= 290 && ttl <= 300, `TTL of ${key} right after the miss is ${ttl} (keys: ${
      (await scanKeys('*')).join(', ')})`);

    const hit = await hget(url);
    assert.equal(hit.status, 200);
    assert.equal(hit.headers['x-cache'], 'HIT');
    assert.equal(hit.headers['content-type'], 'application/json');
    assert.ok(hit.headers.etag, 'a hit has an ETag');
    assert.equal(hit.headers.etag, miss.headers.etag);
    assert.equal(hit.headers.link, miss.headers.link);
    assert.ok(hit.body.equals(miss.body), 'hit body is the miss body, byte for byte');

    const stored = decodeEntry(await R('GET', key));
    assert.equal(stored.status, 200);
    assert.ok(hit.body.equals(stored.body), 'hit body is the stored body, byte for byte');
    assert.equal(stored.etag, hit.headers.etag);
    assert.equal(stored.link, hit.headers.link ?? '');
    return { miss, hit, key };
  }

  test('list: /api/products?limit=7&order=price', async () => {
    const { hit } = await missThenHit(`${B}/api/products?limit=7&order=price`,
      async () => listKey(await gen(), 'limit=7&offset=0&order=price'));
    const body = JSON.parse(hit.body);
    assert.equal(body.products.length, 7);
    assert.match(hit.headers.link, /rel="next"/);
  });

  test('product: /api/products/{id}', async () => {
    const id = takeId();
    const { hit } = await missThenHit(`${B}/api/products/${id}`, async () => productKey(id));
    assert.equal(JSON.parse(hit.body).id, id);
    assert.match(hit.headers.etag, /^"v\d+"$/);
  });

  test('categories: /api/categories', async () => {
    const { hit } = await missThenHit(`${B}/api/categories`, async () => categoriesKey(await gen()));
    assert.ok(JSON.parse(hit.body).categories.length > 0);
  });
});

// --------------------------------------------------------------- 2. normalisation --

describe('one key per canonical query', () => {
  test('order, spelled-out defaults, duplicate categories and price spelling → one key, HIT', async () => {
    const variants = [
      'q=mug&min_price=1.50&category=toys&category=books&category=toys',
      'category=books&category=toys&limit=20&min_price=1.5&offset=0&order=-created_at&q=mug',
      'order=-created_at&category=toys&q=mug&offset=0&category=books&min_price=1.5&limit=20&category=books',
      'min_price=1.5&&category=toys&q=mug&category=books',
    ];
    const first = await hget(`${B}/api/products?${variants[0]}`);
    assert.equal(first.status, 200, first.body.toString());
    assert.equal(first.headers['x-cache'], 'MISS');
    for (const v of variants.slice(1)) {
      const r = await hget(`${B}/api/products?${v}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-cache'], 'HIT', `?${v}`);
      assert.ok(r.body.equals(first.body), `?${v}: same body`);
      assert.equal(r.headers.etag, first.headers.etag);
    }
    const g = await gen();
    const keys = (await scanKeys('{products}:list:*')).filter((k) => k.includes('q=mug'));
    assert.deepEqual(keys, [listKey(g,
      'category=books&category=toys&limit=20&min_price=1.5&offset=0&order=-created_at&q=mug')]);
  });

  test('the default list: no parameters = all defaults spelled out', async () => {
    const variants = ['', '?limit=20', '?order=-created_at&offset=0', '?offset=0&limit=20&order=-created_at'];
    const bodies = [];
    for (const v of variants) {
      const r = await hget(`${B}/api/products${v}`);
      assert.equal(r.status, 200);
      if (bodies.length) assert.equal(r.headers['x-cache'], 'HIT', `/api/products${v}`);
      bodies.push(r.body);
    }
    assert.ok(bodies.every((b) => b.equals(bodies[0])));
    const g = await gen();
    const keys = (await scanKeys(`{products}:list:${g}:*`)).filter((k) => !/category=|q=|price=|in_stock=/.test(k) &&
      k.includes('limit=20&') && k.endsWith('order=-created_at'));
    assert.deepEqual(keys, [listKey(g, 'limit=20&offset=0&order=-created_at')]);
  });
});

// --------------------------------------------------------------- 3. round trips --

// Runs fn while `redis-cli monitor` records; returns the commands Redis got
// from clients other than this test's own connection and the Lua context.
async function monitored(fn) {
  const child = spawn('redis-cli', ['-p', String(s.redisPort), 'monitor'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await until(() => out.startsWith('OK'), 5000, 'redis-cli monitor');
    const c = await redisConn();
    const mine = `127.0.0.1:${c.sock.localPort}`;
    await fn();
    await sleep(sanitized ? 300 : 150); // anything the backend still sends for that request
    const marker = `cache-test-marker-${process.pid}-${Date.now()}`;
    await R('ECHO', marker);
    await until(() => out.includes(marker), 5000, 'marker in the monitor output');
    const lines = out.split('\n').slice(1);
    const cmds = [];
    for (const line of lines) {
      if (line.includes(marker)) break;
      const m = /^\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
      if (!m) continue;
      const [, from, cmd] = m;
      if (from === 'lua' || from.endsWith(' lua') || from === mine) continue;
      cmds.push({ from, cmd });
    }
    return cmds;
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(2000)]);
  }
}

describe('a hit costs one Redis round trip', () => {
  test('list hit: exactly one EVALSHA', async () => {
    const url = `${B}/api/products?limit=3&order=name&offset=3`;
    await hget(url);
    await until(async () => (await R('EXISTS', listKey(await gen(), 'limit=3&offset=3&order=name'))) === 1, 5000,
      'list key filled');
    let r;
    const cmds = await monitored(async () => { r = await hget(url); });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-cache'], 'HIT');
    assert.equal(cmds.length, 1, `commands from the backend: ${JSON.stringify(cmds, null, 1)}`);
    assert.match(cmds[0].cmd, /^"EVALSHA" "[0-9a-f]{40}" "1" "\{products\}:gen"/i);
    assert.ok(cmds[0].cmd.includes('limit=3&offset=3&order=name'), cmds[0].cmd);
  });

  test('product hit: exactly one GET', async () => {
    const id = takeId();
    const url = `${B}/api/products/${id}`;
    await hget(url);
    await until(async () => (await R('EXISTS', productKey(id))) === 1, 5000, 'product key filled');
    let r;
    const cmds = await monitored(async () => { r = await hget(url); });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-cache'], 'HIT');
    assert.deepEqual(cmds.map((c) => c.cmd), [`"GET" "product:${id}"`]);
  });

  test('categories hit: exactly one EVALSHA', async () => {
    const url = `${B}/api/categories`;
    await hget(url);
    const second = await hget(url);
    assert.equal(second.headers['x-cache'], 'HIT');
    let r;
    const cmds = await monitored(async () => { r = await hget(url); });
    assert.equal(r.headers['x-cache'], 'HIT');
    assert.equal(cmds.length, 1, `commands from the backend: ${JSON.stringify(cmds, null, 1)}`);
    assert.match(cmds[0].cmd, /^"EVALSHA" "[0-9a-f]{40}" "1" "\{products\}:gen"/i);
  });
});

// --------------------------------------------------------------- 4. jitter --

describe('TTL jitter', () => {
  test('CACHE_TTL=100, CACHE_TTL_JITTER_PCT=3: fresh keys live 97..100 s, not all the same', async () => {
    const J = await s.startBackend({ CACHE_TTL: '100', CACHE_TTL_JITTER_PCT: '3' });
    const n = 30;
    const g = await gen();
    const reqs = [];
    for (let i = 0; i < n; i++) {
      const t0 = Date.now();
      const r = await hget(`${J.url}/api/products?limit=2&order=price&offset=${900 + i}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-cache'], 'MISS');
      reqs.push({ t0, t1: Date.now(), key: listKey(g, `limit=2&offset=${900 + i}&order=price`) });
    }
    // the fill is sent before the answer; wait until every key is there
    await until(async () => (await pipelineS(reqs.map((q) => ['EXISTS', q.key]))).every((x) => x === 1), 5000,
      'every list key filled');
    const tSend = Date.now();
    const pttl = await pipelineS(reqs.map((q) => ['PTTL', q.key]));
    const ttls = pttl.map((ms, i) => {
      assert.ok(ms > 0, `${reqs[i].key} has a TTL (${ms})`);
      // the TTL set = PTTL + time since the SET; the SET happened between t0 and t1
      return Math.round((ms + (tSend - reqs[i].t1)) / 1000);
    });
    for (const t of ttls) assert.ok(t >= 97 && t <= 100, `TTLs ${ttls.join(' ')}`);
    assert.ok(new Set(ttls).size > 1, `jitter spreads the TTLs: ${ttls.join(' ')}`);
    // and a product and the categories get the same treatment
    const id = takeId();
    assert.equal((await hget(`${J.url}/api/products/${id}`)).status, 200);
    const ttl = await until(async () => { const t = await R('TTL', productKey(id)); return t > 0 && t; }, 5000,
      'product key filled');
    assert.ok(ttl >= 96 && ttl <= 100, `product TTL ${ttl}`);
  });
});

// --------------------------------------------------------------- 5. negative cache --

describe('negative cache', () => {
  test('an absent id: 404 MISS, then 404 HIT, for at most CACHE_NEGATIVE_TTL (15 s)', async () => {
    const url = `${B}/api/products/${ABSENT_ID}`;
    const miss = await hget(url);
    assert.equal(miss.status, 404);
    assert.equal(miss.headers['x-cache'], 'MISS');
    assert.equal(miss.headers['content-type'], 'application/problem+json');
    assert.equal(JSON.parse(miss.body).type, '/problems/not-found');
    const ttl = await R('TTL', productKey(ABSENT_ID));
    assert.ok(ttl > 0 && ttl <= 15, `TTL of the not-found marker: ${ttl}`);
    const stored = decodeEntry(await R('GET', productKey(ABSENT_ID)));
    assert.equal(stored.status, 404);

    const hit = await hget(url);
    assert.equal(hit.status, 404);
    assert.equal(hit.headers['x-cache'], 'HIT');
    assert.equal(hit.headers['content-type'], 'application/problem+json');
    const problem = JSON.parse(hit.body);
    assert.equal(problem.type, '/problems/not-found');
    assert.equal(problem.status, 404);
    assert.ok(problem.detail.includes(ABSENT_ID), problem.detail);
    assert.equal(problem.instance, hit.headers['x-request-id']);
  });

  test('upper-case hex of an absent id uses the same marker', async () => {
    const r = await hget(`${B}/api/products/${ABSENT_ID.toUpperCase()}`);
    assert.equal(r.status, 404);
    assert.equal(r.headers['x-cache'], 'HIT');
  });

  test('CACHE_NEGATIVE_TTL=3 is honoured', async () => {
    const N = await s.startBackend({ CACHE_NEGATIVE_TTL: '3' });
    const id = 'fffffffffffffffffffff0f1';
    const r = await hget(`${N.url}/api/products/${id}`);
    assert.equal(r.status, 404);
    assert.equal(r.headers['x-cache'], 'MISS');
    const ttl = await R('TTL', productKey(id));
    assert.ok(ttl > 0 && ttl <= 3, `TTL ${ttl}`);
  });
});

// --------------------------------------------------------------- 6. corrupted values --

describe('a value that is not a valid entry is a miss and is overwritten', () => {
  const junk = (valid) => [
    ['JSON without the header', Buffer.from('{"id":"x"}')],
    ['empty', Buffer.alloc(0)],
    ['truncated', valid.subarray(0, valid.length - 5)],
    ['one byte too many', Buffer.concat([valid, Buffer.from('}')])],
    ['a status that is never stored', Buffer.from(valid.toString('latin1').replace(/^CE1 200/, 'CE1 500'), 'latin1')],
    ['lengths that lie', Buffer.from('CE1 200 4 0 99999\n"v1"{}')],
    ['a huge length', Buffer.from('CE1 200 4 0 99999999999999999999\n"v1"{}')],
    ['header only', Buffer.from('CE1 200 ')],
  ];

  async function check(url, key) {
    const good = await hget(url);
    assert.equal(good.status, 200);
    const valid = await until(() => R('GET', key), 5000, `${key} filled`);
    for (const [what, bytes] of junk(valid)) {
      await R('SET', key, bytes);
      const r = await hget(url);
      assert.equal(r.status, 200, `${what}: ${r.body}`);
      assert.equal(r.headers['x-cache'], 'MISS', what);
      assert.ok(r.body.equals(good.body), `${what}: the right body`);
      assert.equal(r.headers.etag, good.headers.etag, what);
      const refilled = await until(async () => {
        const v = await R('GET', key);
        return v && v.toString('latin1').startsWith('CE1 200') && v;
      }, 5000, `${what}: ${key} refilled with a valid entry`);
      assert.ok(decodeEntry(refilled).body.equals(good.body), what);
      const ttl = await R('TTL', key);
      assert.ok(ttl > 0 && ttl <= 300, `${what}: TTL after the refill ${ttl}`);
      const again = await hget(url);
      assert.equal(again.headers['x-cache'], 'HIT', `${what}: then a hit`);
      assert.ok(again.body.equals(good.body));
    }
  }

  test('product', async () => {
    const id = takeId();
    await check(`${B}/api/products/${id}`, productKey(id));
  });

  test('list', async () => {
    await check(`${B}/api/products?limit=4&offset=8&order=-price`, listKey(await gen(), 'limit=4&offset=8&order=-price'));
  });
});

// --------------------------------------------------------------- 7. generation --

describe('the list generation', () => {
  test('Redis is a bounded cache: volatile-lru and a maxmemory', async () => {
    const [, policy] = (await R('CONFIG', 'GET', 'maxmemory-policy')).map(String);
    assert.equal(policy, 'volatile-lru');
    const [, maxmemory] = (await R('CONFIG', 'GET', 'maxmemory')).map(String);
    assert.ok(Number(maxmemory) > 0, `maxmemory ${maxmemory}`);
  });

  test('the generation is a ms clock value with no TTL; every other key has a TTL', async () => {
    await hget(`${B}/api/products`);
    const g = Number(await gen());
    assert.ok(g > 1.7e12 && g <= Date.now() + 1000, `generation ${g}`);
    assert.equal(await R('TTL', GEN_KEY), -1);
    const keys = (await scanKeys('*')).filter((k) => k !== GEN_KEY);
    assert.ok(keys.length > 0);
    const ttls = await pipelineS(keys.map((k) => ['TTL', k]));
    // SET by this test file to junk above, then refilled: all have a TTL again
    keys.forEach((k, i) => assert.ok(ttls[i] > 0, `${k} has TTL ${ttls[i]}: never evicted under volatile-lru`));
  });

  test('INCR retires every list and the categories', async () => {
    const list = `${B}/api/products?limit=6&offset=1`;
    await hget(list);
    await hget(`${B}/api/categories`);
    assert.equal((await hget(list)).headers['x-cache'], 'HIT');
    assert.equal((await hget(`${B}/api/categories`)).headers['x-cache'], 'HIT');
    const g0 = await gen();
    const g1 = String(await R('INCR', GEN_KEY));
    const r = await hget(list);
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-cache'], 'MISS', 'the list of the old generation is ignored');
    assert.equal((await hget(`${B}/api/categories`)).headers['x-cache'], 'MISS');
    assert.equal(await gen(), g1);
    await until(async () => (await R('EXISTS', listKey(g1, 'limit=6&offset=1&order=-created_at'))) === 1, 5000,
      'list filled under the new generation');
    assert.equal(await R('EXISTS', listKey(g0, 'limit=6&offset=1&order=-created_at')), 1, 'old key left to expire');
    assert.equal((await hget(list)).headers['x-cache'], 'HIT');
  });

  test('a lost generation restarts from the clock, never from 1, and never goes back', async () => {
    const list = `${B}/api/products?limit=6&offset=2`;
    await hget(list);
    assert.equal((await hget(list)).headers['x-cache'], 'HIT');
    const before = Number(await R('INCR', GEN_KEY)); // a few ms ahead of the clock it came from
    await hget(list); // fill under `before`
    assert.equal((await hget(list)).headers['x-cache'], 'HIT');
    await sleep(5);
    assert.equal(await R('DEL', GEN_KEY), 1);
    const r = await hget(list);
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-cache'], 'MISS');
    const g = Number(await gen());
    assert.ok(g > 1.7e12, `new generation ${g} is a ms clock value`);
    assert.ok(g > before, `new generation ${g} is above the lost one ${before}`);
    assert.equal(await R('TTL', GEN_KEY), -1);
    const c = await hget(`${B}/api/categories`);
    assert.equal(c.headers['x-cache'], 'MISS');
  });
});

// --------------------------------------------------------------- 8, 9. single-flight --

describe('single-flight: one MongoDB job per key per process', () => {
  const DELAY = 800;
  let D; // a backend whose every MongoDB job takes DELAY ms
  before(async () => {
    D = await s.startBackend({ DEBUG_STORE_DELAY_MS: String(DELAY), THREADS: '2', MONGO_TIMEOUT_MS: '5000' });
  });

  // 100 concurrent requests (urls cycled); returns the answers and the change in store.jobs.
  async function cold(urls, n = 100) {
    const before0 = await stats(D.url);
    const t0 = Date.now();
    const all = await burst(Array.from({ length: n }, (_, i) => urls[i % urls.length]));
    const took = Date.now() - t0;
    const after0 = await stats(D.url);
    assert.equal(after0.store.flights, 0, 'no flight left over');
    return { all, jobs: after0.store.jobs - before0.store.jobs, took, stats: after0 };
  }

  function sameAnswer(all, xcache) {
    for (const r of all) {
      assert.equal(r.status, 200, r.body.toString());
      assert.equal(r.headers['x-cache'], xcache);
      assert.ok(r.body.equals(all[0].body), 'identical bodies');
      assert.equal(r.headers.etag, all[0].headers.etag);
    }
  }

  test('100 cold requests for one product → one job, 100 identical answers, value stored before the answers', async () => {
    const id = takeId();
    await R('DEL', productKey(id));
    const { all, jobs, took } = await cold([`${D.url}/api/products/${id}`, `${D.url}/api/products/${id.toUpperCase()}`]);
    sameAnswer(all, 'MISS');
    assert.equal(JSON.parse(all[0].body).id, id);
    assert.equal(jobs, 1, `store.jobs went up by ${jobs} (took ${took} ms)`);
    assert.equal(await R('EXISTS', productKey(id)), 1, 'the value is SET before the waiters are answered');
    const hit = await hget(`${D.url}/api/products/${id}`);
    assert.equal(hit.headers['x-cache'], 'HIT');
    assert.ok(hit.body.equals(all[0].body));
  });

  test('100 cold requests for one list (any spelling) → one job', async () => {
    const urls = [
      `${D.url}/api/products?limit=5&offset=701`,
      `${D.url}/api/products?offset=701&order=-created_at&limit=5`,
      `${D.url}/api/products?order=-created_at&limit=5&offset=701`,
    ];
    const { all, jobs, took } = await cold(urls);
    sameAnswer(all, 'MISS');
    assert.equal(JSON.parse(all[0].body).offset, 701);
    assert.equal(jobs, 1, `store.jobs went up by ${jobs} (took ${took} ms)`);
    assert.equal(await R('EXISTS', listKey(await gen(), 'limit=5&offset=701&order=-created_at')), 1,
      'the value is SET before the waiters are answered');
  });

  test('different keys in flight at once → one job per key (3 keys × 20)', async () => {
    await R('INCR', GEN_KEY); // lists and categories cold
    const id = takeId();
    await R('DEL', productKey(id));
    const urls = [`${D.url}/api/products/${id}`, `${D.url}/api/products?limit=5&offset=702`, `${D.url}/api/categories`];
    const { all, jobs, took } = await cold(urls, 60);
    for (let k = 0; k < 3; k++) sameAnswer(all.filter((_, i) => i % 3 === k), 'MISS');
    assert.equal(JSON.parse(all[0].body).id, id);
    assert.equal(JSON.parse(all[1].body).offset, 702);
    assert.ok(JSON.parse(all[2].body).categories.length > 0);
    assert.equal(jobs, 3, `store.jobs went up by ${jobs} (took ${took} ms)`);
  });

  test('with Redis down: all BYPASS, still one job per key; the backends reconnect when it is back', async () => {
    const id = takeId();
    await s.redis.stop();
    if (conn) conn.close();
    try {
      // both backends notice at once: the connection is closed by the server
      const p = await cold([`${D.url}/api/products/${id}`]);
      sameAnswer(p.all, 'BYPASS');
      assert.equal(JSON.parse(p.all[0].body).id, id);
      assert.equal(p.jobs, 1, `product: store.jobs went up by ${p.jobs} (took ${p.took} ms)`);
      assert.equal(p.stats.cache.redis_connected, false);

      const l = await cold([`${D.url}/api/products?limit=5&offset=703`, `${D.url}/api/products?offset=703&limit=5`]);
      sameAnswer(l.all, 'BYPASS');
      assert.equal(l.jobs, 1, `list: store.jobs went up by ${l.jobs} (took ${l.took} ms)`);

      const c = await cold([`${D.url}/api/categories`], 50);
      sameAnswer(c.all, 'BYPASS');
      assert.equal(c.jobs, 1, `categories: store.jobs went up by ${c.jobs} (took ${c.took} ms)`);
    } finally {
      if (!s.redis.alive()) await s.startRedis();
    }
    // every backend of the stack is back on Redis within a bounded time
    for (const b of s.backends) {
      const url = `${b.url}/api/products/${id}`;
      const r = await until(async () => {
        const x = await hget(url);
        assert.equal(x.status, 200);
        return x.headers['x-cache'] !== 'BYPASS' && x;
      }, 8000, `backend ${b.port} reconnects to Redis`);
      assert.ok(['MISS', 'HIT'].includes(r.headers['x-cache']));
    }
    const hit = await until(async () => {
      const x = await hget(`${B}/api/products/${id}`);
      return x.headers['x-cache'] === 'HIT' && x;
    }, 5000, 'a hit after the reconnect');
    assert.equal(JSON.parse(hit.body).id, id);
    assert.equal((await stats(D.url)).cache.redis_connected, true);
  });
});
