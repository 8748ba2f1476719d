// A real client nobody here wrote — Debian's docker-compose 1.29 (python, docker-py) — through a worker's socket.
// Ownership is what makes it work unattended: everything `up` creates is the worker's own, and calls on its own
// fresh objects that destroy nothing (create, start, network connect/disconnect, inspect, list) need no human.
// `down -v` is held only for what destroys: stopping and removing containers, removing the network and the volume.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { docker, dockerOk, TEST_IMAGE, type DockerResult } from '../helpers/env.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

const COMPOSE_BIN = fs.existsSync('/usr/bin/docker-compose') ? '/usr/bin/docker-compose' : 'docker-compose';
/** The calls `down -v` may be held for: each one destroys something. */
const DESTRUCTIVE = new Set(['ContainerStop', 'ContainerDelete', 'NetworkDelete', 'VolumeDelete', 'ContainerKill']);

let w: Wingman;
// compose names its objects `<project>_…`; lowercase alphanumerics only.
const project = `wgmtest${randomBytes(5).toString('hex')}`;
const network = `${project}_back`;
const volume = `${project}_data`;
let composeFile: string;

const composeYaml = `version: '2.4'
services:
  web:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "echo web-up; sleep 600"]
    networks: [back]
  worker:
    image: ${TEST_IMAGE}
    command: ["sh", "-c", "echo stored > /data/f; echo worker-up; sleep 600"]
    volumes:
      - data:/data
    networks: [back]
networks:
  back: {}
volumes:
  data: {}
`;

interface Running {
  child: ReturnType<typeof spawn>;
  done: Promise<DockerResult & { ms: number }>;
}

/** Start docker-compose as `worker` (through its proxy socket) on this test's project. */
function compose(worker: string, args: string[], timeoutMs = 150_000): Running {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('COMPOSE_') || k.startsWith('DOCKER_')) delete env[k];
  Object.assign(env, {
    DOCKER_HOST: `unix://${w.proxy.socketPath(worker)}`,
    COMPOSE_HTTP_TIMEOUT: '200',
    COMPOSE_INTERACTIVE_NO_CLI: '1',
  });
  const started = Date.now();
  const child = spawn(COMPOSE_BIN, ['--ansi', 'never', '-p', project, '-f', composeFile, ...args], {
    env,
    cwd: path.dirname(composeFile),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise<DockerResult & { ms: number }>((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, ms: Date.now() - started });
    });
  });
  return { child, done };
}

const composeRun = (worker: string, args: string[], timeoutMs?: number) => compose(worker, args, timeoutMs).done;

/** What the proxy did for a worker, in order (for failure messages). */
async function auditTrail(worker = 'w1'): Promise<string> {
  await w.proxy.audit.flush();
  const { rows } = await w.db.query<{ rule: string; path: string; decision: string; status_code: number; reason: string | null }>(
    `SELECT rule, path, decision, status_code, reason FROM docker_audit WHERE worker = $1 ORDER BY at`,
    [worker],
  );
  return rows.map((r) => `${r.rule} ${r.path} ${r.decision} ${r.status_code}${r.reason ? ` (${r.reason})` : ''}`).join('\n');
}

