// PgDb against the real test Postgres: the shared store contract, concurrent migration, and failing closed
// when the server is unreachable.
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../core/log.js';
import { isWingmanError } from '../../core/errors.js';
import { defaultMigrationsDir, listMigrations, migrate } from '../../core/store/migrate.js';
import { PgDb } from '../../core/store/pg-db.js';
import { openDb } from '../../core/store/open-db.js';
import { createTestDatabase } from '../helpers/db.js';
import { fileListChecks, storeContract } from './store-contract.js';

const silent = createLogger({ level: 'silent' });

storeContract(t, async () => {
  const tdb = await createTestDatabase();
  const db = new PgDb({ url: tdb.url });
  return {
    db,
    async cleanup() {
      await db.close();
      await tdb.drop();
    },
  };
});

fileListChecks(t);

t.test('two processes migrating the same database at once: each file applied exactly once', async (t) => {
  const tdb = await createTestDatabase();
  t.teardown(tdb.drop);
  // Slow files widen the window in which both runners are inside migrate(); without the advisory lock both
  // would try CREATE TABLE and one would fail.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wgmtest-mig-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, '001_a.sql'), 'SELECT pg_sleep(0.2); CREATE TABLE wgmtest_a (id int);');
  await writeFile(path.join(dir, '002_b.sql'), 'SELECT pg_sleep(0.2); CREATE TABLE wgmtest_b (id int);');
  await writeFile(path.join(dir, '003_c.sql'), 'SELECT pg_sleep(0.2); INSERT INTO wgmtest_a VALUES (1);');

  for (const [label, source] of [
    ['synthetic files', dir],
    ['real migrations', defaultMigrationsDir()],
  ] as const) {
    const target = label === 'synthetic files' ? tdb : await createTestDatabase();
    if (target !== tdb) t.teardown(target.drop);
    const a = new PgDb({ url: target.url });
    const b = new PgDb({ url: target.url });
    const [ra, rb] = await Promise.all([migrate(a, source, silent), migrate(b, source, silent)]);
    const files = (await listMigrations(source)).map((f) => f.file);
    t.same([...ra.applied, ...rb.applied].sort(), files, `${label}: every file applied by exactly one runner`);
    t.equal(ra.skipped + rb.skipped, files.length, `${label}: the other runner skipped it`);
    const n = await a.query<{ n: number }>('SELECT count(*)::int AS n FROM wingman_migrations');
    t.equal(n.rows[0].n, files.length, `${label}: one row per file`);
    if (label === 'synthetic files') {
      const rows = await a.query<{ n: number }>('SELECT count(*)::int AS n FROM wgmtest_a');
      t.equal(rows.rows[0].n, 1, 'data migration ran once');
    }
    await a.close();
    await b.close();
  }
});

t.test('unreachable server: every call fails closed with WGM_ERR_STORE_UNAVAILABLE, ping() is false', async (t) => {
  const db = new PgDb({ url: 'postgres://postgres@127.0.0.1:1/x', connectionTimeoutMs: 1000 });
  t.teardown(() => db.close());
  const calls: Array<[string, () => Promise<unknown>]> = [
    ['query', () => db.query('SELECT 1')],
    ['exec', () => db.exec('SELECT 1; SELECT 2')],
    ['transaction', () => db.transaction((tx) => tx.query('SELECT 1'))],
    ['migrate', () => migrate(db, defaultMigrationsDir(), silent)],
  ];
  for (const [name, call] of calls) {
    let caught: unknown;
    try {
      await call();
    } catch (err) {
      caught = err;
    }
    t.ok(isWingmanError(caught, 'WGM_ERR_STORE_UNAVAILABLE'), `${name}: WGM_ERR_STORE_UNAVAILABLE`);
    t.ok((caught as Error & { cause?: unknown })?.cause, `${name}: keeps the cause`);
    t.equal((caught as { statusCode?: number })?.statusCode, 503, `${name}: maps to 503`);
  }
  t.equal(await db.ping(), false, 'ping() false, no throw');
});

t.test('connection killed while a transaction waits between queries: rejects, no crash, pool recovers', async (t) => {
  const tdb = await createTestDatabase();
  t.teardown(tdb.drop);
  const db = new PgDb({ url: tdb.url });
  t.teardown(() => db.close());
  const admin = new PgDb({ url: tdb.url, max: 1 });
  t.teardown(() => admin.close());
  let caught: unknown;
  try {
    await db.transaction(async (tx) => {
      const pid = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      // Not inside a query now: the termination arrives as an 'error' event on the idle, checked-out client.
      await new Promise((r) => setTimeout(r, 200));
      await tx.query('SELECT 1');
    });
  } catch (err) {
    caught = err;
  }
  t.ok(isWingmanError(caught, 'WGM_ERR_STORE_UNAVAILABLE'), 'transaction rejects with WGM_ERR_STORE_UNAVAILABLE');
  const again = await db.query<{ one: number }>('SELECT 1 AS one');
  t.equal(again.rows[0].one, 1, 'the pool hands out a working connection afterwards');
});

t.test('a database that does not exist is unavailable too', async (t) => {
  const tdb = await createTestDatabase();
  await tdb.drop();
  const db = new PgDb({ url: tdb.url });
  t.teardown(() => db.close());
  await t.rejects(db.query('SELECT 1'), { code: 'WGM_ERR_STORE_UNAVAILABLE' });
  t.equal(await db.ping(), false);
});

t.test('a closed handle refuses work and pings false', async (t) => {
  const tdb = await createTestDatabase();
  t.teardown(tdb.drop);
  const db = new PgDb({ url: tdb.url });
  t.equal(await db.ping(), true);
  await db.close();
  await db.close(); // idempotent
  await t.rejects(db.query('SELECT 1'), { code: 'WGM_ERR_STORE_UNAVAILABLE' });
  t.equal(await db.ping(), false);
});

t.test('openDb with DATABASE_URL: PgDb, migrated', async (t) => {
  const tdb = await createTestDatabase();
  t.teardown(tdb.drop);
  const db = await openDb({ databaseUrl: tdb.url, dataDir: '/nonexistent' }, silent);
  t.teardown(() => db.close());
  t.equal(db.kind, 'postgres');
  t.ok(db instanceof PgDb);
  const files = await listMigrations(defaultMigrationsDir());
  const n = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM wingman_migrations');
  t.equal(n.rows[0].n, files.length);
});

t.test('openDb closes the handle and rethrows when migrations fail', async (t) => {
  const tdb = await createTestDatabase();
  t.teardown(tdb.drop);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wgmtest-mig-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, '001_bad.sql'), 'SELECT no_such_function();');
  await t.rejects(openDb({ databaseUrl: tdb.url, dataDir: '/nonexistent' }, silent, { migrationsDir: dir }), {
    code: 'WGM_ERR_STORE_MIGRATION',
    message: /001_bad\.sql/,
  });
});
