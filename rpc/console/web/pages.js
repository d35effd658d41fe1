// The console's pages. Each one names the methods it needs (needs), where
// it lives (#/path), and how it draws itself (draw returns nodes). A page
// whose methods the gateway does not serve is not offered (app.js).
import * as api from './api.js';
import { el, field, showError, clearErrors, values, confirmDialog, say, fmtTime } from './dom.js';
import { barChart } from './chart.js';

// ---- shared pieces --------------------------------------------------------

function formError() { return el('p', { class: 'form-error', role: 'alert', tabindex: '-1' }); }

/** A table of rows with the given [key, heading, render?] columns. */
function table(caption, rows, columns) {
  if (!rows || rows.length === 0) return el('p', { class: 'muted' }, caption + ': none.');
  return el('table', {},
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, columns.map(([, h]) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, rows.map((r) => el('tr', {}, columns.map(([k, , render]) =>
      el('td', {}, render ? render(r[k], r) : cell(r[k])))))));
}

function cell(v) {
  if (v === null || v === undefined || v === '') return '';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)) return fmtTime(v);
  return String(v);
}

/** A definition list of an object's scalar members. */
function props(obj, skip) {
  return el('dl', { class: 'props' }, Object.entries(obj || {})
    .filter(([k, v]) => !(skip || []).includes(k) && (v === null || typeof v !== 'object'))
    .flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, cell(v))]));
}

/** The rows of a list answer: an array, or the first array member of an object. */
function rowsOf(data) {
  if (Array.isArray(data)) return data;
  if (data && typeof data === 'object') {
    for (const v of Object.values(data)) if (Array.isArray(v)) return v;
  }
  return [];
}

/** Shows the audited result of an action under a heading. */
function resultBox(ok, text) {
  return el('div', { class: ok ? 'result' : 'result failed', role: 'status' }, text);
}

/**
 * Runs one confirmed admin action and reports what the gateway answered in
 * the node matching sel (looked up again after after(), which may redraw
 * the page).
 */
async function act(sel, title, text, label, method, params, after) {
  if (!(await confirmDialog(title, text, label))) return;
  const box = () => document.querySelector(sel);
  try {
    const data = await api.call(method, params);
    if (after) await after(data);
    box()?.replaceChildren(resultBox(true, method + ' done: ' + summary(data)));
    say(title + ': done.');
    if (box()) await showAudit(box(), params.uid);
  } catch (err) {
    if (api.SIGNED_OUT.has(err.code)) { window.dispatchEvent(new Event('console:signedout')); return; }
    box()?.replaceChildren(resultBox(false, method + ' refused: ' + err.message + ' (code ' + err.code + ')'));
  }
}

/** Adds the admin trail's newest entry about uid: the audited record of what was just done. */
async function showAudit(box, uid) {
  if (!uid || !api.has('admin.activities.admin.list')) return;
  try {
    const a = rowsOf(await api.call('admin.activities.admin.list', { target_uid: uid, limit: 1 }))[0];
    if (a) box.append(el('p', { class: 'audit' }, 'Audited: ', el('code', {}, a.topic + ' ' + a.action + ' ' + a.result),
      ' by ' + a.uid + ' from ' + a.user_ip + ' at ' + fmtTime(a.created_at) + (a.data ? ' — ' + a.data : '')));
  } catch { /* the action's own result is shown already */ }
}

function summary(data) {
  if (data === true || data === null || data === undefined) return 'ok';
  if (typeof data !== 'object') return String(data);
  const keep = ['uid', 'email', 'role', 'state', 'level', 'otp', 'id', 'key', 'value', 'updated_at'];
  return keep.filter((k) => k in data).map((k) => k + '=' + cell(data[k])).join(', ') || 'ok';
}

/** Unix seconds of a date input's value (UTC midnight), or undefined. */
function unix(date) {
  if (!date) return undefined;
  const t = Date.parse(date + 'T00:00:00Z');
  return isNaN(t) ? undefined : Math.floor(t / 1000);
}

