// Test harness for the sidecar: a real busybox worker container on the private test engine, a migrated test database,
// a prefixed Redis bus (or the in-process one), and buildSidecar() listening on 127.0.0.1:0. close() removes all of it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Dockerode from 'dockerode';
import type { Bus } from '../../core/bus/bus.js';
import { MemoryBus } from '../../core/bus/memory-bus.js';
import { RedisBus } from '../../core/bus/redis-bus.js';
import { loadConfig, type Config } from '../../core/config.js';
import { createLogger, type Logger } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';
import type { Db } from '../../core/store/db.js';
import { PgDb } from '../../core/store/pg-db.js';
import { buildSidecar, type SidecarApp, type SidecarOptions } from '../../sidecar/app.js';
import { buildProxy, type ProxyApp } from '../../proxy/app.js';
import { EMPTY_POLICY } from '../../core/policy/policy-file.js';
import { Workers } from '../../core/workers/workers.js';
import { MemoryLockMirror } from '../../core/lockdown/lock-mirror.js';
import { docker, dockerOk, dockerSocketPath, dropRedisPrefix, testEnv, testLabels, testName, TEST_IMAGE, type DockerResult } from '../helpers/env.js';

export interface WorkerBox {
  name: string;
  id: string;
  /** run a shell script in the worker container (as the worker would) */
  sh(script: string): Promise<DockerResult>;
  remove(): Promise<void>;
}

