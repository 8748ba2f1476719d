// An instruction arrives as Markdown text or as an object ({"DELIVERABLES": "…", "success criteria": ["…"], …}).
// Objects are rendered to Markdown (`## <SECTION>` per section key) so one parser, one secret scan and one redacted
// copy serve both forms. Nested scalars are rendered as `key: "json string"` so `"password": "…"` stays recognisable.
import { wingmanError } from '../errors.js';
import { sectionOf } from './sections.js';

/** Larger instructions are refused (400) rather than scanned. */
export const MAX_INSTRUCTION_CHARS = 256 * 1024;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const oneLine = (s: string): string => s.replace(/[\r\n]+/g, ' ').trim();

function scalar(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v) ?? '';
}

/** A section's body: strings as written, lists as `- item` lines, objects as `key: "value"` lines. */
function renderBody(v: unknown): string {
  if (Array.isArray(v)) {
    return v
      .map((item) => {
        const text = typeof item === 'string' ? item : JSON.stringify(item) ?? '';
        return `- ${text.replace(/\n/g, '\n  ')}`;
      })
      .join('\n');
  }
  if (isPlainObject(v)) return Object.entries(v).map(([k, x]) => renderMember(k, x)).join('\n');
  return scalar(v);
}

function renderMember(key: string, v: unknown): string {
  const k = oneLine(key);
  if (Array.isArray(v)) return `${k}:\n${renderBody(v)}`;
  if (typeof v === 'string') return `${k}: ${JSON.stringify(v)}`;
  return `${k}: ${JSON.stringify(v) ?? ''}`;
}

export function renderInstructionObject(obj: Record<string, unknown>): string {
  const other: string[] = [];
  const sections: string[] = [];
  for (const [key, value] of Object.entries(obj)) {
    const name = sectionOf(oneLine(key));
    if (name) sections.push(`## ${name}\n${renderBody(value)}`);
    else other.push(renderMember(key, value));
  }
  return [...other, ...(other.length ? [''] : []), ...sections.flatMap((s) => [s, ''])].join('\n').trimEnd();
}

/** Markdown text for either form; a string holding a JSON object is treated as the object form. */
export function instructionText(instruction: unknown): { text: string; form: 'markdown' | 'object' } {
  let value = instruction;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed.startsWith('{') && trimmed.endsWith('}')) {
      try {
        const parsed: unknown = JSON.parse(trimmed);
        if (isPlainObject(parsed)) value = parsed;
      } catch {
        // Not JSON: Markdown that happens to start with a brace.
      }
    }
  }
  let text: string;
  let form: 'markdown' | 'object';
  if (typeof value === 'string') {
    text = value;
    form = 'markdown';
  } else if (isPlainObject(value)) {
    try {
      text = renderInstructionObject(value);
    } catch (err) {
      throw wingmanError('WGM_ERR_GATE_INVALID', 'instruction object cannot be read', undefined, err); // e.g. a cycle
    }
    form = 'object';
  } else {
    throw wingmanError('WGM_ERR_GATE_INVALID', 'instruction must be Markdown text or an object of sections');
  }
  if (text.length > MAX_INSTRUCTION_CHARS) {
    throw wingmanError('WGM_ERR_GATE_INVALID', `instruction longer than ${MAX_INSTRUCTION_CHARS} characters`);
  }
  return { text: text.replace(/\r\n?/g, '\n'), form };
}
