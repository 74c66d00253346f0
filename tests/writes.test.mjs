// The admin write API, black-box: create, replace, patch, delete, their
// validation, If-Match, Idempotency-Key and auth, direct and through nginx,
// against Redis + FerretDB + the real backend (contract: issue 4).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { assertProblem, get, login, mintToken, send, sleep, startStack, TEST_ADMIN, until } from './lib/stack.mjs';

let s;
let B; // backend, direct
let N; // through nginx
let TOKEN; // an admin token from POST /api/auth/login
before(async () => {
  s = await startStack({ nginx: true });
  B = s.backend.url;
  N = s.nginxUrl;
  TOKEN = await login(B);
});
after(async () => s && s.stop());

const PRODUCT_KEYS = ['id', 'name', 'description', 'price', 'currency', 'category', 'stock', 'image', 'created_at',
  'updated_at', 'version'];
const PROBLEM_KEYS = ['type', 'title', 'status', 'detail', 'instance'];
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/;
const ABSENT_ID = '0123456789abcdef01234567'; // well-formed, never assigned
const RUN = crypto.randomBytes(4).toString('hex');
let seq = 0;
// A name unique to this run; every request meant to be refused uses a "bad" one.
const uname = (label = 'p') => `T${RUN}-${label}-${++seq}`;
const BAD_PREFIX = `T${RUN}-bad-`;
const valid = (over = {}) => ({ name: uname(), price: 19.99, category: 'books', ...over });
const bad = (over = {}) => ({ name: uname('bad'), price: 19.99, category: 'books', ...over });

const P = (id = '') => `${B}/api/products${id ? `/${id}` : ''}`;
const READ_ONLY_REASON = "field names may not start with '$' or contain '.'";
const NOT_A_FIELD = 'is not a product field (known: name, description, price, category, stock, image)';
const PRICE_REASON = 'must be between 0 and 1000000000 with at most two decimals';
const SLUG_REASON = 'must be a category slug (lower-case letters, digits and single hyphens, at most 64)';
const STOCK_REASON = 'must be a whole number between 0 and 2147483647';
const IMAGE_REASON = 'must be a root-relative path (/images/x.svg) or an http(s) URL, without spaces';

// mongosh --eval of a JS expression, parsed (one round trip per call: they are slow).
const mongo = (expr) => JSON.parse(s.mongosh(`JSON.stringify(${expr})`));
const countByName = (name) => mongo(`db.products.countDocuments({name: ${JSON.stringify(name)}})`);

let created = 0; // products created by create()
async function create(body = valid(), headers = {}, base = B) {
  const r = await send('POST', `${base}/api/products`, body, TOKEN, headers);
  assert.equal(r.status, 201, r.text);
  if (r.headers.get('idempotency-replayed') === null) created++;
  return r;
}

// Sends raw bytes (no JSON.stringify, no automatic Content-Type).
function sendRaw(method, url, bytes, headers = {}, token = TOKEN) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  return get(url, { method, headers: h, body: bytes });
}

function assertProduct(p) {
  assert.deepEqual(Object.keys(p), PRODUCT_KEYS);
  assert.match(p.id, /^[0-9a-f]{24}$/);
  assert.equal(p.currency, 'USD');
  assert.match(p.created_at, RFC3339);
  assert.match(p.updated_at, RFC3339);
  assert.ok(Number.isInteger(p.version) && p.version >= 1);
}

// 422 /problems/validation with exactly these [field, reason] pairs, in order.
function assertInvalid(r, errors, detail) {
  assertProblem(assert, r, 422, { type: '/problems/validation' });
  assert.deepEqual(Object.keys(r.body), [...PROBLEM_KEYS, 'errors']);
  assert.deepEqual(r.body.errors, errors.map(([field, reason]) => ({ field, reason })));
  const n = errors.length;
  assert.equal(r.body.detail, detail ?? `${n} field${n === 1 ? ' is' : 's are'} not valid`);
  assert.equal(r.headers.get('etag'), null);
  assert.equal(r.headers.get('location'), null);
}

function assertUnauthorized(r, description) {
  assertProblem(assert, r, 401, { type: '/problems/unauthorized' });
  const www = r.headers.get('www-authenticate');
  assert.ok(www.startsWith('Bearer realm="catalog"'), www);
  if (description === undefined) {
    assert.equal(www, 'Bearer realm="catalog"');
  } else if (description instanceof RegExp) {
    const m = /^Bearer realm="catalog", error="invalid_token", error_description="([^"]*)"$/.exec(www);
    assert.ok(m, www);
    assert.match(m[1], description);
    assert.equal(r.body.detail, m[1]);
  } else {
    assert.equal(www, `Bearer realm="catalog", error="invalid_token", error_description="${description}"`);
    assert.equal(r.body.detail, description);
  }
}

describe('POST /api/products', () => {
  test('201: Location, ETag "v1", server-assigned id, timestamps, version 1; GET shows it', async () => {
    const body = valid({ price: 12.5, description: 'A kettle.', stock: 7, image: '/images/products/kettle.svg' });
    const r = await create(body);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.headers.get('etag'), '"v1"');
    assert.equal(r.headers.get('idempotency-replayed'), null);
    assertProduct(r.body);
    assert.equal(r.headers.get('location'), `/api/products/${r.body.id}`);
    assert.equal(r.body.name, body.name);
    assert.equal(r.body.description, 'A kettle.');
    assert.equal(r.body.price, 12.5);
    assert.equal(r.body.currency, 'USD');
    assert.equal(r.body.category, 'books');
    assert.equal(r.body.stock, 7);
    assert.equal(r.body.image, '/images/products/kettle.svg');
    assert.equal(r.body.version, 1);
    assert.equal(r.body.created_at, r.body.updated_at);
    assert.ok(Math.abs(Date.parse(r.body.created_at) - Date.now()) < 60000, r.body.created_at);
    const g = await get(B + r.headers.get('location'));
    assert.equal(g.status, 200);
    assert.equal(g.headers.get('etag'), '"v1"');
    assert.deepEqual(g.body, r.body);
  });

  test('defaults: stock 0, description and image null; prices keep their two decimals', async () => {
    for (const price of [0, 9.99, 19.99, 0.1, 1000000000, 1234.5]) {
      const r = await create(valid({ price }));
      assert.equal(r.body.price, price);
      assert.equal(r.body.stock, 0);
      assert.equal(r.body.description, null);
      assert.equal(r.body.image, null);
      assert.equal((await get(P(r.body.id))).body.price, price);
    }
  });

  test('limits are inclusive: 200-character name (code points), 5000-character description, 2048-character image', async () => {
    const name = `${RUN}${'é'.repeat(192)}`;
    assert.equal([...name].length, 200);
    const r = await create({ name, description: 'd'.repeat(5000), price: 1, category: 'books',
      image: `/images/${'a'.repeat(2040)}`, stock: 2147483647 });
    assert.equal(r.body.name, name);
    assert.equal(r.body.description.length, 5000);
    assert.equal(r.body.image.length, 2048);
    assert.equal(r.body.stock, 2147483647);
    const http = await create(valid({ image: 'https://cdn.example/x.png?size=2' }));
    assert.equal(http.body.image, 'https://cdn.example/x.png?size=2');
  });

  test('Content-Type application/json; charset=utf-8 is accepted', async () => {
    const r = await create(valid(), { 'content-type': 'application/json; charset=utf-8' });
    assert.equal(r.body.version, 1);
  });

  test('a list query cached before the create shows the product right after it', async () => {
    const name = uname('listed');
    const url = `${B}/api/products?q=${encodeURIComponent(name)}`;
    assert.equal((await get(url)).body.count, 0);
    await until('the empty list is cached', 3000, async () => (await get(url)).headers.get('x-cache') === 'HIT');
    const r = await create(valid({ name }));
    const after = await get(url);
    assert.equal(after.body.count, 1);
    assert.deepEqual(after.body.products, [r.body]);
  });
});

