// The sidecar's heartbeat: every few seconds it tells the watcher it is alive. It names the container it watches,
// but the watcher records only the time: which container is a worker's is set by ops (POST /workers).
// A sidecar that stops (killed, crashed, cut off) stops beating, and the watcher locks its worker down.
import type { Bus } from '../core/bus/bus.js';
import type { Logger } from '../core/log.js';

export function startHeartbeat(o: { bus: Bus; log: Logger; worker: string; container?: string; everyMs?: number }): () => void {
  const beat = () =>
    o.bus
      .publish('worker.heartbeat', { worker: o.worker, container: o.container ?? null, at: new Date().toISOString() })
      .catch((err) => o.log.warn({ err: (err as Error).message }, 'heartbeat not published'));
  void beat();
  const timer = setInterval(() => void beat(), o.everyMs ?? 5_000);
  timer.unref();
  return () => clearInterval(timer);
}
