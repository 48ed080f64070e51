// The browser UI in real Chromium against a real lianxind on the test database (issue 5):
// languages, signing in, administration, the explorer and its in-browser verification, phone
// widths. Every page visited must log no console error and make no failed request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, ADMIN_PASSWORD } from './lib/server.mjs';
import { openBrowser, watch, settle, screenshot, noHorizontalScroll } from './lib/browser.mjs';

const CJK = /[\u3400-\u9fff]/;
const ORG = { id: 'e2e-univ', name: '链信测试大学', type: 'university' };
const USER = { username: 'e2e.registrar', display: '王老师' };

let srv;
let admin; // a signed-in administrator's browser
let adminPage;
let adminWatch;
const state = {}; // what one test leaves for the next

before(async () => {
  srv = await startServer();
  admin = await openBrowser();
  adminPage = admin.ctx.pages()[0] || (await admin.ctx.newPage());
  adminWatch = watch(adminPage);
});

after(async () => {
  if (admin) await admin.close();
  if (srv) await srv.stop();
});

async function go(page, path) {
  await page.goto(srv.url + path);
  await settle(page);
}

async function login(page, w, username, password) {
  await go(page, '/login/');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('#login-submit')]);
  await settle(page);
  await page.waitForSelector('#logout');
  w.check(assert);
}

// Visible text of the page without the language switch (which names the other language).
const visibleText = (page) =>
  page.evaluate(() => {
    const b = document.body.cloneNode(true);
    b.querySelector('#lang-switch')?.remove();
    for (const el of b.querySelectorAll('.visually-hidden')) el.remove();
    return b.innerText;
  });

test('Chinese by default; the switch changes the whole page to English, remembered, and back', { timeout: 60000 }, async () => {
  const b = await openBrowser({ locale: 'en-GB' });
  try {
    const page = await b.ctx.newPage();
    const w = watch(page);
    await go(page, '/');
    assert.equal(await page.textContent('h1'), '链信：人人都能核验的机构记录');
    assert.equal(await page.textContent('.site-nav li:first-child a'), '教育');
    assert.equal(await page.textContent('#lang-switch'), 'English');
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    await page.waitForSelector('#stat-height span[data-num]');
    await screenshot(page, 'home-zh');

    await page.click('#lang-switch');
    assert.equal(await page.textContent('h1'), 'Lianxin: institutional records anyone can verify');
    assert.equal(await page.textContent('.site-nav li:first-child a'), 'Education');
    assert.equal(await page.textContent('#module-evidence h2'), 'Evidence');
    assert.equal(await page.textContent('#lang-switch'), '中文');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.match(await page.title(), /Lianxin/);
    const text = await visibleText(page);
    assert.doesNotMatch(text, CJK, `Chinese text left on the English page: ${text.match(/.{0,20}[\u3400-\u9fff].{0,20}/)?.[0]}`);
    await screenshot(page, 'home-en');

    await go(page, '/explorer/'); // remembered on the next page
    assert.equal(await page.textContent('h1'), 'Explorer');
    assert.doesNotMatch(await visibleText(page), CJK);
    await page.click('#lang-switch');
    assert.equal(await page.textContent('h1'), '区块浏览器');
    assert.equal(await page.textContent('#blocks-title'), '区块');
    await go(page, '/');
    assert.equal(await page.textContent('#lang-switch'), 'English');
    w.check(assert);
  } finally {
    await b.close();
  }
});

test('signed out: no administration link, and administration pages refuse', { timeout: 60000 }, async () => {
  const b = await openBrowser();
  try {
    const page = await b.ctx.newPage();
    const w = watch(page);
    await go(page, '/');
    assert.equal(await page.locator('.site-nav a[href="/admin/"]').count(), 0);
    for (const p of ['/admin/', '/admin/orgs.html', '/admin/audit.html', '/account/']) {
      await go(page, p);
      assert.equal(await page.textContent('#refused h1'), '请先登录', p);
    }
    // a wrong password: the error shows next to the form, in the chosen language
    await go(page, '/login/');
    w.allow(401, '/api/auth/login');
    await page.fill('#username', 'admin');
    await page.fill('#password', 'not-the-password');
    await page.click('#login-submit');
    await page.waitForSelector('#login-error span');
    assert.equal(await page.textContent('#login-error'), '用户名或密码错误。');
    await page.click('#lang-switch');
    assert.equal(await page.textContent('#login-error'), 'Wrong username or password.');
    await page.click('#lang-switch');
    w.check(assert);
  } finally {
    await b.close();
  }
});

