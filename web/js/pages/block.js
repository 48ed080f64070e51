// One block (?h=N): its checkpoint and its txs in leaf order, 50 to a page (?p=), each with
// module, type and organisation.
import { h, fill, table } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, errorText } from '../api.js';
import { block, tx, timeEl, numEl, hashEl, moduleEl, typeEl } from '../chain.js';

const PER_PAGE = 50;
const PARALLEL = 6;

const COLS = [
  { key: 'chain.leaf_index', class: 'num' },
  { key: 'chain.tx_id' },
  { key: 'chain.module' },
  { key: 'chain.type' },
  { key: 'chain.org' },
];

// Runs fn over items, at most n at a time; results in order.
async function mapLimit(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

function notFound(main, key, args) {
  fill(main, pageHead('block.not_found_title', { crumbs: [{ href: '/explorer/', key: 'nav.explorer' }] }), h('div', { class: 'card' }, h('p', { i18n: key, args }), h('a', { href: '/explorer/', i18n: 'block.back' })));
}

boot({ page: 'explorer', title: 'title.block' }, async (main) => {
  const params = new URLSearchParams(location.search);
  const hs = params.get('h') || '';
  if (!/^[0-9]{1,15}$/.test(hs)) return notFound(main, 'block.bad_height');
  const height = Number(hs);
  const page = Math.max(0, Number(/^[0-9]+$/.test(params.get('p') || '') ? params.get('p') : 0));
  let b, health;
  try {
    health = await get('/api/health');
    if (height > health.height) return notFound(main, 'block.not_yet', { height, top: health.height });
    b = await block(height);
  } catch (e) {
    fill(main, pageHead('block.title', { args: { height } }), h('p', { class: 'action-error', role: 'alert' }, errorText(e)));
    return;
  }

  const nav = h(
    'nav',
    { class: 'pager', i18nAttrs: { 'aria-label': 'block.neighbours' } },
    height > 0 ? h('a', { class: 'button secondary small', id: 'prev-block', href: `/explorer/block.html?h=${height - 1}`, i18n: 'block.prev' }) : null,
    height < health.height ? h('a', { class: 'button secondary small', id: 'next-block', href: `/explorer/block.html?h=${height + 1}`, i18n: 'block.next' }) : null,
  );

  const facts = h(
    'dl',
    { class: 'facts', id: 'block-facts' },
    h('dt', { i18n: 'chain.block_height' }),
    h('dd', {}, numEl(b.height)),
    h('dt', { i18n: 'chain.time' }),
    h('dd', {}, timeEl(b.time_ms), ' · ', h('span', { class: 'muted small', i18n: 'chain.ledger_ms', args: { ms: b.time_ms } })),
    h('dt', { i18n: 'chain.n_txs' }),
    h('dd', {}, numEl(b.n_txs)),
    h('dt', { i18n: 'chain.first_leaf' }),
    h('dd', {}, numEl(b.first_leaf)),
    h('dt', { i18n: 'chain.tree_size' }),
    h('dd', {}, numEl(b.tree_size)),
    h('dt', { i18n: 'chain.root' }),
    h('dd', {}, hashEl(b.root, { short: false })),
  );

  const ids = b.tx_ids || [];
  const pages = Math.max(1, Math.ceil(ids.length / PER_PAGE));
  const p = Math.min(page, pages - 1);
  const slice = ids.slice(p * PER_PAGE, (p + 1) * PER_PAGE);
  const txBox = h('div', { id: 'block-txs' }, h('p', { class: 'muted', i18n: 'common.loading' }));
  const txPager = h('nav', { class: 'pager', i18nAttrs: { 'aria-label': 'block.tx_pages' } });
  if (pages > 1) {
    if (p > 0) txPager.append(h('a', { class: 'button secondary small', href: `/explorer/block.html?h=${height}&p=${p - 1}`, i18n: 'common.prev_page' }));
    txPager.append(h('span', { class: 'muted small', i18n: 'common.page_of', args: { page: p + 1, pages } }));
    if (p < pages - 1) txPager.append(h('a', { class: 'button secondary small', href: `/explorer/block.html?h=${height}&p=${p + 1}`, i18n: 'common.next_page' }));
  }

  fill(
    main,
    pageHead('block.title', { args: { height }, crumbs: [{ href: '/explorer/', key: 'nav.explorer' }] }),
    h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', { i18n: 'block.header' }), nav), facts, h('details', {}, h('summary', { i18n: 'block.checkpoint' }), h('pre', { class: 'small', id: 'block-checkpoint', text: b.checkpoint || '' }))),
    h('section', { class: 'card', 'aria-labelledby': 'txs-title' }, h('h2', { id: 'txs-title', i18n: 'block.txs', args: { n: ids.length } }), txBox, txPager),
  );

  const rows = await mapLimit(slice, PARALLEL, async (id, i) => {
    const leaf = b.first_leaf + p * PER_PAGE + i;
    const link = h('a', { href: `/explorer/tx.html?id=${id}`, class: 'hash', title: id, text: `${id.slice(0, 16)}…` });
    try {
      const r = await tx(id);
      return [{ content: numEl(r.leaf_index), class: 'num' }, link, moduleEl(r.tx.module), typeEl(r.tx.module, r.tx.type), h('span', { text: r.tx.org })];
    } catch (e) {
      return [{ content: numEl(leaf), class: 'num' }, link, { content: errorText(e), class: 'action-error' }, '', ''];
    }
  });
  fill(txBox, table(COLS, rows, { empty: 'block.no_txs' }));
});
