// POST /log_claim and POST /verify. The worker is always this sidecar's own.
//   /log_claim  {type, ...params, instruction_id?} | {text, instruction_id?} → 202 {claim_id, type} once the claim
//               is on local disk (the store gets it right after, or when it is back)
//   /verify     {claim_id, wait_ms?} → 200 its verdict (waiting up to wait_ms for it), 202 while still pending
//               {type, ...} | {text} → logs the claim and verifies it now → 200 the verdict (202 if the store is down)
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { VerifyLoop } from '../core/claims/verify-loop.js';
import { claimFromBody } from '../core/claims/claim-input.js';
import type { ClaimLog } from '../core/claims/claim-log.js';
import type { Claims, VerdictRow } from '../core/claims/claims.js';
import { isWingmanError, wingmanError } from '../core/errors.js';
import { isUuid } from '../core/instructions/instructions.js';

export interface ClaimDeps {
  worker: string;
  claims: Claims;
  claimLog: ClaimLog;
  verifyLoop: VerifyLoop;
}

const DEFAULT_WAIT_MS = 5_000;
const MAX_WAIT_MS = 60_000;

export function verdictBody(v: VerdictRow) {
  return {
    claim_id: v.claim_id,
    verdict: v.verdict,
    reason: v.reason,
    evidence: v.evidence,
    verifier: v.verifier,
    duration_ms: Math.round(v.duration_ms * 100) / 100,
    verified_at: v.created_at,
  };
}

export function registerClaimRoutes(server: FastifyInstance, deps: ClaimDeps): void {
  const { worker, claims, claimLog, verifyLoop } = deps;

  server.post('/log_claim', async (req, reply) => {
    const claim = await claimFromBody(req.body, worker);
    try {
      await claimLog.append(claim);
    } catch (err) {
      req.log.error({ err: (err as Error).message }, 'claim spool write failed');
      throw wingmanError('WGM_ERR_INTERNAL', 'the claim could not be recorded on local disk');
    }
    return reply.status(202).send({ claim_id: claim.id, type: claim.type });
  });

  server.post('/verify', async (req, reply) => {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw wingmanError('WGM_ERR_CLAIM_INVALID', 'expected {"claim_id": "<uuid>"} or a claim body');
    }
    const { claim_id, wait_ms, ...rest } = body as Record<string, unknown>;
    if (wait_ms !== undefined && (typeof wait_ms !== 'number' || !Number.isInteger(wait_ms) || wait_ms < 0 || wait_ms > MAX_WAIT_MS)) {
      throw wingmanError('WGM_ERR_CLAIM_INVALID', `wait_ms must be an integer from 0 to ${MAX_WAIT_MS}`);
    }
    const waitMs = (wait_ms) ?? DEFAULT_WAIT_MS;
    if (claim_id !== undefined) {
      if (Object.keys(rest).length) throw wingmanError('WGM_ERR_CLAIM_INVALID', 'give either "claim_id" or a claim body, not both');
      if (!isUuid(claim_id)) throw wingmanError('WGM_ERR_CLAIM_INVALID', 'claim_id must be a UUID');
      return answer(reply, claim_id, waitMs, waitMs);
    }
    const claim = await claimFromBody(rest, worker);
    await claimLog.append(claim);
    // Verifying here may take as long as a test re-run; reaching the store may not (it is down, or it is not).
    return answer(reply, claim.id, waitMs, Math.max(waitMs, verifyLoop.verifyBudgetMs));
  });

  async function answer(reply: FastifyReply, claimId: string, storeWaitMs: number, waitMs: number) {
    const deadline = Date.now() + waitMs;
    if (claimLog.isUnstored(claimId)) {
      // Logged here a moment ago (or during a store outage): it reaches the store first.
      await claimLog.flushed(Math.min(storeWaitMs, Math.max(0, deadline - Date.now())), claimId);
      if (claimLog.isUnstored(claimId)) {
        return reply.status(202).send({ claim_id: claimId, status: 'pending', reason: 'the claim is on local disk; the store is not reachable yet' });
      }
    }
    let row: VerdictRow | undefined;
    try {
      const claim = await claims.get(claimId);
      if (!claim || claim.worker !== worker) throw wingmanError('WGM_ERR_CLAIM_NOT_FOUND', claimId);
      row = await verifyLoop.verifyNow(claimId, Math.max(0, deadline - Date.now()));
    } catch (err) {
      if (isWingmanError(err, 'WGM_ERR_STORE_UNAVAILABLE')) {
        return reply.status(202).send({ claim_id: claimId, status: 'pending', reason: 'the store is not reachable; the claim will be verified when it is back' });
      }
      throw err;
    }
    if (!row) return reply.status(202).send({ claim_id: claimId, status: 'pending' });
    return reply.send(verdictBody(row));
  }
}
