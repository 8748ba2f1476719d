// Approvals on Telegram end to end: the real proxy, control app, Postgres, Redis and Docker engine; only the Bot API
// is the fake. The tests act as approvers (user ids 111 and 222) and as an intruder (999) would.
import t from 'tap';
import type { Approval } from '../../core/approvals/approvals.js';
import { TRUNCATION_MARKER, utc } from '../../core/telegram/message-text.js';
import { createTestDatabase } from '../helpers/db.js';
import { containerStatus, docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { FakeBotApi, type FakeMessage } from '../helpers/fake-bot-api.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

const ANNA = 111;
const BORIS = 222;
const MALLORY = 999;
const SPECIALS = '_ * [ ] ( ) ~ > # + - = | { } . !';

let fake: FakeBotApi;
let w: Wingman;
const containers: string[] = [];

t.before(async () => {
  fake = await FakeBotApi.start();
  w = await startWingman({ env: { ...fake.env([ANNA, BORIS]), WINGMAN_TWO_PERSON_WORKERS: 'w2' } });
});
t.teardown(async () => {
  for (const c of containers) await docker(['rm', '-f', c]);
  await w.close();
  await fake.close();
});

const running = containerStatus;

async function startContainer(tag: string): Promise<string> {
  const name = testName(tag);
  containers.push(name);
  await dockerOk(['run', '-d', '--name', name, TEST_IMAGE, 'sleep', '600']);
  await w.adopt('w1', 'container', name);
  return name;
}

/** The approval's Telegram message, once its delivery is recorded (as a person could only tap after that). */
async function messageFor(f: FakeBotApi, wm: Wingman, approvalId: string): Promise<FakeMessage> {
  const m = await f.waitFor(`the message of approval ${approvalId}`, () =>
    f.botMessages().find((x) => !x.reply_parameters && x.text.includes(`ID: ${approvalId}`)),
  );
  for (let i = 0; ; i++) {
    const ev = await wm.control.approvals.events(approvalId);
    if (ev.some((e) => e.event === 'notified')) break;
    if (i > 400) throw new Error('no notified event');
    await new Promise((r) => setTimeout(r, 25));
  }
  return m;
}

function buttons(m: FakeMessage): { approve: string; deny: string } {
  const row = m.reply_markup?.inline_keyboard?.[0] ?? [];
  return { approve: row[0]?.callback_data, deny: row[1]?.callback_data };
}

async function answered(cb: string, f = fake): Promise<Record<string, any>> {
  return f.waitFor(`answer to ${cb}`, () => f.answerOf(cb));
}

async function edited(m: FakeMessage, n = 1, f = fake): Promise<string> {
  await f.waitFor(`edit ${n} of message ${m.message_id}`, () => m.edits.length >= n);
  return m.text;
}

async function botReplyTo(m: FakeMessage, f = fake): Promise<FakeMessage> {
  return f.waitFor(`the bot's reply to ${m.message_id}`, () => f.repliesTo(m)[0]);
}

async function events(id: string, wm = w) {
  return wm.control.approvals.events(id) as Promise<Array<{ event: string; actor: string | null; detail: any }>>;
}

async function requestViaApi(wm: Wingman, summary: string, extra: Partial<Parameters<Wingman['control']['approvals']['request']>[0]> = {}): Promise<Approval> {
  const { approval } = await wm.control.approvals.request({
    worker: 'w1',
    rule: 'ContainerDelete',
    summary,
    method: 'DELETE',
    route: '/containers/{id}',
    path: '/containers/none',
    opHash: `h-${summary.slice(0, 40)}`,
    op: {},
    reasons: [],
    ttlS: 300,
    ...extra,
  });
  return approval;
}

t.test('docker rm -f → message → an approver taps Approve → container gone, message edited; a replayed tap changes nothing', async (t) => {
  const c = await startContainer('tg-ok');
  const call = w.dockerAs('w1', ['rm', '-f', c]);
  const a = await w.pendingApproval('w1');
  const m = await messageFor(fake, w, a.id);

  const send = fake.callsOf('sendMessage').find((x) => x.outcome === 'ok' && x.params.text === m.text)!;
  t.notOk(send.params.parse_mode, 'plain text: no parse_mode');
  t.equal(String(send.params.chat_id), fake.chatId);
  const lines = m.text.split('\n');
  t.equal(lines[0], `🔐 Approval needed: w1 wants to remove container ${c} (force)`);
  t.ok(lines.includes('Worker: w1'));
  t.ok(lines.includes('Rule: ContainerDelete'));
  t.ok(lines.includes('Call: DELETE /containers/{name}'));
  t.ok(lines.some((l) => /^Path: (\/v[\d.]+)?\/containers\/[0-9a-f]{64}\?force=1$/.test(l)), 'raw path, bound to the container id');
  const full = await w.control.approvals.get(a.id);
  t.ok(lines.includes(`Expires: ${utc(full!.expires_at)}`));
  const b = buttons(m);
  for (const nonce of [b.approve, b.deny]) {
    t.ok(Buffer.byteLength(nonce) <= 64 && nonce.length >= 16, 'callback_data is a short nonce');
    t.notOk(nonce.includes(a.id.slice(0, 8)) || /approve|deny/i.test(nonce), 'callback_data says nothing about the approval');
  }

  const cb = fake.tap(ANNA, m, b.approve);
  const r = await call;
  t.equal(r.code, 0, r.stderr);
  t.equal(await running(c), 'absent', 'the container is gone');
  t.match((await answered(cb)).text, /^Approved/);
  const text = await edited(m);
  t.match(text.split('\n')[0], /^✅ APPROVED by User111 \(@user111\) \(telegram:111\) at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  t.notOk(m.reply_markup, 'the buttons are gone');

  const ev = await events(a.id);
  t.same(ev.map((e) => e.event), ['requested', 'notified', 'decided', 'consumed']);
  t.equal(ev[1].detail.message_id, m.message_id, 'notified with the message id');
  t.equal(ev[2].actor, 'telegram:111');
  t.match(ev[2].detail, { via: 'telegram_button', user_id: '111', message_id: m.message_id, decision: 'approve' });

  // The same button again (a replay): refused, nothing changes.
  const again = fake.tap(ANNA, m, b.approve);
  t.match((await answered(again)).text, /^Already consumed/);
  const denyLate = fake.tap(BORIS, m, b.deny);
  t.match((await answered(denyLate)).text, /^Already/);
  t.equal((await w.control.approvals.get(a.id))!.status, 'consumed');
  t.same((await events(a.id)).filter((e) => e.event === 'decided').length, 1, 'still one decision');
  t.equal(m.edits.length, 1, 'the message is not edited again');
  // A nonce nobody issued.
  const bogus = fake.tap(ANNA, m, 'x'.repeat(24));
  t.match((await answered(bogus)).text, /not valid/);
});

t.test('a tap by someone not on the allowlist changes nothing and is audited; then Deny: the CLI prints who denied', async (t) => {
  const c = await startContainer('tg-deny');
  const call = w.dockerAs('w1', ['rm', '-f', c]);
  const a = await w.pendingApproval('w1');
  const m = await messageFor(fake, w, a.id);
  const b = buttons(m);

  const cb = fake.tap(MALLORY, m, b.approve);
  const ans = await answered(cb);
  t.match(ans.text, /not on the Wingman approver list/);
  t.equal(ans.show_alert, 'true', 'shown as an alert');
  t.equal((await w.control.approvals.get(a.id))!.status, 'pending', 'still pending');
  t.equal(await running(c), 'running');
  const refused = (await events(a.id)).find((e) => e.event === 'refused_approver');
  t.equal(refused?.actor, 'telegram:999');
  t.match(refused?.detail, { user_id: '999', decision: 'approve', via: 'telegram_button', message_id: m.message_id });
  t.equal(m.edits.length, 0, 'the message is unchanged');

  const deny = fake.tap(BORIS, m, b.deny);
  const r = await call;
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`wingman: denied by telegram:222 \\(approval ${a.id}\\)`));
  t.equal(await running(c), 'running', 'the container is still there');
  t.match((await answered(deny)).text, /^Denied/);
  t.match((await edited(m)).split('\n')[0], /^❌ DENIED by User222 \(@user222\) \(telegram:222\) at /);
});

