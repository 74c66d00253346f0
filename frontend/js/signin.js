// The header's admin controls (Sign in; or the user, Add product and Sign
// out) and the sign-in dialog. open({ reason }) resolves true once signed
// in, false when the dialog is closed without; reason (a 401 problem) says
// why the last session ended.
import * as auth from './auth.js';
import { byId, visible } from './dom.js';
import { sentence } from './format.js';

export function createSignin({ addProduct, changed, announce }) {
  const dialog = byId('signin');
  const form = byId('signin-form');
  const user = byId('signin-user');
  const password = byId('signin-password');
  const error = byId('signin-error');
  const reason = byId('signin-reason');
  const submit = byId('signin-submit');
  const openButton = byId('signin-open');
  const bar = byId('admin-signed-in');
  let opener = null;
  let resolve = null;
  let busy = false;

  function render() {
    const s = auth.current();
    openButton.hidden = Boolean(s);
    bar.hidden = !s;
    byId('admin-name').textContent = s ? s.username : '';
  }
  auth.onChange(() => { render(); changed(); });
  render();

  function open({ reason: why = null } = {}) {
    if (!dialog.open) {
      opener = document.activeElement;
      reason.textContent = why ? `You were signed out: ${sentence(why.detail)} Sign in again to go on.` : '';
      error.textContent = '';
      password.value = '';
      for (const el of [user, password]) el.setAttribute('aria-invalid', 'false');
      dialog.showModal();
      (user.value ? password : user).focus();
    }
    return new Promise((r) => {
      const before = resolve;
      resolve = (ok) => { if (before) before(ok); r(ok); };
    });
  }

  dialog.addEventListener('close', () => {
    const done = resolve;
    resolve = null;
    // the Sign in button is gone once signed in: go on at Add product
    const back = visible(opener) ? opener : auth.current() ? byId('add-product') : openButton;
    opener = null;
    back.focus();
    if (done) done(Boolean(auth.current()));
  });
  byId('signin-cancel').addEventListener('click', () => dialog.close());
  openButton.addEventListener('click', () => open());
  byId('add-product').addEventListener('click', (e) => addProduct(e.currentTarget));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    const name = user.value.trim();
    const missing = [name ? null : user, password.value ? null : password].filter(Boolean);
    for (const el of [user, password]) el.setAttribute('aria-invalid', String(missing.includes(el)));
    if (missing.length) {
      error.textContent = 'Enter your username and password.';
      missing[0].focus();
      return;
    }
    busy = true;
    submit.textContent = 'Signing in…';
    error.textContent = '';
    try {
      await auth.signIn(name, password.value);
      password.value = '';
      dialog.close();
      announce(`Signed in as ${auth.current().username}.`);
    } catch (err) {
      const wait = err.status === 429 && /^\d+$/.test(err.retryAfter || '') ? ` Try again in ${err.retryAfter} s.` : '';
      // a 401 here is always "wrong name or password": its title adds nothing
      error.textContent = `${err.status === 401 ? '' : `${err.title}: `}${sentence(err.detail)}${wait}`;
      password.select();
      password.focus();
    } finally {
      busy = false;
      submit.textContent = 'Sign in';
    }
  });

  byId('signout').addEventListener('click', async () => {
    if (busy) return;
    busy = true;
    const problem = await auth.signOut();
    busy = false;
    openButton.focus();
    announce(problem ? `Signed out here, but the server could not be told (${problem.title}): the token stays valid until it expires.`
      : 'Signed out.');
  });

  return { open };
}
