// The page of a module whose screens are not built yet: says honestly what it will do and that
// its records, once there, show in the explorer. The module is named by <body data-module>.
import { h, fill } from '../dom.js';
import { boot } from '../shell.js';

const mod = document.body.dataset.module;

boot({ page: mod, title: `module.${mod}.name` }, async (main) => {
  fill(
    main,
    h('div', { class: 'page-head' }, h('h1', { i18n: `module.${mod}.name` }), h('p', { class: 'lead', i18n: `module.${mod}.what` })),
    h(
      'section',
      { class: 'card', id: 'coming' },
      h('h2', { i18n: 'coming.title' }),
      h('p', { i18n: `module.${mod}.detail` }),
      h('p', { class: 'muted', i18n: 'coming.text' }),
      h('a', { class: 'button secondary', href: '/explorer/', i18n: 'coming.explorer' }),
    ),
  );
});
