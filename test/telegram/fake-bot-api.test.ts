// The fake Bot API itself: long polling that honours offset and timeout (and does not spin), body parsing (the
// library's urlencoded form with nested JSON strings, and JSON), the Bot API checks tests rely on, and failure
// injection. A fake that is wrong makes every Telegram test worthless.
import { Api, Bot, NetworkError, TelegramApiError, type Update } from 'node-telegram-bot-api';
import t from 'tap';
import { FakeBotApi } from '../helpers/fake-bot-api.js';

let fake: FakeBotApi;
let api: Api;
t.before(async () => {
  fake = await FakeBotApi.start();
  api = new Api(fake.token, { apiRoot: fake.url, maxRetries: 0, timeoutMs: 10_000 });
});
t.teardown(() => fake.close());

/** The text of a message update (updates are a union: only some kinds carry a message). */
const messageText = (u: Update) => ('message' in u ? u.message.text : undefined);

async function raw(method: string, body: string, type: string) {
  const res = await fetch(`${fake.url}/bot${fake.token}/${method}`, { method: 'POST', headers: { 'content-type': type }, body });
  return { status: res.status, json: (await res.json()) };
}

t.test('getUpdates answers at once when updates wait, holds the poll otherwise, and offset confirms', async (t) => {
  const empty = await api.getUpdates({ timeout: 0 });
  t.same(empty, [], 'timeout 0 answers at once');
  fake.say(1, 'first');
  fake.say(1, 'second');
  const both = await api.getUpdates({ timeout: 5 });
  t.same(both.map((u) => messageText(u)), ['first', 'second'], 'waiting updates come back without waiting');
  const again = await api.getUpdates({ timeout: 0 });
  t.equal(again.length, 2, 'without an offset nothing is confirmed');
  const next = both[1].update_id + 1;
  const held = api.getUpdates({ offset: next, timeout: 10 });
  let settled = false;
  void held.then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 300));
  t.equal(settled, false, 'no update: the poll is held');
  fake.say(2, 'third');
  const third = await held;
  t.same(third.map((u) => messageText(u)), ['third'], 'an injected update ends the held poll');
  const after = await api.getUpdates({ offset: third[0].update_id + 1, timeout: 0 });
  t.same(after, [], 'confirmed updates are gone');
  const limited = (fake.say(3, 'a'), fake.say(3, 'b'), await api.getUpdates({ offset: third[0].update_id + 1, limit: 1, timeout: 0 }));
  t.equal(limited.length, 1, 'limit is honoured');
  await api.getUpdates({ offset: limited[0].update_id + 2, timeout: 0 });
});

t.test('a polling bot makes one getUpdates call per timeout when idle, not a busy loop', async (t) => {
  const bot = new Bot(fake.token, { apiRoot: fake.url });
  const seen: string[] = [];
  bot.on('message', async (ctx) => {
    seen.push(ctx.message!.text!);
  });
  const before = fake.callsOf('getUpdates').length;
  const polling = bot.startPolling(undefined, { timeout: 30 });
  await new Promise((r) => setTimeout(r, 1_000));
  const idleCalls = fake.callsOf('getUpdates').length - before;
  t.ok(idleCalls <= 2, `idle for 1 s: ${idleCalls} getUpdates call(s)`);
  fake.say(5, 'hello bot');
  await fake.waitFor('delivery', () => seen.includes('hello bot'));
  bot.stop();
  await polling;
  t.pass('stop() ends a held poll');
});

t.test('urlencoded bodies with nested JSON strings and JSON bodies parse the same; text is never JSON-parsed', async (t) => {
  const markup = { inline_keyboard: [[{ text: 'A', callback_data: 'n1' }]] };
  const form = new URLSearchParams({ chat_id: '-100', text: '{"looks":"like json"}', reply_markup: JSON.stringify(markup) });
  const a = await raw('sendMessage', form.toString(), 'application/x-www-form-urlencoded');
  t.equal(a.status, 200);
  t.equal(a.json.result.text, '{"looks":"like json"}');
  t.same(a.json.result.reply_markup, markup);
  const b = await raw('sendMessage', JSON.stringify({ chat_id: -100, text: 'json body', reply_markup: markup }), 'application/json');
  t.equal(b.status, 200);
  t.same(b.json.result.reply_markup, markup);
  t.same(fake.callsOf('sendMessage').slice(-2).map((c) => c.params.reply_markup), [markup, markup]);
  const lib = await api.sendMessage({ chat_id: '-100', text: 'via library', reply_markup: markup, reply_parameters: { message_id: a.json.result.message_id } });
  t.same(lib.reply_markup, markup);
  t.same(fake.callsOf('sendMessage').at(-1)!.params.reply_parameters, { message_id: a.json.result.message_id });
  const bad = await raw('sendMessage', 'x', 'multipart/form-data; boundary=x');
  t.equal(bad.status, 400);
});

