// Table-driven tests of the one policy decision, over versioned, unversioned, percent-encoded and malformed paths.
import t from 'tap';
import { decide } from '../../core/policy/decide.js';
import { DOCKER_RULES } from '../../core/policy/docker-rules.js';
import { parseGoJson } from '../../core/policy/go-json.js';
import { normalizeTarget } from '../../core/policy/normalize.js';
import { EMPTY_POLICY, parsePolicy } from '../../core/policy/policy-file.js';

const P = EMPTY_POLICY.forWorker('w1');

function d(method: string, target: string, body?: string, policy = P, extra: Partial<Parameters<typeof decide>[0]> = {}) {
  return decide({ method, target: normalizeTarget(target), worker: 'w1', body: body ? parseGoJson(body) : undefined, policy, ...extra });
}

const routing: Array<[string, string, string, string]> = [
  // method, target, expected rule, expected action
  ['GET', '/_ping', 'SystemPing', 'allow'],
  ['HEAD', '/_ping', 'SystemPingHead', 'allow'],
  ['GET', '/v1.41/containers/json', 'ContainerList', 'allow'],
  ['GET', '/v1.47/containers/json?all=1', 'ContainerList', 'allow'],
  ['GET', 'http://docker/v1.41/containers/json', 'ContainerList', 'allow'],
  ['GET', '/containers/web/json', 'ContainerInspect', 'allow'],
  ['DELETE', '/containers/web', 'ContainerDelete', 'approve'],
  ['DELETE', '/v1.41/containers/web?force=1', 'ContainerDelete', 'approve'],
  ['DELETE', '/v1.41/contain%65rs/web', 'ContainerDelete', 'approve'],
  ['DELETE', '/v1.41%2Fcontainers%2Fweb', 'ContainerDelete', 'approve'],
  ['POST', '/containers/web/kill', 'ContainerKill', 'approve'],
  ['POST', '/containers/web/stop', 'ContainerStop', 'approve'],
  ['POST', '/containers/web/restart', 'ContainerRestart', 'approve'],
  ['POST', '/containers/web/pause', 'ContainerPause', 'approve'],
  ['POST', '/containers/web/unpause', 'ContainerUnpause', 'allow'],
  ['POST', '/containers/web/rename?name=x', 'ContainerRename', 'approve'],
  ['POST', '/containers/web/update', 'ContainerUpdate', 'approve'],
  ['POST', '/containers/web/exec', 'ContainerExec', 'approve'],
  ['POST', '/exec/abc/start', 'ExecStart', 'allow'],
  ['GET', '/containers/web/archive?path=/etc', 'ContainerArchive', 'approve'],
  ['HEAD', '/containers/web/archive?path=/etc', 'ContainerArchiveInfo', 'allow'],
  ['PUT', '/containers/web/archive?path=/', 'PutContainerArchive', 'approve'],
  ['GET', '/containers/web/export', 'ContainerExport', 'approve'],
  ['GET', '/containers/web/attach/ws', 'ContainerAttachWebsocket', 'allow'],
  ['POST', '/containers/prune', 'ContainerPrune', 'approve'],
  ['POST', '/images/prune', 'ImagePrune', 'approve'],
  ['POST', '/volumes/prune', 'VolumePrune', 'approve'],
  ['POST', '/networks/prune', 'NetworkPrune', 'approve'],
  ['POST', '/build/prune', 'BuildPrune', 'approve'],
  ['DELETE', '/images/wingman-test/busybox:latest', 'ImageDelete', 'approve'],
  ['GET', '/images/wingman-test/busybox:latest/json', 'ImageInspect', 'allow'],
  ['DELETE', '/volumes/data', 'VolumeDelete', 'approve'],
  ['DELETE', '/networks/n1', 'NetworkDelete', 'approve'],
  ['POST', '/swarm/init', 'SwarmInit', 'approve'],
  ['POST', '/swarm/leave', 'SwarmLeave', 'approve'],
  ['POST', '/services/create', 'ServiceCreate', 'approve'],
  ['POST', '/services/s1/update', 'ServiceUpdate', 'approve'],
  ['DELETE', '/services/s1', 'ServiceDelete', 'approve'],
  ['POST', '/secrets/create', 'SecretCreate', 'approve'],
  ['POST', '/configs/create', 'ConfigCreate', 'approve'],
  ['POST', '/nodes/n1/update', 'NodeUpdate', 'approve'],
  ['POST', '/plugins/pull', 'PluginPull', 'approve'],
  ['POST', '/plugins/p/enable', 'PluginEnable', 'approve'],
  ['POST', '/session', 'Session', 'deny'],
  ['POST', '/grpc', 'Grpc', 'deny'],
  ['GET', '/debug/pprof/heap', 'Debug', 'deny'],
  ['GET', '/v1.41/debug/vars', 'Debug', 'deny'],
  ['POST', '/containers/create', 'ContainerCreate', 'allow'],
  ['POST', '/build', 'ImageBuild', 'allow'],
  ['GET', '/events', 'SystemEvents', 'allow'],
  ['GET', '/no/such/endpoint', 'Unknown', 'approve'],
  ['PATCH', '/containers/web', 'Unknown', 'approve'],
  ['GET', '/containers/json/', 'Unknown', 'approve'],
  ['GET', '/v1.41/v1.41/containers/json', 'Unknown', 'approve'],
];

