// The Docker execution audit: one append-only row per call. Every record goes first to a local append-only log,
// written synchronously (core/audit/segment-log.ts): a call's intent before it is forwarded, its outcome after. A
// shipper tails that log into the store in batches. A process killed mid-call loses nothing the client saw: at the
// next start the log is read again, finished calls are written, and a call whose outcome never came is written as
// interrupted. A store that is down just leaves the log growing until it is back.
import { randomUUID } from 'node:crypto';
import type { Bus } from '../bus/bus.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { DrainLoop, type RoundResult } from '../queue/drain-loop.js';
import { isDataError, type Db } from '../store/db.js';
import { SegmentLog } from './segment-log.js';

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

/** A log line: the intent of a call about to be forwarded, or the record of how it (or a refusal) ended. */
type Entry = { k: 'i'; r: DockerAuditRecord } | { k: 'o'; r: DockerAuditRecord };

/** a record waits this long for others to ship with it */
const FLUSH_MS = 25;
const BATCH = 200;
/** docker_audit's columns (migrations/002_proxy.sql), each a field of DockerAuditRecord of the same name. */
const COLUMNS = [
  'id', 'at', 'worker', 'method', 'route', 'path', 'rule', 'decision', 'mode', 'would', 'approval_id', 'approved_by',
  'status_code', 'duration_ms', 'bytes_in', 'bytes_out', 'reason', 'argv',
].join(', ');
/**
 * A batch in one statement of the same text whatever its size: the rows as one JSON array, which Postgres takes
 * apart into the table's own column types (no value converted in JavaScript, where a per-value conversion of 18
 * columns cost the proxy more than the rest of shipping). Exported for bench/audit-writes.ts, which makes the same writes.
 */
export const AUDIT_INSERT = `INSERT INTO docker_audit (${COLUMNS}) SELECT ${COLUMNS} FROM jsonb_populate_recordset(NULL::docker_audit, $1::jsonb) ON CONFLICT (id) DO NOTHING`;

/** Postgres keeps no NUL in text or jsonb: a caller's NUL byte (a path with %00) is kept as U+FFFD. */
const storable = (s: string): string => (s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s);
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * The rows as a JSON array jsonb takes. JSON.stringify writes a NUL as \u0000 and a lone surrogate as \udXXX, both of
 * which jsonb refuses: the rare batch with one is written again with those kept as U+FFFD.
 */
export function rowsJson(rows: readonly DockerAuditRecord[]): string {
  const json = JSON.stringify(rows);
  if (!json.includes('\\u0000') && !/\\ud[89a-f]/i.test(json)) return json;
  return JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'string' ? storable(v).replace(LONE_SURROGATE, '\uFFFD') : v));
}

export const INTERRUPTED = 'outcome unknown: the process stopped before the call finished';

export class DockerAudit {
  private readonly log: SegmentLog<Entry>;
  /** intents read from the log whose outcome has not been read yet: id → segment */
  private readonly open = new Map<string, number>();
  /** outcomes read from the log, not yet in the store: [segment, record] */
  private batch: Array<[number, DockerAuditRecord]> = [];
  /** records the log could not take (disk full): written to the store directly */
  private unlogged: DockerAuditRecord[] = [];
  /** ships the log to the store: one round at a time, retried with backoff while the store is down */
  private readonly shipper: DrainLoop;
  private failing = false;

  constructor(
    private readonly db: Db,
    dir: string,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
    private readonly bus?: Bus,
  ) {
    this.log = new SegmentLog<Entry>(dir);
    this.shipper = new DrainLoop({
      queue: 'docker_audit',
      round: () => this.ship(),
      gatherMs: FLUSH_MS,
      backoff: { baseMs: 250, maxMs: 2_000 },
      onError: (err) => {
        if (!this.failing) this.logger.warn({ err: (err as Error).message }, 'audit store write failed; rows stay in the local log');
        this.failing = true;
      },
      metrics,
    });
    // What an earlier run left is shipped first.
    this.shipper.kick(0);
  }

  static newRecord(fields: Omit<DockerAuditRecord, 'id' | 'at'> & { id?: string }): DockerAuditRecord {
    return { ...fields, id: fields.id ?? randomUUID(), at: new Date().toISOString() };
  }

