// A mirror of lockdown state in Redis for fast checks by the proxy (and a stand-in in one process). The store stays
// the source of truth: the proxy treats a worker as locked when EITHER says so, so a mirror that missed an update
// can only make it stricter, never looser.
import { Redis } from 'ioredis';
import type { Config } from '../config.js';

export interface LockMirror {
  set(worker: string, reason: string): Promise<void>;
  clear(worker: string): Promise<void>;
  /** the lock reason, null when not locked, undefined when the mirror cannot be read */
  get(worker: string): Promise<string | null | undefined>;
  close(): Promise<void>;
}

export class MemoryLockMirror implements LockMirror {
  private readonly locks = new Map<string, string>();
  async set(worker: string, reason: string) {
    this.locks.set(worker, reason);
  }
  async clear(worker: string) {
    this.locks.delete(worker);
  }
  async get(worker: string) {
    return this.locks.get(worker) ?? null;
  }
  async close() {}
}

export class RedisLockMirror implements LockMirror {
  private readonly redis: Redis;
  constructor(
    url: string,
    private readonly prefix = 'wingman',
  ) {
    // Short timeouts and no offline queue: an unreachable Redis must answer "unknown" at once, not hang the proxy.
    this.redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: 250, connectTimeout: 1000 });
    this.redis.on('error', () => undefined);
  }
  private key(worker: string) {
    return `${this.prefix}:lock:${worker}`;
  }
  async set(worker: string, reason: string) {
    await this.redis.set(this.key(worker), reason || 'locked');
  }
  async clear(worker: string) {
    await this.redis.del(this.key(worker));
  }
  async get(worker: string) {
    try {
      return await this.redis.get(this.key(worker));
    } catch {
      return undefined;
    }
  }
  async close() {
    this.redis.disconnect();
  }
}

export function openLockMirror(config: Pick<Config, 'redisUrl'>, prefix?: string): LockMirror {
  return config.redisUrl ? new RedisLockMirror(config.redisUrl, prefix) : new MemoryLockMirror();
}
