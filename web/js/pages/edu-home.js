// /edu/: the Education module. A registrar or issuer of a university issues one credential or a
// CSV batch (validated whole first, then sent in slices so the page can show progress) and
// searches what the university issued; a student sees their credentials; a regulator and the
// administrator see every one; anyone can go and verify a file.
import { h, fill, $, table } from '../dom.js';
import { boot, pageHead } from '../shell.js';
import { get, post, errorText, ApiError } from '../api.js';
import { field, onSubmit } from '../forms.js';
import { orgsOf, isOversight } from '../session.js';
import { KINDS, statusBadge } from '../edu.js';

const SLICE = 500; // rows per request of a batch upload
const COLS = [{ key: 'edu.field.name' }, { key: 'edu.field.student_number' }, { key: 'edu.field.kind' }, { key: 'edu.field.university' }, { key: 'edu.field.status' }, { key: 'edu.field.issued' }, { key: 'common.actions' }];

// Universities where user may issue.
const issuingOrgs = (user) => orgsOf(user).filter((o) => o.roles.includes('issuer') || o.roles.includes('registrar'));

// ---- the list ---------------------------------------------------------------------------

function listSection(user, orgs) {
  const list = h('div', { id: 'cred-list' }, h('p', { class: 'muted', i18n: 'common.loading' }));
  const q = h('input', { type: 'search', id: 'cred-q', name: 'q', i18nAttrs: { 'aria-label': 'edu.list.search', placeholder: 'edu.list.search_hint' } });
  const kind = h('select', { id: 'cred-kind', name: 'kind', i18nAttrs: { 'aria-label': 'edu.field.kind' } }, h('option', { value: '', i18n: 'edu.list.all_kinds' }), KINDS.map((k) => h('option', { value: k, i18n: `edu.kind.${k}` })));
  const status = h('select', { id: 'cred-status', name: 'status', i18nAttrs: { 'aria-label': 'edu.field.status' } }, h('option', { value: '', i18n: 'edu.list.all_states' }), ['valid', 'revoked', 'pending'].map((s) => h('option', { value: s, i18n: `edu.status.${s}` })));
  let before = null;
  const more = h('button', { type: 'button', class: 'secondary', id: 'cred-more', hidden: true, i18n: 'common.next_page' });
  async function load(append) {
    const p = new URLSearchParams({ limit: '50' });
    if (orgs.length === 1 && !isOversight(user)) p.set('org', orgs[0].org);
    if (q.value.trim()) p.set('q', q.value.trim());
    if (kind.value) p.set('kind', kind.value);
    if (status.value) p.set('status', status.value);
    if (append && before !== null) p.set('before', String(before));
    try {
      const r = await get(`/api/edu/credentials?${p}`);
      const rows = r.credentials.map((c) => [
        c.erased ? h('span', { class: 'muted', i18n: 'edu.erased' }) : h('span', { text: c.name }),
        h('span', { text: c.student_number || '—' }),
        h('span', { i18n: `edu.kind.${c.kind}` }),
        h('span', { text: c.org_name || c.org }),
        statusBadge(c.status),
        h('span', { 'data-ms': c.issued_ms || c.created_ms }),
        h('a', { href: `/edu/credential.html?id=${c.id}`, class: 'cred-link', i18n: 'edu.list.open' }),
      ]);
      const t = table(COLS, rows, { empty: user && user.principal ? 'edu.list.none_student' : 'edu.list.none' });
      if (append) $('tbody', list)?.append(...$('tbody', t)?.children || []);
      else fill(list, t);
      before = r.next_before;
      more.hidden = r.next_before === null;
    } catch (e) {
      fill(list, h('p', { class: 'action-error', role: 'alert' }, errorText(e)));
    }
  }
  more.addEventListener('click', () => load(true));
  const form = h('form', { class: 'inline-form', id: 'cred-search', role: 'search' }, q, kind, status, h('button', { type: 'submit', class: 'secondary', i18n: 'edu.list.search' }));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    load(false);
  });
  const title = user && user.principal && orgs.length === 0 ? 'edu.list.mine' : 'edu.list.title';
  return { el: h('section', { class: 'card', id: 'list', 'aria-labelledby': 'list-title' }, h('h2', { id: 'list-title', i18n: title }), form, list, more), load };
}

// ---- issuing one ---------------------------------------------------------------------------

// "Mechanics|4|A; Optics|2.5|B+" → [{name, credits, grade}]
function parseCourses(text) {
  return text
    .split(/[;\n]/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [name, credits, grade] = s.split('|').map((x) => (x || '').trim());
      return { name, credits, grade };
    });
}

