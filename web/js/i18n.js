// The two languages. Every visible string comes from web/i18n/zh.js or en.js (flat objects of
// "area.name" keys; tests/e2e/i18n.test.mjs checks that both have the same keys). Chinese is the
// default; the choice is remembered in localStorage.
//
// Elements built with dom.js h(…, {i18n: key}) keep their key in data-i18n (parameters in
// data-i18n-args, translated attributes in data-i18n-attrs) and times keep their Unix ms in
// data-ms, so setLang() re-translates the page in place without losing what is on it.
import zh from '../i18n/zh.js';
import en from '../i18n/en.js';

export const DICTS = { zh, en };
const KEY = 'lx.lang';
const listeners = [];

function stored() {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

let current = stored() === 'en' ? 'en' : 'zh';

export function lang() {
  return current;
}

export function locale() {
  return current === 'zh' ? 'zh-CN' : 'en-GB';
}

// A parameter's text: "@key" stands for that key's text (so it follows a language switch).
function argText(v) {
  return typeof v === 'string' && v.startsWith('@') ? t(v.slice(1)) : String(v);
}

// The text of key in the current language with {name} replaced from args. A key missing from
// the dictionary gives fallback when one is given, else the key itself (the i18n test keeps
// that from happening).
export function t(key, args, fallback) {
  let s = DICTS[current][key];
  if (s === undefined) s = fallback !== undefined ? fallback : key;
  if (args) s = s.replace(/\{(\w+)\}/g, (m, n) => (n in args ? argText(args[n]) : m));
  return s;
}

export function has(key) {
  return key in DICTS[current];
}

export function onLangChange(fn) {
  listeners.push(fn);
}

export function setLang(l) {
  if (l !== 'zh' && l !== 'en') return;
  current = l;
  try {
    localStorage.setItem(KEY, l);
  } catch {
    // private mode: the choice lasts for this page only
  }
  applyI18n(document);
  for (const fn of listeners) fn(l);
}

// Date and time in the reader's time zone and language.
export function formatTime(ms) {
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return String(ms);
  return new Intl.DateTimeFormat(locale(), {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
    timeZoneName: 'short',
  }).format(d);
}

export function formatNumber(n) {
  return new Intl.NumberFormat(locale()).format(n);
}

// Re-translates everything under root that carries a key, and re-formats times and numbers.
export function applyI18n(root) {
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  for (const el of root.querySelectorAll('[data-i18n]')) {
    const args = el.dataset.i18nArgs ? JSON.parse(el.dataset.i18nArgs) : undefined;
    el.textContent = t(el.dataset.i18n, args, el.dataset.i18nFallback);
  }
  for (const el of root.querySelectorAll('[data-i18n-attrs]')) {
    for (const pair of el.dataset.i18nAttrs.split(';')) {
      const i = pair.indexOf('=');
      if (i > 0) el.setAttribute(pair.slice(0, i), t(pair.slice(i + 1)));
    }
  }
  for (const el of root.querySelectorAll('[data-ms]')) el.textContent = formatTime(el.dataset.ms);
  for (const el of root.querySelectorAll('[data-num]')) el.textContent = formatNumber(Number(el.dataset.num));
}
