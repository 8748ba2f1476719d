// Builds the sidecar: the per-worker gate (/check), claims (/log_claim, /verify), the execution report of
// `wingman run` (/executed), /health and /metrics, and the background verify loop. Listens on 127.0.0.1 only (cli/
// sidecar.ts); tests build this with an injected Docker handle and use inject() or port 0.
import path from 'node:path';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type Dockerode from 'dockerode';
import { DockerAudit } from '../core/audit/docker-audit.js';
import { PublishQueue } from '../core/bus/publish-queue.js';
import { VerifyLoop, type VerifyLoopOptions } from '../core/claims/verify-loop.js';
import { BaselineRecorder, type BaselineBounds } from '../core/claims/baseline-recorder.js';
import { TaskBaselines } from '../core/claims/task-baselines.js';
import { ClaimLog } from '../core/claims/claim-log.js';
import { ClaimSpool } from '../core/claims/claim-spool.js';
import { ClaimVerifier } from '../core/claims/claim-verifier.js';
import { Claims } from '../core/claims/claims.js';
import { DockerodeWorkerContainer } from '../core/claims/dockerode-worker-container.js';
import type { WorkerContainer } from '../core/claims/worker-container.js';
import { wingmanError } from '../core/errors.js';
import { errorHandler } from '../core/http/error-handler.js';
import { DecisionBatcher } from '../core/instructions/decision-batcher.js';
import { Instructions } from '../core/instructions/instructions.js';
import { GatePool } from '../core/gate/gate-pool.js';
import { WorkerLockCache } from '../core/lockdown/worker-lock-cache.js';
import type { Services } from '../core/services.js';
import { Workers } from '../core/workers/workers.js';
import { registerCheckRoute } from './check-route.js';
import { registerClaimRoutes } from './claim-routes.js';
import { registerExecutedRoute } from './executed-route.js';
import { Approvals } from '../core/approvals/approvals.js';
import { registerValidationRoute, testProcessFrom } from '../validation/validation-route.js';

export interface SidecarOptions extends Services {
  /** the Docker handle the verifiers look into the worker's container with (its own proxy identity or the engine) */
  docker: Dockerode;
  /** replaces the Docker-backed view of the worker's container (tests) */
  container?: WorkerContainer;
  verifyLoop?: Pick<VerifyLoopOptions, 'concurrency' | 'sweepMs' | 'leaseMs' | 'maxAttempts' | 'consumerId'> & { enabled?: boolean };
  /** tests_passed re-run limit (default 120 s) */
  testTimeoutMs?: number;
  /** task-start baseline bounds beyond the configured ones (tests, bench) */
  baseline?: Partial<BaselineBounds>;
  /** how long the gate trusts a cached lock state without a newer read (default 1000 ms; tests lengthen it) */
  lockCacheMs?: number;
  /** the gate's threads (core/gate/gate-pool.ts; default: by the number of cores) */
  gatePool?: ConstructorParameters<typeof GatePool>[0];
}

export interface SidecarApp {
  server: FastifyInstance;
  worker: string;
  instructions: Instructions;
  /** the group commit of gate decisions */
  decisions: DecisionBatcher;
  /** the gate's cached lock state */
  lock: WorkerLockCache;
  claims: Claims;
  claimLog: ClaimLog;
  verifyLoop: VerifyLoop;
  baselines: TaskBaselines;
  recorder: BaselineRecorder;
  audit: DockerAudit;
  container: WorkerContainer;
  close(): Promise<void>;
}

