// The operator's steps of README.md "Deployment": check-env.sh, make-cert.sh,
// backup.sh and rolling-upgrade.sh (against a fake `docker-compose` /
// `docker` on PATH that records the calls and plays a compose project:
// there is no Docker engine here), and the prod nginx's ACME webroot and
// real-IP settings on a real nginx in front of a real stack.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { root, startStack, until } from './lib/stack.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-ops-'));
after(() => { if (!process.env.KEEP_TEST_STATE) fs.rmSync(tmp, { recursive: true, force: true }); });

// runs a script with a clean environment (nothing of the caller's .env leaks in)
function script(name, args = [], { env = {}, cwd = tmp } = {}) {
  return spawnSync(path.join(root, 'scripts', name), args, {
    cwd, encoding: 'utf8', timeout: 120000, env: { PATH: process.env.PATH, HOME: tmp, ...env },
  });
}
const out = (r) => `status ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

describe('check-env.sh', () => {
  const file = path.join(tmp, 'env-check');
  const good = {
    JWT_SECRET: 'a'.repeat(8) + '0123456789abcdef0123456789abcdef', ADMIN_PASSWORD: 'correct-horse-battery',
    MONGO_INITDB_ROOT_PASSWORD: '0123456789abcdef01', MONGO_APP_PASSWORD: 'fedcba9876543210fe', REDIS_PASSWORD: '00112233445566778899',
    GRAFANA_ADMIN_PASSWORD: 'a-grafana-password', SERVER_NAME: 'shop.example.com',
  };
  const write = (vars) => fs.writeFileSync(file, Object.entries(vars).map(([k, v]) => `${k}=${v}\n`).join(''));

  test('.env.example as copied: every missing value named at once', () => {
    fs.copyFileSync(path.join(root, '.env.example'), file);
    const r = script('check-env.sh', [file]);
    assert.equal(r.status, 1, out(r));
    for (const k of ['JWT_SECRET', 'ADMIN_PASSWORD', 'MONGO_INITDB_ROOT_PASSWORD', 'MONGO_APP_PASSWORD', 'REDIS_PASSWORD', 'GRAFANA_ADMIN_PASSWORD', 'SERVER_NAME']) {
      assert.match(r.stderr, new RegExp(`- ${k} is missing`), k);
    }
    assert.match(r.stderr, /7 problem\(s\)/);
  });

  test('complete: exit 0; weak values each named; the shell environment wins, as with compose', () => {
    write(good);
    let r = script('check-env.sh', [file]);
    assert.equal(r.status, 0, out(r));
    write({ ...good, JWT_SECRET: 'short', ADMIN_PASSWORD: 'changeme', REDIS_PASSWORD: 'abc@def:ghi/jkl#mno', SERVER_NAME: 'localhost', NGINX_REAL_IP_FROM: '10.0.0.0/8,evil' });
    r = script('check-env.sh', [file]);
    assert.equal(r.status, 1, out(r));
    assert.match(r.stderr, /JWT_SECRET is too short \(5 characters; at least 32/);
    assert.match(r.stderr, /ADMIN_PASSWORD is too short/);
    assert.match(r.stderr, /REDIS_PASSWORD has characters that break the connection URL/);
    assert.match(r.stderr, /SERVER_NAME 'localhost' is not a public host name/);
    assert.match(r.stderr, /NGINX_REAL_IP_FROM: 'evil'/);
    assert.match(r.stderr, /5 problem\(s\)/);
    write({ ...good, MONGO_APP_PASSWORD: '' });
    assert.equal(script('check-env.sh', [file]).status, 1);
    assert.equal(script('check-env.sh', [file], { env: { MONGO_APP_PASSWORD: 'fedcba9876543210fe' } }).status, 0);
  });
});

describe('make-cert.sh', () => {
  test('an empty name is refused, whether given or from SERVER_NAME', () => {
    let r = script('make-cert.sh', [path.join(tmp, 'c1'), '']);
    assert.equal(r.status, 2, out(r));
    assert.match(r.stderr, /no usable host name: '' from the NAME argument/);
    r = script('make-cert.sh', [path.join(tmp, 'c1')], { env: { SERVER_NAME: '' } });
    assert.equal(r.status, 2, out(r));
    assert.match(r.stderr, /from SERVER_NAME/);
    assert.ok(!fs.existsSync(path.join(tmp, 'c1/fullchain.pem')));
  });

  test('SERVER_NAME is used when no name is given', () => {
    const r = script('make-cert.sh', [path.join(tmp, 'c2')], { env: { SERVER_NAME: 'shop.example.com' } });
    assert.equal(r.status, 0, out(r));
    const subject = execFileSync('openssl', ['x509', '-noout', '-subject', '-in', path.join(tmp, 'c2/fullchain.pem')], { encoding: 'utf8' });
    assert.match(subject, /CN ?= ?shop\.example\.com/);
  });
});

// ---- the fake docker ----
const fakeBin = path.join(tmp, 'fakebin');
fs.mkdirSync(fakeBin);
for (const n of ['docker', 'docker-compose']) {
  fs.writeFileSync(path.join(fakeBin, n), `#!/bin/sh\nexec node ${JSON.stringify(path.join(root, 'tests/lib/fake-docker.mjs'))} ${n} "$@"\n`, { mode: 0o755 });
}
const stateFile = path.join(tmp, 'fake-docker.json');
function project({ backends = 2, readyAfter = 2, backup = 'ok', stopped = 0 } = {}) {
  const containers = [{ id: 'ngx1'.padEnd(64, '0'), service: 'nginx', ip: '172.18.0.2', running: true, probes: 0, readyAfter: 0 }];
  for (let i = 1; i <= backends; i++) {
    containers.push({ id: `old${i}`.padEnd(64, '0'), service: 'backend', image: 'old', ip: `172.18.0.${10 + i}`, running: true, probes: 1, readyAfter: 0 });
  }
  for (let i = 1; i <= stopped; i++) {
    containers.push({ id: `dead${i}`.padEnd(64, '0'), service: 'backend', image: 'old', ip: '', running: false, probes: 0, readyAfter: 0 });
  }
  fs.writeFileSync(stateFile, JSON.stringify({ calls: [], containers, created: 0, readyAfter, reloads: [], stops: [], backup }));
}
const played = () => JSON.parse(fs.readFileSync(stateFile, 'utf8'));
const withFake = (env = {}) => ({ PATH: `${fakeBin}:${process.env.PATH}`, FAKE_DOCKER_STATE: stateFile, ...env });

