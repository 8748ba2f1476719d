// Find privilege escalations in the (canonical) body of a Docker write. Pure: host facts it needs (real paths of
// bind sources, options of existing named volumes) are looked up by the caller and passed in.
import path from 'node:path';
import { GoNumber, field, fieldPath, isObj, type JVal } from './go-json.js';
import type { Inspect } from './docker-rules.js';
import { queryGet, type NormalizedTarget } from './normalize.js';

export const ESCALATION_KINDS = [
  'privileged',
  'cap_add',
  'devices',
  'host_namespace',
  'security_opt',
  'masked_paths',
  'sysctls',
  'cgroup_parent',
  'runtime',
  'volumes_from',
  'host_bind',
  'volume_driver',
  'network_driver',
  'plugin_privileges',
  'build_network',
] as const;
export type EscalationKind = (typeof ESCALATION_KINDS)[number];

export interface Escalation {
  kind: EscalationKind;
  detail: string;
}

export interface HostFacts {
  /** real paths (symlinks resolved on the Docker host) of bind sources, by the literal source */
  realpaths?: Record<string, string>;
  /** existing named volumes referenced by the request */
  volumes?: Record<string, { driver: string; options: Record<string, string> }>;
}

/** Host paths that are never mountable without a human, whatever the allowlist says (and their ancestors). */
export const ALWAYS_SENSITIVE = [
  '/',
  '/etc',
  '/proc',
  '/sys',
  '/dev',
  '/boot',
  '/root',
  '/var/lib/docker',
  '/var/lib/containerd',
  '/var/run/docker.sock',
  '/run/docker.sock',
  '/run/containerd',
  '/var/run/containerd',
];

export interface HostPathPolicy {
  allowlist: readonly string[];
  /** Wingman's own sockets and state: added by the caller */
  extraSensitive: readonly string[];
}

export function cleanHostPath(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

function within(p: string, base: string): boolean {
  return base === '/' ? true : p === base || p.startsWith(base + '/');
}

/** Why a host path may not be mounted, or undefined when it may. */
export function hostPathProblem(p: string, policy: HostPathPolicy, realpath?: string): string | undefined {
  for (const candidate of realpath && realpath !== p ? [p, realpath] : [p]) {
    if (!candidate.startsWith('/')) return `host path ${p} is not absolute`;
    const c = cleanHostPath(candidate);
    for (const s of [...ALWAYS_SENSITIVE, ...policy.extraSensitive].map(cleanHostPath)) {
      // `/` is sensitive only as itself: everything is within it.
      if (s === '/' ? c === '/' : within(c, s) || within(s, c)) return `host path ${c} exposes ${s}`;
    }
    if (!policy.allowlist.some((a) => within(c, cleanHostPath(a)))) return `host path ${c} is not in the bind allowlist`;
  }
  return undefined;
}

const str = (v: JVal | undefined): string => (typeof v === 'string' ? v : v instanceof GoNumber ? v.raw : '');
const truthy = (v: JVal | undefined): boolean => v === true;
const nonEmptyList = (v: JVal | undefined): v is JVal[] => Array.isArray(v) && v.length > 0;
const nonEmptyMap = (v: JVal | undefined): boolean => isObj(v) && Object.keys(v).length > 0;

/** Map lookup ignoring case: the local volume driver refuses odd casing, but reading it loosely only errs safe. */
function optGet(opts: Record<string, string>, key: string): string {
  for (const [k, v] of Object.entries(opts)) if (k.toLowerCase() === key) return v;
  return '';
}

function isBindOpts(driver: string, options: Record<string, string>): string | undefined {
  if (driver !== '' && driver !== 'local') return undefined;
  const o = optGet(options, 'o')
    .split(',')
    .map((x) => x.trim().toLowerCase());
  const type = optGet(options, 'type').toLowerCase();
  if (o.includes('bind') || o.includes('rbind') || type === 'none' || type === 'bind') return optGet(options, 'device');
  return undefined;
}

function plainMap(v: JVal | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObj(v)) for (const k of Object.keys(v)) out[k] = str(v[k]);
  return out;
}

const NAMESPACE_FIELDS = ['PidMode', 'IpcMode', 'NetworkMode', 'UTSMode', 'UsernsMode', 'CgroupnsMode', 'Cgroup'];

