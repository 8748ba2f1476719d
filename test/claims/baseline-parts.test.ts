// The pure parts of the task-start baseline (issue 14): which files are tests, what lowers the bar in them, the
// count an instruction states, whether DELIVERABLES allow test changes, the task's working paths, and the tar scan
// (bounds, cursor, walk order) over archives built with tar-stream as dockerd builds them.
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import t from 'tap';
import tar from 'tar-stream';
import { knownAbsent, workingRoots } from '../../core/claims/baseline-recorder.js';
import { compareWalkOrder, scanTree } from '../../core/claims/scan-tree.js';
import { testFiles } from '../../core/claims/test-files.js';
import type { ContainerInfo } from '../../core/claims/worker-container.js';

t.test('test files named by TEST_PROCESS', async (t) => {
  t.same(testFiles.named('sh /work/t.sh', '/work'), ['/work/t.sh']);
  t.same(testFiles.named('npm test', '/app'), []);
  t.same(testFiles.named('pytest tests/ -q && node --test test/a.test.mjs', '/srv'), ['/srv/tests', '/srv/test/a.test.mjs']);
  t.same(testFiles.named('./run-tests.sh --fast', '/w'), ['/w/run-tests.sh']);
  t.same(testFiles.named('go test ./...', '/go/src/x'), [], '`./...` names the module, not a file');
  t.same(testFiles.named('echo $HOME; sh [REDACTED:aws]', '/w'), []);
});

t.test('test files implied by their names', async (t) => {
  for (const p of ['a.test.ts', 'src/b.spec.js', 'test_x.py', 'pkg/y_test.go', 'tests/helpers.py', '__tests__/z.js', 'test.sh', 'spec/a_spec.rb'])
    t.ok(testFiles.isImplied(p), p);
  for (const p of ['src/app.ts', 'latest.txt', 'node_modules/x/a.test.js', 'contest.py', 'testing.md']) t.notOk(testFiles.isImplied(p), p);
});

t.test('skip and only markers', async (t) => {
  t.same(testFiles.markers("test('a', () => {})\nit('b', () => {})"), { skip: 0, only: 0 });
  t.same(testFiles.markers("test.skip('a', () => {})\nxit('b')\ndescribe.only('c')\nfit('d')"), { skip: 2, only: 2 });
  t.same(testFiles.markers('@pytest.mark.skip(reason="x")\ndef test_a(): pass'), { skip: 1, only: 0 });
  t.same(testFiles.markers('func TestA(t *testing.T) { t.Skip("later") }'), { skip: 1, only: 0 });
  t.same(testFiles.markers("test('a', { skip: true }, () => {})\ntest('b', { only: false })"), { skip: 1, only: 0 });
  t.same(testFiles.markers('echo "ok 2 # SKIP not ready"'), { skip: 1, only: 0 });
  t.same(testFiles.markers('@test "a" {\n  skip "flaky"\n}'), { skip: 1, only: 0 });
});

t.test('a count the instruction states', async (t) => {
  t.equal(testFiles.statedCount(['All 12 tests pass and the output file exists.']), 12);
  t.equal(testFiles.statedCount(['The 3 unit tests and 2 integration tests pass', undefined]), 3);
  t.equal(testFiles.statedCount(['Every case passes; under 50 MB of memory.']), undefined);
  t.equal(testFiles.statedCount(['0 tests fail']), undefined);
});

t.test('DELIVERABLES that ask for tests', async (t) => {
  t.ok(testFiles.writable('Write tests for the parser and fix it.', []));
  t.ok(testFiles.writable('The fix, and the test cases updated for the new format.', []));
  t.ok(testFiles.writable('The build output, and the test script /work/test.sh next to it.', ['/work/test.sh']), 'names a test file');
  t.notOk(testFiles.writable('The corrected application file; nothing else.', ['/work/t.sh']));
  t.notOk(testFiles.writable(undefined, []));
});

t.test('working paths', async (t) => {
  const info: ContainerInfo = { id: 'x', name: 'x', running: true, status: 'running', workingDir: '/work', home: '/root', mounts: [], user: '' };
  const task = (d: string, tp: string | null = null) => ({ instructionId: 'i', start: new Date(), testProcess: tp, sections: { DELIVERABLES: d } });
  t.same(workingRoots(info, task('The file /work/out/app.txt.'), []), ['/work']);
  t.same(workingRoots(info, task('The file /srv/site/index.html and /srv/site/a.css.', 'sh /opt/t/run.sh'), ['/opt/t/run.sh']), ['/work', '/opt/t', '/srv/site']);
  t.same(workingRoots({ ...info, workingDir: '/' }, task('Nothing outside; see /proc/self and /etc.'), []), [], 'never / or /proc');
});

