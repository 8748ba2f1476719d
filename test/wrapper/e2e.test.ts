// End to end with the real engine: a worker runs docker through the wrapper (dash and busybox sh) and the proxy
// (DOCKER_HOST = its proxy socket); Wingman holds one approval for the whole command; ops decide through the CLI or
// the API. The grant the wrapper receives covers exactly the calls of the approved command.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import t from 'tap';
import { docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';
import { recordingServer, runWrapper, SHELLS, spawnWrapper, tmpDir, WRAPPER, type RunResult } from './helpers.js';

const TOKENS = { w1: 'wgmtest-w1-token-0123456789', w2: 'wgmtest-w2-token-0123456789' };
const WORKER_TOKENS = `w1:${TOKENS.w1},w2:${TOKENS.w2}`;
// w2 runs under a policy: its removals are forbidden, kills allowed, privileged containers need approval.
const POLICY = `workers:
  w2:
    rules: { ContainerDelete: deny, ContainerKill: allow }
    escalations: { privileged: approve, cap_add: approve, host_bind: approve }
`;

let w: Wingman;
let home: string;
const containers: string[] = [];
const volumes: string[] = [];
const runLabel = `wgmtest.case=${testName('wrap')}`;

t.before(async () => {
  w = await startWingman({ env: { WINGMAN_WORKER_TOKENS: WORKER_TOKENS }, policy: POLICY });
  home = tmpDir('home');
});
t.teardown(async () => {
  for (const c of containers) await docker(['rm', '-f', c]);
  for (const v of volumes) await docker(['volume', 'rm', '-f', v]);
  await w.close();
  fs.rmSync(home, { recursive: true, force: true });
});

async function state(name: string): Promise<string> {
  const r = await docker(['inspect', '-f', '{{.State.Status}}', name]);
  return r.code === 0 ? r.stdout.trim() : 'absent';
}

/** Run docker through a worker's own socket (what it makes there is its own), failing the test when it fails. */
async function asWorker(worker: 'w1' | 'w2', args: string[], inst: Wingman = w): Promise<void> {
  const r = await inst.dockerAs(worker, args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} through ${worker} failed: ${r.stderr}`);
}

/** A running container of `worker` (a worker acts only on what it made). */
async function startContainer(tag: string, worker: 'w1' | 'w2' = 'w1', inst: Wingman = w): Promise<string> {
  const name = testName(tag);
  containers.push(name);
  await asWorker(worker, ['run', '-d', '--name', name, '--label', runLabel, TEST_IMAGE, 'sleep', '600'], inst);
  return name;
}

/** The environment of a worker whose `docker` is the wrapper. */
function workerEnv(inst: Wingman, worker: 'w1' | 'w2', extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    DOCKER_HOST: `unix://${inst.proxy.socketPath(worker)}`,
    DOCKER_BUILDKIT: '0',
    WINGMAN_CONTROL_URL: inst.controlUrl,
    WINGMAN_WORKER_TOKEN: TOKENS[worker],
    ...extra,
  };
}

