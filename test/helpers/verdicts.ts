// Write a claim and a FALSE verdict as the verify loop would, and announce it: the watcher's input, without a sidecar.
import { randomUUID } from 'node:crypto';
import type { Wingman } from './wingman.js';

export async function falseVerdict(w: Wingman, worker: string, path: string): Promise<string> {
  const claimId = randomUUID();
  await w.db.query(
    `INSERT INTO claims (id, worker, type, params, source, logged_at) VALUES ($1, $2, 'file_created', $3, 'structured', now())`,
    [claimId, worker, JSON.stringify({ path })],
  );
  await w.db.query(
    `INSERT INTO verdicts (claim_id, worker, claim_type, verdict, evidence, reason, verifier, duration_ms)
     VALUES ($1, $2, 'file_created', 'FALSE', '{}', $3, 'test', 1)`,
    [claimId, worker, `${path} does not exist in ${worker}`],
  );
  await w.bus.publish('claim.verified', { claim_id: claimId, worker, verdict: 'FALSE' });
  return claimId;
}
