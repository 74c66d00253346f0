// Cache consistency of writes (the admin API's core promise): after a 2xx
// write every reader, through any backend process, gets the new data on the
// very next request; a reader that fetched before a write cannot put the
// old document back; a Redis outage during writes leaves nothing stale
// once Redis is back. All against real Redis, FerretDB and backends.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { get, login, send, sleep, startStack, until, createProduct as createProductVia, keepAliveClient } from './lib/stack.mjs';

let s;
let A;
let B;
let token;
const client = keepAliveClient({ maxSockets: 8, timeoutMs: 10000 });
const req = client.req;

const createProduct = (name, extra) => createProductVia(assert, A.url, token, name, extra);

before(async () => {
  s = await startStack({ backends: 2 });
  [A, B] = s.backends;
  token = await login(A.url);
});
after(async () => {
  client.destroy();
  await s?.stop();
});

describe('invalidation on write', () => {
  test('a write deletes the product key and bumps the generation before it answers', async () => {
    const p = await createProduct('Invalidation probe');
    await get(`${B.url}/api/products/${p.id}`); // MISS: fills
    assert.equal((await get(`${B.url}/api/products/${p.id}`)).headers.get('x-cache'), 'HIT');
    assert.notEqual(s.redisCli('EXISTS', `{products}:product:${p.id}`), '0');
    const gen = BigInt(s.redisCli('GET', '{products}:gen'));
    const r = await send('PATCH', `${A.url}/api/products/${p.id}`, { stock: 7 }, token);
    assert.equal(r.status, 200);
    // checked right after the answer: already applied
    assert.equal(s.redisCli('EXISTS', `{products}:product:${p.id}`), '0');
    assert.equal(BigInt(s.redisCli('GET', '{products}:gen')), gen + 1n);
    const g = await get(`${B.url}/api/products/${p.id}`);
    assert.equal(g.headers.get('x-cache'), 'MISS');
    assert.equal(g.body.stock, 7);
  });

  test('a lost generation restarts from the clock on the next write, never lower', async () => {
    const p = await createProduct('Lost generation probe');
    const before = BigInt(s.redisCli('GET', '{products}:gen'));
    s.redisCli('DEL', '{products}:gen');
    const r = await send('PATCH', `${A.url}/api/products/${p.id}`, { stock: 2 }, token);
    assert.equal(r.status, 200);
    const after = BigInt(s.redisCli('GET', '{products}:gen'));
    assert.ok(after > before, `generation went from ${before} to ${after}`);
    assert.equal((await get(`${B.url}/api/products/${p.id}`)).body.stock, 2);
  });

  test('1000 write-then-read pairs across two backend processes: 0 stale reads (item, list, categories)', async () => {
    const p = await createProduct('Pairs probe unique-zebra');
    const backends = [A, B];
    let stale = 0;
    const staleSamples = [];
    let hits = 0;
    for (let i = 1; i <= 1000; i++) {
      const w = backends[i % 2];
      const rd = backends[(i + 1) % 2];
      // the reader has the current state cached (read twice: MISS then HIT)
      if (i % 50 === 1) await req('GET', `${rd.url}/api/products/${p.id}`);
      const stock = i;
      const wr = await req('PATCH', `${w.url}/api/products/${p.id}`, { stock }, { authorization: `Bearer ${token}` });
      assert.equal(wr.status, 200);
      const g = await req('GET', `${rd.url}/api/products/${p.id}`);
      if (g.headers['x-cache'] === 'HIT') hits++;
      if (g.status !== 200 || g.body.stock !== stock || g.body.version !== wr.body.version) {
        stale++;
        if (staleSamples.length < 3) staleSamples.push({ i, want: stock, got: g.body.stock, xcache: g.headers['x-cache'] });
      }
      if (i % 10 === 0) { // lists and categories through the other process too
        const l = await req('GET', `${rd.url}/api/products?q=unique-zebra`);
        if (l.body.products[0]?.stock !== stock) {
          stale++;
          if (staleSamples.length < 3) staleSamples.push({ i, list: true, got: l.body.products[0]?.stock });
        }
      }
    }
    assert.equal(stale, 0, `stale reads: ${JSON.stringify(staleSamples)}`);
    assert.equal(hits, 0, 'a read right after a write is never a HIT of the old entry');
    // the cache still works between writes
    await req('GET', `${B.url}/api/products/${p.id}`);
    assert.equal((await req('GET', `${B.url}/api/products/${p.id}`)).headers['x-cache'], 'HIT');
  });

  test('categories reflect a create, a category change and a delete at once', async () => {
    const count = async (b, slug) => (await get(`${b.url}/api/categories`)).body.categories.find((c) => c.slug === slug).count;
    const books = await count(B, 'books');
    await count(B, 'books'); // cached
    const p = await createProduct('Category probe');
    assert.equal(await count(B, 'books'), books + 1);
    const other = (await get(`${B.url}/api/categories`)).body.categories.find((c) => c.slug !== 'books').slug;
    const o = await count(B, other);
    assert.equal((await send('PATCH', `${A.url}/api/products/${p.id}`, { category: other }, token)).status, 200);
    assert.equal(await count(B, 'books'), books);
    assert.equal(await count(B, other), o + 1);
    assert.equal((await send('DELETE', `${A.url}/api/products/${p.id}`, undefined, token)).status, 204);
    assert.equal(await count(B, other), o);
    assert.equal((await get(`${B.url}/api/products/${p.id}`)).status, 404);
  });
});

