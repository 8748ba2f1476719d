// Is this worker locked down? Asked for every non-read call. Redis (the mirror) answers fast; the store is the
// truth, read with a short cache that lock/unlock events drop at once. Locked if either says so. If neither can be
// read the state is unknown, and the caller refuses the call (fail closed).
import type { Bus } from '../core/bus/bus.js';
import type { LockMirror } from '../core/lockdown/lock-mirror.js';
import type { Workers } from '../core/workers/workers.js';

const TTL_MS = 2_000;

export type Lock = { locked: boolean; reason?: string } | 'unknown';

export class LockState {
  private readonly cache = new Map<string, { locked: boolean; reason?: string; at: number }>();
  private readonly unwatch: () => void;

  constructor(
    private readonly workers: Workers,
    bus: Bus,
    private readonly mirror: LockMirror,
  ) {
    this.unwatch = bus.watch(['worker.locked', 'worker.unlocked'], (e) => this.cache.delete(e.data.worker));
  }

  async get(worker: string): Promise<Lock> {
    const mirrored = await this.mirror.get(worker);
    if (typeof mirrored === 'string') return { locked: true, reason: mirrored };
    const hit = this.cache.get(worker);
    if (hit && Date.now() - hit.at < TTL_MS) return hit;
    try {
      const w = await this.workers.get(worker);
      const state = { locked: w?.locked ?? false, reason: w?.locked_reason ?? undefined, at: Date.now() };
      this.cache.set(worker, state);
      return state;
    } catch {
      // Store unreachable: the mirror's "not locked" is the best knowledge left; no answer at all is unknown.
      return mirrored === null ? { locked: false } : 'unknown';
    }
  }

  close(): void {
    this.unwatch();
  }
}
