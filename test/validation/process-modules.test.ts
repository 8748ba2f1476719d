// The output validators (validation/: typescript, tree-sitter, sh-syntax and the parsers, about 100 MB) are not
// part of every process: a started `wingman proxy` never loads them, and `wingman control` loads them on its first
// POST /output_validation/validate. Shown on the real compiled processes, with a module.register() hook (given
// through NODE_OPTIONS) that writes down every module URL the process resolves.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { migratedTestDb, type MigratedTestDb } from '../helpers/db.js';
import { testEnv } from '../helpers/env.js';
import { freePort, startUp, type UpProcess } from '../helpers/wingman-up.js';

const HEAVY = /\/validation\/|\/node_modules\/(?:typescript|sh-syntax|@vscode\/tree-sitter-wasm)\//;
/** What control and the sidecar load at start to register the route: the body schema, no validator. */
const ROUTE = /\/validation\/validation-(?:route|request)\.js$/;

let tdb: MigratedTestDb;
let dir: string;
const procs: UpProcess[] = [];

t.before(async () => {
  tdb = await migratedTestDb();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-mods-'));
  fs.writeFileSync(
    path.join(dir, 'hooks.mjs'),
    `import fs from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  fs.appendFileSync(process.env.WGMTEST_MODULE_LOG, r.url + '\\n');
  return r;
}
`,
  );
  fs.writeFileSync(path.join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)});\n`);
});

t.teardown(async () => {
  for (const p of procs) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
  await tdb.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function start(command: 'proxy' | 'control', ready: RegExp): Promise<{ modules: () => string[]; port: number; token: string }> {
  const log = path.join(dir, `${command}-modules.txt`);
  const port = await freePort();
  const token = `wgmtest-token-${randomBytes(12).toString('hex')}`;
  const p = await startUp(
    {
      NODE_OPTIONS: `--import=${path.join(dir, 'register.mjs')}`,
      WGMTEST_MODULE_LOG: log,
      DATABASE_URL: tdb.url,
      REDIS_URL: testEnv().redisUrl,
      WINGMAN_REDIS_PREFIX: `wgmtest-${randomBytes(4).toString('hex')}`,
      WINGMAN_DATA_DIR: path.join(dir, `${command}-data`),
      WINGMAN_SOCKET_DIR: path.join(dir, `${command}-s`),
      WINGMAN_UPSTREAM: testEnv().dockerHost,
      WINGMAN_WORKERS: 'w1',
      WINGMAN_API_TOKEN: token,
      WINGMAN_HOST: '127.0.0.1',
      WINGMAN_PORT: String(port),
    },
    command,
  );
  procs.push(p);
  await p.waitFor(ready);
  const modules = () => fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return { modules, port, token };
}

t.test('a started proxy has not loaded the validators, typescript, tree-sitter or sh-syntax', async (t) => {
  const { modules } = await start('proxy', /"msg":"proxy ready"/);
  const all = modules();
  t.ok(all.some((u) => u.includes('/dist/proxy/app.js')), 'the hook saw the proxy load');
  t.same(all.filter((u) => HEAVY.test(u)), [], 'none of the validators’ modules');
});

t.test('control loads the validators on its first validation, not before', async (t) => {
  const { modules, port, token } = await start('control', /control API and console listening/);
  t.ok(modules().some((u) => u.includes('/dist/control/app.js')), 'the hook saw control load');
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
