// The one Docker policy table. Keyed by method + route template exactly as dockerd's router registers them
// (`{name:.*}` params match across '/', like gorilla/mux in moby), in dockerd's registration order so that the
// first match here is the handler the daemon will run. Rule ids are the Engine API operation ids.
// Nothing outside this table decides what is destructive: callers only match and act.

export type Action = 'allow' | 'approve' | 'deny';
export type ObjectKind = 'container' | 'image' | 'volume' | 'network' | 'exec' | 'node' | 'service' | 'secret' | 'config' | 'plugin' | 'task' | 'swarm' | 'system';
export type Inspect =
  | 'container-create'
  | 'container-update'
  | 'container-start'
  | 'exec-create'
  | 'volume-create'
  | 'network-create'
  | 'service-spec'
  | 'plugin-privileges'
  | 'build-query'
  | 'image-create'
  /** a registry named in the path or query (distribution inspect, search, push): dockerd connects to it */
  | 'registry-host'
  /** `POST /auth`: dockerd logs in to the `ServerAddress` of the body */
  | 'auth'
  /** network connect/disconnect: the body names the container (read for ownership; no escalation of its own) */
  | 'network-connect';

/** Inspections decided on the query alone: the body (a tar stream) is forwarded as it comes. */
export const QUERY_ONLY_INSPECT: ReadonlySet<Inspect> = new Set<Inspect>(['build-query', 'image-create', 'registry-host']);

/**
 * Lists and prunes that reach every tenant's objects: the proxy scopes them to the caller's own (a label filter
 * dockerd applies, then the store's word on each item that comes back).
 */
export type Scope = 'containers' | 'volumes' | 'networks' | 'events' | 'df' | 'images';

export interface DockerRule {
  id: string;
  method: string;
  /** dockerd's template, e.g. `/containers/{name:.*}/json` */
  path: string;
  action: Action;
  /** the words a person reads in an approval: "remove container" */
  verb: string;
  object?: ObjectKind;
  /** reads are allowed during lockdown; everything else is refused then */
  read?: boolean;
  inspect?: Inspect;
  /** why the rule is what it is, where it is not obvious */
  why?: string;
  /**
   * What a sidecar's read-only proxy identity may call (its verifiers' needs, nothing more): `own` only on its
   * worker's container (for execs: an exec in that container), `any` on any target. Absent: refused to sidecars.
   */
  sidecar?: 'own' | 'worker' | 'any';
  /** the object is named in this query parameter, not in the path (`POST /commit?container=`) */
  targetQuery?: string;
  /** (images) the call moves or removes the reference it names: only its owner may */
  imageWrite?: boolean;
  scope?: Scope;
}

const R = (
  id: string,
  method: string,
  path: string,
  action: Action,
  verb: string,
  extra: Partial<DockerRule> = {},
): DockerRule => ({ id, method, path, action, verb, read: method === 'GET' || method === 'HEAD', ...extra });

const C = { object: 'container' as const };
/** on the sidecar identity: its worker's container only */
const OWN = { sidecar: 'own' as const };
const I = { object: 'image' as const };

