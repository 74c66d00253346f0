// Monitoring with the real programs (issue 15): GET /metrics judged by
// promtool, a real Prometheus (Debian's) scraping two backend processes,
// prometheus-nginx-exporter and prometheus-redis-exporter, exact counts
// for a known mix of requests read back through PromQL, every Grafana
// panel's expression and every alert rule evaluated; /api/stats summed
// across processes through Redis; nginx's allow-list for /metrics and
// stub_status; the JSON log lines joined to nginx's access log on
// request_id, with no secret in them.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  assertProblem, freePort, get, getFresh, login, root, send, startStack, TEST_ADMIN, TEST_JWT_SECRET, sleep, until, waitPort,
} from './lib/stack.mjs';

let s;
let A;
let B;
const children = [];
let prom; // Prometheus's URL
let ids; // three product ids
let token;
const MISSING = '0000000000000000000000aa';

// starts a program of the test, stopped in after()
function start(name, cmd, args) {
  const log = fs.openSync(path.join(s.logDir, `${name}.log`), 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  children.push(child);
  return child;
}

async function promQuery(q) {
  const r = await get(`${prom}/api/v1/query?query=${encodeURIComponent(q)}`);
  assert.equal(r.status, 200, `${q}: ${r.text}`);
  assert.equal(r.body.status, 'success', q);
  return r.body.data.result;
}
// the single value of a query (a sum), or NaN when it has none
const promValue = async (q) => {
  const res = await promQuery(q);
  return res.length === 1 ? Number(res[0].value[1]) : NaN;
};

before(async () => {
  s = await startStack({ backends: 2, nginx: true, backendEnv: { LOG_REQUESTS: '1', HEALTH_TIMEOUT_MS: '500' } });
  [A, B] = s.backends.map((b) => b.url);
  ids = s.mongosh("db.products.find({}, {_id: 1}).sort({_id: 1}).limit(3).toArray().map((d) => d._id.toHexString()).join(',')").split(',');
  assert.equal(ids.length, 3);
  const ports = { nginxExp: await freePort(), redisExp: await freePort(), prom: await freePort() };
  start('nginx-exporter', 'prometheus-nginx-exporter', [`-nginx.scrape-uri=http://127.0.0.1:${s.nginxPort}/nginx-status`,
    `-web.listen-address=127.0.0.1:${ports.nginxExp}`]);
  start('redis-exporter', 'prometheus-redis-exporter', [`-redis.addr=redis://127.0.0.1:${s.redisPort}`,
    `-web.listen-address=127.0.0.1:${ports.redisExp}`]);
  const conf = path.join(s.dir, 'prometheus.yml');
  fs.writeFileSync(conf, [
    'global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}',
    `rule_files: [${JSON.stringify(path.join(root, 'deploy/prometheus/alerts.yml'))}]`,
    'scrape_configs:',
    `  - {job_name: backend, static_configs: [{targets: ["127.0.0.1:${s.backends[0].port}", "127.0.0.1:${s.backends[1].port}"]}]}`,
    `  - {job_name: nginx, static_configs: [{targets: ["127.0.0.1:${ports.nginxExp}"]}]}`,
    `  - {job_name: redis, static_configs: [{targets: ["127.0.0.1:${ports.redisExp}"]}]}`,
    '',
  ].join('\n'));
  start('prometheus', 'prometheus', [`--config.file=${conf}`, `--storage.tsdb.path=${path.join(s.dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${ports.prom}`]);
  prom = `http://127.0.0.1:${ports.prom}`;
  await waitPort(ports.prom, 30000);
  await until('every target up', 30000, async () => {
    const t = await get(`${prom}/api/v1/targets`);
    const active = t.body?.data?.activeTargets || [];
    return active.length === 4 && active.every((x) => x.health === 'up');
  }, 250);
  token = await login(A);
});

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)));
  if (s) await s.stop();
});

