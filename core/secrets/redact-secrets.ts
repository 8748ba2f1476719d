// Replaces every secret span with `[REDACTED:<kind>]`. The replacement contains no quote, backslash or newline, so a
// redacted JSON string stays valid JSON and a redacted line stays one line.
import type { SecretFinding } from './secret-finding.js';
import { scanSecrets, scanSecretsSync } from './scan-secrets.js';

export interface RedactedText {
  text: string;
  /** Where each finding's replacement sits in the redacted text (same order as the sorted findings). */
  spans: { kind: string; start: number; end: number }[];
}

/** Redact with the findings of a previous scan of the same text, or scan first when none are given. */
export async function redactSecrets(text: string, findings?: readonly SecretFinding[]): Promise<string> {
  return redactWithSpans(text, findings ?? (await scanSecrets(text))).text;
}

/** Our own patterns only (no secretlint), for synchronous logging paths. */
export function redactSecretsSync(text: string): string {
  return redactWithSpans(text, scanSecretsSync(text)).text;
}

export function redactWithSpans(text: string, findings: readonly Pick<SecretFinding, 'kind' | 'start' | 'end'>[]): RedactedText {
  const sorted = [...findings]
    .filter((f) => f.start >= 0 && f.end <= text.length && f.end > f.start)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let cursor = 0;
  const spans: RedactedText['spans'] = [];
  for (const f of sorted) {
    if (f.end <= cursor) continue; // inside a span already replaced
    const start = Math.max(f.start, cursor);
    out += text.slice(cursor, start);
    const label = `[REDACTED:${f.kind.replace(/[^a-z0-9_]/gi, '_')}]`;
    spans.push({ kind: f.kind, start: out.length, end: out.length + label.length });
    out += label;
    cursor = f.end;
  }
  out += text.slice(cursor);
  return { text: out, spans };
}
