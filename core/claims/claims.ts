// The claims store: claims and verdicts (append-only) and the verify loop's work queue (claim_queue, mutable).
// Several verify loops (sidecars, restarts) share the queue: rows are taken with FOR UPDATE SKIP LOCKED and leased;
// the verdict is written with ON CONFLICT (claim_id) DO NOTHING, so a claim never gets a second verdict.
import type { Db } from '../store/db.js';
import type { StoredClaimType, VerdictValue } from './claim-types.js';

export interface NewClaim {
  id: string;
  worker: string;
  instruction_id: string | null;
  type: StoredClaimType;
  params: Record<string, unknown>;
  source: 'structured' | 'text';
  /** free text, redacted */
  raw_text: string | null;
  /** ISO time the sidecar accepted the claim */
  logged_at: string;
}

export interface ClaimRow extends Omit<NewClaim, 'logged_at'> {
  logged_at: Date;
  created_at: Date;
}

export interface VerdictDraft {
  verdict: VerdictValue;
  reason: string;
  evidence: Record<string, unknown>;
  verifier: string;
}

export interface VerdictRow extends VerdictDraft {
  id: string;
  claim_id: string;
  worker: string;
  claim_type: string;
  duration_ms: number;
  verified_by: string | null;
  created_at: Date;
}

export interface LeasedClaim extends ClaimRow {
  attempts: number;
}

const CLAIM_COLUMNS = 'c.id, c.worker, c.instruction_id, c.type, c.params, c.source, c.raw_text, c.logged_at, c.created_at';
const VERDICT_COLUMNS = 'id, claim_id, worker, claim_type, verdict, evidence, reason, verifier, duration_ms, verified_by, created_at';
const VERDICT_COLUMNS_V = VERDICT_COLUMNS.split(', ').map((c) => `v.${c}`).join(', ');
const INSERT_COLUMNS = ['id', 'worker', 'instruction_id', 'type', 'params', 'source', 'raw_text', 'logged_at'] as const;

export class Claims {
  constructor(private readonly db: Db) {}

  /** Store claims with their queue rows, idempotently (replays of a spool are safe). Returns the ids newly stored. */
  async insert(claims: NewClaim[]): Promise<string[]> {
    if (claims.length === 0) return [];
    return this.db.transaction(async (tx) => {
      const params: unknown[] = [];
      const tuples = claims.map((c) => {
        const base = params.length;
        for (const col of INSERT_COLUMNS) params.push(col === 'params' ? JSON.stringify(c.params) : c[col]);
        return '(' + INSERT_COLUMNS.map((_, i) => `$${base + i + 1}`).join(', ') + ')';
      });
      const { rows } = await tx.query<{ id: string; worker: string }>(
        `INSERT INTO claims (${INSERT_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}
         ON CONFLICT (id) DO NOTHING RETURNING id, worker`,
        params,
      );
      if (rows.length > 0) {
        await tx.query(
          `INSERT INTO claim_queue (claim_id, worker)
           SELECT id, worker FROM unnest($1::uuid[], $2::text[]) AS t(id, worker)
           ON CONFLICT (claim_id) DO NOTHING`,
          [rows.map((r) => r.id), rows.map((r) => r.worker)],
        );
      }
      return rows.map((r) => r.id);
    });
  }

  async get(id: string): Promise<ClaimRow | undefined> {
    const { rows } = await this.db.query<ClaimRow>(`SELECT ${CLAIM_COLUMNS} FROM claims c WHERE c.id = $1`, [id]);
    return rows[0];
  }

  async verdict(claimId: string): Promise<VerdictRow | undefined> {
    const { rows } = await this.db.query<VerdictRow>(`SELECT ${VERDICT_COLUMNS} FROM verdicts WHERE claim_id = $1`, [claimId]);
    return rows[0];
  }

  /**
   * Take up to `limit` claims of `worker` that are due: pending ones, and running ones whose lease lapsed (their
   * verify loop died). Rows another verify loop is taking right now are skipped, not waited for.
   */
  async lease(worker: string, consumer: string, limit: number, leaseMs: number): Promise<LeasedClaim[]> {
    const picked = `SELECT claim_id FROM claim_queue
          WHERE worker = $1 AND status <> 'done' AND next_attempt_at <= now()
            AND (status = 'pending' OR lease_until < now())
          ORDER BY enqueued_at
          LIMIT $2
          FOR UPDATE SKIP LOCKED`;
    const { rows } = await this.db.query<LeasedClaim>(`${leaseSql(picked)} ORDER BY c.logged_at`, [worker, limit, consumer, leaseMs]);
    return rows;
  }

