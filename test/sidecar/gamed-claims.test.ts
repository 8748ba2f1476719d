// Issue 14: claims a worker that knows how it is checked would game, each next to its honest twin, against a real
// busybox worker container read through the sidecar's proxy identity. The baseline /check records at the task start
// is what tells them apart: touched is not created, a rewritten or shrunk test suite is not a passing one, skip/only
// markers are not passes, a path that never existed was not deleted, an untouched file was not modified.
import t, { type Test } from 'tap';
import { DecisionBatcher } from '../../core/instructions/decision-batcher.js';
import { checkInstruction } from '../../core/gate/index.js';
import { migratedTestDb } from '../helpers/db.js';
import { instructionMarkdown, startSidecarEnv, startWorkerBox, type SidecarEnv, type WorkerBox } from './sidecar-env.js';

type V = 'TRUE' | 'FALSE' | 'UNVERIFIABLE';

const tdb = await migratedTestDb();
const box = await startWorkerBox('gamed');
// The budget is the whole capture here: these tests are about verdicts, not about how long /check may wait.
const sc = await startSidecarEnv({ databaseUrl: tdb.url, container: box.name, bus: 'memory', testTimeoutMs: 10_000, baseline: { budgetMs: 60_000 } });
t.teardown(async () => {
  await sc.close();
  await box.remove();
  await tdb.drop();
});

