// Public surface of the secret scanner.
export { scanSecrets, scanSecretsSync } from './scan-secrets.js';
export { redactSecrets, redactSecretsSync, redactWithSpans, type RedactedText } from './redact-secrets.js';
export { OWN_SECRET_KINDS, type OwnSecretKind, type SecretFinding } from './secret-finding.js';
export { SECRETLINT_KINDS } from './secretlint-secrets.js';
export { isHighEntropySecret } from './own-secret-patterns.js';
export { shannonEntropy } from './shannon-entropy.js';
