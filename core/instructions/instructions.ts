// Gate decisions (append-only), read here. The sidecar records every /check result through one writer
// (core/instructions/decision-batcher.ts: only GateResult fields go in, already redacted by the gate); the claims
// verify loop reads the task start (decided_at of the approved instruction) and the TEST_PROCESS to re-run from here.
import type { Db } from '../store/db.js';

export interface InstructionRow {
  id: string;
  worker: string;
  decision: 'APPROVED' | 'REJECTED';
  approved: boolean;
  score: number;
  missing_sections: string[];
  weak_sections: string[];
  weak_reasons: Record<string, string>;
  violations: { rule: string; excerpt: string }[];
  instruction: string;
  test_process: string | null;
  decided_at: Date;
  created_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && UUID.test(s);
}

const COLUMNS = `id, worker, decision, approved, score, missing_sections, weak_sections, weak_reasons, violations, instruction,
  test_process, decided_at, created_at`;

export class Instructions {
  constructor(private readonly db: Db) {}

  async get(id: string): Promise<InstructionRow | undefined> {
    if (!isUuid(id)) return undefined;
    const { rows } = await this.db.query<InstructionRow>(`SELECT ${COLUMNS} FROM instructions WHERE id = $1`, [id]);
    return rows[0];
  }

  /** The worker's latest approved instruction decided at or before `at` (default: now). */
  async latestApproved(worker: string, at?: Date): Promise<InstructionRow | undefined> {
    const { rows } = await this.db.query<InstructionRow>(
      `SELECT ${COLUMNS} FROM instructions
        WHERE worker = $1 AND approved AND ($2::timestamptz IS NULL OR decided_at <= $2)
        ORDER BY decided_at DESC LIMIT 1`,
      [worker, at ? at.toISOString() : null],
    );
    return rows[0];
  }

  async list(filter: { worker?: string; limit?: number } = {}): Promise<InstructionRow[]> {
    const { rows } = await this.db.query<InstructionRow>(
      `SELECT ${COLUMNS} FROM instructions WHERE ($1::text IS NULL OR worker = $1) ORDER BY created_at DESC LIMIT $2`,
      [filter.worker ?? null, Math.min(Math.max(filter.limit ?? 100, 1), 1000)],
    );
    return rows;
  }
}
