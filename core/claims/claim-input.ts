// Turns a /log_claim (or /verify) body into the claim record that is spooled and stored:
//   structured  {type, ...params, instruction_id?}        e.g. {"type":"file_created","path":"dist/app.js"}
//   free text   {text, instruction_id?}                   e.g. {"text":"created dist/app.js and all tests pass"}
// The worker is the sidecar's own, never a field of the body (a body naming one is refused). Secrets are redacted
// before anything is kept: in the text, and in parameters (a parameter that held a secret makes its claim
// unverifiable, since what was claimed is no longer known; argv is the exception: /executed redacts argv the same
// way, so redacted argv still compare equal).
import { randomUUID } from 'node:crypto';
import { wingmanError } from '../errors.js';
import { isUuid } from '../instructions/instructions.js';
import { redactWithSpans, scanSecrets } from '../secrets/index.js';
import { CLAIM_TYPES, isClaimType, validateParams, type StructuredClaim } from './claim-types.js';
import type { NewClaim } from './claims.js';
import { MAX_CLAIM_TEXT, parseClaimText } from './parse-claim-text.js';
import { asText } from '../util/as-text.js';

function invalid(detail: string): Error {
  return wingmanError('WGM_ERR_CLAIM_INVALID', detail);
}

/**
 * Redact several strings with ONE full scan (secretlint + our patterns) of their concatenation, then map the findings
 * back to each string: a claim costs one scan however many fields it has. `changed[i]` tells whether string i held
 * a secret. Deterministic for the same list, which is what lets /executed and command_executed claims compare argv.
 */
export async function redactStrings(strings: readonly string[]): Promise<{ out: string[]; changed: boolean[] }> {
  const joined = strings.join('\n');
  const findings = joined.length ? await scanSecrets(joined) : [];
  if (findings.length === 0) return { out: [...strings], changed: strings.map(() => false) };
  const out: string[] = [];
  const changed: boolean[] = [];
  let offset = 0;
  for (const str of strings) {
    const end = offset + str.length;
    const mine = findings
      .filter((f) => f.start < end && f.end > offset)
      .map((f) => ({ kind: f.kind, start: Math.max(f.start, offset) - offset, end: Math.min(f.end, end) - offset }));
    out.push(mine.length ? redactWithSpans(str, mine).text : str);
    changed.push(mine.length > 0);
    offset = end + 1;
  }
  return { out, changed };
}

/** Redact argv elements (the same function /executed applies before it records argv). */
export async function redactArgv(argv: readonly string[]): Promise<string[]> {
  return (await redactStrings(argv)).out;
}

/**
 * Redact the string parameters of structured parts and the extra strings (raw text …) with one scan. A part whose
 * parameter held a secret is marked `redacted`: what it claims is no longer known (argv excepted, see above).
 */
async function redactClaim(
  parts: StructuredClaim[],
  extra: string[],
): Promise<{ parts: (StructuredClaim & { redacted?: boolean })[]; extra: string[] }> {
  const strings: string[] = [...extra];
  const slots: { part: number; key: string }[] = [];
  parts.forEach((c, part) => {
    for (const [key, v] of Object.entries(c.params)) {
      if (typeof v === 'string') {
        slots.push({ part, key });
        strings.push(v);
      }
    }
  });
  const argvOut = new Map<number, string[]>();
  // argv keeps its own scan (redactArgv) so the result matches what /executed stores for the same argv.
  for (const [i, c] of parts.entries()) if (Array.isArray(c.params.argv)) argvOut.set(i, await redactArgv(c.params.argv as string[]));
  const { out, changed } = await redactStrings(strings);
  const result = parts.map((c): StructuredClaim & { redacted?: boolean } => ({ ...c, params: { ...c.params } }));
  slots.forEach((slot, i) => {
    const k = i + extra.length;
    result[slot.part].params[slot.key] = out[k];
    if (changed[k]) result[slot.part].redacted = true;
  });
  for (const [i, argv] of argvOut) result[i].params.argv = argv;
  return { parts: result, extra: out.slice(0, extra.length) };
}

/** Stored params of one structured part: its params, plus `negated` / `redacted` markers when set. */
function storedParams(c: StructuredClaim & { redacted?: boolean }): Record<string, unknown> {
  return { ...c.params, ...(c.negated ? { negated: true } : {}), ...(c.redacted ? { redacted: true } : {}) };
}

export async function claimFromBody(body: unknown, worker: string, now: Date = new Date()): Promise<NewClaim> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('expected a JSON object: {"type": "<claim type>", ...params} or {"text": "..."}');
  }
  // With "type", every other field is a parameter (file_contains takes a "text"); without it, "text" is free text.
  const { type, instruction_id, ...rest } = body as Record<string, unknown>;
  const text = type === undefined ? rest.text : undefined;
  if (type === undefined) delete rest.text;
  if ('worker' in rest) throw invalid('"worker" is not accepted: the claim is logged for this sidecar\'s worker');
  if (instruction_id !== undefined && instruction_id !== null && !isUuid(instruction_id)) {
    throw invalid('instruction_id must be a UUID (the instruction_id /check returned)');
  }
  const base = {
    id: randomUUID(),
    worker,
    instruction_id: instruction_id ?? null,
    logged_at: now.toISOString(),
  };
  if (text !== undefined) {
    if (typeof text !== 'string' || text.trim() === '') throw invalid('"text" must be a non-empty string');
    if (text.length > MAX_CLAIM_TEXT) throw invalid(`"text" is longer than ${MAX_CLAIM_TEXT} characters`);
    const extra = Object.keys(rest);
    if (extra.length) throw invalid(`unexpected field(s) with "text": ${extra.slice(0, 5).join(', ').slice(0, 200)}`);
    const parsed = parseClaimText(text);
    const red = await redactClaim(parsed.claims, [text, ...parsed.unverifiable.map((u) => u.text), ...parsed.unchecked]);
    const parts = red.parts;
    const raw = red.extra[0];
    const shownUnverifiable = parsed.unverifiable.map((u, i) => ({ text: red.extra[1 + i], reason: u.reason }));
    const shownUnchecked = red.extra.slice(1 + parsed.unverifiable.length);
    if (parts.length === 1 && shownUnverifiable.length === 0 && shownUnchecked.length === 0) {
      return { ...base, type: parts[0].type, params: storedParams(parts[0]), source: 'text', raw_text: raw };
    }
    if (parts.length === 0 && shownUnverifiable.length === 0) {
      return {
        ...base,
        type: 'free_text',
        params: { reason: 'no checkable statement (file, process, port, container, command or tests) found in the text', unchecked: shownUnchecked },
        source: 'text',
        raw_text: raw,
      };
    }
    return {
      ...base,
      type: 'compound',
      params: {
        parts: parts.map((p) => ({ type: p.type, params: storedParams(p) })),
        unverifiable: shownUnverifiable,
        unchecked: shownUnchecked,
      },
      source: 'text',
      raw_text: raw,
    };
  }
  if (type === undefined) throw invalid('expected "type" (one of ' + CLAIM_TYPES.join(', ') + ') or "text"');
  if (!isClaimType(type)) {
    throw invalid(`unknown claim type ${JSON.stringify(asText(type).slice(0, 40))}; expected one of ${CLAIM_TYPES.join(', ')}`);
  }
  const v = validateParams(type, rest);
  if (!v.ok) throw invalid(v.problems.join('; '));
  const part = (await redactClaim([{ type, params: v.params }], [])).parts[0];
  return { ...base, type, params: storedParams(part), source: 'structured', raw_text: null };
}
