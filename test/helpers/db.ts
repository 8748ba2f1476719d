// Per-test-file Postgres databases: `wgmtest_<pid>_<hex>` created on the test server and dropped at the end,
// so tests never see each other's rows or a developer's data. The pid lets scripts/test.mjs drop leftovers of
// test processes that died before their teardown.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createLogger } from '../../core/log.js';
import { migrate, defaultMigrationsDir } from '../../core/store/migrate.js';
import { PgDb } from '../../core/store/pg-db.js';
import { testEnv } from './env.js';

export interface TestDatabase {
  name: string;
  url: string;
  drop: () => Promise<void>;
}

function withDatabase(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testEnv().databaseUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `wgmtest_${process.pid}_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  let dropped = false;
  return {
    name,
    url: withDatabase(testEnv().databaseUrl, name),
    async drop() {
      if (dropped) return;
      dropped = true;
      // FORCE ends connections a failed test left open.
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

export interface MigratedTestDb extends TestDatabase {
  db: PgDb;
}

/** A fresh database with every migration applied and a PgDb on it; drop() closes the handle and the database. */
export async function migratedTestDb(): Promise<MigratedTestDb> {
  const tdb = await createTestDatabase();
  const db = new PgDb({ url: tdb.url });
  try {
    await migrate(db, defaultMigrationsDir(), createLogger({ level: 'silent' }));
  } catch (err) {
    await db.close();
    await tdb.drop();
    throw err;
  }
  return {
    ...tdb,
    db,
    async drop() {
      await db.close();
      await tdb.drop();
    },
  };
}