/** Wait until the wrapper printed its waiting line; returns the approval id it printed. */
async function waitingLine(get: () => string): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const m = /wingman: waiting for approval ([0-9a-f-]{36}) \((.*)\) …/.exec(get());
    if (m) return m[1];
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the wrapper never said it was waiting: ${get()}`);
}

async function answer(inst: Wingman, id: string, how: 'approve' | 'deny', note?: string) {
  const res = await inst.control.server.inject({
    method: 'POST',
    url: `/approvals/${id}/${how}`,
    headers: { authorization: `Bearer ${inst.apiToken}` },
    payload: { by: 'ops-anna', ...(note ? { note } : {}) },
  });
  if (res.statusCode !== 200) throw new Error(res.body);
}

/** Ask for a grant as the wrapper would (JSON API), returning the token and approval id. */
async function requestGrant(inst: Wingman, worker: 'w1' | 'w2', argv: string[]) {
  const res = await inst.control.server.inject({
    method: 'POST',
    url: '/grants',
    headers: { authorization: `Bearer ${TOKENS[worker]}` },
    payload: { argv },
  });
  if (res.statusCode !== 201) throw new Error(`${res.statusCode} ${res.body}`);
  return res.json<{ id: string; token: string; summary: string; rules: string[] }>();
}

function configWith(token: string): string {
  const dir = fs.mkdtempSync(path.join(home, 'cfg-'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ HttpHeaders: { 'X-Wingman-Approval': token } }));
  return dir;
}

for (const shell of SHELLS) {
  t.test(`${shell.name}: docker rm -f through the wrapper waits for one approval, then the container is gone`, async (t) => {
    const c = await startContainer('rm');
    const run = spawnWrapper(shell, ['rm', '-f', c], workerEnv(w, 'w1'));
    const id = await waitingLine(run.stderr);
    const a = await w.pendingApproval('w1');
    t.equal(a.id, id, 'the wrapper printed the approval id');
    t.match(run.stderr(), `wingman: waiting for approval ${id} (remove container ${c} (force)) …`);
    const full = (await w.control.approvals.get(id))!;
    t.match(full, { source: 'shell', method: 'SHELL', route: 'docker rm', rule: 'ContainerDelete', path: `docker rm -f ${c}` });
    t.equal(await state(c), 'running', 'nothing happened while waiting');
    const ok = await w.cli(['approve', id]);
    t.equal(ok.code, 0, ok.stderr);
    const r = await run.done;
    t.equal(r.code, 0, r.stderr);
    t.match(r.stderr, `wingman: approved by api:`);
    t.equal(await state(c), 'absent', 'the container is gone');
    const after = (await w.control.approvals.get(id))!;
    t.equal(after.status, 'consumed', 'the grant is spent');
    const events = (await w.control.approvals.events(id)).map((e) => e.event);
    t.same(events, ['requested', 'decided', 'consumed'], 'one use, then nothing left to close');
  });
}

t.test('busybox wget as the HTTP client (no curl on the worker)', async (t) => {
  const bin = tmpDir('bin');
  t.teardown(() => fs.rmSync(bin, { recursive: true, force: true }));
  fs.symlinkSync('/usr/bin/busybox', path.join(bin, 'wget'));
  const c = await startContainer('wget');
  const run = spawnWrapper(SHELLS[1], ['stop', '-t', '1', c], workerEnv(w, 'w1', { PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`, WINGMAN_WRAPPER_HTTP: 'wget' }));
  const id = await waitingLine(run.stderr);
  await answer(w, id, 'approve');
  const r = await run.done;
  t.equal(r.code, 0, r.stderr);
  t.equal(await state(c), 'exited');
});

t.test('deny: clear message with the reason, exit 1, the container is still there', async (t) => {
  for (const shell of SHELLS) {
    const c = await startContainer('deny');
    const run = spawnWrapper(shell, ['rm', '-f', c], workerEnv(w, 'w1'));
    const id = await waitingLine(run.stderr);
    await answer(w, id, 'deny', 'not today');
    const r = await run.done;
    t.equal(r.code, 1, shell.name);
    t.match(r.stderr, `wingman: denied by api:ops-anna: not today (approval ${id}); \`docker rm -f ${c}\` was not run`);
    t.equal(await state(c), 'running');
  }
});

t.test('timeout: no decision → the approval expires, exit 1, nothing run', async (t) => {
  const short = await startWingman({ env: { WINGMAN_WORKER_TOKENS: WORKER_TOKENS, WINGMAN_APPROVAL_TIMEOUT_S: '2' } });
  t.teardown(() => short.close());
  const c = await startContainer('timeout');
  const r = await runWrapper(SHELLS[0], ['rm', '-f', c], workerEnv(short, 'w1'));
  t.equal(r.code, 1);
  t.match(r.stderr, /wingman: no decision in time: approval [0-9a-f-]{36} expired; `docker rm -f \S+` was not run/);
  t.equal(await state(c), 'running');
  const { rows } = await short.db.query(`SELECT status FROM approvals`);
  t.same(rows.map((x) => x.status), ['expired']);
});

