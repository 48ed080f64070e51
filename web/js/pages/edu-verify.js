// /edu/verify/: anyone checks a credential file in this browser (WebCrypto), with no account.
// The file comes dropped, picked, pasted, or from a share link (?share=<token>). Each check is
// shown in order with ✓, ✗ or ? (revocation not checked, offline), then the verdict and the
// credential's content in the reader's language.
import { h, fill, $ } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, errorText } from '../api.js';
import { verifyBundle, credentialView, CHECKS } from '../edu.js';

function checkRow(name) {
  return h(
    'li',
    { class: 'check pending', 'data-check': name, 'data-state': 'pending' },
    h('span', { class: 'check-mark', 'aria-hidden': 'true', text: '…' }),
    h('div', {}, h('div', { class: 'check-name', i18n: `edu.check.${name}` }), h('div', { class: 'check-detail', i18n: 'verify.running' })),
  );
}

function showCheck(row, r) {
  const state = r.ok === true ? 'ok' : r.ok === false ? 'bad' : 'unknown';
  row.className = `check ${state}`;
  row.dataset.state = state;
  row.querySelector('.check-mark').textContent = r.ok === true ? '✓' : r.ok === false ? '✗' : '?';
  fill(row.querySelector('.check-detail'), h('span', { class: 'visually-hidden', i18n: r.ok === false ? 'verify.failed' : 'verify.passed' }), h('span', { i18n: r.key, args: r.args }));
}

// Verifies bundle into the result card.
async function run(bundle, result) {
  const verdict = $('#verdict', result);
  const rows = Object.fromEntries(CHECKS.map((c) => [c, checkRow(c)]));
  fill($('#checks', result), CHECKS.map((c) => rows[c]));
  fill($('#content', result));
  fill($('#revocation-note', result));
  result.hidden = false;
  verdict.className = 'verdict pending';
  verdict.dataset.state = 'pending';
  fill(verdict, h('span', { i18n: 'verify.running' }));
  let out;
  try {
    out = await verifyBundle(bundle, (r) => showCheck(rows[r.name], r));
  } catch {
    out = { verdict: 'invalid', firstBad: { name: 'signature' }, revocationChecked: false };
  }
  verdict.dataset.state = out.verdict;
  verdict.className = `verdict ${out.verdict === 'valid' ? 'ok' : out.verdict === 'revoked' ? 'revoked' : 'bad'}`;
  if (out.verdict === 'valid') fill(verdict, h('span', { i18n: 'edu.verdict.valid' }));
  else if (out.verdict === 'revoked') fill(verdict, h('span', { i18n: 'edu.verdict.revoked', args: { date: out.revoked.date, reason: out.revoked.reason } }));
  else fill(verdict, h('span', { i18n: 'edu.verdict.invalid', args: { check: `@edu.check.${out.firstBad.name}` } }));
  if (!out.revocationChecked) fill($('#revocation-note', result), h('p', { class: 'notice warn', id: 'offline-note', i18n: 'edu.verify.offline' }));
  if (bundle && bundle.credential && typeof bundle.credential === 'object') {
    fill($('#content', result), h('h2', { i18n: 'edu.verify.content' }), credentialView(bundle.credential, bundle.ledger));
  }
  verdict.focus();
}

function parseBundle(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

boot({ page: 'edu', title: 'title.edu_verify' }, async (main) => {
  const result = h(
    'section',
    { class: 'card', id: 'result', hidden: true, 'aria-labelledby': 'result-title' },
    h('h2', { id: 'result-title', i18n: 'edu.verify.result' }),
    h('div', { class: 'verdict pending', id: 'verdict', role: 'status', 'aria-live': 'polite', tabindex: '-1' }),
    h('div', { id: 'revocation-note' }),
    h('ol', { class: 'checks', id: 'checks' }),
    h('div', { id: 'content' }),
  );
  const message = h('p', { class: 'action-error', id: 'input-error', role: 'alert' });
  const take = async (text) => {
    fill(message);
    const b = parseBundle(text);
    if (!b || typeof b !== 'object') {
      fill(message, h('span', { i18n: 'edu.verify.not_json' }));
      return;
    }
    await run(b, result);
  };
  const fileInput = h('input', { type: 'file', id: 'file', accept: '.json,application/json', class: 'visually-hidden' });
  fileInput.addEventListener('change', async () => {
    if (fileInput.files[0]) await take(await fileInput.files[0].text());
  });
  const drop = h(
    'div',
    { class: 'drop-zone', id: 'drop' },
    h('p', { i18n: 'edu.verify.drop' }),
    h('label', { class: 'button', for: 'file', i18n: 'edu.verify.pick' }),
    fileInput,
  );
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', async (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (f) await take(await f.text());
  });
  const paste = h('textarea', { id: 'paste', name: 'paste', i18nAttrs: { 'aria-label': 'edu.verify.paste_label', placeholder: 'edu.verify.paste_hint' } });
  const pasteBtn = h('button', { type: 'button', id: 'verify-paste', i18n: 'edu.verify.check' });
  pasteBtn.addEventListener('click', () => take(paste.value));

  fill(
    main,
    pageHead('edu.verify.title', { lead: 'edu.verify.lead', crumbs: [{ href: '/edu/', key: 'nav.edu' }] }),
    h(
      'div',
      { class: 'grid' },
      h(
        'section',
        { class: 'card', id: 'input' },
        h('h2', { i18n: 'edu.verify.input' }),
        drop,
        h('div', { class: 'paste-box' }, h('p', { class: 'small muted', i18n: 'edu.verify.or_paste' }), paste, h('div', { class: 'form-actions' }, pasteBtn)),
        message,
        h('p', { class: 'small muted', i18n: 'edu.verify.private' }),
      ),
      result,
    ),
  );

  const share = new URLSearchParams(location.search).get('share');
  if (share) {
    try {
      const v = await get(`/api/edu/share/${encodeURIComponent(share)}`);
      await run(v.bundle, result);
    } catch (e) {
      fill(message, h('span', { i18n: 'edu.verify.share_failed' }), ' ', errorText(e));
    }
  }
});
