// Locking a worker down and releasing it. The store records it (source of truth) with an append-only event saying
// who and why; Redis mirrors it for fast checks; the worker's container is paused or stopped
// (WINGMAN_LOCKDOWN_ACTION) and resumed on unlock. Locking is idempotent: a redelivered verdict locks nothing twice.
import type Dockerode from 'dockerode';
import type { Bus } from '../bus/bus.js';
import type { Config } from '../config.js';
import { wingmanError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Db, Queryable } from '../store/db.js';
import type { LockMirror } from './lock-mirror.js';

export interface LockResult {
  worker: string;
  /** false when the worker was already locked (nothing changed) */
  changed: boolean;
  container: { action: string; ok: boolean; detail?: string };
}

export class Lockdowns {
  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly docker: Dockerode,
    private readonly mirror: LockMirror,
    private readonly config: Pick<Config, 'lockdownAction'>,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {}

  private async event(q: Queryable, worker: string, action: string, actor: string, reason: string | null, claimId?: string, detail: object = {}) {
    await q.query(`INSERT INTO lockdown_events (worker, action, actor, reason, claim_id, detail) VALUES ($1, $2, $3, $4, $5, $6)`, [
      worker,
      action,
      actor,
      reason,
      claimId ?? null,
      JSON.stringify(detail),
    ]);
  }

  async lock(worker: string, reason: string, by: string, opts: { claimId?: string } = {}): Promise<LockResult> {
    const row = await this.db.transaction(async (tx) => {
      await tx.query(`INSERT INTO workers (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, [worker]);
      const { rows } = await tx.query<{ locked: boolean; container: string | null }>(
        `SELECT locked, container FROM workers WHERE name = $1 FOR UPDATE`,
        [worker],
      );
      const before = rows[0];
      if (before.locked) return { changed: false, container: before.container };
      await tx.query(`UPDATE workers SET locked = true, locked_reason = $2, locked_at = now(), locked_by = $3 WHERE name = $1`, [
        worker,
        reason,
        by,
      ]);
      await this.event(tx, worker, 'locked', by, reason, opts.claimId);
      return { changed: true, container: before.container };
    });
    // The mirror and the container follow even when the row was already locked: a crash between the row and these
    // steps is repaired by the redelivery that finds the row locked.
    await this.mirror.set(worker, reason).catch((err) => this.log.warn({ worker, err: (err as Error).message }, 'lock mirror not updated'));
    const container = await this.containerAction(worker, row.container, 'lock', by, reason, opts.claimId, row.changed);
    if (row.changed) {
      this.metrics?.lockdowns.inc();
      await this.bus.publish('worker.locked', { worker, reason, by, claim_id: opts.claimId ?? null }).catch(() => undefined);
      this.log.warn({ worker, by }, 'worker locked down');
    }
    await this.refreshGauge();
    return { worker, changed: row.changed, container };
  }

  async unlock(worker: string, by: string, why: string): Promise<LockResult> {
    const row = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ locked: boolean; container: string | null }>(
        `SELECT locked, container FROM workers WHERE name = $1 FOR UPDATE`,
        [worker],
      );
      if (!rows[0]) throw wingmanError('WGM_ERR_API_NOT_FOUND', `no worker ${worker}`);
      if (!rows[0].locked) return { changed: false, container: rows[0].container };
      await tx.query(`UPDATE workers SET locked = false, locked_reason = NULL, locked_at = NULL, locked_by = NULL WHERE name = $1`, [worker]);
      await this.event(tx, worker, 'unlocked', by, why);
      return { changed: true, container: rows[0].container };
    });
    // An unlock that leaves a stale "locked" in the mirror keeps the worker blocked: retry, then report.
    try {
      await this.mirror.clear(worker);
    } catch (err) {
      throw wingmanError('WGM_ERR_BUS_UNAVAILABLE', `unlocked in the store but Redis still says locked: ${(err as Error).message}`);
    }
    const container = await this.containerAction(worker, row.container, 'unlock', by, why, undefined, row.changed);
    if (row.changed) await this.bus.publish('worker.unlocked', { worker, by, why }).catch(() => undefined);
    await this.refreshGauge();
    return { worker, changed: row.changed, container };
  }

  private async containerAction(
    worker: string,
    container: string | null,
    what: 'lock' | 'unlock',
    by: string,
    reason: string,
    claimId: string | undefined,
    record: boolean,
  ): Promise<LockResult['container']> {
    const mode = this.config.lockdownAction;
    if (mode === 'none') return { action: 'none', ok: true };
    if (!container) {
      if (record) await this.event(this.db, worker, 'container_unknown', by, reason, claimId);
      return { action: 'none', ok: false, detail: `no container is registered for ${worker}` };
    }
    const c = this.docker.getContainer(container);
    try {
      const state = (await c.inspect()).State;
      let action = 'none';
      if (what === 'lock') {
        if (mode === 'pause' && state.Running && !state.Paused) {
          await c.pause();
          action = 'container_paused';
        }
        if (mode === 'stop' && state.Running) {
          await c.stop({ t: 5 });
          action = 'container_stopped';
        }
      } else {
        if (state.Paused) {
          await c.unpause();
          action = 'container_unpaused';
        } else if (mode === 'stop' && !state.Running) {
          await c.start();
          action = 'container_started';
        }
      }
      if (action !== 'none') await this.event(this.db, worker, action, by, reason, claimId, { container });
      return { action, ok: true };
    } catch (err) {
      const detail = (err as Error).message.slice(0, 300);
      await this.event(this.db, worker, 'container_action_failed', by, reason, claimId, { container, detail }).catch(() => undefined);
      this.log.error({ worker, err: detail }, `container ${what} failed`);
      return { action: 'failed', ok: false, detail };
    }
  }

  async refreshGauge(): Promise<void> {
    if (!this.metrics) return;
    const { rows } = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM workers WHERE locked`).catch(() => ({ rows: [] as { n: string }[] }));
    if (rows[0]) this.metrics.workersLocked.set(Number(rows[0].n));
  }

  async events(worker: string): Promise<Array<Record<string, unknown>>> {
    const { rows } = await this.db.query(`SELECT action, actor, reason, claim_id, at, detail FROM lockdown_events WHERE worker = $1 ORDER BY id`, [worker]);
    return rows;
  }
}
