// Which Docker objects a request touches, and whose they are. `requestedObjects()` is pure: it reads the route,
// query and canonical body and says what must be looked up. The caller resolves each (core/docker/gather-objects.ts)
// and hands decide() the facts; decide() never looks anything up itself.
import type { DockerRule } from './docker-rules.js';
import { field, isObj, text as str, type JVal } from './go-json.js';
import { queryGet, type NormalizedTarget } from './normalize.js';
import { refFromRepoTag } from '../ownership/image-ref.js';

export type OwnedObjectKind = 'container' | 'exec' | 'volume' | 'network' | 'image';

/** How the request uses an object: what it may do to it decides the access it needs. */
export type ObjectUse =
  /** the object the route names (`/containers/{name}/…`, `?container=` of commit) */
  | 'target'
  /** a named volume mounted writable / read-only */
  | 'mount'
  | 'mount-ro'
  /** a network a container joins */
  | 'network'
  /** another container reached by name (links, network connect/disconnect) */
  | 'container'
  /** an image reference the call will create or move (tag, commit, build -t, pull, import) */
  | 'new-ref'
  /** a volume name the call creates (dockerd hands back an existing volume of that name as if it were new) */
  | 'create';

export interface RequestedObject {
  kind: OwnedObjectKind;
  /** as the request names it */
  ref: string;
  use: ObjectUse;
}

export interface ObjectFact extends RequestedObject {
  exists: boolean;
  /** the engine's id (containers, execs, networks), the name (volumes), the normalised reference (images) */
  id?: string;
  /** what a person and a `shared:` pattern see: container/volume/network names, an image's references */
  names: string[];
  /** the worker that owns it; null: nobody's (ops', pre-existing, or Wingman's own) */
  owner: string | null;
  /** (images named by id) every reference of the image, with its owner */
  refOwners?: Array<[string, string | null]>;
}

export interface ObjectFacts {
  target?: ObjectFact;
  refs: ObjectFact[];
}

/**
 * Networks every container may use: dockerd's defaults (`host` is refused as an escalation elsewhere). dockerd
 * compares these names exactly: a network someone named `Bridge` is theirs, not the default.
 */
export const BUILTIN_NETWORKS = new Set(['', 'default', 'bridge', 'none', 'host']);


function hostConfigObjects(hc: JVal | undefined, out: RequestedObject[]): void {
  if (!isObj(hc)) return;
  const binds = field(hc, 'Binds');
  if (Array.isArray(binds)) {
    for (const b of binds.map(str)) {
      const parts = b.split(':');
      const src = parts[0] ?? '';
      if (src === '' || src.startsWith('/')) continue;
      const mode = (parts.length >= 3 ? parts[parts.length - 1] ?? '' : '').split(',');
      out.push({ kind: 'volume', ref: src, use: mode.includes('ro') ? 'mount-ro' : 'mount' });
    }
  }
  const mounts = field(hc, 'Mounts');
  if (Array.isArray(mounts)) {
    for (const m of mounts) {
      const type = str(field(m, 'Type')).toLowerCase();
      const source = str(field(m, 'Source'));
      if ((type === 'volume' || type === '') && source !== '') {
        out.push({ kind: 'volume', ref: source, use: field(m, 'ReadOnly') === true ? 'mount-ro' : 'mount' });
      }
    }
  }
  const mode = str(field(hc, 'NetworkMode'));
  if (!BUILTIN_NETWORKS.has(mode) && !mode.startsWith('container:')) {
    out.push({ kind: 'network', ref: mode, use: 'network' });
  }
  const links = field(hc, 'Links');
  if (Array.isArray(links)) {
    for (const l of links.map(str)) {
      const name = (l.split(':')[0] ?? '').replace(/^\//, '');
      if (name !== '') out.push({ kind: 'container', ref: name, use: 'container' });
    }
  }
}

/** Everything a request names besides its route target, for the caller to resolve. */
export function requestedObjects(rule: DockerRule, target: NormalizedTarget, body: JVal | undefined): RequestedObject[] {
  const out: RequestedObject[] = [];
  const newRef = (ref: string | undefined) => {
    if (ref) out.push({ kind: 'image', ref, use: 'new-ref' });
  };
  switch (rule.id) {
    case 'ContainerCreate': {
      hostConfigObjects(body, out); // legacy top-level HostConfig fields
      hostConfigObjects(field(body, 'HostConfig'), out);
      const eps = field(field(body, 'NetworkingConfig'), 'EndpointsConfig');
      if (isObj(eps)) {
        for (const k of Object.keys(eps)) {
          if (!BUILTIN_NETWORKS.has(k)) out.push({ kind: 'network', ref: k, use: 'network' });
        }
      }
      break;
    }
    case 'ContainerStart':
      hostConfigObjects(body, out);
      break;
    case 'NetworkCreate': {
      // A network made from another's config-only network takes its settings.
      const from = str(field(field(body, 'ConfigFrom'), 'Network'));
      if (from !== '') out.push({ kind: 'network', ref: from, use: 'network' });
      break;
    }
    case 'VolumeCreate': {
      const name = str(field(body, 'Name'));
      if (name !== '') out.push({ kind: 'volume', ref: name, use: 'create' });
      break;
    }
    case 'NetworkConnect':
    case 'NetworkDisconnect': {
      const c = str(field(body, 'Container'));
      if (c !== '') out.push({ kind: 'container', ref: c, use: 'container' });
      break;
    }
    case 'ImageTag':
    case 'ImageCommit':
      newRef(refFromRepoTag(queryGet(target.query, 'repo'), queryGet(target.query, 'tag')));
      break;
    case 'ImageBuild': {
      for (const [k, v] of target.query) if (k === 't') newRef(refFromRepoTag(v, ''));
      // RUN steps join this network: another tenant's would put them next to its containers.
      const mode = queryGet(target.query, 'networkmode');
      if (!BUILTIN_NETWORKS.has(mode) && !mode.startsWith('container:')) out.push({ kind: 'network', ref: mode, use: 'network' });
      break;
    }
    case 'ImageCreate': {
      const fromSrc = queryGet(target.query, 'fromSrc');
      if (fromSrc !== '') newRef(refFromRepoTag(queryGet(target.query, 'repo'), queryGet(target.query, 'tag')));
      else newRef(refFromRepoTag(queryGet(target.query, 'fromImage'), queryGet(target.query, 'tag')));
      break;
    }
    default:
      break;
  }
  // One fact per object and use.
  const seen = new Set<string>();
  return out.filter((o) => {
    const k = `${o.kind}\0${o.ref}\0${o.use}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The object a route names (path param, or the query parameter of `/commit`), if the rule has one. */
export function routeTarget(rule: DockerRule, params: Record<string, string>, target: NormalizedTarget): RequestedObject | undefined {
  if (!rule.object) return undefined;
  if (!['container', 'exec', 'volume', 'network', 'image'].includes(rule.object)) return undefined;
  const ref = rule.targetQuery ? queryGet(target.query, rule.targetQuery) : params[Object.keys(params)[0] ?? ''];
  if (ref === undefined || ref === '') return undefined;
  return { kind: rule.object as OwnedObjectKind, ref, use: 'target' };
}
