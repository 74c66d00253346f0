#!/usr/bin/env node
// Generates mongo-init/products.json and mongo-init/categories.json.
//
// Deterministic: a seeded PRNG (mulberry32) drives every choice, so running
// `node mongo-init/generate-products.mjs` twice produces byte-identical files.
// Product names and descriptions are built from per-category word lists
// (brands x models x product lines, each line with its own feature sentences),
// plus a handful of hand-written "special" products whose names contain regex
// metacharacters, quotes, brackets, percent signs and non-ASCII text so that
// search escaping and case-insensitive sorting get exercised.

import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const SEED = 20250314;
const PER_CATEGORY = 23; // 10 categories x 23 = 230 products

// ---------------------------------------------------------------- PRNG ----
function mulberry32(a) {
  return function () {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = mulberry32(SEED);
const randInt = (min, max) => min + Math.floor(rand() * (max - min + 1));
const pick = (arr) => arr[Math.floor(rand() * arr.length)];
function shuffle(arr) {
  const a = arr.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

// Realistic price endings: mostly .99, some .95, some whole, some .50.
function price(min, max) {
  const base = randInt(Math.floor(min / 100), Math.floor(max / 100));
  const r = rand();
  let cents;
  if (r < 0.6) cents = base * 100 + 99;
  else if (r < 0.75) cents = base * 100 + 95;
  else if (r < 0.9) cents = base * 100;
  else cents = base * 100 + 50;
  return Math.max(99, Math.min(249999, cents));
}

// ----------------------------------------------------------- categories ----
// Each product line: noun, image variant, price range in cents, features.
const CATEGORIES = [
  {
    slug: 'electronics',
    name: 'Electronics',
    brands: ['Auralux', 'Brightwave', 'Kestrel', 'Novatek', 'Vantix', 'Lumora', 'Orbitron', 'Zephyr'],
    models: ['Pro', 'Air', 'Studio', 'Go', 'Max', 'Neo', 'S2', 'Lite', 'X5', 'Flex'],
    lines: [
      { noun: 'Wireless Noise-Cancelling Headphones', img: 'headphones', min: 7999, max: 34999, feats: [
        'Adaptive noise cancelling tunes out engine hum and open-plan chatter.',
        'Up to 40 hours of playback, and a 10-minute USB-C top-up adds another five.',
        'Memory-foam ear cushions stay comfortable through long-haul flights.',
        'Multipoint Bluetooth 5.3 switches between your laptop and phone automatically.'] },
      { noun: 'True Wireless Earbuds', img: 'headphones', min: 2999, max: 19999, feats: [
        'A pocket-sized charging case holds three extra full charges.',
        'IPX5 sweat resistance makes them a safe pick for the gym.',
        'Three sizes of silicone tips are included for a secure, sealed fit.',
        'Low-latency game mode keeps audio in sync with video.'] },
      { noun: 'Portable Bluetooth Speaker', img: 'headphones', min: 3499, max: 17999, feats: [
        'A passive bass radiator delivers surprisingly deep sound for its size.',
        'Waterproof to IP67, it shrugs off pool splashes and sudden rain.',
        'Pair two units for true stereo at your next picnic.',
        'Twelve hours of battery life on a single charge.'] },
      { noun: '14-inch Ultrabook', img: 'laptop', min: 69999, max: 189999, feats: [
        'A 2.8K OLED display with 100% DCI-P3 coverage makes photos pop.',
        'The aluminium unibody weighs just 1.2 kg and is 14 mm thin.',
        'All-day battery life and a 65 W USB-C charger in the box.',
        'Backlit keyboard, fingerprint reader and a 1080p webcam with privacy shutter.'] },
      { noun: '16-inch Creator Laptop', img: 'laptop', min: 149999, max: 249999, feats: [
        'A dedicated graphics card and 32 GB of RAM handle 4K video timelines with ease.',
        'The 165 Hz display is factory-calibrated for colour-accurate editing.',
        'Vapor-chamber cooling keeps fans quiet under sustained load.',
        'Thunderbolt 4, HDMI 2.1 and a full-size SD card reader.'] },
      { noun: '10-inch Android Tablet', img: 'laptop', min: 14999, max: 49999, feats: [
        'A bright 2K display is perfect for streaming and reading.',
        'Quad speakers tuned for movies and video calls.',
        'Expandable storage via microSD up to 1 TB.',
        'Kids mode with parental controls comes built in.'] },
      { noun: '4K Streaming Stick', img: 'laptop', min: 2999, max: 7999, feats: [
        'Plug it into any HDMI port for 4K HDR streaming with Dolby Vision.',
        'The voice remote also controls your TV volume and power.',
        'Wi-Fi 6 support means fewer buffering pauses.'] },
      { noun: 'Mechanical Keyboard', img: 'cable', min: 5999, max: 21999, feats: [
        'Hot-swappable switches let you change the feel without soldering.',
        'Per-key RGB lighting with on-board profiles.',
        'A compact 75% layout keeps the arrow keys and frees up desk space.',
        'Connects over USB-C, 2.4 GHz wireless or Bluetooth.'] },
      { noun: 'Wireless Ergonomic Mouse', img: 'cable', min: 1999, max: 9999, feats: [
        'A sculpted vertical grip eases wrist strain during long sessions.',
        'Silent click switches keep the office quiet.',
        'Runs for up to 70 days on a full charge.'] },
      { noun: '65W GaN USB-C Charger', img: 'cable', min: 2499, max: 5999, feats: [
        'Gallium-nitride design charges a laptop, tablet and phone from one compact brick.',
        'Foldable prongs make it travel-friendly.',
        'Smart power allocation protects connected devices from overheating.'] },
      { noun: '20000mAh Power Bank', img: 'cable', min: 2999, max: 6999, feats: [
        'Enough capacity to charge most phones four times over.',
        'Two USB-C ports and one USB-A port, all with fast charging.',
        'A small display shows the exact remaining charge.'] },
      { noun: '1080p Webcam', img: 'laptop', min: 3999, max: 12999, feats: [
        'Auto light correction keeps you visible in dim rooms.',
        'Dual noise-reducing microphones pick up your voice, not your keyboard.',
        'Clips onto any monitor or mounts on a standard tripod.'] },
    ],
    closers: ['Includes a two-year limited warranty.', 'Ships with a USB-C cable and quick-start guide.', 'Free firmware updates for the life of the product.'],
    specials: [
      { name: '"Mega.Deal" Cable [2m]', img: 'cable', price: 1250, description: 'Braided USB-C to USB-C cable, two metres long and rated for 100 W charging and 10 Gbps data. Our best-selling bundle deal.' },
      { name: 'iCharge 3-in-1 Wireless Charging Stand', img: 'cable', price: 5999, description: 'Charges a phone, earbuds and a smartwatch at the same time. Weighted base and soft-touch finish for the nightstand.' },
      { name: 'eReader Paperlight 6-inch Glare-Free Display', img: 'laptop', price: 10999, description: 'A 300 ppi e-ink screen that reads like paper, even in direct sunlight. Weeks of battery life and a warm front light for night reading.' },
      { name: 'Vantix Titan 18 Workstation Laptop', img: 'laptop', price: 249999, description: 'Our flagship mobile workstation: 64 GB RAM, 4 TB SSD and a 240 Hz mini-LED display. Built for 3D rendering, machine learning and 8K editing.' },
    ],
  },
  {
    slug: 'books',
    name: 'Books',
    // Books are explicit titles (combined with an author and genre blurb).
    titles: [
      ['The Quiet Orchard', 'Helena Marsh', 'novel'],
      ['A Field Guide to Wild Mushrooms', 'Tomas Birk', 'guide'],
      ['Salt, Smoke and Fire', 'Rafael Ortega', 'cookbook'],
      ['Designing Data-Intensive Systems', 'M. K. Lindqvist', 'tech'],
      ['The Lighthouse Keeper\'s Daughter', 'Isla Penrose', 'novel'],
      ['Zero to Marathon in 20 Weeks', 'Dana Whitfield', 'guide'],
      ['Learning Rust the Hard Way', 'Priya Raman', 'tech'],
      ['Night Trains of Europe', 'Oskar Vellinga', 'travel'],
      ['Under a Copper Sky', 'Naomi Achterberg', 'novel'],
      ['The Sourdough Notebook', 'Claire Dubois', 'cookbook'],
      ['Kingdom of Glass', 'J. T. Harrow', 'fantasy'],
      ['Practical Statistics for Engineers', 'Wen Zhao', 'tech'],
      ['Everyday Stoicism', 'Marcus Hale', 'nonfiction'],
      ['The Cartographer\'s Secret', 'Elena Voss', 'mystery'],
      ['Quantum Gardens', 'Ade Okonkwo', 'scifi'],
      ['Bread, Cheese and Wine', 'Luca Bernardi', 'cookbook'],
      ['Hidden Coves of the Adriatic', 'Mira Kovač', 'travel'],
      ['Yesterday\'s Storm', 'Grace Whitlock', 'mystery'],
      ['Modern C Programming', 'Jens Gustedt-Nilsen', 'tech'],
      ['Orbit of Ashes', 'K. R. Delacroix', 'scifi'],
    ],
    genres: {
      novel: { img: 'open', min: 1299, max: 2499, feats: ['A luminous, slow-burning story about family, memory and the places we leave behind.', 'Shortlisted for several literary prizes, this novel is a book-club favourite.'] },
      guide: { img: 'stack', min: 1499, max: 3499, feats: ['Clear, practical advice backed by hundreds of colour photographs.', 'Written for beginners but detailed enough to stay on the shelf for years.'] },
      cookbook: { img: 'stack', min: 2499, max: 4499, feats: ['Over 120 recipes with step-by-step photographs and pantry tips.', 'Seasonal menus, make-ahead notes and a chapter on feeding a crowd.'] },
      tech: { img: 'stack', min: 3499, max: 6999, feats: ['Hands-on chapters with runnable examples and end-of-chapter exercises.', 'Explains the trade-offs behind real-world systems in plain language.'] },
      travel: { img: 'open', min: 1799, max: 3299, feats: ['Fold-out maps, itineraries and honest recommendations from a seasoned traveller.', 'Beautifully photographed, with practical notes on when to go and what to skip.'] },
      fantasy: { img: 'open', min: 999, max: 2299, feats: ['The first book in an epic trilogy of rival courts and forbidden magic.', 'Sweeping world-building with a cast you will not forget.'] },
      mystery: { img: 'open', min: 999, max: 1999, feats: ['A twisting page-turner where every chapter hides a new clue.', 'Atmospheric, clever and impossible to put down.'] },
      scifi: { img: 'open', min: 999, max: 2299, feats: ['A bold, big-idea science fiction adventure set across three star systems.', 'Hard science and human drama in perfect balance.'] },
      nonfiction: { img: 'stack', min: 1499, max: 2799, feats: ['Short, practical chapters that apply ancient wisdom to modern life.', 'An international bestseller translated into 30 languages.'] },
    },
    formats: ['Paperback', 'Hardcover'],
    specials: [
      { name: 'C++ Primer (5th Edition)', img: 'stack', price: 5499, description: 'The classic introduction to modern C++, fully updated for C++11 with clear examples and exercises. Ideal for programmers new to the language.' },
      { name: 'eBook Reader\'s Companion: 500 Must-Read Classics', img: 'open', price: 1999, description: 'A lovingly curated list of 500 classic novels, each with a short summary and a note on why it still matters.' },
      { name: 'Regular Expressions Pocket Reference: ^$.*+?()[]{}|', img: 'stack', price: 1495, description: 'A compact reference to regex syntax across languages, from anchors and quantifiers to lookarounds and Unicode classes.' },
    ],
  },
  {
    slug: 'home-kitchen',
    name: 'Home & Kitchen',
    brands: ['Hearthstone', 'Copperleaf', 'Nordvik', 'Maison Belle', 'Ostara', 'Kitchencraft', 'Willowmere', 'Fjordhaus'],
    models: ['Classic', 'Essentials', 'Artisan', 'Signature', 'Everyday', 'Heritage', 'Nordic', 'Pro Series'],
    lines: [
      { noun: '28cm Non-Stick Frying Pan', img: 'pan', min: 2499, max: 8999, feats: [
        'A PFOA-free ceramic coating releases eggs and pancakes effortlessly.',
        'Works on gas, electric and induction hobs.',
        'Oven safe up to 220 °C with a stay-cool handle.'] },
      { noun: 'Cast Iron Dutch Oven 5.5L', img: 'pan', min: 5999, max: 24999, feats: [
        'Enamelled cast iron holds heat evenly for slow braises and crusty bread.',
        'A tight-fitting lid with self-basting spikes keeps stews moist.',
        'Comes in six glossy colours that go from oven to table.'] },
      { noun: 'Stainless Steel Cookware Set (10-Piece)', img: 'pan', min: 14999, max: 44999, feats: [
        'Tri-ply construction eliminates hot spots.',
        'Includes saucepans, a sauté pan, a stockpot and glass lids.',
        'Dishwasher safe and built to last a lifetime.'] },
      { noun: 'Ceramic Coffee Mug Set of 4', img: 'mug', min: 1999, max: 4499, feats: [
        'Hand-glazed stoneware, each mug holds 350 ml.',
        'Microwave and dishwasher safe.',
        'A comfortable wide handle and a weighty, reassuring feel.'] },
      { noun: 'Pour-Over Coffee Maker', img: 'mug', min: 2499, max: 5999, feats: [
        'Borosilicate glass carafe with a reusable stainless steel filter.',
        'Brews up to six cups of clean, bright coffee.',
        'A cork collar keeps your hands cool while pouring.'] },
      { noun: 'Electric Gooseneck Kettle', img: 'mug', min: 4999, max: 12999, feats: [
        'Precise temperature control from 40 °C to 100 °C in one-degree steps.',
        'A slim gooseneck spout gives you full control for pour-over coffee.',
        'Keeps water warm for up to an hour.'] },
      { noun: 'Linen Table Lamp', img: 'lamp', min: 3999, max: 14999, feats: [
        'A natural linen shade casts a warm, even glow.',
        'Solid oak base with an in-line dimmer switch.',
        'Compatible with standard E27 LED bulbs.'] },
      { noun: 'Smart LED Floor Lamp', img: 'lamp', min: 6999, max: 17999, feats: [
        'Tunable white and 16 million colours, controlled from your phone.',
        'Works with popular voice assistants.',
        'A slim 160 cm pole fits neatly behind a sofa.'] },
      { noun: 'Bamboo Cutting Board Set', img: 'pan', min: 1999, max: 4999, feats: [
        'Three sizes of sustainably harvested bamboo boards.',
        'Deep juice grooves keep counters clean.',
        'Gentle on knife edges and naturally antibacterial.'] },
      { noun: 'Egyptian Cotton Bath Towel Set', img: 'lamp', min: 3499, max: 8999, feats: [
        '600 gsm long-staple cotton that gets softer with every wash.',
        'Set includes two bath towels, two hand towels and two washcloths.',
        'Quick-drying and highly absorbent.'] },
    ],
    closers: ['Backed by our 30-day happiness guarantee.', 'Gift-ready packaging included.', 'Designed in Copenhagen.'],
    specials: [
      { name: 'Café au lait mug', img: 'mug', price: 1450, description: 'A generous 450 ml bowl-style mug inspired by Parisian cafés, perfect for milky coffee and hot chocolate. Glazed in soft cream with a speckled rim.' },
      { name: 'iGlow Smart LED Bulb (4-Pack)', img: 'lamp', price: 3999, description: 'Dimmable, colour-changing E27 bulbs that connect directly to Wi-Fi with no hub required. Set schedules and scenes from the app.' },
      { name: 'ecoNest Reusable Silicone Food Bags', img: 'pan', price: 2000, description: 'Set of six leak-proof silicone bags in three sizes. Freezer, microwave and dishwasher safe, and a great replacement for single-use plastic.' },
    ],
  },
  {
    slug: 'clothing',
    name: 'Clothing',
    brands: ['Northfield', 'Loom & Co.', 'Urban Thread', 'Alder', 'Kite & Kin', 'Meridian', 'Basecamp', 'Juniper Lane'],
    models: ["Men's", "Women's", 'Unisex', "Kids'"],
    lines: [
      { noun: 'Organic Cotton Crew T-Shirt', img: 'tee', min: 1499, max: 3499, feats: [
        'Made from GOTS-certified organic cotton with a soft, pre-shrunk finish.',
        'A relaxed fit that layers easily under shirts and jackets.',
        'Available in twelve colours and sizes XS to 3XL.'] },
      { noun: 'Merino Wool Sweater', img: 'hoodie', min: 5999, max: 12999, feats: [
        'Fine 18.5-micron merino that is warm, breathable and never itchy.',
        'Naturally odour-resistant, so it needs washing less often.',
        'Ribbed cuffs and hem hold their shape wash after wash.'] },
      { noun: 'Zip-Up Fleece Hoodie', img: 'hoodie', min: 3999, max: 7999, feats: [
        'Brushed recycled fleece traps heat without the bulk.',
        'Zippered hand pockets keep your phone and keys secure.',
        'An adjustable hood with flat drawcords.'] },
      { noun: 'Slim-Fit Chino Trousers', img: 'tee', min: 3999, max: 7999, feats: [
        'Stretch cotton twill moves with you all day.',
        'A tailored slim leg that works at the office and at the weekend.',
        'Finished with a hidden coin pocket.'] },
      { noun: 'Waterproof Rain Jacket', img: 'hoodie', min: 7999, max: 19999, feats: [
        'A 3-layer 20K waterproof membrane with fully taped seams.',
        'Packs into its own chest pocket for travel.',
        'Pit zips let you vent heat on steep climbs.'] },
      { noun: 'Everyday Running Sneakers', img: 'sneaker', min: 5999, max: 14999, feats: [
        'A responsive foam midsole cushions every stride.',
        'Engineered mesh upper breathes on warm days.',
        'A durable rubber outsole grips on wet pavements.'] },
      { noun: 'Leather Chelsea Boots', img: 'sneaker', min: 9999, max: 22999, feats: [
        'Full-grain leather uppers that develop a rich patina over time.',
        'Elastic side panels and a pull tab for easy on and off.',
        'A Goodyear-welted sole that can be resoled for years of wear.'] },
      { noun: 'Merino Hiking Socks (3-Pack)', img: 'sneaker', min: 1999, max: 3999, feats: [
        'Cushioned soles and a reinforced heel prevent blisters on long days.',
        'Merino blend wicks moisture and resists odour.',
        'Seamless toe closure for all-day comfort.'] },
    ],
    closers: ['Free returns within 60 days.', 'Machine washable at 30 °C.', 'Ethically made in certified factories.'],
    specials: [
      { name: '100% Cotton Tee', img: 'tee', price: 1200, description: 'Our simplest T-shirt: heavyweight 100% cotton, a classic crew neck and a boxy fit. Ten colours, sizes XS to XXL.' },
      { name: 'ultraLight Packable Down Vest', img: 'hoodie', price: 8999, description: 'A 700-fill responsibly sourced down vest that packs into its own pocket. Warm enough for spring mornings, light enough to forget it is there.' },
      { name: 'Tee-Shirt "Plain" Edition', img: 'tee', price: 999, description: 'An everyday plain tee in soft ring-spun cotton. Buy three and save.' },
    ],
  },
  {
    slug: 'sports-outdoors',
    name: 'Sports & Outdoors',
    brands: ['Summitline', 'Trailforge', 'Peakform', 'Riverbend', 'Ironclad', 'Granite Ridge', 'Velo Works', 'Outbound'],
    models: ['Trail', 'Expedition', 'Ultra', 'Classic', 'Pro', 'Lightweight', 'Adventure', 'Elite'],
    lines: [
      { noun: '2-Person Backpacking Tent', img: 'tent', min: 14999, max: 44999, feats: [
        'A freestanding design that pitches in under five minutes.',
        'Weighs just 1.6 kg including poles and stakes.',
        'Two doors and two vestibules keep gear dry and tempers calm.'] },
      { noun: 'Down Sleeping Bag (-5 °C)', img: 'tent', min: 12999, max: 34999, feats: [
        '650-fill responsibly sourced down in a mummy cut.',
        'A draft collar and hood cinch keep warmth in on cold nights.',
        'Compresses to the size of a loaf of bread.'] },
      { noun: '40L Hiking Backpack', img: 'tent', min: 7999, max: 19999, feats: [
        'An adjustable back system fits a wide range of torso lengths.',
        'Integrated rain cover and hydration sleeve.',
        'Hip-belt pockets keep snacks and a phone within reach.'] },
      { noun: 'Adjustable Dumbbell Set', img: 'dumbbell', min: 14999, max: 39999, feats: [
        'Dial from 2.5 kg to 24 kg in seconds, replacing fifteen pairs of weights.',
        'A compact tray keeps the home gym tidy.',
        'Durable moulded plates are quiet when set down.'] },
      { noun: 'Non-Slip Yoga Mat', img: 'dumbbell', min: 2499, max: 8999, feats: [
        'Natural rubber base grips the floor, even in hot yoga.',
        '6 mm of cushioning protects knees and wrists.',
        'Alignment lines printed on the surface.'] },
      { noun: 'Resistance Bands Set', img: 'dumbbell', min: 1499, max: 3999, feats: [
        'Five colour-coded bands from light to extra heavy.',
        'Includes a door anchor, handles and ankle straps.',
        'Latex-free and travel friendly.'] },
      { noun: 'Official Size 5 Football', img: 'ball', min: 1999, max: 5999, feats: [
        'Thermally bonded panels for a true flight and consistent touch.',
        'Suitable for grass and artificial turf.',
        'A butyl bladder holds air for weeks.'] },
      { noun: 'Indoor/Outdoor Basketball', img: 'ball', min: 1999, max: 4999, feats: [
        'A composite leather cover with deep channels for grip.',
        'Official size 7 and weight.',
        'Holds up on outdoor courts.'] },
      { noun: 'Insulated Water Bottle 750ml', img: 'ball', min: 1999, max: 3999, feats: [
        'Double-wall vacuum insulation keeps drinks cold for 24 hours.',
        'A leak-proof lid with a carry loop.',
        'BPA-free and dishwasher safe.'] },
    ],
    closers: ['Tested by our athletes in real conditions.', 'Covered by a lifetime repair promise.', 'A portion of every sale supports trail conservation.'],
    specials: [
      { name: 'Summitline Ultra 1-Person Bivy Tent', img: 'tent', price: 27500, description: 'A minimalist single-wall shelter for fast-and-light alpinists. Weighs under 900 g.' },
      { name: 'eBike Commuter Helmet with Rear Light', img: 'ball', price: 8950, description: 'A MIPS-equipped helmet with a built-in rechargeable rear light and magnetic buckle. Certified for e-bikes up to 45 km/h.' },
    ],
  },
  {
    slug: 'toys-games',
    name: 'Toys & Games',
    brands: ['Brickton', 'Little Explorer', 'Wonderbox', 'Playwell', 'Tinker Town', 'Happy Meeple', 'Dreamkit', 'Robo Junior'],
    models: ['Deluxe', 'Junior', 'Classic', 'Starter', 'Family Edition', 'Mega', 'Mini', 'Collector\'s'],
    lines: [
      { noun: 'Building Blocks Set (500 pcs)', img: 'blocks', min: 2999, max: 8999, feats: [
        'Compatible with all major brick brands.',
        'Sorted bags and a picture guide make building easy for ages 6+.',
        'Includes wheels, windows and doors for endless builds.'] },
      { noun: 'Wooden Train Set', img: 'blocks', min: 3999, max: 9999, feats: [
        'Sustainably sourced beech wood with child-safe water-based paints.',
        'Includes a bridge, tunnel and 40 track pieces.',
        'Works with other wooden railway brands.'] },
      { noun: 'Strategy Board Game', img: 'dice', min: 2999, max: 6999, feats: [
        'For 2 to 5 players aged 10 and up; games last about an hour.',
        'Easy to learn, with deep strategy that rewards replay.',
        'Beautifully illustrated board and custom wooden pieces.'] },
      { noun: 'Family Card Game', img: 'dice', min: 999, max: 2499, feats: [
        'Fast, funny rounds that take just 15 minutes.',
        'Perfect for 3 to 8 players, ages 7 and up.',
        'Fits in a pocket for holidays and pub nights.'] },
      { noun: '1000-Piece Jigsaw Puzzle', img: 'puzzle', min: 1499, max: 3499, feats: [
        'Thick, blue-board pieces with a satisfying snap fit.',
        'A full-size poster is included for reference.',
        'Printed with plant-based inks on recycled board.'] },
      { noun: 'Coding Robot Kit', img: 'blocks', min: 4999, max: 14999, feats: [
        'Kids program movement, lights and sound with colourful code blocks.',
        'Grows with your child from drag-and-drop to Python.',
        'Rechargeable battery and over 50 guided missions.'] },
      { noun: 'Plush Teddy Bear', img: 'puzzle', min: 1499, max: 3999, feats: [
        'Super-soft plush with embroidered eyes, safe from birth.',
        'Surface washable and built for years of cuddles.',
        'Stands 35 cm tall.'] },
      { noun: 'Magnetic Tiles Set (60 pcs)', img: 'blocks', min: 3999, max: 7999, feats: [
        'Strong magnets in every edge make 3D building a snap.',
        'Translucent colours glow when held up to the light.',
        'Ultrasonically welded so magnets never come loose.'] },
    ],
    closers: ['Tested to EN 71 toy safety standards.', 'Recommended by teachers.', 'Makes a great birthday gift.'],
    specials: [
      { name: 'Star*Wars Lego Set', img: 'blocks', price: 14999, description: 'A 1,250-piece galactic starship with minifigures, opening cockpit and spring-loaded shooters. For builders aged 10 and up.' },
      { name: 'What? A Puzzle Box', img: 'puzzle', price: 2499, description: 'A wooden secret box that opens only after a sequence of hidden moves. A brain teaser for puzzlers aged 12 and up.' },
      { name: 'xPlore Kids Walkie-Talkies (2-Pack)', img: 'dice', price: 2999, description: 'Long-range walkie-talkies with a 3 km range, built-in flashlight and belt clips. Perfect for backyard adventures.' },
    ],
  },
  {
    slug: 'beauty',
    name: 'Beauty & Personal Care',
    brands: ['Lumière', 'Botanica', 'Pure Ritual', 'Aveline', 'Dermaglow', 'Seaside Apothecary', 'Nuvola', 'Kindred Skin'],
    models: ['Hydrating', 'Daily', 'Gentle', 'Radiance', 'Calming', 'Intensive', 'Fragrance-Free', 'Overnight'],
    lines: [
      { noun: 'Facial Moisturiser 50ml', img: 'jar', min: 1299, max: 5999, feats: [
        'Hyaluronic acid and ceramides restore the skin barrier.',
        'Lightweight and non-greasy, it layers well under make-up.',
        'Suitable for sensitive skin and dermatologically tested.'] },
      { noun: 'Vitamin C Serum 30ml', img: 'bottle', min: 1999, max: 6999, feats: [
        '15% stabilised vitamin C brightens and evens skin tone.',
        'A dropper bottle protects the formula from light.',
        'Vegan and cruelty-free.'] },
      { noun: 'Foaming Face Cleanser', img: 'bottle', min: 899, max: 2499, feats: [
        'Lifts away make-up and sunscreen without stripping.',
        'Enriched with green tea and aloe vera.',
        'A soap-free, pH-balanced formula.'] },
      { noun: 'Mineral Sunscreen SPF 50', img: 'bottle', min: 1299, max: 3499, feats: [
        'Broad-spectrum zinc oxide protection with no white cast.',
        'Water resistant for 80 minutes.',
        'Reef-friendly and fragrance-free.'] },
      { noun: 'Matte Lipstick', img: 'lipstick', min: 999, max: 3299, feats: [
        'Intense, long-wearing colour in one swipe.',
        'Enriched with shea butter so lips never feel dry.',
        'Available in 18 shades.'] },
      { noun: 'Volumising Mascara', img: 'lipstick', min: 899, max: 2799, feats: [
        'A curved brush lifts and separates every lash.',
        'Smudge-proof and flake-free for 16 hours.',
        'Removes easily with warm water.'] },
      { noun: 'Argan Oil Shampoo 400ml', img: 'bottle', min: 799, max: 2499, feats: [
        'Cold-pressed argan oil nourishes dry, frizzy hair.',
        'Sulphate-free and colour-safe.',
        'A light, fresh scent of citrus and cedar.'] },
      { noun: 'Shea Butter Body Cream', img: 'jar', min: 999, max: 3499, feats: [
        'Rich, fast-absorbing cream for very dry skin.',
        '25% shea butter with a touch of almond oil.',
        'Comes in a recyclable aluminium jar.'] },
    ],
    closers: ['Never tested on animals.', 'Made without parabens or mineral oil.', 'Packaged in recycled materials.'],
    specials: [
      { name: 'Eau de Parfum "Jardin d\'Été" 50ml', img: 'bottle', price: 7900, description: 'A luminous floral fragrance with notes of neroli, fig leaf and white musk. Made in Grasse, France.' },
      { name: 'bareSkin Gentle Exfoliating Toner', img: 'bottle', price: 1850, description: 'A 5% glycolic acid toner that smooths texture overnight. Alcohol-free and gentle enough for daily use.' },
    ],
  },
  {
    slug: 'garden',
    name: 'Garden & Outdoor',
    brands: ['Greenthumb', 'Meadowbrook', 'Fernhill', 'Terra Verde', 'Oakridge', 'Bloomfield', 'Hedgerow', 'Sunpatch'],
    models: ['Classic', 'Heavy-Duty', 'Compact', 'Premium', 'Essential', 'Professional', 'Deluxe', 'Patio'],
    lines: [
      { noun: 'Glazed Ceramic Plant Pot 30cm', img: 'pot', min: 1999, max: 5999, feats: [
        'Frost-resistant glazed stoneware for indoor and outdoor use.',
        'A drainage hole and matching saucer protect roots from rot.',
        'Each glaze is hand-applied, so no two pots are identical.'] },
      { noun: 'Raised Garden Bed', img: 'pot', min: 5999, max: 19999, feats: [
        'Untreated cedar that naturally resists rot and insects.',
        'Tool-free assembly in about 15 minutes.',
        'A perfect height for growing herbs and salad greens.'] },
      { noun: 'Galvanised Watering Can 9L', img: 'can', min: 1999, max: 4999, feats: [
        'Rust-proof galvanised steel built to last decades.',
        'A removable brass rose gives a gentle shower for seedlings.',
        'Balanced handles make it easy to carry when full.'] },
      { noun: 'Expandable Garden Hose 30m', img: 'can', min: 2499, max: 5999, feats: [
        'Expands to three times its length when filled and shrinks back when empty.',
        'Includes a 10-pattern spray nozzle.',
        'Kink-free and lightweight.'] },
      { noun: 'Stainless Steel Hand Trowel', img: 'shovel', min: 999, max: 2999, feats: [
        'A polished stainless steel blade slices through clay soil.',
        'An ash wood handle that is comfortable to grip.',
        'Depth markings make planting bulbs easy.'] },
      { noun: 'Bypass Pruning Shears', img: 'shovel', min: 1499, max: 4499, feats: [
        'Precision-ground blades make clean cuts on stems up to 2 cm.',
        'A cushioned grip and safety lock.',
        'Replaceable blades and springs.'] },
      { noun: 'Solar Path Lights (8-Pack)', img: 'pot', min: 2499, max: 6999, feats: [
        'Charge in daylight and glow automatically at dusk.',
        'IP65 weatherproof for year-round use.',
        'No wiring needed, just push into the ground.'] },
      { noun: 'Compost Bin 300L', img: 'shovel', min: 3999, max: 8999, feats: [
        'Turns kitchen and garden waste into rich compost in months.',
        'A hinged lid and a sliding hatch at the base for easy access.',
        'Made from 100% recycled plastic.'] },
    ],
    closers: ['Backed by a 5-year guarantee.', 'Loved by allotment growers.', 'Designed to withstand every season.'],
    specials: [
      { name: 'Heirloom Tomato Seed Collection (12 Varieties)', img: 'pot', price: 1250, description: 'Twelve open-pollinated heirloom varieties, from tiny cherry tomatoes to huge beefsteaks. Includes a sowing and growing guide.' },
      { name: 'uBloom Self-Watering Herb Planter', img: 'pot', price: 3450, description: 'A countertop planter with a built-in reservoir that waters herbs for up to two weeks. Grows basil, mint and parsley year round.' },
    ],
  },
  {
    slug: 'office',
    name: 'Office Supplies',
    brands: ['Paperline', 'Inkwell', 'Stationers Guild', 'Deskmate', 'Graphite & Co.', 'Ledger', 'Foliant', 'Quillon'],
    models: ['Classic', 'Professional', 'Executive', 'Essentials', 'Studio', 'Compact', 'Premium', 'Signature'],
    lines: [
      { noun: 'A5 Dotted Notebook', img: 'notebook', min: 999, max: 2999, feats: [
        '192 numbered pages of 100 gsm ivory paper that resists ink bleed.',
        'A lay-flat binding with two ribbon markers.',
        'An index at the front keeps your notes organised.'] },
      { noun: 'Weekly Planner 2026', img: 'notebook', min: 1499, max: 3499, feats: [
        'A week on two pages with space for goals and habits.',
        'Monthly overviews, a year planner and a back pocket.',
        'Durable linen cover in six colours.'] },
      { noun: 'Gel Pens (12-Pack)', img: 'pen', min: 799, max: 1999, feats: [
        'Quick-drying 0.5 mm gel ink glides without smudging.',
        'Comfortable rubber grips for long writing sessions.',
        'Assorted vivid colours.'] },
      { noun: 'Fountain Pen', img: 'pen', min: 2499, max: 14999, feats: [
        'A smooth stainless steel nib available in fine and medium.',
        'Accepts standard international ink cartridges and a converter.',
        'A lacquered brass barrel with a satisfying weight.'] },
      { noun: 'Heavy-Duty Stapler', img: 'stapler', min: 1499, max: 3999, feats: [
        'Staples up to 60 sheets with minimal effort.',
        'A metal body with a non-slip base.',
        'Top-loading for quick staple refills.'] },
      { noun: 'Desk Organiser Set', img: 'stapler', min: 1999, max: 5999, feats: [
        'Includes a pen cup, letter tray and drawer organiser.',
        'Made from sturdy powder-coated steel mesh.',
        'Keeps cables, clips and sticky notes in their place.'] },
      { noun: 'Ergonomic Laptop Stand', img: 'stapler', min: 2999, max: 7999, feats: [
        'Raises your screen to eye level to reduce neck strain.',
        'Six height settings and folds flat for travel.',
        'Aluminium construction helps laptops stay cool.'] },
      { noun: 'Sticky Notes Cube (800 Sheets)', img: 'notebook', min: 499, max: 1299, feats: [
        'Repositionable notes that stick firmly and remove cleanly.',
        'Four pastel colours in one handy cube.',
        'Made from FSC-certified paper.'] },
    ],
    closers: ['Trusted by offices across Europe.', 'Free next-day delivery on most orders.', 'Bulk discounts available.'],
    specials: [
      { name: 'Paper Clips (100) — Assorted Sizes', img: 'stapler', price: 199, description: 'A tub of 100 nickel-plated paper clips in three sizes.' },
      { name: 'oneNote Magnetic Whiteboard 90×60cm', img: 'notebook', price: 4500, description: 'A lacquered steel whiteboard with an aluminium frame and a full-length pen tray. Includes four markers and magnets.' },
    ],
  },
  {
    slug: 'grocery',
    name: 'Grocery & Gourmet',
    brands: ['Harvest Lane', 'Golden Fields', 'Rustica', 'Blue Mill', 'Sunny Acres', 'Old Quarry', 'Hillside Farm', 'Andes Roasters'],
    models: ['Organic', 'Fair Trade', 'Artisan', 'Single Origin', 'Stone-Ground', 'Wildflower', 'Small Batch', 'Premium'],
    lines: [
      { noun: 'Whole Bean Coffee 1kg', img: 'coffee', min: 1499, max: 3999, feats: [
        'Medium roast with notes of milk chocolate, caramel and red apple.',
        'Roasted in small batches and shipped within 48 hours.',
        'Ideal for espresso, filter or cafetière.'] },
      { noun: 'Loose Leaf Green Tea 250g', img: 'coffee', min: 799, max: 2499, feats: [
        'Delicate first-flush leaves from high-altitude gardens.',
        'A grassy, sweet cup with a clean finish.',
        'Packed in a resealable foil pouch to lock in freshness.'] },
      { noun: 'Extra Virgin Olive Oil 750ml', img: 'jar', min: 999, max: 2999, feats: [
        'Cold-pressed from hand-picked olives within hours of harvest.',
        'Peppery, fruity and perfect for dressings.',
        'Bottled in dark glass to protect its flavour.'] },
      { noun: 'Raw Honey 500g', img: 'jar', min: 799, max: 1999, feats: [
        'Unheated and unfiltered, straight from the hive.',
        'A floral, golden honey that crystallises naturally.',
        'Sourced from local beekeepers.'] },
      { noun: 'Rolled Oats 1kg', img: 'fruit', min: 299, max: 699, feats: [
        'Wholegrain oats, gently rolled for a creamy porridge.',
        'A good source of fibre and slow-release energy.',
        'Great for overnight oats and baking.'] },
      { noun: 'Dark Chocolate Bar 70%', img: 'fruit', min: 99, max: 499, feats: [
        'Bean-to-bar chocolate with notes of cherry and roasted nuts.',
        'Made with just three ingredients.',
        'Ethically sourced cocoa from cooperatives in Peru.'] },
      { noun: 'Mixed Nuts 500g', img: 'fruit', min: 599, max: 1499, feats: [
        'Almonds, cashews, walnuts and hazelnuts, lightly roasted.',
        'No added salt or oil.',
        'Packed in a resealable bag.'] },
      { noun: 'Basmati Rice 2kg', img: 'jar', min: 499, max: 1299, feats: [
        'Aged for twelve months for long, fluffy grains.',
        'A fragrant, nutty aroma.',
        'Perfect for biryanis, pilafs and curries.'] },
    ],
    closers: ['Best before date at least six months from dispatch.', 'Suitable for vegetarians.', 'Packed in a facility that also handles nuts.'],
    specials: [
      { name: 'Sea Salt Caramel Chocolate Square', img: 'fruit', price: 99, description: 'A single square of milk chocolate with a soft salted caramel centre. The perfect checkout treat.' },
      { name: 'Crème Brûlée Coffee Syrup 250ml', img: 'coffee', price: 650, description: 'A rich vanilla and burnt-sugar syrup for lattes and desserts. Made with cane sugar and natural flavours.' },
    ],
  },
];

// --------------------------------------------------------------- build ----
const products = [];
const usedNames = new Set();

function addProduct(cat, p) {
  if (usedNames.has(p.name)) throw new Error('duplicate name: ' + p.name);
  if (p.name.length < 5 || p.name.length > 80) throw new Error('bad name length: ' + p.name);
  if (p.description.length > 400) throw new Error('description too long: ' + p.name);
  usedNames.add(p.name);
  products.push({
    name: p.name,
    description: p.description,
    price_cents: p.price,
    category: cat.slug,
    image: `/images/products/${cat.slug}-${p.img}.svg`,
  });
}

function describe(feats, closers) {
  // Pick one or two feature sentences, keeping their authored order (the
  // first sentence of a line usually reads best as the lead).
  const n = rand() < 0.35 ? 1 : 2;
  const idx = shuffle([...feats.keys()]).slice(0, n).sort((a, b) => a - b);
  const parts = idx.map((k) => feats[k]);
  if (closers && (n === 1 || rand() < 0.4)) parts.push(pick(closers));
  return parts.join(' ');
}

for (const cat of CATEGORIES) {
  for (const s of cat.specials) addProduct(cat, s);
  let need = PER_CATEGORY - cat.specials.length;

  if (cat.titles) {
    for (const [title, author, genre] of shuffle(cat.titles)) {
      if (need === 0) break;
      const g = cat.genres[genre];
      const format = pick(cat.formats);
      const p = price(g.min, g.max) + (format === 'Hardcover' ? 800 : 0);
      addProduct(cat, {
        name: `${title} (${format})`,
        img: g.img,
        price: p,
        description: `${pick(g.feats)} By ${author}.`,
      });
      need--;
    }
    if (need > 0) throw new Error('not enough book titles');
    continue;
  }

  const lines = shuffle(cat.lines);
  let i = 0;
  let guard = 0;
  while (need > 0) {
    if (++guard > 10000) throw new Error('cannot generate enough names for ' + cat.slug);
    const line = lines[i % lines.length];
    const name = `${pick(cat.brands)} ${pick(cat.models)} ${line.noun}`;
    if (usedNames.has(name) || name.length > 80) continue;
    addProduct(cat, {
      name,
      img: line.img,
      price: price(line.min, line.max),
      description: describe(line.feats, cat.closers),
    });
    i++;
    need--;
  }
}

// Interleave categories like a real catalogue grown over time.
const ordered = shuffle(products);

// Stock: ~10% zero, ~10% low (1-5), rest 6-480.
const n = ordered.length;
const stockOrder = shuffle([...Array(n).keys()]);
const nZero = Math.round(n * 0.1);
const nLow = Math.round(n * 0.1);
stockOrder.forEach((idx, k) => {
  let s;
  if (k < nZero) s = 0;
  else if (k < nZero + nLow) s = randInt(1, 5);
  else s = rand() < 0.7 ? randInt(6, 120) : randInt(121, 480);
  ordered[idx].stock = s;
});

// Timestamps: spread over 2025-01-01 .. 2026-10-31, sorted ascending so that
// _id order roughly follows creation order (like a real shop).
const START = Date.UTC(2025, 0, 1, 0, 0, 0) / 1000;
const END = Date.UTC(2026, 9, 31, 23, 59, 59) / 1000;
const created = new Set();
const times = [];
while (times.length < n) {
  const t = randInt(START, END - 1);
  if (created.has(t)) continue;
  created.add(t);
  times.push(t);
}
times.sort((a, b) => a - b);

// Ties: make a handful of products share a created_at second with another
// (4 pairs + 1 triple = 11 products) so that tie-breaking by _id matters.
const tieGroups = [[17, 18], [63, 64], [120, 121], [181, 182], [205, 206, 207]];
for (const g of tieGroups) for (const k of g.slice(1)) times[k] = times[g[0]];

const iso = (sec) => new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

const out = ordered.map((p, i) => {
  const c = times[i];
  const r = rand();
  let u;
  if (r < 0.3) u = c; // never edited
  else if (r < 0.8) u = c + randInt(60, 14 * 86400);
  else u = c + randInt(14 * 86400, 120 * 86400);
  u = Math.min(u, END);
  return {
    _id: '65' + (i + 1).toString(16).padStart(22, '0'),
    name: p.name,
    description: p.description,
    price_cents: p.price_cents,
    category: p.category,
    stock: p.stock,
    image: p.image,
    created_at: iso(c),
    updated_at: iso(u),
  };
});

// ------------------------------------------------------------ validate ----
const slugs = new Set(CATEGORIES.map((c) => c.slug));
if (slugs.size !== 10) throw new Error('need exactly 10 categories');
for (const p of out) {
  if (!/^[0-9a-f]{24}$/.test(p._id)) throw new Error('bad _id ' + p._id);
  if (!slugs.has(p.category)) throw new Error('bad category ' + p.category);
  if (!Number.isInteger(p.price_cents) || p.price_cents < 99 || p.price_cents > 249999) throw new Error('bad price ' + p.name);
  if (p.updated_at < p.created_at) throw new Error('updated before created ' + p.name);
}

writeFileSync(join(HERE, 'products.json'), JSON.stringify(out, null, 2) + '\n');
writeFileSync(
  join(HERE, 'categories.json'),
  JSON.stringify(CATEGORIES.map((c) => ({ slug: c.slug, name: c.name })), null, 2) + '\n',
);

const images = [...new Set(out.map((p) => p.image))].sort();
console.log(`wrote ${out.length} products in ${slugs.size} categories, ${images.length} distinct images`);
