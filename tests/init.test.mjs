// mongo-init: runs through mongosh against the local MongoDB-wire server,
// twice, with identical results; the seed is realistic and self-contained.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { root, startStack } from './lib/stack.mjs';

let s;
before(async () => { s = await startStack({ backends: 0, init: false }); });
after(async () => s && s.stop());

// every document of both collections, in _id order, as canonical JSON
function dump() {
  return s.mongosh(`JSON.stringify({
    p: db.products.find().sort({ _id: 1 }).toArray(),
    c: db.categories.find({}, { _id: 0 }).sort({ slug: 1 }).toArray(),
    i: db.products.getIndexes().map((x) => x.name).sort(),
  })`);
}

test('init.js twice: same summary, identical documents and indexes', () => {
  const first = s.runInit().trim();
  assert.match(first, /^mongo-init: (\d+) categories, (\d+) products \(\2 inserted\)$/);
  const a = dump();
  const second = s.runInit().trim();
  assert.match(second, /^mongo-init: \d+ categories, \d+ products \(0 inserted\)$/);
  assert.equal(second.replace(/\(.*\)/, ''), first.replace(/\(.*\)/, ''));
  assert.equal(dump(), a);
});

test('seed: at least 200 products in at least 8 categories, typed fields, indexes', () => {
  const n = Number(s.mongosh('db.products.countDocuments()'));
  assert.ok(n >= 200, `${n} products`);
  const cats = JSON.parse(s.mongosh('JSON.stringify(db.products.distinct("category"))'));
  assert.ok(cats.length >= 8);
  const bad = Number(s.mongosh(`db.products.countDocuments({ $or: [
    { price_cents: { $not: { $type: 'long' } } }, { created_at: { $not: { $type: 'date' } } },
    { updated_at: { $not: { $type: 'date' } } }, { name_lc: { $exists: false } }, { version: { $exists: false } } ] })`));
  assert.equal(bad, 0);
  const idx = JSON.parse(s.mongosh('JSON.stringify(db.products.getIndexes().map((x) => Object.keys(x.key)[0]))'));
  for (const k of ['category', 'price_cents', 'created_at', 'name_lc']) assert.ok(idx.includes(k), k);
  // the sorts' compound indexes, with the _id tie-breaker, alone and behind category
  const keys = JSON.parse(s.mongosh('JSON.stringify(db.products.getIndexes().map((x) => x.key))'));
  const has = (k) => keys.some((x) => JSON.stringify(x) === JSON.stringify(k));
  for (const [f, d] of [['created_at', -1], ['price_cents', 1], ['name_lc', 1]]) {
    assert.ok(has({ [f]: d, _id: d }), `${f} ${d}, _id`);
    assert.ok(has({ category: 1, [f]: d, _id: d }), `category, ${f} ${d}, _id`);
  }
});

test('an edited product is not overwritten by a later run', () => {
  s.mongosh('db.products.updateOne({ _id: ObjectId("650000000000000000000001") }, { $set: { name: "Edited" } })');
  s.runInit();
  assert.equal(s.mongosh('db.products.findOne({ _id: ObjectId("650000000000000000000001") }).name'), 'Edited');
});

