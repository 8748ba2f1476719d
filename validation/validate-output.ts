// validateOutput: the library entry the sidecar, the control API and the CLI call. It reads the listed paths through
// the caller's reader (never its own disk by default), parses every file once, runs the four validators, composes the
// decision, and makes sure no secret from the input survives into the result.
import { wingmanError } from '../core/errors.js';
import { redactSecrets, scanSecrets as defaultScanSecrets, type SecretFinding } from '../core/secrets/index.js';
import { composeOutcomes, describeFinding } from './composite.js';
import { validateDependencies } from './dependency-validator.js';
import { buildProject, normalizePath, type UnreadableFile } from './project.js';
import { validateSecurity } from './security-validator.js';
import { validateSyntax } from './syntax-validator.js';
import { validateTests } from './test-validator.js';
import type { Finding, SourceFile, ValidationInput, ValidationResult, ValidatorName, ValidatorOutcome } from './types.js';

export const LIMITS = {
  maxFiles: 5000,
  /** A larger file is not validated and rejects (an unvalidated file must not ship by default). */
  maxFileBytes: 2 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
  maxPathLength: 4096,
  maxTestResultsBytes: 16 * 1024 * 1024,
} as const;

export interface ValidateOptions {
  /** Injected for tests; defaults to core/secrets. */
  scanSecrets?: (text: string) => Promise<SecretFinding[]>;
}

function invalid(detail: string): never {
  throw wingmanError('WGM_ERR_VALIDATION_INVALID', detail);
}

function checkPath(p: unknown, where: string): string {
  if (typeof p !== 'string' || p.length === 0) invalid(`${where}: path must be a non-empty string`);
  if (p.length > LIMITS.maxPathLength) invalid(`${where}: path longer than ${LIMITS.maxPathLength}`);
  if (p.includes('\u0000')) invalid(`${where}: path contains a NUL byte`);
  return p;
}

/** Shape checks (fail closed with a coded 4xx error); returns the files given inline. */
function checkInput(input: ValidationInput): SourceFile[] {
  if (!input || typeof input !== 'object') invalid('input must be an object');
  const files = input.files ?? [];
  const paths = input.paths ?? [];
  if (!Array.isArray(files)) invalid('files must be an array');
  if (!Array.isArray(paths)) invalid('paths must be an array');
  if (files.length + paths.length > LIMITS.maxFiles) invalid(`more than ${LIMITS.maxFiles} files`);
  if (files.length + paths.length === 0 && input.test_results === undefined && !input.runTests) invalid('nothing to validate: give files, paths, test_results or runTests');
  if (paths.length > 0 && typeof input.readFile !== 'function') invalid('paths need a readFile function');
  if (input.test_results !== undefined && typeof input.test_results !== 'string') invalid('test_results must be a string');
  if (typeof input.test_results === 'string' && input.test_results.length > LIMITS.maxTestResultsBytes) invalid('test_results too large');
  if (input.expected_total !== undefined && (!Number.isInteger(input.expected_total) || input.expected_total < 0)) invalid('expected_total must be a non-negative integer');
  if (input.runTests !== undefined && typeof input.runTests !== 'function') invalid('runTests must be a function');
  const seen = new Set<string>();
  let total = 0;
  files.forEach((f, i) => {
    if (!f || typeof f !== 'object') invalid(`files[${i}] must be {path, content}`);
    const p = normalizePath(checkPath(f.path, `files[${i}]`));
    if (typeof f.content !== 'string') invalid(`files[${i}].content must be a string`);
    if (seen.has(p)) invalid(`files[${i}]: duplicate path ${JSON.stringify(p).slice(0, 200)}`);
    seen.add(p);
    total += f.content.length;
  });
  paths.forEach((p, i) => checkPath(p, `paths[${i}]`));
  if (total > LIMITS.maxTotalBytes) invalid(`files total more than ${LIMITS.maxTotalBytes} bytes`);
  return files;
}

