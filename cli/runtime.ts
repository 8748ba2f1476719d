// Shared start-up for the long-running commands: config, logger, metrics, store, bus, policy.
import fs from 'node:fs';
import type { Bus } from '../core/bus/bus.js';
import { openBus } from '../core/bus/open-bus.js';
import type { Config } from '../core/config.js';
import { createLogger, type Logger } from '../core/log.js';
import { createMetrics, type Metrics } from '../core/metrics.js';
import { loadPolicyFile, type PolicyFile } from '../core/policy/policy-file.js';
import type { Db } from '../core/store/db.js';
import { lockDataDir, type DataDirLock } from '../core/store/lock-data-dir.js';
import { openDb } from '../core/store/open-db.js';
import { prettyDestination, wantsPretty } from './log-format.js';

export interface Runtime {
  config: Config;
  log: Logger;
  metrics: Metrics;
  db: Db;
  bus: Bus;
  policy: PolicyFile;
  /** this process's hold on WINGMAN_DATA_DIR; released after the store is closed */
  dataDirLock: DataDirLock;
}

export async function openRuntime(config: Config, name: string): Promise<Runtime> {
  const pretty = wantsPretty(config.logFormat, Boolean(process.stdout.isTTY));
  const log = createLogger({ level: config.logLevel, name, ...(pretty ? { destination: prettyDestination(process.stdout) } : {}) });
  const policy = loadPolicyFile(config.policyFile); // a bad policy file stops start-up here
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // Before anything in the data directory is opened: a second process on it exits here, having touched nothing.
  const dataDirLock = await lockDataDir(config.dataDir, name);
  const metrics = createMetrics();
  let db: Db;
  try {
    db = await openDb(config, log);
  } catch (err) {
    await dataDirLock.release();
    throw err;
  }
  const bus = openBus(config, log, { prefix: config.redisPrefix, metrics });
  return { config, log, metrics, db, bus, policy, dataDirLock };
}


/**
 * On SIGINT/SIGTERM: run `closers` newest first, then close the bus and the store, release the data directory and
 * exit 0. A closer that fails does not stop the others (the process is going away either way).
 */
export function stopOnSignals(rt: Runtime, closers: Array<() => unknown>): void {
  const stop = async (signal: string) => {
    rt.log.info({ signal }, 'shutting down');
    for (const c of [...closers].reverse()) await Promise.resolve().then(c).catch(() => undefined);
    await rt.bus.close().catch(() => undefined);
    await rt.db.close().catch(() => undefined);
    await rt.dataDirLock.release();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
