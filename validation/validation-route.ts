// POST /output_validation/validate, registered on the sidecar (worker = the sidecar's own worker; paths read from
// its container) and on the control API (ops; worker optional, paths need a worker with a registered container).
// The service and its validators (typescript, tree-sitter, the parsers: about 100 MB) load on the first request,
// so a process that never validates never loads them.
import type { FastifyInstance } from 'fastify';
import type { Approvals } from '../core/approvals/approvals.js';
import type { Bus } from '../core/bus/bus.js';
import type { WorkerContainer } from '../core/claims/worker-container.js';
import type { Instructions } from '../core/instructions/instructions.js';
import type { Metrics } from '../core/metrics.js';
import type { Db } from '../core/store/db.js';
import type { OutputValidations } from './output-validations.js';
import { VALIDATION_BODY_SCHEMA, type TestProcessSource, type ValidationRequest } from './validation-request.js';

export function testProcessFrom(instructions: Instructions): TestProcessSource {
  return {
    async testProcess(worker, instructionId) {
      const row = instructionId ? await instructions.get(instructionId) : await instructions.latestApproved(worker);
      return row && row.worker === worker && row.approved ? (row.test_process ?? undefined) : undefined;
    },
  };
}

/** What the service is built from (output-validations.ts), once, on the first request. */
export interface ValidationServiceDeps {
  db: Db;
  bus: Bus;
  approvals: Approvals;
  approvalTtlS: number;
  metrics?: Metrics;
}

export function registerValidationRoute(
  server: FastifyInstance,
  deps: {
    service: ValidationServiceDeps;
    source: 'sidecar' | 'api';
    /** the worker a request is for, and its container (the sidecar fixes both; the control API looks them up) */
    resolve: (requested: string | undefined) => Promise<{ worker: string | null; container?: WorkerContainer }>;
    tests?: TestProcessSource;
  },
): void {
  let loading: Promise<OutputValidations> | undefined;
  const validations = (): Promise<OutputValidations> => {
    const { db, bus, approvals, approvalTtlS, metrics } = deps.service;
    // A failed load is not remembered: the next request tries again rather than failing forever.
    loading ??= import('./output-validations.js').then(
      (m) => new m.OutputValidations(db, bus, approvals, approvalTtlS, metrics),
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    );
    return loading;
  };
  server.post<{ Body: ValidationRequest & { worker?: string } }>(
    '/output_validation/validate',
    { schema: { body: VALIDATION_BODY_SCHEMA }, bodyLimit: 32 * 1024 * 1024 },
    async (req, reply) => {
      const { worker: requested, ...request } = req.body;
      const { worker, container } = await deps.resolve(requested);
      const record = await (await validations()).run({ worker, source: deps.source, request, container, tests: deps.tests });
      return reply.status(200).send(record);
    },
  );
}
