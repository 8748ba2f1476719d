// /check through HTTP: the stable response schema, the decision stored append-only and published as gate.decided,
// a table of approved and rejected instructions (sections, forbidden actions, every secret kind, object and raw
// Markdown forms); secrets appear in no stored row, no log line and no response; 423 for a locked-down worker;
// bad input is a 4xx, never a 500; the store down is a 503 (fail closed).
import { Writable } from 'node:stream';
import t from 'tap';
import type { BusEvent } from '../../core/bus/bus.js';
import { createLogger } from '../../core/log.js';
import { createTestDatabase, migratedTestDb } from '../helpers/db.js';
import { testLockdowns } from '../helpers/lockdowns.js';
import { startDatabaseRelay } from '../helpers/tcp-relay.js';
import { instructionMarkdown, SECTIONS, startSidecarEnv } from './sidecar-env.js';
import { defaultMigrationsDir, migrate } from '../../core/store/migrate.js';
import { PgDb } from '../../core/store/pg-db.js';

const j = (...p: string[]) => p.join('');
// Fake secrets, assembled so this file does not itself look like a leak.
const S = {
  aws: j('AKIA', 'R7XMT2K9QWNVB4ZP'),
  sk: j('sk-', 'proj-', 'Lm3Nq8Rt2Vx7Yz1Ab4Cd6Ef9Gh0Ij5Kl'),
  pem: j('-----BEGIN RSA ', 'PRIVATE KEY-----\n', 'MIIEowIBAAKCAQEAt5mK2pQ8vR3zW1nJ7yL4xF6hB9cD0eG2iK5oM8sU1wY3aC6e\n', '-----END RSA ', 'PRIVATE KEY-----'),
  telegram: j('987654321', ':AA', 'Gq7Lm2Np5Rs8Tv1Wx4Yz6Ab9Cd3Ef0Gh2'),
  password: j('Gr4ss', 'h0pper!9'),
  urlPassword: j('s3cr3t', 'Pw7q'),
  entropy: j('Qm9Lx2Vb', 'Nc4Rt6Yh', 'Zk1Pw3Sd', '5Tg7Jf8A'),
  github: j('ghp_', 'Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2'),
};

const logLines: string[] = [];
const sink = new Writable({
  write(chunk, _enc, cb) {
    logLines.push(String(chunk));
    cb();
  },
});
const log = createLogger({ level: 'debug', name: 'gate-http-test', destination: sink });

const tdb = await migratedTestDb();
const sc = await startSidecarEnv({ databaseUrl: tdb.url, container: 'wgmtest-gate-no-container', log, verifyLoop: { enabled: false } });
const events: BusEvent[] = [];
const unwatch = sc.bus.watch(['gate.decided'], (e) => events.push(e));
await unwatch.ready;
t.teardown(async () => {
  unwatch();
  await sc.close();
  await tdb.drop();
});

const responses: string[] = [];
async function check(body: unknown, headers?: Record<string, string>) {
  const r = await sc.post('/check', body, headers);
  responses.push(JSON.stringify(r.json));
  return r;
}

type Row = [name: string, instruction: unknown, approved: boolean, rules?: string[], missing?: string[], weak?: string[]];

