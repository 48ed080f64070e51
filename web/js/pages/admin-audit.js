// 审计日志 (administrator, regulator): every state-changing request, newest first, filtered by
// user, organisation, module and time; the same selection as CSV. The filters live in the
// URL, so a filtered view can be bookmarked or sent to a colleague.
import { h, fill, table } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, errorText } from '../api.js';
import { field, onSubmit } from '../forms.js';
import { access, adminCrumbs, txLink } from '../admin.js';
import { timeEl } from '../chain.js';

const PAGE = 50;
const FILTERS = ['user', 'org', 'module', 'from', 'to'];
const COLS = [{ key: 'audit.time' }, { key: 'audit.user' }, { key: 'audit.org_role' }, { key: 'audit.request' }, { key: 'audit.status' }, { key: 'audit.tx' }, { key: 'audit.client' }];

// "2026-11-24T10:30" (datetime-local, the reader's time) ↔ Unix ms
const toMs = (v) => (v ? String(new Date(v).getTime()) : '');
function toLocalInput(ms) {
  if (!ms) return '';
  const d = new Date(Number(ms));
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function statusBadge(s) {
  const cls = s >= 200 && s < 300 ? 'ok' : s >= 400 && s < 500 ? 'warn' : 'bad';
  return h('span', { class: `badge ${cls}`, text: s === 0 ? '—' : String(s) });
}

boot({ page: 'admin', title: 'title.admin_audit', allow: access.audit }, async (main) => {
  const params = new URLSearchParams(location.search);
  const query = new URLSearchParams();
  for (const k of FILTERS) if (params.get(k)) query.set(k, params.get(k));

  const form = h(
    'form',
    { class: 'inline-form', id: 'audit-filters', novalidate: true },
    field({ id: 'f-user', name: 'user', label: 'audit.user', value: params.get('user') || '' }),
    field({ id: 'f-org', name: 'org', label: 'audit.org', value: params.get('org') || '' }),
    field({ id: 'f-module', name: 'module', label: 'audit.module', value: params.get('module') || '', attrs: { i18nAttrs: { placeholder: 'audit.module_hint' } } }),
    field({ id: 'f-from', name: 'from', label: 'audit.from', type: 'datetime-local', value: toLocalInput(params.get('from')) }),
    field({ id: 'f-to', name: 'to', label: 'audit.to', type: 'datetime-local', value: toLocalInput(params.get('to')) }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', id: 'audit-apply', i18n: 'audit.apply' }), h('a', { class: 'button secondary', href: '/admin/audit.html', i18n: 'audit.clear' })),
    h('p', { class: 'action-error', role: 'alert' }),
  );
  onSubmit(form, async (f) => {
    const q = new URLSearchParams();
    for (const k of ['user', 'org', 'module']) if (f.elements[k].value.trim()) q.set(k, f.elements[k].value.trim());
    for (const k of ['from', 'to']) if (f.elements[k].value) q.set(k, toMs(f.elements[k].value));
    location.search = q.toString();
  });

  const csv = h('a', { class: 'button secondary small', id: 'audit-csv', href: `/api/audit.csv${query.toString() ? `?${query}` : ''}`, download: 'lianxin-audit.csv', i18n: 'audit.csv' });
  const list = h('div', { id: 'audit-list' }, h('p', { class: 'muted', i18n: 'common.loading' }));
  const more = h('div', { class: 'pager' });
  const rows = [];

  async function load(before) {
    const q = new URLSearchParams(query);
    q.set('limit', String(PAGE));
    if (before) q.set('before', String(before));
    try {
      const r = await get(`/api/audit?${q}`);
      for (const a of r.rows) {
        rows.push([
          timeEl(a.at_ms),
          a.username ? h('code', { text: a.username }) : h('span', { class: 'muted', i18n: 'audit.anonymous' }),
          h('span', {}, a.org ? h('code', { text: a.org }) : '', a.org && a.role ? ' · ' : '', a.role ? h('span', { i18n: `role.${a.role}`, fallback: a.role }) : ''),
          h('span', {}, h('code', { text: a.method }), ' ', h('span', { class: 'hash', text: a.target })),
          statusBadge(a.status),
          a.tx_id ? txLink(a.tx_id) : h('span', { class: 'muted', text: '—' }),
          h('span', { class: 'small', text: a.client }),
        ]);
      }
      fill(list, table(COLS, rows, { empty: 'audit.none' }));
      fill(more, r.next_before ? h('button', { type: 'button', class: 'secondary small', id: 'audit-more', i18n: 'audit.more', on: { click: () => load(r.next_before) } }) : null);
    } catch (e) {
      fill(list, h('p', { class: 'action-error', role: 'alert' }, errorText(e)));
    }
  }

  fill(
    main,
    pageHead('admin.audit.title', { lead: 'admin.audit.what', crumbs: adminCrumbs }),
    h('section', { class: 'card', 'aria-labelledby': 'filters-title' }, h('h2', { id: 'filters-title', i18n: 'audit.filters' }), form),
    h('section', { class: 'card', 'aria-labelledby': 'log-title' }, h('div', { class: 'card-head' }, h('h2', { id: 'log-title', i18n: 'audit.log' }), csv), h('p', { class: 'muted small', i18n: 'audit.help' }), list, more),
  );
  await load(null);
});