describe('Idempotency-Key', () => {
  test('same key and body twice: one product, the retry replayed', async () => {
    const key = `idem-${RUN}-1`;
    const body = valid({ description: 'once' });
    const raw = JSON.stringify(body);
    const first = await create(raw, { 'idempotency-key': key });
    assert.equal(first.headers.get('idempotency-replayed'), null);
    const second = await create(raw, { 'idempotency-key': key });
    assert.equal(second.headers.get('idempotency-replayed'), 'true');
    assert.equal(second.body.id, first.body.id);
    assert.deepEqual(second.body, first.body);
    assert.equal(second.headers.get('location'), `/api/products/${first.body.id}`);
    assert.equal(second.headers.get('etag'), '"v1"');

    const reused = await send('POST', P(), { ...body, price: 20 }, TOKEN, { 'idempotency-key': key });
    assertProblem(assert, reused, 422, { type: '/problems/idempotency-key-reused', param: 'Idempotency-Key' });
    assert.equal(reused.body.detail,
      'this Idempotency-Key was already used with a different body; use a new key for a new product');
    // a different key is a different product
    const other = await create(raw, { 'idempotency-key': `idem-${RUN}-2` });
    assert.notEqual(other.body.id, first.body.id);

    const counts = mongo(`{same: db.products.countDocuments({name: ${JSON.stringify(body.name)}}),
      keyed: db.products.countDocuments({name: ${JSON.stringify(body.name)}, price_cents: 2000})}`);
    assert.deepEqual(counts, { same: 2, keyed: 0 });
  });

  test('the same key sent 10 times at once: one product, one insert, the others replay it', async () => {
    const key = `idem-${RUN}-race`;
    const raw = JSON.stringify(valid({ description: 'raced' }));
    const all = await Promise.all(Array.from({ length: 10 }, () => create(raw, { 'idempotency-key': key })));
    assert.equal(new Set(all.map((r) => r.body.id)).size, 1, 'one id');
    assert.equal(all.filter((r) => r.headers.get('idempotency-replayed') === null).length, 1, 'one first answer');
    assert.equal(countByName(JSON.parse(raw).name), 1);
  });

  test('a key reserved by an attempt that died before its insert: the retry creates that very product, once', async () => {
    const key = `idem-${RUN}-died`;
    const raw = JSON.stringify(valid({ description: 'resumed' }));
    const pid = crypto.randomBytes(12).toString('hex');
    const sha = crypto.createHash('sha256').update(raw).digest('hex');
    // what the dead attempt left: the reservation, no product, no stored answer
    s.mongosh(`db.idempotency_keys.insertOne({_id: ${JSON.stringify(`${TEST_ADMIN.username}\n${key}`)},
      request_sha256: "${sha}", product_id: ObjectId("${pid}"), created_at: new Date()})`);
    const r = await create(raw, { 'idempotency-key': key });
    assert.equal(r.body.id, pid);
    const again = await create(raw, { 'idempotency-key': key });
    assert.equal(again.body.id, pid);
    assert.equal(again.headers.get('idempotency-replayed'), 'true');
    assert.equal(countByName(JSON.parse(raw).name), 1);
  });

  for (const [label, key] of [['300 characters', 'k'.repeat(300)], ['a space', 'my key'], ['256 characters', 'k'.repeat(256)],
    ['a non-ASCII byte', 'clé']]) {
    test(`a malformed key (${label}) → 400 invalid-header`, async () => {
      const headers = { 'idempotency-key': key };
      const r = key === 'clé'
        ? await sendRaw('POST', P(), JSON.stringify(bad()), { 'content-type': 'application/json', 'idempotency-key': Buffer.from(key).toString('latin1') })
        : await send('POST', P(), bad(), TOKEN, headers);
      assertProblem(assert, r, 400, { type: '/problems/invalid-header', param: 'Idempotency-Key' });
      assert.equal(r.body.detail, 'Idempotency-Key must be 1 to 255 visible ASCII characters');
    });
  }

  test('a 255-character key is accepted', async () => {
    const key = `${RUN}${'k'.repeat(247)}`;
    assert.equal(key.length, 255);
    const r = await create(valid(), { 'idempotency-key': key });
    assert.equal(r.headers.get('idempotency-replayed'), null);
  });
});

