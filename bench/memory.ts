// Memory of the long-running processes, each a real process (bin/wingman.js, the compiled dist/): resident set size
// (VmRSS of /proc/<pid>/status, what process.memoryUsage().rss reports), and what each process loaded (modules by
// area, from test/helpers/module-trace.mjs), to see that the proxy and the sidecar do not load what they do not use.
// Target: sidecar idle under 80 MB.
// - `wingman up` with the embedded store and bus (no DATABASE_URL/REDIS_URL): load = GET /_ping and
//   /containers/json on a worker's socket;
// - `wingman proxy` on Postgres and Redis: the same load;
// - `wingman sidecar` (reaching Docker through that proxy's sidecar identity): load = POST /check.
// Each process is started twice. Once with the module trace (its loader hooks run on a thread of their own, which
// costs memory): the modules loaded once it is ready and idle, and those a short load adds. Once without it, for
// RSS: `start`, the lowest of a few samples 3-6 s after it answers (start-up garbage and a young generation grown
// while loading are still there); `idle`, after --settle seconds with nothing asked (by then V8's memory reducer,
// which runs about 8 s after the last full GC once the process is idle, has given back what start-up left);
// `peak` under load; `after`, settled again after the load.
// Run: npm run build && npm run bench -- memory [load-seconds=10] [concurrency=8] [--settle 30]
//      [--node-options '--max-semi-space-size=1'] [--root /other/checkout]
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
function option(name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args.splice(at, 2)[1] : undefined;
}
const rootArg = option('--root');
/** another checkout to measure (its built dist/), e.g. a worktree of main, for a before/after */
const root = rootArg ? path.resolve(rootArg) : undefined;
const SETTLE_S = Number(option('--settle') ?? 30);
/** Node/V8 options for the measured processes (e.g. --max-semi-space-size=1), to see what one would change */
const nodeOptions = option('--node-options') ?? '';
const S = Number(args[0] ?? 10);
const C = Number(args[1] ?? 8);
const MB = 1024 * 1024;
const trace = path.resolve('test/helpers/module-trace.mjs');

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? (Number(m[1]) * 1024) / MB : NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The lowest of three samples a second apart, after `waitMs` (a GC may be pending). */
async function lowest(pid: number, waitMs: number): Promise<number> {
  await sleep(waitMs);
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

/** C clients for `seconds`; resolves with the calls made and the peak RSS seen (sampled every 200 ms). */
async function underLoad(pid: number, seconds: number, call: (agent: http.Agent, i: number) => Promise<number>): Promise<{ calls: number; bad: number; peak: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: C });
  let peak = rss(pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 200);
  const end = Date.now() + seconds * 1000;
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

