// One tx (?id=<64 hex>): what it says, and a check in this browser, with WebCrypto, that it is
// in the ledger exactly as shown (docs/LEDGER.md §7): leaf hash, tx signature, checkpoint
// signature by a validator key, inclusion proof, and the signer's authority from the key
// history. Each step shows ✓ or ✗ with the reason.
import { h, fill, $ } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, errorText, ApiError } from '../api.js';
import { tx as getTx, keys, timeEl, numEl, moduleEl, typeEl } from '../chain.js';
import { jcs } from '../jcs.js';
import { isTxId } from '../format.js';
import { checkLeaf, checkTxSignature, checkCheckpoint, checkInclusion, checkAuthorisation, subtle } from '../verify.js';

const STEPS = ['leaf', 'sig', 'checkpoint', 'inclusion', 'auth'];

function checkRow(step) {
  return h(
    'li',
    { class: 'check pending', id: `check-${step}`, 'data-step': step, 'data-state': 'pending' },
    h('span', { class: 'check-mark', 'aria-hidden': 'true', text: '…' }),
    h('div', {}, h('div', { class: 'check-name', i18n: `verify.step.${step}` }), h('div', { class: 'check-detail', i18n: 'verify.running' })),
  );
}

function showResult(row, r) {
  row.className = `check ${r.ok ? 'ok' : 'bad'}`;
  row.dataset.state = r.ok ? 'ok' : 'bad';
  row.querySelector('.check-mark').textContent = r.ok ? '✓' : '✗';
  fill(
    row.querySelector('.check-detail'),
    h('span', { class: 'visually-hidden', i18n: r.ok ? 'verify.passed' : 'verify.failed' }),
    h('span', { i18n: r.key, args: r.args }),
  );
}

async function verify(id, tx, panel) {
  const verdict = $('#verdict', panel);
  const rows = Object.fromEntries(STEPS.map((s) => [s, checkRow(s)]));
  fill($('#checks', panel), STEPS.map((s) => rows[s]));
  verdict.className = 'verdict pending';
  fill(verdict, h('span', { i18n: 'verify.running' }));
  verdict.dataset.state = 'pending';
  try {
    subtle();
  } catch {
    verdict.className = 'verdict bad';
    verdict.dataset.state = 'unavailable';
    fill(verdict, h('span', { i18n: 'verify.no_webcrypto' }));
    return;
  }
  const results = [];
  const put = (r) => {
    results.push(r);
    showResult(rows[r.step], r);
  };
  try {
    const [proof, keysText] = await Promise.all([get(`/api/chain/proof/${id}`), keys()]);
    put(await checkLeaf(id, tx, proof));
    put(await checkTxSignature(tx));
    const cp = await checkCheckpoint(proof.checkpoint, keysText, tx.chain);
    put(cp.result);
    put(await checkInclusion(proof, cp.cp));
    const bundle = await get(`/api/chain/bundle/${id}`);
    const bcp = await checkCheckpoint(bundle.checkpoint, keysText, tx.chain);
    if (!bcp.result.ok) put({ step: 'auth', ok: false, key: 'verify.auth.bad_checkpoint' });
    else put(await checkAuthorisation(bundle, bcp.cp));
    const ok = results.every((r) => r.ok);
    verdict.className = `verdict ${ok ? 'ok' : 'bad'}`;
    verdict.dataset.state = ok ? 'ok' : 'bad';
    const firstBad = results.find((r) => !r.ok);
    if (ok) fill(verdict, h('span', { i18n: 'verify.all_ok', args: { size: proof.tree_size } }));
    else fill(verdict, h('span', { i18n: 'verify.some_bad' }), ' ', h('span', { i18n: `verify.step.${firstBad.step}` }));
  } catch (e) {
    for (const s of STEPS) if (rows[s].dataset.state === 'pending') showResult(rows[s], { step: s, ok: false, key: 'verify.not_run' });
    verdict.className = 'verdict bad';
    verdict.dataset.state = 'error';
    fill(verdict, h('span', { i18n: 'verify.fetch_failed' }), ' ', errorText(e));
  }
}

