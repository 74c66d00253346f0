// The catalogue: filters, product grid, count, pagination and the empty,
// loading and error states. It renders the state it is given (apply) and
// reports the user's changes through navigate(patch, options); app.js owns
// the URL and history. cardActions(product) adds controls to a card (the
// admin's Edit button), or null. js/live.js applies the change feed.
import { api, parseLink } from './api.js';
import { byId, debounce, h, plainClick } from './dom.js';
import { imageSrc, money, number, PLACEHOLDER_IMAGE, sentence, stockInfo } from './format.js';
import { apiParams, hasFilters, listKey, PRICE_RE, toSearch, urlOf } from './state.js';

export const SPINNER_DELAY_MS = 150; // fast answers never flash a spinner
export const SEARCH_DEBOUNCE_MS = 300;
const PRICE_DEBOUNCE_MS = 600;
const LIST_TIMEOUT_MS = 15000;

export function createCatalogue({ navigate, openProduct, cardActions = () => null }) {
  const form = byId('filters');
  const q = byId('q');
  const category = byId('category');
  const categoryNote = byId('category-note');
  const minPrice = byId('min_price');
  const maxPrice = byId('max_price');
  const priceError = byId('price-error');
  const inStock = byId('in_stock');
  const sort = byId('sort');
  const size = byId('size');
  const results = byId('results');
  const spinner = byId('spinner');
  const messageSlot = byId('message');
  const grid = byId('grid');
  const count = byId('count');
  const pagination = byId('pagination');
  const heading = byId('results-heading');
  const newBar = byId('new-bar');
  const newText = byId('new-bar-text');

  let state = null;
  let loadedKey = null; // the list shown (or being fetched)
  let products = []; // the products on screen
  let total = 0; // all pages
  let offset = 0;
  const created = new Set(); // created since the list was loaded
  let controller = null;
  let seq = 0;
  let categories = new Map(); // slug → { slug, name, count }
  let categoriesState = 'none'; // none | loading | loaded

  // --- user input → navigate ---------------------------------------------

  // a change made while a search or price edit is still waiting for its
  // debounce carries that edit along instead of dropping it
  function go(patch, opts) {
    const pending = {};
    if (searchLater.pending()) pending.q = q.value.trim();
    if (pricesLater.pending()) Object.assign(pending, readPrices() || {});
    navigate({ ...pending, ...patch }, opts);
  }

  const commitSearch = () => {
    const v = q.value.trim();
    if (v !== state.q) navigate({ q: v });
  };
  const searchLater = debounce(commitSearch, SEARCH_DEBOUNCE_MS);
  q.addEventListener('input', searchLater);

  // validates both price fields; null when they are not usable yet
  function readPrices() {
    const min = minPrice.value.trim();
    const max = maxPrice.value.trim();
    let error = '';
    const bad = [];
    if (min && !PRICE_RE.test(min)) bad.push(minPrice);
    if (max && !PRICE_RE.test(max)) bad.push(maxPrice);
    if (bad.length) error = 'Enter a price as a number with at most two decimals, like 12 or 12.50.';
    else if (min && max && Number(min) > Number(max)) {
      error = 'The minimum price is above the maximum.';
      bad.push(minPrice, maxPrice);
    }
    for (const el of [minPrice, maxPrice]) el.setAttribute('aria-invalid', String(bad.includes(el)));
    priceError.textContent = error;
    return error ? null : { minPrice: min, maxPrice: max };
  }
  const commitPrices = () => {
    const p = readPrices();
    if (p && (p.minPrice !== state.minPrice || p.maxPrice !== state.maxPrice)) navigate(p);
  };
  const pricesLater = debounce(commitPrices, PRICE_DEBOUNCE_MS);
  for (const el of [minPrice, maxPrice]) {
    el.addEventListener('input', pricesLater);
    el.addEventListener('change', () => { pricesLater.cancel(); commitPrices(); });
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    searchLater.cancel();
    pricesLater.cancel();
    const p = readPrices() || { minPrice: state.minPrice, maxPrice: state.maxPrice };
    navigate({ q: q.value.trim(), ...p });
  });

  category.addEventListener('change', () => go({ category: category.value }));
  inStock.addEventListener('change', () => go({ inStock: inStock.checked }));
  sort.addEventListener('change', () => go({ sort: sort.value }));
  size.addEventListener('change', () => {
    // keep the first product of the current page on screen
    const n = Number(size.value);
    const first = (state.page - 1) * state.size;
    go({ size: n, page: Math.floor(first / n) + 1 }, { keepPage: true });
  });

  const clearFilters = () => {
    searchLater.cancel();
    pricesLater.cancel();
    navigate({ q: '', category: '', minPrice: '', maxPrice: '', inStock: false });
  };
  byId('clear-filters').addEventListener('click', clearFilters);

  // --- state → controls ----------------------------------------------------

  function syncControls() {
    if (q.value.trim() !== state.q) q.value = state.q;
    // the fields show the view's prices (a refused entry is replaced by the
    // next view, e.g. after back/forward)
    for (const [el, v] of [[minPrice, state.minPrice], [maxPrice, state.maxPrice]]) {
      if (el.value.trim() !== v) el.value = v;
    }
    readPrices();
    if (state.category && !categories.has(state.category) && !category.querySelector(`option[value="${CSS.escape(state.category)}"]`)) {
      category.append(h('option', { value: state.category }, state.category));
    }
    category.value = state.category;
    inStock.checked = state.inStock;
    sort.value = state.sort;
    size.value = String(state.size);
  }

  // resolves when the list is on screen (force: fetch it again, e.g. after a write)
  function apply(next, { force = false, focusResults = false } = {}) {
    state = next;
    searchLater.cancel();
    pricesLater.cancel();
    syncControls();
    if (focusResults) heading.focus();
    const key = listKey(state);
    let loaded = Promise.resolve();
    if (force || key !== loadedKey) {
      loadedKey = key;
      loaded = load();
    }
    if (force || categoriesState === 'none') loadCategories(); // counts change with writes
    return loaded;
  }

  // --- loading ---------------------------------------------------------------

  async function load() {
    if (controller) controller.abort();
    const my = ++seq;
    const ctl = new AbortController();
    controller = ctl;
    results.setAttribute('aria-busy', 'true');
    results.classList.add('is-loading');
    const timer = setTimeout(() => { if (my === seq) spinner.hidden = false; }, SPINNER_DELAY_MS);
    try {
      const r = await api(`/api/products?${apiParams(state)}`, { signal: ctl.signal, timeoutMs: LIST_TIMEOUT_MS });
      if (my !== seq) return;
      renderList(r.body, parseLink(r.headers.get('link')));
    } catch (e) {
      if (my !== seq || ctl.signal.aborted) return;
      renderError(e);
    } finally {
      clearTimeout(timer);
      if (my === seq) {
        spinner.hidden = true;
        results.setAttribute('aria-busy', 'false');
        results.classList.remove('is-loading');
        if (controller === ctl) controller = null;
      }
    }
  }

  const retry = () => apply(state, { force: true });

  async function loadCategories() {
    categoriesState = 'loading';
    try {
      const { body } = await api('/api/categories', { timeoutMs: LIST_TIMEOUT_MS });
      const list = Array.isArray(body.categories) ? body.categories : [];
      categories = new Map(list.map((c) => [c.slug, c]));
      category.replaceChildren(
        h('option', { value: '' }, 'All categories'),
        ...list.map((c) => h('option', { value: c.slug }, `${c.name} (${number(c.count)})`)),
      );
      categoriesState = 'loaded';
      categoryNote.textContent = '';
      syncControls();
      // names in cards (and an open detail) drawn before the categories came
      for (const el of document.querySelectorAll('[data-category]')) el.textContent = categoryName(el.dataset.category);
    } catch (e) {
      categoriesState = 'none'; // tried again with the next view
      categoryNote.textContent = `Categories could not be loaded (${e.title}).`;
    }
  }

  function categoryName(slug) {
    const c = categories.get(slug);
    return c ? c.name : slug;
  }

  // --- rendering ---------------------------------------------------------------

  function card(p, i) {
    const stock = stockInfo(p.stock);
    const open = h('button', { type: 'button', class: 'card-open', 'aria-haspopup': 'dialog' }, p.name);
    open.addEventListener('click', () => openProduct(p, open));
    const img = h('img', {
      src: imageSrc(p.image), alt: p.name, width: 400, height: 300, loading: i < 8 ? 'eager' : 'lazy', decoding: 'async', class: 'card-img',
    });
    img.addEventListener('error', () => { if (!img.src.endsWith(PLACEHOLDER_IMAGE)) img.src = PLACEHOLDER_IMAGE; });
    return h('li', { class: 'card', 'data-id': p.id, 'data-price': p.price, 'data-version': p.version },
      img,
      h('h3', { class: 'card-title' }, open),
      h('p', { class: 'card-price' }, money(p.price, p.currency)),
      h('p', { class: 'card-category', 'data-category': p.category }, categoryName(p.category)),
      h('p', { class: `badge badge-${stock.level}` }, stock.label),
      cardActions(p));
  }

  function setMessage(el) {
    messageSlot.replaceChildren(...(el ? [el] : []));
  }

  function renderCount() {
    const from = offset + 1;
    const to = offset + products.length;
    count.textContent = `${number(total)} ${total === 1 ? 'product' : 'products'} · showing ${number(from)}–${number(to)}`;
  }

  function renderNewBar() {
    newBar.hidden = created.size === 0;
    newText.textContent = `${number(created.size)} new ${created.size === 1 ? 'product' : 'products'} — `;
  }
  byId('new-bar-show').addEventListener('click', () => {
    apply(state, { force: true });
    heading.focus();
  });

  function renderList(body, links) {
    total = Number(body.count) || 0;
    offset = Number(body.offset) || 0;
    products = Array.isArray(body.products) ? body.products : [];
    created.clear();
    renderNewBar();
    grid.replaceChildren(...products.map((p, i) => card(p, i)));
    const pages = Math.max(1, Math.ceil(total / state.size));
    if (total === 0) {
      count.textContent = 'No products found';
      const what = state.q ? `Nothing matches “${state.q}”${hasFilters({ ...state, q: '' }) ? ' with these filters' : ''}.`
        : 'No product matches these filters.';
      setMessage(h('div', { class: 'message message-empty' },
        h('h3', {}, 'No products found'),
        h('p', {}, what, ' Try other words or fewer filters.'),
        hasFilters(state) ? h('button', { type: 'button', class: 'button', onclick: clearFilters }, 'Clear all filters') : null));
    } else if (products.length === 0) {
      count.textContent = `${number(total)} products`;
      const last = h('a', { href: urlOf({ ...state, page: pages, product: '' }), class: 'button' }, `Go to page ${number(pages)}`);
      last.addEventListener('click', (e) => {
        if (!plainClick(e)) return;
        e.preventDefault();
        navigate({ page: pages }, { keepPage: true, focusResults: true });
      });
      setMessage(h('div', { class: 'message message-empty' },
        h('h3', {}, `There is no page ${number(state.page)}`),
        h('p', {}, `These ${number(total)} products fit on ${number(pages)} ${pages === 1 ? 'page' : 'pages'}.`),
        last));
    } else {
      renderCount();
      setMessage(null);
    }
    renderPagination(total, pages, links);
  }

  function renderError(e) {
    products = [];
    grid.replaceChildren();
    pagination.hidden = true;
    pagination.replaceChildren();
    count.textContent = '';
    const lead = e.status === 503 || e.status === 502 || e.status === 504 || e.status === 0
      ? 'The catalogue is not available right now.'
      : e.status === 400 ? 'The server could not use this view’s settings.' : 'Something went wrong on the server.';
    const extra = [];
    if (e.retryAfter && /^\d+$/.test(e.retryAfter)) extra.push(`The server suggests trying again in ${e.retryAfter} s.`);
    const meta = [e.status ? `HTTP ${e.status}` : 'no answer', e.instance ? `request id ${e.instance}` : ''].filter(Boolean).join(' · ');
    const box = h('div', { class: 'message message-error', role: 'alert' },
      h('h3', {}, 'The products could not be loaded'),
      h('p', {}, lead),
      h('p', { class: 'problem' }, h('strong', { class: 'problem-title' }, e.title || 'Error'), ': ',
        h('span', { class: 'problem-detail' }, sentence(e.detail || e.message))),
      extra.length ? h('p', {}, extra.join(' ')) : null,
      h('p', { class: 'problem-meta' }, meta),
      h('div', { class: 'message-actions' },
        h('button', { type: 'button', class: 'button', id: 'retry', onclick: retry }, 'Retry'),
        e.status === 400 ? h('button', { type: 'button', class: 'button button-secondary', onclick: () => navigate({ q: '', category: '', minPrice: '', maxPrice: '', inStock: false, sort: 'newest', page: 1 }, { keepPage: true }) }, 'Reset the view') : null));
    setMessage(box);
  }

  // 1 … 4 5 [6] 7 8 … 12
  function pageWindow(cur, pages) {
    const want = new Set([1, pages]);
    for (let n = cur - 2; n <= cur + 2; n++) if (n >= 1 && n <= pages) want.add(n);
    const list = [...want].sort((a, b) => a - b);
    const out = [];
    list.forEach((n, i) => {
      if (i && n - list[i - 1] > 1) out.push(null);
      out.push(n);
    });
    return out;
  }

  function pageLink(label, page, { rel, current = false, disabled = false, aria } = {}) {
    if (disabled) return h('span', { class: `page-link page-${rel}`, 'aria-disabled': 'true' }, label);
    const a = h('a', {
      href: urlOf({ ...state, page, product: '' }), class: `page-link${rel ? ` page-${rel}` : ''}`,
      rel, 'aria-current': current ? 'page' : null, 'aria-label': aria,
    }, label);
    a.addEventListener('click', (e) => {
      if (!plainClick(e)) return;
      e.preventDefault();
      if (!current) navigate({ page }, { keepPage: true, focusResults: true });
    });
    return a;
  }

  function renderPagination(total, pages, links) {
    if (total === 0 || (pages <= 1 && state.page === 1)) {
      pagination.hidden = true;
      pagination.replaceChildren();
      return;
    }
    const cur = state.page;
    const items = [pageLink('Previous', Math.min(cur - 1, pages), { rel: 'prev', disabled: cur <= 1 || (!links.prev && cur <= pages) })];
    for (const n of pageWindow(Math.min(cur, pages), pages)) {
      items.push(n === null ? h('span', { class: 'page-gap', 'aria-hidden': 'true' }, '…')
        : pageLink(number(n), n, { current: n === cur, aria: `Page ${n}` }));
    }
    items.push(pageLink('Next', cur + 1, { rel: 'next', disabled: !links.next }));
    pagination.replaceChildren(h('ul', { class: 'pages' }, items.map((i) => h('li', {}, i))));
    pagination.hidden = false;
  }

  // --- the change feed ----------------------------------------------------------

  const cardOf = (id) => grid.querySelector(`.card[data-id="${CSS.escape(id)}"]`);

  // in place, highlighted, the focus kept
  function replaceProduct(p) {
    const i = products.findIndex((x) => x.id === p.id);
    const old = cardOf(p.id);
    if (i < 0 || !old) return;
    products[i] = p;
    const fresh = card(p, i);
    fresh.dataset.updates = String(Number(old.dataset.updates || 0) + 1);
    fresh.classList.add('card-changed');
    const control = old.contains(document.activeElement)
      && ['card-open', 'card-edit'].find((c) => document.activeElement.classList.contains(c));
    old.replaceWith(fresh);
    if (control) fresh.querySelector(`.${control}`)?.focus();
  }

  function removeProduct(id) {
    const old = cardOf(id);
    products = products.filter((x) => x.id !== id);
    if (!old) return;
    const next = old.nextElementSibling || old.previousElementSibling;
    const hadFocus = old.contains(document.activeElement);
    old.remove();
    total = Math.max(0, total - 1);
    if (products.length) renderCount();
    else apply(state, { force: true });
    if (hadFocus) (next?.querySelector('.card-open') || heading).focus();
  }

  return {
    apply,
    categoryName,
    shownVersion: (id) => products.find((x) => x.id === id)?.version ?? null,
    replaceProduct,
    removeProduct,
    noteCreated: (id) => { created.add(id); renderNewBar(); },
    forgetCreated: (id) => { if (created.delete(id)) renderNewBar(); },
    productById: (id) => products.find((p) => p.id === id) || null,
    cardButton: (id) => grid.querySelector(`.card[data-id="${CSS.escape(id)}"] .card-open`),
    editButton: (id) => grid.querySelector(`.card[data-id="${CSS.escape(id)}"] .card-edit`),
    // the same products again, e.g. with or without the admin's controls
    redraw: () => grid.replaceChildren(...products.map((p, i) => card(p, i))),
    focusResults: () => heading.focus(),
    describe: (s) => {
      // a document title for the view
      const parts = [];
      if (s.q) parts.push(`“${s.q}”`);
      if (s.category) parts.push(categoryName(s.category));
      if (s.page > 1) parts.push(`page ${s.page}`);
      return parts.length ? `${parts.join(', ')} – Product catalog` : 'Product catalog';
    },
    toSearch,
  };
}
