// `wingman sidecar`: the per-worker sidecar process. Needs DATABASE_URL, REDIS_URL, WINGMAN_WORKER and
// WINGMAN_WORKER_CONTAINER; listens on 127.0.0.1:WINGMAN_SIDECAR_PORT (the worker shares its network namespace).
// Docker is reached only through its own read-only proxy identity (WINGMAN_SIDECAR_SOCKET, by default
// <socket dir>/_sidecar/<worker>/docker.sock), never the engine's socket. It refuses to run as root or as the
// worker's uid.
import { requireFor, type Config } from '../core/config.js';
import { wingmanError } from '../core/errors.js';

export async function runSidecar(config: Config): Promise<void> {
  requireFor(config, 'sidecar');
  if (!config.sidecarSocket || config.sidecarSocket === config.upstreamSocket) {
    throw wingmanError('WGM_ERR_CONFIG_INVALID', 'the sidecar reaches Docker through its own proxy identity, never the engine socket', {
      variables: ['WINGMAN_SIDECAR_SOCKET'],
    });
  }
  const { openRuntime, stopOnSignals } = await import('./runtime.js');
  const { openDocker } = await import('../core/docker/open-docker.js');
  const { buildSidecar } = await import('../sidecar/app.js');
  const { DockerodeWorkerContainer } = await import('../core/claims/dockerode-worker-container.js');
  const { assertSidecarUid } = await import('../sidecar/uid-check.js');
  const docker = openDocker(config.sidecarSocket);
  const container = new DockerodeWorkerContainer(docker, config.workerContainer!);
  await assertSidecarUid(container, process.getuid?.() ?? 0, config.sidecarAllowRoot);
  const rt = await openRuntime(config, 'sidecar');
  const app = await buildSidecar({ ...rt, docker, container });
  await app.server.listen({ host: '127.0.0.1', port: config.sidecarPort });
  rt.log.info({ port: config.sidecarPort, worker: config.worker, container: config.workerContainer }, 'sidecar listening on 127.0.0.1');
  const { startHeartbeat } = await import('../sidecar/heartbeat.js');
  const stopHeartbeat = startHeartbeat({ bus: rt.bus, log: rt.log, worker: config.worker!, container: config.workerContainer });
  stopOnSignals(rt, [() => app.close(), stopHeartbeat]);
}
