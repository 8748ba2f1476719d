// Read a request body the way dockerd's Go decoder (encoding/json) will, and produce the canonical JSON we forward.
//
// Go matches object keys to struct fields case-insensitively, lets a duplicated key overwrite (or, for objects,
// merge into) the earlier value, and unescapes keys before matching. A proxy that inspects with JSON.parse sees a
// different document than the daemon. So we: parse keeping duplicates, merge them with Go's rules, refuse non-ASCII
// keys at struct level (Go's Unicode folding makes `ſ`/`K` match `s`/`k`; no Docker field needs them), and forward
// the canonical document we inspected, never the original bytes. Number literals are kept verbatim.
import { wingmanError } from '../errors.js';

export class GoNumber {
  constructor(readonly raw: string) {}
  toJSON(): number {
    return Number(this.raw);
  }
}

export type JVal = null | boolean | string | GoNumber | JVal[] | JObj;
export interface JObj {
  [key: string]: JVal;
}

// Fields whose Go type is a map: keys are exact (not folded) and a duplicated key replaces its value.
const MAP_FIELDS = new Set([
  'LABELS',
  'VOLUMES',
  'EXPOSEDPORTS',
  'PORTBINDINGS',
  'SYSCTLS',
  'STORAGEOPT',
  'TMPFS',
  'ANNOTATIONS',
  'ENDPOINTSCONFIG',
  'DRIVEROPTS',
  'OPTIONS',
  'BUILDARGS',
]);

const MAX_DEPTH = 64;

function bad(detail: string): never {
  throw wingmanError('WGM_ERR_PROXY_BAD_BODY', detail);
}

export function isObj(v: JVal | undefined): v is JObj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof GoNumber);
}

/** Field lookup with Go's (ASCII) case-insensitive matching; struct levels have unique folded keys by construction. */
export function field(v: JVal | undefined, name: string): JVal | undefined {
  if (!isObj(v)) return undefined;
  const want = name.toUpperCase();
  for (const k of Object.keys(v)) if (k.toUpperCase() === want) return v[k];
  return undefined;
}

/** A string or number field as text ('' for anything else): what a person reads, or what a path match needs. */
export function text(v: JVal | undefined): string {
  return typeof v === 'string' ? v : v instanceof GoNumber ? v.raw : '';
}

export function fieldPath(v: JVal | undefined, ...names: string[]): JVal | undefined {
  let cur: JVal | undefined = v;
  for (const n of names) cur = field(cur, n);
  return cur;
}

