// What a started process has loaded, and what it has not: the proxy and the sidecar must not carry what they do not
// use. Shown on the real compiled processes (bin/wingman.js), with test/helpers/module-trace.mjs (given through
// NODE_OPTIONS) writing down every module each one actually loads, ES modules and CommonJS alike.
// - The output validators (validation/: typescript, tree-sitter, sh-syntax and the parsers, about 100 MB): a started
//   proxy or sidecar never loads them, and `wingman control` loads them on its first POST
//   /output_validation/validate.
// - A started proxy, on Postgres and Redis, has not loaded the embedded store (PGlite), dockerode's SSH transport and
//   BuildKit session (ssh2, gRPC, protobufjs; deferred in core/docker/open-docker.ts), prom-client's OpenTelemetry
//   API (core/metrics.ts), the engine API body schema (ajv) or the build-context reader: they load on the first call
//   that needs them.
// - A started sidecar, idle, has not loaded those, nor the gate (core/gate), secretlint, the TAP and YAML parsers or
//   tar-stream; its first /check loads the gate and secretlint, and waits for them: an instruction holding a secret
//   only secretlint finds is rejected by that first request.
// Which modules, not how much memory: RSS is measured by `npm run bench -- memory`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { migratedTestDb, type MigratedTestDb } from '../helpers/db.js';
import { testEnv } from '../helpers/env.js';
import { freePort, startUp, type UpProcess } from '../helpers/wingman-up.js';
import { instructionMarkdown, startWorkerBox, type WorkerBox } from '../sidecar/sidecar-env.js';

const TRACE = fileURLToPath(new URL('../helpers/module-trace.mjs', import.meta.url));
const HEAVY = /\/dist\/validation\/|\/node_modules\/(?:typescript|sh-syntax|@vscode\/tree-sitter-wasm)\//;
/** What control and the sidecar load at start to register the route: the body schema, no validator. */
const ROUTE = /\/validation\/validation-(?:route|request)\.js$/;
/** Never in a proxy or sidecar on Postgres and Redis, and not before a call needs it. */
const UNUSED_AT_START = new RegExp(
  [
    '/node_modules/(?:@electric-sql/pglite|ssh2|cpu-features|@grpc/|protobufjs|@opentelemetry/|tar-fs|dockerfile-ast|tar-stream|yaml|tap-parser)/',
    '/dist/core/docker/(?:check-engine-body|build-context)\\.js$',
  ].join('|'),
);
/** What the sidecar loads on its first /check, not before. */
// gate-pool.js is the gate's loader (it imports the gate on the first check), not the gate.
const GATE = /\/node_modules\/@secretlint\/|\/dist\/core\/gate\/(?!gate-pool\.js$)|\/dist\/core\/secrets\/secretlint-secrets\.js$/;

let tdb: MigratedTestDb;
let dir: string;
let box: WorkerBox;
const procs: UpProcess[] = [];
const prefix = `wgmtest-${randomBytes(4).toString('hex')}`;

t.before(async () => {
  tdb = await migratedTestDb();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-mods-'));
  // The sidecar's worker: a container running as another uid than this test (root), registered for the proxy.
  box = await startWorkerBox('mods', ['--user', '1000']);
  await tdb.db.query('INSERT INTO workers (name, container) VALUES ($1, $2)', ['w1', box.name]);
});

