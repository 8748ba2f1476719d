// `wingman <command>`: one binary for every process and the ops commands.
import fs from 'node:fs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { loadConfig, requireFor, type Config } from '../core/config.js';
import { isWingmanError } from '../core/errors.js';
import type { LockResult } from '../core/lockdown/lockdowns.js';
import { asText } from '../core/util/as-text.js';
import type { ApprovalAnswer, ApprovalsAnswer, DecisionAnswer, WorkersAnswer, WorkerView } from '../control/api-schema.js';
import { APPROVAL_STATUSES } from '../control/api-values.js';
import { approvalText, approvalsText } from './approval-text.js';
import { callControl, ControlError } from './ops-client.js';
import { wingmanVersion } from './version.js';

const HELP = `usage: wingman <command>

  up                       control + proxy in one process (embedded store and bus unless configured)
  control                  the control service (needs DATABASE_URL, REDIS_URL, WINGMAN_API_TOKEN)
  proxy                    the Docker socket proxy (needs DATABASE_URL, REDIS_URL)
  sidecar                  a worker's sidecar: gate, claims, verify loop (needs WINGMAN_WORKER, WINGMAN_WORKER_CONTAINER)
  run --instruction FILE -- CMD [ARGS...]
                           check the instruction with the sidecar, run CMD if approved (exit 2 if rejected), record it
  migrate                  apply database migrations and exit
  approvals [--status S] [--worker W] [--watch]
                           list approvals with their whole effect (default: pending);
                           --watch: then show each new held call and decision as it happens
  show <id>                one approval: its effect, history and the Docker calls made with it
  approve <id> [--note T]  approve a held Docker call
  deny <id> [--note T]     deny a held Docker call
  workers [add <name> [--container C]]
                           list workers, or add one (creates its proxy sockets; C: its container)
  workers show <worker>    a worker's lock state and the Docker objects it owns
  workers adopt <worker> <kind> <name|id>... [--force]
                           make existing objects a worker's own (kind: container, volume, network, image;
                           --force moves them from another worker)
  lockdown <worker> --why T  lock a worker down by hand (Docker calls refused, container paused)
  unlock <worker> [--why T]  release a locked-down worker
  validate [--json] [--test-results FILE] [--staged] PATH...
                           validate code offline (exit 0 approve, 1 reject, 2 manual review)
  --version                print the version

The console (approve, watch workers, read the audit) is at the control API's address, e.g. http://127.0.0.1:5001/.
`;

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
}