t.test('replies decide too: "deny <reason>" reaches the CLI, "approve" runs the call; an intruder reply is refused', async (t) => {
  const c = await startContainer('tg-reply');
  let call = w.dockerAs('w1', ['rm', '-f', c]);
  let a = await w.pendingApproval('w1');
  let m = await messageFor(fake, w, a.id);
  const intruder = fake.reply(MALLORY, m, 'approve');
  t.match((await botReplyTo(intruder)).text, /not on the Wingman approver list/);
  t.equal((await w.control.approvals.get(a.id))!.status, 'pending');
  const chatter = fake.reply(ANNA, m, 'looks fine to me');
  t.match((await botReplyTo(chatter)).text, /reply "approve" or "deny <reason>"/, 'a non-decision reply by an approver gets a hint');
  t.equal((await w.control.approvals.get(a.id))!.status, 'pending');
  const no = fake.reply(BORIS, m, 'deny not during the demo');
  let r = await call;
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`wingman: denied by telegram:222: not during the demo \\(approval ${a.id}\\)`));
  t.equal(await running(c), 'running');
  t.match((await botReplyTo(no)).text, /^Denied/);
  t.match((await edited(m)).split('\n')[0], /DENIED by .*: not during the demo$/);
  t.match((await events(a.id)).find((e) => e.event === 'decided')?.detail, { via: 'telegram_reply', message_id: m.message_id });

  call = w.dockerAs('w1', ['rm', '-f', c]);
  a = await w.pendingApproval('w1');
  m = await messageFor(fake, w, a.id);
  const yes = fake.reply(ANNA, m, 'approve');
  r = await call;
  t.equal(r.code, 0, r.stderr);
  t.equal(await running(c), 'absent');
  t.match((await botReplyTo(yes)).text, /^Approved/);
  t.match((await edited(m)).split('\n')[0], /^✅ APPROVED by User111/);
});

