// Reliability under load, for the figures in docs/operations.md: `wingman up` (a real process, Postgres store)
// takes C clients for S seconds (calls, errors, audit rows written), then is SIGKILLed under load K times (calls
// answered before each kill whose audit row is missing after the restart: must be 0).
// Run: npm run bench -- faults [seconds=60] [clients=100] [kills=4]
import http from 'node:http';
import { PgDb } from '../core/store/pg-db.js';
import { createTestDatabase } from '../test/helpers/db.js';
import { spawnWingman, type WingmanProcess } from '../test/helpers/wingman-process.js';

const S = Number(process.argv[2] ?? 60);
const C = Number(process.argv[3] ?? 100);
const K = Number(process.argv[4] ?? 4);

function get(agent: http.Agent, socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ agent, socketPath, path, headers: { host: 'docker' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** C clients for `ms`; each call has a path of its own so its audit row can be found. */
async function load(p: WingmanProcess, tag: string, ms: number, clients: number, until?: Promise<unknown>) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const answered: string[] = [];
  let errors = 0;
  let stop = false;
  let n = 0;
  const timer = setTimeout(() => (stop = true), ms);
  void until?.then(() => (stop = true));
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      while (!stop) {
        const i = n++;
        const path = i % 3 === 0 ? '/_ping' : `/v1.41/images/wgmbench-${tag}-${c}-${i}/json`;
        try {
          const status = await get(agent, p.socketPath('w1'), path);
          if (status >= 500) errors++;
          if (path !== '/_ping') answered.push(path.replace(/^\/v1\.41/, ''));
        } catch {
          if (!until) errors++;
          else return;
        }
      }
    }),
  );
  clearTimeout(timer);
  agent.destroy();
  return { calls: n, answered, errors };
}

async function missingRows(db: PgDb, paths: string[], waitMs: number): Promise<number> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const { rows } = await db.query<{ n: number }>(`SELECT count(DISTINCT path)::int AS n FROM docker_audit WHERE path = ANY($1::text[])`, [paths]);
    const missing = paths.length - (rows[0]?.n ?? 0);
    if (missing === 0 || Date.now() > deadline) return missing;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const database = await createTestDatabase();
const db = new PgDb({ url: database.url });
let p = await spawnWingman({ databaseUrl: database.url, env: { WINGMAN_LOG_LEVEL: 'warn' } });
try {
  const t0 = Date.now();
  const a = await load(p, 'steady', S * 1000, C);
  const secs = (Date.now() - t0) / 1000;
  const missing = await missingRows(db, a.answered, 60_000);
  console.log(`steady: ${C} clients for ${secs.toFixed(0)} s: ${a.calls} calls (${(a.calls / secs).toFixed(0)}/s), ${a.errors} errors, ${missing} of ${a.answered.length} audit rows missing`);
  for (let k = 0; k < K; k++) {
    const killAt = new Promise((r) => setTimeout(r, 3_000));
    const running = load(p, `kill${k}`, 60_000, 16, killAt);
    await killAt;
    await p.kill('SIGKILL');
    const r = await running;
    p = await p.restart();
    const lost = await missingRows(db, r.answered, 30_000);
    console.log(`SIGKILL ${k + 1}: ${r.answered.length} calls answered before the kill, ${lost} audit rows lost`);
  }
} finally {
  await p.close();
  await db.close();
  await database.drop();
}
