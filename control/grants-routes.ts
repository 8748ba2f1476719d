// Worker-facing control endpoints for the shell wrapper: ask for ONE approval for a whole docker command line,
// wait for the decision, close the grant when the command is done. Authenticated by the worker's own token
// (WINGMAN_WORKER_TOKENS), never the ops token; a worker sees only its own grants. Routes carry
// `config.auth = 'worker'` so the ops bearer check in app.ts leaves them to this file's check.
//
// The wrapper has no JSON parser: with `Accept: text/plain` every answer is `key=value` lines (control characters
// replaced), otherwise JSON. Outcomes of a valid request (pending, allowed by policy, refused by policy) are 2xx
// with a `status`; only bad requests, bad tokens, unknown grants and outages are errors.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Dockerode from 'dockerode';
import type { Approvals } from '../core/approvals/approvals.js';
import { planGrant } from '../core/approvals/grant-scope.js';
import { Grants } from '../core/approvals/grants.js';
import type { Bus } from '../core/bus/bus.js';
import type { Config } from '../core/config.js';
import { isWingmanError, wingmanError, type WingmanError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { classifyShell } from '../core/policy/shell-classify.js';
import type { PolicyFile } from '../core/policy/policy-file.js';
import { redactSecrets } from '../core/secrets/index.js';
import type { Db } from '../core/store/db.js';
import { Workers } from '../core/workers/workers.js';
import { tokenMatches } from './api-auth.js';

export interface GrantsRouteDeps {
  config: Config;
  db: Db;
  bus: Bus;
  log: Logger;
  policy: PolicyFile;
  approvals: Approvals;
  docker: Dockerode;
}

/** Pending shell approvals a worker may have at once: a runaway loop must not flood the approvers. */
const MAX_PENDING = 10;
const MAX_WAIT_S = 30;
const SAFETY_REREAD_MS = 2000;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** 'worker': authenticated by a worker token (this file), not the ops bearer token (app.ts);
     * 'public': no token (the console's static files, control/console-assets.ts) */
    auth?: 'worker' | 'public';
  }
}

const WORKER = { auth: 'worker' } as const;
const workerOf = new WeakMap<FastifyRequest, string>();

type Answer = Record<string, string | number | boolean | null | undefined | string[]>;

function wantsText(req: FastifyRequest): boolean {
  return /^\s*text\/plain/i.test(req.headers.accept ?? '');
}

/** `key=value` lines; a value never spans lines nor carries terminal control sequences. */
export function textAnswer(a: Answer): string {
  const clean = (v: string) => v.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return (
    Object.entries(a)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `${k}=${clean(Array.isArray(v) ? v.join(',') : String(v))}`)
      .join('\n') + '\n'
  );
}

function answer(req: FastifyRequest, reply: FastifyReply, status: number, a: Answer): FastifyReply {
  reply.status(status);
  if (wantsText(req)) return reply.type('text/plain; charset=utf-8').send(textAnswer(a));
  return reply.send(a);
}

/** A coded error in the wrapper's answer shape, with the status of its code. */
function refuse(req: FastifyRequest, reply: FastifyReply, e: WingmanError): FastifyReply {
  return answer(req, reply, e.statusCode, { error: e.message, code: e.code });
}

function failure(req: FastifyRequest, reply: FastifyReply, log: Logger, err: unknown): FastifyReply {
  if (isWingmanError(err)) return refuse(req, reply, err);
  // The store's outages arrive coded (core/store); the docker engine's are socket errors, told by their code.
  const e = err as { code?: string; message?: string };
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') {
    return refuse(req, reply, wingmanError('WGM_ERR_STORE_UNAVAILABLE', 'the store or the docker engine cannot be reached'));
  }
  log.error({ err: e.message }, 'grant request failed');
  return refuse(req, reply, wingmanError('WGM_ERR_INTERNAL'));
}

/** Decode `hex(arg0 \0 arg1 \0 …)` as the wrapper sends it (any byte survives sh that way). */
export function decodeArgvHex(hex: string): string[] {
  if (hex === '') return [];
  const buf = Buffer.from(hex, 'hex');
  if (buf.length * 2 !== hex.length || buf[buf.length - 1] !== 0) {
    throw wingmanError('WGM_ERR_API_BAD_REQUEST', 'argv_hex must be hex of NUL-terminated arguments');
  }
  return buf.subarray(0, buf.length - 1).toString('utf8').split('\0');
}