t.test('a compose-down grant does not authorise volume prune (or a volume removal it did not name)', async (t) => {
  const c = await startContainer('down');
  const v = testName('vol');
  volumes.push(v);
  await asWorker('w1', ['volume', 'create', '--label', runLabel, v]);
  const g = await requestGrant(w, 'w1', ['compose', 'down']);
  t.same(g.rules, ['ContainerStop', 'ContainerDelete', 'NetworkDelete']);
  await answer(w, g.id, 'approve');
  const cfg = configWith(g.token);
  const as = (args: string[]) => w.dockerAs('w1', args, { env: { DOCKER_CONFIG: cfg } });

  let r = await as(['volume', 'prune', '-f', '--filter', `label=${runLabel}`]);
  t.not(r.code, 0);
  t.match(r.stderr, `wingman: approval does not match this operation (approval ${g.id})`);
  r = await as(['volume', 'rm', v]);
  t.match(r.stderr, /approval does not match this operation/);
  t.equal((await docker(['volume', 'inspect', v])).code, 0, 'the volume is still there');

  // what compose down does is covered
  r = await as(['stop', '-t', '1', c]);
  t.equal(r.code, 0, r.stderr);
  r = await as(['rm', c]);
  t.equal(r.code, 0, r.stderr);
  t.equal(await state(c), 'absent');
  const refused = (await w.control.approvals.events(g.id)).filter((e) => e.event === 'refused');
  t.equal(refused.length, 2, 'both refusals are in the approval log');
});

t.test('`compose down -v` covers volume removal; its -v is shown to the approver', async (t) => {
  const g = await requestGrant(w, 'w1', ['compose', '-p', 'shop', 'down', '-v']);
  t.same(g.rules, ['ContainerStop', 'ContainerDelete', 'NetworkDelete', 'VolumeDelete']);
  t.equal(g.summary, "stop and remove the compose project's containers and networks (project shop) (with volumes)");
  const v = testName('vol');
  volumes.push(v);
  await asWorker('w1', ['volume', 'create', '--label', runLabel, v]);
  await answer(w, g.id, 'approve');
  const r = await w.dockerAs('w1', ['volume', 'rm', v], { env: { DOCKER_CONFIG: configWith(g.token) } });
  t.equal(r.code, 0, r.stderr);
});

