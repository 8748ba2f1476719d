// POST /output_validation/validate, registered on the sidecar (worker = the sidecar's own worker; paths read from
// its container) and on the control API (ops; worker optional, paths need a worker with a registered container).
import type { FastifyInstance } from 'fastify';
import type { WorkerContainer } from '../claims/worker-container.js';
import type { Instructions } from '../instructions/instructions.js';
import { OutputValidations, VALIDATION_BODY_SCHEMA, type TestProcessSource, type ValidationRequest } from './output-validations.js';

export function testProcessFrom(instructions: Instructions): TestProcessSource {
  return {
    async testProcess(worker, instructionId) {
      const row = instructionId ? await instructions.get(instructionId) : await instructions.latestApproved(worker);
      return row && row.worker === worker && row.approved ? (row.test_process ?? undefined) : undefined;
    },
  };
}

export function registerValidationRoute(
  server: FastifyInstance,
  deps: {
    validations: OutputValidations;
    source: 'sidecar' | 'api';
    /** the worker a request is for, and its container (the sidecar fixes both; the control API looks them up) */
    resolve: (requested: string | undefined) => Promise<{ worker: string | null; container?: WorkerContainer }>;
    tests?: TestProcessSource;
  },
): void {
  server.post<{ Body: ValidationRequest & { worker?: string } }>(
    '/output_validation/validate',
    { schema: { body: VALIDATION_BODY_SCHEMA }, bodyLimit: 32 * 1024 * 1024 },
    async (req, reply) => {
      const { worker: requested, ...request } = req.body;
      const { worker, container } = await deps.resolve(requested);
      const record = await deps.validations.run({ worker, source: deps.source, request, container, tests: deps.tests });
      return reply.status(200).send(record);
    },
  );
}
