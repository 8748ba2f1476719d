// The event bus. RedisBus (Redis Streams + consumer groups) across processes; MemoryBus in one process
// (`wingman up` without REDIS_URL). Redis only wakes things up: every decision is re-read from the store.

export const TOPICS = [
  'gate.decided',
  'claim.logged',
  'claim.verified',
  'approval.requested',
  'approval.decided',
  // a two-person approval got its first approver (still pending): only screens care
  'approval.updated',
  'docker.executed',
  'worker.locked',
  'worker.unlocked',
  'worker.heartbeat',
  'worker.added',
  'alert.sent',
  'validation.decided',
  // an object changed hands (created, adopted, removed): proxies drop what they cached about it
  'ownership.changed',
  // Telegram: a row was added to the outbox (wakes the sender of every control process)
  'telegram.outbox',
] as const;
export type Topic = (typeof TOPICS)[number];

export interface BusEvent<T = Record<string, unknown>> {
  /** stream id (Redis `ms-seq`), unique and increasing per topic */
  id: string;
  topic: Topic;
  data: T;
  /** how many times this entry has been delivered to this group (1 on first delivery) */
  deliveries: number;
}

export interface ConsumeOptions {
  group: string;
  consumer: string;
  topics: Topic[];
  /** Resolve only after the work is durable: the entry is acked when it resolves; a throw leaves it pending. */
  handler: (event: BusEvent) => Promise<void>;
  /** Pending entries idle longer than this (a crashed consumer's) are reclaimed. Default 30 s. */
  reclaimIdleMs?: number;
  /** Where a new group starts: '0' = the whole stream, '$' = only new entries. Default '0'. */
  startAt?: '0' | '$';
  /**
   * How long stop() waits for a handler in flight. A handler still running after that is abandoned: its entry
   * is not acked and stays pending until another consumer reclaims it. Default 10 s.
   */
  stopGraceMs?: number;
}

export interface Consumer {
  /** Resolves once the group exists and the consumer reads (with startAt '$': entries published after this are seen). */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** Ends a watch. `ready` resolves once the watcher's start position is fixed: entries published after it are seen. */
export interface Unwatch {
  (): void;
  readonly ready: Promise<void>;
}

export interface Bus {
  readonly kind: 'redis' | 'memory';
  publish(topic: Topic, data: Record<string, unknown>): Promise<string>;
  /** At-least-once delivery through a consumer group; one entry goes to one consumer of the group. */
  consume(opts: ConsumeOptions): Consumer;
  /** Broadcast of new entries to every watcher (no group, no ack): for wake-ups only. Returns unsubscribe. */
  watch(topics: Topic[], handler: (event: BusEvent) => void): Unwatch;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
