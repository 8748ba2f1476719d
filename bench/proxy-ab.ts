// Before/after in one run: this checkout's proxy against another commit's (a `git worktree` of it, sharing
// node_modules), interleaved with the engine direct, so a change's cost is measured on the same machine at the same
// time. Medians of 3 rounds; CPU is this process's per request minus the direct case's (the proxy's own).
// Run: git worktree add /tmp/wgm-base <commit> && ln -s $PWD/node_modules /tmp/wgm-base/node_modules
//      WINGMAN_BENCH_BASE=/tmp/wgm-base npm run bench -- proxy-ab [requests] [concurrency]
import http from 'node:http';
import path from 'node:path';
import { docker, dockerSocketPath, testName, TEST_IMAGE } from '../test/helpers/env.js';
import { startWingman as startNew, type Wingman } from '../test/helpers/wingman.js';

const base = process.env.WINGMAN_BENCH_BASE;
if (!base) {
  console.error('WINGMAN_BENCH_BASE=<a checkout of the commit to compare against> is required');
  process.exit(2);
}
const { startWingman: startOld } = (await import(path.join(base, 'test/helpers/wingman.ts'))) as { startWingman: typeof startNew };

function get(agent: http.Agent, socketPath: string, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ agent, socketPath, path }, (res) => { res.resume(); res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path} ${res.statusCode}`)))); });
    req.on('error', reject);
  });
}
async function load(sock: string, path: string, n: number, c: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: c });
  for (let i = 0; i < 200; i++) await get(agent, sock, path);
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, async () => { while (next < n) { next++; await get(agent, sock, path); } }));
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  return { rps: n / secs, cpu: (cpu.user + cpu.system) / n };
}
const N = Number(process.argv[2] ?? 5000);
const C = Number(process.argv[3] ?? 8);
const nw = await startNew({ env: { WINGMAN_LOG_LEVEL: 'silent' } });
const ow: Wingman = await startOld({ env: { WINGMAN_LOG_LEVEL: 'silent' } });
const own = testName('ab-own');
await nw.dockerAs('w1', ['run', '-d', '--name', own, TEST_IMAGE, 'sleep', '600']);
const res: Record<string, { d: number[]; o: number[]; n: number[]; dc: number[]; oc: number[]; nc: number[] }> = {};
try {
  for (let round = 0; round < 3; round++) {
    // Calls that name the container only the new instance owns are refused by the other (its own store): each
    // instance is asked only what it may answer.
    for (const p of ['/_ping', '/v1.41/containers/json']) {
      const r = (res[p] ??= { d: [], o: [], n: [], dc: [], oc: [], nc: [] });
      const d = await load(dockerSocketPath(), p, N, C);
      const o = await load(ow.proxy.socketPath('w1'), p, N, C);
      const n = await load(nw.proxy.socketPath('w1'), p, N, C);
      r.d.push(d.rps); r.o.push(o.rps); r.n.push(n.rps); r.dc.push(d.cpu); r.oc.push(o.cpu); r.nc.push(n.cpu);
    }
  }
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  console.log(`proxy before/after: ${N} requests per case, concurrency ${C}, keep-alive; base ${base}`);
  for (const [p, r] of Object.entries(res)) {
    console.log(`${p.replace(own, '{name}').padEnd(36)} direct ${med(r.d).toFixed(0)} req/s | before ${med(r.o).toFixed(0)} (${(med(r.o) / med(r.d)).toFixed(2)}x, ${(med(r.oc) - med(r.dc)).toFixed(0)} µs CPU) | after ${med(r.n).toFixed(0)} (${(med(r.n) / med(r.d)).toFixed(2)}x, ${(med(r.nc) - med(r.dc)).toFixed(0)} µs CPU) | after/before ${(med(r.n) / med(r.o)).toFixed(2)}`);
  }
} finally {
  await docker(['rm', '-f', own]);
  await nw.close();
  await ow.close();
}
