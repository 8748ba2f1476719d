// port_listening: the listening TCP sockets of the worker's network namespace, from its /proc/net/tcp and tcp6.
// The archive endpoint cannot read /proc (the engine reads the container's filesystem from its own side, where /proc
// is not mounted), so this reads them with one exec of `cat` in the worker's container.
import { listeningSockets } from '../proc-net-tcp.js';
import { verdict, type Verifier } from './verify-context.js';

export const verifyPortListening: Verifier = async (params, ctx) => {
  const verifier = 'port.proc-net-tcp';
  const port = Number(params.port);
  const info = await ctx.container.info();
  if (!info.running) return verdict('FALSE', verifier, `the worker's container is not running (${info.status})`, { port });
  const r = await ctx.container.exec(['cat', '/proc/net/tcp', '/proc/net/tcp6'], { timeoutMs: 10_000, maxOutputBytes: 4 * 1024 * 1024 });
  const sockets = listeningSockets(r.stdout);
  if (!/\blocal_address\b/.test(r.stdout)) {
    return verdict('UNVERIFIABLE', verifier, `could not read /proc/net/tcp in the worker's container (exit ${r.exitCode ?? 'none'}): ${r.stderr.trim().slice(0, 200)}`, { port });
  }
  const hits = sockets.filter((s) => s.port === port);
  const ev = { port, listening_on: hits.map((s) => s.address), listening_ports: [...new Set(sockets.map((s) => s.port))].sort((a, b) => a - b).slice(0, 50) };
  return hits.length
    ? verdict('TRUE', verifier, `TCP port ${port} is listening in the worker's network namespace`, ev)
    : verdict('FALSE', verifier, `nothing listens on TCP port ${port} in the worker's network namespace`, ev);
};
