// Shapes shared by the output validators, the composite and the surfaces (sidecar, control API, CLI).
// A finding is blocking exactly when its severity is CRITICAL or HIGH: every validator encodes "this must never ship"
// (a syntax error, an unresolved import, a failing test, a file that cannot be read) as HIGH or CRITICAL.

export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const VALIDATORS = ['syntax', 'security', 'dependency', 'test'] as const;
export type ValidatorName = (typeof VALIDATORS)[number];

export const DECISIONS = ['AUTO_APPROVE', 'MANUAL_REVIEW', 'AUTO_REJECT'] as const;
export type Decision = (typeof DECISIONS)[number];

export function isBlockingSeverity(s: Severity): boolean {
  return s === 'CRITICAL' || s === 'HIGH';
}

export interface SourceFile {
  path: string;
  content: string;
}

export interface Finding {
  validator: ValidatorName;
  severity: Severity;
  file: string;
  /** 1-based; 0 when the finding is about the whole file or about no file (test results). */
  line: number;
  /** 1-based, when known. */
  column?: number;
  rule: string;
  message: string;
  blocking: boolean;
}

/** What a test run reported, whatever its format. */
export interface TestRunSummary {
  source: 'test_results' | 'run_tests';
  format: 'tap' | 'junit' | 'summary-line' | 'exit-code';
  total: number | null;
  passed: number | null;
  failed: number | null;
  skipped: number | null;
  exitCode?: number;
}

export interface RunTestsResult {
  exitCode: number;
  output: string;
}

export interface ValidationInput {
  /** Files with their content. */
  files?: SourceFile[];
  /** Paths to read through `readFile` (e.g. from the worker's container). A path that cannot be read rejects. */
  paths?: string[];
  /** Required with `paths`; there is no default so that a surface never reads its own disk by accident. */
  readFile?: (path: string) => Promise<string>;
  /**
   * Optional: does a path outside the given files exist? Used for relative imports and for manifests in parent
   * directories of partial change sets (the CLI's staged mode, a sidecar validating a few files of a larger tree).
   */
  fileExists?: (path: string) => Promise<boolean>;
  /** TAP or JUnit XML text (or a runner's output with a summary line). */
  test_results?: string;
  /** Fewer tests than this in the results is blocking. */
  expected_total?: number;
  /** Re-runs the tests (the sidecar runs the instruction's TEST_PROCESS in the worker container). */
  runTests?: () => Promise<RunTestsResult>;
}

export type ValidatorStatus = 'pass' | 'warn' | 'fail';

export interface ValidatorReport {
  status: ValidatorStatus;
  /** 0..100 */
  score: number;
  findings: number;
  blocking: number;
  /** Files this validator looked at. */
  checked: number;
  /** One line in words. */
  summary: string;
}

export interface ValidationResult {
  decision: Decision;
  score: number;
  blocking_issues: string[];
  findings: Finding[];
  validators: Record<ValidatorName, ValidatorReport>;
  /** Why the decision fell as it did, in words, most important first. */
  reasons: string[];
  tests?: TestRunSummary[];
}

/** What a validator returns: its findings plus what the composite needs to score it. */
export interface ValidatorOutcome {
  findings: Finding[];
  checked: number;
  /** Starting score before severity penalties (the test validator uses it for evidence of testing). */
  base: number;
  /** Explanations of the base score, in words. */
  notes: string[];
}
