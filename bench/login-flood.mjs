// Uncached reads during a flood of sign-ins (issue: logins shared the
// MongoDB workers). Starts its own stack (tests/lib/stack.mjs: Redis,
// FerretDB, one backend with BENCH_BYPASS_CACHE=1 so every read goes to
// MongoDB), then measures the p50/p99 of sequential reads of one page:
//   idle                 BENCH_IDLE_S (5) seconds of reads alone
//   during a flood       BENCH_FLOOD_S (10) seconds, BENCH_FLOOD_CONC (16)
//                        clients signing in with wrong passwords as
//                        distinct users (so every attempt is checked)
// Prints figures and the flood's answers; never fails on a number.
// BACKEND_BIN picks the binary (to compare releases).
//   node bench/login-flood.mjs
import { performance } from 'node:perf_hooks';
import { startStack } from '../tests/lib/stack.mjs';

const idleS = Number(process.env.BENCH_IDLE_S || 5);
const floodS = Number(process.env.BENCH_FLOOD_S || 10);
const conc = Number(process.env.BENCH_FLOOD_CONC || 16);

const pct = (xs, p) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length ? a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))] : NaN;
};

// Sequential GETs of one page until stop() is true; returns latencies (ms).
async function reads(url, stop) {
  const ms = [];
  while (!stop()) {
    const t0 = performance.now();
    const r = await fetch(url);
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`read: ${r.status}`);
    ms.push(performance.now() - t0);
  }
  return ms;
}

const s = await startStack({ backends: 1, backendEnv: { BENCH_BYPASS_CACHE: '1' } });
try {
  const b = s.backend;
  const url = `${b.url}/api/products?limit=20&category=books`;
  await reads(url, ((n) => () => n-- <= 0)(20)); // warm up
  let end = Date.now() + idleS * 1000;
  const idle = await reads(url, () => Date.now() > end);

  end = Date.now() + floodS * 1000;
  const statuses = {};
  let n = 0;
  const flooder = async (k) => {
    while (Date.now() < end) {
      const r = await fetch(`${b.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-real-ip': `198.18.${k}.${(n % 250) + 1}` },
        body: JSON.stringify({ username: `flood-${k}-${n++}`, password: 'wrong-password' }),
      });
      await r.arrayBuffer();
      statuses[r.status] = (statuses[r.status] || 0) + 1;
    }
  };
  const [during] = await Promise.all([reads(url, () => Date.now() > end), ...Array.from({ length: conc }, (_, k) => flooder(k))]);
  const st = await s.stats(b);
  const fmt = (xs) => `p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms (${xs.length} reads)`;
  console.log(`backend: ${process.env.BACKEND_BIN || 'backend/build/release/catalog-backend'}`);
  console.log(`uncached read, idle:          ${fmt(idle)}`);
  console.log(`uncached read, during flood:  ${fmt(during)}`);
  console.log(`ratio of p50s: ${(pct(during, 50) / pct(idle, 50)).toFixed(2)}`);
  console.log(`flood: ${conc} clients for ${floodS} s, answers ${JSON.stringify(statuses)}; store jobs ${st.store.jobs}` +
    (st.login ? `, login jobs ${st.login.jobs}` : ''));
} finally {
  await s.stop();
}
