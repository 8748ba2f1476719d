// POST /executed: `wingman run` reports a command it ran for an approved instruction: argv, exit code, duration.
// Recorded in the execution audit (docker_audit, append-only) under this sidecar's worker, argv redacted; it is
// what command_executed claims are checked against. Answers once the row is in the store (or spooled).
import type { FastifyInstance } from 'fastify';
import { DockerAudit } from '../core/audit/docker-audit.js';
import { redactArgv } from '../core/claims/claim-input.js';
import { RUN_ROUTE } from '../core/claims/verifiers/verify-command.js';
import type { Config } from '../core/config.js';
import { wingmanError } from '../core/errors.js';
import type { Instructions } from '../core/instructions/instructions.js';

export interface ExecutedDeps {
  worker: string;
  config: Config;
  instructions: Instructions;
  audit: DockerAudit;
}

const bodySchema = {
  type: 'object',
  required: ['argv', 'exit_code', 'duration_ms', 'instruction_id'],
  additionalProperties: false,
  properties: {
    argv: { type: 'array', minItems: 1, maxItems: 256, items: { type: 'string', maxLength: 8192 } },
    exit_code: { type: 'integer', minimum: 0, maximum: 255 },
    duration_ms: { type: 'number', minimum: 0, maximum: 31 * 24 * 3600 * 1000 },
    instruction_id: { type: 'string', format: 'uuid' },
  },
} as const;

export function registerExecutedRoute(server: FastifyInstance, deps: ExecutedDeps): void {
  const { worker, config, instructions, audit } = deps;
  server.post<{ Body: { argv: string[]; exit_code: number; duration_ms: number; instruction_id: string } }>(
    '/executed',
    { schema: { body: bodySchema } },
    async (req, reply) => {
      const ins = await instructions.get(req.body.instruction_id);
      if (!ins || ins.worker !== worker) throw wingmanError('WGM_ERR_API_NOT_FOUND', `no instruction ${req.body.instruction_id} for worker ${worker}`);
      if (!ins.approved) throw wingmanError('WGM_ERR_API_CONFLICT', `instruction ${ins.id} was rejected; nothing may run under it`);
      const argv = await redactArgv(req.body.argv);
      const rec = DockerAudit.newRecord({
        worker,
        method: 'RUN',
        route: RUN_ROUTE,
        path: argv[0].slice(0, 1000),
        rule: 'WingmanRun',
        decision: 'allow',
        mode: config.policyMode,
        status_code: req.body.exit_code,
        duration_ms: req.body.duration_ms,
        bytes_in: 0,
        bytes_out: 0,
        reason: `instruction ${ins.id}`,
        argv,
      });
      await audit.record(rec);
      await audit.flush();
      return reply.status(201).send({ audit_id: rec.id });
    },
  );
}
