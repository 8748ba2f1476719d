// What a call's answer means for ownership: creates record their new object as the worker's own (its id comes
// back in the answer), removals free a name for anyone again, and lists are cut down to the worker's own items
// (dockerd already filtered on the owner label; the store has the last word, since labels can be forged through
// an image's own labels).
import type { DockerRule, Scope } from '../core/policy/docker-rules.js';
import type { NormalizedTarget } from '../core/policy/normalize.js';
import { queryGet } from '../core/policy/normalize.js';
import type { ObjectFacts } from '../core/policy/object-facts.js';
import { normalizeImageRef, refFromRepoTag } from '../core/ownership/image-ref.js';
import type { OwnedKind, Ownership } from '../core/ownership/ownership.js';
import type { ProxyDeps } from './handle-call.js';
import { asText } from '../core/util/as-text.js';

/** Rules whose answer names what was created (ids, `Loaded image:` lines). */
const CAPTURE = new Set(['ContainerCreate', 'ContainerExec', 'VolumeCreate', 'NetworkCreate', 'ImageCommit', 'ImageLoad']);
export const needsCapture = (ruleId: string) => CAPTURE.has(ruleId);

/** Rules whose success changes who owns what. */
const AFTER = new Set([...CAPTURE, 'ImageTag', 'ImageBuild', 'ImageCreate', 'VolumeDelete', 'ImageDelete']);
export const needsAfter = (ruleId: string) => AFTER.has(ruleId);

/** Lists (not prunes, whose answer is a report of what was removed) are cut down to the worker's own items. */
export const needsFiltering = (rule: DockerRule) =>
  rule.method === 'GET' && (rule.scope === 'containers' || rule.scope === 'volumes' || rule.scope === 'networks' || rule.scope === 'df');

function json(buf: Buffer | undefined): Record<string, unknown> | undefined {
  if (!buf || buf.length === 0) return undefined;
  try {
    const v = JSON.parse(buf.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

async function keepOwned<T>(ownership: Ownership, worker: string, kind: OwnedKind, items: T[], idOf: (x: T) => string): Promise<T[]> {
  // With the store down a list shows what is known to be the worker's, never anything else.
  const owners = await ownership.ownersOf(kind, items.map(idOf).filter(Boolean), { partial: true });
  return items.filter((x) => owners.get(idOf(x)) === worker);
}

/** A list answer with only the worker's own items (the lists of containers, volumes, networks; `system df`). */
export async function filterListed(ownership: Ownership, worker: string, scope: Scope, body: Buffer): Promise<Buffer> {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    return Buffer.from('[]');
  }
  const id = (x: unknown) => asText((x as { Id?: unknown }).Id, '');
  const name = (x: unknown) => asText((x as { Name?: unknown }).Name, '');
  const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
  let dropped = 0;
  const keep = async (kind: OwnedKind, items: unknown[], idOf: (x: unknown) => string) => {
    const kept = await keepOwned(ownership, worker, kind, items, idOf);
    dropped += items.length - kept.length;
    return kept;
  };
  if (scope === 'containers') v = await keep('container', arr(v), id);
  else if (scope === 'networks') v = await keep('network', arr(v), id);
  else if (scope === 'volumes' && typeof v === 'object' && v !== null) {
    const o = v as { Volumes?: unknown };
    o.Volumes = await keep('volume', arr(o.Volumes), name);
  } else if (scope === 'df' && typeof v === 'object' && v !== null) {
    const o = v as { Containers?: unknown; Volumes?: unknown };
    o.Containers = await keep('container', arr(o.Containers), id);
    o.Volumes = await keep('volume', arr(o.Volumes), name);
  }
  // Everything in it was the worker's (dockerd's label filter did the work): the engine's own bytes go out.
  return dropped === 0 ? body : Buffer.from(JSON.stringify(v));
}

const ok = (status: number) => status >= 200 && status < 300;

/** Record what a successful call created for the worker, or forget what it removed. */
export async function afterForward(
  deps: ProxyDeps,
  worker: string,
  ruleId: string,
  target: NormalizedTarget,
  objects: ObjectFacts | undefined,
  status: number,
  captured: Buffer | undefined,
): Promise<void> {
  if (!ok(status)) return;
  const { ownership, docker } = deps;
  const answer = json(captured);
  switch (ruleId) {
    case 'ContainerCreate': {
      const id = typeof answer?.Id === 'string' ? answer.Id : undefined;
      if (!id) return;
      const name = queryGet(target.query, 'name');
      await ownership.record('container', id, worker, name ? { name } : {});
      // Volumes dockerd made for it (named ones that did not exist yet, anonymous ones) are the worker's too.
      // One that existed before the call (shared by ops, say) stays whose it was.
      const existed = new Set((objects?.refs ?? []).filter((f) => f.kind === 'volume' && f.exists).map((f) => f.id ?? f.ref));
      const info = await docker.getContainer(id).inspect();
      const vols = (info.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name && !existed.has(m.Name)).map((m) => m.Name!);
      const owners = await ownership.ownersOf('volume', vols);
      for (const v of vols) if (!owners.has(v)) await ownership.record('volume', v, worker, { name: v });
      return;
    }
    case 'ContainerExec': {
      const id = typeof answer?.Id === 'string' ? answer.Id : undefined;
      if (id) await ownership.record('exec', id, worker);
      return;
    }
    case 'VolumeCreate': {
      const name = typeof answer?.Name === 'string' ? answer.Name : undefined;
      if (name) await ownership.record('volume', name, worker, { name });
      return;
    }
    case 'NetworkCreate': {
      const id = typeof answer?.Id === 'string' ? answer.Id : undefined;
      if (id) {
        const info = await docker.getNetwork(id).inspect();
        await ownership.record('network', id, worker, { name: info.Name });
      }
      return;
    }
    case 'ImageCommit':
    case 'ImageTag': {
      const ref = refFromRepoTag(queryGet(target.query, 'repo'), queryGet(target.query, 'tag'));
      if (ref) await ownership.record('image', ref, worker, { name: ref });
      return;
    }
    case 'ImageBuild':
    case 'ImageCreate': {
      // Streams answer 200 even when they fail: a reference is recorded only if it exists now. It was checked
      // before the call to be free or the worker's own.
      for (const f of objects?.refs ?? []) {
        if (f.use !== 'new-ref' || !f.id) continue;
        const now = await docker.getImage(f.id).inspect().catch(() => undefined);
        if (now && (now.RepoTags ?? []).includes(f.id)) await ownership.record('image', f.id, worker, { name: f.id });
      }
      return;
    }
    case 'ImageLoad': {
      // Approved by a human; the references it set are the worker's from now on.
      const text = captured?.toString('utf8') ?? '';
      for (const m of text.matchAll(/Loaded image: ([^\s"\\]+)/g)) {
        const ref = normalizeImageRef(m[1]);
        if (ref) await ownership.record('image', ref, worker, { name: ref });
      }
      return;
    }
    case 'VolumeDelete': {
      const t = objects?.target;
      if (t?.id) await ownership.forget('volume', t.id, worker);
      return;
    }
    case 'ImageDelete': {
      const t = objects?.target;
      if (!t?.exists) return;
      for (const ref of t.refOwners ? t.refOwners.map(([r]) => r) : t.id ? [t.id] : []) {
        const still = await docker.getImage(ref).inspect().catch(() => undefined);
        if (!still || !(still.RepoTags ?? []).includes(ref)) await ownership.forget('image', ref, worker);
      }
      return;
    }
    default:
      return;
  }
}
