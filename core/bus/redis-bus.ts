// Bus over Redis Streams: one stream per topic (`<prefix>:<topic>`, bounded with XADD MAXLEN ~), consumer groups
// for at-least-once work (ack after the handler resolves; pending entries of a crashed consumer are taken over
// with XAUTOCLAIM), and XREAD from the stream's end for broadcast wake-ups. Blocking reads each get their own
// connection so they never hold up publish/ack. Redis here may keep nothing on disk: after a restart the groups
// are gone, and the loop recreates them (from the start of the new stream, so nothing published since is lost).
import { answersWithin } from '../util/answers-within.js';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { wingmanError } from '../errors.js';
import { backoffDelay } from '../queue/drain-loop.js';
import { admitEvent, type EdgeDeps } from './admit-event.js';
import { TOPICS, type Bus, type BusEvent, type ConsumeOptions, type Consumer, type Topic, type Topics, type Unwatch } from './bus.js';
import { ConsumerLoop, type GroupReader } from './consumer-loop.js';

export interface RedisBusOptions {
  url: string;
  /** key prefix: streams are `<prefix>:<topic>`; default `wingman` (tests use `wgmtest-<random>`) */
  prefix?: string;
  /** approximate bound on each stream's length; default 100000 */
  maxLen?: number;
  log?: Logger;
  metrics?: Metrics;
  /** how long ping() waits; default 2000 ms */
  pingTimeoutMs?: number;
  /** longest single blocking read of a watcher; default 5000 ms */
  watchBlockMs?: number;
}

type RawEntry = [id: string, fields: string[] | null];
type RawRead = Array<[key: string, entries: RawEntry[]]> | null;
type RawPending = Array<[id: string, consumer: string, idleMs: number, count: number]>;

const BATCH = 100;
const FIELD = 'd';
/** a watch (wake-ups only, nothing to deliver twice) retries its reads with the queues' backoff */
const WATCH_BACKOFF = { baseMs: 100, maxMs: 2_000 };

/** The raw payload of a stream entry: undefined when the entry was deleted (trimmed) while pending. */
function parseFields(fields: string[] | null): { raw: unknown } | undefined {
  if (!fields) return undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] !== FIELD) continue;
    try {
      return { raw: JSON.parse(fields[i + 1]) as unknown };
    } catch {
      break;
    }
  }
  return { raw: undefined }; // not JSON, or no field d: admitEvent drops it
}

export class RedisBus implements Bus {
  readonly kind = 'redis' as const;
  readonly prefix: string;
  private readonly cmd: Redis;
  private readonly url: string;
  private readonly maxLen: number;
  private readonly log: Logger | undefined;
  private readonly pingTimeoutMs: number;
  private readonly watchBlockMs: number;
  private readonly consumers = new Set<Consumer>();
  private readonly watchers = new Set<() => void>();
  private readonly byKey = new Map<string, Topic>();
  readonly edge: EdgeDeps;
  private closed = false;

  constructor(opts: RedisBusOptions) {
    this.url = opts.url;
    this.prefix = opts.prefix ?? 'wingman';
    this.maxLen = opts.maxLen ?? 100_000;
    this.log = opts.log;
    this.pingTimeoutMs = opts.pingTimeoutMs ?? 2000;
    this.watchBlockMs = opts.watchBlockMs ?? 5000;
    this.edge = { log: opts.log, metrics: opts.metrics };
    for (const t of TOPICS) this.byKey.set(this.key(t), t);
    // Commands fail fast while Redis is away (publish → WGM_ERR_BUS_UNAVAILABLE) instead of queueing forever.
    this.cmd = this.connection('cmd', { maxRetriesPerRequest: 1 });
  }

  /** The stream key of a topic. */
  key(topic: Topic): string {
    if (!TOPICS.includes(topic)) throw wingmanError('WGM_ERR_INTERNAL', `unknown bus topic ${String(topic)}`);
    return `${this.prefix}:${topic}`;
  }

  topicOf(key: string): Topic {
    const t = this.byKey.get(key);
    if (!t) throw new Error(`unexpected stream key ${key}`);
    return t;
  }