boot({ page: 'explorer', title: 'title.tx' }, async (main) => {
  const id = (new URLSearchParams(location.search).get('id') || '').toLowerCase();
  const crumbs = [{ href: '/explorer/', key: 'nav.explorer' }];
  if (!isTxId(id)) {
    fill(main, pageHead('tx.not_found_title', { crumbs }), h('div', { class: 'card' }, h('p', { i18n: 'tx.bad_id' })));
    return;
  }
  let r;
  try {
    r = await getTx(id);
  } catch (e) {
    const nf = e instanceof ApiError && e.status === 404;
    fill(main, pageHead('tx.not_found_title', { crumbs }), h('div', { class: 'card' }, nf ? h('p', { i18n: 'tx.not_found' }) : h('p', { class: 'action-error', role: 'alert' }, errorText(e))));
    return;
  }
  const t = r.tx;
  crumbs.push({ href: `/explorer/block.html?h=${r.height}`, key: 'tx.crumb_block', args: { height: r.height } });

  const facts = h(
    'dl',
    { class: 'facts', id: 'tx-facts' },
    h('dt', { i18n: 'chain.tx_id' }),
    h('dd', { class: 'hash', id: 'tx-id', text: id }),
    h('dt', { i18n: 'chain.module' }),
    h('dd', { id: 'tx-module' }, moduleEl(t.module), ' ', h('code', { class: 'small muted', text: t.module })),
    h('dt', { i18n: 'chain.type' }),
    h('dd', { id: 'tx-type' }, typeEl(t.module, t.type)),
    h('dt', { i18n: 'tx.org' }),
    h('dd', { id: 'tx-org' }, h('span', { text: t.org })),
    h('dt', { i18n: 'tx.signer' }),
    h('dd', { class: 'hash', id: 'tx-signer', text: t.signer }),
    h('dt', { i18n: 'chain.time' }),
    h('dd', { id: 'tx-time' }, timeEl(t.time), ' · ', h('span', { class: 'muted small', i18n: 'chain.ledger_ms', args: { ms: t.time } })),
    h('dt', { i18n: 'chain.block_height' }),
    h('dd', {}, h('a', { href: `/explorer/block.html?h=${r.height}`, id: 'tx-block' }, numEl(r.height))),
    h('dt', { i18n: 'chain.leaf_index' }),
    h('dd', { id: 'tx-leaf' }, numEl(r.leaf_index)),
    h('dt', { i18n: 'tx.chain' }),
    h('dd', { text: t.chain }),
  );

  const panel = h(
    'section',
    { class: 'card', id: 'verify', 'aria-labelledby': 'verify-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'verify-title', i18n: 'verify.title' }), h('button', { type: 'button', class: 'secondary small', id: 'reverify', i18n: 'verify.again' })),
    h('p', { class: 'small muted', i18n: 'verify.lead' }),
    h('div', { class: 'verdict pending', id: 'verdict', role: 'status', 'aria-live': 'polite' }),
    h('ol', { class: 'checks', id: 'checks' }),
    h('p', { class: 'small' }, h('a', { href: `/api/chain/bundle/${id}`, download: `lianxin-${id.slice(0, 12)}.json`, id: 'bundle-link', i18n: 'verify.bundle' }), ' — ', h('span', { class: 'muted', i18n: 'verify.bundle_help' })),
  );

  let leafText = '';
  try {
    leafText = jcs(t);
  } catch {
    leafText = JSON.stringify(t);
  }
  fill(
    main,
    pageHead('tx.title', { crumbs }),
    h(
      'div',
      { class: 'grid main-side' },
      h(
        'div',
        {},
        h('section', { class: 'card' }, h('h2', { i18n: 'tx.summary' }), facts),
        h('section', { class: 'card' }, h('h2', { i18n: 'tx.body' }), h('pre', { id: 'tx-body', text: JSON.stringify(t.body, null, 2) }), h('details', {}, h('summary', { i18n: 'tx.raw' }), h('p', { class: 'small muted', i18n: 'tx.raw_help' }), h('pre', { class: 'small', id: 'tx-raw', text: leafText }))),
      ),
      panel,
    ),
  );
  $('#reverify', panel).addEventListener('click', () => verify(id, t, panel));
  await verify(id, t, panel);
});
