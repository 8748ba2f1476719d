// Memory of the long-running processes, each a real process (bin/wingman.js, the compiled dist/): resident set size
// (VmRSS of /proc/<pid>/status, what process.memoryUsage().rss reports) idle after start, peak under load, and
// idle again after it; and what each process loaded (modules by area, from bench/module-trace.mjs), to see that
// the proxy and the sidecar do not load what they do not use. Target: sidecar idle under 80 MB.
// - `wingman up` with the embedded store and bus (no DATABASE_URL/REDIS_URL): load = GET /_ping and
//   /containers/json on a worker's socket;
// - `wingman proxy` on Postgres and Redis: the same load;
// - `wingman sidecar` (reaching Docker through that proxy's sidecar identity): load = POST /check.
// Run: npm run build && npm run bench -- memory [load-seconds=10] [concurrency=8] [--root /other/checkout]
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '../test/helpers/db.js';
import { testEnv } from '../test/helpers/env.js';
import { freePort, startUp, type UpProcess } from '../test/helpers/wingman-up.js';
import { instructionMarkdown, startWorkerBox } from '../test/sidecar/sidecar-env.js';
import { PgDb } from '../core/store/pg-db.js';
import { migrate, defaultMigrationsDir } from '../core/store/migrate.js';
import { createLogger } from '../core/log.js';

const args = process.argv.slice(2);
const rootAt = args.indexOf('--root');
/** another checkout to measure (its built dist/), e.g. a worktree of main, for a before/after */
const root = rootAt >= 0 ? path.resolve(args.splice(rootAt, 2)[1]) : undefined;
const S = Number(args[0] ?? 10);
const C = Number(args[1] ?? 8);
const MB = 1024 * 1024;
const trace = path.resolve('bench/module-trace.mjs');

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? (Number(m[1]) * 1024) / MB : NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** RSS once the process has settled: the lowest of a few samples a second apart (a GC may be pending). */
async function idle(pid: number): Promise<number> {
  await sleep(3000);
  const xs: number[] = [];
  for (let i = 0; i < 3; i++) {
    xs.push(rss(pid));
    await sleep(1000);
  }
  return Math.min(...xs);
}

function request(opts: http.RequestOptions, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(opts, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** C clients for S seconds; resolves with the calls made and the peak RSS seen (sampled every 200 ms). */
async function underLoad(pid: number, call: (agent: http.Agent, i: number) => Promise<number>): Promise<{ calls: number; bad: number; peak: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: C });
  let peak = rss(pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 200);
  const end = Date.now() + S * 1000;
  let calls = 0;
  let bad = 0;
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (Date.now() < end) {
        const status = await call(agent, calls++).catch(() => 0);
        if (status === 0 || status >= 500) bad++;
      }
    }),
  );
  clearInterval(sampler);
  agent.destroy();
  return { calls, bad, peak: Math.max(peak, rss(pid)) };
}

/**
 * Modules a process loaded (its worker threads included: ES modules are all traced from the loader's own thread),
 * by area: a package, or a folder of dist/.
 */
