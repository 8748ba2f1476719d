// Composes the Telegram side of `wingman control` / `wingman up` (on when TELEGRAM_BOT_TOKEN is set): the outbox
// and its sender, the approval notifier, and the long-polling bot. Nothing here waits for the network, so control
// starts even while Telegram is unreachable; messages wait in the outbox.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { Api, Bot } from 'node-telegram-bot-api';
import type { Approvals } from '../../core/approvals/approvals.js';
import type { Bus } from '../../core/bus/bus.js';
import type { Config } from '../../core/config.js';
import { wingmanError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { Metrics } from '../../core/metrics.js';
import type { Db } from '../../core/store/db.js';
import { Outbox } from '../../core/telegram/outbox.js';
import { OutboxSender } from '../../core/telegram/outbox-sender.js';
import type { Lockdowns } from '../../core/lockdown/lockdowns.js';
import type { Workers } from '../../core/workers/workers.js';
import { ApprovalNotifier } from './approval-notifier.js';
import { TelegramBot } from './telegram-bot.js';

/** Timings; the defaults suit production, tests shorten them. */
export interface TelegramTuning {
  pollTimeoutS?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  leaseMs?: number;
  senderPollMs?: number;
  reconcileMs?: number;
  requestTimeoutMs?: number;
}

export interface TelegramOptions {
  config: Config;
  db: Db;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  approvals: Approvals;
  workers: Workers;
  /** for /lockdown and /unlock */
  lockdowns?: Lockdowns;
  tuning?: TelegramTuning;
}

export interface TelegramService {
  outbox: Outbox;
  notifier: ApprovalNotifier;
  sender: OutboxSender;
  close(): Promise<void>;
}

export async function startTelegram(o: TelegramOptions): Promise<TelegramService> {
  const { config, db, bus, metrics } = o;
  const token = config.telegram.token;
  if (!token) throw wingmanError('WGM_ERR_CONFIG_INVALID', 'TELEGRAM_BOT_TOKEN is not set', { variables: ['TELEGRAM_BOT_TOKEN'] });
  const log = o.log.child({ svc: 'telegram' });
  const t = o.tuning ?? {};
  const apiRoot = config.telegram.apiUrl;
  const name = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const botId = /^(\d+):/.exec(token)?.[1] ?? 'bot';

  const outbox = new Outbox(db, bus, config.telegram.chatId);
  // Sends: no library retries (the outbox retries durably and in order). Polling: the library's own resilience.
  const sendApi = new Api(token, { apiRoot, maxRetries: 0, timeoutMs: t.requestTimeoutMs ?? 30_000 });
  const bot = new Bot(token, { apiRoot, timeoutMs: t.requestTimeoutMs ?? 30_000 });

  const sender = new OutboxSender({
    db,
    outbox,
    api: sendApi,
    log,
    metrics,
    bus,
    name,
    ...(t.leaseMs ? { leaseMs: t.leaseMs } : {}),
    ...(t.retryBaseMs ? { retryBaseMs: t.retryBaseMs } : {}),
    ...(t.retryMaxMs ? { retryMaxMs: t.retryMaxMs } : {}),
    ...(t.senderPollMs ? { pollMs: t.senderPollMs } : {}),
  });
  const notifier = new ApprovalNotifier({ db, bus, outbox, log, consumerName: name, ...(t.reconcileMs ? { reconcileMs: t.reconcileMs } : {}) });
  const telegramBot = new TelegramBot({
    config,
    db,
    bus,
    approvals: o.approvals,
    workers: o.workers,
    ...(o.lockdowns ? { lockdowns: o.lockdowns } : {}),
    outbox,
    notifier,
    log,
    metrics,
    bot,
    botId,
    ...(t.pollTimeoutS !== undefined ? { pollTimeoutS: t.pollTimeoutS } : {}),
  });

  sender.start();
  if (config.telegram.chatId) notifier.start();
  else log.warn('TELEGRAM_CHAT_ID is not set: approval messages are not sent (commands still work)');
  if (config.telegram.approverIds.length === 0) log.warn('TELEGRAM_APPROVER_IDS is empty: nobody can approve by Telegram');
  telegramBot.start();
  log.info({ chat: config.telegram.chatId ?? null, approvers: config.telegram.approverIds.length }, 'telegram started');

  return {
    outbox,
    notifier,
    sender,
    async close() {
      await telegramBot.stop();
      await notifier.stop();
      await sender.stop();
    },
  };
}
