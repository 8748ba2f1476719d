// Table-driven tests of the escalation classes: local volume options and tmpfs options as allowlists, SELinux labels
// and unconfined profiles, OOM and PID limits, and URLs dockerd fetches on the worker's behalf (daemon_fetch).
// Each class has rows that must fire and near misses that must not.
import t, { type Test } from 'tap';
import { decide } from '../../core/policy/decide.js';
import type { Inspect } from '../../core/policy/docker-rules.js';
import { ESCALATION_KINDS, findEscalations, privateHostProblem, type EscalationKind } from '../../core/policy/escalation.js';
import { parseGoJson } from '../../core/policy/go-json.js';
import { normalizeTarget } from '../../core/policy/normalize.js';
import { EMPTY_POLICY, parsePolicy } from '../../core/policy/policy-file.js';

const HOST = { allowlist: [] as string[], extraSensitive: [] as string[] };

function find(inspect: Inspect, body: unknown, target = '/x') {
  return findEscalations(inspect, body === undefined ? undefined : parseGoJson(JSON.stringify(body)), normalizeTarget(target), HOST);
}

/** name, inspect kind, body (undefined: none), request target, the kind, whether it must fire */
type Row = [string, Inspect, unknown, string, EscalationKind, boolean];

function check(t: Test, rows: Row[]): void {
  for (const [name, inspect, body, target, kind, fires] of rows) {
    const found = find(inspect, body, target);
    const hits = found.filter((e) => e.kind === kind);
    if (fires) {
      t.ok(hits.length > 0, `${name}: ${kind} found`);
      for (const h of hits) t.ok(h.detail.length > 10 && !/[\n\r]/.test(h.detail), `${name}: readable detail: ${h.detail}`);
    } else {
      t.same(hits, [], `${name}: no ${kind}`);
    }
  }
}

const vol = (DriverOpts: Record<string, string> | undefined, Driver?: string) => ({ Name: 'v', ...(Driver !== undefined ? { Driver } : {}), ...(DriverOpts ? { DriverOpts } : {}) });
const mount = (Options: Record<string, string>, Name = 'local') => ({
  Type: 'volume',
  Source: 'v',
  Target: '/v',
  VolumeOptions: { DriverConfig: { Name, Options } },
});
const OVERLAY = { type: 'overlay', device: 'overlay', o: 'lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w' };
const TMPFS = { type: 'tmpfs', device: 'tmpfs', o: 'size=1m,uid=1000' };

t.test('the new kinds exist and a policy file may name them', async (t) => {
  for (const k of ['volume_options', 'oom', 'pids_limit', 'daemon_fetch']) t.ok((ESCALATION_KINDS as readonly string[]).includes(k), k);
  t.doesNotThrow(() => parsePolicy('workers:\n  w1:\n    escalations: { volume_options: approve, oom: approve, pids_limit: deny, daemon_fetch: approve }\n'));
});

