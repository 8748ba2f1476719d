// The control API: token required on ops endpoints, bad input is a 4xx with a message (never a 500), workers added
// through the API get a socket only their owner can use, health and metrics answer.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { startWingman, type Wingman } from '../helpers/wingman.js';

let w: Wingman;
t.before(async () => {
  w = await startWingman();
});
t.teardown(() => w.close());

const auth = () => ({ authorization: `Bearer ${w.apiToken}` });

t.test('ops endpoints need the bearer token', async (t) => {
  for (const [method, url] of [
    ['GET', '/approvals'],
    ['GET', '/workers'],
    ['POST', '/workers'],
    ['GET', '/audit/docker'],
    ['POST', '/approvals/00000000-0000-0000-0000-000000000000/approve'],
  ] as const) {
    for (const headers of [{}, { authorization: 'Bearer wrong-token-xxxxxxxx' }, { authorization: `Basic ${w.apiToken}` }]) {
      const r = await w.control.server.inject({ method, url, headers, payload: method === 'POST' ? {} : undefined });
      t.equal(r.statusCode, 401, `${method} ${url} ${JSON.stringify(headers)}`);
      t.equal(r.json().code, 'WGM_ERR_API_UNAUTHORIZED');
    }
  }
  const h = await w.control.server.inject({ method: 'GET', url: '/health' });
  t.equal(h.statusCode, 200);
  t.match(h.json(), { status: 'ok', store: { kind: 'postgres', ok: true }, bus: { kind: 'redis', ok: true } });
  const m = await w.control.server.inject({ method: 'GET', url: '/metrics' });
  t.equal(m.statusCode, 200);
  t.match(m.body, /wingman_database_connected 1/);
  t.match(m.body, /wingman_proxy_requests_total/);
});

t.test('bad input is a 4xx with a message', async (t) => {
  const rows: Array<[string, string, unknown, number]> = [
    ['GET', '/approvals/not-a-uuid', undefined, 404],
    ['GET', '/approvals/00000000-0000-0000-0000-000000000000', undefined, 404],
    ['GET', '/approvals?status=bogus', undefined, 400],
    ['GET', '/approvals?limit=-1', undefined, 400],
    ['POST', '/approvals/00000000-0000-0000-0000-000000000000/approve', { by: 'x' }, 404],
    ['POST', '/approvals/not-a-uuid/deny', { by: 'x' }, 404],
    ['POST', '/approvals/00000000-0000-0000-0000-000000000000/approve', {}, 400],
    ['POST', '/approvals/00000000-0000-0000-0000-000000000000/approve', { by: 'x', extra: 1 }, 400],
    ['POST', '/workers', { name: 'Bad Name!' }, 400],
    ['POST', '/workers', { name: '../../etc' }, 400],
    ['POST', '/workers', {}, 400],
    ['POST', '/approvals', { worker: 'w1', method: 'DELETE', path: '/containers/../x' }, 400],
    ['POST', '/approvals', { worker: 'w1', method: 'DELETE', path: '/containers/wgmtest-does-not-exist' }, 404],
    ['POST', '/approvals', { worker: 'w1', method: 'POST', path: '/containers/create', body: { HostConfig: { Privileged: true } } }, 403],
    ['GET', '/audit/docker?since=yesterday', undefined, 400],
  ];
  for (const [method, url, payload, status] of rows) {
    const r = await w.control.server.inject({ method: method as 'GET', url, headers: auth(), payload: payload as object });
    t.equal(r.statusCode, status, `${method} ${url} ${JSON.stringify(payload)} → ${status}: ${r.body}`);
    t.type(r.json().message, 'string');
  }
  const raw = await w.control.server.inject({
    method: 'POST',
    url: '/workers',
    headers: { ...auth(), 'content-type': 'application/json' },
    payload: '{"name": ',
  });
  t.equal(raw.statusCode, 400, 'unparseable JSON is a 400');
});

t.test('POST /workers creates a socket only the proxy user can open', async (t) => {
  const r = await w.control.server.inject({ method: 'POST', url: '/workers', headers: auth(), payload: { name: 'w-api.1' } });
  t.equal(r.statusCode, 201, r.body);
  const sock = path.join(w.config.socketDir, 'w-api.1', 'docker.sock');
  t.equal(r.json().socket, sock);
  const deadline = Date.now() + 10_000;
  while (!fs.existsSync(sock) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  const st = fs.statSync(sock);
  t.ok(st.isSocket());
  t.equal(st.mode & 0o777, 0o600, 'socket is 0600');
  t.equal(fs.statSync(path.dirname(sock)).mode & 0o777, 0o700, 'its directory is 0700');
  const ps = await w.dockerAs('w-api.1', ['ps', '-q']);
  t.equal(ps.code, 0, ps.stderr);
  const list = await w.cli(['workers']);
  t.match(list.stdout, /w-api\.1/);
  const added = await w.cli(['workers', 'add', 'w-api.2', '--container', 'wgmtest-api-box']);
  t.equal(added.code, 0, added.stderr);
  t.match(added.stdout, /w-api\.2 {2}socket .*\/w-api\.2\/docker\.sock {2}sidecar socket .*\/_sidecar\/w-api\.2\/docker\.sock/);
  const row = await w.db.query<{ container: string }>(`SELECT container FROM workers WHERE name = 'w-api.2'`);
  t.equal(row.rows[0]?.container, 'wgmtest-api-box', 'its container is registered');
  const noArg = await w.cli(['workers', 'add', 'w-api.3', '--container']);
  t.equal(noArg.code, 1);
  t.match(noArg.stderr, /--container needs a container name or id/);
  await w.proxy.audit.flush();
  const audit = await w.control.server.inject({ method: 'GET', url: '/audit/docker?worker=w-api.1', headers: auth() });
  t.ok(audit.json().audit.length > 0, 'its calls are in the audit, by worker');
});

t.test('config errors name the variable and exit 1', async (t) => {
  const r = await w.cli(['approvals']);
  t.equal(r.code, 0, r.stderr);
  const { run, ROOT } = await import('../helpers/wingman.js');
  const bad = await run(process.execPath, [path.join(ROOT, 'bin/wingman.js'), 'up'], { ...process.env, WINGMAN_PORT: 'eighty' });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /WINGMAN_PORT/);
  const sep = await run(process.execPath, [path.join(ROOT, 'bin/wingman.js'), 'proxy'], { PATH: process.env.PATH });
  t.equal(sep.code, 1);
  t.match(sep.stderr, /DATABASE_URL.*REDIS_URL \(an in-process bus cannot connect two processes\)/);
  const pol = path.join(w.dir, 'bad-policy.yml');
  fs.writeFileSync(pol, 'workers: { w1: { rules: { NoSuchRule: allow } } }');
  const badPolicy = await run(process.execPath, [path.join(ROOT, 'bin/wingman.js'), 'up'], {
    PATH: process.env.PATH,
    WINGMAN_POLICY_FILE: pol,
    WINGMAN_DATA_DIR: path.join(w.dir, 'bad-policy-data'),
  });
  t.equal(badPolicy.code, 1);
  t.match(badPolicy.stderr, /unknown rule NoSuchRule/);
});
