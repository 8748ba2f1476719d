// Configuration: every environment variable Wingman reads is declared here, validated once, and frozen.
// Callers pass `env` in so tests need no globals (process.env is only the default).
import path from 'node:path';
import { z } from 'zod';
import { wingmanError } from './errors.js';

const WORKER_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
/** Sidecar identities live beside the worker directories; `_` cannot start a worker name, so they never collide. */
export const SIDECAR_SOCKET_SUBDIR = '_sidecar';

/** A worker's proxy socket: `<socket dir>/<worker>/docker.sock` (the directory is what the worker gets mounted). */
export const workerSocketPath = (socketDir: string, worker: string) => path.join(socketDir, worker, 'docker.sock');
/** Its sidecar's read-only identity: `<socket dir>/_sidecar/<worker>/docker.sock`, outside the worker's directory. */
export const sidecarSocketPath = (socketDir: string, worker: string) => path.join(socketDir, SIDECAR_SOCKET_SUBDIR, worker, 'docker.sock');

const csv = (item: z.ZodString) =>
  z
    .string()
    .default('')
    .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(item));

const port = (def: number) => z.coerce.number().int().min(1).max(65535).default(def);
const optional = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : s.trim()));

const url = (protocols: string[]) =>
  optional.refine(
    (s) => {
      if (s === undefined) return true;
      try {
        return protocols.includes(new URL(s).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL with scheme ${protocols.join(' or ')}` },
  );

// Keys are the environment variable names so an error can name the variable exactly; each says what it is for
// (docs/configuration.md is generated from these: scripts/gen-config-doc.mjs).
export const configSchema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:'])
    .describe('Postgres the processes share (postgres://…). Unset under `wingman up`: an embedded store in the data directory. Required by `control`, `proxy` and `sidecar`.'),
  REDIS_URL: url(['redis:', 'rediss:'])
    .describe('Redis for the event bus and the lockdown mirror (redis://…). Unset under `wingman up`: an in-process bus. Required by `control`, `proxy` and `sidecar`.'),
  WINGMAN_DATA_DIR: z.string().min(1).default('./.wingman')
    .describe('Where Wingman keeps its state: the embedded store, audit spools, sockets (unless `WINGMAN_SOCKET_DIR`).'),
  WINGMAN_PORT: port(5001)
    .describe('Port of the control API and console.'),
  WINGMAN_HOST: z.string().min(1).default('127.0.0.1')
    .describe('Address the control API listens on.'),
  WINGMAN_UPSTREAM: z
    .string()
    .default('unix:///var/run/docker.sock')
    .refine((s) => /^unix:\/\/\/.+/.test(s), { message: 'expected unix:///path/to/docker.sock' })
    .describe('The real Docker engine the proxy forwards to (unix:///path).'),
  WINGMAN_SOCKET_DIR: z.string().min(1).optional()
    .describe('Where the proxy creates one socket per worker (`<dir>/<worker>/docker.sock`) and the sidecar identities (`<dir>/_sidecar/<worker>/docker.sock`). Default: `<data dir>/sockets`.'),
  WINGMAN_WORKERS: csv(z.string().regex(WORKER_NAME, 'worker names are lowercase [a-z0-9_.-], up to 63 chars'))
    .describe('Workers the proxy serves, comma-separated (lowercase [a-z0-9_.-]); workers added by the API are served too.'),
  WINGMAN_APPROVAL_TIMEOUT_S: z.coerce.number().int().min(1).max(86400).default(600)
    .describe('How long a held call waits for a human decision before it expires (seconds).'),
  WINGMAN_API_TOKEN: optional.refine((s) => s === undefined || s.length >= 16, {
    message: 'expected at least 16 characters',
  })
    .describe('Bearer token ops present to the control API (16+ characters). Required by `wingman control`; generated under `wingman up` when unset.'),
  WINGMAN_POLICY_FILE: optional
    .describe('Per-worker policy file (YAML or JSON); see docs/policy.md. Unset: the built-in policy.'),
  WINGMAN_POLICY_MODE: z.enum(['enforce', 'shadow']).default('enforce')
    .describe('`enforce` refuses what the policy denies; `shadow` forwards it and records what would have happened (worker identity only).'),
  WINGMAN_MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024)
    .describe('(proxy) Largest request body the proxy inspects; larger is refused (413).'),
  WINGMAN_MAX_PENDING_PER_WORKER: z.coerce.number().int().min(1).max(10_000).default(10)
    .describe('Held calls one worker may have waiting at once; more get 429.'),
  WINGMAN_MAX_CONNECTIONS: z.coerce.number().int().min(16).max(1_000_000).default(4096)
    .describe('(proxy) Open connections in all; each worker socket keeps a share others cannot take.'),
  WINGMAN_MAX_CONNECTIONS_PER_WORKER: z.coerce.number().int().min(2).max(1_000_000).default(256)
    .describe('(proxy) Open connections one worker socket may hold; more get 429.'),
  WINGMAN_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000)
    .describe('(proxy) A request’s headers must arrive within this (slowloris); later gets 408.'),
  WINGMAN_BODY_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000)
    .describe('(proxy) A request body that sends nothing for this long is dropped.'),
  WINGMAN_WORKER: optional.refine((s) => s === undefined || WORKER_NAME.test(s), { message: 'invalid worker name' })
    .describe('(sidecar) The worker this sidecar watches. Required by `wingman sidecar`.'),
  WINGMAN_WORKER_CONTAINER: optional
    .describe('(sidecar) The worker’s container (id or name) the claims are verified in. Required by `wingman sidecar`.'),
  WINGMAN_SIDECAR_PORT: port(8787)
    .describe('(sidecar) Port of the sidecar’s HTTP API on 127.0.0.1.'),
  WINGMAN_SIDECAR_SOCKET: optional.refine((s) => s === undefined || /^(unix:\/\/)?\/.+/.test(s), {
    message: 'expected an absolute socket path (or unix:///path)',
  })
    .describe('(sidecar) Its read-only proxy identity. Default: `<socket dir>/_sidecar/<worker>/docker.sock`.'),
  WINGMAN_SIDECAR_GID: optional.refine((s) => s === undefined || /^\d{1,10}$/.test(s), { message: 'expected a numeric group id' })
    .describe('(proxy) Group that owns the sidecar sockets (0660), so a sidecar running as its own uid can connect.'),
  WINGMAN_SIDECAR_ALLOW_ROOT: z.enum(['true', 'false', '1', '0', '']).default('false')
    .describe('(sidecar) Run as root anyway: single-user development only.'),
  WINGMAN_SIDECAR_URL: url(['http:', 'https:']).default('http://127.0.0.1:8787')
    .describe('(`wingman run`, `wingman check`) Where the sidecar is.'),
  WINGMAN_BASELINE_BUDGET_MS: z.coerce.number().int().min(0).max(60_000).default(2_000)
    .describe('(sidecar) How long /check waits for the task-start baseline before answering.'),
  WINGMAN_BASELINE_TIMEOUT_S: z.coerce.number().int().min(1).max(3600).default(60)
    .describe('(sidecar) How long the task-start baseline may take in all.'),
  WINGMAN_BASELINE_MAX_FILES: z.coerce.number().int().min(1).max(1_000_000).default(20_000)
    .describe('(sidecar) How many files the task-start baseline reads at most.'),
  WINGMAN_CONTROL_URL: url(['http:', 'https:'])
    .describe('(CLI) Where the control API is, for `wingman approve`, `unlock`, … Default: `http://127.0.0.1:<WINGMAN_PORT>`.'),
  WINGMAN_LOCKDOWN_ACTION: z.enum(['pause', 'stop', 'none']).default('pause')
    .describe('What a lockdown does to the worker’s container (set by ops with `POST /workers {name, container}`): `pause`, `stop` or `none`.'),
  WINGMAN_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (up to 64)').default('wingman')
    .describe('Prefix of every Redis key and stream, so several deployments can share one Redis.'),
  WINGMAN_HEARTBEAT_TIMEOUT_S: z.coerce.number().int().min(2).max(3600).default(30)
    .describe('A sidecar silent for this long gets its worker locked down (seconds).'),
  WINGMAN_GATE_REJECT_ALERT: z.coerce.number().int().min(1).max(1000).default(5)
    .describe('Instructions in a row the gate rejects before ops are alerted.'),
  WINGMAN_ALERT_GROUP_S: z.coerce.number().int().min(0).max(3600).default(30)
    .describe('FALSE-claim alerts for one worker within this window are folded into one summary (seconds; 0: never).'),
  WINGMAN_DIGEST_INTERVAL_S: z.coerce.number().int().min(10).max(86400).default(3600)
    .describe('How often UNVERIFIABLE verdicts are summarised (seconds).'),
  WINGMAN_WORKER_TOKENS: csv(
    z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}:[A-Za-z0-9._-]{16,256}$/, 'expected worker:token pairs (token: 16+ of A-Z a-z 0-9 . _ -)'),
  ).refine((pairs) => new Set(pairs.map((p) => p.split(':')[0])).size === pairs.length, { message: 'a worker is listed twice' })
    .refine((pairs) => new Set(pairs.map((p) => p.slice(p.indexOf(':') + 1))).size === pairs.length, { message: 'two workers share a token' })
    .describe('Shell-wrapper grants: each worker’s own token, as `worker:token` pairs, comma-separated (never the ops token).'),
  WINGMAN_GRANT_TTL_S: z.coerce.number().int().min(1).max(3600).default(120)
    .describe('How long an approved shell-wrapper grant stays usable after the decision (seconds).'),
  WINGMAN_TWO_PERSON_WORKERS: csv(z.string().regex(WORKER_NAME, 'invalid worker name'))
    .describe('Workers whose approvals need two different approvers, comma-separated.'),
  WINGMAN_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')
    .describe('Log level.'),
  WINGMAN_LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto')
    .describe('`json` (one object a line), `pretty` (readable lines), or `auto`: pretty on a terminal, JSON otherwise.'),
  TELEGRAM_BOT_TOKEN: optional
    .describe('Telegram bot token; set, the control service runs the bot (approvals, alerts, /lockdown, /unlock). See docs/telegram.md.'),
  TELEGRAM_CHAT_ID: optional.refine((s) => s === undefined || /^-?\d+$|^@\w+$/.test(s), {
    message: 'expected a numeric chat id or @channel',
  })
    .describe('The chat approvals and alerts go to (numeric id or @channel).'),
  TELEGRAM_APPROVER_IDS: csv(z.string().regex(/^\d+$/, 'expected numeric Telegram user ids'))
    .describe('Telegram user ids allowed to decide, comma-separated.'),
  TELEGRAM_API_URL: url(['http:', 'https:']).default('https://api.telegram.org')
    .describe('Bot API base URL (tests point it at a fake).'),
});

