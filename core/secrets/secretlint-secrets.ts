// secretlint 12.0 with its recommended preset, as a span finder. Pinned to 12.0.0: 12.1+ needs Node 22.
//
// Two traps handled here:
// - The preset contains `secretlint-rule-filter-comments`, which lets the scanned text switch scanning off with a
//   `secretlint-disable` comment. Scanned text is untrusted (an instruction, a worker's output), so that rule is left out.
// - Some rules report a range that does not cover the secret (the AWS secret-access-key rule reports the start of the
//   `aws_secret_access_key =` match with the length of the key), so the secret itself is located from the message data.
//   Raw values are used only for locating and never leave this module.
//
// The rules are run here rather than through secretlint's `lintSource`, which builds every rule again for each text
// (25 rule instances, their translators, an event emitter and a promise per rule) and then computes a line/column
// for each report: a few dozen allocations per scan that showed up as the scan's tail under load. The rules are
// created once (each keeps only its translator and options; the one rule that keeps per-text state,
// filter-comments, is left out above) and each scan calls their `file()` handlers in turn on one source object.
// Only the GCP rule can answer asynchronously (on `.p12` files, never our `.txt` source); if one ever does, the scan
// fails rather than lose its reports. test/secrets/secretlint-runner.test.ts holds this runner to `lintSource`.
import { rules as presetRules } from '@secretlint/secretlint-rule-preset-recommend';
import { SPECIFIC_PRIORITY, type SecretSpan } from './secret-finding.js';

const FILTER_COMMENTS_RULE = '@secretlint/secretlint-rule-filter-comments';

const KIND_OVERRIDES: Record<string, string> = {
  PostgreSQLConnection: 'postgresql_connection',
  MySQLConnection: 'mysql_connection',
  MongoDBConnection: 'mongodb_connection',
};

const ACTIVE_RULES = presetRules.filter((r) => r.meta.id !== FILTER_COMMENTS_RULE);

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

/** What a rule reports: its translated message (id and data, the data holding the raw value) and a range. */
interface RuleReport {
  message: { messageId: string; data?: unknown };
  range: readonly [number, number];
}

type FileHandler = (source: RuleSource) => unknown;

/** The part of secretlint's SourceCode the rules read. */
interface RuleSource {
  readonly content: string;
  readonly filePath: string;
  readonly ext: string;
  readonly contentType: 'text';
  getPhysicalFilePath(): undefined;
  getFilePath(): string;
}

/** Where reports go: the list of the scan in progress, nowhere between scans (see findSecretlintSecrets). */
let sink: RuleReport[] | undefined;

const HANDLERS: FileHandler[] = ACTIVE_RULES.flatMap((rule) => {
  if (!rule.meta.supportedContentTypes.some((t) => t === 'text' || t === 'all')) return [];
  const context = {
    sharedOptions: {},
    createTranslator: (messages: Record<string, unknown>) => translator(messages),
    report: (r: RuleReport) => void sink?.push(r),
    ignore: () => undefined, // only filter-comments ignores, and it is left out
    registerRule: () => undefined,
  };
  const handle = (rule as unknown as { create(c: unknown, o: unknown): { file?: FileHandler } }).create(context, {});
  return handle.file ? [handle.file] : [];
});

/** secretlint's translator, English only: `t(id, props)` → {message, messageId, data}. */
function translator(messages: Record<string, unknown>) {
  return (messageId: string, data?: Record<string, unknown>) => {
    const m = messages[messageId] as ((p?: unknown) => string) | { en?: (p?: unknown) => string } | string | undefined;
    if (m === undefined) throw new Error(`secretlint: message ${messageId} is missing`);
    const en = typeof m === 'object' ? m.en : m;
    const message = typeof en === 'function' ? en(data ?? {}) : String(en ?? messageId);
    return { message, messageId, data };
  };
}

export async function findSecretlintSecrets(text: string): Promise<SecretlintSpan[]> {
  const source: RuleSource = {
    content: text,
    filePath: 'scanned-text.txt',
    ext: '.txt',
    contentType: 'text',
    getPhysicalFilePath: () => undefined,
    getFilePath: () => 'scanned-text.txt',
  };
  // The handlers run synchronously, one after the other, into this scan's list; nothing else runs meanwhile, so
  // scans cannot mix their reports. A handler that answers with a promise would report after the list is closed:
  // the scan then fails (the caller fails closed) rather than miss what it would have found.
  const mine: RuleReport[] = [];
  let late = false;
  sink = mine;
  try {
    for (const file of HANDLERS) {
      const r = file(source);
      if (r && typeof (r as Promise<unknown>).then === 'function') {
        late = true;
        (r as Promise<unknown>).catch(() => undefined);
      }
    }
  } finally {
    sink = undefined;
  }
  if (late) throw new Error('secretlint: a rule answered asynchronously for a text source');
  return secretlintSpans(
    text,
    mine.map((r) => ({ messageId: r.message.messageId, range: r.range, data: r.message.data })),
  );
}

/** Spans of rule messages (exported for the test that holds this runner to secretlint's own lintSource). */
export function secretlintSpans(text: string, found: { messageId: string; range: readonly [number, number]; data?: unknown }[]): SecretlintSpan[] {
  const spans: SecretlintSpan[] = [];
  for (const { messageId, range, data } of found) {
    const [rs, re] = range;
    const located = locate(text, rs, re, data);
    spans.push({
      kind: SECRETLINT_KINDS.get(messageId) ?? 'secretlint_other',
      messageId,
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
