// The Redis cache, black-box: keys, stored bytes, TTLs, the generation
// (stamped into list and categories values, guarded fills), round trips per
// hit (seen with MONITOR), negative caching, corrupted values, and
// single-flight (one MongoDB job per key, also with Redis down), against
// Redis + FerretDB + the real backend.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { sanitized, sleep, startStack, until } from './lib/stack.mjs';

let s;
let B; // the default backend (CACHE_TTL 300)
const ids = []; // product ids from the seed, each test takes its own
before(async () => {
  // the Redis layer on its own: L1_BYTES=0 turns the in-process cache off,
  // and then everything here holds as it did before it (tests/l1.test.mjs)
  s = await startStack({ backendEnv: { L1_BYTES: '0' } });
  B = s.backend.url;
  const r = await hget(`${B}/api/products?limit=100&order=name`);
  assert.equal(r.status, 200);
  ids.push(...JSON.parse(r.body).products.map((p) => p.id));
  await waitFor(gen, 5000, 'the list generation'); // created by the first list read
});
after(async () => {
  if (conn) conn.close();
  if (s) await s.stop();
});

const GEN_KEY = '{products}:gen';
const productKey = (id) => `{products}:product:${id}`;
const listKey = (canon) => `{products}:list:${canon}`;
const CATEGORIES_KEY = '{products}:categories';
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

// (fn, ms, what) order, as this file calls it
const waitFor = (fn, ms, what) => until(what, ms, fn, 25);

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

// Splits a stored value "CE1 <status> <gen> <etag len> <link len> <body len>\n<etag><link><body>".
function decodeEntry(buf) {
  assert.ok(Buffer.isBuffer(buf), 'the key holds a value');
  const nl = buf.indexOf('\n');
  assert.ok(nl > 0, 'stored value has a header line');
  const m = /^CE1 (\d+) (\d+) (\d+) (\d+) (\d+)$/.exec(buf.toString('latin1', 0, nl));
  assert.ok(m, `stored value header: ${JSON.stringify(buf.toString('latin1', 0, Math.min(nl, 80)))}`);
  const [status, , el, ll, bl] = m.slice(1).map(Number);
  const p = nl + 1;
  assert.equal(buf.length, p + el + ll + bl, 'stored lengths add up');
  return {
    status,
    gen: m[2],
    etag: buf.toString('latin1', p, p + el),
    link: buf.toString('latin1', p + el, p + el + ll),
    body: buf.subarray(p + el + ll),
  };
}

// decodeEntry, or null when the bytes are not a valid entry.
function tryDecode(buf) {
  try {
    return decodeEntry(buf);
  } catch {
    return null;
  }
}

// Waits (bounded) until key holds a valid entry that pred accepts; returns it.
// The fill is sent before the answer, but may reach Redis a moment after it:
// see the test 'the value is in Redis when the answer arrives'.
async function filled(key, pred = () => true, ms = 3000) {
  return waitFor(async () => {
    const v = await R('GET', key);
    const e = v && tryDecode(v);
    return e && pred(e) && e;
  }, ms, `${key} filled`);
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
  async function missThenHit(url, key, { stamped }) {
    const miss = await hget(url);
    assert.equal(miss.status, 200, miss.body.toString());
    assert.equal(miss.headers['x-cache'], 'MISS');
    assert.equal(miss.headers['content-type'], 'application/json');
    await filled(key);
    const ttl = await R('TTL', key);
    assert.ok(ttl >= 290 && ttl <= 300, `TTL of ${key} right after the miss is ${ttl}`);

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
    if (stamped) assert.equal(stored.gen, await gen(), 'stamped with the current generation');
    return { miss, hit };
  }

  test('list: /api/products?limit=7&order=price', async () => {
    const { hit } = await missThenHit(`${B}/api/products?limit=7&order=price`, listKey('limit=7&offset=0&order=price'),
      { stamped: true });
    const body = JSON.parse(hit.body);
    assert.equal(body.products.length, 7);
    assert.match(hit.headers.link, /rel="next"/);
  });

  test('product: /api/products/{id}', async () => {
    const id = takeId();
    const { hit } = await missThenHit(`${B}/api/products/${id}`, productKey(id), { stamped: false });
    assert.equal(JSON.parse(hit.body).id, id);
    assert.match(hit.headers.etag, /^"v\d+"$/);
  });

  test('categories: /api/categories', async () => {
    const { hit } = await missThenHit(`${B}/api/categories`, CATEGORIES_KEY, { stamped: true });
    assert.ok(JSON.parse(hit.body).categories.length > 0);
  });
});

