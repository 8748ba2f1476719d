// Two workers on one engine: w2 can neither see nor touch anything of w1's, through any route to the effect, and
// each still runs its whole workflow on its own objects with the real docker CLI. Every row asserts what the
// engine shows afterwards, not only what the proxy answered.
import t from 'tap';
import { docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

let w: Wingman;
const c1 = testName('t-c1');
const stopped1 = testName('t-stopped1');
const v1 = testName('t-v1');
const n1 = testName('t-n1');
const img1 = `${testName('t-img1')}:mine`;
const direct = testName('t-ops');
const cleanup: Array<() => Promise<unknown>> = [];

const as = (worker: string, args: string[], input?: string) => w.dockerAs(worker, args, { input, timeoutMs: 30_000 });
async function asOk(worker: string, args: string[]): Promise<string> {
  const r = await as(worker, args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} as ${worker}: ${r.stderr}`);
  return r.stdout.trim();
}
const running = async (name: string) => (await dockerOk(['inspect', '-f', '{{.State.Status}}', name])).trim();

t.before(async () => {
  w = await startWingman();
  cleanup.push(() => docker(['rm', '-f', '-v', c1, stopped1, direct]));
  cleanup.push(() => docker(['volume', 'rm', '-f', v1]));
  cleanup.push(() => docker(['network', 'rm', n1]));
  cleanup.push(() => docker(['rmi', img1]));
  await asOk('w1', ['network', 'create', n1]);
  await asOk('w1', ['volume', 'create', v1]);
  await asOk('w1', ['run', '-d', '--name', c1, '--network', n1, '-v', `${v1}:/data`, '-e', 'PASSWORD=hunter2', TEST_IMAGE, 'sh', '-c', 'echo w1-log-line; echo keep > /data/f; sleep 600']);
  await asOk('w1', ['create', '--name', stopped1, TEST_IMAGE, 'true']);
  await asOk('w1', ['tag', TEST_IMAGE, img1]);
  // Wingman's own (or ops') container, made on the engine directly: nobody's through a worker socket.
  await dockerOk(['run', '-d', '--name', direct, '-e', 'WINGMAN_API_TOKEN=sekrit-token', TEST_IMAGE, 'sleep', '600']);
});
t.teardown(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  await w.close();
});

t.test('w2 is refused every call on w1\'s objects, reads included, and nothing on the engine changes', async (t) => {
  const rows: Array<[string, string[]]> = [
    ['inspect', ['inspect', c1]],
    ['logs', ['logs', c1]],
    ['top', ['top', c1]],
    ['stats', ['stats', '--no-stream', c1]],
    ['diff (changes)', ['diff', c1]],
    ['attach', ['attach', '--no-stdin', c1]],
    ['exec', ['exec', c1, 'true']],
    ['cp out (archive)', ['cp', `${c1}:/data/f`, '-']],
    ['export', ['export', c1]],
    ['commit', ['commit', c1, `${testName('t-steal')}:x`]],
    ['wait', ['wait', c1]],
    ['stop', ['stop', c1]],
    ['kill', ['kill', c1]],
    ['pause', ['pause', c1]],
    ['unpause', ['unpause', c1]],
    ['restart', ['restart', c1]],
    ['rename', ['rename', c1, testName('t-renamed')]],
    ['update', ['update', '--memory', '64m', c1]],
    ['rm -f', ['rm', '-f', c1]],
    ['volume inspect', ['volume', 'inspect', v1]],
    ['volume rm', ['volume', 'rm', v1]],
    ['volume create over it', ['volume', 'create', v1]],
    ['mount its volume', ['run', '--rm', '-v', `${v1}:/d`, TEST_IMAGE, 'rm', '-f', '/d/f']],
    ['mount its volume (--mount)', ['run', '--rm', '--mount', `type=volume,source=${v1},target=/d`, TEST_IMAGE, 'true']],
    ['network inspect', ['network', 'inspect', n1]],
    ['network rm', ['network', 'rm', n1]],
    ['join its network', ['run', '--rm', '--network', n1, TEST_IMAGE, 'true']],
    ['connect its container', ['network', 'disconnect', n1, c1]],
    ['tag over its reference', ['tag', TEST_IMAGE, img1]],
    ['remove its reference', ['rmi', img1]],
    ['inspect an ops container (Env holds a token)', ['inspect', direct]],
    ['logs of an ops container', ['logs', direct]],
  ];
  for (const [what, args] of rows) {
    const r = await as('w2', args);
    t.not(r.code, 0, `${what}: refused`);
    t.match(r.stderr, /not w2's|already exists and is not w2's/, `${what}: says it is not w2's (${r.stderr.trim().slice(0, 160)})`);
    t.notMatch(r.stdout + r.stderr, /hunter2|sekrit-token|w1-log-line/, `${what}: nothing of w1's leaks`);
  }
  t.equal(await running(c1), 'running', 'w1\'s container still runs');
  t.equal(await dockerOk(['run', '--rm', '-v', `${v1}:/d`, TEST_IMAGE, 'cat', '/d/f']), 'keep', 'w1\'s volume still holds its file');
  t.match(await dockerOk(['inspect', '-f', '{{json .NetworkSettings.Networks}}', c1]), n1, 'w1\'s container is still on its network');
  t.match(await dockerOk(['image', 'inspect', '-f', '{{.RepoTags}}', img1]), img1, 'w1\'s image reference is unmoved');
  const { rows: held } = await w.db.query(`SELECT id FROM approvals WHERE worker = 'w2'`);
  t.equal(held.length, 0, 'nothing was even held for a human: refused outright');
});

