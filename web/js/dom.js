// Building DOM without innerHTML: h('a', {href, i18n: 'nav.explorer'}, child, …).
//
// Props: class, i18n (a dictionary key: the text, kept in data-i18n so a language switch can
// redo it), args (its parameters), fallback (the text when the key is not in the dictionary), i18nAttrs ({attribute: key}: translated attributes such as
// placeholder, aria-label or a table cell's data-label), text (plain text, never translated),
// on ({event: handler}), data-ms (a Unix ms time, shown in local time) and data-num (a number,
// grouped the reader's way), and any other name: an attribute (false/null/undefined: left out).
import { t, formatTime, formatNumber } from './i18n.js';

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = value;
    else if (name === 'i18n') el.dataset.i18n = value;
    else if (name === 'args') el.dataset.i18nArgs = JSON.stringify(value);
    else if (name === 'fallback') el.dataset.i18nFallback = value;
    else if (name === 'i18nAttrs') {
      el.dataset.i18nAttrs = Object.entries(value).map(([a, k]) => `${a}=${k}`).join(';');
    } else if (name === 'text') el.textContent = String(value);
    else if (name === 'on') {
      for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    } else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  if (el.dataset.i18n) el.textContent = t(el.dataset.i18n, props.args, props.fallback);
  if (el.dataset.i18nAttrs) translateAttrs(el);
  if (el.dataset.ms) el.textContent = formatTime(el.dataset.ms);
  if (el.dataset.num) el.textContent = formatNumber(Number(el.dataset.num));
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// Replaces el's children.
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function translateAttrs(el) {
  for (const pair of el.dataset.i18nAttrs.split(';')) {
    const i = pair.indexOf('=');
    if (i > 0) el.setAttribute(pair.slice(0, i), t(pair.slice(i + 1)));
  }
}

export function $(sel, root = document) {
  return root.querySelector(sel);
}

export function $$(sel, root = document) {
  return [...root.querySelectorAll(sel)];
}

// A table whose cells carry their column label (phones show rows as cards).
// cols: [{key: i18n key, class}]; rows: <tr> elements (from tableRow) or arrays of cell
// contents (Node, string, or {content, class}).
export function table(cols, rows, { empty = 'common.empty', className = 'stack' } = {}) {
  if (rows.length === 0) return h('p', { class: 'empty', i18n: empty });
  const head = h('tr', {}, cols.map((c) => h('th', { scope: 'col', class: c.class, i18n: c.key })));
  const body = rows.map((r) => (r instanceof Node ? r : tableRow(cols, r)));
  return h('div', { class: 'table-wrap' }, h('table', { class: className }, h('thead', {}, head), h('tbody', {}, body)));
}

export function tableRow(cols, cells, props = {}) {
  return h(
    'tr',
    props,
    cells.map((cell, i) => {
      const c = cols[i] || {};
      const isObj = cell && typeof cell === 'object' && !(cell instanceof Node) && 'content' in cell;
      return h(
        'td',
        { class: [c.class, isObj ? cell.class : null].filter(Boolean).join(' ') || null, i18nAttrs: { 'data-label': c.key } },
        isObj ? cell.content : cell,
      );
    }),
  );
}
