// The at-least-once loop every background queue uses (core/queue/drain-loop.ts): pure, no services. Nothing here
// asserts on durations: waits are on events, and the backoff is checked as the numbers the loop asks for.
import t, { type Test } from 'tap';
import { backoffDelay, DrainLoop, type DrainLoopOptions, type RoundResult } from '../../core/queue/drain-loop.js';
import { createMetrics } from '../../core/metrics.js';

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Let every pending callback run (several turns of the event loop). */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

t.test('backoff: doubles from the base, capped, jittered into the upper half', async (t) => {
  const policy = { baseMs: 100, maxMs: 2_000 };
  const cases: Array<[failures: number, random: number, want: number]> = [
    [1, 1, 100],
    [1, 0, 50],
    [2, 1, 200],
    [3, 0.5, 300],
    [5, 1, 1_600],
    [6, 1, 2_000], // capped
    [6, 0, 1_000],
    [40, 1, 2_000], // still capped, no overflow
    [0, 1, 100], // treated as the first failure
  ];
  for (const [failures, random, want] of cases) {
    t.equal(backoffDelay(policy, failures, () => random), want, `failure ${failures}, random ${random}`);
  }
});

interface Harness {
  loop: DrainLoop;
  rounds: number;
  errors: number[];
  metrics: ReturnType<typeof createMetrics>;
}

function harness(round: (n: number) => Promise<RoundResult>, extra: Partial<DrainLoopOptions> = {}): Harness {
  const metrics = createMetrics({ defaults: false });
  const h: Harness = { loop: undefined as unknown as DrainLoop, rounds: 0, errors: [], metrics };
  h.loop = new DrainLoop({
    queue: 'claim_spool',
    backoff: { baseMs: 2, maxMs: 4 },
    random: () => 1,
    onError: (_err, retryMs) => void h.errors.push(retryMs),
    metrics,
    round: () => round(++h.rounds),
    ...extra,
  });
  return h;
}

const rounds = async (h: Harness, outcome: string) =>
  (await h.metrics.queueRounds.get()).values.find((v) => v.labels.outcome === outcome && v.labels.queue === 'claim_spool')?.value ?? 0;

const cases: Array<{ name: string; run: (t: Test) => Promise<void> }> = [
  {
    name: 'kicks during a round coalesce into exactly one more round',
    run: async (t) => {
      const gate = deferred();
      const started = deferred();
      const h = harness(async (n) => {
        if (n === 1) {
          started.resolve();
          await gate.promise;
        }
        return 'idle';
      });
      h.loop.kick();
      await started.promise;
      for (let i = 0; i < 10; i++) h.loop.kick();
      gate.resolve();
      while ((await rounds(h, 'idle')) < 2) await settle();
      await settle();
      t.equal(h.rounds, 2, 'ten kicks during round 1 made one round 2, then the loop sleeps');
      await h.loop.flush();
      t.equal(h.rounds, 3, 'and wakes for the next kick');
      t.equal(await h.loop.stop(), true);
    },
  },
  {
    name: "'more' goes round again without a kick; { waitMs } wakes on its own",
    run: async (t) => {
      const done = deferred();
      const h = harness(async (n) => {
        if (n <= 3) return 'more';
        if (n === 4) return { waitMs: 1 };
        done.resolve();
        return 'idle';
      });
      h.loop.kick();
      await done.promise;
      t.equal(h.rounds, 5);
      t.equal(await rounds(h, 'work'), 3);
      await h.loop.stop();
    },
  },
  {
    name: 'a round that throws does not end the loop; the backoff grows to its cap and resets after a success',
    run: async (t) => {
      const done = deferred();
      const h = harness(async (n) => {
        if (n <= 4 || n === 6) throw new Error(`round ${n} failed`);
        if (n === 5) return 'more';
        done.resolve();
        return 'idle';
      });
      h.loop.kick();
      await done.promise;
      t.same(h.errors, [2, 4, 4, 4, 2], 'base 2, doubled, capped at 4; after round 5 succeeded, back to the base');
      t.equal(await rounds(h, 'error'), 5);
      t.equal(h.rounds, 7, 'the loop kept going');
      await h.loop.stop();
    },
  },
  {
    name: 'kicks during a backoff do not cut it short; flush does',
    run: async (t) => {
      const h = harness(
        async (n) => {
          if (n === 1) throw new Error('store down');
          return 'idle';
        },
        { backoff: { baseMs: 60_000, maxMs: 60_000 } },
      );
      h.loop.kick();
      while (h.errors.length === 0) await settle();
      for (let i = 0; i < 5; i++) h.loop.kick();
      await settle();
      t.equal(h.rounds, 1, 'still backing off');
      await h.loop.flush();
      t.equal(h.rounds, 2, 'flush ran a round now');
      await h.loop.stop();
    },
  },
  {
    name: 'stop waits for the round in flight, and no round starts after it',
    run: async (t) => {
      const gate = deferred();
      const started = deferred();
      const h = harness(async () => {
        started.resolve();
        await gate.promise;
        return 'more';
      });
      h.loop.kick();
      await started.promise;
      let stopped = false;
      const stopping = h.loop.stop().then((finished) => {
        stopped = true;
        return finished;
      });
      await settle();
      t.equal(stopped, false, 'stop is waiting for the round');
      gate.resolve();
      t.equal(await stopping, true, 'the round ended');
      h.loop.kick();
      await h.loop.flush();
      t.equal(h.rounds, 1, "'more' after stop, kicks and flush after stop: no new round");
    },
  },
  {
    name: 'stop with a grace gives up on a round that does not end, and interrupts it',
    run: async (t) => {
      let interrupted = false;
      const started = deferred();
      const h = harness(
        async () => {
          started.resolve();
          return new Promise<RoundResult>(() => undefined);
        },
        { interrupt: () => void (interrupted = true) },
      );
      h.loop.kick();
      await started.promise;
      t.equal(await h.loop.stop(1), false, 'abandoned');
      t.equal(interrupted, true);
    },
  },
  {
    name: 'stop ends an idle or backoff wait at once',
    run: async (t) => {
      const h = harness(async () => 'idle', { idleMs: 60_000 });
      h.loop.kick();
      while (h.rounds === 0) await settle();
      t.equal(await h.loop.stop(), true);
      const b = harness(
        async () => {
          throw new Error('down');
        },
        { backoff: { baseMs: 60_000, maxMs: 60_000 } },
      );
      b.loop.kick();
      while (b.errors.length === 0) await settle();
      t.equal(await b.loop.stop(), true);
    },
  },
  {
    name: 'backlog is one gauge per queue',
    run: async (t) => {
      const h = harness(async () => 'idle');
      h.loop.setBacklog(7);
      const v = (await h.metrics.queueBacklog.get()).values;
      t.same(v.map((x) => [x.labels.queue, x.value]), [['claim_spool', 7]]);
    },
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    // The loop's timers are unref'd (a queue never holds a process open): the test holds it open itself.
    const keepalive = setInterval(() => undefined, 1_000);
    t.teardown(() => clearInterval(keepalive));
    await c.run(t);
  });
}
