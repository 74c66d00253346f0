// A Server-Sent Events client for the feed tests, on a raw TCP socket (so
// a test can stop reading, and see exactly what arrived): it parses events
// as a browser's EventSource does — "event:", "id:", "data:" fields,
// comments, a blank line ends an event, an event without data only sets
// the last id — and keeps everything it got.
import net from 'node:net';

export function openFeed(port, { path = '/api/changes', lastEventId, headers = {}, host = '127.0.0.1' } = {}) {
  const s = net.connect(port, host);
  const feed = {
    socket: s, status: 0, headers: {}, events: [], comments: 0, lastId: lastEventId || '', ended: false, raw: '', body: '',
  };
  let head = '';
  let buf = '';
  let chunked = false;
  let chunkLeft = 0;
  let chunkText = '';
  const waiters = new Set();
  const wake = () => { for (const w of waiters) w(); };

  function takeBlock(block) {
    const e = { event: 'message', data: [], id: undefined };
    for (const line of block.split('\n')) {
      if (line === '') continue;
      if (line.startsWith(':')) { feed.comments++; continue; }
      const i = line.indexOf(':');
      const name = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (name === 'event') e.event = value;
      else if (name === 'data') e.data.push(value);
      else if (name === 'id') e.id = value;
      else if (name === 'retry') feed.retry = Number(value);
    }
    if (e.id !== undefined) feed.lastId = e.id;
    if (e.data.length) {
      const text = e.data.join('\n');
      feed.events.push({ event: e.event, id: feed.lastId, data: JSON.parse(text), at: Date.now() });
    }
  }

  // text: bytes as latin1 (the de-chunked body); events are UTF-8
  function takeText(bytes) {
    const text = Buffer.from(bytes, 'latin1').toString('utf8');
    feed.body += text;
    buf += text;
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      takeBlock(buf.slice(0, i));
      buf = buf.slice(i + 2);
    }
  }

  // de-chunks the body (the backend answers HTTP/1.1 chunked; nginx too)
  function takeBody(data) {
    if (!chunked) { takeText(data); return; }
    chunkText += data;
    for (;;) {
      if (chunkLeft === 0) {
        const nl = chunkText.indexOf('\r\n');
        if (nl < 0) return;
        const size = parseInt(chunkText.slice(0, nl), 16);
        if (size === 0) { feed.ended = true; return; }
        chunkText = chunkText.slice(nl + 2);
        chunkLeft = size + 2; // the chunk and its CRLF
      }
      if (!chunkText.length) return;
      const take = chunkText.slice(0, Math.min(chunkLeft, chunkText.length));
      chunkText = chunkText.slice(take.length);
      chunkLeft -= take.length;
      takeText(chunkLeft >= 2 ? take : take.slice(0, take.length - (2 - chunkLeft)));
    }
  }

  s.setEncoding('latin1');
  s.on('data', (d) => {
    feed.raw += d;
    if (!feed.status) {
      head += d;
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = head.slice(0, end).split('\r\n');
      feed.status = Number(lines[0].split(' ')[1]);
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        feed.headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      chunked = /chunked/i.test(feed.headers['transfer-encoding'] || '');
      const rest = head.slice(end + 4);
      head = '';
      takeBody(rest);
    } else {
      takeBody(d);
    }
    wake();
  });
  feed.closed = new Promise((resolve) => s.on('close', () => { feed.ended = true; wake(); resolve(); }));
  s.on('error', () => {});
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAccept: text/event-stream\r\n`
    + `${lastEventId ? `Last-Event-ID: ${lastEventId}\r\n` : ''}${extra}\r\n`);

  // resolves when pred(feed) holds; rejects after ms with what arrived
  feed.until = (what, ms, pred) => new Promise((resolve, reject) => {
    const check = () => {
      let ok = false;
      try { ok = pred(feed); } catch { ok = false; }
      if (ok) { waiters.delete(check); clearTimeout(t); resolve(feed); }
    };
    const t = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`${what}: not within ${ms} ms (status ${feed.status}, ${feed.events.length} events, ended ${feed.ended}): ${feed.raw.slice(-300)}`));
    }, ms);
    waiters.add(check);
    check();
  });
  feed.started = () => feed.until('stream started', 10000, (f) => f.status !== 0 && (f.status !== 200 || f.lastId !== '' || f.events.length > 0 || f.body.includes('retry:')));
  feed.close = () => { s.destroy(); return feed.closed; };
  return feed;
}
