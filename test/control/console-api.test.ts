// What the console and the CLI read from the control API: answers that parse with the shared schemas
// (control/api-schema.ts), audit pages that neither skip nor repeat a row under every filter, the event stream, the
// Origin check, and the CLI commands that show approvals as a person reads them.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import Fastify from 'fastify';
import { approvalAnswer, approvalsAnswer, claimsAnswer, dockerAuditAnswer, gateAnswer, validationsAnswer, workersAnswer } from '../../control/api-schema.js';
import { registerConsoleAssets } from '../../control/console-assets.js';
import { approvalEffect } from '../../control/approval-effect.js';
import { upBanner } from '../../cli/banner.js';
import { prettyLine } from '../../cli/log-format.js';
import { run, ROOT, startWingman, type Wingman } from '../helpers/wingman.js';
import { until } from '../helpers/until.js';

let w: Wingman;
t.before(async () => {
  w = await startWingman({ env: { WINGMAN_TWO_PERSON_WORKERS: 'w2' } });
});
t.teardown(() => w.close());

const get = async (url: string) => {
  const r = await w.control.server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${w.apiToken}` } });
  return { status: r.statusCode, json: r.json<any>() };
};

async function request(worker: string, summary: string, op: Record<string, unknown> = {}) {
  const { approval } = await w.control.approvals.request({
    worker,
    rule: 'ContainerExec',
    summary,
    method: 'POST',
    route: '/containers/{name:.*}/exec',
    path: '/containers/abc/exec',
    opHash: randomUUID().replace(/-/g, ''),
    op: { params: { name: 'abc' }, query: [], body: { Cmd: ['sh', '-c', 'echo hi > /x'], User: 'root' }, ...op },
    reasons: ['runs a command in a container'],
    ttlS: 60,
  });
  return approval;
}

/** Audit rows written as the proxy writes them (the table is append-only). */
async function auditRows(n: number, base: Date) {
  const rows = [];
  for (let i = 0; i < n; i++) {
    const at = new Date(base.getTime() + i * 1000 + (i % 7) * 0.137).toISOString();
    rows.push({
      id: randomUUID(),
      at,
      worker: i % 2 ? 'pg-a' : 'pg-b',
      rule: i % 3 === 0 ? 'ContainerDelete' : 'ContainerList',
      decision: i % 3 === 0 ? 'denied' : 'allow',
      path: `/containers/needle-${i}/json`,
      reason: i % 3 === 0 ? `denied by api:x (approval 00000000-0000-4000-8000-${String(i).padStart(12, '0')})` : null,
    });
  }
  for (const r of rows) {
    await w.db.query(
      `INSERT INTO docker_audit (id, at, worker, method, route, path, rule, decision, mode, bytes_in, bytes_out, reason)
       VALUES ($1, $2, $3, 'GET', '/containers/{name:.*}/json', $4, $5, $6, 'enforce', 0, 0, $7)`,
      [r.id, r.at, r.worker, r.path, r.rule, r.decision, r.reason],
    );
  }
  return rows;
}

async function allPages(query: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 50; pages++) {
    const r = await get(`/audit/docker?${query}&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
    t.equal(r.status, 200, JSON.stringify(r.json));
    dockerAuditAnswer.parse(r.json);
    ids.push(...r.json.audit.map((x: { id: string }) => x.id));
    cursor = r.json.next;
    if (!cursor) return ids;
  }
  throw new Error('too many pages');
}

t.test('answers parse with the shared schemas; the effect is in words', async (t) => {
  const a = await request('w1', 'run a command in container abc');
  const list = await get('/approvals?status=pending');
  approvalsAnswer.parse(list.json);
  const mine = list.json.approvals.find((x: { id: string }) => x.id === a.id);
  t.match(mine.effect, [
    { label: 'Wants to', value: 'run a command in container abc' },
    { label: 'Container', value: 'abc' },
    { label: 'Command', value: `$ sh -c 'echo hi > /x'` },
    { label: 'As user', value: 'root' },
  ]);
  t.ok(mine.effect.some((l: { label: string; value: string }) => l.label === 'Op hash' && l.value === a.op_hash));
  approvalAnswer.parse((await get(`/approvals/${a.id}`)).json);
  workersAnswer.parse((await get('/workers')).json);
  for (const [url, schema] of [
    ['/audit/docker', dockerAuditAnswer],
    ['/audit/claims', claimsAnswer],
    ['/audit/gate', gateAnswer],
    ['/audit/validations', validationsAnswer],
  ] as const) {
    const r = await get(url);
    t.equal(r.status, 200, url);
    schema.parse(r.json);
  }
  await w.control.approvals.answer(a.id, 'deny', 'api:test');
});