/** The files a trace lists so far (its worker threads included: ES modules are all traced from the loader's thread). */
function traced(file: string): Set<string> {
  const files = new Set<string>();
  for (const line of fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : []) {
    const f = line.slice(line.indexOf(' ') + 1).replace(/^file:\/\//, '');
    if (f && !f.startsWith('node:')) files.add(f);
  }
  return files;
}

/** Files by area: a package, or a folder of dist/. */
function byArea(files: Iterable<string>): string {
  const areas = new Map<string, number>();
  let n = 0;
  for (const f of files) {
    n++;
    const nm = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f);
    const area = nm ? nm[1] : (/\/dist\/([^/]+(?:\/[^/.]+)?)/.exec(f)?.[1] ?? 'other');
    areas.set(area, (areas.get(area) ?? 0) + 1);
  }
  const top = [...areas].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${k} ${c}`);
  return `${n} modules${n ? `: ${top.join(', ')}` : ''}`;
}

interface Row {
  name: string;
  start: number;
  idle: number;
  peak: number;
  after: number;
  calls: number;
  bad: number;
  modulesIdle: string;
  modulesLoad: string;
}
const rows: Row[] = [];
const procs: UpProcess[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmbench-mem-'));
const env = testEnv();
const quiet = { WINGMAN_LOG_LEVEL: 'warn', ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) };
const traceEnv = (name: string) => ({ ...quiet, NODE_OPTIONS: `${nodeOptions} --import=${trace}`.trim(), WGM_TRACE_FILE: path.join(dir, `${name}.trace`) });

async function waitFor(what: string, p: UpProcess, fn: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > end || p.child.exitCode !== null) throw new Error(`timed out waiting for ${what}:\n${p.output().slice(-3000)}`);
    await sleep(200);
  }
}

async function stop(p: UpProcess): Promise<void> {
  p.child.kill('SIGTERM');
  await p.exited;
  procs.splice(procs.indexOf(p), 1);
}

/**
 * One process, twice: `start(env, run)` starts it (run: 'traced' or 'plain', for its own data directory) and
 * resolves once it answers. The traced run gives the modules, the plain one the RSS; the plain process is returned,
 * still running, when `keep`.
 */
async function measure(
  name: string,
  start: (extraEnv: Record<string, string>, run: string) => Promise<UpProcess>,
  call: (agent: http.Agent, i: number) => Promise<number>,
  keep = false,
): Promise<UpProcess | undefined> {
  const t = await start(traceEnv(name), 'traced');
  procs.push(t);
  await sleep(2000);
  const file = path.join(dir, `${name}.trace`);
  const idleFiles = traced(file);
  await underLoad(t.pid, Math.min(S, 3), call);
  const loadFiles = [...traced(file)].filter((f) => !idleFiles.has(f));
  await stop(t);

  const p = await start(quiet, 'plain');
  procs.push(p);
  const startRss = await lowest(p.pid, 3000);
  const idleRss = await lowest(p.pid, SETTLE_S * 1000);
  const load = await underLoad(p.pid, S, call);
  const after = await lowest(p.pid, SETTLE_S * 1000);
  rows.push({ name, start: startRss, idle: idleRss, peak: load.peak, after, calls: load.calls, bad: load.bad, modulesIdle: byArea(idleFiles), modulesLoad: byArea(loadFiles) });
  if (keep) return p;
  await stop(p);
  return undefined;
}

const proxyLoad = (sock: string) => (agent: http.Agent, i: number) =>
  request({ agent, socketPath: sock, path: i % 2 ? '/_ping' : '/v1.41/containers/json', headers: { host: 'docker' } });

const database = await createTestDatabase();
const box = await startWorkerBox('mem', ['--user', '1000']);
try {
  // `wingman up`: embedded store and bus.
  const upSock = (run: string) => path.join(dir, `up-${run}`, 's', 'w1', 'docker.sock');
  let upRun = 'traced';
  await measure(
    'up',
    async (extra, run) => {
      upRun = run;
      const d = path.join(dir, `up-${run}`);
      const up = await startUp({ ...extra, WINGMAN_DATA_DIR: path.join(d, 'data'), WINGMAN_SOCKET_DIR: path.join(d, 's'), WINGMAN_UPSTREAM: env.dockerHost, WINGMAN_WORKERS: 'w1', WINGMAN_HOST: '127.0.0.1' }, 'up', root);
      await waitFor('wingman up', up, async () => (await request({ socketPath: upSock(run), path: '/_ping' })) === 200);
      return up;
    },
    (agent, i) => proxyLoad(upSock(upRun))(agent, i),
  );
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
  const sock = path.join(dir, 's', 'w1', 'docker.sock');
  // The plain proxy stays up: the sidecars reach Docker through its sidecar identity.
  await measure(
    'proxy',
    async (extra, run) => {
      const proxy = await startUp({ ...common, ...extra, WINGMAN_DATA_DIR: path.join(dir, `proxy-${run}`) }, 'proxy', root);
      await waitFor('wingman proxy', proxy, async () => (await request({ socketPath: sock, path: '/_ping' })) === 200);
      return proxy;
    },
    proxyLoad(sock),
    true,
  );

  let port = 0;
  const md = instructionMarkdown();
  await measure(
    'sidecar',
    async (extra, run) => {
      port = await freePort();
      // Root only because the bench runs as root (the sidecar refuses its worker's uid; the box runs as 1000).
      const sidecar = await startUp(
        { ...common, ...extra, WINGMAN_DATA_DIR: path.join(dir, `sidecar-${run}`), WINGMAN_WORKER: 'w1', WINGMAN_WORKER_CONTAINER: box.name, WINGMAN_SIDECAR_PORT: String(port), WINGMAN_SIDECAR_ALLOW_ROOT: 'true' },
        'sidecar',
        root,
      );
      await waitFor('wingman sidecar', sidecar, async () => (await fetch(`http://127.0.0.1:${port}/health`)).status === 200);
      return sidecar;
    },
    (agent) => request({ agent, host: '127.0.0.1', port, method: 'POST', path: '/check', headers: { 'content-type': 'text/markdown', 'content-length': Buffer.byteLength(md) } }, md),
  );
} finally {
  for (const p of procs) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  await box.remove();
  await database.drop();
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(`${root ? `checkout ${root}: ` : ''}RSS in MB (VmRSS)${nodeOptions ? `, with NODE_OPTIONS=${nodeOptions}` : ''}`);
console.log(`  start: 3-6 s after it answers; idle: after ${SETTLE_S} s idle; peak: under load (${C} clients, ${S} s); after: ${SETTLE_S} s after the load`);
console.log('process     start     idle     peak    after    calls  failed');
for (const r of rows) {
  console.log(
    `${r.name.padEnd(8)} ${[r.start, r.idle, r.peak, r.after].map((x) => x.toFixed(1).padStart(8)).join(' ')} ${String(r.calls).padStart(8)} ${String(r.bad).padStart(7)}`,
  );
}
for (const r of rows) console.log(`${r.name} idle: ${r.modulesIdle}\n${r.name} + under load: ${r.modulesLoad}`);
const sc = rows.find((r) => r.name === 'sidecar');
if (sc) console.log(`sidecar idle ${sc.idle.toFixed(1)} MB (${sc.start.toFixed(1)} MB in its first seconds): ${sc.idle < 80 ? 'under' : 'OVER'} the 80 MB target`);
