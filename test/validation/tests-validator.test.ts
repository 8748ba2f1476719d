// Test validator: result parsing (TAP, JUnit XML, runner summary lines), the runTests callback, expected counts,
// focused and skipped tests, and the base score from the evidence of testing.
import t from 'tap';
import { buildProject } from '../../validation/project.js';
import { parseTestResults } from '../../core/test-results/parse-test-results.js';
import { TEST_BASE, validateTests, type TestOptions } from '../../validation/test-validator.js';
import type { SourceFile } from '../../validation/types.js';

async function tests(files: SourceFile[], opts: TestOptions = {}) {
  const p = await buildProject(files);
  try {
    return await validateTests(p, opts);
  } finally {
    p.dispose();
  }
}

const TAP_PASS = 'TAP version 14\n1..3\nok 1 - a\nok 2 - b\nok 3 - c\n';
const TAP_FAIL = 'TAP version 14\n1..3\nok 1 - a\nnot ok 2 - b\n  ---\n  message: boom\n  ...\nok 3 - c\n';
const TAP_SHORT = 'TAP version 14\n1..5\nok 1 - a\nok 2 - b\n';
const TAP_BAIL = 'TAP version 14\n1..3\nok 1 - a\nBail out! db down\n';
const TAP_ALL_FAIL = 'TAP version 14\n1..2\nnot ok 1 - a\nnot ok 2 - b\n';
const JUNIT_PASS = '<?xml version="1.0"?>\n<testsuites><testsuite name="s" tests="3"><testcase name="a"/><testcase name="b"/><testcase name="c"><skipped/></testcase></testsuite></testsuites>\n';
const JUNIT_FAIL = '<testsuite name="s" tests="2" failures="1"><testcase name="a"/><testcase name="b"><failure message="x">boom</failure></testcase></testsuite>\n';
const JUNIT_NESTED_ERR = '<testsuites><testsuite name="outer"><testsuite name="inner"><testcase name="a"><error message="e"/></testcase><testcase name="b"/></testsuite></testsuite></testsuites>';
const JUNIT_ATTR_ONLY = '<testsuites><testsuite name="s" tests="4" failures="2" errors="0"><testcase name="a"/><testcase name="b"/></testsuite></testsuites>';

t.test('parsing each format', async (t) => {
  const cases: [string, string, { format: string; total: number; passed: number; failed: number; skipped: number; problems: number }][] = [
    ['TAP pass', TAP_PASS, { format: 'tap', total: 3, passed: 3, failed: 0, skipped: 0, problems: 0 }],
    ['TAP fail', TAP_FAIL, { format: 'tap', total: 3, passed: 2, failed: 1, skipped: 0, problems: 0 }],
    ['TAP short of plan (tap-parser counts the missing tests as a failure)', TAP_SHORT, { format: 'tap', total: 2, passed: 2, failed: 1, skipped: 0, problems: 1 }],
    ['TAP bail out', TAP_BAIL, { format: 'tap', total: 1, passed: 1, failed: 0, skipped: 0, problems: 2 }],
    ['JUnit pass with skip', JUNIT_PASS, { format: 'junit', total: 3, passed: 2, failed: 0, skipped: 1, problems: 0 }],
    ['JUnit failure', JUNIT_FAIL, { format: 'junit', total: 2, passed: 1, failed: 1, skipped: 0, problems: 0 }],
    ['JUnit nested error', JUNIT_NESTED_ERR, { format: 'junit', total: 2, passed: 1, failed: 1, skipped: 0, problems: 0 }],
    ['JUnit attributes count more failures than testcases', JUNIT_ATTR_ONLY, { format: 'junit', total: 2, passed: 0, failed: 2, skipped: 0, problems: 1 }],
    ['pytest summary', '....F\n===== 4 passed, 1 failed, 2 skipped in 0.31s =====\n', { format: 'summary-line', total: 7, passed: 4, failed: 1, skipped: 2, problems: 0 }],
    ['jest summary', 'Tests:       2 failed, 1 skipped, 7 passed, 10 total\n', { format: 'summary-line', total: 10, passed: 7, failed: 2, skipped: 1, problems: 0 }],
    ['mocha summary', '  12 passing (30ms)\n  1 pending\n', { format: 'summary-line', total: 13, passed: 12, failed: 0, skipped: 1, problems: 0 }],
    ['plain closing line', 'log\n5 passed, 0 failed\n', { format: 'summary-line', total: 5, passed: 5, failed: 0, skipped: 0, problems: 0 }],
  ];
  for (const [name, text, want] of cases) {
    const r = await parseTestResults(text);
    t.ok(r.ok, `${name} parses`);
    if (!r.ok) continue;
    const { problems, ...rest } = r.results;
    t.same({ ...rest, problems: problems.length }, want, name);
  }
  for (const bad of ['', 'hello world', '<testsuite><testcase></testsuite>']) {
    const r = await parseTestResults(bad);
    t.notOk(r.ok, `unparseable: ${JSON.stringify(bad)}`);
  }
});