t.test('a grant is bound to the containers it named, and spent: another container or a replay is refused', async (t) => {
  const c1 = await startContainer('bind1');
  const c2 = await startContainer('bind2');
  const g = await requestGrant(w, 'w1', ['stop', '-t', '1', c1]);
  await answer(w, g.id, 'approve');
  const cfg = configWith(g.token);
  let r = await w.dockerAs('w1', ['stop', '-t', '1', c2], { env: { DOCKER_CONFIG: cfg } });
  t.match(r.stderr, /approval does not match this operation/);
  t.equal(await state(c2), 'running');
  r = await w.dockerAs('w2', ['stop', '-t', '1', c1], { env: { DOCKER_CONFIG: cfg } });
  // refused before the grant is even looked at: the container is not w2's
  t.match(r.stderr, /is not w2's|approval does not match this operation/, 'another worker cannot spend it');
  t.equal(await state(c1), 'running');
  r = await w.dockerAs('w1', ['stop', '-t', '1', c1], { env: { DOCKER_CONFIG: cfg } });
  t.equal(r.code, 0, r.stderr);
  t.equal(await state(c1), 'exited');
  await dockerOk(['start', c1]);
  r = await w.dockerAs('w1', ['stop', '-t', '1', c1], { env: { DOCKER_CONFIG: cfg } });
  t.match(r.stderr, /wingman: approval already used/, 'replay refused');
  t.equal(await state(c1), 'running');
});

t.test('a container recreated under an approved name is not covered', async (t) => {
  const name = await startContainer('renamed');
  const g = await requestGrant(w, 'w1', ['rm', '-f', name]);
  await answer(w, g.id, 'approve');
  await dockerOk(['rm', '-f', name]);
  await asWorker('w1', ['run', '-d', '--name', name, '--label', runLabel, TEST_IMAGE, 'sleep', '600']);
  const r = await w.dockerAs('w1', ['rm', '-f', name], { env: { DOCKER_CONFIG: configWith(g.token) } });
  t.match(r.stderr, /approval does not match this operation/);
  t.equal(await state(name), 'running');
});

t.test('an expired grant is refused', async (t) => {
  const short = await startWingman({ env: { WINGMAN_WORKER_TOKENS: WORKER_TOKENS, WINGMAN_GRANT_TTL_S: '1' } });
  t.teardown(() => short.close());
  const c = await startContainer('expired', 'w1', short);
  const g = await requestGrant(short, 'w1', ['rm', '-f', c]);
  await answer(short, g.id, 'approve');
  await new Promise((r) => setTimeout(r, 1500));
  const r = await short.dockerAs('w1', ['rm', '-f', c], { env: { DOCKER_CONFIG: configWith(g.token) } });
  t.match(r.stderr, `wingman: approval expired (approval ${g.id})`);
  t.equal(await state(c), 'running');
});

t.test('the wrapper closes its grant when docker is done: unused calls cannot be spent later', async (t) => {
  const a = await startContainer('close-a');
  const b = await startContainer('close-b');
  // Both resolve when the grant is asked for; b is gone before the command runs, so one use is left over.
  const run = spawnWrapper(SHELLS[0], ['rm', '-f', a, b], workerEnv(w, 'w1'));
  const id = await waitingLine(run.stderr);
  await dockerOk(['rm', '-f', b]);
  await answer(w, id, 'approve');
  await run.done;
  t.equal(await state(a), 'absent');
  const events = (await w.control.approvals.events(id)).map((e) => e.event);
  t.same(events, ['requested', 'decided', 'consumed', 'closed'], 'one use spent, the other revoked when docker exited');
  t.equal((await w.control.approvals.get(id))!.status, 'consumed');
});

t.test('interrupted while waiting: the request is withdrawn at once', async (t) => {
  for (const shell of SHELLS) {
    const c = await startContainer('sigterm');
    const run = spawnWrapper(shell, ['rm', '-f', c], workerEnv(w, 'w1'));
    const id = await waitingLine(run.stderr);
    // only the shell gets the signal (not its long-poll client): the trap must not wait for the poll to end
    run.child.kill('SIGTERM');
    const r = await run.done;
    t.equal(r.code, 143, shell.name);
    t.equal((await w.control.approvals.get(id))!.status, 'cancelled', 'withdrawn before the wrapper exited');
    t.equal(await state(c), 'running');
  }
});

t.test('Wingman unreachable: gated commands refuse (fail closed), read-only ones still work', async (t) => {
  const c = await startContainer('down-wingman');
  const closed = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
  for (const shell of SHELLS) {
    const env = workerEnv(w, 'w1', { WINGMAN_CONTROL_URL: `http://127.0.0.1:${closed}` });
    const r = await runWrapper(shell, ['rm', '-f', c], env);
    t.equal(r.code, 1, shell.name);
    t.match(r.stderr, `wingman: cannot reach Wingman at http://127.0.0.1:${closed}`);
    t.match(r.stderr, `\`docker rm -f ${c}\` needs approval and was not run (fail closed)`);
    t.equal(await state(c), 'running');
    const ps = await runWrapper(shell, ['ps', '--format', '{{.Names}}'], env);
    t.equal(ps.code, 0, ps.stderr);
    t.match(ps.stdout, c, 'docker ps works through the proxy');
  }
  t.equal((await w.control.approvals.list({ worker: 'w1', status: 'pending' })).length, 0);
});

t.test('policy decides before anyone is asked: denied rules refuse, allowed rules run without approval', async (t) => {
  const c = await startContainer('policy', 'w2');
  let r = await runWrapper(SHELLS[0], ['rm', '-f', c], workerEnv(w, 'w2'));
  t.equal(r.code, 1);
  t.match(r.stderr, 'wingman: refused: remove container is not allowed for this worker (ContainerDelete: deny)');
  t.equal(await state(c), 'running');
  r = await runWrapper(SHELLS[0], ['kill', c], workerEnv(w, 'w2'));
  t.equal(r.code, 0, r.stderr);
  t.equal(await state(c), 'exited', 'killed with no approval: the policy allows it for w2');
  t.equal((await w.control.approvals.list({ worker: 'w2' })).length, 0, 'no approval was requested');

  // run --privileged: refused for w1 (escalation denied by default), one approval for w2
  r = await runWrapper(SHELLS[1], ['run', '--rm', '--privileged', TEST_IMAGE, 'true'], workerEnv(w, 'w1'));
  t.equal(r.code, 1);
  t.match(r.stderr, 'wingman: refused: --privileged (privileged: deny)');
  // created, not started: this test engine cannot start privileged containers
  const name = testName('priv');
  containers.push(name);
  const run = spawnWrapper(SHELLS[1], ['create', '--name', name, '--label', runLabel, '--privileged', TEST_IMAGE, 'true'], workerEnv(w, 'w2'));
  const id = await waitingLine(run.stderr);
  t.match(run.stderr(), `(create and run a container from ${TEST_IMAGE} with --privileged)`);
  await answer(w, id, 'approve');
  const done = await run.done;
  t.equal(done.code, 0, done.stderr);
  t.equal(await state(name), 'created');
  t.equal((await docker(['inspect', '-f', '{{.HostConfig.Privileged}}', name])).stdout.trim(), 'true');
});

t.test('run -i: one approval covers the attach with stdin (decided as an exec), and stdin reaches the container', async (t) => {
  const name = testName('stdin');
  containers.push(name);
  const pending = runWrapper(SHELLS[0], ['run', '-i', '--name', name, '--label', runLabel, TEST_IMAGE, 'sh', '-c', 'cat; echo done'], workerEnv(w, 'w1'), {
    input: 'hello from stdin\n',
  });
  const a = await w.pendingApproval('w1');
  t.equal(a.rule, 'ContainerExec', 'the grant covers the exec-like attach, not the create');
  t.equal(a.summary, `create and run a container from ${TEST_IMAGE} with stdin attached`);
  const { rows } = await w.db.query(`SELECT scope FROM grants WHERE approval_id = $1`, [a.id]);
  t.same(rows[0].scope, { ContainerExec: { uses: 1, targets: null, escalations: [], host_paths: [] } }, 'one attach, whatever container it makes');
  await answer(w, a.id, 'approve');
  const r = await pending;
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, 'hello from stdin\ndone');
  t.same((await w.control.approvals.events(a.id)).map((e) => e.event), ['requested', 'decided', 'consumed']);
});