t.test('/approve <id prefix> and /deny <id> <reason> commands; non-approvers refused', async (t) => {
  const a1 = await requestViaApi(w, 'remove container cmd-one');
  const a2 = await requestViaApi(w, 'remove container cmd-two');
  const m1 = await messageFor(fake, w, a1.id);
  await messageFor(fake, w, a2.id);
  const sneaky = fake.say(MALLORY, `/approve ${a1.id}`);
  t.match((await botReplyTo(sneaky)).text, /not on the Wingman approver list/);
  t.equal((await w.control.approvals.get(a1.id))!.status, 'pending');
  t.ok((await events(a1.id)).some((e) => e.event === 'refused_approver' && e.detail.via === 'telegram_command'));
  const ok = fake.say(ANNA, `/approve ${a1.id.slice(0, 8)}`);
  t.match((await botReplyTo(ok)).text, /^Approved/);
  t.equal((await w.control.approvals.get(a1.id))!.status, 'approved');
  t.match((await edited(m1)).split('\n')[0], /^✅ APPROVED/);
  const no = fake.say(BORIS, `/deny ${a2.id} prod is frozen`);
  t.match((await botReplyTo(no)).text, /^Denied/);
  const d = (await w.control.approvals.get(a2.id))!;
  t.equal(d.status, 'denied');
  t.equal(d.note, 'prod is frozen');
  t.equal(d.decided_by, 'telegram:222');
  const which = fake.say(ANNA, '/approve');
  t.match((await botReplyTo(which)).text, /Which approval\?/);
  const twice = fake.say(ANNA, `/approve ${a1.id}`);
  t.match((await botReplyTo(twice)).text, /^Already approved by telegram:111/);
});