  /** Take one given claim if it is due (a synchronous /verify); undefined when another verify loop holds it or it is done. */
  async leaseOne(claimId: string, worker: string, consumer: string, leaseMs: number): Promise<LeasedClaim | undefined> {
    const picked = `SELECT claim_id FROM claim_queue
          WHERE claim_id = $1 AND worker = $2 AND status <> 'done' AND (status = 'pending' OR lease_until < now())
          FOR UPDATE SKIP LOCKED`;
    const { rows } = await this.db.query<LeasedClaim>(leaseSql(picked), [claimId, worker, consumer, leaseMs]);
    return rows[0];
  }

  /** Extend leases this consumer holds (long verifications such as test re-runs). */
  async renew(claimIds: string[], consumer: string, leaseMs: number): Promise<void> {
    if (claimIds.length === 0) return;
    await this.db.query(
      `UPDATE claim_queue SET lease_until = now() + ($3::double precision * interval '1 millisecond')
        WHERE claim_id = ANY($1::uuid[]) AND locked_by = $2 AND status = 'running'`,
      [claimIds, consumer, leaseMs],
    );
  }

  /**
   * Write the verdict and finish the queue row in one transaction. `inserted` is false when the claim already had a
   * verdict (another verify loop won a race, or an earlier attempt committed but its answer was lost with the
   * connection); `row` is then the verdict that stands.
   */
  async complete(
    claim: { id: string; worker: string; type: string },
    draft: VerdictDraft,
    durationMs: number,
    consumer: string,
  ): Promise<{ row: VerdictRow; inserted: boolean }> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<VerdictRow>(
        `INSERT INTO verdicts (claim_id, worker, claim_type, verdict, evidence, reason, verifier, duration_ms, verified_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (claim_id) DO NOTHING
         RETURNING ${VERDICT_COLUMNS}`,
        [claim.id, claim.worker, claim.type, draft.verdict, JSON.stringify(draft.evidence), draft.reason, draft.verifier, durationMs, consumer],
      );
      await tx.query(
        `UPDATE claim_queue SET status = 'done', lease_until = NULL, last_error = NULL WHERE claim_id = $1`,
        [claim.id],
      );
      if (rows[0]) return { row: rows[0], inserted: true };
      const existing = await tx.query<VerdictRow>(`SELECT ${VERDICT_COLUMNS} FROM verdicts WHERE claim_id = $1`, [claim.id]);
      return { row: existing.rows[0], inserted: false };
    });
  }

  /** The claim.verified event of these claims is out: they need no announcing again. */
  async markAnnounced(claimIds: string[]): Promise<void> {
    if (claimIds.length === 0) return;
    await this.db.query(`UPDATE claim_queue SET announced_at = now() WHERE claim_id = ANY($1::uuid[]) AND announced_at IS NULL`, [claimIds]);
  }

  /**
   * Verdicts of `worker` written at least `olderThanMs` ago whose claim.verified was never marked out (the publish
   * failed, or its verify loop stopped between the commit and the publish), oldest first.
   */
  async unannounced(worker: string, olderThanMs: number, limit: number): Promise<VerdictRow[]> {
    const { rows } = await this.db.query<VerdictRow>(
      `SELECT ${VERDICT_COLUMNS_V}
         FROM claim_queue q JOIN verdicts v ON v.claim_id = q.claim_id
        WHERE q.worker = $1 AND q.status = 'done' AND q.announced_at IS NULL
          AND q.updated_at < now() - ($2::double precision * interval '1 millisecond')
        ORDER BY q.updated_at
        LIMIT $3`,
      [worker, olderThanMs, limit],
    );
    return rows;
  }

  /** Give a leased claim back for a later attempt (the verifier could not reach what it needed). */
  async retryLater(claimId: string, consumer: string, error: string, delayMs: number): Promise<void> {
    await this.db.query(
      `UPDATE claim_queue
          SET status = 'pending', locked_by = NULL, lease_until = NULL, last_error = $3,
              next_attempt_at = now() + ($4::double precision * interval '1 millisecond')
        WHERE claim_id = $1 AND locked_by = $2 AND status = 'running'`,
      [claimId, consumer, error.slice(0, 1000), delayMs],
    );
  }

  /** Claims of a worker still waiting for a verdict. */
  async backlog(worker: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM claim_queue WHERE worker = $1 AND status <> 'done'`,
      [worker],
    );
    return Number(rows[0]?.n ?? 0);
  }
}

/** Lease the queue rows `picked` selects to consumer $3 for $4 ms, returning each claim with its attempt count. */
function leaseSql(picked: string): string {
  return `WITH picked AS (${picked}), leased AS (
         UPDATE claim_queue q
            SET status = 'running', locked_by = $3, lease_until = now() + ($4::double precision * interval '1 millisecond'),
                attempts = q.attempts + 1
           FROM picked WHERE q.claim_id = picked.claim_id
         RETURNING q.claim_id, q.attempts
       )
       SELECT ${CLAIM_COLUMNS}, leased.attempts FROM leased JOIN claims c ON c.id = leased.claim_id`;
}
