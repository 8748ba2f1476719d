// The service behind POST /output_validation/validate (sidecar and control API): read the files (inline, or from
// the worker's container), optionally re-run the approved instruction's TEST_PROCESS in that container, validate,
// store the result, publish `validation.decided`, and open an approval for MANUAL_REVIEW so it reaches a human
// (Telegram) like any other approval. Bad requests are WGM_ERR_VALIDATION_INVALID (400).
import { createHash } from 'node:crypto';
import type { Approvals } from '../core/approvals/approvals.js';
import type { Bus } from '../core/bus/bus.js';
import type { WorkerContainer } from '../core/claims/worker-container.js';
import { wingmanError } from '../core/errors.js';
import type { Metrics } from '../core/metrics.js';
import type { Db } from '../core/store/db.js';
import { validateOutput } from './validate-output.js';
import type { ValidationInput, ValidationResult } from './types.js';
import type { TestProcessSource, ValidationRequest } from './validation-request.js';

export interface ValidationRecord extends ValidationResult {
  validation_id: string;
  approval_id?: string;
}

const MAX_READ = 2 * 1024 * 1024;

export class OutputValidations {
  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly approvals: Approvals,
    private readonly approvalTtlS: number,
    private readonly metrics?: Metrics,
  ) {}

  async run(o: {
    worker: string | null;
    source: 'sidecar' | 'api';
    request: ValidationRequest;
    /** the worker's container, to read `paths` from and re-run tests in */
    container?: WorkerContainer;
    tests?: TestProcessSource;
  }): Promise<ValidationRecord> {
    const r = o.request;
    if (!r.files?.length && !r.paths?.length) throw wingmanError('WGM_ERR_VALIDATION_INVALID', 'give files or paths');
    const input: ValidationInput = {};
    if (r.files) input.files = r.files;
    if (r.test_results !== undefined) input.test_results = r.test_results;
    if (r.expected_total !== undefined) input.expected_total = r.expected_total;
    if (r.paths?.length || r.run_tests) {
      const c = o.container;
      if (!c) throw wingmanError('WGM_ERR_VALIDATION_INVALID', 'paths and run_tests need a worker whose container is known');
      if (r.paths?.length) {
        input.paths = r.paths;
        input.readFile = async (p) => {
          const f = await c.readFile(p, MAX_READ);
          if (!f) throw new Error(`${p} does not exist in the worker's container`);
          if (!f.content) throw new Error(`${p} is larger than ${MAX_READ} bytes`);
          return f.content.toString('utf8');
        };
        input.fileExists = async (p) => (await c.stat(p).catch(() => undefined)) !== undefined;
      }
      if (r.run_tests) {
        const cmd = o.worker ? await o.tests?.testProcess(o.worker, r.instruction_id) : undefined;
        if (!cmd) throw wingmanError('WGM_ERR_VALIDATION_INVALID', 'run_tests: no approved instruction with a TEST_PROCESS for this worker');
        input.runTests = async () => {
          const res = await c.exec(['sh', '-c', cmd], { timeoutMs: 120_000, maxOutputBytes: 1024 * 1024 });
          return { exitCode: res.timedOut ? 124 : (res.exitCode ?? 1), output: `${res.stdout}\n${res.stderr}` };
        };
      }
    }
    const result = await validateOutput(input);
    const files = [...(r.files?.map((f) => f.path) ?? []), ...(r.paths ?? [])].slice(0, 2000);
    const { rows } = await this.db.query<{ id: string }>(
      `INSERT INTO output_validations (worker, source, instruction_id, decision, score, blocking_issues, findings, validators, files)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [
        o.worker,
        o.source,
        r.instruction_id ?? null,
        result.decision,
        Math.round(result.score),
        JSON.stringify(result.blocking_issues),
        JSON.stringify(result.findings),
        JSON.stringify(result.validators),
        JSON.stringify(files),
      ],
    );
    const id = rows[0].id;
    const record: ValidationRecord = { validation_id: id, ...result };
    if (result.decision === 'MANUAL_REVIEW') {
      const { approval } = await this.approvals.request({
        worker: o.worker ?? 'ops',
        rule: 'OutputValidation',
        summary: `review AI-written code: ${files.length} file(s), score ${Math.round(result.score)} (${result.reasons[0] ?? 'needs a human'})`.slice(0, 500),
        method: 'VALIDATE',
        route: 'output_validation',
        path: `/output_validation/${id}`,
        // Bound to the validation itself: approving it approves exactly this result.
        opHash: createHash('sha256').update(`output_validation:${id}`).digest('hex'),
        op: { validation_id: id, files: files.slice(0, 50), score: result.score },
        reasons: result.reasons.slice(0, 20),
        ttlS: this.approvalTtlS,
        source: 'validation',
      });
      await this.db.query(`UPDATE output_validations SET approval_id = $2 WHERE id = $1`, [id, approval.id]);
      record.approval_id = approval.id;
    }
    this.metrics?.validations.inc({ decision: result.decision });
    await this.bus
      .publish('validation.decided', { validation_id: id, worker: o.worker, decision: result.decision, approval_id: record.approval_id ?? null })
      .catch(() => undefined);
    return record;
  }

  async get(id: string): Promise<Record<string, unknown> | undefined> {
    if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const { rows } = await this.db.query(`SELECT * FROM output_validations WHERE id = $1`, [id]);
    return rows[0];
  }
}