test('the administrator signs in, admits an organisation and invites a user, who signs in', { timeout: 120000 }, async () => {
  const page = adminPage;
  await login(page, adminWatch, 'admin', ADMIN_PASSWORD);
  assert.match(await page.textContent('#who'), /admin/);
  assert.equal(await page.locator('.site-nav a[href="/admin/"]').count(), 1);

  await go(page, '/admin/');
  for (const s of ['orgs', 'users', 'tokens', 'audit', 'oversight']) assert.equal(await page.locator(`#section-${s}`).count(), 1, s);
  await screenshot(page, 'admin');

  // a malformed id: the server's complaint lands next to that field
  await go(page, '/admin/orgs.html');
  adminWatch.allow(422, '/api/orgs');
  await page.fill('#org-id', 'Not Valid!');
  await page.fill('#org-name', ORG.name);
  await page.click('#admit-submit');
  await page.waitForSelector('#org-id-error span');
  assert.equal(await page.getAttribute('#org-id', 'aria-invalid'), 'true');
  adminWatch.disallowAll();

  await page.fill('#org-id', ORG.id);
  await page.fill('#org-name', ORG.name);
  await page.selectOption('#org-type', ORG.type);
  await page.click('#admit-submit');
  await page.waitForSelector('#admitted', { timeout: 30000 });
  assert.match(await page.textContent('#admitted'), new RegExp(ORG.name));
  await page.waitForSelector(`#org-list code:text-is("${ORG.id}")`);
  state.orgTx = await page.getAttribute('#admitted a[href^="/explorer/tx.html"]', 'href');
  await screenshot(page, 'admin-orgs');

  await go(page, `/admin/org.html?id=${ORG.id}`);
  assert.equal(await page.textContent('h1'), ORG.name);
  assert.equal(await page.locator('#org-keys tbody tr').count(), 1);
  await page.fill('#inv-username', USER.username);
  await page.fill('#inv-display', USER.display);
  await page.selectOption('#inv-role', 'org_admin');
  await page.click('#invite-submit');
  await page.waitForSelector('#temp-password');
  state.password = (await page.textContent('#temp-password')).trim();
  assert.ok(state.password.length >= 20, 'a temporary password is shown');
  await page.click('#temp-password-copy');
  await page.waitForSelector('#invite-done [role=status] span');
  await page.waitForSelector(`#org-users code:text-is("${USER.username}")`);
  await screenshot(page, 'admin-org');

  await go(page, '/admin/users.html');
  await page.waitForSelector(`#user-list code:text-is("${USER.username}")`);
  await screenshot(page, 'admin-users');
  adminWatch.check(assert);

  // the new user, in a browser of their own
  const b = await openBrowser();
  try {
    const up = await b.ctx.newPage();
    const w = watch(up);
    await login(up, w, USER.username, state.password);
    assert.match(await up.textContent('#who'), new RegExp(`${USER.username}.*${ORG.name}`));
    await go(up, '/admin/');
    assert.match(await up.textContent('main'), new RegExp(ORG.name));
    assert.equal(await up.locator('#section-users').count(), 0, 'an org admin does not see all accounts');
    assert.equal(await up.locator('#section-tokens').count(), 1);
    await go(up, '/admin/users.html');
    assert.equal(await up.textContent('#refused h1'), '无权访问');

    // an API token: shown once, with a copy button, then listed without its secret
    await go(up, '/admin/tokens.html');
    await up.fill('#token-name', '教务系统对接');
    await up.selectOption('#token-role', 'registrar');
    await up.click('#token-submit');
    await up.waitForSelector('#new-token');
    const token = (await up.textContent('#new-token')).trim();
    assert.match(token, /^lxt_/);
    await up.waitForSelector('#token-list tbody tr');
    assert.doesNotMatch(await up.textContent('#token-list'), new RegExp(token));
    await screenshot(up, 'admin-tokens');
    const revoke = up.locator('#token-list button[id^="revoke-token-"]').first();
    await revoke.click();
    await up.click('#token-list button[id$="-confirm"]');
    await up.waitForSelector('#token-list .badge.bad');

    // change the temporary password, then sign out
    await go(up, '/account/');
    await up.fill('#pw-old', state.password);
    await up.fill('#pw-new', 'a-new-password-for-e2e');
    await up.fill('#pw-again', 'a-new-password-for-e2e');
    await up.click('#password-submit');
    await up.waitForSelector('#password-result .notice');
    await up.click('#logout');
    await up.waitForURL(srv.url + '/');
    await settle(up);
    assert.equal(await up.locator('#login-link').count(), 1);
    w.check(assert);
  } finally {
    await b.close();
  }
});

