// Db over PGlite: Postgres compiled to WASM, running inside this process (`wingman up` without DATABASE_URL).
// PGlite is a single connection, so every operation goes through one queue: a `query` issued while a transaction
// is open waits until it ends instead of slipping into it. Result shapes are aligned with `pg` (int8 as string,
// bytea as Buffer) so repositories behave the same on both.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir } from 'node:fs/promises';
import { PGlite, types, type Transaction } from '@electric-sql/pglite';
import type { Logger } from '../log.js';
import { wingmanError } from '../errors.js';
import type { Db, QueryResult, Tx } from './db.js';

export interface PgliteDbOptions {
  /** Directory for the database files; undefined = in memory (tests). */
  dataDir?: string;
  log?: Logger;
}

interface PgliteResult {
  rows: unknown[];
  affectedRows?: number;
}

function result<T>(r: PgliteResult): QueryResult<T> {
  return { rows: r.rows as T[], rowCount: r.affectedRows ? r.affectedRows : r.rows.length };
}

// Same JS types as node-postgres returns, so code and tests do not depend on which store is behind Db.
const PG_COMPATIBLE_PARSERS = {
  [types.INT8]: (v: string) => v,
  [types.BYTEA]: (v: string) => Buffer.from(v.startsWith('\\x') ? v.slice(2) : v, 'hex'),
};

interface TxContext {
  db: PgliteDb;
  active: boolean;
}

// Marks code running inside one of our transactions, to refuse `db.query` there (it would wait for the
// transaction to end: a deadlock) rather than hang.
const inTransaction = new AsyncLocalStorage<TxContext>();

export class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly pg: PGlite,
    private readonly log: Logger | undefined,
  ) {}

  static async open(opts: PgliteDbOptions = {}): Promise<PgliteDb> {
    if (opts.dataDir) await mkdir(opts.dataDir, { recursive: true });
    const started = Date.now();
    try {
      const pg = await PGlite.create(opts.dataDir, { parsers: PG_COMPATIBLE_PARSERS });
      opts.log?.info({ ms: Date.now() - started, persistent: Boolean(opts.dataDir) }, 'embedded postgres ready');
      return new PgliteDb(pg, opts.log);
    } catch (err) {
      throw wingmanError('WGM_ERR_STORE_UNAVAILABLE', `embedded postgres failed to start: ${(err as Error).message}`, undefined, err);
    }
  }

  query<T = Record<string, any>>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
    return this.exclusive(async () => result<T>(await this.pg.query(sql, params as any[] | undefined)));
  }

  exec(sql: string): Promise<void> {
    return this.exclusive(async () => {
      await this.pg.exec(sql);
    });
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.exclusive(() =>
      this.pg.transaction(async (raw: Transaction) => {
        const ctx: TxContext = { db: this, active: true };
        const guard = () => {
          if (!ctx.active) throw wingmanError('WGM_ERR_INTERNAL', 'transaction handle used after the transaction ended');
        };
        const tx: Tx = {
          async query<R = Record<string, any>>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
            guard();
            return result<R>(await raw.query(sql, params as any[] | undefined));
          },
          async exec(sql: string): Promise<void> {
            guard();
            await raw.exec(sql);
          },
        };
        try {
          return await inTransaction.run(ctx, () => fn(tx));
        } finally {
          ctx.active = false;
        }
      }),
    );
  }

  async ping(): Promise<boolean> {
    if (this.closed || this.pg.closed) return false;
    try {
      await this.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Let queued work finish, then flush and close the files.
    await this.tail;
    await this.pg.close();
    this.log?.info('embedded postgres closed');
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(wingmanError('WGM_ERR_STORE_UNAVAILABLE', 'database handle is closed'));
    const ctx = inTransaction.getStore();
    if (ctx?.db === this && ctx.active) {
      return Promise.reject(
        wingmanError('WGM_ERR_INTERNAL', 'db used inside db.transaction(): use the transaction handle (tx) instead'),
      );
    }
    const run = this.tail.then(fn);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}
