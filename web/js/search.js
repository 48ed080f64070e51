// The explorer's search box. Each provider recognises a kind of query and finds the page that
// shows it. Modules add theirs here (one entry each), for example edu's credential hash or
// evidence's file hash: {id, test(q) → boolean, find(q) → Promise<url or null>}. Providers are
// tried in order; the first that finds something wins.
import { get, ApiError } from './api.js';

async function exists(path) {
  try {
    await get(path);
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return false;
    throw e;
  }
}

export const providers = [
  {
    id: 'block',
    test: (q) => /^[0-9]{1,15}$/.test(q),
    find: async (q) => {
      const health = await get('/api/health');
      const n = Number(q);
      return n <= health.height ? `/explorer/block.html?h=${n}` : null;
    },
  },
  {
    id: 'tx',
    test: (q) => /^[0-9a-fA-F]{64}$/.test(q),
    find: async (q) => {
      const id = q.toLowerCase();
      return (await exists(`/api/chain/tx/${id}`)) ? `/explorer/tx.html?id=${id}` : null;
    },
  },
  // Hook for the modules to come (credential hashes, evidence file hashes, work registrations):
  // push {id: 'credential', test: (q) => /^[0-9a-f]{64}$/.test(q), find: async (q) => url|null}.
];

export function registerSearch(provider) {
  providers.push(provider);
}

// → {url} when found, {notFound: true} when a provider understood q but nothing matched,
// {invalid: true} when no provider understands q.
export async function search(query) {
  const q = String(query || '').trim();
  const fitting = providers.filter((p) => p.test(q));
  if (fitting.length === 0) return { invalid: true };
  for (const p of fitting) {
    const url = await p.find(q);
    if (url) return { url };
  }
  return { notFound: true };
}