test('explorer → block → tx: the in-browser verification passes every step', { timeout: 60000 }, async () => {
  const page = adminPage;
  assert.ok(state.orgTx, 'the admission test left its tx');
  const txId = new URL(state.orgTx, srv.url).searchParams.get('id');
  const tx = await (await fetch(`${srv.url}/api/chain/tx/${txId}`)).json();
  state.txId = txId;

  await go(page, '/explorer/');
  await page.waitForSelector('#blocks tbody tr');
  assert.ok((await page.textContent('#validator-keys')).includes('+'), 'validator keys are listed');
  await screenshot(page, 'explorer');
  await page.click(`#blocks a[data-height="${tx.height}"]`);
  await page.waitForURL(/block\.html/);
  await settle(page);
  await page.waitForSelector(`#block-txs a[href*="${txId}"]`);
  assert.equal(await page.textContent('h1'), `区块 ${tx.height}`);
  await screenshot(page, 'block');
  await page.click(`#block-txs a[href*="${txId}"]`);
  await page.waitForURL(/tx\.html/);
  await page.waitForSelector('#verdict[data-state="ok"], #verdict[data-state="bad"], #verdict[data-state="error"]', { timeout: 20000 });
  await settle(page);
  for (const step of ['leaf', 'sig', 'checkpoint', 'inclusion', 'auth']) {
    assert.equal(await page.getAttribute(`#check-${step}`, 'data-state'), 'ok', `${step}: ${await page.textContent(`#check-${step}`)}`);
    assert.equal(await page.textContent(`#check-${step} .check-mark`), '✓');
  }
  assert.equal(await page.getAttribute('#verdict', 'data-state'), 'ok');
  assert.equal(await page.textContent('#tx-id'), txId);
  assert.match(await page.textContent('#tx-type'), /org\.register/);
  assert.equal(await page.textContent('#tx-org'), 'admin');
  assert.match(await page.textContent('#tx-body'), new RegExp(`"id": "${ORG.id}"`));
  assert.equal(await page.textContent('#tx-leaf'), String(tx.leaf_index));
  await screenshot(page, 'tx');
  adminWatch.check(assert);
});

test('a proof with one flipped byte fails at the inclusion step', { timeout: 60000 }, async () => {
  const page = adminPage;
  let flipped = 0;
  await page.route('**/api/chain/proof/**', async (route) => {
    const resp = await route.fetch();
    const proof = await resp.json();
    assert.ok(proof.path.length > 0, 'the proof has a path to flip a byte in');
    const bytes = Buffer.from(proof.path[0], 'base64');
    bytes[7] ^= 0x01;
    proof.path[0] = bytes.toString('base64');
    flipped++;
    await route.fulfill({ response: resp, json: proof });
  });
  try {
    await go(page, `/explorer/tx.html?id=${state.txId}`);
    await page.waitForSelector('#verdict[data-state="bad"]', { timeout: 20000 });
    assert.equal(flipped, 1);
    assert.equal(await page.getAttribute('#check-leaf', 'data-state'), 'ok');
    assert.equal(await page.getAttribute('#check-sig', 'data-state'), 'ok');
    assert.equal(await page.getAttribute('#check-checkpoint', 'data-state'), 'ok');
    assert.equal(await page.getAttribute('#check-inclusion', 'data-state'), 'bad');
    assert.equal(await page.textContent('#check-inclusion .check-mark'), '✗');
    assert.match(await page.textContent('#check-inclusion .check-detail'), /默克尔根不一致/);
    assert.match(await page.textContent('#verdict'), /包含证明/);
    await screenshot(page, 'tx-tampered');
  } finally {
    await page.unroute('**/api/chain/proof/**');
  }
  adminWatch.check(assert);
});

test('new blocks appear in the explorer without reloading', { timeout: 60000 }, async () => {
  const page = adminPage;
  await go(page, '/explorer/');
  const top = Number(await page.getAttribute('#blocks tbody tr:first-child', 'data-height'));
  const marker = await page.evaluate(() => (window.__sameDocument = Math.random()));
  // a new block: rotate the organisation's key through the API, with this session
  const r = await page.evaluate(async (org) => {
    const me = await (await fetch('/api/auth/me')).json();
    const resp = await fetch(`/api/orgs/${org}/keys/rotate`, { method: 'POST', headers: { 'X-CSRF-Token': me.csrf } });
    return { status: resp.status, body: await resp.json() };
  }, ORG.id);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await page.waitForSelector(`#blocks tbody tr[data-height="${r.body.height}"]`, { timeout: 10000 });
  assert.ok(r.body.height > top);
  assert.equal(await page.evaluate(() => window.__sameDocument), marker, 'the page was not reloaded');
  assert.equal(await page.textContent('#stat-height'), String(r.body.height));
  adminWatch.check(assert);
});

test('search finds a tx id and a block height, and says so when nothing matches', { timeout: 60000 }, async () => {
  const page = adminPage;
  await go(page, '/explorer/');
  await page.fill('#q', state.txId.toUpperCase());
  await Promise.all([page.waitForURL(/tx\.html/), page.press('#q', 'Enter')]);
  await settle(page);
  assert.equal(await page.textContent('#tx-id'), state.txId);
  await go(page, '/explorer/');
  await page.fill('#q', '1');
  await Promise.all([page.waitForURL(/block\.html\?h=1$/), page.click('#search-form button[type=submit]')]);
  await settle(page);
  await go(page, '/explorer/');
  await page.fill('#q', 'no such thing');
  await page.click('#search-form button[type=submit]');
  await page.waitForSelector('#search-error span');
  assert.match(await page.textContent('#search-error'), /无法识别/);
  await page.fill('#q', '999999');
  await page.click('#search-form button[type=submit]');
  await page.waitForFunction(() => /没有找到/.test(document.querySelector('#search-error').textContent));
  adminWatch.check(assert);
});

test('the audit log filters and exports, the regulator page freezes and unfreezes', { timeout: 60000 }, async () => {
  const page = adminPage;
  await go(page, '/admin/audit.html');
  await page.waitForSelector('#audit-list tbody tr');
  await page.fill('#f-user', USER.username);
  await Promise.all([page.waitForURL(/user=e2e\.registrar/), page.click('#audit-apply')]);
  await settle(page);
  const users = await page.locator('#audit-list tbody tr td:nth-child(2)').allTextContents();
  assert.ok(users.length > 0 && users.every((u) => u === USER.username), `rows of ${USER.username} only: ${users}`);
  const csv = await page.getAttribute('#audit-csv', 'href');
  assert.match(csv, /^\/api\/audit\.csv\?user=e2e\.registrar/);
  const resp = await page.request.get(srv.url + csv);
  assert.equal(resp.status(), 200);
  assert.match(await resp.text(), /e2e\.registrar/);
  await screenshot(page, 'admin-audit');

  await go(page, '/admin/oversight.html');
  await page.selectOption('#fz-kind', 'org');
  await page.fill('#fz-target', ORG.id);
  await page.fill('#fz-reason', '端到端测试：临时冻结');
  await page.click('#freeze-submit');
  await page.waitForSelector(`#freeze-list a:text-is("${ORG.id}")`, { timeout: 20000 });
  await screenshot(page, 'admin-oversight');
  await page.click('#freeze-list button');
  await page.fill('#fz-reason', '端到端测试：解除冻结');
  await page.click('#unfreeze-submit');
  await page.waitForSelector('#freeze-list .empty', { timeout: 20000 });
  adminWatch.check(assert);
});

const PAGES = [
  ['home', '/'],
  ['login', '/login/'],
  ['explorer', '/explorer/'],
  ['block', '/explorer/block.html?h=1'],
  ['tx', null],
  ['edu', '/edu/'],
  ['evidence', '/evidence/'],
  ['copyright', '/copyright/'],
  ['charity', '/charity/'],
  ['energy', '/energy/'],
  ['admin', '/admin/'],
  ['admin-orgs', '/admin/orgs.html'],
  ['admin-org', `/admin/org.html?id=${ORG.id}`],
  ['admin-users', '/admin/users.html'],
  ['admin-tokens', '/admin/tokens.html'],
  ['admin-audit', '/admin/audit.html'],
  ['admin-oversight', '/admin/oversight.html'],
  ['account', '/account/'],
];

test('every page fits a 375 px phone without horizontal scrolling, in both languages', { timeout: 180000 }, async () => {
  const page = adminPage;
  await page.setViewportSize({ width: 375, height: 740 });
  try {
    for (const lang of ['zh', 'en']) {
      await page.evaluate((l) => localStorage.setItem('lx.lang', l), lang);
      for (const [name, path] of PAGES) {
        await go(page, path || `/explorer/tx.html?id=${state.txId}`);
        await page.waitForSelector('footer .footer-inner');
        const { scroll, inner } = await noHorizontalScroll(page);
        assert.ok(scroll <= inner, `${name} (${lang}) scrolls sideways at 375 px: ${scroll} > ${inner}`);
        if (lang === 'zh') await screenshot(page, `phone-${name}`);
      }
    }
  } finally {
    await page.evaluate(() => localStorage.setItem('lx.lang', 'zh'));
    await page.setViewportSize({ width: 1280, height: 900 });
  }
  adminWatch.check(assert);
});

test('keyboard: the skip link and the navigation are reachable with Tab and show focus', { timeout: 30000 }, async () => {
  const page = adminPage;
  await go(page, '/explorer/');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  await go(page, '/');
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement.getAttribute('href') === '/explorer/')) break;
  }
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('href')), '/explorer/');
  assert.notEqual(outline, 'none', 'focus is visible');
  adminWatch.check(assert);
});
