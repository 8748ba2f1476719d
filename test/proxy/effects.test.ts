// One effect, one decision: every route a worker could use to reach a gated effect takes that effect's decision,
// and every byte dockerd acts on is part of what was decided. Table-driven over raw HTTP on w1's own socket (its
// own objects: ownership is not what stops these), each row asserting what the engine shows afterwards.
import http from 'node:http';
import t from 'tap';
import { docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

let w: Wingman;
const cleanup: Array<() => Promise<unknown>> = [];

interface Answer {
  status: number;
  body: string;
}

function call(method: string, path: string, opts: { body?: string | Buffer; headers?: Record<string, string>; worker?: string; timeoutMs?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    const req = http.request({ socketPath: w.proxy.socketPath(opts.worker ?? 'w1'), method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, body: '' });
    });
    req.setTimeout(opts.timeoutMs ?? 20_000, () => req.destroy(new Error(`timeout on ${method} ${path}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** A container w1 made (through its own socket), running a shell that reads its stdin. */
async function ownContainer(tag: string, extra: string[] = []): Promise<string> {
  const name = testName(tag);
  cleanup.push(() => docker(['rm', '-f', name]));
  const r = await w.dockerAs('w1', ['run', '-d', '-i', '--name', name, ...extra, TEST_IMAGE, 'sh']);
  if (r.code !== 0) throw new Error(r.stderr);
  return name;
}

const state = async (name: string) => (await dockerOk(['inspect', '-f', '{{.State.Status}}', name])).trim();

t.before(async () => {
  w = await startWingman({ env: { WINGMAN_APPROVAL_TIMEOUT_S: '60', WINGMAN_MAX_PENDING_PER_WORKER: '3' } });
});
t.teardown(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  await w.close();
});

async function heldAs(rule: string, worker = 'w1'): Promise<{ id: string; summary: string }> {
  const a = await w.pendingApproval(worker);
  if (a.rule !== rule) throw new Error(`held as ${a.rule}, expected ${rule}`);
  return a;
}

t.test('attach with stdin is an exec: held for the exec approval, and nothing runs until it is given', async (t) => {
  const name = await ownContainer('att');
  const marker = `/tmp/${testName('m')}`;
  for (const path of [`/containers/${name}/attach?stream=1&stdin=1&stdout=1`, `/containers/${name}/attach?stream=1&stdin=true`]) {
    const pending = call('POST', path, { headers: { Upgrade: 'tcp', Connection: 'Upgrade' }, body: `touch ${marker}\n`, timeoutMs: 30_000 }).catch((e: Error) => ({ status: 0, body: e.message }));
    const a = await heldAs('ContainerExec');
    t.match(a.summary, /with stdin/, 'the approver reads it as a command channel');
    t.equal((await docker(['exec', name, 'ls', marker])).code, 1, 'nothing typed reached the shell');
    await w.control.approvals.answer(a.id, 'deny', 'test');
    const r = await pending;
    t.equal(r.status, 403, 'denied');
  }
  // websocket attach with stdin: the same
  const ws = call('GET', `/containers/${name}/attach/ws?stream=1&stdin=1`, { headers: { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } }).catch((e: Error) => ({ status: 0, body: e.message }));
  const a = await heldAs('ContainerExec');
  await w.control.approvals.answer(a.id, 'deny', 'test');
  t.equal((await ws).status, 403);
  // without stdin, attaching reads output only and needs no one
  const ro = await call('POST', `/containers/${name}/attach?logs=1&stream=0&stdout=1`, { headers: { Upgrade: 'tcp', Connection: 'Upgrade' } }).catch((e: Error) => ({ status: -1, body: e.message }));
  t.not(ro.status, 403, 'reading output is not held');
  t.same(await w.control.approvals.list({ status: 'pending', worker: 'w1' }), [], 'nothing held');
  t.equal(await state(name), 'running');
});

t.test('a form-encoded body is refused: the approved signal cannot be swapped for another', async (t) => {
  const name = await ownContainer('form');
  for (const [path, body] of [
    [`/containers/${name}/kill?signal=SIGWINCH`, 'signal=SIGKILL'],
    ['/containers/prune?filters=%7B%22label%22%3A%5B%22nothing%3Dmatches%22%5D%7D', 'filters=%7B%7D'],
  ] as const) {
    for (const ct of ['application/x-www-form-urlencoded', 'Application/X-WWW-Form-URLEncoded; charset=utf-8', 'multipart/form-data; boundary=x']) {
      const r = await call('POST', path, { body, headers: { 'Content-Type': ct } });
      t.equal(r.status, 415, `${ct}: refused`);
      t.match(r.body, /form-encoded and multipart bodies are not accepted/);
    }
  }
  t.equal(await state(name), 'running', 'no signal reached the container');
  const { rows } = await w.db.query(`SELECT id FROM approvals WHERE worker = 'w1' AND status = 'pending'`);
  t.equal(rows.length, 0, 'nothing was held for a human to approve the wrong thing');
});

t.test('commit takes the same decision as export (a read of the container\'s files)', async (t) => {
  const name = await ownContainer('commit');
  const ref = `${testName('t-commit')}:x`;
  cleanup.push(() => docker(['rmi', ref]));
  const pending = w.dockerAs('w1', ['commit', name, ref]);
  const a = await heldAs('ImageCommit');
  t.match(a.summary, /commit the files of container/);
  await w.control.approvals.answer(a.id, 'deny', 'test');
  t.not((await pending).code, 0);
  t.equal((await docker(['image', 'inspect', ref])).code, 1, 'no image was made');
});

t.test('host filesystem and kernel through volume driver options are refused (an allowlist)', async (t) => {
  const rows: Array<[string, object]> = [
    ['overlay lowerdir', { Name: testName('t-ov'), DriverOpts: { type: 'overlay', device: 'overlay', o: 'lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w' } }],
    ['proc', { Name: testName('t-proc'), DriverOpts: { type: 'proc', device: 'proc' } }],
    ['bind', { Name: testName('t-bind'), DriverOpts: { type: 'none', device: '/etc', o: 'bind' } }],
    ['upper-case key', { Name: testName('t-uc'), DriverOpts: { TYPE: 'proc', DEVICE: 'proc' } }],
  ];
  for (const [what, body] of rows) {
    const r = await call('POST', '/volumes/create', { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    t.equal(r.status, 403, `${what}: refused`);
    t.equal((await docker(['volume', 'inspect', (body as { Name: string }).Name])).code, 1, `${what}: no volume was made`);
  }
  const ok = testName('t-tmpfs');
  cleanup.push(() => docker(['volume', 'rm', '-f', ok]));
  const r = await call('POST', '/volumes/create', { body: JSON.stringify({ Name: ok, DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'size=1m,uid=1000' } }), headers: { 'Content-Type': 'application/json' } });
  t.equal(r.status, 201, 'a tmpfs volume with a size is fine');
  const inline = JSON.stringify({
    Image: TEST_IMAGE,
    Cmd: ['true'],
    HostConfig: { Mounts: [{ Type: 'volume', Target: '/p', VolumeOptions: { DriverConfig: { Name: 'local', Options: { type: 'proc', device: 'proc' } } } }] },
  });
  const c = await call('POST', '/containers/create', { body: inline, headers: { 'Content-Type': 'application/json' } });
  t.equal(c.status, 403, 'inline mount options: refused');
  t.match(c.body, /volume_options/);
  const capStr = JSON.stringify({ Image: TEST_IMAGE, Cmd: ['true'], HostConfig: { CapAdd: 'SYS_ADMIN' } });
  const cs = await call('POST', '/containers/create', { body: capStr, headers: { 'Content-Type': 'application/json' } });
  t.equal(cs.status, 403, 'CapAdd as one string (Go reads it as a list of one): refused');
  t.match(cs.body, /cap_add/);
  const tmp = JSON.stringify({ Image: TEST_IMAGE, Cmd: ['true'], HostConfig: { Tmpfs: { '/x': 'dev,size=1m' } } });
  t.equal((await call('POST', '/containers/create', { body: tmp, headers: { 'Content-Type': 'application/json' } })).status, 403, 'tmpfs with dev: refused');
});

t.test('escalations that were missing: SELinux labels, OOM, pids', async (t) => {
  for (const [what, flags] of [
    ['label=disable', ['--security-opt', 'label=disable']],
    ['label=type', ['--security-opt', 'label=type:spc_t']],
    ['oom-score-adj', ['--oom-score-adj', '-500']],
    ['oom-kill-disable', ['--oom-kill-disable']],
    ['pids-limit -1', ['--pids-limit', '-1']],
    ['a shipping log driver (dockerd connects out)', ['--log-driver', 'syslog', '--log-opt', 'syslog-address=tcp://127.0.0.1:9']],
  ] as const) {
    const label = testName('t-esc');
    const r = await w.dockerAs('w1', ['create', '--label', `wgmtest.case=${label}`, ...flags, TEST_IMAGE, 'true']);
    t.not(r.code, 0, `${what}: refused`);
    t.match(r.stderr, /: deny\)/, `${what}: with the reason`);
    t.equal((await dockerOk(['ps', '-a', '-q', '--filter', `label=wgmtest.case=${label}`])).trim(), '', `${what}: nothing created`);
  }
});

t.test('a network cannot take over a host or another network\'s interface', async (t) => {
  const name = testName('t-takeover');
  const r = await w.dockerAs('w1', ['network', 'create', '-o', 'com.docker.network.bridge.name=docker0', name]);
  t.not(r.code, 0);
  t.match(r.stderr, /network option com\.docker\.network\.bridge\.name reaches host interfaces \(network_driver: deny\)/);
  t.equal((await docker(['network', 'inspect', name])).code, 1, 'no network was made');
  const ok = testName('t-mtu');
  cleanup.push(() => docker(['network', 'rm', ok]));
  const m = await w.dockerAs('w1', ['network', 'create', '-o', 'com.docker.network.driver.mtu=1400', ok]);
  t.equal(m.code, 0, m.stderr);
});

t.test('daemon-side fetches are refused: dockerd would reach the host\'s loopback for the worker', async (t) => {
  for (const [what, path] of [
    ['build remote', '/build?remote=http%3A%2F%2F127.0.0.1%3A9%2Fctx.tar&t=x'],
    ['import from URL', '/images/create?fromSrc=http%3A%2F%2F127.0.0.1%3A9%2Fimg.tar&repo=x'],
    ['pull from a loopback registry', '/images/create?fromImage=127.0.0.1%3A5000%2Fx&tag=1'],
    ['plugin pull', '/plugins/pull?remote=127.0.0.1%3A5000%2Fp'],
  ] as const) {
    const r = await call('POST', path, { body: '[]', headers: { 'Content-Type': 'application/json' } });
    t.equal(r.status, 403, `${what}: refused`);
    t.match(r.body, /daemon_fetch/, `${what}: named as a daemon-side fetch`);
  }
});

t.test('a worker cannot undo its lockdown through another route, nor can anyone else', async (t) => {
  const name = await ownContainer('lock');
  await w.control.lockdowns.lock('w1', 'test lockdown', 'test');
  await dockerOk(['pause', name]);
  for (const [worker, args] of [
    ['w1', ['unpause', name]],
    ['w1', ['start', name]],
    ['w2', ['unpause', name]],
  ] as const) {
    const r = await w.dockerAs(worker, [...args]);
    t.not(r.code, 0, `${worker} ${args[0]}: refused`);
  }
  t.equal(await state(name), 'paused', 'still paused');
  await w.control.lockdowns.unlock('w1', 'test', 'test');
  await docker(['unpause', name]);
});

t.test(`a worker has at most WINGMAN_MAX_PENDING_PER_WORKER held calls`, async (t) => {
  const name = await ownContainer('pending');
  const held = [1, 2, 3].map(() => call('POST', `/containers/${name}/kill?signal=SIGWINCH`, { timeoutMs: 60_000 }).catch(() => undefined));
  await (async () => {
    for (let i = 0; i < 200; i++) {
      const { rows } = await w.db.query(`SELECT id FROM approvals WHERE worker = 'w1' AND status = 'pending'`);
      if (rows.length >= 3) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const r = await call('POST', `/containers/${name}/kill?signal=SIGWINCH`);
  t.equal(r.status, 429);
  t.match(r.body, /already has 3 calls waiting/);
  const { rows } = await w.db.query<{ id: string }>(`SELECT id FROM approvals WHERE worker = 'w1' AND status = 'pending'`);
  for (const a of rows) await w.control.approvals.answer(a.id, 'deny', 'test');
  await Promise.all(held);
  t.equal(await state(name), 'running');
});

t.test('a build context whose Dockerfile makes dockerd fetch is refused before dockerd sees it', async (t) => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const rows: Array<[string, string]> = [
    ['ADD of a loopback URL', `FROM ${TEST_IMAGE}\nADD http://127.0.0.1:9/secret /secret\n`],
    ['ADD through a build ARG', `FROM ${TEST_IMAGE}\nARG SRC=http://127.0.0.1:9/x\nADD $SRC /x\n`],
    ['FROM a loopback registry', `FROM 127.0.0.1:5000/base\nRUN true\n`],
    ['FROM through an ARG', `ARG BASE=localhost:5000/base\nFROM $BASE\n`],
    ['ADD in an ONBUILD trigger', `FROM ${TEST_IMAGE}\nONBUILD ADD https://10.0.0.1/x /x\n`],
  ];
  for (const [what, dockerfile] of rows) {
    const ctx = fs.mkdtempSync(path.join(w.dir, 'ctx-'));
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile);
    const tag = `${testName('t-fetch')}:x`;
    cleanup.push(() => docker(['rmi', tag]));
    const r = await w.dockerAs('w1', ['build', '-t', tag, ctx]);
    t.not(r.code, 0, `${what}: refused`);
    t.match(r.stderr, /daemon_fetch: deny/, `${what}: named as a daemon-side fetch`);
    t.equal((await docker(['image', 'inspect', tag])).code, 1, `${what}: nothing was built`);
  }
  const ctx = fs.mkdtempSync(path.join(w.dir, 'ctx-'));
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${TEST_IMAGE} AS base\nFROM base\nADD local.txt /local.txt\n`);
  fs.writeFileSync(path.join(ctx, 'local.txt'), 'local\n');
  const tag = `${testName('t-local')}:x`;
  cleanup.push(() => docker(['rmi', tag]));
  const ok = await w.dockerAs('w1', ['build', '-t', tag, ctx]);
  t.equal(ok.code, 0, `a local ADD and a stage name build: ${ok.stderr}`);
  t.equal(await dockerOk(['run', '--rm', tag, 'cat', '/local.txt']), 'local');
});

t.test('the Dockerfile is found the way dockerd finds it, and base images\' ONBUILD triggers count', async (t) => {
  const { default: tarStream } = await import('tar-stream');
  const tarOf = async (entries: Array<{ name: string; content?: string; linkname?: string; type?: 'symlink' | 'link' }>) => {
    const pack = tarStream.pack();
    for (const e of entries) {
      if (e.type) pack.entry({ name: e.name, type: e.type, linkname: e.linkname! });
      else pack.entry({ name: e.name }, e.content ?? '');
    }
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const evil = `FROM ${TEST_IMAGE}\nADD http://127.0.0.1:9/x /x\n`;
  const rows: Array<[string, string, Buffer]> = [
    ['Dockerfile is a symlink', '/build', await tarOf([{ name: 'Dockerfile', type: 'symlink', linkname: 'real.df' }, { name: 'real.df', content: evil }])],
    ['a dotted dockerfile= path', `/build?dockerfile=${encodeURIComponent('sub/../real2.df')}`, await tarOf([{ name: 'real2.df', content: evil }])],
    ['an absolute dockerfile= path', `/build?dockerfile=${encodeURIComponent('/real2.df')}`, await tarOf([{ name: 'real2.df', content: evil }])],
    ['a symlinked directory', `/build?dockerfile=${encodeURIComponent('d/Dockerfile')}`, await tarOf([{ name: 'd', type: 'symlink', linkname: 'e' }, { name: 'e/Dockerfile', content: evil }])],
    ['a hard link', '/build', await tarOf([{ name: 'x.df', content: evil }, { name: 'Dockerfile', type: 'link', linkname: 'x.df' }])],
    ['lower-case fallback', '/build', await tarOf([{ name: 'dockerfile', content: evil }])],
  ];
  for (const [what, path, tar] of rows) {
    const r = await call('POST', path, { body: tar, headers: { 'Content-Type': 'application/x-tar' } });
    t.equal(r.status, 403, `${what}: refused`);
    t.match(r.body, /daemon_fetch/, `${what}: as a daemon-side fetch`);
  }
  const missing = await call('POST', '/build?dockerfile=nope', { body: await tarOf([{ name: 'Dockerfile', content: `FROM ${TEST_IMAGE}\n` }]), headers: { 'Content-Type': 'application/x-tar' } });
  t.equal(missing.status, 403, 'a Dockerfile that cannot be located is not guessed at');

  // A base image with an ONBUILD ADD of a URL (set through an import's changes=): building FROM it fetches.
  const base = `${testName('t-onbuild')}:x`;
  cleanup.push(() => docker(['rmi', base]));
  const rootfs = await tarOf([{ name: 'hello.txt', content: 'hi\n' }]);
  await dockerOk(['import', '--change', 'ONBUILD ADD http://127.0.0.1:9/onbuild /onb', '-', base], { input: rootfs.toString('latin1') });
  const r = await call('POST', `/build?t=${encodeURIComponent(`${testName('t-child')}:x`)}`, {
    body: await tarOf([{ name: 'Dockerfile', content: `FROM ${base}\n` }]),
    headers: { 'Content-Type': 'application/x-tar' },
  });
  t.equal(r.status, 403, 'building FROM an image with an ONBUILD ADD of a URL: refused');
  t.match(r.body, /ONBUILD trigger of/);
});