async function readPaths(input: ValidationInput, given: Set<string>): Promise<{ files: SourceFile[]; unreadable: UnreadableFile[] }> {
  const files: SourceFile[] = [];
  const unreadable: UnreadableFile[] = [];
  let total = 0;
  for (const raw of input.paths ?? []) {
    const path = normalizePath(raw);
    if (given.has(path)) continue;
    given.add(path);
    let content: unknown;
    try {
      content = await input.readFile!(raw);
    } catch (e) {
      const code = (e as { code?: string }).code;
      unreadable.push({ path, reason: code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a directory' : code ? `read failed (${code})` : 'read failed' });
      continue;
    }
    if (typeof content !== 'string') {
      unreadable.push({ path, reason: 'the reader returned no text' });
      continue;
    }
    total += content.length;
    if (total > LIMITS.maxTotalBytes) invalid(`files total more than ${LIMITS.maxTotalBytes} bytes`);
    files.push({ path, content });
  }
  return { files, unreadable };
}

/** Every string of the result through the secret scanner; raw secret values seen in the input are removed too. */
async function scrub(result: ValidationResult, rawSecrets: Set<string>, scan: (t: string) => Promise<SecretFinding[]>): Promise<ValidationResult> {
  const strip = (s: string): string => {
    let out = s;
    for (const raw of rawSecrets) if (raw.length >= 4 && out.includes(raw)) out = out.split(raw).join('[REDACTED]');
    return out;
  };
  const all = [
    ...result.blocking_issues,
    ...result.reasons,
    ...result.findings.flatMap((f) => [f.file, f.message, f.rule]),
    ...Object.values(result.validators).map((v) => v.summary),
  ].join('\n');
  const needScan = (await scan(all)).length > 0;
  const clean = async (s: string): Promise<string> => {
    const stripped = strip(s);
    return needScan ? redactSecrets(stripped, await scan(stripped)) : stripped;
  };
  const findings: Finding[] = [];
  for (const f of result.findings) findings.push({ ...f, file: await clean(f.file), message: await clean(f.message), rule: await clean(f.rule) });
  const validators = { ...result.validators };
  for (const k of Object.keys(validators) as ValidatorName[]) validators[k] = { ...validators[k], summary: await clean(validators[k].summary) };
  return {
    ...result,
    findings,
    validators,
    blocking_issues: await Promise.all(result.blocking_issues.map(clean)),
    reasons: await Promise.all(result.reasons.map(clean)),
  };
}

export async function validateOutput(input: ValidationInput, opts: ValidateOptions = {}): Promise<ValidationResult> {
  const inline = checkInput(input);
  const given = new Set(inline.map((f) => normalizePath(f.path)));
  const read = await readPaths(input, given);
  const unreadable = [...read.unreadable];
  const files: SourceFile[] = [];
  for (const f of [...inline, ...read.files]) {
    if (Buffer.byteLength(f.content, 'utf8') > LIMITS.maxFileBytes) unreadable.push({ path: normalizePath(f.path), reason: `larger than ${LIMITS.maxFileBytes} bytes, not validated` });
    else files.push(f);
  }

  // Remember the raw secrets (in memory only) so the final scrub can prove none of them is echoed.
  const rawSecrets = new Set<string>();
  const baseScan = opts.scanSecrets ?? defaultScanSecrets;
  const scanAndRemember = async (text: string): Promise<SecretFinding[]> => {
    const found = await baseScan(text);
    for (const s of found) rawSecrets.add(text.slice(s.start, s.end).replace(/\u0000[\s\S]*$/, ''));
    return found;
  };

  const project = await buildProject(files, { unreadable, fileExists: input.fileExists, readFile: input.readFile });
  let outcomes: Record<ValidatorName, ValidatorOutcome>;
  let tests: Awaited<ReturnType<typeof validateTests>>;
  try {
    const syntax = await validateSyntax(project);
    const security = await validateSecurity(project, { scanSecrets: scanAndRemember });
    const dependency = await validateDependencies(project);
    tests = await validateTests(project, { test_results: input.test_results, expected_total: input.expected_total, runTests: input.runTests });
    outcomes = { syntax, security, dependency, test: tests };
  } finally {
    project.dispose();
  }
  const composite = composeOutcomes(outcomes);
  const findings = (['syntax', 'security', 'dependency', 'test'] as const).flatMap((v) => outcomes[v].findings);
  const result: ValidationResult = {
    decision: composite.decision,
    score: composite.score,
    blocking_issues: composite.blocking.map(describeFinding),
    findings,
    validators: composite.validators,
    reasons: composite.reasons,
    tests: tests.runs,
  };
  return scrub(result, rawSecrets, baseScan);
}