t.test('volume create: local driver options are an allowlist (tmpfs only)', async (t) => {
  const VC = 'volume-create' as const;
  const T = '/volumes/create';
  check(t, [
    ['no options', VC, vol(undefined), T, 'volume_options', false],
    ['empty options', VC, vol({}), T, 'volume_options', false],
    ['driver local, no options', VC, vol({}, 'local'), T, 'volume_options', false],
    ['tmpfs, size and uid (what the docker CLI sends)', VC, vol({ type: 'tmpfs', device: 'tmpfs', o: 'size=100m,uid=1000' }, 'local'), T, 'volume_options', false],
    ['type=tmpfs,o=size=1m,uid=1000 (no device)', VC, vol({ type: 'tmpfs', o: 'size=1m,uid=1000' }), T, 'volume_options', false],
    ['tmpfs, size only', VC, vol({ type: 'tmpfs', device: 'tmpfs', o: 'size=64m' }), T, 'volume_options', false],
    ['tmpfs, no o', VC, vol({ type: 'tmpfs', device: 'tmpfs' }), T, 'volume_options', false],
    ['tmpfs, every allowed option', VC, vol({ type: 'tmpfs', device: 'tmpfs', o: 'size=64m,mode=1777,uid=1000,gid=1000,nr_inodes=10k,rw,noexec,nosuid,nodev' }), T, 'volume_options', false],
    ['TYPE/DEVICE/O upper case, tmpfs', VC, vol({ TYPE: 'tmpfs', DEVICE: 'tmpfs', O: 'size=1m' }), T, 'volume_options', false],
    ['overlay over host directories', VC, vol(OVERLAY), T, 'volume_options', true],
    ['overlay, driver local', VC, vol(OVERLAY, 'local'), T, 'volume_options', true],
    ['type=proc', VC, vol({ type: 'proc', device: 'proc' }), T, 'volume_options', true],
    ['TYPE=proc (key upper case is still judged)', VC, vol({ TYPE: 'proc', device: 'proc' }), T, 'volume_options', true],
    ['Type=tmpfs and type=proc', VC, vol({ Type: 'tmpfs', type: 'proc', device: 'proc' }), T, 'volume_options', true],
    ['a block device', VC, vol({ type: 'ext4', device: '/dev/sda1' }), T, 'volume_options', true],
    ['nfs to an address', VC, vol({ type: 'nfs', device: ':/export', o: 'addr=10.0.0.1,rw' }), T, 'volume_options', true],
    ['o=bind', VC, vol({ type: 'none', device: '/etc', o: 'bind' }), T, 'volume_options', true],
    ['o=bind (host_bind too)', VC, vol({ type: 'none', device: '/etc', o: 'bind' }), T, 'host_bind', true],
    ['tmpfs with a device path', VC, vol({ type: 'tmpfs', device: '/dev/sda1' }), T, 'volume_options', true],
    ['tmpfs with o=bind', VC, vol({ type: 'tmpfs', device: 'tmpfs', o: 'size=1m,bind' }), T, 'volume_options', true],
    ['tmpfs with dev', VC, vol({ type: 'tmpfs', device: 'tmpfs', o: 'size=1m,dev' }), T, 'volume_options', true],
    ['tmpfs with an unknown option', VC, vol({ type: 'tmpfs', device: 'tmpfs', o: 'size=1m,mpol=default' }), T, 'volume_options', true],
    ['tmpfs with a size that is not one', VC, vol({ type: 'tmpfs', device: 'tmpfs', o: 'size=lots' }), T, 'volume_options', true],
    ['o without type', VC, vol({ o: 'size=1m' }), T, 'volume_options', true],
    ['device without type', VC, vol({ device: '/dev/sda1' }), T, 'volume_options', true],
    ['an unknown key', VC, vol({ type: 'tmpfs', device: 'tmpfs', size: '1g' }), T, 'volume_options', true],
    ['another unknown key', VC, vol({ foo: 'bar' }), T, 'volume_options', true],
    ['a plugin driver stays volume_driver', VC, vol({ sshcmd: 'x@h:/' }, 'sshfs'), T, 'volume_driver', true],
    ['a plugin driver: its options are its own', VC, vol({ sshcmd: 'x@h:/' }, 'sshfs'), T, 'volume_options', false],
  ]);
});

