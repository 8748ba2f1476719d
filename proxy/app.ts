// Builds the proxy: one unix socket per worker at <socket dir>/<worker>/docker.sock (a directory per worker, so a
// bind mount of the directory survives a proxy restart). The socket a call arrives on is the worker's identity.
// Tests build this without main.ts; main.ts only loads config and listens.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Socket } from 'node:net';
import Dockerode from 'dockerode';
import { ApprovalWaiter } from '../core/approvals/approval-waiter.js';
import { Approvals } from '../core/approvals/approvals.js';
import { Grants } from '../core/approvals/grants.js';
import { DockerAudit, type DockerAuditRecord } from '../core/audit/docker-audit.js';
import { JsonlSpool } from '../core/audit/jsonl-spool.js';
import type { Bus } from '../core/bus/bus.js';
import { isWorkerName, SIDECAR_SOCKET_SUBDIR, sidecarSocketPath as sidecarSocketIn, workerSocketPath, type Config } from '../core/config.js';
import { wingmanError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import type { PolicyFile } from '../core/policy/policy-file.js';
import type { Db } from '../core/store/db.js';
import { Workers } from '../core/workers/workers.js';
import { createForwarder } from './forward.js';
import { handleCall, type Identity, type ProxyDeps } from './handle-call.js';
import { WorkerContainers } from './worker-containers.js';
import { Ownership } from '../core/ownership/ownership.js';
import { EngineLookup } from '../core/docker/engine-lookup.js';
import { LockState } from './lock-state.js';
import { openLockMirror, type LockMirror } from '../core/lockdown/lock-mirror.js';
import { rejectSocket } from './reject.js';

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

export interface ProxyOptions {
  config: Config;
  db: Db;
  bus: Bus;
  log: Logger;
  metrics: Metrics;
  policy: PolicyFile;
  /** lockdown mirror shared with control under `wingman up`; default: Redis when configured, else in-memory */
  lockMirror?: LockMirror;
}

export async function buildProxy(opts: ProxyOptions): Promise<ProxyApp> {
  const { config, db, bus, log, metrics, policy } = opts;
  const approvals = new Approvals(db, bus);
  const waiter = new ApprovalWaiter(approvals, bus);
  waiter.start();
  const spool = new JsonlSpool<DockerAuditRecord>(path.join(config.dataDir, 'spool', 'docker-audit.jsonl'));
  const audit = new DockerAudit(db, spool, log, metrics, bus);
  audit.start();
  const workersRepo = new Workers(db, bus);
  const mirror = opts.lockMirror ?? openLockMirror(config, config.redisPrefix);
  const lockState = new LockState(workersRepo, bus, mirror);
  const forwarder = createForwarder(config.upstreamSocket);
  const docker = new Dockerode({ socketPath: config.upstreamSocket });
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

  async function listen(name: string, identity: Identity, sock: string) {
    const dir = path.dirname(sock);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    fs.rmSync(sock, { force: true }); // stale socket from a previous run
    const sockets = new Set<Socket>();
    const server = http.createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 }, (req, res) => {
      void handleCall(deps, name, req, { kind: 'http', res }, identity);
    });
    server.on('upgrade', (req, socket, head) => {
      void handleCall(deps, name, req, { kind: 'upgrade', socket, head }, identity);
    });
    server.on('connect', (_req, socket) => {
      rejectSocket(socket, log, name, { status: 400, code: 'WGM_ERR_PROXY_PROTOCOL', message: 'CONNECT is not supported' });
    });
    server.on('clientError', (err, socket) => {
      // Unparseable HTTP (including HTTP/2 prior knowledge `PRI * HTTP/2.0`): refuse and close.
      metrics.proxyRequests.inc({ rule: 'Invalid', decision: 'invalid' });
      rejectSocket(socket, log, name, {
        status: 400,
        code: 'WGM_ERR_PROXY_PROTOCOL',
        message: `malformed or unsupported HTTP (${(err as NodeJS.ErrnoException).code ?? 'parse error'})`,
      });
    });
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
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
    deps.workerContainers.forget(String(e.data.worker));
    void addWorker(String(e.data.worker)).catch((err) => log.warn({ err: (err as Error).message }, 'could not add worker socket'));
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