function hostConfigEscalations(hc: JVal | undefined, out: Escalation[], pol: HostPathPolicy, facts: HostFacts): void {
  if (!isObj(hc)) return;
  if (truthy(field(hc, 'Privileged'))) out.push({ kind: 'privileged', detail: 'privileged container' });
  const capAdd = field(hc, 'CapAdd');
  if (nonEmptyList(capAdd)) out.push({ kind: 'cap_add', detail: `adds capabilities ${capAdd.map(str).join(', ')}` });
  for (const f of ['Devices', 'DeviceCgroupRules', 'DeviceRequests']) {
    if (nonEmptyList(field(hc, f))) out.push({ kind: 'devices', detail: `${f} gives access to host devices` });
  }
  for (const f of NAMESPACE_FIELDS) {
    const v = str(field(hc, f)).trim().toLowerCase();
    if (v === 'host' || v.startsWith('container:') || v.startsWith('ns:')) {
      out.push({ kind: 'host_namespace', detail: `${f}=${v} shares a namespace outside the container` });
    }
  }
  const secOpt = field(hc, 'SecurityOpt');
  if (Array.isArray(secOpt)) {
    for (const o of secOpt.map(str)) {
      const s = o.toLowerCase().replace(/\s+/g, '');
      const benign = /^no-new-privileges([:=]true)?$/.test(s) || /^label[:=](user|role|type|level):/.test(s);
      if (!benign) out.push({ kind: 'security_opt', detail: `security option ${o.slice(0, 80)}` });
    }
  }
  for (const f of ['MaskedPaths', 'ReadonlyPaths']) {
    const v = field(hc, f);
    if (v !== undefined && v !== null) out.push({ kind: 'masked_paths', detail: `${f} overrides the default protected paths` });
  }
  if (nonEmptyMap(field(hc, 'Sysctls'))) out.push({ kind: 'sysctls', detail: 'sets kernel sysctls' });
  if (str(field(hc, 'CgroupParent')) !== '') out.push({ kind: 'cgroup_parent', detail: 'sets a cgroup parent' });
  const runtime = str(field(hc, 'Runtime'));
  if (runtime !== '' && runtime !== 'runc') out.push({ kind: 'runtime', detail: `runtime ${runtime}` });
  if (nonEmptyList(field(hc, 'VolumesFrom'))) out.push({ kind: 'volumes_from', detail: 'mounts volumes of another container' });

  const binds = field(hc, 'Binds');
  if (Array.isArray(binds)) {
    for (const b of binds.map(str)) {
      const src = b.split(':')[0] ?? '';
      if (src.startsWith('/')) hostPath(src, 'bind', out, pol, facts);
      else if (src !== '') namedVolume(src, out, pol, facts);
    }
  }
  const mounts = field(hc, 'Mounts');
  if (Array.isArray(mounts)) {
    for (const m of mounts) {
      const type = str(field(m, 'Type')).toLowerCase();
      const source = str(field(m, 'Source'));
      if (type === 'bind') hostPath(source, 'bind mount', out, pol, facts);
      else if (type === 'volume' || type === '') {
        const dc = fieldPath(m, 'VolumeOptions', 'DriverConfig');
        const device = isBindOpts(str(field(dc, 'Name')), plainMap(field(dc, 'Options')));
        if (device !== undefined) hostPath(device, 'volume with o=bind', out, pol, facts);
        if (source !== '') namedVolume(source, out, pol, facts);
      } else if (type !== 'tmpfs') {
        out.push({ kind: 'host_bind', detail: `mount type ${type.slice(0, 20)}` });
      }
    }
  }
}

function hostPath(p: string, what: string, out: Escalation[], pol: HostPathPolicy, facts: HostFacts): void {
  const problem = hostPathProblem(p, pol, facts.realpaths?.[p]);
  if (problem) out.push({ kind: 'host_bind', detail: `${what}: ${problem}` });
}

function namedVolume(name: string, out: Escalation[], pol: HostPathPolicy, facts: HostFacts): void {
  const v = facts.volumes?.[name];
  if (!v) return;
  const device = isBindOpts(v.driver, v.options);
  if (device !== undefined) hostPath(device, `volume ${name} (o=bind)`, out, pol, facts);
}

/** Host paths a request body refers to, for the caller to resolve before deciding. */
export function referencedHostPaths(kind: Inspect | undefined, body: JVal | undefined): { paths: string[]; volumes: string[] } {
  const paths: string[] = [];
  const volumes: string[] = [];
  const scan = (hc: JVal | undefined) => {
    const binds = field(hc, 'Binds');
    if (Array.isArray(binds)) {
      for (const b of binds.map(str)) {
        const src = b.split(':')[0] ?? '';
        if (src.startsWith('/')) paths.push(src);
        else if (src) volumes.push(src);
      }
    }
    const mounts = field(hc, 'Mounts');
    if (Array.isArray(mounts)) {
      for (const m of mounts) {
        const type = str(field(m, 'Type')).toLowerCase();
        const source = str(field(m, 'Source'));
        if (type === 'bind' && source.startsWith('/')) paths.push(source);
        if ((type === 'volume' || type === '') && source) volumes.push(source);
      }
    }
  };
  if (kind === 'container-create') {
    scan(body);
    scan(field(body, 'HostConfig'));
  } else if (kind === 'container-start') scan(body);
  return { paths: [...new Set(paths)], volumes: [...new Set(volumes)] };
}

