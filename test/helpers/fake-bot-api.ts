// A fake Telegram Bot API on 127.0.0.1 for tests: what the real one does that Wingman depends on, and nothing else.
// - getUpdates long-polls: it answers at once when updates at or above `offset` exist, else holds the request up to
//   `timeout` seconds and answers as soon as one is injected (no busy loop); `offset` confirms (drops) older ones.
// - sendMessage / editMessageText / answerCallbackQuery / getMe / deleteWebhook, with the checks that matter:
//   4096-character limit, callback_data <= 64 bytes, "message is not modified", unknown message, double answers.
// - Records every call. Tests inject button taps and messages (replies, commands) from any user id, and make the
//   next N calls of given methods answer 429 (retry_after), 5xx, drop the connection without an answer, or answer late.
// Bodies: urlencoded (the library's, with structured fields as nested JSON strings) and JSON.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeCall {
  method: string;
  params: Record<string, any>;
  at: number;
  /** 'ok', 'error' (a Bot API error answer), 'injected' (a failure injected by the test), 'dropped' */
  outcome: 'ok' | 'error' | 'injected' | 'dropped';
  status: number;
  description?: string;
}

export interface FakeMessage {
  chat_id: string;
  message_id: number;
  text: string;
  reply_markup?: any;
  reply_parameters?: any;
  from_bot: boolean;
  from_id: number;
  date: number;
  edits: Array<{ text: string; reply_markup?: any; at: number }>;
}

export type Failure =
  | { kind: '429'; retryAfter: number }
  | { kind: '5xx'; status?: number }
  | { kind: 'drop' }
  /** not a failure: answer normally, but only after `ms` (a request in flight) */
  | { kind: 'delay'; ms: number };

interface PendingFailure {
  methods: Set<string>;
  remaining: number;
  failure: Failure;
}

interface Waiter {
  offset: number;
  limit: number;
  respond: (updates: any[]) => void;
}

// Only these fields carry nested JSON in a urlencoded body; `text` never does, even when it looks like JSON.
const JSON_FIELDS = new Set(['reply_markup', 'reply_parameters', 'allowed_updates', 'entities', 'link_preview_options', 'caption_entities']);
const NUMBER_FIELDS = new Set(['message_id', 'offset', 'timeout', 'limit', 'cache_time']);

export const FAKE_BOT_ID = 7000001;
export const FAKE_BOT_USERNAME = 'wingman_test_bot';

export class FakeBotApi {
  readonly token: string;
  readonly chatId: string;
  url = '';
  readonly calls: FakeCall[] = [];
  readonly messages: FakeMessage[] = [];
  private server: http.Server;
  private updates: any[] = [];
  private nextUpdateId = 1;
  private nextMessageId = 100;
  private nextCallbackId = 1;
  private readonly waiters = new Set<Waiter>();
  private readonly failures: PendingFailure[] = [];
  private readonly callbacks = new Map<string, { answered: boolean; answer?: Record<string, any> }>();

