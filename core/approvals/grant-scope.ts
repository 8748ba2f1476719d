// What one approval of a whole docker command line may authorise: from the command's classification
// (core/policy/shell-classify.ts), the worker's policy and the engine's current objects, the set of Docker rules
// that need approval, each with its targets (names resolved to the ids the proxy will see), use count,
// escalation kinds and host paths. Rules the policy allows need no grant; a rule or escalation the policy
// denies refuses the whole command before any human is asked.
import path from 'node:path';
import type Dockerode from 'dockerode';
import { NotFound, resolveParams } from '../docker/resolve.js';
import type { Action } from '../policy/docker-rules.js';
import { hostPathProblem, type EscalationKind } from '../policy/escalation.js';
import { ruleById } from '../policy/match-route.js';
import { FIXED_RULES, type WorkerPolicy } from '../policy/policy-file.js';
import type { ShellClassification } from '../policy/shell-classify.js';

export interface GrantRuleScope {
  /** calls left */
  uses: number;
  /** ids the calls must act on (each once), or null when the command names none (`compose down`, prune) */
  targets: string[] | null;
  /** escalation kinds a ContainerCreate may carry */
  escalations?: string[];
  /** host paths a ContainerCreate may bind-mount, absolute */
  host_paths?: string[];
}
export type GrantScope = Record<string, GrantRuleScope>;

export interface GrantPlan {
  status: 'pending' | 'allowed' | 'refused';
  reasons: string[];
  summary: string;
  scope: GrantScope;
}

export interface PlanContext {
  docker: Dockerode;
  policy: WorkerPolicy;
  /** Wingman's own paths no container may mount */
  sensitivePaths: readonly string[];
  /** the wrapper's working directory: the docker CLI makes relative bind sources absolute against it */
  cwd?: string;
  lockdown?: { locked: boolean; reason?: string | null };
}

const RANK: Record<Action, number> = { allow: 0, approve: 1, deny: 2 };
const stricter = (a: Action, b: Action): Action => (RANK[a] >= RANK[b] ? a : b);

/** The id the proxy binds a call to for this kind of object (core/docker/resolve.ts): container/network ids,
 * volume names, image ids. Undefined when the object does not exist. */
async function resolveTarget(docker: Dockerode, kind: string, name: string): Promise<string | undefined> {
  const rule = { container: 'ContainerDelete', image: 'ImageDelete', volume: 'VolumeDelete', network: 'NetworkDelete' }[kind];
  if (!rule) return undefined;
  try {
    const r = await resolveParams(docker, ruleById(rule)!, { name });
    return r.imageId ?? r.params.name;
  } catch (err) {
    if (err instanceof NotFound) return undefined;
    throw err;
  }
}

function shorten(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

export function summarize(c: ShellClassification): string {
  const row = c.row;
  if (!row) return `docker ${c.path}`;
  const notes = c.notes.length ? ` (${c.notes.join(', ')})` : '';
  if (row.escalate) return shorten(`${row.verb} from ${c.args[0] ?? '?'} with ${c.notes.join(', ')}`, 500);
  if (row.cp) return shorten(`copy files ${c.notes.join(', ')}`, 500);
  if (c.targets.length) return shorten(`${row.verb} ${c.targets.join(', ')}${notes}`, 500);
  const project = c.project ? ` (project ${c.project})` : '';
  return shorten(`${row.verb}${project}${notes}`, 500);
}

export async function planGrant(c: ShellClassification, ctx: PlanContext): Promise<GrantPlan> {
  const summary = summarize(c);
  const row = c.row;
  if (c.decision !== 'gate' || !row) {
    return { status: 'allowed', reasons: [`docker ${c.path || c.id} needs no approval`], summary, scope: {} };
  }
  if (ctx.lockdown?.locked) {
    return { status: 'refused', reasons: [`worker is locked down (${ctx.lockdown.reason ?? 'no reason given'})`], summary, scope: {} };
  }

  // targets → ids, as the proxy will resolve them when the calls arrive
  let targets: string[] | null = null;
  const missing: string[] = [];
  const kind = row.cp ? 'container' : row.targets?.kind;
  if (kind && c.targets.length) {
    targets = [];
    for (const name of c.targets) {
      const id = await resolveTarget(ctx.docker, kind, name);
      if (id === undefined) missing.push(name);
      else targets.push(id);
    }
    if (targets.length === 0) {
      // The proxy answers 404 for a missing object before any approval: nothing to ask a human about.
      return { status: 'allowed', reasons: [`nothing to approve: no such ${kind} ${missing.join(', ')}`], summary, scope: {} };
    }
  }

  // escalations of a run/create: host paths inside the worker's bind allowlist are not escalations
  const approveKinds = new Set<EscalationKind>();
  const hostPaths: string[] = [];
  let escalation: Action = 'allow';
  const reasons: string[] = [];
  for (const f of c.found) {
    if (f.hostPath !== undefined) {
      const abs = f.hostPath.startsWith('/') ? path.posix.normalize(f.hostPath) : path.posix.resolve(ctx.cwd ?? '/', f.hostPath);
      const problem = f.hostPath.startsWith('~') ? `host path ${f.hostPath} is not absolute` : hostPathProblem(abs, { allowlist: ctx.policy.bindAllowlist, extraSensitive: ctx.sensitivePaths });
      if (!problem) continue;
      hostPaths.push(abs);
    }
    // the policy can make an escalation approve or deny, never allow (escalation.ts)
    const a = ctx.policy.escalations[f.kind] ?? 'deny';
    escalation = stricter(escalation, a);
    approveKinds.add(f.kind);
    reasons.push(`${f.flag} (${f.kind}: ${a})`);
  }

  const scope: GrantScope = {};
  let overall: Action = 'allow';
  for (const id of c.docker) {
    const rule = ruleById(id);
    if (!rule) throw new Error(`shell rule ${row.id} names unknown Docker rule ${id}`);
    const base: Action = FIXED_RULES.has(id) ? rule.action : (ctx.policy.rules[id] ?? rule.action);
    if (base === 'deny') reasons.unshift(`${rule.verb} is not allowed for this worker (${id}: deny)`);
    const action = row.escalate ? stricter(base, escalation) : base;
    overall = stricter(overall, action);
    if (action !== 'approve') continue;
    const s: GrantRuleScope = targets ? { uses: targets.length, targets: [...targets] } : { uses: row.uses ?? 1, targets: null };
    if (row.escalate) {
      s.escalations = [...approveKinds];
      s.host_paths = hostPaths;
    }
    scope[id] = s;
  }
  if (missing.length) reasons.push(`not found (the proxy will refuse them): ${missing.join(', ')}`);
  if (overall === 'deny') return { status: 'refused', reasons, summary, scope: {} };
  if (Object.keys(scope).length === 0) {
    return { status: 'allowed', reasons: [...reasons, 'the policy allows every call this command makes'], summary, scope: {} };
  }
  return { status: 'pending', reasons, summary, scope };
}
