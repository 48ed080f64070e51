// Checking a tx without trusting the server (docs/LEDGER.md §7), with WebCrypto only:
// SHA-256 (crypto.subtle.digest) and Ed25519 (crypto.subtle.verify). Every check returns
// {step, ok, key, args}: key is a dictionary key that says what held or why it failed, so the
// page can show ✓ or ✗ with the reason in the reader's language. Pure apart from WebCrypto;
// runs in the browser and in Node ≥ 20 (the unit tests use it there).
import { jcsBytes } from './jcs.js';

const enc = new TextEncoder();

export class FormatError extends Error {}

export function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) throw new FormatError('no_webcrypto');
  return s;
}

// Standard base64 with padding (RFC 4648 §4), strictly.
export function b64decode(s) {
  if (typeof s !== 'string' || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) {
    throw new FormatError('bad_base64');
  }
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function b64encode(bytes) {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

export function hex(bytes) {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function concat(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function equal(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

export async function sha256(bytes) {
  return new Uint8Array(await subtle().digest('SHA-256', bytes));
}

// RFC 6962 hashes.
export const leafHash = (leaf) => sha256(concat(Uint8Array.of(0), leaf));
export const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));

export async function ed25519Verify(pub, sig, msg) {
  const key = await subtle().importKey('raw', pub, { name: 'Ed25519' }, false, ['verify']);
  return subtle().verify({ name: 'Ed25519' }, key, sig, msg);
}

// The 4-byte key hash of a signed-note Ed25519 key: SHA-256(name || "\n" || 0x01 || pub)[:4].
export async function keyHash(name, pub) {
  return (await sha256(concat(enc.encode(`${name}\n`), Uint8Array.of(1), pub))).slice(0, 4);
}

// "<name>+<8 hex>+<base64(0x01 || pub)>" → {name, hash, pub}; throws FormatError when the
// line is malformed or its hash does not match its key.
export async function parseVerifierKey(line) {
  // A key name never holds "+" (C2SP signed-note), but base64 may: split at the first two.
  const m = /^([^+\s]+)\+([^+]*)\+(\S+)$/.exec(line.trim());
  if (!m) throw new FormatError('bad_key');
  const [, name, hash8, b64] = m;
  const raw = b64decode(b64);
  if (!/^[0-9a-f]{8}$/.test(hash8) || raw.length !== 33 || raw[0] !== 1) throw new FormatError('bad_key');
  const pub = raw.slice(1);
  if (hex(await keyHash(name, pub)) !== hash8) throw new FormatError('bad_key');
  return { name, hash: hash8, pub };
}

// A signed checkpoint (LEDGER §2) → {text, body, origin, treeSize, root, height, time, sigs}.
export function parseCheckpoint(note) {
  if (typeof note !== 'string') throw new FormatError('bad_note');
  const cut = note.lastIndexOf('\n\n');
  if (cut < 0) throw new FormatError('bad_note');
  const body = note.slice(0, cut + 1);
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3 || !/^[1-9][0-9]*$/.test(lines[1])) throw new FormatError('bad_note');
  const out = { text: note, body, origin: lines[0], treeSize: Number(lines[1]), root: b64decode(lines[2]), sigs: [] };
  if (out.root.length !== 32) throw new FormatError('bad_note');
  for (const l of lines.slice(3)) {
    const m = /^(height|time) ([0-9]+)$/.exec(l);
    if (m) out[m[1]] = Number(m[2]);
  }
  for (const l of note.slice(cut + 2).split('\n')) {
    if (l === '') continue;
    const m = /^\u2014 (\S+) (\S+)$/.exec(l);
    if (!m) throw new FormatError('bad_note');
    const raw = b64decode(m[2]);
    if (raw.length < 5) throw new FormatError('bad_note');
    out.sigs.push({ name: m[1], hash: hex(raw.slice(0, 4)), sig: raw.slice(4) });
  }
  return out;
}

// RFC 9162 §2.1.3.2, as LEDGER §7 step 4 spells it. Returns the computed root, or null when the
// path has the wrong length for (index, size).
export async function rootFromInclusion(index, size, leaf, path) {
  if (!(index >= 0 && index < size)) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

const fail = (step, key, args) => ({ step, ok: false, key, args });
const pass = (step, key, args) => ({ step, ok: true, key, args });

// Step 1: the leaf is JCS(tx); SHA-256(0x00 || leaf) is the proof's leaf hash and the tx id.
export async function checkLeaf(txId, tx, proof) {
  let lh;
  try {
    lh = await leafHash(jcsBytes(tx));
  } catch (e) {
    return fail('leaf', 'verify.leaf.not_canonical', { reason: String(e.message || e) });
  }
  let claimed;
  try {
    claimed = b64decode(proof.leaf_hash);
  } catch {
    return fail('leaf', 'verify.leaf.bad_proof_hash');
  }
  if (!equal(lh, claimed)) return fail('leaf', 'verify.leaf.mismatch_proof', { hash: hex(lh) });
  if (hex(lh) !== txId) return fail('leaf', 'verify.leaf.mismatch_id', { hash: hex(lh) });
  return pass('leaf', 'verify.leaf.ok', { hash: hex(lh) });
}

// Step 2: sig is signer's Ed25519 signature of "lianxin-tx-v1\n" || JCS(tx without sig).
export async function checkTxSignature(tx) {
  let pub, sig, msg;
  try {
    pub = b64decode(tx.signer);
    sig = b64decode(tx.sig);
    const rest = { ...tx };
    delete rest.sig;
    msg = concat(enc.encode('lianxin-tx-v1\n'), jcsBytes(rest));
  } catch {
    return fail('sig', 'verify.sig.malformed');
  }
  if (pub.length !== 32 || sig.length !== 64) return fail('sig', 'verify.sig.malformed');
  const ok = await ed25519Verify(pub, sig, msg).catch(() => false);
  return ok ? pass('sig', 'verify.sig.ok', { signer: tx.signer }) : fail('sig', 'verify.sig.bad');
}

// Step 3: one signature line of the checkpoint verifies with a validator key of that name.
// keysText: GET /api/chain/keys, one verifier key per line.
export async function checkCheckpoint(noteText, keysText, origin) {
  let cp;
  try {
    cp = parseCheckpoint(noteText);
  } catch {
    return { result: fail('checkpoint', 'verify.cp.malformed'), cp: null };
  }
  if (origin && cp.origin !== origin) {
    return { result: fail('checkpoint', 'verify.cp.wrong_origin', { origin: cp.origin, want: origin }), cp };
  }
  const keys = [];
  for (const line of String(keysText || '').split('\n')) {
    if (line.trim() === '') continue;
    try {
      keys.push(await parseVerifierKey(line));
    } catch {
      // an unreadable key line verifies nothing
    }
  }
  if (keys.length === 0) return { result: fail('checkpoint', 'verify.cp.no_keys'), cp };
  let matched = false;
  for (const s of cp.sigs) {
    const k = keys.find((k) => k.name === s.name && k.hash === s.hash);
    if (!k) continue;
    matched = true;
    if (s.sig.length === 64 && (await ed25519Verify(k.pub, s.sig, enc.encode(cp.body)).catch(() => false))) {
      return { result: pass('checkpoint', 'verify.cp.ok', { name: k.name, size: cp.treeSize }), cp };
    }
  }
  return { result: fail('checkpoint', matched ? 'verify.cp.bad_sig' : 'verify.cp.unknown_key'), cp };
}

// Step 4: the audit path leads from the leaf hash to the checkpoint's root.
export async function checkInclusion(proof, cp) {
  if (!cp) return fail('inclusion', 'verify.incl.no_checkpoint');
  let leaf, path;
  try {
    leaf = b64decode(proof.leaf_hash);
    path = (proof.path || []).map(b64decode);
  } catch {
    return fail('inclusion', 'verify.incl.malformed');
  }
  if (leaf.length !== 32 || path.some((p) => p.length !== 32)) return fail('inclusion', 'verify.incl.malformed');
  if (proof.tree_size !== cp.treeSize) {
    return fail('inclusion', 'verify.incl.size_mismatch', { proof: proof.tree_size, checkpoint: cp.treeSize });
  }
  const root = await rootFromInclusion(proof.leaf_index, proof.tree_size, leaf, path);
  if (!root) return fail('inclusion', 'verify.incl.bad_path', { n: path.length });
  if (!equal(root, cp.root)) return fail('inclusion', 'verify.incl.root_mismatch');
  return pass('inclusion', 'verify.incl.ok', { index: proof.leaf_index, size: proof.tree_size, n: path.length });
}

// Step 5 (LEDGER §7.5): replay the bundle's key evidence — each entry checked like the tx
// itself against the bundle's checkpoint — and decide whether the tx's signer was authorised
// for its org at its leaf index. cp is the bundle's checkpoint, already verified by the caller.
export async function checkAuthorisation(bundle, cp) {
  const step = 'auth';
  const tx = bundle.tx;
  const keys = new Map(); // base64 pubkey → {principal, added, revoked}
  const authorised = (pub, principal, at) => {
    const k = keys.get(pub);
    return !!k && k.principal === principal && k.added < at && (k.revoked === null || k.revoked >= at);
  };
  const entries = [...(bundle.key_evidence || [])].sort((a, b) => a.leaf_index - b.leaf_index);
  for (const ev of entries) {
    const leaf = await checkLeaf(ev.tx_id, ev.tx, ev.proof || {});
    const sig = leaf.ok ? await checkTxSignature(ev.tx) : leaf;
    const incl = sig.ok ? await checkInclusion(ev.proof, cp) : sig;
    if (!incl.ok || ev.proof.leaf_index !== ev.leaf_index) {
      return fail(step, 'verify.auth.bad_evidence', { index: ev.leaf_index });
    }
    const e = ev.tx;
    const b = e.body || {};
    const at = ev.leaf_index;
    if (e.module !== 'core') continue;
    if (e.type === 'genesis' && at === 0) {
      keys.set(b.admin_key, { principal: 'admin', added: 0, revoked: null });
    } else if (e.type === 'principal.register' && e.signer === b.key) {
      keys.set(b.key, { principal: b.id, added: at, revoked: null });
    } else if (e.type === 'org.register' && authorised(e.signer, 'admin', at)) {
      keys.set(b.key, { principal: b.id, added: at, revoked: null });
    } else if (e.type === 'key.add' && (authorised(e.signer, b.principal, at) || authorised(e.signer, 'admin', at))) {
      if (!keys.has(b.key)) keys.set(b.key, { principal: b.principal, added: at, revoked: null });
    } else if (e.type === 'key.revoke' && (authorised(e.signer, b.principal, at) || authorised(e.signer, 'admin', at))) {
      const k = keys.get(b.key);
      if (k && k.principal === b.principal && k.revoked === null) k.revoked = at;
    }
  }
  const idx = bundle.leaf_index;
  if (tx.module === 'core' && tx.type === 'genesis' && idx === 0) {
    return pass(step, 'verify.auth.genesis');
  }
  if (tx.module === 'core' && tx.type === 'principal.register' && tx.body && tx.body.key === tx.signer) {
    return pass(step, 'verify.auth.self', { org: tx.org });
  }
  const k = keys.get(tx.signer);
  if (!k || k.principal !== tx.org) return fail(step, 'verify.auth.unknown', { org: tx.org });
  if (k.added >= idx) return fail(step, 'verify.auth.later', { org: tx.org });
  if (k.revoked !== null && k.revoked < idx) return fail(step, 'verify.auth.revoked', { org: tx.org, at: k.revoked });
  if (k.revoked !== null) return pass(step, 'verify.auth.ok_revoked_later', { org: tx.org, at: k.revoked });
  return pass(step, 'verify.auth.ok', { org: tx.org, at: k.added });
}
