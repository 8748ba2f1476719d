// The Telegram side people talk to: long-polls getUpdates, turns button taps, replies and commands into decisions
// and answers. Authority is the sender's numeric user id in TELEGRAM_APPROVER_IDS and nothing else (not the chat,
// not a name): an empty list means nobody decides by Telegram. Every refused decision attempt is recorded in the
// approval event log. Every answer is an outbox message (deduplicated by update id), except answerCallbackQuery,
// which Telegram needs at once and which is always sent.
import type { Bot, CallbackQuery, Context, Message, User } from 'node-telegram-bot-api';
import { isUuid, type Approvals } from '../../core/approvals/approvals.js';
import type { Bus } from '../../core/bus/bus.js';
import type { Config } from '../../core/config.js';
import { isWingmanError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import type { Db } from '../../core/store/db.js';
import { field, fitText, utc } from '../../core/telegram/message-text.js';
import type { Outbox } from '../../core/telegram/outbox.js';
import { HELP_TEXT, parseCommand, parseReplyDecision, splitIdAndNote } from '../../core/telegram/telegram-commands.js';
import type { Workers } from '../../core/workers/workers.js';
import type { Lockdowns } from '../../core/lockdown/lockdowns.js';
import { isWorkerName } from '../../core/config.js';
import { requestKey, type ApprovalNotifier } from './approval-notifier.js';

export interface TelegramBotOptions {
  config: Config;
  db: Db;
  bus: Bus;
  approvals: Approvals;
  workers: Workers;
  /** /lockdown and /unlock; absent → those commands answer that they are not available */
  lockdowns?: Lockdowns;
  outbox: Outbox;
  notifier: ApprovalNotifier;
  log: Logger;
  metrics: Metrics;
  bot: Bot;
  /** numeric prefix of the token: keys reply dedupe so a new bot's update ids cannot collide */
  botId: string;
  /** getUpdates long-poll seconds */
  pollTimeoutS?: number;
  /** wait before polling again after a failure */
  restartMs?: number;
}

interface Answer {
  text: string;
  show_alert?: boolean;
}

type Via = 'telegram_button' | 'telegram_reply' | 'telegram_command';

const NOT_APPROVER = 'Sorry, you are not on the Wingman approver list, so this changed nothing. The attempt was recorded.';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function displayName(u: User | undefined): string | undefined {
  if (!u) return undefined;
  const name = [u.first_name, u.last_name].filter(Boolean).join(' ');
  const s = u.username ? `${name} (@${u.username})` : name;
  return s ? field(s, 80) : undefined;
}

/** The ways a chat can be named in TELEGRAM_CHAT_ID: its numeric id, or `@username` for a public chat or channel. */
function chatKeys(chat: Message['chat']): string[] {
  const keys = [String(chat.id)];
  if (chat.username) keys.push(`@${chat.username}`, `@${chat.username.toLowerCase()}`);
  return keys;
}

function sameChat(chat: Message['chat'], configured: string): boolean {
  return chatKeys(chat).some((k) => k === configured || k.toLowerCase() === configured.toLowerCase());
}

export class TelegramBot {
  private readonly approverIds: ReadonlySet<string>;
  private username: string | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wakeRestart: (() => void) | undefined;

  constructor(private readonly o: TelegramBotOptions) {
    this.approverIds = new Set(o.config.telegram.approverIds);
    o.bot.on('callback_query', (ctx) => this.onCallback(ctx));
    o.bot.on('message', (ctx) => this.onMessage(ctx));
    // A handler failure is logged and the update consumed: a broken update must not stop the bot. The person is
    // told (the callback answer in onCallback's finally) and can try again.
    o.bot.catch((err, ctx) => {
      this.o.log.error({ err: (err as Error).message, update: ctx.update.update_id }, 'telegram: update handling failed');
    });
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.o.bot.stop();
    this.wakeRestart?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.username) {
          const me = await this.o.bot.api.getMe();
          this.username = me.username?.toLowerCase();
          this.o.log.info({ bot: me.username }, 'telegram bot polling');
        }
        await this.o.bot.startPolling(undefined, {
          timeout: this.o.pollTimeoutS ?? 30,
          allowedUpdates: ['message', 'callback_query'],
          onError: (err) => this.o.log.warn({ err: (err as Error).message }, 'telegram: getUpdates failed; retrying'),
        });
      } catch (err) {
        if (this.stopped) break;
        // 401/404: bad token or API URL; 409: another poller or a webhook is set. Keep trying: it may be fixed.
        this.o.log.error({ err: (err as Error).message }, 'telegram: polling stopped; restarting');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.o.restartMs ?? 5_000);
          this.wakeRestart = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  private isApprover(userId: string): boolean {
    return this.approverIds.has(userId);
  }

  // ---- button taps ------------------------------------------------------------------------------------------

  private async onCallback(ctx: Context): Promise<void> {
    const cq = ctx.callbackQuery!;
    let answer: Answer = { text: 'Something went wrong; nothing was decided. Please try again.', show_alert: true };
    try {
      answer = await this.handleTap(cq);
    } finally {
      await ctx.answerCallbackQuery({ text: answer.text.slice(0, 200), show_alert: answer.show_alert ?? false }).catch((err: Error) => {
        this.o.log.warn({ err: err.message }, 'telegram: answerCallbackQuery failed');
      });
    }
  }

  private async handleTap(cq: CallbackQuery): Promise<Answer> {
    const uid = String(cq.from.id);
    const data = typeof cq.data === 'string' && cq.data.length <= 64 ? cq.data : '';
    const invalid: Answer = { text: 'This button is not valid. Nothing changed.', show_alert: true };
    const { rows } = data
      ? await this.o.db.query<{ approval_id: string; decision: 'approve' | 'deny' }>(
          `SELECT approval_id, decision FROM telegram_callbacks WHERE nonce = $1`,
          [data],
        )
      : { rows: [] };
    const nonce = rows[0];
    if (!nonce) {
      this.o.metrics.telegramDecisions.inc({ outcome: 'unknown_button' });
      this.o.log.warn({ user: uid }, 'telegram: tap with an unknown callback nonce');
      return invalid;
    }
    // A nonce is bound to the one message it was sent with.
    const req = await this.sentRequest(nonce.approval_id);
    const msg = cq.message;
    if (!req || req.message_id === null || !msg || !sameChat(msg.chat, req.chat_id) || String(msg.message_id) !== String(req.message_id)) {
      this.o.metrics.telegramDecisions.inc({ outcome: 'unknown_button' });
      this.o.log.warn({ user: uid, approval: nonce.approval_id }, 'telegram: callback nonce used on another message');
      return invalid;
    }
    const via = { via: 'telegram_button' as Via, messageId: Number(req.message_id) };
    if (!this.isApprover(uid)) return this.refuse(nonce.approval_id, nonce.decision, cq.from, via);
    return this.answerApproval(nonce.approval_id, nonce.decision, cq.from, undefined, via);
  }

  /**
   * The approval's request message once its delivery is recorded. A tap can reach us in the few milliseconds
   * between Telegram accepting the message and the outbox recording its message_id: wait that out briefly.
   */
  private async sentRequest(approvalId: string) {
    const deadline = Date.now() + 3_000;
    for (;;) {
      const req = await this.o.outbox.get(requestKey(approvalId));
      if (!req || req.status === 'sent' || req.status === 'failed' || req.status === 'skipped' || Date.now() > deadline) return req;
      await sleep(50);
    }
  }

  private async refuse(approvalId: string, decision: 'approve' | 'deny', from: User, via: { via: Via; messageId?: number }): Promise<Answer> {
    const uid = String(from.id);
    this.o.metrics.telegramDecisions.inc({ outcome: 'refused_approver' });
    this.o.log.warn({ user: uid, approval: approvalId, via: via.via }, 'telegram: decision attempt by a user who is not an approver');
    await this.o.approvals.recordEvent(approvalId, 'refused_approver', `telegram:${uid}`, {
      user_id: uid,
      user_name: displayName(from) ?? null,
      decision,
      via: via.via,
      message_id: via.messageId ?? null,
    });
    return { text: NOT_APPROVER, show_alert: true };
  }

  private async answerApproval(
    approvalId: string,
    decision: 'approve' | 'deny',
    from: User,
    note: string | undefined,
    via: { via: Via; messageId?: number },
  ): Promise<Answer> {
    const uid = String(from.id);
    const actor = `telegram:${uid}`;
    const detail = { via: via.via, message_id: via.messageId ?? null, user_id: uid, user_name: displayName(from) ?? null };
    try {
      const a = await this.o.approvals.answer(approvalId, decision, actor, note, detail);
      await this.o.notifier.sync(approvalId).catch((err: Error) => {
        // The approval.decided consumer and the reconcile catch up; the decision itself stands.
        this.o.log.warn({ err: err.message, approval: approvalId }, 'telegram: message update after a decision failed');
      });
      if (a.status === 'pending') {
        this.o.metrics.telegramDecisions.inc({ outcome: 'partially_approved' });
        return { text: `Approved (${a.approvers.length}/${a.required_approvals}). One more, different approver is needed.` };
      }
      this.o.metrics.telegramDecisions.inc({ outcome: a.status === 'approved' ? 'approved' : 'denied' });
      return { text: a.status === 'approved' ? 'Approved: the call goes ahead.' : 'Denied: the call is refused.' };
    } catch (err) {
      if (isWingmanError(err, 'WGM_ERR_APPROVAL_NOT_PENDING') || isWingmanError(err, 'WGM_ERR_APPROVAL_EXPIRED')) {
        const a = await this.o.approvals.get(approvalId);
        this.o.metrics.telegramDecisions.inc({ outcome: 'refused_stale' });
        await this.o.approvals.recordEvent(approvalId, 'refused_stale', actor, { ...detail, decision, status: a?.status ?? null });
        const status = a?.status === 'pending' ? 'expired' : (a?.status ?? 'finished');
        const by = a?.decided_by && a.status !== 'pending' ? ` by ${field(a.decided_by, 120)}` : '';
        return { text: `Already ${status}${by}. Nothing changed.`, show_alert: true };
      }
      if (isWingmanError(err, 'WGM_ERR_APPROVAL_UNAUTHORIZED')) {
        this.o.metrics.telegramDecisions.inc({ outcome: 'refused_same_approver' });
        return { text: 'You already approved this; a second, different approver is needed.', show_alert: true };
      }
      if (isWingmanError(err, 'WGM_ERR_APPROVAL_NOT_FOUND')) return { text: 'No such approval. Nothing changed.', show_alert: true };
      throw err;
    }
  }

  // ---- messages: replies and commands -------------------------------------------------------------------------

  private async onMessage(ctx: Context): Promise<void> {
    const m = ctx.message!;
    if (typeof m.text !== 'string' || !m.from || m.from.is_bot) return;
    const chatId = String(m.chat.id);
    const say = (text: string) =>
      this.o.outbox.enqueue(
        'reply',
        { method: 'sendMessage', chat_id: chatId, text: fitText(text), reply_to_message_id: m.message_id },
        `tg:${this.o.botId}:update:${ctx.update.update_id}`,
      );
    const cmd = parseCommand(m.text);
    if (cmd?.bot && cmd.bot !== this.username) return; // addressed to another bot in the group
    const replied = m.reply_to_message ? await this.approvalForMessage(m.chat, m.reply_to_message.message_id) : undefined;
    const uid = String(m.from.id);

    if (!cmd) {
      if (!replied) return; // ordinary chat
      const d = parseReplyDecision(m.text);
      if (!d) {
        if (this.isApprover(uid)) await say('To decide, reply "approve" or "deny <reason>" to the approval message.');
        return;
      }
      const via = { via: 'telegram_reply' as Via, messageId: m.reply_to_message!.message_id };
      const answer = this.isApprover(uid)
        ? await this.answerApproval(replied, d.decision, m.from, d.note, via)
        : await this.refuse(replied, d.decision, m.from, via);
      await say(answer.text);
      return;
    }

    switch (cmd.name) {
      case 'help':
      case 'start':
        await say(HELP_TEXT);
        return;
      case 'approve':
      case 'deny': {
        const { idPrefix, note } = splitIdAndNote(cmd.args);
        const id = idPrefix ? await this.resolveId(idPrefix) : replied;
        if (!id) {
          await say(idPrefix ? `No single pending approval matches ${idPrefix}. See /pending.` : `Which approval? Use /${cmd.name} <id> (see /pending), or reply to its message.`);
          return;
        }
        const req = await this.o.outbox.get(requestKey(id));
        const via = { via: 'telegram_command' as Via, ...(req?.message_id ? { messageId: Number(req.message_id) } : {}) };
        const decision = cmd.name === 'approve' ? 'approve' : 'deny';
        const answer = this.isApprover(uid) ? await this.answerApproval(id, decision, m.from, note, via) : await this.refuse(id, decision, m.from, via);
        await say(answer.text);
        return;
      }
      case 'pending':
      case 'status':
      case 'workers':
        if (!this.isApprover(uid)) {
          this.o.metrics.telegramDecisions.inc({ outcome: 'refused_command' });
          await say(`Sorry, /${cmd.name} is for Wingman approvers only.`);
          return;
        }
        await say(cmd.name === 'pending' ? await this.pendingText() : cmd.name === 'status' ? await this.statusText() : await this.workersText());
        return;
      case 'lockdown':
      case 'unlock': {
        if (!this.isApprover(uid)) {
          // Audited like a refused approval: who tried, on what.
          this.o.metrics.telegramDecisions.inc({ outcome: 'refused_command' });
          this.o.log.warn({ user: uid, command: cmd.name }, 'telegram: lockdown command from a non-approver refused');
          await say(`Sorry, /${cmd.name} is for Wingman approvers only. Nothing changed.`);
          return;
        }
        const [worker = '', ...rest] = cmd.args.trim().split(/\s+/);
        const why = rest.join(' ').trim().slice(0, 500);
        if (!isWorkerName(worker) || (cmd.name === 'lockdown' && !why)) {
          await say(cmd.name === 'lockdown' ? 'Usage: /lockdown <worker> <why>' : 'Usage: /unlock <worker> [why]');
          return;
        }
        if (!this.o.lockdowns) {
          await say('Lockdown is not available in this process.');
          return;
        }
        const by = `telegram:${uid}`;
        try {
          const r =
            cmd.name === 'unlock'
              ? await this.o.lockdowns.unlock(worker, by, why || 'released on Telegram')
              : await this.o.lockdowns.lock(worker, why, by);
          const verb = cmd.name === 'unlock' ? 'unlocked' : 'locked down';
          await say(`${worker} ${r.changed ? verb : `was already ${verb}`}; container: ${r.container.action}${r.container.ok ? '' : ` (${field(r.container.detail ?? '', 200)})`}.`);
        } catch (err) {
          if (isWingmanError(err, 'WGM_ERR_API_NOT_FOUND')) await say(`No worker ${worker}.`);
          else throw err;
        }
        return;
      }
      default:
        await say(`Unknown command /${field(cmd.name, 64)}.\n\n${HELP_TEXT}`);
    }
  }

  /** The approval whose request message this is (a reply's target), if any. */
  private async approvalForMessage(chat: Message['chat'], messageId: number): Promise<string | undefined> {
    const { rows } = await this.o.db.query<{ approval_id: string }>(
      `SELECT approval_id FROM telegram_outbox
        WHERE chat_id = ANY($1) AND message_id = $2 AND kind = 'approval_request' AND approval_id IS NOT NULL`,
      [chatKeys(chat), messageId],
    );
    return rows[0]?.approval_id;
  }

  /** A full id, or a prefix (8+ characters) that matches exactly one pending approval. */
  private async resolveId(prefix: string): Promise<string | undefined> {
    if (isUuid(prefix)) return (await this.o.approvals.get(prefix))?.id;
    if (!/^[0-9a-f-]{8,35}$/.test(prefix)) return undefined;
    const { rows } = await this.o.db.query<{ id: string }>(
      `SELECT id FROM approvals WHERE status = 'pending' AND id::text LIKE $1 LIMIT 2`,
      [`${prefix}%`],
    );
    return rows.length === 1 ? rows[0].id : undefined;
  }

  private async pendingText(): Promise<string> {
    const list = (await this.o.approvals.list({ status: 'pending', limit: 1000 })).reverse();
    if (list.length === 0) return 'No approvals are pending.';
    const shown = list.slice(0, 15);
    const lines = [`Pending approvals (${list.length}):`];
    for (const a of shown) {
      lines.push(
        '',
        `• ${field(a.worker, 63)}: ${field(a.summary, 300)}`,
        `  rule ${field(a.rule, 80)}, expires ${utc(a.expires_at)}, approvals ${a.approvers.length}/${a.required_approvals}`,
        `  /approve ${a.id}`,
      );
    }
    if (list.length > shown.length) lines.push('', `…and ${list.length - shown.length} more (oldest first above).`);
    return fitText(lines.join('\n'));
  }

  private async statusText(): Promise<string> {
    const [store, busOk] = await Promise.all([this.o.db.ping(), this.o.bus.ping()]);
    const [pending, workers, unsent] = await Promise.all([
      this.o.approvals.list({ status: 'pending', limit: 1000 }),
      this.o.workers.list(),
      this.o.outbox.backlog(),
    ]);
    return [
      'Wingman status',
      `Store: ${store ? 'ok' : 'DOWN'} (${this.o.db.kind})`,
      `Bus: ${busOk ? 'ok' : 'DOWN'} (${this.o.bus.kind})`,
      `Policy mode: ${this.o.config.policyMode}`,
      `Pending approvals: ${pending.length}`,
      `Workers: ${workers.length} (${workers.filter((w) => w.locked).length} locked)`,
      `Telegram outbox: ${unsent} unsent`,
    ].join('\n');
  }

  private async workersText(): Promise<string> {
    const workers = await this.o.workers.list();
    if (workers.length === 0) return 'No workers registered.';
    const lines = [`Workers (${workers.length}):`];
    for (const w of workers.slice(0, 50)) {
      lines.push(
        w.locked
          ? `• ${w.name}: LOCKED${w.locked_at ? ` since ${utc(w.locked_at)}` : ''}${w.locked_by ? ` by ${field(w.locked_by, 80)}` : ''}${w.locked_reason ? `: ${field(w.locked_reason, 200)}` : ''}`
          : `• ${w.name}: active`,
      );
    }
    if (workers.length > 50) lines.push(`…and ${workers.length - 50} more`);
    return fitText(lines.join('\n'));
  }
}