describe('PATCH, PUT, DELETE', () => {
  test('PATCH (merge-patch+json) changes only the fields sent; version + 1; updated_at moves, created_at not', async () => {
    const c = await create(valid({ description: 'before', stock: 3, image: '/images/a.svg' }));
    const id = c.body.id;
    // warm the cache: the patch must still be seen on the very next read
    await until('the product is cached', 3000, async () => (await get(P(id))).headers.get('x-cache') === 'HIT');
    await sleep(15);
    const r = await send('PATCH', P(id), { price: 7.5, stock: 4 }, TOKEN, { 'content-type': 'application/merge-patch+json' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('etag'), '"v2"');
    assert.equal(r.headers.get('content-type'), 'application/json');
    assertProduct(r.body);
    assert.deepEqual(r.body, { ...c.body, price: 7.5, stock: 4, version: 2, updated_at: r.body.updated_at });
    assert.equal(r.body.created_at, c.body.created_at);
    assert.ok(Date.parse(r.body.updated_at) > Date.parse(c.body.updated_at), `${r.body.updated_at} after ${c.body.updated_at}`);
    const g = await get(P(id));
    assert.equal(g.headers.get('etag'), '"v2"');
    assert.deepEqual(g.body, r.body);

    // application/json works for PATCH too
    await sleep(15);
    const j = await send('PATCH', P(id), { name: `${c.body.name} renamed` }, TOKEN);
    assert.equal(j.status, 200, j.text);
    assert.equal(j.headers.get('etag'), '"v3"');
    assert.equal(j.body.version, 3);
    assert.equal(j.body.name, `${c.body.name} renamed`);
    assert.equal(j.body.price, 7.5);
    assert.ok(Date.parse(j.body.updated_at) > Date.parse(r.body.updated_at));
    assert.deepEqual((await get(P(id))).body, j.body);
  });

  test('PATCH null clears description and image; null on a required field → 422', async () => {
    const c = await create(valid({ description: 'words', image: 'https://img.example/a.png', stock: 2 }));
    const r = await send('PATCH', P(c.body.id), { description: null, image: null }, TOKEN,
      { 'content-type': 'application/merge-patch+json' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.description, null);
    assert.equal(r.body.image, null);
    assert.equal(r.body.stock, 2);
    assert.equal(r.body.version, 2);
    const stored = mongo(`db.products.findOne({_id: ObjectId("${c.body.id}")}, {description: 1, image: 1, _id: 0})`);
    assert.deepEqual(stored, {}, 'cleared fields are removed from the document');
    for (const field of ['name', 'price', 'category', 'stock']) {
      const n = await send('PATCH', P(c.body.id), { [field]: null }, TOKEN, { 'content-type': 'application/merge-patch+json' });
      assertInvalid(n, [[field, 'is required and cannot be null']]);
    }
    assert.equal((await get(P(c.body.id))).body.version, 2);
  });

  test('PUT replaces the product: absent optional fields are removed, stock back to 0', async () => {
    const c = await create(valid({ description: 'long', image: '/images/b.svg', stock: 9 }));
    await sleep(15);
    const body = { name: uname('replaced'), price: 3, category: 'garden' };
    const r = await send('PUT', P(c.body.id), body, TOKEN);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('etag'), '"v2"');
    assert.deepEqual(r.body, {
      id: c.body.id, name: body.name, description: null, price: 3, currency: 'USD', category: 'garden', stock: 0,
      image: null, created_at: c.body.created_at, updated_at: r.body.updated_at, version: 2,
    });
    assert.ok(Date.parse(r.body.updated_at) > Date.parse(c.body.updated_at));
    assert.deepEqual((await get(P(c.body.id))).body, r.body);
    // PUT needs the required fields like POST
    const partial = await send('PUT', P(c.body.id), { name: uname('bad') }, TOKEN);
    assertInvalid(partial, [['price', 'is required'], ['category', 'is required']]);
    // and only application/json
    const mp = await send('PUT', P(c.body.id), body, TOKEN, { 'content-type': 'application/merge-patch+json' });
    assertProblem(assert, mp, 415, { type: '/problems/unsupported-media-type' });
    assert.equal(mp.body.detail, 'send the body as application/json');
  });

  test('DELETE → 204 without a body; then GET → 404 and DELETE again → 404', async () => {
    const c = await create();
    await get(P(c.body.id)); // cached
    const d = await send('DELETE', P(c.body.id), undefined, TOKEN);
    assert.equal(d.status, 204);
    assert.equal(d.text, '');
    assert.equal(d.headers.get('etag'), null);
    const g = await get(P(c.body.id));
    assertProblem(assert, g, 404, { type: '/problems/not-found' });
    const again = await send('DELETE', P(c.body.id), undefined, TOKEN);
    assertProblem(assert, again, 404, { type: '/problems/not-found' });
    assert.equal(again.body.detail, `no product has the id ${c.body.id}`);
    assert.equal(countByName(c.body.name), 0);
  });

  test('PUT, PATCH, DELETE on an absent id → 404; upper-case hex is the same product', async () => {
    for (const [method, body] of [['PUT', valid()], ['PATCH', { stock: 1 }], ['DELETE', undefined]]) {
      const r = await send(method, P(ABSENT_ID), body, TOKEN);
      assertProblem(assert, r, 404, { type: '/problems/not-found' });
      assert.equal(r.body.detail, `no product has the id ${ABSENT_ID}`);
    }
    const c = await create();
    const r = await send('PATCH', P(c.body.id.toUpperCase()), { stock: 5 }, TOKEN);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.id, c.body.id);
    assert.equal((await get(P(c.body.id))).body.stock, 5);
  });

  for (const id of ['xyz', '0123456789abcdef0123456', '0123456789abcdef012345678', 'g123456789abcdef01234567',
    '%7B%22%24ne%22%3A1%7D']) {
    test(`malformed id ${id} → 400 invalid-parameter "id" (PUT, PATCH, DELETE)`, async () => {
      for (const [method, body] of [['PUT', bad()], ['PATCH', { stock: 1 }], ['DELETE', undefined]]) {
        const r = await send(method, `${B}/api/products/${id}`, body, TOKEN);
        assertProblem(assert, r, 400, { type: '/problems/invalid-parameter', param: 'id' });
        assert.equal(r.body.detail, 'a product id is 24 hexadecimal digits');
      }
    });
  }

  test('a query string on a write → 400 naming the parameter', async () => {
    const r = await send('POST', `${P()}?upsert=true`, bad(), TOKEN);
    assertProblem(assert, r, 400, { type: '/problems/invalid-parameter', param: 'upsert' });
  });
});

describe('read-only fields', () => {
  test('equal to the current values: accepted (PATCH and PUT)', async () => {
    const c = await create(valid({ stock: 1 }));
    const ro = { id: c.body.id, version: 1, created_at: c.body.created_at, updated_at: c.body.updated_at, currency: 'USD' };
    const r = await send('PATCH', P(c.body.id), { ...ro, stock: 2 }, TOKEN);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.stock, 2);
    assert.equal(r.body.version, 2);
    const full = { ...r.body };
    const u = await send('PUT', P(c.body.id), { ...full, stock: 3 }, TOKEN); // a GET body sent back as is
    assert.equal(u.status, 200, u.text);
    assert.equal(u.body.stock, 3);
    assert.equal(u.body.version, 3);
  });

  test('timestamps: one format (milliseconds, Z) for seeded and new products; an echoed timestamp is compared as an instant', async () => {
    const seeded = (await get(`${B}/api/products?limit=100&order=created_at`)).body.products;
    const c = await create();
    for (const p of [...seeded, c.body]) {
      assert.match(p.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, p.created_at);
      assert.match(p.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, p.updated_at);
    }
    // the same instant in other RFC 3339 spellings is "the current value"
    const ms = Date.parse(c.body.created_at);
    const plusOne = new Date(ms + 3600000).toISOString().replace(/Z$/, '+01:00');
    const r = await send('PATCH', P(c.body.id), { created_at: plusOne, stock: 4 }, TOKEN);
    assert.equal(r.status, 200, r.text);
    const whole = new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');
    if (ms % 1000 === 0) {
      assert.equal((await send('PATCH', P(c.body.id), { created_at: whole, stock: 5 }, TOKEN)).status, 200);
    }
    // another instant, even by a millisecond, is not
    const off = await send('PATCH', P(c.body.id), { created_at: new Date(ms + 1).toISOString(), stock: 6 }, TOKEN);
    assertInvalid(off, [['created_at', `is read-only (it is ${c.body.created_at})`]]);
  });

  test('different values → 422 naming the field; nothing changes', async () => {
    const c = await create();
    const cases = [
      [{ id: ABSENT_ID }, 'id', `is read-only (it is ${c.body.id})`],
      [{ version: 7 }, 'version', 'is read-only (it is 1); use If-Match to guard a write'],
      [{ created_at: '2020-01-01T00:00:00Z' }, 'created_at', `is read-only (it is ${c.body.created_at})`],
      [{ updated_at: '2020-01-01T00:00:00Z' }, 'updated_at', `is read-only (it is ${c.body.updated_at})`],
      [{ currency: 'EUR' }, 'currency', 'is read-only (it is USD)'],
    ];
    for (const [extra, field, reason] of cases) {
      for (const method of ['PATCH', 'PUT']) {
        const body = method === 'PATCH' ? { stock: 9, ...extra } : { ...valid(), ...extra };
        const r = await send(method, P(c.body.id), body, TOKEN);
        assertInvalid(r, [[field, reason]]);
      }
    }
    // wrong types are refused before the database is asked
    const t = await send('PATCH', P(c.body.id), { version: '1', id: 5 }, TOKEN);
    assertInvalid(t, [['version', 'is read-only; when sent it must be the current version number'],
      ['id', 'is read-only; when sent it must be the current value']]);
    const g = await get(P(c.body.id));
    assert.deepEqual(g.body, c.body);
  });
});

