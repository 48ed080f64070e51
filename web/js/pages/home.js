// Home: what each module is for, one sentence each, and the chain's live status.
import { h, fill } from '../dom.js';
import { boot, MODULES } from '../shell.js';
import { chainStatus, statusStats } from '../chain.js';
import { errorText } from '../api.js';

const POLL_MS = 3000;

boot({ page: 'home', title: 'title.home' }, async (main) => {
  const stats = statusStats();
  const err = h('p', { class: 'action-error', role: 'alert', id: 'status-error' });
  const cards = MODULES.map((m) =>
    h(
      'article',
      { class: 'card', id: `module-${m.id}` },
      h('h2', { i18n: `module.${m.id}.name` }),
      h('p', { i18n: `module.${m.id}.what` }),
      h('a', { href: m.href, i18n: `module.${m.id}.go` }),
    ),
  );
  cards.push(
    h(
      'article',
      { class: 'card', id: 'module-explorer' },
      h('h2', { i18n: 'nav.explorer' }),
      h('p', { i18n: 'home.explorer_what' }),
      h('a', { href: '/explorer/', i18n: 'home.explorer_go' }),
    ),
  );
  fill(
    main,
    h('div', { class: 'page-head' }, h('h1', { i18n: 'home.title' }), h('p', { class: 'lead', i18n: 'home.lead' })),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'status-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'status-title', i18n: 'home.status' }), h('a', { href: '/explorer/', i18n: 'home.status_more' })),
      stats.el,
      err,
    ),
    h('section', { 'aria-labelledby': 'modules-title' }, h('h2', { id: 'modules-title', class: 'visually-hidden', i18n: 'home.modules' }), h('div', { class: 'grid three modules' }, cards)),
  );
  async function poll() {
    try {
      stats.update(await chainStatus());
      fill(err);
    } catch (e) {
      fill(err, errorText(e));
    }
  }
  await poll();
  setInterval(poll, POLL_MS);
});
