// The Telegram outbox: every message Wingman sends to Telegram, and every edit of one, is a row first. enqueue() is
// idempotent by dedupe key, so a redelivered event or update never produces a second message. OutboxSender delivers
// the rows; this file only writes and reads them.
import { EventEmitter } from 'node:events';
import type { Bus } from '../bus/bus.js';
import { wingmanError } from '../errors.js';
import type { Db, Queryable } from '../store/db.js';
import { fitText } from './message-text.js';

/** Bounded set: used as a metric label. Add kinds here (alerts from the watcher use 'alert'). */
export const OUTBOX_KINDS = ['approval_request', 'approval_update', 'reply', 'alert'] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];

export interface InlineButton {
  text: string;
  callback_data: string;
}
export interface InlineKeyboard {
  inline_keyboard: InlineButton[][];
}

export type OutboxPayload =
  | {
      method: 'sendMessage';
      /** default: TELEGRAM_CHAT_ID */
      chat_id?: string;
      text: string;
      reply_markup?: InlineKeyboard;
      /** make this a reply to that message in the same chat */
      reply_to_message_id?: number;
    }
  | {
      method: 'editMessageText';
      /** dedupe key of the sendMessage row whose message this edits */
      edit_of: string;
      text: string;
      /** omitted: the edit removes the buttons */
      reply_markup?: InlineKeyboard;
    };

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'skipped';

export interface OutboxRow {
  id: string;
  kind: OutboxKind;
  dedupe_key: string;
  method: 'sendMessage' | 'editMessageText';
  chat_id: string;
  payload: Record<string, unknown>;
  edit_of: string | null;
  approval_id: string | null;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: Date;
  claimed_by: string | null;
  lease_until: Date | null;
  last_error: string | null;
  enqueued_at: Date;
  sent_at: Date | null;
  message_id: string | null;
}

export const OUTBOX_COLS = `id, kind, dedupe_key, method, chat_id, payload, edit_of, approval_id, status, attempts,
  next_attempt_at, claimed_by, lease_until, last_error, enqueued_at, sent_at, message_id`;

/** Runs inside the transaction that marks a row sent (e.g. the approval event 'notified'). */
export type SentHook = (tx: Queryable, row: OutboxRow, messageId: number) => Promise<void>;

export interface EnqueueOptions {
  approvalId?: string;
  /** enqueue inside the caller's transaction; the caller calls wake() after commit */
  q?: Queryable;
}

export class Outbox {
  private readonly hooks = new Map<OutboxKind, SentHook[]>();
  /** 'enqueued' (local wake-up) and 'sent' (row, messageId) for metrics and tests */
  readonly events = new EventEmitter();

  constructor(
    private readonly db: Db,
    private readonly bus: Bus | undefined,
    private readonly defaultChatId: string | undefined,
  ) {
    this.events.setMaxListeners(50);
  }

  /** Add a message to the outbox unless one with this dedupe key exists. Returns the row id either way. */
  async enqueue(kind: OutboxKind, payload: OutboxPayload, dedupeKey: string, opts: EnqueueOptions = {}): Promise<{ id: string; created: boolean }> {
    if (!OUTBOX_KINDS.includes(kind)) throw wingmanError('WGM_ERR_INTERNAL', `unknown outbox kind ${kind}`);
    if (!dedupeKey || dedupeKey.length > 500) throw wingmanError('WGM_ERR_INTERNAL', 'outbox dedupe key must be 1..500 characters');
    const q = opts.q ?? this.db;
    const text = fitText(payload.text);
    if (text.trim() === '') throw wingmanError('WGM_ERR_INTERNAL', 'outbox message text is empty');
    let chatId: string;
    let editOf: string | null = null;
    const wire: Record<string, unknown> = { text };
    if (payload.reply_markup) wire.reply_markup = payload.reply_markup;
    if (payload.method === 'sendMessage') {
      chatId = payload.chat_id ?? this.defaultChatId ?? '';
      if (!chatId) throw wingmanError('WGM_ERR_CONFIG_INVALID', 'TELEGRAM_CHAT_ID is not set: no chat to send to', { variables: ['TELEGRAM_CHAT_ID'] });
      if (payload.reply_to_message_id) {
        wire.reply_parameters = { message_id: payload.reply_to_message_id, allow_sending_without_reply: true };
      }
    } else {
      const { rows } = await q.query<{ id: string; chat_id: string }>(
        `SELECT id, chat_id FROM telegram_outbox WHERE dedupe_key = $1 AND method = 'sendMessage'`,
        [payload.edit_of],
      );
      if (!rows[0]) throw wingmanError('WGM_ERR_INTERNAL', `outbox edit of unknown message ${payload.edit_of}`);
      chatId = rows[0].chat_id;
      editOf = rows[0].id;
    }
    const ins = await q.query<{ id: string }>(
      `INSERT INTO telegram_outbox (kind, dedupe_key, method, chat_id, payload, edit_of, approval_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [kind, dedupeKey, payload.method, chatId, JSON.stringify(wire), editOf, opts.approvalId ?? null],
    );
    if (ins.rows[0]) {
      if (!opts.q) this.wake();
      return { id: String(ins.rows[0].id), created: true };
    }
    const { rows } = await q.query<{ id: string }>(`SELECT id FROM telegram_outbox WHERE dedupe_key = $1`, [dedupeKey]);
    return { id: String(rows[0].id), created: false };
  }

  /** Wake the local sender and, through the bus, senders in other processes. */
  wake(): void {
    this.events.emit('enqueued');
    void this.bus?.publish('telegram.outbox', {}).catch(() => undefined);
  }

  async get(dedupeKey: string): Promise<OutboxRow | undefined> {
    const { rows } = await this.db.query<OutboxRow>(`SELECT ${OUTBOX_COLS} FROM telegram_outbox WHERE dedupe_key = $1`, [dedupeKey]);
    return rows[0];
  }

  /** Rows not yet finished (pending or in flight). */
  async backlog(): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(`SELECT count(*) AS n FROM telegram_outbox WHERE status IN ('pending', 'sending')`);
    return Number(rows[0]?.n ?? 0);
  }

  onSent(kind: OutboxKind, hook: SentHook): void {
    this.hooks.set(kind, [...(this.hooks.get(kind) ?? []), hook]);
  }

  hooksFor(kind: OutboxKind): SentHook[] {
    return this.hooks.get(kind) ?? [];
  }
}
