// What every verifier gets: the worker's container (looked at from inside), the store (execution audit), and the
// task the claim belongs to (resolved on first use: not every claim type needs it).
import type { Db } from '../../store/db.js';
import type { VerdictDraft } from '../claims.js';
import type { BaselineView } from '../task-baselines.js';
import type { WorkerContainer } from '../worker-container.js';

export interface Task {
  instructionId: string;
  /** when the instruction was approved: the claim's work happened after this */
  start: Date;
  testProcess: string | null;
}

export interface VerifyContext {
  worker: string;
  container: WorkerContainer;
  db: Db;
  /** the approved instruction, or why there is none (the verdict is then UNVERIFIABLE) */
  task(): Promise<Task | { reason: string }>;
  /**
   * The task's start baseline with the entries of `paths` (and their change-list entries), or why there is none
   * (no task, no baseline recorded, the capture failed): the verdict is then UNVERIFIABLE.
   */
  baseline(paths: string[]): Promise<BaselineView | { reason: string }>;
  testTimeoutMs: number;
  testMaxOutputBytes: number;
}

export type Verifier = (params: Record<string, unknown>, ctx: VerifyContext) => Promise<VerdictDraft>;

export const verdict = (
  v: VerdictDraft['verdict'],
  verifier: string,
  reason: string,
  evidence: Record<string, unknown> = {},
): VerdictDraft => ({ verdict: v, verifier, reason, evidence });

export function hasTask(t: Task | { reason: string }): t is Task {
  return 'start' in t;
}

export function hasBaseline(b: BaselineView | { reason: string }): b is BaselineView {
  return 'instruction_id' in b;
}
