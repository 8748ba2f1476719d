// The store goes away mid-run: destructive and unknown calls fail closed with 503, allowed calls still pass, and
// their audit rows are spooled to disk and written when the store is back. Nothing is lost.
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
  const spoolFile = path.join(w.config.dataDir, 'spool', 'docker-audit.jsonl');
  const spooled = fs.readFileSync(spoolFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  t.ok(spooled.some((r) => r.rule === 'ContainerList'), 'allowed call spooled');
  t.ok(spooled.some((r) => r.rule === 'ContainerDelete' && r.status_code === 503), 'refusal spooled');

  await relay.restore();
  const replayed = await w.proxy.audit.replaySpool();
  t.equal(replayed, spooled.length);
  t.equal(fs.readFileSync(spoolFile, 'utf8'), '', 'spool emptied only after the store took the rows');
  const ids = spooled.map((r) => r.id);
  const { rows } = await direct.query(`SELECT id FROM docker_audit WHERE id = ANY($1::uuid[])`, [ids]);
  t.equal(rows.length, ids.length, 'every spooled row is in the store');
  t.equal(await w.proxy.audit.replaySpool(), 0, 'a second replay has nothing to do');

  // Back to normal: the destructive call is held again (and we deny it).
  const call = w.dockerAs('w1', ['rm', '-f', name]);
  const a = await w.pendingApproval('w1');
  await w.control.approvals.decide(a.id, 'deny', 'test');
  t.match((await call).stderr, /denied by test/);
});
