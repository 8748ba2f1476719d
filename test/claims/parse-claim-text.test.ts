// Free text → structured claims: each common phrasing, negations, URLs, questions, conditions, intentions, lists,
// and what stays uncheckable.
import t from 'tap';
import { parseClaimText, splitArgv } from '../../core/claims/parse-claim-text.js';

type Expect = { claims: unknown[]; unverifiable?: RegExp[]; unchecked?: number };

const fc = (path: string, negated = false) => ({ type: 'file_created', params: { path }, ...(negated ? { negated } : {}) });

const ROWS: [string, Expect][] = [
  ['I created src/app.js', { claims: [fc('src/app.js')] }],
  ['Wrote `dist/app.js`.', { claims: [fc('dist/app.js')] }],
  ['Added "docs/usage.md"', { claims: [fc('docs/usage.md')] }],
  ['Generated the file ./build/out.css', { claims: [fc('./build/out.css')] }],
  ['created a Dockerfile', { claims: [fc('Dockerfile')] }],
  ['created app.js, b.js and c.js in src/', { claims: [fc('src/app.js'), fc('src/b.js'), fc('src/c.js')] }],
  ['Created `dist/app.js` and all 12 tests pass.', { claims: [fc('dist/app.js'), { type: 'tests_passed', params: { total: 12 } }] }],
  ['Modified src/index.ts', { claims: [{ type: 'file_modified', params: { path: 'src/index.ts' } }] }],
  ['Added error handling to src/app.ts', { claims: [{ type: 'file_modified', params: { path: 'src/app.ts' } }] }],
  ['Added "hello world" to /app/greeting.txt', { claims: [{ type: 'file_contains', params: { path: '/app/greeting.txt', text: 'hello world' } }] }],
  ['src/a.ts contains "export default"', { claims: [{ type: 'file_contains', params: { path: 'src/a.ts', text: 'export default' } }] }],
  ['Deleted /tmp/old.log', { claims: [{ type: 'file_deleted', params: { path: '/tmp/old.log' } }] }],
  ['removed `build/` and `tmp/cache`', { claims: [{ type: 'file_deleted', params: { path: 'build/' } }, { type: 'file_deleted', params: { path: 'tmp/cache' } }] }],
  ['nginx is running', { claims: [{ type: 'process_running', params: { name: 'nginx' } }] }],
  ['`node server.js` is running', { claims: [{ type: 'process_running', params: { name: 'node server.js' } }] }],
  ['nginx and redis are running', { claims: [{ type: 'process_running', params: { name: 'nginx' } }, { type: 'process_running', params: { name: 'redis' } }] }],
  ['I started nginx', { claims: [{ type: 'process_running', params: { name: 'nginx' } }] }],
  ['the container web is running', { claims: [{ type: 'container_running', params: { name: 'web' } }] }],
  ['nginx is running and listening on port 8080', { claims: [{ type: 'process_running', params: { name: 'nginx' } }, { type: 'port_listening', params: { port: 8080 } }] }],
  ['The server is running on http://localhost:3000', { claims: [{ type: 'port_listening', params: { port: 3000 } }] }],
  ['listening on 127.0.0.1:8080', { claims: [{ type: 'port_listening', params: { port: 8080 } }] }],
  ['port 5432 is open', { claims: [{ type: 'port_listening', params: { port: 5432 } }] }],
  ['all tests pass', { claims: [{ type: 'tests_passed', params: {} }] }],
  ['All tests passed!', { claims: [{ type: 'tests_passed', params: {} }] }],
  ['42 tests passed', { claims: [{ type: 'tests_passed', params: { total: 42 } }] }],
  ['12/12 tests pass', { claims: [{ type: 'tests_passed', params: { total: 12 } }] }],
  ['the test suite is green', { claims: [{ type: 'tests_passed', params: {} }] }],
  ['Ran `npm run build` successfully', { claims: [{ type: 'command_executed', params: { argv: ['npm', 'run', 'build'], exit_code: 0 } }] }],
  ['I ran `make test` and it exited with code 2', { claims: [{ type: 'command_executed', params: { argv: ['make', 'test'], exit_code: 2 } }] }],
  ['executed "pytest -q tests/"', { claims: [{ type: 'command_executed', params: { argv: ['pytest', '-q', 'tests/'] } }] }],
  // negations keep the claim, marked
  ['I did not create /tmp/x', { claims: [fc('/tmp/x', true)] }],
  ["I didn't delete `data.db`", { claims: [{ type: 'file_deleted', params: { path: 'data.db' }, negated: true }] }],
  ['I have not modified package.json', { claims: [{ type: 'file_modified', params: { path: 'package.json' }, negated: true }] }],
  ['failed to create out.txt', { claims: [fc('out.txt', true)] }],
  ['never wrote secrets.txt', { claims: [fc('secrets.txt', true)] }],
  ['nginx is not running', { claims: [{ type: 'process_running', params: { name: 'nginx' }, negated: true }] }],
  ["redis isn't running", { claims: [{ type: 'process_running', params: { name: 'redis' }, negated: true }] }],
  ['Tests fail', { claims: [{ type: 'tests_passed', params: {}, negated: true }] }],
  ['tests did not fail', { claims: [{ type: 'tests_passed', params: {} }] }],
  ['the tests are not passing', { claims: [{ type: 'tests_passed', params: {}, negated: true }] }],
  ['not listening on port 80', { claims: [{ type: 'port_listening', params: { port: 80 }, negated: true }] }],
  // URLs are never files; non-local hosts are not the worker's
  ['Created https://github.com/org/repo/pull/12', { claims: [], unverifiable: [/is a URL/] }],
  ['Updated https://example.com/docs/index.html', { claims: [], unverifiable: [/is a URL/] }],
  ['listening on http://example.com:8080', { claims: [], unverifiable: [/not in the worker's network namespace/] }],
  ['Opened a PR at https://github.com/org/repo/pull/12', { claims: [], unchecked: 1 }],
  ['Created out/app.txt and opened https://example.com/pr/2', { claims: [fc('out/app.txt')], unchecked: 1 }],
  // not claims
  ['Did you create x.js?', { claims: [], unchecked: 1 }],
  ['If tests pass, deploy', { claims: [], unverifiable: [/condition/] }],
  ['I will create src/x.ts', { claims: [], unchecked: 1 }],
  ['I should have created src/y.ts', { claims: [], unverifiable: [/intention/] }],
  ['Refactored the parser. Everything looks good!', { claims: [], unverifiable: [/names no file path/], unchecked: 1 }],
  ['10 of 12 tests pass', { claims: [], unverifiable: [/only 10 of 12/] }],
  ['some tests pass', { claims: [], unverifiable: [/only some/] }],
  ['the server is running', { claims: [], unverifiable: [/names no process/] }],
  ['ran the build', { claims: [], unverifiable: [/names no command/] }],
  ['', { claims: [] }],
];

t.test('free-text table', async (t) => {
  for (const [text, want] of ROWS) {
    const got = parseClaimText(text);
    t.same(got.claims, want.claims, `claims of ${JSON.stringify(text)}`);
    t.equal(got.unverifiable.length, want.unverifiable?.length ?? 0, `unverifiable count of ${JSON.stringify(text)}: ${JSON.stringify(got.unverifiable)}`);
    for (const [i, re] of (want.unverifiable ?? []).entries()) t.match(got.unverifiable[i]?.reason, re, `reason of ${JSON.stringify(text)}`);
    if (want.unchecked !== undefined) t.equal(got.unchecked.length, want.unchecked, `unchecked of ${JSON.stringify(text)}`);
  }
});

t.test('a path inside a URL is never a file claim', async (t) => {
  const got = parseClaimText('wrote https://cdn.example.com/dist/app.js');
  t.same(got.claims, []);
});

t.test('long and hostile input stays fast and bounded', async (t) => {
  const inputs = ['created '.repeat(2000), ' and '.repeat(2000), '`'.repeat(5000), 'a.js, '.repeat(1000), 'not '.repeat(2000) + 'running'];
  for (const s of inputs) {
    const r = parseClaimText(s);
    t.ok(Array.isArray(r.claims));
    t.ok(r.claims.length <= 2000);
  }
});

t.test('splitArgv', async (t) => {
  t.same(splitArgv('make test'), ['make', 'test']);
  t.same(splitArgv(`sh -c "echo 'a b'"`), ['sh', '-c', "echo 'a b'"]);
  t.same(splitArgv(`grep 'x y' "" f`), ['grep', 'x y', '', 'f']);
  t.same(splitArgv('a\\ b c'), ['a b', 'c']);
  t.same(splitArgv('  '), []);
});
