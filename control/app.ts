// Builds the control service's HTTP API (ops: approvals, workers, audit; health and metrics). main.ts listens;
// tests build this and use inject() or listen on port 0.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { openDocker } from '../core/docker/open-docker.js';
import { Approvals, isUuid, type Approval } from '../core/approvals/approvals.js';
import { redactedOp } from '../core/approvals/operation.js';
import { sidecarSocketPath, workerSocketPath } from '../core/config.js';
import { describeOperation } from '../core/docker/describe-operation.js';
import { NotFound } from '../core/docker/resolve.js';
import { wingmanError } from '../core/errors.js';
import { errorHandler } from '../core/http/error-handler.js';
import type { PolicyFile } from '../core/policy/policy-file.js';
import type { Services } from '../core/services.js';
import { Workers } from '../core/workers/workers.js';
import { tokenMatches, crossOrigin } from './api-auth.js';
import { approvalEffect } from './approval-effect.js';
import { decisionBody, routeSchema, approvalsQuery, type ApprovalsQuery, type DecisionBody } from './api-schema.js';
import { dockerAuditPage, registerAuditRoutes } from './audit-routes.js';
import { registerConsoleAssets } from './console-assets.js';
import { registerEventStream } from './event-stream.js';
import { ExpirySweeper } from './expiry-sweeper.js';
import { registerGrants } from './grants-routes.js';
import { registerLockdownRoutes } from './lockdown-routes.js';
import { registerOwnershipRoutes } from './ownership-routes.js';
import { Ownership } from '../core/ownership/ownership.js';
import { DockerodeWorkerContainer } from '../core/claims/dockerode-worker-container.js';
import { Instructions } from '../core/instructions/instructions.js';
import { registerValidationRoute, testProcessFrom } from '../validation/validation-route.js';
import { Watcher } from './watcher.js';
import { Lockdowns } from '../core/lockdown/lockdowns.js';
import { openLockMirror, type LockMirror } from '../core/lockdown/lock-mirror.js';
import { startTelegram, type TelegramService } from './telegram/start-telegram.js';

export interface ControlOptions extends Services {
  policy: PolicyFile;
  /** the token ops present; under `wingman up` it may be generated */
  apiToken: string;
  /** lockdown mirror shared with the proxy under `wingman up`; default: Redis when configured, else in-memory */
  lockMirror?: LockMirror;
  /** where the built console is (default: dist/console of this package) */
  consoleDir?: string;
}

export interface ControlApp {
  server: FastifyInstance;
  approvals: Approvals;
  workers: Workers;
  lockdowns: Lockdowns;
  watcher: Watcher;
  /** the Telegram bot and outbox, when TELEGRAM_BOT_TOKEN is set */
  telegram?: TelegramService;
  close(): Promise<void>;
}

/** An approval as the API shows it: with its whole effect in words. */
const view = (a: Approval) => ({ ...a, effect: approvalEffect(a) });

