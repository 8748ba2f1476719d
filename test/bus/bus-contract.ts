// One behaviour suite for every Bus (RedisBus on the real test Redis, MemoryBus in process). Waits are bounded
// by `until` so a broken bus fails the test instead of hanging it; nothing asserts on durations.
import type { Test } from 'tap';
import type { Bus, BusEvent, Consumer, Topic, Topics } from '../../core/bus/bus.js';
import { createMetrics, type Metrics } from '../../core/metrics.js';

export interface FreshBus {
  bus: Bus;
  cleanup: () => Promise<void>;
}

const SAMPLES: Topics = {
  'gate.decided': { instruction_id: 'i1', worker: 'w1', decision: 'APPROVED', score: 100, rules: [] },
  'claim.logged': { claim_id: 'c1', worker: 'w1', type: 'file_created' },
  'claim.verified': { claim_id: 'c1', worker: 'w1', verdict: 'TRUE' },
  'approval.requested': { id: 'a1', worker: 'w1', status: 'pending' },
  'approval.decided': { id: 'a1', worker: 'w1', status: 'approved' },
  'approval.updated': { id: 'a1', worker: 'w1', status: 'pending' },
  'docker.executed': { id: 'd1', worker: 'w1', rule: 'ContainerList', decision: 'allow', status: 200 },
  'worker.locked': { worker: 'w1', reason: 'test', by: 'test', claim_id: null },
  'worker.unlocked': { worker: 'w1', by: 'test', why: 'test' },
  'worker.heartbeat': { worker: 'w1', container: null, at: '2026-01-01T00:00:00.000Z' },
  'worker.added': { worker: 'w1' },
  'validation.decided': { validation_id: 'v1', worker: 'w1', decision: 'APPROVED', approval_id: null },
  'ownership.changed': { kind: 'container', id: 'x1' },
  'telegram.outbox': {},
};

/** A payload that fits `topic`, carrying the test's sequence number `n` (extra fields pass the edge untouched). */
export function ev<T extends Topic>(topic: T, n: number, extra: Record<string, unknown> = {}): Topics[T] {
  return { ...SAMPLES[topic], n, ...extra };
}

/** The sequence number `ev` put in an event's payload. */
export const nOf = (e: BusEvent): number => (e.data as unknown as { n: number }).n;

