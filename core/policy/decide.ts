// The one pure decision. Input: what was asked (normalised), by which worker, with which body, under which
// policy; output: allow / approve / deny with the rule and reasons. No I/O: callers gather facts and act.
import type { Action, DockerRule } from './docker-rules.js';
import { findEscalations, type Escalation, type HostFacts } from './escalation.js';
import { field, type JVal } from './go-json.js';
import { matchRoute, type RouteMatch } from './match-route.js';
import { queryBool, queryGet, type NormalizedTarget } from './normalize.js';
import { FIXED_RULES, type WorkerPolicy } from './policy-file.js';

export interface DecideInput {
  method: string;
  target: NormalizedTarget;
  worker: string;
  /** canonical body, present when the rule inspects bodies and one was sent */
  body?: JVal;
  policy: WorkerPolicy;
  /** Wingman's own sensitive host paths (its sockets, data dir, the upstream socket) */
  sensitivePaths?: readonly string[];
  facts?: HostFacts;
  lockdown?: { locked: boolean; reason?: string };
  /** a precomputed match (the caller needed it to know whether to read the body) */
  match?: RouteMatch;
  /** who is calling on the worker's behalf: the worker itself (default) or its sidecar's read-only identity */
  identity?: 'worker' | 'sidecar';
  /** (sidecar identity) the call's container — for execs, the exec's container — is the worker's own */
  ownContainer?: boolean;
}

export interface Decision {
  action: Action;
  rule: DockerRule;
  route: string;
  params: Record<string, string>;
  reasons: string[];
  escalations: Escalation[];
  /** words a person can judge at a glance: `remove container web (force, with volumes)` */
  summary: string;
}

const RANK: Record<Action, number> = { allow: 0, approve: 1, deny: 2 };
const stricter = (a: Action, b: Action): Action => (RANK[a] >= RANK[b] ? a : b);

const FLAG_WORDS: Array<[string, (v: string) => string | undefined]> = [
  ['force', () => 'force'],
  ['v', () => 'with volumes'],
  ['link', () => 'link only'],
  ['noprune', () => 'keep untagged parents'],
  ['all', () => 'all'],
];

function summarize(match: RouteMatch, target: NormalizedTarget): string {
  const { rule, params } = match;
  const name = params.name ?? params.id;
  const flags: string[] = [];
  for (const [key, word] of FLAG_WORDS) {
    if (queryBool(target.query, key)) {
      const w = word(queryGet(target.query, key));
      if (w) flags.push(w);
    }
  }
  const signal = queryGet(target.query, 'signal');
  if (signal) flags.push(`signal ${signal.slice(0, 16)}`);
  const t = queryGet(target.query, 't');
  if (t && /^-?\d+$/.test(t)) flags.push(`timeout ${t}s`);
  const path = queryGet(target.query, 'path');
  if (path && rule.id.includes('Archive')) flags.push(`path ${path.slice(0, 120)}`);
  const filters = queryGet(target.query, 'filters');
  if (filters) flags.push(`filters ${filters.slice(0, 120)}`);
  const verb = rule.verb;
  const what = name !== undefined && name !== '' ? `${verb} ${name.slice(0, 200)}` : verb;
  return flags.length ? `${what} (${flags.join(', ')})` : what;
}

/**
 * The sidecar identity is not the worker: it may do only what its verifiers need (the rules marked `sidecar` in the
 * table), `own` ones only on its worker's container, never with an escalation or as another user. Per-worker policy
 * and lockdown do not apply: this is Wingman checking the worker, not the worker acting.
 */
function decideForSidecar(input: DecideInput, match: RouteMatch): Decision {
  const { rule } = match;
  const base = { rule, route: match.route, params: match.params, summary: summarize(match, input.target) };
  if (rule.id === 'Unknown') base.summary = `${input.method} ${input.target.path.slice(0, 200)} (unknown endpoint)`;
  const who = `the sidecar identity of ${input.worker}`;
  const refuse = (why: string, escalations: Escalation[] = []): Decision => ({ ...base, action: 'deny', reasons: [why], escalations });
  if (!rule.sidecar) return refuse(`${who} is read-only: ${base.summary} is not among what its verifiers need`);
  if (rule.sidecar === 'own' && input.ownContainer !== true) return refuse(`${who} may ${rule.verb} on its worker's container only`);
  const escalations = rule.inspect
    ? findEscalations(rule.inspect, input.body, input.target, { allowlist: [], extraSensitive: input.sensitivePaths ?? [] }, input.facts)
    : [];
  if (escalations.length) return refuse(`${who}: ${escalations.map((e) => e.detail).join('; ')}`, escalations);
  if (rule.id === 'ContainerExec') {
    const user = field(input.body, 'User');
    if (user !== undefined && user !== null && user !== '') return refuse(`${who} runs commands as the container's own user only`);
  }
  return { ...base, action: 'allow', reasons: [], escalations: [] };
}

export function decide(input: DecideInput): Decision {
  const match = input.match ?? matchRoute(input.method, input.target.path);
  if (input.identity === 'sidecar') return decideForSidecar(input, match);
  const { rule } = match;
  const reasons: string[] = [];
  const override = FIXED_RULES.has(rule.id) ? undefined : input.policy.rules[rule.id];
  let action: Action = override ?? rule.action;
  if (override && override !== rule.action) reasons.push(`rule ${rule.id} set to ${override} for this worker`);
  else if (rule.action === 'deny') reasons.push(`${rule.verb} is not allowed${rule.why ? ` (${rule.why})` : ''}`);
  else if (rule.action === 'approve') reasons.push(`${rule.verb} needs approval`);

  const escalations = rule.inspect
    ? findEscalations(
        rule.inspect,
        input.body,
        input.target,
        { allowlist: input.policy.bindAllowlist, extraSensitive: input.sensitivePaths ?? [] },
        input.facts,
      )
    : [];
  for (const e of escalations) {
    const a = input.policy.escalations[e.kind] ?? 'deny';
    action = stricter(action, a);
    reasons.push(`${e.detail} (${e.kind}: ${a})`);
  }

  if (input.lockdown?.locked && !rule.read) {
    action = 'deny';
    reasons.unshift(`worker ${input.worker} is locked down (${input.lockdown.reason ?? 'no reason given'})`);
  }
  let summary = summarize(match, input.target);
  if (rule.id === 'Unknown') summary = `${input.method} ${input.target.path.slice(0, 200)} (unknown endpoint)`;
  return { action, rule, route: match.route, params: match.params, reasons, escalations, summary };
}
