// Starts the real stack for black-box tests on free loopback ports: Redis,
// FerretDB (SQLite), mongo-init, N backend processes and nginx. Every test
// file gets its own stack in a fresh temporary state folder; nothing is
// mocked. Faults are made for real (stop/kill/SIGSTOP a server).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const stateBin = path.join(process.env.STATE_DIR || path.join(root, 'state'), 'bin');
export const backendBin = process.env.BACKEND_BIN || path.join(root, 'backend/build/release/catalog-backend');
export const sanitized = process.env.SANITIZED === '1';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Secrets of every test stack: the backend signs tokens with TEST_JWT_SECRET
// and creates TEST_ADMIN at start-up (tests may mint their own tokens).
export const TEST_JWT_SECRET = 'test-only-jwt-secret-0123456789abcdef';
export const TEST_ADMIN = { username: 'admin', password: 'test-only-admin-password' };

// Whether a command can get its own /etc/hosts here (root, unshare, a
// private mount namespace) so compose service names resolve for nginx -t;
// not in a chroot, whose / is no mount point. Else callers point the names
// at 127.0.0.1 (the syntax is still checked).
export const canIsolateHosts = (() => {
  try {
    return process.getuid() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0;
  } catch {
    return false;
  }
})();

// Polls fn until it returns a truthy value and returns it; throws after ms
// with the last value. what: a label, or a function giving one.
export async function until(what, ms, fn, every = 50) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    if (Date.now() > end) {
      const label = typeof what === 'function' ? what() : what;
      throw new Error(`${label}: not within ${ms} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    }
    await sleep(every);
  }
}

// Ports handed out by this process: the kernel may give a closed port to
// the next bind(0) again (3 of 5,000 runs of four calls here), before the
// first taker has bound it — two servers of one stack on one port.
const handedOut = new Set();

export async function freePort() {
  for (let tries = 0; ; tries++) {
    const port = await new Promise((resolve, reject) => {
      const srv = net.createServer();
      srv.unref();
      srv.on('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port: p } = srv.address();
        srv.close(() => resolve(p));
      });
    });
    if (!handedOut.has(port) || tries >= 100) {
      handedOut.add(port);
      return port;
    }
  }
}

export async function waitPort(port, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`port ${port} did not open within ${ms} ms`);
}

async function waitHttp(url, ms = 20000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.status === 200) return;
      last = r.status;
    } catch (e) { last = e.message; }
    await sleep(50);
  }
  throw new Error(`${url} not ready within ${ms} ms (${last})`);
}

class Proc {
  constructor(name, cmd, args, opts, logDir) {
    this.name = name;
    this.cmd = cmd;
    this.args = args;
    this.opts = opts;
    this.logFile = path.join(logDir, `${name}.log`);
    this.start();
  }

  start() {
    const out = fs.openSync(this.logFile, 'a');
    this.child = spawn(this.cmd, this.args, { stdio: ['ignore', out, out], ...this.opts });
    fs.closeSync(out);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid() { return this.child.pid; }

  alive() { return this.child.exitCode === null && this.child.signalCode === null; }

  signal(sig) { if (this.alive()) process.kill(this.child.pid, sig); }

  async stop(sig = 'SIGTERM', ms = 10000) {
    if (!this.alive()) return this.exited;
    this.signal('SIGCONT');
    this.signal(sig);
    const t = setTimeout(() => this.signal('SIGKILL'), ms);
    const r = await this.exited;
    clearTimeout(t);
    return r;
  }

  log() { try { return fs.readFileSync(this.logFile, 'utf8'); } catch { return ''; } }
}

// Options: backends (count), backendEnv (extra env), nginx (bool), init (bool)
export async function startStack(opts = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-test-'));
  const logDir = path.join(dir, 'log');
  fs.mkdirSync(logDir);
  const stack = new Stack(dir, logDir, opts);
  try {
    await stack.boot();
  } catch (e) {
    await stack.stop();
    throw e;
  }
  return stack;
}

class Stack {
  constructor(dir, logDir, opts) {
    this.dir = dir;
    this.logDir = logDir;
    this.opts = opts;
    this.backends = [];
    this.nginxes = [];
  }

  // The same Redis over a unix socket (REDIS_URL unix://…)
  get redisSocket() { return path.join(this.dir, 'redis.sock'); }

  async boot() {
    this.redisPort = await freePort();
    await this.startRedis();
    this.mongoPort = await freePort();
    await this.startMongo();
    this.mongoUri = `mongodb://127.0.0.1:${this.mongoPort}/`;
    if (this.opts.init !== false) this.runInit();
    const n = this.opts.backends ?? 1;
    for (let i = 0; i < n; i++) await this.startBackend(this.opts.backendEnv || {});
    if (this.opts.nginx) await this.startNginx();
  }

  async startRedis() {
    fs.mkdirSync(path.join(this.dir, 'redis'), { recursive: true });
    this.redis = new Proc('redis', 'redis-server', [
      path.join(root, 'scripts/redis-local.conf'), '--port', String(this.redisPort), '--dir', path.join(this.dir, 'redis'),
      // tests stall Redis with DEBUG SLEEP (from loopback only)
      '--enable-debug-command', 'local',
      // and reach it over a unix socket too (redisSocket)
      '--unixsocket', this.redisSocket, '--unixsocketperm', '700',
    ], {}, this.logDir);
    await waitPort(this.redisPort);
  }

  async startMongo() {
    this.mongo = new Proc('ferretdb', path.join(stateBin, 'ferretdb-local'), [
      '-listen', `127.0.0.1:${this.mongoPort}`, '-dir', path.join(this.dir, 'ferretdb'),
    ], {}, this.logDir);
    await waitPort(this.mongoPort);
  }

  runInit(db = 'catalog', env = {}) {
    return execFileSync(path.join(root, 'node_modules/.bin/mongosh'),
      [this.mongoUri, '--quiet', '--file', path.join(root, 'mongo-init/init.js')],
      { env: { ...process.env, MONGO_DB: db, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  mongosh(script, db = 'catalog') {
    return execFileSync(path.join(root, 'node_modules/.bin/mongosh'),
      [`${this.mongoUri}${db}`, '--quiet', '--eval', script], { encoding: 'utf8' }).trim();
  }

  // Starts one more backend process; returns { port, url, proc }.
  async startBackend(extraEnv = {}, port) {
    port = port || await freePort();
    const env = {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      THREADS: '2',
      REDIS_URL: `redis://127.0.0.1:${this.redisPort}/0`,
      MONGO_URI: this.mongoUri,
      MONGO_DB: 'catalog',
      // generous: a sanitizer build on two busy cores must not fake an outage
      REDIS_TIMEOUT_MS: '1000',
      JWT_SECRET: TEST_JWT_SECRET,
      ADMIN_USERNAME: TEST_ADMIN.username,
      ADMIN_PASSWORD: TEST_ADMIN.password,
      ASAN_OPTIONS: process.env.ASAN_OPTIONS || '',
      UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || '',
      ...extraEnv,
    };
    const proc = new Proc(`backend-${port}`, backendBin, [], { env }, this.logDir);
    const b = { port, url: `http://127.0.0.1:${port}`, proc, env };
    this.backends.push(b);
    await waitHttp(`${b.url}/health`);
    return b;
  }

  get backend() { return this.backends[0]; }

  // Starts an nginx rendered from the project's templates in front of the
  // backends; env overrides template variables (API_RATE, NGINX_PROFILE,
  // DIAGNOSTICS_ALLOW...). The first one started is this.nginxUrl.
  async startNginx(env = {}) {
    const port = await freePort();
    const tlsPort = env.NGINX_PROFILE === 'prod' ? await freePort() : undefined;
    const state = fs.mkdtempSync(path.join(this.dir, 'nginx-'));
    execFileSync(path.join(root, 'scripts/render-nginx.sh'), {
      env: {
        ...process.env, NGINX_STATE: state, NGINX_PORT: String(port), NGINX_TLS_PORT: String(tlsPort || ''),
        BACKEND_PORTS: this.backends.map((b) => b.port).join(' '), FRONTEND_ROOT: path.join(root, 'frontend'),
        NGINX_WORKERS: '1', ...env,
      },
    });
    const proc = new Proc(`nginx-${port}`, 'nginx', ['-p', state, '-c', path.join(state, 'nginx.conf'), '-e', path.join(state, 'error.log')], {}, this.logDir);
    const n = { port, tlsPort, url: `http://127.0.0.1:${port}`, state, proc };
    this.nginxes.push(n);
    if (!this.nginxUrl) {
      this.nginx = proc;
      this.nginxUrl = n.url;
      this.nginxPort = port;
    }
    await waitHttp(`${n.url}/nginx-health`);
    return n;
  }

  redisCli(...args) {
    return execFileSync('redis-cli', ['-p', String(this.redisPort), '--raw', ...args], { encoding: 'utf8' }).trim();
  }

  // /api/stats of a backend (bounded)
  async stats(b = this.backend) {
    return (await fetch(`${b.url}/api/stats`)).json();
  }

  async stop() {
    for (const n of this.nginxes) await n.proc.stop('SIGQUIT');
    for (const b of this.backends) {
      const r = await b.proc.stop();
      if (sanitized && r.code !== 0 && r.code !== null) {
        process.stderr.write(`backend exited ${r.code}:\n${b.proc.log()}\n`);
      }
    }
    if (this.mongo) await this.mongo.stop();
    if (this.redis) await this.redis.stop();
    if (!process.env.KEEP_TEST_STATE) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// fetch with the status, headers and parsed JSON body (when JSON)
export async function get(url, init = {}) {
  const res = await fetch(url, init);
  const text = await res.text();
  let body = text;
  const ct = res.headers.get('content-type') || '';
  if (ct.includes('json') && text) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body, text };
}

// Sends raw bytes over TCP and returns the raw response (until close or ms).
export async function rawHttp(port, bytes, ms = 3000) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks = [];
    const t = setTimeout(() => { s.destroy(); resolve(Buffer.concat(chunks).toString('latin1')); }, ms);
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => { clearTimeout(t); resolve(Buffer.concat(chunks).toString('latin1')); });
    s.on('error', (e) => { clearTimeout(t); chunks.length ? resolve(Buffer.concat(chunks).toString('latin1')) : reject(e); });
    s.write(bytes);
  });
}

// Checks an RFC 9457 body: exact status and content type, the required members.
export function assertProblem(assert, r, status, { type, param, detail } = {}) {
  assert.equal(r.status, status, `status ${r.status}: ${r.text}`);
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  assert.equal(r.body.status, status);
  assert.equal(typeof r.body.title, 'string');
  assert.equal(typeof r.body.detail, 'string');
  assert.ok(r.body.type, 'type');
  assert.equal(r.body.instance, r.headers.get('x-request-id'));
  if (type) assert.equal(r.body.type, type);
  if (param !== undefined) assert.equal(r.body.parameter, param);
  if (detail) assert.match(r.body.detail, detail);
}

// GET on a new TCP connection (no keep-alive pool, so requests spread over
// the loop threads), bounded by timeoutMs; like get() plus the elapsed ms.
export async function getFresh(url, { headers = {}, method = 'GET', timeoutMs = 10000 } = {}) {
  const t0 = performance.now();
  const res = await new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (r) => {
      const chunks = [];
      r.on('data', (d) => chunks.push(d));
      r.on('end', () => resolve({ r, text: Buffer.concat(chunks).toString('utf8') }));
      r.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
  const h = new Headers();
  for (const [k, v] of Object.entries(res.r.headers)) h.set(k, Array.isArray(v) ? v.join(', ') : v);
  let body = res.text;
  if ((h.get('content-type') || '').includes('json') && res.text) body = JSON.parse(res.text);
  return { status: res.r.statusCode, headers: h, body, text: res.text, ms: performance.now() - t0 };
}

// Resolves true when a TCP connect to 127.0.0.1:port is refused, false when it connects.
export function connectRefused(port, ms = 2000) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const t = setTimeout(() => { s.destroy(); reject(new Error(`connect to ${port}: no outcome within ${ms} ms`)); }, ms);
    s.once('connect', () => { clearTimeout(t); s.destroy(); resolve(false); });
    s.once('error', (e) => {
      clearTimeout(t);
      if (e.code === 'ECONNREFUSED') resolve(true);
      else reject(e);
    });
  });
}

