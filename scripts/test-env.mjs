#!/usr/bin/env node
// Brings up what the tests talk to, on a fresh machine as on a warm one: Postgres and Redis (started if not
// answering), a PRIVATE Docker engine under /tmp/wgmtest-docker (never the machine's own), and the busybox test
// image. Prints the WGMTEST_* variables the tests read.
//
//   node scripts/test-env.mjs            # shell `export` lines: eval "$(node scripts/test-env.mjs)"
//   node scripts/test-env.mjs --json     # one JSON object on the last stdout line (used by scripts/test.mjs)
//   node scripts/test-env.mjs --down     # `npm run test:down`: stop the private dockerd, and Postgres and Redis if
//                                        # this script started them (recorded in STARTED_FILE); shared: other runs
//                                        # on this machine lose them too
//
// Progress goes to stderr. Run it under `flock -o /tmp/wgmtest-env.lock` when several runs may start at once
// (scripts/test.mjs does); -o keeps the lock out of the long-lived dockerd.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, mkdtempSync, symlinkSync, copyFileSync, chmodSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

// Short on purpose: unix socket paths are limited to 107 bytes. Overridable to try a cold start next to a
// running engine (WGMTEST_DOCKER_DIR=/tmp/wgmtest-d2).
export const DOCKER_DIR = process.env.WGMTEST_DOCKER_DIR || '/tmp/wgmtest-docker';
export const DOCKER_SOCK = `${DOCKER_DIR}/docker.sock`;
export const DOCKER_HOST = `unix://${DOCKER_SOCK}`;
export const TEST_IMAGE = 'wingman-test/busybox:latest';
export const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = 'redis://127.0.0.1:6379';

// Tried in order until the engine starts and runs a container; the first working set is remembered.
const DOCKERD_FALLBACKS = [[], ['--storage-driver=vfs'], ['--storage-driver=vfs', '--exec-opt', 'native.cgroupdriver=cgroupfs']];
const FLAGS_FILE = `${DOCKER_DIR}/flags.json`;
const SBIN_PATH = `${process.env.PATH ?? ''}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

const say = (msg) => process.stderr.write(`test-env: ${msg}\n`);

/** Run a command, capture output; never throws for a non-zero exit (check .code). */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, PATH: SBIN_PATH, ...(opts.env ?? {}) },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    if (opts.input !== undefined) child.stdin.end(opts.input);
    let timer;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(err) });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

async function must(cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${(r.stderr || r.stdout).trim().slice(-2000)}`);
  return r.stdout;
}

