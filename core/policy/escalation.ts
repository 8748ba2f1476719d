// Find privilege escalations in the (canonical) body of a Docker write. Pure: host facts it needs (real paths of
// bind sources, options of existing named volumes) are looked up by the caller and passed in.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import path from 'node:path';
import { GoNumber, field, fieldPath, isObj, text as str, type JVal } from './go-json.js';
import type { Inspect } from './docker-rules.js';
import { queryGet, type NormalizedTarget } from './normalize.js';
import { referenceDomain } from '../ownership/image-ref.js';

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
  /** local volume driver options (or tmpfs options) outside the tmpfs allowlist: mount(2) with caller-chosen args */
  'volume_options',
  /** OomScoreAdj below 0 or OomKillDisable: the container survives while the host's other processes are killed */
  'oom',
  /** PidsLimit 0 or negative: no process limit (a fork bomb takes the host) */
  'pids_limit',
  /** dockerd fetches a URL on the worker's behalf, from the host's network, past the worker's own isolation */
  'daemon_fetch',
] as const;
export type EscalationKind = (typeof ESCALATION_KINDS)[number];

export interface Escalation {
  kind: EscalationKind;
  detail: string;
}

/** What a classic build's context makes dockerd fetch by itself (read by core/docker/build-context.ts). */
export interface BuildContextFacts {
  /** what `ADD` sources dockerd would download (URLs, git remotes, or a `$variable` that may expand to one) */
  fetches: string[];
  /** images `FROM` names, after ARG and build-arg substitution */
  fromImages: string[];
  /** why the context could not be read: then nothing in it can be trusted */
  problem?: string;
}