t.test('/pending, /status, /workers for approvers; help for unknown commands; refusal for others', async (t) => {
  const a1 = await requestViaApi(w, 'remove container pend-one');
  const a2 = await requestViaApi(w, `remove container pend-two ${SPECIALS}`);
  await messageFor(fake, w, a1.id);
  await messageFor(fake, w, a2.id);
  const p = fake.say(ANNA, '/pending');
  const pending = (await botReplyTo(p)).text;
  t.match(pending, /^Pending approvals \(2\):/);
  t.ok(pending.includes(`• w1: remove container pend-one`));
  t.ok(pending.includes(`• w1: remove container pend-two ${SPECIALS}`));
  t.ok(pending.includes(`/approve ${a1.id}`) && pending.includes(`/approve ${a2.id}`));
  t.ok(pending.indexOf(a1.id) < pending.indexOf(a2.id), 'oldest first');
  const st = (await botReplyTo(fake.say(BORIS, '/status'))).text;
  t.match(st, /^Wingman status/);
  t.match(st, /Store: ok \(postgres\)/);
  t.match(st, /Bus: ok \(redis\)/);
  t.match(st, /Pending approvals: 2/);
  t.match(st, /Telegram outbox: \d+ unsent/);
  await w.control.workers.add('w1');
  await w.control.lockdowns.lock('w1', 'test lock', 'tester');
  const wk = (await botReplyTo(fake.say(ANNA, '/workers'))).text;
  t.match(wk, /• w1: LOCKED since .* by tester: test lock/);
  await w.control.lockdowns.unlock('w1', 'tester', 'done');
  const nope = (await botReplyTo(fake.say(MALLORY, '/pending'))).text;
  t.match(nope, /approvers only/);
  t.notOk(nope.includes(a1.id), 'nothing leaks to a non-approver');
  const help = (await botReplyTo(fake.say(MALLORY, '/frobnicate'))).text;
  t.match(help, /^Unknown command \/frobnicate\./);
  t.match(help, /\/pending/);
  t.match((await botReplyTo(fake.say(ANNA, '/help'))).text, /^Wingman bot commands/);
  // A command addressed to another bot in the group is not ours to answer.
  const other = fake.say(ANNA, '/pending@some_other_bot');
  await botReplyTo(fake.say(ANNA, '/help'));
  t.equal(fake.repliesTo(other).length, 0);
  for (const a of [a1, a2]) await w.control.approvals.answer(a.id, 'deny', 'api:test');
});

t.test('a decision through the API edits the message too', async (t) => {
  const a = await requestViaApi(w, 'remove container api-decided');
  const m = await messageFor(fake, w, a.id);
  const b = buttons(m);
  const r = await w.cli(['deny', a.id, '--note', 'from the cli', '--by', 'ops-carl']);
  t.equal(r.code, 0, r.stderr);
  t.match((await edited(m)).split('\n')[0], /^❌ DENIED by api:ops-carl at .*: from the cli$/);
  const late = fake.tap(ANNA, m, b.approve);
  t.match((await answered(late)).text, /^Already denied by api:ops-carl/);
});

t.test('a partial approval made through the API shows as 1/2 once reconciled', async (t) => {
  const a = await requestViaApi(w, 'remove container api-partial', { requiredApprovals: 2 });
  const m = await messageFor(fake, w, a.id);
  t.match(m.text, /^Approvals: 0\/2/m);
  await w.control.approvals.answer(a.id, 'approve', 'api:ops-dora');
  await w.control.telegram!.notifier.reconcile();
  t.match(await edited(m), /^Approved so far by: api:ops-dora$/m);
  t.match(m.text, /^Approvals: 1\/2/m);
  await w.control.telegram!.notifier.reconcile();
  await w.control.approvals.answer(a.id, 'deny', 'api:test');
  t.match((await edited(m, 2)).split('\n')[0], /^❌ DENIED by api:test/);
  t.equal(m.edits.length, 2, 'a second reconcile adds nothing');
});

