// The claims store under concurrent verify loops: idempotent inserts (spool replays), disjoint leases (SKIP LOCKED),
// lapsed leases taken over, retries, exactly one verdict per claim, append-only tables.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { Claims, type NewClaim } from '../../core/claims/claims.js';
import { migratedTestDb } from '../helpers/db.js';

const tdb = await migratedTestDb();
t.teardown(() => tdb.drop());
const claims = new Claims(tdb.db);

const newClaim = (worker = 'w1'): NewClaim => ({
  id: randomUUID(),
  worker,
  instruction_id: null,
  type: 'file_deleted',
  params: { path: '/tmp/x' },
  source: 'structured',
  raw_text: null,
  logged_at: new Date().toISOString(),
});
const draft = { verdict: 'TRUE' as const, reason: 'absent', evidence: { path: '/tmp/x' }, verifier: 'file.deleted' };

t.test('inserting the same claims again (a spool replay) stores and queues them once', async (t) => {
  const batch = Array.from({ length: 5 }, () => newClaim());
  t.same((await claims.insert(batch)).sort(), batch.map((c) => c.id).sort());
  t.same(await claims.insert(batch), [], 'nothing new the second time');
  const q = await tdb.db.query(`SELECT count(*)::int AS n FROM claim_queue WHERE claim_id = ANY($1::uuid[])`, [batch.map((c) => c.id)]);
  t.equal(q.rows[0].n, 5);
  for (const c of batch) await claims.complete(c, draft, 1, 'setup');
});

t.test('concurrent leases are disjoint; other workers\' claims are never leased', async (t) => {
  const mine = Array.from({ length: 40 }, () => newClaim());
  const theirs = Array.from({ length: 5 }, () => newClaim('w2'));
  await claims.insert([...mine, ...theirs]);
  const leases = await Promise.all(Array.from({ length: 4 }, (_, i) => claims.lease('w1', `a${i}`, 15, 30_000)));
  const ids = leases.flat().map((c) => c.id);
  t.equal(ids.length, 40, 'all of w1\'s claims leased');
  t.equal(new Set(ids).size, 40, 'no claim leased twice');
  t.ok(ids.every((id) => mine.some((c) => c.id === id)), 'only w1\'s');
  t.same(await claims.lease('w1', 'late', 10, 30_000), [], 'nothing left while the leases hold');
  t.equal(await claims.leaseOne(theirs[0].id, 'w1', 'a0', 30_000), undefined, 'leaseOne refuses another worker\'s claim');
  for (const c of leases.flat()) await claims.complete(c, draft, 1, 'a');
  for (const c of theirs) await claims.complete(c, draft, 1, 'b');
});

t.test('a lapsed lease is taken over; a retry waits for its time', async (t) => {
  const c = newClaim();
  await claims.insert([c]);
  const [first] = await claims.lease('w1', 'dead', 1, 50);
  t.equal(first?.id, c.id);
  t.equal(first?.attempts, 1);
  t.same(await claims.lease('w1', 'other', 1, 30_000), [], 'held');
  await new Promise((r) => setTimeout(r, 120));
  const [again] = await claims.lease('w1', 'other', 1, 30_000);
  t.equal(again?.id, c.id, 'taken over after the lease lapsed');
  t.equal(again?.attempts, 2);
  await claims.retryLater(c.id, 'dead', 'not mine any more', 0);
  t.same(await claims.lease('w1', 'third', 1, 30_000), [], 'a stale holder cannot give it back');
  await claims.retryLater(c.id, 'other', 'docker away', 60_000);
  t.same(await claims.lease('w1', 'third', 1, 30_000), [], 'not due yet');
  await tdb.db.query(`UPDATE claim_queue SET next_attempt_at = now() WHERE claim_id = $1`, [c.id]);
  const [due] = await claims.lease('w1', 'third', 1, 30_000);
  t.equal(due?.id, c.id, 'due again');
  const q = await tdb.db.query(`SELECT last_error FROM claim_queue WHERE claim_id = $1`, [c.id]);
  t.equal(q.rows[0].last_error, 'docker away');
  // A synchronous /verify does not wait for the backoff: someone is asking now.
  await claims.retryLater(c.id, 'third', 'docker away again', 60_000);
  t.same(await claims.lease('w1', 'fourth', 1, 30_000), [], 'not due for the verify loop');
  t.equal((await claims.leaseOne(c.id, 'w1', 'fourth', 30_000))?.id, c.id, 'taken by a synchronous verify');
  await claims.complete(c, draft, 1, 'fourth');
});

t.test('racing verdicts: exactly one stands, the loser learns which', async (t) => {
  const c = newClaim();
  await claims.insert([c]);
  const results = await Promise.all([
    claims.complete(c, { ...draft, verdict: 'TRUE' }, 1, 'x'),
    claims.complete(c, { ...draft, verdict: 'FALSE' }, 1, 'y'),
    claims.complete(c, { ...draft, verdict: 'UNVERIFIABLE' }, 1, 'z'),
  ]);
  t.equal(results.filter((r) => r.inserted).length, 1, 'one insert');
  const winner = results.find((r) => r.inserted)!.row;
  for (const r of results) t.equal(r.row.id, winner.id, 'every caller gets the standing verdict');
  const v = await tdb.db.query(`SELECT count(*)::int AS n FROM verdicts WHERE claim_id = $1`, [c.id]);
  t.equal(v.rows[0].n, 1);
  t.equal((await claims.verdict(c.id))?.verdict, winner.verdict);
  const q = await tdb.db.query(`SELECT status FROM claim_queue WHERE claim_id = $1`, [c.id]);
  t.equal(q.rows[0].status, 'done');
  t.same(await claims.lease('w1', 'late', 10, 30_000), [], 'done claims are not leased again');
});

t.test('claims and verdicts are append-only; a verdict needs its claim', async (t) => {
  await t.rejects(tdb.db.query(`UPDATE claims SET worker = 'w9'`), { code: 'WG001' });
  await t.rejects(tdb.db.query(`DELETE FROM verdicts`), { code: 'WG001' });
  await t.rejects(tdb.db.query(`TRUNCATE verdicts`), { code: 'WG001' });
  await t.rejects(
    tdb.db.query(`INSERT INTO verdicts (claim_id, worker, claim_type, verdict, reason, verifier, duration_ms) VALUES ($1, 'w1', 'x', 'TRUE', 'r', 'v', 1)`, [randomUUID()]),
    { code: '23503' },
  );
  await t.rejects(
    tdb.db.query(`INSERT INTO claims (id, worker, type, source, logged_at) VALUES ($1, 'w1', 'made_up', 'structured', now())`, [randomUUID()]),
    { code: '23514' },
  );
});
