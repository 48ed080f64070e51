// /edu/credential.html?id=<uuid>: one credential for the people it concerns — its content, its
// state, the file to download (the bundle that verifies offline), a check in this browser, the
// printable certificate; share links for the student; revocation and erasure for the university.
import { h, fill, $, table } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, post, del, errorText } from '../api.js';
import { field, onSubmit, secretBox, confirmButton } from '../forms.js';
import { orgsOf, isAdmin } from '../session.js';
import { credentialView, statusBadge, verifyBundle, downloadBundle, CHECKS } from '../edu.js';

const crumbs = [{ href: '/edu/', key: 'nav.edu' }];

function rolesIn(user, org) {
  return (orgsOf(user).find((o) => o.org === org) || { roles: [] }).roles;
}

function sharesSection(c) {
  const list = h('div', { id: 'share-list' });
  const result = h('div', { id: 'share-result', role: 'status', 'aria-live': 'polite' });
  async function load() {
    try {
      const r = await get(`/api/edu/credentials/${c.id}/shares`);
      fill(
        list,
        table(
          [{ key: 'edu.share.created' }, { key: 'edu.share.expires' }, { key: 'edu.field.status' }, { key: 'common.actions' }],
          r.shares.map((s) => [
            h('span', { 'data-ms': s.created_ms }),
            h('span', { 'data-ms': s.expires_at_ms }),
            h('span', { class: `badge ${s.state === 'active' ? 'ok' : ''}`, i18n: `edu.share.${s.state}` }),
            s.state === 'active'
              ? confirmButton({
                  id: `withdraw-${s.id}`,
                  key: 'edu.share.withdraw',
                  confirmKey: 'edu.share.withdraw_confirm',
                  onConfirm: async () => {
                    await del(`/api/edu/credentials/${c.id}/shares/${s.id}`);
                    await load();
                  },
                })
              : '',
          ]),
          { empty: 'edu.share.none' },
        ),
      );
    } catch (e) {
      fill(list, h('p', { class: 'action-error', role: 'alert' }, errorText(e)));
    }
  }
  const form = h(
    'form',
    { class: 'inline-form', id: 'share-form' },
    field({ id: 'share-days', name: 'days', label: 'edu.share.days', options: [7, 30, 90, 365].map((d) => ({ value: String(d), key: `edu.share.days_${d}` })), value: '30' }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', id: 'share-submit', i18n: 'edu.share.create' })),
  );
  onSubmit(
    form,
    (f) => post(`/api/edu/credentials/${c.id}/shares`, { expires_in_days: Number(f.elements.days.value) }),
    async (r) => {
      const url = `${location.origin}${r.url}`;
      fill(result, h('div', { class: 'notice' }, h('p', { i18n: 'edu.share.made' }), secretBox(url, { id: 'share-url', warning: 'edu.share.once' })));
      await load();
    },
  );
  return { el: h('section', { class: 'card', id: 'shares', 'aria-labelledby': 'shares-title' }, h('h2', { id: 'shares-title', i18n: 'edu.share.title' }), h('p', { class: 'small muted', i18n: 'edu.share.help' }), form, result, list), load };
}

function manageSection(c, reload) {
  const form = h(
    'form',
    { class: 'stacked', id: 'revoke-form', novalidate: true },
    field({ id: 'revoke-reason', name: 'reason', label: 'edu.revoke.reason', hint: 'edu.revoke.reason_hint', required: true }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'danger', id: 'revoke-submit', i18n: 'edu.revoke.submit' })),
  );
  onSubmit(form, (f) => post(`/api/edu/credentials/${c.id}/revoke`, { org: c.org, reason: f.elements.reason.value.trim() }), reload);
  const erase = confirmButton({
    id: 'erase',
    key: 'edu.erase.submit',
    confirmKey: 'edu.erase.confirm',
    onConfirm: async () => {
      await post(`/api/edu/credentials/${c.id}/erase`, { org: c.org });
      await reload();
    },
  });
  return h(
    'section',
    { class: 'card', id: 'manage', 'aria-labelledby': 'manage-title' },
    h('h2', { id: 'manage-title', i18n: 'edu.manage.title' }),
    c.status === 'valid' ? [h('h3', { i18n: 'edu.revoke.title' }), h('p', { class: 'small muted', i18n: 'edu.revoke.help' }), form] : null,
    c.erased ? null : [h('h3', { i18n: 'edu.erase.title' }), h('p', { class: 'small muted', i18n: 'edu.erase.help' }), erase],
  );
}

