// Our own secret detectors, for what secretlint's recommended preset misses (bare AWS key ids, `sk-…` keys without
// the OpenAI marker, escaped PEM blocks, Telegram bot tokens, password literals, URL passwords, generic high-entropy
// assignments). Synchronous on purpose: logging paths need a redactor that cannot await.
//
// Every quantifier is bounded and the context detectors (password=…, token=…) find a keyword first and then walk the
// text by hand, so a 1 MB input cannot trigger catastrophic backtracking.
import { isPlaceholderValue } from './placeholder-value.js';
import { GENERIC_PRIORITY, SPECIFIC_PRIORITY, type OwnSecretKind, type SecretSpan } from './secret-finding.js';
import { shannonEntropy } from './shannon-entropy.js';

interface RegexDetector {
  kind: OwnSecretKind;
  /** Must carry the `g` flag; the `d` flag when `group` > 0. */
  regex: RegExp;
  /** Capture group holding the secret (0 = whole match). */
  group: number;
  accept?: (value: string) => boolean;
  /**
   * Text the regex cannot match without (case-sensitive, any one of them): a text holding none is not scanned with
   * it. Only literals every match contains, so skipping changes no finding.
   */
  needs?: readonly string[];
}

function distinctChars(value: string): number {
  return new Set(value).size;
}

const MASK_OR_TEMPLATE = /x{4,}|\*{3,}|\.\.\.|…|your[-_]?|placeholder|redacted|changeme|insert[-_]/i;

/** Looks generated: enough distinct characters, at least two character classes, no obvious placeholder marker. */
function tokenLike(value: string, minDistinct: number): boolean {
  if (distinctChars(value) < minDistinct || MASK_OR_TEMPLATE.test(value)) return false;
  const classes = Number(/[a-z]/.test(value)) + Number(/[A-Z]/.test(value)) + Number(/[0-9]/.test(value));
  return classes >= 2;
}

const REGEX_DETECTORS: RegexDetector[] = [
  {
    // AWS access key ids (long-term AKIA, temporary ASIA, and the rarer ABIA/ACCA). AWS's documented example key
    // AKIAIOSFODNN7EXAMPLE is deliberately NOT exempt: fail closed, a real-looking id in an instruction is rejected.
    kind: 'aws_access_key_id',
    regex: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
    group: 0,
    needs: ['AKIA', 'ASIA', 'ABIA', 'ACCA'],
    accept: (v) => distinctChars(v.slice(4)) >= 4,
  },
  {
    // OpenAI (sk-…, sk-proj-…), Anthropic (sk-ant-api03-…) and look-alikes; secretlint only knows the exact formats.
    kind: 'sk_api_key',
    regex: /(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,400}/g,
    group: 0,
    needs: ['sk-'],
    accept: (v) => tokenLike(v.slice(3), 10),
  },
  {
    kind: 'stripe_key',
    regex: /(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,200}(?![A-Za-z0-9])/g,
    group: 0,
    needs: ['_live_', '_test_'],
    accept: (v) => tokenLike(v.replace(/^(?:sk|rk)_(?:live|test)_/, ''), 8),
  },
  {
    // <bot id>:AA<~33 chars>; the "AA" prefix keeps timestamps and ratios out.
    kind: 'telegram_bot_token',
    regex: /(?<![0-9])[0-9]{6,12}:AA[A-Za-z0-9_-]{30,34}(?![A-Za-z0-9_-])/g,
    group: 0,
    needs: [':AA'],
    accept: (v) => distinctChars(v.slice(v.indexOf(':') + 1)) >= 8,
  },
  {
    // scheme://user:password@host — only the password is the secret.
    kind: 'url_password',
    regex: /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,20}:\/\/[^\s:/@?#'"`<>]{0,128}:([^\s/@?#'"`<>]{1,256})@[^\s/?#@'"`<>]{1,255}/dg,
    group: 1,
    needs: ['://'],
    accept: (v) => !isPlaceholderValue(safeDecode(v)) && !MASK_OR_TEMPLATE.test(v),
  },
  {
    // curl -u user:password / wget --user … (only on a curl/wget line: `docker run -u 1000:1000` is not a password).
    kind: 'cli_credentials',
    regex: /\b(?:curl|wget)\b[^\n]{0,400}?\s(?:-u|--user)(?:[ \t]+|=)["']?[^\s:"'@]{1,128}:([^\s"'@]{1,256})/dg,
    group: 1,
    needs: ['curl', 'wget'],
    accept: (v) => v.length >= 3 && !isPlaceholderValue(v) && !MASK_OR_TEMPLATE.test(v),
  },
  {
    kind: 'bearer_token',
    regex: /(?<![A-Za-z0-9])[Bb]earer[ \t]+([A-Za-z0-9._~+/-]{16,4000}=*)/dg,
    group: 1,
    needs: ['earer'],
    accept: (v) => tokenLike(v, 8),
  },
  {
    kind: 'basic_auth_header',
    regex: /Authorization["']?[ \t]*[:=][ \t]*["']?Basic[ \t]+([A-Za-z0-9+/]{8,2000}={0,2})/dgi,
    group: 1,
    accept: (v) => tokenLike(v, 6),
  },
  {
    kind: 'jwt',
    regex: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,4000}\.eyJ[A-Za-z0-9_-]{8,8000}\.[A-Za-z0-9_-]{8,4000}/g,
    group: 0,
    needs: ['eyJ'],
  },
];

