// Ops routes for ownership: adopt objects that already exist on the engine for a worker (made before Wingman, or
// by hand), and list what a worker owns. Every ref is resolved on the engine first (ids for containers and
// networks, names for volumes, normalised references for images) and nothing is recorded unless all resolve.
import type Dockerode from 'dockerode';
import type { FastifyInstance } from 'fastify';
import { isWorkerName } from '../core/config.js';
import { wingmanError } from '../core/errors.js';
import { normalizeImageRef } from '../core/ownership/image-ref.js';
import { OWNED_KINDS, type OwnedKind, type Ownership } from '../core/ownership/ownership.js';
import type { Worker, Workers } from '../core/workers/workers.js';
import { asText } from '../core/util/as-text.js';

export const ADOPTABLE_KINDS = ['container', 'volume', 'network', 'image'] as const;
export type AdoptableKind = (typeof ADOPTABLE_KINDS)[number];

export interface OwnershipRouteDeps {
  docker: Dockerode;
  workers: Workers;
  ownership: Ownership;
  /** workers named in WINGMAN_WORKERS: they have sockets even before they have a row in the store */
  configured?: readonly string[];
}

/** One object to record: the key the store uses (`id`) and what ops called it. */
interface Resolved {
  kind: AdoptableKind;
  id: string;
  name: string;
}

const WORKER_PATTERN = '^[a-z0-9][a-z0-9_.-]{0,62}$';
// Engine names and ids ([A-Za-z0-9][A-Za-z0-9_.-]*) and image references (with `/`, `:`, `@`). Nothing here can
// leave the object's path on the engine: `..` is refused below, and only images may contain `/`.
const REF_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.:/@+-]*$';

const params = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: WORKER_PATTERN } },
} as const;

const adoptBody = {
  type: 'object',
  required: ['kind', 'refs'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: ADOPTABLE_KINDS },
    refs: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: { type: 'string', minLength: 1, maxLength: 512, pattern: REF_PATTERN },
    },
    by: { type: 'string', minLength: 1, maxLength: 200 },
    force: { type: 'boolean' },
  },
} as const;

const clip = (s: string, n = 120) => (s.length > n ? `${s.slice(0, n)}…` : s);

const statusOf = (err: unknown) => (err as { statusCode?: number }).statusCode;

/** Inspect on the engine: undefined for a 404, a coded error for anything else (never a 500 for a bad ref). */
async function inspect<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    const status = statusOf(err);
    if (status === 404) return undefined;
    // dockerode: `.json.message` is the engine's own words; `.message` wraps them in `(HTTP code N) unexpected - `
    const said = asText((err as { json?: { message?: unknown } }).json?.message, (err as Error).message).trim();
    if (status !== undefined && status >= 400 && status < 500) {
      throw wingmanError('WGM_ERR_API_BAD_REQUEST', `${what}: ${clip(said, 200)}`);
    }
    throw wingmanError('WGM_ERR_PROXY_UPSTREAM', `${what}: ${clip(said, 200)}`);
  }
}

const notFound = (kind: AdoptableKind, ref: string): never => {
  throw wingmanError('WGM_ERR_API_NOT_FOUND', `no ${kind} ${clip(ref)} on the engine`);
};

