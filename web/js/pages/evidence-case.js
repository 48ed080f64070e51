// /evidence/case.html?id=<uuid>: one case. Its court's members and the lawyers and notaries it
// was granted to preserve files: each file is hashed here, in the browser, in slices with a
// progress bar (the file itself is not sent), then its hash and description become an
// evidence item on the ledger. The court grants the case to lawyers and notaries.
import { h, fill, $, table } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, post, postBlob, errorText, ApiError } from '../api.js';
import { field, onSubmit } from '../forms.js';
import { timeEl, hashEl } from '../chain.js';
import { KINDS, kindEl, stateBadge, hashFile, sizeText } from '../evidence.js';

const ITEM_COLS = [{ key: 'evidence.field.title' }, { key: 'evidence.field.kind' }, { key: 'evidence.field.size' }, { key: 'evidence.field.sha256' }, { key: 'evidence.field.state' }, { key: 'evidence.field.preserved' }, { key: 'common.actions' }];

// A kind guessed from a MIME type.
function guessKind(type) {
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('audio/')) return 'audio';
  if (type.startsWith('video/')) return 'video';
  if (type === 'message/rfc822') return 'email';
  if (type === 'text/html') return 'web_capture';
  return 'document';
}

function itemsSection(caseId) {
  const list = h('div', { id: 'item-list' }, h('p', { class: 'muted', i18n: 'common.loading' }));
  async function load() {
    try {
      const r = await get(`/api/evidence/items?case=${caseId}&limit=200`);
      const rows = r.items.map((i) => [
        h('span', { text: i.title }),
        kindEl(i.kind),
        h('span', { text: sizeText(i.size) }),
        hashEl(i.sha256),
        stateBadge(i.state),
        timeEl(i.anchored_ms),
        h('a', { href: `/evidence/item.html?id=${i.id}`, class: 'item-link', i18n: 'evidence.list.open' }),
      ]);
      fill(list, table(ITEM_COLS, rows, { empty: 'evidence.items.none' }));
    } catch (e) {
      fill(list, h('p', { class: 'action-error', role: 'alert' }, errorText(e)));
    }
  }
  return { el: h('section', { class: 'card', id: 'items', 'aria-labelledby': 'items-title' }, h('h2', { id: 'items-title', i18n: 'evidence.items.title' }), list), load };
}

function preserveSection(caseId, onDone) {
  const files = h('input', { type: 'file', id: 'files', name: 'files', multiple: true, 'aria-describedby': 'files-hint' });
  const fileList = h('ul', { class: 'file-list', id: 'file-list', 'aria-live': 'polite' });
  const result = h('div', { id: 'preserve-result', role: 'status', 'aria-live': 'polite' });
  let picked = []; // [{file, hash: Promise<string>}]
  files.addEventListener('change', () => {
    fill(fileList);
    picked = [...files.files].map((file, n) => {
      const bar = h('progress', { max: '1', value: '0', id: `file-progress-${n}`, class: 'file-progress', i18nAttrs: { 'aria-label': 'evidence.preserve.hashing' } });
      const hashOut = h('span', { class: 'hash', id: `file-hash-${n}` }, h('span', { class: 'muted', i18n: 'evidence.preserve.hashing' }));
      fileList.append(h('li', {}, h('span', { text: `${file.name} · ${sizeText(file.size)}` }), bar, hashOut));
      const hash = hashFile(file, (f) => (bar.value = f)).then((hex) => {
        fill(hashOut, h('span', { text: hex }));
        return hex;
      });
      return { file, hash };
    });
  });
  const form = h(
    'form',
    { id: 'preserve-form', class: 'stacked' },
    h('div', { class: 'field' }, h('label', { for: 'files', i18n: 'evidence.preserve.files' }), files, h('span', { class: 'hint', id: 'files-hint', i18n: 'evidence.preserve.files_hint' }), h('span', { class: 'field-error', id: 'files-error' })),
    fileList,
    field({ id: 'item-kind', name: 'kind', label: 'evidence.field.kind', options: [{ value: '', key: 'evidence.preserve.kind_auto' }, ...KINDS.map((k) => ({ value: k, key: `evidence.kind.${k}` }))] }),
    field({ id: 'item-captured', name: 'captured', label: 'evidence.field.captured', type: 'datetime-local', optional: true }),
    field({ id: 'item-method', name: 'method', label: 'evidence.field.capture_method', optional: true, hint: 'evidence.preserve.method_hint' }),
    field({ id: 'item-description', name: 'description', label: 'evidence.field.description', type: 'textarea', optional: true }),
    h('div', { class: 'field' }, h('label', {}, h('input', { type: 'checkbox', id: 'store-copy', name: 'store_copy' }), ' ', h('span', { i18n: 'evidence.preserve.store_copy' })), h('span', { class: 'hint', i18n: 'evidence.preserve.store_copy_hint' })),
    h('button', { type: 'submit', id: 'preserve-submit', i18n: 'evidence.preserve.submit' }),
  );
  onSubmit(
    form,
    async (f) => {
      if (!picked.length) throw new ApiError(422, 'no_files', 'choose at least one file', 'files');
      const captured = f.captured.value ? new Date(f.captured.value).getTime() : undefined;
      const done = [];
      for (const p of picked) {
        const sha256 = await p.hash;
        const body = { case: caseId, sha256, title: p.file.name, kind: f.kind.value || guessKind(p.file.type || ''), original_name: p.file.name, size: p.file.size, mime: p.file.type || 'application/octet-stream', capture_method: f.method.value.trim(), description: f.description.value.trim() };
        if (captured !== undefined) body.captured_ms = captured;
        const r = await post('/api/evidence/items', body);
        if (f.store_copy.checked) await postBlob(`/api/evidence/items/${r.id}/copy`, p.file);
        done.push({ name: p.file.name, r });
      }
      return done;
    },
    async (done) => {
      fill(result, h('p', { class: 'ok', i18n: 'evidence.preserve.done', args: { n: done.length } }), h('ul', { id: 'preserved' }, done.map((d) => h('li', {}, h('a', { href: `/evidence/item.html?id=${d.r.id}`, text: `${d.name} — ${d.r.certificate_number}` })))));
      form.reset();
      picked = [];
      await onDone();
    },
  );
  return h('section', { class: 'card', id: 'preserve', 'aria-labelledby': 'preserve-title' }, h('h2', { id: 'preserve-title', i18n: 'evidence.preserve.title' }), h('p', { class: 'muted', i18n: 'evidence.preserve.lead' }), form, result);
}

