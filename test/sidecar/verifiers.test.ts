// Claims against a real busybox worker container, through the sidecar's HTTP API: a true and a false claim of every
// type, files that existed before the task started, processes and ports that exist only in the sidecar's (this test
// process's) namespaces, lying tests_passed claims, free text, and the UNVERIFIABLE cases.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { migratedTestDb } from '../helpers/db.js';
import { instructionMarkdown, startSidecarEnv, startWorkerBox, type SidecarEnv } from './sidecar-env.js';

type V = 'TRUE' | 'FALSE' | 'UNVERIFIABLE';

const tdb = await migratedTestDb();
const box = await startWorkerBox();
const other = await startWorkerBox('other');
// /check waits for the whole task-start baseline: the worker writes right after it answers.
const sc = await startSidecarEnv({ databaseUrl: tdb.url, container: box.name, bus: 'memory', testTimeoutMs: 3_000, baseline: { budgetMs: 60_000 } });
const children: ChildProcess[] = [];
const servers: net.Server[] = [];
t.teardown(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of servers) s.close();
  await sc.close();
  await box.remove();
  await other.remove();
  await tdb.drop();
});

async function verify(s: SidecarEnv, body: Record<string, unknown>) {
  const r = await s.post('/verify', body);
  if (r.status !== 200) throw new Error(`/verify ${JSON.stringify(body)} answered ${r.status}: ${JSON.stringify(r.json)}`);
  return r.json as { claim_id: string; verdict: V; reason: string; evidence: Record<string, any>; verifier: string };
}