function merge(existing: JVal, incoming: JVal, isMap: boolean): JVal {
  if (incoming === null) {
    // Go sets pointers, maps, slices and interfaces to nil, and ignores null for plain scalars.
    return isObj(existing) || Array.isArray(existing) ? null : existing;
  }
  if (isObj(existing) && isObj(incoming)) {
    const out = Object.assign(Object.create(null), existing) as JObj;
    if (isMap) {
      for (const k of Object.keys(incoming)) out[k] = incoming[k]!;
      return out;
    }
    for (const k of Object.keys(incoming)) {
      const fk = k.toUpperCase();
      const prev = Object.keys(out).find((x) => x.toUpperCase() === fk);
      if (prev === undefined) out[k] = incoming[k]!;
      else out[prev] = merge(out[prev], incoming[k], MAP_FIELDS.has(fk));
    }
    return out;
  }
  return incoming;
}

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
      else break;
    }
  }

  value(depth: number, isMap: boolean, parentFold: string): JVal {
    if (depth > MAX_DEPTH) bad('JSON nested too deeply');
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object(depth, isMap, parentFold);
    if (c === '[') return this.array(depth, parentFold);
    if (c === '"') return this.string();
    if (c === 't' && this.s.startsWith('true', this.i)) return (this.i += 4), true;
    if (c === 'f' && this.s.startsWith('false', this.i)) return (this.i += 5), false;
    if (c === 'n' && this.s.startsWith('null', this.i)) return (this.i += 4), null;
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (m && m[0].length > 0) {
      this.i += m[0].length;
      return new GoNumber(m[0]);
    }
    return bad(`unexpected character at offset ${this.i}`);
  }

  object(depth: number, isMap: boolean, parentFold: string): JObj {
    this.i++; // {
    const out = Object.create(null) as JObj;
    const folded = new Map<string, string>();
    this.ws();
    if (this.s[this.i] === '}') return this.i++, out;
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') bad(`expected a key at offset ${this.i}`);
      const key = this.string();
      this.ws();
      if (this.s[this.i] !== ':') bad(`expected ':' at offset ${this.i}`);
      this.i++;
      const fk = key.toUpperCase();
      // LogConfig.Config is the one map that hides behind a struct-like name.
      const childIsMap = !isMap && (MAP_FIELDS.has(fk) || (fk === 'CONFIG' && parentFold === 'LOGCONFIG'));
      const val = this.value(depth + 1, childIsMap, isMap ? '' : fk);
      if (isMap) {
        out[key] = val; // Go map: a repeated key replaces the element
      } else {
        if (/[^\x20-\x7e]/.test(key)) bad('non-ASCII or control characters in a field name');
        const prev = folded.get(fk);
        if (prev === undefined) {
          folded.set(fk, key);
          out[key] = val;
        } else {
          out[prev] = merge(out[prev], val, childIsMap);
        }
      }
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === '}') return this.i++, out;
      bad(`expected ',' or '}' at offset ${this.i}`);
    }
  }

  array(depth: number, parentFold: string): JVal[] {
    this.i++; // [
    const out: JVal[] = [];
    this.ws();
    if (this.s[this.i] === ']') return this.i++, out;
    for (;;) {
      out.push(this.value(depth + 1, false, parentFold));
      this.ws();
      const c = this.s[this.i];
      if (c === ',') {
        this.i++;
        continue;
      }
      if (c === ']') return this.i++, out;
      bad(`expected ',' or ']' at offset ${this.i}`);
    }
  }

  string(): string {
    const s = this.s;
    const start = ++this.i;
    // Fast path: no escapes.
    let j = start;
    while (j < s.length) {
      const c = s.charCodeAt(j);
      if (c === 0x22) {
        this.i = j + 1;
        return s.slice(start, j);
      }
      if (c === 0x5c || c < 0x20) break;
      j++;
    }
    let out = s.slice(start, j);
    this.i = j;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c.charCodeAt(0) < 0x20) bad('control character in string');
      if (c !== '\\') {
        out += c;
        this.i++;
        continue;
      }
      const e = s[this.i + 1];
      this.i += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = s.slice(this.i, this.i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) bad('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          this.i += 4;
          break;
        }
        default:
          bad('bad escape in string');
      }
    }
    return bad('unterminated string');
  }
}

/** Parse a body as Go's decoder will see it. Throws WGM_ERR_PROXY_BAD_BODY on anything Go would not accept cleanly. */
export function parseGoJson(input: Buffer | string): JVal {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      bad('body is not valid UTF-8');
    }
  }
  if (text.charCodeAt(0) === 0xfeff) bad('byte-order mark before JSON');
  const p = new Parser(text);
  const v = p.value(0, false, '');
  p.ws();
  if (p.i !== text.length) bad('trailing data after the JSON value');
  return v;
}

export function toJson(v: JVal): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof GoNumber) return v.raw;
  if (Array.isArray(v)) return '[' + v.map(toJson).join(',') + ']';
  return '{' + Object.keys(v).map((k) => JSON.stringify(k) + ':' + toJson(v[k])).join(',') + '}';
}

/** Convert to a plain JS value (numbers as JS numbers) for hashing, summaries and tests. */
export function toPlain(v: JVal): unknown {
  return JSON.parse(toJson(v));
}
