// Db over PGlite: Postgres compiled to WASM (`wingman up` without DATABASE_URL), run in a worker thread of this
// process (core/store/pglite-worker.ts) so its CPU is not taken from the proxy's event loop. PGlite is a single
// connection, so every operation goes through one queue: a `query` issued while a transaction is open waits until
// it ends instead of slipping into it. Result shapes are aligned with `pg` (int8 as string, bytea as Buffer) and
// errors keep their fields (SQLSTATE in `.code`), so repositories behave the same on both stores.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import { wingmanError } from '../errors.js';
import type { Db, QueryResult, Tx } from './db.js';
import type { PgliteReply, PgliteRequest, PgliteWireError, PgliteWorkerData } from './pglite-worker.js';

export interface PgliteDbOptions {
  /** Directory for the database files; undefined = in memory (tests). */
  dataDir?: string;
  log?: Logger;
}

interface PgliteResult {
  rows: Record<string, unknown>[];
  affectedRows?: number;
}

function result<T>(r: PgliteResult): QueryResult<T> {
  // Bytes cross the thread boundary as Uint8Array: give callers the Buffer that node-postgres gives (no copy).
  for (const row of r.rows) {
    for (const k in row) {
      const v = row[k];
      if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    }
  }
  return { rows: r.rows as T[], rowCount: r.affectedRows ? r.affectedRows : r.rows.length };
}

/** The worker's error as the caller would have had it in-process: same message, same fields (code, detail, …). */
function unwire(e: PgliteWireError): Error {
  if (typeof e.fields.code === 'string' && e.fields.code.startsWith('WGM_ERR_')) {
    return wingmanError(e.fields.code as 'WGM_ERR_INTERNAL', e.message);
  }
  const err = Object.assign(new Error(e.message), e.fields);
  err.name = e.name;
  return err;
}

interface TxContext {
  db: PgliteDb;
  active: boolean;
}

// Marks code running inside one of our transactions, to refuse `db.query` there (it would wait for the
// transaction to end: a deadlock) rather than hang.
const inTransaction = new AsyncLocalStorage<TxContext>();

type Pending = { resolve(v: unknown): void; reject(e: unknown): void };

export class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  private tail: Promise<void> = Promise.resolve();
  private closed = false;
  /** why the worker is gone, once it is */
  private dead: Error | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(
    private readonly worker: Worker,
    private readonly log: Logger | undefined,
  ) {
    worker.on('message', (m: PgliteReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      // The worker keeps the process alive only while a caller waits for it (like a socket with a request out).
      if (this.pending.size === 0) worker.unref();
      if ('ok' in m) {
        if (m.ok) p.resolve(m.value);
        else p.reject(unwire(m.error));
      }
    });
    const gone = (why: Error) => {
      if (!this.dead) {
        this.dead = why;
        if (!this.closed) this.log?.error({ err: why.message }, 'embedded postgres worker stopped');
      }
      for (const p of this.pending.values()) p.reject(this.dead);
      this.pending.clear();
    };
    worker.on('error', (err) => gone(wingmanError('WGM_ERR_STORE_UNAVAILABLE', `embedded postgres failed: ${err.message}`, undefined, err)));
    worker.on('exit', (code) => gone(wingmanError('WGM_ERR_STORE_UNAVAILABLE', `embedded postgres stopped (exit ${code})`)));
  }

  static async open(opts: PgliteDbOptions = {}): Promise<PgliteDb> {
    if (opts.dataDir) await mkdir(opts.dataDir, { recursive: true });
    const started = Date.now();
    const worker = new Worker(new URL('./pglite-worker.js', import.meta.url), {
      workerData: { dataDir: opts.dataDir } satisfies PgliteWorkerData,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const onMessage = (m: PgliteReply) => {
          if (m.id !== 0 || !('ready' in m)) return;
          cleanup();
          if (m.ready) resolve();
          else reject(unwire(m.error));
        };
        const onError = (err: Error) => {
          cleanup();
          reject(err);
        };
        const onExit = (code: number) => {
          cleanup();
          reject(new Error(`worker exited (${code})`));
        };
        const cleanup = () => {
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
        };
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.on('exit', onExit);
      });
    } catch (err) {
      await worker.terminate();
      throw wingmanError('WGM_ERR_STORE_UNAVAILABLE', `embedded postgres failed to start: ${(err as Error).message}`, undefined, err);
    }
    worker.unref();
    opts.log?.info({ ms: Date.now() - started, persistent: Boolean(opts.dataDir) }, 'embedded postgres ready');
    return new PgliteDb(worker, opts.log);
  }

  /** Send one request to the worker; resolves with its answer. */
  private call(req: PgliteRequest): Promise<unknown> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      try {
        this.worker.postMessage(req);
      } catch (err) {
        // A parameter structured clone cannot carry (a function, a class with private state): the caller's error.
        reject(err);
        return;
      }
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(req.id, { resolve, reject });
    });
  }

  private id(): number {
    return this.nextId++;
  }

  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
    return this.exclusive(async () => result<T>((await this.call({ id: this.id(), op: 'query', sql, params })) as PgliteResult));
  }

  exec(sql: string): Promise<void> {
    return this.exclusive(async () => {
      await this.call({ id: this.id(), op: 'exec', sql });
    });
  }

  /** One connection, one worker: nothing to prepare per connection; the same as query(). */
  queryPrepared<T = Record<string, unknown>>(sql: string, params: unknown[]): Promise<QueryResult<T>> {
    return this.query<T>(sql, params);
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      const txId = (await this.call({ id: this.id(), op: 'begin' })) as number;
      const ctx: TxContext = { db: this, active: true };
      const guard = () => {
        if (!ctx.active) throw wingmanError('WGM_ERR_INTERNAL', 'transaction handle used after the transaction ended');
      };
      const tx: Tx = {
        query: async <R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>> => {
          guard();
          return result<R>((await this.call({ id: this.id(), op: 'query', sql, params, tx: txId })) as PgliteResult);
        },
        exec: async (sql: string): Promise<void> => {
          guard();
          await this.call({ id: this.id(), op: 'exec', sql, tx: txId });
        },
      };
      let value: T;
      try {
        value = await inTransaction.run(ctx, () => fn(tx));
      } catch (err) {
        ctx.active = false;
        await this.call({ id: this.id(), op: 'rollback', tx: txId }).catch(() => undefined);
        throw err;
      }
      ctx.active = false;
      await this.call({ id: this.id(), op: 'commit', tx: txId });
      return value;
    });
  }

  async ping(): Promise<boolean> {
    if (this.closed || this.dead) return false;
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
    // Let queued work finish, then flush and close the files, then end the thread.
    await this.tail;
    if (!this.dead) {
      try {
        await this.call({ id: this.id(), op: 'close' });
      } finally {
        await this.worker.terminate();
      }
    }
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
