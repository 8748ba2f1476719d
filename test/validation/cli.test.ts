// `wingman validate`: exit codes 0/1/2/3, the readable report and --json, directory walks that skip build output,
// --test-results, and --staged against a real git index. Temporary trees are named wgmtest-validate-* and removed.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { EXIT, runValidateCli } from '../../cli/validate.js';

const here = dirname(fileURLToPath(import.meta.url));

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'wgmtest-validate-'));
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  return dir;
}

async function cli(cwd: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runValidateCli(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, cwd });
  return { code, out, err };
}

const PKG = JSON.stringify({ name: 'svc', dependencies: { express: '^4.18.2' }, devDependencies: { tap: '^21.0.0' } });
const CLEAN = {
  'package.json': PKG,
  'src/app.ts': "import express from 'express';\nexport const app = express();\n",
  'test/app.test.ts': "import t from 'tap';\nimport { app } from '../src/app.js';\nt.ok(app);\n",
};
const unpinned = Object.fromEntries(['left-pad', 'chalk', 'ms', 'debug', 'semver', 'uuid'].map((n) => [n, '*']));
// 25 + 30·0.7 + 20·0.4 + 25·0.6 = 69 → manual review
const REVIEW = {
  'package.json': JSON.stringify({ name: 'svc', dependencies: unpinned }),
  'src/a.ts': 'export const a = eval("1");\nexport const b = eval("2");\nexport const c = eval("3");\n',
  'src/a.test.ts': "import './a.js';\n",
};

