// POST /output_validation/validate on the control API and on the sidecar: decisions are stored, published, and a
// MANUAL_REVIEW opens an approval; paths are read from the worker's container; a missing path rejects; no secret is
// stored or answered; bad requests are 400.
import t from 'tap';
import { startWingman, type Wingman } from '../helpers/wingman.js';
import { startSidecarEnv, startWorkerBox, type SidecarEnv, type WorkerBox } from '../sidecar/sidecar-env.js';

let w: Wingman;
let box: WorkerBox;
let sc: SidecarEnv;

t.before(async () => {
  w = await startWingman();
  box = await startWorkerBox('val');
  await w.control.workers.add('w1', box.name);
  sc = await startSidecarEnv({ databaseUrl: w.database.url, container: box.name, worker: 'w1', busPrefix: w.config.redisPrefix });
});
t.teardown(async () => {
  await sc.close();
  await box.remove();
  await w.close();
});

const pkg = (deps: Record<string, string>) => ({ path: 'package.json', content: JSON.stringify({ name: 'x', version: '1.0.0', type: 'module', dependencies: deps }) });
const unpinned = Object.fromEntries(['left-pad', 'chalk', 'ms', 'debug', 'semver', 'uuid'].map((n) => [n, '*']));
const evals = Array.from({ length: 3 }, (_, i) => `export const v${i} = eval("${i} + 1");`).join('\n') + '\n';
const review = [pkg(unpinned), { path: 'src/a.ts', content: evals }, { path: 'src/a.test.ts', content: "import './a.js';\n" }];
const SECRET = 'AKIA' + 'QWERTYUIOPASDFGH';

async function api(payload: unknown) {
  const r = await w.control.server.inject({
    method: 'POST',
    url: '/output_validation/validate',
    headers: { authorization: `Bearer ${w.apiToken}` },
    payload: payload as object,
  });
  return { status: r.statusCode, json: r.json(), body: r.body };
}

t.test('control API: approve, reject, review (with an approval), stored and published', async (t) => {
  const seen: string[] = [];
  const unwatch = w.bus.watch(['validation.decided'], (e) => seen.push(String(e.data.decision)));
  await unwatch.ready;
  const clean = await api({ files: [pkg({}), { path: 'src/add.js', content: 'export const add = (a, b) => a + b;\n' }] });
  t.equal(clean.status, 200, clean.body);
  t.equal(clean.json.decision, 'AUTO_APPROVE');
  const bad = await api({ files: [pkg({}), { path: 'src/x.js', content: "import lp from 'wgm-hallucinated-package';\nexport default lp;\n" }] });
  t.equal(bad.json.decision, 'AUTO_REJECT');
  const rev = await api({ worker: 'w1', files: review });
  t.equal(rev.json.decision, 'MANUAL_REVIEW', JSON.stringify(rev.json.reasons));
  t.match(rev.json.approval_id, /^[0-9a-f-]{36}$/);
  const a = await w.control.approvals.get(rev.json.approval_id);
  t.equal(a?.rule, 'OutputValidation');
  t.equal(a?.status, 'pending');
  t.match(a?.summary, /review AI-written code: 3 file\(s\), score \d+/);
  const { rows } = await w.db.query(`SELECT decision, source, worker, approval_id FROM output_validations ORDER BY created_at`);
  t.same(rows.map((r) => r.decision), ['AUTO_APPROVE', 'AUTO_REJECT', 'MANUAL_REVIEW']);
  t.equal(rows[2].approval_id, rev.json.approval_id);
  for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
  t.same(seen, ['AUTO_APPROVE', 'AUTO_REJECT', 'MANUAL_REVIEW']);
  unwatch();
});

t.test('sidecar: paths read from the worker container; a missing path rejects; the worker is its own', async (t) => {
  await box.sh(`mkdir -p /work/src && printf 'export const add = (a, b) => a + b;\\n' > /work/src/add.js && printf '{"name":"x","version":"1.0.0","type":"module"}' > /work/package.json`);
  const ok = await sc.post('/output_validation/validate', { paths: ['/work/src/add.js', '/work/package.json'] });
  t.equal(ok.status, 200, JSON.stringify(ok.json));
  t.equal(ok.json.decision, 'AUTO_APPROVE');
  const missing = await sc.post('/output_validation/validate', { paths: ['/work/src/add.js', '/work/src/never-written.js'] });
  t.equal(missing.json.decision, 'AUTO_REJECT');
  t.match(JSON.stringify(missing.json.blocking_issues), /never-written\.js/);
  const spoof = await sc.post('/output_validation/validate', { worker: 'w2', files: review });
  t.equal(spoof.status, 400, 'a worker field is not accepted by the sidecar');
  const { rows } = await w.db.query(`SELECT worker, source FROM output_validations WHERE source = 'sidecar'`);
  t.ok(rows.length >= 2 && rows.every((r) => r.worker === 'w1'));
});

t.test('no secret is stored or answered', async (t) => {
  const r = await api({ files: [pkg({}), { path: 'src/k.js', content: `export const key = "${SECRET}";\n` }] });
  t.equal(r.json.decision, 'AUTO_REJECT');
  t.notMatch(r.body, SECRET);
  const { rows } = await w.db.query(`SELECT * FROM output_validations`);
  t.notMatch(JSON.stringify(rows), SECRET);
});

t.test('bad requests are 400, never 500', async (t) => {
  for (const payload of [{}, { files: [] }, { files: [{ path: 'a.js' }] }, { paths: ['/x'] }, { files: review, bogus: 1 }, { files: review, instruction_id: 'nope' }, { worker: 'w1', files: review, run_tests: true }]) {
    const r = await api(payload);
    t.equal(r.status, 400, `${JSON.stringify(payload).slice(0, 80)} → ${r.body.slice(0, 200)}`);
  }
  t.equal((await api({ worker: 'nobody', files: review })).status, 404);
});