const SRC: SourceFile = { path: 'src/a.ts', content: 'export const a = 1;\n' };
const TEST: SourceFile = { path: 'test/a.test.ts', content: "import t from 'tap';\nt.test('a', async () => {});\n" };

t.test('results decide blocking and the base score', async (t) => {
  const cases: [string, TestOptions, { base: number; blocking: string[] }][] = [
    ['all passing', { test_results: TAP_PASS }, { base: TEST_BASE.passing, blocking: [] }],
    ['one failure', { test_results: TAP_FAIL }, { base: 0, blocking: ['test.failed'] }],
    ['all failing', { test_results: TAP_ALL_FAIL }, { base: 0, blocking: ['test.failed'] }],
    ['stream cut short', { test_results: TAP_SHORT }, { base: 0, blocking: ['test.failed', 'test.results-incomplete'] }],
    ['fewer than expected', { test_results: TAP_PASS, expected_total: 4 }, { base: 0, blocking: ['test.count-short'] }],
    ['exactly the expected count', { test_results: TAP_PASS, expected_total: 3 }, { base: 100, blocking: [] }],
    ['JUnit failure', { test_results: JUNIT_FAIL }, { base: 0, blocking: ['test.failed'] }],
    ['unparseable results', { test_results: 'it went fine, trust me' }, { base: 0, blocking: ['test.results-unparseable'] }],
    ['zero tests', { test_results: '1..0\n' }, { base: 0, blocking: ['test.none-ran'] }],
    ['expected count without results', { expected_total: 3 }, { base: 0, blocking: ['test.results-missing'] }],
  ];
  for (const [name, opts, want] of cases) {
    const r = await tests([SRC, TEST], opts);
    t.equal(r.base, want.base, `${name}: base`);
    t.same([...new Set(r.findings.filter((f) => f.blocking).map((f) => f.rule))], want.blocking, `${name}: blocking rules`);
  }
});

t.test('runTests: its exit code and output count like given results', async (t) => {
  const run = (exitCode: number, output: string) => async () => ({ exitCode, output });
  const cases: [string, TestOptions, { base: number; blocking: string[]; format?: string }][] = [
    ['passing TAP output', { runTests: run(0, TAP_PASS) }, { base: 100, blocking: [], format: 'tap' }],
    ['failing exit with failing TAP', { runTests: run(1, TAP_FAIL) }, { base: 0, blocking: ['test.failed'], format: 'tap' }],
    ['non-zero exit although the output says passed', { runTests: run(1, TAP_PASS) }, { base: 0, blocking: ['test.failed'], format: 'tap' }],
    ['non-zero exit, unreadable output', { runTests: run(2, 'Segmentation fault') }, { base: 0, blocking: ['test.failed'], format: 'exit-code' }],
    ['zero exit, no count', { runTests: run(0, 'done') }, { base: 100, blocking: [], format: 'exit-code' }],
    ['zero exit, no count, expected count', { runTests: run(0, 'done'), expected_total: 5 }, { base: 0, blocking: ['test.count-unknown'], format: 'exit-code' }],
    ['runner throws', { runTests: async () => { throw new Error('container gone'); } }, { base: 0, blocking: ['test.run-failed'] }],
    ['runner returns garbage', { runTests: (async () => ({ exitCode: 'x' })) as unknown as TestOptions['runTests'] }, { base: 0, blocking: ['test.run-failed'] }],
    ['given results pass but the re-run fails', { test_results: TAP_PASS, runTests: run(1, TAP_FAIL) }, { base: 0, blocking: ['test.failed'] }],
  ];
  for (const [name, opts, want] of cases) {
    const r = await tests([SRC, TEST], opts);
    t.equal(r.base, want.base, `${name}: base`);
    t.same([...new Set(r.findings.filter((f) => f.blocking).map((f) => f.rule))], want.blocking, `${name}: blocking`);
    if (want.format) t.equal(r.runs[r.runs.length - 1]?.format, want.format, `${name}: format`);
  }
});