describe('rolling-upgrade.sh (fake docker, compose v1)', () => {
  test('one backend at a time: a replacement ready (/health/ready via nginx) and nginx reloaded before each old one stops', () => {
    project({ backends: 2, readyAfter: 2, stopped: 1 }); // plus an exited one, which compose v1's ps lists
    const r = script('rolling-upgrade.sh', [], { env: withFake() });
    assert.equal(r.status, 0, out(r));
    const st = played();
    // docker compose v2 was tried first, then compose v1
    assert.equal(st.calls[0], 'docker compose version');
    const calls = st.calls.slice(1).map((c) => c.replace(/ -f \S+docker-compose\.prod\.yml/, '')
      .replace(/\b(new|old|ngx)(\d)0+\b/g, '$1$2'));
    const compact = calls.filter((c) => !/^docker exec ngx1 wget/.test(c) && !/^docker inspect/.test(c) && !/ps -q/.test(c));
    assert.deepEqual(compact, [
      'docker-compose rm -f backend',
      'docker-compose build backend nginx',
      'docker-compose up -d --no-deps --no-recreate --scale backend=3 backend',
      'docker-compose exec -T nginx nginx -s reload',
      'docker stop -t 10 old1',
      'docker rm old1',
      'docker-compose exec -T nginx nginx -s reload',
      'docker-compose up -d --no-deps --no-recreate --scale backend=3 backend',
      'docker-compose exec -T nginx nginx -s reload',
      'docker stop -t 10 old2',
      'docker rm old2',
      'docker-compose exec -T nginx nginx -s reload',
      'docker-compose up -d --no-deps nginx',
    ]);
    // each replacement was polled until ready, on its own address, for /health/ready
    assert.equal(calls.filter((c) => c === 'docker exec ngx1 wget -q -T 2 -O /dev/null http://172.18.0.101:3000/health/ready').length, 3);
    assert.equal(calls.filter((c) => c === 'docker exec ngx1 wget -q -T 2 -O /dev/null http://172.18.0.102:3000/health/ready').length, 3);
    // whenever an old backend stopped, two others were ready; nginx saw the new set
    assert.deepEqual(st.stops, [{ id: 'old1', readyOthers: 2 }, { id: 'old2', readyOthers: 2 }]);
    assert.deepEqual(st.reloads, ['old1,old2,new1', 'old2,new1', 'old2,new1,new2', 'new1,new2']);
    assert.deepEqual(st.containers.filter((c) => c.service === 'backend' && c.running).map((c) => c.image), ['new', 'new']);
  });

  test('a replacement that never gets ready: removed, the upgrade stops, no old backend touched', () => {
    project({ backends: 2, readyAfter: 1e9 });
    const r = script('rolling-upgrade.sh', [], { env: withFake({ READY_TIMEOUT: '2' }) });
    assert.equal(r.status, 1, out(r));
    assert.match(r.stderr, /not ready after 2s; its log:\nlog of new1: listening/);
    assert.match(r.stderr, /the old backends are untouched and still serving/);
    const st = played();
    assert.deepEqual(st.stops.map((s) => s.id), ['new1']);
    assert.deepEqual(st.containers.filter((c) => c.service === 'backend' && c.running).map((c) => c.id.slice(0, 4)), ['old1', 'old2']);
    assert.ok(!st.calls.some((c) => /nginx -s reload/.test(c)), 'nginx never pointed at it');
  });

  test('nothing running: says to start the stack first, builds nothing', () => {
    project({ backends: 0 });
    const r = script('rolling-upgrade.sh', [], { env: withFake() });
    assert.equal(r.status, 1, out(r));
    assert.match(r.stderr, /no backend is running/);
    assert.ok(!played().calls.some((c) => / build /.test(c)));
  });
});

