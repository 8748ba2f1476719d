// Wingman's audit writes to Postgres without Wingman, for the benches that compare a bare Node proxy with it
// (bench/proxy.ts, bench/c1-tail.ts): a child process that inserts one `/_ping`-like audit row per call it is told
// of, gathered for 25 ms as Wingman's shipper does, with the statement the shipper uses, into a database of its own.
// The rows follow the calls served, so the store's load is the one Wingman would put on it at that rate.
// Not a bench of its own: `startAuditWrites()` spawns this file with `serve`.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AUDIT_INSERT, rowsJson, type DockerAuditRecord } from '../core/audit/docker-audit.js';
import { migratedTestDb } from '../test/helpers/db.js';

const SELF = fileURLToPath(import.meta.url);
/** Wingman's shipper gathers rows this long (core/audit/docker-audit.ts FLUSH_MS) */
const GATHER_MS = 25;

export interface AuditWrites {
  /** `n` more calls were served: their rows are inserted with the next batch */
  add(n: number): void;
  /** the inserts made, and the time they took on average */
  stop(): Promise<{ inserts: number; rows: number; msEach: number }>;
}

/** Start the writer; resolves once its database is migrated and it takes calls. */
export async function startAuditWrites(): Promise<AuditWrites> {
  const child = spawn(process.execPath, ['--import', '@tapjs/typescript/import', SELF, 'serve'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: path.resolve(path.dirname(SELF), '..'),
  });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const l = await lines.next();
    if (l.done) throw new Error('the audit writer exited');
    return JSON.parse(l.value) as Record<string, number>;
  };
  await next();
  let owed = 0;
  // Told every GATHER_MS, not per call: one write a tick keeps the bench's own loop out of the measurement.
  const tick = setInterval(() => {
    if (owed > 0) child.stdin.write(`${owed}\n`);
    owed = 0;
  }, GATHER_MS);
  return {
    add: (n) => (owed += n),
    async stop() {
      clearInterval(tick);
      if (owed > 0) child.stdin.write(`${owed}\n`);
      child.stdin.end();
      const s = await next();
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      return { inserts: s.inserts, rows: s.rows, msEach: s.busyMs / Math.max(1, s.inserts) };
    },
  };
}

if (process.argv[2] === 'serve') {
  const tdb = await migratedTestDb();
  const row = (): DockerAuditRecord => ({
    id: randomUUID(), at: new Date().toISOString(), worker: 'w1', method: 'GET', route: '/_ping', path: '/_ping', rule: 'SystemPing',
    decision: 'allow', mode: 'enforce', would: null, approval_id: null, approved_by: null, status_code: 200, duration_ms: 0.25,
    bytes_in: 0, bytes_out: 2, reason: null,
  });
  let pending = 0;
  let ended = false;
  let inserts = 0;
  let rows = 0;
  let busyMs = 0;
  let wake: (() => void) | undefined;
  readline
    .createInterface({ input: process.stdin })
    .on('line', (l) => {
      pending += Number(l) || 0;
      wake?.();
    })
    .on('close', () => {
      ended = true;
      wake?.();
    });
  process.stdout.write('{"ready":1}\n');
  while (!ended || pending > 0) {
    if (pending === 0) await new Promise<void>((r) => (wake = r));
    wake = undefined;
    // As the shipper: at most 200 rows a statement (core/audit/docker-audit.ts BATCH).
    const n = Math.min(pending, 200);
    if (n === 0) continue;
    pending -= n;
    const t0 = performance.now();
    await tdb.db.queryPrepared(AUDIT_INSERT, [rowsJson(Array.from({ length: n }, row))]);
    busyMs += performance.now() - t0;
    inserts++;
    rows += n;
  }
  process.stdout.write(JSON.stringify({ inserts, rows, busyMs }) + '\n');
  await tdb.drop();
  process.exit(0);
}
