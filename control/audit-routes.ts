// Ops read the record: the Docker execution audit (filters, text search, keyset pages, each row's approval), the
// claims log with verdicts and evidence, gate decisions, output validations. Pages are keyset pages on (time, id)
// so the hundredth page costs what the first does (migrations/010_console_audit_indexes.sql); `next` is an opaque
// cursor, or null on the last page.
import type { FastifyInstance } from 'fastify';
import { wingmanError } from '../core/errors.js';
import type { Db } from '../core/store/db.js';
import { claimsQuery, dockerAuditQuery, gateQuery, routeSchema, validationsQuery, type ClaimsQuery, type DockerAuditQuery, type GateQuery, type ValidationsQuery } from './api-schema.js';

const PAGE = 50;
/** The proxy names the approval in a refusal's reason ("… (approval <uuid>)"): rows refused after a decision link to it. */
const REASON_APPROVAL = `substring(reason from '\\(approval ([0-9a-f-]{36})\\)')`;

interface Cursor {
  at: string;
  id: string;
}

function decodeCursor(c: string | undefined): Cursor | undefined {
  if (c === undefined) return undefined;
  try {
    const [at, id] = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof at === 'string' && /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(at) && typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id)) return { at, id };
  } catch {
    /* falls through */
  }
  throw wingmanError('WGM_ERR_API_BAD_REQUEST', 'cursor is not one this API gave out; start from the first page');
}

const encodeCursor = (at: string, id: string) => Buffer.from(JSON.stringify([at, id])).toString('base64url');

/** `%`, `_` and `\` in a search are literal characters, not patterns. */
const likeArg = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** WHERE clauses and their parameters, built in order. */
class Where {
  readonly parts: string[] = [];
  readonly params: unknown[] = [];
  add(sql: (p: (v: unknown) => string) => string): void {
    this.parts.push(sql((v) => {
      this.params.push(v);
      return `$${this.params.length}`;
    }));
  }
  get sql(): string {
    return this.parts.length ? `WHERE ${this.parts.join(' AND ')}` : '';
  }
}

/**
 * One page of rows ordered by (`timeCol`, id) newest first. The time travels in the cursor as the store printed
 * it (microseconds, UTC), so no row is skipped or repeated between pages.
 */
async function pageOf<T extends Record<string, unknown>>(
  db: Db,
  sql: { select: string; from: string; timeCol: string; idCol: string },
  where: Where,
  cursor: string | undefined,
  limit: number | undefined,
): Promise<{ rows: T[]; next: string | null }> {
  const c = decodeCursor(cursor);
  if (c) where.add((p) => `(${sql.timeCol}, ${sql.idCol}) < (${p(c.at)}::timestamptz, ${p(c.id)}::uuid)`);
  const n = Math.min(limit ?? PAGE, 1000);
  const { rows } = await db.query<T & { _at: string }>(
    `SELECT ${sql.select}, to_char(${sql.timeCol} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS _at
       FROM ${sql.from} ${where.sql}
      ORDER BY ${sql.timeCol} DESC, ${sql.idCol} DESC LIMIT ${n + 1}`,
    where.params,
  );
  const more = rows.length > n;
  const page = rows.slice(0, n);
  const last = page[page.length - 1];
  const next = more && last ? encodeCursor(last._at, String(last.id)) : null;
  return { rows: page.map(({ _at, ...r }) => r as unknown as T), next };
}

function timeRange(w: Where, col: string, q: { from?: string; to?: string }): void {
  if (q.from) w.add((p) => `${col} >= ${p(q.from)}::timestamptz`);
  if (q.to) w.add((p) => `${col} < ${p(q.to)}::timestamptz`);
}

