// The edu module in the browser: kinds and states, a credential shown readably, and the
// verification of a credential bundle {"credential","ledger"} in this browser with WebCrypto
// (docs/LEDGER.md §8) — the same five checks, in the same order, as POST /api/edu/verify:
// signature, anchored, issuer, revocation, validity. Only the revocation status is asked of
// the server; offline that check says it was not made.
import { h } from './dom.js';
import { get, ApiError } from './api.js';
import { checkLeaf, checkTxSignature, checkCheckpoint, checkInclusion, checkAuthorisation, b64encode } from './verify.js';
import { verifyProof, didKeyDecode, anchorHash, dateTimeMs, VcError } from './vc.js';

export const KINDS = ['diploma', 'degree', 'transcript', 'completion'];
export const CHECKS = ['signature', 'anchored', 'issuer', 'revocation', 'validity'];
const TX_ISSUE = `credential.issue`; // a ledger tx type, not a dictionary key
const KEYS_STORE = `lx.keys`; // a storage name

// The kind of a credential from its VC type ("DiplomaCredential" → "diploma").
export function kindOf(vc) {
  const types = [].concat((vc && vc.type) || []);
  return KINDS.find((k) => types.includes(`${k[0].toUpperCase()}${k.slice(1)}Credential`)) || null;
}

export function statusBadge(status) {
  const cls = status === 'valid' ? 'ok' : status === 'revoked' ? 'bad' : 'warn';
  return h('span', { class: `badge ${cls}`, i18n: `edu.status.${status}` });
}

// The validator keys: from the node, remembered for a later offline visit.
async function validatorKeys() {
  try {
    const text = await get('/api/chain/keys');
    try {
      localStorage.setItem(KEYS_STORE, text);
    } catch {
      // no storage: fine
    }
    return { text, cached: false };
  } catch {
    let text = null;
    try {
      text = localStorage.getItem(KEYS_STORE);
    } catch {
      text = null;
    }
    return { text, cached: true };
  }
}

const ok = (name, key, args) => ({ name, ok: true, key, args });
const bad = (name, key, args) => ({ name, ok: false, key, args });

async function checkSignature(vc) {
  let pub;
  try {
    pub = await verifyProof(vc);
  } catch (e) {
    return { r: bad('signature', `edu.check.signature.${e instanceof VcError ? e.code : 'sig'}`), pub: null };
  }
  const issuer = vc.issuer && typeof vc.issuer === 'object' ? vc.issuer.id : vc.issuer;
  let ipub = null;
  try {
    ipub = didKeyDecode(issuer);
  } catch {
    ipub = null;
  }
  if (!ipub || b64encode(ipub) !== b64encode(pub)) return { r: bad('signature', 'edu.check.signature.issuer_mismatch'), pub: null };
  return { r: ok('signature', 'edu.check.signature.ok', { did: issuer }), pub };
}

async function checkAnchored(vc, ledger, keysText) {
  const tx = ledger && ledger.tx;
  if (!tx || typeof tx !== 'object' || !ledger.proof) return { r: bad('anchored', 'edu.check.anchored.none'), cp: null };
  const leaf = await checkLeaf(ledger.tx_id, tx, ledger.proof);
  if (!leaf.ok) return { r: bad('anchored', leaf.key, leaf.args), cp: null };
  const sig = await checkTxSignature(tx);
  if (!sig.ok) return { r: bad('anchored', sig.key, sig.args), cp: null };
  if (tx.module !== 'edu' || tx.type !== TX_ISSUE) return { r: bad('anchored', 'edu.check.anchored.not_issue'), cp: null };
  if (!tx.body || tx.body.credential_id !== vc.id) return { r: bad('anchored', 'edu.check.anchored.other_id'), cp: null };
  let hash;
  try {
    hash = await anchorHash(vc);
  } catch {
    return { r: bad('anchored', 'edu.check.signature.canonical'), cp: null };
  }
  if (tx.body.hash !== hash) return { r: bad('anchored', 'edu.check.anchored.hash'), cp: null };
  if (!keysText) return { r: bad('anchored', 'edu.check.anchored.no_keys'), cp: null };
  const cp = await checkCheckpoint(ledger.checkpoint, keysText, tx.chain);
  if (!cp.result.ok) return { r: bad('anchored', cp.result.key, cp.result.args), cp: null };
  const incl = await checkInclusion(ledger.proof, cp.cp);
  if (!incl.ok) return { r: bad('anchored', incl.key, incl.args), cp: null };
  return { r: ok('anchored', 'edu.check.anchored.ok', { index: ledger.proof.leaf_index, height: ledger.height, size: cp.cp.treeSize }), cp: cp.cp };
}

