// Workers and their lockdown state (mutable; the store is the source of truth). Lock/unlock publish events so
// the proxy and sidecars drop their cached state at once.
import type { Bus } from '../bus/bus.js';
import { isWorkerName } from '../config.js';
import { wingmanError } from '../errors.js';
import type { Db } from '../store/db.js';

export interface Worker {
  name: string;
  created_at: Date;
  locked: boolean;
  locked_reason: string | null;
  locked_at: Date | null;
  locked_by: string | null;
}

export class Workers {
  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
  ) {}

  async add(name: string, container?: string): Promise<Worker> {
    if (!isWorkerName(name)) {
      throw wingmanError('WGM_ERR_WORKER_INVALID', 'worker names are lowercase [a-z0-9_.-], up to 63 characters');
    }
    const { rows } = await this.db.query<Worker>(
      `INSERT INTO workers (name, container) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET container = COALESCE(EXCLUDED.container, workers.container)
       RETURNING name, created_at, locked, locked_reason, locked_at, locked_by`,
      [name, container ?? null],
    );
    return rows[0]!;
  }

  async list(): Promise<Worker[]> {
    const { rows } = await this.db.query<Worker>(
      `SELECT name, created_at, locked, locked_reason, locked_at, locked_by FROM workers ORDER BY name`,
    );
    return rows;
  }

  async get(name: string): Promise<Worker | undefined> {
    const { rows } = await this.db.query<Worker>(
      `SELECT name, created_at, locked, locked_reason, locked_at, locked_by FROM workers WHERE name = $1`,
      [name],
    );
    return rows[0];
  }

  async lock(name: string, reason: string, by: string): Promise<Worker> {
    const { rows } = await this.db.query<Worker>(
      `INSERT INTO workers (name, locked, locked_reason, locked_at, locked_by) VALUES ($1, true, $2, now(), $3)
       ON CONFLICT (name) DO UPDATE SET locked = true, locked_reason = $2, locked_at = now(), locked_by = $3
       RETURNING name, created_at, locked, locked_reason, locked_at, locked_by`,
      [name, reason, by],
    );
    await this.bus.publish('worker.locked', { worker: name, reason, by }).catch(() => undefined);
    return rows[0]!;
  }

  async unlock(name: string, by: string, why: string): Promise<Worker> {
    const { rows } = await this.db.query<Worker>(
      `UPDATE workers SET locked = false, locked_reason = NULL, locked_at = NULL, locked_by = NULL WHERE name = $1
       RETURNING name, created_at, locked, locked_reason, locked_at, locked_by`,
      [name],
    );
    if (!rows[0]) throw wingmanError('WGM_ERR_API_NOT_FOUND', `no worker ${name}`);
    await this.bus.publish('worker.unlocked', { worker: name, by, why }).catch(() => undefined);
    return rows[0];
  }
}