describe('no stale set', () => {
  test('a fill racing a write (fill delayed after MongoDB answered) does not put the old document back', async () => {
    // C reads the old document, then holds its fill; the write lands meanwhile
    const C = await s.startBackend({ DEBUG_FILL_DELAY_MS: '1500' });
    const p = await createProduct('Race probe', { stock: 1 });
    const listUrl = (b) => `${b.url}/api/products?q=race%20probe`;
    const slowItem = get(`${C.url}/api/products/${p.id}`);
    const slowList = get(listUrl(C));
    await sleep(400); // both have read version 1 from MongoDB and wait to fill
    const w = await send('PATCH', `${A.url}/api/products/${p.id}`, { stock: 99 }, token);
    assert.equal(w.status, 200);
    const [oldItem, oldList] = await Promise.all([slowItem, slowList]);
    // those reads began before the write: the old version is a fair answer
    assert.equal(oldItem.body.stock, 1);
    assert.equal(oldList.body.products[0].stock, 1);
    await sleep(300); // the fills have been attempted (and refused by the generation guard)
    const item = await get(`${B.url}/api/products/${p.id}`);
    assert.equal(item.body.stock, 99, `served ${item.headers.get('x-cache')} stock ${item.body.stock}`);
    assert.equal((await get(listUrl(B))).body.products[0].stock, 99);
    // and the cache ends with the new value
    assert.equal((await get(`${B.url}/api/products/${p.id}`)).headers.get('x-cache'), 'HIT');
    assert.equal((await get(`${C.url}/api/products/${p.id}`)).body.stock, 99);
    assert.match(s.redisCli('GET', `{products}:product:${p.id}`), /"stock":99/);
    await C.proc.stop();
    s.backends.splice(s.backends.indexOf(C), 1);
  });
});

describe('Redis outage during writes', () => {
  test('Redis stopped during writes and restarted with its old data: writes succeed, no stale read afterwards', async () => {
    const p = await createProduct('Outage probe', { stock: 1 });
    const listUrl = (b) => `${b.url}/api/products?q=outage%20probe`;
    for (const b of [A, B]) {
      await get(`${b.url}/api/products/${p.id}`);
      await get(listUrl(b));
      assert.equal((await get(`${b.url}/api/products/${p.id}`)).headers.get('x-cache'), 'HIT');
      assert.equal((await get(listUrl(b))).headers.get('x-cache'), 'HIT');
    }
    // Redis keeps a snapshot with the old entries and generation, then stops
    s.redisCli('SAVE');
    await s.redis.stop();
    const w = await send('PATCH', `${A.url}/api/products/${p.id}`, { stock: 42 }, token);
    assert.equal(w.status, 200, w.text);
    assert.equal(w.headers.get('x-cache-invalidation'), 'deferred');
    assert.equal(s.mongosh(`Number(db.products.findOne({_id: ObjectId("${p.id}")}).stock)`), '42'); // acknowledged = stored
    // during the outage: served from MongoDB, fresh
    for (const b of [A, B]) assert.equal((await get(`${b.url}/api/products/${p.id}`)).body.stock, 42);
    // Redis comes back with the pre-write snapshot (old entries, old generation)
    await s.startRedis();
    assert.equal(s.redisCli('EXISTS', `{products}:product:${p.id}`), '1', 'the snapshot holds the old entry');
    // every read from here on, through both processes, is the new data;
    // until both are reconnected and back to HIT
    const seen = new Set();
    await until('both backends serving from Redis again', 15000, async () => {
      let back = true;
      for (const b of [A, B]) {
        const item = await get(`${b.url}/api/products/${p.id}`);
        const list = await get(listUrl(b));
        assert.equal(item.body.stock, 42, `item via ${b.port}: ${item.headers.get('x-cache')} stock ${item.body.stock}`);
        assert.equal(list.body.products[0].stock, 42, `list via ${b.port}: ${list.headers.get('x-cache')}`);
        seen.add(item.headers.get('x-cache'));
        back = back && item.headers.get('x-cache') === 'HIT';
      }
      return back;
    }, 100);
    assert.ok(seen.has('HIT'));
  });
});
