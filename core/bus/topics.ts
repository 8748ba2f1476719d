// The contract between processes: every bus topic and the shape of its payload, in one place. Publishers are
// type-checked against it (`bus.publish('worker.locked', …)` will not compile with a renamed field), and every
// payload is parsed against it where it enters a consumer (from Redis, or from the in-process log), so a consumer
// never reads a field the publisher did not send. Unknown extra fields pass through untouched (a newer publisher
// during a rolling upgrade); consumers only read what the type names.
import { z } from 'zod';
import { VERDICTS } from '../claims/claim-types.js';
import { OWNED_KINDS } from '../ownership/ownership.js';

const text = z.string();
const nullableText = z.string().nullable();

const TOPIC_SCHEMAS = {
  'gate.decided': z.object({ instruction_id: text, worker: text, decision: text, score: z.number(), rules: z.array(text) }),
  'claim.logged': z.object({ claim_id: text, worker: nullableText, type: nullableText }),
  'claim.verified': z.object({
    claim_id: text,
    worker: text,
    verdict: z.enum(VERDICTS),
    type: text.optional(),
    verdict_id: text.optional(),
  }),
  'approval.requested': z.object({ id: text, worker: text, status: text }),
  'approval.decided': z.object({ id: text, worker: text, status: text }),
  // a two-person approval got its first approver (still pending): only screens care
  'approval.updated': z.object({ id: text, worker: text, status: text }),
  'docker.executed': z.object({ id: text, worker: text, rule: text, decision: text, status: z.number().nullable() }),
  'worker.locked': z.object({ worker: text, reason: text, by: text, claim_id: nullableText.optional() }),
  'worker.unlocked': z.object({ worker: text, by: text, why: text }),
  'worker.heartbeat': z.object({ worker: text, container: nullableText, at: text }),
  'worker.added': z.object({ worker: text }),
  'validation.decided': z.object({ validation_id: text, worker: nullableText, decision: text, approval_id: nullableText }),
  // an object changed hands (created, adopted, removed): proxies drop what they cached about it
  'ownership.changed': z.object({ kind: z.enum(OWNED_KINDS), id: text }),
  // Telegram: a row was added to the outbox (wakes the sender of every control process)
  'telegram.outbox': z.object({}),
} as const;

export type Topic = keyof typeof TOPIC_SCHEMAS;
/** topic → payload type */
export type Topics = { [K in Topic]: z.infer<(typeof TOPIC_SCHEMAS)[K]> };

export const TOPICS = Object.keys(TOPIC_SCHEMAS) as Topic[];

const LOOSE = Object.fromEntries(Object.entries(TOPIC_SCHEMAS).map(([t, s]) => [t, s.loose()])) as unknown as {
  [K in Topic]: z.ZodType<Topics[K]>;
};

export function isTopic(t: string): t is Topic {
  return Object.hasOwn(TOPIC_SCHEMAS, t);
}

/** A payload as it arrived, checked against its topic's shape: the payload, or why it does not fit. */
export function parseTopicPayload<T extends Topic>(topic: T, raw: unknown): { ok: true; data: Topics[T] } | { ok: false; error: string } {
  const r = LOOSE[topic].safeParse(raw);
  return r.success ? { ok: true, data: r.data } : { ok: false, error: z.prettifyError(r.error).slice(0, 500) };
}
