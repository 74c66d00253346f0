// The change feed (issue 14): GET /api/changes, Server-Sent Events read
// from the Redis change stream. Real Redis, FerretDB and backends; clients
// on raw sockets (tests/lib/sse.mjs) so that what arrived is seen exactly.
// Every write is one event; a client resumes by id (Last-Event-ID or
// ?after=) with no gap and no duplicate, also while writes go on and across
// processes; an id the stream cannot serve (trimmed, another epoch, unknown)
// is one reset; the reader's connection and Redis itself can go away
// without an event lost from what the stream holds; a client that stops
// reading is closed, the others go on; SSE_MAX_CLIENTS; a drain; 1,000 idle
// clients in bounded memory.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openFeed } from './lib/sse.mjs';
import { assertProblem, get, login, root, sanitized, send, sleep, startStack, until } from './lib/stack.mjs';

// The stream's entries: [{ sid, gen, id, ev, v, f, ep, at, reset }].
function stream(s) {
  const raw = s.redisCli('XRANGE', '{products}:changes', '-', '+').split('\n');
  const out = [];
  for (let i = 0; i < raw.length && raw[i] !== '';) {
    const e = { sid: raw[i++] };
    while (i < raw.length && !/^\d+-\d+$/.test(raw[i])) e[raw[i++]] = raw[i++];
    out.push(e);
  }
  return out;
}

const epochOf = (s) => s.redisCli('GET', '{products}:epoch');
const eventId = (s, e) => `${e.ep || epochOf(s)}:${e.sid}`;
const updates = (f) => f.events.filter((e) => e.event.startsWith('product.'));

async function products(url, n) {
  return (await get(`${url}/api/products?limit=${n}&order=name`)).body.products;
}

// Runs fn(i) for i in 0..n-1 with `width` at a time.
async function pool(n, width, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) await fn(next++);
  }));
}

