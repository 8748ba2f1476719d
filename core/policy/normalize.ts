// Canonicalise a Docker API request target the way dockerd's router sees it (not the way WHATWG URL does):
// absolute-form targets are reduced to path + query, the path is percent-decoded (including %2F) before routing,
// a leading /vX.Y is stripped, and anything dockerd would answer with a redirect (`.`/`..` segments, `//`) or that
// does not decode cleanly is refused, so what we decide on is exactly what the daemon will act on.
import { wingmanError } from '../errors.js';

export interface NormalizedTarget {
  /** decoded path without the version prefix, e.g. `/containers/web/json` */
  path: string;
  /** the API version from the prefix (`1.47`), or undefined when unversioned */
  version: string | undefined;
  /** query pairs in order, decoded with Go's url.ParseQuery rules ('+' is a space) */
  query: Array<[string, string]>;
}

const VERSION = /^\/v([0-9.]+)(?=\/)/;

function bad(detail: string): never {
  throw wingmanError('WGM_ERR_PROXY_BAD_PATH', detail);
}

/** Strict percent-decoding: every % must start a valid escape and the result must be valid UTF-8. */
export function strictDecode(s: string, plusIsSpace: boolean): string {
  if (!s.includes('%') && !(plusIsSpace && s.includes('+'))) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) bad('invalid percent-escape');
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (plusIsSpace && c === 0x2b) {
      bytes.push(0x20);
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      for (const b of Buffer.from(s[i], 'utf8')) bytes.push(b);
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return bad('percent-escapes do not decode to UTF-8');
  }
}

export function parseQuery(raw: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (raw === '') return out;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    // Go (>= 1.17) refuses ';' as a separator; refusing it here keeps us from splitting differently than dockerd.
    if (part.includes(';')) bad('semicolon in query');
    const eq = part.indexOf('=');
    const k = strictDecode(eq < 0 ? part : part.slice(0, eq), true);
    const v = eq < 0 ? '' : strictDecode(part.slice(eq + 1), true);
    out.push([k, v]);
  }
  return out;
}

export function normalizeTarget(target: string): NormalizedTarget {
  if (typeof target !== 'string' || target.length === 0) bad('empty request target');
  if (target.length > 8192) bad('request target too long');
  let rest = target;
  // Absolute-form (`GET http://docker/containers/json`): dockerd routes on the path part only.
  const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(rest);
  if (abs) rest = rest.slice(abs[0].length) || '/';
  if (!rest.startsWith('/')) bad('request target must be a path');
  if (rest.includes('#')) bad('fragment in request target');
  // Control characters and spaces never belong in a target; the HTTP parser should have refused them already.
  if (/[\x00-\x20\x7f]/.test(rest)) bad('control character in request target');
  const q = rest.indexOf('?');
  const rawPath = q < 0 ? rest : rest.slice(0, q);
  const rawQuery = q < 0 ? '' : rest.slice(q + 1);
  const decoded = strictDecode(rawPath, false);
  if (/[\x00-\x1f\x7f]/.test(decoded)) bad('control character in decoded path');
  if (decoded.includes('//')) bad('empty path segment (//)');
  for (const seg of decoded.split('/')) {
    if (seg === '.' || seg === '..') bad('dot segment in path');
  }
  let path = decoded;
  let version: string | undefined;
  const m = VERSION.exec(path);
  if (m) {
    version = m[1];
    path = path.slice(m[0].length);
  }
  return { path, version, query: parseQuery(rawQuery) };
}

/** Go's url.Values.Get: the first value for a key, '' when absent. */
export function queryGet(query: Array<[string, string]>, key: string): string {
  for (const [k, v] of query) if (k === key) return v;
  return '';
}

export function queryHas(query: Array<[string, string]>, key: string): boolean {
  return query.some(([k]) => k === key);
}

/** Docker's httputils.BoolValue: true unless empty, 0, no, false or none (case-insensitive). */
export function queryBool(query: Array<[string, string]>, key: string): boolean {
  const v = queryGet(query, key).trim().toLowerCase();
  return !(v === '' || v === '0' || v === 'no' || v === 'false' || v === 'none');
}

/** Canonical re-encoding of the query we decided on. */
export function encodeQuery(query: Array<[string, string]>): string {
  if (query.length === 0) return '';
  return '?' + query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** Re-encode a decoded path for forwarding: each segment escaped so the daemon decodes it back to the same path. */
export function encodePath(path: string): string {
  return path
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(/%3A/gi, ':').replace(/%40/g, '@'))
    .join('/');
}
