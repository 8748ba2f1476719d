// Each worker's registered container (workers.container, set by POST /workers {name, container}) as the engine's
// full id, for the sidecar identity's "its worker's container only". Cached briefly: a sidecar verifying a batch
// of claims asks many times a second. A re-registration (worker.added) drops the entry; otherwise a stale entry
// can only name a container that was replaced, which then matches nothing.
import type Dockerode from 'dockerode';
import type { Db } from '../core/store/db.js';

const TTL_MS = 2_000;

export class WorkerContainers {
  private readonly cache = new Map<string, { id: string; at: number }>();

  constructor(
    private readonly db: Db,
    private readonly docker: Dockerode,
  ) {}

  /** undefined when no container is registered or it does not exist; throws when the store or engine cannot answer */
  async idOf(worker: string): Promise<string | undefined> {
    const hit = this.cache.get(worker);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.id;
    const { rows } = await this.db.query<{ container: string | null }>(`SELECT container FROM workers WHERE name = $1`, [worker]);
    const ref = rows[0]?.container;
    let id: string | undefined;
    if (ref) {
      try {
        id = (await this.docker.getContainer(ref).inspect()).Id;
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
      }
    }
    // Only a found id is kept: a worker registered a moment ago must not wait out a cached "none".
    if (id) this.cache.set(worker, { id, at: Date.now() });
    return id;
  }

  /** a registration changed (worker.added) */
  forget(worker: string): void {
    this.cache.delete(worker);
  }
}
