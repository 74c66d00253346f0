// The miss path at 20,000 products (issue 12), in a stack of its own seeded
// by mongo-init (SEED_PRODUCTS=20000), default timeouts: every list shape,
// the categories and a product answer 200 on a cold cache, alone and as
// concurrent distinct misses; paging through a filter costs no store pass
// (the in-memory catalogue answers; /api/stats counts passes and scans);
// counts and pages stay exact after each kind of write, compared with the
// store queried directly through mongosh.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { get, login, root, sanitized, send, startStack, until } from './lib/stack.mjs';

const N = 20000;
let s;
let b;

before(async () => {
  s = await startStack({ init: false, backends: 0 });
  s.runInit('catalog', { SEED_PRODUCTS: String(N) });
  b = await s.startBackend();
  // the catalogue is built in the background once the backend runs
  await until('catalogue built', sanitized ? 120000 : 60000, async () => (await s.stats()).catalogue.products === N, 200);
}, { timeout: 240000 });
after(async () => s && s.stop());

// Drops every cached list, categories and product entry (the generation
// and the change stream stay): the next read of each is a miss.
function coldCache() {
  s.redisCli('EVAL', "for _, k in ipairs(redis.call('KEYS', '{products}:[lpc][ira]*')) do redis.call('DEL', k) end", '0');
}

// Each list shape: its query, and the store's filter and sort for mongosh.
const shapes = [
  { qs: '', filter: '{}', sort: '{created_at: -1, _id: -1}' },
  { qs: 'order=price', filter: '{}', sort: '{price_cents: 1, _id: 1}' },
  { qs: 'order=-price', filter: '{}', sort: '{price_cents: -1, _id: -1}' },
  { qs: 'order=name', filter: '{}', sort: '{name_lc: 1, _id: 1}' },
  { qs: 'category=books', filter: "{category: {$in: ['books']}}", sort: '{created_at: -1, _id: -1}' },
  { qs: 'min_price=10&max_price=50', filter: '{price_cents: {$gte: 1000, $lte: 5000}}', sort: '{created_at: -1, _id: -1}' },
  { qs: 'in_stock=true&order=price', filter: '{stock: {$gt: 0}}', sort: '{price_cents: 1, _id: 1}' },
  { qs: 'q=mug', filter: '{$or: [{name_lc: /mug/i}, {description: /mug/i}]}', sort: '{created_at: -1, _id: -1}' },
];

// The store's own answer: count and the ids of one page. Asynchronous, so
// that the keep-alive connections of this process notice a close meanwhile
// (a query takes seconds at this size).
async function storePage(filter, sort, skip, limit) {
  const { stdout } = await promisify(execFile)(path.join(root, 'node_modules/.bin/mongosh'), [`${s.mongoUri}catalog`, '--quiet', '--eval',
    `const f = ${filter};
    print(JSON.stringify({count: db.products.countDocuments(f),
      ids: db.products.find(f, {_id: 1}).sort(${sort}).skip(${skip}).limit(${limit}).toArray().map((d) => d._id.toHexString())}))`],
  { maxBuffer: 64 << 20 });
  return JSON.parse(stdout);
}

async function assertExact(shape, label) {
  const r = await get(`${b.url}/api/products?${shape.qs}${shape.qs ? '&' : ''}limit=50`);
  assert.equal(r.status, 200, `${label} ${shape.qs}: ${r.text}`);
  const want = await storePage(shape.filter, shape.sort, 0, 50);
  assert.equal(r.body.count, want.count, `${label} ${shape.qs}: count`);
  assert.deepEqual(r.body.products.map((p) => p.id), want.ids, `${label} ${shape.qs}: page`);
}

test('every list shape, the categories and a product answer 200 from a cold cache, one after another', { timeout: 120000 }, async () => {
  coldCache();
  const before = await s.stats();
  for (const shape of shapes) {
    const r = await get(`${b.url}/api/products?${shape.qs}`);
    assert.equal(r.status, 200, `${shape.qs}: ${r.text}`);
    assert.equal(r.headers.get('x-cache'), 'MISS');
  }
  const c = await get(`${b.url}/api/categories`);
  assert.equal(c.status, 200);
  assert.equal(c.body.categories.reduce((n, x) => n + x.count, 0), N);
  const p = await get(`${b.url}/api/products/66000000000000000000270f`);
  assert.equal(p.status, 200, p.text);
  const after = await s.stats();
  assert.equal(after.store.passes - before.store.passes, 0, 'no list or categories miss read the whole collection');
  assert.equal(after.catalogue.scans, before.catalogue.scans, 'nor scanned it again');
});

