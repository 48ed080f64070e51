// /evidence/print.html?id=<uuid>: the preservation certificate (存证证明) on an A4 page for the
// browser's print: its number, the file's name, size and SHA-256, the institution, the ledger
// time and block, the custody events, and a QR code that opens the public verification of the
// hash. The QR code is drawn with the vendored qrcode-generator (web/vendor/), as an SVG.
import { h, fill } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, errorText } from '../api.js';
import { timeEl } from '../chain.js';
import { kindEl, eventEl, sizeText } from '../evidence.js';
import { qrSvg } from '../qr.js';

boot({ page: 'evidence', title: 'title.evidence_print', needsLogin: true }, async (main) => {
  const id = (new URLSearchParams(location.search).get('id') || '').toLowerCase();
  const crumbs = [{ href: '/evidence/', key: 'nav.evidence' }];
  let cert;
  try {
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error('id');
    cert = await get(`/api/evidence/items/${id}/certificate`);
  } catch (e) {
    fill(main, pageHead('evidence.item.not_found', { crumbs }), h('div', { class: 'card' }, h('p', { class: 'action-error', role: 'alert' }, errorText(e))));
    return;
  }
  const rec = cert.record;
  const link = `${location.origin}/evidence/verify/?sha256=${cert.sha256}`;
  const qr = await qrSvg(link);
  fill(
    main,
    h('p', { class: 'no-print' }, h('button', { type: 'button', id: 'print', i18n: 'evidence.print.print', on: { click: () => window.print() } })),
    h(
      'article',
      { class: 'ev-certificate', id: 'certificate' },
      h('h1', { i18n: 'evidence.print.heading' }),
      h('p', { class: 'cert-number' }, h('span', { i18n: 'evidence.field.certificate' }), ' ', h('strong', { id: 'print-number', text: cert.number })),
      h('p', { i18n: 'evidence.print.statement', args: { institution: cert.institution.name || cert.institution.id } }),
      h(
        'dl',
        {},
        h('dt', { i18n: 'evidence.field.title' }),
        h('dd', { text: rec.title }),
        h('dt', { i18n: 'evidence.field.kind' }),
        h('dd', {}, kindEl(rec.kind)),
        h('dt', { i18n: 'evidence.field.original_name' }),
        h('dd', { text: `${rec.original_name || '—'} · ${sizeText(rec.size)}` }),
        h('dt', { i18n: 'evidence.field.sha256' }),
        h('dd', { class: 'hash', id: 'print-sha256', text: cert.sha256 }),
        h('dt', { i18n: 'evidence.field.institution' }),
        h('dd', { text: cert.institution.name || cert.institution.id }),
        h('dt', { i18n: 'evidence.field.ledger_time' }),
        h('dd', {}, timeEl(cert.anchored_ms)),
        h('dt', { i18n: 'evidence.field.block_label' }),
        h('dd', { id: 'print-block', text: String(cert.height) }),
        h('dt', { i18n: 'evidence.field.tx' }),
        h('dd', { class: 'hash', text: cert.tx_id }),
        h('dt', { i18n: 'evidence.timeline.title' }),
        h('dd', {}, h('ol', { id: 'print-custody' }, cert.custody.map((e) => h('li', {}, eventEl(e.event), ' · ', timeEl(e.at_ms), e.from ? ` · ${e.from} → ${e.to}` : '')))),
      ),
      h('div', { class: 'cert-verify' }, qr || h('p', { class: 'muted', i18n: 'evidence.print.no_qr' }), h('p', { class: 'small' }, h('span', { i18n: 'evidence.print.verify_at' }), ' ', h('span', { class: 'hash', text: link }))),
    ),
  );
});
