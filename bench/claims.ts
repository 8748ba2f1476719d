// Claim verification against a real busybox worker container, two ways:
//  1. one at a time: POST /verify with a claim body (logged, verified synchronously), per type: p50/p99 of the
//     verification time the verify loop records (verdicts.duration_ms) and of the whole HTTP call, through the sidecar's
//     proxy identity (as deployed), against a baseline in the same run: a second sidecar talking to the engine
//     directly (the ratio is what the identity costs);
//  2. under load: claims of every type logged through /log_claim by several clients and verified by the background
//     verify loop: logging rate, time until all are verified, and per type the verification p50/p99 and log→verdict p50.
//  0. the cost of /check with 100 and 10,000 files in the worker's working paths (p50/p99 of the HTTP answer, and
//     of the task-start baseline's capture where the code takes one: status, files, how long it took).
// Run: npm run bench -- claims [claims per type] [concurrency] [check repetitions]
import { performance } from 'node:perf_hooks';
import { migratedTestDb } from '../test/helpers/db.js';
import { instructionMarkdown, startSidecarEnv, startWorkerBox } from '../test/sidecar/sidecar-env.js';

const PER_TYPE = Number(process.argv[2] ?? 100);
const C = Number(process.argv[3] ?? 8);
const CHECK_REPS = Number(process.argv[4] ?? 20);

const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const fmt = (n: number, d = 2) => n.toFixed(d).padStart(9);

