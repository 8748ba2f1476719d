// The watcher's other triggers: N gate rejections in a row alert once per streak; UNVERIFIABLE verdicts are never
// paged one by one, only summarised in a digest.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { until } from '../helpers/until.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

let w: Wingman;
t.before(async () => {
  w = await startWingman({ env: { WINGMAN_GATE_REJECT_ALERT: '3', WINGMAN_LOCKDOWN_ACTION: 'none' } });
});
t.teardown(() => w.close());

async function gate(worker: string, approved: boolean): Promise<string> {
  const id = randomUUID();
  await w.db.query(
    `INSERT INTO instructions (id, worker, decision, approved, score, instruction, decided_at, created_at)
     VALUES ($1, $2, $3, $4, $5, 'x', now(), clock_timestamp())`,
    [id, worker, approved ? 'APPROVED' : 'REJECTED', approved, approved ? 100 : 10],
  );
  await w.bus.publish('gate.decided', { instruction_id: id, worker, decision: approved ? 'APPROVED' : 'REJECTED', score: approved ? 100 : 10, rules: [] });
  return id;
}

const alerts = async (kind: string) => (await w.db.query(`SELECT worker, severity, text FROM alerts WHERE kind = $1 ORDER BY id`, [kind])).rows;

t.test('three rejections in a row alert once; the streak continuing does not re-alert; a new streak does', async (t) => {
  await gate('wg', false);
  await gate('wg', false);
  await new Promise((r) => setTimeout(r, 500));
  t.equal((await alerts('gate_rejections')).length, 0, 'two are not a streak');
  await gate('wg', false);
  await until('streak alert', async () => (await alerts('gate_rejections')).length === 1);
  await gate('wg', false);
  await new Promise((r) => setTimeout(r, 500));
  t.equal((await alerts('gate_rejections')).length, 1, 'the fourth adds nothing');
  await gate('wg', true);
  for (let i = 0; i < 3; i++) await gate('wg', false);
  await until('second streak alert', async () => (await alerts('gate_rejections')).length === 2);
  const [a] = await alerts('gate_rejections');
  t.equal(a.severity, 'warning');
  t.match(a.text, /3 instructions in a row were rejected/);
  t.notOk((await w.control.workers.get('wg'))?.locked, 'rejections alert, they do not lock down');
});

t.test('UNVERIFIABLE verdicts are summarised in a digest, not paged', async (t) => {
  for (const worker of ['wu1', 'wu1', 'wu2']) {
    const claimId = randomUUID();
    await w.db.query(
      `INSERT INTO claims (id, worker, type, params, source, raw_text, logged_at) VALUES ($1, $2, 'free_text', '{}', 'text', 'did a thing', now())`,
      [claimId, worker],
    );
    await w.db.query(
      `INSERT INTO verdicts (claim_id, worker, claim_type, verdict, evidence, reason, verifier, duration_ms)
       VALUES ($1, $2, 'free_text', 'UNVERIFIABLE', '{}', 'no checkable statement', 'test', 1)`,
      [claimId, worker],
    );
    await w.bus.publish('claim.verified', { claim_id: claimId, worker, verdict: 'UNVERIFIABLE' });
  }
  await new Promise((r) => setTimeout(r, 800));
  t.equal((await w.db.query(`SELECT count(*)::int AS n FROM alerts WHERE worker LIKE 'wu%'`)).rows[0].n, 0, 'nothing paged');
  t.notOk((await w.control.workers.get('wu1'))?.locked);
  await w.control.watcher.digest();
  const d = await alerts('unverifiable_digest');
  t.equal(d.length, 1);
  t.equal(d[0].severity, 'info');
  t.match(d[0].text, /wu1: 2[\s\S]*wu2: 1/);
  await w.control.watcher.digest();
  t.equal((await alerts('unverifiable_digest')).length, 1, 'the same verdicts are not summarised twice');
});
