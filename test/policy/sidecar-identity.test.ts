// Table-driven: what the sidecar's read-only identity may do. Only the rules its verifiers need, `own` ones only on
// its worker's container, never with an escalation or another user; lockdown and per-worker policy do not widen it.
import t from 'tap';
import { decide } from '../../core/policy/decide.js';
import { DOCKER_RULES } from '../../core/policy/docker-rules.js';
import { parseGoJson } from '../../core/policy/go-json.js';
import { normalizeTarget } from '../../core/policy/normalize.js';
import { EMPTY_POLICY, parsePolicy } from '../../core/policy/policy-file.js';

const P = EMPTY_POLICY.forWorker('w1');

function sd(method: string, target: string, own: boolean, body?: string, extra: Partial<Parameters<typeof decide>[0]> = {}) {
  return decide({
    method,
    target: normalizeTarget(target),
    worker: 'w1',
    body: body ? parseGoJson(body) : undefined,
    policy: P,
    identity: 'sidecar',
    ownContainer: own,
    ...extra,
  });
}

// method, target, own container?, body, expected rule, expected action, reason pattern for a deny
const table: Array<[string, string, boolean, string | undefined, string, 'allow' | 'deny', RegExp?]> = [
  ['GET', '/_ping', false, undefined, 'SystemPing', 'allow'],
  ['HEAD', '/v1.41/_ping', false, undefined, 'SystemPingHead', 'allow'],
  ['GET', '/v1.41/version', false, undefined, 'SystemVersion', 'allow'],
  ['GET', '/v1.41/containers/w1box/json', true, undefined, 'ContainerInspect', 'allow'],
  // another container: only one its worker owns (facts below), never anyone else's (Env holds secrets)
  ['GET', '/v1.41/containers/other/json', false, undefined, 'ContainerInspect', 'deny', /its worker's containers only/],
  ['HEAD', '/v1.41/containers/w1box/archive?path=/work/a', true, undefined, 'ContainerArchiveInfo', 'allow'],
  ['HEAD', '/v1.41/containers/other/archive?path=/etc/shadow', false, undefined, 'ContainerArchiveInfo', 'deny', /its worker's container only/],
  ['GET', '/v1.41/containers/w1box/archive?path=/work/a', true, undefined, 'ContainerArchive', 'allow'],
  ['GET', '/v1.41/containers/other/archive?path=/', false, undefined, 'ContainerArchive', 'deny', /its worker's container only/],
  ['GET', '/v1.41/contain%65rs/other/archive?path=/', false, undefined, 'ContainerArchive', 'deny', /its worker's container only/],
  ['GET', '/v1.41/containers/w1box/top?ps_args=-eo%20pid,comm,args', true, undefined, 'ContainerTop', 'allow'],
  ['GET', '/v1.41/containers/other/top', false, undefined, 'ContainerTop', 'deny', /its worker's container only/],
  ['GET', '/v1.41/containers/w1box/changes', true, undefined, 'ContainerChanges', 'allow'],
  ['GET', '/v1.41/containers/other/changes', false, undefined, 'ContainerChanges', 'deny'],
  ['POST', '/v1.41/containers/w1box/exec', true, '{"Cmd":["cat","/proc/net/tcp"],"AttachStdout":true}', 'ContainerExec', 'allow'],
  ['POST', '/v1.41/containers/w1box/exec', true, '{"Cmd":["id"],"User":""}', 'ContainerExec', 'allow'],
  ['POST', '/v1.41/containers/other/exec', false, '{"Cmd":["id"]}', 'ContainerExec', 'deny', /its worker's container only/],
  ['POST', '/v1.41/containers/w1box/exec', true, '{"Cmd":["id"],"Privileged":true}', 'ContainerExec', 'deny', /privileged exec/],
  ['POST', '/v1.41/containers/w1box/exec', true, '{"Cmd":["id"],"privileged":true}', 'ContainerExec', 'deny', /privileged exec/],
  ['POST', '/v1.41/containers/w1box/exec', true, '{"Cmd":["id"],"User":"root"}', 'ContainerExec', 'deny', /own user only/],
  ['POST', '/v1.41/containers/w1box/exec', true, '{"Cmd":["id"],"user":"0:0"}', 'ContainerExec', 'deny', /own user only/],
  ['POST', '/v1.41/exec/abc/start', true, '{"Detach":false}', 'ExecStart', 'allow'],
  ['POST', '/v1.41/exec/abc/start', false, '{"Detach":false}', 'ExecStart', 'deny', /its worker's container only/],
  ['GET', '/v1.41/exec/abc/json', true, undefined, 'ExecInspect', 'allow'],
  ['GET', '/v1.41/exec/abc/json', false, undefined, 'ExecInspect', 'deny'],
  // everything else, even reads a worker may do and calls on its own container
  ['GET', '/v1.41/containers/json', false, undefined, 'ContainerList', 'deny', /read-only/],
  ['GET', '/v1.41/containers/w1box/logs', true, undefined, 'ContainerLogs', 'deny', /read-only/],
  ['GET', '/v1.41/containers/w1box/export', true, undefined, 'ContainerExport', 'deny', /read-only/],
  ['PUT', '/v1.41/containers/w1box/archive?path=/work', true, undefined, 'PutContainerArchive', 'deny', /read-only/],
  ['DELETE', '/v1.41/containers/w1box?force=1', true, undefined, 'ContainerDelete', 'deny', /read-only/],
  ['POST', '/v1.41/containers/w1box/kill', true, undefined, 'ContainerKill', 'deny'],
  ['POST', '/v1.41/containers/w1box/stop', true, undefined, 'ContainerStop', 'deny'],
  ['POST', '/v1.41/containers/w1box/pause', true, undefined, 'ContainerPause', 'deny'],
  ['POST', '/v1.41/containers/w1box/unpause', true, undefined, 'ContainerUnpause', 'deny'],
  ['POST', '/v1.41/containers/w1box/attach?stream=1', true, undefined, 'ContainerAttach', 'deny'],
  ['POST', '/v1.41/containers/create', false, '{"Image":"busybox"}', 'ContainerCreate', 'deny', /read-only/],
  ['POST', '/v1.41/exec/abc/resize?h=1&w=1', true, undefined, 'ExecResize', 'deny'],
  ['GET', '/v1.41/images/json', false, undefined, 'ImageList', 'deny'],
  ['GET', '/v1.41/info', false, undefined, 'SystemInfo', 'deny'],
  ['GET', '/v1.41/events', false, undefined, 'SystemEvents', 'deny'],
  ['POST', '/v1.41/build', false, undefined, 'ImageBuild', 'deny'],
  ['GET', '/v1.41/nothing/here', false, undefined, 'Unknown', 'deny', /unknown endpoint/],
];

t.test('sidecar identity table', async (t) => {
  for (const [method, target, own, body, rule, action, why] of table) {
    const r = sd(method, target, own, body);
    t.equal(r.rule.id, rule, `${method} ${target}: rule`);
    t.equal(r.action, action, `${method} ${target} (own=${own}): ${action}`);
    if (why) t.match(r.reasons.join('; '), why, `${method} ${target}: reason`);
  }
});

t.test('the sidecar may inspect the containers its worker owns, and no others', async (t) => {
  const fact = (owner: string | null) => ({
    target: { kind: 'container' as const, ref: 'web', use: 'target' as const, exists: true, id: 'abc', names: ['web'], owner },
    refs: [],
  });
  t.equal(sd('GET', '/containers/web/json', false, undefined, { objects: fact('w1') }).action, 'allow', 'its worker\'s');
  t.equal(sd('GET', '/containers/web/json', false, undefined, { objects: fact('w2') }).action, 'deny', 'another worker\'s');
  t.equal(sd('GET', '/containers/web/json', false, undefined, { objects: fact(null) }).action, 'deny', 'nobody\'s (Wingman\'s own)');
});

t.test('every rule a sidecar may call is a read or one of the verifier execs', async (t) => {
  const marked = DOCKER_RULES.filter((r) => r.sidecar).map((r) => r.id).sort();
  t.same(marked, [
    'ContainerArchive', 'ContainerArchiveInfo', 'ContainerChanges', 'ContainerExec', 'ContainerInspect', 'ContainerTop',
    'ExecInspect', 'ExecStart', 'SystemPing', 'SystemPingHead', 'SystemVersion',
  ]);
  for (const r of DOCKER_RULES.filter((x) => x.sidecar === 'any')) t.ok(r.read, `${r.id}: 'any' only for reads`);
});

t.test('lockdown and per-worker policy neither block nor widen the sidecar identity', async (t) => {
  const locked = { lockdown: { locked: true, reason: 'lied' } };
  t.equal(sd('POST', '/containers/w1box/exec', true, '{"Cmd":["id"]}', locked).action, 'allow', 'verifiers keep working in lockdown');
  const loose = parsePolicy(JSON.stringify({ workers: { w1: { rules: { ContainerDelete: 'allow', ContainerList: 'allow' } } } }), 't').forWorker('w1');
  t.equal(sd('DELETE', '/containers/w1box', true, undefined, { policy: loose }).action, 'deny');
  t.equal(sd('GET', '/containers/json', false, undefined, { policy: loose }).action, 'deny');
  // the same calls as the worker itself
  const asWorker = decide({ method: 'GET', target: normalizeTarget('/containers/other/archive?path=/'), worker: 'w1', policy: P });
  t.equal(asWorker.action, 'approve', 'the worker still needs approval to copy out');
});
