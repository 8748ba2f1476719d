// The Telegram outbox against real Postgres and the fake Bot API: rows go out in order and exactly once, through
// 429s (retry_after honoured), 5xx, dropped connections, a second sender on the same store, a sender that died
// mid-send and a restart; Bot API refusals fail one row without blocking the rest.
import { Api } from 'node-telegram-bot-api';
import t from 'tap';
import { createLogger } from '../../core/log.js';
import { createMetrics } from '../../core/metrics.js';
import { TRUNCATION_MARKER } from '../../core/telegram/message-text.js';
import { Outbox, type OutboxRow } from '../../core/telegram/outbox.js';
import { OutboxSender } from '../../core/telegram/outbox-sender.js';
import { migratedTestDb, type MigratedTestDb } from '../helpers/db.js';
import { FakeBotApi } from '../helpers/fake-bot-api.js';

const log = createLogger({ level: process.env.WGMTEST_LOG_LEVEL ?? 'silent' });
let tdb: MigratedTestDb;
let fake: FakeBotApi;

t.before(async () => {
  tdb = await migratedTestDb();
  fake = await FakeBotApi.start();
});
t.teardown(async () => {
  await fake.close();
  await tdb.drop();
});

function sender(outbox: Outbox, name: string, extra: Partial<ConstructorParameters<typeof OutboxSender>[0]> = {}) {
  return new OutboxSender({
    db: tdb.db,
    outbox,
    api: new Api(fake.token, { apiRoot: fake.url, maxRetries: 0, timeoutMs: 5_000 }),
    log,
    metrics: createMetrics({ defaults: false }),
    name,
    retryBaseMs: 50,
    retryMaxMs: 400,
    pollMs: 200,
    leaseMs: 1_000,
    ...extra,
  });
}

async function reset() {
  await tdb.db.query(`DELETE FROM telegram_outbox WHERE edit_of IS NOT NULL`);
  await tdb.db.query(`DELETE FROM telegram_outbox`);
  fake.clearFailures();
  fake.messages.length = 0;
  fake.calls.length = 0;
}

async function rows(): Promise<OutboxRow[]> {
  return (await tdb.db.query<OutboxRow>(`SELECT * FROM telegram_outbox ORDER BY id`)).rows;
}

