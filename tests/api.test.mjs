// The read API, black-box: every endpoint, parameter and error, direct and
// through nginx, against Redis + FerretDB + the real backend.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertProblem, get, rawHttp, startStack } from './lib/stack.mjs';

let s;
let B; // backend, direct
let N; // through nginx
before(async () => {
  s = await startStack({ nginx: true });
  B = s.backend.url;
  N = s.nginxUrl;
});
after(async () => s && s.stop());

const PRODUCT_KEYS = ['id', 'name', 'description', 'price', 'currency', 'category', 'stock', 'image', 'created_at',
  'updated_at', 'version'];
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/;

function assertProduct(p) {
  assert.deepEqual(Object.keys(p), PRODUCT_KEYS);
  assert.match(p.id, /^[0-9a-f]{24}$/);
  assert.equal(typeof p.name, 'string');
  assert.equal(typeof p.price, 'number');
  assert.ok(Math.abs(p.price * 100 - Math.round(p.price * 100)) < 1e-6, `price ${p.price} has at most two decimals`);
  assert.equal(p.currency, 'USD');
  assert.match(p.category, /^[a-z0-9-]+$/);
  assert.ok(Number.isInteger(p.stock) && p.stock >= 0);
  assert.match(p.created_at, RFC3339);
  assert.match(p.updated_at, RFC3339);
  assert.ok(Number.isInteger(p.version) && p.version >= 1);
}

async function allPages(query, limit = 37) {
  const seen = [];
  let url = `${B}/api/products?${query}${query ? '&' : ''}limit=${limit}`;
  for (;;) {
    const r = await get(url);
    assert.equal(r.status, 200);
    seen.push(...r.body.products);
    const link = r.headers.get('link') || '';
    const next = /<([^>]+)>; rel="next"/.exec(link);
    if (!next) return { items: seen, count: r.body.count };
    assert.match(next[1], /^\/api\/products\?/, 'Link URLs are relative');
    url = B + next[1];
  }
}

