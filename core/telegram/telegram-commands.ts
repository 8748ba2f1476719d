// Parsing what people type to the bot (pure). Commands: `/name[@bot] args`. Replies to an approval message:
// `approve` or `deny <reason>`.

export interface ParsedCommand {
  /** lowercase, without the slash */
  name: string;
  args: string;
  /** `@botname` suffix, lowercase, when given */
  bot?: string;
}

export function parseCommand(text: string): ParsedCommand | undefined {
  const m = /^\/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!m) return undefined;
  return { name: m[1].toLowerCase(), args: (m[3] ?? '').trim(), ...(m[2] ? { bot: m[2].toLowerCase() } : {}) };
}

export interface ReplyDecision {
  decision: 'approve' | 'deny';
  note?: string;
}

const MAX_NOTE = 500;

/** `approve` / `approved` / `deny` / `deny <reason>` (case-insensitive); anything else is not a decision. */
export function parseReplyDecision(text: string): ReplyDecision | undefined {
  const t = text.trim();
  if (/^approved?[.!]*$/i.test(t)) return { decision: 'approve' };
  const m = /^den(?:y|ied)(?:[.!]*$|[\s:,-]+([\s\S]*)$)/i.exec(t);
  if (!m) return undefined;
  const note = (m[1] ?? '').trim().slice(0, MAX_NOTE);
  return note ? { decision: 'deny', note } : { decision: 'deny' };
}

/** `/approve <id> [note]` and `/deny <id> <reason>`: the id (full uuid or a prefix of 8+ hex) and the rest. */
export function splitIdAndNote(args: string): { idPrefix?: string; note?: string } {
  const m = /^([0-9a-fA-F-]{8,36})(?:\s+([\s\S]*))?$/.exec(args.trim());
  if (!m) return args.trim() ? { note: args.trim().slice(0, MAX_NOTE) } : {};
  const note = (m[2] ?? '').trim().slice(0, MAX_NOTE);
  return note ? { idPrefix: m[1].toLowerCase(), note } : { idPrefix: m[1].toLowerCase() };
}

export const HELP_TEXT = [
  'Wingman bot commands (approvers only):',
  '/pending: approvals waiting for a decision',
  '/approve <id> [note]: approve one (or reply "approve" to its message, or tap ✅)',
  '/deny <id> <reason>: deny one (or reply "deny <reason>" to its message, or tap ❌)',
  '/status: Wingman health and counts',
  '/workers: workers and their lockdown state',
  '/lockdown <worker> <why>: lock a worker down by hand',
  '/unlock <worker> [why]: release a locked-down worker',
  '/help: this text',
].join('\n');
