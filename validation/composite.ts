// The composite: per-validator scores, one weighted score, and the decision. Documented in docs/output-validation.md.
//
//   validator score = clamp(base − Σ penalty(severity), 0, 100)
//     base: 100, except the test validator (100 passing results / 60 tests changed without results /
//           20 source changed without tests / 100 no source changed / 0 failing results)
//     penalty: CRITICAL 100, HIGH 40, MEDIUM 10, LOW 3, INFO 0
//   score = floor((25·syntax + 30·security + 20·dependency + 25·test) / 100)      (floor: never round up into approval)
//   decision: any blocking finding (CRITICAL or HIGH) → AUTO_REJECT
//             else score ≥ 70 → AUTO_APPROVE
//             else → MANUAL_REVIEW
//
// Blocking findings include every hard rule: a syntax error, a file that cannot be read, an unresolved import,
// failing or too few tests, any HIGH/CRITICAL security or dependency finding. So a high score never approves them.
import { isBlockingSeverity, VALIDATORS, type Decision, type Finding, type Severity, type ValidatorName, type ValidatorOutcome, type ValidatorReport } from './types.js';

export const WEIGHTS: Readonly<Record<ValidatorName, number>> = { syntax: 25, security: 30, dependency: 20, test: 25 };
export const PENALTIES: Readonly<Record<Severity, number>> = { CRITICAL: 100, HIGH: 40, MEDIUM: 10, LOW: 3, INFO: 0 };
export const APPROVE_AT = 70;

export function validatorScore(base: number, findings: readonly Pick<Finding, 'severity'>[]): number {
  const penalty = findings.reduce((s, f) => s + PENALTIES[f.severity], 0);
  return Math.max(0, Math.min(100, base - penalty));
}

export function compositeScore(scores: Readonly<Record<ValidatorName, number>>): number {
  let sum = 0;
  for (const v of VALIDATORS) sum += WEIGHTS[v] * Math.max(0, Math.min(100, scores[v]));
  return Math.floor(sum / 100);
}

/** The decision table. Pure; `blocking` is the number (or presence) of blocking findings. */
export function compositeDecision(score: number, blocking: number | boolean): Decision {
  if (blocking === true || (typeof blocking === 'number' && blocking > 0)) return 'AUTO_REJECT';
  if (!Number.isFinite(score)) return 'MANUAL_REVIEW';
  return score >= APPROVE_AT ? 'AUTO_APPROVE' : 'MANUAL_REVIEW';
}

export interface Composite {
  score: number;
  decision: Decision;
  blocking: Finding[];
  validators: Record<ValidatorName, ValidatorReport>;
  reasons: string[];
}

function countBySeverity(findings: readonly Finding[]): string {
  const parts: string[] = [];
  for (const s of ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const) {
    const n = findings.filter((f) => f.severity === s).length;
    if (n) parts.push(`${n} ${s}`);
  }
  return parts.join(', ');
}

export function describeFinding(f: Finding): string {
  const loc = f.file ? `${f.file}${f.line ? `:${f.line}${f.column ? `:${f.column}` : ''}` : ''}` : '';
  return `${loc ? loc + ' ' : ''}[${f.rule}] ${f.message}`;
}

/** Scores, decision and reasons from the validators' outcomes. */
export function composeOutcomes(outcomes: Readonly<Record<ValidatorName, ValidatorOutcome>>): Composite {
  const validators = {} as Record<ValidatorName, ValidatorReport>;
  const scores = {} as Record<ValidatorName, number>;
  const reasons: string[] = [];
  const blocking: Finding[] = [];
  for (const v of VALIDATORS) {
    const o = outcomes[v];
    const score = validatorScore(o.base, o.findings);
    const blockingHere = o.findings.filter((f) => isBlockingSeverity(f.severity));
    blocking.push(...blockingHere);
    scores[v] = score;
    const counted = countBySeverity(o.findings);
    const status = blockingHere.length > 0 ? 'fail' : counted || score < APPROVE_AT ? 'warn' : 'pass';
    const summary = [`${score}/100`, counted || 'no findings', ...o.notes].join('; ');
    validators[v] = { status, score, findings: o.findings.length, blocking: blockingHere.length, checked: o.checked, summary };
  }
  const score = compositeScore(scores);
  const decision = compositeDecision(score, blocking.length);
  if (decision === 'AUTO_REJECT') {
    reasons.push(`rejected: ${blocking.length} blocking issue${blocking.length === 1 ? '' : 's'} (any CRITICAL or HIGH finding rejects, whatever the score)`);
  } else if (decision === 'AUTO_APPROVE') {
    reasons.push(`approved: score ${score} ≥ ${APPROVE_AT} and no blocking issue`);
  } else {
    reasons.push(`needs a human: no blocking issue, but score ${score} < ${APPROVE_AT}`);
  }
  for (const v of VALIDATORS) reasons.push(`${v} (weight ${WEIGHTS[v]}%): ${validators[v].summary}`);
  return { score, decision, blocking, validators, reasons };
}
