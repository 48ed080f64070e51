// Debian's Chromium driven by playwright-core (never a downloaded browser), each browser with
// a fresh profile folder. watch(page) records what a careful user would call broken: console
// errors, uncaught exceptions, failed requests and HTTP errors — unless a test says it expects
// that very answer (allow).
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ROOT } from './server.mjs';

export const CHROMIUM = process.env.LIANXIN_CHROMIUM || '/usr/bin/chromium';
export const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SHOTS = join(ROOT, 'build', 'screenshots');

// A browser with its own new profile; close() also removes the profile.
export async function openBrowser({ width = 1280, height = 900, locale = 'zh-CN' } = {}) {
  const profile = mkdtempSync(join(process.env.LIANXIN_TEST_TMP || tmpdir(), 'chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width, height },
    locale,
    timezoneId: 'Asia/Shanghai',
  });
  ctx.setDefaultTimeout(15000);
  const close = async () => {
    await ctx.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { ctx, close };
}

// Starts recording problems on page. Returns {problems, allow(status, urlPart), check()}.
export function watch(page) {
  const problems = [];
  const allowed = []; // [{status, part}]
  const isAllowed = (status, url) => allowed.some((a) => a.status === status && url.includes(a.part));
  const recentAllowed = []; // statuses of allowed responses, to excuse their console line
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    const st = /status of (\d{3})/.exec(text);
    if (st && recentAllowed.includes(Number(st[1]))) {
      recentAllowed.splice(recentAllowed.indexOf(Number(st[1])), 1);
      return;
    }
    problems.push(`console error on ${page.url()}: ${text}`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught exception on ${page.url()}: ${e.message}`));
  page.on('requestfailed', (r) => {
    const f = r.failure();
    // a request cut short because the page navigated away is not a failure of the page
    if (f && f.errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${r.method()} ${r.url()}: ${f ? f.errorText : '?'}`);
  });
  page.on('response', (r) => {
    if (r.status() < 400) return;
    if (isAllowed(r.status(), r.url())) {
      recentAllowed.push(r.status());
      return;
    }
    problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
  });
  return {
    problems,
    allow(status, part) {
      allowed.push({ status, part });
    },
    disallowAll() {
      allowed.length = 0;
    },
    check(assert) {
      assert.deepEqual(problems.splice(0), [], 'the page logged errors or had failed requests');
    },
  };
}

// Waits until the page has rendered with its data (shell.js marks <body data-ready>).
export async function settle(page) {
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 20000 });
}

export async function screenshot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

// The page's widest content fits the window (no horizontal scrolling).
export async function noHorizontalScroll(page) {
  return page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
}