function archive(entries: { name: string; type?: 'file' | 'directory' | 'symlink'; body?: string; linkname?: string }[]) {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory', mtime: new Date(1_700_000_000_000) });
    else if (e.type === 'symlink') pack.entry({ name: e.name, type: 'symlink', linkname: e.linkname, mtime: new Date(1_700_000_000_000) });
    else pack.entry({ name: e.name, mtime: new Date(1_700_000_001_000) }, e.body ?? '');
  }
  pack.finalize();
  const out = new PassThrough();
  pack.pipe(out);
  return out;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const FAR = () => Date.now() + 60_000;

t.test('scanning an archive', async (t) => {
  const tree = [
    { name: 'work/', type: 'directory' as const },
    { name: 'work/a/', type: 'directory' as const },
    { name: 'work/a/x', body: 'one' },
    { name: 'work/a-c/', type: 'directory' as const },
    { name: 'work/a-c/y', body: 'two' },
    { name: 'work/a.txt', body: 'x'.repeat(100) },
    { name: 'work/l', type: 'symlink' as const, linkname: '/work/a/x' },
  ];
  const all = await scanTree(archive(tree), '/work', { maxFiles: 100, hashMaxBytes: 50, maxBytes: 1e6, deadline: FAR() });
  t.equal(all.truncated, undefined);
  t.same([...all.entries.keys()], ['/work', '/work/a', '/work/a/x', '/work/a-c', '/work/a-c/y', '/work/a.txt', '/work/l']);
  t.same(all.entries.get('/work/a/x'), { t: 'f', s: 3, m: 1_700_000_001, h: sha('one') });
  t.same(all.entries.get('/work/a.txt'), { t: 'f', s: 100, m: 1_700_000_001 }, 'over the hash bound: size and mtime only');
  t.same(all.entries.get('/work/l'), { t: 'l', s: 0, m: 1_700_000_000, l: '/work/a/x' });
  // dockerd's walk order is by path component: a/x before a-c before a.txt
  const keys = [...all.entries.keys()];
  t.same([...keys].sort(compareWalkOrder), keys);

  const cut = await scanTree(archive(tree), '/work', { maxFiles: 3, hashMaxBytes: 50, maxBytes: 1e6, deadline: FAR() });
  t.same(cut.truncated, { reason: 'more than 3 files', cursor: '/work/a/x' });
  const roots = [{ path: '/work', state: 'truncated' as const, files: 3, cursor: '/work/a/x' }];
  t.ok(knownAbsent('/work/a/w', roots), 'before the cursor in walk order: known absent');
  t.notOk(knownAbsent('/work/a-c/z', roots), 'after the cursor: unknown');
  t.notOk(knownAbsent('/work/b', roots));

  const bytes = await scanTree(archive(tree), '/work', { maxFiles: 100, hashMaxBytes: 50, maxBytes: 50, deadline: FAR() });
  t.match(bytes.truncated, { reason: 'more than 50 bytes', cursor: '/work/a-c/y' });

  const late = await scanTree(archive(tree), '/work', { maxFiles: 100, hashMaxBytes: 50, maxBytes: 1e6, deadline: FAR() }, { lateSince: () => 1_700_000_000 });
  t.equal(late.entries.get('/work/a/x')?.u, 1, 'read after /check answered with a later mtime: marked');
  t.equal(late.entries.get('/work/a')?.u, undefined, 'mtime in the start second: taken as the start');

  const kept = new Map<string, string>();
  await scanTree(archive(tree), '/work', { maxFiles: 100, hashMaxBytes: 50, maxBytes: 1e6, deadline: FAR() }, {
    wantContent: (p) => p.endsWith('/y'),
    onContent: (p, c) => kept.set(p, c.toString()),
  });
  t.same([...kept], [['/work/a-c/y', 'two']]);

  await t.rejects(scanTree(Object.assign(new PassThrough(), {}).end('not a tar archive at all, just text padded out to more than 512 bytes'.padEnd(1024, '.')), '/work', { maxFiles: 10, hashMaxBytes: 10, maxBytes: 1e6, deadline: FAR() }));
});