// ---- users ----------------------------------------------------------------

const STATES = [['', 'any'], ['active', 'active'], ['pending', 'pending'], ['banned', 'banned'], ['locked', 'locked'], ['deleted', 'deleted']];

async function usersPage(args, ctx) {
  const form = el('form', { class: 'panel grid', 'aria-label': 'Find users', role: 'search', novalidate: true },
    field('Email', 'email', { type: 'text', autocomplete: 'off' }),
    field('UID', 'uid', { type: 'text', autocomplete: 'off', placeholder: 'ID…' }),
    field('Role', 'role', { type: 'text', autocomplete: 'off' }),
    field('State', 'state', { tag: 'select', options: STATES }),
    field('Level', 'level', { type: 'number', min: 0, max: 9, inputmode: 'numeric' }),
    field('Created from', 'from', { type: 'date' }),
    field('Created before', 'to', { type: 'date' }),
    el('div', { class: 'actions' }, el('button', { type: 'submit' }, 'Search'), el('button', { type: 'reset', class: 'secondary' }, 'Clear')),
    formError());
  const results = el('div', { 'aria-live': 'polite' });
  let cursors = [];

  async function load(before) {
    clearErrors(form);
    const v = values(form);
    const params = { limit: 25 };
    for (const k of ['email', 'uid', 'role', 'state']) if (v[k]) params[k] = v[k];
    if (v.level) params.level = Number(v.level);
    if (v.from || v.to) {
      params.range = 'created';
      if (v.from) params.from = unix(v.from);
      if (v.to) params.to = unix(v.to);
    }
    if (before) params.cursor = before;
    let data;
    try {
      data = await api.call('admin.users.list', params);
    } catch (err) {
      if (api.SIGNED_OUT.has(err.code)) throw err;
      showError(form, err);
      return;
    }
    const rows = rowsOf(data);
    // admin.users.list answers next_cursor when older users remain.
    const next = data && data.next_cursor ? data.next_cursor : '';
    results.replaceChildren(
      table('Users', rows, [
        ['uid', 'UID', (u) => el('a', { href: '#/user/' + encodeURIComponent(u) }, u)],
        ['email', 'Email'], ['role', 'Role'], ['level', 'Level'], ['state', 'State'], ['otp', '2FA'], ['created_at', 'Created'],
      ]),
      el('div', { class: 'pager' },
        el('button', { type: 'button', class: 'secondary', disabled: cursors.length === 0, onclick: () => { cursors.pop(); load(cursors[cursors.length - 1]); } }, 'Newer'),
        el('button', { type: 'button', class: 'secondary', disabled: !next, onclick: () => { cursors.push(next); load(next); } }, 'Older'),
        el('span', { class: 'muted' }, rows.length + ' shown')));
  }
  form.addEventListener('submit', (e) => { e.preventDefault(); cursors = []; load(); });
  form.addEventListener('reset', () => setTimeout(() => { cursors = []; load(); }));
  await load();
  return [el('h1', {}, 'Users'), form, results];
}