// ---- admin API helpers ----

const b64url = (buf) => Buffer.from(buf).toString('base64url');

// An HS256 JWT signed with secret (default: the stacks' TEST_JWT_SECRET),
// any header and claims, for forged-token tests. claims default to a valid
// admin token for TEST_ADMIN; pass overrides (undefined deletes a claim).
export function mintToken(overrides = {}, { secret = TEST_JWT_SECRET, header = { alg: 'HS256', typ: 'JWT' }, sign = true } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: TEST_ADMIN.username, role: 'admin', iat: now, exp: now + 600, jti: crypto.randomBytes(8).toString('hex'), ...overrides };
  for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const sig = sign ? b64url(crypto.createHmac('sha256', secret).update(input).digest()) : '';
  return `${input}.${sig}`;
}

// POST /api/auth/login; returns the token (throws on anything but 200).
export async function login(baseUrl, creds = TEST_ADMIN) {
  const r = await get(`${baseUrl}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(creds),
  });
  if (r.status !== 200) throw new Error(`login ${creds.username}: ${r.status} ${r.text}`);
  return r.body.token;
}

// A keep-alive HTTP client over node's http (thousands of requests stay
// cheap and bounded): req(method, url, body, headers) resolves to
// { status, headers, body } (body parsed when it is JSON, else the text);
// no answer within timeoutMs is an error. destroy() closes its sockets.
export function keepAliveClient({ maxSockets = 8, timeoutMs = 15000 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const req = (method, url, body, headers = {}) => new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const h = { ...headers };
    if (data) {
      h['content-type'] = 'application/json';
      h['content-length'] = Buffer.byteLength(data);
    }
    const r = http.request(url, { method, headers: h, agent }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed = null;
        try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
        resolve({ status: res.statusCode, headers: res.headers, body: parsed });
      });
    });
    r.setTimeout(timeoutMs, () => r.destroy(new Error(`${method} ${url}: no answer in ${timeoutMs / 1000} s`)));
    r.on('error', reject);
    r.end(data);
  });
  return { req, destroy: () => agent.destroy() };
}

// Creates a product through baseUrl (201 asserted by the caller's assert);
// returns its body.
export async function createProduct(assert, baseUrl, token, name, extra = {}) {
  const r = await send('POST', `${baseUrl}/api/products`, { name, price: 10, category: 'books', stock: 1, ...extra }, token);
  assert.equal(r.status, 201, r.text);
  return r.body;
}

// A JSON write: method, url, body (object, or a string sent as is), token,
// extra headers. Returns like get().
export async function send(method, url, body, token, headers = {}) {
  const h = { ...headers };
  if (body !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['content-type'] = 'application/json';
  if (token) h.authorization = `Bearer ${token}`;
  return get(url, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
}
