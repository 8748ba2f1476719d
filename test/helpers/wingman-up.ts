// A real `wingman up` process (the compiled bin/wingman.js): embedded store and bus, its own data directory and
// port. For tests of what the process itself does at start, at a second start, and when killed.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { ROOT } from './wingman.js';

export interface UpProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  /** stdout and stderr so far */
  output: () => string;
  /** resolves with the first match in the output; rejects if the process exits first */
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
  /** exit code (or 128 + signal number) */
  exited: Promise<number>;
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * Start `wingman <command>` with only the variables given (plus PATH and HOME): no DATABASE_URL, no REDIS_URL.
 * `root`: the checkout whose bin/wingman.js runs (benches compare another build in the same run).
 */
export async function startUp(env: Record<string, string>, command = 'up', root = ROOT): Promise<UpProcess> {
  const port = Number(env.WINGMAN_PORT ?? (await freePort()));
  // As it ships: with the node flags of bin/wingman.js's first line.
  const child = spawn(process.execPath, ['--max-semi-space-size=64', path.join(root, 'bin/wingman.js'), command], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', WINGMAN_LOG_LEVEL: 'info', WINGMAN_PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const watchers = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...watchers]) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => {
      resolve(code ?? 128 + (signal ? (({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 }) as Record<string, number>)[signal] ?? 0 : 0));
      for (const w of [...watchers]) w();
    }),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    child,
    pid: child.pid!,
    port,
    output: () => out,
    exited,
    waitFor(re) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(re);
          if (m) {
            watchers.delete(check);
            resolve(m);
          } else if (gone || child.exitCode !== null || child.signalCode !== null) {
            watchers.delete(check);
            reject(new Error(`wingman ${command} exited before printing ${re}:\n${out.slice(-3000)}`));
          }
        };
        watchers.add(check);
        check();
      });
    },
  };
}
