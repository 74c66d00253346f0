// The static documentation: a page per problem type (so a problem's "type"
// leads somewhere) and the API reference rendered from backend/openapi.yaml,
// served by nginx under the site's strict CSP, nothing from another origin.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import YAML from 'yaml';
import { get, root, startStack } from './lib/stack.mjs';
import { PROBLEMS } from '../scripts/render-docs.mjs';

let s;
let N;
before(async () => {
  s = await startStack({ backends: 1, nginx: true });
  N = s.nginxUrl;
});
after(async () => s && s.stop());

const spec = YAML.parse(fs.readFileSync(path.join(root, 'backend/openapi.yaml'), 'utf8'));

// every /problems/<type> the backend, nginx and the spec can produce
function typesInSources() {
  const files = execFileSync('git', ['ls-files', 'backend/src', 'nginx', 'backend/openapi.yaml'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
  const types = new Set();
  for (const f of files) for (const m of fs.readFileSync(path.join(root, f), 'utf8').matchAll(/\/problems\/([a-z][a-z-]*)/g)) types.add(m[1]);
  return [...types].sort();
}

test('the committed pages are what scripts/render-docs.mjs renders from the current openapi.yaml', () => {
  const r = spawnSync('node', [path.join(root, 'scripts/render-docs.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('every problem type in the sources has a page', () => {
  const have = new Set(PROBLEMS.map((p) => p[0]));
  assert.deepEqual(typesInSources().filter((t) => !have.has(t)), []);
});

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

// no script, no inline style, nothing loaded from another origin
function assertSelfContained(html, where) {
  assert.doesNotMatch(html, /<script|<style|\sstyle=|\son[a-z]+=/i, where);
  for (const m of html.matchAll(/\s(?:src|href)="([^"]*)"/g)) {
    assert.match(m[1], /^(\/(?!\/)|#|data:,$)/, `${where}: ${m[1]}`);
  }
}

test('a problem answer\'s type, resolved against its URL, is a page (200 text/html, strict CSP)', async () => {
  const url = `${N}/api/products?limit=abc`;
  const p = await get(url);
  assert.equal(p.status, 400);
  const page = await get(new URL(p.body.type, url));
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.equal(page.headers.get('content-security-policy'), CSP);
  assert.match(page.text, /<h1><code>\/problems\/invalid-parameter<\/code><\/h1>/);
});

test('every problem type page, the index and the stylesheet are served; an unknown type is a 404', async () => {
  for (const [t, status] of PROBLEMS) {
    const r = await get(`${N}/problems/${t}`);
    assert.equal(r.status, 200, t);
    assert.match(r.headers.get('content-type'), /^text\/html/, t);
    assert.equal(r.headers.get('content-security-policy'), CSP, t);
    assert.match(r.text, new RegExp(`HTTP ${status} `), t);
    assertSelfContained(r.text, t);
  }
  const index = await get(`${N}/problems/`);
  assert.equal(index.status, 200);
  for (const [t] of PROBLEMS) assert.ok(index.text.includes(`href="/problems/${t}"`), t);
  const css = await get(`${N}/docs/docs.css`);
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type'), /^text\/css/);
  assert.equal((await get(`${N}/problems/no-such-type`)).status, 404);
});

test('/docs/api.html: every operation of the spec, its parameters and schemas; self-contained under the CSP', async () => {
  const r = await get(`${N}/docs/api.html`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.equal(r.headers.get('content-security-policy'), CSP);
  assertSelfContained(r.text, 'api.html');
  for (const [p, item] of Object.entries(spec.paths)) {
    for (const m of ['get', 'post', 'put', 'patch', 'delete']) {
      if (!item[m]) continue;
      assert.ok(r.text.includes(`<span class="method">${m.toUpperCase()}</span> <code>${p.replace(/&/g, '&amp;')}</code></h3>`), `${m} ${p}`);
    }
  }
  for (const name of Object.keys(spec.components.parameters)) {
    const q = spec.components.parameters[name];
    assert.ok(r.text.includes(`<code>${q.name}</code>`), `parameter ${q.name}`);
  }
  for (const name of Object.keys(spec.components.schemas)) assert.ok(r.text.includes(`id="schema-${name}"`), name);
  // links inside the page point at anchors it has
  const ids = new Set([...r.text.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
  for (const m of r.text.matchAll(/href="#([^"]+)"/g)) assert.ok(ids.has(m[1]), `#${m[1]}`);
});