function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

function runRegexDetectors(text: string, out: SecretSpan[]): void {
  for (const d of REGEX_DETECTORS) {
    if (d.needs && !d.needs.some((n) => text.includes(n))) continue;
    d.regex.lastIndex = 0;
    for (const m of text.matchAll(d.regex)) {
      let start: number;
      let end: number;
      if (d.group === 0) {
        start = m.index;
        end = start + m[0].length;
      } else {
        const idx = m.indices?.[d.group];
        if (!idx) continue;
        [start, end] = idx;
      }
      const value = text.slice(start, end);
      if (d.accept && !d.accept(value)) continue;
      out.push({ kind: d.kind, start, end, priority: SPECIFIC_PRIORITY });
    }
  }
}

// ---- PEM private keys (raw, and escaped as `\n` inside a JSON/YAML/JS string) ----

const PEM_BEGIN = /-----BEGIN ((?:[A-Z0-9]{1,12} ){0,4})PRIVATE KEY( BLOCK)?-----/g;
const PEM_MAX_BODY = 64 * 1024;
/** A run of base64, whitespace and escaped newlines straight after a BEGIN line with no END line (truncated key). */
const PEM_RUN = /(?:[A-Za-z0-9+/=\s"',]|\\\\?[nr]){0,65536}/y;

function runPemDetector(text: string, out: SecretSpan[]): void {
  PEM_BEGIN.lastIndex = 0;
  // Last search result per END marker: many BEGIN lines without an END must not rescan the text each time.
  const nextEnd = new Map<string, number>();
  for (const m of text.matchAll(PEM_BEGIN)) {
    const bodyStart = m.index + m[0].length;
    const endMarker = `-----END ${m[1]}PRIVATE KEY${m[2] ?? ''}-----`;
    let endIdx = nextEnd.get(endMarker);
    if (endIdx === undefined || (endIdx !== -1 && endIdx < bodyStart)) {
      endIdx = text.indexOf(endMarker, bodyStart);
      nextEnd.set(endMarker, endIdx);
    }
    let body: string;
    let spanEnd: number;
    let minBase64: number;
    if (endIdx !== -1 && endIdx - bodyStart <= PEM_MAX_BODY) {
      body = text.slice(bodyStart, endIdx);
      spanEnd = endIdx + endMarker.length;
      minBase64 = 16;
    } else {
      PEM_RUN.lastIndex = bodyStart;
      const run = PEM_RUN.exec(text);
      body = run ? run[0] : '';
      spanEnd = bodyStart + body.length;
      minBase64 = 64;
    }
    const base64 = body
      .replace(/(?:^|\n|\\n)[ \t]*[A-Za-z-]{2,32}:[^\n\\]*/g, '') // Proc-Type:, DEK-Info:, Comment: header lines
      .replace(/\\\\?[nr]|\s|["',]/g, '')
      .replace(/\.{3,}|…/g, '');
    if (base64.length < minBase64 || !/^[A-Za-z0-9+/=]+$/.test(base64.slice(0, 4096))) continue;
    out.push({ kind: 'private_key', start: m.index, end: spanEnd, priority: SPECIFIC_PRIORITY });
  }
}

// ---- name = value context detectors ----

interface Assignment {
  name: string;
  connector: '=' | ':' | '=>' | 'space';
  value: string;
  valueStart: number;
  valueEnd: number;
  quoted: boolean;
  /** Bare value that ends its line (YAML `key: value`), as opposed to prose like "password: must be long". */
  eol: boolean;
}

const NAME_CHAR = /[A-Za-z0-9_.-]/;
const NAME_TAIL_CHAR = /[A-Za-z0-9_-]/;
const BARE_STOP = /[\s"'`,;&|()<>]/;

/** Walks from a keyword hit to a `name <connector> value` shape; null when the hit is not an assignment. */
function assignmentAt(text: string, kwStart: number, kwEnd: number): { a: Assignment | null; nameEnd: number } {
  let s = kwStart;
  while (s > 0 && kwStart - s < 64 && NAME_CHAR.test(text[s - 1])) s--;
  let e = kwEnd;
  while (e < text.length && e - kwEnd < 40 && NAME_TAIL_CHAR.test(text[e])) e++;
  const name = text.slice(s, e);
  let p = e;
  // Closing quote of a quoted key, possibly escaped inside a string: "password": / \"password\":
  if (text[p] === '\\' && (text[p + 1] === '"' || text[p + 1] === "'")) p += 2;
  else if (text[p] === '"' || text[p] === "'") p++;
  // Markdown emphasis around a label: **Password**: hunter2
  while (p < text.length && p - e < 4 && (text[p] === '*' || text[p] === '_')) p++;
  const afterName = p;
  while (p < text.length && p - afterName < 8 && (text[p] === ' ' || text[p] === '\t')) p++;
  let connector: Assignment['connector'];
  const c = text[p];
  if (c === '=') {
    if (text[p + 1] === '=' || text[p + 1] === '~') return { a: null, nameEnd: e };
    if (text[p + 1] === '>') {
      connector = '=>';
      p += 2;
    } else {
      connector = '=';
      p += 1;
    }
  } else if (c === ':') {
    if (text[p + 1] === ':' || text.startsWith('//', p + 1)) return { a: null, nameEnd: e };
    if (text[p + 1] === '=') {
      connector = '=';
      p += 2;
    } else {
      connector = ':';
      p += 1;
    }
  } else if (name.startsWith('--') && p > afterName && c !== undefined && c !== '-' && c !== '\n') {
    connector = 'space';
  } else {
    return { a: null, nameEnd: e };
  }
  const valueAreaStart = p;
  while (p < text.length && p - valueAreaStart < 8 && (text[p] === ' ' || text[p] === '\t' || text[p] === '*')) p++;
  let quote = '';
  if (text[p] === '\\' && (text[p + 1] === '"' || text[p + 1] === "'")) quote = text.slice(p, p + 2);
  else if (text[p] === '"' || text[p] === "'" || text[p] === '`') quote = text[p];
  let valueStart: number;
  let valueEnd: number;
  let quoted = false;
  if (quote) {
    valueStart = p + quote.length;
    let q = valueStart;
    const limit = Math.min(text.length, valueStart + 1024);
    let closed = -1;
    while (q < limit && text[q] !== '\n') {
      if (text.startsWith(quote, q) && (quote.length === 2 || text[q - 1] !== '\\')) {
        closed = q;
        break;
      }
      q++;
    }
    if (closed === -1) return { a: null, nameEnd: e };
    valueEnd = closed;
    quoted = true;
  } else {
    valueStart = p;
    let q = p;
    const limit = Math.min(text.length, p + 1024);
    while (q < limit && !BARE_STOP.test(text[q])) q++;
    valueEnd = q;
  }
  // Bounded look at the rest of the line (an unbounded indexOf per hit would be quadratic on newline-free input).
  const restStart = quoted ? valueEnd + quote.length : valueEnd;
  const window = text.slice(restStart, restStart + 257);
  const nl = window.indexOf('\n');
  const eol =
    (nl !== -1 || restStart + window.length === text.length) &&
    /^[ \t]*[,;]?[ \t]*(?:(?:#|\/\/).*)?\r?$/.test(nl === -1 ? window : window.slice(0, nl));
  return {
    a: { name, connector, value: text.slice(valueStart, valueEnd), valueStart, valueEnd, quoted, eol },
    nameEnd: e,
  };
}

function scanAssignments(text: string, keyword: RegExp, onAssignment: (a: Assignment) => void): void {
  keyword.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = keyword.exec(text)) !== null) {
    const { a, nameEnd } = assignmentAt(text, m.index, m.index + m[0].length);
    if (a) onAssignment(a);
    // Skip the rest of this name (`secret_token` is examined once) and the value just read.
    keyword.lastIndex = Math.max(nameEnd, a ? a.valueEnd : 0, m.index + 1);
  }
}

const PASSWORD_KEYWORD = /pass(?:word|wd|phrase)|pwd/gi;
const PASSWORD_NAME_NOT_VALUE =
  /(?:^|[_.-])(?:file|path|length|len|min|max|policy|prompt|field|label|regex|pattern|env|var|required|hint|reset|rules?|strength|expiry|expires)$/i;

function runPasswordDetector(text: string, out: SecretSpan[]): void {
  scanAssignments(text, PASSWORD_KEYWORD, (a) => {
    if (/pwd/i.test(a.name) && !/pass/i.test(a.name) && !/(?:^|[_.-])pwd$/i.test(a.name)) return;
    if (/^\$|^\$?PWD$/i.test(a.name)) return; // $PWD, PWD=… are the working directory
    if (PASSWORD_NAME_NOT_VALUE.test(a.name)) return;
    const value = a.value;
    if (value.length < 4 || isPlaceholderValue(value)) return;
    if (a.connector === ':' && !a.quoted && !a.eol) return;
    if (a.connector === '=>' && !a.quoted) return;
    if (a.connector === 'space' && !/[^A-Za-z]/.test(value)) return; // "the --password flag" is prose
    out.push({ kind: 'password_literal', start: a.valueStart, end: a.valueEnd, priority: GENERIC_PRIORITY });
  });
}

// Not "signature" or "salt": release signatures and salts are public by design.
const SECRETISH_KEYWORD = /token|secret|key|auth|credential|passphrase/gi;
/** Names that contain a secret-ish word but hold something public or a reference to the secret. */
const SECRETISH_NAME_NOT_VALUE =
  /(?:^|[_.-])(?:public[_-]?key|pubkey|key[_-]?(?:id|name|path|file|type|size|length|format|alias|usage)|keyfile|token[_-]?(?:type|url|endpoint|uri|path|file|name|expiry|ttl|count|limit)|auth(?:or|ority)[a-z_]*|auth[_-]?(?:url|uri|type|method|mode|endpoint|path|provider|domain)|secret[_-]?(?:name|path|file|ref|id|arn|version))$|^(?:author|authors|authority|keyboard|monkey|turkey|donkey|hockey|jockey)/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const VALUE_CHARSET = /^[A-Za-z0-9+/=_.~-]+$/;

/** Identifier made of words and small numbers (deploy_github_app_key2, ProdServiceToken), not generated text. */
function looksLikeWords(value: string): boolean {
  const segments = value
    .split(/[_./~+=-]+/)
    .flatMap((seg) => seg.split(/(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])/))
    .filter((seg) => seg.length > 0);
  const words = segments.filter((seg) => /^[A-Za-z]{2,}$/.test(seg) && /[aeiouy]/i.test(seg)).length;
  const singles = segments.filter((seg) => /^[A-Za-z]$/.test(seg)).length;
  const numbers = segments.filter((seg) => /^[0-9]{1,4}$/.test(seg)).length;
  return words > 0 && words + singles + numbers === segments.length && singles <= words && numbers <= words;
}

/** The high-entropy test, exported for tests and for the thresholds' documentation. */
export function isHighEntropySecret(value: string): boolean {
  if (value.length < 16 || value.length > 1024 || !VALUE_CHARSET.test(value)) return false;
  if (UUID.test(value) || isPlaceholderValue(value) || MASK_OR_TEMPLATE.test(value)) return false;
  if (/^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(value)) return false; // config.api.key
  if (/\/[^/]+\.[a-z]{1,5}$/i.test(value)) return false; // file path with an extension
  if (/^(?:\.{0,2}\/|~\/)/.test(value) && !/[+=]/.test(value) && (value.match(/\//g) ?? []).length >= 2) return false;
  const classes = Number(/[a-z]/.test(value)) + Number(/[A-Z]/.test(value)) + Number(/[0-9]/.test(value));
  if (classes < 2) return false;
  const entropy = shannonEntropy(value);
  if (/^[0-9a-f]+$/i.test(value)) return value.length >= 32 && entropy >= 3.0;
  if (looksLikeWords(value)) return false;
  return entropy >= (value.length < 24 ? 3.6 : 3.5);
}

function runHighEntropyDetector(text: string, out: SecretSpan[]): void {
  scanAssignments(text, SECRETISH_KEYWORD, (a) => {
    const bareName = a.name.replace(/^[-.]+/, '');
    if (SECRETISH_NAME_NOT_VALUE.test(bareName)) return;
    if (a.connector === ':' && !a.quoted && !a.eol) return;
    if (!isHighEntropySecret(a.value)) return;
    out.push({ kind: 'high_entropy_assignment', start: a.valueStart, end: a.valueEnd, priority: GENERIC_PRIORITY });
  });
}

/** All our own detectors over `text`; spans may overlap (buildFindings merges them). */
export function findOwnSecrets(text: string): SecretSpan[] {
  const out: SecretSpan[] = [];
  runRegexDetectors(text, out);
  runPemDetector(text, out);
  runPasswordDetector(text, out);
  runHighEntropyDetector(text, out);
  return out;
}