function loaded(file: string): string {
  const files = new Set<string>();
  for (const line of fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : []) {
    const f = line.slice(line.indexOf(' ') + 1).replace(/^file:\/\//, '');
    if (f && !f.startsWith('node:')) files.add(f);
  }
  const areas = new Map<string, number>();
  for (const f of files) {
    const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f);
    const area = nm ? nm[1] : (/\/dist\/([^/]+(?:\/[^/.]+)?)/.exec(f)?.[1] ?? 'other');
    areas.set(area, (areas.get(area) ?? 0) + 1);
  }
  const top = [...areas].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${k} ${c}`);
  return `${files.size} modules: ${top.join(', ')}`;
}

interface Row {
  name: string;
  idle: number;
  peak: number;
  after: number;
  calls: number;
  bad: number;
  modules: string;
}
const rows: Row[] = [];
const procs: UpProcess[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmbench-mem-'));
const env = testEnv();
const traceEnv = (name: string) => ({ NODE_OPTIONS: `--import=${trace}`, WGM_TRACE_FILE: path.join(dir, `${name}.trace`), WINGMAN_LOG_LEVEL: 'warn' });

async function waitFor(what: string, fn: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function measure(name: string, p: UpProcess, call: (agent: http.Agent, i: number) => Promise<number>): Promise<void> {
  const before = await idle(p.pid);
  const load = await underLoad(p.pid, call);
  const after = await idle(p.pid);
  rows.push({ name, idle: before, peak: load.peak, after, calls: load.calls, bad: load.bad, modules: loaded(path.join(dir, `${name}.trace`)) });
}

const proxyLoad = (sock: string) => (agent: http.Agent, i: number) =>
  request({ agent, socketPath: sock, path: i % 2 ? '/_ping' : '/v1.41/containers/json', headers: { host: 'docker' } });

const database = await createTestDatabase();
const box = await startWorkerBox('mem', ['--user', '1000']);
try {
  // `wingman up`: embedded store and bus.
  {
    const d = path.join(dir, 'up');
    const up = await startUp({ ...traceEnv('up'), WINGMAN_DATA_DIR: path.join(d, 'data'), WINGMAN_SOCKET_DIR: path.join(d, 's'), WINGMAN_UPSTREAM: env.dockerHost, WINGMAN_WORKERS: 'w1', WINGMAN_HOST: '127.0.0.1' }, 'up', root);
    procs.push(up);
    const sock = path.join(d, 's', 'w1', 'docker.sock');
    await waitFor('wingman up', async () => (await request({ socketPath: sock, path: '/_ping' })) === 200);
    await measure('up', up, proxyLoad(sock));
    up.child.kill('SIGTERM');
    await up.exited;
  }
  // `wingman proxy` and `wingman sidecar` on Postgres and Redis.
  const pg = new PgDb({ url: database.url });
  await migrate(pg, defaultMigrationsDir(), createLogger({ level: 'silent' }));
  await pg.query('INSERT INTO workers (name, container) VALUES ($1, $2)', ['w1', box.name]);
  await pg.close();
  const common = {
    DATABASE_URL: database.url,
    REDIS_URL: env.redisUrl,
    WINGMAN_REDIS_PREFIX: `wgmtest-${randomBytes(4).toString('hex')}`,
    WINGMAN_UPSTREAM: env.dockerHost,
    WINGMAN_SOCKET_DIR: path.join(dir, 's'),
    WINGMAN_WORKERS: 'w1',
    WINGMAN_HOST: '127.0.0.1',
  };
  const proxy = await startUp({ ...common, ...traceEnv('proxy'), WINGMAN_DATA_DIR: path.join(dir, 'proxy-data') }, 'proxy', root);
  procs.push(proxy);
  const sock = path.join(dir, 's', 'w1', 'docker.sock');
  await waitFor('wingman proxy', async () => (await request({ socketPath: sock, path: '/_ping' })) === 200);
  await measure('proxy', proxy, proxyLoad(sock));

  const port = await freePort();
  // Root only because the bench runs as root (the sidecar refuses its worker's uid; the box runs as 1000).
  const sidecar = await startUp({ ...common, ...traceEnv('sidecar'), WINGMAN_DATA_DIR: path.join(dir, 'sidecar-data'), WINGMAN_WORKER: 'w1', WINGMAN_WORKER_CONTAINER: box.name, WINGMAN_SIDECAR_PORT: String(port), WINGMAN_SIDECAR_ALLOW_ROOT: 'true' }, 'sidecar', root);
  procs.push(sidecar);
  await waitFor('wingman sidecar', async () => (await fetch(`http://127.0.0.1:${port}/health`)).status === 200);
  const md = instructionMarkdown();
  await measure('sidecar', sidecar, (agent) =>
    request({ agent, host: '127.0.0.1', port, method: 'POST', path: '/check', headers: { 'content-type': 'text/markdown', 'content-length': Buffer.byteLength(md) } }, md),
  );
} finally {
  for (const p of procs) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  await box.remove();
  await database.drop();
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(`${root ? `checkout ${root}: ` : ''}RSS in MB (VmRSS): idle after start, peak under load (${C} clients, ${S} s), idle after load`);
console.log('process      idle     peak    after    calls  failed');
for (const r of rows) {
  console.log(`${r.name.padEnd(8)} ${r.idle.toFixed(1).padStart(8)} ${r.peak.toFixed(1).padStart(8)} ${r.after.toFixed(1).padStart(8)} ${String(r.calls).padStart(8)} ${String(r.bad).padStart(7)}`);
}
for (const r of rows) console.log(`${r.name}: ${r.modules}`);
const sc = rows.find((r) => r.name === 'sidecar');
if (sc) console.log(`sidecar idle ${sc.idle.toFixed(1)} MB: ${sc.idle < 80 ? 'under' : 'OVER'} the 80 MB target`);
