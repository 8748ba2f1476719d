// The exact operation an approval is bound to, and its hash. Everything that changes what Docker will do is in it:
// worker, method, route template, resolved object ids, API version, query (in order: Go reads the first value)
// and the canonical body. Two requests with the same hash make the daemon do the same thing.
import { createHash } from 'node:crypto';
import { GoNumber, isObj, type JVal } from '../policy/go-json.js';

export interface Operation {
  worker: string;
  method: string;
  route: string;
  rule: string;
  /** route params after resolution: container/network names replaced by full ids */
  params: Record<string, string>;
  version: string | undefined;
  query: Array<[string, string]>;
  body: JVal | undefined;
  /** headers dockerd acts on (registry credentials and config): present only when sent */
  headers?: Record<string, string>;
  /** a body that is not JSON (a tar, an archive): bound by its digest */
  rawBody?: { sha256: string; bytes: number };
}

/** Request headers dockerd reads to decide what a call does; an approval is bound to their values. */
export const OPERATIVE_HEADERS = ['x-registry-auth', 'x-registry-config'] as const;

export function stableJson(v: unknown): string {
  if (v === undefined) return 'null';
  if (v === null || typeof v === 'boolean' || typeof v === 'number') return JSON.stringify(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v instanceof GoNumber) return v.raw;
  if (Array.isArray(v)) return '[' + v.map(stableJson).join(',') + ']';
  const o = v as Record<string, unknown>;
  return '{' + Object.keys(o).sort().map((k) => JSON.stringify(k) + ':' + stableJson(o[k])).join(',') + '}';
}

export function isLegacyVersion(v: string | undefined): boolean {
  if (!v) return false;
  const [maj, min] = v.split('.').map((x) => Number(x));
  return maj === 1 && (min ?? 0) < 24;
}

export function opHash(op: Operation): string {
  const canonical = stableJson({
    worker: op.worker,
    method: op.method,
    route: op.route,
    rule: op.rule,
    params: op.params,
    // The API version only changes what a call does below 1.24 (HostConfig accepted at start); above that the
    // same call is the same operation whichever version prefix the client picked.
    version: isLegacyVersion(op.version) ? op.version : null,
    query: op.query,
    body: op.body ?? null,
    // Absent keys keep the hash of calls without them unchanged.
    ...(op.headers && Object.keys(op.headers).length ? { headers: op.headers } : {}),
    ...(op.rawBody ? { raw_body: op.rawBody } : {}),
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/** A copy safe to store and show: environment values and anything secret-looking in the body are redacted. */
export function redactedOp(op: Operation): Record<string, unknown> {
  const redact = (v: JVal | undefined, key = ''): unknown => {
    if (v === undefined || v === null) return null;
    if (v instanceof GoNumber) return v.raw;
    if (Array.isArray(v)) {
      if (key.toUpperCase() === 'ENV') return v.map((e) => (typeof e === 'string' ? e.replace(/=.*/s, '=[redacted]') : '[redacted]'));
      return v.map((x) => redact(x, key));
    }
    if (isObj(v)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        out[k] = /pass|secret|token|auth|key/i.test(k) && typeof v[k] === 'string' ? '[redacted]' : redact(v[k], k);
      }
      return out;
    }
    return v;
  };
  return {
    worker: op.worker,
    method: op.method,
    route: op.route,
    rule: op.rule,
    params: op.params,
    version: op.version ?? null,
    query: op.query,
    body: redact(op.body),
    ...(op.headers ? { headers: Object.fromEntries(Object.keys(op.headers).map((k) => [k, '[redacted]'])) } : {}),
    ...(op.rawBody ? { raw_body: op.rawBody } : {}),
  };
}