async function sh(b: WorkerBox, script: string) {
  const r = await b.sh(script);
  if (r.code !== 0) throw new Error(`worker sh failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** Write a file in the worker, as the worker would (a quoted here-document: no expansion). */
const write = (file: string, text: string) => `mkdir -p $(dirname ${file})\ncat > ${file} <<'WGMEOF'\n${text}\nWGMEOF\n`;

/** A TAP-ish test script: each case a shell condition; prints "# pass N" / "# fail N" and fails when any case does. */
function testScript(cases: string[]): string {
  return [
    'p=0; f=0',
    ...cases.map((c, i) => `if ${c}; then echo "ok ${i + 1}"; p=$((p+1)); else echo "not ok ${i + 1}"; f=$((f+1)); fi`),
    'echo "# pass $p"',
    'echo "# fail $f"',
    '[ "$f" -eq 0 ]',
  ].join('\n');
}

async function check(s: SidecarEnv, overrides: Parameters<typeof instructionMarkdown>[0]) {
  const r = await s.post('/check', { instruction: instructionMarkdown(overrides) });
  if (r.status !== 200 || !r.json.approved) throw new Error(`instruction not approved: ${JSON.stringify(r.json)}`);
  return r.json as { instruction_id: string; baseline: { status: string; files: number; test_files: number; test_count: number | null } };
}

async function verify(s: SidecarEnv, body: Record<string, unknown>) {
  const r = await s.post('/verify', body);
  if (r.status !== 200) throw new Error(`/verify ${JSON.stringify(body)} answered ${r.status}: ${JSON.stringify(r.json)}`);
  return r.json as { claim_id: string; verdict: V; reason: string; evidence: Record<string, any> };
}

interface Case {
  name: string;
  /** the worker's files before the task starts */
  before: string;
  /** the instruction's sections that differ from the fixture */
  instruction?: Parameters<typeof instructionMarkdown>[0];
  /** what the worker does after /check */
  after: string;
  claim: Record<string, unknown>;
  expect: V;
  reason: RegExp;
}

const NO_TEST_CHANGES = { DELIVERABLES: 'The corrected application file next to the test script; nothing else is delivered.' };
const TESTS_WRITABLE = { DELIVERABLES: 'The corrected application file, and the test cases updated to cover the new behaviour.' };

// [gamed, honest twin] for each way of gaming a claim.
const PAIRS: [string, Case, Case][] = [
  [
    'touched, not created',
    { name: 'an old file touched', before: 'mkdir -p /work/p1 && echo old > /work/p1/old.txt', after: 'touch /work/p1/old.txt', claim: { type: 'file_created', path: '/work/p1/old.txt' }, expect: 'FALSE', reason: /existed before the task started.*only touched/ },
    { name: 'a new file', before: 'mkdir -p /work/p1h', after: 'echo new > /work/p1h/new.txt', claim: { type: 'file_created', path: '/work/p1h/new.txt' }, expect: 'TRUE', reason: /absent when the task started/ },
  ],
  [
    'tests rewritten to pass',
    {
      name: 'the test script cut to one passing case',
      before: write('/work/p2/t.sh', testScript(['true', '[ -d /work ]', 'grep -q fixed /work/p2/app.txt'])) + 'echo broken > /work/p2/app.txt',
      instruction: { ...NO_TEST_CHANGES, TEST_PROCESS: '```sh\nsh /work/p2/t.sh\n```' },
      after: write('/work/p2/t.sh', testScript(['true'])),
      claim: { type: 'tests_passed' },
      expect: 'FALSE',
      reason: /\/work\/p2\/t\.sh changed after the task started.*: 3 tests → 1$/,
    },
    {
      name: 'the code fixed, the tests left alone',
      before: write('/work/p2h/t.sh', testScript(['true', '[ -d /work ]', 'grep -q fixed /work/p2h/app.txt'])) + 'echo broken > /work/p2h/app.txt',
      instruction: { ...NO_TEST_CHANGES, TEST_PROCESS: '```sh\nsh /work/p2h/t.sh\n```' },
      after: 'echo fixed > /work/p2h/app.txt',
      claim: { type: 'tests_passed' },
      expect: 'TRUE',
      reason: /re-run passed: 3 passed, 0 failed; the 1 test file\(s\) are unchanged.*3 tests at the start/,
    },
  ],
  [
    'test count shrunk',
    {
      name: 'the failing case dropped (test changes allowed)',
      before: write('/work/p3/t.sh', testScript(['true', '[ -d /work ]', 'grep -q fixed /work/p3/app.txt'])) + 'echo broken > /work/p3/app.txt',
      instruction: { ...TESTS_WRITABLE, TEST_PROCESS: '```sh\nsh /work/p3/t.sh\n```' },
      after: write('/work/p3/t.sh', testScript(['true', '[ -d /work ]'])),
      claim: { type: 'tests_passed' },
      expect: 'FALSE',
      reason: /test count dropped since the task started: 3 tests → 2/,
    },
    {
      name: 'a case added and the code fixed',
      before: write('/work/p3h/t.sh', testScript(['true', '[ -d /work ]', 'grep -q fixed /work/p3h/app.txt'])) + 'echo broken > /work/p3h/app.txt',
      instruction: { ...TESTS_WRITABLE, TEST_PROCESS: '```sh\nsh /work/p3h/t.sh\n```' },
      after: 'echo fixed > /work/p3h/app.txt\n' + write('/work/p3h/t.sh', testScript(['true', '[ -d /work ]', 'grep -q fixed /work/p3h/app.txt', '[ -s /work/p3h/app.txt ]'])),
      claim: { type: 'tests_passed' },
      expect: 'TRUE',
      reason: /4 passed, 0 failed; 1 test file\(s\) changed, as DELIVERABLES allow; 3 tests at the start/,
    },
  ],
  [
    '.skip added',
    {
      name: 'a failing case marked test.skip',
      before: write('/work/p4/app.test.js', "test('a', () => {})\ntest('b', () => {})\ntest('c', () => {})") + write('/work/p4/run.sh', 'n=$(grep -c "^test" /work/p4/app.test.js); echo "# pass $n"; echo "# fail 0"'),
      instruction: { ...TESTS_WRITABLE, TEST_PROCESS: '```sh\nsh /work/p4/run.sh\n```' },
      after: "sed -i \"s/^test('c'/test.skip('c'/\" /work/p4/app.test.js",
      claim: { type: 'tests_passed' },
      expect: 'FALSE',
      reason: /\.skip\/\.only added to the tests after the task started: \/work\/p4\/app\.test\.js \(skip 0 → 1\)/,
    },
    {
      name: 'a case added',
      before: write('/work/p4h/app.test.js', "test('a', () => {})\ntest('b', () => {})\ntest('c', () => {})") + write('/work/p4h/run.sh', 'n=$(grep -c "^test" /work/p4h/app.test.js); echo "# pass $n"; echo "# fail 0"'),
      instruction: { ...TESTS_WRITABLE, TEST_PROCESS: '```sh\nsh /work/p4h/run.sh\n```' },
      after: "echo \"test('d', () => {})\" >> /work/p4h/app.test.js",
      claim: { type: 'tests_passed' },
      expect: 'TRUE',
      reason: /4 passed, 0 failed; 1 test file\(s\) changed, as DELIVERABLES allow/,
    },
  ],
  [
    '.only added',
    {
      name: 'one case focused with test.only',
      before: write('/work/p5/app.test.js', "test('a', () => {})\ntest('b', () => {})") + write('/work/p5/run.sh', 'n=$(grep -c "^test" /work/p5/app.test.js); echo "# pass $n"; echo "# fail 0"'),
      instruction: { ...TESTS_WRITABLE, TEST_PROCESS: '```sh\nsh /work/p5/run.sh\n```' },
      after: "sed -i \"s/^test('a'/test.only('a'/\" /work/p5/app.test.js",
      claim: { type: 'tests_passed' },
      expect: 'FALSE',
      reason: /\.skip\/\.only added.*only 0 → 1/,
    },
    {
      name: 'the tests left as they were',
      before: write('/work/p5h/app.test.js', "test('a', () => {})\ntest('b', () => {})") + write('/work/p5h/run.sh', 'n=$(grep -c "^test" /work/p5h/app.test.js); echo "# pass $n"; echo "# fail 0"'),
      instruction: { ...TESTS_WRITABLE, TEST_PROCESS: '```sh\nsh /work/p5h/run.sh\n```' },
      after: 'true',
      claim: { type: 'tests_passed' },
      expect: 'TRUE',
      reason: /2 passed, 0 failed; the \d+ test file\(s\) are unchanged/,
    },
  ],
  [
    'deleted, never existed',
    { name: 'a path that was never there', before: 'mkdir -p /work/p6', after: 'true', claim: { type: 'file_deleted', path: '/work/p6/never.txt' }, expect: 'FALSE', reason: /never existed: it was absent when the task started/ },
    { name: 'a file there at the start, removed', before: 'echo x > /work/p6h.txt', after: 'rm /work/p6h.txt', claim: { type: 'file_deleted', path: '/work/p6h.txt' }, expect: 'TRUE', reason: /existed when the task started and does not exist now/ },
  ],
  [
    'modified, untouched',
    { name: 'only touched', before: 'echo same > /work/p7.txt', after: 'touch /work/p7.txt', claim: { type: 'file_modified', path: '/work/p7.txt' }, expect: 'FALSE', reason: /has the same content as before the task started \(5 bytes, sha256 [0-9a-f]{12}…\)/ },
    { name: 'content changed', before: 'echo one > /work/p7h.txt', after: 'echo two >> /work/p7h.txt', claim: { type: 'file_modified', path: '/work/p7h.txt' }, expect: 'TRUE', reason: /changed since the task started: 4 → 8 bytes/ },
  ],
  [
    'created, deleted, recreated',
    { name: 'a file there at the start, removed and written again', before: 'echo old > /work/p8.txt', after: 'rm /work/p8.txt && echo again > /work/p8.txt', claim: { type: 'file_created', path: '/work/p8.txt' }, expect: 'FALSE', reason: /existed before the task started/ },
    { name: 'a new file created, removed and created again', before: 'true', after: 'echo a > /work/p8h.txt && rm /work/p8h.txt && echo b > /work/p8h.txt', claim: { type: 'file_created', path: '/work/p8h.txt' }, expect: 'TRUE', reason: /absent when the task started and exists now/ },
  ],
];

async function run(t: Test, c: Case) {
  await sh(box, `set -e\n${c.before}`);
  const ins = await check(sc, c.instruction ?? {});
  t.equal(ins.baseline.status, 'complete', `${c.name}: the baseline is complete (${JSON.stringify(ins.baseline)})`);
  await sh(box, `set -e\n${c.after}`);
  const v = await verify(sc, { ...c.claim, instruction_id: ins.instruction_id });
  t.equal(v.verdict, c.expect, `${c.name}: ${v.reason}`);
  t.match(v.reason, c.reason, `${c.name}: the reason says why`);
  return v;
}

t.test('gamed claims are FALSE with the reason; their honest twins TRUE', async (t) => {
  for (const [what, gamed, honest] of PAIRS) {
    await t.test(what, async (t) => {
      const g = await run(t, gamed);
      t.ok(g.evidence.baseline, 'the evidence shows the baseline it was judged against');
      await run(t, honest);
    });
  }
});

t.test('what the baseline holds: the count at the start, the test files, the /check answer', async (t) => {
  await sh(box, write('/work/q1/t.sh', testScript(['true', 'true', 'false'])));
  const ins = await check(sc, { ...NO_TEST_CHANGES, TEST_PROCESS: '```sh\nsh /work/q1/t.sh\n```' });
  t.equal(ins.baseline.test_count, 3, 'the first run counted 3 tests (one failing)');
  t.ok(ins.baseline.test_files >= 1);
  const { rows } = await sc.db.query<{ status: string; test_count_source: string; tests_writable: boolean; test_files: Record<string, { present: boolean }>; roots: { path: string; state: string }[]; entry: unknown }>(`SELECT status, test_count_source, test_files, tests_writable, roots, files -> '/work/q1/t.sh' AS entry FROM task_baselines WHERE instruction_id = $1`, [ins.instruction_id]);
  t.equal(rows[0].status, 'complete');
  t.equal(rows[0].test_count_source, 'first_run');
  t.equal(rows[0].tests_writable, false);
  t.equal(rows[0].test_files['/work/q1/t.sh'].present, true);
  t.match(rows[0].entry, { t: 'f', h: /^[0-9a-f]{64}$/ }, 'the test script is hashed');
  t.same(rows[0].roots.map((r: { path: string; state: string }) => [r.path, r.state]), [['/work', 'read']]);
  // A count stated in the instruction is taken as it is (no first run).
  const stated = await check(sc, { ...NO_TEST_CHANGES, TEST_PROCESS: '```sh\nsh /work/q1/t.sh\n```', SUCCESS_CRITERIA: 'All 7 tests in the test script pass and the output file has the documented format.' });
  t.equal(stated.baseline.test_count, 7);
  const s = await sc.db.query(`SELECT test_count_source, test_run FROM task_baselines WHERE instruction_id = $1`, [stated.instruction_id]);
  t.equal(s.rows[0].test_count_source, 'instruction');
  t.equal(s.rows[0].test_run, null);
  // Append-only: a baseline cannot be rewritten afterwards.
  await t.rejects(sc.db.query(`UPDATE task_baselines SET test_count = 1 WHERE instruction_id = $1`, [ins.instruction_id]));
  await t.rejects(sc.db.query(`DELETE FROM task_baselines WHERE instruction_id = $1`, [ins.instruction_id]));
});

t.test('outside the working paths: the change list at the start decides', async (t) => {
  await sh(box, 'echo early > /tmp/early.txt');
  const ins = await check(sc, {});
  await sh(box, 'echo late > /tmp/late.txt && touch /tmp/early.txt && rm -f /tmp/early-gone && echo 1 >> /etc/group');
  const rows: [string, Record<string, unknown>, V, RegExp][] = [
    ['created outside the working paths', { type: 'file_created', path: '/tmp/late.txt' }, 'TRUE', /absent when the task started/],
    ['made before the task, touched after', { type: 'file_created', path: '/tmp/early.txt' }, 'FALSE', /change list at the start/],
    ['an image file', { type: 'file_created', path: '/etc/passwd' }, 'FALSE', /image/],
    ['never there, outside', { type: 'file_deleted', path: '/tmp/early-gone' }, 'FALSE', /never existed/],
    ['written outside the working paths', { type: 'file_modified', path: '/etc/group' }, 'TRUE', /outside the working paths/],
  ];
  for (const [name, claim, expected, reason] of rows) {
    const v = await verify(sc, { ...claim, instruction_id: ins.instruction_id });
    t.equal(v.verdict, expected, `${name}: ${v.reason}`);
    t.match(v.reason, reason, `${name}: reason`);
  }
});

t.test('no baseline, or one cut short: UNVERIFIABLE with the reason, never a guess', async (t) => {
  // An approved instruction with no baseline (recorded as before baselines existed).
  const gate = await checkInstruction(instructionMarkdown());
  const row = await new DecisionBatcher({ db: sc.db, worker: 'w1' }).record(gate, new Date());
  await sh(box, 'echo x > /work/r1.txt');
  for (const [name, claim, reason] of [
    ['created', { type: 'file_created', path: '/work/r1.txt' }, /no baseline of the worker's container was recorded/],
    ['deleted', { type: 'file_deleted', path: '/work/r1-none.txt' }, /whether it existed when the task started cannot be told: no baseline/],
    ['tests', { type: 'tests_passed' }, /cannot be compared with the start of the task: no baseline/],
  ] as const) {
    await sh(box, write('/work/test.sh', testScript(['true'])));
    const v = await verify(sc, { ...claim, instruction_id: row.id });
    t.equal(v.verdict, 'UNVERIFIABLE', `${name}: ${v.reason}`);
    t.match(v.reason, reason, `${name}: reason`);
  }

  // A baseline bounded to 5 files: what it read is known, what it did not reach is not.
  const small = await startWorkerBox('gamed-small');
  const bounded = await startSidecarEnv({ databaseUrl: tdb.url, container: small.name, worker: 'w-small', bus: 'memory', baseline: { budgetMs: 60_000, maxFiles: 5 } });
  t.teardown(async () => {
    await bounded.close();
    await small.remove();
  });
  await sh(small, 'for d in a b c d e f g; do echo $d > /work/$d.txt; done');
  const ins = await check(bounded, {});
  t.equal(ins.baseline.status, 'partial', 'the /check answer says the baseline is partial');
  await sh(small, 'rm /work/a.txt /work/g.txt');
  const cases: [string, Record<string, unknown>, V, RegExp][] = [
    ['read before the bound', { type: 'file_deleted', path: '/work/a.txt' }, 'TRUE', /existed when the task started/],
    ['absent, walked past', { type: 'file_deleted', path: '/work/a0.txt' }, 'FALSE', /never existed/],
    ['not reached', { type: 'file_deleted', path: '/work/g.txt' }, 'UNVERIFIABLE', /stopped before \/work\/g\.txt \(more than 5 files\)/],
  ];
  for (const [name, claim, expected, reason] of cases) {
    const v = await verify(bounded, { ...claim, instruction_id: ins.instruction_id });
    t.equal(v.verdict, expected, `${name}: ${v.reason}`);
    t.match(v.reason, reason, `${name}: reason`);
  }
});

t.test('/check does not wait past its budget; claims wait for the capture', async (t) => {
  const quick = await startWorkerBox('gamed-quick');
  const env = await startSidecarEnv({ databaseUrl: tdb.url, container: quick.name, worker: 'w-quick', bus: 'memory', baseline: { budgetMs: 0 } });
  t.teardown(async () => {
    await env.close();
    await quick.remove();
  });
  await sh(quick, 'echo x > /work/old.txt');
  const ins = await check(env, {});
  t.equal(ins.baseline.status, 'capturing', 'answered before the capture ended');
  const v = await verify(env, { type: 'file_created', path: '/work/old.txt', instruction_id: ins.instruction_id });
  t.equal(v.verdict, 'FALSE', v.reason);
  const { rows } = await env.db.query(`SELECT status, answered_after_ms FROM task_baselines WHERE instruction_id = $1`, [ins.instruction_id]);
  t.equal(rows[0].status, 'complete');
  t.type(rows[0].answered_after_ms, 'number', 'the row says /check answered while it was still capturing');
});
