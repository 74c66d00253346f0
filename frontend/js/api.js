// Same-origin JSON requests. Errors become ApiError with the
// application/problem+json title and detail (RFC 9457) when the server sent
// one, or plain words for network failures and timeouts.

export class ApiError extends Error {
  constructor({ status = 0, title, detail, instance = '', retryAfter = null, body = null }) {
    super(`${title}: ${detail}`);
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.instance = instance;
    this.retryAfter = retryAfter;
    this.body = body;
  }
}

const STATUS_WORDS = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 412: 'Precondition Failed',
  413: 'Content Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content', 429: 'Too Many Requests', 500: 'Internal Server Error',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

function combine(signal, timeoutMs) {
  const signals = [];
  if (signal) signals.push(signal);
  if (timeoutMs) signals.push(AbortSignal.timeout(timeoutMs));
  if (signals.length < 2) return signals[0];
  return AbortSignal.any ? AbortSignal.any(signals) : signals[0];
}

// Any answer: { status, ok, headers, body } (body: parsed JSON or null).
// Throws ApiError (status 0) when there is no answer, or the AbortError of
// the caller's signal when it was aborted. method, headers and body (a
// string) are fetch's, for the writes.
export async function request(path, { signal, timeoutMs = 15000, method = 'GET', headers = {}, body: payload } = {}) {
  let res;
  try {
    res = await fetch(path, { method, body: payload, signal: combine(signal, timeoutMs), headers: { Accept: 'application/json', ...headers } });
  } catch (e) {
    if (signal && signal.aborted) throw e;
    if (e && e.name === 'TimeoutError') {
      throw new ApiError({ title: 'No answer', detail: `the server did not answer within ${Math.round(timeoutMs / 1000)} seconds` });
    }
    throw new ApiError({ title: 'Network error', detail: 'the server could not be reached; check the connection' });
  }
  const type = res.headers.get('content-type') || '';
  let body = null;
  try {
    if (type.includes('json')) body = await res.json();
    else await res.text();
  } catch (e) {
    if (signal && signal.aborted) throw e;
    body = null;
  }
  return { status: res.status, ok: res.ok, headers: res.headers, body };
}

export function problemOf(r) {
  const b = r.body && typeof r.body === 'object' ? r.body : {};
  return new ApiError({
    status: r.status,
    title: typeof b.title === 'string' && b.title ? b.title : STATUS_WORDS[r.status] || `HTTP ${r.status}`,
    detail: typeof b.detail === 'string' && b.detail ? b.detail : `the server answered with status ${r.status}`,
    instance: typeof b.instance === 'string' ? b.instance : r.headers.get('x-request-id') || '',
    retryAfter: r.headers.get('retry-after'),
    body: r.body,
  });
}

// A successful JSON answer { status, headers, body }, else throws ApiError.
export async function api(path, opts) {
  const r = await request(path, opts);
  if (!r.ok) throw problemOf(r);
  if (!r.body || typeof r.body !== 'object') {
    throw new ApiError({ status: r.status, title: 'Unexpected answer', detail: 'the server did not send JSON' });
  }
  return r;
}

// Link: </api/products?…>; rel="next", </…>; rel="prev" → { next, prev }
export function parseLink(header) {
  const out = {};
  if (!header) return out;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /<([^>]*)>(.*)/.exec(part.trim());
    if (!m) continue;
    const rel = /;\s*rel="?([^";]+)"?/i.exec(m[2]);
    if (rel) for (const r of rel[1].trim().split(/\s+/)) out[r.toLowerCase()] = m[1];
  }
  return out;
}
