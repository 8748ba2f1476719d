// Attacks on the proxy's HTTP handling, over raw sockets: encoded and malformed paths, absolute-form targets,
// pipelining and keep-alive, chunked and oversized bodies, smuggling, upgrades, h2c and HTTP/2 prior knowledge.
// Each asserts what the engine actually saw.
import net from 'node:net';
import t from 'tap';
import { docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

let w: Wingman;
const containers: string[] = [];

t.before(async () => {
  w = await startWingman();
});
t.teardown(async () => {
  for (const c of containers) await docker(['rm', '-f', c]);
  await w.close();
});

/** Write raw bytes to the worker socket; collect the answer until the server closes or `idleMs` pass quietly. */
function raw(data: string | Buffer, idleMs = 1500): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(w.proxy.socketPath('w1'));
    let out = '';
    let timer = setTimeout(() => s.destroy(), idleMs);
    s.on('data', (c) => {
      out += c.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(() => s.destroy(), idleMs);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on('error', () => undefined);
    s.write(data);
  });
}

async function createdWith(label: string): Promise<string> {
  return (await dockerOk(['ps', '-a', '-q', '--filter', `label=wgmtest.case=${label}`])).trim();
}

function createBody(label: string, hostConfig: object): string {
  return JSON.stringify({ Image: TEST_IMAGE, Cmd: ['true'], Labels: { 'wgmtest.case': label }, HostConfig: hostConfig });
}

async function running(name: string): Promise<boolean> {
  return (await docker(['inspect', '-f', '{{.State.Running}}', name])).stdout.trim() === 'true';
}

async function victim(): Promise<string> {
  const name = testName('victim');
  containers.push(name);
  await dockerOk(['run', '-d', '--name', name, TEST_IMAGE, 'sleep', '600']);
  await w.adopt('w1', 'container', name); // w1's own: what stops these attacks is not ownership
  return name;
}