t.test('two-person rule: 0/2, then 1/2 after the first approver, the same person twice is refused, the second runs it', async (t) => {
  const c = await startContainer('tg-two');
  await w.adopt('w2', 'container', c);
  const call = w.dockerAs('w2', ['rm', '-f', c]);
  const a = await w.pendingApproval('w2');
  const m = await messageFor(fake, w, a.id);
  t.match(m.text, /^Approvals: 0\/2/m);
  const b = buttons(m);
  const first = fake.tap(ANNA, m, b.approve);
  t.match((await answered(first)).text, /^Approved \(1\/2\)\. One more, different approver is needed\./);
  const progress = await edited(m);
  t.match(progress, /^Approvals: 1\/2/m);
  t.match(progress, /^Approved so far by: User111 \(@user111\) \(telegram:111\)$/m);
  t.same(buttons(m), b, 'the buttons stay for the second approver');
  const again = fake.tap(ANNA, m, b.approve);
  t.match((await answered(again)).text, /already approved this/);
  t.equal((await w.control.approvals.get(a.id))!.status, 'pending');
  t.equal(await running(c), 'running', 'one approval is not enough');
  const second = fake.tap(BORIS, m, b.approve);
  const r = await call;
  t.equal(r.code, 0, r.stderr);
  t.equal(await running(c), 'absent');
  t.match((await answered(second)).text, /^Approved/);
  t.match((await edited(m, 2)).split('\n')[0], /^✅ APPROVED by User111 \(@user111\) \(telegram:111\) \+ User222 \(@user222\) \(telegram:222\) at /);
  t.same((await events(a.id)).map((e) => e.event), ['requested', 'notified', 'partially_approved', 'decided', 'consumed']);
});

t.test('special characters through the proxy arrive as typed; 5,000 characters are truncated with the marker', async (t) => {
  const c = await startContainer('tg-specials');
  const file = `/tmp/wgm${SPECIALS.replace(/ /g, '')}`;
  await dockerOk(['exec', c, 'touch', file]);
  const call = w.dockerAs('w1', ['cp', `${c}:${file}`, '/tmp/wgmtest-never-written']);
  const a = await w.pendingApproval('w1');
  const m = await messageFor(fake, w, a.id);
  t.ok(m.text.includes(`(path ${file})`), `the file name ${file} is in the message as typed`);
  t.notOk(fake.callsOf('sendMessage').some((c) => c.params.parse_mode), 'never a parse_mode');
  fake.tap(ANNA, m, buttons(m).deny);
  t.equal((await call).code, 1);

  const intact = `remove container ${SPECIALS} ${'x'.repeat(300)}`;
  const a1 = await requestViaApi(w, intact, { path: `/containers/${SPECIALS}` });
  const m1 = await messageFor(fake, w, a1.id);
  t.ok(m1.text.includes(`Wants to: ${intact}`), 'delivered intact');
  t.ok(m1.text.includes(`Path: /containers/${SPECIALS}`));

  const huge = SPECIALS.replace(/ /g, '').repeat(400).slice(0, 5000);
  const a2 = await requestViaApi(w, huge, { path: `/x/${huge}`, reasons: [huge, huge] });
  const m2 = await messageFor(fake, w, a2.id);
  t.ok(m2.text.length <= 4096, `${m2.text.length} characters`);
  t.ok(m2.text.includes(TRUNCATION_MARKER), 'truncated with the marker');
  t.ok(m2.text.includes(`Path: /x/${huge.slice(0, 1400)}`), 'what is kept is intact');
  t.ok(m2.text.includes(`ID: ${a2.id}`), 'the id survives truncation');
  for (const x of [a1, a2]) await w.control.approvals.answer(x.id, 'deny', 'api:test');
});

