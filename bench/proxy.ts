// Proxy overhead in ONE interleaved run: the engine direct, HAProxy (an HTTP proxy from a unix socket to the engine's,
// installed here with apt-get like scripts/test-env.mjs installs the engine) and Wingman (its proxy in a process of
// its own, built as the tests build it), rounds of direct → haproxy → node-bare → bare+row → wingman repeated, medians
// reported. node-bare is the least a Node proxy does (node:http's server in front of Wingman's forward, nothing else):
// what Node and the forward cost per call here, beside what Wingman's policy, audit and metrics add. bare+row is
// node-bare again while another process inserts one audit row per call into the same Postgres, as Wingman's shipper
// does (bench/audit-writes.ts): what the row Wingman keeps of every call costs on a machine that also runs the store
// (its CPU column is node-bare's alone; its logs row is node-bare's, one row for the whole stream).
// Per case: requests/s and its ratio to direct, p50/p99, and the proxy process's CPU per request (utime+stime from
// /proc/<pid>/stat around the case: the bench client's own CPU is not in it). At concurrency 1, the p99 latency
// each proxy adds to direct's. A 256 MiB `docker logs` stream: MB/s and ratio.
// Run: npm run bench -- proxy [requests] [concurrency] [rounds]
//   Before/after: copy this file into a checkout of the other commit (`git worktree add`, node_modules linked) and
//   run it there; bench/proxy-ab.ts compares two commits' proxies head to head.
//   WINGMAN_BENCH_PROF=<dir> writes a CPU profile of the Wingman process(es) there (node --cpu-prof).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { docker, dockerOk, dockerSocketPath, testName, TEST_IMAGE } from '../test/helpers/env.js';
import { get, startNodeProcess, waitForSocket, type Target } from './proxy-targets.js';

const MiB = 1024 * 1024;
const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..');

// ------------------------------------------------------------------ child: one Wingman, served until stdin closes
if (process.argv[2] === 'serve-wingman') {
  const root = process.argv[3];
  const { startWingman } = (await import(path.join(root, 'test/helpers/wingman.ts'))) as typeof import('../test/helpers/wingman.js');
  const w = await startWingman({ env: { WINGMAN_LOG_LEVEL: 'silent' } });
  process.stdout.write(JSON.stringify({ socket: w.proxy.socketPath('w1') }) + '\n');
  process.stdin.resume();
  await new Promise((r) => process.stdin.once('end', r));
  await w.close();
  process.exit(0);
}

