// The catalogue dashboard: plain ES modules, no build step, no outside
// resource (the page's CSP allows none). This file owns the URL: the view's
// state is the page's query string (js/state.js), every change is a
// history entry (pushState), and back/forward re-render it (popstate).
// A signed-in admin also gets the editor (js/signin.js, js/editor.js).
import { current } from './js/auth.js';
import { createCatalogue } from './js/catalogue.js';
import { createDetail } from './js/detail.js';
import { byId, h, visible } from './js/dom.js';
import { createEditor } from './js/editor.js';
import { createLive } from './js/live.js';
import { createSignin } from './js/signin.js';
import { parseState, toSearch, urlOf } from './js/state.js';
import { createStatus } from './js/status.js';

let state = parseState(location.search);

const catalogue = createCatalogue({ navigate, openProduct, cardActions });
const detail = createDetail({ onClose: detailClosed, categoryName: (slug) => catalogue.categoryName(slug) });

// patch: fields of the state to change. A change of the list goes back to
// page 1 unless keepPage; focusResults moves the focus to the results
// heading (pagination), so keyboard users start at the new page's top.
function navigate(patch, { keepPage = false, focusResults = false } = {}) {
  const next = { ...state, ...patch, product: '' };
  if (!keepPage) next.page = 1;
  if (toSearch(next) === toSearch(state)) return;
  history.pushState(null, '', urlOf(next));
  render(next, { focusResults });
}

function render(next, opts = {}) {
  state = next;
  document.title = catalogue.describe(state);
  catalogue.apply(state, opts);
  if (state.product) {
    if (detail.currentId !== state.product) detail.open(state.product, catalogue.productById(state.product), null);
  } else if (detail.isOpen) {
    detail.close();
  }
}

function openProduct(product, opener) {
  const next = { ...state, product: product.id };
  history.pushState({ detail: true }, '', urlOf(next));
  state = next;
  detail.open(product.id, product, opener);
}

// Escape, the Close button, the backdrop, or back/forward closed the dialog
function detailClosed({ opener, id }) {
  if (state.product) {
    const next = { ...state, product: '' };
    state = next;
    // the entry openProduct pushed is left the way it came (so forward
    // reopens it); a product that came in the URL is just dropped
    if (history.state && history.state.detail) history.back();
    else history.replaceState(null, '', urlOf(next));
  }
  const back = (opener && opener.isConnected && opener) || (id && catalogue.cardButton(id));
  if (back) back.focus();
  else catalogue.focusResults();
}

window.addEventListener('popstate', () => render(parseState(location.search)));

// a URL with invalid or default values is rewritten to its canonical form
if (toSearch(state) !== location.search) history.replaceState(history.state, '', urlOf(state));
render(state);

const status = createStatus();
status.start();

const live = createLive({ catalogue, status, reload: () => catalogue.apply(state, { force: true }) });
live.start();

// --- admin -----------------------------------------------------------------

const note = byId('admin-note');
const announce = (text) => { note.textContent = text; };

const signin = createSignin({
  addProduct: (opener) => editor.open('', opener),
  changed: () => catalogue.redraw(), // the cards' Edit buttons come and go
  announce,
});

const editor = createEditor({
  reauth: (problem) => signin.open({ reason: problem }),
  // edits and deletes apply the answer in place
  saved: async ({ id, deleted, created, product, text }) => {
    announce(text);
    if (deleted) catalogue.removeProduct(id);
    else if (!created && catalogue.shownVersion(id) !== null) {
      if (product.version > catalogue.shownVersion(id)) catalogue.replaceProduct(product);
    } else {
      if (created) live.created(id);
      // the next read is fresh (the backend drops its cache on a write)
      await catalogue.apply(state, { force: true });
    }
    // the Edit button that opened the editor went with the old cards
    if (!visible(document.activeElement) || document.activeElement === document.body) {
      const b = !deleted && catalogue.editButton(id);
      if (b) b.focus();
      else catalogue.focusResults();
    }
  },
  onClose: ({ opener, id }) => {
    const gone = id && catalogue.shownVersion(id) === null;
    const back = [opener, id && catalogue.editButton(id), gone ? byId('results-heading') : current() ? byId('add-product') : byId('signin-open')].find(visible);
    if (back) back.focus();
  },
});

function cardActions(p) {
  if (!current()) return null;
  const b = h('button', { type: 'button', class: 'button button-small button-secondary card-edit', 'aria-haspopup': 'dialog', 'aria-label': `Edit ${p.name}` }, 'Edit');
  b.addEventListener('click', () => editor.open(p.id, b));
  return b;
}