t.test('inline mounts: DriverConfig in HostConfig, legacy top level, legacy start, update', async (t) => {
  const C = '/containers/create';
  check(t, [
    ['HostConfig mount, overlay', 'container-create', { Image: 'b', HostConfig: { Mounts: [mount(OVERLAY)] } }, C, 'volume_options', true],
    ['top-level (legacy) mount, overlay', 'container-create', { Image: 'b', Mounts: [mount(OVERLAY)] }, C, 'volume_options', true],
    ['legacy start body, type=proc', 'container-start', { Mounts: [mount({ type: 'proc', device: 'proc' })] }, '/v1.23/containers/c/start', 'volume_options', true],
    ['update body, overlay', 'container-update', { Mounts: [mount(OVERLAY)] }, '/containers/c/update', 'volume_options', true],
    ['mount Type omitted, type=proc', 'container-create', { HostConfig: { Mounts: [{ Source: 'v', Target: '/v', VolumeOptions: { DriverConfig: { Options: { type: 'proc', device: 'proc' } } } }] } }, C, 'volume_options', true],
    ['mount, key TYPE upper case', 'container-create', { HostConfig: { Mounts: [mount({ TYPE: 'overlay', device: 'overlay', o: 'lowerdir=/' })] } }, C, 'volume_options', true],
    ['mount, tmpfs with size and uid', 'container-create', { HostConfig: { Mounts: [mount(TMPFS)] } }, C, 'volume_options', false],
    ['mount, no VolumeOptions', 'container-create', { HostConfig: { Mounts: [{ Type: 'volume', Source: 'v', Target: '/v' }] } }, C, 'volume_options', false],
    ['mount, plugin driver', 'container-create', { HostConfig: { Mounts: [mount({ sshcmd: 'x' }, 'sshfs')] } }, C, 'volume_driver', true],
    ['mount, plugin driver: not judged as local', 'container-create', { HostConfig: { Mounts: [mount({ sshcmd: 'x' }, 'sshfs')] } }, C, 'volume_options', false],
    ['service mount, overlay', 'service-spec', { TaskTemplate: { ContainerSpec: { Mounts: [mount(OVERLAY)] } } }, '/services/create', 'volume_options', true],
  ]);
});

t.test('tmpfs: HostConfig.Tmpfs strings and TmpfsOptions are allowlists', async (t) => {
  const CC = 'container-create' as const;
  const C = '/containers/create';
  const tmpfs = (opts: string) => ({ Image: 'b', HostConfig: { Tmpfs: { '/run': opts } } });
  const tm = (TmpfsOptions: unknown) => ({ Image: 'b', HostConfig: { Mounts: [{ Type: 'tmpfs', Target: '/t', TmpfsOptions }] } });
  check(t, [
    ['Tmpfs with the usual options', CC, tmpfs('rw,noexec,nosuid,size=65536k'), C, 'volume_options', false],
    ['Tmpfs with no options', CC, tmpfs(''), C, 'volume_options', false],
    ['Tmpfs with every allowed option', CC, tmpfs('size=64m,mode=1777,uid=1000,gid=1000,nr_inodes=1k,ro,exec,suid,nodev'), C, 'volume_options', false],
    ['Tmpfs with dev', CC, tmpfs('rw,dev'), C, 'volume_options', true],
    ['Tmpfs with an unknown option', CC, tmpfs('size=1m,mpol=default'), C, 'volume_options', true],
    ['Tmpfs with bind', CC, tmpfs('bind'), C, 'volume_options', true],
    ['Tmpfs with rshared', CC, tmpfs('size=1m,rshared'), C, 'volume_options', true],
    ['Tmpfs with a mode that is not octal', CC, tmpfs('mode=rwx'), C, 'volume_options', true],
    ['legacy top-level Tmpfs', CC, { Image: 'b', Tmpfs: { '/run': 'dev' } }, C, 'volume_options', true],
    ['legacy start Tmpfs', 'container-start', { Tmpfs: { '/run': 'dev' } }, '/v1.23/containers/c/start', 'volume_options', true],
    ['tmpfs mount without options', CC, { Image: 'b', HostConfig: { Mounts: [{ Type: 'tmpfs', Target: '/t' }] } }, C, 'volume_options', false],
    ['tmpfs mount, SizeBytes and Mode', CC, tm({ SizeBytes: 1048576, Mode: 1016 }), C, 'volume_options', false],
    ['tmpfs mount, sizebytes in lower case', CC, tm({ sizebytes: 1048576 }), C, 'volume_options', false],
    ['tmpfs mount, Options null', CC, tm({ SizeBytes: 1, Options: null }), C, 'volume_options', false],
    ['tmpfs mount, Options', CC, tm({ SizeBytes: 1, Options: [['exec']] }), C, 'volume_options', true],
    ['tmpfs mount, an unknown field', CC, tm({ Mode: 448, Flags: 'dev' }), C, 'volume_options', true],
  ]);
});

