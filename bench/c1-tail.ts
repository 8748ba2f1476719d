// What the added p99 at concurrency 1 is made of on this machine. `bench proxy` measures Wingman's c1 tail at about
// 2 ms above direct; this bench takes the store's part apart from Wingman's, in one run:
//   1. The machine: a thread pinned to one vCPU spins for a few seconds, alone and then while another spins on the
//      other vCPU. It prints the time it lost in gaps, and how long the kernel says it waited on its run queue
//      (/proc/thread-self/schedstat): lost time matched by run-queue wait went to other tasks of this machine, crowded
//      onto its vCPU while the other was busy; lost time beyond it was taken outside the guest.
//   2. Direct, node-bare (node:http and Wingman's forward, nothing else: no audit) and Wingman, each at concurrency 1,
//      in rounds alternating quiet with "store writes": another process inserts an audit row per call served into
//      Postgres, batched every 25 ms with the statement Wingman's shipper uses (bench/audit-writes.ts). Wingman's
//      quiet rounds already carry its own audit writes.
// If node-bare's tail under store writes matches Wingman's quiet one, the tail is the store's work on the same two
// vCPUs, not the proxy's path.
// Run: npm run bench -- c1-tail [calls per round] [rounds of each kind]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAuditWrites, type AuditWrites } from './audit-writes.js';
import { get, startNodeProcess, type Target } from './proxy-targets.js';
import { dockerSocketPath } from '../test/helpers/env.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..');

// ------------------------------------------------------------------ child: a vCPU-pinned spinner
if (process.argv[2] === 'spin') {
  const ms = Number(process.argv[3]);
  // schedstat: time on the CPU, time waiting on a run queue (ns)
  const waited = () => Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[1]) / 1e6;
  const w0 = waited();
  const t0 = performance.now();
  let last = t0;
  let lost = 0;
  let gaps = 0;
  let longest = 0;
  for (;;) {
    const t = performance.now();
    const d = t - last;
    last = t;
    // A turn of this loop takes well under a microsecond: a longer one is time the thread did not run.
    if (d > 0.2) {
      lost += d;
      if (d > 1) gaps++;
      longest = Math.max(longest, d);
    }
    if (t - t0 > ms) break;
  }
  process.stdout.write(JSON.stringify({ lost, gaps, longest, ms, queued: waited() - w0 }) + '\n');
  process.exit(0);
}

// ------------------------------------------------------------------ the run
const N = Number(process.argv[2] ?? 5000);
const ROUNDS = Number(process.argv[3] ?? 2);

// 1. The machine.
type Spun = { lost: number; gaps: number; longest: number; ms: number; queued: number };
const cpus = os.availableParallelism();
if (cpus >= 2 && spawnSync('sh', ['-c', 'command -v taskset']).status === 0) {
  const pinned = (cpu: number, ms: number) => {
    const ch = spawn('taskset', ['-c', String(cpu), process.execPath, '--import', '@tapjs/typescript/import', SELF, 'spin', String(ms)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: ROOT,
    });
    return new Promise<Spun>((resolve, reject) => {
      let out = '';
      ch.stdout.on('data', (c: Buffer) => (out += c.toString()));
      ch.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`spinner exited ${code}`))));
    });
  };
  const say = (what: string, r: Spun) =>
    console.log(
      `${what}: lost ${r.lost.toFixed(0)} ms of ${r.ms} (${((r.lost / r.ms) * 100).toFixed(2)} %), ${r.gaps} gaps over 1 ms, ` +
        `longest ${r.longest.toFixed(2)} ms; waited on its run queue ${r.queued.toFixed(0)} ms`,
    );
  say('vCPU 0 spinning alone', await pinned(0, 5000));
  const [a, b] = await Promise.all([pinned(0, 5000), pinned(1, 5000)]);
  say('vCPU 0 while vCPU 1 spins', a);
  say('vCPU 1 while vCPU 0 spins', b);
} else console.log(`(no vCPU probe: ${cpus} CPUs, or no taskset)`);

// 2. The proxies at concurrency 1.
const targets: Target[] = [
  { name: 'direct', socket: dockerSocketPath(), stop: async () => undefined },
  await startNodeProcess('node-bare', ['serve-bare', dockerSocketPath()]),
  await startNodeProcess('wingman', ['serve-wingman', ROOT]),
];

const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(2);
try {
  for (const t of targets) {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const round = async (writes?: AuditWrites) => {
      const lat: number[] = [];
      const t0 = performance.now();
      for (let i = 0; i < N; i++) {
        const s = performance.now();
        await get(agent, t.socket, '/_ping');
        lat.push(performance.now() - s);
        writes?.add(1);
      }
      return { rate: N / ((performance.now() - t0) / 1000), lat: lat.sort((x, y) => x - y) };
    };
    for (let i = 0; i < 3000; i++) await get(agent, t.socket, '/_ping'); // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      for (const withWrites of [false, true]) {
        const writes = withWrites ? await startAuditWrites() : undefined;
        const m = await round(writes);
        let extra = '';
        if (writes) {
          const s = await writes.stop();
          extra = `; ${s.inserts} inserts of ${(s.rows / Math.max(1, s.inserts)).toFixed(0)} rows, ${s.msEach.toFixed(2)} ms each`;
        }
        console.log(
          `${t.name.padEnd(9)} ${writes ? 'store writes' : 'quiet       '} ${m.rate.toFixed(0).padStart(5)} req/s  ms p50 ${q(m.lat, 0.5)} p99 ${q(m.lat, 0.99)} p99.9 ${q(m.lat, 0.999)}${extra}`,
        );
      }
    }
    agent.destroy();
  }
} finally {
  for (const t of targets) await t.stop();
}
