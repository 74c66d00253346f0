#!/usr/bin/env node
// Renders the static documentation nginx serves beside the dashboard:
//   frontend/docs/api.html          the API reference, from backend/openapi.yaml
//   frontend/problems/<type>.html   one short page per problem type, so a
//                                   problem's "type" (/problems/validation, …)
//                                   leads somewhere (nginx maps /problems/x to x.html)
// Static HTML with one stylesheet (docs/docs.css): no script, no inline
// style, nothing from another origin, so the site's strict CSP holds.
//
//   node scripts/render-docs.mjs           write the files
//   node scripts/render-docs.mjs --check   exit 1 when a committed file differs
//                                          from a fresh rendering (tests/docs.test.mjs)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const spec = YAML.parse(fs.readFileSync(path.join(root, 'backend/openapi.yaml'), 'utf8'));

// Every problem type the backend and nginx produce: title, status, when, what to do.
export const PROBLEMS = [
  ['bad-request', 400, 'Bad Request', 'nginx refused the request before it reached the API: a malformed request line or headers (for example two Host headers), or headers larger than its buffers.', 'Send a well-formed HTTP/1.1 request with one Host header.'],
  ['uri-too-long', 414, 'URI Too Long', 'nginx refused a request line longer than its buffers (about 8 KB), usually a query string that grew too long.', 'Shorten the query: fewer or shorter parameters (q is at most 100 characters anyway).'],
  ['invalid-parameter', 400, 'Bad Request', 'A query parameter, the product id in the path, or a parameter\'s value is not acceptable: an unknown parameter, a repeated single-valued one, a malformed value, or an id that is not 24 hexadecimal digits. The "parameter" member names it.', 'Fix the named parameter; the API reference lists each one with its range.'],
  ['malformed-json', 400, 'Bad Request', 'A write or sign-in body is not JSON: empty, not UTF-8, a syntax error, or a \\u0000 in a string.', 'Send one JSON object, UTF-8 encoded.'],
  ['invalid-header', 400, 'Bad Request', 'A request header the API reads is malformed: If-Match (an entity tag such as "v3", W/"v3" or *), Idempotency-Key (1 to 255 visible ASCII characters) or the change feed\'s Last-Event-ID (an event id it sent, <epoch>:<ms>-<seq>). The "parameter" member names the header.', 'Fix or drop the named header.'],
  ['unauthorized', 401, 'Unauthorized', 'A write without a valid bearer token: missing, malformed, badly signed, expired, not yet valid, or signed out. WWW-Authenticate says which.', 'Sign in again (POST /api/auth/login) and send Authorization: Bearer <token>.'],
  ['invalid-credentials', 401, 'Unauthorized', 'The user name or the password is wrong (the answer does not say which).', 'Check both. Repeated failures lead to too-many-attempts.'],
  ['forbidden', 403, 'Forbidden', 'The token is valid but its role may not do this (a viewer on a write), or nginx keeps the resource from the public (diagnostics such as /api/stats outside private networks).', 'Use an admin account, or ask from a private network.'],
  ['not-found', 404, 'Not Found', 'No product has this id (it may have been deleted), or no route has this path.', 'Check the id or the path; GET /api/products lists what exists.'],
  ['method-not-allowed', 405, 'Method Not Allowed', 'The path exists but not with this method (static files of the dashboard are read with GET or HEAD). The Allow header lists the methods it has.', 'Use one of the methods in Allow.'],
  ['precondition-failed', 412, 'Precondition Failed', 'If-Match did not match: the product changed since it was read, or another write to it is in progress. The answer carries the current ETag and "current_version".', 'Read the product again, reapply the change, and send the new ETag.'],
  ['payload-too-large', 413, 'Content Too Large', 'The request body is larger than the limit (MAX_BODY_BYTES in the backend, 64 KiB at nginx).', 'Send a smaller body; descriptions are limited to 5000 characters anyway.'],
  ['unsupported-media-type', 415, 'Unsupported Media Type', 'A write whose Content-Type is not application/json (or application/merge-patch+json for PATCH).', 'Send Content-Type: application/json.'],
  ['validation', 422, 'Unprocessable Content', 'The JSON is well-formed but fields are invalid: missing, of the wrong type, out of range, unknown, or a category that does not exist. "errors" lists every problem as {"field", "reason"}.', 'Fix each listed field; GET /api/categories gives the category slugs.'],
  ['idempotency-key-reused', 422, 'Unprocessable Content', 'This Idempotency-Key was already used (within 24 hours) with a different body.', 'Use a new key for a new request; reuse a key only to retry the same body.'],
  ['too-many-attempts', 429, 'Too Many Requests', 'Too many failed sign-ins for this user from this address within the lockout window. Retry-After says when to try again.', 'Wait for Retry-After seconds; an admin can reset a forgotten password with catalog-backend --add-user.'],
  ['too-many-requests', 429, 'Too Many Requests', 'nginx\'s rate limit for this client address was exceeded, or this address has as many change feeds (GET /api/changes) open as nginx allows one address (FEED_CONN_PER_ADDR). Retry-After says when to try again.', 'Slow down and retry after Retry-After seconds; close feeds you no longer follow (one per page is enough).'],
  ['internal-error', 500, 'Internal Server Error', 'The backend failed in a way it did not expect (for example out of memory).', 'Retry later; if it persists, the operator finds the request id ("instance") in the logs.'],
  ['bad-gateway', 502, 'Bad Gateway', 'nginx could not reach any backend process.', 'Retry after Retry-After seconds; the operator checks the backends.'],
  ['service-unavailable', 503, 'Service Unavailable', 'MongoDB is down or slower than the backend waits for, or the backend\'s job queue is full. For the change feed: the process has SSE_MAX_CLIENTS streams open already, or cannot reach Redis, or is shutting down. Retry-After says when to retry. For a write, "detail" says whether it may have been applied.', 'Retry after Retry-After seconds; after a write, read the product before retrying if the detail says it may have been applied.'],
  ['gateway-timeout', 504, 'Gateway Timeout', 'A backend did not answer nginx in time.', 'Retry after Retry-After seconds.'],
];

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const anchor = (s) => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');