function tcpOpen(port, host = '127.0.0.1', timeoutMs = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

async function waitFor(check, what, timeoutMs) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not come up within ${Math.round(timeoutMs / 1000)} s`);
}

function which(bin) {
  for (const dir of SBIN_PATH.split(':')) {
    if (dir && existsSync(path.join(dir, bin))) return path.join(dir, bin);
  }
  return undefined;
}

// ---------------------------------------------------------------- Postgres, Redis

// What this script started (and so may stop on --down): a Postgres or Redis that was already running is not ours.
const STARTED_FILE = `${DOCKER_DIR}/started.json`;
function started() {
  try {
    return JSON.parse(readFileSync(STARTED_FILE, 'utf8'));
  } catch {
    return {};
  }
}
function recordStarted(what, value) {
  mkdirSync(DOCKER_DIR, { recursive: true });
  writeFileSync(STARTED_FILE, JSON.stringify({ ...started(), [what]: value }));
}

async function ensurePostgres() {
  if (await tcpOpen(5432)) return 'running';
  const versions = existsSync('/etc/postgresql') ? (await must('ls', ['/etc/postgresql'])).split(/\s+/).filter(Boolean) : [];
  if (!versions.length) throw new Error('Postgres is not answering on 127.0.0.1:5432 and no cluster exists under /etc/postgresql');
  for (const v of versions) {
    say(`starting Postgres ${v}`);
    const r = await run('pg_ctlcluster', ['--skip-systemctl-redirect', v, 'main', 'start']);
    if (r.code !== 0) say(`pg_ctlcluster ${v}: ${(r.stderr || r.stdout).trim()}`);
  }
  await waitFor(() => tcpOpen(5432), 'Postgres on 127.0.0.1:5432', 30_000);
  recordStarted('postgres', versions);
  return 'started';
}

async function ensureRedis() {
  if (await tcpOpen(6379)) return 'running';
  say('starting Redis');
  mkdirSync('/var/lib/redis', { recursive: true });
  mkdirSync('/var/log/redis', { recursive: true });
  await must('redis-server', [
    '--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no',
    '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log',
  ]);
  await waitFor(() => tcpOpen(6379), 'Redis on 127.0.0.1:6379', 30_000);
  recordStarted('redis', true);
  return 'started';
}

// ---------------------------------------------------------------- Docker

async function packageInstalled(pkg) {
  const r = await run('dpkg-query', ['-W', '-f=${Status}', pkg]);
  return r.code === 0 && r.stdout.includes('install ok installed');
}

async function ensureDockerPackages() {
  const missing = [];
  if (!which('dockerd') || !which('containerd') || !which('runc')) missing.push('docker.io');
  if (!(await packageInstalled('busybox-static'))) missing.push('busybox-static');
  if (!(await packageInstalled('dash'))) missing.push('dash');
  // A real compose client nobody here wrote (docker-compose 1.29, python + docker-py) for test/proxy/compose.test.ts.
  if (!(await packageInstalled('docker-compose'))) missing.push('docker-compose');
  // Debian's Chromium for the console's browser tests (test/console/, driven by playwright-core).
  if (!(await packageInstalled('chromium')) || !existsSync('/usr/bin/chromium')) missing.push('chromium');
  if (!missing.length) return 'present';
  say(`installing ${missing.join(' ')} (apt-get)`);
  // Keep the package scripts from starting the machine's own docker service: only our private engine runs.
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) {
    writeFileSync(policy, '#!/bin/sh\nexit 101\n');
    chmodSync(policy, 0o755);
  }
  try {
    // Recommends kept (apparmor among them: an engine on an AppArmor kernel needs the parser to load its profile).
    const env = { DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_SUSPEND: '1' };
    await must('apt-get', ['update'], { env });
    await must('apt-get', ['install', '-y', ...missing], { env });
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
  if (!which('dockerd')) throw new Error('docker.io installed but dockerd is not on PATH');
  return `installed ${missing.join(' ')}`;
}

function enginePing(timeoutMs = 2000) {
  return new Promise((resolve) => {
    const req = http.request({ socketPath: DOCKER_SOCK, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

function ourDockerdPid() {
  try {
    const pid = Number(readFileSync(`${DOCKER_DIR}/docker.pid`, 'utf8').trim());
    if (!pid) return undefined;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    // Only ever signal the engine this script started: its command line names our data root.
    return cmdline.includes('dockerd') && cmdline.includes(`${DOCKER_DIR}/root`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function stopOurDockerd() {
  const pid = ourDockerdPid();
  if (!pid) return;
  say(`stopping private dockerd ${pid}`);
  process.kill(pid, 'SIGTERM');
  const started = Date.now();
  while (Date.now() - started < 20_000) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  process.kill(pid, 'SIGKILL');
}

function dockerEnv() {
  return { DOCKER_HOST };
}

// Processes of a private engine that died without shutting down (a killed session, a crashed run): dockerd, its
// containerd and the shims all name our directory on their command line. Found by scanning /proc, never by name alone,
// so a developer's own engine is never touched.
// Processes still running in that engine's containers are found by their cgroup naming one of its container ids.
function leftoverPids() {
  let ids = [];
  try {
    ids = readdirSync(`${DOCKER_DIR}/root/containers`).filter((d) => /^[0-9a-f]{64}$/.test(d));
  } catch {
    /* no state */
  }
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const bin = path.basename(argv[0] ?? '');
      const engineProcess = /^(dockerd|containerd|containerd-shim.*|runc)$/.test(bin) && argv.some((a) => a.includes(`${DOCKER_DIR}/`));
      const containerProcess = ids.length > 0 && ids.some((id) => readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(id));
      if (engineProcess || containerProcess) pids.push(Number(entry));
    } catch {
      /* exited while we looked */
    }
  }
  return pids;
}

// Mount points under our directory, deepest first (mountinfo field 5, octal-escaped).
function leftoverMounts() {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter(Boolean)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p.startsWith(`${DOCKER_DIR}/`));
  return points.sort((a, b) => b.length - a.length);
}

/**
 * Before a cold start, clear what a dead engine left: its processes, its mounts and its state. Every container,
 * network and sandbox in this private engine was made by a test run, and a dead run's are garbage: left in place
 * they make dockerd spend seconds per stale sandbox at start (CI once timed out on hundreds of them). The image is
 * re-imported in about a second.
 */
async function clearDeadEngine() {
  const pids = leftoverPids();
  if (pids.length) say(`killing ${pids.length} leftover process(es) of a dead private engine`);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + 10_000;
  while (leftoverPids().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const mounts = leftoverMounts();
  if (mounts.length) say(`unmounting ${mounts.length} leftover mount(s) under ${DOCKER_DIR}`);
  for (const m of mounts) await run('umount', ['-l', m]);
  for (const dir of ['root', 'exec']) {
    const p = `${DOCKER_DIR}/${dir}`;
    if (existsSync(p)) rmSync(p, { recursive: true, force: true, maxRetries: 3 });
  }
  const logPath = `${DOCKER_DIR}/dockerd.log`;
  if (existsSync(logPath)) renameSync(logPath, `${logPath}.1`);
}

function fileSize(p) {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
}

async function startDockerd(extra) {
  await clearDeadEngine(); // every start is a cold one: no engine of ours answers
  mkdirSync(DOCKER_DIR, { recursive: true });
  rmSync(`${DOCKER_DIR}/docker.pid`, { force: true });
  rmSync(DOCKER_SOCK, { force: true });
  const logPath = `${DOCKER_DIR}/dockerd.log`;
  const out = openSync(logPath, 'a');
  const args = [
    '--host', DOCKER_HOST,
    '--data-root', `${DOCKER_DIR}/root`,
    '--exec-root', `${DOCKER_DIR}/exec`,
    '--pidfile', `${DOCKER_DIR}/docker.pid`,
    '--bridge=none', '--iptables=false', '--ip-forward=false', '--ip-masq=false',
    ...extra,
  ];
  say(`starting private dockerd ${extra.join(' ')}`.trim());
  const child = spawn(which('dockerd') ?? 'dockerd', args, {
    detached: true, // own session: outlives this script and the test run, so re-runs are fast
    stdio: ['ignore', out, out],
    env: { ...process.env, PATH: SBIN_PATH },
  });
  let exited = false;
  child.on('exit', () => (exited = true));
  child.unref();
  // 60 s of silence ends the wait, but an engine still writing its log (restoring state) gets up to 5 min.
  const started = Date.now();
  let lastProgress = started;
  let lastSize = fileSize(logPath);
  while (Date.now() - lastProgress < 60_000 && Date.now() - started < 300_000) {
    if (await enginePing()) return true;
    if (exited) break;
    const size = fileSize(logPath);
    if (size !== lastSize) {
      lastSize = size;
      lastProgress = Date.now();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail = readFileSync(logPath, 'utf8').split('\n').slice(-15).join('\n');
  say(`dockerd ${extra.join(' ') || '(default flags)'} did not come up:\n${tail}`);
  await stopOurDockerd();
  return false;
}

async function imagePresent() {
  const r = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', TEST_IMAGE], { env: dockerEnv() });
  return r.code === 0;
}

async function busyboxPath() {
  const r = await run('dpkg', ['-L', 'busybox-static']);
  const p = r.stdout.split('\n').find((l) => l.endsWith('/bin/busybox'));
  return p && existsSync(p) ? p : '/bin/busybox';
}

async function importImage() {
  const bb = await busyboxPath();
  const root = mkdtempSync('/tmp/wgmtest-rootfs-');
  try {
    for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev', 'var/tmp']) {
      mkdirSync(path.join(root, d), { recursive: true });
    }
    chmodSync(path.join(root, 'tmp'), 0o1777);
    chmodSync(path.join(root, 'var/tmp'), 0o1777);
    copyFileSync(bb, path.join(root, 'bin/busybox'));
    chmodSync(path.join(root, 'bin/busybox'), 0o755);
    const applets = (await must(bb, ['--list-full'])).split('\n').filter(Boolean);
    for (const rel of applets) {
      const target = path.join(root, rel);
      if (existsSync(target)) continue;
      mkdirSync(path.dirname(target), { recursive: true });
      symlinkSync('/bin/busybox', target);
    }
    if (!existsSync(path.join(root, 'bin/sh'))) symlinkSync('/bin/busybox', path.join(root, 'bin/sh'));
    writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
    writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    await new Promise((resolve, reject) => {
      const tar = spawn('tar', ['-C', root, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const imp = spawn('docker', ['import', '--change', 'CMD ["/bin/sh"]', '-', TEST_IMAGE], {
        stdio: ['pipe', 'ignore', 'pipe'],
        env: { ...process.env, PATH: SBIN_PATH, ...dockerEnv() },
      });
      let err = '';
      imp.stderr.on('data', (d) => (err += d));
      tar.stdout.pipe(imp.stdin);
      tar.on('error', reject);
      imp.on('error', reject);
      imp.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`docker import failed (${code}): ${err.trim()}`))));
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function engineRunsContainers() {
  const r = await run('docker', ['run', '--rm', '--network', 'none', TEST_IMAGE, 'echo', 'ok'], {
    env: dockerEnv(),
    timeoutMs: 60_000,
  });
  if (r.stdout.trim() === 'ok') return true;
  say(`test container did not run: ${(r.stderr || r.stdout).trim().slice(-1000)}`);
  return false;
}

async function ensureDocker() {
  const packages = await ensureDockerPackages();
  if (!which('docker')) throw new Error('no docker CLI on PATH');
  let state = 'reused';
  if (!(await enginePing())) {
    // An engine of ours that is still starting gets a moment; one that hangs is replaced.
    if (ourDockerdPid()) await waitFor(() => enginePing(), 'private dockerd', 20_000).catch(() => stopOurDockerd());
  }
  if (!(await enginePing())) {
    state = 'started';
    let remembered = [];
    try {
      remembered = JSON.parse(readFileSync(FLAGS_FILE, 'utf8'));
    } catch {
      /* first start */
    }
    const sets = [remembered, ...DOCKERD_FALLBACKS.filter((s) => JSON.stringify(s) !== JSON.stringify(remembered))];
    let ok = false;
    for (const flags of sets) {
      if (!(await startDockerd(flags))) continue;
      if (!(await imagePresent())) await importImage();
      if (await engineRunsContainers()) {
        writeFileSync(FLAGS_FILE, JSON.stringify(flags));
        ok = true;
        break;
      }
      await stopOurDockerd();
    }
    if (!ok) throw new Error(`the private Docker engine could not run a container with any flag set; see ${DOCKER_DIR}/dockerd.log`);
    return `${state} (${packages})`;
  }
  if (!(await imagePresent())) {
    say(`importing ${TEST_IMAGE}`);
    await importImage();
    state += ', image imported';
  }
  if (!(await engineRunsContainers())) throw new Error(`the private Docker engine at ${DOCKER_HOST} cannot run ${TEST_IMAGE}`);
  return `${state} (${packages})`;
}

// ---------------------------------------------------------------- main

export async function ensureTestEnv() {
  const started = Date.now();
  // Docker last: the slowest, and Postgres/Redis problems should surface first.
  const [pgState, redisState] = await Promise.all([ensurePostgres(), ensureRedis()]);
  const dockerState = await ensureDocker();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  say(`ready in ${seconds} s: postgres ${pgState}, redis ${redisState}, docker ${dockerState}`);
  return {
    WGMTEST_DATABASE_URL: DATABASE_URL,
    WGMTEST_REDIS_URL: REDIS_URL,
    WGMTEST_DOCKER_HOST: DOCKER_HOST,
  };
}

const invokedDirectly = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
/** `npm run test:down`: stop what `npm test` brought up (the private engine always; Postgres and Redis if ours). */
export async function stopTestEnv() {
  await stopOurDockerd();
  const ours = started();
  for (const v of ours.postgres ?? []) {
    say(`stopping Postgres ${v}`);
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', v, 'main', 'stop']);
  }
  if (ours.redis) {
    say('stopping Redis');
    await run('redis-cli', ['-p', '6379', 'shutdown', 'nosave']);
  }
  rmSync(STARTED_FILE, { force: true });
  say('stopped');
}

if (invokedDirectly && process.argv.includes('--down')) {
  stopTestEnv().catch((err) => {
    say(`FAILED: ${err.message}`);
    process.exit(1);
  });
} else if (invokedDirectly) {
  ensureTestEnv().then(
    (env) => {
      if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(env)}\n`);
      else for (const [k, v] of Object.entries(env)) process.stdout.write(`export ${k}=${v}\n`);
    },
    (err) => {
      say(`FAILED: ${err.message}`);
      process.exit(1);
    },
  );
}
