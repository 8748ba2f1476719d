// Test counts from a command's whole output (the claims' test verifier and baseline): the runner's closing summary
// (runner-summary.ts), or failing that a plain TAP stream's top-level test points read by tap-parser (skips and
// todos are not passes). Unknown output → undefined: the verdict then rests on the exit code alone.
import type { Parser as TapParserClass } from 'tap-parser';
import { lazyRequire } from '../util/lazy-require.js';
import { plainOutput, runnerSummary } from './runner-summary.js';

export interface TestCounts {
  passed: number;
  failed: number;
  runner: string;
}

// tap-parser (with its YAML reader, about 1 MB of heap) loads when an output is TAP, not at start.
const tapParser = lazyRequire<{ Parser: typeof TapParserClass }>(import.meta.url, 'tap-parser');

/** Top-level test points of a TAP stream; undefined unless the output announces TAP (a version line or a plan). */
function tapPoints(text: string): TestCounts | undefined {
  if (!/^(?:TAP version \d+|1\.\.\d+)\s*$/m.test(text)) return undefined;
  let passed = 0;
  let failed = 0;
  const p = new (tapParser().Parser)();
  // Only the top-level parser's points: subtests report to their own child parsers.
  p.on('assert', (a: { ok: boolean; skip?: unknown; todo?: unknown }) => {
    if (a.skip || a.todo) return;
    if (a.ok) passed++;
    else failed++;
  });
  p.end(text); // tap-parser parses synchronously within end()
  return passed + failed ? { passed, failed, runner: 'tap' } : undefined;
}

export function parseTestCounts(output: string): TestCounts | undefined {
  const text = plainOutput(output);
  const s = runnerSummary(text);
  if (s) return { passed: s.passed, failed: s.failed, runner: s.runner };
  return tapPoints(text);
}