describe('one process', () => {
  let s;
  let b;
  let token;
  let ids;
  before(async () => {
    s = await startStack({ backendEnv: { SSE_PING_S: '1' } });
    b = s.backend;
    token = await login(b.url);
    ids = (await products(b.url, 3)).map((p) => p.id);
  });
  after(async () => s && s.stop());

  test('each write is one event: its type, event id, version, catalog_version, at, and an update\'s changed fields', async () => {
    const f = openFeed(b.port);
    await f.started();
    assert.equal(f.status, 200);
    assert.equal(f.headers['content-type'], 'text/event-stream');
    assert.equal(f.headers['cache-control'], 'no-store');
    assert.equal(f.headers['x-accel-buffering'], 'no');
    assert.equal(f.retry, 2000);
    const tip = stream(s).at(-1);
    assert.equal(f.lastId, tip ? eventId(s, tip) : `${epochOf(s)}:0-0`, 'a client with no id gets the place to resume from');

    const before0 = (await get(`${b.url}/api/products/${ids[0]}`)).body;
    const patch = await send('PATCH', `${b.url}/api/products/${ids[0]}`, { stock: before0.stock + 1, price: before0.price + 1 }, token);
    assert.equal(patch.status, 200, patch.text);
    const cur = (await get(`${b.url}/api/products/${ids[1]}`)).body;
    const keep = Object.fromEntries(['description', 'image'].filter((k) => cur[k] !== null).map((k) => [k, cur[k]]));
    const put = await send('PUT', `${b.url}/api/products/${ids[1]}`,
      { name: `${cur.name} (renamed)`, price: cur.price, category: cur.category, stock: cur.stock, ...keep }, token);
    assert.equal(put.status, 200, put.text);
    const created = await send('POST', `${b.url}/api/products`, { name: 'Feed lamp', price: 3, category: 'books' }, token);
    assert.equal(created.status, 201, created.text);
    const del = await send('DELETE', `${b.url}/api/products/${created.body.id}`, undefined, token);
    assert.equal(del.status, 204);
    await f.until('four events', 5000, () => f.events.length === 4);

    const entries = stream(s).slice(-4);
    assert.deepEqual(f.events.map((e) => e.id), entries.map((e) => eventId(s, e)), 'ids: <epoch>:<stream entry id>, in stream order');
    assert.deepEqual(f.events.map((e) => e.data.catalog_version), entries.map((e) => Number(e.gen)));
    assert.equal(String(f.events[3].data.catalog_version), s.redisCli('GET', '{products}:gen'));
    const [p, u, c, d] = f.events;
    assert.deepEqual([p.event, u.event, c.event, d.event], ['product.updated', 'product.updated', 'product.created', 'product.deleted']);
    assert.deepEqual(Object.keys(p.data).sort(), ['at', 'catalog_version', 'fields', 'id', 'version']);
    assert.deepEqual(p.data, { id: ids[0], version: patch.body.version, catalog_version: p.data.catalog_version, at: p.data.at, fields: ['price', 'stock'] });
    assert.deepEqual(u.data.fields, ['name'], 'a PUT names only the fields whose values changed');
    assert.equal(u.data.version, put.body.version);
    assert.deepEqual(Object.keys(c.data).sort(), ['at', 'catalog_version', 'id', 'version']);
    assert.deepEqual([c.data.id, c.data.version], [created.body.id, 1]);
    assert.deepEqual([d.data.id, d.data.version], [created.body.id, 2], 'a delete is ordered after the version it removed');
    assert.match(p.data.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Math.abs(Date.parse(p.data.at) - p.at) < 2000);
    assert.ok(!f.body.includes(token) && !f.body.includes('admin'), 'no token, no user');
    await f.until('a ping', 3000, () => f.comments >= 1);
    await f.close();
  });

  test('resume: Last-Event-ID and ?after= replay exactly the events after that id, then live; the header wins over ?after=', async () => {
    const all = openFeed(b.port);
    await all.started();
    for (let i = 0; i < 5; i++) assert.equal((await send('PATCH', `${b.url}/api/products/${ids[2]}`, { stock: i }, token)).status, 200);
    await all.until('five', 5000, () => all.events.length === 5);
    const id = (k) => all.events[k].id;

    const byHeader = openFeed(b.port, { lastEventId: id(1) });
    const byQuery = openFeed(b.port, { path: `/api/changes?after=${encodeURIComponent(id(2))}` });
    const both = openFeed(b.port, { path: `/api/changes?after=${id(0)}`, lastEventId: id(3) });
    await byHeader.until('replayed', 5000, () => byHeader.events.length === 3);
    await byQuery.until('replayed', 5000, () => byQuery.events.length === 2);
    await both.until('replayed', 5000, () => both.events.length === 1);
    assert.deepEqual(byHeader.events.map((e) => e.id), [id(2), id(3), id(4)]);
    assert.deepEqual(byQuery.events.map((e) => e.id), [id(3), id(4)]);
    assert.deepEqual(both.events.map((e) => e.id), [id(4)]);
    assert.equal((await send('PATCH', `${b.url}/api/products/${ids[2]}`, { stock: 99 }, token)).status, 200);
    for (const f of [all, byHeader, byQuery, both]) await f.until('live', 5000, (x) => x.events.at(-1).data.version === all.events[4].data.version + 1);
    assert.deepEqual(byHeader.events.map((e) => e.id), all.events.slice(2).map((e) => e.id), 'no gap, no duplicate');
    for (const f of [all, byHeader, byQuery, both]) await f.close();
  });

  test('an id the stream cannot serve is one reset, then live: trimmed away, past its end, of another epoch', async () => {
    const f = openFeed(b.port);
    await f.started();
    for (let i = 0; i < 3; i++) assert.equal((await send('PATCH', `${b.url}/api/products/${ids[0]}`, { stock: i }, token)).status, 200);
    await f.until('three', 5000, () => f.events.length === 3);
    s.redisCli('XTRIM', '{products}:changes', 'MAXLEN', '1');
    const [ms] = eventId(s, stream(s).at(-1)).split(':')[1].split('-');
    const cases = [
      [f.events[0].id, 'trimmed'],
      [`${epochOf(s)}:${Number(ms) + 60000}-0`, 'unknown-id'],
      ['1234:1-0', 'epoch'],
    ];
    for (const [from, reason] of cases) {
      const tip = eventId(s, stream(s).at(-1));
      const r = openFeed(b.port, { lastEventId: from });
      await r.until('the reset', 5000, () => r.events.length === 1);
      assert.equal(r.events[0].event, 'reset');
      assert.equal(r.events[0].id, tip, 'the reset carries the place to go on from');
      assert.equal(r.events[0].data.reason, reason);
      assert.equal((await send('PATCH', `${b.url}/api/products/${ids[0]}`, { stock: 7 }, token)).status, 200);
      await r.until('then live', 5000, () => r.events.length === 2);
      assert.equal(r.events[1].event, 'product.updated');
      await r.close();
    }
    // the last event a client had is still the first entry: nothing was lost
    const last = openFeed(b.port, { lastEventId: eventId(s, stream(s)[0]) });
    assert.equal((await send('PATCH', `${b.url}/api/products/${ids[0]}`, { stock: 8 }, token)).status, 200);
    await last.until('an update', 5000, () => last.events.length >= 1);
    assert.equal(last.events[0].event, 'product.updated');
    await Promise.all([f.close(), last.close()]);
  });

  test('a malformed id or another parameter → 400 problem; HEAD; the stream is not reused for another request', async () => {
    assertProblem(assert, await get(`${b.url}/api/changes?after=5`), 400, { type: '/problems/invalid-parameter', param: 'after' });
    assertProblem(assert, await get(`${b.url}/api/changes?after=1:2-3&after=1:2-4`), 400, { param: 'after', detail: /once/ });
    assertProblem(assert, await get(`${b.url}/api/changes?since=1`), 400, { param: 'since' });
    assertProblem(assert, await get(`${b.url}/api/changes`, { headers: { 'last-event-id': 'abc' } }), 400,
      { type: '/problems/invalid-header', param: 'Last-Event-ID' });
    const head = await fetch(`${b.url}/api/changes`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), 'text/event-stream');
    // an empty Last-Event-ID is no id (a browser sends none before its first)
    const empty = openFeed(b.port, { headers: { 'Last-Event-ID': '' } });
    await empty.started();
    assert.equal(empty.status, 200);
    assert.equal(empty.headers.connection, 'close');
    await empty.close();
  });

  test('an Idempotency-Key retry answered with the first product is no event (nothing was written); the next write is', async () => {
    const f = openFeed(b.port);
    await f.started();
    const key = `feed-retry-${Date.now()}`;
    const body = { name: 'Feed retried lamp', price: 4, category: 'books' };
    const first = await send('POST', `${b.url}/api/products`, body, token, { 'Idempotency-Key': key });
    assert.equal(first.status, 201, first.text);
    assert.equal((await send('DELETE', `${b.url}/api/products/${first.body.id}`, undefined, token)).status, 204);
    const retry = await send('POST', `${b.url}/api/products`, body, token, { 'Idempotency-Key': key });
    assert.equal(retry.status, 201, retry.text);
    assert.equal(retry.headers.get('idempotency-replayed'), 'true');
    assert.deepEqual(stream(s).slice(-3).map((e) => [e.ev, e.id]), [['created', first.body.id], ['deleted', first.body.id], ['replayed', first.body.id]],
      'the retry still invalidates (its own answer must not outrun the first attempt\'s invalidation)');
    const cur = (await get(`${b.url}/api/products/${ids[2]}`)).body;
    assert.equal((await send('PATCH', `${b.url}/api/products/${ids[2]}`, { stock: cur.stock + 1 }, token)).status, 200);
    await f.until('the patch', 5000, () => f.events.some((e) => e.data.id === ids[2]));
    assert.deepEqual(f.events.map((e) => [e.event, e.data.id]),
      [['product.created', first.body.id], ['product.deleted', first.body.id], ['product.updated', ids[2]]]);
    // a client resuming from before the retry skips it too
    const again = openFeed(b.port, { lastEventId: f.events[0].id });
    await again.until('the two after', 5000, () => again.events.length === 2);
    assert.deepEqual(again.events.map((e) => e.event), ['product.deleted', 'product.updated']);
    await Promise.all([f.close(), again.close()]);
  });

  test('a stream is counted in /metrics when it starts (2xx), and kept out of the duration histogram', async () => {
    const metric = async (name) => {
      const text = await (await fetch(`${b.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`) && l.includes('route="/api/changes"')
        && (!l.includes('method=') || l.includes('method="GET"')) && (!l.includes('status_class=') || l.includes('status_class="2xx"')));
      assert.ok(line, `${name} for /api/changes is exposed`);
      return Number(line.split(' ').at(-1));
    };
    const started = () => metric('catalog_http_requests_total');
    const observed = () => metric('catalog_http_request_duration_seconds_count');
    const [n0, d0] = [await started(), await observed()];
    const f = openFeed(b.port);
    await f.started();
    assert.equal(await started(), n0 + 1, 'counted while it is open');
    await f.close();
    await sleep(100);
    assert.equal(await started(), n0 + 1, 'once');
    assert.equal(await observed(), d0, 'no duration observed for a stream');
  });
});

