// Issue 5 end to end: a real busybox worker, its real sidecar (gate, claims, verify loop), the real proxy and control
// (watcher, Telegram through the fake Bot API). The worker claims a file it never made: ops get the alert, the
// container is paused, Docker calls are refused, /check answers 423; only an approver's /unlock releases it.
import t from 'tap';
import { until } from '../helpers/until.js';
import { docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { FakeBotApi } from '../helpers/fake-bot-api.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';
import { instructionMarkdown, startSidecarEnv, startWorkerBox, type SidecarEnv, type WorkerBox } from '../sidecar/sidecar-env.js';
import { startHeartbeat } from '../../sidecar/heartbeat.js';

const ANNA = 111;
const MALLORY = 999;
let fake: FakeBotApi;
let w: Wingman;
let box: WorkerBox;
let sc: SidecarEnv;
let stopBeat: () => void;
const victim = testName('victim');

t.before(async () => {
  fake = await FakeBotApi.start();
  w = await startWingman({ env: fake.env([ANNA]) });
  box = await startWorkerBox('liar');
  sc = await startSidecarEnv({ databaseUrl: w.database.url, container: box.name, worker: 'w1', busPrefix: w.config.redisPrefix });
  await w.control.workers.add('w1', box.name); // ops say which container is w1's (a heartbeat does not)
  stopBeat = startHeartbeat({ bus: sc.bus, log: w.control.server.log as never, worker: 'w1', container: box.name, everyMs: 1000 });
  await dockerOk(['run', '-d', '--name', victim, TEST_IMAGE, 'sleep', '600']);
  await w.adopt('w1', 'container', victim);
});
t.teardown(async () => {
  stopBeat();
  await sc.close();
  await box.remove();
  await docker(['rm', '-f', victim]);
  await w.close();
  await fake.close();
});

const state = async (c: string) => (await docker(['inspect', '-f', '{{.State.Status}}', c])).stdout.trim();

async function answerTo(userId: number, text: string): Promise<string> {
  const m = fake.say(userId, text);
  return (await fake.waitFor(`answer to ${text}`, () => fake.repliesTo(m)[0])).text;
}

t.test('a lie is caught, paged and locked down; only an approver releases it', async (t) => {
  const check = await sc.post('/check', { instruction: instructionMarkdown() });
  t.equal(check.status, 200, JSON.stringify(check.json));
  t.equal(check.json.approved, true);
  const logged = await sc.post('/log_claim', { type: 'file_created', path: '/work/dist/app.js', instruction_id: check.json.instruction_id });
  t.ok(logged.status >= 200 && logged.status < 300, JSON.stringify(logged.json));

  const alert = await fake.waitFor('the alert', () => fake.botMessages().find((m) => m.text.includes('FALSE claim by worker w1')), 60_000);
  t.match(alert.text, /dist\/app\.js/);
  t.match(alert.text, /Release: \/unlock w1/);
  await until('paused', async () => (await state(box.name)) === 'paused');
  t.equal(await state(box.name), 'paused', 'the engine says paused');
  const rm = await w.dockerAs('w1', ['rm', '-f', victim]);
  t.match(rm.stderr, /wingman: worker w1 is locked down \(FALSE claim: file_created \/work\/dist\/app\.js\)/);
  t.equal(await state(victim), 'running');
  const locked = await sc.post('/check', { instruction: instructionMarkdown() });
  t.equal(locked.status, 423);

  t.match(await answerTo(MALLORY, '/unlock w1'), /only/);
  t.equal(await state(box.name), 'paused', 'a non-approver changes nothing');
  t.match(await answerTo(ANNA, '/unlock w1 reviewed'), /w1 unlocked/);
  t.equal(await state(box.name), 'running');
  t.equal((await sc.post('/check', { instruction: instructionMarkdown() })).status, 200);
  const c = await w.dockerAs('w1', ['create', '--label', 'wgmtest=1', TEST_IMAGE, 'true']);
  t.equal(c.code, 0, c.stderr);
  await docker(['rm', '-f', c.stdout.trim()]);
});