/** Resolve when cond() holds (checked on every event and every 10 ms), reject after maxMs so a test cannot hang. */
export async function until(cond: () => boolean, what: string, maxMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!cond()) {
    if (Date.now() - started > maxMs) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const seqs = (events: BusEvent[]) => events.map((e) => nOf(e));

export function busContract(t: Test, fresh: (metrics?: Metrics) => Promise<FreshBus>): void {
  const setup = async (t: Test): Promise<Bus> => {
    const { bus, cleanup } = await fresh();
    const consumers: Consumer[] = [];
    t.teardown(async () => {
      await Promise.all(consumers.map((c) => c.stop()));
      await bus.close();
      await cleanup();
    });
    const consume = bus.consume.bind(bus);
    // Track consumers so a failing test still stops them.
    (bus as { consume: Bus['consume'] }).consume = (opts) => {
      const c = consume(opts);
      consumers.push(c);
      return c;
    };
    return bus;
  };

  t.test('publish then consume: order, data, ids, deliveries = 1, several topics', async (t) => {
    const bus = await setup(t);
    const ids: string[] = [];
    for (let n = 1; n <= 3; n++) ids.push(await bus.publish('gate.decided', ev('gate.decided', n, { nested: { ok: true }, list: [n] })));
    ids.push(await bus.publish('claim.logged', ev('claim.logged', 4)));
    t.ok(ids.every((id) => /^\d+-\d+$/.test(id)), 'ids look like ms-seq');
    const got: BusEvent[] = [];
    const c = bus.consume({ group: 'g', consumer: 'c1', topics: ['gate.decided', 'claim.logged'], handler: async (e) => void got.push(e) });
    await c.ready;
    await until(() => got.length === 4, '4 events');
    const gate = got.filter((e) => e.topic === 'gate.decided');
    t.same(seqs(gate), [1, 2, 3], 'in publish order within a topic');
    t.same(gate[0].data, ev('gate.decided', 1, { nested: { ok: true }, list: [1] }), 'data round-trips as JSON');
    t.same(gate.map((e) => e.id), ids.slice(0, 3));
    t.same(got.find((e) => e.topic === 'claim.logged')?.data, ev('claim.logged', 4));
    t.ok(got.every((e) => e.deliveries === 1), 'first delivery counts 1');
    await c.stop();
  });

  t.test('two consumers in one group split the entries; each entry to exactly one', async (t) => {
    const bus = await setup(t);
    const byConsumer: Record<string, number[]> = { c1: [], c2: [] };
    const otherGotOne = deferred();
    let firstHolder: string | undefined;
    const make = (name: 'c1' | 'c2') =>
      bus.consume({
        group: 'split',
        consumer: name,
        topics: ['docker.executed'],
        handler: async (e) => {
          byConsumer[name].push(nOf(e));
          if (firstHolder === undefined) {
            // The first receiver stays busy until the other consumer has received something: entries published
            // meanwhile can only go to the other one.
            firstHolder = name;
            await otherGotOne.promise;
          } else if (name !== firstHolder) {
            otherGotOne.resolve();
          }
        },
      });
    const c1 = make('c1');
    const c2 = make('c2');
    await Promise.all([c1.ready, c2.ready]);
    await bus.publish('docker.executed', ev('docker.executed', 0));
    await until(() => firstHolder !== undefined, 'first entry received');
    for (let n = 1; n < 10; n++) await bus.publish('docker.executed', ev('docker.executed', n));
    await until(() => byConsumer.c1.length + byConsumer.c2.length === 10, 'all 10 entries');
    const all = [...byConsumer.c1, ...byConsumer.c2].sort((a, b) => a - b);
    t.same(all, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'every entry once, none twice');
    t.ok(byConsumer.c1.length > 0 && byConsumer.c2.length > 0, `both consumers worked (${byConsumer.c1.length}/${byConsumer.c2.length})`);
  });

  t.test('two groups each receive every entry', async (t) => {
    const bus = await setup(t);
    const a: BusEvent[] = [];
    const b: BusEvent[] = [];
    const ca = bus.consume({ group: 'ga', consumer: 'x', topics: ['approval.requested'], handler: async (e) => void a.push(e) });
    const cb = bus.consume({ group: 'gb', consumer: 'x', topics: ['approval.requested'], handler: async (e) => void b.push(e) });
    await Promise.all([ca.ready, cb.ready]);
    for (let n = 1; n <= 5; n++) await bus.publish('approval.requested', ev('approval.requested', n));
    await until(() => a.length === 5 && b.length === 5, 'both groups got 5');
    t.same(seqs(a), [1, 2, 3, 4, 5]);
    t.same(seqs(b), [1, 2, 3, 4, 5]);
  });

  t.test('startAt: "0" reads the whole stream, "$" only what comes after ready', async (t) => {
    const bus = await setup(t);
    await bus.publish('worker.locked', ev('worker.locked', 1));
    const whole: BusEvent[] = [];
    const fresh: BusEvent[] = [];
    const c0 = bus.consume({ group: 'whole', consumer: 'x', topics: ['worker.locked'], handler: async (e) => void whole.push(e) });
    const c$ = bus.consume({ group: 'new', consumer: 'x', topics: ['worker.locked'], startAt: '$', handler: async (e) => void fresh.push(e) });
    await Promise.all([c0.ready, c$.ready]);
    await bus.publish('worker.locked', ev('worker.locked', 2));
    await until(() => whole.length === 2 && fresh.length === 1, 'whole 2, new 1');
    t.same(seqs(whole), [1, 2]);
    t.same(seqs(fresh), [2]);
  });

  t.test('a handler that throws leaves the entry pending; it comes back with deliveries = 2', async (t) => {
    const bus = await setup(t);
    const seen: BusEvent[] = [];
    const c = bus.consume({
      group: 'retry',
      consumer: 'c1',
      topics: ['claim.verified'],
      reclaimIdleMs: 100,
      handler: async (e) => {
        seen.push(e);
        if (nOf(e) === 1 && e.deliveries === 1) throw new Error('transient failure');
      },
    });
    await c.ready;
    await bus.publish('claim.verified', ev('claim.verified', 1));
    await until(() => seen.filter((e) => nOf(e) === 1).length === 2, 'entry 1 redelivered');
    const ones = seen.filter((e) => nOf(e) === 1);
    t.same(ones.map((e) => e.deliveries), [1, 2], 'deliveries 1 then 2');
    t.equal(ones[0].id, ones[1].id, 'same entry');
    await bus.publish('claim.verified', ev('claim.verified', 2));
    await until(() => seen.some((e) => nOf(e) === 2), 'marker after the retry');
    t.equal(seen.filter((e) => nOf(e) === 1).length, 2, 'acked after success: not delivered a third time');
  });

  t.test('a crashed consumer (stopped without ack) has its entry reclaimed by another after reclaimIdleMs', async (t) => {
    const bus = await setup(t);
    const hang = deferred();
    let crashedGot: BusEvent | undefined;
    const crashed = bus.consume({
      group: 'crash',
      consumer: 'dies',
      topics: ['worker.added'],
      reclaimIdleMs: 60_000,
      stopGraceMs: 20,
      handler: async (e) => {
        crashedGot = e;
        await hang.promise; // never finishes before the stop
      },
    });
    await crashed.ready;
    const id = await bus.publish('worker.added', ev('worker.added', 1));
    await until(() => crashedGot !== undefined, 'crashing consumer received the entry');
    await crashed.stop();

    const rescued: BusEvent[] = [];
    const rescuer = bus.consume({
      group: 'crash',
      consumer: 'rescuer',
      topics: ['worker.added'],
      reclaimIdleMs: 200,
      handler: async (e) => void rescued.push(e),
    });
    await rescuer.ready;
    await until(() => rescued.length === 1, 'entry reclaimed');
    t.equal(rescued[0].id, id, 'the abandoned entry');
    t.equal(rescued[0].deliveries, 2, 'second delivery');
    t.same(rescued[0].data, ev('worker.added', 1));
    hang.resolve(); // the abandoned handler finishing late must not disturb anything
    await bus.publish('worker.added', ev('worker.added', 2));
    await until(() => rescued.length === 2, 'rescuer keeps consuming');
    t.same(seqs(rescued), [1, 2]);
  });

  t.test('a restarted consumer resumes where the group left off: no loss, acked entries not repeated', async (t) => {
    const bus = await setup(t);
    const first: BusEvent[] = [];
    const hang = deferred();
    const c1 = bus.consume({
      group: 'resume',
      consumer: 'worker-a',
      topics: ['worker.unlocked'],
      reclaimIdleMs: 60_000,
      stopGraceMs: 20,
      handler: async (e) => {
        first.push(e);
        if (nOf(e) === 3) await hang.promise; // dies while handling entry 3
      },
    });
    await c1.ready;
    for (let n = 1; n <= 3; n++) await bus.publish('worker.unlocked', ev('worker.unlocked', n));
    await until(() => first.length === 3, 'first life handled 1, 2 and started 3');
    await c1.stop();
    await bus.publish('worker.unlocked', ev('worker.unlocked', 4)); // published while nobody consumes

    const second: BusEvent[] = [];
    const c2 = bus.consume({
      group: 'resume',
      consumer: 'worker-a',
      topics: ['worker.unlocked'],
      reclaimIdleMs: 60_000, // no reclaim: entry 3 comes back because it is this consumer's own
      handler: async (e) => void second.push(e),
    });
    await c2.ready;
    await until(() => second.some((e) => nOf(e) === 4), 'entry 4 after restart');
    t.same(seqs(second), [3, 4], 'own unacked entry first, then what was published meanwhile; 1 and 2 not repeated');
    t.same(second.map((e) => e.deliveries), [2, 1]);
    hang.resolve();
  });

  t.test('watch: every watcher gets every new entry; no group, no ack', async (t) => {
    const bus = await setup(t);
    await bus.publish('approval.decided', ev('approval.decided', 0)); // before the watch: not delivered
    const w1: BusEvent[] = [];
    const w2: BusEvent[] = [];
    const u1 = bus.watch(['approval.decided'], (e) => void w1.push(e));
    const u2 = bus.watch(['approval.decided', 'worker.locked'], (e) => void w2.push(e));
    t.teardown(() => {
      u1();
      u2();
    });
    await Promise.all([u1.ready, u2.ready]);
    for (let n = 1; n <= 3; n++) await bus.publish('approval.decided', ev('approval.decided', n));
    await bus.publish('worker.locked', ev('worker.locked', 9));
    await until(() => w1.length === 3 && w2.length === 4, 'both watchers');
    t.same(seqs(w1), [1, 2, 3]);
    t.same(seqs(w2.filter((e) => e.topic === 'approval.decided')), [1, 2, 3]);
    t.same(w2.find((e) => e.topic === 'worker.locked')?.data, ev('worker.locked', 9));

    // Watching consumed nothing: a group still reads the whole stream.
    const g: BusEvent[] = [];
    const c = bus.consume({ group: 'after-watch', consumer: 'x', topics: ['approval.decided'], handler: async (e) => void g.push(e) });
    await c.ready;
    await until(() => g.length === 4, 'group sees all 4');

    // A throwing watcher does not stop the others.
    const u3 = bus.watch(['approval.decided'], () => {
      throw new Error('bad watcher');
    });
    await u3.ready;
    u1();
    await bus.publish('approval.decided', ev('approval.decided', 5));
    await until(() => w2.length === 5, 'w2 still receives');
    u3();
  });

  t.test('publishBatch: in order, one settled result each; a watch sees them in that order', async (t) => {
    const bus = await setup(t);
    const seen: BusEvent[] = [];
    const u = bus.watch(['gate.decided', 'worker.locked'], (e) => void seen.push(e));
    t.teardown(u);
    await u.ready;
    t.equal(typeof u.session(), 'number', 'a watch that reads has a session');
    const batch = [1, 2, 3, 4].map((n) => (n === 3 ? { topic: 'worker.locked' as const, data: ev('worker.locked', n) } : { topic: 'gate.decided' as const, data: ev('gate.decided', n) }));
    const results = await bus.publishBatch(batch);
    t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    await until(() => seen.length === 4, 'the batch watched');
    // Order holds per topic (a stream each); a watch over several streams may interleave them differently.
    t.same(seqs(seen.filter((e) => e.topic === 'gate.decided')), [1, 2, 4], 'in the order given');
    t.same(seqs(seen.filter((e) => e.topic === 'worker.locked')), [3]);
    t.same(await bus.publishBatch([]), []);
    u();
    t.equal(u.session(), undefined, 'an ended watch has no session');
  });

  t.test('a payload that does not fit its topic is dropped, counted and acked; consumers carry on', async (t) => {
    const metrics = createMetrics({ defaults: false });
    const { bus, cleanup } = await fresh(metrics);
    t.teardown(async () => {
      await bus.close();
      await cleanup();
    });
    const got: BusEvent[] = [];
    const watched: BusEvent[] = [];
    const u = bus.watch(['worker.locked'], (e) => void watched.push(e));
    t.teardown(u);
    await u.ready;
    const c = bus.consume({ group: 'edge', consumer: 'x', topics: ['worker.locked'], reclaimIdleMs: 50, handler: async (e) => void got.push(e) });
    await c.ready;
    // Neither is coerced into a lockdown of worker '' or '7': both are dropped.
    await bus.publish('worker.locked', { n: 1 } as never);
    await bus.publish('worker.locked', { worker: 7, reason: 'r', by: 'b', n: 2 } as never);
    await bus.publish('worker.locked', ev('worker.locked', 3));
    const dropped = async () => (await metrics.busEventsDropped.get()).values.find((v) => v.labels.topic === 'worker.locked')?.value ?? 0;
    let n = 0;
    await until(() => got.length >= 1 && watched.length >= 1, 'the payload that fits');
    for (let i = 0; i < 100 && (n = await dropped()) < 4; i++) await new Promise((r) => setTimeout(r, 10));
    t.same(seqs(got), [3], 'the consumer got only the payload that fits');
    t.same(seqs(watched), [3], 'so did the watcher');
    t.equal(n, 4, 'two dropped by the group, two by the watch');
    // Dropped entries were acked: a reclaim finds nothing to hand out again.
    await bus.publish('worker.locked', ev('worker.locked', 4));
    await until(() => got.length === 2, 'the next one');
    t.same(seqs(got), [3, 4], 'nothing dropped came back');
    await c.stop();
  });

  t.test('ping, unknown topic, close', async (t) => {
    const { bus, cleanup } = await fresh();
    t.teardown(cleanup);
    t.equal(await bus.ping(), true);
    await t.rejects(async () => bus.publish('no.such.topic' as Topic, {}), { code: 'WGM_ERR_INTERNAL' });
    const c = bus.consume({ group: 'g', consumer: 'x', topics: ['gate.decided'], handler: async () => undefined });
    await c.ready;
    await bus.close();
    await bus.close(); // idempotent
    t.equal(await bus.ping(), false, 'ping false after close');
    await t.rejects(bus.publish('gate.decided', ev('gate.decided', 0)), { code: 'WGM_ERR_BUS_UNAVAILABLE' });
    await c.stop(); // already stopped by close: resolves
  });
}