describe('backup.sh (fake docker)', () => {
  test('mongodump runs inside the container with its own credentials; the archive is written', () => {
    project({ backup: 'ok' });
    const r = script('backup.sh', ['nightly.gz'], { env: withFake() });
    assert.equal(r.status, 0, out(r));
    assert.equal(zlib.gunzipSync(fs.readFileSync(path.join(tmp, 'nightly.gz'))).toString(), 'fake dump');
    const call = played().calls.find((c) => /mongodump/.test(c));
    // the password is expanded by the container's shell, not this one
    assert.match(call, /exec -T mongo sh -c exec mongodump --archive --gzip -u "\$MONGO_INITDB_ROOT_USERNAME" -p "\$MONGO_INITDB_ROOT_PASSWORD" --authenticationDatabase admin$/);
  });

  test('mongodump fails: a loud error, exit 1, no file left behind', () => {
    project({ backup: 'fail' });
    const r = script('backup.sh', ['broken.gz'], { env: withFake() });
    assert.equal(r.status, 1, out(r));
    assert.match(r.stderr, /unable to authenticate/);
    assert.match(r.stderr, /backup: mongodump failed \(status 1\); no backup written/);
    assert.ok(!fs.existsSync(path.join(tmp, 'broken.gz')));
    assert.ok(!fs.existsSync(path.join(tmp, 'broken.gz.partial')));
  });
});

