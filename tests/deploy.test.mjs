// Container images and compose files, checked without a Docker engine (none
// on the build machine): `docker-compose config` (Debian's 1.29) on both
// compose files, dclint and dockerfilelint, the properties the deployment
// relies on (read from the normalised config), the secrets' `${VAR:?…}`
// guards, .env.example, the runtime packages of the backend image against
// the libraries the binary links, and the nginx image's template rendering
// (the official entrypoint's envsubst) checked with `nginx -t`.
// Needs no running stack.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import YAML from 'yaml';
import { canIsolateHosts } from './lib/stack.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEV = 'docker-compose.yml';
const PROD = 'docker-compose.prod.yml';
const APP = ['backend', 'mongo', 'nginx', 'redis'];
const SERVICES = {
  [DEV]: [...APP, 'prometheus'].sort(),
  [PROD]: [...APP, 'prometheus', 'alertmanager', 'nginx-exporter', 'redis-exporter', 'grafana'].sort(),
};
// images without a shell or an HTTP client: no healthcheck can run in them;
// Prometheus scrapes them instead (alert CatalogExporterDown)
const EXPORTERS = ['nginx-exporter', 'redis-exporter'];
// the UIs of the monitoring, on the host's loopback only
const LOOPBACK_UIS = { prometheus: '9090', alertmanager: '9093', grafana: '3001' };
// prod refuses to start without these (each `${NAME:?NAME is required}`)
const REQUIRED = ['ADMIN_PASSWORD', 'GRAFANA_ADMIN_PASSWORD', 'JWT_SECRET', 'MONGO_APP_PASSWORD', 'MONGO_INITDB_ROOT_PASSWORD',
  'REDIS_PASSWORD', 'SERVER_NAME'];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
// compose would otherwise also read a developer's ./.env
const noEnvFile = path.join(tmp, 'empty.env');
fs.writeFileSync(noEnvFile, '');

const read = (rel) => fs.readFileSync(path.join(root, rel), 'utf8');
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { cwd: root, encoding: 'utf8', ...opts });
const out = (r) => `exit ${r.status}\n${r.stdout}\n${r.stderr}`;
const have = (cmd) => run('sh', ['-c', `command -v ${cmd}`]).status === 0;

// docker-compose with only the given variables (plus PATH) and no .env
function compose(file, env, ...args) {
  assert.ok(have('docker-compose'), 'docker-compose is missing: run scripts/deps.sh test');
  return run('docker-compose', ['-f', file, '--env-file', noEnvFile, ...args], {
    env: { PATH: process.env.PATH, HOME: tmp, ...env },
  });
}

// .env.example: "NAME=value" lines, and optional ones commented out as "# NAME=value"
function envExample() {
  const vars = new Map();
  for (const line of read('.env.example').split('\n')) {
    const m = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) vars.set(m[2], { value: m[3], optional: Boolean(m[1]) });
  }
  return vars;
}

// a throwaway prod environment: .env.example's values, empty ones filled in
function throwawayEnv() {
  const env = {};
  for (const [name, { value, optional }] of envExample()) {
    if (!optional) env[name] = value || `throwaway-${name.toLowerCase().replaceAll('_', '-')}`;
  }
  env.SERVER_NAME = 'shop.example.com';
  return env;
}

// ${NAME...} references of a compose file ($$ is compose's escape for a literal $)
function refs(text) {
  return [...text.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}/g)].map((m) => ({ name: m[1], rest: m[2] }));
}

const configs = new Map();
function config(file) {
  if (!configs.has(file)) {
    const r = compose(file, file === PROD ? throwawayEnv() : {}, 'config');
    assert.equal(r.status, 0, out(r));
    configs.set(file, YAML.parse(r.stdout));
  }
  return configs.get(file);
}

// a ports entry of the normalised config: "127.0.0.1:8080:80/tcp" or {published, target, host_ip}
function port(p) {
  if (typeof p === 'object') return { host: p.host_ip || '', published: String(p.published ?? ''), target: String(p.target) };
  const [spec] = String(p).split('/');
  const parts = spec.split(':');
  const target = parts.pop();
  const published = parts.pop() || '';
  return { host: parts.join(':'), published, target };
}

