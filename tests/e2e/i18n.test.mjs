// The two dictionaries: the same keys on both sides, no empty text, the same {parameters} in
// each translation, and every key the pages name literally (i18n: 'a.b', t('a.b'), …) present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web');
const zh = (await import(join(WEB, 'i18n', 'zh.js'))).default;
const en = (await import(join(WEB, 'i18n', 'en.js'))).default;

function jsFiles(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (n === 'vendor' || n === 'i18n') return [];
    return statSync(p).isDirectory() ? jsFiles(p) : p.endsWith('.js') ? [p] : [];
  });
}

const params = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
// strings that look like keys but are not: storage names, ledger tx types
const NOT_KEYS = new Set(['lx.lang', 'lx.session', 'org.register', 'principal.register', 'key.add', 'key.revoke']);

test('zh and en have the same keys', () => {
  const missingEn = Object.keys(zh).filter((k) => !(k in en));
  const missingZh = Object.keys(en).filter((k) => !(k in zh));
  assert.deepEqual(missingEn, [], `missing in en.js: ${missingEn.join(', ')}`);
  assert.deepEqual(missingZh, [], `missing in zh.js: ${missingZh.join(', ')}`);
});

test('no translation is empty and both use the same parameters', () => {
  for (const k of Object.keys(zh)) {
    assert.ok(typeof zh[k] === 'string' && zh[k].length > 0, `zh ${k} is empty`);
    assert.ok(typeof en[k] === 'string' && en[k].length > 0, `en ${k} is empty`);
    assert.deepEqual(params(zh[k]), params(en[k]), `${k}: parameters differ`);
  }
});

test('English text has no Chinese characters (except the switch back to Chinese)', () => {
  const allowed = new Set(['shell.switch_to', 'shell.switch_title']);
  for (const [k, v] of Object.entries(en)) {
    if (!allowed.has(k)) assert.doesNotMatch(v, /[\u3400-\u9fff]/, `en ${k} has Chinese text`);
  }
});

test('every key the pages name literally is in the dictionaries', () => {
  const missing = [];
  for (const f of jsFiles(WEB)) {
    const src = readFileSync(f, 'utf8');
    for (const m of src.matchAll(/'([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)'/g)) {
      const k = m[1];
      if (NOT_KEYS.has(k) || /\.(js|html|css|json|svg|png)$/.test(k)) continue;
      if (!(k in zh)) missing.push(`${k} (${f.slice(WEB.length + 1)})`);
    }
  }
  assert.deepEqual([...new Set(missing)], []);
});

test('keys built from names exist for every name', () => {
  const need = [];
  for (const m of ['edu', 'evidence', 'copyright', 'charity', 'energy']) {
    for (const p of ['name', 'what', 'go', 'detail']) need.push(`module.${m}.${p}`);
    need.push(`nav.${m}`, `modname.${m}`);
  }
  for (const s of ['leaf', 'sig', 'checkpoint', 'inclusion', 'auth']) need.push(`verify.step.${s}`);
  for (const t of ['university', 'court', 'notary', 'law_firm', 'publisher', 'charity', 'auditor', 'market_operator', 'regulator']) need.push(`orgtype.${t}`);
  for (const r of ['org_admin', 'issuer', 'clerk', 'registrar', 'fund_manager', 'auditor', 'market_operator', 'member']) need.push(`role.${r}`);
  for (const s of ['orgs', 'users', 'tokens', 'audit', 'oversight']) need.push(`admin.${s}.title`, `admin.${s}.what`);
  need.push('noderole.admin', 'noderole.regulator', 'oversight.kind_org', 'oversight.kind_tx');
  assert.deepEqual(need.filter((k) => !(k in zh)), []);
});