async function userPage(args, ctx) {
  const uid = args[0] || '';
  const u = await api.call('admin.users.get', { uid });
  const box = el('div', { 'aria-live': 'polite', id: 'user-result' });
  const reload = () => ctx.route();
  const banned = u.state === 'banned';
  const actions = el('div', { class: 'actions' });
  if (api.has('admin.users.update')) {
    actions.append(el('button', {
      type: 'button', class: banned ? '' : 'danger', id: 'ban',
      onclick: () => act('#user-result', banned ? 'Unban ' + u.email : 'Ban ' + u.email,
        banned ? 'The user will be able to sign in again.' : 'The user is banned and every session of theirs ends now.',
        banned ? 'Unban' : 'Ban', 'admin.users.update', { uid, state: banned ? 'active' : 'banned' }, reload),
    }, banned ? 'Unban' : 'Ban'));
    if (u.otp) {
      actions.append(el('button', {
        type: 'button', class: 'secondary', id: 'otp-off',
        onclick: () => act('#user-result', 'Turn 2FA off for ' + u.email, 'The user signs in with the password alone until they enable 2FA again.',
          'Turn 2FA off', 'admin.users.update', { uid, otp: false }, reload),
      }, 'Turn 2FA off'));
    }
  }
  const out = [el('h1', {}, u.email || uid), el('p', { class: 'muted' }, uid), actions, box];

  if (api.has('admin.users.role')) {
    const roleForm = el('form', { class: 'panel grid', 'aria-label': 'Change role', novalidate: true, id: 'role-form' },
      field('Role', 'role', { type: 'text', value: u.role || '', required: true }),
      el('div', { class: 'actions' }, el('button', { type: 'submit' }, 'Change role')), formError());
    roleForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      const role = values(roleForm).role || '';
      if (!(await confirmDialog('Change role', 'Give ' + (u.email || uid) + ' the role ' + role + '?', 'Change role'))) return;
      try {
        const data = await api.call('admin.users.role', { uid, role });
        await reload();
        const b = document.getElementById('user-result');
        if (b) { b.replaceChildren(resultBox(true, 'admin.users.role done: ' + summary(data))); await showAudit(b, uid); }
      } catch (err) {
        if (api.SIGNED_OUT.has(err.code)) { window.dispatchEvent(new Event('console:signedout')); return; }
        // The form has one field: a refusal without fields (an unknown
        // role, one above the caller's) is about it.
        if (!Object.keys(err.fields).length && err.code > 0) err.fields = { role: err.message };
        showError(roleForm, err);
      }
    });
    out.push(el('h2', {}, 'Role'), roleForm);
  }

  out.push(el('h2', {}, 'Account'), el('div', { class: 'panel' }, props(u, ['data'])));
  for (const p of [].concat(u.profiles || u.profile || [])) out.push(el('h2', {}, 'Profile'), el('div', { class: 'panel' }, props(p)));
  const labelCols = [['key', 'Key'], ['value', 'Value'], ['scope', 'Scope'], ['description', 'Description'], ['updated_at', 'Updated']];
  if (api.has('admin.users.labels.delete')) {
    labelCols.push(['key', 'Actions', (key, l) => el('button', {
      type: 'button', class: 'danger', 'aria-label': 'Delete label ' + key + ' (' + l.scope + ')',
      onclick: () => act('#user-result', 'Delete label ' + key, 'Remove the ' + l.scope + ' label ' + key + ' from ' + (u.email || uid) + '?',
        'Delete', 'admin.users.labels.delete', { uid, key, scope: l.scope }, reload),
    }, 'Delete')]);
  }
  out.push(el('h2', {}, 'Labels'), table('Labels', u.labels, labelCols));
  if (api.has('admin.users.labels.create')) out.push(labelForm(uid, reload));
  out.push(el('h2', {}, 'Phones'), table('Phones', u.phones, [['country', 'Country'], ['number', 'Number'], ['validated_at', 'Verified']]));
  out.push(el('h2', {}, 'Documents'), table('Documents', u.documents, [['doc_type', 'Type'], ['doc_number', 'Number'], ['doc_expire', 'Expires'], ['upload', 'File', (v) => v && v.url ? el('img', { src: v.url, alt: 'Document scan', width: 160 }) : cell(v)], ['created_at', 'Uploaded']]));
  if (u.api_keys) out.push(el('h2', {}, 'API keys'), table('API keys', u.api_keys, [['kid', 'Key id'], ['algorithm', 'Algorithm'], ['scope', 'Scope'], ['state', 'State'], ['created_at', 'Created']]));
  if (u.sessions) out.push(el('h2', {}, 'Sessions'), table('Sessions', u.sessions, [['user_agent', 'Device'], ['user_ip', 'IP'], ['created_at', 'Started'], ['expires_at', 'Expires']]));
  if (api.has('admin.activities.list')) {
    let acts = [];
    try { acts = rowsOf(await api.call('admin.activities.list', { uid, limit: 50 })); } catch (err) { acts = []; out.push(el('p', { class: 'form-error' }, err.message)); }
    out.push(el('h2', {}, 'Activity'), table('Activity', acts, [['created_at', 'When'], ['topic', 'Topic'], ['action', 'Action'], ['result', 'Result'], ['user_ip', 'IP'], ['user_agent', 'Device']]));
  }
  return out;
}