/**
 * The wrapper with `input` on a stdin that stays open (the docker CLI ends an attach as soon as its stdin ends,
 * before the container's answer comes back); it is closed when the wrapper exits.
 */
function runWithOpenStdin(shell: { argv: string[] }, args: string[], env: NodeJS.ProcessEnv, input: string): Promise<RunResult> {
  const [cmd, ...pre] = shell.argv;
  const child = spawn(cmd, [...pre, WRAPPER, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.on('error', () => undefined);
  child.stdin.write(input);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      child.stdin.destroy();
      resolve({ code: code ?? 1, stdout, stderr });
    }),
  );
}

t.test('attach (and start -ai) with stdin: one approval bound to the container', async (t) => {
  for (const shell of SHELLS) {
    const c = testName('attach');
    containers.push(c);
    // `run -d -i` is not gated: detached, nothing is attached
    await asWorker('w1', ['run', '-d', '-i', '--name', c, '--label', runLabel, TEST_IMAGE, 'sh', '-c', 'read line; echo "got $line"']);
    t.equal((await docker(['inspect', '-f', '{{.Config.OpenStdin}}', c])).stdout.trim(), 'true');
    const pending = runWithOpenStdin(shell, ['attach', c], workerEnv(w, 'w1'), 'hello\n');
    const a = await w.pendingApproval('w1');
    t.equal(a.summary, `attach to container ${c} (stdin attached)`);
    const id = (await docker(['inspect', '-f', '{{.Id}}', c])).stdout.trim();
    const { rows } = await w.db.query(`SELECT scope FROM grants WHERE approval_id = $1`, [a.id]);
    t.same(rows[0].scope, { ContainerExec: { uses: 1, targets: [id] } }, `${shell.name}: bound to the container's id`);
    await answer(w, a.id, 'approve');
    const r = await pending;
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, 'got hello', `${shell.name}: stdin reached the container`);
  }
  const c = testName('startai');
  containers.push(c);
  await asWorker('w1', ['create', '-i', '--name', c, '--label', runLabel, TEST_IMAGE, 'sh', '-c', 'read line; echo "started $line"']);
  const pending = runWrapper(SHELLS[1], ['start', '-ai', c], workerEnv(w, 'w1'), { input: 'again\n' });
  const a = await w.pendingApproval('w1');
  t.equal(a.summary, `start container ${c} (stdin attached)`);
  await answer(w, a.id, 'approve');
  const r = await pending;
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, 'started again');
});

