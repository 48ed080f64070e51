// 机构: the organisations on the ledger; the administrator admits new ones (a core
// org.register tx signed with the consortium admin key, with a custodial key made for the org).
import { h, fill, table } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, post, errorText } from '../api.js';
import { field, onSubmit } from '../forms.js';
import { access, adminCrumbs, orgTypeOptions, orgTypeEl, txLink, canSeeOrg } from '../admin.js';
import { isAdmin } from '../session.js';
import { numEl } from '../chain.js';

const COLS = [{ key: 'admin.org_id' }, { key: 'admin.org_name' }, { key: 'admin.org_type' }, { key: 'admin.active_keys', class: 'num' }, { key: 'admin.admitted' }, { key: 'common.actions' }];

function admitForm(onAdmitted) {
  const result = h('div', { id: 'admit-result', role: 'status', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'stacked', id: 'admit-form', novalidate: true },
    field({ id: 'org-id', name: 'id', label: 'admin.org_id', hint: 'admin.org_id_hint', required: true, attrs: { pattern: '[a-z0-9][a-z0-9._-]{0,63}', spellcheck: 'false', autocapitalize: 'none' } }),
    field({ id: 'org-name', name: 'name', label: 'admin.org_name', required: true }),
    field({ id: 'org-type', name: 'type', label: 'admin.org_type', required: true, options: orgTypeOptions() }),
    h('p', { class: 'action-error', role: 'alert' }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', id: 'admit-submit', i18n: 'admin.admit' })),
  );
  onSubmit(
    form,
    (f) => {
      fill(result);
      return post('/api/orgs', { id: f.elements.id.value.trim(), name: f.elements.name.value.trim(), type: f.elements.type.value });
    },
    async (r) => {
      form.reset();
      fill(
        result,
        h(
          'div',
          { class: 'notice', id: 'admitted' },
          h('p', { i18n: 'admin.admitted_ok', args: { name: r.name, id: r.id } }),
          h('dl', { class: 'facts small' }, h('dt', { i18n: 'admin.public_key' }), h('dd', { class: 'hash', text: r.public_key }), h('dt', { i18n: 'admin.ledger_tx' }), h('dd', {}, txLink(r.tx_id, r.leaf_index))),
          h('a', { href: `/admin/org.html?id=${encodeURIComponent(r.id)}`, i18n: 'admin.open_org' }),
        ),
      );
      await onAdmitted();
    },
  );
  return h('section', { class: 'card', 'aria-labelledby': 'admit-title' }, h('h2', { id: 'admit-title', i18n: 'admin.admit_title' }), h('p', { class: 'muted small', i18n: 'admin.admit_help' }), form, result);
}

boot({ page: 'admin', title: 'title.admin_orgs', allow: access.orgs }, async (main, me) => {
  const list = h('div', { id: 'org-list' }, h('p', { class: 'muted', i18n: 'common.loading' }));
  async function load() {
    try {
      const r = await get('/api/orgs');
      const orgs = r.orgs.filter((o) => canSeeOrg(me, o.id));
      fill(
        list,
        table(
          COLS,
          orgs.map((o) => [
            h('code', { text: o.id }),
            h('span', { text: o.name }),
            orgTypeEl(o.type),
            { content: numEl(o.active_keys), class: 'num' },
            txLink(o.tx_id, o.leaf_index),
            h('a', { href: `/admin/org.html?id=${encodeURIComponent(o.id)}`, i18n: 'admin.details' }),
          ]),
          { empty: 'admin.no_orgs' },
        ),
      );
    } catch (e) {
      fill(list, h('p', { class: 'action-error', role: 'alert' }, errorText(e)));
    }
  }
  fill(
    main,
    pageHead('admin.orgs.title', { lead: 'admin.orgs.what', crumbs: adminCrumbs }),
    isAdmin(me) ? admitForm(load) : null,
    h('section', { class: 'card', 'aria-labelledby': 'orgs-title' }, h('h2', { id: 'orgs-title', i18n: 'admin.org_list' }), list),
  );
  await load();
});
