// Proxy overhead, measured against the engine directly in the same run: p50/p99 latency and requests/s for
// GET /_ping and GET /containers/json (keep-alive, fixed concurrency), and MB/s for a 256 MiB `docker logs` stream.
// Run: npm run bench -- proxy [requests] [concurrency]
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { docker, dockerOk, dockerSocketPath, testName, TEST_IMAGE } from '../test/helpers/env.js';
import { startWingman } from '../test/helpers/wingman.js';

const N = Number(process.argv[2] ?? 3000);
const C = Number(process.argv[3] ?? 8);
const MiB = 1024 * 1024;

function get(agent: http.Agent, socketPath: string, path: string, sink?: (n: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ agent, socketPath, path, headers: { host: 'docker' } }, (res) => {
      res.on('data', (c: Buffer) => sink?.(c.length));
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}

async function load(socketPath: string, path: string, n: number, c: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: c });
  for (let i = 0; i < 200; i++) await get(agent, socketPath, path); // warm-up
  const lat: number[] = [];
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < n) {
        next++;
        const s = performance.now();
        await get(agent, socketPath, path);
        lat.push(performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  // CPU of this process per request: the load generator alone when direct, plus the proxy (in this process) when
  // proxied; the difference is the proxy's own cost, steadier than throughput on a shared machine.
  return { p50: q(0.5), p99: q(0.99), rps: n / secs, cpuUs: (cpu.user + cpu.system) / n };
}

async function stream(socketPath: string, path: string) {
  const agent = new http.Agent({ keepAlive: false });
  let bytes = 0;
  const t0 = performance.now();
  await get(agent, socketPath, path, (n) => (bytes += n));
  const secs = (performance.now() - t0) / 1000;
  return { bytes, mbps: bytes / MiB / secs, secs };
}

const fmt = (n: number, d = 2) => n.toFixed(d).padStart(9);

async function main() {
  const w = await startWingman({ env: { WINGMAN_LOG_LEVEL: 'silent' } });
  const direct = dockerSocketPath();
  const proxied = w.proxy.socketPath('w1');
  const name = testName('bench-logs');
  const cleanup: string[] = [];
  try {
    console.log(`proxy benchmark: ${N} requests per case, concurrency ${C}, keep-alive; ratio = proxy / direct`);
    console.log(`${'case'.padEnd(26)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'req/s'.padStart(9)}   ratio p50  p99  req/s`);
    // A container the worker made through its socket, for the calls that name one (ownership is looked up for them).
    const own = testName('bench-own');
    cleanup.push(own);
    const made = await w.dockerAs('w1', ['run', '-d', '--name', own, TEST_IMAGE, 'sleep', '600']);
    if (made.code !== 0) throw new Error(made.stderr);
    const ownId = await dockerOk(['inspect', '-f', '{{.Id}}', own]);
    for (const path of ['/_ping', '/v1.41/containers/json', `/v1.41/containers/${own}/json`, `/v1.41/containers/${ownId}/json`]) {
      const d = await load(direct, path, N, C);
      const p = await load(proxied, path, N, C);
      for (const [label, r] of [[`direct  GET ${path}`, d], [`proxy   GET ${path}`, p]] as const) {
        console.log(`${label.replace(ownId, '{id}').replace(own, '{name}').padEnd(26)}${fmt(r.p50)}${fmt(r.p99)}${fmt(r.rps, 0)}`);
      }
      console.log(`${''.padEnd(26)}${''.padStart(27)}   ${(p.p50 / d.p50).toFixed(2)}x ${(p.p99 / d.p99).toFixed(2)}x ${(p.rps / d.rps).toFixed(2)}x   proxy CPU ${(p.cpuUs - d.cpuUs).toFixed(0)} µs/request`);
    }
    // 256 MiB of log output (8 KiB lines, `local` log driver so the engine's own reader is not the bottleneck),
    // written once, then read back directly and through the proxy.
    const logs = await w.dockerAs('w1', ['create', '--name', name, '--log-driver', 'local', '--log-opt', 'max-size=1g', TEST_IMAGE, 'sh', '-c',
      `yes "$(head -c 8191 /dev/zero | tr '\\0' x)" | head -c ${256 * MiB}`]);
    if (logs.code !== 0) throw new Error(logs.stderr);
    await dockerOk(['start', name]);
    await dockerOk(['wait', name], { timeoutMs: 600_000 });
    const path = `/v1.41/containers/${name}/logs?stdout=1`;
    const d = await stream(direct, path);
    const p = await stream(proxied, path);
    console.log(`logs stream (${(d.bytes / MiB).toFixed(0)} MiB framed): direct ${d.mbps.toFixed(0)} MB/s (${d.secs.toFixed(2)} s), proxy ${p.mbps.toFixed(0)} MB/s (${p.secs.toFixed(2)} s), ratio ${(p.mbps / d.mbps).toFixed(2)}x`);
  } finally {
    await docker(['rm', '-f', name, ...cleanup]);
    await w.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
