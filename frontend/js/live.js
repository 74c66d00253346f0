// The list follows the change feed (GET /api/changes, Server-Sent Events):
// a changed product is updated in place, a deleted one leaves, a created one
// is counted in the "new products" bar, a reset reloads the view.
// Ordering rule: events follow the order the invalidations ran, not always
// the commits': an event (or a product read for one) whose version is at or
// below the one shown is ignored. The admin's own saves are applied from
// the write's answer, so their events change nothing.
// A dropped stream is reopened by the browser (Last-Event-ID); after a
// non-stream answer (503, 502) EventSource gives up: a new one follows
// after a back-off with ?after=<last id>, or a reload when no id is known.
import { api } from './api.js';

const TYPES = ['product.created', 'product.updated', 'product.deleted', 'reset'];

export function createLive({ catalogue, status, reload }) {
  const own = new Set(); // created here: no "new product" note
  const reading = new Map(); // id → the version being read
  let last = null; // { type, at }
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
      if (source.readyState !== EventSource.CLOSED) return; // the browser retries
      source = null;
      blind = !lastId;
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 30000);
    });
  }

  return {
    start() { state('connecting'); open(); },
    created: (id) => own.add(id),
  };
}