t.test('lists and the event stream through w2 show only w2\'s objects', async (t) => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const c2 = testName('t-c2');
  const v2 = testName('t-v2');
  const n2 = testName('t-n2');
  cleanup.push(() => docker(['rm', '-f', c2]), () => docker(['volume', 'rm', '-f', v2]), () => docker(['network', 'rm', n2]));
  await asOk('w2', ['create', '--name', c2, TEST_IMAGE, 'true']);
  await asOk('w2', ['volume', 'create', v2]);
  await asOk('w2', ['network', 'create', n2]);
  await dockerOk(['start', stopped1]); // an event of w1's container
  const until = Math.floor(Date.now() / 1000) + 1;
  t.equal(await asOk('w2', ['ps', '-a', '--format', '{{.Names}}']), c2, 'docker ps -a');
  t.equal(await asOk('w2', ['ps', '-a', '--filter', `name=${c1}`, '--format', '{{.Names}}']), '', 'a filter cannot widen the scope');
  t.equal(await asOk('w2', ['volume', 'ls', '--format', '{{.Name}}']), v2, 'docker volume ls');
  t.equal(await asOk('w2', ['network', 'ls', '--format', '{{.Name}}']), n2, 'docker network ls');
  const ev = await asOk('w2', ['events', '--since', String(since), '--until', String(until), '--format', '{{.Actor.Attributes.name}}']);
  t.notMatch(ev, new RegExp(`${c1}|${stopped1}`), 'no events of w1\'s containers');
  t.match(ev, c2, 'w2 sees its own container\'s events');
  t.match(await asOk('w2', ['system', 'df']), /Containers/, 'system df answers');
  const dfv = await asOk('w2', ['system', 'df', '-v', '--format', '{{range .Containers}}{{.Names}} {{end}}|{{range .Volumes}}{{.Name}} {{end}}']);
  t.notMatch(dfv, new RegExp(`${c1}|${v1}`), 'system df -v lists none of w1\'s containers or volumes');
  t.match(dfv, c2);
  t.equal(await asOk('w1', ['ps', '-a', '--filter', `name=${c2}`, '--format', '{{.Names}}']), '', 'and w1 does not see w2\'s');
});

t.test('a prune through w2 removes only w2\'s objects', async (t) => {
  const mine = testName('t-prune2');
  cleanup.push(() => docker(['rm', '-f', mine]));
  await asOk('w2', ['create', '--name', mine, TEST_IMAGE, 'true']);
  const call = as('w2', ['container', 'prune', '-f']);
  const a = await w.pendingApproval('w2');
  t.equal(a.rule, 'ContainerPrune');
  t.match(a.summary, /io\.wingman\.worker=w2/, 'the approver sees the scope of the prune');
  await w.control.approvals.answer(a.id, 'approve', 'test');
  const r = await call;
  t.equal(r.code, 0, r.stderr);
  t.equal((await docker(['inspect', mine])).code, 1, 'w2\'s stopped container is gone');
  t.equal((await docker(['inspect', stopped1])).code, 0, 'w1\'s stopped container survived');
});

