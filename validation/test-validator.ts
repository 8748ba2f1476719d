// Test validator. Evidence of testing sets the base score: passing results 100; test files changed alongside the
// source 60; source changed without any test 20 (lowers the score, never blocks); no source changed 100.
// Focused tests (.only, fit, fdescribe) and unconditional skips (.skip, xit, @pytest.mark.skip, t.skip) are MEDIUM;
// conditional skips (skipIf, skipif, xfail) and todo are LOW. Results, when given or produced by `runTests`, must show
// no failure, no broken stream, and at least `expected_total` tests: anything else is HIGH (blocking).
import ts from 'typescript';
import { jsCalls } from './js-analysis.js';
import { isCodeLanguage, isJsLike, isTestPath } from './languages.js';
import type { Project, ProjectFile } from './project.js';
import { parseTestResults } from '../core/test-results/parse-test-results.js';
import { nodesOfType } from './python-analysis.js';
import { isBlockingSeverity, type Finding, type RunTestsResult, type Severity, type TestRunSummary, type ValidatorOutcome } from './types.js';

export interface TestOptions {
  test_results?: string;
  expected_total?: number;
  runTests?: () => Promise<RunTestsResult>;
}

export const TEST_BASE = { passing: 100, testsChanged: 60, noTests: 20, noSource: 100 } as const;

const TEST_OBJECTS = ['describe', 'it', 'test', 'context', 'suite', 'specify', 't', 'tap', 'ava', 'Deno.test'];
const FOCUS_CALLEES = new Set([...TEST_OBJECTS.map((o) => `${o}.only`), 'fit', 'fdescribe', 'fcontext']);
const SKIP_CALLEES = new Set([...TEST_OBJECTS.map((o) => `${o}.skip`), 'xit', 'xdescribe', 'xtest', 'xcontext', 'xspecify', 'Deno.test.ignore']);
const COND_SKIP_CALLEES = new Set([...TEST_OBJECTS.flatMap((o) => [`${o}.skipIf`, `${o}.runIf`, `${o}.todo`]), 't.todo']);
const TEST_CALLEES = new Set([...TEST_OBJECTS, 't.test', 'tap.test']);

function jsMarkers(f: ProjectFile, push: (sev: Severity, line: number, col: number, rule: string, msg: string) => void): void {
  const sf = f.ts!;
  for (const c of jsCalls(sf)) {
    // `import { test } from 'node:test'` / `from 'vitest'` resolve to `test.test`, `vitest.it`: drop the module.
    const callee = c.callee.replace(/^(test|vitest|@jest\/globals|mocha|bun:test)\.(?=(test|it|describe|suite|context|specify)\b)/, '');
    if (FOCUS_CALLEES.has(callee)) push('MEDIUM', c.line, c.column, 'test.focused', `${callee}(): a focused test silently disables the others`);
    else if (SKIP_CALLEES.has(callee)) push('MEDIUM', c.line, c.column, 'test.skipped', `${callee}(): skipped test`);
    else if (COND_SKIP_CALLEES.has(callee)) push('LOW', c.line, c.column, 'test.conditional-skip', `${callee}(): conditionally skipped or todo test`);
    else if (TEST_CALLEES.has(callee)) {
      // node:test and tap take options: test('x', { skip: true }), t.test('x', { only: true })
      for (const a of c.args) {
        if (!ts.isObjectLiteralExpression(a)) continue;
        for (const p of a.properties) {
          if (!ts.isPropertyAssignment(p) || !ts.isIdentifier(p.name)) continue;
          const v = p.initializer;
          const on = v.kind !== ts.SyntaxKind.FalseKeyword && !(ts.isNumericLiteral(v) && v.text === '0');
          if (!on) continue;
          if (p.name.text === 'only') push('MEDIUM', c.line, c.column, 'test.focused', `${callee}(…, { only }): a focused test silently disables the others`);
          else if (p.name.text === 'skip') push('MEDIUM', c.line, c.column, 'test.skipped', `${callee}(…, { skip }): skipped test`);
          else if (p.name.text === 'todo') push('LOW', c.line, c.column, 'test.conditional-skip', `${callee}(…, { todo }): todo test`);
        }
      }
    }
  }
}

