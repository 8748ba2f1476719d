// Test counts from each runner's output; unknown output gives undefined (the exit code decides alone).
import t from 'tap';
import { parseTestCounts } from '../../core/test-results/parse-test-counts.js';

const ROWS: [string, string, { passed: number; failed: number } | undefined][] = [
  ['node-tap summary', 'ok 1 - a\n# { total: 12, pass: 11, fail: 1 }\n', { passed: 11, failed: 1 }],
  ['node-tap summary, all pass', '# { total: 7, pass: 7 }', { passed: 7, failed: 0 }],
  ['our runner line', 'test: ...\n130 passed, 0 failed\n', { passed: 130, failed: 0 }],
  ['tape / node:test TAP comments', 'TAP version 13\nok 1\n# tests 3\n# pass 3\n# fail 0\n', { passed: 3, failed: 0 }],
  ['node:test spec reporter', 'ℹ tests 5\nℹ pass 4\nℹ fail 1\n', { passed: 4, failed: 1 }],
  ['plain TAP lines', 'TAP version 13\n1..3\nok 1 - a\nnot ok 2 - b\nok 3 - c # SKIP\n', { passed: 1, failed: 1 }],
  ['pytest all pass', '============ 10 passed in 0.05s ============\n', { passed: 10, failed: 0 }],
  ['pytest mixed', '==== 3 failed, 10 passed, 1 skipped, 2 errors in 1.20s ====', { passed: 10, failed: 5 }],
  ['pytest -q', '..........\n10 passed in 0.02s\n', { passed: 10, failed: 0 }],
  ['jest', 'Test Suites: 1 failed, 1 total\nTests:       1 failed, 2 skipped, 5 passed, 8 total\n', { passed: 5, failed: 1 }],
  ['jest all pass', 'Tests:       5 passed, 5 total', { passed: 5, failed: 0 }],
  ['vitest', ' Test Files  1 passed (1)\n      Tests  1 failed | 5 passed (6)\n', { passed: 5, failed: 1 }],
  ['mocha', '  5 passing (20ms)\n  1 failing\n', { passed: 5, failed: 1 }],
  ['go test -v', '=== RUN   TestA\n--- PASS: TestA (0.00s)\n=== RUN   TestB\n--- FAIL: TestB (0.00s)\n    --- PASS: TestB/sub (0.00s)\nFAIL\n', { passed: 1, failed: 1 }],
  ['ANSI colours inside a line', '# pass \u001b[32m2\u001b[0m\n# fail \u001b[31m0\u001b[0m\n', { passed: 2, failed: 0 }],
  ['colour around a whole line', '\u001b[32mTests:       3 passed, 3 total\u001b[0m', { passed: 3, failed: 0 }],
  ['last summary wins', '# { total: 2, pass: 2 }\n...\n# { total: 5, pass: 4, fail: 1 }', { passed: 4, failed: 1 }],
  ['go test without -v: no count', 'ok  \texample.com/pkg\t0.01s\n', undefined],
  ['make output: no count', 'cc -o app main.c\n', undefined],
];

t.test('runner output table', async (t) => {
  for (const [name, out, want] of ROWS) {
    const got = parseTestCounts(out);
    if (want === undefined) t.equal(got, undefined, name);
    else t.match(got, want, name);
  }
});
