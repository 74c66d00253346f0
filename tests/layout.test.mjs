// The backend's shape, checked on its sources (issue 11): dependencies
// between the folders of backend/src run one way (no circle), server/
// knows no handler and no store type, app.c assembles without knowing a
// handler, and no function is longer than 80 lines nor any file than 450.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { root } from './lib/stack.mjs';

const src = path.join(root, 'backend/src');
const files = [];
(function walk(d) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.[ch]$/.test(e.name)) files.push(path.relative(src, p));
  }
})(src);
const folder = (f) => (path.dirname(f) === '.' ? '.' : path.dirname(f));
const includes = (f) => [...fs.readFileSync(path.join(src, f), 'utf8').matchAll(/#include "([^"]+)"/g)].map((m) => m[1]);

test('folders of backend/src depend one way: no include circle between them', () => {
  const edges = new Map();
  for (const f of files) {
    for (const inc of includes(f)) {
      const from = folder(f);
      const to = folder(inc);
      // the root holds main.c/app.c (which wire everything) and the shared context headers every folder reads
      if (from === to || from === '.' || to === '.') continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from).add(to);
    }
  }
  const reach = (a, b, seen = new Set()) => [...(edges.get(a) || [])].some((n) => n === b || (!seen.has(n) && seen.add(n) && reach(n, b, seen)));
  for (const [a, tos] of edges) for (const b of tos) assert.ok(!reach(b, a), `circle: ${a} -> ${b} -> … -> ${a}`);
  assert.deepEqual([...(edges.get('model') || [])], [], 'model/ is pure: it includes no other folder');
  assert.deepEqual([...(edges.get('metrics') || [])], [], 'metrics/ (counters, the text format) includes no other folder');
  for (const low of ['cache', 'store', 'auth', 'model', 'server']) {
    for (const high of ['handlers', 'flow']) assert.ok(!(edges.get(low) || new Set()).has(high), `${low}/ must not include ${high}/`);
  }
  assert.ok(!(edges.get('server') || new Set()).has('store'), 'server/ knows no store type');
});

test('app.c assembles modules without knowing a handler', () => {
  assert.deepEqual(includes('app.c').filter((i) => i.startsWith('handlers/')), []);
});

test('no function longer than 80 lines, no file longer than 450', () => {
  const long = [];
  for (const f of files) {
    const lines = fs.readFileSync(path.join(src, f), 'utf8').split('\n');
    if (lines.length - 1 > 450) long.push(`${f}: ${lines.length - 1} lines`);
    let start = -1;
    lines.forEach((l, i) => {
      if (/^[A-Za-z_].*\)\s*$/.test(l) && lines[i + 1] === '{') start = i;
      if (l === '}' && start >= 0) {
        if (i - start + 1 > 80) long.push(`${f}: ${lines[start].slice(0, 60)} is ${i - start + 1} lines`);
        start = -1;
      }
    });
  }
  assert.deepEqual(long, []);
});