const PY_SKIP = /^(pytest\.mark\.skip|unittest\.skip|skip)(\(|$)/;
const PY_COND_SKIP = /^(pytest\.mark\.(skipif|xfail)|unittest\.(skipIf|skipUnless|expectedFailure)|skipIf|skipUnless|expectedFailure)(\(|$)/;

function pyMarkers(f: ProjectFile, push: (sev: Severity, line: number, col: number, rule: string, msg: string) => void): void {
  for (const n of nodesOfType(f.tree!.rootNode, ['decorator', 'call'])) {
    const line = n.startPosition.row + 1;
    const col = n.startPosition.column + 1;
    if (n.type === 'decorator') {
      const expr = n.namedChildren[0]?.text ?? '';
      if (PY_COND_SKIP.test(expr)) push('LOW', line, col, 'test.conditional-skip', `@${expr.split('(')[0]}: conditionally skipped or expected-failure test`);
      else if (PY_SKIP.test(expr)) push('MEDIUM', line, col, 'test.skipped', `@${expr.split('(')[0]}: skipped test`);
    } else if (n.type === 'call') {
      const fn = n.childForFieldName('function')?.text;
      if (fn === 'pytest.skip' || fn === 'self.skipTest') push('MEDIUM', line, col, 'test.skipped', `${fn}(): skipped test`);
    }
  }
}

export async function validateTests(project: Project, opts: TestOptions): Promise<ValidatorOutcome & { runs: TestRunSummary[] }> {
  const findings: Finding[] = [];
  const notes: string[] = [];
  const runs: TestRunSummary[] = [];
  const push = (file: string) => (severity: Severity, line: number, column: number | undefined, rule: string, message: string) =>
    findings.push({ validator: 'test', severity, file, line, column, rule, message, blocking: isBlockingSeverity(severity) });

  const code = project.files.filter((f) => !f.binary && isCodeLanguage(f.language));
  const tests = code.filter((f) => isTestPath(f.path));
  const sources = code.filter((f) => !isTestPath(f.path));
  for (const f of tests) {
    if (isJsLike(f.language) && f.ts) jsMarkers(f, push(f.path));
    else if (f.language === 'python' && f.tree) pyMarkers(f, push(f.path));
  }

  let failedRun = false;
  const judge = async (source: TestRunSummary['source'], text: string, exitCode?: number): Promise<void> => {
    const where = source === 'run_tests' ? '<run_tests>' : '<test_results>';
    const bad = (rule: string, msg: string) => {
      failedRun = true;
      push(where)('HIGH', 0, undefined, rule, msg);
    };
    const parsed = await parseTestResults(text);
    if (!parsed.ok) {
      if (source === 'run_tests' && exitCode !== undefined) {
        runs.push({ source, format: 'exit-code', total: null, passed: null, failed: null, skipped: null, exitCode });
        if (exitCode !== 0) bad('test.failed', `the test command exited with status ${exitCode}`);
        else if (opts.expected_total !== undefined) bad('test.count-unknown', `the test command passed but its output does not say how many tests ran (expected ${opts.expected_total})`);
        else notes.push('the test command passed; its output gives no test count');
        return;
      }
      bad('test.results-unparseable', `test results could not be read: ${parsed.error}`);
      return;
    }
    const r = parsed.results;
    runs.push({ source, format: r.format, total: r.total, passed: r.passed, failed: r.failed, skipped: r.skipped, exitCode });
    if (r.failed > 0) bad('test.failed', `${r.failed} of ${r.total} tests failed`);
    for (const p of r.problems) bad('test.results-incomplete', p);
    if (exitCode !== undefined && exitCode !== 0 && r.failed === 0) bad('test.failed', `the test command exited with status ${exitCode}`);
    if (r.total === 0) bad('test.none-ran', 'the test results contain no tests');
    if (opts.expected_total !== undefined && r.total < opts.expected_total) bad('test.count-short', `${r.total} tests ran, expected at least ${opts.expected_total}`);
    if (r.skipped > 0) push(where)('LOW', 0, undefined, 'test.results-skipped', `${r.skipped} tests were skipped`);
  };

  if (opts.test_results !== undefined) await judge('test_results', opts.test_results);
  if (opts.runTests) {
    let res: RunTestsResult | null = null;
    try {
      res = await opts.runTests();
    } catch (e) {
      failedRun = true;
      push('<run_tests>')('HIGH', 0, undefined, 'test.run-failed', `the tests could not be run: ${(e as Error).message ?? 'unknown error'}`);
    }
    if (res) {
      const okShape = typeof res.exitCode === 'number' && typeof res.output === 'string';
      if (!okShape) {
        failedRun = true;
        push('<run_tests>')('HIGH', 0, undefined, 'test.run-failed', 'the test runner returned no exit code or output');
      } else await judge('run_tests', res.output, res.exitCode);
    }
  }
  if (opts.expected_total !== undefined && opts.test_results === undefined && !opts.runTests) {
    failedRun = true;
    push('<test_results>')('HIGH', 0, undefined, 'test.results-missing', `expected ${opts.expected_total} tests but no test results were given`);
  }

  let base: number;
  if (runs.length > 0 || failedRun) {
    base = failedRun ? 0 : TEST_BASE.passing;
    notes.push(failedRun ? 'the test results do not show a clean run' : 'the test results show every test passing');
  } else if (sources.length === 0) {
    base = TEST_BASE.noSource;
    notes.push('no source code changed');
  } else if (tests.length > 0) {
    base = TEST_BASE.testsChanged;
    notes.push('tests changed with the source, but no test results were given');
  } else {
    base = TEST_BASE.noTests;
    notes.push(`${sources.length} source file(s) changed without any test file`);
  }
  return { findings, checked: tests.length, base, notes, runs };
}