t.test('evidence of testing without results', async (t) => {
  t.equal((await tests([SRC, TEST])).base, TEST_BASE.testsChanged, 'source + tests');
  const noTests = await tests([SRC]);
  t.equal(noTests.base, TEST_BASE.noTests, 'source without tests');
  t.same(noTests.findings, [], 'missing tests lower the score but are not a finding');
  t.match(noTests.notes.join(' '), /without any test file/);
  t.equal((await tests([{ path: 'README.md', content: '# a' }, { path: 'Dockerfile', content: 'FROM node:20\n' }])).base, TEST_BASE.noSource, 'no source code');
  t.equal((await tests([{ path: 'app/a.py', content: 'x = 1\n' }, { path: 'tests/test_a.py', content: 'def test_a():\n    assert True\n' }])).base, TEST_BASE.testsChanged, 'python source + pytest file');
});

t.test('focused and skipped tests', async (t) => {
  const cases: [string, SourceFile, string[]][] = [
    ['describe.only', { path: 'src/a.test.ts', content: "describe.only('a', () => {\n  it('b', () => {});\n});\n" }, ['test.focused:MEDIUM:1']],
    ['it.skip and xit', { path: 'src/a.spec.js', content: "it.skip('a', () => {});\nxit('b', () => {});\nfit('c', () => {});\n" }, ['test.focused:MEDIUM:3', 'test.skipped:MEDIUM:1', 'test.skipped:MEDIUM:2']],
    ['tap t.skip and options', { path: 'test/a.test.ts', content: "import t from 'tap';\nt.skip('a', async () => {});\nt.test('b', { skip: true }, async () => {});\nt.test('c', { only: true }, async () => {});\nt.test('d', { skip: false }, async () => {});\n" }, ['test.focused:MEDIUM:4', 'test.skipped:MEDIUM:2', 'test.skipped:MEDIUM:3']],
    ['node:test options', { path: 'test/b.test.mjs', content: "import { test } from 'node:test';\ntest('a', { todo: true }, () => {});\ntest.skip('b', () => {});\n" }, ['test.conditional-skip:LOW:2', 'test.skipped:MEDIUM:3']],
    ['vitest skipIf', { path: 'test/c.test.ts', content: "it.skipIf(process.platform === 'win32')('a', () => {});\n" }, ['test.conditional-skip:LOW:1']],
    ['pytest markers', { path: 'tests/test_x.py', content: 'import pytest\n\n@pytest.mark.skip(reason="flaky")\ndef test_a():\n    pass\n\n@pytest.mark.skipif(True, reason="x")\ndef test_b():\n    pytest.skip("later")\n' }, ['test.conditional-skip:LOW:7', 'test.skipped:MEDIUM:3', 'test.skipped:MEDIUM:9']],
    ['unittest skip', { path: 'tests/test_y.py', content: 'import unittest\n\nclass T(unittest.TestCase):\n    @unittest.skip("x")\n    def test_a(self):\n        self.skipTest("y")\n' }, ['test.skipped:MEDIUM:4', 'test.skipped:MEDIUM:6']],
    ['near miss: .only/.skip on other objects, words in strings and comments', { path: 'test/d.test.ts', content: "const stream = { skip: (n: number) => n, only: 1 };\nstream.skip(2);\n// it.only('x')\nconst s = \"describe.skip('a')\";\n" }, []],
    ['near miss: not a test file', { path: 'src/query.ts', content: "export const q = { skip: (n: number) => n };\nq.skip(1);\n" }, []],
  ];
  for (const [name, file, want] of cases) {
    const r = await tests([file]);
    t.same(r.findings.map((f) => `${f.rule}:${f.severity}:${f.line}`).sort(), want, name);
  }
});
