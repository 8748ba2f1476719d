// One claim → one verdict draft. Dispatches on the claim type, resolves the task (the approved instruction the
// claim refers to, else the worker's latest approved one before the claim), inverts negated claims, and combines
// the parts of a free-text claim. Throws WGM_ERR_CLAIM_VERIFY_UNAVAILABLE / WGM_ERR_STORE_UNAVAILABLE when Docker or
// the store cannot be asked right now: the verify loop retries those; every other outcome is a verdict.
import { isWingmanError } from '../errors.js';
import type { Instructions } from '../instructions/instructions.js';
import type { Db } from '../store/db.js';
import type { ClaimType, StoredClaimType, VerdictValue } from './claim-types.js';
import type { VerdictDraft } from './claims.js';
import { verifyCommandExecuted } from './verifiers/verify-command.js';
import { verifyContainerRunning } from './verifiers/verify-container.js';
import { verdict, type Task, type Verifier, type VerifyContext } from './verifiers/verify-context.js';
import { verifyFileContains, verifyFileCreated, verifyFileDeleted, verifyFileModified } from './verifiers/verify-files.js';
import { verifyPortListening } from './verifiers/verify-port.js';
import { verifyProcessRunning } from './verifiers/verify-processes.js';
import { verifyTestsPassed } from './verifiers/verify-tests.js';
import type { BaselineRecorder } from './baseline-recorder.js';
import type { BaselineView, TaskBaselines } from './task-baselines.js';
import type { WorkerContainer } from './worker-container.js';
import { asText } from '../util/as-text.js';

export const VERIFIERS: Record<ClaimType, Verifier> = {
  file_created: verifyFileCreated,
  file_modified: verifyFileModified,
  file_deleted: verifyFileDeleted,
  file_contains: verifyFileContains,
  process_running: verifyProcessRunning,
  port_listening: verifyPortListening,
  container_running: verifyContainerRunning,
  command_executed: verifyCommandExecuted,
  tests_passed: verifyTestsPassed,
};

export interface VerifiableClaim {
  id: string;
  worker: string;
  instruction_id: string | null;
  type: StoredClaimType;
  params: Record<string, unknown>;
  logged_at: Date | string;
}

export interface ClaimVerifierOptions {
  worker: string;
  container: WorkerContainer;
  db: Db;
  instructions: Instructions;
  /** the task-start baselines (issue 14) */
  baselines: TaskBaselines;
  /** this sidecar's baseline captures: a claim waits for its task's capture still in flight */
  recorder?: BaselineRecorder;
  /** how long a tests_passed re-run may take (default 120 s) */
  testTimeoutMs?: number;
  /** output kept from a re-run (default 1 MiB; the head and the tail) */
  testMaxOutputBytes?: number;
}

const INVERT: Record<VerdictValue, VerdictValue> = { TRUE: 'FALSE', FALSE: 'TRUE', UNVERIFIABLE: 'UNVERIFIABLE' };

export class ClaimVerifier {
  constructor(private readonly opts: ClaimVerifierOptions) {}

  get testTimeoutMs(): number {
    return this.opts.testTimeoutMs ?? 120_000;
  }

  async verify(claim: VerifiableClaim): Promise<VerdictDraft> {
    const ctx = this.context(claim);
    if (claim.worker !== this.opts.worker) {
      return verdict('UNVERIFIABLE', 'sidecar', `the claim belongs to worker ${claim.worker}, not to this sidecar's worker`);
    }
    if (claim.type === 'free_text') {
      return verdict('UNVERIFIABLE', 'text.parse', asText(claim.params.reason, 'no checkable statement found in the text'), {
        unchecked: claim.params.unchecked ?? [],
      });
    }
    if (claim.type === 'compound') return this.compound(claim.params, ctx);
    return this.one(claim.type, claim.params, ctx);
  }

  private async one(type: ClaimType, stored: Record<string, unknown>, ctx: VerifyContext): Promise<VerdictDraft> {
    const { negated, redacted, ...params } = stored;
    const verifier = VERIFIERS[type];
    if (!verifier) return verdict('UNVERIFIABLE', 'sidecar', `unknown claim type ${type}`);
    if (redacted) {
      return verdict('UNVERIFIABLE', 'sidecar', 'the claim held a secret, redacted before it was stored: what was claimed is no longer known');
    }
    let draft: VerdictDraft;
    try {
      draft = await verifier(params, ctx);
    } catch (err) {
      if (isWingmanError(err, 'WGM_ERR_CLAIM_CONTAINER_MISSING')) {
        return verdict('UNVERIFIABLE', 'sidecar', `the worker's container (${err.message.replace(/^.*?: /, '')}) does not exist`);
      }
      throw err;
    }
    if (!negated) return draft;
    return {
      ...draft,
      verdict: INVERT[draft.verdict],
      reason: `negated claim ("not ${type}"): ${draft.reason}`,
      evidence: { ...draft.evidence, negated: true, positive_verdict: draft.verdict },
    };
  }