  /** A new connection; blocking readers pass maxRetriesPerRequest null so a read waits out a Redis restart. */
  connection(role: string, extra: RedisOptions = {}): Redis {
    const conn = new Redis(this.url, {
      connectionName: `${this.prefix}:${role}`,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 100, 2000),
      ...extra,
    });
    let lastLogged = 0;
    conn.on('error', (err) => {
      // ioredis emits on every failed reconnect: log at most every 10 s per connection.
      if (Date.now() - lastLogged > 10_000) {
        lastLogged = Date.now();
        this.log?.warn({ err, role }, 'redis connection error');
      }
    });
    return conn;
  }

  async publish<T extends Topic>(topic: T, data: Topics[T]): Promise<string> {
    if (this.closed) throw wingmanError('WGM_ERR_BUS_UNAVAILABLE', 'bus is closed');
    const key = this.key(topic);
    try {
      const id = await this.cmd.xadd(key, 'MAXLEN', '~', this.maxLen, '*', FIELD, JSON.stringify(data));
      if (!id) throw new Error('XADD returned no id');
      return id;
    } catch (err) {
      throw wingmanError('WGM_ERR_BUS_UNAVAILABLE', (err as Error).message, { topic }, err);
    }
  }

  async publishBatch(events: readonly { topic: Topic; data: unknown }[]): Promise<PromiseSettledResult<string>[]> {
    if (events.length === 0) return [];
    if (this.closed) return events.map(() => ({ status: 'rejected', reason: wingmanError('WGM_ERR_BUS_UNAVAILABLE', 'bus is closed') }));
    const pipe = this.cmd.pipeline();
    for (const e of events) pipe.xadd(this.key(e.topic), 'MAXLEN', '~', this.maxLen, '*', FIELD, JSON.stringify(e.data));
    let replies: [Error | null, unknown][];
    try {
      replies = (await pipe.exec()) ?? [];
    } catch (err) {
      const e = wingmanError('WGM_ERR_BUS_UNAVAILABLE', (err as Error).message, undefined, err);
      return events.map(() => ({ status: 'rejected', reason: e }));
    }
    return events.map((e, i): PromiseSettledResult<string> => {
      const [err, id] = replies[i] ?? [new Error('no reply'), null];
      if (err || typeof id !== 'string') {
        return { status: 'rejected', reason: wingmanError('WGM_ERR_BUS_UNAVAILABLE', err?.message ?? 'XADD returned no id', { topic: e.topic }, err) };
      }
      return { status: 'fulfilled', value: id };
    });
  }

  consume<T extends Topic>(typed: ConsumeOptions<T>): Consumer {
    if (this.closed) throw wingmanError('WGM_ERR_BUS_UNAVAILABLE', 'bus is closed');
    // The reader only hands out events of opts.topics, each checked against its topic.
    const opts = typed as unknown as ConsumeOptions;
    for (const t of opts.topics) this.key(t);
    return new ConsumerLoop(new RedisGroupReader(this, this.cmd, opts), opts, this.log, this.consumers, this.edge.metrics);
  }

  watch<T extends Topic>(topics: T[], handler: (event: BusEvent<T>) => void): Unwatch {
    if (this.closed) throw wingmanError('WGM_ERR_BUS_UNAVAILABLE', 'bus is closed');
    const keys = topics.map((t) => this.key(t));
    const conn = this.connection('watch', { maxRetriesPerRequest: null });
    let stopped = false;
    // undefined while not reading; a new number each time reading resumes after a failure (see Unwatch.session)
    let session: number | undefined;
    let sessions = 0;
    let readyResolve!: () => void;
    const ready = new Promise<void>((r) => (readyResolve = r));
    const stop = () => {
      if (stopped) return;
      stopped = true;
      session = undefined;
      this.watchers.delete(stop);
      readyResolve();
      conn.disconnect();
    };
    this.watchers.add(stop);
    // A blocking read is resent by ioredis after a reconnect instead of failing, so the connection itself says when
    // a stretch ended: whatever was published while it was down, or lost by a Redis restart, was never read.
    conn.on('close', () => (session = undefined));

    void (async () => {
      // Start after the current last entry of each stream ('0-0' when empty), fixed before `ready`, so nothing
      // published after ready resolves is missed (XREAD with '$' would race the first read).
      const last = new Map<string, string>();
      let failures = 0;
      while (!stopped && last.size < keys.length) {
        try {
          for (const key of keys) {
            const top = (await conn.xrevrange(key, '+', '-', 'COUNT', 1)) as RawEntry[];
            last.set(key, top[0]?.[0] ?? '0-0');
          }
        } catch (err) {
          last.clear();
          const retryMs = backoffDelay(WATCH_BACKOFF, ++failures);
          this.log?.warn({ err, retryMs: Math.round(retryMs) }, 'watch: cannot read stream positions');
          await new Promise((r) => setTimeout(r, retryMs));
        }
      }
      if (!stopped) session = ++sessions;
      readyResolve();
      failures = 0;
      while (!stopped) {
        try {
          const res = (await conn.xread(
            'COUNT',
            BATCH,
            'BLOCK',
            this.watchBlockMs,
            'STREAMS',
            ...keys,
            ...keys.map((k) => last.get(k)!),
          )) as RawRead;
          failures = 0;
          // A read that succeeds after failed ones resumed from the last id seen: a new stretch, since what was
          // published while Redis was away (or lost by a restart) never reached the stream.
          if (session === undefined && !stopped) session = ++sessions;
          for (const [key, entries] of res ?? []) {
            for (const [id, fields] of entries) {
              last.set(key, id);
              const entry = parseFields(fields);
              if (!entry || stopped) continue;
              const event = admitEvent(this.edge, 'watch', this.topicOf(key) as T, id, entry.raw, 1);
              if (!event) continue;
              try {
                handler(event);
              } catch (err) {
                this.log?.warn({ err }, 'watch handler threw');
              }
            }
          }
        } catch (err) {
          if (stopped) break;
          session = undefined;
          const retryMs = backoffDelay(WATCH_BACKOFF, ++failures);
          this.log?.warn({ err, retryMs: Math.round(retryMs) }, 'watch read failed');
          await new Promise((r) => setTimeout(r, retryMs));
        }
      }
    })();

    return Object.assign(stop, { ready, session: () => session });
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    return answersWithin(async () => {
      if ((await this.cmd.ping()) !== 'PONG') throw new Error('unexpected PING reply');
    }, this.pingTimeoutMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stop of [...this.watchers]) stop();
    await Promise.all([...this.consumers].map((c) => c.stop()));
    try {
      await this.cmd.quit();
    } catch {
      this.cmd.disconnect();
    }
  }
}

