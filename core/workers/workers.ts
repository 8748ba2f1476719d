// The workers table: who the workers are and their state as the store says (the source of truth). Locking and
// releasing a worker is core/lockdown/lockdowns.ts, the one path that also writes the lockdown_events row, the
// Redis mirror and the container; the container a worker runs in is set here by ops (POST /workers), never by
// what a sidecar reports.
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
    return rows[0];
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
}