t.test('SecurityOpt: only no-new-privileges is benign; labels in any form are findings', async (t) => {
  const so = (...opts: string[]) => ({ Image: 'b', HostConfig: { SecurityOpt: opts } });
  const CC = 'container-create' as const;
  const C = '/containers/create';
  const rows: Row[] = [];
  for (const o of ['no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=true']) rows.push([o, CC, so(o), C, 'security_opt', false]);
  for (const o of [
    'label=type:container_runtime_t',
    'label:type:spc_t',
    'label=disable',
    'label:disable',
    'label=user:system_u',
    'label=role:system_r',
    'label=level:s0:c100,c200',
    'apparmor=unconfined',
    'apparmor:unconfined',
    'seccomp=unconfined',
    'seccomp:unconfined',
    'seccomp={"defaultAction":"SCMP_ACT_ALLOW"}',
    'systempaths=unconfined',
    'no-new-privileges:false',
    'no-new-privileges=false',
  ]) {
    rows.push([o, CC, so(o), C, 'security_opt', true]);
  }
  rows.push(['legacy top-level label', CC, { Image: 'b', SecurityOpt: ['label=disable'] }, C, 'security_opt', true]);
  rows.push(['legacy start label', 'container-start', { SecurityOpt: ['label=type:spc_t'] }, '/v1.23/containers/c/start', 'security_opt', true]);
  rows.push(['service SELinux type', 'service-spec', { TaskTemplate: { ContainerSpec: { Privileges: { SELinuxContext: { Type: 'spc_t' } } } } }, '/services/create', 'security_opt', true]);
  rows.push(['service without privileges', 'service-spec', { TaskTemplate: { ContainerSpec: { Image: 'b' } } }, '/services/create', 'security_opt', false]);
  check(t, rows);
  t.match(find(CC, so('seccomp=unconfined'), C)[0]?.detail, 'security option seccomp=unconfined');
});

t.test('oom and pids_limit: create, legacy start and update', async (t) => {
  const hc = (f: Record<string, unknown>) => ({ Image: 'b', HostConfig: f });
  const CC = 'container-create' as const;
  const C = '/containers/create';
  const U = '/containers/c/update';
  check(t, [
    ['OomScoreAdj 0', CC, hc({ OomScoreAdj: 0 }), C, 'oom', false],
    ['OomScoreAdj 500', CC, hc({ OomScoreAdj: 500 }), C, 'oom', false],
    ['OomScoreAdj absent', CC, hc({}), C, 'oom', false],
    ['OomScoreAdj -1', CC, hc({ OomScoreAdj: -1 }), C, 'oom', true],
    ['OomScoreAdj -1000', CC, hc({ OomScoreAdj: -1000 }), C, 'oom', true],
    ['OomKillDisable false', CC, hc({ OomKillDisable: false }), C, 'oom', false],
    ['OomKillDisable true', CC, hc({ OomKillDisable: true }), C, 'oom', true],
    ['legacy top-level OomScoreAdj -5', CC, { Image: 'b', OomScoreAdj: -5 }, C, 'oom', true],
    ['legacy start OomKillDisable', 'container-start', { OomKillDisable: true }, '/v1.23/containers/c/start', 'oom', true],
    ['update OomKillDisable', 'container-update', { OomKillDisable: true }, U, 'oom', true],
    ['update OomKillDisable null', 'container-update', { OomKillDisable: null }, U, 'oom', false],
    ['PidsLimit 100', CC, hc({ PidsLimit: 100 }), C, 'pids_limit', false],
    ['PidsLimit null', CC, hc({ PidsLimit: null }), C, 'pids_limit', false],
    ['PidsLimit absent', CC, hc({}), C, 'pids_limit', false],
    // the docker CLI sends PidsLimit 0 with every create that has no --pids-limit; dockerd reads it as unset
    ['PidsLimit 0 on create (the CLI default)', CC, hc({ PidsLimit: 0 }), C, 'pids_limit', false],
    ['PidsLimit -1 on create', CC, hc({ PidsLimit: -1 }), C, 'pids_limit', true],
    ['legacy top-level PidsLimit -1', CC, { Image: 'b', PidsLimit: -1 }, C, 'pids_limit', true],
    ['legacy start PidsLimit -1', 'container-start', { PidsLimit: -1 }, '/v1.23/containers/c/start', 'pids_limit', true],
    ['update PidsLimit 100', 'container-update', { PidsLimit: 100 }, U, 'pids_limit', false],
    ['update PidsLimit null (unchanged)', 'container-update', { Memory: 1, PidsLimit: null }, U, 'pids_limit', false],
    ['update PidsLimit 0 (lifts the limit)', 'container-update', { PidsLimit: 0 }, U, 'pids_limit', true],
    ['update PidsLimit -1', 'container-update', { PidsLimit: -1 }, U, 'pids_limit', true],
  ]);
  // what the docker CLI sends for a plain `docker create busybox true`: nothing to find
  const cli = {
    Image: 'busybox',
    HostConfig: { VolumeDriver: '', OomScoreAdj: 0, SecurityOpt: null, OomKillDisable: false, PidsLimit: 0, Binds: null, MaskedPaths: null, ReadonlyPaths: null },
  };
  t.same(find(CC, cli, C), [], 'a plain docker CLI create body has no findings');
});

