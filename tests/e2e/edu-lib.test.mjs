// web/js/vc.js in Node (no browser): eddsa-jcs-2022 against the worked example of "Data
// Integrity EdDSA Cryptosuites v1.0" (W3C Recommendation, 15 May 2025, Appendix B.3, Examples
// 29–39 — the values of tests/unit/test_chain_vc.c), base58btc, did:key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyProof, hashData, b58decode, b58encode, didKeyDecode, didKeyEncode, anchorHash, dateTimeMs, VcError } from '../../web/js/vc.js';
import { hex } from '../../web/js/verify.js';

const PUBLIC = 'z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2';
const VM = `did:key:${PUBLIC}#${PUBLIC}`;
const CONTEXT = ['https://www.w3.org/ns/credentials/v2', 'https://www.w3.org/ns/credentials/examples/v2'];
const CREDENTIAL = {
  '@context': CONTEXT,
  id: 'urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33',
  type: ['VerifiableCredential', 'AlumniCredential'],
  name: 'Alumni Credential',
  description: 'A minimum viable example of an Alumni Credential.',
  issuer: 'https://vc.example/issuers/5678',
  validFrom: '2023-01-01T00:00:00Z',
  credentialSubject: { id: 'did:example:abcdefgh', alumniOf: 'The School of Examples' },
};
const OPTIONS = { type: 'DataIntegrityProof', cryptosuite: 'eddsa-jcs-2022', created: '2023-02-24T23:36:38Z', verificationMethod: VM, proofPurpose: 'assertionMethod', '@context': CONTEXT };
const PROOF_VALUE = 'z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX';
const SIG_HEX = '407cd12654b33d718ecbb99179a1506daaa849450bf3fc523cce3e1c96f8b80351da3f253d725c6f00b07c9e5448d50b3ef78012b9ab54255116d069c6dd2808';
const SIGNED = { ...CREDENTIAL, proof: { ...OPTIONS, proofValue: PROOF_VALUE } };

test('hash data of the specification example (Examples 32, 35, 36)', async () => {
  assert.equal(
    hex(await hashData(CREDENTIAL, OPTIONS)),
    '66ab154f5c2890a140cb8388a22a160454f80575f6eae09e5a097cabe539a1db' + '59b7cb6251b8991add1ce0bc83107e3db9dbbab5bd2c28f687db1a03abc92f19',
  );
});

test('the proofValue is base58btc of the signature (Examples 37, 38)', () => {
  assert.equal(hex(b58decode(PROOF_VALUE.slice(1))), SIG_HEX);
  assert.equal(`z${b58encode(b58decode(PROOF_VALUE.slice(1)))}`, PROOF_VALUE);
});

test('the signed credential verifies with the did:key it names (Example 39)', async () => {
  const pub = await verifyProof(SIGNED);
  assert.deepEqual(pub, didKeyDecode(VM));
  assert.equal(didKeyEncode(pub), `did:key:${PUBLIC}`);
});

test('every change is caught', async () => {
  const changed = structuredClone(SIGNED);
  changed.credentialSubject.alumniOf = 'The School of Examplez';
  await assert.rejects(verifyProof(changed), (e) => e instanceof VcError && e.code === 'sig');
  const suite = structuredClone(SIGNED);
  suite.proof.cryptosuite = 'eddsa-rdfc-2022';
  await assert.rejects(verifyProof(suite), (e) => e.code === 'suite');
  const ctx = structuredClone(SIGNED);
  ctx['@context'] = [CONTEXT[0]];
  await assert.rejects(verifyProof(ctx), (e) => e.code === 'context');
  const key = structuredClone(SIGNED);
  key.proof.verificationMethod = 'https://vc.example/issuers/5678#key-1';
  await assert.rejects(verifyProof(key), (e) => e.code === 'key');
  assert.throws(() => didKeyDecode(`did:key:${PUBLIC}#other`), VcError);
  assert.throws(() => b58decode('0OIl'), VcError);
});

test('base58btc: Bitcoin Core vectors', () => {
  const v = [
    ['61', '2g'],
    ['626262', 'a3gV'],
    ['00eb15231dfceb60925886b67d065299925915aeb172c06647', '1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L'],
    ['00000000000000000000', '1111111111'],
  ];
  for (const [h, b] of v) {
    const bytes = Uint8Array.from(h.match(/../g).map((x) => parseInt(x, 16)));
    assert.equal(b58encode(bytes), b);
    assert.equal(hex(b58decode(b)), h);
  }
});

test('anchor hash and dateTimes', async () => {
  assert.match(await anchorHash(SIGNED), /^[A-Za-z0-9+/]{43}=$/);
  assert.equal(dateTimeMs('1970-01-01T00:00:00Z'), 0);
  assert.equal(dateTimeMs('2000-01-01T08:00:00+08:00'), 10957 * 86400000);
  assert.ok(Number.isNaN(dateTimeMs('2000-01-01')));
});
