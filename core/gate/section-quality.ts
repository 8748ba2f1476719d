// Whether a section's body says something. A heading followed by `TBD`, a few characters, the names of other
// sections, or the same word over and over is present but weak: it does not count towards approval.
import { looksLikeCommandWord } from './known-commands.js';
import { SECTION_NAMES, type SectionName } from './sections.js';

export type WeakReason = 'empty' | 'placeholder' | 'too_short' | 'stuffed' | 'repetitive' | 'duplicate';

/** Thresholds, exported so docs and tests name the same numbers. */
export const MIN_WORDS = 3;
export const MIN_CHARS = 15;

const PLACEHOLDER_LINES = new Set([
  'tbd', 'tba', 'tbc', 'n/a', 'na', 'n.a', 'none', 'nil', 'null', 'todo', 'to do', 'fixme', 'xxx', '...', '…', '-',
  '--', '—', '–', '?', '??', '???', 'same as above', 'see above', 'see below', 'as above', 'pending', 'later',
  'not applicable', 'nothing', 'empty', 'to be determined', 'to be defined', 'to be decided', 'to be done', 'unknown',
  'placeholder', 'lorem ipsum', 'etc', 'ok', 'yes', 'no', 'default', 'standard', 'usual', 'the usual', 'n/a.',
]);
/** A body that *starts* with one of these is a stub whatever follows ("TODO: write the tests later"). */
const STUB_FIRST_WORDS = new Set(['tbd', 'tba', 'tbc', 'todo', 'fixme', 'xxx', 'placeholder', 'lorem']);

const SECTION_WORDS = new Set(
  SECTION_NAMES.flatMap((n) => n.toLowerCase().split('_')).concat([
    'deliverable', 'criterion', 'boundary', 'dependency', 'mitigations', 'tests', 'result', 'resources', 'requirement',
    'risks', 'metric', 'section', 'sections', 'and',
  ]),
);

const WORD = /[\p{L}\p{N}][\p{L}\p{N}'’._/-]*/gu;

/** Body text without Markdown furniture: fence lines, list/quote markers, emphasis and code ticks. */
export function plainBody(body: string): string {
  return body
    .split('\n')
    .filter((l) => !/^\s{0,3}(?:`{3,}|~{3,})/.test(l))
    .map((l) =>
      l
        .replace(/^\s*(?:>\s*)*(?:[-*+]|\d{1,3}[.)]|\[[ xX]\])?\s*/, '')
        .replace(/\*\*|__|`/g, '')
        .trim(),
    )
    .filter((l) => l.length > 0)
    .join('\n');
}

function normLine(line: string): string {
  return line
    .toLowerCase()
    .replace(/^[\s\-*+>]+/, '')
    .replace(/[\s.:;!,]+$/, '')
    .trim();
}

/** `_NAME_` of each section, as searched for in folded text. */
const SECTION_NEEDLES: readonly (readonly [SectionName, string])[] = SECTION_NAMES.map((n) => [n, `_${n}_`] as const);

/** Full section names (folded) mentioned in the text, other than `self`. */
function otherSectionMentions(text: string, self: SectionName): number {
  const folded = `_${text.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_`;
  let n = 0;
  for (const [name, needle] of SECTION_NEEDLES) if (name !== self && folded.includes(needle)) n++;
  return n;
}

/** A TEST_PROCESS may legitimately be one short command (`npm test`): a command counts as substance. */
function hasCommand(body: string): boolean {
  if (/```|~~~/.test(body) || /`[^`\n]{4,}`/.test(body)) return true;
  return body.split('\n').some((l) => {
    const m = /^\s*(?:[-*+]\s+|\d+[.)]\s+)?(\$\s+)?(\S+)\s+\S/.exec(l);
    return !!m && (!!m[1] || looksLikeCommandWord(m[2])) && l.trim().length >= 8;
  });
}

/** `text` is plainBody(body) when the caller has it already. */
export function assessSection(name: SectionName, body: string, text: string = plainBody(body)): WeakReason | null {
  if (text.length === 0) return 'empty';
  const lines = text.split('\n').map(normLine).filter(Boolean);
  if (lines.length === 0 || lines.every((l) => PLACEHOLDER_LINES.has(l) || /^[\s\p{P}\p{S}]*$/u.test(l))) return 'placeholder';
  const words = (text.match(WORD) ?? []).map((w) => w.toLowerCase().replace(/[.'’]+$/, ''));
  if (words.length > 0 && STUB_FIRST_WORDS.has(words[0].replace(/[:.]$/, ''))) return 'placeholder';
  const unique = new Set(words);
  const commandOk = name === 'TEST_PROCESS' && hasCommand(body);
  if (!commandOk && (words.length < MIN_WORDS || unique.size < MIN_WORDS || text.length < MIN_CHARS)) return 'too_short';
  const tokens = text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean); // SUCCESS_CRITERIA → success, criteria
  const sectionWordRatio = tokens.filter((w) => SECTION_WORDS.has(w)).length / Math.max(1, tokens.length);
  // Mentions matter only when section words make up 40 % of the text: counted then (the ratio is the cheaper test).
  if (sectionWordRatio >= 0.4) {
    const mentions = otherSectionMentions(text, name);
    if (mentions >= 3 || (mentions >= 2 && sectionWordRatio >= 0.6)) return 'stuffed';
  }
  const uniqueRatio = unique.size / Math.max(1, words.length);
  if (words.length >= 6 && uniqueRatio < (words.length > 40 ? 0.3 : 0.4)) return 'repetitive';
  return null;
}

/**
 * The same non-trivial body pasted into 3+ sections is filler: each of those sections is weak. `plain` gives
 * plainBody() of a section when the caller has it already.
 */
export function duplicateSections(
  bodies: ReadonlyMap<SectionName, string>,
  plain: (name: SectionName, body: string) => string = (_n, body) => plainBody(body),
): SectionName[] {
  const byBody = new Map<string, SectionName[]>();
  for (const [name, body] of bodies) {
    const key = plain(name, body).toLowerCase().replace(/\s+/g, ' ').trim();
    if (!key) continue;
    byBody.set(key, [...(byBody.get(key) ?? []), name]);
  }
  return [...byBody.values()].filter((names) => names.length >= 3).flat();
}
