// The dashboard's admin half in a real browser (Debian's Chromium via
// playwright-core) against the real stack behind nginx: sign-in and
// sign-out, create, edit (If-Match), a server 422 on its field, a 412
// conflict made behind the page's back, delete with a confirmation, an
// expired token, keyboard use and the editor at 1280 and 375 px. Every
// change is checked in the page's list and against the API.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { CHROMIUM, collectErrors, haveChromium, launch, pngColors, takeUnexpected } from './lib/browser.mjs';
import { login, mintToken, root, startStack, TEST_ADMIN } from './lib/stack.mjs';

const artifacts = path.join(root, 'tests/artifacts');
const SESSION_KEY = 'catalog.session'; // frontend/js/auth.js

let s;
let N;
let browser;
let context;
let page;
let errors = [];
// console errors the running test causes on purpose: predicates over { text, url }
const expected = [];
// the writes the page sent: { method, url, headers, body }
let writes = [];

before(async () => {
  assert.ok(haveChromium(), `${CHROMIUM} is missing: scripts/deps.sh test installs Debian's chromium`);
  fs.mkdirSync(artifacts, { recursive: true });
  s = await startStack({ nginx: true });
  N = s.nginxUrl;
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
  page = await context.newPage();
  page.setDefaultTimeout(15000);
  errors = collectErrors(page);
  page.on('request', (r) => {
    if (r.method() !== 'GET' && r.url().startsWith(`${N}/api/`)) {
      writes.push({ method: r.method(), url: r.url().slice(N.length), headers: r.headers(), body: r.postData() });
    }
  });
});

after(async () => {
  if (browser) await browser.close();
  if (s) await s.stop();
});

afterEach(() => {
  assert.deepEqual(takeUnexpected(errors, expected), [], 'console errors');
});

// --- helpers ---------------------------------------------------------------

const api = async (p) => (await fetch(N + p)).json();
const text = (sel) => page.locator(sel).innerText();
const focused = () => page.evaluate(() => document.activeElement.id || document.activeElement.className);
const cardOf = (id) => page.locator(`#grid .card[data-id="${id}"]`);
// the browser logs every 4xx answer as a console error
const expectStatus = (status, re) => expected.push((e) => e.text.includes(`status of ${status}`) && re.test(e.url));

// an admin token signed with the stack's secret (HS256) whose exp is an hour ago
function expiredToken() {
  const now = Math.floor(Date.now() / 1000);
  return mintToken({ iat: now - 7200, exp: now - 3600 });
}

async function settled() {
  await page.waitForFunction(() => document.getElementById('results').getAttribute('aria-busy') === 'false'
    && document.querySelectorAll('#grid .card').length > 0);
}

async function openHome() {
  await page.goto(`${N}/`);
  await settled();
}

async function signIn() {
  await page.click('#signin-open');
  await page.waitForSelector('#signin[open]');
  await page.fill('#signin-user', TEST_ADMIN.username);
  await page.fill('#signin-password', TEST_ADMIN.password);
  await page.click('#signin-submit');
  await page.waitForSelector('#signin:not([open])', { state: 'attached' });
  await page.waitForSelector('#admin-signed-in:not([hidden])');
}

// opens the editor of product id (from its card) and waits for its data
async function edit(id) {
  await cardOf(id).locator('.card-edit').click();
  await page.waitForSelector('#editor[open] #editor-fields:not([disabled])');
  assert.equal(await focused(), 'f-name');
}

async function save() {
  await page.click('#editor-save');
}

// the editor closed after a write and the list was fetched again
async function savedAndListed(note) {
  await page.waitForSelector('#editor:not([open])', { state: 'attached' });
  await page.waitForFunction((want) => document.getElementById('admin-note').textContent.startsWith(want), note);
  await settled();
}

const stored = () => page.evaluate((k) => JSON.parse(sessionStorage.getItem(k)), SESSION_KEY);

// --- tests -------------------------------------------------------------------------

let created; // the product this file creates, edits and deletes