async function checkIssuer(vc, ledger, pub, cp) {
  const tx = ledger.tx;
  if (b64encode(pub) !== tx.signer) return bad('issuer', 'edu.check.issuer.other_key');
  const auth = await checkAuthorisation(ledger, cp);
  if (!auth.ok) return bad('issuer', auth.key, auth.args);
  const reg = (ledger.key_evidence || []).map((e) => e.tx).find((t) => t && t.module === 'core' && t.type === 'org.register' && t.body && t.body.id === tx.org);
  if (!reg) return bad('issuer', 'edu.check.issuer.no_admission', { org: tx.org });
  if (reg.body.type !== 'university') return bad('issuer', 'edu.check.issuer.not_university', { org: tx.org });
  const name = vc.issuer && vc.issuer.name;
  if (name !== reg.body.name) return bad('issuer', 'edu.check.issuer.name', { name: reg.body.name });
  if (auth.key === 'verify.auth.ok_revoked_later') return ok('issuer', 'edu.check.issuer.ok_revoked_later', { name, org: tx.org, at: auth.args.at });
  return ok('issuer', 'edu.check.issuer.ok', { name, org: tx.org });
}

// The revocation status from the node: ok, revoked (with date and reason), or null = not
// checked (no network).
async function checkRevocation(vc) {
  const m = typeof vc.id === 'string' ? /^urn:uuid:([0-9a-f-]{36})$/.exec(vc.id) : null;
  if (!m) return bad('revocation', 'edu.check.revocation.unknown');
  try {
    const s = await get(`/api/edu/credentials/${m[1]}/status`);
    if (s.status === 'revoked') return { ...bad('revocation', 'edu.check.revocation.revoked', { date: s.revoked.date, reason: s.revoked.reason }), revoked: s.revoked };
    return ok('revocation', 'edu.check.revocation.ok');
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return bad('revocation', 'edu.check.revocation.unknown');
    return { name: 'revocation', ok: null, key: 'edu.check.revocation.offline' };
  }
}

function checkValidity(vc, now) {
  const from = vc.validFrom;
  const until = vc.validUntil;
  const f = from === undefined ? -Infinity : dateTimeMs(from);
  const u = until === undefined ? Infinity : dateTimeMs(until);
  if (Number.isNaN(f) || Number.isNaN(u)) return bad('validity', 'edu.check.validity.bad');
  if (f > now) return bad('validity', 'edu.check.validity.not_yet', { from });
  if (u < now) return bad('validity', 'edu.check.validity.expired', { until });
  return until ? ok('validity', 'edu.check.validity.ok_until', { from: from || '', until }) : ok('validity', 'edu.check.validity.ok', { from: from || '' });
}