t.test('daemon_fetch: build remote, image import URL, pulls from private registries, plugin pulls', async (t) => {
  const D = 'daemon_fetch' as const;
  const B = 'build-query' as const;
  const I = 'image-create' as const;
  const P = 'plugin-privileges' as const;
  const rows: Row[] = [
    ['build, no remote', B, undefined, '/build?t=x', D, false],
    ['build, empty remote', B, undefined, '/build?remote=&t=x', D, false],
    ['build, git remote', B, undefined, '/build?remote=https://github.com/x/y.git', D, true],
    ['build, tarball remote', B, undefined, '/v1.41/build?remote=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data', D, true],
    ['build, remote twice, first empty', B, undefined, '/build?remote=&remote=http://10.0.0.1/', D, true],
    ['import from the body (fromSrc=-)', I, undefined, '/images/create?fromSrc=-&repo=x&tag=1', D, false],
    ['import from a URL', I, undefined, '/images/create?fromSrc=http://169.254.169.254/latest/&repo=x', D, true],
    ['import from a public URL (still a daemon fetch)', I, undefined, '/images/create?fromSrc=https://example.com/rootfs.tar', D, true],
    ['import from a bare host', I, undefined, '/images/create?fromSrc=10.0.0.1:8080', D, true],
  ];
  for (const ref of [
    'busybox',
    'busybox:1.36',
    'library/busybox',
    'docker.io/library/busybox:latest',
    'ghcr.io/org/img@sha256:0000000000000000000000000000000000000000000000000000000000000000',
    'registry.example.com:5000/team/img:1',
    '8.8.8.8:5000/x',
    '172.32.0.1/x',
    '[2001:4860:4860::8888]:5000/x',
    'localhost',
  ]) {
    rows.push([`pull ${ref}`, I, undefined, `/images/create?fromImage=${encodeURIComponent(ref)}`, D, false]);
  }
  for (const ref of [
    '127.0.0.1:5000/x',
    '127.0.0.1/x',
    'localhost/x',
    'localhost:5000/x:1',
    'LOCALHOST/x',
    'localhost./x',
    'registry.localhost/x',
    '[::1]:5000/x',
    '[::1]/x',
    '0.0.0.0:5000/x',
    '10.1.2.3/x',
    '172.16.0.1/x',
    '172.31.255.255:443/x',
    '192.168.1.10:5000/team/x',
    '169.254.169.254/latest',
    '127.1:5000/x',
    '0x7f000001:5000/x',
    '2130706433:5000/x',
    '[fe80::1]/x',
    '[fd00::1]:5000/x',
    '[::ffff:127.0.0.1]/x',
    '[::ffff:a9fe:a9fe]/x',
    'registry:5000/x',
    'host.docker.internal:5000/x',
  ]) {
    rows.push([`pull ${ref}`, I, undefined, `/images/create?fromImage=${encodeURIComponent(ref)}`, D, true]);
  }
  rows.push(
    ['plugin pull without remote', P, [], '/plugins/pull', D, false],
    ['plugin pull', P, [], '/plugins/pull?remote=vieux/sshfs&name=sshfs', D, true],
    ['plugin pull with privileges', P, [{ Name: 'network', Value: ['host'] }], '/plugins/pull?remote=vieux/sshfs', D, true],
    ['plugin pull with privileges (still granted)', P, [{ Name: 'network', Value: ['host'] }], '/plugins/pull?remote=vieux/sshfs', 'plugin_privileges', true],
    ['plugin upgrade', P, [], '/plugins/p/upgrade?remote=127.0.0.1:5000/p', D, true],
  );
  check(t, rows);

  const long = `https://example.com/${'a'.repeat(500)}`;
  const d = find(B, undefined, `/build?remote=${encodeURIComponent(long)}`)[0];
  t.match(d.detail, 'https://example.com/aaa', 'the detail shows the URL');
  t.ok(d.detail.length < 320, `the URL is clipped (${d.detail.length} characters)`);
  const nl = find(I, undefined, '/images/create?fromSrc=http://x/%0Aapproved%20by%20ops')[0];
  t.notMatch(nl.detail, /\n/, 'control characters are escaped in the detail');
  t.match(find(I, undefined, '/images/create?fromImage=127.0.0.1:5000/x')[0]?.detail, '127.0.0.1:5000/x');
  t.equal(privateHostProblem('registry.example.com'), undefined);
  t.type(privateHostProblem('[::1]:5000'), 'string');
});