export interface HostFacts {
  /** (builds) the Dockerfile of the context the client sent */
  buildContext?: BuildContextFacts;
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

/** An untrusted value as an approver reads it: clipped, with control and invisible format characters escaped. */
function plain(v: string, n = 200): string {
  const c = v.length > n ? `${v.slice(0, n)}…` : v;
  return c.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, (ch) => `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

const optionsText = (opts: Record<string, string>): string =>
  plain(Object.entries(opts).map(([k, v]) => `${k}=${v}`).join(' '), 200);

const isLocalDriver = (driver: string): boolean => driver === '' || driver === 'local';

/** tmpfs data options a worker may set, with the shape their values must have */
const TMPFS_VALUES: Readonly<Record<string, RegExp>> = {
  size: /^\d+[kmgtpe%]?$/i,
  nr_inodes: /^\d+[kmgtpe]?$/i,
  mode: /^[0-7]{1,4}$/,
  uid: /^\d+$/,
  gid: /^\d+$/,
};
/** flags in the `o` of a local tmpfs volume */
const VOLUME_TMPFS_FLAGS: ReadonlySet<string> = new Set(['rw', 'ro', 'noexec', 'nosuid', 'nodev']);
/** flags in a HostConfig.Tmpfs option string (dockerd adds noexec,nosuid,nodev first; exec/suid undo two of them) */
const TMPFS_FLAGS: ReadonlySet<string> = new Set([...VOLUME_TMPFS_FLAGS, 'exec', 'suid']);

/**
 * The first item of a comma-separated tmpfs option string outside the allowlist, or undefined. Compared exactly:
 * dockerd and the kernel compare options case-sensitively and do not trim, so anything else fails there.
 */
function tmpfsOptionsProblem(opts: string, flags: ReadonlySet<string>): string | undefined {
  for (const item of opts.split(',')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq < 0) {
      if (!flags.has(item)) return `option ${plain(item, 60)} is not allowed`;
      continue;
    }
    const key = item.slice(0, eq);
    const shape = Object.hasOwn(TMPFS_VALUES, key) ? TMPFS_VALUES[key] : undefined;
    if (!shape) return `option ${plain(key, 60)} is not allowed`;
    if (!shape.test(item.slice(eq + 1))) return `option ${plain(item, 60)} has an unexpected value`;
  }
  return undefined;
}

const LOCAL_DRIVER_KEYS: ReadonlySet<string> = new Set(['type', 'device', 'o']);

/**
 * Why options of the local volume driver are outside its allowlist, or undefined when they are inside it. The local
 * driver calls mount(2) with whatever type/device/o it is given (overlay over host directories, proc, a block device,
 * nfs to any address): only no options at all, or a tmpfs with size/mode/uid/gid/nr_inodes, is a worker's own.
 * Keys are read ignoring case (dockerd refuses odd casing; reading loosely only errs safe).
 */
export function localVolumeOptionsProblem(options: Record<string, string>): string | undefined {
  const keys = Object.keys(options);
  if (keys.length === 0) return undefined;
  const byKey = new Map<string, string>();
  for (const k of keys) {
    const lk = k.toLowerCase();
    if (!LOCAL_DRIVER_KEYS.has(lk)) return `option ${plain(k, 60)} is not one the local driver takes (type, device, o)`;
    if (byKey.has(lk)) return `option ${lk} is given more than once`;
    byKey.set(lk, options[k]);
  }
  const type = byKey.get('type');
  if (type === undefined) return 'options without type=tmpfs';
  if (type.toLowerCase() !== 'tmpfs') return `type ${plain(type, 60)} is not tmpfs`;
  const device = byKey.get('device') ?? '';
  if (device !== '' && device.toLowerCase() !== 'tmpfs') return `device ${plain(device, 120)} is not tmpfs`;
  return tmpfsOptionsProblem(byKey.get('o') ?? '', VOLUME_TMPFS_FLAGS);
}

/** A volume's driver and options, wherever they are given (volume create, an inline mount's DriverConfig). */
function volumeDriverEscalations(driver: string, options: Record<string, string>, what: string, out: Escalation[]): void {
  if (!isLocalDriver(driver)) {
    out.push({ kind: 'volume_driver', detail: `${what}volume driver ${plain(driver, 60)}` });
    return;
  }
  const problem = localVolumeOptionsProblem(options);
  if (problem) {
    out.push({
      kind: 'volume_options',
      detail: `${what}local volume options ${optionsText(options)}: ${problem} (only tmpfs with size, mode, uid, gid, nr_inodes is allowed)`,
    });
  }
}

/** `TmpfsOptions` of a `Type: tmpfs` mount: size and mode only. */
function tmpfsMountEscalations(m: JVal | undefined, out: Escalation[]): void {
  const to = field(m, 'TmpfsOptions');
  if (!isObj(to)) return;
  const target = plain(str(field(m, 'Target')), 120);
  for (const k of Object.keys(to)) {
    const v = to[k];
    if (v === null || (Array.isArray(v) && v.length === 0)) continue;
    const fk = k.toUpperCase();
    if (fk === 'SIZEBYTES' || fk === 'MODE') continue;
    out.push({ kind: 'volume_options', detail: `tmpfs mount ${target}: TmpfsOptions.${plain(k, 40)} is not allowed (only SizeBytes and Mode)` });
  }
}

/** `HostConfig.Tmpfs`: mount point → option string. */
function tmpfsMapEscalations(v: JVal | undefined, out: Escalation[]): void {
  if (!isObj(v)) return;
  for (const [target, opts] of Object.entries(plainMap(v))) {
    const problem = tmpfsOptionsProblem(opts, TMPFS_FLAGS);
    if (problem) {
      out.push({
        kind: 'volume_options',
        detail: `tmpfs ${plain(target, 120)} options ${plain(opts, 120)}: ${problem} (only size, mode, uid, gid, nr_inodes and rw, ro, exec, noexec, suid, nosuid, nodev)`,
      });
    }
  }
}

/** A JSON integer (Go decodes these fields into ints): its value, or undefined when it is not a number. */
function num(v: JVal | undefined): number | undefined {
  if (!(v instanceof GoNumber)) return undefined;
  const n = Number(v.raw);
  return Number.isNaN(n) ? undefined : n;
}

// Addresses a daemon fetch must not reach without a human: loopback, private, link-local, shared, reserved.
const NON_GLOBAL = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_GLOBAL.addSubnet(net, bits, 'ipv4');
}
// ::/96 holds ::, ::1 and the IPv4-compatible forms; IPv4-mapped (::ffff:a.b.c.d) is checked against the IPv4 list.
for (const [net, bits] of [
  ['::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  NON_GLOBAL.addSubnet(net, bits, 'ipv6');
}

/** An IPv4 address in any form the C resolver's inet_aton accepts (`127.1`, `0x7f000001`, `0177.0.0.1`), dotted. */
function inetAton(h: string): string | undefined {
  const parts = h.split('.');
  if (parts.length > 4) return undefined;
  const nums: number[] = [];
  for (const p of parts) {
    if (/^0x[0-9a-f]+$/i.test(p)) nums.push(parseInt(p.slice(2), 16));
    else if (/^0[0-7]*$/.test(p)) nums.push(parseInt(p, 8));
    else if (/^[1-9][0-9]*$/.test(p)) nums.push(parseInt(p, 10));
    else return undefined;
  }
  const last = nums.pop()!;
  if (nums.some((n) => n > 255) || last >= 2 ** (8 * (4 - nums.length))) return undefined;
  let value = last;
  nums.forEach((n, i) => (value += n * 2 ** (8 * (3 - i))));
  return [24, 16, 8, 0].map((s) => Math.floor(value / 2 ** s) % 256).join('.');
}

/** Names that resolve to this host or its private networks by definition (or by the host's search domains). */
const PRIVATE_SUFFIXES = ['.localhost', '.local', '.localdomain', '.internal', '.home.arpa', '.lan'];

/** Why a registry host (with an optional port) is not a public one, or undefined when it may be. */
export function privateHostProblem(hostPort: string): string | undefined {
  let host: string;
  if (hostPort.startsWith('[')) host = hostPort.slice(1, hostPort.indexOf(']') < 0 ? undefined : hostPort.indexOf(']'));
  else if (hostPort.split(':').length === 2) host = hostPort.slice(0, hostPort.indexOf(':'));
  else host = hostPort; // no port, or an unbracketed IPv6 literal
  host = host.toLowerCase().replace(/%.*$/, '').replace(/\.+$/, '');
  if (isIPv6(host)) return NON_GLOBAL.check(host, 'ipv6') ? `${plain(host, 60)} is a loopback, private or link-local address` : undefined;
  const v4 = isIPv4(host) ? host : inetAton(host);
  if (v4 !== undefined) return NON_GLOBAL.check(v4, 'ipv4') ? `${plain(host, 60)} is a loopback, private or link-local address` : undefined;
  if (host === 'localhost') return 'localhost is this host';
  if (host === '' || !host.includes('.')) return `${plain(host, 60) || '(empty)'} is a single-label name: this host or a name on its local network`;
  if (PRIVATE_SUFFIXES.some((s) => host.endsWith(s))) return `${plain(host, 60)} is a name on this host or its local network`;
  return undefined;
}


/** Every value of a query key (dockerd reads the first; judging them all only errs safe). */
const queryAll = (query: Array<[string, string]>, key: string): string[] => query.filter(([k]) => k === key).map(([, v]) => v);

/** Log drivers that write on the host itself; any other makes dockerd connect somewhere. */
const LOCAL_LOG_DRIVERS = new Set(['json-file', 'local', 'journald', 'none']);

/** Bridge options that change only the network itself. */
const SAFE_NETWORK_OPTIONS = new Set([
  'com.docker.network.bridge.enable_icc',
  'com.docker.network.bridge.enable_ip_masquerade',
  'com.docker.network.driver.mtu',
  'com.docker.network.container_iface_prefix',
]);

const NAMESPACE_FIELDS = ['PidMode', 'IpcMode', 'NetworkMode', 'UTSMode', 'UsernsMode', 'CgroupnsMode', 'Cgroup'];

/**
 * The escalations of a HostConfig (or of its fields at the top level of a legacy body). `update`: a container
 * update, where fields change a running container (PidsLimit 0 lifts its limit there; on create it means unset).
 */
function hostConfigEscalations(hc: JVal | undefined, out: Escalation[], pol: HostPathPolicy, facts: HostFacts, update = false): void {
  if (!isObj(hc)) return;
  if (truthy(field(hc, 'Privileged'))) out.push({ kind: 'privileged', detail: 'privileged container' });
  // A strslice in Go: a bare string is a list of one.
  const capAddRaw = field(hc, 'CapAdd');
  const capAdd = typeof capAddRaw === 'string' ? (capAddRaw === '' ? [] : [capAddRaw]) : capAddRaw;
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
    // Only no-new-privileges is a worker's own. SELinux labels in any form (type, user, role, level, disable) choose
    // the confinement of the container, like apparmor=, seccomp= and systempaths=.
    for (const o of secOpt.map(str)) {
      const s = o.toLowerCase().replace(/\s+/g, '');
      if (!/^no-new-privileges([:=]true)?$/.test(s)) out.push({ kind: 'security_opt', detail: `security option ${plain(o, 80)}` });
    }
  }
  for (const f of ['MaskedPaths', 'ReadonlyPaths']) {
    const v = field(hc, f);
    if (v !== undefined && v !== null) out.push({ kind: 'masked_paths', detail: `${f} overrides the default protected paths` });
  }
  if (nonEmptyMap(field(hc, 'Sysctls'))) out.push({ kind: 'sysctls', detail: 'sets kernel sysctls' });
  if (str(field(hc, 'CgroupParent')) !== '') out.push({ kind: 'cgroup_parent', detail: 'sets a cgroup parent' });
  // A log driver that ships logs makes dockerd itself connect to an address the worker names (syslog, gelf,
  // fluentd, splunk, …), from the host's network.
  const logType = str(field(field(hc, 'LogConfig'), 'Type')).trim().toLowerCase();
  if (logType !== '' && !LOCAL_LOG_DRIVERS.has(logType)) {
    out.push({ kind: 'daemon_fetch', detail: `log driver ${plain(logType, 40)} makes dockerd send the container's output over the host's network` });
  }
  const runtime = str(field(hc, 'Runtime'));
  if (runtime !== '' && runtime !== 'runc') out.push({ kind: 'runtime', detail: `runtime ${runtime}` });
  if (nonEmptyList(field(hc, 'VolumesFrom'))) out.push({ kind: 'volumes_from', detail: 'mounts volumes of another container' });
  const oomAdj = num(field(hc, 'OomScoreAdj'));
  if (oomAdj !== undefined && oomAdj < 0) {
    out.push({ kind: 'oom', detail: `OomScoreAdj ${oomAdj} makes the host's other processes die before this container` });
  }
  if (truthy(field(hc, 'OomKillDisable'))) {
    out.push({ kind: 'oom', detail: 'OomKillDisable keeps the OOM killer off this container (the host runs out of memory instead)' });
  }
  // PidsLimit: null keeps the daemon's default (update: leaves it as is). A negative value asks for no limit; so does
  // 0 on update. On create, 0 is what the docker CLI sends for every container without --pids-limit and dockerd
  // treats it as unset, the same as null: flagging it would hold every `docker run`.
  const pids = field(hc, 'PidsLimit');
  if (pids !== undefined && pids !== null) {
    const n = num(pids);
    if (n === undefined || n < 0 || (update && n === 0)) {
      out.push({ kind: 'pids_limit', detail: `PidsLimit ${plain(str(pids), 40) || '(not a number)'} lifts the container's process limit` });
    }
  }
  const volumeDriver = str(field(hc, 'VolumeDriver'));
  if (!isLocalDriver(volumeDriver)) out.push({ kind: 'volume_driver', detail: `volumes of this container use driver ${plain(volumeDriver, 60)}` });
  tmpfsMapEscalations(field(hc, 'Tmpfs'), out);

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
        const driver = str(field(dc, 'Name'));
        const options = plainMap(field(dc, 'Options'));
        volumeDriverEscalations(driver, options, `mount ${plain(source || str(field(m, 'Target')), 120)}: `, out);
        const device = isBindOpts(driver, options);
        if (device !== undefined) hostPath(device, 'volume with o=bind', out, pol, facts);
        if (source !== '') namedVolume(source, out, pol, facts);
      } else if (type === 'tmpfs') {
        tmpfsMountEscalations(m, out);
      } else {
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
      hostConfigEscalations(body, out, pol, facts, true);
      break;
    case 'exec-create':
      if (truthy(field(body, 'Privileged'))) out.push({ kind: 'privileged', detail: 'privileged exec' });
      break;
    case 'volume-create': {
      const driver = str(field(body, 'Driver'));
      const options = plainMap(field(body, 'DriverOpts'));
      volumeDriverEscalations(driver, options, '', out);
      const device = isBindOpts(driver, options);
      if (device !== undefined) hostPath(device, 'volume with o=bind', out, pol, facts);
      break;
    }
    case 'network-create': {
      const driver = str(field(body, 'Driver'));
      if (!['', 'bridge', 'overlay', 'null', 'none'].includes(driver)) {
        out.push({ kind: 'network_driver', detail: `network driver ${driver.slice(0, 60)} reaches host interfaces` });
      }
      // Driver options are an allowlist too: `com.docker.network.bridge.name` takes over an existing interface
      // (the host's, or another network's bridge), host binding and gateway options reach the host's network.
      const opts = field(body, 'Options');
      if (isObj(opts)) {
        for (const k of Object.keys(opts)) {
          if (!SAFE_NETWORK_OPTIONS.has(k)) out.push({ kind: 'network_driver', detail: `network option ${plain(k, 80)} reaches host interfaces` });
        }
      }
      break;
    }
    case 'service-spec': {
      const cs = fieldPath(body, 'TaskTemplate', 'ContainerSpec');
      if (nonEmptyList(field(cs, 'CapabilityAdd'))) out.push({ kind: 'cap_add', detail: 'service adds capabilities' });
      if (nonEmptyMap(field(cs, 'Sysctls'))) out.push({ kind: 'sysctls', detail: 'service sets kernel sysctls' });
      const priv = field(cs, 'Privileges');
      const selinux = fieldPath(priv, 'SELinuxContext');
      if (truthy(field(selinux, 'Disable'))) out.push({ kind: 'security_opt', detail: 'SELinux disabled' });
      for (const f of ['User', 'Role', 'Type', 'Level']) {
        const v = str(field(selinux, f));
        if (v !== '') out.push({ kind: 'security_opt', detail: `SELinux ${f.toLowerCase()} ${plain(v, 80)}` });
      }
      for (const f of ['Seccomp', 'AppArmor']) {
        if (str(fieldPath(priv, f, 'Mode')).toLowerCase() === 'unconfined') out.push({ kind: 'security_opt', detail: `${f} unconfined` });
      }
      const mounts = field(cs, 'Mounts');
      if (Array.isArray(mounts)) {
        for (const m of mounts) {
          const type = str(field(m, 'Type')).toLowerCase();
          if (type === 'bind') hostPath(str(field(m, 'Source')), 'service bind mount', out, pol, facts);
          else if (type === 'volume' || type === '') {
            const dc = fieldPath(m, 'VolumeOptions', 'DriverConfig');
            volumeDriverEscalations(str(field(dc, 'Name')), plainMap(field(dc, 'Options')), `service mount ${plain(str(field(m, 'Source')) || str(field(m, 'Target')), 120)}: `, out);
          } else if (type === 'tmpfs') tmpfsMountEscalations(m, out);
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
        const names = body.map((p) => str(field(p, 'Name'))).filter(Boolean);
        out.push({ kind: 'plugin_privileges', detail: `grants plugin privileges ${names.join(', ').slice(0, 200)}` });
      }
      for (const remote of queryAll(target.query, 'remote')) {
        if (remote !== '') out.push({ kind: 'daemon_fetch', detail: `dockerd fetches plugin ${plain(remote)} from its registry, from the host's network` });
      }
      break;
    case 'build-query': {
      const nm = queryGet(target.query, 'networkmode').trim().toLowerCase();
      if (nm === 'host' || nm.startsWith('container:')) out.push({ kind: 'build_network', detail: `build networkmode=${nm}` });
      if (queryGet(target.query, 'cgroupparent') !== '') out.push({ kind: 'cgroup_parent', detail: 'build sets a cgroup parent' });
      for (const remote of queryAll(target.query, 'remote')) {
        if (remote !== '') out.push({ kind: 'daemon_fetch', detail: `dockerd fetches the build context from ${plain(remote)} (remote=), from the host's network` });
      }
      const ctx = facts.buildContext;
      if (ctx?.problem) out.push({ kind: 'daemon_fetch', detail: `${ctx.problem}: what dockerd would fetch for it is unknown` });
      for (const src of ctx?.fetches ?? []) {
        out.push({ kind: 'daemon_fetch', detail: `the Dockerfile makes dockerd download ${plain(src)} (ADD), from the host's network` });
      }
      for (const image of ctx?.fromImages ?? []) {
        if (image.includes('$')) {
          out.push({ kind: 'daemon_fetch', detail: `the Dockerfile builds FROM ${plain(image)}, which may name any registry` });
          continue;
        }
        const host = referenceDomain(image);
        const problem = host === undefined ? undefined : privateHostProblem(host);
        if (problem) out.push({ kind: 'daemon_fetch', detail: `the Dockerfile makes dockerd pull ${plain(image)} from registry ${plain(host!, 80)}: ${problem}` });
      }
      break;
    }
    case 'image-create': {
      // fromSrc=- : the tar is the request body. Any other value is a URL (or host) dockerd downloads.
      for (const src of queryAll(target.query, 'fromSrc')) {
        if (src !== '' && src !== '-') out.push({ kind: 'daemon_fetch', detail: `dockerd downloads an image to import from ${plain(src)} (fromSrc=), from the host's network` });
      }
      for (const ref of queryAll(target.query, 'fromImage')) {
        const host = referenceDomain(ref);
        const problem = host === undefined ? undefined : privateHostProblem(host);
        if (problem) out.push({ kind: 'daemon_fetch', detail: `dockerd pulls ${plain(ref)} from registry ${plain(host!, 80)}: ${problem}` });
      }
      break;
    }
    case 'registry-host': {
      // The registry dockerd will connect to: named in the path (distribution inspect, push) or the search term.
      const m = /^\/(?:distribution\/(.+)\/json|images\/(.+)\/push)$/s.exec(target.path);
      for (const ref of [m?.[1] ?? m?.[2] ?? '', ...queryAll(target.query, 'term')]) {
        const host = referenceDomain(ref);
        const problem = host === undefined ? undefined : privateHostProblem(host);
        if (problem) out.push({ kind: 'daemon_fetch', detail: `dockerd connects to registry ${plain(host!, 80)} for ${plain(ref)}: ${problem}` });
      }
      break;
    }
    case 'network-connect':
      break; // what it names is an ownership fact (object-facts.ts), not an escalation
    case 'auth': {
      const addr = str(field(body, 'ServerAddress')).trim();
      if (addr !== '') {
        const host = addr.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/')[0] ?? '';
        const problem = privateHostProblem(host);
        if (problem) out.push({ kind: 'daemon_fetch', detail: `dockerd logs in to ${plain(addr)}: ${problem}` });
      }
      break;
    }
    case undefined:
      break;
  }
  return out;
}
