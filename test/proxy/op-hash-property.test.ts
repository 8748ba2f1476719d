// The op hash covers every byte dockerd acts on: for an approved call, changing any one of method, path, the
// object it resolves to, the API version below 1.24, a query key or value, the JSON body, a non-JSON body, or a
// header dockerd reads (X-Registry-Auth, X-Registry-Config) makes the approval not apply; a form body is refused.
// Mutations are drawn at random (seeded, printed) on top of one fixed case per byte class.
import http from 'node:http';
import t from 'tap';
import { docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

let w: Wingman;
const names: string[] = [];

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

function send(r: Req, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...r.headers, ...(token ? { 'X-Wingman-Approval': token } : {}) };
    if (r.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(r.body));
    const req = http.request({ socketPath: w.proxy.socketPath('w1'), method: r.method, path: r.path, headers }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.setTimeout(15_000, () => req.destroy(new Error('timeout: held instead of refused')));
    req.on('error', reject);
    req.end(r.body);
  });
}

async function own(tag: string): Promise<string> {
  const name = testName(tag);
  names.push(name);
  const r = await w.dockerAs('w1', ['run', '-d', '--name', name, TEST_IMAGE, 'sleep', '600']);
  if (r.code !== 0) throw new Error(r.stderr);
  return name;
}

async function grant(base: Req): Promise<string> {
  const res = await fetch(`${w.controlUrl}/approvals`, {
    method: 'POST',
    headers: { authorization: `Bearer ${w.apiToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ worker: 'w1', method: base.method, path: base.path, ...(base.body ? { body: JSON.parse(base.body) } : {}) }),
  });
  const j = (await res.json()) as { approval: { id: string }; token: string };
  if (res.status !== 201) throw new Error(JSON.stringify(j));
  await w.control.approvals.answer(j.approval.id, 'approve', 'test');
  return j.token;
}

// A tiny seeded generator, so a failing draw can be replayed.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

t.before(async () => {
  w = await startWingman();
});
t.teardown(async () => {
  for (const n of names) await docker(['rm', '-f', n]);
  await w.close();
});

t.test('each mutation of an approved call leaves the approval unusable; the exact call runs once', async (t) => {
  const target = await own('oph');
  const other = await own('oph-other');
  const base: Req = {
    method: 'POST',
    path: `/containers/${target}/update`,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ CpuShares: 512 }),
  };
  const token = await grant(base);
  const fixed: Array<[string, Req]> = [
    ['method', { ...base, method: 'PUT' }],
    ['path: another object', { ...base, path: `/containers/${other}/update` }],
    ['path: another route', { ...base, path: `/containers/${target}/kill` }],
    ['legacy API version', { ...base, path: `/v1.23${base.path}` }],
    ['query key added', { ...base, path: `${base.path}?x=1` }],
    ['body value', { ...base, body: JSON.stringify({ CpuShares: 1024 }) }],
    ['body field added', { ...base, body: JSON.stringify({ CpuShares: 512, Memory: 67108864 }) }],
    ['body field case (Go folds it: the canonical body differs)', { ...base, body: JSON.stringify({ cpushares: 512, Memory: 1 }) }],
    ['X-Registry-Auth header', { ...base, headers: { ...base.headers, 'X-Registry-Auth': 'eyJ1c2VybmFtZSI6ImEifQ==' } }],
    ['X-Registry-Config header', { ...base, headers: { ...base.headers, 'X-Registry-Config': 'e30=' } }],
  ];
  const random = rng(Number(process.env.WGMTEST_SEED ?? 20261207));
  t.comment(`seed ${process.env.WGMTEST_SEED ?? 20261207}`);
  const draws: Array<[string, Req]> = [];
  for (let i = 0; i < 12; i++) {
    const v = Math.floor(random() * 100000);
    const kind = Math.floor(random() * 4);
    if (kind === 0) draws.push([`random query ${v}`, { ...base, path: `${base.path}?k${v}=${v}` }]);
    else if (kind === 1) draws.push([`random body ${v}`, { ...base, body: JSON.stringify({ CpuShares: 2 + (v % 1000) * 2 === 512 ? 514 : 2 + (v % 1000) * 2 }) }]);
    else if (kind === 2) draws.push([`random registry auth ${v}`, { ...base, headers: { ...base.headers, 'X-Registry-Auth': Buffer.from(String(v)).toString('base64') } }]);
    else draws.push([`random extra field ${v}`, { ...base, body: JSON.stringify({ CpuShares: 512, BlkioWeight: 10 + (v % 990) }) }]);
  }
  for (const [what, req] of [...fixed, ...draws]) {
    const r = await send(req, token);
    t.equal(r.status, 403, `${what}: the approval does not apply`);
    t.match(r.body, /approval does not match this operation|not allowed|approval/, `${what}: says why`);
  }
  const form = await send({ ...base, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'CpuShares=2' }, token);
  t.equal(form.status, 415, 'a form body is refused before any approval is looked at');
  t.equal(await dockerOk(['inspect', '-f', '{{.HostConfig.CpuShares}}', target]), '0', 'nothing reached the engine');
  t.equal(await dockerOk(['inspect', '-f', '{{.HostConfig.CpuShares}}', other]), '0');
  const ok = await send(base, token);
  t.equal(ok.status, 200, `the exact call runs: ${ok.body}`);
  t.equal(await dockerOk(['inspect', '-f', '{{.HostConfig.CpuShares}}', target]), '512');
  const again = await send(base, token);
  t.equal(again.status, 403, 'once');
  t.match(again.body, /already used/);
});

t.test('a held raw body is bound by its digest', async (t) => {
  const target = await own('oph-raw');
  const tarOf = async (content: string) => {
    const { default: tarStream } = await import('tar-stream');
    const pack = tarStream.pack();
    pack.entry({ name: 'f.txt' }, content);
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  };
  const tar = await tarOf('approved\n');
  const req = http.request({ socketPath: w.proxy.socketPath('w1'), method: 'PUT', path: `/containers/${target}/archive?path=/tmp`, headers: { 'Content-Type': 'application/x-tar', 'Content-Length': String(tar.length) } });
  const done = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
  req.end(tar);
  const a = await w.pendingApproval('w1');
  t.equal(a.rule, 'PutContainerArchive');
  const { createHash } = await import('node:crypto');
  const digest = createHash('sha256').update(tar).digest('hex');
  const row = await w.control.approvals.get(a.id);
  t.same((row?.op as { raw_body?: unknown }).raw_body, { sha256: digest, bytes: tar.length }, 'the approval names the tar by digest');
  t.match(a.summary, new RegExp(digest.slice(0, 16)));
  await w.control.approvals.answer(a.id, 'approve', 'test');
  t.equal(await done, 200);
  t.equal(await dockerOk(['exec', target, 'cat', '/tmp/f.txt']), 'approved', 'exactly the approved bytes landed');
});