const projectContainers = async () =>
  (await dockerOk(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`])).split('\n').filter(Boolean);
const networkExists = async () => (await docker(['network', 'inspect', network])).code === 0;
const volumeExists = async () => (await docker(['volume', 'inspect', volume])).code === 0;

t.before(async () => {
  w = await startWingman();
  const dir = fs.mkdtempSync(path.join(w.dir, 'compose-'));
  composeFile = path.join(dir, 'docker-compose.yml');
  fs.writeFileSync(composeFile, composeYaml);
});

t.teardown(async () => {
  const ids = await projectContainers().catch(() => []);
  if (ids.length) await docker(['rm', '-f', '-v', ...ids]);
  await docker(['network', 'rm', network]);
  await docker(['volume', 'rm', '-f', volume]);
  await w.close();
});

t.test('docker-compose is the real 1.x client', async (t) => {
  const r = await composeRun('w1', ['version', '--short']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout.trim(), /^1\.\d+\.\d+/, `docker-compose ${r.stdout.trim()}`);
});

t.test('up -d brings two services, a network and a volume up with no approval', async (t) => {
  const up = compose('w1', ['up', '-d']);
  // Watch the approval queue while up runs: nothing of it may wait for a human. Anything held is recorded and
  // denied at once, so a regression fails fast with the call named instead of stalling up for the approval timeout.
  const held: string[] = [];
  let finished = false;
  const watcher = (async () => {
    while (!finished) {
      for (const a of await w.control.approvals.list({ status: 'pending', worker: 'w1' })) {
        held.push(`${a.rule}: ${a.summary}`);
        await w.control.approvals.answer(a.id, 'deny', 'test', 'compose up must not need approval').catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const r = await Promise.race([
    up.done,
    new Promise<never>((_, reject) =>
      setTimeout(() => {
        up.child.kill('SIGKILL');
        reject(new Error(`docker-compose up did not finish within 60 s; held: ${held.join('; ') || 'nothing'}`));
      }, 60_000),
    ),
  ]).finally(() => (finished = true));
  await watcher;
  const trail = held.length || r.code !== 0 ? `\n${await auditTrail()}` : '';
  t.same(held, [], `no call of up was held for approval${trail}`);
  t.equal(r.code, 0, `up exits 0 (${r.ms} ms): ${r.stderr}${trail}`);
  t.ok(r.ms < 60_000, `up finished within 60 s (${r.ms} ms)`);

  // The engine itself: both containers run, labelled as w1's; the network and volume exist and are w1's.
  const ids = await projectContainers();
  t.equal(ids.length, 2, 'two containers of the project exist');
  for (const id of ids) {
    const [running, owner, service] = (
      await dockerOk(['inspect', '-f', '{{.State.Running}} {{index .Config.Labels "io.wingman.worker"}} {{index .Config.Labels "com.docker.compose.service"}}', id])
    ).split(' ');
    t.equal(running, 'true', `${service} is running`);
    t.equal(owner, 'w1', `${service} carries io.wingman.worker=w1`);
  }
  t.ok(await networkExists(), `network ${network} exists`);
  t.equal(await dockerOk(['network', 'inspect', '-f', '{{index .Labels "io.wingman.worker"}}', network]), 'w1', 'the network is w1\'s');
  t.ok(await volumeExists(), `volume ${volume} exists`);
  t.equal(await dockerOk(['volume', 'inspect', '-f', '{{index .Labels "io.wingman.worker"}}', volume]), 'w1', 'the volume is w1\'s');
  const nets = await dockerOk(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', ...ids]);
  t.same(nets.split('\n').map((l) => l.trim()), [network, network], 'both containers are on the project network');
});

t.test('ps and logs work through the worker socket', async (t) => {
  const ps = await composeRun('w1', ['ps']);
  t.equal(ps.code, 0, ps.stderr);
  for (const svc of ['web', 'worker']) {
    t.match(ps.stdout, new RegExp(`^${project}_${svc}_1\\b.*\\bUp\\b`, 'm'), `ps lists ${svc} as Up`);
  }
  const services = await composeRun('w1', ['ps', '--services', '--filter', 'status=running']);
  t.equal(services.code, 0, services.stderr);
  t.same(services.stdout.trim().split('\n').sort(), ['web', 'worker'], 'both services are running');

  // web prints its line at once; give it a moment on a slow machine.
  let logs: DockerResult & { ms: number } = await composeRun('w1', ['logs', '--no-color', 'web']);
  for (let i = 0; i < 50 && !logs.stdout.includes('web-up'); i++) {
    await new Promise((r) => setTimeout(r, 200));
    logs = await composeRun('w1', ['logs', '--no-color', 'web']);
  }
  t.equal(logs.code, 0, logs.stderr);
  t.match(logs.stdout, /web-up/, 'logs web shows its output');
  const all = await composeRun('w1', ['logs', '--no-color']);
  t.match(all.stdout, /worker-up/, 'logs of all services include worker');
  t.same(await w.control.approvals.list({ status: 'pending', worker: 'w1' }), [], 'nothing held');
});

t.test('another worker sees nothing of the project', async (t) => {
  // compose 1.29 first inspects `<project>_back` by name (its legacy-name check). That network is w1's, so the
  // proxy refuses it to w2 with 403 "not w2's" (the policy: another tenant's object is refused, not hidden), and
  // compose stops there, having shown nothing.
  for (const args of [['ps'], ['ps', '-q'], ['ps', '--services']]) {
    const r = await composeRun('w2', args);
    const what = `w2: docker-compose ${args.join(' ')}`;
    t.notMatch(r.stdout, project, `${what} lists none of w1's objects`);
    t.notMatch(r.stdout + r.stderr, /_web_1|_worker_1|web-up|worker-up|stored/, `${what}: nothing of w1's containers leaks`);
    t.not(r.code, 0, `${what} is refused`);
    t.match(r.stderr, /network \S+_back is not w2's/, `${what}: refused because the project network is w1's`);
  }
  const nets = await w.dockerAs('w2', ['network', 'ls', '--format', '{{.Name}}']);
  t.equal(nets.code, 0, nets.stderr);
  t.notMatch(nets.stdout, network, 'w2 does not list w1\'s network');
  const vols = await w.dockerAs('w2', ['volume', 'ls', '--format', '{{.Name}}']);
  t.equal(vols.code, 0, vols.stderr);
  t.notMatch(vols.stdout, volume, 'w2 does not list w1\'s volume');
  const ps = await w.dockerAs('w2', ['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Names}}']);
  t.equal(ps.code, 0, ps.stderr);
  t.equal(ps.stdout.trim(), '', 'w2 does not list w1\'s containers (docker ps)');
  t.same(await w.control.approvals.list({ status: 'pending', worker: 'w2' }), [], 'nothing held for w2');
  t.equal((await projectContainers()).length, 2, 'w1\'s containers are untouched');
});

const approvedRules: string[] = [];
const approvedSummaries: string[] = [];

t.test('down -v is held only for what destroys, each approved, and leaves nothing', async (t) => {
  const down = compose('w1', ['down', '-v', '-t', '1'], 130_000);
  let exited = false;
  void down.done.then(() => (exited = true), () => (exited = true));
  const seen = new Set<string>();
  const deadline = Date.now() + 120_000;
  while (!exited && Date.now() < deadline) {
    for (const a of await w.control.approvals.list({ status: 'pending', worker: 'w1' })) {
      if (seen.has(a.id)) continue;
      seen.add(a.id);
      approvedRules.push(a.rule);
      approvedSummaries.push(`${a.rule}: ${a.summary}`);
      await w.control.approvals.answer(a.id, 'approve', 'test').catch((err: Error) => t.comment(`approve ${a.id}: ${err.message}`));
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!exited) down.child.kill('SIGKILL');
  const r = await down.done;
  t.comment(`held during down -v:\n  ${approvedSummaries.join('\n  ')}`);
  const trail = r.code !== 0 ? `\n${await auditTrail()}` : '';
  t.equal(r.code, 0, `down -v exits 0 (${r.ms} ms): ${r.stderr}${trail}`);

  const unexpected = approvedRules.filter((rule) => !DESTRUCTIVE.has(rule));
  t.same(unexpected, [], `only destructive calls were held (held: ${approvedRules.join(', ')})`);
  for (const rule of ['ContainerStop', 'ContainerDelete', 'NetworkDelete', 'VolumeDelete']) {
    t.ok(approvedRules.includes(rule), `${rule} was held and approved`);
  }
  t.equal(approvedRules.filter((x) => x === 'ContainerDelete').length, 2, 'each container removal was approved on its own');

  t.same(await projectContainers(), [], 'no container of the project is left on the engine');
  t.notOk(await networkExists(), `network ${network} is gone`);
  t.notOk(await volumeExists(), `volume ${volume} is gone`);
  t.same(await w.control.approvals.list({ status: 'pending', worker: 'w1' }), [], 'nothing left pending');
});

t.test('the audit has the whole lifecycle, the destructive calls approved', async (t) => {
  await w.proxy.audit.flush();
  const { rows } = await w.db.query<{ rule: string; decision: string; status_code: number }>(
    `SELECT rule, decision, status_code FROM docker_audit WHERE worker = 'w1'`,
  );
  const allowed = new Set(rows.filter((r) => r.decision === 'allow').map((r) => r.rule));
  for (const rule of ['NetworkCreate', 'VolumeCreate', 'ContainerCreate', 'ContainerStart', 'ContainerList', 'ContainerLogs']) {
    t.ok(allowed.has(rule), `${rule} was allowed without a human`);
  }
  for (const rule of ['ContainerStop', 'ContainerDelete', 'NetworkDelete', 'VolumeDelete']) {
    t.ok(rows.some((r) => r.rule === rule && r.decision === 'approved' && r.status_code < 300), `${rule} ran after approval`);
  }
  t.notOk(rows.some((r) => r.decision === 'deny'), 'nothing of w1 was refused');
  t.comment(`rules w1's compose used: ${[...new Set(rows.map((r) => `${r.rule}:${r.decision}`))].sort().join(', ')}`);
});
