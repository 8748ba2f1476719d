// In-process bus for `wingman up` without REDIS_URL: the same semantics as RedisBus (per-topic log with
// `ms-seq` ids, consumer groups with a last-delivered position, a pending entry list with idle time and delivery
// count, ack, reclaim, watch broadcast), kept in memory. Consumers sleep until a publish wakes them.
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { wingmanError } from '../errors.js';
import { admitEvent, type EdgeDeps } from './admit-event.js';
import { TOPICS, type Bus, type BusEvent, type ConsumeOptions, type Consumer, type Topic, type Topics, type Unwatch } from './bus.js';
import { ConsumerLoop, type GroupReader } from './consumer-loop.js';

export interface MemoryBusOptions {
  /** entries kept per topic (oldest dropped first, like XADD MAXLEN); default 100000 */
  maxLen?: number;
  log?: Logger;
  metrics?: Metrics;
}

interface Entry {
  ordinal: number;
  id: string;
  data: Record<string, unknown>;
}

interface PendingEntry {
  consumer: string;
  deliveredAt: number;
  count: number;
}

interface Group {
  /** ordinal of the last entry handed out by readNew */
  lastDelivered: number;
  /** insertion order = oldest delivery first, like Redis's PEL by id */
  pending: Map<number, PendingEntry>;
}

const BATCH = 100;

class TopicLog {
  entries: Entry[] = [];
  /** ordinal of entries[0] */
  first = 1;
  next = 1;
  lastMs = 0;
  lastSeq = 0;
  groups = new Map<string, Group>();
  byId = new Map<string, number>();
  waiters = new Set<() => void>();

  constructor(
    readonly topic: Topic,
    private readonly maxLen: number,
  ) {}

  append(data: Record<string, unknown>): Entry {
    const now = Date.now();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.lastSeq = 0;
    } else {
      this.lastSeq++;
    }
    const entry: Entry = { ordinal: this.next++, id: `${this.lastMs}-${this.lastSeq}`, data };
    this.entries.push(entry);
    this.byId.set(entry.id, entry.ordinal);
    if (this.entries.length > this.maxLen) {
      const drop = this.entries.length - this.maxLen;
      for (const gone of this.entries.splice(0, drop)) this.byId.delete(gone.id);
      this.first += drop;
      // Trimmed entries leave the pending lists too (Redis 7 drops deleted entries when claiming).
      for (const g of this.groups.values()) {
        for (const ordinal of g.pending.keys()) if (ordinal < this.first) g.pending.delete(ordinal);
      }
    }
    for (const wake of [...this.waiters]) wake();
    return entry;
  }

  get(ordinal: number): Entry | undefined {
    return this.entries[ordinal - this.first];
  }

  lastOrdinal(): number {
    return this.next - 1;
  }
}

export class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  private readonly topics = new Map<Topic, TopicLog>();
  private readonly watchers = new Set<{ topics: Set<Topic>; handler: (e: BusEvent) => void }>();
  private readonly edge: EdgeDeps;
  private readonly consumers = new Set<Consumer>();
  private readonly maxLen: number;
  private readonly log: Logger | undefined;
  private closed = false;

  constructor(opts: MemoryBusOptions = {}) {
    this.maxLen = opts.maxLen ?? 100_000;
    this.log = opts.log;
    this.edge = { log: opts.log, metrics: opts.metrics };
  }

  private topicLog(topic: Topic): TopicLog {
    if (!TOPICS.includes(topic)) throw wingmanError('WGM_ERR_INTERNAL', `unknown bus topic ${String(topic)}`);
    let log = this.topics.get(topic);
    if (!log) {
      log = new TopicLog(topic, this.maxLen);
      this.topics.set(topic, log);
    }
    return log;
  }

  async publish<T extends Topic>(topic: T, data: Topics[T]): Promise<string> {
    if (this.closed) throw wingmanError('WGM_ERR_BUS_UNAVAILABLE', 'bus is closed');
    // A copy through JSON: consumers get the same shapes as from Redis, and no shared mutable objects.
    const entry = this.topicLog(topic).append(JSON.parse(JSON.stringify(data)) as Record<string, unknown>);
    for (const w of this.watchers) {
      if (!w.topics.has(topic)) continue;
      // Checked like an entry read from Redis: both buses hand consumers the same events.
      const event: BusEvent | undefined = admitEvent<Topic>(this.edge, 'watch', topic, entry.id, structuredClone(entry.data), 1);
      if (!event) continue;
      // Asynchronously, so a watcher never runs inside the publisher's call.
      queueMicrotask(() => {
        try {
          w.handler(event);
        } catch (err) {
          this.log?.warn({ err, topic }, 'watch handler threw');
        }
      });
    }
    return entry.id;
  }

  async publishBatch(events: readonly { topic: Topic; data: unknown }[]): Promise<PromiseSettledResult<string>[]> {
    return Promise.allSettled(events.map((e) => this.publish(e.topic, e.data as never)));
  }

  consume<T extends Topic>(typed: ConsumeOptions<T>): Consumer {
    if (this.closed) throw wingmanError('WGM_ERR_BUS_UNAVAILABLE', 'bus is closed');
    // The reader only hands out events of opts.topics, each checked against its topic.
    const opts = typed as unknown as ConsumeOptions;
    const logs = opts.topics.map((t) => this.topicLog(t));
    return new ConsumerLoop(new MemoryGroupReader(logs, opts, this.edge), opts, this.log, this.consumers, this.edge.metrics);
  }

  watch<T extends Topic>(topics: T[], handler: (event: BusEvent<T>) => void): Unwatch {
    for (const t of topics) this.topicLog(t);
    const w = { topics: new Set<Topic>(topics), handler: handler as (e: BusEvent) => void };
    this.watchers.add(w);
    let active = true;
    const unwatch = () => {
      active = false;
      this.watchers.delete(w);
    };
    // In one process nothing published can be missed: one stretch, from the call until the watch or the bus ends.
    return Object.assign(unwatch, { ready: Promise.resolve(), session: () => (active && !this.closed ? 0 : undefined) });
  }

  async ping(): Promise<boolean> {
    return !this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watchers.clear();
    await Promise.all([...this.consumers].map((c) => c.stop()));
  }
}

