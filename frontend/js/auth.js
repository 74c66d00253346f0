// The admin's session: the token of POST /api/auth/login, kept in this
// tab's sessionStorage only (it survives a reload, and is gone with the
// tab; localStorage would hand it to every tab and later visit). The
// server alone judges a token: a 401 from any write ends the session, and
// the caller shows the server's reason with the sign-in form.
import { ApiError, problemOf, request } from './api.js';

const KEY = 'catalog.session';
const listeners = [];
let session = restore();

function restore() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY));
    // expiresAt was reckoned by this browser's own clock at sign-in
    if (s && typeof s.token === 'string' && s.expiresAt > Date.now()) return s;
    sessionStorage.removeItem(KEY);
  } catch { /* no storage (privacy settings) or not ours: signed out */ }
  return null;
}

function set(s) {
  session = s;
  try {
    if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
    else sessionStorage.removeItem(KEY);
  } catch { /* kept in memory for this page only */ }
  for (const fn of listeners) fn(s);
}

export const current = () => session;
export const onChange = (fn) => listeners.push(fn);
const bearer = (token) => ({ Authorization: `Bearer ${token}` });
const json = { 'Content-Type': 'application/json' };

export async function signIn(username, password) {
  const r = await request('/api/auth/login', { method: 'POST', headers: json, body: JSON.stringify({ username, password }) });
  if (!r.ok) throw problemOf(r);
  const b = r.body || {};
  if (typeof b.token !== 'string') throw new ApiError({ status: r.status, title: 'Unexpected answer', detail: 'the server sent no token' });
  if (b.role !== 'admin') {
    // a viewer may read, which needs no sign-in: give the token back
    request('/api/auth/logout', { method: 'POST', headers: bearer(b.token) }).catch(() => {});
    throw new ApiError({ status: 403, title: 'Not an administrator', detail: `${b.username || username} may only read the catalogue` });
  }
  set({ token: b.token, username: b.username || username, expiresAt: Date.now() + (Number(b.expires_in) || 3600) * 1000 });
}

// Revokes the token on the server, then forgets it here whatever the
// answer. Returns null, or the problem when the server could not be told
// (the token then stays valid until it expires).
export async function signOut() {
  if (!session) return null;
  let problem = null;
  try {
    const r = await request('/api/auth/logout', { method: 'POST', headers: bearer(session.token) });
    if (!r.ok && r.status !== 401) problem = problemOf(r); // 401: no longer valid anyway
  } catch (e) {
    problem = e;
  }
  set(null);
  return problem;
}

// A write as the signed-in admin: { status, ok, headers, body }; body is
// sent as JSON. A 401 ends the session before the caller sees it.
export async function write(method, path, { body, type = 'application/json', headers = {} } = {}) {
  if (!session) return { status: 401, ok: false, headers: new Headers(), body: { title: 'Unauthorized', detail: 'you are not signed in' } };
  const r = await request(path, {
    method,
    timeoutMs: 20000,
    headers: { ...bearer(session.token), ...(body === undefined ? {} : { 'Content-Type': type }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status === 401) set(null);
  return r;
}
