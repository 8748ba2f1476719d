// What every process (control, proxy, sidecar) is built from: the validated config and the shared backends, opened by
// cli/runtime.ts (or a test) and handed to the process's build function.
import type { Bus } from './bus/bus.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { Db } from './store/db.js';

export interface Services {
  config: Config;
  db: Db;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
}