export async function buildControl(opts: ControlOptions): Promise<ControlApp> {
  const { config, db, bus, log, metrics, policy, apiToken } = opts;
  const approvals = new Approvals(db, bus);
  const workers = new Workers(db, bus);
  const ownership = new Ownership(db, bus);
  const docker = openDocker(config.upstreamSocket);
  const mirror = opts.lockMirror ?? openLockMirror(config, config.redisPrefix, db, log);
  const lockdowns = new Lockdowns(db, bus, docker, mirror, config, log, metrics);
  const sweeper = new ExpirySweeper(approvals, bus, log, (ids) => metrics.approvals.inc({ outcome: 'expired_sweep' }, ids.length));
  sweeper.start();

  const server = Fastify({ loggerInstance: log.child({ svc: 'control' }) as unknown as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // Unknown fields are an error, not silently dropped: a typo in a decision body must not pass unnoticed.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array' } },
  });

  server.setErrorHandler(errorHandler());

  server.addHook('onRequest', async (req) => {
    const url = req.url.split('?')[0];
    const auth = req.routeOptions.config.auth;
    if (url === '/health' || url === '/metrics' || auth === 'public') return;
    // A browser says where a request comes from: a page of another origin changes nothing here, token or not.
    if (crossOrigin(req.method, req.headers, req.protocol)) {
      throw wingmanError('WGM_ERR_API_ORIGIN', 'a page from another origin cannot make this call');
    }
    if (auth === 'worker') return;
    if (!tokenMatches(req.headers.authorization, apiToken)) {
      throw wingmanError('WGM_ERR_API_UNAUTHORIZED');
    }
  });

  server.get('/health', async (_req, reply) => {
    const [store, busOk] = await Promise.all([db.ping(), bus.ping()]);
    metrics.storeUp.set(store ? 1 : 0);
    metrics.busUp.set(busOk ? 1 : 0);
    metrics.health.set(store && busOk ? 1 : 0);
    return reply.status(store && busOk ? 200 : 503).send({
      status: store && busOk ? 'ok' : 'degraded',
      store: { kind: db.kind, ok: store },
      bus: { kind: bus.kind, ok: busOk },
      policy_mode: config.policyMode,
    });
  });

  server.get('/metrics', async (_req, reply) => {
    metrics.storeUp.set((await db.ping()) ? 1 : 0);
    metrics.busUp.set((await bus.ping()) ? 1 : 0);
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  server.get<{ Querystring: ApprovalsQuery }>('/approvals', { schema: { querystring: routeSchema(approvalsQuery) } }, async (req) => ({
    approvals: (await approvals.list(req.query)).map(view),
  }));

  server.get<{ Params: { id: string } }>('/approvals/:id', async (req) => {
    const a = isUuid(req.params.id) ? await approvals.get(req.params.id) : undefined;
    if (!a) throw wingmanError('WGM_ERR_APPROVAL_NOT_FOUND', req.params.id.slice(0, 64));
    const [events, calls] = await Promise.all([approvals.events(a.id), dockerAuditPage(db, { approval: a.id, limit: 20 })]);
    return { approval: view(a), events, calls: calls.audit };
  });

  for (const decision of ['approve', 'deny'] as const) {
    server.post<{ Params: { id: string }; Body: DecisionBody }>(
      `/approvals/:id/${decision}`,
      { schema: { body: routeSchema(decisionBody) } },
      async (req) => {
        const a = await approvals.answer(req.params.id, decision, `api:${req.body.by}`, req.body.note, { via: 'api' });
        return { approval: view(a) };
      },
    );
  }

  // Ask for an approval ahead of the call; the grant token is shown once and is spent by the one call it matches.
  server.post<{ Body: { worker: string; method: string; path: string; body?: unknown; ttl_s?: number } }>(
    '/approvals',
    {
      schema: {
        body: {
          type: 'object',
          required: ['worker', 'method', 'path'],
          additionalProperties: false,
          properties: {
            worker: { type: 'string', minLength: 1, maxLength: 63 },
            method: { type: 'string', enum: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'] },
            path: { type: 'string', minLength: 1, maxLength: 8192 },
            body: {},
            ttl_s: { type: 'integer', minimum: 1, maximum: 86400 },
          },
        },
      },
    },
    async (req, reply) => {
      let described;
      try {
        described = await describeOperation(docker, req.body, policy.forWorker(req.body.worker));
      } catch (err) {
        if (err instanceof NotFound) throw wingmanError('WGM_ERR_API_NOT_FOUND', err.message);
        throw err;
      }
      const { decision, op, hash, path: fwd } = described;
      if (decision.action === 'deny') {
        throw wingmanError('WGM_ERR_PROXY_FORBIDDEN', decision.reasons.join('; '));
      }
      const { approval, token } = await approvals.request({
        worker: req.body.worker,
        rule: decision.rule.id,
        summary: decision.summary,
        method: op.method,
        route: decision.route,
        path: fwd,
        opHash: hash,
        op: redactedOp(op),
        reasons: decision.reasons,
        ttlS: req.body.ttl_s ?? config.approvalTimeoutS,
        source: 'api',
        withToken: true,
        requiredApprovals: config.twoPersonWorkers.includes(req.body.worker) ? 2 : 1,
      });
      return reply.status(201).send({ approval, token, action: decision.action });
    },
  );

  // Each worker with what ops look at first: lock state, last heartbeat, pending calls, objects, its socket.
  server.get('/workers', async () => {
    const { rows } = await db.query<Record<string, unknown> & { name: string }>(
      `SELECT w.name, w.created_at, w.locked, w.locked_reason, w.locked_at, w.locked_by, w.container, w.last_heartbeat_at,
              (SELECT count(*)::int FROM approvals a WHERE a.worker = w.name AND a.status = 'pending') AS pending_approvals,
              (SELECT count(*)::int FROM owned_objects o WHERE o.worker = w.name) AS objects
         FROM workers w ORDER BY w.name`,
    );
    const known = new Set(rows.map((r) => r.name));
    const configured = config.workers
      .filter((n) => !known.has(n))
      .map((name) => ({ name, created_at: null, locked: false, locked_reason: null, locked_at: null, locked_by: null, container: null, last_heartbeat_at: null, pending_approvals: 0, objects: 0 }));
    const all = [...rows, ...configured].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { workers: all.map((w) => ({ ...w, socket: workerSocketPath(config.socketDir, w.name) })) };
  });

  server.post<{ Body: { name: string; container?: string } }>(
    '/workers',
    {
      schema: {
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 63 },
            // the worker's container (id or name): what lockdown pauses
            container: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' },
          },
        },
      },
    },
    async (req, reply) => {
      const w = await workers.add(req.body.name, req.body.container);
      await bus.publish('worker.added', { worker: w.name }).catch(() => undefined);
      return reply.status(201).send({
        worker: w,
        socket: workerSocketPath(config.socketDir, w.name),
        sidecar_socket: sidecarSocketPath(config.socketDir, w.name),
      });
    },
  );

  registerAuditRoutes(server, { db });
  registerEventStream(server, { bus });
  registerConsoleAssets(server, opts.consoleDir ? { dir: opts.consoleDir } : {});

  registerLockdownRoutes(server, { lockdowns, workers, configured: config.workers });
  // Ops adopt existing engine objects for a worker and list what it owns (the store is the truth: core/ownership/).
  registerOwnershipRoutes(server, { docker, workers, ownership, configured: config.workers });
  registerValidationRoute(server, {
    source: 'api',
    service: { db, bus, approvals, approvalTtlS: config.approvalTimeoutS, metrics },
    resolve: async (name) => {
      if (!name) return { worker: null };
      const w = await workers.get(name);
      if (!w) throw wingmanError('WGM_ERR_API_NOT_FOUND', `no worker ${name.slice(0, 63)}`);
      const { rows } = await db.query<{ container: string | null }>(`SELECT container FROM workers WHERE name = $1`, [name]);
      const c = rows[0]?.container;
      return c ? { worker: name, container: new DockerodeWorkerContainer(docker, c) } : { worker: name };
    },
    tests: testProcessFrom(new Instructions(db)),
  });

  registerGrants(server, { config, db, bus, log, policy, approvals, docker });
  await server.ready();
  // Telegram (on when TELEGRAM_BOT_TOKEN is set): control/telegram/.
  const telegram = config.telegram.token ? await startTelegram({ config, db, bus, log, metrics, approvals, workers, lockdowns }) : undefined;
  const watcher = new Watcher({ db, bus, log, metrics, lockdowns, outbox: telegram?.outbox, config });
  watcher.start();
  await lockdowns.refreshGauge();
  return {
    server,
    approvals,
    workers,
    lockdowns,
    watcher,
    ...(telegram ? { telegram } : {}),
    async close() {
      await watcher.stop();
      if (!opts.lockMirror) await mirror.close();
      await telegram?.close();
      sweeper.stop();
      await server.close();
    },
  };
}
