// Who owns which Docker object. The store is the truth: a row is written when a worker's create succeeds through
// its socket (or when ops adopt an object for it), and read before every decision that touches an object. Labels
// on containers, volumes and networks only help dockerd filter lists; they are never trusted on their own.
import { wingmanError } from '../errors.js';
import type { Bus } from '../bus/bus.js';
import type { Db } from '../store/db.js';

export const OWNED_KINDS = ['container', 'exec', 'volume', 'network', 'image'] as const;
export type OwnedKind = (typeof OWNED_KINDS)[number];

export interface OwnedObject {
  kind: OwnedKind;
  id: string;
  worker: string;
  name: string | null;
  source: 'created' | 'adopted';
  created_at: Date;
}

/** Ids (containers, execs, networks) are never reused by the engine; names (volumes, image refs) can be. */
const TTL_MS = 5_000;

export class Ownership {
  private readonly cache = new Map<string, { worker: string | null; at: number }>();
  private readonly adopted = new Map<string, { any: boolean; at: number }>();
  private readonly unwatch: () => void = () => undefined;

  /** With a bus, a change made anywhere (ops adopting in the control process) reaches every proxy's cache at once. */
  constructor(
    private readonly db: Db,
    private readonly bus?: Bus,
  ) {
    if (bus) {
      this.unwatch = bus.watch(['ownership.changed'], (e) => {
        this.cache.delete(this.key(e.data.kind, e.data.id));
        this.adopted.clear();
      });
    }
  }

  close(): void {
    this.unwatch();
  }

  private announce(kind: OwnedKind, id: string): void {
    this.bus?.publish('ownership.changed', { kind, id }).catch(() => undefined);
  }

  private key(kind: OwnedKind, id: string): string {
    return `${kind}\0${id}`;
  }

  /**
   * Owner of each id (absent from the map: nobody's). Throws when the store cannot answer (callers fail closed),
   * unless `partial`: then what is already known is answered and the rest counts as nobody's (lists shrink to
   * what is known to be the worker's; nothing leaks). `fresh`: the store's answer only, never a cached one (for a
   * write that must not act on a stale owner).
   */
  async ownersOf(kind: OwnedKind, ids: readonly string[], opts: { partial?: boolean; fresh?: boolean } = {}): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const misses: string[] = [];
    const now = Date.now();
    for (const id of new Set(ids)) {
      const hit = this.cache.get(this.key(kind, id));
      if (hit && now - hit.at < TTL_MS && !opts.fresh) {
        if (hit.worker) out.set(id, hit.worker);
      } else misses.push(id);
    }
    if (misses.length) {
      let rows: Array<{ id: string; worker: string }>;
      try {
        ({ rows } = await this.db.query<{ id: string; worker: string }>(
          `SELECT id, worker FROM owned_objects WHERE kind = $1 AND id = ANY($2::text[])`,
          [kind, misses],
        ));
      } catch (err) {
        // Store down: what was known stays known (ids are never reused; a name changes hands only through a
        // store write, which cannot happen now). Anything never seen is unknown, and unknown is refused.
        if (!opts.fresh && (opts.partial || misses.every((id) => this.cache.has(this.key(kind, id))))) {
          for (const id of misses) {
            const w = this.cache.get(this.key(kind, id))?.worker;
            if (w) out.set(id, w);
          }
          return out;
        }
        throw wingmanError('WGM_ERR_STORE_UNAVAILABLE', 'the store cannot say who owns what this call touches; refused (fail closed)', undefined, err);
      }
      const found = new Map(rows.map((r) => [r.id, r.worker]));
      for (const id of misses) {
        const w = found.get(id) ?? null;
        this.cache.set(this.key(kind, id), { worker: w, at: now });
        if (w) out.set(id, w);
      }
    }
    return out;
  }

  async ownerOf(kind: OwnedKind, id: string): Promise<string | undefined> {
    return (await this.ownersOf(kind, [id])).get(id);
  }

  /** Record (or move) ownership. A name that is re-created after its object was removed changes hands here. */
  async record(kind: OwnedKind, id: string, worker: string, opts: { name?: string; source?: 'created' | 'adopted'; actor?: string } = {}): Promise<void> {
    const source = opts.source ?? 'created';
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO owned_objects (kind, id, worker, name, source) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (kind, id) DO UPDATE SET worker = EXCLUDED.worker, name = EXCLUDED.name, source = EXCLUDED.source,
           created_at = now()`,
        [kind, id, worker, opts.name ?? null, source],
      );
      await tx.query(`INSERT INTO ownership_events (kind, object_id, worker, event, actor) VALUES ($1, $2, $3, $4, $5)`, [
        kind,
        id,
        worker,
        source,
        opts.actor ?? worker,
      ]);
    });
    this.cache.set(this.key(kind, id), { worker, at: Date.now() });
    if (source === 'adopted') this.adopted.clear();
    this.announce(kind, id);
  }

  /** The object is gone (removed through the proxy): its name may be taken by anyone again. */
  async forget(kind: OwnedKind, id: string, actor: string): Promise<void> {
    const { rows } = await this.db.query<{ worker: string }>(`DELETE FROM owned_objects WHERE kind = $1 AND id = $2 RETURNING worker`, [kind, id]);
    if (rows[0]) {
      await this.db.query(`INSERT INTO ownership_events (kind, object_id, worker, event, actor) VALUES ($1, $2, $3, 'removed', $4)`, [
        kind,
        id,
        rows[0].worker,
        actor,
      ]);
    }
    this.cache.delete(this.key(kind, id));
    this.announce(kind, id);
  }

  /**
   * Does the worker own objects of this kind that ops adopted for it? Those carry no owner label, so a list
   * cannot be narrowed by dockerd's label filter for it.
   */
  async hasAdopted(worker: string, kind: OwnedKind): Promise<boolean> {
    const k = `${worker}\0${kind}`;
    const hit = this.adopted.get(k);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.any;
    const { rows } = await this.db.query<{ one: number }>(
      `SELECT 1 AS one FROM owned_objects WHERE worker = $1 AND kind = $2 AND source = 'adopted' LIMIT 1`,
      [worker, kind],
    );
    const any = rows.length > 0;
    this.adopted.set(k, { any, at: Date.now() });
    return any;
  }

  async list(worker: string, kind?: OwnedKind): Promise<OwnedObject[]> {
    const { rows } = await this.db.query<OwnedObject>(
      `SELECT kind, id, worker, name, source, created_at FROM owned_objects
        WHERE worker = $1 AND ($2::text IS NULL OR kind = $2) ORDER BY kind, created_at`,
      [worker, kind ?? null],
    );
    return rows;
  }
}
