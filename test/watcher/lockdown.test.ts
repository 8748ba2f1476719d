// FALSE verdict → the watcher locks the worker down (store, proxy, container) and records one alert; restarts and
// redeliveries repeat nothing; Redis down → lockdown still enforced from Postgres; unlock releases everything.
import t from 'tap';
import { until } from '../helpers/until.js';
import { falseVerdict } from '../helpers/verdicts.js';
import { docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

let w: Wingman;
let container: string;
const others: string[] = [];

t.before(async () => {
  w = await startWingman({ env: { WINGMAN_ALERT_GROUP_S: '2' } });
  container = testName('worker');
  await dockerOk(['run', '-d', '--name', container, TEST_IMAGE, 'sleep', '600']);
  const r = await w.control.server.inject({
    method: 'POST',
    url: '/workers',
    headers: { authorization: `Bearer ${w.apiToken}` },
    payload: { name: 'w1', container },
  });
  if (r.statusCode !== 201) throw new Error(r.body);
});
t.teardown(async () => {
  await docker(['rm', '-f', container, ...others]);
  await w.close();
});

const state = async (c: string) => (await docker(['inspect', '-f', '{{.State.Status}}', c])).stdout.trim();

t.test('a FALSE verdict locks the worker down everywhere and records one alert', async (t) => {
  const victim = testName('victim');
  others.push(victim);
  await dockerOk(['run', '-d', '--name', victim, TEST_IMAGE, 'sleep', '600']);
  await w.adopt('w1', 'container', victim);
  const claimId = await falseVerdict(w, 'w1', 'dist/app.js');
  await until('lockdown', async () => (await w.control.workers.get('w1'))?.locked);
  t.equal(await until('pause', async () => (await state(container)) === 'paused' && 'paused'), 'paused', 'the engine says paused');
  const rm = await w.dockerAs('w1', ['rm', '-f', victim]);
  t.not(rm.code, 0);
  t.match(rm.stderr, /wingman: worker w1 is locked down \(FALSE claim: file_created dist\/app\.js\)/);
  t.equal(await state(victim), 'running');
  const ps = await w.dockerAs('w1', ['ps', '-q']);
  t.equal(ps.code, 0, 'reads still pass during lockdown');
  const alerts = await w.db.query(`SELECT kind, severity, text FROM alerts WHERE worker = 'w1'`);
  t.equal(alerts.rows.length, 1);
  t.match(alerts.rows[0].text, /dist\/app\.js does not exist in w1/);
  t.match(alerts.rows[0].text, /container paused/);
  t.match(alerts.rows[0].text, /\/unlock w1/);
  const events = await w.db.query(`SELECT action, actor, claim_id FROM lockdown_events WHERE worker = 'w1' ORDER BY id`);
  t.same(events.rows.map((e) => e.action), ['locked', 'container_paused']);
  t.equal(events.rows[0].claim_id, claimId);
  // The same verdict delivered again (a restart between steps): nothing repeats.
  await w.bus.publish('claim.verified', { claim_id: claimId, worker: 'w1', verdict: 'FALSE' });
  await w.control.watcher.handle({ id: '0-1', topic: 'claim.verified', data: { claim_id: claimId, worker: 'w1', verdict: 'FALSE' }, deliveries: 2 });
  t.equal((await w.db.query(`SELECT count(*)::int AS n FROM alerts WHERE worker = 'w1'`)).rows[0].n, 1, 'still one alert');
  t.equal((await w.db.query(`SELECT count(*)::int AS n FROM lockdown_events WHERE worker = 'w1'`)).rows[0].n, 2, 'no second lockdown');
});

t.test('further FALSE verdicts in the window are grouped; lockdown is never skipped', async (t) => {
  await falseVerdict(w, 'w1', 'a.txt');
  await falseVerdict(w, 'w1', 'b.txt');
  await until('grouped rows', async () => (await w.db.query(`SELECT count(*)::int AS n FROM alerts WHERE worker = 'w1' AND grouped`)).rows[0].n === 2);
  await w.control.watcher.flushGroups();
  const summary = await until('group summary', async () => (await w.db.query(`SELECT text FROM alerts WHERE kind = 'grouped'`)).rows[0]);
  t.match(summary.text, /2 more FALSE claim\(s\) by worker w1/);
  t.match(summary.text, /a\.txt[\s\S]*b\.txt/);
  t.ok((await w.control.workers.get('w1'))?.locked);
});

t.test('Redis unreachable: lockdown is still enforced from Postgres', async (t) => {
  const { startWingman } = await import('../helpers/wingman.js');
  const noRedis = await startWingman({ database: w.database, env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  t.teardown(() => noRedis.close());
  const r = await noRedis.dockerAs('w1', ['create', TEST_IMAGE, 'true']);
  t.not(r.code, 0);
  t.match(r.stderr, /locked down/);
});

t.test('store and Redis both unreachable: writes are refused (lockdown state unknown), reads pass', async (t) => {
  const { startDatabaseRelay } = await import('../helpers/tcp-relay.js');
  const relay = await startDatabaseRelay(w.database.url);
  const blind = await startWingman({ database: w.database, databaseUrl: relay.url, env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  t.teardown(async () => {
    await blind.close();
    await relay.close();
  });
  await relay.cut();
  const create = await blind.dockerAs('w2', ['create', TEST_IMAGE, 'true']);
  t.not(create.code, 0);
  t.match(create.stderr, /wingman: lockdown state unknown \(the store is unreachable and the Redis mirror is not known to be in step with it\); refused \(fail closed\)/);
  const ps = await blind.dockerAs('w2', ['ps', '-q']);
  t.equal(ps.code, 0, 'reads still pass');
});

t.test('unlock by API: container runs again and calls pass; audited with who and why', async (t) => {
  const res = await w.cli(['unlock', 'w1', '--why', 'investigated: false alarm', '--by', 'ops-anna']);
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, /w1 unlocked; container: container_unpaused/);
  t.equal(await state(container), 'running');
  const c = await w.dockerAs('w1', ['create', '--label', 'wgmtest=1', TEST_IMAGE, 'true']);
  t.equal(c.code, 0, c.stderr);
  others.push(c.stdout.trim());
  const ev = await w.db.query(`SELECT action, actor, reason FROM lockdown_events WHERE worker = 'w1' ORDER BY id DESC LIMIT 2`);
  t.same(ev.rows.map((e) => e.action).sort(), ['container_unpaused', 'unlocked']);
  t.ok(ev.rows.some((e) => e.actor === 'api:ops-anna' && e.reason === 'investigated: false alarm'));
  const again = await w.cli(['lockdown', 'w1', '--why', 'manual test']);
  t.equal(again.code, 0, again.stderr);
  t.equal(await state(container), 'paused');
  await w.cli(['unlock', 'w1']);
  t.equal(await state(container), 'running');
});

t.test('a sidecar that stops sending heartbeats gets its worker locked down', async (t) => {
  const hb = await startWingman({ env: { WINGMAN_HEARTBEAT_TIMEOUT_S: '2' } });
  t.teardown(() => hb.close());
  await hb.bus.publish('worker.heartbeat', { worker: 'w2', container: null, at: new Date().toISOString() });
  await until('heartbeat recorded', async () => (await hb.db.query(`SELECT last_heartbeat_at FROM workers WHERE name = 'w2'`)).rows[0]?.last_heartbeat_at);
  await until('heartbeat lockdown', async () => (await hb.control.workers.get('w2'))?.locked, 30_000);
  const a = await until('heartbeat alert', async () => (await hb.db.query(`SELECT kind, text FROM alerts WHERE worker = 'w2'`)).rows[0]);
  t.equal(a.kind, 'heartbeat_lost');
  t.match(a.text, /stopped sending heartbeats/);
});

t.test('a heartbeat never sets the container a lockdown pauses (ops set it)', async (t) => {
  const hb = await startWingman({});
  t.teardown(() => hb.close());
  await hb.control.workers.add('w1', 'the-real-container');
  // A heartbeat naming another container (a sidecar misconfigured, or anyone who can publish on the bus).
  await hb.bus.publish('worker.heartbeat', { worker: 'w1', container: 'someone-elses-container', at: new Date().toISOString() });
  await hb.bus.publish('worker.heartbeat', { worker: 'w4', container: 'someone-elses-container', at: new Date().toISOString() });
  const seen = async (name: string) =>
    (await hb.db.query(`SELECT container, last_heartbeat_at FROM workers WHERE name = $1`, [name])).rows[0] as
      | { container: string | null; last_heartbeat_at: Date | null }
      | undefined;
  const w1 = await until('w1 heartbeat recorded', async () => ((await seen('w1'))?.last_heartbeat_at ? seen('w1') : undefined));
  t.equal(w1.container, 'the-real-container', 'the registered container is kept');
  const w4 = await until('w4 heartbeat recorded', async () => ((await seen('w4'))?.last_heartbeat_at ? seen('w4') : undefined));
  t.equal(w4.container, null, 'a worker first seen by its heartbeat has no container until ops register one');
});
