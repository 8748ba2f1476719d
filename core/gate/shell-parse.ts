// A small, total (never throws) POSIX-ish shell parser for judging what a snippet would run: words with quotes
// removed, `&&` `||` `;` `|` `&` newlines, redirections, here-documents, `$(…)`/backtick/process substitutions, and
// the wrappers that only change how a command runs (sudo, env X=1, nohup, command, exec, nice, timeout, xargs…).
// Scripts handed to another shell (`sh -c '…'`, `eval "…"`, `su -c`, `ssh host '…'`, `bash <<EOF`) are parsed too.
// It is a judge, not an interpreter: no expansion happens; `$VAR` stays `$VAR`.
import type { CommandInvocation } from '../policy/instruction-rules.js';

interface WordToken {
  t: 'word';
  text: string;
  start: number;
  end: number;
}
interface OpToken {
  t: 'op';
  op: string;
}
interface RedirToken {
  t: 'redir';
  op: string;
  start: number;
  /** Start of the file-descriptor digits before the operator (`2>`), which are not part of `start`. */
  fdStart?: number;
  /** Heredoc delimiter (already read) and body (filled at the next newline). */
  heredoc?: { delimiter: string; stripTabs: boolean; body: string };
}
type Token = WordToken | OpToken | RedirToken;

export interface ShellSimpleCommand {
  words: string[];
  /** Offset of each word in the source. */
  wordStarts: number[];
  redirects: { op: string; target: string }[];
  heredocs: string[];
  raw: string;
  /** Offset of the command's first word or redirection in the source (for a finding's line and column). */
  start: number;
}

/** The body of a `$(…)`, backtick or `<(…)` substitution and its offset in the source. */
export interface ShellSubstitution {
  text: string;
  start: number;
}

export interface ShellParse {
  pipelines: ShellSimpleCommand[][];
  /** Bodies of `$(…)`, backticks and `<(…)`, to be parsed as commands of their own. */
  substitutions: ShellSubstitution[];
}

/**
 * Nesting depth for substitutions and scripts handed to another shell. Each level parses substrings of the level
 * above, so the total work stays within (MAX_DEPTH + 1) × the input length: no command is ever dropped for budget
 * reasons (dropping would let a long instruction hide a forbidden command).
 */
const MAX_DEPTH = 4;

/** Index of the `)` closing the `(` at `open`, skipping quoted text; src.length when unbalanced. */
function matchParen(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === "'") {
      const j = src.indexOf("'", i + 1);
      i = j === -1 ? src.length : j;
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      i = j;
    } else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return src.length;
}

function matchBrace(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (src[i] === '\\') i++;
    else if (src[i] === '{') depth++;
    else if (src[i] === '}' && --depth === 0) return i;
  }
  return src.length;
}

function closingBacktick(src: string, open: number): number {
  for (let i = open + 1; i < src.length; i++) {
    if (src[i] === '\\') i++;
    else if (src[i] === '`') return i;
  }
  return src.length;
}

/**
 * `$(…)` and backtick substitutions inside an unquoted `${…}` expansion (`${X:-$(cmd)}`): they run when it is expanded.
 * Only `src[from, to)` is searched, so an unbalanced `$(` costs the length of the expansion, not of the source.
 */
function braceSubstitutions(src: string, from: number, to: number, substitutions: ShellSubstitution[]): void {
  const inner = src.slice(from, to);
  for (let k = 0; k < inner.length; k++) {
    const c = inner[k];
    if (c === '\\') k++;
    else if (c === '$' && inner[k + 1] === '(') {
      const end = matchParen(inner, k + 1);
      if (inner[k + 2] !== '(') substitutions.push({ text: inner.slice(k + 2, end), start: from + k + 2 });
      k = end;
    } else if (c === '`') {
      const end = closingBacktick(inner, k);
      substitutions.push({ text: inner.slice(k + 1, end), start: from + k + 1 });
      k = end;
    }
  }
}

/** Longest here-document delimiter we recognise; a longer word after `<<` is read as a plain redirection target. */
const MAX_DELIMITER = 64;

/**
 * The delimiter word after `<<` at `i` (blanks skipped), with quotes removed as the shell removes them: `EOF`, `'EOF'`,
 * `"EOF"`, `\EOF`, `E"O"F` all end at a line `EOF`. Null when there is no word, a quote is unclosed, or it is too long.
 */
