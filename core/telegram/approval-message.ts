// The text of an approval message, judged on a phone at a glance: who (worker), what in words, the rule, the raw
// call, when it expires. Trusted fields (worker from its socket, rule from the policy table, method, route
// template) come first; fields a worker controls (summary, path, reasons) are single-line and capped, so the
// message stays within Telegram's limit and no field can forge another line.
import type { Approval } from '../approvals/approvals.js';
import type { InlineKeyboard } from './outbox.js';
import { field, fitText, oneLine, utc } from './message-text.js';

export interface ApprovalButtons {
  approve: string;
  deny: string;
}

/** Display names of approvers by actor (`telegram:42` → `Anna (@anna)`), when Telegram told us. */
export type ApproverNames = ReadonlyMap<string, string>;

function who(actor: string, names: ApproverNames): string {
  const name = names.get(actor);
  return name ? `${field(name, 80)} (${actor})` : field(actor, 120);
}

function body(a: Approval): string[] {
  const lines = [
    `Worker: ${field(a.worker, 63)}`,
    `Wants to: ${field(a.summary, 600)}`,
    `Rule: ${field(a.rule, 80)}`,
    `Call: ${field(a.method, 10)} ${field(a.route, 200)}`,
    `Path: ${field(a.path, 1500)}`,
  ];
  const reasons = (a.reasons ?? []).slice(0, 5).map((r) => field(r, 300));
  if (reasons.length) lines.push(`Why: ${reasons.join('; ')}`);
  return lines;
}

function progress(a: Approval, names: ApproverNames): string[] {
  if (a.required_approvals <= 1) return [];
  const line = `Approvals: ${a.approvers.length}/${a.required_approvals} (two different approvers needed)`;
  return a.approvers.length ? [line, `Approved so far by: ${a.approvers.map((x) => who(x, names)).join(', ')}`] : [line];
}

/** The message while the approval is pending: details, expiry, the id, how to answer, and the two buttons. */
export function pendingApprovalMessage(a: Approval, buttons: ApprovalButtons, names: ApproverNames = new Map()): { text: string; reply_markup: InlineKeyboard } {
  const text = [
    `🔐 Approval needed: ${field(a.worker, 63)} wants to ${field(a.summary, 200)}`,
    '',
    ...body(a),
    `Expires: ${utc(a.expires_at)}`,
    ...progress(a, names),
    `ID: ${a.id}`,
    '',
    'Tap a button, or reply to this message with "approve" or "deny <reason>".',
  ].join('\n');
  return {
    text: fitText(text),
    reply_markup: {
      inline_keyboard: [
        [
          { text: '✅ Approve', callback_data: buttons.approve },
          { text: '❌ Deny', callback_data: buttons.deny },
        ],
      ],
    },
  };
}

/** The message once the approval is decided, expired or cancelled: no buttons, the outcome first. */
export function finalApprovalMessage(a: Approval, names: ApproverNames = new Map()): { text: string } {
  const at = a.decided_at ? utc(a.decided_at) : utc(new Date());
  const by = a.status === 'approved' || a.status === 'consumed'
    ? a.approvers.length ? a.approvers.map((x) => who(x, names)).join(' + ') : who(a.decided_by ?? 'unknown', names)
    : who(a.decided_by ?? 'unknown', names);
  const note = a.note ? `: ${oneLine(a.note).slice(0, 500)}` : '';
  let head: string;
  switch (a.status) {
    case 'approved':
    case 'consumed':
      head = `✅ APPROVED by ${by} at ${at}`;
      break;
    case 'denied':
      head = `❌ DENIED by ${by} at ${at}${note}`;
      break;
    case 'expired':
      head = `⌛ EXPIRED at ${at}: nobody decided in time, so the call was refused`;
      break;
    case 'cancelled':
      head = `🚫 CANCELLED at ${at}: the waiting call went away before a decision`;
      break;
    default:
      head = `Status: ${a.status}`;
  }
  const text = [head, '', ...body(a), `Requested: ${utc(a.requested_at)}`, `ID: ${a.id}`].join('\n');
  return { text: fitText(text) };
}
