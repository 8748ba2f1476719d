// Chooses the bus from configuration: Redis Streams when REDIS_URL is set, else the in-process bus (valid only
// when every producer and consumer lives in this one process: `wingman up`; config.requireFor enforces that).
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Bus } from './bus.js';
import { MemoryBus } from './memory-bus.js';
import { RedisBus } from './redis-bus.js';

export interface OpenBusOptions {
  /** Redis key prefix (default `wingman`) */
  prefix?: string;
  /** counts payloads dropped at the edge */
  metrics?: Metrics;
}

export function openBus(config: Pick<Config, 'redisUrl'>, log: Logger, opts: OpenBusOptions = {}): Bus {
  if (config.redisUrl) return new RedisBus({ url: config.redisUrl, prefix: opts.prefix, log, metrics: opts.metrics });
  log.info('no REDIS_URL: using the in-process event bus');
  return new MemoryBus({ log, metrics: opts.metrics });
}
