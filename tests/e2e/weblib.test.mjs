// The UI's pure modules under Node, against known answers and independent implementations:
// JCS (RFC 8785 examples, and the C client's own canonical output), the Merkle inclusion check
// (every leaf of trees of 1 to 33 leaves, against a reference RFC 6962 PATH), tx and
// checkpoint signatures (keys made here with Node's crypto), and money/energy formatting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign as edSign } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ROOT } from './lib/server.mjs';

const { jcs, JcsError } = await import(join(ROOT, 'web/js/jcs.js'));
const V = await import(join(ROOT, 'web/js/verify.js'));
const F = await import(join(ROOT, 'web/js/format.js'));

const sha = (...parts) => createHash('sha256').update(Buffer.concat(parts.map((p) => Buffer.from(p)))).digest();

test('JCS: RFC 8785 §3.2.3 member order (UTF-16 code units) and raw UTF-8', () => {
  const input = JSON.parse('{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}');
  const keys = [...jcs(input).matchAll(/"([^"]*)":/g)].map((m) => m[1]);
  assert.deepEqual(keys, ['\\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
});

test('JCS: RFC 8785 string escaping and literals', () => {
  const input = JSON.parse('{"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}');
  assert.equal(jcs(input), '{"literals":[null,true,false],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
  assert.equal(jcs({ b: [1, -2, 0], a: { d: 9007199254740991, c: -0 } }), '{"a":{"c":0,"d":9007199254740991},"b":[1,-2,0]}');
});

test('JCS: floats, huge integers and lone surrogates are refused', () => {
  assert.throws(() => jcs({ a: 1.5 }), JcsError);
  assert.throws(() => jcs([9007199254740992]), JcsError);
  assert.throws(() => jcs('\ud800'), JcsError);
  assert.throws(() => jcs({ a: undefined }), JcsError);
});

const LIANXIN = join(ROOT, 'build', 'lianxin');
test('JCS: the same bytes as the C client signs', { skip: !existsSync(LIANXIN) && 'build/lianxin is not built' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lx-jcs-'));
  try {
    const key = join(dir, 'k.key');
    execFileSync(LIANXIN, ['keygen', '--out', key], { stdio: 'ignore' });
    const bodies = [
      { 名称: '北京大学', z: 'tab\tnew\nline', a: 'quote " back \\ slash', '\u007f': 'del', e: '😀 €', n: [0, -1, 9007199254740991], o: { '\u0080': 1, '1': 2 } },
      { ctrl: '\u0001\u001f', empty: {}, list: [], nul: null, t: true, f: false },
    ];
    for (const body of bodies) {
      const out = execFileSync(LIANXIN, ['sign', '--key', key, '--module', 'core', '--type', 'x.test', '--org', 'org1', JSON.stringify(body)]).toString().trim();
      assert.equal(jcs(JSON.parse(out)), out);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// RFC 6962 §2.1: MTH and PATH, by the book.
function mth(leaves) {
  if (leaves.length === 1) return sha([0], leaves[0]);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha([1], mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
function path(m, leaves) {
  if (leaves.length === 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m < k ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))] : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

test('inclusion: every leaf of every tree of 1 to 33 leaves, and a flipped byte fails', async () => {
  const leaves = Array.from({ length: 33 }, (_, i) => Buffer.from(`leaf ${i}`));
  for (let n = 1; n <= 33; n++) {
    const tree = leaves.slice(0, n);
    const root = mth(tree);
    for (let m = 0; m < n; m++) {
      const p = path(m, tree);
      const lh = sha([0], tree[m]);
      const r = await V.rootFromInclusion(m, n, new Uint8Array(lh), p.map((x) => new Uint8Array(x)));
      assert.ok(r && Buffer.from(r).equals(root), `n=${n} m=${m}`);
      if (p.length) {
        const bad = p.map((x) => new Uint8Array(x));
        bad[bad.length - 1][5] ^= 1;
        const r2 = await V.rootFromInclusion(m, n, new Uint8Array(lh), bad);
        assert.ok(!r2 || !Buffer.from(r2).equals(root));
      }
      // a path of the wrong length never verifies
      assert.equal(await V.rootFromInclusion(m, n, new Uint8Array(lh), [...p, p[0] || lh].map((x) => new Uint8Array(x))), null);
    }
  }
});

function keypair() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { pub, sign: (msg) => edSign(null, Buffer.from(msg), privateKey) };
}

test('tx signature and leaf hash: a signed tx passes, a changed body fails', async () => {
  const k = keypair();
  const tx = { v: 1, chain: 'lianxin.local/test', module: 'core', type: 'key.add', org: 'pku', signer: k.pub.toString('base64'), nonce: Buffer.alloc(16, 7).toString('base64'), time: 1795000000000, body: { principal: 'pku', key: Buffer.alloc(32, 1).toString('base64'), 名: '北大' } };
  tx.sig = k.sign(Buffer.concat([Buffer.from('lianxin-tx-v1\n'), Buffer.from(jcs(tx))])).toString('base64');
  const lh = sha([0], Buffer.from(jcs(tx)));
  const proof = { leaf_hash: lh.toString('base64') };
  assert.equal((await V.checkTxSignature(tx)).ok, true);
  assert.equal((await V.checkLeaf(lh.toString('hex'), tx, proof)).ok, true);
  const changed = { ...tx, body: { ...tx.body, 名: '清华' } };
  assert.equal((await V.checkTxSignature(changed)).key, 'verify.sig.bad');
  assert.equal((await V.checkLeaf(lh.toString('hex'), changed, proof)).key, 'verify.leaf.mismatch_proof');
  assert.equal((await V.checkLeaf('00'.repeat(32), tx, proof)).key, 'verify.leaf.mismatch_id');
  assert.equal((await V.checkTxSignature({ ...tx, sig: 'AAAA' })).key, 'verify.sig.malformed');
});

test('checkpoint signature: C2SP signed note with a verifier key; wrong key or body fails', async () => {
  const name = 'lianxin.local/test';
  const k = keypair();
  const khash = sha(Buffer.from(`${name}\n`), [1], k.pub).subarray(0, 4);
  const vkey = `${name}+${khash.toString('hex')}+${Buffer.concat([Buffer.from([1]), k.pub]).toString('base64')}`;
  const root = sha(Buffer.from('root'));
  const body = `${name}\n5\n${root.toString('base64')}\nheight 2\nprev ${Buffer.alloc(32).toString('base64')}\ntime 1795000000000\n`;
  const note = `${body}\n\u2014 ${name} ${Buffer.concat([khash, k.sign(body)]).toString('base64')}\n`;
  const ok = await V.checkCheckpoint(note, `${vkey}\n`, name);
  assert.equal(ok.result.ok, true, ok.result.key);
  assert.equal(ok.cp.treeSize, 5);
  assert.equal(ok.cp.height, 2);
  assert.ok(Buffer.from(ok.cp.root).equals(root));
  const other = keypair();
  const ohash = sha(Buffer.from(`${name}\n`), [1], other.pub).subarray(0, 4);
  const okey = `${name}+${ohash.toString('hex')}+${Buffer.concat([Buffer.from([1]), other.pub]).toString('base64')}`;
  assert.equal((await V.checkCheckpoint(note, okey, name)).result.key, 'verify.cp.unknown_key');
  assert.equal((await V.checkCheckpoint(note.replace('\n5\n', '\n6\n'), vkey, name)).result.key, 'verify.cp.bad_sig');
  assert.equal((await V.checkCheckpoint(note, vkey, 'another/chain')).result.key, 'verify.cp.wrong_origin');
  assert.equal((await V.checkCheckpoint('not a note', vkey, name)).result.key, 'verify.cp.malformed');
  // a key line whose hash does not match its key is ignored
  assert.equal((await V.checkCheckpoint(note, vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+'), name)).result.key, 'verify.cp.no_keys');
});

test('money and energy: integers in, exact text out, and back', () => {
  assert.equal(F.formatFen(123456), '¥1,234.56');
  assert.equal(F.formatFen(5), '¥0.05');
  assert.equal(F.formatFen(-5), '-¥0.05');
  assert.equal(F.formatFen(0), '¥0.00');
  assert.equal(F.formatFen(900719925474099), '¥9,007,199,254,740.99');
  assert.equal(F.formatWh(1234567), '1,234.567 kWh');
  assert.equal(F.formatWh(5), '0.005 kWh');
  assert.equal(F.formatFenPerKwh(45), '¥0.45/kWh');
  assert.equal(F.parseYuanToFen('1,234.5'), 123450);
  assert.equal(F.parseYuanToFen('¥12'), 1200);
  assert.equal(F.parseYuanToFen('0.07'), 7);
  assert.equal(F.parseYuanToFen('-3.10'), -310);
  assert.equal(F.parseYuanToFen('1.234'), null);
  assert.equal(F.parseYuanToFen('abc'), null);
  assert.equal(F.parseKwhToWh('1.5'), 1500);
  assert.equal(F.parseKwhToWh('0.001'), 1);
  assert.equal(F.parseKwhToWh('0.0001'), null);
  assert.equal(F.shortHash('e794ab8438a67384cf043b5b6957012aa227ec3b94849350db6eecf7f5bd0600'), 'e794ab84…bd0600');
});
