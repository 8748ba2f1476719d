// The instruction gate as a worker meets it: POST /check over HTTP against a real sidecar (decision judged, stored in
// Postgres, published on Redis), at fixed concurrency, for a mix of instructions (approved, one section missing, a
// forbidden action, a secret). Prints instructions/s and p50/p99 of /check, and the pure checkInstruction() cost.
// Run: npm run bench -- gate [requests] [concurrency]
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { checkInstruction } from '../core/gate/index.js';
import { migratedTestDb } from '../test/helpers/db.js';
import { instructionMarkdown, SECTIONS, startSidecarEnv } from '../test/sidecar/sidecar-env.js';

const N = Number(process.argv[2] ?? 2000);
const C = Number(process.argv[3] ?? 8);

// Every request carries a distinct text (a task number in DELIVERABLES): repeating one text flatters the numbers.
const deliverable = (i: number) => `${SECTIONS.DELIVERABLES} This is task number ${i} of the benchmark run.`;
const MIX: [string, (i: number) => string][] = [
  ['approved', (i) => instructionMarkdown({ DELIVERABLES: deliverable(i) })],
  ['missing section', (i) => instructionMarkdown({ DELIVERABLES: deliverable(i) }, ['RISK_ASSESSMENT'])],
  ['forbidden action', (i) => instructionMarkdown({ DELIVERABLES: `${deliverable(i)}\nThen run \`git push --force origin main\`.` })],
  ['secret', (i) => instructionMarkdown({ DELIVERABLES: deliverable(i), DEPENDENCIES: `${SECTIONS.DEPENDENCIES} DB at postgres://app:${'hunter' + '2Xy9'}@db.local/app.` })],
];

function post(agent: http.Agent, url: URL, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: url.hostname, port: url.port, path: '/check', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(res.statusCode) : reject(new Error(`/check: ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const fmt = (n: number, d = 2) => n.toFixed(d).padStart(9);

async function main() {
  const tdb = await migratedTestDb();
  const sc = await startSidecarEnv({ databaseUrl: tdb.url, container: 'wgmtest-bench-none', verifyLoop: { enabled: false } });
  try {
    const url = new URL(sc.url);
    const body = (i: number) => JSON.stringify({ instruction: MIX[i % MIX.length][1](i) });
    const agent = new http.Agent({ keepAlive: true, maxSockets: C });
    for (let i = 0; i < 100; i++) await post(agent, url, body(1_000_000 + i)); // warm-up
    const lat: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (next < N) {
          const b = body(next++);
          const s = performance.now();
          await post(agent, url, b);
          lat.push(performance.now() - s);
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    agent.destroy();
    lat.sort((a, b) => a - b);
    console.log(`POST /check over HTTP (stored + published), ${N} instructions, concurrency ${C}, mix of ${MIX.map(([n]) => n).join(' / ')}`);
    console.log(`  instructions/s ${fmt(N / secs, 1)}   p50 ${fmt(q(lat, 0.5))} ms   p99 ${fmt(q(lat, 0.99))} ms   max ${fmt(lat[lat.length - 1])} ms`);

    console.log('checkInstruction() alone (pure, sequential):');
    for (const [name, make] of MIX) {
      const times: number[] = [];
      for (let i = 0; i < 300; i++) {
        const md = make(2_000_000 + i);
        const s = performance.now();
        await checkInstruction(md);
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      console.log(`  ${name.padEnd(18)} p50 ${fmt(q(times, 0.5))} ms   p99 ${fmt(q(times, 0.99))} ms   (~${make(0).length} chars)`);
    }
  } finally {
    await sc.close();
    await tdb.drop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
