// Chooses the store from configuration: Postgres when DATABASE_URL is set, else embedded PGlite under
// WINGMAN_DATA_DIR/pgdata. Either way the schema is brought up to date before the handle is returned.
import path from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Db } from './db.js';
import { defaultMigrationsDir, migrate } from './migrate.js';
import { PgDb } from './pg-db.js';
import { PgliteDb } from './pglite-db.js';

export interface OpenDbOptions {
  /** default: the repository's migrations/ folder */
  migrationsDir?: string;
  /** default true; false only for tools that inspect a database without changing it */
  migrate?: boolean;
}

export async function openDb(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  log: Logger,
  opts: OpenDbOptions = {},
): Promise<Db> {
  const db: Db = config.databaseUrl
    ? new PgDb({ url: config.databaseUrl, log })
    : await PgliteDb.open({ dataDir: path.join(config.dataDir, 'pgdata'), log });
  if (opts.migrate === false) return db;
  try {
    const result = await migrate(db, opts.migrationsDir ?? defaultMigrationsDir(), log);
    log.info({ store: db.kind, applied: result.applied.length, skipped: result.skipped }, 'store ready');
    return db;
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
