// 我的账户: who I am, my roles per organisation, and changing my password (a temporary password
// from an invitation should be changed here first).
import { h, fill } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { post, ApiError } from '../api.js';
import { field, onSubmit } from '../forms.js';
import { roleEl } from '../admin.js';
import { orgsOf } from '../session.js';

boot({ page: 'account', title: 'title.account', needsLogin: true }, async (main, me) => {
  const orgs = orgsOf(me);
  const done = h('div', { id: 'password-result', role: 'status', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'stacked', id: 'password-form', novalidate: true },
    // for password managers: whose password this is
    h('input', { type: 'text', name: 'username', autocomplete: 'username', value: me.username, hidden: true, readonly: true }),
    field({ id: 'pw-old', name: 'old', label: 'account.old_password', type: 'password', required: true, autocomplete: 'current-password' }),
    field({ id: 'pw-new', name: 'new', label: 'account.new_password', type: 'password', required: true, autocomplete: 'new-password', hint: 'account.new_hint' }),
    field({ id: 'pw-again', name: 'again', label: 'account.again', type: 'password', required: true, autocomplete: 'new-password' }),
    h('p', { class: 'action-error', role: 'alert' }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', id: 'password-submit', i18n: 'account.change' })),
  );
  onSubmit(
    form,
    (f) => {
      fill(done);
      if (f.elements.new.value !== f.elements.again.value) {
        return Promise.reject(new ApiError(0, 'password_mismatch', 'passwords differ', 'again'));
      }
      return post('/api/auth/password', { old: f.elements.old.value, new: f.elements.new.value });
    },
    () => {
      form.reset();
      fill(done, h('p', { class: 'notice', i18n: 'account.changed' }));
    },
  );
  fill(
    main,
    pageHead('account.title'),
    h(
      'section',
      { class: 'card' },
      h(
        'dl',
        { class: 'facts', id: 'account-facts' },
        h('dt', { i18n: 'admin.username' }),
        h('dd', {}, h('code', { text: me.username })),
        h('dt', { i18n: 'admin.node_role' }),
        h('dd', {}, me.node_role ? h('span', { class: 'badge warn', i18n: `noderole.${me.node_role}`, fallback: me.node_role }) : h('span', { class: 'muted', text: '—' })),
        h('dt', { i18n: 'admin.roles' }),
        h(
          'dd',
          {},
          orgs.length
            ? h('ul', { class: 'key-list' }, orgs.map((o) => h('li', {}, h('strong', { text: o.org_name || o.org }), ' ', h('code', { class: 'small muted', text: o.org }), ' ', o.roles.map((r) => [roleEl(r), ' ']))))
            : h('span', { class: 'muted', i18n: 'account.no_roles' }),
        ),
      ),
    ),
    h('section', { class: 'card', 'aria-labelledby': 'pw-title' }, h('h2', { id: 'pw-title', i18n: 'account.password_title' }), form, done),
  );
});