describe('health', () => {
  for (const where of ['direct', 'nginx']) {
    test(`GET /health (${where})`, async () => {
      const r = await get(`${where === 'direct' ? B : N}/health`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { status: 'OK', service: 'Backend API' });
      assert.equal(r.text, '{"status":"OK","service":"Backend API"}');
    });
  }

  test('GET /health/ready: both checks pass', async () => {
    const r = await get(`${N}/health/ready`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/health+json');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.body.status, 'pass');
    for (const k of ['redis:responseTime', 'mongodb:responseTime']) {
      const [c] = r.body.checks[k];
      assert.equal(c.status, 'pass');
      assert.equal(typeof c.observedValue, 'number');
      assert.equal(c.observedUnit, 'ms');
      assert.match(c.time, RFC3339);
    }
  });
});

describe('GET /api/products', () => {
  test('default page: shape, count, 20 newest first, Link next', async () => {
    const r = await get(`${N}/api/products`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.deepEqual(Object.keys(r.body), ['products', 'count', 'offset', 'limit']);
    assert.ok(r.body.count >= 200);
    assert.equal(r.body.offset, 0);
    assert.equal(r.body.limit, 20);
    assert.equal(r.body.products.length, 20);
    r.body.products.forEach(assertProduct);
    const times = r.body.products.map((p) => p.created_at);
    assert.deepEqual(times, [...times].sort().reverse());
    const last = Math.floor((r.body.count - 1) / 20) * 20;
    assert.equal(r.headers.get('link'), '</api/products?limit=20&offset=20&order=-created_at>; rel="next", '
      + `</api/products?limit=20&offset=0&order=-created_at>; rel="first", </api/products?limit=20&offset=${last}&order=-created_at>; rel="last"`);
    assert.ok(r.headers.get('etag'));
    assert.ok(r.headers.get('x-request-id'));
  });

  test('limit and offset, Link prev and next', async () => {
    const r = await get(`${B}/api/products?limit=5&offset=10`);
    assert.equal(r.body.products.length, 5);
    assert.equal(r.body.offset, 10);
    assert.equal(r.body.limit, 5);
    const last = 10 + Math.floor((r.body.count - 1 - 10) / 5) * 5;
    assert.equal(r.headers.get('link'),
      '</api/products?limit=5&offset=15&order=-created_at>; rel="next", </api/products?limit=5&offset=5&order=-created_at>; rel="prev", '
      + `</api/products?limit=5&offset=0&order=-created_at>; rel="first", </api/products?limit=5&offset=${last}&order=-created_at>; rel="last"`);
    // following rel="last" gives the final matches, and that page has no next
    const end = await get(B + /<([^>]+)>; rel="last"/.exec(r.headers.get('link'))[1]);
    assert.ok(end.body.products.length >= 1 && end.body.products.length <= 5);
    assert.equal(end.body.offset + end.body.products.length, r.body.count);
    assert.doesNotMatch(end.headers.get('link'), /rel="next"/);
    // an unaligned offset keeps its alignment: offset 3, limit 5 → last at 3 + 5k
    const odd = await get(`${B}/api/products?limit=5&offset=3`);
    const oddLast = Number(/offset=(\d+)&order=-created_at>; rel="last"/.exec(odd.headers.get('link'))[1]);
    assert.equal((oddLast - 3) % 5, 0);
    assert.ok(oddLast + 5 >= odd.body.count && oddLast < odd.body.count);
    const all = await get(`${B}/api/products?limit=15`);
    assert.deepEqual(r.body.products.map((p) => p.id), all.body.products.slice(10).map((p) => p.id));
  });

  test('past the end: empty page with the count, prev only', async () => {
    const r = await get(`${B}/api/products?offset=100000`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.products, []);
    assert.ok(r.body.count >= 200);
    assert.match(r.headers.get('link'), /rel="prev"/);
    assert.doesNotMatch(r.headers.get('link'), /rel="next"/);
    // past the end, last is the real last page
    const last = Math.floor((r.body.count - 1) / 20) * 20;
    assert.match(r.headers.get('link'), new RegExp(`offset=${last}&order=-created_at>; rel="last"`));
  });

  for (const order of ['created_at', '-created_at', 'price', '-price', 'name', '-name']) {
    test(`order=${order}: sorted, and paging never repeats or skips (ties broken by id)`, async () => {
      const { items, count } = await allPages(`order=${order}`);
      assert.equal(items.length, count);
      assert.equal(new Set(items.map((p) => p.id)).size, count);
      const field = order.replace('-', '');
      const key = (p) => (field === 'name' ? p.name.toLowerCase() : p[field]);
      const desc = order.startsWith('-');
      for (let i = 1; i < items.length; i++) {
        const a = key(items[i - 1]);
        const b = key(items[i]);
        if (a === b) {
          assert.ok(desc ? items[i - 1].id > items[i].id : items[i - 1].id < items[i].id, 'tie broken by id');
        } else {
          assert.ok(desc ? a > b : a < b, `${order}: ${a} before ${b}`);
        }
      }
    });
  }

  test('name order is case-insensitive', async () => {
    const { items } = await allPages('order=name', 100);
    const lower = items.filter((p) => /^[a-z]/.test(p.name));
    assert.ok(lower.length > 0, 'the seed has names starting in lower case');
    const names = items.map((p) => p.name.toLowerCase());
    assert.deepEqual(names, [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  test('category (repeatable) filters and counts', async () => {
    const one = await get(`${B}/api/products?category=books&limit=100`);
    assert.ok(one.body.count > 0);
    assert.ok(one.body.products.every((p) => p.category === 'books'));
    const two = await get(`${B}/api/products?category=books&category=garden&limit=100`);
    const garden = await get(`${B}/api/products?category=garden&limit=1`);
    assert.equal(two.body.count, one.body.count + garden.body.count);
    assert.ok(two.body.products.every((p) => ['books', 'garden'].includes(p.category)));
    // a category that does not exist is a 400 naming the parameter (as writes do), cached like
    // the page it replaces: the second ask is a HIT, still one lookup
    for (const qs of ['category=no-such-category', 'category=books&category=no-such-category']) {
      const none = await get(`${B}/api/products?${qs}`);
      assertProblem(assert, none, 400, { type: '/problems/invalid-parameter', param: 'category' });
      assert.equal(none.body.detail, "no category has the slug 'no-such-category' (see /api/categories)");
      const again = await get(`${B}/api/products?${qs}`);
      assertProblem(assert, again, 400, { param: 'category' });
      assert.equal(again.headers.get('x-cache'), 'HIT');
    }
  });

  test('min_price / max_price in currency units, inclusive, exact cents', async () => {
    const r = await get(`${B}/api/products?min_price=10&max_price=20.5&limit=100`);
    assert.ok(r.body.count > 0);
    assert.ok(r.body.products.every((p) => p.price >= 10 && p.price <= 20.5));
    const { items } = await allPages('');
    assert.equal(r.body.count, items.filter((p) => p.price >= 10 && p.price <= 20.5).length);
    const exact = items.find((p) => Math.round(p.price * 100) % 100 !== 0);
    const at = await get(`${B}/api/products?min_price=${exact.price}&max_price=${exact.price}&limit=100`);
    assert.ok(at.body.products.some((p) => p.id === exact.id));
  });

  test('in_stock=true|false', async () => {
    const { items } = await allPages('');
    const t = await get(`${B}/api/products?in_stock=true&limit=1`);
    const f = await get(`${B}/api/products?in_stock=false&limit=100`);
    assert.equal(f.body.count, items.filter((p) => p.stock === 0).length);
    assert.ok(f.body.count > 0);
    assert.ok(f.body.products.every((p) => p.stock === 0));
    assert.equal(t.body.count + f.body.count, items.length);
  });

  test('q: case-insensitive substring of name or description, + is a space', async () => {
    const { items } = await allPages('');
    const needle = 'watering can';
    const want = items.filter((p) => p.name.toLowerCase().includes(needle) || p.description.toLowerCase().includes(needle));
    assert.ok(want.length > 0);
    const r = await get(`${B}/api/products?q=WaTeRiNg+CaN&limit=100`);
    assert.deepEqual(r.body.products.map((p) => p.id).sort(), want.map((p) => p.id).sort());
    const d = items.find((p) => p.description.length > 30);
    const word = d.description.slice(5, 20);
    const rd = await get(`${B}/api/products?q=${encodeURIComponent(word)}&limit=100`);
    assert.ok(rd.body.products.some((p) => p.id === d.id), 'matches the description');
  });

  test('q: regex metacharacters are literal', async () => {
    const { items } = await allPages('');
    for (const q of ['C++', '(5th', '[2m]', 'Star*Wars', '"Mega.Deal"', '100%', 'What?', '^$.*+?()[]{}|', 'Café']) {
      const want = items.filter((p) => p.name.toLowerCase().includes(q.toLowerCase())
        || p.description.toLowerCase().includes(q.toLowerCase()));
      const r = await get(`${B}/api/products?q=${encodeURIComponent(q)}&limit=100`);
      assert.equal(r.status, 200, q);
      assert.deepEqual(r.body.products.map((p) => p.id).sort(), want.map((p) => p.id).sort(), q);
      assert.ok(want.length > 0, `the seed has a product with ${q}`);
    }
    // as a regex "n.e" would match "one", "nce", ...; literally it matches next to nothing
    const asRegex = items.filter((p) => /n.e/i.test(p.name) || /n.e/i.test(p.description)).length;
    const dot = await get(`${B}/api/products?q=n.e&limit=100`);
    assert.ok(dot.body.count < asRegex, '"." is not a wildcard');
  });

  test('filters combine', async () => {
    const r = await get(`${B}/api/products?category=electronics&in_stock=true&max_price=100&order=price&limit=100`);
    assert.ok(r.body.products.every((p) => p.category === 'electronics' && p.stock > 0 && p.price <= 100));
    const prices = r.body.products.map((p) => p.price);
    assert.deepEqual(prices, [...prices].sort((a, b) => a - b));
  });

  const bad = [
    ['colour=red', 'colour'], ['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=ten', 'limit'], ['limit=', 'limit'],
    ['limit=5&limit=6', 'limit'], ['offset=-1', 'offset'], ['offset=x', 'offset'], ['min_price=1.999', 'min_price'],
    ['min_price=-5', 'min_price'], ['max_price=1e3', 'max_price'], ['min_price=9&max_price=3', 'max_price'],
    ['in_stock=1', 'in_stock'], ['in_stock=true&in_stock=false', 'in_stock'], ['order=colour', 'order'],
    ['order=price&order=name', 'order'], ['category=Books', 'category'], ['category[$gt]=', 'category[$gt]'],
    ['category=%7B%22%24gt%22%3A%22%22%7D', 'category'], ['q=', 'q'], ['q=a&q=b', 'q'], [`q=${'x'.repeat(101)}`, 'q'],
    ['q=%ff', 'q'], ['%24where=1', '$where'], ['in_stock=true%00junk', 'in_stock'], ['order=price%00x', 'order'],
    ['limit%00x=5', 'limit%00x'], ['%FF=1', '%FF'],
  ];
  for (const [qs, param] of bad) {
    test(`400 naming the parameter: ?${qs.slice(0, 40)}`, async () => {
      const r = await get(`${B}/api/products?${qs}`);
      assertProblem(assert, r, 400, { type: '/problems/invalid-parameter', param });
      assert.ok(r.body.detail.includes(param), r.body.detail);
    });
  }
});

describe('GET /api/products/{id}', () => {
  test('a product, same shape as in the list, ETag from its version', async () => {
    const list = await get(`${B}/api/products?limit=3`);
    for (const p of list.body.products) {
      const r = await get(`${N}/api/products/${p.id}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, p);
      assert.equal(r.headers.get('etag'), `"v${p.version}"`);
    }
  });

  test('upper-case hex is the same product', async () => {
    const list = await get(`${B}/api/products?limit=1&order=name`);
    const p = list.body.products[0];
    const r = await get(`${B}/api/products/${p.id.toUpperCase()}`);
    assert.deepEqual(r.body, p);
  });

  test('malformed id → 400', async () => {
    for (const id of ['123', 'zzzzzzzzzzzzzzzzzzzzzzzz', '6500000000000000000000011', '%7B%22%24gt%22%3A%22%22%7D']) {
      const r = await get(`${B}/api/products/${id}`);
      assertProblem(assert, r, 400, { param: 'id' });
    }
  });

  test('absent id → 404 problem', async () => {
    const r = await get(`${B}/api/products/000000000000000000000000`);
    assertProblem(assert, r, 404, { type: '/problems/not-found', detail: /000000000000000000000000/ });
  });

  test('a query parameter → 400', async () => {
    const list = await get(`${B}/api/products?limit=1`);
    const r = await get(`${B}/api/products/${list.body.products[0].id}?fields=name`);
    assertProblem(assert, r, 400, { param: 'fields' });
  });
});

describe('GET /api/categories', () => {
  test('slug, name, count for every category; counts add up', async () => {
    const r = await get(`${N}/api/categories`);
    assert.equal(r.status, 200);
    assert.ok(r.body.categories.length >= 8);
    let total = 0;
    for (const c of r.body.categories) {
      assert.deepEqual(Object.keys(c), ['slug', 'name', 'count']);
      const l = await get(`${B}/api/products?category=${c.slug}&limit=1`);
      assert.equal(l.body.count, c.count, c.slug);
      total += c.count;
    }
    const all = await get(`${B}/api/products?limit=1`);
    assert.equal(total, all.body.count);
    assert.ok(r.headers.get('etag'));
  });

  test('a query parameter → 400', async () => {
    assertProblem(assert, await get(`${B}/api/categories?x=1`), 400, { param: 'x' });
  });
});

describe('HTTP semantics', () => {
  test('ETag and If-None-Match → 304 (strong, weak, list, *)', async () => {
    for (const path of ['/api/products?limit=3', '/api/categories', '/api/products/650000000000000000000001']) {
      const r = await get(`${B}${path}`);
      const etag = r.headers.get('etag');
      assert.match(etag, /^"[^"]+"$/);
      for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
        const c = await fetch(`${B}${path}`, { headers: { 'If-None-Match': inm } });
        assert.equal(c.status, 304, `${path} ${inm}`);
        assert.equal(c.headers.get('etag'), etag);
        assert.equal(await c.text(), '');
      }
      const miss = await fetch(`${B}${path}`, { headers: { 'If-None-Match': '"other"' } });
      assert.equal(miss.status, 200);
    }
  });

  test('through nginx with gzip, a weak ETag still revalidates', async () => {
    const r = await fetch(`${N}/api/products?limit=50`, { headers: { 'Accept-Encoding': 'gzip' } });
    assert.equal(r.headers.get('content-encoding'), 'gzip');
    const etag = r.headers.get('etag');
    const c = await fetch(`${N}/api/products?limit=50`, { headers: { 'If-None-Match': etag, 'Accept-Encoding': 'gzip' } });
    assert.equal(c.status, 304);
  });

  test('HEAD answers headers only', async () => {
    const r = await fetch(`${B}/api/products?limit=2`, { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.ok(Number(r.headers.get('content-length')) > 100);
    assert.equal(await r.text(), '');
  });

  test('other methods → 405 with Allow', async () => {
    for (const m of ['PUT', 'DELETE', 'PATCH']) {
      const r = await get(`${B}/api/products`, { method: m });
      assertProblem(assert, r, 405);
      assert.equal(r.headers.get('allow'), 'GET, HEAD, POST, OPTIONS');
    }
    for (const m of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await get(`${B}/api/categories`, { method: m });
      assertProblem(assert, r, 405);
      assert.equal(r.headers.get('allow'), 'GET, HEAD, OPTIONS');
    }
  });

  test('unknown paths → 404 problem (direct and under /api/ through nginx)', async () => {
    assertProblem(assert, await get(`${B}/nope`), 404);
    assertProblem(assert, await get(`${B}/api/products/650000000000000000000001/extra`), 404);
    assertProblem(assert, await get(`${N}/api/nope`), 404);
  });

  test('a body over 64 KiB → 413 problem', async () => {
    const r = await get(`${B}/api/products`, { method: 'POST', body: 'x'.repeat(65537), headers: { 'content-type': 'application/json' } });
    assertProblem(assert, r, 413, { type: '/problems/payload-too-large' });
    const raw = await rawHttp(s.backend.port,
      `GET /api/products HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n${'y'.repeat(70000)}`);
    assert.match(raw, /^HTTP\/1\.1 413/);
    assert.match(raw, /application\/problem\+json/);
    const ok = await get(`${B}/api/categories`, { method: 'POST', body: 'x'.repeat(100), headers: { 'content-type': 'application/json' } });
    assert.equal(ok.status, 405, 'a small body reaches the router');
  });

  test('X-Request-Id: echoed when well-formed, generated otherwise, used as instance', async () => {
    const mine = await get(`${B}/api/products?limit=0`, { headers: { 'X-Request-Id': 'abc-123.XYZ' } });
    assert.equal(mine.headers.get('x-request-id'), 'abc-123.XYZ');
    assert.equal(mine.body.instance, 'abc-123.XYZ');
    const bad = await get(`${B}/api/products?limit=0`, { headers: { 'X-Request-Id': 'a b<script>' } });
    assert.match(bad.headers.get('x-request-id'), /^[0-9a-f]{32}$/);
    const gen = await get(`${B}/api/products?limit=0`);
    assert.match(gen.body.instance, /^[0-9a-f]{32}$/);
    const viaNginx = await get(`${N}/api/products?limit=0`);
    assert.equal(viaNginx.body.instance, viaNginx.headers.get('x-request-id'), 'nginx forwards its $request_id');
  });

  test('problem bodies are valid UTF-8 even when they echo a bad parameter name', async () => {
    const res = await fetch(`${B}/api/products?%FF%FE=1`);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(res.status, 400);
    assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  });

  test('a malformed request head is answered by h2o itself (documented)', async () => {
    const res = await rawHttp(s.backend.port, 'GET /api/products HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    assert.match(res, /^HTTP\/1\.1 400/);
  });
});

describe('the local stack', () => {
  test('nginx serves the frontend at / and the seed images', async () => {
    const r = await get(`${N}/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /text\/html/);
    const p = (await get(`${N}/api/products?limit=1`)).body.products[0];
    assert.match(p.image, /^\/images\//);
    const img = await fetch(`${N}${p.image}`);
    assert.equal(img.status, 200);
    assert.equal(img.headers.get('content-type'), 'image/svg+xml');
  });
});
