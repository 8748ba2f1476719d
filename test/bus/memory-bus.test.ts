// MemoryBus: the shared bus contract, plus what only the in-process bus has (bounded log, openBus default).
import t from 'tap';
import { createLogger } from '../../core/log.js';
import { MemoryBus } from '../../core/bus/memory-bus.js';
import { openBus } from '../../core/bus/open-bus.js';
import type { BusEvent } from '../../core/bus/bus.js';
import { busContract, ev, nOf, until } from './bus-contract.js';

busContract(t, async (metrics) => ({ bus: new MemoryBus({ metrics }), cleanup: async () => undefined }));

t.test('the log is bounded: oldest entries dropped, pending ones too', async (t) => {
  const bus = new MemoryBus({ maxLen: 5 });
  t.teardown(() => bus.close());
  for (let n = 1; n <= 12; n++) await bus.publish('gate.decided', ev('gate.decided', n));
  const got: BusEvent[] = [];
  const c = bus.consume({ group: 'g', consumer: 'c', topics: ['gate.decided'], handler: async (e) => void got.push(e) });
  await c.ready;
  await until(() => got.length === 5, 'the 5 kept entries');
  t.same(got.map((e) => nOf(e)), [8, 9, 10, 11, 12]);
});

t.test('ids are unique and increasing within a millisecond', async (t) => {
  const bus = new MemoryBus();
  t.teardown(() => bus.close());
  const ids = await Promise.all(Array.from({ length: 50 }, (_, n) => bus.publish('gate.decided', ev('gate.decided', n))));
  const parsed = ids.map((id) => id.split('-').map(Number));
  for (let i = 1; i < parsed.length; i++) {
    const [pm, ps] = parsed[i - 1];
    const [m, s] = parsed[i];
    t.ok(m > pm || (m === pm && s > ps), `${ids[i]} after ${ids[i - 1]}`);
  }
});

t.test('consumers get copies: a handler mutating data does not change what others see', async (t) => {
  const bus = new MemoryBus();
  t.teardown(() => bus.close());
  const list = [1];
  await bus.publish('gate.decided', ev('gate.decided', 0, { list }));
  list.push(2); // publisher mutates after publish
  const a: BusEvent[] = [];
  const b: BusEvent[] = [];
  const ca = bus.consume({
    group: 'a',
    consumer: 'x',
    topics: ['gate.decided'],
    handler: async (e) => {
      (e.data as unknown as { list: number[] }).list.push(99);
      a.push(e);
    },
  });
  await ca.ready;
  await until(() => a.length === 1, 'a');
  const cb = bus.consume({ group: 'b', consumer: 'x', topics: ['gate.decided'], handler: async (e) => void b.push(e) });
  await cb.ready;
  await until(() => b.length === 1, 'b');
  t.same(b[0].data, ev('gate.decided', 0, { list: [1] }));
});

t.test('openBus without REDIS_URL gives the in-process bus', async (t) => {
  const bus = openBus({ redisUrl: undefined }, createLogger({ level: 'silent' }));
  t.teardown(() => bus.close());
  t.equal(bus.kind, 'memory');
  t.ok(bus instanceof MemoryBus);
});
