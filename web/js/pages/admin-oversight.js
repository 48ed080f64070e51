// 冻结与解冻 (regulator, administrator): freeze an organisation or a single record with a
// reason — a core tx on the ledger — and lift it again. Writes touching something frozen are
// refused by the server (423) with the reason.
import { h, fill, table } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, post, errorText } from '../api.js';
import { field, onSubmit } from '../forms.js';
import { access, adminCrumbs, txLink } from '../admin.js';
import { timeEl } from '../chain.js';

const COLS = [{ key: 'oversight.target' }, { key: 'oversight.reason' }, { key: 'oversight.by' }, { key: 'oversight.since' }, { key: 'oversight.tx' }, { key: 'common.actions' }];

function targetEl(target) {
  const i = target.indexOf(':');
  const kind = target.slice(0, i);
  const id = target.slice(i + 1);
  const label = h('span', { class: 'badge info', i18n: `oversight.kind_${kind}`, fallback: kind });
  if (kind === 'tx') return h('span', {}, label, ' ', txLink(id));
  if (kind === 'org') return h('span', {}, label, ' ', h('a', { href: `/admin/org.html?id=${encodeURIComponent(id)}`, text: id }));
  return h('code', { text: target });
}

boot({ page: 'admin', title: 'title.admin_oversight', allow: access.oversight }, async (main) => {
  const list = h('div', { id: 'freeze-list' }, h('p', { class: 'muted', i18n: 'common.loading' }));
  const done = h('div', { id: 'freeze-result', role: 'status', 'aria-live': 'polite' });

  const form = h(
    'form',
    { class: 'stacked', id: 'freeze-form', novalidate: true },
    field({ id: 'fz-kind', name: 'kind', label: 'oversight.kind', required: true, options: [{ value: 'org', key: 'oversight.kind_org' }, { value: 'tx', key: 'oversight.kind_tx' }] }),
    field({ id: 'fz-target', name: 'target', label: 'oversight.target_id', hint: 'oversight.target_hint', required: true, attrs: { spellcheck: 'false', autocapitalize: 'none' } }),
    field({ id: 'fz-reason', name: 'reason', label: 'oversight.reason', type: 'textarea', required: true, hint: 'oversight.reason_hint' }),
    h('p', { class: 'action-error', role: 'alert' }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'danger', name: 'action', value: 'freeze', id: 'freeze-submit', i18n: 'oversight.freeze' }), h('button', { type: 'submit', class: 'secondary', name: 'action', value: 'unfreeze', id: 'unfreeze-submit', i18n: 'oversight.unfreeze' })),
  );
  let action = 'freeze';
  for (const b of form.querySelectorAll('button[type=submit]')) b.addEventListener('click', () => (action = b.value));

  async function load() {
    try {
      const r = await get('/api/oversight/freezes');
      fill(
        list,
        table(
          COLS,
          r.freezes.map((f) => [
            targetEl(f.target),
            h('span', { text: f.reason }),
            h('code', { text: f.frozen_by }),
            timeEl(f.frozen_at_ms),
            txLink(f.tx_id, f.frozen_leaf),
            h('button', {
              type: 'button',
              class: 'secondary small',
              i18n: 'oversight.unfreeze_this',
              on: {
                click: () => {
                  const i = f.target.indexOf(':');
                  form.elements.kind.value = f.target.slice(0, i);
                  form.elements.target.value = f.target.slice(i + 1);
                  form.elements.reason.value = '';
                  form.elements.reason.focus();
                },
              },
            }),
          ]),
          { empty: 'oversight.none' },
        ),
      );
    } catch (e) {
      fill(list, h('p', { class: 'action-error', role: 'alert' }, errorText(e)));
    }
  }

  onSubmit(
    form,
    (f) => {
      fill(done);
      const target = `${f.elements.kind.value}:${f.elements.target.value.trim()}`;
      return post(`/api/oversight/${action}`, { target, reason: f.elements.reason.value.trim() });
    },
    async (r) => {
      form.reset();
      fill(done, h('div', { class: 'notice' }, h('p', { i18n: r.action === 'unfreeze' ? 'oversight.unfrozen' : 'oversight.frozen', args: { target: r.target } }), txLink(r.tx_id, r.leaf_index)));
      await load();
    },
  );

  fill(
    main,
    pageHead('admin.oversight.title', { lead: 'admin.oversight.what', crumbs: adminCrumbs }),
    h('section', { class: 'card', 'aria-labelledby': 'active-title' }, h('h2', { id: 'active-title', i18n: 'oversight.active' }), list),
    h('section', { class: 'card', 'aria-labelledby': 'fz-title' }, h('h2', { id: 'fz-title', i18n: 'oversight.form_title' }), h('p', { class: 'muted small', i18n: 'oversight.form_help' }), form, done),
  );
  await load();
});
