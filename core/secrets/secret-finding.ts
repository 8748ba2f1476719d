// What a secret scan reports. A finding locates a secret without carrying it: `preview` shows at most a few leading
// characters (never more than a fifth of the secret) so a log line or an API answer can say *which* value was meant.

/** Bounded kind ids for our own patterns; secretlint findings use the snake_case of the preset's message ids. */
export const OWN_SECRET_KINDS = [
  'aws_access_key_id',
  'sk_api_key',
  'stripe_key',
  'private_key',
  'telegram_bot_token',
  'password_literal',
  'url_password',
  'cli_credentials',
  'bearer_token',
  'basic_auth_header',
  'jwt',
  'high_entropy_assignment',
] as const;

export type OwnSecretKind = (typeof OWN_SECRET_KINDS)[number];

export interface SecretFinding {
  /** Bounded id, e.g. `aws_access_key_id`, `github_token` (secretlint), `password_literal`. */
  kind: string;
  /** 1-based line and column of the first character of the secret. */
  line: number;
  column: number;
  /** Offsets into the scanned text (UTF-16 code units, end exclusive). */
  start: number;
  end: number;
  /** Already redacted: a few leading characters then `…[redacted]`. */
  preview: string;
}

/** Internal: a located secret before merging. `priority` ranks specific detectors over generic ones. */
export interface SecretSpan {
  kind: string;
  start: number;
  end: number;
  priority: number;
}

export const GENERIC_PRIORITY = 1;
export const SPECIFIC_PRIORITY = 2;

export function previewOf(secret: string): string {
  const shown = Math.min(4, Math.floor(secret.length / 5));
  return `${secret.slice(0, shown)}…[redacted]`;
}

/**
 * Merge overlapping spans into one finding each (the most specific detector names it, ties go to the earliest),
 * and add line/column/preview.
 */
export function buildFindings(text: string, spans: SecretSpan[]): SecretFinding[] {
  const valid = spans
    .filter((s) => Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= 0 && s.end <= text.length && s.end > s.start)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const clusters: { start: number; end: number; best: SecretSpan }[] = [];
  for (const s of valid) {
    const last = clusters[clusters.length - 1];
    if (last && s.start < last.end) {
      last.end = Math.max(last.end, s.end);
      if (s.priority > last.best.priority) last.best = s;
    } else {
      clusters.push({ start: s.start, end: s.end, best: s });
    }
  }
  const lineStarts = lineStartOffsets(text);
  return clusters.map((c) => {
    const { line, column } = position(lineStarts, c.start);
    return { kind: c.best.kind, line, column, start: c.start, end: c.end, preview: previewOf(text.slice(c.start, c.end)) };
  });
}

function lineStartOffsets(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function position(lineStarts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - lineStarts[lo] + 1 };
}
