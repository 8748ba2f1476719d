// The one secret scanner. Everything that looks for secrets (the instruction gate, output validation, log redaction)
// goes through here so a pattern added once protects every path.
import { wingmanError } from '../errors.js';
import { loadOnce } from '../util/load-once.js';
import { findOwnSecrets } from './own-secret-patterns.js';
import { buildFindings, type SecretFinding, type SecretSpan } from './secret-finding.js';
import type { SecretlintSpan } from './secretlint-secrets.js';

export type { SecretFinding } from './secret-finding.js';

type Secretlint = typeof import('./secretlint-secrets.js');

/**
 * secretlint and its rule preset (about 20 modules, 1 MB of heap) load on the first scan rather than at start: a
 * sidecar that is not asked anything, and a process that never scans, do not carry them. Every scan awaits the
 * load before it answers, so nothing is ever judged without secretlint; a failed load fails its scan like any other
 * scanner error, closed (and the next scan tries again).
 */
const loadSecretlint = loadOnce('the secretlint scanner', () => import('./secretlint-secrets.js'));

/** secretlint + our own patterns. Findings are merged (one per overlapping cluster) and never carry the secret. */
export async function scanSecrets(text: string): Promise<SecretFinding[]> {
  if (typeof text !== 'string') throw wingmanError('WGM_ERR_INTERNAL', 'scanSecrets expects a string');
  if (text.length === 0) return [];
  const own = findOwnSecrets(text);
  let sl: Secretlint;
  let fromSecretlint: SecretlintSpan[];
  try {
    sl = await loadSecretlint();
    fromSecretlint = await sl.findSecretlintSecrets(text);
  } catch (err) {
    // Fail closed: a scan that could not run (or whose scanner could not load) must not read as "no secrets".
    throw wingmanError('WGM_ERR_INTERNAL', 'secret scan failed', undefined, err);
  }
  return buildFindings(text, [...own, ...narrowUrlSpans(text, own, fromSecretlint, sl.SECRETLINT_URL_MESSAGES)]);
}

/** Our own patterns only: synchronous, for logging paths that cannot await. */
export function scanSecretsSync(text: string): SecretFinding[] {
  if (typeof text !== 'string' || text.length === 0) return [];
  return buildFindings(text, findOwnSecrets(text));
}

/**
 * secretlint reports a whole `scheme://user:pass@host` as the secret; where our url_password span (just the password)
 * lies inside it, keep ours so a redacted URL still shows which host and user were meant.
 */
function narrowUrlSpans(text: string, own: SecretSpan[], fromSecretlint: SecretlintSpan[], urlMessages: ReadonlySet<string>): SecretSpan[] {
  const urlPasswords = own.filter((s) => s.kind === 'url_password');
  return fromSecretlint.filter((sl) => {
    if (!urlMessages.has(sl.messageId)) return true;
    if (urlPasswords.some((u) => u.start >= sl.start && u.end <= sl.end)) return false;
    // A URL whose password is already our redaction marker (re-scanning redacted text) holds no secret.
    return !/:\[REDACTED:[a-z0-9_]+\]@/.test(text.slice(sl.start, sl.end));
  });
}