t.test('effect lines for kill, prune, create and shell grants', async (t) => {
  const base = { summary: 's', method: 'POST', route: '/r', path: '/p', op_hash: 'h', reasons: [] };
  const line = (lines: Array<{ label: string; value: string }>, label: string) => lines.find((l) => l.label === label)?.value;
  t.equal(line(approvalEffect({ ...base, rule: 'ContainerKill', op: { params: { name: 'c1' }, query: [['signal', 'SIGHUP']] } }), 'Signal'), 'SIGHUP');
  t.equal(line(approvalEffect({ ...base, rule: 'VolumePrune', op: { query: [['filters', '{"label":{"a=b":true}}']] } }), 'Filters'), 'label=a=b');
  const create = approvalEffect({
    ...base,
    rule: 'ContainerCreate',
    op: { query: [['name', 'x']], body: { Image: 'busybox', Cmd: ['sh', '-c', 'id'], HostConfig: { Binds: ['/etc:/host-etc:ro'], Privileged: true, CapAdd: ['SYS_ADMIN'] } } },
  });
  t.equal(line(create, 'Image'), 'busybox');
  t.equal(line(create, 'Mounts'), '/etc:/host-etc:ro');
  t.match(line(create, 'Privileged'), /^yes/);
  t.equal(line(create, 'Adds capabilities'), 'SYS_ADMIN');
  const shell = approvalEffect({ ...base, rule: 'ContainerDelete', op: { kind: 'shell', command: 'docker rm -f a', scope: { ContainerDelete: { uses: 1, targets: ['abc'] } } } });
  t.equal(line(shell, 'Command'), '$ docker rm -f a');
  t.equal(line(shell, 'May call'), 'ContainerDelete ×1 on abc');
  const forged = approvalEffect({ ...base, summary: 'x\nRule: harmless', rule: 'Unknown', op: {} });
  t.equal(line(forged, 'Wants to'), 'x⏎Rule: harmless', 'a newline cannot forge a line');
});

t.test('audit pages: every row once, newest first, under each filter', async (t) => {
  const base = new Date(Date.now() - 3600_000);
  const rows = await auditRows(40, base);
  const mine = (ids: string[]) => ids.filter((id) => rows.some((r) => r.id === id));
  const byTime = [...rows].sort((a, b) => (a.at < b.at ? 1 : -1));

  const all = mine(await allPages(`from=${encodeURIComponent(base.toISOString())}`));
  t.same(all, byTime.map((r) => r.id), 'all 40, newest first, none repeated');
  const a = mine(await allPages('worker=pg-a'));
  t.same(a, byTime.filter((r) => r.worker === 'pg-a').map((r) => r.id), 'by worker');
  const denied = mine(await allPages('rule=ContainerDelete&decision=denied'));
  t.same(denied, byTime.filter((r) => r.decision === 'denied').map((r) => r.id), 'by rule and decision');
  const from = rows[10].at;
  const to = rows[20].at;
  const range = mine(await allPages(`from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`));
  t.same(range, byTime.filter((r) => r.at >= from && r.at < to).map((r) => r.id), 'by time range');
  const q = mine(await allPages('q=needle-1'));
  t.same(q, byTime.filter((r) => /needle-1/.test(r.path)).map((r) => r.id), 'text search');
  const pct = await get('/audit/docker?q=%25');
  t.same(mine(pct.json.audit.map((x: { id: string }) => x.id)), [], '% is a literal character, not a wildcard');

  const linked = await get(`/audit/docker?approval=00000000-0000-4000-8000-000000000003`);
  t.same(linked.json.audit.map((x: { approval_id: string }) => x.approval_id), ['00000000-0000-4000-8000-000000000003'], 'a refused row links to its approval');

  for (const bad of ['cursor=nonsense', 'limit=0', 'from=yesterday', 'decision=DROP%20TABLE', 'nope=1']) {
    const r = await get(`/audit/docker?${bad}`);
    t.equal(r.status, 400, bad);
    t.equal(r.json.code, 'WGM_ERR_API_BAD_REQUEST');
  }
});

