// What the administration pages share: organisation types and roles (as the server names
// them, docs/LEDGER.md §3 and sql/002_auth.sql), who may use which page, and small views.
import { h } from './dom.js';
import { isAdmin, isOversight, orgsOf } from './session.js';

export const ORG_TYPES = ['university', 'court', 'notary', 'law_firm', 'publisher', 'charity', 'auditor', 'market_operator', 'regulator'];
export const ORG_ROLES = ['org_admin', 'issuer', 'clerk', 'registrar', 'fund_manager', 'auditor', 'market_operator', 'member'];

export const orgTypeOptions = () => ORG_TYPES.map((v) => ({ value: v, key: `orgtype.${v}` }));
export const roleOptions = () => ORG_ROLES.map((v) => ({ value: v, key: `role.${v}` }));

export const orgTypeEl = (t) => h('span', { i18n: `orgtype.${t}`, fallback: t });
export const roleEl = (r) => h('span', { class: 'badge info', i18n: `role.${r}`, fallback: r });

// Who may use which page (the server refuses the same people; this only keeps them out of
// pages that would fail).
export const access = {
  overview: (m) => isOversight(m) || orgsOf(m, 'org_admin').length > 0,
  orgs: (m) => isOversight(m) || orgsOf(m, 'org_admin').length > 0,
  users: (m) => isAdmin(m),
  tokens: (m) => isAdmin(m) || orgsOf(m, 'org_admin').length > 0,
  audit: (m) => isOversight(m),
  oversight: (m) => isOversight(m),
};

// May m see org's page / change its people and keys?
export const canSeeOrg = (m, org) => isOversight(m) || orgsOf(m, 'org_admin').some((o) => o.org === org);
export const canManageOrg = (m, org) => isAdmin(m) || orgsOf(m, 'org_admin').some((o) => o.org === org);

export const adminCrumbs = [{ href: '/admin/', key: 'nav.admin' }];

export function txLink(id, leaf) {
  if (!id) return h('span', { class: 'muted', text: '—' });
  return h('a', { href: `/explorer/tx.html?id=${id}`, class: 'hash', title: id }, leaf !== undefined && leaf !== null ? h('span', { i18n: 'admin.leaf', args: { leaf } }) : `${id.slice(0, 12)}…`);
}