  /** Several statements from one text: any FALSE → FALSE; else any unverifiable → UNVERIFIABLE; else TRUE. */
  private async compound(params: Record<string, unknown>, ctx: VerifyContext): Promise<VerdictDraft> {
    const parts = (params.parts as { type: ClaimType; params: Record<string, unknown> }[] | undefined) ?? [];
    const unverifiable = (params.unverifiable as { text: string; reason: string }[] | undefined) ?? [];
    const unchecked = (params.unchecked as string[] | undefined) ?? [];
    const results: { type: ClaimType; verdict: VerdictValue; reason: string; verifier: string; evidence: Record<string, unknown> }[] = [];
    for (const p of parts) {
      const d = await this.one(p.type, p.params, ctx);
      results.push({ type: p.type, verdict: d.verdict, reason: d.reason, verifier: d.verifier, evidence: d.evidence });
    }
    const evidence = { parts: results, unverifiable, unchecked };
    const falses = results.filter((r) => r.verdict === 'FALSE');
    if (falses.length) {
      return verdict('FALSE', 'compound', `${falses.length} of ${results.length} checked statement(s) are false: ${falses.map((f) => f.reason).join('; ')}`.slice(0, 2000), evidence);
    }
    const unv = [...results.filter((r) => r.verdict === 'UNVERIFIABLE').map((r) => r.reason), ...unverifiable.map((u) => `"${u.text}": ${u.reason}`)];
    if (unv.length) return verdict('UNVERIFIABLE', 'compound', `cannot check: ${unv.join('; ')}`.slice(0, 2000), evidence);
    const note = unchecked.length ? ` (${unchecked.length} sentence(s) with no checkable statement were not checked)` : '';
    return verdict('TRUE', 'compound', `all ${results.length} checked statement(s) are true${note}`, evidence);
  }

  private context(claim: VerifiableClaim): VerifyContext {
    let task: Promise<Task | { reason: string }> | undefined;
    const getTask = () => (task ??= this.task(claim));
    return {
      worker: this.opts.worker,
      container: this.opts.container,
      db: this.opts.db,
      task: getTask,
      baseline: (paths) => this.baseline(getTask, paths),
      testTimeoutMs: this.testTimeoutMs,
      testMaxOutputBytes: this.opts.testMaxOutputBytes ?? 1024 * 1024,
    };
  }

  private async baseline(task: () => Promise<Task | { reason: string }>, paths: string[]): Promise<BaselineView | { reason: string }> {
    const t = await task();
    if (!('start' in t)) return { reason: t.reason };
    await this.opts.recorder?.pending(t.instructionId);
    const b = await this.opts.baselines.view(t.instructionId, paths);
    if (!b) {
      return {
        reason: `no baseline of the worker's container was recorded when instruction ${t.instructionId} was approved (approved before baselines existed, or the capture never finished)`,
      };
    }
    if (b.status === 'failed') return { reason: `the baseline of instruction ${t.instructionId} could not be taken: ${b.reason ?? 'unknown error'}` };
    return b;
  }

  private async task(claim: VerifiableClaim): Promise<Task | { reason: string }> {
    const { instructions } = this.opts;
    if (claim.instruction_id) {
      const row = await instructions.get(claim.instruction_id);
      if (!row) return { reason: `instruction ${claim.instruction_id} does not exist` };
      if (row.worker !== claim.worker) return { reason: `instruction ${claim.instruction_id} belongs to another worker` };
      if (!row.approved) return { reason: `instruction ${claim.instruction_id} was rejected by the gate: no task started` };
      return { instructionId: row.id, start: new Date(row.decided_at), testProcess: row.test_process };
    }
    const row = await instructions.latestApproved(claim.worker, new Date(claim.logged_at));
    if (!row) return { reason: `worker ${claim.worker} had no approved instruction when the claim was logged: no task to check it against` };
    return { instructionId: row.id, start: new Date(row.decided_at), testProcess: row.test_process };
  }
}