class MemoryGroupReader implements GroupReader {
  private interrupted = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly logs: TopicLog[],
    private readonly opts: ConsumeOptions,
    private readonly edge: EdgeDeps,
  ) {}

  async ensureGroups(initial: boolean): Promise<void> {
    for (const log of this.logs) {
      if (log.groups.has(this.opts.group)) continue;
      const fromEnd = initial && this.opts.startAt === '$';
      log.groups.set(this.opts.group, { lastDelivered: fromEnd ? log.lastOrdinal() : log.first - 1, pending: new Map() });
    }
  }

  /** The entry as an event, or undefined (dropped and acked) when its payload does not fit the topic. */
  private event(log: TopicLog, entry: Entry, count: number): BusEvent | undefined {
    const event = admitEvent(this.edge, 'consume', log.topic, entry.id, structuredClone(entry.data), count);
    if (!event) this.group(log).pending.delete(entry.ordinal);
    return event;
  }

  private group(log: TopicLog): Group {
    const g = log.groups.get(this.opts.group);
    if (!g) throw wingmanError('WGM_ERR_INTERNAL', `no group ${this.opts.group} on ${log.topic}`);
    return g;
  }

  async ownPending(): Promise<BusEvent[]> {
    return this.claim((p) => p.consumer === this.opts.consumer);
  }

  async reclaim(minIdleMs: number): Promise<BusEvent[]> {
    const now = Date.now();
    return this.claim((p) => now - p.deliveredAt >= minIdleMs);
  }

  private claim(match: (p: PendingEntry) => boolean): BusEvent[] {
    const out: BusEvent[] = [];
    const now = Date.now();
    for (const log of this.logs) {
      const g = this.group(log);
      for (const [ordinal, p] of g.pending) {
        if (out.length >= BATCH) break;
        if (!match(p)) continue;
        const entry = log.get(ordinal);
        if (!entry) {
          g.pending.delete(ordinal);
          continue;
        }
        p.consumer = this.opts.consumer;
        p.deliveredAt = now;
        p.count++;
        const event = this.event(log, entry, p.count);
        if (event) out.push(event);
      }
    }
    return out;
  }

  private takeNew(): BusEvent[] {
    const out: BusEvent[] = [];
    const now = Date.now();
    for (const log of this.logs) {
      const g = this.group(log);
      let ordinal = Math.max(g.lastDelivered + 1, log.first);
      for (; ordinal <= log.lastOrdinal() && out.length < BATCH; ordinal++) {
        const entry = log.get(ordinal)!;
        g.pending.set(ordinal, { consumer: this.opts.consumer, deliveredAt: now, count: 1 });
        const event = this.event(log, entry, 1);
        if (event) out.push(event);
      }
      g.lastDelivered = ordinal - 1;
    }
    return out;
  }

  async readNew(blockMs: number): Promise<BusEvent[]> {
    if (this.interrupted) return [];
    const now = this.takeNew();
    if (now.length) return now;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        for (const log of this.logs) log.waiters.delete(done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, blockMs);
      for (const log of this.logs) log.waiters.add(done);
      this.wake = done;
    });
    return this.interrupted ? [] : this.takeNew();
  }

  async ack(event: BusEvent): Promise<void> {
    const log = this.logs.find((l) => l.topic === event.topic);
    if (!log) return;
    const ordinal = log.byId.get(event.id);
    if (ordinal !== undefined) this.group(log).pending.delete(ordinal);
  }

  interrupt(): void {
    this.interrupted = true;
    this.wake?.();
  }

  async close(): Promise<void> {
    this.interrupt();
  }
}