t.test('a run/create grant covers the escalations and host paths the command named, not others', async (t) => {
  const a = fs.mkdtempSync(path.join(home, 'bind-a-'));
  const b = fs.mkdtempSync(path.join(home, 'bind-b-'));
  const g = await requestGrant(w, 'w2', ['create', '--privileged', '-v', `${a}:/data`, TEST_IMAGE]);
  t.same(g.rules, ['ContainerCreate']);
  t.equal(g.summary, `create and run a container from ${TEST_IMAGE} with --privileged, -v ${a}:/data`);
  await answer(w, g.id, 'approve');
  const cfg = configWith(g.token);
  const as = (args: string[]) => w.dockerAs('w2', args, { env: { DOCKER_CONFIG: cfg } });
  const name = () => {
    const n = testName('esc');
    containers.push(n);
    return n;
  };
  let r = await as(['create', '--name', name(), '--privileged', '--cap-add', 'NET_ADMIN', '-v', `${a}:/data`, TEST_IMAGE, 'true']);
  t.match(r.stderr, /approval does not match this operation/, 'an extra escalation is not covered');
  r = await as(['create', '--name', name(), '--privileged', '-v', `${b}:/data`, TEST_IMAGE, 'true']);
  t.match(r.stderr, /approval does not match this operation/, 'another host path is not covered');
  const ok = name();
  r = await as(['create', '--name', ok, '--privileged', '-v', `${a}:/data`, TEST_IMAGE, 'true']);
  t.equal(r.code, 0, r.stderr);
  t.equal(await state(ok), 'created');
  const why = (await w.control.approvals.events(g.id)).filter((e) => e.event === 'refused').map((e) => (e.detail as { why: string }).why);
  t.same(why, ['escalations not approved: cap_add', 'host paths not approved']);
});