function heredocDelimiter(src: string, i: number): { delimiter: string; end: number } | null {
  let j = i;
  while (src[j] === ' ' || src[j] === '\t') j++;
  const limit = Math.min(src.length, j + 2 * MAX_DELIMITER + 2);
  let delimiter = '';
  while (j < src.length && !/[\s<>|&;()]/.test(src[j])) {
    if (j >= limit || delimiter.length > MAX_DELIMITER) return null;
    const c = src[j];
    if (c === "'" || c === '"') {
      const close = src.indexOf(c, j + 1);
      if (close === -1 || close >= limit) return null;
      delimiter += src.slice(j + 1, close);
      j = close + 1;
    } else if (c === '\\') {
      delimiter += src[j + 1] ?? '';
      j += 2;
    } else {
      delimiter += c;
      j++;
    }
  }
  return delimiter === '' || delimiter.length > MAX_DELIMITER ? null : { delimiter, end: j };
}

const REDIR_OP = /^(?:&>>|&>|>>|>&|>\||<<<|<<-|<<|<&|<>|>|<)/;

function tokenize(src: string, substitutions: ShellSubstitution[]): Token[] {
  const toks: Token[] = [];
  const pendingHeredocs: NonNullable<RedirToken['heredoc']>[] = [];
  let word: WordToken | null = null;
  const n = src.length;
  let i = 0;
  const flush = (): void => {
    if (word) {
      word.end = i;
      toks.push(word);
      word = null;
    }
  };
  const append = (s: string, at: number): void => {
    if (!word) word = { t: 'word', text: '', start: at, end: at };
    word.text += s;
  };
  while (i < n) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\r') {
      flush();
      i++;
      continue;
    }
    if (c === '\n') {
      flush();
      toks.push({ t: 'op', op: '\n' });
      i++;
      // Here-document bodies start on the line after their `<<WORD`.
      for (const h of pendingHeredocs.splice(0)) {
        const lines: string[] = [];
        while (i < n) {
          let lineEnd = src.indexOf('\n', i);
          if (lineEnd === -1) lineEnd = n;
          const line = src.slice(i, lineEnd);
          i = Math.min(n, lineEnd + 1);
          if ((h.stripTabs ? line.replace(/^\t+/, '') : line).trimEnd() === h.delimiter) break;
          lines.push(line);
        }
        h.body = lines.join('\n');
      }
      continue;
    }
    if (c === '#' && !word) {
      const j = src.indexOf('\n', i);
      i = j === -1 ? n : j;
      continue;
    }
    if (c === '\\') {
      if (src[i + 1] === '\n') i += 2;
      else {
        append(src[i + 1] ?? '', i);
        i += 2;
      }
      continue;
    }
    if (c === "'") {
      let j = src.indexOf("'", i + 1);
      if (j === -1) j = n;
      append(src.slice(i + 1, j), i);
      i = j + 1;
      continue;
    }
    if (c === '"') {
      const at = i;
      let k = i + 1;
      let buf = '';
      while (k < n && src[k] !== '"') {
        const d = src[k];
        if (d === '\\' && k + 1 < n && '"\\$`\n'.includes(src[k + 1])) {
          buf += src[k + 1] === '\n' ? '' : src[k + 1];
          k += 2;
        } else if (d === '$' && src[k + 1] === '(') {
          const end = matchParen(src, k + 1);
          if (src[k + 2] !== '(') substitutions.push({ text: src.slice(k + 2, end), start: k + 2 });
          buf += src.slice(k, end + 1);
          k = end + 1;
        } else if (d === '`') {
          const end = closingBacktick(src, k);
          substitutions.push({ text: src.slice(k + 1, end), start: k + 1 });
          buf += src.slice(k, end + 1);
          k = end + 1;
        } else {
          buf += d;
          k++;
        }
      }
      append(buf, at);
      i = k + 1;
      continue;
    }
    if (c === '$' && src[i + 1] === "'") {
      // ANSI-C quoting: $'…\n…'
      let k = i + 2;
      let buf = '';
      while (k < n && src[k] !== "'") {
        if (src[k] === '\\' && k + 1 < n) {
          const e = src[k + 1];
          buf += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          k += 2;
        } else buf += src[k++];
      }
      append(buf, i);
      i = k + 1;
      continue;
    }
    if (c === '$' && src[i + 1] === '(') {
      const end = matchParen(src, i + 1);
      if (src[i + 2] !== '(') substitutions.push({ text: src.slice(i + 2, end), start: i + 2 });
      append(src.slice(i, end + 1), i);
      i = end + 1;
      continue;
    }
    if (c === '$' && src[i + 1] === '{') {
      const end = matchBrace(src, i + 1);
      braceSubstitutions(src, i + 2, end, substitutions);
      append(src.slice(i, end + 1), i);
      i = end + 1;
      continue;
    }
    if (c === '`') {
      const end = closingBacktick(src, i);
      substitutions.push({ text: src.slice(i + 1, end), start: i + 1 });
      append(src.slice(i, end + 1), i);
      i = end + 1;
      continue;
    }
    if ((c === '<' || c === '>') && src[i + 1] === '(') {
      const end = matchParen(src, i + 1);
      substitutions.push({ text: src.slice(i + 2, end), start: i + 2 });
      append(src.slice(i, end + 1), i);
      i = end + 1;
      continue;
    }
    if (c === '&' && src[i + 1] === '&') {
      flush();
      toks.push({ t: 'op', op: '&&' });
      i += 2;
      continue;
    }
    if (c === '|') {
      flush();
      if (src[i + 1] === '|') {
        toks.push({ t: 'op', op: '||' });
        i += 2;
      } else {
        toks.push({ t: 'op', op: '|' });
        i += src[i + 1] === '&' ? 2 : 1;
      }
      continue;
    }
    if (c === ';' || c === '(' || c === ')') {
      flush();
      toks.push({ t: 'op', op: ';' });
      i += c === ';' && src[i + 1] === ';' ? 2 : 1;
      continue;
    }
    if (c === '<' || c === '>' || (c === '&' && src[i + 1] === '>')) {
      // `2>`: a word made only of digits right before the operator is a file descriptor, not an argument.
      const w = word as WordToken | null;
      let fdStart: number | undefined;
      if (w && /^[0-9]+$/.test(w.text) && w.start + w.text.length === i) {
        fdStart = w.start;
        word = null;
      }
      flush();
      const op = REDIR_OP.exec(src.slice(i, i + 3))?.[0] ?? c;
      const tok: RedirToken = { t: 'redir', op, start: i, fdStart };
      i += op.length;
      if (op === '<<' || op === '<<-') {
        const d = heredocDelimiter(src, i);
        if (d) {
          tok.heredoc = { delimiter: d.delimiter, stripTabs: op === '<<-', body: '' };
          pendingHeredocs.push(tok.heredoc);
          i = d.end;
        }
      }
      toks.push(tok);
      continue;
    }
    if (c === '&') {
      flush();
      toks.push({ t: 'op', op: '&' });
      i++;
      continue;
    }
    append(c, i);
    i++;
  }
  flush();
  return toks;
}