export function findEscalations(
  kind: Inspect | undefined,
  body: JVal | undefined,
  target: NormalizedTarget,
  pol: HostPathPolicy,
  facts: HostFacts = {},
): Escalation[] {
  const out: Escalation[] = [];
  switch (kind) {
    case 'container-create':
      // Old wrappers embed HostConfig fields at the top level and dockerd still reads them there.
      hostConfigEscalations(body, out, pol, facts);
      hostConfigEscalations(field(body, 'HostConfig'), out, pol, facts);
      {
        // Newer engines derive the network mode from a single endpoint when NetworkMode is unset.
        const eps = fieldPath(body, 'NetworkingConfig', 'EndpointsConfig');
        if (isObj(eps) && Object.keys(eps).some((k) => k.toLowerCase() === 'host' || k.toLowerCase().startsWith('container:'))) {
          out.push({ kind: 'host_namespace', detail: 'endpoint on the host network' });
        }
      }
      break;
    case 'container-start':
      // A non-empty start body is a legacy HostConfig (API < 1.24 applies it).
      hostConfigEscalations(body, out, pol, facts);
      break;
    case 'container-update':
      hostConfigEscalations(body, out, pol, facts);
      break;
    case 'exec-create':
      if (truthy(field(body, 'Privileged'))) out.push({ kind: 'privileged', detail: 'privileged exec' });
      break;
    case 'volume-create': {
      const driver = str(field(body, 'Driver'));
      if (driver !== '' && driver !== 'local') out.push({ kind: 'volume_driver', detail: `volume driver ${driver.slice(0, 60)}` });
      const device = isBindOpts(driver, plainMap(field(body, 'DriverOpts')));
      if (device !== undefined) hostPath(device, 'volume with o=bind', out, pol, facts);
      break;
    }
    case 'network-create': {
      const driver = str(field(body, 'Driver'));
      if (!['', 'bridge', 'overlay', 'null', 'none'].includes(driver)) {
        out.push({ kind: 'network_driver', detail: `network driver ${driver.slice(0, 60)} reaches host interfaces` });
      }
      break;
    }
    case 'service-spec': {
      const cs = fieldPath(body, 'TaskTemplate', 'ContainerSpec');
      if (nonEmptyList(field(cs, 'CapabilityAdd'))) out.push({ kind: 'cap_add', detail: 'service adds capabilities' });
      if (nonEmptyMap(field(cs, 'Sysctls'))) out.push({ kind: 'sysctls', detail: 'service sets kernel sysctls' });
      const priv = field(cs, 'Privileges');
      if (truthy(fieldPath(priv, 'SELinuxContext', 'Disable'))) out.push({ kind: 'security_opt', detail: 'SELinux disabled' });
      for (const f of ['Seccomp', 'AppArmor']) {
        if (str(fieldPath(priv, f, 'Mode')).toLowerCase() === 'unconfined') out.push({ kind: 'security_opt', detail: `${f} unconfined` });
      }
      const mounts = field(cs, 'Mounts');
      if (Array.isArray(mounts)) {
        for (const m of mounts) {
          if (str(field(m, 'Type')).toLowerCase() === 'bind') hostPath(str(field(m, 'Source')), 'service bind mount', out, pol, facts);
        }
      }
      const nets = fieldPath(body, 'TaskTemplate', 'Networks');
      if (Array.isArray(nets) && nets.some((n) => str(field(n, 'Target')).toLowerCase() === 'host')) {
        out.push({ kind: 'host_namespace', detail: 'service on the host network' });
      }
      break;
    }
    case 'plugin-privileges':
      if (nonEmptyList(body)) {
        const names = (body as JVal[]).map((p) => str(field(p, 'Name'))).filter(Boolean);
        out.push({ kind: 'plugin_privileges', detail: `grants plugin privileges ${names.join(', ').slice(0, 200)}` });
      }
      break;
    case 'build-query': {
      const nm = queryGet(target.query, 'networkmode').trim().toLowerCase();
      if (nm === 'host' || nm.startsWith('container:')) out.push({ kind: 'build_network', detail: `build networkmode=${nm}` });
      if (queryGet(target.query, 'cgroupparent') !== '') out.push({ kind: 'cgroup_parent', detail: 'build sets a cgroup parent' });
      break;
    }
    case undefined:
      break;
  }
  return out;
}