async function sh(script: string) {
  const r = await box.sh(script);
  if (r.code !== 0) throw new Error(`worker sh failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

type Row = [name: string, body: Record<string, unknown>, expected: V, reason?: RegExp];

async function table(t: Test, rows: Row[], s: SidecarEnv = sc) {
  for (const [name, body, expected, reason] of rows) {
    const v = await verify(s, body);
    t.equal(v.verdict, expected, `${name}: ${v.reason}`);
    if (reason) t.match(v.reason, reason, `${name}: reason`);
  }
}

// One parent test: tap would end the root test while the setup between subtests awaits.
t.test('claims against a real busybox worker', async (t) => {
  // --- before any instruction was approved -----------------------------------------------------------------------
  await sh('mkdir -p /work/out && echo before > /work/before.txt && echo stale > /work/out/stale.txt && echo bye > /work/gone.txt && echo bye > /root/was-there');

  await t.test('no approved instruction: time-bound claims are UNVERIFIABLE', async (t) => {
    await table(t, [
      ['file_created', { type: 'file_created', path: '/work/before.txt' }, 'UNVERIFIABLE', /no approved instruction/],
      ['tests_passed', { type: 'tests_passed' }, 'UNVERIFIABLE', /no approved instruction/],
      ['command_executed', { type: 'command_executed', argv: ['make'] }, 'UNVERIFIABLE', /no approved instruction/],
    ]);
    // a rejected instruction starts no task
    const rejected = await sc.post('/check', { instruction: instructionMarkdown({}, ['RISK_ASSESSMENT']) });
    t.equal(rejected.json.approved, false);
    await table(t, [
      ['rejected instruction id', { type: 'file_modified', path: '/work/before.txt', instruction_id: rejected.json.instruction_id }, 'UNVERIFIABLE', /rejected by the gate/],
      ['unknown instruction id', { type: 'file_modified', path: '/work/before.txt', instruction_id: '00000000-0000-4000-8000-000000000000' }, 'UNVERIFIABLE', /does not exist/],
    ]);
  });

  // --- the task starts -------------------------------------------------------------------------------------------
  await new Promise((r) => setTimeout(r, 30)); // the kernel's file clock is coarse: keep "before" clearly before
  const check = await sc.post('/check', { instruction: instructionMarkdown() });
  if (!check.json.approved) throw new Error(`fixture instruction not approved: ${JSON.stringify(check.json)}`);
  const instructionId = check.json.instruction_id as string;
  await new Promise((r) => setTimeout(r, 30));

  const APP = 'hello world\nversion=1.2.3\n';
  const appSha = createHash('sha256').update(APP).digest('hex');
  await sh(
    [
      `printf '${APP.replace(/\n/g, '\\n')}' > /work/out/app.txt`,
      'ln -s /work/out/app.txt /work/link.txt',
      'echo changed >> /work/out/stale.txt',
      'rm /work/before.txt.missing 2>/dev/null; true',
      'rm /work/gone.txt /root/was-there',
      'echo "wgmtest:x:1000:" >> /etc/group',
      'mkdir -p /work/newdir',
      'dd if=/dev/zero of=/work/big.bin bs=1048576 count=9 2>/dev/null',
      'printf "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!" > /work/redos.txt',
    ].join(' && '),
  );

  await t.test('files', async (t) => {
    await table(t, [
      ['created, relative to the working dir', { type: 'file_created', path: 'out/app.txt' }, 'TRUE'],
      ['created, absolute, hash matches', { type: 'file_created', path: '/work/out/app.txt', sha256: appSha }, 'TRUE'],
      ['created, hash differs', { type: 'file_created', path: '/work/out/app.txt', sha256: 'a'.repeat(64) }, 'FALSE', /sha256/],
      ['created, missing', { type: 'file_created', path: '/work/out/nope.js' }, 'FALSE', /does not exist/],
      ['created, pre-existing /etc/passwd', { type: 'file_created', path: '/etc/passwd' }, 'FALSE', /before the task started/],
      ['created, image file touched after the start', { type: 'file_created', path: '/etc/group' }, 'FALSE', /image/],
      ['created, written before the task started', { type: 'file_created', path: '/work/before.txt' }, 'FALSE', /before the task started/],
      ['created, a directory', { type: 'file_created', path: '/work/newdir' }, 'TRUE'],
      ['created, via a symlink', { type: 'file_created', path: '/work/link.txt', sha256: appSha }, 'TRUE'],
      ['created, explicit instruction id', { type: 'file_created', path: 'out/app.txt', instruction_id: instructionId }, 'TRUE'],
      ['modified after the start', { type: 'file_modified', path: '/work/out/stale.txt' }, 'TRUE'],
      ['modified, image file', { type: 'file_modified', path: '/etc/group' }, 'TRUE'],
      ['modified, untouched since before', { type: 'file_modified', path: '/work/before.txt' }, 'FALSE', /before the task started/],
      ['modified, missing', { type: 'file_modified', path: '/nope' }, 'FALSE'],
      ['deleted, there at the start and gone now', { type: 'file_deleted', path: '/work/gone.txt' }, 'TRUE'],
      ['deleted, never existed', { type: 'file_deleted', path: '/work/never.txt' }, 'FALSE', /never existed/],
      ['deleted, still there', { type: 'file_deleted', path: '/work/before.txt' }, 'FALSE', /still exists/],
      ['contains text', { type: 'file_contains', path: 'out/app.txt', text: 'version=1.2.3' }, 'TRUE'],
      ['contains text, absent', { type: 'file_contains', path: 'out/app.txt', text: 'version=2' }, 'FALSE'],
      ['contains regex', { type: 'file_contains', path: 'out/app.txt', regex: '^version=\\d+\\.\\d+\\.\\d+$' }, 'TRUE'],
      ['contains regex, no match', { type: 'file_contains', path: 'out/app.txt', regex: '^release=' }, 'FALSE'],
      ['contains, through a symlink', { type: 'file_contains', path: '/work/link.txt', text: 'hello' }, 'TRUE'],
      ['contains, missing file', { type: 'file_contains', path: '/work/none.txt', text: 'x' }, 'FALSE'],
      ['contains, a directory', { type: 'file_contains', path: '/work/out', text: 'x' }, 'FALSE', /directory/],
      ['contains, file too large to search', { type: 'file_contains', path: '/work/big.bin', text: 'x' }, 'UNVERIFIABLE', /larger than/],
      ['contains, catastrophic regex', { type: 'file_contains', path: '/work/redos.txt', regex: '^(a+)+$' }, 'UNVERIFIABLE', /too long/],
      ['home-relative path', { type: 'file_deleted', path: '~/was-there' }, 'TRUE'],
      ['home-relative path, never existed', { type: 'file_deleted', path: '~/never-there' }, 'FALSE', /never existed/],
      ['other user home', { type: 'file_deleted', path: '~bob/x' }, 'UNVERIFIABLE', /another user/],
    ]);
    // The sidecar's own filesystem does not count: a file that exists only here is not in the worker.
    const local = path.join(os.tmpdir(), `wgmtest-sidecar-only-${process.pid}.txt`);
    fs.writeFileSync(local, 'only in the sidecar');
    t.teardown(() => fs.rmSync(local, { force: true }));
    await table(t, [['a file only in the sidecar filesystem', { type: 'file_created', path: local }, 'FALSE', /does not exist/]]);
  });

  await t.test('processes: the worker namespace only', async (t) => {
    // A uniquely named process in the test process's (= the sidecar's) namespace.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-proc-'));
    const script = path.join(dir, 'wgmscproc');
    fs.writeFileSync(script, '#!/bin/sh\nsleep 300\n', { mode: 0o755 });
    const child = spawn(script, [], { stdio: 'ignore' });
    children.push(child);
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    await new Promise((r) => setTimeout(r, 200));
    t.equal(fs.readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim(), 'wgmscproc', 'the process runs in the sidecar namespace');
    await table(t, [
      ['running in the worker (name)', { type: 'process_running', name: 'sleep' }, 'TRUE'],
      ['running in the worker (command line)', { type: 'process_running', name: 'sleep 600' }, 'TRUE'],
      ['not running anywhere', { type: 'process_running', name: 'nginx' }, 'FALSE'],
      ['only in the sidecar namespace', { type: 'process_running', name: 'node' }, 'FALSE'],
    ]);
    // Start a process with the same kind of name inside the worker: now it is running there.
    await sh('printf "#!/bin/sh\\nsleep 300\\n" > /work/wgmworker && chmod +x /work/wgmworker && (/work/wgmworker >/dev/null 2>&1 &)');
    await new Promise((r) => setTimeout(r, 200));
    await table(t, [
      ['script started in the worker', { type: 'process_running', name: 'wgmworker' }, 'TRUE'],
      ['script started only in the sidecar', { type: 'process_running', name: 'wgmscproc' }, 'FALSE'],
    ]);
  });

  await t.test('ports: the worker network namespace only', async (t) => {
    // Listening here (the sidecar's namespace in this test) is not listening in the worker.
    const server = net.createServer();
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const hostPort = (server.address() as net.AddressInfo).port;
    await table(t, [
      ['listening only in the sidecar namespace', { type: 'port_listening', port: hostPort }, 'FALSE'],
      ['nothing on 7777', { type: 'port_listening', port: 7777 }, 'FALSE'],
    ]);
    await sh('(nc -l -p 7777 >/dev/null 2>&1 &)');
    let v: V = 'FALSE';
    for (let i = 0; i < 20 && v !== 'TRUE'; i++) {
      v = (await verify(sc, { type: 'port_listening', port: 7777 })).verdict;
      if (v !== 'TRUE') await new Promise((r) => setTimeout(r, 100));
    }
    t.equal(v, 'TRUE', 'nc listening in the worker');
    await table(t, [['free text with a localhost URL', { text: 'The server is listening on http://localhost:7777' }, 'TRUE']]);
  });

  await t.test('containers', async (t) => {
    // A container the worker did not start through its socket is not one it can claim.
    await table(t, [['not the worker\'s', { type: 'container_running', name: other.name }, 'FALSE', /not one the worker started/]]);
    // As ops adopting it would: through the proxy's own view, so its cached "nobody's" goes at once.
    await sc.proxy!.ownership.record('container', other.id, sc.config.worker ?? 'w1', { source: 'adopted', actor: 'test' });
    await table(t, [
      ['running', { type: 'container_running', name: other.name }, 'TRUE'],
      ['absent', { type: 'container_running', name: 'wgmtest-no-such-container' }, 'FALSE', /no container/],
    ]);
    await other.sh('true');
    const stopped = await startWorkerBox('stopped');
    t.teardown(() => stopped.remove());
    await sc.proxy!.ownership.record('container', stopped.id, sc.config.worker ?? 'w1', { source: 'adopted', actor: 'test' });
    const { docker } = await import('../helpers/env.js');
    await docker(['stop', '-t', '0', stopped.name]);
    await table(t, [['stopped', { type: 'container_running', name: stopped.name }, 'FALSE', /exited/]]);
  });

  await t.test('commands: the execution audit', async (t) => {
    const ran = await sc.post('/executed', { argv: ['make', 'build'], exit_code: 0, duration_ms: 12.5, instruction_id: instructionId });
    t.equal(ran.status, 201);
    const failed = await sc.post('/executed', { argv: ['make', 'test'], exit_code: 2, duration_ms: 3, instruction_id: instructionId });
    t.equal(failed.status, 201);
    await table(t, [
      ['ran', { type: 'command_executed', argv: ['make', 'build'] }, 'TRUE'],
      ['ran with exit 0', { type: 'command_executed', argv: ['make', 'build'], exit_code: 0 }, 'TRUE'],
      ['claimed exit 0, recorded 2', { type: 'command_executed', argv: ['make', 'test'], exit_code: 0 }, 'FALSE', /exit code/],
      ['never ran', { type: 'command_executed', argv: ['make', 'deploy'] }, 'FALSE', /no run/],
      ['argv must match exactly', { type: 'command_executed', argv: ['make'] }, 'FALSE'],
      ['free text', { text: 'Ran `make build` successfully' }, 'TRUE'],
    ]);
    // /executed under a rejected or unknown instruction is refused
    const rejected = await sc.post('/check', { instruction: instructionMarkdown({ SUCCESS_CRITERIA: 'TBD' }) });
    t.equal((await sc.post('/executed', { argv: ['x'], exit_code: 0, duration_ms: 1, instruction_id: rejected.json.instruction_id })).status, 409);
    t.equal((await sc.post('/executed', { argv: ['x'], exit_code: 0, duration_ms: 1, instruction_id: '00000000-0000-4000-8000-000000000000' })).status, 404);
    t.equal((await sc.post('/executed', { argv: [], exit_code: 0, duration_ms: 1, instruction_id: instructionId })).status, 400);
  });

  await t.test('tests_passed: re-run of TEST_PROCESS inside the worker', async (t) => {
    const script = (pass: number, fail: number, code: number) =>
      sh(`printf 'echo "TAP version 13"\\necho "# pass ${pass}"\\necho "# fail ${fail}"\\nexit ${code}\\n' > /work/test.sh`);
    await script(3, 0, 0);
    await table(t, [
      ['all pass', { type: 'tests_passed' }, 'TRUE'],
      ['all pass, count as claimed', { type: 'tests_passed', total: 3 }, 'TRUE'],
      ['count dropped below the claim', { type: 'tests_passed', total: 5 }, 'FALSE', /fewer than the 5 claimed/],
      ['free text with the count', { text: 'All 3 tests pass' }, 'TRUE'],
    ]);
    await script(2, 1, 1);
    await table(t, [
      ['failing run', { type: 'tests_passed' }, 'FALSE', /failed \(exit 1\)/],
      ['free text lie', { text: 'all tests passed' }, 'FALSE'],
      ['negated free text', { text: 'the tests fail' }, 'TRUE'],
    ]);
    await script(2, 1, 0);
    await table(t, [['exit 0 but a failure printed', { type: 'tests_passed' }, 'FALSE', /1 failing/]]);
    await sh(`printf 'sleep 10\\n' > /work/test.sh`);
    await table(t, [['run does not finish', { type: 'tests_passed' }, 'UNVERIFIABLE', /did not finish/]]);
    // Several TEST_PROCESS lines: a failing first line fails the run even when the last one succeeds.
    const twoLines = await sc.post('/check', { instruction: instructionMarkdown({ TEST_PROCESS: '```sh\nsh /work/test.sh\necho finished\n```' }) });
    t.equal(twoLines.json.approved, true);
    await sh(`printf 'exit 1\\n' > /work/test.sh`);
    await table(t, [['first of two lines fails', { type: 'tests_passed', instruction_id: twoLines.json.instruction_id }, 'FALSE', /exit 1/]]);
    await script(3, 0, 0);
    await table(t, [['both lines pass', { type: 'tests_passed', instruction_id: twoLines.json.instruction_id }, 'TRUE']]);
    // An approved instruction whose TEST_PROCESS names no command: nothing to re-run.
    const prose = await sc.post('/check', {
      instruction: instructionMarkdown({ TEST_PROCESS: 'Open the output file and compare it with the documented format by eye.' }),
    });
    t.equal(prose.json.approved, true, 'prose TEST_PROCESS is approved');
    await table(t, [['no runnable TEST_PROCESS', { type: 'tests_passed', instruction_id: prose.json.instruction_id }, 'UNVERIFIABLE', /no runnable TEST_PROCESS/]]);
  });

  await t.test('free text', async (t) => {
    const rows: Row[] = [
      ['created + tests', { text: 'I created /work/out/app.txt and all tests pass.' }, 'TRUE'],
      ['lie about a file', { text: 'Wrote dist/bundle.js' }, 'FALSE'],
      ['negation, true', { text: 'I did not create /work/out/nope.js' }, 'TRUE'],
      ['negation, false', { text: "I didn't create out/app.txt" }, 'FALSE'],
      ['deleted', { text: 'Removed /work/gone.txt' }, 'TRUE'],
      ['running', { text: 'sleep is running' }, 'TRUE'],
      ['not running, but it is', { text: 'sleep is not running' }, 'FALSE'],
      ['contains', { text: 'out/app.txt contains "hello world"' }, 'TRUE'],
      ['one false part makes it false', { text: 'Created out/app.txt. Deleted /work/before.txt.' }, 'FALSE'],
      ['a URL is not a file', { text: 'Created https://example.com/pull/1' }, 'UNVERIFIABLE', /URL/],
      ['nothing checkable', { text: 'Refactored the code and it looks great' }, 'UNVERIFIABLE'],
      ['small talk', { text: 'Done! Let me know what you think.' }, 'UNVERIFIABLE', /no checkable statement/],
      ['intention', { text: 'I will create src/x.ts next' }, 'UNVERIFIABLE'],
      ['condition', { text: 'If the tests pass, deploy.' }, 'UNVERIFIABLE', /condition/],
      ['checkable part and an uncheckable part', { text: 'Created out/app.txt and opened https://example.com/pr/2' }, 'TRUE'],
    ];
    // Later instructions were approved by now: these claims name the task they belong to.
    await table(t, rows.map(([n, b, v, r]) => [n, { ...b, instruction_id: instructionId }, v, r] as Row));
  });

  await t.test('secrets in claims: stored redacted, unverifiable when the claim itself is lost', async (t) => {
    const secret = 'AKIA' + 'Q3EGRQ7YDXKT2N5Z';
    const v = await verify(sc, { type: 'file_contains', path: '/work/.env', text: `AWS_ACCESS_KEY_ID=${secret}` });
    t.equal(v.verdict, 'UNVERIFIABLE');
    t.match(v.reason, /secret/);
    const { rows } = await sc.db.query(`SELECT params::text AS p FROM claims WHERE id = $1`, [v.claim_id]);
    t.notMatch(rows[0].p, secret, 'the stored claim holds no secret');
    t.match(rows[0].p, /REDACTED/);
  });

  await t.test('a missing worker container: UNVERIFIABLE, never a guess', async (t) => {
    const gone = await startSidecarEnv({ databaseUrl: tdb.url, container: 'wgmtest-no-such-worker', worker: 'w-gone', bus: 'memory' });
    t.teardown(() => gone.close());
    const ins = await gone.post('/check', { instruction: instructionMarkdown() });
    t.equal(ins.json.approved, true);
    await table(
      t,
      [
        ['file', { type: 'file_created', path: '/work/out/app.txt' }, 'UNVERIFIABLE', /does not exist/],
        ['process', { type: 'process_running', name: 'sleep' }, 'UNVERIFIABLE', /does not exist/],
      ],
      gone,
    );
    const health = await gone.get('/health');
    t.equal(health.status, 503);
    t.equal(health.json.container.ok, false);
  });

  await t.test('claims of another worker are not visible to this sidecar', async (t) => {
    const w2 = await startSidecarEnv({ databaseUrl: tdb.url, container: other.name, worker: 'w2', bus: 'memory' });
    t.teardown(() => w2.close());
    const logged = await sc.post('/log_claim', { type: 'file_deleted', path: '/tmp/x' });
    t.equal(logged.status, 202);
    t.equal((await w2.post('/verify', { claim_id: logged.json.claim_id, wait_ms: 0 })).status, 404);
    // /tmp/x was never there: nothing was deleted (the baseline knows).
    t.equal((await sc.post('/verify', { claim_id: logged.json.claim_id })).json.verdict, 'FALSE');
    // and an instruction of worker w1 does not start a task for w2
    await table(t, [['foreign instruction', { type: 'file_created', path: '/x', instruction_id: instructionId }, 'UNVERIFIABLE', /another worker/]], w2);
  });
});
