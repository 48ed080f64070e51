// The Education pages in real Chromium against a real lianxind (issue 6): the registrar signs in,
// uploads a CSV of 100 diplomas, watches the progress bar and sees the result list, opens one
// and prints its certificate with a QR code; a visitor with no account drops the student's
// file on /edu/verify → valid with every check ✓; a tampered file → invalid, naming the check
// that failed; a batch with bad rows names their lines and issues nothing. No page may log a
// console error or make a failed request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, ADMIN_PASSWORD } from './lib/server.mjs';
import { openBrowser, watch, settle, screenshot } from './lib/browser.mjs';

const UNI = { id: 'e2e-edu-univ', name: '链信示范大学', type: 'university' };
const REGISTRAR = { username: 'e2e.edu.registrar', password: 'registrar-password-1' };

let srv;
let reg; // the registrar's browser
let regPage;
let regWatch;
const state = {};

// A JSON API call as the administrator (set up what the pages need).
async function adminApi() {
  const r = await fetch(`${srv.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  assert.equal(r.status, 200);
  const cookie = r.headers.get('set-cookie').split(';')[0];
  const { csrf } = await r.json();
  return async (method, path, body) => {
    const resp = await fetch(srv.url + path, { method, headers: { 'Content-Type': 'application/json', Cookie: cookie, 'X-CSRF-Token': csrf }, body: body ? JSON.stringify(body) : undefined });
    return { status: resp.status, body: await resp.json() };
  };
}

async function go(page, path) {
  await page.goto(srv.url + path);
  await settle(page);
}

before(async () => {
  srv = await startServer();
  const api = await adminApi();
  assert.equal((await api('POST', '/api/orgs', UNI)).status, 201);
  const u = await api('POST', `/api/orgs/${UNI.id}/users`, { username: REGISTRAR.username, display_name: '教务处', role: 'registrar', password: REGISTRAR.password });
  assert.equal(u.status, 201);
  reg = await openBrowser();
  regPage = reg.ctx.pages()[0] || (await reg.ctx.newPage());
  regWatch = watch(regPage);
  await go(regPage, '/login/');
  await regPage.fill('#username', REGISTRAR.username);
  await regPage.fill('#password', REGISTRAR.password);
  await Promise.all([regPage.waitForURL((x) => !x.pathname.startsWith('/login')), regPage.click('#login-submit')]);
  await settle(regPage);
});

after(async () => {
  if (reg) await reg.close();
  if (srv) await srv.stop();
});

function csv(rows, bad = new Map()) {
  let text = '\ufeffkind,name,student_number,degree,major,end_date\r\n';
  for (let line = 2; line < rows + 2; line++) text += bad.has(line) ? `${bad.get(line)}\r\n` : `diploma,学生${line},2026${String(line).padStart(4, '0')},工学学士,计算机科学与技术,2026-07-01\r\n`;
  return text;
}

test('a batch with bad rows names their lines and issues nothing', { timeout: 60000 }, async () => {
  const file = join(srv.dir, 'bad.csv');
  writeFileSync(file, csv(20, new Map([[5, 'diploma,,X5,,,'], [9, 'certificate,名字,X9,,,'], [21, 'diploma,只有两列']])));
  await go(regPage, '/edu/');
  await regPage.setInputFiles('#batch-file', file);
  await regPage.click('#batch-submit');
  await regPage.waitForSelector('#batch-errors');
  assert.deepEqual(await regPage.$$eval('#batch-errors li', (l) => l.map((x) => Number(x.dataset.line))), [5, 9, 21]);
  assert.ok(await regPage.isHidden('#batch-progress'));
  assert.equal(await regPage.$$eval('#cred-list tbody tr', (r) => r.length), 0);
  await screenshot(regPage, 'edu-batch-errors');
  regWatch.check(assert);
});

test('the registrar uploads a CSV of 100, sees progress and the result list', { timeout: 120000 }, async () => {
  const file = join(srv.dir, 'batch.csv');
  writeFileSync(file, csv(100));
  await go(regPage, '/edu/');
  await regPage.setInputFiles('#batch-file', file);
  await regPage.click('#batch-submit');
  await regPage.waitForSelector('#batch-done', { timeout: 60000 });
  assert.equal(await regPage.getAttribute('#batch-done', 'data-issued'), '100');
  const bar = await regPage.$eval('#batch-progress', (p) => ({ value: p.value, max: p.max, hidden: p.hidden }));
  assert.deepEqual(bar, { value: 100, max: 100, hidden: false });
  await regPage.waitForFunction(() => document.querySelectorAll('#cred-list tbody tr').length === 50);
  assert.match(await regPage.textContent('#cred-list tbody tr:first-child'), /学生101/);
  assert.equal(await regPage.$$eval('#cred-list tbody .badge.ok', (b) => b.length), 50);
  await screenshot(regPage, 'edu-batch-done');
  state.href = await regPage.getAttribute('#cred-list tbody tr:first-child a.cred-link', 'href');
  regWatch.check(assert);
});

test('the registrar prints a certificate with a QR code', { timeout: 60000 }, async () => {
  await go(regPage, state.href);
  assert.match(await regPage.textContent('#cred-name'), /学生101/);
  await Promise.all([regPage.waitForURL(/print\.html/), regPage.click('#print-link')]);
  await settle(regPage);
  assert.equal(await regPage.textContent('#cert-university'), UNI.name);
  assert.ok(await regPage.$('#certificate svg#qr path'), 'a QR code is drawn');
  assert.match(await regPage.textContent('#cert-link'), /\/edu\/verify\?share=/);
  await regPage.emulateMedia({ media: 'print' });
  assert.ok(await regPage.isHidden('.site-header'));
  assert.ok(await regPage.isHidden('#print'));
  await screenshot(regPage, 'edu-certificate-print');
  await regPage.emulateMedia({ media: 'screen' });
  // the student's file, as the download button saves it
  state.bundle = await regPage.evaluate(async (id) => (await fetch(`/api/edu/credentials/${id}/bundle`)).json(), state.href.split('id=')[1]);
  regWatch.check(assert);
});

async function dropOnVerifier(bundle) {
  const b = await openBrowser();
  const page = await b.ctx.newPage();
  const w = watch(page);
  try {
    await go(page, '/edu/verify/');
    const dt = await page.evaluateHandle((text) => {
      const d = new DataTransfer();
      d.items.add(new File([text], 'credential.json', { type: 'application/json' }));
      return d;
    }, JSON.stringify(bundle));
    await page.dispatchEvent('#drop', 'drop', { dataTransfer: dt });
    await page.waitForSelector('#verdict:not([data-state="pending"])', { timeout: 30000 });
    const out = {
      verdict: await page.getAttribute('#verdict', 'data-state'),
      text: await page.textContent('#verdict'),
      checks: await page.$$eval('#checks li', (l) => l.map((x) => [x.dataset.check, x.dataset.state])),
    };
    return { out, page, w, close: b.close };
  } catch (e) {
    await b.close();
    throw e;
  }
}

test('a visitor drops the bundle on /edu/verify: valid, every check ✓', { timeout: 60000 }, async () => {
  const { out, page, w, close } = await dropOnVerifier(state.bundle);
  try {
    assert.equal(out.verdict, 'valid');
    assert.deepEqual(out.checks, [
      ['signature', 'ok'],
      ['anchored', 'ok'],
      ['issuer', 'ok'],
      ['revocation', 'ok'],
      ['validity', 'ok'],
    ]);
    assert.match(await page.textContent('#cred-issuer'), new RegExp(UNI.name));
    assert.ok(await page.isHidden('#login-link') === false, 'no account needed');
    await screenshot(page, 'edu-verify-valid');
    w.check(assert);
  } finally {
    await close();
  }
});

test('a tampered bundle is invalid and names the failing check', { timeout: 60000 }, async () => {
  const t = structuredClone(state.bundle);
  t.credential.credentialSubject.name = t.credential.credentialSubject.name.replace('学生', '学士');
  const { out, page, w, close } = await dropOnVerifier(t);
  try {
    assert.equal(out.verdict, 'invalid');
    assert.deepEqual(out.checks[0], ['signature', 'bad']);
    assert.match(out.text, /证书签名/);
    await screenshot(page, 'edu-verify-tampered');
    w.check(assert);
  } finally {
    await close();
  }
});