describe('If-Match', () => {
  let id;
  before(async () => { id = (await create(valid({ stock: 1 }))).body.id; });

  test('"v1" matches → 200 "v2"; W/"v2" matches → 200 "v3"; "*" matches → 200 "v4"', async () => {
    let r = await send('PATCH', P(id), { stock: 2 }, TOKEN, { 'if-match': '"v1"' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('etag'), '"v2"');
    r = await send('PATCH', P(id), { stock: 3 }, TOKEN, { 'if-match': 'W/"v2"' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('etag'), '"v3"');
    r = await send('PUT', P(id), valid({ stock: 4 }), TOKEN, { 'if-match': '*' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('etag'), '"v4"');
    assert.equal(r.body.stock, 4);
  });

  test('a stale version → 412 with current_version and the current ETag; nothing changes', async () => {
    for (const [method, body] of [['PATCH', { stock: 99 }], ['PUT', valid({ stock: 99 })]]) {
      for (const tag of ['"v1"', 'W/"v3"', '"v5"', '"abc"']) {
        const r = await send(method, P(id), body, TOKEN, { 'if-match': tag });
        assertProblem(assert, r, 412, { type: '/problems/precondition-failed' });
        assert.deepEqual(Object.keys(r.body), [...PROBLEM_KEYS, 'current_version']);
        assert.equal(r.body.current_version, 4);
        assert.equal(r.headers.get('etag'), '"v4"');
        assert.equal(r.body.detail, 'the product was changed by someone else: it is at version 4; reload it and retry');
      }
    }
    const g = await get(P(id));
    assert.equal(g.body.version, 4);
    assert.equal(g.body.stock, 4);
  });

  test('DELETE with a stale If-Match → 412 and the product still exists; with the current one → 204', async () => {
    const r = await send('DELETE', P(id), undefined, TOKEN, { 'if-match': '"v3"' });
    assertProblem(assert, r, 412, { type: '/problems/precondition-failed' });
    assert.equal(r.body.current_version, 4);
    assert.equal(r.headers.get('etag'), '"v4"');
    assert.equal((await get(P(id))).status, 200);
    const d = await send('DELETE', P(id), undefined, TOKEN, { 'if-match': '"v4"' });
    assert.equal(d.status, 204);
    assertProblem(assert, await get(P(id)), 404, { type: '/problems/not-found' });
  });

  for (const tag of ['v1', '"v1', 'W/v1', 'v1"']) {
    test(`malformed If-Match ${tag} → 400 invalid-header`, async () => {
      const c = await create();
      for (const [method, body] of [['PATCH', { stock: 1 }], ['PUT', valid()], ['DELETE', undefined]]) {
        const r = await send(method, P(c.body.id), body, TOKEN, { 'if-match': tag });
        assertProblem(assert, r, 400, { type: '/problems/invalid-header', param: 'If-Match' });
        assert.equal(r.body.detail, 'If-Match must be "*" or up to 32 entity tags such as "v3"');
      }
      assert.deepEqual((await get(P(c.body.id))).body, c.body);
    });
  }
});

describe('validation (422 with every invalid field named; nothing written)', () => {
  let totalBefore;
  let createdBefore;
  before(() => {
    totalBefore = mongo('db.products.countDocuments({})');
    createdBefore = created;
  });

  const without = (k) => { const b = bad(); delete b[k]; return b; };
  const cases = [
    ['name empty', () => bad({ name: '' }), [['name', 'must be 1 to 200 characters long (got 0)']]],
    ['name 201 characters', () => bad({ name: `${BAD_PREFIX}${'n'.repeat(201 - BAD_PREFIX.length)}` }),
      [['name', 'must be 1 to 200 characters long (got 201)']]],
    ['name 201 code points', () => bad({ name: 'é'.repeat(201) }), [['name', 'must be 1 to 200 characters long (got 201)']]],
    ['name blank', () => bad({ name: '   ' }), [['name', 'must not be blank']]],
    ['name a number', () => bad({ name: 5 }), [['name', 'must be a string, not a number']]],
    ['name an array', () => bad({ name: ['a'] }), [['name', 'must be a string, not an array']]],
    ['name with a control character', () => bad({ name: `${BAD_PREFIX}\u0007` }), [['name', 'must not contain control characters']]],
    ['name missing', () => without('name'), [['name', 'is required']]],
    ['description 5001 characters', () => bad({ description: 'd'.repeat(5001) }),
      [['description', 'must be at most 5000 characters long (got 5001)']]],
    ['description a boolean', () => bad({ description: true }), [['description', 'must be a string, not a boolean']]],
    ['price negative', () => bad({ price: -1 }), [['price', PRICE_REASON]]],
    ['price -0.01', () => bad({ price: -0.01 }), [['price', PRICE_REASON]]],
    ['price 3 decimals (1.005)', () => bad({ price: 1.005 }), [['price', PRICE_REASON]]],
    ['price 3 decimals (19.999)', () => bad({ price: 19.999 }), [['price', PRICE_REASON]]],
    ['price a string "1"', () => bad({ price: '1' }), [['price', 'must be a number, not a string']]],
    ['price over 1e9 (1000000000.01)', () => bad({ price: 1000000000.01 }), [['price', PRICE_REASON]]],
    ['price 1e10', () => bad({ price: 1e10 }), [['price', PRICE_REASON]]],
    ['price missing', () => without('price'), [['price', 'is required']]],
    ['category not a slug (upper case)', () => bad({ category: 'Books' }), [['category', SLUG_REASON]]],
    ['category not a slug (space)', () => bad({ category: 'home kitchen' }), [['category', SLUG_REASON]]],
    ['category not a slug (double hyphen)', () => bad({ category: 'home--kitchen' }), [['category', SLUG_REASON]]],
    ['category not a slug (65 characters)', () => bad({ category: 'a'.repeat(65) }), [['category', SLUG_REASON]]],
    ['category a number', () => bad({ category: 1 }), [['category', 'must be a string, not a number']]],
    ['category missing', () => without('category'), [['category', 'is required']]],
    ['stock 1.5', () => bad({ stock: 1.5 }), [['stock', STOCK_REASON]]],
    ['stock -1', () => bad({ stock: -1 }), [['stock', STOCK_REASON]]],
    ['stock 2147483648', () => bad({ stock: 2147483648 }), [['stock', STOCK_REASON]]],
    ['stock a string', () => bad({ stock: '3' }), [['stock', 'must be an integer, not a string']]],
    ['image javascript:', () => bad({ image: 'javascript:alert(1)' }), [['image', IMAGE_REASON]]],
    ['image protocol-relative', () => bad({ image: '//evil.example/x' }), [['image', IMAGE_REASON]]],
    ['image data: URL', () => bad({ image: 'data:image/svg+xml,<svg/>' }), [['image', IMAGE_REASON]]],
    ['image with a space', () => bad({ image: '/images/a b.svg' }), [['image', IMAGE_REASON]]],
    ['image 2049 characters', () => bad({ image: `/images/${'a'.repeat(2041)}` }),
      [['image', 'must be 1 to 2048 characters long (got 2049)']]],
    ['image empty', () => bad({ image: '' }), [['image', 'must be 1 to 2048 characters long (got 0)']]],
    ['unknown field', () => bad({ color: 'red' }), [['color', NOT_A_FIELD]]],
    ['a key starting with $', () => bad({ $where: 'true' }), [['$where', READ_ONLY_REASON]]],
    ['a key containing .', () => bad({ 'price.cents': 1 }), [['price.cents', READ_ONLY_REASON]]],
    ['operator object as name', () => bad({ name: { $gt: '' } }), [['name', 'must be a string, not an operator object']]],
    ['operator object as price', () => bad({ price: { $ne: 0 } }), [['price', 'must be a number, not an operator object']]],
    ['$set at the top', () => bad({ $set: { price: 0 } }), [['$set', READ_ONLY_REASON]]],
    ['several errors at once', () => ({ name: '', price: -1, category: 'Not A Slug', stock: 1.5, image: 'ftp://x', color: 1 }), [
      ['name', 'must be 1 to 200 characters long (got 0)'], ['price', PRICE_REASON], ['category', SLUG_REASON],
      ['stock', STOCK_REASON], ['image', IMAGE_REASON], ['color', NOT_A_FIELD]]],
    ['an empty object', () => ({}), [['name', 'is required'], ['price', 'is required'], ['category', 'is required']]],
  ];
  for (const [label, make, errors] of cases) {
    test(`POST: ${label}`, async () => {
      assertInvalid(await send('POST', P(), make(), TOKEN), errors);
    });
  }

  test('POST: an unknown category → 422 naming category', async () => {
    const r = await send('POST', P(), bad({ category: 'no-such-category' }), TOKEN);
    assertInvalid(r, [['category', "no category has the slug 'no-such-category' (see /api/categories)"]]);
  });

  test('a duplicate key in the raw JSON → 422 naming it', async () => {
    const raw = `{"name":"${uname('bad')}","price":1,"category":"books","price":0}`;
    assertInvalid(await send('POST', P(), raw, TOKEN), [['price', 'appears more than once']]);
  });

  for (const [label, raw, what] of [['an array', `[${JSON.stringify(bad())}]`, 'an array'], ['a string', '"x"', 'a string'],
    ['null', 'null', 'null'], ['a number', '1', 'a number']]) {
    test(`body ${label} → 422 with field ""`, async () => {
      assertInvalid(await send('POST', P(), raw, TOKEN), [['', `the body must be a JSON object, not ${what}`]]);
    });
  }

  test('more than 32 members → 422 saying so (nothing written); up to 32, every bad field is listed', async () => {
    const b = bad();
    for (let i = 0; i < 40; i++) b[`x${i}`] = i;
    const r = await send('POST', P(), b, TOKEN);
    assertProblem(assert, r, 422, { type: '/problems/validation' });
    assert.deepEqual(r.body.errors, [{ field: '', reason: `the body has ${Object.keys(b).length} fields; a product has at most 32` }]);
    const c = {};
    for (let i = 0; i < 32; i++) c[`x${i}`] = i;
    const r2 = await send('POST', P(), c, TOKEN);
    assertProblem(assert, r2, 422, { type: '/problems/validation' });
    const unknown = r2.body.errors.filter((e) => e.reason === NOT_A_FIELD).map((e) => e.field);
    assert.deepEqual(unknown, Object.keys(c));
  });

  test('PATCH: injection payloads → 422 and the document is unchanged', async () => {
    const c = await create(valid({ price: 5, stock: 2 }));
    const id = c.body.id;
    const payloads = [
      [{ name: { $gt: '' } }, [['name', 'must be a string, not an operator object']]],
      [{ price: { $ne: 0 } }, [['price', 'must be a number, not an operator object']]],
      [{ $set: { price: 0 } }, [['$set', READ_ONLY_REASON]]],
      [{ $unset: { name: '' } }, [['$unset', READ_ONLY_REASON]]],
      [{ 'name.$': 'x' }, [['name.$', READ_ONLY_REASON]]],
      [{ stock: { $inc: 5 } }, [['stock', 'must be an integer, not an operator object']]],
      [{ category: { $in: ['books'] } }, [['category', 'must be a string, not an operator object']]],
    ];
    for (const [body, errors] of payloads) {
      for (const ct of ['application/json', 'application/merge-patch+json']) {
        assertInvalid(await send('PATCH', P(id), body, TOKEN, { 'content-type': ct }), errors);
      }
      assertInvalid(await send('PUT', P(id), { ...valid(), ...body }, TOKEN), errors);
    }
    const stored = mongo(`db.products.find({_id: ObjectId("${id}")}).toArray()
      .map((d) => ({name: d.name, price_cents: Number(d.price_cents), stock: Number(d.stock), version: Number(d.version)}))`);
    assert.deepEqual(stored, [{ name: c.body.name, price_cents: 500, stock: 2, version: 1 }]);
    assert.deepEqual((await get(P(id))).body, c.body);
  });

  test('malformed JSON → 400 malformed-json', async () => {
    for (const raw of ['{"name":', '{name: "x"}', "{'name':'x'}", '{"name":"x",}', '{"a":1} {"b":2}', 'NaN', '{"price": .5}',
      '{"price": +1}', '{"name":"a\\xb"}', '{"name":"x"/*c*/}', '{"price": Infinity}']) {
      const r = await send('POST', P(), raw, TOKEN);
      assertProblem(assert, r, 400, { type: '/problems/malformed-json' });
      assert.match(r.body.detail, /^the body is not valid JSON: .+ \(line \d+, column \d+\)$/);
    }
  });

  test('empty body → 400 (POST, PUT, PATCH)', async () => {
    const c = await create();
    for (const [method, url] of [['POST', P()], ['PUT', P(c.body.id)], ['PATCH', P(c.body.id)]]) {
      const r = await sendRaw(method, url, '', { 'content-type': 'application/json' });
      assertProblem(assert, r, 400, { type: '/problems/malformed-json' });
      assert.equal(r.body.detail, 'the body is empty; send a JSON object');
    }
    const none = await get(P(c.body.id), { method: 'PATCH', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } });
    assertProblem(assert, none, 400, { type: '/problems/malformed-json' });
  });

  test('invalid UTF-8 → 400', async () => {
    const head = Buffer.from(`{"name":"${uname('bad')}`);
    const tail = Buffer.from('","price":1,"category":"books"}');
    for (const bytes of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]) {
      const r = await sendRaw('POST', P(), Buffer.concat([head, Buffer.from(bytes), tail]), { 'content-type': 'application/json' });
      assertProblem(assert, r, 400, { type: '/problems/malformed-json' });
      assert.equal(r.body.detail, 'the body is not valid UTF-8');
    }
  });

  test('a \\u0000 escape → 400', async () => {
    for (const raw of [`{"name":"${uname('bad')}\\u0000x","price":1,"category":"books"}`,
      `{"name":"${uname('bad')}","price":1,"category":"books","description":"\\u0000"}`]) {
      const r = await send('POST', P(), raw, TOKEN);
      assertProblem(assert, r, 400, { type: '/problems/malformed-json' });
      assert.equal(r.body.detail, 'the body contains a NUL character (\\u0000)');
    }
  });

  test('the text \\u0000 (an escaped backslash, then u0000) is no NUL: stored as those six characters', async () => {
    const name = uname();
    const r = await send('POST', P(), `{"name":"${name}","price":1,"category":"books","description":"a\\\\u0000b\\\\\\u0041"}`, TOKEN);
    assert.equal(r.status, 201, r.text);
    created++;
    assert.equal(r.body.description, 'a\\u0000b\\A');
  });

  test('Content-Type text/plain, form, missing or with a foreign charset → 415', async () => {
    const c = await create();
    const raw = JSON.stringify(bad());
    for (const ct of ['text/plain', 'application/x-www-form-urlencoded', undefined, 'application/json; charset=latin1',
      'application/jsonp', 'application/json-patch+json']) {
      for (const [method, url, detail] of [['POST', P(), 'send the body as application/json'],
        ['PUT', P(c.body.id), 'send the body as application/json'],
        ['PATCH', P(c.body.id), 'send the body as application/merge-patch+json or application/json']]) {
        const r = await sendRaw(method, url, Buffer.from(raw), ct ? { 'content-type': ct } : {});
        assertProblem(assert, r, 415, { type: '/problems/unsupported-media-type' });
        assert.equal(r.body.detail, detail);
      }
    }
    assert.deepEqual((await get(P(c.body.id))).body, c.body);
  });

  test('merge-patch+json is for PATCH only: POST with it → 415', async () => {
    const r = await send('POST', P(), bad(), TOKEN, { 'content-type': 'application/merge-patch+json' });
    assertProblem(assert, r, 415, { type: '/problems/unsupported-media-type' });
    assert.equal(r.body.detail, 'send the body as application/json');
  });

  test('a body over 64 KiB (65537 bytes) → 413; 65536 bytes is read (and judged)', async () => {
    const sized = (n) => {
      const b = `{"name":"${uname('bad')}","price":1,"category":"books","description":"`;
      return { raw: `${b}${'d'.repeat(n - b.length - 2)}"}`, descLen: n - b.length - 2 };
    };
    const big = sized(65537).raw;
    assert.equal(Buffer.byteLength(big), 65537);
    for (const [method, url] of [['POST', P()], ['PATCH', P(ABSENT_ID)], ['PUT', P(ABSENT_ID)]]) {
      const r = await send(method, url, big, TOKEN);
      assertProblem(assert, r, 413, { type: '/problems/payload-too-large' });
      assert.equal(r.body.detail, 'request bodies are limited to 65536 bytes');
    }
    const edge = sized(65536);
    assert.equal(Buffer.byteLength(edge.raw), 65536);
    assertInvalid(await send('POST', P(), edge.raw, TOKEN),
      [['description', `must be at most 5000 characters long (got ${edge.descLen})`]]);
  });

  test('none of the refused requests reached MongoDB', () => {
    const after = mongo(`{total: db.products.countDocuments({}),
      bad: db.products.countDocuments({name: {$regex: ${JSON.stringify(`^${BAD_PREFIX}`)}}})}`);
    assert.equal(after.bad, 0);
    // the only new documents are the ones this block created on purpose (201s)
    assert.equal(after.total, totalBefore + (created - createdBefore));
  });
});

describe('strict JSON (RFC 8259): bodies a lenient parser would take are 400', () => {
  // Each body is a valid product but for one syntax error; accepting it would
  // store data the client never wrote as JSON (e.g. price 01 read as 1).
  const cases = [
    ['a leading zero', (n) => `{"name":"${n}","price":01,"category":"books"}`],
    ['a negative leading zero', (n) => `{"name":"${n}","price":-01,"category":"books"}`],
    ['a trailing decimal point', (n) => `{"name":"${n}","price":1.,"category":"books"}`],
    ['a raw tab inside a string', (n) => `{"name":"${n}","price":1,"category":"books","description":"a\tb"}`],
    ['a raw line feed inside a string', (n) => `{"name":"${n}","price":1,"category":"books","description":"a\nb"}`],
  ];
  for (const [label, make] of cases) {
    test(`${label} → 400 malformed-json, nothing stored`, async () => {
      const name = uname('lenient');
      const r = await send('POST', P(), make(name), TOKEN);
      assertProblem(assert, r, 400, { type: '/problems/malformed-json' });
      assert.match(r.body.detail, /^the body is not valid JSON: .+ \(line \d+, column \d+\)$/);
      const list = await get(`${B}/api/products?q=${encodeURIComponent(name)}`);
      assert.equal(list.body.count, 0, `stored: ${JSON.stringify(list.body.products)}`);
    });
  }
});

describe('query-string injection on reads', () => {
  for (const [qs, param] of [['id[$ne]=1', 'id[$ne]'], ['category[$gt]=', 'category[$gt]'], ['price[$gt]=0', 'price[$gt]'],
    ['category[$ne]=books', 'category[$ne]'], ['%24where=1', '$where'], ['name[$regex]=.*', 'name[$regex]']]) {
    test(`GET /api/products?${qs} → 400 naming ${param}`, async () => {
      const r = await get(`${B}/api/products?${qs}`);
      assertProblem(assert, r, 400, { type: '/problems/invalid-parameter', param });
    });
  }

  test('operator-looking values are literal: category={"$ne":null} → 400, q={"$gt":""} matches nothing', async () => {
    const c = await get(`${B}/api/products?category=${encodeURIComponent('{"$ne":null}')}`);
    assertProblem(assert, c, 400, { type: '/problems/invalid-parameter', param: 'category' });
    const q = await get(`${B}/api/products?q=${encodeURIComponent('{"$gt":""}')}`);
    assert.equal(q.status, 200);
    assert.equal(q.body.count, 0);
    assert.deepEqual(q.body.products, []);
  });

  test('?category=books returns only books, exactly as many as MongoDB holds', async () => {
    const stored = mongo('db.products.countDocuments({category: "books"})');
    const seen = [];
    for (let offset = 0; ; offset += 100) {
      const r = await get(`${B}/api/products?category=books&limit=100&offset=${offset}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.count, stored);
      seen.push(...r.body.products);
      if (r.body.products.length < 100) break;
    }
    assert.equal(seen.length, stored);
    assert.deepEqual([...new Set(seen.map((p) => p.category))], ['books']);
    for (const p of seen) assert.deepEqual(Object.keys(p), PRODUCT_KEYS);
  });
});

describe('auth on writes', () => {
  let id;
  before(async () => { id = (await create()).body.id; });

  test('no Authorization → 401 with WWW-Authenticate Bearer realm="catalog" (every write)', async () => {
    for (const [method, url, body] of [['POST', P(), bad()], ['PUT', P(id), bad()], ['PATCH', P(id), { stock: 1 }],
      ['DELETE', P(id), undefined]]) {
      const r = await send(method, url, body);
      assertUnauthorized(r);
      assert.equal(r.body.detail, 'this needs an Authorization: Bearer <token> header (sign in at /api/auth/login)');
    }
  });

  test('a token in the query string is not accepted', async () => {
    const r = await send('POST', `${P()}?access_token=${TOKEN}`, bad());
    assertUnauthorized(r);
    const d = await send('DELETE', `${P(id)}?access_token=${TOKEN}`);
    assertUnauthorized(d);
    assert.equal((await get(P(id))).status, 200);
  });

  test('not a Bearer header → 401 invalid_token', async () => {
    for (const h of [`Basic ${Buffer.from(`${TEST_ADMIN.username}:${TEST_ADMIN.password}`).toString('base64')}`, TOKEN, 'Bearer']) {
      const r = await get(P(), { method: 'POST', headers: { authorization: h, 'content-type': 'application/json' }, body: JSON.stringify(bad()) });
      assertUnauthorized(r, "the Authorization header must be 'Bearer <token>'");
    }
  });

  const now = () => Math.floor(Date.now() / 1000);
  const forged = [
    ['alg none, no signature', () => mintToken({}, { header: { alg: 'none', typ: 'JWT' }, sign: false }),
      "the token's algorithm is not accepted (only HS256 is)"],
    ['alg none with an HS256 signature', () => mintToken({}, { header: { alg: 'none' } }),
      "the token's algorithm is not accepted (only HS256 is)"],
    ['alg HS512 header', () => mintToken({}, { header: { alg: 'HS512', typ: 'JWT' } }),
      "the token's algorithm is not accepted (only HS256 is)"],
    ['alg RS256 header', () => mintToken({}, { header: { alg: 'RS256', typ: 'JWT' } }),
      "the token's algorithm is not accepted (only HS256 is)"],
    ['alg hs256 (case)', () => mintToken({}, { header: { alg: 'hs256' } }), "the token's algorithm is not accepted (only HS256 is)"],
    ['wrong secret', () => mintToken({}, { secret: 'not-the-secret-0123456789abcdef0123' }), "the token's signature does not verify"],
    ['a tampered payload', () => {
      const [h, , sig] = mintToken({ role: 'viewer' }).split('.');
      const claims = JSON.parse(Buffer.from(mintToken().split('.')[1], 'base64url'));
      return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
    }, "the token's signature does not verify"],
    ['expired', () => mintToken({ iat: now() - 7200, exp: now() - 3600 }), 'the token has expired'],
    ['expired a second ago', () => mintToken({ iat: now() - 100, exp: now() - 1 }), 'the token has expired'],
    ['nbf far in the future', () => mintToken({ nbf: now() + 3600, exp: now() + 7200 }), 'the token is not valid yet'],
    ['iat far in the future', () => mintToken({ iat: now() + 3600, exp: now() + 7200 }), 'the token is not valid yet'],
    ['no sub', () => mintToken({ sub: undefined }), 'the token lacks a required claim (sub, role, iat, exp, jti)'],
    ['no jti', () => mintToken({ jti: undefined }), 'the token lacks a required claim (sub, role, iat, exp, jti)'],
    ['no exp', () => mintToken({ exp: undefined }), 'the token lacks a required claim (sub, role, iat, exp, jti)'],
    ['no role', () => mintToken({ role: undefined }), 'the token lacks a required claim (sub, role, iat, exp, jti)'],
    ['role root', () => mintToken({ role: 'root' }), 'the token lacks a required claim (sub, role, iat, exp, jti)'],
    ['role Admin', () => mintToken({ role: 'Admin' }), 'the token lacks a required claim (sub, role, iat, exp, jti)'],
    ['exp a string', () => mintToken({ exp: String(now() + 600) }), 'the token lacks a required claim (sub, role, iat, exp, jti)'],
    ['not a JWT', () => 'not-a-jwt', 'the token is not a well-formed JWT'],
    ['two segments', () => mintToken().split('.').slice(0, 2).join('.'), /^the token('s signature does not verify| is not a well-formed JWT)$/],
    ['an empty signature', () => `${mintToken().split('.').slice(0, 2).join('.')}.`, /^the token('s signature does not verify| is not a well-formed JWT)$/],
  ];
  for (const [label, make, description] of forged) {
    test(`forged token (${label}) → 401 invalid_token`, async () => {
      const tok = make();
      const r = await send('POST', P(), bad(), tok);
      assertUnauthorized(r, description);
      assertUnauthorized(await send('DELETE', P(id), undefined, tok), description);
    });
  }

  test('a viewer token → 403 forbidden on every write', async () => {
    const viewer = mintToken({ role: 'viewer', sub: 'someone' });
    for (const [method, url, body] of [['POST', P(), bad()], ['PUT', P(id), bad()], ['PATCH', P(id), { stock: 1 }],
      ['DELETE', P(id), undefined]]) {
      const r = await send(method, url, body, viewer);
      assertProblem(assert, r, 403, { type: '/problems/forbidden' });
      assert.equal(r.body.detail, "this needs the admin role; the token's role is viewer");
      assert.equal(r.headers.get('www-authenticate'), null);
    }
    assert.equal((await get(P(id))).status, 200);
  });

  test('an admin token from login works; a minted admin token works', async () => {
    const fresh = await login(B);
    assert.notEqual(fresh, TOKEN);
    const r = await send('PATCH', P(id), { stock: 11 }, fresh);
    assert.equal(r.status, 200, r.text);
    const m = await send('PATCH', P(id), { stock: 12 }, mintToken());
    assert.equal(m.status, 200, m.text);
    assert.equal(m.body.stock, 12);
  });

  test('a signed-out (revoked) token → 401 invalid_token', async () => {
    const tok = mintToken();
    assert.equal((await send('PATCH', P(id), { stock: 13 }, tok)).status, 200);
    const out = await send('POST', `${B}/api/auth/logout`, undefined, tok);
    assert.equal(out.status, 204);
    assertUnauthorized(await send('PATCH', P(id), { stock: 14 }, tok), 'the token has been revoked (signed out)');
    assert.equal((await get(P(id))).body.stock, 13);
  });

  test('401 and 403 come before any look at the body', async () => {
    const viewer = mintToken({ role: 'viewer' });
    const wrong = mintToken({}, { secret: 'x'.repeat(40) });
    const bodies = [['{"name":', 'application/json'], [JSON.stringify(bad({ price: -1 })), 'application/json'],
      [JSON.stringify(bad()), 'text/plain'], ['', 'application/json'], ['[1]', 'application/json']];
    for (const [raw, ct] of bodies) {
      for (const [method, url] of [['POST', P()], ['PATCH', P(id)], ['PUT', P('nope')]]) {
        assertUnauthorized(await sendRaw(method, url, raw, { 'content-type': ct }, null));
        assertUnauthorized(await sendRaw(method, url, raw, { 'content-type': ct }, wrong), "the token's signature does not verify");
        assertProblem(assert, await sendRaw(method, url, raw, { 'content-type': ct }, viewer), 403, { type: '/problems/forbidden' });
      }
    }
    // and before bad headers
    const h = await send('POST', P(), bad(), undefined, { 'idempotency-key': 'a b' });
    assertUnauthorized(h);
    const m = await send('PATCH', P(id), { stock: 1 }, undefined, { 'if-match': 'v1' });
    assertUnauthorized(m);
  });
});

describe('concurrency', () => {
  test('500 concurrent creates (10 waves of 50): 500 × 201, 500 documents, 500 distinct ids', async () => {
    const prefix = `T${RUN}-bulk-`;
    const statuses = [];
    const ids = [];
    for (let wave = 0; wave < 10; wave++) {
      const rs = await Promise.all(Array.from({ length: 50 }, (_, i) => send('POST', P(),
        { name: `${prefix}${wave}-${i}`, price: (wave * 50 + i) / 100, category: 'garden', stock: i }, TOKEN)));
      for (const r of rs) {
        statuses.push(r.status);
        if (r.status === 201) {
          ids.push(r.body.id);
          assert.equal(r.body.version, 1);
          assert.equal(r.headers.get('location'), `/api/products/${r.body.id}`);
        }
      }
    }
    const tally = statuses.reduce((m, st) => ({ ...m, [st]: (m[st] || 0) + 1 }), {});
    assert.deepEqual(tally, { 201: 500 });
    assert.equal(new Set(ids).size, 500);
    const stored = mongo(`{n: db.products.countDocuments({name: {$regex: ${JSON.stringify(`^${prefix}`)}}}),
      ids: db.products.distinct('_id', {name: {$regex: ${JSON.stringify(`^${prefix}`)}}}).map((x) => x.toHexString())}`);
    assert.equal(stored.n, 500);
    assert.deepEqual(new Set(stored.ids), new Set(ids));
  });
});

describe('through nginx', () => {
  test('gzip turns the ETag weak; If-Match with the weak tag is accepted', async () => {
    const c = await create(valid({ description: 'long enough to be compressed by nginx. '.repeat(20) }));
    assert.ok(c.text.length >= 512);
    const g = await get(`${N}/api/products/${c.body.id}`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(g.status, 200);
    assert.equal(g.headers.get('content-encoding'), 'gzip');
    const tag = g.headers.get('etag');
    assert.equal(tag, 'W/"v1"');
    assert.deepEqual(g.body, c.body);
    const r = await send('PATCH', `${N}/api/products/${c.body.id}`, { stock: 42 }, TOKEN,
      { 'if-match': tag, 'accept-encoding': 'identity' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('etag'), '"v2"');
    assert.equal(r.body.stock, 42);
    // a stale weak tag is still refused
    const stale = await send('PATCH', `${N}/api/products/${c.body.id}`, { stock: 43 }, TOKEN, { 'if-match': tag });
    assertProblem(assert, stale, 412, { type: '/problems/precondition-failed' });
    assert.equal(stale.body.current_version, 2);
    assert.equal((await get(`${N}/api/products/${c.body.id}`)).body.stock, 42);
  });

  test('POST, PATCH, DELETE through nginx', async () => {
    const c = await create(valid({ price: 2.5 }), {}, N);
    assert.equal(c.headers.get('location'), `/api/products/${c.body.id}`);
    assert.equal(c.headers.get('etag'), '"v1"');
    assert.deepEqual((await get(`${N}${c.headers.get('location')}`)).body, c.body);
    const p = await send('PATCH', `${N}/api/products/${c.body.id}`, { price: 3.25 }, TOKEN,
      { 'content-type': 'application/merge-patch+json', 'if-match': '"v1"' });
    assert.equal(p.status, 200, p.text);
    assert.equal(p.body.price, 3.25);
    assert.equal(p.body.version, 2);
    const d = await send('DELETE', `${N}/api/products/${c.body.id}`, undefined, TOKEN, { 'if-match': '"v2"' });
    assert.equal(d.status, 204);
    assertProblem(assert, await get(`${N}/api/products/${c.body.id}`), 404, { type: '/problems/not-found' });
    assertUnauthorized(await send('POST', `${N}/api/products`, bad()));
  });
});

describe('If-Match lists and read-only fields on create', () => {
  test('If-Match with several tags passes when any names the current version; an empty one → 400', async () => {
    const c = await create(valid());
    const id = c.body.id;
    const ok = await send('PATCH', P(id), { stock: 3 }, TOKEN, { 'if-match': '"v9", W/"v1", "other"' });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers.get('etag'), '"v2"');
    const stale = await send('PATCH', P(id), { stock: 4 }, TOKEN, { 'if-match': '"v9", "v1"' });
    assertProblem(assert, stale, 412, { type: '/problems/precondition-failed' });
    assert.equal(stale.body.current_version, 2);
    assertProblem(assert, await send('PATCH', P(id), { stock: 5 }, TOKEN, { 'if-match': ' ' }), 400,
      { type: '/problems/invalid-header', param: 'If-Match' });
  });

  test('POST: server-assigned fields are refused, currency only when it differs', async () => {
    const body = bad({ id: 'abc', version: 7, created_at: '2020-01-01T00:00:00Z', currency: 'EUR' });
    const r = await send('POST', P(), body, TOKEN);
    assertProblem(assert, r, 422, { type: '/problems/validation' });
    assert.deepEqual(r.body.errors.map((e) => e.field).sort(), ['created_at', 'currency', 'id', 'version']);
    assert.equal(countByName(body.name), 0);
    const same = await send('POST', P(), valid({ currency: 'USD' }), TOKEN);
    assert.equal(same.status, 201, same.text);
  });
});