t.teardown(async () => {
  for (const p of procs) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
  await box?.remove();
  await tdb.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function start(command: 'proxy' | 'control' | 'sidecar', ready: RegExp, env: Record<string, string> = {}): Promise<{ modules: () => string[]; port: number; token: string }> {
  const log = path.join(dir, `${command}-modules.txt`);
  const port = await freePort();
  const token = `wgmtest-token-${randomBytes(12).toString('hex')}`;
  const p = await startUp(
    {
      NODE_OPTIONS: `--import=${TRACE}`,
      WGM_TRACE_FILE: log,
      DATABASE_URL: tdb.url,
      REDIS_URL: testEnv().redisUrl,
      WINGMAN_REDIS_PREFIX: prefix,
      WINGMAN_DATA_DIR: path.join(dir, `${command}-data`),
      WINGMAN_SOCKET_DIR: path.join(dir, 's'),
      WINGMAN_UPSTREAM: testEnv().dockerHost,
      WINGMAN_WORKERS: 'w1',
      WINGMAN_API_TOKEN: token,
      WINGMAN_HOST: '127.0.0.1',
      WINGMAN_PORT: String(port),
      ...env,
    },
    command,
  );
  procs.push(p);
  await p.waitFor(ready);
  // `<thread id> <file or URL>` lines: the files, as paths.
  const modules = () => [...new Set(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => l.slice(l.indexOf(' ') + 1).replace(/^file:\/\//, '')))];
  return { modules, port, token };
}

t.test('a started proxy has loaded neither the validators nor what only some calls need', async (t) => {
  const { modules } = await start('proxy', /"msg":"proxy ready"/);
  const all = modules();
  t.ok(all.some((u) => u.endsWith('/dist/proxy/app.js')), 'the trace saw the proxy load');
  t.ok(all.some((u) => u.includes('/node_modules/dockerode/')), 'and dockerode');
  t.same(all.filter((u) => HEAVY.test(u)), [], 'none of the validators’ modules');
  t.same(all.filter((u) => UNUSED_AT_START.test(u)), [], 'nothing only some calls need');
  // The proxy has no HTTP framework: ajv would only be the engine API body schema's (the sidecar's fastify uses it).
  t.same(all.filter((u) => u.includes('/node_modules/ajv/')), [], 'no ajv');
});

t.test('an idle sidecar has loaded none of it; its first /check loads the gate and waits for secretlint', async (t) => {
  // After the proxy test: the sidecar reaches Docker through that proxy's sidecar identity. Root only because this
  // test runs as root (the sidecar refuses its worker's uid, and the box runs as 1000).
  const sidecarPort = await freePort();
  const { modules } = await start('sidecar', /sidecar listening on 127\.0\.0\.1/, {
    WINGMAN_WORKER: 'w1',
    WINGMAN_WORKER_CONTAINER: box.name,
    WINGMAN_SIDECAR_PORT: String(sidecarPort),
    WINGMAN_SIDECAR_ALLOW_ROOT: 'true',
  });
  const health = await fetch(`http://127.0.0.1:${sidecarPort}/health`);
  t.equal(health.status, 200, 'serving, with its store, bus and container');
  const idle = modules();
  t.ok(idle.some((u) => u.endsWith('/dist/sidecar/app.js')), 'the trace saw the sidecar load');
  t.same(idle.filter((u) => HEAVY.test(u) && !ROUTE.test(u)), [], 'nothing of validation/ beyond its route');
  t.same(idle.filter((u) => UNUSED_AT_START.test(u)), [], 'nothing only some requests need');
  t.same(idle.filter((u) => GATE.test(u)), [], 'neither the gate nor secretlint');

  // A GitHub token in prose: only secretlint finds it (our own patterns do not), so the answer shows that the
  // first request waited for secretlint to load rather than judging without it.
  const token = ['ghp_', 'M4n5B6v7C8x9Z0l1K2j3H4g5F6d7S8a9P0o1'].join('');
  const res = await fetch(`http://127.0.0.1:${sidecarPort}/check`, {
    method: 'POST',
    headers: { 'content-type': 'text/markdown' },
    body: instructionMarkdown({ DEPENDENCIES: `Only the busybox tools already in the image; call the API with the token ${token} when needed.` }),
  });
  const body = (await res.json()) as { approved?: boolean; violations?: { rule: string }[] };
  t.equal(res.status, 200, JSON.stringify(body));
  t.equal(body.approved, false, 'rejected');
  t.same(body.violations?.map((v) => v.rule), ['secret:github_token'], 'for the secret secretlint found');
  // The preset's rules, run prepared (core/secrets/secretlint-secrets.ts), without @secretlint/core's linter.
  t.ok(modules().some((u) => u.includes('/node_modules/@secretlint/secretlint-rule-preset-recommend/')), 'secretlint loaded for it');
  t.ok(modules().some((u) => u.endsWith('/dist/core/gate/check-instruction.js')), 'and the gate');
});

t.test('control loads the validators on its first validation, not before', async (t) => {
  const { modules, port, token } = await start('control', /control API and console listening/);
  t.ok(modules().some((u) => u.endsWith('/dist/control/app.js')), 'the trace saw control load');
  t.same(modules().filter((u) => HEAVY.test(u) && !ROUTE.test(u)), [], 'nothing of validation/ beyond its route');
  const res = await fetch(`http://127.0.0.1:${port}/output_validation/validate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ files: [{ path: 'src/add.js', content: 'export const add = (a, b) => a + b;\n' }] }),
  });
  const body = (await res.json()) as { decision?: string };
  t.equal(res.status, 200, JSON.stringify(body));
  t.equal(body.decision, 'AUTO_APPROVE');
  t.ok(modules().some((u) => u.includes('/node_modules/typescript/')), 'typescript loaded for the validation');
});