t.test('routing table', async (t) => {
  for (const [method, target, rule, action] of routing) {
    const r = d(method, target);
    t.equal(r.rule.id, rule, `${method} ${target} → ${rule}`);
    t.equal(r.action, action, `${method} ${target} → ${action}`);
  }
});

t.test('malformed targets are refused before any rule', async (t) => {
  for (const target of [
    '/containers/../containers/web',
    '/v1.41/containers/./web',
    '/containers//web',
    '/v1.41/containers/%2E%2E/x',
    '/containers/%2F/json',
    '/containers/web%',
    '/containers/web%zz',
    '/containers/%ff/json',
    '/containers/a%00b',
    'containers/json',
    '%2Fv1.41%2Fcontainers%2Fweb',
    '*',
    '/containers/json#x',
    '/containers/json?a=1;b=2',
  ]) {
    t.throws(() => normalizeTarget(target), { code: 'WGM_ERR_PROXY_BAD_PATH' }, target);
  }
});

t.test('percent-decoding matches dockerd: %2F splits segments, names with slashes are images', async (t) => {
  t.same(normalizeTarget('/v1.41/images/wingman-test%2Fbusybox/json').path, '/images/wingman-test/busybox/json');
  t.equal(d('GET', '/images/a%2Fb/json').params.name, 'a/b');
  t.same(normalizeTarget('/containers/json?filters=%7B%22a%22%3A1%7D&all=1+2').query, [
    ['filters', '{"a":1}'],
    ['all', '1 2'],
  ]);
});

t.test('every rule in the table is reachable by its own template', async (t) => {
  for (const r of DOCKER_RULES) {
    const path = r.path.replace(/\{[^}]+\}/g, 'x1');
    const m = r.method === '*' ? 'GET' : r.method;
    t.equal(d(m, path).rule.id, r.id, `${m} ${path}`);
  }
});

