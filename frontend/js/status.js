// The status panel: /health/ready (backend, Redis, MongoDB with their
// response times) and /api/stats (how many backend processes answered;
// cache hit ratio, hits per layer, the in-process cache's entries, bytes
// and evictions; request rate and mean latency from the change of the
// counters between two polls), every 5 s, with inline-SVG charts of the
// last 5 minutes. The figures are the whole deployment's ("deployment":
// every process that wrote its counters to Redis in the last 3 s), or the
// answering process's alone while Redis cannot say; the in-process cache's
// are the answering process's. And the page's change feed.
//
// /health/ready answers 200 "pass", 200 "warn" (Redis down: served from
// MongoDB without the cache) or 503 "fail" with the same body (MongoDB down).
import { request } from './api.js';
import { byId, h } from './dom.js';
import { clock, decimal1, millis, number, sentence } from './format.js';

export const POLL_MS = 5000;
const WINDOW_MS = 5 * 60 * 1000;
const TIMEOUT_MS = 4000;
const SVG = 'http://www.w3.org/2000/svg';
const W = 300;
const H = 64;

const LEVEL_WORDS = { ok: 'OK', warn: 'Warning', fail: 'Problem', unknown: 'Unknown' };

export function createStatus() {
  const rows = {
    backend: byId('status-backend'),
    backends: byId('status-backends'),
    redis: byId('status-redis'),
    mongodb: byId('status-mongodb'),
    feed: byId('status-feed'),
    hit: byId('status-hit-ratio'),
    local: byId('status-local'),
    rate: byId('status-rate'),
    latency: byId('status-latency'),
  };
  const summary = byId('status-summary');
  const updated = byId('status-updated');
  const refreshButton = byId('status-refresh');
  const rateChart = chart(byId('chart-rate'), 'chart-rate-caption', 'requests per second');
  const latencyChart = chart(byId('chart-latency'), 'chart-latency-caption', 'milliseconds');

  let last = null; // previous stats sample
  let points = []; // { t, rate, latency }
  let timer = null;
  let inFlight = null;
  let forbidden = false; // prod answers 403 outside private networks: stop asking

  function setRow(row, level, text, extra) {
    if (level) row.dataset.level = level;
    const dd = row.querySelector('dd');
    const parts = [];
    if (level) parts.push(h('span', { class: 'level' }, LEVEL_WORDS[level]), ' ');
    parts.push(h('span', { class: 'status-text' }, text));
    if (extra) parts.push(h('span', { class: 'status-extra' }, extra));
    dd.replaceChildren(...parts);
  }

  const ms = (c) => (c && typeof c.observedValue === 'number' ? `${millis(c.observedValue)} ${c.observedUnit || 'ms'}` : '');

  function renderCheck(row, c, { okText, downText }) {
    if (!c) { setRow(row, 'unknown', 'Not reported'); return 'unknown'; }
    const took = ms(c);
    if (c.status === 'pass') {
      setRow(row, 'ok', `Up${took ? `, answered in ${took}` : ''}`);
      return 'ok';
    }
    const why = c.output ? ` (${String(c.output).replace(/\.$/, '')})` : '';
    const slow = c.observedValue > 0 ? ` The check took ${took}.` : '';
    setRow(row, c.status === 'warn' ? 'warn' : 'fail', `Down${why}.`, ` ${downText}${slow}`);
    return 'down';
  }

  function renderHealth(r) {
    const first = (k) => (r.body && r.body.checks && Array.isArray(r.body.checks[k]) ? r.body.checks[k][0] : null);
    if (r.error) {
      setRow(rows.backend, 'fail', `Unreachable: ${r.error.title}`, ` – ${sentence(r.error.detail)}`);
      setRow(rows.redis, 'unknown', 'Unknown while the backend is unreachable');
      setRow(rows.mongodb, 'unknown', 'Unknown while the backend is unreachable');
      setSummary('fail', 'Backend unreachable');
      return;
    }
    if (!r.body || !r.body.checks) {
      const b = r.body && typeof r.body === 'object' ? r.body : {};
      const words = b.title ? `${b.title}${b.detail ? `: ${b.detail}` : ''}` : `HTTP ${r.status}`;
      if (r.status === 403) {
        setRow(rows.backend, 'unknown', 'Diagnostics are not available from this network', ` (${words}).`);
        setRow(rows.redis, 'unknown', 'Not available');
        setRow(rows.mongodb, 'unknown', 'Not available');
        setSummary('unknown', 'Status not available');
      } else {
        setRow(rows.backend, 'fail', 'Not answering', ` (${words}).`);
        setRow(rows.redis, 'unknown', 'Unknown while the backend is not answering');
        setRow(rows.mongodb, 'unknown', 'Unknown while the backend is not answering');
        setSummary('fail', 'Backend not answering');
      }
      return;
    }
    const redis = renderCheck(rows.redis, first('redis:responseTime'), {
      downText: 'Products are served from MongoDB without the cache, more slowly.',
    });
    const mongo = renderCheck(rows.mongodb, first('mongodb:responseTime'), {
      downText: 'Only products already in the cache can be shown; other pages fail until it is back.',
    });
    const overall = r.body.status;
    if (overall === 'pass') {
      setRow(rows.backend, 'ok', 'Up and ready');
      setSummary('ok', 'All systems up');
    } else if (overall === 'warn') {
      setRow(rows.backend, 'warn', 'Up, degraded', redis === 'down' ? ' – Redis is down.' : '');
      setSummary('warn', redis === 'down' ? 'Degraded: Redis is down' : 'Degraded');
    } else {
      setRow(rows.backend, 'fail', 'Up, not ready', ` – ${mongo === 'down' ? 'MongoDB is down' : 'a dependency failed'} (HTTP ${r.status}).`);
      setSummary('fail', mongo === 'down' ? 'Outage: MongoDB is down' : 'Outage');
    }
  }

  function setSummary(level, text) {
    summary.dataset.level = level;
    summary.textContent = `Status: ${text}`;
  }

  // "2 of 2 answering": the processes that wrote their counters in the
  // last 3 s, of those Redis knows; one missing is a warning
  function renderBackends(d) {
    if (!d) {
      setRow(rows.backends, 'unknown', 'Not known', ' – Redis cannot say; the figures below are one process\'s.');
      return;
    }
    const level = d.backends === 0 ? 'fail' : d.backends < d.backends_known ? 'warn' : 'ok';
    setRow(rows.backends, level, `${number(d.backends)} of ${number(d.backends_known)} answering`,
      d.backends < d.backends_known ? ' – a backend process stopped reporting in the last minute.' : ' – the figures below are theirs together.');
  }

  function renderStats(r) {
    const body = r.body;
    if (r.error || !r.ok || !body || typeof body.requests !== 'number') {
      const why = r.error ? r.error.title : (body && body.title) || `HTTP ${r.status}`;
      for (const row of [rows.backends, rows.hit, rows.local, rows.rate, rows.latency]) setRow(row, null, `Not available (${why})`);
      return;
    }
    renderBackends(body.deployment);
    const s = body.deployment || body;
    const c = s.cache || {};
    const lookups = (c.hits || 0) + (c.misses || 0);
    const layers = typeof c.hits_local === 'number' ? ` (${number(c.hits_local)} from memory, ${number(c.hits_redis || 0)} from Redis)` : '';
    setRow(rows.hit, null, lookups ? `${decimal1((c.hit_ratio || 0) * 100)} %` : 'No cache lookups yet',
      ` – ${number(c.hits || 0)} hits${layers}, ${number(c.misses || 0)} misses${c.bypass ? `, ${number(c.bypass)} served around the cache` : ''} since ${body.deployment ? 'the backends started' : 'the backend started'}${body.cache && body.cache.redis_connected === false ? '; Redis is disconnected' : ''}.`);
    renderLocal(body.cache && body.cache.local);

    const now = performance.now();
    const sample = { t: now, requests: s.requests, latency: s.latency_us_total || 0 };
    // counters that went back (a restarted or another backend) start over
    if (last && sample.requests >= last.requests && sample.latency >= last.latency && now > last.t) {
      const dr = sample.requests - last.requests;
      const rate = dr / ((now - last.t) / 1000);
      const latency = dr ? (sample.latency - last.latency) / dr / 1000 : null;
      points.push({ t: now, rate, latency });
      setRow(rows.rate, null, `${decimal1(rate)} requests/s`, ` over the last ${Math.round((now - last.t) / 1000)} s.`);
      setRow(rows.latency, null, latency === null ? 'No requests in the last interval' : `${millis(latency)} ms`,
        latency === null ? '' : ' per request, measured by the backend.');
    } else {
      setRow(rows.rate, null, 'Measuring…');
      setRow(rows.latency, null, 'Measuring…');
    }
    last = sample;
    points = points.filter((p) => now - p.t <= WINDOW_MS);
    rateChart.draw(points.map((p) => ({ t: p.t, v: p.rate })), now, (v) => `${decimal1(v)} requests/s`);
    latencyChart.draw(points.filter((p) => p.latency !== null).map((p) => ({ t: p.t, v: p.latency })), now, (v) => `${millis(v)} ms`);
  }

  // the in-process cache in front of Redis: null when it is off
  function renderLocal(l) {
    const mb = (b) => `${decimal1(b / 1048576)} MB`;
    if (!l) {
      setRow(rows.local, null, 'Off', ' – every hit is read from Redis.');
      return;
    }
    setRow(rows.local, null, l.tracking ? `${number(l.entries)} entries, ${mb(l.bytes)} of ${mb(l.max_bytes)}` : 'Paused, waiting for Redis',
      ` – ${number(l.evictions)} evicted to make room, emptied ${number(l.flushes)} times since the backend started.`);
  }

  async function poll() {
    clearTimeout(timer);
    timer = null;
    if (inFlight) return;
    const get = (path) => request(path, { timeoutMs: TIMEOUT_MS }).catch((error) => ({ error }));
    refreshButton.disabled = true;
    inFlight = (async () => {
      const [health, stats] = await Promise.all([get('/health/ready'), get('/api/stats')]);
      forbidden = health.status === 403;
      try {
        renderHealth(health);
        renderStats(stats);
        updated.textContent = forbidden ? `Checked ${clock()}; not refreshed automatically.`
          : `Updated ${clock()}; refreshes every ${POLL_MS / 1000} s.`;
      } catch (e) {
        updated.textContent = `The status could not be shown (${e.message}).`;
      }
    })();
    try {
      await inFlight;
    } finally {
      inFlight = null;
      refreshButton.disabled = false;
      if (!document.hidden && !forbidden) timer = setTimeout(poll, POLL_MS);
    }
  }

  // state: connecting | connected | reconnecting; last: { type, at } or null
  function feed(state, last) {
    const seen = last ? ` – last change ${clock(last.at)} (${last.type}).` : ' – no change yet.';
    if (state === 'connected') setRow(rows.feed, 'ok', 'Connected', seen);
    else if (state === 'reconnecting') setRow(rows.feed, 'warn', 'Reconnecting…', ' – changes show once it is back.');
    else setRow(rows.feed, 'unknown', 'Connecting…');
  }

  refreshButton.addEventListener('click', () => poll());
  // no polling in a background tab; a fresh reading when it comes back
  document.addEventListener('visibilitychange', () => {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else if (!timer && !inFlight && !forbidden) {
      poll();
    }
  });

  return { start: poll, poll, feed };
}