// ---- the prod nginx on a real stack ----
describe('prod nginx: ACME webroot on port 80, real client addresses behind a trusted proxy', () => {
  let s;
  let n;
  let acme;
  before(async () => {
    s = await startStack({ backends: 1 });
    const certs = path.join(s.dir, 'certs');
    execFileSync(path.join(root, 'scripts/make-cert.sh'), [certs, 'localhost']);
    acme = path.join(s.dir, 'acme');
    fs.mkdirSync(path.join(acme, '.well-known/acme-challenge'), { recursive: true });
    fs.writeFileSync(path.join(acme, '.well-known/acme-challenge/tok3n-abc'), 'tok3n-abc.key-authorisation');
    n = await s.startNginx({
      NGINX_PROFILE: 'prod', SERVER_NAME: 'localhost', TLS_CERT: `${certs}/fullchain.pem`, TLS_KEY: `${certs}/privkey.pem`,
      ACME_ROOT: acme, NGINX_REAL_IP_FROM: '127.0.0.1/32',
    });
  });
  after(async () => s && s.stop());

  test('/.well-known/acme-challenge/ is served from ACME_ROOT over plain HTTP; everything else still redirects', async () => {
    let r = await fetch(`${n.url}/.well-known/acme-challenge/tok3n-abc`, { redirect: 'manual' });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'tok3n-abc.key-authorisation');
    assert.match(r.headers.get('content-type'), /^text\/plain/);
    r = await fetch(`${n.url}/.well-known/acme-challenge/missing`, { redirect: 'manual' });
    assert.equal(r.status, 404);
    r = await fetch(`${n.url}/.well-known/other`, { redirect: 'manual' });
    assert.equal(r.status, 301);
    r = await fetch(`${n.url}/api/products`, { redirect: 'manual' });
    assert.equal(r.status, 301);
  });

  // GET /health on port 80 from a chosen local address, with X-Forwarded-For
  function from(localAddress, xff, id) {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ port: n.port, host: '127.0.0.1', localAddress });
      let data = '';
      sock.on('data', (d) => { data += d; });
      sock.on('end', () => resolve(data));
      sock.on('error', reject);
      sock.write(`GET /health HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: ${id}\r\nX-Forwarded-For: ${xff}\r\nConnection: close\r\n\r\n`);
    });
  }
  const logged = (id) => fs.readFileSync(path.join(n.state, 'access.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((o) => o.request_id === id);

  test('NGINX_REAL_IP_FROM: a trusted proxy\'s X-Forwarded-For names the client; an untrusted peer\'s is ignored', async () => {
    assert.match(await from('127.0.0.1', '198.51.100.7, 203.0.113.9', 'via-trusted'), /^HTTP\/1.1 200/);
    assert.match(await from('127.0.0.2', '198.51.100.7, 203.0.113.9', 'via-untrusted'), /^HTTP\/1.1 200/);
    const trusted = await until('log line', 5000, () => logged('via-trusted'));
    const untrusted = await until('log line', 5000, () => logged('via-untrusted'));
    assert.equal(trusted.remote_addr, '203.0.113.9', 'right-most address not in the trusted list');
    assert.equal(untrusted.remote_addr, '127.0.0.2');
    assert.match(fs.readFileSync(path.join(n.state, 'conf.d/00-catalog-real-ip.conf'), 'utf8'), /^set_real_ip_from 127\.0\.0\.1\/32;$/m);
  });

  test('NGINX_REAL_IP_FROM empty (the default): only a comment; a bad value stops the rendering', () => {
    const st = path.join(s.dir, 'render-check');
    const env = { ...process.env, NGINX_STATE: st, FRONTEND_ROOT: path.join(root, 'frontend'), BACKEND_PORTS: '1' };
    delete env.NGINX_REAL_IP_FROM;
    execFileSync(path.join(root, 'scripts/render-nginx.sh'), { env });
    assert.doesNotMatch(fs.readFileSync(path.join(st, 'conf.d/00-catalog-real-ip.conf'), 'utf8'), /set_real_ip_from|real_ip_header/);
    const r = spawnSync(path.join(root, 'scripts/render-nginx.sh'), { env: { ...env, NGINX_REAL_IP_FROM: '10.0.0.0/8 x;y' }, encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /'x;y' is not an address or CIDR/);
  });
});

test('the shell scripts are shellcheck-clean (scripts/, nginx/real-ip.sh)', (t) => {
  if (spawnSync('shellcheck', ['--version']).status !== 0) return t.skip('shellcheck is not installed (scripts/deps.sh test installs it)');
  const files = fs.readdirSync(path.join(root, 'scripts')).filter((f) => f.endsWith('.sh')).map((f) => `scripts/${f}`);
  const r = spawnSync('shellcheck', ['-x', ...files, 'nginx/real-ip.sh'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('make bench installs the bench tools only, not the browser test dependencies', () => {
  const r = spawnSync('make', ['-n', 'bench'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /scripts\/deps\.sh bench/);
  assert.doesNotMatch(r.stdout, /scripts\/deps\.sh test/);
});