/** Split shell source into pipelines of simple commands. Never throws. */
export function parseShell(src: string): ShellParse {
  const substitutions: ShellSubstitution[] = [];
  const toks = tokenize(src, substitutions);
  const pipelines: ShellSimpleCommand[][] = [];
  let pipeline: ShellSimpleCommand[] = [];
  let cmd: ShellSimpleCommand & { rawStart: number; end: number } = newCommand();
  let awaitingTarget: { op: string } | null = null;
  function newCommand(): ShellSimpleCommand & { rawStart: number; end: number } {
    return { words: [], wordStarts: [], redirects: [], heredocs: [], raw: '', start: -1, rawStart: -1, end: -1 };
  }
  const endCommand = (): void => {
    if (cmd.words.length > 0 || cmd.redirects.length > 0) {
      cmd.raw = cmd.rawStart >= 0 ? src.slice(cmd.rawStart, cmd.end) : '';
      const { rawStart: _r, end: _e, ...plain } = cmd;
      pipeline.push(plain);
    }
    cmd = newCommand();
    awaitingTarget = null;
  };
  const endPipeline = (): void => {
    endCommand();
    if (pipeline.length > 0) pipelines.push(pipeline);
    pipeline = [];
  };
  const touch = (start: number, end: number, fdStart = start): void => {
    if (cmd.rawStart < 0) {
      cmd.rawStart = start;
      cmd.start = fdStart;
    }
    cmd.end = Math.max(cmd.end, end);
  };
  // A line that ends in `|` continues on the next: `curl … |⏎ sh` is one pipeline.
  let afterPipe = false;
  for (const tok of toks) {
    if (tok.t === 'op' && tok.op === '\n' && afterPipe) continue;
    afterPipe = tok.t === 'op' && tok.op === '|';
    if (tok.t === 'word') {
      touch(tok.start, tok.end);
      if (awaitingTarget) {
        cmd.redirects.push({ op: awaitingTarget.op, target: tok.text });
        awaitingTarget = null;
      } else {
        cmd.words.push(tok.text);
        cmd.wordStarts.push(tok.start);
      }
    } else if (tok.t === 'redir') {
      touch(tok.start, tok.start + tok.op.length, tok.fdStart);
      if (tok.heredoc) {
        cmd.redirects.push({ op: tok.op, target: tok.heredoc.delimiter });
        cmd.heredocs.push(tok.heredoc.body); // tokenize() has already read the body
      } else awaitingTarget = { op: tok.op };
    } else if (tok.op === '|') endCommand();
    else endPipeline();
  }
  endPipeline();
  return { pipelines, substitutions };
}

