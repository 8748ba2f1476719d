// Holds a call until its approval is decided. Woken by `approval.decided` on the bus, then re-reads the store
// (the bus is never trusted with the decision). A slow safety re-read covers a wake-up lost while the bus was down;
// at the deadline the approval is expired in the store, so the outcome is the same for every reader.
//
// Every approval a call waits on names this waiter (`<proxy>#<run>`), and the waiter says every second that its
// calls are still there. One that stops saying so (its proxy was killed) is cancelled by the sweeper and cannot be
// approved; at start-up a proxy cancels what an earlier run of it left waiting.
import { randomBytes } from 'node:crypto';
import type { Bus } from '../bus/bus.js';
import type { Approval, Approvals } from './approvals.js';

const SAFETY_REREAD_MS = 10_000;
const HEARTBEAT_MS = 1_000;

export class ApprovalWaiter {
  private readonly waiting = new Map<string, Set<() => void>>();
  /** approvals a call of this process is waiting on (or about to spend) */
  private readonly held = new Set<string>();
  private unwatch: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** this run's name on the approvals it holds */
  readonly id: string;

  constructor(
    private readonly approvals: Approvals,
    private readonly bus: Bus,
    /** the same for every run of one proxy (e.g. its host and socket directory) */
    private readonly proxy = 'proxy',
  ) {
    this.id = `${proxy}#${randomBytes(6).toString('hex')}`;
  }

  start(): void {
    this.unwatch ??= this.bus.watch(['approval.decided'], (e) => {
      const id = e.data.id;
      for (const wake of this.waiting.get(id) ?? []) wake();
    });
    this.heartbeat ??= setInterval(() => {
      if (this.held.size) this.approvals.touchWaiter(this.id, [...this.held]).catch(() => undefined);
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Cancel the approvals an earlier run of this proxy (or any vanished waiter) left pending. */
  async cancelLeftovers(): Promise<Approval[]> {
    return this.approvals.cancelAbandoned({ proxy: this.proxy, run: this.id.slice(this.proxy.length + 1) });
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** Mark an approval as held by a live call of this process until `release`. */
  hold(id: string): void {
    this.held.add(id);
  }

  release(id: string): void {
    this.held.delete(id);
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
