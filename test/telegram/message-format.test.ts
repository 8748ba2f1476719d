// Pure parts of the Telegram side: message text (plain, no escaping needed, untrusted lines made visible, limits),
// the approval message layout, and parsing what people type.
import t from 'tap';
import type { Approval } from '../../core/approvals/approvals.js';
import { finalApprovalMessage, pendingApprovalMessage } from '../../core/telegram/approval-message.js';
import { clip, fitText, oneLine, TELEGRAM_MAX_TEXT, TRUNCATION_MARKER } from '../../core/telegram/message-text.js';
import { parseCommand, parseReplyDecision, splitIdAndNote } from '../../core/telegram/telegram-commands.js';

const SPECIALS = '_ * [ ] ( ) ~ > # + - = | { } . !';

function approval(over: Partial<Approval> = {}): Approval {
  return {
    id: '0b5e8a52-35a8-4c3e-9d6e-3c7a1d2f4b11',
    worker: 'w1',
    rule: 'ContainerDelete',
    summary: 'remove container web (force, with volumes)',
    method: 'DELETE',
    route: '/containers/{id}',
    path: '/containers/3f2a9c?force=1&v=1',
    op_hash: 'h',
    op: {},
    reasons: ['remove container needs approval'],
    status: 'pending',
    source: 'proxy',
    required_approvals: 1,
    approvers: [],
    requested_at: new Date('2025-05-01T12:00:00Z'),
    expires_at: new Date('2025-05-01T12:10:00Z'),
    decided_at: null,
    decided_by: null,
    note: null,
    consumed_at: null,
    ...over,
  };
}

t.test('oneLine makes line breaks and invisible or direction-changing characters visible', async (t) => {
  const cases: Array<[string, string]> = [
    ['plain', 'plain'],
    [SPECIALS, SPECIALS],
    ['a\nRule: harmless', 'a⏎Rule: harmless'],
    ['a\r\nb\rc', 'a⏎b⏎c'],
    ['tab\there', 'tab�here'],
    ['rm \u202Efdp.exe', 'rm �fdp.exe'],
    ['zero\u200Bwidth\uFEFF', 'zero�width�'],
    ['bell\u0007 del\u007F c1\u0085', 'bell� del� c1�'],
    ['emoji 🐳 stays', 'emoji 🐳 stays'],
  ];
  for (const [input, want] of cases) t.equal(oneLine(input), want, JSON.stringify(input));
});

t.test('clip / fitText keep the limit, add the marker, never split a surrogate pair', async (t) => {
  t.equal(fitText('short'), 'short');
  const exact = 'e'.repeat(TELEGRAM_MAX_TEXT);
  t.equal(fitText(exact), exact, 'exactly 4096 is kept');
  const long = fitText('l'.repeat(5000));
  t.equal(long.length, TELEGRAM_MAX_TEXT);
  t.ok(long.endsWith(TRUNCATION_MARKER));
  const whale = clip(`ab${'🐳'.repeat(20)}`, 2 + 1 + TRUNCATION_MARKER.length);
  t.equal(whale, `ab${TRUNCATION_MARKER}`, 'a half emoji is dropped, not sent');
  t.equal(clip(`ab${'🐳'.repeat(20)}`, 2 + 2 + TRUNCATION_MARKER.length), `ab🐳${TRUNCATION_MARKER}`);
});

t.test('pending approval message: judged at a glance, buttons carry only the nonces', async (t) => {
  const { text, reply_markup } = pendingApprovalMessage(approval(), { approve: 'A'.repeat(24), deny: 'D'.repeat(24) });
  const lines = text.split('\n');
  t.equal(lines[0], '🔐 Approval needed: w1 wants to remove container web (force, with volumes)');
  t.ok(lines.includes('Worker: w1'));
  t.ok(lines.includes('Wants to: remove container web (force, with volumes)'));
  t.ok(lines.includes('Rule: ContainerDelete'));
  t.ok(lines.includes('Call: DELETE /containers/{id}'));
  t.ok(lines.includes('Path: /containers/3f2a9c?force=1&v=1'));
  t.ok(lines.includes('Expires: 2025-05-01 12:10:00 UTC'));
  t.ok(lines.includes('ID: 0b5e8a52-35a8-4c3e-9d6e-3c7a1d2f4b11'));
  t.notOk(text.includes('Approvals:'), 'no progress line for a one-person approval');
  t.same(reply_markup.inline_keyboard, [
    [
      { text: '✅ Approve', callback_data: 'A'.repeat(24) },
      { text: '❌ Deny', callback_data: 'D'.repeat(24) },
    ],
  ]);
});

t.test('a worker-controlled newline cannot forge a line of the message', async (t) => {
  const { text } = pendingApprovalMessage(
    approval({ summary: 'remove container x\nRule: harmless', path: '/containers/x\nExpires: never', reasons: ['r\nID: fake'] }),
    { approve: 'a'.repeat(24), deny: 'd'.repeat(24) },
  );
  const lines = text.split('\n');
  t.notOk(lines.includes('Rule: harmless'));
  t.notOk(lines.some((l) => l.startsWith('Expires: never')));
  t.equal(lines.filter((l) => l.startsWith('ID: ')).length, 1);
  t.equal(lines.filter((l) => l.startsWith('Rule: ')).length, 1);
});

