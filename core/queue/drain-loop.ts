// The one at-least-once loop. Every background queue in Wingman (claims to verify, the claim spool, the execution
// audit log, the Telegram outbox, a bus consumer group) keeps its own storage rules (leases in Postgres, XACK, segment
// files), and leaves to this loop only when to run a round, how to back off, and how to stop:
//   - kick() asks for a round. Kicks coalesce: any number of kicks during a round make exactly one more round.
//   - A round says what it found: 'more' (go again now), 'idle' (wait for a kick, or idleMs for work nobody announced),
//     or { waitMs } (the queue knows when its next item is due).
//   - A round that throws is retried after an exponential backoff with jitter and a cap. Kicks during the backoff do
//     not cut it short: a burst of new work must not become a burst of retries against a store that is down.
//   - stop() waits for the round in flight (or gives up after graceMs and says so); no round starts after it.
//   - One set of metrics: wingman_queue_rounds_total{queue,outcome}, wingman_queue_backlog{queue}.
import type { Metrics } from '../metrics.js';

/** Bounded: used as a metric label. */
export const QUEUES = ['claim_verify', 'claim_spool', 'docker_audit', 'telegram_outbox', 'bus_consumer', 'bus_publish'] as const;
export type QueueName = (typeof QUEUES)[number];

export type RoundResult = 'more' | 'idle' | { waitMs: number };

export interface BackoffPolicy {
  /** the first retry waits up to this long */
  baseMs: number;
  /** no retry waits longer */
  maxMs: number;
}

/**
 * The wait before retry number `failures` (1 = the first): baseMs doubled per failure, capped at maxMs, then
 * "equal jitter" (a random point in the upper half), so processes that failed together do not retry together.
 */
export function backoffDelay(policy: BackoffPolicy, failures: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
  return exp / 2 + (exp / 2) * random();
}

export interface DrainLoopOptions {
  queue: QueueName;
  round: () => Promise<RoundResult>;
  backoff: BackoffPolicy;
  /** after a failed round, with the wait before the next; the loop goes on either way */
  onError: (err: unknown, retryMs: number, failures: number) => void;
  /** with nothing to do, run a round anyway after this long (work nobody announced); default: only when kicked */
  idleMs?: number;
  /** a kick waits this long before its round, so a burst of kicks becomes one batch; default 0 */
  gatherMs?: number;
  /** stop() calls this to end a wait inside the round (a blocking read) */
  interrupt?: () => void;
  metrics?: Metrics;
  /** for tests: the jitter source */
  random?: () => number;
}

type Outcome = 'work' | 'idle' | 'error';

export class DrainLoop {
  private running: Promise<void> | undefined;
  private stopping = false;
  private kicked = false;
  private kickDelayMs = 0;
  private backingOff = false;
  private wakeSleep: ((now: boolean) => void) | undefined;
  private flushWaiters: Array<() => void> = [];
  /** someone waits on the round in flight (flush) */
  private roundAwaited = false;

  constructor(private readonly opts: DrainLoopOptions) {}

  get stopped(): boolean {
    return this.stopping;
  }

  /** Run a round soon (after gatherMs, or delayMs); starts the loop on first use. */
  kick(delayMs = this.opts.gatherMs ?? 0): void {
    if (this.stopping) return;
    // The shortest delay asked for since the last round wins.
    this.kickDelayMs = this.kicked ? Math.min(this.kickDelayMs, delayMs) : delayMs;
    this.kicked = true;
    if (!this.running) {
      this.running = this.run();
      return;
    }
    if (!this.backingOff) this.wakeSleep?.(false);
  }

  /** Run a round now, even during a backoff; resolves once a round that started after this call has ended. */
  flush(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.flushWaiters.push(resolve));
    this.kick(0);
    this.wakeSleep?.(true);
    return done;
  }

  /**
   * Whether a flush waits on the round in flight or the next one: a round that would rather gather more work before
   * going on (a partial batch) goes on now instead.
   */
  get flushAsked(): boolean {
    return this.roundAwaited || this.flushWaiters.length > 0;
  }

  /** The queue's length as the queue counts it. */
  setBacklog(n: number): void {
    this.opts.metrics?.queueBacklog.set({ queue: this.opts.queue }, n);
  }

  /**
   * No round starts after this; resolves once the round in flight has ended (true), or after graceMs with the round
   * still running (false: the caller leaves its item to be retried by whoever comes next).
   */
  async stop(graceMs?: number): Promise<boolean> {
    this.stopping = true;
    this.opts.interrupt?.();
    this.wakeSleep?.(true);
    for (const resolve of this.flushWaiters.splice(0)) resolve();
    if (!this.running) return true;
    if (graceMs === undefined) {
      await this.running;
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.running.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    return finished;
  }

  private count(outcome: Outcome): void {
    this.opts.metrics?.queueRounds.inc({ queue: this.opts.queue, outcome });
  }

  private async run(): Promise<void> {
    // A kick never runs a round inside its caller's call (a constructor, a request handler).
    await Promise.resolve();
    let failures = 0;
    while (!this.stopping) {
      this.kicked = false;
      const waiters = this.flushWaiters.splice(0);
      this.roundAwaited = waiters.length > 0;
      let result: RoundResult;
      try {
        result = await this.opts.round();
      } catch (err) {
        for (const resolve of waiters) resolve();
        this.count('error');
        if (this.stopping) break;
        failures++;
        const retryMs = backoffDelay(this.opts.backoff, failures, this.opts.random);
        this.opts.onError(err, retryMs, failures);
        this.backingOff = true;
        await this.sleep(retryMs, false);
        this.backingOff = false;
        continue;
      }
      for (const resolve of waiters) resolve();
      failures = 0;
      this.count(result === 'more' ? 'work' : 'idle');
      if (result === 'more' || this.stopping) continue;
      const idleMs = this.opts.idleMs ?? Infinity;
      await this.sleep(result === 'idle' ? idleMs : Math.max(0, Math.min(result.waitMs, idleMs)), true);
    }
    for (const resolve of this.flushWaiters.splice(0)) resolve();
  }

  /** Wait ms (Infinity: until woken). Kicks end a wait only when `kickable`; flush and stop end any wait. */
  private sleep(ms: number, kickable: boolean): Promise<void> {
    if (this.stopping || ms <= 0) return Promise.resolve();
    if (kickable && this.kicked && this.kickDelayMs <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let gather: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        clearTimeout(gather);
        this.wakeSleep = undefined;
        resolve();
      };
      // Unref'd: a background queue never keeps a process alive on its own.
      if (Number.isFinite(ms)) timer = setTimeout(done, ms).unref();
      const onKick = () => {
        if (this.kickDelayMs <= 0) return done();
        gather ??= setTimeout(done, this.kickDelayMs).unref();
      };
      this.wakeSleep = (now) => {
        if (now) done();
        else if (kickable) onKick();
      };
      if (kickable && this.kicked) onKick();
    });
  }
}
