// Destructive calls are held until a human decides; the engine sees nothing before that. Approvals are bound to the
// exact operation, single-use (also across a restart) and expire to deny.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { containerStatus, docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

let w: Wingman;
const containers: string[] = [];
const volumes: string[] = [];
const images: string[] = [];
const runLabel = `wgmtest.case=${testName('appr')}`;

t.before(async () => {
  w = await startWingman();
});
t.teardown(async () => {
  for (const c of containers) await docker(['rm', '-f', c]);
  for (const v of volumes) await docker(['volume', 'rm', '-f', v]);
  for (const i of images) await docker(['rmi', '-f', i]);
  await w.close();
});

const running = containerStatus;

async function startContainer(tag: string): Promise<string> {
  const name = testName(tag);
  containers.push(name);
  await dockerOk(['run', '-d', '--name', name, '--label', runLabel, TEST_IMAGE, 'sleep', '600']);
  await w.adopt('w1', 'container', name); // ops hand it to w1: a worker acts only on what it owns
  return name;
}

interface HeldCase {
  name: string;
  rule: string;
  // before/after make assertions; what they resolve to (an assertion's boolean, or nothing) is not used
  setup: () => Promise<{ args: string[]; before: () => Promise<unknown>; after: (out: string) => Promise<unknown> }>;
}

const cases: HeldCase[] = [
  {
    name: 'docker rm -f',
    rule: 'ContainerDelete',
    setup: async () => {
      const c = await startContainer('rm');
      return {
        args: ['rm', '-f', c],
        before: async () => t.equal(await running(c), 'running', 'container untouched while held'),
        after: async () => t.equal(await running(c), 'absent', 'container removed after approval'),
      };
    },
  },
  {
    name: 'docker kill',
    rule: 'ContainerKill',
    setup: async () => {
      const c = await startContainer('kill');
      return {
        args: ['kill', c],
        before: async () => t.equal(await running(c), 'running'),
        after: async () => t.equal(await running(c), 'exited'),
      };
    },
  },
  {
    name: 'docker volume prune -f',
    rule: 'VolumePrune',
    setup: async () => {
      const v = testName('vol');
      volumes.push(v);
      // Made through w1's socket: a prune through it reaches only w1's own (labelled) volumes.
      const made = await w.dockerAs('w1', ['volume', 'create', '--label', runLabel, v]);
      t.equal(made.code, 0, made.stderr);
      const exists = async () => (await docker(['volume', 'inspect', v])).code === 0;
      return {
        args: ['volume', 'prune', '-f', '--filter', `label=${runLabel}`],
        before: async () => t.ok(await exists(), 'volume still there while held'),
        after: async () => t.notOk(await exists(), 'volume pruned after approval'),
      };
    },
  },
  {
    name: 'docker image rm',
    rule: 'ImageDelete',
    setup: async () => {
      const tag = `${testName('rmi')}:1`;
      images.push(tag);
      await dockerOk(['tag', TEST_IMAGE, tag]);
      await w.adopt('w1', 'image', tag); // only a reference's owner may remove it
      const exists = async () => (await docker(['image', 'inspect', tag])).code === 0;
      return {
        args: ['image', 'rm', tag],
        before: async () => t.ok(await exists(), 'tag still there while held'),
        after: async () => {
          t.notOk(await exists(), 'tag removed after approval');
          t.equal((await docker(['image', 'inspect', TEST_IMAGE])).code, 0, 'the other tag of the image is untouched');
        },
      };
    },
  },
  {
    name: 'docker exec',
    rule: 'ContainerExec',
    setup: async () => {
      const c = await startContainer('exec');
      return {
        args: ['exec', c, 'sh', '-c', 'echo ran > /ran.txt; cat /ran.txt'],
        before: async () => t.not((await docker(['exec', c, 'cat', '/ran.txt'])).code, 0, 'nothing ran while held'),
        after: async (out) => t.equal(out.trim(), 'ran'),
      };
    },
  },
  {
    name: 'docker cp out of a container',
    rule: 'ContainerArchive',
    setup: async () => {
      const c = await startContainer('cp');
      const dest = path.join(w.dir, `cp-${c}.txt`);
      return {
        args: ['cp', `${c}:/etc/passwd`, dest],
        before: async () => t.notOk(fs.existsSync(dest), 'nothing copied while held'),
        after: async () => t.match(fs.readFileSync(dest, 'utf8'), /root/),
      };
    },
  },
];

