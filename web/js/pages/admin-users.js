// 用户与角色 (administrator): every account with its node role and its roles per organisation,
// and new regulator accounts. People of an organisation are invited on its page.
import { h, fill, table } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, post, errorText } from '../api.js';
import { field, onSubmit, secretBox } from '../forms.js';
import { access, adminCrumbs, roleEl } from '../admin.js';
import { timeEl } from '../chain.js';

const COLS = [{ key: 'admin.username' }, { key: 'admin.display_name' }, { key: 'admin.node_role' }, { key: 'admin.roles' }, { key: 'admin.principal' }, { key: 'admin.created' }];

function orgRoles(roles) {
  if (!roles || roles.length === 0) return h('span', { class: 'muted', text: '—' });
  return h(
    'span',
    { class: 'form-actions' },
    roles.map((r) => h('span', {}, h('a', { href: `/admin/org.html?id=${encodeURIComponent(r.org)}`, text: r.org }), ' ', roleEl(r.role))),
  );
}

boot({ page: 'admin', title: 'title.admin_users', allow: access.users }, async (main) => {
  const list = h('div', { id: 'user-list' }, h('p', { class: 'muted', i18n: 'common.loading' }));
  async function load() {
    try {
      const r = await get('/api/users');
      fill(
        list,
        table(
          COLS,
          r.users.map((u) => [
            h('code', { text: u.username }),
            h('span', { text: u.display_name || '—' }),
            u.node_role ? h('span', { class: 'badge warn', i18n: `noderole.${u.node_role}`, fallback: u.node_role }) : h('span', { class: 'muted', text: '—' }),
            orgRoles(u.roles),
            u.principal ? h('code', { text: u.principal }) : u.pending_principal ? h('span', { class: 'muted', i18n: 'admin.pending', args: { id: u.pending_principal } }) : h('span', { class: 'muted', text: '—' }),
            timeEl(u.created),
          ]),
          { empty: 'admin.no_users' },
        ),
      );
    } catch (e) {
      fill(list, h('p', { class: 'action-error', role: 'alert' }, errorText(e)));
    }
  }

  const result = h('div', { id: 'regulator-result', role: 'status', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'stacked', id: 'regulator-form', novalidate: true },
    field({ id: 'reg-username', name: 'username', label: 'admin.username', hint: 'admin.username_hint', required: true, attrs: { spellcheck: 'false', autocapitalize: 'none' } }),
    field({ id: 'reg-display', name: 'display_name', label: 'admin.display_name', optional: true }),
    field({ id: 'reg-password', name: 'password', label: 'admin.password', type: 'password', hint: 'admin.password_hint', autocomplete: 'new-password', optional: true }),
    h('p', { class: 'action-error', role: 'alert' }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', id: 'regulator-submit', i18n: 'admin.create_regulator' })),
  );
  onSubmit(
    form,
    (f) => {
      fill(result);
      const body = { username: f.elements.username.value.trim(), display_name: f.elements.display_name.value.trim(), node_role: 'regulator' };
      if (f.elements.password.value) body.password = f.elements.password.value;
      return post('/api/users', body);
    },
    async (r) => {
      form.reset();
      const parts = [h('p', { i18n: 'admin.user_created', args: { user: r.username } })];
      if (r.temporary_password) parts.push(h('p', { i18n: 'admin.temp_password' }), secretBox(r.temporary_password, { id: 'temp-password', warning: 'admin.temp_password_warning' }));
      fill(result, h('div', { class: 'notice' }, parts));
      await load();
    },
  );

  fill(
    main,
    pageHead('admin.users.title', { lead: 'admin.users.what', crumbs: adminCrumbs }),
    h('section', { class: 'card', 'aria-labelledby': 'users-title' }, h('h2', { id: 'users-title', i18n: 'admin.user_list' }), h('p', { class: 'muted small', i18n: 'admin.users_help' }), list),
    h('section', { class: 'card', 'aria-labelledby': 'reg-title' }, h('h2', { id: 'reg-title', i18n: 'admin.regulator_title' }), h('p', { class: 'muted small', i18n: 'admin.regulator_help' }), form, result),
  );
  await load();
});
