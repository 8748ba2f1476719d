// The instruction gate, pure: no I/O besides the (async) secret scan. The HTTP surface (/check), storage and events
// sit on top of this and must store/log only what it returns (everything in it is already redacted).
//
// GateResult (stable; documented in docs/gate.md):
//   approved             true only if all 10 sections are substantive, no forbidden action is asked for, no secret
//   decision             'APPROVED' | 'REJECTED'
//   score                0..100: 10 per substantive section, minus 20 per distinct forbidden-action rule hit,
//                        0 whenever a secret is present
//   missing_sections     sections with no heading/label at all, in framework order
//   weak_sections        sections present but not substantive, in framework order
//   weak_reasons         why each weak section is weak: empty | placeholder | too_short | stuffed | repetitive | duplicate
//   violations           [{rule, excerpt}] forbidden actions (rule ids from core/policy/instruction-rules.ts) and
//                        secrets (rule `secret:<kind>`); excerpts are redacted and at most 200 characters
//   redacted_instruction the instruction (objects rendered as Markdown) with every secret replaced by [REDACTED:<kind>]
//   sections             body of each present section, redacted
//   test_process         the TEST_PROCESS command(s) for later re-runs, redacted; absent when none is recognisable
import { scanSecrets } from '../secrets/scan-secrets.js';
import { redactWithSpans } from '../secrets/redact-secrets.js';
import { excerptOf, findViolations, type Violation } from './find-violations.js';
import { instructionText } from './instruction-text.js';
import { runnableSnippets, testProcessCommands } from './runnable-snippets.js';
import { assessSection, duplicateSections, plainBody, type WeakReason } from './section-quality.js';
import { parseInstruction, SECTION_NAMES, type SectionName } from './sections.js';

export type GateDecision = 'APPROVED' | 'REJECTED';

export interface GateResult {
  approved: boolean;
  decision: GateDecision;
  score: number;
  missing_sections: SectionName[];
  weak_sections: SectionName[];
  weak_reasons: Partial<Record<SectionName, WeakReason>>;
  violations: Violation[];
  redacted_instruction: string;
  sections: Partial<Record<SectionName, string>>;
  test_process?: string;
}

export const POINTS_PER_SECTION = 10;
export const PENALTY_PER_RULE = 20;

/** Judge an instruction (Markdown text or object). Throws WGM_ERR_GATE_INVALID (400) for input of the wrong shape. */
export async function checkInstruction(instruction: unknown): Promise<GateResult> {
  const { text } = instructionText(instruction);
  const findings = await scanSecrets(text);
  const redacted = redactWithSpans(text, findings);
  // Everything below works on the redacted text, so no secret can reach a section, an excerpt or test_process.
  const doc = parseInstruction(redacted.text);

  const missing: SectionName[] = [];
  const weakReasons: Partial<Record<SectionName, WeakReason>> = {};
  const sections: Partial<Record<SectionName, string>> = {};
  // Each body's plain text is worked out once, for the section's own assessment and for the duplicate check.
  const plain = new Map<SectionName, string>();
  for (const name of SECTION_NAMES) {
    const body = doc.bodies.get(name);
    if (body === undefined) {
      missing.push(name);
      continue;
    }
    sections[name] = body;
    const text = plainBody(body);
    plain.set(name, text);
    const reason = assessSection(name, body, text);
    if (reason) weakReasons[name] = reason;
  }
  const substantiveBodies = new Map([...doc.bodies].filter(([name]) => !weakReasons[name]));
  for (const name of duplicateSections(substantiveBodies, (n, body) => plain.get(n) ?? plainBody(body))) weakReasons[name] = 'duplicate';
  const weak = SECTION_NAMES.filter((n) => weakReasons[n] !== undefined);

  const snippets = runnableSnippets(doc);
  const actionViolations = findViolations(snippets);
  const secretViolations: Violation[] = [];
  const seenSecret = new Set<string>();
  for (const span of redacted.spans) {
    const v = { rule: `secret:${span.kind}`, excerpt: excerptOf(lineAround(redacted.text, span.start)) };
    const key = `${v.rule}\u0000${v.excerpt}`;
    if (!seenSecret.has(key)) secretViolations.push(v);
    seenSecret.add(key);
  }

  const substantive = SECTION_NAMES.length - missing.length - weak.length;
  const distinctRules = new Set(actionViolations.map((v) => v.rule)).size;
  const score =
    secretViolations.length > 0
      ? 0
      : Math.max(0, Math.min(100, substantive * POINTS_PER_SECTION - distinctRules * PENALTY_PER_RULE));
  const approved = missing.length === 0 && weak.length === 0 && actionViolations.length === 0 && secretViolations.length === 0;
  const result: GateResult = {
    approved,
    decision: approved ? 'APPROVED' : 'REJECTED',
    score,
    missing_sections: missing,
    weak_sections: weak,
    weak_reasons: weakReasons,
    violations: [...actionViolations, ...secretViolations],
    redacted_instruction: redacted.text,
    sections,
  };
  const tp = testProcessCommands(doc, snippets);
  if (tp !== undefined) result.test_process = tp;
  return result;
}

function lineAround(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const end = text.indexOf('\n', offset);
  return text.slice(start, end === -1 ? text.length : end);
}
