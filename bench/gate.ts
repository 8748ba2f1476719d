// The instruction gate as a worker meets it: POST /check over HTTP against a real sidecar (decision judged, stored in
// Postgres, published on Redis), at fixed concurrency, for a mix of instructions (approved, one section missing, a
// forbidden action, a secret). Prints instructions/s and p50/p99 of /check, checks that every answered decision is
// in Postgres and was published on Redis, then the pure checkInstruction() cost on 1 KB instructions.
//
// The load comes from a worker thread: a worker is another process, and a client on the sidecar's own event loop
// would bill its HTTP parsing to the sidecar. The sidecar runs as the tests run it (its proxy identity in the same
// process, the worker's container absent, so an approved instruction's baseline capture fails fast but is stored).
// The run is measured once warm (see the warm-up below): the first thousand checks after a start run at a fifth to
// a quarter of the steady rate and the next few thousand climb to it; the warm-up line prints them.
// Run: npm run bench -- gate [requests (4000)] [concurrency (8)]
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import type { RedisBus } from '../core/bus/redis-bus.js';
import { checkInstruction } from '../core/gate/index.js';
import { migratedTestDb } from '../test/helpers/db.js';
import { testEnv } from '../test/helpers/env.js';
import { instructionMarkdown, SECTIONS, startSidecarEnv } from '../test/sidecar/sidecar-env.js';

const N = Number(process.argv[2] ?? 4000);
const C = Number(process.argv[3] ?? 8);
const WARMUP_ROUND = 1000;
const WARMUP_MIN = 8;
const WARMUP_MAX = 20;

// Every request carries a distinct text (a task number in DELIVERABLES): repeating one text flatters the numbers.
const deliverable = (i: number) => `${SECTIONS.DELIVERABLES} This is task number ${i} of the benchmark run.`;
const FORCE_PUSH = '\nThen run `git push --force origin main`.';
const DB_SECRET = ` DB at postgres://app:${'hunter' + '2Xy9'}@db.local/app.`;
const MIX: [string, (i: number) => string][] = [
  ['approved', (i) => instructionMarkdown({ DELIVERABLES: deliverable(i) })],
  ['missing section', (i) => instructionMarkdown({ DELIVERABLES: deliverable(i) }, ['RISK_ASSESSMENT'])],
  ['forbidden action', (i) => instructionMarkdown({ DELIVERABLES: `${deliverable(i)}${FORCE_PUSH}` })],
  ['secret', (i) => instructionMarkdown({ DELIVERABLES: deliverable(i), DEPENDENCIES: `${SECTIONS.DEPENDENCIES}${DB_SECRET}` })],
];

// The same four kinds at exactly 1 KB (1024 characters): shorter sections, DELIVERABLES padded to the size.
const SHORT = {
  DELIVERABLES: 'The file /work/out/app.txt with the build output.',
  SUCCESS_CRITERIA: 'The file exists and the test script exits 0.',
  BOUNDARIES: 'Only touch /work; never delete anything outside it.',
  DEPENDENCIES: 'Only the busybox tools already in the image.',
  MITIGATION: 'If the output is wrong, remove /work/out and build again.',
  TEST_PROCESS: '```sh\nsh /work/test.sh\n```',
  TEST_RESULTS_FORMAT: 'TAP lines "# pass N" and "# fail N" at the end.',
  RESOURCE_REQUIREMENTS: 'One CPU core and under 50 MB of memory.',
  RISK_ASSESSMENT: 'Low: the task writes inside /work only.',
  QUALITY_METRICS: 'Every test case passes and the output matches.',
};
// Distinct words (a repeated phrase would make the section weak: 'repetitive').
const FILLER =
  ' The output keeps one line per build step, in order, with its duration and exit status. Warnings go to a' +
  ' separate report beside it so reviewers can compare runs quickly. Timestamps use UTC with seconds; sizes are' +
  ' printed in bytes. Each line names the source file, the compiler flags used, whether caching helped, how much' +
  ' memory was needed at peak, and which checksum was produced for every artifact that ships to users later today.' +
  ' Nothing else changes: configuration files, scripts, fixtures, documentation pages, and examples stay exactly' +
  ' as they were before this task began, including their permissions, owners, modification times and encodings.';
