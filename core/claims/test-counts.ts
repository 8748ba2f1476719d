// Test counts from a runner's output, where the runner prints them: TAP (node-tap, tape, node:test), our own
// "N passed, N failed" line, pytest, jest, vitest, mocha, go test -v. The last summary in the output wins (a
// runner that runs several suites prints its grand total last). Unknown output → undefined: the verdict then
// rests on the exit code alone.
export interface TestCounts {
  passed: number;
  failed: number;
  runner: string;
}

const num = (s: string | undefined) => (s === undefined ? 0 : Number(s.replace(/,/g, '')));

// ANSI colour codes break the patterns; runners print them when they think a terminal is attached.
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

interface Finder {
  runner: string;
  find(text: string): TestCounts | undefined;
}

function last<T>(it: IterableIterator<T>): T | undefined {
  let out: T | undefined;
  for (const x of it) out = x;
  return out;
}

const FINDERS: Finder[] = [
  {
    // jest: "Tests:       1 failed, 2 skipped, 5 passed, 8 total"
    runner: 'jest',
    find(t) {
      const m = last(t.matchAll(/^\s*Tests:\s+(.*\d+ total)\s*$/gm));
      if (!m) return undefined;
      const part = (w: string) => new RegExp(`(\\d[\\d,]*) ${w}`).exec(m[1]!)?.[1];
      return { passed: num(part('passed')), failed: num(part('failed')), runner: 'jest' };
    },
  },
  {
    // vitest: " Tests  1 failed | 5 passed (6)"
    runner: 'vitest',
    find(t) {
      const m = last(t.matchAll(/^\s*Tests\s+((?:\d+ \w+(?: \| )?)+)\s*\(\d+\)\s*$/gm));
      if (!m) return undefined;
      return {
        passed: num(/(\d+) passed/.exec(m[1]!)?.[1]),
        failed: num(/(\d+) failed/.exec(m[1]!)?.[1]),
        runner: 'vitest',
      };
    },
  },
  {
    // pytest: "===== 3 failed, 10 passed, 1 skipped in 0.12s =====" or "10 passed in 0.05s"
    runner: 'pytest',
    find(t) {
      const m = last(t.matchAll(/^=*\s*((?:\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|warnings?|deselected)(?:, )?)+) in [\d.]+s\b.*$/gm));
      if (!m) return undefined;
      return {
        passed: num(/(\d+) passed/.exec(m[1]!)?.[1]) + num(/(\d+) xpassed/.exec(m[1]!)?.[1]),
        failed: num(/(\d+) failed/.exec(m[1]!)?.[1]) + num(/(\d+) errors?/.exec(m[1]!)?.[1]),
        runner: 'pytest',
      };
    },
  },
  {
    // mocha: "  5 passing (20ms)" / "  1 failing"
    runner: 'mocha',
    find(t) {
      const p = last(t.matchAll(/^\s*(\d+) passing\b/gm));
      if (!p) return undefined;
      const f = last(t.matchAll(/^\s*(\d+) failing\b/gm));
      return { passed: num(p[1]), failed: num(f?.[1]), runner: 'mocha' };
    },
  },
  {
    // node-tap 21 closing line "# { total: 12, pass: 11, fail: 1 }" and our scripts' "N passed, N failed"
    runner: 'tap-summary',
    find(t) {
      const m = last(t.matchAll(/^#\s*\{\s*total:\s*(\d+),\s*pass:\s*(\d+)(?:,\s*fail:\s*(\d+))?/gm));
      if (m) return { passed: num(m[2]), failed: num(m[3]), runner: 'tap' };
      const s = last(t.matchAll(/^\s*(\d[\d,]*) passed, (\d[\d,]*) failed\b/gm));
      if (s) return { passed: num(s[1]), failed: num(s[2]), runner: 'summary' };
      return undefined;
    },
  },
  {
    // TAP comments (tape, node:test, older node-tap): "# pass 5" / "# fail 1"; node:test's spec reporter "ℹ pass 5"
    runner: 'tap',
    find(t) {
      const p = last(t.matchAll(/^(?:#|ℹ)\s+pass\s+(\d+)\s*$/gm));
      if (!p) return undefined;
      const f = last(t.matchAll(/^(?:#|ℹ)\s+fail\s+(\d+)\s*$/gm));
      return { passed: num(p[1]), failed: num(f?.[1]), runner: 'tap' };
    },
  },
  {
    // go test -v: one "--- PASS:" / "--- FAIL:" per test (top-level ones are not indented)
    runner: 'go',
    find(t) {
      const passed = [...t.matchAll(/^--- PASS: /gm)].length;
      const failed = [...t.matchAll(/^--- FAIL: /gm)].length;
      if (passed + failed === 0) return undefined;
      return { passed, failed, runner: 'go' };
    },
  },
  {
    // plain TAP stream without a summary: count top-level "ok N" / "not ok N" (skips and todos are not passes)
    runner: 'tap-lines',
    find(t) {
      if (!/^(?:TAP version \d+|1\.\.\d+)\s*$/m.test(t)) return undefined;
      let passed = 0;
      let failed = 0;
      for (const m of t.matchAll(/^(not )?ok \d+\b(.*)$/gm)) {
        if (/#\s*(?:skip|todo)\b/i.test(m[2]!)) continue;
        if (m[1]) failed++;
        else passed++;
      }
      return passed + failed ? { passed, failed, runner: 'tap' } : undefined;
    },
  },
];

export function parseTestCounts(output: string): TestCounts | undefined {
  const text = output.replace(ANSI, '').replace(/\r\n?/g, '\n');
  for (const f of FINDERS) {
    const r = f.find(text);
    if (r) return r;
  }
  return undefined;
}
