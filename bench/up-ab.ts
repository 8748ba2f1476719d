// `wingman up` with its defaults (embedded store and bus) from this checkout and from another (its dist/, e.g. a
// worktree of main), side by side in one run: rounds of the same load on each in turn (GET /_ping and
// /containers/json on a worker's socket, keep-alive), requests/s per round, and the ratio of medians.
// Run: npm run build && npm run bench -- up-ab --base /path/to/other/checkout [seconds=10] [rounds=4] [concurrency=8]
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { testEnv } from '../test/helpers/env.js';
import { startUp, type UpProcess } from '../test/helpers/wingman-up.js';

const args = process.argv.slice(2);
const baseAt = args.indexOf('--base');
if (baseAt < 0) throw new Error('usage: npm run bench -- up-ab --base <checkout> [seconds] [rounds] [concurrency]');
const base = path.resolve(args.splice(baseAt, 2)[1]);
const S = Number(args[0] ?? 10);
const ROUNDS = Number(args[1] ?? 4);
const C = Number(args[2] ?? 8);

function get(agent: http.Agent, socketPath: string, p: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ agent, socketPath, path: p, headers: { host: 'docker' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

async function load(sock: string): Promise<{ rps: number; bad: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: C });
  const end = Date.now() + S * 1000;
  const t0 = Date.now();
  let calls = 0;
  let bad = 0;
  await Promise.all(
    Array.from({ length: C }, async () => {
      while (Date.now() < end) {
        const status = await get(agent, sock, calls++ % 2 ? '/_ping' : '/v1.41/containers/json').catch(() => 0);
        if (status !== 200) bad++;
      }
    }),
  );
  agent.destroy();
  return { rps: calls / ((Date.now() - t0) / 1000), bad };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmbench-upab-'));
const procs: Array<{ name: string; p: UpProcess; sock: string; rps: number[]; bad: number }> = [];
try {
  for (const [name, root] of [['base', base], ['this', undefined]] as const) {
    const d = path.join(dir, name);
    const p = await startUp({ WINGMAN_DATA_DIR: path.join(d, 'data'), WINGMAN_SOCKET_DIR: path.join(d, 's'), WINGMAN_UPSTREAM: testEnv().dockerHost, WINGMAN_WORKERS: 'w1', WINGMAN_HOST: '127.0.0.1', WINGMAN_LOG_LEVEL: 'warn' }, 'up', root);
    procs.push({ name, p, sock: path.join(d, 's', 'w1', 'docker.sock'), rps: [], bad: 0 });
  }
  for (const x of procs) {
    const end = Date.now() + 600_000;
    while ((await get(new http.Agent(), x.sock, '/_ping').catch(() => 0)) !== 200) {
      if (Date.now() > end || x.p.child.exitCode !== null) throw new Error(`${x.name} not ready:\n${x.p.output()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const x of round % 2 ? [...procs].reverse() : procs) {
      const r = await load(x.sock);
      x.rps.push(r.rps);
      x.bad += r.bad;
    }
  }
} finally {
  for (const x of procs) x.p.child.kill('SIGKILL');
  await Promise.all(procs.map((x) => x.p.exited));
  fs.rmSync(dir, { recursive: true, force: true });
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`wingman up (embedded store), ${C} clients, ${ROUNDS} interleaved rounds of ${S} s`);
for (const x of procs) console.log(`${x.name.padEnd(5)} req/s per round: ${x.rps.map((r) => r.toFixed(0)).join(' ')}  median ${med(x.rps).toFixed(0)}  failed ${x.bad}`);
console.log(`this / base: ×${(med(procs[1].rps) / med(procs[0].rps)).toFixed(2)}`);