async function drained(outbox: Outbox, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await outbox.backlog()) > 0) {
    if (Date.now() > deadline) throw new Error(`outbox not drained: ${JSON.stringify((await rows()).map((r) => [r.id, r.status, r.last_error]))}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const texts = () => fake.botMessages().map((m) => m.text);
const countOf = (text: string) => fake.callsOf('sendMessage').filter((c) => c.outcome === 'ok' && c.params.text === text).length;

t.test('rows are sent in order, once, and enqueue is idempotent by dedupe key', async (t) => {
  await reset();
  const outbox = new Outbox(tdb.db, undefined, fake.chatId);
  const sent: string[] = [];
  outbox.onSent('alert', async (tx, row, messageId) => {
    await tx.query(`SELECT 1`);
    sent.push(`${row.dedupe_key}=${messageId}`);
  });
  for (let i = 0; i < 10; i++) {
    const r = await outbox.enqueue('alert', { method: 'sendMessage', text: `alert ${i}` }, `k${i}`);
    t.equal(r.created, true);
  }
  const again = await outbox.enqueue('alert', { method: 'sendMessage', text: 'alert 3 (again)' }, 'k3');
  t.equal(again.created, false, 'a second enqueue with the same dedupe key adds nothing');
  const s = sender(outbox, 'a');
  s.start();
  await drained(outbox);
  await s.stop();
  t.same(texts(), Array.from({ length: 10 }, (_, i) => `alert ${i}`), 'every message once, in enqueue order');
  const rs = await rows();
  t.ok(rs.every((r) => r.status === 'sent' && r.attempts === 1 && r.message_id !== null && r.sent_at !== null));
  t.same(
    rs.map((r) => Number(r.message_id)),
    fake.botMessages().map((m) => m.message_id),
    'message_id stored from the Bot API answer',
  );
  t.ok(rs.every((r) => new Date(r.sent_at!).getTime() >= new Date(r.enqueued_at).getTime()), 'sent_at is after enqueued_at');
  t.equal(sent.length, 10, 'the sent hook ran once per row');
  t.equal((await outbox.get('k3'))?.status, 'sent');
});

t.test('429 honours retry_after and holds later rows back; 5xx and dropped connections retry', async (t) => {
  await reset();
  const outbox = new Outbox(tdb.db, undefined, fake.chatId);
  fake.failNext(1, { kind: '429', retryAfter: 1 });
  fake.failNext(2, { kind: '5xx', status: 502 });
  fake.failNext(2, { kind: 'drop' });
  for (let i = 0; i < 5; i++) await outbox.enqueue('alert', { method: 'sendMessage', text: `m${i}` }, `r${i}`);
  const s = sender(outbox, 'a');
  s.start();
  await drained(outbox);
  await s.stop();
  t.same(texts(), ['m0', 'm1', 'm2', 'm3', 'm4'], 'all delivered, in order');
  for (let i = 0; i < 5; i++) t.equal(countOf(`m${i}`), 1, `m${i} delivered exactly once`);
  const calls = fake.callsOf('sendMessage');
  t.same(
    calls.map((c) => c.outcome),
    ['injected', 'injected', 'injected', 'dropped', 'dropped', 'ok', 'ok', 'ok', 'ok', 'ok'],
    'the head row is retried until it goes; nothing overtakes it',
  );
  t.ok(calls.slice(0, 5).every((c) => c.params.text === 'm0'));
  t.ok(calls[1].at - calls[0].at >= 990, `the retry after a 429 waited retry_after (waited ${calls[1].at - calls[0].at} ms)`);
  const first = (await rows())[0];
  t.equal(first.attempts, 6);
  t.match(first.last_error ?? '', /Network request failed|fetch|socket|Server error|502/, 'last error kept for operators');
});

t.test('a Bot API refusal fails that row only; an edit of a failed message is skipped; edits apply', async (t) => {
  await reset();
  const outbox = new Outbox(tdb.db, undefined, fake.chatId);
  const tooLong = 'x'.repeat(65);
  await outbox.enqueue('alert', { method: 'sendMessage', text: 'bad', reply_markup: { inline_keyboard: [[{ text: 'b', callback_data: tooLong }]] } }, 'bad');
  await outbox.enqueue('approval_update', { method: 'editMessageText', edit_of: 'bad', text: 'bad, edited' }, 'bad-edit');
  await outbox.enqueue('alert', { method: 'sendMessage', text: 'good', reply_markup: { inline_keyboard: [[{ text: 'b', callback_data: 'ok' }]] } }, 'good');
  await outbox.enqueue('approval_update', { method: 'editMessageText', edit_of: 'good', text: 'good, edited' }, 'good-edit');
  // The same content again: Telegram answers "message is not modified", which is success.
  await outbox.enqueue('approval_update', { method: 'editMessageText', edit_of: 'good', text: 'good, edited' }, 'good-edit-2');
  const s = sender(outbox, 'a');
  s.start();
  await drained(outbox);
  await s.stop();
  const rs = await rows();
  t.same(
    rs.map((r) => [r.dedupe_key, r.status]),
    [
      ['bad', 'failed'],
      ['bad-edit', 'skipped'],
      ['good', 'sent'],
      ['good-edit', 'sent'],
      ['good-edit-2', 'sent'],
    ],
  );
  t.match(rs[0].last_error, /BUTTON_DATA_INVALID/);
  const good = fake.botMessages().find((m) => m.edits.length)!;
  t.equal(good.text, 'good, edited');
  t.notOk(good.reply_markup, 'an edit without reply_markup removes the buttons');
  t.equal(Number(rs[3].message_id), good.message_id, 'the edit row records the message it edited');
  t.equal(fake.callsOf('editMessageText').length, 2);
});

t.test('text over 4096 characters is truncated with the marker at enqueue', async (t) => {
  await reset();
  const outbox = new Outbox(tdb.db, undefined, fake.chatId);
  await outbox.enqueue('alert', { method: 'sendMessage', text: `start ${'y'.repeat(6000)}` }, 'long');
  const s = sender(outbox, 'a');
  s.start();
  await drained(outbox);
  await s.stop();
  const [m] = fake.botMessages();
  t.equal(m.text.length, 4096);
  t.ok(m.text.startsWith('start yyy'));
  t.ok(m.text.endsWith(TRUNCATION_MARKER));
});

t.test('while one sender has the head row in flight, another cannot claim anything', async (t) => {
  await reset();
  const outbox = new Outbox(tdb.db, undefined, fake.chatId);
  await outbox.enqueue('alert', { method: 'sendMessage', text: 'x1' }, 'x1');
  await outbox.enqueue('alert', { method: 'sendMessage', text: 'x2' }, 'x2');
  fake.failNext(1, { kind: 'delay', ms: 800 });
  const a = sender(outbox, 'a', { leaseMs: 30_000 });
  const b = sender(outbox, 'b', { leaseMs: 30_000 });
  const inFlight = a.step();
  await fake.waitFor('x1 in flight', () => fake.callsOf('sendMessage').length === 1);
  t.equal(await b.step(), false, 'b claims nothing: not x1 (claimed by a), not x2 (it would overtake x1)');
  t.equal(await inFlight, true);
  t.equal(await b.step(), true);
  t.equal(await b.step(), false, 'nothing left');
  t.same(texts(), ['x1', 'x2']);
  t.same((await rows()).map((r) => r.claimed_by), ['a', 'b']);
  t.equal(fake.callsOf('sendMessage').length, 2);
});

t.test('two senders on one store: each row once, in order', async (t) => {
  await reset();
  const outbox = new Outbox(tdb.db, undefined, fake.chatId);
  const a = sender(outbox, 'a');
  const b = sender(outbox, 'b');
  a.start();
  b.start();
  fake.failNext(3, { kind: 'drop' });
  for (let i = 0; i < 30; i++) {
    await outbox.enqueue('alert', { method: 'sendMessage', text: `two ${i}` }, `two${i}`);
    if (i % 7 === 0) b.wake();
  }
  await drained(outbox);
  await Promise.all([a.stop(), b.stop()]);
  t.same(texts(), Array.from({ length: 30 }, (_, i) => `two ${i}`));
  const by = new Set((await rows()).map((r) => r.claimed_by));
  t.comment(`claimed by: ${[...by].join(', ')}`);
  t.ok(by.size >= 1);
});

t.test('a row left "sending" by a dead sender is sent again once its lease lapses; a live lease is respected', async (t) => {
  await reset();
  const outbox = new Outbox(tdb.db, undefined, fake.chatId);
  await outbox.enqueue('alert', { method: 'sendMessage', text: 'orphan' }, 'orphan');
  await outbox.enqueue('alert', { method: 'sendMessage', text: 'after' }, 'after');
  await tdb.db.query(
    `UPDATE telegram_outbox SET status = 'sending', claimed_by = 'dead-process', attempts = 1, lease_until = now() + interval '1500 milliseconds'
      WHERE dedupe_key = 'orphan'`,
  );
  const s = sender(outbox, 'a');
  s.start();
  // While the dead process's lease is live nothing moves: the head is theirs.
  await new Promise((r) => setTimeout(r, 500));
  t.equal(fake.callsOf('sendMessage').length, 0, 'no send while another sender holds the head');
  await drained(outbox);
  await s.stop();
  t.same(texts(), ['orphan', 'after']);
  const [orphan] = await rows();
  t.match(orphan.last_error, /^in doubt/, 'the resend is marked in doubt for operators');
  t.equal(orphan.attempts, 2);
});

t.test('a restart resumes unsent rows and sends each once', async (t) => {
  await reset();
  const outbox1 = new Outbox(tdb.db, undefined, fake.chatId);
  fake.failNext(1000, { kind: '5xx', status: 503 });
  for (let i = 0; i < 5; i++) await outbox1.enqueue('alert', { method: 'sendMessage', text: `restart ${i}` }, `rs${i}`);
  const s1 = sender(outbox1, 'first');
  s1.start();
  await fake.waitFor('a few failed attempts', () => fake.callsOf('sendMessage').length >= 3);
  await s1.stop();
  t.equal(fake.botMessages().length, 0, 'nothing delivered before the restart');
  t.equal(await outbox1.backlog(), 5);
  fake.clearFailures();
  const outbox2 = new Outbox(tdb.db, undefined, fake.chatId);
  const s2 = sender(outbox2, 'second');
  s2.start();
  await drained(outbox2);
  await s2.stop();
  t.same(texts(), Array.from({ length: 5 }, (_, i) => `restart ${i}`));
  for (let i = 0; i < 5; i++) t.equal(countOf(`restart ${i}`), 1);
});
