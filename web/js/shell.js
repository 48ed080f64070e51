// The frame of every page: header (name, module navigation, language switch, who is signed
// in), the footer with the chain's origin and height, and the access check of pages that need
// a role. A page calls boot() once with its render function.
import { h, fill, $ } from './dom.js';
import { t, lang, setLang, applyI18n, onLangChange } from './i18n.js';
import { get } from './api.js';
import { me, logout, canAdminister } from './session.js';

export const MODULES = [
  { id: 'edu', href: '/edu/' },
  { id: 'evidence', href: '/evidence/' },
  { id: 'copyright', href: '/copyright/' },
  { id: 'charity', href: '/charity/' },
  { id: 'energy', href: '/energy/' },
];

const FOOTER_POLL_MS = 5000;

function navItems(user) {
  const items = MODULES.map((m) => ({ id: m.id, href: m.href, key: `nav.${m.id}` }));
  items.push({ id: 'explorer', href: '/explorer/', key: 'nav.explorer' });
  if (canAdminister(user)) items.push({ id: 'admin', href: '/admin/', key: 'nav.admin' });
  return items;
}

function whoText(user) {
  const org = (user.roles || [])[0];
  if (user.node_role === 'admin') return h('span', { i18n: 'shell.role_admin' });
  if (user.node_role === 'regulator') return h('span', { i18n: 'shell.role_regulator' });
  if (org) return h('span', { text: org.org_name || org.org });
  return null;
}

function header(page, user) {
  const langButton = h('button', {
    type: 'button',
    class: 'lang-switch',
    id: 'lang-switch',
    i18n: 'shell.switch_to',
    i18nAttrs: { lang: 'shell.switch_to_lang', title: 'shell.switch_title' },
    on: { click: () => setLang(lang() === 'zh' ? 'en' : 'zh') },
  });
  const tools = h('div', { class: 'header-tools' }, langButton);
  if (user) {
    const logoutBtn = h('button', {
      type: 'button',
      id: 'logout',
      i18n: 'shell.logout',
      on: {
        click: async () => {
          logoutBtn.disabled = true;
          await logout().catch(() => {});
          location.href = '/';
        },
      },
    });
    const who = whoText(user);
    tools.append(
      h('a', { class: 'who', id: 'who', href: '/account/', i18nAttrs: { title: 'shell.account' } }, h('span', { i18n: 'shell.signed_in_as', args: { user: user.username } }), who ? ' · ' : '', who),
      logoutBtn,
    );
  } else if (page !== 'login') {
    const next = encodeURIComponent(location.pathname + location.search);
    tools.append(h('a', { class: 'button-link', id: 'login-link', href: `/login/?next=${next}`, i18n: 'shell.login' }));
  }
  const inner = h(
    'div',
    { class: 'header-inner' },
    h('a', { class: 'brand', href: '/' }, h('img', { src: '/img/logo.svg', alt: '' }), h('span', { i18n: 'brand.name' }), h('span', { class: 'brand-sub', i18n: 'brand.tagline' })),
    tools,
  );
  const nav = h(
    'nav',
    { class: 'site-nav', i18nAttrs: { 'aria-label': 'nav.label' } },
    h(
      'ul',
      {},
      navItems(user).map((it) => h('li', {}, h('a', { href: it.href, i18n: it.key, 'aria-current': it.id === page ? 'page' : null }))),
    ),
  );
  return [inner, nav];
}

