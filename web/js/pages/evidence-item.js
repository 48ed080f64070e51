// /evidence/item.html?id=<uuid>: one evidence item — what was preserved, by whom and when on
// the ledger, its chain-of-custody timeline, a form to record the next custody event (an
// examination carries the SHA-256 of the expert's report, hashed here from the file), the
// certificate to print and the certificate file to download for `lianxin verify`.
import { h, fill } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, post, errorText } from '../api.js';
import { field, onSubmit } from '../forms.js';
import { timeEl, hashEl } from '../chain.js';
import { EVENTS, kindEl, eventEl, stateBadge, hashFile, sizeText } from '../evidence.js';

export function timeline(item) {
  const entries = [
    h('li', { 'data-event': 'preserved' }, h('span', { class: 'event-name', i18n: 'evidence.state.preserved' }), ' · ', timeEl(item.anchored_ms), ' · ', h('span', { text: item.org_name || item.org }), h('div', { class: 'muted small' }, h('span', { i18n: 'evidence.field.block', args: { height: item.height } }), ' · ', h('a', { href: `/explorer/tx.html?id=${item.tx_id}` }, hashEl(item.tx_id)))),
  ];
  for (const e of item.custody) {
    entries.push(
      h(
        'li',
        { 'data-event': e.event },
        h('span', { class: 'event-name' }, eventEl(e.event)),
        ' · ',
        timeEl(e.at_ms),
        ' · ',
        h('span', { text: e.org_name || e.org }),
        e.from ? h('div', {}, h('span', { i18n: 'evidence.custody.from_to', args: { from: e.from, to: e.to } })) : null,
        e.report_sha256 ? h('div', {}, h('span', { i18n: 'evidence.field.report' }), ' ', hashEl(e.report_sha256)) : null,
        h('div', { class: 'muted small' }, h('span', { i18n: 'evidence.field.block', args: { height: e.height } }), ' · ', h('a', { href: `/explorer/tx.html?id=${e.tx_id}` }, hashEl(e.tx_id))),
      ),
    );
  }
  return h('ol', { class: 'timeline', id: 'timeline' }, entries);
}

function custodyForm(item, onDone) {
  const event = field({ id: 'custody-event', name: 'event', label: 'evidence.field.event', options: EVENTS.map((e) => ({ value: e, key: `evidence.event.${e}` })) });
  const from = field({ id: 'custody-from', name: 'from', label: 'evidence.custody.from' });
  const to = field({ id: 'custody-to', name: 'to', label: 'evidence.custody.to' });
  const report = h('input', { type: 'file', id: 'custody-report', name: 'report_sha256' });
  const reportField = h('div', { class: 'field' }, h('label', { for: 'custody-report', i18n: 'evidence.custody.report' }), report, h('span', { class: 'field-error', id: 'custody-report-error' }));
  const select = event.querySelector('select');
  const sync = () => {
    from.hidden = to.hidden = select.value !== 'transferred';
    reportField.hidden = select.value !== 'examined';
  };
  select.addEventListener('change', sync);
  sync();
  const form = h('form', { id: 'custody-form', class: 'stacked' }, event, from, to, reportField, h('button', { type: 'submit', id: 'custody-submit', i18n: 'evidence.custody.submit' }));
  onSubmit(
    form,
    async (f) => {
      const body = { event: select.value };
      if (select.value === 'transferred') Object.assign(body, { from: f.from.value.trim(), to: f.to.value.trim() });
      if (select.value === 'examined') body.report_sha256 = report.files[0] ? await hashFile(report.files[0]) : '';
      return post(`/api/evidence/items/${item.id}/custody`, body);
    },
    onDone,
  );
  return h('section', { class: 'card', id: 'custody', 'aria-labelledby': 'custody-title' }, h('h2', { id: 'custody-title', i18n: 'evidence.custody.title' }), form);
}

async function download(id) {
  const cert = await get(`/api/evidence/items/${id}/certificate`);
  const url = URL.createObjectURL(new Blob([JSON.stringify(cert, null, 2)], { type: 'application/json' }));
  const a = h('a', { href: url, download: `evidence-${cert.number}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

boot({ page: 'evidence', title: 'title.evidence_item', needsLogin: true }, async (main) => {
  const id = (new URLSearchParams(location.search).get('id') || '').toLowerCase();
  async function render() {
    let item;
    const crumbs = [{ href: '/evidence/', key: 'nav.evidence' }];
    try {
      if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error('id');
      item = await get(`/api/evidence/items/${id}`);
    } catch (e) {
      fill(main, pageHead('evidence.item.not_found', { crumbs }), h('div', { class: 'card' }, h('p', { class: 'action-error', role: 'alert' }, errorText(e))));
      return;
    }
    crumbs.push({ href: `/evidence/case.html?id=${item.case}`, key: 'evidence.item.case', args: { number: item.case_number } });
    const facts = h(
      'dl',
      { class: 'facts' },
      h('dt', { i18n: 'evidence.field.certificate' }),
      h('dd', { id: 'cert-number', text: item.certificate_number }),
      h('dt', { i18n: 'evidence.field.kind' }),
      h('dd', {}, kindEl(item.kind)),
      h('dt', { i18n: 'evidence.field.original_name' }),
      h('dd', { text: `${item.original_name || '—'} · ${sizeText(item.size)} · ${item.mime || ''}` }),
      h('dt', { i18n: 'evidence.field.sha256' }),
      h('dd', { class: 'hash', id: 'item-sha256', text: item.sha256 }),
      h('dt', { i18n: 'evidence.field.state' }),
      h('dd', { id: 'item-state' }, stateBadge(item.state)),
      h('dt', { i18n: 'evidence.field.institution' }),
      h('dd', { text: item.org_name || item.org }),
      item.captured_ms ? [h('dt', { i18n: 'evidence.field.captured' }), h('dd', {}, timeEl(item.captured_ms), item.capture_method ? ` · ${item.capture_method}` : '')] : null,
      item.description ? [h('dt', { i18n: 'evidence.field.description' }), h('dd', { text: item.description })] : null,
    );
    const actions = h(
      'p',
      { class: 'actions' },
      h('a', { class: 'button', id: 'print-cert', href: `/evidence/print.html?id=${id}`, i18n: 'evidence.item.print' }),
      ' ',
      h('button', { type: 'button', class: 'secondary', id: 'download-cert', i18n: 'evidence.item.download', on: { click: () => download(id) } }),
      item.copy ? [' ', h('a', { class: 'button secondary', id: 'download-copy', href: `/api/evidence/items/${id}/copy`, i18n: 'evidence.item.download_copy' })] : null,
    );
    fill(
      main,
      pageHead('evidence.item.title', { crumbs, args: { title: item.title } }),
      h('section', { class: 'card', id: 'item-info' }, facts, actions),
      h('section', { class: 'card', id: 'item-timeline', 'aria-labelledby': 'timeline-title' }, h('h2', { id: 'timeline-title', i18n: 'evidence.timeline.title' }), timeline(item)),
      item.may_write && item.state !== 'destroyed' ? custodyForm(item, render) : null,
    );
  }
  await render();
});
