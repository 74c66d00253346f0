// The live dashboard (issue 14) in headless Chromium through nginx: two
// pages follow the change feed. An edit saved in one shows in the other
// within 2 s, in place, without a reload; the admin's own page updates its
// card once; a delete removes a card; a create shows "N new products —
// Show" instead of moving the list; an out-of-order pair of events (versions
// 5 then 4) leaves version 5 on screen; the status panel shows the feed
// reconnecting while the backend restarts and connected after; the bar and
// the panel fit at 375 px.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { CHROMIUM, collectErrors, haveChromium, launch, pngColors, takeUnexpected } from './lib/browser.mjs';
import { get, login, root, send, startStack, TEST_ADMIN, until } from './lib/stack.mjs';

const artifacts = path.join(root, 'tests/artifacts');

let s;
let N;
let browser;
let token;
const pages = {}; // admin (signed in, edits) and shop (another visitor)
const errors = {};
const expected = [];
const listReads = { admin: 0, shop: 0 }; // GET /api/products?… (list) requests of each page

before(async () => {
  assert.ok(haveChromium(), `${CHROMIUM} is missing: scripts/deps.sh test installs Debian's chromium`);
  fs.mkdirSync(artifacts, { recursive: true });
  s = await startStack({ nginx: true });
  N = s.nginxUrl;
  token = await login(s.backend.url);
  browser = await launch();
  for (const name of ['admin', 'shop']) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    errors[name] = collectErrors(page);
    page.on('request', (r) => { if (r.method() === 'GET' && /\/api\/products\?/.test(r.url())) listReads[name]++; });
    pages[name] = page;
  }
});

after(async () => {
  if (browser) await browser.close();
  if (s) await s.stop();
});

afterEach(() => {
  for (const name of Object.keys(pages)) assert.deepEqual(takeUnexpected(errors[name], [...expected]), [], `${name}: console errors`);
  expected.length = 0;
});

const cardOf = (page, id) => page.locator(`#grid .card[data-id="${id}"]`);
const attr = (page, id, name) => cardOf(page, id).getAttribute(name);

async function openHome(page) {
  await page.goto(`${N}/`);
  await page.waitForFunction(() => document.getElementById('results').getAttribute('aria-busy') === 'false'
    && document.querySelectorAll('#grid .card').length > 0);
  await page.waitForSelector('#status-feed[data-level="ok"]');
}

async function signIn(page) {
  await page.click('#signin-open');
  await page.fill('#signin-user', TEST_ADMIN.username);
  await page.fill('#signin-password', TEST_ADMIN.password);
  await page.click('#signin-submit');
  await page.waitForSelector('#admin-signed-in:not([hidden])');
}

const firstIds = (page, n) => page.$$eval('#grid .card', (cards, k) => cards.slice(0, k).map((c) => c.dataset.id), n);
const api = (p) => send('GET', `${N}${p}`).then((r) => r.body);

