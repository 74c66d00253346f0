// The process, black-box: SIGTERM/SIGINT drain, configuration and its
// errors, --help and --healthcheck, how Redis is reached (host name,
// password, database number) and CURRENCY.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  TEST_JWT_SECRET, backendBin, connectRefused, freePort, getFresh, root, sleep, startStack, until, waitPort,
} from './lib/stack.mjs';

const SEED_IDS = JSON.parse(fs.readFileSync(path.join(root, 'mongo-init/products.json'), 'utf8')).map((p) => p._id);
let nextId = 0;
const freshProduct = () => {
  assert.ok(nextId < SEED_IDS.length, 'out of unread seed products');
  return `/api/products/${SEED_IDS[nextId++]}`;
};

// every wait below is bounded; this catches anything that is not
const T = { timeout: 60000 };

// /api/stats, bounded
const stats = async (b) => (await getFresh(`${b.url}/api/stats`, { timeoutMs: 5000 })).body;

let s;
before(async () => { s = await startStack({ backends: 0 }); });
after(async () => s && s.stop());


// Runs the binary to completion (killed after ms); never inherits the test's environment.
function run(args, env, ms = 5000) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(backendBin, args, {
      env: { PATH: process.env.PATH, ASAN_OPTIONS: process.env.ASAN_OPTIONS || '', UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code, signal) => {
      clearTimeout(t);
      // let the pipes drain
      setImmediate(() => resolve({ code, signal, stdout, stderr, ms: performance.now() - t0 }));
    });
  });
}

// A plain GET on a raw socket; resolves with the socket and the response
// head once the whole (Content-Length) response is in, socket still open.
function keepAliveRequest(port, p = '/health') {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let buf = '';
    const t = setTimeout(() => { sock.destroy(); reject(new Error('no response within 5 s')); }, 5000);
    sock.on('error', reject);
    const onData = (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/\r\ncontent-length: *(\d+)/i.exec(buf.slice(0, end))?.[1]);
      if (buf.length - end - 4 < len) return;
      clearTimeout(t);
      sock.off('data', onData);
      resolve({ sock, head: buf.slice(0, end) });
    };
    sock.on('data', onData);
    sock.write(`GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`);
  });
}

// Resolves with the ms until the peer closes sock (EOF, reset or close).
function closedWithin(sock, ms) {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms);
    const done = () => { clearTimeout(t); resolve(performance.now() - t0); };
    sock.on('data', () => {});
    sock.once('end', done);
    sock.once('close', done);
    sock.once('error', done);
  });
}

// A backend whose next store job is held delayMs, with one request for an
// uncached product in flight on it (300 ms into the wait).
async function backendWithRequestInFlight(delayMs) {
  const b = await s.startBackend({ DEBUG_STORE_DELAY_MS: String(delayMs) });
  const p = freshProduct();
  const inflight = getFresh(b.url + p, { timeoutMs: 10000 });
  await sleep(300);
  return { b, p, inflight };
}

// The in-flight request is answered with its product and the process exits
// 0 within 5 s; its log matches logPattern.
async function assertDrained({ b, p, inflight }, logPattern) {
  const r = await inflight;
  assert.equal(r.status, 200);
  assert.equal(r.body.id, p.split('/').pop());
  const ex = await exitedWithin(b, 5000);
  assert.equal(ex.code, 0);
  assert.equal(ex.signal, null);
  assert.match(b.proc.log(), logPattern);
}

async function exitedWithin(b, ms) {
  const t0 = performance.now();
  let timer;
  const r = await Promise.race([
    b.proc.exited,
    new Promise((resolve) => { timer = setTimeout(() => resolve(null), ms); }),
  ]);
  clearTimeout(timer);
  assert.ok(r, `:${b.port} still running ${ms} ms after the signal`);
  return { ...r, ms: performance.now() - t0 };
}

