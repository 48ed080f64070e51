// Who is signed in. The session cookie is HttpOnly, so the page cannot see it: a flag in
// localStorage says "we signed in from this browser", and only then is /api/auth/me asked
// (asking while signed out would answer 401, which the browser logs as an error).
import { api, get, post, setCsrf, ApiError } from './api.js';

const FLAG = 'lx.session';
let mePromise = null;

function flag(on) {
  try {
    if (on) localStorage.setItem(FLAG, '1');
    else localStorage.removeItem(FLAG);
  } catch {
    // storage refused: we simply ask the server each time
  }
}

function flagged() {
  try {
    return localStorage.getItem(FLAG) === '1';
  } catch {
    return true;
  }
}

// The signed-in user ({username, node_role, principal, roles:[{org, role, org_name}], csrf})
// or null. Cached for the page's life.
export function me() {
  if (!mePromise) {
    mePromise = (async () => {
      if (!flagged()) return null;
      try {
        const m = await get('/api/auth/me');
        setCsrf(m.csrf);
        return m;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) flag(false);
        return null;
      }
    })();
  }
  return mePromise;
}

export async function login(username, password) {
  const m = await post('/api/auth/login', { username, password });
  setCsrf(m.csrf);
  flag(true);
  mePromise = Promise.resolve(m);
  return m;
}

export async function logout() {
  try {
    await api('POST', '/api/auth/logout');
  } finally {
    flag(false);
    setCsrf(null);
    mePromise = Promise.resolve(null);
  }
}

export const isAdmin = (m) => !!m && m.node_role === 'admin';
export const isRegulator = (m) => !!m && m.node_role === 'regulator';
export const isOversight = (m) => isAdmin(m) || isRegulator(m);

// Orgs where m holds role (any role when role is omitted), as [{org, org_name, roles:[…]}].
export function orgsOf(m, role) {
  const by = new Map();
  for (const r of (m && m.roles) || []) {
    if (!by.has(r.org)) by.set(r.org, { org: r.org, org_name: r.org_name, roles: [] });
    by.get(r.org).roles.push(r.role);
  }
  return [...by.values()].filter((o) => !role || o.roles.includes(role));
}

// May m see the administration pages at all?
export function canAdminister(m) {
  return isOversight(m) || orgsOf(m, 'org_admin').length > 0;
}
