// Shell-wrapper grants: one human decision for a whole docker command line, spent by the proxy on exactly the
// Docker API calls that command makes. The decision lives in an ordinary approval (source 'shell', so Telegram,
// the CLI and the expiry sweeper treat it like any other); the grant row holds the bearer token's hash and the
// scope (grant-scope.ts). A call spends one use of its rule, and one of its target when the command named
// targets; a call outside the scope is refused, never held. Usable only while the approval is approved, for
// ttl_s after the decision, until every use is spent or the wrapper closes it.
import { createHash, randomBytes } from 'node:crypto';
import type { Decision } from '../policy/decide.js';
import { cleanHostPath, referencedHostPaths } from '../policy/escalation.js';
import type { JVal } from '../policy/go-json.js';
import type { Db, Queryable } from '../store/db.js';
import { approvalEvent } from './approval-event.js';
import { stableJson } from './operation.js';
import type { Approval, Approvals, TokenCheck } from './approvals.js';
import type { GrantScope } from './grant-scope.js';

export const GRANT_PREFIX = 'wgg_';
export const isGrantToken = (token: string): boolean => token.startsWith(GRANT_PREFIX);
const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** What the proxy knows about one call, for checking it against a grant. */
export interface GrantCall {
  rule: string;
  /** the resolved id the call acts on (image id for images), when the route names an object */
  target?: string;
  escalations: string[];
  hostPaths: string[];
}

/** Describe a held call for Grants.consume from what the proxy has already computed. */
export function grantCall(decision: Decision, params: Record<string, string>, body: JVal | undefined): GrantCall {
  const target = params.image_id ?? Object.values(params)[0];
  return {
    rule: decision.rule.id,
    ...(target !== undefined && target !== '' ? { target } : {}),
    escalations: [...new Set(decision.escalations.map((e) => e.kind))],
    hostPaths: referencedHostPaths(decision.rule.inspect, body).paths.map(cleanHostPath),
  };
}

export interface GrantRequest {
  worker: string;
  shellRule: string;
  /** the command line as shown to people (secrets redacted) */
  commandLine: string;
  /** the command words: `compose down` */
  route: string;
  summary: string;
  reasons: string[];
  scope: GrantScope;
  /** how long an approver has to decide */
  approvalTtlS: number;
  /** how long the grant is usable after the decision */
  grantTtlS: number;
  requiredApprovals: number;
}

export interface GrantView {
  approval: Approval;
  scope: GrantScope;
  ttl_s: number;
  closed_at: Date | null;
}

const APPROVAL_COLS = `a.id, a.worker, a.rule, a.summary, a.method, a.route, a.path, a.op_hash, a.op, a.reasons, a.status,
  a.source, a.required_approvals, a.approvers, a.requested_at, a.expires_at, a.decided_at, a.decided_by, a.note, a.consumed_at`;

type Locked = Approval & { g_worker: string; scope: GrantScope; ttl_s: number; closed_at: Date | null; grant_expired: boolean };

export class Grants {
  constructor(
    private readonly db: Db,
    private readonly approvals: Approvals,
  ) {}


  /** Ask for one approval for a whole command; the token (shown once) is usable only once approved. */
  async request(req: GrantRequest): Promise<{ approval: Approval; token: string }> {
    const token = `${GRANT_PREFIX}${randomBytes(24).toString('base64url')}`;
    const op = { kind: 'shell', worker: req.worker, shell_rule: req.shellRule, command: req.commandLine, scope: req.scope, grant_ttl_s: req.grantTtlS };
    const opHash = createHash('sha256').update(stableJson(op)).digest('hex');
    const rules = Object.keys(req.scope);
    const { approval } = await this.approvals.request({
      worker: req.worker,
      rule: rules.join('+').slice(0, 200),
      summary: req.summary,
      method: 'SHELL',
      route: `docker ${req.route}`.slice(0, 200),
      path: req.commandLine.slice(0, 1024),
      opHash,
      op,
      reasons: req.reasons,
      ttlS: req.approvalTtlS,
      source: 'shell',
      requiredApprovals: req.requiredApprovals,
    });
    try {
      await this.db.query(`INSERT INTO grants (approval_id, worker, token_hash, shell_rule, scope, ttl_s) VALUES ($1, $2, $3, $4, $5, $6)`, [
        approval.id,
        req.worker,
        hashToken(token),
        req.shellRule,
        JSON.stringify(req.scope),
        req.grantTtlS,
      ]);
    } catch (err) {
      // An approval without its grant could be approved but never spent: withdraw it.
      await this.approvals.cancel(approval.id, 'grant could not be stored').catch(() => undefined);
      throw err;
    }
    return { approval, token };
  }