export const DOCKER_RULES: readonly DockerRule[] = Object.freeze([
  // containers (moby api/server/router/container)
  R('ContainerArchiveInfo', 'HEAD', '/containers/{name:.*}/archive', 'allow', 'stat a path in container', { ...C, ...OWN }),
  R('ContainerList', 'GET', '/containers/json', 'allow', 'list containers', { scope: 'containers' }),
  R('ContainerExport', 'GET', '/containers/{name:.*}/export', 'approve', 'export the filesystem of container', { ...C, why: 'copies data out' }),
  R('ContainerChanges', 'GET', '/containers/{name:.*}/changes', 'allow', 'list changes in container', { ...C, ...OWN }),
  R('ContainerInspect', 'GET', '/containers/{name:.*}/json', 'allow', 'inspect container', {
    ...C,
    sidecar: 'worker',
    why: 'container_running claims name containers the worker started: its sidecar may inspect what its worker owns',
  }),
  R('ContainerTop', 'GET', '/containers/{name:.*}/top', 'allow', 'list processes of container', { ...C, ...OWN }),
  R('ContainerLogs', 'GET', '/containers/{name:.*}/logs', 'allow', 'read logs of container', C),
  R('ContainerStats', 'GET', '/containers/{name:.*}/stats', 'allow', 'read stats of container', C),
  R('ContainerAttachWebsocket', 'GET', '/containers/{name:.*}/attach/ws', 'allow', 'attach (websocket) to container', {
    ...C,
    read: false,
    why: 'writes to the container stdin: a write, refused during lockdown',
  }),
  R('ExecInspect', 'GET', '/exec/{id:.*}/json', 'allow', 'inspect exec', { object: 'exec', ...OWN }),
  R('ContainerArchive', 'GET', '/containers/{name:.*}/archive', 'approve', 'copy files out of container', { ...C, ...OWN, why: 'copies data out' }),
  R('ContainerCreate', 'POST', '/containers/create', 'allow', 'create container', { inspect: 'container-create' }),
  R('ContainerKill', 'POST', '/containers/{name:.*}/kill', 'approve', 'kill container', C),
  R('ContainerPause', 'POST', '/containers/{name:.*}/pause', 'approve', 'pause container', C),
  R('ContainerUnpause', 'POST', '/containers/{name:.*}/unpause', 'allow', 'unpause container', C),
  R('ContainerRestart', 'POST', '/containers/{name:.*}/restart', 'approve', 'restart container', C),
  R('ContainerStart', 'POST', '/containers/{name:.*}/start', 'allow', 'start container', {
    ...C,
    inspect: 'container-start',
    why: 'API < 1.24 still applies a HostConfig sent at start',
  }),
  R('ContainerStop', 'POST', '/containers/{name:.*}/stop', 'approve', 'stop container', C),
  R('ContainerWait', 'POST', '/containers/{name:.*}/wait', 'allow', 'wait for container', { ...C, read: true }),
  R('ContainerResize', 'POST', '/containers/{name:.*}/resize', 'allow', 'resize the tty of container', C),
  R('ContainerAttach', 'POST', '/containers/{name:.*}/attach', 'allow', 'attach to container', C),
  R('ContainerCopy', 'POST', '/containers/{name:.*}/copy', 'approve', 'copy files out of container (legacy)', C),
  R('ContainerExec', 'POST', '/containers/{name:.*}/exec', 'approve', 'run a command in container', {
    ...C,
    ...OWN,
    inspect: 'exec-create',
  }),
  R('ExecStart', 'POST', '/exec/{name:.*}/start', 'allow', 'start exec', {
    object: 'exec',
    ...OWN,
    why: 'creating the exec needed approval; starting it runs what was approved',
  }),
  R('ExecResize', 'POST', '/exec/{name:.*}/resize', 'allow', 'resize exec tty', { object: 'exec' }),
  R('ContainerRename', 'POST', '/containers/{name:.*}/rename', 'approve', 'rename container', C),
  R('ContainerUpdate', 'POST', '/containers/{name:.*}/update', 'approve', 'update resources of container', { ...C, inspect: 'container-update' }),
  R('ContainerPrune', 'POST', '/containers/prune', 'approve', 'remove all stopped containers', { scope: 'containers' }),
  R('ImageCommit', 'POST', '/commit', 'approve', 'commit the files of container to an image', {
    ...C,
    targetQuery: 'container',
    why: 'copies data out: the image can be saved or run elsewhere (the same decision as export)',
  }),
  R('PutContainerArchive', 'PUT', '/containers/{name:.*}/archive', 'approve', 'copy files into container', C),
  R('ContainerDelete', 'DELETE', '/containers/{name:.*}', 'approve', 'remove container', C),

  // images (moby api/server/router/image)
  R('ImageList', 'GET', '/images/json', 'allow', 'list images'),
  R('ImageSearch', 'GET', '/images/search', 'allow', 'search images', { inspect: 'registry-host' }),
  R('ImageGetAll', 'GET', '/images/get', 'allow', 'export images'),
  R('ImageGet', 'GET', '/images/{name:.*}/get', 'allow', 'export image', I),
  R('ImageHistory', 'GET', '/images/{name:.*}/history', 'allow', 'show history of image', I),
  R('ImageInspect', 'GET', '/images/{name:.*}/json', 'allow', 'inspect image', I),
  R('ImageLoad', 'POST', '/images/load', 'approve', 'load images from a tar', {
    why: 'the tar names the references it sets: it can move any tag, so a human sees it (the op hash covers the tar)',
  }),
  R('ImageCreate', 'POST', '/images/create', 'allow', 'pull or import an image', { inspect: 'image-create' }),
  R('ImagePush', 'POST', '/images/{name:.*}/push', 'approve', 'push image', { ...I, inspect: 'registry-host', why: 'sends code to a registry' }),
  R('ImageTag', 'POST', '/images/{name:.*}/tag', 'allow', 'tag image', I),
  R('ImagePrune', 'POST', '/images/prune', 'approve', 'remove unused images', { scope: 'images' }),
  R('ImageDelete', 'DELETE', '/images/{name:.*}', 'approve', 'remove image', { ...I, imageWrite: true }),

  // system
  R('SystemPingHead', 'HEAD', '/_ping', 'allow', 'ping', { sidecar: 'any' }),
  R('SystemPing', 'GET', '/_ping', 'allow', 'ping', { sidecar: 'any' }),
  R('SystemEvents', 'GET', '/events', 'allow', 'follow events', { scope: 'events' }),
  R('SystemInfo', 'GET', '/info', 'allow', 'show system info'),
  R('SystemVersion', 'GET', '/version', 'allow', 'show version', { sidecar: 'any' }),
  R('SystemDataUsage', 'GET', '/system/df', 'allow', 'show disk usage', { scope: 'df' }),
  R('SystemAuth', 'POST', '/auth', 'allow', 'check registry credentials', { inspect: 'auth' }),

  // volumes
  R('VolumeList', 'GET', '/volumes', 'allow', 'list volumes', { scope: 'volumes' }),
  R('VolumeInspect', 'GET', '/volumes/{name:.*}', 'allow', 'inspect volume', { object: 'volume' }),
  R('VolumeCreate', 'POST', '/volumes/create', 'allow', 'create volume', { inspect: 'volume-create' }),
  R('VolumePrune', 'POST', '/volumes/prune', 'approve', 'remove unused volumes', { scope: 'volumes' }),
  R('VolumeUpdate', 'PUT', '/volumes/{name:.*}', 'approve', 'update cluster volume', { object: 'volume' }),
  R('VolumeDelete', 'DELETE', '/volumes/{name:.*}', 'approve', 'remove volume', { object: 'volume' }),

  // build
  R('ImageBuild', 'POST', '/build', 'allow', 'build an image', { inspect: 'build-query' }),
  R('BuildPrune', 'POST', '/build/prune', 'approve', 'remove build cache'),
  R('BuildCancel', 'POST', '/build/cancel', 'allow', 'cancel a build'),

  // h2c tunnels and debug endpoints carry whole other protocols past any per-request check: refused outright
  R('Session', 'POST', '/session', 'deny', 'open a BuildKit session', { why: 'h2c tunnel' }),
  R('Grpc', 'POST', '/grpc', 'deny', 'open a gRPC tunnel', { why: 'h2c tunnel' }),
  R('Debug', '*', '/debug/{rest:.*}', 'deny', 'use a debug endpoint', { read: false, why: 'pprof and vars leak memory and secrets' }),

  // swarm
  R('SwarmInspect', 'GET', '/swarm', 'allow', 'inspect swarm', { object: 'swarm' }),
  R('SwarmUnlockkey', 'GET', '/swarm/unlockkey', 'approve', 'read the swarm unlock key', { read: false, why: 'a secret' }),
  R('SwarmInit', 'POST', '/swarm/init', 'approve', 'initialise a swarm'),
  R('SwarmJoin', 'POST', '/swarm/join', 'approve', 'join a swarm'),
  R('SwarmLeave', 'POST', '/swarm/leave', 'approve', 'leave the swarm'),
  R('SwarmUpdate', 'POST', '/swarm/update', 'approve', 'update the swarm'),
  R('SwarmUnlock', 'POST', '/swarm/unlock', 'approve', 'unlock the swarm'),
  R('ServiceList', 'GET', '/services', 'allow', 'list services'),
  R('ServiceInspect', 'GET', '/services/{id}', 'allow', 'inspect service', { object: 'service' }),
  R('NodeList', 'GET', '/nodes', 'allow', 'list nodes'),
  R('NodeInspect', 'GET', '/nodes/{id}', 'allow', 'inspect node', { object: 'node' }),
  R('TaskList', 'GET', '/tasks', 'allow', 'list tasks'),
  R('TaskInspect', 'GET', '/tasks/{id}', 'allow', 'inspect task', { object: 'task' }),
  R('SecretList', 'GET', '/secrets', 'allow', 'list secrets'),
  R('SecretInspect', 'GET', '/secrets/{id}', 'allow', 'inspect secret', { object: 'secret' }),
  R('ConfigList', 'GET', '/configs', 'allow', 'list configs'),
  R('ConfigInspect', 'GET', '/configs/{id}', 'allow', 'inspect config', { object: 'config' }),
  R('ServiceLogs', 'GET', '/services/{id}/logs', 'allow', 'read logs of service', { object: 'service' }),
  R('TaskLogs', 'GET', '/tasks/{id}/logs', 'allow', 'read logs of task', { object: 'task' }),
  R('ServiceCreate', 'POST', '/services/create', 'approve', 'create service', { inspect: 'service-spec' }),
  R('ServiceUpdate', 'POST', '/services/{id}/update', 'approve', 'update service', { object: 'service', inspect: 'service-spec' }),
  R('NodeUpdate', 'POST', '/nodes/{id}/update', 'approve', 'update node', { object: 'node' }),
  R('SecretCreate', 'POST', '/secrets/create', 'approve', 'create secret'),
  R('SecretUpdate', 'POST', '/secrets/{id}/update', 'approve', 'update secret', { object: 'secret' }),
  R('ConfigCreate', 'POST', '/configs/create', 'approve', 'create config'),
  R('ConfigUpdate', 'POST', '/configs/{id}/update', 'approve', 'update config', { object: 'config' }),
  R('ServiceDelete', 'DELETE', '/services/{id}', 'approve', 'remove service', { object: 'service' }),
  R('NodeDelete', 'DELETE', '/nodes/{id}', 'approve', 'remove node', { object: 'node' }),
  R('SecretDelete', 'DELETE', '/secrets/{id}', 'approve', 'remove secret', { object: 'secret' }),
  R('ConfigDelete', 'DELETE', '/configs/{id}', 'approve', 'remove config', { object: 'config' }),

  // plugins: every change runs privileged code on the host
  R('PluginList', 'GET', '/plugins', 'allow', 'list plugins'),
  R('GetPluginPrivileges', 'GET', '/plugins/privileges', 'allow', 'list plugin privileges'),
  R('PluginInspect', 'GET', '/plugins/{name:.*}/json', 'allow', 'inspect plugin', { object: 'plugin' }),
  R('PluginDelete', 'DELETE', '/plugins/{name:.*}', 'approve', 'remove plugin', { object: 'plugin' }),
  R('PluginEnable', 'POST', '/plugins/{name:.*}/enable', 'approve', 'enable plugin', { object: 'plugin' }),
  R('PluginDisable', 'POST', '/plugins/{name:.*}/disable', 'approve', 'disable plugin', { object: 'plugin' }),
  R('PluginPull', 'POST', '/plugins/pull', 'approve', 'install a plugin', { inspect: 'plugin-privileges' }),
  R('PluginPush', 'POST', '/plugins/{name:.*}/push', 'approve', 'push plugin', { object: 'plugin' }),
  R('PluginUpgrade', 'POST', '/plugins/{name:.*}/upgrade', 'approve', 'upgrade plugin', { object: 'plugin', inspect: 'plugin-privileges' }),
  R('PluginCreate', 'POST', '/plugins/create', 'approve', 'create a plugin'),
  R('PluginSet', 'POST', '/plugins/{name:.*}/set', 'approve', 'configure plugin', { object: 'plugin' }),

  // distribution
  R('DistributionInspect', 'GET', '/distribution/{name:.*}/json', 'allow', 'inspect a registry image', { inspect: 'registry-host' }),

  // networks
  R('NetworkList', 'GET', '/networks', 'allow', 'list networks', { scope: 'networks' }),
  R('NetworkInspect', 'GET', '/networks/{id:.+}', 'allow', 'inspect network', { object: 'network' }),
  R('NetworkCreate', 'POST', '/networks/create', 'allow', 'create network', { inspect: 'network-create' }),
  R('NetworkConnect', 'POST', '/networks/{id:.*}/connect', 'allow', 'connect a container to network', {
    object: 'network',
    inspect: 'network-connect',
  }),
  R('NetworkDisconnect', 'POST', '/networks/{id:.*}/disconnect', 'allow', 'disconnect a container from network', {
    object: 'network',
    inspect: 'network-connect',
    why: 'both the network and the container must be the worker\'s own: nothing of anyone else changes',
  }),
  R('NetworkPrune', 'POST', '/networks/prune', 'approve', 'remove unused networks', { scope: 'networks' }),
  R('NetworkDelete', 'DELETE', '/networks/{id:.*}', 'approve', 'remove network', { object: 'network' }),
]);

/** What happens to a request no rule matches: a human decides (fail closed). */
export const UNKNOWN_RULE: DockerRule = Object.freeze({
  id: 'Unknown',
  method: '*',
  path: '*',
  action: 'approve',
  verb: 'call an endpoint Wingman does not know',
  read: false,
});

export const ACTIONS: readonly Action[] = ['allow', 'approve', 'deny'];