export async function buildSidecar(opts: SidecarOptions): Promise<SidecarApp> {
  const { config, db, bus, metrics } = opts;
  const worker = config.worker;
  if (!worker || !config.workerContainer) {
    throw wingmanError('WGM_ERR_CONFIG_INVALID', 'the sidecar needs WINGMAN_WORKER and WINGMAN_WORKER_CONTAINER', {
      variables: ['WINGMAN_WORKER', 'WINGMAN_WORKER_CONTAINER'],
    });
  }
  const log = opts.log.child({ svc: 'sidecar', worker });
  const instructions = new Instructions(db);
  const claims = new Claims(db);
  const workers = new Workers(db, bus);
  const lock = new WorkerLockCache({ worker, workers, bus, maxAgeMs: opts.lockCacheMs });
  const decisions = new DecisionBatcher({ db, worker, lock, metrics });
  const events = new PublishQueue({ bus, log, metrics });
  const gate = new GatePool({ log, ...opts.gatePool });
  const container = opts.container ?? new DockerodeWorkerContainer(opts.docker, config.workerContainer);
  const claimLog = new ClaimLog(claims, new ClaimSpool(path.join(config.dataDir, 'claims_audit.jsonl')), bus, log, metrics);
  const baselines = new TaskBaselines(db);
  const recorder = new BaselineRecorder({
    worker,
    container,
    store: baselines,
    log,
    metrics,
    bounds: { ...config.baseline, testTimeoutMs: opts.testTimeoutMs ?? 120_000, ...opts.baseline },
  });
  const verifier = new ClaimVerifier({ worker, container, db, instructions, baselines, recorder, testTimeoutMs: opts.testTimeoutMs });
  const verifyLoop = new VerifyLoop({ worker, claims, verifier, bus, log, metrics, ...opts.verifyLoop });
  const audit = new DockerAudit(db, path.join(config.dataDir, 'audit-log', 'sidecar'), log, metrics, bus);

  const server = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
  });
  server.setErrorHandler(errorHandler({ accepts: 'application/json (or text/markdown for /check)' }));
  // /check also takes the instruction as the raw body (curl --data-binary @task.md -H 'content-type: text/markdown').
  server.addContentTypeParser(['text/plain', 'text/markdown'], { parseAs: 'string' }, (_req, body, done) => done(null, body));

  server.get('/health', async (_req, reply) => {
    const [store, busOk, c] = await Promise.all([
      db.ping(),
      bus.ping(),
      container.info().then(
        (i) => ({ ok: true, running: i.running, status: i.status }),
        (err) => ({ ok: false, error: (err as Error).message.slice(0, 200) }),
      ),
    ]);
    metrics.storeUp.set(store ? 1 : 0);
    metrics.busUp.set(busOk ? 1 : 0);
    const ok = store && busOk && c.ok;
    metrics.health.set(ok ? 1 : 0);
    return reply.status(ok ? 200 : 503).send({
      status: ok ? 'ok' : 'degraded',
      worker,
      store: { kind: db.kind, ok: store },
      bus: { kind: bus.kind, ok: busOk },
      container: c,
      claims_spooled: claimLog.unstoredCount,
    });
  });

  server.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  registerCheckRoute(server, { worker, decisions, lock, gate, events, log, metrics, recorder });
  registerClaimRoutes(server, { worker, claims, claimLog, verifyLoop });
  registerExecutedRoute(server, { worker, config, instructions, audit });
  registerValidationRoute(server, {
    source: 'sidecar',
    service: { db, bus, approvals: new Approvals(db, bus), approvalTtlS: config.approvalTimeoutS, metrics },
    // The worker is always the sidecar's own; a body that names one is refused rather than silently ignored.
    resolve: async (requested) => {
      if (requested !== undefined) throw wingmanError('WGM_ERR_VALIDATION_INVALID', 'the sidecar validates for its own worker: leave out "worker"');
      return { worker, container };
    },
    tests: testProcessFrom(instructions),
  });

  await server.ready();
  audit.start();
  claimLog.start();
  if (opts.verifyLoop?.enabled !== false) verifyLoop.start();

  return {
    server,
    worker,
    instructions,
    decisions,
    lock,
    claims,
    claimLog,
    verifyLoop,
    baselines,
    recorder,
    audit,
    container,
    async close() {
      await server.close();
      lock.close();
      await gate.close();
      await events.stop();
      await recorder.stop();
      await verifyLoop.stop();
      await claimLog.stop();
      await audit.stop();
    },
  };
}
