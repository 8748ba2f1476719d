// Group commit of gate decisions. Each /check used to wait for its own INSERT and its own commit (a WAL flush);
// under load the decisions that arrive while one statement is in flight are stored together by the next, one
// statement and one commit for all of them. Every caller still waits for the commit that holds its row: nothing
// is answered before it is on record, and a batch the store refuses fails every caller in it (503, fail closed).
//
// The same statement re-reads the worker's lockdown (FOR KEY SHARE on the workers row, which a lockdown takes
// FOR UPDATE): a batch either commits before a concurrent lock or sees it, in which case nothing in it is stored
// and every caller gets 423. So an approval never rests on a cached "not locked" (core/lockdown/worker-lock-cache.ts
// is only the early refusal), and no approval is stored after the lock that should have stopped it.
//
// Batches are formed without a timer: the first decision starts a statement on the next turn of the event loop
// (whatever arrived in the same turn joins it), and what arrives while it runs waits for the next one. At low load
// a decision is stored alone, as before.
import { randomUUID } from 'node:crypto';
import { wingmanError } from '../errors.js';
import type { GateResult } from '../gate/index.js';
import type { LockReadToken, LockStatus } from '../lockdown/worker-lock-cache.js';
import type { Metrics } from '../metrics.js';
import { isDataError, type Db } from '../store/db.js';

/** What a caller needs of its stored row. */
export interface StoredDecision {
  id: string;
  decided_at: Date;
  test_process: string | null;
}

/** Where the lock state each statement read goes (the sidecar's WorkerLockCache). */
export interface LockObserver {
  token(): LockReadToken;
  remember(status: LockStatus, token: LockReadToken): void;
}

export interface DecisionBatcherOptions {
  db: Db;
  /** the sidecar's worker: every decision is filed under it */
  worker: string;
  lock?: LockObserver;
  metrics?: Metrics;
  /** decisions per statement at most (default 64) */
  maxBatch?: number;
  /** statements in flight at most (default 1: a second would only share the WAL flush of the first) */
  maxInFlight?: number;
}

interface Pending {
  row: unknown[];
  stored: StoredDecision;
  resolve: (d: StoredDecision) => void;
  reject: (err: unknown) => void;
}

// One row per decision from column arrays; created_at is the store's clock per row (clock_timestamp(), not the
// statement's now()), so rows keep the order the decisions were made in, as when each had its own statement.
const STORE_SQL = `
WITH lk AS MATERIALIZED (
  SELECT locked, locked_reason FROM workers WHERE name = $1 FOR KEY SHARE
), stored AS (
  INSERT INTO instructions (id, worker, decision, approved, score, missing_sections, weak_sections, weak_reasons,
                            violations, instruction, test_process, decided_at, created_at)
  SELECT d.id, $1, d.decision, d.approved, d.score, d.missing_sections, d.weak_sections, d.weak_reasons,
         d.violations, d.instruction, d.test_process, d.decided_at, clock_timestamp()
    FROM unnest($2::uuid[], $3::text[], $4::bool[], $5::int4[], $6::jsonb[], $7::jsonb[], $8::jsonb[], $9::jsonb[],
                $10::text[], $11::text[], $12::timestamptz[]) WITH ORDINALITY
         AS d(id, decision, approved, score, missing_sections, weak_sections, weak_reasons, violations, instruction,
              test_process, decided_at, n)
   WHERE NOT EXISTS (SELECT 1 FROM lk WHERE locked)
   ORDER BY d.n
  RETURNING 1
)
SELECT COALESCE((SELECT locked FROM lk), false) AS locked, (SELECT locked_reason FROM lk) AS reason,
       (SELECT count(*) FROM stored)::int AS stored`;

const COLUMNS = 11;

export class DecisionBatcher {
  private readonly pending: Pending[] = [];
  private inFlight = 0;
  private inStatements = 0;
  private scheduled = false;
  private readonly maxBatch: number;
  private readonly maxInFlight: number;

  constructor(private readonly o: DecisionBatcherOptions) {
    this.maxBatch = o.maxBatch ?? 64;
    this.maxInFlight = o.maxInFlight ?? 1;
  }

  /**
   * Store one decision (`decidedAt` is the sidecar's clock). Resolves once the commit that holds it is done.
   * Throws WGM_ERR_WORKER_LOCKED when the worker is locked at that commit (nothing stored), and the store's error
   * (WGM_ERR_STORE_UNAVAILABLE → 503) when it could not be stored.
   */
  record(result: GateResult, decidedAt: Date = new Date()): Promise<StoredDecision> {
    const stored: StoredDecision = { id: randomUUID(), decided_at: decidedAt, test_process: result.test_process ?? null };
    const row = [
      stored.id,
      result.decision,
      result.approved,
      result.score,
      JSON.stringify(result.missing_sections),
      JSON.stringify(result.weak_sections),
      JSON.stringify(result.weak_reasons),
      JSON.stringify(result.violations),
      result.redacted_instruction,
      stored.test_process,
      decidedAt.toISOString(),
    ];
    return new Promise<StoredDecision>((resolve, reject) => {
      this.pending.push({ row, stored, resolve, reject });
      this.schedule();
    });
  }

  /** decisions waiting for a statement */
  get waiting(): number {
    return this.pending.length;
  }

  /** decisions in statements not yet answered */
  get storing(): number {
    return this.inStatements;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.pending.length === 0) return;
    this.scheduled = true;
    // The next turn, not now: decisions finishing in this turn join the statement.
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.maxInFlight && this.pending.length) void this.run(this.pending.splice(0, this.maxBatch));
    });
  }

  private async run(batch: Pending[]): Promise<void> {
    this.inFlight++;
    this.inStatements += batch.length;
    this.o.metrics?.gateCommitBatch.observe(batch.length);
    try {
      await this.store(batch);
    } catch (err) {
      if (batch.length > 1 && isDataError(err)) {
        // One decision the store refuses as data must not fail the others: each alone, each with its own answer.
        for (const p of batch) await this.store([p]).catch((e: unknown) => p.reject(e));
      } else {
        for (const p of batch) p.reject(err);
      }
    } finally {
      this.inFlight--;
      this.inStatements -= batch.length;
      this.schedule();
    }
  }

  /** One statement for the batch; settles every caller in it unless the statement throws. */
  private async store(batch: Pending[]): Promise<void> {
    const params: unknown[] = [this.o.worker];
    for (let c = 0; c < COLUMNS; c++) params.push(batch.map((p) => p.row[c]));
    const token = this.o.lock?.token();
    const { rows } = await this.o.db.queryPrepared<{ locked: boolean; reason: string | null; stored: number }>(STORE_SQL, params);
    const r = rows[0];
    if (!r) throw wingmanError('WGM_ERR_INTERNAL', 'decision statement returned no row');
    if (token) this.o.lock!.remember({ locked: r.locked, reason: r.reason }, token);
    if (r.locked) {
      const reason = r.reason ?? null;
      for (const p of batch) {
        p.reject(wingmanError('WGM_ERR_WORKER_LOCKED', `worker ${this.o.worker} is locked down: ${reason ?? 'no reason given'}`, { reason }));
      }
      return;
    }
    if (r.stored !== batch.length) throw wingmanError('WGM_ERR_INTERNAL', `decision statement stored ${r.stored} of ${batch.length} rows`);
    for (const p of batch) p.resolve(p.stored);
  }
}
