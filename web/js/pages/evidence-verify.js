// /evidence/verify/: anyone checks whether a file was preserved. The file is hashed here, in
// the browser, and never sent; only its SHA-256 goes to POST /api/evidence/verify, which says
// when (ledger time), by which institution and under which certificate number — nothing of the
// case. A hash can be pasted instead (?sha256= fills it, as the certificate's QR code does). A
// certificate file (JSON) is verified here in full, with the node's validator keys: the whole
// custody timeline with ✓ or ✗ for each step; a file dropped afterwards is compared with it.
import { h, fill } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, post, errorText } from '../api.js';
import { timeEl } from '../chain.js';
import { hashFile, verifyCertificate, eventEl } from '../evidence.js';

function verdict(r) {
  if (!r.found) return h('div', { class: 'card', id: 'verdict' }, h('h2', { class: 'verdict not-found', id: 'verdict-title', 'data-found': 'false', i18n: 'evidence.verify.not_found' }), h('p', { class: 'hash', text: r.sha256 }));
  return h(
    'div',
    { class: 'card', id: 'verdict' },
    h('h2', { class: 'verdict found', id: 'verdict-title', 'data-found': 'true', i18n: 'evidence.verify.found' }),
    h('p', { class: 'hash', text: r.sha256 }),
    h(
      'ul',
      { id: 'records' },
      r.records.map((x) =>
        h('li', {}, h('span', { i18n: 'evidence.verify.record', args: { institution: x.institution.name || x.institution.id, number: x.certificate_number, height: x.height } }), ' · ', timeEl(x.preserved_ms)),
      ),
    ),
  );
}

boot({ page: 'evidence', title: 'title.evidence_verify' }, async (main) => {
  const out = h('div', { id: 'verify-out', 'aria-live': 'polite' });
  const bar = h('progress', { id: 'verify-progress', max: '1', value: '0', hidden: true, i18nAttrs: { 'aria-label': 'evidence.preserve.hashing' } });
  async function check(sha256) {
    try {
      fill(out, verdict(await post('/api/evidence/verify', { sha256 })));
    } catch (e) {
      fill(out, h('p', { class: 'action-error', role: 'alert' }, errorText(e)));
    }
  }
  async function onFile(file) {
    bar.hidden = false;
    bar.value = 0;
    fill(out);
    const hex = await hashFile(file, (f) => (bar.value = f));
    if (certHash) fill(certOut.querySelector('#cert-file') || certOut.appendChild(h('p', { id: 'cert-file' })), h('strong', { i18n: hex === certHash ? 'evidence.cert.file_ok' : 'evidence.cert.file_bad' }));
    await check(hex);
  }
  const input = h('input', { type: 'file', id: 'verify-file', class: 'visually-hidden', on: { change: (e) => e.target.files[0] && onFile(e.target.files[0]) } });
  const zone = h('div', { class: 'drop-zone', id: 'drop-zone' }, h('p', { i18n: 'evidence.verify.drop' }), h('label', { for: 'verify-file', class: 'button secondary', i18n: 'evidence.verify.choose' }), input, bar, h('p', { class: 'muted small', i18n: 'evidence.verify.local' }));
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer.files[0]) onFile(e.dataTransfer.files[0]);
  });
  const hashInput = h('input', { type: 'text', id: 'verify-hash', name: 'sha256', pattern: '[0-9a-fA-F]{64}', i18nAttrs: { 'aria-label': 'evidence.field.sha256', placeholder: 'evidence.verify.hash_hint' } });
  const form = h('form', { class: 'inline-form', id: 'verify-form' }, hashInput, h('button', { type: 'submit', class: 'secondary', id: 'verify-submit', i18n: 'evidence.verify.check' }));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    check(hashInput.value.trim().toLowerCase());
  });
  const certOut = h('div', { id: 'cert-out', 'aria-live': 'polite' });
  let certHash = null;
  async function onCert(file) {
    try {
      const cert = JSON.parse(await file.text());
      const keysText = await get('/api/chain/keys');
      const v = await verifyCertificate(cert, keysText);
      certHash = v.ok ? v.sha256 : null;
      fill(
        certOut,
        h(
          'div',
          { class: 'card', id: 'cert-verdict', 'data-ok': String(v.ok) },
          h('h2', { class: v.ok ? 'verdict found' : 'verdict not-found', i18n: v.ok ? 'evidence.cert.valid' : 'evidence.cert.invalid', args: { number: cert.number || '?' } }),
          h('ol', { class: 'timeline', id: 'cert-timeline' }, v.entries.map((e) => h('li', { 'data-event': e.event, 'data-ok': String(e.ok) }, h('span', { class: 'event-name' }, e.ok ? '✓ ' : '✗ ', e.event === 'preserved' ? h('span', { i18n: 'evidence.state.preserved' }) : eventEl(e.event)), ' · ', timeEl(e.ms), h('div', { class: 'small' }, h('span', { i18n: e.key, args: e.args || {} }))))),
          h('p', { class: 'muted small', i18n: 'evidence.cert.drop_file' }),
        ),
      );
    } catch (e) {
      certHash = null;
      fill(certOut, h('p', { class: 'action-error', role: 'alert' }, e instanceof SyntaxError ? h('span', { i18n: 'evidence.cert.malformed' }) : errorText(e)));
    }
  }
  const certInput = h('input', { type: 'file', id: 'verify-cert', accept: 'application/json,.json', on: { change: (e) => e.target.files[0] && onCert(e.target.files[0]) } });
  const certField = h('div', { class: 'field' }, h('label', { for: 'verify-cert', i18n: 'evidence.cert.choose' }), certInput);
  fill(main, pageHead('evidence.verify.title', { lead: 'evidence.verify.lead', crumbs: [{ href: '/evidence/', key: 'nav.evidence' }] }), h('section', { class: 'card' }, zone, form, certField), certOut, out);
  const given = new URLSearchParams(location.search).get('sha256');
  if (given && /^[0-9a-fA-F]{64}$/.test(given)) {
    hashInput.value = given.toLowerCase();
    await check(given.toLowerCase());
  }
});
