// The ops console under load: 200 pending approvals and 100k Docker audit rows in the real store, the real control
// API, and Debian's Chromium. Measures (1) the inbox: sign-in click → all 200 cards on the page, (2) audit page
// queries over HTTP (filters, search, a deep keyset page), p50/p99 per kind and overall, then the same queries
// with migration 010's indexes dropped, to show what they buy. Targets (issue #10): inbox < 1 s, audit p99 < 50 ms.
// Run: npm run bench -- console [audit rows] [pending approvals]
import { launchBrowser } from '../test/console/browser.js';
import { startWingman } from '../test/helpers/wingman.js';

const ROWS = Number(process.argv[2] ?? 100_000);
const PENDING = Number(process.argv[3] ?? 200);
const ROUNDS = 40;

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] ?? NaN;
};

async function main() {
  const w = await startWingman({ env: { WINGMAN_LOG_LEVEL: 'silent' } });
  const browser = await launchBrowser();
  try {
    const t0 = Date.now();
    // 100k rows over the last 30 days: 20 workers, 12 rules, a third refused after a decision (their reason names it).
    await w.db.query(
      `INSERT INTO docker_audit (id, at, worker, method, route, path, rule, decision, mode, approval_id, approved_by,
                                 status_code, duration_ms, bytes_in, bytes_out, reason)
       SELECT gen_random_uuid(), now() - make_interval(secs => i * 26), 'bw' || (i % 20),
              (ARRAY['GET','POST','DELETE'])[1 + i % 3], '/containers/{name:.*}/json',
              '/v1.45/containers/c' || i || '/json',
              (ARRAY['ContainerList','ContainerInspect','ContainerCreate','ContainerStart','ContainerDelete','ContainerExec',
                     'ImageList','ImagePull','VolumeCreate','VolumePrune','NetworkList','ContainerKill'])[1 + i % 12],
              (ARRAY['allow','allow','allow','approved','denied','deny','expired'])[1 + i % 7], 'enforce',
              CASE WHEN i % 7 = 3 THEN gen_random_uuid() END, CASE WHEN i % 7 = 3 THEN 'api:ops' END,
              200, 1.5, 0, 512,
              CASE WHEN i % 7 = 4 THEN 'denied by api:ops: no (approval ' || gen_random_uuid() || ')' END
         FROM generate_series(1, $1) AS i`,
      [ROWS],
    );
    await w.db.query(
      `INSERT INTO approvals (worker, rule, summary, method, route, path, op_hash, op, reasons, expires_at)
       SELECT 'bw' || (i % 20), 'ContainerExec', 'run a command in container c' || i, 'POST', '/containers/{name:.*}/exec',
              '/containers/c' || i || '/exec', md5(i::text) || md5((i + 1)::text),
              jsonb_build_object('params', jsonb_build_object('name', 'c' || i), 'query', '[]'::jsonb,
                                 'body', jsonb_build_object('Cmd', jsonb_build_array('sh', '-c', 'make test-' || i), 'User', 'app')),
              '["runs a command in a container"]', now() + interval '1 hour'
         FROM generate_series(1, $1) AS i`,
      [PENDING],
    );
    await w.db.query('ANALYZE docker_audit');
    await w.db.query('ANALYZE approvals');
    console.log(`seeded ${ROWS} audit rows and ${PENDING} pending approvals in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // (1) the inbox
    const page = await browser.context.newPage();
    const renders: number[] = [];
    for (let i = 0; i < 5; i++) {
      await page.goto(`${w.controlUrl}/?r=${i}`);
      await page.getByLabel('API token').fill(w.apiToken);
      await page.getByLabel('Your name').fill('bench');
      const started = Date.now();
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForFunction((n) => document.querySelectorAll('article.card').length === n, PENDING, { polling: 'raf', timeout: 30_000 });
      renders.push(Date.now() - started);
    }
    console.log(`inbox, sign-in click → ${PENDING} cards rendered (5 runs): median ${q(renders, 0.5)} ms, max ${Math.max(...renders)} ms (target < 1000 ms)`);

    // (2) audit queries over HTTP
    const headers = { authorization: `Bearer ${w.apiToken}` };
    const deepCursor = async () => {
      let cursor = '';
      for (let i = 0; i < 20; i++) {
        const r = (await (await fetch(`${w.controlUrl}/audit/docker?limit=50${cursor ? `&cursor=${cursor}` : ''}`, { headers })).json()) as { next: string };
        cursor = r.next;
      }
      return cursor;
    };
    const week = new Date(Date.now() - 7 * 86400_000).toISOString();
    const twoWeeks = new Date(Date.now() - 14 * 86400_000).toISOString();
    const kinds: Record<string, string> = {
      'first page': '',
      worker: 'worker=bw7',
      rule: 'rule=ContainerDelete',
      decision: 'decision=denied',
      'worker+rule+decision': 'worker=bw3&rule=ContainerDelete&decision=deny',
      'time range': `from=${encodeURIComponent(twoWeeks)}&to=${encodeURIComponent(week)}`,
      'search (common)': 'q=c1234',
      'search (rare)': 'q=zz-not-there',
      'page 21 (keyset)': `cursor=${await deepCursor()}`,
    };
    const measure = async (label: string) => {
      const all: number[] = [];
      const lines: string[] = [];
      for (const [kind, qs] of Object.entries(kinds)) {
        const times: number[] = [];
        for (let i = 0; i < ROUNDS; i++) {
          const s = performance.now();
          const res = await fetch(`${w.controlUrl}/audit/docker?limit=50${qs ? `&${qs}` : ''}`, { headers });
          if (res.status !== 200) throw new Error(`${kind}: ${res.status} ${await res.text()}`);
          await res.json();
          times.push(performance.now() - s);
        }
        all.push(...times);
        lines.push(`  ${kind.padEnd(22)} p50 ${q(times, 0.5).toFixed(1).padStart(6)} ms   p99 ${q(times, 0.99).toFixed(1).padStart(6)} ms`);
      }
      console.log(`audit page queries over HTTP, ${label} (${ROUNDS} each, 50 rows a page):`);
      console.log(lines.join('\n'));
      console.log(`  ${'all'.padEnd(22)} p50 ${q(all, 0.5).toFixed(1).padStart(6)} ms   p99 ${q(all, 0.99).toFixed(1).padStart(6)} ms (target p99 < 50 ms)`);
    };
    await measure('with migration 010');
    for (const idx of ['docker_audit_at_id', 'docker_audit_rule_at', 'docker_audit_decision_at']) await w.db.query(`DROP INDEX ${idx}`);
    await w.db.query('ANALYZE docker_audit');
    await measure('without its indexes');
  } finally {
    await browser.close();
    await w.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
