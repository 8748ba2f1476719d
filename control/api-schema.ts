// The control API's contract for its readers (the ops console, the CLI): the query schemas the server validates
// with (converted to JSON Schema for fastify) and the shapes it answers with. The console imports this file's
// types (type-only, so no zod reaches the browser) and values.ts's constants; the server builds its route
// schemas from the same zod objects, and test/control/console-api.test.ts parses real answers with them.
import { z } from 'zod';
import { APPROVAL_STATUSES, GATE_DECISIONS, VALIDATION_DECISIONS, VERDICTS } from './api-values.js';

const worker = z.string().min(1).max(63);
const time = z.iso.datetime({ offset: true });
const limit = z.number().int().min(1).max(200);
/** opaque keyset cursor from a previous page's `next` */
const cursor = z.string().min(3).max(200);
const search = z.string().min(1).max(200);

export const approvalsQuery = z.strictObject({
  status: z.enum(APPROVAL_STATUSES).optional(),
  worker: worker.optional(),
  limit: z.number().int().min(1).max(1000).optional(),
});

export const dockerAuditQuery = z.strictObject({
  worker: worker.optional(),
  rule: z.string().min(1).max(100).optional(),
  decision: z.string().regex(/^[a-z_]{1,40}$/).optional(),
  approval: z.uuid().optional(),
  /** kept for older clients: the same as `from` */
  since: time.optional(),
  from: time.optional(),
  to: time.optional(),
  q: search.optional(),
  limit: z.number().int().min(1).max(1000).optional(),
  cursor: cursor.optional(),
});

export const claimsQuery = z.strictObject({
  worker: worker.optional(),
  verdict: z.enum([...VERDICTS, 'PENDING']).optional(),
  from: time.optional(),
  to: time.optional(),
  q: search.optional(),
  limit: limit.optional(),
  cursor: cursor.optional(),
});

export const gateQuery = z.strictObject({
  worker: worker.optional(),
  decision: z.enum(GATE_DECISIONS).optional(),
  from: time.optional(),
  to: time.optional(),
  q: search.optional(),
  limit: limit.optional(),
  cursor: cursor.optional(),
});

export const validationsQuery = z.strictObject({
  worker: worker.optional(),
  decision: z.enum(VALIDATION_DECISIONS).optional(),
  from: time.optional(),
  to: time.optional(),
  limit: limit.optional(),
  cursor: cursor.optional(),
});

export const decisionBody = z.strictObject({ by: z.string().min(1).max(200), note: z.string().max(2000).optional() });
export const lockBody = z.strictObject({ by: z.string().min(1).max(200), why: z.string().min(1).max(2000) });

export type ApprovalsQuery = z.infer<typeof approvalsQuery>;
export type DockerAuditQuery = z.infer<typeof dockerAuditQuery>;
export type ClaimsQuery = z.infer<typeof claimsQuery>;
export type GateQuery = z.infer<typeof gateQuery>;
export type ValidationsQuery = z.infer<typeof validationsQuery>;
export type DecisionBody = z.infer<typeof decisionBody>;
export type LockBody = z.infer<typeof lockBody>;

/** A zod object as the JSON Schema fastify validates with (ajv coerces the query's strings to numbers). */
export function routeSchema(s: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  return rest;
}

// ------------------------------------------------------------------ answers (JSON: dates are ISO strings)

const iso = z.string();
const nullable = <T extends z.ZodType>(t: T) => t.nullable();

/** One line of "what this call will do", in words. */
export const effectLine = z.object({ label: z.string(), value: z.string() });

export const approvalView = z.object({
  id: z.uuid(),
  worker: z.string(),
  rule: z.string(),
  summary: z.string(),
  method: z.string(),
  route: z.string(),
  path: z.string(),
  op_hash: z.string(),
  op: z.record(z.string(), z.unknown()),
  reasons: z.array(z.string()),
  status: z.enum(APPROVAL_STATUSES),
  source: z.string(),
  required_approvals: z.number(),
  approvers: z.array(z.string()),
  requested_at: iso,
  expires_at: iso,
  decided_at: nullable(iso),
  decided_by: nullable(z.string()),
  note: nullable(z.string()),
  consumed_at: nullable(iso),
  /** the whole effect in words (control/approval-effect.ts) */
  effect: z.array(effectLine),
});

