// /check under load, against the real services: decisions group-committed (many in one statement, each answer after
// the commit that holds it), the lock state cached and dropped by `worker.locked`, the lock re-read by the statement
// that stores a decision (a lock the bus never announced still refuses), the cache distrusted while the bus watch is
// broken, gate.decided kept and sent when Redis is back, and a store that goes away refusing every decision waiting
// for it. Batches are formed deterministically by holding the worker's row in another transaction; nothing here
// asserts on time.
import pg from 'pg';
import t, { type Test } from 'tap';
import type { BusEvent } from '../../core/bus/bus.js';
import { RedisBus } from '../../core/bus/redis-bus.js';
import { migratedTestDb } from '../helpers/db.js';
import { dropRedisPrefix, testEnv } from '../helpers/env.js';
import { testLockdowns } from '../helpers/lockdowns.js';
import { startDatabaseRelay, startTcpRelay } from '../helpers/tcp-relay.js';
import { until } from '../helpers/until.js';
import { instructionMarkdown, SECTIONS, startSidecarEnv, type SidecarEnv } from './sidecar-env.js';

const tdb = await migratedTestDb();
t.teardown(() => tdb.drop());

const HOUR = 3_600_000;
// Distinct texts of each kind the gate tells apart.
const instruction = (i: number) =>
  [
    instructionMarkdown({ DELIVERABLES: `${SECTIONS.DELIVERABLES} Task ${i}.` }),
    instructionMarkdown({ DELIVERABLES: `${SECTIONS.DELIVERABLES} Task ${i}.` }, ['MITIGATION']),
    instructionMarkdown({ DELIVERABLES: `${SECTIONS.DELIVERABLES} Task ${i}.\nThen run \`git push --force origin main\`.` }),
  ][i % 3];

async function sidecar(t: Test, worker: string, extra: Partial<Parameters<typeof startSidecarEnv>[0]> = {}): Promise<SidecarEnv> {
  await tdb.db.query(`INSERT INTO workers (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [worker]);
  const sc = await startSidecarEnv({ databaseUrl: tdb.url, container: 'wgmtest-gc-none', worker, docker: 'engine', verifyLoop: { enabled: false }, ...extra });
  t.teardown(() => sc.close());
  // From here on what the cache reads is kept (it trusts nothing before its bus watch reads).
  await sc.app.lock.ready;
  return sc;
}

const silently = (worker: string, locked: boolean, reason: string | null = null) =>
  tdb.db.query(`UPDATE workers SET locked = $2, locked_reason = $3 WHERE name = $1`, [worker, locked, locked ? reason : null]);

/** Proves the sidecar answers from its cache: with the store locked behind its back, bad input is still judged. */
async function cachedAsUnlocked(t: Test, sc: SidecarEnv, worker: string) {
  await silently(worker, true, 'behind the cache');
  t.equal((await sc.post('/check', { instruction: 42 })).status, 400, 'the cached "not locked" answers (bad input judged: 400)');
  await silently(worker, false);
}

/** A transaction holding the worker's row FOR UPDATE (as a lockdown does): decision statements wait behind it. */
async function holdWorkerRow(worker: string) {
  const c = new pg.Client({ connectionString: tdb.url });
  await c.connect();
  await c.query('BEGIN');
  await c.query(`SELECT 1 FROM workers WHERE name = $1 FOR UPDATE`, [worker]);
  return {
    query: (sql: string, params: unknown[]) => c.query(sql, params),
    async release() {
      await c.query('COMMIT');
      await c.end();
    },
  };
}

const rowsOf = async (worker: string) => (await tdb.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM instructions WHERE worker = $1`, [worker])).rows[0].n;

