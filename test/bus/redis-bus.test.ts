// RedisBus on the real test Redis: the shared bus contract, plus the Redis-specific parts (key layout, JSON
// field, MAXLEN bound, pending list, unreachable server, dropped connections, lost groups).
import t from 'tap';
import { Redis } from 'ioredis';
import { createLogger } from '../../core/log.js';
import { RedisBus } from '../../core/bus/redis-bus.js';
import { openBus } from '../../core/bus/open-bus.js';
import type { BusEvent } from '../../core/bus/bus.js';
import { isWingmanError } from '../../core/errors.js';
import type { Metrics } from '../../core/metrics.js';
import { testEnv, testName } from '../helpers/env.js';
import { busContract, ev, nOf, until } from './bus-contract.js';

const { redisUrl } = testEnv();
const admin = new Redis(redisUrl);
t.teardown(() => admin.quit());

async function deletePrefix(prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await admin.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

function freshRedisBus(opts: { maxLen?: number; metrics?: Metrics } = {}) {
  const prefix = testName();
  const bus = new RedisBus({ url: redisUrl, prefix, ...opts });
  return { bus, prefix, cleanup: async () => void (await deletePrefix(prefix)) };
}

busContract(t, async (metrics) => freshRedisBus({ metrics }));

t.test('layout: one stream per topic under the prefix, data as one JSON field, cleaned up', async (t) => {
  const { bus, prefix, cleanup } = freshRedisBus();
  const id = await bus.publish('gate.decided', ev('gate.decided', 1));
  const entries = (await admin.xrange(`${prefix}:gate.decided`, '-', '+')) as Array<[string, string[]]>;
  t.same(entries, [[id, ['d', JSON.stringify(ev('gate.decided', 1))]]]);
  await bus.close();
  t.ok((await deletePrefix(prefix)) >= 1, 'the test deletes its keys');
  t.same(await admin.keys(`${prefix}:*`), [], 'nothing left under the prefix');
  await cleanup();
});

t.test('XADD MAXLEN ~ bounds each stream', async (t) => {
  const { bus, prefix, cleanup } = freshRedisBus({ maxLen: 10 });
  t.teardown(async () => {
    await bus.close();
    await cleanup();
  });
  for (let n = 0; n < 1000; n++) await bus.publish('docker.executed', ev('docker.executed', n));
  const len = await admin.xlen(`${prefix}:docker.executed`);
  t.ok(len >= 10 && len < 1000, `trimmed to about the bound (${len})`);
});

t.test('pending list: a failed entry stays pending, an acked one does not', async (t) => {
  const { bus, prefix, cleanup } = freshRedisBus();
  t.teardown(async () => {
    await bus.close();
    await cleanup();
  });
  const seen: BusEvent[] = [];
  const c = bus.consume({
    group: 'pel',
    consumer: 'c1',
    topics: ['claim.logged'],
    reclaimIdleMs: 60_000,
    handler: async (e) => {
      seen.push(e);
      if ((e.data as unknown as { fail: boolean }).fail) throw new Error('no');
    },
  });
  await c.ready;
  const bad = await bus.publish('claim.logged', ev('claim.logged', 1, { fail: true }));
  await bus.publish('claim.logged', ev('claim.logged', 2, { fail: false }));
  await until(() => seen.length === 2, 'both handled');
  await c.stop();
  const pending = (await admin.xpending(`${prefix}:claim.logged`, 'pel', '-', '+', 10)) as Array<[string, string, number, number]>;
  t.same(pending.map((p) => [p[0], p[1], p[3]]), [[bad, 'c1', 1]], 'only the failed entry is pending, once delivered');
});

t.test('unreachable Redis: publish fails with WGM_ERR_BUS_UNAVAILABLE, ping() false', async (t) => {
  const bus = new RedisBus({ url: 'redis://127.0.0.1:1', prefix: testName(), pingTimeoutMs: 1000 });
  t.teardown(() => bus.close());
  t.equal(await bus.ping(), false);
  let caught: unknown;
  try {
    await bus.publish('gate.decided', ev('gate.decided', 1));
  } catch (err) {
    caught = err;
  }
  t.ok(isWingmanError(caught, 'WGM_ERR_BUS_UNAVAILABLE'), 'coded error');
  t.ok((caught as Error & { cause?: unknown }).cause, 'with the cause');
});

t.test('connections dropped by the server: the bus reconnects, consumers and watchers carry on', async (t) => {
  const { bus, prefix, cleanup } = freshRedisBus();
  t.teardown(async () => {
    await bus.close();
    await cleanup();
  });
  const got: BusEvent[] = [];
  const watched: BusEvent[] = [];
  const c = bus.consume({ group: 'rc', consumer: 'c1', topics: ['worker.heartbeat'], reclaimIdleMs: 300, handler: async (e) => void got.push(e) });
  const w = bus.watch(['worker.heartbeat'], (e) => void watched.push(e));
  await Promise.all([c.ready, w.ready]);
  await bus.publish('worker.heartbeat', ev('worker.heartbeat', 1));
  await until(() => got.length === 1 && watched.length === 1, 'before the drop');

  // Kill only this bus's connections (named after its prefix), as a Redis restart would.
  const list = (await admin.client('LIST')) as string;
  const ids = list
    .split('\n')
    .filter((line) => line.includes(` name=${prefix}:`))
    .map((line) => /\bid=(\d+)/.exec(line)?.[1])
    .filter(Boolean) as string[];
  t.ok(ids.length >= 3, `found the bus connections (${ids.length})`);
  for (const id of ids) await admin.client('KILL', 'ID', id);

  // Publishing may fail while the command connection reconnects: retry, bounded.
  let published = false;
  for (let i = 0; i < 50 && !published; i++) {
    try {
      await bus.publish('worker.heartbeat', ev('worker.heartbeat', 2));
      published = true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  t.ok(published, 'publish works again');
  await until(() => got.some((e) => nOf(e) === 2), 'consumer got the entry published after the drop');
  await until(() => watched.some((e) => nOf(e) === 2), 'watcher got it too');
  t.same(got.filter((e) => nOf(e) === 1).length, 1, 'the acked entry was not delivered again');
});

t.test('group lost (Redis restarted without persistence): recreated, nothing published afterwards is lost', async (t) => {
  const { bus, prefix, cleanup } = freshRedisBus();
  t.teardown(async () => {
    await bus.close();
    await cleanup();
  });
  const got: BusEvent[] = [];
  const c = bus.consume({ group: 'lost', consumer: 'c1', topics: ['worker.added'], startAt: '$', handler: async (e) => void got.push(e) });
  await c.ready;
  await bus.publish('worker.added', ev('worker.added', 1));
  await until(() => got.length === 1, 'first entry');
  await admin.del(`${prefix}:alert.sent`); // stream and its groups gone
  await bus.publish('worker.added', ev('worker.added', 2)); // lands in a new stream with no group yet
  await until(() => got.some((e) => nOf(e) === 2), 'entry published into the new stream');
  t.same(got.map((e) => nOf(e)), [1, 2]);
});

t.test('openBus with REDIS_URL gives RedisBus with the prefix', async (t) => {
  const prefix = testName();
  const bus = openBus({ redisUrl }, createLogger({ level: 'silent' }), { prefix });
  t.teardown(async () => {
    await bus.close();
    await deletePrefix(prefix);
  });
  t.equal(bus.kind, 'redis');
  t.ok(bus instanceof RedisBus);
  t.equal((bus as RedisBus).prefix, prefix);
  await bus.publish('gate.decided', ev('gate.decided', 1));
  t.equal(await admin.xlen(`${prefix}:gate.decided`), 1);
});