const escalations: Array<[string, string, string]> = [
  // body, expected action, expected reason fragment
  ['{"Image":"b"}', 'allow', ''],
  ['{"Image":"b","HostConfig":{"Privileged":true}}', 'deny', 'privileged'],
  ['{"Image":"b","hostconfig":{"privileged":true}}', 'deny', 'privileged'],
  ['{"Image":"b","HostConfig":{"Privileged":true},"HostConfig":{"Memory":1}}', 'deny', 'privileged'],
  ['{"Image":"b","HostConfig":{"Privileged":false,"privileged":true}}', 'deny', 'privileged'],
  ['{"Image":"b","HostConfig":{"Priv\\u0069leged":true}}', 'deny', 'privileged'],
  ['{"Image":"b","Privileged":true}', 'deny', 'privileged'],
  ['{"Image":"b","HostConfig":{"CapAdd":["SYS_ADMIN"]}}', 'deny', 'cap_add'],
  ['{"Image":"b","HostConfig":{"Devices":[{"PathOnHost":"/dev/sda"}]}}', 'deny', 'devices'],
  ['{"Image":"b","HostConfig":{"DeviceRequests":[{"Count":-1}]}}', 'deny', 'devices'],
  ['{"Image":"b","HostConfig":{"PidMode":"host"}}', 'deny', 'host_namespace'],
  ['{"Image":"b","HostConfig":{"NetworkMode":"host"}}', 'deny', 'host_namespace'],
  ['{"Image":"b","HostConfig":{"NetworkMode":"container:abc"}}', 'deny', 'host_namespace'],
  ['{"Image":"b","HostConfig":{"IpcMode":"host"}}', 'deny', 'host_namespace'],
  ['{"Image":"b","HostConfig":{"UTSMode":"host"}}', 'deny', 'host_namespace'],
  ['{"Image":"b","HostConfig":{"UsernsMode":"host"}}', 'deny', 'host_namespace'],
  ['{"Image":"b","HostConfig":{"CgroupnsMode":"host"}}', 'deny', 'host_namespace'],
  ['{"Image":"b","HostConfig":{"SecurityOpt":["seccomp=unconfined"]}}', 'deny', 'security_opt'],
  ['{"Image":"b","HostConfig":{"SecurityOpt":["apparmor:unconfined"]}}', 'deny', 'security_opt'],
  ['{"Image":"b","HostConfig":{"SecurityOpt":["label=disable"]}}', 'deny', 'security_opt'],
  ['{"Image":"b","HostConfig":{"SecurityOpt":["no-new-privileges"]}}', 'allow', ''],
  ['{"Image":"b","HostConfig":{"MaskedPaths":[]}}', 'deny', 'masked_paths'],
  ['{"Image":"b","HostConfig":{"ReadonlyPaths":[]}}', 'deny', 'masked_paths'],
  ['{"Image":"b","HostConfig":{"Sysctls":{"net.ipv4.ip_forward":"1"}}}', 'deny', 'sysctls'],
  ['{"Image":"b","HostConfig":{"CgroupParent":"/"}}', 'deny', 'cgroup_parent'],
  ['{"Image":"b","HostConfig":{"Runtime":"nvidia"}}', 'deny', 'runtime'],
  ['{"Image":"b","HostConfig":{"VolumesFrom":["other"]}}', 'deny', 'volumes_from'],
  ['{"Image":"b","HostConfig":{"Binds":["/:/host"]}}', 'deny', 'host_bind'],
  ['{"Image":"b","HostConfig":{"Binds":["/etc/shadow:/x:ro"]}}', 'deny', 'host_bind'],
  ['{"Image":"b","HostConfig":{"Binds":["/var/run/docker.sock:/var/run/docker.sock"]}}', 'deny', 'host_bind'],
  ['{"Image":"b","HostConfig":{"Binds":["/var/run:/r"]}}', 'deny', 'host_bind'],
  ['{"Image":"b","HostConfig":{"Binds":["/tmp/../etc:/x"]}}', 'deny', 'host_bind'],
  ['{"Image":"b","HostConfig":{"Binds":["/srv/work/w1:/w"]}}', 'deny', 'not in the bind allowlist'],
  ['{"Image":"b","HostConfig":{"Binds":["named:/data"]}}', 'allow', ''],
  ['{"Image":"b","HostConfig":{"Mounts":[{"Type":"bind","Source":"/","Target":"/h"}]}}', 'deny', 'host_bind'],
  ['{"Image":"b","HostConfig":{"Mounts":[{"Type":"BIND","Source":"/proc","Target":"/h"}]}}', 'deny', 'host_bind'],
  [
    '{"Image":"b","HostConfig":{"Mounts":[{"Type":"volume","Source":"v","Target":"/h","VolumeOptions":{"DriverConfig":{"Name":"local","Options":{"type":"none","o":"bind","device":"/"}}}}]}}',
    'deny',
    'host_bind',
  ],
  ['{"Image":"b","HostConfig":{"Mounts":[{"Type":"tmpfs","Target":"/t"}]}}', 'allow', ''],
  ['{"Image":"b","HostConfig":{"Binds":[]},"HostConfig":{"Binds":["/:/h"]}}', 'deny', 'host_bind'],
  ['{"Image":"b","NetworkingConfig":{"EndpointsConfig":{"host":{}}}}', 'deny', 'host_namespace'],
  ['{"Image":"b","NetworkingConfig":{"EndpointsConfig":{"mynet":{}}}}', 'allow', ''],
];

t.test('container create escalations (Go decoding: case, duplicates, escapes, legacy top-level)', async (t) => {
  for (const [body, action, why] of escalations) {
    const r = d('POST', '/v1.41/containers/create', body);
    t.equal(r.action, action, body);
    if (why) t.match(r.reasons.join(' '), why, body);
  }
});

t.test('non-ASCII field names are refused (Go folds ſ to s and K to k)', async (t) => {
  for (const body of ['{"Image":"b","HostConfig":{"Privileged":true,"Privileged":false}}'.replace('leged":false', 'leged":false'), '{"HostConfig":{"Capſdd":["ALL"]}}', '{"HostConfig":{"\u212Aey":1}}']) {
    if (/[^\x00-\x7f]/.test(body)) t.throws(() => parseGoJson(body), { code: 'WGM_ERR_PROXY_BAD_BODY' }, body);
  }
  t.throws(() => parseGoJson('{"HostConfig":{"Privileged":true}} trailing'), { code: 'WGM_ERR_PROXY_BAD_BODY' });
  t.throws(() => parseGoJson(Buffer.from([0x7b, 0xff, 0x7d])), { code: 'WGM_ERR_PROXY_BAD_BODY' });
  t.throws(() => parseGoJson('['.repeat(100) + ']'.repeat(100)), { code: 'WGM_ERR_PROXY_BAD_BODY' });
});

