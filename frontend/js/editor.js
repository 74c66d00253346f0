// The product editor (a modal <dialog>) of a signed-in admin: create, edit
// and delete. An edit is a merge patch of the changed fields sent with
// If-Match: "v<version>", so a product someone else changed meanwhile is
// never overwritten: the 412 is explained and the current version offered.
// Errors, the client's or the server's (422), show under their field, tied
// to it by aria-describedby and aria-invalid.
import { api, problemOf } from './api.js';
import { write } from './auth.js';
import { byId, h } from './dom.js';
import { sentence } from './format.js';
import { check, FIELDS } from './rules.js';

// reauth(problem) → Promise<boolean>: the sign-in dialog, over this one;
// saved({ id, deleted, created, product, text }) after a write; onClose({ opener, id }).
export function createEditor({ reauth, saved, onClose }) {
  const dialog = byId('editor');
  const form = byId('editor-form');
  const fields = byId('editor-fields');
  const title = byId('editor-title');
  const slot = byId('editor-message');
  const meta = byId('editor-meta');
  const save = byId('editor-save');
  const del = byId('editor-delete');
  const confirm = byId('confirm-delete');
  const input = Object.fromEntries(FIELDS.map((f) => [f, byId(`f-${f}`)]));
  const errorOf = (f) => byId(`f-${f}-error`);

  let product = null; // the version being edited; null for a new one
  let etag = '';
  let opener = null;
  let busy = false;
  let attempt = null; // { key, body } of the last create: a retry reuses its Idempotency-Key
  let seq = 0; // answers that come after the dialog closed (or reopened) are dropped

  byId('editor-close').addEventListener('click', () => dialog.close());
  byId('editor-cancel').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    seq++;
    if (confirm.open) confirm.close();
    const from = opener;
    const id = product && product.id;
    opener = null;
    product = null;
    onClose({ opener: from, id });
  });

  // kind: error | info; body: words or an ApiError; actions: buttons
  function message(kind, heading, body, actions = []) {
    if (!kind) { slot.replaceChildren(); return; }
    const detail = typeof body === 'string' ? body
      : [h('strong', { class: 'problem-title' }, body.title), ': ', h('span', { class: 'problem-detail' }, sentence(body.detail))];
    slot.replaceChildren(h('div', { class: `message message-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
      h('h3', {}, heading), h('p', {}, detail), actions.length ? h('div', { class: 'message-actions' }, actions) : null));
  }

  function setErrors(errors) {
    let first = null;
    for (const f of FIELDS) {
      const text = errors[f] || '';
      errorOf(f).textContent = text;
      input[f].setAttribute('aria-invalid', String(Boolean(text)));
      if (text && !first) first = input[f];
    }
    if (first) first.focus();
    return first;
  }

  async function categories(current) {
    let list = [];
    let failed = null;
    try {
      const { body } = await api('/api/categories');
      list = Array.isArray(body.categories) ? body.categories : [];
    } catch (e) {
      failed = e;
    }
    input.category.replaceChildren(h('option', { value: '' }, 'Choose a category'),
      ...list.map((c) => h('option', { value: c.slug }, c.name)));
    if (current && !list.some((c) => c.slug === current)) input.category.append(h('option', { value: current }, current));
    return failed;
  }

  function fill(p, tag) {
    product = p;
    etag = p ? tag || `"v${p.version}"` : '';
    input.name.value = p ? p.name : '';
    input.description.value = (p && p.description) || '';
    input.price.value = p ? Number(p.price).toFixed(2) : '';
    input.category.value = p ? p.category : '';
    input.stock.value = p ? String(p.stock) : '0';
    input.image.value = (p && p.image) || '';
    meta.textContent = p ? `Version ${p.version} · prices in ${p.currency} · ID ${p.id}` : '';
    setErrors({});
  }

  // id: the product to edit, or '' for a new one
  async function open(id, from) {
    const my = ++seq;
    opener = from || document.activeElement;
    attempt = null;
    title.textContent = id ? 'Edit product' : 'New product';
    del.hidden = !id;
    fill(null);
    message(null);
    fields.disabled = true;
    save.disabled = true;
    del.disabled = true;
    if (!dialog.open) dialog.showModal();
    byId('editor-close').focus();
    if (id) message('info', 'Loading the current version…', 'One moment.');
    try {
      // the list may be a little behind: edit what the server has now
      const r = id ? await api(`/api/products/${encodeURIComponent(id)}`) : null;
      const failed = await categories(r && r.body.category);
      if (my !== seq) return;
      fill(r && r.body, r && r.headers.get('etag'));
      message(failed ? 'error' : null, 'The categories could not be loaded', failed || '');
    } catch (e) {
      if (my !== seq) return;
      message('error', 'The product could not be loaded', e,
        [h('button', { type: 'button', class: 'button', onclick: () => open(id, opener) }, 'Retry')]);
      return;
    }
    fields.disabled = false;
    save.disabled = false;
    del.disabled = false;
    input.name.focus();
  }

  const read = () => Object.fromEntries(FIELDS.map((f) => [f, input[f].value]));

  // the merge patch: only what changed (null clears description and image)
  function changes(values) {
    const out = {};
    for (const f of FIELDS) if (values[f] !== (product[f] ?? null)) out[f] = values[f];
    return out;
  }

  // one Idempotency-Key per body: a retry of the same product cannot make two
  function keyFor(body) {
    const text = JSON.stringify(body);
    if (!attempt || attempt.body !== text) {
      const key = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
      attempt = { key, body: text };
    }
    return attempt.key;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy || fields.disabled) return;
    const { values, errors } = check(read());
    if (setErrors(errors)) {
      message(null);
      return;
    }
    const body = product ? changes(values) : values;
    if (!Object.keys(body).length) {
      message('info', 'Nothing to save', 'No field was changed.');
      return;
    }
    const my = seq;
    const was = product;
    busy = true;
    save.textContent = 'Saving…';
    try {
      const r = was
        ? await write('PATCH', `/api/products/${was.id}`, { body, type: 'application/merge-patch+json', headers: { 'If-Match': etag } })
        : await write('POST', '/api/products', { body, headers: { 'Idempotency-Key': keyFor(body) } });
      if (my !== seq) return;
      if (r.ok && r.body && r.body.id) {
        dialog.close();
        saved({ id: r.body.id, created: !was, product: r.body, text: `${was ? 'Saved' : 'Created'} “${r.body.name}” (version ${r.body.version}).` });
      } else {
        failed(r);
      }
    } catch (err) {
      if (my === seq) message('error', 'Not saved', err);
    } finally {
      busy = false;
      save.textContent = 'Save';
    }
  });

  function failed(r) {
    const p = problemOf(r);
    if (r.status === 401) { again(p); return; }
    if (r.status === 412) { conflict(p); return; }
    if (r.status === 404 && product) {
      message('error', 'This product no longer exists', 'Someone deleted it while you were editing. Nothing was saved.');
      return;
    }
    const list = r.status === 422 && p.body && Array.isArray(p.body.errors) ? p.body.errors : null;
    if (!list) { message('error', 'Not saved', p); return; }
    const byField = {};
    const rest = [];
    for (const { field, reason } of list) {
      if (FIELDS.includes(field)) byField[field] = [byField[field], sentence(reason)].filter(Boolean).join(' ');
      else rest.push(sentence(field ? `${field}: ${reason}` : reason));
    }
    message('error', 'The server did not accept this product', rest.join(' ') || 'Correct the marked fields and save again.');
    setErrors(byField);
  }

  // a 401: the session is over; the sign-in comes over the editor, which
  // keeps the admin's changes for another try
  async function again(p) {
    const my = seq;
    const ok = await reauth(p);
    if (my !== seq) return;
    if (ok) message('info', 'Signed in again', 'Your changes are still here: save again to keep them.');
    else dialog.close();
  }

  function conflict(p) {
    const v = p.body && Number(p.body.current_version);
    message('error', 'Someone else changed this product',
      `It was changed after you opened it${v ? ` and is now version ${v}` : ''}, so your changes were not saved. Load the current version, then make your changes again.`,
      [h('button', { type: 'button', class: 'button', id: 'editor-reload', onclick: reload }, 'Load the current version')]);
    byId('editor-reload').focus();
  }

  async function reload() {
    const my = seq;
    try {
      const r = await api(`/api/products/${product.id}`);
      if (my !== seq) return;
      await categories(r.body.category);
      fill(r.body, r.headers.get('etag'));
      message('info', `Loaded version ${r.body.version}`, 'The form shows the current product; your unsaved changes were dropped.');
      input.name.focus();
    } catch (e) {
      if (my === seq) message('error', 'The current version could not be loaded', e, [h('button', { type: 'button', class: 'button', onclick: reload }, 'Retry')]);
    }
  }

  // --- delete, after a confirmation -----------------------------------------

  del.addEventListener('click', () => {
    byId('confirm-text').textContent = `“${product.name}” will be removed from the catalogue. This cannot be undone.`;
    confirm.showModal();
    byId('confirm-no').focus();
  });
  byId('confirm-no').addEventListener('click', () => confirm.close());
  confirm.addEventListener('close', () => { if (dialog.open) del.focus(); });
  byId('confirm-yes').addEventListener('click', async () => {
    if (busy) return;
    const my = seq;
    const p = product;
    busy = true;
    try {
      const r = await write('DELETE', `/api/products/${p.id}`, { headers: { 'If-Match': etag } });
      if (my !== seq) return;
      confirm.close();
      if (r.ok || r.status === 404) {
        dialog.close();
        saved({ id: p.id, deleted: true, text: r.ok ? `Deleted “${p.name}”.` : `“${p.name}” had already been deleted.` });
      } else {
        failed(r);
      }
    } catch (err) {
      if (my === seq) { confirm.close(); message('error', 'Not deleted', err); }
    } finally {
      busy = false;
    }
  });

  return { open, get isOpen() { return dialog.open; } };
}