export async function dockerAuditPage(db: Db, q: DockerAuditQuery): Promise<{ audit: Record<string, unknown>[]; next: string | null }> {
  const w = new Where();
  if (q.worker) w.add((p) => `worker = ${p(q.worker)}`);
  if (q.rule) w.add((p) => `rule = ${p(q.rule)}`);
  if (q.decision) w.add((p) => `decision = ${p(q.decision)}`);
  if (q.approval) w.add((p) => `(approval_id = ${p(q.approval)}::uuid OR ${REASON_APPROVAL} = ${p(q.approval)})`);
  timeRange(w, 'at', { from: q.from ?? q.since, to: q.to });
  // One lowercase column (migration 010) with a trigram index where the store has pg_trgm.
  if (q.q) w.add((p) => `search LIKE ${p(likeArg(q.q!.toLowerCase()))}`);
  const { rows, next } = await pageOf(
    db,
    {
      select: `id, at, worker, method, route, path, rule, decision, mode, would,
               COALESCE(approval_id, ${REASON_APPROVAL}::uuid) AS approval_id, approved_by, status_code, duration_ms,
               bytes_in, bytes_out, reason, argv`,
      from: 'docker_audit',
      timeCol: 'at',
      idCol: 'id',
    },
    w,
    q.cursor,
    q.limit,
  );
  return { audit: rows, next };
}

export function registerAuditRoutes(server: FastifyInstance, deps: { db: Db }): void {
  const { db } = deps;

  server.get<{ Querystring: DockerAuditQuery }>('/audit/docker', { schema: { querystring: routeSchema(dockerAuditQuery) } }, async (req) =>
    dockerAuditPage(db, req.query),
  );

  server.get<{ Querystring: ClaimsQuery }>('/audit/claims', { schema: { querystring: routeSchema(claimsQuery) } }, async (req) => {
    const q = req.query;
    const w = new Where();
    if (q.worker) w.add((p) => `c.worker = ${p(q.worker)}`);
    if (q.verdict === 'PENDING') w.add(() => 'v.verdict IS NULL');
    else if (q.verdict) w.add((p) => `v.verdict = ${p(q.verdict)}`);
    timeRange(w, 'c.logged_at', q);
    if (q.q) {
      w.add((p) => {
        const s = p(likeArg(q.q!));
        return `(c.type ILIKE ${s} OR c.params::text ILIKE ${s} OR c.raw_text ILIKE ${s} OR v.reason ILIKE ${s})`;
      });
    }
    const { rows, next } = await pageOf(
      db,
      {
        select: `c.id, c.worker, c.instruction_id, c.type, c.params, c.source, c.raw_text, c.logged_at,
                 v.verdict, v.reason, v.evidence, v.verifier, v.created_at AS verified_at`,
        from: 'claims c LEFT JOIN verdicts v ON v.claim_id = c.id',
        timeCol: 'c.logged_at',
        idCol: 'c.id',
      },
      w,
      q.cursor,
      q.limit,
    );
    return { claims: rows, next };
  });

  server.get<{ Querystring: GateQuery }>('/audit/gate', { schema: { querystring: routeSchema(gateQuery) } }, async (req) => {
    const q = req.query;
    const w = new Where();
    if (q.worker) w.add((p) => `worker = ${p(q.worker)}`);
    if (q.decision) w.add((p) => `decision = ${p(q.decision)}`);
    timeRange(w, 'decided_at', q);
    if (q.q) w.add((p) => `(instruction ILIKE ${p(likeArg(q.q!))} OR violations::text ILIKE ${p(likeArg(q.q!))})`);
    const { rows, next } = await pageOf(
      db,
      {
        select: 'id, worker, decision, score, missing_sections, weak_sections, violations, instruction, decided_at',
        from: 'instructions',
        timeCol: 'decided_at',
        idCol: 'id',
      },
      w,
      q.cursor,
      q.limit,
    );
    return { decisions: rows, next };
  });

  server.get<{ Querystring: ValidationsQuery }>('/audit/validations', { schema: { querystring: routeSchema(validationsQuery) } }, async (req) => {
    const q = req.query;
    const w = new Where();
    if (q.worker) w.add((p) => `worker = ${p(q.worker)}`);
    if (q.decision) w.add((p) => `decision = ${p(q.decision)}`);
    timeRange(w, 'created_at', q);
    const { rows, next } = await pageOf(
      db,
      {
        select: 'id, worker, source, decision, score, blocking_issues, findings, files, approval_id, created_at',
        from: 'output_validations',
        timeCol: 'created_at',
        idCol: 'id',
      },
      w,
      q.cursor,
      q.limit,
    );
    return { validations: rows, next };
  });
}