  constructor(opts: { token?: string; chatId?: string } = {}) {
    this.token = opts.token ?? `${FAKE_BOT_ID}:wgmtest-fake-token`;
    this.chatId = opts.chatId ?? '-1001234567';
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  static async start(opts: { token?: string; chatId?: string } = {}): Promise<FakeBotApi> {
    const f = new FakeBotApi(opts);
    await new Promise<void>((resolve) => f.server.listen(0, '127.0.0.1', resolve));
    f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
    return f;
  }

  /** Environment for startWingman: the bot talks to this fake. */
  env(approverIds: Array<number | string>): Record<string, string> {
    return {
      TELEGRAM_BOT_TOKEN: this.token,
      TELEGRAM_CHAT_ID: this.chatId,
      TELEGRAM_APPROVER_IDS: approverIds.join(','),
      TELEGRAM_API_URL: this.url,
    };
  }

  async close(): Promise<void> {
    for (const w of this.waiters) w.respond([]);
    this.waiters.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- failure injection --------------------------------------------------------------------------------------

  /** The next `count` calls of these methods fail this way (before the Bot API would act on them). */
  failNext(count: number, failure: Failure, methods: string[] = ['sendMessage']): void {
    this.failures.push({ methods: new Set(methods), remaining: count, failure });
  }

  clearFailures(): void {
    this.failures.length = 0;
  }

  private takeFailure(method: string): Failure | undefined {
    const f = this.failures.find((x) => x.remaining > 0 && x.methods.has(method));
    if (!f) return undefined;
    f.remaining -= 1;
    return f.failure;
  }

  // ---- what people do in Telegram -----------------------------------------------------------------------------

  private user(id: number) {
    return { id, is_bot: false, first_name: `User${id}`, username: `user${id}` };
  }

  private chat(chatId: string) {
    const n = Number(chatId);
    if (Number.isFinite(n)) return { id: n, type: n < 0 ? 'supergroup' : 'private', title: 'ops' };
    // `@name`: a public channel, which Telegram reports with its numeric id and its username.
    return { id: -1009990001, type: 'channel', title: 'ops channel', username: chatId.slice(1) };
  }

  private wire(m: FakeMessage): Record<string, unknown> {
    return {
      message_id: m.message_id,
      date: m.date,
      chat: this.chat(m.chat_id),
      from: m.from_bot ? { id: FAKE_BOT_ID, is_bot: true, first_name: 'Wingman', username: FAKE_BOT_USERNAME } : this.user(m.from_id),
      text: m.text,
      ...(m.reply_markup ? { reply_markup: m.reply_markup } : {}),
    };
  }

  private push(update: Record<string, unknown>): number {
    const update_id = this.nextUpdateId++;
    this.updates.push({ update_id, ...update });
    for (const w of [...this.waiters]) {
      const ready = this.updates.filter((u) => u.update_id >= w.offset).slice(0, w.limit);
      if (ready.length) {
        this.waiters.delete(w);
        w.respond(ready);
      }
    }
    return update_id;
  }

  /** A user taps an inline button of a bot message. Returns the callback query id. */
  tap(userId: number, message: FakeMessage, data: string): string {
    const id = `cb${this.nextCallbackId++}`;
    this.callbacks.set(id, { answered: false });
    this.push({ callback_query: { id, from: this.user(userId), message: this.wire(message), chat_instance: 'ci1', data } });
    return id;
  }

  /** A user sends a text message (a command, or a reply to `replyTo`). */
  say(userId: number, text: string, opts: { replyTo?: FakeMessage; chatId?: string } = {}): FakeMessage {
    const m: FakeMessage = {
      chat_id: opts.chatId ?? opts.replyTo?.chat_id ?? this.chatId,
      message_id: this.nextMessageId++,
      text,
      from_bot: false,
      from_id: userId,
      date: Math.floor(Date.now() / 1000),
      edits: [],
    };
    this.messages.push(m);
    this.push({ message: { ...this.wire(m), ...(opts.replyTo ? { reply_to_message: this.wire(opts.replyTo) } : {}) } });
    return m;
  }

  reply(userId: number, to: FakeMessage, text: string): FakeMessage {
    return this.say(userId, text, { replyTo: to });
  }

  // ---- what tests look at ---------------------------------------------------------------------------------------

  botMessages(): FakeMessage[] {
    return this.messages.filter((m) => m.from_bot);
  }

  callsOf(method: string): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  answerOf(callbackId: string): Record<string, any> | undefined {
    return this.callbacks.get(callbackId)?.answer;
  }

  /** Bot messages that are replies to message `id`. */
  repliesTo(m: FakeMessage): FakeMessage[] {
    return this.botMessages().filter((b) => b.reply_parameters?.message_id === m.message_id);
  }

  /** Poll until fn returns something truthy. */
  async waitFor<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`fake Bot API: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  // ---- HTTP ---------------------------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec((req.url ?? '').split('?')[0]);
    const send = (status: number, body: unknown) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!m) return send(404, { ok: false, error_code: 404, description: 'Not Found' });
    const [, token, method] = m as unknown as [string, string, string];
    let params: Record<string, any>;
    try {
      params = parseBody(req.headers['content-type'] ?? '', raw, new URL(req.url ?? '/', 'http://x').searchParams);
    } catch (err) {
      return send(400, { ok: false, error_code: 400, description: `Bad Request: ${(err as Error).message}` });
    }
    const call: FakeCall = { method, params, at: Date.now(), outcome: 'ok', status: 200 };
    this.calls.push(call);
    if (token !== this.token) {
      call.outcome = 'error';
      call.status = 401;
      return send(401, { ok: false, error_code: 401, description: 'Unauthorized' });
    }
    let failure = this.takeFailure(method);
    if (failure?.kind === 'delay') {
      await new Promise((r) => setTimeout(r, (failure as { ms: number }).ms));
      failure = undefined;
    }
    if (failure) {
      if (failure.kind === 'drop') {
        call.outcome = 'dropped';
        call.status = 0;
        req.socket.destroy();
        return;
      }
      call.outcome = 'injected';
      if (failure.kind === '429') {
        call.status = 429;
        return send(429, {
          ok: false,
          error_code: 429,
          description: `Too Many Requests: retry after ${failure.retryAfter}`,
          parameters: { retry_after: failure.retryAfter },
        });
      }
      call.status = failure.status ?? 502;
      return send(call.status, { ok: false, error_code: call.status, description: 'Bad Gateway' });
    }
    const fail = (code: number, description: string) => {
      call.outcome = 'error';
      call.status = code;
      call.description = description;
      send(code, { ok: false, error_code: code, description });
    };
    const ok = (result: unknown) => send(200, { ok: true, result });
    switch (method) {
      case 'getMe':
        return ok({ id: FAKE_BOT_ID, is_bot: true, first_name: 'Wingman', username: FAKE_BOT_USERNAME });
      case 'deleteWebhook':
        return ok(true);
      case 'getUpdates':
        return this.getUpdates(params, res, ok);
      case 'sendMessage': {
        const chatId = params.chat_id === undefined ? '' : String(params.chat_id);
        const text = typeof params.text === 'string' ? params.text : '';
        if (!chatId) return fail(400, 'Bad Request: chat_id is empty');
        if (!text.trim()) return fail(400, 'Bad Request: message text is empty');
        if (text.length > 4096) return fail(400, 'Bad Request: message is too long');
        if (params.parse_mode) return fail(400, 'Bad Request: the fake refuses parse_mode: Wingman sends plain text');
        const bad = badMarkup(params.reply_markup);
        if (bad) return fail(400, bad);
        const msg: FakeMessage = {
          chat_id: chatId,
          message_id: this.nextMessageId++,
          text,
          ...(params.reply_markup ? { reply_markup: params.reply_markup } : {}),
          ...(params.reply_parameters ? { reply_parameters: params.reply_parameters } : {}),
          from_bot: true,
          from_id: FAKE_BOT_ID,
          date: Math.floor(Date.now() / 1000),
          edits: [],
        };
        this.messages.push(msg);
        return ok(this.wire(msg));
      }
      case 'editMessageText': {
        const chatId = String(params.chat_id ?? '');
        const msg = this.messages.find((x) => x.chat_id === chatId && x.message_id === params.message_id && x.from_bot);
        if (!msg) return fail(400, 'Bad Request: message to edit not found');
        const text = typeof params.text === 'string' ? params.text : '';
        if (!text.trim()) return fail(400, 'Bad Request: message text is empty');
        if (text.length > 4096) return fail(400, 'Bad Request: message is too long');
        const bad = badMarkup(params.reply_markup);
        if (bad) return fail(400, bad);
        const markup = params.reply_markup?.inline_keyboard?.length ? params.reply_markup : undefined;
        if (msg.text === text && JSON.stringify(msg.reply_markup) === JSON.stringify(markup)) {
          return fail(400, 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same');
        }
        msg.text = text;
        if (markup) msg.reply_markup = markup;
        else delete msg.reply_markup;
        msg.edits.push({ text, ...(markup ? { reply_markup: markup } : {}), at: Date.now() });
        return ok(this.wire(msg));
      }
      case 'answerCallbackQuery': {
        const cb = this.callbacks.get(String(params.callback_query_id ?? ''));
        if (!cb || cb.answered) return fail(400, 'Bad Request: query is too old and response timeout expired or query ID is invalid');
        if (typeof params.text === 'string' && params.text.length > 200) return fail(400, 'Bad Request: MESSAGE_TOO_LONG');
        cb.answered = true;
        cb.answer = params;
        return ok(true);
      }
      default:
        return fail(404, 'Not Found: method not found');
    }
  }

  private getUpdates(params: Record<string, any>, res: http.ServerResponse, ok: (r: unknown) => void): void {
    const offset = Number.isFinite(params.offset) ? Number(params.offset) : 0;
    const limit = Math.min(100, Math.max(1, Number.isFinite(params.limit) ? Number(params.limit) : 100));
    const timeoutS = Math.max(0, Number.isFinite(params.timeout) ? Number(params.timeout) : 0);
    // An offset confirms every update below it: they are never returned again.
    if (offset > 0) this.updates = this.updates.filter((u) => u.update_id >= offset);
    const ready = this.updates.filter((u) => u.update_id >= offset).slice(0, limit);
    if (ready.length || timeoutS === 0) return ok(ready);
    let timer: NodeJS.Timeout;
    const w: Waiter = {
      offset,
      limit,
      respond: (updates) => {
        clearTimeout(timer);
        this.waiters.delete(w);
        ok(updates);
      },
    };
    timer = setTimeout(() => w.respond([]), timeoutS * 1000);
    this.waiters.add(w);
    // The client gave up (e.g. the bot stopped): forget the waiter, keep the updates for the next poll.
    res.once('close', () => {
      clearTimeout(timer);
      this.waiters.delete(w);
    });
  }
}

function parseBody(contentType: string, raw: string, query: URLSearchParams): Record<string, any> {
  const out: Record<string, any> = {};
  const put = (k: string, v: string) => {
    if (JSON_FIELDS.has(k)) out[k] = JSON.parse(v);
    else if (NUMBER_FIELDS.has(k) && /^-?\d+$/.test(v)) out[k] = Number(v);
    else out[k] = v;
  };
  for (const [k, v] of query) put(k, v);
  if (!raw) return out;
  if (contentType.startsWith('application/json')) {
    const body = JSON.parse(raw) as Record<string, any>;
    return { ...out, ...body };
  }
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(raw)) put(k, v);
    return out;
  }
  throw new Error(`unsupported content-type ${contentType || '(none)'}`);
}

function badMarkup(markup: any): string | undefined {
  if (markup === undefined) return undefined;
  if (typeof markup !== 'object' || markup === null) return 'Bad Request: can\'t parse reply keyboard markup JSON object';
  for (const row of markup.inline_keyboard ?? []) {
    for (const b of row) {
      if (typeof b.text !== 'string' || !b.text) return 'Bad Request: text buttons are unallowed in the inline keyboard';
      if (b.callback_data !== undefined && (typeof b.callback_data !== 'string' || Buffer.byteLength(b.callback_data) > 64 || Buffer.byteLength(b.callback_data) < 1)) {
        return 'Bad Request: BUTTON_DATA_INVALID';
      }
    }
  }
  return undefined;
}
