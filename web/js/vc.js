// W3C Verifiable Credentials with a Data Integrity proof of the cryptosuite eddsa-jcs-2022, as
// "Data Integrity EdDSA Cryptosuites v1.0" (W3C Recommendation, 15 May 2025, §3.3) defines it —
// the browser twin of chain/vc.c — and what it needs: base58btc and did:key for Ed25519 keys.
//
//   hashData   = SHA-256(JCS(proof without proofValue)) || SHA-256(JCS(document without proof))
//   proofValue = "z" + base58btc(Ed25519 signature of hashData)
//
// Pure apart from WebCrypto; runs in the browser and in Node ≥ 20 (tests/e2e/weblib tests).
import { jcsBytes } from './jcs.js';
import { sha256, concat, ed25519Verify, b64encode } from './verify.js';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export class VcError extends Error {
  constructor(code) {
    super(code);
    this.code = code; // a word for the page: not_object, no_proof, suite, purpose, context, key, value, sig, canonical
  }
}

// base58btc (Bitcoin alphabet) text → bytes. Throws VcError('value') on a foreign character.
export function b58decode(s) {
  const bytes = [];
  let zeros = 0;
  while (zeros < s.length && s[zeros] === '1') zeros++;
  for (let i = zeros; i < s.length; i++) {
    let carry = ALPHABET.indexOf(s[i]);
    if (carry < 0) throw new VcError('value');
    for (let j = 0; j < bytes.length; j++) {
      carry += bytes[j] * 58;
      bytes[j] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  return Uint8Array.from([...new Array(zeros).fill(0), ...bytes.reverse()]);
}

export function b58encode(bytes) {
  const digits = [];
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i];
    for (let j = 0; j < digits.length; j++) {
      carry += digits[j] << 8;
      digits[j] = carry % 58;
      carry = Math.floor(carry / 58);
    }
    while (carry > 0) {
      digits.push(carry % 58);
      carry = Math.floor(carry / 58);
    }
  }
  return '1'.repeat(zeros) + digits.reverse().map((d) => ALPHABET[d]).join('');
}

// "did:key:z6Mk…" or "did:key:z6Mk…#z6Mk…" → the 32-byte Ed25519 public key (multicodec
// ed25519-pub, the varint 0xed 0x01). Throws VcError('key').
export function didKeyDecode(did) {
  const m = typeof did === 'string' ? /^did:key:(z[1-9A-HJ-NP-Za-km-z]+)(?:#(z[1-9A-HJ-NP-Za-km-z]+))?$/.exec(did) : null;
  if (!m || (m[2] !== undefined && m[2] !== m[1])) throw new VcError('key');
  const raw = b58decode(m[1].slice(1));
  if (raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) throw new VcError('key');
  return raw.slice(2);
}

export function didKeyEncode(pub) {
  return `did:key:z${b58encode(concat(Uint8Array.of(0xed, 0x01), pub))}`;
}

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

// Unix ms of an XML Schema dateTime with a time zone, or NaN.
export function dateTimeMs(s) {
  return typeof s === 'string' && DATETIME.test(s) ? Date.parse(s) : NaN;
}

function canonical(v) {
  try {
    return jcsBytes(v);
  } catch {
    throw new VcError('canonical');
  }
}

// §3.3.4: SHA-256(JCS(proofConfig)) || SHA-256(JCS(unsecured)).
export async function hashData(unsecured, proofConfig) {
  return concat(await sha256(canonical(proofConfig)), await sha256(canonical(unsecured)));
}

// The anchor of the edu module: SHA-256 of the JCS of the whole secured credential, in base64.
export async function anchorHash(vc) {
  return b64encode(await sha256(canonical(vc)));
}

// §3.3.2 Verify Proof. Returns the signer's public key (Uint8Array) when the proof holds; throws
// VcError with what is wrong otherwise.
export async function verifyProof(secured) {
  if (!secured || typeof secured !== 'object' || Array.isArray(secured)) throw new VcError('not_object');
  const proof = secured.proof;
  if (Array.isArray(proof)) throw new VcError('no_proof');
  if (!proof || typeof proof !== 'object' || typeof proof.proofValue !== 'string') throw new VcError('no_proof');
  if (proof.type !== 'DataIntegrityProof' || proof.cryptosuite !== 'eddsa-jcs-2022') throw new VcError('suite');
  if (proof.proofPurpose !== 'assertionMethod') throw new VcError('purpose');
  if ('created' in proof && Number.isNaN(dateTimeMs(proof.created))) throw new VcError('suite');
  const pub = didKeyDecode(proof.verificationMethod);
  if (!proof.proofValue.startsWith('z')) throw new VcError('value');
  const sig = b58decode(proof.proofValue.slice(1));
  if (sig.length !== 64) throw new VcError('value');
  const unsecured = { ...secured };
  delete unsecured.proof;
  const options = { ...proof };
  delete options.proofValue;
  if ('@context' in options) {
    const want = [].concat(options['@context']);
    const have = [].concat(secured['@context'] === undefined ? [] : secured['@context']);
    if (want.length > have.length || want.some((c, i) => JSON.stringify(c) !== JSON.stringify(have[i]))) throw new VcError('context');
    unsecured['@context'] = options['@context'];
  }
  const data = await hashData(unsecured, options);
  const ok = await ed25519Verify(pub, sig, data).catch(() => false);
  if (!ok) throw new VcError('sig');
  return pub;
}
