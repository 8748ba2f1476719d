// The one table of docker CLI commands the shell wrapper knows. The wrapper's sh case table is GENERATED from it
// (core/policy/shell-table-sh.ts, `node shell-wrapper/gen-table.mjs`), the control API classifies the same argv
// with it (core/policy/shell-classify.ts) to scope a grant, and tests check every row against the Docker policy:
// a gated row names the Docker API rules (docker-rules.ts ids) its command makes that need approval there, a
// read-only row names only rules that are `allow` there.
//
// Flags are listed by what the parser needs: which take a value (so the value is not mistaken for a target or a
// subcommand). Values are from docker CLI 28 `--help` (a test compares them), plus hidden aliases.
import type { EscalationKind } from './escalation.js';

export type ShellDecision = 'gate' | 'pass';
export type TargetKind = 'container' | 'image' | 'volume' | 'network';

/** A flag that adds Docker rules to a gated command (`compose down -v` also removes volumes) or only a note. */
export interface ShellWhen {
  flags: readonly string[];
  /** Docker rule ids the flag adds to the grant */
  add?: readonly string[];
  /** words for the summary: `with volumes` */
  note: string;
}

/**
 * A `run`/`create` (or `update`) flag that escalates privileges. `value` says how to read it:
 * bool: set (or `=true`); any: given at all; match: the (lowercased) value matches a glob; unless: it does not
 * match any glob; volume: the source part of `SRC:DST[:opts]` matches a glob; mount: a CSV field matches a glob
 * (`type=bind`) and is not one of `fieldUnless`; tmpfs: `DST:OPTS` has an option outside the tmpfs allowlist
 * (`allow`: the flags allowed besides size, mode, uid, gid, nr_inodes); mount-driver: a volume `--mount` names
 * a driver other than local; mount-options: a volume `--mount` gives the local driver options outside the tmpfs
 * allowlist (core/policy/escalation.ts localVolumeOptionsProblem; `allow`: the flags allowed in its `o`).
 */
export interface ShellEscalation {
  flags: readonly string[];
  kind: EscalationKind;
  value: 'bool' | 'any' | 'match' | 'unless' | 'volume' | 'mount' | 'tmpfs' | 'mount-driver' | 'mount-options';
  /** sh-style globs: only `*` is special */
  globs?: readonly string[];
  fieldUnless?: readonly string[];
  /** match/unless: compare the value as given (the proxy compares it exactly), not lowercased without spaces */
  exact?: boolean;
  /** tmpfs/mount-options: the option flags (no `=`) allowed */
  allow?: readonly string[];
}

/**
 * A command that attaches to a container with stdin: the proxy decides that attach as `ContainerExec` (a command
 * channel into the container, core/policy/decide.ts effectiveRule), so it needs the exec approval. Stdin is
 * attached when `default` or an `on` flag (the last one given wins) or an `onValue` flag with one of its values is
 * set, and no `off` flag (the last one given wins) is.
 */
export interface ShellStdin {
  /** only these command paths attach (`run`, not `create`); every path of the row when absent */
  paths?: readonly string[];
  default: boolean;
  /** bool flags that attach stdin: `-i`, `--interactive` */
  on?: readonly string[];
  /** value flags whose (lowercased) value attaches stdin: `-a stdin` */
  onValue?: { flags: readonly string[]; values: readonly string[] };
  /** bool flags that keep stdin out: `-d` (no attach at all), `--no-stdin` */
  off?: readonly string[];
  /** the Docker rules the grant covers then */
  docker: readonly string[];
  /** words for the summary */
  note: string;
}