t.test('decide: daemon_fetch and volume_options deny by default; a per-worker policy turns daemon_fetch into approve', async (t) => {
  const none = EMPTY_POLICY.forWorker('w1');
  const approve = parsePolicy('workers:\n  w1:\n    escalations: { daemon_fetch: approve }\n').forWorker('w1');
  const run = (method: string, target: string, policy: typeof none, body?: unknown) =>
    decide({
      method,
      target: normalizeTarget(target),
      worker: 'w1',
      body: body === undefined ? undefined : parseGoJson(JSON.stringify(body)),
      policy,
    });
  const fetches: Array<[string, string, unknown]> = [
    ['POST', '/v1.47/images/create?fromImage=127.0.0.1%3A5000%2Fx&tag=latest', undefined],
    ['POST', '/images/create?fromSrc=http%3A%2F%2F10.0.0.1%2Fx.tar&repo=x', undefined],
    ['POST', '/build?remote=https%3A%2F%2Fexample.com%2Fctx.tar&t=x', undefined],
    ['POST', '/plugins/pull?remote=vieux%2Fsshfs', []],
  ];
  for (const [m, target, body] of fetches) {
    const r = run(m, target, none, body);
    t.equal(r.action, 'deny', `${target}: deny by default`);
    t.ok(r.escalations.some((e) => e.kind === 'daemon_fetch'), `${target}: daemon_fetch`);
    t.match(r.reasons.join(' '), 'daemon_fetch: deny');
    t.equal(run(m, target, approve, body).action, 'approve', `${target}: approve under the policy`);
  }
  t.equal(run('POST', '/images/create?fromImage=busybox&tag=latest', none).action, 'allow', 'a Docker Hub pull is allowed');
  t.equal(run('POST', '/images/create?fromSrc=-&repo=x', none).action, 'allow', 'an import from the body is allowed');
  t.equal(run('POST', '/build?t=x', none).action, 'allow', 'a build of the sent context is allowed');

  const overlay = { Name: 'v', DriverOpts: OVERLAY };
  t.equal(run('POST', '/volumes/create', none, overlay).action, 'deny', 'overlay volume: deny');
  t.equal(run('POST', '/volumes/create', approve, overlay).action, 'deny', 'the daemon_fetch policy does not cover volume_options');
  t.equal(run('POST', '/volumes/create', none, { Name: 'v', Driver: 'local', DriverOpts: TMPFS }).action, 'allow', 'a tmpfs volume is allowed');
  t.equal(run('POST', '/containers/create', none, { Image: 'b', HostConfig: { Tmpfs: { '/run': 'rw,noexec,nosuid,size=65536k' } } }).action, 'allow');
  t.equal(run('POST', '/containers/create', none, { Image: 'b', HostConfig: { OomScoreAdj: -500 } }).action, 'deny');
  t.equal(run('POST', '/containers/c/update', none, { PidsLimit: -1 }).action, 'deny');
  t.equal(run('POST', '/containers/create', none, { Image: 'b', HostConfig: { SecurityOpt: ['label=type:spc_t'] } }).action, 'deny');
});

