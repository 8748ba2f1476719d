// Which parts of an instruction ask the worker to RUN something. Forbidden actions count only there: a prohibition
// ("never use `git push --force`", "Do not run `rm -rf /`") names a command without asking for it.
//
// Runnable: fenced code blocks (shell-ish ones are parsed, others only get the text rules), inline code spans,
// `$ cmd` lines, bare lines starting with a known command, "run <command>" in prose, and every line of TEST_PROCESS.
// Not runnable: anything whose clause is governed by a negation (never / not / don't / avoid / forbidden / no /
// without / instead of …), list items and code blocks under a negated lead-in line ("Never run these:"), and, in the
// descriptive sections BOUNDARIES / RISK_ASSESSMENT / MITIGATION, mentions that no run-verb asks for.
import { looksLikeCommandWord } from './known-commands.js';
import type { InstructionLine, ParsedInstruction, SectionName } from './sections.js';

export interface Snippet {
  text: string;
  origin: 'fence' | 'code_span' | 'command_line' | 'prose_command' | 'test_process';
  section: SectionName | null;
  /** false: only the text rules apply (YAML, SQL, JSON blocks…); true: also parsed as shell. */
  shell: boolean;
}

const DESCRIPTIVE = new Set<SectionName>(['BOUNDARIES', 'RISK_ASSESSMENT', 'MITIGATION']);
const SHELL_INFOS = new Set(['', 'sh', 'bash', 'shell', 'zsh', 'console', 'terminal', 'shell-session', 'shellsession', 'ksh', 'dash', 'cmd', 'command', 'commands', 'text', 'plaintext', 'txt']);
const PROMPT_INFOS = new Set(['console', 'terminal', 'shell-session', 'shellsession']);

const NEG_CUE =
  /\b(?:never|not|no|don'?t|doesn'?t|won'?t|mustn'?t|shouldn'?t|can'?t|cannot|avoid(?:ing)?|forbid(?:den)?|prohibit(?:ed)?|disallow(?:ed)?|ban(?:ned)?|refrain|without|instead\s+of|rather\s+than|except)\b/gi;
/** "don't forget to run `x`" and "not only `x`" ask for x. */
const FALSE_NEG_AFTER =
  /^\s+(?:forget|hesitate|fail|skip|omit|neglect|worry|only|just|(?:a\s+|any\s+)?(?:problem|issue|harm|big\s+deal)|need\s+to\s+ask|matter)\b/i;
const CLAUSE_BREAK =
  /,\s*(?:and\s+|then\s+|but\s+|so\s+)?(?:run|execute|exec|use|call|invoke|type|do|perform|try)\b|\b(?:then|but|instead|however|afterwards|otherwise)\b/i;
const SUFFIX_NEG =
  /^\s*(?:\([^)]*\)\s*)?(?:(?:is|are|was|were|must\s+be|should\s+be|will\s+be|stays|remains)\s+)?(?:strictly\s+|absolutely\s+|always\s+)?(?:forbidden|prohibited|not\s+(?:allowed|permitted)|disallowed|banned|off-limits|never\s+(?:allowed|permitted|to\s+be)|not\s+to\s+be)\b|^\s*(?:must|should|may|shall)\s+(?:never|not)\b|^\s*(?:is|are)\s+(?:never|not)\s+(?:to\s+be\s+)?(?:run|used|executed)\b/i;
const RUN_VERB = /\b(?:run|runs|running|execute|exec|invoke|call|type|perform|use|do)\b/i;

/** The last negation cue in `prefix` that governs its end (no clause break after it), if any. */
function governedByNegation(prefix: string): boolean {
  let last: { index: number; len: number } | null = null;
  for (const m of prefix.matchAll(NEG_CUE)) {
    const after = prefix.slice(m.index + m[0].length);
    if (FALSE_NEG_AFTER.test(after)) continue;
    last = { index: m.index, len: m[0].length };
  }
  if (!last) return false;
  return !CLAUSE_BREAK.test(prefix.slice(last.index + last.len));
}

function hasNegation(text: string): boolean {
  for (const m of text.matchAll(NEG_CUE)) {
    if (!FALSE_NEG_AFTER.test(text.slice(m.index + m[0].length))) return true;
  }
  return false;
}