t.test('a public channel given as @name: taps on its messages are accepted', async (t) => {
  const fc = await FakeBotApi.start({ chatId: '@wgm_ops' });
  const cw = await startWingman({ env: fc.env([ANNA]) });
  t.teardown(async () => {
    await cw.close();
    await fc.close();
  });
  const a = await requestViaApi(cw, 'remove container channel-web');
  const m = await messageFor(fc, cw, a.id);
  t.equal(m.chat_id, '@wgm_ops');
  const cb = fc.tap(ANNA, m, buttons(m).approve);
  t.match((await answered(cb, fc)).text, /^Approved/);
  t.match((await edited(m, 1, fc)).split('\n')[0], /^✅ APPROVED by User111/);
});

t.test('Telegram unreachable: control still starts and serves; the message waits in the outbox', async (t) => {
  const gone = await FakeBotApi.start();
  const env = gone.env([ANNA]);
  await gone.close(); // nothing listens on its port any more
  const dw = await startWingman({ env });
  t.teardown(() => dw.close());
  const health = await dw.control.server.inject({ method: 'GET', url: '/health' });
  t.equal(health.statusCode, 200, 'the control API is up');
  const a = await requestViaApi(dw, 'remove container unreachable');
  let row;
  for (let i = 0; !(row = await dw.control.telegram!.outbox.get(`approval:${a.id}:request`))?.last_error; i++) {
    if (i > 400) throw new Error('no send attempt recorded');
    await new Promise((r) => setTimeout(r, 25));
  }
  t.equal(row.status, 'pending', 'kept for a later attempt');
  t.match(row.last_error, /Network request failed/);
  t.equal((await dw.control.approvals.get(a.id))!.status, 'pending', 'nothing is approved by a failure');
});

t.test('no answer: the message is edited to expired and the CLI exits 1', async (t) => {
  const f2 = await FakeBotApi.start();
  const short = await startWingman({ env: { ...f2.env([ANNA]), WINGMAN_APPROVAL_TIMEOUT_S: '2' } });
  t.teardown(async () => {
    await short.close();
    await f2.close();
  });
  const c = await startContainer('tg-expire');
  await short.adopt('w1', 'container', c);
  const call = short.dockerAs('w1', ['rm', '-f', c]);
  const a = await short.pendingApproval('w1');
  const m = await messageFor(f2, short, a.id);
  const r = await call;
  t.equal(r.code, 1);
  t.match(r.stderr, /wingman: no decision within 2s, expired/);
  t.equal(await running(c), 'running');
  t.match((await edited(m, 1, f2)).split('\n')[0], /^⌛ EXPIRED at .*: nobody decided in time, so the call was refused$/);
  const late = f2.tap(ANNA, m, 'irrelevant-nonce-0123456789');
  t.match((await answered(late, f2)).text, /not valid/);
  t.same((await events(a.id, short)).map((e) => e.event), ['requested', 'notified', 'expired']);
});