for (const c of cases) {
  t.test(`${c.name} is held until approved`, async (t) => {
    const s = await c.setup();
    const call = w.dockerAs('w1', s.args);
    const a = await w.pendingApproval('w1');
    t.equal(a.rule, c.rule);
    await s.before();
    const list = await w.cli(['approvals']);
    t.match(list.stdout, a.id, '`wingman approvals` lists it');
    const ok = await w.cli(['approve', a.id]);
    t.equal(ok.code, 0, ok.stderr);
    const r = await call;
    t.equal(r.code, 0, r.stderr);
    await s.after(r.stdout);
    const again = await w.cli(['approve', a.id]);
    t.not(again.code, 0, 'an approval cannot be decided twice');
    t.match(again.stderr, /consumed|not pending/);
  });
}

t.test('deny: the CLI prints the reason and the container is still there', async (t) => {
  const c = await startContainer('deny');
  const call = w.dockerAs('w1', ['rm', '-f', c]);
  const a = await w.pendingApproval('w1');
  t.match(a.summary, new RegExp(`remove container ${c} \\(force\\)`));
  const r0 = await w.cli(['deny', a.id, '--note', 'not today', '--by', 'ops-anna']);
  t.equal(r0.code, 0, r0.stderr);
  const r = await call;
  t.not(r.code, 0);
  t.match(r.stderr, new RegExp(`wingman: denied by api:ops-anna: not today \\(approval ${a.id}\\)`));
  t.equal(await running(c), 'running');
});

t.test('timeout: expires to deny and the engine never sees the call', async (t) => {
  const short = await startWingman({ env: { WINGMAN_APPROVAL_TIMEOUT_S: '2' } });
  t.teardown(() => short.close());
  const c = await startContainer('timeout');
  await short.adopt('w1', 'container', c);
  const r = await short.dockerAs('w1', ['rm', '-f', c]);
  t.not(r.code, 0);
  t.match(r.stderr, /wingman: no decision within 2s, expired \(approval [0-9a-f-]{36}\)/);
  t.equal(await running(c), 'running');
  const { rows } = await short.db.query(`SELECT status FROM approvals`);
  t.same(rows.map((x) => x.status), ['expired']);
  const late = await short.cli(['approve', (await short.control.approvals.list())[0].id]);
  t.not(late.code, 0, 'an expired approval cannot be approved afterwards');
});

function dockerConfigWith(token: string): string {
  const dir = fs.mkdtempSync(path.join(w.dir, 'dcfg-'));
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ HttpHeaders: { 'X-Wingman-Approval': token } }));
  return dir;
}

async function requestGrant(worker: string, method: string, p: string, ttl?: number) {
  const res = await w.control.server.inject({
    method: 'POST',
    url: '/approvals',
    headers: { authorization: `Bearer ${w.apiToken}` },
    payload: { worker, method, path: p, ...(ttl ? { ttl_s: ttl } : {}) },
  });
  if (res.statusCode !== 201) throw new Error(res.body);
  return res.json<{ approval: { id: string }; token: string }>();
}

