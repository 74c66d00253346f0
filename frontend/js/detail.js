// The product detail dialog (<dialog>, modal): every field of one product,
// fetched fresh from /api/products/{id}. Escape, the Close button or a click
// on the backdrop close it; app.js returns the focus.
import { api } from './api.js';
import { byId, h } from './dom.js';
import { dateTime, imageSrc, money, number, PLACEHOLDER_IMAGE, sentence, stockInfo } from './format.js';

export function createDetail({ onClose, categoryName }) {
  const dialog = byId('detail');
  const title = byId('detail-title');
  const body = byId('detail-body');
  const closeButton = byId('detail-close');
  let currentId = '';
  let opener = null;
  let shown = null; // the product rendered
  let controller = null;

  closeButton.addEventListener('click', () => dialog.close());
  // a click on the backdrop (the dialog element itself, outside .detail-inner)
  dialog.addEventListener('click', (e) => { if (e.target === dialog) dialog.close(); });
  dialog.addEventListener('close', () => {
    if (controller) controller.abort();
    controller = null;
    const from = opener;
    const id = currentId;
    opener = null;
    currentId = '';
    shown = null;
    onClose({ opener: from, id });
  });

  const field = (label, value) => h('div', { class: 'field-row' }, h('dt', {}, label), h('dd', {}, value));
  const time = (iso) => h('time', { datetime: iso, title: iso }, dateTime(iso));

  function render(p) {
    shown = p;
    const stock = stockInfo(p.stock);
    title.textContent = p.name;
    const img = h('img', { class: 'detail-img', src: imageSrc(p.image), alt: p.name, width: 400, height: 300 });
    img.addEventListener('error', () => { if (!img.src.endsWith(PLACEHOLDER_IMAGE)) img.src = PLACEHOLDER_IMAGE; });
    body.replaceChildren(
      img,
      h('div', { class: 'detail-text' },
        h('p', { class: 'detail-price' }, money(p.price, p.currency)),
        h('p', { class: `badge badge-${stock.level}` }, stock.label),
        h('p', { class: 'detail-desc' }, p.description || 'No description.'),
        h('dl', { class: 'fields' },
          field('Name', p.name),
          field('Price', `${money(p.price, p.currency)} (${p.price})`),
          field('Currency', p.currency),
          field('Category', [h('span', { 'data-category': p.category }, categoryName(p.category)), ` (${p.category})`]),
          field('Stock', `${number(p.stock)} – ${stock.label.toLowerCase()}`),
          field('Product ID', h('code', {}, p.id)),
          field('Image', h('code', {}, p.image || 'none')),
          field('Created', time(p.created_at)),
          field('Updated', time(p.updated_at)),
          field('Version', String(p.version)))));
  }

  function renderProblem(e, id) {
    title.textContent = e.status === 404 ? 'Product not found' : 'The product could not be loaded';
    body.replaceChildren(h('div', { class: 'message message-error', role: 'alert' },
      h('p', { class: 'problem' }, h('strong', { class: 'problem-title' }, e.title), ': ',
        h('span', { class: 'problem-detail' }, sentence(e.detail))),
      e.status === 404 ? null
        : h('div', { class: 'message-actions' },
          h('button', { type: 'button', class: 'button', onclick: () => refresh(id) }, 'Retry'))));
  }

  async function refresh(id) {
    if (controller) controller.abort();
    const ctl = new AbortController();
    controller = ctl;
    if (!shown) {
      title.textContent = 'Loading the product…';
      body.replaceChildren(h('p', { class: 'detail-loading', role: 'status' }, 'Loading…'));
    }
    try {
      const { body: p } = await api(`/api/products/${encodeURIComponent(id)}`, { signal: ctl.signal, timeoutMs: 15000 });
      if (ctl.signal.aborted || id !== currentId) return;
      if (!shown || JSON.stringify(shown) !== JSON.stringify(p)) render(p);
    } catch (e) {
      if (ctl.signal.aborted || id !== currentId) return;
      if (!shown || e.status === 404) renderProblem(e, id);
      else {
        // keep what the list showed, say it may be stale
        body.prepend(h('p', { class: 'detail-stale', role: 'status' },
          `Could not refresh this product (${e.title}); showing the data from the list.`));
      }
    } finally {
      if (controller === ctl) controller = null;
    }
  }

  return {
    get currentId() { return currentId; },
    get isOpen() { return dialog.open; },
    // product: what the list already has (shown at once), or null
    open(id, product, from) {
      opener = from || null;
      currentId = id;
      shown = null;
      if (product) render(product);
      if (!dialog.open) dialog.showModal();
      closeButton.focus();
      refresh(id);
    },
    close() { if (dialog.open) dialog.close(); },
  };
}