test('image URLs point at files the project ships (works offline)', () => {
  const images = JSON.parse(s.mongosh('JSON.stringify(db.products.distinct("image"))'));
  for (const img of images) {
    assert.match(img, /^\/images\//, img);
    assert.ok(fs.existsSync(path.join(root, 'frontend', img)), img);
  }
});

// One seeding scheme: the demo goes only into an empty database, once.
test('a deleted product does not come back on the next run', () => {
  s.mongosh('db.products.deleteOne({ _id: ObjectId("650000000000000000000002") })');
  const n = Number(s.mongosh('db.products.countDocuments()'));
  assert.match(s.runInit().trim(), /\(0 inserted\)$/);
  assert.equal(Number(s.mongosh('db.products.countDocuments()')), n);
  assert.equal(s.mongosh('db.products.countDocuments({ _id: ObjectId("650000000000000000000002") })'), '0');
});

test('every product deleted: still not seeded again (the seeding is recorded)', () => {
  s.runInit('wiped');
  s.mongosh('db.products.deleteMany({})', 'wiped');
  assert.match(s.runInit('wiped').trim(), /, 0 products \(0 inserted\)$/);
  assert.equal(s.mongosh('db.seed_runs.countDocuments({ _id: "demo" })', 'wiped'), '1');
});

test('a database that already holds products gets no demo', () => {
  s.mongosh('db.products.insertOne({ name: "Our own", name_lc: "our own", price_cents: NumberLong(100) })', 'shop');
  assert.match(s.runInit('shop').trim(), /, 1 products \(0 inserted; demo not loaded: not empty\)$/);
  assert.equal(s.mongosh('db.products.countDocuments()', 'shop'), '1');
  assert.match(s.mongosh('JSON.stringify(db.categories.distinct("slug"))', 'shop'), /home-kitchen/);
});

test('SEED_DEMO=0: categories and indexes, no products; a later run without it seeds the still empty database', () => {
  assert.match(s.runInit('prod', { SEED_DEMO: '0' }).trim(), /, 0 products \(0 inserted; demo not loaded: SEED_DEMO=0\)$/);
  assert.ok(Number(s.mongosh('db.categories.countDocuments()', 'prod')) >= 8);
  assert.match(s.runInit('prod').trim(), /products \(230 inserted\)$/);
});

test('bad SEED_DEMO / SEED_PRODUCTS: a clear error, nothing written', () => {
  for (const [k, v, re] of [['SEED_DEMO', 'no', /SEED_DEMO must be 0 or 1/], ['SEED_PRODUCTS', '20k', /SEED_PRODUCTS must be a whole number/],
    ['SEED_PRODUCTS', '0', /SEED_PRODUCTS must be/]]) {
    assert.throws(() => s.runInit('bad', { [k]: v }), (e) => re.test(String(e.stderr) + String(e.stdout)), `${k}=${v}`);
  }
  assert.equal(s.mongosh('db.products.countDocuments()', 'bad'), '0');
});

test('SEED_PRODUCTS=20000: the demo plus generated products shaped like it, fast, twice identical', () => {
  const t0 = Date.now();
  assert.match(s.runInit('big', { SEED_PRODUCTS: '20000' }).trim(), /, 20000 products \(20000 inserted\)$/);
  const ms = Date.now() - t0;
  assert.ok(ms < 90000, `${ms} ms`);
  console.log(`# SEED_PRODUCTS=20000 loaded in ${ms} ms`);
  const slugs = JSON.parse(s.mongosh('JSON.stringify(db.categories.distinct("slug"))', 'big'));
  assert.deepEqual(JSON.parse(s.mongosh('JSON.stringify(db.products.distinct("category"))', 'big')).filter((c) => !slugs.includes(c)), []);
  const bad = Number(s.mongosh(`db.products.countDocuments({ $or: [
    { price_cents: { $not: { $type: 'long' } } }, { price_cents: { $lt: 0 } }, { stock: { $not: { $type: 'int' } } },
    { created_at: { $not: { $type: 'date' } } }, { updated_at: { $not: { $type: 'date' } } },
    { version: { $ne: 1 } }, { name_lc: { $exists: false } }, { image: { $not: /^\\/images\\// } } ] })`, 'big'));
  assert.equal(bad, 0);
  // name_lc is the name lower-cased as JavaScript does, for every document; names unique
  const check = JSON.parse(s.mongosh(`const all = db.products.find({}, { name: 1, name_lc: 1 }).toArray();
    JSON.stringify({ n: all.length, wrong: all.filter((p) => p.name_lc !== p.name.toLowerCase()).length,
      unique: new Set(all.map((p) => p.name)).size })`, 'big'));
  assert.deepEqual(check, { n: 20000, wrong: 0, unique: 20000 });
  const before = s.mongosh('JSON.stringify(db.products.find({ _id: { $gte: ObjectId("660000000000000000004e1f") } }).sort({ _id: 1 }).toArray())', 'big');
  assert.match(s.runInit('big', { SEED_PRODUCTS: '20000' }).trim(), /\(0 inserted\)$/);
  // the generator is deterministic: a second database gets the same products
  s.runInit('big2', { SEED_PRODUCTS: '20000' });
  assert.equal(s.mongosh('JSON.stringify(db.products.find({ _id: { $gte: ObjectId("660000000000000000004e1f") } }).sort({ _id: 1 }).toArray())', 'big2'), before);
});
