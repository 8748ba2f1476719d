// Plain-text helpers for Telegram messages. Wingman never sets parse_mode, so `_ * [ ] ( ) ~ > # + - = | { } . !`
// need no escaping and arrive as typed. What does need care is text a worker or a Telegram user controls: a newline
// could forge a line ("Rule: harmless"), bidi controls could reverse what is shown, zero-width characters could
// hide text. Those are made visible. Lengths are counted in UTF-16 code units, which is what JavaScript strings use
// and at least as strict as Telegram's 4096-character limit.

export const TELEGRAM_MAX_TEXT = 4096;
export const TRUNCATION_MARKER = '…[truncated]';

// C0 and C1 controls, DEL; bidi embeddings/overrides/isolates and marks; zero-width and BOM; line/paragraph separators.
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** One line of untrusted text: newlines shown as ⏎, other invisible or direction-changing characters as �. */
export function oneLine(s: string): string {
  return s.replace(/\r\n|\r|\n/g, '⏎').replace(HIDDEN, '�');
}

/** Cut to at most `max` UTF-16 units (marker included), never splitting a surrogate pair. */
export function clip(s: string, max: number, marker = TRUNCATION_MARKER): string {
  if (s.length <= max) return s;
  let end = Math.max(0, max - marker.length);
  const last = s.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return s.slice(0, end) + marker;
}

/** A whole message within Telegram's limit; a longer one ends with the truncation marker. */
export function fitText(s: string, max = TELEGRAM_MAX_TEXT): string {
  return clip(s, max);
}

/** Untrusted field for a message: single line, capped. */
export function field(s: string | null | undefined, max: number): string {
  return clip(oneLine(s ?? ''), max);
}

/** `2025-05-01 12:10:00 UTC` */
export function utc(d: Date | string): string {
  const date = typeof d === 'string' ? new Date(d) : d;
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
