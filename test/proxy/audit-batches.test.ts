// The audit shipper under steady load: rows logged while an insert is in flight wait to gather more before the
// next insert (one insert per round trip, with a handful of rows each, cost the proxy a tenth of its CPU at
// 4000 calls/s), yet a flush still ships everything at once. Real Postgres; only the timing of the inserts is held.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { DockerAudit } from '../../core/audit/docker-audit.js';
import { createLogger } from '../../core/log.js';
import type { Db } from '../../core/store/db.js';
import { migratedTestDb } from '../helpers/db.js';

t.test('rows logged during an insert are gathered into the next one; a flush ships at once', async (t) => {
  const tdb = await migratedTestDb();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-auditbatch-'));
  // Each audit insert waits for the test to let it go; the rows it carried are noted.
  const inserts: number[] = [];
  const held: Array<() => void> = [];
  let called: (() => void) | undefined;
  const db = new Proxy(tdb.db, {
    get(target, prop, receiver) {
      if (prop !== 'queryPrepared') return Reflect.get(target, prop, receiver) as unknown;
      return async (sql: string, params: unknown[]) => {
        if (sql.startsWith('INSERT INTO docker_audit')) {
          inserts.push((JSON.parse(params[0] as string) as unknown[]).length);
          called?.();
          await new Promise<void>((resolve) => held.push(resolve));
        }
        return target.queryPrepared(sql, params);
      };
    },
  }) as Db;
  const audit = new DockerAudit(db, dir, createLogger({ level: 'silent' }));
  t.teardown(async () => {
    for (const go of held.splice(0)) go();
    await audit.stop();
    await tdb.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const row = (n: number) =>
    DockerAudit.newRecord({ worker: 'w1', method: 'GET', route: '/_ping', path: `/_ping?n=${n}`, rule: 'SystemPing', decision: 'allow', mode: 'enforce', bytes_in: 0, bytes_out: 0 });
  const insertCalled = () => new Promise<void>((resolve) => (called = resolve));

  let next = insertCalled();
  for (let i = 0; i < 5; i++) void audit.record(row(i));
  await next;
  t.same(inserts, [5], 'the first insert carries what was logged before it');
  // Three rows come while it is in flight, two more just after it returns.
  for (let i = 5; i < 8; i++) void audit.record(row(i));
  next = insertCalled();
  held.shift()!();
  await new Promise((r) => setTimeout(r, 5));
  for (let i = 8; i < 10; i++) void audit.record(row(i));
  await next;
  t.same(inserts, [5, 5], 'the next insert waited and carries all five, not the three that were there first');
  held.shift()!();

  // A flush does not wait to gather: what is logged is shipped by the time it returns.
  for (let i = 10; i < 13; i++) void audit.record(row(i));
  called = () => setImmediate(() => held.shift()?.());
  await audit.flush();
  t.equal(audit.backlog(), 0, 'nothing left behind a flush');
  const { rows } = await tdb.db.query<{ n: string }>(`SELECT count(*) AS n FROM docker_audit`);
  t.equal(Number(rows[0].n), 13, 'every row is in the store');
});
