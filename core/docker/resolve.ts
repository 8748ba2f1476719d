// Resolve the names in a request to the ids Docker will act on, at decision time, so an approval for `web`
// cannot be spent on a different container later created under that name. Also gathers the host facts the
// policy needs (real paths of bind sources, options of named volumes). I/O lives here; decide() stays pure.
import fs from 'node:fs';
import type Dockerode from 'dockerode';
import type { DockerRule } from '../policy/docker-rules.js';
import type { HostFacts } from '../policy/escalation.js';

export class NotFound extends Error {
  constructor(readonly kind: string, readonly name: string) {
    super(`No such ${kind}: ${name}`);
  }
}

const is404 = (err: unknown) => (err as { statusCode?: number }).statusCode === 404;

async function lookup<T>(kind: string, name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (is404(err)) throw new NotFound(kind, name);
    throw err;
  }
}

export interface Resolved {
  /** params with container/network/exec names replaced by full ids (images keep their reference) */
  params: Record<string, string>;
  /** the image id a reference pointed at when decided (images are forwarded by reference: see below) */
  imageId?: string;
}

export async function resolveParams(docker: Dockerode, rule: DockerRule, params: Record<string, string>): Promise<Resolved> {
  const key = Object.keys(params)[0];
  if (!key || !rule.object) return { params };
  const name = params[key];
  const out = { ...params };
  switch (rule.object) {
    case 'container':
      out[key] = (await lookup('container', name, () => docker.getContainer(name).inspect())).Id;
      return { params: out };
    case 'network':
      out[key] = (await lookup('network', name, () => docker.getNetwork(name).inspect())).Id;
      return { params: out };
    case 'exec':
      out[key] = (await lookup('exec', name, () => docker.getExec(name).inspect())).ID;
      return { params: out };
    case 'volume':
      out[key] = (await lookup('volume', name, () => docker.getVolume(name).inspect())).Name;
      return { params: out };
    case 'image': {
      // Deleting by id would change `docker rmi repo:tag` (untag) into deleting every tag, so images are
      // forwarded by reference; the id is bound into the op hash and re-checked just before forwarding.
      const img = await lookup('image', name, () => docker.getImage(name).inspect());
      return { params: out, imageId: img.Id };
    }
    default:
      return { params };
  }
}

/** The container an exec runs in (404 → NotFound). */
export async function execContainerId(docker: Dockerode, execId: string): Promise<string> {
  return (await lookup('exec', execId, () => docker.getExec(execId).inspect())).ContainerID;
}

export async function currentImageId(docker: Dockerode, ref: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(ref).inspect()).Id;
  } catch {
    return undefined;
  }
}

export async function gatherFacts(docker: Dockerode, paths: string[], volumes: string[]): Promise<HostFacts> {
  const facts: HostFacts = {};
  if (paths.length) {
    facts.realpaths = {};
    for (const p of paths) {
      // The proxy runs on the Docker host, so the host's symlinks are visible here; a missing path is created by
      // dockerd as a directory, so the literal path is what counts then.
      try {
        facts.realpaths[p] = await fs.promises.realpath(p);
      } catch {
        /* not there (yet) */
      }
    }
  }
  if (volumes.length) {
    facts.volumes = {};
    for (const v of volumes) {
      try {
        const info = await docker.getVolume(v).inspect();
        facts.volumes[v] = { driver: info.Driver ?? '', options: (info.Options) ?? {} };
      } catch {
        /* a volume that does not exist yet is created by dockerd with the default local driver */
      }
    }
  }
  return facts;
}

/** Put resolved params back into a route template: `/containers/{name}` → `/containers/<id>`. */
export function fillRoute(route: string, params: Record<string, string>): string {
  return route.replace(/\{(\w+)\}/g, (_, n: string) => params[n] ?? '');
}