t.test('a burst of 50 approvals through 429s, dropped connections and 5xx: every message delivered exactly once', async (t) => {
  const f3 = await FakeBotApi.start();
  const bw = await startWingman({ env: f3.env([ANNA]) });
  t.teardown(async () => {
    await bw.close();
    await f3.close();
  });
  f3.failNext(1, { kind: '429', retryAfter: 1 });
  const ids: string[] = [];
  const okSends = () => f3.callsOf('sendMessage').filter((c) => c.outcome === 'ok').length;
  const injectAt = new Map<number, () => void>([
    [10, () => f3.failNext(2, { kind: 'drop' })],
    [25, () => f3.failNext(2, { kind: '5xx', status: 502 })],
    [40, () => f3.failNext(1, { kind: '429', retryAfter: 1 })],
  ]);
  await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      const a = await requestViaApi(bw, `burst ${i}`, { opHash: `burst-${i}` });
      ids.push(a.id);
    }),
  );
  for (const [at, inject] of injectAt) {
    await f3.waitFor(`${at} delivered`, () => okSends() >= at, 60_000);
    inject();
  }
  await f3.waitFor('50 delivered', () => okSends() >= 50, 90_000);
  for (let i = 0; (await bw.control.telegram!.outbox.backlog()) > 0; i++) {
    if (i > 2000) throw new Error('outbox never drained');
    await new Promise((r) => setTimeout(r, 25));
  }
  const sends = f3.callsOf('sendMessage');
  const perApproval = ids.map((id) => sends.filter((c) => c.outcome === 'ok' && String(c.params.text).includes(`ID: ${id}`)).length);
  t.same(perApproval, ids.map(() => 1), 'each of the 50 approvals: exactly one delivered sendMessage');
  t.equal(okSends(), 50, 'no other message');
  const failures = sends.filter((c) => c.outcome !== 'ok');
  t.same(
    failures.map((c) => c.outcome).sort(),
    ['dropped', 'dropped', 'injected', 'injected', 'injected', 'injected'],
    'the failures happened: 2 × 429, 2 dropped, 2 × 502',
  );
  for (const f of failures.filter((x) => x.status === 429)) {
    const next = sends.find((c) => c.at > f.at && c.params.text === f.params.text && c !== f)!;
    t.ok(next.at - f.at >= 990, `a 429 was followed by a wait of retry_after (${next.at - f.at} ms)`);
  }
  const { rows } = await bw.db.query<{ approval_id: string; n: string }>(
    `SELECT approval_id, count(*) AS n FROM approval_events WHERE event = 'notified' GROUP BY approval_id`,
  );
  t.equal(rows.length, 50);
  t.ok(rows.every((r) => Number(r.n) === 1), 'one notified event per approval');
});

t.test('a restart with unsent outbox rows sends each once after the restart', async (t) => {
  const f4 = await FakeBotApi.start();
  const database = await createTestDatabase();
  t.teardown(async () => {
    await f4.close();
    await database.drop();
  });
  f4.failNext(100_000, { kind: '5xx', status: 503 });
  const first = await startWingman({ env: f4.env([ANNA]), database });
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await requestViaApi(first, `restart ${i}`, { opHash: `restart-${i}` })).id);
  await f4.waitFor('failed attempts', () => f4.callsOf('sendMessage').length >= 2);
  const { rows: before } = await first.db.query(`SELECT status FROM telegram_outbox WHERE kind = 'approval_request'`);
  t.equal(before.length, 3, 'the three messages are in the outbox');
  await first.close();
  t.equal(f4.botMessages().length, 0, 'nothing was delivered before the restart');
  f4.clearFailures();
  const second = await startWingman({ env: f4.env([ANNA]), database });
  t.teardown(() => second.close());
  await f4.waitFor('3 delivered', () => f4.botMessages().length >= 3, 60_000);
  for (let i = 0; (await second.control.telegram!.outbox.backlog()) > 0; i++) {
    if (i > 2000) throw new Error('outbox never drained');
    await new Promise((r) => setTimeout(r, 25));
  }
  const ok = f4.callsOf('sendMessage').filter((c) => c.outcome === 'ok');
  t.same(ids.map((id) => ok.filter((c) => String(c.params.text).includes(`ID: ${id}`)).length), [1, 1, 1]);
  t.equal(ok.length, 3);
  // The restarted instance can decide through the messages it did not create.
  const m = await messageFor(f4, second, ids[0]);
  const cb = f4.tap(ANNA, m, buttons(m).approve);
  t.match((await answered(cb, f4)).text, /^Approved/);
  t.equal((await second.control.approvals.get(ids[0]))!.status, 'approved');
});
