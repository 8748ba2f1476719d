// Builds the proxy: one unix socket per worker at <socket dir>/<worker>/docker.sock (a directory per worker, so a
// bind mount of the directory survives a proxy restart). The socket a call arrives on is the worker's identity.
// Tests build this without main.ts; main.ts only loads config and listens.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'node:net';
import { openDocker } from '../core/docker/open-docker.js';
import { ApprovalWaiter } from '../core/approvals/approval-waiter.js';
import { Approvals } from '../core/approvals/approvals.js';
import { Grants } from '../core/approvals/grants.js';
import { DockerAudit } from '../core/audit/docker-audit.js';
import { isWorkerName, SIDECAR_SOCKET_SUBDIR, sidecarSocketPath as sidecarSocketIn, workerSocketPath } from '../core/config.js';
import { wingmanError } from '../core/errors.js';
import type { PolicyFile } from '../core/policy/policy-file.js';
import type { Services } from '../core/services.js';
import { Workers } from '../core/workers/workers.js';
import { createForwarder } from './forward.js';
import { handleCall, type Identity, type ProxyDeps } from './handle-call.js';
import { WorkerContainers } from './worker-containers.js';
import { Ownership } from '../core/ownership/ownership.js';
import { EngineLookup } from '../core/docker/engine-lookup.js';
import { LockState } from './lock-state.js';
import { openLockMirror, type LockMirror } from '../core/lockdown/lock-mirror.js';
import { rejection, rejectSocket } from './reject.js';
import { ConnectionBudget } from './connection-budget.js';

export interface ProxyApp {
  addWorker(name: string): Promise<string>;
  removeWorker(name: string): Promise<void>;
  socketPath(name: string): string;
  /** the worker's sidecar identity: read-only, its worker's container only */
  sidecarSocketPath(name: string): string;
  workers(): string[];
  audit: DockerAudit;
  /** who owns which object, as this proxy sees it (the store, with this process's cache) */
  ownership: Ownership;
  close(): Promise<void>;
}

export interface ProxyOptions extends Services {
  policy: PolicyFile;
  /** lockdown mirror shared with control under `wingman up`; default: Redis when configured, else in-memory */
  lockMirror?: LockMirror;
}