  /**
   * Log that a call is about to be forwarded: settles once the line is written (with the other lines of this turn of
   * the event loop). Rejects when the log cannot be written: the caller refuses the call rather than run it unaudited.
   */
  intent(r: DockerAuditRecord): Promise<void> {
    return new Promise((resolve, reject) => this.log.enqueue({ k: 'i', r }, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * Log how a call (or a refusal) ended; shipped to the store shortly. Settles once the line is written (with the other
   * lines of this turn of the event loop), or, when the log cannot take it, once the row is kept for the store: a
   * refusal whose call left no intent awaits this before its answer goes out, so a process killed in between has not
   * answered a call it left no row of. A call's outcome (its intent is logged) need not be awaited.
   */
  record(r: DockerAuditRecord): Promise<void> {
    return new Promise((resolve) => {
      this.log.enqueue({ k: 'o', r }, (err) => {
        if (err) this.unlog(r, err);
        resolve();
      });
      this.afterRecord(r);
    });
  }

  /** record(), written before it returns: for refusals answered from a handler that cannot wait (no call was made). */
  recordNow(r: DockerAuditRecord): void {
    try {
      this.log.append({ k: 'o', r });
    } catch (err) {
      this.unlog(r, err as Error);
    }
    this.afterRecord(r);
  }

  /** The call has happened; its row must not be lost because the disk is full: straight to the store. */
  private unlog(r: DockerAuditRecord, err: Error): void {
    this.logger.error({ err: err.message }, 'audit log write failed; writing the row to the store directly');
    this.unlogged.push(r);
    this.shipper.kick(0);
  }

  private afterRecord(r: DockerAuditRecord): void {
    this.shipper.kick(this.batch.length >= BATCH ? 0 : FLUSH_MS);
    if (this.bus && r.method !== 'GET' && r.method !== 'HEAD') {
      void this.bus
        .publish('docker.executed', { id: r.id, worker: r.worker, rule: r.rule, decision: r.decision, status: r.status_code ?? null })
        .catch(() => undefined);
    }
  }

  /** Ship everything logged so far to the store (once; a store that is down leaves it in the log). */
  flush(): Promise<void> {
    return this.shipper.flush();
  }

  /** One round: ship what the log holds, batch by batch; a store error ends the round (the loop backs off). */
  private async ship(): Promise<RoundResult> {
    try {
      let inserted = false;
      let result: RoundResult = 'idle';
      for (;;) {
        if (this.unlogged.length) {
          await this.insert(this.unlogged.slice(0, BATCH));
          this.unlogged.splice(0, BATCH);
          continue;
        }
        if (this.batch.length < BATCH) this.readMore();
        if (this.batch.length === 0) break;
        // Past a round's first insert, a partial batch (the rows logged during that insert) waits to gather more,
        // unless a flush waits on it: under load the rows go in batches, not in one insert per round trip.
        if (inserted && this.batch.length < BATCH && !this.shipper.flushAsked) {
          result = { waitMs: FLUSH_MS };
          break;
        }
        inserted = true;
        const take = this.batch.slice(0, BATCH);
        await this.insert(take.map(([, r]) => r));
        this.batch.splice(0, take.length);
        if (this.failing) this.logger.info('audit store writable again; the log is being shipped');
        this.failing = false;
      }
      this.log.release((seq) => this.needed(seq));
      return result;
    } finally {
      const spooled = this.batch.length + this.open.size + this.unlogged.length;
      this.metrics?.auditSpooled.set(spooled);
      this.shipper.setBacklog(spooled);
    }
  }

  private readMore(): void {
    for (const { seq, value } of this.log.read(BATCH * 2)) {
      if (value.k === 'i') {
        this.open.set(value.r.id, seq);
        if (seq < this.log.firstOwnSeq) this.earlierIntents.set(value.r.id, value.r);
      } else {
        this.open.delete(value.r.id);
        this.earlierIntents.delete(value.r.id);
        this.batch.push([seq, value.r]);
      }
    }
    this.closeOrphans();
  }

  private orphansClosed = false;
  /** intents logged by an earlier run whose outcome has not been read (yet) */
  private readonly earlierIntents = new Map<string, DockerAuditRecord>();

  /**
   * An intent of an earlier run whose outcome is not in the log will never get one: once every segment of that
   * run has been read, it is written as interrupted (the call may or may not have run; the row says which call).
   */
  private closeOrphans(): void {
    if (this.orphansClosed || !this.log.earlierRunsRead()) return;
    this.orphansClosed = true;
    for (const [id, seq] of [...this.open]) {
      if (seq >= this.log.firstOwnSeq) continue;
      this.open.delete(id);
      const r = this.earlierIntents.get(id);
      if (r) this.batch.push([seq, { ...r, status_code: null, reason: INTERRUPTED }]);
    }
    this.earlierIntents.clear();
  }

  private needed(seq: number): boolean {
    for (const s of this.open.values()) if (s === seq) return true;
    return this.batch.some(([s]) => s === seq);
  }

  private async insert(rows: DockerAuditRecord[]): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.insertRows(rows);
    } catch (err) {
      // The store refused what it was given, not the connection (SQLSTATE classes 22 data, 23 integrity): one bad row
      // must not hold up the log forever. Row by row; a row the store still refuses is kept in a form it takes.
      if (!isDataError(err)) throw err;
      for (const r of rows) {
        await this.insertRows([r]).catch(async (e: unknown) => {
          if (!isDataError(e)) throw e;
          await this.insertRows([{ ...r, path: '', argv: null, reason: `the row as logged could not be stored: ${(e as Error).message.slice(0, 200)}` }]);
        });
      }
    }
  }

  private async insertRows(rows: DockerAuditRecord[]): Promise<void> {
    await this.db.queryPrepared(AUDIT_INSERT, [rowsJson(rows)]);
  }

  /** Records in the local log that the store does not have yet (read or not). */
  backlog(): number {
    return this.batch.length + this.open.size + this.unlogged.length + (this.log.backlogBytes() > 0 ? 1 : 0);
  }

  start(): void {
    this.shipper.kick(0);
  }

  async stop(): Promise<void> {
    await this.flush();
    await this.shipper.stop();
    this.log.close();
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