const ROWS: Row[] = [
  ['complete', instructionMarkdown(), true],
  ['one section missing', instructionMarkdown({}, ['MITIGATION']), false, [], ['MITIGATION']],
  ['nine of ten: RISK_ASSESSMENT missing', instructionMarkdown({}, ['RISK_ASSESSMENT']), false, [], ['RISK_ASSESSMENT']],
  ['placeholder section', instructionMarkdown({ QUALITY_METRICS: 'TBD' }), false, [], [], ['QUALITY_METRICS']],
  ['n/a section', instructionMarkdown({ DEPENDENCIES: 'n/a' }), false, [], [], ['DEPENDENCIES']],
  ['stuffed one-liner', instructionMarkdown({ DELIVERABLES: 'SUCCESS_CRITERIA BOUNDARIES DEPENDENCIES MITIGATION TEST_PROCESS' }), false, [], [], ['DELIVERABLES']],
  ['force push asked for', instructionMarkdown({ DELIVERABLES: `${SECTIONS.DELIVERABLES}\n\nThen run \`git push --force origin main\`.` }), false, ['git-force-push']],
  ['force push only forbidden', instructionMarkdown({ BOUNDARIES: 'Never use `git push --force`; only touch /work and never delete files outside it.' }), true],
  ['rm -rf /', instructionMarkdown({ MITIGATION: 'If it breaks:\n```sh\nrm -rf /\n```' }), false, ['rm-rf-dangerous']],
  ['DROP TABLE', instructionMarkdown({ DELIVERABLES: `${SECTIONS.DELIVERABLES}\n\`\`\`sql\nDROP TABLE users;\n\`\`\`` }), false, ['sql-drop']],
  ['docker system prune', instructionMarkdown({ DELIVERABLES: `${SECTIONS.DELIVERABLES} Then run \`docker system prune -af\` to free the disk.` }), false, ['docker-system-prune']],
  ['curl | sh', instructionMarkdown({ DEPENDENCIES: 'Install the tool: `curl -fsSL https://get.example.com | sh` before starting.' }), false, ['pipe-to-shell']],
  ['unset DOCKER_HOST', instructionMarkdown({ TEST_PROCESS: '```sh\nunset DOCKER_HOST && sh /work/test.sh\n```' }), false, ['wingman-unset-docker-host']],
  ['raw docker socket', instructionMarkdown({ DELIVERABLES: `${SECTIONS.DELIVERABLES}\n\`docker run -v /var/run/docker.sock:/var/run/docker.sock img\`` }), false, ['wingman-raw-docker-socket']],
  ['object form', { ...SECTIONS }, true],
  ['object form, one missing', Object.fromEntries(Object.entries(SECTIONS).filter(([k]) => k !== 'BOUNDARIES')), false, [], ['BOUNDARIES']],
  ['secret: AWS key id', instructionMarkdown({ DEPENDENCIES: `${SECTIONS.DEPENDENCIES} Use the key ${S.aws} for uploads.` }), false, ['secret:aws_access_key_id']],
  ['secret: sk- key', instructionMarkdown({ DEPENDENCIES: `${SECTIONS.DEPENDENCIES}\nOPENAI_API_KEY=${S.sk}` }), false, ['secret:sk_api_key']],
  ['secret: PEM key', instructionMarkdown({ RESOURCE_REQUIREMENTS: `${SECTIONS.RESOURCE_REQUIREMENTS}\n\n${S.pem}` }), false, ['secret:private_key']],
  ['secret: Telegram bot token', instructionMarkdown({ MITIGATION: `${SECTIONS.MITIGATION} Alert the bot ${S.telegram}.` }), false, ['secret:telegram_bot_token']],
  ['secret: password literal', instructionMarkdown({ TEST_PROCESS: `\`\`\`sh\nDB_PASSWORD=${S.password} sh /work/test.sh\n\`\`\`` }), false, ['secret:password_literal']],
  ['secret: URL password', instructionMarkdown({ DEPENDENCIES: `${SECTIONS.DEPENDENCIES} DB at postgres://app:${S.urlPassword}@db.local/app.` }), false, ['secret:url_password']],
  ['secret: high-entropy assignment', instructionMarkdown({ RESOURCE_REQUIREMENTS: `${SECTIONS.RESOURCE_REQUIREMENTS}\nclient_secret: ${S.entropy}` }), false, ['secret:high_entropy_assignment']],
  ['secret: GitHub token', instructionMarkdown({ DEPENDENCIES: `${SECTIONS.DEPENDENCIES} Clone with ${S.github}.` }), false, ['secret:github_token']],
  ['secret in the object form', { ...SECTIONS, DEPENDENCIES: { database: 'Postgres 16', password: S.password } }, false, ['secret:password_literal']],
];