// ------------------------------------------------------------------ child: the least a Node proxy does, until stdin closes
// node:http's server in front of Wingman's own forward (proxy/forward.ts: the lean forward over undici's pool), with
// nothing else: no policy, no audit, no metrics. What Node and the forward cost per call on this machine, measured
// beside HAProxy and Wingman: the difference to Wingman is what its decisions and bookkeeping add.
if (process.argv[2] === 'serve-bare') {
  const { createForwarder } = (await import(path.join(ROOT, 'proxy/forward.ts'))) as typeof import('../proxy/forward.js');
  const forwarder = createForwarder(process.argv[3]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmbench-bare-'));
  const sock = path.join(dir, 'docker.sock');
  const server = http.createServer((req, res) => {
    forwarder.forward(req, res, { path: req.url ?? '/' }).catch(() => {
      if (!res.headersSent) res.statusCode = 502;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(sock, r));
  process.stdout.write(JSON.stringify({ socket: sock }) + '\n');
  process.stdin.resume();
  await new Promise((r) => process.stdin.once('end', r));
  server.close();
  forwarder.close();
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

const N = Number(process.argv[2] ?? 3000);
const C = Number(process.argv[3] ?? 16);
const ROUNDS = Number(process.argv[4] ?? 3);

/** utime+stime of a process (all its threads), in µs. */
function cpuOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields 14 and 15 of stat; after "pid (comm) " the state is index 0, so utime is index 11.
  return ((Number(f[11]) + Number(f[12])) * 1e6) / TICK;
}
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** HAProxy from Debian's packages when missing (its service kept from starting, as for the engine). */
function ensureHaproxy(): void {
  if (which('haproxy')) return;
  console.log('installing haproxy (apt-get)');
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !fs.existsSync(policy);
  if (ownPolicy) fs.writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_SUSPEND: '1' };
    for (const args of [['update'], ['install', '-y', 'haproxy']]) {
      const r = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
      if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (${r.status})`);
    }
  } finally {
    if (ownPolicy) fs.rmSync(policy, { force: true });
  }
  if (!which('haproxy')) throw new Error('haproxy installed but not on PATH');
}

async function startHaproxy(upstream: string): Promise<Target> {
  ensureHaproxy();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmbench-hap-'));
  const sock = path.join(dir, 'docker.sock');
  // HTTP mode, as a Docker socket proxy runs it (it parses every request); one thread, like Node's event loop.
  fs.writeFileSync(
    path.join(dir, 'haproxy.cfg'),
    [
      'global',
      '  nbthread 1',
      '  maxconn 4096',
      'defaults',
      '  mode http',
      '  option http-keep-alive',
      '  timeout connect 5s',
      '  timeout client 1h',
      '  timeout server 1h',
      'frontend docker',
      `  bind unix@${sock} mode 600`,
      '  default_backend engine',
      'backend engine',
      '  http-reuse always',
      `  server engine unix@${upstream}`,
      '',
    ].join('\n'),
  );
  const child = spawn('haproxy', ['-db', '-f', path.join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForSocket(sock, child, 'haproxy');
  return {
    name: 'haproxy',
    socket: sock,
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  /** the proxy process's CPU per request, µs */
  cpuUs?: number;
}

async function load(t: Target, path: string, n: number, c: number): Promise<Load> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: c });
  for (let i = 0; i < 100; i++) await get(agent, t.socket, path); // warm-up
  const writes = t.auditWrites ? await (await import('./audit-writes.js')).startAuditWrites() : undefined;
  const lat: number[] = [];
  let next = 0;
  const cpu0 = t.pid ? cpuOf(t.pid) : 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < n) {
        next++;
        const s = performance.now();
        await get(agent, t.socket, path);
        lat.push(performance.now() - s);
        writes?.add(1);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const cpu = t.pid ? cpuOf(t.pid) - cpu0 : undefined;
  await writes?.stop();
  agent.destroy();
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  return { p50: q(0.5), p99: q(0.99), rps: n / secs, ...(cpu !== undefined ? { cpuUs: cpu / n } : {}) };
}

async function stream(t: Target, path: string): Promise<Load & { bytes: number }> {
  const agent = new http.Agent({ keepAlive: false });
  let bytes = 0;
  const cpu0 = t.pid ? cpuOf(t.pid) : 0;
  const t0 = performance.now();
  await get(agent, t.socket, path, (n) => (bytes += n));
  const secs = (performance.now() - t0) / 1000;
  const cpu = t.pid ? cpuOf(t.pid) - cpu0 : undefined;
  // rps is MB/s here; cpuUs is per MiB.
  return { bytes, rps: bytes / MiB / secs, p50: secs * 1000, p99: secs * 1000, ...(cpu !== undefined ? { cpuUs: cpu / (bytes / MiB) } : {}) };
}

const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const f = (n: number | undefined, d = 0, w = 8) => (n === undefined ? '-' : n.toFixed(d)).padStart(w);

async function main() {
  const upstream = dockerSocketPath();
  const targets: Target[] = [{ name: 'direct', socket: upstream, async stop() {} }];
  const name = testName('bench-logs');
  const own = testName('bench-own');
  try {
    targets.push(await startHaproxy(upstream));
    const bare = await startNodeProcess('node-bare', ['serve-bare', upstream]);
    // node-bare again, with Wingman's audit rows going to the same Postgres meanwhile: what a proxy that decides
    // nothing pays on this machine for the one row per call Wingman must keep.
    targets.push(bare, { ...bare, name: 'bare+row', auditWrites: true, stop: async () => undefined });
    targets.push(await startNodeProcess('wingman', ['serve-wingman', ROOT]));
    const wingman = targets.find((t) => t.name === 'wingman')!;
    const asWorker = (args: string[]) => docker(args, { host: `unix://${wingman.socket}` });
    // A container the worker made through its socket: /containers/json lists it, and its inspect is an owned call.
    const made = await asWorker(['run', '-d', '--name', own, TEST_IMAGE, 'sleep', '3600']);
    if (made.code !== 0) throw new Error(made.stderr);
    // 256 MiB of log output (8 KiB lines, the `local` log driver so the engine's reader is not the bottleneck).
    const logs = await asWorker(['create', '--name', name, '--log-driver', 'local', '--log-opt', 'max-size=1g', TEST_IMAGE, 'sh', '-c',
      `yes "$(head -c 8191 /dev/zero | tr '\\0' x)" | head -c ${256 * MiB}`]);
    if (logs.code !== 0) throw new Error(logs.stderr);
    await dockerOk(['start', name]);
    await dockerOk(['wait', name], { timeoutMs: 600_000 });

    type Case = { label: string; run: (t: Target) => Promise<Load> };
    const cases: Case[] = [
      { label: `GET /_ping c${C}`, run: (t) => load(t, '/_ping', N, C) },
      { label: `GET /containers/json c${C}`, run: (t) => load(t, '/v1.41/containers/json', N, C) },
      { label: `GET /containers/{name}/json c${C}`, run: (t) => load(t, `/v1.41/containers/${own}/json`, N, C) },
      { label: 'GET /_ping c1', run: (t) => load(t, '/_ping', Math.ceil(N / 3), 1) },
      { label: 'GET /containers/json c1', run: (t) => load(t, '/v1.41/containers/json', Math.ceil(N / 3), 1) },
      { label: 'logs 256 MiB (MB/s)', run: (t) => stream(t, `/v1.41/containers/${name}/logs?stdout=1`) },
    ];
    const res = new Map<string, Map<string, Load[]>>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of cases) {
        const byTarget = res.get(c.label) ?? new Map<string, Load[]>();
        res.set(c.label, byTarget);
        for (const t of targets) {
          const r = await c.run(t);
          byTarget.set(t.name, [...(byTarget.get(t.name) ?? []), r]);
        }
      }
      console.log(`round ${round + 1}/${ROUNDS} done`);
    }

    console.log(`\nproxy benchmark: ${N} requests per case (c1: ${Math.ceil(N / 3)}), keep-alive, ${ROUNDS} interleaved rounds, medians; ` +
      `ratio = req/s ÷ direct's; CPU = the proxy process's µs per request (per MiB for logs); load ${os.loadavg()[0].toFixed(1)}`);
    console.log(`${'case'.padEnd(34)}${'target'.padEnd(9)}${'req/s'.padStart(8)}${'ratio'.padStart(8)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'+p99 ms'.padStart(8)}${'CPU µs'.padStart(8)}`);
    for (const [label, byTarget] of res) {
      const d = byTarget.get('direct')!;
      for (const t of targets) {
        const r = byTarget.get(t.name)!;
        const rps = med(r.map((x) => x.rps));
        const p99 = med(r.map((x) => x.p99));
        const added = t.name === 'direct' || label.startsWith('logs') ? undefined : p99 - med(d.map((x) => x.p99));
        const cpu = t.pid ? med(r.map((x) => x.cpuUs!)) : undefined;
        console.log(`${label.replace(own, '{name}').padEnd(34)}${t.name.padEnd(9)}${f(rps)}${f(rps / med(d.map((x) => x.rps)), 2)}` +
          `${f(med(r.map((x) => x.p50)), 2)}${f(p99, 2)}${f(added, 2)}${f(cpu)}`);
      }
    }
    const ratio = (label: string, t: string) => med(res.get(label)!.get(t)!.map((x) => x.rps)) / med(res.get(label)!.get('direct')!.map((x) => x.rps));
    const addedP99 = (label: string, t = 'wingman') => med(res.get(label)!.get(t)!.map((x) => x.p99)) - med(res.get(label)!.get('direct')!.map((x) => x.p99));
    const checks: Array<[string, boolean, string]> = [
      [`/containers/json ratio ≥ haproxy's`, ratio(cases[1].label, 'wingman') >= ratio(cases[1].label, 'haproxy'),
        `${ratio(cases[1].label, 'wingman').toFixed(2)} vs ${ratio(cases[1].label, 'haproxy').toFixed(2)}`],
      ['/_ping ratio ≥ 0.35', ratio(cases[0].label, 'wingman') >= 0.35, ratio(cases[0].label, 'wingman').toFixed(2)],
      ['p99 added at c1 < 1 ms (/_ping, /containers/json)', Math.max(addedP99(cases[3].label), addedP99(cases[4].label)) < 1,
        `${addedP99(cases[3].label).toFixed(2)} / ${addedP99(cases[4].label).toFixed(2)} ms`],
      ['logs ratio ≥ 0.9', ratio(cases[5].label, 'wingman') >= 0.9, ratio(cases[5].label, 'wingman').toFixed(2)],
    ];
    console.log('\ntargets (issue #12):');
    for (const [what, ok, got] of checks) console.log(`  ${ok ? 'met ' : 'MISS'}  ${what}: ${got}`);
    console.log(
      `  with a row per call in this machine's Postgres, node-bare (no decisions) gets /containers/json ${ratio(cases[1].label, 'bare+row').toFixed(2)} ` +
        `(without: ${ratio(cases[1].label, 'node-bare').toFixed(2)}) and adds ${addedP99(cases[3].label, 'bare+row').toFixed(2)} / ${addedP99(cases[4].label, 'bare+row').toFixed(2)} ms at c1 p99`,
    );
  } finally {
    await docker(['rm', '-f', name, own]);
    for (const t of targets.reverse()) await t.stop().catch((err: Error) => console.error(`stopping ${t.name}: ${err.message}`));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
