// The console's shell: sign-in, navigation, and the router that draws one
// page at a time into <main>. Each page declares the method it needs; a page
// whose method the gateway does not serve is not offered.
import * as api from './api.js';
import { el, field, showError, values, say } from './dom.js';
import { pages } from './pages.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const navList = document.getElementById('nav-list');
const who = document.getElementById('who');
const logoutBtn = document.getElementById('logout');

let signedIn = false;

function available() {
  return pages.filter((p) => p.needs.every((m) => api.has(m)));
}

function drawNav(current) {
  navList.replaceChildren(...available().filter((p) => p.nav).map((p) =>
    el('li', {}, el('a', { href: '#/' + p.path, 'aria-current': p === current ? 'page' : undefined }, p.title))));
  nav.hidden = !signedIn;
  logoutBtn.hidden = !signedIn;
  const u = JSON.parse(sessionStorage.getItem('console.user') || 'null');
  who.textContent = signedIn && u ? u.email + ' (' + u.role + ')' : '';
}

function show(title, ...content) {
  document.title = title + ' · partnergate console';
  main.replaceChildren(...content.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));
  main.focus();
}

function signInPage(message) {
  signedIn = false;
  drawNav(null);
  const form = el('form', { class: 'panel signin', novalidate: true, 'aria-labelledby': 'signin-title' },
    el('h1', { id: 'signin-title' }, 'Sign in'),
    el('p', { class: 'form-error', role: 'alert' }, message || ''),
    field('Email', 'email', { type: 'email', autocomplete: 'username', required: true }),
    field('Password', 'password', { type: 'password', autocomplete: 'current-password', required: true }),
    field('Two-factor code', 'otp_code', { inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6 },
      'Six digits from your authenticator app'),
    el('div', { class: 'actions' }, el('button', { type: 'submit' }, 'Sign in')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = values(form);
    const btn = form.querySelector('button');
    btn.disabled = true;
    try {
      const u = await api.signIn(v.email || '', form.elements.password.value, v.otp_code || '');
      sessionStorage.setItem('console.user', JSON.stringify({ email: u.email, uid: u.uid, role: u.role }));
      signedIn = true;
      if (location.hash === '' || location.hash === '#/signin') location.hash = '#/';
      else route();
    } catch (err) {
      showError(form, err);
    } finally {
      btn.disabled = false;
    }
  });
  show('Sign in', form);
  form.elements.email.focus();
}

function homePage() {
  const list = available().filter((p) => p.nav);
  const u = JSON.parse(sessionStorage.getItem('console.user') || 'null');
  return {
    title: 'Overview',
    content: [
      el('h1', {}, 'Overview'),
      u ? el('p', {}, 'Signed in as ', el('strong', {}, u.email), ' with role ', el('code', {}, u.role), '.') : null,
      list.length
        ? el('ul', {}, list.map((p) => el('li', {}, el('a', { href: '#/' + p.path }, p.title), ' — ', p.doc)))
        : el('p', { class: 'muted' }, 'This gateway serves no admin.* methods yet: there is nothing to administer from here.'),
      el('h2', {}, 'Methods served to the console'),
      el('p', { class: 'muted' }, api.served().join(', ') || 'none'),
    ],
  };
}

async function route() {
  if (!signedIn) { signInPage(); return; }
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, ...args] = hash.split('/').map(decodeURIComponent);
  const page = available().find((p) => p.path === path);
  drawNav(page);
  if (!page) {
    const h = homePage();
    show(h.title, ...h.content);
    return;
  }
  try {
    const content = await page.draw(args, { route });
    show(page.title, ...[].concat(content));
  } catch (err) {
    if (api.SIGNED_OUT.has(err.code)) { signInPage('Your session has ended. Sign in again.'); return; }
    show(page.title, el('h1', {}, page.title), el('p', { class: 'form-error', role: 'alert' },
      err.message + (err.code ? ' (code ' + err.code + ')' : '')));
  }
}

logoutBtn.addEventListener('click', async () => {
  await api.logout();
  sessionStorage.removeItem('console.user');
  say('Signed out.');
  location.hash = '#/signin';
  signInPage();
});

window.addEventListener('hashchange', route);
window.addEventListener('console:signedout', () => signInPage('Your session has ended. Sign in again.'));

(async () => {
  try { signedIn = await api.restore(); } catch { signedIn = false; }
  route();
})();
