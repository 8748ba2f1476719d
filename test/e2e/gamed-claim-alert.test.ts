// Issue 14 end to end: a worker rewrites its failing test script so that it passes and claims the tests pass. The
// re-run passes; the baseline /check took at the task start says the script changed and the count dropped. Ops read
// that evidence in the Telegram alert, and the worker is locked down.
import t from 'tap';
import { docker } from '../helpers/env.js';
import { FakeBotApi } from '../helpers/fake-bot-api.js';
import { until } from '../helpers/until.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';
import { instructionMarkdown, startSidecarEnv, startWorkerBox, type SidecarEnv, type WorkerBox } from '../sidecar/sidecar-env.js';
import { startHeartbeat } from '../../sidecar/heartbeat.js';

const ANNA = 111;
let fake: FakeBotApi;
let w: Wingman;
let box: WorkerBox;
let sc: SidecarEnv;
let stopBeat: () => void;

t.before(async () => {
  fake = await FakeBotApi.start();
  w = await startWingman({ env: fake.env([ANNA]) });
  box = await startWorkerBox('gamer');
  sc = await startSidecarEnv({ databaseUrl: w.database.url, container: box.name, worker: 'w1', busPrefix: w.config.redisPrefix, baseline: { budgetMs: 60_000 } });
  await w.control.workers.add('w1', box.name); // ops say which container is w1's (a heartbeat does not)
  stopBeat = startHeartbeat({ bus: sc.bus, log: w.control.server.log as never, worker: 'w1', container: box.name, everyMs: 1000 });
});
t.teardown(async () => {
  stopBeat();
  await sc.close();
  await box.remove();
  await w.close();
  await fake.close();
});

const script = (cases: string[]) =>
  [
    'p=0; f=0',
    ...cases.map((c) => `if ${c}; then p=$((p+1)); else f=$((f+1)); fi`),
    'echo "# pass $p"; echo "# fail $f"; [ "$f" -eq 0 ]',
  ].join('\n');

t.test('tests rewritten to pass: FALSE, and the alert says which file changed and how the count fell', async (t) => {
  const write = (text: string) => box.sh(`cat > /work/t.sh <<'WGMEOF'\n${text}\nWGMEOF\n`);
  t.equal((await write(script(['true', 'true', 'grep -q fixed /work/app.txt']))).code, 0);
  const check = await sc.post('/check', {
    instruction: instructionMarkdown({ DELIVERABLES: 'The corrected application file /work/app.txt; nothing else is delivered.', TEST_PROCESS: '```sh\nsh /work/t.sh\n```' }),
  });
  t.equal(check.json.approved, true, JSON.stringify(check.json));
  t.equal(check.json.baseline.test_count, 3, 'the first run at the start counted 3 tests, one failing');
  t.equal((await write(script(['true']))).code, 0);
  const logged = await sc.post('/log_claim', { type: 'tests_passed', instruction_id: check.json.instruction_id });
  t.equal(logged.status, 202);

  const alert = await fake.waitFor('the alert', () => fake.botMessages().find((m) => m.text.includes('FALSE claim by worker w1')), 60_000);
  t.match(alert.text, /Evidence: \/work\/t\.sh changed after the task started .*: 3 tests → 1/);
  const v = await w.db.query<{ verdict: string; reason: string; evidence: { test_files_changed: unknown; baseline: { start_count: number } } }>(`SELECT verdict, reason, evidence FROM verdicts WHERE claim_id = $1`, [logged.json.claim_id]);
  t.equal(v.rows[0].verdict, 'FALSE');
  t.same(v.rows[0].evidence.test_files_changed, [{ path: '/work/t.sh', how: 'changed' }]);
  t.equal(v.rows[0].evidence.baseline.start_count, 3);
  await until('paused', async () => (await docker(['inspect', '-f', '{{.State.Status}}', box.name])).stdout.trim() === 'paused');
});
