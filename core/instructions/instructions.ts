// Gate decisions (append-only). The sidecar records every /check result here; the claims verify loop reads the task
// start (decided_at of the approved instruction) and the TEST_PROCESS to re-run from here.
// Only GateResult fields go in: the gate has already redacted them, the caller's input never reaches the store.
import { randomUUID } from 'node:crypto';
import type { GateResult } from '../gate/index.js';
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

  /** Store one decision. `decidedAt` is the sidecar's clock (see migrations/004_sidecar.sql). */
  async record(worker: string, result: GateResult, decidedAt: Date = new Date()): Promise<InstructionRow> {
    const { rows } = await this.db.query<InstructionRow>(
      `INSERT INTO instructions (id, worker, decision, approved, score, missing_sections, weak_sections, weak_reasons,
         violations, instruction, test_process, decided_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       RETURNING ${COLUMNS}`,
      [
        randomUUID(),
        worker,
        result.decision,
        result.approved,
        result.score,
        JSON.stringify(result.missing_sections),
        JSON.stringify(result.weak_sections),
        JSON.stringify(result.weak_reasons),
        JSON.stringify(result.violations),
        result.redacted_instruction,
        result.test_process ?? null,
        decidedAt.toISOString(),
      ],
    );
    return rows[0];
  }

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
