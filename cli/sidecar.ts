// `wingman sidecar`: the per-worker sidecar process. Needs DATABASE_URL, REDIS_URL, WINGMAN_WORKER and
// WINGMAN_WORKER_CONTAINER; listens on 127.0.0.1:WINGMAN_SIDECAR_PORT (the worker shares its network namespace).
// Docker is reached through WINGMAN_UPSTREAM: in a deployment, point it at the sidecar's own proxy identity.
import { requireFor, type Config } from '../core/config.js';

export async function runSidecar(config: Config): Promise<void> {
  requireFor(config, 'sidecar');
  const { openRuntime } = await import('./runtime.js');
  const { default: Dockerode } = await import('dockerode');
  const { buildSidecar } = await import('../sidecar/app.js');
  const rt = await openRuntime(config, 'sidecar');
  const docker = new Dockerode({ socketPath: config.upstreamSocket });
  const app = await buildSidecar({ ...rt, docker });
  await app.server.listen({ host: '127.0.0.1', port: config.sidecarPort });
  rt.log.info({ port: config.sidecarPort, worker: config.worker, container: config.workerContainer }, 'sidecar listening on 127.0.0.1');
  const { startHeartbeat } = await import('../sidecar/heartbeat.js');
  const stopHeartbeat = startHeartbeat({ bus: rt.bus, log: rt.log, worker: config.worker!, container: config.workerContainer });
  const stop = async (signal: string) => {
    rt.log.info({ signal }, 'shutting down');
    stopHeartbeat();
    await app.close().catch(() => undefined);
    await rt.bus.close().catch(() => undefined);
    await rt.db.close().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