function labelForm(uid, reload) {
  const f = el('form', { class: 'panel grid', 'aria-label': 'Add a label', novalidate: true, id: 'label-form' },
    field('Key', 'key', { type: 'text', required: true }, 'a-z, 0-9, _ and -, 3 to 255'),
    field('Value', 'value', { type: 'text', required: true }),
    field('Scope', 'scope', { tag: 'select', options: [['private', 'private'], ['public', 'public']] }),
    field('Description', 'description', { type: 'text' }),
    el('div', { class: 'actions' }, el('button', { type: 'submit' }, 'Add label')), formError());
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = values(f);
    if (!(await confirmDialog('Add label', 'Give the user the label ' + (v.key || '') + ' = ' + (v.value || '') + '?', 'Add label'))) return;
    try {
      const data = await api.call('admin.users.labels.create', Object.assign({ uid }, v));
      await reload();
      const b = document.getElementById('user-result');
      if (b) { b.replaceChildren(resultBox(true, 'admin.users.labels.create done: ' + summary(data))); await showAudit(b, uid); }
    } catch (err) {
      if (api.SIGNED_OUT.has(err.code)) { window.dispatchEvent(new Event('console:signedout')); return; }
      showError(f, err);
    }
  });
  return f;
}

// ---- permissions and restrictions ----------------------------------------

/**
 * A list-create-edit-delete page over admin.<what>.*: the rows, a form
 * that creates (or, with a row picked, updates) one, and delete per row.
 */
function crudPage(what, title, fields, columns) {
  return async function draw(args, ctx) {
    const rows = rowsOf(await api.call('admin.' + what + '.list', { limit: 100 }));
    const box = el('div', { 'aria-live': 'polite' });
    let editing = null;
    const idInput = el('input', { type: 'hidden', name: 'id' });
    const submit = el('button', { type: 'submit' }, 'Create');
    const form = el('form', { class: 'panel grid', 'aria-label': title + ': create or edit', novalidate: true, id: what + '-form' },
      idInput, fields.map((f) => field(...f)),
      el('div', { class: 'actions' }, submit, el('button', { type: 'button', class: 'secondary', onclick: () => pick(null) }, 'New')),
      formError());
    function pick(row) {
      editing = row;
      clearErrors(form);
      form.reset();
      idInput.value = row ? row.id : '';
      for (const [, name] of fields) if (row && row[name] !== undefined && form.elements[name]) form.elements[name].value = row[name];
      submit.textContent = row ? 'Save #' + row.id : 'Create';
      if (row) form.elements[fields[0][1]].focus();
    }
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const v = values(form);
      delete v.id;
      for (const [, name, attrs] of fields) if (attrs && attrs.type === 'number' && v[name] !== undefined) v[name] = Number(v[name]);
      const method = 'admin.' + what + (editing ? '.update' : '.create');
      if (editing) v.id = editing.id;
      try {
        const data = await api.call(method, v);
        say(method + ' done.');
        await ctx.route();
        const b = document.querySelector('[data-result="' + what + '"]');
        if (b) b.replaceChildren(resultBox(true, method + ' done: ' + JSON.stringify(data)));
      } catch (err) {
        if (api.SIGNED_OUT.has(err.code)) throw err;
        showError(form, err);
      }
    });
    const cols = columns.concat([['id', 'Actions', (id, row) => el('span', { class: 'actions' },
      api.has('admin.' + what + '.update') ? el('button', { type: 'button', class: 'secondary', 'aria-label': 'Edit #' + id, onclick: () => pick(row) }, 'Edit') : null,
      api.has('admin.' + what + '.delete') ? el('button', {
        type: 'button', class: 'danger', 'aria-label': 'Delete #' + id,
        onclick: () => act('[data-result="' + what + '"]', 'Delete #' + id, 'Delete this row of ' + title.toLowerCase() + '?', 'Delete', 'admin.' + what + '.delete', { id }, () => ctx.route()),
      }, 'Delete') : null)]]);
    box.setAttribute('data-result', what);
    return [el('h1', {}, title), api.has('admin.' + what + '.create') ? form : null, box, table(title, rows, cols)];
  };
}

