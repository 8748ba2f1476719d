// Which files are the task's tests, and what in them lowers the bar: the baseline records these at task start so a
// tests_passed claim can be held to the tests as they were (issue 14). All of it is text analysis; no I/O.
//   testFiles.named(testProcess, workingDir)  paths TEST_PROCESS names (`sh /work/t.sh`, `pytest tests/`)
//   testFiles.isImplied(path)                 files a runner picks up by name (`*.test.ts`, `test_*.py`, `tests/…`)
//   testFiles.markers(content)                how many skip / only markers a test file holds
//   testFiles.statedCount(sections)           "all 12 tests pass" in the instruction
//   testFiles.writable(deliverables)          DELIVERABLES ask for tests to be written or changed
import path from 'node:path';

export interface Markers {
  skip: number;
  only: number;
}

// Words that run things rather than name test files: `sh t.sh` names t.sh, `npm test` names nothing.
const COMMAND_WORDS = new Set([
  'sh', 'bash', 'dash', 'zsh', 'ksh', 'env', 'exec', 'time', 'timeout', 'nice', 'cd', 'npm', 'npx', 'pnpm', 'yarn', 'node',
  'deno', 'bun', 'python', 'python3', 'py', 'pytest', 'go', 'cargo', 'make', 'tap', 'jest', 'vitest', 'mocha', 'ruby',
  'rspec', 'bundle', 'php', 'phpunit', 'java', 'mvn', 'gradle', 'dotnet', 'test', 'run', 'echo', 'true', 'false', 'set',
]);
// A token that names a file or directory: has a slash, or a known source/script extension.
const PATHISH = /\/|\.(?:sh|bash|js|cjs|mjs|ts|tsx|jsx|py|go|rb|php|java|kt|rs|exs?|t|bats|lua|pl|json|toml|ya?ml|cfg|ini|txt)$/i;
const NOT_PATH = /^(?:-|[a-z][a-z0-9+.-]*:\/\/|\$|[<>|&;=])/i;

const TEST_NAME =
  /(?:^|\/)(?:test_[^/]*\.py|[^/]*_test\.(?:py|go|rb|exs?)|[^/]*\.(?:test|spec)\.[cm]?[jt]sx?|[^/]*_spec\.rb|[^/]*\.bats|test\.sh|tests?\.(?:sh|py|js|mjs|ts)|conftest\.py)$/i;
const TEST_DIR = /(?:^|\/)(?:tests?|__tests__|spec|specs)\//i;
const SKIP_DIR = /(?:^|\/)(?:node_modules|\.git|vendor|dist|build|coverage|\.venv|venv|__pycache__)\//;

const SKIP_MARKERS = [
  /\b(?:it|test|describe|context|suite|specify|t)\.(?:skip|todo)(?:If)?\s*\(/g, // jest, mocha, vitest, node:test, tap
  /\b(?:xit|xtest|xdescribe|xcontext|xspecify)\s*\(/g, // jasmine/mocha x-variants
  /@pytest\.mark\.(?:skip|skipif|xfail)\b|\bpytest\.skip\s*\(|@unittest\.skip/g, // pytest, unittest
  /\bt\.Skip(?:Now|f)?\s*\(/g, // go
  /\{\s*skip\s*:(?!\s*false\b)/g, // node:test / tap options objects
  /#\s*SKIP\b/g, // TAP directive
  /^\s*skip\b/gm, // bats `skip "reason"`
];
const ONLY_MARKERS = [
  /\b(?:it|test|describe|context|suite|specify|t)\.only\s*\(/g,
  /\b(?:fit|fdescribe|fcontext)\s*\(/g, // jasmine focus
  /\{\s*only\s*:(?!\s*false\b)/g,
];

const count = (text: string, res: RegExp[]) => res.reduce((n, re) => n + (text.match(re)?.length ?? 0), 0);

const STATED_COUNT = /\b(?:all\s+|the\s+|every\s+one\s+of\s+the\s+)?(\d{1,6})\s+(?:unit\s+|integration\s+|e2e\s+|end-to-end\s+)?(?:tests?|test\s+cases|cases|specs)\b/gi;
const WRITE_TESTS =
  /\b(?:writ(?:e|es|ing)|add(?:s|ing)?|creat(?:e|es|ing)|extend(?:s|ing)?|updat(?:e|es|ing)|chang(?:e|es|ing)|modify(?:ing)?|new|more|additional|rewrit(?:e|es|ing))\b[^.;\n]{0,60}\b(?:tests?|test\s+(?:cases?|files?|suites?|scripts?)|specs?)\b|\b(?:tests?|test\s+(?:cases?|files?|suites?|scripts?)|specs?)\b[^.;\n]{0,30}\b(?:to\s+be\s+)?(?:written|added|created|extended|updated|changed|rewritten)\b/i;

export const testFiles = {
  /** Absolute paths TEST_PROCESS names as arguments (resolved against the working directory), up to 32. */
  named(testProcess: string | null | undefined, workingDir: string): string[] {
    if (!testProcess) return [];
    const out = new Set<string>();
    for (const line of testProcess.split('\n')) {
      for (const cmd of line.split(/&&|\|\||[;|]/)) {
        const words = cmd.trim().split(/\s+/).filter(Boolean);
        for (let i = 0; i < words.length; i++) {
          const w = words[i].replace(/^["']|["']$/g, '');
          if (!w || NOT_PATH.test(w) || w.includes('*') || w.includes('[REDACTED')) continue;
          if (i === 0 && !w.includes('/')) continue; // the command word itself
          if (COMMAND_WORDS.has(w) || !PATHISH.test(w)) continue;
          if (w === '.' || w === './...' || w === '...') continue;
          out.add(path.posix.resolve(workingDir, w.replace(/\/\.\.\.$/, '')));
          if (out.size >= 32) return [...out];
        }
      }
    }
    return [...out];
  },

  /** A file a test runner picks up by its name or directory (node_modules, .git and build output excluded). */
  isImplied(p: string): boolean {
    if (SKIP_DIR.test(p)) return false;
    return TEST_NAME.test(p) || TEST_DIR.test(p);
  },

  markers(content: string): Markers {
    return { skip: count(content, SKIP_MARKERS), only: count(content, ONLY_MARKERS) };
  },

  /** The number of tests the instruction states ("all 12 tests pass"): the largest one named, or undefined. */
  statedCount(texts: (string | undefined)[]): number | undefined {
    let best: number | undefined;
    for (const t of texts) {
      if (!t) continue;
      for (const m of t.matchAll(STATED_COUNT)) {
        const n = Number(m[1]);
        if (n > 0 && (best === undefined || n > best)) best = n;
      }
    }
    return best;
  },

  /** DELIVERABLES ask for tests to be written or changed (or name one of the test files as a deliverable). */
  writable(deliverables: string | undefined, named: string[]): boolean {
    if (!deliverables) return false;
    if (WRITE_TESTS.test(deliverables)) return true;
    return named.some((p) => deliverables.includes(p) || deliverables.includes(path.posix.basename(p)));
  },
};