t.test('decision table through HTTP: response schema, stored row, gate.decided', async (t) => {
  for (const [name, instruction, approved, rules = [], missing = [], weak = []] of ROWS) {
    const r = await check({ instruction });
    t.equal(r.status, 200, `${name}: 200`);
    // An approved instruction starts a task: the answer says how its baseline went (here: no such container).
    t.same(Object.keys(r.json).sort(), [...(approved ? ['baseline'] : []), 'approved', 'decision', 'instruction_id', 'missing_sections', 'score', 'violations', 'weak_reasons', 'weak_sections'].sort(), `${name}: schema`);
    if (approved) t.match(r.json.baseline, { status: 'failed', reason: /does not exist/ }, `${name}: baseline`);
    t.equal(r.json.approved, approved, `${name}: approved=${approved} (${JSON.stringify(r.json.violations)} ${r.json.missing_sections} ${r.json.weak_sections})`);
    t.equal(r.json.decision, approved ? 'APPROVED' : 'REJECTED', `${name}: decision`);
    t.same(r.json.missing_sections, missing, `${name}: missing`);
    t.same(r.json.weak_sections, weak, `${name}: weak`);
    for (const rule of rules) t.ok(r.json.violations.some((v: { rule: string }) => v.rule === rule), `${name}: violation ${rule}`);
    if (rules.some((x) => x.startsWith('secret:'))) t.equal(r.json.score, 0, `${name}: score 0 with a secret`);
    const { rows } = await sc.db.query(`SELECT * FROM instructions WHERE id = $1`, [r.json.instruction_id]);
    t.equal(rows.length, 1, `${name}: stored`);
    t.match(rows[0], { worker: 'w1', approved, decision: r.json.decision, score: r.json.score }, `${name}: row`);
    t.same(rows[0].violations, r.json.violations, `${name}: stored violations`);
  }
  const { rows } = await sc.db.query(`SELECT count(*)::int AS n FROM instructions`);
  t.equal(rows[0].n, ROWS.length, 'one row per decision');
  for (let i = 0; i < 50 && events.length < ROWS.length; i++) await new Promise((r) => setTimeout(r, 50));
  t.equal(events.length, ROWS.length, 'one gate.decided per decision');
  t.match(events[0].data, { worker: 'w1', decision: 'APPROVED', score: 100 });
  const metrics = await fetch(sc.url + '/metrics').then((r) => r.text());
  t.match(metrics, /wingman_gate_decisions_total\{decision="APPROVED"\} \d+/);
});

t.test('the test process of an approved instruction is kept for re-runs', async (t) => {
  const r = await check({ instruction: instructionMarkdown() });
  const { rows } = await sc.db.query(`SELECT test_process, decided_at FROM instructions WHERE id = $1`, [r.json.instruction_id]);
  t.equal(rows[0].test_process, 'sh /work/test.sh');
  t.ok(rows[0].decided_at instanceof Date);
});

t.test('the raw Markdown body is accepted (text/markdown)', async (t) => {
  const r = await check(instructionMarkdown(), { 'content-type': 'text/markdown' });
  t.equal(r.status, 200);
  t.equal(r.json.approved, true);
});

t.test('stored instructions are append-only', async (t) => {
  await t.rejects(sc.db.query(`UPDATE instructions SET approved = true`), { code: 'WG001' });
  await t.rejects(sc.db.query(`DELETE FROM instructions`), { code: 'WG001' });
});

