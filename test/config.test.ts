// loadConfig / requireFor: defaults, every invalid variable named in the error, a frozen result, and the
// per-command requirements.
import t from 'tap';
import path from 'node:path';
import { isWorkerName, loadConfig, requireFor, type Config } from '../core/config.js';
import { isWingmanError } from '../core/errors.js';

function configError(fn: () => unknown): { message: string; variables: string[] } | undefined {
  try {
    fn();
  } catch (err) {
    if (!isWingmanError(err, 'WGM_ERR_CONFIG_INVALID')) throw err;
    return { message: err.message, variables: (err.details?.variables as string[]) ?? [] };
  }
  return undefined;
}

t.test('defaults from an empty environment', async (t) => {
  const c = loadConfig({});
  const expected: Partial<Record<keyof Config, unknown>> = {
    databaseUrl: undefined,
    redisUrl: undefined,
    dataDir: path.resolve('./.wingman'),
    port: 5001,
    host: '127.0.0.1',
    upstreamSocket: '/var/run/docker.sock',
    socketDir: path.resolve('./.wingman/sockets'),
    workers: [],
    approvalTimeoutS: 600,
    apiToken: undefined,
    policyFile: undefined,
    policyMode: 'enforce',
    maxBodyBytes: 1024 * 1024,
    worker: undefined,
    workerContainer: undefined,
    sidecarPort: 8787,
    sidecarUrl: 'http://127.0.0.1:8787',
    controlUrl: undefined,
    lockdownAction: 'pause',
    twoPersonWorkers: [],
    logLevel: 'info',
  };
  for (const [key, value] of Object.entries(expected)) t.same(c[key as keyof Config], value, key);
  t.same(c.telegram, { token: undefined, chatId: undefined, approverIds: [], apiUrl: 'https://api.telegram.org' });
});

t.test('valid values are parsed', async (t) => {
  const cases: Array<{ env: Record<string, string>; check: (c: Config) => unknown; want: unknown }> = [
    { env: { DATABASE_URL: 'postgres://u@db:5432/w' }, check: (c) => c.databaseUrl, want: 'postgres://u@db:5432/w' },
    { env: { DATABASE_URL: 'postgresql://db/w' }, check: (c) => c.databaseUrl, want: 'postgresql://db/w' },
    { env: { DATABASE_URL: '   ' }, check: (c) => c.databaseUrl, want: undefined },
    { env: { REDIS_URL: 'rediss://r:6380' }, check: (c) => c.redisUrl, want: 'rediss://r:6380' },
    { env: { WINGMAN_PORT: '8101' }, check: (c) => c.port, want: 8101 },
    { env: { WINGMAN_DATA_DIR: '/var/lib/wingman' }, check: (c) => c.socketDir, want: '/var/lib/wingman/sockets' },
    { env: { WINGMAN_SOCKET_DIR: '/run/wm' }, check: (c) => c.socketDir, want: '/run/wm' },
    { env: { WINGMAN_UPSTREAM: 'unix:///tmp/d.sock' }, check: (c) => c.upstreamSocket, want: '/tmp/d.sock' },
    { env: { WINGMAN_WORKERS: ' w1, w2 ,,w1' }, check: (c) => c.workers, want: ['w1', 'w2'] },
    { env: { WINGMAN_APPROVAL_TIMEOUT_S: '30' }, check: (c) => c.approvalTimeoutS, want: 30 },
    { env: { WINGMAN_API_TOKEN: 'x'.repeat(16) }, check: (c) => c.apiToken, want: 'x'.repeat(16) },
    { env: { WINGMAN_POLICY_MODE: 'shadow' }, check: (c) => c.policyMode, want: 'shadow' },
    { env: { WINGMAN_LOCKDOWN_ACTION: 'stop' }, check: (c) => c.lockdownAction, want: 'stop' },
    { env: { WINGMAN_WORKER: 'w-1.a_b' }, check: (c) => c.worker, want: 'w-1.a_b' },
    { env: { WINGMAN_SIDECAR_PORT: '9000' }, check: (c) => c.sidecarPort, want: 9000 },
    { env: { WINGMAN_LOG_LEVEL: 'silent' }, check: (c) => c.logLevel, want: 'silent' },
    { env: { TELEGRAM_CHAT_ID: '-100123' }, check: (c) => c.telegram.chatId, want: '-100123' },
    { env: { TELEGRAM_CHAT_ID: '@ops' }, check: (c) => c.telegram.chatId, want: '@ops' },
    { env: { TELEGRAM_APPROVER_IDS: '1,22' }, check: (c) => c.telegram.approverIds, want: ['1', '22'] },
    { env: { TELEGRAM_API_URL: 'http://127.0.0.1:9/' }, check: (c) => c.telegram.apiUrl, want: 'http://127.0.0.1:9' },
  ];
  for (const c of cases) t.same(c.check(loadConfig(c.env)), c.want, JSON.stringify(c.env));
});

