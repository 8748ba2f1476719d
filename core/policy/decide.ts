// The one pure decision. Input: what was asked (normalised), by which worker, with which body, under which
// policy; output: allow / approve / deny with the rule and reasons. No I/O: callers gather facts and act.
import type { Action, DockerRule } from './docker-rules.js';
import { findEscalations, type Escalation, type HostFacts } from './escalation.js';
import { field, isObj, text as s, type JVal } from './go-json.js';
import { matchRoute, ruleById, type RouteMatch } from './match-route.js';
import { queryBool, queryGet, type NormalizedTarget } from './normalize.js';
import type { ObjectFact, ObjectFacts } from './object-facts.js';
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
  /**
   * Whose objects the call touches: its route target and every object its body or query names, resolved by the
   * caller. The proxy always gathers them; only describing an operation for a grant leaves them out.
   */
  objects?: ObjectFacts;
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
  /** the call was refused because it touches what is not the worker's (and not shared with it) */
  notOwner?: boolean;
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

const clip = (v: string, n = 200) => (v.length > n ? `${v.slice(0, n)}…` : v);

/** The command an exec (or a container) runs, as a person reads it. */
function commandOf(body: JVal | undefined, key = 'Cmd'): string {
  const cmd = field(body, key);
  if (Array.isArray(cmd)) return cmd.map((x) => JSON.stringify(s(x))).join(' ');
  return s(cmd);
}

/** What else the body changes, in words: the command of an exec, the image and mounts of a container, … */
function bodyWords(rule: DockerRule, body: JVal | undefined, target: NormalizedTarget): string[] {
  const out: string[] = [];
  switch (rule.id) {
    case 'ContainerExec': {
      out.push(`command ${clip(commandOf(body), 400) || '(none)'}`);
      const user = s(field(body, 'User'));
      if (user) out.push(`as user ${clip(user, 60)}`);
      const wd = s(field(body, 'WorkingDir'));
      if (wd) out.push(`in ${clip(wd, 120)}`);
      if (field(body, 'Privileged') === true) out.push('privileged');
      if (field(body, 'AttachStdin') === true) out.push('with stdin');
      break;
    }
    case 'ContainerCreate': {
      const image = s(field(body, 'Image'));
      if (image) out.push(`image ${clip(image, 120)}`);
      const cmd = commandOf(body);
      if (cmd) out.push(`command ${clip(cmd, 200)}`);
      const hc = field(body, 'HostConfig');
      const mounts: string[] = [];
      for (const b of [field(hc, 'Binds'), field(body, 'Binds')]) if (Array.isArray(b)) mounts.push(...b.map(s));
      for (const m of [field(hc, 'Mounts'), field(body, 'Mounts')]) {
        if (Array.isArray(m)) for (const x of m) mounts.push(`${s(field(x, 'Type')) || 'volume'}:${s(field(x, 'Source'))}:${s(field(x, 'Target'))}`);
      }
      if (mounts.length) out.push(`mounts ${clip(mounts.join(', '), 300)}`);
      const net = s(field(hc, 'NetworkMode'));
      if (net) out.push(`network ${clip(net, 80)}`);
      break;
    }
    case 'ContainerUpdate':
      out.push(`resources ${clip(JSON.stringify(isObj(body) ? Object.keys(body) : []), 200)}`);
      break;
    case 'ImageBuild':
    case 'ImageCreate':
      for (const k of ['remote', 'fromSrc', 'fromImage', 'repo', 'tag', 't', 'platform']) {
        const v = queryGet(target.query, k);
        if (v) out.push(`${k} ${clip(v, 200)}`);
      }
      break;
    case 'VolumeCreate': {
      const name = s(field(body, 'Name'));
      if (name) out.push(`name ${clip(name, 120)}`);
      const driver = s(field(body, 'Driver'));
      if (driver) out.push(`driver ${clip(driver, 60)}`);
      const opts = field(body, 'DriverOpts');
      if (isObj(opts) && Object.keys(opts).length) out.push(`options ${clip(Object.entries(opts).map(([k, v]) => `${k}=${s(v)}`).join(','), 200)}`);
      break;
    }
    case 'ImageTag':
    case 'ImageCommit': {
      const repo = queryGet(target.query, 'repo');
      if (repo) out.push(`as ${clip(repo, 120)}${queryGet(target.query, 'tag') ? `:${clip(queryGet(target.query, 'tag'), 60)}` : ''}`);
      break;
    }
    case 'NetworkConnect':
    case 'NetworkDisconnect': {
      const c = s(field(body, 'Container'));
      if (c) out.push(`container ${clip(c, 120)}`);
      break;
    }
    default:
      break;
  }
  return out;
}