// A line chart in inline SVG (no library): values over the last WINDOW_MS,
// the newest on the right; its accessible name says the latest and peak.
function chart(box, captionId, unitWords) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('aria-labelledby', `${captionId} ${captionId}-desc`);
  const desc = document.createElementNS(SVG, 'desc');
  desc.id = `${captionId}-desc`;
  desc.textContent = 'No data yet.';
  const el = (tag, attrs) => {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    return e;
  };
  const grid = [0.25, 0.5, 0.75].map((f) => el('line', {
    x1: 0, x2: W, y1: H * f, y2: H * f, class: 'spark-grid', 'vector-effect': 'non-scaling-stroke',
  }));
  const area = el('path', { class: 'spark-area', d: '' });
  const line = el('polyline', { class: 'spark-line', points: '', 'vector-effect': 'non-scaling-stroke' });
  svg.append(desc, ...grid, area, line);
  const legend = h('p', { class: 'spark-legend' }, h('span', {}, '5 min ago'), h('span', { class: 'spark-max' }, ''), h('span', {}, 'now'));
  box.replaceChildren(svg, legend);
  const maxLabel = legend.querySelector('.spark-max');

  return {
    draw(data, now, fmt) {
      if (!data.length) {
        line.setAttribute('points', '');
        area.setAttribute('d', '');
        desc.textContent = 'No data yet.';
        maxLabel.textContent = '';
        return;
      }
      const peak = Math.max(...data.map((d) => d.v));
      const top = niceCeil(peak);
      const x = (t) => (W * (1 - (now - t) / WINDOW_MS)).toFixed(1);
      const y = (v) => (H - 2 - ((H - 6) * v) / top).toFixed(1);
      const pts = data.map((d) => `${x(d.t)},${y(d.v)}`);
      if (pts.length === 1) pts.unshift(`${(Number(x(data[0].t)) - 2).toFixed(1)},${y(data[0].v)}`);
      line.setAttribute('points', pts.join(' '));
      const firstX = pts[0].split(',')[0];
      const lastX = pts[pts.length - 1].split(',')[0];
      area.setAttribute('d', `M${firstX},${H} L${pts.join(' L')} L${lastX},${H} Z`);
      maxLabel.textContent = `top: ${fmt(top)}`;
      desc.textContent = `Latest ${fmt(data[data.length - 1].v)}, peak ${fmt(peak)} over the last ${Math.max(1, Math.round((now - data[0].t) / 60000))} min (${unitWords}).`;
    },
  };
}

// 1, 2, 5 × 10^n at or above v (at least a small positive number)
function niceCeil(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
