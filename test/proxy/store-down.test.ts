// The store goes away mid-run: destructive and unknown calls fail closed with 503, allowed calls still pass, and
// their audit rows wait in the local audit log and are written when the store is back. Nothing is lost.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { createLogger } from '../../core/log.js';
import { defaultMigrationsDir, migrate } from '../../core/store/migrate.js';
import { PgDb } from '../../core/store/pg-db.js';
import { createTestDatabase } from '../helpers/db.js';
import { docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { startDatabaseRelay } from '../helpers/tcp-relay.js';
import { startWingman } from '../helpers/wingman.js';

t.test('store outage: fail closed, lose nothing', async (t) => {
  const database = await createTestDatabase();
  const direct = new PgDb({ url: database.url });
  await migrate(direct, defaultMigrationsDir(), createLogger({ level: 'silent' }));
  const relay = await startDatabaseRelay(database.url);
  const w = await startWingman({ database, databaseUrl: relay.url });
  const name = testName('outage');
  t.teardown(async () => {
    await docker(['rm', '-f', name]);
    await w.close();
    await relay.close();
    await direct.close();
    await database.drop();
  });
  await dockerOk(['run', '-d', '--name', name, TEST_IMAGE, 'sleep', '600']);
  await w.adopt('w1', 'container', name);

  t.equal((await w.dockerAs('w1', ['ps', '-q'])).code, 0, 'works with the store up');
  await w.proxy.audit.flush();
  const before = Number((await direct.query(`SELECT count(*) AS n FROM docker_audit`)).rows[0].n);
  t.ok(before > 0);

  await relay.cut();
  const ps = await w.dockerAs('w1', ['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Names}}']);
  t.equal(ps.code, 0, 'allowed calls still pass');
  t.equal(ps.stdout.trim(), name);
  const rm = await w.dockerAs('w1', ['rm', '-f', name]);
  t.not(rm.code, 0);
  t.match(rm.stderr, /wingman: approval store unavailable; remove container .* refused until it is back \(fail closed\)/);
  t.equal((await docker(['inspect', '-f', '{{.State.Running}}', name])).stdout.trim(), 'true', 'nothing reached Docker');
  const unknown = await w.dockerAs('w1', ['plugin', 'install', 'wgmtest/none']);
  t.not(unknown.code, 0);

  await w.proxy.audit.flush();
  // The rows wait in the proxy's local audit log until the store is back.
  const logDir = path.join(w.config.dataDir, 'audit-log', 'proxy');
  const logged = fs
    .readdirSync(logDir)
    .flatMap((f) => fs.readFileSync(path.join(logDir, f), 'utf8').split('\n').filter(Boolean))
    .map((l) => JSON.parse(l) as { k: string; r: { id: string; rule: string; status_code: number | null } })
    .filter((e) => e.k === 'o')
    .map((e) => e.r);
  t.ok(logged.some((r) => r.rule === 'ContainerList'), 'allowed call logged');
  t.ok(logged.some((r) => r.rule === 'ContainerDelete' && r.status_code === 503), 'refusal logged');
  t.ok(w.proxy.audit.backlog() > 0, 'the store does not have them yet');

  await relay.restore();
  await w.proxy.audit.flush();
  t.equal(w.proxy.audit.backlog(), 0, 'shipped once the store took the rows');
  const ids = logged.map((r) => r.id);
  const { rows } = await direct.query(`SELECT id FROM docker_audit WHERE id = ANY($1::uuid[])`, [ids]);
  t.equal(rows.length, new Set(ids).size, 'every logged row is in the store');
  t.same(fs.readdirSync(logDir).length, 1, 'shipped segments are deleted (only the one being written is left)');

  // Back to normal: the destructive call is held again (and we deny it).
  const call = w.dockerAs('w1', ['rm', '-f', name]);
  const a = await w.pendingApproval('w1');
  await w.control.approvals.answer(a.id, 'deny', 'test');
  t.match((await call).stderr, /denied by test/);
});