// Verifies bundle; calls onCheck(result) as each check is decided. Returns
// {verdict: 'valid'|'revoked'|'invalid', checks: [...], revocationChecked, firstBad, revoked}.
export async function verifyBundle(bundle, onCheck = () => {}, now = Date.now()) {
  const checks = [];
  const put = (r) => {
    checks.push(r);
    onCheck(r);
  };
  const vc = bundle && bundle.credential;
  const ledger = bundle && bundle.ledger;
  if (!vc || typeof vc !== 'object') {
    for (const c of CHECKS) put(bad(c, 'edu.check.no_credential'));
    return { verdict: 'invalid', checks, revocationChecked: false, firstBad: checks[0] };
  }
  const keys = await validatorKeys();
  const sig = await checkSignature(vc);
  put(sig.r);
  const anch = await checkAnchored(vc, ledger, keys.text);
  put(anch.r);
  if (!sig.r.ok || !anch.r.ok) put(bad('issuer', 'edu.check.issuer.needs'));
  else put(await checkIssuer(vc, ledger, sig.pub, anch.cp));
  const rev = await checkRevocation(vc);
  put(rev);
  put(checkValidity(vc, now));
  const invalid = checks.some((c) => c.ok === false && c.name !== 'revocation');
  const verdict = invalid ? 'invalid' : rev.ok === false ? 'revoked' : 'valid';
  return { verdict, checks, revocationChecked: rev.ok !== null, firstBad: checks.find((c) => c.ok === false), revoked: rev.revoked || null };
}

// ---- showing a credential -----------------------------------------------------------------

function fact(key, value, id) {
  if (value === undefined || value === null || value === '') return null;
  return [h('dt', { i18n: key }), h('dd', { id, text: value })];
}

// The credential's content, readably, in the reader's language.
export function credentialView(vc, ledger) {
  const s = (vc && vc.credentialSubject) || {};
  const kind = kindOf(vc);
  const courses = Array.isArray(s.courses) ? s.courses : [];
  return h(
    'div',
    { class: 'credential-view', id: 'credential-view' },
    h('p', { class: 'cred-kind', id: 'cred-kind', i18n: kind ? `edu.kind.${kind}` : 'edu.kind.other' }),
    h('h2', { class: 'cred-name', id: 'cred-name', text: s.name || '' }),
    h(
      'dl',
      { class: 'facts' },
      fact('edu.field.issuer', vc.issuer && vc.issuer.name, 'cred-issuer'),
      fact('edu.field.student_number', s.studentNumber, 'cred-number'),
      fact('edu.field.degree', s.degree, 'cred-degree'),
      fact('edu.field.major', s.major, 'cred-major'),
      fact('edu.field.start_date', s.startDate, 'cred-start'),
      fact('edu.field.end_date', s.endDate, 'cred-end'),
      fact('edu.field.valid_from', vc.validFrom ? vc.validFrom.slice(0, 10) : '', 'cred-from'),
      fact('edu.field.valid_until', vc.validUntil ? vc.validUntil.slice(0, 10) : '', 'cred-until'),
      ledger && ledger.tx ? [h('dt', { i18n: 'edu.field.anchored' }), h('dd', { id: 'cred-anchored' }, h('span', { 'data-ms': ledger.tx.time }), ' · ', h('span', { i18n: 'edu.field.block', args: { height: ledger.height, index: ledger.leaf_index } }))] : null,
      fact('edu.field.id', vc.id, 'cred-id'),
    ),
    courses.length
      ? h(
          'table',
          { class: 'courses', id: 'cred-courses' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col', i18n: 'edu.course.name' }), h('th', { scope: 'col', i18n: 'edu.course.credits' }), h('th', { scope: 'col', i18n: 'edu.course.grade' }))),
          h('tbody', {}, courses.map((c) => h('tr', {}, h('td', { text: c.name }), h('td', { text: c.credits }), h('td', { text: c.grade })))),
        )
      : null,
  );
}

// Saves a bundle as a file named after the credential.
export function downloadBundle(bundle, id) {
  const blob = new Blob([JSON.stringify(bundle, null, 2)], { type: 'application/json' });
  const a = h('a', { href: URL.createObjectURL(blob), download: `credential-${String(id).slice(0, 8)}.json` });
  document.body.append(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 1000);
}