function summarize(match: RouteMatch, target: NormalizedTarget, body?: JVal): string {
  const { rule, params } = match;
  const name = params.name ?? params.id ?? (rule.targetQuery ? queryGet(target.query, rule.targetQuery) : undefined);
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
  flags.push(...bodyWords(rule, body, target));
  const verb = rule.verb;
  const what = name !== undefined && name !== '' ? `${verb} ${name.slice(0, 200)}` : verb;
  return flags.length ? `${what} (${flags.join(', ')})` : what;
}

type Access = 'own' | 'read' | 'approve' | 'none';

/** What this worker may do with an object: its own, shared with it by ops (`shared:`), or nobody's business. */
function accessOf(f: ObjectFact, worker: string, policy: WorkerPolicy): Access {
  if (f.owner === worker) return 'own';
  let best: Access = 'none';
  for (const e of policy.shared ?? []) {
    if (e.kind !== f.kind || !f.names.some((n) => e.matches(n))) continue;
    if (e.access === 'approve') best = 'approve';
    else if (best === 'none') best = 'read';
  }
  return best;
}

const label = (f: ObjectFact) => `${f.kind} ${clip(f.names[0] ?? f.ref, 120)}`;

/**
 * Ownership: a worker acts on its own objects, reads what ops shared for reading, and is held for what ops shared
 * for approval. Everything else is refused, reads included. Returns the action it allows at most and why.
 */
function ownershipVerdict(input: DecideInput, rule: DockerRule): { action: Action; reasons: string[] } {
  const facts = input.objects;
  const reasons: string[] = [];
  let action: Action = 'allow';
  if (!facts) return { action, reasons };
  const { worker, policy } = input;
  const refuse = (why: string) => {
    action = 'deny';
    reasons.push(why);
  };
  const hold = (why: string) => {
    action = stricter(action, 'approve');
    reasons.push(why);
  };
  const t = facts.target;
  if (t && t.exists) {
    if (t.kind === 'image') {
      if (rule.imageWrite) {
        if (t.refOwners) {
          const others = t.refOwners.filter(([, o]) => o !== worker);
          if (t.refOwners.length === 0 || others.length) {
            refuse(`image ${clip(t.ref, 120)} has references that are not ${worker}'s${others.length ? ` (${others.map(([r]) => r).slice(0, 5).join(', ')})` : ''}`);
          }
        } else {
          const a = accessOf(t, worker, policy);
          if (a === 'approve') hold(`${label(t)} is shared with ${worker} for approval`);
          else if (a !== 'own') refuse(`${label(t)} is not ${worker}'s: only its owner may move or remove it`);
        }
      }
    } else {
      const a = accessOf(t, worker, policy);
      if (a === 'none') refuse(`${label(t)} is not ${worker}'s`);
      else if (a === 'read' && !rule.read) refuse(`${label(t)} is shared with ${worker} for reading only`);
      else if (a === 'approve') hold(`${label(t)} is shared with ${worker} for approval`);
    }
  }
  for (const f of facts.refs) {
    if (!f.exists) continue; // created by this call (volumes, image refs): it becomes the worker's own
    const a = accessOf(f, worker, policy);
    if (a === 'own') continue;
    if (a === 'approve') {
      hold(`${label(f)} is shared with ${worker} for approval`);
      continue;
    }
    if (f.use === 'new-ref') refuse(`image reference ${clip(f.ref, 120)} already exists and is not ${worker}'s`);
    else if (f.use === 'create') refuse(`${label(f)} already exists and is not ${worker}'s`);
    else if (a === 'read' && f.use === 'mount-ro') continue;
    else if (a === 'read') refuse(`${label(f)} is shared with ${worker} for reading only (mount it read-only)`);
    else refuse(`${label(f)} is not ${worker}'s`);
  }
  return { action, reasons };
}