/** /check with `files` files under /work: p50/p99 of the answer, and of the baseline capture when there is one. */
async function checkCost(tdb: { url: string; db: { query(q: string, p?: unknown[]): Promise<{ rows: any[] }> } }, files: number) {
  const box = await startWorkerBox('bench-check');
  const sc = await startSidecarEnv({ databaseUrl: tdb.url, container: box.name, verifyLoop: { enabled: false } });
  try {
    // 100 files per directory, a few hundred bytes each, plus a test script TEST_PROCESS names.
    const made = await box.sh(
      `i=0; while [ $i -lt ${files} ]; do d=$((i/100)); [ $((i%100)) -eq 0 ] && mkdir -p /work/src/d$d; ` +
        `echo "file $i of the bench's working tree, padded to look like a small source file ........................................" > /work/src/d$d/f$i.txt; i=$((i+1)); done; ` +
        `printf 'echo "# pass 12"\\necho "# fail 0"\\n' > /work/test.sh; find /work -type f | wc -l`,
    );
    if (made.code !== 0) throw new Error(`bench files: ${made.stderr}`);
    const hasBaselines = (await tdb.db.query(`SELECT to_regclass('task_baselines') IS NOT NULL AS ok`)).rows[0].ok as boolean;
    const http: number[] = [];
    const capture: number[] = [];
    const statuses = new Map<string, number>();
    let answeredFirst = 0;
    let baselineFiles = 0;
    for (let i = 0; i < CHECK_REPS; i++) {
      const s0 = performance.now();
      const r = await sc.post('/check', { instruction: instructionMarkdown() });
      http.push(performance.now() - s0);
      if (!r.json.approved) throw new Error(`bench instruction not approved: ${JSON.stringify(r.json)}`);
      if (r.json.baseline?.status === 'capturing') answeredFirst++;
      if (!hasBaselines) continue;
      // Wait for the capture to be stored before the next /check, so captures never overlap.
      for (let k = 0; ; k++) {
        const row = (await tdb.db.query(`SELECT status, duration_ms, file_count FROM task_baselines WHERE instruction_id = $1`, [r.json.instruction_id])).rows[0];
        if (row) {
          capture.push(Number(row.duration_ms));
          statuses.set(row.status, (statuses.get(row.status) ?? 0) + 1);
          baselineFiles = row.file_count;
          break;
        }
        if (k > 1200) throw new Error('baseline not stored within 120 s');
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    http.sort((a, b) => a - b);
    capture.sort((a, b) => a - b);
    const line = `${String(files).padStart(6)} files (${made.stdout.trim()} in /work)  /check HTTP p50 ${fmt(q(http, 0.5))} ms  p99 ${fmt(q(http, 0.99))} ms  (n=${http.length})`;
    console.log(
      capture.length
        ? `${line}\n${' '.repeat(6)}        baseline capture p50 ${fmt(q(capture, 0.5))} ms  p99 ${fmt(q(capture, 0.99))} ms; ${baselineFiles} files recorded; status ${[...statuses].map(([k, v]) => `${k}×${v}`).join(', ')}; /check answered before the capture finished ${answeredFirst}×`
        : `${line}\n${' '.repeat(6)}        no baseline is taken by this code`,
    );
  } finally {
    await sc.close();
    await box.remove();
  }
}

async function main() {
  const tdb = await migratedTestDb();
  console.log(`/check with files in the working paths (${CHECK_REPS} approved instructions each, through the proxy identity):`);
  for (const n of [100, 10_000]) await checkCost(tdb, n);
  const box = await startWorkerBox('bench');
  const sc = await startSidecarEnv({ databaseUrl: tdb.url, container: box.name, verifyLoop: { concurrency: C, sweepMs: 200 } });
  const direct = await startSidecarEnv({ databaseUrl: tdb.url, container: box.name, docker: 'engine', verifyLoop: { enabled: false } });
  try {
    await box.sh('mkdir -p /work/out && echo before > /work/before.txt && echo bye > /work/gone');
    await new Promise((r) => setTimeout(r, 30));
    const check = await sc.post('/check', { instruction: instructionMarkdown() });
    if (!check.json.approved) throw new Error('bench instruction not approved');
    const id = check.json.instruction_id as string;
    await box.sh(
      'echo "hello world" > /work/out/app.txt && echo more >> /work/before.txt && rm /work/gone && (nc -l -p 7000 >/dev/null 2>&1 &) && ' +
        `printf 'echo "# pass 12"\\necho "# fail 0"\\n' > /work/test.sh`,
    );
    await sc.post('/executed', { argv: ['make', 'build'], exit_code: 0, duration_ms: 5, instruction_id: id });
    const kinds: [string, Record<string, unknown>, number][] = [
      ['file_created', { type: 'file_created', path: '/work/out/app.txt' }, PER_TYPE],
      ['file_modified', { type: 'file_modified', path: '/work/before.txt' }, PER_TYPE],
      ['file_deleted', { type: 'file_deleted', path: '/work/gone' }, PER_TYPE],
      ['file_contains', { type: 'file_contains', path: '/work/out/app.txt', text: 'hello' }, PER_TYPE],
      ['process_running', { type: 'process_running', name: 'sleep' }, PER_TYPE],
      ['port_listening', { type: 'port_listening', port: 7000 }, PER_TYPE],
      ['container_running', { type: 'container_running', name: box.name }, PER_TYPE],
      ['command_executed', { type: 'command_executed', argv: ['make', 'build'] }, PER_TYPE],
      ['tests_passed', { type: 'tests_passed', total: 12 }, Math.max(5, Math.floor(PER_TYPE / 5))],
      ['compound (text)', { text: 'Created /work/out/app.txt and sleep is running' }, PER_TYPE],
    ];
    console.log('one at a time (POST /verify with the claim, synchronous), through the proxy identity vs straight to the engine:');
    console.log(
      `${'type'.padEnd(18)} ${'n'.padStart(4)} ${'verdict'.padEnd(8)} ${'verify p50'.padStart(11)} ${'verify p99'.padStart(11)} ${'HTTP p50'.padStart(11)} ${'HTTP p99'.padStart(11)} ${'direct p50'.padStart(11)} ${'ratio'.padStart(6)}`,
    );
    const measure = async (env: typeof sc, name: string, body: Record<string, unknown>, count: number) => {
      const verify: number[] = [];
      const http: number[] = [];
      const verdicts = new Set<string>();
      for (let i = 0; i < count; i++) {
        const s0 = performance.now();
        const r = await env.post('/verify', { ...body, instruction_id: id });
        http.push(performance.now() - s0);
        if (r.status !== 200) throw new Error(`/verify ${name}: ${r.status} ${JSON.stringify(r.json)}`);
        verify.push(r.json.duration_ms);
        verdicts.add(r.json.verdict);
      }
      return { verify: verify.sort((a, b) => a - b), http: http.sort((a, b) => a - b), verdicts };
    };
    for (const [name, body, n] of kinds) {
      const count = Math.max(5, Math.min(30, Math.floor(n / 3)));
      // Interleaved halves so drift on a busy machine falls on both sides alike.
      const a1 = await measure(sc, name, body, Math.ceil(count / 2));
      const b1 = await measure(direct, name, body, Math.ceil(count / 2));
      const a2 = await measure(sc, name, body, Math.floor(count / 2));
      const b2 = await measure(direct, name, body, Math.floor(count / 2));
      const verify = [...a1.verify, ...a2.verify].sort((x, y) => x - y);
      const http = [...a1.http, ...a2.http].sort((x, y) => x - y);
      const base = [...b1.verify, ...b2.verify].sort((x, y) => x - y);
      const verdicts = new Set([...a1.verdicts, ...a2.verdicts]);
      const same = [...verdicts].join() === [...new Set([...b1.verdicts, ...b2.verdicts])].join() ? '' : '  (verdicts differ!)';
      console.log(
        `${name.padEnd(18)} ${String(count).padStart(4)} ${[...verdicts].join(',').padEnd(8)} ${fmt(q(verify, 0.5))} ms ${fmt(q(verify, 0.99))} ms ${fmt(q(http, 0.5))} ms ${fmt(q(http, 0.99))} ms ${fmt(q(base, 0.5))} ms ${(q(verify, 0.5) / Math.max(q(base, 0.5), 0.001)).toFixed(2).padStart(6)}${same}`,
      );
    }
    await sc.db.query(`SELECT 1`);
    const before = (await sc.db.query(`SELECT count(*)::int AS n FROM verdicts`)).rows[0].n as number;

    const jobs = kinds.flatMap(([, body, n]) => Array.from({ length: n }, () => ({ ...body, instruction_id: id })));
    let next = 0;
    const phase2Start = new Date();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (next < jobs.length) {
          const r = await sc.post('/log_claim', jobs[next++]);
          if (r.status !== 202) throw new Error(`/log_claim ${r.status}: ${JSON.stringify(r.json)}`);
        }
      }),
    );
    const logSecs = (performance.now() - t0) / 1000;
    const deadline = Date.now() + 600_000;
    for (;;) {
      const n = (await sc.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM verdicts`)).rows[0].n;
      if (n >= before + jobs.length) break;
      if (Date.now() > deadline) throw new Error(`only ${n - before} of ${jobs.length} verdicts`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const allSecs = (performance.now() - t0) / 1000;
    const { rows } = await sc.db.query<{ claim_type: string; verdict: string; duration_ms: number; e2e_ms: number | string }>(
      `SELECT v.claim_type, v.verdict, v.duration_ms, extract(epoch FROM (v.created_at - c.logged_at)) * 1000 AS e2e_ms
         FROM verdicts v JOIN claims c ON c.id = v.claim_id WHERE c.logged_at >= $1`,
      [phase2Start.toISOString()],
    );
    console.log('under load (/log_claim by several clients, background verify loop):');
    console.log(`${jobs.length} claims logged by ${C} clients in ${logSecs.toFixed(1)} s (${(jobs.length / logSecs).toFixed(0)} claims/s); all verified after ${allSecs.toFixed(1)} s; verify loop concurrency ${C}`);
    console.log(`${'type'.padEnd(18)} ${'n'.padStart(5)} ${'verdicts'.padEnd(16)} ${'verify p50'.padStart(11)} ${'verify p99'.padStart(11)} ${'log→verdict p50'.padStart(16)}`);
    const byType = new Map<string, typeof rows>();
    for (const r of rows) byType.set(r.claim_type, [...(byType.get(r.claim_type) ?? []), r]);
    for (const [type, rs] of byType) {
      const d = rs.map((r) => Number(r.duration_ms)).sort((a, b) => a - b);
      const e = rs.map((r) => Number(r.e2e_ms)).sort((a, b) => a - b);
      const verdicts = [...new Set(rs.map((r) => r.verdict))].join(',');
      console.log(`${type.padEnd(18)} ${String(rs.length).padStart(5)} ${verdicts.padEnd(16)} ${fmt(q(d, 0.5))} ms ${fmt(q(d, 0.99))} ms ${fmt(q(e, 0.5), 0)} ms`);
    }
  } finally {
    await direct.close();
    await sc.close();
    await box.remove();
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
