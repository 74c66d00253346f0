// The list follows the change feed (/api/changes): updates in place,
// deletes, new products counted in a bar, a reset reloads. An event (or a
// product read for one) at or below the version shown is ignored: events
// follow the invalidations' order, not always the commits'. After a
// non-stream answer EventSource gives up: reopen after a back-off with
// ?after=<last id>, or reload when no id is known.
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
      const { body } = await api(`/api/products/${data.id}`);
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
    source = new EventSource(`/api/changes${lastId ? `?after=${lastId}` : ''}`);
    source.addEventListener('open', () => {
      delay = 1000;
      state('connected');
      if (blind) reload();
      blind = false;
    });
    for (const type of TYPES) source.addEventListener(type, (e) => onEvent(type, e));
    source.addEventListener('error', () => {
      state('reconnecting');
      if (source.readyState !== 2) return; // CONNECTING: the browser retries
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