export interface ShellRule {
  /** row id, printed by the wrapper's classify mode: `compose-down` */
  id: string;
  /** command words as typed, without flags: `container rm` */
  paths: readonly string[];
  decision: ShellDecision;
  /** what a person reads: `remove container` */
  verb: string;
  /** gate: the Docker rules the grant covers; pass: the (allow) rules the command calls */
  docker: readonly string[];
  /** flags that take a value (long `--signal`, short `-s`) */
  values: readonly string[];
  /** positionals name objects the grant is bound to (resolved to ids by the control API) */
  targets?: { kind: TargetKind; take: 'all' | 'first' };
  /**
   * positionals named in the summary (`container web`, `as img:1`) but not bound to the grant: the proxy's call
   * names its object in the query (`POST /commit?container=`), so a grant cannot bind it. At least one is needed.
   */
  names?: readonly string[];
  /** flags stop at the first positional (`exec CONTAINER CMD…`, `run IMAGE CMD…`) */
  stopAtFirst?: boolean;
  /** the grant's use count per Docker rule when it has no targets (each target is one use otherwise) */
  uses?: number;
  when?: readonly ShellWhen[];
  /** `cp SRC DST`: the direction decides the rule (out of a container or into it) */
  cp?: { out: readonly string[]; in: readonly string[] };
  /**
   * flags that escalate, with the Docker rule whose body the proxy inspects for them: a read-only row becomes gated
   * with these rules; a gated row keeps its rules and its grant carries the escalation kinds
   */
  escalate?: { docker: readonly string[]; flags: readonly ShellEscalation[] };
  /** the command may attach stdin to a container: then gated with the exec approval */
  stdin?: ShellStdin;
}

/** docker's global options (before the subcommand) that take a value. */
export const GLOBAL_VALUES: readonly string[] = ['--config', '-c', '--context', '-H', '--host', '-l', '--log-level', '--tlscacert', '--tlscert', '--tlskey'];

/** Management commands whose own options may come before their subcommand: `compose -f x.yml down`. */
export const MANAGEMENT: Readonly<Record<string, readonly string[]>> = {
  container: [],
  image: [],
  volume: [],
  network: [],
  system: [],
  builder: [],
  buildx: ['--builder'],
  compose: ['-f', '--file', '-p', '--project-name', '--project-directory', '--profile', '--env-file', '--ansi', '--progress', '--parallel'],
  plugin: [],
  swarm: [],
  node: [],
  service: [],
  secret: [],
  config: [],
  context: [],
  manifest: [],
  trust: [],
  stack: [],
  checkpoint: [],
};

const RUN_VALUES = [
  '--add-host', '--annotation', '-a', '--attach', '--blkio-weight', '--blkio-weight-device', '--cap-add', '--cap-drop',
  '--cgroup-parent', '--cgroupns', '--cidfile', '--cpu-count', '--cpu-percent', '--cpu-period', '--cpu-quota',
  '--cpu-rt-period', '--cpu-rt-runtime', '-c', '--cpu-shares', '--cpus', '--cpuset-cpus', '--cpuset-mems', '--detach-keys',
  '--device', '--device-cgroup-rule', '--device-read-bps', '--device-read-iops', '--device-write-bps',
  '--device-write-iops', '--dns', '--dns-option', '--dns-opt', '--dns-search', '--domainname', '--entrypoint', '-e', '--env',
  '--env-file', '--expose', '--gpus', '--group-add', '--health-cmd', '--health-interval', '--health-retries',
  '--health-start-interval', '--health-start-period', '--health-timeout', '-h', '--hostname', '--io-maxbandwidth',
  '--io-maxiops', '--ip', '--ip6', '--ipc', '--isolation', '--kernel-memory', '-l', '--label', '--label-file', '--link',
  '--link-local-ip', '--log-driver', '--log-opt', '--mac-address', '-m', '--memory', '--memory-reservation', '--memory-swap',
  '--memory-swappiness', '--mount', '--name', '--network', '--net', '--network-alias', '--net-alias', '--oom-score-adj',
  '--pid', '--pids-limit', '--platform', '-p', '--publish', '--pull', '--restart', '--runtime', '--security-opt',
  '--shm-size', '--stop-signal', '--stop-timeout', '--storage-opt', '--sysctl', '--tmpfs', '--ulimit', '-u', '--user',
  '--userns', '--uts', '-v', '--volume', '--volume-driver', '--volumes-from', '-w', '--workdir',
];

/** Host paths as a `-v` source: absolute, relative (the CLI makes it absolute) or home-relative. */
const HOST_SOURCE = ['/*', '.', './*', '..', '../*', '~*'];

