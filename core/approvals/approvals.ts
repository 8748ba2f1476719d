// Approvals: the store is the truth (status transitions are single UPDATEs guarded by the expected status, so two
// deciders or two consumers cannot both win), every transition is also an append-only approval event, and the bus
// only announces that something changed.
import { createHash, randomBytes } from 'node:crypto';
import type { Bus } from '../bus/bus.js';
import { wingmanError } from '../errors.js';
import type { Db } from '../store/db.js';
import { approvalEvent } from './approval-event.js';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'consumed' | 'cancelled';

export interface Approval {
  id: string;
  worker: string;
  rule: string;
  summary: string;
  method: string;
  route: string;
  path: string;
  op_hash: string;
  op: Record<string, unknown>;
  reasons: string[];
  status: ApprovalStatus;
  source: string;
  required_approvals: number;
  approvers: string[];
  requested_at: Date;
  expires_at: Date;
  decided_at: Date | null;
  decided_by: string | null;
  note: string | null;
  consumed_at: Date | null;
}

/** What the proxy asks approval for: the held call as the approval row will show it. */
export interface ApprovalRequest extends Pick<Approval, 'worker' | 'rule' | 'summary' | 'method' | 'route' | 'path' | 'op' | 'reasons'> {
  opHash: string;
  ttlS: number;
  source?: string;
  /** issue a bearer grant token (shown once) that a later call can present as X-Wingman-Approval */
  withToken?: boolean;
  requiredApprovals?: number;
  /** refuse (WGM_ERR_PROXY_TOO_MANY_PENDING) when the worker already has this many pending approvals */
  maxPending?: number;
  /** the proxy run holding the call (see ApprovalWaiter): it keeps the approval alive while the call waits */
  waiter?: string;
}

/** A waiter that has not said it is there for this long is gone: its approval is cancelled, never approved. */
export const WAITER_STALE_S = 3;
const WAITER_GONE = `waiter IS NOT NULL AND waiter_seen_at < now() - make_interval(secs => ${WAITER_STALE_S})`;

const COLS = `id, worker, rule, summary, method, route, path, op_hash, op, reasons, status, source, required_approvals,
  approvers, requested_at, expires_at, decided_at, decided_by, note, consumed_at`;

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export type TokenCheck =
  | { ok: true; approval: Approval }
  | { ok: false; code: 'WGM_ERR_APPROVAL_NOT_FOUND' | 'WGM_ERR_APPROVAL_MISMATCH' | 'WGM_ERR_APPROVAL_USED' | 'WGM_ERR_APPROVAL_EXPIRED' | 'WGM_ERR_APPROVAL_NOT_PENDING'; approval?: Approval };