function issueSection(orgs, onIssued) {
  const orgField = orgs.length > 1 ? field({ id: 'issue-org', name: 'org', label: 'edu.field.university', options: orgs.map((o) => ({ value: o.org, text: o.org_name || o.org })) }) : null;
  const result = h('div', { id: 'issue-result', role: 'status', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'stacked', id: 'issue-form', novalidate: true },
    orgField,
    field({ id: 'issue-kind', name: 'kind', label: 'edu.field.kind', options: KINDS.map((k) => ({ value: k, key: `edu.kind.${k}` })) }),
    field({ id: 'issue-name', name: 'name', label: 'edu.field.name', required: true }),
    field({ id: 'issue-number', name: 'student_number', label: 'edu.field.student_number', required: true }),
    field({ id: 'issue-degree', name: 'degree', label: 'edu.field.degree', optional: true }),
    field({ id: 'issue-major', name: 'major', label: 'edu.field.major', optional: true }),
    field({ id: 'issue-start', name: 'start_date', label: 'edu.field.start_date', type: 'date', optional: true }),
    field({ id: 'issue-end', name: 'end_date', label: 'edu.field.end_date', type: 'date', optional: true }),
    field({ id: 'issue-courses', name: 'courses', label: 'edu.field.courses', type: 'textarea', hint: 'edu.issue.courses_hint', optional: true }),
    field({ id: 'issue-student', name: 'student', label: 'edu.field.student', hint: 'edu.issue.student_hint', optional: true, attrs: { spellcheck: 'false', autocapitalize: 'none' } }),
    field({ id: 'issue-until', name: 'valid_until', label: 'edu.field.valid_until', type: 'date', optional: true }),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', id: 'issue-submit', i18n: 'edu.issue.submit' })),
  );
  onSubmit(
    form,
    (f) => {
      fill(result);
      const v = (n) => f.elements[n].value.trim();
      const body = { org: orgField ? v('org') : orgs[0].org, kind: v('kind'), name: v('name'), student_number: v('student_number') };
      for (const n of ['degree', 'major', 'start_date', 'end_date', 'student', 'valid_until']) if (v(n)) body[n] = v(n);
      if (v('courses')) body.courses = parseCourses(v('courses'));
      return post('/api/edu/credentials', body);
    },
    async (r) => {
      form.reset();
      fill(result, h('div', { class: 'notice' }, h('p', { i18n: 'edu.issue.done' }), h('a', { href: `/edu/credential.html?id=${r.id}`, id: 'issued-link', i18n: 'edu.list.open' })));
      await onIssued();
    },
  );
  return h('section', { class: 'card', id: 'issue', 'aria-labelledby': 'issue-title' }, h('h2', { id: 'issue-title', i18n: 'edu.issue.title' }), h('p', { class: 'small muted', i18n: 'edu.issue.help' }), form, result);
}

// ---- batch upload -------------------------------------------------------------------------------

// Splits CSV text into its header and records, each with the line it starts on (quoted line
// breaks stay inside their record), so the page can send slices and map the server's line
// numbers back to the file's.
export function csvRecords(text) {
  const out = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < text.length) {
    const start = i;
    const startLine = line;
    let quoted = false;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') quoted = !quoted;
      else if (c === '\n') {
        if (!quoted) break;
        line++;
      }
      i++;
    }
    const rec = text.slice(start, i).replace(/\r$/, '');
    i++; // the \n
    line++;
    if (rec.trim() !== '') out.push({ text: rec, line: startLine, lines: rec.split('\n').length });
  }
  return out;
}