export async function buildProxy(opts: ProxyOptions): Promise<ProxyApp> {
  const { config, db, bus, log, metrics, policy } = opts;
  const approvals = new Approvals(db, bus);
  // Runs of this proxy share a name (host and socket directory): a new run cancels what a killed one left waiting.
  const waiter = new ApprovalWaiter(approvals, bus, `${os.hostname()}:${config.socketDir}`);
  waiter.start();
  try {
    const left = await waiter.cancelLeftovers();
    if (left.length) log.warn({ count: left.length }, 'cancelled approvals that an earlier run of this proxy left waiting');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not cancel approvals left by an earlier run (the store is unreachable); the sweeper will');
  }
  const audit = new DockerAudit(db, path.join(config.dataDir, 'audit-log', 'proxy'), log, metrics, bus);
  audit.start();
  const workersRepo = new Workers(db, bus);
  const mirror = opts.lockMirror ?? openLockMirror(config, config.redisPrefix, db, log);
  const lockState = new LockState(workersRepo, bus, mirror);
  const forwarder = createForwarder(config.upstreamSocket);
  const docker = openDocker(config.upstreamSocket);
  const deps: ProxyDeps = {
    config,
    log,
    metrics,
    approvals,
    grants: new Grants(db, approvals),
    waiter,
    audit,
    policy,
    docker,
    forwarder,
    lockState,
    sensitivePaths: [config.socketDir, config.dataDir, config.upstreamSocket],
    workerContainers: new WorkerContainers(db, docker),
    ownership: new Ownership(db, bus),
    engine: new EngineLookup(config.upstreamSocket),
  };
  const servers = new Map<string, Array<{ server: http.Server; sockets: Set<Socket>; path: string }>>();
  fs.mkdirSync(config.socketDir, { recursive: true, mode: 0o755 });
  // Traversable, like the socket dir: each sidecar's own directory below it is what is closed.
  fs.mkdirSync(path.join(config.socketDir, SIDECAR_SOCKET_SUBDIR), { recursive: true, mode: 0o755 });

  const socketPath = (name: string) => workerSocketPath(config.socketDir, name);
  const sidecarSocketPath = (name: string) => sidecarSocketIn(config.socketDir, name);

  // Two sockets (worker and sidecar identity) per worker share the connection budget.
  const budget = new ConnectionBudget(config.maxConnections, config.maxConnectionsPerWorker, () => Math.max(1, servers.size * 2));

  /** A body that stops arriving (slowloris) is dropped; once the request is read, the connection may idle. */
  function watchBody(req: http.IncomingMessage): void {
    const sized = Number(req.headers['content-length'] ?? 0) > 0;
    if (req.complete || (!sized && req.headers['transfer-encoding'] === undefined)) return;
    const sock = req.socket;
    const onIdle = () => {
      if (!req.complete) sock.destroy();
    };
    const done = () => {
      sock.setTimeout(0);
      sock.off('timeout', onIdle);
    };
    sock.setTimeout(config.bodyIdleTimeoutMs);
    sock.on('timeout', onIdle);
    req.once('end', done);
    req.once('close', done);
  }

  /** A refusal that never became a call (unparseable, too slow, over the connection budget) is audited too. */
  function auditRefused(name: string, identity: Identity, status: number, reason: string): void {
    // Written before the refusal goes out (these handlers answer at once: the socket is the server's after them).
    audit.recordNow(
      DockerAudit.newRecord({
        worker: name,
        method: '-',
        route: 'invalid',
        path: '',
        rule: 'Invalid',
        decision: 'invalid',
        mode: identity === 'sidecar' ? 'sidecar' : config.policyMode,
        status_code: status,
        bytes_in: 0,
        bytes_out: 0,
        reason,
      }),
    );
  }

  async function listen(name: string, identity: Identity, sock: string) {
    const dir = path.dirname(sock);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    fs.rmSync(sock, { force: true }); // stale socket from a previous run
    const sockets = new Set<Socket>();
    const key = `${identity}:${name}`;
    const server = http.createServer(
      {
        // Headers must arrive within the limit (slowloris), checked every second; a whole request has no limit
        // (an image load may take long), but a body that stops sending is dropped (below).
        requestTimeout: 0,
        headersTimeout: config.headersTimeoutMs,
        connectionsCheckingInterval: 1_000,
        keepAliveTimeout: 5_000,
      },
      (req, res) => {
        watchBody(req);
        void handleCall(deps, name, req, { kind: 'http', res }, identity);
      },
    );
    server.on('upgrade', (req, socket, head) => {
      void handleCall(deps, name, req, { kind: 'upgrade', socket, head }, identity);
    });
    server.on('connect', (_req, socket) => {
      rejectSocket(socket, log, name, rejection('WGM_ERR_PROXY_PROTOCOL', 'CONNECT is not supported'));
    });
    server.on('clientError', (err, socket) => {
      // Unparseable HTTP (including HTTP/2 prior knowledge `PRI * HTTP/2.0`), or headers too slow: refuse, close,
      // and audit it like any other refused call.
      const code = (err as NodeJS.ErrnoException).code ?? 'parse error';
      const timeout = code === 'ERR_HTTP_REQUEST_TIMEOUT';
      const r = timeout
        ? rejection('WGM_ERR_PROXY_HEADERS_TIMEOUT', `request headers not received within ${config.headersTimeoutMs} ms`)
        : rejection('WGM_ERR_PROXY_PROTOCOL', `malformed or unsupported HTTP (${code})`);
      // Only what the HTTP parser refused (HPE_*, Node's ERR_HTTP_*) is a refused call. A socket error (the client
      // reset the connection or stopped reading: ECONNRESET, EPIPE) or a connection that never sent a byte (a
      // client's spare connection, dialled ahead and left idle until the header timeout) is not: closed, neither
      // counted nor audited.
      if (!/^(HPE_|ERR_HTTP_)/.test(code) || (socket as Socket).bytesRead === 0) {
        socket.destroy();
        return;
      }
      metrics.proxyRequests.inc({ rule: 'Invalid', decision: 'invalid' });
      auditRefused(name, identity, r.status, r.message);
      rejectSocket(socket, log, name, r);
    });
    server.on('connection', (s: Socket) => {
      const admitted = budget.admit(key);
      if (admitted === 'over_share' || admitted === 'full') {
        const r =
          admitted === 'over_share'
            ? rejection('WGM_ERR_PROXY_TOO_MANY_CONNECTIONS', `${name} has ${budget.count(key)} connections open (at most ${config.maxConnectionsPerWorker}); close some`)
            : rejection('WGM_ERR_PROXY_BUSY', `the proxy is at its connection limit (${config.maxConnections}); retry shortly`);
        metrics.proxyRequests.inc({ rule: 'Invalid', decision: 'invalid' });
        auditRefused(name, identity, r.status, r.message);
        rejectSocket(s, log, name, r);
        return;
      }
      sockets.add(s);
      s.once('close', () => {
        sockets.delete(s);
        budget.release(key, admitted);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The socket file must never exist with looser permissions, not even between bind and chmod.
      const old = process.umask(0o177);
      try {
        server.listen(sock, () => resolve());
      } finally {
        process.umask(old);
      }
    });
    fs.chmodSync(sock, 0o600);
    if (identity === 'sidecar' && config.sidecarGid !== undefined) {
      // The sidecar runs as a uid of its own: it reaches its identity through a group, never through the
      // worker's socket. chown to a group needs membership of it (or root); a failure stops the proxy loudly.
      fs.chownSync(dir, -1, config.sidecarGid);
      fs.chmodSync(dir, 0o750);
      fs.chownSync(sock, -1, config.sidecarGid);
      fs.chmodSync(sock, 0o660);
    }
    return { server, sockets, path: sock };
  }

  async function addWorker(name: string): Promise<string> {
    if (!isWorkerName(name)) throw wingmanError('WGM_ERR_WORKER_INVALID', name);
    if (servers.has(name)) return socketPath(name);
    servers.set(name, []); // claimed before the first await: a concurrent add for the same name returns here
    try {
      servers.get(name)!.push(await listen(name, 'worker', socketPath(name)));
      // Its sidecar's read-only identity, outside the worker's directory (which is what the worker gets mounted).
      servers.get(name)!.push(await listen(name, 'sidecar', sidecarSocketPath(name)));
    } catch (err) {
      await removeWorker(name);
      throw err;
    }
    log.info({ worker: name, socket: socketPath(name), sidecar: sidecarSocketPath(name) }, 'worker sockets listening');
    return socketPath(name);
  }

  async function removeWorker(name: string): Promise<void> {
    const list = servers.get(name);
    if (!list) return;
    servers.delete(name);
    for (const s of list) {
      await new Promise<void>((resolve) => {
        s.server.close(() => resolve());
        for (const sock of s.sockets) sock.destroy();
      });
      fs.rmSync(s.path, { force: true });
    }
  }

  for (const w of config.workers) await addWorker(w);
  try {
    for (const w of await workersRepo.list()) await addWorker(w.name);
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'could not list workers from the store; serving WINGMAN_WORKERS only');
  }
  const unwatch = bus.watch(['worker.added'], (e) => {
    deps.workerContainers.forget(e.data.worker);
    void addWorker(e.data.worker).catch((err) => log.warn({ err: (err as Error).message }, 'could not add worker socket'));
  });

  return {
    addWorker,
    removeWorker,
    socketPath,
    sidecarSocketPath,
    workers: () => [...servers.keys()],
    audit,
    ownership: deps.ownership,
    async close() {
      unwatch();
      for (const name of [...servers.keys()]) await removeWorker(name);
      waiter.stop();
      lockState.close();
      deps.ownership.close();
      deps.engine.close();
      if (!opts.lockMirror) await mirror.close();
      forwarder.close();
      await audit.stop();
    },
  };
}
