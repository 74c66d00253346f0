// Tiny DOM helpers: elements are built with createElement and textContent
// only (never parsed as HTML), so API text can never become markup.

// h('p', { class: 'x', 'data-id': 1 }, 'text', child) → <p class="x" data-id="1">text…</p>
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  el.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export const byId = (id) => document.getElementById(id);

// debounce(fn, ms) → a function that calls fn ms after the last call;
// .cancel() drops a pending call, .flush() runs it now.
export function debounce(fn, ms) {
  let timer = null;
  const d = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => { timer = null; fn(...args); }, ms);
  };
  d.cancel = () => { clearTimeout(timer); timer = null; };
  d.pending = () => timer !== null;
  return d;
}

// A plain left click without modifiers (the others open new tabs etc.)
export const plainClick = (e) => e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey && !e.altKey;

// on screen (connected, not display:none): a place focus can go back to
export const visible = (el) => Boolean(el && el.isConnected && el.getClientRects().length);
