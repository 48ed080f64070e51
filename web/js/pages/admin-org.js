// One organisation (?id=): its key history with rotation, and its people with their roles
// (invite, grant, remove). Org admins manage their own org; the administrator any; a regulator
// reads.
import { h, fill, table } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, post, del, errorText, ApiError } from '../api.js';
import { field, onSubmit, secretBox, confirmButton } from '../forms.js';
import { access, adminCrumbs, roleOptions, orgTypeEl, roleEl, txLink, canSeeOrg, canManageOrg } from '../admin.js';
import { isAdmin } from '../session.js';

const KEY_COLS = [{ key: 'admin.key' }, { key: 'admin.key_state' }, { key: 'admin.key_added' }, { key: 'admin.key_revoked' }, { key: 'admin.custodial' }];
const USER_COLS = [{ key: 'admin.username' }, { key: 'admin.display_name' }, { key: 'admin.roles' }];

function keyRows(keys) {
  return keys.map((k) => [
    h('span', { class: 'hash', text: k.key }),
    h('span', { class: k.active ? 'badge ok' : 'badge bad', i18n: k.active ? 'admin.key_active' : 'admin.key_revoked_state' }),
    txLink(k.added_tx, k.added_leaf),
    k.revoked_tx ? txLink(k.revoked_tx, k.revoked_leaf) : h('span', { class: 'muted', text: '—' }),
    h('span', { i18n: k.custodial ? 'common.yes' : 'common.no' }),
  ]);
}

