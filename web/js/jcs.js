// RFC 8785 JSON Canonicalization Scheme for the JSON the ledger holds (DESIGN §3.1): integers
// only (|n| ≤ 2^53 − 1), so numbers need no ECMAScript float formatting. Object members are
// sorted by UTF-16 code units (what Array.prototype.sort does with strings), no whitespace,
// strings escaped exactly as JSON.stringify does (RFC 8785 §3.2.2.2 is that algorithm).
// Pure: works in the browser and in Node.

export class JcsError extends Error {}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function str(s) {
  if (LONE_SURROGATE.test(s)) throw new JcsError('a string holds a lone surrogate');
  return JSON.stringify(s);
}

function ser(v, depth) {
  if (depth > 64) throw new JcsError('nested too deep');
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(v)) throw new JcsError(`not an integer within ±(2^53 − 1): ${v}`);
      return Object.is(v, -0) ? '0' : String(v);
    case 'string':
      return str(v);
    case 'object':
      if (Array.isArray(v)) return `[${v.map((x) => ser(x, depth + 1)).join(',')}]`;
      return `{${Object.keys(v)
        .sort()
        .map((k) => `${str(k)}:${ser(v[k], depth + 1)}`)
        .join(',')}}`;
    default:
      throw new JcsError(`cannot canonicalize a ${typeof v}`);
  }
}

// The canonical text of value. Throws JcsError for floats, huge integers, lone surrogates and
// values JSON cannot hold.
export function jcs(value) {
  return ser(value, 0);
}

// The canonical UTF-8 bytes of value.
export function jcsBytes(value) {
  return new TextEncoder().encode(jcs(value));
}
