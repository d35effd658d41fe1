// The console's calls. The session token lives in an HttpOnly cookie this
// script never sees; it holds only the session's CSRF token, which every
// mutating call sends in X-CSRF-Token.

let csrf = '';
let methods = [];
let nextID = 1;

/** A refused call: the envelope's error (code, message, fields). */
export class CallError extends Error {
  constructor(code, message, fields) {
    super(message || 'Request failed.');
    this.code = code;
    this.fields = fields || {};
  }
}

// The codes that mean "sign in again".
export const SIGNED_OUT = new Set([1001, 1020, 2301, 2450, 2453]);

function unwrap(body) {
  // A console refusal or sign-in answer is an envelope; a forwarded call
  // answers JSON-RPC, whose result is the envelope.
  if (body && body.jsonrpc === '2.0') {
    if (body.error) {
      const data = typeof body.error.data === 'string' ? body.error.data : '';
      // Invalid params name their field ("field email: required"): shown
      // next to that field like a method's own field errors.
      const m = /^field ([A-Za-z0-9_.]+): (.+)$/.exec(data);
      const fields = m ? { [m[1]]: m[2] } : {};
      throw new CallError(body.error.code, body.error.message + (data ? ': ' + data : ''), fields);
    }
    body = body.result;
  }
  if (!body || !body.error) throw new CallError(-1, 'Unexpected answer from the gateway.');
  if (body.error.status) throw new CallError(body.error.code, body.error.message, body.error.fields);
  return body.data;
}

async function post(path, payload, withCSRF) {
  const headers = { 'Content-Type': 'application/json' };
  if (withCSRF) headers['X-CSRF-Token'] = csrf;
  const res = await fetch(path, {
    method: 'POST', headers, body: JSON.stringify(payload),
    credentials: 'same-origin', cache: 'no-store',
  });
  let body;
  try { body = await res.json(); } catch { throw new CallError(-1, 'The gateway answered HTTP ' + res.status + '.'); }
  return body;
}

/** Signs in; the answer is Barong's user object (no token). */
export async function signIn(email, password, otpCode) {
  const data = unwrap(await post('api/session', { email, password, otp_code: otpCode }, false));
  csrf = data.csrf;
  methods = data.methods || [];
  return data;
}

/** Picks up the CSRF token of an existing cookie; false when signed out. */
export async function restore() {
  const res = await fetch('api/session', { credentials: 'same-origin', cache: 'no-store' });
  if (!res.ok) return false;
  const data = unwrap(await res.json());
  csrf = data.csrf;
  methods = data.methods || [];
  return true;
}

/** Calls an admin.* method as the signed-in session. */
export async function call(method, params) {
  const req = { jsonrpc: '2.0', method, id: nextID++ };
  if (params !== undefined) req.params = params;
  return unwrap(await post('api/rpc', req, true));
}

export async function logout() {
  try { await post('api/logout', {}, true); } catch { /* signed out either way */ }
  csrf = '';
  methods = [];
}

/** Whether the gateway serves a method the console may call. */
export function has(method) { return methods.includes(method); }
export function served() { return methods.slice(); }
