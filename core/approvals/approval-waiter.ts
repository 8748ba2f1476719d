// Holds a call until its approval is decided. Woken by `approval.decided` on the bus, then re-reads the store
// (the bus is never trusted with the decision). A slow safety re-read covers a wake-up lost while the bus was down;
// at the deadline the approval is expired in the store, so the outcome is the same for every reader.
import type { Bus } from '../bus/bus.js';
import type { Approval, Approvals } from './approvals.js';

const SAFETY_REREAD_MS = 10_000;

export class ApprovalWaiter {
  private readonly waiting = new Map<string, Set<() => void>>();
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly approvals: Approvals,
    private readonly bus: Bus,
  ) {}

  start(): void {
    this.unwatch ??= this.bus.watch(['approval.decided'], (e) => {
      const id = String(e.data.id ?? '');
      for (const wake of this.waiting.get(id) ?? []) wake();
    });
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
  }

  /** Resolves with the approval once it is no longer pending, or when `signal` aborts (returns undefined then). */
  async wait(id: string, deadline: Date, signal?: AbortSignal): Promise<Approval | undefined> {
    this.start();
    for (;;) {
      if (signal?.aborted) return undefined;
      const a = await this.approvals.get(id);
      if (!a) return undefined;
      if (a.status !== 'pending') return a;
      const left = deadline.getTime() - Date.now();
      if (left <= 0) {
        const expired = await this.approvals.expire(id);
        return expired ?? (await this.approvals.get(id));
      }
      await new Promise<void>((resolve) => {
        const set = this.waiting.get(id) ?? new Set();
        this.waiting.set(id, set);
        const done = () => {
          clearTimeout(timer);
          set.delete(done);
          if (set.size === 0) this.waiting.delete(id);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, SAFETY_REREAD_MS));
        set.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }
}
