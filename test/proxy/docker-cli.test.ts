// The real docker CLI through the proxy: what a worker sees equals what it would see directly, for reads, runs,
// streams (logs -f), hijacked connections (exec -i with stdin, attach) and legacy builds.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

let w: Wingman;
const created: string[] = [];
const images: string[] = [];

t.before(async () => {
  w = await startWingman();
});
t.teardown(async () => {
  for (const c of created) await docker(['rm', '-f', c]);
  for (const i of images) await docker(['rmi', '-f', i]);
  await w.close();
});

const via = (args: string[], input?: string) => w.dockerAs('w1', args, { input });
/** Containers a test uses are made through the worker's socket: a worker sees and touches only what it made. */
async function viaOk(args: string[]): Promise<string> {
  const r = await via(args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} through w1 failed: ${r.stderr}`);
  return r.stdout.trim();
}

t.test('read-only commands give the same output as the engine directly', async (t) => {
  const name = testName('ro');
  created.push(name);
  await viaOk(['create', '--name', name, '--label', 'wgmtest=1', TEST_IMAGE, 'true']);
  for (const args of [
    ['version'],
    // A fixed format: the default table has a relative "CREATED" column that ticks between the two calls.
    ['ps', '-a', '--filter', `name=${name}`, '--format', '{{.ID}} {{.Image}} {{.Command}} {{.Status}} {{.Names}} {{.Labels}}'],
    ['images', TEST_IMAGE],
    ['inspect', name],
    ['image', 'inspect', TEST_IMAGE],
    ['info', '--format', '{{.ServerVersion}} {{.Driver}}'],
  ]) {
    const direct = await docker(args);
    const proxied = await via(args);
    t.equal(proxied.code, 0, `docker ${args.join(' ')} succeeds through the proxy: ${proxied.stderr}`);
    t.equal(proxied.stdout, direct.stdout, `docker ${args.join(' ')} output is identical`);
  }
});

t.test('run --rm prints the container output and leaves nothing behind', async (t) => {
  const name = testName('run');
  const r = await via(['run', '--rm', '--name', name, TEST_IMAGE, 'sh', '-c', 'echo hello; echo err >&2; exit 3']);
  t.equal(r.code, 3, 'exit code of the container is passed through');
  t.equal(r.stdout, 'hello\n');
  t.match(r.stderr, /err/);
  const left = await docker(['ps', '-a', '-q', '--filter', `name=${name}`]);
  t.equal(left.stdout.trim(), '', 'the container was removed');
});

t.test('logs -f streams live output, and equals direct once the container is done', async (t) => {
  const name = testName('logs');
  created.push(name);
  await viaOk(['run', '-d', '--name', name, TEST_IMAGE, 'sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.2; done; sleep 300']);
  // Live: the lines arrive while the container still runs (headers and data are not held back by the proxy).
  const child = spawn('docker', ['logs', '-f', name], {
    env: { ...process.env, DOCKER_HOST: `unix://${w.proxy.socketPath('w1')}` },
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no live output, got ${JSON.stringify(out)}`)), 30_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('line3\n')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.kill();
  t.equal(out, 'line1\nline2\nline3\n', 'followed output arrives live and in order');
  await dockerOk(['kill', name]);
  const proxied = await via(['logs', '-f', name]);
  const direct = await docker(['logs', '-f', name]);
  t.equal(proxied.code, 0);
  t.equal(proxied.stdout, 'line1\nline2\nline3\n');
  t.equal(proxied.stdout, direct.stdout);
});

t.test('attach follows a running container', async (t) => {
  const name = testName('attach');
  created.push(name);
  await viaOk(['run', '-d', '--name', name, TEST_IMAGE, 'sh', '-c', 'sleep 1; echo attached-output; sleep 0.3']);
  const r = await via(['attach', '--no-stdin', name]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /attached-output/);
});

t.test('exec -i carries stdin (after approval) and matches direct exec', async (t) => {
  const name = testName('exec');
  created.push(name);
  await viaOk(['run', '-d', '--name', name, TEST_IMAGE, 'sleep', '300']);
  const input = 'line one\nline two\n';
  const pending = via(['exec', '-i', name, 'sh', '-c', 'cat; echo done'], input);
  const a = await w.pendingApproval('w1');
  t.equal(a.rule, 'ContainerExec');
  const ok = await w.cli(['approve', a.id, '--note', 'test']);
  t.equal(ok.code, 0, ok.stderr);
  const proxied = await pending;
  const direct = await docker(['exec', '-i', name, 'sh', '-c', 'cat; echo done'], { input });
  t.equal(proxied.code, 0, proxied.stderr);
  t.equal(proxied.stdout, 'line one\nline two\ndone\n');
  t.equal(proxied.stdout, direct.stdout);
});

t.test('build of a tiny Dockerfile FROM the test image', async (t) => {
  const ctx = fs.mkdtempSync(path.join(w.dir, 'ctx-'));
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${TEST_IMAGE}\nRUN echo built-through-wingman > /built.txt\n`);
  const tag = `${testName('build')}:1`;
  images.push(tag);
  const r = await w.dockerAs('w1', ['build', '-t', tag, ctx]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /Successfully tagged/);
  t.equal(await dockerOk(['run', '--rm', tag, 'cat', '/built.txt']), 'built-through-wingman');
});

t.test('every call landed in the execution audit', async (t) => {
  await w.proxy.audit.flush();
  const { rows } = await w.db.query<{ rule: string; decision: string; status_code: number }>(
    `SELECT rule, decision, status_code FROM docker_audit WHERE worker = 'w1'`,
  );
  const rules = new Set(rows.map((r) => r.rule));
  for (const r of ['SystemPingHead', 'ContainerList', 'ContainerCreate', 'ContainerStart', 'ContainerWait', 'ContainerLogs', 'ContainerAttach', 'ContainerExec', 'ExecStart', 'ImageBuild']) {
    t.ok(rules.has(r), `audit has ${r}`);
  }
  t.ok(rows.some((r) => r.rule === 'ContainerExec' && r.decision === 'approved' && r.status_code === 201), 'approved exec recorded');
});
