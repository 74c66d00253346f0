// mongo-init/init.js: creates the catalogue collections and indexes, and loads the seed data.
//
// Runs under mongosh in two places:
//   (a) the official mongo:7 image: mount this folder at /docker-entrypoint-initdb.d;
//       there `db` is already the database named by MONGO_INITDB_DATABASE.
//   (b) locally against FerretDB v1 (SQLite backend):
//         npx mongosh "mongodb://127.0.0.1:PORT/catalog" --quiet --file mongo-init/init.js
//
// Environment (all optional):
//   MONGO_INIT_DIR      folder holding products.json / categories.json
//   MONGO_DB            database to initialise (default: the current `db`)
//   MONGO_APP_USER, MONGO_APP_PASSWORD
//                       application user to create (real MongoDB only)
//   SEED_DEMO           1 (default): load the demo catalogue into an empty database;
//                       0: never load products (categories and indexes still made)
//   SEED_PRODUCTS       number of products to seed (default: the 230 of products.json);
//                       above 230, generated products (deterministic) fill up to it —
//                       a large catalogue for tests and the bench (SEED_PRODUCTS=20000)
//
// Idempotent: collections and indexes are created only when missing, categories are
// upserted by slug. Products are seeded once: only when the products collection is
// empty and no earlier run recorded a seeding (the `seed_runs` collection, one document
// `_id: "demo"`), so a product an admin deleted or edited stays deleted or edited, and a
// database that already holds a catalogue is never given the demo. A second run inserts
// nothing and prints the same counts.
//
// Portable subset, because FerretDB v1 lacks these: no $jsonSchema validators, no
// transactions, no collations, no Decimal128. Money is stored as integer cents, and
// case-insensitive sorting uses the precomputed `name_lc` field.

