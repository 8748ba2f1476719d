// Public surface of the secret scanner. secretlint's own module (secretlint-secrets.ts: its SECRETLINT_KINDS) is not
// re-exported: it loads on the first scan (scan-secrets.ts), not with this surface.
export { scanSecrets, scanSecretsSync } from './scan-secrets.js';
export { redactSecrets, redactSecretsSync, redactWithSpans, type RedactedText } from './redact-secrets.js';
export { OWN_SECRET_KINDS, type OwnSecretKind, type SecretFinding } from './secret-finding.js';
export { isHighEntropySecret } from './own-secret-patterns.js';
export { shannonEntropy } from './shannon-entropy.js';
