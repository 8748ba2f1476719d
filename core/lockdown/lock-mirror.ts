// A mirror of lockdown state in Redis for fast checks by the proxy (and a stand-in in one process). The store stays
// the source of truth: the proxy treats a worker as locked when EITHER says so, so a mirror that missed an update
// can only make it stricter, never looser.
//
// The mirror's "not locked" is only worth something while the mirror is known to be in step with the store: a Redis
// restarted without persistence has lost every key, and a lock written while Redis was away never reached it. So a
// sync rewrites the mirror from the store and stamps it with Redis's own clock; a reader trusts a missing key only
// when that stamp is newer than its own connection (a connection that dropped may have missed anything). Otherwise
// the answer is "unknown", and with the store down too the proxy refuses (fail closed). The mirror re-syncs from the
// store whenever its connection comes back, every few seconds, and after any write it could not make.
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';

/** The locked workers and their reasons, as the store says now. */
export type LockSource = () => Promise<Map<string, string>>;

export interface LockMirror {
  set(worker: string, reason: string): Promise<void>;
  clear(worker: string): Promise<void>;
  /** the lock reason; null when known not locked (the mirror is in step with the store); undefined when unknown */
  get(worker: string): Promise<string | null | undefined>;
  /** rewrite the mirror from the store now; false when the store or the mirror could not be reached */
  sync(): Promise<boolean>;
  close(): Promise<void>;
}

const SYNC_EVERY_MS = 5_000;

export function storeLockSource(db: Db): LockSource {
  return async () => {
    const { rows } = await db.query<{ name: string; locked_reason: string | null }>(`SELECT name, locked_reason FROM workers WHERE locked`);
    return new Map(rows.map((r) => [r.name, r.locked_reason || 'locked']));
  };
}

/** In one process (no Redis): in step once it has read the store, and again after every write. */
export class MemoryLockMirror implements LockMirror {
  private readonly locks = new Map<string, string>();
  private synced: boolean;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly source?: LockSource) {
    // Without a store to read (tests of the proxy alone), what this process wrote is all there is.
    this.synced = source === undefined;
    if (source) {
      void this.sync();
      this.timer = setInterval(() => void this.sync(), SYNC_EVERY_MS);
      this.timer.unref();
    }
  }
  async set(worker: string, reason: string) {
    this.locks.set(worker, reason || 'locked');
  }
  async clear(worker: string) {
    this.locks.delete(worker);
  }
  async get(worker: string) {
    const reason = this.locks.get(worker);
    if (reason !== undefined) return reason;
    return this.synced ? null : undefined;
  }
  async sync() {
    if (!this.source) return true;
    const ok = await converge(this.source, async (locked) => {
      for (const [w, reason] of locked) this.locks.set(w, reason);
      for (const w of [...this.locks.keys()]) if (!locked.has(w)) this.locks.delete(w);
    });
    if (ok) this.synced = true;
    return ok;
  }
  async close() {
    if (this.timer) clearInterval(this.timer);
  }
}

// Rewrites the mirror in one step and stamps it with Redis's clock (micros): KEYS[1] is the stamp key, ARGV is
// the key prefix then pairs of worker, reason. Keys of workers not in the list are deleted.
const SYNC_SCRIPT = `
local prefix = ARGV[1]
local want = {}
for i = 2, #ARGV, 2 do want[prefix .. ARGV[i]] = ARGV[i + 1] end
local cursor = '0'
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', prefix .. '*', 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do if want[k] == nil then redis.call('DEL', k) end end
until cursor == '0'
for k, v in pairs(want) do redis.call('SET', k, v) end
local t = redis.call('TIME')
local stamp = t[1] .. string.format('%06d', tonumber(t[2]))
redis.call('SET', KEYS[1], stamp)
return stamp
`;

export class RedisLockMirror implements LockMirror {
  private readonly redis: Redis;
  /** Redis's clock when this connection last became ready; undefined while it is not */
  private readyAt: bigint | undefined;
  /** writes that failed, replayed (before a sync) when Redis is back: worker → reason, or null for a clear */
  private readonly unsent = new Map<string, string | null>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<boolean> | undefined;

