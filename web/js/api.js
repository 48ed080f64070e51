// Talking to lianxind: JSON in, JSON out, errors as ApiError with the server's stable code
// (docs/API.md "Errors"). Writes carry the session's CSRF token. showError() puts an error
// next to the field or action it concerns, in the reader's language.
import { h, fill } from './dom.js';
import { has } from './i18n.js';

let csrfToken = null;

export function setCsrf(token) {
  csrfToken = token || null;
}

export class ApiError extends Error {
  constructor(status, code, message, detail) {
    super(message || code);
    this.status = status; // HTTP status; 0 when the server could not be reached
    this.code = code; // stable error code, e.g. "invalid_credentials"
    this.detail = detail || null; // often the name of the field at fault
  }
}

// method, path, optional JSON body. Returns the parsed answer (text for text/plain answers).
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'network', String(e && e.message ? e.message : e));
  }
  const type = resp.headers.get('Content-Type') || '';
  let data = null;
  try {
    data = type.includes('json') ? await resp.json() : await resp.text();
  } catch {
    data = null;
  }
  if (!resp.ok) {
    const err = data && typeof data === 'object' && data.error ? data.error : {};
    throw new ApiError(resp.status, err.code || `http_${resp.status}`, err.message || resp.statusText, err.detail);
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const del = (path, body) => api('DELETE', path, body);

// POSTs blob (a File) as the raw body, streamed by the browser; onProgress(fraction) as it goes.
// Resolves with the JSON answer, rejects with an ApiError like api().
export function postBlob(path, blob, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open('POST', path);
    x.setRequestHeader('Content-Type', 'application/octet-stream');
    x.setRequestHeader('Accept', 'application/json');
    if (csrfToken) x.setRequestHeader('X-CSRF-Token', csrfToken);
    x.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    x.onerror = () => reject(new ApiError(0, 'network', 'upload failed'));
    x.onload = () => {
      let data = null;
      try {
        data = JSON.parse(x.responseText);
      } catch {
        data = null;
      }
      if (x.status >= 200 && x.status < 300) return resolve(data);
      const err = data && data.error ? data.error : {};
      reject(new ApiError(x.status, err.code || `http_${x.status}`, err.message || x.statusText, err.detail));
    };
    x.send(blob);
  });
}

// The dictionary key for an error: err.<code> when we have it, else by status class.
export function errorKey(e) {
  if (e && e.code && has(`err.${e.code}`)) return `err.${e.code}`;
  if (e && e.status === 0) return 'err.network';
  return null;
}

// An element that states error e in the current language. Unknown codes fall back to the
// server's own message after a translated lead-in ("操作失败：…").
export function errorText(e) {
  const key = errorKey(e);
  if (key) return h('span', { i18n: key });
  return h('span', {}, h('span', { i18n: 'err.generic_prefix' }), ' ', h('span', { text: e && e.message ? e.message : String(e) }));
}

// Shows e in target (an element with role=alert or aria-live). When e names a field
// (err.detail) and form has a field of that name, the message goes next to that field instead
// and the field is marked invalid. Returns the element used.
export function showError(target, e, form) {
  clearErrors(form);
  const field = form && e && e.detail ? form.querySelector(`[name="${CSS.escape(e.detail)}"]`) : null;
  if (field) {
    const slot = form.querySelector(`#${CSS.escape(field.id)}-error`);
    if (slot) {
      field.setAttribute('aria-invalid', 'true');
      fill(slot, errorText(e));
      field.focus();
      if (target) fill(target);
      return slot;
    }
  }
  if (target) fill(target, errorText(e));
  return target;
}

export function clearErrors(form) {
  if (!form) return;
  for (const el of form.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute('aria-invalid');
  for (const el of form.querySelectorAll('.field-error')) fill(el);
}
