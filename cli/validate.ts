// `wingman validate`: offline output validation of files, directories, or the staged changes of a git repository.
// Exit codes: 0 AUTO_APPROVE, 1 AUTO_REJECT, 2 MANUAL_REVIEW, 3 usage or operational error.
import { execFile } from 'node:child_process';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { posix, relative, resolve, sep } from 'node:path';
import { isWingmanError } from '../core/errors.js';
import { describeFinding } from '../validation/composite.js';
import { LIMITS, validateOutput } from '../validation/validate-output.js';
import type { Decision, ValidationInput, ValidationResult } from '../validation/types.js';

export interface ValidateCliIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  cwd: string;
}

export const EXIT: Readonly<Record<Decision | 'ERROR', number>> = { AUTO_APPROVE: 0, AUTO_REJECT: 1, MANUAL_REVIEW: 2, ERROR: 3 };

const USAGE = `usage: wingman validate [--json] [--test-results FILE] [--expected-total N] PATH...
       wingman validate --staged [--json] [--test-results FILE]
Validates files (directories recurse, skipping node_modules, .git, dist and other build output) offline.
Exit: 0 approve, 1 reject, 2 manual review, 3 usage or operational error.
`;

/** Directories a walk never enters. */
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'build', 'coverage', '.tap', '.nyc_output', '__pycache__', '.venv', 'venv', '.tox', '.mypy_cache', '.pytest_cache', '.wingman']);
/** Lock files are generated, often huge, and not code: validated through their manifests instead. */
const SKIP_FILES = new Set(['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'poetry.lock', 'pipfile.lock', 'cargo.lock', 'composer.lock', 'go.sum', 'uv.lock']);
const BINARY_EXT = /\.(png|jpe?g|gif|webp|ico|bmp|pdf|zip|gz|tgz|bz2|xz|7z|tar|woff2?|ttf|otf|eot|mp[34]|mov|avi|wav|ogg|wasm|so|dylib|dll|exe|bin|jar|class|pyc|pyo|o|a|node|sqlite|db)$/i;

function walkable(name: string): boolean {
  return !SKIP_FILES.has(name.toLowerCase()) && !BINARY_EXT.test(name);
}

interface Args {
  json: boolean;
  staged: boolean;
  testResults?: string;
  expectedTotal?: number;
  paths: string[];
}

function parseArgs(argv: string[]): Args | string {
  const a: Args = { json: false, staged: false, paths: [] };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i];
    if (x === '--json') a.json = true;
    else if (x === '--staged') a.staged = true;
    else if (x === '--test-results' || x === '--expected-total') {
      const v = argv[++i];
      if (v === undefined) return `${x} needs a value`;
      if (x === '--test-results') a.testResults = v;
      else {
        if (!/^\d+$/.test(v)) return '--expected-total needs a non-negative integer';
        a.expectedTotal = Number(v);
      }
    } else if (x.startsWith('--test-results=')) a.testResults = x.slice('--test-results='.length);
    else if (x === '--') {
      a.paths.push(...argv.slice(i + 1));
      i = argv.length;
    }
    else if (x.startsWith('-')) return `unknown option ${x}`;
    else a.paths.push(x);
  }
  if (a.staged && a.paths.length) return '--staged takes no paths';
  if (!a.staged && a.paths.length === 0) return 'no PATH given';
  return a;
}

function toPosix(p: string): string {
  return p.split(sep).join('/');
}

/** Files under the given paths, relative to cwd; a path that does not exist is passed on (and rejects). */
async function collect(cwd: string, paths: string[], skipped: string[]): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (p: string) => {
    if (!seen.has(p)) {
      seen.add(p);
      out.push(p);
    }
  };
  const walk = async (abs: string): Promise<void> => {
    const entries = await readdir(abs, { withFileTypes: true });
    entries.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    for (const e of entries) {
      const child = resolve(abs, e.name);
      const rel = toPosix(relative(cwd, child)) || '.';
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) await walk(child);
      } else if (e.isFile()) {
        if (!walkable(e.name)) continue;
        const st = await stat(child);
        if (st.size > LIMITS.maxFileBytes) skipped.push(`${rel} (larger than ${LIMITS.maxFileBytes} bytes)`);
        else add(rel);
      }
      // Symlinks inside a walk are not followed (loops, escapes); list them explicitly to validate them.
    }
  };
  for (const p of paths) {
    const abs = resolve(cwd, p);
    let st;
    try {
      st = await lstat(abs);
      if (st.isSymbolicLink()) st = await stat(abs);
    } catch {
      add(toPosix(relative(cwd, abs)) || p);
      continue;
    }
    if (st.isDirectory()) await walk(abs);
    else add(toPosix(relative(cwd, abs)) || p);
  }
  return out;
}

function git(cwd: string, args: string[], encoding: 'utf8' | 'buffer' = 'utf8'): Promise<string | Buffer> {
  return new Promise((res, rej) => {
    execFile('git', args, { cwd, encoding, maxBuffer: LIMITS.maxTotalBytes }, (err: Error | null, stdout) => (err ? rej(err) : res(stdout)));
  });
}

