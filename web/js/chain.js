// The chain's public read API (docs/API.md "Chain core") and small views of it shared by the
// home page and the explorer.
import { h, fill } from './dom.js';
import { get } from './api.js';
import { has } from './i18n.js';
import { parseCheckpoint, b64encode } from './verify.js';
import { shortHash } from './format.js';

// {height, treeSize, origin, root (base64), time (ms), checkpoint (note text)}
export async function chainStatus() {
  const [health, note] = await Promise.all([get('/api/health'), get('/api/chain/checkpoint')]);
  let cp = null;
  try {
    cp = parseCheckpoint(note);
  } catch {
    cp = null;
  }
  return {
    height: health.height,
    treeSize: health.tree_size,
    origin: cp ? cp.origin : '',
    root: cp ? b64encode(cp.root) : '',
    time: cp ? cp.time : null,
    checkpoint: note,
  };
}

export const blocks = (limit, before) =>
  get(`/api/chain/blocks?limit=${limit}${before !== undefined && before !== null ? `&before=${before}` : ''}`);
export const block = (height) => get(`/api/chain/blocks/${height}`);
export const tx = (id) => get(`/api/chain/tx/${id}`);
export const keys = () => get('/api/chain/keys');

export function timeEl(ms) {
  if (ms === null || ms === undefined) return h('span', { text: '—' });
  return h('time', { datetime: new Date(Number(ms)).toISOString(), 'data-ms': ms });
}

export function numEl(n) {
  return h('span', { 'data-num': n });
}

// A long hash shortened, the whole value in its title and copyable by selection.
export function hashEl(s, { short = true } = {}) {
  return h('span', { class: 'hash', title: s, text: short ? shortHash(s) : s });
}

// The four headline numbers as a definition list; update(status) refreshes it in place.
export function statusStats() {
  const cells = {
    height: h('dd', { id: 'stat-height' }),
    size: h('dd', { id: 'stat-size' }),
    time: h('dd', { id: 'stat-time', class: 'small' }),
    root: h('dd', { id: 'stat-root', class: 'hash' }),
  };
  const el = h(
    'dl',
    { class: 'stats' },
    h('div', { class: 'stat' }, h('dt', { i18n: 'chain.height' }), cells.height),
    h('div', { class: 'stat' }, h('dt', { i18n: 'chain.tree_size' }), cells.size),
    h('div', { class: 'stat' }, h('dt', { i18n: 'chain.latest_time' }), cells.time),
    h('div', { class: 'stat' }, h('dt', { i18n: 'chain.root' }), cells.root),
  );
  function update(s) {
    fill(cells.height, numEl(s.height));
    fill(cells.size, numEl(s.treeSize));
    fill(cells.time, timeEl(s.time));
    fill(cells.root, hashEl(s.root));
  }
  return { el, update };
}

// A module's name in the reader's language (the raw name when the dictionary has none).
export function moduleEl(m) {
  return h('span', { i18n: `modname.${m}`, fallback: m });
}

// A tx type: described in words when the dictionary knows it, always with the raw type.
export function typeEl(module, type) {
  const key = `txtype.${module}.${type}`;
  if (!has(key)) return h('code', { text: type });
  return h('span', {}, h('span', { i18n: key }), ' ', h('code', { class: 'small muted', text: type }));
}
