// One behaviour suite for every Db implementation (PgDb on a real Postgres database, PgliteDb embedded): the
// same migration files, the same append-only refusals, the same result shapes.
import { mkdtemp, rm, writeFile, readdir, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { createLogger } from '../../core/log.js';
import type { Db } from '../../core/store/db.js';
import { defaultMigrationsDir, listMigrations, migrate } from '../../core/store/migrate.js';

export interface FreshDb {
  db: Db;
  cleanup: () => Promise<void>;
}

const silent = createLogger({ level: 'silent' });

async function migrationDir(files: Record<string, string>): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wgmtest-mig-'));
  for (const [name, sql] of Object.entries(files)) await writeFile(path.join(dir, name), sql);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Expect a promise to reject with a SQLSTATE (pg and PGlite errors both carry `.code`). */
async function rejectsWithCode(t: Test, p: Promise<unknown>, code: string, msg: string): Promise<void> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  t.ok(caught, `${msg}: rejected`);
  t.equal((caught as { code?: string } | undefined)?.code, code, `${msg}: code ${code}`);
}

export function storeContract(t: Test, fresh: () => Promise<FreshDb>): void {
  t.test('real migrations: apply, re-run is a no-op, checksums recorded', async (t) => {
    const { db, cleanup } = await fresh();
    t.teardown(cleanup);
    const dir = defaultMigrationsDir();
    const files = await listMigrations(dir);
    t.ok(files.length >= 1, 'at least one migration file');
    t.equal(files[0].file, '001_foundation.sql');

    const first = await migrate(db, dir, silent);
    t.same(first.applied, files.map((f) => f.file), 'every file applied in order');
    t.equal(first.skipped, 0);

    const second = await migrate(db, dir, silent);
    t.same(second.applied, [], 're-run applies nothing');
    t.equal(second.skipped, files.length);

    const rows = (await db.query<{ id: number; name: string; checksum: string; applied_at: Date }>(
      'SELECT id, name, checksum, applied_at FROM wingman_migrations ORDER BY id',
    )).rows;
    t.equal(rows.length, files.length, 'one row per file');
    for (const f of files) {
      const row = rows.find((r) => r.id === f.id);
      const expected = createHash('sha256').update(await readFile(path.join(dir, f.file))).digest('hex');
      t.equal(row?.checksum, expected, `${f.file}: sha256 of the file recorded`);
      t.equal(row?.name, f.name);
      t.ok(row?.applied_at instanceof Date, `${f.file}: applied_at is a timestamp`);
    }

    t.test('append-only trigger refuses UPDATE, DELETE and TRUNCATE', async (t) => {
      await db.exec(`CREATE TABLE wgmtest_log (id int PRIMARY KEY, v text NOT NULL);
        SELECT wingman_make_append_only('wgmtest_log');
        CREATE TABLE wgmtest_plain (id int);
        CREATE TRIGGER wgmtest_plain_ao BEFORE UPDATE OR DELETE ON wgmtest_plain
          FOR EACH ROW EXECUTE FUNCTION wingman_append_only();`);
      await db.query('INSERT INTO wgmtest_log (id, v) VALUES ($1, $2), ($3, $4)', [1, 'a', 2, 'b']);
      await rejectsWithCode(t, db.query(`UPDATE wgmtest_log SET v = 'x' WHERE id = 1`), 'WG001', 'UPDATE');
      await rejectsWithCode(t, db.query('DELETE FROM wgmtest_log WHERE id = 2'), 'WG001', 'DELETE');
      await rejectsWithCode(t, db.exec('TRUNCATE wgmtest_log'), 'WG001', 'TRUNCATE');
      await rejectsWithCode(
        t,
        db.transaction((tx) => tx.query('DELETE FROM wgmtest_log')),
        'WG001',
        'DELETE inside a transaction',
      );
      const after = await db.query<{ id: number; v: string }>('SELECT id, v FROM wgmtest_log ORDER BY id');
      t.same(after.rows, [{ id: 1, v: 'a' }, { id: 2, v: 'b' }], 'rows untouched');
      const inserted = await db.query('INSERT INTO wgmtest_log (id, v) VALUES (3, $1)', ['c']);
      t.equal(inserted.rowCount, 1, 'INSERT still allowed');

      await db.query('INSERT INTO wgmtest_plain VALUES (1)');
      await rejectsWithCode(t, db.query('UPDATE wgmtest_plain SET id = 2'), 'WG001', 'function attached directly');
    });

    t.test('workers table: defaults, name rule, updated_at', async (t) => {
      const ins = await db.query<{ name: string; locked: boolean; locked_reason: string | null; created_at: Date }>(
        'INSERT INTO workers (name) VALUES ($1) RETURNING *',
        ['w1'],
      );
      t.equal(ins.rowCount, 1);
      t.equal(ins.rows[0].locked, false, 'not locked by default');
      t.equal(ins.rows[0].locked_reason, null);
      t.ok(ins.rows[0].created_at instanceof Date);
      await rejectsWithCode(t, db.query('INSERT INTO workers (name) VALUES ($1)', ['w1']), '23505', 'duplicate name');
      for (const bad of ['W1', '', '-w', 'a b', 'x'.repeat(64)]) {
        await rejectsWithCode(t, db.query('INSERT INTO workers (name) VALUES ($1)', [bad]), '23514', `name ${JSON.stringify(bad)}`);
      }
      await db.query(`UPDATE workers SET updated_at = '2000-01-01' WHERE name = 'w1'`);
      const upd = await db.query<{ updated_at: Date; locked: boolean }>(
        `UPDATE workers SET locked = true, locked_reason = 'test' WHERE name = 'w1' RETURNING updated_at, locked`,
      );
      t.equal(upd.rowCount, 1);
      t.equal(upd.rows[0].locked, true);
      t.ok(upd.rows[0].updated_at.getUTCFullYear() > 2000, 'updated_at set by the trigger');
    });

    t.test('result shapes match node-postgres', async (t) => {
      const r = await db.query<Record<string, unknown>>(
        `SELECT 9007199254740993::int8 AS big, 2::int4 AS i, 1.5::numeric AS n, '\\x0102'::bytea AS b,
                '{"a":1}'::jsonb AS j, true AS t, now() AS ts, $1::text AS p`,
        ['param'],
      );
      t.equal(r.rowCount, 1);
      const row = r.rows[0];
      t.equal(row.big, '9007199254740993', 'int8 as string (no precision loss)');
      t.equal(row.i, 2);
      t.equal(row.n, '1.5', 'numeric as string');
      t.ok(Buffer.isBuffer(row.b), 'bytea as Buffer');
      t.same([...(row.b as Buffer)], [1, 2]);
      t.same(row.j, { a: 1 });
      t.equal(row.t, true);
      t.ok(row.ts instanceof Date);
      t.equal(row.p, 'param');
      const upd = await db.query(`UPDATE workers SET locked_by = 'x' WHERE name = 'nobody'`);
      t.equal(upd.rowCount, 0, 'rowCount 0 when nothing matched');
      await rejectsWithCode(t, db.query('SELECT * FROM wgmtest_no_such_table'), '42P01', 'SQL errors keep their SQLSTATE');
    });

    t.test('queryPrepared: the same rows and errors as query, again and again', async (t) => {
      const sql = `SELECT $1::int4 * 2 AS twice, $2::text AS s, '{"a":1}'::jsonb AS j`;
      for (let i = 0; i < 3; i++) {
        const a = await db.queryPrepared<Record<string, unknown>>(sql, [i, `q"${i}`]);
        const b = await db.query<Record<string, unknown>>(sql, [i, `q"${i}`]);
        t.same(a, b, `call ${i + 1}: same result as query()`);
      }
      await rejectsWithCode(t, db.queryPrepared(sql, ['x', 'y']), '22P02', 'a bad value is a data error');
      await rejectsWithCode(t, db.queryPrepared('SELECT * FROM wgmtest_no_such_table WHERE 1 = $1', [1]), '42P01', 'SQL errors keep their SQLSTATE');
    });

    t.test('transactions commit, roll back, and refuse a stale handle', async (t) => {
      const value = await db.transaction(async (tx) => {
        await tx.query('INSERT INTO workers (name) VALUES ($1)', ['tx-ok']);
        await tx.exec(`INSERT INTO workers (name) VALUES ('tx-ok2'); INSERT INTO workers (name) VALUES ('tx-ok3')`);
        return 42;
      });
      t.equal(value, 42, 'returns the callback value');
      const boom = new Error('boom');
      await t.rejects(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO workers (name) VALUES ($1)', ['tx-rolled-back']);
          throw boom;
        }),
        boom,
        'rethrows the callback error',
      );
      const names = (await db.query<{ name: string }>(`SELECT name FROM workers WHERE name LIKE 'tx-%' ORDER BY name`)).rows;
      t.same(names.map((r) => r.name), ['tx-ok', 'tx-ok2', 'tx-ok3'], 'committed rows kept, rolled back row gone');

      let stale: { query: Db['query'] } | undefined;
      await db.transaction(async (tx) => {
        stale = tx;
      });
      await t.rejects(stale!.query('SELECT 1'), { code: 'WGM_ERR_INTERNAL' }, 'handle unusable after the transaction');
      t.equal(await db.ping(), true, 'ping true on a live store');
    });
  });

  t.test('a changed, already applied file is refused, naming the file', async (t) => {
    const { db, cleanup } = await fresh();
    t.teardown(cleanup);
    const m = await migrationDir({ '001_a.sql': 'CREATE TABLE wgmtest_a (id int);' });
    t.teardown(m.remove);
    t.same((await migrate(db, m.dir, silent)).applied, ['001_a.sql']);
    await writeFile(path.join(m.dir, '001_a.sql'), 'CREATE TABLE wgmtest_a (id int, extra text);');
    await writeFile(path.join(m.dir, '002_b.sql'), 'CREATE TABLE wgmtest_b (id int);');
    await t.rejects(migrate(db, m.dir, silent), {
      code: 'WGM_ERR_STORE_MIGRATION',
      message: /001_a\.sql was changed/,
    });
    const b = await db.query(`SELECT to_regclass('wgmtest_b') AS t`);
    t.equal(b.rows[0].t, null, 'nothing newer applied after the refusal');
  });

  t.test('a failing file rolls back, is not recorded, and is named', async (t) => {
    const { db, cleanup } = await fresh();
    t.teardown(cleanup);
    const m = await migrationDir({
      '001_a.sql': 'CREATE TABLE wgmtest_a (id int);',
      '002_bad.sql': 'CREATE TABLE wgmtest_half (id int);\nSELECT no_such_function();',
      '003_c.sql': 'CREATE TABLE wgmtest_c (id int);',
    });
    t.teardown(m.remove);
    await t.rejects(migrate(db, m.dir, silent), { code: 'WGM_ERR_STORE_MIGRATION', message: /002_bad\.sql/ });
    const r = await db.query<{ half: string | null; c: string | null; a: string | null }>(
      `SELECT to_regclass('wgmtest_half')::text AS half, to_regclass('wgmtest_c')::text AS c, to_regclass('wgmtest_a')::text AS a`,
    );
    t.same(r.rows[0], { half: null, c: null, a: 'wgmtest_a' }, 'first file kept, failing file rolled back, later not run');
    const ids = (await db.query<{ id: number }>('SELECT id FROM wingman_migrations ORDER BY id')).rows.map((x) => x.id);
    t.same(ids, [1]);

    // Fixed file: the run continues where it stopped.
    await writeFile(path.join(m.dir, '002_bad.sql'), 'CREATE TABLE wgmtest_half (id int);');
    t.same((await migrate(db, m.dir, silent)).applied, ['002_bad.sql', '003_c.sql']);
  });

  t.test('files run in numeric order, not string order', async (t) => {
    const { db, cleanup } = await fresh();
    t.teardown(cleanup);
    const m = await migrationDir({
      '10_third.sql': 'INSERT INTO wgmtest_order VALUES (10);',
      '2_second.sql': 'INSERT INTO wgmtest_order VALUES (2);',
      '1_first.sql': 'CREATE TABLE wgmtest_order (n int, seq serial);',
      'README.md': 'not a migration',
    });
    t.teardown(m.remove);
    t.same((await migrate(db, m.dir, silent)).applied, ['1_first.sql', '2_second.sql', '10_third.sql']);
    const r = await db.query<{ n: number }>('SELECT n FROM wgmtest_order ORDER BY seq');
    t.same(r.rows.map((x) => x.n), [2, 10]);
  });
}