function footer() {
  const status = h('span', { id: 'chain-health' }, h('span', { class: 'dot', id: 'health-dot' }), h('span', { id: 'health-text', i18n: 'footer.connecting' }));
  const origin = h('span', { id: 'chain-origin' });
  const height = h('span', { id: 'chain-height' });
  const inner = h(
    'div',
    { class: 'footer-inner' },
    h('div', { class: 'footer-chain' }, status, origin, height),
    h('div', {}, h('a', { href: '/explorer/', i18n: 'footer.explorer' })),
  );
  let lastHeight = null;
  let origin_ = null;
  async function poll() {
    try {
      const hl = await get('/api/health');
      fill($('#health-dot'));
      $('#health-dot').className = 'dot ok';
      const ht = $('#health-text');
      ht.dataset.i18n = 'footer.online';
      ht.textContent = t('footer.online');
      if (hl.demo) $('#demo-banner').hidden = false;
      if (origin_ === null || hl.height !== lastHeight) {
        const cp = await get('/api/chain/checkpoint');
        origin_ = String(cp).split('\n')[0];
        fill(origin, h('span', { i18n: 'footer.origin', args: { origin: origin_ } }));
      }
      lastHeight = hl.height;
      fill(height, h('span', { i18n: 'footer.height', args: { height: hl.height, size: hl.tree_size } }));
    } catch {
      $('#health-dot').className = 'dot bad';
      const ht = $('#health-text');
      ht.dataset.i18n = 'footer.offline';
      ht.textContent = t('footer.offline');
    }
  }
  setTimeout(poll, 0);
  setInterval(poll, FOOTER_POLL_MS);
  return inner;
}

// A card that replaces the page when the reader may not use it.
function refusal(kind) {
  const next = encodeURIComponent(location.pathname + location.search);
  return h(
    'div',
    { class: 'card', id: 'refused' },
    h('h1', { i18n: kind === 'login' ? 'access.login_title' : 'access.denied_title' }),
    h('p', { i18n: kind === 'login' ? 'access.login_text' : 'access.denied_text' }),
    kind === 'login' ? h('a', { class: 'button', href: `/login/?next=${next}`, i18n: 'shell.login' }) : h('a', { class: 'button secondary', href: '/', i18n: 'access.home' }),
  );
}

// Builds the frame, then calls render(main, user) unless allow(user) says no.
// opts: {page: nav id, title: dictionary key, allow: (user) => boolean, needsLogin: boolean}
export async function boot(opts, render) {
  const user = await me();
  const body = document.body;
  const skip = h('a', { class: 'skip-link', href: '#main', i18n: 'shell.skip' });
  const banner = h('div', { class: 'demo-banner', id: 'demo-banner', hidden: true, i18n: 'shell.demo' });
  const hdr = h('header', { class: 'site-header' }, header(opts.page, user));
  let main = $('main');
  if (!main) main = h('main', {});
  main.id = 'main';
  main.tabIndex = -1;
  const ftr = h('footer', { class: 'site-footer' }, footer());
  body.replaceChildren(skip, hdr, banner, main, ftr);
  const title = $('title');
  title.dataset.i18n = 'title.page';
  title.dataset.i18nArgs = JSON.stringify({ page: t(opts.title) });
  onLangChange(() => {
    title.dataset.i18nArgs = JSON.stringify({ page: t(opts.title) });
    title.textContent = t('title.page', { page: t(opts.title) });
  });
  applyI18n(document);
  const needsLogin = opts.needsLogin || !!opts.allow;
  try {
    if (needsLogin && !user) fill(main, refusal('login'));
    else if (opts.allow && !opts.allow(user)) fill(main, refusal('denied'));
    else await render(main, user);
  } finally {
    // the page has its data (tests wait for this rather than for a quiet network)
    body.dataset.ready = 'true';
  }
}

// A small uniform page head: breadcrumb links, a title, and an optional lead paragraph.
export function pageHead(titleKey, { lead, crumbs = [], args } = {}) {
  return h(
    'div',
    { class: 'page-head' },
    crumbs.length ? h('nav', { class: 'breadcrumb', i18nAttrs: { 'aria-label': 'shell.breadcrumb' } }, crumbs.map((c, i) => [i ? ' / ' : '', h('a', { href: c.href, i18n: c.key, args: c.args })])) : null,
    h('h1', { i18n: titleKey, args }),
    lead ? h('p', { i18n: lead }) : null,
  );
}
