// Free-text claims → structured claims. Common report phrasings become claims the verifiers can check:
//   "created/wrote/added X"  → file_created       "modified/updated/edited X"  → file_modified
//   "deleted/removed X"      → file_deleted       "added `text` to X", "X contains 'text'" → file_contains
//   "X is running", "started X" → process_running ("container X is running" → container_running)
//   "listening on port N", "… on http://localhost:N" → port_listening
//   "all (N) tests pass(ed)" → tests_passed       "ran `cmd` (exit code N)" → command_executed
// Negations ("did not create X", "X is not running", "tests fail") keep the claim and mark it negated, so the verdict
// is inverted rather than the statement read as its opposite. URLs are never taken as file paths. Questions,
// conditions ("if tests pass") and intentions ("will create") are not claims. What cannot be turned into a checkable
// claim is reported with the reason. Pure and linear: no regex here backtracks over more than a few words.
import type { StructuredClaim } from './claim-types.js';

export interface ParsedClaimText {
  /** checkable claims, in text order */
  claims: StructuredClaim[];
  /** statements recognised as claims that cannot be checked, with why (a URL, no file named, a vague subject …) */
  unverifiable: { text: string; reason: string }[];
  /** sentences with nothing recognisable as a claim */
  unchecked: string[];
}

export const MAX_CLAIM_TEXT = 4000;

interface Token {
  kind: 'code' | 'quote' | 'url';
  value: string;
}

const OPEN = '\u0001';
const CLOSE = '\u0002';
const PLACEHOLDER = /\u0001(\d+)\u0002/g;
const ONE_PLACEHOLDER = /^\u0001(\d+)\u0002$/;

/** Replace code spans, quoted strings and URLs with placeholders so splitting and matching cannot cut into them. */
function protect(text: string): { text: string; tokens: Token[] } {
  const tokens: Token[] = [];
  const put = (kind: Token['kind'], value: string) => {
    tokens.push({ kind, value });
    return `${OPEN}${tokens.length - 1}${CLOSE}`;
  };
  let out = text.replace(/```[a-z]*\n?([^`]*)```|`([^`\n]+)`/gi, (_m, block: string | undefined, span: string | undefined) =>
    put('code', (block ?? span ?? '').trim()),
  );
  out = out.replace(/\b[a-z][a-z0-9+.-]{0,20}:\/\/[^\s`"'<>\u0001\u0002]+/gi, (m) => {
    const trail = /[.,;:!?)\]]+$/.exec(m)?.[0] ?? '';
    return put('url', m.slice(0, m.length - trail.length)) + trail;
  });
  out = out.replace(/"([^"\n]{1,2000})"|“([^”\n]{1,2000})”/g, (_m, a: string | undefined, b: string | undefined) => put('quote', a ?? b ?? ''));
  // Single quotes only as a pair around a phrase ('x y'), never an apostrophe inside a word (didn't).
  out = out.replace(/(^|[\s(:=])'([^'\n]{1,2000})'(?=$|[\s).,;:!?])/g, (_m, pre: string, body: string) => pre + put('quote', body));
  return { text: out, tokens };
}

function restore(s: string, tokens: Token[]): string {
  return s.replace(PLACEHOLDER, (_m, i: string) => {
    const t = tokens[Number(i)];
    return t.kind === 'code' ? `\`${t.value}\`` : t.kind === 'quote' ? `"${t.value}"` : t.value;
  });
}

function tokenOf(word: string, tokens: Token[]): Token | undefined {
  const m = ONE_PLACEHOLDER.exec(word);
  return m ? tokens[Number(m[1])] : undefined;
}