describe('two processes', () => {
  let s;
  let a;
  let b;
  before(async () => { s = await startStack({ backends: 2 }); [a, b] = s.backends; });
  after(async () => s && s.stop());

  test('1,000 writes over both: a client on each gets all 1,000 in stream order, none twice, versions as stored; clients cut mid-way resume by Last-Event-ID and ?after= while writes go on', { timeout: 240000 }, async () => {
    const token = await login(a.url);
    const list = await products(a.url, 20);
    const fa = openFeed(a.port);
    const fb = openFeed(b.port);
    const ra = openFeed(a.port); // cut after 300 events, resumes by Last-Event-ID on the other process
    const rb = openFeed(b.port); // cut after 600, resumes by ?after= on the other process
    await Promise.all([fa, fb, ra, rb].map((f) => f.started()));
    const resumed = [];
    const cutAndResume = async (f, n, how) => {
      await f.until(`${n} events`, 120000, () => f.events.length >= n);
      await f.close();
      const last = f.events.at(-1).id;
      const port = f === ra ? b.port : a.port;
      const g = how === 'header' ? openFeed(port, { lastEventId: last }) : openFeed(port, { path: `/api/changes?after=${last}` });
      resumed.push([f, g]);
    };
    const cuts = Promise.all([cutAndResume(ra, 300, 'header'), cutAndResume(rb, 600, 'query')]);

    const versions = new Map(list.map((p) => [p.id, []])); // the versions the 2xx reported
    await pool(1000, 8, async (i) => {
      const p = list[i % list.length];
      const via = i % 2 ? b : a;
      const r = await send('PATCH', `${via.url}/api/products/${p.id}`, { stock: i }, token);
      assert.equal(r.status, 200, r.text);
      versions.get(p.id).push(r.body.version);
    });
    await cuts;
    const all = [fa, fb, ...resumed.map(([, g]) => g)];
    await Promise.all(all.map((f) => f.until('1,000 events', 30000, () => updates(f).length >= (f === fa || f === fb ? 1000 : 1))));
    await sleep(300); // nothing more may come

    const entries = stream(s);
    assert.equal(entries.length, 1000, 'one stream entry per write');
    const want = entries.map((e) => eventId(s, e));
    assert.deepEqual(fa.events.map((e) => e.id), want, 'process A: every event, in stream order, once');
    assert.deepEqual(fb.events.map((e) => e.id), want, 'process B: the same');
    for (const [cut, rest] of resumed) {
      assert.ok(cut.events.length < 1000 && rest.events.length > 0);
      assert.deepEqual([...cut.events, ...rest.events].map((e) => e.id), want, 'cut and resumed: no gap, no duplicate');
    }
    for (const p of list) {
      const seen = fa.events.filter((e) => e.data.id === p.id).map((e) => e.data.version);
      assert.deepEqual([...seen].sort((x, y) => x - y), [...versions.get(p.id)].sort((x, y) => x - y), `${p.id}: the versions written`);
      const stored = (await get(`${a.url}/api/products/${p.id}`)).body.version;
      assert.equal(Math.max(...seen), stored, 'the newest version seen is the stored one');
    }
    await Promise.all(all.map((f) => f.close()));
  });

  test('a drain (SIGTERM) ends the streams at once; their clients resume on the other process without a gap', async () => {
    const token = await login(b.url);
    const [p] = await products(b.url, 1);
    const f = openFeed(a.port);
    await f.started();
    assert.equal((await send('PATCH', `${b.url}/api/products/${p.id}`, { stock: 1 }, token)).status, 200);
    await f.until('one event', 5000, () => f.events.length === 1);
    const t0 = Date.now();
    a.proc.signal('SIGTERM');
    await f.until('the stream ended', 3000, () => f.ended);
    assert.ok(f.body.length > 0 && f.raw.endsWith('0\r\n\r\n'), 'ended cleanly (the last chunk), not cut');
    const exit = await a.proc.exited;
    assert.equal(exit.code, 0);
    assert.ok(Date.now() - t0 < 2000, `exited in ${Date.now() - t0} ms: a stream does not hold the drain`);
    for (let i = 2; i <= 4; i++) assert.equal((await send('PATCH', `${b.url}/api/products/${p.id}`, { stock: i }, token)).status, 200);
    const g = openFeed(b.port, { lastEventId: f.lastId });
    await g.until('the three written meanwhile', 5000, () => g.events.length === 3);
    assert.deepEqual(g.events.map((e) => e.data.version), [2, 3, 4].map((k) => f.events[0].data.version + k - 1));
    await g.close();
  });
});

