// Regression (fuzz, #11): Postgres keeps no NUL byte in text or jsonb. An audit row carrying one (a worker's argv,
// a refusal's reason quoting the caller) was refused by the store batch after batch, and every row behind it in the
// local log waited forever. Now it is stored with U+FFFD, and the rows behind it are shipped.
import t from 'tap';
import { DockerAudit } from '../../core/audit/docker-audit.js';
import { startWingman } from '../helpers/wingman.js';

t.test('a NUL byte never holds up the audit', async (t) => {
  const w = await startWingman();
  t.teardown(() => w.close());
  const row = (path: string, extra: object = {}) =>
    DockerAudit.newRecord({ worker: 'w1', method: 'POST', route: '/x', path, rule: 'ContainerCreate', decision: 'allow', mode: 'enforce', bytes_in: 0, bytes_out: 0, ...extra });
  const bad = row('/wgmtest-nul', { reason: 'quoted \u0000 byte', argv: ['sh', '-c', 'echo \u0000'] });
  const after = row('/wgmtest-after-nul');
  w.proxy.audit.record(bad);
  w.proxy.audit.record(after);
  await w.proxy.audit.flush();
  t.equal(w.proxy.audit.backlog(), 0, 'the audit log is not held up');
  const { rows } = await w.db.query<{ id: string; reason: string | null; argv: string[] | null }>(`SELECT id, reason, argv FROM docker_audit WHERE id = ANY($1::uuid[])`, [
    [bad.id, after.id],
  ]);
  t.equal(rows.length, 2, 'both rows are stored');
  const stored = rows.find((r) => r.id === bad.id)!;
  t.equal(stored.reason, 'quoted \uFFFD byte');
  t.same(stored.argv, ['sh', '-c', 'echo \uFFFD']);
});
