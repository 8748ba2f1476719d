// Delivers outbox rows to the Bot API, strictly in id order, one at a time across every process sharing the store.
//
// Claiming: one UPDATE that may only take the lowest unfinished row (the head), locking it first, so two control
// processes cannot both hold a live claim, and a later row never overtakes an earlier one. A claim is a lease: a
// process that dies mid-send leaves a 'sending' row that is claimed again once the lease lapses.
//
// Outcomes: ok:true → 'sent' with message_id (and the kind's hooks, in the same transaction); 429 → back to
// 'pending' until retry_after has passed; network errors, timeouts and 5xx → 'pending' with exponential backoff;
// other 4xx → 'failed' (retrying cannot help). The library's own retries are off (the Api passed in must have
// maxRetries 0): retries here are durable, ordered and visible in the table.
//
// Exactly once, with one honest exception: Telegram has no idempotency key, so when a request may have reached
// Telegram but its answer did not come back (the process died between the two, or the connection broke after the
// request was sent), the row is sent again. Wingman prefers a rare duplicate to a lost approval request or alert.
import { NetworkError, ParseError, TelegramApiError, TimeoutError, type Api } from 'node-telegram-bot-api';
import type { Bus } from '../bus/bus.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { backoffDelay, DrainLoop, type BackoffPolicy, type RoundResult } from '../queue/drain-loop.js';
import type { Db } from '../store/db.js';
import { OUTBOX_COLS, type Outbox, type OutboxRow } from './outbox.js';

export interface OutboxSenderOptions {
  db: Db;
  outbox: Outbox;
  /** created with `maxRetries: 0` */
  api: Api;
  log: Logger;
  metrics?: Metrics;
  bus?: Bus;
  /** claimer identity, unique per process */
  name: string;
  leaseMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** safety re-check when nothing woke the sender */
  pollMs?: number;
}

type Outcome = 'ok' | 'rate_limited' | 'transient' | 'failed';

/** recording a send outcome while the store hiccups */
const RECORD_BACKOFF: BackoffPolicy = { baseMs: 200, maxMs: 2_000 };

export class OutboxSender {
  private readonly loop: DrainLoop;
  private started = false;
  private unwatch: (() => void) | undefined;
  private readonly onEnqueued = () => this.wake();
  private readonly leaseMs: number;
  /** a message the Bot API could not take yet */
  private readonly retry: BackoffPolicy;
  private readonly pollMs: number;

  constructor(private readonly o: OutboxSenderOptions) {
    this.leaseMs = o.leaseMs ?? 60_000;
    this.retry = { baseMs: o.retryBaseMs ?? 1_000, maxMs: o.retryMaxMs ?? 60_000 };
    this.pollMs = o.pollMs ?? 5_000;
    this.loop = new DrainLoop({
      queue: 'telegram_outbox',
      round: () => this.round(),
      // The store, not Telegram, failed: capped low, so messages flow again soon after it is back.
      backoff: { baseMs: this.retry.baseMs, maxMs: Math.min(this.retry.maxMs, 5_000) },
      idleMs: this.pollMs,
      onError: (err, retryMs) => this.o.log.warn({ err: (err as Error).message, retryMs: Math.round(retryMs) }, 'telegram outbox: store error; retrying'),
      metrics: o.metrics,
    });
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.o.outbox.events.on('enqueued', this.onEnqueued);
    this.unwatch = this.o.bus?.watch(['telegram.outbox'], () => this.wake());
    this.loop.kick();
  }

  /** Stop after the request in flight (if any) has its answer recorded: a graceful stop leaves nothing in doubt. */
  async stop(): Promise<void> {
    this.o.outbox.events.off('enqueued', this.onEnqueued);
    this.unwatch?.();
    await this.loop.stop();
  }

  wake(): void {
    if (this.started) this.loop.kick();
  }

  /** One round: deliver the head row ('more'), or wait until it is due (or the safety poll). */
  private async round(): Promise<RoundResult> {
    if (await this.step()) return 'more';
    return { waitMs: await this.idleWait() };
  }