t.test('the grant header is merged into the user config the real docker CLI reads (Go merges a repeated key)', async (t) => {
  const c = await startContainer('hdr');
  const sock = path.join(home, 'fake-daemon.sock');
  const daemon = await recordingServer((r, res) => {
    res.setHeader('Api-Version', '1.45');
    res.setHeader('Content-Type', 'text/plain');
    if (r.url.endsWith('/_ping')) {
      res.end('OK');
    } else if (r.method === 'DELETE') {
      res.statusCode = 204;
      res.end();
    } else {
      res.statusCode = 404;
      res.end('{"message":"not here"}');
    }
  }, sock);
  t.teardown(() => daemon.close());

  const cases: Array<{ name: string; args: string[]; setup: () => Record<string, string>; headers: Record<string, string> }> = [
    {
      name: 'user config with its own HttpHeaders, pretty-printed, trailing whitespace',
      args: [],
      setup: () => {
        const dir = fs.mkdtempSync(path.join(home, 'u1-'));
        fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ detachKeys: 'ctrl-x', HttpHeaders: { 'X-Custom': 'kept', 'X-Wingman-Approval': 'forged' } }, null, 2) + '\n\n  \t\n');
        fs.mkdirSync(path.join(dir, 'contexts'));
        return { DOCKER_CONFIG: dir };
      },
      headers: { 'x-custom': 'kept' },
    },
    {
      name: '--config DIR on the command line',
      args: ['--config'],
      setup: () => {
        const dir = fs.mkdtempSync(path.join(home, 'u2-'));
        fs.writeFileSync(path.join(dir, 'config.json'), '{"HttpHeaders":{"X-Other":"yes"}}');
        return { CONFIG_ARG: dir };
      },
      headers: { 'x-other': 'yes' },
    },
    { name: 'empty object', args: [], setup: () => writeCfg(' { } '), headers: {} },
    { name: 'empty file', args: [], setup: () => writeCfg(''), headers: {} },
    { name: 'no config dir at all', args: [], setup: () => ({ DOCKER_CONFIG: path.join(home, 'does-not-exist') }), headers: {} },
  ];
  function writeCfg(text: string) {
    const dir = fs.mkdtempSync(path.join(home, 'u3-'));
    fs.writeFileSync(path.join(dir, 'config.json'), text);
    return { DOCKER_CONFIG: dir };
  }
  for (const k of cases) {
    for (const shell of SHELLS) {
      const extra = k.setup();
      const cfgArg = extra.CONFIG_ARG;
      delete extra.CONFIG_ARG;
      const args = cfgArg ? ['--config', cfgArg, 'rm', c] : ['rm', c];
      const before = daemon.requests.length;
      const run = spawnWrapper(shell, args, workerEnv(w, 'w1', { DOCKER_HOST: daemon.url, ...extra }));
      const id = await waitingLine(run.stderr);
      await answer(w, id, 'approve');
      const r = await run.done;
      t.equal(r.code, 0, `${k.name} (${shell.name}): ${r.stderr}`);
      const del = daemon.requests.slice(before).find((x) => x.method === 'DELETE');
      t.ok(del, `${k.name}: the DELETE reached the daemon`);
      t.match(del?.headers['x-wingman-approval'], /^wgg_/, `${k.name}: the grant header was sent (and won over a forged one)`);
      for (const [h, v] of Object.entries(k.headers)) t.equal(del?.headers[h], v, `${k.name}: the user's ${h} header is kept`);
      if (extra.DOCKER_CONFIG && fs.existsSync(path.join(extra.DOCKER_CONFIG, 'config.json'))) {
        t.notMatch(fs.readFileSync(path.join(extra.DOCKER_CONFIG, 'config.json'), 'utf8'), /wgg_/, 'the user file is untouched');
      }
    }
  }
  t.equal(await state(c), 'running', 'the fake daemon, not the engine, got the calls');
});

t.test('a config.json the wrapper cannot extend: refuse, withdraw the request, run nothing', async (t) => {
  const c = await startContainer('badcfg');
  const dir = fs.mkdtempSync(path.join(home, 'bad-'));
  fs.writeFileSync(path.join(dir, 'config.json'), '["not", "an object"]');
  const run = spawnWrapper(SHELLS[0], ['rm', '-f', c], workerEnv(w, 'w1', { DOCKER_CONFIG: dir }));
  const id = await waitingLine(run.stderr);
  await answer(w, id, 'approve');
  const r = await run.done;
  t.equal(r.code, 1);
  t.match(r.stderr, `cannot add the approval header to ${dir}/config.json: it is not a JSON object`);
  t.equal(await state(c), 'running');
  t.equal((await w.control.approvals.get(id))!.status, 'consumed', 'the approved grant was closed unused');
});