/**
 * One effect, one decision: attaching to a container with stdin is a command channel into it, so it takes the
 * exec rule (and its approval); the route stays what it is.
 */
function effectiveRule(match: RouteMatch, target: NormalizedTarget): DockerRule {
  const { rule } = match;
  if ((rule.id === 'ContainerAttach' || rule.id === 'ContainerAttachWebsocket') && queryBool(target.query, 'stdin')) {
    return ruleById('ContainerExec')!;
  }
  return rule;
}

/**
 * The sidecar identity is not the worker: it may do only what its verifiers need (the rules marked `sidecar` in the
 * table), `own` ones only on its worker's container, never with an escalation or as another user. Per-worker policy
 * and lockdown do not apply: this is Wingman checking the worker, not the worker acting.
 */
function decideForSidecar(input: DecideInput, match: RouteMatch): Decision {
  const { rule } = match;
  const base = { rule, route: match.route, params: match.params, summary: summarize(match, input.target, input.body) };
  if (rule.id === 'Unknown') base.summary = `${input.method} ${input.target.path.slice(0, 200)} (unknown endpoint)`;
  const who = `the sidecar identity of ${input.worker}`;
  const refuse = (why: string, escalations: Escalation[] = []): Decision => ({ ...base, action: 'deny', reasons: [why], escalations });
  if (!rule.sidecar) return refuse(`${who} is read-only: ${base.summary} is not among what its verifiers need`);
  if (rule.sidecar === 'own' && input.ownContainer !== true) return refuse(`${who} may ${rule.verb} on its worker's container only`);
  if (rule.sidecar === 'worker' && input.ownContainer !== true) {
    const t = input.objects?.target;
    if (!t || (t.exists && t.owner !== input.worker)) {
      const what = t ? `container ${clip(t.names[0] ?? t.ref, 120)}` : 'that container';
      return refuse(`${what} is not ${input.worker}'s: ${who} may ${rule.verb} on its worker's containers only`);
    }
  }
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
  const rule = effectiveRule(match, input.target);
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

  const owned = ownershipVerdict(input, rule);
  if (owned.action === 'deny') {
    // Not the worker's: that is the whole answer (a "needs approval" after it would suggest one could be given).
    reasons.splice(0, reasons.length, ...owned.reasons, ...reasons.filter((r) => / \((\w+): (deny|approve)\)$/.test(r)));
  } else reasons.push(...owned.reasons);
  action = stricter(action, owned.action);

  if (input.lockdown?.locked && !rule.read) {
    action = 'deny';
    reasons.unshift(`worker ${input.worker} is locked down (${input.lockdown.reason ?? 'no reason given'})`);
  }
  const notOwner = owned.action === 'deny' && !input.lockdown?.locked ? { notOwner: true } : {};
  let summary = summarize(match, input.target, input.body);
  if (rule !== match.rule) summary = `attach to container ${clip(match.params.name ?? '', 120)} with stdin (a command channel: the same as exec)`;
  if (rule.id === 'Unknown') summary = `${input.method} ${input.target.path.slice(0, 200)} (unknown endpoint)`;
  return { action, rule, route: match.route, params: match.params, reasons, escalations, summary, ...notOwner };
}
