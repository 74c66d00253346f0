// Minimal product list until the dashboard replaces it: newest products
// from /api/products and the backend's liveness.
const list = document.getElementById('products');
const summary = document.getElementById('summary');
const status = document.getElementById('status');

function money(price, currency) {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(price);
}

async function load() {
  try {
    const res = await fetch('/api/products?limit=24');
    const body = await res.json();
    if (!res.ok) throw new Error(body.detail || body.title || res.statusText);
    summary.textContent = `${body.count} products`;
    list.replaceChildren(...body.products.map((p) => {
      const li = document.createElement('li');
      const img = document.createElement('img');
      img.src = p.image || '/images/placeholder.svg';
      img.alt = p.name;
      const name = document.createElement('div');
      name.textContent = p.name;
      const price = document.createElement('div');
      price.className = 'price';
      price.textContent = money(p.price, p.currency);
      const meta = document.createElement('div');
      meta.className = 'muted';
      meta.textContent = `${p.category} · ${p.stock > 0 ? `${p.stock} in stock` : 'out of stock'}`;
      li.append(img, name, price, meta);
      return li;
    }));
  } catch (e) {
    summary.textContent = `Could not load products: ${e.message}`;
  }
}

async function health() {
  try {
    const res = await fetch('/health');
    status.textContent = res.ok ? 'backend OK' : `backend: ${res.status}`;
  } catch {
    status.textContent = 'backend unreachable';
  }
}

load();
health();