const permissionsPage = crudPage('permissions', 'Permissions', [
  ['Role', 'role', { type: 'text', required: true }],
  ['Verb', 'verb', { tag: 'select', options: [['', 'choose'], ['ALL', 'ALL'], ['GET', 'GET'], ['POST', 'POST'], ['PUT', 'PUT'], ['DELETE', 'DELETE']] }],
  ['Path', 'path', { type: 'text', required: true, placeholder: '/admin/users' }],
  ['Action', 'action', { tag: 'select', options: [['', 'choose'], ['ACCEPT', 'ACCEPT'], ['DROP', 'DROP'], ['AUDIT', 'AUDIT']] }],
  ['Topic', 'topic', { type: 'text' }, 'for AUDIT rows'],
], [['id', '#'], ['role', 'Role'], ['verb', 'Verb'], ['path', 'Path'], ['action', 'Action'], ['topic', 'Topic'], ['updated_at', 'Updated']]);

const restrictionsPage = crudPage('restrictions', 'Restrictions', [
  ['Category', 'category', { tag: 'select', options: [['', 'choose'], ['whitelist', 'whitelist'], ['blacklist', 'blacklist'], ['maintenance', 'maintenance'], ['blocklogin', 'blocklogin']] }],
  ['Scope', 'scope', { tag: 'select', options: [['', 'choose'], ['ip', 'ip'], ['ip_subnet', 'ip_subnet'], ['country', 'country'], ['continent', 'continent'], ['all', 'all']] }],
  ['Value', 'value', { type: 'text', required: true }, 'an IP, a CIDR, a country (ISO 3166) or a continent code'],
  ['Code', 'code', { type: 'number', inputmode: 'numeric' }, 'HTTP code answered, e.g. 403'],
  ['State', 'state', { tag: 'select', options: [['', 'choose'], ['enabled', 'enabled'], ['disabled', 'disabled']] }],
], [['id', '#'], ['category', 'Category'], ['scope', 'Scope'], ['value', 'Value'], ['code', 'Code'], ['state', 'State'], ['updated_at', 'Updated']]);

// ---- documents ------------------------------------------------------------

async function documentsPage(args, ctx) {
  const rows = rowsOf(await api.call('admin.users.documents.pending', { limit: 100 }));
  return [el('h1', {}, 'Pending documents'),
    table('Users waiting for document review', rows, [
      ['uid', 'UID', (u) => el('a', { href: '#/user/' + encodeURIComponent(u) }, u)], ['email', 'Email'], ['level', 'Level'], ['state', 'State'], ['created_at', 'Since'],
    ])];
}

// ---- KYC profiles -----------------------------------------------------------

async function profilesPage(args, ctx) {
  const rows = rowsOf(await api.call('admin.profiles.list', { limit: 100 }));
  const box = el('div', { 'aria-live': 'polite', id: 'profiles-result' });
  const decide = (uid, state) => act('#profiles-result', (state === 'verified' ? 'Verify ' : 'Reject ') + uid,
    'Mark the profile of ' + uid + ' as ' + state + '?', state === 'verified' ? 'Verify' : 'Reject',
    'admin.profiles.update', { uid, state }, () => ctx.route());
  return [el('h1', {}, 'Profiles'), box,
    table('KYC profiles, submitted first', rows.slice().sort((a, b) => (a.state === 'submitted' ? 0 : 1) - (b.state === 'submitted' ? 0 : 1)), [
      ['uid', 'UID', (u) => el('a', { href: '#/user/' + encodeURIComponent(u) }, u)],
      ['first_name', 'First name'], ['last_name', 'Last name'], ['country', 'Country'], ['state', 'State'],
      ['uid', 'Decision', (uid, p) => api.has('admin.profiles.update') && p.state !== 'verified' ? el('span', { class: 'actions' },
        el('button', { type: 'button', 'data-verify': uid, 'aria-label': 'Verify ' + uid, onclick: () => decide(uid, 'verified') }, 'Verify'),
        p.state !== 'rejected' ? el('button', { type: 'button', class: 'danger', 'aria-label': 'Reject ' + uid, onclick: () => decide(uid, 'rejected') }, 'Reject') : null) : ''],
    ])];
}

