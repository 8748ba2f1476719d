// The one writer of `approval_events`, the append-only history of approvals and grants (both share the table).
import type { Queryable } from '../store/db.js';

export async function approvalEvent(
  q: Queryable,
  id: string,
  event: string,
  actor: string | null,
  opHash: string | null,
  detail: object = {},
): Promise<void> {
  await q.query(`INSERT INTO approval_events (approval_id, event, actor, op_hash, detail) VALUES ($1, $2, $3, $4, $5)`, [
    id,
    event,
    actor,
    opHash,
    JSON.stringify(detail),
  ]);
}