describe('the value is in Redis when the answer arrives (README: SET before the waiters are answered)', () => {
  test('30 product misses and 30 list misses: the key exists as soon as each MISS is received', async () => {
    const late = [];
    for (let i = 0; i < 30; i++) {
      const id = takeId();
      const p = await hget(`${B}/api/products/${id}`);
      assert.equal(p.headers['x-cache'], 'MISS');
      if ((await R('EXISTS', productKey(id))) !== 1) late.push(productKey(id));
      const l = await hget(`${B}/api/products?limit=1&offset=${1000 + i}`);
      assert.equal(l.headers['x-cache'], 'MISS');
      const lk = listKey(`limit=1&offset=${1000 + i}&order=-created_at`);
      if ((await R('EXISTS', lk)) !== 1) late.push(lk);
    }
    assert.deepEqual(late, [], `${late.length} of 60 keys were not in Redis yet when the MISS answer had arrived`);
  });
});

// --------------------------------------------------------------- 2. normalisation --

describe('one key per canonical query', () => {
  test('order, spelled-out defaults, duplicate categories and price spelling → one key, HIT', async () => {
    const variants = [
      'q=mug&min_price=1.50&category=toys-games&category=books&category=toys-games',
      'category=books&category=toys-games&limit=20&min_price=1.5&offset=0&order=-created_at&q=mug',
      'order=-created_at&category=toys-games&q=mug&offset=0&category=books&min_price=1.5&limit=20&category=books',
      'min_price=1.5&&category=toys-games&q=mug&category=books',
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
    const keys = (await scanKeys('{products}:list:*')).filter((k) => k.includes('q=mug'));
    assert.deepEqual(keys, [listKey('category=books&category=toys-games&limit=20&min_price=1.5&offset=0&order=-created_at&q=mug')]);
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
    const keys = (await scanKeys('{products}:list:*')).filter((k) => !/category=|q=|price=|in_stock=/.test(k) &&
      k.includes('limit=20&') && k.endsWith('order=-created_at'));
    assert.deepEqual(keys, [listKey('limit=20&offset=0&order=-created_at')]);
  });
});

// --------------------------------------------------------------- 3. round trips --

// Runs fn while `redis-cli monitor` records; returns the commands Redis got
// from clients other than this test's own connection, the Lua context and
// the change feed's reader (its own connection, named catalog-feed, blocked
// in XREAD and sending the next one whenever a block ends).
async function monitored(fn) {
  const child = spawn('redis-cli', ['-p', String(s.redisPort), 'monitor'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => { out += d; });
  const exited = new Promise((r) => child.once('exit', r));
  try {
    await waitFor(() => out.startsWith('OK'), 5000, 'redis-cli monitor');
    const c = await redisConn();
    const mine = `127.0.0.1:${c.sock.localPort}`;
    await fn();
    await sleep(sanitized ? 300 : 150); // anything the backend still sends for that request
    const marker = `cache-test-marker-${process.pid}-${Date.now()}`;
    await R('ECHO', marker);
    await waitFor(() => out.includes(marker), 5000, 'marker in the monitor output');
    const readers = (await RS('CLIENT', 'LIST')).split('\n').filter((l) => / name=catalog-feed /.test(l))
      .map((l) => / addr=(\S+)/.exec(l)[1]);
    const cmds = [];
    for (const line of out.split('\n').slice(1)) {
      if (line.includes(marker)) break;
      const m = /^\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
      if (!m) continue;
      const [, from, cmd] = m;
      if (from === 'lua' || from === mine || readers.includes(from)) continue;
      // the in-memory catalogue's keeper reads the change stream every second, whatever the requests
      if (cmd.startsWith('"EVAL"') && cmd.includes('"{products}:changes" "') && !cmd.includes("'XADD'")) continue;
      // each process's once-a-second write of its figures (/api/stats's deployment), not the request's
      if (cmd.includes('"{stats}:backends"')) continue;
      cmds.push({ from, cmd });
    }
    return cmds;
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(2000)]);
  }
}

