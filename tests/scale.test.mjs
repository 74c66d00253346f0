// Scale-out on one machine: three backend processes behind one nginx, a GET
// load at a bounded rate (h2load --rps, well under capacity), one backend
// killed with SIGKILL mid-run and restarted: zero non-2xx, zero socket
// errors, and the restarted process serves traffic again. Not part of the
// sanitizer run (timing under ASan says nothing about nginx's failover).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { get, sanitized, sleep, startStack, until } from './lib/stack.mjs';

let s;
before(async () => {
  if (sanitized) return;
  s = await startStack({ backends: 3 });
  await s.startNginx();
});
after(async () => s && s.stop());

function h2load(args) {
  return new Promise((resolve) => {
    const p = spawn('h2load', args);
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('exit', (code) => resolve({ code, out }));
  });
}

test('kill -9 one of three backends under load: no failed request; it serves again after a restart', { skip: sanitized, timeout: 60000 }, async () => {
  const url = `${s.nginxUrl}/api/products?limit=5`;
  await get(url); // cached: the load measures failover, not MongoDB
  // 4 clients x 40 req/s = 160 req/s for 1200 requests (~7.5 s)
  const load = h2load(['--h1', '-n', '1200', '-c', '4', '--rps', '40', '-T', '10', url]);
  await sleep(2000);
  const victim = s.backends[1];
  victim.proc.signal('SIGKILL');
  await victim.proc.exited;
  await sleep(1500);
  s.backends.splice(1, 1);
  const again = await s.startBackend({}, victim.port);
  const { code, out } = await load;
  assert.equal(code, 0, out);
  const m = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  assert.ok(m, out);
  assert.deepEqual(m.slice(1).map(Number), [1200, 1200, 1200, 1200, 0, 0, 0], out);
  assert.match(out, /status codes: 1200 2xx, 0 3xx, 0 4xx, 0 5xx/, out);

  // nginx marked it failed for fail_timeout (2 s): after that it gets traffic again
  // (counted as cache lookups: /api/stats itself is not one)
  const reads = async () => { const c = (await s.stats(again)).cache; return c.hits + c.misses + c.bypass; };
  const before = await reads();
  await until('the restarted backend serves traffic through nginx', 10000, async () => {
    await Promise.all(Array.from({ length: 12 }, () => get(url)));
    return (await reads()) - before >= 3;
  }, 300);
});
