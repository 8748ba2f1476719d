// secretlint 12.0 with its recommended preset, as a span finder. Pinned to 12.0.0: 12.1+ needs Node 22.
//
// Two traps handled here:
// - The preset contains `secretlint-rule-filter-comments`, which lets the scanned text switch scanning off with a
//   `secretlint-disable` comment. Scanned text is untrusted (an instruction, a worker's output), so that rule is left out.
// - Some rules report a range that does not cover the secret (the AWS secret-access-key rule reports the start of the
//   `aws_secret_access_key =` match with the length of the key), so the secret itself is located from the message data.
//   Raw values are used only for locating and never leave this module.
import { lintSource } from '@secretlint/core';
import { secretLintProfiler } from '@secretlint/profiler';
import { rules as presetRules } from '@secretlint/secretlint-rule-preset-recommend';
import { SPECIFIC_PRIORITY, type SecretSpan } from './secret-finding.js';

// secretlint's global profiler keeps every performance mark of every scan and searches them linearly on each new
// one: a long-running sidecar or control process would slow down and grow without bound. We never read the
// profile, so marks are switched off (clearing them instead races the profiler's own deferred measure() calls).
(secretLintProfiler as unknown as { mark: (m: unknown) => void }).mark = () => undefined;

const FILTER_COMMENTS_RULE = '@secretlint/secretlint-rule-filter-comments';

const KIND_OVERRIDES: Record<string, string> = {
  PostgreSQLConnection: 'postgresql_connection',
  MySQLConnection: 'mysql_connection',
  MongoDBConnection: 'mongodb_connection',
};

const ACTIVE_RULES = presetRules.filter((r) => r.meta.id !== FILTER_COMMENTS_RULE);

const CONFIG = {
  rules: ACTIVE_RULES.map((rule) => ({ id: rule.meta.id, rule })),
} as Parameters<typeof lintSource>[0]['options']['config'];

/** Every message id the active rules can report, as bounded snake_case kinds (e.g. GITHUB_TOKEN → github_token). */
export const SECRETLINT_KINDS: ReadonlyMap<string, string> = new Map(
  ACTIVE_RULES.flatMap((r) => Object.keys((r as { messages?: Record<string, unknown> }).messages ?? {})).map((id) => [
    id,
    toSnake(id),
  ]),
);

/** Message ids whose whole-URL span we replace by our narrower url_password span when both are present. */
export const SECRETLINT_URL_MESSAGES = new Set(['BasicAuth', 'PostgreSQLConnection', 'MySQLConnection', 'MongoDBConnection']);

function toSnake(id: string): string {
  if (KIND_OVERRIDES[id]) return KIND_OVERRIDES[id];
  return id
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase()
    .slice(0, 48);
}

export interface SecretlintSpan extends SecretSpan {
  messageId: string;
}

export async function findSecretlintSecrets(text: string): Promise<SecretlintSpan[]> {
  const result = await lintSource({
    source: { content: text, filePath: 'scanned-text.txt', ext: '.txt', contentType: 'text' },
    options: { config: CONFIG, noPhysicFilePath: true, maskSecrets: false },
  });
  const spans: SecretlintSpan[] = [];
  for (const msg of result.messages) {
    const [rs, re] = msg.range;
    const located = locate(text, rs, re, msg.data);
    spans.push({
      kind: SECRETLINT_KINDS.get(msg.messageId) ?? 'secretlint_other',
      messageId: msg.messageId,
      start: located[0],
      end: located[1],
      priority: SPECIFIC_PRIORITY,
    });
  }
  return spans;
}

/** The secret's real position: the longest string in the message data, found near the reported range. */
function locate(text: string, rs: number, re: number, data: unknown): [number, number] {
  const values =
    data && typeof data === 'object'
      ? Object.entries(data as Record<string, unknown>)
          .filter(([k, v]) => k !== 'typeName' && typeof v === 'string' && v.length >= 8)
          .map(([, v]) => v as string)
          .sort((a, b) => b.length - a.length)
      : [];
  for (const v of values) {
    const from = Math.max(0, rs - 256);
    const at = text.indexOf(v, from);
    if (at !== -1 && at <= re + 256) return [at, at + v.length];
  }
  return [Math.max(0, rs), Math.min(text.length, Math.max(re, rs + 1))];
}
