// Db over a `pg` Pool (a real Postgres server). Connection-level failures become WGM_ERR_STORE_UNAVAILABLE so
// callers can fail closed on one code; SQL errors (constraint violations, the append-only trigger, ...) pass
// through untouched with their SQLSTATE in `.code`, because repositories branch on those.
import { createHash } from 'node:crypto';
import { answersWithin } from '../util/answers-within.js';
import pg from 'pg';
import type { Logger } from '../log.js';
import { isWingmanError, wingmanError } from '../errors.js';
import type { Db, QueryResult, Tx } from './db.js';

export interface PgDbOptions {
  url: string;
  log?: Logger;
  /** How long to wait for a connection before failing (default 2000 ms): a dead server must not hang callers. */
  connectionTimeoutMs?: number;
  /** Pool size (default 10). */
  max?: number;
  /** Server-side statement_timeout in ms (default none). */
  statementTimeoutMs?: number;
  /** How long ping() waits for `SELECT 1` (default 2000 ms). */
  pingTimeoutMs?: number;
}

// Node socket errors and pg client messages that mean "the server is not there", not "your SQL is wrong".
const NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
  'ENOENT',
]);
const NET_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'connection error and is not queryable',
  'Cannot use a pool after calling end',
  'Client was closed and is not queryable',
  'connect ECONNREFUSED',
];
// SQLSTATEs where the server answered but cannot serve us: connection exceptions (08), shutdown/starting (57P0x),
// too many connections, auth failure (28), missing database (3D000).
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[1-3]|53300|28...|3D000)$/;

export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (NET_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  if (err instanceof AggregateError && err.errors.some(isConnectionError)) return true;
  return NET_MESSAGES.some((m) => err.message.includes(m));
}

function mapError(err: unknown): unknown {
  if (isWingmanError(err)) return err;
  if (isConnectionError(err)) {
    const e = err as Error & { code?: string };
    return wingmanError('WGM_ERR_STORE_UNAVAILABLE', e.message || e.code || 'connection failed', { cause: e.code }, err);
  }
  return err;
}

function result<T>(r: pg.QueryResult): QueryResult<T> {
  return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
}

const names = new Map<string, string>();
/** A short stable name for a prepared statement's text (pg keys prepared statements by name per connection). */
function statementName(sql: string): string {
  let n = names.get(sql);
  if (!n) {
    n = `wgm_bulk_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
    names.set(sql, n);
  }
  return n;
}

export class PgDb implements Db {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly log: Logger | undefined;
  private readonly pingTimeoutMs: number;
  private closed = false;

  constructor(opts: PgDbOptions) {
    this.log = opts.log;
    this.pingTimeoutMs = opts.pingTimeoutMs ?? 2000;
    this.pool = new pg.Pool({
      connectionString: opts.url,
      connectionTimeoutMillis: opts.connectionTimeoutMs ?? 2000,
      max: opts.max ?? 10,
      idleTimeoutMillis: 30_000,
      application_name: 'wingman',
      ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
    });
    // An idle client losing its server emits here; unhandled it would crash the process.
    this.pool.on('error', (err) => {
      this.log?.warn({ err }, 'postgres idle client error');
    });
  }

  async query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
    this.assertOpen();
    try {
      return result<T>(await this.pool.query(sql, params));
    } catch (err) {
      throw mapError(err);
    }
  }

  async queryPrepared<T = Record<string, unknown>>(sql: string, params: unknown[]): Promise<QueryResult<T>> {
    this.assertOpen();
    try {
      // A named statement is parsed and planned once per pooled connection, then only bound and executed.
      return result<T>(await this.pool.query({ name: statementName(sql), text: sql, values: params }));
    } catch (err) {
      throw mapError(err);
    }
  }

  async exec(sql: string): Promise<void> {
    this.assertOpen();
    try {
      // No parameters → simple query protocol, which accepts several statements.
      await this.pool.query(sql);
    } catch (err) {
      throw mapError(err);
    }
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    this.assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw mapError(err);
    }
    let finished = false;
    // pg-pool removes its error listener from a checked-out client: if the server drops the connection while
    // fn() is between queries, the client's 'error' event would be unhandled and crash the process. Record it
    // instead; the next query on the client fails and the transaction rejects.
    let lost: Error | undefined;
    const onError = (err: Error) => {
      lost = err;
      this.log?.warn({ err }, 'postgres connection lost during a transaction');
    };
    client.on('error', onError);
    const guard = () => {
      if (finished) throw wingmanError('WGM_ERR_INTERNAL', 'transaction handle used after the transaction ended');
      if (lost) throw mapError(lost);
    };
    const tx: Tx = {
      async query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
        guard();
        try {
          return result<R>(await client.query(sql, params));
        } catch (err) {
          throw mapError(err);
        }
      },
      async exec(sql: string): Promise<void> {
        guard();
        try {
          await client.query(sql);
        } catch (err) {
          throw mapError(err);
        }
      },
    };
    try {
      await client.query('BEGIN');
      const value = await fn(tx);
      await client.query('COMMIT');
      finished = true;
      client.removeListener('error', onError);
      client.release();
      return value;
    } catch (err) {
      finished = true;
      let broken: Error | undefined = lost;
      if (!broken) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          // The connection is unusable: destroy it instead of returning it to the pool.
          broken = rollbackErr as Error;
        }
      }
      client.removeListener('error', onError);
      client.release(broken ?? undefined);
      throw mapError(err);
    }
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    return answersWithin(() => this.pool.query('SELECT 1'), this.pingTimeoutMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private assertOpen(): void {
    if (this.closed) throw wingmanError('WGM_ERR_STORE_UNAVAILABLE', 'database handle is closed');
  }
}
