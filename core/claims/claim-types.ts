// The structured claim types a worker may log, with the parameters each takes. One table: the HTTP surface, the
// free-text parser and the verifiers all use it.
import { z } from 'zod';

export const CLAIM_TYPES = [
  'file_created',
  'file_modified',
  'file_deleted',
  'file_contains',
  'process_running',
  'port_listening',
  'container_running',
  'command_executed',
  'tests_passed',
] as const;
export type ClaimType = (typeof CLAIM_TYPES)[number];

/** What is stored in claims.type: a structured type, several parsed from one text, or text nothing was parsed from. */
export type StoredClaimType = ClaimType | 'compound' | 'free_text';

export const VERDICTS = ['TRUE', 'FALSE', 'UNVERIFIABLE'] as const;
export type VerdictValue = (typeof VERDICTS)[number];

export interface StructuredClaim {
  type: ClaimType;
  params: Record<string, unknown>;
  /** from free text such as "I did not create x": the verdict of the positive claim is inverted */
  negated?: boolean;
}

const path = z
  .string()
  .min(1)
  .max(4096)
  .refine((s) => !s.includes('\u0000'), 'must not contain NUL');
const sha256 = z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex characters').transform((s) => s.toLowerCase());

export const MAX_CONTAINS_TEXT = 10_000;
export const MAX_REGEX = 1_000;

const PARAMS = {
  file_created: z.strictObject({ path, sha256: sha256.optional() }),
  file_modified: z.strictObject({ path, sha256: sha256.optional() }),
  file_deleted: z.strictObject({ path }),
  file_contains: z
    .strictObject({
      path,
      text: z.string().min(1).max(MAX_CONTAINS_TEXT).optional(),
      regex: z
        .string()
        .min(1)
        .max(MAX_REGEX)
        .refine((s) => {
          try {
            new RegExp(s, 'u');
            return true;
          } catch {
            return false;
          }
        }, 'not a valid regular expression')
        .optional(),
    })
    .refine((p) => (p.text === undefined) !== (p.regex === undefined), 'give exactly one of text or regex'),
  process_running: z.strictObject({ name: z.string().min(1).max(256) }),
  port_listening: z.strictObject({ port: z.number().int().min(1).max(65535) }),
  container_running: z.strictObject({
    name: z
      .string()
      .min(1)
      .max(256)
      .regex(/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'expected a container name or id'),
  }),
  command_executed: z.strictObject({
    argv: z.array(z.string().max(8192)).min(1).max(256),
    exit_code: z.number().int().min(0).max(255).optional(),
  }),
  tests_passed: z.strictObject({ total: z.number().int().min(0).max(10_000_000).optional() }),
} satisfies Record<ClaimType, z.ZodType>;

export function isClaimType(s: unknown): s is ClaimType {
  return typeof s === 'string' && (CLAIM_TYPES as readonly string[]).includes(s);
}

/** Validate a structured claim's parameters. Returns the normalised params or the problems, one line each. */
export function validateParams(
  type: ClaimType,
  params: Record<string, unknown>,
): { ok: true; params: Record<string, unknown> } | { ok: false; problems: string[] } {
  const r = PARAMS[type].safeParse(params);
  if (r.success) return { ok: true, params: r.data };
  return {
    ok: false,
    problems: r.error.issues.map((i) => {
      const where = i.path.length ? i.path.join('.') : type;
      // Zod's message for unknown keys names them; keep them (they are the client's own field names, bounded).
      return `${where}: ${i.message}`.slice(0, 300);
    }),
  };
}
