// Public surface of output validation, for the sidecar, the control API and the CLI.
export { validateOutput, LIMITS, type ValidateOptions } from './validate-output.js';
export { compositeDecision, compositeScore, validatorScore, composeOutcomes, describeFinding, WEIGHTS, PENALTIES, APPROVE_AT } from './composite.js';
export { validateSyntax } from './syntax-validator.js';
export { validateSecurity } from './security-validator.js';
export { validateDependencies, typosquatTarget, maliciousEntry } from './dependency-validator.js';
export { validateTests, TEST_BASE } from './test-validator.js';
export { parseTestResults } from '../core/test-results/parse-test-results.js';
export { buildProject } from './project.js';
export { SECURITY_RULES } from './security-rules.js';
export * from './types.js';