  /** How long until the head row can be claimed (or the safety poll), and refresh the backlog gauge. */
  private async idleWait(): Promise<number> {
    const { rows } = await this.o.db.query<{ status: string; wait_ms: number | null; backlog: string }>(
      `SELECT h.status,
              EXTRACT(EPOCH FROM (CASE WHEN h.status = 'pending' THEN h.next_attempt_at ELSE h.lease_until END) - now()) * 1000 AS wait_ms,
              (SELECT count(*) FROM telegram_outbox WHERE status IN ('pending', 'sending')) AS backlog
         FROM (SELECT status, next_attempt_at, lease_until FROM telegram_outbox
                WHERE status IN ('pending', 'sending') ORDER BY id LIMIT 1) h`,
    );
    const head = rows[0];
    const backlog = head ? Number(head.backlog) : 0;
    this.o.metrics?.telegramOutboxUnsent.set(backlog);
    this.loop.setBacklog(backlog);
    if (!head) return this.pollMs;
    return Math.max(0, Math.min(this.pollMs, Math.ceil(Number(head.wait_ms ?? 0)) + 5));
  }

  /** Claim the head row and deliver it. false when there was nothing claimable. */
  async step(): Promise<boolean> {
    const row = await this.claim();
    if (!row) return false;
    await this.deliver(row);
    return true;
  }

  private async claim(): Promise<OutboxRow | undefined> {
    const { rows } = await this.o.db.query<OutboxRow>(
      `WITH head AS (
         SELECT id FROM telegram_outbox WHERE status IN ('pending', 'sending') ORDER BY id LIMIT 1 FOR UPDATE
       )
       UPDATE telegram_outbox o
          SET status = 'sending', claimed_by = $1, lease_until = now() + make_interval(secs => $2),
              attempts = o.attempts + 1,
              last_error = CASE WHEN o.status = 'sending'
                                THEN 'in doubt: the claim of ' || o.claimed_by || ' lapsed mid-send; sending again'
                                ELSE o.last_error END
         FROM head
        WHERE o.id = head.id
          AND ((o.status = 'pending' AND o.next_attempt_at <= now()) OR (o.status = 'sending' AND o.lease_until < now()))
       RETURNING ${OUTBOX_COLS.split(',').map((c) => `o.${c.trim()}`).join(', ')}`,
      [this.o.name, this.leaseMs / 1000],
    );
    const row = rows[0];
    if (row?.last_error?.startsWith('in doubt')) this.o.log.warn({ id: row.id, kind: row.kind }, 'telegram outbox: resending a row whose sender died mid-send');
    return row;
  }

  private async deliver(row: OutboxRow): Promise<void> {
    const p = row.payload as { text: string; reply_markup?: unknown; reply_parameters?: unknown };
    let messageId: number;
    try {
      if (row.method === 'sendMessage') {
        const m = await this.o.api.sendMessage({
          chat_id: row.chat_id,
          text: p.text,
          ...(p.reply_markup ? { reply_markup: p.reply_markup as never } : {}),
          ...(p.reply_parameters ? { reply_parameters: p.reply_parameters } : {}),
        });
        messageId = m.message_id;
      } else {
        const { rows } = await this.o.db.query<{ status: string; message_id: string | null }>(
          `SELECT status, message_id FROM telegram_outbox WHERE id = $1`,
          [row.edit_of],
        );
        const target = rows[0];
        if (!target || target.status !== 'sent' || target.message_id === null) {
          // The message it edits was never delivered (failed permanently): nothing to edit.
          await this.finish(row, 'skipped', `edited message is ${target?.status ?? 'missing'}`);
          return;
        }
        messageId = Number(target.message_id);
        try {
          await this.o.api.editMessageText({
            chat_id: row.chat_id,
            message_id: messageId,
            text: p.text,
            reply_markup: (p.reply_markup ?? { inline_keyboard: [] }) as never,
          });
        } catch (err) {
          // Already in this state (e.g. an edit resent after a lost answer): that is success.
          if (!(err instanceof TelegramApiError && err.errorCode === 400 && /not modified/i.test(err.description))) throw err;
        }
      }
    } catch (err) {
      await this.failed(row, err);
      return;
    }
    this.count(row, 'ok');
    await this.markSent(row, messageId);
  }

  private count(row: OutboxRow, outcome: Outcome): void {
    this.o.metrics?.telegramSends.inc({ method: row.method, outcome });
  }