t.test('each invalid variable is named in the error', async (t) => {
  const cases: Array<[string, string]> = [
    ['DATABASE_URL', 'mysql://db/w'],
    ['DATABASE_URL', 'not a url'],
    ['REDIS_URL', 'http://r:6379'],
    ['WINGMAN_DATA_DIR', ''],
    ['WINGMAN_PORT', '0'],
    ['WINGMAN_PORT', '65536'],
    ['WINGMAN_PORT', 'abc'],
    ['WINGMAN_PORT', '80.5'],
    ['WINGMAN_UPSTREAM', '/var/run/docker.sock'],
    ['WINGMAN_UPSTREAM', 'tcp://127.0.0.1:2375'],
    ['WINGMAN_WORKERS', 'ok,Bad Name'],
    ['WINGMAN_APPROVAL_TIMEOUT_S', '0'],
    ['WINGMAN_APPROVAL_TIMEOUT_S', '86401'],
    ['WINGMAN_API_TOKEN', 'short'],
    ['WINGMAN_POLICY_MODE', 'permissive'],
    ['WINGMAN_MAX_BODY_BYTES', '10'],
    ['WINGMAN_WORKER', '-bad'],
    ['WINGMAN_SIDECAR_PORT', '-1'],
    ['WINGMAN_SIDECAR_URL', 'ftp://x'],
    ['WINGMAN_CONTROL_URL', 'unix:///x'],
    ['WINGMAN_LOCKDOWN_ACTION', 'kill'],
    ['WINGMAN_TWO_PERSON_WORKERS', 'UPPER'],
    ['WINGMAN_LOG_LEVEL', 'verbose'],
    ['TELEGRAM_CHAT_ID', 'ops'],
    ['TELEGRAM_APPROVER_IDS', '12,abc'],
    ['TELEGRAM_API_URL', 'file:///etc/passwd'],
  ];
  for (const [name, value] of cases) {
    const err = configError(() => loadConfig({ [name]: value }));
    t.ok(err, `${name}=${JSON.stringify(value)} rejected`);
    t.match(err?.message ?? '', name, `${name}: message names it`);
    t.same(err?.variables, [name], `${name}: details.variables is exactly it`);
  }
  const two = configError(() => loadConfig({ WINGMAN_PORT: 'x', REDIS_URL: 'x' }));
  t.same([...(two?.variables ?? [])].sort(), ['REDIS_URL', 'WINGMAN_PORT'], 'several bad variables all named');
});

t.test('the result is frozen', async (t) => {
  const c = loadConfig({ WINGMAN_WORKERS: 'w1', TELEGRAM_APPROVER_IDS: '1' });
  for (const [label, obj] of [
    ['config', c],
    ['telegram', c.telegram],
    ['workers', c.workers],
    ['approverIds', c.telegram.approverIds],
    ['twoPersonWorkers', c.twoPersonWorkers],
  ] as const) {
    t.ok(Object.isFrozen(obj), `${label} frozen`);
  }
  t.throws(() => {
    (c as { port: number }).port = 1;
  }, TypeError);
  t.throws(() => {
    (c.workers as string[]).push('w2');
  }, TypeError);
  t.equal(c.port, 5001);
});

t.test('requireFor: what each command needs', async (t) => {
  const full = {
    DATABASE_URL: 'postgres://db/w',
    REDIS_URL: 'redis://r',
    WINGMAN_API_TOKEN: 't'.repeat(20),
    WINGMAN_WORKER: 'w1',
    WINGMAN_WORKER_CONTAINER: 'c1',
  };
  const cases: Array<{ command: 'up' | 'control' | 'proxy' | 'sidecar'; env: Record<string, string>; missing: string[] }> = [
    { command: 'up', env: {}, missing: [] },
    { command: 'control', env: full, missing: [] },
    { command: 'control', env: {}, missing: ['DATABASE_URL', 'REDIS_URL', 'WINGMAN_API_TOKEN'] },
    { command: 'control', env: { ...full, WINGMAN_API_TOKEN: '' }, missing: ['WINGMAN_API_TOKEN'] },
    { command: 'proxy', env: { DATABASE_URL: full.DATABASE_URL }, missing: ['REDIS_URL'] },
    { command: 'proxy', env: { REDIS_URL: full.REDIS_URL }, missing: ['DATABASE_URL'] },
    { command: 'proxy', env: { DATABASE_URL: full.DATABASE_URL, REDIS_URL: full.REDIS_URL }, missing: [] },
    { command: 'sidecar', env: full, missing: [] },
    { command: 'sidecar', env: { ...full, WINGMAN_WORKER: '' }, missing: ['WINGMAN_WORKER'] },
    { command: 'sidecar', env: { ...full, WINGMAN_WORKER_CONTAINER: '' }, missing: ['WINGMAN_WORKER_CONTAINER'] },
    { command: 'sidecar', env: {}, missing: ['DATABASE_URL', 'REDIS_URL', 'WINGMAN_WORKER', 'WINGMAN_WORKER_CONTAINER'] },
  ];
  for (const c of cases) {
    const label = `${c.command} with ${Object.keys(c.env).filter((k) => c.env[k]).join(',') || 'nothing'}`;
    const err = configError(() => requireFor(loadConfig(c.env), c.command));
    if (!c.missing.length) {
      t.equal(err, undefined, `${label}: accepted`);
      continue;
    }
    t.same(err?.variables, c.missing, `${label}: names ${c.missing.join(', ')}`);
    for (const m of c.missing) t.match(err?.message ?? '', m);
    t.match(err?.message ?? '', `wingman ${c.command}`);
  }
});

t.test('isWorkerName', async (t) => {
  const cases: Array<[string, boolean]> = [
    ['w1', true],
    ['a', true],
    ['a.b-c_d', true],
    ['x'.repeat(63), true],
    ['x'.repeat(64), false],
    ['', false],
    ['W1', false],
    ['-w', false],
    ['.w', false],
    ['w/1', false],
    ['w 1', false],
    ['../etc', false],
  ];
  for (const [name, ok] of cases) t.equal(isWorkerName(name), ok, JSON.stringify(name));
});