// Verb families. Past forms are claims on their own; base forms only after a negation or have/has ("did not create").
const FAMILIES = {
  create: { past: 'created|wrote|written|added|generated|saved|made|produced|put', base: 'create|write|add|generate|save|make|produce' },
  modify: {
    past: 'modified|updated|edited|changed|fixed|patched|rewrote|rewritten|refactored|amended|appended',
    base: 'modify|update|edit|change|fix|patch|rewrite|refactor|amend|append',
  },
  delete: { past: 'deleted|removed|erased|unlinked|rm\'d', base: 'delete|remove|erase|unlink' },
  ran: { past: 'ran|executed|invoked', base: 'run|execute|invoke' },
  start: { past: 'started|launched|restarted', base: 'start|launch|restart' },
} as const;
type Family = keyof typeof FAMILIES | 'running' | 'listening' | 'tests' | 'contains';
const VERB_RES = (Object.entries(FAMILIES) as [keyof typeof FAMILIES, { past: string; base: string }][]).flatMap(([family, f]) => [
  { family, base: false, re: new RegExp(`\\b(?:${f.past})\\b`, 'i') },
  { family, base: true, re: new RegExp(`\\b(?:${f.base})\\b`, 'i') },
]);

const NEGATION_TAIL =
  /(?:\b(?:did|do|does|have|has|had|was|were|is|are|could|can|would)\s*(?:not|n't)|\b(?:didn't|didnt|haven't|hasn't|hadn't|wasn't|weren't|couldn't|can't|cannot|never|not|no\s+longer|failed\s+to|unable\s+to))(?:\s+(?:yet|actually|really|even|successfully|been|be))*\s*$/i;
const PERFECT_TAIL = /\b(?:have|has|had|'ve|'s)\s+(?:(?:now|already|also|just|successfully)\s+)*$/i;
const INTENT_TAIL =
  /\b(?:will|would|should|shall|could|might|may|must|going\s+to|plan(?:ning)?\s+to|about\s+to|want\s+to|need\s+to|try(?:ing)?\s+to|let's|please|to)\s+(?:(?:also|then|now|still|just|be|have)\s+)*$/i;
const CONDITION_HEAD = /^(?:if|when|whenever|unless|once|after|before|until|in\s+case)\b/i;

interface Trigger {
  family: Family;
  start: number;
  end: number;
  /** negation inside the trigger itself ("is not running", "tests fail") */
  innerNegated: boolean;
  /** a base verb form: only a claim after a negation or have/has */
  base: boolean;
}

function findTrigger(seg: string): Trigger | undefined {
  const found: Trigger[] = [];
  for (const { family, base, re } of VERB_RES) {
    const m = re.exec(seg);
    if (m) found.push({ family, start: m.index, end: m.index + m[0].length, innerNegated: false, base });
  }
  const running = /\b(?:is|are|was|were|'s|'re)\s+(?:(?:now|still|already|up\s+and|also)\s+)*(not\s+|n't\s+)?running\b|\b(?:isn't|aren't|wasn't|weren't)\s+running\b/i.exec(seg);
  if (running) {
    found.push({ family: 'running', start: running.index, end: running.index + running[0].length, innerNegated: /not|n't/i.test(running[0]), base: false });
  }
  const listening = /\b(?:(?:is|are|'s)\s+)?(?:(?:now|still|also)\s+)?(not\s+)?(?:listening|listens|serving|serves|bound|accepting\s+connections)\s+(?:on|at|to)\b/i.exec(seg);
  if (listening) {
    found.push({ family: 'listening', start: listening.index, end: listening.index + listening[0].length, innerNegated: !!listening[1], base: false });
  }
  const portFirst = /\bport\s+:?\d{1,5}\s+(?:is\s+)?(?:now\s+)?(not\s+)?(?:open|listening|bound|in\s+use)\b/i.exec(seg);
  if (portFirst) {
    found.push({ family: 'listening', start: portFirst.index, end: portFirst.index + portFirst[0].length, innerNegated: !!portFirst[1], base: false });
  }
  const tests =
    /\b(?:tests?|test\s+suites?|specs?|unit\s+tests|checks)\b(?:\s+(?:now|all|still|also|have|has|are|is|were|was|did|do|does|successfully))*\s+(not\s+|n't\s+)?(pass(?:ed|es|ing)?|succeed(?:ed|s)?|green|fail(?:ed|s|ing)?|broke|broken|red)\b/i.exec(seg);
  if (tests) {
    const failing = /^(?:fail|broke|red)/i.test(tests[2]);
    found.push({ family: 'tests', start: tests.index, end: tests.index + tests[0].length, innerNegated: !!tests[1] !== failing, base: false });
  }
  const passing = /\b\d[\d,]*\s+(?:tests?\s+)?(?:passing|passed)\b/i.exec(seg);
  if (passing && !tests) found.push({ family: 'tests', start: passing.index, end: passing.index + passing[0].length, innerNegated: false, base: false });
  const contains = /\b(?:now\s+)?(?:contains|includes|(?:now\s+)?has\s+the\s+(?:text|line|string))\b/i.exec(seg);
  if (contains) found.push({ family: 'contains', start: contains.index, end: contains.index + contains[0].length, innerNegated: false, base: false });
  found.sort((a, b) => a.start - b.start || Number(a.base) - Number(b.base));
  // A base form counts only when a negation or have/has governs it; otherwise look at the next candidate.
  for (const t of found) {
    if (!t.base) return t;
    const left = seg.slice(0, t.start);
    if (NEGATION_TAIL.test(left) || PERFECT_TAIL.test(left)) return t;
  }
  return undefined;
}

const EXTENSIONLESS = /^(?:makefile|dockerfile|containerfile|readme|license|licence|procfile|gemfile|rakefile|jenkinsfile|vagrantfile|changelog|authors|notice|\.[\w.-]+)$/i;

function looksLikePath(word: string): boolean {
  if (!/^[~.\w/@%+=:,-]+$/.test(word)) return false;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(word)) return false;
  if (word.includes('/')) return /[\w.]/.test(word);
  if (EXTENSIONLESS.test(word)) return true;
  return /^[\w@%+=-][\w.@%+=-]*\.[A-Za-z][A-Za-z0-9]{0,9}$/.test(word);
}

const FILLER = new Set(['the', 'a', 'an', 'new', 'file', 'files', 'directory', 'directories', 'dir', 'folder', 'script', 'scripts', 'config', 'configuration', 'called', 'named', 'at', 'my', 'our', 'its', 'this', 'that', 'empty', 'source', 'test', 'module', 'it', 'also', 'now', 'successfully', 'just', 'i', 'we', 'have', 'has', 'already', 'and', 'both']);

const clean = (w: string) => w.replace(/^[([{<]+/, '').replace(/[)\]}>.,;:!?]+$/, '');

/** Split an object phrase into words, keeping placeholders whole. */
function words(s: string): string[] {
  return s.split(/[\s,]+|\band\b|&/i).map(clean).filter(Boolean);
}

type PathPick = { path: string } | { reason: string };

function pickPaths(phrase: string, tokens: Token[]): PathPick[] {
  const picks: PathPick[] = [];
  for (const w of words(phrase)) {
    const tok = tokenOf(w, tokens);
    if (tok) {
      if (tok.kind === 'url') picks.push({ reason: `${tok.value.slice(0, 200)} is a URL, not a file in the worker's container` });
      else if (/\s/.test(tok.value.trim()) && !tok.value.includes('/')) continue; // a quoted phrase, not a path
      else picks.push({ path: tok.value.trim() });
      continue;
    }
    if (looksLikePath(w)) picks.push({ path: w });
  }
  return picks;
}

const GENERIC_SUBJECTS = new Set(['it', 'everything', 'all', 'server', 'app', 'application', 'service', 'services', 'process', 'processes', 'api', 'backend', 'frontend', 'database', 'db', 'worker', 'daemon', 'program', 'site', 'website', 'system', 'job', 'task', 'container', 'containers', 'stack', 'this', 'that', 'they', 'he', 'she', 'the']);

type NamePick = { name: string; container: boolean } | { reason: string };

/** The process or container names in a subject phrase ("nginx and redis", "the `web` container", "process foo"). */
function pickNames(phrase: string, tokens: Token[]): NamePick[] {
  const ws = words(phrase);
  const container = ws.some((w) => /^containers?$/i.test(w));
  const picks: NamePick[] = [];
  for (const w of ws) {
    const tok = tokenOf(w, tokens);
    if (tok) {
      if (tok.kind === 'url') picks.push({ reason: `${tok.value.slice(0, 200)} is a URL, not a process` });
      else picks.push({ name: tok.value.trim().slice(0, 256), container });
    }
  }
  if (picks.length) return picks;
  const names = ws.filter((w) => !FILLER.has(w.toLowerCase()) && !GENERIC_SUBJECTS.has(w.toLowerCase()) && !/^(?:process|service|server|daemon|containers?)$/i.test(w));
  if (names.length === 0) return [{ reason: `"${phrase.trim().slice(0, 80)}" names no process or container` }];
  return names.map((n) => ({ name: n.slice(0, 256), container }));
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '0.0.0.0', '[::]', '[::1]', '::', '::1']);

function pickPort(phrase: string, tokens: Token[]): { port: number } | { reason: string } | undefined {
  for (const w of words(phrase)) {
    const tok = tokenOf(w, tokens);
    if (tok?.kind === 'url') {
      let u: URL;
      try {
        u = new URL(tok.value);
      } catch {
        return { reason: `${tok.value.slice(0, 200)} is not a valid URL` };
      }
      if (!LOCAL_HOSTS.has(u.hostname.toLowerCase())) {
        return { reason: `${u.host} is not in the worker's network namespace` };
      }
      const port = Number(u.port || (u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : NaN));
      if (!Number.isInteger(port)) return { reason: `${tok.value.slice(0, 200)} names no port` };
      return { port };
    }
  }
  const plain = phrase.replace(PLACEHOLDER, ' ');
  const m = /\bport\s+:?(\d{1,5})\b/i.exec(plain) ?? /:(\d{1,5})\b/.exec(plain) ?? /(?:^|\s)(\d{1,5})(?=[\s.,;!?]|$)/.exec(plain);
  if (!m) return undefined;
  const port = Number(m[1]);
  if (port < 1 || port > 65535) return { reason: `${m[1]} is not a TCP port` };
  return { port };
}

/** argv from a command string: whitespace-separated words, single and double quotes grouping (no expansion). */
export function splitArgv(cmd: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: '"' | "'" | undefined;
  let has = false;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < cmd.length && '"\\$`'.includes(cmd[i + 1])) cur += cmd[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < cmd.length) {
      cur += cmd[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has || cur) out.push(cur);
  return out;
}

function splitSentences(text: string): string[] {
  return text
    .replace(/([.!?;])(?=\s|$)/g, '$1\n')
    .split('\n')
    .map((s) => s.replace(/^\s*(?:[-*+•]|\d+[.)])\s+/, '').trim())
    .filter(Boolean);
}

/**
 * Fragments split at conjunctions and commas. A fragment without its own trigger continues its neighbour when it
 * reads like more objects ("created a.js and b.js", "nginx and redis are running"); one that starts with another
 * word is a statement of its own that nothing recognises ("… and opened a PR") and is returned as unchecked.
 */
function segments(sentence: string, tokens: Token[]): { segs: string[]; unchecked: string[] } {
  const parts = sentence.split(/(\s*,\s+(?:and\s+|but\s+|then\s+)?|\s+(?:and|but|then|also|plus|while|&)\s+)/i);
  const segs: string[] = [];
  const unchecked: string[] = [];
  let prefix = '';
  for (let i = 0; i < parts.length; i += 2) {
    const frag = parts[i] ?? '';
    const joiner = parts[i + 1] ?? '';
    if (findTrigger(frag)) {
      segs.push(prefix + frag + joiner);
      prefix = '';
    } else if (segs.length) {
      const first = clean(frag.trim().split(/\s+/)[0] ?? '');
      if (!first || tokenOf(first, tokens) || looksLikePath(first) || FILLER.has(first.toLowerCase()) || /^\d/.test(first)) {
        segs[segs.length - 1] += frag + joiner;
      } else {
        unchecked.push(frag.trim());
      }
    } else {
      prefix += frag + joiner;
    }
  }
  if (prefix) {
    if (segs.length) segs[segs.length - 1] += prefix;
    else segs.push(prefix);
  }
  const trim = (x: string) => x.replace(/(?:[\s,]+(?:and|but|then|also|plus|while|&))?[\s,.;!?]*$/i, '').trim();
  return { segs: segs.map(trim).filter(Boolean), unchecked: unchecked.map(trim).filter(Boolean) };
}

export function parseClaimText(input: string): ParsedClaimText {
  const result: ParsedClaimText = { claims: [], unverifiable: [], unchecked: [] };
  const { text, tokens } = protect(input.slice(0, MAX_CLAIM_TEXT));
  for (const sentence of splitSentences(text)) {
    const shown = restore(sentence, tokens).slice(0, 300);
    if (/\?\s*$/.test(sentence)) {
      result.unchecked.push(shown);
      continue;
    }
    if (CONDITION_HEAD.test(sentence.replace(/^(?:and|but|so|then)\s+/i, ''))) {
      result.unverifiable.push({ text: shown, reason: 'a condition, not a statement of what was done' });
      continue;
    }
    let any = false;
    const { segs, unchecked } = segments(sentence, tokens);
    for (const seg of segs) {
      const trig = findTrigger(seg);
      if (!trig) continue;
      any = true;
      const segShown = restore(seg, tokens).slice(0, 300);
      const left = seg.slice(0, trig.start);
      if (INTENT_TAIL.test(left) && !NEGATION_TAIL.test(left)) {
        result.unverifiable.push({ text: segShown, reason: 'an intention, not a statement of what was done' });
        continue;
      }
      const negated = NEGATION_TAIL.test(left) !== trig.innerNegated;
      const add = (c: StructuredClaim) => result.claims.push(negated ? { ...c, negated: true } : c);
      const bad = (reason: string) => result.unverifiable.push({ text: segShown, reason });
      parseSegment(trig, seg, tokens, add, bad);
    }
    if (!any) result.unchecked.push(shown);
    else for (const u of unchecked) result.unchecked.push(restore(u, tokens).slice(0, 300));
  }
  return result;
}

function parseSegment(
  trig: Trigger,
  seg: string,
  tokens: Token[],
  add: (c: StructuredClaim) => void,
  bad: (reason: string) => void,
): void {
  const left = seg.slice(0, trig.start);
  const right = seg.slice(trig.end);
  switch (trig.family) {
    case 'create':
    case 'modify': {
      // "added `text` to X" / "wrote 'text' into X": a content claim about X.
      const into = /^(.*?)\s+(?:to|into|in|inside|under)\s+(.+)$/i.exec(right);
      if (into) {
        const what = words(into[1]);
        const targets = pickPaths(into[2], tokens).filter((p): p is { path: string } => 'path' in p);
        const objectPaths = pickPaths(into[1], tokens).filter((p): p is { path: string } => 'path' in p);
        const textTok = what.length === 1 ? tokenOf(what[0], tokens) : undefined;
        if (targets.length === 1 && textTok && (textTok.kind === 'quote' || (textTok.kind === 'code' && !looksLikePath(textTok.value)))) {
          add({ type: 'file_contains', params: { path: targets[0].path, text: textTok.value } });
          return;
        }
        if (targets.length === 1 && objectPaths.length > 0) {
          // "created app.js in src/": the file inside the directory
          const dir = targets[0].path.replace(/\/+$/, '');
          for (const p of objectPaths) {
            add({ type: trig.family === 'create' ? 'file_created' : 'file_modified', params: { path: p.path.startsWith('/') ? p.path : `${dir}/${p.path}` } });
          }
          return;
        }
        if (targets.length >= 1 && objectPaths.length === 0) {
          // "added error handling to src/app.ts": the file was changed
          for (const p of targets) add({ type: 'file_modified', params: { path: p.path } });
          return;
        }
      }
      const picks = pickPaths(right, tokens);
      if (picks.length === 0) return bad('names no file path');
      for (const p of picks) {
        if ('reason' in p) bad(p.reason);
        else add({ type: trig.family === 'create' ? 'file_created' : 'file_modified', params: { path: p.path } });
      }
      return;
    }
    case 'delete': {
      const picks = pickPaths(right, tokens);
      if (picks.length === 0) return bad('names no file path');
      for (const p of picks) {
        if ('reason' in p) bad(p.reason);
        else add({ type: 'file_deleted', params: { path: p.path } });
      }
      return;
    }
    case 'contains': {
      const subject = pickPaths(left, tokens);
      const what = words(right);
      const tok = what.length >= 1 ? tokenOf(what[0], tokens) : undefined;
      const paths = subject.filter((p): p is { path: string } => 'path' in p);
      if (paths.length !== 1) return bad('names no single file path');
      if (!tok || tok.kind === 'url' || tok.value.length === 0) return bad('names no quoted text to look for');
      add({ type: 'file_contains', params: { path: paths[0].path, text: tok.value } });
      return;
    }
    case 'running':
    case 'start': {
      const phrase = trig.family === 'running' ? left : right.replace(/\s+(?:on|at)\s+.*$/i, '');
      // "the server is running on port 3000": the port is the checkable part
      const onPort = /\s(?:on|at)\s/i.test(' ' + right) ? pickPort(right.replace(/^.*?\b(?:on|at)\s+/i, ''), tokens) : undefined;
      if (onPort && 'port' in onPort) add({ type: 'port_listening', params: { port: onPort.port } });
      for (const p of pickNames(phrase, tokens)) {
        if ('reason' in p) {
          if (!(onPort && 'port' in onPort)) bad(p.reason);
        }
        else if (p.container) add({ type: 'container_running', params: { name: p.name } });
        else add({ type: 'process_running', params: { name: p.name } });
      }
      return;
    }
    case 'listening': {
      const port = pickPort(right, tokens) ?? pickPort(seg, tokens);
      if (!port) return bad('names no port');
      if ('reason' in port) return bad(port.reason);
      add({ type: 'port_listening', params: { port: port.port } });
      return;
    }
    case 'tests': {
      const around = seg.replace(PLACEHOLDER, ' ');
      const partial = /\b(\d[\d,]*)\s*(?:\/|of|out\s+of)\s*(\d[\d,]*)\b/i.exec(around);
      if (partial) {
        const a = Number(partial[1].replace(/,/g, ''));
        const b = Number(partial[2].replace(/,/g, ''));
        if (a !== b) return bad(`says only ${a} of ${b} tests pass`);
        add({ type: 'tests_passed', params: { total: b } });
        return;
      }
      const n = /\b(\d[\d,]*)\s+(?:\w+\s+)?(?:tests?|specs?|checks)\b|\b(\d[\d,]*)\s+(?:passing|passed)\b/i.exec(around);
      const total = n ? Number((n[1] ?? n[2]).replace(/,/g, '')) : undefined;
      if (/\b(?:some|most|a\s+few|several|many)\b/i.test(left)) return bad('says only some tests pass');
      add({ type: 'tests_passed', params: total !== undefined && total <= 10_000_000 ? { total } : {} });
      return;
    }
    case 'ran': {
      const cmdTok = words(right)
        .map((w) => tokenOf(w, tokens))
        .find((t) => t && t.kind !== 'url');
      if (!cmdTok) return bad('names no command in `code` or quotes');
      const argv = splitArgv(cmdTok.value);
      if (argv.length === 0) return bad('names an empty command');
      const params: Record<string, unknown> = { argv: argv.slice(0, 256) };
      const rest = right.replace(PLACEHOLDER, ' ');
      const code = /\bexit(?:ed)?(?:\s+(?:with|code|status|of|was|=|:|an?))*\s*:?\s*(\d{1,3})\b/i.exec(rest);
      if (code && Number(code[1]) <= 255) params.exit_code = Number(code[1]);
      else if (/\bsuccessfully\b|\bwithout\s+errors?\b/i.test(rest + ' ' + left)) params.exit_code = 0;
      add({ type: 'command_executed', params });
      return;
    }
  }
}
