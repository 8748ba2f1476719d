// Alert latency and time to lockdown: 100 FALSE verdicts across 10 workers (each with a real busybox container),
// through the real watcher, outbox and Telegram client against the fake Bot API on 127.0.0.1.
// Latency = verdict written → Bot API answered ok:true (telegram_outbox.sent_at); lockdown = verdict → container
// paused (lockdown_events). Both read from the store's clock. Run: npm run bench -- alerts [verdicts] [workers]
import { randomUUID } from 'node:crypto';
import { docker, dockerOk, testName, TEST_IMAGE } from '../test/helpers/env.js';
import { FakeBotApi } from '../test/helpers/fake-bot-api.js';
import { startWingman } from '../test/helpers/wingman.js';

const VERDICTS = Number(process.argv[2] ?? 100);
const WORKERS = Number(process.argv[3] ?? 10);

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};

async function main() {
  const bot = await FakeBotApi.start();
  // No grouping here: every verdict is paged, so every one is measured.
  const w = await startWingman({ env: { ...bot.env([1]), WINGMAN_ALERT_GROUP_S: '0', WINGMAN_LOG_LEVEL: 'silent' } });
  const containers: string[] = [];
  try {
    for (let i = 0; i < WORKERS; i++) {
      const c = testName(`alert-w${i}`);
      containers.push(c);
      await dockerOk(['run', '-d', '--name', c, TEST_IMAGE, 'sleep', '600']);
      await w.control.workers.add(`bw${i}`, c);
    }
    // Isolated: one verdict at a time (what a single lie costs), on workers of their own.
    const isolated: number[] = [];
    for (let i = 0; i < 10; i++) {
      const worker = `bi${i}`;
      const claimId = randomUUID();
      const t0 = Date.now();
      await w.db.query(
        `INSERT INTO claims (id, worker, type, params, source, logged_at) VALUES ($1, $2, 'file_created', $3, 'structured', now())`,
        [claimId, worker, JSON.stringify({ path: `solo/${i}.js` })],
      );
      await w.db.query(
        `INSERT INTO verdicts (claim_id, worker, claim_type, verdict, evidence, reason, verifier, duration_ms)
         VALUES ($1, $2, 'file_created', 'FALSE', '{}', $3, 'bench', 0)`,
        [claimId, worker, `solo/${i}.js does not exist in ${worker}`],
      );
      await w.bus.publish('claim.verified', { claim_id: claimId, worker, verdict: 'FALSE' });
      await bot.waitFor('solo alert', () => bot.callsOf('sendMessage').some((c) => c.outcome === 'ok' && String(c.params.text).includes(`solo/${i}.js`)), 60_000);
      isolated.push(Date.now() - t0);
    }
    console.log(`isolated alert latency (verdict written → Bot API ok), 10 one at a time: p50 ${q(isolated, 0.5).toFixed(0)} ms, max ${Math.max(...isolated).toFixed(0)} ms`);
    const started = Date.now();
    await Promise.all(
      Array.from({ length: VERDICTS }, async (_, i) => {
        const worker = `bw${i % WORKERS}`;
        const claimId = randomUUID();
        await w.db.query(
          `INSERT INTO claims (id, worker, type, params, source, logged_at) VALUES ($1, $2, 'file_created', $3, 'structured', now())`,
          [claimId, worker, JSON.stringify({ path: `dist/${i}.js` })],
        );
        await w.db.query(
          `INSERT INTO verdicts (claim_id, worker, claim_type, verdict, evidence, reason, verifier, duration_ms)
           VALUES ($1, $2, 'file_created', 'FALSE', '{}', $3, 'bench', 0)`,
          [claimId, worker, `dist/${i}.js does not exist in ${worker}`],
        );
        await w.bus.publish('claim.verified', { claim_id: claimId, worker, verdict: 'FALSE' });
      }),
    );
    await bot.waitFor('all alerts', () => bot.callsOf('sendMessage').filter((c) => c.outcome === 'ok').length >= VERDICTS + 10, 300_000);
    const elapsed = (Date.now() - started) / 1000;
    const lat = await w.db.query<{ s: number }>(
      `SELECT extract(epoch FROM o.sent_at - v.created_at)::float8 AS s
         FROM alerts a JOIN telegram_outbox o ON o.dedupe_key = 'alert:' || a.id
         JOIN verdicts v ON 'verdict:' || v.id = a.dedupe_key WHERE o.status = 'sent' AND v.worker LIKE 'bw%'`,
    );
    const lock = await w.db.query<{ s: number }>(
      `SELECT extract(epoch FROM min(e.at) - min(v.created_at))::float8 AS s
         FROM lockdown_events e JOIN verdicts v ON v.worker = e.worker
        WHERE e.action = 'container_paused' AND e.worker LIKE 'bw%' GROUP BY e.worker`,
    );
    const l = lat.rows.map((r) => r.s * 1000);
    const k = lock.rows.map((r) => r.s * 1000);
    console.log(`alerts benchmark: ${VERDICTS} FALSE verdicts across ${WORKERS} workers, burst, fake Bot API on loopback`);
    console.log(`alert latency (verdict → Bot API ok): n=${l.length} p50 ${q(l, 0.5).toFixed(0)} ms, p99 ${q(l, 0.99).toFixed(0)} ms, max ${Math.max(...l).toFixed(0)} ms`);
    console.log(`time to lockdown (first verdict → container paused): n=${k.length} p50 ${q(k, 0.5).toFixed(0)} ms, p99 ${q(k, 0.99).toFixed(0)} ms`);
    console.log(`all ${VERDICTS} alerts delivered in ${elapsed.toFixed(2)} s; sendMessage calls: ${bot.callsOf('sendMessage').length}`);
  } finally {
    await docker(['rm', '-f', ...containers]);
    await w.close();
    await bot.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
