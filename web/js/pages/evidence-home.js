// /evidence/: the Evidence module. A court's clerk opens a case; everyone sees the cases they
// may see (the court's members, the lawyers and notaries granted a case, the regulator and the
// administrator see all), searchable by number or title; anyone can go and verify a file.
import { h, fill, table } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, post, errorText } from '../api.js';
import { field, onSubmit } from '../forms.js';
import { orgsOf } from '../session.js';
import { timeEl } from '../chain.js';

const COLS = [{ key: 'evidence.field.number' }, { key: 'evidence.field.case_title' }, { key: 'evidence.field.court' }, { key: 'evidence.field.items' }, { key: 'evidence.field.opened' }, { key: 'common.actions' }];

// Orgs where user may open cases (the server checks that the org is a court).
const clerkOrgs = (user) => orgsOf(user).filter((o) => o.roles.includes('clerk') || o.roles.includes('org_admin'));

function listSection() {
  const list = h('div', { id: 'case-list' }, h('p', { class: 'muted', i18n: 'common.loading' }));
  const q = h('input', { type: 'search', id: 'case-q', name: 'q', i18nAttrs: { 'aria-label': 'evidence.list.search', placeholder: 'evidence.list.search_hint' } });
  async function load() {
    const p = new URLSearchParams({ limit: '100' });
    if (q.value.trim()) p.set('q', q.value.trim());
    try {
      const r = await get(`/api/evidence/cases?${p}`);
      const rows = r.cases.map((c) => [
        h('span', { text: c.number }),
        h('span', { text: c.title }),
        h('span', { text: c.court_name || c.court }),
        h('span', { 'data-num': c.items }),
        timeEl(c.created_ms),
        h('a', { href: `/evidence/case.html?id=${c.id}`, class: 'case-link', i18n: 'evidence.list.open' }),
      ]);
      fill(list, table(COLS, rows, { empty: 'evidence.list.none' }));
    } catch (e) {
      fill(list, h('p', { class: 'action-error', role: 'alert' }, errorText(e)));
    }
  }
  const form = h('form', { class: 'inline-form', id: 'case-search', role: 'search' }, q, h('button', { type: 'submit', class: 'secondary', i18n: 'evidence.list.search' }));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
  return { el: h('section', { class: 'card', id: 'cases', 'aria-labelledby': 'cases-title' }, h('h2', { id: 'cases-title', i18n: 'evidence.list.title' }), form, list), load };
}

function openSection(orgs) {
  const form = h(
    'form',
    { id: 'case-form', class: 'stacked' },
    orgs.length > 1 ? field({ id: 'case-org', name: 'org', label: 'evidence.field.court', options: orgs.map((o) => ({ value: o.org, text: o.org_name || o.org })) }) : null,
    field({ id: 'case-number', name: 'number', label: 'evidence.field.number', required: true, hint: 'evidence.case.number_hint' }),
    field({ id: 'case-title', name: 'title', label: 'evidence.field.case_title', required: true }),
    field({ id: 'case-parties', name: 'parties', label: 'evidence.field.parties', type: 'textarea', optional: true, hint: 'evidence.case.parties_hint' }),
    h('button', { type: 'submit', id: 'case-submit', i18n: 'evidence.case.open' }),
  );
  onSubmit(
    form,
    (f) =>
      post('/api/evidence/cases', {
        org: f.org ? f.org.value : orgs[0].org,
        number: f.number.value.trim(),
        title: f.title.value.trim(),
        parties: f.parties.value.split('\n').map((s) => s.trim()).filter(Boolean),
      }),
    (r) => {
      location.href = `/evidence/case.html?id=${r.id}`;
    },
  );
  return h('section', { class: 'card', id: 'open-case', 'aria-labelledby': 'open-title' }, h('h2', { id: 'open-title', i18n: 'evidence.case.open_title' }), form);
}

boot({ page: 'evidence', title: 'title.evidence' }, async (main, user) => {
  const verifyLink = h('p', {}, h('a', { href: '/evidence/verify/', class: 'button secondary', id: 'go-verify', i18n: 'evidence.verify.go' }));
  if (!user) {
    fill(main, pageHead('evidence.home.title', { lead: 'evidence.home.lead' }), verifyLink, h('p', {}, h('a', { href: '/login/?next=/evidence/', i18n: 'shell.login' })));
    return;
  }
  const orgs = clerkOrgs(user);
  const list = listSection();
  fill(main, pageHead('evidence.home.title', { lead: 'evidence.home.lead' }), verifyLink, orgs.length ? openSection(orgs) : null, list.el);
  await list.load();
});