type Raw = z.infer<typeof configSchema>;

export interface Config {
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  readonly upstreamSocket: string;
  readonly socketDir: string;
  readonly workers: readonly string[];
  readonly approvalTimeoutS: number;
  readonly apiToken: string | undefined;
  readonly policyFile: string | undefined;
  readonly policyMode: 'enforce' | 'shadow';
  readonly maxBodyBytes: number;
  /** held calls one worker may have waiting at once; more get 429 */
  readonly maxPendingPerWorker: number;
  /** (proxy) open connections in all; each worker socket keeps a share of them that others cannot take */
  readonly maxConnections: number;
  /** (proxy) open connections one worker socket may hold; more get 429 */
  readonly maxConnectionsPerWorker: number;
  /** (proxy) a request's headers must arrive within this (slowloris) */
  readonly headersTimeoutMs: number;
  /** (proxy) a request body that sends nothing for this long is dropped */
  readonly bodyIdleTimeoutMs: number;
  readonly worker: string | undefined;
  readonly workerContainer: string | undefined;
  readonly sidecarPort: number;
  /** (sidecar) its read-only proxy identity: `<socket dir>/_sidecar/<worker>/docker.sock` unless set */
  readonly sidecarSocket: string | undefined;
  /** (proxy) group that owns the sidecar sockets (0660), so a sidecar running as its own uid can connect */
  readonly sidecarGid: number | undefined;
  /** (sidecar) run as root anyway: single-user development only */
  readonly sidecarAllowRoot: boolean;
  readonly sidecarUrl: string;
  /** (sidecar) the task-start baseline: how long /check waits for it, how long it may take, how many files it reads */
  readonly baseline: { readonly budgetMs: number; readonly timeoutMs: number; readonly maxFiles: number };
  readonly controlUrl: string | undefined;
  readonly lockdownAction: 'pause' | 'stop' | 'none';
  readonly redisPrefix: string;
  readonly heartbeatTimeoutS: number;
  readonly gateRejectAlert: number;
  readonly alertGroupS: number;
  readonly digestIntervalS: number;
  /** shell-wrapper grants: each worker's own token for the worker-facing control endpoints (never the ops token) */
  readonly workerTokens: Readonly<Record<string, string>>;
  /** how long an approved shell-wrapper grant stays usable after the decision */
  readonly grantTtlS: number;
  readonly twoPersonWorkers: readonly string[];
  readonly logLevel: Raw['WINGMAN_LOG_LEVEL'];
  readonly logFormat: Raw['WINGMAN_LOG_FORMAT'];
  readonly telegram: {
    readonly token: string | undefined;
    readonly chatId: string | undefined;
    readonly approverIds: readonly string[];
    readonly apiUrl: string;
  };
}

