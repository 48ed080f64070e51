// The Evidence pages in real Chromium against a real lianxind (issue 7): a court clerk signs in,
// opens a case and preserves two files (each hashed in the browser, its progress bar shown and
// full; stored copies uploaded and one downloaded back), records a transfer and an examination (the report hashed in the browser), and prints
// the certificate with its QR code; a visitor with no account drops the same file on
// /evidence/verify → found, with the institution; a different file → not found; the
// certificate file verifies step by step there, and a forged one fails at the changed event. No page may
// log a console error or make a failed request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { startServer, ADMIN_PASSWORD } from './lib/server.mjs';
import { openBrowser, watch, settle, screenshot } from './lib/browser.mjs';

const COURT = { id: 'e2e-ev-court', name: '链信示范法院', type: 'court' };
const CLERK = { username: 'e2e.ev.clerk', password: 'clerk-password-12' };

let srv;
let clerk;
let page;
let pageWatch;
const files = {};

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

async function go(p, path) {
  await p.goto(srv.url + path);
  await settle(p);
}

function writeFile(name, bytes) {
  const path = join(srv.dir, name);
  writeFileSync(path, bytes);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex') };
}

before(async () => {
  srv = await startServer();
  const api = await adminApi();
  assert.equal((await api('POST', '/api/orgs', COURT)).status, 201);
  const u = await api('POST', `/api/orgs/${COURT.id}/users`, { username: CLERK.username, display_name: '书记员', role: 'clerk', password: CLERK.password });
  assert.equal(u.status, 201);
  // a 20 MiB recording (several slices of the incremental hash) and a chat log
  const big = Buffer.alloc(20 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
  files.video = writeFile('hearing.mp4', big);
  files.chat = writeFile('chat.txt', '张三：周五前还钱。\n李四：好的。\n');
  files.other = writeFile('forged.txt', '张三：周五前还钱。\n李四：不还。\n');
  files.report = writeFile('report.pdf', '%PDF-1.4 expert report');
  clerk = await openBrowser();
  page = clerk.ctx.pages()[0] || (await clerk.ctx.newPage());
  pageWatch = watch(page);
  await go(page, '/login/');
  await page.fill('#username', CLERK.username);
  await page.fill('#password', CLERK.password);
  await Promise.all([page.waitForURL((x) => !x.pathname.startsWith('/login')), page.click('#login-submit')]);
  await settle(page);
});

after(async () => {
  if (clerk) await clerk.close();
  if (srv) await srv.stop();
});

test('a clerk opens a case, preserves two files, records custody and prints the certificate', { timeout: 90000 }, async () => {
  await go(page, '/evidence/');
  await page.fill('#case-number', '(2026)京0491民初1号');
  await page.fill('#case-title', '张三诉李四借款合同纠纷');
  await page.fill('#case-parties', '张三\n李四');
  await Promise.all([page.waitForURL(/\/evidence\/case\.html\?id=/), page.click('#case-submit')]);
  await settle(page);
  assert.equal(await page.textContent('#case-number'), '(2026)京0491民初1号');

  await page.setInputFiles('#files', [files.video.path, files.chat.path]);
  assert.equal(await page.$$eval('#file-list li progress', (l) => l.length), 2);
  await page.waitForFunction(() => [...document.querySelectorAll('#file-list .hash')].every((x) => /^[0-9a-f]{64}$/.test(x.textContent)), null, { timeout: 60000 });
  assert.deepEqual(await page.$$eval('#file-list .hash', (l) => l.map((x) => x.textContent)), [files.video.sha256, files.chat.sha256]);
  assert.deepEqual(await page.$$eval('#file-list progress', (l) => l.map((x) => Number(x.value))), [1, 1]);
  await page.fill('#item-method', '庭审录像导出');
  await page.check('#store-copy'); // the files themselves too, encrypted at rest
  await page.click('#preserve-submit');
  await page.waitForSelector('#preserved li');
  assert.equal(await page.$$eval('#preserved li', (l) => l.length), 2);
  await page.waitForFunction(() => document.querySelectorAll('#item-list tbody tr').length === 2);
  await screenshot(page, 'evidence-case');

  // the chat log: a transfer, then an examination with the report's hash
  await Promise.all([page.waitForURL(/item\.html/), page.click('#preserved li:nth-child(2) a')]);
  await settle(page);
  assert.equal(await page.textContent('#item-sha256'), files.chat.sha256);
  assert.ok(await page.isVisible('#download-copy'));
  const copy = await page.evaluate(async (href) => new TextDecoder().decode(await (await fetch(href)).arrayBuffer()), await page.getAttribute('#download-copy', 'href'));
  assert.equal(copy, '张三：周五前还钱。\n李四：好的。\n');
  await page.selectOption('#custody-event', 'transferred');
  await page.fill('#custody-from', '法院证据室');
  await page.fill('#custody-to', '司法鉴定中心');
  await page.click('#custody-submit');
  await page.waitForSelector('#timeline li[data-event="transferred"]');
  await settle(page);
  await page.selectOption('#custody-event', 'examined');
  await page.setInputFiles('#custody-report', files.report.path);
  await page.click('#custody-submit');
  await page.waitForSelector('#timeline li[data-event="examined"]');
  assert.deepEqual(await page.$$eval('#timeline li', (l) => l.map((x) => x.dataset.event)), ['preserved', 'transferred', 'examined']);
  assert.ok((await page.textContent('#timeline li[data-event="examined"]')).includes(files.report.sha256.slice(0, 8)));
  const number = await page.textContent('#cert-number');
  const cert = await page.evaluate(async (id) => (await fetch(`/api/evidence/items/${id}/certificate`)).text(), new URL(page.url()).searchParams.get('id'));
  files.cert = writeFile('certificate.json', cert);
  const forged = JSON.parse(cert);
  forged.ledger.custody[0].tx.body.to = '别处';
  files.forgedCert = writeFile('forged-certificate.json', JSON.stringify(forged));
  assert.match(number, /^LXE(-[0-9A-F]{4}){4}$/);
  await screenshot(page, 'evidence-item');

  await Promise.all([page.waitForURL(/print\.html/), page.click('#print-cert')]);
  await settle(page);
  assert.equal(await page.textContent('#print-number'), number);
  assert.equal(await page.textContent('#print-sha256'), files.chat.sha256);
  assert.equal(await page.$$eval('#print-custody li', (l) => l.length), 2);
  assert.ok(await page.isVisible('#qr'));
  await page.emulateMedia({ media: 'print' });
  assert.ok(await page.isHidden('#print'));
  await screenshot(page, 'evidence-print');
  await page.emulateMedia({ media: 'screen' });
  pageWatch.check(assert);
});

test('a visitor drops the same file on /evidence/verify: found; another file: not found', { timeout: 60000 }, async () => {
  const b = await openBrowser();
  try {
    const v = await b.ctx.newPage();
    const w = watch(v);
    await go(v, '/evidence/verify/');
    await v.setInputFiles('#verify-file', files.chat.path);
    await v.waitForSelector('#verdict-title');
    assert.equal(await v.getAttribute('#verdict-title', 'data-found'), 'true');
    const text = await v.textContent('#verdict');
    assert.ok(text.includes(COURT.name), text);
    assert.ok(!text.includes('张三'), 'nothing of the case');
    await screenshot(v, 'evidence-verify-found');
    await v.setInputFiles('#verify-file', files.other.path);
    await v.waitForSelector('#verdict-title[data-found="false"]');
    await screenshot(v, 'evidence-verify-not-found');

    // the certificate file: its whole timeline verified here; then the file compared with it
    await v.setInputFiles('#verify-cert', files.cert.path);
    await v.waitForSelector('#cert-verdict');
    assert.equal(await v.getAttribute('#cert-verdict', 'data-ok'), 'true');
    assert.deepEqual(await v.$$eval('#cert-timeline li', (l) => l.map((x) => `${x.dataset.event}:${x.dataset.ok}`)), ['preserved:true', 'transferred:true', 'examined:true']);
    await v.setInputFiles('#verify-file', files.chat.path);
    await v.waitForSelector('#cert-file');
    assert.equal(await v.textContent('#cert-file'), '该文件与证明中的文件一致。');
    await screenshot(v, 'evidence-verify-certificate');
    await v.setInputFiles('#verify-cert', files.forgedCert.path);
    await v.waitForSelector('#cert-verdict[data-ok="false"]');
    assert.deepEqual(await v.$$eval('#cert-timeline li', (l) => l.map((x) => x.dataset.ok)), ['true', 'false', 'true']);
    w.check(assert);
  } finally {
    await b.close();
  }
});
