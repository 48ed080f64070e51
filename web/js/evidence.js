// Shared by the evidence pages: the item kinds and custody events, the badge of an item's
// state, and the incremental SHA-256 of a file read in slices (WebCrypto only hashes whole
// buffers, which a 4 GiB video is not): @noble/hashes, vendored by make into web/vendor/.
import { h } from './dom.js';
import { checkLeaf, checkTxSignature, checkCheckpoint, checkInclusion, checkAuthorisation } from './verify.js';

export const KINDS = ['document', 'image', 'audio', 'video', 'web_capture', 'chat_log', 'email', 'device_log', 'other'];
export const EVENTS = ['collected', 'sealed', 'transferred', 'examined', 'presented', 'returned', 'destroyed'];

const SLICE = 8 * 1024 * 1024; // bytes read at a time

export const kindEl = (k) => h('span', { i18n: `evidence.kind.${k}`, fallback: k });
export const eventEl = (e) => h('span', { i18n: `evidence.event.${e}`, fallback: e });

export function stateBadge(state) {
  const cls = state === 'destroyed' ? 'badge bad' : state === 'preserved' ? 'badge ok' : 'badge info';
  return h('span', { class: cls, i18n: state === 'preserved' ? 'evidence.state.preserved' : `evidence.event.${state}`, fallback: state });
}

let hasher = null;
async function createSha256() {
  if (!hasher) hasher = (await import('/vendor/noble-hashes/sha2.js')).sha256;
  return hasher.create();
}

// SHA-256 of file (a File or Blob) in lowercase hex; onProgress(fraction 0..1) after each slice.
export async function hashFile(file, onProgress = () => {}) {
  const sha = await createSha256();
  for (let at = 0; at < file.size; at += SLICE) {
    const buf = await file.slice(at, Math.min(file.size, at + SLICE)).arrayBuffer();
    sha.update(new Uint8Array(buf));
    onProgress(Math.min(1, (at + buf.byteLength) / file.size));
  }
  onProgress(1);
  return [...sha.digest()].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// A size in bytes for people: 1.5 MiB.
export function sizeText(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Number(n);
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u ? v.toFixed(1) : v} ${units[u]}`;
}

// The five ledger checks of one bundle (docs/LEDGER.md §7); the first that fails, or null.
async function bundleFailure(b, keysText) {
  const tx = b && b.tx;
  if (!tx || !b.proof) return { key: 'evidence.cert.malformed' };
  const leaf = await checkLeaf(b.tx_id, tx, b.proof);
  if (!leaf.ok) return leaf;
  const sig = await checkTxSignature(tx);
  if (!sig.ok) return sig;
  const cp = await checkCheckpoint(b.checkpoint, keysText, tx.chain);
  if (!cp.result.ok) return cp.result;
  const incl = await checkInclusion(b.proof, cp.cp);
  if (!incl.ok) return incl;
  const auth = await checkAuthorisation(b, cp.cp);
  return auth.ok ? null : auth;
}

// Verifies a preservation certificate (GET /api/evidence/items/:id/certificate) against the
// validator keys keysText: every tx's ledger checks, that each is about this item and hash, in
// ledger order, nothing after destroyed. Returns {ok, sha256, entries: [{event, ms, tx_id, ok,
// key, args}]} (the first entry is the preservation itself).
export async function verifyCertificate(cert, keysText) {
  const ledger = cert && cert.ledger;
  const item = ledger && ledger.item;
  const entries = [];
  if (!item || !item.tx || !Array.isArray(ledger.custody)) return { ok: false, sha256: null, entries: [{ event: 'preserved', ok: false, key: 'evidence.cert.malformed' }] };
  const body = item.tx.body || {};
  let why = await bundleFailure(item, keysText);
  if (!why && (item.tx.module !== 'evidence' || body.sha256 !== cert.sha256 || body.item_id !== cert.item_id)) why = { key: 'evidence.cert.not_this_item' };
  entries.push({ event: 'preserved', ms: cert.anchored_ms, tx_id: item.tx_id, ok: !why, key: why ? why.key : 'evidence.cert.ok', args: why ? why.args : {} });
  let last = item.leaf_index;
  let state = 'preserved';
  for (let i = 0; i < ledger.custody.length; i++) {
    const b = ledger.custody[i];
    const tb = (b.tx && b.tx.body) || {};
    let w = await bundleFailure(b, keysText);
    if (!w && (tb.item_id !== body.item_id || tb.sha256 !== body.sha256)) w = { key: 'evidence.cert.not_this_item' };
    if (!w && (b.leaf_index <= last || state === 'destroyed')) w = { key: 'evidence.cert.order' };
    const c = cert.custody && cert.custody[i];
    entries.push({ event: tb.event || '?', ms: c ? c.at_ms : null, tx_id: b.tx_id, ok: !w, key: w ? w.key : 'evidence.cert.ok', args: w ? w.args : {} });
    last = b.leaf_index;
    state = tb.event;
  }
  return { ok: entries.every((e) => e.ok), sha256: body.sha256 || null, entries };
}