describe('a hit costs one Redis round trip', () => {
  const show = (cmds) => `commands from the backend: ${JSON.stringify(cmds.map((c) => c.cmd.slice(0, 160)), null, 1)}`;

  test('list: a hit is one MGET of the generation and the key; a miss adds one fill (a script)', async () => {
    const url = `${B}/api/products?limit=3&order=name&offset=3`;
    const key = listKey('limit=3&offset=3&order=name');
    let r;
    let cmds = await monitored(async () => { r = await hget(url); });
    assert.equal(r.headers['x-cache'], 'MISS');
    assert.equal(cmds.length, 2, show(cmds));
    assert.equal(cmds[0].cmd, `"MGET" "{products}:gen" "${key}"`);
    assert.match(cmds[1].cmd, /^"EVALSHA" /);
    assert.ok(cmds[1].cmd.includes(`"${key}"`), show(cmds));

    cmds = await monitored(async () => { r = await hget(url); });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-cache'], 'HIT');
    assert.deepEqual(cmds.map((c) => c.cmd), [`"MGET" "{products}:gen" "${key}"`], show(cmds));
  });

  test('product: a hit is exactly one MGET (generation and floor for the fill guard)', async () => {
    const id = takeId();
    const url = `${B}/api/products/${id}`;
    await hget(url);
    await waitFor(async () => (await R('EXISTS', productKey(id))) === 1, 5000, 'product key filled');
    let r;
    const cmds = await monitored(async () => { r = await hget(url); });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-cache'], 'HIT');
    assert.deepEqual(cmds.map((c) => c.cmd), [`"MGET" "{products}:gen" "{products}:floor" "{products}:product:${id}"`], show(cmds));
  });

  test('categories: a hit is exactly one MGET', async () => {
    const url = `${B}/api/categories`;
    await hget(url);
    await waitFor(async () => (await hget(url)).headers['x-cache'] === 'HIT', 5000, 'categories cached');
    let r;
    const cmds = await monitored(async () => { r = await hget(url); });
    assert.equal(r.headers['x-cache'], 'HIT');
    assert.deepEqual(cmds.map((c) => c.cmd), [`"MGET" "{products}:gen" "${CATEGORIES_KEY}"`], show(cmds));
  });
});

// --------------------------------------------------------------- 4. jitter --

