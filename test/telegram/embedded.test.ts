// `wingman up` without DATABASE_URL / REDIS_URL: the embedded store (PGlite, one connection, serialised
// transactions) and the in-process bus. The Telegram side must neither deadlock on the single connection nor
// depend on Redis: an approval is announced, a tap decides it, the message is edited.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { buildControl, type ControlApp } from '../../control/app.js';
import { MemoryBus } from '../../core/bus/memory-bus.js';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';
import { EMPTY_POLICY } from '../../core/policy/policy-file.js';
import { defaultMigrationsDir, migrate } from '../../core/store/migrate.js';
import { PgliteDb } from '../../core/store/pglite-db.js';
import { testEnv } from '../helpers/env.js';
import { FakeBotApi } from '../helpers/fake-bot-api.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-tg-emb-'));
const fake = await FakeBotApi.start();
const log = createLogger({ level: process.env.WGMTEST_LOG_LEVEL ?? 'silent' });
const config = loadConfig({
  WINGMAN_DATA_DIR: path.join(dir, 'data'),
  WINGMAN_SOCKET_DIR: path.join(dir, 's'),
  WINGMAN_UPSTREAM: testEnv().dockerHost,
  WINGMAN_LOG_LEVEL: 'silent',
  ...fake.env([111]),
});
const db = await PgliteDb.open();
await migrate(db, defaultMigrationsDir(), log);
const bus = new MemoryBus({ log });
let control: ControlApp;

t.before(async () => {
  control = await buildControl({ config, db, bus, log, metrics: createMetrics({ defaults: false }), policy: EMPTY_POLICY, apiToken: 'wgmtest-embedded-token' });
});
t.teardown(async () => {
  await control.close();
  await bus.close();
  await db.close();
  await fake.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

t.test('embedded store and in-process bus: request → message → tap → approved → edited', async (t) => {
  const { approval } = await control.approvals.request({
    worker: 'w1',
    rule: 'ContainerDelete',
    summary: 'remove container embedded-web (force)',
    method: 'DELETE',
    route: '/containers/{name}',
    path: '/containers/embedded-web?force=1',
    opHash: 'embedded',
    op: {},
    reasons: [],
    ttlS: 120,
  });
  const m = await fake.waitFor('the approval message', () => fake.botMessages().find((x) => x.text.includes(`ID: ${approval.id}`)));
  for (let i = 0; !(await control.approvals.events(approval.id)).some((e) => e.event === 'notified'); i++) {
    if (i > 400) throw new Error('never notified');
    await new Promise((r) => setTimeout(r, 25));
  }
  const cb = fake.tap(111, m, m.reply_markup.inline_keyboard[0][0].callback_data);
  t.match((await fake.waitFor('answer', () => fake.answerOf(cb))).text, /^Approved/);
  t.equal((await control.approvals.get(approval.id))!.status, 'approved');
  await fake.waitFor('edit', () => m.edits.length > 0);
  t.match(m.text, /^✅ APPROVED by User111/);
  const st = fake.say(111, '/status');
  const reply = await fake.waitFor('status reply', () => fake.repliesTo(st)[0]);
  t.match(reply.text, /Store: ok \(pglite\)/);
  t.match(reply.text, /Bus: ok \(memory\)/);
  // The fake has the reply before the sender records it as sent: wait for the outbox to drain.
  for (let i = 0; (await control.telegram!.outbox.backlog()) > 0; i++) {
    if (i > 400) throw new Error('outbox never drained');
    await new Promise((r) => setTimeout(r, 25));
  }
  t.pass('outbox drained');
});