(function mongoInit() {
  const fs = require('fs');
  const path = require('path');

  // ------------------------------------------------------------ locate data --
  function hasData(dir) {
    try {
      return fs.existsSync(path.join(dir, 'products.json')) &&
        fs.existsSync(path.join(dir, 'categories.json'));
    } catch (e) {
      return false;
    }
  }

  function dataDir() {
    if (process.env.MONGO_INIT_DIR) return process.env.MONGO_INIT_DIR;
    if (hasData('/docker-entrypoint-initdb.d')) return '/docker-entrypoint-initdb.d';
    // mongosh defines __dirname for files run with --file / load().
    if (typeof __dirname !== 'undefined' && __dirname && hasData(__dirname)) return __dirname;
    return './mongo-init';
  }

  const dir = dataDir();
  function readJson(name) {
    const file = path.join(dir, name);
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error('mongo-init: cannot read ' + file + ': ' + e.message);
    }
  }
  const categories = readJson('categories.json');
  const products = readJson('products.json');

  // ------------------------------------------------------------- validate --
  const SLUG = /^[a-z0-9-]+$/;
  const HEX24 = /^[0-9a-f]{24}$/i;
  const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
  if (!Array.isArray(categories) || categories.length === 0) throw new Error('mongo-init: categories.json must be a non-empty array');
  if (!Array.isArray(products) || products.length === 0) throw new Error('mongo-init: products.json must be a non-empty array');
  const slugs = new Set();
  for (const c of categories) {
    if (!c || typeof c.slug !== 'string' || !SLUG.test(c.slug) || typeof c.name !== 'string' || !c.name) {
      throw new Error('mongo-init: bad category ' + JSON.stringify(c));
    }
    slugs.add(c.slug);
  }
  const ids = new Set();
  for (const p of products) {
    const bad = (why) => { throw new Error('mongo-init: bad product (' + why + '): ' + JSON.stringify(p)); };
    if (!p || typeof p._id !== 'string' || !HEX24.test(p._id)) bad('_id');
    if (ids.has(p._id.toLowerCase())) bad('duplicate _id');
    ids.add(p._id.toLowerCase());
    if (typeof p.name !== 'string' || !p.name.trim()) bad('name');
    if (typeof p.description !== 'string') bad('description');
    if (!Number.isSafeInteger(p.price_cents) || p.price_cents < 0) bad('price_cents');
    if (!Number.isSafeInteger(p.stock) || p.stock < 0 || p.stock > 2147483647) bad('stock');
    if (!slugs.has(p.category)) bad('category');
    if (typeof p.image !== 'string') bad('image');
    if (!ISO.test(p.created_at) || !ISO.test(p.updated_at)) bad('timestamps');
  }

  // ---------------------------------------------------------- target db --
  const target = process.env.MONGO_DB ? db.getSiblingDB(process.env.MONGO_DB) : db;

  // FerretDB answers buildInfo with extra ferretdb* fields (ferretdbVersion,
  // ferretdbFeatures); real MongoDB does not.
  let isFerret = false;
  try {
    const bi = target.adminCommand({ buildInfo: 1 });
    isFerret = Object.keys(bi).some((k) => k.toLowerCase().startsWith('ferretdb'));
  } catch (e) {
    isFerret = false;
  }

  // ---------------------------------------------------------- collections --
  // FerretDB errors on createCollection for an existing collection (MongoDB
  // does too, unless the options match), so check first.
  const existing = target.getCollectionNames();
  for (const name of ['products', 'categories']) {
    if (!existing.includes(name)) target.createCollection(name);
  }

  // -------------------------------------------------------------- indexes --
  // Create an index only if neither its name nor its key pattern exists yet,
  // so that an index created by hand under another name does not make the
  // script fail with IndexOptionsConflict.
  function ensureIndex(coll, key, options) {
    const keyJson = JSON.stringify(key);
    const have = coll.getIndexes();
    const found = have.some((ix) => ix.name === options.name || JSON.stringify(ix.key) === keyJson);
    if (!found) coll.createIndex(key, options);
  }
  ensureIndex(target.products, { category: 1 }, { name: 'category_1' });
  ensureIndex(target.products, { price_cents: 1 }, { name: 'price_cents_1' });
  ensureIndex(target.products, { created_at: -1 }, { name: 'created_at_-1' });
  ensureIndex(target.products, { name_lc: 1 }, { name: 'name_lc_1' });
  // Compound indexes matching the list sorts, each with the _id tie-breaker
  // the backend always adds, alone and behind category (the one equality
  // filter that narrows a page most): a real MongoDB walks them instead of
  // sorting in memory. FerretDB takes them and sorts in Go anyway. A q
  // (unanchored, case-insensitive substring) can use no index (README).
  for (const [field, dir] of [['created_at', -1], ['price_cents', 1], ['name_lc', 1]]) {
    ensureIndex(target.products, { [field]: dir, _id: dir }, { name: `${field}_${dir}__id_${dir}` });
    ensureIndex(target.products, { category: 1, [field]: dir, _id: dir }, { name: `category_1_${field}_${dir}__id_${dir}` });
  }
  ensureIndex(target.categories, { slug: 1 }, { name: 'slug_1', unique: true });

  // ----------------------------------------------------------- categories --
  for (const c of categories) {
    target.categories.updateOne({ slug: c.slug }, { $set: { name: c.name } }, { upsert: true });
  }

  // ------------------------------------------------------------- products --
  // Seeded once, into an empty database only (see the header).
  const seedDemo = (process.env.SEED_DEMO || '1').trim();
  if (seedDemo !== '0' && seedDemo !== '1') throw new Error('mongo-init: SEED_DEMO must be 0 or 1, not ' + JSON.stringify(seedDemo));
  const seedRaw = (process.env.SEED_PRODUCTS || '').trim();
  if (seedRaw !== '' && !/^[1-9][0-9]{0,6}$/.test(seedRaw)) {
    throw new Error('mongo-init: SEED_PRODUCTS must be a whole number from 1 to 9999999, not ' + JSON.stringify(seedRaw));
  }
  const seedCount = seedRaw === '' ? products.length : Number(seedRaw);

  // one document as the backend and the seed store it
  function toDoc(p) {
    return {
      _id: ObjectId(p._id.toLowerCase()),
      name: p.name,
      name_lc: p.name.toLowerCase(),
      description: p.description,
      price_cents: NumberLong(String(p.price_cents)), // int64 cents (string arg: no mongosh warning); no Decimal128 on FerretDB
      category: p.category,
      stock: NumberInt(p.stock),
      image: p.image,
      created_at: new Date(p.created_at),
      updated_at: new Date(p.updated_at),
      version: NumberInt(1),
    };
  }

  // Products past the demo's: deterministic (a PRNG seeded by n), each a variant
  // of a demo product (its name plus an edition and n, its description, category
  // and image, a price near its own); _id 66…<n in hex>, created_at one minute
  // apart going back from 2024-01-01.
  function generated(n) {
    let a = 20000 + n;
    const rand = () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const base = products[Math.floor(rand() * products.length)];
    const words = ['Classic', 'Pro', 'Lite', 'Max', 'Eco', 'Plus', 'Mini', 'Select', 'Prime', 'Studio'];
    const edition = words[Math.floor(rand() * words.length)];
    const cents = Math.max(99, Math.round(Number(base.price_cents) * (0.6 + rand() * 0.8) / 100) * 100 - 1);
    const at = new Date(Date.UTC(2024, 0, 1) - n * 60000).toISOString().replace(/\.\d+Z$/, 'Z');
    return {
      _id: '66' + n.toString(16).padStart(22, '0'),
      name: base.name + ' ' + edition + ' ' + (n + 1),
      description: base.description,
      price_cents: cents,
      category: base.category,
      stock: Math.floor(rand() * 200),
      image: base.image,
      created_at: at,
      updated_at: at,
    };
  }

  let inserted = 0;
  const marker = target.seed_runs.findOne({ _id: 'demo' });
  const empty = target.products.countDocuments({}, { limit: 1 }) === 0;
  let note = '';
  if (marker) {
    note = 'seeded before';
  } else if (seedDemo === '0') {
    note = 'SEED_DEMO=0';
  } else if (!empty) {
    note = 'not empty';
  } else {
    const BATCH = 1000; // one round trip per batch
    let batch = [];
    const flush = () => {
      if (batch.length === 0) return;
      inserted += Object.keys(target.products.insertMany(batch, { ordered: false }).insertedIds).length;
      batch = [];
    };
    for (let i = 0; i < seedCount; i++) {
      batch.push(toDoc(i < products.length ? products[i] : generated(i)));
      if (batch.length === BATCH) flush();
    }
    flush();
    target.seed_runs.insertOne({ _id: 'demo', products: inserted, at: new Date() });
  }
  // a catalogue that was there before the marker existed (or is the shop's own)
  // never gets the demo, even after every product is deleted; SEED_DEMO=0
  // records nothing (an empty database may still be seeded later)
  if (note === 'not empty') target.seed_runs.insertOne({ _id: 'demo', products: 0, skipped: note, at: new Date() });

  // ------------------------------------------------------ application user --
  // PLACEHOLDER: create the application's own login on real MongoDB only.
  // FerretDB v1 delegates authentication to its backend and has no useful
  // user management, so skip it there. This runs only when both
  // MONGO_APP_USER and MONGO_APP_PASSWORD are set and the user does not exist
  // yet; the user gets readWrite on the catalogue database and nothing else.
  // (In the mongo:7 image this script runs as the MONGO_INITDB_ROOT_USERNAME
  // root user, which may create users.)
  const appUser = process.env.MONGO_APP_USER;
  const appPassword = process.env.MONGO_APP_PASSWORD;
  if (!isFerret && appUser && appPassword) {
    if (!target.getUser(appUser)) {
      target.createUser({
        user: appUser,
        pwd: appPassword,
        roles: [{ role: 'readWrite', db: target.getName() }],
      });
      print('mongo-init: created application user ' + appUser + ' on ' + target.getName());
    }
  }

  // -------------------------------------------------------------- summary --
  const nCategories = target.categories.countDocuments({});
  const nProducts = target.products.countDocuments({});
  print('mongo-init: ' + nCategories + ' categories, ' + nProducts + ' products (' + inserted + ' inserted' +
    (note && note !== 'seeded before' ? '; demo not loaded: ' + note : '') + ')');
})();
