// The alert rules of deploy/prometheus/ with Debian's promtool: they pass
// `promtool check rules` and their unit tests (`promtool test rules`), and
// those tests are live: every alert has a case where it must fire and one
// where it must not, so an alert made never to fire, or always to fire,
// fails them. (tests/metrics.test.mjs loads the same rules into a real
// Prometheus; tests/deploy.test.mjs checks the compose configurations.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import YAML from 'yaml';
import { root } from './lib/stack.mjs';

const RULES = path.join(root, 'deploy/prometheus/alerts.yml');
const TESTS = path.join(root, 'deploy/prometheus/tests/alerts.test.yml');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-alerts-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const promtool = (...args) => spawnSync('promtool', args, { encoding: 'utf8', timeout: 60000 });
const out = (r) => `exit ${r.status}\n${r.stdout}${r.stderr}`;
const alerts = () => YAML.parse(fs.readFileSync(RULES, 'utf8')).groups.flatMap((g) => g.rules.filter((r) => r.alert));

test('promtool check rules: the rule file is valid', () => {
  const r = promtool('check', 'rules', RULES);
  assert.equal(r.status, 0, out(r));
  assert.match(r.stdout, new RegExp(`SUCCESS: ${alerts().length} rules found`));
});

test('promtool test rules: every unit test passes', () => {
  const r = promtool('test', 'rules', TESTS);
  assert.equal(r.status, 0, out(r));
  assert.match(r.stdout, /SUCCESS/);
});

test('the alerts the issue asks for are there, each with a severity, a summary and a description', () => {
  const names = alerts().map((a) => a.alert);
  for (const n of ['CatalogBackendsDown', 'CatalogBackendReplicasLost', 'CatalogBackendNotReady', 'CatalogHighErrorRatio',
    'CatalogHighLatencyP99', 'CatalogCacheHitRatioCollapsed', 'CatalogRedisReconnectStorm', 'CatalogStoreQueueSaturated',
    'CatalogLoginLockoutSpike']) {
    assert.ok(names.includes(n), n);
  }
  for (const a of alerts()) {
    assert.ok(['critical', 'warning'].includes(a.labels?.severity), a.alert);
    assert.ok(a.annotations?.summary && a.annotations?.description, a.alert);
  }
  // with DNS discovery a dead replica disappears: "down" is an absence or a count, not up == 0 alone
  assert.match(alerts().find((a) => a.alert === 'CatalogBackendsDown').expr, /absent\(/);
});

test('every alert has a case where it fires and one where it does not: a never- or always-firing copy fails the tests', () => {
  const tests = YAML.parse(fs.readFileSync(TESTS, 'utf8'));
  const cases = tests.tests.flatMap((t) => t.alert_rule_test);
  for (const a of alerts()) {
    const mine = cases.filter((c) => c.alertname === a.alert);
    assert.ok(mine.some((c) => c.exp_alerts.length > 0), `${a.alert}: a case where it fires`);
    assert.ok(mine.some((c) => c.exp_alerts.length === 0), `${a.alert}: a case where it does not`);
    for (const [what, expr, shows] of [['never fires', 'vector(1) == 0', /got:\[\]/], ['always fires', 'vector(1)', /exp:\[\]/]]) {
      const doc = YAML.parse(fs.readFileSync(RULES, 'utf8'));
      for (const g of doc.groups) for (const r of g.rules) if (r.alert === a.alert) r.expr = expr;
      fs.writeFileSync(path.join(tmp, 'alerts.yml'), YAML.stringify(doc));
      fs.mkdirSync(path.join(tmp, 'tests'), { recursive: true });
      fs.writeFileSync(path.join(tmp, 'tests/alerts.test.yml'), fs.readFileSync(TESTS, 'utf8'));
      const r = promtool('test', 'rules', path.join(tmp, 'tests/alerts.test.yml'));
      assert.notEqual(r.status, 0, `${a.alert} made to ${what}: the tests still pass`);
      assert.match(r.stdout + r.stderr, new RegExp(`alertname: ${a.alert}`), `${a.alert} (${what})`);
      assert.match(r.stdout + r.stderr, shows, `${a.alert} (${what})`);
    }
  }
});