/** Clause context is looked at this far around a span at most (keeps a line of 40k spans linear). */
const CLAUSE_WINDOW = 400;
const SENTENCE_END = /[.!?;](?:\s|$)/g;

/** Offsets just after each sentence end of a line, ascending. */
function sentenceBounds(line: string): number[] {
  return [...line.matchAll(SENTENCE_END)].map((m) => m.index + m[0].length);
}

/** Sentence containing [s, e) of `line`: from the previous `. ! ? ;` (followed by a space) to the next. */
function clauseAround(line: string, bounds: readonly number[], s: number, e: number): { prefix: string; suffix: string } {
  let lo = 0;
  let hi = bounds.length; // first bound > s
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (bounds[mid] <= s) lo = mid + 1;
    else hi = mid;
  }
  const from = Math.max(lo > 0 ? bounds[lo - 1] : 0, s - CLAUSE_WINDOW);
  let next = line.length;
  for (let k = lo; k < bounds.length; k++) {
    if (bounds[k] > e) {
      next = bounds[k];
      break;
    }
  }
  return { prefix: line.slice(from, s), suffix: line.slice(e, Math.min(next, e + CLAUSE_WINDOW)) };
}

const LIST_ITEM = /^\s*(?:[-*+]|\d{1,3}[.)])\s+/;

/**
 * For each line: is it under a negated lead-in ("Never run any of these:")? List items and code blocks below such a
 * line (through at most one blank line) are examples of what not to do. One forward pass.
 */
function negatedLeadIns(lines: readonly InstructionLine[]): boolean[] {
  const out: boolean[] = [];
  let lead = false;
  let blanks = 0;
  for (const l of lines) {
    out.push(lead && blanks <= 1);
    const text = l.text.trim();
    if (l.fence) {
      lead = false;
      blanks = 0;
    } else if (text === '') blanks++;
    else if (LIST_ITEM.test(l.text)) continue;
    else if (l.header && !l.header.inline) {
      lead = false;
      blanks = 0;
    } else {
      const leadText = l.header ? l.header.inline.trim() : text;
      lead = /:$/.test(leadText) && hasNegation(leadText);
      blanks = 0;
    }
  }
  return out;
}

function stripListMarker(text: string): string {
  return text.replace(/^\s*(?:>\s*)*(?:[-*+]|\d{1,3}[.)])?\s*(?:\[[ xX]\]\s*)?/, '');
}

