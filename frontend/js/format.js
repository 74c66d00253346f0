// Formatting of prices, counts, dates and stock levels (browser locale).
const moneyFormats = new Map();

// A price in the product's own currency; an unknown code falls back to
// "12.50 XYZ" instead of throwing.
export function money(amount, currency) {
  let f = moneyFormats.get(currency);
  if (f === undefined) {
    try {
      f = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    } catch {
      f = null;
    }
    moneyFormats.set(currency, f);
  }
  return f ? f.format(amount) : `${Number(amount).toFixed(2)} ${currency || ''}`.trim();
}

const integer = new Intl.NumberFormat();
export const number = (n) => integer.format(n);

const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1, minimumFractionDigits: 1 });
export const decimal1 = (n) => oneDecimal.format(n);

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export function dateTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso ?? '') : dateTimeFormat.format(d);
}

// milliseconds with a precision that suits the size: 0.04, 3.2, 120
const msFormats = [0, 1, 2].map((d) => new Intl.NumberFormat(undefined, { maximumFractionDigits: d, minimumFractionDigits: d }));
export const millis = (v) => msFormats[v >= 100 ? 0 : v >= 1 ? 1 : 2].format(v);

const clockFormat = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
export const clock = (d = new Date()) => clockFormat.format(d);

// in stock (more than 5), low (1–5), out (0)
export const LOW_STOCK_MAX = 5;
export function stockInfo(stock) {
  const n = Number(stock);
  if (!(n > 0)) return { level: 'out', label: 'Out of stock' };
  if (n <= LOW_STOCK_MAX) return { level: 'low', label: `Low stock: ${n} left` };
  return { level: 'in', label: 'In stock' };
}

// Only same-origin paths and https: images pass the page's CSP
// (img-src 'self' https: data:); anything else shows the placeholder.
export const PLACEHOLDER_IMAGE = '/images/placeholder.svg';
export function imageSrc(src) {
  if (typeof src !== 'string' || !src) return PLACEHOLDER_IMAGE;
  if (src.startsWith('/') && !src.startsWith('//')) return src;
  if (/^https:\/\//i.test(src)) return src;
  return PLACEHOLDER_IMAGE;
}

// "parameter 'x' must be…" → "Parameter 'x' must be…."
export function sentence(text) {
  const s = String(text ?? '').trim();
  if (!s) return '';
  const t = s[0].toUpperCase() + s.slice(1);
  return /[.!?…]$/.test(t) ? t : `${t}.`;
}