async function serve(config: Config, command: 'up' | 'control' | 'proxy'): Promise<void> {
  requireFor(config, command);
  // Heavy modules load only for the long-running commands, so ops commands start fast.
  const { openRuntime, stopOnSignals } = await import('./runtime.js');
  // The data directory is locked first: a second process on it is refused before the apps are even loaded.
  const rt = await openRuntime(config, command);
  // Under `wingman up` control and proxy share one lockdown mirror (in memory unless REDIS_URL is set).
  const { openLockMirror } = await import('../core/lockdown/lock-mirror.js');
  const lockMirror = openLockMirror(config, config.redisPrefix, rt.db, rt.log);
  const closers: Array<() => Promise<void>> = [];
  let tokenFile: string | undefined;
  let workerNames: readonly string[] = [];
  if (command === 'up' || command === 'control') {
    // Each app loads only in the process that serves it: a standalone proxy never loads the control API (and its
    // console, validation and Telegram modules), a standalone control never loads the proxy.
    const { ensureApiToken } = await import('./api-token.js');
    const { buildControl } = await import('../control/app.js');
    const { token, file } = ensureApiToken(config);
    const control = await buildControl({ ...rt, apiToken: token, lockMirror });
    await control.server.listen({ host: config.host, port: config.port });
    rt.log.info({ port: config.port, tokenFile: file, console: `http://${config.host}:${config.port}/` }, 'control API and console listening');
    closers.push(() => control.close());
    tokenFile = file;
  }
  if (command === 'up' || command === 'proxy') {
    const { buildProxy } = await import('../proxy/app.js');
    const proxy = await buildProxy({ ...rt, lockMirror });
    rt.log.info({ socketDir: config.socketDir, workers: proxy.workers() }, 'proxy ready');
    closers.push(() => proxy.close());
    workerNames = proxy.workers();
    if (command === 'proxy') {
      // A standalone proxy still answers /health and /metrics for Prometheus, on WINGMAN_PORT.
      const http = await import('node:http');
      const server = http.createServer((req, res) => {
        void (async () => {
          if (req.url === '/metrics') {
            rt.metrics.storeUp.set((await rt.db.ping()) ? 1 : 0);
            res.writeHead(200, { 'content-type': rt.metrics.registry.contentType }).end(await rt.metrics.registry.metrics());
          } else if (req.url === '/health') {
            const ok = (await rt.db.ping()) && (await rt.bus.ping());
            res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'ok' : 'degraded' }));
          } else res.writeHead(404).end();
        })();
      });
      await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
      closers.push(() => new Promise<void>((r) => server.close(() => r())));
    }
  }
  if (command === 'up' && process.stdout.isTTY) {
    const { upBanner } = await import('./banner.js');
    process.stdout.write(
      upBanner({
        config,
        tokenFile,
        workers: workerNames,
        store: rt.db.kind === 'postgres' ? 'Postgres' : 'embedded Postgres (PGlite)',
        bus: rt.bus.kind === 'redis' ? 'Redis' : 'in-process',
        version: wingmanVersion(),
      }) + '\n',
    );
  }
  stopOnSignals(rt, [() => lockMirror.close(), ...closers]);
  // Every Docker call goes to WINGMAN_UPSTREAM: say at start whether anything answers there. Not fatal (the
  // engine may start after us), but loud, with the path and the variable that sets it.
  const { pingEngine, engineUnreachable } = await import('../core/docker/ping-engine.js');
  const engine = await pingEngine(config.upstreamSocket);
  if (engine.ok) rt.log.info({ upstream: config.upstreamSocket, apiVersion: engine.apiVersion }, 'docker engine answers');
  else {
    rt.log.warn(
      { upstream: config.upstreamSocket, detail: engine.reason },
      `WARNING: ${engineUnreachable(config.upstreamSocket)}: every Docker call will be refused with 502 until an engine answers there (set WINGMAN_UPSTREAM=unix:///path/to/docker.sock)`,
    );
  }
}


/** Engine ids (64 hex) as `docker ps` shows them; names and image references as they are. */
function shortId(id: string): string {
  return /^(sha256:)?[0-9a-f]{64}$/.test(id) ? id.replace(/^sha256:/, '').slice(0, 12) : id;
}

/** GET /workers/:name/objects (control/ownership-routes.ts) */
interface WorkerObjectsAnswer {
  worker: Pick<WorkerView, 'name' | 'locked' | 'locked_reason' | 'locked_by' | 'locked_at'>;
  objects: { kind: string; id: string; name: string | null; source: string }[];
}

/** POST /workers/:name/adopt (control/ownership-routes.ts) */
interface AdoptAnswer {
  worker?: string;
  adopted: { kind: string; id: string; name: string; previous_owner?: string; already_owned?: true }[];
}

/** POST /workers (control/app.ts) */
interface WorkerAddedAnswer {
  worker: { name: string };
  socket: string;
  sidecar_socket: string;
}

