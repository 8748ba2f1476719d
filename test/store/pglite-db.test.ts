// PgliteDb (embedded): the shared store contract, serialised transactions, persistence in a data dir.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../core/log.js';
import { defaultMigrationsDir, listMigrations, migrate } from '../../core/store/migrate.js';
import { openDb } from '../../core/store/open-db.js';
import { PgliteDb } from '../../core/store/pglite-db.js';
import { storeContract } from './store-contract.js';

const silent = createLogger({ level: 'silent' });

// One embedded instance for the whole file (each costs seconds and ~0.8 GB): a "fresh database" is the public
// schema dropped and recreated, which removes every table, function and trigger a migration made.
const shared = await PgliteDb.open();
t.teardown(() => shared.close());
async function freshShared(): Promise<PgliteDb> {
  await shared.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
  return shared;
}

storeContract(t, async () => ({ db: await freshShared(), cleanup: async () => undefined }));

t.test('serialised: a query outside an open transaction waits for it and never sees its rows', async (t) => {
  const db = await freshShared();
  await db.exec('CREATE TABLE wgmtest_t (id int)');

  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let inside!: () => void;
  const entered = new Promise<void>((r) => (inside = r));
  const order: string[] = [];

  const tx = db
    .transaction(async (tx) => {
      await tx.query('INSERT INTO wgmtest_t VALUES (1)');
      inside();
      await gate;
      order.push('tx-end');
      throw new Error('roll back');
    })
    .catch((err: Error) => err.message);

  await entered;
  const outside = db.query<{ n: number }>('SELECT count(*)::int AS n FROM wgmtest_t').then((r) => {
    order.push('outside');
    return r.rows[0].n;
  });
  // Let the outside query run now if it could; it must not.
  await new Promise((r) => setImmediate(r));
  release();
  t.equal(await tx, 'roll back');
  t.equal(await outside, 0, 'the outside query ran after the rollback (it would count 1 if it had slipped in)');
  t.same(order, ['tx-end', 'outside']);
});

t.test('db.query inside db.transaction is refused, not a deadlock', async (t) => {
  const db = await freshShared();
  await t.rejects(
    db.transaction(async () => {
      await db.query('SELECT 1');
    }),
    { code: 'WGM_ERR_INTERNAL', message: /use the transaction handle/ },
  );
  t.equal(await db.ping(), true, 'still usable afterwards');
});

t.test('data dir: data survives close and reopen; openDb uses <dataDir>/pgdata', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'wgmtest-data-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const config = { databaseUrl: undefined, dataDir };

  const first = await openDb(config, silent);
  t.equal(first.kind, 'pglite');
  await first.query('INSERT INTO workers (name) VALUES ($1)', ['persisted']);
  await first.close();
  t.equal(await first.ping(), false, 'closed handle pings false');
  await t.rejects(first.query('SELECT 1'), { code: 'WGM_ERR_STORE_UNAVAILABLE' });

  const second = await PgliteDb.open({ dataDir: path.join(dataDir, 'pgdata') });
  t.teardown(() => second.close());
  const again = await migrate(second, defaultMigrationsDir(), silent);
  t.same(again.applied, [], 'already migrated');
  t.equal(again.skipped, (await listMigrations(defaultMigrationsDir())).length);
  const r = await second.query<{ name: string; locked: boolean }>('SELECT name, locked FROM workers');
  t.same(r.rows, [{ name: 'persisted', locked: false }]);
});

t.test('worker thread: errors keep their fields, bytes cross as Buffers, a closed handle fails closed', async (t) => {
  const db = await freshShared();
  await db.exec('CREATE TABLE wgmtest_w (id int PRIMARY KEY, b bytea)');
  await db.query('INSERT INTO wgmtest_w VALUES (1, $1)', [Buffer.from([0, 1, 255])]);
  const err = await db.query('INSERT INTO wgmtest_w VALUES (1, NULL)').catch((e: unknown) => e as Record<string, unknown>);
  t.match(err, { code: '23505', constraint: 'wgmtest_w_pkey', detail: /already exists/, message: /duplicate key/ }, 'a unique violation as PGlite raised it');
  t.ok(err instanceof Error, 'an Error');
  const r = await db.query<{ b: Buffer }>('SELECT b FROM wgmtest_w');
  t.ok(Buffer.isBuffer(r.rows[0].b), 'bytea as a Buffer');
  t.same([...r.rows[0].b], [0, 1, 255]);
  await t.rejects(db.query('SELECT $1::text', [() => 1]), 'a parameter that cannot cross threads is refused, not hung');
  t.equal(await db.ping(), true, 'still usable afterwards');

  const own = await PgliteDb.open();
  await own.close();
  await t.rejects(own.query('SELECT 1'), { code: 'WGM_ERR_STORE_UNAVAILABLE' });
  t.equal(await own.ping(), false);
});
