// /edu/print.html?id=<uuid>: the certificate on an A4 page for the browser's print: the
// university's name, the kind, the content, the ledger time and block, and a QR code that opens
// the verification (a share link valid for a year, made here). The QR code is drawn with the
// vendored npm package qrcode-generator (web/vendor/, copied by make), as an SVG.
import { h, fill, $ } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, post, errorText } from '../api.js';
import { credentialView } from '../edu.js';
import { qrSvg } from '../qr.js';

boot({ page: 'edu', title: 'title.edu_print', needsLogin: true }, async (main) => {
  const id = (new URLSearchParams(location.search).get('id') || '').toLowerCase();
  const crumbs = [{ href: '/edu/', key: 'nav.edu' }];
  let c, bundle;
  try {
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error('id');
    c = await get(`/api/edu/credentials/${id}`);
    bundle = await get(`/api/edu/credentials/${id}/bundle`);
  } catch (e) {
    fill(main, pageHead('edu.credential.not_found', { crumbs }), h('div', { class: 'card' }, h('p', { class: 'action-error', role: 'alert' }, errorText(e))));
    return;
  }
  let link = `${location.origin}/edu/verify/`;
  let expires = null;
  try {
    const s = await post(`/api/edu/credentials/${id}/shares`, { expires_in_days: 365 });
    link = `${location.origin}${s.url}`;
    expires = s.expires_at_ms;
  } catch {
    // no right to share (a regulator): the code opens the verifier, without the file
  }
  const vc = bundle.credential;
  const tx = bundle.ledger.tx;
  const qr = await qrSvg(link);
  const cert = h(
    'article',
    { class: 'certificate', id: 'certificate' },
    h('p', { class: 'cert-university', id: 'cert-university', text: (vc.issuer && vc.issuer.name) || c.org }),
    h('p', { class: 'cert-kind', i18n: `edu.kind.${c.kind}` }),
    h(
      'div',
      { class: 'cert-body' },
      credentialView(vc, bundle.ledger),
      h('div', { class: 'cert-qr' }, qr || h('p', { class: 'small', id: 'qr-missing', i18n: 'edu.print.no_qr' }), h('span', { i18n: 'edu.print.scan' })),
    ),
    h(
      'div',
      { class: 'cert-ledger', id: 'cert-ledger' },
      h('p', {}, h('span', { i18n: 'edu.print.ledger', args: { height: bundle.ledger.height, index: bundle.ledger.leaf_index } }), ' ', h('span', { 'data-ms': tx.time })),
      h('p', {}, h('span', { i18n: 'edu.print.tx' }), ' ', h('code', { text: bundle.ledger.tx_id })),
      h('p', { class: 'share-url' }, h('span', { i18n: 'edu.print.link' }), ' ', h('span', { id: 'cert-link', text: link })),
    ),
  );
  const printBtn = h('button', { type: 'button', id: 'print', i18n: 'edu.print.print' });
  printBtn.addEventListener('click', () => window.print());
  fill(
    main,
    pageHead('edu.print.title', { crumbs }),
    h(
      'div',
      { class: 'no-print card' },
      h('p', { class: 'small muted' }, h('span', { i18n: expires ? 'edu.print.help_share' : 'edu.print.help' }), expires ? [' ', h('span', { 'data-ms': expires })] : null),
      h('div', { class: 'form-actions' }, printBtn, h('a', { class: 'button secondary', href: `/edu/credential.html?id=${id}`, i18n: 'edu.print.back' })),
    ),
    cert,
  );
  $('#print')?.focus();
});