t.test('registries dockerd connects to for the worker: distribution inspect, search, push, login', async (t) => {
  const rows: Array<[string, string, object | undefined, boolean]> = [
    ['GET', '/distribution/127.0.0.1:5000/x/json', undefined, true],
    ['GET', '/distribution/busybox/json', undefined, false],
    ['GET', '/images/search?term=localhost:5000/x', undefined, true],
    ['GET', '/images/search?term=busybox', undefined, false],
    ['POST', '/images/10.0.0.1:5000/app/push', undefined, true],
    ['POST', '/images/registry.example.com/app/push', undefined, false],
    ['POST', '/auth', { ServerAddress: 'http://127.0.0.1:5000/v2/' }, true],
    ['POST', '/auth', { serveraddress: '[::1]:5000' }, true],
    ['POST', '/auth', { ServerAddress: 'https://index.docker.io/v1/' }, false],
  ];
  for (const [method, path, body, fires] of rows) {
    const r = decide({
      method,
      target: normalizeTarget(path),
      worker: 'w1',
      body: body ? parseGoJson(JSON.stringify(body)) : undefined,
      policy: EMPTY_POLICY.forWorker('w1'),
    });
    t.equal(r.escalations.some((e) => e.kind === 'daemon_fetch'), fires, `${method} ${path} ${JSON.stringify(body ?? '')}`);
    if (fires) t.equal(r.action, 'deny');
  }
});

t.test('log drivers that ship output and bridge options that take over interfaces', async (t) => {
  const create = (hc: object) => findEscalations('container-create', parseGoJson(JSON.stringify({ Image: 'x', HostConfig: hc })), normalizeTarget('/containers/create'), { allowlist: [], extraSensitive: [] });
  for (const [type, fires] of [['json-file', false], ['local', false], ['none', false], ['', false], ['syslog', true], ['gelf', true], ['Fluentd', true], ['splunk', true]] as const) {
    const e = create({ LogConfig: { Type: type, Config: { 'syslog-address': 'tcp://127.0.0.1:514' } } });
    t.equal(e.some((x) => x.kind === 'daemon_fetch'), fires, `log driver ${type || '(default)'}`);
  }
  const net = (opts: Record<string, string>) => findEscalations('network-create', parseGoJson(JSON.stringify({ Name: 'n', Driver: 'bridge', Options: opts })), normalizeTarget('/networks/create'), { allowlist: [], extraSensitive: [] });
  t.same(net({}), [], 'no options');
  t.same(net({ 'com.docker.network.driver.mtu': '1400', 'com.docker.network.bridge.enable_icc': 'false' }), [], 'mtu and icc');
  t.equal(net({ 'com.docker.network.bridge.name': 'docker0' })[0]?.kind, 'network_driver', 'taking over a bridge');
  t.equal(net({ 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0' })[0]?.kind, 'network_driver');
});
