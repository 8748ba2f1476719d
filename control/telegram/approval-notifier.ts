// Keeps each approval's Telegram message in step with the store: a message with buttons while it is pending (with
// 1/2 progress under the two-person rule), one final edit once it is decided, expired or cancelled. Woken by
// `approval.requested` / `approval.decided` through a consumer group (acked only after the outbox row is committed),
// by the bot after a Telegram decision, and by a periodic reconcile that catches wake-ups the bus lost.
//
// sync() is idempotent (dedupe keys) and serialised per approval (it locks the approval row), so the requested and
// decided events may be handled in any order, twice, or by two control processes, and the chat still sees exactly
// one request message and one final edit.
import { randomBytes } from 'node:crypto';
import type { Approval } from '../../core/approvals/approvals.js';
import { isUuid } from '../../core/approvals/approvals.js';
import type { Bus, Consumer } from '../../core/bus/bus.js';
import type { Logger } from '../../core/log.js';
import type { Db, Queryable } from '../../core/store/db.js';
import { finalApprovalMessage, pendingApprovalMessage, type ApprovalButtons } from '../../core/telegram/approval-message.js';
import type { Outbox } from '../../core/telegram/outbox.js';

const APPROVAL_COLS = `id, worker, rule, summary, method, route, path, op_hash, op, reasons, status, source, required_approvals,
  approvers, requested_at, expires_at, decided_at, decided_by, note, consumed_at`;

export const requestKey = (approvalId: string) => `approval:${approvalId}:request`;
const finalKey = (approvalId: string) => `approval:${approvalId}:final`;
const progressKey = (approvalId: string, n: number) => `approval:${approvalId}:progress:${n}`;

const RECONCILE_MS = 30_000;

export interface ApprovalNotifierOptions {
  db: Db;
  bus: Bus;
  outbox: Outbox;
  log: Logger;
  /** consumer name in the `telegram` group, unique per process */
  consumerName: string;
  reconcileMs?: number;
}