  /** A worker's own grant (undefined for another worker's: ids are not secrets, but scopes are theirs). */
  async get(id: string, worker: string): Promise<GrantView | undefined> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
    const { rows } = await this.db.query<Approval & { scope: GrantScope; ttl_s: number; closed_at: Date | null }>(
      `SELECT ${APPROVAL_COLS}, g.scope, g.ttl_s, g.closed_at FROM grants g JOIN approvals a ON a.id = g.approval_id
        WHERE g.approval_id = $1 AND g.worker = $2`,
      [id, worker],
    );
    const r = rows[0];
    if (!r) return undefined;
    const { scope, ttl_s, closed_at, ...approval } = r;
    return { approval: approval, scope, ttl_s, closed_at };
  }

  async pendingCount(worker: string): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM grants g JOIN approvals a ON a.id = g.approval_id WHERE g.worker = $1 AND a.status = 'pending'`,
      [worker],
    );
    return Number(rows[0]?.n ?? 0);
  }

  private async lock(tx: Queryable, where: string, arg: string): Promise<Locked | undefined> {
    const { rows } = await tx.query<Locked>(
      `SELECT ${APPROVAL_COLS}, g.worker AS g_worker, g.scope, g.ttl_s, g.closed_at,
              (a.decided_at IS NOT NULL AND a.decided_at + make_interval(secs => g.ttl_s) <= now()) AS grant_expired
         FROM grants g JOIN approvals a ON a.id = g.approval_id
        WHERE ${where} = $1 FOR UPDATE OF g, a`,
      [arg],
    );
    return rows[0];
  }

  /**
   * Spend one use of a grant on one held call. Refused (with the approval event recorded) when the token is
   * unknown, spent or closed, another worker's, not (or no longer) approved, past its time, or when the call is
   * outside the scope: another rule, another target, an escalation or host path the command did not name.
   */
  async consume(token: string, worker: string, call: GrantCall): Promise<TokenCheck> {
    return this.db.transaction(async (tx) => {
      const g = await this.lock(tx, 'g.token_hash', hashToken(token));
      if (!g) return { ok: false, code: 'WGM_ERR_APPROVAL_NOT_FOUND' } as const;
      const { g_worker: _w, scope, ttl_s: _t, closed_at, grant_expired, ...approval } = g;
      const refuse = async (code: Exclude<TokenCheck, { ok: true }>['code'], why: string) => {
        await approvalEvent(tx, g.id, 'refused', worker, g.op_hash, { via: 'grant', code, rule: call.rule, why });
        return { ok: false, code, approval: approval } as const;
      };
      if (g.status === 'consumed' || closed_at) return refuse('WGM_ERR_APPROVAL_USED', 'grant spent or closed');
      if (g.g_worker !== worker) return refuse('WGM_ERR_APPROVAL_MISMATCH', 'another worker');
      if (g.status !== 'approved') return refuse('WGM_ERR_APPROVAL_NOT_PENDING', `approval is ${g.status}`);
      if (grant_expired) return refuse('WGM_ERR_APPROVAL_EXPIRED', 'grant past its time');
      const r = scope[call.rule];
      if (!r) return refuse('WGM_ERR_APPROVAL_MISMATCH', `rule ${call.rule} is not covered`);
      if (r.uses <= 0) return refuse('WGM_ERR_APPROVAL_USED', `every ${call.rule} use is spent`);
      if (r.targets) {
        if (call.target === undefined || !r.targets.includes(call.target)) return refuse('WGM_ERR_APPROVAL_MISMATCH', 'another target');
      }
      const extra = call.escalations.filter((k) => !(r.escalations ?? []).includes(k));
      if (extra.length) return refuse('WGM_ERR_APPROVAL_MISMATCH', `escalations not approved: ${extra.join(', ')}`);
      if (r.host_paths) {
        const paths = r.host_paths;
        const other = call.hostPaths.filter((p) => !paths.includes(p));
        if (other.length) return refuse('WGM_ERR_APPROVAL_MISMATCH', 'host paths not approved');
      }

      r.uses -= 1;
      if (r.targets) r.targets.splice(r.targets.indexOf(call.target!), 1);
      const spent = Object.values(scope).every((x) => x.uses <= 0);
      await tx.query(
        `UPDATE grants SET scope = $2, first_used_at = COALESCE(first_used_at, now()), closed_at = CASE WHEN $3 THEN now() ELSE closed_at END
          WHERE approval_id = $1`,
        [g.id, JSON.stringify(scope), spent],
      );
      let out = approval;
      if (spent) {
        const { rows } = await tx.query<Approval>(
          `UPDATE approvals a SET status = 'consumed', consumed_at = now() WHERE id = $1 RETURNING ${APPROVAL_COLS}`,
          [g.id],
        );
        out = rows[0]!;
      }
      await approvalEvent(tx, g.id, 'consumed', worker, g.op_hash, { via: 'grant', rule: call.rule, target: call.target ?? null, uses_left: r.uses, spent });
      return { ok: true, approval: out } as const;
    });
  }

  /**
   * The wrapper is done (or gave up): a pending request is cancelled (nobody should approve what will not run),
   * an approved grant's unused calls are revoked. Another worker's grant is not found.
   */
  async close(id: string, worker: string): Promise<Approval | undefined> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
    const result = await this.db.transaction(async (tx) => {
      const g = await this.lock(tx, 'g.approval_id', id);
      if (!g || g.g_worker !== worker) return { found: false as const };
      if (g.status === 'pending') return { found: true as const, cancel: true };
      if (g.status === 'approved' && !g.closed_at) {
        await tx.query(`UPDATE grants SET closed_at = now() WHERE approval_id = $1`, [id]);
        await tx.query(`UPDATE approvals SET status = 'consumed', consumed_at = now() WHERE id = $1`, [id]);
        await approvalEvent(tx, id, 'closed', worker, g.op_hash, { via: 'grant', unused: g.scope });
      }
      return { found: true as const, cancel: false };
    });
    if (!result.found) return undefined;
    if (result.cancel) await this.approvals.cancel(id, 'the shell wrapper withdrew the request');
    return this.approvals.get(id);
  }
}