export function isWorkerName(name: string): boolean {
  return WORKER_NAME.test(name);
}

/** Validate the environment once. Throws WGM_ERR_CONFIG_INVALID naming the variable and the expected form. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw wingmanError('WGM_ERR_CONFIG_INVALID', issues.join('; '), {
      variables: parsed.error.issues.map((i) => String(i.path[0])),
    });
  }
  const r = parsed.data;
  const dataDir = path.resolve(r.WINGMAN_DATA_DIR);
  const socketDir = path.resolve(r.WINGMAN_SOCKET_DIR ?? path.join(dataDir, 'sockets'));
  const config: Config = {
    databaseUrl: r.DATABASE_URL,
    redisUrl: r.REDIS_URL,
    dataDir,
    port: r.WINGMAN_PORT,
    host: r.WINGMAN_HOST,
    upstreamSocket: r.WINGMAN_UPSTREAM.slice('unix://'.length),
    socketDir,
    workers: Object.freeze([...new Set(r.WINGMAN_WORKERS)]),
    approvalTimeoutS: r.WINGMAN_APPROVAL_TIMEOUT_S,
    apiToken: r.WINGMAN_API_TOKEN,
    policyFile: r.WINGMAN_POLICY_FILE,
    policyMode: r.WINGMAN_POLICY_MODE,
    maxBodyBytes: r.WINGMAN_MAX_BODY_BYTES,
    maxPendingPerWorker: r.WINGMAN_MAX_PENDING_PER_WORKER,
    maxConnections: r.WINGMAN_MAX_CONNECTIONS,
    maxConnectionsPerWorker: r.WINGMAN_MAX_CONNECTIONS_PER_WORKER,
    headersTimeoutMs: r.WINGMAN_HEADERS_TIMEOUT_MS,
    bodyIdleTimeoutMs: r.WINGMAN_BODY_IDLE_TIMEOUT_MS,
    worker: r.WINGMAN_WORKER,
    workerContainer: r.WINGMAN_WORKER_CONTAINER,
    sidecarPort: r.WINGMAN_SIDECAR_PORT,
    sidecarSocket:
      r.WINGMAN_SIDECAR_SOCKET !== undefined
        ? r.WINGMAN_SIDECAR_SOCKET.replace(/^unix:\/\//, '')
        : r.WINGMAN_WORKER !== undefined
          ? sidecarSocketPath(socketDir, r.WINGMAN_WORKER)
          : undefined,
    sidecarGid: r.WINGMAN_SIDECAR_GID === undefined ? undefined : Number(r.WINGMAN_SIDECAR_GID),
    sidecarAllowRoot: r.WINGMAN_SIDECAR_ALLOW_ROOT === 'true' || r.WINGMAN_SIDECAR_ALLOW_ROOT === '1',
    sidecarUrl: r.WINGMAN_SIDECAR_URL ?? 'http://127.0.0.1:8787',
    baseline: Object.freeze({
      budgetMs: r.WINGMAN_BASELINE_BUDGET_MS,
      timeoutMs: r.WINGMAN_BASELINE_TIMEOUT_S * 1000,
      maxFiles: r.WINGMAN_BASELINE_MAX_FILES,
    }),
    controlUrl: r.WINGMAN_CONTROL_URL,
    lockdownAction: r.WINGMAN_LOCKDOWN_ACTION,
    redisPrefix: r.WINGMAN_REDIS_PREFIX,
    heartbeatTimeoutS: r.WINGMAN_HEARTBEAT_TIMEOUT_S,
    gateRejectAlert: r.WINGMAN_GATE_REJECT_ALERT,
    alertGroupS: r.WINGMAN_ALERT_GROUP_S,
    digestIntervalS: r.WINGMAN_DIGEST_INTERVAL_S,
    workerTokens: Object.freeze(Object.fromEntries(r.WINGMAN_WORKER_TOKENS.map((p) => [p.slice(0, p.indexOf(':')), p.slice(p.indexOf(':') + 1)]))),
    grantTtlS: r.WINGMAN_GRANT_TTL_S,
    twoPersonWorkers: Object.freeze([...r.WINGMAN_TWO_PERSON_WORKERS]),
    logLevel: r.WINGMAN_LOG_LEVEL,
    logFormat: r.WINGMAN_LOG_FORMAT,
    telegram: Object.freeze({
      token: r.TELEGRAM_BOT_TOKEN,
      chatId: r.TELEGRAM_CHAT_ID,
      approverIds: Object.freeze([...r.TELEGRAM_APPROVER_IDS]),
      apiUrl: (r.TELEGRAM_API_URL ?? 'https://api.telegram.org').replace(/\/+$/, ''),
    }),
  };
  return Object.freeze(config);
}

/** Per-command requirements that the schema alone cannot express. */
export function requireFor(config: Config, command: 'up' | 'control' | 'proxy' | 'sidecar'): void {
  const missing: string[] = [];
  if (command === 'control' || command === 'proxy' || command === 'sidecar') {
    if (!config.databaseUrl) missing.push('DATABASE_URL (separate processes share state through Postgres)');
    if (!config.redisUrl) missing.push('REDIS_URL (an in-process bus cannot connect two processes)');
  }
  if (command === 'control' && !config.apiToken) missing.push('WINGMAN_API_TOKEN (required outside `wingman up`)');
  if (command === 'sidecar') {
    if (!config.worker) missing.push('WINGMAN_WORKER');
    if (!config.workerContainer) missing.push('WINGMAN_WORKER_CONTAINER');
  }
  if (missing.length) {
    throw wingmanError('WGM_ERR_CONFIG_INVALID', `\`wingman ${command}\` needs ${missing.join(', ')}`, {
      variables: missing.map((m) => m.split(' ')[0]),
    });
  }
}
