// Task baselines (append-only, migrations/011): what the worker's container held when an instruction was approved.
// Written once per approved instruction by the sidecar's BaselineRecorder; read by the verifiers one path at a time
// (the file list can hold tens of thousands of entries: only the keys asked for leave the store).
import type { Db } from '../store/db.js';
import type { ChangeKind } from './worker-container.js';
import type { TreeEntry } from './scan-tree.js';

export type BaselineStatus = 'complete' | 'partial' | 'failed';

export interface BaselineRoot {
  path: string;
  state: 'read' | 'absent' | 'truncated' | 'error';
  files: number;
  /** truncated: the last path read (every path before it in walk order is known) */
  cursor?: string;
  reason?: string;
}

export interface TestFileRecord {
  present: boolean;
  h?: string;
  s?: number;
  /** mtime, whole seconds */
  m?: number;
  skip?: number;
  only?: number;
  /** read after /check answered and already changed since the task started */
  u?: 1;
}

export interface TestRun {
  exit_code: number | null;
  passed?: number;
  failed?: number;
  runner?: string;
  duration_ms?: number;
  /** why the run gave no count (timed out, no count printed, test files changed during it …) */
  note?: string;
}

/** one letter per change kind, as `docker diff` prints them */
export type ChangeLetter = 'A' | 'C' | 'D';
export const CHANGE_LETTER: Record<ChangeKind, ChangeLetter> = { added: 'A', modified: 'C', deleted: 'D' };

export interface NewBaseline {
  instruction_id: string;
  worker: string;
  status: BaselineStatus;
  reason: string | null;
  roots: BaselineRoot[];
  files: Record<string, TreeEntry>;
  changes: Record<string, ChangeLetter> | null;
  changes_status: BaselineStatus;
  test_files: Record<string, TestFileRecord>;
  tests_writable: boolean;
  test_count: number | null;
  test_count_source: 'instruction' | 'first_run' | null;
  test_run: TestRun | null;
  bounds: Record<string, number>;
  started_at: Date;
  finished_at: Date;
  duration_ms: number;
  answered_after_ms: number | null;
}

/** A stored baseline without its file and change lists; `files` / `changes` hold only the paths asked for. */
export interface BaselineView extends Omit<NewBaseline, 'files' | 'changes'> {
  file_count: number;
  files: Record<string, TreeEntry>;
  changes: Record<string, ChangeLetter>;
  has_changes: boolean;
}

const HEAD = `instruction_id, worker, status, reason, roots, file_count, changes_status, test_files, tests_writable, test_count,
  test_count_source, test_run, bounds, started_at, finished_at, duration_ms, answered_after_ms`;

export class TaskBaselines {
  constructor(private readonly db: Db) {}

  async insert(b: NewBaseline): Promise<void> {
    // Prepared: one row per approved instruction, on /check's path.
    await this.db.queryPrepared(
      `INSERT INTO task_baselines (instruction_id, worker, status, reason, roots, files, file_count, changes, changes_status,
         test_files, tests_writable, test_count, test_count_source, test_run, bounds, started_at, finished_at, duration_ms,
         answered_after_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
       ON CONFLICT (instruction_id) DO NOTHING`,
      [
        b.instruction_id,
        b.worker,
        b.status,
        b.reason,
        JSON.stringify(b.roots),
        JSON.stringify(b.files),
        Object.keys(b.files).length,
        b.changes === null ? null : JSON.stringify(b.changes),
        b.changes_status,
        JSON.stringify(b.test_files),
        b.tests_writable,
        b.test_count,
        b.test_count_source,
        b.test_run === null ? null : JSON.stringify(b.test_run),
        JSON.stringify(b.bounds),
        b.started_at.toISOString(),
        b.finished_at.toISOString(),
        b.duration_ms,
        b.answered_after_ms,
      ],
    );
  }

  /** The baseline of an instruction with the entries of `paths` only (from the file list and the change list). */
  async view(instructionId: string, paths: string[]): Promise<BaselineView | undefined> {
    const { rows } = await this.db.query<BaselineView & { file_hits: Record<string, TreeEntry> | null; change_hits: Record<string, ChangeLetter> | null }>(
      `SELECT ${HEAD}, changes IS NOT NULL AS has_changes,
         (SELECT jsonb_object_agg(k, files -> k) FROM unnest($2::text[]) AS k WHERE files ? k) AS file_hits,
         (SELECT jsonb_object_agg(k, changes -> k) FROM unnest($2::text[]) AS k WHERE changes ? k) AS change_hits
         FROM task_baselines WHERE instruction_id = $1`,
      [instructionId, paths],
    );
    const r = rows[0];
    if (!r) return undefined;
    const { file_hits, change_hits, ...rest } = r;
    return { ...rest, files: file_hits ?? {}, changes: change_hits ?? {} };
  }
}