describe('SIGTERM / SIGINT', () => {
  // before main() blocks the signals the default action ends the process (by
  // SIGTERM); after, it must drain and exit 0 — never crash on a loop that
  // has not registered its receivers yet
  test('a signal during start-up never crashes the process', T, async () => {
    const outcomes = { exit0: 0, bySignal: 0 };
    for (let i = 0; i < 40; i++) {
      const port = await freePort();
      const child = spawn(backendBin, [], {
        env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), THREADS: '8', REDIS_URL: s.backend?.env?.REDIS_URL
          || `redis://127.0.0.1:${s.redisPort}/0`, MONGO_URI: s.mongoUri, JWT_SECRET: TEST_JWT_SECRET, ASAN_OPTIONS: process.env.ASAN_OPTIONS || '' },
        stdio: 'ignore',
      });
      const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      await sleep(1 + i); // 1..40 ms: across start-up, in release and ASan builds alike
      child.kill('SIGTERM');
      let timer;
      const r = await Promise.race([exited, new Promise((resolve) => { timer = setTimeout(() => resolve(null), 6000); })]);
      clearTimeout(timer);
      if (r === null) child.kill('SIGKILL');
      assert.ok(r, `run ${i}: still running 6 s after SIGTERM`);
      assert.ok((r.code === 0 && r.signal === null) || (r.code === null && r.signal === 'SIGTERM'), `run ${i}: ${JSON.stringify(r)}`);
      outcomes[r.code === 0 ? 'exit0' : 'bySignal']++;
    }
    assert.ok(outcomes.exit0 > 0, `some runs got past start-up: ${JSON.stringify(outcomes)}`);
  });

  test('a process killed with SIGKILL leaves no libmongoc counters file (/dev/shm/mongoc-<pid>) behind', T, async () => {
    const b = await s.startBackend();
    const pid = b.proc.pid;
    try {
      assert.equal((await getFresh(`${b.url}/health`)).status, 200);
      assert.equal(fs.existsSync(`/dev/shm/mongoc-${pid}`), false, 'unlinked while running (the mapping still works)');
    } finally {
      b.proc.signal('SIGKILL');
      await b.proc.stop();
      s.backends.splice(s.backends.indexOf(b), 1);
    }
    assert.equal(fs.existsSync(`/dev/shm/mongoc-${pid}`), false);
  });

  test('SIGTERM: the in-flight request completes, the listener closes at once, exit 0', T, async (t) => {
    const b = await s.startBackend({ DEBUG_STORE_DELAY_MS: '1500' });
    const p = freshProduct();
    const t0 = performance.now();
    const inflight = getFresh(b.url + p, { timeoutMs: 10000 });
    let answeredAt = null;
    inflight.then(() => { answeredAt = performance.now(); }, () => {});
    await sleep(300);
    const sigAt = performance.now();
    b.proc.signal('SIGTERM');

    // new connections are refused while the request is still being served
    const refusedAt = await until('connections refused after SIGTERM', 1000, async () => (await connectRefused(b.port)) && performance.now(), 10);
    assert.equal(answeredAt, null, 'refused while the request was still in flight');
    t.diagnostic(`refused ${(refusedAt - sigAt).toFixed(0)} ms after SIGTERM`);

    const r = await inflight;
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.id, p.split('/').pop());
    assert.equal(r.headers.get('content-length'), String(Buffer.byteLength(r.text)));
    assert.equal(r.headers.get('connection'), 'close', 'answered with Connection: close while draining');
    assert.ok(answeredAt - t0 >= 1400, 'it really was in flight (DEBUG_STORE_DELAY_MS=1500)');

    const ex = await exitedWithin(b, 5000);
    assert.equal(ex.code, 0, b.proc.log());
    assert.equal(ex.signal, null);
    assert.ok(performance.now() - sigAt < 5000, 'exit within 5 s of the signal');
    assert.ok(await connectRefused(b.port));
    assert.match(b.proc.log(), /SIGTERM received, draining/);
  });

  test('SIGTERM: idle keep-alive connections are closed, not waited for', T, async (t) => {
    const b = await s.startBackend();
    const ka = await keepAliveRequest(b.port, '/health');
    assert.match(ka.head, /^HTTP\/1\.1 200/);
    assert.doesNotMatch(ka.head, /\r\nconnection: close/i, 'a keep-alive connection');
    const quiet = net.connect(b.port, '127.0.0.1'); // connected, never sends a byte
    await new Promise((resolve, reject) => { quiet.once('connect', resolve); quiet.once('error', reject); });
    await sleep(100);

    const kaClosed = closedWithin(ka.sock, 3000);
    const quietClosed = closedWithin(quiet, 3000);
    b.proc.signal('SIGTERM');
    const ex = await exitedWithin(b, 1500);
    assert.equal(ex.code, 0, b.proc.log());
    t.diagnostic(`exited ${ex.ms.toFixed(0)} ms after SIGTERM`);
    assert.ok((await kaClosed) < 1500, 'the idle keep-alive socket sees the close');
    assert.ok((await quietClosed) < 1500, 'the silent socket sees the close');
  });

  test('SIGTERM closes idle keep-alive connections at once, also while another request is still in flight', T, async (t) => {
    const b = await s.startBackend({ DEBUG_STORE_DELAY_MS: '1500' });
    const ka = await keepAliveRequest(b.port, '/health');
    let answeredAt = null;
    const inflight = getFresh(b.url + freshProduct(), { timeoutMs: 10000 });
    inflight.then(() => { answeredAt = performance.now(); }, () => {});
    await sleep(300);
    const kaClosed = closedWithin(ka.sock, 5000);
    const sigAt = performance.now();
    b.proc.signal('SIGTERM');
    const closedMs = await kaClosed.catch((e) => e);
    const r = await inflight;
    assert.equal(r.status, 200);
    const ex = await exitedWithin(b, 5000);
    assert.equal(ex.code, 0);
    assert.ok(!(closedMs instanceof Error), closedMs.message);
    t.diagnostic(`idle keep-alive closed ${closedMs.toFixed(0)} ms after SIGTERM; in-flight answered ${(answeredAt - sigAt).toFixed(0)} ms after`);
    assert.ok(closedMs < 800, `the idle keep-alive connection was closed only ${closedMs.toFixed(0)} ms after SIGTERM, `
      + `when the in-flight request was done (${(answeredAt - sigAt).toFixed(0)} ms): until then it could still send new requests`);
  });

  test('SIGINT behaves like SIGTERM: in-flight request answered, exit 0', T, async () => {
    const run = await backendWithRequestInFlight(800);
    run.b.proc.signal('SIGINT');
    await until('connections refused after SIGINT', 1000, () => connectRefused(run.b.port), 10);
    await assertDrained(run, /SIGINT received, draining/);
  });

  test('a second SIGTERM (or a SIGINT) during the drain changes nothing', T, async () => {
    const run = await backendWithRequestInFlight(1000);
    run.b.proc.signal('SIGTERM');
    await sleep(100);
    run.b.proc.signal('SIGTERM');
    run.b.proc.signal('SIGINT');
    await assertDrained(run, /drained, exiting/);
  });

  test('requests whose clients went away are not counted as in flight once their jobs end', T, async (t) => {
    const b = await s.startBackend({ DEBUG_STORE_DELAY_MS: '800' });
    // clients that give up while their requests wait on MongoDB
    const gone = [];
    for (let i = 0; i < 4; i++) {
      const sock = net.connect(b.port, '127.0.0.1');
      sock.on('error', () => {});
      sock.write(`GET ${i % 2 ? freshProduct() : `/api/products?limit=2&offset=${200 + i}`} HTTP/1.1\r\nHost: x\r\n\r\n`);
      gone.push(sock);
    }
    await sleep(300);
    for (const sock of gone) sock.destroy();
    await sleep(1500); // their jobs are over
    b.proc.signal('SIGTERM');
    const ex = await exitedWithin(b, 1000);
    assert.equal(ex.code, 0);
    t.diagnostic(`exited ${ex.ms.toFixed(0)} ms after SIGTERM`);
    assert.match(b.proc.log(), /drained, exiting/);
  });

  test('DRAIN_TIMEOUT_MS bounds the drain: a request stuck longer does not keep the process', T, async (t) => {
    const b = await s.startBackend({ DEBUG_STORE_DELAY_MS: '4000', MONGO_TIMEOUT_MS: '8000', DRAIN_TIMEOUT_MS: '500' });
    const inflight = getFresh(b.url + freshProduct(), { timeoutMs: 10000 }).then((r) => r, (e) => e);
    await sleep(300);
    b.proc.signal('SIGTERM');
    const ex = await exitedWithin(b, 2500);
    assert.equal(ex.code, 0);
    t.diagnostic(`exited ${ex.ms.toFixed(0)} ms after SIGTERM with a request in flight (DRAIN_TIMEOUT_MS=500)`);
    assert.ok(ex.ms >= 400, `waited for the drain (${ex.ms.toFixed(0)} ms)`);
    const r = await inflight;
    assert.ok(r instanceof Error, 'the abandoned request sees its connection closed, no answer');
    assert.match(b.proc.log(), /drain timed out with 1 requests in flight/);
  });
});

