// Regression (CI, claims-load): a verdict committed while its claim.verified could not be published was never
// announced (the queue row was done, so no verify loop looked at it again): a FALSE verdict nobody is alerted to.
// Now the row stays unannounced until the publish goes out, and a later round announces it.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { MemoryBus } from '../../core/bus/memory-bus.js';
import type { Topic, Topics } from '../../core/bus/topics.js';
import { Claims } from '../../core/claims/claims.js';
import { VerifyLoop } from '../../core/claims/verify-loop.js';
import { wingmanError } from '../../core/errors.js';
import { createLogger } from '../../core/log.js';
import { migratedTestDb } from '../helpers/db.js';

const tdb = await migratedTestDb();
t.teardown(() => tdb.drop());

/** A bus whose publishes fail while `down` is set, as Redis away or a bus closing under its sidecar would. */
class FlakyBus extends MemoryBus {
  down = true;
  override async publish<T extends Topic>(topic: T, data: Topics[T]): Promise<string> {
    if (this.down) throw wingmanError('WGM_ERR_BUS_UNAVAILABLE', 'bus is down (test)');
    return super.publish(topic, data);
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('a verdict whose claim.verified failed to publish is announced by a later round', async (t) => {
  const claims = new Claims(tdb.db);
  const bus = new FlakyBus();
  const seen: string[] = [];
  const unwatch = bus.watch(['claim.verified'], (e) => seen.push(e.data.claim_id));
  t.teardown(unwatch);
  const verifier = {
    testTimeoutMs: 1_000,
    verify: () => Promise.resolve({ verdict: 'FALSE' as const, reason: 'the file is still there', evidence: {}, verifier: 'file.deleted' }),
  };
  const loop = new VerifyLoop({ worker: 'w1', claims, verifier, bus, log: createLogger({ level: 'silent' }), sweepMs: 100 });
  t.teardown(() => loop.stop());
  const id = randomUUID();
  await claims.insert([{ id, worker: 'w1', instruction_id: null, type: 'file_deleted', params: { path: '/tmp/x' }, source: 'structured', raw_text: null, logged_at: new Date().toISOString() }]);
  loop.start();

  const row = async () => (await tdb.db.query(`SELECT status, announced_at FROM claim_queue WHERE claim_id = $1`, [id])).rows[0];
  await until('the verdict', async () => (await row()).status === 'done');
  t.equal((await row()).announced_at, null, 'the verdict is written but not announced while the bus is down');
  t.same(seen, [], 'nothing was published');

  bus.down = false;
  await until('the announcement', async () => (await row()).announced_at !== null);
  await until('the event', () => Promise.resolve(seen.includes(id)));
  t.same(seen, [id], 'claim.verified went out once the bus was back');
  const v = await claims.verdict(id);
  t.equal(v?.verdict, 'FALSE', 'with the verdict that stands');
});

t.test('a verdict published at once is marked announced and not published again', async (t) => {
  const claims = new Claims(tdb.db);
  const bus = new FlakyBus();
  bus.down = false;
  const seen: string[] = [];
  t.teardown(bus.watch(['claim.verified'], (e) => seen.push(e.data.claim_id)));
  const verifier = { testTimeoutMs: 1_000, verify: () => Promise.resolve({ verdict: 'TRUE' as const, reason: 'gone', evidence: {}, verifier: 'file.deleted' }) };
  const loop = new VerifyLoop({ worker: 'w2', claims, verifier, bus, log: createLogger({ level: 'silent' }), sweepMs: 100 });
  t.teardown(() => loop.stop());
  const id = randomUUID();
  await claims.insert([{ id, worker: 'w2', instruction_id: null, type: 'file_deleted', params: { path: '/tmp/y' }, source: 'structured', raw_text: null, logged_at: new Date().toISOString() }]);
  loop.start();
  await until('the announcement', async () => (await tdb.db.query(`SELECT announced_at FROM claim_queue WHERE claim_id = $1`, [id])).rows[0].announced_at !== null);
  // Several sweeps later (sweepMs 100, leftovers older than 2 s are looked at): still one event.
  await new Promise((r) => setTimeout(r, 2_500));
  t.same(seen, [id], 'announced once');
});