/**
 * A negative integer as pflag reads it (Go syntax, base from the prefix: `-1`, `-0x10`, `-010`, `-0b1`). `-0` is
 * zero; so are `-00` and `-0x0`, which are gated all the same (only `*` is special in these globs).
 */
const NEGATIVE = ['-1*', '-2*', '-3*', '-4*', '-5*', '-6*', '-7*', '-8*', '-9*', '-0x*', '-0b*', '-0o*', '-0_*', '-00*', '-01*', '-02*', '-03*', '-04*', '-05*', '-06*', '-07*'];

/** Flags of a tmpfs option string the proxy allows: HostConfig.Tmpfs (dockerd adds noexec,nosuid,nodev; exec/suid undo two). */
export const TMPFS_ALLOWED_FLAGS: readonly string[] = ['rw', 'ro', 'noexec', 'nosuid', 'nodev', 'exec', 'suid'];
/** Flags in the `o` option of a local tmpfs volume the proxy allows. */
export const VOLUME_TMPFS_ALLOWED_FLAGS: readonly string[] = ['rw', 'ro', 'noexec', 'nosuid', 'nodev'];

/** run/create flags that escalate: the same kinds core/policy/escalation.ts finds in the request body. */
export const RUN_ESCALATIONS: readonly ShellEscalation[] = [
  { flags: ['--privileged'], kind: 'privileged', value: 'bool' },
  { flags: ['-v', '--volume'], kind: 'host_bind', value: 'volume', globs: HOST_SOURCE },
  {
    flags: ['--mount'],
    kind: 'host_bind',
    value: 'mount',
    // a local volume with o=bind/rbind or type none/bind mounts its device, a host path (escalation.ts isBindOpts);
    // a bare `bind` field is the rest of a quoted o= (`"volume-opt=o=ro,bind"`)
    globs: ['type=*', 'volume-opt=o=bind', 'volume-opt=o=rbind', 'volume-opt=type=none', 'volume-opt=type=bind', 'bind', 'rbind'],
    fieldUnless: ['type=volume', 'type=tmpfs'],
  },
  { flags: ['--mount'], kind: 'volume_driver', value: 'mount-driver' },
  { flags: ['--mount'], kind: 'volume_options', value: 'mount-options', allow: VOLUME_TMPFS_ALLOWED_FLAGS },
  { flags: ['--tmpfs'], kind: 'volume_options', value: 'tmpfs', allow: TMPFS_ALLOWED_FLAGS },
  { flags: ['--volume-driver'], kind: 'volume_driver', value: 'unless', globs: ['', 'local'], exact: true },
  { flags: ['--use-api-socket'], kind: 'host_bind', value: 'bool' },
  { flags: ['--pid', '--ipc', '--uts', '--userns', '--cgroupns', '--network', '--net'], kind: 'host_namespace', value: 'match', globs: ['host', 'container:*', 'ns:*'] },
  { flags: ['--cap-add'], kind: 'cap_add', value: 'any' },
  { flags: ['--device', '--device-cgroup-rule', '--gpus'], kind: 'devices', value: 'any' },
  // Only no-new-privileges is a worker's own: SELinux labels in any form choose the container's confinement.
  // `systempaths=unconfined` is not sent as a security option: the CLI turns it into empty MaskedPaths/ReadonlyPaths.
  {
    flags: ['--security-opt'],
    kind: 'security_opt',
    value: 'unless',
    globs: ['no-new-privileges', 'no-new-privileges:true', 'no-new-privileges=true', 'systempaths=unconfined'],
  },
  { flags: ['--security-opt'], kind: 'masked_paths', value: 'match', globs: ['systempaths=unconfined'], exact: true },
  { flags: ['--sysctl'], kind: 'sysctls', value: 'any' },
  { flags: ['--cgroup-parent'], kind: 'cgroup_parent', value: 'any' },
  { flags: ['--runtime'], kind: 'runtime', value: 'unless', globs: ['runc', ''] },
  // a shipping log driver makes dockerd connect to an address the worker names
  { flags: ['--log-driver'], kind: 'daemon_fetch', value: 'unless', globs: ['json-file', 'local', 'journald', 'none', ''] },
  { flags: ['--volumes-from'], kind: 'volumes_from', value: 'any' },
  { flags: ['--oom-score-adj'], kind: 'oom', value: 'match', globs: NEGATIVE },
  { flags: ['--oom-kill-disable'], kind: 'oom', value: 'bool' },
  // 0 is what the CLI sends without the flag (unset for dockerd): only a negative limit lifts it
  { flags: ['--pids-limit'], kind: 'pids_limit', value: 'match', globs: NEGATIVE },
];