/** The command line people read: env values and anything secret-looking redacted, words quoted when needed. */
export async function commandLine(argv: readonly string[]): Promise<string> {
  const shown = argv.map((a, i) => {
    const prev = argv[i - 1];
    if (prev === '-e' || prev === '--env') return a.replace(/=.*/s, '=[redacted]');
    if (/^(--env|-e)=/.test(a)) return a.replace(/^((?:--env|-e)=[^=]*)=.*/s, '$1=[redacted]');
    return a;
  });
  const quoted = shown.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`));
  return redactSecrets(['docker', ...quoted].join(' '));
}

export function registerGrants(server: FastifyInstance, deps: GrantsRouteDeps): void {
  const { config, db, bus, log, policy, approvals, docker } = deps;
  const grants = new Grants(db, approvals);
  const workers = new Workers(db, bus);

  // One bus watch for every long poll (a watch per request would open a Redis connection per request).
  const waiting = new Map<string, Set<() => void>>();
  let unwatch: (() => void) | undefined;
  const waitForChange = (id: string, ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      unwatch ??= bus.watch(['approval.decided'], (e) => {
        for (const wake of waiting.get(e.data.id) ?? []) wake();
      });
      const set = waiting.get(id) ?? new Set();
      waiting.set(id, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) waiting.delete(id);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  server.addHook('onClose', async () => {
    unwatch?.();
    for (const set of waiting.values()) for (const wake of set) wake();
  });

  const authenticate = async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization;
    let worker: string | undefined;
    // Check every token (no early exit): the time taken does not tell which worker's token was close.
    for (const [w, token] of Object.entries(config.workerTokens)) {
      if (tokenMatches(header, token)) worker = w;
    }
    if (!worker) {
      return refuse(req, reply, wingmanError('WGM_ERR_API_UNAUTHORIZED'));
    }
    workerOf.set(req, worker);
  };

  server.post<{ Body: { argv?: string[]; argv_hex?: string; cwd?: string; cwd_hex?: string; worker?: string } }>(
    '/grants',
    {
      config: WORKER,
      onRequest: authenticate,
      bodyLimit: 512 * 1024,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            argv: { type: 'array', maxItems: 1024, items: { type: 'string', maxLength: 65536 } },
            argv_hex: { type: 'string', maxLength: 262144, pattern: '^([0-9a-fA-F]{2})*$' },
            cwd: { type: 'string', maxLength: 4096 },
            cwd_hex: { type: 'string', maxLength: 8192, pattern: '^([0-9a-fA-F]{2})*$' },
            worker: { type: 'string', maxLength: 63 },
          },
        },
      },
    },
    async (req, reply) => {
      const worker = workerOf.get(req)!;
      try {
        if (req.body.worker !== undefined && req.body.worker !== worker) {
          throw wingmanError('WGM_ERR_APPROVAL_UNAUTHORIZED', 'the token belongs to another worker');
        }
        const argv = req.body.argv ?? (req.body.argv_hex !== undefined ? decodeArgvHex(req.body.argv_hex) : undefined);
        if (!argv) throw wingmanError('WGM_ERR_API_BAD_REQUEST', 'argv or argv_hex is required');
        if (argv.length > 1024) throw wingmanError('WGM_ERR_API_BAD_REQUEST', 'too many arguments');
        const cwd = req.body.cwd ?? (req.body.cwd_hex ? Buffer.from(req.body.cwd_hex, 'hex').toString('utf8').replace(/\n$/, '') : undefined);
        const c = classifyShell(argv);
        const line = c.decision === 'gate' ? await commandLine(argv) : '';
        const lock = await workers.get(worker);
        let plan;
        try {
          plan = await planGrant(c, {
            docker,
            policy: policy.forWorker(worker),
            sensitivePaths: [config.socketDir, config.dataDir, config.upstreamSocket],
            ...(cwd && cwd.startsWith('/') ? { cwd } : {}),
            lockdown: { locked: lock?.locked ?? false, reason: lock?.locked_reason ?? null },
          });
        } catch (err) {
          if (isWingmanError(err)) throw err;
          throw wingmanError('WGM_ERR_PROXY_UPSTREAM', `cannot look up the command's targets (${(err as Error).message.slice(0, 200)})`);
        }
        if (plan.status !== 'pending') {
          return answer(req, reply, 200, { status: plan.status, summary: plan.summary, reason: plan.reasons.join('; '), rule: c.id });
        }
        if ((await grants.pendingCount(worker)) >= MAX_PENDING) {
          throw wingmanError('WGM_ERR_GRANT_LIMIT', `${MAX_PENDING} requests are already waiting for a decision`);
        }
        const uses = Object.entries(plan.scope).map(([r, s]) => `${r} ×${s.uses}${s.targets ? ' (named targets)' : ''}`);
        const { approval, token } = await grants.request({
          worker,
          shellRule: c.id,
          commandLine: line,
          route: c.path,
          summary: plan.summary,
          reasons: [
            `one approval for the whole command: ${line.slice(0, 300)}`,
            `covers ${uses.join(', ')}; usable for ${config.grantTtlS}s after approval`,
            ...plan.reasons,
          ],
          scope: plan.scope,
          approvalTtlS: config.approvalTimeoutS,
          grantTtlS: config.grantTtlS,
          requiredApprovals: config.twoPersonWorkers.includes(worker) ? 2 : 1,
        });
        log.info({ worker, approval: approval.id, rule: c.id }, 'shell command waiting for approval');
        return answer(req, reply, 201, {
          status: 'pending',
          id: approval.id,
          token,
          summary: approval.summary,
          rules: Object.keys(plan.scope),
          expires_at: approval.expires_at.toISOString(),
          rule: c.id,
        });
      } catch (err) {
        return failure(req, reply, log, err);
      }
    },
  );

  server.get<{ Params: { id: string }; Querystring: { wait?: number } }>(
    '/grants/:id',
    {
      config: WORKER,
      onRequest: authenticate,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { wait: { type: 'integer', minimum: 0, maximum: MAX_WAIT_S } },
        },
      },
    },
    async (req, reply) => {
      const worker = workerOf.get(req)!;
      const ac = new AbortController();
      const onGone = () => ac.abort();
      reply.raw.once('close', onGone);
      try {
        const deadline = Date.now() + (req.query.wait ?? 0) * 1000;
        let view = await grants.get(req.params.id, worker);
        if (!view) throw wingmanError('WGM_ERR_APPROVAL_NOT_FOUND', req.params.id.slice(0, 64));
        for (;;) {
          const a = view.approval;
          if (a.status === 'pending' && a.expires_at.getTime() <= Date.now()) {
            // The sweeper expires it too; doing it here makes the answer not depend on its timing.
            await approvals.expire(a.id);
          } else {
            const left = deadline - Date.now();
            if (a.status !== 'pending' || left <= 0 || ac.signal.aborted) break;
            await waitForChange(a.id, Math.min(left, SAFETY_REREAD_MS, Math.max(0, a.expires_at.getTime() - Date.now()) + 50), ac.signal);
          }
          view = (await grants.get(req.params.id, worker))!;
        }
        const a = view.approval;
        const grantEnds = a.decided_at && a.status === 'approved' ? new Date(a.decided_at.getTime() + view.ttl_s * 1000).toISOString() : undefined;
        return answer(req, reply, 200, {
          id: a.id,
          status: a.status,
          summary: a.summary,
          decided_by: a.decided_by,
          note: a.note,
          expires_at: a.expires_at.toISOString(),
          grant_expires_at: grantEnds,
          approvals: `${a.approvers.length}/${a.required_approvals}`,
        });
      } catch (err) {
        return failure(req, reply, log, err);
      } finally {
        reply.raw.off('close', onGone);
      }
    },
  );

  server.post<{ Params: { id: string } }>(
    '/grants/:id/close',
    { config: WORKER, onRequest: authenticate },
    async (req, reply) => {
      const worker = workerOf.get(req)!;
      try {
        const a = await grants.close(req.params.id, worker);
        if (!a) throw wingmanError('WGM_ERR_APPROVAL_NOT_FOUND', req.params.id.slice(0, 64));
        return answer(req, reply, 200, { id: a.id, status: a.status });
      } catch (err) {
        return failure(req, reply, log, err);
      }
    },
  );
}
