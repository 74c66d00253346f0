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
