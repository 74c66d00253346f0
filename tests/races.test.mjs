// Concurrent writers on one product, across two backend processes and
// inside one: If-Match and the version guard hold on the local FerretDB
// (whose findAndModify and delete are find-then-write) because every
// update and delete first claims its version change with an insert on a
// unique _id (contract: issue 10, item 1). A writer killed between its
// claim and its write blocks that version until the lease, then is taken over.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { assertProblem, get, login, send, startStack, until } from './lib/stack.mjs';

let s;
let A;
let B;
let TOKEN;
before(async () => {
  s = await startStack({ backends: 2 });
  A = s.backends[0].url;
  B = s.backends[1].url;
  TOKEN = await login(A);
});
after(async () => s && s.stop());

const RUN = crypto.randomBytes(4).toString('hex');
let seq = 0;
const mongo = (expr) => JSON.parse(s.mongosh(`JSON.stringify(${expr})`));
const tally = (rs) => rs.reduce((m, r) => ({ ...m, [r.status]: (m[r.status] || 0) + 1 }), {});

async function create() {
  const r = await send('POST', `${A}/api/products`, { name: `T${RUN}-race-${++seq}`, price: 5, category: 'books' }, TOKEN);
  assert.equal(r.status, 201, r.text);
  return r.body.id;
}

// the stored document's version and stock as numbers (mongosh prints int64 as {low, high}), or null
const stored = (id) => mongo(`((d) => d && {version: Number(d.version), stock: Number(d.stock)})(
  db.products.findOne({_id: ObjectId(${JSON.stringify(id)})}))`);
// n writers at once; bases: the processes to spread them over (in turn)
const together = (n, bases, fn) => Promise.all(Array.from({ length: n }, (_, i) => fn(bases[i % bases.length], i)));

describe('concurrent writers with the same If-Match: exactly one wins', () => {
  for (const [label, bases] of [['one process', () => [A]], ['two processes', () => [A, B]]]) {
    test(`20 PATCHes with If-Match "v1" (${label}) → one 200, nineteen 412 naming version 2`, async () => {
      const id = await create();
      const rs = await together(20, bases(), (base, i) => send('PATCH', `${base}/api/products/${id}`, { stock: 100 + i },
        TOKEN, { 'if-match': '"v1"' }));
      assert.deepEqual(tally(rs), { 200: 1, 412: 19 });
      const win = rs.find((r) => r.status === 200);
      assert.equal(win.body.version, 2);
      for (const r of rs.filter((x) => x.status === 412)) {
        assertProblem(assert, r, 412, { type: '/problems/precondition-failed' });
        assert.equal(r.body.current_version, 2, r.text);
        assert.equal(r.headers.get('etag'), '"v2"');
      }
      const doc = stored(id);
      assert.equal(doc.version, 2);
      assert.equal(doc.stock, win.body.stock);
      const g = await get(`${B}/api/products/${id}`);
      assert.deepEqual(g.body, win.body);
    });
  }

  test('10 DELETEs with If-Match "v1" over two processes → one 204, the others 412 or 404; the product is gone', async () => {
    const id = await create();
    const rs = await together(10, [A, B], (base) => send('DELETE', `${base}/api/products/${id}`, undefined, TOKEN,
      { 'if-match': '"v1"' }));
    const t = tally(rs);
    assert.equal(t[204], 1, JSON.stringify(t));
    assert.equal((t[412] || 0) + (t[404] || 0), 9, JSON.stringify(t));
    assert.equal(stored(id), null);
  });
});