describe('faults', () => {
  let s;
  let b;
  let token;
  let id;
  before(async () => {
    s = await startStack();
    b = s.backend;
    token = await login(b.url);
    [{ id }] = await products(b.url, 1);
  });
  after(async () => s && s.stop());
  const write = async (stock) => assert.equal((await send('PATCH', `${b.url}/api/products/${id}`, { stock }, token)).status, 200);
  const readerId = () => (s.redisCli('CLIENT', 'LIST').split('\n').find((l) => / name=catalog-feed /.test(l)) || '').replace(/^id=(\d+) .*/, '$1');

  test('the reader\'s connection killed (CLIENT KILL): it reconnects and goes on from the last entry it read, nothing lost', async () => {
    const f = openFeed(b.port);
    await f.started();
    await write(1);
    await f.until('one', 5000, () => f.events.length === 1);
    const before = readerId();
    assert.match(before, /^\d+$/, 'one reader connection, named catalog-feed');
    s.redisCli('CLIENT', 'KILL', 'ID', before);
    for (let i = 2; i <= 6; i++) await write(i); // appended while the reader reconnects
    await f.until('the five written meanwhile', 5000, () => f.events.length === 6);
    assert.deepEqual(f.events.map((e) => e.data.version), f.events.map((e, i) => f.events[0].data.version + i));
    assert.ok(f.events.every((e) => e.event === 'product.updated'), 'no reset: the reader\'s place was still in the stream');
    await until('a new reader', 3000, () => readerId() !== '' && readerId() !== before);
    const st = (await s.stats(b)).feed;
    assert.equal(st.reader.connected, true);
    assert.equal(st.reader.restarts, 0);
    await f.close();
  });

  test('a client resuming before the process\'s reader has its place waits for it: an entry appended meanwhile is not lost', async () => {
    // a proxy in front of Redis holds the reader's connection (named
    // catalog-feed) from its first command until the write below is
    // acknowledged; every other connection of the new process goes through
    const proxy = await holdFeedReader(s.redisPort);
    let w;
    try {
      w = await s.startBackend({ REDIS_URL: `redis://127.0.0.1:${proxy.port}/0`, REDIS_DEAD_MS: '5000' });
      await until('the reader held', 5000, () => proxy.holding);
      const tip = stream(s).at(-1);
      const f = openFeed(w.port, { lastEventId: tip ? eventId(s, tip) : `${epochOf(s)}:0-0` });
      await write(30); // through another process, while the reader is held
      assert.ok(proxy.holding, 'the write was acknowledged while the reader was held');
      proxy.release();
      await f.started();
      assert.equal(f.status, 200);
      await f.until('the write made before the reader started', 5000, () => f.events.length === 1);
      assert.equal(f.events[0].event, 'product.updated');
      await f.close();
    } finally {
      if (w) {
        await w.proc.stop();
        s.backends.splice(s.backends.indexOf(w), 1);
      }
      proxy.close();
    }
  });

  test('FLUSHALL (the reader\'s connection survives it): the reader finds the new epoch without a write, says reset, and new streams stay open', async () => {
    const f = openFeed(b.port);
    await f.started();
    await write(40);
    await f.until('one', 5000, () => f.events.length === 1);
    const oldEpoch = epochOf(s);
    s.redisCli('FLUSHALL');
    await f.until('a reset, with no write after the FLUSHALL', 5000, () => f.events.some((e) => e.event === 'reset'));
    const reset = f.events.find((e) => e.event === 'reset');
    assert.equal(reset.data.reason, 'epoch');
    assert.notEqual(epochOf(s), oldEpoch);
    assert.ok(reset.id.startsWith(`${epochOf(s)}:`));
    const g = openFeed(b.port);
    await g.started();
    await sleep(1500);
    assert.equal(g.ended, false, 'a new stream is not closed again and again until the next write');
    await until('writes invalidate again', 5000, async () => (await send('PATCH', `${b.url}/api/products/${id}`, { stock: 41 }, token)).headers.get('x-cache-invalidation') === null);
    await g.until('the write', 5000, () => g.events.some((e) => e.event === 'product.updated'));
    await f.until('the write', 5000, () => f.events.at(-1).event === 'product.updated');
    await Promise.all([f.close(), g.close()]);
  });

  test('Redis restarted without persistence: a new epoch; clients are told to reload (reset), then follow the new stream', async () => {
    const f = openFeed(b.port);
    await f.started();
    await write(10);
    await f.until('one', 5000, () => f.events.length === 1);
    const oldEpoch = epochOf(s);
    await s.redis.stop();
    await s.startRedis(); // same port, empty
    await until('the reader back on the new stream', 10000, async () => (await s.stats(b)).feed.reader.epoch !== Number(oldEpoch)
      && (await s.stats(b)).feed.reader.connected);
    const newEpoch = epochOf(s);
    assert.notEqual(newEpoch, oldEpoch);
    // the live stream is kept with a reset, or ended: then the client resumes by its id
    let g = f;
    await f.until('a reset or the end', 5000, () => f.ended || f.events.some((e) => e.event === 'reset'));
    if (f.ended) g = openFeed(b.port, { lastEventId: f.lastId });
    await g.until('a reset', 5000, () => g.events.some((e) => e.event === 'reset' && e.id.startsWith(`${newEpoch}:`)));
    await until('writes invalidate again', 5000, async () => (await send('PATCH', `${b.url}/api/products/${id}`, { stock: 11 }, token)).headers.get('x-cache-invalidation') === null);
    await g.until('the new write', 5000, () => g.events.at(-1).event === 'product.updated' && g.events.at(-1).id.startsWith(`${newEpoch}:`));
    // an id of the old epoch is a reset too
    const old = openFeed(b.port, { lastEventId: f.events[0].id });
    await old.until('reset', 5000, () => old.events.length === 1);
    assert.deepEqual([old.events[0].event, old.events[0].data.reason], ['reset', 'epoch']);
    await Promise.all([f.close(), g.close(), old.close()]);
  });

  test('a write whose outcome is unknown (MongoDB hung once the insert was sent): 503 "may or may not have been applied", and the feed says reset, not created', { timeout: 60000 }, async () => {
    // a new backend that holds each write 3 s once it counts as sent
    // (after the category check, before the insert goes out): the token's
    // user is looked up (a job), then the insert is submitted (a job);
    // MongoDB is stopped inside the hold, so the insert goes out to a
    // server that does not answer within MONGO_TIMEOUT_MS
    const w = await s.startBackend({ DEBUG_SENT_HOLD_MS: '3000' });
    try {
      const f = openFeed(b.port);
      await f.started();
      const name = 'Feed unknown outcome';
      const jobs = (await s.stats(w)).store.jobs;
      const pending = send('POST', `${w.url}/api/products`, { name, price: 2, category: 'books' }, token);
      await until('the insert submitted', 5000, async () => (await s.stats(w)).store.jobs >= jobs + 2, 20);
      await sleep(1000); // its category checked (a find of one document): now in the hold
      s.mongo.signal('SIGSTOP');
      let r;
      try {
        r = await pending;
      } finally {
        s.mongo.signal('SIGCONT');
      }
      assertProblem(assert, r, 503, { type: '/problems/service-unavailable', detail: /may or may not have been applied/ });
      assert.equal(r.headers.get('retry-after'), '1');
      await f.until('the reset', 5000, () => f.events.length >= 1);
      assert.deepEqual(f.events.map((e) => [e.event, e.data.reason]), [['reset', 'unknown-outcome']]);
      const entry = stream(s).at(-1); // names the product: the in-memory catalogue reads it again
      assert.deepEqual([entry.ev, entry.v], ['unknown', ''], JSON.stringify(entry));
      assert.match(entry.id, /^[0-9a-f]{24}$/);
      // it was applied once MongoDB went on: a reader that reloads sees it
      await until('the product stored', 10000, async () => (await get(`${b.url}/api/products?q=${encodeURIComponent(name)}`)).body.count === 1);
      await f.close();
    } finally {
      await w.proc.stop();
      s.backends.splice(s.backends.indexOf(w), 1);
    }
  });

  test('Redis down: a new stream answers 503 problem with Retry-After', async () => {
    await s.redis.stop();
    try {
      const r = await get(`${b.url}/api/changes`);
      assertProblem(assert, r, 503, { type: '/problems/service-unavailable', detail: /Redis/ });
      assert.equal(r.headers.get('retry-after'), '5');
    } finally {
      await s.startRedis();
    }
  });
});

