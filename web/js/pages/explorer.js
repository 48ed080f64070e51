// 区块浏览器: search, the chain's status (height, tree size, latest checkpoint, validator keys)
// and the blocks, newest first, with pagination. New blocks appear without reloading: the
// newest page asks for /api/chain/blocks every 2 s.
import { h, fill, table, tableRow } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, errorText, showError } from '../api.js';
import { blocks, keys, timeEl, numEl, hashEl } from '../chain.js';
import { search } from '../search.js';

const PAGE = 20;
const POLL_MS = 2000;

const COLS = [
  { key: 'chain.block_height', class: 'num' },
  { key: 'chain.time' },
  { key: 'chain.n_txs', class: 'num' },
  { key: 'chain.tree_size', class: 'num hide-phone' },
  { key: 'chain.root', class: 'hide-phone' },
];

function blockRow(b, fresh) {
  return tableRow(
    COLS,
    [
      { content: h('a', { href: `/explorer/block.html?h=${b.height}`, 'data-height': b.height }, numEl(b.height)), class: 'num' },
      timeEl(b.time_ms),
      { content: numEl(b.n_txs), class: 'num' },
      { content: numEl(b.tree_size), class: 'num' },
      hashEl(b.root),
    ],
    { class: fresh ? 'fresh' : null, 'data-height': b.height },
  );
}

function searchForm() {
  const err = h('p', { class: 'action-error', id: 'search-error', role: 'alert' });
  const input = h('input', {
    id: 'q',
    name: 'q',
    type: 'search',
    autocomplete: 'off',
    spellcheck: 'false',
    i18nAttrs: { placeholder: 'explorer.search_placeholder' },
    'aria-describedby': 'search-hint search-error',
  });
  const form = h(
    'form',
    { role: 'search', id: 'search-form', class: 'card' },
    h('div', { class: 'field' }, h('label', { for: 'q', i18n: 'explorer.search_label' }), h('div', { class: 'search' }, input, h('button', { type: 'submit', i18n: 'explorer.search_button' })), h('span', { class: 'hint', id: 'search-hint', i18n: 'explorer.search_hint' })),
    err,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(err);
    try {
      const r = await search(input.value);
      if (r.url) location.href = r.url;
      else fill(err, h('span', { i18n: r.invalid ? 'explorer.search_invalid' : 'explorer.search_none' }));
    } catch (e) {
      showError(err, e);
    }
  });
  return form;
}

boot({ page: 'explorer', title: 'title.explorer' }, async (main) => {
  const params = new URLSearchParams(location.search);
  const before = /^[0-9]+$/.test(params.get('before') || '') ? Number(params.get('before')) : null;

  const stats = {
    height: h('dd', { id: 'stat-height' }),
    size: h('dd', { id: 'stat-size' }),
    time: h('dd', { id: 'stat-time', class: 'small' }),
    root: h('dd', { id: 'stat-root', class: 'hash' }),
  };
  const checkpointPre = h('pre', { id: 'checkpoint', class: 'small' });
  const keyList = h('ul', { class: 'key-list', id: 'validator-keys' });
  const statusErr = h('p', { class: 'action-error', role: 'alert' });
  const listEl = h('div', { id: 'blocks' });
  const pager = h('nav', { class: 'pager', i18nAttrs: { 'aria-label': 'explorer.pages' } });
  const live = h('span', { class: 'badge info', id: 'live', i18n: before === null ? 'explorer.live' : 'explorer.paused' });

  fill(
    main,
    pageHead('explorer.title', { lead: 'explorer.lead' }),
    searchForm(),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'status-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'status-title', i18n: 'explorer.status' })),
      h(
        'dl',
        { class: 'stats' },
        h('div', { class: 'stat' }, h('dt', { i18n: 'chain.height' }), stats.height),
        h('div', { class: 'stat' }, h('dt', { i18n: 'chain.tree_size' }), stats.size),
        h('div', { class: 'stat' }, h('dt', { i18n: 'chain.latest_time' }), stats.time),
        h('div', { class: 'stat' }, h('dt', { i18n: 'chain.root' }), stats.root),
      ),
      statusErr,
      h('details', {}, h('summary', { i18n: 'explorer.latest_checkpoint' }), h('p', { class: 'small muted', i18n: 'explorer.checkpoint_help' }), checkpointPre),
      h('h3', { i18n: 'explorer.validators' }),
      h('p', { class: 'small muted', i18n: 'explorer.validators_help' }),
      keyList,
    ),
    h('section', { class: 'card', 'aria-labelledby': 'blocks-title' }, h('div', { class: 'card-head' }, h('h2', { id: 'blocks-title', i18n: 'explorer.blocks' }), live), listEl, pager),
  );

  try {
    const k = String(await keys()).split('\n').filter((l) => l.trim() !== '');
    fill(keyList, k.length ? k.map((line) => h('li', { class: 'hash', text: line })) : h('li', { class: 'muted', i18n: 'explorer.no_keys' }));
  } catch (e) {
    fill(keyList, h('li', { class: 'action-error' }, errorText(e)));
  }

  let shownTop = null;
  let lastCheckpointHeight = null;

  function renderPager(list) {
    const items = [];
    if (before !== null) {
      items.push(h('a', { class: 'button secondary small', href: '/explorer/', i18n: 'explorer.newest' }));
      const newer = list.blocks.length ? list.blocks[0].height + PAGE + 1 : null;
      if (newer !== null) items.push(h('a', { class: 'button secondary small', href: `/explorer/?before=${newer}`, i18n: 'explorer.newer' }));
    }
    if (list.next_before !== null && list.next_before !== undefined) {
      items.push(h('a', { class: 'button secondary small', id: 'older', href: `/explorer/?before=${list.next_before}`, i18n: 'explorer.older' }));
    }
    fill(pager, items);
  }

  async function refreshStatus(top) {
    fill(stats.height, numEl(top.height));
    fill(stats.size, numEl(top.tree_size));
    fill(stats.time, timeEl(top.time_ms));
    fill(stats.root, hashEl(top.root));
    if (lastCheckpointHeight !== top.height) {
      checkpointPre.textContent = String(await get('/api/chain/checkpoint'));
      lastCheckpointHeight = top.height;
    }
  }

  async function load(first) {
    try {
      const list = await blocks(PAGE, before);
      const newest = before === null ? list : await blocks(1);
      if (newest.blocks.length) await refreshStatus(newest.blocks[0]);
      fill(statusErr);
      if (first || before === null) {
        const top = list.blocks.length ? list.blocks[0].height : null;
        if (first || top !== shownTop) {
          const rows = list.blocks.map((b) => blockRow(b, !first && shownTop !== null && b.height > shownTop));
          fill(listEl, table(COLS, rows, { empty: 'explorer.no_blocks' }));
          shownTop = top;
          renderPager(list);
        }
      }
    } catch (e) {
      fill(statusErr, errorText(e));
    }
  }

  await load(true);
  if (before === null) {
    const tick = async () => {
      await load(false);
      setTimeout(tick, POLL_MS);
    };
    setTimeout(tick, POLL_MS);
  } else {
    setInterval(() => load(false), POLL_MS * 5);
  }
});
