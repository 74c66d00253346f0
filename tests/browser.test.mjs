// The static dashboard (frontend/) in a real browser: Debian's Chromium
// driven by playwright-core, against the real stack behind nginx (so the
// production CSP applies). Catalogue, URL state and history, detail dialog,
// empty/slow/error states, status panel (also with Redis down), keyboard
// use, responsive screenshots, and no console errors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { CHROMIUM, collectErrors, haveChromium, launch, pngColors, takeUnexpected } from './lib/browser.mjs';
import { root, sleep, startStack } from './lib/stack.mjs';

const artifacts = path.join(root, 'tests/artifacts');

let s;
let N;
let browser;
let context;
let page;
let errors = [];
// console errors the running test causes on purpose: predicates over { text, url }
const expected = [];

// Records every fetch (start/end) and every show/hide of the spinner, in the
// page's own clock, so timing is judged where it happens.
function instrument() {
  window.__fetches = [];
  const orig = window.fetch;
  window.fetch = function fetch(input, init) {
    const rec = { url: String(input), start: performance.now(), end: null };
    window.__fetches.push(rec);
    const p = orig.call(this, input, init);
    p.then(() => { rec.end = performance.now(); }, () => { rec.end = performance.now(); });
    return p;
  };
  window.__spinner = [];
  document.addEventListener('DOMContentLoaded', () => {
    const sp = document.getElementById('spinner');
    new MutationObserver(() => window.__spinner.push({ shown: !sp.hidden, t: performance.now() }))
      .observe(sp, { attributes: true, attributeFilter: ['hidden'] });
  });
}

before(async () => {
  assert.ok(haveChromium(), `${CHROMIUM} is missing: scripts/deps.sh test installs Debian's chromium`);
  fs.mkdirSync(artifacts, { recursive: true });
  s = await startStack();
  N = (await s.startNginx()).url;
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
  await context.addInitScript(instrument);
  page = await context.newPage();
  page.setDefaultTimeout(15000);
  errors = collectErrors(page);
});

after(async () => {
  if (browser) await browser.close();
  if (s) await s.stop();
});

afterEach(() => {
  assert.deepEqual(takeUnexpected(errors, expected), [], 'console errors');
});

// --- helpers -------------------------------------------------------------------

const api = async (p) => (await fetch(N + p)).json();
const search = () => page.evaluate(() => location.search);
const ids = () => page.$$eval('#grid .card', (els) => els.map((e) => e.dataset.id));
const prices = () => page.$$eval('#grid .card', (els) => els.map((e) => Number(e.dataset.price)));
const text = (sel) => page.locator(sel).innerText();

// the list is loaded (not busy) and the URL's query is q (exact)
async function settledAt(q) {
  await page.waitForFunction((want) => location.search === want
    && document.getElementById('results').getAttribute('aria-busy') === 'false', q);
}

