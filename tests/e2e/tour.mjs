// Takes the README's tour screenshots (docs/img/*.png) from a running node with some content
// on it. Not a test; run it by hand after changing how the pages look:
//
//   LIANXIN_ADMIN_PASSWORD=… node tests/e2e/tour.mjs http://127.0.0.1:8080 [ORG_ID]
//
// ORG_ID (default: the first organisation) is the one shown on the administration shot.
import { join } from 'node:path';
import { openBrowser } from './lib/browser.mjs';
import { ROOT } from './lib/server.mjs';

const url = process.argv[2] || 'http://127.0.0.1:8080';
const password = process.env.LIANXIN_ADMIN_PASSWORD;
if (!password) throw new Error('set LIANXIN_ADMIN_PASSWORD');
const out = (name) => join(ROOT, 'docs', 'img', `${name}.png`);
const ready = (page) => page.waitForSelector('body[data-ready="true"]', { state: 'attached' });

const b = await openBrowser({ width: 1100, height: 760 });
try {
  const page = b.ctx.pages()[0] || (await b.ctx.newPage());
  await page.goto(`${url}/`);
  await ready(page);
  await page.screenshot({ path: out('home') });

  await page.goto(`${url}/login/`);
  await page.fill('#username', 'admin');
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${url}/`), page.click('#login-submit')]);
  await ready(page);

  const orgs = await page.evaluate(async () => (await (await fetch('/api/orgs')).json()).orgs);
  const org = orgs.find((o) => o.id === process.argv[3]) || orgs[0];

  await page.goto(`${url}/explorer/`);
  await ready(page);
  await page.screenshot({ path: out('explorer') });

  await page.setViewportSize({ width: 1100, height: 960 });
  await page.goto(`${url}/explorer/tx.html?id=${org.tx_id}`);
  await ready(page);
  await page.screenshot({ path: out('tx-verify') });
  await page.setViewportSize({ width: 1100, height: 760 });

  await page.goto(`${url}/admin/org.html?id=${org.id}`);
  await ready(page);
  await page.screenshot({ path: out('admin-org') });

  await page.evaluate(() => localStorage.setItem('lx.lang', 'en'));
  await page.setViewportSize({ width: 375, height: 760 });
  await page.goto(`${url}/explorer/tx.html?id=${org.tx_id}`);
  await ready(page);
  await page.locator('#verify').screenshot({ path: out('phone-verify-en') });
  await page.evaluate(() => localStorage.setItem('lx.lang', 'zh'));
} finally {
  await b.close();
}
