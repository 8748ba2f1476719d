// The composite: weights, penalties, the decision table at its boundaries (29/30/69/70), and the hard rule that a
// blocking finding rejects whatever the score.
import t from 'tap';
import { APPROVE_AT, composeOutcomes, compositeDecision, compositeScore, PENALTIES, validatorScore, WEIGHTS } from '../../validation/composite.js';
import { VALIDATORS, type Finding, type Severity, type ValidatorName, type ValidatorOutcome } from '../../validation/types.js';

t.test('weights sum to 100 and penalties are ordered by severity', async (t) => {
  t.equal(Object.values(WEIGHTS).reduce((a, b) => a + b, 0), 100);
  t.ok(PENALTIES.CRITICAL > PENALTIES.HIGH && PENALTIES.HIGH > PENALTIES.MEDIUM && PENALTIES.MEDIUM > PENALTIES.LOW && PENALTIES.LOW > PENALTIES.INFO);
  t.equal(APPROVE_AT, 70);
});

t.test('compositeDecision(score, blocking): the table at its boundaries', async (t) => {
  const rows: [number, number | boolean, string][] = [
    [100, 0, 'AUTO_APPROVE'],
    [70, 0, 'AUTO_APPROVE'],
    [69, 0, 'MANUAL_REVIEW'],
    [30, 0, 'MANUAL_REVIEW'],
    [29, 0, 'MANUAL_REVIEW'],
    [0, 0, 'MANUAL_REVIEW'],
    [100, 1, 'AUTO_REJECT'],
    [70, true, 'AUTO_REJECT'],
    [69, 2, 'AUTO_REJECT'],
    [29, 1, 'AUTO_REJECT'],
    [Number.NaN, 0, 'MANUAL_REVIEW'],
  ];
  for (const [score, blocking, want] of rows) t.equal(compositeDecision(score, blocking), want, `compositeDecision(${score}, ${blocking})`);
});

t.test('validator score: base minus penalties, clamped', async (t) => {
  const f = (...s: Severity[]) => s.map((severity) => ({ severity }));
  t.equal(validatorScore(100, []), 100);
  t.equal(validatorScore(100, f('MEDIUM', 'MEDIUM')), 80);
  t.equal(validatorScore(100, f('LOW', 'INFO')), 97);
  t.equal(validatorScore(100, f('HIGH')), 60);
  t.equal(validatorScore(100, f('CRITICAL', 'MEDIUM')), 0);
  t.equal(validatorScore(60, f('MEDIUM')), 50);
});

t.test('composite score rounds down, never up into approval', async (t) => {
  t.equal(compositeScore({ syntax: 100, security: 100, dependency: 100, test: 100 }), 100);
  t.equal(compositeScore({ syntax: 0, security: 0, dependency: 0, test: 0 }), 0);
  // 25 + 0.3·97 + 20 + 0.25·20 = 79.1
  t.equal(compositeScore({ syntax: 100, security: 97, dependency: 100, test: 20 }), 79);
  t.equal(compositeScore({ syntax: 100, security: 99, dependency: 99, test: 0 }), 74, '25 + 29.7 + 19.8 + 0 = 74.5 → 74');
  t.equal(compositeScore({ syntax: 100, security: 83, dependency: 100, test: 0 }), 69, '25 + 24.9 + 20 + 0 = 69.9 → 69');
});

function outcome(base: number, ...severities: Severity[]): ValidatorOutcome {
  const findings: Finding[] = severities.map((severity, i) => ({
    validator: 'security',
    severity,
    file: 'x',
    line: i + 1,
    rule: 'r',
    message: 'm',
    blocking: severity === 'CRITICAL' || severity === 'HIGH',
  }));
  return { findings, checked: 1, base, notes: [] };
}
const M = (n: number): Severity[] => Array.from({ length: n }, () => 'MEDIUM' as const);

t.test('scores computed from findings land exactly on 29, 30, 69, 70', async (t) => {
  const rows: [string, Record<ValidatorName, ValidatorOutcome>, number, string][] = [
    // 25 + 30·0.8 + 20·0.3 + 25·0.6 = 70
    ['70', { syntax: outcome(100), security: outcome(100, ...M(2)), dependency: outcome(100, ...M(7)), test: outcome(60) }, 70, 'AUTO_APPROVE'],
    // 25 + 30·0.7 + 20·0.4 + 25·0.6 = 69
    ['69', { syntax: outcome(100), security: outcome(100, ...M(3)), dependency: outcome(100, ...M(6)), test: outcome(60) }, 69, 'MANUAL_REVIEW'],
    // 25 + 0 + 0 + 25·0.2 = 30
    ['30', { syntax: outcome(100), security: outcome(100, ...M(10)), dependency: outcome(100, ...M(10)), test: outcome(20) }, 30, 'MANUAL_REVIEW'],
    // 25 + 0 + 20·0.2 + 0 = 29
    ['29', { syntax: outcome(100), security: outcome(100, ...M(10)), dependency: outcome(100, ...M(8)), test: outcome(60, ...M(6)) }, 29, 'MANUAL_REVIEW'],
    // the same 70 plus one HIGH finding elsewhere → rejected although the score stays high
    ['70 with a HIGH', { syntax: outcome(100), security: outcome(100, ...M(2)), dependency: outcome(100, ...M(7)), test: outcome(100, 'HIGH') }, 70, 'AUTO_REJECT'],
  ];
  for (const [name, outcomes, score, decision] of rows) {
    const c = composeOutcomes(outcomes);
    t.equal(c.score, score, `${name}: score`);
    t.equal(c.decision, decision, `${name}: decision`);
  }
});

t.test('reasons and validator reports are in words', async (t) => {
  const c = composeOutcomes({ syntax: outcome(100), security: outcome(100, 'HIGH', 'MEDIUM'), dependency: outcome(100), test: outcome(20) });
  t.equal(c.decision, 'AUTO_REJECT');
  t.match(c.reasons[0], /rejected: 1 blocking issue/);
  t.equal(c.validators.security.status, 'fail');
  t.equal(c.validators.security.score, 50);
  t.match(c.validators.security.summary, /1 HIGH, 1 MEDIUM/);
  t.equal(c.validators.test.status, 'warn', 'a low test score warns');
  t.equal(c.validators.syntax.status, 'pass');
  t.equal(c.reasons.length, 1 + VALIDATORS.length);
  const ok = composeOutcomes({ syntax: outcome(100), security: outcome(100), dependency: outcome(100), test: outcome(100) });
  t.match(ok.reasons[0], /approved: score 100/);
  const low = composeOutcomes({ syntax: outcome(100), security: outcome(100, ...M(10)), dependency: outcome(100, ...M(10)), test: outcome(20) });
  t.match(low.reasons[0], /needs a human: no blocking issue, but score 30 < 70/);
});