t.test('the event stream: ready, then changes; two-person approvals show 1/2', async (t) => {
  const none = await fetch(`${w.controlUrl}/events`);
  t.equal(none.status, 401, 'no token, no stream');
  const ctl = new AbortController();
  t.teardown(() => ctl.abort());
  const res = await fetch(`${w.controlUrl}/events`, { headers: { authorization: `Bearer ${w.apiToken}` }, signal: ctl.signal });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /text\/event-stream/);
  let text = '';
  void (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) text += Buffer.from(chunk).toString('utf8');
    } catch {
      /* aborted */
    }
  })();
  await until('ready', async () => text.includes('event: ready'));
  const a = await request('w2', 'two people must agree');
  t.equal(a.required_approvals, 1, 'requested directly: one approver');
  await until('requested', async () => text.includes(`"topic":"approval.requested","id":"${a.id}"`));

  const two = await w.control.approvals.request({ worker: 'w2', rule: 'ContainerKill', summary: 'kill container x', method: 'POST', route: '/containers/{name:.*}/kill', path: '/containers/x/kill', opHash: 'h2', op: {}, reasons: [], ttlS: 60, requiredApprovals: 2 }).then((r) => r.approval);
  const first = await w.control.server.inject({ method: 'POST', url: `/approvals/${two.id}/approve`, headers: { authorization: `Bearer ${w.apiToken}` }, payload: { by: 'anna' } });
  t.equal(first.json().approval.status, 'pending');
  t.same(first.json().approval.approvers, ['api:anna']);
  await until('partial approval announced', async () => text.includes(`"topic":"approval.updated","id":"${two.id}"`));
  const cli = await w.cli(['approvals', '--worker', 'w2']);
  t.match(cli.stdout, new RegExp(`${two.id}  w2  pending \\(\\d+:\\d\\d left, 1/2 approvals\\)`), 'the CLI shows 1/2');
  await w.control.approvals.answer(two.id, 'approve', 'api:bob');
  await until('decided', async () => text.includes(`"topic":"approval.decided","id":"${two.id}"`));
  t.notMatch(text, /summary|two people/, 'no free text travels on the stream');
  await w.control.approvals.answer(a.id, 'deny', 'api:test');
});

t.test('state changes from a foreign origin are refused, token or not', async (t) => {
  const a = await request('w1', 'origin check');
  const post = (headers: Record<string, string>) =>
    w.control.server.inject({ method: 'POST', url: `/approvals/${a.id}/deny`, headers: { authorization: `Bearer ${w.apiToken}`, host: '127.0.0.1:5001', ...headers }, payload: { by: 'x' } });
  const foreign: Record<string, string>[] = [{ origin: 'http://evil.example' }, { origin: 'null' }, { origin: 'http://127.0.0.1:5002' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }];
  for (const h of foreign) {
    const r = await post(h);
    t.equal(r.statusCode, 403, JSON.stringify(h));
    t.equal(r.json().code, 'WGM_ERR_API_ORIGIN');
  }
  t.equal((await w.control.approvals.get(a.id))?.status, 'pending');
  const same = await post({ origin: 'http://127.0.0.1:5001', 'sec-fetch-site': 'same-origin' });
  t.equal(same.statusCode, 200, 'the console’s own origin may');
  t.equal((await w.control.approvals.get(a.id))?.status, 'denied');
});

t.test('static files: unknown assets 404; an unbuilt console says how to build it', async (t) => {
  const r = await w.control.server.inject({ method: 'GET', url: '/assets/nope.js' });
  t.equal(r.statusCode, 404);
  const bare = Fastify();
  registerConsoleAssets(bare, { dir: path.join(w.dir, 'no-console-here') });
  const none = await bare.inject({ method: 'GET', url: '/' });
  t.equal(none.statusCode, 503);
  t.match(none.body, /npm run build/);
  await bare.close();
});