const dirs: string[] = [];
const mk = (files: Record<string, string>) => {
  const d = tree(files);
  dirs.push(d);
  return d;
};
t.teardown(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

t.test('exit codes: approve 0, reject 1, manual review 2', async (t) => {
  const ok = await cli(mk(CLEAN), '.');
  t.equal(ok.code, EXIT.AUTO_APPROVE);
  t.match(ok.out, /^wingman validate: AUTO_APPROVE \(score 90\/100\)/);
  t.match(ok.out, /test\s+warn 60\/100/);

  const bad = await cli(mk({ ...CLEAN, 'src/run.ts': "import { exec } from 'node:child_process';\nexport const run = (c: string) => exec(c);\n" }), 'src', 'package.json');
  t.equal(bad.code, EXIT.AUTO_REJECT);
  t.match(bad.out, /AUTO_REJECT/);
  t.match(bad.out, /Blocking issues \(1\):\n {2}src\/run\.ts:2:35 \[js\.child-process\]/);

  const review = await cli(mk(REVIEW), '.');
  t.equal(review.code, EXIT.MANUAL_REVIEW);
  t.match(review.out, /MANUAL_REVIEW \(score 69\/100\)/);
  t.match(review.out, /Other findings \(9\)/);
});

t.test('--json prints the result object', async (t) => {
  const r = await cli(mk(CLEAN), '--json', '.');
  t.equal(r.code, 0);
  const j = JSON.parse(r.out);
  t.equal(j.decision, 'AUTO_APPROVE');
  t.equal(j.score, 90);
  t.same(Object.keys(j.validators).sort(), ['dependency', 'security', 'syntax', 'test']);
  t.same(j.blocking_issues, []);
});

t.test('directories recurse but skip node_modules, .git, dist and lock files; symlinks are not followed', async (t) => {
  const d = mk({
    ...CLEAN,
    'node_modules/evil/index.js': 'eval(process.argv[2]);\nthis is not valid js',
    'dist/app.js': 'syntax error here (',
    '.git/hooks/x.sh': 'if then',
    'package-lock.json': '{ broken',
    'assets/logo.png': '\u0000\u0001',
  });
  const r = await cli(d, '--json', '.');
  t.equal(r.code, 0, r.out);
  const j = JSON.parse(r.out);
  t.equal(j.validators.syntax.checked, 3, 'only package.json and the two TS files');
});

t.test('a path that does not exist rejects', async (t) => {
  const r = await cli(mk(CLEAN), 'src/app.ts', 'src/ghost.ts', 'package.json');
  t.equal(r.code, EXIT.AUTO_REJECT);
  t.match(r.out, /src\/ghost\.ts \[syntax\.file-unreadable\] listed file cannot be read: it does not exist/);
});

t.test('--test-results: failing TAP rejects, passing raises the score', async (t) => {
  const d = mk({ ...CLEAN, 'fail.tap': 'TAP version 14\n1..2\nok 1 - a\nnot ok 2 - b\n', 'pass.tap': 'TAP version 14\n1..2\nok 1 - a\nok 2 - b\n' });
  const fail = await cli(d, '--test-results', 'fail.tap', 'src', 'test', 'package.json');
  t.equal(fail.code, 1);
  t.match(fail.out, /\[test\.failed\] 1 of 2 tests failed/);
  const pass = await cli(d, '--test-results=pass.tap', 'src', 'test', 'package.json');
  t.equal(pass.code, 0);
  t.match(pass.out, /score 100\/100/);
  t.match(pass.out, /tests from test_results: tap, 2 total, 2 passed, 0 failed/);
  const short = await cli(d, '--test-results', 'pass.tap', '--expected-total', '5', 'src', 'test', 'package.json');
  t.equal(short.code, 1);
  const missing = await cli(d, '--test-results', 'nope.tap', '.');
  t.equal(missing.code, EXIT.ERROR);
  t.match(missing.err, /cannot read --test-results nope\.tap: ENOENT/);
});

t.test('usage errors exit 3 with the usage text', async (t) => {
  const d = mk(CLEAN);
  for (const argv of [[], ['--frobnicate', '.'], ['--staged', 'src'], ['--test-results'], ['--expected-total', 'x', '.']]) {
    const r = await cli(d, ...argv);
    t.equal(r.code, EXIT.ERROR, JSON.stringify(argv));
    t.match(r.err, /usage: wingman validate/);
  }
  const empty = mk({ 'node_modules/a.js': '' });
  const r = await cli(empty, '.');
  t.equal(r.code, EXIT.ERROR);
  t.match(r.err, /no files to validate/);
});

t.test('--staged validates the staged versions, not the working tree', async (t) => {
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, stdio: 'pipe' });
  const d = mk({ ...CLEAN, 'README.md': '# svc\n' });
  git(d, 'init', '-q');
  git(d, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'add', 'README.md');
  git(d, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '-m', 'init');

  const none = await cli(d, '--staged');
  t.equal(none.code, 0);
  t.match(none.out, /nothing staged/);

  // Stage a bad version, then fix the working tree without staging: the commit would still carry the bad one.
  writeFileSync(join(d, 'src/app.ts'), "import express from 'express';\nexport const run = (s: string) => eval(s);\n");
  git(d, 'add', 'package.json', 'src/app.ts', 'test/app.test.ts');
  writeFileSync(join(d, 'src/app.ts'), "import express from 'express';\nexport const app = express();\n");
  const bad = await cli(d, '--staged');
  t.equal(bad.code, EXIT.AUTO_REJECT, bad.out);
  t.match(bad.out, /src\/app\.ts:2:35 \[js\.eval\]/);

  // Stage the good version while the working tree holds a broken one.
  git(d, 'add', 'src/app.ts');
  writeFileSync(join(d, 'src/app.ts'), 'this is not ( typescript');
  const good = await cli(d, '--staged', '--json');
  t.equal(good.code, EXIT.AUTO_APPROVE, good.out);
  t.equal(JSON.parse(good.out).decision, 'AUTO_APPROVE');

  // A staged file whose manifest is only in the index (not staged now) still resolves: package.json is committed.
  git(d, '-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '-m', 'app');
  writeFileSync(join(d, 'src/extra.ts'), "import express from 'express';\nimport z from 'zod';\nexport const e = [express, z];\n");
  git(d, 'add', 'src/extra.ts');
  const dep = await cli(d, '--staged');
  t.equal(dep.code, EXIT.AUTO_REJECT, dep.out);
  t.match(dep.out, /"zod" is imported but not declared in package\.json/);
  t.notMatch(dep.out, /"express" is imported/);
});

t.test('as a real process the exit code reaches the shell', async (t) => {
  const runner = resolve(here, 'fixtures/run-validate-cli.ts');
  // Run from the repository so that the TypeScript loader resolves; the trees are given as absolute paths.
  const run = (cwd: string, ...args: string[]) =>
    spawnSync(process.execPath, ['--import=@tapjs/typescript/import', runner, ...args], { cwd, encoding: 'utf8' });
  const approve = mk(CLEAN);
  const reject = mk({ ...CLEAN, 'src/app.ts': 'export const = ;\n' });
  const ok = run(resolve(here, '../..'), approve);
  t.equal(ok.status, 0, ok.stderr);
  t.match(ok.stdout, /AUTO_APPROVE/);
  const bad = run(resolve(here, '../..'), reject);
  t.equal(bad.status, 1, bad.stderr);
  t.match(bad.stdout, /AUTO_REJECT/);
});
