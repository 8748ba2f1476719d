// Migration runner: `migrations/NNN_name.sql`, applied in numeric order, each in its own transaction, recorded
// with a sha256 checksum in `wingman_migrations`. The same files run on Postgres and PGlite.
//
// Every step takes a transaction-scoped advisory lock on one fixed key, so two processes migrating the same
// database at once serialise: the second waits, then sees the file recorded and skips it. A transaction-scoped
// lock (not a session lock) is used because a pooled Db gives no guarantee two calls share a connection.
// A migration file must not contain BEGIN/COMMIT of its own.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.js';
import { isWingmanError, wingmanError } from '../errors.js';
import type { Db, Tx } from './db.js';

/** Advisory lock key for migrations: ASCII "WGMM". */
export const MIGRATION_LOCK_KEY = 0x57474d4d;

const FILE_NAME = /^(\d+)_([a-z0-9_]+)\.sql$/;

export interface MigrationFile {
  id: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  /** file names applied by this call, in order */
  applied: string[];
  /** how many files were already recorded */
  skipped: number;
}

interface AppliedRow {
  id: number;
  name: string;
  checksum: string;
}

/** Read and validate the migration files of `dir` (numeric order; unknown `.sql` names and duplicate numbers are errors). */
export async function listMigrations(dir: string): Promise<MigrationFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw wingmanError('WGM_ERR_STORE_MIGRATION', `cannot read migrations directory ${dir}`, undefined, err);
  }
  const files: MigrationFile[] = [];
  for (const file of names.filter((n) => n.endsWith('.sql'))) {
    const m = FILE_NAME.exec(file);
    if (!m) {
      // A mistyped name silently skipped would leave the schema behind the code.
      throw wingmanError('WGM_ERR_STORE_MIGRATION', `${file}: name must be NNN_lowercase_name.sql`, { file });
    }
    const bytes = await readFile(path.join(dir, file));
    files.push({
      id: Number(m[1]),
      name: m[2],
      file,
      sql: bytes.toString('utf8'),
      checksum: createHash('sha256').update(bytes).digest('hex'),
    });
  }
  files.sort((a, b) => a.id - b.id);
  for (let i = 1; i < files.length; i++) {
    if (files[i].id === files[i - 1].id) {
      throw wingmanError('WGM_ERR_STORE_MIGRATION', `${files[i - 1].file} and ${files[i].file} share number ${files[i].id}`, {
        file: files[i].file,
      });
    }
  }
  return files;
}

async function lock(tx: Tx): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
}

function checkChecksum(file: MigrationFile, row: AppliedRow): void {
  if (row.checksum !== file.checksum) {
    throw wingmanError(
      'WGM_ERR_STORE_MIGRATION',
      `${file.file} was changed after it was applied (recorded sha256 ${row.checksum}, file sha256 ${file.checksum}); add a new migration instead`,
      { file: file.file },
    );
  }
}

function wrap(err: unknown, file: string): unknown {
  // Keep "store unavailable" as is: callers fail closed on that code whatever the step.
  if (isWingmanError(err)) return err;
  return wingmanError('WGM_ERR_STORE_MIGRATION', `${file}: ${(err as Error).message}`, { file }, err);
}

/** Apply every not yet applied file of `dir` to `db`. Safe to run concurrently from several processes. */
export async function migrate(db: Db, dir: string, log?: Logger): Promise<MigrateResult> {
  const files = await listMigrations(dir);
  let appliedRows: AppliedRow[];
  try {
    appliedRows = await db.transaction(async (tx) => {
      await lock(tx);
      await tx.exec(`CREATE TABLE IF NOT EXISTS wingman_migrations (
        id int PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      return (await tx.query<AppliedRow>('SELECT id, name, checksum FROM wingman_migrations ORDER BY id')).rows;
    });
  } catch (err) {
    throw wrap(err, 'wingman_migrations');
  }

  // Refuse before applying anything when history was rewritten.
  const byId = new Map(appliedRows.map((r) => [r.id, r]));
  for (const f of files) {
    const row = byId.get(f.id);
    if (row) checkChecksum(f, row);
  }
  const known = new Set(files.map((f) => f.id));
  for (const row of appliedRows) {
    if (!known.has(row.id)) {
      log?.warn({ id: row.id, name: row.name }, 'database has a migration this code does not know (newer schema?)');
    }
  }

  const applied: string[] = [];
  let skipped = 0;
  for (const f of files) {
    if (byId.has(f.id)) {
      skipped++;
      continue;
    }
    const started = Date.now();
    let didApply: boolean;
    try {
      didApply = await db.transaction(async (tx) => {
        await lock(tx);
        // Another process may have applied it while we waited for the lock.
        const again = await tx.query<AppliedRow>('SELECT id, name, checksum FROM wingman_migrations WHERE id = $1', [f.id]);
        if (again.rows[0]) {
          checkChecksum(f, again.rows[0]);
          return false;
        }
        await tx.exec(f.sql);
        await tx.query('INSERT INTO wingman_migrations (id, name, checksum) VALUES ($1, $2, $3)', [f.id, f.name, f.checksum]);
        return true;
      });
    } catch (err) {
      throw wrap(err, f.file);
    }
    if (didApply) {
      applied.push(f.file);
      log?.info({ file: f.file, ms: Date.now() - started }, 'migration applied');
    } else {
      skipped++;
    }
  }
  return { applied, skipped };
}

/** The repository's `migrations/` folder, found by walking up from this module (works from source and dist/). */
export function defaultMigrationsDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'migrations');
    if (existsSync(path.join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw wingmanError('WGM_ERR_STORE_MIGRATION', 'cannot find the migrations directory');
    dir = parent;
  }
}
