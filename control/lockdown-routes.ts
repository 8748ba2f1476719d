// Ops routes for lockdown: lock a worker by hand, release it (both audited with who and why), and look at one.
import type { FastifyInstance } from 'fastify';
import type { Lockdowns } from '../core/lockdown/lockdowns.js';
import { isWorkerName } from '../core/config.js';
import { wingmanError } from '../core/errors.js';
import type { Workers } from '../core/workers/workers.js';

const body = {
  type: 'object',
  required: ['by', 'why'],
  additionalProperties: false,
  properties: { by: { type: 'string', minLength: 1, maxLength: 200 }, why: { type: 'string', minLength: 1, maxLength: 2000 } },
} as const;

export function registerLockdownRoutes(
  server: FastifyInstance,
  deps: { lockdowns: Lockdowns; workers: Workers; /** WINGMAN_WORKERS: known before their first row exists */ configured?: readonly string[] },
): void {
  const configured = new Set(deps.configured ?? []);
  const known = async (name: string) => {
    if (!isWorkerName(name)) throw wingmanError('WGM_ERR_API_NOT_FOUND', `no worker ${name.slice(0, 63)}`);
    const w = await deps.workers.get(name);
    if (w) return w;
    // A worker named in WINGMAN_WORKERS has a socket from the start; it has no row until something happens to it.
    if (configured.has(name)) return { name, created_at: null, locked: false, locked_reason: null, locked_at: null, locked_by: null };
    throw wingmanError('WGM_ERR_API_NOT_FOUND', `no worker ${name.slice(0, 63)}`);
  };

  server.get<{ Params: { name: string } }>('/workers/:name', async (req) => {
    const worker = await known(req.params.name);
    return { worker, lockdown_events: await deps.lockdowns.events(req.params.name) };
  });

  server.post<{ Params: { name: string }; Body: { by: string; why: string } }>('/workers/:name/lockdown', { schema: { body } }, async (req) => {
    await known(req.params.name);
    return deps.lockdowns.lock(req.params.name, req.body.why, `api:${req.body.by}`);
  });

  server.post<{ Params: { name: string }; Body: { by: string; why: string } }>('/workers/:name/unlock', { schema: { body } }, async (req) => {
    await known(req.params.name);
    return deps.lockdowns.unlock(req.params.name, `api:${req.body.by}`, req.body.why);
  });
}