export class Approvals {
  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
  ) {}


  async recordEvent(id: string, event: string, actor: string | null, detail: object = {}): Promise<void> {
    const a = await this.get(id);
    await approvalEvent(this.db, id, event, actor, a?.op_hash ?? null, detail);
  }

  async request(req: ApprovalRequest): Promise<{ approval: Approval; token?: string }> {
    const token = req.withToken ? `wgm_${randomBytes(24).toString('base64url')}` : undefined;
    const approval = await this.db.transaction(async (tx) => {
      if (req.maxPending !== undefined) {
        // One worker's requests count one at a time, so a burst cannot slip past the cap together.
        await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1)::bigint)`, [`wingman.pending.${req.worker}`]);
        const { rows: n } = await tx.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM approvals WHERE worker = $1 AND status = 'pending' AND expires_at > now()`,
          [req.worker],
        );
        if ((n[0]?.n ?? 0) >= req.maxPending) {
          throw wingmanError(
            'WGM_ERR_PROXY_TOO_MANY_PENDING',
            `${req.worker} already has ${n[0]?.n} calls waiting for a decision (at most ${req.maxPending}); wait for them to be decided`,
          );
        }
      }
      const { rows } = await tx.query<Approval>(
        `INSERT INTO approvals (worker, rule, summary, method, route, path, op_hash, op, reasons, source, token_hash,
           required_approvals, expires_at, waiter, waiter_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now() + make_interval(secs => $13), $14,
           CASE WHEN $14::text IS NULL THEN NULL ELSE now() END)
         RETURNING ${COLS}`,
        [
          req.worker,
          req.rule,
          req.summary,
          req.method,
          req.route,
          req.path,
          req.opHash,
          JSON.stringify(req.op),
          JSON.stringify(req.reasons),
          req.source ?? 'proxy',
          token ? hashToken(token) : null,
          req.requiredApprovals ?? 1,
          req.ttlS,
          req.waiter ?? null,
        ],
      );
      const a = rows[0];
      await approvalEvent(tx, a.id, 'requested', req.worker, req.opHash, { rule: req.rule, summary: req.summary, source: req.source ?? 'proxy' });
      return a;
    });
    await this.publish('approval.requested', approval);
    return token ? { approval, token } : { approval };
  }

  async get(id: string): Promise<Approval | undefined> {
    if (!isUuid(id)) return undefined;
    const { rows } = await this.db.query<Approval>(`SELECT ${COLS} FROM approvals WHERE id = $1`, [id]);
    return rows[0];
  }

  async list(filter: { status?: ApprovalStatus; worker?: string; limit?: number } = {}): Promise<Approval[]> {
    const { rows } = await this.db.query<Approval>(
      `SELECT ${COLS} FROM approvals
        WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR worker = $2)
        ORDER BY requested_at DESC LIMIT $3`,
      [filter.status ?? null, filter.worker ?? null, Math.min(filter.limit ?? 100, 1000)],
    );
    return rows;
  }

  async events(id: string): Promise<Array<{ event: string; actor: string | null; at: Date; detail: unknown }>> {
    const { rows } = await this.db.query(`SELECT event, actor, at, detail FROM approval_events WHERE approval_id = $1 ORDER BY id`, [id]);
    return rows as Array<{ event: string; actor: string | null; at: Date; detail: unknown }>;
  }

  /** Approve or deny a pending, unexpired approval. With two-person approval, distinct approvers accumulate. */
  async answer(id: string, decision: 'approve' | 'deny', by: string, note?: string, detail: object = {}): Promise<Approval> {
    if (!isUuid(id)) throw wingmanError('WGM_ERR_APPROVAL_NOT_FOUND', id);
    const result = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<Approval & { expired: boolean; waiter_gone: boolean }>(
        `SELECT ${COLS}, expires_at <= now() AS expired, (${WAITER_GONE}) AS waiter_gone FROM approvals WHERE id = $1 FOR UPDATE`,
        [id],
      );
      const a = rows[0];
      if (!a) throw wingmanError('WGM_ERR_APPROVAL_NOT_FOUND', id);
      if (a.status !== 'pending') throw wingmanError('WGM_ERR_APPROVAL_NOT_PENDING', `approval ${id} is ${a.status}`, { status: a.status });
      if (a.expired) throw wingmanError('WGM_ERR_APPROVAL_EXPIRED', `approval ${id} expired`);
      if (a.waiter_gone) return { gone: a };
      let status: ApprovalStatus = decision === 'deny' ? 'denied' : 'approved';
      let approvers = a.approvers;
      if (decision === 'approve') {
        if (approvers.includes(by)) throw wingmanError('WGM_ERR_APPROVAL_UNAUTHORIZED', `${by} already approved ${id}; a second, different approver is needed`);
        approvers = [...approvers, by];
        if (approvers.length < a.required_approvals) status = 'pending';
      }
      const upd = await tx.query<Approval>(
        `UPDATE approvals SET status = $2, approvers = $3,
            decided_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END,
            decided_by = CASE WHEN $2 = 'pending' THEN NULL ELSE $4 END,
            note = COALESCE($5, note)
          WHERE id = $1 RETURNING ${COLS}`,
        [id, status, approvers, approvers.length > 1 && status === 'approved' ? approvers.join(' + ') : by, note ?? null],
      );
      const updated = upd.rows[0];
      await approvalEvent(tx, id, status === 'pending' ? 'partially_approved' : 'decided', by, a.op_hash, {
        decision,
        note: note ?? null,
        ...detail,
      });
      return { decided: updated };
    });
    if ('gone' in result) {
      // Nothing is waiting to run it: approving would spend a decision on a call that can never happen.
      await this.cancel(id, 'the waiting call is gone (its proxy stopped)');
      throw wingmanError('WGM_ERR_APPROVAL_NOT_PENDING', `approval ${id} was cancelled: the call waiting on it is gone`, { status: 'cancelled' });
    }
    await this.publish(result.decided.status === 'pending' ? 'approval.updated' : 'approval.decided', result.decided);
    return result.decided;
  }

  /**
   * Spend an approved approval on the held call it was made for. Single use: exactly one caller gets a row back,
   * across processes and restarts. A held call whose approval was decided in time may spend it after expiry.
   */
  async consume(id: string, opHash: string): Promise<Approval | undefined> {
    const a = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<Approval>(
        `UPDATE approvals SET status = 'consumed', consumed_at = now()
          WHERE id = $1 AND status = 'approved' AND op_hash = $2 RETURNING ${COLS}`,
        [id, opHash],
      );
      if (rows[0]) await approvalEvent(tx, id, 'consumed', rows[0].worker, opHash);
      return rows[0];
    });
    return a;
  }

  /** Spend a grant token presented with a call: it must be approved, unexpired, unused and for exactly this op. */
  async consumeToken(token: string, opHash: string, worker: string): Promise<TokenCheck> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<Approval & { expired: boolean }>(
        `SELECT ${COLS}, expires_at <= now() AS expired FROM approvals WHERE token_hash = $1 FOR UPDATE`,
        [hashToken(token)],
      );
      const a = rows[0];
      if (!a) return { ok: false, code: 'WGM_ERR_APPROVAL_NOT_FOUND' } as const;
      const refuse = async (code: Exclude<TokenCheck, { ok: true }>['code']) => {
        await approvalEvent(tx, a.id, 'refused', worker, opHash, { code });
        return { ok: false, code, approval: a } as const;
      };
      if (a.status === 'consumed') return refuse('WGM_ERR_APPROVAL_USED');
      if (a.worker !== worker || a.op_hash !== opHash) return refuse('WGM_ERR_APPROVAL_MISMATCH');
      if (a.expired) return refuse('WGM_ERR_APPROVAL_EXPIRED');
      if (a.status !== 'approved') return refuse('WGM_ERR_APPROVAL_NOT_PENDING');
      const upd = await tx.query<Approval>(
        `UPDATE approvals SET status = 'consumed', consumed_at = now() WHERE id = $1 AND status = 'approved' RETURNING ${COLS}`,
        [a.id],
      );
      await approvalEvent(tx, a.id, 'consumed', worker, opHash, { via: 'token' });
      return { ok: true, approval: upd.rows[0] } as const;
    });
  }

  /** Mark one pending approval expired (a waiting call gave up at its deadline). */
  async expire(id: string): Promise<Approval | undefined> {
    return this.finish(id, 'expired', `status = 'pending'`);
  }

  /**
   * The held call went away before it ran: nobody should approve a request that can no longer run, and an
   * approval given to it is withdrawn rather than left to be spent.
   */
  async cancel(id: string, why: string): Promise<Approval | undefined> {
    return this.finish(id, 'cancelled', `status IN ('pending', 'approved')`, { why });
  }

  /** A waiter says its calls are still there (see ApprovalWaiter). */
  async touchWaiter(waiter: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(`UPDATE approvals SET waiter_seen_at = now() WHERE id = ANY($1::uuid[]) AND waiter = $2 AND status = 'pending'`, [ids, waiter]);
  }

  /**
   * Cancel pending approvals nobody waits on any more: those of a waiter that stopped saying it is there, and (at
   * a proxy's start) every one held by an earlier run of the same proxy (`waiter` is `<proxy>#<run>`).
   */
  async cancelAbandoned(restartOf?: { proxy: string; run: string }): Promise<Approval[]> {
    const cancelled = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<Approval>(
        `UPDATE approvals SET status = 'cancelled', decided_at = now(), decided_by = 'wingman'
          WHERE status = 'pending' AND ((${WAITER_GONE})
             OR ($1::text IS NOT NULL AND split_part(waiter, '#', 1) = $1 AND waiter <> $2))
          RETURNING ${COLS}`,
        [restartOf?.proxy ?? null, restartOf ? `${restartOf.proxy}#${restartOf.run}` : null],
      );
      for (const a of rows) await approvalEvent(tx, a.id, 'cancelled', 'wingman', a.op_hash, { why: 'the waiting call is gone (its proxy stopped)' });
      return rows;
    });
    for (const a of cancelled) await this.publish('approval.decided', a);
    return cancelled;
  }

  private async finish(id: string, status: ApprovalStatus, guard: string, detail: object = {}): Promise<Approval | undefined> {
    const a = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<Approval>(
        `UPDATE approvals SET status = $2, decided_at = now(), decided_by = CASE WHEN status = 'pending' THEN 'wingman' ELSE decided_by END
          WHERE id = $1 AND ${guard} RETURNING ${COLS}`,
        [id, status],
      );
      if (rows[0]) await approvalEvent(tx, id, status, 'wingman', rows[0].op_hash, detail);
      return rows[0];
    });
    if (a) await this.publish('approval.decided', a);
    return a;
  }

  /** Sweeper: expire every pending approval past its deadline, whether or not a call is waiting. */
  async expireDue(): Promise<Approval[]> {
    const expired = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<Approval>(
        `UPDATE approvals SET status = 'expired', decided_at = now(), decided_by = 'wingman'
          WHERE status = 'pending' AND expires_at <= now() RETURNING ${COLS}`,
      );
      for (const a of rows) await approvalEvent(tx, a.id, 'expired', 'wingman', a.op_hash);
      return rows;
    });
    for (const a of expired) await this.publish('approval.decided', a);
    return expired;
  }

  async nextExpiry(): Promise<Date | undefined> {
    const { rows } = await this.db.query<{ next: Date | null }>(
      `SELECT min(LEAST(expires_at, COALESCE(waiter_seen_at + make_interval(secs => ${WAITER_STALE_S}), expires_at))) AS next
         FROM approvals WHERE status = 'pending'`,
    );
    return rows[0]?.next ?? undefined;
  }

  private async publish(topic: 'approval.requested' | 'approval.decided' | 'approval.updated', a: Approval): Promise<void> {
    // The bus only wakes consumers up; a lost publish is caught by their re-reads and the sweeper.
    await this.bus.publish(topic, { id: a.id, worker: a.worker, status: a.status }).catch(() => undefined);
  }
}

export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}