describe('configuration', () => {
  const ALL = ['HOST', 'PORT', 'THREADS', 'MONGO_URI', 'MONGO_DB', 'MONGO_WORKERS', 'MONGO_QUEUE_MAX', 'MONGO_TIMEOUT_MS',
    'REDIS_URL', 'REDIS_TIMEOUT_MS', 'CACHE_TTL', 'CACHE_TTL_JITTER_PCT', 'CACHE_NEGATIVE_TTL', 'HEALTH_TIMEOUT_MS',
    'MAX_BODY_BYTES', 'DRAIN_TIMEOUT_MS', 'CURRENCY', 'MIRROR_MAX_PRODUCTS', 'MIRROR_MAX_AGE', 'CHANGES_MAX',
    'SSE_MAX_CLIENTS', 'SSE_BUFFER_MAX', 'SSE_PING_S'];
  const DEFAULTS = {
    HOST: '127.0.0.1', PORT: '3000', MONGO_DB: 'catalog', MONGO_WORKERS: '4', MONGO_QUEUE_MAX: '1024',
    MONGO_TIMEOUT_MS: '2000', REDIS_TIMEOUT_MS: '100', CACHE_TTL: '300', CACHE_TTL_JITTER_PCT: '0', CACHE_NEGATIVE_TTL: '15',
    HEALTH_TIMEOUT_MS: '1000', MAX_BODY_BYTES: '65536', DRAIN_TIMEOUT_MS: '4500', CURRENCY: 'USD',
    MIRROR_MAX_PRODUCTS: '100000', MIRROR_MAX_AGE: '300', CHANGES_MAX: '10000',
    SSE_MAX_CLIENTS: '1000', SSE_BUFFER_MAX: '262144', SSE_PING_S: '15',
  };

  test('--help: exit 0, every variable with its default', T, async () => {
    const r = await run(['--help'], {});
    assert.equal(r.code, 0, r.stderr);
    for (const name of ALL) {
      const m = new RegExp(`^ +${name} +\\S.*\\n +default: *(\\S.*)$`, 'm').exec(r.stdout);
      assert.ok(m, `${name} listed with a default:\n${r.stdout}`);
      if (DEFAULTS[name]) assert.equal(m[1].trim(), DEFAULTS[name], name);
    }
    assert.match(r.stdout, /--healthcheck/);
    assert.equal((await run(['-h'], {})).code, 0);
  });

  const BAD = [
    ['PORT', '99999'], ['PORT', 'abc'], ['PORT', '0'], ['PORT', ''], ['PORT', '80x'], ['PORT', ' 80'],
    ['THREADS', '0'], ['THREADS', '-1'], ['CACHE_TTL_JITTER_PCT', '5'], ['REDIS_URL', 'http://x'],
    ['SSE_BUFFER_MAX', '100'], ['SSE_PING_S', '0'], ['SSE_MAX_CLIENTS', '-1'],
    ['REDIS_URL', 'redis://127.0.0.1:99999/0'], ['REDIS_URL', 'redis://127.0.0.1:6379/16'], ['REDIS_URL', 'redis://secret@127.0.0.1'],
    ['MONGO_URI', 'foo'], ['MONGO_DB', 'a.b'], ['HOST', 'localhost'], ['HOST', ''], ['CURRENCY', 'usd'], ['CURRENCY', 'EURO'],
    ['MONGO_WORKERS', '0'], ['MONGO_QUEUE_MAX', '0'], ['MONGO_TIMEOUT_MS', '1e3'], ['REDIS_TIMEOUT_MS', '0'],
    ['CACHE_TTL', '0'], ['CACHE_NEGATIVE_TTL', 'x'], ['HEALTH_TIMEOUT_MS', '99999999999999999999'], ['MAX_BODY_BYTES', '-1'],
    ['DRAIN_TIMEOUT_MS', '1.5'],
  ];
  for (const [name, value] of BAD) {
    test(`${name}=${JSON.stringify(value)} → exit 2 naming ${name}`, T, async () => {
      const port = await freePort();
      const r = await run([], { HOST: '127.0.0.1', PORT: String(port), [name]: value }, 5000);
      assert.equal(r.signal, null, `still running after 5 s (it started with ${name}=${value}?)`);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`\\b${name}\\b`), r.stderr);
      assert.ok(r.ms < 3000, `${r.ms.toFixed(0)} ms`);
      assert.ok(await connectRefused(port), 'never listened');
    });
  }

  test('HOST=::1 (IPv6 literal): serves on [::1]; --healthcheck with HOST=:: checks ::1', T, async () => {
    const port = await freePort();
    const env = { PATH: process.env.PATH, HOST: '::1', PORT: String(port), THREADS: '1',
      REDIS_URL: `redis://127.0.0.1:${s.redisPort}/0`, MONGO_URI: s.mongoUri, JWT_SECRET: TEST_JWT_SECRET,
      ASAN_OPTIONS: process.env.ASAN_OPTIONS || '', UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || '' };
    const child = spawn(backendBin, [], { env, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    try {
      const r = await until('[::1] answers', 10000, async () => {
        const x = await getFresh(`http://[::1]:${port}/health`, { timeoutMs: 2000 });
        return x.status === 200 && x;
      });
      assert.deepEqual(r.body, { status: 'OK', service: 'Backend API' });
      assert.ok(await connectRefused(port), 'not on 127.0.0.1');
      const ok = await run(['--healthcheck'], { HOST: '::', PORT: String(port) });
      assert.equal(ok.code, 0, ok.stderr);
      const p = await getFresh(`http://[::1]:${port}/api/products/${SEED_IDS[0]}`, { timeoutMs: 5000 });
      assert.equal(p.status, 200);
    } finally {
      child.kill('SIGTERM');
    }
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    const ex = await exited;
    clearTimeout(kill);
    assert.equal(ex.code, 0);
  });

  test('an unknown command-line argument → exit 2', T, async () => {
    for (const args of [['--port=3000'], ['serve'], ['--help-me'], ['--healthcheck', '--nope']]) {
      const r = await run(args, { PORT: String(await freePort()) });
      assert.equal(r.code, 2, `${args}: ${r.stderr}`);
      assert.match(r.stderr, /unknown argument/);
    }
  });

  test('--healthcheck: 0 against a running backend, 1 against a closed port or a server that never answers', T, async () => {
    const b = await s.startBackend();
    const up = await run(['--healthcheck'], { HOST: '127.0.0.1', PORT: String(b.port) });
    assert.equal(up.code, 0, up.stderr);
    const wildcard = await run(['--healthcheck'], { HOST: '0.0.0.0', PORT: String(b.port) });
    assert.equal(wildcard.code, 0, 'a wildcard HOST is checked on loopback');
    const closed = await run(['--healthcheck'], { HOST: '127.0.0.1', PORT: String(await freePort()) });
    assert.equal(closed.code, 1);
    assert.ok(closed.ms < 2000);
    // not HTTP at all: Redis drops the connection
    assert.equal((await run(['--healthcheck'], { PORT: String(s.redisPort) })).code, 1);
    // accepts, never answers: bounded (2 s)
    const silent = net.createServer(() => {});
    await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const hung = await run(['--healthcheck'], { PORT: String(silent.address().port) }, 8000);
      assert.equal(hung.signal, null, 'the health check itself hung');
      assert.equal(hung.code, 1);
      assert.ok(hung.ms < 4000, `${hung.ms.toFixed(0)} ms`);
    } finally {
      silent.close();
    }
    assert.equal((await b.proc.stop()).code, 0);
  });
});