describe('TTL jitter', () => {
  test('CACHE_TTL=100, CACHE_TTL_JITTER_PCT=3: fresh keys live 97..100 s, not all the same', async () => {
    const J = await s.startBackend({ CACHE_TTL: '100', CACHE_TTL_JITTER_PCT: '3' });
    const n = 30;
    const reqs = [];
    for (let i = 0; i < n; i++) {
      const r = await hget(`${J.url}/api/products?limit=2&order=price&offset=${900 + i}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['x-cache'], 'MISS');
      reqs.push({ t1: Date.now(), key: listKey(`limit=2&offset=${900 + i}&order=price`) });
    }
    await waitFor(async () => (await pipelineS(reqs.map((q) => ['EXISTS', q.key]))).every((x) => x === 1), 3000,
      'every list key filled');
    const tSend = Date.now();
    const pttl = await pipelineS(reqs.map((q) => ['PTTL', q.key]));
    const ttls = pttl.map((ms, i) => {
      assert.ok(ms > 0, `${reqs[i].key} has a TTL (${ms})`);
      // the TTL set = PTTL + the time since the SET, which was just before the answer
      return Math.round((ms + (tSend - reqs[i].t1)) / 1000);
    });
    for (const t of ttls) assert.ok(t >= 97 && t <= 100, `TTLs ${ttls.join(' ')}`);
    assert.ok(new Set(ttls).size > 1, `jitter spreads the TTLs: ${ttls.join(' ')}`);
    // a product gets the same treatment
    const id = takeId();
    assert.equal((await hget(`${J.url}/api/products/${id}`)).status, 200);
    await filled(productKey(id));
    const ttl = await R('TTL', productKey(id));
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
    const stored = await filled(productKey(ABSENT_ID));
    assert.equal(stored.status, 404);
    const ttl = await R('TTL', productKey(ABSENT_ID));
    assert.ok(ttl > 0 && ttl <= 15, `TTL of the not-found marker: ${ttl}`);

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
    await filled(productKey(id));
    const ttl = await R('TTL', productKey(id));
    assert.ok(ttl > 0 && ttl <= 3, `TTL ${ttl}`);
  });
});

// --------------------------------------------------------------- 6. corrupted values --

describe('a value that is not a valid entry is a miss and is overwritten', () => {
  const junk = (valid) => {
    const text = valid.toString('latin1');
    const nl = text.indexOf('\n');
    const [, status, , el, ll, bl] = text.slice(0, nl).split(' ');
    return [
      ['JSON without the header', Buffer.from('{"id":"x"}')],
      ['empty', Buffer.alloc(0)],
      ['truncated', valid.subarray(0, valid.length - 5)],
      ['one byte too many', Buffer.concat([valid, Buffer.from('}')])],
      ['a status that is never stored', Buffer.from(text.replace(/^CE1 200/, 'CE1 500'), 'latin1')],
      ['lengths that lie', Buffer.from('CE1 200 0 4 0 99999\n"v1"{}')],
      ['a huge length', Buffer.from('CE1 200 0 4 0 99999999999999999999\n"v1"{}')],
      ['header only', Buffer.from('CE1 200 ')],
      ['the older header without a generation', Buffer.from(`CE1 ${status} ${el} ${ll} ${bl}${text.slice(nl)}`, 'latin1')],
    ];
  };

  async function check(url, key) {
    const good = await hget(url);
    assert.equal(good.status, 200);
    await filled(key);
    const valid = await R('GET', key);
    for (const [what, bytes] of junk(valid)) {
      await R('SET', key, bytes);
      const r = await hget(url);
      assert.equal(r.status, 200, `${what}: ${r.body}`);
      assert.equal(r.headers['x-cache'], 'MISS', what);
      assert.ok(r.body.equals(good.body), `${what}: the right body`);
      assert.equal(r.headers.etag, good.headers.etag, what);
      // overwritten with a valid entry (the junk never passes this)
      await filled(key, (e) => e.status === 200 && e.etag === good.headers.etag && e.body.equals(good.body));
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
    await check(`${B}/api/products?limit=4&offset=8&order=-price`, listKey('limit=4&offset=8&order=-price'));
  });

  test('categories', async () => {
    await check(`${B}/api/categories`, CATEGORIES_KEY);
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

  test('the generation is a µs clock value with no TTL; every other cache key has a TTL', async () => {
    await hget(`${B}/api/products`);
    const g = Number(await gen());
    assert.ok(g > 1.7e15 && g <= (Date.now() + 1000) * 1000, `generation ${g}`);
    assert.equal(await R('TTL', GEN_KEY), -1);
    // the change stream's epoch (created by the feed's reader at start) is kept the same way
    assert.equal(await R('TTL', '{products}:epoch'), -1);
    // also without a TTL, on purpose: the deployment's stats hash (one field per process, pruned after 60 s)
    const unbounded = [GEN_KEY, '{products}:floor', '{products}:epoch', '{products}:changes', '{stats}:backends'];
    const keys = (await scanKeys('*')).filter((k) => !unbounded.includes(k));
    assert.ok(keys.length > 0);
    const ttls = await pipelineS(keys.map((k) => ['TTL', k]));
    keys.forEach((k, i) => assert.ok(ttls[i] > 0, `${k} has TTL ${ttls[i]}: never evicted under volatile-lru`));
  });

  test('INCR retires every list and the categories; the refill carries the new generation', async () => {
    const list = `${B}/api/products?limit=6&offset=1`;
    const key = listKey('limit=6&offset=1&order=-created_at');
    await hget(list);
    await hget(`${B}/api/categories`);
    assert.equal((await hget(list)).headers['x-cache'], 'HIT');
    assert.equal((await hget(`${B}/api/categories`)).headers['x-cache'], 'HIT');
    const g1 = String(await R('INCR', GEN_KEY));
    const r = await hget(list);
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-cache'], 'MISS', 'a list of the old generation is not served');
    const c = await hget(`${B}/api/categories`);
    assert.equal(c.status, 200);
    assert.equal(c.headers['x-cache'], 'MISS', 'the categories of the old generation are not served');
    assert.equal(await gen(), g1);
    await filled(key, (e) => e.gen === g1);
    await filled(CATEGORIES_KEY, (e) => e.gen === g1);
    assert.equal((await hget(list)).headers['x-cache'], 'HIT');
    assert.equal((await hget(`${B}/api/categories`)).headers['x-cache'], 'HIT');
  });

  test('a value stamped with another generation (older or newer) is a miss', async () => {
    const list = `${B}/api/products?limit=6&offset=4`;
    const key = listKey('limit=6&offset=4&order=-created_at');
    const good = await hget(list);
    const g = BigInt(await gen());
    await filled(key, (e) => e.gen === String(g));
    const valid = (await R('GET', key)).toString('latin1');
    for (const other of [g - 1n, g + 1n, 0n]) {
      await R('SET', key, Buffer.from(valid.replace(/^CE1 200 \d+ /, `CE1 200 ${other} `), 'latin1'), 'EX', 300);
      const r = await hget(list);
      assert.equal(r.headers['x-cache'], 'MISS', `stamped ${other}, current ${g}`);
      assert.ok(r.body.equals(good.body));
      await filled(key, (e) => e.gen === String(g)); // refilled with the current generation
    }
  });

  test('a lost generation restarts from the clock, never from 1, and never goes back', async () => {
    const list = `${B}/api/products?limit=6&offset=2`;
    const key = listKey('limit=6&offset=2&order=-created_at');
    await hget(list);
    const lost = BigInt(await R('INCR', GEN_KEY)); // a few ms ahead of the clock it came from
    await hget(list); // refill under `lost`
    assert.equal((await hget(list)).headers['x-cache'], 'HIT');
    await sleep(5);
    assert.equal(await R('DEL', GEN_KEY), 1);
    // the first read after the loss recreates the generation and is a MISS under it
    const first = await hget(list);
    assert.equal(first.status, 200);
    assert.equal(first.headers['x-cache'], 'MISS', 'a value of the lost generation is not served');
    const g = BigInt(await waitFor(gen, 5000, 'a new generation'));
    assert.ok(g > 1700000000000000n, `new generation ${g} is a µs clock value`);
    assert.ok(g > lost, `new generation ${g} is above the lost one ${lost}`);
    assert.equal(await R('TTL', GEN_KEY), -1);
    // then the usual: a miss that fills under the new generation, then hits
    const seen = [];
    const hit = await waitFor(async () => {
      const r = await hget(list);
      seen.push(r.headers['x-cache']);
      return r.headers['x-cache'] === 'HIT' && r;
    }, 5000, 'a hit under the new generation');
    assert.ok(seen.length <= 3, `X-Cache after the loss: ${first.headers['x-cache']} ${seen.join(' ')}`);
    assert.ok(hit.body.equals(first.body));
    assert.equal(decodeEntry(await R('GET', key)).gen, String(g));
    const c = await waitFor(async () => {
      const r = await hget(`${B}/api/categories`);
      return r.headers['x-cache'] === 'HIT' && r;
    }, 5000, 'categories cached under the new generation');
    assert.equal(c.status, 200);
  });
});

describe('a damaged generation', () => {
  test('a generation that is not a positive number is replaced from the clock; lists are cached again', async () => {
    const list = `${B}/api/products?limit=6&offset=3`;
    try {
      for (const junk of ['hello', '0', '-5', '0123', '99999999999999999999']) {
        await R('SET', GEN_KEY, junk);
        const seen = [];
        const hit = await waitFor(async () => {
          const r = await hget(list);
          assert.equal(r.status, 200);
          seen.push(r.headers['x-cache']);
          return r.headers['x-cache'] === 'HIT' && r;
        }, 3000, () => `lists cached again after ${GEN_KEY} was set to ${junk} (X-Cache: ${
          [...new Set(seen)].join(', ')} over ${seen.length} reads)`);
        assert.equal(hit.status, 200);
        const g = Number(await gen());
        assert.ok(g > 1.7e12, `${GEN_KEY} is ${g} after ${junk}`);
      }
    } finally {
      // leave a working generation for the tests that follow
      if (!/^[1-9]\d{12,17}$/.test(String(await gen()))) {
        await R('DEL', GEN_KEY);
        await hget(list);
        await waitFor(gen, 3000, 'a new generation');
      }
    }
  });
});

// --------------------------------------------------------------- 8, 9. single-flight --

describe('single-flight: one MongoDB job per key per process', () => {
  const DELAY = 800;
  let D; // a backend whose every MongoDB job takes DELAY ms
  before(async () => {
    D = await s.startBackend({ DEBUG_STORE_DELAY_MS: String(DELAY), THREADS: '2', MONGO_TIMEOUT_MS: '5000' });
  });

  // n concurrent requests (urls cycled); returns the answers and the change in store.jobs.
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

  // The Redis connections (one per loop thread) that looked key up.
  const lookersOf = (cmds, key) => new Set(cmds.filter((c) => c.cmd.startsWith('"GET" ') || c.cmd.startsWith('"MGET" '))
    .filter((c) => c.cmd.endsWith(` "${key}"`)).map((c) => c.from));

  test('100 cold requests for one product, on both loop threads → one job, 100 identical answers', async () => {
    const id = takeId();
    await R('DEL', productKey(id));
    let res;
    const cmds = await monitored(async () => {
      res = await cold([`${D.url}/api/products/${id}`, `${D.url}/api/products/${id.toUpperCase()}`]);
    });
    const { all, jobs, took } = res;
    assert.equal(lookersOf(cmds, productKey(id)).size, 2, 'both loop threads took some of the requests');
    sameAnswer(all, 'MISS');
    assert.equal(JSON.parse(all[0].body).id, id);
    assert.equal(jobs, 1, `store.jobs went up by ${jobs} (took ${took} ms)`);
    await filled(productKey(id));
    const hit = await hget(`${D.url}/api/products/${id}`);
    assert.equal(hit.headers['x-cache'], 'HIT');
    assert.ok(hit.body.equals(all[0].body));
  });

  test('100 cold requests for one list (any spelling), on both loop threads → one job', async () => {
    const urls = [
      `${D.url}/api/products?limit=5&offset=701`,
      `${D.url}/api/products?offset=701&order=-created_at&limit=5`,
      `${D.url}/api/products?order=-created_at&limit=5&offset=701`,
    ];
    let res;
    const cmds = await monitored(async () => { res = await cold(urls); });
    const { all, jobs, took } = res;
    assert.equal(lookersOf(cmds, listKey('limit=5&offset=701&order=-created_at')).size, 2,
      'both loop threads took some of the requests');
    sameAnswer(all, 'MISS');
    assert.equal(JSON.parse(all[0].body).offset, 701);
    assert.equal(jobs, 1, `store.jobs went up by ${jobs} (took ${took} ms)`);
    await filled(listKey('limit=5&offset=701&order=-created_at'));
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

  test('a write during a read: the old read does not fill, a newer reader gets its own job', async () => {
    const url = `${D.url}/api/products?limit=5&offset=704`;
    const key = listKey('limit=5&offset=704&order=-created_at');
    assert.equal(await R('EXISTS', key), 0);
    const jobs0 = (await stats(D.url)).store.jobs;
    const old = hget(url);
    await waitFor(async () => (await stats(D.url)).store.flights >= 1, 5000, 'the first read in flight');
    const g1 = String(await R('INCR', GEN_KEY)); // what a write does
    const newer = hget(url);
    await waitFor(async () => (await stats(D.url)).store.flights >= 2, 5000, 'the second read in its own flight');
    let newerDone = false;
    newer.finally(() => { newerDone = true; });
    const a = await old;
    assert.equal(a.status, 200);
    assert.equal(a.headers['x-cache'], 'MISS');
    // until the newer read is answered, nothing from the older read may show up
    for (let i = 0; !newerDone && i < 2000; i++) {
      const v = await R('GET', key);
      if (v) assert.equal(decodeEntry(v).gen, g1, 'the read from before the write put its value into Redis');
      await sleep(2);
    }
    const b = await newer;
    assert.equal(b.status, 200);
    assert.equal(b.headers['x-cache'], 'MISS');
    assert.equal((await stats(D.url)).store.jobs - jobs0, 2);
    await filled(key, (e) => e.gen === g1); // by the reader that saw the new generation
    assert.equal((await hget(url)).headers['x-cache'], 'HIT');
  });

  test('with Redis down: all BYPASS, still one job per key; the backends reconnect when it is back', async () => {
    const id = takeId();
    await s.redis.stop();
    if (conn) conn.close();
    try {
      // both loop threads notice at once: Redis closes the connections
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
      const r = await waitFor(async () => {
        const x = await hget(url);
        assert.equal(x.status, 200);
        return x.headers['x-cache'] !== 'BYPASS' && x;
      }, 8000, `backend ${b.port} reconnects to Redis`);
      assert.ok(['MISS', 'HIT'].includes(r.headers['x-cache']));
    }
    const hit = await waitFor(async () => {
      const x = await hget(`${B}/api/products/${id}`);
      return x.headers['x-cache'] === 'HIT' && x;
    }, 5000, 'a hit after the reconnect');
    assert.equal(JSON.parse(hit.body).id, id);
    // lists too: the generation is recreated in the emptied Redis
    const list = await waitFor(async () => {
      const x = await hget(`${B}/api/products?limit=5&offset=703`);
      return x.headers['x-cache'] === 'HIT' && x;
    }, 5000, 'a list hit after the reconnect');
    assert.equal(list.status, 200);
    assert.equal((await stats(D.url)).cache.redis_connected, true);
  });
});