describe('dashboard admin', () => {
  test('sign-in: Escape closes, a wrong password shows the reason, the right one shows the admin controls', async () => {
    await openHome();
    assert.equal(await page.isVisible('#signin-open'), true);
    assert.equal(await page.isHidden('#admin-signed-in'), true);
    assert.equal(await page.locator('#grid .card-edit').count(), 0, 'no Edit buttons when signed out');
    // open, focus inside, Escape closes, focus back on the button
    await page.click('#signin-open');
    await page.waitForSelector('#signin[open]');
    assert.equal(await focused(), 'signin-user');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#signin:not([open])', { state: 'attached' });
    assert.equal(await focused(), 'signin-open');
    // empty: said at once, nothing sent
    await page.keyboard.press('Enter');
    await page.waitForSelector('#signin[open]');
    writes = [];
    await page.click('#signin-submit');
    assert.equal(await text('#signin-error'), 'Enter your username and password.');
    assert.equal(await page.getAttribute('#signin-user', 'aria-invalid'), 'true');
    assert.equal(writes.length, 0);
    // wrong password: the server's reason
    expectStatus(401, /\/api\/auth\/login$/);
    await page.fill('#signin-user', TEST_ADMIN.username);
    await page.fill('#signin-password', 'not-the-password');
    await page.click('#signin-submit');
    await page.waitForFunction(() => /wrong/.test(document.getElementById('signin-error').textContent));
    assert.equal(await text('#signin-error'), 'The user name or password is wrong.');
    assert.equal(await page.getAttribute('#signin-password', 'aria-describedby'), 'signin-error');
    assert.equal(await page.isHidden('#admin-signed-in'), true);
    // the right one
    await page.fill('#signin-password', TEST_ADMIN.password);
    await page.press('#signin-password', 'Enter');
    await page.waitForSelector('#signin:not([open])', { state: 'attached' });
    assert.equal(await text('#admin-name'), 'admin');
    assert.equal(await page.isHidden('#signin-open'), true);
    assert.equal(await focused(), 'add-product', 'focus goes on where the Sign in button was');
    assert.equal(await text('#admin-note'), 'Signed in as admin.');
    assert.equal(await page.locator('#grid .card-edit').count(), await page.locator('#grid .card').count());
    // the token is this tab's: sessionStorage, never localStorage; a reload keeps it, a new tab has none
    const sess = await stored();
    assert.match(sess.token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    await openHome();
    assert.equal(await text('#admin-name'), 'admin');
    const other = await context.newPage();
    await other.goto(`${N}/`);
    await other.waitForSelector('#signin-open:not([hidden])');
    assert.equal(await other.isHidden('#admin-signed-in'), true);
    await other.close();
  });

  test('create: client checks first, then the new product is in the list at once', async () => {
    await openHome();
    await page.click('#add-product');
    await page.waitForSelector('#editor[open] #editor-fields:not([disabled])');
    assert.equal(await text('#editor-title'), 'New product');
    assert.equal(await focused(), 'f-name');
    assert.equal(await page.isHidden('#editor-delete'), true);
    // the categories come from /api/categories
    const cats = (await api('/api/categories')).categories;
    const options = await page.$$eval('#f-category option', (els) => els.map((o) => o.value));
    assert.deepEqual(options, ['', ...cats.map((c) => c.slug)]);
    // nothing filled in, a bad price and a bad image: marked on their fields, nothing sent
    writes = [];
    await page.fill('#f-price', '1.234');
    await page.fill('#f-image', 'javascript:alert(1)');
    await save();
    for (const f of ['name', 'price', 'category', 'image']) {
      assert.equal(await page.getAttribute(`#f-${f}`, 'aria-invalid'), 'true', f);
      assert.ok((await page.getAttribute(`#f-${f}`, 'aria-describedby')).split(' ').includes(`f-${f}-error`), f);
      assert.notEqual(await text(`#f-${f}-error`), '', f);
    }
    assert.equal(await page.getAttribute('#f-stock', 'aria-invalid'), 'false');
    assert.match(await text('#f-price-error'), /at most two decimals/);
    assert.equal(await focused(), 'f-name', 'focus on the first field to fix');
    assert.equal(writes.length, 0);
    // a good product
    const name = `Admin test lamp ${Date.now()}`;
    await page.fill('#f-name', name);
    await page.fill('#f-description', 'Made by the admin browser test.');
    await page.fill('#f-price', '19.90');
    await page.selectOption('#f-category', 'books');
    await page.fill('#f-stock', '7');
    await page.fill('#f-image', '/images/placeholder.svg');
    await save();
    await savedAndListed(`Created “${name}” (version 1).`);
    assert.equal(writes.length, 1);
    const post = writes[0];
    assert.equal(post.method, 'POST');
    assert.equal(post.url, '/api/products');
    assert.equal(post.headers['content-type'], 'application/json');
    assert.match(post.headers.authorization, /^Bearer /);
    assert.match(post.headers['idempotency-key'], /^[0-9a-f]{32}$/);
    assert.deepEqual(JSON.parse(post.body), {
      name, description: 'Made by the admin browser test.', price: 19.9, category: 'books', stock: 7, image: '/images/placeholder.svg',
    });
    // it is in the list (newest first) and in the API
    const list = await api('/api/products?limit=20');
    created = list.products.find((p) => p.name === name);
    assert.ok(created, 'the API lists it');
    assert.deepEqual(await page.$$eval('#grid .card', (els) => els.map((e) => e.dataset.id)), list.products.map((p) => p.id));
    assert.equal(await cardOf(created.id).locator('.card-open').innerText(), name);
    assert.equal(await cardOf(created.id).locator('.card-price').innerText(), '$19.90');
    assert.equal(created.version, 1);
    assert.equal(await focused(), 'add-product', 'focus back on the button that opened the editor');
  });

  test('edit: only the changes are sent, with If-Match; the list shows them at once', async () => {
    await openHome();
    await edit(created.id);
    assert.equal(await text('#editor-title'), 'Edit product');
    assert.equal(await page.inputValue('#f-name'), created.name);
    assert.equal(await page.inputValue('#f-price'), '19.90');
    assert.equal(await page.inputValue('#f-category'), 'books');
    assert.equal(await page.inputValue('#f-stock'), '7');
    assert.match(await text('#editor-meta'), /^Version 1 · prices in USD · ID [0-9a-f]{24}$/);
    const name = `${created.name} (edited)`;
    await page.fill('#f-name', name);
    await page.fill('#f-price', '24.5');
    writes = [];
    await save();
    await savedAndListed(`Saved “${name}” (version 2).`);
    assert.equal(writes.length, 1);
    assert.equal(writes[0].method, 'PATCH');
    assert.equal(writes[0].url, `/api/products/${created.id}`);
    assert.equal(writes[0].headers['if-match'], '"v1"');
    assert.equal(writes[0].headers['content-type'], 'application/merge-patch+json');
    assert.deepEqual(JSON.parse(writes[0].body), { name, price: 24.5 });
    assert.equal(await cardOf(created.id).locator('.card-open').innerText(), name);
    assert.equal(await cardOf(created.id).locator('.card-price').innerText(), '$24.50');
    const p = await api(`/api/products/${created.id}`);
    assert.equal(p.version, 2);
    assert.equal(p.name, name);
    assert.equal(await page.evaluate(() => document.activeElement.closest('.card')?.dataset.id), created.id, 'focus back on its Edit button');
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('card-edit')), true);
    // nothing changed: nothing sent
    await edit(created.id);
    writes = [];
    await save();
    await page.waitForSelector('#editor-message .message-info');
    assert.match(await text('#editor-message'), /Nothing to save/);
    assert.equal(writes.length, 0);
    await page.click('#editor-cancel');
    await page.waitForSelector('#editor:not([open])', { state: 'attached' });
    created = p;
  });

  test('a rule only the server knows (the category exists): its 422 is shown on the field', async () => {
    // what the API says about a category that does not exist
    const token = await login(N);
    const direct = await fetch(`${N}/api/products`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'x', price: 1, category: 'no-such-category' }),
    });
    assert.equal(direct.status, 422);
    const { errors: [want] } = await direct.json();
    assert.equal(want.field, 'category');

    await openHome();
    await edit(created.id);
    // the select offers only real categories: one is made unknown behind the client's back
    await page.evaluate(() => { document.querySelector('#f-category option:checked').value = 'no-such-category'; });
    expectStatus(422, new RegExp(`/api/products/${created.id}$`));
    writes = [];
    await save();
    await page.waitForSelector('#f-category[aria-invalid="true"]');
    assert.deepEqual(JSON.parse(writes[0].body), { category: 'no-such-category' });
    const shown = await text('#f-category-error');
    assert.equal(shown.toLowerCase(), `${want.reason}.`.toLowerCase());
    assert.ok((await page.getAttribute('#f-category', 'aria-describedby')).split(' ').includes('f-category-error'));
    assert.equal(await focused(), 'f-category');
    assert.match(await text('#editor-message [role="alert"]'), /The server did not accept this product/);
    for (const f of ['name', 'price', 'stock']) assert.equal(await page.getAttribute(`#f-${f}`, 'aria-invalid'), 'false', f);
    // Escape closes the editor, focus goes back to the card; nothing was changed
    await page.keyboard.press('Escape');
    await page.waitForSelector('#editor:not([open])', { state: 'attached' });
    assert.equal(await page.evaluate(() => document.activeElement.closest('.card')?.dataset.id), created.id);
    assert.equal((await api(`/api/products/${created.id}`)).version, created.version);
  });

  test('a change made elsewhere meanwhile: 412 explained, the current version loaded, then saved', async () => {
    await openHome();
    await edit(created.id);
    // someone else changes it, behind the page's back
    const token = await login(N);
    const other = await fetch(`${N}/api/products/${created.id}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/merge-patch+json', 'If-Match': `"v${created.version}"` },
      body: JSON.stringify({ stock: 42 }),
    });
    assert.equal(other.status, 200);
    const v = (await other.json()).version;
    assert.equal(v, created.version + 1);

    expectStatus(412, new RegExp(`/api/products/${created.id}$`));
    await page.fill('#f-name', 'Overwrite attempt');
    await save();
    const alert = page.locator('#editor-message [role="alert"]');
    await alert.waitFor();
    assert.match(await alert.innerText(), /Someone else changed this product/);
    assert.match(await alert.innerText(), new RegExp(`now version ${v}\\b`));
    assert.equal(await focused(), 'editor-reload');
    assert.equal((await api(`/api/products/${created.id}`)).name, created.name, 'not overwritten');
    // reload: the form shows the current version
    await page.click('#editor-reload');
    await page.waitForSelector('#editor-message .message-info');
    assert.match(await text('#editor-message'), new RegExp(`Loaded version ${v}`));
    assert.equal(await page.inputValue('#f-stock'), '42');
    assert.equal(await page.inputValue('#f-name'), created.name);
    assert.match(await text('#editor-meta'), new RegExp(`^Version ${v} `));
    // and saving now works
    const name = `${created.name} after the conflict`;
    await page.fill('#f-name', name);
    writes = [];
    await save();
    await savedAndListed(`Saved “${name}” (version ${v + 1}).`);
    assert.equal(writes[0].headers['if-match'], `"v${v}"`);
    assert.equal(await cardOf(created.id).locator('.card-open').innerText(), name);
    created = await api(`/api/products/${created.id}`);
    assert.equal(created.stock, 42);
    assert.equal(created.name, name);
  });

  test('an expired token sends the admin back to sign-in with the reason; signing in again keeps the edits', async () => {
    const token = expiredToken();
    // what the API says about this token
    const direct = await fetch(`${N}/api/products/${created.id}`, {
      method: 'PATCH', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: '{}',
    });
    assert.equal(direct.status, 401);
    const reason = (await direct.json()).detail;
    assert.match(reason, /expired/);
    expectStatus(401, new RegExp(`/api/products/${created.id}$`));

    // the tab's session now holds a token the server no longer takes
    const useExpired = () => page.evaluate(([k, t]) => sessionStorage.setItem(k, JSON.stringify({ ...JSON.parse(sessionStorage.getItem(k)), token: t })), [SESSION_KEY, token]);
    await useExpired();
    await openHome();
    assert.equal(await text('#admin-name'), 'admin');

    // 1. the sign-in is cancelled: the editor closes too, signed out
    await edit(created.id);
    await page.fill('#f-stock', '41');
    await save();
    await page.waitForSelector('#signin[open]');
    const said = `You were signed out: ${reason[0].toUpperCase()}${reason.slice(1)}. Sign in again to go on.`;
    assert.equal(await text('#signin-reason'), said);
    assert.equal(await page.isVisible('#editor[open]'), true, 'the editor stays under the sign-in');
    assert.equal(await focused(), 'signin-user');
    assert.equal(await stored(), null, 'the token is forgotten');
    await page.click('#signin-cancel');
    await page.waitForSelector('#editor:not([open])', { state: 'attached' });
    assert.equal(await page.isVisible('#signin-open'), true);
    assert.equal(await focused(), 'signin-open');
    assert.equal(await page.locator('#grid .card-edit').count(), 0);

    // 2. signed in again over the editor: the changes are still there and save
    await signIn();
    await useExpired();
    await openHome();
    await edit(created.id);
    await page.fill('#f-stock', '41');
    await save();
    await page.waitForSelector('#signin[open]');
    assert.equal(await text('#signin-reason'), said);
    await page.fill('#signin-user', TEST_ADMIN.username);
    await page.fill('#signin-password', TEST_ADMIN.password);
    await page.click('#signin-submit');
    await page.waitForSelector('#signin:not([open])', { state: 'attached' });
    assert.equal(await page.isVisible('#editor[open]'), true);
    assert.match(await text('#editor-message'), /Signed in again/);
    assert.equal(await page.inputValue('#f-stock'), '41');
    assert.equal(await focused(), 'editor-save', 'focus back where it was');
    await save();
    await savedAndListed('Saved');
    created = await api(`/api/products/${created.id}`);
    assert.equal(created.stock, 41);
  });

  test('keyboard: labels, focus in and back, visible focus; the editor at 1280 and 375 px', async () => {
    await openHome();
    await page.focus('#add-product');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#editor[open] #editor-fields:not([disabled])');
    assert.equal(await focused(), 'f-name');
    const order = [];
    const rings = [];
    for (let i = 0; i < 8; i++) {
      const [id, ring] = await page.evaluate(() => {
        const el = document.activeElement;
        const cs = getComputedStyle(el);
        return [el.id, el.matches(':focus-visible') && cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2];
      });
      order.push(id);
      rings.push(ring);
      await page.keyboard.press('Tab');
    }
    assert.deepEqual(order, ['f-name', 'f-description', 'f-price', 'f-stock', 'f-category', 'f-image', 'editor-save', 'editor-cancel']);
    assert.deepEqual(rings, order.map(() => true), `no visible focus on ${order.filter((_, i) => !rings[i])}`);
    const unlabeled = await page.$$eval('dialog input, dialog select, dialog textarea', (els) => els.filter((e) => !e.labels.length).map((e) => e.id));
    assert.deepEqual(unlabeled, []);
    await page.keyboard.press('Escape');
    await page.waitForSelector('#editor:not([open])', { state: 'attached' });
    assert.equal(await focused(), 'add-product');

    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: 900 });
      await openHome();
      await edit(created.id);
      await page.click('#editor-delete'); // the confirmation must fit too
      await page.waitForSelector('#confirm-delete[open]');
      await page.click('#confirm-no');
      const fit = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        editor: document.getElementById('editor').getBoundingClientRect().right - window.innerWidth,
        form: document.getElementById('editor-form').scrollWidth - document.getElementById('editor-form').clientWidth,
      }));
      assert.ok(fit.page <= 0 && fit.editor <= 0 && fit.form <= 0, `${width} px: ${JSON.stringify(fit)}`);
      const file = path.join(artifacts, `admin-editor-${width}.png`);
      await page.screenshot({ path: file });
      const png = pngColors(file);
      assert.equal(png.width, width);
      assert.ok(png.colors > 50, `${file}: only ${png.colors} colours`);
      assert.ok(fs.statSync(file).size > 10 * 1024, file);
      await page.keyboard.press('Escape');
      await page.waitForSelector('#editor:not([open])', { state: 'attached' });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('delete: a confirmation first (Escape and Keep it change nothing); then it is gone from the list', async () => {
    await openHome();
    await edit(created.id);
    await page.click('#editor-delete');
    await page.waitForSelector('#confirm-delete[open]');
    assert.equal(await page.getAttribute('#confirm-delete', 'role'), 'alertdialog');
    assert.match(await text('#confirm-text'), new RegExp(`“${created.name.replace(/[()]/g, '\\$&')}” will be removed`));
    assert.equal(await focused(), 'confirm-no', 'the safe choice has the focus');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#confirm-delete:not([open])', { state: 'attached' });
    assert.equal(await page.isVisible('#editor[open]'), true);
    assert.equal(await focused(), 'editor-delete');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#confirm-delete[open]');
    await page.click('#confirm-no');
    assert.equal(await focused(), 'editor-delete');
    assert.equal((await api(`/api/products/${created.id}`)).id, created.id, 'still there');
    writes = [];
    await page.click('#editor-delete');
    await page.click('#confirm-yes');
    await savedAndListed(`Deleted “${created.name}”.`);
    assert.equal(writes.length, 1);
    assert.equal(writes[0].method, 'DELETE');
    assert.equal(writes[0].headers['if-match'], `"v${created.version}"`);
    assert.equal(await cardOf(created.id).count(), 0);
    assert.equal((await fetch(`${N}/api/products/${created.id}`)).status, 404);
    assert.equal(await focused(), 'results-heading');
  });

  test('sign-out revokes the token on the server, then forgets it', async () => {
    await openHome();
    const { token } = await stored();
    writes = [];
    await page.click('#signout');
    await page.waitForSelector('#signin-open:not([hidden])');
    assert.equal(await text('#admin-note'), 'Signed out.');
    assert.equal(await focused(), 'signin-open');
    assert.equal(writes.length, 1);
    assert.equal(writes[0].url, '/api/auth/logout');
    assert.equal(writes[0].headers.authorization, `Bearer ${token}`);
    assert.equal(await stored(), null);
    assert.equal(await page.isHidden('#admin-signed-in'), true);
    assert.equal(await page.locator('#grid .card-edit').count(), 0);
    // the server no longer takes it (an empty body: were it taken, a 422 and nothing written)
    const r = await fetch(`${N}/api/products`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(r.status, 401);
    assert.match((await r.json()).detail, /revoked/);
    await openHome();
    assert.equal(await page.isVisible('#signin-open'), true, 'still signed out after a reload');
  });
});