// ---- metrics --------------------------------------------------------------

/** Series of a metrics answer: name → [[label, value], …]. */
function seriesOf(data) {
  const out = [];
  for (const [name, v] of Object.entries(data || {})) {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const pts = Object.entries(v).filter(([, n]) => typeof n === 'number').sort(([a], [b]) => (a < b ? -1 : 1));
      if (pts.length) out.push([name, pts]);
    } else if (Array.isArray(v) && v.length && v[0] && typeof v[0] === 'object') {
      // Buckets: [{start, signups, successful_logins, …}] — one series per
      // numeric member, labelled by the bucket's time.
      const when = (b) => String(b.start ?? b.time ?? b.date ?? b.at ?? b.bucket ?? '');
      for (const key of Object.keys(v[0]).filter((k) => typeof v[0][k] === 'number')) {
        out.push([key, v.map((b) => [when(b), Number(b[key] || 0)])]);
      }
    }
  }
  return out;
}

async function metricsPage(args, ctx) {
  const which = args[0] === '30d' ? '30d' : '24h';
  const now = Math.floor(Date.now() / 1000);
  // admin.metrics buckets per hour for periods of two days or less, per day beyond.
  const params = { created_from: String(now - (which === '30d' ? 30 * 86400 : 86400)), created_to: String(now) };
  const data = await api.call('admin.metrics', params);
  const charts = seriesOf(data).map(([name, pts]) => barChart(name.replace(/_/g, ' '), pts));
  const scalars = Object.entries(data || {}).filter(([, v]) => typeof v === 'number');
  return [el('h1', {}, 'Metrics'),
    el('nav', { 'aria-label': 'Period', class: 'pager' },
      el('a', { href: '#/metrics/24h', 'aria-current': which === '24h' ? 'page' : undefined }, 'Last 24 hours, per hour'),
      el('a', { href: '#/metrics/30d', 'aria-current': which === '30d' ? 'page' : undefined }, 'Last 30 days, per day')),
    scalars.length ? el('div', { class: 'panel' }, props(Object.fromEntries(scalars))) : null,
    charts.length ? charts : el('p', { class: 'muted' }, 'No series in the answer.')];
}

export const pages = [
  { path: 'users', title: 'Users', nav: true, needs: ['admin.users.list'], draw: usersPage, doc: 'find users by email, uid, role, state, level or creation date' },
  { path: 'user', title: 'User', nav: false, needs: ['admin.users.get'], draw: userPage, doc: 'one user' },
  { path: 'profiles', title: 'Profiles', nav: true, needs: ['admin.profiles.list'], draw: profilesPage, doc: 'KYC profiles: verify or reject with one click each' },
  { path: 'documents', title: 'Documents', nav: true, needs: ['admin.users.documents.pending'], draw: documentsPage, doc: 'users waiting for document review' },
  { path: 'permissions', title: 'Permissions', nav: true, needs: ['admin.permissions.list'], draw: permissionsPage, doc: 'which role may call which route' },
  { path: 'restrictions', title: 'Restrictions', nav: true, needs: ['admin.restrictions.list'], draw: restrictionsPage, doc: 'addresses, countries and continents let in or kept out' },
  { path: 'metrics', title: 'Metrics', nav: true, needs: ['admin.metrics'], draw: metricsPage, doc: 'signups and logins over time' },
];
