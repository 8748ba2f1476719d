// The proxies the proxy benches drive (bench/proxy.ts, bench/c1-tail.ts): a Node process of bench/proxy.ts serving
// one of its modes (serve-wingman, serve-bare) on a socket of its own, and the keep-alive GET both benches time.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Target {
  name: string;
  socket: string;
  /** the proxy's process (none for the engine direct) */
  pid?: number;
  /** an audit row per call goes to Postgres meanwhile, from another process (bench/audit-writes.ts) */
  auditWrites?: boolean;
  stop(): Promise<void>;
}

function status(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
}

/** Until `sock` answers /_ping with 200 (30 s at most, and not past the child's exit). */
export async function waitForSocket(sock: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
    if (fs.existsSync(sock) && (await status(sock, '/_ping').catch(() => 0)) === 200) return;
    if (Date.now() > deadline) throw new Error(`${what} not answering on ${sock}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A Node process of bench/proxy.ts serving `args` (serve-wingman, serve-bare): it prints the socket it serves on. */
export async function startNodeProcess(name: string, args: string[]): Promise<Target> {
  const prof = process.env.WINGMAN_BENCH_PROF;
  // Node's default profile names carry the pid and thread id: one fixed name would let the loader thread's profile
  // overwrite the main thread's.
  // Node's flags as Wingman ships with them (bin/wingman.js's first line), and a profile when asked.
  const flags = ['--max-semi-space-size=64', ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${path.join(prof, name)}`] : [])];
  const child = spawn(process.execPath, [...flags, '--import', '@tapjs/typescript/import', path.join(ROOT, 'bench/proxy.ts'), ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    cwd: ROOT,
  });
  const line = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code})`)));
  });
  const { socket } = JSON.parse(line) as { socket: string };
  await waitForSocket(socket, child, name);
  return {
    name,
    socket,
    pid: child.pid!,
    async stop() {
      child.stdin.end();
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    },
  };
}

/** One GET over `agent`; anything but a 200 rejects. `sink` is told the size of each chunk of the answer. */
export function get(agent: http.Agent, socketPath: string, path: string, sink?: (n: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get({ agent, socketPath, path, headers: { host: 'docker' } }, (res) => {
      if (sink) res.on('data', (c: Buffer) => sink(c.length));
      else res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}
