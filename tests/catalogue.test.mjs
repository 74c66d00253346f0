// The in-memory catalogue that answers list and categories misses (issue
// 12), on the demo catalogue: the change stream has one entry per bump; a
// bump the stream does not explain, and a scan older than MIRROR_MAX_AGE,
// make it scan again (so a write made around the API shows within
// MIRROR_MAX_AGE + CACHE_TTL); too large or switched off, the store answers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { get, login, send, startStack, until } from './lib/stack.mjs';

const ID = '650000000000000000000001';
let s;
before(async () => { s = await startStack({ backends: 0 }); });
after(async () => s && s.stop());

async function built(b) {
  await until('catalogue built', 30000, async () => (await s.stats(b)).catalogue?.scans >= 1, 50);
}

// The stream's entries as objects: {id (stream), gen, product | reset}.
function stream() {
  const raw = s.redisCli('XRANGE', '{products}:changes', '-', '+').split('\n');
  const out = [];
  for (let i = 0; i < raw.length;) {
    const e = { sid: raw[i++] };
    while (i < raw.length && !/^\d+-\d+$/.test(raw[i])) e[raw[i++]] = raw[i++];
    out.push(e);
  }
  return out;
}

describe('a backend with the defaults', () => {
  let b;
  let token;
  before(async () => {
    b = await s.startBackend();
    await built(b);
    token = await login(b.url);
  });
  after(async () => { await b.proc.stop(); s.backends.length = 0; });

  test('each write appends one stream entry naming its product and the generation it made', async () => {
    const w = await send('PATCH', `${b.url}/api/products/${ID}`, { stock: 11 }, token);
    assert.equal(w.status, 200, w.text);
    const last = stream().at(-1);
    assert.equal(last.gen, s.redisCli('GET', '{products}:gen'));
    assert.equal(last.id, ID);
    assert.equal(s.redisCli('TTL', '{products}:changes'), '-1', 'no TTL: never evicted under volatile-lru');
  });

  test('a list miss after a write re-reads that one product; a bump the stream does not explain forces a scan', async () => {
    // the keeper catches up with earlier writes within a second: start from there
    await until('caught up', 5000, async () => (await s.stats(b)).catalogue.generation === s.redisCli('GET', '{products}:gen'), 50);
    const st0 = await s.stats(b);
    const w = await send('PATCH', `${b.url}/api/products/${ID}`, { price: 99999 }, token);
    assert.equal(w.status, 200, w.text);
    const r = await get(`${b.url}/api/products?order=-price&limit=1`);
    assert.equal(r.body.products[0].id, ID);
    assert.equal(r.body.products[0].price, 99999);
    const st1 = await s.stats(b);
    assert.equal(st1.catalogue.scans, st0.catalogue.scans);
    assert.equal(st1.catalogue.point_reads, st0.catalogue.point_reads + 1);

    // a bump with no stream entry (as a backend without the stream makes):
    // which products changed is unknown, so the catalogue is scanned again
    s.mongosh(`db.products.updateOne({_id: ObjectId('${ID}')}, {$set: {price_cents: NumberLong(1)}})`);
    s.redisCli('INCR', '{products}:gen');
    const r2 = await get(`${b.url}/api/products?order=price&limit=1`);
    assert.equal(r2.headers.get('x-cache'), 'MISS');
    assert.equal(r2.body.products[0].id, ID, 'the scan saw the write made around the API');
    assert.equal(r2.body.products[0].price, 0.01);
    assert.equal((await s.stats(b)).catalogue.scans, st1.catalogue.scans + 1);
  });

  test('the categories come from the catalogue too, exact after a category change', async () => {
    const before = (await get(`${b.url}/api/categories`)).body.categories;
    const from = (await get(`${b.url}/api/products/${ID}`)).body.category;
    const to = from === 'books' ? 'garden' : 'books';
    const w = await send('PATCH', `${b.url}/api/products/${ID}`, { category: to }, token);
    assert.equal(w.status, 200, w.text);
    const now = (await get(`${b.url}/api/categories`)).body.categories;
    const count = (list, slug) => list.find((c) => c.slug === slug).count;
    assert.equal(count(now, from), count(before, from) - 1);
    assert.equal(count(now, to), count(before, to) + 1);
    const want = JSON.parse(s.mongosh(`print(JSON.stringify(db.products.countDocuments({category: '${to}'})))`));
    assert.equal(count(now, to), want);
  });
});

