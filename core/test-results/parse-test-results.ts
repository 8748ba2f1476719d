// Test results handed to output validation, in the formats runners print: TAP (tap-parser, the TAP project's own
// parser), JUnit XML (fast-xml-parser; testcases are counted, not the suite attributes, which runners fill in
// inconsistently), and failing that a runner's closing summary (runner-summary.ts, the same patterns the claims'
// test counts read).
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { Parser as TapParser } from 'tap-parser';
import { plainOutput, runnerSummary } from './runner-summary.js';

export interface ParsedTestResults {
  format: 'tap' | 'junit' | 'summary-line';
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  /** Structural problems that make the run untrustworthy (TAP plan not met, bail out). */
  problems: string[];
}

export type TestResultsParse = { ok: true; results: ParsedTestResults } | { ok: false; error: string };

function looksLikeJunit(text: string): boolean {
  const t = text.trimStart();
  return t.startsWith('<') && /<(testsuites|testsuite|testcase)\b/.test(t);
}

function looksLikeTap(text: string): boolean {
  return /^\s*(TAP version \d+|1\.\.\d+|(not )?ok\b)/m.test(text);
}

async function parseTap(text: string): Promise<ParsedTestResults> {
  const result = await new Promise<{
    ok: boolean;
    count: number;
    pass: number;
    fail: number;
    skip: number;
    todo: number;
    bailout: unknown;
    plan: { start: number | null; end: number | null; skipAll: boolean };
  }>((resolve) => {
    const p = new TapParser();
    p.on('complete', resolve);
    p.end(text);
  });
  const problems: string[] = [];
  if (result.bailout) problems.push('the TAP stream bailed out');
  const planned = result.plan.end !== null && result.plan.start !== null ? result.plan.end - result.plan.start + 1 : null;
  if (planned === null && result.count > 0) problems.push('the TAP stream has no plan (1..N), so it may be cut short');
  if (planned !== null && planned !== result.count && !result.plan.skipAll) problems.push(`the TAP plan announced ${planned} tests but ${result.count} ran`);
  if (!result.ok && result.fail === 0 && problems.length === 0) problems.push('the TAP stream is not ok');
  return {
    format: 'tap',
    total: result.count,
    passed: result.pass,
    failed: result.fail,
    skipped: result.skip + result.todo,
    problems,
  };
}

function parseJunit(text: string): ParsedTestResults {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new Error(`JUnit XML is not well-formed (line ${valid.err.line}: ${valid.err.msg})`);
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    isArray: (name) => name === 'testsuite' || name === 'testcase',
    processEntities: false,
  }).parse(text) as Record<string, unknown>;
  let total = 0;
  let failed = 0;
  let skipped = 0;
  let attrFailures = 0;
  let sawSuite = false;
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    for (const tc of (n.testcase as unknown[] | undefined) ?? []) {
      total++;
      const t = (tc ?? {}) as Record<string, unknown>;
      if ('failure' in t || 'error' in t) failed++;
      else if ('skipped' in t) skipped++;
    }
    for (const s of (n.testsuite as unknown[] | undefined) ?? []) {
      sawSuite = true;
      const a = (s ?? {}) as Record<string, unknown>;
      attrFailures += Number(a.failures ?? 0) + Number(a.errors ?? 0) || 0;
      visit(s);
    }
    if (n.testsuites) visit(n.testsuites);
  };
  visit(doc);
  if (!sawSuite && total === 0) throw new Error('JUnit XML has no <testsuite> or <testcase>');
  // A suite that counts failures its testcases do not show is still failing.
  const problems: string[] = [];
  if (attrFailures > failed) {
    problems.push(`the JUnit suites report ${attrFailures} failures/errors but only ${failed} failing testcases`);
    failed = attrFailures;
  }
  return { format: 'junit', total, passed: Math.max(0, total - failed - skipped), failed, skipped, problems };
}

function parseSummaryLine(text: string): ParsedTestResults | null {
  const s = runnerSummary(plainOutput(text));
  if (!s) return null;
  return { format: 'summary-line', total: s.total ?? s.passed + s.failed + s.skipped, passed: s.passed, failed: s.failed, skipped: s.skipped, problems: [] };
}

export async function parseTestResults(text: string): Promise<TestResultsParse> {
  if (typeof text !== 'string' || text.trim() === '') return { ok: false, error: 'test results are empty' };
  try {
    if (looksLikeJunit(text)) return { ok: true, results: parseJunit(text) };
    if (looksLikeTap(text)) return { ok: true, results: await parseTap(text) };
    const s = parseSummaryLine(text);
    if (s) return { ok: true, results: s };
    return { ok: false, error: 'test results are neither TAP, JUnit XML, nor a runner summary ("N passed, N failed")' };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}