  constructor(
    url: string,
    private readonly prefix = 'wingman',
    private readonly source?: LockSource,
    private readonly log?: Logger,
  ) {
    // Short timeouts and no offline queue: an unreachable Redis must answer "unknown" at once, not hang the proxy.
    this.redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: 250, connectTimeout: 1000 });
    this.redis.on('error', () => undefined);
    this.redis.on('close', () => (this.readyAt = undefined));
    this.redis.on('ready', () => void this.onReady());
    if (source) {
      this.timer = setInterval(() => void this.sync(), SYNC_EVERY_MS);
      this.timer.unref();
    }
  }

  private key(worker: string) {
    return `${this.prefix}:lock:${worker}`;
  }
  private get stampKey() {
    return `${this.prefix}:lockmirror:synced`;
  }

  private async onReady() {
    try {
      const [s, us] = await this.redis.time();
      this.readyAt = BigInt(s) * 1_000_000n + BigInt(us);
    } catch {
      return;
    }
    for (const [w, reason] of [...this.unsent]) {
      try {
        if (reason === null) await this.redis.del(this.key(w));
        else await this.redis.set(this.key(w), reason);
        if (this.unsent.get(w) === reason) this.unsent.delete(w);
      } catch {
        return;
      }
    }
    await this.sync();
  }

  async set(worker: string, reason: string) {
    try {
      await this.redis.set(this.key(worker), reason || 'locked');
      this.unsent.delete(worker);
    } catch (err) {
      this.unsent.set(worker, reason || 'locked');
      throw err;
    }
  }
  async clear(worker: string) {
    try {
      await this.redis.del(this.key(worker));
      this.unsent.delete(worker);
    } catch (err) {
      this.unsent.set(worker, null);
      throw err;
    }
  }
  async get(worker: string) {
    if (this.readyAt === undefined) return undefined;
    const readyAt = this.readyAt;
    try {
      const [reason, stamp] = await this.redis.mget(this.key(worker), this.stampKey);
      if (reason) return reason;
      // A missing key means "not locked" only if a sync ran since this connection came up.
      return stamp && /^\d+$/.test(stamp) && BigInt(stamp) >= readyAt ? null : undefined;
    } catch {
      return undefined;
    }
  }

  sync(): Promise<boolean> {
    this.syncing ??= this.syncOnce().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async syncOnce(): Promise<boolean> {
    if (!this.source || this.readyAt === undefined) return false;
    return converge(
      this.source,
      async (locked) => {
        const args = [`${this.prefix}:lock:`];
        for (const [w, reason] of locked) args.push(w, reason);
        await this.redis.eval(SYNC_SCRIPT, 1, this.stampKey, ...args);
      },
      this.log,
    );
  }

  async close() {
    if (this.timer) clearInterval(this.timer);
    this.redis.disconnect();
  }
}

/**
 * Write the store's locks to a mirror until the store says the same before and after the write: a lock or unlock
 * that landed in between would otherwise be undone by it.
 */
async function converge(source: LockSource, write: (locked: Map<string, string>) => Promise<void>, log?: Logger): Promise<boolean> {
  try {
    let locked = await source();
    for (let round = 0; round < 5; round++) {
      await write(locked);
      const again = await source();
      if (sameLocks(locked, again)) return true;
      locked = again;
    }
    return false;
  } catch (err) {
    log?.debug({ err: (err as Error).message }, 'lock mirror not synced');
    return false;
  }
}

function sameLocks(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/**
 * Redis when configured, else in memory. With `db`, the mirror keeps itself in step with the store's workers table
 * (every process that opens one does; the syncs are idempotent).
 */
export function openLockMirror(config: Pick<Config, 'redisUrl'>, prefix?: string, db?: Db, log?: Logger): LockMirror {
  const source = db ? storeLockSource(db) : undefined;
  return config.redisUrl ? new RedisLockMirror(config.redisUrl, prefix, source, log) : new MemoryLockMirror(source);
}
