// Formatting shared by every page and module. The ledger holds integers only (DESIGN §3.1):
// money in fen (CNY/100), energy in Wh, prices in fen per kWh, times in Unix ms. These helpers
// turn them into text with exact integer arithmetic (no floating point on money), and parse
// what a person types back into integers.

function group(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function split(n, scale, decimals) {
  const big = BigInt(n);
  const neg = big < 0n;
  const abs = neg ? -big : big;
  const whole = abs / scale;
  const frac = (abs % scale).toString().padStart(decimals, '0');
  return { neg, whole: group(whole.toString()), frac };
}

// 123456 fen → "¥1,234.56"; -5 → "-¥0.05".
export function formatFen(fen) {
  if (!Number.isSafeInteger(Number(fen))) return String(fen);
  const { neg, whole, frac } = split(fen, 100n, 2);
  return `${neg ? '-' : ''}¥${whole}.${frac}`;
}

// 1234567 Wh → "1,234.567 kWh".
export function formatWh(wh) {
  if (!Number.isSafeInteger(Number(wh))) return String(wh);
  const { neg, whole, frac } = split(wh, 1000n, 3);
  return `${neg ? '-' : ''}${whole}.${frac} kWh`;
}

// A price in fen per kWh → "¥0.45/kWh".
export function formatFenPerKwh(fen) {
  return `${formatFen(fen)}/kWh`;
}

function parseDecimal(text, decimals) {
  const s = String(text).trim().replace(/,/g, '').replace(/^¥/, '');
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(s);
  if (!m || (m[3] && m[3].length > decimals)) return null;
  const v = BigInt(m[2]) * 10n ** BigInt(decimals) + BigInt((m[3] || '').padEnd(decimals, '0') || '0');
  const n = Number(m[1] ? -v : v);
  return Number.isSafeInteger(n) ? n : null;
}

// "1,234.5" or "¥12" → fen (123450, 1200); null when not an amount with at most 2 decimals.
export function parseYuanToFen(text) {
  return parseDecimal(text, 2);
}

// "1.5" kWh → 1500 Wh; null when not a number with at most 3 decimals.
export function parseKwhToWh(text) {
  return parseDecimal(text, 3);
}

// "e794ab84…bd0600" for a long hex or base64 string; the full value belongs in a title.
export function shortHash(s, head = 8, tail = 6) {
  s = String(s || '');
  return s.length <= head + tail + 1 ? s : `${s.slice(0, head)}…${s.slice(-tail)}`;
}

export function isTxId(s) {
  return /^[0-9a-f]{64}$/.test(s);
}
