// The sidecar's own proxy identity against the real engine: it reads and execs in its worker's container only,
// everything else is refused with Docker's error shape, and the engine shows nothing happened.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import Dockerode from 'dockerode';
import t from 'tap';
import { docker, dockerOk, dockerSocketPath, testLabels, testName, TEST_IMAGE } from '../helpers/env.js';
import { until } from '../helpers/until.js';
import { run, startWingman, type Wingman } from '../helpers/wingman.js';

let w: Wingman;
let mine: string;
let other: string;
let sc: Dockerode;

const labels = Object.entries(testLabels()).flatMap(([k, v]) => ['--label', `${k}=${v}`]);

t.before(async () => {
  w = await startWingman({ env: { WINGMAN_LOCKDOWN_ACTION: 'none' } });
  mine = testName('sc-mine');
  other = testName('sc-other');
  for (const n of [mine, other]) await dockerOk(['run', '-d', '--name', n, ...labels, TEST_IMAGE, 'sh', '-c', `echo ${n} > /name; exec sleep 600`]);
  sc = new Dockerode({ socketPath: w.proxy.sidecarSocketPath('w1') });
});
t.teardown(async () => {
  await docker(['rm', '-f', '-v', mine, other]);
  await w.close();
});

async function api(method: string, p: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: w.proxy.sidecarSocketPath('w1'), method, path: p, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

const statusOf = async (call: () => Promise<unknown>) => call().then(() => 200, (e: { statusCode?: number }) => e.statusCode ?? -1);

t.test('one socket per worker, outside the directory the worker is given, owner-only', async (t) => {
  const s = w.proxy.sidecarSocketPath('w1');
  t.equal(s, path.join(w.config.socketDir, '_sidecar', 'w1', 'docker.sock'));
  t.notOk(s.startsWith(path.dirname(w.proxy.socketPath('w1')) + path.sep), 'not inside w1/');
  t.equal(fs.statSync(s).mode & 0o777, 0o600);
  t.equal(fs.statSync(path.dirname(s)).mode & 0o777, 0o700);
});

t.test('before a container is registered for the worker, nothing is its own', async (t) => {
  const r = await api('GET', `/v1.41/containers/${mine}/top`);
  t.equal(r.status, 403);
  t.match(JSON.parse(r.text).message, /wingman: no container is registered for worker w1/);
});

t.test('registered: reads and execs in its worker container work', async (t) => {
  const reg = await fetch(`${w.controlUrl}/workers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${w.apiToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'w1', container: mine }),
  });
  t.equal(reg.status, 201);
  t.match(await reg.json(), { sidecar_socket: w.proxy.sidecarSocketPath('w1') });

  t.equal((await sc.ping()).toString(), 'OK');
  t.equal((await sc.getContainer(mine).inspect()).Name, `/${mine}`);
  const top = (await sc.getContainer(mine).top()) as { Processes: string[][] };
  t.ok(top.Processes.some((p) => p.join(' ').includes('sleep 600')));
  t.ok(Array.isArray(await sc.getContainer(mine).changes()));
  const stat = (await sc.getContainer(mine).infoArchive({ path: '/name' })) as unknown as http.IncomingMessage;
  stat.resume();
  t.type(stat.headers['x-docker-container-path-stat'], 'string');
  const tar = await sc.getContainer(mine).getArchive({ path: '/name' });
  const chunks: Buffer[] = [];
  for await (const c of tar as AsyncIterable<Buffer>) chunks.push(c);
  t.match(Buffer.concat(chunks).toString('latin1'), new RegExp(mine));

  const exec = await sc.getContainer(mine).exec({ Cmd: ['cat', '/name'], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  let out = '';
  const sink = new (await import('node:stream')).Writable({ write: (c, _e, cb) => ((out += c), cb()) });
  sc.modem.demuxStream(stream, sink, sink);
  await new Promise((r) => stream.on('end', r));
  t.equal(out.trim(), mine);
  t.match(await exec.inspect(), { ContainerID: (await docker(['inspect', '-f', '{{.Id}}', mine])).stdout.trim() });
  // Another container may be inspected only when its worker owns it (container_running claims): its Env may hold
  // secrets of someone else.
  t.equal(await statusOf(() => sc.getContainer(other).inspect()), 403, 'nobody\'s container: refused');
  await w.adopt('w1', 'container', other);
  // The adopt reaches the proxy's ownership cache over the bus (published, not awaited, by control): wait for it.
  const seen = await until('the adopt to reach the proxy', async () => (await statusOf(() => sc.getContainer(other).inspect())) === 200);
  t.ok(seen);
  t.equal((await sc.getContainer(other).inspect()).Name, `/${other}`, 'once it is w1\'s: inspected');
});

t.test('another container: no files, processes or commands', async (t) => {
  const c = sc.getContainer(other);
  for (const [what, call] of [
    ['archive', () => c.getArchive({ path: '/name' })],
    ['archive stat', () => c.infoArchive({ path: '/name' })],
    ['top', () => c.top()],
    ['changes', () => c.changes()],
    ['exec', () => c.exec({ Cmd: ['id'] })],
  ] as const) {
    t.equal(await statusOf(call), 403, what);
  }
  const r = await api('GET', `/v1.41/containers/${other}/archive?path=/name`);
  t.equal(r.status, 403);
  t.match(JSON.parse(r.text), { message: /^wingman: the sidecar identity of w1 may copy files out of container on its worker's container only/ });
  // An exec someone else made in another container cannot be started through the sidecar identity.
  const foreign = await new Dockerode({ socketPath: dockerSocketPath() })
    .getContainer(other)
    .exec({ Cmd: ['sh', '-c', 'echo ran > /ran'] });
  t.equal(await statusOf(() => sc.getExec(foreign.id).start({ Detach: true })), 403, 'exec start of a foreign exec');
  t.equal(await statusOf(() => sc.getExec(foreign.id).inspect()), 403, 'exec inspect of a foreign exec');
  const ran = await docker(['exec', other, 'cat', '/ran']);
  t.not(ran.code, 0, 'the foreign exec never ran');
});

t.test('escalated or foreign-user execs are refused even in its own container', async (t) => {
  t.equal(await statusOf(() => sc.getContainer(mine).exec({ Cmd: ['id'], Privileged: true })), 403);
  t.equal(await statusOf(() => sc.getContainer(mine).exec({ Cmd: ['id'], User: 'root' })), 403);
  const r = await api('POST', `/v1.41/containers/${mine}/exec`, { Cmd: ['id'], user: '0' });
  t.match(JSON.parse(r.text).message, /own user only/);
});

t.test('nothing destructive, even on its own container; the engine saw nothing', async (t) => {
  const cli = (args: string[]) => run('docker', args, { ...process.env, DOCKER_HOST: `unix://${w.proxy.sidecarSocketPath('w1')}` });
  const rm = await cli(['rm', '-f', mine]);
  t.not(rm.code, 0);
  t.match(rm.stderr, /wingman: the sidecar identity of w1 is read-only: remove container/);
  const name = testName('sc-create');
  const create = await cli(['create', '--name', name, TEST_IMAGE, 'true']);
  t.match(create.stderr, /read-only: create container/);
  t.not((await docker(['inspect', name])).code, 0, 'no container was created');
  const ps = await cli(['ps']);
  t.match(ps.stderr, /read-only: list containers/);
  t.equal((await sc.getContainer(mine).inspect()).State.Running, true, 'its container still runs');
  const c = sc.getContainer(mine);
  for (const call of [() => c.kill(), () => c.pause(), () => c.putArchive(Buffer.alloc(1024), { path: '/' })]) {
    t.equal(await statusOf(call), 403);
  }
  t.equal((await docker(['inspect', '-f', '{{.State.Status}}', mine])).stdout.trim(), 'running');
});

t.test('encoded and dotted paths cannot reach another container', async (t) => {
  for (const p of [
    `/v1.41/containers/${mine}/../${other}/archive?path=/name`,
    `/v1.41/containers/${mine}%2F..%2F${other}/archive?path=/name`,
    `/v1.41/contain%65rs/${other}/archive?path=/name`,
    `/v1.41//containers/${other}/archive?path=/name`,
    `http://docker/v1.41/containers/${other}/archive?path=/name`,
  ]) {
    const r = await api('GET', p);
    t.ok(r.status === 400 || r.status === 403 || r.status === 404, `${p}: ${r.status}`);
    t.notMatch(r.text, new RegExp(`${other}\\n`), 'no file content');
  }
});

t.test('lockdown does not stop the verifiers; audit rows say which identity called', async (t) => {
  await w.control.lockdowns.lock('w1', 'test lockdown', 'test');
  t.equal((await w.dockerAs('w1', ['kill', mine])).code, 1, 'the worker itself is locked');
  t.equal(await statusOf(() => sc.getContainer(mine).top()), 200);
  t.equal(await statusOf(() => sc.getContainer(mine).exec({ Cmd: ['true'] })), 200);
  const rows = await (async () => {
    for (let i = 0; i < 50; i++) {
      const { rows } = await w.db.query<{ rule: string; decision: string; status_code: number }>(
        `SELECT rule, decision, status_code FROM docker_audit WHERE worker = 'w1' AND mode = 'sidecar'`,
      );
      if (rows.some((r) => r.rule === 'ContainerDelete')) return rows;
      await new Promise((r) => setTimeout(r, 100));
    }
    return [];
  })();
  t.ok(rows.some((r) => r.rule === 'ContainerArchive' && r.decision === 'deny' && r.status_code === 403));
  t.ok(rows.some((r) => r.rule === 'ContainerExec' && r.decision === 'allow'));
  t.ok(rows.some((r) => r.rule === 'ContainerDelete' && r.decision === 'deny'));
});

t.test('shadow mode never opens the sidecar identity', async (t) => {
  const s = await startWingman({ env: { WINGMAN_POLICY_MODE: 'shadow' } });
  t.teardown(() => s.close());
  await s.control.workers.add('w1', mine);
  const shadowSc = new Dockerode({ socketPath: s.proxy.sidecarSocketPath('w1') });
  t.equal(await statusOf(() => shadowSc.getContainer(other).top()), 403, 'another container stays closed');
  t.equal(await statusOf(() => shadowSc.getContainer(mine).kill()), 403, 'no kill');
  t.equal((await docker(['inspect', '-f', '{{.State.Status}}', mine])).stdout.trim(), 'running');
  // ...while the worker's own socket does what shadow mode is for: forward and record what enforce would do.
  const ls = await s.dockerAs('w1', ['ps', '-q']);
  t.equal(ls.code, 0);
});