/** What the store keys `ref` under, per kind (see migrations/008_ownership.sql). */
async function resolveRef(docker: Dockerode, kind: AdoptableKind, ref: string): Promise<Resolved[]> {
  if (ref.includes('..') || (kind !== 'image' && /[/:@+]/.test(ref))) {
    throw wingmanError('WGM_ERR_API_BAD_REQUEST', `${clip(ref)} is not a ${kind} name or id`);
  }
  switch (kind) {
    case 'container': {
      const c = await inspect(`container ${clip(ref)}`, () => docker.getContainer(ref).inspect());
      if (!c) return notFound(kind, ref);
      return [{ kind, id: c.Id, name: c.Name.replace(/^\//, '') }];
    }
    case 'volume': {
      const v = await inspect(`volume ${clip(ref)}`, () => docker.getVolume(ref).inspect());
      if (!v) return notFound(kind, ref);
      return [{ kind, id: v.Name, name: v.Name }];
    }
    case 'network': {
      const n = await inspect(`network ${clip(ref)}`, () => docker.getNetwork(ref).inspect());
      if (!n) return notFound(kind, ref);
      return [{ kind, id: n.Id, name: n.Name }];
    }
    case 'image': {
      const img = await inspect(`image ${clip(ref)}`, () => docker.getImage(ref).inspect());
      if (!img) return notFound(kind, ref);
      const tags = (img.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
      const normalised = normalizeImageRef(ref);
      if (normalised === undefined) {
        // Named by id or digest: the image's references are what a worker can own.
        if (tags.length === 0) throw wingmanError('WGM_ERR_API_BAD_REQUEST', `image ${clip(ref)} has no references (tags) to adopt`);
        return tags.map((t) => ({ kind, id: t, name: t }));
      }
      // The engine also resolves references it does not list (pulled by digest, …): adopt only a listed one.
      if (!tags.includes(normalised)) return notFound(kind, normalised);
      return [{ kind, id: normalised, name: normalised }];
    }
  }
}

export function registerOwnershipRoutes(server: FastifyInstance, deps: OwnershipRouteDeps): void {
  const { docker, workers, ownership } = deps;
  const configured = new Set(deps.configured ?? []);

  /** The worker's row, or (for a worker only named in WINGMAN_WORKERS) what an unlocked worker looks like. */
  const known = async (name: string): Promise<Worker | (Omit<Worker, 'created_at'> & { created_at: null })> => {
    if (!isWorkerName(name)) throw wingmanError('WGM_ERR_API_NOT_FOUND', `no worker ${clip(name, 63)}`);
    const w = await workers.get(name);
    if (w) return w;
    if (configured.has(name)) return { name, created_at: null, locked: false, locked_reason: null, locked_at: null, locked_by: null };
    throw wingmanError('WGM_ERR_API_NOT_FOUND', `no worker ${clip(name, 63)}`);
  };

  server.post<{ Params: { name: string }; Body: { kind: AdoptableKind; refs: string[]; by?: string; force?: boolean } }>(
    '/workers/:name/adopt',
    { schema: { params, body: adoptBody } },
    async (req) => {
      const worker = (await known(req.params.name)).name;
      const { kind, refs, force = false } = req.body;

      // 1. Resolve every ref (a missing one stops it all, before anything is written).
      const objects = new Map<string, Resolved>();
      for (const ref of refs) {
        for (const o of await resolveRef(docker, kind, ref)) objects.set(o.id, o);
      }

      // 2. Owners, read from the store itself (not a cache): another worker's object moves only with force.
      const ids = [...objects.keys()];
      const owners = await ownership.ownersOf(kind, ids, { fresh: true });
      const taken = ids.filter((id) => owners.has(id) && owners.get(id) !== worker);
      if (taken.length && !force) {
        const list = taken.slice(0, 5).map((id) => `${kind} ${clip(objects.get(id)!.name)} is owned by ${owners.get(id)}`);
        throw wingmanError(
          'WGM_ERR_API_CONFLICT',
          `${list.join('; ')}${taken.length > 5 ? ` (and ${taken.length - 5} more)` : ''}; adopt with force to move ${taken.length === 1 ? 'it' : 'them'}`,
        );
      }

      // 3. Record. What the worker already owns keeps its row (and its source).
      const actor = req.body.by ? `api:${req.body.by}` : 'api';
      const adopted: Array<Resolved & { previous_owner?: string; already_owned?: true }> = [];
      for (const o of objects.values()) {
        const previous = owners.get(o.id);
        if (previous === worker) {
          adopted.push({ ...o, already_owned: true });
          continue;
        }
        await ownership.record(kind, o.id, worker, { name: o.name, source: 'adopted', actor });
        adopted.push(previous ? { ...o, previous_owner: previous } : o);
      }
      req.log.info({ worker, kind, ids: adopted.map((o) => o.id), actor, force }, 'objects adopted');
      return { worker, adopted };
    },
  );

  server.get<{ Params: { name: string }; Querystring: { kind?: OwnedKind } }>(
    '/workers/:name/objects',
    {
      schema: {
        params,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { kind: { type: 'string', enum: OWNED_KINDS } },
        },
      },
    },
    async (req) => {
      const worker = await known(req.params.name);
      const rows = await ownership.list(worker.name, req.query.kind);
      return {
        worker,
        objects: rows.map(({ kind, id, name, source, created_at }) => ({ kind, id, name, source, created_at })),
      };
    },
  );
}