const CODE_SPAN = /(`+)([^`]+?)\1(?!`)/g;

function fenceContent(lines: InstructionLine[], info: string): string {
  const body = lines.filter((l) => !l.fence?.open && !l.fence?.close).map((l) => l.text);
  if (PROMPT_INFOS.has(info)) {
    return body
      .map((l) => /^\s*(?:[$#%>]|PS>)\s+(.*)$/.exec(l)?.[1])
      .filter((l): l is string => l !== undefined)
      .join('\n');
  }
  if (info === 'dockerfile' || info === 'containerfile') {
    return body
      .map((l) => /^\s*RUN\s+(.*)$/i.exec(l)?.[1])
      .filter((l): l is string => l !== undefined)
      .join('\n');
  }
  return body.map((l) => l.replace(/^\s*\$\s+/, '')).join('\n');
}

/** "…then run git push --force to publish": the command after a run-verb in prose, up to the clause end. */
const PROSE_RUN = /\b(?:run|execute|exec|invoke|type)\s*:?\s+((?:sudo\s+)?[a-z][\w.-]*(?:\s+[^\s.;!?]+(?:\.[^\s.;!?]+)*)*)/gi;

export function runnableSnippets(doc: ParsedInstruction): Snippet[] {
  const out: Snippet[] = [];
  const { lines } = doc;
  const leadIns = negatedLeadIns(lines);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const section = line.section;
    if (line.fence?.open) {
      const block: InstructionLine[] = [line];
      let j = i + 1;
      while (j < lines.length && lines[j].fence && !lines[j].fence!.open) {
        block.push(lines[j]);
        if (lines[j].fence!.close) break;
        j++;
      }
      const info = line.fence.info;
      if (!leadIns[i]) {
        const shell = SHELL_INFOS.has(info) || info === 'dockerfile' || info === 'containerfile';
        out.push({ text: fenceContent(block, info), origin: 'fence', section, shell });
      }
      i = i + block.length - 1;
      continue;
    }
    if (line.fence) continue;
    const text = line.text;
    const underNegatedLeadIn = LIST_ITEM.test(text) && leadIns[i];
    // Sentence bounds only for lines that need them (most have no code span and no run-verb).
    let bounds: number[] | undefined;
    let spans = 0;
    for (const m of text.matchAll(CODE_SPAN)) {
      spans++;
      const s = m.index;
      const e = s + m[0].length;
      const { prefix, suffix } = clauseAround(text, (bounds ??= sentenceBounds(text)), s, e);
      const negated = underNegatedLeadIn || governedByNegation(prefix) || SUFFIX_NEG.test(suffix);
      const descriptive = section !== null && DESCRIPTIVE.has(section);
      if (negated || (descriptive && !RUN_VERB.test(prefix))) continue;
      out.push({ text: m[2].trim(), origin: 'code_span', section, shell: true });
    }
    const content = line.header ? line.header.inline : stripListMarker(text);
    if (!content.trim()) continue;
    const prompt = /^\s*\$\s+(.*)$/.exec(content);
    if (prompt) {
      out.push({ text: prompt[1], origin: 'command_line', section, shell: true });
      continue;
    }
    const withoutSpans = content.replace(CODE_SPAN, ' ');
    // A trailing shell comment does not make a command line prose: `git push --force  # never mind`.
    const beforeComment = withoutSpans.replace(/(?:^|\s)#.*$/, '');
    const negatedLine = underNegatedLeadIn || hasNegation(beforeComment);
    if (spans === 0 && !negatedLine) {
      const first = content.trim().split(/\s+/)[0] ?? '';
      if (section === 'TEST_PROCESS') {
        out.push({ text: content, origin: 'test_process', section, shell: true });
        continue;
      }
      if (looksLikeCommandWord(first) && !(section !== null && DESCRIPTIVE.has(section))) {
        out.push({ text: content, origin: 'command_line', section, shell: true });
        continue;
      }
    }
    // "… then run git push --force to publish." — a command named in prose after a run-verb.
    let proseBounds: number[] | undefined;
    for (const m of withoutSpans.matchAll(PROSE_RUN)) {
      const cmd = m[1];
      const first = cmd.replace(/^sudo\s+/, '').split(/\s+/)[0];
      if (!looksLikeCommandWord(first)) continue;
      const { prefix, suffix } = clauseAround(withoutSpans, (proseBounds ??= sentenceBounds(withoutSpans)), m.index, m.index + m[0].length);
      if (underNegatedLeadIn || governedByNegation(prefix) || SUFFIX_NEG.test(suffix)) continue;
      out.push({ text: cmd, origin: 'prose_command', section, shell: true });
    }
  }
  return out;
}

/**
 * The TEST_PROCESS command(s), for re-running later: fenced blocks, else code spans, else command-looking lines.
 * `all` is runnableSnippets(doc) when the caller has it already (the gate does: one pass instead of two).
 */
export function testProcessCommands(doc: ParsedInstruction, all: readonly Snippet[] = runnableSnippets(doc)): string | undefined {
  const snippets = all.filter((s) => s.section === 'TEST_PROCESS' && s.shell);
  const pick = (origin: Snippet['origin'][]): string[] => snippets.filter((s) => origin.includes(s.origin)).map((s) => s.text.trim());
  for (const group of [['fence'], ['code_span'], ['command_line', 'prose_command']] as Snippet['origin'][][]) {
    const found = pick(group).filter(Boolean);
    if (found.length > 0) return found.join('\n');
  }
  const lines = snippets
    .filter((s) => s.origin === 'test_process')
    .map((s) => s.text.trim())
    .filter((l) => looksLikeCommandWord(l.split(/\s+/)[0] ?? ''));
  return lines.length > 0 ? lines.join('\n') : undefined;
}