boot({ page: 'admin', title: 'title.admin_org', allow: access.orgs }, async (main, me) => {
  const id = new URLSearchParams(location.search).get('id') || '';
  if (!canSeeOrg(me, id)) {
    fill(main, pageHead('access.denied_title', { crumbs: adminCrumbs }), h('p', { class: 'card', i18n: 'access.denied_text' }));
    return;
  }
  const manage = canManageOrg(me, id);
  const enc = encodeURIComponent(id);
  let org;
  try {
    org = await get(`/api/orgs/${enc}`);
  } catch (e) {
    const nf = e instanceof ApiError && e.status === 404;
    fill(main, pageHead('admin.org_not_found', { crumbs: adminCrumbs }), h('div', { class: 'card' }, nf ? h('p', { i18n: 'admin.org_not_found_text' }) : h('p', { class: 'action-error' }, errorText(e))));
    return;
  }

  const keysBox = h('div', { id: 'org-keys' });
  const rotateMsg = h('div', { id: 'rotate-result', role: 'status', 'aria-live': 'polite' });
  const peopleBox = h('div', { id: 'org-users' }, h('p', { class: 'muted', i18n: 'common.loading' }));

  async function loadKeys() {
    const o = await get(`/api/orgs/${enc}`);
    fill(keysBox, table(KEY_COLS, keyRows(o.keys), { empty: 'admin.no_keys' }));
  }

  async function loadPeople() {
    try {
      const r = await get(`/api/orgs/${enc}/users`);
      const roleCell = (u) =>
        h(
          'span',
          { class: 'form-actions' },
          (u.roles || []).map((role) =>
            manage
              ? h(
                  'span',
                  { class: 'form-actions' },
                  roleEl(role),
                  confirmButton({
                    id: `revoke-${u.username}-${role}`,
                    key: 'admin.remove_role',
                    confirmKey: 'admin.remove_role_confirm',
                    onConfirm: async () => {
                      await del(`/api/orgs/${enc}/roles?username=${encodeURIComponent(u.username)}&role=${encodeURIComponent(role)}`);
                      await loadPeople();
                    },
                  }),
                )
              : roleEl(role),
          ),
        );
      fill(
        peopleBox,
        table(
          USER_COLS,
          r.users.map((u) => [h('code', { text: u.username }), h('span', { text: u.display_name || '—' }), roleCell(u)]),
          { empty: 'admin.no_people' },
        ),
      );
    } catch (e) {
      fill(peopleBox, h('p', { class: 'action-error', role: 'alert' }, errorText(e)));
    }
  }

  const rotate = manage
    ? confirmButton({
        id: 'rotate',
        key: 'admin.rotate',
        confirmKey: 'admin.rotate_confirm',
        className: 'secondary small',
        onConfirm: async () => {
          fill(rotateMsg);
          const r = await post(`/api/orgs/${enc}/keys/rotate`);
          fill(rotateMsg, h('div', { class: 'notice', id: 'rotated' }, h('p', { i18n: 'admin.rotated' }), h('p', { class: 'hash small', text: r.new_key }), txLink(r.add_tx_id, r.add_leaf_index)));
          await loadKeys();
        },
      })
    : null;

  let invite = null;
  if (manage) {
    const result = h('div', { id: 'invite-result', role: 'status', 'aria-live': 'polite' });
    const form = h(
      'form',
      { class: 'stacked', id: 'invite-form', novalidate: true },
      field({ id: 'inv-username', name: 'username', label: 'admin.username', hint: 'admin.username_hint', required: true, attrs: { spellcheck: 'false', autocapitalize: 'none' } }),
      field({ id: 'inv-display', name: 'display_name', label: 'admin.display_name', optional: true }),
      field({ id: 'inv-role', name: 'role', label: 'admin.role', required: true, options: roleOptions(), value: 'member' }),
      isAdmin(me) ? field({ id: 'inv-password', name: 'password', label: 'admin.password', type: 'password', hint: 'admin.password_hint', autocomplete: 'new-password', optional: true }) : null,
      h('p', { class: 'action-error', role: 'alert' }),
      h('div', { class: 'form-actions' }, h('button', { type: 'submit', id: 'invite-submit', i18n: 'admin.invite' })),
    );
    onSubmit(
      form,
      (f) => {
        fill(result);
        const body = { username: f.elements.username.value.trim(), display_name: f.elements.display_name.value.trim(), role: f.elements.role.value };
        if (f.elements.password && f.elements.password.value) body.password = f.elements.password.value;
        return post(`/api/orgs/${enc}/users`, body);
      },
      async (r) => {
        form.reset();
        const parts = [h('p', { i18n: r.created ? 'admin.invited' : r.granted ? 'admin.granted' : 'admin.already_held', args: { user: r.username, role: `@role.${r.role}` } })];
        if (r.temporary_password) parts.push(h('p', { i18n: 'admin.temp_password' }), secretBox(r.temporary_password, { id: 'temp-password', warning: 'admin.temp_password_warning' }));
        fill(result, h('div', { class: 'notice', id: 'invite-done' }, parts));
        await loadPeople();
      },
    );
    invite = h('section', { class: 'card', 'aria-labelledby': 'invite-title' }, h('h2', { id: 'invite-title', i18n: 'admin.invite_title' }), h('p', { class: 'muted small', i18n: 'admin.invite_help' }), form, result);
  }

  fill(
    main,
    pageHead('admin.org_title', { args: { name: org.name }, crumbs: [...adminCrumbs, { href: '/admin/orgs.html', key: 'admin.orgs.title' }] }),
    h(
      'section',
      { class: 'card' },
      h(
        'dl',
        { class: 'facts', id: 'org-facts' },
        h('dt', { i18n: 'admin.org_id' }),
        h('dd', {}, h('code', { text: org.id })),
        h('dt', { i18n: 'admin.org_name' }),
        h('dd', { text: org.name }),
        h('dt', { i18n: 'admin.org_type' }),
        h('dd', {}, orgTypeEl(org.type)),
        h('dt', { i18n: 'admin.admitted' }),
        h('dd', {}, txLink(org.tx_id, org.leaf_index)),
      ),
    ),
    h('section', { class: 'card', 'aria-labelledby': 'keys-title' }, h('div', { class: 'card-head' }, h('h2', { id: 'keys-title', i18n: 'admin.keys' }), rotate), h('p', { class: 'muted small', i18n: 'admin.keys_help' }), rotateMsg, keysBox),
    h('section', { class: 'card', 'aria-labelledby': 'people-title' }, h('h2', { id: 'people-title', i18n: 'admin.people' }), peopleBox),
    invite,
  );
  fill(keysBox, table(KEY_COLS, keyRows(org.keys), { empty: 'admin.no_keys' }));
  await loadPeople();
});