function printWorkerObjects(w: WorkerObjectsAnswer['worker'], objects: WorkerObjectsAnswer['objects']): void {
  console.log(
    w.locked
      ? `${w.name}  LOCKED (${w.locked_reason})${w.locked_by ? ` by ${w.locked_by}` : ''}${w.locked_at ? ` at ${w.locked_at}` : ''}`
      : `${w.name}  not locked`,
  );
  if (objects.length === 0) {
    console.log('owns no objects');
    return;
  }
  const rows = objects.map((o) => [o.kind, shortId(o.id), o.name ?? '-', o.source]);
  const width = (i: number) => Math.max(...rows.map((r) => r[i].length));
  const widths = [width(0), width(1), width(2)];
  let kind: string | undefined;
  for (const r of rows) {
    if (r[0] !== kind) {
      kind = r[0];
      console.log(`${kind}s:`);
    }
    console.log(`  ${r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c)).join('  ')}`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP);
    return command ? 0 : 2;
  }
  if (command === '--version' || command === '-v' || command === 'version') {
    console.log(`wingman ${wingmanVersion()}`);
    return 0;
  }
  if (command === 'validate') {
    const { runValidateCli } = await import('./validate.js');
    return runValidateCli(args, { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd() });
  }
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (isWingmanError(err)) {
      const vars = (err as { details?: { variables?: string[] } }).details?.variables;
      return fail(`${err.message}${vars?.length ? ` (fix ${[...new Set(vars)].join(', ')} in the environment)` : ''}`);
    }
    throw err;
  }
  const me = `${os.userInfo().username}@${os.hostname()}`;
  switch (command) {
    case 'up':
    case 'control':
    case 'proxy':
      await serve(config, command);
      return -1; // keep running
    case 'sidecar': {
      const { runSidecar } = await import('./sidecar.js');
      await runSidecar(config);
      return -1;
    }
    case 'run': {
      const { runRun } = await import('./run.js');
      return runRun(config, args);
    }
    case 'migrate': {
      const { openRuntime } = await import('./runtime.js');
      const rt = await openRuntime(config, 'migrate');
      await rt.bus.close();
      await rt.db.close();
      await rt.dataDirLock.release();
      console.log('migrations applied');
      return 0;
    }
    case 'approvals': {
      const watch = args.includes('--watch');
      const rest = args.filter((a) => a !== '--watch');
      const status = flag(rest, '--status') ?? 'pending';
      const worker = flag(rest, '--worker');
      if (rest.length) return fail(`unknown argument ${rest[0]}: usage: wingman approvals [--status S] [--worker W] [--watch]`);
      if (!(APPROVAL_STATUSES as readonly string[]).includes(status)) {
        return fail(`unknown status ${JSON.stringify(status.slice(0, 40))}: --status takes one of ${APPROVAL_STATUSES.join(', ')}`);
      }
      if (watch) {
        if (status !== 'pending' || worker) return fail('--watch follows pending approvals of every worker; drop --status and --worker');
        const { watchApprovals } = await import('./watch-approvals.js');
        const ctl = new AbortController();
        process.once('SIGINT', () => ctl.abort());
        process.once('SIGTERM', () => ctl.abort());
        return watchApprovals(config, { out: (s) => process.stdout.write(s), signal: ctl.signal });
      }
      const q = new URLSearchParams({ status, ...(worker ? { worker } : {}) });
      const r = await callControl<ApprovalsAnswer>(config, 'GET', `/approvals?${q}`);
      if (r.status !== 200) return fail(r.json.message);
      console.log(approvalsText(r.json.approvals));
      return 0;
    }
    case 'show': {
      const id = args[0];
      if (!id || args.length > 1) return fail('usage: wingman show <approval id> (the ids `wingman approvals` lists)');
      const r = await callControl<ApprovalAnswer>(config, 'GET', `/approvals/${encodeURIComponent(id)}`);
      if (r.status === 404) return fail(`no approval ${id.slice(0, 64)}: \`wingman approvals --status S\` lists the ids`);
      if (r.status !== 200) return fail(r.json.message);
      console.log(approvalText(r.json.approval));
      console.log('\nHistory:');
      for (const e of r.json.events) {
        const d = e.detail;
        const note = typeof d === 'object' && d !== null && 'note' in d && d.note ? `: ${asText(d.note)}` : '';
        console.log(`  ${String(e.at).slice(0, 19).replace('T', ' ')}  ${e.event}${e.actor ? ` by ${e.actor}` : ''}${note}`);
      }
      if (r.json.calls?.length) {
        console.log('\nDocker calls:');
        for (const c of r.json.calls) console.log(`  ${String(c.at).slice(0, 19).replace('T', ' ')}  ${c.method} ${c.path}  ${c.decision}${c.status_code ? ` ${c.status_code}` : ''}`);
      }
      return 0;
    }
    case 'approve':
    case 'deny': {
      const note = flag(args, '--note');
      const by = flag(args, '--by') ?? me;
      const id = args[0];
      if (!id) return fail(`usage: wingman ${command} <id> [--note TEXT]`);
      const r = await callControl<DecisionAnswer>(config, 'POST', `/approvals/${encodeURIComponent(id)}/${command}`, {
        by,
        ...(note ? { note } : {}),
      });
      if (r.status !== 200) return fail(r.json.message);
      console.log(`${r.json.approval.id} ${r.json.approval.status}`);
      return 0;
    }
    case 'lockdown':
    case 'unlock': {
      const why = flag(args, '--why') ?? (command === 'unlock' ? 'released by ops' : undefined);
      const by = flag(args, '--by') ?? me;
      const worker = args[0];
      if (!worker || !why) return fail(`usage: wingman ${command} <worker> ${command === 'lockdown' ? '--why TEXT' : '[--why TEXT]'}`);
      const r = await callControl<LockResult>(config, 'POST', `/workers/${encodeURIComponent(worker)}/${command}`, { by, why });
      if (r.status !== 200) return fail(r.json.message);
      const c = r.json.container;
      console.log(`${worker} ${command === 'lockdown' ? 'locked down' : 'unlocked'}${r.json.changed ? '' : ' (no change)'}; container: ${c.action}${c.ok ? '' : ` (${c.detail})`}`);
      return 0;
    }
    case 'workers': {
      if (args[0] === 'add') {
        // --container <name|id>: the worker's container (what lockdown pauses and its sidecar may read)
        const at = args.indexOf('--container');
        const container = at > 0 ? args[at + 1] : undefined;
        if (at > 0 && !container) return fail('--container needs a container name or id');
        const r = await callControl<WorkerAddedAnswer>(config, 'POST', '/workers', { name: args[1] ?? '', ...(container ? { container } : {}) });
        if (r.status !== 201) return fail(r.json.message);
        console.log(`${r.json.worker.name}  socket ${r.json.socket}  sidecar socket ${r.json.sidecar_socket}`);
        return 0;
      }
      if (args[0] === 'adopt') {
        const force = args.includes('--force');
        const rest = args.filter((a) => a !== '--force');
        const by = flag(rest, '--by') ?? me;
        const [, worker, kind, ...refs] = rest;
        if (!worker || !kind || refs.length === 0) return fail('usage: wingman workers adopt <worker> <kind> <name|id>... [--force]');
        const kinds = ['container', 'volume', 'network', 'image'];
        if (!kinds.includes(kind)) return fail(`unknown kind ${kind}: one of ${kinds.join(', ')}`);
        const r = await callControl<AdoptAnswer>(config, 'POST', `/workers/${encodeURIComponent(worker)}/adopt`, { kind, refs, by, ...(force ? { force } : {}) });
        if (r.status !== 200) return fail(r.json.message);
        for (const o of r.json.adopted) {
          const note = o.already_owned ? ' (already its own)' : o.previous_owner ? ` (was ${o.previous_owner}'s)` : '';
          console.log(`adopted ${o.kind} ${shortId(o.id)} (${o.name}) for ${r.json.worker ?? worker}${note}`);
        }
        return 0;
      }
      if (args[0] === 'show') {
        const worker = args[1];
        if (!worker) return fail('usage: wingman workers show <worker>');
        const r = await callControl<WorkerObjectsAnswer>(config, 'GET', `/workers/${encodeURIComponent(worker)}/objects`);
        if (r.status !== 200) return fail(r.json.message);
        printWorkerObjects(r.json.worker, r.json.objects);
        return 0;
      }
      if (args.length > 0) return fail(`unknown workers command ${args[0]} (add, show, adopt)`);
      const r = await callControl<WorkersAnswer>(config, 'GET', '/workers');
      if (r.status !== 200) return fail(r.json.message);
      for (const w of r.json.workers) console.log(`${w.name}${w.locked ? `  LOCKED (${w.locked_reason})` : ''}`);
      return 0;
    }
    default:
      process.stderr.write(`wingman: unknown command ${JSON.stringify(command.slice(0, 40))}: \`wingman --help\` lists the commands\n`);
      return 2;
  }
}

function fail(message: string | undefined): number {
  console.error(`wingman: ${String(message ?? 'failed').replace(/\s*\n\s*/g, ' ')}`);
  return 1;
}

/** Any failure as one line: what went wrong and, where we know it, what to do. No stack traces. */
export function errorLine(err: unknown): string {
  if (err instanceof ControlError || isWingmanError(err)) return `wingman: ${err.message}`;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EADDRINUSE') return `wingman: the port is in use (${e.message}): stop the other process or set WINGMAN_PORT`;
  if (e?.code === 'EACCES') return `wingman: permission denied (${e.message}): check the data and socket directories' owner`;
  if (e?.code === 'ECONNREFUSED') return `wingman: connection refused (${e.message}): is the store or bus running? Check DATABASE_URL and REDIS_URL`;
  return `wingman: ${(e?.message ?? String(err)).split('\n')[0]} (WINGMAN_LOG_LEVEL=debug logs more)`;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href;
/** Run the CLI as a process: its exit code, or one line saying what went wrong and what to do. */
export function runMain(argv: string[]): void {
  main(argv).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (err) => {
      console.error(errorLine(err));
      process.exit(1);
    },
  );
}

if (invokedDirectly) runMain(process.argv.slice(2));
