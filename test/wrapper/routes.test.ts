// The worker-facing /grants API: authenticated by worker tokens only (and the ops API never by them), scoped from
// the command line by the server (not by what the wrapper claims), text answers the wrapper can read, bad input
// refused with 4xx, a flood of requests capped, long polls and closing.
import t from 'tap';
import { docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';
import { commandLine, decodeArgvHex, textAnswer } from '../../control/grants-routes.js';

const TOKENS = { w1: 'wgmtest-w1-token-abcdefghij', w2: 'wgmtest-w2-token-abcdefghij' };
let w: Wingman;
const containers: string[] = [];

t.before(async () => {
  w = await startWingman({ env: { WINGMAN_WORKER_TOKENS: `w1:${TOKENS.w1},w2:${TOKENS.w2}` } });
});
t.teardown(async () => {
  for (const c of containers) await docker(['rm', '-f', c]);
  await w.close();
});

async function container(tag: string): Promise<string> {
  const name = testName(tag);
  containers.push(name);
  await dockerOk(['run', '-d', '--name', name, TEST_IMAGE, 'sleep', '600']);
  await w.adopt('w1', 'container', name);
  return name;
}

const post = (token: string | undefined, payload: unknown, headers: Record<string, string> = {}) =>
  w.control.server.inject({
    method: 'POST',
    url: '/grants',
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    payload: payload as object,
  });

t.test('worker tokens open the worker routes only; the ops token does not open them', async (t) => {
  const c = await container('auth');
  t.equal((await post(undefined, { argv: ['rm', c] })).statusCode, 401);
  t.equal((await post('wrong-token-wrong-token', { argv: ['rm', c] })).statusCode, 401);
  t.equal((await post(w.apiToken, { argv: ['rm', c] })).statusCode, 401, 'the ops token is not a worker token');
  const ops = await w.control.server.inject({ method: 'GET', url: '/approvals', headers: { authorization: `Bearer ${TOKENS.w1}` } });
  t.equal(ops.statusCode, 401, 'a worker token does not open the ops API');
  const approve = await w.control.server.inject({
    method: 'POST',
    url: '/approvals/00000000-0000-0000-0000-000000000000/approve',
    headers: { authorization: `Bearer ${TOKENS.w1}` },
    payload: { by: 'me' },
  });
  t.equal(approve.statusCode, 401, 'a worker cannot approve');
  const other = await post(TOKENS.w1, { argv: ['rm', c], worker: 'w2' });
  t.equal(other.statusCode, 403, 'a token cannot ask for another worker');
  t.equal((await w.control.approvals.list()).length, 0, 'nothing was requested');
});

t.test('the server scopes the grant from the command line; text answers are key=value lines', async (t) => {
  const c = await container('scope');
  const argvHex = Buffer.from(['rm', '-f', c].map((a) => `${a}\0`).join('')).toString('hex');
  const res = await post(TOKENS.w1, { argv_hex: argvHex }, { accept: 'text/plain' });
  t.equal(res.statusCode, 201, res.body);
  t.match(res.headers['content-type'], /^text\/plain/);
  const fields = Object.fromEntries(res.body.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  t.match(fields, { status: 'pending', summary: `remove container ${c} (force)`, rules: 'ContainerDelete', rule: 'rm' });
  t.match(fields.token, /^wgg_[A-Za-z0-9_-]{32}$/);
  const { rows } = await w.db.query(`SELECT scope, shell_rule, worker, token_hash FROM grants WHERE approval_id = $1`, [fields.id]);
  const id = (await docker(['inspect', '-f', '{{.Id}}', c])).stdout.trim();
  t.same(rows[0].scope, { ContainerDelete: { uses: 1, targets: [id] } }, 'bound to the container id');
  t.notMatch(JSON.stringify(rows[0]), fields.token, 'only the token hash is stored');
  const a = (await w.control.approvals.get(fields.id))!;
  t.match(a, { worker: 'w1', source: 'shell', rule: 'ContainerDelete', route: 'docker rm', status: 'pending' });
  t.match(a.reasons[0], 'one approval for the whole command');
});

t.test('commands that need no approval are answered as such, with no approval created', async (t) => {
  const before = (await w.control.approvals.list()).length;
  for (const argv of [['ps'], ['run', '--rm', TEST_IMAGE, 'true'], ['logs', 'x'], ['rm', testName('absent')]]) {
    const res = await post(TOKENS.w1, { argv });
    t.equal(res.statusCode, 200, argv.join(' '));
    t.equal(res.json().status, 'allowed', argv.join(' '));
  }
  t.match((await post(TOKENS.w1, { argv: ['rm', 'wgmtest-no-such-thing'] })).json().reason, 'nothing to approve: no such container');
  t.equal((await w.control.approvals.list()).length, before);
});

t.test('bad input is a 4xx, never a crash', async (t) => {
  const cases: Array<[unknown, number]> = [
    [{}, 400],
    [{ argv_hex: 'zz' }, 400],
    [{ argv_hex: '6162' }, 400], // not NUL-terminated
    [{ argv_hex: '616' }, 400],
    [{ argv: ['rm'], extra: true }, 400],
    [{ argv: Array.from({ length: 2000 }, () => 'x') }, 400],
  ];
  for (const [payload, status] of cases) {
    const res = await post(TOKENS.w1, payload);
    t.equal(res.statusCode, status, JSON.stringify(payload).slice(0, 80));
  }
  const text = await w.control.server.inject({ method: 'POST', url: '/grants', headers: { authorization: `Bearer ${TOKENS.w1}`, 'content-type': 'text/plain' }, payload: 'rm x' });
  t.ok(text.statusCode >= 400 && text.statusCode < 500);
  const get = await w.control.server.inject({ method: 'GET', url: '/grants/not-a-uuid', headers: { authorization: `Bearer ${TOKENS.w1}` } });
  t.equal(get.statusCode, 404);
  const wait = await w.control.server.inject({ method: 'GET', url: '/grants/00000000-0000-0000-0000-000000000000?wait=99', headers: { authorization: `Bearer ${TOKENS.w1}` } });
  t.equal(wait.statusCode, 400);
});

t.test('a worker sees and closes only its own grants; long poll returns on the decision', async (t) => {
  const c = await container('poll');
  const g = (await post(TOKENS.w1, { argv: ['kill', c] })).json();
  const other = await w.control.server.inject({ method: 'GET', url: `/grants/${g.id}`, headers: { authorization: `Bearer ${TOKENS.w2}` } });
  t.equal(other.statusCode, 404, "another worker's grant is not found");
  const otherClose = await w.control.server.inject({ method: 'POST', url: `/grants/${g.id}/close`, headers: { authorization: `Bearer ${TOKENS.w2}` } });
  t.equal(otherClose.statusCode, 404);

  const poll = w.control.server.inject({ method: 'GET', url: `/grants/${g.id}?wait=20`, headers: { authorization: `Bearer ${TOKENS.w1}`, accept: 'text/plain' } });
  await w.control.approvals.answer(g.id, 'deny', 'api:ops', 'no kills today');
  const res = await poll;
  t.equal(res.statusCode, 200);
  t.match(res.body, /^status=denied$/m);
  t.match(res.body, /^decided_by=api:ops$/m);
  t.match(res.body, /^note=no kills today$/m);

  // closing a pending request withdraws it
  const g2 = (await post(TOKENS.w1, { argv: ['kill', c] })).json();
  const closed = await w.control.server.inject({ method: 'POST', url: `/grants/${g2.id}/close`, headers: { authorization: `Bearer ${TOKENS.w1}` } });
  t.equal(closed.json().status, 'cancelled');
  await t.rejects(w.control.approvals.answer(g2.id, 'approve', 'api:ops'), /not pending/, 'nobody can approve a withdrawn request');
});

t.test('a locked-down worker is refused before anyone is asked', async (t) => {
  const c = await container('locked');
  await w.control.lockdowns.lock('w2', 'wgmtest lockdown', 'test');
  t.teardown(() => w.control.lockdowns.unlock('w2', 'test', 'done'));
  const res = await post(TOKENS.w2, { argv: ['rm', '-f', c] });
  t.equal(res.statusCode, 200);
  t.match(res.json(), { status: 'refused', reason: /locked down \(wgmtest lockdown\)/ });
});

t.test('at most 10 pending requests per worker', async (t) => {
  const c = await container('flood');
  const open = (await w.control.approvals.list({ worker: 'w1', status: 'pending' })).length;
  const codes: number[] = [];
  for (let i = open; i < 12; i++) codes.push((await post(TOKENS.w1, { argv: ['pause', c] })).statusCode);
  t.same(codes.slice(0, 10 - open), Array(10 - open).fill(201));
  t.same(codes.slice(10 - open), [429, 429]);
  const text = await post(TOKENS.w1, { argv: ['pause', c] }, { accept: 'text/plain' });
  t.match(text.body, /^error=too many approval requests pending/m);
});

t.test('helpers: argv hex decoding, the command line shown to people, text escaping', async (t) => {
  t.same(decodeArgvHex(Buffer.from('rm\0-f\0a b\0\0').toString('hex')), ['rm', '-f', 'a b', '']);
  t.same(decodeArgvHex(''), []);
  t.throws(() => decodeArgvHex('00ff'), /NUL-terminated/);
  t.equal(await commandLine(['run', '-e', 'PASSWORD=hunter2', '--env=TOKEN=abc', 'img', "it's"]), `docker run -e 'PASSWORD=[redacted]' '--env=TOKEN=[redacted]' img 'it'\\''s'`);
  t.match(await commandLine(['exec', 'c', 'sh', '-c', 'curl -H "Authorization: Bearer ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"']), /REDACTED/);
  t.equal(textAnswer({ a: 'x\ny\u001b[31m', b: undefined, c: ['p', 'q'], d: 1 }), 'a=x y [31m\nc=p,q\nd=1\n');
});