// A TCP proxy to Redis that holds the data of a connection naming itself
// catalog-feed (the feed's reader) from its first command until release();
// others pass at once. { port, held (connections held so far), holding,
// release(), close() }.
async function holdFeedReader(redisPort) {
  const conns = new Set();
  const flushes = [];
  const p = { port: 0, held: 0, holding: false };
  const srv = net.createServer((c) => {
    const up = net.connect(redisPort, '127.0.0.1');
    conns.add(c).add(up);
    let held = false;
    const queue = [];
    c.on('data', (d) => {
      if (!held && p.held === 0 && d.includes('catalog-feed')) {
        held = true;
        p.held++;
        p.holding = true;
        flushes.push(() => { held = false; while (queue.length) up.write(queue.shift()); });
      }
      if (held) queue.push(d);
      else up.write(d);
    });
    up.on('data', (d) => c.write(d));
    for (const [a, z] of [[c, up], [up, c]]) {
      a.on('error', () => z.destroy());
      a.on('close', () => z.destroy());
    }
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  p.port = srv.address().port;
  p.release = () => {
    p.holding = false;
    for (const f of flushes.splice(0)) f();
  };
  p.close = () => {
    for (const c of conns) c.destroy();
    srv.close();
  };
  return p;
}

// Appends n stream entries in one script, each made as the invalidation
// script makes one (a generation bump and an update of product id) — the
// writes of other processes, at a rate no API client could reach.
function appendUpdates(s, id, n) {
  return s.redisCli('EVAL', `local ep = redis.call('GET', KEYS[3])
    for i = 1, tonumber(ARGV[2]) do
      local g = redis.call('INCR', KEYS[1])
      redis.call('XADD', KEYS[2], '*', 'gen', g, 'id', ARGV[1], 'ev', 'updated', 'v', 1000 + i, 'f', 'stock', 'ep', ep, 'at', '1700000000000')
    end
    return 1`, '3', '{products}:gen', '{products}:changes', '{products}:epoch', id, String(n));
}

function rssKb(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

describe('limits', () => {
  let s;
  let id;
  before(async () => {
    s = await startStack({ backends: 0 });
    s.runInit();
  });
  after(async () => s && s.stop());

  test('SSE_MAX_CLIENTS per process: beyond it 503 problem + Retry-After; a closed stream frees its place at once; 0 switches the feed off', async () => {
    const b = await s.startBackend({ SSE_MAX_CLIENTS: '3' });
    try {
      const open = [openFeed(b.port), openFeed(b.port), openFeed(b.port)];
      await Promise.all(open.map((f) => f.started()));
      const r = await get(`${b.url}/api/changes`);
      assertProblem(assert, r, 503, { type: '/problems/service-unavailable', detail: /too many change feeds/ });
      assert.equal(r.headers.get('retry-after'), '5');
      assert.equal((await s.stats(b)).feed.clients, 3);
      const metrics = (await get(`${b.url}/metrics`)).text;
      assert.match(metrics, /^catalog_feed_streams 3$/m);
      assert.match(metrics, /^catalog_feed_streams_live 3$/m);
      assert.match(metrics, /^catalog_feed_reader_up 1$/m);
      await open[0].close(); // the backend notices at once (it watches the socket), not at the next ping
      await until('a place again', 3000, async () => (await s.stats(b)).feed.clients === 2);
      const again = openFeed(b.port);
      await again.started();
      assert.equal(again.status, 200);
      await Promise.all([again, ...open].map((f) => f.close()));
    } finally {
      await b.proc.stop();
      s.backends.length = 0;
    }
    const off = await s.startBackend({ SSE_MAX_CLIENTS: '0' });
    try {
      assertProblem(assert, await get(`${off.url}/api/changes`), 503, { detail: /switched off/ });
      assert.equal(s.redisCli('CLIENT', 'LIST').includes('name=catalog-feed'), false, 'no reader either');
    } finally {
      await off.proc.stop();
      s.backends.length = 0;
    }
  });

  test('a client that stops reading is closed once its unsent output passes SSE_BUFFER_MAX; the others get every event', { timeout: 60000 }, async () => {
    const b = await s.startBackend({ SSE_BUFFER_MAX: '65536' });
    try {
      [{ id }] = await products(b.url, 1);
      const slow = openFeed(b.port);
      const fine = openFeed(b.port);
      await Promise.all([slow.started(), fine.started()]);
      slow.socket.pause(); // reads nothing more: its kernel buffers fill, then the backend's queue
      const rss0 = rssKb(b.proc.pid);
      // 6,000 events in about 2 s: five times what the API's writes reach here
      for (let k = 0; k < 60; k++) {
        appendUpdates(s, id, 100);
        await sleep(20);
      }
      await fine.until('6,000 events', 30000, () => fine.events.length === 6000);
      const st = (await s.stats(b)).feed;
      assert.equal(st.closed_slow, 1);
      assert.equal(st.clients, 1);
      assert.deepEqual(fine.events.map((e) => e.data.version), Array.from({ length: 6000 }, (_, i) => 1001 + (i % 100)));
      if (!sanitized) assert.ok(rssKb(b.proc.pid) - rss0 < 8192, 'the stuck client held no more than its bound');
      slow.socket.resume();
      await slow.until('closed', 5000, () => slow.ended);
      assert.ok(slow.events.length < 6000, `the slow one got ${slow.events.length}, then was closed`);
      await fine.close();
    } finally {
      await b.proc.stop();
      s.backends.length = 0;
    }
  });

  test('a long replay comes in rounds the client takes in, even under a small SSE_BUFFER_MAX: nothing is cut', { timeout: 60000 }, async () => {
    const b = await s.startBackend({ SSE_BUFFER_MAX: '4096' });
    try {
      [{ id }] = await products(b.url, 1);
      const f = openFeed(b.port);
      await f.started();
      const from = f.lastId;
      await f.close();
      for (let k = 0; k < 10; k++) appendUpdates(s, id, 300); // 3,000 events, about 700 KB
      const r = openFeed(b.port, { lastEventId: from });
      await r.until('the 3,000 replayed', 30000, () => r.events.length === 3000);
      assert.deepEqual(r.events.map((e) => e.data.version), Array.from({ length: 3000 }, (_, i) => 1001 + (i % 300)));
      appendUpdates(s, id, 1);
      await r.until('then live', 5000, () => r.events.length === 3001);
      assert.equal((await s.stats(b)).feed.closed_slow, 0);
      await r.close();
    } finally {
      await b.proc.stop();
      s.backends.length = 0;
    }
  });

  test('1,000 idle clients on one process: RSS grows by less than 16 MB (16 KB each); one write reaches them all', { timeout: 60000 }, async () => {
    const b = await s.startBackend();
    const feeds = [];
    try {
      const token = await login(b.url);
      [{ id }] = await products(b.url, 1);
      const rss0 = rssKb(b.proc.pid);
      for (let i = 0; i < 1000; i++) feeds.push(openFeed(b.port));
      await Promise.all(feeds.map((f) => f.started()));
      assert.equal((await s.stats(b)).feed.clients, 1000);
      const grown = rssKb(b.proc.pid) - rss0;
      // an ASan build keeps redzones and a quarantine: its figure is printed, not bounded
      if (!sanitized) assert.ok(grown < 16 * 1024, `RSS grew by ${grown} KB for 1,000 streams`);
      const t0 = Date.now();
      assert.equal((await send('PATCH', `${b.url}/api/products/${id}`, { stock: 5 }, token)).status, 200);
      await Promise.all(feeds.map((f) => f.until('the event', 10000, () => f.events.length === 1)));
      process.stderr.write(`# 1,000 idle streams: RSS +${grown} KB; one write reached all in ${Date.now() - t0} ms\n`);
    } finally {
      await Promise.all(feeds.map((f) => f.close()));
      await b.proc.stop();
      s.backends.length = 0;
    }
  });
});

describe('through nginx', () => {
  let s;
  let n;
  let token;
  let id;
  before(async () => {
    s = await startStack({ backends: 2, nginx: true });
    n = s.nginxes[0];
    token = await login(s.backend.url);
    [{ id }] = await products(s.backend.url, 1);
  });
  after(async () => s && s.stop());
  const write = async (stock) => {
    const r = await send('PATCH', `${s.backend.url}/api/products/${id}`, { stock }, token);
    assert.equal(r.status, 200, r.text);
    return Date.now();
  };

  test('each event arrives within 1 s of its write\'s 2xx (nothing held in a proxy buffer); a stream quiet past the 10 s read timeout of other requests stays open', { timeout: 60000 }, async () => {
    const f = openFeed(n.port);
    await f.started();
    assert.equal(f.status, 200);
    assert.equal(f.headers['content-type'], 'text/event-stream');
    for (let i = 1; i <= 3; i++) {
      const done = await write(i);
      await f.until(`event ${i}`, 1000, () => f.events.length === i);
      assert.ok(f.events[i - 1].at - done < 1000, `${f.events[i - 1].at - done} ms after the 2xx`);
    }
    await sleep(12000); // no event, no ping yet (SSE_PING_S 15)
    assert.equal(f.ended, false, 'still open after 12 s of silence');
    const done = await write(4);
    await f.until('event 4', 1000, () => f.events.length === 4);
    assert.ok(f.events[3].at - done < 1000);
    await f.close();
  });

  test('FEED_CONN_PER_ADDR: beyond it nginx answers 429 problem+json with Retry-After', async () => {
    const m = await s.startNginx({ FEED_CONN_PER_ADDR: '2' });
    const open = [openFeed(m.port), openFeed(m.port)];
    await Promise.all(open.map((f) => f.started()));
    const r = await get(`${m.url}/api/changes`);
    assertProblem(assert, r, 429, { type: '/problems/too-many-requests', detail: /open change feeds/ });
    assert.equal(r.headers.get('retry-after'), '1');
    assert.equal((await get(`${m.url}/api/products?limit=1`)).status, 200, 'other requests are not counted');
    await Promise.all(open.map((f) => f.close()));
    const again = openFeed(m.port);
    await again.started();
    assert.equal(again.status, 200);
    await again.close();
  });

  test('a backend drained (SIGTERM) under a stream: the client resumes through nginx on the other one, nothing lost', async () => {
    const f = openFeed(n.port);
    await f.started();
    await write(20);
    await f.until('one', 5000, () => f.events.length === 1);
    const stats = await Promise.all(s.backends.map((b) => s.stats(b)));
    const holder = s.backends[stats.findIndex((x) => x.feed.clients === 1)];
    const other = s.backends.find((b) => b !== holder);
    holder.proc.signal('SIGTERM');
    await f.until('ended', 3000, () => f.ended);
    await holder.proc.exited;
    const t = await login(other.url);
    for (let i = 21; i <= 23; i++) assert.equal((await send('PATCH', `${other.url}/api/products/${id}`, { stock: i }, t)).status, 200);
    const g = openFeed(n.port, { lastEventId: f.lastId });
    await g.until('the three written meanwhile', 5000, () => g.events.length === 3);
    assert.deepEqual(g.events.map((e) => e.data.version), [1, 2, 3].map((k) => f.events[0].data.version + k));
    await g.close();
  });

  test('prod templates: the same location over HTTPS (HTTP/2), events unbuffered', async () => {
    const certs = path.join(s.dir, 'certs-prod');
    execFileSync(path.join(root, 'scripts/make-cert.sh'), [certs]);
    const p = await s.startNginx({
      NGINX_PROFILE: 'prod', SERVER_NAME: 'localhost', TLS_CERT: `${certs}/fullchain.pem`, TLS_KEY: `${certs}/privkey.pem`,
      BACKEND_PORTS: String(s.backends.find((b) => b.proc.alive()).port),
    });
    const conf = fs.readFileSync(path.join(p.state, 'conf.d/catalog-locations.inc'), 'utf8');
    const loc = conf.slice(conf.indexOf('location = /api/changes'), conf.indexOf('}', conf.indexOf('location = /api/changes')));
    assert.match(loc, /proxy_buffering off;/);
    assert.match(loc, /proxy_read_timeout 60s;/);
    assert.match(loc, /limit_conn catalog_feed 65535;/);
    const client = http2.connect(`https://127.0.0.1:${p.tlsPort}`, { rejectUnauthorized: false, servername: 'localhost' });
    try {
      const req = client.request({ ':path': '/api/changes' });
      let body = '';
      const head = await new Promise((resolve, reject) => { req.on('response', resolve); req.on('error', reject); });
      assert.equal(head[':status'], 200);
      assert.equal(head['content-type'], 'text/event-stream');
      req.setEncoding('utf8');
      req.on('data', (d) => { body += d; });
      await until('the preamble', 5000, () => body.includes('retry: 2000'));
      const live = s.backends.find((b) => b.proc.alive());
      const t = await login(live.url);
      const r = await send('PATCH', `${live.url}/api/products/${id}`, { stock: 30 }, t);
      const done = Date.now();
      await until('the event', 1000, () => body.includes(`"version":${r.body.version}`));
      assert.ok(Date.now() - done < 1000);
      req.close();
    } finally {
      client.close();
    }
  });
});