describe('concurrent writers without If-Match: none lost', () => {
  test('20 PATCHes over two processes → 20 × 200, versions 2..21 each told once, final version 21 holding the last', async () => {
    const id = await create();
    const rs = await together(20, [A, B], (base, i) => send('PATCH', `${base}/api/products/${id}`, { stock: 200 + i }, TOKEN));
    assert.deepEqual(tally(rs), { 200: 20 }, rs.map((r) => r.text).join('\n'));
    const versions = rs.map((r) => r.body.version).sort((x, y) => x - y);
    assert.deepEqual(versions, Array.from({ length: 20 }, (_, i) => i + 2));
    // one ETag, one content: the response of the last version is what is stored
    const last = rs.find((r) => r.body.version === 21);
    const doc = stored(id);
    assert.equal(doc.version, 21);
    assert.equal(doc.stock, last.body.stock);
    assert.deepEqual((await get(`${A}/api/products/${id}`)).body, last.body);
  });

  test('10 DELETEs over two processes → one 204, nine 404', async () => {
    const id = await create();
    const rs = await together(10, [A, B], (base) => send('DELETE', `${base}/api/products/${id}`, undefined, TOKEN));
    assert.deepEqual(tally(rs), { 204: 1, 404: 9 });
    assert.equal(stored(id), null);
  });

  test('12 PATCHes racing a DELETE → the PATCHes that won have distinct versions 2..k+1, then the delete; the product is gone', async () => {
    const id = await create();
    const rs = await together(13, [A, B], (base, i) => (i === 6
      ? send('DELETE', `${base}/api/products/${id}`, undefined, TOKEN)
      : send('PATCH', `${base}/api/products/${id}`, { stock: i }, TOKEN)));
    const t = tally(rs);
    assert.equal(t[204], 1, JSON.stringify(t));
    const ok = rs.filter((r) => r.status === 200).map((r) => r.body.version).sort((x, y) => x - y);
    assert.deepEqual(ok, Array.from({ length: ok.length }, (_, i) => i + 2));
    assert.equal(ok.length + (t[404] || 0), 12, JSON.stringify(t));
    assert.equal(stored(id), null);
  });
});

describe('a writer killed between its claim and its write', () => {
  test('the version stays claimed (412 "in progress", or 503 not applied) until the lease lapses; then a writer takes over', async () => {
    const id = await create();
    const held = await s.startBackend({ DEBUG_CLAIM_HOLD_MS: '60000' });
    s.backends.pop(); // killed below: not stopped with the stack
    const doomed = send('PATCH', `${held.url}/api/products/${id}`, { name: `T${RUN}-never-written` }, TOKEN).catch((e) => e);
    const claim = `${id}:2`;
    await until('the held writer claims version 2', 10000,
      () => mongo(`db.write_claims.countDocuments({_id: ${JSON.stringify(claim)}})`) === 1);
    held.proc.signal('SIGKILL');
    assert.ok((await doomed) instanceof Error, 'the killed writer never answered');

    const im = await send('PATCH', `${A}/api/products/${id}`, { stock: 7 }, TOKEN, { 'if-match': '"v1"' });
    assertProblem(assert, im, 412, { type: '/problems/precondition-failed', detail: /another write to this product is in progress/ });
    assert.equal(im.body.current_version, 1);
    const busy = await send('PATCH', `${B}/api/products/${id}`, { stock: 8 }, TOKEN);
    assertProblem(assert, busy, 503, { type: '/problems/service-unavailable', detail: /was not applied/ });
    assert.equal(busy.headers.get('retry-after'), '1');
    assert.equal(stored(id).version, 1);

    // the lease (30 s) passes: aged in the store rather than waited for
    s.mongosh(`db.write_claims.updateOne({_id: ${JSON.stringify(claim)}}, {$set: {at: new Date(Date.now() - 31000)}})`);
    const r = await send('PATCH', `${B}/api/products/${id}`, { stock: 9 }, TOKEN, { 'if-match': '"v1"' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.version, 2);
    assert.equal(r.body.stock, 9);
    assert.equal(r.body.name, `T${RUN}-race-${seq}`);
    assert.equal(mongo(`db.write_claims.countDocuments({_id: ${JSON.stringify(`${claim}~1`)}})`), 1);
    const next = await send('PATCH', `${A}/api/products/${id}`, { stock: 10 }, TOKEN);
    assert.equal(next.body.version, 3);
    assert.equal(stored(id).stock, 10);
  });
});

describe('a writer stalled past half the lease', () => {
  test('gives up unsent (503 "not applied") and frees the version at once: the next writer does not wait out the lease', async () => {
    const id = await create();
    const slow = await s.startBackend({ DEBUG_CLAIM_HOLD_MS: '15500' });
    const r = await send('PATCH', `${slow.url}/api/products/${id}`, { stock: 1 }, TOKEN);
    assertProblem(assert, r, 503, { type: '/problems/service-unavailable', detail: /it may or may not have been applied|was not applied/ });
    assert.equal(stored(id).version, 1, 'nothing was written');
    assert.equal(mongo(`db.write_claims.countDocuments({_id: ${JSON.stringify(`${id}:2`)}})`), 0, 'the claim was given back');
    const t0 = Date.now();
    const next = await send('PATCH', `${A}/api/products/${id}`, { stock: 2 }, TOKEN, { 'if-match': '"v1"' });
    assert.equal(next.status, 200, next.text);
    assert.equal(next.body.version, 2);
    assert.ok(Date.now() - t0 < 5000, 'not held by the lease');
    await slow.proc.stop();
    s.backends.splice(s.backends.indexOf(slow), 1);
  });
});
