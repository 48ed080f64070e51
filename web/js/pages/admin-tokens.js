// API 令牌: bearer tokens for machines, per organisation. A new token is shown once, with a
// copy button; the list shows the others without their secrets; a token can be revoked.
import { h, fill, table } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, post, del, errorText } from '../api.js';
import { field, onSubmit, secretBox, confirmButton } from '../forms.js';
import { access, adminCrumbs, roleOptions, roleEl } from '../admin.js';
import { isAdmin, orgsOf } from '../session.js';
import { timeEl } from '../chain.js';

const DAY = 86400000;
const COLS = [{ key: 'admin.token_name' }, { key: 'admin.role' }, { key: 'admin.created_by' }, { key: 'admin.created' }, { key: 'admin.expires' }, { key: 'admin.token_state' }, { key: 'common.actions' }];

function isoDate(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

boot({ page: 'admin', title: 'title.admin_tokens', allow: access.tokens }, async (main, me) => {
  let orgs;
  if (isAdmin(me)) {
    try {
      orgs = (await get('/api/orgs')).orgs.map((o) => ({ org: o.id, org_name: o.name }));
    } catch (e) {
      fill(main, pageHead('admin.tokens.title', { crumbs: adminCrumbs }), h('p', { class: 'action-error', role: 'alert' }, errorText(e)));
      return;
    }
  } else {
    orgs = orgsOf(me, 'org_admin');
  }
  const wanted = new URLSearchParams(location.search).get('org');
  let org = orgs.some((o) => o.org === wanted) ? wanted : orgs.length ? orgs[0].org : null;

  if (!org) {
    fill(main, pageHead('admin.tokens.title', { lead: 'admin.tokens.what', crumbs: adminCrumbs }), h('div', { class: 'card' }, h('p', { class: 'empty', i18n: 'admin.no_orgs_for_tokens' })));
    return;
  }

  const orgOptions = orgs.map((o) => ({ value: o.org, text: o.org_name ? `${o.org_name} (${o.org})` : o.org }));
  const picker = field({ id: 'token-org', name: 'org', label: 'admin.org', options: orgOptions, value: org, required: true });
  const list = h('div', { id: 'token-list' });
  const created = h('div', { id: 'token-created', role: 'status', 'aria-live': 'polite' });

  async function load() {
    try {
      const r = await get(`/api/auth/tokens?org=${encodeURIComponent(org)}`);
      fill(
        list,
        table(
          COLS,
          r.tokens.map((tk) => [
            h('span', { text: tk.name }),
            roleEl(tk.role),
            h('code', { text: tk.created_by }),
            timeEl(tk.created),
            timeEl(tk.expires),
            tk.revoked
              ? h('span', { class: 'badge bad', i18n: 'admin.token_revoked' })
              : tk.expires < Date.now()
                ? h('span', { class: 'badge warn', i18n: 'admin.token_expired' })
                : h('span', { class: 'badge ok', i18n: 'admin.token_active' }),
            tk.revoked
              ? ''
              : confirmButton({
                  id: `revoke-token-${tk.id}`,
                  key: 'admin.revoke',
                  confirmKey: 'admin.revoke_confirm',
                  onConfirm: async () => {
                    await del(`/api/auth/tokens/${tk.id}?org=${encodeURIComponent(org)}`);
                    await load();
                  },
                }),
          ]),
          { empty: 'admin.no_tokens' },
        ),
      );
    } catch (e) {
      fill(list, h('p', { class: 'action-error', role: 'alert' }, errorText(e)));
    }
  }

  picker.querySelector('select').addEventListener('change', (ev) => {
    org = ev.target.value;
    history.replaceState(null, '', `?org=${encodeURIComponent(org)}`);
    fill(created);
    load();
  });

  const form = h(
    'form',
    { class: 'stacked', id: 'token-form', novalidate: true },
    field({ id: 'token-name', name: 'name', label: 'admin.token_name', hint: 'admin.token_name_hint', required: true }),
    field({ id: 'token-role', name: 'role', label: 'admin.role', required: true, options: roleOptions(), value: 'member' }),
    field({ id: 'token-expires', name: 'expires', label: 'admin.expires', type: 'date', required: true, value: isoDate(Date.now() + 90 * DAY), hint: 'admin.expires_hint', attrs: { min: isoDate(Date.now() + DAY), max: isoDate(Date.now() + 365 * DAY) } }),
    h('p', { class: 'action-error', role: 'alert' }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', id: 'token-submit', i18n: 'admin.create_token' })),
  );
  onSubmit(
    form,
    (f) => {
      fill(created);
      // the end of the chosen day, local time
      const [y, m, d] = (f.elements.expires.value || '').split('-').map(Number);
      const expires = y ? new Date(y, m - 1, d, 23, 59, 59).getTime() : 0;
      return post('/api/auth/tokens', { name: f.elements.name.value.trim(), org, role: f.elements.role.value, expires });
    },
    async (r) => {
      form.elements.name.value = '';
      fill(created, h('div', { class: 'notice' }, h('p', { i18n: 'admin.token_created', args: { name: r.name } }), secretBox(r.token, { id: 'new-token', warning: 'admin.token_once' }), h('p', { class: 'small muted', i18n: 'admin.token_usage' })));
      await load();
    },
  );

  fill(
    main,
    pageHead('admin.tokens.title', { lead: 'admin.tokens.what', crumbs: adminCrumbs }),
    h('section', { class: 'card' }, h('div', { class: 'stacked' }, picker)),
    h('section', { class: 'card', 'aria-labelledby': 'new-token-title' }, h('h2', { id: 'new-token-title', i18n: 'admin.new_token' }), form, created),
    h('section', { class: 'card', 'aria-labelledby': 'tokens-title' }, h('h2', { id: 'tokens-title', i18n: 'admin.token_list' }), list),
  );
  await load();
});