describe('GET /metrics', () => {
  test('promtool check metrics accepts the live output, without a lint warning', async () => {
    for (const url of [A, B]) {
      const r = await get(`${url}/metrics`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      assert.equal(r.headers.get('cache-control'), 'no-store');
      const c = spawnSync('promtool', ['check', 'metrics'], { input: r.text, encoding: 'utf8' });
      assert.equal(c.status, 0, `${c.stdout}${c.stderr}`);
      assert.equal(`${c.stdout}${c.stderr}`.trim(), '', 'no lint output');
      // the families the issue names, and routes as templates, never raw paths
      for (const name of ['catalog_http_requests_total', 'catalog_http_request_duration_seconds_bucket', 'catalog_cache_lookups_total',
        'catalog_flight_leaders_total', 'catalog_flight_joiners_total', 'catalog_store_queue_depth', 'catalog_store_job_duration_seconds_bucket',
        'catalog_store_jobs_rejected_total', 'catalog_store_jobs_expired_total', 'catalog_redis_reconnects_total',
        'catalog_redis_command_timeouts_total', 'catalog_cache_invalidations_deferred_total', 'catalog_cache_floor_raises_total',
        'catalog_login_attempts_total', 'catalog_writes_total', 'catalog_http_requests_in_flight', 'catalog_http_open_connections',
        'process_resident_memory_bytes', 'process_open_fds', 'process_cpu_seconds_total', 'process_start_time_seconds',
        'catalog_build_info', 'catalog_ready']) {
        assert.match(r.text, new RegExp(`^${name}[{ ]`, 'm'), name);
      }
      assert.doesNotMatch(r.text, /route="\/api\/products\/[0-9a-f]{24}"/);
      assert.match(r.text, /^catalog_build_info\{version="[^"]+",h2o="2\.2\.5",hiredis="0\.14\.\d+",libmongoc="1\.23\.\d+"\} 1$/m);
    }
  });

  test('a query string → 400 problem naming it', async () => {
    assertProblem(assert, await get(`${A}/metrics?x=1`), 400, { type: '/problems/invalid-parameter', param: 'x' });
  });
});

describe('a real Prometheus scraping both backends and the exporters', () => {
  test('after a known mix of requests, PromQL returns exact counts (read from a scrape after the last request)', async () => {
    const [p1, p2, p3] = ids;
    const seq = [
      [A, `/api/products/${p1}`, 200, 'MISS'], [A, `/api/products/${p1}`, 200, 'HIT'], [B, `/api/products/${p1}`, 200, 'HIT'],
      [B, `/api/products/${p2}`, 200, 'MISS'], [A, `/api/products/${MISSING}`, 404, 'MISS'], [A, `/api/products/${MISSING}`, 404, 'HIT'],
    ];
    for (const [base, p, status, cache] of seq) {
      const r = await getFresh(base + p);
      assert.equal(r.status, status, p);
      assert.equal(r.headers.get('x-cache'), cache, `${base}${p}`);
    }
    for (let i = 0; i < 2; i++) assert.equal((await get(`${s.nginxUrl}/api/categories`)).status, 200);
    const w = await send('PATCH', `${A}/api/products/${p3}`, { stock: 7 }, token);
    assert.equal(w.status, 200, w.text);
    const last = Date.now() / 1000;
    await until('a scrape of each target after the last request', 15000,
      async () => (await promValue('min(timestamp(up))')) > last + 0.05, 200);

    const expect = {
      'sum(catalog_http_requests_total{route="/api/products/{id}",method="GET",status_class="2xx"})': 4,
      'sum(catalog_http_requests_total{route="/api/products/{id}",method="GET",status_class="4xx"})': 2,
      'sum(catalog_http_requests_total{route="/api/products/{id}",method="PATCH",status_class="2xx"})': 1,
      'sum(catalog_http_requests_total{route="/api/categories",method="GET",status_class="2xx"})': 2,
      'sum(catalog_http_requests_total{route="/api/auth/login",method="POST",status_class="2xx"})': 1,
      [`sum(catalog_http_requests_total{instance="127.0.0.1:${s.backends[0].port}",route="/api/products/{id}",method="GET",status_class="2xx"})`]: 2,
      [`sum(catalog_http_requests_total{instance="127.0.0.1:${s.backends[1].port}",route="/api/products/{id}",status_class="4xx"})`]: 0,
      'sum(catalog_http_request_duration_seconds_count{route="/api/products/{id}"})': 7,
      'sum(catalog_writes_total{kind="patch",result="ok"})': 1,
      'sum(catalog_writes_total) - sum(catalog_writes_total{kind="patch",result="ok"})': 0,
      'sum(catalog_login_attempts_total{result="ok"})': 1,
      'sum(catalog_login_attempts_total) - sum(catalog_login_attempts_total{result="ok"})': 0,
      'count(catalog_build_info == 1)': 2,
      'sum(catalog_ready)': 2,
      'sum(catalog_redis_connections_ready)': 4,
      'nginx_up': 1,
      'redis_up': 1,
    };
    for (const [q, want] of Object.entries(expect)) assert.equal(await promValue(q), want, q);
    // the categories were read through nginx: the first a miss, the second a hit (either backend)
    assert.equal(await promValue('sum(catalog_cache_lookups_total{layer="redis",outcome="miss"})'), 4); // p1, p2, the missing id, categories
    assert.equal(await promValue('sum(catalog_cache_lookups_total{layer="redis",outcome="hit"})'), 4);
    // the categories' Redis miss went to the in-memory catalogue (answered there, or by MongoDB)
    assert.equal(await promValue('sum(catalog_cache_lookups_total{layer="memory"})'), 1);
    assert.equal(await promValue('sum(catalog_flight_leaders_total)'), 4);
    assert.ok(await promValue('sum(nginx_http_requests_total)') >= 2);
    assert.ok(await promValue('sum(redis_connected_clients)') >= 4, 'one connection per loop thread and backend');
  });

  test('every Grafana panel expression evaluates without error against this Prometheus', async () => {
    const dash = JSON.parse(fs.readFileSync(path.join(root, 'deploy/grafana/dashboards/catalog.json'), 'utf8'));
    let n = 0;
    for (const p of dash.panels) {
      for (const t of p.targets) {
        const q = t.expr.replaceAll('$__rate_interval', '1m').replaceAll('$__interval', '15s');
        const r = await get(`${prom}/api/v1/query?query=${encodeURIComponent(q)}`);
        assert.equal(r.body.status, 'success', `${p.title}: ${q}: ${r.text}`);
        n++;
      }
    }
    assert.ok(n >= 20, `${n} expressions`);
    // the panels have data: each backend, nginx and Redis figure is there
    for (const q of ['sum(rate(catalog_http_requests_total[1m]))', 'sum(nginx_connections_active)', 'sum(redis_memory_used_bytes)',
      'count(process_resident_memory_bytes{job="backend"})']) {
      assert.ok((await promQuery(q)).length === 1, q);
    }
  });

  test('the alert rules load into Prometheus and evaluate without error; none fires on a healthy stack', async () => {
    const rules = await until('every rule evaluated', 15000, async () => {
      const r = await get(`${prom}/api/v1/rules`);
      const all = r.body.data.groups.flatMap((g) => g.rules);
      return all.length >= 13 && all.every((x) => x.lastEvaluation && !x.lastEvaluation.startsWith('0001')) && all;
    }, 250);
    for (const r of rules) assert.equal(r.health, 'ok', `${r.name}: ${r.lastError}`);
    const firing = rules.filter((r) => r.state !== 'inactive').map((r) => r.name);
    assert.deepEqual(firing, []);
  });
});

describe('/api/stats: the whole deployment', () => {
  const redisNowMs = () => {
    const [sec, usec] = s.redisCli('TIME').split('\n');
    return Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
  };

  test('sums the processes that wrote in the last 3 s; older fields count as known, past 60 s they are deleted', async () => {
    const r = await until('both backends in the hash', 5000, async () => {
      const x = (await get(`${A}/api/stats`)).body;
      return x.deployment?.backends === 2 && x;
    });
    assert.equal(r.deployment.backends_known, 2);
    // the sum covers both processes: once each has written its field again
    // (every second), it holds at least what each answered for itself
    // before (each process's own figure is live, the hash's a second old);
    // read once, so that A's own count is not driven past the sum by polling
    for (let i = 0; i < 30; i++) await get(`${B}/health`); // B's share, large enough to tell a sum without it
    const [ownA, ownB] = [(await get(`${A}/api/stats`)).body.requests, (await get(`${B}/api/stats`)).body.requests];
    assert.ok(ownB >= 30, `B answered ${ownB}`);
    await sleep(2200);
    const sum = (await get(`${A}/api/stats`)).body.deployment.requests;
    assert.ok(sum >= ownA + ownB && sum < ownA + ownB + 50, `sum ${sum}, A ${ownA}, B ${ownB}`);
    // a process that stopped writing 10 s ago: known, not fresh; one of 70 s ago: pruned
    s.redisCli('HSET', '{stats}:backends', 'gone:1', `${redisNowMs() - 10000} {"requests":1000000}`, 'gone:2', `${redisNowMs() - 70000} {}`);
    // (both live fields fresh: a process held up past 3 s on a busy machine is not)
    const d = await until('both live fields fresh', 5000, async () => {
      const x = (await get(`${A}/api/stats`)).body.deployment;
      return x.backends === 2 && x;
    });
    assert.equal(d.backends_known, 3);
    assert.ok(d.requests < 1000000, 'a stale field is not summed');
    assert.equal(s.redisCli('HEXISTS', '{stats}:backends', 'gone:2'), '0');
    assert.equal(s.redisCli('TTL', '{stats}:backends'), '-1', 'no TTL: never evicted');
    s.redisCli('HDEL', '{stats}:backends', 'gone:1');
  });
});

describe('nginx: /metrics and stub_status', () => {
  test('off the public side with the diagnostics allow-list; stub_status on /nginx-status', async () => {
    const closed = await s.startNginx({ DIAGNOSTICS_ALLOW: 'deny all;' });
    for (const p of ['/metrics', '/nginx-status', '/api/stats']) assertProblem(assert, await get(closed.url + p), 403);
    const open = await get(`${s.nginxUrl}/nginx-status`);
    assert.equal(open.status, 200);
    assert.match(open.text, /^Active connections: \d+/);
    const m = await get(`${s.nginxUrl}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.text, /^catalog_http_requests_total\{/m);
  });
});

describe('JSON logs', () => {
  const lines = (b) => b.proc.log().split('\n').filter(Boolean);

  test('every line parses; a request through nginx carries the request id nginx logged for it; no secret is ever logged', async () => {
    const r = await getFresh(`${s.nginxUrl}/api/products/${ids[0]}`);
    assert.equal(r.status, 200);
    const id = r.headers.get('x-request-id');
    // a sign-in with a wrong password, and a write with a token
    const bad = await send('POST', `${s.nginxUrl}/api/auth/login`, { username: 'admin', password: 'not-the-password-at-all' });
    assert.equal(bad.status, 401);
    const tok = await login(s.nginxUrl);
    assert.equal((await send('PATCH', `${s.nginxUrl}/api/products/${ids[1]}`, { stock: 3 }, tok)).status, 200);
    await until('the access log line', 5000, () => fs.readFileSync(path.join(s.nginxes[0].state, 'access.log'), 'utf8').includes(id));
    const access = fs.readFileSync(path.join(s.nginxes[0].state, 'access.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const ng = access.find((e) => e.request_id === id);
    assert.ok(ng, 'nginx logged the request');
    const all = s.backends.flatMap((b) => lines(b).map((l) => {
      try { return JSON.parse(l); } catch { assert.fail(`not JSON: ${l}`); }
    }));
    for (const e of all) {
      assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(['debug', 'info', 'warn', 'error'].includes(e.level), e.level);
      assert.equal(typeof e.event, 'string');
    }
    const mine = all.find((e) => e.event === 'request' && e.request_id === id);
    assert.ok(mine, 'the backend logged the same request id');
    assert.equal(mine.path, ng.path);
    assert.equal(mine.method, ng.method);
    assert.equal(mine.status, ng.status);
    assert.equal(mine.cache, ng.cache);
    const started = all.find((e) => e.event === 'started');
    assert.ok(started && started.port > 0 && started.mongo_db === 'catalog' && !('redis_url' in started));
    // the JWT secret, a token, a password, a password hash: none of them, anywhere
    const hash = s.mongosh("db.users.findOne({username: 'admin'}).password_hash");
    assert.match(hash, /^\$argon2id\$/);
    const text = s.backends.map((b) => b.proc.log()).join('\n');
    for (const [what, secret] of [['JWT secret', TEST_JWT_SECRET], ['token', tok], ['token', token], ['password', TEST_ADMIN.password],
      ['wrong password', 'not-the-password-at-all'], ['password hash', hash], ['token signature', tok.split('.')[2]]]) {
      assert.ok(!text.includes(secret), `the backend log holds the ${what}`);
    }
  });

  test('a store error is logged with the request id of the read that hit it', async () => {
    await s.mongo.stop();
    const id = 'log-store-error-1';
    const r = await getFresh(`${A}/api/products/${'0'.repeat(22)}bb`, { headers: { 'x-request-id': id }, timeoutMs: 10000 });
    assert.equal(r.status, 503);
    const e = await until('the error line', 5000, () => lines(s.backends[0]).map((l) => JSON.parse(l))
      .find((x) => x.event === 'store_failed' && x.request_id === id));
    assert.equal(e.level, 'error');
    // and the connection's state change, once
    await until('the mongodb_down line', 15000, () => lines(s.backends[0]).some((l) => JSON.parse(l).event === 'mongodb_down'));
    assert.ok(lines(s.backends[0]).some((l) => JSON.parse(l).event === 'mongodb_up'), 'its reachability was logged at start-up');
  });

  test('a drained process deletes its field: the deployment is 1 of 1 at once', async () => {
    const b = s.backends[1];
    assert.equal((await b.proc.stop()).code, 0);
    const d = (await get(`${A}/api/stats`)).body.deployment;
    assert.equal(d.backends, 1);
    assert.equal(d.backends_known, 1);
    assert.match(b.proc.log(), /"event":"exit","msg":"drained, exiting"/);
  });
});
