// Publishing off the request path. A caller whose record is already durable in the store (the bus only wakes
// consumers up; they re-read the store) hands its event here and answers at once: a slow or absent Redis no longer
// adds a round trip, or a connect timeout, to every request. What the queue holds is retried with backoff until the
// bus takes it, in the order it was queued; nothing is dropped without a log line and a count:
//   - the queue is bounded (a long outage must not grow the process without limit): past the bound the oldest
//     events are dropped, counted in wingman_bus_publish_lost_total{topic} and logged at error level;
//   - stop() tries once more to send what is left and logs, at error level, how many events it could not send.
// What it cannot cover is a process that dies with events queued: those wake-ups are lost (the rows are not), as
// they were when a publish failed before this queue existed.
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { DrainLoop, type RoundResult } from '../queue/drain-loop.js';
import type { Bus, Topic, Topics } from './bus.js';

export interface PublishQueueOptions {
  bus: Bus;
  log: Logger;
  metrics?: Metrics;
  /** events held at most while the bus is away (default 10,000) */
  maxQueued?: number;
  /** events sent per round (default 256): sent together, they share the connection's round trips */
  batch?: number;
  /** how long a round waits for more events after the first (default 2 ms): one write carries a burst */
  gatherMs?: number;
}

interface Queued {
  topic: Topic;
  data: unknown;
}

/** Lost-event errors are logged at most this often (a long outage must not flood the log). */
const LOST_LOG_EVERY_MS = 10_000;

export class PublishQueue {
  private readonly loop: DrainLoop;
  private readonly queue: Queued[] = [];
  private readonly maxQueued: number;
  private readonly batch: number;
  private lostSinceLog = 0;
  private lastLostLog = 0;

  constructor(private readonly o: PublishQueueOptions) {
    this.maxQueued = o.maxQueued ?? 10_000;
    this.batch = o.batch ?? 256;
    this.loop = new DrainLoop({
      queue: 'bus_publish',
      round: () => this.round(),
      backoff: { baseMs: 100, maxMs: 5_000 },
      // Nobody waits for these events (the answer has gone): a short wait lets a burst go out in one write.
      gatherMs: o.gatherMs ?? 2,
      onError: (err, retryMs) =>
        this.o.log.warn({ err: (err as Error).message, queued: this.queue.length, retryMs: Math.round(retryMs) }, 'bus publish failed; events kept for a retry'),
      metrics: o.metrics,
    });
  }

  /** events not yet taken by the bus */
  get size(): number {
    return this.queue.length;
  }

  /** Queue an event; it is sent soon, and again until the bus takes it. Never throws, never waits. */
  publish<T extends Topic>(topic: T, data: Topics[T]): void {
    this.queue.push({ topic, data });
    if (this.queue.length > this.maxQueued) this.lose(this.queue.splice(0, this.queue.length - this.maxQueued), 'overflow');
    this.loop.setBacklog(this.queue.length);
    this.loop.kick();
  }

  /** Resolves once a round that started after this call has ended (the queue may still hold what the bus refused). */
  flush(): Promise<void> {
    return this.loop.flush();
  }

  /** Stop the loop, try once more to send what is left, and say (error log) what could not be sent. */
  async stop(graceMs = 2_000): Promise<void> {
    await this.loop.stop(graceMs);
    if (this.queue.length) {
      await Promise.race([this.round().catch(() => undefined), new Promise((r) => setTimeout(r, graceMs).unref())]);
    }
    this.lose(this.queue.splice(0), 'shutdown');
  }

  private async round(): Promise<RoundResult> {
    const take = this.queue.slice(0, this.batch);
    if (take.length === 0) return 'idle';
    // Sent together (one pipelined write on one connection, answered in order), so the events reach their streams
    // in the order they were queued.
    const results = await this.o.bus.publishBatch(take);
    const firstFailed = results.findIndex((r) => r.status === 'rejected');
    // Everything before the first failure is out; from there on it is retried (a repeat is harmless: consumers
    // re-read the store, and gate/claim events are keyed by id), so the order is kept.
    const sent = firstFailed === -1 ? take.length : firstFailed;
    this.queue.splice(0, sent);
    this.loop.setBacklog(this.queue.length);
    if (firstFailed !== -1) throw (results[firstFailed] as PromiseRejectedResult).reason;
    return this.queue.length ? 'more' : 'idle';
  }

  private lose(events: Queued[], why: 'overflow' | 'shutdown'): void {
    for (const e of events) this.o.metrics?.busPublishLost.inc({ topic: e.topic });
    this.lostSinceLog += events.length;
    const now = Date.now();
    // Overflow during a long outage is logged at most every 10 s (with the count since the last line); shutdown
    // always says what is left behind.
    if (this.lostSinceLog === 0 || (why === 'overflow' && now - this.lastLostLog < LOST_LOG_EVERY_MS)) return;
    this.o.log.error(
      { lost: this.lostSinceLog, topics: [...new Set(events.map((e) => e.topic))] },
      why === 'overflow' ? 'bus events lost: publish queue full while the bus is away, oldest dropped' : 'bus events lost: not published before shutdown',
    );
    this.lostSinceLog = 0;
    this.lastLostLog = now;
  }
}
