// Browser helpers for tests/browser.test.mjs: Debian's Chromium driven by
// playwright-core (no browser download), console-error collection, and a
// tiny PNG reader to tell a real screenshot from a blank one.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

export const haveChromium = () => fs.existsSync(CHROMIUM);

// a fresh temporary profile per launch (Playwright's default)
export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30000 });
}

// Collects console errors and uncaught page errors: [{ text, url, at }].
export function collectErrors(page) {
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push({ text: m.text(), url: m.location().url || '', at: Date.now() });
  });
  page.on('pageerror', (e) => errors.push({ text: `pageerror: ${e.message}`, url: '', at: Date.now() }));
  return errors;
}

// The console errors collected since the last call that no predicate in
// expected (over { text, url }) allows; empties both lists for the next test.
export function takeUnexpected(errors, expected) {
  const unexpected = errors.filter((e) => !expected.some((f) => f(e)));
  errors.length = 0;
  expected.length = 0;
  return unexpected;
}

// Decodes an 8-bit, non-interlaced PNG (what Chromium writes) far enough to
// count colours: { width, height, colors } with colors capped at `cap`.
export function pngColors(file, cap = 1000) {
  const buf = fs.readFileSync(file);
  if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error(`${file}: not a PNG`);
  let off = 8;
  let width = 0;
  let height = 0;
  let bpp = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8];
      const colorType = data[9];
      if (depth !== 8 || data[12] !== 0) throw new Error(`${file}: unsupported PNG (depth ${depth}, interlace ${data[12]})`);
      bpp = { 0: 1, 2: 3, 4: 2, 6: 4 }[colorType];
      if (!bpp) throw new Error(`${file}: unsupported colour type ${colorType}`);
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  let prev = Buffer.alloc(stride);
  const colors = new Set();
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? line[i - bpp] : 0;
      const b = prev[i];
      const c = i >= bpp ? prev[i - bpp] : 0;
      let add = 0;
      if (filter === 1) add = a;
      else if (filter === 2) add = b;
      else if (filter === 3) add = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      line[i] = (line[i] + add) & 255;
    }
    if (colors.size < cap) {
      for (let x = 0; x < width; x += 3) colors.add(line.toString('latin1', x * bpp, x * bpp + bpp));
    }
    prev = line;
  }
  return { width, height, colors: colors.size };
}
