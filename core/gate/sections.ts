// The 10-point framework's sections and how they are found in an instruction: Markdown headings (`## DELIVERABLES`,
// `### Success Criteria`), bold labels (`**Success Criteria**`, `**Success Criteria:** …`) and `LABEL:` lines
// (`TEST_PROCESS: npm test`), case-, `_`-, space- and `-`-insensitive. Lines inside fenced code blocks never start a
// section. Each line keeps its section so the gate knows which text belongs to TEST_PROCESS, BOUNDARIES, etc.

export const SECTION_NAMES = [
  'DELIVERABLES',
  'SUCCESS_CRITERIA',
  'BOUNDARIES',
  'DEPENDENCIES',
  'MITIGATION',
  'TEST_PROCESS',
  'TEST_RESULTS_FORMAT',
  'RESOURCE_REQUIREMENTS',
  'RISK_ASSESSMENT',
  'QUALITY_METRICS',
] as const;

export type SectionName = (typeof SECTION_NAMES)[number];

const ALIASES: Record<string, SectionName> = {
  DELIVERABLE: 'DELIVERABLES',
  SUCCESS_CRITERION: 'SUCCESS_CRITERIA',
  BOUNDARY: 'BOUNDARIES',
  DEPENDENCY: 'DEPENDENCIES',
  MITIGATIONS: 'MITIGATION',
  TEST_PROCESSES: 'TEST_PROCESS',
  TEST_RESULT_FORMAT: 'TEST_RESULTS_FORMAT',
  TEST_RESULTS_FORMATS: 'TEST_RESULTS_FORMAT',
  RESOURCE_REQUIREMENT: 'RESOURCE_REQUIREMENTS',
  RESOURCES_REQUIREMENTS: 'RESOURCE_REQUIREMENTS',
  RISK_ASSESSMENTS: 'RISK_ASSESSMENT',
  QUALITY_METRIC: 'QUALITY_METRICS',
};
for (const name of SECTION_NAMES) ALIASES[name] = name;

/** `### 6. Test Process:` → `TEST_PROCESS` (a key into ALIASES); emphasis, numbering and a trailing colon dropped. */
export function foldLabel(label: string): string {
  return label
    .normalize('NFKC')
    .replace(/[*`]/g, '')
    .trim()
    .replace(/^(?:\d{1,2}|[A-Za-z])[.)]\s+/, '')
    .replace(/\s*\([^)]*\)\s*$/, '')
    .replace(/[:.]\s*$/, '')
    .toUpperCase()
    .replace(/[\s_-]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

export function sectionOf(label: string): SectionName | null {
  return ALIASES[foldLabel(label)] ?? null;
}

export interface InstructionLine {
  text: string;
  /** Offset of the line's first character in the document. */
  start: number;
  section: SectionName | null;
  /** Starts a section (heading, bold label or LABEL: line); `inline` is its same-line body. */
  header?: { section: SectionName | null; inline: string; inlineStart: number };
  /** Inside a fenced code block (the fence lines themselves included). */
  fence?: { info: string; open: boolean; close: boolean };
}

export interface ParsedInstruction {
  lines: InstructionLine[];
  /** Body text per present section (several occurrences joined by a newline). */
  bodies: Map<SectionName, string>;
}

const MD_HEADING = /^\s{0,3}#{1,6}[ \t]+(.*?)[ \t]*#*[ \t]*$/;
const BOLD_LABEL = /^\s{0,3}(?:[-*+][ \t]+|\d{1,2}[.)][ \t]+)?(\*\*|__)(.+?)\1[ \t]*:?[ \t]*(.*)$/;
const COLON_LABEL = /^\s{0,3}(?:[-*+][ \t]+|\d{1,2}[.)][ \t]+)?([A-Za-z][A-Za-z0-9 _\-()]{1,60}?)[ \t]*:(?!\/\/)[ \t]*(.*)$/;
const FENCE = /^\s{0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)/;

function detectHeader(line: string): InstructionLine['header'] | undefined {
  const h = MD_HEADING.exec(line);
  if (h) {
    const text = h[1];
    const whole = sectionOf(text);
    if (whole) return { section: whole, inline: '', inlineStart: line.length };
    const colon = text.indexOf(':');
    if (colon !== -1) {
      const s = sectionOf(text.slice(0, colon));
      if (s) {
        const inline = text.slice(colon + 1).trim();
        return { section: s, inline, inlineStart: inline ? line.indexOf(inline, line.indexOf(':')) : line.length };
      }
    }
    return { section: null, inline: '', inlineStart: line.length }; // some other heading ends the current section
  }
  const b = BOLD_LABEL.exec(line);
  if (b) {
    const s = sectionOf(b[2]);
    if (s) return { section: s, inline: b[3], inlineStart: line.length - b[3].length };
  }
  const c = COLON_LABEL.exec(line);
  if (c) {
    const s = sectionOf(c[1]);
    if (s) return { section: s, inline: c[2], inlineStart: line.length - c[2].length };
  }
  return undefined;
}

export function parseInstruction(text: string): ParsedInstruction {
  const lines: InstructionLine[] = [];
  const bodies = new Map<SectionName, string[]>();
  let current: SectionName | null = null;
  // The open fence and the line that closes it (made once per fence, not once per line inside it).
  let fence: { closing: RegExp; info: string } | null = null;
  let offset = 0;
  for (const raw of text.split('\n')) {
    const start = offset;
    offset += raw.length + 1;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const entry: InstructionLine = { text: line, start, section: current };
    if (fence) {
      const close = fence.closing.test(line);
      entry.fence = { info: fence.info, open: false, close };
      if (close) fence = null;
    } else {
      const f = FENCE.exec(line);
      if (f) {
        fence = { closing: new RegExp(`^\\s{0,3}${f[1][0] === '`' ? '`' : '~'}{${f[1].length},}\\s*$`), info: f[2].toLowerCase() };
        entry.fence = { info: fence.info, open: true, close: false };
      } else {
        const header = detectHeader(line);
        if (header) {
          entry.header = header;
          current = header.section;
          entry.section = current;
          if (current) {
            const list = bodies.get(current) ?? [];
            if (header.inline) list.push(header.inline);
            bodies.set(current, list);
          }
          lines.push(entry);
          continue;
        }
      }
    }
    if (current) bodies.get(current)!.push(line);
    lines.push(entry);
  }
  const joined = new Map<SectionName, string>();
  for (const [name, parts] of bodies) joined.set(name, parts.join('\n').trim());
  return { lines, bodies: joined };
}
