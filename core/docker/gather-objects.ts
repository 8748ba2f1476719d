// Resolve the objects a request names (core/policy/object-facts.ts) against the engine and the ownership store,
// before deciding: ids, names, existence and owners. I/O lives here; decide() receives the result.
import type { DockerRule } from '../policy/docker-rules.js';
import type { JVal } from '../policy/go-json.js';
import type { NormalizedTarget } from '../policy/normalize.js';
import { requestedObjects, routeTarget, type ObjectFact, type ObjectFacts, type RequestedObject } from '../policy/object-facts.js';
import { normalizeImageRef } from '../ownership/image-ref.js';
import type { Ownership } from '../ownership/ownership.js';
import type { EngineLookup } from './engine-lookup.js';

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Engine ids (containers, execs, networks) are never reused, so a full id the store knows needs no lookup. */
const FULL_ID = /^[0-9a-f]{64}$/;

export async function resolveObject(engine: EngineLookup, ownership: Ownership, o: RequestedObject): Promise<ObjectFact> {
  const missing: ObjectFact = { ...o, exists: false, names: [o.ref], owner: null };
  if ((o.kind === 'container' || o.kind === 'exec' || o.kind === 'network') && FULL_ID.test(o.ref)) {
    // If it is gone since, dockerd answers 404 for the id itself: nothing else can answer to it.
    const owner = await ownership.ownerOf(o.kind, o.ref);
    if (owner) return { ...o, exists: true, id: o.ref, names: [o.ref], owner };
  }
  switch (o.kind) {
    case 'container': {
      const c = await engine.inspect('container', o.ref);
      if (!c) return missing;
      const id = str(c.Id);
      return { ...o, exists: true, id, names: [str(c.Name).replace(/^\//, '')], owner: (await ownership.ownerOf('container', id)) ?? null };
    }
    case 'exec': {
      const e = await engine.inspect('exec', o.ref);
      if (!e) return missing;
      const id = str(e.ID);
      return { ...o, exists: true, id, names: [id], owner: (await ownership.ownerOf('exec', id)) ?? null };
    }
    case 'volume': {
      const v = await engine.inspect('volume', o.ref);
      if (!v) return missing;
      const name = str(v.Name);
      return { ...o, exists: true, id: name, names: [name], owner: (await ownership.ownerOf('volume', name)) ?? null };
    }
    case 'network': {
      const n = await engine.inspect('network', o.ref);
      if (!n) return missing;
      const id = str(n.Id);
      return { ...o, exists: true, id, names: [str(n.Name)], owner: (await ownership.ownerOf('network', id)) ?? null };
    }
    case 'image': {
      const img = await engine.inspect('image', o.ref);
      const ref = normalizeImageRef(o.ref);
      if (!img) return { ...missing, id: ref };
      const tags: string[] = Array.isArray(img.RepoTags) ? img.RepoTags.filter((x): x is string => typeof x === 'string') : [];
      if (ref === undefined) {
        // Named by id or digest: the call acts on the image and every reference it has.
        const owners = await ownership.ownersOf('image', tags);
        return { ...o, exists: true, id: str(img.Id), names: tags.length ? tags : [str(img.Id)], owner: null, refOwners: tags.map((t) => [t, owners.get(t) ?? null]) };
      }
      // A reference that the engine resolves but does not list (pulled by digest, …) still names this one ref.
      return { ...o, exists: tags.includes(ref) || o.use !== 'new-ref', id: ref, names: [ref], owner: (await ownership.ownerOf('image', ref)) ?? null };
    }
  }
}

export async function gatherObjects(
  engine: EngineLookup,
  ownership: Ownership,
  rule: DockerRule,
  params: Record<string, string>,
  target: NormalizedTarget,
  body: JVal | undefined,
): Promise<ObjectFacts> {
  const t = routeTarget(rule, params, target);
  const refs = requestedObjects(rule, target, body);
  const [tf, ...rf] = await Promise.all([t ? resolveObject(engine, ownership, t) : undefined, ...refs.map((r) => resolveObject(engine, ownership, r))]);
  return { target: tf, refs: rf };
}
