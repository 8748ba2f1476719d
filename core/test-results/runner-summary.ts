// A test runner's closing summary, where the runner prints one: jest, vitest, pytest, mocha, node-tap 21's
// `# { total, pass, fail }`, our own "N passed, N failed" line, TAP comments (tape, node:test), go test -v. The
// last summary in the output wins (a runner that runs several suites prints its grand total last). The one set of
// runner patterns: the claims' test counts (parse-test-counts.ts) and output validation's results
// (parse-test-results.ts) both read summaries here.
export interface RunnerSummary {
  passed: number;
  failed: number;
  /** skipped, pending, todo, xfailed */
  skipped: number;
  /** the total the runner states, when it states one */
  total?: number;
  runner: string;
}

const num = (s: string | undefined) => (s === undefined ? 0 : Number(s.replace(/,/g, '')));

// ANSI colour codes break the patterns; runners print them when they think a terminal is attached.
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** Output as the patterns read it: no colour codes, `\n` line ends. */
export function plainOutput(output: string): string {
  return output.replace(ANSI, '').replace(/\r\n?/g, '\n');
}

function last<T>(it: IterableIterator<T>): T | undefined {
  let out: T | undefined;
  for (const x of it) out = x;
  return out;
}

const FINDERS: Array<(t: string) => RunnerSummary | undefined> = [
  // jest: "Tests:       1 failed, 2 skipped, 5 passed, 8 total"
  (t) => {
    const m = last(t.matchAll(/^\s*Tests:\s+(.*\d+ total)\s*$/gm));
    if (!m) return undefined;
    const part = (w: string) => new RegExp(`(\\d[\\d,]*) ${w}`).exec(m[1])?.[1];
    return { passed: num(part('passed')), failed: num(part('failed')), skipped: num(part('skipped')) + num(part('todo')), total: num(part('total')), runner: 'jest' };
  },
  // vitest: " Tests  1 failed | 5 passed (6)"
  (t) => {
    const m = last(t.matchAll(/^\s*Tests\s+((?:\d+ \w+(?: \| )?)+)\s*\((\d+)\)\s*$/gm));
    if (!m) return undefined;
    const count = (w: string) => num(new RegExp(`(\\d+) ${w}`).exec(m[1])?.[1]);
    return { passed: count('passed'), failed: count('failed'), skipped: count('skipped') + count('todo'), total: num(m[2]), runner: 'vitest' };
  },
  // pytest: "===== 3 failed, 10 passed, 1 skipped in 0.12s =====" or "10 passed in 0.05s"
  (t) => {
    const m = last(t.matchAll(/^=*\s*((?:\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|warnings?|deselected)(?:, )?)+) in [\d.]+s\b.*$/gm));
    if (!m) return undefined;
    const count = (re: RegExp) => num(re.exec(m[1])?.[1]);
    return {
      passed: count(/(\d+) passed/) + count(/(\d+) xpassed/),
      failed: count(/(\d+) failed/) + count(/(\d+) errors?/),
      skipped: count(/(\d+) skipped/) + count(/(\d+) xfailed/),
      runner: 'pytest',
    };
  },
  // mocha: "  5 passing (20ms)" / "  1 failing" / "  2 pending"
  (t) => {
    const p = last(t.matchAll(/^\s*(\d+) passing\b/gm));
    if (!p) return undefined;
    const f = last(t.matchAll(/^\s*(\d+) failing\b/gm));
    const s = last(t.matchAll(/^\s*(\d+) pending\b/gm));
    return { passed: num(p[1]), failed: num(f?.[1]), skipped: num(s?.[1]), runner: 'mocha' };
  },
  // node-tap 21 closing line "# { total: 12, pass: 11, fail: 1 }" and our scripts' "N passed, N failed"
  (t) => {
    const m = last(t.matchAll(/^#\s*\{\s*total:\s*(\d+),\s*pass:\s*(\d+)(?:,\s*fail:\s*(\d+))?/gm));
    if (m) return { passed: num(m[2]), failed: num(m[3]), skipped: 0, total: num(m[1]), runner: 'tap' };
    const s = last(t.matchAll(/^\s*(\d[\d,]*) passed, (\d[\d,]*) failed\b/gm));
    if (s) return { passed: num(s[1]), failed: num(s[2]), skipped: 0, runner: 'summary' };
    return undefined;
  },
  // TAP comments (tape, node:test, older node-tap): "# pass 5" / "# fail 1"; node:test's spec reporter "ℹ pass 5"
  (t) => {
    const p = last(t.matchAll(/^(?:#|ℹ)\s+pass\s+(\d+)\s*$/gm));
    if (!p) return undefined;
    const f = last(t.matchAll(/^(?:#|ℹ)\s+fail\s+(\d+)\s*$/gm));
    const s = last(t.matchAll(/^(?:#|ℹ)\s+(?:skip(?:ped)?|todo)\s+(\d+)\s*$/gm));
    return { passed: num(p[1]), failed: num(f?.[1]), skipped: num(s?.[1]), runner: 'tap' };
  },
  // go test -v: one "--- PASS:" / "--- FAIL:" per test (top-level ones are not indented)
  (t) => {
    const passed = [...t.matchAll(/^--- PASS: /gm)].length;
    const failed = [...t.matchAll(/^--- FAIL: /gm)].length;
    if (passed + failed === 0) return undefined;
    return { passed, failed, skipped: [...t.matchAll(/^--- SKIP: /gm)].length, runner: 'go' };
  },
];

/** The runner's summary in output already made plain (plainOutput); undefined when no runner's pattern matches. */
export function runnerSummary(text: string): RunnerSummary | undefined {
  for (const find of FINDERS) {
    const r = find(text);
    if (r) return r;
  }
  return undefined;
}
