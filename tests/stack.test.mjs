// `make run` (scripts/stack.sh) as a newcomer meets it: the banner's admin
// password works or says plainly that it does not, one stack per state
// folder, Redis and FerretDB restarted when they stop, a configuration error
// shown at once, a clean Ctrl-C. Each run is the real script on free ports
// in a temporary state folder (the built FerretDB is shared through a link).
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { connectRefused, freePort, get, root, until } from './lib/stack.mjs';

const stateBin = path.join(process.env.STATE_DIR || path.join(root, 'state'), 'bin');
const dirs = [];
const running = new Set();
after(async () => {
  for (const r of running) await r.stop();
  if (!process.env.KEEP_TEST_STATE) for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function stateDir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-stack-'));
  fs.symlinkSync(stateBin, path.join(d, 'bin'));
  dirs.push(d);
  return d;
}

async function ports() {
  return { NGINX_PORT: String(await freePort()), BACKEND_PORT: String(await freePort()), REDIS_PORT: String(await freePort()), MONGO_PORT: String(await freePort()) };
}

// Starts scripts/stack.sh in its own process group (as a terminal would run
// it); resolves when the banner is out or the script has exited.
async function stack(env) {
  const child = spawn('bash', [path.join(root, 'scripts/stack.sh')], {
    cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME || os.tmpdir(), ...env },
  });
  const r = { child, out: '', code: undefined, signal: undefined, t0: Date.now() };
  child.stdout.on('data', (d) => { r.out += d; });
  child.stderr.on('data', (d) => { r.out += d; });
  r.exited = new Promise((resolve) => child.once('exit', (code, signal) => { r.code = code; r.signal = signal; running.delete(r); resolve(); }));
  // Ctrl-C: SIGINT to the whole process group, as the terminal sends it
  r.interrupt = async () => { try { process.kill(-child.pid, 'SIGINT'); } catch { /* gone */ } await r.exited; };
  r.stop = async () => {
    if (r.code !== undefined || r.signal) return;
    const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 20000);
    await r.interrupt();
    clearTimeout(t);
  };
  running.add(r);
  await until(() => `banner or exit; output so far:\n${r.out}`, 120000, () => r.code !== undefined || /Ctrl-C stops everything/.test(r.out));
  return r;
}

const adminLine = (out) => /Admin sign-in: +(.*(?:\n {18}.*)*)/.exec(out)?.[1] ?? '';

describe('make run', () => {
  let a;
  let env;
  let dir;

  test('the banner prints an admin password that signs in', async () => {
    dir = stateDir();
    env = { STATE_DIR: dir, ...(await ports()) };
    a = await stack(env);
    assert.equal(a.code, undefined, a.out);
    const m = /Admin sign-in: +admin \/ (\S+) +\(from (.*)\)/.exec(a.out);
    assert.ok(m, a.out);
    assert.equal(m[2], path.join(dir, 'secrets/admin-password'));
    assert.equal(fs.readFileSync(m[2], 'utf8').trim(), m[1]);
    const r = await get(`http://127.0.0.1:${env.NGINX_PORT}/api/auth/login`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: m[1] }),
    });
    assert.equal(r.status, 200, r.text);
    assert.match(a.out, new RegExp(`Logs: +${dir}/log/ +\\(nginx: ${dir}/nginx/`));
  });

  test('Redis shut down, FerretDB killed: each restarted and logged, the API keeps answering', async () => {
    const api = `http://127.0.0.1:${env.NGINX_PORT}/api/products?limit=1`;
    execFileSync('redis-cli', ['-p', env.REDIS_PORT, 'shutdown', 'nosave']);
    assert.equal((await get(api)).status, 200, 'served around Redis');
    await until('redis back', 15000, () => spawnSync('redis-cli', ['-p', env.REDIS_PORT, 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG');
    const ferret = execFileSync('pgrep', ['-f', `ferretdb-local -listen 127.0.0.1:${env.MONGO_PORT} `], { encoding: 'utf8' }).trim();
    assert.match(ferret, /^\d+$/);
    process.kill(Number(ferret), 'SIGKILL');
    await until('a product read from FerretDB again', 20000, async () => (await get(`${api}&offset=7`)).status === 200);
    const log = fs.readFileSync(path.join(dir, 'log/stack.log'), 'utf8');
    assert.match(log, /redis exited \(status \d+\); restarting it in 1s/);
    assert.match(log, /ferretdb exited \(status \d+\); restarting it in 1s/);
    assert.equal(a.code, undefined, `the stack is still up:\n${a.out}`);
    assert.doesNotMatch(a.out, /component exited/);
  });

  test('a second stack on the same state folder is refused, naming the holder; the first is untouched', async () => {
    const b = await stack({ STATE_DIR: dir, ...(await ports()) });
    assert.equal(b.code, 1, b.out);
    assert.match(b.out, new RegExp(`${dir} is in use by another stack: pid ${a.child.pid}, nginx port ${env.NGINX_PORT}`));
    assert.match(b.out, /STATE_DIR=/);
    assert.match(fs.readFileSync(path.join(dir, 'log/stack.log'), 'utf8'), /redis exited/, 'logs not truncated');
    assert.equal((await get(`http://127.0.0.1:${env.NGINX_PORT}/health`)).status, 200);
  });

  test('a port in use: the message names the one variable that clashed', async () => {
    const b = await stack({ STATE_DIR: stateDir(), ...(await ports()), REDIS_PORT: env.REDIS_PORT });
    assert.equal(b.code, 1, b.out);
    assert.match(b.out, new RegExp(`port ${env.REDIS_PORT} is in use; set REDIS_PORT to a free port`));
    assert.doesNotMatch(b.out, /NGINX_PORT|BACKEND_PORT|MONGO_PORT/);
  });

  test('Ctrl-C: "stopped", exit 0, no noise, every port closed', async () => {
    await a.interrupt();
    assert.equal(a.code, 0, a.out);
    assert.match(a.out, /stack: stopping\n(.*\n)*stack: stopped\n$/);
    assert.doesNotMatch(a.out, /no such job|component exited|Error/);
    for (const p of [env.NGINX_PORT, env.BACKEND_PORT, env.REDIS_PORT, env.MONGO_PORT]) assert.ok(await connectRefused(Number(p)), `port ${p}`);
  });

  test('password file deleted or ADMIN_PASSWORD changed: the banner says the stored one differs and how to reset it', async () => {
    const stored = fs.readFileSync(path.join(dir, 'secrets/admin-password'), 'utf8').trim();
    fs.rmSync(path.join(dir, 'secrets/admin-password'));
    let b = await stack(env);
    let line = adminLine(b.out);
    const fresh = fs.readFileSync(path.join(dir, 'secrets/admin-password'), 'utf8').trim();
    assert.notEqual(fresh, stored);
    assert.ok(!b.out.includes(fresh), 'a password that does not work is never printed');
    assert.match(line, /the stored password differs from .*secrets\/admin-password/);
    const reset = /(echo 'NEW-PASSWORD' \| .*--add-user admin admin)/.exec(line)?.[1];
    assert.ok(reset, line);
    assert.match(reset, new RegExp(`MONGO_URI=mongodb://127.0.0.1:${env.MONGO_PORT}/ MONGO_DB=catalog `));
    // the check signs nobody in: no failure was counted toward the lockout
    // (whatever the counters' key names: none exists)
    assert.equal(execFileSync('redis-cli', ['-p', env.REDIS_PORT, '--raw', 'keys', '*fail*'], { encoding: 'utf8' }).trim(), '');
    await b.interrupt();
    assert.equal(b.code, 0, b.out);

    b = await stack({ ...env, ADMIN_PASSWORD: 'changed-in-the-environment' });
    line = adminLine(b.out);
    assert.match(line, /the stored password differs from ADMIN_PASSWORD from the environment/, b.out);
    assert.ok(!b.out.includes('changed-in-the-environment'));
    // the printed reset command, as written (with a real password), makes it work
    const out = execFileSync('bash', ['-c', reset.replace('NEW-PASSWORD', 'changed-in-the-environment')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, JWT_SECRET: 'x'.repeat(32) } });
    assert.equal(out, '');
    await b.interrupt();
    b = await stack({ ...env, ADMIN_PASSWORD: 'changed-in-the-environment' });
    assert.match(adminLine(b.out), /^admin \/ changed-in-the-environment +\(from ADMIN_PASSWORD from the environment\)/);
    await b.interrupt();
    assert.equal(b.code, 0, b.out);
  });
});