test('a write made around the API shows within MIRROR_MAX_AGE + CACHE_TTL + L1_MAX_AGE_MS (the catalogue is scanned again by age)', { timeout: 30000 }, async () => {
  // the in-process cache serves its copy of a list at most L1_MAX_AGE_MS
  const b = await s.startBackend({ MIRROR_MAX_AGE: '2', CACHE_TTL: '1', L1_MAX_AGE_MS: '1000' });
  try {
    await built(b);
    const name = `Around The API ${Date.now()}`;
    s.mongosh(`db.products.updateOne({_id: ObjectId('${ID}')}, {$set: {name: '${name}', name_lc: '${name.toLowerCase()}'}})`);
    const t0 = Date.now();
    await until('the list shows it', 10000, async () => (await get(`${b.url}/api/products?q=around+the+api`)).body.count === 1, 100);
    assert.ok(Date.now() - t0 <= 4500, `${Date.now() - t0} ms`);
  } finally {
    await b.proc.stop();
    s.backends.length = 0;
  }
});

test('a category added around the API (mongosh) is filterable and listed within MIRROR_MAX_AGE + CACHE_NEGATIVE_TTL (the catalogue holds the categories too; the 400 for an unknown one is cached like a "not found")', { timeout: 30000 }, async () => {
  const b = await s.startBackend({ MIRROR_MAX_AGE: '2', CACHE_TTL: '1', CACHE_NEGATIVE_TTL: '1', L1_MAX_AGE_MS: '1000' });
  const slug = `around-${Date.now()}`;
  try {
    await built(b);
    s.redisCli('DEL', '{products}:categories'); // cached by an earlier backend with the default CACHE_TTL (300 s)
    assert.equal((await get(`${b.url}/api/products?category=${slug}`)).status, 400, 'an unknown category before');
    assert.ok(!(await get(`${b.url}/api/categories`)).body.categories.some((x) => x.slug === slug));
    s.mongosh(`db.categories.insertOne({slug: '${slug}', name: 'Around the API'})`);
    const t0 = Date.now();
    let seen = '';
    await until(() => `the category known (${seen})`, 10000, async () => {
      const [l, c] = [await get(`${b.url}/api/products?category=${slug}`), await get(`${b.url}/api/categories`)];
      seen = `list ${l.status}, categories ${c.body.categories.map((x) => x.slug).join(',')}`;
      return l.status === 200 && c.body.categories.some((x) => x.slug === slug);
    }, 100);
    assert.ok(Date.now() - t0 <= 4500, `${Date.now() - t0} ms`);
  } finally {
    s.mongosh(`db.categories.deleteOne({slug: '${slug}'})`);
    await b.proc.stop();
    s.backends.length = 0;
  }
});

test('a catalogue larger than MIRROR_MAX_PRODUCTS is not held: the store answers lists and categories', async () => {
  const b = await s.startBackend({ MIRROR_MAX_PRODUCTS: '100' });
  try {
    await until('found too large', 10000, async () => (await s.stats(b)).catalogue.too_large === true, 50);
    s.redisCli('DEL', '{products}:categories');
    const st0 = await s.stats(b);
    const r = await get(`${b.url}/api/products?category=books&order=price&limit=7`);
    assert.equal(r.status, 200);
    const want = JSON.parse(s.mongosh("print(JSON.stringify(db.products.countDocuments({category: 'books'})))"));
    assert.equal(r.body.count, want);
    assert.equal((await get(`${b.url}/api/categories`)).status, 200);
    const st1 = await s.stats(b);
    assert.equal(st1.catalogue.products, 0);
    assert.ok(st1.store.passes >= st0.store.passes + 3, 'count + find, and the $group');
  } finally {
    await b.proc.stop();
    s.backends.length = 0;
  }
});

test('MIRROR_MAX_PRODUCTS=0 switches it off', async () => {
  const b = await s.startBackend({ MIRROR_MAX_PRODUCTS: '0' });
  try {
    assert.equal((await s.stats(b)).catalogue, null);
    assert.equal((await get(`${b.url}/api/products?order=name`)).status, 200);
  } finally {
    await b.proc.stop();
    s.backends.length = 0;
  }
});

// Why the catalogue and the writes' filter are what they are, asked of the
// store itself: FerretDB's explain says what it hands to SQLite.
test('FerretDB pushes down {_id} alone: not with the version beside it, nor a sort or a range', () => {
  const plan = (q) => JSON.parse(s.mongosh(`const e = db.runCommand({explain: ${q}, verbosity: 'queryPlanner'});
    print(JSON.stringify({filter: e.filterPushdown, sort: e.sortPushdown}))`));
  assert.deepEqual(plan(`{find: 'products', filter: {_id: ObjectId('${ID}')}}`), { filter: true, sort: false });
  assert.equal(plan(`{find: 'products', filter: {_id: ObjectId('${ID}'), version: 1}}`).filter, false);
  assert.equal(plan("{find: 'products', filter: {price_cents: {$gte: 1000}}}").filter, false);
  assert.deepEqual(plan("{find: 'products', filter: {}, sort: {created_at: -1, _id: -1}}"), { filter: false, sort: false });
});
