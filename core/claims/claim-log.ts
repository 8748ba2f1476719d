// Logging a claim: durable in the local spool first (the caller's answer waits only for that), then copied to the
// store in batches by a background loop, which publishes `claim.logged` for each claim the store took. While the
// store is down the loop retries with backoff; nothing is lost and nothing is stored twice.
import fs from 'node:fs';
import path from 'node:path';
import type { Bus } from '../bus/bus.js';
import { isWingmanError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { DrainLoop, type RoundResult } from '../queue/drain-loop.js';
import type { ClaimSpool } from './claim-spool.js';
import type { Claims, NewClaim } from './claims.js';

const BATCH = 500;
const SWEEP_MS = 1_000;

export class ClaimLog {
  private readonly loop: DrainLoop;
  private readonly storedListeners = new Set<() => void>();

  constructor(
    private readonly claims: Claims,
    private readonly spool: ClaimSpool,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.loop = new DrainLoop({
      queue: 'claim_spool',
      round: () => this.round(),
      // During an outage the backoff paces the attempts: a burst of appends must not become a burst of retries.
      backoff: { baseMs: 200, maxMs: 5_000 },
      idleMs: SWEEP_MS,
      onError: (err) => this.log.warn({ err: (err as Error).message, spooled: this.spool.size }, 'claims: store write failed; kept in the local spool'),
      metrics,
    });
    this.gauge();
  }

  private gauge(): void {
    this.metrics?.claimsSpooled.set(this.spool.size);
    this.loop.setBacklog(this.spool.size);
  }

  /** Resolves once the claim is durable on local disk. */
  async append(claim: NewClaim): Promise<void> {
    await this.spool.append(claim);
    this.metrics?.claims.inc();
    this.gauge();
    this.kick();
  }

  get unstoredCount(): number {
    return this.spool.size;
  }

  /** true while the claim is on local disk only (not yet in the store) */
  isUnstored(id: string): boolean {
    return this.spool.has(id);
  }

  start(): void {
    this.loop.kick();
  }

  /** Copy what the spool holds to the store now (a no-op when a copy is already running: it goes round again). */
  kick(): void {
    this.loop.kick();
  }

  /** Resolves when the spool (or the one claim `id`) has been copied to the store, or the timeout passed. */
  async flushed(timeoutMs = 10_000, id?: string): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const waiting = () => (id === undefined ? this.spool.size > 0 : this.spool.has(id));
    while (waiting() && Date.now() < deadline && !this.loop.stopped) {
      this.kick(); // a no-op while an outage retry is pending
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.min(100, Math.max(1, deadline - Date.now())));
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.storedListeners.add(done);
      });
    }
    return !waiting();
  }

  /** One round: copy a batch of the spool to the store ('more': there may be another; a store error backs off). */
  private async round(): Promise<RoundResult> {
    const batch = this.spool.unstored(BATCH);
    if (batch.length === 0) return 'idle';
    const { stored, inserted } = await this.store(batch);
    await this.spool.markStored(stored).catch((err) => this.log.error({ err: (err as Error).message }, 'claims: spool compaction failed'));
    this.gauge();
    for (const l of [...this.storedListeners]) l();
    this.storedListeners.clear();
    const byId = new Map(batch.map((c) => [c.id, c]));
    await Promise.all(
      inserted.map((id) =>
        this.bus.publish('claim.logged', { claim_id: id, worker: byId.get(id)?.worker ?? null, type: byId.get(id)?.type ?? null }).catch(() => undefined),
      ),
    );
    return 'more';
  }

  /** Batch insert; a batch the store refuses for a reason other than an outage is retried claim by claim. */
  private async store(batch: NewClaim[]): Promise<{ stored: string[]; inserted: string[] }> {
    try {
      return { stored: batch.map((c) => c.id), inserted: await this.claims.insert(batch) };
    } catch (err) {
      if (isWingmanError(err, 'WGM_ERR_STORE_UNAVAILABLE')) throw err;
    }
    const stored: string[] = [];
    const inserted: string[] = [];
    for (const c of batch) {
      try {
        inserted.push(...(await this.claims.insert([c])));
        stored.push(c.id);
      } catch (err) {
        if (isWingmanError(err, 'WGM_ERR_STORE_UNAVAILABLE')) {
          if (stored.length) return { stored, inserted };
          throw err;
        }
        // A record the store will never take (a bug): set it aside so it cannot block the spool forever.
        this.log.error({ err: (err as Error).message, claim_id: c.id }, 'claims: store refused a claim; moved to claims_rejected.jsonl');
        fs.appendFileSync(path.join(path.dirname(this.spool.file), 'claims_rejected.jsonl'), JSON.stringify(c) + '\n', { mode: 0o600 });
        stored.push(c.id);
      }
    }
    return { stored, inserted };
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await this.spool.close();
  }
}