test('a bad setting (CACHE_TTL=abc): the backend\'s own error and exit status at once, not a 30 s wait', async () => {
  const b = await stack({ STATE_DIR: stateDir(), ...(await ports()), CACHE_TTL: 'abc' });
  assert.equal(b.code, 1, b.out);
  assert.match(b.out, /backend \(port \d+\) exited with status 2 before listening/);
  assert.match(b.out, /\| catalog-backend: configuration error: CACHE_TTL/);
  assert.ok(Date.now() - b.t0 < 25000, `${Date.now() - b.t0} ms`);
  assert.doesNotMatch(b.out, /did not come up/);
});

test('--check-password: 0 matches, 1 differs, 3 no such user; the password is read from stdin', async () => {
  const dir = stateDir();
  const env = { STATE_DIR: dir, ...(await ports()), ADMIN_PASSWORD: 'the-right-password' };
  const b = await stack(env);
  const check = (name, pw) => spawnSync(path.join(root, 'backend/build/release/catalog-backend'), ['--check-password', name], {
    input: `${pw}\n`, encoding: 'utf8', env: { PATH: process.env.PATH, MONGO_URI: `mongodb://127.0.0.1:${env.MONGO_PORT}/` },
  });
  assert.equal(check('admin', 'the-right-password').status, 0);
  const wrong = check('admin', 'the-wrong-password');
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /admin: differs from the stored one/);
  assert.equal(check('nobody', 'the-right-password').status, 3);
  assert.equal(check('admin', 'short').status, 2);
  await b.interrupt();
});

test('scripts/deps.sh: too old a Node or Go is named with where to get a newer one; no Go needed with MONGO_URI', () => {
  // stand-ins that report the versions Debian 12 ships (the real ones here are newer)
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-oldtools-'));
  dirs.push(bin);
  fs.writeFileSync(path.join(bin, 'go'), '#!/bin/sh\necho go1.19.8\n', { mode: 0o755 });
  const deps = (env, extra = bin) => spawnSync(path.join(root, 'scripts/deps.sh'), ['runtime'], {
    encoding: 'utf8', env: { PATH: `${extra}:${process.env.PATH}`, HOME: process.env.HOME || os.tmpdir(), ...env },
  });
  let r = deps({});
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /deps: go 1\.19\.8 is too old: Go >= 1\.24 .*go\.dev\/dl/);
  r = deps({ MONGO_URI: 'mongodb://127.0.0.1:1/' });
  assert.equal(r.status, 0, r.stderr);
  const nodeBin = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-oldnode-'));
  dirs.push(nodeBin);
  fs.writeFileSync(path.join(nodeBin, 'node'), '#!/bin/sh\necho 18.19.0\n', { mode: 0o755 });
  r = deps({ MONGO_URI: 'mongodb://127.0.0.1:1/' }, nodeBin);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /deps: node 18\.19\.0 is too old: Node\.js >= 20/);
});