/** Checks of the file list that need no database. */
export function fileListChecks(t: Test): void {
  const cases: Array<{ name: string; files: Record<string, string>; error: RegExp }> = [
    { name: 'bad file name', files: { '001_a.sql': '', '002-b.sql': '' }, error: /002-b\.sql: name must be/ },
    { name: 'upper case name', files: { '001_A.sql': '' }, error: /001_A\.sql/ },
    { name: 'no number', files: { 'init.sql': '' }, error: /init\.sql/ },
    { name: 'duplicate number', files: { '001_a.sql': '', '1_b.sql': '' }, error: /share number 1/ },
  ];
  for (const c of cases) {
    t.test(`listMigrations refuses: ${c.name}`, async (t) => {
      const m = await migrationDir(c.files);
      t.teardown(m.remove);
      await t.rejects(listMigrations(m.dir), { code: 'WGM_ERR_STORE_MIGRATION', message: c.error });
    });
  }
  t.test('listMigrations: missing directory', async (t) => {
    await t.rejects(listMigrations('/nonexistent/wgmtest'), { code: 'WGM_ERR_STORE_MIGRATION' });
  });
  t.test('defaultMigrationsDir finds the repository folder', async (t) => {
    const dir = defaultMigrationsDir();
    t.ok((await readdir(dir)).includes('001_foundation.sql'));
  });
}
