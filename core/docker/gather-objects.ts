// Resolve the objects a request names (core/policy/object-facts.ts) against the engine and the ownership store,
// before deciding: ids, names, existence and owners. I/O lives here; decide() receives the result.
import type Dockerode from 'dockerode';
import type { DockerRule } from '../policy/docker-rules.js';
import type { JVal } from '../policy/go-json.js';
import type { NormalizedTarget } from '../policy/normalize.js';
import { requestedObjects, routeTarget, type ObjectFact, type ObjectFacts, type RequestedObject } from '../policy/object-facts.js';
import { normalizeImageRef } from '../ownership/image-ref.js';
import type { Ownership } from '../ownership/ownership.js';

const is404 = (err: unknown) => (err as { statusCode?: number }).statusCode === 404;

async function inspectOr404<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (is404(err)) return undefined;
    throw err;
  }
}

/** Engine ids (containers, execs, networks) are never reused, so a full id the store knows needs no lookup. */
const FULL_ID = /^[0-9a-f]{64}$/;

export async function resolveObject(docker: Dockerode, ownership: Ownership, o: RequestedObject): Promise<ObjectFact> {
  const missing: ObjectFact = { ...o, exists: false, names: [o.ref], owner: null };
  if ((o.kind === 'container' || o.kind === 'exec' || o.kind === 'network') && FULL_ID.test(o.ref)) {
    // If it is gone since, dockerd answers 404 for the id itself: nothing else can answer to it.
    const owner = await ownership.ownerOf(o.kind, o.ref);
    if (owner) return { ...o, exists: true, id: o.ref, names: [o.ref], owner };
  }
  switch (o.kind) {
    case 'container': {
      const c = await inspectOr404(() => docker.getContainer(o.ref).inspect());
      if (!c) return missing;
      return { ...o, exists: true, id: c.Id, names: [c.Name.replace(/^\//, '')], owner: (await ownership.ownerOf('container', c.Id)) ?? null };
    }
    case 'exec': {
      const e = await inspectOr404(() => docker.getExec(o.ref).inspect());
      if (!e) return missing;
      return { ...o, exists: true, id: e.ID, names: [e.ID], owner: (await ownership.ownerOf('exec', e.ID)) ?? null };
    }
    case 'volume': {
      const v = await inspectOr404(() => docker.getVolume(o.ref).inspect());
      if (!v) return missing;
      return { ...o, exists: true, id: v.Name, names: [v.Name], owner: (await ownership.ownerOf('volume', v.Name)) ?? null };
    }
    case 'network': {
      const n = await inspectOr404(() => docker.getNetwork(o.ref).inspect());
      if (!n) return missing;
      return { ...o, exists: true, id: n.Id, names: [n.Name], owner: (await ownership.ownerOf('network', n.Id)) ?? null };
    }
    case 'image': {
      const img = await inspectOr404(() => docker.getImage(o.ref).inspect());
      const ref = normalizeImageRef(o.ref);
      if (!img) return { ...missing, id: ref };
      const tags: string[] = img.RepoTags ?? [];
      if (ref === undefined) {
        // Named by id or digest: the call acts on the image and every reference it has.
        const owners = await ownership.ownersOf('image', tags);
        return { ...o, exists: true, id: img.Id, names: tags.length ? tags : [img.Id], owner: null, refOwners: tags.map((t) => [t, owners.get(t) ?? null]) };
      }
      // A reference that the engine resolves but does not list (pulled by digest, …) still names this one ref.
      return { ...o, exists: tags.includes(ref) || o.use !== 'new-ref', id: ref, names: [ref], owner: (await ownership.ownerOf('image', ref)) ?? null };
    }
  }
}

export async function gatherObjects(
  docker: Dockerode,
  ownership: Ownership,
  rule: DockerRule,
  params: Record<string, string>,
  target: NormalizedTarget,
  body: JVal | undefined,
): Promise<ObjectFacts> {
  const t = routeTarget(rule, params, target);
  const refs = requestedObjects(rule, target, body);
  const [tf, ...rf] = await Promise.all([t ? resolveObject(docker, ownership, t) : undefined, ...refs.map((r) => resolveObject(docker, ownership, r))]);
  return { target: tf, refs: rf as ObjectFact[] };
}
