// Alerts reach Telegram exactly once: a watcher killed between lockdown and alert, or between alert and ack,
// is replaced by another that finishes the job without repeating it; a Bot API answering 429 then 5xx delays the
// alert but never duplicates it.
import t from 'tap';
import { falseVerdict } from '../helpers/verdicts.js';
import { Watcher } from '../../control/watcher.js';
import { FakeBotApi } from '../helpers/fake-bot-api.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

let fake: FakeBotApi;
let w: Wingman;

t.before(async () => {
  fake = await FakeBotApi.start();
  w = await startWingman({ env: { ...fake.env([111]), WINGMAN_LOCKDOWN_ACTION: 'none', WINGMAN_ALERT_GROUP_S: '0' } });
  // The app's own watcher steps aside: each test runs the watchers it kills.
  await w.control.watcher.stop();
});
t.teardown(async () => {
  await w.close();
  await fake.close();
});

function watcher(name: string, crash?: (phase: 'after-lock' | 'after-alert') => boolean): Watcher {
  const wt = new Watcher({
    db: w.db,
    bus: w.bus,
    log: w.control.server.log as never,
    metrics: w.metrics,
    lockdowns: w.control.lockdowns,
    outbox: w.control.telegram!.outbox,
    config: { ...w.config, alertGroupS: 0 },
    consumerName: name,
    reclaimIdleMs: 500,
  });
  if (crash) {
    const realAlert = wt.alert.bind(wt);
    wt.alert = async (...args: Parameters<Watcher['alert']>) => {
      if (crash('after-lock')) throw new Error('killed between lockdown and alert');
      await realAlert(...args);
      if (crash('after-alert')) throw new Error('killed between alert and ack');
    };
  }
  return wt;
}

const alertsFor = (path: string) => () => fake.callsOf('sendMessage').filter((c) => c.outcome === 'ok' && String(c.params.text).includes(path));

for (const phase of ['after-lock', 'after-alert'] as const) {
  t.test(`watcher killed ${phase === 'after-lock' ? 'between lockdown and alert' : 'between alert and ack'}: exactly one alert`, async (t) => {
    const worker = phase === 'after-lock' ? 'w1' : 'w2';
    const path = `dist/${phase}.js`;
    let crashes = 0;
    const dying = watcher(`dying-${phase}`, (p) => p === phase && ++crashes <= 1);
    dying.start();
    await falseVerdict(w, worker, path);
    await fake.waitFor('the crash', () => crashes >= 1);
    await dying.stop(); // the process is gone: its entry is pending, never acked
    t.ok((await w.control.workers.get(worker))?.locked, 'lockdown happened before the crash');
    const next = watcher(`next-${phase}`);
    next.start();
    t.teardown(() => next.stop());
    await fake.waitFor('the alert', () => alertsFor(path)().length >= 1 || undefined, 30_000);
    await new Promise((r) => setTimeout(r, 1500)); // room for a duplicate to show up
    t.equal(alertsFor(path)().length, 1, 'one message on Telegram');
    t.equal((await w.db.query(`SELECT count(*)::int AS n FROM alerts WHERE worker = $1`, [worker])).rows[0].n, 1, 'one alert row');
    t.equal((await w.db.query(`SELECT count(*)::int AS n FROM lockdown_events WHERE worker = $1 AND action = 'locked'`, [worker])).rows[0].n, 1);
  });
}

t.test('two watchers in one group never alert twice for one verdict', async (t) => {
  const a = watcher('pair-a');
  const b = watcher('pair-b');
  a.start();
  b.start();
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  const paths = Array.from({ length: 10 }, (_, i) => `dist/pair-${i}.js`);
  for (const p of paths) await falseVerdict(w, `wp${paths.indexOf(p)}`, p);
  for (const p of paths) await fake.waitFor(p, () => alertsFor(p)().length >= 1 || undefined, 30_000);
  await new Promise((r) => setTimeout(r, 1000));
  for (const p of paths) t.equal(alertsFor(p)().length, 1, p);
});

t.test('Bot API answering 429 then 5xx: the alert is delivered once when it recovers', async (t) => {
  const live = watcher('flaky');
  live.start();
  t.teardown(() => live.stop());
  fake.failNext(1, { kind: '429', retryAfter: 1 });
  fake.failNext(2, { kind: '5xx', status: 502 });
  const path = 'dist/flaky.js';
  await falseVerdict(w, 'w3', path);
  await fake.waitFor('delivery after failures', () => alertsFor(path)().length >= 1 || undefined, 60_000);
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(alertsFor(path)().length, 1);
  const failed = fake.callsOf('sendMessage').filter((c) => c.outcome === 'injected');
  t.ok(failed.length >= 3, 'the failures really happened');
  const text = String(alertsFor(path)()[0].params.text);
  t.match(text, /FALSE claim by worker w3/);
  t.match(text, /Evidence: dist\/flaky\.js does not exist in w3/);
  t.match(text, /Release: \/unlock w3/);
  const metrics = await w.metrics.registry.getSingleMetricAsString('wingman_alert_latency_seconds');
  t.match(metrics, /wingman_alert_latency_seconds_count [1-9]/, 'latency measured');
});
