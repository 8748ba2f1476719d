// Builds the real Wingman (control + proxy, as `wingman up` composes them) against the test Postgres database,
// a prefixed Redis bus and the private test engine, without main.ts. Everything it creates is removed by close().
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildControl, type ControlApp } from '../../control/app.js';
import type { Bus } from '../../core/bus/bus.js';
import { MemoryBus } from '../../core/bus/memory-bus.js';
import { RedisBus } from '../../core/bus/redis-bus.js';
import { loadConfig, type Config } from '../../core/config.js';
import { createLogger } from '../../core/log.js';
import { createMetrics, type Metrics } from '../../core/metrics.js';
import { EMPTY_POLICY, parsePolicy, type PolicyFile } from '../../core/policy/policy-file.js';
import type { Db } from '../../core/store/db.js';
import { migrate, defaultMigrationsDir } from '../../core/store/migrate.js';
import { PgDb } from '../../core/store/pg-db.js';
import { buildProxy, type ProxyApp } from '../../proxy/app.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { dropRedisPrefix, testEnv, type DockerResult, type ExecError } from './env.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Wingman {
  config: Config;
  db: Db;
  bus: Bus;
  metrics: Metrics;
  control: ControlApp;
  proxy: ProxyApp;
  apiToken: string;
  controlUrl: string;
  dir: string;
  database: TestDatabase;
  /** run the docker CLI as worker `w` (through its proxy socket) */
  dockerAs(worker: string, args: string[], opts?: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<DockerResult>;
  /** run the built `wingman` CLI against this instance's control API */
  cli(args: string[]): Promise<DockerResult>;
  /** ops hand objects made outside the worker's socket to a worker (`POST /workers/:name/adopt`) */
  adopt(worker: string, kind: 'container' | 'volume' | 'network' | 'image', ...refs: string[]): Promise<void>;
  /** wait until an approval for `worker` is pending and return it */
  pendingApproval(worker: string, timeoutMs?: number): Promise<{ id: string; summary: string; rule: string }>;
  close(): Promise<void>;
  /** stop the apps but keep the database and spool (to build a second instance on the same state) */
  stopApps(): Promise<void>;
}

export interface WingmanOptions {
  env?: Record<string, string>;
  policy?: string;
  bus?: 'redis' | 'memory';
  /** reuse a database (for restart tests) */
  database?: TestDatabase;
  dir?: string;
  /** DATABASE_URL override (e.g. an unreachable one) */
  databaseUrl?: string;
  /** REDIS_URL override for the bus and the lock mirror (e.g. a test's own Redis that it stops and starts) */
  redisUrl?: string;
}

export async function startWingman(opts: WingmanOptions = {}): Promise<Wingman> {
  const env = testEnv();
  // Unix socket paths are limited to 107 bytes: keep the directory short.
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-'));
  const database = opts.database ?? (await createTestDatabase());
  const apiToken = `wgmtest-token-${randomBytes(12).toString('hex')}`;
  const prefix = `wgmtest-${randomBytes(4).toString('hex')}`;
  const redisUrl = opts.redisUrl ?? env.redisUrl;
  const config = loadConfig({
    WINGMAN_REDIS_PREFIX: prefix,
    DATABASE_URL: opts.databaseUrl ?? database.url,
    REDIS_URL: redisUrl,
    WINGMAN_DATA_DIR: path.join(dir, 'data'),
    WINGMAN_SOCKET_DIR: path.join(dir, 's'),
    WINGMAN_UPSTREAM: env.dockerHost,
    WINGMAN_WORKERS: 'w1,w2',
    WINGMAN_APPROVAL_TIMEOUT_S: '60',
    WINGMAN_API_TOKEN: apiToken,
    WINGMAN_PORT: '5001',
    WINGMAN_LOG_LEVEL: process.env.WGMTEST_LOG_LEVEL ?? 'silent',
    ...opts.env,
  });
  const log = createLogger({ level: config.logLevel, name: 'test' });
  const metrics = createMetrics({ defaults: false });
  const db = new PgDb({ url: config.databaseUrl!, log });
  if (!opts.databaseUrl) await migrate(db, defaultMigrationsDir(), log);
  const bus: Bus = opts.bus === 'memory' ? new MemoryBus({ log }) : new RedisBus({ url: redisUrl, prefix, log });
  const policy: PolicyFile = opts.policy ? parsePolicy(opts.policy, 'test policy') : EMPTY_POLICY;
  const control = await buildControl({ config, db, bus, log, metrics, policy, apiToken });
  await control.server.listen({ host: '127.0.0.1', port: 0 });
  const addr = control.server.server.address();
  const controlUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const proxy = await buildProxy({ config, db, bus, log, metrics, policy });

  let appsStopped = false;
  const stopApps = async () => {
    if (appsStopped) return;
    appsStopped = true;
    await proxy.close().catch(() => undefined);
    await control.close().catch(() => undefined);
    await bus.close().catch(() => undefined);
    await db.close().catch(() => undefined);
  };

  const w: Wingman = {
    config,
    db,
    bus,
    metrics,
    control,
    proxy,
    apiToken,
    controlUrl,
    dir,
    database,
    dockerAs(worker, args, o = {}) {
      return run('docker', args, {
        ...process.env,
        DOCKER_HOST: `unix://${proxy.socketPath(worker)}`,
        DOCKER_BUILDKIT: '0',
        ...o.env,
      }, o.input, o.timeoutMs);
    },
    cli(args) {
      return run(process.execPath, [path.join(ROOT, 'bin/wingman.js'), ...args], {
        ...process.env,
        WINGMAN_CONTROL_URL: controlUrl,
        WINGMAN_API_TOKEN: apiToken,
        WINGMAN_DATA_DIR: config.dataDir,
      });
    },
    async adopt(worker, kind, ...refs) {
      const res = await fetch(`${controlUrl}/workers/${encodeURIComponent(worker)}/adopt`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ kind, refs, by: 'test', force: true }),
      });
      if (res.status !== 200) throw new Error(`adopt ${kind} ${refs.join(' ')} for ${worker}: ${res.status} ${await res.text()}`);
    },
    async pendingApproval(worker, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const list = await control.approvals.list({ status: 'pending', worker });
        if (list[0]) return list[0];
        if (Date.now() > deadline) throw new Error(`no pending approval for ${worker} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stopApps,
    async close() {
      await stopApps();
      if (opts.bus !== 'memory') {
        await dropRedisPrefix(prefix, redisUrl);
      }
      if (!opts.database) await database.drop().catch(() => undefined);
      if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return w;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string, timeoutMs = 120_000): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 512 * 1024 * 1024 }, (err: ExecError | null, stdout, stderr) => {
      if (err && typeof err.code === 'string') {
        reject(err);
        return;
      }
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}
