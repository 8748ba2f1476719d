// The built CLI: `wingman run` (rejected → exit 2 and nothing runs; approved → runs, exit code passed through,
// argv/exit/duration recorded in the execution audit and checkable by command_executed claims) and the real
// `wingman sidecar` process (config errors, /health, /check, clean stop).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { Workers } from '../../core/workers/workers.js';
import { migratedTestDb } from '../helpers/db.js';
import { testEnv } from '../helpers/env.js';
import { testLockdowns } from '../helpers/lockdowns.js';
import { ROOT, run } from '../helpers/wingman.js';
import { instructionMarkdown, startSidecarEnv, startWorkerBox } from './sidecar-env.js';

const BIN = path.join(ROOT, 'bin/wingman.js');
const tdb = await migratedTestDb();
const box = await startWorkerBox('run');
const sc = await startSidecarEnv({ databaseUrl: tdb.url, container: box.name, bus: 'memory' });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-run-'));
t.teardown(async () => {
  await sc.close();
  await box.remove();
  await tdb.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, text: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};
const good = write('good.md', instructionMarkdown());
const missing = write('missing.md', instructionMarkdown({}, ['RISK_ASSESSMENT']));
const forbidden = write('forbidden.md', instructionMarkdown({ DELIVERABLES: 'Build it, then run `git push --force origin main` to publish the result.' }));

function wingman(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [BIN, ...args], { ...process.env, WINGMAN_SIDECAR_URL: sc.url, WINGMAN_LOG_LEVEL: 'silent', ...env });
}

async function auditRows() {
  return (await sc.db.query<{ argv: string[]; duration_ms: number } & Record<string, unknown>>(`SELECT * FROM docker_audit WHERE route = 'wingman run' ORDER BY at`)).rows;
}

t.test('rejected instructions: exit 2 with the reasons, nothing runs, nothing is recorded', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['a section missing', missing, /instruction rejected \(score 90.*\n\s+missing sections: RISK_ASSESSMENT/],
    ['a forbidden action', forbidden, /violation git-force-push: .*git push --force/],
  ];
  for (const [name, file, re] of cases) {
    const marker = path.join(dir, `ran-${name.replace(/\W/g, '')}`);
    const r = await wingman(['run', '--instruction', file, '--', 'sh', '-c', `touch ${marker}`]);
    t.equal(r.code, 2, `${name}: exit 2`);
    t.match(r.stderr, re, `${name}: the reasons`);
    t.match(r.stderr, /nothing was run/);
    t.notOk(fs.existsSync(marker), `${name}: the command did not run`);
  }
  t.same(await auditRows(), [], 'no execution recorded');
});

t.test('a locked-down worker: exit 2 with the lockdown reason, nothing runs', async (t) => {
  const lockdowns = testLockdowns(sc.db, sc.bus);
  await lockdowns.lock('w1', 'FALSE verdict: claimed dist/app.js', 'test');
  t.teardown(() => lockdowns.unlock('w1', 'test', 'done').then(() => undefined));
  const marker = path.join(dir, 'ran-locked');
  const r = await wingman(['run', '--instruction', good, '--', 'sh', '-c', `touch ${marker}`]);
  t.equal(r.code, 2);
  t.match(r.stderr, /locked down: FALSE verdict: claimed dist\/app.js; nothing was run/);
  t.notOk(fs.existsSync(marker));
});

t.test('approved: the command runs, its exit code passes through, the run is in the execution audit', async (t) => {
  const idFile = path.join(dir, 'instruction-id');
  const script = `echo "$WINGMAN_INSTRUCTION_ID" > ${idFile}; echo to-stdout; exit 3`;
  const r = await wingman(['run', '--instruction', good, '--', 'sh', '-c', script]);
  t.equal(r.code, 3, 'exit code of the command');
  t.match(r.stdout, /to-stdout/, 'stdio inherited');
  t.match(r.stderr, /instruction [0-9a-f-]{36} approved \(score 100\); running sh/);
  const instructionId = fs.readFileSync(idFile, 'utf8').trim();
  t.match(instructionId, /^[0-9a-f-]{36}$/, 'the command knows its instruction id');
  const rows = await auditRows();
  t.equal(rows.length, 1);
  t.match(rows[0], { worker: 'w1', method: 'RUN', rule: 'WingmanRun', status_code: 3, reason: `instruction ${instructionId}` });
  t.same(rows[0].argv, ['sh', '-c', script], 'argv recorded');
  t.ok(rows[0].duration_ms > 0, 'duration recorded');
  const yes = await sc.post('/verify', { type: 'command_executed', argv: ['sh', '-c', script], exit_code: 3 });
  t.equal(yes.json.verdict, 'TRUE', 'a command_executed claim matches the run');
  const no = await sc.post('/verify', { type: 'command_executed', argv: ['sh', '-c', script], exit_code: 0 });
  t.equal(no.json.verdict, 'FALSE', 'a lie about its exit code does not');
});

t.test('a command that cannot start: 127, recorded', async (t) => {
  const r = await wingman(['run', '--instruction', good, '--', 'wgmtest-no-such-binary', '--flag']);
  t.equal(r.code, 127);
  t.match(r.stderr, /cannot start wgmtest-no-such-binary: ENOENT/);
  const rows = await auditRows();
  t.ok(rows.some((x) => x.status_code === 127 && JSON.stringify(x.argv) === '["wgmtest-no-such-binary","--flag"]'));
});