t.test('special characters pass untouched; 5,000 characters are truncated with the marker and the trusted lines survive', async (t) => {
  const short = pendingApprovalMessage(approval({ summary: `remove container ${SPECIALS}`, path: `/containers/${SPECIALS}` }), {
    approve: 'a'.repeat(24),
    deny: 'd'.repeat(24),
  }).text;
  t.ok(short.includes(`Wants to: remove container ${SPECIALS}`));
  t.ok(short.includes(`Path: /containers/${SPECIALS}`));
  t.notOk(short.includes('\\'), 'nothing escaped: plain text');
  const big = SPECIALS.replace(/ /g, '').repeat(200).slice(0, 5000);
  const long = pendingApprovalMessage(approval({ summary: big, path: `/x/${big}`, reasons: [big, big, big, big, big, big] }), {
    approve: 'a'.repeat(24),
    deny: 'd'.repeat(24),
  }).text;
  t.ok(long.length <= TELEGRAM_MAX_TEXT, `${long.length} <= 4096`);
  t.ok(long.includes(TRUNCATION_MARKER));
  t.ok(long.includes(`Path: /x/${big.slice(0, 1000)}`), 'the kept part of a long field is intact');
  t.ok(long.includes('Expires: 2025-05-01 12:10:00 UTC'));
  t.ok(long.includes('ID: 0b5e8a52-35a8-4c3e-9d6e-3c7a1d2f4b11'));
});

t.test('two-person progress and final states', async (t) => {
  const names = new Map([['telegram:111', 'Anna (@anna)']]);
  const p0 = pendingApprovalMessage(approval({ required_approvals: 2 }), { approve: 'a'.repeat(24), deny: 'd'.repeat(24) }).text;
  t.match(p0, /^Approvals: 0\/2 \(two different approvers needed\)$/m);
  const p1 = pendingApprovalMessage(approval({ required_approvals: 2, approvers: ['telegram:111'] }), { approve: 'a'.repeat(24), deny: 'd'.repeat(24) }, names).text;
  t.match(p1, /^Approvals: 1\/2/m);
  t.match(p1, /^Approved so far by: Anna \(@anna\) \(telegram:111\)$/m);
  const decided = { decided_at: new Date('2025-05-01T12:03:04Z') };
  const cases: Array<[Partial<Approval> & Pick<Approval, 'status'>, RegExp]> = [
    [{ status: 'approved', approvers: ['telegram:111'], decided_by: 'telegram:111', ...decided }, /^✅ APPROVED by Anna \(@anna\) \(telegram:111\) at 2025-05-01 12:03:04 UTC$/],
    [{ status: 'consumed', approvers: ['telegram:111', 'telegram:222'], decided_by: 'telegram:111 + telegram:222', ...decided }, /^✅ APPROVED by Anna \(@anna\) \(telegram:111\) \+ telegram:222 at/],
    [{ status: 'denied', decided_by: 'api:ops', note: 'not now', ...decided }, /^❌ DENIED by api:ops at 2025-05-01 12:03:04 UTC: not now$/],
    [{ status: 'expired', decided_by: 'wingman', ...decided }, /^⌛ EXPIRED at 2025-05-01 12:03:04 UTC: nobody decided in time/],
    [{ status: 'cancelled', decided_by: 'wingman', ...decided }, /^🚫 CANCELLED at/],
  ];
  for (const [over, want] of cases) {
    const text = finalApprovalMessage(approval(over), names).text;
    t.match(text.split('\n')[0], want, over.status);
    t.ok(text.includes('Rule: ContainerDelete'));
  }
});

t.test('commands and reply decisions', async (t) => {
  const cmds: Array<[string, ReturnType<typeof parseCommand>]> = [
    ['/pending', { name: 'pending', args: '' }],
    ['/Pending@Wingman_Test_Bot', { name: 'pending', args: '', bot: 'wingman_test_bot' }],
    ['/deny 0b5e8a52 not now', { name: 'deny', args: '0b5e8a52 not now' }],
    ['  /approve   0b5e8a52-35a8  ', { name: 'approve', args: '0b5e8a52-35a8' }],
    ['/x\nmulti\nline', { name: 'x', args: 'multi\nline' }],
    ['approve', undefined],
    ['/', undefined],
    ['hello /pending', undefined],
  ];
  for (const [text, want] of cmds) t.same(parseCommand(text), want, JSON.stringify(text));
  const replies: Array<[string, ReturnType<typeof parseReplyDecision>]> = [
    ['approve', { decision: 'approve' }],
    ['Approved!', { decision: 'approve' }],
    ['APPROVE', { decision: 'approve' }],
    ['deny', { decision: 'deny' }],
    ['deny not during the demo', { decision: 'deny', note: 'not during the demo' }],
    ['Deny: prod is frozen', { decision: 'deny', note: 'prod is frozen' }],
    ['denied.', { decision: 'deny' }],
    ['approve this later', undefined],
    ['denylist', undefined],
    ['ok', undefined],
    ['lol', undefined],
  ];
  for (const [text, want] of replies) t.same(parseReplyDecision(text), want, JSON.stringify(text));
  t.same(splitIdAndNote('0b5e8a52 not now'), { idPrefix: '0b5e8a52', note: 'not now' });
  t.same(splitIdAndNote('0B5E8A52-35A8-4C3E-9D6E-3C7A1D2F4B11'), { idPrefix: '0b5e8a52-35a8-4c3e-9d6e-3c7a1d2f4b11' });
  t.same(splitIdAndNote('because reasons'), { note: 'because reasons' });
  t.same(splitIdAndNote(''), {});
});