const SHELL_NAMES = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'ash', 'mksh']);
const KEYWORDS = new Set(['then', 'do', 'else', 'elif', 'if', 'while', 'until', '!', '{', '}', 'function']);
const base = (w: string | undefined): string => (w ?? '').replace(/^.*\//, '');
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/;

interface Stripped {
  argv: string[];
  env: Record<string, string>;
  unset: string[];
  clearsEnv: boolean;
  defaultPath: boolean;
}

/** Options (and how many words each takes) of the wrappers we see through. */
const WRAPPER_VALUE_OPTS: Record<string, Set<string>> = {
  sudo: new Set(['-u', '-g', '-h', '-p', '-C', '-D', '-r', '-t', '-U', '-T', '-R', '--user', '--group', '--host', '--prompt', '--chdir', '--role', '--type', '--other-user', '--command-timeout', '--close-from']),
  doas: new Set(['-u', '-C']),
  nice: new Set(['-n', '--adjustment']),
  ionice: new Set(['-c', '-n', '-p', '-P', '-u', '--class', '--classdata']),
  timeout: new Set(['-s', '-k', '--signal', '--kill-after']),
  stdbuf: new Set(['-i', '-o', '-e']),
  xargs: new Set(['-n', '-I', '-L', '-P', '-d', '-a', '-E', '-s', '--max-args', '--max-procs', '--delimiter', '--arg-file', '--replace', '--max-lines']),
  watch: new Set(['-n', '-d', '--interval']),
  exec: new Set(['-a']),
  time: new Set(['-f', '-o', '--format', '--output']),
  nohup: new Set(),
  builtin: new Set(),
  busybox: new Set(),
  chronic: new Set(),
  unbuffer: new Set(),
};

function stripWrappers(words: string[]): Stripped {
  const out: Stripped = { argv: [], env: {}, unset: [], clearsEnv: false, defaultPath: false };
  let w = [...words];
  for (let guard = 0; guard < 16 && w.length > 0; guard++) {
    let m: RegExpExecArray | null;
    while (w.length > 0 && (m = ASSIGNMENT.exec(w[0])) !== null) {
      out.env[m[1]] = m[2];
      w.shift();
    }
    const name = base(w[0]);
    if (w[0] === 'function' && w[2] === '{' && w.length > 3) {
      // `function NAME { cmd …` on one line: the body's first command follows the name and `{`.
      w.splice(0, 3);
      continue;
    }
    if (KEYWORDS.has(w[0] ?? '')) {
      w.shift();
      continue;
    }
    if (name === 'env') {
      w.shift();
      while (w.length > 0) {
        const a = w[0];
        if (a === '-i' || a === '--ignore-environment' || a === '-') {
          out.clearsEnv = true;
          w.shift();
        } else if (a === '-u' || a === '--unset') {
          if (w[1] !== undefined) out.unset.push(w[1]);
          w.splice(0, 2);
        } else if (a.startsWith('--unset=')) {
          out.unset.push(a.slice('--unset='.length));
          w.shift();
        } else if (/^-u./.test(a)) {
          out.unset.push(a.slice(2));
          w.shift();
        } else if (a === '-C' || a === '--chdir') w.splice(0, 2);
        else if (a === '-S' || a === '--split-string') {
          const script = (w[1] ?? '').split(/\s+/).filter(Boolean);
          w = [...script, ...w.slice(2)];
        } else if (a === '--') {
          w.shift();
          break;
        } else if (/^-[a-zA-Z]+$/.test(a)) {
          if (a.includes('i')) out.clearsEnv = true;
          w.shift();
        } else if ((m = ASSIGNMENT.exec(a)) !== null) {
          out.env[m[1]] = m[2];
          w.shift();
        } else break;
      }
      continue;
    }
    if (name === 'command') {
      w.shift();
      while (w.length > 0 && /^-[pvV]+$/.test(w[0])) {
        if (/[vV]/.test(w[0])) return out; // `command -v x` only looks x up
        out.defaultPath = true;
        w.shift();
      }
      continue;
    }
    if (name === 'timeout') {
      w.shift();
      w = skipOptions(w, WRAPPER_VALUE_OPTS.timeout);
      if (w.length > 0 && /^[0-9.]+[smhd]?$/.test(w[0])) w.shift(); // DURATION
      continue;
    }
    if (name === 'nice' && /^-[0-9]+$/.test(w[1] ?? '')) {
      w.splice(0, 2);
      continue;
    }
    const valueOpts = WRAPPER_VALUE_OPTS[name];
    if (valueOpts && (name !== 'busybox' || w.length > 1)) {
      w.shift();
      w = skipOptions(w, valueOpts);
      continue;
    }
    break;
  }
  out.argv = w;
  return out;
}

function skipOptions(words: string[], valueOpts: Set<string>): string[] {
  let i = 0;
  while (i < words.length && words[i].startsWith('-') && words[i] !== '-') {
    if (words[i] === '--') return words.slice(i + 1);
    i += valueOpts.has(words[i]) ? 2 : 1;
  }
  return words.slice(i);
}

/** Scripts this command hands to another shell: `sh -c '…'`, `eval …`, `su -c …`, `ssh host …`, `bash <<EOF`. */
function nestedScripts(argv: string[], heredocs: string[]): string[] {
  const name = base(argv[0]);
  const out: string[] = [];
  if (SHELL_NAMES.has(name)) {
    const ci = argv.findIndex((a, idx) => idx > 0 && (a === '-c' || /^-[a-zA-Z]*c[a-zA-Z]*$/.test(a) || a === '--command'));
    if (ci !== -1 && argv[ci + 1] !== undefined) out.push(argv[ci + 1]);
    else if (argv.length === 1 || argv.slice(1).every((a) => a.startsWith('-'))) out.push(...heredocs);
  } else if (name === 'eval') {
    out.push(argv.slice(1).join(' '));
  } else if (name === 'su' || name === 'runuser') {
    const ci = argv.findIndex((a) => a === '-c' || a === '--command');
    if (ci !== -1 && argv[ci + 1] !== undefined) out.push(argv[ci + 1]);
  } else if (name === 'ssh') {
    let i = 1;
    while (i < argv.length && argv[i].startsWith('-')) i += /^-[bcDEeFIiJLlmOopQRSWw]$/.test(argv[i]) ? 2 : 1;
    if (i + 1 < argv.length) out.push(argv.slice(i + 1).join(' '));
  }
  return out;
}

export interface ParsedPipeline {
  commands: CommandInvocation[];
}

/**
 * Every pipeline the source would run, including those inside substitutions and scripts handed to a nested shell,
 * with wrappers stripped. Bounded in depth; never throws.
 */
export function parseCommandLines(src: string): ParsedPipeline[] {
  const result: ParsedPipeline[] = [];
  // `offset`: where `source` starts in `src`. A script handed to another shell is text after quote removal, not a slice of
  // `src`, so its commands are `pinned` to the start of the command that hands it over.
  const visit = (source: string, depth: number, offset: number, pinned: boolean): void => {
    if (depth > MAX_DEPTH || source.trim() === '') return;
    const parsed = parseShell(source);
    for (const pipeline of parsed.pipelines) {
      const commands: CommandInvocation[] = [];
      const nested: { script: string; start: number }[] = [];
      for (const c of pipeline) {
        const s = stripWrappers(c.words);
        // A finding points at the command, past leading keywords (`if`, `then`, `do`, `!`…) but not past wrappers.
        let w = 0;
        while (w < c.words.length - 1 && KEYWORDS.has(c.words[w])) w += c.words[w] === 'function' && c.words[w + 2] === '{' && c.words.length > w + 3 ? 2 : 1;
        const start = pinned ? offset : offset + (w > 0 ? (c.wordStarts[w] ?? c.start) : c.start);
        commands.push({
          argv: s.argv,
          env: s.env,
          unset: s.unset,
          clearsEnv: s.clearsEnv,
          defaultPath: s.defaultPath,
          redirects: c.redirects,
          heredocs: c.heredocs,
          raw: c.raw,
          start,
        });
        for (const script of nestedScripts(s.argv, c.heredocs)) nested.push({ script, start });
      }
      result.push({ commands });
      for (const n of nested) visit(n.script, depth + 1, n.start, true);
    }
    for (const sub of parsed.substitutions) visit(sub.text, depth + 1, pinned ? offset : offset + sub.start, pinned);
  };
  visit(src, 0, 0, false);
  return result;
}
