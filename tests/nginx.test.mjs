// nginx in front of the backend, rendered from the same templates as the
// compose files: routes, headers, request ids, JSON access log, rate limits,
// problem+json for nginx's own errors, prod TLS, and `nginx -t` on the
// local, dev (compose) and prod renderings.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { assertProblem, canIsolateHosts, get, rawHttp, root, startStack, until } from './lib/stack.mjs';

let s;
let N;
before(async () => {
  s = await startStack({ backends: 1 });
  N = (await s.startNginx()).url;
});
after(async () => s && s.stop());

// renders into a fresh folder and runs nginx -t there; extra: env overrides
function nginxT(env, { hosts } = {}) {
  const state = fs.mkdtempSync(path.join(s.dir, 'ngt-'));
  if (hosts && !canIsolateHosts) { // see canIsolateHosts
    for (const h of hosts) env.BACKEND_SERVERS = env.BACKEND_SERVERS.replaceAll(`${h}:`, '127.0.0.1:');
    hosts = undefined;
  }
  execFileSync(path.join(root, 'scripts/render-nginx.sh'), {
    env: { ...process.env, NGINX_STATE: state, FRONTEND_ROOT: path.join(root, 'frontend'), ...env },
  });
  const cmd = `nginx -t -p ${state} -c ${state}/nginx.conf -e ${state}/error.log`;
  if (!hosts) return spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  // compose service names do not resolve here: a private mount namespace
  // with an /etc/hosts that maps them to 127.0.0.1
  const hostsFile = path.join(state, 'hosts');
  fs.writeFileSync(hostsFile, `127.0.0.1 localhost ${hosts.join(' ')}\n`);
  return spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind ${hostsFile} /etc/hosts && ${cmd}`], { encoding: 'utf8' });
}

describe('nginx -t', () => {
  test('local stack rendering', () => {
    const r = nginxT({ BACKEND_PORTS: '3000 3001' });
    assert.equal(r.status, 0, r.stderr);
  });

  test('dev compose rendering (service names)', () => {
    const r = nginxT({
      BACKEND_SERVERS: 'server backend:3000 max_fails=1 fail_timeout=2s;', NGINX_LISTEN_HOST: '0.0.0.0', NGINX_PORT: '80',
    }, { hosts: ['backend'] });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /test is successful/);
  });

  test('prod rendering with a self-signed certificate', () => {
    const certs = path.join(s.dir, 'certs');
    execFileSync(path.join(root, 'scripts/make-cert.sh'), [certs]);
    const r = nginxT({
      NGINX_PROFILE: 'prod', BACKEND_SERVERS: 'server backend:3000 max_fails=1 fail_timeout=2s;', NGINX_PORT: '80',
      NGINX_TLS_PORT: '443', SERVER_NAME: 'shop.example.com', TLS_CERT: `${certs}/fullchain.pem`, TLS_KEY: `${certs}/privkey.pem`,
      HSTS_HEADER: 'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;',
      DIAGNOSTICS_ALLOW: 'allow 10.0.0.0/8; allow 172.16.0.0/12; allow 192.168.0.0/16; allow 127.0.0.1; deny all;',
    }, { hosts: ['backend'] });
    assert.equal(r.status, 0, r.stderr);
  });

  test('an unresolvable upstream fails the check (the test can fail)', () => {
    const r = nginxT({ BACKEND_SERVERS: 'server no-such-service.invalid:3000;' });
    assert.notEqual(r.status, 0);
  });
});

describe('routes and headers', () => {
  test('security headers on the page and the API; no server version', async () => {
    for (const p of ['/', '/api/products?limit=1', '/images/placeholder.svg']) {
      const r = await fetch(N + p);
      assert.equal(r.status, 200, p);
      const csp = r.headers.get('content-security-policy');
      assert.match(csp, /default-src 'self'/);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|\*/);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.ok(r.headers.get('referrer-policy'));
      assert.equal(r.headers.get('server'), 'nginx');
      assert.equal(r.headers.get('strict-transport-security'), null, 'no HSTS over plain HTTP');
    }
  });

  test('index.html, scripts and styles are revalidated (304 when unchanged), images are cached long', async () => {
    for (const p of ['/', '/index.html', '/app.js', '/js/api.js', '/styles.css']) {
      assert.equal((await fetch(N + p)).headers.get('cache-control'), 'no-cache', p);
    }
    const js = await fetch(`${N}/app.js`);
    const again = await fetch(`${N}/app.js`, { headers: { 'if-none-match': js.headers.get('etag') } });
    assert.equal(again.status, 304);
    assert.match((await fetch(`${N}/images/placeholder.svg`)).headers.get('cache-control'), /max-age=604800/);
  });

  test('the page loads no outside resource (works offline, passes the CSP)', () => {
    const html = fs.readFileSync(path.join(root, 'frontend/index.html'), 'utf8');
    assert.doesNotMatch(html, /<style|style=|<script>(?!<)|https?:\/\//);
  });

  test('gzip for JSON', async () => {
    const r = await fetch(`${N}/api/products?limit=20`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(r.headers.get('content-encoding'), 'gzip');
  });

  test("X-Request-Id: generated by nginx when absent, the client's when well-formed; the backend sees the same", async () => {
    const gen = await get(`${N}/api/products?limit=0`);
    const id = gen.headers.get('x-request-id');
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal(gen.body.instance, id);
    const mine = await get(`${N}/api/products?limit=0`, { headers: { 'X-Request-Id': 'trace-42' } });
    assert.equal(mine.headers.get('x-request-id'), 'trace-42');
    assert.equal(mine.body.instance, 'trace-42');
    const bad = await get(`${N}/api/products?limit=0`, { headers: { 'X-Request-Id': 'no spaces allowed' } });
    assert.notEqual(bad.headers.get('x-request-id'), 'no spaces allowed');
    assert.equal(bad.body.instance, bad.headers.get('x-request-id'));
  });

  test('JSON access log: one object per line with the fields operators need', async () => {
    await fetch(`${N}/api/products?limit=3`, { headers: { 'X-Request-Id': 'log-check-1' } });
    const nginx = s.nginxes[0];
    const line = await until('the access log line', 3000, () => fs.readFileSync(path.join(nginx.state, 'access.log'), 'utf8')
      .split('\n').find((l) => l.includes('log-check-1')));
    const o = JSON.parse(line);
    for (const k of ['time', 'request_id', 'method', 'path', 'status', 'bytes', 'request_time', 'upstream_addr',
      'upstream_response_time', 'cache']) assert.ok(k in o, k);
    assert.equal(o.request_id, 'log-check-1');
    assert.equal(o.method, 'GET');
    assert.equal(o.path, '/api/products?limit=3');
    assert.equal(o.status, 200);
    assert.match(o.cache, /^(HIT|MISS|BYPASS)$/);
    assert.match(o.upstream_addr, /^127\.0\.0\.1:\d+$/);
  });

  test('a body over 64 KiB to /api/ → 413 problem+json from nginx', async () => {
    const r = await get(`${N}/api/products`, { method: 'POST', body: 'x'.repeat(70000), headers: { 'content-type': 'application/json' } });
    assertProblem(assert, r, 413, { type: '/problems/payload-too-large' });
  });
});

describe("nginx's own errors and limits", () => {
  test('rate limit: a low limit answers 429 problem+json with Retry-After', async () => {
    const n = await s.startNginx({ API_RATE: '2r/s', API_BURST: '2' });
    const rs = await Promise.all(Array.from({ length: 12 }, () => get(`${n.url}/api/products?limit=1`)));
    const limited = rs.filter((r) => r.status === 429);
    assert.ok(limited.length >= 5, `${limited.length} limited`);
    assert.ok(rs.some((r) => r.status === 200));
    const r = limited[0];
    assertProblem(assert, r, 429, { type: '/problems/too-many-requests' });
    assert.equal(r.headers.get('retry-after'), '1');
    // the stricter zone on /api/auth/
    const a = await s.startNginx({ AUTH_RATE: '1r/m', AUTH_BURST: '1' });
    const ar = await Promise.all(Array.from({ length: 4 }, () => get(`${a.url}/api/auth/login`, { method: 'POST', body: '{}' })));
    assert.ok(ar.some((x) => x.status === 429));
  });

  test("nginx's own 400, 404, 405 and 414 are problem+json; /api redirects with a relative Location", async () => {
    assertProblem(assert, await get(`${N}/no-such-page.html`), 404, { type: '/problems/not-found' });
    const m = await get(`${N}/app.js`, { method: 'POST', body: '{}' });
    assertProblem(assert, m, 405, { type: '/problems/method-not-allowed' });
    assert.equal(m.headers.get('allow'), 'GET, HEAD');
    assertProblem(assert, await get(`${N}/api/products?q=${'a'.repeat(9000)}`), 414, { type: '/problems/uri-too-long' });
    // a request nginx itself refuses (two Host headers): problem+json, not HTML
    const raw = await rawHttp(s.nginxes[0].port, 'GET /api/products HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 400 /);
    assert.match(raw, /\r\nContent-Type: application\/problem\+json\r\n/i);
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
    assert.equal(body.type, '/problems/bad-request');
    assert.equal(body.status, 400);
    // /api → /api/ without the client's Host header in the Location
    const r = await fetch(`${N}/api`, { redirect: 'manual', headers: { host: 'evil.example' } });
    assert.equal(r.status, 301);
    assert.equal(r.headers.get('location'), '/api/');
  });

  test('diagnostics can be closed (prod): 403 problem+json', async () => {
    const n = await s.startNginx({ DIAGNOSTICS_ALLOW: 'deny all;' });
    for (const p of ['/health/ready', '/api/stats']) assertProblem(assert, await get(n.url + p), 403);
    assert.equal((await get(`${n.url}/health`)).status, 200, '/health stays public');
    assert.equal((await get(`${N}/health/ready`)).status, 200, 'open on the local stack');
  });

  test('every backend down → 502 problem+json with Retry-After', async () => {
    const dead = await s.startBackend();
    const n = await s.startNginx({ BACKEND_PORTS: String(dead.port) });
    await dead.proc.stop();
    const r = await get(`${n.url}/api/products`);
    assertProblem(assert, r, 502, { type: '/problems/bad-gateway' });
    assert.equal(r.headers.get('retry-after'), '1');
  });
});

describe('prod profile: TLS', () => {
  let n;
  before(async () => {
    const certs = path.join(s.dir, 'certs-prod');
    execFileSync(path.join(root, 'scripts/make-cert.sh'), [certs]);
    n = await s.startNginx({
      NGINX_PROFILE: 'prod', SERVER_NAME: 'localhost', TLS_CERT: `${certs}/fullchain.pem`, TLS_KEY: `${certs}/privkey.pem`,
      HSTS_HEADER: 'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;',
      DIAGNOSTICS_ALLOW: 'deny all;',
    });
  });

  const httpsGet = (p, opts = {}) => new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port: n.tlsPort, path: p, rejectUnauthorized: false, servername: 'localhost', ...opts }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
  });

  test('HTTP redirects to HTTPS, except /health and /nginx-health', async () => {
    const r = await fetch(`${n.url}/api/products`, { redirect: 'manual' });
    assert.equal(r.status, 301);
    assert.match(r.headers.get('location'), /^https:\/\/[^/]+\/api\/products$/);
    assert.equal((await fetch(`${n.url}/health`)).status, 200);
    assert.equal((await fetch(`${n.url}/nginx-health`)).status, 200);
  });

  test('HTTPS serves the API with HSTS; diagnostics closed', async () => {
    const r = await httpsGet('/api/products?limit=1');
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).products.length, 1);
    assert.match(r.headers['strict-transport-security'], /max-age=63072000/);
    const d = await httpsGet('/health/ready');
    assert.equal(d.status, 403);
  });

  test('TLS 1.2 and 1.3 only, HTTP/2 offered', async () => {
    const connect = (opts) => new Promise((resolve) => {
      const c = tls.connect({ host: '127.0.0.1', port: n.tlsPort, rejectUnauthorized: false, servername: 'localhost', ...opts }, () => {
        const out = { ok: true, protocol: c.getProtocol(), alpn: c.alpnProtocol };
        c.end();
        resolve(out);
      });
      c.on('error', (e) => resolve({ ok: false, error: e.message }));
    });
    assert.equal((await connect({ minVersion: 'TLSv1.3' })).protocol, 'TLSv1.3');
    assert.equal((await connect({ maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2');
    const old = await connect({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    assert.equal(old.ok, false, 'TLS 1.1 refused');
    assert.equal((await connect({ ALPNProtocols: ['h2', 'http/1.1'] })).alpn, 'h2');
  });
});