t.test('a grant token passes exactly one matching call, never a different one, never twice', async (t) => {
  const c1 = await startContainer('grant1');
  const c2 = await startContainer('grant2');
  const g = await requestGrant('w1', 'DELETE', `/containers/${c1}?force=1`);
  const cfg = dockerConfigWith(g.token);
  // Not approved yet: refused, not held.
  let r = await w.dockerAs('w1', ['rm', '-f', c1], { env: { DOCKER_CONFIG: cfg } });
  t.match(r.stderr, /wingman: approval is pending/);
  t.equal(await running(c1), 'running');
  t.equal((await w.cli(['approve', g.approval.id])).code, 0);
  // A different operation with the same token: mismatch.
  r = await w.dockerAs('w1', ['rm', '-f', c2], { env: { DOCKER_CONFIG: cfg } });
  t.match(r.stderr, /wingman: approval does not match this operation/);
  t.equal(await running(c2), 'running');
  // Another worker with the same token: mismatch.
  r = await w.dockerAs('w2', ['rm', '-f', c1], { env: { DOCKER_CONFIG: cfg } });
  t.match(r.stderr, /does not match|not w2's/);
  // The matching call passes at once.
  r = await w.dockerAs('w1', ['rm', '-f', c1], { env: { DOCKER_CONFIG: cfg } });
  t.equal(r.code, 0, r.stderr);
  t.equal(await running(c1), 'absent');
  // Replay: refused.
  const c3 = await startContainer('grant3');
  await dockerOk(['rename', c3, `${c1}`]); // a new container under the approved name
  containers.push(c1);
  r = await w.dockerAs('w1', ['rm', '-f', c1], { env: { DOCKER_CONFIG: cfg } });
  t.match(r.stderr, /wingman: approval already used/);
  t.equal(await running(c1), 'running', 'the container recreated under the approved name survives');
});

t.test('an approval for a name is bound to the container id it resolved to', async (t) => {
  const name = await startContainer('bound');
  const g = await requestGrant('w1', 'DELETE', `/containers/${name}?force=1`);
  t.equal((await w.cli(['approve', g.approval.id])).code, 0);
  await dockerOk(['rm', '-f', name]);
  await dockerOk(['run', '-d', '--name', name, TEST_IMAGE, 'sleep', '600']);
  await w.adopt('w1', 'container', name); // w1's too: what refuses it is the binding to the first id
  const r = await w.dockerAs('w1', ['rm', '-f', name], { env: { DOCKER_CONFIG: dockerConfigWith(g.token) } });
  t.match(r.stderr, /does not match this operation/);
  t.equal(await running(name), 'running');
});

t.test('an expired grant is refused', async (t) => {
  const c = await startContainer('exp');
  const g = await requestGrant('w1', 'DELETE', `/containers/${c}?force=1`, 3);
  t.equal((await w.cli(['approve', g.approval.id])).code, 0);
  await new Promise((r) => setTimeout(r, 3200));
  const r = await w.dockerAs('w1', ['rm', '-f', c], { env: { DOCKER_CONFIG: dockerConfigWith(g.token) } });
  t.match(r.stderr, /wingman: approval expired/);
  t.equal(await running(c), 'running');
});

t.test('a used approval stays used after a restart', async (t) => {
  const c = await startContainer('restart');
  const g = await requestGrant('w1', 'DELETE', `/containers/${c}?force=1`);
  t.equal((await w.cli(['approve', g.approval.id])).code, 0);
  const cfg = dockerConfigWith(g.token);
  t.equal((await w.dockerAs('w1', ['rm', '-f', c], { env: { DOCKER_CONFIG: cfg } })).code, 0);
  await dockerOk(['run', '-d', '--name', c, TEST_IMAGE, 'sleep', '600']);
  await w.adopt('w1', 'container', c);
  const again = await startWingman({ database: w.database });
  t.teardown(() => again.close());
  const r = await again.dockerAs('w1', ['rm', '-f', c], { env: { DOCKER_CONFIG: cfg } });
  t.match(r.stderr, /approval already used|does not match/);
  t.equal(await running(c), 'running');
  const events = await again.db.query(`SELECT event FROM approval_events WHERE approval_id = $1 ORDER BY id`, [g.approval.id]);
  t.same(events.rows.map((e) => e.event), ['requested', 'decided', 'consumed', 'refused']);
});

t.test('approval rows and events cannot be edited', async (t) => {
  await t.rejects(w.db.query(`UPDATE approval_events SET actor = 'mallory'`), /append-only/);
  await t.rejects(w.db.query(`DELETE FROM docker_audit`), /append-only/);
  await t.rejects(w.db.query(`TRUNCATE docker_audit`), /append-only/);
});