describe('reaching Redis', () => {
  // Until fresh keys on new connections (so over both loop threads, whose
  // Redis connections come up independently) are MISSes, then the same key
  // is a HIT; returns the product path.
  async function missThenHit(b) {
    let p;
    let streak = 0;
    await until(`:${b.port} uses Redis`, 5000, async () => {
      p = freshProduct();
      const r = await getFresh(b.url + p, { timeoutMs: 5000 });
      assert.equal(r.status, 200);
      streak = r.headers.get('x-cache') === 'MISS' ? streak + 1 : 0;
      return streak >= 4;
    }, 20);
    for (let i = 0; i < 3; i++) {
      const h = await getFresh(b.url + p, { timeoutMs: 5000 });
      assert.equal(h.status, 200);
      assert.equal(h.headers.get('x-cache'), 'HIT');
    }
    return p;
  }

  test('by host name (resolved off the loop): MISS then HIT', T, async () => {
    const b = await s.startBackend({ REDIS_URL: `redis://localhost:${s.redisPort}/0` });
    const p = await missThenHit(b);
    assert.equal(s.redisCli('EXISTS', `{products}:product:${p.split('/').pop()}`), '1');
    assert.equal((await b.proc.stop()).code, 0);
  });

  describe('with a password', () => {
    let port;
    let redis;
    let dir;
    before(async () => {
      port = await freePort();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-redis-auth-'));
      redis = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--requirepass', 'secret',
        '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
      await waitPort(port, 10000);
    });
    after(async () => {
      if (redis.exitCode === null && redis.signalCode === null) {
        const gone = new Promise((resolve) => redis.once('exit', resolve));
        redis.kill('SIGKILL');
        await gone;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    });
    const cli = (...args) => execFileSync('redis-cli', ['-p', String(port), '-a', 'secret', '--no-auth-warning', '--raw', ...args],
      { encoding: 'utf8', timeout: 10000 }).trim();

    test('right password (redis://:secret@…): MISS then HIT, stored in that server', T, async () => {
      const b = await s.startBackend({ REDIS_URL: `redis://:secret@127.0.0.1:${port}/0` });
      const p = await missThenHit(b);
      assert.equal(cli('EXISTS', `{products}:product:${p.split('/').pop()}`), '1');
      assert.equal((await b.proc.stop()).code, 0);
    });

    test('user and password (redis://default:secret@…, %-escaped): MISS then HIT', T, async () => {
      const b = await s.startBackend({ REDIS_URL: `redis://default:%73ecret@127.0.0.1:${port}/2` });
      const p = await missThenHit(b);
      assert.equal(cli('-n', '2', 'EXISTS', `{products}:product:${p.split('/').pop()}`), '1');
      assert.equal((await b.proc.stop()).code, 0);
    });

    test('wrong or missing password: BYPASS, never a 5xx; ready says warn', T, async () => {
      for (const url of [`redis://:wrong@127.0.0.1:${port}/0`, `redis://127.0.0.1:${port}/0`]) {
        const b = await s.startBackend({ REDIS_URL: url });
        const paths = [freshProduct(), '/api/products?limit=4', '/api/categories'];
        for (let i = 0; i < 3; i++) {
          for (const p of paths) {
            const r = await getFresh(b.url + p, { timeoutMs: 5000 });
            assert.equal(r.status, 200, `${url} ${p}: ${r.text}`);
            assert.equal(r.headers.get('x-cache'), 'BYPASS', `${url} ${p}`);
          }
          await sleep(100);
        }
        const rd = await getFresh(`${b.url}/health/ready`, { timeoutMs: 5000 });
        assert.equal(rd.status, 200);
        assert.equal(rd.body.status, 'warn');
        assert.equal(rd.body.checks['redis:responseTime'][0].status, 'warn');
        const st = await stats(b);
        assert.equal(st.responses_5xx, 0);
        assert.equal(st.cache.redis_connected, false);
        assert.equal((await b.proc.stop()).code, 0);
      }
    });
  });
});

test('CURRENCY=EUR: every price carries EUR, also from the cache (Redis db 1)', T, async () => {
  const b = await s.startBackend({ CURRENCY: 'EUR', REDIS_URL: `redis://127.0.0.1:${s.redisPort}/1`, THREADS: '1' });
  const id = freshProduct().split('/').pop();
  await until('Redis up', 5000, async () => (await stats(b)).cache.redis_connected);
  const first = await getFresh(`${b.url}/api/products/${id}`);
  assert.equal(first.headers.get('x-cache'), 'MISS');
  const again = await getFresh(`${b.url}/api/products/${id}`);
  assert.equal(again.headers.get('x-cache'), 'HIT');
  for (const r of [first, again]) assert.equal(r.body.currency, 'EUR');
  assert.match(again.text, /"currency":"EUR"/);
  // lists: the first read in a fresh db (no generation yet) may bypass; read until a HIT
  const seen = [];
  const hit = await until('list cached in db 1', 5000, async () => {
    const r = await getFresh(`${b.url}/api/products?limit=50&order=price`);
    assert.equal(r.status, 200);
    seen.push(r);
    return r.headers.get('x-cache') === 'HIT' && r;
  });
  assert.ok(seen.length >= 2, 'a MISS before the HIT');
  for (const r of seen) {
    assert.equal(r.body.products.length, 50);
    assert.ok(r.body.products.every((p) => p.currency === 'EUR'), r.headers.get('x-cache'));
  }
  assert.equal(hit.text, seen[seen.length - 2].text, 'the HIT is the bytes the MISS stored');
  // the entries went to db 1, not db 0
  assert.equal(s.redisCli('-n', '1', 'EXISTS', `{products}:product:${id}`), '1');
  assert.equal(s.redisCli('-n', '0', 'EXISTS', `{products}:product:${id}`), '0');
  assert.equal((await b.proc.stop()).code, 0);
});
