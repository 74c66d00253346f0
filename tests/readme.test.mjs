// README.md's own shell examples for the local stack run as written: every
// ```sh block preceded by <!-- readme-test: local --> runs (bash, set -euo
// pipefail) against a stack started by scripts/stack.sh — the `make run`
// script — from a folder laid out like the checkout (state/, backend/).
// The one change made to a block: the default ports (8080, 27018) become
// the free ones this stack got.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, get, root, until } from './lib/stack.mjs';

const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const MARK = '<!-- readme-test: local -->';

// [{ code, marked }] for every ```sh block
function shellBlocks() {
  const blocks = [];
  const re = /(<!-- readme-test: local -->\n)?```sh\n([\s\S]*?)```/g;
  for (const m of readme.matchAll(re)) blocks.push({ code: m[2], marked: Boolean(m[1]) });
  return blocks;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-readme-'));
const stateBin = path.join(process.env.STATE_DIR || path.join(root, 'state'), 'bin');
let ports;
let child;
let out = '';
before(async () => {
  fs.mkdirSync(path.join(dir, 'state'));
  fs.symlinkSync(stateBin, path.join(dir, 'state/bin'));
  fs.symlinkSync(path.join(root, 'backend'), path.join(dir, 'backend'));
  ports = { nginx: await freePort(), backend: await freePort(), redis: await freePort(), mongo: await freePort() };
  child = spawn('bash', [path.join(root, 'scripts/stack.sh')], {
    detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH, HOME: process.env.HOME || dir, STATE_DIR: path.join(dir, 'state'),
      NGINX_PORT: String(ports.nginx), BACKEND_PORT: String(ports.backend), REDIS_PORT: String(ports.redis), MONGO_PORT: String(ports.mongo),
    },
  });
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  await until(() => `the stack's banner; output:\n${out}`, 120000, () => {
    if (child.exitCode !== null) throw new Error(`stack.sh exited ${child.exitCode}:\n${out}`);
    return /Ctrl-C stops everything/.test(out);
  });
});
after(async () => {
  if (child && child.exitCode === null) {
    const done = new Promise((r) => child.once('exit', r));
    process.kill(-child.pid, 'SIGINT');
    await done;
  }
  if (!process.env.KEEP_TEST_STATE) fs.rmSync(dir, { recursive: true, force: true });
});

function run(code) {
  const local = code.replaceAll('127.0.0.1:8080', `127.0.0.1:${ports.nginx}`).replaceAll('127.0.0.1:27018', `127.0.0.1:${ports.mongo}`);
  return spawnSync('bash', ['-c', `set -euo pipefail\n${local}`], { cwd: dir, encoding: 'utf8', timeout: 60000, env: { PATH: process.env.PATH, HOME: dir } });
}

test('every shell example that talks to the local stack is marked to run here; no tool the project does not install', () => {
  const blocks = shellBlocks();
  assert.ok(blocks.filter((b) => b.marked).length >= 3, 'marked blocks');
  for (const b of blocks) {
    if (/(127\.0\.0\.1|localhost):(8080|27018|3000)/.test(b.code)) assert.ok(b.marked, `not marked:\n${b.code}`);
  }
  const marks = readme.split('\n').filter((l) => l.trim() === MARK).length;
  assert.equal(marks, blocks.filter((b) => b.marked).length, 'every mark (a line of its own) is right before a ```sh block');
  assert.doesNotMatch(readme, /\|\s*jq\b/, 'jq is not installed by scripts/deps.sh');
  // the README's examples use only the default ports this test replaces
  for (const b of blocks.filter((x) => x.marked)) {
    for (const m of b.code.matchAll(/127\.0\.0\.1:(\d+)/g)) assert.ok(['8080', '27018'].includes(m[1]), m[0]);
  }
});

test('the marked examples run as written, in README order', async () => {
  const blocks = shellBlocks().filter((b) => b.marked);
  const results = [];
  for (const b of blocks) {
    const r = run(b.code);
    assert.equal(r.status, 0, `block failed:\n${b.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    results.push(r);
  }
  // what they did is visible: the admin's new password works, the product exists
  const created = results.find((r) => /"name":"Desk lamp"/.test(r.stdout));
  assert.ok(created, 'the admin example created the product');
  assert.match(created.stdout, /"category":"home-kitchen"/);
  const found = await get(`http://127.0.0.1:${ports.nginx}/api/products?q=desk%20lamp`);
  assert.equal(found.body.count, 1);
  const login = await get(`http://127.0.0.1:${ports.nginx}/api/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'vera', password: 'a-viewer-password' }),
  });
  assert.equal(login.status, 200, 'the --add-user example made the user');
  assert.equal(login.body.role, 'viewer');
});
