// The consumer loop both buses share, so Redis and in-process delivery follow one set of rules:
//   1. on start, take back this consumer's own unacked entries (it was restarted after a crash);
//   2. read new entries for the group, blocking until one arrives or the next reclaim is due;
//   3. every reclaimIdleMs/2, claim entries any consumer of the group has left pending longer than reclaimIdleMs
//      (a crashed consumer's, or one whose handler threw);
//   4. run the handler for each entry in order; ack only after it resolves; a throw leaves the entry pending.
// The loop itself (backoff after a failed read, stop with a grace for the handler in flight) is core/queue's DrainLoop.
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { DrainLoop } from '../queue/drain-loop.js';
import type { BusEvent, ConsumeOptions, Consumer } from './bus.js';

/** What a bus implementation provides to the loop for one consumer of one group. */
export interface GroupReader {
  /** Create the group on every topic if missing. `initial` false after a failure: start from the whole stream. */
  ensureGroups(initial: boolean): Promise<void>;
  /** This consumer name's own pending entries, claimed again (their delivery count goes up). */
  ownPending(): Promise<BusEvent[]>;
  /** New entries for the group, waiting up to blockMs (returns [] on timeout or interrupt). */
  readNew(blockMs: number): Promise<BusEvent[]>;
  /** Entries pending with any consumer for longer than minIdleMs, claimed to this consumer. */
  reclaim(minIdleMs: number): Promise<BusEvent[]>;
  ack(event: BusEvent): Promise<void>;
  /** Wake a readNew that is waiting (stop). */
  interrupt(): void;
  close(): Promise<void>;
}

const DEFAULT_RECLAIM_IDLE_MS = 30_000;
const DEFAULT_STOP_GRACE_MS = 10_000;

export class ConsumerLoop implements Consumer {
  readonly ready: Promise<void>;
  private readyResolve!: () => void;
  private abandoned = false;
  private stopping: Promise<void> | undefined;
  private readonly loop: DrainLoop;
  private readonly reclaimIdleMs: number;
  private readonly reclaimEveryMs: number;
  private groupsOk = false;
  private initial = true;
  private ownDone = false;
  private nextReclaim = 0;

  constructor(
    private readonly reader: GroupReader,
    private readonly opts: ConsumeOptions,
    private readonly log: Logger | undefined,
    /** the bus's running consumers: this one is in it until it stops (the bus's close() stops them all) */
    private readonly running: Set<Consumer>,
    metrics?: Metrics,
  ) {
    running.add(this);
    this.reclaimIdleMs = Math.max(1, opts.reclaimIdleMs ?? DEFAULT_RECLAIM_IDLE_MS);
    // Check twice per idle period, but at least every 5 s and not more often than every 10 ms.
    this.reclaimEveryMs = Math.min(5_000, Math.max(10, Math.floor(this.reclaimIdleMs / 2)));
    this.ready = new Promise((resolve) => (this.readyResolve = resolve));
    this.loop = new DrainLoop({
      queue: 'bus_consumer',
      // A round blocks in readNew until entries arrive or the next reclaim is due, so it always goes round again.
      round: async () => {
        await this.round();
        return 'more';
      },
      backoff: { baseMs: 100, maxMs: 2_000 },
      onError: (err, retryMs) => {
        // The group may be gone (a Redis restart without persistence): recreate it on the next pass.
        this.groupsOk = false;
        this.log?.warn({ err, group: this.opts.group, consumer: this.opts.consumer, retryMs: Math.round(retryMs) }, 'bus read failed');
      },
      interrupt: () => this.reader.interrupt(),
      metrics,
    });
    this.loop.kick();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const finished = await this.loop.stop(this.opts.stopGraceMs ?? DEFAULT_STOP_GRACE_MS);
      if (!finished) {
        this.abandoned = true;
        this.log?.warn({ group: this.opts.group, consumer: this.opts.consumer }, 'handler still running at stop: left pending');
      }
      await this.reader.close().catch(() => undefined);
      this.readyResolve();
      this.running.delete(this);
    })();
    return this.stopping;
  }

  private async round(): Promise<void> {
    if (!this.groupsOk) {
      await this.reader.ensureGroups(this.initial);
      this.groupsOk = true;
      this.initial = false;
      this.readyResolve();
    }
    let batch: BusEvent[];
    if (!this.ownDone) {
      batch = await this.reader.ownPending();
      this.ownDone = true;
    } else if (Date.now() >= this.nextReclaim) {
      batch = await this.reader.reclaim(this.reclaimIdleMs);
      this.nextReclaim = Date.now() + this.reclaimEveryMs;
    } else {
      batch = await this.reader.readNew(Math.max(1, this.nextReclaim - Date.now()));
    }
    for (const event of batch) {
      if (this.loop.stopped) break; // not handled, not acked: stays pending for whoever comes next
      await this.handle(event);
    }
  }

  private async handle(event: BusEvent): Promise<void> {
    try {
      await this.opts.handler(event);
    } catch (err) {
      this.log?.warn(
        { err, topic: event.topic, id: event.id, deliveries: event.deliveries, group: this.opts.group },
        'event handler failed: left pending for retry',
      );
      return;
    }
    if (this.abandoned) return;
    try {
      await this.reader.ack(event);
    } catch (err) {
      // Not acked means delivered again later: at-least-once, never lost.
      this.log?.warn({ err, topic: event.topic, id: event.id, group: this.opts.group }, 'ack failed: entry will be redelivered');
    }
  }
}