test('K concurrent distinct cold misses (K = the store workers) all answer 200', { timeout: 60000 }, async () => {
  coldCache();
  const K = 4; // MONGO_WORKERS' default
  const qs = ['order=price&offset=500', 'category=home-kitchen&order=name', 'min_price=20&max_price=30&order=-price', 'q=edition&offset=40'];
  const rs = await Promise.all(qs.slice(0, K).map((q) => get(`${b.url}/api/products?${q}`)));
  for (const [i, r] of rs.entries()) assert.equal(r.status, 200, `${qs[i]}: ${r.text}`);
  // the same right after a write: every one of them needs the catalogue caught up first
  const token = await login(b.url);
  const st0 = await s.stats();
  const w = await send('PATCH', `${b.url}/api/products/66000000000000000000270f`, { price: 0.5 }, token);
  assert.equal(w.status, 200, w.text);
  const after = await Promise.all(qs.slice(0, K).map((q) => get(`${b.url}/api/products?${q}&limit=7`)));
  for (const [i, r] of after.entries()) {
    assert.equal(r.status, 200, `${qs[i]} after a write: ${r.text}`);
    assert.equal(r.headers.get('x-cache'), 'MISS');
  }
  // answered by the catalogue, caught up by one point read of the written
  // product (by a miss, or the keeper's 1 s tick if it came first) — not by
  // the store, not by a rescan
  const st1 = await s.stats();
  assert.equal(st1.store.passes - st0.store.passes, 0, 'no whole-collection store query');
  assert.equal(st1.catalogue.scans, st0.catalogue.scans, 'no rescan');
  assert.equal(st1.catalogue.point_reads - st0.catalogue.point_reads, 1, 'one point read for the one write');
  const cheapest = await get(`${b.url}/api/products?order=price&limit=1`);
  assert.equal(cheapest.body.products[0].id, '66000000000000000000270f', 'the write is in the pages');
});

test('paging through one filter and order costs no store pass, and the pages are the store\'s', { timeout: 120000 }, async () => {
  coldCache();
  const before = await s.stats();
  const ids = [];
  let count = 0;
  for (let offset = 0; ; offset += 100) {
    const r = await get(`${b.url}/api/products?category=books&order=price&limit=100&offset=${offset}`);
    assert.equal(r.status, 200);
    count = r.body.count;
    ids.push(...r.body.products.map((p) => p.id));
    if (r.body.products.length < 100) break;
  }
  const after = await s.stats();
  assert.equal(after.store.passes - before.store.passes, 0);
  assert.equal(after.catalogue.scans, before.catalogue.scans);
  const want = await storePage("{category: {$in: ['books']}}", '{price_cents: 1, _id: 1}', 0, 100000);
  assert.equal(count, want.count);
  assert.equal(ids.length, want.count);
  assert.deepEqual(ids, want.ids);
});

test('counts and pages stay exact after a create, a price change across a range, a category change and a delete', { timeout: 240000 }, async () => {
  const token = await login(b.url);
  const shapesOf = [shapes[0], shapes[4], shapes[5], shapes[1]];
  for (const shape of shapesOf) await assertExact(shape, 'before');
  const before = await s.stats();

  const created = await send('POST', `${b.url}/api/products`, {
    name: 'Large Catalogue Probe', description: 'a probe', price: 25, category: 'books', stock: 3,
  }, token);
  assert.equal(created.status, 201, created.text);
  const id = created.body.id;
  for (const shape of shapesOf) await assertExact(shape, 'after create');

  // 25.00 → 75.00: leaves the 10..50 range, moves in the price order
  let w = await send('PATCH', `${b.url}/api/products/${id}`, { price: 75 }, token);
  assert.equal(w.status, 200, w.text);
  for (const shape of shapesOf) await assertExact(shape, 'after price change');

  w = await send('PATCH', `${b.url}/api/products/${id}`, { category: 'toys-games' }, token);
  assert.equal(w.status, 200, w.text);
  for (const shape of shapesOf) await assertExact(shape, 'after category change');

  w = await send('DELETE', `${b.url}/api/products/${id}`, undefined, token);
  assert.equal(w.status, 204, w.text);
  for (const shape of shapesOf) await assertExact(shape, 'after delete');

  const after = await s.stats();
  assert.equal(after.catalogue.scans, before.catalogue.scans, 'four writes: caught up by re-reading one product, no scan');
  assert.ok(after.catalogue.point_reads - before.catalogue.point_reads >= 4, 'one point read per write at least');
  assert.equal(after.store.passes - before.store.passes, 0);
  const c = await get(`${b.url}/api/categories`);
  assert.equal(c.body.categories.reduce((n, x) => n + x.count, 0), N);
});