t.test('other inspected writes', async (t) => {
  const rows: Array<[string, string, string, string]> = [
    ['POST', '/containers/web/exec', '{"Cmd":["sh"],"Privileged":true}', 'deny'],
    ['POST', '/containers/web/exec', '{"Cmd":["sh"]}', 'approve'],
    ['POST', '/containers/web/update', '{"Devices":[{"PathOnHost":"/dev/mem"}]}', 'deny'],
    ['POST', '/containers/web/update', '{"Memory":1000000}', 'approve'],
    ['POST', '/v1.23/containers/web/start', '{"Privileged":true}', 'deny'],
    ['POST', '/v1.23/containers/web/start', '{"Binds":["/:/h"]}', 'deny'],
    ['POST', '/containers/web/start', '{}', 'allow'],
    ['POST', '/volumes/create', '{"Name":"v","DriverOpts":{"type":"none","o":"bind","device":"/etc"}}', 'deny'],
    ['POST', '/volumes/create', '{"Name":"v","DriverOpts":{"o":"rbind,ro","device":"/"}}', 'deny'],
    ['POST', '/volumes/create', '{"Name":"v","Driver":"sshfs"}', 'deny'],
    ['POST', '/volumes/create', '{"Name":"v"}', 'allow'],
    ['POST', '/networks/create', '{"Name":"n","Driver":"macvlan"}', 'deny'],
    ['POST', '/networks/create', '{"Name":"n","Driver":"bridge"}', 'allow'],
    ['POST', '/plugins/pull?remote=x', '[{"Name":"network","Value":["host"]}]', 'deny'],
    ['POST', '/services/create', '{"TaskTemplate":{"ContainerSpec":{"Mounts":[{"Type":"bind","Source":"/"}]}}}', 'deny'],
    ['POST', '/services/create', '{"TaskTemplate":{"ContainerSpec":{"Image":"b"}}}', 'approve'],
    ['POST', '/build?networkmode=host', '', 'deny'],
    ['POST', '/build?cgroupparent=x', '', 'deny'],
    ['POST', '/build?t=x', '', 'allow'],
  ];
  for (const [m, target, body, action] of rows) t.equal(d(m, target, body || undefined).action, action, `${m} ${target} ${body}`);
});

t.test('per-worker policy file overrides', async (t) => {
  const file = parsePolicy(`
workers:
  "*":
    rules: { ContainerStop: allow }
  w1:
    rules: { ContainerDelete: deny }
    escalations: { host_bind: approve }
    bind_allowlist: [/srv/work/w1]
`);
  const p = file.forWorker('w1');
  t.equal(d('POST', '/containers/x/stop', undefined, p).action, 'allow', '* applies');
  t.equal(d('DELETE', '/containers/x', undefined, p).action, 'deny');
  t.equal(d('POST', '/containers/create', '{"HostConfig":{"Binds":["/srv/work/w1/src:/src"]}}', p).action, 'allow', 'allowlisted');
  t.equal(d('POST', '/containers/create', '{"HostConfig":{"Binds":["/:/h"]}}', p).action, 'approve', 'deny turned into approve');
  t.equal(d('POST', '/containers/create', '{"HostConfig":{"Privileged":true}}', p).action, 'deny', 'other kinds still deny');
  t.equal(d('POST', '/session', undefined, p).action, 'deny');
  t.throws(() => parsePolicy('workers: { w1: { rules: { Session: allow } } }'), { code: 'WGM_ERR_CONFIG_POLICY_FILE' });
  t.throws(() => parsePolicy('workers: { w1: { rules: { NoSuchRule: allow } } }'), { code: 'WGM_ERR_CONFIG_POLICY_FILE' });
  t.throws(() => parsePolicy('workers: { w1: { escalations: { privileged: allow } } }'), { code: 'WGM_ERR_CONFIG_POLICY_FILE' });
  t.throws(() => parsePolicy('workers: [1'), { code: 'WGM_ERR_CONFIG_POLICY_FILE' });
  t.throws(() => parsePolicy('extra: 1'), { code: 'WGM_ERR_CONFIG_POLICY_FILE' });
});

t.test('lockdown refuses writes, not reads; summaries read well', async (t) => {
  const lock = { locked: true, reason: 'lied about dist/app.js' };
  t.equal(d('GET', '/containers/json', undefined, P, { lockdown: lock }).action, 'allow');
  const r = d('POST', '/containers/create', '{"Image":"b"}', P, { lockdown: lock });
  t.equal(r.action, 'deny');
  t.match(r.reasons[0], 'worker w1 is locked down (lied about dist/app.js)');
  t.equal(d('GET', '/containers/x/attach/ws', undefined, P, { lockdown: lock }).action, 'deny', 'attach/ws is a write');
  t.equal(d('DELETE', '/containers/web?force=1&v=1').summary, 'remove container web (force, with volumes)');
  t.equal(d('POST', '/containers/web/kill?signal=KILL').summary, 'kill container web (signal KILL)');
});
