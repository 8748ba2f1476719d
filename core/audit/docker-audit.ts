// The Docker execution audit: one append-only row per call the proxy saw. Rows are batched off the hot path;
// a batch the store refuses is spooled to disk (fsynced) and replayed when the store is back, so nothing is lost
// to an outage. (A crash loses at most the rows of the current in-memory batch: at most FLUSH_MS of calls.)
import { randomUUID } from 'node:crypto';
import type { Bus } from '../bus/bus.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Db } from '../store/db.js';
import { JsonlSpool } from './jsonl-spool.js';

export interface DockerAuditRecord {
  id: string;
  at: string;
  worker: string;
  method: string;
  route: string;
  path: string;
  rule: string;
  decision: string;
  mode: string;
  would?: string | null;
  approval_id?: string | null;
  approved_by?: string | null;
  status_code?: number | null;
  duration_ms?: number | null;
  bytes_in: number;
  bytes_out: number;
  reason?: string | null;
  argv?: string[] | null;
}

const FLUSH_MS = 25;
const BATCH = 200;
const REPLAY_MS = 2_000;
const COLUMNS = [
  'id', 'at', 'worker', 'method', 'route', 'path', 'rule', 'decision', 'mode', 'would', 'approval_id', 'approved_by',
  'status_code', 'duration_ms', 'bytes_in', 'bytes_out', 'reason', 'argv',
] as const;

export class DockerAudit {
  private queue: DockerAuditRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private replayTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Db,
    private readonly spool: JsonlSpool<DockerAuditRecord>,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
    private readonly bus?: Bus,
  ) {
    metrics?.auditSpooled.set(spool.count());
  }

  static newRecord(fields: Omit<DockerAuditRecord, 'id' | 'at'>): DockerAuditRecord {
    return { id: randomUUID(), at: new Date().toISOString(), ...fields };
  }

  record(r: DockerAuditRecord): void {
    this.queue.push(r);
    if (this.queue.length >= BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
    if (this.bus && r.method !== 'GET' && r.method !== 'HEAD') {
      void this.bus
        .publish('docker.executed', { id: r.id, worker: r.worker, rule: r.rule, decision: r.decision, status: r.status_code ?? null })
        .catch(() => undefined);
    }
  }

  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue.splice(0);
    if (batch.length === 0) return this.flushing;
    this.flushing = this.flushing.then(() => this.write(batch));
    return this.flushing;
  }

  private async write(batch: DockerAuditRecord[]): Promise<void> {
    try {
      await this.insert(batch);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, rows: batch.length }, 'audit store write failed; spooling');
      try {
        await this.spool.append(batch);
        this.metrics?.auditSpooled.inc(batch.length);
      } catch (spoolErr) {
        // Disk full or unwritable: keep them in memory for the next attempt rather than drop them.
        this.log.error({ err: (spoolErr as Error).message }, 'audit spool write failed; keeping rows in memory');
        this.queue.unshift(...batch);
      }
    }
  }

  private async insert(rows: DockerAuditRecord[]): Promise<void> {
    const params: unknown[] = [];
    const tuples = rows.map((r) => {
      const base = params.length;
      for (const c of COLUMNS) {
        const v = r[c];
        params.push(c === 'argv' ? (v == null ? null : JSON.stringify(v)) : (v ?? null));
      }
      return '(' + COLUMNS.map((_, i) => `$${base + i + 1}`).join(', ') + ')';
    });
    await this.db.query(
      `INSERT INTO docker_audit (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (id) DO NOTHING`,
      params,
    );
  }

  /** Write spooled rows to the store; returns how many were replayed (0 when the spool is empty). */
  async replaySpool(): Promise<number> {
    const n = await this.spool.replay(async (records) => {
      for (let i = 0; i < records.length; i += BATCH) await this.insert(records.slice(i, i + BATCH));
    });
    if (n > 0) {
      this.log.info({ rows: n }, 'replayed spooled audit rows');
      this.metrics?.auditSpooled.set(this.spool.count());
    }
    return n;
  }

  start(): void {
    this.replayTimer ??= setInterval(() => {
      if (this.spool.count() > 0) this.replaySpool().catch(() => undefined);
    }, REPLAY_MS);
    this.replayTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.replayTimer) clearInterval(this.replayTimer);
    this.replayTimer = undefined;
    await this.flush();
  }

  async query(filter: { worker?: string; limit?: number; since?: string } = {}): Promise<Record<string, unknown>[]> {
    const { rows } = await this.db.query(
      `SELECT * FROM docker_audit WHERE ($1::text IS NULL OR worker = $1) AND ($2::timestamptz IS NULL OR at >= $2)
        ORDER BY at DESC LIMIT $3`,
      [filter.worker ?? null, filter.since ?? null, Math.min(filter.limit ?? 100, 1000)],
    );
    return rows;
  }
}