t.test('the Bot API checks: length, callback_data size, edits, callback answers, token', async (t) => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['sendMessage', { chat_id: '-100', text: 'x'.repeat(4097) }, /message is too long/],
    ['sendMessage', { chat_id: '-100', text: '  ' }, /text is empty/],
    ['sendMessage', { chat_id: '-100', text: 'x', reply_markup: { inline_keyboard: [[{ text: 'a', callback_data: 'x'.repeat(65) }]] } }, /BUTTON_DATA_INVALID/],
    ['editMessageText', { chat_id: '-100', message_id: 999_999, text: 'x' }, /message to edit not found/],
    ['answerCallbackQuery', { callback_query_id: 'nope' }, /query is too old/],
  ];
  for (const [method, params, want] of cases) {
    const err = await (api as any)[method](params).catch((e: unknown) => e);
    t.ok(err instanceof TelegramApiError && err.errorCode === 400, `${method} refused`);
    t.match((err as TelegramApiError).description, want);
  }
  const m = await api.sendMessage({ chat_id: '-100', text: 'x'.repeat(4096) });
  t.equal(m.text!.length, 4096, 'exactly 4096 is accepted');
  await api.editMessageText({ chat_id: '-100', message_id: m.message_id, text: 'edited' });
  const same = await api.editMessageText({ chat_id: '-100', message_id: m.message_id, text: 'edited' }).catch((e: unknown) => e);
  t.match((same as TelegramApiError).description, /not modified/);
  const sent = fake.botMessages().find((x) => x.message_id === m.message_id)!;
  const cb = fake.tap(7, sent, 'data');
  t.equal(await api.answerCallbackQuery({ callback_query_id: cb, text: 'ok' }), true);
  t.same(fake.answerOf(cb)?.text, 'ok');
  const twice = await api.answerCallbackQuery({ callback_query_id: cb }).catch((e: unknown) => e);
  t.ok(twice instanceof TelegramApiError, 'a callback query is answered once');
  const wrong = new Api('1:wrong', { apiRoot: fake.url, maxRetries: 0 });
  const unauthorized = await wrong.getMe().catch((e: unknown) => e);
  t.equal((unauthorized as TelegramApiError).errorCode, 401);
});

t.test('failure injection: 429 with retry_after, 5xx, dropped connections, late answers; only for the named methods', async (t) => {
  fake.failNext(1, { kind: '429', retryAfter: 7 });
  fake.failNext(1, { kind: '5xx', status: 503 });
  fake.failNext(1, { kind: 'drop' });
  const e429 = await api.sendMessage({ chat_id: '-100', text: 'a' }).catch((e: unknown) => e);
  t.equal((e429 as TelegramApiError).errorCode, 429);
  t.equal((e429 as TelegramApiError).retryAfter, 7);
  t.same(await api.getMe().then((me) => me.username), 'wingman_test_bot', 'other methods are not affected');
  const e503 = await api.sendMessage({ chat_id: '-100', text: 'b' }).catch((e: unknown) => e);
  t.ok(e503 instanceof TelegramApiError || e503 instanceof NetworkError);
  const dropped = await api.sendMessage({ chat_id: '-100', text: 'c' }).catch((e: unknown) => e);
  t.ok(dropped instanceof NetworkError, 'a dropped connection is a network error');
  const before = fake.botMessages().length;
  t.same(
    fake.callsOf('sendMessage').slice(-3).map((c) => c.outcome),
    ['injected', 'injected', 'dropped'],
  );
  t.equal(fake.botMessages().length, before, 'failed calls deliver nothing');
  fake.failNext(1, { kind: 'delay', ms: 200 });
  const late = await api.sendMessage({ chat_id: '-100', text: 'late' });
  t.equal(late.text, 'late', 'a delayed call is answered normally');
});