// Dockerfile instructions, continuation lines joined, comments dropped
function dockerfile(rel) {
  const ins = [];
  let cur = '';
  for (const line of read(rel).split('\n')) {
    if (/^\s*#/.test(line)) continue;
    cur += line.replace(/\\\s*$/, ' ');
    if (/\\\s*$/.test(line)) continue;
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(cur);
    if (m) ins.push({ cmd: m[1].toUpperCase(), args: m[2].trim() });
    cur = '';
  }
  const stages = [];
  for (const i of ins) {
    if (i.cmd === 'FROM') stages.push([]);
    stages.at(-1).push(i);
  }
  return stages;
}

function dockerEnv(stage) {
  const env = {};
  for (const i of stage.filter((x) => x.cmd === 'ENV')) {
    for (const m of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
      env[m[1]] = m[2].startsWith('"') ? JSON.parse(m[2]) : m[2];
    }
  }
  return env;
}

describe('docker-compose config (Debian docker-compose 1.29)', () => {
  test('dev file is valid with no variables set at all', () => {
    const r = compose(DEV, {}, 'config', '-q');
    assert.equal(r.status, 0, out(r));
    assert.doesNotMatch(r.stderr, /WARN/, 'no unset-variable warnings');
  });

  test('prod file is valid with the required variables set', () => {
    const r = compose(PROD, throwawayEnv(), 'config', '-q');
    assert.equal(r.status, 0, out(r));
    assert.doesNotMatch(r.stderr, /WARN/, 'no unset-variable warnings');
  });

  test('prod without a required secret fails with a message naming it', () => {
    for (const name of REQUIRED) {
      const env = throwawayEnv();
      delete env[name];
      const r = compose(PROD, env, 'config', '-q');
      assert.notEqual(r.status, 0, `${name} missing, yet: ${out(r)}`);
      assert.match(r.stderr, new RegExp(`${name} is required`), name);
      env[name] = '';
      const empty = compose(PROD, env, 'config', '-q');
      assert.notEqual(empty.status, 0, `${name} empty`);
      assert.match(empty.stderr, new RegExp(`${name} is required`), `${name} empty`);
    }
  });

  test('.env.example copied as is does not start prod (its secrets are empty)', () => {
    const r = run('docker-compose', ['-f', PROD, '--env-file', '.env.example', 'config', '-q'], {
      env: { PATH: process.env.PATH, HOME: tmp },
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /is required/);
  });
});

describe('secrets and variables', () => {
  test('every secret in the prod file is guarded with ${VAR:?message}', () => {
    const prod = refs(read(PROD));
    const guarded = new Set(prod.filter((r) => r.rest.startsWith(':?')).map((r) => r.name));
    assert.deepEqual([...guarded].sort(), REQUIRED);
    for (const r of prod.filter((x) => REQUIRED.includes(x.name))) {
      assert.ok(r.rest.startsWith(':?'), `\${${r.name}${r.rest}} must be \${${r.name}:?…}`);
    }
  });

  test('.env.example lists every variable the compose files read, and only those', () => {
    const used = new Set([...refs(read(DEV)), ...refs(read(PROD))].map((r) => r.name));
    const listed = new Set(envExample().keys());
    assert.deepEqual([...used].filter((n) => !listed.has(n)), [], 'read by compose, missing from .env.example');
    assert.deepEqual([...listed].filter((n) => !used.has(n)), [], 'in .env.example, read by no compose file');
    for (const name of REQUIRED) assert.equal(envExample().get(name).value, '', `${name} has no usable default`);
  });

  test('nothing secret or bulky goes into a build context', () => {
    const rootIgnore = read('.dockerignore').split('\n');
    for (const p of ['.git/', 'state/', 'node_modules/', 'backend/build*/', 'tests/artifacts/', 'certs/', '.env']) {
      assert.ok(rootIgnore.includes(p), `.dockerignore: ${p}`);
    }
    assert.ok(read('backend/.dockerignore').split('\n').includes('build*/'), 'backend/.dockerignore: build*/');
  });
});

describe('normalised compose files', () => {
  test('both files: the services, healthchecks, health-gated start order, no published backend port', () => {
    for (const file of [DEV, PROD]) {
      const { services } = config(file);
      assert.deepEqual(Object.keys(services).sort(), SERVICES[file], file);
      for (const [name, svc] of Object.entries(services)) {
        if (EXPORTERS.includes(name)) {
          assert.equal(svc.healthcheck, undefined, `${file}: ${name}: its image cannot run a healthcheck`);
          continue;
        }
        assert.ok(svc.healthcheck?.test?.length, `${file}: ${name} has a healthcheck`);
        assert.ok(!svc.healthcheck.disable, `${file}: ${name} healthcheck enabled`);
        assert.equal(svc.container_name, undefined, `${file}: ${name} has no container_name (--scale)`);
      }
      const b = services.backend;
      assert.equal(b.ports, undefined, `${file}: backend publishes no port (--scale backend=N)`);
      assert.deepEqual(b.expose.map(String), ['3000']);
      assert.deepEqual(b.healthcheck.test, ['CMD', 'catalog-backend', '--healthcheck']);
      assert.deepEqual(b.depends_on, { mongo: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
      assert.deepEqual(services.nginx.depends_on, { backend: { condition: 'service_healthy' } });
      assert.equal(b.environment.HOST, '0.0.0.0');
      assert.equal(String(b.environment.PORT), '3000');
      assert.match(services.nginx.healthcheck.test.join(' '), /\/nginx-health/);
      assert.match(services.mongo.healthcheck.test.join(' '), /mongosh .*ping/);
      assert.match(services.redis.healthcheck.test.join(' '), /redis-cli ping/);
      assert.match(services.mongo.image, /^mongo:7/);
      assert.match(services.redis.image, /^redis:7/);
      assert.ok(services.mongo.volumes.some((v) => /\/mongo-init:\/docker-entrypoint-initdb\.d:ro$/.test(v)), file);
      assert.ok(services.mongo.volumes.some((v) => /^mongo-data:\/data\/db/.test(v)), `${file}: named volume`);
      assert.equal(services.mongo.environment.MONGO_INITDB_DATABASE, 'catalog');
    }
  });

  test('redis is a bounded cache: maxmemory, volatile-lru, no persistence', () => {
    for (const file of [DEV, PROD]) {
      const cmd = config(file).services.redis.command;
      const arg = (flag) => cmd[cmd.indexOf(flag) + 1];
      assert.equal(cmd[0], 'redis-server');
      assert.match(arg('--maxmemory'), /^\d+[kmg]b$/i, file);
      assert.equal(arg('--maxmemory-policy'), 'volatile-lru', file);
      assert.equal(arg('--save'), '', file);
      assert.equal(arg('--appendonly'), 'no', file);
      // the in-process cache's ordering argument needs these (README: In-process cache)
      assert.equal(arg('--io-threads'), '1', file);
      assert.match(arg('--client-output-buffer-limit'), /^pubsub \d+kb 0 0$/, file);
    }
  });

  test('dev: nginx on 8080, MongoDB, Redis and Prometheus on loopback only, live frontend mount', () => {
    const { services } = config(DEV);
    assert.deepEqual(services.nginx.ports.map(port), [{ host: '127.0.0.1', published: '8080', target: '80' }]);
    assert.deepEqual(services.prometheus.ports.map(port), [{ host: '127.0.0.1', published: '9090', target: '9090' }]);
    assert.deepEqual(services.mongo.ports.map(port), [{ host: '127.0.0.1', published: '27017', target: '27017' }]);
    assert.deepEqual(services.redis.ports.map(port), [{ host: '127.0.0.1', published: '6379', target: '6379' }]);
    assert.ok(services.nginx.volumes.some((v) => /\/frontend:\/usr\/share\/nginx\/html:ro$/.test(v)));
    assert.equal(services.backend.environment.MONGO_URI, 'mongodb://mongo:27017/catalog');
    assert.equal(services.backend.environment.REDIS_URL, 'redis://redis:6379/0');
    assert.equal(services.nginx.build.dockerfile, 'nginx/Dockerfile');
    assert.equal(services.nginx.build.context, root);
    assert.equal(services.backend.build.context, path.join(root, 'backend'));
  });

  test('prod: only nginx publishes ports to the network, 80 and 443; the monitoring UIs on loopback only', () => {
    const { services } = config(PROD);
    for (const name of SERVICES[PROD].filter((n) => n !== 'nginx')) {
      if (name in LOOPBACK_UIS) {
        assert.deepEqual(services[name].ports.map(port).map((p) => [p.host, p.published]), [['127.0.0.1', LOOPBACK_UIS[name]]], name);
      } else {
        assert.equal(services[name].ports, undefined, `${name} publishes no port`);
      }
    }
    assert.deepEqual(services.nginx.ports.map(port).map((p) => [p.published, p.target]).sort(), [['443', '443'], ['80', '80']]);
  });

  test('prod: restart policy, log rotation, resource limits, no-new-privileges on every service', () => {
    const { services } = config(PROD);
    for (const [name, svc] of Object.entries(services)) {
      assert.equal(svc.restart, 'unless-stopped', name);
      assert.equal(svc.logging?.driver, 'json-file', name);
      assert.ok(svc.logging.options['max-size'] && svc.logging.options['max-file'], `${name} log rotation`);
      const lim = svc.deploy?.resources?.limits;
      assert.ok(lim?.memory && lim?.cpus, `${name} memory and cpu limits`);
      assert.ok(svc.security_opt?.includes('no-new-privileges:true'), name);
    }
    const b = services.backend;
    assert.equal(b.read_only, true);
    assert.deepEqual(b.cap_drop, ['ALL']);
  });

  test('prod: MongoDB with authentication, the backend with its own user; Redis with a password', () => {
    const env = throwawayEnv();
    const { services } = config(PROD);
    const m = services.mongo.environment;
    assert.equal(m.MONGO_INITDB_ROOT_USERNAME, env.MONGO_INITDB_ROOT_USERNAME);
    assert.equal(m.MONGO_INITDB_ROOT_PASSWORD, env.MONGO_INITDB_ROOT_PASSWORD);
    assert.equal(m.MONGO_APP_USER, env.MONGO_APP_USER);
    assert.equal(m.MONGO_APP_PASSWORD, env.MONGO_APP_PASSWORD);
    assert.equal(String(m.SEED_DEMO), '0', 'production starts without the demo catalogue');
    const b = services.backend.environment;
    assert.equal(b.MONGO_URI,
      `mongodb://${env.MONGO_APP_USER}:${env.MONGO_APP_PASSWORD}@mongo:27017/catalog?authSource=catalog`);
    assert.equal(b.REDIS_URL, `redis://:${env.REDIS_PASSWORD}@redis:6379/0`);
    assert.equal(b.JWT_SECRET, env.JWT_SECRET);
    assert.equal(b.ADMIN_PASSWORD, env.ADMIN_PASSWORD);
    const cmd = services.redis.command;
    assert.equal(cmd[cmd.indexOf('--requirepass') + 1], env.REDIS_PASSWORD);
    assert.equal(services.redis.environment.REDISCLI_AUTH, env.REDIS_PASSWORD, 'the healthcheck can authenticate');
  });

  test('prod: nginx renders templates-prod, with TLS files from a read-only mount', () => {
    const n = config(PROD).services.nginx;
    assert.equal(n.environment.NGINX_ENVSUBST_TEMPLATE_DIR, '/etc/nginx/templates-prod');
    assert.equal(n.environment.SERVER_NAME, 'shop.example.com');
    assert.ok(n.volumes.some((v) => /\/certs:\/etc\/nginx\/certs:ro$/.test(v)));
    assert.match(n.environment.TLS_CERT, /^\/etc\/nginx\/certs\//);
    assert.match(n.environment.TLS_KEY, /^\/etc\/nginx\/certs\//);
  });
});

describe('monitoring (Prometheus, Alertmanager, Grafana, exporters)', () => {
  const yaml = (rel) => YAML.parse(read(rel));
  const mountOf = (svc, target) => svc.volumes.find((v) => String(v).split(':')[1] === target);
  const job = (cfg, name) => cfg.scrape_configs.find((j) => j.job_name === name);

  test('promtool check config: both Prometheus files and the rules they load', () => {
    assert.ok(have('promtool'), 'promtool is missing: run scripts/deps.sh test');
    for (const f of ['deploy/prometheus/prometheus.yml', 'deploy/prometheus/prometheus.dev.yml']) {
      const r = run('promtool', ['check', 'config', f]);
      assert.equal(r.status, 0, `${f}: ${out(r)}`);
      assert.match(r.stdout, /SUCCESS: \d+ rules found/, f);
    }
  });

  test('each compose Prometheus loads its file from the mounted deploy/prometheus', () => {
    for (const [file, conf] of [[DEV, 'prometheus.dev.yml'], [PROD, 'prometheus.yml']]) {
      const p = config(file).services.prometheus;
      assert.ok(mountOf(p, '/etc/prometheus')?.endsWith('/deploy/prometheus:/etc/prometheus:ro') || mountOf(p, '/etc/prometheus'), file);
      assert.ok(p.command.includes(`--config.file=/etc/prometheus/${conf}`), `${file}: ${p.command}`);
      assert.ok(fs.existsSync(path.join(root, 'deploy/prometheus', conf)));
      // every backend replica through Docker's DNS (the service name), on the port it exposes
      const b = job(yaml(`deploy/prometheus/${conf}`), 'backend');
      assert.deepEqual(b.dns_sd_configs.map((d) => [d.names, d.type, String(d.port)]), [[['backend'], 'A', '3000']], conf);
      assert.ok(config(file).services.backend.expose.map(String).includes('3000'));
    }
  });

  test('prod Prometheus scrapes the exporters and alerts through Alertmanager, by their service names and ports', () => {
    const cfg = yaml('deploy/prometheus/prometheus.yml');
    const { services } = config(PROD);
    for (const [name, target] of [['nginx', 'nginx-exporter:9113'], ['redis', 'redis-exporter:9121']]) {
      assert.deepEqual(job(cfg, name).static_configs[0].targets, [target], name);
      const [svc, p] = target.split(':');
      assert.ok(services[svc].expose.map(String).includes(p), `${svc} exposes ${p}`);
    }
    assert.deepEqual(cfg.alerting.alertmanagers[0].static_configs[0].targets, ['alertmanager:9093']);
    assert.deepEqual(job(cfg, 'alertmanager').static_configs[0].targets, ['alertmanager:9093']);
    // the nginx exporter reads stub_status from the location the prod port-80 server keeps for it
    assert.ok(services['nginx-exporter'].command.includes('-nginx.scrape-uri=http://nginx:80/nginx-status'));
    assert.match(read('nginx/templates-prod/default.conf.template'), /listen \$\{NGINX_PORT\};[\s\S]*location = \/nginx-status \{\s*\$\{DIAGNOSTICS_ALLOW\}[^}]*stub_status;/);
    assert.equal(services['redis-exporter'].environment.REDIS_ADDR, 'redis://redis:6379');
    assert.equal(services['redis-exporter'].environment.REDIS_PASSWORD, throwawayEnv().REDIS_PASSWORD);
  });

  test('amtool check-config: the Alertmanager configuration, mounted where its command reads it', () => {
    assert.ok(have('amtool'), 'amtool is missing: run scripts/deps.sh test');
    const r = run('amtool', ['check-config', 'deploy/alertmanager/alertmanager.yml']);
    assert.equal(r.status, 0, out(r));
    const a = config(PROD).services.alertmanager;
    assert.ok(mountOf(a, '/etc/alertmanager'));
    assert.ok(a.command.includes('--config.file=/etc/alertmanager/alertmanager.yml'));
  });

  test('Grafana: data source and dashboard provisioned from the repository', () => {
    const g = config(PROD).services.grafana;
    assert.ok(mountOf(g, '/etc/grafana/provisioning'));
    const ds = yaml('deploy/grafana/provisioning/datasources/prometheus.yml').datasources;
    assert.deepEqual(ds.map((d) => [d.type, d.url, d.uid]), [['prometheus', 'http://prometheus:9090', 'prometheus']]);
    const provider = yaml('deploy/grafana/provisioning/dashboards/catalog.yml').providers[0];
    assert.ok(mountOf(g, provider.options.path), `dashboards mounted at ${provider.options.path}`);
    const dash = JSON.parse(read('deploy/grafana/dashboards/catalog.json'));
    assert.ok(dash.panels.length >= 10);
    for (const p of dash.panels) {
      assert.equal(p.datasource.uid, 'prometheus', p.title);
      assert.ok(p.targets.length > 0 && p.targets.every((t) => typeof t.expr === 'string' && t.expr.length > 0), p.title);
    }
    assert.equal(g.environment.GF_SECURITY_ADMIN_PASSWORD, throwawayEnv().GRAFANA_ADMIN_PASSWORD);
  });
});

describe('linters', () => {
  const dclint = path.join(root, 'node_modules/.bin/dclint');
  const dockerfilelint = path.join(root, 'node_modules/.bin/dockerfilelint');

  test('dclint: both compose files, no errors and no warnings', () => {
    const r = run(dclint, ['-c', '.dclintrc', '--max-warnings', '0', '--color', 'false', DEV, PROD]);
    assert.equal(r.status, 0, out(r));
  });

  test('dclint still rejects an unbound port outside the nginx exception', () => {
    const mutated = path.join(tmp, 'mutated.yml');
    fs.writeFileSync(mutated, read(PROD).replace(/\n {4}expose:\n/, '\n    ports:\n      - "3000:3000"\n    expose:\n'));
    const r = run(dclint, ['-c', '.dclintrc', '--color', 'false', mutated]);
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /backend.*3000:3000.*no-unbound-port-interfaces/);
  });

  test('dockerfilelint: both Dockerfiles, no issues', () => {
    // dockerfilelint lints its argument as Dockerfile text when no such file exists
    for (const f of ['backend/Dockerfile', 'nginx/Dockerfile']) assert.ok(fs.existsSync(path.join(root, f)), f);
    const r = run(dockerfilelint, ['backend/Dockerfile', 'nginx/Dockerfile']);
    assert.equal(r.status, 0, out(r));
  });

  test('dockerfilelint catches a bad apt-get layer (the linter is live)', () => {
    const bad = path.join(tmp, 'Dockerfile');
    fs.writeFileSync(bad, 'FROM debian:bookworm\nRUN apt-get update && apt-get install -y curl\n');
    const r = run(dockerfilelint, [bad]);
    assert.notEqual(r.status, 0, out(r));
  });
});

describe('backend image', () => {
  const [build, runtime] = dockerfile('backend/Dockerfile');
  const args = (stage, cmd) => stage.filter((i) => i.cmd === cmd).map((i) => i.args);

  test('two stages on pinned Debian 12 tags; a non-root user; healthcheck by the binary itself', () => {
    assert.equal(build[0].args, 'debian:bookworm AS build');
    assert.equal(runtime[0].args, 'debian:bookworm-slim');
    assert.match(args(build, 'RUN').join(' '), /--target catalog-backend/);
    assert.match(args(build, 'RUN').join(' '), /-DWERROR=ON/);
    const user = args(runtime, 'USER');
    assert.equal(user.length, 1);
    assert.doesNotMatch(user[0], /^(0|root)(:|$)/);
    assert.deepEqual(args(runtime, 'EXPOSE'), ['3000']);
    assert.deepEqual(args(runtime, 'STOPSIGNAL'), ['SIGTERM']);
    assert.deepEqual(dockerEnv(runtime), { HOST: '0.0.0.0', PORT: '3000' });
    assert.match(args(runtime, 'HEALTHCHECK')[0], /CMD \["catalog-backend", "--healthcheck"\]$/);
    for (const run of [...args(build, 'RUN'), ...args(runtime, 'RUN')].filter((r) => /apt-get install/.test(r))) {
      assert.match(run, /--no-install-recommends/);
      assert.match(run, /rm -rf \/var\/lib\/apt\/lists/);
    }
    assert.doesNotMatch(args(runtime, 'RUN').join(' '), /\b(curl|wget|-dev)\b/);
  });

  // each library the binary links (readelf NEEDED) comes from a Debian
  // package the runtime stage installs (or the slim base's libc6)
  const bin = path.join(root, 'backend/build/release/catalog-backend');
  test('runtime stage installs the package of every library the binary links', {
    skip: !fs.existsSync(bin) && 'no release build (make build)',
  }, () => {
    const installed = args(runtime, 'RUN').join(' ').split(/\s+/);
    const elf = run('readelf', ['-d', bin]);
    assert.equal(elf.status, 0, out(elf));
    const needed = [...elf.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
    assert.ok(needed.includes('libmongoc-1.0.so.0'), needed.join(' '));
    for (const lib of needed) {
      const q = run('dpkg', ['-S', `*/${lib}`]);
      assert.equal(q.status, 0, `${lib}: ${out(q)}`);
      const pkgs = new Set(q.stdout.trim().split('\n').map((l) => l.split(':')[0].trim()));
      if (pkgs.has('libc6')) continue; // part of debian:bookworm-slim
      assert.ok([...pkgs].some((p) => installed.includes(p)), `${lib} (${[...pkgs]}) is not installed by the runtime stage`);
    }
  });

  test('the bench targets are optional, so backend/ alone configures', () => {
    assert.match(read('backend/CMakeLists.txt'), /if\(EXISTS \$\{CMAKE_CURRENT_SOURCE_DIR\}\/\.\.\/bench\/ceiling\.c\)/);
    const copies = args(build, 'COPY');
    for (const p of ['CMakeLists.txt', 'src/', 'tests/unit/']) assert.ok(copies.some((c) => c.startsWith(p)), p);
  });
});

describe('nginx image', () => {
  const [stage] = dockerfile('nginx/Dockerfile');
  const imageEnv = dockerEnv(stage);
  const args = (cmd) => stage.filter((i) => i.cmd === cmd).map((i) => i.args);

  test('nginx 1.22 on Alpine; templates, prod templates and the dashboard copied; default.conf removed', () => {
    assert.match(stage[0].args, /^nginx:1\.22(\.\d+)?-alpine$/);
    const copies = args('COPY');
    assert.ok(copies.includes('nginx/templates/ /etc/nginx/templates/'));
    assert.ok(copies.includes('nginx/templates-prod/ /etc/nginx/templates-prod/'));
    assert.ok(copies.includes('frontend/ /usr/share/nginx/html/'));
    assert.match(args('RUN').join(' '), /rm -f \/etc\/nginx\/conf\.d\/default\.conf/);
    assert.match(args('HEALTHCHECK')[0], /wget .*\/nginx-health/);
    assert.ok(fs.existsSync(path.join(root, 'nginx/templates-prod/default.conf.template')));
  });

  // What the image's entrypoint does at start: envsubst of every template of
  // NGINX_ENVSUBST_TEMPLATE_DIR with the variables defined in the container
  // (image ENV + compose environment) into /etc/nginx/conf.d. The prod
  // directory is the shared templates with templates-prod/ laid over them.
  function containerRendering(file) {
    const env = { ...imageEnv, ...config(file).services.nginx.environment };
    const prod = env.NGINX_ENVSUBST_TEMPLATE_DIR === '/etc/nginx/templates-prod';
    const templates = new Map();
    for (const dir of prod ? ['nginx/templates', 'nginx/templates-prod'] : ['nginx/templates']) {
      for (const f of fs.readdirSync(path.join(root, dir)).filter((x) => x.endsWith('.template'))) {
        templates.set(f, read(path.join(dir, f)));
      }
    }
    return { env, templates };
  }

  test('every variable the templates use is defined in the container (else nginx gets a literal ${VAR})', () => {
    for (const file of [DEV, PROD]) {
      const { env, templates } = containerRendering(file);
      for (const [name, text] of templates) {
        for (const m of text.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)) {
          assert.ok(m[1] in env && String(env[m[1]]) !== '', `${file}: ${name} uses \${${m[1]}}, not set in the container`);
        }
      }
    }
  });

  const canT = have('nginx') && have('envsubst') && have('openssl');
  test('nginx -t on the container rendering, dev and prod', { skip: !canT && 'needs nginx, envsubst, openssl' }, () => {
    const certs = path.join(tmp, 'certs');
    fs.mkdirSync(certs, { recursive: true });
    const cert = run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', path.join(certs, 'privkey.pem'), '-out', path.join(certs, 'fullchain.pem')]);
    assert.equal(cert.status, 0, out(cert));
    // compose service names resolve here only in a private mount namespace
    // with its own /etc/hosts (root); otherwise they are pointed at 127.0.0.1
    const isolate = canIsolateHosts;
    for (const file of [DEV, PROD]) {
      const { env, templates } = containerRendering(file);
      const dir = fs.mkdtempSync(path.join(tmp, 'nginx-'));
      const confd = path.join(dir, 'conf.d');
      fs.mkdirSync(confd);
      // container paths → this machine's (the values under test stay as they are)
      Object.assign(env, {
        NGINX_CONF_DIR: confd, FRONTEND_ROOT: path.join(root, 'frontend'),
        TLS_CERT: path.join(certs, 'fullchain.pem'), TLS_KEY: path.join(certs, 'privkey.pem'),
      });
      if (!isolate) env.BACKEND_SERVERS = env.BACKEND_SERVERS.replace(/\bbackend:/g, '127.0.0.1:');
      const defined = Object.keys(env).map((n) => `\${${n}}`).join(' ');
      for (const [name, text] of templates) {
        const r = run('envsubst', [defined], { input: text, env: { PATH: process.env.PATH, ...env } });
        assert.equal(r.status, 0, out(r));
        fs.writeFileSync(path.join(confd, name.replace(/\.template$/, '')), r.stdout);
      }
      // the image's nginx.conf, reduced to what matters for the test
      fs.writeFileSync(path.join(dir, 'nginx.conf'), `pid ${dir}/nginx.pid;\nevents {}\nhttp {\n`
        + '    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n'
        + `    include ${confd}/*.conf;\n}\n`);
      const cmd = `nginx -t -p ${dir} -c ${dir}/nginx.conf -e ${dir}/error.log`;
      // ACCESS_LOG is /dev/stdout: a file here (node's stdio pipes are
      // sockets, which cannot be reopened through /dev/stdout)
      const stdout = fs.openSync(path.join(dir, 'stdout'), 'w');
      const opts = { stdio: ['ignore', stdout, 'pipe'] };
      let r;
      if (isolate) {
        fs.writeFileSync(path.join(dir, 'hosts'), '127.0.0.1 localhost backend\n');
        r = run('unshare', ['-m', 'sh', '-c', `mount --bind ${dir}/hosts /etc/hosts && ${cmd}`], opts);
      } else {
        r = run('sh', ['-c', cmd], opts);
      }
      fs.closeSync(stdout);
      assert.equal(r.status, 0, `${file}: ${out(r)}`);
      assert.match(r.stderr, /test is successful/, file);
    }
  });
});
