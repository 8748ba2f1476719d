// /lockdown and /unlock on Telegram: only allowlisted approvers change anything; the container follows.
import t from 'tap';
import { docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { FakeBotApi } from '../helpers/fake-bot-api.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

const ANNA = 111;
const MALLORY = 999;
let fake: FakeBotApi;
let w: Wingman;
let container: string;

t.before(async () => {
  fake = await FakeBotApi.start();
  w = await startWingman({ env: fake.env([ANNA]) });
  container = testName('tg-worker');
  await dockerOk(['run', '-d', '--name', container, TEST_IMAGE, 'sleep', '600']);
  await w.control.workers.add('w1', container);
});
t.teardown(async () => {
  await docker(['rm', '-f', container]);
  await w.close();
  await fake.close();
});

const state = async () => (await docker(['inspect', '-f', '{{.State.Status}}', container])).stdout.trim();

async function answerTo(userId: number, text: string): Promise<string> {
  const m = fake.say(userId, text);
  const r = await fake.waitFor(`answer to ${text}`, () => fake.repliesTo(m)[0]);
  return r.text;
}

t.test('a non-approver cannot lock or unlock', async (t) => {
  t.match(await answerTo(MALLORY, '/lockdown w1 mischief'), /only/);
  t.notOk((await w.control.workers.get('w1'))?.locked);
  t.equal(await state(), 'running');
});

t.test('an approver locks down and releases; the container follows; both audited', async (t) => {
  t.match(await answerTo(ANNA, '/lockdown w1 suspicious claims'), /w1 locked down; container: container_paused/);
  t.equal(await state(), 'paused');
  const refused = await w.dockerAs('w1', ['create', TEST_IMAGE, 'true']);
  t.match(refused.stderr, /wingman: worker w1 is locked down \(suspicious claims\)/);
  t.match(await answerTo(MALLORY, '/unlock w1'), /only/);
  t.ok((await w.control.workers.get('w1'))?.locked, 'still locked after the intruder');
  t.equal(await state(), 'paused');
  t.match(await answerTo(ANNA, '/unlock w1 checked'), /w1 unlocked; container: container_unpaused/);
  t.equal(await state(), 'running');
  const ev = await w.db.query(`SELECT action, actor, reason FROM lockdown_events WHERE worker = 'w1' AND action IN ('locked', 'unlocked') ORDER BY id`);
  t.same(ev.rows, [
    { action: 'locked', actor: `telegram:${ANNA}`, reason: 'suspicious claims' },
    { action: 'unlocked', actor: `telegram:${ANNA}`, reason: 'checked' },
  ]);
});
