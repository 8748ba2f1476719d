// THROWAWAY security probe. Delete after use.
import http from 'node:http';
import fs from 'node:fs';
const LOG = '/tmp/zz-attack.log';
const note = (m: string) => fs.appendFileSync(LOG, m + '\n');
import t from 'tap';
import tar from 'tar-stream';
import { docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

let w: Wingman;
const cleanup: Array<() => Promise<unknown>> = [];
const n1 = testName('a-n1');
const n2 = testName('a-n2');
const c1 = testName('a-c1');
const direct = testName('a-ops');
const img1repo = testName('a-img1');
const img1 = `${img1repo}:mine`;
const other = `${testName('a-other')}:x`;

let hits: string[] = [];
let server: http.Server;
let port = 0;

interface Answer { status: number; body: string }
function call(worker: string, method: string, path: string, opts: { body?: string | Buffer; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
    const req = http.request({ socketPath: w.proxy.socketPath(worker), method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.setTimeout(opts.timeoutMs ?? 60_000, () => req.destroy(new Error(`timeout on ${method} ${path}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
const as = (worker: string, args: string[]) => w.dockerAs(worker, args, { timeoutMs: 60_000 });

function tarOf(entries: Array<{ name: string; body?: string; linkname?: string; type?: 'file' | 'symlink' }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === 'symlink') pack.entry({ name: e.name, type: 'symlink', linkname: e.linkname! });
    else pack.entry({ name: e.name }, e.body ?? '');
  }
  pack.finalize();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    pack.on('data', (c: Buffer) => chunks.push(c));
    pack.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

t.before(async () => {
  w = await startWingman();
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    res.end('hello');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
  cleanup.push(() => docker(['rm', '-f', c1, direct]));
  cleanup.push(() => docker(['network', 'rm', n1, n2]));
  cleanup.push(() => docker(['rmi', img1, other]));
  const r1 = await as('w1', ['network', 'create', n1]);
  if (r1.code) throw new Error(r1.stderr);
  const r2 = await as('w1', ['run', '-d', '--name', c1, '--network', n1, TEST_IMAGE, 'sleep', '600']);
  if (r2.code) throw new Error(r2.stderr);
  const r3 = await as('w1', ['tag', TEST_IMAGE, img1]);
  if (r3.code) throw new Error(r3.stderr);
  const r4 = await as('w2', ['network', 'create', n2]);
  if (r4.code) throw new Error(r4.stderr);
  await dockerOk(['run', '-d', '--name', direct, '--network', 'none', TEST_IMAGE, 'sleep', '600']);
  // a different image for w2 to tag
  const tmp = testName('a-tmp');
  await dockerOk(['create', '--name', tmp, TEST_IMAGE, 'true']);
  await dockerOk(['commit', '-c', 'LABEL x=y', tmp, other]);
  await docker(['rm', '-f', tmp]);
});
t.teardown(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  server.close();
  await w.close();
});

t.test('A: network connect of w1 container to w2 network', async (t) => {
  const r = await call('w2', 'POST', `/v1.44/networks/${n2}/connect`, { body: JSON.stringify({ Container: c1 }), headers: { 'content-type': 'application/json' } });
  note(`connect c1: ${r.status} ${r.body}`);
  const nets = await dockerOk(['inspect', '-f', '{{json .NetworkSettings.Networks}}', c1]);
  note(`c1 networks: ${nets}`);
  const r2 = await call('w2', 'POST', `/v1.44/networks/${n2}/connect`, { body: JSON.stringify({ Container: direct }), headers: { 'content-type': 'application/json' } });
  note(`connect ops: ${r2.status} ${r2.body}`);
  note(`ops networks: ${await dockerOk(['inspect', '-f', '{{json .NetworkSettings.Networks}}', direct])}`);
  await docker(['network', 'disconnect', '-f', n2, c1]);
  await docker(['network', 'disconnect', '-f', n2, direct]);
  t.pass();
});

t.test('B: tag library/<w1 ref>', async (t) => {
  const before = (await dockerOk(['image', 'inspect', '-f', '{{.Id}}', img1])).trim();
  const r = await call('w2', 'POST', `/v1.44/images/${encodeURIComponent(other)}/tag?repo=library/${img1repo}&tag=mine`);
  note(`tag: ${r.status} ${r.body}`);
  const after = (await dockerOk(['image', 'inspect', '-f', '{{.Id}}', img1])).trim();
  const otherId = (await dockerOk(['image', 'inspect', '-f', '{{.Id}}', other])).trim();
  note(`img1 before ${before} after ${after} other ${otherId}`);
  const plain = await call('w2', 'POST', `/v1.44/images/${encodeURIComponent(other)}/tag?repo=${img1repo}&tag=mine`);
  note(`plain tag (control): ${plain.status} ${plain.body}`);
  t.pass();
});

t.test('C: CapAdd as a string', async (t) => {
  const name = testName('a-cap');
  cleanup.push(() => docker(['rm', '-f', name]));
  const r = await call('w2', 'POST', `/v1.44/containers/create?name=${name}`, {
    body: JSON.stringify({ Image: TEST_IMAGE, Cmd: ['sh', '-c', 'grep CapEff /proc/self/status; mount -t tmpfs none /mnt && echo MOUNTED'], HostConfig: { CapAdd: 'SYS_ADMIN', NetworkMode: 'none' } }),
    headers: { 'content-type': 'application/json' },
  });
  note(`create: ${r.status} ${r.body}`);
  const ctl = await call('w2', 'POST', `/v1.44/containers/create?name=${name}-ctl`, {
    body: JSON.stringify({ Image: TEST_IMAGE, HostConfig: { CapAdd: ['SYS_ADMIN'] } }),
    headers: { 'content-type': 'application/json' },
  });
  note(`control (array): ${ctl.status} ${ctl.body}`);
  if (r.status === 201) {
    note(`HostConfig.CapAdd: ${await dockerOk(['inspect', '-f', '{{json .HostConfig.CapAdd}}', name])}`);
    const s = await call('w2', 'POST', `/v1.44/containers/${name}/start`);
    note(`start: ${s.status} ${s.body}`);
    await new Promise((r) => setTimeout(r, 1500));
    note(`logs: ${(await docker(['logs', name])).stdout}`);
  }
  t.pass();
});

t.test('D: build networkmode = w1 network', async (t) => {
  const ip = (await dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${n1}").IPAddress}}`, c1])).trim();
  const ctx = await tarOf([{ name: 'Dockerfile', body: `FROM ${TEST_IMAGE}\nRUN ip -4 addr; ping -c1 -W2 ${c1} || true\n` }]);
  const r = await call('w2', 'POST', `/v1.44/build?networkmode=${n1}&nocache=1&rm=1&forcerm=1`, { body: ctx, headers: { 'content-type': 'application/x-tar' } });
  note(`c1 ip ${ip}; build: ${r.status} ${r.body.replace(/\\n/g, '\n').slice(0, 1500)}`);
  t.pass();
});

t.test('E: hidden Dockerfile ADD url (symlink, dockerfile=../)', async (t) => {
  hits = [];
  const df = `FROM ${TEST_IMAGE}\nADD http://127.0.0.1:${port}/symlink /x\n`;
  const ctrl = await tarOf([{ name: 'Dockerfile', body: df }]);
  const c = await call('w2', 'POST', `/v1.44/build?nocache=1&rm=1`, { body: ctrl, headers: { 'content-type': 'application/x-tar' } });
  note(`control (plain Dockerfile): ${c.status} ${c.body.slice(0, 300)}`);
  const ctx = await tarOf([{ name: 'real.df', body: df }, { name: 'Dockerfile', type: 'symlink', linkname: 'real.df' }]);
  const r = await call('w2', 'POST', `/v1.44/build?nocache=1&rm=1`, { body: ctx, headers: { 'content-type': 'application/x-tar' } });
  note(`symlink build: ${r.status} ${r.body.replace(/\\n/g, '\n').slice(0, 800)}`);
  const df2 = `FROM ${TEST_IMAGE}\nADD http://127.0.0.1:${port}/dotdot /x\n`;
  const ctx2 = await tarOf([{ name: 'sub/keep', body: 'k' }, { name: 'real2.df', body: df2 }]);
  const r2 = await call('w2', 'POST', `/v1.44/build?nocache=1&rm=1&dockerfile=sub/../real2.df`, { body: ctx2, headers: { 'content-type': 'application/x-tar' } });
  note(`dotdot build: ${r2.status} ${r2.body.replace(/\\n/g, '\n').slice(0, 800)}`);
  const r3 = await call('w2', 'POST', `/v1.44/build?nocache=1&rm=1&dockerfile=/real2.df`, { body: ctx2, headers: { 'content-type': 'application/x-tar' } });
  note(`abs build: ${r3.status} ${r3.body.replace(/\\n/g, '\n').slice(0, 800)}`);
  note(`server hits: ${JSON.stringify(hits)}`);
  t.pass();
});

t.test('F: ONBUILD ADD through import changes', async (t) => {
  hits = [];
  const base = testName('a-onb');
  cleanup.push(() => docker(['rmi', `${base}:x`]));
  const rootfs = await tarOf([{ name: 'hello', body: 'hi' }]);
  const changes = encodeURIComponent(`ONBUILD ADD http://127.0.0.1:${port}/onbuild /onb`);
  const r = await call('w2', 'POST', `/v1.44/images/create?fromSrc=-&repo=${base}&tag=x&changes=${changes}`, { body: rootfs, headers: { 'content-type': 'application/x-tar' } });
  note(`import: ${r.status} ${r.body.slice(0, 300)}`);
  const ctx = await tarOf([{ name: 'Dockerfile', body: `FROM ${base}:x\n` }]);
  const b = await call('w2', 'POST', `/v1.44/build?nocache=1&rm=1`, { body: ctx, headers: { 'content-type': 'application/x-tar' } });
  note(`build: ${b.status} ${b.body.replace(/\\n/g, '\n').slice(0, 800)}`);
  note(`server hits: ${JSON.stringify(hits)}`);
  t.pass();
});

t.test('G: NetworkMode case trick', async (t) => {
  const odd = 'Bridge';
  cleanup.push(() => docker(['network', 'rm', odd]));
  const r = await as('w1', ['network', 'create', odd]);
  note(`w1 creates network ${odd}: ${r.code} ${r.stderr}`);
  if (r.code !== 0) return t.pass();
  const name = testName('a-case');
  cleanup.push(() => docker(['rm', '-f', name]));
  const c = await call('w2', 'POST', `/v1.44/containers/create?name=${name}`, {
    body: JSON.stringify({ Image: TEST_IMAGE, Cmd: ['true'], HostConfig: { NetworkMode: odd } }),
    headers: { 'content-type': 'application/json' },
  });
  note(`create on ${odd}: ${c.status} ${c.body}`);
  if (c.status === 201) note(`networks: ${await dockerOk(['inspect', '-f', '{{json .NetworkSettings.Networks}}', name])}`);
  t.pass();
});