function batchSection(orgs, csrf, onIssued) {
  const orgField = orgs.length > 1 ? field({ id: 'batch-org', name: 'org', label: 'edu.field.university', options: orgs.map((o) => ({ value: o.org, text: o.org_name || o.org })) }) : null;
  const file = h('input', { type: 'file', id: 'batch-file', name: 'file', accept: '.csv,text/csv', required: true, 'aria-describedby': 'batch-file-hint' });
  const validOnly = h('input', { type: 'checkbox', id: 'batch-valid-only', name: 'valid_only' });
  const bar = h('progress', { class: 'batch', id: 'batch-progress', max: '1', value: '0', hidden: true });
  const status = h('p', { id: 'batch-status', role: 'status', 'aria-live': 'polite' });
  const out = h('div', { id: 'batch-result' });
  const submit = h('button', { type: 'submit', id: 'batch-submit', i18n: 'edu.batch.submit' });
  const form = h(
    'form',
    { class: 'stacked', id: 'batch-form', novalidate: true },
    orgField,
    h('div', { class: 'field' }, h('label', { for: 'batch-file', i18n: 'edu.batch.file' }), file, h('span', { class: 'hint', id: 'batch-file-hint', i18n: 'edu.batch.columns' })),
    h('div', { class: 'field' }, h('label', {}, validOnly, ' ', h('span', { i18n: 'edu.batch.valid_only' }))),
    h('div', { class: 'form-actions' }, submit),
  );
  const errorsList = (errors, total) =>
    h('div', { class: 'notice error', id: 'batch-errors' }, h('p', { i18n: 'edu.batch.errors', args: { n: total } }), h('ol', { class: 'errors-list' }, errors.map((e) => h('li', { 'data-line': e.line }, h('span', { i18n: 'edu.batch.line', args: { line: e.line } }), ' ', h('code', { text: e.field }), ' ', h('span', { text: e.message })))));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fill(out);
    fill(status);
    if (!file.files[0]) {
      fill(status, h('span', { class: 'action-error', i18n: 'edu.batch.no_file' }));
      return;
    }
    const org = orgField ? form.elements.org.value : orgs[0].org;
    const text = await file.files[0].text();
    const recs = csvRecords(text);
    if (recs.length < 2) {
      fill(status, h('span', { class: 'action-error', i18n: 'edu.batch.empty' }));
      return;
    }
    const [header, ...rows] = recs;
    const send = (body, extra) =>
      fetch(`/api/edu/credentials/batch?org=${encodeURIComponent(org)}${extra}`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'text/csv; charset=utf-8', 'X-CSRF-Token': csrf || '' },
        body,
      }).then(async (r) => ({ status: r.status, body: await r.json().catch(() => ({})) }));
    submit.disabled = true;
    try {
      // 1. the whole file, validated (nothing issued)
      fill(status, h('span', { i18n: 'edu.batch.checking', args: { n: rows.length } }));
      const dry = await send(text, '&dry_run=1');
      if (dry.status !== 200) throw new ApiError(dry.status, dry.body.error?.code, dry.body.error?.message, dry.body.error?.detail);
      if (dry.body.errors_total > 0) {
        fill(out, errorsList(dry.body.errors, dry.body.errors_total));
        if (!validOnly.checked) {
          fill(status, h('span', { i18n: 'edu.batch.nothing_issued' }));
          return;
        }
      }
      const bad = new Set((dry.body.errors || []).map((e) => e.line));
      const todo = rows.filter((r) => !bad.has(r.line));
      // 2. the valid rows, in slices: the bar moves as each slice's block commits
      bar.hidden = false;
      bar.max = todo.length;
      bar.value = 0;
      let issued = 0;
      const refused = [];
      for (let i = 0; i < todo.length; i += SLICE) {
        const slice = todo.slice(i, i + SLICE);
        const lineMap = new Map(); // line in the slice → line in the file
        let at = header.lines + 1;
        for (const r of slice) {
          lineMap.set(at, r.line);
          at += r.lines;
        }
        const r = await send(`${header.text}\n${slice.map((x) => x.text).join('\n')}\n`, validOnly.checked ? '&valid_only=1' : '');
        if (r.status !== 201 && r.status !== 409) throw new ApiError(r.status, r.body.error?.code, r.body.error?.message, r.body.error?.detail);
        issued += r.body.issued || 0;
        for (const x of r.body.refused || []) refused.push({ ...x, line: lineMap.get(x.line) || x.line });
        bar.value = Math.min(todo.length, i + slice.length);
        fill(status, h('span', { i18n: 'edu.batch.progress', args: { done: bar.value, total: todo.length } }));
      }
      fill(status, h('span', { id: 'batch-done', 'data-issued': issued, i18n: 'edu.batch.done', args: { n: issued } }));
      if (refused.length) out.append(errorsList(refused.map((x) => ({ line: x.line, field: x.code, message: x.message })), refused.length));
      await onIssued();
    } catch (e) {
      fill(status, h('span', { class: 'action-error', role: 'alert' }, errorText(e)));
    } finally {
      submit.disabled = false;
    }
  });
  return h(
    'section',
    { class: 'card', id: 'batch', 'aria-labelledby': 'batch-title' },
    h('h2', { id: 'batch-title', i18n: 'edu.batch.title' }),
    h('p', { class: 'small muted', i18n: 'edu.batch.help' }),
    form,
    bar,
    status,
    out,
  );
}

boot({ page: 'edu', title: 'title.edu' }, async (main, user) => {
  const orgs = issuingOrgs(user);
  const verifyCard = h(
    'section',
    { class: 'card', id: 'verify-card' },
    h('h2', { i18n: 'edu.verify.title' }),
    h('p', { i18n: 'edu.home.verify_text' }),
    h('a', { class: 'button', href: '/edu/verify/', id: 'verify-link', i18n: 'edu.home.verify_go' }),
  );
  if (!user) {
    fill(
      main,
      pageHead('module.edu.name', { lead: 'module.edu.what' }),
      h('div', { class: 'grid two' }, verifyCard, h('section', { class: 'card' }, h('h2', { i18n: 'edu.home.who_title' }), h('p', { i18n: 'edu.home.who_text' }), h('a', { class: 'button secondary', href: '/login/?next=%2Fedu%2F', i18n: 'shell.login' }))),
    );
    return;
  }
  const list = listSection(user, orgs);
  const parts = [pageHead('module.edu.name', { lead: 'module.edu.what' })];
  if (orgs.length) parts.push(h('div', { class: 'grid two' }, issueSection(orgs, () => list.load(false)), batchSection(orgs, user.csrf, () => list.load(false))));
  parts.push(h('div', { class: 'grid main-side' }, list.el, verifyCard));
  fill(main, parts);
  await list.load(false);
});