describe('the dashboard follows the change feed', () => {
  before(async () => {
    await openHome(pages.admin);
    await signIn(pages.admin);
    await openHome(pages.shop);
  });

  test('an edit saved in one page shows in the other within 2 s, in place and highlighted, without a reload; the editor\'s own card is updated once', async () => {
    const { admin, shop } = pages;
    const [id] = await firstIds(admin, 1);
    assert.deepEqual(await firstIds(shop, 1), [id], 'both pages show the same first product');
    const p = await api(`/api/products/${id}`);
    await shop.evaluate(() => { window.notReloaded = true; });
    const reads = { ...listReads };
    await cardOf(admin, id).locator('.card-edit').click();
    await admin.waitForSelector('#editor[open] #editor-fields:not([disabled])');
    const price = (Number(p.price) + 1.25).toFixed(2);
    await admin.fill('#f-price', price);
    const saved = admin.waitForResponse((r) => r.request().method() === 'PATCH');
    await admin.click('#editor-save');
    assert.equal((await saved).status(), 200);
    const t0 = Date.now();
    await shop.waitForFunction(([i, v]) => document.querySelector(`#grid .card[data-id="${i}"]`)?.dataset.version === String(v),
      [id, p.version + 1], { timeout: 2000 });
    const took = Date.now() - t0;
    assert.match(await cardOf(shop, id).locator('.card-price').innerText(), new RegExp(price.replace('.', '\\.')));
    assert.equal(await attr(shop, id, 'data-updates'), '1');
    assert.equal(await shop.evaluate(() => window.notReloaded), true, 'no reload');
    assert.deepEqual(await firstIds(shop, 1), [id], 'the card stayed where it was');
    // the admin's own page: its event arrived too (the panel says so), and changed nothing again
    await admin.waitForFunction(() => /product\.updated/.test(document.querySelector('#status-feed dd').textContent));
    await admin.waitForTimeout(500);
    assert.equal(await attr(admin, id, 'data-version'), String(p.version + 1));
    assert.equal(await attr(admin, id, 'data-updates'), '1', 'updated once: from the answer, not again from the event');
    assert.deepEqual(listReads, reads, 'no list was read again on either page');
    process.stderr.write(`# an edit reached the other page ${took} ms after its 200\n`);
  });

  test('a delete elsewhere removes the card; a create shows "1 new product — Show" instead of moving the list, and Show loads it', async () => {
    const { shop } = pages;
    const [first, victim] = await firstIds(shop, 2);
    const count0 = await shop.innerText('#count');
    assert.equal((await send('DELETE', `${N}/api/products/${victim}`, undefined, token)).status, 204);
    await shop.waitForSelector(`#grid .card[data-id="${victim}"]`, { state: 'detached', timeout: 2000 });
    const n0 = Number(/^([\d,]+)/.exec(count0)[1].replace(/,/g, ''));
    assert.match(await shop.innerText('#count'), new RegExp(`^${(n0 - 1).toLocaleString('en-US')} products`));

    const created = await send('POST', `${N}/api/products`, { name: 'Live feed kettle', price: 19.5, category: 'home-kitchen' }, token);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await shop.waitForSelector('#new-bar:not([hidden])', { timeout: 2000 });
    assert.match(await shop.innerText('#new-bar'), /^1 new product —\s+Show$/);
    assert.deepEqual(await firstIds(shop, 1), [first], 'the list did not move');
    await shop.click('#new-bar-show');
    await shop.waitForSelector(`#grid .card[data-id="${created.body.id}"]`);
    assert.deepEqual(await firstIds(shop, 1), [created.body.id], 'newest first');
    assert.equal(await shop.isHidden('#new-bar'), true);
  });

  test('an out-of-order pair (versions 5 then 4) leaves version 5 on screen', async () => {
    const { shop } = pages;
    const [id] = await firstIds(shop, 1);
    let v = (await api(`/api/products/${id}`)).version;
    while (v < 5) v = (await send('PATCH', `${N}/api/products/${id}`, { stock: 40 + v }, token)).body.version;
    assert.equal(v, 5);
    await shop.waitForFunction((i) => document.querySelector(`#grid .card[data-id="${i}"]`)?.dataset.version === '5', id);
    const name5 = await cardOf(shop, id).locator('.card-title').innerText();
    // the store goes back to a version 4 behind the page's back, uncached, and
    // an event for version 4 comes after 5 (as another process's late
    // invalidation would append it): a page that applied it would show it
    s.mongosh(`db.products.updateOne({_id: ObjectId('${id}')}, {$set: {name: 'Stale version 4', name_lc: 'stale version 4', version: NumberLong(4)}})`);
    s.redisCli('DEL', `{products}:product:${id}`);
    const events = (await s.stats(s.backend)).feed.reader.events;
    await shop.waitForTimeout(1100); // the status panel's "last change" clock (seconds) moves with the next event
    const seenBefore = await shop.innerText('#status-feed dd');
    s.redisCli('EVAL', `local g = redis.call('INCR', KEYS[1])
      return redis.call('XADD', KEYS[2], '*', 'gen', g, 'id', ARGV[1], 'ev', 'updated', 'v', '4', 'f', 'name', 'ep', redis.call('GET', KEYS[3]), 'at', ARGV[2])`,
    '3', '{products}:gen', '{products}:changes', '{products}:epoch', id, String(Date.now()));
    await until('the reader read the version-4 entry', 5000, async () => (await s.stats(s.backend)).feed.reader.events > events);
    await until('the page had the event', 5000, async () => (await shop.innerText('#status-feed dd')) !== seenBefore);
    await shop.waitForTimeout(1000); // anything the page would read because of it comes within this
    assert.equal(await attr(shop, id, 'data-version'), '5');
    assert.equal(await cardOf(shop, id).locator('.card-title').innerText(), name5);
    // the store back at version 5, as the page shows it
    s.mongosh(`db.products.updateOne({_id: ObjectId('${id}')}, {$set: {name: ${JSON.stringify(name5)}, name_lc: ${JSON.stringify(name5.toLowerCase())}, version: NumberLong(5)}})`);
    s.redisCli('DEL', `{products}:product:${id}`);
  });

  test('the status panel shows the feed reconnecting while the backend restarts, connected after; a change made meanwhile shows', async () => {
    const { shop } = pages;
    // while no backend answers: nginx's 502s (the feed, the status polls), and EventSource's complaint about them
    expected.push((e) => /status of 50[234]/.test(e.text) || /EventSource|text\/event-stream/.test(e.text));
    const [id] = await firstIds(shop, 1);
    const v = Number(await attr(shop, id, 'data-version'));
    const b = s.backend;
    await b.proc.stop();
    await shop.waitForSelector('#status-feed[data-level="warn"]', { timeout: 5000 });
    assert.match(await shop.innerText('#status-feed dd'), /^Warning Reconnecting…/);
    // meanwhile a change lands, as another process would make it: the store,
    // then its invalidation script's stream entry
    s.mongosh(`db.products.updateOne({_id: ObjectId('${id}')}, {$set: {stock: NumberLong(77), version: NumberLong(${v + 1})}})`);
    s.redisCli('EVAL', `redis.call('DEL', KEYS[4])
      local g = redis.call('INCR', KEYS[1])
      return redis.call('XADD', KEYS[2], '*', 'gen', g, 'id', ARGV[1], 'ev', 'updated', 'v', ARGV[2], 'f', 'stock', 'ep', redis.call('GET', KEYS[3]), 'at', ARGV[3])`,
    '4', '{products}:gen', '{products}:changes', '{products}:epoch', `{products}:product:${id}`, id, String(v + 1), String(Date.now()));
    const restarted = await s.startBackend({}, b.port);
    s.backends.splice(s.backends.indexOf(b), 1);
    await shop.waitForSelector('#status-feed[data-level="ok"]', { timeout: 30000 });
    assert.match(await shop.innerText('#status-feed dd'), /^OK Connected/);
    await shop.waitForFunction(([i, ver]) => document.querySelector(`#grid .card[data-id="${i}"]`)?.dataset.version === String(ver),
      [id, v + 1], { timeout: 5000 });
    assert.match(await cardOf(shop, id).innerText(), /In stock/);
    const t = await login(restarted.url);
    const w = await send('PATCH', `${restarted.url}/api/products/${id}`, { stock: 78 }, t);
    assert.equal(w.status, 200);
    await shop.waitForFunction(([i, ver]) => document.querySelector(`#grid .card[data-id="${i}"]`)?.dataset.version === String(ver),
      [id, w.body.version], { timeout: 2000 });
  });

  test('375 px: the new-products bar and the feed\'s status row fit; screenshot', async () => {
    const { shop } = pages;
    await shop.setViewportSize({ width: 375, height: 800 });
    await openHome(shop);
    const created = await send('POST', `${N}/api/products`, { name: 'Narrow screen lamp with a long name', price: 7, category: 'home-kitchen' }, token);
    assert.equal(created.status, 201);
    await shop.waitForSelector('#new-bar:not([hidden])', { timeout: 2000 });
    const fit = await shop.evaluate(() => ({
      page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      bar: document.getElementById('new-bar').getBoundingClientRect().right - window.innerWidth,
      feed: document.getElementById('status-feed').getBoundingClientRect().right - window.innerWidth,
    }));
    assert.ok(fit.page <= 0 && fit.bar <= 0 && fit.feed <= 0, JSON.stringify(fit));
    const file = path.join(artifacts, 'feed-375.png');
    await shop.screenshot({ path: file, fullPage: false });
    const png = pngColors(file);
    assert.equal(png.width, 375);
    assert.ok(png.colors > 50, `${file}: only ${png.colors} colours`);
    await shop.locator('#status-feed').scrollIntoViewIfNeeded();
    await shop.screenshot({ path: path.join(artifacts, 'feed-status-375.png') });
    await shop.setViewportSize({ width: 1280, height: 900 });
  });
});
