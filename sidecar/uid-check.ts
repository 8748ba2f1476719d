// The sidecar must not be readable or signalable by its worker: it runs as a non-root uid that differs from the
// worker container's. Checked at start from the engine's view of the worker (Config.User, names resolved through
// the container's own /etc/passwd); anything that cannot be told apart is refused, not assumed.
import { wingmanError } from '../core/errors.js';
import type { WorkerContainer } from '../core/claims/worker-container.js';

/** Resolve `Config.User` (`''`, `uid`, `uid:gid`, `name`, `name:group`) to a uid, or a reason it cannot be. */
export function workerUid(user: string, passwd: string | undefined): number | { reason: string } {
  const name = user.split(':')[0] ?? '';
  if (name === '') return 0; // the image default; an image USER shows up here as set, so '' is root
  if (/^\d+$/.test(name)) return Number(name);
  for (const line of (passwd ?? '').split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 3 && /^\d+$/.test(f[2] ?? '')) return Number(f[2]);
  }
  return { reason: `user ${JSON.stringify(name.slice(0, 64))} is not in the worker container's /etc/passwd` };
}

/** Why the sidecar may not run as `ownUid` next to this worker, or undefined when it may. */
export function uidProblem(ownUid: number, allowRoot: boolean, worker: number | { reason: string }): string | undefined {
  if (ownUid === 0 && !allowRoot) {
    return 'wingman sidecar must not run as root: give it a uid of its own (WINGMAN_SIDECAR_ALLOW_ROOT=true is for single-user development only)';
  }
  if (typeof worker !== 'number') return `cannot tell the worker container's uid (${worker.reason}); refusing to share it by accident`;
  if (worker === ownUid) {
    return `the sidecar runs as uid ${ownUid}, the same as its worker's container: the worker could read its credentials and forge its records`;
  }
  return undefined;
}

/** Throws WGM_ERR_CONFIG_INVALID (naming the variables) when the sidecar may not run as this process's uid. */
export async function assertSidecarUid(container: WorkerContainer, ownUid: number, allowRoot: boolean): Promise<void> {
  const { user } = await container.info();
  let uid = workerUid(user, undefined);
  // A name, not a number: only then is the container's own passwd read.
  if (typeof uid !== 'number') uid = workerUid(user, (await container.readFile('/etc/passwd', 1024 * 1024))?.content?.toString('utf8'));
  const problem = uidProblem(ownUid, allowRoot, uid);
  if (problem) {
    throw wingmanError('WGM_ERR_CONFIG_INVALID', problem, { variables: ['WINGMAN_WORKER_CONTAINER', 'WINGMAN_SIDECAR_ALLOW_ROOT'] });
  }
}