function checkList(results) {
  return h(
    'ol',
    { class: 'checks', id: 'checks' },
    CHECKS.map((name) => {
      const r = results.find((x) => x.name === name);
      const state = r.ok === true ? 'ok' : r.ok === false ? 'bad' : 'unknown';
      return h(
        'li',
        { class: `check ${state}`, 'data-check': name, 'data-state': state },
        h('span', { class: 'check-mark', 'aria-hidden': 'true', text: r.ok === true ? '✓' : r.ok === false ? '✗' : '?' }),
        h('div', {}, h('div', { class: 'check-name', i18n: `edu.check.${name}` }), h('div', { class: 'check-detail', i18n: r.key, args: r.args })),
      );
    }),
  );
}

boot({ page: 'edu', title: 'title.edu_credential', needsLogin: true }, async (main, user) => {
  const id = (new URLSearchParams(location.search).get('id') || '').toLowerCase();
  if (!/^[0-9a-f-]{36}$/.test(id)) {
    fill(main, pageHead('edu.credential.not_found', { crumbs }));
    return;
  }
  async function render() {
    let c;
    try {
      c = await get(`/api/edu/credentials/${id}`);
    } catch (e) {
      fill(main, pageHead('edu.credential.not_found', { crumbs }), h('div', { class: 'card' }, h('p', { class: 'action-error', role: 'alert' }, errorText(e))));
      return;
    }
    const roles = rolesIn(user, c.org);
    const mayManage = isAdmin(user) || roles.includes('issuer') || roles.includes('registrar') || roles.includes('org_admin');
    const mayShare = isAdmin(user) || roles.length > 0 || (user.principal && user.principal === c.student);
    const canBundle = c.status !== 'pending' && !c.erased;
    const verifyPanel = h('div', { id: 'verify-panel' });
    const actions = h(
      'div',
      { class: 'form-actions' },
      canBundle ? h('button', { type: 'button', id: 'download', i18n: 'edu.credential.download' }) : null,
      canBundle ? h('button', { type: 'button', class: 'secondary', id: 'verify-here', i18n: 'edu.credential.verify' }) : null,
      canBundle ? h('a', { class: 'button secondary', href: `/edu/print.html?id=${c.id}`, id: 'print-link', i18n: 'edu.credential.print' }) : null,
    );
    const summary = h(
      'section',
      { class: 'card', id: 'summary' },
      h('div', { class: 'card-head' }, h('h2', { i18n: 'edu.credential.title' }), h('span', { id: 'cred-status' }, statusBadge(c.status))),
      c.revoked ? h('p', { class: 'notice warn', id: 'revoked-note' }, h('span', { i18n: 'edu.credential.revoked', args: { reason: c.revoked.reason } }), ' ', h('span', { 'data-ms': c.revoked.at_ms })) : null,
      c.erased ? h('p', { class: 'notice', id: 'erased-note', i18n: 'edu.credential.erased' }) : null,
      c.credential ? credentialView(c.credential, null) : null,
      actions,
      verifyPanel,
    );
    const side = [];
    let shares = null;
    if (mayShare && canBundle) {
      shares = sharesSection(c);
      side.push(shares.el);
    }
    if (mayManage && (c.status === 'valid' || !c.erased)) side.push(manageSection(c, render));
    fill(main, pageHead('edu.credential.title', { crumbs }), h('div', { class: 'grid main-side' }, summary, h('div', {}, side)));
    if (shares) await shares.load();
    const bundle = () => get(`/api/edu/credentials/${c.id}/bundle`);
    $('#download')?.addEventListener('click', async () => downloadBundle(await bundle(), c.id));
    $('#verify-here')?.addEventListener('click', async () => {
      fill(verifyPanel, h('p', { class: 'muted', i18n: 'verify.running' }));
      const out = await verifyBundle(await bundle());
      fill(verifyPanel, h('div', { class: `verdict ${out.verdict === 'valid' ? 'ok' : out.verdict === 'revoked' ? 'revoked' : 'bad'}`, id: 'verdict', 'data-state': out.verdict, i18n: `edu.verdict.short_${out.verdict}` }), checkList(out.checks));
    });
  }
  await render();
});
