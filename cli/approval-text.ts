// How the CLI shows approvals: a head line (id, status, worker, rule, time left) and the whole effect in words,
// the lines the control API computed (control/approval-effect.ts), so the CLI and the console say the same thing.
import type { ApprovalView } from '../control/api-schema.js';

function left(expiresAt: string, now: number): string {
  const s = Math.floor((Date.parse(expiresAt) - now) / 1000);
  if (s <= 0) return 'expired';
  return s < 3600 ? `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')} left` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min left`;
}

function status(a: ApprovalView, now: number): string {
  if (a.status !== 'pending') {
    const by = a.decided_by ? ` by ${a.decided_by}` : '';
    return `${a.status}${by}${a.note ? `: ${a.note}` : ''}`;
  }
  const two = a.required_approvals > 1 ? `, ${a.approvers.length}/${a.required_approvals} approvals` : '';
  return `pending (${left(a.expires_at, now)}${two})`;
}

/** The block for one approval; `detail` adds the raw path and every reason. */
export function approvalText(a: ApprovalView, now = Date.now()): string {
  const lines = [`${a.id}  ${a.worker}  ${status(a, now)}`];
  const width = Math.max(...a.effect.map((l) => l.label.length), 'Why held'.length) + 1;
  for (const l of a.effect) lines.push(`  ${`${l.label}:`.padEnd(width)} ${l.value}`);
  if (a.reasons.length) lines.push(`  ${'Why held:'.padEnd(width)} ${a.reasons.join('; ')}`);
  if (a.approvers.length && a.status === 'pending') lines.push(`  ${'Approved:'.padEnd(width)} ${a.approvers.join(', ')} (needs ${a.required_approvals})`);
  return lines.join('\n');
}

export function approvalsText(list: ApprovalView[], now = Date.now()): string {
  if (list.length === 0) return 'no approvals';
  return list.map((a) => approvalText(a, now)).join('\n\n');
}