class RedisGroupReader implements GroupReader {
  private readonly keys: string[];
  private blocking: Redis | undefined;
  private closed = false;

  constructor(
    private readonly bus: RedisBus,
    private readonly cmd: Redis,
    private readonly opts: ConsumeOptions,
  ) {
    this.keys = opts.topics.map((t) => bus.key(t));
  }

  async ensureGroups(initial: boolean): Promise<void> {
    const start = initial ? (this.opts.startAt ?? '0') : '0';
    for (const key of this.keys) {
      try {
        await this.cmd.xgroup('CREATE', key, this.opts.group, start, 'MKSTREAM');
      } catch (err) {
        if (!String((err as Error).message).startsWith('BUSYGROUP')) throw err;
      }
    }
  }

  /** XPENDING counts for ids just claimed by this consumer (XCLAIM/XAUTOCLAIM raise them; replies omit them). */
  private async counts(key: string, ids: string[]): Promise<Map<string, number>> {
    const map = new Map<string, number>();
    if (!ids.length) return map;
    const sorted = [...ids].sort(compareIds);
    const rows = (await this.cmd.xpending(
      key,
      this.opts.group,
      sorted[0],
      sorted[sorted.length - 1],
      ids.length + BATCH,
      this.opts.consumer,
    )) as RawPending;
    for (const [id, , , count] of rows) map.set(id, Number(count));
    return map;
  }

  private async toEvents(key: string, entries: RawEntry[], deliveries?: Map<string, number>): Promise<BusEvent[]> {
    const topic = this.bus.topicOf(key);
    const out: BusEvent[] = [];
    for (const [id, fields] of entries) {
      const entry = parseFields(fields);
      if (!entry) continue;
      const event = admitEvent(this.bus.edge, 'consume', topic, id, entry.raw, deliveries?.get(id) ?? 1);
      if (!event) {
        // Not ours or corrupt: it can never be handled, so ack it instead of retrying it forever.
        await this.cmd.xack(key, this.opts.group, id);
        continue;
      }
      out.push(event);
    }
    return out;
  }

  async ownPending(): Promise<BusEvent[]> {
    const out: BusEvent[] = [];
    for (const key of this.keys) {
      const mine = (await this.cmd.xpending(key, this.opts.group, '-', '+', BATCH, this.opts.consumer)) as RawPending;
      if (!mine.length) continue;
      const ids = mine.map((p) => p[0]);
      const entries = (await this.cmd.xclaim(key, this.opts.group, this.opts.consumer, 0, ...ids)) as RawEntry[];
      out.push(...(await this.toEvents(key, entries, await this.counts(key, ids))));
    }
    return out;
  }

  async reclaim(minIdleMs: number): Promise<BusEvent[]> {
    const out: BusEvent[] = [];
    for (const key of this.keys) {
      const [, entries] = (await this.cmd.xautoclaim(
        key,
        this.opts.group,
        this.opts.consumer,
        minIdleMs,
        '0-0',
        'COUNT',
        BATCH,
      )) as [string, RawEntry[], string[]?];
      if (!entries.length) continue;
      const counts = await this.counts(
        key,
        entries.map((e) => e[0]),
      );
      out.push(...(await this.toEvents(key, entries, counts)));
    }
    return out;
  }

  async readNew(blockMs: number): Promise<BusEvent[]> {
    if (this.closed) return [];
    this.blocking ??= this.bus.connection('consumer', { maxRetriesPerRequest: null });
    const res = (await this.blocking.xreadgroup(
      'GROUP',
      this.opts.group,
      this.opts.consumer,
      'COUNT',
      BATCH,
      'BLOCK',
      Math.max(1, Math.round(blockMs)),
      'STREAMS',
      ...this.keys,
      ...this.keys.map(() => '>'),
    ));
    const out: BusEvent[] = [];
    for (const [key, entries] of res ?? []) out.push(...(await this.toEvents(key, entries)));
    return out;
  }

  async ack(event: BusEvent): Promise<void> {
    await this.cmd.xack(this.bus.key(event.topic), this.opts.group, event.id);
  }

  interrupt(): void {
    this.closed = true;
    this.blocking?.disconnect();
  }

  async close(): Promise<void> {
    this.interrupt();
  }
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}
