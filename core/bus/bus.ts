// The event bus. RedisBus (Redis Streams + consumer groups) across processes; MemoryBus in one process
// (`wingman up` without REDIS_URL). Redis only wakes things up: every decision is re-read from the store.

export { TOPICS, type Topic, type Topics } from './topics.js';
import type { Topic, Topics } from './topics.js';

/** One delivered entry; over a set of topics, a union that `event.topic` narrows to the payload's type. */
export type BusEvent<T extends Topic = Topic> = {
  [K in T]: {
    /** stream id (Redis `ms-seq`), unique and increasing per topic */
    id: string;
    topic: K;
    data: Topics[K];
    /** how many times this entry has been delivered to this group (1 on first delivery) */
    deliveries: number;
  };
}[T];

export interface ConsumeOptions<T extends Topic = Topic> {
  group: string;
  consumer: string;
  topics: T[];
  /** Resolve only after the work is durable: the entry is acked when it resolves; a throw leaves it pending. */
  handler: (event: BusEvent<T>) => Promise<void>;
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
  /**
   * The watcher's unbroken stretch of reading: undefined before `ready`, after a read that failed and after the
   * watch ended; otherwise a number that changes each time reading resumes after a failure. While it returns the
   * same number, every entry published since it first did has been (or is about to be) handed to the handler; a
   * new number means entries may have been missed in between (Redis restarted empty, or was away when the
   * publisher tried). Caches invalidated by a watch trust what they hold only within one stretch.
   */
  readonly session: () => number | undefined;
}

export interface Bus {
  readonly kind: 'redis' | 'memory';
  publish<T extends Topic>(topic: T, data: Topics[T]): Promise<string>;
  /**
   * Several events in one go, in order (Redis: one pipelined write instead of one per event). Each settles on its
   * own: the ids, or why an event was not taken.
   */
  publishBatch(events: readonly { topic: Topic; data: unknown }[]): Promise<PromiseSettledResult<string>[]>;
  /**
   * At-least-once delivery through a consumer group; one entry goes to one consumer of the group. An entry whose
   * payload does not fit its topic is logged, counted and acked unhandled (retrying cannot fix it).
   */
  consume<T extends Topic>(opts: ConsumeOptions<T>): Consumer;
  /** Broadcast of new entries to every watcher (no group, no ack): for wake-ups only. Returns unsubscribe. */
  watch<T extends Topic>(topics: T[], handler: (event: BusEvent<T>) => void): Unwatch;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
