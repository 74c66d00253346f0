// The catalogue follows the change feed (GET /api/changes, Server-Sent
// Events): a product changed elsewhere is updated in place, a deleted one
// leaves the list, a created one is counted in a "new products" bar instead
// of moving the list, and a reset reloads the view.
//
// Ordering rule: events come in the order the backends' invalidations ran,
// which can differ from the order of their MongoDB commits, so an event (or
// a product read for one) whose version is at or below the one on screen
// is ignored. The admin's own saves are applied from the write's answer:
// their events then carry a version already shown and change nothing.
//
// A dropped stream is reopened by the browser, with Last-Event-ID. An
// answer that is not a stream (503, nginx's 502) makes EventSource give up:
// a new one follows after a back-off, with ?after=<last id>, or — with no
// id yet, so a gap cannot be replayed — a reload once connected.
import { api } from './api.js';

const TYPES = ['product.created', 'product.updated', 'product.deleted', 'reset'];

// catalogue: js/catalogue.js; status: js/status.js; reload(): the view again.
export function createLive({ catalogue, status, reload }) {
  const own = new Set(); // created on this page: no "new product" note
  const reading = new Map(); // product id → the version a read is under way for
  let last = null; // { type, at } of the last event
  let source = null;
  let lastId = '';
  let delay = 1000;
  let blind = false;
  const state = (s) => status.feed(s, last);

  async function updated(data) {
    const shown = catalogue.shownVersion(data.id);
    if (shown === null || data.version <= shown || (reading.get(data.id) || 0) >= data.version) return;
    reading.set(data.id, data.version);
    try {
      const { body } = await api(`/api/products/${encodeURIComponent(data.id)}`);
      const now = catalogue.shownVersion(data.id);
      if (now !== null && body.version > now) catalogue.replaceProduct(body);
    } catch (e) {
      if (e.status === 404) catalogue.removeProduct(data.id);
    } finally {
      if (reading.get(data.id) === data.version) reading.delete(data.id);
    }
  }

  function onEvent(type, e) {
    if (e.lastEventId) lastId = e.lastEventId;
    let data;
    try { data = JSON.parse(e.data); } catch { return; }
    last = { type, at: new Date() };
    state('connected');
    if (type === 'reset') return reload();
    if (typeof data.id !== 'string' || !(data.version > 0)) return;
    const shown = catalogue.shownVersion(data.id);
    if (type === 'product.updated') updated(data);
    else if (type === 'product.created') { if (shown === null && !own.has(data.id)) catalogue.noteCreated(data.id); }
    else if (shown !== null && data.version > shown) catalogue.removeProduct(data.id);
    else catalogue.forgetCreated(data.id);
  }

  function open() {
    source = new EventSource(lastId ? `/api/changes?after=${encodeURIComponent(lastId)}` : '/api/changes');
    source.addEventListener('open', () => {
      delay = 1000;
      state('connected');
      if (blind) reload();
      blind = false;
    });
    for (const type of TYPES) source.addEventListener(type, (e) => onEvent(type, e));
    source.addEventListener('error', () => {
      state('reconnecting');
      if (source.readyState !== EventSource.CLOSED) return; // the browser retries by itself
      source = null;
      blind = !lastId;
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }

  return {
    start() { state('connecting'); open(); },
    created: (id) => own.add(id), // a product the admin created here
  };
}