function grantSection(caseId, onDone) {
  const form = h(
    'form',
    { id: 'grant-form', class: 'inline-form' },
    field({ id: 'grant-username', name: 'username', label: 'evidence.grant.username', required: true }),
    field({ id: 'grant-party', name: 'party', label: 'evidence.grant.party', optional: true }),
    h('button', { type: 'submit', id: 'grant-submit', class: 'secondary', i18n: 'evidence.grant.submit' }),
  );
  onSubmit(form, (f) => post(`/api/evidence/cases/${caseId}/grants`, { username: f.username.value.trim(), party: f.party.value.trim() }), onDone);
  return form;
}

boot({ page: 'evidence', title: 'title.evidence_case', needsLogin: true }, async (main) => {
  const id = (new URLSearchParams(location.search).get('id') || '').toLowerCase();
  const crumbs = [{ href: '/evidence/', key: 'nav.evidence' }];
  async function render() {
    let c;
    try {
      if (!/^[0-9a-f-]{36}$/.test(id)) throw new Error('id');
      c = await get(`/api/evidence/cases/${id}`);
    } catch (e) {
      fill(main, pageHead('evidence.case.not_found', { crumbs }), h('div', { class: 'card' }, h('p', { class: 'action-error', role: 'alert' }, errorText(e))));
      return;
    }
    const items = itemsSection(id);
    const grants = h(
      'ul',
      { id: 'grants' },
      c.grants.length ? c.grants.map((g) => h('li', {}, h('span', { text: `${g.username} · ${g.org_name || g.org}${g.party ? ` · ${g.party}` : ''}` }))) : h('li', { class: 'muted', i18n: 'evidence.grant.none' }),
    );
    const info = h(
      'section',
      { class: 'card', id: 'case-info' },
      h(
        'dl',
        { class: 'facts' },
        h('dt', { i18n: 'evidence.field.number' }),
        h('dd', { id: 'case-number', text: c.number }),
        h('dt', { i18n: 'evidence.field.court' }),
        h('dd', { text: c.court_name || c.court }),
        h('dt', { i18n: 'evidence.field.parties' }),
        h('dd', { text: c.parties.join('、') || '—' }),
        h('dt', { i18n: 'evidence.field.opened' }),
        h('dd', {}, timeEl(c.created_ms), ` · ${c.created_by}`),
      ),
      h('h3', { i18n: 'evidence.grant.title' }),
      grants,
      c.may_write && c.acting_org === c.court ? grantSection(id, render) : null,
    );
    fill(main, pageHead('evidence.case.title', { crumbs, args: { title: c.title } }), info, c.may_write ? preserveSection(id, () => items.load()) : null, items.el);
    await items.load();
  }
  await render();
});