function oneKb(kind: number, i: number): string {
  const extra: Record<string, string> = {};
  let omit: string[] = [];
  let tail = '';
  if (kind === 1) omit = ['RISK_ASSESSMENT'];
  if (kind === 2) tail = FORCE_PUSH;
  if (kind === 3) extra.DEPENDENCIES = `${SHORT.DEPENDENCIES}${DB_SECRET}`;
  const make = (pad: string) =>
    instructionMarkdown({ ...SHORT, ...extra, DELIVERABLES: `${SHORT.DELIVERABLES} Task ${i}.${pad}${tail}` }, omit);
  const room = 1024 - make('').length;
  if (room < 0) throw new Error(`1 KB ${MIX[kind][0]} text is already ${1024 - room} characters`);
  if (room > FILLER.length) throw new Error(`1 KB ${MIX[kind][0]} text needs ${room} characters of filler`);
  const text = make(FILLER.slice(0, room));
  if (text.length !== 1024) throw new Error(`1 KB text of ${text.length} characters`);
  return text;
}

// The client, in a worker thread (plain JS): keep-alive connections, C requests in flight, the latency of each, and
// the instruction ids the sidecar answered with (to look for in Postgres and on Redis). One thread serves every load
// of the run, so it is warm when the sidecar is: a fresh thread per load would start cold again.
const CLIENT = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { url, concurrency } = workerData;
const u = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
function post(body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: u.hostname, port: u.port, path: '/check', method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => res.statusCode === 200 ? resolve(JSON.parse(Buffer.concat(chunks).toString()).instruction_id)
        : reject(new Error('/check: ' + res.statusCode + ' ' + Buffer.concat(chunks).toString().slice(0, 200))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
parentPort.on('message', async ({ bodies }) => {
  const lat = new Array(bodies.length);
  const ids = new Array(bodies.length);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < bodies.length) {
      const i = next++;
      const s = performance.now();
      ids[i] = await post(bodies[i]);
      lat[i] = performance.now() - s;
    }
  }));
  parentPort.postMessage({ ms: performance.now() - t0, lat, ids });
});
`;

interface LoadResult {
  ms: number;
  lat: number[];
  ids: string[];
}

/** The client thread: load(bodies) sends them at the concurrency it was made with; close() stops the thread. */
function client(url: string, concurrency: number): { load(bodies: string[]): Promise<LoadResult>; close(): Promise<void> } {
  const w = new Worker(CLIENT, { eval: true, workerData: { url, concurrency } });
  let failed: Error | undefined;
  w.on('error', (err) => (failed = err));
  return {
    load: (bodies) =>
      new Promise((resolve, reject) => {
        if (failed) return reject(failed);
        const onExit = (code: number) => reject(new Error(`load worker exited ${code}`));
        w.once('exit', onExit);
        w.once('error', reject);
        w.once('message', (m) => {
          w.off('exit', onExit);
          w.off('error', reject);
          resolve(m as LoadResult);
        });
        w.postMessage({ bodies });
      }),
    close: async () => {
      await w.terminate();
    },
  };
}

/** Busy and total CPU time of the whole machine so far (jiffies from /proc/stat), to say what the run cost. */
function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const fmt = (n: number, d = 2) => n.toFixed(d).padStart(9);

async function main() {
  const tdb = await migratedTestDb();
  const sc = await startSidecarEnv({ databaseUrl: tdb.url, container: 'wgmtest-bench-none', verifyLoop: { enabled: false } });
  try {
    const body = (i: number) => JSON.stringify({ instruction: MIX[i % MIX.length][1](i) });
    const load = client(sc.url, C);
    // Warm-up: at least WARMUP_MIN rounds of WARMUP_ROUND, then until the last three are within 10% of each other.
    // V8 tiers its code up over thousands of calls in each thread (the sidecar's, its gate thread's, the client's),
    // in steps: a run can sit at a plateau for three rounds and then rise by half again (seen here: 1313 1309 1294
    // after 4000 checks, ~2200 after 6000 in other runs). The cold rounds are printed; the measured run is the steady
    // state a sidecar serving for hours is in.
    const warm: number[] = [];
    for (let r = 0; r < WARMUP_MAX; r++) {
      const w = await load.load(Array.from({ length: WARMUP_ROUND }, (_, i) => body(1_000_000 + r * WARMUP_ROUND + i)));
      warm.push(WARMUP_ROUND / (w.ms / 1000));
      const last = warm.slice(-3);
      if (warm.length >= WARMUP_MIN && Math.max(...last) / Math.min(...last) <= 1.1) break;
    }
    console.log(`warm-up from a cold start, instructions/s per ${WARMUP_ROUND}: ${warm.map((x) => x.toFixed(0)).join(' ')}`);
    const bodies = Array.from({ length: N }, (_, i) => body(i));
    const cpu0 = machineCpu();
    const own0 = process.cpuUsage();
    const run = await load.load(bodies);
    const cpu1 = machineCpu();
    const own = process.cpuUsage(own0);
    await load.close();
    const lat = [...run.lat].sort((a, b) => a - b);
    const rate = N / (run.ms / 1000);
    console.log(`POST /check over HTTP (stored + published), ${N} instructions, concurrency ${C}, mix of ${MIX.map(([n]) => n).join(' / ')}`);
    console.log(`  instructions/s ${fmt(rate, 1)}   p50 ${fmt(q(lat, 0.5))} ms   p99 ${fmt(q(lat, 0.99))} ms   max ${fmt(lat[lat.length - 1])} ms`);
    if (cpu0 && cpu1) {
      // The whole machine (other processes included), and this process (sidecar, its proxy identity, the client).
      const cores = ((cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total)) * os.cpus().length;
      const ownMs = (own.user + own.system) / 1000;
      console.log(`  CPU during the run: machine ${cores.toFixed(2)} of ${os.cpus().length} cores busy, this process ${(ownMs / run.ms).toFixed(2)} cores (${(ownMs / N).toFixed(2)} ms per instruction)`);
    }

    // Every answer is on record (the answer waited for its commit) and reached Redis (the event is sent after the
    // answer, so it is waited for here, at most 10 s). Read afterwards from the stream itself: a watcher in this
    // process during the run would bill its reads to the sidecar's event loop.
    const { rows } = await sc.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM instructions WHERE id = ANY($1::uuid[])`, [run.ids]);
    const redis = new Redis(testEnv().redisUrl);
    const published = new Set<string>();
    for (let i = 0; i < 200 && run.ids.some((id) => !published.has(id)); i++) {
      if (i) await new Promise((r) => setTimeout(r, 50));
      const entries = (await redis.xrange((sc.bus as RedisBus).key('gate.decided'), '-', '+')) as [string, string[]][];
      for (const [, fields] of entries) published.add((JSON.parse(fields[1]) as { instruction_id: string }).instruction_id);
    }
    redis.disconnect();
    const seen = run.ids.filter((id) => published.has(id)).length;
    console.log(`  stored in Postgres ${rows[0].n} of ${N}   gate.decided on Redis ${seen} of ${N}`);
    if (rows[0].n !== N || seen !== N) process.exitCode = 1;

    console.log('checkInstruction() alone (pure, sequential), 1 KB instructions (1024 characters):');
    const all: number[] = [];
    for (let kind = 0; kind < MIX.length; kind++) {
      // Each 1 KB kind is judged as its kind (the padding must not change the decision being measured).
      const r = await checkInstruction(oneKb(kind, 1));
      const rules = r.violations.map((v) => v.rule);
      const asMeant = [r.approved, r.missing_sections.includes('RISK_ASSESSMENT'), rules.includes('git-force-push'), rules.some((x) => x.startsWith('secret:'))][kind];
      if (!asMeant) throw new Error(`1 KB ${MIX[kind][0]} text judged ${r.decision} (${JSON.stringify({ rules, missing: r.missing_sections, weak: r.weak_reasons })})`);
      const times: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const md = oneKb(kind, 2_000_000 + i);
        const s = performance.now();
        await checkInstruction(md);
        times.push(performance.now() - s);
      }
      all.push(...times);
      times.sort((a, b) => a - b);
      console.log(`  ${MIX[kind][0].padEnd(18)} p50 ${fmt(q(times, 0.5))} ms   p99 ${fmt(q(times, 0.99))} ms   max ${fmt(times[times.length - 1])} ms`);
    }
    all.sort((a, b) => a - b);
    console.log(`  ${'all 1 KB'.padEnd(18)} p50 ${fmt(q(all, 0.5))} ms   p99 ${fmt(q(all, 0.99))} ms   max ${fmt(all[all.length - 1])} ms`);
    const checks: Array<[string, boolean, string]> = [
      [`≥ 1500 instructions/s at concurrency ${C}, p99 < 25 ms`, rate >= 1500 && q(lat, 0.99) < 25, `${rate.toFixed(0)}/s, p99 ${q(lat, 0.99).toFixed(1)} ms`],
      ['checkInstruction() p99 < 2 ms on 1 KB', q(all, 0.99) < 2, `${q(all, 0.99).toFixed(2)} ms`],
    ];
    console.log('\ntargets (issue #12):');
    for (const [what, ok, got] of checks) console.log(`  ${ok ? 'met ' : 'MISS'}  ${what}: ${got}`);
  } finally {
    await sc.close();
    await tdb.drop();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
