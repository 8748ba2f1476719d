// The verify loop: runs in every sidecar, takes its worker's unverified claims from the queue (row locks + leases, so
// several sidecars and restarts share the work safely), verifies each, writes exactly one verdict per claim and
// publishes `claim.verified`. Woken by `claim.logged` on the bus, and by a periodic sweep for anything the bus did
// not announce (a lost event, a lapsed lease, a retry that is due).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Bus } from '../bus/bus.js';
import { isWingmanError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { backoffDelay, DrainLoop, type RoundResult } from '../queue/drain-loop.js';
import type { ClaimVerifier } from './claim-verifier.js';
import type { Claims, LeasedClaim, VerdictRow } from './claims.js';

export interface VerifyLoopOptions {
  worker: string;
  claims: Claims;
  /** what the loop needs of a ClaimVerifier */
  verifier: Pick<ClaimVerifier, 'verify' | 'testTimeoutMs'>;
  bus: Bus;
  log: Logger;
  metrics?: Metrics;
  /** claims verified at once (default 8) */
  concurrency?: number;
  /** how often to look for work nobody announced (default 5 s) */
  sweepMs?: number;
  /** a lease held without renewal for this long is taken over by another verify loop (default 30 s) */
  leaseMs?: number;
  /** attempts before a claim whose verification keeps failing gets an UNVERIFIABLE verdict (default 5) */
  maxAttempts?: number;
  /** identifies this verify loop in claim_queue.locked_by and verdicts.verified_by */
  consumerId?: string;
}

/** after a store failure: taking claims, or recording a verdict */
const BACKOFF = { baseMs: 100, maxMs: 5_000 };

export class VerifyLoop {
  readonly consumerId: string;
  private readonly concurrency: number;
  private readonly sweepMs: number;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly loop: DrainLoop;
  private unwatch: (() => void) | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly held = new Set<string>();
  private renewTimer: NodeJS.Timeout | undefined;
  private nextLeftoverCheck = 0;

  constructor(private readonly opts: VerifyLoopOptions) {
    this.consumerId = opts.consumerId ?? `${opts.worker}@${os.hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
    this.sweepMs = opts.sweepMs ?? 5_000;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.maxAttempts = opts.maxAttempts ?? 5;
    this.loop = new DrainLoop({
      queue: 'claim_verify',
      round: () => this.round(),
      backoff: BACKOFF,
      idleMs: this.sweepMs,
      onError: (err) => this.opts.log.warn({ err: (err as Error).message }, 'verify loop: cannot take claims from the store; retrying'),
      metrics: opts.metrics,
    });
  }

  private get stopped(): boolean {
    return this.loop.stopped;
  }

  /** How long a synchronous verification may take: a test re-run is the slowest. */
  get verifyBudgetMs(): number {
    return this.opts.verifier.testTimeoutMs + 10_000;
  }

  start(): void {
    if (this.unwatch) return;
    this.unwatch = this.opts.bus.watch(['claim.logged'], (e) => {
      if (e.data.worker === this.opts.worker) this.wake();
    });
    // Long verifications (test re-runs) keep their leases alive.
    this.renewTimer = setInterval(() => {
      if (this.held.size === 0) return;
      this.opts.claims.renew([...this.held], this.consumerId, this.leaseMs).catch(() => undefined);
    }, Math.max(50, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
    this.wake();
  }

  /** Look for work now (coalesces: a wake during a round makes one more; during a store-failure backoff, waits for it). */
  wake(): void {
    this.loop.kick();
  }

  /** One round: lease a batch of due claims and verify them ('more': there may be another batch). */
  private async round(): Promise<RoundResult> {
    await this.announceLeftovers();
    const batch = await this.opts.claims.lease(this.opts.worker, this.consumerId, this.concurrency * 4, this.leaseMs);
    if (batch.length === 0) return 'idle';
    for (const c of batch) this.held.add(c.id);
    await this.runAll(batch);
    return 'more';
  }

  private async runAll(batch: LeasedClaim[]): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (!this.stopped && next < batch.length) {
        const c = batch[next++];
        const p = this.process(c).finally(() => this.held.delete(c.id));
        this.inFlight.add(p);
        await p.finally(() => this.inFlight.delete(p));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batch.length) }, lane));
  }

  /** Verify one leased claim and write its verdict. Resolves with the verdict row when this verify loop wrote it. */
  private async process(c: LeasedClaim): Promise<VerdictRow | undefined> {
    const started = performance.now();
    let draft;
    try {
      draft = await this.opts.verifier.verify(c);
    } catch (err) {
      const transient = isWingmanError(err, 'WGM_ERR_CLAIM_VERIFY_UNAVAILABLE') || isWingmanError(err, 'WGM_ERR_STORE_UNAVAILABLE');
      const message = (err as Error).message ?? String(err);
      if (transient && c.attempts < this.maxAttempts) {
        const delay = Math.min(60_000, 500 * 2 ** (c.attempts - 1));
        this.opts.log.warn({ claim_id: c.id, attempts: c.attempts, err: message }, 'verify loop: verification deferred');
        await this.opts.claims.retryLater(c.id, this.consumerId, message, delay).catch(() => undefined);
        return undefined;
      }
      if (!transient) this.opts.log.error({ claim_id: c.id, err: message }, 'verify loop: verifier failed');
      draft = {
        verdict: 'UNVERIFIABLE' as const,
        verifier: 'sidecar',
        reason: `verification failed after ${c.attempts} attempt(s): ${message}`.slice(0, 1000),
        evidence: {},
      };
    }
    const durationMs = performance.now() - started;
    const row = await this.write(c, draft, durationMs);
    return row;
  }

  private async write(c: LeasedClaim, draft: Parameters<Claims['complete']>[1], durationMs: number): Promise<VerdictRow | undefined> {
    const { claims, metrics, log } = this.opts;
    // The verdict is already known: keep trying to record it while this verify loop runs. (If it stops first, the
    // lease lapses and another verify loop verifies the claim again: still one verdict.)
    for (let failures = 1; ; failures++) {
      try {
        const { row, inserted } = await claims.complete(c, draft, durationMs, this.consumerId);
        if (inserted) {
          metrics?.verdicts.inc({ type: c.type, verdict: row.verdict });
          metrics?.claimVerification.observe({ type: c.type }, durationMs / 1000);
          log.info({ claim_id: c.id, type: c.type, verdict: row.verdict, verifier: row.verifier, duration_ms: Math.round(durationMs) }, 'claim verified');
        }
        // Published after the commit, and again by whoever finds the verdict already written while the claim was
        // still queued to it: that verdict's own commit answer may have been lost with the connection (and its
        // verify loop stopped before retrying), so nobody may have announced it. A lost FALSE verdict would be a lie
        // nobody is alerted to; a repeat is harmless (consumers key on claim_id). So: at least once.
        await this.announce(row);
        return inserted ? row : undefined;
      } catch (err) {
        if (this.stopped) return undefined;
        log.warn({ claim_id: c.id, err: (err as Error).message }, 'verify loop: verdict not written yet; retrying');
        await new Promise((r) => setTimeout(r, backoffDelay(BACKOFF, failures)));
      }
    }
  }

  /**
   * Publish claim.verified for a written verdict, then mark it announced. A failed publish (or mark) leaves the row
   * unannounced and a later round announces it again: at least once, and never lost with this process.
   */
  private async announce(row: VerdictRow): Promise<void> {
    const { claims, bus, log } = this.opts;
    try {
      await bus.publish('claim.verified', { claim_id: row.claim_id, worker: row.worker, verdict: row.verdict, type: row.claim_type, verdict_id: row.id });
      await claims.markAnnounced([row.claim_id]);
    } catch (err) {
      log.warn({ err: (err as Error).message, claim_id: row.claim_id }, 'verify loop: claim.verified not announced yet; a later round retries');
    }
  }

  /**
   * Announce verdicts whose claim.verified never went out (see announce); at most once per sweep period. Only rows
   * done for a while: a verdict committed a moment ago is still being announced by whoever wrote it.
   */
  private async announceLeftovers(): Promise<void> {
    if (Date.now() < this.nextLeftoverCheck) return;
    this.nextLeftoverCheck = Date.now() + this.sweepMs;
    const rows = await this.opts.claims.unannounced(this.opts.worker, Math.max(this.sweepMs, 2_000), this.concurrency * 4);
    for (const row of rows) {
      if (this.stopped) return;
      await this.announce(row);
    }
    // A full page: more may be waiting, look again next round.
    if (rows.length === this.concurrency * 4) this.nextLeftoverCheck = 0;
  }

  /**
   * Verify one claim now (synchronous /verify): take it if it is due and verify it here; if another verify loop holds
   * it, wait for its verdict. Resolves with the verdict, or undefined when none arrived within timeoutMs.
   */
  async verifyNow(claimId: string, timeoutMs: number): Promise<VerdictRow | undefined> {
    const deadline = Date.now() + timeoutMs;
    const existing = await this.opts.claims.verdict(claimId);
    if (existing) return existing;
    const leased = await this.opts.claims.leaseOne(claimId, this.opts.worker, this.consumerId, this.leaseMs);
    if (leased) {
      this.held.add(leased.id);
      try {
        const row = await this.process(leased);
        if (row) return row;
      } finally {
        this.held.delete(leased.id);
      }
    }
    return this.waitFor(claimId, Math.max(0, deadline - Date.now()));
  }

  /** Wait for a claim's verdict (woken by claim.verified, polling as a fallback). */
  async waitFor(claimId: string, timeoutMs: number): Promise<VerdictRow | undefined> {
    const deadline = Date.now() + timeoutMs;
    let wakeUp: (() => void) | undefined;
    const unwatch = this.opts.bus.watch(['claim.verified'], (e) => {
      if (e.data.claim_id === claimId) wakeUp?.();
    });
    try {
      for (;;) {
        const v = await this.opts.claims.verdict(claimId).catch(() => undefined);
        if (v || Date.now() >= deadline) return v;
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, Math.min(250, deadline - Date.now()));
          function done() {
            clearTimeout(t);
            resolve();
          }
          wakeUp = done;
        });
      }
    } finally {
      unwatch();
    }
  }

  async stop(): Promise<void> {
    const stopping = this.loop.stop();
    this.unwatch?.();
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    await Promise.allSettled([...this.inFlight]);
    await stopping;
  }
}
