// The view's state lives in the page's own query string, so a shared link
// reopens the same view and back/forward work:
//   /?q=mug&category=books&min_price=5&max_price=20.50&in_stock=true&sort=price&size=50&page=2&product=<id>
// Defaults are left out of the URL; invalid values fall back to defaults.

export const SORTS = { newest: '-created_at', price: 'price', '-price': '-price', name: 'name' };
export const SIZES = [10, 20, 50, 100];
export const DEFAULT_SIZE = 20;
export const Q_MAX = 100;
export const PRICE_RE = /^\d{1,9}(\.\d{1,2})?$/;
const ID_RE = /^[0-9a-f]{24}$/i;

export function parseState(search) {
  const p = new URLSearchParams(search);
  const int = (v) => (/^\d{1,9}$/.test(v ?? '') ? Number(v) : NaN);
  const price = (v) => (v !== null && PRICE_RE.test(v.trim()) ? v.trim() : '');
  const page = int(p.get('page'));
  const size = int(p.get('size'));
  const sort = p.get('sort');
  const product = p.get('product') ?? '';
  return {
    q: (p.get('q') ?? '').trim().slice(0, Q_MAX),
    category: (p.get('category') ?? '').trim(),
    minPrice: price(p.get('min_price')),
    maxPrice: price(p.get('max_price')),
    inStock: p.get('in_stock') === 'true',
    sort: sort !== null && Object.hasOwn(SORTS, sort) ? sort : 'newest',
    size: SIZES.includes(size) ? size : DEFAULT_SIZE,
    page: page >= 1 ? page : 1,
    product: ID_RE.test(product) ? product.toLowerCase() : '',
  };
}

// "?q=…&page=2" (or "" for the default view)
export function toSearch(s) {
  const p = new URLSearchParams();
  if (s.q) p.set('q', s.q);
  if (s.category) p.set('category', s.category);
  if (s.minPrice) p.set('min_price', s.minPrice);
  if (s.maxPrice) p.set('max_price', s.maxPrice);
  if (s.inStock) p.set('in_stock', 'true');
  if (s.sort !== 'newest') p.set('sort', s.sort);
  if (s.size !== DEFAULT_SIZE) p.set('size', String(s.size));
  if (s.page > 1) p.set('page', String(s.page));
  if (s.product) p.set('product', s.product);
  const str = p.toString();
  return str ? `?${str}` : '';
}

export const urlOf = (s) => `${location.pathname}${toSearch(s)}`;

// identifies one list request (the open product is not part of it)
export const listKey = (s) => toSearch({ ...s, product: '' });

export const hasFilters = (s) => Boolean(s.q || s.category || s.minPrice || s.maxPrice || s.inStock);

// parameters of GET /api/products for this view
export function apiParams(s) {
  const p = new URLSearchParams();
  p.set('limit', String(s.size));
  p.set('offset', String((s.page - 1) * s.size));
  p.set('order', SORTS[s.sort]);
  if (s.q) p.set('q', s.q);
  if (s.category) p.set('category', s.category);
  if (s.minPrice) p.set('min_price', s.minPrice);
  if (s.maxPrice) p.set('max_price', s.maxPrice);
  if (s.inStock) p.set('in_stock', 'true');
  return p;
}
