// Regression (fuzz, #11): Postgres keeps no NUL byte in text or jsonb. An audit row carrying one (a worker's argv,
// a refusal's reason quoting the caller) was refused by the store batch after batch, and every row behind it in the
// local log waited forever. Now it is stored with U+FFFD, and the rows behind it are shipped. The rows go to the store
// as one JSON array, so a lone surrogate (which jsonb refuses as well) is kept as U+FFFD too, while a whole pair and a
// literal backslash-u0000 text are kept as they are.
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
  const odd = row('/wgmtest-\\u0000-😀', { reason: 'lone \ud800 and \udc00 surrogates' });
  void w.proxy.audit.record(bad);
  void w.proxy.audit.record(after);
  void w.proxy.audit.record(odd);
  await w.proxy.audit.flush();
  t.equal(w.proxy.audit.backlog(), 0, 'the audit log is not held up');
  const { rows } = await w.db.query<{ id: string; path: string; reason: string | null; argv: string[] | null }>(
    `SELECT id, path, reason, argv FROM docker_audit WHERE id = ANY($1::uuid[])`,
    [[bad.id, after.id, odd.id]],
  );
  t.equal(rows.length, 3, 'every row is stored');
  const oddRow = rows.find((r) => r.id === odd.id)!;
  t.equal(oddRow.path, '/wgmtest-\\u0000-😀', 'a literal backslash-u0000 and a whole surrogate pair kept as they are');
  t.equal(oddRow.reason, 'lone \uFFFD and \uFFFD surrogates');
  const stored = rows.find((r) => r.id === bad.id)!;
  t.equal(stored.reason, 'quoted \uFFFD byte');
  t.same(stored.argv, ['sh', '-c', 'echo \uFFFD']);
});
