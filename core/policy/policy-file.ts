// Per-worker policy overrides, from WINGMAN_POLICY_FILE (YAML or JSON). Validated once at start-up: a bad file
// stops start-up with an error naming the problem, it is never half-applied.
import fs from 'node:fs';
import picomatch from 'picomatch';
import YAML from 'yaml';
import { z } from 'zod';
import { wingmanError } from '../errors.js';
import { DOCKER_RULES, UNKNOWN_RULE } from './docker-rules.js';
import { ESCALATION_KINDS, type EscalationKind } from './escalation.js';

const RULE_IDS = new Set([...DOCKER_RULES.map((r) => r.id), UNKNOWN_RULE.id]);
/** Tunnels carry whole protocols past the classifier: no file may relax them. */
export const FIXED_RULES = new Set(['Session', 'Grpc', 'Debug']);

// Objects that existed before a worker (a shared database volume, a base image ops pinned): name patterns
// (globs) per kind, with the access given. `read`: reads and read-only mounts; `approve`: anything, each call held.
const sharedSchema = z
  .object({
    kind: z.enum(['container', 'volume', 'network', 'image']),
    name: z.string().min(1).max(256),
    access: z.enum(['read', 'approve']),
  })
  .strict();

const workerSchema = z
  .object({
    rules: z.record(z.string(), z.enum(['allow', 'approve', 'deny'])).default({}),
    escalations: z.record(z.string(), z.enum(['approve', 'deny'])).default({}),
    bind_allowlist: z.array(z.string().startsWith('/')).default([]),
    shared: z.array(sharedSchema).default([]),
  })
  .strict();

export type SharedAccess = 'read' | 'approve';

export interface SharedEntry {
  kind: 'container' | 'volume' | 'network' | 'image';
  /** the glob as written, for messages */
  name: string;
  access: SharedAccess;
  matches(name: string): boolean;
}

const fileSchema = z
  .object({
    workers: z.record(z.string(), workerSchema).default({}),
  })
  .strict();

export interface WorkerPolicy {
  rules: Readonly<Record<string, 'allow' | 'approve' | 'deny'>>;
  escalations: Readonly<Partial<Record<EscalationKind, 'approve' | 'deny'>>>;
  bindAllowlist: readonly string[];
  /** objects shared with this worker by name pattern */
  shared?: readonly SharedEntry[];
}

export interface PolicyFile {
  forWorker(worker: string): WorkerPolicy;
}

export const EMPTY_POLICY: PolicyFile = {
  forWorker: () => ({ rules: {}, escalations: {}, bindAllowlist: [], shared: [] }),
};

export function parsePolicy(text: string, source = 'policy'): PolicyFile {
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw wingmanError('WGM_ERR_CONFIG_POLICY_FILE', `${source}: not valid YAML/JSON (${(err as Error).message})`);
  }
  const parsed = fileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw wingmanError('WGM_ERR_CONFIG_POLICY_FILE', `${source}: ${msg}`);
  }
  const workers = parsed.data.workers;
  for (const [w, p] of Object.entries(workers)) {
    for (const id of Object.keys(p.rules)) {
      if (!RULE_IDS.has(id)) throw wingmanError('WGM_ERR_CONFIG_POLICY_FILE', `${source}: workers.${w}.rules: unknown rule ${id}`);
      if (FIXED_RULES.has(id) && p.rules[id] !== 'deny') {
        throw wingmanError('WGM_ERR_CONFIG_POLICY_FILE', `${source}: workers.${w}.rules.${id} cannot be relaxed`);
      }
    }
    for (const k of Object.keys(p.escalations)) {
      if (!(ESCALATION_KINDS as readonly string[]).includes(k)) {
        throw wingmanError('WGM_ERR_CONFIG_POLICY_FILE', `${source}: workers.${w}.escalations: unknown kind ${k}`);
      }
    }
  }
  const cache = new Map<string, WorkerPolicy>();
  return {
    forWorker(worker: string): WorkerPolicy {
      let p = cache.get(worker);
      if (!p) {
        const any = workers['*'];
        const own = workers[worker];
        p = Object.freeze({
          rules: Object.freeze({ ...any?.rules, ...own?.rules }),
          escalations: Object.freeze({ ...any?.escalations, ...own?.escalations }),
          bindAllowlist: Object.freeze([...(any?.bind_allowlist ?? []), ...(own?.bind_allowlist ?? [])]),
          shared: Object.freeze(
            [...(any?.shared ?? []), ...(own?.shared ?? [])].map((e) => {
              const m = picomatch(e.name, { dot: true });
              return Object.freeze({ kind: e.kind, name: e.name, access: e.access, matches: (n: string) => m(n) });
            }),
          ),
        });
        cache.set(worker, p);
      }
      return p;
    },
  };
}

export function loadPolicyFile(file: string | undefined): PolicyFile {
  if (!file) return EMPTY_POLICY;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw wingmanError('WGM_ERR_CONFIG_POLICY_FILE', `WINGMAN_POLICY_FILE=${file}: ${(err as Error).message}`);
  }
  return parsePolicy(text, `WINGMAN_POLICY_FILE=${file}`);
}