t.test('the owner label cannot be forged: a label a worker sends under that key is replaced', async (t) => {
  const forged = testName('t-forged');
  cleanup.push(() => docker(['rm', '-f', forged]));
  await asOk('w2', ['create', '--name', forged, '--label', 'io.wingman.worker=w1', '--label', 'IO.WINGMAN.WORKER=w1', TEST_IMAGE, 'true']);
  const labels = JSON.parse(await dockerOk(['inspect', '-f', '{{json .Config.Labels}}', forged])) as Record<string, string>;
  t.equal(labels['io.wingman.worker'], 'w2');
  t.equal(labels['IO.WINGMAN.WORKER'], undefined);
  const r = await as('w1', ['inspect', forged]);
  t.match(r.stderr, /not w1's/, 'and w1 cannot reach it');
});

t.test('ownership survives a restart of Wingman (the store is the truth)', async (t) => {
  // A fresh Ownership cache in a new proxy on the same store: build one and ask through it.
  const { Ownership } = await import('../../core/ownership/ownership.js');
  const fresh = new Ownership(w.db);
  const id = await dockerOk(['inspect', '-f', '{{.Id}}', c1]);
  t.equal(await fresh.ownerOf('container', id), 'w1');
  t.equal(await fresh.ownerOf('volume', v1), 'w1');
  t.equal(await fresh.ownerOf('image', img1), 'w1');
});

t.test('w1 runs its whole workflow on its own objects', async (t) => {
  t.match(await asOk('w1', ['logs', c1]), /w1-log-line/, 'logs');
  t.match(await asOk('w1', ['inspect', '-f', '{{.Config.Env}}', c1]), /PASSWORD=hunter2/, 'inspect shows its own env');
  // exec: held, approved, runs
  const ex = as('w1', ['exec', c1, 'cat', '/data/f']);
  const a = await w.pendingApproval('w1');
  t.equal(a.rule, 'ContainerExec');
  t.match(a.summary, /command "cat" "\/data\/f"/, 'the approval shows the command');
  await w.control.approvals.answer(a.id, 'approve', 'test');
  const exr = await ex;
  t.equal(exr.code, 0, exr.stderr);
  t.equal(exr.stdout.trim(), 'keep');
  // cp in: held, the tar it sends is bound by its digest, approved, lands
  const fs = await import('node:fs');
  const path = await import('node:path');
  const src = path.join(w.dir, 'cp-in.txt');
  fs.writeFileSync(src, 'copied-in\n');
  const cpIn = as('w1', ['cp', src, `${c1}:/tmp/cp-in.txt`]);
  const cpa = await w.pendingApproval('w1');
  t.equal(cpa.rule, 'PutContainerArchive');
  t.match(cpa.summary, /body of \d+ bytes, sha256 [0-9a-f]{16}/, 'the approval names the digest of the tar');
  await w.control.approvals.answer(cpa.id, 'approve', 'test');
  t.equal((await cpIn).code, 0);
  t.equal(await dockerOk(['exec', c1, 'cat', '/tmp/cp-in.txt']), 'copied-in', 'the file is in the container');
  const stop = as('w1', ['stop', '-t', '0', c1]);
  const s = await w.pendingApproval('w1');
  t.equal(s.rule, 'ContainerStop');
  await w.control.approvals.answer(s.id, 'approve', 'test');
  t.equal((await stop).code, 0);
  t.equal(await running(c1), 'exited', 'stopped on the engine');
});

t.test('what ops adopt for a worker (no owner label) is listed and usable by it, and by no one else', async (t) => {
  const adopted = testName('t-adopted');
  const vol = testName('t-adopted-v');
  cleanup.push(() => docker(['rm', '-f', adopted]), () => docker(['volume', 'rm', '-f', vol]));
  await dockerOk(['create', '--name', adopted, TEST_IMAGE, 'true']);
  await dockerOk(['volume', 'create', vol]);
  t.equal(await asOk('w2', ['ps', '-a', '--filter', `name=${adopted}`, '--format', '{{.Names}}']), '', 'before: not listed');
  await w.adopt('w2', 'container', adopted);
  await w.adopt('w2', 'volume', vol);
  t.equal(await asOk('w2', ['ps', '-a', '--filter', `name=${adopted}`, '--format', '{{.Names}}']), adopted, 'docker ps lists it');
  t.match(await asOk('w2', ['volume', 'ls', '--format', '{{.Name}}']), vol, 'docker volume ls lists it');
  t.equal(await asOk('w2', ['inspect', '-f', '{{.Name}}', adopted]), `/${adopted}`);
  t.equal(await asOk('w1', ['ps', '-a', '--filter', `name=${adopted}`, '--format', '{{.Names}}']), '', 'not w1\'s');
  t.match((await as('w1', ['inspect', adopted])).stderr, /not w1's/);
});

t.test('a name freed and taken again through the proxy resolves to the new container at once', async (t) => {
  const name = testName('t-reuse');
  cleanup.push(() => docker(['rm', '-f', name]));
  const first = await asOk('w1', ['create', '--name', name, TEST_IMAGE, 'true']);
  t.equal(await asOk('w1', ['inspect', '-f', '{{.Id}}', name]), first);
  t.equal(await asOk('w1', ['logs', name]), '', 'looked up (and remembered) by name');
  const rm = as('w1', ['rm', name]);
  const a = await w.pendingApproval('w1');
  await w.control.approvals.answer(a.id, 'approve', 'test');
  t.equal((await rm).code, 0);
  const second = await asOk('w1', ['create', '--name', name, TEST_IMAGE, 'true']);
  t.not(second, first);
  t.equal(await asOk('w1', ['inspect', '-f', '{{.Id}}', name]), second, 'inspect sees the new one');
  t.equal((await as('w1', ['logs', name])).code, 0, 'and so does a call decided on a looked-up name');
  // Another worker takes a name w1 freed: w1 is refused, w2 is not.
  const rm2 = as('w1', ['rm', name]);
  const b = await w.pendingApproval('w1');
  await w.control.approvals.answer(b.id, 'approve', 'test');
  t.equal((await rm2).code, 0);
  await asOk('w2', ['create', '--name', name, TEST_IMAGE, 'true']);
  t.match((await as('w1', ['logs', name])).stderr, /not w1's/, 'w1 cannot reach the name now that it is w2\'s');
  t.equal((await as('w2', ['logs', name])).code, 0);
});

t.test('what a body or query names is checked too: connect, build network, a network name that differs in case, library/ refs', async (t) => {
  const http = await import('node:http');
  const raw = (worker: string, method: string, path: string, body?: string, ct = 'application/json') =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const headers: Record<string, string> = body !== undefined ? { 'content-type': ct, 'content-length': String(Buffer.byteLength(body)) } : {};
      const req = http.request({ socketPath: w.proxy.socketPath(worker), method, path, headers }, (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      });
      req.on('error', reject);
      req.end(body);
    });
  const n2 = testName('t-n2b');
  cleanup.push(() => docker(['network', 'rm', n2]));
  await asOk('w2', ['network', 'create', n2]);
  const connect = await raw('w2', 'POST', `/v1.41/networks/${n2}/connect`, JSON.stringify({ container: c1 }));
  t.equal(connect.status, 403, 'connecting w1\'s container to w2\'s network: refused');
  t.notMatch(await dockerOk(['inspect', '-f', '{{json .NetworkSettings.Networks}}', c1]), n2, 'w1\'s container is not on it');
  const build = await raw('w2', 'POST', `/v1.41/build?networkmode=${encodeURIComponent(n1)}`, '', 'application/x-tar');
  t.equal(build.status, 403, 'a build on w1\'s network: refused');
  t.match(build.body, /not w2's/);
  cleanup.push(() => docker(['network', 'rm', 'Bridge']));
  await asOk('w1', ['network', 'create', 'Bridge']);
  const onIt = await raw('w2', 'POST', '/v1.41/containers/create', JSON.stringify({ Image: TEST_IMAGE, Cmd: ['true'], HostConfig: { NetworkMode: 'Bridge' } }));
  t.equal(onIt.status, 403, 'a network named Bridge is w1\'s, not the default');
  const moved = await raw('w2', 'POST', `/v1.41/images/${encodeURIComponent(TEST_IMAGE)}/tag?repo=library/${encodeURIComponent(img1.split(':')[0])}&tag=mine`);
  t.equal(moved.status, 403, 'library/<name> is the same reference as <name>');
  t.match(await dockerOk(['image', 'inspect', '-f', '{{.RepoTags}}', img1]), img1);
});
