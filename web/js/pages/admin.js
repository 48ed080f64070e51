// 管理: the entry to the administration pages, showing only those the reader may use.
import { h, fill } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { access } from '../admin.js';
import { orgsOf } from '../session.js';

const SECTIONS = [
  { id: 'orgs', href: '/admin/orgs.html' },
  { id: 'users', href: '/admin/users.html' },
  { id: 'tokens', href: '/admin/tokens.html' },
  { id: 'audit', href: '/admin/audit.html' },
  { id: 'oversight', href: '/admin/oversight.html' },
];

boot({ page: 'admin', title: 'title.admin', allow: access.overview }, async (main, me) => {
  const cards = SECTIONS.filter((s) => access[s.id](me)).map((s) =>
    h('article', { class: 'card', id: `section-${s.id}` }, h('h2', {}, h('a', { href: s.href, i18n: `admin.${s.id}.title` })), h('p', { class: 'muted', i18n: `admin.${s.id}.what` })),
  );
  const mine = orgsOf(me, 'org_admin');
  fill(
    main,
    pageHead('admin.title', { lead: 'admin.lead' }),
    mine.length
      ? h(
          'section',
          { class: 'card' },
          h('h2', { i18n: 'admin.my_orgs' }),
          h('ul', {}, mine.map((o) => h('li', {}, h('a', { href: `/admin/org.html?id=${encodeURIComponent(o.org)}`, text: o.org_name || o.org }), ' ', h('code', { class: 'small muted', text: o.org })))),
        )
      : null,
    h('div', { class: 'grid two modules' }, cards),
  );
});
