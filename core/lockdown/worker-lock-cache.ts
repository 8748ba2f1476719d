// The sidecar's view of its worker's lockdown, so /check need not read the workers row for every instruction.
// It only decides whether to refuse early (423 before judging): the lock that counts is re-read by the statement
// that stores the decision (core/instructions/decision-batcher.ts), so no approval can rest on what this holds.
//
// What it holds is dropped the moment `worker.locked` / `worker.unlocked` names the worker, and is trusted only:
//   - within one unbroken stretch of the bus watch (Unwatch.session): after Redis was away or restarted the events
//     of that time may never arrive, so the next answer comes from the store again;
//   - for maxAgeMs after the read began: a publisher that gave up (Redis away on its side only) sends nothing.
// A read that began before an event is not kept (the generation moved on), and callers that come after the event
// do not join it. With no trusted entry the store is read (one read shared by concurrent callers); a store that
// cannot be read throws WGM_ERR_STORE_UNAVAILABLE, and the caller refuses (fail closed).
import type { Bus, Unwatch } from '../bus/bus.js';
import type { Workers } from '../workers/workers.js';

export interface LockStatus {
  locked: boolean;
  reason: string | null;
}

/** When a read of the lock began: what it learns is kept only if nothing invalidated the cache since. */
export interface LockReadToken {
  generation: number;
  session: number | undefined;
  at: number;
}

export interface WorkerLockCacheOptions {
  worker: string;
  workers: Pick<Workers, 'get'>;
  bus: Bus;
  /** how long an answer is trusted without a newer read (default 1000 ms) */
  maxAgeMs?: number;
  now?: () => number;
}

export class WorkerLockCache {
  private entry: { status: LockStatus; token: LockReadToken } | undefined;
  private generation = 0;
  private reading: { generation: number; promise: Promise<LockStatus> } | undefined;
  private readonly unwatch: Unwatch;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(private readonly o: WorkerLockCacheOptions) {
    this.maxAgeMs = o.maxAgeMs ?? 1_000;
    this.now = o.now ?? Date.now;
    this.unwatch = o.bus.watch(['worker.locked', 'worker.unlocked'], (e) => {
      if (e.data.worker === o.worker) this.invalidate();
    });
  }

  /** Resolves once the watch reads: events published after this are seen. */
  get ready(): Promise<void> {
    return this.unwatch.ready;
  }

  /** The lock state: a trusted cached answer, else the store's. Throws WGM_ERR_STORE_UNAVAILABLE. */
  async get(): Promise<LockStatus> {
    const hit = this.trusted();
    if (hit) return hit;
    if (this.reading?.generation === this.generation) return this.reading.promise;
    const token = this.token();
    const promise = this.o.workers.get(this.o.worker).then((w) => {
      const status = { locked: w?.locked ?? false, reason: w?.locked_reason ?? null };
      this.remember(status, token);
      return status;
    });
    const reading = { generation: token.generation, promise };
    this.reading = reading;
    void promise.finally(() => {
      if (this.reading === reading) this.reading = undefined;
    }).catch(() => undefined);
    return promise;
  }

  /** Take before reading the lock elsewhere (the decision statement); hand back with what it said. */
  token(): LockReadToken {
    return { generation: this.generation, session: this.unwatch.session(), at: this.now() };
  }

  /** Keep what a read that began at `token` learned, unless an event or a break in the watch came since. */
  remember(status: LockStatus, token: LockReadToken): void {
    if (token.generation !== this.generation || token.session === undefined || token.session !== this.unwatch.session()) return;
    if (this.entry && this.entry.token.at > token.at) return; // a later read already answered
    this.entry = { status: { ...status }, token };
  }

  /** Forget: the next answer comes from the store. */
  invalidate(): void {
    this.generation++;
    this.entry = undefined;
  }

  close(): void {
    this.unwatch();
    this.invalidate();
  }

  private trusted(): LockStatus | undefined {
    const e = this.entry;
    if (!e) return undefined;
    const session = this.unwatch.session();
    if (session === undefined || session !== e.token.session || this.now() - e.token.at >= this.maxAgeMs) {
      this.entry = undefined;
      return undefined;
    }
    return e.status;
  }
}
