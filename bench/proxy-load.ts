// Where a proxied call's CPU goes: one Wingman in a process of its own (as bench/proxy.ts starts it), one path
// hammered for a number of rounds, and per round the requests/s, latency percentiles and the CPU per request of every
// process taking part: Wingman (user and system), Postgres (the audit rows it stores), dockerd and this client. The
// machine is small, so what the store and the engine spend is taken from what the proxy can use.
// Run: npm run bench -- proxy-load [path] [requests] [concurrency] [rounds]
//   e.g. npm run bench -- proxy-load /_ping 20000 16 4
//   npm run bench -- proxy-load logs 0 1 [rounds]: a 256 MiB `docker logs` stream instead (the container made through
//   Wingman), MB/s direct and through Wingman, Wingman's CPU per MiB and its full GCs (--trace-gc).
//   WINGMAN_BENCH_NODE_FLAGS="--perf-basic-prof" starts Wingman with those node flags (then `perf record -p <pid>`).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import { docker, dockerOk, dockerSocketPath, testName, TEST_IMAGE } from '../test/helpers/env.js';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PATH = process.argv[2] ?? '/_ping';
const LOGS = PATH === 'logs';
const MiB = 1024 * 1024;
const N = Number(process.argv[3] ?? 20000);
const C = Number(process.argv[4] ?? 16);
const ROUNDS = Number(process.argv[5] ?? 3);
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** user and system CPU (µs) of a process, all its threads */
function cpuOf(pid: string | number): { user: number; sys: number } {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(f[11]) * 1e6) / TICK, sys: (Number(f[12]) * 1e6) / TICK };
}

/** CPU (µs) of every process whose command name starts with `name` */
function cpuOfAll(name: string): number {
  let t = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')).startsWith(name)) continue;
      const c = cpuOf(pid);
      t += c.user + c.sys;
    } catch {
      /* gone */
    }
  }
  return t;
}

// Node's flags as Wingman ships with them (bin/wingman.js's first line), then any asked for.
const flags = ['--max-semi-space-size=64', ...(LOGS ? ['--trace-gc'] : []), ...(process.env.WINGMAN_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)];
const child = spawn(process.execPath, [...flags, '--import', '@tapjs/typescript/import', path.join(root, 'bench/proxy.ts'), 'serve-wingman', root], {
  stdio: ['pipe', 'pipe', 'inherit'],
  cwd: root,
});
const pid = child.pid!;
let fullGcs = 0;
const socket = await new Promise<string>((resolve, reject) => {
  // Node flags print to stdout (--trace-gc): the line that names the socket, and the full GCs, are picked out.
  readline.createInterface({ input: child.stdout }).on('line', (l) => {
    if (l.startsWith('{"socket"')) resolve((JSON.parse(l) as { socket: string }).socket);
    else if (l.includes('Mark-Compact')) fullGcs++;
  });
  child.once('exit', (code) => reject(new Error(`wingman exited (${code})`)));
});
console.log(`wingman pid ${pid} on ${socket}`);

if (LOGS) {
  const name = testName('bench-load-logs');
  try {
    const made = await docker(['create', '--name', name, '--log-driver', 'local', '--log-opt', 'max-size=1g', TEST_IMAGE, 'sh', '-c',
      `yes "$(head -c 8191 /dev/zero | tr '\\0' x)" | head -c ${256 * MiB}`], { host: `unix://${socket}` });
    if (made.code !== 0) throw new Error(made.stderr);
    await dockerOk(['start', name]);
    await dockerOk(['wait', name], { timeoutMs: 600_000 });
    const stream = async (sock: string) => {
      let bytes = 0;
      let reads = 0;
      const c0 = cpuOf(pid);
      const dk0 = cpuOfAll('dockerd');
      const me0 = process.cpuUsage();
      const gc0 = fullGcs;
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => {
        const req = http.get({ socketPath: sock, path: `/v1.41/containers/${name}/logs?stdout=1`, headers: { host: 'docker' } }, (res) => {
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            reads++;
          });
          res.on('end', resolve);
        });
        req.on('error', reject);
      });
      const c = cpuOf(pid);
      const mib = bytes / MiB;
      const me = process.cpuUsage(me0);
      return {
        mbs: mib / ((performance.now() - t0) / 1000),
        cpu: (c.user + c.sys - c0.user - c0.sys) / mib,
        dockerd: (cpuOfAll('dockerd') - dk0) / mib,
        client: (me.user + me.system) / mib,
        reads: reads / mib,
        gcs: fullGcs - gc0,
      };
    };
    for (let round = 1; round <= ROUNDS; round++) {
      const direct = await stream(dockerSocketPath());
      const w = await stream(socket);
      console.log(
        `round ${round}: direct ${direct.mbs.toFixed(0)} MB/s (dockerd ${direct.dockerd.toFixed(0)}, client ${direct.client.toFixed(0)} µs CPU and ${direct.reads.toFixed(0)} reads per MiB); ` +
          `wingman ${w.mbs.toFixed(0)} MB/s (${(w.mbs / direct.mbs).toFixed(2)}), ${w.cpu.toFixed(0)} µs CPU per MiB (dockerd ${w.dockerd.toFixed(0)}, client ${w.client.toFixed(0)}, ${w.reads.toFixed(0)} reads), ${w.gcs} full GCs`,
      );
    }
  } finally {
    await docker(['rm', '-f', name]);
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
  }
  process.exit(0);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: C });
const get = () =>
  new Promise<void>((resolve, reject) => {
    const req = http.get({ agent, socketPath: socket, path: PATH, headers: { host: 'docker' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${PATH}: ${res.statusCode}`))));
    });
    req.on('error', reject);
  });

for (let i = 0; i < 2000; i++) await get(); // warm-up
for (let round = 1; round <= ROUNDS; round++) {
  const w0 = cpuOf(pid);
  const pg0 = cpuOfAll('postgres');
  const dk0 = cpuOfAll('dockerd');
  const me0 = process.cpuUsage();
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (next < N) {
        next++;
        const s = performance.now();
        await get();
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const w = cpuOf(pid);
  const me = process.cpuUsage(me0);
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(2);
  const per = (us: number) => (us / N).toFixed(0).padStart(4);
  console.log(
    `round ${round}: ${(N / secs).toFixed(0)} req/s, ms p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} p99.9 ${q(0.999)}; ` +
      `CPU µs/request: wingman ${per(w.user - w0.user + w.sys - w0.sys)} (user ${per(w.user - w0.user)}, sys ${per(w.sys - w0.sys)}), ` +
      `postgres ${per(cpuOfAll('postgres') - pg0)}, dockerd ${per(cpuOfAll('dockerd') - dk0)}, client ${per(me.user + me.system)}`,
  );
}
agent.destroy();
child.stdin.end();
await new Promise((r) => child.once('exit', r));