  private async failed(row: OutboxRow, err: unknown): Promise<void> {
    const msg = (err as Error)?.message?.slice(0, 500) ?? String(err);
    if (err instanceof TelegramApiError && err.errorCode === 429) {
      const waitMs = Math.max(1, err.retryAfter ?? 1) * 1000;
      this.count(row, 'rate_limited');
      this.o.log.warn({ id: row.id, retryAfterS: waitMs / 1000 }, 'telegram outbox: rate limited; waiting retry_after');
      await this.release(row, waitMs, msg);
      return;
    }
    const transient =
      err instanceof NetworkError ||
      err instanceof TimeoutError ||
      err instanceof ParseError ||
      (err instanceof TelegramApiError && (err.errorCode >= 500 || err.errorCode === 401 || err.errorCode === 404)) ||
      !(err instanceof TelegramApiError);
    if (transient) {
      // 401/404 mean a wrong token or API URL: a configuration problem, not this message's; keep it for the fix.
      const waitMs = backoffDelay(this.retry, row.attempts);
      this.count(row, 'transient');
      const level = err instanceof TelegramApiError && err.errorCode < 500 ? 'error' : 'warn';
      this.o.log[level]({ id: row.id, err: msg, attempt: row.attempts, retryMs: Math.round(waitMs) }, 'telegram outbox: send failed; will retry');
      await this.release(row, waitMs, msg);
      return;
    }
    this.count(row, 'failed');
    this.o.log.error({ id: row.id, kind: row.kind, err: msg }, 'telegram outbox: Bot API refused the message; giving up on it');
    await this.finish(row, 'failed', msg);
  }

  private async release(row: OutboxRow, delayMs: number, error: string): Promise<void> {
    await this.retryStore(() =>
      this.o.db.query(
        `UPDATE telegram_outbox SET status = 'pending', next_attempt_at = now() + make_interval(secs => $3),
                claimed_by = NULL, lease_until = NULL, last_error = $4
          WHERE id = $1 AND status = 'sending' AND claimed_by = $2`,
        [row.id, this.o.name, delayMs / 1000, error],
      ),
    );
  }

  private async finish(row: OutboxRow, status: 'failed' | 'skipped', error: string): Promise<void> {
    await this.retryStore(() =>
      this.o.db.query(
        `UPDATE telegram_outbox SET status = $3, lease_until = NULL, last_error = $4
          WHERE id = $1 AND status = 'sending' AND claimed_by = $2`,
        [row.id, this.o.name, status, error],
      ),
    );
  }

  private async markSent(row: OutboxRow, messageId: number): Promise<void> {
    const sent = await this.retryStore(() =>
      this.o.db.transaction(async (tx) => {
        const { rows } = await tx.query<OutboxRow>(
          `UPDATE telegram_outbox SET status = 'sent', sent_at = now(), message_id = $3, lease_until = NULL
            WHERE id = $1 AND status = 'sending' AND claimed_by = $2 RETURNING ${OUTBOX_COLS}`,
          [row.id, this.o.name, messageId],
        );
        const done = rows[0];
        if (!done) return undefined;
        for (const hook of this.o.outbox.hooksFor(row.kind)) await hook(tx, done, messageId);
        return done;
      }),
    );
    if (!sent) {
      this.o.log.warn({ id: row.id }, 'telegram outbox: claim lapsed before the send was recorded; another sender may repeat it');
      return;
    }
    const latencyS = (new Date(sent.sent_at!).getTime() - new Date(sent.enqueued_at).getTime()) / 1000;
    this.o.metrics?.telegramOutboxLatency.observe({ kind: row.kind }, Math.max(0, latencyS));
    this.o.outbox.events.emit('sent', sent, messageId);
  }

  /**
   * Recording an outcome must not be lost to a brief store outage (a sent message recorded as unsent is sent again),
   * so it is retried while the claim's lease still protects the row.
   */
  private async retryStore<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.leaseMs / 2;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (Date.now() > deadline) throw err;
        this.o.log.warn({ err: (err as Error).message }, 'telegram outbox: could not record a send outcome; retrying');
        await new Promise((r) => setTimeout(r, backoffDelay(RECORD_BACKOFF, attempt)));
      }
    }
  }
}