export class ApprovalNotifier {
  private consumer: Consumer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly o: ApprovalNotifierOptions) {
    // The approval event log records when the approver's message actually went out.
    o.outbox.onSent('approval_request', async (tx, row, messageId) => {
      if (!row.approval_id) return;
      await tx.query(
        `INSERT INTO approval_events (approval_id, event, actor, op_hash, detail)
         SELECT id, 'notified', 'telegram', op_hash, $2 FROM approvals WHERE id = $1`,
        [row.approval_id, JSON.stringify({ message_id: messageId, chat_id: row.chat_id })],
      );
    });
  }

  start(): void {
    this.consumer = this.o.bus.consume({
      group: 'telegram',
      consumer: this.o.consumerName,
      topics: ['approval.requested', 'approval.decided'],
      handler: async (e) => {
        await this.sync(e.data.id);
      },
    });
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.reconcile().finally(tick), this.o.reconcileMs ?? RECONCILE_MS);
      this.timer.unref();
    };
    void this.reconcile().finally(tick);
  }

  get ready(): Promise<void> {
    return this.consumer?.ready ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.consumer?.stop();
  }

  /**
   * Approvals whose message is missing or out of date: a lost wake-up, or a partial (1 of 2) approval made through
   * the API, which publishes no event. Bring them in step.
   */
  async reconcile(): Promise<void> {
    try {
      const { rows } = await this.o.db.query<{ id: string }>(
        `SELECT a.id FROM approvals a
          WHERE a.status = 'pending'
            AND NOT EXISTS (SELECT 1 FROM telegram_outbox o WHERE o.dedupe_key = 'approval:' || a.id || ':request')
         UNION
         SELECT a.id FROM approvals a
           JOIN telegram_outbox o ON o.approval_id = a.id AND o.dedupe_key = 'approval:' || a.id || ':request'
          WHERE a.status <> 'pending'
            AND NOT EXISTS (SELECT 1 FROM telegram_outbox f WHERE f.dedupe_key = 'approval:' || a.id || ':final')
         UNION
         SELECT a.id FROM approvals a
           JOIN telegram_outbox o ON o.approval_id = a.id AND o.dedupe_key = 'approval:' || a.id || ':request'
          WHERE a.status = 'pending' AND cardinality(a.approvers) > 0
            AND NOT EXISTS (SELECT 1 FROM telegram_outbox p
                             WHERE p.dedupe_key = 'approval:' || a.id || ':progress:' || cardinality(a.approvers))
         LIMIT 200`,
      );
      for (const r of rows) await this.sync(r.id);
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'telegram: approval reconcile failed; will retry');
    }
  }

  /** Bring one approval's Telegram message in step with its state in the store. */
  async sync(id: string): Promise<void> {
    if (!isUuid(id)) return;
    const enqueued = await this.o.db.transaction(async (tx) => {
      const { rows } = await tx.query<Approval>(`SELECT ${APPROVAL_COLS} FROM approvals WHERE id = $1 FOR UPDATE`, [id]);
      const a = rows[0];
      if (!a) return false;
      const req = await tx.query(`SELECT id FROM telegram_outbox WHERE dedupe_key = $1`, [requestKey(id)]);
      if (!req.rows[0]) {
        // Decided before anyone was told (e.g. at once through the API): there is nothing to ask any more.
        if (a.status !== 'pending') return false;
        const buttons = await this.createButtons(tx, id);
        const msg = pendingApprovalMessage(a, buttons, await this.names(tx, id));
        await this.o.outbox.enqueue('approval_request', { method: 'sendMessage', ...msg }, requestKey(id), { approvalId: id, q: tx });
        return true;
      }
      if (a.status === 'pending') {
        if (a.approvers.length === 0) return false;
        const buttons = await this.buttons(tx, id);
        const msg = pendingApprovalMessage(a, buttons, await this.names(tx, id));
        const r = await this.o.outbox.enqueue(
          'approval_update',
          { method: 'editMessageText', edit_of: requestKey(id), ...msg },
          progressKey(id, a.approvers.length),
          { approvalId: id, q: tx },
        );
        return r.created;
      }
      const msg = finalApprovalMessage(a, await this.names(tx, id));
      const r = await this.o.outbox.enqueue('approval_update', { method: 'editMessageText', edit_of: requestKey(id), ...msg }, finalKey(id), {
        approvalId: id,
        q: tx,
      });
      return r.created;
    });
    if (enqueued) this.o.outbox.wake();
  }

  private async createButtons(tx: Queryable, approvalId: string): Promise<ApprovalButtons> {
    // 18 random bytes → 24 base64url characters: unguessable, well under callback_data's 64 bytes.
    const approve = randomBytes(18).toString('base64url');
    const deny = randomBytes(18).toString('base64url');
    await tx.query(`INSERT INTO telegram_callbacks (nonce, approval_id, decision) VALUES ($1, $3, 'approve'), ($2, $3, 'deny')`, [approve, deny, approvalId]);
    return { approve, deny };
  }

  private async buttons(tx: Queryable, approvalId: string): Promise<ApprovalButtons> {
    const { rows } = await tx.query<{ nonce: string; decision: 'approve' | 'deny' }>(
      `SELECT nonce, decision FROM telegram_callbacks WHERE approval_id = $1 ORDER BY created_at`,
      [approvalId],
    );
    const approve = rows.find((r) => r.decision === 'approve')?.nonce;
    const deny = rows.find((r) => r.decision === 'deny')?.nonce;
    return approve && deny ? { approve, deny } : this.createButtons(tx, approvalId);
  }

  /** Telegram display names of the people who decided, from the approval event log. */
  private async names(tx: Queryable, approvalId: string): Promise<Map<string, string>> {
    const { rows } = await tx.query<{ actor: string; name: string }>(
      `SELECT actor, detail->>'user_name' AS name FROM approval_events
        WHERE approval_id = $1 AND event IN ('decided', 'partially_approved') AND detail ? 'user_name'`,
      [approvalId],
    );
    return new Map(rows.filter((r) => r.name).map((r) => [r.actor, r.name]));
  }
}