/** Attaching with stdin is a command channel into the container: the proxy decides it as an exec. */
const STDIN_EXEC = { docker: ['ContainerExec'], note: 'stdin attached' } as const;

const SIGNAL_TIMEOUT = ['-s', '--signal', '-t', '--timeout', '--time'];
const FORCE_NOTE: ShellWhen = { flags: ['-f', '--force'], note: 'force' };
const UNTARGETED_USES = 100;

export const SHELL_RULES: readonly ShellRule[] = Object.freeze([
  // gated: one approval for the whole command line
  {
    id: 'rm',
    paths: ['rm', 'container rm', 'container remove'],
    decision: 'gate',
    verb: 'remove container',
    docker: ['ContainerDelete'],
    values: [],
    targets: { kind: 'container', take: 'all' },
    when: [FORCE_NOTE, { flags: ['-v', '--volumes'], note: 'with anonymous volumes' }, { flags: ['-l', '--link'], note: 'link only' }],
  },
  {
    id: 'rmi',
    paths: ['rmi', 'image rm', 'image remove'],
    decision: 'gate',
    verb: 'remove image',
    docker: ['ImageDelete'],
    values: ['--platform'],
    targets: { kind: 'image', take: 'all' },
    when: [FORCE_NOTE, { flags: ['--no-prune'], note: 'keep untagged parents' }],
  },
  { id: 'kill', paths: ['kill', 'container kill'], decision: 'gate', verb: 'kill container', docker: ['ContainerKill'], values: ['-s', '--signal'], targets: { kind: 'container', take: 'all' } },
  { id: 'stop', paths: ['stop', 'container stop'], decision: 'gate', verb: 'stop container', docker: ['ContainerStop'], values: SIGNAL_TIMEOUT, targets: { kind: 'container', take: 'all' } },
  { id: 'restart', paths: ['restart', 'container restart'], decision: 'gate', verb: 'restart container', docker: ['ContainerRestart'], values: SIGNAL_TIMEOUT, targets: { kind: 'container', take: 'all' } },
  { id: 'pause', paths: ['pause', 'container pause'], decision: 'gate', verb: 'pause container', docker: ['ContainerPause'], values: [], targets: { kind: 'container', take: 'all' } },
  { id: 'rename', paths: ['rename', 'container rename'], decision: 'gate', verb: 'rename container', docker: ['ContainerRename'], values: [], targets: { kind: 'container', take: 'first' } },
  {
    id: 'update',
    paths: ['update', 'container update'],
    decision: 'gate',
    verb: 'update resources of container',
    docker: ['ContainerUpdate'],
    values: [
      '--blkio-weight', '--cpu-period', '--cpu-quota', '--cpu-rt-period', '--cpu-rt-runtime', '-c', '--cpu-shares', '--cpus',
      '--cpuset-cpus', '--cpuset-mems', '--kernel-memory', '-m', '--memory', '--memory-reservation', '--memory-swap',
      '--pids-limit', '--restart',
    ],
    targets: { kind: 'container', take: 'all' },
    // the CLI sends no PidsLimit for `--pids-limit 0` on update; a negative one lifts the limit
    escalate: { docker: ['ContainerUpdate'], flags: [{ flags: ['--pids-limit'], kind: 'pids_limit', value: 'match', globs: NEGATIVE }] },
  },
  { id: 'container-prune', paths: ['container prune'], decision: 'gate', verb: 'remove all stopped containers', docker: ['ContainerPrune'], values: ['--filter'], uses: 1 },
  { id: 'image-prune', paths: ['image prune'], decision: 'gate', verb: 'remove unused images', docker: ['ImagePrune'], values: ['--filter'], uses: 1, when: [{ flags: ['-a', '--all'], note: 'all unused, not only dangling' }] },
  { id: 'volume-prune', paths: ['volume prune'], decision: 'gate', verb: 'remove unused volumes', docker: ['VolumePrune'], values: ['--filter'], uses: 1, when: [{ flags: ['-a', '--all'], note: 'named volumes too' }] },
  { id: 'network-prune', paths: ['network prune'], decision: 'gate', verb: 'remove unused networks', docker: ['NetworkPrune'], values: ['--filter'], uses: 1 },
  {
    id: 'system-prune',
    paths: ['system prune'],
    decision: 'gate',
    verb: 'remove stopped containers, unused networks, dangling images and build cache',
    docker: ['ContainerPrune', 'NetworkPrune', 'ImagePrune', 'BuildPrune'],
    values: ['--filter'],
    uses: 1,
    when: [{ flags: ['--volumes'], add: ['VolumePrune'], note: 'with volumes' }, { flags: ['-a', '--all'], note: 'all unused images' }],
  },
  {
    id: 'builder-prune',
    paths: ['builder prune', 'buildx prune'],
    decision: 'gate',
    verb: 'remove build cache',
    docker: ['BuildPrune'],
    values: ['--filter', '--keep-storage', '--max-used-space', '--min-free-space', '--reserved-space', '--builder'],
    uses: 1,
    when: [{ flags: ['-a', '--all'], note: 'all cache' }],
  },
  { id: 'volume-rm', paths: ['volume rm', 'volume remove'], decision: 'gate', verb: 'remove volume', docker: ['VolumeDelete'], values: [], targets: { kind: 'volume', take: 'all' }, when: [FORCE_NOTE] },
  { id: 'network-rm', paths: ['network rm', 'network remove'], decision: 'gate', verb: 'remove network', docker: ['NetworkDelete'], values: [], targets: { kind: 'network', take: 'all' }, when: [FORCE_NOTE] },
  {
    id: 'compose-down',
    paths: ['compose down'],
    decision: 'gate',
    verb: "stop and remove the compose project's containers and networks",
    docker: ['ContainerStop', 'ContainerDelete', 'NetworkDelete'],
    values: ['--rmi', '-t', '--timeout'],
    uses: UNTARGETED_USES,
    when: [
      { flags: ['-v', '--volumes'], add: ['VolumeDelete'], note: 'with volumes' },
      { flags: ['--rmi'], add: ['ImageDelete'], note: 'with images' },
      { flags: ['--remove-orphans'], note: 'with orphans' },
    ],
  },
  {
    id: 'compose-rm',
    paths: ['compose rm'],
    decision: 'gate',
    verb: "remove the compose project's stopped containers",
    docker: ['ContainerDelete'],
    values: [],
    uses: UNTARGETED_USES,
    when: [{ flags: ['-s', '--stop'], add: ['ContainerStop'], note: 'stopping them first' }, { flags: ['-v', '--volumes'], note: 'with anonymous volumes' }, FORCE_NOTE],
  },
  { id: 'compose-stop', paths: ['compose stop'], decision: 'gate', verb: "stop the compose project's containers", docker: ['ContainerStop'], values: ['-t', '--timeout'], uses: UNTARGETED_USES },
  { id: 'compose-kill', paths: ['compose kill'], decision: 'gate', verb: "kill the compose project's containers", docker: ['ContainerKill'], values: ['-s', '--signal'], uses: UNTARGETED_USES },
  { id: 'compose-restart', paths: ['compose restart'], decision: 'gate', verb: "restart the compose project's containers", docker: ['ContainerRestart'], values: ['-t', '--timeout'], uses: UNTARGETED_USES },
  {
    id: 'compose-exec',
    paths: ['compose exec'],
    decision: 'gate',
    verb: 'run a command in a compose service',
    docker: ['ContainerExec'],
    values: ['-e', '--env', '-u', '--user', '-w', '--workdir', '--index'],
    stopAtFirst: true,
    uses: 1,
  },
  {
    id: 'exec',
    paths: ['exec', 'container exec'],
    decision: 'gate',
    verb: 'run a command in container',
    docker: ['ContainerExec'],
    values: ['--detach-keys', '-e', '--env', '--env-file', '-u', '--user', '-w', '--workdir'],
    targets: { kind: 'container', take: 'first' },
    stopAtFirst: true,
    when: [{ flags: ['--privileged'], note: 'privileged' }, { flags: ['-u', '--user'], note: 'as another user' }],
  },
  {
    id: 'cp',
    paths: ['cp', 'container cp'],
    decision: 'gate',
    verb: 'copy files',
    docker: ['ContainerArchive', 'PutContainerArchive'],
    values: [],
    targets: { kind: 'container', take: 'first' },
    cp: { out: ['ContainerArchive'], in: ['PutContainerArchive'] },
  },
  { id: 'export', paths: ['export', 'container export'], decision: 'gate', verb: 'export the filesystem of container', docker: ['ContainerExport'], values: ['-o', '--output'], targets: { kind: 'container', take: 'first' } },
  {
    id: 'commit',
    paths: ['commit', 'container commit'],
    decision: 'gate',
    verb: 'commit the files of a container to an image',
    docker: ['ImageCommit'],
    values: ['-a', '--author', '-c', '--change', '-m', '--message'],
    names: ['container', 'as'],
    uses: 1,
  },
  { id: 'load', paths: ['load', 'image load'], decision: 'gate', verb: 'load images from a tar', docker: ['ImageLoad'], values: ['-i', '--input', '--platform'], uses: 1 },
  { id: 'push', paths: ['push', 'image push'], decision: 'gate', verb: 'push image', docker: ['ImagePush'], values: ['--platform'], targets: { kind: 'image', take: 'first' } },

  // run/create: read-only unless an escalation flag is present (then gated as ContainerCreate) or `run` attaches
  // stdin (then gated as ContainerExec: the proxy decides that attach as an exec); attach/start -i likewise
  {
    id: 'run',
    paths: ['run', 'container run', 'create', 'container create'],
    decision: 'pass',
    verb: 'create and run a container',
    docker: ['ContainerCreate', 'ContainerStart', 'ContainerAttach', 'ContainerWait', 'ContainerInspect', 'ContainerResize', 'ImageCreate', 'ImageInspect'],
    values: RUN_VALUES,
    stopAtFirst: true,
    escalate: { docker: ['ContainerCreate'], flags: RUN_ESCALATIONS },
    // `run -i` / `-a stdin` attaches stdin unless detached; `create` never attaches
    stdin: { paths: ['run', 'container run'], default: false, on: ['-i', '--interactive'], onValue: { flags: ['-a', '--attach'], values: ['stdin'] }, off: ['-d', '--detach'], ...STDIN_EXEC },
  },
  {
    id: 'attach',
    paths: ['attach', 'container attach'],
    decision: 'pass',
    verb: 'attach to container',
    docker: ['ContainerWait', 'ContainerInspect', 'ContainerAttach', 'ContainerResize'],
    values: ['--detach-keys'],
    targets: { kind: 'container', take: 'first' },
    // the CLI attaches stdin when the container has an open stdin (`run -i`): the wrapper cannot see that, and asks
    stdin: { default: true, off: ['--no-stdin'], ...STDIN_EXEC },
  },

  // read-only: straight through, no call to Wingman
  { id: 'ps', paths: ['ps', 'container ls', 'container list', 'container ps'], decision: 'pass', verb: 'list containers', docker: ['ContainerList'], values: ['-f', '--filter', '--format', '-n', '--last'] },
  { id: 'logs', paths: ['logs', 'container logs'], decision: 'pass', verb: 'read logs', docker: ['ContainerLogs', 'ContainerInspect'], values: ['--since', '-n', '--tail', '--until'] },
  {
    id: 'inspect',
    paths: ['inspect', 'container inspect', 'image inspect', 'volume inspect', 'network inspect'],
    decision: 'pass',
    verb: 'inspect',
    docker: ['ContainerInspect', 'ImageInspect', 'VolumeInspect', 'NetworkInspect'],
    values: ['-f', '--format', '--type', '--platform'],
  },
  { id: 'images', paths: ['images', 'image ls', 'image list'], decision: 'pass', verb: 'list images', docker: ['ImageList'], values: ['-f', '--filter', '--format'] },
  { id: 'version', paths: ['version'], decision: 'pass', verb: 'show version', docker: ['SystemVersion'], values: ['-f', '--format'] },
  { id: 'info', paths: ['info', 'system info'], decision: 'pass', verb: 'show system info', docker: ['SystemInfo'], values: ['-f', '--format'] },
  { id: 'system-df', paths: ['system df'], decision: 'pass', verb: 'show disk usage', docker: ['SystemDataUsage'], values: ['--format'] },
  { id: 'buildx-ls', paths: ['buildx ls'], decision: 'pass', verb: 'list builders', docker: ['SystemInfo'], values: ['--format'] },
  { id: 'pull', paths: ['pull', 'image pull'], decision: 'pass', verb: 'pull image', docker: ['ImageCreate', 'ImageInspect'], values: ['--platform'] },
  {
    id: 'build',
    paths: ['build', 'image build', 'builder build', 'buildx build'],
    decision: 'pass',
    verb: 'build an image',
    docker: ['ImageBuild'],
    values: ['--add-host', '--build-arg', '--cache-from', '--cgroup-parent', '--cpu-period', '--cpu-quota', '-c', '--cpu-shares', '--cpuset-cpus', '--cpuset-mems', '-f', '--file', '--iidfile', '--isolation', '--label', '-m', '--memory', '--memory-swap', '--network', '--platform', '--security-opt', '--shm-size', '-t', '--tag', '--target', '--ulimit'],
  },
  {
    id: 'start',
    paths: ['start', 'container start'],
    decision: 'pass',
    verb: 'start container',
    docker: ['ContainerStart', 'ContainerAttach', 'ContainerInspect', 'ContainerWait'],
    values: ['--checkpoint', '--checkpoint-dir', '--detach-keys'],
    targets: { kind: 'container', take: 'first' },
    // `start -i` attaches stdin (with or without -a) when the container has an open stdin
    stdin: { default: false, on: ['-i', '--interactive'], ...STDIN_EXEC },
  },
  { id: 'unpause', paths: ['unpause', 'container unpause'], decision: 'pass', verb: 'unpause container', docker: ['ContainerUnpause'], values: [] },
  { id: 'stats', paths: ['stats', 'container stats'], decision: 'pass', verb: 'show stats', docker: ['ContainerStats', 'ContainerList'], values: ['--format'] },
  { id: 'top', paths: ['top', 'container top'], decision: 'pass', verb: 'list processes', docker: ['ContainerTop'], values: [] },
  { id: 'wait', paths: ['wait', 'container wait'], decision: 'pass', verb: 'wait for container', docker: ['ContainerWait'], values: [] },
  { id: 'tag', paths: ['tag', 'image tag'], decision: 'pass', verb: 'tag image', docker: ['ImageTag'], values: [] },
  { id: 'volume-ls', paths: ['volume ls', 'volume list'], decision: 'pass', verb: 'list volumes', docker: ['VolumeList'], values: ['-f', '--filter', '--format'] },
  {
    id: 'network-disconnect',
    paths: ['network disconnect'],
    decision: 'pass',
    verb: 'disconnect a container from network',
    docker: ['NetworkDisconnect'],
    values: [],
  },
  { id: 'network-ls', paths: ['network ls', 'network list'], decision: 'pass', verb: 'list networks', docker: ['NetworkList'], values: ['-f', '--filter', '--format'] },
  { id: 'events', paths: ['events', 'system events'], decision: 'pass', verb: 'follow events', docker: ['SystemEvents'], values: ['-f', '--filter', '--format', '--since', '--until'] },
  { id: 'compose-ps', paths: ['compose ps'], decision: 'pass', verb: 'list compose containers', docker: ['ContainerList'], values: ['--format', '--filter', '--status'] },
  { id: 'compose-logs', paths: ['compose logs'], decision: 'pass', verb: 'read compose logs', docker: ['ContainerList', 'ContainerLogs'], values: ['--since', '--until', '-n', '--tail', '--index'] },
  { id: 'compose-config', paths: ['compose config'], decision: 'pass', verb: 'render the compose file', docker: [], values: ['--format', '-o', '--output', '--hash'] },
] satisfies ShellRule[]);