export const dockerAuditRow = z.object({
  id: z.uuid(),
  at: iso,
  worker: z.string(),
  method: z.string(),
  route: z.string(),
  path: z.string(),
  rule: z.string(),
  decision: z.string(),
  mode: z.string(),
  would: nullable(z.string()),
  approval_id: nullable(z.uuid()),
  approved_by: nullable(z.string()),
  status_code: nullable(z.number()),
  duration_ms: nullable(z.number()),
  bytes_in: z.union([z.number(), z.string()]),
  bytes_out: z.union([z.number(), z.string()]),
  reason: nullable(z.string()),
  argv: nullable(z.array(z.string())),
});

export const approvalsAnswer = z.object({ approvals: z.array(approvalView) });
export const approvalAnswer = z.object({
  approval: approvalView,
  events: z.array(z.object({ event: z.string(), actor: nullable(z.string()), at: iso, detail: z.unknown() })),
  /** the Docker calls recorded against it */
  calls: z.array(dockerAuditRow).optional(),
});
export const decisionAnswer = z.object({ approval: approvalView });

export const workerView = z.object({
  name: z.string(),
  created_at: nullable(iso),
  locked: z.boolean(),
  locked_reason: nullable(z.string()),
  locked_at: nullable(iso),
  locked_by: nullable(z.string()),
  container: nullable(z.string()).optional(),
  last_heartbeat_at: nullable(iso).optional(),
  pending_approvals: z.number().optional(),
  objects: z.number().optional(),
  socket: z.string().optional(),
});
export const workersAnswer = z.object({ workers: z.array(workerView) });

const page = <T extends z.ZodType>(key: string, row: T) => z.object({ [key]: z.array(row), next: nullable(z.string()) });
export const dockerAuditAnswer = page('audit', dockerAuditRow);

export const claimRow = z.object({
  id: z.uuid(),
  worker: z.string(),
  instruction_id: nullable(z.string()),
  type: z.string(),
  params: z.unknown(),
  source: z.string(),
  raw_text: nullable(z.string()),
  logged_at: iso,
  verdict: nullable(z.enum(VERDICTS)),
  reason: nullable(z.string()),
  evidence: z.unknown(),
  verifier: nullable(z.string()),
  verified_at: nullable(iso),
});
export const claimsAnswer = page('claims', claimRow);

export const gateRow = z.object({
  id: z.uuid(),
  worker: z.string(),
  decision: z.enum(GATE_DECISIONS),
  score: z.number(),
  missing_sections: z.unknown(),
  weak_sections: z.unknown(),
  violations: z.unknown(),
  instruction: z.string(),
  decided_at: iso,
});
export const gateAnswer = page('decisions', gateRow);

export const validationRow = z.object({
  id: z.uuid(),
  worker: nullable(z.string()),
  source: z.string(),
  decision: z.enum(VALIDATION_DECISIONS),
  score: z.number(),
  blocking_issues: z.unknown(),
  findings: z.array(z.unknown()),
  files: z.unknown(),
  approval_id: nullable(z.uuid()),
  created_at: iso,
});
export const validationsAnswer = page('validations', validationRow);

export type EffectLine = z.infer<typeof effectLine>;
export type ApprovalView = z.infer<typeof approvalView>;
export type ApprovalsAnswer = z.infer<typeof approvalsAnswer>;
export type ApprovalAnswer = z.infer<typeof approvalAnswer>;
export type DecisionAnswer = z.infer<typeof decisionAnswer>;
export type WorkerView = z.infer<typeof workerView>;
export type WorkersAnswer = z.infer<typeof workersAnswer>;
export type DockerAuditRow = z.infer<typeof dockerAuditRow>;
export type DockerAuditAnswer = { audit: DockerAuditRow[]; next: string | null };
export type ClaimRow = z.infer<typeof claimRow>;
export type ClaimsAnswer = { claims: ClaimRow[]; next: string | null };
export type GateRow = z.infer<typeof gateRow>;
export type GateAnswer = { decisions: GateRow[]; next: string | null };
export type ValidationRow = z.infer<typeof validationRow>;
export type ValidationsAnswer = { validations: ValidationRow[]; next: string | null };

/** What GET /events sends: the bus only says what changed; readers fetch the thing itself. */
export interface StreamEvent {
  topic: 'approval.requested' | 'approval.decided' | 'approval.updated' | 'worker.locked' | 'worker.unlocked' | 'worker.heartbeat' | 'worker.added' | 'docker.executed' | 'claim.verified' | 'gate.decided' | 'validation.decided';
  id?: string;
  worker?: string;
  status?: string;
}