t.test('secrets in argv are redacted in the audit', async (t) => {
  const token = '123456789:' + 'AA' + 'Zq7Lm2Np5Rs8Tv1Wx4Yz6Ab9Cd3Ef0Gh2';
  const r = await wingman(['run', '--instruction', good, '--', 'sh', '-c', 'exit 0', `--bot=${token}`]);
  t.equal(r.code, 0);
  const dump = JSON.stringify(await auditRows());
  t.notMatch(dump, token);
  t.match(dump, /REDACTED/);
});

t.test('usage and unreachable sidecar: exit 1, nothing runs', async (t) => {
  const marker = path.join(dir, 'ran-unreachable');
  const cases: [string[], Record<string, string>, RegExp][] = [
    [['run', '--', 'true'], {}, /missing --instruction FILE/],
    [['run', '--instruction', good], {}, /missing the command after --/],
    [['run', '--instruction', good, '--bogus', '--', 'true'], {}, /unknown option --bogus/],
    [['run', '--instruction', path.join(dir, 'nope.md'), '--', 'true'], {}, /cannot read .*ENOENT/],
    [['run', '--instruction', good, '--', 'sh', '-c', `touch ${marker}`], { WINGMAN_SIDECAR_URL: 'http://127.0.0.1:9' }, /sidecar unreachable at http:\/\/127.0.0.1:9/],
  ];
  for (const [args, env, re] of cases) {
    const r = await wingman(args, env);
    t.equal(r.code, 1, args.join(' '));
    t.match(r.stderr, re);
  }
  t.notOk(fs.existsSync(marker), 'nothing ran without the sidecar');
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

t.test('wingman sidecar: refuses to start without its settings, serves, stops cleanly', async (t) => {
  const env = testEnv();
  // The sidecar reaches Docker only through its proxy identity: the test's proxy serves w8 and w9.
  const base = {
    ...process.env,
    DATABASE_URL: tdb.url,
    REDIS_URL: env.redisUrl,
    WINGMAN_UPSTREAM: env.dockerHost,
    WINGMAN_SOCKET_DIR: sc.config.socketDir,
    WINGMAN_LOG_LEVEL: 'silent',
    WINGMAN_DATA_DIR: path.join(dir, 'sc-data'),
  };
  const userBox = await startWorkerBox('run-u1000', ['--user', '1000']);
  t.teardown(() => userBox.remove());
  const workers = new Workers(sc.db, sc.bus);
  await workers.add('w8', box.name); // runs as root, like this test
  await workers.add('w9', userBox.name); // runs as uid 1000
  for (const w of ['w8', 'w9']) await sc.proxy!.addWorker(w);

  const noWorker = await run(process.execPath, [BIN, 'sidecar'], { ...base, WINGMAN_WORKER_CONTAINER: box.name });
  t.equal(noWorker.code, 1);
  t.match(noWorker.stderr, /needs WINGMAN_WORKER/);
  const noDb = await run(process.execPath, [BIN, 'sidecar'], { ...base, DATABASE_URL: '', WINGMAN_WORKER: 'w9', WINGMAN_WORKER_CONTAINER: box.name });
  t.equal(noDb.code, 1);
  t.match(noDb.stderr, /DATABASE_URL/);
  const rawSocket = await run(process.execPath, [BIN, 'sidecar'], { ...base, WINGMAN_WORKER: 'w9', WINGMAN_WORKER_CONTAINER: userBox.name, WINGMAN_SIDECAR_SOCKET: env.dockerHost });
  t.equal(rawSocket.code, 1);
  t.match(rawSocket.stderr, /own proxy identity, never the engine socket/);
  const asRoot = await run(process.execPath, [BIN, 'sidecar'], { ...base, WINGMAN_WORKER: 'w9', WINGMAN_WORKER_CONTAINER: userBox.name });
  t.equal(asRoot.code, 1, 'root is refused');
  t.match(asRoot.stderr, /must not run as root/);
  const sameUid = await run(process.execPath, [BIN, 'sidecar'], { ...base, WINGMAN_WORKER: 'w8', WINGMAN_WORKER_CONTAINER: box.name, WINGMAN_SIDECAR_ALLOW_ROOT: 'true' });
  t.equal(sameUid.code, 1, "the worker's uid is refused");
  t.match(sameUid.stderr, /runs as uid 0, the same as its worker's container/);

  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'sidecar'], {
    // Root only because this test runs as root (a different uid from its worker's, which the sidecar checks).
    env: { ...base, WINGMAN_WORKER: 'w9', WINGMAN_WORKER_CONTAINER: userBox.name, WINGMAN_SIDECAR_PORT: String(port), WINGMAN_SIDECAR_ALLOW_ROOT: 'true' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.teardown(() => child.kill('SIGKILL'));
  const url = `http://127.0.0.1:${port}`;
  let health: Response | undefined;
  for (let i = 0; i < 100; i++) {
    health = await fetch(url + '/health').catch(() => undefined);
    if (health) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.equal(health?.status, 200, `health (${stderr.slice(0, 300)})`);
  t.match(await health!.json(), { status: 'ok', worker: 'w9', container: { ok: true, running: true } });
  const check = await fetch(url + '/check', { method: 'POST', headers: { 'content-type': 'text/markdown' }, body: instructionMarkdown() });
  t.match(await check.json(), { approved: true });
  const r = await wingman(['run', '--instruction', good, '--', 'true'], { WINGMAN_SIDECAR_URL: url });
  t.equal(r.code, 0, 'wingman run against the real sidecar process');
  const rows = (await sc.db.query(`SELECT worker FROM docker_audit WHERE worker = 'w9' AND route = 'wingman run'`)).rows;
  t.equal(rows.length, 1, 'recorded under the sidecar\'s own worker');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM: clean exit');
});
