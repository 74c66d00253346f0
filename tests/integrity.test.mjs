// The smaller promises an outside review broke (issue 10): q's filter kept
// whole and matched however İ is written, names that show nothing or hide
// their order refused, cleartext HTTP/2 refused, strict query values,
// readiness probes that cannot fill the store queue. Real stack, black-box.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { assertProblem, get, getFresh, login, rawHttp, send, startStack } from './lib/stack.mjs';

let s;
let B;
let TOKEN;
before(async () => {
  s = await startStack({ backends: 1 });
  B = s.backend.url;
  TOKEN = await login(B);
});
after(async () => s && s.stop());

const RUN = crypto.randomBytes(4).toString('hex');
const list = (qs) => get(`${B}/api/products?${qs}`);
const q = (text) => list(`q=${encodeURIComponent(text)}`);

describe('q: the filter is kept whole and İ is found however it is written', () => {
  let id;
  before(async () => {
    const r = await send('POST', `${B}/api/products`, {
      name: `İstanbul Kilim Rug ${RUN}`, description: `Woven near İzmir, lot ${RUN}`, price: 120, category: 'home-kitchen',
    }, TOKEN);
    assert.equal(r.status, 201, r.text);
    id = r.body.id;
  });

  for (const v of ['İstanbul', 'istanbul', 'ISTANBUL', 'İSTANBUL', 'stanbul']) {
    test(`q="${v} kilim rug <run>" finds it`, async () => {
      const r = await q(`${v} kilim rug ${RUN}`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.products.map((p) => p.id), [id]);
      assert.equal(r.body.count, 1);
    });
  }

  test('the description matches the same way: izmir, İZMİR, İzmir', async () => {
    for (const v of ['izmir', 'İZMİR', 'İzmir']) {
      const r = await q(`near ${v}, lot ${RUN}`);
      assert.deepEqual(r.body.products.map((p) => p.id), [id], v);
    }
  });

  test('51 × İ (102 code points once lower-cased) keeps the filter: nothing matches, not the whole catalogue', async () => {
    for (const n of [51, 100]) {
      const r = await q('İ'.repeat(n));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.count, 0, `${n} × İ`);
      assert.deepEqual(r.body.products, []);
      const again = await q('İ'.repeat(n)); // the cached answer is the same filtered one
      assert.equal(again.headers.get('x-cache'), 'HIT');
      assert.equal(again.body.count, 0);
    }
    assertProblem(assert, await q('İ'.repeat(101)), 400, { type: '/problems/invalid-parameter', param: 'q' });
  });
});

describe('query values', () => {
  test('a broken percent-escape is malformed, not too long', async () => {
    for (const qs of ['q=%', 'q=%4', 'q=ab%zz', 'category=%']) {
      const r = await list(qs);
      assertProblem(assert, r, 400, { type: '/problems/invalid-parameter', param: qs.split('=')[0] });
      assert.match(r.body.detail, /malformed percent-escape/);
    }
  });

  test('prices above 1e9 are refused, cents included; 1e9 itself is accepted', async () => {
    for (const p of ['min_price', 'max_price']) {
      assertProblem(assert, await list(`${p}=1000000000.01`), 400, { param: p });
      assert.equal((await list(`${p}=1000000000`)).status, 200);
    }
  });
});

describe('names and descriptions', () => {
  const post = (body) => send('POST', `${B}/api/products`, { price: 1, category: 'books', ...body }, TOKEN);
  const reasons = (r) => r.body.errors.map((e) => [e.field, e.reason]);
  const CONTROL = 'must not contain control characters';
  const BLANK = 'must not be blank';
  const BIDI = 'must not contain bidirectional formatting characters (U+202A to U+202E, U+2066 to U+2069)';
  const cases = [
    ['a C1 control (U+0085)', { name: `a\u0085b ${RUN}` }, [['name', CONTROL]]],
    ['only U+200B', { name: '\u200b\u200b' }, [['name', BLANK]]],
    ['only U+3000', { name: '\u3000' }, [['name', BLANK]]],
    ['U+FEFF and U+00A0', { name: '\ufeff\u00a0 ' }, [['name', BLANK]]],
    ['a right-to-left override (U+202E)', { name: `abc\u202edcba ${RUN}` }, [['name', BIDI]]],
    ['an isolate (U+2066)', { name: `a\u2066b ${RUN}` }, [['name', BIDI]]],
    ['a description with U+202E', { name: `ok ${RUN}`, description: 'x\u202ey' }, [['description', BIDI]]],
    ['a description with U+0085', { name: `ok ${RUN}`, description: 'x\u0085y' },
      [['description', 'must not contain control characters other than tab and line breaks']]],
  ];
  for (const [label, body, want] of cases) {
    test(`${label} → 422 naming the field`, async () => {
      const r = await post(body);
      assertProblem(assert, r, 422, { type: '/problems/validation' });
      assert.deepEqual(reasons(r), want);
    });
  }

  test('a right-to-left mark (U+200F) and line breaks in a description are allowed', async () => {
    const r = await post({ name: `שלום\u200f 12 ${RUN}`, description: 'line one\nline two\ttab' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.name, `שלום\u200f 12 ${RUN}`);
  });

  test('nothing refused was stored', () => {
    const n = s.mongosh(`db.products.countDocuments({name: {$regex: ${JSON.stringify(RUN)}}})`);
    assert.equal(Number(n), 2); // the rug and the allowed name
  });
});

describe('cleartext HTTP/2 is off (no rapid-reset exposure)', () => {
  test('the PRI * preface → 400 from HTTP/1.1, no HTTP/2 settings frame', async () => {
    const raw = await rawHttp(s.backend.port, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 1500);
    assert.match(raw, /^HTTP\/1\.1 400 /);
  });

  test('Upgrade: h2c is ignored: 200 over HTTP/1.1, never 101', async () => {
    const raw = await rawHttp(s.backend.port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n'
      + 'Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n', 1000);
    assert.match(raw, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(raw.endsWith('{"status":"OK","service":"Backend API"}'), raw);
  });
});

describe('readiness probes', () => {
  test('300 concurrent probes share the thread\'s ping: at most one MongoDB job per loop thread', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // no reusable ping
    const before = (await s.stats()).store.jobs;
    const rs = await Promise.all(Array.from({ length: 300 }, () => getFresh(`${B}/health/ready`)));
    assert.ok(rs.every((r) => r.status === 200 && r.body.status === 'pass'), rs.map((r) => r.status).join());
    const jobs = (await s.stats()).store.jobs - before;
    const threads = (await s.stats()).threads;
    assert.ok(jobs >= 1 && jobs <= threads * 2, `${jobs} ping jobs for 300 probes on ${threads} threads`);
  });
});