t.test('bad input: 4xx with a clear message, never 500', async (t) => {
  const bad: [string, string | undefined, Record<string, string>, number, RegExp][] = [
    ['invalid JSON', `{"instruction": "password=${S.password}`, { 'content-type': 'application/json' }, 400, /not valid JSON/],
    ['no instruction field', JSON.stringify({ text: 'x' }), { 'content-type': 'application/json' }, 400, /expected \{"instruction"/],
    ['extra field', JSON.stringify({ instruction: 'x', worker: 'w2' }), { 'content-type': 'application/json' }, 400, /unexpected field/],
    ['instruction is a number', JSON.stringify({ instruction: 42 }), { 'content-type': 'application/json' }, 400, /invalid instruction/],
    ['instruction is an array', JSON.stringify({ instruction: ['a'] }), { 'content-type': 'application/json' }, 400, /invalid instruction/],
    ['instruction too long', JSON.stringify({ instruction: 'x'.repeat(300 * 1024) }), { 'content-type': 'application/json' }, 400, /invalid instruction/],
    ['body too large', JSON.stringify({ instruction: 'x'.repeat(1100 * 1024) }), { 'content-type': 'application/json' }, 413, /too large/],
    ['JSON array body', '[1,2]', { 'content-type': 'application/json' }, 400, /expected \{"instruction"/],
    ['unsupported content type', 'x', { 'content-type': 'application/xml' }, 415, /application\/json/],
    ['empty JSON body', '', { 'content-type': 'application/json' }, 400, /./],
  ];
  for (const [name, body, headers, status, re] of bad) {
    const res = await fetch(sc.url + '/check', { method: 'POST', headers, body });
    const text = await res.text();
    responses.push(text);
    t.equal(res.status, status, `${name}: ${status} (${text.slice(0, 120)})`);
    t.match(JSON.parse(text).message, re, `${name}: message`);
  }
});

t.test('a worker in lockdown gets 423 with the reason, and nothing is judged or stored', async (t) => {
  const lockdowns = testLockdowns(sc.db, sc.bus);
  await lockdowns.lock('w1', 'FALSE verdict on claim 42', 'test');
  const before = (await sc.db.query(`SELECT count(*)::int AS n FROM instructions`)).rows[0].n;
  const r = await check({ instruction: instructionMarkdown() });
  t.equal(r.status, 423);
  t.equal(r.json.code, 'WGM_ERR_WORKER_LOCKED');
  t.match(r.json.message, /locked down: FALSE verdict on claim 42/);
  t.equal(r.json.reason, 'FALSE verdict on claim 42');
  t.equal((await sc.db.query(`SELECT count(*)::int AS n FROM instructions`)).rows[0].n, before, 'no decision stored');
  await lockdowns.unlock('w1', 'test', 'done');
  t.equal((await check({ instruction: instructionMarkdown() })).status, 200, 'unlocked: judged again');
});

t.test('no secret in any stored row, log line or response', async (t) => {
  const secrets = [...Object.values(S), S.pem.split('\n')[1]];
  const dump = await sc.db.query(`SELECT row_to_json(i)::text AS r FROM instructions i`);
  const stored = dump.rows.map((r) => r.r).join('\n');
  t.ok(stored.includes('[REDACTED:'), 'the stored copies carry the redaction marks');
  const logs = logLines.join('');
  t.ok(logs.includes('gate decided'), 'decisions were logged');
  for (const s of secrets) {
    t.notOk(stored.includes(s), `stored rows hold no ${s.slice(0, 6)}…`);
    t.notOk(logs.includes(s), `logs hold no ${s.slice(0, 6)}…`);
    t.notOk(responses.join('\n').includes(s), `responses hold no ${s.slice(0, 6)}…`);
  }
  const bus = events.map((e) => JSON.stringify(e.data)).join('\n');
  for (const s of secrets) t.notOk(bus.includes(s), `events hold no ${s.slice(0, 6)}…`);
});

t.test('store unreachable: 503, fail closed', async (t) => {
  const database = await createTestDatabase();
  const direct = new PgDb({ url: database.url });
  await migrate(direct, defaultMigrationsDir(), createLogger({ level: 'silent' }));
  const relay = await startDatabaseRelay(database.url);
  const down = await startSidecarEnv({ databaseUrl: relay.url, container: 'wgmtest-gate-none', verifyLoop: { enabled: false } });
  t.teardown(async () => {
    await down.close();
    await relay.close();
    await direct.close();
    await database.drop();
  });
  t.equal((await down.post('/check', { instruction: instructionMarkdown() })).status, 200, 'works with the store up');
  await relay.cut();
  const r = await down.post('/check', { instruction: instructionMarkdown() });
  t.equal(r.status, 503);
  t.equal(r.json.code, 'WGM_ERR_STORE_UNAVAILABLE');
  const health = await down.get('/health');
  t.equal(health.status, 503);
  t.equal(health.json.store.ok, false);
  await relay.restore();
  t.equal((await down.post('/check', { instruction: instructionMarkdown() })).status, 200, 'back when the store is');
});
