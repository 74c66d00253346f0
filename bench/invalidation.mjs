// How much of what a write retires could not have shown the product
// (issue 12's invalidation granularity). Every write bumps the one
// generation, which retires every cached list and the categories. Here:
// the demo catalogue (mongo-init/products.json), the list filters a
// storefront and the dashboard ask for (everything, each category, five
// price bands, each category in each band, in stock, each category in
// stock), and a mix of admin writes (stock, price ±20%, category change,
// create, delete) drawn with a fixed seed. For each write, a list "could
// show" the product when its filter matches the product before or after
// the write — those must miss; the rest miss needlessly. Prints the
// shares; never fails on a number. Usage: node bench/invalidation.mjs [writes]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const products = JSON.parse(fs.readFileSync(path.join(root, 'mongo-init/products.json'), 'utf8'));
const categories = JSON.parse(fs.readFileSync(path.join(root, 'mongo-init/categories.json'), 'utf8')).map((c) => c.slug);
const bands = [[0, 999], [1000, 2499], [2500, 4999], [5000, 9999], [10000, Infinity]];

const filters = [{ name: 'all', test: () => true }];
for (const c of categories) filters.push({ name: `category=${c}`, test: (p) => p.category === c });
for (const [lo, hi] of bands) filters.push({ name: `price ${lo}-${hi}`, test: (p) => p.price_cents >= lo && p.price_cents <= hi });
for (const c of categories) {
  for (const [lo, hi] of bands) filters.push({ name: `${c} ${lo}-${hi}`, test: (p) => p.category === c && p.price_cents >= lo && p.price_cents <= hi });
}
filters.push({ name: 'in_stock', test: (p) => p.stock > 0 });
for (const c of categories) filters.push({ name: `${c} in_stock`, test: (p) => p.category === c && p.stock > 0 });

let seed = 12;
const rand = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const pick = (a) => a[Math.floor(rand() * a.length)];
const kinds = [
  ['stock', 0.5, (p) => ({ ...p, stock: rand() < 0.1 ? 0 : p.stock + 1 + Math.floor(rand() * 20) })],
  ['price', 0.3, (p) => ({ ...p, price_cents: Math.max(1, Math.round(p.price_cents * (0.8 + rand() * 0.4))) })],
  ['category', 0.1, (p) => ({ ...p, category: pick(categories.filter((c) => c !== p.category)) })],
  ['create', 0.05, (p) => null],
  ['delete', 0.05, (p) => null],
];

const writes = Number(process.argv[2] || 10000);
const by = new Map(kinds.map(([k]) => [k, { n: 0, needless: 0 }]));
let total = 0;
let needless = 0;
for (let i = 0; i < writes; i++) {
  let r = rand();
  const [kind, , change] = kinds.find(([, w]) => (r -= w) < 0) || kinds[0];
  const p = pick(products);
  // a create has no "before", a delete no "after": the product itself is the one side
  const before = kind === 'create' ? null : p;
  const after = kind === 'delete' ? null : kind === 'create' ? p : change(p);
  const useless = filters.filter((f) => !(before && f.test(before)) && !(after && f.test(after))).length;
  total += filters.length;
  needless += useless;
  const k = by.get(kind);
  k.n += filters.length;
  k.needless += useless;
}
console.log(`${products.length} products, ${filters.length} list filters, ${writes} writes`);
console.log(`lists retired that could not show the product: ${(100 * needless / total).toFixed(1)}% (${(needless / writes).toFixed(1)} of ${filters.length} per write)`);
for (const [kind, k] of by) if (k.n) console.log(`  ${kind.padEnd(9)} ${(100 * k.needless / k.n).toFixed(1)}%`);