t.test('malformed paths get 400 with a Docker-shaped message and never reach the engine', async (t) => {
  const v = await victim();
  for (const path of [
    `/v1.41/containers/../containers/${v}?force=1`,
    `//v1.41/containers/${v}?force=1`,
    `/v1.41/containers/${v}/%2e%2e/${v}`,
    `/v1.41/containers/${v}%`,
    `/v1.41/containers/%c0%ae%c0%ae/${v}`,
  ]) {
    const res = await raw(`DELETE ${path} HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n`);
    t.match(res, /^HTTP\/1\.1 400 /, path);
    t.match(res, /\{"message":"wingman: malformed request path: [^"]+"\}/, path);
    t.ok(await running(v), `${path}: the container is untouched`);
  }
  t.equal((await w.control.approvals.list({ status: 'pending' })).length, 0, 'nothing was held either');
});

t.test('encoded and absolute-form destructive calls are still recognised and held', async (t) => {
  const v = await victim();
  for (const target of [`/v1.41/contain%65rs/${v}?force=1`, `http://docker/v1.41/containers/${v}?force=1`, `/v1.41%2Fcontainers%2F${v}?force=1`]) {
    const pending = raw(`DELETE ${target} HTTP/1.1\r\nHost: d\r\n\r\n`, 60_000);
    const a = await w.pendingApproval('w1');
    t.equal(a.rule, 'ContainerDelete', target);
    t.ok(await running(v), 'held, engine has not seen it');
    await w.control.approvals.answer(a.id, 'deny', 'test');
    const res = await pending;
    t.match(res, /^HTTP\/1\.1 403 /);
    t.match(res, /wingman: denied by test/);
    t.ok(await running(v));
  }
});

t.test('pipelined and keep-alive requests each go through the classifier', async (t) => {
  const v = await victim();
  const both = raw(
    `GET /_ping HTTP/1.1\r\nHost: d\r\n\r\nDELETE /v1.41/containers/${v}?force=1 HTTP/1.1\r\nHost: d\r\n\r\n`,
    60_000,
  );
  const a = await w.pendingApproval('w1');
  t.equal(a.rule, 'ContainerDelete');
  t.ok(await running(v), 'the pipelined delete is held');
  await w.control.approvals.answer(a.id, 'deny', 'test');
  const res = await both;
  t.match(res, /^HTTP\/1\.1 200 OK[\s\S]*OK[\s\S]*HTTP\/1\.1 403 /, 'ping answered, delete refused');
  t.ok(await running(v));
});

t.test('chunked bodies are read whole and inspected; oversized bodies are refused', async (t) => {
  const label = testName('chunked');
  const body = createBody(label, { Privileged: true });
  const chunks = [body.slice(0, 20), body.slice(20, 60), body.slice(60)];
  const chunked = chunks.map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`).join('') + '0\r\n\r\n';
  let res = await raw(
    `POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`,
  );
  t.match(res, /^HTTP\/1\.1 403 /);
  t.match(res, /privileged container/);
  t.equal(await createdWith(label), '', 'engine created nothing');

  const big = createBody(label, { Memory: 1, Padding: 'x'.repeat(2 * 1024 * 1024) });
  res = await raw(
    `POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n${big}`,
  );
  t.match(res, /^HTTP\/1\.1 413 /);
  t.equal(await createdWith(label), '');

  const bigChunked = `${(2 * 1024 * 1024).toString(16)}\r\n${'x'.repeat(2 * 1024 * 1024)}\r\n0\r\n\r\n`;
  res = await raw(
    `POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${bigChunked}`,
  );
  t.match(res, /^HTTP\/1\.1 413 /);

  res = await raw(
    `POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`,
  );
  t.match(res, /^HTTP\/1\.1 400 /, 'Content-Length with Transfer-Encoding is refused');
  t.equal(await createdWith(label), '');
});

t.test('the canonical body that was inspected is what the engine receives', async (t) => {
  const label = testName('canon');
  // Go would merge these two HostConfig objects and take the last Memory; we forward exactly that, once.
  const body = `{"Image":"${TEST_IMAGE}","Cmd":["true"],"Labels":{"wgmtest.case":"${label}"},"HostConfig":{"Memory":8000000},"hostconfig":{"Memory":9000000,"AutoRemove":false}}`;
  const res = await raw(
    `POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  t.match(res, /^HTTP\/1\.1 201 /);
  const id = await createdWith(label);
  containers.push(id);
  t.equal(await dockerOk(['inspect', '-f', '{{.HostConfig.Memory}}', id]), '9000000');
});

t.test('upgrades only on hijack endpoints; tunnels and debug are refused', async (t) => {
  const label = testName('upg');
  const body = createBody(label, {});
  let res = await raw(
    `POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
  );
  t.match(res, /^HTTP\/1\.1 400 /);
  t.match(res, /upgrade is only accepted on attach and exec start/);
  t.equal(await createdWith(label), '');

  res = await raw(`POST /session HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n`);
  t.match(res, /^HTTP\/1\.1 400 /);
  res = await raw(`POST /v1.41/session HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n`);
  t.match(res, /^HTTP\/1\.1 403 /);
  t.match(res, /BuildKit session is not allowed/);
  res = await raw(`POST /grpc HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n`);
  t.match(res, /^HTTP\/1\.1 403 /);
  res = await raw(`GET /debug/vars HTTP/1.1\r\nHost: d\r\n\r\n`);
  t.match(res, /^HTTP\/1\.1 403 /);
  res = await raw('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  t.match(res, /^HTTP\/1\.1 400 /, 'HTTP/2 prior knowledge is refused');
  res = await raw('CONNECT docker:2375 HTTP/1.1\r\nHost: docker\r\n\r\n');
  t.match(res, /^HTTP\/1\.1 400 /, 'CONNECT is refused');
});

t.test('attach to a missing container over an upgrade relays the 404 and closes', async (t) => {
  const res = await raw(
    `POST /v1.41/containers/wgmtest-nope/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\nGET /_ping HTTP/1.1\r\nHost: d\r\n\r\n`,
  );
  t.match(res, /^HTTP\/1\.1 404 /);
  t.notMatch(res, /HTTP\/1\.1 200/, 'nothing after the refused upgrade is answered');
});

t.test('refusals and malformed calls are audited too', async (t) => {
  await w.proxy.audit.flush();
  const { rows } = await w.db.query(`SELECT decision, status_code FROM docker_audit`);
  t.ok(rows.some((r) => r.decision === 'invalid' && r.status_code === 400));
  t.ok(rows.some((r) => r.decision === 'deny' && r.status_code === 403));
  t.ok(rows.some((r) => r.decision === 'denied' && r.status_code === 403));
});