/** A running busybox "worker" container, working directory /work. */
export async function startWorkerBox(tag = 'worker', extra: string[] = []): Promise<WorkerBox> {
  const name = testName(tag);
  const labels = Object.entries(testLabels()).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  const id = await dockerOk(['run', '-d', '--name', name, ...labels, '-w', '/work', ...extra, TEST_IMAGE, 'sh', '-c', 'mkdir -p /work; exec sleep 600']);
  // wait until the working directory exists
  for (let i = 0; i < 50; i++) {
    if ((await docker(['exec', name, 'test', '-d', '/work'])).code === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    name,
    id,
    sh: (script) => docker(['exec', name, 'sh', '-c', script]),
    remove: async () => {
      await docker(['rm', '-f', '-v', name]);
    },
  };
}

export function testDocker(): Dockerode {
  return new Dockerode({ socketPath: dockerSocketPath() });
}

export interface SidecarEnv {
  app: SidecarApp;
  /** the proxy whose sidecar identity the verifiers use (absent with docker: 'engine') */
  proxy: ProxyApp | undefined;
  url: string;
  config: Config;
  db: Db;
  bus: Bus;
  dir: string;
  post(p: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any }>;
  get(p: string): Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

export interface SidecarEnvOptions {
  databaseUrl: string;
  container: string;
  worker?: string;
  dir?: string;
  bus?: 'redis' | 'memory';
  busPrefix?: string;
  log?: Logger;
  verifyLoop?: SidecarOptions['verifyLoop'];
  testTimeoutMs?: number;
  /** task-start baseline bounds (budget, files …) */
  baseline?: SidecarOptions['baseline'];
  /** keep the data dir on close (restart tests) */
  keepDir?: boolean;
  /**
   * How the verifiers reach Docker: through the sidecar's own proxy identity, as deployed (default; a proxy is
   * built for the test and the worker's container registered), or straight to the engine.
   */
  docker?: 'proxy' | 'engine';
  /** the proxy's store (default databaseUrl): a test that cuts the sidecar's store may keep the proxy's */
  proxyDatabaseUrl?: string;
  /** the sidecar's Redis (default the test Redis): a relay a test can cut */
  redisUrl?: string;
  /** how long the gate trusts a cached lock state (SidecarOptions.lockCacheMs) */
  lockCacheMs?: number;
}

export async function startSidecarEnv(o: SidecarEnvOptions): Promise<SidecarEnv> {
  const env = testEnv();
  const dir = o.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-sc-'));
  const config = loadConfig({
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: o.redisUrl ?? env.redisUrl,
    WINGMAN_DATA_DIR: path.join(dir, 'data'),
    WINGMAN_WORKER: o.worker ?? 'w1',
    WINGMAN_WORKER_CONTAINER: o.container,
    WINGMAN_UPSTREAM: env.dockerHost,
    WINGMAN_SOCKET_DIR: path.join(dir, 's'),
    WINGMAN_LOG_LEVEL: process.env.WGMTEST_LOG_LEVEL ?? 'silent',
  });
  const log = o.log ?? createLogger({ level: config.logLevel, name: 'sidecar-test' });
  const db = new PgDb({ url: o.databaseUrl, log });
  const prefix = o.busPrefix ?? `wgmtest-${randomBytes(4).toString('hex')}`;
  const bus: Bus = o.bus === 'memory' ? new MemoryBus({ log }) : new RedisBus({ url: o.redisUrl ?? env.redisUrl, prefix, log });
  let proxy: ProxyApp | undefined;
  let proxyDb: Db | undefined;
  let dockerHandle = testDocker();
  if (o.docker !== 'engine') {
    // The proxy gets its own store handle: a test that closes or restarts the sidecar's must not take it along.
    proxyDb = new PgDb({ url: o.proxyDatabaseUrl ?? o.databaseUrl, log });
    proxy = await buildProxy({ config, db: proxyDb, bus: new MemoryBus({ log }), log, metrics: createMetrics({ defaults: false }), policy: EMPTY_POLICY, lockMirror: new MemoryLockMirror() });
    await new Workers(proxyDb, new MemoryBus({ log })).add(config.worker!, o.container);
    await proxy.addWorker(config.worker!);
    dockerHandle = new Dockerode({ socketPath: proxy.sidecarSocketPath(config.worker!) });
  }
  const app = await buildSidecar({
    config,
    db,
    bus,
    log,
    metrics: createMetrics({ defaults: false }),
    docker: dockerHandle,
    verifyLoop: { sweepMs: 500, leaseMs: 4_000, ...o.verifyLoop },
    testTimeoutMs: o.testTimeoutMs ?? 60_000,
    baseline: o.baseline,
    lockCacheMs: o.lockCacheMs,
  });
  await app.server.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const call = async (method: string, p: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url + p, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = { raw: text };
    }
    return { status: res.status, json };
  };
  let closed = false;
  return {
    app,
    proxy,
    url,
    config,
    db,
    bus,
    dir,
    post: (p, body, headers) => call('POST', p, body, headers),
    get: (p) => call('GET', p),
    async close() {
      if (closed) return;
      closed = true;
      await app.close().catch(() => undefined);
      await proxy?.close().catch(() => undefined);
      await proxyDb?.close().catch(() => undefined);
      await bus.close().catch(() => undefined);
      await db.close().catch(() => undefined);
      if (o.bus !== 'memory' && !o.busPrefix) await dropRedisPrefix(prefix);
      if (!o.keepDir && !o.dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { dropRedisPrefix };

export const SECTIONS = {
  DELIVERABLES: 'A file /work/out/app.txt holding the build output, and the test script /work/test.sh next to it.',
  SUCCESS_CRITERIA: 'The file exists with the expected content and the test script exits 0 with every case passing.',
  BOUNDARIES: 'Only touch /work; never use --force on any git command and never delete anything outside /work.',
  DEPENDENCIES: 'Only the busybox tools already in the image; no packages are installed or downloaded.',
  MITIGATION: 'If the build output is wrong, remove /work/out and run the build step again from a clean state.',
  TEST_PROCESS: '```sh\nsh /work/test.sh\n```',
  TEST_RESULTS_FORMAT: 'TAP comment lines "# pass N" and "# fail N" printed by the test script at the end.',
  RESOURCE_REQUIREMENTS: 'One CPU core, under 50 MB of memory and a few seconds of wall-clock time overall.',
  RISK_ASSESSMENT: 'Low: the task writes inside /work only; the main risk is a stale output file from earlier.',
  QUALITY_METRICS: 'Every case in the test script passes and the output file matches the documented format.',
} as const;

export function instructionMarkdown(overrides: Partial<Record<keyof typeof SECTIONS, string>> = {}, omit: string[] = []): string {
  const out = ['# Task: build the app file', ''];
  for (const [k, v] of Object.entries({ ...SECTIONS, ...overrides })) {
    if (omit.includes(k)) continue;
    out.push(`## ${k}`, v, '');
  }
  return out.join('\n');
}