t.test('CLI: version, approvals with the effect, show, --status values, one-line errors', async (t) => {
  const v = await w.cli(['--version']);
  t.equal(v.stdout.trim(), `wingman ${JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version}`);
  const a = await request('w1', 'run a command in container abc');
  const list = await w.cli(['approvals']);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, new RegExp(`${a.id}  w1  pending`));
  t.match(list.stdout, /Command:\s+\$ sh -c 'echo hi > \/x'/);
  t.match(list.stdout, /Why held:\s+runs a command in a container/);
  const show = await w.cli(['show', a.id]);
  t.equal(show.code, 0, show.stderr);
  t.match(show.stdout, /History:\n\s+\S+ \S+\s+requested by w1/);
  const bogus = await w.cli(['approvals', '--status', 'bogus']);
  t.equal(bogus.code, 1);
  t.equal(bogus.stderr, 'wingman: unknown status "bogus": --status takes one of pending, approved, denied, expired, consumed, cancelled\n');
  const missing = await w.cli(['show', randomUUID()]);
  t.match(missing.stderr, /^wingman: no approval [0-9a-f-]{36}: `wingman approvals --status S` lists the ids\n$/);
  const unknown = await w.cli(['frobnicate']);
  t.equal(unknown.stderr, 'wingman: unknown command "frobnicate": `wingman --help` lists the commands\n');
  const env = { ...process.env, WINGMAN_DATA_DIR: w.config.dataDir };
  // A port nothing listens on: one just closed.
  const net = await import('node:net');
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const down = await run(process.execPath, [path.join(ROOT, 'bin/wingman.js'), 'approvals'], { ...env, WINGMAN_CONTROL_URL: `http://127.0.0.1:${port}`, WINGMAN_API_TOKEN: w.apiToken });
  t.equal(down.code, 1);
  t.equal(down.stderr, `wingman: the control API at http://127.0.0.1:${port} is unreachable (ECONNREFUSED): is \`wingman up\` running? Point WINGMAN_CONTROL_URL at it\n`);
  const wrong = await run(process.execPath, [path.join(ROOT, 'bin/wingman.js'), 'approvals'], { ...env, WINGMAN_CONTROL_URL: w.controlUrl, WINGMAN_API_TOKEN: 'not-the-token-at-all' });
  t.match(wrong.stderr, /^wingman: the control API refused the API token: set WINGMAN_API_TOKEN[^\n]*\n$/);
  const badEnv = await run(process.execPath, [path.join(ROOT, 'bin/wingman.js'), 'approvals'], { ...env, WINGMAN_LOG_FORMAT: 'xml' });
  t.match(badEnv.stderr, /^wingman: [^\n]*WINGMAN_LOG_FORMAT[^\n]*\(fix WINGMAN_LOG_FORMAT in the environment\)\n$/);
  await w.control.approvals.answer(a.id, 'deny', 'api:test');
});

t.test('CLI: approvals --watch shows new held calls and decisions as they happen', async (t) => {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/wingman.js'), 'approvals', '--watch'], {
    env: { ...process.env, WINGMAN_CONTROL_URL: w.controlUrl, WINGMAN_API_TOKEN: w.apiToken, WINGMAN_DATA_DIR: w.config.dataDir },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  t.teardown(() => void child.kill('SIGTERM'));
  await until('watching', async () => out.includes('watching for changes'));
  const a = await request('w1', 'run a command in container abc');
  await until('held shown', async () => out.includes(`held:\n${a.id}  w1  pending`));
  t.match(out, /Command:\s+\$ sh -c 'echo hi > \/x'/);
  await w.control.approvals.answer(a.id, 'deny', 'api:carol', 'no');
  await until('decision shown', async () => out.includes(`${a.id} w1: run a command in container abc -> denied by api:carol: no`));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill('SIGINT');
  t.equal(await exit, 0, 'Ctrl-C ends it cleanly');
});

t.test('wingman up: the banner for a person, readable log lines or JSON', async (t) => {
  const banner = upBanner({ config: w.config, tokenFile: '/data/api-token', workers: ['w1', 'w2'], store: 'Postgres', bus: 'Redis', version: '1.2.3' });
  t.match(banner, 'Console    http://127.0.0.1:5001/');
  t.match(banner, 'API token  in /data/api-token');
  t.notMatch(banner, w.apiToken, 'the token itself is never printed');
  t.match(banner, `w1  export DOCKER_HOST=unix://${path.join(w.config.socketDir, 'w1', 'docker.sock')}`);
  t.match(banner, `w2  export DOCKER_HOST=unix://${path.join(w.config.socketDir, 'w2', 'docker.sock')}`);
  const line = prettyLine(JSON.stringify({ level: 30, time: '2026-01-02T03:04:05.000Z', svc: 'control', msg: 'listening', port: 5001, note: 'a b' }));
  t.equal(line, '03:04:05 INFO  control  listening port=5001 note="a b"\n');
  t.equal(prettyLine('not json'), 'not json');
});
