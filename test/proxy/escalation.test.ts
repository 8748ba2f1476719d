// `docker run` with escalating options is refused with the reason, and the engine created nothing.
import t from 'tap';
import { docker, testName, TEST_IMAGE } from '../helpers/env.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

let w: Wingman;
t.before(async () => {
  w = await startWingman();
});
t.teardown(() => w.close());

const cases: Array<[string[], RegExp]> = [
  [['--privileged'], /wingman: privileged container \(privileged: deny\)/],
  [['-v', '/:/host'], /wingman: bind: host path \/ exposes \/ \(host_bind: deny\)/],
  [['-v', '/var/run/docker.sock:/var/run/docker.sock'], /host path \/var\/run\/docker.sock exposes .*host_bind: deny/],
  [['--mount', 'type=bind,source=/etc,target=/e'], /bind mount: host path \/etc exposes \/etc/],
  [['--pid', 'host'], /PidMode=host shares a namespace outside the container \(host_namespace: deny\)/],
  [['--network', 'host'], /NetworkMode=host/],
  [['--cap-add', 'SYS_ADMIN'], /adds capabilities (CAP_)?SYS_ADMIN \(cap_add: deny\)/],
  [['--security-opt', 'seccomp=unconfined'], /security option seccomp=unconfined/],
  [['--device', '/dev/null:/dev/x'], /Devices gives access to host devices/],
  [['--sysctl', 'net.ipv4.ip_forward=1'], /sets kernel sysctls/],
];

for (const [flags, reason] of cases) {
  t.test(`docker run ${flags.join(' ')}`, async (t) => {
    const label = testName('esc');
    const r = await w.dockerAs('w1', ['run', '--rm', '--label', `wgmtest.case=${label}`, ...flags, TEST_IMAGE, 'true']);
    t.not(r.code, 0);
    t.match(r.stderr, reason);
    const seen = await docker(['ps', '-a', '-q', '--filter', `label=wgmtest.case=${label}`]);
    t.equal(seen.stdout.trim(), '', 'the engine created nothing');
  });
}

t.test('a policy file can turn a deny into an approval, for one worker only', async (t) => {
  const p = await startWingman({ policy: 'workers:\n  w2:\n    escalations: { cap_add: approve }\n' });
  t.teardown(() => p.close());
  const label = testName('esc-ok');
  const r1 = await p.dockerAs('w1', ['create', '--label', `wgmtest.case=${label}`, '--cap-add', 'NET_ADMIN', TEST_IMAGE, 'true']);
  t.match(r1.stderr, /cap_add: deny/);
  const call = p.dockerAs('w2', ['create', '--label', `wgmtest.case=${label}`, '--cap-add', 'NET_ADMIN', TEST_IMAGE, 'true']);
  const a = await p.pendingApproval('w2');
  t.equal(a.rule, 'ContainerCreate');
  t.match(a.summary, /create container/);
  await p.control.approvals.answer(a.id, 'approve', 'test');
  const r2 = await call;
  t.equal(r2.code, 0, r2.stderr);
  const id = r2.stdout.trim();
  const caps = await docker(['inspect', '-f', '{{.HostConfig.CapAdd}}', id]);
  t.match(caps.stdout, /NET_ADMIN/);
  await docker(['rm', '-f', id]);
});

t.test('shadow mode forwards and records what enforce would have done', async (t) => {
  const s = await startWingman({ env: { WINGMAN_POLICY_MODE: 'shadow' } });
  t.teardown(() => s.close());
  const label = testName('shadow');
  const r = await s.dockerAs('w1', ['create', '--label', `wgmtest.case=${label}`, '--cap-add', 'NET_ADMIN', TEST_IMAGE, 'true']);
  t.equal(r.code, 0, r.stderr);
  await docker(['rm', '-f', r.stdout.trim()]);
  await s.proxy.audit.flush();
  const { rows } = await s.db.query(`SELECT decision, would, mode FROM docker_audit WHERE rule = 'ContainerCreate'`);
  t.same(rows, [{ decision: 'shadow_deny', would: 'deny', mode: 'shadow' }]);
});