function page(title, rel, body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${rel}docs/docs.css">
</head>
<body>
<header><a href="/">Catalogue</a> · <a href="/docs/api.html">API reference</a> · <a href="/problems/">Problem types</a></header>
<main>
${body}
</main>
</body>
</html>
`;
}

// ---- the API reference ----
function deref(o) {
  let x = o;
  while (x && x.$ref) x = x.$ref.replace(/^#\//, '').split('/').reduce((a, k) => a[k.replace(/~1/g, '/')], spec);
  return x;
}
const refName = (o) => (o && o.$ref ? o.$ref.split('/').pop() : null);

// a short description of a schema, with links to named schemas
function schemaText(s) {
  if (!s) return '';
  const name = refName(s);
  if (name) return `<a href="#schema-${anchor(name)}">${esc(name)}</a>`;
  if (s.oneOf || s.anyOf) return (s.oneOf || s.anyOf).map(schemaText).join(' or ');
  if (s.allOf) return s.allOf.map(schemaText).join(' and ');
  let t = Array.isArray(s.type) ? s.type.join(' or ') : (s.type || 'any');
  if (t === 'array') t = `array of ${schemaText(s.items)}`;
  else t = esc(t);
  const bits = [];
  if (s.format) bits.push(esc(s.format));
  if (s.enum) bits.push(`one of ${s.enum.map((v) => `<code>${esc(JSON.stringify(v))}</code>`).join(', ')}`);
  if (s.const !== undefined) bits.push(`<code>${esc(JSON.stringify(s.const))}</code>`);
  for (const [k, label] of [['minimum', '≥'], ['exclusiveMinimum', '>'], ['maximum', '≤'], ['exclusiveMaximum', '<']]) if (s[k] !== undefined) bits.push(`${label} ${s[k]}`);
  if (s.minLength !== undefined || s.maxLength !== undefined) bits.push(`${s.minLength ?? 0}..${s.maxLength ?? '∞'} characters`);
  if (s.maxItems !== undefined) bits.push(`at most ${s.maxItems} items`);
  if (s.pattern) bits.push(`pattern <code>${esc(s.pattern)}</code>`);
  if (s.default !== undefined) bits.push(`default <code>${esc(JSON.stringify(s.default))}</code>`);
  return bits.length ? `${t} (${bits.join('; ')})` : t;
}

// a Server-Sent Events body: each event name with the schema of its data
function eventsText(s) {
  const events = s && s['x-events'];
  if (!events) return '';
  return `: ${Object.entries(events).map(([name, d]) => `<code>event: ${esc(name)}</code> → ${schemaText(d)}`).join(', ')}`;
}

function propsTable(s) {
  const o = deref(s);
  if (!o || !o.properties) return '';
  const req = new Set(o.required || []);
  const rows = Object.entries(o.properties).map(([k, v]) => {
    const d = deref(v);
    return `<tr><td><code>${esc(k)}</code>${req.has(k) ? ' <span class="req">required</span>' : ''}</td><td>${schemaText(v)}</td><td>${esc((v.description || d.description || '').trim())}</td></tr>`;
  });
  return `<table><thead><tr><th>member</th><th>type</th><th>meaning</th></tr></thead><tbody>\n${rows.join('\n')}\n</tbody></table>`;
}

const linkProblems = (html) => html.replace(/\/problems\/([a-z-]+)/g, (m, t) => (PROBLEMS.some((p) => p[0] === t) ? `<a href="/problems/${t}">${m}</a>` : m));

function operation(p, method, op, shared) {
  const id = op.operationId || `${method}-${p}`;
  const out = [`<section class="op" id="${anchor(id)}">`, `<h3><span class="method">${method.toUpperCase()}</span> <code>${esc(p)}</code></h3>`];
  if (op.summary) out.push(`<p class="summary">${esc(op.summary)}</p>`);
  if (op.description) out.push(`<p>${linkProblems(esc(op.description.trim()))}</p>`);
  const sec = op.security ?? spec.security;
  if (sec && sec.length && Object.keys(sec[0]).length) out.push('<p class="auth">Needs <code>Authorization: Bearer &lt;token&gt;</code> (admin).</p>');
  const params = [...shared, ...(op.parameters || [])].map(deref);
  if (params.length) {
    out.push('<h4>Parameters</h4><table><thead><tr><th>name</th><th>in</th><th>type</th><th>meaning</th></tr></thead><tbody>');
    for (const q of params) {
      out.push(`<tr><td><code>${esc(q.name)}</code>${q.required ? ' <span class="req">required</span>' : ''}</td><td>${esc(q.in)}</td><td>${schemaText(q.schema)}</td><td>${linkProblems(esc((q.description || '').trim()))}</td></tr>`);
    }
    out.push('</tbody></table>');
  }
  if (op.requestBody) {
    const rb = deref(op.requestBody);
    out.push('<h4>Request body</h4>');
    if (rb.description) out.push(`<p>${esc(rb.description.trim())}</p>`);
    for (const [ct, m] of Object.entries(rb.content || {})) out.push(`<p><code>${esc(ct)}</code>: ${schemaText(m.schema)}</p>`);
  }
  out.push('<h4>Responses</h4><table><thead><tr><th>status</th><th>meaning</th><th>body</th></tr></thead><tbody>');
  for (const [code, r0] of Object.entries(op.responses || {})) {
    const r = deref(r0);
    const bodies = Object.entries(r.content || {}).map(([ct, m]) => `<code>${esc(ct)}</code> ${schemaText(m.schema)}${eventsText(m.schema)}`).join('<br>');
    const headers = Object.keys(r.headers || {}).filter((h) => h !== 'X-Request-Id');
    out.push(`<tr><td>${esc(code)}</td><td>${linkProblems(esc((r.description || '').trim()))}${headers.length ? `<br><span class="headers">headers: ${headers.map((h) => `<code>${esc(h)}</code>`).join(', ')}</span>` : ''}</td><td>${bodies}</td></tr>`);
  }
  out.push('</tbody></table></section>');
  return out.join('\n');
}

function apiPage() {
  const methods = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options'];
  const ops = [];
  const toc = [];
  for (const [p, item] of Object.entries(spec.paths)) {
    for (const m of methods) {
      if (!item[m]) continue;
      const id = item[m].operationId || `${m}-${p}`;
      toc.push(`<li><a href="#${anchor(id)}"><span class="method">${m.toUpperCase()}</span> <code>${esc(p)}</code></a> ${esc(item[m].summary || '')}</li>`);
      ops.push(operation(p, m, item[m], item.parameters || []));
    }
  }
  const schemas = Object.entries(spec.components.schemas).map(([name, s]) => {
    const d = s.description ? `<p>${linkProblems(esc(s.description.trim()))}</p>` : '';
    const body = propsTable(s) || `<p>${schemaText(s)}</p>`;
    return `<section id="schema-${anchor(name)}"><h3>${esc(name)}</h3>\n${d}\n${body}\n</section>`;
  });
  const problems = PROBLEMS.map(([t, st, title]) => `<li><a href="/problems/${t}"><code>/problems/${t}</code></a> — ${st} ${esc(title)}</li>`);
  const body = `<h1>${esc(spec.info.title)} <span class="version">${esc(spec.info.version)}</span></h1>
<p>${linkProblems(esc((spec.info.description || '').trim()))}</p>
<p>Rendered from <code>backend/openapi.yaml</code> (OpenAPI ${esc(spec.openapi)}); the same document is served as JSON at <a href="/api/openapi.json"><code>/api/openapi.json</code></a>.</p>
<h2>Operations</h2>
<ul class="toc">
${toc.join('\n')}
</ul>
${ops.join('\n')}
<h2 id="schemas">Schemas</h2>
${schemas.join('\n')}
<h2 id="problems">Problem types</h2>
<p>Every error is <code>application/problem+json</code> (RFC 9457); its <code>type</code> is one of these, each a page here.</p>
<ul>
${problems.join('\n')}
</ul>`;
  return page(`${spec.info.title} — API reference`, '/', body);
}

function problemPage([t, status, title, when, todo]) {
  const example = JSON.stringify({ type: `/problems/${t}`, title, status, detail: '…', instance: 'a request id' }, null, 2);
  const body = `<h1><code>/problems/${esc(t)}</code></h1>
<p class="status">HTTP ${status} ${esc(title)}</p>
<h2>When</h2>
<p>${esc(when)}</p>
<h2>What to do</h2>
<p>${esc(todo)}</p>
<h2>The answer looks like</h2>
<pre>${esc(example)}</pre>
<p>"instance" is the request id, also in the <code>X-Request-Id</code> header: quote it when asking the operator. See the <a href="/docs/api.html">API reference</a> and the other <a href="/problems/">problem types</a>.</p>`;
  return page(`${t} — problem type`, '/', body);
}

function problemIndex() {
  const rows = PROBLEMS.map(([t, st, title, when]) => `<tr><td><a href="/problems/${t}"><code>/problems/${t}</code></a></td><td>${st} ${esc(title)}</td><td>${esc(when)}</td></tr>`);
  return page('Problem types', '/', `<h1>Problem types</h1>
<p>Every error of the API is <code>application/problem+json</code> (RFC 9457). Its <code>type</code> member is one of these.</p>
<table><thead><tr><th>type</th><th>status</th><th>when</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>`);
}

export function render() {
  const files = new Map();
  files.set('frontend/docs/api.html', apiPage());
  files.set('frontend/problems/index.html', problemIndex());
  for (const p of PROBLEMS) files.set(`frontend/problems/${p[0]}.html`, problemPage(p));
  return files;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [rel, text] of render()) {
    const file = path.join(root, rel);
    const have = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
    if (have === text) continue;
    if (check) {
      console.error(`render-docs: ${rel} is out of date: run node scripts/render-docs.mjs`);
      stale++;
    } else {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      console.log(`render-docs: wrote ${rel}`);
    }
  }
  process.exit(stale ? 1 : 0);
}