t.test('a batch of concurrent /checks: one statement, every answer after its commit, every row in Postgres, every event on Redis', async (t) => {
  const sc = await sidecar(t, 'gc-batch');
  const events = new Map<string, BusEvent<'gate.decided'>>();
  const unwatch = sc.bus.watch(['gate.decided'], (e) => void events.set(e.data.instruction_id, e));
  t.teardown(unwatch);
  await unwatch.ready;

  const N = 24;
  const held = await holdWorkerRow('gc-batch');
  const answers = Promise.all(Array.from({ length: N }, (_, i) => sc.post('/check', { instruction: instruction(i) })));
  // All judged and waiting on the store: the first statement behind the held row, the rest queued for the next.
  await until('every decision waits for the store', async () => sc.app.decisions.waiting + sc.app.decisions.storing === N);
  t.ok(sc.app.decisions.waiting > 0, 'decisions queued behind the statement in flight');
  t.equal(await rowsOf('gc-batch'), 0, 'nothing committed while the row is held');
  await held.release();
  const res = await answers;

  t.same(res.map((r) => r.status), Array(N).fill(200), 'every /check answered 200');
  const ids = res.map((r) => r.json.instruction_id as string);
  const { rows } = await tdb.db.query<{ id: string; decision: string; approved: boolean; score: number }>(
    `SELECT id, decision, approved, score FROM instructions WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  t.equal(rows.length, N, 'every answered decision is in Postgres');
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const r of res) t.match(byId.get(r.json.instruction_id), { decision: r.json.decision, approved: r.json.approved, score: r.json.score }, 'row = answer');
  t.same(res.map((r) => r.json.decision), Array.from({ length: N }, (_, i) => (i % 3 === 0 ? 'APPROVED' : 'REJECTED')), 'each judged as its kind');

  const metrics = await fetch(sc.url + '/metrics').then((r) => r.text());
  const count = Number(/wingman_gate_commit_batch_size_count (\d+)/.exec(metrics)?.[1]);
  const sum = Number(/wingman_gate_commit_batch_size_sum (\d+)/.exec(metrics)?.[1]);
  t.equal(sum, N, 'every decision went through the group commit');
  t.ok(count < N, `fewer statements than decisions (${count} for ${N})`);

  await until('every decision published', async () => ids.every((id) => events.has(id)));
  for (const id of ids) t.match(events.get(id)!.data, { worker: 'gc-batch', instruction_id: id }, 'gate.decided on Redis');
});

t.test('a lock committed while decisions wait: none of them is stored, every caller gets 423', async (t) => {
  const sc = await sidecar(t, 'gc-race');
  t.equal((await sc.post('/check', { instruction: instruction(0) })).status, 200, 'unlocked: approved');
  const before = await rowsOf('gc-race');
  const N = 12;
  const held = await holdWorkerRow('gc-race');
  const answers = Promise.all(Array.from({ length: N }, (_, i) => sc.post('/check', { instruction: instruction(i) })));
  await until('every decision waits for the store', async () => sc.app.decisions.waiting + sc.app.decisions.storing === N);
  // The lockdown lands in the transaction the statements wait behind (as core/lockdown/lockdowns.ts writes it).
  await held.query(`UPDATE workers SET locked = true, locked_reason = $2, locked_at = now(), locked_by = 'test' WHERE name = $1`, ['gc-race', 'FALSE claim in the race']);
  await held.release();
  const res = await answers;
  t.same(res.map((r) => r.status), Array(N).fill(423), 'every waiting decision refused');
  t.match(res[0].json, { code: 'WGM_ERR_WORKER_LOCKED', reason: 'FALSE claim in the race' });
  t.equal(await rowsOf('gc-race'), before, 'none of them stored');
});

t.test('worker.locked drops the cached lock state: the next /check is refused before it is judged', async (t) => {
  // Cached for an hour: only the event can make the next answer come from the store.
  const sc = await sidecar(t, 'gc-event', { lockCacheMs: HOUR });
  t.equal((await sc.post('/check', { instruction: instruction(0) })).status, 200, 'unlocked: approved');
  await cachedAsUnlocked(t, sc, 'gc-event');
  const lockdowns = testLockdowns(sc.db, sc.bus);
  await lockdowns.lock('gc-event', 'FALSE claim 7', 'test');
  const before = await rowsOf('gc-event');
  await until('the event reaches the sidecar', async () => (await sc.post('/check', { instruction: 42 })).status === 423);
  const r = await sc.post('/check', { instruction: instruction(3) });
  t.equal(r.status, 423);
  t.match(r.json, { code: 'WGM_ERR_WORKER_LOCKED', reason: 'FALSE claim 7' });
  t.equal(await rowsOf('gc-event'), before, 'nothing stored');
  await lockdowns.unlock('gc-event', 'test', 'checked');
  await until('the unlock reaches the sidecar', async () => (await sc.post('/check', { instruction: instruction(6) })).status === 200);
});

t.test('a lock the bus never announced: the cached "not locked" cannot approve, the storing statement refuses', async (t) => {
  const sc = await sidecar(t, 'gc-silent', { lockCacheMs: HOUR });
  t.equal((await sc.post('/check', { instruction: instruction(0) })).status, 200, 'unlocked: approved');
  const before = await rowsOf('gc-silent');
  // Locked in the store with no event (a publisher that could not reach Redis).
  await silently('gc-silent', true, 'silent lock');
  t.equal((await sc.post('/check', { instruction: 42 })).status, 400, 'the cache still says "not locked" (bad input judged)');
  const r = await sc.post('/check', { instruction: instruction(3) });
  t.equal(r.status, 423, 'an approvable instruction is refused');
  t.match(r.json, { code: 'WGM_ERR_WORKER_LOCKED', reason: 'silent lock' });
  t.equal(await rowsOf('gc-silent'), before, 'nothing stored');
  t.equal((await sc.post('/check', { instruction: 42 })).status, 423, 'and the cache learned it from that statement');
});

t.test('Redis away: the cache is not trusted, gate.decided is kept and sent when Redis is back', async (t) => {
  const env = testEnv();
  const u = new URL(env.redisUrl);
  const relay = await startTcpRelay(u.hostname, Number(u.port || 6379));
  const prefix = `wgmtest-gc-${process.pid}-${Date.now()}`;
  const direct = new RedisBus({ url: env.redisUrl, prefix });
  t.teardown(async () => {
    await relay.close();
    await direct.close();
    await dropRedisPrefix(prefix);
  });
  const via = new URL(env.redisUrl);
  via.port = String(relay.port);
  const sc = await sidecar(t, 'gc-redis', { lockCacheMs: HOUR, redisUrl: via.toString(), busPrefix: prefix });
  const seen = new Set<string>();
  const unwatch = direct.watch(['gate.decided'], (e) => void seen.add(e.data.instruction_id));
  t.teardown(unwatch);
  await unwatch.ready;

  t.equal((await sc.post('/check', { instruction: instruction(0) })).status, 200, 'approved');
  await cachedAsUnlocked(t, sc, 'gc-redis');
  await relay.cut();
  await silently('gc-redis', true, 'locked while Redis was away');
  // Cached for an hour, no event can arrive: only a cache that stopped trusting itself when its watch broke reads
  // the store again.
  await until('the broken watch makes the sidecar read the store', async () => (await sc.post('/check', { instruction: 42 })).status === 423);
  await silently('gc-redis', false);
  const r = await until('judged again once unlocked', async () => {
    const x = await sc.post('/check', { instruction: instruction(3) });
    return x.status === 200 ? x : undefined;
  });
  t.ok((await tdb.db.query(`SELECT 1 FROM instructions WHERE id = $1`, [r.json.instruction_id])).rows.length === 1, 'stored with Redis away');
  await relay.restore();
  await until('the decision made while Redis was away is published once it is back', async () => seen.has(r.json.instruction_id));
  const metrics = await fetch(sc.url + '/metrics').then((x) => x.text());
  t.notMatch(metrics, /wingman_bus_publish_lost_total\{/, 'no event given up');
});

t.test('store away while decisions are batched: every one of them is refused (503), none approved', async (t) => {
  const relay = await startDatabaseRelay(tdb.url);
  t.teardown(() => relay.close());
  // The cache trusts "not locked" for an hour, so it is the storing statement that meets the outage.
  const sc = await sidecar(t, 'gc-store', { databaseUrl: relay.url, lockCacheMs: HOUR });
  const ok = await Promise.all(Array.from({ length: 8 }, (_, i) => sc.post('/check', { instruction: instruction(i) })));
  t.same(ok.map((r) => r.status), Array(8).fill(200), 'store up: answered');
  const before = await rowsOf('gc-store');
  await relay.cut();
  const res = await Promise.all(Array.from({ length: 16 }, (_, i) => sc.post('/check', { instruction: instruction(100 + i) })));
  t.same(res.map((r) => r.status), Array(16).fill(503), 'store away: every decision refused');
  t.ok(res.every((r) => r.json.code === 'WGM_ERR_STORE_UNAVAILABLE' && r.json.instruction_id === undefined), 'WGM_ERR_STORE_UNAVAILABLE, no decision given');
  await relay.restore();
  t.equal(await rowsOf('gc-store'), before, 'nothing from the outage is on record');
  await until('answers again once the store is back', async () => (await sc.post('/check', { instruction: instruction(200) })).status === 200);
});
