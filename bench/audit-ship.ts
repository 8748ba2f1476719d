// Audit ship rate: rows/s from the local append-only log (core/audit/segment-log.ts) into the store, on Postgres and
// on the embedded store (PGlite), and how much of the main thread's event loop the shipping takes (busy ms per
// 1,000 rows: what the proxy loses to it). With `--base <root>` the same run also measures another checkout's
// compiled code (<root>/dist, e.g. a worktree of main after `tsc`), interleaved round by round, and prints ratios.
// Run: npm run bench -- audit-ship [rows=20000] [rounds=3] [--base /path/to/other/checkout]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createLogger } from '../core/log.js';
import type { Db } from '../core/store/db.js';
import { defaultMigrationsDir, migrate } from '../core/store/migrate.js';
import { createTestDatabase, type TestDatabase } from '../test/helpers/db.js';

const args = process.argv.slice(2);
const baseAt = args.indexOf('--base');
const baseRoot = baseAt >= 0 ? args.splice(baseAt, 2)[1] : undefined;
const N = Number(args[0] ?? 20_000);
const ROUNDS = Number(args[1] ?? 3);
const silent = createLogger({ level: 'silent' });

interface Audit {
  record(r: Record<string, unknown>): void;
  flush(): Promise<void>;
  stop(): Promise<void>;
}
interface Code {
  name: string;
  DockerAudit: new (db: Db, dir: string, log: typeof silent) => Audit;
  PgDb: new (opts: { url: string }) => Db;
  PgliteDb: { open(): Promise<Db> };
}

async function load(name: string, at: (p: string) => string): Promise<Code> {
  const [a, pg, lite] = await Promise.all([import(at('core/audit/docker-audit.js')), import(at('core/store/pg-db.js')), import(at('core/store/pglite-db.js'))]);
  return { name, DockerAudit: a.DockerAudit, PgDb: pg.PgDb, PgliteDb: lite.PgliteDb };
}

const variants: Code[] = [await load('this', (p) => `../${p}`)];
if (baseRoot) variants.unshift(await load('base', (p) => pathToFileURL(path.join(path.resolve(baseRoot), 'dist', p)).href));

function row(i: number): Record<string, unknown> {
  return {
    id: crypto.randomUUID(),
    at: new Date().toISOString(),
    worker: 'w1',
    method: i % 4 ? 'GET' : 'POST',
    route: i % 4 ? 'containers.list' : 'containers.create',
    path: i % 4 ? '/v1.41/containers/json?all=1' : '/v1.41/containers/create?name=wgmbench',
    rule: i % 4 ? 'read' : 'create',
    decision: 'allow',
    mode: 'enforce',
    would: null,
    approval_id: null,
    approved_by: null,
    status_code: 200,
    duration_ms: 1.25,
    bytes_in: i % 4 ? 0 : 512,
    bytes_out: 2048,
    reason: null,
    argv: i % 4 ? null : ['docker', 'run', '--rm', 'busybox', 'true'],
  };
}

/** N rows logged, then one flush timed: rows/s and the main thread's busy ms per 1,000 rows. */
async function ship(code: Code, db: Db): Promise<{ rps: number; busyPer1k: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmbench-audit-'));
  const audit = new code.DockerAudit(db, dir, silent);
  try {
    await audit.flush();
    for (let i = 0; i < N; i++) void audit.record(row(i));
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    await audit.flush();
    const ms = performance.now() - t0;
    const elu = performance.eventLoopUtilization(elu0);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM docker_audit');
    if (rows[0].n < N) throw new Error(`${code.name}: ${rows[0].n} of ${N} rows shipped`);
    return { rps: (N / ms) * 1000, busyPer1k: (elu.active / N) * 1000 };
  } finally {
    await audit.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const results = new Map<string, { rps: number[]; busy: number[] }>();
const add = (k: string, r: { rps: number; busyPer1k: number }) => {
  const e = results.get(k) ?? { rps: [], busy: [] };
  e.rps.push(r.rps);
  e.busy.push(r.busyPer1k);
  results.set(k, e);
};

const databases: TestDatabase[] = [];
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const code of round % 2 ? [...variants].reverse() : variants) {
      const tdb = await createTestDatabase();
      databases.push(tdb);
      const pg = new code.PgDb({ url: tdb.url });
      await migrate(pg, defaultMigrationsDir(), silent);
      add(`${code.name} postgres`, await ship(code, pg));
      await pg.close();
      const lite = await code.PgliteDb.open();
      await migrate(lite, defaultMigrationsDir(), silent);
      add(`${code.name} pglite`, await ship(code, lite));
      await lite.close();
    }
  }
} finally {
  for (const d of databases) await d.drop();
}

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`audit ship: ${N} rows logged then shipped, median of ${ROUNDS} interleaved rounds`);
console.log('variant              rows/s   main-thread busy ms per 1k rows');
for (const [k, e] of results) console.log(`${k.padEnd(18)} ${med(e.rps).toFixed(0).padStart(8)}   ${med(e.busy).toFixed(1).padStart(8)}`);
if (baseRoot) {
  for (const store of ['postgres', 'pglite']) {
    const b = results.get(`base ${store}`)!;
    const t = results.get(`this ${store}`)!;
    console.log(`${store}: rows/s ×${(med(t.rps) / med(b.rps)).toFixed(2)}, main-thread busy ×${(med(t.busy) / med(b.busy)).toFixed(2)} (this / base)`);
  }
}
