// The one storage interface. PgDb (Postgres through `pg`) and PgliteDb (embedded, for `wingman up` without
// DATABASE_URL) both implement it; every repository writes plain Postgres SQL with $1 parameters against it.

import { asText } from '../util/as-text.js';

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
}

/** A transaction's handle: queries plus multi-statement SQL (migration files run inside one). */
export interface Tx extends Queryable {
  exec(sql: string): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Run fn inside BEGIN/COMMIT on one connection; ROLLBACK and rethrow on error. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Multi-statement SQL without parameters (migration files). */
  exec(sql: string): Promise<void>;
  /**
   * query() for a statement run over and over (the gate's decision statement): Postgres parses and plans it once
   * per connection instead of on every call. Same results and errors as query().
   */
  queryPrepared<T = Record<string, unknown>>(sql: string, params: unknown[]): Promise<QueryResult<T>>;
  /** true when the store answers a trivial query within a short time. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The store refused what it was given (SQLSTATE class 22 data exception, 23 integrity violation), not the connection:
 * the caller's input is at fault, and retrying the same statement cannot succeed.
 */
export function isDataError(err: unknown): boolean {
  return /^2[23]/.test(asText((err as { code?: unknown }).code, ''));
}