async function stagedInput(cwd: string, skipped: string[]): Promise<Pick<ValidationInput, 'paths' | 'readFile' | 'fileExists'> & { top: string }> {
  const top = String(await git(cwd, ['rev-parse', '--show-toplevel'])).trim();
  const names = String(await git(top, ['diff', '--cached', '--name-only', '--diff-filter=ACMR', '-z']))
    .split('\0')
    .filter(Boolean);
  const paths = names.filter((n) => {
    const parts = n.split('/');
    if (parts.slice(0, -1).some((d) => SKIP_DIRS.has(d))) return false;
    if (!walkable(parts[parts.length - 1])) {
      skipped.push(`${n} (lock file or binary)`);
      return false;
    }
    return true;
  });
  // The index is the truth for a pre-commit check: read every file, manifests included, as staged.
  const readFile = async (p: string): Promise<string> => {
    try {
      return ((await git(top, ['show', `:${posix.normalize(p)}`], 'buffer')) as Buffer).toString('utf8');
    } catch {
      throw Object.assign(new Error('not in the index'), { code: 'ENOENT' });
    }
  };
  const fileExists = async (p: string): Promise<boolean> => {
    if (p.startsWith('../') || p.startsWith('/')) return false;
    try {
      await git(top, ['cat-file', '-e', `:${posix.normalize(p)}`]);
      return true;
    } catch {
      return false;
    }
  };
  return { paths, readFile, fileExists, top };
}

export function formatReport(r: ValidationResult, skipped: string[] = []): string {
  const lines: string[] = [];
  lines.push(`wingman validate: ${r.decision} (score ${r.score}/100)`);
  lines.push(`  ${r.reasons[0] ?? ''}`);
  if (r.blocking_issues.length) {
    lines.push('', `Blocking issues (${r.blocking_issues.length}):`);
    for (const b of r.blocking_issues) lines.push(`  ${b}`);
  }
  const other = r.findings.filter((f) => !f.blocking);
  if (other.length) {
    lines.push('', `Other findings (${other.length}):`);
    for (const f of other) lines.push(`  ${f.severity.padEnd(6)} ${describeFinding(f)}`);
  }
  lines.push('', 'Validators:');
  for (const [name, v] of Object.entries(r.validators)) lines.push(`  ${name.padEnd(10)} ${v.status.padEnd(4)} ${v.summary}`);
  for (const t of r.tests ?? []) {
    lines.push(`  tests from ${t.source}: ${t.format}, ${t.total ?? '?'} total, ${t.passed ?? '?'} passed, ${t.failed ?? '?'} failed, ${t.skipped ?? '?'} skipped`);
  }
  if (skipped.length) {
    lines.push('', `Not validated (${skipped.length}):`);
    for (const s of skipped) lines.push(`  ${s}`);
  }
  return lines.join('\n') + '\n';
}

export async function runValidateCli(argv: string[], io: ValidateCliIo): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    io.stderr.write(`wingman validate: ${args}\n${USAGE}`);
    return EXIT.ERROR;
  }
  const cwd = io.cwd;
  const skipped: string[] = [];
  try {
    let input: ValidationInput;
    if (args.staged) {
      const s = await stagedInput(cwd, skipped);
      if (s.paths!.length === 0) {
        if (args.json) io.stdout.write(JSON.stringify({ decision: 'AUTO_APPROVE', score: 100, blocking_issues: [], findings: [], note: 'nothing staged' }, null, 2) + '\n');
        else io.stdout.write('wingman validate: nothing staged to validate\n');
        return EXIT.AUTO_APPROVE;
      }
      input = { paths: s.paths, readFile: s.readFile, fileExists: s.fileExists };
    } else {
      const paths = await collect(cwd, args.paths, skipped);
      if (paths.length === 0) {
        io.stderr.write('wingman validate: no files to validate under the given paths\n');
        return EXIT.ERROR;
      }
      input = {
        paths,
        readFile: (p) => readFile(resolve(cwd, p), 'utf8'),
        fileExists: async (p) => {
          try {
            return (await stat(resolve(cwd, p))).isFile();
          } catch {
            return false;
          }
        },
      };
    }
    if (args.testResults !== undefined) {
      try {
        input.test_results = await readFile(resolve(cwd, args.testResults), 'utf8');
      } catch (e) {
        io.stderr.write(`wingman validate: cannot read --test-results ${args.testResults}: ${(e as NodeJS.ErrnoException).code ?? 'error'}\n`);
        return EXIT.ERROR;
      }
    }
    if (args.expectedTotal !== undefined) input.expected_total = args.expectedTotal;
    const result = await validateOutput(input);
    io.stdout.write(args.json ? JSON.stringify(skipped.length ? { ...result, not_validated: skipped } : result, null, 2) + '\n' : formatReport(result, skipped));
    return EXIT[result.decision];
  } catch (e) {
    const msg = isWingmanError(e) ? `${e.code}: ${e.message}` : (e as Error).message;
    io.stderr.write(`wingman validate: ${msg}\n`);
    return EXIT.ERROR;
  }
}
