// Small DOM helpers. Text always goes in as text nodes, never as HTML, so
// nothing a user stored can become markup.

export function el(tag, attrs, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') n.addEventListener(k.slice(2), v);
    else if (k === 'class') n.className = v;
    else if (v === true) n.setAttribute(k, '');
    else n.setAttribute(k, String(v));
  }
  append(n, children);
  return n;
}

function append(n, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(n, c);
    else n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

let fieldSeq = 0;

/** A labelled input with its hint and its error paragraph. */
export function field(label, name, attrs, hint) {
  const id = 'f-' + name + '-' + (++fieldSeq);
  const errID = id + '-error';
  const hintID = hint ? id + '-hint' : undefined;
  const tag = attrs && attrs.tag === 'select' ? 'select' : 'input';
  const a = Object.assign({ id, name, 'aria-describedby': [hintID, errID].filter(Boolean).join(' ') }, attrs || {});
  delete a.tag;
  const options = a.options;
  delete a.options;
  const input = el(tag, a, (options || []).map(([v, t]) => el('option', { value: v }, t)));
  return el('div', { class: 'field' },
    el('label', { for: id }, label), input,
    hint ? el('span', { class: 'hint', id: hintID }, hint) : null,
    el('p', { class: 'field-error', id: errID, 'data-for': name }));
}

/** Clears a form's error texts. */
export function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error, .form-error')) p.textContent = '';
  for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
}

/**
 * Shows a refused call on a form: each of the error's fields next to its
 * input, the message (and code) at the top. Fields the form has no input
 * for join the message.
 */
export function showError(form, err) {
  clearErrors(form);
  const extra = [];
  let first = null;
  for (const [name, problem] of Object.entries(err.fields || {})) {
    const p = form.querySelector('.field-error[data-for="' + CSS.escape(name) + '"]');
    if (!p) { extra.push(name + ': ' + problem); continue; }
    p.textContent = problem;
    const input = form.querySelector('[name="' + CSS.escape(name) + '"]');
    if (input) { input.setAttribute('aria-invalid', 'true'); first = first || input; }
  }
  const box = form.querySelector('.form-error');
  if (box) box.textContent = err.message + (err.code ? ' (code ' + err.code + ')' : '') + (extra.length ? ' — ' + extra.join('; ') : '');
  (first || box || form).focus?.();
}

/** The form's values by input name, empty strings left out. */
export function values(form) {
  const out = {};
  for (const [k, v] of new FormData(form).entries()) {
    if (typeof v === 'string' && v.trim() !== '') out[k] = v.trim();
  }
  return out;
}

/** A modal confirmation; resolves true when confirmed. */
export function confirmDialog(title, text, confirmLabel) {
  return new Promise((resolve) => {
    const ok = el('button', { type: 'button', class: 'danger', 'data-confirm': 'yes' }, confirmLabel || 'Confirm');
    const cancel = el('button', { type: 'button', class: 'secondary' }, 'Cancel');
    const d = el('dialog', { 'aria-labelledby': 'dlg-title' },
      el('h2', { id: 'dlg-title' }, title), el('p', {}, text), el('div', { class: 'actions' }, ok, cancel));
    const done = (v) => { d.close(); d.remove(); resolve(v); };
    ok.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    d.addEventListener('cancel', (e) => { e.preventDefault(); done(false); });
    document.body.append(d);
    d.showModal();
    cancel.focus();
  });
}

export function say(text) {
  const s = document.getElementById('status');
  const p = el('p', {}, text);
  s.append(p);
  setTimeout(() => p.remove(), 6000);
}

export function fmtTime(v) {
  if (!v) return '';
  const d = typeof v === 'number' ? new Date(v * 1000) : new Date(v);
  return isNaN(d) ? String(v) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}
