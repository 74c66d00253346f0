// The OpenAPI description against the live server (routes, methods, 405s,
// error media types, the Product shape) and CORS, black-box.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { assertProblem, backendBin, freePort, get, send, startStack, TEST_JWT_SECRET } from './lib/stack.mjs';

let s;
let B;
let spec;
let productId;
before(async () => {
  s = await startStack();
  B = s.backend.url;
  const r = await get(`${B}/api/openapi.json`);
  assert.equal(r.status, 200, r.text);
  spec = r.body;
  const list = await get(`${B}/api/products?limit=1`);
  productId = list.body.products[0].id;
});
after(async () => s && s.stop());

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const minimalEnv = () => ({ PATH: process.env.PATH });

// "METHOD /path" of every operation in the spec
function specRoutes() {
  const out = [];
  for (const [p, item] of Object.entries(spec.paths)) {
    for (const m of METHODS) if (item[m]) out.push(`${m.toUpperCase()} ${p}`);
  }
  return out;
}

function deref(node, seen = new Set()) {
  if (node && typeof node === 'object' && typeof node.$ref === 'string') {
    assert.ok(node.$ref.startsWith('#/'), `only local refs: ${node.$ref}`);
    assert.ok(!seen.has(node.$ref), `ref cycle at ${node.$ref}`);
    seen.add(node.$ref);
    let target = spec;
    for (const part of node.$ref.slice(2).split('/')) {
      target = target?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    assert.ok(target !== undefined, `unresolved ${node.$ref}`);
    const { $ref, ...siblings } = node;
    return { ...deref(target, seen), ...siblings };
  }
  return node;
}

function operations() {
  const out = [];
  for (const [p, item] of Object.entries(spec.paths)) {
    for (const m of METHODS) if (item[m]) out.push({ method: m.toUpperCase(), path: p, op: item[m] });
  }
  return out;
}

const concrete = (p) => p.replace('{id}', productId);
const allowSet = (v) => v.split(',').map((x) => x.trim()).filter(Boolean).sort();
const expectedAllow = (p) => {
  const ms = METHODS.filter((m) => spec.paths[p][m]).map((m) => m.toUpperCase());
  if (ms.includes('GET')) ms.push('HEAD');
  ms.push('OPTIONS');
  return ms.sort();
};

describe('GET /api/openapi.json', () => {
  test('200 application/json, OpenAPI 3.1.x', async () => {
    const r = await get(`${B}/api/openapi.json`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.match(r.body.openapi, /^3\.1\.\d+$/);
    assert.equal(typeof r.body.info.title, 'string');
    assert.equal(typeof r.body.info.version, 'string');
    assert.equal(typeof r.body.paths, 'object');
    assert.equal(typeof r.body.components.schemas, 'object');
  });

  test('conditional GET: ETag and 304', async () => {
    const r = await get(`${B}/api/openapi.json`);
    const etag = r.headers.get('etag');
    assert.ok(etag);
    const again = await get(`${B}/api/openapi.json`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
  });
});

describe('routes: spec = --routes = live server', () => {
  test('the spec\'s (METHOD PATH) pairs are exactly the lines of catalog-backend --routes', () => {
    const out = execFileSync(backendBin, ['--routes'], { env: minimalEnv(), encoding: 'utf8', timeout: 5000 });
    const lines = out.split('\n').filter(Boolean);
    assert.equal(new Set(lines).size, lines.length, 'no duplicate route lines');
    assert.deepEqual([...lines].sort(), specRoutes().sort());
  });

  // a stream's answer (text/event-stream) never ends: its status and headers only
  const streams = (op) => 'text/event-stream' in (deref(op.responses['200'] || {}).content || {});
  async function opening(url) {
    const ctl = new AbortController();
    const res = await fetch(url, { signal: ctl.signal });
    ctl.abort();
    return { status: res.status, headers: res.headers, text: '' };
  }

  test('every documented operation is served (never 404/405); bearerAuth ones answer 401 without a token', async () => {
    for (const { method, path: p, op } of operations()) {
      const secured = (op.security ?? []).some((req) => 'bearerAuth' in req);
      const body = ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined;
      const r = streams(op) ? await opening(`${B}${concrete(p)}`) : await send(method, `${B}${concrete(p)}`, body);
      assert.ok(![404, 405].includes(r.status), `${method} ${p}: ${r.status} ${r.text}`);
      if (secured) {
        assertProblem(assert, r, 401, { type: '/problems/unauthorized' });
      } else {
        assert.notEqual(r.status, 401, `${method} ${p} is documented without security`);
        assert.ok(String(r.status) in op.responses, `${method} ${p}: ${r.status} is a documented response`);
      }
    }
  });

  test('every undocumented method on a documented path → 405 with Allow = the spec\'s methods + HEAD, OPTIONS', async () => {
    let checked = 0;
    for (const p of Object.keys(spec.paths)) {
      for (const m of METHODS) {
        if (spec.paths[p][m]) continue;
        const method = m.toUpperCase();
        const r = await send(method, `${B}${concrete(p)}`, ['POST', 'PUT', 'PATCH'].includes(method) ? {} : undefined);
        assertProblem(assert, r, 405, { type: '/problems/method-not-allowed' });
        const allow = r.headers.get('allow');
        assert.ok(allow, `${method} ${p}: Allow`);
        assert.deepEqual(allowSet(allow), expectedAllow(p), `${method} ${p}: Allow ${allow}`);
        checked++;
      }
    }
    assert.ok(checked >= 20, `checked ${checked}`);
    // the example the brief names
    const r = await get(`${B}/api/categories`, { method: 'DELETE' });
    assertProblem(assert, r, 405, { type: '/problems/method-not-allowed' });
    assert.equal(r.headers.get('allow'), 'GET, HEAD, OPTIONS');
  });

  test('OPTIONS on every documented path → 204 with the same Allow', async () => {
    for (const p of Object.keys(spec.paths)) {
      const r = await get(`${B}${concrete(p)}`, { method: 'OPTIONS' });
      assert.equal(r.status, 204, p);
      assert.deepEqual(allowSet(r.headers.get('allow')), expectedAllow(p), p);
    }
  });

  test('an undocumented path → 404 problem', async () => {
    for (const p of ['/api/product', '/api/products/x/y', '/api/users', '/openapi.json', '/api/auth']) {
      assertProblem(assert, await get(`${B}${p}`), 404, { type: '/problems/not-found' });
    }
  });
});

describe('the description itself', () => {
  test('every $ref resolves; operationIds are unique', () => {
    const walk = (node) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        if (typeof node.$ref === 'string') deref(node);
        Object.values(node).forEach(walk);
      }
    };
    walk(spec);
    const ids = operations().map((o) => o.op.operationId);
    assert.ok(ids.every((x) => typeof x === 'string' && x.length > 0));
    assert.equal(new Set(ids).size, ids.length);
  });

  test('every operation lists responses, each with a description', () => {
    for (const { method, path: p, op } of operations()) {
      const codes = Object.keys(op.responses ?? {});
      assert.ok(codes.length > 0, `${method} ${p} has responses`);
      assert.ok(codes.some((c) => /^2\d\d$/.test(c)), `${method} ${p} has a 2xx`);
      for (const c of codes) {
        assert.match(c, /^[1-5]\d\d$/);
        assert.equal(typeof deref(op.responses[c]).description, 'string', `${method} ${p} ${c}: description`);
      }
    }
  });

  test('every 4xx/5xx response is application/problem+json (but the documented health+json 503)', () => {
    const exceptions = [];
    for (const { method, path: p, op } of operations()) {
      for (const [code, ref] of Object.entries(op.responses)) {
        if (!/^[45]/.test(code)) continue;
        const res = deref(ref);
        const types = Object.keys(res.content ?? {});
        if (!types.includes('application/problem+json')) {
          exceptions.push(`${method} ${p} ${code}: ${types.join(',')}`);
          continue;
        }
        const schema = deref(res.content['application/problem+json'].schema);
        assert.ok(schema, `${method} ${p} ${code}: schema`);
      }
    }
    // /health/ready says so in its description: "Both answers are application/health+json, not problem+json"
    assert.deepEqual(exceptions, ['GET /health/ready 503: application/health+json']);
    assert.match(spec.paths['/health/ready'].get.description, /application\/health\+json, not problem\+json/);
  });

  test('security: writes and logout need bearerAuth, reads and login do not', () => {
    const secured = operations().filter(({ op }) => (op.security ?? []).some((r) => 'bearerAuth' in r))
      .map((o) => `${o.method} ${o.path}`).sort();
    assert.deepEqual(secured, ['DELETE /api/products/{id}', 'PATCH /api/products/{id}', 'POST /api/auth/logout',
      'POST /api/products', 'PUT /api/products/{id}']);
    assert.equal(spec.components.securitySchemes.bearerAuth.scheme, 'bearer');
  });

  test('components.schemas.Product has exactly the members a live product has', async () => {
    const r = await get(`${B}/api/products/${productId}`);
    assert.equal(r.status, 200);
    const live = Object.keys(r.body).sort();
    const product = spec.components.schemas.Product;
    assert.deepEqual(Object.keys(product.properties).sort(), live);
    assert.deepEqual([...product.required].sort(), live);
    const listed = await get(`${B}/api/products?limit=3`);
    for (const p of listed.body.products) assert.deepEqual(Object.keys(p).sort(), live);
  });
});

describe('CORS', () => {
  const SHOP = 'https://shop.example';
  const EVIL = 'https://evil.example';
  let cors; // backend with CORS_ORIGINS
  let star; // backend with CORS_ORIGINS=*
  before(async () => {
    cors = await s.startBackend({ CORS_ORIGINS: `${SHOP},http://localhost:8080` });
    star = await s.startBackend({ CORS_ORIGINS: '*' });
  });

  const acHeaders = (r) => [...r.headers.keys()].filter((k) => k.startsWith('access-control-')).sort();
  const listHas = (v, item) => (v || '').split(',').map((x) => x.trim().toLowerCase()).includes(item.toLowerCase());
  const preflight = (base, origin, method = 'PATCH', headers = 'authorization, content-type, if-match') => get(
    `${base}/api/products/${productId}`,
    { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } },
  );

  test('off by default: no Access-Control-* headers, not even for a preflight', async () => {
    const r = await get(`${B}/api/products/${productId}`, { headers: { origin: SHOP } });
    assert.equal(r.status, 200);
    assert.deepEqual(acHeaders(r), []);
    const p = await preflight(B, SHOP);
    assert.equal(p.status, 204);
    assert.deepEqual(acHeaders(p), []);
  });

  test('an allowed origin is echoed, with Vary: Origin and the exposed headers', async () => {
    for (const origin of [SHOP, 'http://localhost:8080']) {
      const r = await get(`${cors.url}/api/products/${productId}`, { headers: { origin } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('access-control-allow-origin'), origin);
      assert.ok(listHas(r.headers.get('vary'), 'Origin'), `Vary: ${r.headers.get('vary')}`);
      const expose = r.headers.get('access-control-expose-headers');
      for (const h of ['ETag', 'Location', 'X-Request-Id', 'WWW-Authenticate', 'Idempotency-Replayed']) {
        assert.ok(listHas(expose, h), `expose ${h}: ${expose}`);
      }
      assert.equal(r.headers.get('access-control-allow-credentials'), null);
    }
  });

  test('errors are readable cross-origin too (401 on a write carries the CORS headers)', async () => {
    const r = await send('PATCH', `${cors.url}/api/products/${productId}`, { stock: 1 }, undefined, { origin: SHOP });
    assertProblem(assert, r, 401, { type: '/problems/unauthorized' });
    assert.equal(r.headers.get('access-control-allow-origin'), SHOP);
    assert.equal(r.headers.get('access-control-allow-credentials'), null);
  });

  test('another origin gets no Access-Control-Allow-Origin (still Vary: Origin)', async () => {
    for (const origin of [EVIL, 'https://shop.example.evil.example', 'http://shop.example', 'https://shop.example:8443', 'null']) {
      const r = await get(`${cors.url}/api/products/${productId}`, { headers: { origin } });
      assert.equal(r.status, 200);
      assert.deepEqual(acHeaders(r), [], origin);
      assert.ok(listHas(r.headers.get('vary'), 'Origin'));
    }
    const none = await get(`${cors.url}/api/products/${productId}`);
    assert.deepEqual(acHeaders(none), []);
  });

  test('preflight from an allowed origin → 204 with methods, headers, max-age; never credentials', async () => {
    const r = await preflight(cors.url, SHOP);
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    assert.equal(r.headers.get('access-control-allow-origin'), SHOP);
    const methods = r.headers.get('access-control-allow-methods');
    for (const m of ['PATCH', 'PUT', 'DELETE', 'GET']) assert.ok(listHas(methods, m), `methods: ${methods}`);
    assert.ok(!listHas(methods, 'POST'), `POST is not a method of /api/products/{id}: ${methods}`);
    const headers = r.headers.get('access-control-allow-headers');
    for (const h of ['Authorization', 'If-Match', 'Content-Type', 'Idempotency-Key']) {
      assert.ok(listHas(headers, h), `headers: ${headers}`);
    }
    assert.match(r.headers.get('access-control-max-age'), /^[1-9]\d*$/);
    assert.equal(r.headers.get('access-control-allow-credentials'), null);
    const post = await get(`${cors.url}/api/products`, {
      method: 'OPTIONS', headers: { origin: SHOP, 'access-control-request-method': 'POST' } });
    assert.equal(post.status, 204);
    assert.ok(listHas(post.headers.get('access-control-allow-methods'), 'POST'));
  });

  test('preflight from another origin, or for a method the path lacks → no Access-Control-Allow-Methods/Headers', async () => {
    const evil = await preflight(cors.url, EVIL);
    assert.equal(evil.status, 204);
    assert.deepEqual(acHeaders(evil), []);
    const wrong = await preflight(cors.url, SHOP, 'POST');
    assert.equal(wrong.status, 204);
    assert.equal(wrong.headers.get('access-control-allow-methods'), null);
    assert.equal(wrong.headers.get('access-control-allow-headers'), null);
    assert.equal(wrong.headers.get('access-control-allow-credentials'), null);
  });

  test('CORS_ORIGINS=* → Access-Control-Allow-Origin: *, never credentials', async () => {
    for (const origin of [SHOP, EVIL]) {
      const r = await get(`${star.url}/api/products/${productId}`, { headers: { origin } });
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
      assert.equal(r.headers.get('access-control-allow-credentials'), null);
      const p = await preflight(star.url, origin);
      assert.equal(p.status, 204);
      assert.equal(p.headers.get('access-control-allow-origin'), '*');
      assert.ok(listHas(p.headers.get('access-control-allow-methods'), 'PATCH'));
      assert.equal(p.headers.get('access-control-allow-credentials'), null);
    }
  });

  for (const bad of ['shop.example', 'https://shop.example/', 'ftp://shop.example', `${'https://shop.example'},evil`,
    'https://shop.example path', 'https://']) {
    test(`CORS_ORIGINS=${JSON.stringify(bad)} → exit 2 naming CORS_ORIGINS`, async () => {
      const port = await freePort();
      const r = spawnSync(backendBin, [], {
        env: { ...minimalEnv(), HOST: '127.0.0.1', PORT: String(port), JWT_SECRET: TEST_JWT_SECRET, CORS_ORIGINS: bad },
        encoding: 'utf8', timeout: 5000,
      });
      assert.equal(r.signal, null, `still running after 5 s: ${r.stderr}`);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /CORS_ORIGINS/);
      assert.ok(r.stderr.includes(bad), r.stderr);
    });
  }
});
