// Expires pending approvals at their deadline even when no call is waiting on them, and cancels those whose waiting
// call is gone: a timer set to the next such moment (re-armed when an approval is requested or decided), not a poll.
import type { Approvals } from '../core/approvals/approvals.js';
import type { Bus } from '../core/bus/bus.js';
import type { Logger } from '../core/log.js';

const MAX_SLEEP_MS = 60_000;

export class ExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private unwatch: (() => void) | undefined;
  private running = false;
  private stopped = false;

  constructor(
    private readonly approvals: Approvals,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly onExpired: (ids: string[]) => void = () => undefined,
  ) {}

  start(): void {
    this.unwatch = this.bus.watch(['approval.requested', 'approval.decided'], () => this.arm(0));
    this.arm(0);
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.sweep(), Math.max(0, Math.min(delayMs, MAX_SLEEP_MS)));
    this.timer.unref();
  }

  async sweep(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const expired = await this.approvals.expireDue();
      if (expired.length) {
        this.log.info({ count: expired.length }, 'approvals expired');
        this.onExpired(expired.map((a) => a.id));
      }
      // Approvals whose waiting call is gone (its proxy was killed) are withdrawn, so nobody sees them as live.
      const abandoned = await this.approvals.cancelAbandoned();
      if (abandoned.length) this.log.warn({ count: abandoned.length }, 'cancelled approvals whose waiting call is gone');
      const next = await this.approvals.nextExpiry();
      this.arm(next ? next.getTime() - Date.now() + 5 : MAX_SLEEP_MS);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'expiry sweep failed; retrying');
      this.arm(2_000);
    } finally {
      this.running = false;
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.unwatch?.();
  }
}