async function open(p, q = p.replace(/^\//, '')) {
  await page.goto(N + p);
  await settledAt(q.startsWith('?') || q === '' ? q : `?${q}`);
}

// --- tests -------------------------------------------------------------------------

describe('dashboard', () => {
  test('frontend is small: under 100 KB before product images, no inline style/script', () => {
    let total = 0;
    // what the dashboard loads; the generated reference pages (docs/, problems/) are read on their own
    const skip = ['images', 'docs', 'problems'].map((d) => path.join(root, 'frontend', d));
    const walk = (dir) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) { if (!skip.includes(p)) walk(p); } else total += fs.statSync(p).size;
      }
    };
    walk(path.join(root, 'frontend'));
    assert.ok(total < 100 * 1024, `${total} bytes`);
    for (const f of fs.readdirSync(path.join(root, 'frontend/js')).map((n) => `js/${n}`).concat(['app.js'])) {
      const src = fs.readFileSync(path.join(root, 'frontend', f), 'utf8');
      assert.doesNotMatch(src, /innerHTML|\.style\.|setAttribute\('style'|eval\(|new Function/, f);
    }
  });

  test('the page loads products, the total count, categories with counts and stock badges', async () => {
    await open('/', '');
    const want = await api('/api/products?limit=20');
    assert.deepEqual(await ids(), want.products.map((p) => p.id));
    assert.match(await text('#count'), new RegExp(`^${want.count} products · showing 1–20$`));
    const first = page.locator('#grid .card').first();
    assert.equal(await first.locator('img').getAttribute('alt'), want.products[0].name);
    const fmt = new Intl.NumberFormat('en-US', { style: 'currency', currency: want.products[0].currency });
    assert.equal(await first.locator('.card-price').innerText(), fmt.format(want.products[0].price));
    // badges follow the stock: in (> 5), low (1–5), out (0); checked over the whole catalogue
    const all = [];
    for (let off = 0; off < want.count; off += 100) all.push(...(await api(`/api/products?limit=100&offset=${off}`)).products);
    const level = (n) => (n === 0 ? 'out' : n <= 5 ? 'low' : 'in');
    assert.ok(all.some((p) => p.stock === 0) && all.some((p) => p.stock > 0 && p.stock <= 5), 'seed has out and low stock');
    await open('/?sort=name&size=100', 'sort=name&size=100');
    const badges = await page.$$eval('#grid .card', (els) => els.map((e) => [e.dataset.id, e.querySelector('.badge').className, e.querySelector('.badge').textContent]));
    const byId = new Map(all.map((p) => [p.id, p]));
    for (const [id, cls, label] of badges) {
      const p = byId.get(id);
      assert.equal(cls, `badge badge-${level(p.stock)}`, `${p.name}: stock ${p.stock}`);
      if (level(p.stock) === 'low') assert.equal(label, `Low stock: ${p.stock} left`);
      if (level(p.stock) === 'out') assert.equal(label, 'Out of stock');
    }
    const cats = (await api('/api/categories')).categories;
    const options = await page.$$eval('#category option', (els) => els.map((o) => [o.value, o.textContent]));
    assert.deepEqual(options, [['', 'All categories'], ...cats.map((c) => [c.slug, `${c.name} (${c.count})`])]);
  });

  test('status panel: backend, Redis and MongoDB up with response times; rate, latency, hit ratio, chart', async () => {
    await open('/', '');
    await page.waitForSelector('#status-redis[data-level="ok"]');
    assert.match(await text('#status-redis dd'), /^OK Up, answered in \d+(\.\d+)? ms$/);
    assert.match(await text('#status-mongodb dd'), /^OK Up, answered in \d+(\.\d+)? ms$/);
    assert.match(await text('#status-backend dd'), /Up and ready/);
    assert.match(await text('#status-summary'), /All systems up/);
    assert.match(await text('#status-hit-ratio dd'), /(%|No cache lookups yet)/);
    assert.match(await text('#status-hit-ratio dd'), /[\d,]+ hits \([\d,]+ from memory, [\d,]+ from Redis\)/);
    assert.match(await text('#status-local dd'), /^([\d,]+ entries, \d+\.\d MB of 4\.0 MB|Paused, waiting for Redis) – [\d,]+ evicted to make room, emptied [\d,]+ times/);
    // the deployment's figures: every backend process that reported in the last 3 s
    await page.waitForSelector('#status-backends[data-level="ok"]');
    assert.match(await text('#status-backends dd'), /^OK 1 of 1 answering – the figures below are theirs together\.$/);
    // a second backend reports within a second of starting: "2 of 2" at the next poll
    await s.startBackend();
    await sleep(1500);
    await page.click('#status-refresh');
    await page.waitForFunction(() => /2 of 2 answering/.test(document.querySelector('#status-backends dd').textContent));
    await s.backends[1].proc.stop();
    // a second sample gives the rate and latency (the panel also polls every 5 s)
    await sleep(600);
    await page.click('#status-refresh');
    // read both rows in the poll that showed a rate: the next one may start over
    // (the second backend's counters left the deployment's sum when it stopped)
    const shown = await (await page.waitForFunction(() => {
      const rate = document.querySelector('#status-rate dd').innerText;
      return /requests\/s/.test(rate) && { rate, latency: document.querySelector('#status-latency dd').innerText };
    })).jsonValue();
    assert.match(shown.rate.trim(), /^\d+(\.\d)? requests\/s/);
    assert.match(shown.latency.trim(), /^(\d+(\.\d+)? ms|No requests)/);
    const points = await page.getAttribute('#chart-rate polyline', 'points');
    assert.ok(points.split(' ').length >= 2, points);
    assert.match(await page.textContent('#chart-rate desc'), /^Latest \d/);
  });

  test('search is debounced (~300 ms), filters the products and puts q in the URL', async () => {
    await open('/', '');
    await page.evaluate(() => { window.__fetches.length = 0; });
    await page.click('#q');
    await page.keyboard.type('watering', { delay: 40 });
    await settledAt('?q=watering');
    const want = await api('/api/products?q=watering&limit=20');
    assert.ok(want.count > 0);
    assert.deepEqual(await ids(), want.products.map((p) => p.id));
    assert.match(await text('#count'), new RegExp(`^${want.count} products?`));
    const lists = await page.evaluate(() => window.__fetches.filter((f) => f.url.startsWith('/api/products?')).map((f) => f.url));
    // 8 keystrokes 40 ms apart: one request, a stalled runner may make one more; never one per key
    assert.ok(lists.length >= 1 && lists.length <= 3, lists.join('\n'));
    assert.match(lists.at(-1), /[?&]q=watering(&|$)/);
    assert.equal(await page.title(), '“watering” – Product catalog');
  });

  test('category filter', async () => {
    await open('/', '');
    await page.selectOption('#category', 'books');
    await settledAt('?category=books');
    const cats = (await api('/api/categories')).categories;
    const books = cats.find((c) => c.slug === 'books');
    assert.match(await text('#count'), new RegExp(`^${books.count} products`));
    const shown = await page.$$eval('#grid .card-category', (els) => [...new Set(els.map((e) => e.textContent))]);
    assert.deepEqual(shown, [books.name]);
  });

  test('price range, in-stock toggle and page size', async () => {
    await open('/', '');
    await page.fill('#min_price', '10');
    await page.fill('#max_price', '20.50');
    await page.press('#max_price', 'Enter');
    await settledAt('?min_price=10&max_price=20.50');
    const ps = await prices();
    assert.ok(ps.length > 0 && ps.every((p) => p >= 10 && p <= 20.5), ps.join(' '));
    await page.check('#in_stock');
    await settledAt('?min_price=10&max_price=20.50&in_stock=true');
    assert.equal(await page.locator('#grid .badge-out').count(), 0);
    const want = await api('/api/products?min_price=10&max_price=20.50&in_stock=true&limit=50');
    await page.selectOption('#size', '50');
    await settledAt('?min_price=10&max_price=20.50&in_stock=true&size=50');
    assert.deepEqual(await ids(), want.products.map((p) => p.id));
    // a malformed price is refused in place, not sent
    await page.fill('#min_price', '1.234');
    await page.press('#min_price', 'Tab');
    assert.equal(await page.getAttribute('#min_price', 'aria-invalid'), 'true');
    assert.match(await text('#price-error'), /at most two decimals/);
    assert.equal(await search(), '?min_price=10&max_price=20.50&in_stock=true&size=50');
    await page.click('#clear-filters');
    await settledAt('?size=50');
  });

  test('sort by price ascending, pagination, back and forward', async () => {
    await open('/', '');
    const newest = await ids();
    await page.selectOption('#sort', 'price');
    await settledAt('?sort=price');
    const p1 = await prices();
    assert.equal(p1.length, 20);
    for (let i = 1; i < p1.length; i++) assert.ok(p1[i] >= p1[i - 1], `prices not ascending: ${p1.join(' ')}`);
    const page1 = await ids();
    await page.click('#pagination a.page-next');
    await settledAt('?sort=price&page=2');
    const page2 = await ids();
    assert.equal(page2.length, 20);
    assert.equal(page2.filter((id) => page1.includes(id)).length, 0, 'page 2 repeats page 1');
    const p2 = await prices();
    assert.ok(p2[0] >= p1.at(-1));
    assert.match(await text('#count'), /showing 21–40$/);
    assert.equal(await page.getAttribute('#pagination [aria-current="page"]', 'aria-label'), 'Page 2');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'results-heading', 'focus moves to the new page');
    // page numbers
    await page.click('#pagination a[aria-label="Page 3"]');
    await settledAt('?sort=price&page=3');
    // back: page 2, page 1 (price order), newest; forward again
    await page.goBack();
    await settledAt('?sort=price&page=2');
    assert.deepEqual(await ids(), page2);
    await page.goBack();
    await settledAt('?sort=price');
    assert.deepEqual(await ids(), page1);
    assert.equal(await page.inputValue('#sort'), 'price');
    await page.goBack();
    await settledAt('');
    assert.deepEqual(await ids(), newest);
    assert.equal(await page.inputValue('#sort'), 'newest');
    await page.goForward();
    await settledAt('?sort=price');
    assert.deepEqual(await ids(), page1);
    // a shared link reopens the same view
    const other = await context.newPage();
    await other.goto(`${N}/?sort=price&page=2`);
    await other.waitForFunction(() => document.getElementById('results').getAttribute('aria-busy') === 'false'
      && document.querySelectorAll('#grid .card').length > 0);
    assert.deepEqual(await other.$$eval('#grid .card', (els) => els.map((e) => e.dataset.id)), page2);
    await other.close();
  });

  test('product detail dialog: every field; Escape, Close and back close it; focus returns', async () => {
    await open('/', '');
    const card = page.locator('#grid .card').nth(1);
    const id = await card.getAttribute('data-id');
    const p = await api(`/api/products/${id}`);
    await card.locator('.card-open').click();
    await page.waitForSelector('#detail[open]');
    assert.equal(await search(), `?product=${id}`);
    assert.equal(await text('#detail-title'), p.name);
    const fields = Object.fromEntries(await page.$$eval('#detail .field-row', (rows) => rows.map((r) => [r.querySelector('dt').textContent, r.querySelector('dd').textContent])));
    assert.equal(fields.Name, p.name);
    assert.equal(fields['Product ID'], p.id);
    assert.equal(fields.Currency, p.currency);
    assert.ok(fields.Price.includes(`(${p.price})`), fields.Price);
    assert.ok(fields.Category.includes(`(${p.category})`), fields.Category);
    assert.ok(fields.Stock.startsWith(String(p.stock)), fields.Stock);
    assert.equal(fields.Image, p.image);
    assert.equal(fields.Version, String(p.version));
    assert.equal(await page.getAttribute('#detail .field-row:has(dt:text-is("Created")) time', 'datetime'), p.created_at);
    assert.equal(await page.getAttribute('#detail .field-row:has(dt:text-is("Updated")) time', 'datetime'), p.updated_at);
    assert.equal(await text('#detail .detail-desc'), p.description);
    assert.equal(await page.getAttribute('#detail .detail-img', 'alt'), p.name);
    // Escape closes it; focus goes back to the card that opened it
    await page.keyboard.press('Escape');
    await page.waitForSelector('#detail:not([open])', { state: 'attached' });
    await page.waitForFunction(() => location.search === '');
    assert.equal(await page.evaluate(() => document.activeElement.closest('.card')?.dataset.id), id);
    // keyboard: Enter opens, the Close button closes
    await page.keyboard.press('Enter');
    await page.waitForSelector('#detail[open]');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'detail-close');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#detail:not([open])', { state: 'attached' });
    assert.equal(await page.evaluate(() => document.activeElement.closest('.card')?.dataset.id), id);
    await page.waitForFunction(() => location.search === '');
    // the back button closes it too; forward reopens
    await card.locator('.card-open').click();
    await page.waitForSelector('#detail[open]');
    await page.goBack();
    await page.waitForSelector('#detail:not([open])', { state: 'attached' });
    assert.equal(await search(), '');
    await page.goForward();
    await page.waitForSelector('#detail[open]');
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => location.search === '');
    // a shared link to a product opens it
    await page.goto(`${N}/?product=${id}`);
    await page.waitForSelector('#detail[open] .field-row');
    assert.equal(await text('#detail-title'), p.name);
    await page.click('#detail-close');
    await page.waitForFunction(() => location.search === '');
    assert.equal(await page.evaluate(() => document.activeElement.closest('.card')?.dataset.id), id);
  });

  test('empty results: a message and a way back', async () => {
    await open('/?q=zzqx-no-such-thing', 'q=zzqx-no-such-thing');
    assert.equal(await page.locator('#grid .card').count(), 0);
    assert.equal(await text('#count'), 'No products found');
    assert.match(await text('#message'), /No products found\s+Nothing matches “zzqx-no-such-thing”/);
    assert.equal(await page.isHidden('#pagination'), true);
    await page.click('#message button:text("Clear all filters")');
    await settledAt('');
    assert.equal(await page.locator('#grid .card').count(), 20);
    assert.equal(await page.inputValue('#q'), '');
  });

  test('slow API: the spinner shows only after ~150 ms, and goes away with the answer', async () => {
    await open('/', '');
    const slow = /\/api\/products\?.*q=lamp/;
    await page.route(slow, async (route) => {
      await sleep(1500);
      await route.continue().catch(() => {});
    });
    await page.evaluate(() => { window.__fetches.length = 0; window.__spinner.length = 0; });
    await page.fill('#q', 'lamp');
    await page.waitForSelector('#spinner:not([hidden])');
    assert.equal(await text('#spinner'), 'Loading products…');
    assert.equal(await page.getAttribute('#results', 'aria-busy'), 'true');
    await settledAt('?q=lamp');
    await page.unroute(slow);
    assert.equal(await page.isHidden('#spinner'), true);
    const { fetches, marks } = await page.evaluate(() => ({ fetches: window.__fetches, marks: window.__spinner }));
    const req = fetches.find((f) => f.url.includes('q=lamp'));
    const shown = marks.find((m) => m.shown);
    const hidden = marks.findLast((m) => !m.shown);
    // never before 150 ms (a timer never fires early; 5 ms for clock rounding)
    assert.ok(shown.t - req.start >= 145, `spinner after ${shown.t - req.start} ms`);
    assert.ok(shown.t < req.end, 'spinner shown while waiting');
    assert.ok(hidden.t >= req.end, 'hidden after the answer');
    // a fast answer never shows it
    await page.evaluate(() => { window.__fetches.length = 0; window.__spinner.length = 0; });
    await page.goBack();
    await settledAt('');
    const fast = await page.evaluate(() => ({ f: window.__fetches.find((x) => x.url.startsWith('/api/products?')), marks: window.__spinner }));
    if (fast.f.end - fast.f.start < 100) assert.deepEqual(fast.marks.filter((m) => m.shown), [], 'spinner on a fast answer');
  });

  test('keyboard: focus order, visible focus, labels and alt text', async () => {
    await open('/', '');
    await page.waitForSelector('#status-summary[data-level="ok"]');
    await page.evaluate(() => document.activeElement.blur());
    const order = [];
    const outlines = [];
    for (let i = 0; i < 13; i++) {
      await page.keyboard.press('Tab');
      const [name, outline] = await page.evaluate(() => {
        const el = document.activeElement;
        const ring = el.classList.contains('card-open') ? el.closest('.card') : el;
        const cs = getComputedStyle(ring);
        return [el.id || el.className || el.tagName, cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2];
      });
      order.push(name);
      outlines.push(outline);
    }
    assert.deepEqual(order, ['skip-link', 'status-summary', 'signin-open', 'q', 'category', 'min_price', 'max_price', 'in_stock',
      'apply', 'clear-filters', 'sort', 'size', 'card-open']);
    assert.deepEqual(outlines, order.map(() => true), `no visible focus on ${order.filter((_, i) => !outlines[i])}`);
    // every control is labelled, every image has alt text
    const unlabeled = await page.$$eval('input, select, button, a[href]', (els) => els
      .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
      .map((e) => e.outerHTML));
    assert.deepEqual(unlabeled, []);
    const noAlt = await page.$$eval('img', (els) => els.filter((e) => !e.alt).map((e) => e.outerHTML));
    assert.deepEqual(noAlt, []);
    // keyboard pagination: the Next link with Enter
    await page.focus('#pagination a.page-next');
    await page.keyboard.press('Enter');
    await settledAt('?page=2');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'results-heading');
  });

  test('responsive from 375 px to wide; screenshots are not blank', async () => {
    for (const width of [1280, 375, 1920]) {
      await page.setViewportSize({ width, height: 900 });
      await open('/', '');
      await page.waitForSelector('#status-redis[data-level="ok"]');
      await page.waitForFunction(() => [...document.querySelectorAll('#grid img')].slice(0, 4).every((i) => i.complete && i.naturalWidth > 0));
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.equal(overflow, 0, `horizontal scroll at ${width} px`);
      if (width === 1920) continue;
      const file = path.join(artifacts, `dashboard-${width}.png`);
      await page.screenshot({ path: file, fullPage: true });
      const size = fs.statSync(file).size;
      assert.ok(size > 10 * 1024, `${file}: ${size} bytes`);
      const png = pngColors(file);
      assert.equal(png.width, width);
      assert.ok(png.colors > 50, `${file}: only ${png.colors} colours`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('an API error is shown in plain words (problem+json title and detail) with Retry', async () => {
    // page 999999 of 20 is past the API's largest offset: a 400 problem
    expected.push((e) => /status of 400/.test(e.text) && /offset=19999960/.test(e.url));
    await open('/?page=999999', 'page=999999');
    const box = page.locator('#message .message-error[role="alert"]');
    await box.waitFor();
    assert.equal(await box.locator('.problem-title').innerText(), 'Bad Request');
    assert.match(await box.locator('.problem-detail').innerText(), /^Parameter 'offset' must be .+\.$/);
    assert.match(await box.innerText(), /HTTP 400 · request id [0-9a-f]{32}/);
    assert.equal(await page.locator('#grid .card').count(), 0);
    await box.locator('button:text("Retry")').click();
    await settledAt('?page=999999');
    await box.waitFor();
    await page.click('#message button:text("Reset the view")');
    await settledAt('');
    assert.equal(await page.locator('#grid .card').count(), 20);
    assert.equal(await page.locator('#message .message-error').count(), 0);
  });

  test('status panel: MongoDB down (503 from /health/ready) is shown in plain words', async () => {
    await open('/', '');
    await page.waitForSelector('#status-mongodb[data-level="ok"]');
    // the browser logs the 503 of /health/ready (and of any uncached read)
    expected.push((e) => /status of 503/.test(e.text));
    s.mongo.signal('SIGSTOP');
    try {
      await page.waitForSelector('#status-mongodb[data-level="fail"]', { timeout: 20000 });
      assert.match(await text('#status-mongodb dd'), /^Problem Down.*Only products already in the cache can be shown/s);
      assert.match(await text('#status-backend dd'), /Up, not ready – MongoDB is down \(HTTP 503\)/);
      assert.equal(await page.getAttribute('#status-redis', 'data-level'), 'ok');
      assert.match(await text('#status-summary'), /Outage: MongoDB is down/);
    } finally {
      s.mongo.signal('SIGCONT');
    }
    await page.click('#status-refresh');
    await page.waitForSelector('#status-mongodb[data-level="ok"]', { timeout: 20000 });
    assert.match(await text('#status-summary'), /All systems up/);
  });

  test('status panel where diagnostics are not public (403): said once, not polled', async () => {
    // prod nginx answers 403 for /health/ready and /api/stats outside private networks
    const closed = await s.startNginx({ DIAGNOSTICS_ALLOW: 'deny all;' });
    const other = await context.newPage();
    const otherErrors = collectErrors(other);
    await other.goto(`${closed.url}/`);
    await other.waitForSelector('#status-backend[data-level="unknown"] .status-extra');
    assert.match(await other.innerText('#status-backend dd'), /Diagnostics are not available from this network \(Forbidden: this resource is not public\)/);
    assert.match(await other.innerText('#status-summary'), /Status not available/);
    assert.match(await other.innerText('#status-updated'), /not refreshed automatically/);
    await other.waitForSelector('#grid .card');
    await sleep(6000); // longer than the 5 s poll period
    const polls = await other.evaluate(() => window.__fetches.filter((f) => f.url === '/health/ready').length);
    assert.equal(polls, 1);
    await other.close();
    // the only console errors: the two 403s of the single poll
    assert.deepEqual(otherErrors.map((e) => `${e.text} ${new URL(e.url).pathname}`).sort(), [
      'Failed to load resource: the server responded with a status of 403 (Forbidden) /api/stats',
      'Failed to load resource: the server responded with a status of 403 (Forbidden) /health/ready',
    ]);
  });

  test('status panel: Redis down is shown in plain words (and the catalogue still works)', async () => {
    await open('/', '');
    await page.waitForSelector('#status-redis[data-level="ok"]');
    await s.redis.stop();
    // the panel refreshes itself every 5 s
    await page.waitForSelector('#status-redis[data-level="warn"]', { timeout: 20000 });
    assert.match(await text('#status-redis dd'), /^Warning Down.*served from MongoDB without the cache/s);
    assert.match(await text('#status-backend dd'), /Up, degraded – Redis is down/);
    assert.equal(await page.getAttribute('#status-mongodb', 'data-level'), 'ok');
    assert.match(await text('#status-summary'), /Degraded: Redis is down/);
    assert.match(await text('#status-backends dd'), /^Unknown Not known – Redis cannot say; the figures below are one process's\.$/);
    await page.selectOption('#sort', 'name');
    await settledAt('?sort=name');
    assert.equal(await page.locator('#grid .card').count(), 20);
  });

  // last: the backend stays down
  test('backend stopped: the error and a Retry button; the status panel says so', async () => {
    await open('/?sort=name', 'sort=name');
    expected.push((e) => /status of 50[234]/.test(e.text) || /net::ERR_/.test(e.text));
    await s.backend.proc.stop();
    await page.selectOption('#sort', '-price');
    await settledAt('?sort=-price');
    const box = page.locator('#message .message-error');
    await box.waitFor();
    assert.match(await box.innerText(), /The catalogue is not available right now\./);
    assert.equal(await box.locator('.problem-title').innerText(), 'Bad Gateway');
    assert.equal(await box.locator('.problem-detail').innerText(), 'No backend could answer.');
    await box.locator('button:text("Retry")').click();
    await settledAt('?sort=-price');
    await box.waitFor();
    await page.waitForSelector('#status-backend[data-level="fail"]', { timeout: 20000 });
    assert.match(await text('#status-backend dd'), /Not answering \(Bad Gateway: no backend could answer\)/);
    assert.match(await text('#status-summary'), /Backend not answering/);
    assert.match(await text('#status-rate dd'), /Not available/);
  });
});
